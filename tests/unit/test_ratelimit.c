/*
 * test_ratelimit.c — token buckets: burst then refusal with a Retry-After, refill over time,
 * independent keys, cost, disabled limits, and a bounded table under many keys and threads.
 */
#include "testutil.h"

#include <pthread.h>
#include <stdio.h>

#include "http/ratelimit.h"

static void test_burst_refill(void **state)
{
    (void)state;
    lfd_ratelimit *rl = NULL;
    assert_int_equal(lfd_ratelimit_new(64, &rl, NULL), LF_OK);
    int64_t t = 1700000000000LL;
    for (int i = 0; i < 5; i++) {
        lfd_rate_decision d = lfd_ratelimit_take(rl, "key-a", 2.0, 5, 1, t);
        assert_true(d.allowed);
        assert_int_equal(d.remaining, (uint32_t)(4 - i));
        assert_int_equal(d.limit, 5);
    }
    lfd_rate_decision d = lfd_ratelimit_take(rl, "key-a", 2.0, 5, 1, t);
    assert_false(d.allowed);
    assert_int_equal(d.retry_after, 1);
    assert_int_equal(d.reset_unix, 1700000000 + 2); /* 5 tokens at 2/s = 2.5 s */
    /* Another key is independent. */
    assert_true(lfd_ratelimit_take(rl, "key-b", 2.0, 5, 1, t).allowed);
    /* 500 ms later: one token back. */
    assert_true(lfd_ratelimit_take(rl, "key-a", 2.0, 5, 1, t + 500).allowed);
    assert_false(lfd_ratelimit_take(rl, "key-a", 2.0, 5, 1, t + 500).allowed);
    /* A cost above what is left says how long to wait for all of it. */
    d = lfd_ratelimit_take(rl, "key-a", 2.0, 5, 4, t + 1000);
    assert_false(d.allowed);
    assert_int_equal(d.retry_after, 2);
    /* Rate 0 disables limiting. */
    for (int i = 0; i < 100; i++)
        assert_true(lfd_ratelimit_take(rl, "key-c", 0, 5, 1, t).allowed);
    lfd_ratelimit_free(rl);
}

struct worker_arg {
    lfd_ratelimit *rl;
    int id;
    int allowed;
};

static void *worker(void *p)
{
    struct worker_arg *a = p;
    char key[32];
    for (int i = 0; i < 20000; i++) {
        snprintf(key, sizeof key, "ip-%d", (i * 7 + a->id) % 5000);
        a->allowed += lfd_ratelimit_take(a->rl, key, 1.0, 10, 1, 1700000000000LL).allowed;
    }
    return NULL;
}

static void test_bounded_and_threads(void **state)
{
    (void)state;
    lfd_ratelimit *rl = NULL;
    assert_int_equal(lfd_ratelimit_new(256, &rl, NULL), LF_OK); /* far fewer slots than keys */
    pthread_t t[4];
    struct worker_arg args[4];
    for (int i = 0; i < 4; i++) {
        args[i] = (struct worker_arg){rl, i, 0};
        pthread_create(&t[i], NULL, worker, &args[i]);
    }
    for (int i = 0; i < 4; i++)
        pthread_join(t[i], NULL);
    /* With the clock frozen, a key can be allowed at most its burst each time it is (re)made;
     * all requests must have been decided without crashing or growing memory. */
    int total = 0;
    for (int i = 0; i < 4; i++)
        total += args[i].allowed;
    assert_true(total > 0 && total <= 80000);
    /* A single hot key under the same table still gets exactly its burst. */
    int ok = 0;
    for (int i = 0; i < 50; i++)
        ok += lfd_ratelimit_take(rl, "hot", 1.0, 10, 1, 1700000000000LL).allowed;
    assert_int_equal(ok, 10);
    lfd_ratelimit_free(rl);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_burst_refill),
        cmocka_unit_test(test_bounded_and_threads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * spool_crash.c — driver for the spool's kill -9 test (tests/integration/spool_crash.sh).
 *
 *   spool-crash append DIR [THREADS]   append from THREADS threads (default 8) until killed (or
 *                                      for at most 30 s); after each append returns LF_OK print
 *                                      "ACK <seq> <fnv1a64 of the content>" and flush. A releaser
 *                                      thread releases older records now and then and prints
 *                                      "REL <seq>" after each release returned.
 *   spool-crash verify DIR             open (recovery runs), print "RELEASED <seq>", then
 *                                      "REC <seq> <hash>" for every record in the spool.
 *
 * The script kills `append` with SIGKILL at a random moment, runs `verify`, and checks that every
 * acknowledged record above the release position is present exactly once with its hash.
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "queue/spool.h"

static lf_queue *queue;
static pthread_mutex_t out_mu = PTHREAD_MUTEX_INITIALIZER;

static uint64_t fnv1a(const uint8_t *p, size_t n)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < n; i++) {
        h ^= p[i];
        h *= 0x100000001b3ull;
    }
    return h;
}

static uint64_t xorshift(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

static void say(const char *fmt, uint64_t a, uint64_t b)
{
    pthread_mutex_lock(&out_mu);
    printf(fmt, a, b);
    fflush(stdout);
    pthread_mutex_unlock(&out_mu);
}

static void *appender(void *arg)
{
    uint64_t rng = (uint64_t)(uintptr_t)arg * 0x9E3779B97F4A7C15ull ^ (uint64_t)time(NULL) ^
                   ((uint64_t)getpid() << 32);
    uint8_t rec[8192];
    time_t end = time(NULL) + 30;
    while (time(NULL) < end) {
        size_t len = 16 + (size_t)(xorshift(&rng) % 6000);
        for (size_t i = 0; i < len; i += 8) {
            uint64_t v = xorshift(&rng);
            memcpy(rec + i, &v, len - i < 8 ? len - i : 8);
        }
        uint64_t seq;
        lf_error err = {0};
        lf_err rc = lf_queue_append1(queue, rec, len, &seq, &err);
        if (rc == LF_OK)
            say("ACK %" PRIu64 " %016" PRIx64 "\n", seq, fnv1a(rec, len));
        else if (rc == LF_ERR_FULL)
            usleep(1000);
        else
            fprintf(stderr, "append: %s\n", err.message);
    }
    return NULL;
}

static void *releaser(void *arg)
{
    for (int i = 0; i < 3000; i++) {
        usleep(20000);
        lf_queue_stats st;
        lf_queue_stats_get(queue, &st);
        if (st.durable_seq > st.released_seq + 6000) {
            uint64_t upto = st.durable_seq - 5000;
            lf_error err = {0};
            if (lf_queue_release(queue, upto, &err) == LF_OK)
                say("REL %" PRIu64 " %" PRIu64 "\n", upto, st.durable_seq);
            else
                fprintf(stderr, "release: %s\n", err.message);
        }
    }
    return NULL;
}

static lf_queue *open_spool(const char *dir)
{
    lf_spool_options o = {.segment_bytes = 256 * 1024, .max_bytes = 64 * 1024 * 1024};
    lf_error err = {0};
    lf_queue *q = NULL;
    if (lf_spool_open(dir, &o, &q, &err) != LF_OK) {
        fprintf(stderr, "spool-crash: open %s: %s\n", dir, err.message);
        exit(1);
    }
    return q;
}

static int run_verify(const char *dir)
{
    queue = open_spool(dir);
    lf_queue_stats st;
    lf_queue_stats_get(queue, &st);
    printf("RELEASED %" PRIu64 "\n", st.released_seq);
    lf_buf b = LF_BUF_INIT;
    uint64_t seq, from = 0;
    lf_error err = {0};
    lf_err rc;
    while ((rc = lf_queue_read(queue, from, 0, &b, &seq, &err)) == LF_OK) {
        printf("REC %" PRIu64 " %016" PRIx64 "\n", seq, fnv1a(b.data, b.len));
        from = seq + 1;
    }
    lf_buf_free(&b);
    lf_queue_close(queue);
    if (rc != LF_ERR_NOT_FOUND) {
        fprintf(stderr, "spool-crash: read: %s\n", err.message);
        return 1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc >= 3 && strcmp(argv[1], "verify") == 0)
        return run_verify(argv[2]);
    if (argc < 3 || strcmp(argv[1], "append") != 0) {
        fprintf(stderr, "usage: spool-crash append DIR [THREADS] | verify DIR\n");
        return 2;
    }
    int threads = argc > 3 ? atoi(argv[3]) : 8;
    if (threads < 1 || threads > 256)
        threads = 8;
    queue = open_spool(argv[2]);
    pthread_t th[256], rel;
    for (int i = 0; i < threads; i++)
        pthread_create(&th[i], NULL, appender, (void *)(uintptr_t)(i + 1));
    pthread_create(&rel, NULL, releaser, NULL);
    for (int i = 0; i < threads; i++)
        pthread_join(th[i], NULL);
    lf_queue_close(queue);
    return 0;
}

/*
 * test_sign.c — LF-HMAC-SHA256 request signing (docs/PROTOCOL.md §3.6): the known-answer
 * vectors, every signed field, the ±300 s window edges, replays, and the replay cache's
 * capacity, expiry and thread safety.
 */
#include "testutil.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "logflux/sign.h"

#define API_KEY "eu-lf_0123456789abcdef_Q2hvb3NlIGEgcmFuZG9tIHNlY3JldCBvZiAzMiBieXQ"
#define CRED    "eu-lf_0123456789abcdef"
#define NONCE   "AAECAwQFBgcICQoLDA0ODw"
#define TS      INT64_C(1795834800)

static lf_sign_request base_request(void)
{
    lf_sign_request r;
    memset(&r, 0, sizeof r);
    r.method = "POST";
    r.path = "/v1/ingest";
    r.query = NULL;
    r.host = "ingest.eu.logflux.example";
    r.content_type = "application/vnd.logflux.frames.v1";
    r.idempotency_key = "batch-000000000001";
    r.body = "LFN1 pretend frames";
    r.body_len = strlen("LFN1 pretend frames");
    return r;
}

/* An lf_auth_hmac as the header parser would produce for a request signed now. */
static lf_auth_hmac signed_auth(const lf_sign_request *r, int64_t ts, const char *nonce)
{
    lf_auth_hmac a;
    memset(&a, 0, sizeof a);
    strcpy(a.credential, CRED);
    a.timestamp = ts;
    strcpy(a.nonce, nonce);
    uint8_t key[32];
    assert_int_equal(lf_sign_derive_key(API_KEY, strlen(API_KEY), key, NULL), LF_OK);
    assert_int_equal(lf_sign_compute(key, r, ts, nonce, a.signature, NULL), LF_OK);
    return a;
}

static void signing_key(uint8_t key[32])
{
    assert_int_equal(lf_sign_derive_key(API_KEY, strlen(API_KEY), key, NULL), LF_OK);
}

static lf_replay_cache *new_cache(size_t cap)
{
    lf_replay_cache *c = NULL;
    assert_int_equal(lf_replay_cache_new(cap, &c, NULL), LF_OK);
    return c;
}

static void test_vectors(void **state)
{
    (void)state;
    json_t *v = lf_test_load_vectors("request-signing.json");
    size_t i;
    json_t *c;
    size_t n = 0;
    json_array_foreach(json_object_get(v, "cases"), i, c)
    {
        lf_sign_request r;
        memset(&r, 0, sizeof r);
        r.method = lf_test_str(c, "method");
        r.path = lf_test_str(c, "path");
        r.query = json_string_value(json_object_get(c, "query"));
        r.host = lf_test_str(c, "host");
        r.content_type = json_string_value(json_object_get(c, "content_type"));
        r.idempotency_key = json_string_value(json_object_get(c, "idempotency_key"));
        r.body = lf_test_str(c, "body");
        r.body_len = strlen(r.body);
        int64_t ts = (int64_t)json_integer_value(json_object_get(c, "timestamp"));
        const char *nonce = lf_test_str(c, "nonce"), *api_key = lf_test_str(c, "api_key");

        lf_buf sts = LF_BUF_INIT, auth = LF_BUF_INIT;
        assert_int_equal(lf_sign_string_to_sign(&r, ts, nonce, &sts, NULL), LF_OK);
        assert_int_equal(sts.len, strlen(lf_test_str(c, "string_to_sign")));
        assert_memory_equal(sts.data, lf_test_str(c, "string_to_sign"), sts.len);
        uint8_t key[32], sig[32];
        lf_buf want_key = lf_test_hex(c, "signing_key"), want_sig = lf_test_hex(c, "signature"),
               body_hash = lf_test_hex(c, "body_sha256");
        assert_int_equal(lf_sign_derive_key(api_key, strlen(api_key), key, NULL), LF_OK);
        assert_memory_equal(key, want_key.data, 32);
        assert_int_equal(lf_sign_compute(key, &r, ts, nonce, sig, NULL), LF_OK);
        assert_memory_equal(sig, want_sig.data, 32);
        /* A precomputed body hash signs the same. */
        lf_sign_request pre = r;
        pre.body = NULL;
        pre.body_len = 0;
        pre.body_sha256 = body_hash.data;
        assert_int_equal(lf_sign_compute(key, &pre, ts, nonce, sig, NULL), LF_OK);
        assert_memory_equal(sig, want_sig.data, 32);
        assert_int_equal(
            lf_sign_authorization(api_key, strlen(api_key), &r, ts, nonce, &auth, NULL), LF_OK);
        assert_string_equal((char *)auth.data, lf_test_str(c, "authorization"));

        /* The server side accepts it once, at the edge of the window, then sees a replay. */
        lf_auth_hmac a;
        memset(&a, 0, sizeof a);
        const char *cred = strstr((char *)auth.data, "Credential=") + 11;
        size_t cl = (size_t)(strchr(cred, ',') - cred);
        memcpy(a.credential, cred, cl);
        a.timestamp = ts;
        strcpy(a.nonce, nonce);
        memcpy(a.signature, want_sig.data, 32);
        lf_replay_cache *cache = new_cache(8);
        assert_int_equal(lf_sign_verify(&a, &r, key, ts + 300, cache, NULL), LF_OK);
        assert_int_equal(lf_sign_verify(&a, &r, key, ts, cache, NULL), LF_ERR_REPLAY);
        lf_replay_cache_free(cache);

        lf_buf_free(&sts);
        lf_buf_free(&auth);
        lf_buf_free(&want_key);
        lf_buf_free(&want_sig);
        lf_buf_free(&body_hash);
        n++;
    }
    assert_true(n >= 5);
    json_decref(v);
}

/* Each variant changes one signed input; the original signature must not verify. */
static void test_each_field_breaks_signature(void **state)
{
    (void)state;
    uint8_t key[32];
    signing_key(key);
    lf_sign_request r = base_request();
    lf_auth_hmac a = signed_auth(&r, TS, NONCE);
    lf_replay_cache *cache = new_cache(64);

    for (int field = 0; field < 10; field++) {
        lf_sign_request m = r;
        lf_auth_hmac am = a;
        switch (field) {
        case 0:
            m.method = "PUT";
            break;
        case 1:
            m.path = "/v1/ingestx";
            break;
        case 2:
            m.query = "a=1";
            break;
        case 3:
            m.host = "ingest.us.logflux.example";
            break;
        case 4:
            m.content_type = "application/json";
            break;
        case 5:
            m.idempotency_key = NULL;
            break;
        case 6:
            m.body = "LFN1 pretend framez";
            break;
        case 7:
            am.timestamp = TS + 1;
            break;
        case 8:
            strcpy(am.nonce, "AAECAwQFBgcICQoLDA0OEA");
            break;
        case 9:
            am.signature[31] ^= 1;
            break;
        }
        lf_error err = {0};
        lf_err rc = lf_sign_verify(&am, &m, key, TS, cache, &err);
        if (rc != LF_ERR_AUTH)
            fail_msg("field %d: expected LF_ERR_AUTH, got %d (%s)", field, rc, err.message);
    }
    /* Wrong signing key. */
    uint8_t other[32];
    memcpy(other, key, 32);
    other[0] ^= 1;
    assert_int_equal(lf_sign_verify(&a, &r, other, TS, cache, NULL), LF_ERR_AUTH);
    /* None of the failures used up the nonce: the genuine request still verifies. */
    assert_int_equal(lf_replay_cache_size(cache, TS), 0);
    assert_int_equal(lf_sign_verify(&a, &r, key, TS, cache, NULL), LF_OK);

    /* What the spec normalises does not break it: method case, host case, OWS around
     * header values; an empty query equals no query. */
    lf_replay_cache *c2 = new_cache(8);
    lf_sign_request same = r;
    same.method = "post";
    same.host = "INGEST.EU.LogFlux.Example";
    same.content_type = " application/vnd.logflux.frames.v1\t";
    same.query = "";
    assert_int_equal(lf_sign_verify(&a, &same, key, TS, c2, NULL), LF_OK);
    lf_replay_cache_free(c2);
    lf_replay_cache_free(cache);
}

static void test_window_edges(void **state)
{
    (void)state;
    uint8_t key[32];
    signing_key(key);
    lf_sign_request r = base_request();
    lf_auth_hmac a = signed_auth(&r, TS, NONCE);
    const int64_t offsets[] = {-301, -300, 0, 300, 301, INT64_MIN / 2};
    const lf_err expect[] = {LF_ERR_EXPIRED, LF_OK, LF_OK, LF_OK, LF_ERR_EXPIRED, LF_ERR_EXPIRED};
    for (size_t i = 0; i < sizeof offsets / sizeof *offsets; i++) {
        lf_replay_cache *c = new_cache(4);
        lf_error err = {0};
        lf_err rc = lf_sign_verify(&a, &r, key, TS + offsets[i], c, &err);
        if (rc != expect[i])
            fail_msg("now = ts%+lld: expected %d, got %d (%s)", (long long)offsets[i], expect[i],
                     rc, err.message);
        lf_replay_cache_free(c);
    }
    /* Extreme values do not overflow. */
    lf_replay_cache *c = new_cache(4);
    a.timestamp = INT64_MAX;
    assert_int_equal(lf_sign_verify(&a, &r, key, INT64_MIN, c, NULL), LF_ERR_EXPIRED);
    lf_replay_cache_free(c);
}

static void test_replay(void **state)
{
    (void)state;
    uint8_t key[32];
    signing_key(key);
    lf_sign_request r = base_request();
    lf_auth_hmac a = signed_auth(&r, TS, NONCE);
    lf_replay_cache *c = new_cache(16);
    assert_int_equal(lf_sign_verify(&a, &r, key, TS, c, NULL), LF_OK);
    lf_error err = {0};
    assert_int_equal(lf_sign_verify(&a, &r, key, TS + 299, c, &err), LF_ERR_REPLAY);
    assert_int_equal(err.code, LF_ERR_REPLAY);
    /* Another nonce is a new request. */
    lf_auth_hmac b = signed_auth(&r, TS, "ZmVkY2JhOTg3NjU0MzIxMA");
    assert_int_equal(lf_sign_verify(&b, &r, key, TS, c, NULL), LF_OK);
    assert_int_equal(lf_replay_cache_size(c, TS), 2);
    assert_int_equal(lf_sign_verify(&a, &r, key, TS, NULL, NULL), LF_ERR_INVALID);
    lf_replay_cache_free(c);
}

static void test_cache_capacity_and_expiry(void **state)
{
    (void)state;
    lf_replay_cache *c = new_cache(4);
    char nonce[32];
    for (int i = 0; i < 4; i++) {
        snprintf(nonce, sizeof nonce, "nonce-%d", i);
        assert_int_equal(lf_replay_cache_check_and_insert(c, CRED, nonce, 1000, NULL), LF_OK);
    }
    /* Full of live nonces: refuse rather than forget one; repeats are still replays. */
    lf_error err = {0};
    assert_int_equal(lf_replay_cache_check_and_insert(c, CRED, "nonce-new", 1000, &err),
                     LF_ERR_TOO_LARGE);
    assert_int_equal(lf_replay_cache_check_and_insert(c, CRED, "nonce-2", 1599, NULL),
                     LF_ERR_REPLAY);
    assert_int_equal(lf_replay_cache_check_and_insert(c, CRED, "nonce-new", 1599, NULL),
                     LF_ERR_TOO_LARGE);
    /* Same nonce under another credential is another key. (The cache is full, so refused.) */
    assert_int_equal(
        lf_replay_cache_check_and_insert(c, "us-lf_0123456789abcdef", "nonce-1", 1599, NULL),
        LF_ERR_TOO_LARGE);
    assert_int_equal(lf_replay_cache_size(c, 1599), 4);
    /* 600 s later they have expired: room again, and old nonces are forgotten. */
    assert_int_equal(lf_replay_cache_size(c, 1600), 0);
    assert_int_equal(lf_replay_cache_check_and_insert(c, CRED, "nonce-new", 1600, NULL), LF_OK);
    assert_int_equal(lf_replay_cache_check_and_insert(c, CRED, "nonce-1", 1600, NULL), LF_OK);
    assert_int_equal(
        lf_replay_cache_check_and_insert(c, "us-lf_0123456789abcdef", "nonce-1", 1600, NULL),
        LF_OK);
    assert_int_equal(lf_replay_cache_size(c, 1600), 3);
    lf_replay_cache_free(c);

    /* A long steady stream: one request a second, 600 live at a time, fits 600 exactly and
     * never grows; at 599 capacity the 600th live one is refused. */
    c = new_cache(600);
    for (int i = 0; i < 20000; i++) {
        snprintf(nonce, sizeof nonce, "n%d", i);
        lf_err rc = lf_replay_cache_check_and_insert(c, CRED, nonce, 10000 + i, &err);
        if (rc != LF_OK)
            fail_msg("insert %d: %d (%s)", i, rc, err.message);
    }
    assert_int_equal(lf_replay_cache_size(c, 10000 + 19999), 600);
    lf_replay_cache_free(c);
    c = new_cache(599);
    lf_err last = LF_OK;
    for (int i = 0; i < 2000 && last == LF_OK; i++) {
        snprintf(nonce, sizeof nonce, "n%d", i);
        last = lf_replay_cache_check_and_insert(c, CRED, nonce, 10000 + i, NULL);
    }
    assert_int_equal(last, LF_ERR_TOO_LARGE);
    lf_replay_cache_free(c);

    assert_int_equal(lf_replay_cache_new(0, &c, NULL), LF_ERR_INVALID);
    assert_int_equal(lf_replay_cache_new(LF_REPLAY_CAPACITY_MAX + 1, &c, NULL), LF_ERR_INVALID);
}

struct thread_arg {
    lf_replay_cache *cache;
    int id;
    int ok, replay;
};

static void *insert_many(void *p)
{
    struct thread_arg *a = p;
    char nonce[32];
    for (int i = 0; i < 5000; i++) {
        /* Half the nonces are shared between all threads: exactly one thread wins each. */
        if (i % 2)
            snprintf(nonce, sizeof nonce, "shared-%d", i);
        else
            snprintf(nonce, sizeof nonce, "t%d-%d", a->id, i);
        lf_err rc = lf_replay_cache_check_and_insert(a->cache, CRED, nonce, 5000, NULL);
        if (rc == LF_OK)
            a->ok++;
        else if (rc == LF_ERR_REPLAY)
            a->replay++;
    }
    return NULL;
}

static void test_cache_threads(void **state)
{
    (void)state;
    lf_replay_cache *c = new_cache(100000);
    pthread_t th[4];
    struct thread_arg args[4];
    for (int i = 0; i < 4; i++) {
        args[i] = (struct thread_arg){c, i, 0, 0};
        assert_int_equal(pthread_create(&th[i], NULL, insert_many, &args[i]), 0);
    }
    int ok = 0, replay = 0;
    for (int i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        ok += args[i].ok;
        replay += args[i].replay;
    }
    assert_int_equal(ok, 4 * 2500 + 2500);
    assert_int_equal(replay, 3 * 2500);
    assert_int_equal(lf_replay_cache_size(c, 5000), 4 * 2500 + 2500);
    lf_replay_cache_free(c);
}

static void test_client_header_and_bad_input(void **state)
{
    (void)state;
    lf_sign_request r = base_request();
    lf_buf auth = LF_BUF_INIT;
    /* Random nonce: the header has the documented shape and verifies. */
    assert_int_equal(lf_sign_authorization(API_KEY, strlen(API_KEY), &r, TS, NULL, &auth, NULL),
                     LF_OK);
    const char *h = (const char *)auth.data;
    assert_int_equal(
        strncmp(h, "LF-HMAC-SHA256 Credential=" CRED ", Timestamp=1795834800, Nonce=",
                strlen("LF-HMAC-SHA256 Credential=" CRED ", Timestamp=1795834800, Nonce=")),
        0);
    const char *n = strstr(h, "Nonce=") + 6;
    const char *s = strstr(h, ", Signature=") + 12;
    assert_int_equal(s - n, 22 + 12);
    assert_int_equal(strlen(s), 64);
    lf_auth_hmac a;
    memset(&a, 0, sizeof a);
    strcpy(a.credential, CRED);
    a.timestamp = TS;
    memcpy(a.nonce, n, 22);
    assert_int_equal(lf_hex_decode(s, 64, a.signature, 32, NULL), LF_OK);
    uint8_t key[32];
    signing_key(key);
    lf_replay_cache *c = new_cache(4);
    assert_int_equal(lf_sign_verify(&a, &r, key, TS, c, NULL), LF_OK);
    lf_replay_cache_free(c);

    /* Inputs that cannot be signed. */
    lf_buf sts = LF_BUF_INIT;
    lf_error err = {0};
    const char *bad_nonces[] = {"short", "AAECAwQFBgcICQoLDA0ODw=", "AAECAwQFBgcICQoLDA0OD!",
                                "AAECAwQFBgcICQoLDA0ODx" /* non-canonical final bits */};
    for (size_t i = 0; i < sizeof bad_nonces / sizeof *bad_nonces; i++)
        assert_int_equal(lf_sign_string_to_sign(&r, TS, bad_nonces[i], &sts, NULL), LF_ERR_INVALID);
    assert_int_equal(lf_sign_string_to_sign(&r, -1, NONCE, &sts, NULL), LF_ERR_INVALID);
    for (int field = 0; field < 9; field++) {
        lf_sign_request m = r;
        switch (field) {
        case 0:
            m.path = "v1/ingest";
            break;
        case 1:
            m.path = "/v1/ingest?x=1";
            break;
        case 2:
            m.content_type = "text/plain\r\nX-Evil: 1";
            break;
        case 3:
            m.idempotency_key = "abc\ndef";
            break;
        case 4:
            m.host = "";
            break;
        case 5:
            m.method = "PO ST";
            break;
        case 6:
            m.query = "a=1\n";
            break;
        case 7:
            m.host = "ho\x7fst";
            break;
        case 8:
            m.body = NULL;
            break;
        }
        lf_err rc = lf_sign_string_to_sign(&m, TS, NONCE, &sts, &err);
        if (rc != LF_ERR_INVALID)
            fail_msg("field case %d: expected LF_ERR_INVALID, got %d", field, rc);
        assert_int_equal(sts.len, 0);
    }
    char huge[LF_SIGN_FIELD_MAX + 2];
    memset(huge, 'a', sizeof huge - 1);
    huge[0] = '/';
    huge[sizeof huge - 1] = 0;
    lf_sign_request m = r;
    m.path = huge;
    assert_int_equal(lf_sign_string_to_sign(&m, TS, NONCE, &sts, NULL), LF_ERR_TOO_LARGE);
    assert_int_equal(lf_sign_authorization("not-a-key", 9, &r, TS, NONCE, &auth, NULL),
                     LF_ERR_INVALID);
    assert_int_equal(lf_sign_authorization_with_key("eu-lf_XYZ", key, &r, TS, NONCE, &auth, NULL),
                     LF_ERR_INVALID);
    /* The error message never repeats the key. */
    assert_int_equal(
        lf_sign_authorization(API_KEY, strlen(API_KEY) - 1, &r, TS, NONCE, &auth, &err),
        LF_ERR_INVALID);
    assert_null(strstr(err.message, "Q2hvb3Nl"));
    lf_buf_free(&sts);
    lf_buf_free(&auth);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vectors),
        cmocka_unit_test(test_each_field_breaks_signature),
        cmocka_unit_test(test_window_edges),
        cmocka_unit_test(test_replay),
        cmocka_unit_test(test_cache_capacity_and_expiry),
        cmocka_unit_test(test_cache_threads),
        cmocka_unit_test(test_client_header_and_bad_input),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

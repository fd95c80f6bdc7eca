/*
 * test_server_api.c — logfluxd's ingest, admin and discovery endpoints through the real HTTP
 * layer over TLS, with a real client (libcurl), real SQLite metadata and the real spool:
 *
 *   - init makes a tenant and an admin token that works, and nothing else does;
 *   - admin: apps, API keys (secret shown once, never listed), tokens, customer keys, audit;
 *   - v3: handshake answers the registered customer key, complete stores a wrapped key,
 *     multipart ingest in both framings with per-part results; what reaches the spool is
 *     exactly the accepted ciphertext;
 *   - native: key frame + zstd block + close, HMAC-signed, idempotent retry stored once,
 *     replayed signature refused, frames naming another tenant refused;
 *   - tenant isolation, rate limiting (429 + Retry-After + X-RateLimit-*), a full spool
 *     (503 + Retry-After while reads go on), and error answers in the JSON shape.
 */
#define _GNU_SOURCE /* memmem */
#include "testutil.h"

#include <curl/curl.h>
#include <limits.h>
#include <strings.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "app.h"
#include "ingest/batch.h"
#include "logflux/crypto.h"
#include "logflux/multipart.h"
#include "logflux/native.h"
#include "logflux/timefmt.h"
#include "logflux/v3.h"
#include "queue/spool.h"
#include "server.h"

static struct {
    char dir[64];
    char cert[PATH_MAX];
    char admin_token[128];
    lfd_config cfg;
    lfd_app app;
    lfd_http *http;
    uint16_t port;
    lf_privkey *customer;
    char customer_pem[8192];
} t;

typedef struct reply {
    long status;
    lf_buf body;
    json_t *json;
    char retry_after[16];
    char rl_limit[16], rl_remaining[16], rl_reset[24];
    bool replayed;
} reply;

static size_t on_body(char *p, size_t size, size_t n, void *ud)
{
    lf_buf_append(&((reply *)ud)->body, p, size * n);
    return size * n;
}

static void header_value(const char *line, const char *name, char *out, size_t cap)
{
    size_t n = strlen(name);
    if (strncasecmp(line, name, n) == 0 && line[n] == ':')
        sscanf(line + n + 1, " %15s", out), (void)cap;
}

static size_t on_header(char *p, size_t size, size_t n, void *ud)
{
    reply *r = ud;
    char line[256];
    snprintf(line, sizeof line, "%.*s", (int)(size * n), p);
    header_value(line, "Retry-After", r->retry_after, sizeof r->retry_after);
    header_value(line, "X-RateLimit-Limit", r->rl_limit, sizeof r->rl_limit);
    header_value(line, "X-RateLimit-Remaining", r->rl_remaining, sizeof r->rl_remaining);
    header_value(line, "X-RateLimit-Reset", r->rl_reset, sizeof r->rl_reset);
    if (strncasecmp(line, "X-LF-Idempotent-Replay:", 23) == 0)
        r->replayed = true;
    return size * n;
}

static void reply_free(reply *r)
{
    lf_buf_free(&r->body);
    json_decref(r->json);
    memset(r, 0, sizeof *r);
}

/* One HTTPS request to the test server. headers: NULL-terminated "Name: value" strings. */
static reply call(const char *method, const char *path, const char *const *headers,
                  const void *body, size_t body_len)
{
    reply r;
    memset(&r, 0, sizeof r);
    char url[512];
    snprintf(url, sizeof url, "https://127.0.0.1:%u%s", t.port, path);
    CURL *c = curl_easy_init();
    struct curl_slist *h = NULL;
    for (size_t i = 0; headers && headers[i]; i++)
        h = curl_slist_append(h, headers[i]);
    h = curl_slist_append(h, "Expect:");
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CAINFO, t.cert);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &r);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, &r);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 30L);
    if (body != NULL) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)body_len);
    }
    CURLcode rc = curl_easy_perform(c);
    if (rc != CURLE_OK)
        fail_msg("%s %s: %s", method, path, curl_easy_strerror(rc));
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r.status);
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    r.json = json_loadb((const char *)r.body.data, r.body.len, 0, NULL);
    if (r.json == NULL && r.body.len > 0)
        fail_msg("%s %s: answer is not JSON: %.*s", method, path, (int)r.body.len,
                 (const char *)r.body.data);
    return r;
}

static reply call_json(const char *method, const char *path, const char *token, json_t *body)
{
    char auth[256];
    snprintf(auth, sizeof auth, "Authorization: Bearer %s", token);
    const char *headers[] = {auth, "Content-Type: application/json", NULL};
    char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
    json_decref(body);
    reply r = call(method, path, token ? headers : headers + 1, text, text ? strlen(text) : 0);
    free(text);
    return r;
}

static const char *jstr(json_t *j, const char *path)
{
    /* "data.api_key" style lookups */
    char copy[128];
    snprintf(copy, sizeof copy, "%s", path);
    json_t *cur = j;
    for (char *save = NULL, *k = strtok_r(copy, ".", &save); k && cur;
         k = strtok_r(NULL, ".", &save))
        cur = json_object_get(cur, k);
    return json_string_value(cur);
}

static void expect_error(reply *r, long status, const char *code)
{
    if (r->status != status)
        fail_msg("expected %ld, got %ld: %.*s", status, r->status, (int)r->body.len,
                 (const char *)r->body.data);
    assert_string_equal(jstr(r->json, "status"), "error");
    assert_string_equal(jstr(r->json, "error.code"), code);
    assert_non_null(jstr(r->json, "request_id"));
}

static int64_t spool_records(void)
{
    lf_queue_stats st;
    lf_queue_stats_get(t.app.queue, &st);
    return (int64_t)st.next_seq - 1;
}

/* Read spool record `seq` and decode it. */
static lfd_batch read_batch(uint64_t seq, lf_buf *storage)
{
    uint64_t got = 0;
    assert_int_equal(lf_queue_read(t.app.queue, seq, 0, storage, &got, NULL), LF_OK);
    assert_int_equal(got, seq);
    lfd_batch b;
    assert_int_equal(lfd_batch_decode(storage->data, storage->len, &b, NULL), LF_OK);
    return b;
}

/* ---------------- fixture ---------------- */

static void open_app(uint64_t spool_max)
{
    char path[PATH_MAX];
    memset(&t.app, 0, sizeof t.app);
    t.app.cfg = &t.cfg;
    t.app.started_ns = lf_time_now_ns();
    snprintf(path, sizeof path, "%s/meta.db", t.dir);
    assert_int_equal(lf_meta_sqlite_open(path, NULL, &t.app.meta, NULL), LF_OK);
    snprintf(path, sizeof path, "%s/spool", t.dir);
    lf_spool_options so = {.max_bytes = spool_max, .segment_bytes = spool_max / 4};
    lf_error err = {0};
    if (lf_spool_open(path, &so, &t.app.queue, &err) != LF_OK)
        fail_msg("spool: %s", err.message);
    assert_int_equal(lf_replay_cache_new(4096, &t.app.replay, NULL), LF_OK);
    assert_int_equal(lfd_ratelimit_new(1024, &t.app.rl_key, NULL), LF_OK);
    assert_int_equal(lfd_ratelimit_new(1024, &t.app.rl_ip, NULL), LF_OK);
    snprintf(t.app.public_url, sizeof t.app.public_url, "https://127.0.0.1:%u", t.port);
    lf_buf cert = lf_test_read_file(t.cert);
    snprintf(path, sizeof path, "%s/tls/key.pem", t.dir);
    lf_buf key = lf_test_read_file(path);
    lf_buf_terminate(&cert);
    lf_buf_terminate(&key);
    lfd_http_options ho = {.listen = "127.0.0.1:0",
                           .cert_pem = (char *)cert.data,
                           .key_pem = (char *)key.data,
                           .threads = 4,
                           .connection_timeout_s = 10,
                           .routes = lfd_routes,
                           .n_routes = lfd_routes_len,
                           .ctx = &t.app,
                           .max_body_default = (size_t)t.cfg.max_request_bytes,
                           .max_body_native = (size_t)t.cfg.max_native_request_bytes,
                           .quiet = true};
    if (lfd_http_start(&ho, &t.http, &err) != LF_OK)
        fail_msg("http: %s", err.message);
    t.port = lfd_http_port(t.http);
    snprintf(t.app.public_url, sizeof t.app.public_url, "https://127.0.0.1:%u", t.port);
    lf_buf_free(&cert);
    lf_buf_free_secret(&key);
}

static void close_app(void)
{
    if (t.http == NULL)
        return;
    lfd_http_drain_and_stop(t.http, 2000);
    t.http = NULL;
    lf_queue_close(t.app.queue);
    lf_meta_close(t.app.meta);
    lf_replay_cache_free(t.app.replay);
    lfd_ratelimit_free(t.app.rl_key);
    lfd_ratelimit_free(t.app.rl_ip);
}

static int setup(void **state)
{
    (void)state;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    strcpy(t.dir, "/tmp/lf-api-XXXXXX");
    assert_non_null(mkdtemp(t.dir));
    char *out = NULL;
    size_t out_len = 0;
    FILE *f = open_memstream(&out, &out_len);
    lfd_init_options o = {.data_dir = t.dir, .tenant = "acme", .region = "eu"};
    lf_error err = {0};
    if (lfd_init(&o, f, &err) != LF_OK)
        fail_msg("init: %s", err.message);
    fclose(f);
    json_t *j = json_loads(out, 0, NULL);
    assert_non_null(j);
    snprintf(t.admin_token, sizeof t.admin_token, "%s", jstr(j, "admin_token"));
    snprintf(t.cert, sizeof t.cert, "%s", jstr(j, "tls_cert"));
    assert_non_null(strstr(t.admin_token, "eu-lf_usr_"));
    json_decref(j);
    free(out);
    /* A second init of the same directory is refused. */
    f = fopen("/dev/null", "w");
    assert_int_equal(lfd_init(&o, f, &err), LF_ERR_CONFLICT);
    fclose(f);

    memset(&t.cfg, 0, sizeof t.cfg);
    assert_int_equal(lfd_config_init(&t.cfg, NULL), LF_OK);
    assert_int_equal(lfd_config_set(&t.cfg, "data_dir", t.dir, NULL), LF_OK);
    open_app(64 << 20);

    lf_pubkey *pub = NULL;
    lf_buf pem = LF_BUF_INIT;
    assert_int_equal(lf_privkey_generate(4096, &t.customer, NULL), LF_OK);
    assert_int_equal(lf_privkey_public(t.customer, &pub, NULL), LF_OK);
    assert_int_equal(lf_pubkey_to_pem(pub, &pem, NULL), LF_OK);
    snprintf(t.customer_pem, sizeof t.customer_pem, "%s", (char *)pem.data);
    lf_buf_free(&pem);
    lf_pubkey_free(pub);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    close_app();
    lf_privkey_free(t.customer);
    lfd_config_free(&t.cfg);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", t.dir);
    assert_int_equal(system(cmd), 0);
    curl_global_cleanup();
    return 0;
}

/* ---------------- shared steps ---------------- */

static char api_key[128], read_token[128];
static char a_key_id[64];         /* tenant A's v3 session key id, from test_v3_flow */
static uint8_t a_session_key[32]; /* and its key */

static void admin_setup(void)
{
    if (api_key[0])
        return;
    reply r =
        call_json("POST", "/v1/admin/apps", t.admin_token, json_pack("{s:s}", "name", "checkout"));
    assert_int_equal(r.status, 201);
    reply_free(&r);
    r = call_json("POST", "/v1/admin/api-keys", t.admin_token,
                  json_pack("{s:s, s:s}", "app", "checkout", "label", "web"));
    assert_int_equal(r.status, 201);
    snprintf(api_key, sizeof api_key, "%s", jstr(r.json, "data.api_key"));
    assert_non_null(strstr(api_key, "eu-lf_"));
    reply_free(&r);
    r = call_json("POST", "/v1/admin/tokens", t.admin_token,
                  json_pack("{s:s, s:s}", "scope", "read", "expires_in", "30d"));
    assert_int_equal(r.status, 201);
    snprintf(read_token, sizeof read_token, "%s", jstr(r.json, "data.token"));
    reply_free(&r);
    r = call_json("POST", "/v1/admin/public-keys", t.admin_token,
                  json_pack("{s:s}", "public_key", t.customer_pem));
    assert_int_equal(r.status, 201);
    assert_non_null(strstr(jstr(r.json, "data.fingerprint"), "SHA256:"));
    reply_free(&r);
}

/* ---------------- tests ---------------- */

static void test_service_and_discovery(void **state)
{
    (void)state;
    reply r = call("GET", "/health", NULL, NULL, 0);
    assert_int_equal(r.status, 200);
    assert_string_equal(jstr(r.json, "status"), "ok");
    reply_free(&r);
    r = call("GET", "/info", NULL, NULL, 0);
    assert_string_equal(jstr(r.json, "name"), "logfluxd");
    reply_free(&r);
    r = call("GET", "/discovery", NULL, NULL, 0);
    assert_string_equal(jstr(r.json, "region"), "eu");
    assert_non_null(jstr(r.json, "endpoints.ingestor_url"));
    reply_free(&r);
    r = call_json("GET", "/v1/discovery", t.admin_token, NULL);
    assert_int_equal(r.status, 200);
    assert_string_equal(jstr(r.json, "tenant"), "acme");
    assert_string_equal(jstr(r.json, "data_residency"), "eu");
    assert_non_null(json_object_get(r.json, "rate_limits"));
    reply_free(&r);
    r = call("GET", "/api/discovery", NULL, NULL, 0);
    expect_error(&r, 401, "unauthorized");
    reply_free(&r);
    r = call("GET", "/nope", NULL, NULL, 0);
    expect_error(&r, 404, "not_found");
    reply_free(&r);
}

static void test_admin(void **state)
{
    (void)state;
    admin_setup();
    /* Listing never shows a secret. */
    reply r = call_json("GET", "/v1/admin/api-keys", t.admin_token, NULL);
    assert_int_equal(r.status, 200);
    assert_int_equal(json_array_size(json_object_get(json_object_get(r.json, "data"), "api_keys")),
                     1);
    /* The whole secret: after "<region>-lf_<16 hex id>_" (it may itself contain '_'). */
    const char *secret = strstr(api_key, "lf_") + 3 + 16 + 1;
    assert_int_equal(strlen(secret), 43);
    assert_null(memmem(r.body.data, r.body.len, secret, strlen(secret)));
    reply_free(&r);
    /* A read token cannot administer; a bogus token cannot do anything. */
    r = call_json("POST", "/v1/admin/apps", read_token, json_pack("{s:s}", "name", "x"));
    expect_error(&r, 403, "forbidden");
    reply_free(&r);
    r = call_json("GET", "/v1/admin/apps",
                  "eu-lf_usr_0123456789abcdef_"
                  "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
                  NULL);
    expect_error(&r, 401, "unauthorized");
    reply_free(&r);
    /* An API key is not a token. */
    r = call_json("GET", "/v1/admin/apps", api_key, NULL);
    expect_error(&r, 401, "unauthorized");
    reply_free(&r);
    /* Bad input is 4xx JSON. */
    r = call_json("POST", "/v1/admin/public-keys", t.admin_token,
                  json_pack("{s:s}", "public_key", "-----BEGIN PUBLIC KEY-----\nAAAA\n"));
    expect_error(&r, 400, "bad_request");
    reply_free(&r);
    r = call_json("POST", "/v1/admin/tokens", t.admin_token, json_pack("{s:s}", "scope", "root"));
    expect_error(&r, 400, "bad_request");
    reply_free(&r);
    r = call_json("POST", "/v1/admin/api-keys", t.admin_token, json_pack("{s:s}", "app", "nope"));
    expect_error(&r, 404, "unknown_app");
    reply_free(&r);
    /* Revoke: a revoked key stops working. */
    r = call_json("POST", "/v1/admin/api-keys", t.admin_token, json_pack("{}"));
    char doomed[128], doomed_id[64];
    snprintf(doomed, sizeof doomed, "%s", jstr(r.json, "data.api_key"));
    snprintf(doomed_id, sizeof doomed_id, "%s", jstr(r.json, "data.id"));
    reply_free(&r);
    r = call_json("POST", "/v1/handshake/init", doomed, json_pack("{}"));
    assert_int_equal(r.status, 200);
    reply_free(&r);
    char path[128];
    snprintf(path, sizeof path, "/v1/admin/api-keys/%s", doomed_id);
    r = call_json("DELETE", path, t.admin_token, NULL);
    assert_int_equal(r.status, 200);
    reply_free(&r);
    r = call_json("POST", "/v1/handshake/init", doomed, json_pack("{}"));
    expect_error(&r, 401, "unauthorized");
    reply_free(&r);
    /* Lists page with opaque cursors. */
    for (int i = 0; i < 3; i++) {
        char name[16];
        snprintf(name, sizeof name, "page-%d", i);
        r = call_json("POST", "/v1/admin/apps", t.admin_token, json_pack("{s:s}", "name", name));
        assert_int_equal(r.status, 201);
        reply_free(&r);
    }
    size_t seen = 0;
    char path2[512] = "/v1/admin/apps?limit=2";
    for (int page = 0; page < 10; page++) {
        r = call_json("GET", path2, t.admin_token, NULL);
        assert_int_equal(r.status, 200);
        json_t *data = json_object_get(r.json, "data");
        size_t n = json_array_size(json_object_get(data, "apps"));
        assert_true(n <= 2);
        seen += n;
        const char *next = json_string_value(json_object_get(data, "next_cursor"));
        if (next == NULL) {
            reply_free(&r);
            break;
        }
        snprintf(path2, sizeof path2, "/v1/admin/apps?limit=2&cursor=%s", next);
        reply_free(&r);
    }
    assert_true(seen >= 4); /* checkout (maybe) + the three pages */
    r = call_json("GET", "/v1/admin/apps?cursor=garbage", t.admin_token, NULL);
    expect_error(&r, 400, "bad_request");
    reply_free(&r);
    r = call_json("GET", "/v1/admin/apps?limit=0", t.admin_token, NULL);
    expect_error(&r, 400, "bad_request");
    reply_free(&r);

    /* The audit log saw it all. */
    r = call_json("GET", "/v1/admin/audit", t.admin_token, NULL);
    assert_int_equal(r.status, 200);
    assert_non_null(memmem(r.body.data, r.body.len, "apikey.create", 13));
    assert_non_null(memmem(r.body.data, r.body.len, "apikey.revoke", 13));
    assert_non_null(memmem(r.body.data, r.body.len, "publickey.register", 18));
    assert_null(memmem(r.body.data, r.body.len, secret, strlen(secret)));
    reply_free(&r);
}

/* Build a v3 request of 3 parts: good, unknown key, too old. */
static lf_mp_builder v3_body(const uint8_t *key, const char *key_id, lf_mp_form form,
                             lf_buf *sealed0)
{
    lf_v3_sealer *s = NULL;
    assert_int_equal(lf_v3_sealer_new(key, key_id, -1, &s, NULL), LF_OK);
    lf_mp_builder mp;
    assert_int_equal(lf_mp_builder_init(&mp, form, NULL, NULL, NULL), LF_OK);
    int64_t now = lf_time_now_ns();
    const char *json = "{\"v\":\"2.0\",\"type\":\"log\",\"level\":7,\"message\":\"card 4242 "
                       "paid\"}";
    int64_t stamps[3] = {now, now, now - 400LL * 86400 * 1000000000LL};
    for (int i = 0; i < 3; i++) {
        lf_buf part = LF_BUF_INIT;
        lf_v3_headers h;
        assert_int_equal(
            lf_v3_seal_json(s, 1, stamps[i], json, strlen(json), NULL, &part, &h, NULL), LF_OK);
        if (i == 1)
            snprintf(h.key_id, sizeof h.key_id, "00000000-0000-4000-8000-000000000000");
        if (i == 0)
            lf_buf_append(sealed0, part.data, part.len);
        const char *tokens[] = {"payment", "card"};
        assert_int_equal(lf_mp_builder_add(&mp, &h, tokens, 2, part.data, part.len, NULL), LF_OK);
        lf_buf_free(&part);
    }
    assert_int_equal(lf_mp_builder_finish(&mp, NULL), LF_OK);
    lf_v3_sealer_free(s);
    return mp;
}

static void test_v3_flow(void **state)
{
    (void)state;
    admin_setup();
    reply r =
        call_json("POST", "/v1/handshake/init", api_key, json_pack("{s:s}", "api_key", api_key));
    assert_int_equal(r.status, 200);
    assert_string_equal(jstr(r.json, "public_key"), t.customer_pem);
    assert_true(json_is_true(json_object_get(r.json, "supports_multipart")));
    reply_free(&r);
    /* The body's api_key must be the bearer's. */
    r = call_json("POST", "/v1/handshake/init", api_key, json_pack("{s:s}", "api_key", "x"));
    expect_error(&r, 400, "bad_request");
    reply_free(&r);

    uint8_t session_key[32];
    assert_int_equal(lf_random(session_key, 32, NULL), LF_OK);
    lf_pubkey *pub = NULL;
    lf_buf wrapped = LF_BUF_INIT;
    assert_int_equal(lf_pubkey_from_pem(t.customer_pem, strlen(t.customer_pem), &pub, NULL), LF_OK);
    assert_int_equal(lf_rsa_wrap(pub, session_key, 32, &wrapped, NULL), LF_OK);
    char b64[1024];
    lf_base64_encode(wrapped.data, wrapped.len, b64, false);
    r = call_json("POST", "/v1/handshake/complete", api_key,
                  json_pack("{s:s, s:s}", "api_key", api_key, "encrypted_secret", b64));
    assert_int_equal(r.status, 200);
    char key_id[64];
    snprintf(key_id, sizeof key_id, "%s", jstr(r.json, "key_id"));
    assert_int_equal(strlen(key_id), 36);
    snprintf(a_key_id, sizeof a_key_id, "%s", key_id);
    memcpy(a_session_key, session_key, 32);
    reply_free(&r);
    r = call_json("POST", "/v1/handshake/complete", api_key,
                  json_pack("{s:s}", "encrypted_secret", "AAAA"));
    expect_error(&r, 400, "bad_request");
    reply_free(&r);

    for (int form = 0; form < 2; form++) {
        lf_buf sealed0 = LF_BUF_INIT;
        lf_mp_builder mp = v3_body(session_key, key_id, (lf_mp_form)form, &sealed0);
        char auth[256], ct[300];
        snprintf(auth, sizeof auth, "Authorization: Bearer %s", api_key);
        snprintf(ct, sizeof ct, "Content-Type: %s", mp.content_type);
        const char *headers[] = {
            auth, ct,
            form ? "User-Agent: logflux-js-sdk/3.0.1" : "User-Agent: logflux-go-sdk/3.0.1", NULL};
        int64_t before = spool_records();
        r = call("POST", form ? "/v1/ingest" : "/v1/batch", headers, mp.body.data, mp.body.len);
        assert_int_equal(r.status, 200);
        json_t *data = json_object_get(r.json, "data");
        assert_int_equal(json_integer_value(json_object_get(data, "total")), 3);
        assert_int_equal(json_integer_value(json_object_get(data, "succeeded")), 1);
        json_t *failures = json_object_get(data, "failures");
        assert_int_equal(json_array_size(failures), 2);
        assert_int_equal(json_integer_value(json_object_get(json_array_get(failures, 0), "index")),
                         1);
        assert_int_equal(spool_records(), before + 1);
        reply_free(&r);
        /* The spool holds exactly the accepted ciphertext, under the key's app. */
        lf_buf storage = LF_BUF_INIT;
        lfd_batch b = read_batch((uint64_t)before + 1, &storage);
        assert_int_equal(b.n_rows, 1);
        assert_memory_equal(b.app, "checkout", 8);
        assert_int_equal(b.rows[0].body_len, sealed0.len);
        assert_memory_equal(b.rows[0].body, sealed0.data, sealed0.len);
        assert_memory_equal(b.rows[0].tokens, "payment,card", 12);
        assert_null(memmem(storage.data, storage.len, "4242", 4)); /* no plaintext */
        lfd_batch_clear(&b);
        lf_buf_free(&storage);
        lf_buf_free(&sealed0);
        lf_mp_builder_free(&mp);
    }
    /* Bad bodies and media types. */
    char auth[256];
    snprintf(auth, sizeof auth, "Authorization: Bearer %s", api_key);
    const char *bad_mp[] = {auth, "Content-Type: multipart/mixed; boundary=zz", NULL};
    const char *truncated = "--zz\r\nX-LF-Entry-Type: 1\r\n\r\nabc";
    r = call("POST", "/v1/ingest", bad_mp, truncated, strlen(truncated));
    expect_error(&r, 400, "bad_multipart");
    reply_free(&r);
    const char *bad_ct[] = {auth, "Content-Type: text/plain", NULL};
    r = call("POST", "/v1/ingest", bad_ct, "x", 1);
    expect_error(&r, 415, "unsupported_media_type");
    reply_free(&r);
    const char *no_auth[] = {"Content-Type: multipart/mixed; boundary=zz", NULL};
    r = call("POST", "/v1/ingest", no_auth, "x", 1);
    expect_error(&r, 401, "unauthorized");
    reply_free(&r);
    lf_pubkey_free(pub);
    lf_buf_free(&wrapped);
}

static lf_buf native_body(lf_native_session *s, const char *tenant, bool with_key)
{
    lf_buf body = LF_BUF_INIT;
    lf_pubkey *pub = NULL;
    assert_int_equal(lf_privkey_public(t.customer, &pub, NULL), LF_OK);
    int64_t now = lf_time_now_ns();
    if (with_key)
        assert_int_equal(lf_native_session_key_frame(s, pub, now, &body, NULL), LF_OK);
    const char *j1 = "{\"v\":\"2.0\",\"type\":\"log\",\"message\":\"secret order 77\"}";
    lf_native_entry e[2] = {{j1, strlen(j1), now}, {j1, strlen(j1), now + 1}};
    assert_int_equal(lf_native_seal_block(s, 1, e, 2, NULL, 0, true, &body, NULL), LF_OK);
    (void)tenant;
    lf_pubkey_free(pub);
    return body;
}

static reply signed_post(const char *key, const lf_buf *body, const char *idem,
                         const char *fixed_nonce, int64_t ts)
{
    char host[64];
    snprintf(host, sizeof host, "127.0.0.1:%u", t.port);
    lf_sign_request req = {.method = "POST",
                           .path = "/v1/ingest",
                           .host = host,
                           .content_type = LF_NATIVE_CONTENT_TYPE,
                           .idempotency_key = idem,
                           .body = body->data,
                           .body_len = body->len};
    lf_buf authv = LF_BUF_INIT;
    lf_error err = {0};
    if (lf_sign_authorization(key, strlen(key), &req, ts, fixed_nonce, &authv, &err) != LF_OK)
        fail_msg("sign: %s", err.message);
    lf_buf_terminate(&authv);
    char auth[512], idem_h[128];
    snprintf(auth, sizeof auth, "Authorization: %s", (char *)authv.data);
    snprintf(idem_h, sizeof idem_h, "X-LF-Idempotency-Key: %s", idem ? idem : "");
    const char *headers[] = {auth, "Content-Type: " LF_NATIVE_CONTENT_TYPE, idem ? idem_h : NULL,
                             NULL};
    lf_buf_free(&authv);
    return call("POST", "/v1/ingest", headers, body->data, body->len);
}

static void test_native_flow(void **state)
{
    (void)state;
    admin_setup();
    lf_native_session *s = NULL;
    assert_int_equal(lf_native_session_new(NULL, NULL, "acme", "checkout", &s, NULL), LF_OK);
    lf_buf body = native_body(s, "acme", true);
    int64_t before = spool_records();
    const char *idem = "batch-0001-aaaaaaaaaaaa";
    reply r = signed_post(api_key, &body, idem, NULL, time(NULL));
    if (r.status != 200)
        fail_msg("native: %ld %.*s", r.status, (int)r.body.len, (char *)r.body.data);
    assert_int_equal(
        json_integer_value(json_object_get(json_object_get(r.json, "data"), "succeeded")), 2);
    assert_int_equal(spool_records(), before + 1);
    lf_buf first = LF_BUF_INIT;
    lf_buf_append(&first, r.body.data, r.body.len);
    reply_free(&r);
    /* The retry (new signature, same idempotency key) is answered the same and stored once. */
    r = signed_post(api_key, &body, idem, NULL, time(NULL));
    assert_int_equal(r.status, 200);
    assert_true(r.replayed);
    assert_int_equal(r.body.len, first.len);
    assert_memory_equal(r.body.data, first.data, first.len);
    assert_int_equal(spool_records(), before + 1);
    reply_free(&r);
    /* The spool record carries the frame header fields and no plaintext. */
    lf_buf storage = LF_BUF_INIT;
    lfd_batch b = read_batch((uint64_t)before + 1, &storage);
    assert_int_equal(b.n_rows, 1); /* the key frame went to the metadata store */
    assert_int_equal(b.rows[0].format, LFD_FORMAT_NATIVE);
    assert_int_equal(b.rows[0].kind, LF_NATIVE_BLOCK);
    assert_int_equal(b.rows[0].count, 2);
    assert_int_equal(b.rows[0].sequence, 0);
    assert_null(memmem(storage.data, storage.len, "secret order", 12));
    lfd_batch_clear(&b);
    lf_buf_free(&storage);

    /* A replayed signature (same nonce) is refused. */
    const char *nonce = "AAAAAAAAAAAAAAAAAAAAAA";
    lf_buf next = native_body(s, "acme", false);
    int64_t ts = time(NULL);
    r = signed_post(api_key, &next, NULL, nonce, ts);
    assert_int_equal(r.status, 200);
    reply_free(&r);
    r = signed_post(api_key, &next, NULL, nonce, ts);
    expect_error(&r, 401, "replayed_request");
    reply_free(&r);
    /* A stale timestamp is refused. */
    r = signed_post(api_key, &next, NULL, NULL, ts - 3600);
    expect_error(&r, 401, "request_expired");
    reply_free(&r);

    /* Data frames under a key the server never saw fail per frame. */
    lf_native_session *s2 = NULL;
    assert_int_equal(lf_native_session_new(NULL, NULL, "acme", "checkout", &s2, NULL), LF_OK);
    lf_buf orphan = native_body(s2, "acme", false);
    r = signed_post(api_key, &orphan, NULL, NULL, time(NULL));
    expect_error(&r, 400, "no_valid_entries");
    assert_non_null(memmem(r.body.data, r.body.len, "unknown key id", 14));
    reply_free(&r);
    /* Frames naming another tenant are refused. */
    lf_native_session *s3 = NULL;
    assert_int_equal(lf_native_session_new(NULL, NULL, "globex", "checkout", &s3, NULL), LF_OK);
    lf_buf other = native_body(s3, "globex", true);
    r = signed_post(api_key, &other, NULL, NULL, time(NULL));
    expect_error(&r, 403, "forbidden");
    reply_free(&r);
    /* Garbage is a clean 400. */
    lf_buf junk = LF_BUF_INIT;
    lf_buf_append(&junk, "LFN1garbage", 11);
    r = signed_post(api_key, &junk, NULL, NULL, time(NULL));
    expect_error(&r, 400, "bad_frames");
    reply_free(&r);
    lf_buf_free(&junk);
    lf_buf_free(&other);
    lf_buf_free(&orphan);
    lf_buf_free(&next);
    lf_buf_free(&first);
    lf_buf_free(&body);
    lf_native_session_free(s);
    lf_native_session_free(s2);
    lf_native_session_free(s3);
}

static void test_tenant_isolation_and_limits(void **state)
{
    (void)state;
    admin_setup();
    /* Tenant B with its own admin token and API key. */
    int64_t b_id = 0;
    assert_int_equal(
        lf_meta_tenant_create(t.app.meta, "globex", LF_REGION_EU, time(NULL), &b_id, NULL), LF_OK);
    lf_meta_tenant_settings st = {.allow_bearer = true};
    assert_int_equal(lf_meta_tenant_set_settings(t.app.meta, b_id, &st, NULL), LF_OK);
    char b_admin[LF_CREDENTIAL_GENERATED_MAX + 1];
    lf_credential parts;
    lf_meta_credential c;
    memset(&c, 0, sizeof c);
    assert_int_equal(lf_credential_generate(LF_CREDENTIAL_PAT, LF_REGION_EU, b_admin, &parts, NULL),
                     LF_OK);
    c.tenant_id = b_id;
    snprintf(c.id_text, sizeof c.id_text, "%s", parts.pub.text);
    assert_int_equal(lf_credential_record_init(b_admin, strlen(b_admin), LF_SCOPE_ADMIN, NULL,
                                               time(NULL), 0, &c.rec, NULL),
                     LF_OK);
    assert_int_equal(lf_meta_credential_create(t.app.meta, &c, NULL), LF_OK);

    /* B sees none of A's apps, keys or audit entries. */
    reply r = call_json("GET", "/v1/admin/apps", b_admin, NULL);
    assert_int_equal(r.status, 200);
    assert_null(memmem(r.body.data, r.body.len, "checkout", 8));
    reply_free(&r);
    r = call_json("GET", "/v1/admin/api-keys", b_admin, NULL);
    assert_int_equal(json_array_size(json_object_get(json_object_get(r.json, "data"), "api_keys")),
                     0);
    reply_free(&r);
    /* B cannot revoke A's key by its id. */
    char path[128];
    lf_credential ap;
    assert_int_equal(lf_credential_parse(api_key, strlen(api_key), &ap, NULL), LF_OK);
    snprintf(path, sizeof path, "/v1/admin/api-keys/%s", ap.pub.text);
    r = call_json("DELETE", path, b_admin, NULL);
    assert_true(r.status == 404);
    reply_free(&r);
    /* B has no customer key: its v3 handshake says so. (A's is not handed out.) */
    r = call_json("POST", "/v1/admin/api-keys", b_admin, json_pack("{}"));
    char b_key[128];
    snprintf(b_key, sizeof b_key, "%s", jstr(r.json, "data.api_key"));
    reply_free(&r);
    r = call_json("POST", "/v1/handshake/init", b_key, json_pack("{}"));
    expect_error(&r, 409, "no_customer_key");
    reply_free(&r);

    /* B cannot write under A's session key id: every part is refused, nothing is stored. */
    assert_true(a_key_id[0] != '\0');
    lf_buf unused = LF_BUF_INIT;
    lf_mp_builder mp = v3_body(a_session_key, a_key_id, LF_MP_STANDARD, &unused);
    char auth[256], ct[300];
    snprintf(auth, sizeof auth, "Authorization: Bearer %s", b_key);
    snprintf(ct, sizeof ct, "Content-Type: %s", mp.content_type);
    const char *headers[] = {auth, ct, NULL};
    int64_t before = spool_records();
    r = call("POST", "/v1/ingest", headers, mp.body.data, mp.body.len);
    expect_error(&r, 400, "no_valid_entries");
    assert_non_null(memmem(r.body.data, r.body.len, "unknown key id", 14));
    assert_int_equal(spool_records(), before);
    reply_free(&r);

    /* B's storage quota: once the manifest holds more than it, ingest is 507. */
    st.quota_bytes = 4096;
    assert_int_equal(lf_meta_tenant_set_settings(t.app.meta, b_id, &st, NULL), LF_OK);
    lf_meta_file file = {.tenant_id = b_id,
                         .dt = "2026-11-28",
                         .hour = 3,
                         .rows = 10,
                         .bytes = 5000,
                         .ts_min = 1,
                         .ts_max = 2,
                         .created = 1,
                         .seq_first = 1,
                         .seq_last = 1};
    snprintf(file.app, sizeof file.app, "default");
    snprintf(file.path, sizeof file.path, "tenant=globex/app=default/dt=2026-11-28/hour=03/x");
    assert_int_equal(lf_meta_manifest_add(t.app.meta, &file, 1, "test-quota", 1, NULL, NULL),
                     LF_OK);
    r = call("POST", "/v1/ingest", headers, mp.body.data, mp.body.len);
    expect_error(&r, 507, "quota_exceeded");
    reply_free(&r);
    st.quota_bytes = 0;
    assert_int_equal(lf_meta_tenant_set_settings(t.app.meta, b_id, &st, NULL), LF_OK);

    /* B's rate limit (burst 3, 1/s): the next request is refused with the headers. */
    st.rate_per_sec = 1;
    st.rate_burst = 3;
    assert_int_equal(lf_meta_tenant_set_settings(t.app.meta, b_id, &st, NULL), LF_OK);
    lf_mp_builder_free(&mp);
    lf_buf_free(&unused);
    bool limited = false;
    for (int i = 0; i < 50 && !limited; i++) { /* many: a loaded machine refills slowly */
        r = call_json("GET", "/v1/admin/tenant", b_admin, NULL);
        if (r.status == 429) {
            limited = true;
            expect_error(&r, 429, "rate_limited");
            assert_true(atoi(r.retry_after) >= 1);
            assert_string_equal(r.rl_limit, "3");
            assert_string_equal(r.rl_remaining, "0");
            assert_true(atoll(r.rl_reset) >= (long long)time(NULL));
        } else {
            assert_int_equal(r.status, 200);
            assert_string_equal(r.rl_limit, "3");
        }
        reply_free(&r);
    }
    assert_true(limited);
}

static void test_spool_full(void **state)
{
    (void)state;
    admin_setup();
    /* Reopen with a tiny spool: ingest fills it, then answers 503 while reads go on. */
    close_app();
    open_app(256 * 1024);
    lf_native_session *s = NULL;
    assert_int_equal(lf_native_session_new(NULL, NULL, "acme", "checkout", &s, NULL), LF_OK);
    lf_buf key_frame = native_body(s, "acme", true);
    reply r = signed_post(api_key, &key_frame, NULL, NULL, time(NULL));
    assert_int_equal(r.status, 200);
    reply_free(&r);
    bool full = false;
    for (int i = 0; i < 400 && !full; i++) {
        lf_buf body = LF_BUF_INIT;
        uint8_t noise[16384];
        lf_random(noise, sizeof noise, NULL);
        char json[40000];
        char hex[2 * sizeof noise + 1];
        lf_hex_encode(noise, sizeof noise, hex);
        snprintf(json, sizeof json, "{\"v\":\"2.0\",\"type\":\"log\",\"message\":\"%s\"}", hex);
        lf_native_entry e = {json, strlen(json), lf_time_now_ns()};
        assert_int_equal(lf_native_seal_entry(s, 1, &e, NULL, 0, false, &body, NULL), LF_OK);
        r = signed_post(api_key, &body, NULL, NULL, time(NULL));
        if (r.status == 503) {
            full = true;
            expect_error(&r, 503, "storage_full");
            assert_true(atoi(r.retry_after) > 0);
        } else {
            assert_int_equal(r.status, 200);
        }
        reply_free(&r);
        lf_buf_free(&body);
    }
    assert_true(full);
    r = call("GET", "/health", NULL, NULL, 0);
    assert_int_equal(r.status, 200);
    assert_true(json_is_false(json_object_get(r.json, "accepting_writes")));
    reply_free(&r);
    r = call_json("GET", "/v1/admin/apps", t.admin_token, NULL);
    assert_int_equal(r.status, 200);
    reply_free(&r);
    lf_buf_free(&key_frame);
    lf_native_session_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_service_and_discovery),
        cmocka_unit_test(test_admin),
        cmocka_unit_test(test_v3_flow),
        cmocka_unit_test(test_native_flow),
        cmocka_unit_test(test_tenant_isolation_and_limits),
        cmocka_unit_test(test_spool_full),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}

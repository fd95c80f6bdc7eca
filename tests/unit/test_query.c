/*
 * test_query.c — the read API through the real HTTP layer (lfd_http on 127.0.0.1:0, libcurl)
 * over a real back end (SQLite metadata, spool, worker, fs store): query paging in both orders
 * with every row exactly once, time/type/token/app filters, the row JSON (every column), keys,
 * files and download, the long-poll tail, parameter validation, authentication, the audit
 * trail, and tenant isolation (tenant B's token sees none of tenant A's rows, keys or files).
 */
#include <curl/curl.h>

#include "api/read.h"
#include "test_worker_env.h"

#define T0      1764298800000000000LL /* 2025-11-28T03:00:00Z */
#define HOUR_NS 3600000000000LL

static const lfd_route routes[] = {
    {"GET", "/v1/query", 0, lfd_handle_query},
    {"GET", "/v1/keys", 0, lfd_handle_keys_list},
    {"GET", "/v1/keys/*", 0, lfd_handle_keys_get},
    {"GET", "/v1/files", 0, lfd_handle_files_list},
    {"GET", "/v1/files/*", 0, lfd_handle_files_item},
    {"GET", "/v1/tail", 0, lfd_handle_tail},
};

typedef struct ctx {
    wenv e;
    lfd_http *http;
    char pat_a[LF_CREDENTIAL_GENERATED_MAX + 1];
    char pat_b[LF_CREDENTIAL_GENERATED_MAX + 1];
    char pat_a_app[LF_CREDENTIAL_GENERATED_MAX + 1]; /* bound to app "b" */
} ctx;

typedef struct reply {
    long status;
    lf_buf body;
    char ctype[128];
} reply;

static size_t on_body(char *p, size_t sz, size_t n, void *ud)
{
    reply *r = ud;
    lf_buf_append(&r->body, p, sz * n);
    return sz * n;
}

static size_t on_header(char *p, size_t sz, size_t n, void *ud)
{
    reply *r = ud;
    if (strncasecmp(p, "Content-Type:", 13) == 0) {
        snprintf(r->ctype, sizeof r->ctype, "%.*s", (int)(sz * n - 13), p + 13);
        char *end = r->ctype + strlen(r->ctype);
        while (end > r->ctype && (end[-1] == '\r' || end[-1] == '\n'))
            *--end = '\0';
    }
    return sz * n;
}

static reply get(ctx *c, const char *pat, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static reply get(ctx *c, const char *pat, const char *fmt, ...)
{
    char path[1024], url[1200], auth[300];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(path, sizeof path, fmt, ap);
    va_end(ap);
    snprintf(url, sizeof url, "http://127.0.0.1:%u%s", lfd_http_port(c->http), path);
    reply r = {0};
    CURL *h = curl_easy_init();
    struct curl_slist *hdr = NULL;
    if (pat) {
        snprintf(auth, sizeof auth, "Authorization: Bearer %s", pat);
        hdr = curl_slist_append(hdr, auth);
    }
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdr);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &r);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, &r);
    curl_easy_setopt(h, CURLOPT_TIMEOUT, 20L);
    assert_int_equal(curl_easy_perform(h), CURLE_OK);
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &r.status);
    curl_easy_cleanup(h);
    curl_slist_free_all(hdr);
    lf_buf_terminate(&r.body);
    return r;
}

/* GET expecting 200 + success JSON; returns "data" (caller decrefs the returned root). */
static json_t *get_ok(ctx *c, const char *pat, json_t **root, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static json_t *get_ok(ctx *c, const char *pat, json_t **root, const char *fmt, ...)
{
    char path[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(path, sizeof path, fmt, ap);
    va_end(ap);
    reply r = get(c, pat, "%s", path);
    if (r.status != 200)
        fail_msg("GET %s: %ld %s", path, r.status, (const char *)r.body.data);
    *root = json_loads((const char *)r.body.data, 0, NULL);
    assert_non_null(*root);
    assert_string_equal(json_string_value(json_object_get(*root, "status")), "success");
    assert_non_null(json_string_value(json_object_get(*root, "request_id")));
    lf_buf_free(&r.body);
    return json_object_get(*root, "data");
}

static void expect_status(ctx *c, const char *pat, long status, const char *path)
{
    reply r = get(c, pat, "%s", path);
    if (r.status != status)
        fail_msg("GET %s: want %ld, got %ld %s", path, status, r.status, (const char *)r.body.data);
    lf_buf_free(&r.body);
}

static void mk_pat(ctx *c, int64_t tenant, uint32_t scopes, const char *app, char *out)
{
    lf_credential parts;
    lf_meta_credential cred;
    memset(&cred, 0, sizeof cred);
    assert_int_equal(lf_credential_generate(LF_CREDENTIAL_PAT, LF_REGION_EU, out, &parts, NULL),
                     LF_OK);
    assert_int_equal(
        lf_credential_record_init(out, strlen(out), scopes, app, 1000, 0, &cred.rec, NULL), LF_OK);
    cred.tenant_id = tenant;
    snprintf(cred.id_text, sizeof cred.id_text, "%s", parts.pub.text);
    assert_int_equal(lf_meta_credential_create(c->e.app.meta, &cred, NULL), LF_OK);
}

static void put_key(ctx *c, int64_t tenant, const char *app, const char *key_id, int64_t created)
{
    lf_meta_session_key k;
    memset(&k, 0, sizeof k);
    k.tenant_id = tenant;
    snprintf(k.app, sizeof k.app, "%s", app);
    snprintf(k.key_id, sizeof k.key_id, "%s", key_id);
    k.format = LF_META_KEY_NATIVE;
    memset(k.fingerprint, 0xab, sizeof k.fingerprint);
    memset(k.wrapped, 0x5a, 256);
    k.wrapped_len = 256;
    k.created = created;
    assert_int_equal(lf_meta_session_key_put(c->e.app.meta, &k, NULL), LF_OK);
}

/* 60 rows for tenant A: apps a and b, 3 hours, entry types 1..3; 5 rows for tenant B. */
#define NA 60
static int setup(void **state)
{
    ctx *c = calloc(1, sizeof *c);
    wenv_init(&c->e);
    c->e.cfg.http_threads = 4;
    lfd_worker_options o = {.no_age_flush = true, .quiet = true};
    assert_int_equal(lfd_worker_start_opts(&c->e.app, &o, &c->e.app.worker, NULL), LF_OK);
    assert_int_equal(lf_meta_app_create(c->e.app.meta, c->e.tenant_a, "a", 1000, NULL, NULL),
                     LF_OK);
    assert_int_equal(lf_meta_app_create(c->e.app.meta, c->e.tenant_a, "b", 1000, NULL, NULL),
                     LF_OK);
    mk_pat(c, c->e.tenant_a, LF_SCOPE_READ, NULL, c->pat_a);
    mk_pat(c, c->e.tenant_b, LF_SCOPE_READ, NULL, c->pat_b);
    mk_pat(c, c->e.tenant_a, LF_SCOPE_READ, "b", c->pat_a_app);
    put_key(c, c->e.tenant_a, "a", "00112233445566778899aabbccddeeff", 1700000000);
    put_key(c, c->e.tenant_a, "b", "ffeeddccbbaa99887766554433221100", 1700000100);
    put_key(c, c->e.tenant_b, "a", "0123456789abcdef0123456789abcdef", 1700000000);
    for (int i = 0; i < 6; i++) {
        const char *app = i % 2 ? "b" : "a";
        wenv_append(&c->e, c->e.tenant_a, "acme", app, 10, (uint64_t)i * 10,
                    T0 + (i / 2) * HOUR_NS + i, 1000, (uint8_t)(1 + i % 3));
    }
    wenv_append(&c->e, c->e.tenant_b, "other", "a", 5, 1000, T0, 1, 1);
    assert_int_equal(lfd_worker_flush(c->e.app.worker, NULL), LF_OK);
    lfd_http_options ho = {.listen = "127.0.0.1:0",
                           .threads = 4,
                           .connection_timeout_s = 10,
                           .routes = routes,
                           .n_routes = sizeof routes / sizeof *routes,
                           .ctx = &c->e.app,
                           .quiet = true};
    assert_int_equal(lfd_http_start(&ho, &c->http, NULL), LF_OK);
    *state = c;
    return 0;
}

static int teardown(void **state)
{
    ctx *c = *state;
    lfd_worker_tail_shutdown(c->e.app.worker);
    lfd_http_drain_and_stop(c->http, 2000);
    wenv_free(&c->e);
    free(c);
    return 0;
}

/* Page through /v1/query; counts[sequence]++; returns rows seen; checks order per file. */
static size_t page_all(ctx *c, const char *pat, const char *params, long limit, unsigned *counts,
                       size_t cap, bool desc)
{
    char cursor[256] = "";
    size_t total = 0;
    for (int guard = 0; guard < 200; guard++) {
        json_t *root;
        json_t *d = get_ok(c, pat, &root, "/v1/query?limit=%ld&order=%s%s%s%s", limit,
                           desc ? "desc" : "asc", params, *cursor ? "&cursor=" : "", cursor);
        json_t *rows = json_object_get(d, "rows");
        assert_true(json_array_size(rows) <= (size_t)limit);
        int64_t prev_file = -1, prev_ts = 0;
        for (size_t i = 0; i < json_array_size(rows); i++) {
            json_t *row = json_array_get(rows, i);
            int64_t seq = json_integer_value(json_object_get(row, "sequence"));
            int64_t ts = json_integer_value(json_object_get(row, "ts"));
            int64_t fid = json_integer_value(json_object_get(row, "file_id"));
            if (fid == prev_file)
                assert_true(desc ? ts <= prev_ts : ts >= prev_ts);
            prev_file = fid;
            prev_ts = ts;
            if (seq >= 0 && (size_t)seq < cap)
                counts[seq]++;
            total++;
        }
        json_t *nc = json_object_get(d, "next_cursor");
        if (json_is_null(nc)) {
            json_decref(root);
            return total;
        }
        snprintf(cursor, sizeof cursor, "%s", json_string_value(nc));
        json_decref(root);
    }
    fail_msg("paging did not end");
    return 0;
}

static void test_query_paging(void **state)
{
    ctx *c = *state;
    long limits[] = {1, 7, 10, 1000};
    for (size_t li = 0; li < 4; li++)
        for (int desc = 0; desc < 2; desc++) {
            unsigned counts[NA] = {0};
            assert_int_equal(page_all(c, c->pat_a, "", limits[li], counts, NA, desc), NA);
            for (int i = 0; i < NA; i++)
                assert_int_equal(counts[i], 1);
        }
    /* Default order is newest first: the first row has the latest ts. */
    json_t *root;
    json_t *d = get_ok(c, c->pat_a, &root, "/v1/query?limit=1");
    json_t *row = json_array_get(json_object_get(d, "rows"), 0);
    assert_int_equal(json_integer_value(json_object_get(row, "ts")), T0 + 2 * HOUR_NS + 5 + 9000);
    json_decref(root);
}

static void test_query_row_shape_and_filters(void **state)
{
    ctx *c = *state;
    json_t *root;
    json_t *d = get_ok(c, c->pat_a, &root, "/v1/query?order=asc&limit=1&app=a");
    json_t *row = json_array_get(json_object_get(d, "rows"), 0);
    assert_non_null(row);
    assert_string_equal(json_string_value(json_object_get(row, "tenant")), "acme");
    assert_string_equal(json_string_value(json_object_get(row, "app")), "a");
    assert_int_equal(json_integer_value(json_object_get(row, "format")), LFD_FORMAT_NATIVE);
    assert_int_equal(json_integer_value(json_object_get(row, "kind")), 1);
    assert_int_equal(json_integer_value(json_object_get(row, "entry_type")), 1);
    assert_int_equal(json_integer_value(json_object_get(row, "flags")), 0);
    assert_string_equal(json_string_value(json_object_get(row, "key_id")),
                        "0123456789abcdef0123456789abcdef");
    assert_int_equal(json_integer_value(json_object_get(row, "sequence")), 0);
    assert_int_equal(json_integer_value(json_object_get(row, "ts")), T0);
    assert_string_equal(json_string_value(json_object_get(row, "ts_rfc3339")),
                        "2025-11-28T03:00:00.000000000Z");
    assert_int_equal(json_integer_value(json_object_get(row, "count")), 1);
    assert_string_equal(json_string_value(json_object_get(row, "nonce")), "AAAAAAAAAAAAAAAA");
    assert_int_equal(json_integer_value(json_object_get(row, "ingest_time")),
                     1700000000000000000LL);
    assert_int_equal(json_integer_value(json_object_get(row, "spool_seq")), 1);
    assert_true(json_integer_value(json_object_get(row, "file_id")) > 0);
    assert_int_equal(json_integer_value(json_object_get(row, "row")), 0);
    lf_buf ct = LF_BUF_INIT;
    const char *b64 = json_string_value(json_object_get(row, "ciphertext"));
    assert_int_equal(lf_base64_decode(b64, strlen(b64), &ct, false, NULL), LF_OK);
    assert_int_equal(ct.len, 40);
    for (size_t k = 0; k < 40; k++)
        assert_int_equal(ct.data[k], (uint8_t)k);
    lf_buf_free(&ct);
    json_decref(root);

    unsigned counts[NA];
    /* type=2: batches 1 and 4 (i % 3 == 1) → sequences 10..19 and 40..49. */
    memset(counts, 0, sizeof counts);
    assert_int_equal(page_all(c, c->pat_a, "&type=2", 4, counts, NA, true), 20);
    assert_int_equal(counts[15] + counts[45], 2);
    /* app=b: batches 1, 3, 5. */
    memset(counts, 0, sizeof counts);
    assert_int_equal(page_all(c, c->pat_a, "&app=b", 100, counts, NA, true), 30);
    assert_int_equal(counts[0], 0);
    /* Time range: hour 04 only (batches 2 and 3). RFC 3339 and ns forms. */
    memset(counts, 0, sizeof counts);
    assert_int_equal(page_all(c, c->pat_a,
                              "&from=2025-11-28T04:00:00Z&to=2025-11-28T04:59:59.999999999Z", 100,
                              counts, NA, false),
                     20);
    assert_int_equal(counts[20] + counts[39], 2);
    char p[200];
    snprintf(p, sizeof p, "&from=%lld&to=%lld", (long long)T0, (long long)(T0 + 2000));
    memset(counts, 0, sizeof counts);
    assert_int_equal(page_all(c, c->pat_a, p, 100, counts, NA, false), 5); /* 0..2, 10..11 */
    /* Token: sequence 42's token is its big-endian value in the first 8 bytes. */
    memset(counts, 0, sizeof counts);
    assert_int_equal(
        page_all(c, c->pat_a, "&token=000000000000002a0000000000000000", 100, counts, NA, true), 1);
    assert_int_equal(counts[42], 1);
    memset(counts, 0, sizeof counts);
    assert_int_equal(page_all(c, c->pat_a, "&token=nothing-like-this", 100, counts, NA, true), 0);
    /* An app-bound token sees its app only; asking for another app is 403. */
    memset(counts, 0, sizeof counts);
    assert_int_equal(page_all(c, c->pat_a_app, "", 100, counts, NA, true), 30);
    expect_status(c, c->pat_a_app, 403, "/v1/query?app=a");
}

static void test_query_bad_requests(void **state)
{
    ctx *c = *state;
    const char *bad[] = {
        "/v1/query?from=yesterday", "/v1/query?to=2025-13-01T00:00:00Z",
        "/v1/query?from=10&to=5",   "/v1/query?limit=0",
        "/v1/query?limit=10001",    "/v1/query?limit=abc",
        "/v1/query?type=8",         "/v1/query?order=sideways",
        "/v1/query?cursor=!!!",     "/v1/query?cursor=AAAA",
        "/v1/query?app=..",         "/v1/query?app=a%2Fb",
        "/v1/keys?limit=5000",      "/v1/files?cursor=xyz",
        "/v1/tail?wait=31",         "/v1/tail?since=soon",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        expect_status(c, c->pat_a, 400, bad[i]);
    /* A desc cursor is not accepted by an asc query. */
    json_t *root;
    json_t *d = get_ok(c, c->pat_a, &root, "/v1/query?limit=1");
    char path[300];
    snprintf(path, sizeof path, "/v1/query?order=asc&cursor=%s",
             json_string_value(json_object_get(d, "next_cursor")));
    expect_status(c, c->pat_a, 400, path);
    json_decref(root);
    /* Authentication: none and garbage. (Every PAT scope implies read.) */
    expect_status(c, NULL, 401, "/v1/query");
    expect_status(c, "lf_nonsense", 401, "/v1/query");
}

static void test_keys_files_download(void **state)
{
    ctx *c = *state;
    json_t *root;
    json_t *d = get_ok(c, c->pat_a, &root, "/v1/keys/00112233445566778899AABBCCDDEEFF");
    assert_string_equal(json_string_value(json_object_get(d, "key_id")),
                        "00112233445566778899aabbccddeeff");
    assert_string_equal(json_string_value(json_object_get(d, "format")), "native");
    assert_string_equal(json_string_value(json_object_get(d, "app")), "a");
    assert_int_equal(strlen(json_string_value(json_object_get(d, "fingerprint"))), 64);
    lf_buf w = LF_BUF_INIT;
    const char *wb = json_string_value(json_object_get(d, "wrapped"));
    assert_int_equal(lf_base64_decode(wb, strlen(wb), &w, false, NULL), LF_OK);
    assert_int_equal(w.len, 256);
    lf_buf_free(&w);
    json_decref(root);
    expect_status(c, c->pat_a, 404, "/v1/keys/0123456789abcdef0123456789abcdef"); /* B's */
    expect_status(c, c->pat_a, 404, "/v1/keys/zz");
    expect_status(c, c->pat_a_app, 404, "/v1/keys/00112233445566778899aabbccddeeff");

    d = get_ok(c, c->pat_a, &root, "/v1/keys?limit=1");
    assert_int_equal(json_array_size(json_object_get(d, "keys")), 1);
    char path[400];
    snprintf(path, sizeof path, "/v1/keys?limit=1&cursor=%s",
             json_string_value(json_object_get(d, "next_cursor")));
    json_t *root2;
    json_t *d2 = get_ok(c, c->pat_a, &root2, "%s", path);
    assert_int_equal(json_array_size(json_object_get(d2, "keys")), 1);
    assert_string_equal(
        json_string_value(json_object_get(json_array_get(json_object_get(d2, "keys"), 0), "app")),
        "b");
    json_decref(root2);
    json_decref(root);
    d = get_ok(c, c->pat_a, &root, "/v1/keys?from=%lld", 1700000050LL * 1000000000LL);
    assert_int_equal(json_array_size(json_object_get(d, "keys")), 1);
    json_decref(root);

    /* Files: A has 3 hours x 2 apps = 6 files. */
    d = get_ok(c, c->pat_a, &root, "/v1/files?limit=4");
    json_t *files = json_object_get(d, "files");
    assert_int_equal(json_array_size(files), 4);
    json_t *f0 = json_array_get(files, 0);
    int64_t id = json_integer_value(json_object_get(f0, "id"));
    snprintf(path, sizeof path, "/v1/files?limit=4&cursor=%s",
             json_string_value(json_object_get(d, "next_cursor")));
    d2 = get_ok(c, c->pat_a, &root2, "%s", path);
    assert_int_equal(json_array_size(json_object_get(d2, "files")), 2);
    assert_true(json_is_null(json_object_get(d2, "next_cursor")));
    json_decref(root2);

    reply r = get(c, c->pat_a, "/v1/files/%lld/download", (long long)id);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.ctype, " application/vnd.apache.parquet");
    lf_buf obj = LF_BUF_INIT;
    assert_int_equal(c->e.app.store->ops->get(c->e.app.store,
                                              json_string_value(json_object_get(f0, "path")), &obj,
                                              NULL),
                     LF_OK);
    assert_int_equal(r.body.len, obj.len);
    assert_memory_equal(r.body.data, obj.data, obj.len);
    assert_memory_equal(r.body.data, "PAR1", 4);
    lf_buf_free(&obj);
    lf_buf_free(&r.body);
    json_decref(root);
    snprintf(path, sizeof path, "/v1/files/%lld/download", (long long)id);
    expect_status(c, c->pat_b, 404, path);
    expect_status(c, c->pat_a, 404, "/v1/files/999999/download");
    expect_status(c, c->pat_a, 404, "/v1/files/abc/download");
    snprintf(path, sizeof path, "/v1/files/%lld", (long long)id);
    expect_status(c, c->pat_a, 404, path);
}

static void test_tenant_isolation(void **state)
{
    ctx *c = *state;
    unsigned counts[2000] = {0};
    /* B sees its own 5 rows (sequences 1000..1004) and nothing of A's. */
    assert_int_equal(page_all(c, c->pat_b, "", 100, counts, 2000, true), 5);
    for (int i = 0; i < NA; i++)
        assert_int_equal(counts[i], 0);
    json_t *root;
    json_t *d = get_ok(c, c->pat_b, &root, "/v1/files");
    assert_int_equal(json_array_size(json_object_get(d, "files")), 1);
    json_decref(root);
    d = get_ok(c, c->pat_b, &root, "/v1/keys");
    assert_int_equal(json_array_size(json_object_get(d, "keys")), 1);
    json_decref(root);
    expect_status(c, c->pat_b, 404, "/v1/keys/00112233445566778899aabbccddeeff");
    d = get_ok(c, c->pat_b, &root, "/v1/tail?since=0");
    size_t n = json_array_size(json_object_get(d, "rows"));
    assert_int_equal(n, 5);
    json_decref(root);
}

static void test_tail(void **state)
{
    ctx *c = *state;
    /* Since the beginning: everything flushed so far (A's 60 rows); paged by limit. */
    json_t *root;
    json_t *d = get_ok(c, c->pat_a, &root, "/v1/tail?since=0&limit=25");
    assert_int_equal(json_array_size(json_object_get(d, "rows")), 25);
    char cursor[200];
    snprintf(cursor, sizeof cursor, "%s", json_string_value(json_object_get(d, "cursor")));
    json_decref(root);
    size_t got = 25;
    for (int i = 0; i < 10; i++) {
        d = get_ok(c, c->pat_a, &root, "/v1/tail?limit=25&cursor=%s", cursor);
        size_t n = json_array_size(json_object_get(d, "rows"));
        snprintf(cursor, sizeof cursor, "%s", json_string_value(json_object_get(d, "cursor")));
        json_decref(root);
        if (n == 0)
            break;
        got += n;
    }
    assert_int_equal(got, NA);
    /* Default since = now: nothing yet, even with a short wait. */
    d = get_ok(c, c->pat_a, &root, "/v1/tail?wait=1");
    assert_int_equal(json_array_size(json_object_get(d, "rows")), 0);
    char now_cursor[200];
    snprintf(now_cursor, sizeof now_cursor, "%s", json_string_value(json_object_get(d, "cursor")));
    json_decref(root);
    /* New rows for A (type 3) and B; the tail from the cursor returns exactly A's. */
    wenv_append(&c->e, c->e.tenant_a, "acme", "a", 3, 500, T0, 1, 3);
    wenv_append(&c->e, c->e.tenant_b, "other", "a", 2, 1500, T0, 1, 3);
    assert_int_equal(lfd_worker_flush(c->e.app.worker, NULL), LF_OK);
    d = get_ok(c, c->pat_a, &root, "/v1/tail?wait=5&type=3&cursor=%s", now_cursor);
    json_t *rows = json_object_get(d, "rows");
    assert_int_equal(json_array_size(rows), 3);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(rows, 0), "sequence")), 500);
    assert_false(json_is_true(json_object_get(d, "gap")));
    json_decref(root);
    d = get_ok(c, c->pat_a, &root, "/v1/tail?app=b&cursor=%s", now_cursor);
    assert_int_equal(json_array_size(json_object_get(d, "rows")), 0);
    json_decref(root);
    /* The new rows are queryable too. */
    unsigned counts[600] = {0};
    assert_int_equal(page_all(c, c->pat_a, "", 1000, counts, 600, true), NA + 3);
}

static void test_audit(void **state)
{
    ctx *c = *state;
    reply r = get(c, c->pat_a, "/v1/keys/00112233445566778899aabbccddeeff");
    lf_buf_free(&r.body);
    lf_meta_audit_entry *a = NULL;
    size_t n = 0;
    lf_meta_cursor next;
    const char *want[] = {"query", "keys.get", "keys.list", "files.list", "files.download", "tail"};
    bool seen[6] = {0};
    lf_meta_cursor cur = LF_META_CURSOR_START;
    for (int guard = 0; guard < 100; guard++) {
        assert_int_equal(
            lf_meta_audit_list(c->e.app.meta, c->e.tenant_a, 0, 1000, cur, &a, &n, &next, NULL),
            LF_OK);
        for (size_t i = 0; i < n; i++) {
            for (int k = 0; k < 6; k++)
                if (strcmp(a[i].action, want[k]) == 0)
                    seen[k] = true;
            assert_true(a[i].actor[0] != '\0');
        }
        free(a);
        if (next.id == 0)
            break;
        cur = next;
    }
    for (int k = 0; k < 6; k++)
        if (!seen[k])
            fail_msg("no audit entry for %s", want[k]);
}

int main(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_query_paging),
        cmocka_unit_test(test_query_row_shape_and_filters),
        cmocka_unit_test(test_query_bad_requests),
        cmocka_unit_test(test_keys_files_download),
        cmocka_unit_test(test_tenant_isolation),
        cmocka_unit_test(test_tail),
        cmocka_unit_test(test_audit),
    };
    int rc = cmocka_run_group_tests(tests, setup, teardown);
    curl_global_cleanup();
    return rc;
}

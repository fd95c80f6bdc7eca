/*
 * bench_ingest.c — load generator for logfluxd's ingest over TLS on loopback.
 *
 *   bench_ingest --url https://127.0.0.1:PORT --ca CERT --token ADMIN_TOKEN
 *                [--seconds 3] [--concurrency 1,4,16,64]
 *
 * It sets up what a tenant needs through the admin API (app, API key, customer key), then for
 * each concurrency level runs, for a fixed time, threads that each keep one HTTP/1.1 keep-alive
 * connection and send:
 *   native: one signed request = one zstd block frame of 1000 sealed entries (~200 B each);
 *   v3:     one multipart request of 100 entries (the official SDKs' batch), bearer key;
 * and reports entries/s and p50/p99 request latency. As the reference, the same requests are
 * sent in the same run to an in-process HTTP server on the same HTTP layer (libmicrohttpd,
 * TLS 1.3) whose handler discards the body: the difference is what logfluxd's work costs
 * (parsing, authentication, validation, the fsynced spool).
 */
#include <curl/curl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench_util.h"
#include "http/http.h"
#include "logflux/crypto.h"
#include "logflux/multipart.h"
#include "logflux/native.h"
#include "logflux/sign.h"
#include "logflux/timefmt.h"
#include "logflux/v3.h"

#define NATIVE_ENTRIES 1000
#define V3_ENTRIES     100
#define MAX_THREADS    256
#define MAX_SAMPLES    200000

static struct {
    const char *url, *ca, *token;
    double seconds;
    char api_key[128];
    char host[128];
    lf_buf native_body;
    lf_buf v3_body;
    char v3_content_type[300];
} g;

typedef struct reply {
    long status;
    lf_buf body;
} reply;

static size_t on_body(char *p, size_t size, size_t n, void *ud)
{
    lf_buf_append(&((reply *)ud)->body, p, size * n);
    return size * n;
}

static void die(const char *what, const char *detail)
{
    fprintf(stderr, "bench_ingest: %s: %s\n", what, detail);
    exit(1);
}

static reply post_json(const char *base, const char *path, const char *bearer, json_t *body)
{
    reply r = {0, LF_BUF_INIT};
    char url[512], auth[256];
    snprintf(url, sizeof url, "%s%s", base, path);
    snprintf(auth, sizeof auth, "Authorization: Bearer %s", bearer);
    char *text = json_dumps(body, JSON_COMPACT);
    json_decref(body);
    struct curl_slist *h = curl_slist_append(NULL, auth);
    h = curl_slist_append(h, "Content-Type: application/json");
    CURL *c = curl_easy_init();
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CAINFO, g.ca);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, text);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &r);
    if (curl_easy_perform(c) != CURLE_OK)
        die("setup request failed", path);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r.status);
    curl_easy_cleanup(c);
    curl_slist_free_all(h);
    free(text);
    lf_buf_terminate(&r.body);
    return r;
}

/* App, API key, customer key; then the two request bodies. */
static void setup(void)
{
    reply r = post_json(g.url, "/v1/admin/apps", g.token, json_pack("{s:s}", "name", "bench"));
    lf_buf_free(&r.body);
    r = post_json(g.url, "/v1/admin/api-keys", g.token, json_pack("{s:s}", "app", "bench"));
    json_t *j = json_loads((char *)r.body.data, 0, NULL);
    const char *key = json_string_value(json_object_get(json_object_get(j, "data"), "api_key"));
    if (r.status != 201 || key == NULL)
        die("api key", (char *)r.body.data);
    snprintf(g.api_key, sizeof g.api_key, "%s", key);
    json_decref(j);
    lf_buf_free(&r.body);

    lf_privkey *priv = NULL;
    lf_pubkey *pub = NULL;
    lf_buf pem = LF_BUF_INIT;
    if (lf_privkey_generate(4096, &priv, NULL) != LF_OK ||
        lf_privkey_public(priv, &pub, NULL) != LF_OK || lf_pubkey_to_pem(pub, &pem, NULL) != LF_OK)
        die("customer key", "generation failed");
    r = post_json(g.url, "/v1/admin/public-keys", g.token,
                  json_pack("{s:s}", "public_key", (char *)pem.data));
    if (r.status != 201)
        die("public key", (char *)r.body.data);
    lf_buf_free(&r.body);

    /* Native: key frame once, then the block body that every request repeats. */
    lf_native_session *s = NULL;
    int64_t now = lf_time_now_ns();
    lf_buf key_frame = LF_BUF_INIT;
    if (lf_native_session_new(NULL, NULL, "default", "bench", &s, NULL) != LF_OK ||
        lf_native_session_key_frame(s, pub, now, &key_frame, NULL) != LF_OK)
        die("native", "session");
    static char jsons[NATIVE_ENTRIES][220];
    static lf_native_entry entries[NATIVE_ENTRIES];
    for (int i = 0; i < NATIVE_ENTRIES; i++) {
        snprintf(jsons[i], sizeof jsons[i],
                 "{\"v\":\"2.0\",\"type\":\"log\",\"level\":7,\"source\":\"bench\","
                 "\"message\":\"GET /api/v1/items/%d 200 %d ms user=%d region=eu-west\"}",
                 i, i % 97, i * 31 % 1000);
        entries[i] = (lf_native_entry){jsons[i], strlen(jsons[i]), now + i};
    }
    if (lf_native_seal_block(s, 1, entries, NATIVE_ENTRIES, NULL, 0, true, &g.native_body, NULL) !=
        LF_OK)
        die("native", "seal");
    /* Register the key with one request carrying only the key frame. */
    lf_sign_request sreq = {.method = "POST",
                            .path = "/v1/ingest",
                            .host = g.host,
                            .content_type = LF_NATIVE_CONTENT_TYPE,
                            .body = key_frame.data,
                            .body_len = key_frame.len};
    lf_buf authv = LF_BUF_INIT;
    lf_sign_authorization(g.api_key, strlen(g.api_key), &sreq, time(NULL), NULL, &authv, NULL);
    lf_buf_terminate(&authv);
    char url[512], auth[512];
    snprintf(url, sizeof url, "%s/v1/ingest", g.url);
    snprintf(auth, sizeof auth, "Authorization: %s", (char *)authv.data);
    struct curl_slist *h = curl_slist_append(NULL, auth);
    h = curl_slist_append(h, "Content-Type: " LF_NATIVE_CONTENT_TYPE);
    CURL *c = curl_easy_init();
    reply kr = {0, LF_BUF_INIT};
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CAINFO, g.ca);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, key_frame.data);
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)key_frame.len);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &kr);
    curl_easy_perform(c);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &kr.status);
    if (kr.status != 200)
        die("key frame", kr.body.data ? (char *)kr.body.data : "no answer");
    curl_easy_cleanup(c);
    curl_slist_free_all(h);
    lf_buf_free(&kr.body);
    lf_buf_free(&authv);

    /* v3: handshake, then one multipart body of 100 entries. */
    uint8_t session_key[32];
    lf_buf wrapped = LF_BUF_INIT;
    lf_random(session_key, 32, NULL);
    lf_rsa_wrap(pub, session_key, 32, &wrapped, NULL);
    char b64[1024];
    lf_base64_encode(wrapped.data, wrapped.len, b64, false);
    r = post_json(g.url, "/v1/handshake/complete", g.api_key,
                  json_pack("{s:s}", "encrypted_secret", b64));
    j = json_loads((char *)r.body.data, 0, NULL);
    const char *key_id = json_string_value(json_object_get(j, "key_id"));
    if (key_id == NULL)
        die("handshake", (char *)r.body.data);
    lf_v3_sealer *v3 = NULL;
    lf_mp_builder mp;
    lf_v3_sealer_new(session_key, key_id, -1, &v3, NULL);
    lf_mp_builder_init(&mp, LF_MP_STANDARD, NULL, NULL, NULL);
    for (int i = 0; i < V3_ENTRIES; i++) {
        lf_buf part = LF_BUF_INIT;
        lf_v3_headers hd;
        lf_v3_seal_json(v3, 1, now + i, jsons[i], strlen(jsons[i]), NULL, &part, &hd, NULL);
        lf_mp_builder_add(&mp, &hd, NULL, 0, part.data, part.len, NULL);
        lf_buf_free(&part);
    }
    lf_mp_builder_finish(&mp, NULL);
    lf_buf_append(&g.v3_body, mp.body.data, mp.body.len);
    snprintf(g.v3_content_type, sizeof g.v3_content_type, "Content-Type: %s", mp.content_type);
    lf_mp_builder_free(&mp);
    lf_v3_sealer_free(v3);
    json_decref(j);
    lf_buf_free(&r.body);
    lf_buf_free(&wrapped);
    lf_buf_free(&key_frame);
    lf_buf_free(&pem);
    lf_pubkey_free(pub);
    lf_privkey_free(priv);
    lf_native_session_free(s);
    lf_wipe(session_key, sizeof session_key);
}

/* ---------------- load ---------------- */

typedef struct load {
    const char *base;
    bool native;
    double deadline;
    atomic_long requests, errors;
    double *latencies; /* per thread slices */
    int threads;
} load;

typedef struct worker_arg {
    load *l;
    int id;
    size_t samples;
} worker_arg;

static size_t discard(char *p, size_t size, size_t n, void *ud)
{
    (void)p;
    (void)ud;
    return size * n;
}

static void *worker(void *p)
{
    worker_arg *a = p;
    load *l = a->l;
    char url[512], auth[512];
    snprintf(url, sizeof url, "%s/v1/ingest", l->base);
    CURL *c = curl_easy_init();
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CAINFO, g.ca);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
    curl_easy_setopt(c, CURLOPT_TCP_NODELAY, 1L);
    const lf_buf *body = l->native ? &g.native_body : &g.v3_body;
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body->data);
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)body->len);
    double *lat = l->latencies + (size_t)a->id * (MAX_SAMPLES / MAX_THREADS);
    uint8_t sig_key[LF_SIGN_KEY_LEN];
    lf_credential cred;
    lf_sign_derive_key(g.api_key, strlen(g.api_key), sig_key, NULL);
    lf_credential_parse(g.api_key, strlen(g.api_key), &cred, NULL);
    while (bench_now() < l->deadline) {
        struct curl_slist *h = NULL;
        if (l->native) {
            lf_sign_request sreq = {.method = "POST",
                                    .path = "/v1/ingest",
                                    .host = g.host,
                                    .content_type = LF_NATIVE_CONTENT_TYPE,
                                    .body = body->data,
                                    .body_len = body->len};
            lf_buf authv = LF_BUF_INIT;
            lf_sign_authorization_with_key(cred.pub.text, sig_key, &sreq, time(NULL), NULL, &authv,
                                           NULL);
            lf_buf_terminate(&authv);
            snprintf(auth, sizeof auth, "Authorization: %s", (char *)authv.data);
            lf_buf_free(&authv);
            h = curl_slist_append(h, "Content-Type: " LF_NATIVE_CONTENT_TYPE);
        } else {
            snprintf(auth, sizeof auth, "Authorization: Bearer %s", g.api_key);
            h = curl_slist_append(h, g.v3_content_type);
        }
        h = curl_slist_append(h, auth);
        h = curl_slist_append(h, "Expect:");
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
        double t0 = bench_now();
        CURLcode rc = curl_easy_perform(c);
        double dt = bench_now() - t0;
        long status = 0;
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
        curl_slist_free_all(h);
        if (rc != CURLE_OK || status != 200) {
            atomic_fetch_add(&l->errors, 1);
            continue;
        }
        atomic_fetch_add(&l->requests, 1);
        if (a->samples < MAX_SAMPLES / MAX_THREADS)
            lat[a->samples++] = dt;
    }
    curl_easy_cleanup(c);
    return NULL;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

typedef struct result {
    double entries_per_s, p50_ms, p99_ms;
    long errors;
} result;

static result run(const char *base, bool native, int threads)
{
    load l = {.base = base, .native = native, .threads = threads};
    l.latencies = calloc(MAX_SAMPLES, sizeof(double));
    pthread_t t[MAX_THREADS];
    worker_arg args[MAX_THREADS];
    double start = bench_now();
    l.deadline = start + g.seconds;
    for (int i = 0; i < threads; i++) {
        args[i] = (worker_arg){&l, i, 0};
        pthread_create(&t[i], NULL, worker, &args[i]);
    }
    for (int i = 0; i < threads; i++)
        pthread_join(t[i], NULL);
    double elapsed = bench_now() - start;
    size_t n = 0;
    double *all = calloc(MAX_SAMPLES, sizeof(double));
    for (int i = 0; i < threads; i++)
        for (size_t k = 0; k < args[i].samples; k++)
            all[n++] = l.latencies[(size_t)i * (MAX_SAMPLES / MAX_THREADS) + k];
    qsort(all, n, sizeof *all, cmp_double);
    result r = {(double)atomic_load(&l.requests) * (native ? NATIVE_ENTRIES : V3_ENTRIES) / elapsed,
                n ? all[n / 2] * 1e3 : 0, n ? all[(size_t)((double)n * 0.99)] * 1e3 : 0,
                atomic_load(&l.errors)};
    free(all);
    free(l.latencies);
    return r;
}

/* ---------------- the reference: same HTTP layer, body discarded ---------------- */

static void on_discard(lfd_request *r, void *ctx)
{
    (void)ctx;
    lfd_respond_bytes(r, 200, "application/json", "{\"status\":\"success\"}", 20);
}

static const lfd_route discard_routes[] = {{"POST", "/v1/ingest", 64u << 20, on_discard}};

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        die("read", path);
    lf_buf b = LF_BUF_INIT;
    char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        lf_buf_append(&b, chunk, n);
    fclose(f);
    lf_buf_terminate(&b);
    return (char *)b.data;
}

int main(int argc, char **argv)
{
    const char *levels = "1,4,16,64", *key_path = NULL;
    g.seconds = 3;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--url") == 0)
            g.url = argv[i + 1];
        else if (strcmp(argv[i], "--ca") == 0)
            g.ca = argv[i + 1];
        else if (strcmp(argv[i], "--key") == 0)
            key_path = argv[i + 1];
        else if (strcmp(argv[i], "--token") == 0)
            g.token = argv[i + 1];
        else if (strcmp(argv[i], "--seconds") == 0)
            g.seconds = atof(argv[i + 1]);
        else if (strcmp(argv[i], "--concurrency") == 0)
            levels = argv[i + 1];
    }
    if (!g.url || !g.ca || !g.token || !key_path) {
        fprintf(stderr, "usage: bench_ingest --url URL --ca CERT --key TLSKEY --token ADMIN "
                        "[--seconds S] [--concurrency 1,4,16,64]\n");
        return 2;
    }
    curl_global_init(CURL_GLOBAL_DEFAULT);
    const char *hp = strstr(g.url, "://");
    snprintf(g.host, sizeof g.host, "%s", hp ? hp + 3 : g.url);
    setup();

    char *cert = slurp(g.ca), *key = slurp(key_path);
    lfd_http_options ho = {.listen = "127.0.0.1:0",
                           .cert_pem = cert,
                           .key_pem = key,
                           .threads = 16,
                           .connection_timeout_s = 30,
                           .routes = discard_routes,
                           .n_routes = 1,
                           .quiet = true};
    lfd_http *ref = NULL;
    lf_error err = {0};
    if (lfd_http_start(&ho, &ref, &err) != LF_OK)
        die("reference server", err.message);
    char ref_url[64];
    snprintf(ref_url, sizeof ref_url, "https://127.0.0.1:%u", lfd_http_port(ref));

    printf("native: %d entries per request (%zu bytes, one zstd block frame, HMAC-signed)\n",
           NATIVE_ENTRIES, g.native_body.len);
    printf("v3:     %d entries per request (%zu bytes, multipart, bearer)\n", V3_ENTRIES,
           g.v3_body.len);
    printf("%-7s %5s %14s %9s %9s %8s   %14s %9s   %s\n", "format", "conc", "entries/s", "p50 ms",
           "p99 ms", "errors", "discard ent/s", "p99 ms", "logfluxd/discard");
    char copy[128];
    snprintf(copy, sizeof copy, "%s", levels);
    for (int native = 1; native >= 0; native--) {
        for (char *save = NULL, *lv = strtok_r(copy, ",", &save); lv;
             lv = strtok_r(NULL, ",", &save)) {
            int threads = atoi(lv);
            if (threads < 1 || threads > MAX_THREADS)
                continue;
            result a = run(g.url, native, threads);
            result b = run(ref_url, native, threads);
            printf("%-7s %5d %14.0f %9.2f %9.2f %8ld   %14.0f %9.2f   %.2f\n",
                   native ? "native" : "v3", threads, a.entries_per_s, a.p50_ms, a.p99_ms, a.errors,
                   b.entries_per_s, b.p99_ms,
                   b.entries_per_s > 0 ? a.entries_per_s / b.entries_per_s : 0);
            fflush(stdout);
        }
        snprintf(copy, sizeof copy, "%s", levels);
    }
    lfd_http_drain_and_stop(ref, 1000);
    free(cert);
    free(key);
    curl_global_cleanup();
    return 0;
}

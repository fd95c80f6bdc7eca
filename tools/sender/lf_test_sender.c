/*
 * lf_test_sender.c — lf-test-sender: send log entries to logfluxd through its real ingest API,
 * in the native format (key frame + a zstd block + close marker, HMAC-signed) and/or the v3
 * compatibility format (handshake, then one multipart request).
 *
 *   lf-test-sender --url U --ca F --api-key K --public-key PEM --tenant T --app A
 *                  [--format native|v3|both] [--count N] [--level L] [--label k=v]...
 *                  [--message-prefix P] [--source S] [--ago D] [--json-file F]
 *
 * Messages are "<prefix> <i>" (i = 0..N-1); --ago shifts every timestamp into the past by D
 * seconds (so tests can put entries in closed hours); --json-file sends each line of F (a
 * schema 2.0 entry) instead. The customer's public key wraps the native session key, and the
 * v3 handshake's offered key must have the same fingerprint (the pin). Prints one line per
 * request; exit 0 when every request was accepted.
 */
#include <curl/curl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "logflux/compress.h"
#include "logflux/credentials.h"
#include "logflux/crypto.h"
#include "logflux/multipart.h"
#include "logflux/native.h"
#include "logflux/payload.h"
#include "logflux/sign.h"
#include "logflux/timefmt.h"
#include "logflux/v3.h"

#define MAX_LABELS 20

static struct {
    const char *url, *ca, *api_key, *pubkey_path, *tenant, *app, *format, *prefix, *source,
        *json_file;
    long count, level, ago;
    lf_kv labels[MAX_LABELS];
    size_t n_labels;
    char host[256];
} g = {.format = "native",
       .prefix = "test message",
       .source = "lf-test-sender",
       .count = 1,
       .level = 6,
       .tenant = "acme"};

static void die(const char *what, const char *detail)
{
    fprintf(stderr, "lf-test-sender: %s: %s\n", what, detail ? detail : "");
    exit(1);
}

static void check(lf_err rc, const char *what, const lf_error *err)
{
    if (rc != LF_OK)
        die(what, err->message);
}

static size_t on_body(char *p, size_t size, size_t n, void *ud)
{
    lf_buf_append(ud, p, size * n);
    return size * n;
}

static json_t *http(const char *path, const char *const *headers, const void *body, size_t len,
                    long *status)
{
    char url[1024];
    snprintf(url, sizeof url, "%s%s", g.url, path);
    lf_buf answer = LF_BUF_INIT;
    struct curl_slist *h = NULL;
    for (size_t i = 0; headers[i]; i++)
        h = curl_slist_append(h, headers[i]);
    CURL *c = curl_easy_init();
    curl_easy_setopt(c, CURLOPT_URL, url);
    if (g.ca)
        curl_easy_setopt(c, CURLOPT_CAINFO, g.ca);
    curl_easy_setopt(c, CURLOPT_POST, 1L);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &answer);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)len);
    CURLcode rc = curl_easy_perform(c);
    if (rc != CURLE_OK)
        die(path, curl_easy_strerror(rc));
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, status);
    curl_easy_cleanup(c);
    curl_slist_free_all(h);
    json_t *j = json_loadb((const char *)answer.data, answer.len, 0, NULL);
    lf_buf_free(&answer);
    return j;
}

static void expect_ok(json_t *j, long status, long want, const char *what)
{
    if (status != want) {
        char *d = j ? json_dumps(j, 0) : NULL;
        fprintf(stderr, "lf-test-sender: %s answered %ld: %s\n", what, status, d ? d : "");
        exit(1);
    }
}

/* The entries to send: JSON texts and their ts. */
typedef struct entries {
    lf_buf *json;
    int64_t *ts;
    int *type;
    size_t n;
} entries;

static void make_entries(entries *e)
{
    lf_error err = {0};
    int64_t now = lf_time_now_ns() - (int64_t)g.ago * LF_NS_PER_SEC;
    if (g.json_file != NULL) {
        FILE *f = fopen(g.json_file, "r");
        if (f == NULL)
            die("open", g.json_file);
        char *line = NULL;
        size_t cap = 0;
        ssize_t n;
        size_t max = 100000;
        e->json = calloc(max, sizeof *e->json);
        e->ts = calloc(max, sizeof *e->ts);
        e->type = calloc(max, sizeof *e->type);
        while ((n = getline(&line, &cap, f)) > 0 && e->n < max) {
            while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
                line[--n] = '\0';
            if (n == 0)
                continue;
            lf_payload *p = NULL;
            check(lf_payload_decode(line, (size_t)n, 0, 0, &p, &err), "json-file entry", &err);
            e->ts[e->n] = p->ts_ns;
            e->type[e->n] = p->type;
            lf_payload_free(p);
            e->json[e->n] = (lf_buf)LF_BUF_INIT;
            lf_buf_append(&e->json[e->n], line, (size_t)n);
            e->n++;
        }
        free(line);
        fclose(f);
        return;
    }
    e->n = (size_t)g.count;
    e->json = calloc(e->n, sizeof *e->json);
    e->ts = calloc(e->n, sizeof *e->ts);
    e->type = calloc(e->n, sizeof *e->type);
    for (size_t i = 0; i < e->n; i++) {
        char msg[512];
        snprintf(msg, sizeof msg, "%s %zu", g.prefix, i);
        lf_payload p = {0};
        p.type = LF_ENTRY_LOG;
        p.source = g.source;
        p.level = (int)g.level;
        p.ts_ns = now + (int64_t)i * 1000;
        p.log.message = msg;
        p.attributes = g.labels;
        p.n_attributes = g.n_labels;
        e->json[i] = (lf_buf)LF_BUF_INIT;
        check(lf_payload_encode(&p, &e->json[i], &err), "encode", &err);
        e->ts[i] = p.ts_ns;
        e->type[i] = LF_ENTRY_LOG;
    }
}

static void send_native(const entries *e, lf_pubkey *customer)
{
    lf_error err = {0};
    lf_native_session *s = NULL;
    lf_buf body = LF_BUF_INIT;
    check(lf_native_session_new(NULL, NULL, g.tenant, g.app, &s, &err), "session", &err);
    check(lf_native_session_key_frame(s, customer, lf_time_now_ns(), &body, &err), "key frame",
          &err);
    /* one block per run of entries of the same type */
    size_t i = 0;
    int64_t last = 0;
    while (i < e->n) {
        size_t j = i;
        while (j < e->n && e->type[j] == e->type[i] && j - i < 10000)
            j++;
        lf_native_entry *ne = calloc(j - i, sizeof *ne);
        for (size_t k = i; k < j; k++) {
            ne[k - i] = (lf_native_entry){e->json[k].data, e->json[k].len, e->ts[k]};
            if (e->ts[k] > last)
                last = e->ts[k];
        }
        if (j - i == 1)
            check(lf_native_seal_entry(s, (uint8_t)e->type[i], &ne[0], NULL, 0, true, &body, &err),
                  "seal entry", &err);
        else
            check(
                lf_native_seal_block(s, (uint8_t)e->type[i], ne, j - i, NULL, 0, true, &body, &err),
                "seal block", &err);
        free(ne);
        i = j;
    }
    check(lf_native_seal_close(s, last + 1, &body, &err), "close", &err);
    lf_sign_request req = {.method = "POST",
                           .path = "/v1/ingest",
                           .host = g.host,
                           .content_type = LF_NATIVE_CONTENT_TYPE,
                           .body = body.data,
                           .body_len = body.len};
    lf_buf authv = LF_BUF_INIT;
    check(lf_sign_authorization(g.api_key, strlen(g.api_key), &req, time(NULL), NULL, &authv, &err),
          "sign", &err);
    lf_buf_terminate(&authv);
    char auth[1024];
    snprintf(auth, sizeof auth, "Authorization: %s", (char *)authv.data);
    const char *headers[] = {auth, "Content-Type: " LF_NATIVE_CONTENT_TYPE, NULL};
    long status = 0;
    json_t *j = http("/v1/ingest", headers, body.data, body.len, &status);
    expect_ok(j, status, 200, "native ingest");
    printf("native: %zu entries under key %02x%02x… sent\n", e->n, lf_native_session_key_id(s)[0],
           lf_native_session_key_id(s)[1]);
    json_decref(j);
    lf_buf_free(&authv);
    lf_buf_free(&body);
    lf_native_session_free(s);
}

static json_t *call_json(const char *path, json_t *body)
{
    char auth[512];
    snprintf(auth, sizeof auth, "Authorization: Bearer %s", g.api_key);
    const char *headers[] = {auth, "Content-Type: application/json", NULL};
    char *text = json_dumps(body, JSON_COMPACT);
    json_decref(body);
    long status = 0;
    json_t *j = http(path, headers, text, strlen(text), &status);
    free(text);
    expect_ok(j, status, 200, path);
    return j;
}

static void send_v3(const entries *e, const char *pinned)
{
    lf_error err = {0};
    json_t *hi = call_json("/v1/handshake/init", json_pack("{s:s}", "api_key", g.api_key));
    json_t *d = json_object_get(hi, "data") ? json_object_get(hi, "data") : hi;
    const char *pem = json_string_value(json_object_get(d, "public_key"));
    if (pem == NULL)
        pem = json_string_value(json_object_get(hi, "public_key"));
    if (pem == NULL)
        die("handshake", "no public_key");
    lf_pubkey *offered = NULL;
    char fp[LF_FINGERPRINT_STR_LEN];
    check(lf_pubkey_from_pem(pem, strlen(pem), &offered, &err), "offered key", &err);
    check(lf_pubkey_fingerprint(offered, fp, &err), "fingerprint", &err);
    if (strcmp(fp, pinned) != 0)
        die("v3", "the server offered a key that is not the pinned customer key");
    uint8_t session_key[32];
    lf_buf wrapped = LF_BUF_INIT;
    check(lf_random(session_key, 32, &err), "random", &err);
    check(lf_rsa_wrap(offered, session_key, 32, &wrapped, &err), "wrap", &err);
    char *b64 = malloc(lf_base64_encoded_len(wrapped.len, false) + 1);
    b64[lf_base64_encode(wrapped.data, wrapped.len, b64, false)] = '\0';
    json_t *hc = call_json("/v1/handshake/complete",
                           json_pack("{s:s, s:s}", "api_key", g.api_key, "encrypted_secret", b64));
    free(b64);
    d = json_object_get(hc, "data") ? json_object_get(hc, "data") : hc;
    const char *key_id = json_string_value(json_object_get(d, "key_id"));
    if (key_id == NULL)
        key_id = json_string_value(json_object_get(hc, "key_id"));
    if (key_id == NULL)
        die("handshake", "no key_id");
    lf_v3_sealer *sealer = NULL;
    check(lf_v3_sealer_new(session_key, key_id, LF_GZIP_LEVEL_DEFAULT, &sealer, &err), "sealer",
          &err);
    lf_wipe(session_key, sizeof session_key);
    /* at most 1000 parts per request */
    for (size_t i = 0; i < e->n; i += 1000) {
        lf_mp_builder mp;
        lf_buf part = LF_BUF_INIT;
        check(lf_mp_builder_init(&mp, LF_MP_TYPESCRIPT, NULL, NULL, &err), "multipart", &err);
        for (size_t k = i; k < e->n && k < i + 1000; k++) {
            lf_v3_headers h;
            lf_buf_reset(&part);
            check(lf_v3_seal_json(sealer, e->type[k], e->ts[k], e->json[k].data, e->json[k].len,
                                  NULL, &part, &h, &err),
                  "v3 seal", &err);
            check(lf_mp_builder_add(&mp, &h, NULL, 0, part.data, part.len, &err), "part", &err);
        }
        check(lf_mp_builder_finish(&mp, &err), "multipart", &err);
        char auth[512], ct[300];
        snprintf(auth, sizeof auth, "Authorization: Bearer %s", g.api_key);
        snprintf(ct, sizeof ct, "Content-Type: %s", mp.content_type);
        const char *headers[] = {auth, ct, "User-Agent: logflux-js-sdk/3.0.1", NULL};
        long status = 0;
        json_t *j = http("/v1/ingest", headers, mp.body.data, mp.body.len, &status);
        expect_ok(j, status, 200, "v3 ingest");
        json_decref(j);
        lf_mp_builder_free(&mp);
        lf_buf_free(&part);
    }
    printf("v3: %zu entries under key %s sent\n", e->n, key_id);
    json_decref(hi);
    json_decref(hc);
    lf_v3_sealer_free(sealer);
    lf_buf_free(&wrapped);
    lf_pubkey_free(offered);
}

int main(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (i + 1 >= argc)
            die("usage", "every option takes a value");
        const char *v = argv[++i];
        if (strcmp(a, "--url") == 0)
            g.url = v;
        else if (strcmp(a, "--ca") == 0)
            g.ca = v;
        else if (strcmp(a, "--api-key") == 0)
            g.api_key = v;
        else if (strcmp(a, "--public-key") == 0)
            g.pubkey_path = v;
        else if (strcmp(a, "--tenant") == 0)
            g.tenant = v;
        else if (strcmp(a, "--app") == 0)
            g.app = v;
        else if (strcmp(a, "--format") == 0)
            g.format = v;
        else if (strcmp(a, "--count") == 0)
            g.count = strtol(v, NULL, 10);
        else if (strcmp(a, "--level") == 0)
            g.level = strtol(v, NULL, 10);
        else if (strcmp(a, "--ago") == 0)
            g.ago = strtol(v, NULL, 10);
        else if (strcmp(a, "--message-prefix") == 0)
            g.prefix = v;
        else if (strcmp(a, "--source") == 0)
            g.source = v;
        else if (strcmp(a, "--json-file") == 0)
            g.json_file = v;
        else if (strcmp(a, "--label") == 0) {
            char *eq = strchr(v, '=');
            if (eq == NULL || g.n_labels == MAX_LABELS)
                die("--label", "want k=v (at most 20)");
            *eq = '\0';
            g.labels[g.n_labels++] = (lf_kv){v, eq + 1};
        } else
            die("unknown option", a);
    }
    if (!g.url || !g.api_key || !g.pubkey_path || !g.app || g.count < 1 || g.count > 1000000 ||
        g.level < 1 || g.level > 8) {
        fprintf(stderr, "usage: lf-test-sender --url U --ca F --api-key K --public-key PEM "
                        "--tenant T --app A [--format native|v3|both] [--count N] [--level L] "
                        "[--label k=v] [--message-prefix P] [--source S] [--ago SECONDS] "
                        "[--json-file F]\n");
        return 2;
    }
    const char *hp = strstr(g.url, "://");
    snprintf(g.host, sizeof g.host, "%s", hp ? hp + 3 : g.url);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    lf_error err = {0};
    lf_buf pem = LF_BUF_INIT;
    FILE *f = fopen(g.pubkey_path, "r");
    if (f == NULL)
        die("open", g.pubkey_path);
    char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        lf_buf_append(&pem, chunk, n);
    fclose(f);
    lf_pubkey *pub = NULL;
    char fp[LF_FINGERPRINT_STR_LEN];
    check(lf_pubkey_from_pem((const char *)pem.data, pem.len, &pub, &err), "public key", &err);
    check(lf_pubkey_fingerprint(pub, fp, &err), "fingerprint", &err);
    entries e = {0};
    make_entries(&e);
    bool native = strcmp(g.format, "native") == 0 || strcmp(g.format, "both") == 0;
    bool v3 = strcmp(g.format, "v3") == 0 || strcmp(g.format, "both") == 0;
    if (!native && !v3)
        die("--format", "native, v3 or both");
    if (native)
        send_native(&e, pub);
    if (v3)
        send_v3(&e, fp);
    for (size_t i = 0; i < e.n; i++)
        lf_buf_free(&e.json[i]);
    free(e.json);
    free(e.ts);
    free(e.type);
    lf_pubkey_free(pub);
    lf_buf_free(&pem);
    curl_global_cleanup();
    return 0;
}

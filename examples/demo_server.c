/*
 * demo_server.c — LogFlux against a running logfluxd, the README's run command:
 *
 *   lf-demo-server --url https://127.0.0.1:PORT --ca CERT --token ADMIN_TOKEN --out DIR
 *
 * 1. the customer makes an RSA-4096 key pair and registers the public half (admin API);
 * 2. an agent-like sender pins that key by fingerprint and sends a zstd block of sealed
 *    entries in the native format, HMAC-signed;
 * 3. an SDK-like sender speaks the LogFlux v3 protocol: handshake (it checks the offered key
 *    against its pin), then one multipart request;
 * 4. the worker turns the spool into Parquet; the query API hands back ciphertext only;
 * 5. the customer's side fetches the wrapped session keys, unwraps them with the private key,
 *    rebuilds each native header from the stored columns (so a re-dated or moved record would
 *    not open) and prints the logs.
 * The messages are also written to DIR/messages.txt so the run script can search the server's
 * data directory for them.
 */
#include <curl/curl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "logflux/compress.h"
#include "logflux/credentials.h"
#include "logflux/crypto.h"
#include "logflux/multipart.h"
#include "logflux/native.h"
#include "logflux/payload.h"
#include "logflux/sign.h"
#include "logflux/timefmt.h"
#include "logflux/v3.h"

static const char *const native_messages[] = {
    "agent: user alice@example.com paid order 7731 with card ending 4242",
    "agent: payment provider timeout after 3000 ms, retrying order 7732",
    "agent: order 7733 shipped to 221B Baker Street, London",
};
static const char *const v3_messages[] = {
    "sdk: password reset requested for bob@example.com from 203.0.113.9",
    "sdk: nightly settlement batch finished: 1204 orders, 0 failures",
};
#define N_NATIVE (sizeof native_messages / sizeof *native_messages)
#define N_V3     (sizeof v3_messages / sizeof *v3_messages)

static struct {
    const char *url, *ca, *token, *out;
    char host[128];
} g;

static void die(const char *what, const char *detail)
{
    fprintf(stderr, "lf-demo-server: %s: %s\n", what, detail ? detail : "");
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

/* One HTTPS request; returns the parsed JSON answer (dies on transport errors). */
static json_t *http(const char *method, const char *path, const char *const *headers,
                    const void *body, size_t len, long *status)
{
    char url[512];
    snprintf(url, sizeof url, "%s%s", g.url, path);
    lf_buf answer = LF_BUF_INIT;
    struct curl_slist *h = NULL;
    for (size_t i = 0; headers && headers[i]; i++)
        h = curl_slist_append(h, headers[i]);
    CURL *c = curl_easy_init();
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CAINFO, g.ca);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &answer);
    if (body != NULL) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)len);
    }
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

static json_t *call(const char *method, const char *path, const char *bearer, json_t *body,
                    long want)
{
    char auth[256];
    snprintf(auth, sizeof auth, "Authorization: Bearer %s", bearer);
    const char *headers[] = {auth, "Content-Type: application/json", NULL};
    char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
    json_decref(body);
    long status = 0;
    json_t *j = http(method, path, headers, text, text ? strlen(text) : 0, &status);
    free(text);
    if (status != want) {
        char *dump = j ? json_dumps(j, 0) : NULL;
        fprintf(stderr, "lf-demo-server: %s %s answered %ld: %s\n", method, path, status,
                dump ? dump : "");
        exit(1);
    }
    return j;
}

static const char *field(json_t *j, const char *a, const char *b)
{
    json_t *x = json_object_get(j, a);
    return json_string_value(b ? json_object_get(x, b) : x);
}

static void make_json(const char *message, int level, int64_t ts, lf_buf *out)
{
    lf_payload p = {0};
    p.type = LF_ENTRY_LOG;
    p.source = "checkout-api";
    p.level = level;
    p.ts_ns = ts;
    p.log.message = message;
    lf_error err = {0};
    lf_buf_reset(out);
    check(lf_payload_encode(&p, out, &err), "encode", &err);
}

/* 2: the native sender. */
static void send_native(lf_pubkey *customer, const char *pinned, const char *api_key)
{
    lf_error err = {0};
    char fp[LF_FINGERPRINT_STR_LEN];
    check(lf_pubkey_fingerprint(customer, fp, &err), "fingerprint", &err);
    if (strcmp(fp, pinned) != 0)
        die("native sender", "the public key is not the pinned one");
    lf_native_session *s = NULL;
    lf_buf body = LF_BUF_INIT, jsons[N_NATIVE];
    lf_native_entry entries[N_NATIVE];
    int64_t now = lf_time_now_ns();
    check(lf_native_session_new(NULL, NULL, "acme", "checkout", &s, &err), "session", &err);
    check(lf_native_session_key_frame(s, customer, now, &body, &err), "key frame", &err);
    for (size_t i = 0; i < N_NATIVE; i++) {
        jsons[i] = (lf_buf)LF_BUF_INIT;
        make_json(native_messages[i], i == 1 ? 4 : 6, now + (int64_t)i, &jsons[i]);
        entries[i] = (lf_native_entry){jsons[i].data, jsons[i].len, now + (int64_t)i};
    }
    check(lf_native_seal_block(s, LF_ENTRY_LOG, entries, N_NATIVE, NULL, 0, true, &body, &err),
          "seal block", &err);
    check(lf_native_seal_close(s, now + 10, &body, &err), "close", &err);
    lf_sign_request req = {.method = "POST",
                           .path = "/v1/ingest",
                           .host = g.host,
                           .content_type = LF_NATIVE_CONTENT_TYPE,
                           .body = body.data,
                           .body_len = body.len};
    lf_buf authv = LF_BUF_INIT;
    check(lf_sign_authorization(api_key, strlen(api_key), &req, time(NULL), NULL, &authv, &err),
          "sign", &err);
    lf_buf_terminate(&authv);
    char auth[512];
    snprintf(auth, sizeof auth, "Authorization: %s", (char *)authv.data);
    const char *headers[] = {auth, "Content-Type: " LF_NATIVE_CONTENT_TYPE, NULL};
    long status = 0;
    json_t *j = http("POST", "/v1/ingest", headers, body.data, body.len, &status);
    if (status != 200)
        die("native ingest", json_dumps(j, 0));
    printf("2. native sender: key frame + zstd block of %zu sealed entries + close marker, "
           "HMAC-signed: %s\n",
           N_NATIVE, field(j, "message", NULL));
    json_decref(j);
    for (size_t i = 0; i < N_NATIVE; i++)
        lf_buf_free_secret(&jsons[i]);
    lf_buf_free(&authv);
    lf_buf_free(&body);
    lf_native_session_free(s);
}

/* 3: the v3 sender, as the official SDKs work (plus the pin they lack). */
static void send_v3(const char *pinned, const char *api_key)
{
    lf_error err = {0};
    json_t *hi =
        call("POST", "/v1/handshake/init", api_key, json_pack("{s:s}", "api_key", api_key), 200);
    const char *pem = field(hi, "public_key", NULL);
    lf_pubkey *offered = NULL;
    char fp[LF_FINGERPRINT_STR_LEN];
    check(lf_pubkey_from_pem(pem, strlen(pem), &offered, &err), "offered key", &err);
    check(lf_pubkey_fingerprint(offered, fp, &err), "fingerprint", &err);
    if (strcmp(fp, pinned) != 0)
        die("v3 sender", "the server offered a key that is not the pinned customer key");
    uint8_t session_key[32];
    lf_buf wrapped = LF_BUF_INIT;
    check(lf_random(session_key, 32, &err), "random", &err);
    check(lf_rsa_wrap(offered, session_key, 32, &wrapped, &err), "wrap", &err);
    char b64[1024];
    lf_base64_encode(wrapped.data, wrapped.len, b64, false);
    json_t *hc = call("POST", "/v1/handshake/complete", api_key,
                      json_pack("{s:s, s:s}", "api_key", api_key, "encrypted_secret", b64), 200);
    const char *key_id = field(hc, "key_id", NULL);
    lf_v3_sealer *sealer = NULL;
    lf_mp_builder mp;
    lf_buf json = LF_BUF_INIT, part = LF_BUF_INIT;
    check(lf_v3_sealer_new(session_key, key_id, LF_GZIP_LEVEL_DEFAULT, &sealer, &err), "sealer",
          &err);
    lf_wipe(session_key, sizeof session_key);
    check(lf_mp_builder_init(&mp, LF_MP_TYPESCRIPT, NULL, NULL, &err), "multipart", &err);
    int64_t now = lf_time_now_ns();
    for (size_t i = 0; i < N_V3; i++) {
        lf_v3_headers h;
        make_json(v3_messages[i], 6, now + (int64_t)i, &json);
        lf_buf_reset(&part);
        check(lf_v3_seal_json(sealer, LF_ENTRY_LOG, now + (int64_t)i, json.data, json.len, NULL,
                              &part, &h, &err),
              "v3 seal", &err);
        check(lf_mp_builder_add(&mp, &h, NULL, 0, part.data, part.len, &err), "part", &err);
    }
    check(lf_mp_builder_finish(&mp, &err), "multipart", &err);
    char auth[256], ct[300];
    snprintf(auth, sizeof auth, "Authorization: Bearer %s", api_key);
    snprintf(ct, sizeof ct, "Content-Type: %s", mp.content_type);
    const char *headers[] = {auth, ct, "User-Agent: logflux-js-sdk/3.0.1", NULL};
    long status = 0;
    json_t *j = http("POST", "/v1/ingest", headers, mp.body.data, mp.body.len, &status);
    if (status != 200)
        die("v3 ingest", json_dumps(j, 0));
    printf("3. v3 sender: handshake (offered key matches the pin), key id %s, multipart of %zu "
           "parts: %s\n",
           key_id, N_V3, field(j, "message", NULL));
    json_decref(j);
    json_decref(hi);
    json_decref(hc);
    lf_mp_builder_free(&mp);
    lf_v3_sealer_free(sealer);
    lf_buf_free_secret(&json);
    lf_buf_free(&part);
    lf_buf_free(&wrapped);
    lf_pubkey_free(offered);
}

/* The session key of a row: fetch the wrapped key, unwrap it with the private key. */
static void session_key_for(const char *key_id, const char *read_token, const lf_privkey *priv,
                            uint8_t out[32])
{
    char path[128];
    snprintf(path, sizeof path, "/v1/keys/%s", key_id);
    json_t *k = call("GET", path, read_token, NULL, 200);
    json_t *data = json_object_get(k, "data");
    const char *w = json_string_value(json_object_get(data, "wrapped"));
    if (w == NULL)
        w = json_string_value(json_object_get(json_object_get(data, "key"), "wrapped"));
    lf_buf wrapped = LF_BUF_INIT, secret = LF_BUF_INIT;
    lf_error err = {0};
    if (w == NULL || lf_base64_decode(w, strlen(w), &wrapped, false, &err) != LF_OK)
        die("wrapped key", json_dumps(k, 0));
    check(lf_rsa_unwrap(priv, wrapped.data, wrapped.len, &secret, &err), "unwrap", &err);
    memcpy(out, secret.data, 32);
    lf_buf_free_secret(&secret);
    lf_buf_free(&wrapped);
    json_decref(k);
}

static lf_buf b64field(json_t *row, const char *name)
{
    lf_buf b = LF_BUF_INIT;
    const char *s = json_string_value(json_object_get(row, name));
    if (s == NULL || lf_base64_decode(s, strlen(s), &b, false, NULL) != LF_OK)
        die("row field", name);
    return b;
}

static void print_json_entry(const char *origin, const uint8_t *json, size_t len)
{
    lf_payload *p = NULL;
    lf_error err = {0};
    check(lf_payload_decode(json, len, 0, 0, &p, &err), "decode", &err);
    char ts[LF_RFC3339_MAX];
    lf_rfc3339_format(p->ts_ns, ts);
    printf("   %-6s %s level %d %s: %s\n", origin, ts, p->level, p->source, p->log.message);
    lf_payload_free(p);
}

/* Open a native row, its header rebuilt from the stored columns. */
static void open_native_row(json_t *row, const uint8_t key[32])
{
    lf_native_header h;
    memset(&h, 0, sizeof h);
    h.kind = (uint8_t)json_integer_value(json_object_get(row, "kind"));
    h.entry_type = (uint8_t)json_integer_value(json_object_get(row, "entry_type"));
    h.flags = (uint8_t)json_integer_value(json_object_get(row, "flags"));
    const char *kid = json_string_value(json_object_get(row, "key_id"));
    lf_hex_decode(kid, strlen(kid), h.key_id, sizeof h.key_id, NULL);
    h.sequence = (uint64_t)json_integer_value(json_object_get(row, "sequence"));
    h.ts_min = json_integer_value(json_object_get(row, "ts"));
    h.ts_max = json_integer_value(json_object_get(row, "ts_max"));
    h.count = (uint32_t)json_integer_value(json_object_get(row, "count"));
    lf_buf nonce = b64field(row, "nonce"), tokens = b64field(row, "search_tokens"),
           body = b64field(row, "ciphertext");
    memcpy(h.nonce, nonce.data, sizeof h.nonce);
    snprintf(h.tenant, sizeof h.tenant, "%s", json_string_value(json_object_get(row, "tenant")));
    snprintf(h.app, sizeof h.app, "%s", json_string_value(json_object_get(row, "app")));
    h.token_count = (uint16_t)(tokens.len / LF_NATIVE_TOKEN_LEN);
    h.tokens = tokens.data;
    h.body_len = (uint32_t)body.len;
    lf_buf header = LF_BUF_INIT;
    lf_native_opener *o = NULL;
    lf_native_opened opened = {0};
    lf_error err = {0};
    check(lf_native_header_encode(&h, &header, &err), "header", &err);
    check(lf_native_opener_new(key, h.key_id, &o, &err), "opener", &err);
    check(lf_native_open_parts(o, &h, header.data, header.len, body.data, body.len, &opened, &err),
          "open (a tampered record would stop here)", &err);
    if (h.kind == LF_NATIVE_CLOSE)
        printf("   native close marker: %u frame(s) were sealed under key %.8s…\n", h.count, kid);
    for (size_t i = 0; i < opened.count; i++)
        print_json_entry("native", opened.entries[i].data, opened.entries[i].len);
    lf_native_opened_free(&opened);
    lf_native_opener_free(o);
    lf_buf_free(&header);
    lf_buf_free(&nonce);
    lf_buf_free(&tokens);
    lf_buf_free(&body);
}

static void open_v3_row(json_t *row, const uint8_t key[32])
{
    lf_buf nonce = b64field(row, "nonce"), body = b64field(row, "ciphertext"), json = LF_BUF_INIT;
    lf_error err = {0};
    check(lf_v3_open_json(key, nonce.data, body.data, body.len, &json, &err), "v3 open", &err);
    print_json_entry("v3", json.data, json.len);
    lf_buf_free_secret(&json);
    lf_buf_free(&nonce);
    lf_buf_free(&body);
}

/* 4-5: wait for the worker, then read everything back and decrypt it here. */
static void read_back(const char *read_token, const lf_privkey *priv)
{
    json_t *q = NULL, *rows = NULL;
    for (int attempt = 0; attempt < 100; attempt++) {
        json_decref(q);
        q = call("GET", "/v1/query?app=checkout&order=asc&from=0&limit=1000", read_token, NULL,
                 200);
        rows = json_object_get(json_object_get(q, "data"), "rows");
        if (json_array_size(rows) >= 3) /* native block + close + v3 parts arrive together */
            break;
        usleep(200000);
    }
    printf("4. server: the worker wrote Parquet; the query API returned %zu rows of ciphertext\n",
           json_array_size(rows));
    printf("5. customer: unwrap each session key with the private key, open, print\n");
    size_t i;
    json_t *row;
    json_array_foreach(rows, i, row)
    {
        uint8_t key[32];
        session_key_for(json_string_value(json_object_get(row, "key_id")), read_token, priv, key);
        if (json_integer_value(json_object_get(row, "format")) == 2)
            open_native_row(row, key);
        else
            open_v3_row(row, key);
        lf_wipe(key, sizeof key);
    }
    json_decref(q);
}

int main(int argc, char **argv)
{
    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--url") == 0)
            g.url = argv[i + 1];
        else if (strcmp(argv[i], "--ca") == 0)
            g.ca = argv[i + 1];
        else if (strcmp(argv[i], "--token") == 0)
            g.token = argv[i + 1];
        else if (strcmp(argv[i], "--out") == 0)
            g.out = argv[i + 1];
    }
    if (!g.url || !g.ca || !g.token || !g.out) {
        fprintf(stderr, "usage: lf-demo-server --url URL --ca CERT --token ADMIN --out DIR\n");
        return 2;
    }
    const char *hp = strstr(g.url, "://");
    snprintf(g.host, sizeof g.host, "%s", hp ? hp + 3 : g.url);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    lf_error err = {0};

    printf("1. customer: RSA-4096 key pair (private key stays here), registered with the "
           "server\n");
    lf_privkey *priv = NULL;
    lf_pubkey *pub = NULL;
    lf_buf pem = LF_BUF_INIT;
    char fp[LF_FINGERPRINT_STR_LEN];
    check(lf_privkey_generate(LF_RSA_BITS, &priv, &err), "keygen", &err);
    check(lf_privkey_public(priv, &pub, &err), "public", &err);
    check(lf_pubkey_to_pem(pub, &pem, &err), "pem", &err);
    check(lf_pubkey_fingerprint(pub, fp, &err), "fingerprint", &err);
    json_decref(call("POST", "/v1/admin/public-keys", g.token,
                     json_pack("{s:s}", "public_key", (char *)pem.data), 201));
    json_decref(
        call("POST", "/v1/admin/apps", g.token, json_pack("{s:s}", "name", "checkout"), 201));
    json_t *k =
        call("POST", "/v1/admin/api-keys", g.token, json_pack("{s:s}", "app", "checkout"), 201);
    json_t *t = call("POST", "/v1/admin/tokens", g.token, json_pack("{s:s}", "scope", "read"), 201);
    char api_key[128], read_token[128];
    snprintf(api_key, sizeof api_key, "%s", field(k, "data", "api_key"));
    snprintf(read_token, sizeof read_token, "%s", field(t, "data", "token"));
    json_decref(k);
    json_decref(t);
    printf("   fingerprint %s; app 'checkout', an API key and a read token created\n", fp);

    send_native(pub, fp, api_key);
    send_v3(fp, api_key);
    read_back(read_token, priv);

    char path[4096];
    snprintf(path, sizeof path, "%s/messages.txt", g.out);
    FILE *f = fopen(path, "w");
    for (size_t i = 0; f && i < N_NATIVE; i++)
        fprintf(f, "%s\n", native_messages[i]);
    for (size_t i = 0; f && i < N_V3; i++)
        fprintf(f, "%s\n", v3_messages[i]);
    if (f)
        fclose(f);
    lf_wipe(api_key, sizeof api_key);
    lf_wipe(read_token, sizeof read_token);
    lf_buf_free(&pem);
    lf_pubkey_free(pub);
    lf_privkey_free(priv);
    curl_global_cleanup();
    return 0;
}

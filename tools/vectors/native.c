/*
 * native.c — lf-vectors subcommands for the native frame format and request signing
 * (docs/PROTOCOL.md §3).
 *
 *   gen-native DIR            writes DIR/native-frames.json and DIR/request-signing.json from
 *                             fixed keys, key id, nonces and timestamps (byte-exact)
 *   native-seal SPEC OUT      seals the frames described by the JSON file SPEC (session key,
 *                             key id, tenant, app, frames: entry/block/close with entries,
 *                             terms, zstd) with random nonces and writes the body to OUT
 *   native-open KEYHEX FILE   parses and opens a frames body, printing one JSON line per frame;
 *                             exit 1 (message on stderr) on the first failure
 *   sign SPEC                 prints {"string_to_sign","authorization"} for a request spec
 *   verify SPEC               verifies a signed request spec; prints OK or the error; exit 0/1
 *
 * The interop script (tests/interop/native.mjs) recomputes the vectors with node:crypto and
 * exchanges frames and signatures with these subcommands in both directions.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zstd.h>

#include "cmds.h"
#include "logflux/buf.h"
#include "logflux/crypto.h"
#include "logflux/native.h"
#include "logflux/sign.h"

/* ---------------- small helpers ---------------- */

static int fail(const char *what, const lf_error *err)
{
    fprintf(stderr, "lf-vectors: %s: %s\n", what, err != NULL ? err->message : "failed");
    return 1;
}

static char *hex_of(const uint8_t *p, size_t len)
{
    char *s = malloc(2 * len + 1);
    if (s == NULL) {
        fprintf(stderr, "out of memory\n");
        exit(1);
    }
    lf_hex_encode(p, len, s);
    return s;
}

static json_t *jhex(const uint8_t *p, size_t len)
{
    char *s = hex_of(p, len);
    json_t *j = json_string(s);
    free(s);
    return j;
}

static json_t *ji64(int64_t v)
{
    char s[32];
    snprintf(s, sizeof s, "%lld", (long long)v);
    return json_string(s);
}

static int hex_field(json_t *obj, const char *key, uint8_t *out, size_t len)
{
    const char *s = json_string_value(json_object_get(obj, key));
    if (s == NULL || strlen(s) != 2 * len || lf_hex_decode(s, 2 * len, out, len, NULL) != LF_OK) {
        fprintf(stderr, "lf-vectors: field %s: need %zu hex bytes\n", key, len);
        return 1;
    }
    return 0;
}

static int64_t i64_field(json_t *obj, const char *key)
{
    json_t *v = json_object_get(obj, key);
    if (json_is_integer(v))
        return (int64_t)json_integer_value(v);
    if (json_is_string(v))
        return (int64_t)strtoll(json_string_value(v), NULL, 10);
    return 0;
}

static int write_file(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    if (f == NULL || fwrite(data, 1, len, f) != len || fclose(f) != 0) {
        fprintf(stderr, "lf-vectors: cannot write %s\n", path);
        return 1;
    }
    return 0;
}

static int read_file(const char *path, lf_buf *out)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        fprintf(stderr, "lf-vectors: cannot open %s\n", path);
        return 1;
    }
    uint8_t chunk[65536];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        if (lf_buf_append(out, chunk, n) != LF_OK) {
            fclose(f);
            return 1;
        }
    fclose(f);
    return 0;
}

static int dump_json(json_t *root, const char *dir, const char *name)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    if (json_dump_file(root, path, JSON_INDENT(2) | JSON_PRESERVE_ORDER) != 0) {
        fprintf(stderr, "lf-vectors: cannot write %s\n", path);
        return 1;
    }
    /* json_dump_file leaves no final newline; add one so the file is a proper text file. */
    FILE *f = fopen(path, "ab");
    if (f == NULL || fputc('\n', f) == EOF || fclose(f) != 0)
        return 1;
    return 0;
}

/* ---------------- native-frames.json ---------------- */

static const uint8_t vec_session_key[32] = {
    0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f,
    0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f};
static const uint8_t vec_key_id[16] = {0xa0, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7,
                                       0xa8, 0xa9, 0xaa, 0xab, 0xac, 0xad, 0xae, 0xaf};
#define VEC_TENANT "acme-corp"
#define VEC_APP    "checkout.api"
#define VEC_T0     INT64_C(1795834800123456789) /* 2026-11-28T03:00:00.123456789Z */

static const char *const vec_json[] = {
    "{\"v\":\"2.0\",\"type\":\"log\",\"source\":\"checkout\",\"level\":4,"
    "\"ts\":\"2026-11-28T03:00:00.123456789Z\",\"message\":\"payment failed: card declined\"}",
    "{\"v\":\"2.0\",\"type\":\"log\",\"source\":\"checkout\",\"level\":7,"
    "\"ts\":\"2026-11-28T03:00:01.000000001Z\",\"message\":\"order accepted\"}",
    "{\"v\":\"2.0\",\"type\":\"log\",\"source\":\"checkout\",\"level\":6,"
    "\"ts\":\"2026-11-28T03:00:00.500000000Z\",\"message\":\"retrying payment provider\"}",
};
static const int64_t vec_ts[] = {VEC_T0, VEC_T0 + 876543212, VEC_T0 + 376543211};

static json_t *entries_json(const lf_native_entry *e, size_t n)
{
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++) {
        json_t *o = json_object();
        json_object_set_new(o, "ts", ji64(e[i].ts));
        json_object_set_new(o, "json", json_stringn(e[i].json, e[i].len));
        json_array_append_new(arr, o);
    }
    return arr;
}

/* Seal `pt` under a header with a fixed nonce and describe the frame. */
static json_t *vec_frame(lf_aead *enc, const char *name, lf_native_header *h, const char **terms,
                         size_t nterms, const lf_native_entry *entries, size_t nentries,
                         const uint8_t *pt, size_t pt_len)
{
    lf_buf frame = LF_BUF_INIT;
    lf_error err = {0};
    if (lf_native_seal_raw(enc, h, pt, pt_len, &frame, &err) != LF_OK) {
        fail(name, &err);
        exit(1);
    }
    h->body_len = (uint32_t)(pt_len + LF_GCM_TAG_LEN);
    size_t header_len = lf_native_header_len(h);
    json_t *o = json_object();
    json_object_set_new(o, "name", json_string(name));
    json_object_set_new(o, "kind", json_integer(h->kind));
    json_object_set_new(o, "entry_type", json_integer(h->entry_type));
    json_object_set_new(o, "flags", json_integer(h->flags));
    json_object_set_new(o, "sequence", json_integer((json_int_t)h->sequence));
    json_object_set_new(o, "ts_min", ji64(h->ts_min));
    json_object_set_new(o, "ts_max", ji64(h->ts_max));
    json_object_set_new(o, "count", json_integer(h->count));
    json_object_set_new(o, "nonce", jhex(h->nonce, sizeof h->nonce));
    json_t *jt = json_array();
    for (size_t i = 0; i < nterms; i++)
        json_array_append_new(jt, json_string(terms[i]));
    json_object_set_new(o, "terms", jt);
    json_object_set_new(o, "entries", entries_json(entries, nentries));
    json_object_set_new(o, "plaintext", jhex(pt, pt_len));
    json_object_set_new(o, "header", jhex(frame.data, header_len));
    json_object_set_new(o, "frame", jhex(frame.data, frame.len));
    lf_buf_free(&frame);
    return o;
}

static void block_plain(const lf_native_entry *e, size_t n, lf_buf *out)
{
    for (size_t i = 0; i < n; i++) {
        lf_buf_append_be32(out, (uint32_t)e[i].len);
        lf_buf_append(out, e[i].json, e[i].len);
    }
}

static void zstd_of(const lf_buf *in, lf_buf *out)
{
    size_t bound = ZSTD_compressBound(in->len);
    lf_buf_reserve(out, bound);
    size_t n = ZSTD_compress(out->data, bound, in->data, in->len, 3);
    if (ZSTD_isError(n)) {
        fprintf(stderr, "zstd failed\n");
        exit(1);
    }
    out->len = n;
}

static void base_header(lf_native_header *h, uint8_t kind, uint8_t entry_type, uint8_t flags,
                        uint64_t seq, uint8_t nonce_byte)
{
    memset(h, 0, sizeof *h);
    h->kind = kind;
    h->entry_type = entry_type;
    h->flags = flags;
    memcpy(h->key_id, vec_key_id, sizeof vec_key_id);
    h->sequence = seq;
    for (size_t i = 0; i < sizeof h->nonce; i++)
        h->nonce[i] = (uint8_t)(nonce_byte + i);
    strcpy(h->tenant, VEC_TENANT);
    strcpy(h->app, VEC_APP);
}

static int gen_native_frames(const char *dir)
{
    lf_error err = {0};
    uint8_t enc_key[32], token_key[32];
    if (lf_native_derive_keys(vec_session_key, vec_key_id, enc_key, token_key, &err) != LF_OK)
        return fail("derive", &err);
    lf_aead *enc = NULL;
    if (lf_aead_new(enc_key, &enc, &err) != LF_OK)
        return fail("aead", &err);

    json_t *root = json_object();
    json_object_set_new(root, "description",
                        json_string("LogFlux native v1 frames (docs/PROTOCOL.md §3). Timestamps "
                                    "are decimal strings of signed Unix nanoseconds. 'plaintext' "
                                    "is exactly what is sealed (the zstd bytes for flags=1)."));
    json_object_set_new(root, "session_key", jhex(vec_session_key, 32));
    json_object_set_new(root, "key_id", jhex(vec_key_id, 16));
    json_object_set_new(root, "tenant", json_string(VEC_TENANT));
    json_object_set_new(root, "app", json_string(VEC_APP));
    json_object_set_new(root, "enc_key", jhex(enc_key, 32));
    json_object_set_new(root, "token_key", jhex(token_key, 32));

    const char *terms[] = {"payment", "Declined", "ORDER-42", "checkout", "Grüße"};
    uint8_t tokens[5][16];
    json_t *jtok = json_array();
    for (size_t i = 0; i < 5; i++) {
        if (lf_native_token(token_key, terms[i], strlen(terms[i]), tokens[i], &err) != LF_OK)
            return fail("token", &err);
        json_t *o = json_object();
        json_object_set_new(o, "term", json_string(terms[i]));
        json_object_set_new(o, "token", jhex(tokens[i], 16));
        json_array_append_new(jtok, o);
    }
    json_object_set_new(root, "tokens", jtok);

    lf_native_entry e[3];
    for (size_t i = 0; i < 3; i++) {
        e[i].json = vec_json[i];
        e[i].len = strlen(vec_json[i]);
        e[i].ts = vec_ts[i];
    }
    json_t *frames = json_array();
    lf_native_header h;
    lf_buf pt = LF_BUF_INIT, z = LF_BUF_INIT;

    /* 0: single entry, uncompressed, two tokens. */
    base_header(&h, LF_NATIVE_ENTRY, 1, 0, 0, 0x10);
    h.ts_min = h.ts_max = e[0].ts;
    h.count = 1;
    h.token_count = 2;
    h.tokens = &tokens[0][0];
    json_array_append_new(frames, vec_frame(enc, "entry", &h, terms, 2, &e[0], 1,
                                            (const uint8_t *)e[0].json, e[0].len));
    /* 1: single entry, zstd, no tokens. */
    base_header(&h, LF_NATIVE_ENTRY, 1, LF_NATIVE_FLAG_ZSTD, 1, 0x20);
    h.ts_min = h.ts_max = e[1].ts;
    h.count = 1;
    lf_buf_append(&pt, e[1].json, e[1].len);
    zstd_of(&pt, &z);
    json_array_append_new(frames,
                          vec_frame(enc, "entry-zstd", &h, NULL, 0, &e[1], 1, z.data, z.len));
    /* 2: block of 3, uncompressed, three tokens. */
    lf_buf_reset(&pt);
    lf_buf_reset(&z);
    block_plain(e, 3, &pt);
    base_header(&h, LF_NATIVE_BLOCK, 1, 0, 2, 0x30);
    h.ts_min = VEC_T0;
    h.ts_max = VEC_T0 + 876543212;
    h.count = 3;
    h.token_count = 3;
    h.tokens = &tokens[2][0];
    json_array_append_new(frames, vec_frame(enc, "block", &h, terms + 2, 3, e, 3, pt.data, pt.len));
    /* 3: block of 3, zstd, entry type 5 (audit). */
    zstd_of(&pt, &z);
    base_header(&h, LF_NATIVE_BLOCK, 5, LF_NATIVE_FLAG_ZSTD, 3, 0x40);
    h.ts_min = VEC_T0;
    h.ts_max = VEC_T0 + 876543212;
    h.count = 3;
    json_array_append_new(frames, vec_frame(enc, "block-zstd", &h, NULL, 0, e, 3, z.data, z.len));
    /* 4: close after 4 frames. */
    base_header(&h, LF_NATIVE_CLOSE, 0, 0, 4, 0x50);
    h.count = 4;
    h.ts_min = h.ts_max = VEC_T0 + 2000000000;
    json_array_append_new(frames, vec_frame(enc, "close", &h, NULL, 0, NULL, 0, NULL, 0));
    json_object_set_new(root, "frames", frames);

    /* Key frame: fixed fingerprint and fixed "wrapped" bytes (OAEP is randomized). */
    uint8_t fp[32], wrapped[512];
    for (size_t i = 0; i < sizeof fp; i++)
        fp[i] = (uint8_t)(0xf0 ^ i);
    for (size_t i = 0; i < sizeof wrapped; i++)
        wrapped[i] = (uint8_t)(i * 7 + 3);
    lf_buf kf = LF_BUF_INIT;
    int64_t created = VEC_T0 - 1000000000;
    if (lf_native_key_frame_encode(vec_key_id, VEC_TENANT, VEC_APP, created, fp, wrapped,
                                   sizeof wrapped, &kf, &err) != LF_OK)
        return fail("key frame", &err);
    json_t *k = json_object();
    json_object_set_new(k, "name", json_string("key"));
    json_object_set_new(k, "created", ji64(created));
    json_object_set_new(k, "fingerprint", jhex(fp, sizeof fp));
    json_object_set_new(k, "wrapped", jhex(wrapped, sizeof wrapped));
    json_object_set_new(k, "header", jhex(kf.data, kf.len - 32 - sizeof wrapped));
    json_object_set_new(k, "frame", jhex(kf.data, kf.len));
    json_object_set_new(root, "key_frame", k);

    int rc = dump_json(root, dir, "native-frames.json");
    json_decref(root);
    lf_buf_free(&pt);
    lf_buf_free(&z);
    lf_buf_free(&kf);
    lf_aead_free(enc);
    return rc;
}

/* ---------------- request-signing.json ---------------- */

struct sign_case {
    const char *name, *api_key, *method, *path, *query, *host, *content_type, *idem, *body;
    int64_t timestamp;
    const char *nonce;
};

static const struct sign_case sign_cases[] = {
    {"ingest-native", "eu-lf_0123456789abcdef_Q2hvb3NlIGEgcmFuZG9tIHNlY3JldCBvZiAzMiBieXQ", "POST",
     "/v1/ingest", NULL, "ingest.eu.logflux.example", LF_NATIVE_CONTENT_TYPE, "batch-000000000001",
     "LFN1 pretend frames", 1795834800, "AAECAwQFBgcICQoLDA0ODw"},
    {"get-with-query", "us-lf_fedcba9876543210_Q2hvb3NlIGEgcmFuZG9tIHNlY3JldCBvZiAzMiBieXQ", "get",
     "/v1/query/logs", "from=2026-11-28T00%3A00%3A00Z&limit=100&app=checkout.api",
     "API.US.LogFlux.Example:8443", NULL, NULL, NULL, 1795834801, "_-_-_-_-_-_-_-_-_-_-_w"},
    {"pat-admin", "ca-lf_usr_00112233445566aa_bGV0IHVzIHNheSB0aGlzIGlzIGEgcmFuZG9tIHNlY3I",
     "DELETE", "/v1/apps/checkout.api", "", "api.ca.logflux.example", "application/json", NULL,
     "{}", 1700000000, "ZmVkY2JhOTg3NjU0MzIxMA"},
    {"legacy-key", "lf_0123456789abcdef_Q2hvb3NlIGEgcmFuZG9tIHNlY3JldCBvZiAzMiBieXQ", "POST",
     "/v1/ingest", NULL, "localhost", "multipart/mixed; boundary=abc", NULL, "--abc--\r\n",
     1795834802, "MDEyMzQ1Njc4OWFiY2RlZg"},
    {"legacy-opaque", "lf_ThisIsAnOpaqueLegacyKey_with-dashes", "PUT", "/v1/keys/x%20y", "a=1",
     "127.0.0.1:8080", NULL, "idem_key-1234567890", "", 0, "AAAAAAAAAAAAAAAAAAAAAA"},
};

static void req_of(const struct sign_case *c, lf_sign_request *r)
{
    memset(r, 0, sizeof *r);
    r->method = c->method;
    r->path = c->path;
    r->query = c->query;
    r->host = c->host;
    r->content_type = c->content_type;
    r->idempotency_key = c->idem;
    r->body = c->body;
    r->body_len = c->body != NULL ? strlen(c->body) : 0;
}

static json_t *jstr_or_null(const char *s)
{
    return s != NULL ? json_string(s) : json_null();
}

static int gen_request_signing(const char *dir)
{
    json_t *root = json_object();
    json_object_set_new(root, "description",
                        json_string("LF-HMAC-SHA256 request signing (docs/PROTOCOL.md §3.6). "
                                    "null = field absent; body is UTF-8 text here."));
    json_t *cases = json_array();
    for (size_t i = 0; i < sizeof sign_cases / sizeof *sign_cases; i++) {
        const struct sign_case *c = &sign_cases[i];
        lf_sign_request r;
        req_of(c, &r);
        lf_error err = {0};
        lf_buf sts = LF_BUF_INIT, auth = LF_BUF_INIT;
        uint8_t key[32], sig[32], body_hash[32];
        if (lf_sign_string_to_sign(&r, c->timestamp, c->nonce, &sts, &err) != LF_OK ||
            lf_sign_derive_key(c->api_key, strlen(c->api_key), key, &err) != LF_OK ||
            lf_sign_compute(key, &r, c->timestamp, c->nonce, sig, &err) != LF_OK ||
            lf_sign_authorization(c->api_key, strlen(c->api_key), &r, c->timestamp, c->nonce, &auth,
                                  &err) != LF_OK ||
            lf_sha256(r.body, r.body_len, body_hash, &err) != LF_OK)
            return fail(c->name, &err);
        json_t *o = json_object();
        json_object_set_new(o, "name", json_string(c->name));
        json_object_set_new(o, "api_key", json_string(c->api_key));
        json_object_set_new(o, "method", json_string(c->method));
        json_object_set_new(o, "path", json_string(c->path));
        json_object_set_new(o, "query", jstr_or_null(c->query));
        json_object_set_new(o, "host", json_string(c->host));
        json_object_set_new(o, "content_type", jstr_or_null(c->content_type));
        json_object_set_new(o, "idempotency_key", jstr_or_null(c->idem));
        json_object_set_new(o, "body", json_string(c->body != NULL ? c->body : ""));
        json_object_set_new(o, "body_sha256", jhex(body_hash, 32));
        json_object_set_new(o, "timestamp", json_integer(c->timestamp));
        json_object_set_new(o, "nonce", json_string(c->nonce));
        json_object_set_new(o, "string_to_sign", json_stringn((char *)sts.data, sts.len));
        json_object_set_new(o, "signing_key", jhex(key, 32));
        json_object_set_new(o, "signature", jhex(sig, 32));
        json_object_set_new(o, "authorization", json_string((char *)auth.data));
        json_array_append_new(cases, o);
        lf_buf_free(&sts);
        lf_buf_free(&auth);
    }
    json_object_set_new(root, "cases", cases);
    int rc = dump_json(root, dir, "request-signing.json");
    json_decref(root);
    return rc;
}

static int cmd_gen(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: gen-native DIR\n");
        return 2;
    }
    return gen_native_frames(argv[1]) || gen_request_signing(argv[1]);
}

/* ---------------- interop: seal / open ---------------- */

static int cmd_seal(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: native-seal SPEC.json OUT\n");
        return 2;
    }
    json_error_t jerr;
    json_t *spec = json_load_file(argv[1], 0, &jerr);
    if (spec == NULL) {
        fprintf(stderr, "lf-vectors: %s: %s\n", argv[1], jerr.text);
        return 1;
    }
    uint8_t key[32], key_id[16];
    if (hex_field(spec, "session_key", key, 32) || hex_field(spec, "key_id", key_id, 16))
        return 1;
    lf_error err = {0};
    lf_native_session *s = NULL;
    if (lf_native_session_new(key, key_id, json_string_value(json_object_get(spec, "tenant")),
                              json_string_value(json_object_get(spec, "app")), &s, &err) != LF_OK)
        return fail("session", &err);
    lf_buf out = LF_BUF_INIT;
    int rc = 0;
    size_t fi;
    json_t *fr;
    json_array_foreach(json_object_get(spec, "frames"), fi, fr)
    {
        const char *kind = json_string_value(json_object_get(fr, "kind"));
        if (kind != NULL && strcmp(kind, "close") == 0) {
            if (lf_native_seal_close(s, i64_field(fr, "ts"), &out, &err) != LF_OK)
                rc = fail("close", &err);
            continue;
        }
        json_t *terms = json_object_get(fr, "terms");
        size_t nt = json_array_size(terms);
        uint8_t *tokens = calloc(nt + 1, 16);
        for (size_t i = 0; i < nt && rc == 0; i++) {
            const char *t = json_string_value(json_array_get(terms, i));
            if (lf_native_session_token(s, t, strlen(t), tokens + 16 * i, &err) != LF_OK)
                rc = fail("token", &err);
        }
        json_t *je = json_object_get(fr, "entries");
        size_t ne = json_array_size(je);
        lf_native_entry *e = calloc(ne + 1, sizeof *e);
        for (size_t i = 0; i < ne; i++) {
            json_t *x = json_array_get(je, i);
            e[i].json = json_string_value(json_object_get(x, "json"));
            e[i].len = json_string_length(json_object_get(x, "json"));
            e[i].ts = i64_field(x, "ts");
        }
        uint8_t type = (uint8_t)json_integer_value(json_object_get(fr, "entry_type"));
        bool z = json_is_true(json_object_get(fr, "zstd"));
        lf_err r = LF_OK;
        if (rc == 0 && kind != NULL && strcmp(kind, "entry") == 0)
            r = lf_native_seal_entry(s, type, &e[0], tokens, nt, z, &out, &err);
        else if (rc == 0)
            r = lf_native_seal_block(s, type, e, ne, tokens, nt, z, &out, &err);
        if (r != LF_OK)
            rc = fail("seal", &err);
        free(e);
        free(tokens);
    }
    if (rc == 0)
        rc = write_file(argv[2], out.data, out.len);
    lf_buf_free(&out);
    lf_native_session_free(s);
    lf_wipe(key, sizeof key);
    json_decref(spec);
    return rc;
}

static int cmd_open(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: native-open SESSIONKEYHEX FRAMESFILE\n");
        return 2;
    }
    uint8_t key[32];
    if (strlen(argv[1]) != 64 || lf_hex_decode(argv[1], 64, key, 32, NULL) != LF_OK) {
        fprintf(stderr, "lf-vectors: session key must be 64 hex digits\n");
        return 2;
    }
    lf_buf body = LF_BUF_INIT;
    if (read_file(argv[2], &body))
        return 1;
    lf_native_reader r;
    lf_native_frame f;
    lf_native_opened opened = {0};
    lf_error err = {0};
    lf_err rc;
    int status = 0;
    lf_native_reader_init(&r, body.data, body.len);
    while (status == 0 && (rc = lf_native_reader_next(&r, &f, &err)) == LF_OK) {
        json_t *o = json_object();
        json_object_set_new(o, "index", json_integer((json_int_t)f.index));
        json_object_set_new(o, "kind", json_integer(f.hdr.kind));
        json_object_set_new(o, "entry_type", json_integer(f.hdr.entry_type));
        json_object_set_new(o, "flags", json_integer(f.hdr.flags));
        json_object_set_new(o, "key_id", jhex(f.hdr.key_id, 16));
        json_object_set_new(o, "sequence", json_integer((json_int_t)f.hdr.sequence));
        json_object_set_new(o, "ts_min", ji64(f.hdr.ts_min));
        json_object_set_new(o, "ts_max", ji64(f.hdr.ts_max));
        json_object_set_new(o, "count", json_integer(f.hdr.count));
        json_object_set_new(o, "tenant", json_string(f.hdr.tenant));
        json_object_set_new(o, "app", json_string(f.hdr.app));
        json_t *tokens = json_array();
        for (size_t i = 0; i < f.hdr.token_count; i++)
            json_array_append_new(tokens, jhex(f.hdr.tokens + 16 * i, 16));
        json_object_set_new(o, "tokens", tokens);
        if (f.hdr.kind == LF_NATIVE_KEY) {
            const uint8_t *fp, *wr;
            size_t wl;
            lf_native_key_frame_parts(&f, &fp, &wr, &wl, NULL);
            json_object_set_new(o, "fingerprint", jhex(fp, 32));
            json_object_set_new(o, "wrapped", jhex(wr, wl));
        } else {
            lf_native_opener *op = NULL;
            if (lf_native_opener_new(key, f.hdr.key_id, &op, &err) != LF_OK ||
                lf_native_open(op, &f, &opened, &err) != LF_OK) {
                status = fail("open", &err);
            } else {
                json_t *entries = json_array();
                for (size_t i = 0; i < opened.count; i++)
                    json_array_append_new(
                        entries,
                        json_stringn((const char *)opened.entries[i].data, opened.entries[i].len));
                json_object_set_new(o, "entries", entries);
            }
            lf_native_opener_free(op);
        }
        if (status == 0) {
            char *line = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
            printf("%s\n", line);
            free(line);
        }
        json_decref(o);
    }
    if (status == 0 && rc != LF_ERR_NOT_FOUND)
        status = fail("parse", &err);
    lf_native_opened_free(&opened);
    lf_buf_free(&body);
    lf_wipe(key, sizeof key);
    return status;
}

/* ---------------- interop: sign / verify ---------------- */

static const char *opt_str(json_t *o, const char *key)
{
    return json_string_value(json_object_get(o, key)); /* NULL for null/absent */
}

static void req_from_json(json_t *o, lf_sign_request *r)
{
    memset(r, 0, sizeof *r);
    r->method = opt_str(o, "method");
    r->path = opt_str(o, "path");
    r->query = opt_str(o, "query");
    r->host = opt_str(o, "host");
    r->content_type = opt_str(o, "content_type");
    r->idempotency_key = opt_str(o, "idempotency_key");
    r->body = opt_str(o, "body");
    r->body_len = r->body != NULL ? json_string_length(json_object_get(o, "body")) : 0;
}

static int cmd_sign(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: sign SPEC.json\n");
        return 2;
    }
    json_error_t jerr;
    json_t *spec = json_load_file(argv[1], 0, &jerr);
    if (spec == NULL)
        return 1;
    lf_sign_request r;
    req_from_json(spec, &r);
    const char *api_key = opt_str(spec, "api_key");
    const char *nonce = opt_str(spec, "nonce"); /* NULL: fresh */
    int64_t ts = i64_field(spec, "timestamp");
    lf_buf auth = LF_BUF_INIT, sts = LF_BUF_INIT;
    lf_error err = {0};
    int rc = 0;
    if (api_key == NULL ||
        lf_sign_authorization(api_key, strlen(api_key), &r, ts, nonce, &auth, &err) != LF_OK)
        rc = fail("sign", &err);
    if (rc == 0) {
        /* Recover the nonce actually used from the header, to print the string to sign. */
        const char *n = strstr((char *)auth.data, "Nonce=");
        char used[LF_AUTH_NONCE_LEN + 1] = {0};
        if (n != NULL)
            memcpy(used, n + 6, LF_AUTH_NONCE_LEN);
        if (lf_sign_string_to_sign(&r, ts, used, &sts, &err) != LF_OK)
            rc = fail("string to sign", &err);
    }
    if (rc == 0) {
        json_t *o = json_object();
        json_object_set_new(o, "string_to_sign", json_stringn((char *)sts.data, sts.len));
        json_object_set_new(o, "authorization", json_string((char *)auth.data));
        char *line = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
        printf("%s\n", line);
        free(line);
        json_decref(o);
    }
    lf_buf_free(&auth);
    lf_buf_free(&sts);
    json_decref(spec);
    return rc;
}

static int cmd_verify(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: verify SPEC.json\n");
        return 2;
    }
    json_error_t jerr;
    json_t *spec = json_load_file(argv[1], 0, &jerr);
    if (spec == NULL)
        return 1;
    lf_sign_request r;
    req_from_json(spec, &r);
    lf_auth_hmac auth;
    memset(&auth, 0, sizeof auth);
    uint8_t key[32];
    const char *cred = opt_str(spec, "credential"), *nonce = opt_str(spec, "nonce");
    if (cred == NULL || nonce == NULL || strlen(cred) > LF_AUTH_CREDENTIAL_MAX ||
        strlen(nonce) > LF_AUTH_NONCE_LEN || hex_field(spec, "signing_key", key, 32) ||
        hex_field(spec, "signature", auth.signature, 32)) {
        json_decref(spec);
        return 2;
    }
    strcpy(auth.credential, cred);
    strcpy(auth.nonce, nonce);
    auth.timestamp = i64_field(spec, "timestamp");
    lf_replay_cache *cache = NULL;
    lf_error err = {0};
    int rc = 0;
    if (lf_replay_cache_new(16, &cache, &err) != LF_OK ||
        lf_sign_verify(&auth, &r, key, i64_field(spec, "now"), cache, &err) != LF_OK) {
        printf("REJECTED %s\n", lf_strerror(err.code));
        rc = 1;
    } else {
        printf("OK\n");
    }
    lf_replay_cache_free(cache);
    json_decref(spec);
    return rc;
}

const struct lf_vectors_cmd lf_vectors_native_cmds[] = {
    {"gen-native", "DIR", cmd_gen},
    {"native-seal", "SPEC.json OUT", cmd_seal},
    {"native-open", "SESSIONKEYHEX FRAMESFILE", cmd_open},
    {"sign", "SPEC.json", cmd_sign},
    {"verify", "SPEC.json", cmd_verify},
    {NULL, NULL, NULL},
};

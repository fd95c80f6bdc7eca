/*
 * v3.c — lf-vectors subcommands for the v3 compatibility module.
 *
 *   gen-v3 DIR                         writes DIR/v3-entries.json and DIR/multipart.json
 *   v3-seal KEYHEX TYPE JSONFILE       seals the file's JSON bytes as one entry; prints the
 *                                      part headers and the body (hex) as one JSON object
 *   v3-open KEYHEX NONCEB64 SEALEDHEX  prints the entry's JSON plaintext (after checking that it
 *                                      decodes as a schema 2.0 payload), or exits 1
 *   multipart-parse CT UA BODYFILE [CHUNK]
 *                                      parses a request body fed in CHUNK-byte pieces (default:
 *                                      1, 7 and 4096, which must agree) and prints the parts as
 *                                      JSON; exits 1 with {"error":...} on a framing error
 *
 * The vectors use a fixed key, key id and nonces; the gzip bytes are those of this zlib and
 * are stored, so other implementations check the AES-GCM step byte for byte without having
 * to reproduce zlib's deflate choices.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmds.h"
#include "logflux/compress.h"
#include "logflux/multipart.h"
#include "logflux/payload.h"
#include "logflux/timefmt.h"
#include "logflux/v3.h"

#define VEC_KEY_ID "6f1c2e7a-3b4d-4e5f-8a9b-0c1d2e3f4a5b"
#define VEC_TS     "2026-11-28T03:00:00.123456789Z"

static const char *err_name(lf_err e)
{
    static const char *const names[] = {
        "ok",     "invalid", "too_large",   "nomem",     "crypto",     "auth", "expired",
        "replay", "scope",   "unsupported", "truncated", "passphrase", "io",   "not_found",
    };
    return (unsigned)e < sizeof names / sizeof *names ? names[e] : "unknown";
}

static char *hex_of(const uint8_t *p, size_t n)
{
    char *s = malloc(2 * n + 1);
    if (s != NULL)
        lf_hex_encode(p, n, s);
    return s;
}

static json_t *json_hex(const uint8_t *p, size_t n)
{
    char *s = hex_of(p, n);
    json_t *j = json_string(s != NULL ? s : "");
    free(s);
    return j;
}

static int die(const char *what, const lf_error *err)
{
    fprintf(stderr, "lf-vectors: %s: %s\n", what, err != NULL ? err->message : "failed");
    return 1;
}

static bool read_file(const char *path, lf_buf *out)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return false;
    uint8_t chunk[65536];
    size_t n;
    bool ok = true;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        if (lf_buf_append(out, chunk, n) != LF_OK)
            ok = false;
    fclose(f);
    return ok;
}

static bool hex_arg(const char *hex, lf_buf *out)
{
    size_t n = strlen(hex);
    if (n % 2 != 0 || lf_buf_reserve(out, n / 2 + 1) != LF_OK)
        return false;
    if (lf_hex_decode(hex, n, out->data + out->len, n / 2, NULL) != LF_OK)
        return false;
    out->len += n / 2;
    return true;
}

static int write_json(const char *dir, const char *name, json_t *root)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    int rc = json_dump_file(root, path, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    json_decref(root);
    if (rc != 0) {
        fprintf(stderr, "lf-vectors: cannot write %s\n", path);
        return 1;
    }
    /* jansson writes no final newline */
    FILE *f = fopen(path, "ab");
    if (f != NULL) {
        fputc('\n', f);
        fclose(f);
    }
    return 0;
}

/* ------------------------------------------------------------------ v3-entries.json */

static void fixed_key(uint8_t key[32])
{
    for (int i = 0; i < 32; i++)
        key[i] = (uint8_t)i;
}

static void fixed_nonce(uint8_t nonce[12], int which)
{
    for (int i = 0; i < 12; i++)
        nonce[i] = (uint8_t)(0xa0 + which * 16 + i);
}

static const lf_kv vec_attrs[] = {{"user_id", "u-123"}, {"region", "eu-west-1"}};
static const lf_kv vec_meta[] = {{"environment", "production"}, {"release", "1.4.2"}};
static const lf_error_link vec_chain[] = {{"CardError", "card declined"},
                                          {"HTTPError", "402 Payment Required"}};
static const lf_stack_frame vec_frames[] = {{"charge", "payments.go", 42},
                                            {"handle", "server.go", 118}};
static const lf_reading vec_readings[] = {{"temperature", 21.5, "C"}, {"humidity", 40, "%"}};
static const lf_reading vec_readings7[] = {{"cpu", 0.25, "ratio"}, {"uptime", 86400, "s"}};

/* Fills p with the sample payload of entry type t (ts = VEC_TS). */
static void sample_payload(lf_payload *p, int t, int64_t ts)
{
    memset(p, 0, sizeof *p);
    p->type = t;
    p->ts_ns = ts;
    p->level = LF_LEVEL_INFO;
    p->attributes = vec_attrs;
    p->n_attributes = 2;
    p->meta = vec_meta;
    p->n_meta = 2;
    switch (t) {
    case LF_ENTRY_LOG:
        p->source = "checkout-api";
        p->level = LF_LEVEL_ERROR;
        p->log.message = "payment failed: \"card declined\"\n\tretry in 5 s \xc3\xa9 \xe2\x9c\x93";
        p->log.logger = "payments";
        p->log.error_type = "CardError";
        p->log.error_chain = vec_chain;
        p->log.n_error_chain = 2;
        p->log.stack_trace = vec_frames;
        p->log.n_stack_trace = 2;
        p->log.breadcrumbs_json = "[{\"category\":\"http\",\"message\":\"POST /charge\"}]";
        break;
    case LF_ENTRY_METRIC:
        p->source = "checkout-api";
        p->metric.name = "http.requests";
        p->metric.value = 1532.5;
        p->metric.unit = "1";
        p->metric.kind = "counter";
        break;
    case LF_ENTRY_TRACE:
        p->source = "orders";
        p->trace.trace_id = "4bf92f3577b34da6a3ce929d0e0e4736";
        p->trace.span_id = "00f067aa0ba902b7";
        p->trace.parent_span_id = "b7ad6b7169203331";
        p->trace.operation = "GET /orders";
        p->trace.name = "orders.list";
        p->trace.start_ns = ts - 12500000;
        p->trace.end_ns = ts;
        p->trace.duration_ms = 12.5;
        p->trace.has_duration = true;
        p->trace.status = "ok";
        break;
    case LF_ENTRY_EVENT:
        p->source = "web";
        p->event.event = "user.signup";
        break;
    case LF_ENTRY_AUDIT:
        p->source = "admin";
        p->level = LF_LEVEL_NOTICE;
        p->audit.action = "key.rotate";
        p->audit.actor = "alice@example.com";
        p->audit.actor_type = "user";
        p->audit.resource = "api_key";
        p->audit.resource_id = "k-42";
        p->audit.outcome = "success";
        break;
    case LF_ENTRY_TELEMETRY:
        p->source = "edge";
        p->telemetry.device_id = "sensor-7";
        p->telemetry.readings = vec_readings;
        p->telemetry.n_readings = 2;
        break;
    default:
        p->source = "gateway";
        p->telemetry.device_id = "gw-1";
        p->telemetry.readings = vec_readings7;
        p->telemetry.n_readings = 2;
        break;
    }
}

/* The TypeScript SDK's spelling of a metric: metric_type instead of kind, ms timestamp, an
 * extra field. Not canonical (re-encoding changes it), but must open and decode. */
static const char ts_sdk_metric[] =
    "{\"v\":\"2.0\",\"type\":\"metric\",\"source\":\"web\",\"level\":7,"
    "\"ts\":\"2026-11-28T03:00:00.123Z\",\"name\":\"page.load\",\"value\":812,\"unit\":\"ms\","
    "\"metric_type\":\"distribution\",\"sdk\":{\"name\":\"logflux-js-sdk\",\"version\":\"3.0.1\"}}";

static int add_entry(json_t *arr, const char *name, int entry_type, bool compressed, bool canonical,
                     const char *json, size_t json_len, int64_t ts, int which)
{
    uint8_t key[32], nonce[12];
    fixed_key(key);
    fixed_nonce(nonce, which);
    lf_error err = {0};
    lf_v3_sealer *s = NULL;
    lf_buf body = LF_BUF_INIT, z = LF_BUF_INIT;
    lf_v3_headers h;
    int rc = 1;
    if (lf_v3_sealer_new(key, VEC_KEY_ID, compressed ? LF_GZIP_LEVEL_DEFAULT : LF_V3_NO_GZIP, &s,
                         &err) != LF_OK ||
        lf_v3_seal_json(s, entry_type, ts, json, json_len, nonce, &body, &h, &err) != LF_OK)
        goto out;
    if (compressed && lf_gzip_compress(json, json_len, LF_GZIP_LEVEL_DEFAULT, &z, &err) != LF_OK)
        goto out;
    json_t *o = json_object();
    json_object_set_new(o, "name", json_string(name));
    json_object_set_new(o, "entry_type", json_integer(h.entry_type));
    json_object_set_new(o, "payload_type", json_integer(h.payload_type));
    json_object_set_new(o, "compressed", json_boolean(compressed));
    json_object_set_new(o, "canonical", json_boolean(canonical));
    json_object_set_new(o, "timestamp", json_string(h.timestamp));
    json_object_set_new(o, "key_id", json_string(h.payload_type == 1 ? h.key_id : ""));
    json_object_set_new(o, "nonce", h.payload_type == 1 ? json_hex(nonce, 12) : json_string(""));
    json_object_set_new(o, "nonce_b64", json_string(h.nonce_b64));
    json_object_set_new(o, "plaintext", json_stringn(json, json_len));
    json_object_set_new(o, "gzip", json_hex(z.data, z.len));
    json_object_set_new(o, "sealed", json_hex(body.data, body.len));
    json_array_append_new(arr, o);
    rc = 0;
out:
    if (rc != 0)
        die(name, &err);
    lf_v3_sealer_free(s);
    lf_buf_free(&body);
    lf_buf_free(&z);
    return rc;
}

static int gen_entries(const char *dir)
{
    int64_t ts;
    if (lf_rfc3339_parse(VEC_TS, strlen(VEC_TS), &ts, NULL) != LF_OK)
        return 1;
    uint8_t key[32];
    fixed_key(key);
    json_t *root = json_object(), *arr = json_array();
    json_object_set_new(root, "description",
                        json_string("LogFlux v3 entries (PROTOCOL.md 2.1): sealed = "
                                    "AES-256-GCM(key, nonce, no AAD, gzip or plaintext) = "
                                    "ciphertext||tag; payload type 3 (entry type 7): sealed = "
                                    "gzip, unencrypted. gzip holds the exact compressed bytes "
                                    "(zlib level 6); empty when compressed is false."));
    json_object_set_new(root, "key", json_hex(key, 32));
    json_object_set_new(root, "key_id", json_string(VEC_KEY_ID));
    const char *names[] = {NULL,    "log",   "metric",    "trace",
                           "event", "audit", "telemetry", "managed-telemetry"};
    int rc = 0;
    for (int t = 1; t <= 8 && rc == 0; t++) {
        int type = t == 8 ? LF_ENTRY_LOG : t;
        lf_payload p;
        sample_payload(&p, type, ts);
        if (t == 8) {
            p.log.error_chain = NULL;
            p.log.n_error_chain = 0;
            p.log.stack_trace = NULL;
            p.log.n_stack_trace = 0;
            p.log.breadcrumbs_json = NULL;
            p.log.error_type = NULL;
            p.level = LF_LEVEL_INFO;
            p.log.message = "compression off: the TypeScript SDK still says payload type 1";
        }
        lf_buf json = LF_BUF_INIT;
        lf_error err = {0};
        if (lf_payload_encode(&p, &json, &err) != LF_OK)
            return die("encode", &err);
        rc = add_entry(arr, t == 8 ? "log-uncompressed" : names[t], type, t != 8, true,
                       (const char *)json.data, json.len, ts, t);
        lf_buf_free(&json);
    }
    if (rc == 0) {
        int64_t ts_ms;
        lf_rfc3339_parse("2026-11-28T03:00:00.123Z", 24, &ts_ms, NULL);
        rc = add_entry(arr, "metric-typescript-sdk", LF_ENTRY_METRIC, true, false, ts_sdk_metric,
                       strlen(ts_sdk_metric), ts_ms, 9);
    }
    json_object_set_new(root, "entries", arr);
    if (rc != 0) {
        json_decref(root);
        return rc;
    }
    return write_json(dir, "v3-entries.json", root);
}

/* ------------------------------------------------------------------ multipart.json */

typedef struct mp_part_in {
    lf_v3_headers h;
    const char *tokens[3];
    size_t n_tokens;
    lf_buf body;
} mp_part_in;

/* A sealed entry of type t with nonce `which`; if want_crlf, searches nonces until the
 * ciphertext||tag ends in CR LF (1 in 65,536) — the case §2.2's per-request rule exists for. */
static int sealed_part(mp_part_in *in, int t, int which, bool want_crlf)
{
    uint8_t key[32], nonce[12];
    int64_t ts;
    fixed_key(key);
    fixed_nonce(nonce, which);
    lf_rfc3339_parse(VEC_TS, strlen(VEC_TS), &ts, NULL);
    lf_payload p;
    sample_payload(&p, t, ts);
    lf_v3_sealer *s = NULL;
    lf_error err = {0};
    if (lf_v3_sealer_new(key, VEC_KEY_ID, LF_GZIP_LEVEL_DEFAULT, &s, &err) != LF_OK)
        return die("sealer", &err);
    memset(in, 0, sizeof *in);
    for (uint32_t i = 0;; i++) {
        in->body.len = 0;
        if (lf_v3_seal_payload(s, &p, nonce, &in->body, &in->h, &err) != LF_OK) {
            lf_v3_sealer_free(s);
            return die("seal", &err);
        }
        if (!want_crlf || (in->body.len >= 2 && in->body.data[in->body.len - 2] == '\r' &&
                           in->body.data[in->body.len - 1] == '\n'))
            break;
        lf_store_be32(nonce + 8, i);
    }
    lf_v3_sealer_free(s);
    return 0;
}

static json_t *expected_part(size_t index, const mp_part_in *in)
{
    json_t *o = json_object();
    json_object_set_new(o, "index", json_integer((json_int_t)index));
    json_object_set_new(o, "error", json_string("ok"));
    json_object_set_new(o, "entry_type", json_integer(in->h.entry_type));
    json_object_set_new(o, "payload_type", json_integer(in->h.payload_type));
    json_object_set_new(o, "timestamp", json_string(in->h.timestamp));
    json_object_set_new(o, "key_id", json_string(in->h.payload_type == 1 ? in->h.key_id : ""));
    json_object_set_new(o, "nonce", json_string(in->h.payload_type == 1 ? in->h.nonce_b64 : ""));
    json_t *tok = json_array();
    for (size_t i = 0; i < in->n_tokens; i++)
        json_array_append_new(tok, json_string(in->tokens[i]));
    json_object_set_new(o, "search_tokens", tok);
    json_object_set_new(o, "body", json_hex(in->body.data, in->body.len));
    return o;
}

static json_t *expected_error_part(size_t index, lf_err code)
{
    json_t *o = json_object();
    json_object_set_new(o, "index", json_integer((json_int_t)index));
    json_object_set_new(o, "error", json_string(err_name(code)));
    return o;
}

static json_t *mp_case(const char *name, const char *ct, const char *ua, const lf_buf *body,
                       const char *form, const char *build_form, const char *boundary)
{
    json_t *o = json_object();
    json_object_set_new(o, "name", json_string(name));
    json_object_set_new(o, "content_type", json_string(ct));
    json_object_set_new(o, "user_agent", json_string(ua));
    json_object_set_new(o, "body", json_hex(body->data, body->len));
    json_object_set_new(o, "form", form != NULL ? json_string(form) : json_null());
    /* "build": how a conforming builder produces this exact body from the parts */
    if (build_form != NULL) {
        json_t *b = json_object();
        json_object_set_new(b, "form", json_string(build_form));
        json_object_set_new(b, "boundary", json_string(boundary));
        json_object_set_new(o, "build", b);
    } else {
        json_object_set_new(o, "build", json_null());
    }
    return o;
}

static int built_case(json_t *cases, const char *name, lf_mp_form form, const char *ua,
                      const char *expect_form, mp_part_in *parts, size_t n)
{
    lf_mp_builder b;
    lf_error err = {0};
    const char *boundary = "lf-boundary-7d3f9a1c2b4e6f80";
    if (lf_mp_builder_init(&b, form, boundary, NULL, &err) != LF_OK)
        return die("builder", &err);
    for (size_t i = 0; i < n; i++)
        if (lf_mp_builder_add(&b, &parts[i].h, parts[i].tokens, parts[i].n_tokens,
                              parts[i].body.data, parts[i].body.len, &err) != LF_OK)
            return die("builder add", &err);
    if (lf_mp_builder_finish(&b, &err) != LF_OK)
        return die("builder finish", &err);
    json_t *c = mp_case(name, b.content_type, ua, &b.body, expect_form,
                        form == LF_MP_STANDARD ? "standard" : "typescript", boundary);
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(arr, expected_part(i, &parts[i]));
    json_object_set_new(c, "error", json_null());
    json_object_set_new(c, "parts", arr);
    json_array_append_new(cases, c);
    lf_mp_builder_free(&b);
    return 0;
}

static void put_part_headers(lf_buf *o, const mp_part_in *in, const char *style)
{
    if (strcmp(style, "mixed-case") == 0)
        lf_buf_printf(o,
                      "content-type:application/octet-stream\r\nx-lf-entry-type:  %d \r\n"
                      "X-Lf-Payload-Type: %d\r\nx-lf-timestamp: %s\r\nX-LF-KEY-ID: %s\r\n"
                      "x-lf-nonce: %s\r\nX-Custom: ignored\r\n\r\n",
                      in->h.entry_type, in->h.payload_type, in->h.timestamp, in->h.key_id,
                      in->h.nonce_b64);
    else
        lf_buf_printf(o,
                      "Content-Type: application/octet-stream\r\nX-LF-Entry-Type: %d\r\n"
                      "X-LF-Payload-Type: %d\r\nX-LF-Timestamp: %s\r\nX-LF-Key-ID: %s\r\n"
                      "X-LF-Nonce: %s\r\n\r\n",
                      in->h.entry_type, in->h.payload_type, in->h.timestamp, in->h.key_id,
                      in->h.nonce_b64);
}

static int gen_multipart(const char *dir)
{
    mp_part_in log, metric, managed, crlf, trace;
    if (sealed_part(&log, LF_ENTRY_LOG, 1, false) ||
        sealed_part(&metric, LF_ENTRY_METRIC, 2, false) ||
        sealed_part(&crlf, LF_ENTRY_EVENT, 4, true) ||
        sealed_part(&trace, LF_ENTRY_TRACE, 3, false))
        return 1;
    log.tokens[0] = "checkout";
    log.tokens[1] = "card";
    log.n_tokens = 2;
    /* entry type 7: gzip JSON, unencrypted */
    {
        int64_t ts;
        lf_rfc3339_parse(VEC_TS, strlen(VEC_TS), &ts, NULL);
        lf_payload p;
        sample_payload(&p, LF_ENTRY_TELEMETRY_MANAGED, ts);
        lf_buf json = LF_BUF_INIT;
        memset(&managed, 0, sizeof managed);
        if (lf_payload_encode(&p, &json, NULL) != LF_OK ||
            lf_v3_plain_seal_json(json.data, json.len, ts, LF_GZIP_LEVEL_DEFAULT, &managed.body,
                                  &managed.h, NULL) != LF_OK)
            return 1;
        lf_buf_free(&json);
    }
    json_t *root = json_object(), *cases = json_array();
    json_object_set_new(root, "description",
                        json_string("LogFlux v3 request bodies (PROTOCOL.md 2.2). body is hex. "
                                    "form is the framing the parser must decide; error is the "
                                    "request-level error or null; parts[].error is 'ok' or the "
                                    "per-part error. build (when not null) says how a builder "
                                    "reproduces body byte for byte from parts."));
    const char *go = "logflux-go-sdk/3.0.1", *js = "logflux-js-sdk/3.0.1", *curl = "curl/8.5.0";
    int rc = 0;
    mp_part_in three[3] = {log, metric, managed};
    rc |= built_case(cases, "standard-three-parts", LF_MP_STANDARD, go, "standard", three, 3);
    rc |= built_case(cases, "typescript-three-parts", LF_MP_TYPESCRIPT, js, "typescript", three, 3);
    rc |= built_case(cases, "typescript-detected-by-framing", LF_MP_TYPESCRIPT, curl, "typescript",
                     three, 3);
    mp_part_in one[1] = {log};
    rc |= built_case(cases, "typescript-single-part", LF_MP_TYPESCRIPT, js, "typescript", one, 1);
    mp_part_in c2[2] = {crlf, metric};
    rc |= built_case(cases, "crlf-by-chance-typescript-agent", LF_MP_TYPESCRIPT, js, "typescript",
                     c2, 2);
    rc |= built_case(cases, "crlf-by-chance-standard", LF_MP_STANDARD, go, "standard", c2, 2);
    mp_part_in c3[3] = {crlf, metric, trace};
    rc |= built_case(cases, "crlf-by-chance-typescript-by-framing", LF_MP_TYPESCRIPT, curl,
                     "typescript", c3, 3);
    if (rc != 0)
        return 1;

    /* hand-written bodies */
    const char *b = "simple boundary:x";
    lf_buf body = LF_BUF_INIT;
    lf_buf_printf(
        &body, "This is the preamble. --%s is mentioned but not a delimiter.\r\n--%s \t\r\n", b, b);
    put_part_headers(&body, &log, "mixed-case");
    lf_buf_append(&body, log.body.data, log.body.len);
    lf_buf_printf(&body, "\r\n--%s\r\n", b);
    put_part_headers(&body, &metric, "plain");
    lf_buf_append(&body, metric.body.data, metric.body.len);
    lf_buf_printf(&body, "\r\n--%s--  \r\nThis is the epilogue.\r\n--%s\r\n", b, b);
    json_t *c = mp_case("preamble-epilogue-quoted-boundary",
                        "Multipart/Mixed; charset=utf-8; boundary=\"simple boundary:x\"", go, &body,
                        "standard", NULL, NULL);
    json_t *parts = json_array();
    mp_part_in log_nt = log;
    log_nt.n_tokens = 0;
    json_array_append_new(parts, expected_part(0, &log_nt));
    json_array_append_new(parts, expected_part(1, &metric));
    json_object_set_new(c, "error", json_null());
    json_object_set_new(c, "parts", parts);
    json_array_append_new(cases, c);

    /* per-part errors: the good parts survive */
    const char *pb = "pp";
    body.len = 0;
    lf_buf_printf(&body, "--%s\r\n", pb);
    put_part_headers(&body, &metric, "plain");
    lf_buf_append(&body, metric.body.data, metric.body.len);
    lf_buf_printf(&body,
                  "\r\n--%s\r\nX-LF-Entry-Type: 9\r\nX-LF-Payload-Type: 1\r\n"
                  "X-LF-Timestamp: %s\r\nX-LF-Key-ID: k\r\nX-LF-Nonce: %s\r\n\r\n",
                  pb, metric.h.timestamp, metric.h.nonce_b64);
    lf_buf_append(&body, metric.body.data, metric.body.len);
    lf_buf_printf(&body,
                  "\r\n--%s\r\nX-LF-Entry-Type: 2\r\nX-LF-Payload-Type: 1\r\n"
                  "X-LF-Timestamp: %s\r\nX-LF-Key-ID: k\r\nX-LF-Nonce: AAAA\r\n\r\n",
                  pb, metric.h.timestamp);
    lf_buf_append(&body, metric.body.data, metric.body.len);
    lf_buf_printf(&body,
                  "\r\n--%s\r\nX-LF-Entry-Type: 2\r\nX-LF-Payload-Type: 1\r\n"
                  "X-LF-Timestamp: %s\r\nX-LF-Nonce: %s\r\n\r\n",
                  pb, metric.h.timestamp, metric.h.nonce_b64);
    lf_buf_append(&body, metric.body.data, metric.body.len);
    lf_buf_printf(&body,
                  "\r\n--%s\r\nX-LF-Entry-Type: 2\r\nX-LF-Payload-Type: 1\r\n"
                  "X-LF-Timestamp: yesterday\r\nX-LF-Key-ID: k\r\nX-LF-Nonce: %s\r\n\r\n",
                  pb, metric.h.nonce_b64);
    lf_buf_append(&body, metric.body.data, metric.body.len);
    lf_buf_printf(&body,
                  "\r\n--%s\r\nX-LF-Entry-Type: 2\r\nX-LF-Payload-Type: 1\r\n"
                  "X-LF-Timestamp: %s\r\nX-LF-Key-ID: k\r\nX-LF-Nonce: %s\r\n\r\nshort",
                  pb, metric.h.timestamp, metric.h.nonce_b64);
    lf_buf_printf(&body, "\r\n--%s\r\n", pb);
    put_part_headers(&body, &trace, "plain");
    lf_buf_append(&body, trace.body.data, trace.body.len);
    lf_buf_printf(&body, "\r\n--%s--\r\n", pb);
    c = mp_case("per-part-errors", "multipart/mixed; boundary=pp", go, &body, "standard", NULL,
                NULL);
    parts = json_array();
    json_array_append_new(parts, expected_part(0, &metric));
    json_array_append_new(parts, expected_error_part(1, LF_ERR_INVALID));   /* entry type 9 */
    json_array_append_new(parts, expected_error_part(2, LF_ERR_INVALID));   /* bad nonce */
    json_array_append_new(parts, expected_error_part(3, LF_ERR_INVALID));   /* no key id */
    json_array_append_new(parts, expected_error_part(4, LF_ERR_INVALID));   /* bad timestamp */
    json_array_append_new(parts, expected_error_part(5, LF_ERR_TRUNCATED)); /* < tag */
    json_array_append_new(parts, expected_part(6, &trace));
    json_object_set_new(c, "error", json_null());
    json_object_set_new(c, "parts", parts);
    json_array_append_new(cases, c);

    /* request-level failures */
    body.len = 0;
    lf_buf_printf(&body, "--pp\r\n");
    put_part_headers(&body, &metric, "plain");
    lf_buf_append(&body, metric.body.data, metric.body.len);
    lf_buf_printf(&body, "\r\n--pp");
    c = mp_case("truncated-no-close", "multipart/mixed; boundary=pp", go, &body, NULL, NULL, NULL);
    json_object_set_new(c, "error", json_string(err_name(LF_ERR_TRUNCATED)));
    json_object_set_new(c, "parts", json_array());
    json_array_append_new(cases, c);

    body.len = 0;
    lf_buf_append_str(&body, "this is not multipart at all\r\n--p\r\n--ppx\r\n");
    c = mp_case("garbage-no-delimiter", "multipart/mixed; boundary=pp", go, &body, NULL, NULL,
                NULL);
    json_object_set_new(c, "error", json_string(err_name(LF_ERR_TRUNCATED)));
    json_object_set_new(c, "parts", json_array());
    json_array_append_new(cases, c);

    body.len = 0;
    lf_buf_append_str(&body, "preamble only\r\n--pp--\r\n");
    c = mp_case("close-without-parts", "multipart/mixed; boundary=pp", go, &body, NULL, NULL, NULL);
    json_object_set_new(c, "error", json_string(err_name(LF_ERR_INVALID)));
    json_object_set_new(c, "parts", json_array());
    json_array_append_new(cases, c);
    lf_buf_free(&body);

    json_object_set_new(root, "cases", cases);
    mp_part_in *all[] = {&log, &metric, &managed, &crlf, &trace};
    for (size_t i = 0; i < sizeof all / sizeof *all; i++)
        lf_buf_free(&all[i]->body);
    return write_json(dir, "multipart.json", root);
}

static int cmd_gen(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: gen-v3 DIR\n");
        return 2;
    }
    int rc = gen_entries(argv[1]);
    return rc != 0 ? rc : gen_multipart(argv[1]);
}

/* ------------------------------------------------------------------ interop */

static int cmd_seal(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: v3-seal KEYHEX TYPE JSONFILE\n");
        return 2;
    }
    lf_buf key = LF_BUF_INIT, json = LF_BUF_INIT, body = LF_BUF_INIT;
    lf_error err = {0};
    int type = atoi(argv[2]), rc = 1;
    lf_payload *p = NULL;
    lf_v3_sealer *s = NULL;
    lf_v3_headers h;
    if (!hex_arg(argv[1], &key) || key.len != 32 || !read_file(argv[3], &json)) {
        fprintf(stderr, "lf-vectors: bad key or unreadable file\n");
        goto out;
    }
    if (lf_payload_decode(json.data, json.len, type, 0, &p, &err) != LF_OK) {
        die("payload", &err);
        goto out;
    }
    if (lf_v3_sealer_new(key.data, VEC_KEY_ID, LF_GZIP_LEVEL_DEFAULT, &s, &err) != LF_OK ||
        lf_v3_seal_json(s, type, p->ts_ns, json.data, json.len, NULL, &body, &h, &err) != LF_OK) {
        die("seal", &err);
        goto out;
    }
    json_t *o = json_object();
    json_object_set_new(o, "entry_type", json_integer(h.entry_type));
    json_object_set_new(o, "payload_type", json_integer(h.payload_type));
    json_object_set_new(o, "timestamp", json_string(h.timestamp));
    json_object_set_new(o, "key_id", json_string(h.payload_type == 1 ? h.key_id : ""));
    json_object_set_new(o, "nonce", json_string(h.nonce_b64));
    json_object_set_new(o, "body", json_hex(body.data, body.len));
    char *text = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    printf("%s\n", text);
    free(text);
    rc = 0;
out:
    lf_payload_free(p);
    lf_v3_sealer_free(s);
    lf_buf_free_secret(&key);
    lf_buf_free(&json);
    lf_buf_free(&body);
    return rc;
}

static int cmd_open(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: v3-open KEYHEX NONCEB64 SEALEDHEX\n");
        return 2;
    }
    lf_buf key = LF_BUF_INIT, nonce = LF_BUF_INIT, sealed = LF_BUF_INIT, json = LF_BUF_INIT;
    lf_error err = {0};
    lf_payload *p = NULL;
    int rc = 1;
    if (!hex_arg(argv[1], &key) || key.len != 32 ||
        lf_base64_decode(argv[2], strlen(argv[2]), &nonce, false, &err) != LF_OK ||
        nonce.len != 12 || !hex_arg(argv[3], &sealed)) {
        fprintf(stderr, "lf-vectors: bad key, nonce or hex\n");
        goto out;
    }
    if (lf_v3_open_json(key.data, nonce.data, sealed.data, sealed.len, &json, &err) != LF_OK ||
        lf_payload_decode(json.data, json.len, 0, 0, &p, &err) != LF_OK) {
        die("open", &err);
        goto out;
    }
    fwrite(json.data, 1, json.len, stdout);
    putchar('\n');
    rc = 0;
out:
    lf_payload_free(p);
    lf_buf_free_secret(&key);
    lf_buf_free_secret(&json);
    lf_buf_free(&nonce);
    lf_buf_free(&sealed);
    return rc;
}

/* Parses body in chunk-byte pieces; returns the printed JSON (caller frees) and the exit code. */
static char *parse_to_json(const char *ct, const char *ua, const lf_buf *body, size_t chunk,
                           int *code)
{
    lf_mp_parser *p = NULL;
    lf_error err = {0};
    json_t *o = json_object();
    lf_err rc = lf_mp_parser_new(ct, ua, NULL, &p, &err);
    for (size_t off = 0; rc == LF_OK && off < body->len; off += chunk) {
        size_t n = body->len - off < chunk ? body->len - off : chunk;
        rc = lf_mp_parser_feed(p, body->data + off, n, &err);
    }
    if (rc == LF_OK)
        rc = lf_mp_parser_finish(p, &err);
    *code = rc == LF_OK ? 0 : 1;
    if (rc != LF_OK) {
        json_object_set_new(o, "error", json_string(err_name(rc)));
        json_object_set_new(o, "message", json_string(err.message));
    } else {
        json_object_set_new(o, "error", json_null());
        json_object_set_new(
            o, "form",
            json_string(lf_mp_parser_form(p) == LF_MP_STANDARD ? "standard" : "typescript"));
        json_t *arr = json_array();
        for (size_t i = 0; i < lf_mp_parser_count(p); i++) {
            const lf_mp_part *pt = lf_mp_parser_part(p, i);
            json_t *j = json_object();
            json_object_set_new(j, "index", json_integer((json_int_t)pt->index));
            json_object_set_new(j, "error", json_string(err_name(pt->error.code)));
            if (pt->error.code != LF_OK) {
                json_object_set_new(j, "message", json_string(pt->error.message));
            } else {
                const lf_v3_headers *h = &pt->headers;
                json_object_set_new(j, "entry_type", json_integer(h->entry_type));
                json_object_set_new(j, "payload_type", json_integer(h->payload_type));
                json_object_set_new(j, "timestamp", json_string(h->timestamp));
                json_object_set_new(j, "key_id", json_string(h->key_id));
                json_object_set_new(j, "nonce", json_string(h->nonce_b64));
                json_t *tok = json_array();
                for (size_t t = 0; t < pt->n_search_tokens; t++)
                    json_array_append_new(tok, json_string(pt->search_tokens[t]));
                json_object_set_new(j, "search_tokens", tok);
                json_object_set_new(j, "body", json_hex(pt->body, pt->body_len));
            }
            json_array_append_new(arr, j);
        }
        json_object_set_new(o, "parts", arr);
    }
    lf_mp_parser_free(p);
    char *text = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    return text;
}

static int cmd_mp_parse(int argc, char **argv)
{
    if (argc != 4 && argc != 5) {
        fprintf(stderr, "usage: multipart-parse CONTENT_TYPE USER_AGENT BODYFILE [CHUNK]\n");
        return 2;
    }
    lf_buf body = LF_BUF_INIT;
    if (!read_file(argv[3], &body)) {
        fprintf(stderr, "lf-vectors: cannot read %s\n", argv[3]);
        return 2;
    }
    size_t chunks[3] = {1, 7, 4096}, n_chunks = 3;
    if (argc == 5) {
        chunks[0] = (size_t)strtoul(argv[4], NULL, 10);
        n_chunks = 1;
        if (chunks[0] == 0)
            chunks[0] = 1;
    }
    int code = 0, code2 = 0;
    char *first = parse_to_json(argv[1], argv[2], &body, chunks[0], &code);
    for (size_t i = 1; i < n_chunks; i++) {
        char *other = parse_to_json(argv[1], argv[2], &body, chunks[i], &code2);
        if (other == NULL || first == NULL || strcmp(first, other) != 0 || code != code2) {
            fprintf(stderr, "lf-vectors: chunk size %zu gives a different result\n", chunks[i]);
            free(other);
            free(first);
            lf_buf_free(&body);
            return 3;
        }
        free(other);
    }
    printf("%s\n", first != NULL ? first : "{}");
    free(first);
    lf_buf_free(&body);
    return code;
}

const struct lf_vectors_cmd lf_vectors_v3_cmds[] = {
    {"gen-v3", "DIR", cmd_gen},
    {"v3-seal", "KEYHEX TYPE JSONFILE", cmd_seal},
    {"v3-open", "KEYHEX NONCEB64 SEALEDHEX", cmd_open},
    {"multipart-parse", "CONTENT_TYPE USER_AGENT BODYFILE [CHUNK]", cmd_mp_parse},
    {NULL, NULL, NULL},
};

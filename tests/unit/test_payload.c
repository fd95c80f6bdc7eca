/*
 * test_payload.c — RFC 3339 time, and the schema 2.0 payload: all seven entry types round
 * trip (encode -> decode -> encode gives the same bytes), every validation rule is rejected
 * with the right lf_err, unknown fields survive a re-encode, and the v3-entries.json
 * plaintexts decode (canonical ones re-encode byte for byte).
 */
#include "testutil.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "logflux/payload.h"
#include "logflux/timefmt.h"

#define TS_TEXT "2026-11-28T03:00:00.123456789Z"

static int64_t ts_of(const char *s)
{
    int64_t ns = 0;
    assert_int_equal(lf_rfc3339_parse(s, strlen(s), &ns, NULL), LF_OK);
    return ns;
}

/* ------------------------------------------------------------------ time */

static void test_rfc3339_known(void **state)
{
    (void)state;
    char out[LF_RFC3339_MAX];
    assert_int_equal(lf_rfc3339_format(0, out), LF_RFC3339_LEN);
    assert_string_equal(out, "1970-01-01T00:00:00.000000000Z");
    assert_true(ts_of("1970-01-01T00:00:00Z") == 0);
    assert_true(ts_of("2000-02-29T12:34:56.5Z") == 951827696500000000LL);
    assert_true(ts_of("2026-11-28T03:00:00.123456789Z") == 1795834800123456789LL);
    lf_rfc3339_format(1795834800123456789LL, out);
    assert_string_equal(out, TS_TEXT);
    /* offsets, lowercase separators, short fractions */
    assert_true(ts_of("2026-11-28T05:30:00.123456789+02:30") == 1795834800123456789LL);
    assert_true(ts_of("2026-11-27t22:00:00.123456789-05:00") == 1795834800123456789LL);
    assert_true(ts_of("2026-11-28T03:00:00.123z") == 1795834800123000000LL);
    /* before 1970: floor division keeps the fraction positive */
    lf_rfc3339_format(-1, out);
    assert_string_equal(out, "1969-12-31T23:59:59.999999999Z");
    assert_true(ts_of("1969-12-31T23:59:59.999999999Z") == -1);
    lf_rfc3339_format(INT64_MAX, out);
    assert_string_equal(out, "2262-04-11T23:47:16.854775807Z");
    assert_true(ts_of(out) == INT64_MAX);
    lf_rfc3339_format(INT64_MIN, out);
    assert_string_equal(out, "1677-09-21T00:12:43.145224192Z");
    assert_true(ts_of(out) == INT64_MIN);
}

static void test_rfc3339_round_trip(void **state)
{
    (void)state;
    uint64_t x = 0x9e3779b97f4a7c15ull;
    for (int i = 0; i < 20000; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        int64_t ns = (int64_t)x;
        char out[LF_RFC3339_MAX];
        lf_rfc3339_format(ns, out);
        int64_t back = 0;
        assert_int_equal(lf_rfc3339_parse(out, strlen(out), &back, NULL), LF_OK);
        assert_true(back == ns);
    }
}

static void test_rfc3339_rejects(void **state)
{
    (void)state;
    const char *bad[] = {
        "",
        "2026-11-28",
        "2026-11-28T03:00:00",             /* no zone */
        "2026-11-28 03:00:00Z",            /* space separator */
        "2026-13-01T00:00:00Z",            /* month */
        "2026-02-29T00:00:00Z",            /* not a leap year */
        "2026-04-31T00:00:00Z",            /* day */
        "2026-11-28T24:00:00Z",            /* hour */
        "2026-11-28T03:60:00Z",            /* minute */
        "2026-11-28T03:00:60Z",            /* leap second */
        "2026-11-28T03:00:00.Z",           /* empty fraction */
        "2026-11-28T03:00:00.1234567891Z", /* 10 digits */
        "2026-11-28T03:00:00Zx",           /* trailing */
        "2026-11-28T03:00:00+0200",        /* offset without colon */
        "2026-11-28T03:00:00+24:00",       /* offset hour */
        "2300-01-01T00:00:00Z",            /* beyond int64 ns */
        "1600-01-01T00:00:00Z",
        "+2026-11-28T03:00:00Z",
        "2026-1a-28T03:00:00Z",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        int64_t ns;
        lf_error err = {0};
        assert_int_equal(lf_rfc3339_parse(bad[i], strlen(bad[i]), &ns, &err), LF_ERR_INVALID);
        assert_true(strlen(err.message) > 0);
    }
    int64_t ns;
    assert_int_equal(lf_rfc3339_parse(TS_TEXT, 10, &ns, NULL), LF_ERR_INVALID); /* length */
    assert_true(lf_time_now_ns() > ts_of("2020-01-01T00:00:00Z"));
}

/* ------------------------------------------------------------------ samples */

static const lf_kv attrs[] = {{"user_id", "u-123"}, {"region", "eu-west-1"}};
static const lf_kv meta[] = {{"environment", "production"}, {"release", "1.4.2"}};
static const lf_error_link chain[] = {{"CardError", "declined"}, {NULL, "only message"}};
static const lf_stack_frame frames[] = {{"charge", "payments.go", 42}, {NULL, "x.c", 0}};
static const lf_reading readings[] = {{"temperature", 21.5, "C"}, {NULL, -0.1, NULL}};

static lf_payload sample(int type)
{
    lf_payload p;
    memset(&p, 0, sizeof p);
    p.type = type;
    p.source = "svc";
    p.level = LF_LEVEL_INFO;
    p.ts_ns = ts_of(TS_TEXT);
    p.attributes = attrs;
    p.n_attributes = 2;
    p.meta = meta;
    p.n_meta = 2;
    switch (type) {
    case LF_ENTRY_LOG:
        p.log.message = "line one\nline \"two\"\t\\ \x01 \xc3\xa9 \xf0\x9f\x98\x80";
        p.log.logger = "main";
        p.log.error_type = "CardError";
        p.log.error_chain = chain;
        p.log.n_error_chain = 2;
        p.log.stack_trace = frames;
        p.log.n_stack_trace = 2;
        p.log.breadcrumbs_json = "[{\"a\":1},{\"b\":[true,null]}]";
        break;
    case LF_ENTRY_METRIC:
        p.metric.name = "latency";
        p.metric.value = 0.1;
        p.metric.unit = "s";
        p.metric.kind = "gauge";
        break;
    case LF_ENTRY_TRACE:
        p.trace.trace_id = "t1";
        p.trace.span_id = "s1";
        p.trace.parent_span_id = "s0";
        p.trace.operation = "op";
        p.trace.name = "n";
        p.trace.start_ns = p.ts_ns - 1000;
        p.trace.end_ns = p.ts_ns;
        p.trace.duration_ms = 0.001;
        p.trace.has_duration = true;
        p.trace.status = "ok";
        break;
    case LF_ENTRY_EVENT:
        p.event.event = "signup";
        break;
    case LF_ENTRY_AUDIT:
        p.audit.action = "delete";
        p.audit.actor = "bob";
        p.audit.actor_type = "user";
        p.audit.resource = "app";
        p.audit.resource_id = "42";
        p.audit.outcome = "denied";
        break;
    default:
        p.telemetry.device_id = "dev";
        p.telemetry.readings = readings;
        p.telemetry.n_readings = 2;
        break;
    }
    return p;
}

static void encode_ok(const lf_payload *p, lf_buf *out)
{
    lf_error err = {0};
    lf_err rc = lf_payload_encode(p, out, &err);
    if (rc != LF_OK)
        fail_msg("encode: %s", err.message);
}

static lf_payload *decode_ok(const lf_buf *json, int type, int64_t now)
{
    lf_payload *p = NULL;
    lf_error err = {0};
    lf_err rc = lf_payload_decode(json->data, json->len, type, now, &p, &err);
    if (rc != LF_OK)
        fail_msg("decode: %s", err.message);
    return p;
}

static void test_round_trip_all_types(void **state)
{
    (void)state;
    for (int t = 1; t <= 7; t++) {
        lf_payload in = sample(t);
        lf_buf a = LF_BUF_INIT, b = LF_BUF_INIT;
        encode_ok(&in, &a);
        lf_payload *out = decode_ok(&a, t, in.ts_ns + 1000);
        assert_int_equal(out->type, t);
        assert_int_equal(out->level, LF_LEVEL_INFO);
        assert_true(out->ts_ns == in.ts_ns);
        assert_string_equal(out->source, "svc");
        assert_int_equal(out->n_attributes, 2);
        assert_string_equal(out->attributes[1].key, "region");
        assert_string_equal(out->attributes[1].value, "eu-west-1");
        assert_int_equal(out->n_meta, 2);
        assert_null(out->extra_json);
        switch (t) {
        case LF_ENTRY_LOG:
            assert_string_equal(out->log.message, in.log.message);
            assert_int_equal(out->log.n_error_chain, 2);
            assert_null(out->log.error_chain[1].type);
            assert_string_equal(out->log.error_chain[1].message, "only message");
            assert_true(out->log.stack_trace[0].line == 42);
            assert_string_equal(out->log.breadcrumbs_json, "[{\"a\":1},{\"b\":[true,null]}]");
            break;
        case LF_ENTRY_METRIC:
            assert_true(out->metric.value == 0.1);
            assert_string_equal(out->metric.kind, "gauge");
            break;
        case LF_ENTRY_TRACE:
            assert_true(out->trace.start_ns == in.trace.start_ns);
            assert_true(out->trace.has_duration && out->trace.duration_ms == 0.001);
            break;
        case LF_ENTRY_EVENT:
            assert_string_equal(out->event.event, "signup");
            break;
        case LF_ENTRY_AUDIT:
            assert_string_equal(out->audit.outcome, "denied");
            break;
        default:
            assert_int_equal(out->telemetry.n_readings, 2);
            assert_true(out->telemetry.readings[1].value == -0.1);
            assert_null(out->telemetry.readings[1].name);
            break;
        }
        encode_ok(out, &b);
        assert_int_equal(a.len, b.len);
        assert_memory_equal(a.data, b.data, a.len);
        /* inferred type: 7 is indistinguishable from 6 in the JSON */
        lf_payload *inferred = decode_ok(&a, 0, 0);
        assert_int_equal(inferred->type, t == 7 ? 6 : t);
        lf_payload_free(inferred);
        lf_payload_free(out);
        lf_buf_free(&a);
        lf_buf_free(&b);
    }
}

static void test_encode_escaping(void **state)
{
    (void)state;
    lf_payload p = sample(LF_ENTRY_EVENT);
    p.n_attributes = 0;
    p.n_meta = 0;
    p.event.event = "q\"b\\n\n\r\t\x01\x1f\x7f/\xe2\x80\xa8";
    lf_buf out = LF_BUF_INIT;
    encode_ok(&p, &out);
    assert_int_equal(lf_buf_terminate(&out), LF_OK);
    assert_string_equal((char *)out.data,
                        "{\"v\":\"2.0\",\"type\":\"event\",\"source\":\"svc\",\"level\":7,\"ts\":"
                        "\"" TS_TEXT "\",\"event\":\"q\\\"b\\\\n\\n\\r\\t\\u0001\\u001f\x7f/"
                        "\xe2\x80\xa8\"}");
    /* invalid UTF-8 is refused and nothing is left in the buffer */
    const char *bad[] = {"\xff", "\xc0\xaf", "\xe0\x80\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80",
                         "\xc3", "\xe2\x82"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        lf_buf o = LF_BUF_INIT;
        lf_error err = {0};
        p.event.event = bad[i];
        assert_int_equal(lf_payload_encode(&p, &o, &err), LF_ERR_INVALID);
        assert_int_equal(o.len, 0);
        lf_buf_free(&o);
    }
    lf_buf_free(&out);
}

static void test_numbers(void **state)
{
    (void)state;
    const double values[] = {0,         -0.5, 1e-300, 1.7976931348623157e308, 123456789012345678.0,
                             0.1 + 0.2, 42};
    for (size_t i = 0; i < sizeof values / sizeof *values; i++) {
        lf_payload p = sample(LF_ENTRY_METRIC);
        p.metric.value = values[i];
        lf_buf out = LF_BUF_INIT;
        encode_ok(&p, &out);
        lf_payload *d = decode_ok(&out, 2, 0);
        assert_true(d->metric.value == values[i]);
        lf_payload_free(d);
        lf_buf_free(&out);
    }
    lf_payload p = sample(LF_ENTRY_METRIC);
    p.metric.value = NAN;
    lf_buf out = LF_BUF_INIT;
    assert_int_equal(lf_payload_encode(&p, &out, NULL), LF_ERR_INVALID);
    p = sample(LF_ENTRY_TRACE);
    p.trace.duration_ms = INFINITY;
    assert_int_equal(lf_payload_encode(&p, &out, NULL), LF_ERR_INVALID);
    p = sample(LF_ENTRY_TELEMETRY);
    lf_reading r = {"x", NAN, NULL};
    p.telemetry.readings = &r;
    p.telemetry.n_readings = 1;
    assert_int_equal(lf_payload_encode(&p, &out, NULL), LF_ERR_INVALID);
    assert_int_equal(out.len, 0);
}

static void test_encode_validation(void **state)
{
    (void)state;
    lf_buf out = LF_BUF_INIT;
    lf_payload p = sample(LF_ENTRY_LOG);
    p.type = 8;
    assert_int_equal(lf_payload_encode(&p, &out, NULL), LF_ERR_INVALID);
    p = sample(LF_ENTRY_LOG);
    p.level = 9;
    assert_int_equal(lf_payload_encode(&p, &out, NULL), LF_ERR_INVALID);
    p.level = -1;
    assert_int_equal(lf_payload_encode(&p, &out, NULL), LF_ERR_INVALID);
    /* 21 attributes */
    lf_kv many[21];
    char keys[21][8];
    for (int i = 0; i < 21; i++) {
        snprintf(keys[i], sizeof keys[i], "k%d", i);
        many[i].key = keys[i];
        many[i].value = "v";
    }
    p = sample(LF_ENTRY_LOG);
    p.attributes = many;
    p.n_attributes = 20;
    assert_int_equal(lf_payload_encode(&p, &out, NULL), LF_OK);
    p.n_attributes = 21;
    assert_int_equal(lf_payload_encode(&p, &out, NULL), LF_ERR_TOO_LARGE);
    p.meta = many; /* meta has the same limits */
    p.n_meta = 21;
    p.n_attributes = 0;
    assert_int_equal(lf_payload_encode(&p, &out, NULL), LF_ERR_TOO_LARGE);
    p.n_meta = 0;
    char key65[66], val257[258];
    memset(key65, 'k', 65);
    key65[65] = '\0';
    memset(val257, 'v', 257);
    val257[257] = '\0';
    lf_kv one = {key65, "v"};
    p.attributes = &one;
    p.n_attributes = 1;
    assert_int_equal(lf_payload_encode(&p, &out, NULL), LF_ERR_TOO_LARGE);
    key65[64] = '\0';
    assert_int_equal(lf_payload_encode(&p, &out, NULL), LF_OK);
    one.key = "";
    assert_int_equal(lf_payload_encode(&p, &out, NULL), LF_ERR_INVALID);
    one.key = "k";
    one.value = val257;
    assert_int_equal(lf_payload_encode(&p, &out, NULL), LF_ERR_TOO_LARGE);
    val257[256] = '\0';
    assert_int_equal(lf_payload_encode(&p, &out, NULL), LF_OK);
    one.value = NULL;
    assert_int_equal(lf_payload_encode(&p, &out, NULL), LF_ERR_INVALID);
    lf_kv dup[2] = {{"a", "1"}, {"a", "2"}};
    p.attributes = dup;
    p.n_attributes = 2;
    assert_int_equal(lf_payload_encode(&p, &out, NULL), LF_ERR_INVALID);
    p = sample(LF_ENTRY_LOG);
    char src[258];
    memset(src, 's', 257);
    src[257] = '\0';
    p.source = src;
    assert_int_equal(lf_payload_encode(&p, &out, NULL), LF_ERR_TOO_LARGE);
    p = sample(LF_ENTRY_LOG);
    p.log.breadcrumbs_json = "{\"not\":\"an array\"}";
    assert_int_equal(lf_payload_encode(&p, &out, NULL), LF_ERR_INVALID);
    p.log.breadcrumbs_json = "[1,";
    assert_int_equal(lf_payload_encode(&p, &out, NULL), LF_ERR_INVALID);
    p = sample(LF_ENTRY_LOG);
    p.log.n_error_chain = 3;
    p.log.error_chain = NULL;
    assert_int_equal(lf_payload_encode(&p, &out, NULL), LF_ERR_INVALID);
    p = sample(LF_ENTRY_LOG);
    p.extra_json = "{\"message\":\"clash\"}";
    assert_int_equal(lf_payload_encode(&p, &out, NULL), LF_ERR_INVALID);
    p.extra_json = "[1]";
    assert_int_equal(lf_payload_encode(&p, &out, NULL), LF_ERR_INVALID);
    p.extra_json = "{\"custom\":{\"x\":[1,2]},\"n\":null}";
    lf_buf_reset(&out);
    assert_int_equal(lf_payload_encode(&p, &out, NULL), LF_OK);
    assert_int_equal(lf_buf_terminate(&out), LF_OK);
    assert_non_null(strstr((char *)out.data, ",\"custom\":{\"x\":[1,2]},\"n\":null}"));
    lf_buf_free(&out);
}

static lf_err dec(const char *json, int type, int64_t now)
{
    lf_payload *p = NULL;
    lf_error err = {0};
    lf_err rc = lf_payload_decode(json, strlen(json), type, now, &p, &err);
    if (rc != LF_OK) {
        assert_null(p);
        assert_int_equal(err.code, rc);
        assert_true(strlen(err.message) > 0);
    }
    lf_payload_free(p);
    return rc;
}

#define HDR "\"v\":\"2.0\",\"type\":\"log\",\"level\":7,\"ts\":\"" TS_TEXT "\""

static void test_decode_rejects(void **state)
{
    (void)state;
    int64_t now = ts_of(TS_TEXT);
    assert_int_equal(dec("{" HDR "}", 0, now), LF_OK);
    assert_int_equal(dec("{" HDR "}", 1, now), LF_OK);
    assert_int_equal(dec("{" HDR "}", 2, now), LF_ERR_INVALID); /* type mismatch */
    assert_int_equal(dec("{" HDR "}", 9, now), LF_ERR_INVALID); /* bad entry type */
    assert_int_equal(dec("{\"type\":\"log\",\"ts\":\"" TS_TEXT "\"}", 0, now), LF_ERR_INVALID);
    assert_int_equal(dec("{\"v\":\"1.0\",\"type\":\"log\",\"ts\":\"" TS_TEXT "\"}", 0, now),
                     LF_ERR_UNSUPPORTED);
    assert_int_equal(dec("{\"v\":2.0,\"type\":\"log\",\"ts\":\"" TS_TEXT "\"}", 0, now),
                     LF_ERR_UNSUPPORTED);
    assert_int_equal(dec("{\"v\":\"2.0\",\"type\":\"logs\",\"ts\":\"" TS_TEXT "\"}", 0, now),
                     LF_ERR_INVALID);
    assert_int_equal(dec("{\"v\":\"2.0\",\"type\":1,\"ts\":\"" TS_TEXT "\"}", 0, now),
                     LF_ERR_INVALID);
    assert_int_equal(dec("{\"v\":\"2.0\",\"type\":\"log\"}", 0, now), LF_ERR_INVALID); /* ts */
    assert_int_equal(dec("{\"v\":\"2.0\",\"type\":\"log\",\"ts\":\"yesterday\"}", 0, now),
                     LF_ERR_INVALID);
    assert_int_equal(dec("{\"v\":\"2.0\",\"type\":\"log\",\"ts\":12}", 0, now), LF_ERR_INVALID);
    /* level */
    assert_int_equal(
        dec("{\"v\":\"2.0\",\"type\":\"log\",\"level\":0,\"ts\":\"" TS_TEXT "\"}", 0, now),
        LF_ERR_INVALID);
    assert_int_equal(
        dec("{\"v\":\"2.0\",\"type\":\"log\",\"level\":9,\"ts\":\"" TS_TEXT "\"}", 0, now),
        LF_ERR_INVALID);
    assert_int_equal(
        dec("{\"v\":\"2.0\",\"type\":\"log\",\"level\":\"7\",\"ts\":\"" TS_TEXT "\"}", 0, now),
        LF_ERR_INVALID);
    assert_int_equal(
        dec("{\"v\":\"2.0\",\"type\":\"log\",\"level\":7.5,\"ts\":\"" TS_TEXT "\"}", 0, now),
        LF_ERR_INVALID);
    /* time window */
    int64_t sec = 1000000000LL;
    assert_int_equal(dec("{" HDR "}", 0, now - 60 * sec), LF_OK);
    assert_int_equal(dec("{" HDR "}", 0, now - 61 * sec), LF_ERR_EXPIRED);
    assert_int_equal(dec("{" HDR "}", 0, now + 365 * 86400 * sec), LF_OK);
    assert_int_equal(dec("{" HDR "}", 0, now + 367 * 86400 * sec), LF_ERR_EXPIRED);
    assert_int_equal(dec("{" HDR "}", 0, 0), LF_OK); /* window skipped */
    /* attributes */
    assert_int_equal(dec("{" HDR ",\"attributes\":{\"a\":1}}", 0, now), LF_ERR_INVALID);
    assert_int_equal(dec("{" HDR ",\"attributes\":[]}", 0, now), LF_ERR_INVALID);
    assert_int_equal(dec("{" HDR ",\"attributes\":{\"\":\"x\"}}", 0, now), LF_ERR_INVALID);
    assert_int_equal(
        dec("{" HDR ",\"attributes\":{\"k234567890123456789012345678901234567890123456789012345678"
            "901234\":\"x\"}}",
            0, now),
        LF_OK);
    assert_int_equal(
        dec("{" HDR ",\"attributes\":{\"k2345678901234567890123456789012345678901234567890123456789"
            "012345\":\"x\"}}",
            0, now),
        LF_ERR_TOO_LARGE);
    assert_int_equal(dec("{" HDR ",\"meta\":{\"a\":null}}", 0, now), LF_ERR_INVALID);
    /* duplicate keys, malformed JSON, non-object, wrong field types */
    assert_int_equal(dec("{" HDR ",\"message\":\"a\",\"message\":\"b\"}", 0, now), LF_ERR_INVALID);
    assert_int_equal(dec("{" HDR ",\"message\":\"a\"", 0, now), LF_ERR_INVALID);
    assert_int_equal(dec("[1,2]", 0, now), LF_ERR_INVALID);
    assert_int_equal(dec("", 0, now), LF_ERR_INVALID);
    assert_int_equal(dec("{" HDR ",\"message\":5}", 0, now), LF_ERR_INVALID);
    assert_int_equal(dec("{" HDR ",\"message\":\"a\\u0000b\"}", 0, now), LF_ERR_INVALID);
    assert_int_equal(dec("{" HDR ",\"message\":\"\xff\"}", 0, now), LF_ERR_INVALID);
    assert_int_equal(dec("{" HDR ",\"error_chain\":[1]}", 0, now), LF_ERR_INVALID);
    assert_int_equal(dec("{" HDR ",\"error_chain\":{}}", 0, now), LF_ERR_INVALID);
    assert_int_equal(dec("{" HDR ",\"stack_trace\":[{\"line\":\"1\"}]}", 0, now), LF_ERR_INVALID);
    assert_int_equal(dec("{" HDR ",\"breadcrumbs\":{}}", 0, now), LF_ERR_INVALID);
    assert_int_equal(dec("{" HDR ",\"message\":null,\"logger\":null}", 0, now), LF_OK);
    assert_int_equal(dec("{" HDR ",\"source\":7}", 0, now), LF_ERR_INVALID);
    assert_int_equal(dec("{\"v\":\"2.0\",\"type\":\"trace\",\"ts\":\"" TS_TEXT
                         "\",\"start_time\":null,\"duration_ms\":null}",
                         0, now),
                     LF_OK);
    assert_int_equal(dec("{\"v\":\"2.0\",\"type\":\"log\",\"ts\":null}", 0, now), LF_ERR_INVALID);
    assert_int_equal(
        dec("{\"v\":\"2.0\",\"type\":\"metric\",\"ts\":\"" TS_TEXT "\",\"value\":\"1\"}", 0, now),
        LF_ERR_INVALID);
    assert_int_equal(dec("{\"v\":\"2.0\",\"type\":\"trace\",\"ts\":\"" TS_TEXT
                         "\",\"start_time\":\"x\"}",
                         0, now),
                     LF_ERR_INVALID);
    assert_int_equal(dec("{\"v\":\"2.0\",\"type\":\"telemetry\",\"ts\":\"" TS_TEXT
                         "\",\"readings\":[{\"value\":\"x\"}]}",
                         0, now),
                     LF_ERR_INVALID);
    assert_int_equal(dec("{\"v\":\"2.0\",\"type\":\"telemetry\",\"ts\":\"" TS_TEXT
                         "\",\"readings\":[{\"value\":1}]}",
                         7, now),
                     LF_OK);
}

static void test_decode_bounds(void **state)
{
    (void)state;
    int64_t now = ts_of(TS_TEXT);
    /* 20 attributes pass, 21 do not */
    lf_buf j = LF_BUF_INIT;
    for (int n = 20; n <= 21; n++) {
        lf_buf_reset(&j);
        lf_buf_append_str(&j, "{" HDR ",\"attributes\":{");
        for (int i = 0; i < n; i++)
            lf_buf_printf(&j, "%s\"k%d\":\"v\"", i ? "," : "", i);
        lf_buf_append_str(&j, "}}");
        lf_buf_terminate(&j);
        assert_int_equal(dec((char *)j.data, 0, now), n == 20 ? LF_OK : LF_ERR_TOO_LARGE);
    }
    /* value of 256 bytes passes, 257 does not */
    for (int n = 256; n <= 257; n++) {
        lf_buf_reset(&j);
        lf_buf_append_str(&j, "{" HDR ",\"meta\":{\"k\":\"");
        for (int i = 0; i < n; i++)
            lf_buf_append_u8(&j, 'v');
        lf_buf_append_str(&j, "\"}}");
        lf_buf_terminate(&j);
        assert_int_equal(dec((char *)j.data, 0, now), n == 256 ? LF_OK : LF_ERR_TOO_LARGE);
    }
    /* source: 256 bytes pass, 257 do not */
    for (int n = 256; n <= 257; n++) {
        lf_buf_reset(&j);
        lf_buf_append_str(&j, "{" HDR ",\"source\":\"");
        for (int i = 0; i < n; i++)
            lf_buf_append_u8(&j, 's');
        lf_buf_append_str(&j, "\"}");
        lf_buf_terminate(&j);
        assert_int_equal(dec((char *)j.data, 0, now), n == 256 ? LF_OK : LF_ERR_TOO_LARGE);
    }
    /* message: 1 MiB passes, 1 MiB + 1 does not */
    for (size_t n = LF_PAYLOAD_MAX_MESSAGE; n <= LF_PAYLOAD_MAX_MESSAGE + 1; n++) {
        lf_buf_reset(&j);
        lf_buf_append_str(&j, "{" HDR ",\"message\":\"");
        lf_buf_reserve(&j, n);
        memset(j.data + j.len, 'm', n);
        j.len += n;
        lf_buf_append_str(&j, "\"}");
        lf_buf_terminate(&j);
        assert_int_equal(dec((char *)j.data, 0, now),
                         n == LF_PAYLOAD_MAX_MESSAGE ? LF_OK : LF_ERR_TOO_LARGE);
    }
    /* total size */
    lf_buf_reset(&j);
    lf_buf_append_str(&j, "{" HDR ",\"x\":\"");
    lf_buf_reserve(&j, LF_PAYLOAD_MAX_JSON);
    memset(j.data + j.len, 'x', LF_PAYLOAD_MAX_JSON);
    j.len += LF_PAYLOAD_MAX_JSON;
    lf_buf_append_str(&j, "\"}");
    lf_buf_terminate(&j);
    assert_int_equal(dec((char *)j.data, 0, now), LF_ERR_TOO_LARGE);
    /* nesting */
    for (int depth = LF_PAYLOAD_MAX_DEPTH - 1; depth <= LF_PAYLOAD_MAX_DEPTH; depth++) {
        lf_buf_reset(&j);
        lf_buf_append_str(&j, "{" HDR ",\"deep\":");
        for (int i = 0; i < depth; i++)
            lf_buf_append_str(&j, "[");
        for (int i = 0; i < depth; i++)
            lf_buf_append_str(&j, "]");
        lf_buf_append_str(&j, "}");
        lf_buf_terminate(&j);
        assert_int_equal(dec((char *)j.data, 0, now),
                         depth < LF_PAYLOAD_MAX_DEPTH ? LF_OK : LF_ERR_TOO_LARGE);
    }
    /* brackets inside strings do not count */
    lf_buf_reset(&j);
    lf_buf_append_str(&j, "{" HDR ",\"message\":\"");
    for (int i = 0; i < 100; i++)
        lf_buf_append_str(&j, "[{\\\"");
    lf_buf_append_str(&j, "\"}");
    lf_buf_terminate(&j);
    assert_int_equal(dec((char *)j.data, 0, now), LF_OK);
    lf_buf_free(&j);
}

static void test_unknown_fields_and_alias(void **state)
{
    (void)state;
    const char *ts_metric =
        "{\"v\":\"2.0\",\"type\":\"metric\",\"ts\":\"2026-11-28T03:00:00.5Z\",\"name\":\"m\","
        "\"value\":3,\"metric_type\":\"counter\",\"sdk\":{\"v\":[1,{\"x\":null}]},\"z\":1.5}";
    lf_payload *p = NULL;
    assert_int_equal(lf_payload_decode(ts_metric, strlen(ts_metric), 2, 0, &p, NULL), LF_OK);
    assert_string_equal(p->metric.kind, "counter");
    assert_true(p->metric.value == 3);
    assert_string_equal(p->extra_json, "{\"sdk\":{\"v\":[1,{\"x\":null}]},\"z\":1.5}");
    lf_buf out = LF_BUF_INIT;
    encode_ok(p, &out);
    lf_buf_terminate(&out);
    assert_string_equal(
        (char *)out.data,
        "{\"v\":\"2.0\",\"type\":\"metric\",\"ts\":\"2026-11-28T03:00:00.500000000Z\","
        "\"name\":\"m\",\"value\":3,\"kind\":\"counter\",\"sdk\":{\"v\":[1,{\"x\":null}]"
        "},\"z\":1.5}");
    lf_payload_free(p);
    /* kind wins; metric_type then is just an unknown field and is kept */
    const char *both = "{\"v\":\"2.0\",\"type\":\"metric\",\"ts\":\"" TS_TEXT
                       "\",\"kind\":\"gauge\",\"metric_type\":\"counter\"}";
    assert_int_equal(lf_payload_decode(both, strlen(both), 0, 0, &p, NULL), LF_OK);
    assert_string_equal(p->metric.kind, "gauge");
    assert_string_equal(p->extra_json, "{\"metric_type\":\"counter\"}");
    lf_buf_reset(&out);
    encode_ok(p, &out);
    lf_payload_free(p);
    /* fields of another type are unknown here, and kept */
    const char *other = "{\"v\":\"2.0\",\"type\":\"event\",\"ts\":\"" TS_TEXT
                        "\",\"event\":\"e\",\"message\":\"kept\"}";
    assert_int_equal(lf_payload_decode(other, strlen(other), 4, 0, &p, NULL), LF_OK);
    assert_string_equal(p->extra_json, "{\"message\":\"kept\"}");
    lf_payload_free(p);
    lf_payload_free(NULL);
    lf_buf_free(&out);
}

static void test_vectors(void **state)
{
    (void)state;
    json_t *root = lf_test_load_vectors("v3-entries.json");
    json_t *entries = json_object_get(root, "entries");
    assert_true(json_array_size(entries) >= 8);
    size_t i;
    json_t *e;
    json_array_foreach(entries, i, e)
    {
        const char *plain = lf_test_str(e, "plaintext");
        int type = (int)json_integer_value(json_object_get(e, "entry_type"));
        lf_payload *p = NULL;
        lf_error err = {0};
        if (lf_payload_decode(plain, strlen(plain), type, 0, &p, &err) != LF_OK)
            fail_msg("%s: %s", lf_test_str(e, "name"), err.message);
        assert_int_equal(p->type, type);
        char ts[LF_RFC3339_MAX];
        lf_rfc3339_format(p->ts_ns, ts);
        assert_string_equal(ts, lf_test_str(e, "timestamp"));
        if (json_is_true(json_object_get(e, "canonical"))) {
            lf_buf out = LF_BUF_INIT;
            encode_ok(p, &out);
            assert_int_equal(out.len, strlen(plain));
            assert_memory_equal(out.data, plain, out.len);
            lf_buf_free(&out);
        } else {
            assert_string_equal(p->metric.kind, "distribution"); /* metric_type alias */
            assert_non_null(p->extra_json);
        }
        lf_payload_free(p);
    }
    json_decref(root);
}

static void test_type_names(void **state)
{
    (void)state;
    assert_string_equal(lf_entry_type_name(7), "telemetry");
    assert_null(lf_entry_type_name(0));
    assert_null(lf_entry_type_name(8));
    assert_int_equal(lf_entry_type_from_name("audit", 5), 5);
    assert_int_equal(lf_entry_type_from_name("telemetry", 9), 6);
    assert_int_equal(lf_entry_type_from_name("aud", 3), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rfc3339_known),     cmocka_unit_test(test_rfc3339_round_trip),
        cmocka_unit_test(test_rfc3339_rejects),   cmocka_unit_test(test_round_trip_all_types),
        cmocka_unit_test(test_encode_escaping),   cmocka_unit_test(test_numbers),
        cmocka_unit_test(test_encode_validation), cmocka_unit_test(test_decode_rejects),
        cmocka_unit_test(test_decode_bounds),     cmocka_unit_test(test_unknown_fields_and_alias),
        cmocka_unit_test(test_vectors),           cmocka_unit_test(test_type_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

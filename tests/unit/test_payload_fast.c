/*
 * test_payload_fast.c — the payload decoder's fast path (payload_fast.c) at its edges.
 *
 * Every case runs the input through the fast path, the jansson path (lf_payload_decode_slow)
 * and lf_payload_decode, and asserts: whether the fast path took it (flat common shapes yes;
 * arrays, unknown members, anything refused no), the jansson path's verdict and lf_err code,
 * that lf_payload_decode agrees with it, and that accepted payloads are identical (every
 * field, and the re-encoding byte for byte). Escapes, surrogates, invalid UTF-8, control
 * characters, duplicate names, every limit at and past its edge, and the fallback shapes.
 */
#include "testutil.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "logflux/payload.h"
#include "payload_internal.h"

#define NOW 1795834800123456789LL /* 2026-11-28T03:00:00.123456789Z */
#define HDR "{\"v\":\"2.0\",\"type\":\"log\",\"ts\":\"2026-11-28T03:00:00.123456789Z\""

static void same_str(const char *a, const char *b)
{
    assert_true((a == NULL) == (b == NULL));
    if (a != NULL)
        assert_string_equal(a, b);
}

static void same_payload(const lf_payload *a, const lf_payload *b)
{
    assert_int_equal(a->type, b->type);
    assert_int_equal(a->level, b->level);
    assert_true(a->ts_ns == b->ts_ns);
    assert_int_equal(a->n_attributes, b->n_attributes);
    assert_int_equal(a->n_meta, b->n_meta);
    assert_true((a->attributes == NULL) == (b->attributes == NULL));
    assert_true((a->meta == NULL) == (b->meta == NULL));
    same_str(a->source, b->source);
    same_str(a->extra_json, b->extra_json);
    for (size_t i = 0; i < a->n_attributes; i++) {
        same_str(a->attributes[i].key, b->attributes[i].key);
        same_str(a->attributes[i].value, b->attributes[i].value);
    }
    for (size_t i = 0; i < a->n_meta; i++) {
        same_str(a->meta[i].key, b->meta[i].key);
        same_str(a->meta[i].value, b->meta[i].value);
    }
    assert_memory_equal(&a->metric.value, &b->metric.value, sizeof(double));
    assert_memory_equal(&a->trace.duration_ms, &b->trace.duration_ms, sizeof(double));
    assert_int_equal(a->trace.has_duration, b->trace.has_duration);
    lf_buf ea = LF_BUF_INIT, eb = LF_BUF_INIT;
    assert_int_equal(lf_payload_encode(a, &ea, NULL), LF_OK);
    assert_int_equal(lf_payload_encode(b, &eb, NULL), LF_OK);
    assert_int_equal(ea.len, eb.len);
    assert_memory_equal(ea.data, eb.data, ea.len);
    lf_buf_free(&ea);
    lf_buf_free(&eb);
}

/* Runs all three decoders on (json, len) and checks what is said above. Returns the
 * fast-path payload (caller frees) when it took the input, for extra checks. */
static lf_payload *agree_n(const char *json, size_t len, int type, int64_t now, bool fast_takes,
                           lf_err expect)
{
    lf_payload *fast = NULL, *slow = NULL, *disp = NULL;
    lf_error se = {0}, de = {0};
    bool took = lf_payload_decode_fast(json, len, type, now, &fast);
    lf_err src = lf_payload_decode_slow(json, len, type, now, &slow, &se);
    lf_err drc = lf_payload_decode(json, len, type, now, &disp, &de);
    if (took != fast_takes || src != expect)
        fprintf(stderr, "case: %.200s\n  fast took %d, slow %s (%s)\n", json, took,
                lf_strerror(src), se.message);
    assert_int_equal(took, fast_takes);
    assert_int_equal(src, expect);
    assert_int_equal(drc, src);
    if (took)
        same_payload(fast, slow);
    else
        assert_null(fast);
    if (src == LF_OK) {
        same_payload(disp, slow);
    } else {
        assert_null(disp);
        assert_int_equal(de.code, se.code);
        assert_string_equal(de.message, se.message); /* refusals are the jansson path's */
    }
    lf_payload_free(slow);
    lf_payload_free(disp);
    return fast;
}

static lf_payload *agree(const char *json, int type, int64_t now, bool fast_takes, lf_err expect)
{
    return agree_n(json, strlen(json), type, now, fast_takes, expect);
}

static void ok_fast(const char *json)
{
    lf_payload_free(agree(json, 0, 0, true, LF_OK));
}
static void slow_ok(const char *json)
{
    agree(json, 0, 0, false, LF_OK);
}
static void refused(const char *json, lf_err code)
{
    agree(json, 0, 0, false, code);
}

static void test_escapes(void **state)
{
    (void)state;
    lf_payload *p = agree(HDR ",\"message\":\"q\\\" b\\\\ s\\/ \\b\\f\\n\\r\\t "
                              "\\u00e9\\u20AC\\ud83d\\ude00\\uD83D\\uDE00 \\u0001\\u001f\"}",
                          0, 0, true, LF_OK);
    assert_string_equal(p->log.message, "q\" b\\ s/ \b\f\n\r\t \xc3\xa9\xe2\x82\xac"
                                        "\xf0\x9f\x98\x80\xf0\x9f\x98\x80 \x01\x1f");
    lf_payload_free(p);
    /* escaped member names are the same names */
    p = agree("{\"\\u0076\":\"2.0\",\"typ\\u0065\":\"log\",\"ts\":\"2026-11-28T03:00:00Z\","
              "\"attributes\":{\"\\u00e9\":\"\\u00e9\"}}",
              0, 0, true, LF_OK);
    assert_string_equal(p->attributes[0].key, "\xc3\xa9");
    lf_payload_free(p);
    ok_fast(HDR ",\"message\":\"raw UTF-8: \xc3\xa9 \xe2\x9c\x93 \xf0\x9f\x98\x80 \x7f\"}");
    ok_fast(HDR ",\"message\":\"\\uffff\\u0800\\u07ff\\u0080\\u007f\"}");
}

static void test_bad_strings(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "\\ud83d",
        "\\ud83dx",
        "\\ud83d\\u0041",
        "\\ude00",
        "\\ud83d\\ud83d",
        "\\u0000",
        "\\x41",
        "\\u12",
        "\\u12g4",
        "\\U0041",
        "\x01",
        "\x1f",
        "\t",
        "\n",
        "\xc0\x80",
        "\xc1\xbf",
        "\xe0\x80\x80",
        "\xed\xa0\x80",
        "\xf4\x90\x80\x80",
        "\xf5\x80\x80\x80",
        "\x80",
        "\xe2\x82",
        "\xff",
        "\xf0\x9f\x98",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        char json[256];
        snprintf(json, sizeof json, HDR ",\"message\":\"a%sb\"}", bad[i]);
        refused(json, LF_ERR_INVALID);
        snprintf(json, sizeof json, HDR ",\"attributes\":{\"k%s\":\"v\"}}", bad[i]);
        refused(json, LF_ERR_INVALID);
    }
    /* a NUL byte inside a string, and unterminated strings */
    agree_n(HDR ",\"message\":\"a\0b\"}", sizeof(HDR ",\"message\":\"a\0b\"}") - 1, 0, 0, false,
            LF_ERR_INVALID);
    refused(HDR ",\"message\":\"abc", LF_ERR_INVALID);
    refused(HDR ",\"message\":\"abc\\", LF_ERR_INVALID);
}

static void test_duplicates(void **state)
{
    (void)state;
    refused(HDR ",\"message\":\"a\",\"message\":\"b\"}", LF_ERR_INVALID);
    refused(HDR ",\"v\":\"2.0\"}", LF_ERR_INVALID);
    refused(HDR ",\"m\\u0065ssage\":\"a\",\"message\":\"b\"}", LF_ERR_INVALID);
    refused(HDR ",\"attributes\":{\"a\":\"1\",\"a\":\"2\"}}", LF_ERR_INVALID);
    refused(HDR ",\"attributes\":{\"a\":\"1\",\"\\u0061\":\"2\"}}", LF_ERR_INVALID);
    ok_fast(HDR ",\"attributes\":{\"a\":\"1\",\"ab\":\"2\"},\"meta\":{\"a\":\"1\"}}");
}

static void rep(char *dst, char c, size_t n)
{
    memset(dst, c, n);
    dst[n] = '\0';
}

static void test_limits(void **state)
{
    (void)state;
    char s[400], json[2048];
    rep(s, 's', 256);
    snprintf(json, sizeof json, HDR ",\"source\":\"%s\"}", s);
    ok_fast(json);
    rep(s, 's', 257);
    snprintf(json, sizeof json, HDR ",\"source\":\"%s\"}", s);
    refused(json, LF_ERR_TOO_LARGE);
    rep(s, 'k', 64);
    snprintf(json, sizeof json, HDR ",\"attributes\":{\"%s\":\"v\"}}", s);
    ok_fast(json);
    rep(s, 'k', 65);
    snprintf(json, sizeof json, HDR ",\"attributes\":{\"%s\":\"v\"}}", s);
    refused(json, LF_ERR_TOO_LARGE);
    refused(HDR ",\"meta\":{\"\":\"v\"}}", LF_ERR_INVALID);
    rep(s, 'v', 256);
    snprintf(json, sizeof json, HDR ",\"meta\":{\"k\":\"%s\"}}", s);
    ok_fast(json);
    rep(s, 'v', 257);
    snprintf(json, sizeof json, HDR ",\"meta\":{\"k\":\"%s\"}}", s);
    refused(json, LF_ERR_TOO_LARGE);
    /* limits count decoded bytes: 128 x "\u00e9" is 256 bytes, 129 is 257 */
    char esc[129 * 6 + 1] = "";
    for (int i = 0; i < 128; i++)
        strcat(esc, "\\u00e9");
    snprintf(json, sizeof json, HDR ",\"attributes\":{\"k\":\"%s\"}}", esc);
    ok_fast(json);
    strcat(esc, "\\u00e9");
    snprintf(json, sizeof json, HDR ",\"attributes\":{\"k\":\"%s\"}}", esc);
    refused(json, LF_ERR_TOO_LARGE);
    /* 20 attributes, then 21 */
    size_t off = (size_t)snprintf(json, sizeof json, HDR ",\"attributes\":{");
    for (int i = 0; i < 21; i++) {
        off += (size_t)snprintf(json + off, sizeof json - off, "%s\"k%d\":\"v\"", i ? "," : "", i);
        if (i == 19) {
            char ok[2100];
            snprintf(ok, sizeof ok, "%s}}", json);
            ok_fast(ok);
        }
    }
    snprintf(json + off, sizeof json - off, "}}");
    refused(json, LF_ERR_TOO_LARGE);
    /* level */
    ok_fast(HDR ",\"level\":1}");
    ok_fast(HDR ",\"level\":8}");
    refused(HDR ",\"level\":0}", LF_ERR_INVALID);
    refused(HDR ",\"level\":9}", LF_ERR_INVALID);
    refused(HDR ",\"level\":-1}", LF_ERR_INVALID);
    refused(HDR ",\"level\":7.0}", LF_ERR_INVALID);
    refused(HDR ",\"level\":\"7\"}", LF_ERR_INVALID);
    refused(HDR ",\"level\":null}", LF_ERR_INVALID);
    /* the message limit is 1 MiB of decoded text */
    size_t big = LF_PAYLOAD_MAX_MESSAGE + 1;
    char *m = malloc(big + 128);
    assert_non_null(m);
    int h = snprintf(m, 128, HDR ",\"message\":\"");
    memset(m + h, 'm', big - 1);
    strcpy(m + h + big - 1, "\"}");
    lf_payload_free(agree(m, 0, 0, true, LF_OK));
    memset(m + h, 'm', big);
    strcpy(m + h + big, "\"}");
    refused(m, LF_ERR_TOO_LARGE);
    free(m);
}

static void test_time_window(void **state)
{
    (void)state;
    lf_payload_free(agree(HDR "}", 1, NOW, true, LF_OK));
    lf_payload_free(agree(HDR "}", 1, NOW - LF_PAYLOAD_MAX_FUTURE_NS, true, LF_OK));
    agree(HDR "}", 1, NOW - LF_PAYLOAD_MAX_FUTURE_NS - 1, false, LF_ERR_EXPIRED);
    lf_payload_free(agree(HDR "}", 1, NOW + LF_PAYLOAD_MAX_AGE_NS, true, LF_OK));
    agree(HDR "}", 1, NOW + LF_PAYLOAD_MAX_AGE_NS + 1, false, LF_ERR_EXPIRED);
    refused("{\"v\":\"2.0\",\"type\":\"log\"}", LF_ERR_INVALID);
    refused("{\"v\":\"2.0\",\"type\":\"log\",\"ts\":null}", LF_ERR_INVALID);
    refused("{\"v\":\"2.0\",\"type\":\"log\",\"ts\":\"yesterday\"}", LF_ERR_INVALID);
    refused("{\"v\":\"2.0\",\"type\":\"trace\",\"ts\":\"2026-11-28T03:00:00Z\",\"start_time\":1}",
            LF_ERR_INVALID);
    ok_fast("{\"v\":\"2.0\",\"type\":\"trace\",\"ts\":\"2026-11-28T03:00:00Z\",\"start_time\":null,"
            "\"end_time\":\"2026-11-28T04:00:00+01:00\",\"duration_ms\":null}");
}

static void test_header_and_types(void **state)
{
    (void)state;
    refused("{\"v\":\"2.1\",\"type\":\"log\",\"ts\":\"2026-11-28T03:00:00Z\"}", LF_ERR_UNSUPPORTED);
    refused("{\"v\":2.0,\"type\":\"log\",\"ts\":\"2026-11-28T03:00:00Z\"}", LF_ERR_UNSUPPORTED);
    refused("{\"v\":null,\"type\":\"log\",\"ts\":\"2026-11-28T03:00:00Z\"}", LF_ERR_UNSUPPORTED);
    refused("{\"type\":\"log\",\"ts\":\"2026-11-28T03:00:00Z\"}", LF_ERR_INVALID);
    refused("{\"v\":\"2.0\",\"type\":\"logs\",\"ts\":\"2026-11-28T03:00:00Z\"}", LF_ERR_INVALID);
    refused("{\"v\":\"2.0\",\"type\":null,\"ts\":\"2026-11-28T03:00:00Z\"}", LF_ERR_INVALID);
    const char *tel = "{\"v\":\"2.0\",\"type\":\"telemetry\",\"ts\":\"2026-11-28T03:00:00Z\","
                      "\"device_id\":\"d\"}";
    lf_payload *p = agree(tel, 0, 0, true, LF_OK);
    assert_int_equal(p->type, LF_ENTRY_TELEMETRY);
    lf_payload_free(p);
    p = agree(tel, 7, 0, true, LF_OK);
    assert_int_equal(p->type, LF_ENTRY_TELEMETRY_MANAGED);
    lf_payload_free(p);
    lf_payload_free(agree(tel, 6, 0, true, LF_OK));
    agree(tel, 1, 0, false, LF_ERR_INVALID);
    agree(tel, 8, 0, false, LF_ERR_INVALID);
    agree(tel, -1, 0, false, LF_ERR_INVALID);
    agree(HDR "}", 7, 0, false, LF_ERR_INVALID);
    /* a field of another type is an unknown member: extra_json, jansson path */
    slow_ok(HDR ",\"device_id\":\"d\"}");
    refused(HDR ",\"message\":5}", LF_ERR_INVALID);
    refused(HDR ",\"source\":true}", LF_ERR_INVALID);
    ok_fast("{\"v\":\"2.0\",\"type\":\"audit\",\"ts\":\"2026-11-28T03:00:00Z\",\"action\":\"a\","
            "\"actor\":\"b\",\"actor_type\":\"c\",\"resource\":\"d\",\"resource_id\":\"e\","
            "\"outcome\":null}");
    ok_fast("{\"v\":\"2.0\",\"type\":\"event\",\"ts\":\"2026-11-28T03:00:00Z\",\"event\":\"e\"}");
}

static void test_metric_and_numbers(void **state)
{
    (void)state;
#define MET "{\"v\":\"2.0\",\"type\":\"metric\",\"ts\":\"2026-11-28T03:00:00Z\""
    lf_payload *p = agree(MET ",\"value\":-0,\"metric_type\":\"gauge\"}", 0, 0, true, LF_OK);
    assert_string_equal(p->metric.kind, "gauge");
    assert_false(signbit(p->metric.value)); /* jansson: integer 0 */
    lf_payload_free(p);
    p = agree(MET ",\"value\":-0.0}", 0, 0, true, LF_OK);
    assert_true(signbit(p->metric.value));
    lf_payload_free(p);
    ok_fast(MET ",\"value\":1.5e-3,\"kind\":\"counter\"}");
    ok_fast(MET ",\"value\":123456789012345678}");
    ok_fast(MET ",\"value\":-123456789012345678}");
    ok_fast(MET ",\"value\":0.1E+2}");
    ok_fast(MET ",\"value\":1e-400}");
    ok_fast(MET ",\"value\":null}");
    ok_fast(MET ",\"value\":9007199254740993.5}");
    slow_ok(MET ",\"value\":1234567890123456789}");
    refused(MET ",\"value\":12345678901234567890}", LF_ERR_INVALID);
    refused(MET ",\"value\":1e400}", LF_ERR_INVALID);
    refused(MET ",\"value\":01}", LF_ERR_INVALID);
    refused(MET ",\"value\":1.}", LF_ERR_INVALID);
    refused(MET ",\"value\":.5}", LF_ERR_INVALID);
    refused(MET ",\"value\":+1}", LF_ERR_INVALID);
    refused(MET ",\"value\":-}", LF_ERR_INVALID);
    refused(MET ",\"value\":1e}", LF_ERR_INVALID);
    refused(MET ",\"value\":\"1\"}", LF_ERR_INVALID);
    refused(MET ",\"value\":NaN}", LF_ERR_INVALID);
    /* metric_type is the alias only while kind is absent; otherwise an unknown member */
    slow_ok(MET ",\"kind\":null,\"metric_type\":\"gauge\"}");
    slow_ok(MET ",\"metric_type\":\"gauge\",\"kind\":\"counter\"}");
    slow_ok(HDR ",\"metric_type\":\"gauge\"}");
    ok_fast(MET ",\"metric_type\":null}");
    ok_fast("{\"v\":\"2.0\",\"type\":\"trace\",\"ts\":\"2026-11-28T03:00:00Z\",\"duration_ms\":0}");
    ok_fast(
        "{\"v\":\"2.0\",\"type\":\"trace\",\"ts\":\"2026-11-28T03:00:00Z\",\"duration_ms\":2.5}");
#undef MET
}

static void test_fallback_shapes(void **state)
{
    (void)state;
    slow_ok(HDR ",\"error_chain\":[{\"type\":\"E\",\"message\":\"m\"}]}");
    slow_ok(HDR ",\"stack_trace\":[{\"function\":\"f\",\"line\":3}]}");
    slow_ok(HDR ",\"breadcrumbs\":[{\"a\":1}]}");
    slow_ok("{\"v\":\"2.0\",\"type\":\"telemetry\",\"ts\":\"2026-11-28T03:00:00Z\","
            "\"readings\":[{\"name\":\"t\",\"value\":1}]}");
    slow_ok(HDR ",\"custom\":{\"deep\":[1,true,null]}}");
    slow_ok(HDR ",\"x\":\"y\"}");
    refused(HDR ",\"attributes\":{\"a\":1}}", LF_ERR_INVALID);
    refused(HDR ",\"attributes\":{\"a\":{\"b\":\"c\"}}}", LF_ERR_INVALID);
    refused(HDR ",\"attributes\":null}", LF_ERR_INVALID);
    refused(HDR ",\"attributes\":[]}", LF_ERR_INVALID);
    refused(HDR ",\"message\":\"a\",}", LF_ERR_INVALID);
    refused(HDR "} x", LF_ERR_INVALID);
    refused(HDR "}}", LF_ERR_INVALID);
    refused(HDR, LF_ERR_INVALID);
    refused("", LF_ERR_INVALID);
    refused("[]", LF_ERR_INVALID);
    refused("\"s\"", LF_ERR_INVALID);
    refused("{}", LF_ERR_INVALID);
    refused("\xef\xbb\xbf" HDR "}", LF_ERR_INVALID);
    refused(HDR ",\"message\":nul}", LF_ERR_INVALID);
    ok_fast(" \t\r\n" HDR " , \"message\" : null , \"attributes\" : { } } \n");
}

/* Lots of decodes of realistic entries; under ASan this also checks free/wipe of both kinds. */
static void test_many(void **state)
{
    (void)state;
    for (int i = 0; i < 2000; i++) {
        char json[512];
        snprintf(json, sizeof json,
                 HDR ",\"source\":\"checkout-api\",\"level\":%d,\"message\":\"request %d: "
                     "payment \\\"%d\\\" done\",\"logger\":\"http\",\"attributes\":{\"env\":"
                     "\"prod\",\"request_id\":\"req-%08x\"}%s}",
                 1 + i % 8, i, i * 7, (unsigned)i * 2654435761u,
                 i % 10 == 0 ? ",\"error_chain\":[]" : "");
        lf_payload *p = NULL;
        assert_int_equal(lf_payload_decode(json, strlen(json), 1, 0, &p, NULL), LF_OK);
        assert_int_equal(p->level, 1 + i % 8);
        assert_int_equal(p->n_attributes, 2);
        lf_payload_free(p);
        if (i % 100 == 0)
            lf_payload_free(agree(json, 1, 0, i % 10 != 0, LF_OK));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_escapes),
        cmocka_unit_test(test_bad_strings),
        cmocka_unit_test(test_duplicates),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_time_window),
        cmocka_unit_test(test_header_and_types),
        cmocka_unit_test(test_metric_and_numbers),
        cmocka_unit_test(test_fallback_shapes),
        cmocka_unit_test(test_many),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

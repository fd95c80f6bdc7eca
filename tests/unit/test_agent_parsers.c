/*
 * test_agent_parsers.c — the agent's parsers (src/agent/parsers/), table-driven over lines as
 * real programs write them (written for these tests): level names and detection (including
 * words that must NOT count as levels), timestamps in every supported form and out-of-range
 * ones, json, regex (named groups, limits, invalid UTF-8, concurrent use of one parser),
 * nginx access (combined, common, extended, JSON) and error logs, syslog RFC 5424 and 3164
 * (year inference, missing PRI/hostname/tag), malformed input of every kind, and the
 * contract that a refused record leaves the event exactly as it was.
 */
#define _GNU_SOURCE
#include "testutil.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "parsers/parser.h"

#define NS 1000000000LL
#define T0 1704207845LL /* 2024-01-02T15:04:05Z */

/* ---- helpers ---- */

static lf_agent_event *new_event(void)
{
    lf_agent_event *ev = calloc(1, sizeof *ev);
    assert_non_null(ev);
    return ev;
}

static void free_event(lf_agent_event *ev)
{
    lf_agent_event_free(ev);
    free(ev);
}

static void assert_label(const lf_agent_event *ev, const char *key, const char *want)
{
    const char *got = lf_agent_event_label(ev, key);
    if (want == NULL) {
        if (got != NULL)
            fail_msg("label %s: expected absent, got \"%s\"", key, got);
        return;
    }
    if (got == NULL)
        fail_msg("label %s: expected \"%s\", absent", key, want);
    assert_string_equal(got, want);
}

static void assert_message(const lf_agent_event *ev, const char *want)
{
    assert_non_null(ev->message);
    if (ev->message_len != strlen(want) || memcmp(ev->message, want, ev->message_len) != 0)
        fail_msg("message: expected \"%s\", got \"%.*s\"", want, (int)ev->message_len, ev->message);
}

/* An event as an input hands it over, with a label of its own; refused records must leave it
 * byte for byte as it was. */
static void prefill(lf_agent_event *ev)
{
    lf_agent_event_reset(ev);
    ev->message = "raw";
    ev->message_len = 3;
    ev->ts_ns = 42;
    ev->level = 0;
    assert_true(lf_agent_event_set_label(ev, "input", 5, "tail", 4));
}

typedef lf_err (*parse_fn)(const char *d, size_t n, lf_agent_event *ev, lf_error *err);

static void assert_refused(parse_fn fn, const char *line, size_t len)
{
    lf_agent_event *ev = new_event(), *copy = new_event();
    prefill(ev);
    memcpy(copy, ev, sizeof *ev);
    lf_error err = {0};
    lf_err rc = fn(line, len, ev, &err);
    if (rc != LF_ERR_INVALID)
        fail_msg("expected LF_ERR_INVALID for \"%.*s\", got %d", (int)len, line, rc);
    assert_true(err.message[0] != '\0');
    assert_memory_equal(ev, copy, sizeof *ev);
    memset(copy, 0, sizeof *copy);
    free(copy);
    free_event(ev);
}

/* ---- levels ---- */

static void test_level_parse(void **state)
{
    (void)state;
    static const struct {
        const char *s;
        int want;
    } cases[] = {
        {"emerg", LF_LEVEL_EMERGENCY},
        {"EMERGENCY", LF_LEVEL_EMERGENCY},
        {"panic", LF_LEVEL_EMERGENCY},
        {"Fatal", LF_LEVEL_EMERGENCY},
        {"alert", LF_LEVEL_ALERT},
        {"crit", LF_LEVEL_CRITICAL},
        {"CRITICAL", LF_LEVEL_CRITICAL},
        {"err", LF_LEVEL_ERROR},
        {"error", LF_LEVEL_ERROR},
        {"EROR", LF_LEVEL_ERROR},
        {"warn", LF_LEVEL_WARNING},
        {"Warning", LF_LEVEL_WARNING},
        {"notice", LF_LEVEL_NOTICE},
        {"info", LF_LEVEL_INFO},
        {"INFORMATION", LF_LEVEL_INFO},
        {"informational", LF_LEVEL_INFO},
        {"debug", LF_LEVEL_DEBUG},
        {"trace", LF_LEVEL_DEBUG},
        {"dbg", LF_LEVEL_DEBUG},
        {"E", LF_LEVEL_ERROR},
        {"w", LF_LEVEL_WARNING},
        {"I", LF_LEVEL_INFO},
        {"D", LF_LEVEL_DEBUG},
        {"F", LF_LEVEL_EMERGENCY},
        {"0", LF_LEVEL_EMERGENCY},
        {"3", LF_LEVEL_ERROR},
        {"7", LF_LEVEL_DEBUG},
        {" warn\n", LF_LEVEL_WARNING},
        {"30", LF_LEVEL_INFO},
        {"50", LF_LEVEL_ERROR},
        {"60", LF_LEVEL_EMERGENCY},
        {"10", LF_LEVEL_DEBUG},
        {"8", 0},
        {"35", 0},
        {"123", 0},
        {"-1", 0},
        {"", 0},
        {"x", 0},
        {"verbose", 0},
        {"errors", 0},
        {"informationally", 0},
        {"warn ing", 0},
        {"in", 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int got = lf_level_parse(cases[i].s, strlen(cases[i].s));
        if (got != cases[i].want)
            fail_msg("lf_level_parse(\"%s\") = %d, want %d", cases[i].s, got, cases[i].want);
    }
    assert_int_equal(lf_level_parse(NULL, 3), 0);
    /* Not NUL-terminated: only len bytes count. */
    assert_int_equal(lf_level_parse("warning", 4), LF_LEVEL_WARNING);
}

static void test_level_detect(void **state)
{
    (void)state;
    static const struct {
        const char *s;
        int want;
    } cases[] = {
        {"ERROR could not open /var/lib/app/state.db", LF_LEVEL_ERROR},
        {"WARN disk /data is 91% full", LF_LEVEL_WARNING},
        {"warning: deprecated option 'cache_size'", LF_LEVEL_WARNING},
        {"ERROR:root:payment declined", LF_LEVEL_ERROR},
        {"NOTICE: checkpoint complete", LF_LEVEL_NOTICE},
        {"  DEBUG|cache miss for key user:17", LF_LEVEL_DEBUG},
        {"2024-01-02 15:04:05,123 ERROR [worker-3] job 17 failed", LF_LEVEL_ERROR},
        {"2024-01-02T15:04:05.123Z [warn] retrying in 5s", LF_LEVEL_WARNING},
        {"2024/01/02 15:04:05 [error] 12#0: *3 open() failed", LF_LEVEL_ERROR},
        {"2024-01-02 15:04:05.123  INFO 4242 --- [main] c.e.Shop : Started", LF_LEVEL_INFO},
        {"[2024-01-02 15:04:05] [CRITICAL] out of file descriptors", LF_LEVEL_CRITICAL},
        {"15:04:05 [main] [ FATAL ] heap exhausted", LF_LEVEL_EMERGENCY},
        {"[E] bad checksum", LF_LEVEL_ERROR},
        {"<3>mount failed", LF_LEVEL_ERROR},
        {"<6>link is up", LF_LEVEL_INFO},
        {"<W> low battery", LF_LEVEL_WARNING},
        {"E0102 15:04:05.000000    1 reflector.go:138] watch failed", LF_LEVEL_ERROR},
        {"I0102 15:04:05.123456 4711 server.go:42] serving on :8443", LF_LEVEL_INFO},
        {"W0102 15:04:05.000000 1 x.go:1] slow", LF_LEVEL_WARNING},
        {"time=2024-01-02T15:04:05Z level=warn msg=\"queue is deep\"", LF_LEVEL_WARNING},
        {"ts=1 lvl=eror caller=db.go:88 msg=x", LF_LEVEL_ERROR},
        {"at=info severity=ERR msg=y", LF_LEVEL_ERROR},
        {"level=\"debug\" msg=z", LF_LEVEL_DEBUG},
        {"{\"ts\":1704207845,\"level\":\"debug\",\"msg\":\"tick\"}", LF_LEVEL_DEBUG},
        {"{\"level\": 50, \"msg\": \"pino error\"}", LF_LEVEL_ERROR},
        {"{\"Severity\" : \"Warning\"}", LF_LEVEL_WARNING},
        {"worker 3: [info] ready", LF_LEVEL_INFO},
        /* Ordinary words are not levels. */
        {"failed to read error count", 0},
        {"user info updated", 0},
        {"Error opening file", 0},
        {"the level: 5 is high", 0},
        {"set level=3 done", 0},
        {"loglevel=debug", 0},
        {"I am here", 0},
        {"DEBUGGER attached", 0},
        {"GET /error HTTP/1.1 500", 0},
        {"errors=0 warnings=3", 0},
        {"see [E] above", 0},
        {"x [errors] y", 0},
        {"E012 15:04:05 not klog", 0},
        {"", 0},
        {"[", 0},
        {"<", 0},
        {"level=", 0},
        {"\"level\":", 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int got = lf_level_detect(cases[i].s, strlen(cases[i].s));
        if (got != cases[i].want)
            fail_msg("lf_level_detect(\"%s\") = %d, want %d", cases[i].s, got, cases[i].want);
    }
    /* Only the first 256 bytes are looked at. */
    char line[600];
    memset(line, 'a', sizeof line);
    memcpy(line, "x ", 2);
    memcpy(line + 300, " [error] ", 9);
    assert_int_equal(lf_level_detect(line, sizeof line), 0);
    memcpy(line + 100, " [error] ", 9);
    assert_int_equal(lf_level_detect(line, sizeof line), LF_LEVEL_ERROR);
    /* Not NUL-terminated: the word ends where len does. */
    assert_int_equal(lf_level_detect("WARNING", 4), LF_LEVEL_WARNING);
    assert_int_equal(lf_level_detect(NULL, 10), 0);
}

/* ---- time ---- */

typedef struct time_case {
    const char *s;
    const char *fmt;
    int64_t want; /* -1 = must be refused */
} time_case;

static void run_time_cases(const time_case *cases, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        int64_t got = -7;
        lf_error err = {0};
        lf_err rc = lf_parse_time(cases[i].s, strlen(cases[i].s), cases[i].fmt, &got, &err);
        if (cases[i].want < 0) {
            if (rc != LF_ERR_INVALID)
                fail_msg("time \"%s\" (%s): expected refusal, got %lld", cases[i].s,
                         cases[i].fmt ? cases[i].fmt : "auto", (long long)got);
            assert_true(err.message[0] != '\0');
        } else if (rc != LF_OK || got != cases[i].want) {
            fail_msg("time \"%s\" (%s): rc %d, got %lld, want %lld", cases[i].s,
                     cases[i].fmt ? cases[i].fmt : "auto", rc, (long long)got,
                     (long long)cases[i].want);
        }
    }
}

static void test_time_rfc3339(void **state)
{
    (void)state;
    static const time_case cases[] = {
        {"2024-01-02T15:04:05Z", NULL, T0 * NS},
        {"2024-01-02T15:04:05.123456789Z", NULL, T0 * NS + 123456789},
        {"2024-01-02T15:04:05.1Z", "", T0 * NS + 100000000},
        {"2024-01-02T15:04:05.1234567891234Z", NULL, T0 * NS + 123456789},
        {"2024-01-02T16:04:05+01:00", NULL, T0 * NS},
        {"2024-01-02T10:04:05-0500", "rfc3339", T0 * NS},
        {"2024-01-02T20:34:05+05:30", NULL, T0 * NS},
        {"2024-01-02T17:04:05+02", NULL, T0 * NS},
        {"2024-01-02 15:04:05", NULL, T0 * NS},
        {"2024-01-02t15:04:05z", NULL, T0 * NS},
        {"2024-01-02T15:04:05,5Z", NULL, T0 * NS + 500000000},
        {"  2024-01-02T15:04:05Z\n", NULL, T0 * NS},
        {"2024-02-29T23:59:59Z", NULL, 1709251199LL * NS},
        {"2016-12-31T23:59:60Z", NULL, 1483228800LL * NS}, /* leap second */
        {"1970-01-01T00:00:00.000000001Z", NULL, 1},
        {"2262-04-11T23:47:15Z", NULL, 9223372035LL * NS},
        {"2024-13-02T15:04:05Z", NULL, -1},
        {"2024-02-30T00:00:00Z", NULL, -1},
        {"2023-02-29T00:00:00Z", NULL, -1},
        {"2024-01-00T00:00:00Z", NULL, -1},
        {"2024-01-02T24:00:00Z", NULL, -1},
        {"2024-01-02T15:60:00Z", NULL, -1},
        {"2024-01-02T15:04:61Z", NULL, -1},
        {"2024-01-02T15:04:05+24:00", NULL, -1},
        {"2024-01-02T15:04:05+01:60", NULL, -1},
        {"2024-01-02T15:04:05Zjunk", NULL, -1},
        {"2024-01-02T15:04:05.Z", NULL, -1},
        {"2024-01-02T15:04", NULL, -1},
        {"2024-01-02", NULL, -1},
        {"2024-1-2T15:04:05Z", NULL, -1},
        {"1969-12-31T23:59:59Z", NULL, -1},
        {"0001-01-01T00:00:00Z", NULL, -1},
        {"2262-04-12T00:00:00Z", NULL, -1},
        {"9999-12-31T23:59:59Z", NULL, -1},
        {"", NULL, -1},
        {"   ", NULL, -1},
        {"yesterday", NULL, -1},
        {"1704207845", "rfc3339", -1},
    };
    run_time_cases(cases, sizeof cases / sizeof cases[0]);
}

static void test_time_epoch(void **state)
{
    (void)state;
    static const time_case cases[] = {
        {"1704207845", NULL, T0 * NS},
        {"1704207845123", NULL, T0 * NS + 123000000},
        {"1704207845123456", NULL, T0 * NS + 123456000},
        {"1704207845123456789", NULL, T0 * NS + 123456789},
        {"1704207845.5", NULL, T0 * NS + 500000000},
        {"1704207845.123456789", NULL, T0 * NS + 123456789},
        {"1704207845123.5", NULL, T0 * NS + 123500000},
        {"9223372036854775807", NULL, INT64_MAX},
        {"0", NULL, 0},
        {"1704207845", "unix", T0 * NS},
        {"1704207845.25", "unix", T0 * NS + 250000000},
        {"1704207845123", "unix_ms", T0 * NS + 123000000},
        {"1704207845123.5", "unix_ms", T0 * NS + 123500000},
        {"1704207845123456", "unix_us", T0 * NS + 123456000},
        {"1704207845123456789", "unix_ns", T0 * NS + 123456789},
        {"9223372036854775808", NULL, -1},
        {"18446744073709551616", NULL, -1},
        {"99999999999999999999999999999999999999", NULL, -1},
        {"99999999999", NULL, -1}, /* seconds past 2262 */
        {"9999999999", "unix_ms", 9999999999LL * 1000000},
        {"9300000000", "unix", -1},
        {"9223372036854775807", "unix_ms", -1},
        {"-1704207845", NULL, -1},
        {"+1704207845", NULL, -1},
        {"1704207845.", NULL, -1},
        {"1704207845.x", NULL, -1},
        {"1704207845s", NULL, -1},
        {"0x10", NULL, -1},
        {"1e9", NULL, -1},
        {"2024-01-02T15:04:05Z", "unix", -1},
    };
    run_time_cases(cases, sizeof cases / sizeof cases[0]);
}

static void test_time_strptime(void **state)
{
    (void)state;
    static const time_case cases[] = {
        {"02/Jan/2024:16:04:05 +0100", "%d/%b/%Y:%H:%M:%S %z", T0 * NS},
        {"2024-01-02 15:04:05", "%Y-%m-%d %H:%M:%S", T0 * NS},
        {"2024-01-02 15:04:05.123", "%Y-%m-%d %H:%M:%S.%L", T0 * NS + 123000000},
        {"2024-01-02 15:04:05.7", "%Y-%m-%d %H:%M:%S.%L", T0 * NS + 700000000},
        {"2024-01-02T15:04:05.007Z", "%Y-%m-%dT%H:%M:%S.%LZ", T0 * NS + 7000000},
        {"2024-01-02 15:04:05.123456789", "%Y-%m-%d %H:%M:%S.%N", T0 * NS + 123456789},
        {"2024-01-02 15:04:05,250 +0000", "%Y-%m-%d %H:%M:%S,%L %z", T0 * NS + 250000000},
        {"20240102150405", "%Y%m%d%H%M%S", T0 * NS},
        {"2024-01-02 15:04:05.1234", "%Y-%m-%d %H:%M:%S.%L", -1},
        {"2024-01-02 15:04:05.", "%Y-%m-%d %H:%M:%S.%L", -1},
        {"2024-01-02 15:04:05 junk", "%Y-%m-%d %H:%M:%S", -1},
        {"2024-01-02", "%Y-%m-%d %H:%M:%S", -1},
        {"1969-12-31 23:59:59", "%Y-%m-%d %H:%M:%S", -1},
        {"2024-02-30 00:00:00", "%Y-%m-%d %H:%M:%S", -1},
        {"not a time", "%Y-%m-%d", -1},
    };
    run_time_cases(cases, sizeof cases / sizeof cases[0]);

    /* No year in the pattern: this year, or last year, never more than a day ahead. */
    int64_t now = (int64_t)time(NULL) * NS, got = 0;
    assert_int_equal(lf_parse_time("Mar  5 07:08:09", 15, "%b %d %H:%M:%S", &got, NULL), LF_OK);
    assert_true(got <= now + 86400 * NS);
    assert_true(got > now - 366 * 86400 * NS);
    time_t secs = (time_t)(got / NS);
    struct tm tm;
    gmtime_r(&secs, &tm);
    assert_int_equal(tm.tm_mon, 2);
    assert_int_equal(tm.tm_mday, 5);
    assert_int_equal(tm.tm_hour, 7);

    /* The text is not NUL-terminated, and may hold a NUL: only len bytes count. */
    const char buf[] = "2024-01-02 15:04:05XXXX";
    assert_int_equal(lf_parse_time(buf, 19, "%Y-%m-%d %H:%M:%S", &got, NULL), LF_OK);
    assert_int_equal(got, T0 * NS);
    const char nul[] = "2024-01-02\0 15:04:05";
    assert_int_equal(lf_parse_time(nul, sizeof nul - 1, "%Y-%m-%d", &got, NULL), LF_ERR_INVALID);
    char longtext[300];
    memset(longtext, '1', sizeof longtext);
    assert_int_equal(lf_parse_time(longtext, sizeof longtext, "%s", &got, NULL), LF_ERR_INVALID);
    assert_int_equal(lf_parse_time(longtext, sizeof longtext, NULL, &got, NULL), LF_ERR_INVALID);
}

static void test_time_format_valid(void **state)
{
    (void)state;
    assert_true(lf_time_format_valid(NULL));
    assert_true(lf_time_format_valid(""));
    assert_true(lf_time_format_valid("rfc3339"));
    assert_true(lf_time_format_valid("unix_ms"));
    assert_true(lf_time_format_valid("%Y-%m-%d %H:%M:%S.%L"));
    assert_false(lf_time_format_valid("iso"));
    assert_false(lf_time_format_valid("%Y %L %N"));
    assert_false(lf_time_format_valid("%Y %"));
}

/* ---- json ---- */

static lf_err json_default(const char *d, size_t n, lf_agent_event *ev, lf_error *err)
{
    return lf_parse_json(NULL, d, n, ev, err);
}

static void test_json_fields(void **state)
{
    (void)state;
    lf_agent_event *ev = new_event();
    lf_parser_config cfg = {.kind = LF_PARSER_JSON, .keep_fields = true};
    const char *line = "{\"time\":\"2024-01-02T15:04:05.25Z\",\"level\":\"warn\",\"msg\":\"disk "
                       "91% full\",\"host\":\"web-1\",\"pid\":42,\"ok\":true,\"off\":false,"
                       "\"ratio\":0.5,\"tags\":[\"a\"],\"ctx\":{\"k\":1},\"none\":null,"
                       "\"we ird/key\":\"v\"}\n";
    prefill(ev);
    assert_int_equal(lf_parse_json(&cfg, line, strlen(line), ev, NULL), LF_OK);
    assert_message(ev, "disk 91% full");
    assert_int_equal(ev->level, LF_LEVEL_WARNING);
    assert_int_equal(ev->ts_ns, T0 * NS + 250000000);
    assert_label(ev, "input", "tail");
    assert_label(ev, "host", "web-1");
    assert_label(ev, "pid", "42");
    assert_label(ev, "ok", "true");
    assert_label(ev, "off", "false");
    assert_label(ev, "ratio", "0.5");
    assert_label(ev, "we_ird_key", "v");
    assert_label(ev, "tags", NULL);
    assert_label(ev, "ctx", NULL);
    assert_label(ev, "none", NULL);
    assert_label(ev, "msg", NULL);
    assert_label(ev, "time", NULL);
    assert_label(ev, "level", NULL);
    assert_int_equal(ev->n_labels, 7);

    /* keep_fields off: only message, level, time. */
    cfg.keep_fields = false;
    prefill(ev);
    assert_int_equal(lf_parse_json(&cfg, line, strlen(line), ev, NULL), LF_OK);
    assert_int_equal(ev->n_labels, 1);

    /* A level that is no level stays a label; the time is unknown if it does not parse. */
    cfg.keep_fields = true;
    const char *odd = "{\"message\":\"m\",\"level\":\"verbose\",\"ts\":\"soon\"}";
    prefill(ev);
    assert_int_equal(lf_parse_json(&cfg, odd, strlen(odd), ev, NULL), LF_OK);
    assert_int_equal(ev->level, 0);
    assert_int_equal(ev->ts_ns, 42);
    assert_label(ev, "level", "verbose");
    assert_label(ev, "ts", "soon");
    free_event(ev);
}

static void test_json_keys_and_values(void **state)
{
    (void)state;
    lf_agent_event *ev = new_event();
    lf_error err = {0};
    /* Configured keys, a numeric level (syslog severity) and a numeric time in ms. */
    lf_parser_config cfg = {.kind = LF_PARSER_JSON,
                            .message_key = "event",
                            .level_key = "sev",
                            .time_key = "t",
                            .time_format = "unix_ms"};
    const char *a = "{\"msg\":\"not this\",\"event\":\"login ok\",\"sev\":3,\"t\":1704207845123}";
    prefill(ev);
    assert_int_equal(lf_parse_json(&cfg, a, strlen(a), ev, &err), LF_OK);
    assert_message(ev, "login ok");
    assert_int_equal(ev->level, LF_LEVEL_ERROR);
    assert_int_equal(ev->ts_ns, T0 * NS + 123000000);

    /* Defaults: pino-style numbers, float seconds. */
    const char *b = "{\"level\":30,\"time\":1704207845.25,\"msg\":\"listening\"}";
    prefill(ev);
    assert_int_equal(lf_parse_json(NULL, b, strlen(b), ev, &err), LF_OK);
    assert_int_equal(ev->level, LF_LEVEL_INFO);
    assert_int_equal(ev->ts_ns, T0 * NS + 250000000);
    const char *b2 = "{\"@timestamp\":\"2024-01-02T15:04:05Z\",\"log\":\"x\",\"severity\":\"E\"}";
    prefill(ev);
    assert_int_equal(lf_parse_json(NULL, b2, strlen(b2), ev, &err), LF_OK);
    assert_int_equal(ev->ts_ns, T0 * NS);
    assert_int_equal(ev->level, LF_LEVEL_ERROR);
    assert_message(ev, "x");

    /* Escapes are decoded; one trailing newline dropped; NUL kept. */
    const char *c = "{\"msg\":\"line\\nnext\\t\\u00e9\\ud83d\\ude00\\r\\n\"}";
    prefill(ev);
    assert_int_equal(lf_parse_json(NULL, c, strlen(c), ev, &err), LF_OK);
    assert_message(ev, "line\nnext\t\xC3\xA9\xF0\x9F\x98\x80");
    assert_ptr_equal(ev->message, ev->message_buf.data);
    const char *d = "{\"msg\":\"a\\u0000b\"}";
    prefill(ev);
    assert_int_equal(lf_parse_json(NULL, d, strlen(d), ev, &err), LF_OK);
    assert_int_equal(ev->message_len, 3);
    assert_memory_equal(ev->message, "a\0b", 3);

    /* No message member (or null): the whole text, borrowed. */
    const char *e = "{\"status\":\"up\",\"msg\":null}";
    prefill(ev);
    assert_int_equal(lf_parse_json(NULL, e, strlen(e), ev, &err), LF_OK);
    assert_ptr_equal(ev->message, e);
    assert_int_equal(ev->message_len, strlen(e));

    /* Non-string messages: their JSON text. */
    const char *f = "{\"msg\":42}";
    prefill(ev);
    assert_int_equal(lf_parse_json(NULL, f, strlen(f), ev, &err), LF_OK);
    assert_message(ev, "42");
    const char *g = "{\"msg\":{\"a\":[1,true]}}";
    prefill(ev);
    assert_int_equal(lf_parse_json(NULL, g, strlen(g), ev, &err), LF_OK);
    assert_message(ev, "{\"a\":[1,true]}");
    const char *h = "  {}  ";
    prefill(ev);
    assert_int_equal(lf_parse_json(NULL, h, strlen(h), ev, &err), LF_OK);
    assert_message(ev, "  {}  ");
    free_event(ev);
}

static void test_json_labels_bounded(void **state)
{
    (void)state;
    lf_agent_event *ev = new_event();
    lf_parser_config cfg = {.kind = LF_PARSER_JSON, .keep_fields = true};
    char line[4096];
    size_t n = (size_t)snprintf(line, sizeof line, "{\"msg\":\"m\"");
    for (int i = 0; i < 30; i++)
        n += (size_t)snprintf(line + n, sizeof line - n, ",\"k%02d\":%d", i, i);
    /* A 300-byte value of two-byte characters: cut at a character boundary. */
    n += (size_t)snprintf(line + n, sizeof line - n, "}");
    prefill(ev);
    assert_int_equal(lf_parse_json(&cfg, line, n, ev, NULL), LF_OK);
    assert_int_equal(ev->n_labels, LF_AGENT_EVENT_MAX_LABELS);
    assert_label(ev, "input", "tail");
    assert_label(ev, "k00", "0");
    assert_label(ev, "k18", "18");
    assert_label(ev, "k19", NULL);

    char big[1024];
    size_t m = (size_t)snprintf(big, sizeof big, "{\"msg\":\"m\",\"u\":\"a");
    for (int i = 0; i < 150; i++)
        m += (size_t)snprintf(big + m, sizeof big - m, "\xC3\xA9");
    m += (size_t)snprintf(big + m, sizeof big - m, "\"}");
    prefill(ev);
    assert_int_equal(lf_parse_json(&cfg, big, m, ev, NULL), LF_OK);
    const char *u = lf_agent_event_label(ev, "u");
    assert_non_null(u);
    assert_int_equal(strlen(u), 255); /* 'a' + 127 whole characters; the 128th did not fit */
    assert_int_equal((unsigned char)u[254], 0xA9);
    free_event(ev);
}

static void test_json_refused(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "",
        "not json",
        "{\"a\":",
        "{\"a\":1}}",
        "{\"a\":1} trailing",
        "[1,2]",
        "\"string\"",
        "42",
        "{'single':1}",
        "{\"msg\":\"\xff\xfe\"}", /* invalid UTF-8 inside a JSON string */
        "{\"a\":01}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_refused(json_default, bad[i], strlen(bad[i]));
    /* Nesting: 64 levels parse, 65 are refused before jansson sees them. */
    char deep[256];
    size_t n = 0;
    for (int i = 0; i < 63; i++)
        n += (size_t)snprintf(deep + n, sizeof deep - n, "[");
    char line[512];
    int w = snprintf(line, sizeof line, "{\"a\":%s", deep);
    for (int i = 0; i < 63; i++)
        line[w++] = ']';
    line[w++] = '}';
    lf_agent_event *ev = new_event();
    prefill(ev);
    assert_int_equal(lf_parse_json(NULL, line, (size_t)w, ev, NULL), LF_OK);
    w = snprintf(line, sizeof line, "{\"a\":[%s", deep);
    for (int i = 0; i < 64; i++)
        line[w++] = ']';
    line[w++] = '}';
    assert_refused(json_default, line, (size_t)w);
    /* Brackets inside strings do not count. */
    char strdeep[300];
    w = snprintf(strdeep, sizeof strdeep, "{\"a\":\"%s%s\\\"[[[\"}", deep, deep);
    prefill(ev);
    assert_int_equal(lf_parse_json(NULL, strdeep, (size_t)w, ev, NULL), LF_OK);
    /* Over the size limit. */
    size_t huge = 3u * 1024 * 1024;
    char *big = malloc(huge);
    assert_non_null(big);
    memset(big, ' ', huge);
    memcpy(big, "{\"msg\":\"", 8);
    memcpy(big + huge - 2, "\"}", 2);
    assert_refused(json_default, big, huge);
    free(big);
    free_event(ev);
}

/* ---- regex ---- */

static lf_parser *regex_parser(const char *pattern)
{
    lf_parser_config cfg = {.name = "app", .kind = LF_PARSER_REGEX, .pattern = pattern};
    lf_parser *p = NULL;
    lf_error err = {0};
    if (lf_parser_new(&cfg, &p, &err) != LF_OK)
        fail_msg("pattern refused: %s", err.message);
    return p;
}

static lf_parser *g_regex; /* for the parse_fn adaptor */

static lf_err regex_apply(const char *d, size_t n, lf_agent_event *ev, lf_error *err)
{
    return lf_parser_apply(g_regex, d, n, 0, ev, err);
}

static void test_regex_groups(void **state)
{
    (void)state;
    lf_parser *p = regex_parser(
        "^(?<time>\\S+) (?<level>\\w+) \\[(?<component>[^\\]]+)\\] (?:user=(?<user>\\S+) )?"
        "(?<message>.*)$");
    lf_agent_event *ev = new_event();
    const char *line = "2024-01-02T15:04:05Z WARN [db.pool] slow query took 1.2s";
    prefill(ev);
    assert_int_equal(lf_parser_apply(p, line, strlen(line), 0, ev, NULL), LF_OK);
    assert_message(ev, "slow query took 1.2s");
    assert_true(ev->message >= line && ev->message < line + strlen(line)); /* borrowed */
    assert_int_equal(ev->level, LF_LEVEL_WARNING);
    assert_int_equal(ev->ts_ns, T0 * NS);
    assert_label(ev, "component", "db.pool");
    assert_label(ev, "user", NULL); /* optional group that did not take part */
    assert_label(ev, "input", "tail");
    assert_int_equal(ev->n_labels, 2);

    const char *line2 = "1704207845 bogus [api] user=u-17 created order";
    prefill(ev);
    assert_int_equal(lf_parser_apply(p, line2, strlen(line2), 0, ev, NULL), LF_OK);
    assert_message(ev, "created order");
    assert_int_equal(ev->level, 0); /* "bogus" is no level */
    assert_int_equal(ev->ts_ns, T0 * NS);
    assert_label(ev, "user", "u-17");

    g_regex = p;
    assert_refused(regex_apply, "no match here", 13);
    assert_refused(regex_apply, "", 0);
    lf_parser_free(p);

    /* Configured keys and time format; no message group: the whole line. */
    lf_parser_config cfg = {.kind = LF_PARSER_REGEX,
                            .pattern = "^(?<when>\\d+/\\w+/\\d+:[\\d:]+ [+-]\\d{4}) (?<sev>\\w)",
                            .time_key = "when",
                            .time_format = "%d/%b/%Y:%H:%M:%S %z",
                            .level_key = "sev"};
    assert_int_equal(lf_parser_new(&cfg, &p, NULL), LF_OK);
    const char *line3 = "02/Jan/2024:16:04:05 +0100 E disk failure";
    prefill(ev);
    assert_int_equal(lf_parser_apply(p, line3, strlen(line3), 0, ev, NULL), LF_OK);
    assert_ptr_equal(ev->message, line3);
    assert_int_equal(ev->message_len, strlen(line3));
    assert_int_equal(ev->ts_ns, T0 * NS);
    assert_int_equal(ev->level, LF_LEVEL_ERROR);
    assert_int_equal(ev->n_labels, 1);
    lf_parser_free(p);
    free_event(ev);
}

static void test_regex_utf8_and_limits(void **state)
{
    (void)state;
    lf_agent_event *ev = new_event();
    /* Invalid UTF-8 in the subject is no error: it is matched byte by byte. */
    lf_parser *p = regex_parser("(?<word>[a-z]+)");
    const char bad[] = "\xff\xfe\xc3 caf\xc3\xa9 ok";
    prefill(ev);
    assert_int_equal(lf_parser_apply(p, bad, sizeof bad - 1, 0, ev, NULL), LF_OK);
    assert_label(ev, "word", "caf");
    lf_parser_free(p);
    p = regex_parser("^(?<lead>\\S+) (?<message>.+)$");
    prefill(ev);
    assert_int_equal(lf_parser_apply(p, bad, sizeof bad - 1, 0, ev, NULL), LF_OK);
    assert_label(ev, "lead", "\xff\xfe\xc3");
    assert_message(ev, "caf\xc3\xa9 ok");
    lf_parser_free(p);
    p = regex_parser("^(?<name>\\S+) (?<rest>.+)$");
    const char utf[] = "Jos\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac";
    prefill(ev);
    assert_int_equal(lf_parser_apply(p, utf, sizeof utf - 1, 0, ev, NULL), LF_OK);
    assert_label(ev, "name", "Jos\xc3\xa9");
    assert_label(ev, "rest", "\xe6\x97\xa5\xe6\x9c\xac");
    lf_parser_free(p);

    /* Catastrophic backtracking is cut off: refused, not hung. */
    p = regex_parser("^(?<a>(x+x+)+y)$");
    char xs[64];
    memset(xs, 'x', sizeof xs);
    g_regex = p;
    assert_refused(regex_apply, xs, sizeof xs);
    lf_parser_free(p);

    /* A NUL inside the subject is matched like any byte. */
    p = regex_parser("^(?<a>[^|]*)\\|(?<b>.*)$");
    const char nul[] = "x\0y|z";
    prefill(ev);
    assert_int_equal(lf_parser_apply(p, nul, sizeof nul - 1, 0, ev, NULL), LF_OK);
    assert_label(ev, "a", "x"); /* the label value is a C string: it ends at the NUL */
    assert_label(ev, "b", "z");
    lf_parser_free(p);
    free_event(ev);
}

static void test_regex_bad_patterns(void **state)
{
    (void)state;
    static const char *const bad[] = {"(?<x>",  "no groups at all", "(unnamed)",  "",
                                      "a{2,1}", "(?<1x>a)",         "\xff(?<x>a)"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        lf_parser_config cfg = {.name = "bad", .kind = LF_PARSER_REGEX, .pattern = bad[i]};
        lf_parser *p = (lf_parser *)&cfg; /* must be reset to NULL */
        lf_error err = {0};
        if (lf_parser_new(&cfg, &p, &err) != LF_ERR_INVALID)
            fail_msg("pattern \"%s\" accepted", bad[i]);
        assert_null(p);
        assert_non_null(strstr(err.message, "parser bad: regex"));
    }
    lf_parser_config cfg = {.kind = LF_PARSER_REGEX, .pattern = NULL};
    lf_parser *p = NULL;
    assert_int_equal(lf_parser_new(&cfg, &p, NULL), LF_ERR_INVALID);
    lf_error err = {0};
    cfg.pattern = "(?<x>a";
    assert_int_equal(lf_parser_new(&cfg, &p, &err), LF_ERR_INVALID);
    assert_non_null(strstr(err.message, "offset"));
}

typedef struct regex_thread {
    const lf_parser *p;
    int id;
    int failures;
} regex_thread;

static void *regex_worker(void *arg)
{
    regex_thread *t = arg;
    lf_agent_event ev = {0};
    char line[128], want_user[32];
    for (int i = 0; i < 2000; i++) {
        snprintf(want_user, sizeof want_user, "t%d-%d", t->id, i);
        int n = snprintf(line, sizeof line, "%d ERROR user=%s text %d", i, want_user, i * 7);
        lf_agent_event_reset(&ev);
        const char *u;
        if (lf_parser_apply(t->p, line, (size_t)n, 0, &ev, NULL) != LF_OK ||
            ev.level != LF_LEVEL_ERROR || (u = lf_agent_event_label(&ev, "user")) == NULL ||
            strcmp(u, want_user) != 0)
            t->failures++;
    }
    lf_agent_event_free(&ev);
    return NULL;
}

static void test_regex_concurrent(void **state)
{
    (void)state;
    lf_parser *p = regex_parser("^(?<n>\\d+) (?<level>\\w+) user=(?<user>\\S+) (?<message>.*)$");
    regex_thread t[4];
    pthread_t th[4];
    for (int i = 0; i < 4; i++) {
        t[i] = (regex_thread){.p = p, .id = i};
        assert_int_equal(pthread_create(&th[i], NULL, regex_worker, &t[i]), 0);
    }
    for (int i = 0; i < 4; i++) {
        assert_int_equal(pthread_join(th[i], NULL), 0);
        assert_int_equal(t[i].failures, 0);
    }
    lf_parser_free(p);
}

/* ---- nginx ---- */

static void test_nginx_access_combined(void **state)
{
    (void)state;
    lf_agent_event *ev = new_event();
    const char *a = "203.0.113.7 - alice [02/Jan/2024:16:04:05 +0100] \"GET /shop/cart?id=9 "
                    "HTTP/1.1\" 200 5120 \"https://shop.example/\" \"Mozilla/5.0 (X11; Linux "
                    "x86_64) Firefox/121.0\"";
    prefill(ev);
    assert_int_equal(lf_parse_nginx_access(a, strlen(a), ev, NULL), LF_OK);
    assert_ptr_equal(ev->message, a);
    assert_int_equal(ev->message_len, strlen(a));
    assert_int_equal(ev->ts_ns, T0 * NS);
    assert_int_equal(ev->level, LF_LEVEL_INFO);
    assert_label(ev, "remote_addr", "203.0.113.7");
    assert_label(ev, "method", "GET");
    assert_label(ev, "path", "/shop/cart?id=9");
    assert_label(ev, "protocol", "HTTP/1.1");
    assert_label(ev, "status", "200");
    assert_label(ev, "bytes", "5120");
    assert_label(ev, "referer", "https://shop.example/");
    assert_label(ev, "user_agent", "Mozilla/5.0 (X11; Linux x86_64) Firefox/121.0");
    assert_label(ev, "input", "tail");

    /* "main": an extra quoted X-Forwarded-For; IPv6 client; 4xx. */
    const char *b = "2001:db8::5 - - [02/Jan/2024:15:04:05 +0000] \"DELETE /api/items/4 "
                    "HTTP/2.0\" 404 153 \"-\" \"curl/8.5.0\" \"198.51.100.9, 10.0.0.1\"";
    prefill(ev);
    assert_int_equal(lf_parse_nginx_access(b, strlen(b), ev, NULL), LF_OK);
    assert_int_equal(ev->level, LF_LEVEL_WARNING);
    assert_label(ev, "remote_addr", "2001:db8::5");
    assert_label(ev, "method", "DELETE");
    assert_label(ev, "referer", NULL);
    assert_label(ev, "user_agent", "curl/8.5.0");

    /* "common": no referer or agent; 5xx; bytes "-". */
    const char *c = "192.0.2.1 - - [02/Jan/2024:10:04:05 -0500] \"POST /upload HTTP/1.0\" 503 -";
    prefill(ev);
    assert_int_equal(lf_parse_nginx_access(c, strlen(c), ev, NULL), LF_OK);
    assert_int_equal(ev->level, LF_LEVEL_ERROR);
    assert_int_equal(ev->ts_ns, T0 * NS);
    assert_label(ev, "bytes", NULL);
    assert_label(ev, "user_agent", NULL);

    /* Garbage request line (TLS sent to a plain port): the line parses, no request labels. */
    const char *d = "198.51.100.20 - - [02/Jan/2024:15:04:05 +0000] "
                    "\"\\x16\\x03\\x01\\x02\\x00\\x01\\x00\" 400 157 \"-\" \"-\"";
    prefill(ev);
    assert_int_equal(lf_parse_nginx_access(d, strlen(d), ev, NULL), LF_OK);
    assert_int_equal(ev->level, LF_LEVEL_WARNING);
    assert_label(ev, "method", NULL);
    assert_label(ev, "path", NULL);
    assert_label(ev, "status", "400");

    /* Escaped quotes inside a field (as Apache writes them); HTTP/0.9 request; extra fields
     * that are not quoted. */
    const char *e = "10.1.2.3 - bob [02/Jan/2024:15:04:05 +0000] \"GET /\" 301 0 "
                    "\"-\" \"agent \\\"quoted\\\" v1\" rt=0.003 uct=\"0.001\"";
    prefill(ev);
    assert_int_equal(lf_parse_nginx_access(e, strlen(e), ev, NULL), LF_OK);
    assert_label(ev, "path", "/");
    assert_label(ev, "protocol", NULL);
    assert_label(ev, "user_agent", "agent \\\"quoted\\\" v1");
    assert_label(ev, "bytes", "0");

    /* UTF-8 in the path is kept as is. */
    const char *f = "10.1.2.3 - - [02/Jan/2024:15:04:05 +0000] \"GET /caf\xc3\xa9 HTTP/1.1\" "
                    "200 1 \"-\" \"-\"";
    prefill(ev);
    assert_int_equal(lf_parse_nginx_access(f, strlen(f), ev, NULL), LF_OK);
    assert_label(ev, "path", "/caf\xc3\xa9");
    free_event(ev);

    static const char *const bad[] = {
        "",
        "just some text",
        "203.0.113.7 - - 02/Jan/2024:15:04:05 +0000 \"GET / HTTP/1.1\" 200 1",
        "203.0.113.7 - - [02/Foo/2024:15:04:05 +0000] \"GET / HTTP/1.1\" 200 1",
        "203.0.113.7 - - [31/Feb/2024:15:04:05 +0000] \"GET / HTTP/1.1\" 200 1",
        "203.0.113.7 - - [02/Jan/2024:15:04:05] \"GET / HTTP/1.1\" 200 1",
        "203.0.113.7 - - [02/Jan/2024:15:04:05 +0000] \"GET / HTTP/1.1 200 1",
        "203.0.113.7 - - [02/Jan/2024:15:04:05 +0000] \"GET / HTTP/1.1\" 2000 1",
        "203.0.113.7 - - [02/Jan/2024:15:04:05 +0000] \"GET / HTTP/1.1\" abc 1",
        "203.0.113.7 - - [02/Jan/2024:15:04:05 +0000] \"GET / HTTP/1.1\" 200 12k",
        "203.0.113.7 - - [02/Jan/2024:15:04:05 +0000] \"GET / HTTP/1.1\" 200",
        "203.0.113.7 - - [02/Jan/2024:15:04:05 +0000",
        "{\"status\":",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_refused(lf_parse_nginx_access, bad[i], strlen(bad[i]));
}

static void test_nginx_access_json(void **state)
{
    (void)state;
    lf_agent_event *ev = new_event();
    const char *a = "{\"time_iso8601\":\"2024-01-02T16:04:05+01:00\",\"remote_addr\":\"10.0.0.1\","
                    "\"request\":\"GET /x?y=1 HTTP/1.1\",\"status\":\"502\",\"body_bytes_sent\":"
                    "\"0\",\"http_referer\":\"\",\"http_user_agent\":\"k6/0.48\",\"request_time\":"
                    "\"0.120\",\"upstream_addr\":\"10.0.0.9:8080\"}";
    prefill(ev);
    assert_int_equal(lf_parse_nginx_access(a, strlen(a), ev, NULL), LF_OK);
    assert_ptr_equal(ev->message, a);
    assert_int_equal(ev->ts_ns, T0 * NS);
    assert_int_equal(ev->level, LF_LEVEL_ERROR);
    assert_label(ev, "remote_addr", "10.0.0.1");
    assert_label(ev, "method", "GET");
    assert_label(ev, "path", "/x?y=1");
    assert_label(ev, "protocol", "HTTP/1.1");
    assert_label(ev, "status", "502");
    assert_label(ev, "bytes", "0");
    assert_label(ev, "referer", NULL);
    assert_label(ev, "user_agent", "k6/0.48");
    assert_label(ev, "request_time", "0.120");
    assert_label(ev, "upstream_addr", "10.0.0.9:8080");
    assert_label(ev, "request", NULL);
    assert_label(ev, "time_iso8601", "2024-01-02T16:04:05+01:00");

    /* Numbers, msec, separate method/uri variables, time_local. */
    const char *b = "{\"msec\":\"1704207845.125\",\"status\":200,\"request_method\":\"PUT\","
                    "\"request_uri\":\"/a?b\",\"uri\":\"/a\",\"server_protocol\":\"HTTP/2.0\"}";
    prefill(ev);
    assert_int_equal(lf_parse_nginx_access(b, strlen(b), ev, NULL), LF_OK);
    assert_int_equal(ev->ts_ns, T0 * NS + 125000000);
    assert_int_equal(ev->level, LF_LEVEL_INFO);
    assert_label(ev, "method", "PUT");
    assert_label(ev, "path", "/a?b");
    assert_label(ev, "status", "200");
    const char *c = "{\"time_local\":\"02/Jan/2024:15:04:05 +0000\",\"status\":\"404\"}";
    prefill(ev);
    assert_int_equal(lf_parse_nginx_access(c, strlen(c), ev, NULL), LF_OK);
    assert_int_equal(ev->ts_ns, T0 * NS);
    assert_int_equal(ev->level, LF_LEVEL_WARNING);
    free_event(ev);
    assert_refused(lf_parse_nginx_access, "{\"status\":200", 13);
    assert_refused(lf_parse_nginx_access, "  {nope}", 8);
}

static void test_nginx_error(void **state)
{
    (void)state;
    lf_agent_event *ev = new_event();
    const char *a = "2024/01/02 15:04:05 [error] 1234#5678: *91011 upstream timed out (110: "
                    "Connection timed out) while reading response header from upstream, client: "
                    "203.0.113.7, server: shop.example, request: \"GET /api/v1/items HTTP/1.1\", "
                    "upstream: \"http://10.0.0.9:8080/api/v1/items\", host: \"shop.example\"";
    prefill(ev);
    assert_int_equal(lf_parse_nginx_error(a, strlen(a), ev, NULL), LF_OK);
    assert_int_equal(ev->ts_ns, T0 * NS);
    assert_int_equal(ev->level, LF_LEVEL_ERROR);
    assert_true(ev->message > a && ev->message < a + strlen(a));
    assert_int_equal(memcmp(ev->message, "upstream timed out (110:", 24), 0);
    assert_int_equal(ev->message + ev->message_len, a + strlen(a));
    assert_label(ev, "pid", "1234");
    assert_label(ev, "tid", "5678");
    assert_label(ev, "connection_id", "91011");
    assert_label(ev, "client", "203.0.113.7");
    assert_label(ev, "server", "shop.example");
    assert_label(ev, "request", "GET /api/v1/items HTTP/1.1");
    assert_label(ev, "upstream", "http://10.0.0.9:8080/api/v1/items");
    assert_label(ev, "host", "shop.example");
    assert_label(ev, "input", "tail");

    const char *b = "2024/01/02 15:04:05 [notice] 1#1: signal process started";
    prefill(ev);
    assert_int_equal(lf_parse_nginx_error(b, strlen(b), ev, NULL), LF_OK);
    assert_int_equal(ev->level, LF_LEVEL_NOTICE);
    assert_message(ev, "signal process started");
    assert_label(ev, "connection_id", NULL);
    assert_label(ev, "client", NULL);

    const char *c = "2024/01/02 15:04:05 [emerg] 7#7: bind() to 0.0.0.0:80 failed (98: "
                    "Address already in use)";
    prefill(ev);
    assert_int_equal(lf_parse_nginx_error(c, strlen(c), ev, NULL), LF_OK);
    assert_int_equal(ev->level, LF_LEVEL_EMERGENCY);
    const char *d = "2024/01/02 15:04:05 [warn] 7#7: *12 an upstream response is buffered";
    prefill(ev);
    assert_int_equal(lf_parse_nginx_error(d, strlen(d), ev, NULL), LF_OK);
    assert_int_equal(ev->level, LF_LEVEL_WARNING);
    assert_label(ev, "connection_id", "12");
    assert_message(ev, "an upstream response is buffered");
    const char *e = "2024/01/02 15:04:05 [crit] 7#7:";
    prefill(ev);
    assert_int_equal(lf_parse_nginx_error(e, strlen(e), ev, NULL), LF_OK);
    assert_int_equal(ev->message_len, 0);
    assert_int_equal(ev->level, LF_LEVEL_CRITICAL);
    free_event(ev);

    static const char *const bad[] = {
        "",
        "nginx: [emerg] unknown directive \"foo\"",
        "2024/01/02 15:04:05 [bogus] 1#1: x",
        "2024/13/02 15:04:05 [error] 1#1: x",
        "2024/01/02 15:04:05 [error] 12",
        "2024/01/02 15:04:05 [error] x#1: y",
        "2024/01/02 15:04:05 error 1#1: y",
        "2024-01-02 15:04:05 [error] 1#1: y",
        "2024/01/02 15:04:05",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_refused(lf_parse_nginx_error, bad[i], strlen(bad[i]));
}

/* ---- syslog ---- */

static int64_t g_now;

static lf_err syslog_now(const char *d, size_t n, lf_agent_event *ev, lf_error *err)
{
    return lf_parse_syslog(d, n, g_now, ev, err);
}

static void test_syslog_5424(void **state)
{
    (void)state;
    lf_agent_event *ev = new_event();
    const char *a = "<134>1 2024-01-02T15:04:05.5Z web-1.example.net billing 4242 INV01 "
                    "[order@32473 id=\"A-17\" note=\"say \\\"hi\\\" \\\\ ok \\] done\"]"
                    "[meta sequence=\"9\"] \xEF\xBB\xBFinvoice created\n";
    prefill(ev);
    assert_int_equal(lf_parse_syslog(a, strlen(a), 0, ev, NULL), LF_OK);
    assert_message(ev, "invoice created");
    assert_int_equal(ev->ts_ns, T0 * NS + 500000000);
    assert_int_equal(ev->level, LF_LEVEL_INFO); /* 134 = local0.info */
    assert_label(ev, "facility", "local0");
    assert_label(ev, "hostname", "web-1.example.net");
    assert_label(ev, "appname", "billing");
    assert_label(ev, "procid", "4242");
    assert_label(ev, "msgid", "INV01");
    assert_label(ev, "sd.order_32473.id", "A-17");
    assert_label(ev, "sd.order_32473.note", "say \"hi\" \\ ok ] done");
    assert_label(ev, "sd.meta.sequence", "9");
    assert_label(ev, "input", "tail");
    assert_string_equal(ev->logger, "billing");

    /* Every field nil, no message. */
    const char *b = "<14>1 - - - - - -";
    prefill(ev);
    assert_int_equal(lf_parse_syslog(b, strlen(b), 0, ev, NULL), LF_OK);
    assert_int_equal(ev->message_len, 0);
    assert_int_equal(ev->ts_ns, 42); /* unknown: left as it was */
    assert_int_equal(ev->level, LF_LEVEL_INFO);
    assert_label(ev, "facility", "user");
    assert_label(ev, "hostname", NULL);
    assert_label(ev, "appname", NULL);
    assert_int_equal(ev->n_labels, 2);
    assert_string_equal(ev->logger, "");

    /* Extreme PRIs and an offset time; SD without params. */
    const char *c = "<0>1 2024-01-02T16:04:05+01:00 h a - - [x] boom";
    prefill(ev);
    assert_int_equal(lf_parse_syslog(c, strlen(c), 0, ev, NULL), LF_OK);
    assert_int_equal(ev->level, LF_LEVEL_EMERGENCY);
    assert_label(ev, "facility", "kern");
    assert_int_equal(ev->ts_ns, T0 * NS);
    assert_message(ev, "boom");
    const char *d = "<191>1 2024-01-02T15:04:05Z h a - - - debug line";
    prefill(ev);
    assert_int_equal(lf_parse_syslog(d, strlen(d), 0, ev, NULL), LF_OK);
    assert_int_equal(ev->level, LF_LEVEL_DEBUG);
    assert_label(ev, "facility", "local7");

    /* Broken SD: not 5424 after all; the PRI still gives level and facility. */
    const char *e = "<11>1 2024-01-02T15:04:05Z h a p m [bad sd msg";
    prefill(ev);
    assert_int_equal(lf_parse_syslog(e, strlen(e), 0, ev, NULL), LF_OK);
    assert_int_equal(ev->level, LF_LEVEL_ERROR);
    assert_message(ev, "1 2024-01-02T15:04:05Z h a p m [bad sd msg");
    assert_label(ev, "hostname", NULL);
    assert_int_equal(ev->ts_ns, 42);
    free_event(ev);
}

static void test_syslog_3164(void **state)
{
    (void)state;
    lf_agent_event *ev = new_event();
    int64_t now = (T0 + 8 * 86400) * NS; /* 2024-01-10 */
    const char *a = "<38>Jan  2 15:04:05 gateway sshd[991]: Accepted publickey for deploy";
    prefill(ev);
    assert_int_equal(lf_parse_syslog(a, strlen(a), now, ev, NULL), LF_OK);
    assert_int_equal(ev->ts_ns, T0 * NS);
    assert_int_equal(ev->level, LF_LEVEL_INFO);
    assert_label(ev, "facility", "auth");
    assert_label(ev, "hostname", "gateway");
    assert_label(ev, "appname", "sshd");
    assert_label(ev, "procid", "991");
    assert_string_equal(ev->logger, "sshd");
    assert_message(ev, "Accepted publickey for deploy");

    static const struct {
        const char *line;
        int64_t now, ts; /* ts -1: unknown (left at 42) */
        const char *host, *app, *pid, *msg;
        int level;
    } cases[] = {
        /* No hostname (local /dev/log sender). */
        {"<13>Jan  2 15:04:05 myapp[77]: hello", 0, T0, NULL, "myapp", "77", "hello",
         LF_LEVEL_NOTICE},
        {"<13>Jan 2 15:04:05 cron: job done", 0, T0, NULL, "cron", NULL, "job done",
         LF_LEVEL_NOTICE},
        /* No PRI at all. */
        {"Jan  2 15:04:05 box kernel: eth0 up", 0, T0, "box", "kernel", NULL, "eth0 up", 0},
        /* No tag. */
        {"<13>Jan  2 15:04:05 box just text here", 0, T0, "box", NULL, NULL, "just text here",
         LF_LEVEL_NOTICE},
        {"<13>Jan  2 15:04:05 box", 0, T0, "box", NULL, NULL, "", LF_LEVEL_NOTICE},
        {"<13>Jan  2 15:04:05 ", 0, T0, NULL, NULL, NULL, "", LF_LEVEL_NOTICE},
        /* Fraction, RFC 3339 time (rsyslog high precision). */
        {"<13>Jan  2 15:04:05.250 box app: x", 0, T0 * 1000 + 250, "box", "app", NULL, "x",
         LF_LEVEL_NOTICE},
        {"<13>2024-01-02T16:04:05+01:00 box postfix/smtpd[4]: connect", 0, T0, "box",
         "postfix/smtpd", "4", "connect", LF_LEVEL_NOTICE},
        /* Year inference: across new year in both directions; Feb 29. */
        {"<13>Dec 31 23:59:30 h a: x", 1735689610LL * NS, 1735689570LL, "h", "a", NULL, "x",
         LF_LEVEL_NOTICE},
        {"<13>Jan  1 00:00:30 h a: x", 1735689540LL * NS, 1735689630LL, "h", "a", NULL, "x",
         LF_LEVEL_NOTICE},
        {"<13>Feb 29 10:00:00 h a: x", 1740787200LL * NS, 1709200800LL, "h", "a", NULL, "x",
         LF_LEVEL_NOTICE},
        /* A PRI and nothing we know after it: the rest is the message. */
        {"<11>something odd happened", 0, -1, NULL, NULL, NULL, "something odd happened",
         LF_LEVEL_ERROR},
        {"<11>", 0, -1, NULL, NULL, NULL, "", LF_LEVEL_ERROR},
        {"<11>Jan 99 99:99:99 h a: x", 0, -1, NULL, NULL, NULL, "Jan 99 99:99:99 h a: x",
         LF_LEVEL_ERROR},
        /* Framing leftovers, BOM. */
        {"<13>Jan  2 15:04:05 h a: \xEF\xBB\xBFtext\r\n", 0, T0, "h", "a", NULL, "text",
         LF_LEVEL_NOTICE},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        prefill(ev);
        int64_t n = cases[i].now ? cases[i].now : now;
        lf_error err = {0};
        if (lf_parse_syslog(cases[i].line, strlen(cases[i].line), n, ev, &err) != LF_OK)
            fail_msg("case %zu refused: %s", i, err.message);
        int64_t want_ts = cases[i].ts < 0                ? 42
                          : cases[i].ts > 100000000000LL ? cases[i].ts * 1000000
                                                         : cases[i].ts * NS;
        if (ev->ts_ns != want_ts)
            fail_msg("case %zu: ts %lld, want %lld", i, (long long)ev->ts_ns, (long long)want_ts);
        assert_label(ev, "hostname", cases[i].host);
        assert_label(ev, "appname", cases[i].app);
        assert_label(ev, "procid", cases[i].pid);
        assert_message(ev, cases[i].msg);
        assert_int_equal(ev->level, cases[i].level);
    }
    free_event(ev);

    g_now = now;
    static const char *const bad[] = {
        "",
        "hello world",
        "<192>Jan  2 15:04:05 h a: x",
        "<>x",
        "<13",
        "<1234>x",
        "<x>y",
        "Foo  2 15:04:05 h a: x",
        "Jan  2 15:04 h a: x",
        "Jan  2 15:04:05h a: x",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_refused(syslog_now, bad[i], strlen(bad[i]));
}

/* ---- dispatcher ---- */

static void test_parser_kinds(void **state)
{
    (void)state;
    static const char *const names[] = {"none",        "json",   "regex", "nginx_access",
                                        "nginx_error", "syslog", "cri",   "docker"};
    for (int i = 0; i < 8; i++) {
        assert_int_equal(lf_parser_kind_from_name(names[i]), i);
        assert_string_equal(lf_parser_kind_name((lf_parser_kind)i), names[i]);
    }
    assert_int_equal(lf_parser_kind_from_name("JSON"), -1);
    assert_int_equal(lf_parser_kind_from_name("logfmt"), -1);
    assert_int_equal(lf_parser_kind_from_name(NULL), -1);
    assert_string_equal(lf_parser_kind_name((lf_parser_kind)99), "unknown");

    lf_parser *p = NULL;
    lf_error err = {0};
    lf_parser_config cfg = {.name = "x", .kind = (lf_parser_kind)99};
    assert_int_equal(lf_parser_new(&cfg, &p, &err), LF_ERR_INVALID);
    assert_non_null(strstr(err.message, "unknown kind"));
    cfg = (lf_parser_config){.name = "x", .kind = LF_PARSER_JSON, .time_format = "iso"};
    assert_int_equal(lf_parser_new(&cfg, &p, &err), LF_ERR_INVALID);
    assert_non_null(strstr(err.message, "time_format"));
    lf_parser_free(NULL);
}

static void test_parser_apply(void **state)
{
    (void)state;
    lf_agent_event *ev = new_event();
    /* The parser keeps its own copy of the settings. */
    char *key = strdup("event");
    lf_parser_config cfg = {.name = "j", .kind = LF_PARSER_JSON, .message_key = key};
    lf_parser *p = NULL;
    assert_int_equal(lf_parser_new(&cfg, &p, NULL), LF_OK);
    memset(key, 'x', strlen(key));
    free(key);
    assert_int_equal(lf_parser_kind_of(p), LF_PARSER_JSON);
    const char *j = "{\"event\":\"copied\"}";
    prefill(ev);
    assert_int_equal(lf_parser_apply(p, j, strlen(j), 0, ev, NULL), LF_OK);
    assert_message(ev, "copied");
    lf_parser_free(p);

    /* none: untouched. */
    cfg = (lf_parser_config){.kind = LF_PARSER_NONE};
    assert_int_equal(lf_parser_new(&cfg, &p, NULL), LF_OK);
    lf_agent_event *copy = new_event();
    prefill(ev);
    memcpy(copy, ev, sizeof *ev);
    assert_int_equal(lf_parser_apply(p, "x", 1, 0, ev, NULL), LF_OK);
    assert_memory_equal(ev, copy, sizeof *ev);
    memset(copy, 0, sizeof *copy);
    free(copy);
    lf_parser_free(p);

    /* Each kind reaches its function: the same result as calling it directly. */
    static const char *const lines[] = {
        "<13>Jan  2 15:04:05 h a: x",
        "2024/01/02 15:04:05 [warn] 1#1: y",
        "1.2.3.4 - - [02/Jan/2024:15:04:05 +0000] \"GET / HTTP/1.1\" 200 1",
        "2024-01-02T15:04:05.000000000Z stdout F hello",
        "{\"log\":\"hi\\n\",\"stream\":\"stdout\",\"time\":\"2024-01-02T15:04:05Z\"}",
    };
    static const lf_parser_kind kinds[] = {LF_PARSER_SYSLOG, LF_PARSER_NGINX_ERROR,
                                           LF_PARSER_NGINX_ACCESS, LF_PARSER_CRI, LF_PARSER_DOCKER};
    lf_agent_event *direct = new_event();
    for (size_t i = 0; i < 5; i++) {
        cfg = (lf_parser_config){.kind = kinds[i]};
        assert_int_equal(lf_parser_new(&cfg, &p, NULL), LF_OK);
        size_t n = strlen(lines[i]);
        prefill(ev);
        prefill(direct);
        lf_err a = lf_parser_apply(p, lines[i], n, T0 * NS, ev, NULL), b;
        switch (kinds[i]) {
        case LF_PARSER_SYSLOG:
            b = lf_parse_syslog(lines[i], n, T0 * NS, direct, NULL);
            break;
        case LF_PARSER_NGINX_ERROR:
            b = lf_parse_nginx_error(lines[i], n, direct, NULL);
            break;
        case LF_PARSER_NGINX_ACCESS:
            b = lf_parse_nginx_access(lines[i], n, direct, NULL);
            break;
        case LF_PARSER_CRI:
            b = lf_parse_cri(lines[i], n, direct, NULL);
            break;
        default:
            b = lf_parse_docker(lines[i], n, direct, NULL);
            break;
        }
        assert_int_equal(a, b);
        assert_int_equal(a, LF_OK);
        assert_int_equal(ev->ts_ns, direct->ts_ns);
        assert_int_equal(ev->level, direct->level);
        assert_int_equal(ev->n_labels, direct->n_labels);
        assert_int_equal(ev->message_len, direct->message_len);
        assert_memory_equal(ev->message, direct->message, ev->message_len);
        lf_parser_free(p);
    }
    free_event(direct);
    free_event(ev);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_level_parse),           cmocka_unit_test(test_level_detect),
        cmocka_unit_test(test_time_rfc3339),          cmocka_unit_test(test_time_epoch),
        cmocka_unit_test(test_time_strptime),         cmocka_unit_test(test_time_format_valid),
        cmocka_unit_test(test_json_fields),           cmocka_unit_test(test_json_keys_and_values),
        cmocka_unit_test(test_json_labels_bounded),   cmocka_unit_test(test_json_refused),
        cmocka_unit_test(test_regex_groups),          cmocka_unit_test(test_regex_utf8_and_limits),
        cmocka_unit_test(test_regex_bad_patterns),    cmocka_unit_test(test_regex_concurrent),
        cmocka_unit_test(test_nginx_access_combined), cmocka_unit_test(test_nginx_access_json),
        cmocka_unit_test(test_nginx_error),           cmocka_unit_test(test_syslog_5424),
        cmocka_unit_test(test_syslog_3164),           cmocka_unit_test(test_parser_kinds),
        cmocka_unit_test(test_parser_apply),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

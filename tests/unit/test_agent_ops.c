/*
 * test_agent_ops.c — the agent's operations endpoint and its own log (src/agent/ops/).
 *
 * Endpoint: a real server on 127.0.0.1:0 fetched with libcurl — content types, the health
 * callback's 200/503 passed through (and a bad status read as 503), 404/405 as JSON, HEAD,
 * a POST with a body refused without hanging, the loopback rule and listen-address parsing.
 * Metric helpers: the output is run through a strict parser of the Prometheus text format
 * written here from the format's description, and label values with quotes, backslashes,
 * newlines and invalid UTF-8 come back exactly (or as U+FFFD).
 * Log: stderr captured through a pipe; levels, one line per message with control bytes
 * escaped, JSON lines parsed by jansson, the repeat limiter driven by an injected clock
 * (no sleeping, no timing thresholds), cut lines that stay well-formed, and threads whose
 * lines never interleave.
 */
#include "testutil.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ops/log.h"
#include "ops/ops_http.h"
#include "ops/ops_text.h"

/* ---- HTTP client ---- */

typedef struct reply {
    long status;
    char content_type[128];
    char allow[64];
    lf_buf body;
} reply;

static size_t on_body(char *p, size_t size, size_t n, void *ud)
{
    reply *r = ud;
    if (r->body.len + size * n > (1u << 20))
        return 0; /* bound what a broken server could make us hold */
    lf_buf_append(&r->body, p, size * n);
    return size * n;
}

static size_t on_header(char *p, size_t size, size_t n, void *ud)
{
    reply *r = ud;
    size_t len = size * n;
    if (len > 7 && strncasecmp(p, "Allow: ", 7) == 0) {
        size_t v = len - 7;
        while (v > 0 && (p[7 + v - 1] == '\r' || p[7 + v - 1] == '\n'))
            v--;
        if (v < sizeof r->allow) {
            memcpy(r->allow, p + 7, v);
            r->allow[v] = '\0';
        }
    }
    return len;
}

/* Fetch a path; method NULL = GET. body (may be NULL) is sent with the request. A transport
 * failure fails the test unless curl_rc is non-NULL, where it is reported instead. */
static reply fetch_rc(uint16_t port, const char *method, const char *path, const char *body,
                      CURLcode *curl_rc)
{
    reply r = {0};
    char url[128];
    snprintf(url, sizeof url, "http://127.0.0.1:%u%s", (unsigned)port, path);
    CURL *c = curl_easy_init();
    assert_non_null(c);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &r);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, &r);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 20L);
    curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
    if (method != NULL && strcmp(method, "HEAD") == 0)
        curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
    else if (method != NULL)
        curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    if (body != NULL)
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    CURLcode rc = curl_easy_perform(c);
    if (curl_rc != NULL)
        *curl_rc = rc;
    else if (rc != CURLE_OK)
        fail_msg("curl %s %s: %s", method ? method : "GET", path, curl_easy_strerror(rc));
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r.status);
    char *ct = NULL;
    curl_easy_getinfo(c, CURLINFO_CONTENT_TYPE, &ct);
    if (ct != NULL)
        snprintf(r.content_type, sizeof r.content_type, "%s", ct);
    curl_easy_cleanup(c);
    lf_buf_terminate(&r.body);
    return r;
}

static reply fetch(uint16_t port, const char *method, const char *path, const char *body)
{
    return fetch_rc(port, method, path, body, NULL);
}

/* The body as a JSON object with a string member `key` (fails the test otherwise). */
static void assert_json_member(const reply *r, const char *key, const char *want)
{
    json_error_t je;
    json_t *j = json_loadb((const char *)r->body.data, r->body.len, 0, &je);
    if (j == NULL)
        fail_msg("not JSON (%s): %.*s", je.text, (int)r->body.len, (const char *)r->body.data);
    assert_true(json_is_object(j));
    const char *v = json_string_value(json_object_get(j, key));
    assert_non_null(v);
    if (want != NULL)
        assert_string_equal(v, want);
    json_decref(j);
}

/* ---- a strict reader of the Prometheus text exposition format ---- */

typedef struct prom_sample {
    char name[128];
    size_t nlabels;
    char label_names[8][64];
    char label_values[8][512]; /* unescaped */
    char value[64];
} prom_sample;

static bool name_char(char c, bool first, bool colon)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (colon && c == ':') ||
           (!first && c >= '0' && c <= '9');
}

/* Parse one sample line (no newline). Returns false on any deviation from the format. */
static bool prom_parse_sample(const char *s, prom_sample *out)
{
    memset(out, 0, sizeof *out);
    size_t i = 0, n = 0;
    while (name_char(s[i], i == 0, true) && n + 1 < sizeof out->name)
        out->name[n++] = s[i++];
    if (n == 0)
        return false;
    if (s[i] == '{') {
        i++;
        while (s[i] != '}') {
            if (out->nlabels == 8)
                return false;
            size_t k = 0;
            char *ln = out->label_names[out->nlabels];
            while (name_char(s[i], k == 0, false) && k + 1 < 64)
                ln[k++] = s[i++];
            if (k == 0 || s[i] != '=' || s[i + 1] != '"')
                return false;
            i += 2;
            char *lv = out->label_values[out->nlabels];
            size_t v = 0;
            while (s[i] != '"') {
                if (s[i] == '\0' || s[i] == '\n' || v + 1 >= 512)
                    return false;
                char c = s[i++];
                if (c == '\\') {
                    char e = s[i++];
                    if (e == 'n')
                        c = '\n';
                    else if (e == '\\' || e == '"')
                        c = e;
                    else
                        return false; /* the format knows only these three escapes */
                }
                lv[v++] = c;
            }
            i++;
            out->nlabels++;
            if (s[i] == ',')
                i++;
            else if (s[i] != '}')
                return false;
        }
        i++;
    }
    if (s[i] != ' ')
        return false;
    i++;
    snprintf(out->value, sizeof out->value, "%s", s + i);
    if (strcmp(out->value, "NaN") == 0 || strcmp(out->value, "+Inf") == 0 ||
        strcmp(out->value, "-Inf") == 0)
        return true;
    char *end = NULL;
    errno = 0;
    strtod(out->value, &end);
    return out->value[0] != '\0' && end != NULL && *end == '\0' && errno == 0;
}

/* Check a whole exposition: every line a HELP, a TYPE (once per name, before its samples) or
 * a sample; valid UTF-8 throughout; ends with a newline. Returns the number of samples. */
static size_t prom_check(const char *text, size_t len)
{
    for (size_t i = 0; i < len;) {
        size_t seq = lf_agent_utf8_seq((const uint8_t *)text + i, len - i);
        if (seq == 0)
            fail_msg("invalid UTF-8 at byte %zu", i);
        i += seq;
    }
    assert_true(len == 0 || text[len - 1] == '\n');
    char typed[16][128];
    size_t ntyped = 0, samples = 0;
    const char *p = text;
    while (p < text + len) {
        const char *nl = memchr(p, '\n', (size_t)(text + len - p));
        assert_non_null(nl);
        char line_buf[2048];
        size_t ll = (size_t)(nl - p);
        assert_true(ll < sizeof line_buf);
        memcpy(line_buf, p, ll);
        line_buf[ll] = '\0';
        if (strncmp(line_buf, "# TYPE ", 7) == 0) {
            char name[128], type[32];
            assert_int_equal(sscanf(line_buf + 7, "%127s %31s", name, type), 2);
            for (size_t k = 0; k < ntyped; k++)
                assert_string_not_equal(typed[k], name);
            assert_true(ntyped < 16);
            snprintf(typed[ntyped++], 128, "%s", name);
        } else if (strncmp(line_buf, "# HELP ", 7) == 0) {
            /* HELP text: only \\ and \n escapes */
            for (const char *q = strchr(line_buf + 7, ' '); q && *q; q++)
                if (*q == '\\') {
                    assert_true(q[1] == '\\' || q[1] == 'n');
                    q++;
                }
        } else {
            prom_sample s;
            if (!prom_parse_sample(line_buf, &s))
                fail_msg("not a Prometheus sample line: %s", line_buf);
            samples++;
        }
        p = nl + 1;
    }
    return samples;
}

/* ---- endpoint callbacks ---- */

typedef struct fake_agent {
    int health_status;
    unsigned metrics_calls;
    unsigned health_calls;
} fake_agent;

static void fake_metrics(void *ctx, lf_buf *out)
{
    fake_agent *a = ctx;
    a->metrics_calls++;
    const char *const labels[] = {"input", "tail", "path", "/var/log/a \"b\"\\c\nd.log", NULL};
    lf_agent_metric_help(out, "logflux_agent_records_total", "counter", "Records read.");
    lf_agent_metric_u64(out, "logflux_agent_records_total", labels, 42);
    lf_agent_metric_help(out, "logflux_agent_buffer_fill_ratio", "gauge", "Buffer in use.");
    lf_agent_metric_f64(out, "logflux_agent_buffer_fill_ratio", NULL, 0.25);
}

static int fake_health(void *ctx, lf_buf *out)
{
    fake_agent *a = ctx;
    a->health_calls++;
    if (a->health_status == 200)
        lf_buf_append_str(out, "{\"status\":\"ok\",\"buffer_bytes\":0}");
    else if (a->health_status == 503)
        lf_buf_append_str(out, "{\"status\":\"degraded\",\"reason\":\"server unreachable\"}");
    /* anything else: leave it empty, the endpoint fills a default */
    return a->health_status;
}

/* ---- endpoint tests ---- */

static void test_endpoint_routes(void **state)
{
    (void)state;
    fake_agent a = {.health_status = 200};
    lf_agent_ops *o = NULL;
    lf_error err = {0};
    assert_int_equal(lf_agent_ops_start("127.0.0.1:0", fake_metrics, fake_health, &a, &o, &err),
                     LF_OK);
    uint16_t port = lf_agent_ops_port(o);
    assert_true(port != 0);

    reply r = fetch(port, NULL, "/metrics", NULL);
    assert_int_equal(r.status, 200);
    assert_true(strncmp(r.content_type, "text/plain; version=0.0.4", 25) == 0);
    assert_int_equal(prom_check((const char *)r.body.data, r.body.len), 2);
    assert_non_null(strstr((const char *)r.body.data,
                           "logflux_agent_records_total{input=\"tail\",path=\"/var/log/a "
                           "\\\"b\\\"\\\\c\\nd.log\"} 42\n"));
    assert_int_equal(a.metrics_calls, 1);
    lf_buf_free(&r.body);

    r = fetch(port, NULL, "/health", NULL);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.content_type, "application/json");
    assert_json_member(&r, "status", "ok");
    lf_buf_free(&r.body);

    a.health_status = 503;
    r = fetch(port, NULL, "/health", NULL);
    assert_int_equal(r.status, 503);
    assert_json_member(&r, "status", "degraded");
    lf_buf_free(&r.body);
    r = fetch(port, NULL, "/ready", NULL);
    assert_int_equal(r.status, 503);
    assert_json_member(&r, "reason", "server unreachable");
    lf_buf_free(&r.body);

    /* /live does not consult the callbacks: a degraded pipeline is not a dead process */
    unsigned calls = a.health_calls;
    r = fetch(port, NULL, "/live", NULL);
    assert_int_equal(r.status, 200);
    assert_json_member(&r, "status", "alive");
    assert_int_equal(a.health_calls, calls);
    lf_buf_free(&r.body);

    /* a status other than 200/503 is a bug in the callback: answered as 503 with a default */
    a.health_status = 302;
    r = fetch(port, NULL, "/health", NULL);
    assert_int_equal(r.status, 503);
    assert_json_member(&r, "status", "unavailable");
    lf_buf_free(&r.body);

    const char *missing[] = {"/", "/metricsx", "/metrics/", "/healthz", "/x?y=1"};
    for (size_t i = 0; i < sizeof missing / sizeof missing[0]; i++) {
        r = fetch(port, NULL, missing[i], NULL);
        assert_int_equal(r.status, 404);
        assert_string_equal(r.content_type, "application/json");
        assert_json_member(&r, "error", NULL);
        lf_buf_free(&r.body);
    }

    const char *methods[] = {"POST", "PUT", "DELETE", "OPTIONS", "PATCH"};
    for (size_t i = 0; i < sizeof methods / sizeof methods[0]; i++) {
        r = fetch(port, methods[i], "/metrics", NULL);
        assert_int_equal(r.status, 405);
        assert_string_equal(r.allow, "GET, HEAD");
        assert_json_member(&r, "error", NULL);
        lf_buf_free(&r.body);
    }
    /* a body is never read: the answer comes first and the connection closes after it */
    char big[64 * 1024];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    r = fetch(port, "POST", "/health", big);
    assert_int_equal(r.status, 405);
    lf_buf_free(&r.body);

    r = fetch(port, "HEAD", "/metrics", NULL);
    assert_int_equal(r.status, 200);
    assert_int_equal(r.body.len, 0);
    lf_buf_free(&r.body);

    /* still serving after all that */
    a.health_status = 200;
    r = fetch(port, NULL, "/health", NULL);
    assert_int_equal(r.status, 200);
    lf_buf_free(&r.body);
    lf_agent_ops_stop(o);
}

static void test_endpoint_null_callbacks(void **state)
{
    (void)state;
    lf_agent_ops *o = NULL;
    assert_int_equal(lf_agent_ops_start("127.0.0.1:0", NULL, NULL, NULL, &o, NULL), LF_OK);
    reply r = fetch(lf_agent_ops_port(o), NULL, "/metrics", NULL);
    assert_int_equal(r.status, 200);
    assert_int_equal(r.body.len, 0);
    lf_buf_free(&r.body);
    r = fetch(lf_agent_ops_port(o), NULL, "/health", NULL);
    assert_int_equal(r.status, 200);
    assert_json_member(&r, "status", "ok");
    lf_buf_free(&r.body);
    lf_agent_ops_stop(o);
    lf_agent_ops_stop(NULL);
}

static void test_endpoint_listen_rules(void **state)
{
    (void)state;
    lf_agent_ops *o = NULL;
    lf_error err = {0};
    /* not loopback: refused without the explicit flag, and the message says which flag */
    assert_int_equal(lf_agent_ops_start("0.0.0.0:0", NULL, NULL, NULL, &o, &err), LF_ERR_INVALID);
    assert_null(o);
    assert_non_null(strstr(err.message, "allow_non_loopback"));
    assert_int_equal(lf_agent_ops_start("[::]:0", NULL, NULL, NULL, &o, &err), LF_ERR_INVALID);
    assert_int_equal(lf_agent_ops_start("10.1.2.3:2020", NULL, NULL, NULL, &o, &err),
                     LF_ERR_INVALID);
    /* with it, the wildcard works (and still answers on loopback) */
    lf_agent_ops_options opts = {.listen = "0.0.0.0:0", .allow_non_loopback = true};
    assert_int_equal(lf_agent_ops_start_opts(&opts, &o, &err), LF_OK);
    reply r = fetch(lf_agent_ops_port(o), NULL, "/live", NULL);
    assert_int_equal(r.status, 200);
    lf_buf_free(&r.body);
    /* a port in use is a clear I/O error */
    char taken[64];
    snprintf(taken, sizeof taken, "127.0.0.1:%u", (unsigned)lf_agent_ops_port(o));
    lf_agent_ops *o2 = NULL;
    assert_int_equal(lf_agent_ops_start(taken, NULL, NULL, NULL, &o2, &err), LF_ERR_IO);
    assert_null(o2);
    assert_non_null(strstr(err.message, taken));
    lf_agent_ops_stop(o);

    const char *bad[] = {"127.0.0.1",     "127.0.0.1:",     "127.0.0.1:65536", "127.0.0.1:-1",
                         "127.0.0.1:80x", ":2020",          "::1:2020",        "[::1]2020",
                         "[::1",          "example.com:80", "127.0.0.1:123456"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct sockaddr_storage ss;
        unsigned len;
        bool lo;
        if (lf_agent_ops_parse_listen(bad[i], &ss, &len, &lo, &err) != LF_ERR_INVALID)
            fail_msg("accepted %s", bad[i]);
    }
    struct {
        const char *text;
        bool loopback;
    } good[] = {{"127.0.0.1:2020", true},
                {"127.8.9.10:1", true},
                {"[::1]:2020", true},
                {"localhost:2020", true},
                {"0.0.0.0:2020", false},
                {"[::]:2020", false},
                {"192.168.1.1:9", false},
                {NULL, true},
                {"", true}};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        struct sockaddr_storage ss;
        unsigned len = 0;
        bool lo = !good[i].loopback;
        assert_int_equal(lf_agent_ops_parse_listen(good[i].text, &ss, &len, &lo, &err), LF_OK);
        assert_int_equal(lo, good[i].loopback);
        assert_true(len > 0);
    }
    /* IPv6 loopback end to end, where the host has it */
    if (lf_agent_ops_start("[::1]:0", NULL, NULL, NULL, &o, &err) == LF_OK) {
        assert_true(lf_agent_ops_port(o) != 0);
        lf_agent_ops_stop(o);
    }
}

/* Idle connections from one peer take at most 4 of the 8 slots: past that the peer is
 * refused, and the endpoint serves again once they close. */
static void test_endpoint_connection_bound(void **state)
{
    (void)state;
    lf_agent_ops *o = NULL;
    assert_int_equal(lf_agent_ops_start("127.0.0.1:0", NULL, NULL, NULL, &o, NULL), LF_OK);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(lf_agent_ops_port(o))};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int idle[4];
    for (size_t i = 0; i < 4; i++) {
        idle[i] = socket(AF_INET, SOCK_STREAM, 0);
        assert_true(idle[i] >= 0);
        assert_int_equal(connect(idle[i], (struct sockaddr *)&sa, sizeof sa), 0);
    }
    /* the kernel queues connections in order, so the four are accepted before this one */
    CURLcode rc = CURLE_OK;
    reply r = fetch_rc(lf_agent_ops_port(o), NULL, "/live", NULL, &rc);
    assert_int_not_equal(rc, CURLE_OK);
    lf_buf_free(&r.body);
    for (size_t i = 0; i < 4; i++)
        close(idle[i]);
    /* the server notices the closes on its own thread: try a bounded number of times */
    bool served = false;
    for (int attempt = 0; attempt < 200 && !served; attempt++) {
        r = fetch_rc(lf_agent_ops_port(o), NULL, "/live", NULL, &rc);
        served = rc == CURLE_OK && r.status == 200;
        lf_buf_free(&r.body);
        if (!served)
            usleep(10000);
    }
    assert_true(served);
    lf_agent_ops_stop(o);
}

/* ---- metric helper tests ---- */

static void test_metric_helpers(void **state)
{
    (void)state;
    lf_buf out = LF_BUF_INIT;
    const char *values[] = {
        "plain", "quote \" inside",           "back\\slash", "new\nline", "all \\\"\n\\n at once",
        "",      "tab\there and caf\xC3\xA9",
    };
    assert_int_equal(lf_agent_metric_help(&out, "lf_test_total", "counter",
                                          "Help with a \\ backslash\nand a newline."),
                     LF_OK);
    for (size_t i = 0; i < sizeof values / sizeof values[0]; i++) {
        const char *labels[] = {"v", values[i], "n", "x", NULL};
        assert_int_equal(lf_agent_metric_u64(&out, "lf_test_total", labels, i), LF_OK);
    }
    assert_int_equal(lf_agent_metric_help(&out, "lf_test:ratio", "gauge", NULL), LF_OK);
    assert_int_equal(lf_agent_metric_f64(&out, "lf_test:ratio", NULL, 1.5), LF_OK);
    assert_int_equal(lf_agent_metric_f64(&out, "lf_test:ratio", NULL, NAN), LF_OK);
    assert_int_equal(lf_agent_metric_f64(&out, "lf_test:ratio", NULL, INFINITY), LF_OK);
    assert_int_equal(lf_agent_metric_f64(&out, "lf_test:ratio", NULL, -INFINITY), LF_OK);
    assert_int_equal(lf_agent_metric_f64(&out, "lf_test:ratio", NULL, 1e-300), LF_OK);
    assert_int_equal(lf_agent_metric_u64(&out, "lf_test:ratio", NULL, UINT64_MAX), LF_OK);
    /* invalid UTF-8 in a value (a file name can be any bytes) becomes U+FFFD */
    const char *bad_utf8[] = {"path", "/var/log/\xFF\xC3.log", NULL};
    assert_int_equal(lf_agent_metric_u64(&out, "lf_test:ratio", bad_utf8, 1), LF_OK);
    size_t before = out.len;
    /* refused names write nothing */
    const char *bad_label[] = {"has-dash", "v", NULL};
    const char *colon_label[] = {"a:b", "v", NULL};
    const char *digit_label[] = {"1a", "v", NULL};
    const char *missing_value[] = {"a", NULL};
    assert_int_equal(lf_agent_metric_u64(&out, "ok", bad_label, 1), LF_ERR_INVALID);
    assert_int_equal(lf_agent_metric_u64(&out, "ok", colon_label, 1), LF_ERR_INVALID);
    assert_int_equal(lf_agent_metric_u64(&out, "ok", digit_label, 1), LF_ERR_INVALID);
    assert_int_equal(lf_agent_metric_u64(&out, "ok", missing_value, 1), LF_ERR_INVALID);
    assert_int_equal(lf_agent_metric_u64(&out, "9lives", NULL, 1), LF_ERR_INVALID);
    assert_int_equal(lf_agent_metric_u64(&out, "", NULL, 1), LF_ERR_INVALID);
    assert_int_equal(lf_agent_metric_f64(&out, "a b", NULL, 1), LF_ERR_INVALID);
    assert_int_equal(lf_agent_metric_help(&out, "ok", "countr", "x"), LF_ERR_INVALID);
    assert_int_equal(lf_agent_metric_help(&out, "o-k", "gauge", "x"), LF_ERR_INVALID);
    assert_int_equal(out.len, before);
    lf_buf_terminate(&out);

    const char *text = (const char *)out.data;
    assert_int_equal(prom_check(text, out.len), sizeof values / sizeof values[0] + 7);
    assert_non_null(strstr(text, "# HELP lf_test_total Help with a \\\\ backslash\\nand a "
                                 "newline.\n# TYPE lf_test_total counter\n"));
    assert_non_null(strstr(text, "lf_test:ratio NaN\n"));
    assert_non_null(strstr(text, "lf_test:ratio +Inf\n"));
    assert_non_null(strstr(text, "lf_test:ratio -Inf\n"));
    assert_non_null(strstr(text, "lf_test:ratio 18446744073709551615\n"));
    assert_non_null(strstr(text, "path=\"/var/log/\xEF\xBF\xBD\xEF\xBF\xBD.log\""));

    /* every label value parses back to exactly what was given */
    const char *p = text;
    size_t seen = 0;
    while ((p = strstr(p, "lf_test_total{")) != NULL) {
        const char *nl = strchr(p, '\n');
        char line_buf[1024];
        memcpy(line_buf, p, (size_t)(nl - p));
        line_buf[nl - p] = '\0';
        prom_sample s;
        assert_true(prom_parse_sample(line_buf, &s));
        assert_int_equal(s.nlabels, 2);
        assert_string_equal(s.label_names[0], "v");
        size_t idx = (size_t)strtoull(s.value, NULL, 10);
        assert_true(idx < sizeof values / sizeof values[0]);
        assert_string_equal(s.label_values[0], values[idx]);
        assert_string_equal(s.label_values[1], "x");
        seen++;
        p = nl;
    }
    assert_int_equal(seen, sizeof values / sizeof values[0]);
    lf_buf_free(&out);
}

static void test_text_escapes(void **state)
{
    (void)state;
    /* UTF-8: boundaries of each length, overlongs, surrogates, past U+10FFFF, truncation */
    assert_int_equal(lf_agent_utf8_seq((const uint8_t *)"\x7F", 1), 1);
    assert_int_equal(lf_agent_utf8_seq((const uint8_t *)"\xC2\x80", 2), 2);
    assert_int_equal(lf_agent_utf8_seq((const uint8_t *)"\xC0\x80", 2), 0);
    assert_int_equal(lf_agent_utf8_seq((const uint8_t *)"\xE0\x9F\xBF", 3), 0);
    assert_int_equal(lf_agent_utf8_seq((const uint8_t *)"\xED\xA0\x80", 3), 0);
    assert_int_equal(lf_agent_utf8_seq((const uint8_t *)"\xEF\xBF\xBF", 3), 3);
    assert_int_equal(lf_agent_utf8_seq((const uint8_t *)"\xF4\x8F\xBF\xBF", 4), 4);
    assert_int_equal(lf_agent_utf8_seq((const uint8_t *)"\xF4\x90\x80\x80", 4), 0);
    assert_int_equal(lf_agent_utf8_seq((const uint8_t *)"\xE2\x82", 2), 0);
    assert_int_equal(lf_agent_utf8_seq((const uint8_t *)"\x80", 1), 0);

    lf_buf b = LF_BUF_INIT;
    const char in[] = "a\"b\\c\n\x01\x7F\xFF\xC3\xA9";
    assert_int_equal(lf_agent_json_escape(&b, in, sizeof in - 1), LF_OK);
    assert_int_equal(lf_buf_terminate(&b), LF_OK);
    assert_string_equal((const char *)b.data, "a\\\"b\\\\c\\n\\u0001\x7F\xEF\xBF\xBD\xC3\xA9");
    lf_buf_free(&b);
}

/* ---- log tests ---- */

/* stderr captured through a pipe: the reader drains it into a buffer on demand. */
typedef struct capture {
    int saved;
    int rd;
    lf_buf got;
} capture;

static void capture_start(capture *c)
{
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    fflush(stderr);
    c->saved = dup(2);
    assert_true(c->saved >= 0);
    assert_true(dup2(fds[1], 2) == 2);
    close(fds[1]);
    c->rd = fds[0];
    /* non-blocking read end so draining stops when the pipe is empty */
    fcntl(c->rd, F_SETFL, fcntl(c->rd, F_GETFL) | O_NONBLOCK);
    lf_buf tmp = LF_BUF_INIT;
    c->got = tmp;
}

/* Read what the log wrote so far (the writes are complete: they happened in this thread or in
 * joined threads). */
static const char *capture_drain(capture *c)
{
    char chunk[4096];
    for (;;) {
        ssize_t n = read(c->rd, chunk, sizeof chunk);
        if (n <= 0)
            break;
        lf_buf_append(&c->got, chunk, (size_t)n);
    }
    lf_buf_terminate(&c->got);
    return c->got.data ? (const char *)c->got.data : "";
}

static void capture_clear(capture *c)
{
    capture_drain(c);
    lf_buf_reset(&c->got);
}

static void capture_stop(capture *c)
{
    dup2(c->saved, 2);
    close(c->saved);
    close(c->rd);
    lf_buf_free(&c->got);
}

static size_t count_lines(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        n += *s == '\n';
    return n;
}

static size_t count_of(const char *hay, const char *needle)
{
    size_t n = 0;
    for (const char *p = hay; (p = strstr(p, needle)) != NULL; p += strlen(needle))
        n++;
    return n;
}

static int64_t fake_now;
static int64_t fake_clock(void)
{
    return fake_now;
}

static void log_reset(bool json)
{
    lf_agent_log_init(LF_AGENT_LOG_DEBUG, json);
    lf_agent_log_set_clock(fake_clock);
    lf_agent_log_set_window(10);
    fake_now = 1000000;
}

static void test_log_levels_and_text(void **state)
{
    (void)state;
    capture c;
    capture_start(&c);
    log_reset(false);
    lf_agent_log_init(LF_AGENT_LOG_WARN, false);
    assert_false(lf_agent_log_enabled(LF_AGENT_LOG_INFO));
    assert_true(lf_agent_log_enabled(LF_AGENT_LOG_ERROR));
    lf_agent_log(LF_AGENT_LOG_DEBUG, "tail", "debug %d", 1);
    lf_agent_log(LF_AGENT_LOG_INFO, "tail", "info %d", 2);
    lf_agent_log(LF_AGENT_LOG_WARN, "tail", "warn %d", 3);
    lf_agent_log(LF_AGENT_LOG_ERROR, "shipper", "error %s", "four");
    const char *out = capture_drain(&c);
    assert_int_equal(count_lines(out), 2);
    assert_null(strstr(out, "debug 1"));
    assert_null(strstr(out, "info 2"));
    assert_non_null(strstr(out, " warn  [tail] warn 3\n"));
    assert_non_null(strstr(out, " error [shipper] error four\n"));
    /* a timestamp first: 2025-01-31T12:00:00.123Z */
    assert_int_equal(strlen(out) > 24 && out[4] == '-' && out[10] == 'T' && out[23] == 'Z', 1);

    /* a message cannot forge a second line */
    capture_clear(&c);
    lf_agent_log(LF_AGENT_LOG_ERROR, "tail", "name %s",
                 "evil\n2025-01-01T00:00:00.000Z error [x] forged");
    out = capture_drain(&c);
    assert_int_equal(count_lines(out), 1);
    assert_non_null(strstr(out, "evil\\n2025"));

    capture_clear(&c);
    lf_agent_log(LF_AGENT_LOG_ERROR, "tail", "ctl \x01 del \x7F tab\t bad \xFF ok \xC3\xA9 bs \\");
    out = capture_drain(&c);
    assert_non_null(
        strstr(out, "ctl \\x01 del \\x7f tab\\t bad \xEF\xBF\xBD ok \xC3\xA9 bs \\\\\n"));

    lf_agent_log_level lv;
    lf_error err = {0};
    assert_int_equal(lf_agent_log_level_parse("debug", &lv, &err), LF_OK);
    assert_int_equal(lv, LF_AGENT_LOG_DEBUG);
    assert_int_equal(lf_agent_log_level_parse("WARNING", &lv, &err), LF_OK);
    assert_int_equal(lv, LF_AGENT_LOG_WARN);
    assert_int_equal(lf_agent_log_level_parse("error", &lv, &err), LF_OK);
    assert_int_equal(lv, LF_AGENT_LOG_ERROR);
    assert_int_equal(lf_agent_log_level_parse("verbose", &lv, &err), LF_ERR_INVALID);
    assert_non_null(strstr(err.message, "log.level"));
    assert_int_equal(lf_agent_log_level_parse(NULL, &lv, &err), LF_ERR_INVALID);
    capture_stop(&c);
}

/* Parse every line of out as a JSON object; return them in an array. */
static json_t *json_lines(const char *out)
{
    json_t *arr = json_array();
    const char *p = out;
    while (*p) {
        const char *nl = strchr(p, '\n');
        assert_non_null(nl);
        json_error_t je;
        json_t *j = json_loadb(p, (size_t)(nl - p), 0, &je);
        if (j == NULL)
            fail_msg("log line is not JSON (%s): %.*s", je.text, (int)(nl - p), p);
        assert_true(json_is_object(j));
        json_array_append_new(arr, j);
        p = nl + 1;
    }
    return arr;
}

static void test_log_json(void **state)
{
    (void)state;
    capture c;
    capture_start(&c);
    log_reset(true);
    const char *nasty = "q\" b\\ n\n r\r t\t c\x01 bad\xFF\xFE u\xE2\x82\xAC";
    lf_agent_log(LF_AGENT_LOG_WARN, "tail", "cannot open %s", nasty);
    lf_agent_log(LF_AGENT_LOG_INFO, "ops", "listening on %s", "127.0.0.1:2020");
    json_t *arr = json_lines(capture_drain(&c));
    assert_int_equal(json_array_size(arr), 2);
    json_t *j = json_array_get(arr, 0);
    assert_string_equal(json_string_value(json_object_get(j, "level")), "warn");
    assert_string_equal(json_string_value(json_object_get(j, "component")), "tail");
    assert_string_equal(json_string_value(json_object_get(j, "msg")),
                        "cannot open q\" b\\ n\n r\r t\t c\x01 bad\xEF\xBF\xBD\xEF\xBF\xBD "
                        "u\xE2\x82\xAC");
    const char *ts = json_string_value(json_object_get(j, "ts"));
    assert_non_null(ts);
    assert_int_equal(strlen(ts), 24);
    assert_null(json_object_get(j, "suppressed"));
    assert_string_equal(json_string_value(json_object_get(json_array_get(arr, 1), "level")),
                        "info");
    json_decref(arr);

    /* a message longer than a line is cut on an escape boundary and stays valid JSON */
    capture_clear(&c);
    char *huge = malloc(10000);
    assert_non_null(huge);
    for (size_t i = 0; i < 9999; i++)
        huge[i] = "\"\\\n\x01\xC3\xA9"[i % 6]; /* every unit escapes or is multi-byte */
    huge[9999] = '\0';
    lf_agent_log(LF_AGENT_LOG_ERROR, "tail", "%s", huge);
    const char *out = capture_drain(&c);
    assert_true(strlen(out) <= LF_AGENT_LOG_LINE_MAX);
    assert_int_equal(count_lines(out), 1);
    arr = json_lines(out);
    const char *msg = json_string_value(json_object_get(json_array_get(arr, 0), "msg"));
    assert_non_null(msg);
    assert_true(strlen(msg) > 100);
    assert_non_null(strstr(msg, "..."));
    json_decref(arr);
    free(huge);

    /* text mode cuts the same way and still ends with one newline */
    lf_agent_log_init(LF_AGENT_LOG_DEBUG, false);
    capture_clear(&c);
    char *long_text = malloc(20000);
    assert_non_null(long_text);
    memset(long_text, 'z', 19999);
    long_text[19999] = '\0';
    lf_agent_log(LF_AGENT_LOG_ERROR, "tail", "%s", long_text);
    out = capture_drain(&c);
    assert_true(strlen(out) <= LF_AGENT_LOG_LINE_MAX);
    assert_int_equal(count_lines(out), 1);
    assert_non_null(strstr(out, "zzz...\n"));
    free(long_text);
    capture_stop(&c);
}

/* At a reload the limiter forgets what it saw: "input started" shows again at once, and a
 * pending suppressed count is reported first. */
static void test_log_reset_repeats(void **state)
{
    (void)state;
    capture c;
    capture_start(&c);
    log_reset(false);
    lf_agent_log(LF_AGENT_LOG_INFO, "input", "%s (%s) started", "app", "tail");
    lf_agent_log(LF_AGENT_LOG_INFO, "input", "%s (%s) started", "app", "tail");
    assert_int_equal(count_lines(capture_drain(&c)), 1);
    capture_clear(&c);
    lf_agent_log_reset_repeats();
    const char *out = capture_drain(&c);
    assert_int_equal(count_lines(out), 1); /* the summary of the one swallowed line */
    assert_non_null(strstr(out, "suppressed 1"));
    capture_clear(&c);
    lf_agent_log(LF_AGENT_LOG_INFO, "input", "%s (%s) started", "app", "tail");
    out = capture_drain(&c);
    assert_int_equal(count_lines(out), 1);
    assert_null(strstr(out, "suppressed"));
    capture_stop(&c);
}

static void test_log_rate_limit(void **state)
{
    (void)state;
    capture c;
    capture_start(&c);
    log_reset(true);

    /* a flapping server: 1000 identical messages inside the window make one line */
    for (int i = 0; i < 1000; i++)
        lf_agent_log(LF_AGENT_LOG_WARN, "shipper", "server %s unreachable", "10.0.0.1:443");
    const char *out = capture_drain(&c);
    assert_int_equal(count_lines(out), 1);

    /* a different message, or the same text at another level/component, is not suppressed */
    lf_agent_log(LF_AGENT_LOG_WARN, "shipper", "server %s unreachable", "10.0.0.2:443");
    lf_agent_log(LF_AGENT_LOG_ERROR, "shipper", "server %s unreachable", "10.0.0.1:443");
    lf_agent_log(LF_AGENT_LOG_WARN, "tail", "server %s unreachable", "10.0.0.1:443");
    out = capture_drain(&c);
    assert_int_equal(count_lines(out), 4);

    /* after the window, the next occurrence is written with the count it swallowed */
    capture_clear(&c);
    fake_now += 9999; /* still inside */
    lf_agent_log(LF_AGENT_LOG_WARN, "shipper", "server %s unreachable", "10.0.0.1:443");
    assert_int_equal(count_lines(capture_drain(&c)), 0);
    fake_now += 1; /* exactly one window after the last line */
    lf_agent_log(LF_AGENT_LOG_WARN, "shipper", "server %s unreachable", "10.0.0.1:443");
    out = capture_drain(&c);
    json_t *arr = json_lines(out);
    /* the other three messages had no repeats: no summary lines for them */
    assert_int_equal(json_array_size(arr), 1);
    json_t *j = json_array_get(arr, 0);
    assert_string_equal(json_string_value(json_object_get(j, "msg")),
                        "server 10.0.0.1:443 unreachable");
    assert_int_equal(json_integer_value(json_object_get(j, "suppressed")), 1000);
    assert_null(json_object_get(j, "summary"));
    json_decref(arr);

    /* a message that stops recurring: its count is reported by the next call after the
     * window, whatever that call logs */
    capture_clear(&c);
    for (int i = 0; i < 5; i++)
        lf_agent_log(LF_AGENT_LOG_WARN, "shipper", "server %s unreachable", "10.0.0.1:443");
    fake_now += 10000;
    lf_agent_log(LF_AGENT_LOG_INFO, "shipper", "server %s reachable again", "10.0.0.1:443");
    arr = json_lines(capture_drain(&c));
    assert_int_equal(json_array_size(arr), 2);
    j = json_array_get(arr, 0);
    assert_string_equal(json_string_value(json_object_get(j, "msg")),
                        "server 10.0.0.1:443 unreachable");
    assert_int_equal(json_integer_value(json_object_get(j, "suppressed")), 5);
    assert_true(json_is_true(json_object_get(j, "summary")));
    assert_string_equal(json_string_value(json_object_get(json_array_get(arr, 1), "msg")),
                        "server 10.0.0.1:443 reachable again");
    json_decref(arr);

    /* flush reports pending counts at once (shutdown), in text mode too */
    lf_agent_log_init(LF_AGENT_LOG_DEBUG, false);
    capture_clear(&c);
    for (int i = 0; i < 4; i++)
        lf_agent_log(LF_AGENT_LOG_ERROR, "buffer", "disk full");
    lf_agent_log_flush();
    lf_agent_log_flush(); /* nothing left to report the second time */
    out = capture_drain(&c);
    assert_int_equal(count_lines(out), 2);
    assert_non_null(strstr(out, "] disk full\n"));
    assert_non_null(strstr(out, "] suppressed 3 repeats of: disk full\n"));
    /* and the next occurrence inside the window is counted afresh */
    capture_clear(&c);
    lf_agent_log(LF_AGENT_LOG_ERROR, "buffer", "disk full");
    fake_now += 10000;
    lf_agent_log(LF_AGENT_LOG_ERROR, "buffer", "disk full");
    out = capture_drain(&c);
    assert_int_equal(count_lines(out), 1);
    assert_non_null(strstr(out, "] disk full (suppressed 1)\n"));

    /* many distinct messages (more than the table holds) all get through, and their repeats
     * are all accounted for: every occurrence is either written or counted in a report */
    capture_clear(&c);
    fake_now += 100000;
    for (int round = 0; round < 3; round++)
        for (int i = 0; i < 200; i++)
            lf_agent_log(LF_AGENT_LOG_WARN, "tail", "file %d vanished", i);
    lf_agent_log_flush();
    out = capture_drain(&c);
    size_t occurrences = 0;
    for (const char *p = out; *p;) {
        const char *nl = strchr(p, '\n');
        assert_non_null(nl);
        const char *s = strstr(p, "] suppressed ");
        const char *t = strstr(p, " (suppressed ");
        if (s != NULL && s < nl)
            occurrences += strtoull(s + 13, NULL, 10);
        else
            occurrences += 1 + (t != NULL && t < nl ? strtoull(t + 13, NULL, 10) : 0);
        p = nl + 1;
    }
    assert_int_equal(occurrences, 600);
    for (int i = 0; i < 200; i++) {
        char want[32];
        snprintf(want, sizeof want, "] file %d vanished", i);
        assert_true(count_of(out, want) >= 1);
    }

    /* window 0 turns the limiter off */
    lf_agent_log_set_window(0);
    capture_clear(&c);
    for (int i = 0; i < 50; i++)
        lf_agent_log(LF_AGENT_LOG_WARN, "x", "same");
    assert_int_equal(count_lines(capture_drain(&c)), 50);
    lf_agent_log_set_window(LF_AGENT_LOG_DEFAULT_WINDOW_S);
    lf_agent_log_set_clock(NULL);
    capture_stop(&c);
}

/* Threads logging distinct long messages at once: every line arrives whole. */
#define LOG_THREADS    4
#define LOG_PER_THREAD 200

static void *log_thread(void *arg)
{
    int id = (int)(intptr_t)arg;
    char pad[1500];
    memset(pad, 'a' + id, sizeof pad - 1);
    pad[sizeof pad - 1] = '\0';
    for (int i = 0; i < LOG_PER_THREAD; i++)
        lf_agent_log(LF_AGENT_LOG_INFO, "t", "thread %d msg %d %s end", id, i, pad);
    return NULL;
}

/* The pipe holds 64 KiB by default; a reader thread keeps it from filling. */
typedef struct drain_ctx {
    int fd;
    lf_buf got;
} drain_ctx;

static void *drain_thread(void *arg)
{
    drain_ctx *d = arg;
    char chunk[8192];
    for (;;) {
        ssize_t n = read(d->fd, chunk, sizeof chunk);
        if (n > 0)
            lf_buf_append(&d->got, chunk, (size_t)n);
        else if (n == 0 || errno != EINTR)
            break;
    }
    return NULL;
}

static void test_log_threads(void **state)
{
    (void)state;
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    drain_ctx d = {.fd = fds[0], .got = LF_BUF_INIT};
    pthread_t reader;
    assert_int_equal(pthread_create(&reader, NULL, drain_thread, &d), 0);
    lf_agent_log_init(LF_AGENT_LOG_INFO, false);
    lf_agent_log_set_fd(fds[1]);
    pthread_t th[LOG_THREADS];
    for (int i = 0; i < LOG_THREADS; i++)
        assert_int_equal(pthread_create(&th[i], NULL, log_thread, (void *)(intptr_t)i), 0);
    for (int i = 0; i < LOG_THREADS; i++)
        pthread_join(th[i], NULL);
    lf_agent_log_set_fd(2);
    close(fds[1]);
    pthread_join(reader, NULL);
    close(fds[0]);
    lf_buf_terminate(&d.got);
    const char *out = (const char *)d.got.data;
    assert_int_equal(count_lines(out), LOG_THREADS * LOG_PER_THREAD);
    /* each line: "... [t] thread I msg N aaaa...a end" with one letter only */
    for (const char *p = out; *p;) {
        const char *nl = strchr(p, '\n');
        const char *m = strstr(p, "[t] thread ");
        assert_true(m != NULL && m < nl);
        int id = m[11] - '0';
        assert_true(id >= 0 && id < LOG_THREADS);
        const char *pad = strchr(m + 13, ' ');
        pad = strchr(pad + 1, ' ') + 1; /* past "msg N " */
        for (size_t k = 0; k < 1499; k++)
            assert_int_equal(pad[k], 'a' + id);
        assert_memory_equal(pad + 1499, " end\n", 5);
        p = nl + 1;
    }
    lf_buf_free(&d.got);
}

int main(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_endpoint_routes),
        cmocka_unit_test(test_endpoint_null_callbacks),
        cmocka_unit_test(test_endpoint_listen_rules),
        cmocka_unit_test(test_endpoint_connection_bound),
        cmocka_unit_test(test_metric_helpers),
        cmocka_unit_test(test_text_escapes),
        cmocka_unit_test(test_log_levels_and_text),
        cmocka_unit_test(test_log_json),
        cmocka_unit_test(test_log_rate_limit),
        cmocka_unit_test(test_log_reset_repeats),
        cmocka_unit_test(test_log_threads),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    curl_global_cleanup();
    return rc;
}

/*
 * test_http.c — logfluxd's HTTP layer against a real client (libcurl) over TLS 1.3 on
 * loopback: routing, JSON answers and the error shape, request ids, body limits (declared and
 * streamed), TLS version floor, the loopback-only rule for plain HTTP, and draining.
 */
#include "testutil.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "http/http.h"
#include "tls/selfsigned.h"

static char dir[64], cert_path[128], key_path[128];
static char *cert_pem, *key_pem;

static void on_hello(lfd_request *r, void *ctx)
{
    (void)ctx;
    const char *name = lfd_req_query(r, "name");
    lfd_respond_json(
        r, 200, json_pack("{s:s, s:s}", "hello", name ? name : "world", "peer", lfd_req_peer(r)));
}

static void on_echo(lfd_request *r, void *ctx)
{
    (void)ctx;
    const lf_buf *b = lfd_req_body(r);
    lfd_resp_header(r, "X-Echo-Len", "yes");
    lfd_respond_bytes(r, 201, "application/octet-stream", b->data, b->len);
}

static void on_silent(lfd_request *r, void *ctx)
{
    (void)r;
    (void)ctx; /* forgets to answer: the layer must answer 500 */
}

static const lfd_route routes[] = {
    {"GET", "/hello", 0, on_hello},   {"POST", "/echo", 1024, on_echo},
    {"GET", "/silent", 0, on_silent}, {"GET", "/prefix/*", 0, on_hello},
    {"POST", "/big", 8192, on_echo},
};

static char *slurp(const char *path)
{
    lf_buf b = lf_test_read_file(path);
    lf_buf_terminate(&b);
    return (char *)b.data;
}

static int setup(void **state)
{
    (void)state;
    strcpy(dir, "/tmp/lf-http-XXXXXX");
    assert_non_null(mkdtemp(dir));
    snprintf(cert_path, sizeof cert_path, "%s/cert.pem", dir);
    snprintf(key_path, sizeof key_path, "%s/key.pem", dir);
    lf_error err = {0};
    assert_int_equal(lfd_tls_make_selfsigned(cert_path, key_path, "logs.example.test", 30, &err),
                     LF_OK);
    cert_pem = slurp(cert_path);
    key_pem = slurp(key_path);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    unlink(cert_path);
    unlink(key_path);
    rmdir(dir);
    free(cert_pem);
    free(key_pem);
    curl_global_cleanup();
    return 0;
}

typedef struct reply {
    long status;
    lf_buf body;
    char request_id[64];
    bool echo_header;
} reply;

static size_t on_body(char *p, size_t size, size_t n, void *ud)
{
    reply *r = ud;
    lf_buf_append(&r->body, p, size * n);
    return size * n;
}

static size_t on_header(char *p, size_t size, size_t n, void *ud)
{
    reply *r = ud;
    if (strncasecmp(p, "X-Request-Id: ", 14) == 0)
        sscanf(p + 14, "%63s", r->request_id);
    if (strncasecmp(p, "X-Echo-Len:", 11) == 0)
        r->echo_header = true;
    return size * n;
}

/* One request; tls_max12 forces the client to TLS <= 1.2. Returns the curl code. */
static CURLcode request(uint16_t port, bool tls, const char *method, const char *path,
                        const void *body, long body_len, bool tls_max12, reply *out)
{
    memset(out, 0, sizeof *out);
    char url[256];
    snprintf(url, sizeof url, "%s://127.0.0.1:%u%s", tls ? "https" : "http", port, path);
    CURL *c = curl_easy_init();
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CAINFO, cert_path);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, out);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, out);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 10L);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    if (tls_max12)
        curl_easy_setopt(c, CURLOPT_SSLVERSION,
                         (long)(CURL_SSLVERSION_TLSv1_2 | CURL_SSLVERSION_MAX_TLSv1_2));
    if (body != NULL) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, body_len);
    }
    CURLcode rc = curl_easy_perform(c);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &out->status);
    curl_easy_cleanup(c);
    lf_buf_terminate(&out->body);
    return rc;
}

static lfd_http *start(bool tls)
{
    lfd_http_options o = {.listen = "127.0.0.1:0",
                          .cert_pem = tls ? cert_pem : NULL,
                          .key_pem = tls ? key_pem : NULL,
                          .threads = 2,
                          .connection_timeout_s = 5,
                          .routes = routes,
                          .n_routes = sizeof routes / sizeof *routes,
                          .quiet = true};
    lfd_http *h = NULL;
    lf_error err = {0};
    if (lfd_http_start(&o, &h, &err) != LF_OK)
        fail_msg("start: %s", err.message);
    assert_true(lfd_http_port(h) > 0);
    return h;
}

static void check_error_shape(reply *r, const char *code)
{
    json_t *j = json_loads((const char *)r->body.data, 0, NULL);
    assert_non_null(j);
    assert_string_equal(json_string_value(json_object_get(j, "status")), "error");
    json_t *e = json_object_get(j, "error");
    assert_string_equal(json_string_value(json_object_get(e, "code")), code);
    assert_true(strlen(json_string_value(json_object_get(e, "message"))) > 0);
    assert_string_equal(json_string_value(json_object_get(j, "request_id")), r->request_id);
    json_decref(j);
}

static void test_tls_routes_and_errors(void **state)
{
    (void)state;
    lfd_http *h = start(true);
    uint16_t port = lfd_http_port(h);
    reply r;

    assert_int_equal(request(port, true, "GET", "/hello?name=ops", NULL, 0, false, &r), CURLE_OK);
    assert_int_equal(r.status, 200);
    assert_string_equal((char *)r.body.data, "{\"hello\":\"ops\",\"peer\":\"127.0.0.1\"}");
    assert_int_equal(strlen(r.request_id), 32);
    lf_buf_free(&r.body);

    assert_int_equal(request(port, true, "GET", "/prefix/abc", NULL, 0, false, &r), CURLE_OK);
    assert_int_equal(r.status, 200);
    lf_buf_free(&r.body);

    assert_int_equal(request(port, true, "GET", "/nope", NULL, 0, false, &r), CURLE_OK);
    assert_int_equal(r.status, 404);
    check_error_shape(&r, "not_found");
    lf_buf_free(&r.body);

    assert_int_equal(request(port, true, "DELETE", "/hello", NULL, 0, false, &r), CURLE_OK);
    assert_int_equal(r.status, 405);
    check_error_shape(&r, "method_not_allowed");
    lf_buf_free(&r.body);

    assert_int_equal(request(port, true, "GET", "/silent", NULL, 0, false, &r), CURLE_OK);
    assert_int_equal(r.status, 500);
    check_error_shape(&r, "internal");
    lf_buf_free(&r.body);

    /* Bodies: echoed within the limit; 413 with the JSON shape beyond it. */
    char big[4096];
    memset(big, 'x', sizeof big);
    assert_int_equal(request(port, true, "POST", "/echo", big, 1024, false, &r), CURLE_OK);
    assert_int_equal(r.status, 201);
    assert_int_equal(r.body.len, 1024);
    assert_true(r.echo_header);
    lf_buf_free(&r.body);
    assert_int_equal(request(port, true, "POST", "/echo", big, 1025, false, &r), CURLE_OK);
    assert_int_equal(r.status, 413);
    check_error_shape(&r, "payload_too_large");
    lf_buf_free(&r.body);

    /* TLS 1.3 only by default: a TLS 1.2 client cannot connect. */
    assert_int_not_equal(request(port, true, "GET", "/hello", NULL, 0, true, &r), CURLE_OK);
    lf_buf_free(&r.body);
    /* Plain HTTP to the TLS port fails too. */
    assert_int_not_equal(request(port, false, "GET", "/hello", NULL, 0, false, &r), CURLE_OK);
    lf_buf_free(&r.body);

    lfd_http_drain_and_stop(h, 2000);
    /* After draining nothing answers. */
    assert_int_not_equal(request(port, true, "GET", "/hello", NULL, 0, false, &r), CURLE_OK);
    lf_buf_free(&r.body);
}

static void test_plain_http_loopback_only(void **state)
{
    (void)state;
    lfd_http *h = start(false);
    reply r;
    assert_int_equal(request(lfd_http_port(h), false, "GET", "/hello", NULL, 0, false, &r),
                     CURLE_OK);
    assert_int_equal(r.status, 200);
    lf_buf_free(&r.body);
    lfd_http_drain_and_stop(h, 1000);

    lfd_http_options o = {.listen = "0.0.0.0:0", .routes = routes, .n_routes = 1, .quiet = true};
    lf_error err = {0};
    assert_int_equal(lfd_http_start(&o, &h, &err), LF_ERR_INVALID);
    assert_non_null(strstr(err.message, "loopback"));
}

static void test_buffered_bound(void **state)
{
    (void)state;
    /* All bodies in flight together may hold at most max_buffered bytes: past it, 503. */
    lfd_http_options o = {.listen = "127.0.0.1:0",
                          .threads = 2,
                          .connection_timeout_s = 5,
                          .routes = routes,
                          .n_routes = sizeof routes / sizeof *routes,
                          .max_buffered = 2048,
                          .quiet = true};
    lfd_http *h = NULL;
    assert_int_equal(lfd_http_start(&o, &h, NULL), LF_OK);
    char body[4000];
    memset(body, 'y', sizeof body);
    reply r;
    assert_int_equal(request(lfd_http_port(h), false, "POST", "/big", body, 1500, false, &r),
                     CURLE_OK);
    assert_int_equal(r.status, 201);
    lf_buf_free(&r.body);
    assert_int_equal(request(lfd_http_port(h), false, "POST", "/big", body, 4000, false, &r),
                     CURLE_OK);
    assert_int_equal(r.status, 503);
    check_error_shape(&r, "overloaded");
    lf_buf_free(&r.body);
    /* Released bodies are released from the budget: a fitting upload works again. */
    assert_int_equal(request(lfd_http_port(h), false, "POST", "/big", body, 2000, false, &r),
                     CURLE_OK);
    assert_int_equal(r.status, 201);
    lf_buf_free(&r.body);
    lfd_http_drain_and_stop(h, 1000);
}

static void test_parse_listen(void **state)
{
    (void)state;
    struct sockaddr_storage ss;
    unsigned len;
    bool lo;
    assert_int_equal(lfd_parse_listen("127.0.0.1:8443", &ss, &len, &lo, NULL), LF_OK);
    assert_true(lo);
    assert_int_equal(lfd_parse_listen("[::1]:8443", &ss, &len, &lo, NULL), LF_OK);
    assert_true(lo);
    assert_int_equal(lfd_parse_listen("10.1.2.3:80", &ss, &len, &lo, NULL), LF_OK);
    assert_false(lo);
    assert_int_equal(lfd_parse_listen("localhost:1", &ss, &len, &lo, NULL), LF_OK);
    assert_true(lo);
    const char *bad[] = {"127.0.0.1", "127.0.0.1:99999", "[::1:80", "example.com:80",
                         ":80",       "127.0.0.1:8x"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        assert_int_equal(lfd_parse_listen(bad[i], &ss, &len, &lo, NULL), LF_ERR_INVALID);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_listen),
        cmocka_unit_test(test_tls_routes_and_errors),
        cmocka_unit_test(test_plain_http_loopback_only),
        cmocka_unit_test(test_buffered_bound),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}

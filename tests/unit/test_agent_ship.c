/*
 * test_agent_ship.c — the agent's shipper, end to end and against a scripted server:
 *
 *   - pure rules: full-jitter backoff bounds, Retry-After (seconds and the three HTTP-date
 *     forms), the status table, max(Retry-After, backoff);
 *   - a real logfluxd started in-process over TLS: real native blocks sealed for a registered
 *     customer key go from a real disk buffer into the server's spool, the buffer ends up
 *     acked, a re-sent item is deduplicated by its idempotency key, the public-key pin works
 *     and a wrong pin ships nothing;
 *   - a small libmicrohttpd server answering from a script: 503 + Retry-After (the wait is at
 *     least what was asked), 429/500/409 retried with the same idempotency key, connection
 *     refused until the server appears, 400 into the dead-letter folder (body + sidecar, item
 *     acked, order kept, requeue), 401/403 retried and never dead-lettered, a full dead-letter
 *     folder keeps the item, max_retries, a 200 listing refused frames, one connection for
 *     many items, stop during a long backoff and during a request, flush on stop;
 *   - the API key never appears in stats, last_error, metrics or error messages.
 */
#define _GNU_SOURCE /* memmem */
#include "testutil.h"

#include <curl/curl.h>
#include <limits.h>
#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "app.h"
#include "buffer/buffer.h"
#include "ingest/batch.h"
#include "logflux/credentials.h"
#include "logflux/crypto.h"
#include "logflux/native.h"
#include "logflux/timefmt.h"
#include "queue/spool.h"
#include "server.h"
#include "ship/ship.h"

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void nap_ms(int ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* ---------------- pure rules ---------------- */

static void test_backoff_bounds(void **state)
{
    (void)state;
    assert_int_equal(lf_agent_ship_backoff_ms(0, 1000, 60000, 0), 0);
    /* attempt 0: [0, base]; random = ceiling hits the ceiling exactly */
    assert_int_equal(lf_agent_ship_backoff_ms(0, 1000, 60000, 1000), 1000);
    assert_int_equal(lf_agent_ship_backoff_ms(0, 1000, 60000, 1001), 0);
    assert_int_equal(lf_agent_ship_backoff_ms(3, 1000, 60000, 8000), 8000);
    assert_int_equal(lf_agent_ship_backoff_ms(3, 1000, 60000, 8001), 0);
    /* capped */
    assert_int_equal(lf_agent_ship_backoff_ms(6, 1000, 60000, 60000), 60000);
    assert_int_equal(lf_agent_ship_backoff_ms(1000, 1000, 60000, 60000), 60000);
    assert_int_equal(lf_agent_ship_backoff_ms(INT_MAX, INT64_MAX / 2, INT64_MAX, UINT64_MAX - 1),
                     (int64_t)((UINT64_MAX - 1) % ((uint64_t)INT64_MAX + 1)));
    for (int a = 0; a < 80; a++)
        for (uint64_t r = 0; r < 4000000000ull; r = r * 3 + 7) {
            int64_t ceiling = a >= 6 ? 60000 : 1000LL << a;
            int64_t d = lf_agent_ship_backoff_ms(a, 1000, 60000, r);
            assert_true(d >= 0 && d <= ceiling);
        }
    assert_int_equal(lf_agent_ship_backoff_ms(2, 0, 60000, 5), 0);
    assert_int_equal(lf_agent_ship_backoff_ms(-5, 1000, 60000, 7), 7);
}

static void test_retry_after_parse(void **state)
{
    (void)state;
    int64_t now = 784111777000LL - 10000; /* 10 s before Sun, 06 Nov 1994 08:49:37 GMT */
    assert_int_equal(lf_agent_ship_retry_after_ms("120", now), 120000);
    assert_int_equal(lf_agent_ship_retry_after_ms(" 5 ", now), 5000);
    assert_int_equal(lf_agent_ship_retry_after_ms("0", now), 0);
    assert_int_equal(lf_agent_ship_retry_after_ms(NULL, now), -1);
    assert_int_equal(lf_agent_ship_retry_after_ms("", now), -1);
    assert_int_equal(lf_agent_ship_retry_after_ms("5s", now), -1);
    assert_int_equal(lf_agent_ship_retry_after_ms("-5", now), -1);
    assert_int_equal(lf_agent_ship_retry_after_ms("soon", now), -1);
    assert_true(lf_agent_ship_retry_after_ms("99999999999999999999999", now) > 0);
    assert_int_equal(lf_agent_ship_retry_after_ms("Sun, 06 Nov 1994 08:49:37 GMT", now), 10000);
    assert_int_equal(lf_agent_ship_retry_after_ms("Sunday, 06-Nov-94 08:49:37 GMT", now), 10000);
    assert_int_equal(lf_agent_ship_retry_after_ms("Sun Nov  6 08:49:37 1994", now), 10000);
    /* a date in the past means now */
    assert_int_equal(lf_agent_ship_retry_after_ms("Sun, 06 Nov 1994 08:49:17 GMT", now), 0);
}

static void test_status_table(void **state)
{
    (void)state;
    const long ok[] = {200, 201, 202, 204};
    const long retry[] = {0, 100, 302, 404, 408, 409, 425, 429, 500, 502, 503, 504, 507, 599};
    const long auth[] = {401, 403};
    const long permanent[] = {400, 405, 410, 411, 413, 415, 422, 431, 451};
    for (size_t i = 0; i < sizeof ok / sizeof *ok; i++)
        assert_int_equal(lf_agent_ship_classify(ok[i]), LF_AGENT_SHIP_OK);
    for (size_t i = 0; i < sizeof retry / sizeof *retry; i++)
        assert_int_equal(lf_agent_ship_classify(retry[i]), LF_AGENT_SHIP_RETRY);
    for (size_t i = 0; i < sizeof auth / sizeof *auth; i++)
        assert_int_equal(lf_agent_ship_classify(auth[i]), LF_AGENT_SHIP_RETRY_AUTH);
    for (size_t i = 0; i < sizeof permanent / sizeof *permanent; i++)
        assert_int_equal(lf_agent_ship_classify(permanent[i]), LF_AGENT_SHIP_PERMANENT);

    lf_agent_ship_options o = {
        .backoff_base_ms = 1000, .backoff_max_ms = 60000, .retry_after_max_ms = 300000};
    /* Retry-After is a floor ... */
    assert_int_equal(lf_agent_ship_next_delay_ms(0, 10000, &o, 999), 10000);
    /* ... the backoff wins when larger ... */
    assert_int_equal(lf_agent_ship_next_delay_ms(6, 10000, &o, 60000), 60000);
    /* ... none given: the backoff alone; an absurd one is cut */
    assert_int_equal(lf_agent_ship_next_delay_ms(0, -1, &o, 700), 700);
    assert_int_equal(lf_agent_ship_next_delay_ms(0, 86400000, &o, 1), 300000);
}

/* ---------------- shared fixture: buffer, dead-letter folder, API key ---------------- */

static struct {
    char dir[64];
    char buf_dir[128], dl_dir[128];
    lf_agent_buffer *buf;
    char api_key[LF_CREDENTIAL_GENERATED_MAX + 1];
    char secret[LF_CREDENTIAL_GENERATED_MAX + 1]; /* the key's secret part */
} f;

static int fixture_setup(void **state)
{
    (void)state;
    strcpy(f.dir, "/tmp/lf-ship-XXXXXX");
    assert_non_null(mkdtemp(f.dir));
    snprintf(f.buf_dir, sizeof f.buf_dir, "%s/buffer", f.dir);
    snprintf(f.dl_dir, sizeof f.dl_dir, "%s/dead-letter", f.dir);
    assert_int_equal(lf_agent_buffer_open(f.buf_dir, NULL, &f.buf, NULL), LF_OK);
    if (f.api_key[0] == '\0') {
        lf_credential parts;
        assert_int_equal(
            lf_credential_generate(LF_CREDENTIAL_API_KEY, LF_REGION_EU, f.api_key, &parts, NULL),
            LF_OK);
        snprintf(f.secret, sizeof f.secret, "%.*s", (int)parts.secret_len, parts.secret);
    }
    return 0;
}

static int fixture_teardown(void **state)
{
    (void)state;
    lf_agent_buffer_close(f.buf);
    f.buf = NULL;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", f.dir);
    assert_int_equal(system(cmd), 0);
    return 0;
}

static uint64_t append_item(const char *key, const void *body, size_t len, uint32_t records)
{
    lf_agent_buffer_input in = {.app = "checkout",
                                .idempotency_key = key,
                                .records = records,
                                .created_ms = 1700000000000LL,
                                .body = body,
                                .body_len = len};
    uint64_t id = 0;
    lf_error err = {0};
    if (lf_agent_buffer_append(f.buf, &in, &id, &err) != LF_OK)
        fail_msg("append: %s", err.message);
    return id;
}

static uint64_t pending(void)
{
    lf_agent_buffer_stats st;
    lf_agent_buffer_stats_get(f.buf, &st);
    return st.items_pending;
}

/* The API key (whole, and its secret part) appears in no stat, last_error or metric. */
static void assert_no_secret(lf_agent_ship *s)
{
    lf_agent_ship_stats st;
    lf_agent_ship_stats_get(s, &st);
    assert_null(memmem(&st, sizeof st, f.secret, strlen(f.secret)));
    assert_null(strstr(st.last_error, f.api_key));
    lf_buf m = LF_BUF_INIT;
    lf_agent_ship_write_metrics(s, &m);
    assert_null(memmem(m.data, m.len, f.secret, strlen(f.secret)));
    lf_buf_free(&m);
}

typedef bool (*ship_pred)(const lf_agent_ship_stats *st, void *ctx);

/* Poll the stats until pred holds (bounded: 30 s). */
static void wait_stats(lf_agent_ship *s, ship_pred pred, void *ctx, const char *what)
{
    lf_agent_ship_stats st;
    for (int i = 0; i < 3000; i++) {
        lf_agent_ship_stats_get(s, &st);
        if (pred(&st, ctx))
            return;
        nap_ms(10);
    }
    fail_msg("timed out waiting for %s (last_error: %s)", what, st.last_error);
}

static bool shipped_at_least(const lf_agent_ship_stats *st, void *ctx)
{
    return st->items_shipped >= *(uint64_t *)ctx;
}

static bool requests_at_least(const lf_agent_ship_stats *st, void *ctx)
{
    return st->requests >= *(uint64_t *)ctx;
}

static bool network_errors_at_least(const lf_agent_ship_stats *st, void *ctx)
{
    return st->network_errors >= *(uint64_t *)ctx;
}

static bool dead_lettered_at_least(const lf_agent_ship_stats *st, void *ctx)
{
    return st->dead_letter_items >= *(uint64_t *)ctx;
}

static bool in_backoff(const lf_agent_ship_stats *st, void *ctx)
{
    (void)ctx;
    return st->requests >= 1 && st->backoff_ms > 0;
}

static void wait_pending_zero(void)
{
    for (int i = 0; i < 3000 && pending() != 0; i++)
        nap_ms(10);
    assert_int_equal(pending(), 0);
}

/* ---------------- a scripted HTTP server (libmicrohttpd) ---------------- */

typedef struct step {
    unsigned status;
    const char *retry_after; /* NULL = none */
    const char *body;        /* NULL = a default JSON for the status */
    int hold_ms;             /* wait before answering (released at mock_stop) */
    int gate;                /* > 0: answer only once mock_open(gate) (or mock_stop; 30 s max) */
} step;

typedef struct seen {
    int64_t mono_ms;
    char idem[80], auth[600], ctype[80], ua[80], host[80];
    uint8_t sha[32];
    size_t body_len;
} seen;

#define MOCK_MAX_STEPS 16
#define MOCK_MAX_SEEN  256

typedef struct mock {
    struct MHD_Daemon *d;
    uint16_t port;
    pthread_mutex_t lock;
    step script[MOCK_MAX_STEPS];
    size_t n_script;
    step otherwise; /* after the script */
    seen req[MOCK_MAX_SEEN];
    size_t n_req;
    int connections;
    atomic_bool release;
    atomic_int opened; /* the highest gate opened */
} mock;

static mock m;

static void copy_header(struct MHD_Connection *c, const char *name, char *out, size_t cap)
{
    const char *v = MHD_lookup_connection_value(c, MHD_HEADER_KIND, name);
    snprintf(out, cap, "%s", v ? v : "");
}

static enum MHD_Result mock_handler(void *cls, struct MHD_Connection *c, const char *url,
                                    const char *method, const char *version, const char *upload,
                                    size_t *upload_size, void **con_cls)
{
    (void)url, (void)method, (void)version;
    mock *mk = cls;
    lf_buf *body = *con_cls;
    if (body == NULL) {
        body = calloc(1, sizeof *body);
        *con_cls = body;
        return body ? MHD_YES : MHD_NO;
    }
    if (*upload_size > 0) {
        lf_buf_append(body, upload, *upload_size);
        *upload_size = 0;
        return MHD_YES;
    }
    pthread_mutex_lock(&mk->lock);
    size_t idx = mk->n_req;
    step st = idx < mk->n_script ? mk->script[idx] : mk->otherwise;
    if (idx < MOCK_MAX_SEEN) {
        seen *s = &mk->req[idx];
        s->mono_ms = mono_ms();
        copy_header(c, "X-LF-Idempotency-Key", s->idem, sizeof s->idem);
        copy_header(c, "Authorization", s->auth, sizeof s->auth);
        copy_header(c, "Content-Type", s->ctype, sizeof s->ctype);
        copy_header(c, "User-Agent", s->ua, sizeof s->ua);
        copy_header(c, "Host", s->host, sizeof s->host);
        s->body_len = body->len;
        lf_sha256(body->data ? (const void *)body->data : "", body->len, s->sha, NULL);
        mk->n_req++;
    }
    pthread_mutex_unlock(&mk->lock);
    for (int waited = 0; waited < st.hold_ms && !atomic_load(&mk->release); waited += 10)
        nap_ms(10);
    for (int waited = 0; st.gate > 0 && waited < 30000 && atomic_load(&mk->opened) < st.gate &&
                         !atomic_load(&mk->release);
         waited += 5)
        nap_ms(5);
    const char *text = st.body;
    if (text == NULL)
        text = st.status < 300 ? "{\"status\":\"success\",\"message\":\"ok\",\"request_id\":\"m\","
                                 "\"data\":{\"success\":true,\"total\":1,\"succeeded\":1,"
                                 "\"failed\":0,\"failures\":[]}}"
                               : "{\"status\":\"error\",\"error\":{\"code\":\"scripted\","
                                 "\"message\":\"scripted failure\"},\"request_id\":\"m\"}";
    struct MHD_Response *r =
        MHD_create_response_from_buffer(strlen(text), (void *)text, MHD_RESPMEM_MUST_COPY);
    MHD_add_response_header(r, "Content-Type", "application/json");
    if (st.retry_after != NULL)
        MHD_add_response_header(r, "Retry-After", st.retry_after);
    enum MHD_Result ret = MHD_queue_response(c, st.status, r);
    MHD_destroy_response(r);
    return ret;
}

static void mock_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                           enum MHD_RequestTerminationCode toe)
{
    (void)cls, (void)c, (void)toe;
    lf_buf *body = *con_cls;
    if (body != NULL) {
        lf_buf_free(body);
        free(body);
    }
    *con_cls = NULL;
}

static void mock_connection(void *cls, struct MHD_Connection *c, void **socket_context,
                            enum MHD_ConnectionNotificationCode code)
{
    (void)c, (void)socket_context;
    mock *mk = cls;
    if (code == MHD_CONNECTION_NOTIFY_STARTED) {
        pthread_mutex_lock(&mk->lock);
        mk->connections++;
        pthread_mutex_unlock(&mk->lock);
    }
}

/* Start on 127.0.0.1:port (0 = any) answering `script`, then `otherwise`. */
static void mock_start(uint16_t port, const step *script, size_t n, step otherwise)
{
    assert_true(n <= MOCK_MAX_STEPS);
    if (n > 0)
        memcpy(m.script, script, n * sizeof *script);
    m.n_script = n;
    m.otherwise = otherwise;
    atomic_store(&m.release, false);
    atomic_store(&m.opened, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    m.d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION, 0, NULL,
                           NULL, mock_handler, &m, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
                           MHD_OPTION_NOTIFY_COMPLETED, mock_completed, &m,
                           MHD_OPTION_NOTIFY_CONNECTION, mock_connection, &m,
                           MHD_OPTION_LISTENING_ADDRESS_REUSE, 1, MHD_OPTION_END);
    assert_non_null(m.d);
    m.port = MHD_get_daemon_info(m.d, MHD_DAEMON_INFO_BIND_PORT)->port;
}

static void mock_stop(void)
{
    if (m.d == NULL)
        return;
    atomic_store(&m.release, true);
    MHD_stop_daemon(m.d);
    m.d = NULL;
}

static void mock_reset(void)
{
    mock_stop();
    pthread_mutex_lock(&m.lock);
    m.n_req = 0;
    m.connections = 0;
    pthread_mutex_unlock(&m.lock);
}

static size_t mock_requests(void)
{
    pthread_mutex_lock(&m.lock);
    size_t n = m.n_req;
    pthread_mutex_unlock(&m.lock);
    return n;
}

/* Let the requests held at gates up to `gate` be answered. */
static void mock_open(int gate)
{
    atomic_store(&m.opened, gate);
}

/* What every request after the script gets from now on. */
static void mock_set_otherwise(step otherwise)
{
    pthread_mutex_lock(&m.lock);
    m.otherwise = otherwise;
    pthread_mutex_unlock(&m.lock);
}

static void wait_requests(size_t n)
{
    for (int i = 0; i < 3000 && mock_requests() < n; i++)
        nap_ms(10);
    if (mock_requests() < n)
        fail_msg("timed out waiting for %zu requests (got %zu)", n, mock_requests());
}

/* Did any request carry this idempotency key? */
static bool mock_saw_key(const char *key)
{
    pthread_mutex_lock(&m.lock);
    bool hit = false;
    for (size_t i = 0; i < m.n_req && i < MOCK_MAX_SEEN && !hit; i++)
        hit = strcmp(m.req[i].idem, key) == 0;
    pthread_mutex_unlock(&m.lock);
    return hit;
}

static int mock_setup(void **state)
{
    static bool lock_ready;
    if (!lock_ready) {
        pthread_mutex_init(&m.lock, NULL);
        lock_ready = true;
    }
    m.n_req = 0;
    m.connections = 0;
    return fixture_setup(state);
}

static int mock_teardown(void **state)
{
    mock_reset();
    return fixture_teardown(state);
}

static lf_agent_ship_options mock_options(void)
{
    static char endpoint[64];
    snprintf(endpoint, sizeof endpoint, "http://127.0.0.1:%u", m.port);
    lf_agent_ship_options o = {.endpoint = endpoint,
                               .api_key = f.api_key,
                               .dead_letter_dir = f.dl_dir,
                               .backoff_base_ms = 10,
                               .backoff_max_ms = 50,
                               .connect_timeout_ms = 5000,
                               .request_timeout_ms = 60000};
    return o;
}

static lf_agent_ship *start_ship(const lf_agent_ship_options *o)
{
    lf_agent_ship *s = NULL;
    lf_error err = {0};
    if (lf_agent_ship_start(f.buf, o, &s, &err) != LF_OK)
        fail_msg("ship start: %s", err.message);
    return s;
}

static const step OK200 = {.status = 200};

/* ---------------- scripted tests ---------------- */

static void test_retry_after_honoured(void **state)
{
    (void)state;
    const step script[] = {{.status = 503, .retry_after = "1"}};
    mock_start(0, script, 1, OK200);
    append_item("retry-after-item-0001", "frames", 6, 3);
    lf_agent_ship_options o = mock_options();
    lf_agent_ship *s = start_ship(&o);
    uint64_t one = 1;
    wait_stats(s, shipped_at_least, &one, "the item to ship");
    wait_pending_zero();
    assert_int_equal(mock_requests(), 2);
    /* The second attempt came at least the asked second after the first answer. */
    assert_true(m.req[1].mono_ms - m.req[0].mono_ms >= 1000);
    assert_string_equal(m.req[0].idem, "retry-after-item-0001");
    assert_string_equal(m.req[1].idem, "retry-after-item-0001");
    lf_agent_ship_stats st;
    lf_agent_ship_stats_get(s, &st);
    assert_int_equal(st.responses_5xx, 1);
    assert_int_equal(st.responses_2xx, 1);
    assert_int_equal(st.retries, 1);
    assert_int_equal(st.records_shipped, 3);
    assert_int_equal(st.bytes_shipped, 6);
    assert_int_equal(st.consecutive_failures, 0);
    assert_int_equal(st.backoff_ms, 0);
    assert_string_equal(st.last_error, "");
    assert_true(st.last_success_ms > 0);
    assert_no_secret(s);
    lf_agent_ship_stop(s, 0);
}

static void test_transient_statuses_same_key(void **state)
{
    (void)state;
    const step script[] = {{.status = 429}, {.status = 500}, {.status = 409, .retry_after = "0"},
                           {.status = 502}, {.status = 507}, {.status = 408}};
    mock_start(0, script, 6, OK200);
    const char body[] = "sealed-bytes-\x00\x01\x02";
    append_item("transient-key-000000001", body, sizeof body, 5);
    lf_agent_ship_options o = mock_options();
    lf_agent_ship *s = start_ship(&o);
    uint64_t one = 1;
    wait_stats(s, shipped_at_least, &one, "the item to ship");
    wait_pending_zero();
    assert_int_equal(mock_requests(), 7);
    char host[32];
    snprintf(host, sizeof host, "127.0.0.1:%u", m.port);
    for (size_t i = 0; i < 7; i++) {
        assert_string_equal(m.req[i].idem, "transient-key-000000001");
        assert_memory_equal(m.req[i].sha, m.req[0].sha, 32);
        assert_int_equal(m.req[i].body_len, sizeof body);
        assert_string_equal(m.req[i].ctype, LF_NATIVE_CONTENT_TYPE);
        assert_string_equal(m.req[i].ua, "logflux-agent/" LF_AGENT_VERSION);
        assert_string_equal(m.req[i].host, host);
        assert_non_null(strstr(m.req[i].auth, "LF-HMAC-SHA256 Credential="));
        assert_null(strstr(m.req[i].auth, f.secret));
        if (i > 0) /* signed afresh: new nonce every time */
            assert_string_not_equal(m.req[i].auth, m.req[i - 1].auth);
    }
    lf_agent_ship_stats st;
    lf_agent_ship_stats_get(s, &st);
    assert_int_equal(st.retries, 6);
    assert_int_equal(st.responses_4xx, 3);
    assert_int_equal(st.responses_5xx, 3);
    assert_int_equal(st.dead_letter_items, 0);
    assert_int_equal(st.auth_failures, 0);
    assert_no_secret(s);
    lf_agent_ship_stop(s, 0);
}

static void test_connection_refused_then_up(void **state)
{
    (void)state;
    /* Learn a free port, then close it: nobody listens there now. */
    mock_start(0, NULL, 0, OK200);
    uint16_t port = m.port;
    mock_stop();
    append_item("refused-then-up-000001", "x", 1, 1);
    lf_agent_ship_options o = mock_options();
    lf_agent_ship *s = start_ship(&o);
    uint64_t three = 3;
    wait_stats(s, network_errors_at_least, &three, "three refused attempts");
    lf_agent_ship_stats st;
    lf_agent_ship_stats_get(s, &st);
    assert_true(st.network_errors >= 3);
    assert_int_equal(st.items_shipped, 0);
    assert_true(st.consecutive_failures >= 3);
    assert_true(strstr(st.last_error, "refused-then-up-000001") != NULL);
    assert_int_equal(pending(), 1);
    assert_no_secret(s);
    mock_start(port, NULL, 0, OK200);
    uint64_t one = 1;
    wait_stats(s, shipped_at_least, &one, "the item once the server is up");
    wait_pending_zero();
    assert_int_equal(mock_requests(), 1);
    lf_agent_ship_stop(s, 0);
}

static json_t *load_json(const char *path)
{
    json_error_t e;
    json_t *j = json_load_file(path, 0, &e);
    if (j == NULL)
        fail_msg("%s: %s", path, e.text);
    return j;
}

static void test_400_dead_letter(void **state)
{
    (void)state;
    const step script[] = {
        {.status = 400,
         .body =
             "{\"status\":\"error\",\"error\":{\"code\":\"bad_frames\",\"message\":\"frame 0: bad "
             "magic\"},\"request_id\":\"req-77\"}"}};
    mock_start(0, script, 1, OK200);
    const uint8_t body[] = {'L', 'F', 'N', '1', 0xff, 0x00, 0x7f};
    append_item("dead-letter-key-0000001", body, sizeof body, 42);
    append_item("after-dead-letter-00001", "ok", 2, 1);
    lf_agent_ship_options o = mock_options();
    lf_agent_ship *s = start_ship(&o);
    uint64_t one = 1;
    wait_stats(s, shipped_at_least, &one, "the second item");
    wait_pending_zero();
    /* The refused item was sent once, then the next one went out: order kept, no retry. */
    assert_int_equal(mock_requests(), 2);
    assert_string_equal(m.req[0].idem, "dead-letter-key-0000001");
    assert_string_equal(m.req[1].idem, "after-dead-letter-00001");
    lf_agent_ship_stats st;
    lf_agent_ship_stats_get(s, &st);
    assert_int_equal(st.dead_letter_items, 1);
    assert_int_equal(st.dead_letter_records, 42);
    assert_int_equal(st.items_shipped, 1);
    assert_no_secret(s);
    lf_agent_ship_stop(s, 0);

    struct stat sb;
    assert_int_equal(stat(f.dl_dir, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0700);
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/dead-letter-key-0000001.frames", f.dl_dir);
    lf_buf stored = lf_test_read_file(path);
    assert_int_equal(stored.len, sizeof body);
    assert_memory_equal(stored.data, body, sizeof body);
    lf_buf_free(&stored);
    snprintf(path, sizeof path, "%s/dead-letter-key-0000001.json", f.dl_dir);
    json_t *j = load_json(path);
    assert_string_equal(json_string_value(json_object_get(j, "app")), "checkout");
    assert_string_equal(json_string_value(json_object_get(j, "idempotency_key")),
                        "dead-letter-key-0000001");
    assert_int_equal(json_integer_value(json_object_get(j, "records")), 42);
    assert_int_equal(json_integer_value(json_object_get(j, "created_ms")), 1700000000000LL);
    assert_int_equal(json_integer_value(json_object_get(j, "http_status")), 400);
    assert_int_equal(json_integer_value(json_object_get(j, "body_bytes")), sizeof body);
    assert_string_equal(json_string_value(json_object_get(j, "reason")), "refused");
    assert_string_equal(json_string_value(json_object_get(j, "error_code")), "bad_frames");
    assert_string_equal(json_string_value(json_object_get(j, "error_message")),
                        "frame 0: bad magic");
    assert_string_equal(json_string_value(json_object_get(j, "request_id")), "req-77");
    json_decref(j);
    /* No temp files left behind. */
    snprintf(path, sizeof path, "%s/dead-letter-key-0000001.json.tmp", f.dl_dir);
    assert_int_not_equal(access(path, F_OK), 0);

    /* Requeue: back into the buffer under a new key, files gone. */
    size_t n = 0;
    lf_error err = {0};
    if (lf_agent_ship_dead_letter_requeue(f.dl_dir, f.buf, &n, &err) != LF_OK)
        fail_msg("requeue: %s", err.message);
    assert_int_equal(n, 1);
    lf_agent_buffer_item *items = NULL;
    size_t count = 0;
    assert_int_equal(lf_agent_buffer_peek(f.buf, 4, &items, &count, NULL), LF_OK);
    assert_int_equal(count, 1);
    assert_int_equal(items[0].records, 42);
    assert_int_equal(items[0].body_len, sizeof body);
    assert_memory_equal(items[0].body, body, sizeof body);
    assert_string_not_equal(items[0].idempotency_key, "dead-letter-key-0000001");
    assert_ptr_equal(strstr(items[0].idempotency_key, "dead-letter-key-0000001-r"),
                     items[0].idempotency_key);
    lf_agent_buffer_items_free(items, count);
    snprintf(path, sizeof path, "%s/dead-letter-key-0000001.frames", f.dl_dir);
    assert_int_not_equal(access(path, F_OK), 0);
}

static void test_auth_retried_not_dead_lettered(void **state)
{
    (void)state;
    const step script[] = {{.status = 401}, {.status = 403}, {.status = 401}};
    mock_start(0, script, 3, OK200);
    append_item("auth-failure-key-000001", "x", 1, 2);
    lf_agent_ship_options o = mock_options();
    lf_agent_ship *s = start_ship(&o);
    uint64_t one = 1;
    wait_stats(s, shipped_at_least, &one, "the item after the credential failures");
    wait_pending_zero();
    lf_agent_ship_stats st;
    lf_agent_ship_stats_get(s, &st);
    assert_int_equal(st.auth_failures, 3);
    assert_int_equal(st.dead_letter_items, 0);
    assert_int_equal(mock_requests(), 4);
    for (size_t i = 0; i < 4; i++)
        assert_string_equal(m.req[i].idem, "auth-failure-key-000001");
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/auth-failure-key-000001.json", f.dl_dir);
    assert_int_not_equal(access(path, F_OK), 0);
    lf_buf metrics = LF_BUF_INIT;
    lf_agent_ship_write_metrics(s, &metrics);
    lf_buf_terminate(&metrics);
    assert_non_null(strstr((char *)metrics.data, "logflux_agent_ship_auth_failures_total 3\n"));
    lf_buf_free(&metrics);
    assert_no_secret(s);
    lf_agent_ship_stop(s, 0);
}

static void test_auth_failure_reported(void **state)
{
    (void)state;
    const step always401 = {.status = 401,
                            .body = "{\"status\":\"error\",\"error\":{\"code\":\"unauthorized\","
                                    "\"message\":\"missing or invalid credentials\"}}"};
    mock_start(0, NULL, 0, always401);
    append_item("auth-reported-key-00001", "x", 1, 1);
    lf_agent_ship_options o = mock_options();
    lf_agent_ship *s = start_ship(&o);
    uint64_t three = 3;
    wait_stats(s, requests_at_least, &three, "three attempts");
    lf_agent_ship_stats st;
    lf_agent_ship_stats_get(s, &st);
    assert_true(st.auth_failures >= 2);
    assert_int_equal(st.last_status, 401);
    assert_non_null(strstr(st.last_error, "HTTP 401 unauthorized"));
    assert_no_secret(s);
    lf_agent_ship_stop(s, 0);
    assert_int_equal(pending(), 1); /* kept for the next start */
}

static void test_dead_letter_full_keeps_item(void **state)
{
    (void)state;
    const step always400 = {.status = 400};
    mock_start(0, NULL, 0, always400);
    append_item("dl-full-key-00000000001", "0123456789", 10, 1);
    lf_agent_ship_options o = mock_options();
    o.dead_letter_max_bytes = 16; /* the sidecar alone is larger */
    lf_agent_ship *s = start_ship(&o);
    uint64_t three = 3;
    wait_stats(s, requests_at_least, &three, "three attempts");
    lf_agent_ship_stats st;
    lf_agent_ship_stats_get(s, &st);
    assert_true(st.dead_letter_full >= 2);
    assert_int_equal(st.dead_letter_items, 0);
    assert_non_null(strstr(st.last_error, "could not be dead-lettered"));
    lf_agent_ship_stop(s, 0);
    assert_int_equal(pending(), 1);
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/dl-full-key-00000000001.frames", f.dl_dir);
    assert_int_not_equal(access(path, F_OK), 0);
}

static void test_max_retries_dead_letters(void **state)
{
    (void)state;
    const step always500 = {.status = 500};
    mock_start(0, NULL, 0, always500);
    append_item("max-retries-key-0000001", "abc", 3, 7);
    lf_agent_ship_options o = mock_options();
    o.max_retries = 2;
    lf_agent_ship *s = start_ship(&o);
    uint64_t one = 1;
    wait_stats(s, dead_lettered_at_least, &one, "the item dead-lettered");
    wait_pending_zero();
    assert_int_equal(mock_requests(), 3); /* the first try and two retries */
    lf_agent_ship_stop(s, 0);
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/max-retries-key-0000001.json", f.dl_dir);
    json_t *j = load_json(path);
    assert_string_equal(json_string_value(json_object_get(j, "reason")), "retries_exhausted");
    assert_int_equal(json_integer_value(json_object_get(j, "http_status")), 500);
    assert_int_equal(json_integer_value(json_object_get(j, "attempts")), 3);
    json_decref(j);
}

/* Two sealed blocks (2 and 3 entries), no key frame: enough for the frame walk. */
static lf_buf two_blocks(void)
{
    lf_native_session *ns = NULL;
    assert_int_equal(lf_native_session_new(NULL, NULL, "acme", "checkout", &ns, NULL), LF_OK);
    lf_buf body = LF_BUF_INIT;
    int64_t now = lf_time_now_ns();
    const char *j = "{\"v\":\"2.0\",\"type\":\"log\",\"message\":\"m\"}";
    lf_native_entry e[3] = {{j, strlen(j), now}, {j, strlen(j), now + 1}, {j, strlen(j), now + 2}};
    assert_int_equal(lf_native_seal_block(ns, 1, e, 2, NULL, 0, true, &body, NULL), LF_OK);
    assert_int_equal(lf_native_seal_block(ns, 1, e, 3, NULL, 0, true, &body, NULL), LF_OK);
    lf_native_session_free(ns);
    return body;
}

static void test_partial_acceptance(void **state)
{
    (void)state;
    const step script[] = {
        {.status = 200,
         .body = "{\"status\":\"success\",\"message\":\"1 frames accepted\",\"request_id\":\"p1\","
                 "\"data\":{\"success\":false,\"total\":2,\"succeeded\":1,\"failed\":1,"
                 "\"failures\":[{\"index\":1,\"error\":\"timestamp is older than the server "
                 "accepts\"}]}}"}};
    mock_start(0, script, 1, OK200);
    lf_buf body = two_blocks();
    append_item("partial-accept-key-0001", body.data, body.len, 5);
    lf_agent_ship_options o = mock_options();
    lf_agent_ship *s = start_ship(&o);
    uint64_t one = 1;
    wait_stats(s, shipped_at_least, &one, "the item");
    wait_pending_zero();
    assert_int_equal(mock_requests(), 1); /* retrying would only replay the same answer */
    lf_agent_ship_stats st;
    lf_agent_ship_stats_get(s, &st);
    assert_int_equal(st.frames_rejected, 1);
    assert_int_equal(st.records_rejected, 3);
    assert_int_equal(st.dead_letter_items, 0); /* the item itself was accepted */
    assert_non_null(strstr(st.last_error, "refused 1 frame"));
    lf_agent_ship_stop(s, 0);
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/partial-accept-key-0001.json", f.dl_dir);
    json_t *j = load_json(path);
    assert_string_equal(json_string_value(json_object_get(j, "reason")), "partially_refused");
    json_t *failures = json_object_get(j, "failures");
    assert_int_equal(json_array_size(failures), 1);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(failures, 0), "index")), 1);
    json_decref(j);
    lf_buf_free(&body);
}

static void test_keep_alive_one_connection(void **state)
{
    (void)state;
    mock_start(0, NULL, 0, OK200);
    char key[32];
    for (int i = 0; i < 6; i++) {
        snprintf(key, sizeof key, "keep-alive-item-%06d", i);
        append_item(key, key, strlen(key), 1);
    }
    lf_agent_ship_options o = mock_options();
    lf_agent_ship *s = start_ship(&o);
    uint64_t six = 6;
    wait_stats(s, shipped_at_least, &six, "six items");
    wait_pending_zero();
    assert_int_equal(mock_requests(), 6);
    for (int i = 0; i < 6; i++) {
        snprintf(key, sizeof key, "keep-alive-item-%06d", i);
        assert_string_equal(m.req[i].idem, key); /* in order */
    }
    pthread_mutex_lock(&m.lock);
    int connections = m.connections;
    pthread_mutex_unlock(&m.lock);
    assert_int_equal(connections, 1);
    /* An item appended while the shipper idles goes out on the same connection. */
    append_item("keep-alive-late-item-01", "late", 4, 1);
    uint64_t seven = 7;
    wait_stats(s, shipped_at_least, &seven, "the late item");
    wait_pending_zero();
    lf_agent_ship_stats st;
    lf_agent_ship_stats_get(s, &st);
    assert_int_equal(st.connections, 1);
    lf_agent_ship_stop(s, 0);
    pthread_mutex_lock(&m.lock);
    connections = m.connections;
    pthread_mutex_unlock(&m.lock);
    assert_int_equal(connections, 1);
}

static void test_stop_during_backoff(void **state)
{
    (void)state;
    const step always503 = {.status = 503};
    mock_start(0, NULL, 0, always503);
    append_item("stop-in-backoff-key-001", "x", 1, 1);
    lf_agent_ship_options o = mock_options();
    o.backoff_base_ms = 600000; /* ten minutes: the first retry waits in [0, 10 min] */
    o.backoff_max_ms = 600000;
    lf_agent_ship *s = start_ship(&o);
    wait_stats(s, in_backoff, NULL, "the shipper to back off");
    int64_t t0 = mono_ms();
    lf_agent_ship_stop(s, 0);
    int64_t took = mono_ms() - t0;
    /* Far below the backoff (which is at least 1 ms and uniformly up to 10 min). */
    assert_true(took < 30000);
    assert_int_equal(mock_requests(), 1);
    assert_int_equal(pending(), 1);
}

static void test_stop_during_request(void **state)
{
    (void)state;
    const step slow = {.status = 200, .hold_ms = 120000};
    mock_start(0, NULL, 0, slow);
    append_item("stop-in-flight-key-0001", "x", 1, 1);
    lf_agent_ship_options o = mock_options();
    lf_agent_ship *s = start_ship(&o);
    for (int i = 0; i < 3000 && mock_requests() == 0; i++)
        nap_ms(10);
    assert_int_equal(mock_requests(), 1);
    int64_t t0 = mono_ms();
    lf_agent_ship_stop(s, 0);
    int64_t took = mono_ms() - t0;
    assert_true(took < 30000); /* the server would have held it two minutes */
    assert_int_equal(pending(), 1);
}

static void test_flush_on_stop(void **state)
{
    (void)state;
    const step slowish = {.status = 200, .hold_ms = 50};
    mock_start(0, NULL, 0, slowish);
    char key[32];
    for (int i = 0; i < 5; i++) {
        snprintf(key, sizeof key, "flush-on-stop-item-%03d", i);
        append_item(key, "x", 1, 1);
    }
    lf_agent_ship_options o = mock_options();
    lf_agent_ship *s = start_ship(&o);
    lf_agent_ship_stop(s, 60000); /* returns once all five are shipped */
    assert_int_equal(pending(), 0);
    assert_int_equal(mock_requests(), 5);
}

/* ---------------- drop_oldest while the shipper holds copies ---------------- */

/*
 * A 4 KiB drop_oldest buffer with 256-byte segments holds one 255-byte item per segment, 16
 * in all. Item 1 (W) is held at the server while items 2..7 (A..F) are appended, so that once
 * W is answered the shipper peeks A..F in one batch. The test then overflows the buffer with
 * 20 more items (8..27) while A is in flight or backing off: items 2..11 lose their segments.
 * Whatever happens, delivered + dropped + pending == appended, record for record.
 */
#define DX_LAST 27

static uint32_t dx_records(uint64_t id)
{
    return (uint32_t)(id * 3 + 1); /* all different, so a wrong sum cannot hide */
}

static void dx_key(uint64_t id, char *key, size_t cap)
{
    snprintf(key, cap, "drop-exact-item-%05u", (unsigned)id);
}

static void dx_append(uint64_t want_id)
{
    char key[32];
    uint8_t body[150];
    dx_key(want_id, key, sizeof key);
    memset(body, (int)want_id, sizeof body);
    assert_int_equal(append_item(key, body, sizeof body, dx_records(want_id)), want_id);
}

static void dx_reopen_tiny(void)
{
    lf_agent_buffer_close(f.buf);
    f.buf = NULL;
    lf_agent_buffer_options o = {
        .max_bytes = 4096, .segment_bytes = 256, .policy = LF_AGENT_BUFFER_DROP_OLDEST};
    lf_error err = {0};
    if (lf_agent_buffer_open(f.buf_dir, &o, &f.buf, &err) != LF_OK)
        fail_msg("open: %s", err.message);
}

static lf_agent_buffer_stats buffer_stats(void)
{
    lf_agent_buffer_stats st;
    lf_agent_buffer_stats_get(f.buf, &st);
    return st;
}

static uint64_t dx_sum(uint64_t from, uint64_t to)
{
    uint64_t sum = 0;
    for (uint64_t id = from; id <= to; id++)
        sum += dx_records(id);
    return sum;
}

/* Start with W held at gate 1, append A..F, let W through: the shipper now holds A..F. */
static lf_agent_ship *dx_start(const step *script, size_t n)
{
    dx_reopen_tiny();
    mock_start(0, script, n, (step){.status = 503});
    dx_append(1);
    lf_agent_ship_options o = mock_options();
    o.peek_items = 16;
    lf_agent_ship *s = start_ship(&o);
    wait_requests(1);
    for (uint64_t id = 2; id <= 7; id++)
        dx_append(id);
    mock_open(1);
    return s;
}

static void dx_overflow(void)
{
    for (uint64_t id = 8; id <= DX_LAST; id++)
        dx_append(id);
}

/* Everything accounted for once, and no dropped copy ever reached the server. */
static void dx_check_exact(lf_agent_ship *s, uint64_t first_dropped_sent, uint64_t skipped)
{
    lf_agent_ship_stats st;
    lf_agent_ship_stats_get(s, &st);
    lf_agent_buffer_stats bs = buffer_stats();
    assert_int_equal(st.records_shipped + bs.dropped_records + bs.records_pending,
                     dx_sum(1, DX_LAST));
    assert_int_equal(st.items_shipped + bs.dropped_items + bs.items_pending, DX_LAST);
    assert_int_equal(st.items_skipped_dropped, skipped);
    char key[32];
    for (uint64_t id = 1; id <= DX_LAST; id++) {
        dx_key(id, key, sizeof key);
        bool dropped = id >= first_dropped_sent && id <= 11;
        if (dropped && mock_saw_key(key))
            fail_msg("item %u was counted as dropped and also sent", (unsigned)id);
    }
}

/* A keeps failing (503) while its segment and 9 more are dropped; then the server recovers. */
static void test_drop_oldest_while_retrying(void **state)
{
    (void)state;
    const step script[] = {{.status = 200, .gate = 1}};
    lf_agent_ship *s = dx_start(script, 1);
    wait_requests(3); /* W, A, A again: A is backing off, B..F wait in the batch */
    dx_overflow();
    lf_agent_buffer_stats bs = buffer_stats();
    /* 2..11 lost their segments; A (2) is the shipper's and not counted while it holds it */
    assert_int_equal(bs.dropped_items, 9);
    assert_int_equal(bs.dropped_records, dx_sum(3, 11));
    assert_int_equal(bs.items_pending, 16);
    mock_set_otherwise(OK200);
    uint64_t want = 1 + 1 + 16;
    wait_stats(s, shipped_at_least, &want, "A and the 16 survivors");
    wait_pending_zero();
    char key[32];
    dx_key(2, key, sizeof key);
    assert_true(mock_saw_key(key)); /* A delivered ... */
    bs = buffer_stats();
    assert_int_equal(bs.dropped_items, 9); /* ... and so not dropped */
    dx_check_exact(s, 3, 5);
    lf_agent_ship_stop(s, 0);
}

/* A's request is held by the server while its segment is dropped; then it is accepted. */
static void test_drop_oldest_while_in_flight(void **state)
{
    (void)state;
    const step script[] = {{.status = 200, .gate = 1}, {.status = 200, .gate = 2}};
    lf_agent_ship *s = dx_start(script, 2);
    wait_requests(2); /* A in flight */
    dx_overflow();
    assert_int_equal(buffer_stats().dropped_items, 9);
    mock_set_otherwise(OK200);
    mock_open(2);
    uint64_t want = 1 + 1 + 16;
    wait_stats(s, shipped_at_least, &want, "A and the 16 survivors");
    wait_pending_zero();
    lf_agent_buffer_stats bs = buffer_stats();
    assert_int_equal(bs.dropped_items, 9);
    assert_int_equal(bs.dropped_records, dx_sum(3, 11));
    dx_check_exact(s, 3, 5);
    lf_agent_ship_stop(s, 0);
}

/* A accepted but its ack not yet written (the batch goes on) when its segment is dropped, B
 * in flight: neither is dropped. */
static void test_drop_oldest_before_ack(void **state)
{
    (void)state;
    const step script[] = {{.status = 200, .gate = 1}, {.status = 200}, {.status = 200, .gate = 2}};
    lf_agent_ship *s = dx_start(script, 3);
    wait_requests(3); /* A answered, B in flight */
    dx_overflow();
    lf_agent_buffer_stats bs = buffer_stats();
    assert_int_equal(bs.dropped_items, 8);
    assert_int_equal(bs.dropped_records, dx_sum(4, 11));
    mock_set_otherwise(OK200);
    mock_open(2);
    uint64_t want = 1 + 2 + 16;
    wait_stats(s, shipped_at_least, &want, "A, B and the 16 survivors");
    wait_pending_zero();
    assert_int_equal(buffer_stats().dropped_items, 8);
    dx_check_exact(s, 4, 4);
    lf_agent_ship_stop(s, 0);
}

/* A in flight and dropped when the shipper stops: abandoned, so counted as dropped then. */
static void test_drop_oldest_then_stop(void **state)
{
    (void)state;
    const step script[] = {{.status = 200, .gate = 1}, {.status = 200, .gate = 2}};
    lf_agent_ship *s = dx_start(script, 2);
    wait_requests(2);
    dx_overflow();
    assert_int_equal(buffer_stats().dropped_items, 9);
    lf_agent_ship_stop(s, 0); /* gate 2 never opens: the request is interrupted */
    lf_agent_buffer_stats bs = buffer_stats();
    assert_int_equal(bs.dropped_items, 10);
    assert_int_equal(bs.dropped_records, dx_sum(2, 11));
    assert_int_equal(bs.items_pending, 16);
    /* W shipped; the rest dropped or waiting for the next start */
    assert_int_equal(dx_records(1) + bs.dropped_records + bs.records_pending, dx_sum(1, DX_LAST));
}

static void test_bad_options(void **state)
{
    (void)state;
    lf_agent_ship_options o = {
        .endpoint = "http://logs.example.com", .api_key = f.api_key, .dead_letter_dir = f.dl_dir};
    lf_agent_ship *s = NULL;
    lf_error err = {0};
    assert_int_equal(lf_agent_ship_start(f.buf, &o, &s, &err), LF_ERR_INVALID);
    assert_non_null(strstr(err.message, "https"));
    assert_null(s);
    o.endpoint = "https://logs.example.com/?x=1";
    assert_int_equal(lf_agent_ship_start(f.buf, &o, &s, &err), LF_ERR_INVALID);
    o.endpoint = "https://user:pw@logs.example.com";
    assert_int_equal(lf_agent_ship_start(f.buf, &o, &s, &err), LF_ERR_INVALID);
    o.endpoint = "ftp://127.0.0.1";
    assert_int_equal(lf_agent_ship_start(f.buf, &o, &s, &err), LF_ERR_INVALID);
    o.endpoint = "https://logs.example.com";
    char bad_key[96];
    snprintf(bad_key, sizeof bad_key, "%s!!", f.api_key);
    o.api_key = bad_key;
    assert_int_equal(lf_agent_ship_start(f.buf, &o, &s, &err), LF_ERR_INVALID);
    assert_null(strstr(err.message, f.secret));
    o.api_key = f.api_key;
    o.dead_letter_dir = NULL;
    assert_int_equal(lf_agent_ship_start(f.buf, &o, &s, &err), LF_ERR_INVALID);
    o.dead_letter_dir = f.dl_dir;
    o.backoff_base_ms = 5000;
    o.backoff_max_ms = 10;
    assert_int_equal(lf_agent_ship_start(f.buf, &o, &s, &err), LF_ERR_INVALID);
    o.backoff_base_ms = 0;
    o.backoff_max_ms = 0;
    o.pinned_pubkey = "md5//abc";
    assert_int_equal(lf_agent_ship_start(f.buf, &o, &s, &err), LF_ERR_INVALID);
    o.pinned_pubkey = NULL;
    /* Loopback over plain HTTP and a path prefix are fine; stop right away. */
    o.endpoint = "http://[::1]:9/prefix/";
    assert_int_equal(lf_agent_ship_start(f.buf, &o, &s, &err), LF_OK);
    lf_agent_ship_stop(s, 0);
}

/* ---------------- against a real logfluxd over TLS ---------------- */

static struct {
    char dir[64];
    char cert[PATH_MAX];
    char admin_token[128];
    char api_key[128];
    lfd_config cfg;
    lfd_app app;
    lfd_http *http;
    uint16_t port;
    lf_privkey *customer;
} t;

typedef struct reply {
    long status;
    lf_buf body;
} reply;

static size_t on_reply(char *p, size_t size, size_t n, void *ud)
{
    lf_buf_append(&((reply *)ud)->body, p, size * n);
    return size * n;
}

static json_t *admin_post(const char *path, json_t *body, long want)
{
    char url[256], auth[256];
    snprintf(url, sizeof url, "https://127.0.0.1:%u%s", t.port, path);
    snprintf(auth, sizeof auth, "Authorization: Bearer %s", t.admin_token);
    struct curl_slist *h = curl_slist_append(NULL, auth);
    h = curl_slist_append(h, "Content-Type: application/json");
    char *text = json_dumps(body, JSON_COMPACT);
    json_decref(body);
    reply r = {0};
    CURL *c = curl_easy_init();
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CAINFO, t.cert);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, text);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_reply);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &r);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 30L);
    assert_int_equal(curl_easy_perform(c), CURLE_OK);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r.status);
    curl_easy_cleanup(c);
    curl_slist_free_all(h);
    free(text);
    if (r.status != want)
        fail_msg("%s: %ld %.*s", path, r.status, (int)r.body.len, (char *)r.body.data);
    json_t *j = json_loadb((const char *)r.body.data, r.body.len, 0, NULL);
    lf_buf_free(&r.body);
    assert_non_null(j);
    return j;
}

static int server_setup(void **state)
{
    fixture_setup(state);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    strcpy(t.dir, "/tmp/lf-shipd-XXXXXX");
    assert_non_null(mkdtemp(t.dir));
    char *out = NULL;
    size_t out_len = 0;
    FILE *fp = open_memstream(&out, &out_len);
    lfd_init_options io = {.data_dir = t.dir, .tenant = "acme", .region = "eu"};
    lf_error err = {0};
    if (lfd_init(&io, fp, &err) != LF_OK)
        fail_msg("init: %s", err.message);
    fclose(fp);
    json_t *j = json_loads(out, 0, NULL);
    assert_non_null(j);
    snprintf(t.admin_token, sizeof t.admin_token, "%s",
             json_string_value(json_object_get(j, "admin_token")));
    snprintf(t.cert, sizeof t.cert, "%s", json_string_value(json_object_get(j, "tls_cert")));
    json_decref(j);
    free(out);

    memset(&t.cfg, 0, sizeof t.cfg);
    assert_int_equal(lfd_config_init(&t.cfg, NULL), LF_OK);
    assert_int_equal(lfd_config_set(&t.cfg, "data_dir", t.dir, NULL), LF_OK);
    char path[PATH_MAX];
    memset(&t.app, 0, sizeof t.app);
    t.app.cfg = &t.cfg;
    t.app.started_ns = lf_time_now_ns();
    snprintf(path, sizeof path, "%s/meta.db", t.dir);
    assert_int_equal(lf_meta_sqlite_open(path, NULL, &t.app.meta, NULL), LF_OK);
    snprintf(path, sizeof path, "%s/spool", t.dir);
    lf_spool_options so = {.max_bytes = 64 << 20, .segment_bytes = 16 << 20};
    if (lf_spool_open(path, &so, &t.app.queue, &err) != LF_OK)
        fail_msg("spool: %s", err.message);
    assert_int_equal(lf_replay_cache_new(4096, &t.app.replay, NULL), LF_OK);
    assert_int_equal(lfd_ratelimit_new(1024, &t.app.rl_key, NULL), LF_OK);
    assert_int_equal(lfd_ratelimit_new(1024, &t.app.rl_ip, NULL), LF_OK);
    lf_buf cert = lf_test_read_file(t.cert);
    snprintf(path, sizeof path, "%s/tls/key.pem", t.dir);
    lf_buf key = lf_test_read_file(path);
    lf_buf_terminate(&cert);
    lf_buf_terminate(&key);
    lfd_http_options ho = {.listen = "127.0.0.1:0",
                           .cert_pem = (char *)cert.data,
                           .key_pem = (char *)key.data,
                           .threads = 4,
                           .connection_timeout_s = 10,
                           .routes = lfd_routes,
                           .n_routes = lfd_routes_len,
                           .ctx = &t.app,
                           .max_body_default = (size_t)t.cfg.max_request_bytes,
                           .max_body_native = (size_t)t.cfg.max_native_request_bytes,
                           .quiet = true};
    if (lfd_http_start(&ho, &t.http, &err) != LF_OK)
        fail_msg("http: %s", err.message);
    t.port = lfd_http_port(t.http);
    snprintf(t.app.public_url, sizeof t.app.public_url, "https://127.0.0.1:%u", t.port);
    lf_buf_free(&cert);
    lf_buf_free_secret(&key);

    json_decref(admin_post("/v1/admin/apps", json_pack("{s:s}", "name", "checkout"), 201));
    j = admin_post("/v1/admin/api-keys", json_pack("{s:s, s:s}", "app", "checkout", "label", "a"),
                   201);
    snprintf(t.api_key, sizeof t.api_key, "%s",
             json_string_value(json_object_get(json_object_get(j, "data"), "api_key")));
    json_decref(j);
    lf_pubkey *pub = NULL;
    lf_buf pem = LF_BUF_INIT;
    if (t.customer == NULL) /* RSA-4096 is slow to make: one for the whole run */
        assert_int_equal(lf_privkey_generate(4096, &t.customer, NULL), LF_OK);
    assert_int_equal(lf_privkey_public(t.customer, &pub, NULL), LF_OK);
    assert_int_equal(lf_pubkey_to_pem(pub, &pem, NULL), LF_OK);
    lf_buf_terminate(&pem);
    json_decref(admin_post("/v1/admin/public-keys",
                           json_pack("{s:s}", "public_key", (char *)pem.data), 201));
    lf_buf_free(&pem);
    lf_pubkey_free(pub);
    return 0;
}

static int server_teardown(void **state)
{
    lfd_http_drain_and_stop(t.http, 2000);
    lf_queue_close(t.app.queue);
    lf_meta_close(t.app.meta);
    lf_replay_cache_free(t.app.replay);
    lfd_ratelimit_free(t.app.rl_key);
    lfd_ratelimit_free(t.app.rl_ip);
    lfd_config_free(&t.cfg);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", t.dir);
    assert_int_equal(system(cmd), 0);
    curl_global_cleanup();
    return fixture_teardown(state);
}

static int64_t spool_records(void)
{
    lf_queue_stats st;
    lf_queue_stats_get(t.app.queue, &st);
    return (int64_t)st.next_seq - 1;
}

/* A real sealed body: the key frame (first item only) and a block of n entries. */
static lf_buf sealed(lf_native_session *ns, bool key_frame, size_t n)
{
    lf_buf body = LF_BUF_INIT;
    int64_t now = lf_time_now_ns();
    if (key_frame) {
        lf_pubkey *pub = NULL;
        assert_int_equal(lf_privkey_public(t.customer, &pub, NULL), LF_OK);
        assert_int_equal(lf_native_session_key_frame(ns, pub, now, &body, NULL), LF_OK);
        lf_pubkey_free(pub);
    }
    const char *j = "{\"v\":\"2.0\",\"type\":\"log\",\"message\":\"shipped secret 42\"}";
    lf_native_entry e[8];
    assert_true(n <= 8);
    for (size_t i = 0; i < n; i++)
        e[i] = (lf_native_entry){j, strlen(j), now + (int64_t)i};
    assert_int_equal(lf_native_seal_block(ns, 1, e, n, NULL, 0, true, &body, NULL), LF_OK);
    return body;
}

static lf_agent_ship_options server_options(void)
{
    static char endpoint[64];
    snprintf(endpoint, sizeof endpoint, "https://127.0.0.1:%u", t.port);
    lf_agent_ship_options o = {.endpoint = endpoint,
                               .api_key = t.api_key,
                               .ca_file = t.cert,
                               .dead_letter_dir = f.dl_dir,
                               .backoff_base_ms = 10,
                               .backoff_max_ms = 100};
    return o;
}

/* Sum of the row counts of spool records first..last. */
static uint64_t spool_entry_count(uint64_t first, uint64_t last)
{
    uint64_t total = 0;
    for (uint64_t seq = first; seq <= last; seq++) {
        lf_buf storage = LF_BUF_INIT;
        uint64_t got = 0;
        assert_int_equal(lf_queue_read(t.app.queue, seq, 0, &storage, &got, NULL), LF_OK);
        lfd_batch b;
        assert_int_equal(lfd_batch_decode(storage.data, storage.len, &b, NULL), LF_OK);
        for (size_t i = 0; i < b.n_rows; i++)
            total += b.rows[i].count;
        assert_null(memmem(storage.data, storage.len, "shipped secret", 14));
        lfd_batch_clear(&b);
        lf_buf_free(&storage);
    }
    return total;
}

static void test_real_server(void **state)
{
    (void)state;
    lf_native_session *ns = NULL;
    assert_int_equal(lf_native_session_new(NULL, NULL, "acme", "checkout", &ns, NULL), LF_OK);
    const size_t sizes[] = {3, 5, 2};
    for (size_t i = 0; i < 3; i++) {
        lf_buf b = sealed(ns, i == 0, sizes[i]);
        char key[40];
        snprintf(key, sizeof key, "real-server-item-%04zu", i);
        append_item(key, b.data, b.len, (uint32_t)sizes[i]);
        lf_buf_free(&b);
    }
    /* The same batch again (a crash after sending, before the ack): stored once. */
    lf_agent_buffer_item *items = NULL;
    size_t count = 0;
    assert_int_equal(lf_agent_buffer_peek(f.buf, 3, &items, &count, NULL), LF_OK);
    assert_int_equal(count, 3);
    append_item(items[2].idempotency_key, items[2].body, items[2].body_len, items[2].records);
    lf_agent_buffer_items_free(items, count);

    int64_t before = spool_records();
    lf_agent_ship_options o = server_options();
    lf_agent_ship *s = start_ship(&o);
    uint64_t four = 4;
    wait_stats(s, shipped_at_least, &four, "four items accepted by logfluxd");
    wait_pending_zero();
    lf_agent_ship_stats st;
    lf_agent_ship_stats_get(s, &st);
    assert_int_equal(st.items_shipped, 4);
    assert_int_equal(st.responses_2xx, 4);
    assert_int_equal(st.requests, 4);
    assert_int_equal(st.connections, 1);
    assert_int_equal(st.dead_letter_items, 0);
    assert_int_equal(st.frames_rejected, 0);
    assert_string_equal(st.last_error, "");
    assert_null(strstr(st.last_error, t.api_key));
    lf_buf metrics = LF_BUF_INIT;
    lf_agent_ship_write_metrics(s, &metrics);
    lf_buf_terminate(&metrics);
    assert_null(strstr((char *)metrics.data, t.api_key));
    assert_non_null(strstr((char *)metrics.data, "# TYPE logflux_agent_ship_items_total counter\n"
                                                 "logflux_agent_ship_items_total 4\n"));
    assert_non_null(
        strstr((char *)metrics.data, "logflux_agent_ship_responses_total{class=\"2xx\"} 4\n"));
    lf_buf_free(&metrics);
    lf_agent_ship_stop(s, 0);
    /* Three spool records (the duplicate was answered from the first answer) holding 10. */
    int64_t after = spool_records();
    assert_int_equal(after, before + 3);
    assert_int_equal(spool_entry_count((uint64_t)before + 1, (uint64_t)after), 10);
    lf_native_session_free(ns);
}

/* "sha256//<base64 of SHA-256 of the DER SubjectPublicKeyInfo>" of the server's cert. */
static void cert_pin(char *out, size_t cap)
{
    FILE *fp = fopen(t.cert, "r");
    assert_non_null(fp);
    X509 *x = PEM_read_X509(fp, NULL, NULL, NULL);
    fclose(fp);
    assert_non_null(x);
    unsigned char *der = NULL;
    int len = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(x), &der);
    assert_true(len > 0);
    uint8_t digest[32];
    assert_int_equal(lf_sha256(der, (size_t)len, digest, NULL), LF_OK);
    OPENSSL_free(der);
    X509_free(x);
    char b64[64];
    lf_base64_encode(digest, 32, b64, false);
    snprintf(out, cap, "sha256//%s", b64);
}

static void test_real_server_pinning(void **state)
{
    (void)state;
    lf_native_session *ns = NULL;
    assert_int_equal(lf_native_session_new(NULL, NULL, "acme", "checkout", &ns, NULL), LF_OK);
    lf_buf b = sealed(ns, true, 2);
    append_item("pinned-item-000000001", b.data, b.len, 2);
    lf_buf_free(&b);
    /* A wrong pin: nothing goes out, the item stays, the error says why. */
    lf_agent_ship_options o = server_options();
    o.pinned_pubkey = "sha256//AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";
    int64_t before = spool_records();
    lf_agent_ship *s = start_ship(&o);
    uint64_t two = 2;
    wait_stats(s, network_errors_at_least, &two, "two refused TLS attempts");
    lf_agent_ship_stats st;
    lf_agent_ship_stats_get(s, &st);
    assert_int_equal(st.items_shipped, 0);
    assert_true(st.network_errors >= 2);
    assert_true(st.last_error[0] != '\0');
    lf_agent_ship_stop(s, 0);
    assert_int_equal(pending(), 1);
    assert_int_equal(spool_records(), before);
    /* The right pin ships it. */
    char pin[128];
    cert_pin(pin, sizeof pin);
    o.pinned_pubkey = pin;
    s = start_ship(&o);
    uint64_t one = 1;
    wait_stats(s, shipped_at_least, &one, "the pinned item");
    wait_pending_zero();
    lf_agent_ship_stop(s, 0);
    assert_int_equal(spool_records(), before + 1);
    /* Without the CA file the server's self-signed certificate is not trusted. */
    b = sealed(ns, false, 1);
    append_item("untrusted-item-0000001", b.data, b.len, 1);
    lf_buf_free(&b);
    o = server_options();
    o.ca_file = "/nonexistent-ca.pem";
    s = start_ship(&o);
    wait_stats(s, network_errors_at_least, &two, "two untrusted attempts");
    lf_agent_ship_stats_get(s, &st);
    assert_int_equal(st.items_shipped, 0);
    lf_agent_ship_stop(s, 0);
    assert_int_equal(pending(), 1);
    lf_native_session_free(ns);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_backoff_bounds),
        cmocka_unit_test(test_retry_after_parse),
        cmocka_unit_test(test_status_table),
        cmocka_unit_test_setup_teardown(test_bad_options, mock_setup, mock_teardown),
        cmocka_unit_test_setup_teardown(test_retry_after_honoured, mock_setup, mock_teardown),
        cmocka_unit_test_setup_teardown(test_transient_statuses_same_key, mock_setup,
                                        mock_teardown),
        cmocka_unit_test_setup_teardown(test_connection_refused_then_up, mock_setup, mock_teardown),
        cmocka_unit_test_setup_teardown(test_400_dead_letter, mock_setup, mock_teardown),
        cmocka_unit_test_setup_teardown(test_auth_retried_not_dead_lettered, mock_setup,
                                        mock_teardown),
        cmocka_unit_test_setup_teardown(test_auth_failure_reported, mock_setup, mock_teardown),
        cmocka_unit_test_setup_teardown(test_dead_letter_full_keeps_item, mock_setup,
                                        mock_teardown),
        cmocka_unit_test_setup_teardown(test_max_retries_dead_letters, mock_setup, mock_teardown),
        cmocka_unit_test_setup_teardown(test_partial_acceptance, mock_setup, mock_teardown),
        cmocka_unit_test_setup_teardown(test_keep_alive_one_connection, mock_setup, mock_teardown),
        cmocka_unit_test_setup_teardown(test_stop_during_backoff, mock_setup, mock_teardown),
        cmocka_unit_test_setup_teardown(test_stop_during_request, mock_setup, mock_teardown),
        cmocka_unit_test_setup_teardown(test_flush_on_stop, mock_setup, mock_teardown),
        cmocka_unit_test_setup_teardown(test_drop_oldest_while_retrying, mock_setup, mock_teardown),
        cmocka_unit_test_setup_teardown(test_drop_oldest_while_in_flight, mock_setup,
                                        mock_teardown),
        cmocka_unit_test_setup_teardown(test_drop_oldest_before_ack, mock_setup, mock_teardown),
        cmocka_unit_test_setup_teardown(test_drop_oldest_then_stop, mock_setup, mock_teardown),
        cmocka_unit_test_setup_teardown(test_real_server, server_setup, server_teardown),
        cmocka_unit_test_setup_teardown(test_real_server_pinning, server_setup, server_teardown),
    };
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    lf_privkey_free(t.customer);
    return failed;
}

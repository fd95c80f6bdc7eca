/*
 * test_agent_socket.c — the LogFlux agent socket input over a real Unix socket in a temp dir:
 * ping/pong, SDK entries and batches mapped to events (payload, level, time, source,
 * metadata), plain objects, acknowledgements sent only by commit() (the client receives
 * nothing before it, the ack after), malformed JSON answered at once with an error line while
 * the connection stays usable, a batch refused whole, over-long lines, the pending-ack
 * bound, stale socket replacement, refusal of a live socket or a regular file, the socket
 * mode, and the message decoder on its own. Every wait is bounded.
 */
#define _GNU_SOURCE
#include "testutil.h"

#include <fcntl.h>
#include <poll.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "inputs/socket/socket.h"
#include "inputs/socket/socket_message.h"

static atomic_bool g_stop;
static char g_dir[64];
static char g_path[100];

static int setup_dir(void **state)
{
    (void)state;
    snprintf(g_dir, sizeof g_dir, "/tmp/lf-sock-XXXXXX");
    if (!mkdtemp(g_dir))
        return -1;
    /* A parent that does not exist yet: the input creates it. */
    snprintf(g_path, sizeof g_path, "%s/run/agent.sock", g_dir);
    return 0;
}

static int teardown_dir(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_dir);
    return system(cmd) == 0 ? 0 : -1;
}

static lf_agent_input *make_input(const char *const *kv, size_t n, lf_error *err_out)
{
    const lf_agent_input_type *t = &lf_agent_input_type_socket;
    void *cfg = calloc(1, t->config_size);
    assert_non_null(cfg);
    lf_error err = {0};
    assert_int_equal(lf_options_defaults(t->options, t->n_options, cfg, &err), LF_OK);
    assert_int_equal(lf_options_set(t->options, t->n_options, cfg, "path", g_path, &err), LF_OK);
    /* Acks are off by default (the SDKs' clients never read them); most tests are about them. */
    assert_int_equal(lf_options_set(t->options, t->n_options, cfg, "acks", "true", &err), LF_OK);
    for (size_t i = 0; i + 1 < n; i += 2)
        assert_int_equal(lf_options_set(t->options, t->n_options, cfg, kv[i], kv[i + 1], &err),
                         LF_OK);
    lf_agent_input *in = NULL;
    lf_agent_input_common common = {.name = "sock", .state_dir = g_dir, .stop = &g_stop};
    lf_err e = t->validate(cfg, &err);
    if (e == LF_OK)
        e = t->create(&common, cfg, &in, &err);
    lf_options_free(t->options, t->n_options, cfg);
    free(cfg);
    if (err_out)
        *err_out = err;
    return e == LF_OK ? in : NULL;
}

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int client(void)
{
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    struct sockaddr_un a = {0};
    a.sun_family = AF_UNIX;
    snprintf(a.sun_path, sizeof a.sun_path, "%s", g_path);
    assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof a), 0);
    return fd;
}

static void send_str(int fd, const char *s)
{
    size_t n = strlen(s);
    while (n > 0) {
        ssize_t w = send(fd, s, n, MSG_NOSIGNAL);
        assert_true(w > 0);
        s += w;
        n -= (size_t)w;
    }
}

/* Drive the input (next() with short timeouts, as the pipeline would) until the client has
 * a complete reply line, or limit_ms passes. Returns the line (static storage), or NULL. */
typedef struct reader {
    char buf[8192];
    size_t len;
} reader;

static bool reply_ready(reader *r, char *out, size_t cap)
{
    char *nl = memchr(r->buf, '\n', r->len);
    if (!nl)
        return false;
    size_t n = (size_t)(nl - r->buf);
    assert_true(n < cap);
    memcpy(out, r->buf, n);
    out[n] = '\0';
    memmove(r->buf, nl + 1, r->len - n - 1);
    r->len -= n + 1;
    return true;
}

/* Read a reply while pumping the input; records it returns are counted into *records. */
static bool read_reply(lf_agent_input *in, int fd, reader *r, char *out, size_t cap, int limit_ms,
                       size_t *records)
{
    int64_t end = mono_ms() + limit_ms;
    lf_agent_event ev = {0};
    bool ok = false;
    while (mono_ms() < end) {
        if (reply_ready(r, out, cap)) {
            ok = true;
            break;
        }
        lf_agent_event_reset(&ev);
        lf_err e = in->vt->next(in, &ev, 20, NULL);
        if (e == LF_OK && records)
            (*records)++;
        else if (e == LF_OK)
            fail_msg("unexpected record");
        struct pollfd p = {fd, POLLIN, 0};
        if (poll(&p, 1, 0) == 1) {
            ssize_t n = recv(fd, r->buf + r->len, sizeof r->buf - r->len, MSG_DONTWAIT);
            if (n > 0)
                r->len += (size_t)n;
            else
                break;
        }
    }
    lf_agent_event_free(&ev);
    return ok;
}

/* Nothing arrives at the client within ms (while the input runs). */
static void expect_no_reply(lf_agent_input *in, int fd, reader *r, int ms, size_t *records)
{
    char line[512];
    assert_false(read_reply(in, fd, r, line, sizeof line, ms, records));
    assert_int_equal(r->len, 0);
}

typedef struct rec {
    char msg[256];
    int level;
    int64_t ts;
    char source[260];
    char logger[260];
    char env[64];
    char entry_type[32];
    size_t n_labels;
} rec;

static size_t collect(lf_agent_input *in, rec *out, size_t want, int limit_ms)
{
    lf_agent_event ev = {0};
    size_t n = 0;
    int64_t end = mono_ms() + limit_ms;
    while (n < want && mono_ms() < end) {
        lf_agent_event_reset(&ev);
        lf_err e = in->vt->next(in, &ev, 50, NULL);
        if (e == LF_ERR_NOT_FOUND)
            continue;
        assert_int_equal(e, LF_OK);
        rec *r = &out[n++];
        memset(r, 0, sizeof *r);
        assert_true(ev.message_len < sizeof r->msg);
        memcpy(r->msg, ev.message, ev.message_len);
        r->level = ev.level;
        r->ts = ev.ts_ns;
        snprintf(r->source, sizeof r->source, "%s", ev.source);
        snprintf(r->logger, sizeof r->logger, "%s", ev.logger);
        const char *v = lf_agent_event_label(&ev, "env");
        snprintf(r->env, sizeof r->env, "%s", v ? v : "");
        v = lf_agent_event_label(&ev, "entry_type");
        snprintf(r->entry_type, sizeof r->entry_type, "%s", v ? v : "");
        r->n_labels = ev.n_labels;
    }
    lf_agent_event_free(&ev);
    return n;
}

static uint64_t metric(lf_agent_input *in, const char *name)
{
    lf_buf b = LF_BUF_INIT;
    in->vt->write_metrics(in, &b);
    lf_buf_terminate(&b);
    char key[160];
    snprintf(key, sizeof key, "%s{input=\"sock\"} ", name);
    const char *p = strstr((const char *)b.data, key);
    assert_non_null(p);
    uint64_t v = strtoull(p + strlen(key), NULL, 10);
    lf_buf_free(&b);
    return v;
}

static void test_ping_entries_and_acks_after_commit(void **state)
{
    (void)state;
    lf_agent_input *in = make_input(NULL, 0, NULL);
    assert_non_null(in);
    struct stat st;
    assert_int_equal(stat(g_path, &st), 0);
    assert_true(S_ISSOCK(st.st_mode));
    assert_int_equal(st.st_mode & 0777, 0660);

    int fd = client();
    reader r = {0};
    char line[512];
    /* Ping is answered at once, without any commit. */
    send_str(fd, "{\"version\":\"1.0\",\"action\":\"ping\"}\n");
    assert_true(read_reply(in, fd, &r, line, sizeof line, 3000, NULL));
    assert_string_equal(line, "{\"status\":\"pong\"}");

    /* An SDK entry and a batch: records come out of next(), but no reply before commit. */
    send_str(fd, "{\"version\":\"1.0\",\"payload\":\"user login\",\"source\":\"auth-svc\","
                 "\"timestamp\":\"2024-05-06T07:08:09.5Z\",\"payloadType\":\"generic\","
                 "\"metadata\":{\"env\":\"prod\",\"n\":3},\"entryType\":1,\"logLevel\":4}\n"
                 "{\"version\":\"1.0\",\"entries\":["
                 "{\"payload\":\"b1\",\"source\":\"s\",\"entryType\":1,\"logLevel\":7},"
                 "{\"payload\":\"b2\",\"source\":\"s\",\"entryType\":5,\"logLevel\":8}]}\n");
    rec recs[8];
    assert_int_equal(collect(in, recs, 3, 3000), 3);
    assert_string_equal(recs[0].msg, "user login");
    assert_int_equal(recs[0].level, 4);
    assert_int_equal(recs[0].ts, 1714979289500000000LL);
    assert_string_equal(recs[0].source, "auth-svc");
    assert_string_equal(recs[0].env, "prod");
    assert_int_equal(recs[0].n_labels, 2);
    assert_string_equal(recs[1].msg, "b1");
    assert_int_equal(recs[1].level, 7);
    assert_string_equal(recs[2].msg, "b2");
    assert_string_equal(recs[2].entry_type, "audit");
    size_t extra = 0;
    expect_no_reply(in, fd, &r, 300, &extra);
    assert_int_equal(extra, 0);

    /* commit(): both lines are acknowledged, in order, with their line numbers. */
    assert_int_equal(in->vt->commit(in, NULL), LF_OK);
    assert_true(read_reply(in, fd, &r, line, sizeof line, 3000, NULL));
    assert_string_equal(line, "{\"status\":\"ok\",\"line\":2,\"accepted\":1}");
    assert_true(read_reply(in, fd, &r, line, sizeof line, 3000, NULL));
    assert_string_equal(line, "{\"status\":\"ok\",\"line\":3,\"accepted\":2}");
    /* A second commit has nothing more to say. */
    assert_int_equal(in->vt->commit(in, NULL), LF_OK);
    expect_no_reply(in, fd, &r, 200, NULL);

    /* A plain object (schema 2.0-like) is taken too. */
    send_str(fd, "{\"message\":\"plain one\",\"level\":\"warning\",\"logger\":\"main\","
                 "\"labels\":{\"env\":\"dev\"},\"ts\":1714979289}\n");
    assert_int_equal(collect(in, recs, 1, 3000), 1);
    assert_string_equal(recs[0].msg, "plain one");
    assert_int_equal(recs[0].level, 5);
    assert_string_equal(recs[0].logger, "main");
    assert_string_equal(recs[0].env, "dev");
    assert_int_equal(recs[0].ts, 1714979289000000000LL);
    assert_int_equal(in->vt->commit(in, NULL), LF_OK);
    assert_true(read_reply(in, fd, &r, line, sizeof line, 3000, NULL));
    assert_string_equal(line, "{\"status\":\"ok\",\"line\":4,\"accepted\":1}");
    assert_int_equal(metric(in, "logflux_agent_socket_records_total"), 4);
    assert_int_equal(metric(in, "logflux_agent_socket_acks_total"), 3);
    close(fd);
    in->vt->destroy(in);
    /* The socket file goes with the input. */
    assert_int_not_equal(stat(g_path, &st), 0);
}

static void test_ack_waits_for_whole_batch(void **state)
{
    (void)state;
    lf_agent_input *in = make_input(NULL, 0, NULL);
    assert_non_null(in);
    int fd = client();
    reader r = {0};
    char line[512];
    send_str(fd, "{\"entries\":[{\"message\":\"a\"},{\"message\":\"b\"},{\"message\":\"c\"}]}\n");
    rec recs[3];
    /* Two of three records returned, then a commit: the line is not whole yet, no ack. */
    assert_int_equal(collect(in, recs, 2, 3000), 2);
    assert_int_equal(in->vt->commit(in, NULL), LF_OK);
    struct pollfd p = {fd, POLLIN, 0};
    assert_int_equal(poll(&p, 1, 200), 0);
    assert_int_equal(collect(in, recs, 1, 3000), 1);
    assert_string_equal(recs[0].msg, "c");
    assert_int_equal(poll(&p, 1, 200), 0);
    assert_int_equal(in->vt->commit(in, NULL), LF_OK);
    assert_true(read_reply(in, fd, &r, line, sizeof line, 3000, NULL));
    assert_string_equal(line, "{\"status\":\"ok\",\"line\":1,\"accepted\":3}");
    close(fd);
    in->vt->destroy(in);
}

static void test_errors_keep_connection_usable(void **state)
{
    (void)state;
    const char *kv[] = {"max_line_bytes", "1KiB"};
    lf_agent_input *in = make_input(kv, 2, NULL);
    assert_non_null(in);
    int fd = client();
    reader r = {0};
    char line[512];
    /* Malformed JSON: an error line at once (no commit needed), naming the line. */
    send_str(fd, "{\"payload\": \"unterminated\n");
    assert_true(read_reply(in, fd, &r, line, sizeof line, 3000, NULL));
    assert_non_null(strstr(line, "\"status\":\"error\""));
    assert_non_null(strstr(line, "\"line\":1"));
    assert_non_null(strstr(line, "invalid JSON"));
    assert_null(strstr(line, "unterminated")); /* content is never echoed */
    /* A batch with one bad entry is refused whole: nothing of it comes out. */
    send_str(fd, "{\"entries\":[{\"payload\":\"ok\"},{\"payload\":\"x\",\"logLevel\":9}]}\n");
    size_t records = 0;
    assert_true(read_reply(in, fd, &r, line, sizeof line, 3000, &records));
    assert_int_equal(records, 0);
    assert_non_null(strstr(line, "entries[1]"));
    assert_non_null(strstr(line, "logLevel"));
    /* Other refusals: not an object, unknown action, no payload, bad time. */
    const char *bad[] = {"[1,2]\n", "{\"action\":\"dance\"}\n", "{\"source\":\"x\"}\n",
                         "{\"payload\":\"x\",\"timestamp\":\"yesterday\"}\n",
                         "{\"payload\":\"x\",\"payload\":\"dup\"}\n"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        send_str(fd, bad[i]);
        assert_true(read_reply(in, fd, &r, line, sizeof line, 3000, &records));
        assert_non_null(strstr(line, "\"status\":\"error\""));
    }
    assert_int_equal(records, 0);
    /* A line over max_line_bytes: an error, the line skipped, the next line fine. */
    char big[3000];
    memset(big, 'a', sizeof big);
    memcpy(big, "{\"payload\":\"", 12);
    big[sizeof big - 1] = '\0';
    send_str(fd, big);
    send_str(fd, "\"}\n");
    assert_true(read_reply(in, fd, &r, line, sizeof line, 3000, &records));
    assert_non_null(strstr(line, "exceeds 1024 bytes"));
    assert_int_equal(records, 0);
    send_str(fd, "{\"payload\":\"after\"}\n");
    /* The connection still works: an entry, then its ack. */
    rec recs[1];
    assert_int_equal(collect(in, recs, 1, 3000), 1);
    assert_string_equal(recs[0].msg, "after");
    assert_int_equal(in->vt->commit(in, NULL), LF_OK);
    assert_true(read_reply(in, fd, &r, line, sizeof line, 3000, NULL));
    assert_string_equal(line, "{\"status\":\"ok\",\"line\":9,\"accepted\":1}");
    assert_int_equal(metric(in, "logflux_agent_socket_errors_total"), 7);
    assert_int_equal(metric(in, "logflux_agent_socket_too_long_total"), 1);
    close(fd);
    in->vt->destroy(in);
}

static void test_pending_ack_bound_and_half_close(void **state)
{
    (void)state;
    const char *kv[] = {"max_pending_acks", "2"};
    lf_agent_input *in = make_input(kv, 2, NULL);
    assert_non_null(in);
    int fd = client();
    for (int i = 0; i < 5; i++) {
        char l[64];
        snprintf(l, sizeof l, "{\"payload\":\"m%d\"}\n", i);
        send_str(fd, l);
    }
    /* The client is done sending but waits for its acks. */
    assert_int_equal(shutdown(fd, SHUT_WR), 0);
    rec recs[5];
    /* Only two lines are taken before a commit makes room. */
    assert_int_equal(collect(in, recs, 5, 400), 2);
    assert_int_equal(in->vt->commit(in, NULL), LF_OK);
    assert_int_equal(collect(in, recs, 5, 400), 2);
    assert_string_equal(recs[1].msg, "m3");
    assert_int_equal(in->vt->commit(in, NULL), LF_OK);
    assert_int_equal(collect(in, recs, 1, 3000), 1);
    assert_string_equal(recs[0].msg, "m4");
    assert_int_equal(in->vt->commit(in, NULL), LF_OK);
    /* Five acks, in order, then the agent closes the connection. */
    reader r = {0};
    char line[256];
    for (int i = 1; i <= 5; i++) {
        char want[80];
        snprintf(want, sizeof want, "{\"status\":\"ok\",\"line\":%d,\"accepted\":1}", i);
        assert_true(read_reply(in, fd, &r, line, sizeof line, 3000, NULL));
        assert_string_equal(line, want);
    }
    int64_t end = mono_ms() + 3000;
    char c;
    ssize_t n = -1;
    while (mono_ms() < end) {
        rec dummy[1];
        assert_int_equal(collect(in, dummy, 1, 20), 0);
        n = recv(fd, &c, 1, MSG_DONTWAIT);
        if (n == 0)
            break;
    }
    assert_int_equal(n, 0);
    assert_int_equal(metric(in, "logflux_agent_socket_connections"), 0);
    close(fd);
    in->vt->destroy(in);
}

static void test_many_clients_and_limit(void **state)
{
    (void)state;
    const char *kv[] = {"max_connections", "8", "acks", "false"};
    lf_agent_input *in = make_input(kv, 4, NULL);
    assert_non_null(in);
    int fds[8];
    for (int i = 0; i < 8; i++) {
        fds[i] = client();
        char l[64];
        snprintf(l, sizeof l, "{\"payload\":\"c%d\"}\n{\"payload\":\"c%d\"}\n", i, i);
        send_str(fds[i], l);
    }
    rec recs[16];
    assert_int_equal(collect(in, recs, 16, 5000), 16);
    int seen[8] = {0};
    for (int i = 0; i < 16; i++) {
        int k = -1;
        assert_int_equal(sscanf(recs[i].msg, "c%d", &k), 1);
        assert_true(k >= 0 && k < 8);
        seen[k]++;
    }
    for (int i = 0; i < 8; i++)
        assert_int_equal(seen[i], 2);
    /* A ninth client is told and closed. */
    int extra = client();
    reader r = {0};
    char line[256];
    assert_true(read_reply(in, extra, &r, line, sizeof line, 3000, NULL));
    assert_non_null(strstr(line, "too many connections"));
    close(extra);
    /* acks: false -> a commit writes nothing. */
    assert_int_equal(in->vt->commit(in, NULL), LF_OK);
    reader r0 = {0};
    expect_no_reply(in, fds[0], &r0, 200, NULL);
    for (int i = 0; i < 8; i++)
        close(fds[i]);
    in->vt->destroy(in);
}

static void test_socket_file_handling(void **state)
{
    (void)state;
    /* A stale socket (bound, never listened to, closed) is replaced. */
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un a = {0};
    a.sun_family = AF_UNIX;
    snprintf(a.sun_path, sizeof a.sun_path, "%s", g_path);
    char dir[128];
    snprintf(dir, sizeof dir, "%s/run", g_dir);
    mkdir(dir, 0755);
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    close(fd);
    const char *kv[] = {"mode", "0600"};
    lf_agent_input *in = make_input(kv, 2, NULL);
    assert_non_null(in);
    struct stat st;
    assert_int_equal(stat(g_path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    /* A live socket is not taken over. */
    lf_error err;
    assert_null(make_input(NULL, 0, &err));
    assert_non_null(strstr(err.message, "in use"));
    in->vt->destroy(in);
    /* A regular file at the path is never removed. */
    int f = open(g_path, O_CREAT | O_WRONLY, 0644);
    assert_true(f >= 0);
    close(f);
    assert_null(make_input(NULL, 0, &err));
    assert_non_null(strstr(err.message, "not a socket"));
    assert_int_equal(stat(g_path, &st), 0);
    assert_true(S_ISREG(st.st_mode));
    unlink(g_path);
    /* Bad options. */
    const char *bad_mode[] = {"mode", "rw-rw----"};
    assert_null(make_input(bad_mode, 2, &err));
    assert_non_null(strstr(err.message, "mode"));
}

static void test_decoder(void **state)
{
    (void)state;
    lf_socket_message m;
    lf_error err;
    const char *ok = "{\"payload\":\"p\",\"metadata\":{\"a\":\"1\",\"b\":true,\"c\":null}}";
    assert_int_equal(lf_socket_message_decode(ok, strlen(ok), &m, &err), LF_OK);
    assert_int_equal(m.kind, LF_SOCKET_MSG_ENTRIES);
    assert_int_equal(m.n, 1);
    lf_agent_event ev = {0};
    lf_agent_event_reset(&ev);
    assert_int_equal(lf_socket_message_entry(&m, 0, &ev), 0);
    assert_string_equal(lf_agent_event_label(&ev, "b"), "true");
    assert_null(lf_agent_event_label(&ev, "c"));
    lf_socket_message_free(&m);
    /* More than 20 labels: the extras are dropped and counted. */
    char many[2048];
    size_t n = (size_t)snprintf(many, sizeof many, "{\"payload\":\"p\",\"metadata\":{");
    for (int i = 0; i < 25; i++)
        n += (size_t)snprintf(many + n, sizeof many - n, "%s\"k%d\":\"v\"", i ? "," : "", i);
    n += (size_t)snprintf(many + n, sizeof many - n, "}}");
    assert_int_equal(lf_socket_message_decode(many, n, &m, &err), LF_OK);
    lf_agent_event_reset(&ev);
    assert_int_equal(lf_socket_message_entry(&m, 0, &ev), 5);
    assert_int_equal(ev.n_labels, 20);
    lf_socket_message_free(&m);
    lf_agent_event_free(&ev);
    /* Batch bounds. */
    const char *empty = "{\"entries\":[]}";
    assert_int_equal(lf_socket_message_decode(empty, strlen(empty), &m, &err), LF_ERR_INVALID);
    lf_buf big = LF_BUF_INIT;
    lf_buf_append_str(&big, "{\"entries\":[");
    for (int i = 0; i <= LF_SOCKET_MAX_BATCH; i++)
        lf_buf_append_str(&big, i ? ",{\"payload\":\"x\"}" : "{\"payload\":\"x\"}");
    lf_buf_append_str(&big, "]}");
    assert_int_equal(lf_socket_message_decode((const char *)big.data, big.len, &m, &err),
                     LF_ERR_TOO_LARGE);
    lf_buf_free(&big);
    const char *auth = "{\"action\":\"authenticate\",\"shared_secret\":\"s\"}";
    assert_int_equal(lf_socket_message_decode(auth, strlen(auth), &m, &err), LF_OK);
    assert_int_equal(m.kind, LF_SOCKET_MSG_AUTH);
    lf_socket_message_free(&m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_decoder),
        cmocka_unit_test(test_ping_entries_and_acks_after_commit),
        cmocka_unit_test(test_ack_waits_for_whole_batch),
        cmocka_unit_test(test_errors_keep_connection_usable),
        cmocka_unit_test(test_pending_ack_bound_and_half_close),
        cmocka_unit_test(test_many_clients_and_limit),
        cmocka_unit_test(test_socket_file_handling),
    };
    return cmocka_run_group_tests(tests, setup_dir, teardown_dir);
}

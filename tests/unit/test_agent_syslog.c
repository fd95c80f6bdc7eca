/*
 * test_agent_syslog.c — the agent's syslog input: the RFC 6587 frame decoder on its own
 * (octet counting, LF lines, auto detection, frames split across pushes and many per push,
 * oversize frames dropped, long lines cut, framing errors resynchronised, end of stream), then
 * the input over real sockets on 127.0.0.1: UDP datagrams, TCP with both framings written in
 * awkward pieces, truncation limits and their counters, the peer label, many connections,
 * the connection limit, the idle timeout, and bad options. Every wait is bounded.
 */
#define _GNU_SOURCE
#include "testutil.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "inputs/syslog/syslog.h"
#include "inputs/syslog/syslog_framing.h"

static atomic_bool g_stop;

/* ---------------- frame decoder ---------------- */

typedef struct got_frames {
    char text[64][256];
    bool truncated[64];
    size_t n;
} got_frames;

static void push_all(lf_syslog_framer *f, const char *s, size_t len, got_frames *g)
{
    size_t off = 0;
    while (off < len) {
        size_t used = 0;
        lf_syslog_frame fr;
        bool got = lf_syslog_framer_push(f, (const uint8_t *)s + off, len - off, &used, &fr);
        off += used;
        if (got) {
            assert_true(g->n < 64);
            assert_true(fr.len < 256);
            memcpy(g->text[g->n], fr.data, fr.len);
            g->text[g->n][fr.len] = '\0';
            g->truncated[g->n] = fr.truncated;
            g->n++;
        } else {
            assert_int_equal(off, len);
        }
    }
}

static void finish(lf_syslog_framer *f, got_frames *g)
{
    lf_syslog_frame fr;
    if (lf_syslog_framer_finish(f, &fr)) {
        memcpy(g->text[g->n], fr.data, fr.len);
        g->text[g->n][fr.len] = '\0';
        g->truncated[g->n] = fr.truncated;
        g->n++;
    }
}

/* The same stream decoded at once and one byte at a time gives the same frames. */
static void decode_both_ways(lf_syslog_framing mode, size_t max, const char *stream, got_frames *g)
{
    lf_syslog_framer f;
    lf_syslog_framer_init(&f, mode, max);
    memset(g, 0, sizeof *g);
    push_all(&f, stream, strlen(stream), g);
    finish(&f, g);
    lf_syslog_framer_stats whole = f.stats;
    lf_syslog_framer_free(&f);

    got_frames bytewise = {0};
    lf_syslog_framer_init(&f, mode, max);
    for (size_t i = 0; stream[i]; i++)
        push_all(&f, stream + i, 1, &bytewise);
    finish(&f, &bytewise);
    assert_int_equal(bytewise.n, g->n);
    for (size_t i = 0; i < g->n; i++) {
        assert_string_equal(bytewise.text[i], g->text[i]);
        assert_int_equal(bytewise.truncated[i], g->truncated[i]);
    }
    assert_memory_equal(&whole, &f.stats, sizeof whole);
    lf_syslog_framer_free(&f);
}

static void test_framer_octet(void **state)
{
    (void)state;
    got_frames g;
    /* Many frames, a frame whose body holds an LF, an LF outside the count (tolerated). */
    decode_both_ways(LF_SYSLOG_FRAMING_OCTET, 100, "5 hello3 abc\n11 two\nlines!!4 last", &g);
    assert_int_equal(g.n, 4);
    assert_string_equal(g.text[0], "hello");
    assert_string_equal(g.text[1], "abc");
    assert_string_equal(g.text[2], "two\nlines!!");
    assert_string_equal(g.text[3], "last");
    assert_false(g.truncated[0]);
}

static void test_framer_octet_limits_and_errors(void **state)
{
    (void)state;
    lf_syslog_framer f;
    got_frames g = {0};
    lf_syslog_framer_init(&f, LF_SYSLOG_FRAMING_OCTET, 8);
    /* 9 > max: skipped whole, the next frame is intact. Then a bad prefix: discarded to the
     * LF. A leading zero is not a length either. Then a 12-digit length: refused. */
    const char *s = "9 123456789"
                    "2 ok"
                    "x7 junk\n"
                    "3 abc"
                    "05 zero\n"
                    "123456789012 big\n"
                    "4 tail"
                    "6 cut";
    push_all(&f, s, strlen(s), &g);
    finish(&f, &g);
    assert_int_equal(g.n, 3);
    assert_string_equal(g.text[0], "ok");
    assert_string_equal(g.text[1], "abc");
    assert_string_equal(g.text[2], "tail");
    assert_int_equal(f.stats.oversize_dropped, 1);
    assert_int_equal(f.stats.framing_errors, 3);
    assert_int_equal(f.stats.incomplete, 1); /* "6 cut" ended early */
    assert_int_equal(f.stats.frames, 3);
    lf_syslog_framer_free(&f);
}

static void test_framer_newline(void **state)
{
    (void)state;
    got_frames g;
    /* CRLF, empty lines skipped, a line over the maximum cut (rest discarded), a last line
     * without LF flushed at the end. */
    decode_both_ways(LF_SYSLOG_FRAMING_NEWLINE, 10,
                     "<13>one\r\n\n\n0123456789ABCDEF\nshort\n1234567890\nend", &g);
    assert_int_equal(g.n, 5);
    assert_string_equal(g.text[0], "<13>one");
    assert_string_equal(g.text[1], "0123456789");
    assert_true(g.truncated[1]);
    assert_string_equal(g.text[2], "short");
    assert_false(g.truncated[2]);
    assert_string_equal(g.text[3], "1234567890"); /* exactly max: whole */
    assert_false(g.truncated[3]);
    assert_string_equal(g.text[4], "end");
}

static void test_framer_auto(void **state)
{
    (void)state;
    got_frames g;
    decode_both_ways(LF_SYSLOG_FRAMING_AUTO, 100, "<13>a\n<13>b\n", &g);
    assert_int_equal(g.n, 2);
    assert_string_equal(g.text[1], "<13>b");
    decode_both_ways(LF_SYSLOG_FRAMING_AUTO, 100, "6 <13>a\n5 <13>b", &g);
    assert_int_equal(g.n, 2);
    assert_string_equal(g.text[0], "<13>a\n");
    assert_string_equal(g.text[1], "<13>b");
    /* Decided once per stream: a later digit-led line stays a line. */
    decode_both_ways(LF_SYSLOG_FRAMING_AUTO, 100, "<13>a\n5 hello\n", &g);
    assert_int_equal(g.n, 2);
    assert_string_equal(g.text[1], "5 hello");

    /* finish() starts a new stream: the next one decides again. */
    lf_syslog_framer f;
    lf_syslog_framer_init(&f, LF_SYSLOG_FRAMING_AUTO, 100);
    memset(&g, 0, sizeof g);
    push_all(&f, "<1>x\n", 5, &g);
    finish(&f, &g);
    push_all(&f, "3 abc", 5, &g);
    finish(&f, &g);
    assert_int_equal(g.n, 2);
    assert_string_equal(g.text[1], "abc");
    lf_syslog_framer_free(&f);
}

/* ---------------- the input over sockets ---------------- */

static lf_agent_input *make_input(const char *const *kv, size_t n, lf_error *err_out)
{
    const lf_agent_input_type *t = &lf_agent_input_type_syslog;
    void *cfg = calloc(1, t->config_size);
    assert_non_null(cfg);
    lf_error err = {0};
    assert_int_equal(lf_options_defaults(t->options, t->n_options, cfg, &err), LF_OK);
    for (size_t i = 0; i + 1 < n; i += 2)
        assert_int_equal(lf_options_set(t->options, t->n_options, cfg, kv[i], kv[i + 1], &err),
                         LF_OK);
    lf_agent_input *in = NULL;
    lf_agent_input_common common = {.name = "sys", .state_dir = "/tmp", .stop = &g_stop};
    lf_err e = t->validate ? t->validate(cfg, &err) : LF_OK;
    if (e == LF_OK)
        e = t->create(&common, cfg, &in, &err);
    lf_options_free(t->options, t->n_options, cfg);
    free(cfg);
    if (err_out)
        *err_out = err;
    if (e != LF_OK)
        return NULL;
    assert_string_equal(in->name, "sys");
    return in;
}

typedef struct rec {
    char msg[1200];
    size_t len;
    int level;
    char peer[64];
    char host[64];
    bool truncated;
} rec;

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Collect up to want records within limit_ms; returns how many. */
static size_t collect(lf_agent_input *in, rec *out, size_t want, int limit_ms)
{
    lf_agent_event ev = {0};
    size_t n = 0;
    int64_t end = mono_ms() + limit_ms;
    while (n < want && mono_ms() < end) {
        lf_agent_event_reset(&ev);
        lf_error err = {0};
        lf_err e = in->vt->next(in, &ev, 50, &err);
        if (e == LF_ERR_NOT_FOUND)
            continue;
        assert_int_equal(e, LF_OK);
        rec *r = &out[n++];
        memset(r, 0, sizeof *r);
        assert_true(ev.message_len < sizeof r->msg);
        memcpy(r->msg, ev.message, ev.message_len);
        r->len = ev.message_len;
        r->level = ev.level;
        const char *v = lf_agent_event_label(&ev, "peer");
        assert_non_null(v);
        snprintf(r->peer, sizeof r->peer, "%s", v);
        v = lf_agent_event_label(&ev, "hostname");
        snprintf(r->host, sizeof r->host, "%s", v ? v : "");
        r->truncated = lf_agent_event_label(&ev, "truncated") != NULL;
    }
    lf_agent_event_free(&ev);
    return n;
}

static void expect_nothing(lf_agent_input *in, int ms)
{
    lf_agent_event ev = {0};
    assert_int_equal(in->vt->next(in, &ev, ms, NULL), LF_ERR_NOT_FOUND);
    lf_agent_event_free(&ev);
}

static uint64_t metric(lf_agent_input *in, const char *name)
{
    lf_buf b = LF_BUF_INIT;
    in->vt->write_metrics(in, &b);
    lf_buf_terminate(&b);
    char key[160];
    snprintf(key, sizeof key, "%s{input=\"sys\"} ", name);
    const char *p = strstr((const char *)b.data, key);
    assert_non_null(p);
    uint64_t v = strtoull(p + strlen(key), NULL, 10);
    lf_buf_free(&b);
    return v;
}

static struct sockaddr_in loopback(uint16_t port)
{
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return a;
}

static int tcp_connect(uint16_t port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    struct sockaddr_in a = loopback(port);
    assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof a), 0);
    return fd;
}

static void send_all(int fd, const char *s, size_t n)
{
    while (n > 0) {
        ssize_t w = send(fd, s, n, MSG_NOSIGNAL);
        assert_true(w > 0);
        s += w;
        n -= (size_t)w;
    }
}

static void local_name(int fd, char *out, size_t cap)
{
    struct sockaddr_in a;
    socklen_t l = sizeof a;
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &l), 0);
    snprintf(out, cap, "127.0.0.1:%u", ntohs(a.sin_port));
}

static void test_udp(void **state)
{
    (void)state;
    const char *kv[] = {"listen", "127.0.0.1:0", "protocol", "udp", "max_message_bytes", "1KiB"};
    lf_agent_input *in = make_input(kv, 6, NULL);
    assert_non_null(in);
    uint16_t port = lf_syslog_input_port(in);
    assert_true(port != 0);
    assert_null(in->vt->cursor);
    assert_null(in->vt->commit);

    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    assert_true(fd >= 0);
    struct sockaddr_in to = loopback(port);
    assert_int_equal(connect(fd, (struct sockaddr *)&to, sizeof to), 0);
    char me[64];
    local_name(fd, me, sizeof me);
    const char *m1 = "<11>1 2024-05-06T07:08:09Z host1 app1 42 ID7 - first message\n";
    const char *m2 = "<14>May  6 07:08:09 host2 tag[9]: second";
    const char *m3 = "not syslog at all";
    assert_int_equal(send(fd, m1, strlen(m1), 0), (ssize_t)strlen(m1));
    assert_int_equal(send(fd, m2, strlen(m2), 0), (ssize_t)strlen(m2));
    assert_int_equal(send(fd, m3, strlen(m3), 0), (ssize_t)strlen(m3));
    /* Longer than max_message_bytes: cut to it, flagged and counted. */
    char big[3000];
    memset(big, 'x', sizeof big);
    memcpy(big, "<13>", 4);
    assert_int_equal(send(fd, big, sizeof big, 0), (ssize_t)sizeof big);

    rec r[4];
    assert_int_equal(collect(in, r, 4, 5000), 4);
    assert_string_equal(r[0].msg, "first message");
    assert_string_equal(r[0].host, "host1");
    assert_int_equal(r[0].level, 4); /* severity 3 (err) -> LF_LEVEL_ERROR */
    assert_string_equal(r[0].peer, me);
    assert_string_equal(r[1].msg, "second");
    assert_string_equal(r[1].host, "host2");
    assert_string_equal(r[1].peer, me);
    /* Not syslog: kept whole, counted as a parse error. */
    assert_string_equal(r[2].msg, "not syslog at all");
    assert_true(r[3].truncated);
    assert_false(r[0].truncated);
    assert_true(r[3].len <= 1024);
    assert_true(r[3].len >= 1000);
    assert_true(metric(in, "logflux_agent_syslog_parse_errors_total") >= 1);
    assert_int_equal(metric(in, "logflux_agent_syslog_truncated_total"), 1);
    assert_int_equal(metric(in, "logflux_agent_syslog_messages_total"), 4);
    (void)metric(in, "logflux_agent_syslog_udp_kernel_drops_total");
    expect_nothing(in, 50);
    close(fd);
    in->vt->destroy(in);
}

static void test_tcp_newline_split_writes(void **state)
{
    (void)state;
    const char *kv[] = {"listen", "127.0.0.1:0", "protocol", "tcp", "framing", "auto"};
    lf_agent_input *in = make_input(kv, 6, NULL);
    assert_non_null(in);
    int fd = tcp_connect(lf_syslog_input_port(in));
    char me[64];
    local_name(fd, me, sizeof me);
    /* Frames split across writes (the pipeline reads between them), then many per write. */
    send_all(fd, "<13>1 - h1 a - - - spl", 22);
    expect_nothing(in, 100);
    send_all(fd, "it one\n<13>1 - h1 a - - - two\n<1", 32);
    rec r[64];
    assert_int_equal(collect(in, r, 2, 3000), 2);
    assert_string_equal(r[0].msg, "split one");
    assert_string_equal(r[1].msg, "two");
    assert_string_equal(r[0].peer, me);
    char many[4096];
    size_t n = 0;
    n += (size_t)snprintf(many + n, sizeof many - n, "3>1 - h1 a - - - three\n");
    for (int i = 0; i < 40; i++)
        n += (size_t)snprintf(many + n, sizeof many - n, "<13>1 - h1 a - - - m%d\n", i);
    n += (size_t)snprintf(many + n, sizeof many - n, "<13>1 - h1 a - - - unterminated");
    send_all(fd, many, n);
    assert_int_equal(collect(in, r, 41, 3000), 41);
    assert_string_equal(r[0].msg, "three");
    assert_string_equal(r[40].msg, "m39");
    /* The unterminated last line is kept until the sender closes. */
    expect_nothing(in, 100);
    close(fd);
    assert_int_equal(collect(in, r, 1, 3000), 1);
    assert_string_equal(r[0].msg, "unterminated");
    expect_nothing(in, 50); /* the closed connection is freed on the call after its last frame */
    assert_int_equal(metric(in, "logflux_agent_syslog_connections"), 0);
    assert_int_equal(metric(in, "logflux_agent_syslog_connections_accepted_total"), 1);
    in->vt->destroy(in);
}

static void test_tcp_octet_and_limits(void **state)
{
    (void)state;
    const char *kv[] = {"listen",  "127.0.0.1:0", "protocol",          "tcp",
                        "framing", "octet",       "max_message_bytes", "256"};
    lf_agent_input *in = make_input(kv, 8, NULL);
    assert_non_null(in);
    int fd = tcp_connect(lf_syslog_input_port(in));
    /* A frame split mid-length and mid-body, a frame over the maximum (dropped whole), and a
     * frame whose message contains an LF. */
    send_all(fd, "2", 1);
    expect_nothing(in, 50);
    send_all(fd, "3 <13>1 - h a - - - fi", 22);
    expect_nothing(in, 50);
    send_all(fd, "rst", 3);
    char big[400];
    int bl = snprintf(big, sizeof big, "300 <13>1 - h a - - - ");
    memset(big + bl, 'z', 300 - 18);
    bl += 300 - 18;
    send_all(fd, big, (size_t)bl);
    send_all(fd, "27 <13>1 - h a - - - two\nlines", 30);
    rec r[4];
    assert_int_equal(collect(in, r, 2, 3000), 2);
    assert_string_equal(r[0].msg, "first");
    assert_string_equal(r[1].msg, "two\nlines");
    assert_int_equal(metric(in, "logflux_agent_syslog_oversize_dropped_total"), 1);
    close(fd);
    expect_nothing(in, 100);
    in->vt->destroy(in);

    /* LF framing with the same limit: a long line is cut, the rest of it discarded. */
    const char *kv2[] = {"listen",  "127.0.0.1:0", "protocol",          "tcp",
                         "framing", "newline",     "max_message_bytes", "256"};
    in = make_input(kv2, 8, NULL);
    assert_non_null(in);
    fd = tcp_connect(lf_syslog_input_port(in));
    char line[700];
    memset(line, 'y', sizeof line);
    memcpy(line, "<13>1 - h a - - - ", 18);
    line[sizeof line - 1] = '\n';
    send_all(fd, line, sizeof line);
    send_all(fd, "<13>1 - h a - - - after\n", 24);
    assert_int_equal(collect(in, r, 2, 3000), 2);
    assert_true(r[0].truncated);
    assert_int_equal(r[0].len, 256 - 18);
    assert_string_equal(r[1].msg, "after");
    assert_false(r[1].truncated);
    assert_int_equal(metric(in, "logflux_agent_syslog_truncated_total"), 1);
    close(fd);
    in->vt->destroy(in);
}

static void test_tcp_many_connections(void **state)
{
    (void)state;
    const char *kv[] = {"listen", "127.0.0.1:0", "protocol", "tcp"};
    lf_agent_input *in = make_input(kv, 4, NULL);
    assert_non_null(in);
    uint16_t port = lf_syslog_input_port(in);
    enum { CONNS = 40, PER = 5 };
    int fds[CONNS];
    char names[CONNS][64];
    for (int i = 0; i < CONNS; i++) {
        fds[i] = tcp_connect(port);
        local_name(fds[i], names[i], sizeof names[i]);
    }
    for (int k = 0; k < PER; k++) {
        for (int i = 0; i < CONNS; i++) {
            char m[128];
            int l = snprintf(m, sizeof m, "<13>1 - h a - - - c%d-%d\n", i, k);
            send_all(fds[i], m, (size_t)l);
        }
    }
    static rec r[CONNS * PER];
    assert_int_equal(collect(in, r, CONNS * PER, 10000), CONNS * PER);
    /* Every message once, with its own connection's peer, in order per connection. */
    int next_k[CONNS] = {0};
    for (size_t j = 0; j < CONNS * PER; j++) {
        int c = -1, k = -1;
        assert_int_equal(sscanf(r[j].msg, "c%d-%d", &c, &k), 2);
        assert_true(c >= 0 && c < CONNS);
        assert_int_equal(k, next_k[c]);
        next_k[c]++;
        assert_string_equal(r[j].peer, names[c]);
    }
    assert_int_equal(metric(in, "logflux_agent_syslog_connections"), CONNS);
    for (int i = 0; i < CONNS; i++)
        close(fds[i]);
    expect_nothing(in, 100);
    assert_int_equal(metric(in, "logflux_agent_syslog_connections"), 0);
    in->vt->destroy(in);
}

static void test_tcp_connection_limit_and_idle(void **state)
{
    (void)state;
    const char *kv[] = {"listen",          "127.0.0.1:0", "protocol",     "tcp",
                        "max_connections", "2",           "idle_timeout", "300ms"};
    lf_agent_input *in = make_input(kv, 8, NULL);
    assert_non_null(in);
    uint16_t port = lf_syslog_input_port(in);
    int a = tcp_connect(port), b = tcp_connect(port);
    send_all(a, "<13>1 - h a - - - from a\n", 25);
    send_all(b, "<13>1 - h a - - - from b\n", 25);
    rec r[2];
    assert_int_equal(collect(in, r, 2, 3000), 2);
    /* A third connection is accepted and closed at once. */
    int c = tcp_connect(port);
    expect_nothing(in, 100);
    char buf[16];
    struct timeval tv = {5, 0};
    setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    assert_int_equal(recv(c, buf, sizeof buf, 0), 0);
    assert_int_equal(metric(in, "logflux_agent_syslog_connections_rejected_total"), 1);
    close(c);
    /* Idle connections are closed after the timeout; a pending partial line is kept. */
    send_all(a, "<13>1 - h a - - - partial", 25);
    assert_int_equal(collect(in, r, 1, 5000), 1);
    assert_string_equal(r[0].msg, "partial");
    setsockopt(b, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    int64_t end = mono_ms() + 5000;
    while (metric(in, "logflux_agent_syslog_connections") > 0 && mono_ms() < end)
        expect_nothing(in, 50);
    assert_int_equal(metric(in, "logflux_agent_syslog_connections"), 0);
    assert_int_equal(recv(b, buf, sizeof buf, 0), 0);
    assert_int_equal(metric(in, "logflux_agent_syslog_connections_idle_closed_total"), 2);
    close(a);
    close(b);
    in->vt->destroy(in);
}

static void test_stop_and_bad_options(void **state)
{
    (void)state;
    const char *kv[] = {"listen", "127.0.0.1:0"};
    lf_agent_input *in = make_input(kv, 2, NULL);
    assert_non_null(in);
    atomic_store(&g_stop, true);
    expect_nothing(in, 60000); /* returns at once: the stop flag wins over the timeout */
    atomic_store(&g_stop, false);
    in->vt->destroy(in);

    lf_error err;
    const char *bad1[] = {"listen", "localhost"};
    assert_null(make_input(bad1, 2, &err));
    assert_non_null(strstr(err.message, "host:port"));
    const char *bad2[] = {"listen", "127.0.0.1:99999"};
    assert_null(make_input(bad2, 2, &err));
    assert_non_null(strstr(err.message, "port"));
    const char *bad3[] = {"listen", "::1:514"};
    assert_null(make_input(bad3, 2, &err));
    const char *bad4[] = {"listen", "192.0.2.1:5514"}; /* not an address of this host */
    assert_null(make_input(bad4, 2, &err));
    assert_non_null(strstr(err.message, "bind"));
    const lf_agent_input_type *t = &lf_agent_input_type_syslog;
    void *cfg = calloc(1, t->config_size);
    assert_int_equal(lf_options_defaults(t->options, t->n_options, cfg, NULL), LF_OK);
    assert_int_not_equal(lf_options_set(t->options, t->n_options, cfg, "protocol", "sctp", NULL),
                         LF_OK);
    assert_int_not_equal(
        lf_options_set(t->options, t->n_options, cfg, "max_message_bytes", "1GiB", NULL), LF_OK);
    lf_options_free(t->options, t->n_options, cfg);
    free(cfg);
    assert_string_equal(t->type, "syslog");

    /* IPv6 loopback, if this host has it. */
    const char *v6[] = {"listen", "[::1]:0", "protocol", "tcp"};
    in = make_input(v6, 4, &err);
    if (in) {
        assert_true(lf_syslog_input_port(in) != 0);
        in->vt->destroy(in);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_framer_octet),
        cmocka_unit_test(test_framer_octet_limits_and_errors),
        cmocka_unit_test(test_framer_newline),
        cmocka_unit_test(test_framer_auto),
        cmocka_unit_test(test_udp),
        cmocka_unit_test(test_tcp_newline_split_writes),
        cmocka_unit_test(test_tcp_octet_and_limits),
        cmocka_unit_test(test_tcp_many_connections),
        cmocka_unit_test(test_tcp_connection_limit_and_idle),
        cmocka_unit_test(test_stop_and_bad_options),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

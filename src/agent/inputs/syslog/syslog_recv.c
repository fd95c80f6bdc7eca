/*
 * syslog_recv.c — the syslog input's next(): one parsed message per call.
 *
 * UDP: one datagram is one message; recvmsg without blocking, and poll(2) only when the
 * socket is empty. The kernel's count of datagrams dropped for a full receive buffer
 * (SO_RXQ_OVFL) arrives with each datagram and is kept as a metric.
 *
 * TCP: every connection has a read buffer and a frame decoder (syslog_framing.c). A call
 * first serves frames already buffered, round-robin over connections, and polls (listening
 * socket + connections) only when every buffer is drained; each readable connection then gets
 * one read. So a connection is read only while the pipeline asks for records: when the
 * pipeline blocks, nothing is read and the kernel pushes senders back (TCP flow control).
 *
 * Frames point into a connection's buffer and the parser may borrow from them: nothing is
 * read into, compacted or freed before the next call, which is the lifetime next() promises.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "parser.h"
#include "syslog_int.h"

/* poll(2) is woken at least this often to honour the stop flag. */
#define SYSLOG_STOP_CHECK_MS 100
/* Connections accepted per poll round, so a connect flood cannot starve the others. */
#define SYSLOG_ACCEPT_BURST 64

int64_t syslog_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t realtime_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Fill ev from one message's bytes: peer label, then the syslog parser; text that is not
 * syslog is kept whole as the message. */
static void fill_event(syslog_input *s, lf_agent_event *ev, const uint8_t *data, size_t len,
                       const char *peer, bool truncated)
{
    /* Senders differ in what ends a message: drop trailing LF, CR and NUL. */
    while (len > 0 && (data[len - 1] == '\n' || data[len - 1] == '\r' || data[len - 1] == '\0'))
        len--;
    s->stats.messages++;
    s->stats.bytes += len;
    lf_agent_event_set_label(ev, "peer", 4, peer, strlen(peer));
    if (truncated)
        lf_agent_event_set_label(ev, "truncated", 9, "true", 4);
    lf_error perr = {0};
    if (lf_parse_syslog((const char *)data, len, realtime_ns(), ev, &perr) != LF_OK) {
        s->stats.parse_errors++;
        ev->message = (const char *)data;
        ev->message_len = len;
    }
}

/* ---------------- UDP ---------------- */

static void note_drops(syslog_input *s, struct msghdr *mh)
{
#ifdef SO_RXQ_OVFL
    for (struct cmsghdr *c = CMSG_FIRSTHDR(mh); c; c = CMSG_NXTHDR(mh, c)) {
        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SO_RXQ_OVFL &&
            c->cmsg_len >= CMSG_LEN(sizeof(uint32_t))) {
            uint32_t total;
            memcpy(&total, CMSG_DATA(c), sizeof total);
            /* The kernel's counter is cumulative (and wraps at 2^32): add the difference. */
            s->stats.udp_kernel_drops += (uint32_t)(total - s->last_ovfl);
            s->last_ovfl = total;
        }
    }
#else
    (void)s;
    (void)mh;
#endif
}

/* One datagram, if there is one: true with ev filled. */
static bool udp_receive(syslog_input *s, lf_agent_event *ev)
{
    for (int tries = 0; tries < 64; tries++) {
        struct sockaddr_storage from;
        struct iovec iov = {s->dgram, s->max_msg};
        union {
            char buf[CMSG_SPACE(sizeof(uint32_t))];
            struct cmsghdr align;
        } ctl;
        struct msghdr mh = {0};
        mh.msg_name = &from;
        mh.msg_namelen = sizeof from;
        mh.msg_iov = &iov;
        mh.msg_iovlen = 1;
        mh.msg_control = ctl.buf;
        mh.msg_controllen = sizeof ctl.buf;
        ssize_t n = recvmsg(s->listen_fd, &mh, MSG_DONTWAIT);
        if (n < 0)
            return false; /* EAGAIN, or an error (e.g. ICMP-reported) to skip: poll again */
        note_drops(s, &mh);
        if (n == 0)
            continue; /* an empty datagram carries no message */
        bool truncated = (mh.msg_flags & MSG_TRUNC) != 0;
        if (truncated)
            s->stats.udp_truncated++;
        syslog_format_peer(&from, s->dgram_peer, sizeof s->dgram_peer);
        fill_event(s, ev, s->dgram, (size_t)n, s->dgram_peer, truncated);
        return true;
    }
    return false;
}

/* ---------------- TCP ---------------- */

void syslog_conn_close(syslog_input *s, syslog_conn *c)
{
    if (!c)
        return;
    if (c->fd >= 0)
        close(c->fd);
    lf_syslog_framer_stats *t = &s->closed_framer_stats;
    t->frames += c->framer.stats.frames;
    t->truncated += c->framer.stats.truncated;
    t->oversize_dropped += c->framer.stats.oversize_dropped;
    t->framing_errors += c->framer.stats.framing_errors;
    t->incomplete += c->framer.stats.incomplete;
    lf_syslog_framer_free(&c->framer);
    if (c->rbuf)
        lf_wipe(c->rbuf, SYSLOG_READ_CHUNK);
    free(c->rbuf);
    free(c);
}

/* Serve a frame buffered in c. */
static bool conn_produce(syslog_input *s, syslog_conn *c, lf_agent_event *ev)
{
    lf_syslog_frame fr;
    while (c->rpos < c->rlen) {
        size_t used = 0;
        bool got =
            lf_syslog_framer_push(&c->framer, c->rbuf + c->rpos, c->rlen - c->rpos, &used, &fr);
        c->rpos += used;
        if (got) {
            fill_event(s, ev, fr.data, fr.len, c->peer, fr.truncated);
            return true;
        }
        if (used == 0) { /* out of memory in the framer: give this connection up */
            c->dead = true;
            return false;
        }
    }
    if (c->eof && !c->dead) {
        c->dead = true;
        if (lf_syslog_framer_finish(&c->framer, &fr)) {
            fill_event(s, ev, fr.data, fr.len, c->peer, fr.truncated);
            return true;
        }
    }
    return false;
}

/* Round-robin over connections with buffered bytes (or a final flush). */
static bool tcp_produce(syslog_input *s, lf_agent_event *ev)
{
    for (size_t k = 0; k < s->n_conns; k++) {
        size_t i = (s->rr + k) % s->n_conns;
        syslog_conn *c = s->conns[i];
        if (c->dead || (c->rpos >= c->rlen && !c->eof))
            continue;
        if (conn_produce(s, c, ev)) {
            s->rr = (i + 1) % s->n_conns;
            return true;
        }
    }
    return false;
}

/* Close dead connections. Called only when no returned frame can still point into them. */
static void sweep(syslog_input *s)
{
    size_t kept = 0;
    for (size_t i = 0; i < s->n_conns; i++) {
        if (s->conns[i]->dead)
            syslog_conn_close(s, s->conns[i]);
        else
            s->conns[kept++] = s->conns[i];
    }
    s->n_conns = kept;
    if (s->rr >= kept)
        s->rr = 0;
}

static void tcp_accept(syslog_input *s)
{
    for (int k = 0; k < SYSLOG_ACCEPT_BURST; k++) {
        struct sockaddr_storage from;
        socklen_t fl = sizeof from;
        int fd = accept4(s->listen_fd, (struct sockaddr *)&from, &fl, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0)
            return;
        if (s->n_conns >= s->max_conns) {
            /* Accept-and-close rather than leave it in the backlog: the sender learns at once
             * and can retry or fail over. */
            s->stats.conns_rejected++;
            close(fd);
            continue;
        }
        syslog_conn *c = calloc(1, sizeof *c);
        uint8_t *buf = malloc(SYSLOG_READ_CHUNK);
        if (!c || !buf) {
            free(c);
            free(buf);
            close(fd);
            s->stats.conns_rejected++;
            continue;
        }
        c->fd = fd;
        c->rbuf = buf;
        c->last_active_ms = syslog_now_ms();
        syslog_format_peer(&from, c->peer, sizeof c->peer);
        lf_syslog_framer_init(&c->framer, s->framing, s->max_msg);
        s->conns[s->n_conns++] = c;
        s->stats.conns_accepted++;
    }
}

static void conn_read(syslog_conn *c, int64_t now)
{
    c->rpos = c->rlen = 0;
    ssize_t n = read(c->fd, c->rbuf, SYSLOG_READ_CHUNK);
    if (n > 0) {
        c->rlen = (size_t)n;
        c->last_active_ms = now;
    } else if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
        c->eof = true; /* closed or reset: what is buffered in the framer is flushed */
    }
}

/* Wait up to wait_ms for the listening socket or a connection, then accept and read. */
static void tcp_poll(syslog_input *s, int wait_ms)
{
    size_t n = 0;
    s->pfds[n++] = (struct pollfd){.fd = s->listen_fd, .events = POLLIN};
    for (size_t i = 0; i < s->n_conns; i++) {
        syslog_conn *c = s->conns[i];
        c->pfd_idx = 0;
        if (c->eof || c->dead)
            continue;
        c->pfd_idx = n;
        s->pfds[n++] = (struct pollfd){.fd = c->fd, .events = POLLIN};
    }
    int rc = poll(s->pfds, n, wait_ms);
    int64_t now = syslog_now_ms();
    if (rc > 0) {
        for (size_t i = 0; i < s->n_conns; i++) {
            syslog_conn *c = s->conns[i];
            if (c->pfd_idx > 0 && s->pfds[c->pfd_idx].revents)
                conn_read(c, now);
        }
        if (s->pfds[0].revents & POLLIN)
            tcp_accept(s);
    }
    if (s->idle_ms > 0) {
        for (size_t i = 0; i < s->n_conns; i++) {
            syslog_conn *c = s->conns[i];
            if (!c->eof && c->rpos >= c->rlen && now - c->last_active_ms > s->idle_ms) {
                c->eof = true; /* flushed like a close by the sender */
                s->stats.conns_idle_closed++;
            }
        }
    }
}

static bool produce(syslog_input *s, lf_agent_event *ev)
{
    return s->tcp ? tcp_produce(s, ev) : udp_receive(s, ev);
}

lf_err syslog_next(lf_agent_input *in, lf_agent_event *ev, int timeout_ms, lf_error *err)
{
    (void)err;
    syslog_input *s = (syslog_input *)in;
    int64_t deadline = syslog_now_ms() + (timeout_ms > 0 ? timeout_ms : 0);
    bool polled = false;
    /* The previous call's frame may live in a connection closed since: free it only now. */
    if (s->tcp)
        sweep(s);
    for (;;) {
        if (atomic_load(s->stop))
            return LF_ERR_NOT_FOUND;
        if (produce(s, ev))
            return LF_OK;
        if (s->tcp)
            sweep(s);
        int64_t left = deadline - syslog_now_ms();
        if (left <= 0 && polled)
            return LF_ERR_NOT_FOUND;
        int wait = left <= 0 ? 0 : left > SYSLOG_STOP_CHECK_MS ? SYSLOG_STOP_CHECK_MS : (int)left;
        if (s->tcp) {
            tcp_poll(s, wait);
        } else {
            struct pollfd p = {.fd = s->listen_fd, .events = POLLIN};
            (void)poll(&p, 1, wait);
        }
        polled = true;
    }
}

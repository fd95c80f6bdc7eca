/*
 * socket_recv.c — the agent socket's next(): one record per call.
 *
 * A call first hands out the rest of the current line's records (a batch line holds up to
 * LF_SOCKET_MAX_BATCH); then takes the next line from a client, round-robin: a ping or an
 * error is answered at once, an entry or batch becomes the current line. Only when no client
 * has a complete line buffered does it poll: the listening socket, clients it may read from
 * (not over their pending-ack or unread-reply bounds), and clients with replies to write.
 *
 * When every record of a line has been returned, the line joins its client's pending list;
 * commit() (socket.c) turns that list into acknowledgements.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "socket_int.h"

#define SOCK_STOP_CHECK_MS 100
#define SOCK_ACCEPT_BURST  64

int64_t sock_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void line_done(socket_input *s)
{
    sock_conn *c = s->cur_conn;
    if (c && s->acks && !c->dead) {
        /* Room is guaranteed: a line is taken only while n_pending < max_pending. */
        c->pending[c->n_pending].line = s->cur_line;
        c->pending[c->n_pending].records = (uint32_t)s->cur.n;
        c->n_pending++;
    }
}

static void release_current(socket_input *s)
{
    if (!s->cur_active)
        return;
    lf_socket_message_free(&s->cur);
    s->cur_active = false;
    s->cur_conn = NULL;
}

/* Answer or adopt one line. */
static void handle_line(socket_input *s, sock_conn *c, const char *line, size_t len)
{
    lf_error err = {0};
    char reply[LF_ERROR_MSG_MAX + 96];
    lf_socket_message m;
    if (lf_socket_message_decode(line, len, &m, &err) != LF_OK) {
        s->stats.errors++;
        /* The message names a field or a byte offset, never content: safe to echo as is,
         * but it must stay valid JSON. */
        json_t *msg = json_string(err.message);
        char *text = msg ? json_dumps(msg, JSON_ENCODE_ANY) : NULL;
        snprintf(reply, sizeof reply, "{\"status\":\"error\",\"line\":%llu,\"message\":%s}",
                 (unsigned long long)c->lines, text ? text : "\"invalid request\"");
        free(text);
        json_decref(msg);
        sock_conn_reply(c, reply);
        sock_conn_flush(c);
        return;
    }
    if (m.kind == LF_SOCKET_MSG_PING) {
        s->stats.pings++;
        sock_conn_reply(c, "{\"status\":\"pong\"}");
    } else if (m.kind == LF_SOCKET_MSG_AUTH) {
        sock_conn_reply(c, "{\"status\":\"success\",\"message\":\"no authentication needed "
                           "on the local socket\"}");
    } else {
        s->cur = m;
        s->cur_active = true;
        s->cur_idx = 0;
        s->cur_conn = c;
        s->cur_line = c->lines;
        return;
    }
    lf_socket_message_free(&m);
    sock_conn_flush(c);
}

/* Take one line from some client (round-robin). true if a line was handled. */
static bool take_any_line(socket_input *s)
{
    for (size_t k = 0; k < s->n_conns; k++) {
        size_t i = (s->rr + k) % s->n_conns;
        sock_conn *c = s->conns[i];
        const char *line;
        size_t len;
        if (!sock_conn_can_take(s, c) || !sock_conn_take_line(s, c, &line, &len))
            continue;
        s->rr = (i + 1) % s->n_conns;
        handle_line(s, c, line, len);
        return true;
    }
    return false;
}

static void sweep(socket_input *s)
{
    size_t kept = 0;
    for (size_t i = 0; i < s->n_conns; i++) {
        sock_conn *c = s->conns[i];
        if (sock_conn_finished(s, c)) {
            if (c == s->cur_conn)
                s->cur_conn = NULL;
            s->stats.acks_undeliverable += c->n_pending;
            sock_conn_free(c);
        } else {
            s->conns[kept++] = c;
        }
    }
    s->n_conns = kept;
    if (s->rr >= kept)
        s->rr = 0;
}

static void accept_clients(socket_input *s)
{
    for (int k = 0; k < SOCK_ACCEPT_BURST; k++) {
        int fd = accept4(s->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0)
            return;
        sock_conn *c = s->n_conns < s->max_conns ? sock_conn_new(fd) : NULL;
        if (c && s->acks && !(c->pending = calloc(s->max_pending, sizeof *c->pending))) {
            free(c);
            c = NULL;
        }
        if (!c) {
            /* Over the limit: tell the client why before closing (best effort). */
            static const char full[] =
                "{\"status\":\"error\",\"line\":0,\"message\":\"too many connections\"}\n";
            (void)send(fd, full, sizeof full - 1, MSG_NOSIGNAL | MSG_DONTWAIT);
            close(fd);
            s->stats.conns_rejected++;
            continue;
        }
        s->conns[s->n_conns++] = c;
        s->stats.conns_accepted++;
    }
}

static void poll_clients(socket_input *s, int wait_ms)
{
    size_t n = 0;
    s->pfds[n++] = (struct pollfd){.fd = s->listen_fd, .events = POLLIN};
    for (size_t i = 0; i < s->n_conns; i++) {
        sock_conn *c = s->conns[i];
        short ev = 0;
        c->pfd_idx = 0;
        if (!c->read_eof && sock_conn_can_take(s, c))
            ev |= POLLIN;
        if (c->out_pos < c->out.len)
            ev |= POLLOUT;
        /* A client we neither read nor write is left out: its hang-up is seen when we read
         * it again, and poll() does not spin on it meanwhile. */
        if (!ev || c->dead)
            continue;
        c->pfd_idx = n;
        s->pfds[n++] = (struct pollfd){.fd = c->fd, .events = ev};
    }
    if (poll(s->pfds, n, wait_ms) <= 0)
        return;
    for (size_t i = 0; i < s->n_conns; i++) {
        sock_conn *c = s->conns[i];
        if (!c->pfd_idx)
            continue;
        short re = s->pfds[c->pfd_idx].revents;
        if (re & POLLOUT)
            sock_conn_flush(c);
        if (re & (POLLIN | POLLHUP | POLLERR)) {
            if (s->pfds[c->pfd_idx].events & POLLIN)
                sock_conn_read(s, c);
            else if (re & (POLLHUP | POLLERR))
                c->dead = true; /* writing to a client that is gone */
        }
    }
    if (s->pfds[0].revents & POLLIN)
        accept_clients(s);
}

lf_err sock_next(lf_agent_input *in, lf_agent_event *ev, int timeout_ms, lf_error *err)
{
    (void)err;
    socket_input *s = (socket_input *)in;
    int64_t deadline = sock_now_ms() + (timeout_ms > 0 ? timeout_ms : 0);
    bool polled = false;
    for (;;) {
        if (atomic_load(s->stop))
            return LF_ERR_NOT_FOUND;
        if (s->cur_active && s->cur_idx < s->cur.n) {
            s->stats.labels_dropped += lf_socket_message_entry(&s->cur, s->cur_idx, ev);
            s->stats.records++;
            if (++s->cur_idx == s->cur.n)
                line_done(s);
            return LF_OK;
        }
        /* The previous call's record may borrow from the current line: free it only now. */
        release_current(s);
        if (take_any_line(s))
            continue;
        sweep(s);
        int64_t left = deadline - sock_now_ms();
        if (left <= 0 && polled)
            return LF_ERR_NOT_FOUND;
        poll_clients(s, left <= 0 ? 0 : left > SOCK_STOP_CHECK_MS ? SOCK_STOP_CHECK_MS : (int)left);
        polled = true;
    }
}

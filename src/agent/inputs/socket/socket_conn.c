/*
 * socket_conn.c — one client of the agent socket: its line buffer (bounded by
 * max_line_bytes: a longer line is answered with an error and skipped up to its '\n'), and
 * its queue of replies, written without blocking as the client reads them.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "socket_int.h"

sock_conn *sock_conn_new(int fd)
{
    sock_conn *c = calloc(1, sizeof *c);
    if (c)
        c->fd = fd;
    return c;
}

void sock_conn_free(sock_conn *c)
{
    if (!c)
        return;
    if (c->fd >= 0)
        close(c->fd);
    lf_buf_free_secret(&c->in); /* log text */
    lf_buf_free(&c->out);
    free(c->pending);
    free(c);
}

void sock_conn_reply(sock_conn *c, const char *json)
{
    if (c->dead)
        return;
    /* A reply that cannot be queued (out of memory) is lost; the connection is closed so that
     * the client does not wait for it forever. */
    if (lf_buf_append_str(&c->out, json) != LF_OK || lf_buf_append_u8(&c->out, '\n') != LF_OK)
        c->dead = true;
}

void sock_conn_flush(sock_conn *c)
{
    while (!c->dead && c->out_pos < c->out.len) {
        ssize_t n = send(c->fd, c->out.data + c->out_pos, c->out.len - c->out_pos,
                         MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n > 0) {
            c->out_pos += (size_t)n;
        } else if (n < 0 && errno == EINTR) {
            continue;
        } else {
            if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
                return;
            c->dead = true; /* the client is gone: EPIPE, ECONNRESET */
        }
    }
    if (c->out_pos == c->out.len)
        c->out_pos = c->out.len = 0;
}

void sock_conn_read(socket_input *s, sock_conn *c)
{
    if (c->in_pos > 0) { /* keep the buffer's unconsumed bytes at its start */
        memmove(c->in.data, c->in.data + c->in_pos, c->in.len - c->in_pos);
        c->in.len -= c->in_pos;
        c->in_pos = 0;
    }
    if (lf_buf_reserve(&c->in, SOCK_READ_CHUNK) != LF_OK) {
        c->dead = true;
        return;
    }
    ssize_t n = read(c->fd, c->in.data + c->in.len, SOCK_READ_CHUNK);
    if (n > 0)
        c->in.len += (size_t)n;
    else if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR))
        c->read_eof = true;
    (void)s;
}

static void reply_too_long(socket_input *s, sock_conn *c)
{
    char msg[160];
    c->lines++;
    s->stats.lines++;
    s->stats.too_long++;
    snprintf(msg, sizeof msg,
             "{\"status\":\"error\",\"line\":%llu,\"message\":\"line exceeds %zu bytes\"}",
             (unsigned long long)c->lines, s->max_line);
    sock_conn_reply(c, msg);
}

bool sock_conn_take_line(socket_input *s, sock_conn *c, const char **line, size_t *len)
{
    if (!c->in.data)
        return false; /* nothing read yet */
    for (;;) {
        size_t avail = c->in.len - c->in_pos;
        const uint8_t *start = c->in.data + c->in_pos;
        const uint8_t *nl =
            avail > c->scanned ? memchr(start + c->scanned, '\n', avail - c->scanned) : NULL;
        if (!nl) {
            c->scanned = avail;
            if (c->discarding) {
                c->in_pos = c->in.len; /* still inside the long line: drop what came */
                c->scanned = 0;
                return false;
            }
            if (avail > s->max_line) {
                reply_too_long(s, c);
                c->discarding = true;
                c->in_pos = c->in.len;
                c->scanned = 0;
                return false;
            }
            if (!c->read_eof || avail == 0)
                return false;
            nl = start + avail; /* the client closed after a last line without '\n' */
        }
        size_t n = (size_t)(nl - start);
        c->in_pos += nl < start + avail ? n + 1 : n;
        c->scanned = 0;
        if (c->discarding) {
            c->discarding = false;
            continue;
        }
        if (n > s->max_line) {
            reply_too_long(s, c);
            continue;
        }
        if (n > 0 && start[n - 1] == '\r')
            n--;
        size_t blank = 0;
        while (blank < n && (start[blank] == ' ' || start[blank] == '\t'))
            blank++;
        if (blank == n)
            continue; /* an empty line is no request */
        c->lines++;
        s->stats.lines++;
        *line = (const char *)start;
        *len = n;
        return true;
    }
}

bool sock_conn_can_take(const socket_input *s, const sock_conn *c)
{
    if (c->dead)
        return false;
    if (s->acks && c->n_pending >= s->max_pending)
        return false;
    return c->out.len - c->out_pos <= SOCK_MAX_OUT;
}

bool sock_conn_finished(const socket_input *s, const sock_conn *c)
{
    if (c->dead)
        return true;
    return c->read_eof && c->in_pos == c->in.len && c->n_pending == 0 && c->out_pos == c->out.len &&
           c != s->cur_conn;
}

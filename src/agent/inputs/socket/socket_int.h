/*
 * socket_int.h — internal state of the agent-socket input, shared by socket.c (type, options,
 * lifecycle, commit, metrics), socket_listen.c (the Unix socket file), socket_conn.c (one
 * client: lines in, replies out) and socket_recv.c (the next() loop). Not a public header.
 */
#ifndef LF_AGENT_SOCKET_INT_H
#define LF_AGENT_SOCKET_INT_H

#include <poll.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "input.h"
#include "socket.h"
#include "socket_message.h"

/* Bytes read from a client at once. */
#define SOCK_READ_CHUNK (64u * 1024u)
/* Replies a client has not read yet beyond which we stop reading its lines: a client that
 * never reads its acknowledgements is pushed back rather than buffered without bound. */
#define SOCK_MAX_OUT (256u * 1024u)

typedef struct socket_config {
    char *path;
    char *mode;
    uint64_t max_line_bytes;
    int64_t max_connections;
    int64_t max_pending_acks;
    bool acks;
} socket_config;

/* A line whose records were all returned by next(), waiting for commit() to be acknowledged. */
typedef struct sock_pending {
    uint64_t line;
    uint32_t records;
} sock_pending;

typedef struct sock_conn {
    int fd;
    lf_buf in; /* unconsumed bytes are in.data[in_pos..in.len) */
    size_t in_pos;
    size_t scanned;  /* bytes after in_pos known to hold no '\n' */
    bool discarding; /* inside a line over the limit: drop up to the next '\n' */
    bool read_eof;
    bool dead;
    lf_buf out; /* replies not yet written: out.data[out_pos..out.len) */
    size_t out_pos;
    uint64_t lines; /* lines received so far (the "line" number in replies) */
    sock_pending *pending;
    size_t n_pending;
    size_t pfd_idx; /* slot in pfds during a poll round; 0 = not polled */
} sock_conn;

typedef struct sock_stats {
    uint64_t lines, records, errors, too_long, pings;
    uint64_t acks_sent, acks_undeliverable, labels_dropped;
    uint64_t conns_accepted, conns_rejected;
} sock_stats;

typedef struct socket_input {
    lf_agent_input base;
    const atomic_bool *stop;
    char *path;
    dev_t sock_dev;
    ino_t sock_ino; /* the socket file we created (removed at destroy only if still ours) */
    int listen_fd;
    size_t max_line, max_conns, max_pending;
    bool acks;
    sock_conn **conns;
    size_t n_conns, rr;
    struct pollfd *pfds; /* max_conns + 1 */
    /* The line whose records next() is handing out. */
    lf_socket_message cur;
    bool cur_active;
    size_t cur_idx;
    sock_conn *cur_conn; /* NULL once its client is gone (its records still count) */
    uint64_t cur_line;
    sock_stats stats;
} socket_input;

int64_t sock_now_ms(void);

/* socket_listen.c */
/* Parse an octal mode ("0660"). */
lf_err sock_parse_mode(const char *text, mode_t *out, lf_error *err);
/* Create the parent directory, replace a stale socket file, bind, chmod, listen. */
lf_err sock_listen(socket_input *s, const char *path, mode_t mode, lf_error *err);
/* Remove the socket file if it is still the one we created. */
void sock_unlink(socket_input *s);

/* socket_conn.c */
sock_conn *sock_conn_new(int fd);
void sock_conn_free(sock_conn *c);
/* Read once into the line buffer (non-blocking). */
void sock_conn_read(socket_input *s, sock_conn *c);
/* The next complete line, if any: *line and *len point into c->in until the next read. */
bool sock_conn_take_line(socket_input *s, sock_conn *c, const char **line, size_t *len);
/* May we take another line from c now (limits on pending acks and unread replies)? */
bool sock_conn_can_take(const socket_input *s, const sock_conn *c);
/* Queue a reply line (JSON text without '\n'). */
void sock_conn_reply(sock_conn *c, const char *json);
/* Write what is queued, without blocking. A failed write marks the connection dead. */
void sock_conn_flush(sock_conn *c);
/* Nothing left to do for c: its client is done, everything answered. */
bool sock_conn_finished(const socket_input *s, const sock_conn *c);

/* socket_recv.c */
lf_err sock_next(lf_agent_input *in, lf_agent_event *ev, int timeout_ms, lf_error *err);

#endif

/*
 * socket.c — the agent-socket input as the agent sees it: option table, creation, commit
 * (where acknowledgements are written), metrics and the vtable. Lines and replies are in
 * socket_conn.c, the next() loop in socket_recv.c, the socket file in socket_listen.c.
 *
 * Delivery: an entry or batch line is acknowledged only by commit(), i.e. once the pipeline
 * has made every record next() returned durable in the disk buffer. No cursor: a client
 * whose line was not acknowledged before a crash sends it again (at-least-once, decided by
 * the client), so there is nothing for the agent to replay.
 */
#define _GNU_SOURCE
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "socket_int.h"

static const lf_option socket_options[] = {
    {"path", LF_OPT_STRING, "/run/logflux-agent/agent.sock", 0, 0, NULL,
     offsetof(socket_config, path),
     "Unix socket path. Its directory is created if missing; a stale socket file left by a "
     "dead agent is replaced; any other existing file is an error."},
    {"mode", LF_OPT_STRING, "0660", 0, 0, NULL, offsetof(socket_config, mode),
     "Permissions of the socket file (octal). Whoever may connect may send logs in this "
     "agent's name."},
    {"max_line_bytes", LF_OPT_SIZE, "1MiB", 1024, 16 << 20, NULL,
     offsetof(socket_config, max_line_bytes),
     "Longest request line; a longer one is answered with an error and skipped."},
    {"max_connections", LF_OPT_INT, "256", 1, 65536, NULL, offsetof(socket_config, max_connections),
     "Clients served at once; further ones get an error line and are closed."},
    {"max_pending_acks", LF_OPT_INT, "1024", 1, 1 << 20, NULL,
     offsetof(socket_config, max_pending_acks),
     "Lines per client whose records were taken but not yet made durable; at the limit the "
     "client's further lines wait (it is pushed back) until the next commit."},
    {"acks", LF_OPT_BOOL, "false", 0, 0, NULL, offsetof(socket_config, acks),
     "Acknowledge each entry/batch line once it is durable, for clients that wait for that "
     "and resend what was not acknowledged. Off by default: the LogFlux SDKs' agent clients "
     "never read acks and would be pushed back once 256 KiB of them were unread."},
};

static lf_err socket_validate(const void *config, lf_error *err)
{
    const socket_config *c = config;
    mode_t mode;
    if (!c->path || !c->path[0])
        return lf_error_set(err, LF_ERR_INVALID, "socket: path is required");
    if (strlen(c->path) >= 108)
        return lf_error_set(err, LF_ERR_INVALID, "socket: path is longer than 107 bytes");
    return sock_parse_mode(c->mode, &mode, err);
}

static void socket_destroy(lf_agent_input *in)
{
    socket_input *s = (socket_input *)in;
    if (!s)
        return;
    if (s->cur_active)
        lf_socket_message_free(&s->cur);
    for (size_t i = 0; i < s->n_conns; i++)
        sock_conn_free(s->conns[i]);
    free(s->conns);
    free(s->pfds);
    if (s->listen_fd >= 0) {
        close(s->listen_fd);
        sock_unlink(s);
    }
    free(s->path);
    free(s);
}

static lf_err socket_commit(lf_agent_input *in, lf_error *err)
{
    (void)err;
    socket_input *s = (socket_input *)in;
    char reply[128];
    for (size_t i = 0; i < s->n_conns; i++) {
        sock_conn *c = s->conns[i];
        if (c->dead) {
            s->stats.acks_undeliverable += c->n_pending;
            c->n_pending = 0;
            continue;
        }
        for (size_t k = 0; k < c->n_pending; k++) {
            snprintf(reply, sizeof reply, "{\"status\":\"ok\",\"line\":%llu,\"accepted\":%u}",
                     (unsigned long long)c->pending[k].line, c->pending[k].records);
            sock_conn_reply(c, reply);
            s->stats.acks_sent++;
        }
        c->n_pending = 0;
        sock_conn_flush(c);
    }
    return LF_OK;
}

static lf_err socket_restore(lf_agent_input *in, const uint8_t *cursor, size_t len, lf_error *err)
{
    /* Nothing to restore: the socket writes no cursor (clients resend what was not acked). */
    (void)in;
    (void)cursor;
    (void)len;
    (void)err;
    return LF_OK;
}

static void socket_write_metrics(lf_agent_input *in, lf_buf *out)
{
    socket_input *s = (socket_input *)in;
    const char *n = s->base.name;
    const sock_stats *st = &s->stats;
    lf_agent_input_metric(out, "logflux_agent_socket_lines_total", n, st->lines);
    lf_agent_input_metric(out, "logflux_agent_socket_records_total", n, st->records);
    lf_agent_input_metric(out, "logflux_agent_socket_errors_total", n, st->errors);
    lf_agent_input_metric(out, "logflux_agent_socket_too_long_total", n, st->too_long);
    lf_agent_input_metric(out, "logflux_agent_socket_pings_total", n, st->pings);
    lf_agent_input_metric(out, "logflux_agent_socket_acks_total", n, st->acks_sent);
    lf_agent_input_metric(out, "logflux_agent_socket_acks_undeliverable_total", n,
                          st->acks_undeliverable);
    lf_agent_input_metric(out, "logflux_agent_socket_labels_dropped_total", n, st->labels_dropped);
    lf_agent_input_metric(out, "logflux_agent_socket_connections_accepted_total", n,
                          st->conns_accepted);
    lf_agent_input_metric(out, "logflux_agent_socket_connections_rejected_total", n,
                          st->conns_rejected);
    lf_agent_input_metric(out, "logflux_agent_socket_connections", n, s->n_conns);
}

static const lf_agent_input_vtable socket_vtable = {
    .next = sock_next,
    .cursor = NULL,
    .commit = socket_commit,
    .restore = socket_restore,
    .write_metrics = socket_write_metrics,
    .destroy = socket_destroy,
};

static lf_err socket_create(const lf_agent_input_common *common, const void *config,
                            lf_agent_input **out, lf_error *err)
{
    const socket_config *c = config;
    lf_err e = socket_validate(config, err);
    if (e != LF_OK)
        return e;
    mode_t mode = 0660;
    (void)sock_parse_mode(c->mode, &mode, NULL);
    socket_input *s = calloc(1, sizeof *s);
    if (!s)
        return lf_error_set(err, LF_ERR_NOMEM, "socket: out of memory");
    s->base.vt = &socket_vtable;
    snprintf(s->base.name, sizeof s->base.name, "%s", common->name ? common->name : "socket");
    atomic_init(&s->base.finished, false);
    s->stop = common->stop;
    s->listen_fd = -1;
    s->max_line = (size_t)c->max_line_bytes;
    s->max_conns = c->max_connections > 0 ? (size_t)c->max_connections : 256;
    s->max_pending = c->max_pending_acks > 0 ? (size_t)c->max_pending_acks : 1024;
    s->acks = c->acks;
    s->path = strdup(c->path);
    s->conns = calloc(s->max_conns, sizeof *s->conns);
    s->pfds = calloc(s->max_conns + 1, sizeof *s->pfds);
    if (!s->path || !s->conns || !s->pfds) {
        e = lf_error_set(err, LF_ERR_NOMEM, "socket: out of memory");
        goto fail;
    }
    if ((e = sock_listen(s, s->path, mode, err)) != LF_OK)
        goto fail;
    *out = &s->base;
    return LF_OK;
fail:
    socket_destroy(&s->base);
    return e;
}

const lf_agent_input_type lf_agent_input_type_socket = {
    .type = "socket",
    .summary = "The LogFlux agent socket: a Unix stream socket on which applications send "
               "newline-delimited JSON (the LogFlux SDKs' agent entries and batches, pings, or "
               "plain {message, level, labels, timestamp} objects). Each entry or batch line "
               "is acknowledged only once its records are durable in the disk buffer.",
    .options = socket_options,
    .n_options = sizeof socket_options / sizeof socket_options[0],
    .config_size = sizeof(socket_config),
    .validate = socket_validate,
    .create = socket_create,
};

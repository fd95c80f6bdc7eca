/*
 * syslog.c — the syslog input as the agent sees it: its option table, validation, creation,
 * the vtable and its metrics. Receiving is in syslog_recv.c, the socket in syslog_listen.c.
 *
 * No cursor and nothing to commit: UDP cannot be replayed, and a syslog TCP sender gets no
 * application-level acknowledgement to withhold (docs/AGENT-SYSLOG.md, "Delivery").
 */
#define _GNU_SOURCE
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "syslog_int.h"

static const lf_option syslog_options[] = {
    {"listen", LF_OPT_STRING, "127.0.0.1:5514", 0, 0, NULL, offsetof(syslog_config, listen),
     "Address to listen on, host:port or [ipv6]:port. Loopback by default; use 0.0.0.0:514 to "
     "receive from the network (port 514 needs CAP_NET_BIND_SERVICE)."},
    {"protocol", LF_OPT_ENUM, "udp", 0, 0, "udp|tcp", offsetof(syslog_config, protocol),
     "Transport. For both, configure two syslog inputs on the same address."},
    {"framing", LF_OPT_ENUM, "auto", 0, 0, "auto|octet|newline", offsetof(syslog_config, framing),
     "TCP framing (RFC 6587): octet counting (\"LEN MSG\"), LF-terminated lines, or auto: "
     "decided per connection by its first byte (a digit means octet counting)."},
    {"max_message_bytes", LF_OPT_SIZE, "64KiB", 256, 16 << 20, NULL,
     offsetof(syslog_config, max_message_bytes),
     "Longest message. UDP datagrams and TCP lines beyond it are cut (and counted); "
     "octet-counted TCP frames beyond it are dropped whole (and counted)."},
    {"max_connections", LF_OPT_INT, "256", 1, 65536, NULL, offsetof(syslog_config, max_connections),
     "TCP connections served at once; further ones are accepted and closed at once (counted)."},
    {"idle_timeout", LF_OPT_DURATION, "5m", 0, 7LL * 86400 * 1000, NULL,
     offsetof(syslog_config, idle_timeout_ms),
     "A TCP connection silent this long is closed (its unterminated last line is kept). "
     "0 = never."},
    {"receive_buffer", LF_OPT_SIZE, "0", 0, 1 << 30, NULL, offsetof(syslog_config, receive_buffer),
     "UDP socket receive buffer (SO_RCVBUF); 0 = the system default. Raise it for bursts: "
     "datagrams that do not fit are dropped by the kernel (counted when the kernel says)."},
};

static lf_err syslog_validate(const void *config, lf_error *err)
{
    const syslog_config *c = config;
    char host[256], port[8];
    if (!c->listen || !c->listen[0])
        return lf_error_set(err, LF_ERR_INVALID, "syslog: listen is required");
    return syslog_split_hostport(c->listen, host, sizeof host, port, sizeof port, err);
}

static lf_syslog_framing framing_of(const char *name)
{
    if (name && strcmp(name, "octet") == 0)
        return LF_SYSLOG_FRAMING_OCTET;
    if (name && strcmp(name, "newline") == 0)
        return LF_SYSLOG_FRAMING_NEWLINE;
    return LF_SYSLOG_FRAMING_AUTO;
}

static void syslog_destroy(lf_agent_input *in)
{
    syslog_input *s = (syslog_input *)in;
    if (!s)
        return;
    for (size_t i = 0; i < s->n_conns; i++)
        syslog_conn_close(s, s->conns[i]);
    free(s->conns);
    free(s->pfds);
    if (s->dgram) {
        lf_wipe(s->dgram, s->max_msg);
        free(s->dgram);
    }
    if (s->listen_fd >= 0)
        close(s->listen_fd);
    free(s);
}

static lf_err syslog_restore(lf_agent_input *in, const uint8_t *cursor, size_t len, lf_error *err)
{
    /* Nothing to restore: syslog cannot be replayed (and writes no cursor). */
    (void)in;
    (void)cursor;
    (void)len;
    (void)err;
    return LF_OK;
}

static void syslog_write_metrics(lf_agent_input *in, lf_buf *out)
{
    syslog_input *s = (syslog_input *)in;
    lf_syslog_framer_stats f = s->closed_framer_stats;
    for (size_t i = 0; i < s->n_conns; i++) {
        const lf_syslog_framer_stats *c = &s->conns[i]->framer.stats;
        f.truncated += c->truncated;
        f.oversize_dropped += c->oversize_dropped;
        f.framing_errors += c->framing_errors;
        f.incomplete += c->incomplete;
    }
    const char *n = s->base.name;
    const syslog_stats *st = &s->stats;
    lf_agent_input_metric(out, "logflux_agent_syslog_messages_total", n, st->messages);
    lf_agent_input_metric(out, "logflux_agent_syslog_bytes_total", n, st->bytes);
    lf_agent_input_metric(out, "logflux_agent_syslog_parse_errors_total", n, st->parse_errors);
    lf_agent_input_metric(out, "logflux_agent_syslog_truncated_total", n,
                          st->udp_truncated + f.truncated);
    if (s->tcp) {
        lf_agent_input_metric(out, "logflux_agent_syslog_oversize_dropped_total", n,
                              f.oversize_dropped);
        lf_agent_input_metric(out, "logflux_agent_syslog_framing_errors_total", n,
                              f.framing_errors);
        lf_agent_input_metric(out, "logflux_agent_syslog_incomplete_frames_total", n, f.incomplete);
        lf_agent_input_metric(out, "logflux_agent_syslog_connections_accepted_total", n,
                              st->conns_accepted);
        lf_agent_input_metric(out, "logflux_agent_syslog_connections_rejected_total", n,
                              st->conns_rejected);
        lf_agent_input_metric(out, "logflux_agent_syslog_connections_idle_closed_total", n,
                              st->conns_idle_closed);
        lf_agent_input_metric(out, "logflux_agent_syslog_connections", n, s->n_conns);
    } else {
        lf_agent_input_metric(out, "logflux_agent_syslog_udp_kernel_drops_total", n,
                              st->udp_kernel_drops);
    }
}

static const lf_agent_input_vtable syslog_vtable = {
    .next = syslog_next,
    .cursor = NULL,
    .commit = NULL,
    .restore = syslog_restore,
    .write_metrics = syslog_write_metrics,
    .destroy = syslog_destroy,
};

static lf_err syslog_create(const lf_agent_input_common *common, const void *config,
                            lf_agent_input **out, lf_error *err)
{
    const syslog_config *c = config;
    lf_err e = syslog_validate(config, err);
    if (e != LF_OK)
        return e;
    syslog_input *s = calloc(1, sizeof *s);
    if (!s)
        return lf_error_set(err, LF_ERR_NOMEM, "syslog: out of memory");
    s->base.vt = &syslog_vtable;
    snprintf(s->base.name, sizeof s->base.name, "%s", common->name ? common->name : "syslog");
    atomic_init(&s->base.finished, false);
    s->stop = common->stop;
    s->listen_fd = -1;
    s->tcp = c->protocol && strcmp(c->protocol, "tcp") == 0;
    s->framing = framing_of(c->framing);
    s->max_msg = c->max_message_bytes ? (size_t)c->max_message_bytes : 65536;
    s->max_conns = c->max_connections > 0 ? (size_t)c->max_connections : 256;
    s->idle_ms = c->idle_timeout_ms;
    if (s->tcp) {
        s->conns = calloc(s->max_conns, sizeof *s->conns);
        s->pfds = calloc(s->max_conns + 1, sizeof *s->pfds);
        if (!s->conns || !s->pfds) {
            e = lf_error_set(err, LF_ERR_NOMEM, "syslog: out of memory");
            goto fail;
        }
    } else if (!(s->dgram = malloc(s->max_msg))) {
        e = lf_error_set(err, LF_ERR_NOMEM, "syslog: out of memory");
        goto fail;
    }
    if ((e = syslog_listen(s, c->listen, c->receive_buffer, err)) != LF_OK)
        goto fail;
    *out = &s->base;
    return LF_OK;
fail:
    syslog_destroy(&s->base);
    return e;
}

uint16_t lf_syslog_input_port(const lf_agent_input *in)
{
    if (!in || in->vt != &syslog_vtable)
        return 0;
    return ((const syslog_input *)in)->port;
}

const lf_agent_input_type lf_agent_input_type_syslog = {
    .type = "syslog",
    .summary = "Receives syslog messages (RFC 5424 and RFC 3164) over UDP, or over TCP with "
               "octet-counted or LF-terminated framing (RFC 6587). Each message is parsed "
               "(time, level, host, app, structured data) and labelled with its sender's "
               "address (`peer`); text that is not syslog is kept whole.",
    .options = syslog_options,
    .n_options = sizeof syslog_options / sizeof syslog_options[0],
    .config_size = sizeof(syslog_config),
    .validate = syslog_validate,
    .create = syslog_create,
};

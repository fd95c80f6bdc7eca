/*
 * syslog_int.h — internal state of the syslog input, shared by syslog.c (type, options,
 * lifecycle, metrics), syslog_listen.c (address parsing and the listening socket) and
 * syslog_recv.c (the next() loop: UDP datagrams, TCP connections). Not a public header.
 */
#ifndef LF_AGENT_SYSLOG_INT_H
#define LF_AGENT_SYSLOG_INT_H

#include <poll.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "input.h"
#include "syslog.h"
#include "syslog_framing.h"

/* Longest "ip:port" / "[ipv6]:port" text. */
#define SYSLOG_PEER_MAX 64
/* Bytes read from a TCP connection at once (frames spanning reads are gathered by the
 * framer, so this bounds nothing but the syscall count). */
#define SYSLOG_READ_CHUNK (32u * 1024u)

typedef struct syslog_config {
    char *listen;
    char *protocol;
    char *framing;
    uint64_t max_message_bytes;
    int64_t max_connections;
    int64_t idle_timeout_ms;
    uint64_t receive_buffer;
} syslog_config;

typedef struct syslog_conn {
    int fd;
    char peer[SYSLOG_PEER_MAX];
    lf_syslog_framer framer;
    uint8_t *rbuf; /* unconsumed bytes are rbuf[rpos..rlen) */
    size_t rpos, rlen;
    int64_t last_active_ms;
    size_t pfd_idx; /* its slot in pfds during a poll round; 0 = not polled */
    bool eof;       /* no more reads: drain the buffer, flush the framer, then close */
    bool dead;      /* to be closed at the next sweep */
} syslog_conn;

typedef struct syslog_stats {
    uint64_t messages, bytes, parse_errors;
    uint64_t udp_truncated, udp_kernel_drops;
    uint64_t conns_accepted, conns_rejected, conns_idle_closed;
} syslog_stats;

typedef struct syslog_input {
    lf_agent_input base;
    const atomic_bool *stop;
    bool tcp;
    lf_syslog_framing framing;
    size_t max_msg;
    size_t max_conns;
    int64_t idle_ms; /* 0 = never */
    int listen_fd;
    uint16_t port;
    /* UDP */
    uint8_t *dgram; /* max_msg bytes */
    char dgram_peer[SYSLOG_PEER_MAX];
    uint32_t last_ovfl; /* the kernel's drop counter (SO_RXQ_OVFL) last seen */
    /* TCP */
    syslog_conn **conns;
    size_t n_conns, rr;
    struct pollfd *pfds;                        /* max_conns + 1 */
    lf_syslog_framer_stats closed_framer_stats; /* of connections already closed */
    syslog_stats stats;
} syslog_input;

int64_t syslog_now_ms(void);

/* syslog_listen.c */
/* Split "host:port" / "[v6]:port"; host and port are NUL-terminated copies. */
lf_err syslog_split_hostport(const char *text, char *host, size_t host_cap, char *port,
                             size_t port_cap, lf_error *err);
/* Bind (and for TCP listen on) the configured address; sets listen_fd and port. */
lf_err syslog_listen(syslog_input *s, const char *addr, uint64_t rcvbuf, lf_error *err);
/* "ip:port" of a socket address. */
void syslog_format_peer(const void *sa, char *out, size_t cap);

/* syslog_recv.c */
lf_err syslog_next(lf_agent_input *in, lf_agent_event *ev, int timeout_ms, lf_error *err);
void syslog_conn_close(syslog_input *s, syslog_conn *c);

#endif

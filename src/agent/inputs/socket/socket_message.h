/*
 * socket_message.h — decoding one line of the LogFlux agent socket protocol (newline-delimited
 * JSON, as written by the LogFlux SDKs' agent clients) into log records. Pure: no I/O; bounded
 * by the line (<= the input's max_line_bytes) and LF_SOCKET_MAX_BATCH. Fuzzed by
 * tests/fuzz/fuzz_agent_socket_message.c.
 *
 * Accepted lines (one JSON object each; docs/AGENT-SOCKET.md has the full field table):
 *   entry   {"version":"1.0","payload":"text","source":"api","timestamp":"RFC 3339",
 *            "logLevel":1..8,"entryType":1,"payloadType":"generic","metadata":{"k":"v"}}
 *   plain   {"message":"text","level":"error"|4,"ts"|"timestamp":...,"source":...,
 *            "logger":...,"labels"|"attributes":{"k":"v"}}
 *   batch   {"version":"1.0","entries":[entry or plain, ...]}   (1..LF_SOCKET_MAX_BATCH)
 *   ping    {"action":"ping"}            answered {"status":"pong"}
 *   auth    {"action":"authenticate",...} answered success: a Unix socket needs none
 * A batch is all or nothing: one bad entry refuses the whole line, so an error line always
 * means "nothing of this line was taken".
 */
#ifndef LF_AGENT_SOCKET_MESSAGE_H
#define LF_AGENT_SOCKET_MESSAGE_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "event.h"
#include "logflux/error.h"

#ifdef __cplusplus
extern "C" {
#endif

#define LF_SOCKET_MAX_BATCH 1000

typedef enum lf_socket_msg_kind {
    LF_SOCKET_MSG_ENTRIES = 1,
    LF_SOCKET_MSG_PING,
    LF_SOCKET_MSG_AUTH,
} lf_socket_msg_kind;

typedef struct lf_socket_message {
    lf_socket_msg_kind kind;
    json_t *root;    /* owned */
    json_t *entries; /* a batch's array (borrowed from root); NULL: root is the one entry */
    size_t n;        /* records (0 for ping/auth) */
    int64_t *ts;     /* a batch's n event times, parsed while validating (Unix ns, 0 = none) */
    int64_t ts_one;  /* a single entry's time (ts is NULL): the struct may be copied */
} lf_socket_message;

/* Decode and validate one line (without its newline). LF_ERR_INVALID with a message fit to send
 * back to the client (it names the field and entry index, never quotes the content). On
 * success free the message with lf_socket_message_free. */
lf_err lf_socket_message_decode(const char *line, size_t len, lf_socket_message *m, lf_error *err);

/* Fill ev (reset by the caller) from record i < m->n. The message text is borrowed from m:
 * valid until lf_socket_message_free. Labels beyond the event's 20 are dropped (returns how
 * many were). */
size_t lf_socket_message_entry(const lf_socket_message *m, size_t i, lf_agent_event *ev);

void lf_socket_message_free(lf_socket_message *m);

#ifdef __cplusplus
}
#endif
#endif

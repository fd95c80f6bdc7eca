/*
 * event.h — one log record inside the agent, between an input and the pipeline.
 *
 * An input fills an lf_agent_event (its transport format already decoded: the line of a file,
 * the MESSAGE of a journal entry, the msg of a syslog packet, the "log" of a Docker line); the
 * pipeline then applies the input's configured parser, detects the level if still unknown,
 * adds the configured labels, and encodes a schema 2.0 log payload (include/logflux/payload.h).
 *
 * Storage: labels and source are fixed arrays inside the event (the payload's own limits), so
 * one event per input thread is reused without allocating. The message is either borrowed
 * (`message` points into the input's or parser's memory, valid until the next call on it) or
 * owned (copied into `message_buf` with lf_agent_event_set_message_copy). Text need not be
 * valid UTF-8 or NUL-terminated: the pipeline repairs invalid UTF-8 (U+FFFD) when encoding.
 */
#ifndef LF_AGENT_EVENT_H
#define LF_AGENT_EVENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "logflux/buf.h"
#include "logflux/error.h"
#include "logflux/payload.h"

#ifdef __cplusplus
extern "C" {
#endif

#define LF_AGENT_EVENT_MAX_LABELS LF_PAYLOAD_MAX_ATTRS /* 20 */

typedef struct lf_agent_label {
    char key[LF_PAYLOAD_MAX_KEY + 1];     /* [A-Za-z0-9_.-], 1..64 bytes */
    char value[LF_PAYLOAD_MAX_VALUE + 1]; /* <= 256 bytes (cut at a UTF-8 boundary) */
} lf_agent_label;

typedef struct lf_agent_event {
    int64_t ts_ns;       /* event time, Unix ns; 0 = unknown (the pipeline uses the read time) */
    int level;           /* LF_LEVEL_* (1..8); 0 = unknown (the pipeline detects, else info) */
    const char *message; /* borrowed or pointing into message_buf; need not be NUL-terminated */
    size_t message_len;
    lf_buf message_buf;                     /* owned storage for a rewritten message */
    char source[LF_PAYLOAD_MAX_SOURCE + 1]; /* "" = the input's name */
    char logger[LF_PAYLOAD_MAX_VALUE + 1];  /* "" = absent (journald unit, syslog app, ...) */
    lf_agent_label labels[LF_AGENT_EVENT_MAX_LABELS];
    size_t n_labels;
    bool partial; /* CRI "P" / Docker line without '\n': to be joined with the next event */
} lf_agent_event;

/* Clear every field for the next record; keeps message_buf's allocation. */
void lf_agent_event_reset(lf_agent_event *ev);
/* Free message_buf (wiped: it holds plaintext). */
void lf_agent_event_free(lf_agent_event *ev);

/* Copy `len` bytes into message_buf and point message at it. */
lf_err lf_agent_event_set_message_copy(lf_agent_event *ev, const void *data, size_t len,
                                       lf_error *err);
/* Set (or replace, same key) a label. Keys are sanitised: characters outside [A-Za-z0-9_.-]
 * become '_', cut to 64 bytes; values are cut to 256 bytes at a UTF-8 boundary. Returns false
 * (and changes nothing) when the key is empty or the event already holds 20 other labels. */
bool lf_agent_event_set_label(lf_agent_event *ev, const char *key, size_t key_len,
                              const char *value, size_t value_len);
/* The value of a label, or NULL. */
const char *lf_agent_event_label(const lf_agent_event *ev, const char *key);
/* Copy the source (cut to 256 bytes at a UTF-8 boundary). */
void lf_agent_event_set_source(lf_agent_event *ev, const char *s, size_t len);
void lf_agent_event_set_logger(lf_agent_event *ev, const char *s, size_t len);

/* Largest n <= len such that s[0..n) does not end inside a UTF-8 sequence. */
size_t lf_agent_utf8_cut(const char *s, size_t len, size_t max);

#ifdef __cplusplus
}
#endif
#endif

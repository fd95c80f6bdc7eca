/*
 * pipeline.h — one input's path from record to durable ciphertext:
 *
 *   input.next() -> parser -> level/time/labels -> schema 2.0 JSON -> batch (per input, one
 *   app) -> zstd + AES-256-GCM native block with the pinned customer key -> disk buffer
 *   (with the input's cursor) -> input.commit()
 *
 * Plaintext exists only in this thread's memory (wiped buffers); the disk sees sealed frames.
 * One pipeline per input, run by the input's own thread (lf_agent_pipeline_run), so nothing
 * here is shared but the buffer (which has its own lock) and the stats (atomics).
 *
 * A request body in the buffer is self-contained: the session's key frame, then the block,
 * then (when the session key rotates or the agent stops) the close frame. Repeating the key
 * frame in every body costs ~0.7 KiB per batch and means no body depends on another one
 * having arrived (a dead-lettered or dropped body cannot orphan later ones).
 */
#ifndef LF_AGENT_PIPELINE_H
#define LF_AGENT_PIPELINE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "buffer/buffer.h"
#include "input.h"
#include "logflux/crypto.h"
#include "options.h"
#include "parser.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct lf_agent_pipeline_options {
    const char *tenant;
    const char *app;
    const lf_pubkey *customer_key; /* borrowed: the pinned key records are sealed to */
    const lf_parser *parser;       /* borrowed; NULL = none */
    const lf_strmap *input_labels; /* borrowed; may be NULL */
    const lf_strmap *agent_labels; /* borrowed; may be NULL */
    lf_agent_buffer *buffer;       /* borrowed */
    const atomic_bool *stop;       /* borrowed: true = seal what is held, close, return */
    size_t max_records;            /* per block (1..100000) */
    size_t max_bytes;              /* plaintext JSON bytes per block */
    int64_t max_wait_ms;           /* a batch is sealed this long after its first record */
    int zstd_level;
    uint64_t rotate_records, rotate_bytes; /* new session key after either ... */
    int64_t rotate_after_ms;               /* ... or this long */
} lf_agent_pipeline_options;

/* Counters, readable from any thread. */
typedef struct lf_agent_pipeline_stats {
    atomic_uint_fast64_t records_in;     /* returned by the input */
    atomic_uint_fast64_t records_sealed; /* durable in the buffer */
    atomic_uint_fast64_t bytes_in;       /* message bytes of records_in */
    atomic_uint_fast64_t parse_errors;   /* the configured parser did not match */
    atomic_uint_fast64_t time_clamped;   /* event time outside the accepted window */
    atomic_uint_fast64_t truncated;      /* messages cut at 1 MiB */
    atomic_uint_fast64_t batches;        /* bodies appended */
    atomic_uint_fast64_t sealed_bytes;   /* their size */
    atomic_uint_fast64_t seal_ns;        /* time spent compressing + sealing blocks */
    atomic_uint_fast64_t blocked_ms;     /* time waiting for buffer space (policy block) */
    atomic_uint_fast64_t input_errors;   /* next() failures */
    atomic_uint_fast64_t append_errors;  /* buffer I/O failures (retried) */
    atomic_uint_fast64_t key_rotations;
    atomic_uint_fast64_t lost_at_stop; /* records that could not be made durable at shutdown */
    atomic_bool blocked;               /* waiting for buffer space right now */
} lf_agent_pipeline_stats;

typedef struct lf_agent_pipeline lf_agent_pipeline;

/* `input` is borrowed (the caller destroys it after the pipeline). */
lf_err lf_agent_pipeline_new(const lf_agent_pipeline_options *opt, lf_agent_input *input,
                             lf_agent_pipeline **out, lf_error *err);
/* The loop: restore the input from the buffer's cursor, then read, batch, seal, append,
 * commit, until *stop (then seal what is held and the close frame) or the input finished. */
lf_err lf_agent_pipeline_run(lf_agent_pipeline *p, lf_error *err);
lf_agent_pipeline_stats *lf_agent_pipeline_stats_of(lf_agent_pipeline *p);
/* Wipes and frees (NULL ok). */
void lf_agent_pipeline_free(lf_agent_pipeline *p);

/* Exposed for tests and the bench: turn one event into its schema 2.0 JSON (appended to out)
 * as the pipeline does — parser, level, time window, labels, UTF-8 repair. now_ns = the
 * clock the time window is checked against (an event without a time gets the precise
 * current time). */
lf_err lf_agent_pipeline_encode(lf_agent_pipeline *p, lf_agent_event *ev, int64_t now_ns,
                                lf_buf *out, int64_t *ts_out, lf_error *err);
/* Tests: encode every record with the general encoder (lf_payload_encode) instead of the
 * one-pass writer, to compare the two. */
void lf_agent_pipeline_set_general_encoder(lf_agent_pipeline *p, bool only);
/* Feed one event, sealing and appending when the batch is full (what run() does per record;
 * for tests and the bench). */
lf_err lf_agent_pipeline_add(lf_agent_pipeline *p, lf_agent_event *ev, lf_error *err);
/* Seal and append what is held (nothing held: no-op); then input.commit(). */
lf_err lf_agent_pipeline_flush(lf_agent_pipeline *p, bool close_session, lf_error *err);

#ifdef __cplusplus
}
#endif
#endif

/*
 * batch.h — the spool record: one accepted ingest request, as the rows the worker will write
 * to Parquet. Ingest builds it, the spool stores it atomically (one record per request, so a
 * request is durable entirely or not at all), the worker decodes it.
 *
 * Every row carries exactly what the server may know (docs/SECURITY.md): tenant, app, format,
 * the native header fields or the v3 part headers, the ciphertext, and the ingest time. There
 * is nothing to decrypt here and nothing that could be: only ciphertext goes in.
 *
 * Encoding (big-endian): "LFB1", u8 version 1, i64 tenant_id, str tenant, str app,
 * i64 ingest_time_ns, u32 n_rows, then rows:
 *   u8 format (1 v3, 2 native), u8 kind, u8 entry_type, u8 flags_or_payload_type,
 *   str key_id, u64 sequence, i64 ts_min_ns, i64 ts_max_ns, u32 count, 12 bytes nonce,
 *   bytes tokens, bytes body
 * where str = u16 length + bytes and bytes = u32 length + bytes.
 */
#ifndef LFD_BATCH_H
#define LFD_BATCH_H

#include <stddef.h>
#include <stdint.h>

#include "logflux/buf.h"
#include "logflux/error.h"

#define LFD_FORMAT_V3     1
#define LFD_FORMAT_NATIVE 2

typedef struct lfd_row {
    uint8_t format;     /* LFD_FORMAT_* */
    uint8_t kind;       /* native frame kind; v3: 1 (entry) */
    uint8_t entry_type; /* 1..7 */
    uint8_t flags;      /* native: frame flags; v3: payload type (1 or 3) */
    const char *key_id; /* v3: the handshake UUID; native: 32 lowercase hex */
    size_t key_id_len;
    uint64_t sequence; /* native: per-key sequence; v3: 0 */
    int64_t ts_min;    /* Unix ns; v3: X-LF-Timestamp */
    int64_t ts_max;
    uint32_t count; /* entries in the frame; v3: 1 */
    uint8_t nonce[12];
    const uint8_t *tokens; /* native: token_count*16 raw bytes; v3: the comma-separated text */
    size_t tokens_len;
    const uint8_t *body; /* ciphertext || tag (payload type 3: gzip JSON) */
    size_t body_len;
} lfd_row;

typedef struct lfd_batch {
    int64_t tenant_id;
    const char *tenant; /* names as the client and credential agree on them */
    size_t tenant_len;
    const char *app;
    size_t app_len;
    int64_t ingest_time; /* Unix ns */
    lfd_row *rows;       /* decode: owned array pointing into the decoded record */
    size_t n_rows;
} lfd_batch;

/* Encoder: begin, add rows, finish. Pointers in rows are copied into `out`. */
lf_err lfd_batch_begin(lf_buf *out, int64_t tenant_id, const char *tenant, const char *app,
                       int64_t ingest_time, lf_error *err);
lf_err lfd_batch_add(lf_buf *out, const lfd_row *row, lf_error *err);
/* Writes the row count at its place; returns LF_ERR_INVALID for an empty batch. */
lf_err lfd_batch_finish(lf_buf *out, uint32_t n_rows, lf_error *err);

/* Decode a record (validating every length); rows point into `data`, which must outlive the
 * batch. Free with lfd_batch_clear. */
lf_err lfd_batch_decode(const uint8_t *data, size_t len, lfd_batch *out, lf_error *err);
void lfd_batch_clear(lfd_batch *b);

#endif

/*
 * spool.h — the embedded durable queue: append-only segment files in one local directory.
 *
 * See docs/SPOOL.md for the on-disk format byte for byte, why an acknowledged record survives a
 * crash, what recovery does and what the operator can do when it refuses to open.
 */
#ifndef LF_SERVER_SPOOL_H
#define LF_SERVER_SPOOL_H

#include <stddef.h>
#include <stdint.h>

#include "queue/queue.h"
#include "queue/spool_io.h"

#ifdef __cplusplus
extern "C" {
#endif

#define LF_SPOOL_SEGMENT_HEADER_LEN 32u
#define LF_SPOOL_RECORD_HEADER_LEN  24u
#define LF_SPOOL_DEFAULT_MAX_RECORD ((size_t)16 * 1024 * 1024 + 64 * 1024)
#define LF_SPOOL_DEFAULT_SEGMENT    ((uint64_t)64 * 1024 * 1024)
#define LF_SPOOL_DEFAULT_MAX_BYTES  ((uint64_t)4 * 1024 * 1024 * 1024)
/* Hard ceiling for max_record_bytes: lengths are 32-bit on disk and readers allocate them. */
#define LF_SPOOL_MAX_RECORD_LIMIT ((size_t)1 << 30)

typedef struct lf_spool_options {
    size_t
        max_record_bytes;   /* 0 = LF_SPOOL_DEFAULT_MAX_RECORD; at most LF_SPOOL_MAX_RECORD_LIMIT */
    uint64_t segment_bytes; /* roll to a new segment beyond this; 0 = LF_SPOOL_DEFAULT_SEGMENT */
    uint64_t max_bytes;     /* bound on all segment files; 0 = LF_SPOOL_DEFAULT_MAX_BYTES */
    const lf_spool_io *io;  /* NULL = lf_spool_io_posix() */
    void *io_ctx;           /* passed to every io call */
    /* Recovery and fault messages (no payload bytes); NULL = stderr. */
    void (*log)(void *log_ctx, const char *message);
    void *log_ctx;
} lf_spool_options;

/*
 * Open (creating if needed) the spool in directory dir (created with mode 0700 if absent; its
 * parent must exist). Recovery runs here: a torn tail of the last segment is truncated, anything
 * else that is wrong is an error (LF_ERR_INVALID with the file and offset) and nothing is changed.
 * opt may be NULL (all defaults). On success *out is a queue the caller closes with
 * lf_queue_close. Only one process may open a directory at a time (logfluxd enforces it with a
 * lock on its data directory).
 */
lf_err lf_spool_open(const char *dir, const lf_spool_options *opt, lf_queue **out, lf_error *err);

#ifdef __cplusplus
}
#endif
#endif

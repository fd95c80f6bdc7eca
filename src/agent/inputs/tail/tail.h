/*
 * tail.h — the agent's file tail input: follows files matched by glob patterns and hands the
 * pipeline one logical record at a time (a line, or a multiline group), each with a position
 * token that the pipeline commits once the sealed record is durable in the disk buffer.
 *
 * Pull model: the pipeline thread calls lf_tail_next() in a loop; the tail never calls back.
 * A handle is not thread-safe: use it from one thread. See docs/AGENT-TAIL.md for the file
 * identity rule (dev, inode + content fingerprint), rotation, copytruncate and what is and is
 * not guaranteed.
 */
#ifndef LF_AGENT_TAIL_H
#define LF_AGENT_TAIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "logflux/buf.h"
#include "logflux/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Bytes of a file's head that form its content fingerprint once the file is that long. */
#define LF_TAIL_FP_MAX 1024

typedef struct lf_tail_options {
    const char *const *globs;     /* glob(3) patterns; borrowed during create only */
    size_t n_globs;               /* at least 1 */
    bool read_from_head;          /* files present at start without checkpoint: from 0, else end */
    unsigned poll_interval_ms;    /* stat polling period; 0 = 250 */
    bool disable_inotify;         /* poll only (the results must be the same, only slower) */
    const char *multiline_first;  /* POSIX ERE matching the first line of a group; NULL = off */
    unsigned multiline_max_lines; /* 0 = 1000 */
    size_t multiline_max_bytes;   /* 0 = 1 MiB */
    unsigned multiline_flush_ms;  /* group emitted after this idle time; 0 = 1000 */
    size_t max_line_bytes;        /* 0 = 64 KiB; longer lines are split and flagged */
    unsigned rotate_wait_ms;      /* keep a rotated/deleted file open this long at EOF; 0=5000 */
    const char *checkpoint_db;    /* SQLite path; NULL = no checkpoints (start per policy) */
    /* Called once for each path a scan finds that is not followed yet, before it is opened:
     * false = skip it for this scan (asked again at the next one). NULL = accept all. Used for
     * exclude globs and for inputs that filter by metadata (container name, namespace). */
    bool (*accept)(void *ctx, const char *path);
    void *accept_ctx;
} lf_tail_options;

/* Where a record ends: the file's identity and the offset just after the record. Plain value:
 * copy it freely, commit it later. generation counts truncations seen for this file. */
typedef struct lf_tail_position {
    uint64_t dev;
    uint64_t ino;
    uint64_t fp_hash; /* FNV-1a 64 of the first fp_len bytes */
    uint32_t fp_len;
    uint32_t generation;
    uint64_t offset;
} lf_tail_position;

enum {
    LF_TAIL_REC_SPLIT = 1u << 0,          /* piece of a line longer than max_line_bytes */
    LF_TAIL_REC_SPLIT_LAST = 1u << 1,     /* ... and this is its final piece */
    LF_TAIL_REC_NO_NEWLINE = 1u << 2,     /* partial last line flushed (file rotated/deleted/cut) */
    LF_TAIL_REC_ML_CAPPED = 1u << 3,      /* multiline group cut at max lines/bytes */
    LF_TAIL_REC_AFTER_TRUNCATE = 1u << 4, /* first record read after a truncation was detected */
};

typedef struct lf_tail_record {
    const char *path;    /* path the file had when read; owned by the tail */
    const uint8_t *data; /* record bytes without the final '\n'; owned by the tail */
    size_t len;
    size_t lines; /* lines in the group (1 unless multiline) */
    unsigned flags;
    int64_t read_time_ns; /* CLOCK_REALTIME of the read(2) that completed the record */
    lf_tail_position position;
} lf_tail_record;

typedef struct lf_tail_stats {
    uint64_t files_opened, files_closed;
    uint64_t rotations;    /* file at a watched path replaced (rename) or deleted */
    uint64_t truncations;  /* shrink or fingerprint change detected */
    uint64_t copy_resumes; /* new file recognised as the copy of a tracked/truncated one */
    uint64_t split_lines;  /* lines longer than max_line_bytes */
    uint64_t partial_flushes;
    uint64_t checkpoints_applied, checkpoints_rejected; /* rejected: fingerprint mismatch */
} lf_tail_stats;

typedef struct lf_tail lf_tail;

/* Create a tail. Opens (creating) the checkpoint DB; does not read any file yet.
 * *out is owned by the caller: lf_tail_destroy(). */
lf_err lf_tail_create(const lf_tail_options *opt, lf_tail **out, lf_error *err);

/* Wait up to timeout_ms for the next record. LF_OK: *rec is filled; its pointers stay valid
 * until the next lf_tail_next() or lf_tail_destroy(). LF_ERR_NOT_FOUND: nothing within the
 * timeout (call again). Other codes: a real failure (checkpoint DB, memory). */
lf_err lf_tail_next(lf_tail *t, lf_tail_record *rec, int timeout_ms, lf_error *err);

/* Advance checkpoints to the given positions, all in one SQLite transaction. Call only once the
 * records up to these positions are durable downstream, in the order they were returned. */
lf_err lf_tail_commit(lf_tail *t, const lf_tail_position *pos, size_t n, lf_error *err);

/* Crash window between "records appended downstream" and lf_tail_commit: apply positions
 * (the cursor stored with the newest downstream batch) to the checkpoint DB, each only where
 * it is ahead of the stored checkpoint of the same (dev, inode): no row yet; or a greater
 * generation (truncated since); or the same generation, the same fingerprint (equal, or
 * longer: the file grew towards 1 KiB since) and a greater offset. A taken position still
 * has to match the file's content when the file is opened, like any checkpoint. Call it
 * before the first
 * lf_tail_next (LF_ERR_INVALID after). *applied (may be NULL) counts the positions taken.
 * Without a checkpoint DB it does nothing. */
lf_err lf_tail_restore(lf_tail *t, const lf_tail_position *pos, size_t n, size_t *applied,
                       lf_error *err);

void lf_tail_get_stats(const lf_tail *t, lf_tail_stats *out);

/* ---------------- cursors (tail_cursor.c) ----------------
 *
 * A cursor is the newest position of every file whose records were returned since the last
 * commit, encoded compactly so an input can store it with a downstream batch:
 *     u8 version (1) | uvarint n | n x { uvarint dev | uvarint ino | u64 BE fp_hash |
 *                                        uvarint fp_len | uvarint generation | uvarint offset }
 * (uvarint: LEB128, at most 10 bytes). Decoding rejects any other version, truncation, an
 * overlong varint, fp_len > LF_TAIL_FP_MAX, generation > UINT32_MAX, offset > INT64_MAX,
 * and trailing bytes. */
#define LF_TAIL_CURSOR_VERSION 1

/* The positions returned since the last commit, one per (dev, inode): the newest. */
typedef struct lf_tail_pending {
    lf_tail_position *v;
    size_t n, cap;
} lf_tail_pending;

/* Record that everything up to pos in its file was returned. A position older than the one
 * held for the same file (lower generation, or same generation and lower offset) is ignored. */
lf_err lf_tail_pending_note(lf_tail_pending *p, const lf_tail_position *pos, lf_error *err);
void lf_tail_pending_clear(lf_tail_pending *p);
void lf_tail_pending_free(lf_tail_pending *p);

lf_err lf_tail_cursor_encode(const lf_tail_position *pos, size_t n, lf_buf *out, lf_error *err);
/* *out is malloc'ed (free() it; NULL when *n == 0). */
lf_err lf_tail_cursor_decode(const uint8_t *data, size_t len, lf_tail_position **out, size_t *n,
                             lf_error *err);

/* Close files and the DB. Uncommitted records will be read again after a restart. NULL ok. */
void lf_tail_destroy(lf_tail *t);

#ifdef __cplusplus
}
#endif
#endif

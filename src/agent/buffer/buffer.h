/*
 * buffer.h — the agent's disk buffer: a bounded, crash-safe FIFO of sealed request bodies.
 *
 * The agent seals records into native frames with the customer's key BEFORE they reach this
 * buffer; the buffer stores those opaque bytes plus the little metadata the shipper needs (app
 * name, idempotency key, record count, creation time). It must never be fed plaintext: it does
 * not encrypt, and everything appended lands on disk as given (docs/AGENT-BUFFER.md).
 *
 * One appender thread and one shipper thread may call it concurrently (one mutex inside).
 *   append  — durable (fdatasync, and a directory fsync for a new segment) before LF_OK.
 *   peek    — copies of the oldest unshipped items, in append order.
 *   ack     — marks an item and every older one shipped, durably (atomic checkpoint).
 *   send_begin / send_end — the shipper says which copy it is sending and how that ended, so
 *             that drop_oldest never counts an item as dropped that the server received.
 * After a crash, appended-but-unacked items are delivered again (at-least-once; the server's
 * idempotency key makes that safe); acked items never are.
 *
 * Exactly-once reading for inputs: each item may carry its input's name (source) and position
 * (cursor). An input appends a batch, then commits its own checkpoint; a crash in between would
 * make it read the batch again. At startup it asks last_cursor for the position of the newest
 * batch it ever appended and skips ahead if that is past its own checkpoint. The buffer keeps
 * that cursor through acks, segment deletion, drop_oldest and crashes.
 *
 * Blocking helpers (condition variables): wait_space for the appender under the block policy,
 * wait_items for the shipper, wake to release both at shutdown.
 */
#ifndef LF_AGENT_BUFFER_H
#define LF_AGENT_BUFFER_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "logflux/buf.h"
#include "logflux/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* What append does when the item would take the buffer past max_bytes. */
typedef enum lf_agent_buffer_policy {
    LF_AGENT_BUFFER_BLOCK = 0,   /* LF_ERR_FULL at once; the caller pauses its inputs */
    LF_AGENT_BUFFER_DROP_OLDEST, /* delete the oldest segments, count what they held */
} lf_agent_buffer_policy;

/*
 * The system calls the buffer makes, so tests can inject short writes, ENOSPC and fsync
 * failures. POSIX conventions: -1 with errno set on failure. fsync is also used on directories.
 */
typedef struct lf_agent_buffer_io {
    int (*open)(void *ctx, const char *path, int flags, mode_t mode);
    int (*close)(void *ctx, int fd);
    ssize_t (*pread)(void *ctx, int fd, void *buf, size_t len, off_t off);
    ssize_t (*pwrite)(void *ctx, int fd, const void *buf, size_t len, off_t off);
    int (*fdatasync)(void *ctx, int fd);
    int (*fsync)(void *ctx, int fd);
    int (*ftruncate)(void *ctx, int fd, off_t len);
    int (*rename)(void *ctx, const char *from, const char *to);
    int (*unlink)(void *ctx, const char *path);
} lf_agent_buffer_io;

/* The plain POSIX implementation (ctx unused). Static storage; never NULL. */
const lf_agent_buffer_io *lf_agent_buffer_io_posix(void);

#define LF_AGENT_BUFFER_DEFAULT_MAX_BYTES     ((uint64_t)256 << 20)
#define LF_AGENT_BUFFER_DEFAULT_SEGMENT_BYTES ((uint64_t)8 << 20)
#define LF_AGENT_BUFFER_APP_MAX               128 /* bytes of the app name (1..128, no control bytes) */
#define LF_AGENT_BUFFER_KEY_MIN               16 /* idempotency key: 16..64 of [A-Za-z0-9_-] */
#define LF_AGENT_BUFFER_KEY_MAX               64
#define LF_AGENT_BUFFER_BODY_MAX              ((size_t)1 << 30)
#define LF_AGENT_BUFFER_SOURCE_MAX            64    /* input name: 0..64 of [A-Za-z0-9_.-] */
#define LF_AGENT_BUFFER_CURSOR_MAX            65536 /* bytes of one cursor */
#define LF_AGENT_BUFFER_SOURCES_MAX           1024  /* distinct sources with a cursor, ever */
/* Where dropped_for counts the items of sources past the first 1024 names seen (not a valid
 * source name, so it cannot collide with one). */
#define LF_AGENT_BUFFER_SOURCE_OTHER "*"

/* Zero fields take the defaults. The io table and io_ctx are borrowed for the buffer's life. */
typedef struct lf_agent_buffer_options {
    uint64_t max_bytes;     /* bound on all segment files; 0 = 256 MiB */
    uint64_t segment_bytes; /* a segment rolls past this; 0 = 8 MiB; must be <= max_bytes */
    lf_agent_buffer_policy policy;
    const lf_agent_buffer_io *io; /* NULL = lf_agent_buffer_io_posix() */
    void *io_ctx;
} lf_agent_buffer_options;

/* An item to append. All pointers are borrowed for the duration of the call. */
typedef struct lf_agent_buffer_input {
    const char *app;             /* NUL-terminated, 1..128 bytes, no control bytes */
    const char *idempotency_key; /* NUL-terminated, 16..64 of [A-Za-z0-9_-] */
    uint32_t records;            /* log records sealed inside body */
    int64_t created_ms;          /* creation time, Unix milliseconds */
    const uint8_t *body;         /* the sealed request body (opaque); may be NULL if body_len 0 */
    size_t body_len;
    /* The input that produced it and its position after this batch (see last_cursor). The
     * cursor is stored in the clear: positions (offsets, journal cursors), never log content. */
    const char *source;    /* NUL-terminated, 0..64 of [A-Za-z0-9_.-]; NULL or "" = none */
    const uint8_t *cursor; /* opaque, 0..65536 bytes; needs a source; NULL if cursor_len 0 */
    size_t cursor_len;
} lf_agent_buffer_input;

/* An item handed to the shipper. Owned by the array from peek; free with _items_free. */
typedef struct lf_agent_buffer_item {
    uint64_t id; /* local, strictly increasing, never reused; pass to ack */
    char app[LF_AGENT_BUFFER_APP_MAX + 1];
    char idempotency_key[LF_AGENT_BUFFER_KEY_MAX + 1];
    uint32_t records;
    int64_t created_ms;
    uint8_t *body; /* malloc'd copy */
    size_t body_len;
    char source[LF_AGENT_BUFFER_SOURCE_MAX + 1]; /* "" = none */
    uint8_t *cursor;                             /* malloc'd copy; NULL when cursor_len is 0 */
    size_t cursor_len;
} lf_agent_buffer_item;

typedef struct lf_agent_buffer_stats {
    uint64_t bytes_used;      /* size of all segment files */
    uint64_t items_pending;   /* appended, not acked */
    uint64_t records_pending; /* sum of their record counts */
    uint64_t dropped_items;   /* items deleted by drop_oldest and never shipped (this process); */
    uint64_t dropped_records; /* their record counts; per source: lf_agent_buffer_dropped_for */
    uint64_t quarantined_segments;      /* moved into <dir>/quarantine/ (this process) */
    uint64_t recovered_bytes_truncated; /* torn tail cut off the last segment at open */
    uint64_t checkpoint_resets; /* an unreadable ack checkpoint was quarantined (redelivery) */
} lf_agent_buffer_stats;

typedef struct lf_agent_buffer lf_agent_buffer;

/*
 * Open (creating dir with mode 0700 if needed) and recover: verify every item's CRC-32C,
 * truncate a torn tail of the last segment, quarantine any other damaged segment. Damage is
 * never fatal; only I/O errors on the directory itself and bad options fail. opt may be NULL.
 * *out is owned by the caller; release with lf_agent_buffer_close.
 */
lf_err lf_agent_buffer_open(const char *dir, const lf_agent_buffer_options *opt,
                            lf_agent_buffer **out, lf_error *err);

/*
 * Append one item; LF_OK only once it is durable. id_out (nullable) receives its id.
 * LF_ERR_INVALID: bad app/key/source, or a cursor without a source; LF_ERR_TOO_LARGE: larger
 * than the whole bound, a cursor over 64 KiB, or a 1025th distinct source with a cursor;
 * LF_ERR_FULL (policy block): no room now, nothing written; LF_ERR_IO: the disk failed, the
 * item is not stored (the buffer cuts the partial write back and keeps working).
 */
lf_err lf_agent_buffer_append(lf_agent_buffer *b, const lf_agent_buffer_input *in, uint64_t *id_out,
                              lf_error *err);

/*
 * Up to max_items oldest unacked items, in order, as a malloc'd array (*items_out NULL and
 * *count_out 0 when empty). A segment found damaged while reading is quarantined and skipped.
 */
lf_err lf_agent_buffer_peek(lf_agent_buffer *b, size_t max_items, lf_agent_buffer_item **items_out,
                            size_t *count_out, lf_error *err);

/* Free an array from peek (NULL is fine). */
void lf_agent_buffer_items_free(lf_agent_buffer_item *items, size_t count);

/*
 * Mark item id and every older item shipped, durably (checkpoint written to a temp file,
 * fsynced, renamed, directory fsynced); then delete fully acked segments. Acking an id at or
 * below the current checkpoint is a no-op; an id never appended is LF_ERR_INVALID.
 */
lf_err lf_agent_buffer_ack(lf_agent_buffer *b, uint64_t id, lf_error *err);

/*
 * Exact drop accounting while the shipper holds copies (docs/AGENT-BUFFER.md, "What the
 * shipper holds"). Every appended item ends up exactly once as shipped (acked, or reported
 * SENT and acked later), counted in dropped_*, or still pending — never two of them.
 *
 * send_begin: call before sending a peeked item. LF_OK: it is still pending and is now the one
 * item in flight; if drop_oldest deletes its segment from now on, it is not counted as dropped
 * until send_end says it was abandoned. Calling it again for the item in flight is LF_OK.
 * LF_ERR_NOT_FOUND: the item is no longer pending (dropped by drop_oldest and counted,
 * quarantined, or acked): do not send this copy. LF_ERR_INVALID: an id never appended, or
 * another item is in flight.
 */
lf_err lf_agent_buffer_send_begin(lf_agent_buffer *b, uint64_t id, lf_error *err);

/* How the shipper finished with the item in flight. */
typedef enum lf_agent_buffer_send_outcome {
    /* A final answer: the server has it (2xx) or it was dead-lettered. The item and every
     * older one count as shipped from now on (drop_oldest no longer counts them); the ack,
     * which makes that durable, follows. */
    LF_AGENT_BUFFER_SENT = 0,
    /* Given up without a final answer (shutdown). Still pending if its segment is there (sent
     * again later); if drop_oldest deleted it meanwhile, it is counted as dropped now. */
    LF_AGENT_BUFFER_ABANDONED,
} lf_agent_buffer_send_outcome;

/* End the send begun by send_begin(id). LF_ERR_INVALID if id is not the item in flight. */
lf_err lf_agent_buffer_send_end(lf_agent_buffer *b, uint64_t id,
                                lf_agent_buffer_send_outcome outcome, lf_error *err);

void lf_agent_buffer_stats_get(lf_agent_buffer *b, lf_agent_buffer_stats *out);

/*
 * What drop_oldest dropped of the items of one source in this process, by the same rule and at
 * the same moments as dropped_items / dropped_records, which always equal the sum over sources.
 * source NULL or "" = items without a source; LF_AGENT_BUFFER_SOURCE_OTHER = the catch-all for
 * sources seen after 1024 others (in this process: appended or found in segments at open).
 * Items found at open keep their source, but the counts start at 0 in each process. A source
 * never dropped (or never seen) gives 0 and 0. items, records: nullable. LF_ERR_INVALID for a
 * malformed source.
 */
lf_err lf_agent_buffer_dropped_for(lf_agent_buffer *b, const char *source, uint64_t *items,
                                   uint64_t *records, lf_error *err);

/*
 * Append to out the cursor of the newest item (highest id) ever appended with this source and
 * a non-empty cursor, whether that item is still pending, acked and deleted, or dropped by
 * drop_oldest, and across restarts. LF_ERR_NOT_FOUND if there is none; LF_ERR_INVALID for a
 * malformed source. An item lost to a torn tail was never acknowledged to its input, so the
 * answer is then the item before it. Only a quarantined (damaged) segment or checkpoint can
 * lose a cursor, and losing one only means the input falls back to its own checkpoint.
 */
lf_err lf_agent_buffer_last_cursor(lf_agent_buffer *b, const char *source, lf_buf *out,
                                   lf_error *err);

/*
 * Block until an append of an item carrying `bytes` of body plus cursor would not be refused
 * with LF_ERR_FULL (app, key and source are counted at their maximum, so with one appender
 * LF_OK guarantees room). LF_OK at once under drop_oldest or when the buffer holds no item;
 * LF_ERR_TOO_LARGE if such an item can never fit; LF_ERR_NOT_FOUND on timeout or after
 * lf_agent_buffer_wake. timeout_ms < 0 waits without limit, 0 only checks. Woken by acks and
 * segment deletion (no polling).
 */
lf_err lf_agent_buffer_wait_space(lf_agent_buffer *b, size_t bytes, int timeout_ms, lf_error *err);

/*
 * Block until at least one unacked item exists: LF_OK; LF_ERR_NOT_FOUND on timeout or after
 * lf_agent_buffer_wake. timeout_ms as for wait_space. Woken by append.
 */
lf_err lf_agent_buffer_wait_items(lf_agent_buffer *b, int timeout_ms, lf_error *err);

/*
 * Shutdown: wake every waiter, which returns LF_ERR_NOT_FOUND. Sticky: every later wait also
 * returns LF_ERR_NOT_FOUND at once (so a thread that was about to wait cannot miss it).
 * append/peek/ack keep working. Join the waiting threads before lf_agent_buffer_close.
 */
void lf_agent_buffer_wake(lf_agent_buffer *b);

/* Close files and free (NULL is fine). Everything acknowledged is already durable. */
void lf_agent_buffer_close(lf_agent_buffer *b);

#ifdef __cplusplus
}
#endif
#endif

/*
 * queue.h — the durable queue between ingest and the Parquet worker.
 *
 * A queue holds opaque records (byte strings) numbered by a 64-bit sequence that starts at 1 and
 * grows by one per record. Ingest appends (many HTTP threads at once); an append returns LF_OK
 * only once its records are durable, so "acknowledged" means "survives a crash". The worker
 * reads records in sequence order and, once their contents are safely elsewhere, releases
 * everything up to a sequence number; the queue then may drop them and reclaim space.
 *
 * This is a small vtable so that more than one backend can sit behind it: the embedded spool
 * (spool.c, files in a local directory) today, NATS JetStream later. The rest of the server calls
 * the lf_queue_* wrappers below, never a backend by name.
 *
 * Threading: append may be called from any number of threads at once; read, release and stats
 * may run concurrently with appends. close must be called once, after every other call returned.
 */
#ifndef LF_SERVER_QUEUE_H
#define LF_SERVER_QUEUE_H

#include <stddef.h>
#include <stdint.h>

#include "logflux/buf.h"
#include "logflux/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* One record to append: len bytes at data (borrowed for the duration of the call). */
typedef struct lf_queue_rec {
    const void *data;
    size_t len;
} lf_queue_rec;

typedef struct lf_queue_stats {
    uint64_t next_seq;                /* sequence the next appended record will get */
    uint64_t durable_seq;             /* highest durable (readable) sequence; 0 if none yet */
    uint64_t released_seq;            /* highest released sequence; 0 if none */
    uint64_t bytes_used;              /* bytes on disk plus bytes accepted but not yet written */
    uint64_t bytes_max;               /* configured bound */
    uint64_t segments;                /* backend-specific unit count (spool: segment files) */
    uint64_t records;                 /* records appended since open */
    uint64_t syncs;                   /* durability barriers (spool: fdatasync calls for appends) */
    uint64_t recovered_bytes_dropped; /* torn tail dropped by recovery at open */
} lf_queue_stats;

typedef struct lf_queue lf_queue;

typedef struct lf_queue_ops {
    const char *name;
    /* Append n >= 1 records durably; they get consecutive sequence numbers, the first in
     * *first_seq. Each record is atomic on its own (a crash keeps a prefix of the batch), and
     * none is acknowledged unless all are durable. LF_ERR_FULL: the bound would be exceeded
     * (nothing was written; retry later). LF_ERR_TOO_LARGE: a record exceeds the record limit.
     * LF_ERR_IO: write or sync failed; nothing of this call is acknowledged. */
    lf_err (*append)(lf_queue *q, const lf_queue_rec *recs, size_t n, uint64_t *first_seq,
                     lf_error *err);
    /* Read the first durable, unreleased record whose sequence is >= from_seq into out
     * (replacing its contents; caller owns and frees out) and its sequence into *seq.
     * timeout_ms == 0: do not wait; > 0: wait up to that long for one; < 0: wait until one comes
     * or the queue closes. LF_ERR_NOT_FOUND when none arrived in time. */
    lf_err (*read)(lf_queue *q, uint64_t from_seq, int timeout_ms, lf_buf *out, uint64_t *seq,
                   lf_error *err);
    /* Mark every record <= upto_seq consumed, durably (a restart resumes after it). Releasing
     * less than already released is a no-op; beyond the durable sequence is LF_ERR_INVALID. */
    lf_err (*release)(lf_queue *q, uint64_t upto_seq, lf_error *err);
    void (*stats)(lf_queue *q, lf_queue_stats *out);
    /* Wait for in-flight appends, wake blocked readers, free everything. */
    void (*close)(lf_queue *q);
} lf_queue_ops;

/* Every backend's handle begins with this. */
struct lf_queue {
    const lf_queue_ops *ops;
};

static inline lf_err lf_queue_append(lf_queue *q, const lf_queue_rec *recs, size_t n,
                                     uint64_t *first_seq, lf_error *err)
{
    return q->ops->append(q, recs, n, first_seq, err);
}

static inline lf_err lf_queue_append1(lf_queue *q, const void *data, size_t len, uint64_t *seq,
                                      lf_error *err)
{
    lf_queue_rec r = {data, len};
    return q->ops->append(q, &r, 1, seq, err);
}

static inline lf_err lf_queue_read(lf_queue *q, uint64_t from_seq, int timeout_ms, lf_buf *out,
                                   uint64_t *seq, lf_error *err)
{
    return q->ops->read(q, from_seq, timeout_ms, out, seq, err);
}

static inline lf_err lf_queue_release(lf_queue *q, uint64_t upto_seq, lf_error *err)
{
    return q->ops->release(q, upto_seq, err);
}

static inline void lf_queue_stats_get(lf_queue *q, lf_queue_stats *out)
{
    q->ops->stats(q, out);
}

/* Closing NULL is a no-op. */
static inline void lf_queue_close(lf_queue *q)
{
    if (q)
        q->ops->close(q);
}

#ifdef __cplusplus
}
#endif
#endif

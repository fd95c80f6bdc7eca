/*
 * worker.h — the role that turns spool records into Parquet files.
 *
 * It reads the spool from the checkpoint on, buffers rows per partition
 * (tenant, app, dt, hour), and flushes by size and by age (worker.flush_*): every buffered
 * partition becomes a Parquet file written to a temporary name, fsynced, renamed into the
 * object store; then all files of the flush and the new checkpoint are recorded in the
 * manifest in one transaction; then the spool is released up to the checkpoint. A crash at any
 * step loses and duplicates nothing (docs/WORKER.md says why, step by step). Newly flushed
 * files are announced to tail subscribers (lfd_worker_tail_wait).
 */
#ifndef LFD_WORKER_H
#define LFD_WORKER_H

#include <sys/types.h>

#include "app.h"

#define LFD_WORKER_STREAM "spool" /* checkpoint name in the manifest */

/* Steps of a flush, for the test hooks. */
typedef enum lfd_worker_step {
    LFD_WSTEP_WRITE = 1, /* every Parquet file of the flush written and fsynced in scratch */
    LFD_WSTEP_PUT_ONE,   /* one file renamed into the store */
    LFD_WSTEP_PUT_ALL,   /* every file of the flush in the store */
    LFD_WSTEP_MANIFEST,  /* manifest + checkpoint committed */
    LFD_WSTEP_RELEASE,   /* spool released up to the checkpoint */
} lfd_worker_step;

typedef struct lfd_worker_options {
    /* Where undecodable records are moved; NULL = "<cfg->data_dir>/quarantine". */
    const char *quarantine_dir;
    /* Parquet file I/O (fault injection); NULL = write(2) / fsync(2). */
    ssize_t (*pq_write)(void *ctx, int fd, const void *buf, size_t len);
    int (*pq_fsync)(void *ctx, int fd);
    void *io_ctx;
    /* Test hook called after each step: returning true makes the worker thread stop right
     * there as if the process had died (no further step, no flush at stop). */
    bool (*crash_after)(void *ctx, lfd_worker_step step);
    void *hook_ctx;
    /* Tests: do not flush by age (only lfd_worker_flush, size, and stop). */
    bool no_age_flush;
    bool quiet; /* no log lines on stderr */
} lfd_worker_options;

typedef struct lfd_worker_stats {
    uint64_t records;      /* spool records consumed */
    uint64_t rows;         /* rows written to committed files */
    uint64_t files;        /* files committed */
    uint64_t flushes;      /* successful flushes */
    uint64_t flush_errors; /* failed flush attempts (retried) */
    uint64_t quarantined;  /* records moved to the quarantine directory */
    uint64_t orphans_removed;
    uint64_t checkpoint; /* last committed spool sequence */
    bool crashed;        /* a crash_after hook fired */
} lfd_worker_stats;

/* Start the worker thread (recovers leftovers of a crash first). Uses app->cfg (flush limits,
 * row group size, data_dir), app->meta, app->queue and app->store. */
lf_err lfd_worker_start(lfd_app *app, lfd_worker **out, lf_error *err);
/* The same with test options (opts may be NULL; it is copied). */
lf_err lfd_worker_start_opts(lfd_app *app, const lfd_worker_options *opts, lfd_worker **out,
                             lf_error *err);
/* Flush what is buffered, stop the thread, wake tail waiters, free. NULL is fine. Tail handlers
 * must be finished first (stop the HTTP server before the worker). */
void lfd_worker_stop(lfd_worker *w);
/* Read everything durable in the spool now, flush it and wait for that flush (tests, admin).
 * Returns the flush's error if it failed (the worker keeps the rows and retries). */
lf_err lfd_worker_flush(lfd_worker *w, lf_error *err);
void lfd_worker_stats_get(lfd_worker *w, lfd_worker_stats *out);

/* ---- live tail: the worker announces every committed file ---- */

typedef struct lfd_tail_file {
    uint64_t seq; /* announcement number, 1, 2, … in commit order */
    int64_t file_id;
    int64_t tenant_id;
    char app[LF_META_APP_MAX + 1];
    char path[LF_META_PATH_MAX + 1];
    uint64_t rows;
    int64_t flushed_ns; /* wall clock at commit */
} lfd_tail_file;

#define LFD_TAIL_RING 4096 /* announcements remembered */

/* Files of `tenant` announced after `after_seq`, oldest first, at most `max` into out. When
 * there is none, waits up to wait_ms (0 = not at all) for one, or until the worker stops.
 * *last_seq receives the newest announcement examined (pass it back as after_seq next time);
 * *gap is set when announcements after after_seq were already forgotten (the caller fell
 * behind by more than LFD_TAIL_RING files). Returns the number written to out. */
size_t lfd_worker_tail_wait(lfd_worker *w, int64_t tenant, uint64_t after_seq, int wait_ms,
                            lfd_tail_file *out, size_t max, uint64_t *last_seq, bool *gap);
/* The newest announcement made at or before wall-clock time since_ns (0 if none): tail from
 * there to get what was flushed after since_ns. */
uint64_t lfd_worker_tail_seq_at(lfd_worker *w, int64_t since_ns);
/* Wake every tail waiter and make later waits return at once (call before draining HTTP, so
 * long polls do not hold up a stop). lfd_worker_stop does it too. */
void lfd_worker_tail_shutdown(lfd_worker *w);
bool lfd_worker_tail_stopping(lfd_worker *w);

#endif

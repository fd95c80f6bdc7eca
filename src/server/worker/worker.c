/*
 * worker.c — spool → Parquet → object store → manifest → release (see worker.h and
 * docs/WORKER.md for the crash-safety argument).
 *
 * One thread. It reads spool records in sequence order from checkpoint+1, decodes each
 * (lfd_batch_decode) and keeps the record bytes alive while its rows are buffered; rows are
 * indexed per partition (tenant id, app, dt, hour of ts in UTC). A flush happens when the
 * buffered rows or bytes reach worker.flush_rows / worker.flush_bytes, when the oldest pending
 * record was read worker.flush_interval ago, when a test or admin asks (lfd_worker_flush), and
 * at stop. A flush writes each partition's rows, sorted by ts, as one Parquet file in the
 * scratch directory (fsynced), puts each into the store under
 * tenant=<name>/app=<app>/dt=YYYY-MM-DD/hour=HH/<first seq, 20 digits>.parquet, records all of
 * them and checkpoint = the last sequence read in ONE manifest transaction, and only then
 * releases the spool. A failed step leaves everything buffered and is retried with backoff; the
 * retry writes the same names again (the put replaces), so nothing is duplicated. A record
 * that does not decode is copied to the quarantine directory (fsynced) and skipped.
 */
#define _GNU_SOURCE
#include "worker/worker.h"

#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "ingest/batch.h"
#include "logflux/timefmt.h"
#include "parquet.h"
#include "store/store.h"
#include "worker/schema.h"

#define MAX_PARTITIONS LF_META_LIST_MAX /* files per manifest transaction */
#define BACKOFF_MIN_MS 100
#define BACKOFF_MAX_MS 5000

typedef struct held_rec {
    lf_buf data;
    lfd_batch batch;
    uint64_t seq;
} held_rec;

typedef struct row_ref {
    int64_t ts;
    uint64_t seq;
    uint32_t rec; /* index into held */
    uint32_t row; /* index into held[rec].batch.rows */
} row_ref;

typedef struct partition {
    int64_t tenant_id;
    char tenant[LF_META_NAME_MAX + 1]; /* the name: the path's tenant= equals the column */
    char app[LF_META_APP_MAX + 1];
    char dt[11];
    int hour;
    row_ref *rows;
    size_t n, cap;
} partition;

struct lfd_worker {
    lfd_app *app;
    lfd_worker_options opt;
    char quarantine[4096];
    char scratch[4096];
    bool own_scratch; /* a mkdtemp directory we remove at stop (remote stores) */
    pthread_t thread;
    bool thread_started;

    pthread_mutex_t mu;
    pthread_cond_t cv;      /* flush requests/completions, tail announcements, stop */
    bool stopping;          /* under mu */
    bool tail_closed;       /* under mu */
    uint64_t flush_req;     /* under mu: requests made */
    uint64_t flush_done;    /* under mu: requests served */
    lf_err flush_rc;        /* under mu: result of the last served request */
    char flush_msg[256];    /* under mu */
    lfd_worker_stats stats; /* under mu */

    /* Tail ring, under mu. */
    lfd_tail_file *ring;
    uint64_t ring_next; /* seq the next announcement gets (first is 1) */

    /* Thread-private state. */
    held_rec *held;
    size_t n_held, cap_held;
    partition *parts;
    size_t n_parts, cap_parts;
    uint64_t buffered_rows, buffered_bytes;
    uint64_t first_seq;  /* first record read since the last commit; 0 = none */
    uint64_t last_read;  /* last record read (>= checkpoint) */
    uint64_t checkpoint; /* committed */
    int64_t oldest_mono_ms;
    bool crashed;
    /* A flush failed: read nothing more until it succeeds, so the retry commits exactly the
     * same records under the same names (and a commit whose answer was lost is recognised by
     * the checkpoint being at last_read). */
    bool retry_pending;
};

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void wlog(lfd_worker *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void wlog(lfd_worker *w, const char *fmt, ...)
{
    if (w->opt.quiet)
        return;
    va_list ap;
    va_start(ap, fmt);
    char line[512];
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    fprintf(stderr, "logfluxd worker: %s\n", line);
}

static bool crash_hook(lfd_worker *w, lfd_worker_step step)
{
    if (w->opt.crash_after && w->opt.crash_after(w->opt.hook_ctx, step)) {
        w->crashed = true;
        pthread_mutex_lock(&w->mu);
        w->stats.crashed = true;
        pthread_cond_broadcast(&w->cv);
        pthread_mutex_unlock(&w->mu);
        return true;
    }
    return false;
}

/* ---------------- Parquet file I/O through the (injectable) hooks ---------------- */

typedef struct pq_fd_io {
    lfd_worker *w;
    int fd;
} pq_fd_io;

static ssize_t io_write(void *ctx, const void *buf, size_t len)
{
    pq_fd_io *io = ctx;
    if (io->w->opt.pq_write)
        return io->w->opt.pq_write(io->w->opt.io_ctx, io->fd, buf, len);
    return write(io->fd, buf, len);
}

static int io_fsync(void *ctx)
{
    pq_fd_io *io = ctx;
    if (io->w->opt.pq_fsync)
        return io->w->opt.pq_fsync(io->w->opt.io_ctx, io->fd);
    return fsync(io->fd);
}

/* ---------------- buffering ---------------- */

static void clear_buffers(lfd_worker *w)
{
    for (size_t i = 0; i < w->n_held; i++) {
        lfd_batch_clear(&w->held[i].batch);
        lf_buf_free(&w->held[i].data);
    }
    w->n_held = 0;
    for (size_t i = 0; i < w->n_parts; i++)
        free(w->parts[i].rows);
    w->n_parts = 0;
    w->buffered_rows = 0;
    w->buffered_bytes = 0;
    w->first_seq = 0;
}

static void partition_of(int64_t ts, char dt[11], int *hour)
{
    /* Partition times are clamped to years 1970..9999 so dt is always YYYY-MM-DD; the ts
     * column keeps the real value. */
    const int64_t max_s = 253402300799LL; /* 9999-12-31T23:59:59Z */
    int64_t s = ts / LF_NS_PER_SEC;
    if (s < 0)
        s = 0;
    if (s > max_s)
        s = max_s;
    time_t t = (time_t)s;
    struct tm tm;
    gmtime_r(&t, &tm);
    char tmp[48];
    snprintf(tmp, sizeof tmp, "%04d-%02d-%02d", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
    memcpy(dt, tmp, 10); /* the clamp above keeps it exactly 10 characters */
    dt[10] = '\0';
    *hour = tm.tm_hour;
}

static partition *find_partition(lfd_worker *w, int64_t tenant, const char *tenant_name,
                                 size_t tenant_len, const char *app, size_t app_len, const char *dt,
                                 int hour)
{
    for (size_t i = w->n_parts; i-- > 0;) {
        partition *p = &w->parts[i];
        if (p->tenant_id == tenant && p->hour == hour && strcmp(p->dt, dt) == 0 &&
            strlen(p->app) == app_len && memcmp(p->app, app, app_len) == 0)
            return p;
    }
    if (w->n_parts == w->cap_parts) {
        size_t cap = w->cap_parts ? w->cap_parts * 2 : 16;
        partition *np = realloc(w->parts, cap * sizeof *np);
        if (np == NULL)
            return NULL;
        w->parts = np;
        w->cap_parts = cap;
    }
    partition *p = &w->parts[w->n_parts++];
    memset(p, 0, sizeof *p);
    p->tenant_id = tenant;
    memcpy(p->tenant, tenant_name, tenant_len);
    p->tenant[tenant_len] = '\0';
    memcpy(p->app, app, app_len);
    p->app[app_len] = '\0';
    memcpy(p->dt, dt, 11);
    p->hour = hour;
    return p;
}

/* Tenant and app names become path segments: the metadata store's charset, no leading dot. */
static bool app_name_ok(const char *s, size_t n)
{
    if (n == 0 || n > LF_META_APP_MAX || s[0] == '.')
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-'))
            return false;
    }
    return true;
}

/* Write the record to quarantine/<seq>.rec durably. */
static lf_err quarantine(lfd_worker *w, uint64_t seq, const lf_buf *rec, lf_error *err)
{
    if (mkdir(w->quarantine, 0700) != 0 && errno != EEXIST)
        return lf_error_set(err, LF_ERR_IO, "worker: create %s: %s", w->quarantine,
                            strerror(errno));
    char path[4200];
    snprintf(path, sizeof path, "%s/%020llu.rec", w->quarantine, (unsigned long long)seq);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        return lf_error_set(err, LF_ERR_IO, "worker: quarantine %s: %s", path, strerror(errno));
    size_t off = 0;
    while (off < rec->len) {
        ssize_t n = write(fd, rec->data + off, rec->len - off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        off += (size_t)n;
    }
    bool ok = off == rec->len && fsync(fd) == 0;
    int e = errno;
    close(fd);
    int dfd = open(w->quarantine, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        if (fsync(dfd) != 0)
            ok = false;
        close(dfd);
    }
    if (!ok)
        return lf_error_set(err, LF_ERR_IO, "worker: quarantine %s: %s", path, strerror(e));
    return LF_OK;
}

/* Take one spool record: decode and buffer its rows, or quarantine it. On LF_OK the record is
 * consumed (last_read advances); otherwise nothing changed and the caller retries later. */
static lf_err take_record(lfd_worker *w, uint64_t seq, lf_buf *rec, lf_error *err)
{
    lfd_batch b;
    lf_error derr = {0};
    lf_err rc = lfd_batch_decode(rec->data, rec->len, &b, &derr);
    if (rc == LF_OK &&
        (b.tenant_id <= 0 || !app_name_ok(b.app, b.app_len) || b.tenant_len > LF_META_NAME_MAX ||
         !app_name_ok(b.tenant, b.tenant_len) || b.n_rows == 0 || b.n_rows > UINT32_MAX)) {
        lfd_batch_clear(&b);
        rc = lf_error_set(&derr, LF_ERR_INVALID, "batch: bad tenant id, app name or row count");
    }
    if (rc != LF_OK) {
        lf_err q = quarantine(w, seq, rec, err);
        if (q != LF_OK)
            return q;
        wlog(w, "spool record %llu does not decode (%s); moved to %s/%020llu.rec",
             (unsigned long long)seq, derr.message, w->quarantine, (unsigned long long)seq);
        pthread_mutex_lock(&w->mu);
        w->stats.quarantined++;
        pthread_mutex_unlock(&w->mu);
        goto consumed;
    }
    if (w->n_held == w->cap_held) {
        size_t cap = w->cap_held ? w->cap_held * 2 : 64;
        held_rec *nh = realloc(w->held, cap * sizeof *nh);
        if (nh == NULL) {
            lfd_batch_clear(&b);
            return lf_error_set(err, LF_ERR_NOMEM, "worker: no memory");
        }
        w->held = nh;
        w->cap_held = cap;
    }
    size_t hi = w->n_held;
    for (size_t i = 0; i < b.n_rows; i++) {
        char dt[11];
        int hour;
        partition_of(b.rows[i].ts_min, dt, &hour);
        partition *p =
            find_partition(w, b.tenant_id, b.tenant, b.tenant_len, b.app, b.app_len, dt, hour);
        if (p != NULL && p->n == p->cap) {
            size_t cap = p->cap ? p->cap * 2 : 64;
            row_ref *nr = realloc(p->rows, cap * sizeof *nr);
            if (nr != NULL) {
                p->rows = nr;
                p->cap = cap;
            }
        }
        if (p == NULL || p->n == p->cap) {
            /* Undo this record's rows (they are at the ends of their partitions). */
            for (size_t j = 0; j < w->n_parts; j++)
                while (w->parts[j].n > 0 && w->parts[j].rows[w->parts[j].n - 1].rec == hi)
                    w->parts[j].n--;
            lfd_batch_clear(&b);
            return lf_error_set(err, LF_ERR_NOMEM, "worker: no memory");
        }
        p->rows[p->n++] = (row_ref){b.rows[i].ts_min, seq, (uint32_t)hi, (uint32_t)i};
    }
    /* Move the record bytes into held (the batch points into them; lf_buf moves keep data). */
    w->held[hi].data = *rec;
    *rec = (lf_buf)LF_BUF_INIT;
    w->held[hi].batch = b;
    w->held[hi].seq = seq;
    w->n_held++;
    w->buffered_rows += b.n_rows;
    w->buffered_bytes += w->held[hi].data.len;
consumed:
    if (w->first_seq == 0) {
        w->first_seq = seq;
        w->oldest_mono_ms = mono_ms();
    }
    w->last_read = seq;
    pthread_mutex_lock(&w->mu);
    w->stats.records++;
    pthread_mutex_unlock(&w->mu);
    return LF_OK;
}

/* ---------------- flush ---------------- */

static int cmp_rows(const void *a, const void *b)
{
    const row_ref *x = a, *y = b;
    if (x->ts != y->ts)
        return x->ts < y->ts ? -1 : 1;
    if (x->seq != y->seq)
        return x->seq < y->seq ? -1 : 1;
    return x->row < y->row ? -1 : (x->row > y->row);
}

static lf_err write_partition(lfd_worker *w, partition *p, const char *local, lf_meta_file *f,
                              lf_error *err)
{
    int fd = open(local, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        return lf_error_set(err, errno == ENOSPC ? LF_ERR_FULL : LF_ERR_IO, "worker: create %s: %s",
                            local, strerror(errno));
    pq_fd_io ctx = {w, fd};
    lf_pq_io io = {io_write, io_fsync, &ctx};
    lf_pq_kv kv[] = {{LFD_SCHEMA_KV_KEY, LFD_SCHEMA_VERSION}};
    lf_pq_writer_options o = {
        .rows_per_row_group = (uint32_t)(w->app->cfg ? w->app->cfg->worker_row_group_rows : 0),
        .codec = LF_PQ_CODEC_ZSTD,
        .created_by = "logfluxd worker",
        .kv = kv,
        .num_kv = 1,
    };
    lf_pq_writer *pw = NULL;
    lf_err rc = lf_pq_writer_open_io(&io, local, lfd_schema_columns, LFD_COL__COUNT, &o, &pw, err);
    if (rc != LF_OK) {
        close(fd);
        return rc;
    }
    qsort(p->rows, p->n, sizeof *p->rows, cmp_rows);
    f->ts_min = INT64_MAX;
    f->ts_max = INT64_MIN;
    for (size_t i = 0; i < p->n && rc == LF_OK; i++) {
        const held_rec *h = &w->held[p->rows[i].rec];
        const lfd_row *row = &h->batch.rows[p->rows[i].row];
        lf_pq_value v[LFD_COL__COUNT];
        lfd_schema_values(&h->batch, row, h->seq, v);
        rc = lf_pq_writer_add_row(pw, v, err);
        if (row->ts_min < f->ts_min)
            f->ts_min = row->ts_min;
        if (row->ts_max > f->ts_max)
            f->ts_max = row->ts_max;
        if (f->seq_first == 0 || h->seq < f->seq_first)
            f->seq_first = h->seq;
        if (h->seq > f->seq_last)
            f->seq_last = h->seq;
    }
    if (rc != LF_OK)
        lf_pq_writer_abort(pw);
    else
        rc = lf_pq_writer_close(pw, err);
    struct stat sb;
    if (rc == LF_OK && fstat(fd, &sb) != 0)
        rc = lf_error_set(err, LF_ERR_IO, "worker: stat %s: %s", local, strerror(errno));
    if (close(fd) != 0 && rc == LF_OK)
        rc = lf_error_set(err, LF_ERR_IO, "worker: close %s: %s", local, strerror(errno));
    if (rc != LF_OK)
        return rc;
    f->tenant_id = p->tenant_id;
    snprintf(f->app, sizeof f->app, "%s", p->app);
    memcpy(f->dt, p->dt, sizeof f->dt);
    f->hour = p->hour;
    f->rows = p->n;
    f->bytes = (uint64_t)sb.st_size;
    f->created = (int64_t)time(NULL);
    /* Hive-style: the tenant= and app= values equal the stored columns, so readers that apply
     * Hive partitioning (DuckDB does by default) see the same values either way. */
    snprintf(f->path, sizeof f->path, "tenant=%s/app=%s/dt=%s/hour=%02d/%020llu.parquet", p->tenant,
             p->app, p->dt, p->hour, (unsigned long long)w->first_seq);
    return LF_OK;
}

static void announce(lfd_worker *w, const lf_meta_file *files, const int64_t *ids, size_t n)
{
    int64_t now = lf_time_now_ns();
    pthread_mutex_lock(&w->mu);
    for (size_t i = 0; i < n; i++) {
        uint64_t seq = w->ring_next++;
        lfd_tail_file *t = &w->ring[seq % LFD_TAIL_RING];
        memset(t, 0, sizeof *t);
        t->seq = seq;
        t->file_id = ids[i];
        t->tenant_id = files[i].tenant_id;
        snprintf(t->app, sizeof t->app, "%s", files[i].app);
        snprintf(t->path, sizeof t->path, "%s", files[i].path);
        t->rows = files[i].rows;
        t->flushed_ns = now;
    }
    pthread_cond_broadcast(&w->cv);
    pthread_mutex_unlock(&w->mu);
}

/* One flush attempt. LF_OK when everything read so far is committed (or there was nothing). */
static lf_err flush(lfd_worker *w, lf_error *err)
{
    if (w->first_seq == 0 || w->last_read <= w->checkpoint)
        return LF_OK;
    lfd_app *app = w->app;
    size_t n = 0;
    lf_meta_file *files = calloc(w->n_parts ? w->n_parts : 1, sizeof *files);
    int64_t *ids = calloc(w->n_parts ? w->n_parts : 1, sizeof *ids);
    char(*local)[4200] = calloc(w->n_parts ? w->n_parts : 1, sizeof *local);
    lf_err rc = LF_OK;
    if (files == NULL || ids == NULL || local == NULL) {
        rc = lf_error_set(err, LF_ERR_NOMEM, "worker: no memory");
        goto out;
    }
    /* 1. Parquet files in scratch, fsynced. */
    for (size_t i = 0; i < w->n_parts && rc == LF_OK; i++) {
        if (w->parts[i].n == 0)
            continue;
        snprintf(local[n], sizeof local[n], "%s/wk-%020llu-%zu.parquet", w->scratch,
                 (unsigned long long)w->first_seq, i);
        rc = write_partition(w, &w->parts[i], local[n], &files[n], err);
        n++;
    }
    if (rc != LF_OK || crash_hook(w, LFD_WSTEP_WRITE))
        goto out;
    /* 2. Into the store: atomic, durable rename. */
    for (size_t i = 0; i < n && rc == LF_OK; i++) {
        rc = app->store->ops->put_file(app->store, files[i].path, local[i], err);
        if (rc == LF_OK && crash_hook(w, LFD_WSTEP_PUT_ONE))
            goto out;
    }
    if (rc != LF_OK || crash_hook(w, LFD_WSTEP_PUT_ALL))
        goto out;
    /* 3. Manifest + checkpoint in one transaction. A previous attempt may have committed and
     * still reported failure (a lost COMMIT answer): the checkpoint tells. */
    uint64_t cp = 0;
    lf_error cerr = {0};
    if (lf_meta_checkpoint_get(app->meta, LFD_WORKER_STREAM, &cp, &cerr) == LF_OK &&
        cp >= w->last_read) {
        wlog(w, "flush up to %llu was already committed", (unsigned long long)w->last_read);
    } else {
        rc = lf_meta_manifest_add(app->meta, files, n, LFD_WORKER_STREAM, w->last_read, ids, err);
        if (rc != LF_OK)
            goto out;
    }
    w->checkpoint = w->last_read;
    if (crash_hook(w, LFD_WSTEP_MANIFEST))
        goto out;
    /* 4. Release. A failure here loses nothing (the checkpoint is ahead; the next release
     * covers these records), so it is logged, not retried. */
    lf_error rerr = {0};
    if (lf_queue_release(app->queue, w->checkpoint, &rerr) != LF_OK)
        wlog(w, "spool release up to %llu failed: %s", (unsigned long long)w->checkpoint,
             rerr.message);
    if (crash_hook(w, LFD_WSTEP_RELEASE))
        goto out;
    announce(w, files, ids, n);
    pthread_mutex_lock(&w->mu);
    w->stats.flushes++;
    w->stats.files += n;
    for (size_t i = 0; i < n; i++)
        w->stats.rows += files[i].rows;
    w->stats.checkpoint = w->checkpoint;
    pthread_mutex_unlock(&w->mu);
    clear_buffers(w);
out:
    if (w->crashed && rc == LF_OK)
        rc = lf_error_set(err, LF_ERR_IO, "worker: stopped by a test crash hook");
    /* A simulated crash leaves its temporary files behind, as a real one would. */
    if (local != NULL && !w->crashed)
        for (size_t i = 0; i < n; i++)
            unlink(local[i]);
    free(files);
    free(ids);
    free(local);
    return rc;
}

/* ---------------- recovery ---------------- */

static void clean_dir_files(const char *dir)
{
    DIR *d = opendir(dir);
    if (d == NULL)
        return;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        char p[4400];
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        unlink(p);
    }
    closedir(d);
}

typedef struct orphan_scan {
    uint64_t checkpoint;
    char **keys;
    size_t n, cap;
    bool nomem;
} orphan_scan;

/* Object names the worker makes end in "/<20 digits>.parquet". */
static int orphan_fn(void *ctx, const char *key)
{
    orphan_scan *o = ctx;
    const char *base = strrchr(key, '/');
    base = base ? base + 1 : key;
    if (strlen(base) != 28 || strcmp(base + 20, ".parquet") != 0)
        return 0;
    uint64_t seq = 0;
    for (int i = 0; i < 20; i++) {
        if (base[i] < '0' || base[i] > '9')
            return 0;
        seq = seq * 10 + (uint64_t)(base[i] - '0');
    }
    if (seq <= o->checkpoint)
        return 0;
    if (o->n == o->cap) {
        size_t cap = o->cap ? o->cap * 2 : 16;
        char **nk = realloc(o->keys, cap * sizeof *nk);
        if (nk == NULL)
            return o->nomem = true, 1;
        o->keys = nk;
        o->cap = cap;
    }
    if ((o->keys[o->n] = strdup(key)) == NULL)
        return o->nomem = true, 1;
    o->n++;
    return 0;
}

static lf_err recover(lfd_worker *w, lf_error *err)
{
    lfd_app *app = w->app;
    lf_err rc = lf_meta_checkpoint_get(app->meta, LFD_WORKER_STREAM, &w->checkpoint, err);
    if (rc != LF_OK)
        return rc;
    w->last_read = w->checkpoint;
    /* Temporary files of an interrupted flush (ours and the store's put-*). */
    clean_dir_files(w->scratch);
    /* Objects renamed into place whose manifest commit never happened: their name (the flush's
     * first sequence) is above the checkpoint. They are redone from the spool. */
    orphan_scan o = {.checkpoint = w->checkpoint};
    rc = app->store->ops->list(app->store, "", orphan_fn, &o, err);
    if (rc == LF_OK && o.nomem)
        rc = lf_error_set(err, LF_ERR_NOMEM, "worker: no memory for recovery");
    for (size_t i = 0; i < o.n; i++) {
        if (rc == LF_OK) {
            rc = app->store->ops->remove(app->store, o.keys[i], err);
            if (rc == LF_ERR_NOT_FOUND)
                rc = LF_OK;
            if (rc == LF_OK) {
                wlog(w, "removed orphan %s (not in the manifest; will be rewritten)", o.keys[i]);
                w->stats.orphans_removed++;
            }
        }
        free(o.keys[i]);
    }
    free(o.keys);
    w->stats.checkpoint = w->checkpoint;
    return rc;
}

/* ---------------- the thread ---------------- */

static bool over_limits(lfd_worker *w)
{
    const lfd_config *c = w->app->cfg;
    uint64_t max_rows = c && c->worker_flush_rows > 0 ? (uint64_t)c->worker_flush_rows : 200000;
    uint64_t max_bytes = c && c->worker_flush_bytes ? c->worker_flush_bytes : 128u << 20;
    return w->buffered_rows >= max_rows || w->buffered_bytes >= max_bytes ||
           w->n_parts >= MAX_PARTITIONS;
}

static int64_t interval_ms(lfd_worker *w)
{
    const lfd_config *c = w->app->cfg;
    return c && c->worker_flush_interval_ms > 0 ? c->worker_flush_interval_ms : 5000;
}

static void finish_request(lfd_worker *w, uint64_t req, lf_err rc, const lf_error *e)
{
    pthread_mutex_lock(&w->mu);
    if (req > w->flush_done) {
        w->flush_done = req;
        w->flush_rc = rc;
        snprintf(w->flush_msg, sizeof w->flush_msg, "%s", rc == LF_OK ? "" : e->message);
    }
    pthread_cond_broadcast(&w->cv);
    pthread_mutex_unlock(&w->mu);
}

/* Read every durable record now (up to the limits). */
static lf_err drain(lfd_worker *w, lf_buf *rec, lf_error *err)
{
    while (!over_limits(w) && !w->retry_pending) {
        uint64_t seq = 0;
        lf_error rerr = {0};
        lf_err rc = lf_queue_read(w->app->queue, w->last_read + 1, 0, rec, &seq, &rerr);
        if (rc == LF_ERR_NOT_FOUND)
            return LF_OK;
        if (rc != LF_OK)
            return lf_error_set(err, rc, "worker: spool read: %s", rerr.message);
        if ((rc = take_record(w, seq, rec, err)) != LF_OK)
            return rc;
    }
    return LF_OK;
}

static void *run(void *arg)
{
    lfd_worker *w = arg;
    lf_buf rec = LF_BUF_INIT;
    int backoff = 0;
    int64_t retry_at = 0;
    for (;;) {
        pthread_mutex_lock(&w->mu);
        bool stopping = w->stopping;
        uint64_t req = w->flush_req;
        bool requested = req > w->flush_done;
        pthread_mutex_unlock(&w->mu);
        if (w->crashed)
            break;
        lf_error err = {0};
        if (stopping || requested) {
            /* A pending retry first (drain reads nothing while one is pending), then
             * everything durable now. */
            lf_err rc = w->retry_pending ? flush(w, &err) : LF_OK;
            w->retry_pending = rc != LF_OK;
            if (rc == LF_OK)
                rc = drain(w, &rec, &err);
            if (rc == LF_OK)
                rc = flush(w, &err);
            w->retry_pending = rc != LF_OK;
            if (rc != LF_OK) {
                wlog(w, "flush failed (will retry): %s", err.message);
                pthread_mutex_lock(&w->mu);
                w->stats.flush_errors++;
                pthread_mutex_unlock(&w->mu);
            }
            if (requested)
                finish_request(w, req, rc, &err);
            if (stopping)
                break;
            continue;
        }
        int64_t now = mono_ms();
        bool due =
            w->first_seq != 0 && !w->opt.no_age_flush && now - w->oldest_mono_ms >= interval_ms(w);
        if ((over_limits(w) || due || w->retry_pending) && now >= retry_at) {
            lf_err rc = flush(w, &err);
            if (w->crashed)
                break;
            w->retry_pending = rc != LF_OK;
            if (rc != LF_OK) {
                wlog(w, "flush failed (will retry): %s", err.message);
                pthread_mutex_lock(&w->mu);
                w->stats.flush_errors++;
                pthread_mutex_unlock(&w->mu);
                backoff = backoff ? backoff * 2 : BACKOFF_MIN_MS;
                if (backoff > BACKOFF_MAX_MS)
                    backoff = BACKOFF_MAX_MS;
                retry_at = now + backoff;
            } else {
                backoff = 0;
                retry_at = 0;
            }
            continue;
        }
        if (over_limits(w) || w->retry_pending) {
            /* Full, or waiting to retry a flush: do not read more. */
            pthread_mutex_lock(&w->mu);
            if (!w->stopping && w->flush_req <= w->flush_done) {
                struct timespec ts;
                clock_gettime(CLOCK_REALTIME, &ts);
                ts.tv_nsec += 50 * 1000000L;
                if (ts.tv_nsec >= 1000000000L) {
                    ts.tv_sec++;
                    ts.tv_nsec -= 1000000000L;
                }
                pthread_cond_timedwait(&w->cv, &w->mu, &ts);
            }
            pthread_mutex_unlock(&w->mu);
            continue;
        }
        /* Wait for a record, but not past the age deadline; short waits keep stop and flush
         * requests responsive without another wake-up channel into the spool. */
        int wait = 100;
        if (w->first_seq != 0 && !w->opt.no_age_flush) {
            int64_t left = w->oldest_mono_ms + interval_ms(w) - now;
            if (left < wait)
                wait = left > 0 ? (int)left : 1;
        }
        uint64_t seq = 0;
        lf_error rerr = {0};
        lf_err rc = lf_queue_read(w->app->queue, w->last_read + 1, wait, &rec, &seq, &rerr);
        if (rc == LF_OK) {
            if (take_record(w, seq, &rec, &err) != LF_OK) {
                wlog(w, "cannot take spool record %llu (will retry): %s", (unsigned long long)seq,
                     err.message);
                usleep(100 * 1000);
            }
        } else if (rc != LF_ERR_NOT_FOUND) {
            wlog(w, "spool read failed: %s", rerr.message);
            usleep(100 * 1000);
        }
    }
    lf_buf_free(&rec);
    return NULL;
}

/* ---------------- public ---------------- */

lf_err lfd_worker_start_opts(lfd_app *app, const lfd_worker_options *opts, lfd_worker **out,
                             lf_error *err)
{
    if (app == NULL || app->meta == NULL || app->queue == NULL || app->store == NULL || out == NULL)
        return lf_error_set(err, LF_ERR_INVALID, "worker: app with meta, queue and store needed");
    *out = NULL;
    lfd_worker *w = calloc(1, sizeof *w);
    if (w == NULL)
        return lf_error_set(err, LF_ERR_NOMEM, "worker: no memory");
    w->app = app;
    if (opts)
        w->opt = *opts;
    w->ring = calloc(LFD_TAIL_RING, sizeof *w->ring);
    w->ring_next = 1;
    pthread_mutex_init(&w->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_cond_init(&w->cv, &ca);
    pthread_condattr_destroy(&ca);
    lf_err rc = LF_OK;
    if (w->ring == NULL)
        rc = lf_error_set(err, LF_ERR_NOMEM, "worker: no memory");
    const char *data = app->cfg && app->cfg->data_dir ? app->cfg->data_dir : "";
    if (rc == LF_OK) {
        if (w->opt.quarantine_dir)
            snprintf(w->quarantine, sizeof w->quarantine, "%s", w->opt.quarantine_dir);
        else if (*data)
            snprintf(w->quarantine, sizeof w->quarantine, "%s/quarantine", data);
        else
            rc = lf_error_set(err, LF_ERR_INVALID, "worker: no data directory for quarantine");
        w->opt.quarantine_dir = NULL;
    }
    if (rc == LF_OK) {
        const char *scratch = lfd_store_fs_scratch(app->store);
        if (scratch) {
            snprintf(w->scratch, sizeof w->scratch, "%s", scratch);
        } else {
            snprintf(w->scratch, sizeof w->scratch, "/tmp/logfluxd-worker-XXXXXX");
            if (mkdtemp(w->scratch) == NULL)
                rc = lf_error_set(err, LF_ERR_IO, "worker: scratch directory: %s", strerror(errno));
            else
                w->own_scratch = true;
        }
    }
    if (rc == LF_OK)
        rc = recover(w, err);
    if (rc == LF_OK && pthread_create(&w->thread, NULL, run, w) != 0)
        rc = lf_error_set(err, LF_ERR_IO, "worker: cannot start thread");
    if (rc != LF_OK) {
        if (w->own_scratch)
            rmdir(w->scratch);
        pthread_mutex_destroy(&w->mu);
        pthread_cond_destroy(&w->cv);
        free(w->ring);
        free(w);
        return rc;
    }
    w->thread_started = true;
    *out = w;
    return LF_OK;
}

lf_err lfd_worker_start(lfd_app *app, lfd_worker **out, lf_error *err)
{
    return lfd_worker_start_opts(app, NULL, out, err);
}

void lfd_worker_stop(lfd_worker *w)
{
    if (w == NULL)
        return;
    pthread_mutex_lock(&w->mu);
    w->stopping = true;
    pthread_cond_broadcast(&w->cv);
    pthread_mutex_unlock(&w->mu);
    if (w->thread_started)
        pthread_join(w->thread, NULL);
    clear_buffers(w);
    free(w->held);
    free(w->parts);
    if (w->own_scratch) {
        clean_dir_files(w->scratch);
        rmdir(w->scratch);
    }
    pthread_mutex_destroy(&w->mu);
    pthread_cond_destroy(&w->cv);
    free(w->ring);
    free(w);
}

lf_err lfd_worker_flush(lfd_worker *w, lf_error *err)
{
    if (w == NULL)
        return lf_error_set(err, LF_ERR_INVALID, "worker: none");
    pthread_mutex_lock(&w->mu);
    uint64_t req = ++w->flush_req;
    pthread_cond_broadcast(&w->cv);
    /* Bounded: a crashed or stopping thread serves no more requests. */
    while (w->flush_done < req && !w->stopping && !w->stats.crashed) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_sec += 1;
        pthread_cond_timedwait(&w->cv, &w->mu, &ts);
    }
    lf_err rc;
    if (w->flush_done >= req) {
        rc = w->flush_rc;
        if (rc != LF_OK)
            lf_error_set(err, rc, "%s", w->flush_msg);
    } else {
        rc = lf_error_set(err, LF_ERR_IO, "worker: stopped before the flush");
    }
    pthread_mutex_unlock(&w->mu);
    return rc;
}

void lfd_worker_stats_get(lfd_worker *w, lfd_worker_stats *out)
{
    pthread_mutex_lock(&w->mu);
    *out = w->stats;
    pthread_mutex_unlock(&w->mu);
}

size_t lfd_worker_tail_wait(lfd_worker *w, int64_t tenant, uint64_t after_seq, int wait_ms,
                            lfd_tail_file *out, size_t max, uint64_t *last_seq, bool *gap)
{
    *gap = false;
    *last_seq = after_seq;
    if (w == NULL || max == 0)
        return 0;
    struct timespec deadline;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += wait_ms / 1000;
    deadline.tv_nsec += (long)(wait_ms % 1000) * 1000000L;
    if (deadline.tv_nsec >= 1000000000L) {
        deadline.tv_sec++;
        deadline.tv_nsec -= 1000000000L;
    }
    size_t n = 0;
    pthread_mutex_lock(&w->mu);
    for (;;) {
        uint64_t newest = w->ring_next - 1;
        uint64_t oldest = w->ring_next > LFD_TAIL_RING ? w->ring_next - LFD_TAIL_RING : 1;
        uint64_t s = after_seq + 1;
        if (s < oldest) {
            *gap = true;
            s = oldest;
        }
        for (; s <= newest && n < max; s++) {
            const lfd_tail_file *t = &w->ring[s % LFD_TAIL_RING];
            if (t->tenant_id == tenant)
                out[n++] = *t;
            *last_seq = s;
        }
        if (n > 0 || wait_ms <= 0 || w->stopping || w->tail_closed)
            break;
        if (pthread_cond_timedwait(&w->cv, &w->mu, &deadline) == ETIMEDOUT)
            wait_ms = 0; /* one last look, then return */
    }
    pthread_mutex_unlock(&w->mu);
    return n;
}

uint64_t lfd_worker_tail_seq_at(lfd_worker *w, int64_t since_ns)
{
    if (w == NULL)
        return 0;
    pthread_mutex_lock(&w->mu);
    uint64_t newest = w->ring_next - 1;
    uint64_t oldest = w->ring_next > LFD_TAIL_RING ? w->ring_next - LFD_TAIL_RING : 1;
    uint64_t r = oldest - 1;
    for (uint64_t s = newest; s >= oldest && s > 0; s--) {
        if (w->ring[s % LFD_TAIL_RING].flushed_ns <= since_ns) {
            r = s;
            break;
        }
    }
    pthread_mutex_unlock(&w->mu);
    return r;
}

void lfd_worker_tail_shutdown(lfd_worker *w)
{
    if (w == NULL)
        return;
    pthread_mutex_lock(&w->mu);
    w->tail_closed = true;
    pthread_cond_broadcast(&w->cv);
    pthread_mutex_unlock(&w->mu);
}

bool lfd_worker_tail_stopping(lfd_worker *w)
{
    pthread_mutex_lock(&w->mu);
    bool r = w->stopping || w->tail_closed;
    pthread_mutex_unlock(&w->mu);
    return r;
}

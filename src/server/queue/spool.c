/*
 * spool.c — the embedded durable queue: records in append-only segment files, group commit,
 * CRC-32C per record, recovery that drops only a torn tail, a bounded size, and a durable release
 * position. docs/SPOOL.md is the normative description; this comment is the map.
 *
 * Files in the spool directory:
 *   <first-seq, 20 decimal digits>.seg   segment: a 32-byte header, then framed records
 *   release.ckpt                         the release position (replaced atomically by rename)
 *
 * Group commit (leader/follower). An appender frames its records (headers only: the payload is
 * written straight from the caller's memory, which stays valid because the caller is blocked),
 * takes sequence numbers, queues itself and waits. If no flush is running it becomes the leader:
 * it takes the whole queue as one group, writes it with pwritev and makes it durable with one
 * fdatasync, outside the lock, while new appenders queue up for the next group. So N concurrent
 * appenders cost about one fsync per group, not N.
 *
 * Failure (short write that cannot complete, ENOSPC, EIO from fdatasync): after a failed fsync the
 * page cache of that file cannot be trusted (the kernel may have dropped the dirty pages and
 * marked them clean, so a later fsync "succeeds" without writing them). So the group and every
 * appender queued behind it fail with LF_ERR_IO, and the segment is "repaired" before any further
 * append: truncated back to its last durable length and fsynced (or unlinked if it holds no
 * durable record), then sealed; the next append opens a new segment file. Until the repair
 * succeeds every append fails with LF_ERR_IO, so the spool works again once the fault clears and
 * an older segment always ends cleanly on disk.
 *
 * Readers see only durable records. Release writes the checkpoint, then unlinks whole segments
 * that are entirely released and fsyncs the directory.
 */
#include "queue/spool.h"

#include "logflux/checksum.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

/* ---- format ---------------------------------------------------------------------------------- */

#define SEG_HDR       LF_SPOOL_SEGMENT_HEADER_LEN
#define REC_HDR       LF_SPOOL_RECORD_HEADER_LEN
#define CKPT_LEN      24u
#define SEG_VERSION   1u
#define SEG_NAME_LEN  24 /* 20 digits + ".seg" */
#define CKPT_NAME     "release.ckpt"
#define CKPT_TMP_NAME "release.ckpt.tmp"
#define IOV_BATCH     512
#define SCAN_CHUNK    65536

static const uint8_t seg_magic[8] = {'L', 'F', 'S', 'P', 'S', 'E', 'G', '1'};
static const uint8_t ckpt_magic[8] = {'L', 'F', 'S', 'P', 'C', 'K', 'P', '1'};
static const uint8_t rec_magic[4] = {'L', 'F', 'R', '1'};

static void put32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static void put64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t get64(const uint8_t *p)
{
    return (uint64_t)get32(p) | (uint64_t)get32(p + 4) << 32;
}

static void seg_header_build(uint8_t h[SEG_HDR], uint64_t first_seq)
{
    memset(h, 0, SEG_HDR);
    memcpy(h, seg_magic, 8);
    put32(h + 8, SEG_VERSION);
    put64(h + 16, first_seq);
    put32(h + 28, lf_crc32c(0, h, 28));
}

/* Record header. The CRC runs over the payload first and then header bytes 0..19, so that the
 * expensive part (the payload) is computed before the sequence number is known, outside the
 * lock; payload_crc = lf_crc32c(0, payload, len). */
static void rec_header_build(uint8_t h[REC_HDR], uint64_t seq, uint32_t payload_crc, size_t len)
{
    memcpy(h, rec_magic, 4);
    put32(h + 4, (uint32_t)len);
    put64(h + 8, seq);
    put32(h + 16, 0);
    put32(h + 20, lf_crc32c(payload_crc, h, 20));
}

/* ---- state ----------------------------------------------------------------------------------- */

typedef struct seg {
    uint64_t first_seq; /* from the file name and header */
    uint64_t next_seq;  /* one past the last durable record */
    uint64_t size;      /* durable bytes, header included */
} seg;

typedef struct waiter {
    const lf_queue_rec *recs;
    size_t n;
    uint8_t *hdrs; /* n record headers */
    uint64_t first_seq;
    uint64_t bytes; /* framed size of all n records */
    struct waiter *next;
    bool done;
    lf_err rc;
    char msg[LF_ERROR_MSG_MAX];
} waiter;

typedef struct spool {
    lf_queue base;
    const lf_spool_io *io;
    void *ioc;
    void (*log)(void *, const char *);
    void *log_ctx;
    char *dir;
    int dirfd;
    size_t max_record;
    uint64_t seg_bytes, max_bytes;

    pthread_mutex_t mu;
    pthread_cond_t cv_group; /* a group completed */
    pthread_cond_t cv_data;  /* durable_next advanced, or closing */
    seg *segs;               /* oldest first; the last one may be active */
    size_t nseg, capseg;
    uint64_t next_seq;     /* next sequence to hand out */
    uint64_t durable_next; /* every seq below this is durable */
    uint64_t released;
    uint64_t disk_bytes;   /* sum of segs[].size plus not-yet-unlinked leftovers */
    uint64_t reserved;     /* framed bytes of queued and in-flight appends */
    waiter *qhead, *qtail; /* queued appenders, not yet taken by a leader */
    bool flushing, closing;
    uint64_t n_records, n_syncs, recovered_dropped;

    /* Owned by the leader while flushing (else by whoever holds mu with flushing false). */
    int active_fd; /* open for appending to segs[nseg-1], or -1: next group starts a segment */
    uint64_t tail; /* write offset in the active segment */
    bool repair;   /* the active segment's tail must be cut back before any further append */

    pthread_mutex_t rmu; /* reader cursor */
    int rfd;
    uint64_t r_seg_first, r_seq, r_off;

    pthread_mutex_t relmu; /* one release at a time */
} spool;

static void spool_log(spool *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void spool_log(spool *s, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (s->log)
        s->log(s->log_ctx, msg);
    else
        fprintf(stderr, "logfluxd spool: %s\n", msg);
}

static void seg_path(const spool *s, uint64_t first_seq, char *out, size_t cap)
{
    snprintf(out, cap, "%s/%020" PRIu64 ".seg", s->dir, first_seq);
}

static lf_err io_fail(lf_error *err, const char *what, const char *path)
{
    int e = errno;
    return lf_error_set(err, LF_ERR_IO, "spool: %s %s: %s", what, path, strerror(e));
}

static lf_err sync_dir(spool *s, lf_error *err)
{
    if (s->io->fsync(s->ioc, s->dirfd) != 0)
        return io_fail(err, "fsync of directory", s->dir);
    return LF_OK;
}

/* Write all of iov at off, continuing after short writes (a short write on a regular file means
 * the next call reports the real error, e.g. ENOSPC). */
static lf_err write_all(spool *s, int fd, struct iovec *iov, int cnt, uint64_t off,
                        const char *path, lf_error *err)
{
    while (cnt > 0) {
        ssize_t n = s->io->pwritev(s->ioc, fd, iov, cnt, (off_t)off);
        if (n < 0)
            return io_fail(err, "write to", path);
        if (n == 0) {
            errno = EIO;
            return io_fail(err, "write (no progress) to", path);
        }
        off += (uint64_t)n;
        size_t left = (size_t)n;
        while (cnt > 0 && left >= iov->iov_len) {
            left -= iov->iov_len;
            iov++;
            cnt--;
        }
        if (cnt > 0) {
            iov->iov_base = (uint8_t *)iov->iov_base + left;
            iov->iov_len -= left;
        }
    }
    return LF_OK;
}

static lf_err read_exact(spool *s, int fd, void *buf, size_t len, uint64_t off, const char *path,
                         lf_error *err)
{
    uint8_t *p = buf;
    while (len > 0) {
        ssize_t n = s->io->pread(s->ioc, fd, p, len, (off_t)off);
        if (n < 0)
            return io_fail(err, "read from", path);
        if (n == 0)
            return lf_error_set(err, LF_ERR_TRUNCATED, "spool: %s ends early at offset %" PRIu64,
                                path, off);
        p += n;
        len -= (size_t)n;
        off += (uint64_t)n;
    }
    return LF_OK;
}

static lf_err segs_push(spool *s, seg sg)
{
    if (s->nseg == s->capseg) {
        size_t cap = s->capseg ? s->capseg * 2 : 16;
        seg *n = realloc(s->segs, cap * sizeof *n);
        if (!n)
            return LF_ERR_NOMEM;
        s->segs = n;
        s->capseg = cap;
    }
    s->segs[s->nseg++] = sg;
    return LF_OK;
}

/* ---- checkpoint ------------------------------------------------------------------------------ */

static lf_err ckpt_write(spool *s, uint64_t released, lf_error *err)
{
    char tmp[PATH_MAX], fin[PATH_MAX];
    uint8_t b[CKPT_LEN] = {0};
    memcpy(b, ckpt_magic, 8);
    put64(b + 8, released);
    put32(b + 20, lf_crc32c(0, b, 20));
    snprintf(tmp, sizeof tmp, "%s/" CKPT_TMP_NAME, s->dir);
    snprintf(fin, sizeof fin, "%s/" CKPT_NAME, s->dir);
    int fd = s->io->open(s->ioc, tmp, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0)
        return io_fail(err, "create", tmp);
    struct iovec iov = {b, sizeof b};
    lf_err rc = write_all(s, fd, &iov, 1, 0, tmp, err);
    if (rc == LF_OK && s->io->fdatasync(s->ioc, fd) != 0)
        rc = io_fail(err, "fdatasync", tmp);
    s->io->close(s->ioc, fd);
    if (rc == LF_OK && s->io->rename(s->ioc, tmp, fin) != 0)
        rc = io_fail(err, "rename to release.ckpt", tmp);
    if (rc == LF_OK)
        rc = sync_dir(s, err);
    if (rc != LF_OK)
        s->io->unlink(s->ioc, tmp);
    return rc;
}

static lf_err ckpt_read(spool *s, uint64_t *released, lf_error *err)
{
    char path[PATH_MAX];
    uint8_t b[CKPT_LEN];
    snprintf(path, sizeof path, "%s/" CKPT_NAME, s->dir);
    *released = 0;
    int fd = s->io->open(s->ioc, path, O_RDONLY, 0);
    if (fd < 0) {
        if (errno == ENOENT)
            return LF_OK;
        return io_fail(err, "open", path);
    }
    off_t size = 0;
    lf_err rc = LF_OK;
    if (s->io->fstat_size(s->ioc, fd, &size) != 0)
        rc = io_fail(err, "stat", path);
    else if (size != CKPT_LEN)
        rc = lf_error_set(err, LF_ERR_INVALID, "spool: %s is %lld bytes, not %u", path,
                          (long long)size, CKPT_LEN);
    else
        rc = read_exact(s, fd, b, sizeof b, 0, path, err);
    s->io->close(s->ioc, fd);
    if (rc != LF_OK)
        return rc;
    if (memcmp(b, ckpt_magic, 8) != 0 || get32(b + 16) != 0 || get32(b + 20) != lf_crc32c(0, b, 20))
        return lf_error_set(err, LF_ERR_INVALID, "spool: %s is corrupt (bad magic or CRC)", path);
    *released = get64(b + 8);
    return LF_OK;
}

/* ---- recovery -------------------------------------------------------------------------------- */

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* Parse "<20 digits>.seg"; anything else is not ours. */
static bool parse_seg_name(const char *name, uint64_t *seq)
{
    if (strlen(name) != SEG_NAME_LEN || strcmp(name + 20, ".seg") != 0)
        return false;
    uint64_t v = 0;
    for (int i = 0; i < 20; i++) {
        if (name[i] < '0' || name[i] > '9')
            return false;
        unsigned d = (unsigned)(name[i] - '0');
        if (v > (UINT64_MAX - d) / 10)
            return false;
        v = v * 10 + d;
    }
    *seq = v;
    return v > 0;
}

static lf_err list_segments(spool *s, uint64_t **out, size_t *count, lf_error *err)
{
    DIR *d = opendir(s->dir);
    if (!d)
        return io_fail(err, "open directory", s->dir);
    uint64_t *v = NULL;
    size_t n = 0, cap = 0;
    lf_err rc = LF_OK;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        uint64_t seq;
        if (!parse_seg_name(de->d_name, &seq))
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 16;
            uint64_t *nv = realloc(v, cap * sizeof *nv);
            if (!nv) {
                rc = lf_error_set(err, LF_ERR_NOMEM, "spool: listing %s", s->dir);
                break;
            }
            v = nv;
        }
        v[n++] = seq;
    }
    closedir(d);
    if (rc != LF_OK) {
        free(v);
        return rc;
    }
    if (n > 1)
        qsort(v, n, sizeof *v, cmp_u64);
    *out = v;
    *count = n;
    return LF_OK;
}

/* Scan the records of one open segment. *end: offset just past the last intact record; *next:
 * the sequence after it. Returns LF_OK also when the scan stopped at damage (then *damaged). */
static lf_err scan_records(spool *s, int fd, const char *path, uint64_t size, uint64_t first_seq,
                           uint64_t *end, uint64_t *next, bool *damaged, lf_error *err)
{
    uint8_t h[REC_HDR];
    *end = SEG_HDR;
    *next = first_seq;
    *damaged = false;
    uint8_t *chunk = malloc(SCAN_CHUNK);
    if (!chunk)
        return lf_error_set(err, LF_ERR_NOMEM, "spool: scanning %s", path);
    uint64_t off = SEG_HDR, seq = first_seq;
    lf_err rc = LF_OK;
    *damaged = false;
    while (off < size) {
        if (size - off < REC_HDR) {
            *damaged = true;
            break;
        }
        if ((rc = read_exact(s, fd, h, REC_HDR, off, path, err)) != LF_OK)
            break;
        uint32_t len = get32(h + 4);
        if (memcmp(h, rec_magic, 4) != 0 || get32(h + 16) != 0 || get64(h + 8) != seq ||
            len > LF_SPOOL_MAX_RECORD_LIMIT || size - off - REC_HDR < len) {
            *damaged = true;
            break;
        }
        uint32_t crc = 0;
        uint64_t p = off + REC_HDR, left = len;
        while (left > 0 && rc == LF_OK) {
            size_t take = left < SCAN_CHUNK ? (size_t)left : SCAN_CHUNK;
            rc = read_exact(s, fd, chunk, take, p, path, err);
            crc = lf_crc32c(crc, chunk, take);
            p += take;
            left -= take;
        }
        if (rc != LF_OK)
            break;
        if (lf_crc32c(crc, h, 20) != get32(h + 20)) {
            *damaged = true;
            break;
        }
        off += REC_HDR + (uint64_t)len;
        seq++;
    }
    free(chunk);
    *end = off;
    *next = seq;
    return rc;
}

/* Recover one segment. is_last: damage is a torn tail and is cut off; elsewhere it is an error.
 * *keep false: the (last) segment was a torn creation and has been removed. */
static lf_err recover_segment(spool *s, uint64_t name_seq, bool is_last, bool *keep, lf_error *err)
{
    char path[PATH_MAX];
    seg_path(s, name_seq, path, sizeof path);
    *keep = false;
    int fd = s->io->open(s->ioc, path, is_last ? O_RDWR : O_RDONLY, 0);
    if (fd < 0)
        return io_fail(err, "open", path);
    lf_err rc = LF_OK;
    off_t fsize = 0;
    uint8_t h[SEG_HDR];
    if (s->io->fstat_size(s->ioc, fd, &fsize) != 0) {
        rc = io_fail(err, "stat", path);
        goto out;
    }
    uint64_t size = (uint64_t)fsize;
    bool header_ok = size >= SEG_HDR && read_exact(s, fd, h, SEG_HDR, 0, path, err) == LF_OK &&
                     memcmp(h, seg_magic, 8) == 0 && get32(h + 28) == lf_crc32c(0, h, 28);
    if (!header_ok) {
        if (!is_last) {
            rc = lf_error_set(err, LF_ERR_INVALID,
                              "spool: %s: missing or corrupt segment header (not the last "
                              "segment: refusing to guess; see docs/SPOOL.md)",
                              path);
            goto out;
        }
        /* A crash while the segment was being created: it never held an acknowledged record. */
        spool_log(s, "recovery: %s has a torn header (%" PRIu64 " bytes); removing it", path, size);
        s->recovered_dropped += size;
        s->io->close(s->ioc, fd);
        fd = -1;
        if (s->io->unlink(s->ioc, path) != 0)
            rc = io_fail(err, "unlink", path);
        else
            rc = sync_dir(s, err);
        goto out;
    }
    if (get32(h + 8) != SEG_VERSION) {
        rc = lf_error_set(err, LF_ERR_UNSUPPORTED, "spool: %s: segment version %" PRIu32, path,
                          get32(h + 8));
        goto out;
    }
    if (get64(h + 16) != name_seq || get32(h + 12) != 0 || get32(h + 24) != 0) {
        rc = lf_error_set(err, LF_ERR_INVALID,
                          "spool: %s: header names first sequence %" PRIu64 ", file name %" PRIu64,
                          path, get64(h + 16), name_seq);
        goto out;
    }
    if (s->nseg > 0 && s->segs[s->nseg - 1].next_seq != name_seq) {
        rc = lf_error_set(err, LF_ERR_INVALID,
                          "spool: %s: sequence gap or overlap: previous segment ends before "
                          "%" PRIu64 ", this one starts at %" PRIu64,
                          path, s->segs[s->nseg - 1].next_seq, name_seq);
        goto out;
    }
    uint64_t end, next;
    bool damaged;
    if ((rc = scan_records(s, fd, path, size, name_seq, &end, &next, &damaged, err)) != LF_OK)
        goto out;
    if (damaged) {
        if (!is_last) {
            rc = lf_error_set(err, LF_ERR_INVALID,
                              "spool: %s: corrupt record at offset %" PRIu64 " (sequence %" PRIu64
                              ") in a segment that is not the last; see docs/SPOOL.md",
                              path, end, next);
            goto out;
        }
        spool_log(s,
                  "recovery: %s: dropping torn tail of %" PRIu64 " bytes at offset %" PRIu64
                  " (records from sequence %" PRIu64 " were never acknowledged)",
                  path, size - end, end, next);
        if (s->io->ftruncate(s->ioc, fd, (off_t)end) != 0) {
            rc = io_fail(err, "truncate torn tail of", path);
            goto out;
        }
        if (s->io->fsync(s->ioc, fd) != 0) {
            rc = io_fail(err, "fsync after truncating", path);
            goto out;
        }
        s->recovered_dropped += size - end;
        size = end;
    }
    if (is_last && next == name_seq) {
        /* No record: remove it so that the next segment, which starts at the same sequence, can
         * take the name. */
        s->io->close(s->ioc, fd);
        fd = -1;
        if (s->io->unlink(s->ioc, path) != 0)
            rc = io_fail(err, "unlink empty segment", path);
        else
            rc = sync_dir(s, err);
        goto out;
    }
    seg sg = {name_seq, next, size};
    if (segs_push(s, sg) != LF_OK) {
        rc = lf_error_set(err, LF_ERR_NOMEM, "spool: recovering %s", path);
        goto out;
    }
    s->disk_bytes += size;
    *keep = true;
out:
    if (fd >= 0)
        s->io->close(s->ioc, fd);
    return rc;
}

/* Unlink segments (oldest first) entirely at or below the release position. Caller holds relmu or
 * is single-threaded (open). Returns the bytes freed in *freed. */
static lf_err unlink_released(spool *s, const uint64_t *firsts, size_t n, lf_error *err)
{
    char path[PATH_MAX];
    for (size_t i = 0; i < n; i++) {
        seg_path(s, firsts[i], path, sizeof path);
        if (s->io->unlink(s->ioc, path) != 0 && errno != ENOENT)
            return io_fail(err, "unlink released segment", path);
    }
    return n ? sync_dir(s, err) : LF_OK;
}

static lf_err recover(spool *s, lf_error *err)
{
    uint64_t *names = NULL;
    size_t n = 0;
    char tmp[PATH_MAX];
    snprintf(tmp, sizeof tmp, "%s/" CKPT_TMP_NAME, s->dir);
    if (s->io->unlink(s->ioc, tmp) != 0 && errno != ENOENT)
        return io_fail(err, "unlink stale", tmp);
    lf_err rc = ckpt_read(s, &s->released, err);
    if (rc == LF_OK)
        rc = list_segments(s, &names, &n, err);
    for (size_t i = 0; rc == LF_OK && i < n; i++) {
        bool keep;
        rc = recover_segment(s, names[i], i + 1 == n, &keep, err);
    }
    free(names);
    if (rc != LF_OK)
        return rc;
    /* Segments wholly released whose unlink a crash interrupted. */
    size_t drop = 0;
    while (drop < s->nseg && s->segs[drop].next_seq <= s->released + 1)
        drop++;
    if (drop) {
        uint64_t *firsts = malloc(drop * sizeof *firsts);
        if (!firsts)
            return lf_error_set(err, LF_ERR_NOMEM, "spool: recovery");
        for (size_t i = 0; i < drop; i++) {
            firsts[i] = s->segs[i].first_seq;
            s->disk_bytes -= s->segs[i].size;
        }
        rc = unlink_released(s, firsts, drop, err);
        free(firsts);
        if (rc != LF_OK)
            return rc;
        memmove(s->segs, s->segs + drop, (s->nseg - drop) * sizeof *s->segs);
        s->nseg -= drop;
    }
    if (s->nseg > 0 && s->segs[0].first_seq > s->released + 1)
        return lf_error_set(err, LF_ERR_INVALID,
                            "spool: %s: records %" PRIu64 "..%" PRIu64
                            " are neither released nor in any segment (a segment file is missing)",
                            s->dir, s->released + 1, s->segs[0].first_seq - 1);
    uint64_t next = s->nseg ? s->segs[s->nseg - 1].next_seq : 1;
    if (next < s->released + 1)
        next = s->released + 1;
    s->next_seq = s->durable_next = next;
    return LF_OK;
}

/* ---- append (group commit) ------------------------------------------------------------------- */

/* Start a new segment whose first record will be first_seq: create, write the header, make file
 * and directory entry durable. Leader only. */
static lf_err open_new_segment(spool *s, uint64_t first_seq, lf_error *err)
{
    char path[PATH_MAX];
    uint8_t h[SEG_HDR];
    seg_path(s, first_seq, path, sizeof path);
    seg_header_build(h, first_seq);
    /* O_TRUNC, not O_EXCL: a file of this name can only be a segment a failed creation or failed
     * group left behind and whose removal failed; it never held an acknowledged record. */
    int fd = s->io->open(s->ioc, path, O_RDWR | O_CREAT | O_TRUNC, 0600);
    if (fd < 0)
        return io_fail(err, "create segment", path);
    struct iovec iov = {h, SEG_HDR};
    lf_err rc = write_all(s, fd, &iov, 1, 0, path, err);
    if (rc == LF_OK && s->io->fdatasync(s->ioc, fd) != 0)
        rc = io_fail(err, "fdatasync new segment", path);
    if (rc == LF_OK)
        rc = sync_dir(s, err);
    if (rc == LF_OK) {
        pthread_mutex_lock(&s->mu);
        if (segs_push(s, (seg){first_seq, first_seq, SEG_HDR}) != LF_OK)
            rc = lf_error_set(err, LF_ERR_NOMEM, "spool: segment table");
        else
            s->disk_bytes += SEG_HDR;
        pthread_mutex_unlock(&s->mu);
    }
    if (rc != LF_OK) {
        s->io->close(s->ioc, fd);
        if (s->io->unlink(s->ioc, path) == 0)
            s->io->fsync(s->ioc, s->dirfd);
        return rc;
    }
    s->active_fd = fd;
    s->tail = SEG_HDR;
    return LF_OK;
}

/* Cut the active segment back to its durable length and seal it (or remove it if it holds no
 * durable record). Never write to a tail that has seen a failed write or sync again. Leader only.
 */
static lf_err repair_active(spool *s, lf_error *err)
{
    char path[PATH_MAX];
    pthread_mutex_lock(&s->mu);
    seg last = s->segs[s->nseg - 1];
    pthread_mutex_unlock(&s->mu);
    seg_path(s, last.first_seq, path, sizeof path);
    if (last.next_seq == last.first_seq) {
        s->io->close(s->ioc, s->active_fd);
        s->active_fd = -1;
        if (s->io->unlink(s->ioc, path) != 0 && errno != ENOENT)
            return io_fail(err, "repair: unlink failed segment", path);
        lf_err rc = sync_dir(s, err);
        if (rc != LF_OK)
            return rc;
        pthread_mutex_lock(&s->mu);
        s->nseg--;
        s->disk_bytes -= last.size;
        pthread_mutex_unlock(&s->mu);
    } else {
        if (s->io->ftruncate(s->ioc, s->active_fd, (off_t)last.size) != 0)
            return io_fail(err, "repair: truncate to last durable offset", path);
        if (s->io->fsync(s->ioc, s->active_fd) != 0)
            return io_fail(err, "repair: fsync after truncating", path);
        s->io->close(s->ioc, s->active_fd);
        s->active_fd = -1;
    }
    s->repair = false;
    spool_log(s,
              "repaired %s: cut back to %" PRIu64 " durable bytes; appends continue in a new "
              "segment",
              path, last.size);
    return LF_OK;
}

/* Make the bytes written to the active segment durable and visible. Leader only. */
static lf_err commit_active(spool *s, uint64_t next_seq, lf_error *err)
{
    char path[PATH_MAX];
    pthread_mutex_lock(&s->mu);
    seg *last = &s->segs[s->nseg - 1];
    uint64_t first = last->first_seq, had = last->size;
    pthread_mutex_unlock(&s->mu);
    if (s->tail == had)
        return LF_OK;
    if (s->io->fdatasync(s->ioc, s->active_fd) != 0) {
        seg_path(s, first, path, sizeof path);
        return io_fail(err, "fdatasync", path);
    }
    pthread_mutex_lock(&s->mu);
    last = &s->segs[s->nseg - 1];
    uint64_t added = s->tail - last->size;
    last->size = s->tail;
    last->next_seq = next_seq;
    s->durable_next = next_seq;
    s->disk_bytes += added;
    s->reserved -= added;
    s->n_syncs++;
    pthread_cond_broadcast(&s->cv_data);
    pthread_mutex_unlock(&s->mu);
    return LF_OK;
}

/* Write and sync one group (a list of waiters with consecutive sequences). Leader only. */
static lf_err flush_group(spool *s, waiter *group, lf_error *err)
{
    char path[PATH_MAX];
    struct iovec iov[IOV_BATCH];
    lf_err rc = LF_OK;
    if (s->repair) {
        lf_error re = {0};
        if ((rc = repair_active(s, &re)) != LF_OK)
            return lf_error_set(err, rc,
                                "spool: refusing appends until the failed tail is "
                                "repaired: %s",
                                re.message);
    }
    waiter *w = group;
    size_t ri = 0;
    while (w) {
        uint64_t seq = w->first_seq + ri;
        if (s->active_fd < 0 && (rc = open_new_segment(s, seq, err)) != LF_OK)
            return rc;
        /* Gather the records that fit in this segment (at least one: a record larger than the
         * segment size gets a segment of its own). */
        int cnt = 0;
        uint64_t start = s->tail, off = s->tail;
        bool roll = false;
        while (w && cnt + 2 <= IOV_BATCH) {
            uint64_t sz = REC_HDR + (uint64_t)w->recs[ri].len;
            if (off > SEG_HDR && off + sz > s->seg_bytes) {
                roll = true;
                break;
            }
            iov[cnt].iov_base = w->hdrs + ri * REC_HDR;
            iov[cnt++].iov_len = REC_HDR;
            if (w->recs[ri].len) {
                iov[cnt].iov_base = (void *)w->recs[ri].data;
                iov[cnt++].iov_len = w->recs[ri].len;
            }
            off += sz;
            seq++;
            if (++ri == w->n) {
                w = w->next;
                ri = 0;
            }
        }
        if (cnt > 0) {
            pthread_mutex_lock(&s->mu);
            uint64_t first = s->segs[s->nseg - 1].first_seq;
            pthread_mutex_unlock(&s->mu);
            seg_path(s, first, path, sizeof path);
            rc = write_all(s, s->active_fd, iov, cnt, start, path, err);
            if (rc != LF_OK)
                return rc;
            s->tail = off;
        }
        if (roll) {
            if ((rc = commit_active(s, seq, err)) != LF_OK)
                return rc;
            s->io->close(s->ioc, s->active_fd);
            s->active_fd = -1;
        } else if (!w || cnt + 2 > IOV_BATCH) {
            /* End of group, or the iovec batch is full: continue writing, sync at the end. */
            if (!w && (rc = commit_active(s, seq, err)) != LF_OK)
                return rc;
        }
    }
    return LF_OK;
}

/* Mark waiters done. Caller holds mu. Waiters all of whose records are durable succeed. */
static void complete(spool *s, waiter *list, lf_err rc, const lf_error *e)
{
    for (waiter *w = list; w; w = w->next) {
        if (w->first_seq + w->n <= s->durable_next) {
            w->rc = LF_OK;
            s->n_records += w->n;
        } else {
            w->rc = rc != LF_OK ? rc : LF_ERR_IO;
            snprintf(w->msg, sizeof w->msg, "%s",
                     rc != LF_OK ? e->message : "spool: an earlier append failed");
        }
        w->done = true;
    }
}

static lf_err spool_append(lf_queue *q, const lf_queue_rec *recs, size_t n, uint64_t *first_seq,
                           lf_error *err)
{
    spool *s = (spool *)q;
    if (!recs || n == 0)
        return lf_error_set(err, LF_ERR_INVALID, "spool: append of no records");
    uint64_t bytes = 0;
    for (size_t i = 0; i < n; i++) {
        if (recs[i].len > s->max_record)
            return lf_error_set(err, LF_ERR_TOO_LARGE,
                                "spool: record of %zu bytes exceeds the limit of %zu", recs[i].len,
                                s->max_record);
        if (recs[i].len && !recs[i].data)
            return lf_error_set(err, LF_ERR_INVALID, "spool: record %zu has no data", i);
        bytes += REC_HDR + recs[i].len;
        if (bytes + SEG_HDR > s->max_bytes)
            return lf_error_set(err, LF_ERR_TOO_LARGE,
                                "spool: batch of %zu records can never fit in %" PRIu64 " bytes", n,
                                s->max_bytes);
    }
    waiter w = {.recs = recs, .n = n, .bytes = bytes};
    uint32_t *crcs = malloc(n * sizeof *crcs);
    w.hdrs = malloc(n * REC_HDR);
    if (!w.hdrs || !crcs) {
        free(crcs);
        free(w.hdrs);
        return lf_error_set(err, LF_ERR_NOMEM, "spool: append of %zu records", n);
    }
    for (size_t i = 0; i < n; i++)
        crcs[i] = lf_crc32c(0, recs[i].data, recs[i].len);

    pthread_mutex_lock(&s->mu);
    lf_err rc = LF_OK;
    if (s->closing) {
        rc = lf_error_set(err, LF_ERR_IO, "spool: closed");
        goto refused;
    }
    if (s->disk_bytes + s->reserved + bytes > s->max_bytes) {
        rc = lf_error_set(err, LF_ERR_FULL,
                          "spool: full (%" PRIu64 " + %" PRIu64 " of %" PRIu64
                          " bytes); retry later",
                          s->disk_bytes + s->reserved, bytes, s->max_bytes);
        goto refused;
    }
    s->reserved += bytes;
    w.first_seq = s->next_seq;
    s->next_seq += n;
    for (size_t i = 0; i < n; i++)
        rec_header_build(w.hdrs + i * REC_HDR, w.first_seq + i, crcs[i], recs[i].len);
    if (s->qtail)
        s->qtail->next = &w;
    else
        s->qhead = &w;
    s->qtail = &w;
    while (!w.done) {
        if (s->flushing) {
            pthread_cond_wait(&s->cv_group, &s->mu);
            continue;
        }
        /* Become the leader of everything queued so far. */
        waiter *group = s->qhead;
        s->qhead = s->qtail = NULL;
        s->flushing = true;
        pthread_mutex_unlock(&s->mu);

        lf_error e = {0};
        lf_err frc = flush_group(s, group, &e);
        if (frc != LF_OK && s->active_fd >= 0) {
            s->repair = true;
            lf_error re = {0};
            if (repair_active(s, &re) != LF_OK)
                spool_log(s, "%s (will retry before the next append)", re.message);
        }
        if (frc != LF_OK)
            spool_log(s, "append failed: %s", e.message);

        pthread_mutex_lock(&s->mu);
        complete(s, group, frc, &e);
        if (frc != LF_OK) {
            /* Sequences beyond the durable end are handed out again: fail everyone queued
             * behind the failed group (their headers carry sequences that will be reused). */
            complete(s, s->qhead, frc, &e);
            s->qhead = s->qtail = NULL;
            s->next_seq = s->durable_next;
            s->reserved = 0; /* nothing is queued or in flight any more */
        }
        s->flushing = false;
        pthread_cond_broadcast(&s->cv_group);
    }
    if (w.rc == LF_OK)
        *first_seq = w.first_seq;
    else
        rc = lf_error_set(err, w.rc, "%s", w.msg);
refused:
    pthread_mutex_unlock(&s->mu);
    free(crcs);
    free(w.hdrs);
    return rc;
}

/* ---- read ------------------------------------------------------------------------------------ */

static void deadline_after(struct timespec *ts, int ms)
{
    clock_gettime(CLOCK_MONOTONIC, ts);
    ts->tv_sec += ms / 1000;
    ts->tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts->tv_nsec >= 1000000000L) {
        ts->tv_sec++;
        ts->tv_nsec -= 1000000000L;
    }
}

/* Find the segment holding durable sequence seq. Caller holds mu. */
static const seg *find_seg(const spool *s, uint64_t seq)
{
    size_t lo = 0, hi = s->nseg;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (s->segs[mid].next_seq <= seq)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < s->nseg && s->segs[lo].first_seq <= seq ? &s->segs[lo] : NULL;
}

/* Read record want from segment sg through the reader cursor. Caller holds rmu. */
static lf_err read_record(spool *s, seg sg, uint64_t want, lf_buf *out, lf_error *err)
{
    char path[PATH_MAX];
    seg_path(s, sg.first_seq, path, sizeof path);
    if (s->rfd < 0 || s->r_seg_first != sg.first_seq) {
        if (s->rfd >= 0)
            s->io->close(s->ioc, s->rfd);
        s->rfd = s->io->open(s->ioc, path, O_RDONLY, 0);
        if (s->rfd < 0)
            return io_fail(err, "open for reading", path);
        s->r_seg_first = sg.first_seq;
        s->r_seq = sg.first_seq;
        s->r_off = SEG_HDR;
    }
    if (s->r_seq > want) {
        s->r_seq = sg.first_seq;
        s->r_off = SEG_HDR;
    }
    uint8_t h[REC_HDR];
    for (;;) {
        lf_err rc = read_exact(s, s->rfd, h, REC_HDR, s->r_off, path, err);
        if (rc != LF_OK)
            return rc;
        uint32_t len = get32(h + 4);
        if (memcmp(h, rec_magic, 4) != 0 || get64(h + 8) != s->r_seq || len > s->max_record ||
            s->r_off + REC_HDR + len > sg.size) {
            uint64_t bad = s->r_off;
            s->r_seg_first = 0;
            return lf_error_set(err, LF_ERR_INVALID,
                                "spool: %s: bad record header at offset %" PRIu64
                                " (expected sequence %" PRIu64 ")",
                                path, bad, s->r_seq);
        }
        if (s->r_seq == want) {
            lf_buf_reset(out);
            if (lf_buf_reserve(out, len) != LF_OK)
                return lf_error_set(err, LF_ERR_NOMEM, "spool: record of %" PRIu32 " bytes", len);
            rc = read_exact(s, s->rfd, out->data, len, s->r_off + REC_HDR, path, err);
            if (rc != LF_OK)
                return rc;
            uint32_t crc = lf_crc32c(lf_crc32c(0, out->data, len), h, 20);
            if (crc != get32(h + 20)) {
                s->r_seg_first = 0;
                return lf_error_set(err, LF_ERR_INVALID,
                                    "spool: %s: CRC mismatch in record %" PRIu64
                                    " at offset %" PRIu64,
                                    path, want, s->r_off);
            }
            out->len = len;
            s->r_seq++;
            s->r_off += REC_HDR + len;
            return LF_OK;
        }
        s->r_seq++;
        s->r_off += REC_HDR + len;
    }
}

static lf_err spool_read(lf_queue *q, uint64_t from_seq, int timeout_ms, lf_buf *out, uint64_t *seq,
                         lf_error *err)
{
    spool *s = (spool *)q;
    struct timespec deadline;
    if (timeout_ms > 0)
        deadline_after(&deadline, timeout_ms);
    pthread_mutex_lock(&s->mu);
    uint64_t want;
    for (;;) {
        want = from_seq > s->released ? from_seq : s->released + 1;
        if (want < s->durable_next)
            break;
        if (s->closing || timeout_ms == 0) {
            pthread_mutex_unlock(&s->mu);
            return lf_error_set(err, LF_ERR_NOT_FOUND, "spool: no record at or after %" PRIu64,
                                want);
        }
        if (timeout_ms < 0) {
            pthread_cond_wait(&s->cv_data, &s->mu);
        } else if (pthread_cond_timedwait(&s->cv_data, &s->mu, &deadline) == ETIMEDOUT) {
            timeout_ms = 0; /* one last look, then report */
        }
    }
    const seg *found = find_seg(s, want);
    seg sg = found ? *found : (seg){0, 0, 0};
    pthread_mutex_unlock(&s->mu);
    if (!found)
        return lf_error_set(err, LF_ERR_NOT_FOUND, "spool: record %" PRIu64 " is gone", want);
    pthread_mutex_lock(&s->rmu);
    lf_err rc = read_record(s, sg, want, out, err);
    pthread_mutex_unlock(&s->rmu);
    if (rc == LF_OK)
        *seq = want;
    return rc;
}

/* ---- release --------------------------------------------------------------------------------- */

static lf_err spool_release(lf_queue *q, uint64_t upto, lf_error *err)
{
    spool *s = (spool *)q;
    lf_err rc = LF_OK;
    uint64_t *firsts = NULL;
    size_t nf = 0;
    uint64_t freed = 0;
    pthread_mutex_lock(&s->relmu);
    pthread_mutex_lock(&s->mu);
    uint64_t released = s->released, durable_next = s->durable_next;
    pthread_mutex_unlock(&s->mu);
    if (upto <= released)
        goto out;
    if (upto >= durable_next) {
        rc =
            lf_error_set(err, LF_ERR_INVALID,
                         "spool: release up to %" PRIu64 " beyond the last durable record %" PRIu64,
                         upto, durable_next - 1);
        goto out;
    }
    /* The position first: once it is durable, a crash at any later point only leaves files
     * that recovery recognises as released and removes. */
    if ((rc = ckpt_write(s, upto, err)) != LF_OK)
        goto out;
    pthread_mutex_lock(&s->mu);
    s->released = upto;
    size_t drop = 0;
    while (drop < s->nseg && s->segs[drop].next_seq <= upto + 1) {
        bool is_last = drop + 1 == s->nseg;
        /* The active segment goes too when nothing is being written to it, so that a spool whose
         * bound is smaller than a segment cannot wedge itself; the next append starts a new one. */
        if (is_last && s->active_fd >= 0) {
            if (s->flushing || s->qhead || s->repair)
                break;
            s->io->close(s->ioc, s->active_fd);
            s->active_fd = -1;
        }
        drop++;
    }
    if (drop) {
        firsts = malloc(drop * sizeof *firsts);
        if (!firsts) {
            pthread_mutex_unlock(&s->mu);
            rc = lf_error_set(err, LF_ERR_NOMEM, "spool: release");
            goto out;
        }
        for (size_t i = 0; i < drop; i++) {
            firsts[i] = s->segs[i].first_seq;
            freed += s->segs[i].size;
        }
        memmove(s->segs, s->segs + drop, (s->nseg - drop) * sizeof *s->segs);
        s->nseg -= drop;
        nf = drop;
    }
    pthread_mutex_unlock(&s->mu);
    rc = unlink_released(s, firsts, nf, err);
    if (rc == LF_OK) {
        /* Space is credited only once the files are gone (a failed unlink keeps it counted until
         * the next open removes the leftovers). */
        pthread_mutex_lock(&s->mu);
        s->disk_bytes -= freed;
        pthread_mutex_unlock(&s->mu);
    }
out:
    pthread_mutex_unlock(&s->relmu);
    free(firsts);
    return rc;
}

/* ---- stats, close, open ---------------------------------------------------------------------- */

static void spool_stats(lf_queue *q, lf_queue_stats *st)
{
    spool *s = (spool *)q;
    pthread_mutex_lock(&s->mu);
    st->next_seq = s->next_seq;
    st->durable_seq = s->durable_next - 1;
    st->released_seq = s->released;
    st->bytes_used = s->disk_bytes + s->reserved;
    st->bytes_max = s->max_bytes;
    st->segments = s->nseg;
    st->records = s->n_records;
    st->syncs = s->n_syncs;
    st->recovered_bytes_dropped = s->recovered_dropped;
    pthread_mutex_unlock(&s->mu);
}

static void spool_free(spool *s)
{
    if (s->active_fd >= 0)
        s->io->close(s->ioc, s->active_fd);
    if (s->rfd >= 0)
        s->io->close(s->ioc, s->rfd);
    if (s->dirfd >= 0)
        s->io->close(s->ioc, s->dirfd);
    pthread_mutex_destroy(&s->mu);
    pthread_mutex_destroy(&s->rmu);
    pthread_mutex_destroy(&s->relmu);
    pthread_cond_destroy(&s->cv_group);
    pthread_cond_destroy(&s->cv_data);
    free(s->segs);
    free(s->dir);
    free(s);
}

static void spool_close(lf_queue *q)
{
    spool *s = (spool *)q;
    pthread_mutex_lock(&s->mu);
    s->closing = true;
    while (s->flushing || s->qhead)
        pthread_cond_wait(&s->cv_group, &s->mu);
    pthread_cond_broadcast(&s->cv_data);
    pthread_mutex_unlock(&s->mu);
    if (s->repair) {
        lf_error e = {0};
        if (repair_active(s, &e) != LF_OK)
            spool_log(s, "close: %s (recovery at the next open cuts the tail)", e.message);
    }
    spool_free(s);
}

static const lf_queue_ops spool_ops = {
    "spool", spool_append, spool_read, spool_release, spool_stats, spool_close,
};

lf_err lf_spool_open(const char *dir, const lf_spool_options *opt, lf_queue **out, lf_error *err)
{
    lf_spool_options o = opt ? *opt : (lf_spool_options){0};
    if (!dir || !*dir || !out)
        return lf_error_set(err, LF_ERR_INVALID, "spool: no directory given");
    if (strlen(dir) > PATH_MAX - 64)
        return lf_error_set(err, LF_ERR_INVALID, "spool: directory path too long");
    if (!o.max_record_bytes)
        o.max_record_bytes = LF_SPOOL_DEFAULT_MAX_RECORD;
    if (!o.segment_bytes)
        o.segment_bytes = LF_SPOOL_DEFAULT_SEGMENT;
    if (!o.max_bytes)
        o.max_bytes = LF_SPOOL_DEFAULT_MAX_BYTES;
    if (o.max_record_bytes > LF_SPOOL_MAX_RECORD_LIMIT)
        return lf_error_set(err, LF_ERR_INVALID, "spool: max record size %zu above %zu",
                            o.max_record_bytes, LF_SPOOL_MAX_RECORD_LIMIT);
    if (o.segment_bytes < SEG_HDR + REC_HDR || o.max_bytes < o.segment_bytes)
        return lf_error_set(err, LF_ERR_INVALID,
                            "spool: segment size %" PRIu64 " must be at least %u and at most the "
                            "bound %" PRIu64,
                            o.segment_bytes, SEG_HDR + REC_HDR, o.max_bytes);
    if (!o.io)
        o.io = lf_spool_io_posix();

    spool *s = calloc(1, sizeof *s);
    if (!s || !(s->dir = strdup(dir))) {
        free(s);
        return lf_error_set(err, LF_ERR_NOMEM, "spool: open");
    }
    s->base.ops = &spool_ops;
    s->io = o.io;
    s->ioc = o.io_ctx;
    s->log = o.log;
    s->log_ctx = o.log_ctx;
    s->max_record = o.max_record_bytes;
    s->seg_bytes = o.segment_bytes;
    s->max_bytes = o.max_bytes;
    s->active_fd = s->rfd = s->dirfd = -1;
    pthread_mutex_init(&s->mu, NULL);
    pthread_mutex_init(&s->rmu, NULL);
    pthread_mutex_init(&s->relmu, NULL);
    pthread_cond_init(&s->cv_group, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&s->cv_data, &ca);
    pthread_condattr_destroy(&ca);

    lf_err rc;
    if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
        rc = io_fail(err, "create directory", dir);
        goto fail;
    }
    s->dirfd = s->io->open(s->ioc, dir, O_RDONLY | O_DIRECTORY, 0);
    if (s->dirfd < 0) {
        rc = io_fail(err, "open directory", dir);
        goto fail;
    }
    if ((rc = recover(s, err)) != LF_OK)
        goto fail;
    *out = &s->base;
    return LF_OK;
fail:
    spool_free(s);
    return rc;
}

/*
 * buffer.c — the agent's disk buffer (format and rules: docs/AGENT-BUFFER.md).
 *
 * Layout of the directory:
 *   NNNNNNNNNNNNNNNNNNNN.seg   a segment; 20 digits = id of its first item
 *   acked.ckpt                 highest acked id (replaced atomically: tmp + fsync + rename)
 *   quarantine/                damaged segments, each with a .reason file next to it
 *
 * A segment is a 32-byte header followed by items back to back; each item is a 40-byte header,
 * the app name, the idempotency key and the sealed body, covered by one CRC-32C. Items carry
 * consecutive ids within a segment. Writes are sequential and every append ends with an
 * fdatasync, so a crash can only damage the tail of the LAST segment: recovery cuts that tail
 * off. Damage anywhere else is media corruption or tampering: that segment is moved into
 * quarantine/ (never deleted, never fatal) and the rest of the buffer stays usable.
 *
 * In memory we keep, per segment, an index of its items (id, offset, size, record count), so
 * peek can pread items directly and the bound/drop/ack arithmetic needs no disk access.
 * One mutex serialises everything, including the fdatasync: the agent has one appender and
 * one shipper, and a sync per append is the durability contract anyway.
 */
#include "buffer/buffer.h"

#include "logflux/checksum.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define SEG_HDR      32
#define ITEM_HDR     40
#define CKPT_SIZE    24
#define STREAM_CHUNK 65536
#define PATH_CAP     4096

static const char SEG_MAGIC[8] = {'L', 'F', 'A', 'B', 'S', 'E', 'G', '1'};
static const char ITEM_MAGIC[4] = {'L', 'F', 'A', 'I'};
static const char CKPT_MAGIC[8] = {'L', 'F', 'A', 'B', 'C', 'K', 'P', '1'};

/* Records are checked with CRC-32C (logflux/checksum.h), as the server's spool does. */

static void put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}
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
static uint16_t get16(const uint8_t *p)
{
    return (uint16_t)(p[0] | (p[1] << 8));
}
static uint32_t get32(const uint8_t *p)
{
    uint32_t v = 0;
    for (int i = 3; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}
static uint64_t get64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

/* ---- POSIX io ---- */
static int px_open(void *c, const char *p, int f, mode_t m)
{
    (void)c;
    return open(p, f | O_CLOEXEC, m);
}
static int px_close(void *c, int fd)
{
    (void)c;
    return close(fd);
}
static ssize_t px_pread(void *c, int fd, void *b, size_t n, off_t o)
{
    (void)c;
    return pread(fd, b, n, o);
}
static ssize_t px_pwrite(void *c, int fd, const void *b, size_t n, off_t o)
{
    (void)c;
    return pwrite(fd, b, n, o);
}
static int px_fdatasync(void *c, int fd)
{
    (void)c;
    return fdatasync(fd);
}
static int px_fsync(void *c, int fd)
{
    (void)c;
    return fsync(fd);
}
static int px_ftruncate(void *c, int fd, off_t n)
{
    (void)c;
    return ftruncate(fd, n);
}
static int px_rename(void *c, const char *a, const char *b)
{
    (void)c;
    return rename(a, b);
}
static int px_unlink(void *c, const char *p)
{
    (void)c;
    return unlink(p);
}

static const lf_agent_buffer_io posix_io = {px_open,      px_close,     px_pread,
                                            px_pwrite,    px_fdatasync, px_fsync,
                                            px_ftruncate, px_rename,    px_unlink};

const lf_agent_buffer_io *lf_agent_buffer_io_posix(void)
{
    return &posix_io;
}

/* ---- state ---- */
typedef struct item_ref {
    uint64_t id;
    uint64_t off;
    uint64_t size;
    uint32_t records;
} item_ref;

typedef struct segment {
    uint64_t first_id;
    uint64_t size; /* bytes in the file (durable) */
    item_ref *items;
    size_t n, cap;
} segment;

struct lf_agent_buffer {
    char *dir;
    int dirfd;
    uint64_t max_bytes, segment_bytes;
    lf_agent_buffer_policy policy;
    const lf_agent_buffer_io *io;
    void *ctx;
    pthread_mutex_t mu;
    segment *segs; /* oldest first; the last one is the active segment when active_fd >= 0 */
    size_t nsegs, segcap;
    int active_fd;    /* open descriptor of segs[nsegs-1], or -1 (next append starts a segment) */
    bool need_repair; /* a failed append left bytes past segs[last].size: cut them first */
    uint64_t next_id;
    uint64_t acked;
    lf_agent_buffer_stats st;
};

static lf_err io_fail(lf_error *err, const char *what, const char *path)
{
    int e = errno;
    return lf_error_set(err, LF_ERR_IO, "agent buffer: %s %s: %s", what, path,
                        e ? strerror(e) : "short transfer");
}

static void seg_name(char *out, size_t cap, uint64_t first_id)
{
    snprintf(out, cap, "%020" PRIu64 ".seg", first_id);
}

static void seg_path(const lf_agent_buffer *b, char *out, size_t cap, uint64_t first_id)
{
    char name[32];
    seg_name(name, sizeof name, first_id);
    snprintf(out, cap, "%s/%s", b->dir, name);
}

static int write_all(const lf_agent_buffer *b, int fd, const void *data, size_t len, off_t off)
{
    const uint8_t *p = data;
    while (len > 0) {
        ssize_t w = b->io->pwrite(b->ctx, fd, p, len, off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            if (w == 0)
                errno = ENOSPC; /* no progress: treat as a full disk */
            return -1;
        }
        p += w;
        len -= (size_t)w;
        off += w;
    }
    return 0;
}

static int read_all(const lf_agent_buffer *b, int fd, void *data, size_t len, off_t off)
{
    uint8_t *p = data;
    while (len > 0) {
        ssize_t r = b->io->pread(b->ctx, fd, p, len, off);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return -1;
        p += r;
        len -= (size_t)r;
        off += r;
    }
    return 0;
}

static lf_err fsync_dir(lf_agent_buffer *b, lf_error *err)
{
    if (b->io->fsync(b->ctx, b->dirfd) != 0)
        return io_fail(err, "fsync of directory", b->dir);
    return LF_OK;
}

static bool key_valid(const char *k, size_t len)
{
    if (len < LF_AGENT_BUFFER_KEY_MIN || len > LF_AGENT_BUFFER_KEY_MAX)
        return false;
    for (size_t i = 0; i < len; i++) {
        char c = k[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-'))
            return false;
    }
    return true;
}

static bool app_valid(const char *a, size_t len)
{
    if (len < 1 || len > LF_AGENT_BUFFER_APP_MAX)
        return false;
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)a[i] < 0x20 || a[i] == 0x7F)
            return false;
    return true;
}

/* ---- segments in memory ---- */
static void segment_free(segment *s)
{
    free(s->items);
    memset(s, 0, sizeof *s);
}

static lf_err segment_add_item(segment *s, const item_ref *r)
{
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 16;
        item_ref *p = realloc(s->items, cap * sizeof *p);
        if (p == NULL)
            return LF_ERR_NOMEM;
        s->items = p;
        s->cap = cap;
    }
    s->items[s->n++] = *r;
    return LF_OK;
}

static lf_err segs_push(lf_agent_buffer *b, const segment *s)
{
    if (b->nsegs == b->segcap) {
        size_t cap = b->segcap ? b->segcap * 2 : 8;
        segment *p = realloc(b->segs, cap * sizeof *p);
        if (p == NULL)
            return LF_ERR_NOMEM;
        b->segs = p;
        b->segcap = cap;
    }
    b->segs[b->nsegs++] = *s;
    return LF_OK;
}

static void segs_remove(lf_agent_buffer *b, size_t i)
{
    if (i == b->nsegs - 1 && b->active_fd >= 0) {
        b->io->close(b->ctx, b->active_fd);
        b->active_fd = -1;
        b->need_repair = false;
    }
    segment_free(&b->segs[i]);
    memmove(&b->segs[i], &b->segs[i + 1], (b->nsegs - i - 1) * sizeof *b->segs);
    b->nsegs--;
}

/* Items pending and bytes used, from the index. */
static void recount(lf_agent_buffer *b)
{
    uint64_t bytes = 0, items = 0, records = 0;
    for (size_t i = 0; i < b->nsegs; i++) {
        bytes += b->segs[i].size;
        for (size_t j = 0; j < b->segs[i].n; j++)
            if (b->segs[i].items[j].id > b->acked) {
                items++;
                records += b->segs[i].items[j].records;
            }
    }
    b->st.bytes_used = bytes;
    b->st.items_pending = items;
    b->st.records_pending = records;
}

/* ---- item verification ---- */

/*
 * Check the item at off in fd (file_size bytes long): header fields in range, id == want_id
 * (0 = any), CRC. When out is non-NULL the item is also copied into it (body malloc'd).
 * Returns 0 and fills ref, or -1 with reason. Never allocates more than the file holds.
 */
static int check_item(const lf_agent_buffer *b, int fd, uint64_t off, uint64_t file_size,
                      uint64_t want_id, item_ref *ref, lf_agent_buffer_item *out, char *reason,
                      size_t rcap)
{
    uint8_t h[ITEM_HDR];
    uint8_t meta[LF_AGENT_BUFFER_APP_MAX + LF_AGENT_BUFFER_KEY_MAX];
    if (file_size - off < ITEM_HDR) {
        snprintf(reason, rcap, "item header cut short at offset %" PRIu64, off);
        return -1;
    }
    if (read_all(b, fd, h, ITEM_HDR, (off_t)off) != 0) {
        snprintf(reason, rcap, "read error at offset %" PRIu64, off);
        return -1;
    }
    uint64_t id = get64(h + 4);
    uint32_t records = get32(h + 20), body_len = get32(h + 24);
    uint16_t app_len = get16(h + 28), key_len = get16(h + 30);
    if (memcmp(h, ITEM_MAGIC, 4) != 0 || get32(h + 32) != 0 || app_len < 1 ||
        app_len > LF_AGENT_BUFFER_APP_MAX || key_len < LF_AGENT_BUFFER_KEY_MIN ||
        key_len > LF_AGENT_BUFFER_KEY_MAX || body_len > LF_AGENT_BUFFER_BODY_MAX ||
        (want_id != 0 && id != want_id) || id == 0) {
        snprintf(reason, rcap, "bad item header at offset %" PRIu64, off);
        return -1;
    }
    uint64_t size = (uint64_t)ITEM_HDR + app_len + key_len + body_len;
    if (size > file_size - off) {
        snprintf(reason, rcap, "item at offset %" PRIu64 " runs past the end of the file", off);
        return -1;
    }
    size_t mlen = (size_t)app_len + key_len;
    if (read_all(b, fd, meta, mlen, (off_t)(off + ITEM_HDR)) != 0) {
        snprintf(reason, rcap, "read error at offset %" PRIu64, off);
        return -1;
    }
    if (!app_valid((const char *)meta, app_len) ||
        !key_valid((const char *)meta + app_len, key_len)) {
        snprintf(reason, rcap, "bad app name or key in item at offset %" PRIu64, off);
        return -1;
    }
    uint32_t crc = lf_crc32c(0, h, 36);
    crc = lf_crc32c(crc, meta, mlen);
    uint64_t body_off = off + ITEM_HDR + mlen;
    uint8_t *body = NULL;
    if (out != NULL) {
        body = malloc(body_len ? body_len : 1);
        if (body == NULL || read_all(b, fd, body, body_len, (off_t)body_off) != 0) {
            free(body);
            snprintf(reason, rcap, "cannot read body at offset %" PRIu64, off);
            return -1;
        }
        crc = lf_crc32c(crc, body, body_len);
    } else {
        uint8_t chunk[4096];
        uint64_t left = body_len, pos = body_off;
        while (left > 0) {
            size_t n = left > sizeof chunk ? sizeof chunk : (size_t)left;
            if (read_all(b, fd, chunk, n, (off_t)pos) != 0) {
                snprintf(reason, rcap, "read error at offset %" PRIu64, pos);
                return -1;
            }
            crc = lf_crc32c(crc, chunk, n);
            left -= n;
            pos += n;
        }
    }
    if (crc != get32(h + 36)) {
        free(body);
        snprintf(reason, rcap, "CRC mismatch in item %" PRIu64 " at offset %" PRIu64, id, off);
        return -1;
    }
    ref->id = id;
    ref->off = off;
    ref->size = size;
    ref->records = records;
    if (out != NULL) {
        memset(out, 0, sizeof *out);
        out->id = id;
        memcpy(out->app, meta, app_len);
        memcpy(out->idempotency_key, meta + app_len, key_len);
        out->records = records;
        out->created_ms = (int64_t)get64(h + 12);
        out->body = body;
        out->body_len = body_len;
    }
    return 0;
}

/* ---- quarantine ---- */

/*
 * Move segment file first_id into quarantine/ with a .reason file. Failure to move is not
 * fatal (the file stays where it is and the next open looks at it again); it is still counted.
 */
static void quarantine_file(lf_agent_buffer *b, const char *name, const char *reason)
{
    char from[PATH_CAP], to[PATH_CAP], why[PATH_CAP + 16];
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    snprintf(from, sizeof from, "%s/%s", b->dir, name);
    snprintf(to, sizeof to, "%s/quarantine/%s.%lld%09ld", b->dir, name, (long long)ts.tv_sec,
             ts.tv_nsec);
    snprintf(why, sizeof why, "%s.reason", to);
    int fd = b->io->open(b->ctx, why, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd >= 0) {
        char text[512];
        int n = snprintf(text, sizeof text, "%s: %s\n", name, reason);
        if (n > 0)
            (void)write_all(b, fd, text, (size_t)n < sizeof text ? (size_t)n : sizeof text - 1, 0);
        (void)b->io->fsync(b->ctx, fd);
        b->io->close(b->ctx, fd);
    }
    (void)b->io->rename(b->ctx, from, to);
    char qdir[PATH_CAP];
    snprintf(qdir, sizeof qdir, "%s/quarantine", b->dir);
    int qfd = b->io->open(b->ctx, qdir, O_RDONLY | O_DIRECTORY, 0);
    if (qfd >= 0) {
        (void)b->io->fsync(b->ctx, qfd);
        b->io->close(b->ctx, qfd);
    }
    (void)b->io->fsync(b->ctx, b->dirfd);
}

static void quarantine_segment(lf_agent_buffer *b, size_t i, const char *reason)
{
    char name[32];
    seg_name(name, sizeof name, b->segs[i].first_id);
    if (i == b->nsegs - 1 && b->active_fd >= 0) {
        b->io->close(b->ctx, b->active_fd);
        b->active_fd = -1;
        b->need_repair = false;
    }
    quarantine_file(b, name, reason);
    b->st.quarantined_segments++;
    segs_remove(b, i);
    recount(b);
}

/* ---- checkpoint ---- */
static lf_err ckpt_write(lf_agent_buffer *b, uint64_t acked, lf_error *err)
{
    char tmp[PATH_CAP], fin[PATH_CAP];
    snprintf(tmp, sizeof tmp, "%s/acked.ckpt.tmp", b->dir);
    snprintf(fin, sizeof fin, "%s/acked.ckpt", b->dir);
    uint8_t c[CKPT_SIZE] = {0};
    memcpy(c, CKPT_MAGIC, 8);
    put64(c + 8, acked);
    put32(c + 20, lf_crc32c(0, c, 20));
    int fd = b->io->open(b->ctx, tmp, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0)
        return io_fail(err, "create", tmp);
    lf_err rc = LF_OK;
    if (write_all(b, fd, c, sizeof c, 0) != 0)
        rc = io_fail(err, "write", tmp);
    else if (b->io->fdatasync(b->ctx, fd) != 0)
        rc = io_fail(err, "fdatasync", tmp);
    b->io->close(b->ctx, fd);
    if (rc == LF_OK && b->io->rename(b->ctx, tmp, fin) != 0)
        rc = io_fail(err, "rename to acked.ckpt", tmp);
    if (rc == LF_OK)
        rc = fsync_dir(b, err);
    if (rc != LF_OK)
        (void)b->io->unlink(b->ctx, tmp);
    return rc;
}

/* Read acked.ckpt; a damaged one is quarantined and treated as 0 (everything redelivered). */
static void ckpt_read(lf_agent_buffer *b)
{
    char tmp[PATH_CAP], fin[PATH_CAP];
    snprintf(tmp, sizeof tmp, "%s/acked.ckpt.tmp", b->dir);
    snprintf(fin, sizeof fin, "%s/acked.ckpt", b->dir);
    (void)b->io->unlink(b->ctx, tmp);
    b->acked = 0;
    int fd = b->io->open(b->ctx, fin, O_RDONLY, 0);
    if (fd < 0)
        return; /* absent: nothing acked yet */
    uint8_t c[CKPT_SIZE + 1];
    ssize_t n = b->io->pread(b->ctx, fd, c, sizeof c, 0);
    b->io->close(b->ctx, fd);
    if (n == CKPT_SIZE && memcmp(c, CKPT_MAGIC, 8) == 0 && get32(c + 16) == 0 &&
        get32(c + 20) == lf_crc32c(0, c, 20) && get64(c + 8) < ((uint64_t)1 << 62)) {
        b->acked = get64(c + 8);
        return;
    }
    quarantine_file(b, "acked.ckpt", "checkpoint has a wrong size, magic or CRC");
    b->st.checkpoint_resets++;
}

/* ---- recovery ---- */
static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static bool parse_seg_name(const char *name, uint64_t *id)
{
    if (strlen(name) != 24 || strcmp(name + 20, ".seg") != 0)
        return false;
    uint64_t v = 0;
    for (int i = 0; i < 20; i++) {
        if (name[i] < '0' || name[i] > '9')
            return false;
        uint64_t d = (uint64_t)(name[i] - '0');
        if (v > (UINT64_MAX - d) / 10)
            return false;
        v = v * 10 + d;
    }
    *id = v;
    return v != 0 && v < ((uint64_t)1 << 62); /* ids never get near overflow */
}

static lf_err list_segments(lf_agent_buffer *b, uint64_t **ids_out, size_t *n_out, lf_error *err)
{
    DIR *d = opendir(b->dir);
    if (d == NULL)
        return io_fail(err, "list", b->dir);
    uint64_t *ids = NULL;
    size_t n = 0, cap = 0;
    lf_err rc = LF_OK;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        uint64_t id;
        if (!parse_seg_name(e->d_name, &id))
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 16;
            uint64_t *p = realloc(ids, cap * sizeof *p);
            if (p == NULL) {
                rc = lf_error_set(err, LF_ERR_NOMEM, "agent buffer: listing segments");
                break;
            }
            ids = p;
        }
        ids[n++] = id;
    }
    closedir(d);
    if (rc != LF_OK) {
        free(ids);
        return rc;
    }
    if (n > 1)
        qsort(ids, n, sizeof *ids, cmp_u64);
    *ids_out = ids;
    *n_out = n;
    return LF_OK;
}

/*
 * Scan one segment. Returns LF_OK with the segment pushed (or removed, if empty/fully acked),
 * or an LF_ERR_IO for failures of the directory itself. Damage is handled here.
 */
static lf_err recover_segment(lf_agent_buffer *b, uint64_t first_id, bool is_last, uint64_t min_id,
                              lf_error *err)
{
    char path[PATH_CAP], name[32], reason[256];
    seg_path(b, path, sizeof path, first_id);
    seg_name(name, sizeof name, first_id);
    int fd = b->io->open(b->ctx, path, O_RDWR, 0);
    if (fd < 0)
        return io_fail(err, "open", path);
    struct stat sb;
    segment s = {.first_id = first_id};
    lf_err rc = LF_OK;
    if (fstat(fd, &sb) != 0) {
        rc = io_fail(err, "stat", path);
        goto out;
    }
    uint64_t file_size = (uint64_t)sb.st_size;
    uint8_t h[SEG_HDR];
    bool hdr_ok = file_size >= SEG_HDR && read_all(b, fd, h, SEG_HDR, 0) == 0 &&
                  memcmp(h, SEG_MAGIC, 8) == 0 && get32(h + 8) == 1 && get32(h + 12) == 0 &&
                  get64(h + 16) == first_id && get32(h + 24) == 0 &&
                  get32(h + 28) == lf_crc32c(0, h, 28);
    if (!hdr_ok) {
        if (is_last && file_size <= SEG_HDR) {
            /* Crash while the segment was being created: it never held an item. */
            b->st.recovered_bytes_truncated += file_size;
            b->io->close(b->ctx, fd);
            fd = -1;
            if (b->io->unlink(b->ctx, path) != 0)
                return io_fail(err, "unlink torn segment", path);
            return fsync_dir(b, err);
        }
        b->io->close(b->ctx, fd);
        fd = -1;
        quarantine_file(b, name, "bad segment header");
        b->st.quarantined_segments++;
        return LF_OK;
    }
    if (first_id < min_id) {
        b->io->close(b->ctx, fd);
        fd = -1;
        quarantine_file(b, name, "segment ids overlap the previous segment");
        b->st.quarantined_segments++;
        return LF_OK;
    }
    uint64_t off = SEG_HDR, want = first_id;
    while (off < file_size) {
        item_ref r;
        if (check_item(b, fd, off, file_size, want, &r, NULL, reason, sizeof reason) != 0) {
            if (!is_last) {
                b->io->close(b->ctx, fd);
                fd = -1;
                quarantine_file(b, name, reason);
                b->st.quarantined_segments++;
                goto out;
            }
            /* Torn tail: never acknowledged (every ack follows an fdatasync covering it). */
            if (b->io->ftruncate(b->ctx, fd, (off_t)off) != 0 || b->io->fsync(b->ctx, fd) != 0) {
                rc = io_fail(err, "truncate torn tail of", path);
                goto out;
            }
            b->st.recovered_bytes_truncated += file_size - off;
            file_size = off;
            break;
        }
        if (segment_add_item(&s, &r) != LF_OK) {
            rc = lf_error_set(err, LF_ERR_NOMEM, "agent buffer: indexing %s", name);
            goto out;
        }
        off += r.size;
        want++;
    }
    s.size = file_size;
    if (s.n == 0 || s.items[s.n - 1].id <= b->acked) {
        /* Empty or fully shipped: it has nothing to give. */
        b->io->close(b->ctx, fd);
        fd = -1;
        if (s.n > 0 && s.items[s.n - 1].id >= b->next_id)
            b->next_id = s.items[s.n - 1].id + 1;
        if (b->io->unlink(b->ctx, path) != 0)
            rc = io_fail(err, "unlink", path);
        else
            rc = fsync_dir(b, err);
        goto out;
    }
    if (s.items[s.n - 1].id >= b->next_id)
        b->next_id = s.items[s.n - 1].id + 1;
    if ((rc = segs_push(b, &s)) != LF_OK) {
        lf_error_set(err, rc, "agent buffer: indexing %s", name);
        goto out;
    }
    s.items = NULL;
    if (is_last && s.size < b->segment_bytes) {
        b->active_fd = fd; /* keep appending to it */
        fd = -1;
    }
out:
    if (fd >= 0)
        b->io->close(b->ctx, fd);
    segment_free(&s);
    return rc;
}

static lf_err recover(lf_agent_buffer *b, lf_error *err)
{
    ckpt_read(b);
    b->next_id = b->acked + 1;
    uint64_t *ids = NULL;
    size_t n = 0;
    lf_err rc = list_segments(b, &ids, &n, err);
    if (rc != LF_OK)
        return rc;
    for (size_t i = 0; i < n && rc == LF_OK; i++) {
        uint64_t min_id = 1;
        if (b->nsegs > 0) {
            segment *prev = &b->segs[b->nsegs - 1];
            min_id = prev->items[prev->n - 1].id + 1;
        }
        /* Only the newest segment may still be open for appends. */
        if (b->active_fd >= 0) {
            b->io->close(b->ctx, b->active_fd);
            b->active_fd = -1;
        }
        rc = recover_segment(b, ids[i], i == n - 1, min_id, err);
        /* Never reuse a name we saw, even one whose file we could not move away. */
        if (ids[i] >= b->next_id)
            b->next_id = ids[i] + 1;
    }
    free(ids);
    recount(b);
    return rc;
}

/* ---- open / close ---- */
lf_err lf_agent_buffer_open(const char *dir, const lf_agent_buffer_options *opt,
                            lf_agent_buffer **out, lf_error *err)
{
    if (dir == NULL || out == NULL || strlen(dir) > PATH_CAP - 128)
        return lf_error_set(err, LF_ERR_INVALID, "agent buffer: missing or too long directory");
    *out = NULL;
    lf_agent_buffer_options o = {0};
    if (opt != NULL)
        o = *opt;
    if (o.max_bytes == 0)
        o.max_bytes = LF_AGENT_BUFFER_DEFAULT_MAX_BYTES;
    if (o.segment_bytes == 0)
        o.segment_bytes = o.max_bytes < LF_AGENT_BUFFER_DEFAULT_SEGMENT_BYTES
                              ? o.max_bytes
                              : LF_AGENT_BUFFER_DEFAULT_SEGMENT_BYTES;
    if (o.segment_bytes > o.max_bytes || o.max_bytes < 4096 || o.segment_bytes < 256 ||
        (o.policy != LF_AGENT_BUFFER_BLOCK && o.policy != LF_AGENT_BUFFER_DROP_OLDEST))
        return lf_error_set(err, LF_ERR_INVALID,
                            "agent buffer: need 256 <= segment_bytes <= max_bytes, max_bytes >= "
                            "4096 and a known policy");
    if (mkdir(dir, 0700) != 0 && errno != EEXIST)
        return io_fail(err, "create directory", dir);
    char q[PATH_CAP];
    snprintf(q, sizeof q, "%s/quarantine", dir);
    if (mkdir(q, 0700) != 0 && errno != EEXIST)
        return io_fail(err, "create directory", q);

    lf_agent_buffer *b = calloc(1, sizeof *b);
    if (b == NULL || (b->dir = strdup(dir)) == NULL) {
        free(b);
        return lf_error_set(err, LF_ERR_NOMEM, "agent buffer: open");
    }
    b->max_bytes = o.max_bytes;
    b->segment_bytes = o.segment_bytes;
    b->policy = o.policy;
    b->io = o.io ? o.io : &posix_io;
    b->ctx = o.io_ctx;
    b->active_fd = -1;
    b->dirfd = b->io->open(b->ctx, dir, O_RDONLY | O_DIRECTORY, 0);
    pthread_mutex_init(&b->mu, NULL);
    lf_err rc = b->dirfd < 0 ? io_fail(err, "open directory", dir) : recover(b, err);
    if (rc != LF_OK) {
        lf_agent_buffer_close(b);
        return rc;
    }
    *out = b;
    return LF_OK;
}

void lf_agent_buffer_close(lf_agent_buffer *b)
{
    if (b == NULL)
        return;
    if (b->active_fd >= 0)
        b->io->close(b->ctx, b->active_fd);
    for (size_t i = 0; i < b->nsegs; i++)
        segment_free(&b->segs[i]);
    free(b->segs);
    if (b->dirfd >= 0)
        b->io->close(b->ctx, b->dirfd);
    pthread_mutex_destroy(&b->mu);
    free(b->dir);
    free(b);
}

/* ---- append ---- */

/* Cut back the bytes a failed append may have left past the durable end. */
static lf_err repair_active(lf_agent_buffer *b, lf_error *err)
{
    if (!b->need_repair)
        return LF_OK;
    segment *s = &b->segs[b->nsegs - 1];
    if (b->io->ftruncate(b->ctx, b->active_fd, (off_t)s->size) != 0 ||
        b->io->fsync(b->ctx, b->active_fd) != 0) {
        char path[PATH_CAP];
        seg_path(b, path, sizeof path, s->first_id);
        return io_fail(err, "cut back failed append in", path);
    }
    b->need_repair = false;
    return LF_OK;
}

static lf_err start_segment(lf_agent_buffer *b, lf_error *err)
{
    char path[PATH_CAP];
    seg_path(b, path, sizeof path, b->next_id);
    int fd = b->io->open(b->ctx, path, O_RDWR | O_CREAT | O_TRUNC, 0600);
    if (fd < 0)
        return io_fail(err, "create segment", path);
    uint8_t h[SEG_HDR] = {0};
    memcpy(h, SEG_MAGIC, 8);
    put32(h + 8, 1);
    put64(h + 16, b->next_id);
    put32(h + 28, lf_crc32c(0, h, 28));
    lf_err rc = LF_OK;
    if (write_all(b, fd, h, SEG_HDR, 0) != 0)
        rc = io_fail(err, "write header of", path);
    else if (b->io->fdatasync(b->ctx, fd) != 0)
        rc = io_fail(err, "fdatasync", path);
    else
        rc = fsync_dir(b, err);
    segment s = {.first_id = b->next_id, .size = SEG_HDR};
    if (rc == LF_OK && segs_push(b, &s) != LF_OK)
        rc = lf_error_set(err, LF_ERR_NOMEM, "agent buffer: new segment");
    if (rc != LF_OK) {
        b->io->close(b->ctx, fd);
        (void)b->io->unlink(b->ctx, path);
        return rc;
    }
    if (b->active_fd >= 0)
        b->io->close(b->ctx, b->active_fd);
    b->active_fd = fd;
    b->need_repair = false;
    b->st.bytes_used += SEG_HDR;
    return LF_OK;
}

/* Delete the oldest segment under drop_oldest, counting what was not yet shipped. */
static lf_err drop_oldest(lf_agent_buffer *b, lf_error *err)
{
    segment *s = &b->segs[0];
    char path[PATH_CAP];
    seg_path(b, path, sizeof path, s->first_id);
    if (b->nsegs == 1 && b->active_fd >= 0) {
        b->io->close(b->ctx, b->active_fd);
        b->active_fd = -1;
        b->need_repair = false;
    }
    if (b->io->unlink(b->ctx, path) != 0)
        return io_fail(err, "drop oldest segment", path);
    for (size_t j = 0; j < s->n; j++)
        if (s->items[j].id > b->acked) {
            b->st.dropped_items++;
            b->st.dropped_records += s->items[j].records;
        }
    segs_remove(b, 0);
    recount(b);
    return fsync_dir(b, err);
}

static lf_err append_locked(lf_agent_buffer *b, const lf_agent_buffer_input *in, uint64_t *id_out,
                            lf_error *err)
{
    size_t app_len = strlen(in->app), key_len = strlen(in->idempotency_key);
    uint64_t size = (uint64_t)ITEM_HDR + app_len + key_len + in->body_len;
    if (size + SEG_HDR > b->max_bytes)
        return lf_error_set(err, LF_ERR_TOO_LARGE,
                            "agent buffer: item of %" PRIu64 " bytes exceeds the bound of %" PRIu64,
                            size, b->max_bytes);
    lf_err rc = b->active_fd >= 0 ? repair_active(b, err) : LF_OK;
    if (rc != LF_OK)
        return rc;
    for (;;) {
        segment *act = b->active_fd >= 0 ? &b->segs[b->nsegs - 1] : NULL;
        bool roll = act == NULL || (act->n > 0 && act->size + size > b->segment_bytes);
        uint64_t need = size + (roll ? SEG_HDR : 0);
        if (b->st.bytes_used + need <= b->max_bytes) {
            if (roll && (rc = start_segment(b, err)) != LF_OK)
                return rc;
            break;
        }
        if (b->policy == LF_AGENT_BUFFER_BLOCK || b->nsegs == 0)
            return lf_error_set(err, LF_ERR_FULL,
                                "agent buffer: %" PRIu64 " of %" PRIu64 " bytes used, no room for "
                                "%" PRIu64 " more",
                                b->st.bytes_used, b->max_bytes, need);
        if ((rc = drop_oldest(b, err)) != LF_OK)
            return rc;
    }
    segment *s = &b->segs[b->nsegs - 1];
    uint8_t h[ITEM_HDR + LF_AGENT_BUFFER_APP_MAX + LF_AGENT_BUFFER_KEY_MAX] = {0};
    memcpy(h, ITEM_MAGIC, 4);
    put64(h + 4, b->next_id);
    put64(h + 12, (uint64_t)in->created_ms);
    put32(h + 20, in->records);
    put32(h + 24, (uint32_t)in->body_len);
    put16(h + 28, (uint16_t)app_len);
    put16(h + 30, (uint16_t)key_len);
    memcpy(h + ITEM_HDR, in->app, app_len);
    memcpy(h + ITEM_HDR + app_len, in->idempotency_key, key_len);
    uint32_t crc = lf_crc32c(0, h, 36);
    crc = lf_crc32c(crc, h + ITEM_HDR, app_len + key_len);
    crc = lf_crc32c(crc, in->body, in->body_len);
    put32(h + 36, crc);
    size_t hlen = ITEM_HDR + app_len + key_len;
    char path[PATH_CAP];
    seg_path(b, path, sizeof path, s->first_id);
    b->need_repair = true; /* until the sync below succeeds, bytes past s->size are suspect */
    if (write_all(b, b->active_fd, h, hlen, (off_t)s->size) != 0 ||
        (in->body_len > 0 &&
         write_all(b, b->active_fd, in->body, in->body_len, (off_t)(s->size + hlen)) != 0)) {
        rc = io_fail(err, "append to", path);
    } else if (b->io->fdatasync(b->ctx, b->active_fd) != 0) {
        rc = io_fail(err, "fdatasync", path);
    }
    if (rc != LF_OK) {
        (void)repair_active(b, NULL); /* best effort now; retried before the next append */
        return rc;
    }
    b->need_repair = false;
    item_ref r = {.id = b->next_id, .off = s->size, .size = size, .records = in->records};
    if (segment_add_item(s, &r) != LF_OK) {
        /* Durable but not indexed: the item would be invisible until restart. Keep it honest:
         * report failure after cutting it back. */
        b->need_repair = true;
        (void)repair_active(b, NULL);
        return lf_error_set(err, LF_ERR_NOMEM, "agent buffer: indexing item");
    }
    s->size += size;
    b->st.bytes_used += size;
    b->st.items_pending++;
    b->st.records_pending += in->records;
    if (id_out != NULL)
        *id_out = b->next_id;
    b->next_id++;
    return LF_OK;
}

lf_err lf_agent_buffer_append(lf_agent_buffer *b, const lf_agent_buffer_input *in, uint64_t *id_out,
                              lf_error *err)
{
    if (b == NULL || in == NULL || in->app == NULL || in->idempotency_key == NULL ||
        (in->body == NULL && in->body_len > 0))
        return lf_error_set(err, LF_ERR_INVALID, "agent buffer: append needs app, key and body");
    size_t app_len = strnlen(in->app, LF_AGENT_BUFFER_APP_MAX + 1);
    size_t key_len = strnlen(in->idempotency_key, LF_AGENT_BUFFER_KEY_MAX + 1);
    if (!app_valid(in->app, app_len))
        return lf_error_set(err, LF_ERR_INVALID,
                            "agent buffer: app name must be 1..128 bytes without control bytes");
    if (!key_valid(in->idempotency_key, key_len))
        return lf_error_set(err, LF_ERR_INVALID,
                            "agent buffer: idempotency key must be 16..64 of [A-Za-z0-9_-]");
    if (in->body_len > LF_AGENT_BUFFER_BODY_MAX)
        return lf_error_set(err, LF_ERR_TOO_LARGE, "agent buffer: body of %zu bytes exceeds 1 GiB",
                            in->body_len);
    pthread_mutex_lock(&b->mu);
    lf_err rc = append_locked(b, in, id_out, err);
    pthread_mutex_unlock(&b->mu);
    return rc;
}

/* ---- peek / ack ---- */
void lf_agent_buffer_items_free(lf_agent_buffer_item *items, size_t count)
{
    if (items == NULL)
        return;
    for (size_t i = 0; i < count; i++)
        free(items[i].body);
    free(items);
}

static lf_err peek_locked(lf_agent_buffer *b, size_t max_items, lf_agent_buffer_item *items,
                          size_t *count, lf_error *err)
{
    size_t n = 0;
    for (size_t i = 0; i < b->nsegs && n < max_items;) {
        segment *s = &b->segs[i];
        bool active = i == b->nsegs - 1 && b->active_fd >= 0;
        char path[PATH_CAP], reason[256];
        seg_path(b, path, sizeof path, s->first_id);
        int fd = active ? b->active_fd : b->io->open(b->ctx, path, O_RDONLY, 0);
        if (fd < 0) {
            *count = n;
            return io_fail(err, "open", path);
        }
        size_t start = n;
        bool bad = false;
        for (size_t j = 0; j < s->n && n < max_items; j++) {
            item_ref r;
            if (s->items[j].id <= b->acked)
                continue;
            if (check_item(b, fd, s->items[j].off, s->size, s->items[j].id, &r, &items[n], reason,
                           sizeof reason) != 0) {
                bad = true;
                break;
            }
            n++;
        }
        if (!active)
            b->io->close(b->ctx, fd);
        if (bad) {
            /* Damaged after it was written (media, tampering): set it aside, keep going. */
            for (size_t k = start; k < n; k++)
                free(items[k].body);
            n = start;
            quarantine_segment(b, i, reason);
            continue;
        }
        i++;
    }
    *count = n;
    return LF_OK;
}

lf_err lf_agent_buffer_peek(lf_agent_buffer *b, size_t max_items, lf_agent_buffer_item **items_out,
                            size_t *count_out, lf_error *err)
{
    if (b == NULL || items_out == NULL || count_out == NULL)
        return lf_error_set(err, LF_ERR_INVALID, "agent buffer: peek needs outputs");
    *items_out = NULL;
    *count_out = 0;
    pthread_mutex_lock(&b->mu);
    size_t want = max_items < b->st.items_pending ? max_items : (size_t)b->st.items_pending;
    lf_err rc = LF_OK;
    if (want > 0) {
        lf_agent_buffer_item *items = calloc(want, sizeof *items);
        size_t n = 0;
        if (items == NULL)
            rc = lf_error_set(err, LF_ERR_NOMEM, "agent buffer: peek of %zu items", want);
        else
            rc = peek_locked(b, want, items, &n, err);
        if (rc != LF_OK || n == 0) {
            lf_agent_buffer_items_free(items, n);
        } else {
            *items_out = items;
            *count_out = n;
        }
    }
    pthread_mutex_unlock(&b->mu);
    return rc;
}

static lf_err ack_locked(lf_agent_buffer *b, uint64_t id, lf_error *err)
{
    if (id <= b->acked)
        return LF_OK;
    if (id >= b->next_id)
        return lf_error_set(err, LF_ERR_INVALID,
                            "agent buffer: ack of item %" PRIu64 " which was never appended", id);
    lf_err rc = ckpt_write(b, id, err);
    if (rc != LF_OK)
        return rc;
    b->acked = id;
    /* Space back: unlink every segment whose items are all shipped (also the active one, so
     * a bound close to the segment size cannot wedge). */
    bool unlinked = false;
    while (b->nsegs > 0) {
        segment *s = &b->segs[0];
        if (s->n > 0 && s->items[s->n - 1].id > id)
            break;
        if (s->n == 0 && b->nsegs == 1 && b->active_fd >= 0 && s->first_id >= b->next_id)
            break; /* a fresh, empty active segment */
        char path[PATH_CAP];
        seg_path(b, path, sizeof path, s->first_id);
        if (b->nsegs == 1 && b->active_fd >= 0) {
            b->io->close(b->ctx, b->active_fd);
            b->active_fd = -1;
            b->need_repair = false;
        }
        if (b->io->unlink(b->ctx, path) != 0 && errno != ENOENT) {
            rc = io_fail(NULL, "unlink acked segment", path);
            break; /* the checkpoint is durable; next open finishes the job */
        }
        segs_remove(b, 0);
        unlinked = true;
    }
    if (unlinked && rc == LF_OK)
        rc = fsync_dir(b, NULL);
    recount(b);
    /* The ack itself is durable whatever happened to the cleanup. */
    return LF_OK;
}

lf_err lf_agent_buffer_ack(lf_agent_buffer *b, uint64_t id, lf_error *err)
{
    if (b == NULL)
        return lf_error_set(err, LF_ERR_INVALID, "agent buffer: ack needs a buffer");
    pthread_mutex_lock(&b->mu);
    lf_err rc = ack_locked(b, id, err);
    pthread_mutex_unlock(&b->mu);
    return rc;
}

void lf_agent_buffer_stats_get(lf_agent_buffer *b, lf_agent_buffer_stats *out)
{
    if (b == NULL || out == NULL)
        return;
    pthread_mutex_lock(&b->mu);
    *out = b->st;
    pthread_mutex_unlock(&b->mu);
}

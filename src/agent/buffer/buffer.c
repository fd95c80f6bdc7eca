/*
 * buffer.c — the agent's disk buffer (format and rules: docs/AGENT-BUFFER.md).
 *
 * Layout of the directory:
 *   NNNNNNNNNNNNNNNNNNNN.seg   a segment; 20 digits = id of its first item
 *   acked.ckpt                 highest acked id and the cursors of items no longer in a segment
 *                              (replaced atomically: tmp + fsync + rename; checkpoint.c)
 *   quarantine/                damaged segments, each with a .reason file next to it
 *
 * A segment is a 32-byte header followed by items back to back; each item is a 44-byte header,
 * the app name, the idempotency key, the source, the cursor and the sealed body, covered by
 * one CRC-32C. Items carry
 * consecutive ids within a segment. Writes are sequential and every append ends with an
 * fdatasync, so a crash can only damage the tail of the LAST segment: recovery cuts that tail
 * off. Damage anywhere else is media corruption or tampering: that segment is moved into
 * quarantine/ (never deleted, never fatal) and the rest of the buffer stays usable.
 *
 * In memory we keep, per segment, an index of its items (id, offset, size, record count, source
 * slot: sources.c), so peek can pread items directly and the bound/drop/ack arithmetic, drops
 * per source included, needs no disk access.
 * One mutex serialises everything, including the fdatasync: the agent has one appender and
 * one shipper, and a sync per append is the durability contract anyway.
 */
#include "buffer/buffer_int.h"

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
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define SEG_HDR     ABUF_SEG_HDR
#define ITEM_HDR    ABUF_ITEM_HDR
#define PATH_CAP    ABUF_PATH_CAP
#define SEG_VERSION 2

static const char SEG_MAGIC[8] = {'L', 'F', 'A', 'B', 'S', 'E', 'G', '1'};
static const char ITEM_MAGIC[4] = {'L', 'F', 'A', 'I'};

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

lf_err abuf_io_fail(lf_error *err, const char *what, const char *path)
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

int abuf_write_all(const lf_agent_buffer *b, int fd, const void *data, size_t len, off_t off)
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

int abuf_read_all(const lf_agent_buffer *b, int fd, void *data, size_t len, off_t off)
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

lf_err abuf_fsync_dir(lf_agent_buffer *b, lf_error *err)
{
    if (b->io->fsync(b->ctx, b->dirfd) != 0)
        return abuf_io_fail(err, "fsync of directory", b->dir);
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

bool abuf_source_valid(const char *s, size_t len)
{
    if (len > LF_AGENT_BUFFER_SOURCE_MAX)
        return false;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-' || c == '.'))
            return false;
    }
    return true;
}

uint64_t abuf_item_size(size_t app_len, size_t key_len, size_t source_len, size_t cursor_len,
                        size_t body_len)
{
    return (uint64_t)ITEM_HDR + app_len + key_len + source_len + cursor_len + body_len;
}

bool abuf_fits(const lf_agent_buffer *b, uint64_t size)
{
    const segment *act = b->active_fd >= 0 ? &b->segs[b->nsegs - 1] : NULL;
    bool roll = act == NULL || (act->n > 0 && act->size + size > b->segment_bytes);
    uint64_t need = size + (roll ? SEG_HDR : 0);
    return b->st.bytes_used + need <= b->max_bytes;
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

/* Room for one more item in the index. */
static lf_err segment_reserve(segment *s)
{
    if (s->n < s->cap)
        return LF_OK;
    size_t cap = s->cap ? s->cap * 2 : 16;
    item_ref *p = realloc(s->items, cap * sizeof *p);
    if (p == NULL)
        return LF_ERR_NOMEM;
    s->items = p;
    s->cap = cap;
    return LF_OK;
}

static lf_err segment_add_item(segment *s, const item_ref *r)
{
    if (segment_reserve(s) != LF_OK)
        return LF_ERR_NOMEM;
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

/* What check_item found besides the index entry: the item's source and cursor. */
typedef struct item_tag {
    char source[LF_AGENT_BUFFER_SOURCE_MAX + 1];
    const uint8_t *cursor; /* in the caller's scratch (scan) or out->cursor (peek) */
    size_t cursor_len;
} item_tag;

/* Read len bytes at pos into crc only (no allocation sized by the file). */
static int crc_stream(const lf_agent_buffer *b, int fd, uint64_t pos, uint64_t len, uint32_t *crc)
{
    uint8_t chunk[4096];
    while (len > 0) {
        size_t n = len > sizeof chunk ? sizeof chunk : (size_t)len;
        if (abuf_read_all(b, fd, chunk, n, (off_t)pos) != 0)
            return -1;
        *crc = lf_crc32c(*crc, chunk, n);
        len -= n;
        pos += n;
    }
    return 0;
}

/*
 * Check the item at off in fd (file_size bytes long): header fields in range, id == want_id
 * (0 = any), CRC. When out is non-NULL the item is also copied into it (body and cursor
 * malloc'd); otherwise the cursor is read into scratch (LF_AGENT_BUFFER_CURSOR_MAX bytes, may
 * be NULL when tag is). tag (nullable) receives source and cursor. Returns 0 and fills ref, or
 * -1 with reason. Never allocates more than the file holds.
 */
static int check_item(const lf_agent_buffer *b, int fd, uint64_t off, uint64_t file_size,
                      uint64_t want_id, item_ref *ref, lf_agent_buffer_item *out, uint8_t *scratch,
                      item_tag *tag, char *reason, size_t rcap)
{
    uint8_t h[ITEM_HDR];
    uint8_t meta[ABUF_META_MAX];
    uint8_t *cursor = NULL, *body = NULL;
    if (file_size - off < ITEM_HDR) {
        snprintf(reason, rcap, "item header cut short at offset %" PRIu64, off);
        return -1;
    }
    if (abuf_read_all(b, fd, h, ITEM_HDR, (off_t)off) != 0) {
        snprintf(reason, rcap, "read error at offset %" PRIu64, off);
        return -1;
    }
    uint64_t id = abuf_get64(h + 4);
    uint32_t records = abuf_get32(h + 20), body_len = abuf_get32(h + 24);
    uint32_t cursor_len = abuf_get32(h + 28);
    uint16_t app_len = abuf_get16(h + 32), key_len = abuf_get16(h + 34);
    uint16_t source_len = abuf_get16(h + 36);
    if (memcmp(h, ITEM_MAGIC, 4) != 0 || abuf_get16(h + 38) != 0 || app_len < 1 ||
        app_len > LF_AGENT_BUFFER_APP_MAX || key_len < LF_AGENT_BUFFER_KEY_MIN ||
        key_len > LF_AGENT_BUFFER_KEY_MAX || body_len > LF_AGENT_BUFFER_BODY_MAX ||
        source_len > LF_AGENT_BUFFER_SOURCE_MAX || cursor_len > LF_AGENT_BUFFER_CURSOR_MAX ||
        (cursor_len > 0 && source_len == 0) || (want_id != 0 && id != want_id) || id == 0) {
        snprintf(reason, rcap, "bad item header at offset %" PRIu64, off);
        return -1;
    }
    uint64_t size = abuf_item_size(app_len, key_len, source_len, cursor_len, body_len);
    if (size > file_size - off) {
        snprintf(reason, rcap, "item at offset %" PRIu64 " runs past the end of the file", off);
        return -1;
    }
    size_t mlen = (size_t)app_len + key_len + source_len;
    if (abuf_read_all(b, fd, meta, mlen, (off_t)(off + ITEM_HDR)) != 0) {
        snprintf(reason, rcap, "read error at offset %" PRIu64, off);
        return -1;
    }
    if (!app_valid((const char *)meta, app_len) ||
        !key_valid((const char *)meta + app_len, key_len) ||
        !abuf_source_valid((const char *)meta + app_len + key_len, source_len)) {
        snprintf(reason, rcap, "bad app name, key or source in item at offset %" PRIu64, off);
        return -1;
    }
    uint32_t crc = lf_crc32c(0, h, 40);
    crc = lf_crc32c(crc, meta, mlen);
    uint64_t cursor_off = off + ITEM_HDR + mlen, body_off = cursor_off + cursor_len;
    if (out != NULL && cursor_len > 0)
        cursor = malloc(cursor_len); /* <= 64 KiB, and within the file */
    else if (tag != NULL)
        cursor = scratch;
    if (cursor != NULL) {
        if (abuf_read_all(b, fd, cursor, cursor_len, (off_t)cursor_off) != 0)
            goto read_error;
        crc = lf_crc32c(crc, cursor, cursor_len);
    } else if (out != NULL && cursor_len > 0) {
        snprintf(reason, rcap, "out of memory reading item at offset %" PRIu64, off);
        return -1;
    } else if (crc_stream(b, fd, cursor_off, cursor_len, &crc) != 0) {
        goto read_error;
    }
    if (out != NULL) {
        body = malloc(body_len ? body_len : 1);
        if (body == NULL || abuf_read_all(b, fd, body, body_len, (off_t)body_off) != 0)
            goto read_error;
        crc = lf_crc32c(crc, body, body_len);
    } else if (crc_stream(b, fd, body_off, body_len, &crc) != 0) {
        goto read_error;
    }
    if (crc != abuf_get32(h + 40)) {
        snprintf(reason, rcap, "CRC mismatch in item %" PRIu64 " at offset %" PRIu64, id, off);
        goto fail;
    }
    ref->id = id;
    ref->off = off;
    ref->size = size;
    ref->records = records;
    ref->source = ABUF_SOURCE_NONE; /* the caller maps tag->source to its slot */
    if (tag != NULL) {
        memcpy(tag->source, meta + app_len + key_len, source_len);
        tag->source[source_len] = 0;
        tag->cursor = cursor;
        tag->cursor_len = cursor_len;
    }
    if (out != NULL) {
        memset(out, 0, sizeof *out);
        out->id = id;
        memcpy(out->app, meta, app_len);
        memcpy(out->idempotency_key, meta + app_len, key_len);
        memcpy(out->source, meta + app_len + key_len, source_len);
        out->records = records;
        out->created_ms = (int64_t)abuf_get64(h + 12);
        out->body = body;
        out->body_len = body_len;
        out->cursor = cursor_len > 0 ? cursor : NULL;
        out->cursor_len = cursor_len;
    }
    return 0;
read_error:
    snprintf(reason, rcap, "read error in item at offset %" PRIu64, off);
fail:
    if (out != NULL) {
        free(cursor);
        free(body);
    }
    return -1;
}

/* ---- quarantine ---- */

/*
 * Move segment file first_id into quarantine/ with a .reason file. Failure to move is not
 * fatal (the file stays where it is and the next open looks at it again); it is still counted.
 */
void abuf_quarantine_file(lf_agent_buffer *b, const char *name, const char *reason)
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
            (void)abuf_write_all(b, fd, text, (size_t)n < sizeof text ? (size_t)n : sizeof text - 1,
                                 0);
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
    /* Cursors appended into it were sound when written: keep them (best effort). */
    if (abuf_cursors_at_risk(b, i, i + 1))
        (void)abuf_ckpt_write(b, b->acked, i, i + 1, NULL);
    abuf_quarantine_file(b, name, reason);
    b->st.quarantined_segments++;
    segs_remove(b, i);
    recount(b);
    pthread_cond_broadcast(&b->space_cv);
}

/*
 * How many segments at the front hold only items at or below acked (the fresh, empty active
 * segment excepted): what an ack with that id may delete.
 */
static size_t acked_prefix(const lf_agent_buffer *b, uint64_t acked)
{
    size_t k = 0;
    for (; k < b->nsegs; k++) {
        const segment *s = &b->segs[k];
        if (s->n > 0 && s->items[s->n - 1].id > acked)
            break;
        if (s->n == 0 && k == b->nsegs - 1 && b->active_fd >= 0 && s->first_id >= b->next_id)
            break;
    }
    return k;
}

/*
 * Unlink the first k segments (also the active one, so that a bound close to the segment size
 * cannot wedge) and fsync the directory. The caller made sure the checkpoint holds whatever
 * they carried that still matters; a failure here only leaves acked files that the next ack or
 * open deletes, so it is not an error.
 */
static void unlink_front(lf_agent_buffer *b, size_t k)
{
    bool unlinked = false, failed = false;
    for (size_t i = 0; i < k && b->nsegs > 0; i++) {
        char path[PATH_CAP];
        seg_path(b, path, sizeof path, b->segs[0].first_id);
        if (b->nsegs == 1 && b->active_fd >= 0) {
            b->io->close(b->ctx, b->active_fd);
            b->active_fd = -1;
            b->need_repair = false;
        }
        if (b->io->unlink(b->ctx, path) != 0 && errno != ENOENT) {
            failed = true;
            break;
        }
        segs_remove(b, 0);
        unlinked = true;
    }
    if (unlinked && !failed)
        (void)abuf_fsync_dir(b, NULL);
    recount(b);
    if (unlinked)
        pthread_cond_broadcast(&b->space_cv);
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
        return abuf_io_fail(err, "list", b->dir);
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

/* A sound item found at open: its cursor, if newer than what we know, joins the table. */
static lf_err recover_cursor(lf_agent_buffer *b, uint64_t id, const item_tag *tag)
{
    if (tag->cursor_len == 0)
        return LF_OK;
    const cursor_entry *e = abuf_cursor_find(b, tag->source);
    if (e != NULL && e->id >= id)
        return LF_OK;
    uint8_t *copy = malloc(tag->cursor_len);
    if (copy == NULL)
        return LF_ERR_NOMEM;
    memcpy(copy, tag->cursor, tag->cursor_len);
    lf_err rc = abuf_cursor_put(b, tag->source, id, &copy, tag->cursor_len, false);
    free(copy);
    /* More sources than append ever lets in means the files were edited: ignore the extra. */
    return rc == LF_ERR_TOO_LARGE ? LF_OK : rc;
}

/*
 * Scan one segment. Returns LF_OK with the segment pushed (or removed, if empty),
 * or an LF_ERR_IO for failures of the directory itself. Damage is handled here.
 */
static lf_err recover_segment(lf_agent_buffer *b, uint64_t first_id, bool is_last, uint64_t min_id,
                              uint8_t *scratch, lf_error *err)
{
    char path[PATH_CAP], name[32], reason[256];
    seg_path(b, path, sizeof path, first_id);
    seg_name(name, sizeof name, first_id);
    int fd = b->io->open(b->ctx, path, O_RDWR, 0);
    if (fd < 0)
        return abuf_io_fail(err, "open", path);
    struct stat sb;
    segment s = {.first_id = first_id};
    lf_err rc = LF_OK;
    if (fstat(fd, &sb) != 0) {
        rc = abuf_io_fail(err, "stat", path);
        goto out;
    }
    uint64_t file_size = (uint64_t)sb.st_size;
    uint8_t h[SEG_HDR];
    bool hdr_ok = file_size >= SEG_HDR && abuf_read_all(b, fd, h, SEG_HDR, 0) == 0 &&
                  memcmp(h, SEG_MAGIC, 8) == 0 && abuf_get32(h + 8) == SEG_VERSION &&
                  abuf_get32(h + 12) == 0 && abuf_get64(h + 16) == first_id &&
                  abuf_get32(h + 24) == 0 && abuf_get32(h + 28) == lf_crc32c(0, h, 28);
    if (!hdr_ok) {
        if (is_last && file_size <= SEG_HDR) {
            /* Crash while the segment was being created: it never held an item. */
            b->st.recovered_bytes_truncated += file_size;
            b->io->close(b->ctx, fd);
            fd = -1;
            if (b->io->unlink(b->ctx, path) != 0)
                return abuf_io_fail(err, "unlink torn segment", path);
            return abuf_fsync_dir(b, err);
        }
        b->io->close(b->ctx, fd);
        fd = -1;
        abuf_quarantine_file(b, name, "bad segment header");
        b->st.quarantined_segments++;
        return LF_OK;
    }
    if (first_id < min_id) {
        b->io->close(b->ctx, fd);
        fd = -1;
        abuf_quarantine_file(b, name, "segment ids overlap the previous segment");
        b->st.quarantined_segments++;
        return LF_OK;
    }
    uint64_t off = SEG_HDR, want = first_id;
    while (off < file_size) {
        item_ref r;
        item_tag tag;
        if (check_item(b, fd, off, file_size, want, &r, NULL, scratch, &tag, reason,
                       sizeof reason) != 0) {
            if (!is_last) {
                b->io->close(b->ctx, fd);
                fd = -1;
                abuf_quarantine_file(b, name, reason);
                b->st.quarantined_segments++;
                goto out;
            }
            /* Torn tail: never acknowledged (every ack follows an fdatasync covering it). */
            if (b->io->ftruncate(b->ctx, fd, (off_t)off) != 0 || b->io->fsync(b->ctx, fd) != 0) {
                rc = abuf_io_fail(err, "truncate torn tail of", path);
                goto out;
            }
            b->st.recovered_bytes_truncated += file_size - off;
            file_size = off;
            break;
        }
        /* The item keeps its source, so a later drop is counted for the right input. */
        if (abuf_source_slot(b, tag.source, strlen(tag.source), &r.source) != LF_OK ||
            segment_add_item(&s, &r) != LF_OK) {
            rc = lf_error_set(err, LF_ERR_NOMEM, "agent buffer: indexing %s", name);
            goto out;
        }
        if ((rc = recover_cursor(b, r.id, &tag)) != LF_OK) {
            lf_error_set(err, rc, "agent buffer: cursor of item %" PRIu64 " in %s", r.id, name);
            goto out;
        }
        off += r.size;
        want++;
    }
    s.size = file_size;
    if (s.n == 0) {
        /* Empty: it has nothing to give. (Fully acked ones are kept until the end of recovery,
         * when the checkpoint has taken their cursors: see recover.) */
        b->io->close(b->ctx, fd);
        fd = -1;
        if (b->io->unlink(b->ctx, path) != 0)
            rc = abuf_io_fail(err, "unlink", path);
        else
            rc = abuf_fsync_dir(b, err);
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
    abuf_ckpt_read(b); /* acked, a floor for next_id, the cursors of items no longer stored */
    uint64_t *ids = NULL;
    size_t n = 0;
    lf_err rc = list_segments(b, &ids, &n, err);
    if (rc != LF_OK)
        return rc;
    uint8_t *scratch = malloc(LF_AGENT_BUFFER_CURSOR_MAX);
    if (scratch == NULL) {
        free(ids);
        return lf_error_set(err, LF_ERR_NOMEM, "agent buffer: recovery");
    }
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
        rc = recover_segment(b, ids[i], i == n - 1, min_id, scratch, err);
        /* Never reuse a name we saw, even one whose file we could not move away. */
        if (ids[i] >= b->next_id)
            b->next_id = ids[i] + 1;
    }
    free(ids);
    free(scratch);
    recount(b);
    if (rc != LF_OK)
        return rc;
    /* Ids within a segment are consecutive. If next_id was raised past the newest segment
     * (the checkpoint's floor, or the name of a segment we could not move away), that segment
     * takes no more items: the next append starts one named next_id. */
    if (b->active_fd >= 0) {
        const segment *s = &b->segs[b->nsegs - 1];
        if (s->items[s->n - 1].id + 1 != b->next_id) {
            b->io->close(b->ctx, b->active_fd);
            b->active_fd = -1;
        }
    }
    /* Fully acked segments go, once the checkpoint holds their cursors (and those of segments
     * quarantined above). If that write fails they simply stay: nothing pending is in them. */
    size_t k = acked_prefix(b, b->acked);
    if (!abuf_cursors_at_risk(b, 0, k) || abuf_ckpt_write(b, b->acked, 0, k, NULL) == LF_OK)
        unlink_front(b, k);
    return LF_OK;
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
        return abuf_io_fail(err, "create directory", dir);
    char q[PATH_CAP];
    snprintf(q, sizeof q, "%s/quarantine", dir);
    if (mkdir(q, 0700) != 0 && errno != EEXIST)
        return abuf_io_fail(err, "create directory", q);

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
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC); /* wait deadlines ignore wall-clock steps */
    pthread_cond_init(&b->space_cv, &ca);
    pthread_cond_init(&b->items_cv, &ca);
    pthread_condattr_destroy(&ca);
    lf_err rc = LF_OK;
    if (b->dirfd < 0)
        rc = abuf_io_fail(err, "open directory", dir);
    else if (flock(b->dirfd, LOCK_EX | LOCK_NB) != 0 && errno == EWOULDBLOCK)
        /* Two processes appending to one buffer would hand out the same ids and interleave
         * writes. The lock goes with the directory's descriptor (closed at close, or by the
         * kernel when the process dies). */
        rc = lf_error_set(err, LF_ERR_CONFLICT,
                          "agent buffer: %s is in use by another process (another agent, or a "
                          "requeue, on the same state_dir)",
                          dir);
    else if (abuf_sources_init(b) != LF_OK)
        rc = lf_error_set(err, LF_ERR_NOMEM, "agent buffer: open");
    else
        rc = recover(b, err);
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
    abuf_cursors_free(b);
    abuf_sources_free(b);
    pthread_cond_destroy(&b->space_cv);
    pthread_cond_destroy(&b->items_cv);
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
        return abuf_io_fail(err, "cut back failed append in", path);
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
        return abuf_io_fail(err, "create segment", path);
    uint8_t h[SEG_HDR] = {0};
    memcpy(h, SEG_MAGIC, 8);
    abuf_put32(h + 8, SEG_VERSION);
    abuf_put64(h + 16, b->next_id);
    abuf_put32(h + 28, lf_crc32c(0, h, 28));
    lf_err rc = LF_OK;
    if (abuf_write_all(b, fd, h, SEG_HDR, 0) != 0)
        rc = abuf_io_fail(err, "write header of", path);
    else if (b->io->fdatasync(b->ctx, fd) != 0)
        rc = abuf_io_fail(err, "fdatasync", path);
    else
        rc = abuf_fsync_dir(b, err);
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
    /* The newest cursor of a source may be in it: the checkpoint takes it over first. */
    lf_err rc = LF_OK;
    if (abuf_cursors_at_risk(b, 0, 1) && (rc = abuf_ckpt_write(b, b->acked, 0, 1, err)) != LF_OK)
        return rc;
    if (b->nsegs == 1 && b->active_fd >= 0) {
        b->io->close(b->ctx, b->active_fd);
        b->active_fd = -1;
        b->need_repair = false;
    }
    if (b->io->unlink(b->ctx, path) != 0)
        return abuf_io_fail(err, "drop oldest segment", path);
    abuf_count_dropped(b, s);
    segs_remove(b, 0);
    recount(b);
    pthread_cond_broadcast(&b->space_cv);
    return abuf_fsync_dir(b, err);
}

/* An append's lengths, validated once. */
typedef struct append_shape {
    size_t app_len, key_len, source_len;
    uint64_t size;
} append_shape;

/* Make room (or refuse) and make sure the active segment can take the item. */
static lf_err make_room(lf_agent_buffer *b, uint64_t size, lf_error *err)
{
    lf_err rc = b->active_fd >= 0 ? repair_active(b, err) : LF_OK;
    if (rc != LF_OK)
        return rc;
    for (;;) {
        if (abuf_fits(b, size)) {
            segment *act = b->active_fd >= 0 ? &b->segs[b->nsegs - 1] : NULL;
            bool roll = act == NULL || (act->n > 0 && act->size + size > b->segment_bytes);
            return roll ? start_segment(b, err) : LF_OK;
        }
        if (b->policy == LF_AGENT_BUFFER_BLOCK || b->nsegs == 0) {
            uint64_t used = b->st.bytes_used;
            return lf_error_set(err, LF_ERR_FULL,
                                "agent buffer: %" PRIu64 " of %" PRIu64 " bytes used, no room for "
                                "an item of %" PRIu64,
                                used, b->max_bytes, size);
        }
        if ((rc = drop_oldest(b, err)) != LF_OK)
            return rc;
    }
}

/* Write the item at the end of the active segment and fdatasync; on failure cut it back. */
static lf_err write_item(lf_agent_buffer *b, const lf_agent_buffer_input *in,
                         const append_shape *sh, lf_error *err)
{
    segment *s = &b->segs[b->nsegs - 1];
    uint8_t h[ITEM_HDR + ABUF_META_MAX] = {0};
    memcpy(h, ITEM_MAGIC, 4);
    abuf_put64(h + 4, b->next_id);
    abuf_put64(h + 12, (uint64_t)in->created_ms);
    abuf_put32(h + 20, in->records);
    abuf_put32(h + 24, (uint32_t)in->body_len);
    abuf_put32(h + 28, (uint32_t)in->cursor_len);
    abuf_put16(h + 32, (uint16_t)sh->app_len);
    abuf_put16(h + 34, (uint16_t)sh->key_len);
    abuf_put16(h + 36, (uint16_t)sh->source_len);
    uint8_t *m = h + ITEM_HDR;
    memcpy(m, in->app, sh->app_len);
    memcpy(m + sh->app_len, in->idempotency_key, sh->key_len);
    if (sh->source_len > 0)
        memcpy(m + sh->app_len + sh->key_len, in->source, sh->source_len);
    size_t hlen = ITEM_HDR + sh->app_len + sh->key_len + sh->source_len;
    uint32_t crc = lf_crc32c(0, h, 40);
    crc = lf_crc32c(crc, m, hlen - ITEM_HDR);
    crc = lf_crc32c(crc, in->cursor, in->cursor_len);
    crc = lf_crc32c(crc, in->body, in->body_len);
    abuf_put32(h + 40, crc);
    char path[PATH_CAP];
    seg_path(b, path, sizeof path, s->first_id);
    uint64_t at = s->size;
    b->need_repair = true; /* until the sync below succeeds, bytes past s->size are suspect */
    lf_err rc = LF_OK;
    if (abuf_write_all(b, b->active_fd, h, hlen, (off_t)at) != 0 ||
        (in->cursor_len > 0 &&
         abuf_write_all(b, b->active_fd, in->cursor, in->cursor_len, (off_t)(at + hlen)) != 0) ||
        (in->body_len > 0 && abuf_write_all(b, b->active_fd, in->body, in->body_len,
                                            (off_t)(at + hlen + in->cursor_len)) != 0)) {
        rc = abuf_io_fail(err, "append to", path);
    } else if (b->io->fdatasync(b->ctx, b->active_fd) != 0) {
        rc = abuf_io_fail(err, "fdatasync", path);
    }
    if (rc != LF_OK) {
        (void)repair_active(b, NULL); /* best effort now; retried before the next append */
        return rc;
    }
    b->need_repair = false;
    return LF_OK;
}

static lf_err append_locked(lf_agent_buffer *b, const lf_agent_buffer_input *in,
                            const append_shape *sh, uint64_t *id_out, lf_error *err)
{
    if (sh->size + SEG_HDR > b->max_bytes)
        return lf_error_set(err, LF_ERR_TOO_LARGE,
                            "agent buffer: item of %" PRIu64 " bytes exceeds the bound of %" PRIu64,
                            sh->size, b->max_bytes);
    /* Everything that could fail after the item is durable is prepared before writing it. */
    uint8_t *cursor = NULL;
    if (in->cursor_len > 0) {
        if (abuf_cursor_find(b, in->source) == NULL && b->ncursors == LF_AGENT_BUFFER_SOURCES_MAX)
            return lf_error_set(err, LF_ERR_TOO_LARGE,
                                "agent buffer: already %d sources with a cursor; refusing a new "
                                "one",
                                LF_AGENT_BUFFER_SOURCES_MAX);
        if (abuf_cursor_reserve(b) != LF_OK || (cursor = malloc(in->cursor_len)) == NULL)
            return lf_error_set(err, LF_ERR_NOMEM, "agent buffer: copying a cursor");
        memcpy(cursor, in->cursor, in->cursor_len);
    }
    /* A new source's slot stays even if this append fails: it only holds zero counts. */
    uint16_t source = ABUF_SOURCE_NONE;
    if (abuf_source_slot(b, in->source, sh->source_len, &source) != LF_OK) {
        free(cursor);
        return lf_error_set(err, LF_ERR_NOMEM, "agent buffer: indexing a source");
    }
    segment *s = b->nsegs > 0 ? &b->segs[b->nsegs - 1] : NULL;
    lf_err rc = make_room(b, sh->size, err);
    if (rc == LF_OK) {
        s = &b->segs[b->nsegs - 1];
        if (segment_reserve(s) != LF_OK)
            rc = lf_error_set(err, LF_ERR_NOMEM, "agent buffer: indexing item");
    }
    if (rc == LF_OK)
        rc = write_item(b, in, sh, err);
    if (rc != LF_OK) {
        free(cursor);
        return rc;
    }
    item_ref r = {.id = b->next_id,
                  .off = s->size,
                  .size = sh->size,
                  .records = in->records,
                  .source = source};
    (void)segment_add_item(s, &r); /* capacity reserved above */
    if (cursor != NULL)
        (void)abuf_cursor_put(b, in->source, b->next_id, &cursor, in->cursor_len, false);
    s->size += sh->size;
    b->st.bytes_used += sh->size;
    b->st.items_pending++;
    b->st.records_pending += in->records;
    if (id_out != NULL)
        *id_out = b->next_id;
    b->next_id++;
    pthread_cond_broadcast(&b->items_cv);
    return LF_OK;
}

lf_err lf_agent_buffer_append(lf_agent_buffer *b, const lf_agent_buffer_input *in, uint64_t *id_out,
                              lf_error *err)
{
    if (b == NULL || in == NULL || in->app == NULL || in->idempotency_key == NULL ||
        (in->body == NULL && in->body_len > 0) || (in->cursor == NULL && in->cursor_len > 0))
        return lf_error_set(err, LF_ERR_INVALID, "agent buffer: append needs app, key and body");
    append_shape sh = {
        .app_len = strnlen(in->app, LF_AGENT_BUFFER_APP_MAX + 1),
        .key_len = strnlen(in->idempotency_key, LF_AGENT_BUFFER_KEY_MAX + 1),
        .source_len = in->source ? strnlen(in->source, LF_AGENT_BUFFER_SOURCE_MAX + 1) : 0,
    };
    if (!app_valid(in->app, sh.app_len))
        return lf_error_set(err, LF_ERR_INVALID,
                            "agent buffer: app name must be 1..128 bytes without control bytes");
    if (!key_valid(in->idempotency_key, sh.key_len))
        return lf_error_set(err, LF_ERR_INVALID,
                            "agent buffer: idempotency key must be 16..64 of [A-Za-z0-9_-]");
    if (!abuf_source_valid(in->source, sh.source_len))
        return lf_error_set(err, LF_ERR_INVALID,
                            "agent buffer: source must be 0..64 of [A-Za-z0-9_.-]");
    if (in->cursor_len > 0 && sh.source_len == 0)
        return lf_error_set(err, LF_ERR_INVALID, "agent buffer: a cursor needs a source");
    if (in->cursor_len > LF_AGENT_BUFFER_CURSOR_MAX)
        return lf_error_set(err, LF_ERR_TOO_LARGE,
                            "agent buffer: cursor of %zu bytes exceeds 64 KiB", in->cursor_len);
    if (in->body_len > LF_AGENT_BUFFER_BODY_MAX)
        return lf_error_set(err, LF_ERR_TOO_LARGE, "agent buffer: body of %zu bytes exceeds 1 GiB",
                            in->body_len);
    sh.size = abuf_item_size(sh.app_len, sh.key_len, sh.source_len, in->cursor_len, in->body_len);
    pthread_mutex_lock(&b->mu);
    lf_err rc = append_locked(b, in, &sh, id_out, err);
    pthread_mutex_unlock(&b->mu);
    return rc;
}

/* ---- peek / ack ---- */
void lf_agent_buffer_items_free(lf_agent_buffer_item *items, size_t count)
{
    if (items == NULL)
        return;
    for (size_t i = 0; i < count; i++) {
        free(items[i].body);
        free(items[i].cursor);
    }
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
            return abuf_io_fail(err, "open", path);
        }
        size_t start = n;
        bool bad = false;
        for (size_t j = 0; j < s->n && n < max_items; j++) {
            item_ref r;
            if (s->items[j].id <= b->acked)
                continue;
            if (check_item(b, fd, s->items[j].off, s->size, s->items[j].id, &r, &items[n], NULL,
                           NULL, reason, sizeof reason) != 0) {
                bad = true;
                break;
            }
            n++;
        }
        if (!active)
            b->io->close(b->ctx, fd);
        if (bad) {
            /* Damaged after it was written (media, tampering): set it aside, keep going. */
            for (size_t k = start; k < n; k++) {
                free(items[k].body);
                free(items[k].cursor);
            }
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
    /* Space back: every segment whose items are all shipped goes; the checkpoint takes over
     * the cursors they carry, in the same atomic write as the new acked id. */
    size_t k = acked_prefix(b, id);
    lf_err rc = abuf_ckpt_write(b, id, 0, k, err);
    if (rc != LF_OK)
        return rc;
    b->acked = id;
    unlink_front(b, k); /* the ack itself is durable whatever happens to the cleanup */
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

lf_err lf_agent_buffer_last_cursor(lf_agent_buffer *b, const char *source, lf_buf *out,
                                   lf_error *err)
{
    size_t len = source ? strnlen(source, LF_AGENT_BUFFER_SOURCE_MAX + 1) : 0;
    if (b == NULL || out == NULL || len == 0 || !abuf_source_valid(source, len))
        return lf_error_set(err, LF_ERR_INVALID,
                            "agent buffer: last_cursor needs a source of 1..64 [A-Za-z0-9_.-]");
    pthread_mutex_lock(&b->mu);
    const cursor_entry *e = abuf_cursor_find(b, source);
    lf_err rc = LF_OK;
    if (e == NULL)
        rc = lf_error_set(err, LF_ERR_NOT_FOUND, "agent buffer: no cursor for source %s", source);
    else if (lf_buf_append(out, e->cursor, e->len) != LF_OK)
        rc = lf_error_set(err, LF_ERR_NOMEM, "agent buffer: copying a cursor");
    pthread_mutex_unlock(&b->mu);
    return rc;
}

/*
 * checkpoint.c — the agent buffer's ack checkpoint (acked.ckpt) and the per-source cursor
 * table it persists (format: docs/AGENT-BUFFER.md).
 *
 * The table maps each source (input name) to the cursor of the newest item appended with it.
 * While that item sits in a segment, the segment is where the cursor survives a crash; the
 * moment the segment is about to go away (acked and deleted, dropped by drop_oldest,
 * quarantined), the checkpoint is rewritten first so that it holds the cursor. The file thus
 * holds the acked id, a floor for the next id, and every cursor whose item is gone — rewritten
 * whole each time, atomically (tmp + fdatasync + rename + directory fsync). At open, the
 * newest by id wins between the file and the items found in the segments.
 */
#include "buffer/buffer_int.h"

#include "logflux/checksum.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CKPT_HDR       32
#define CKPT_ENTRY_HDR 16
#define WRITE_CHUNK    65536

static const char CKPT_MAGIC[8] = {'L', 'F', 'A', 'B', 'C', 'K', 'P', '2'};
static const uint64_t ID_LIMIT = (uint64_t)1 << 62; /* ids never get near overflow */

/* ---- the table ---- */

static size_t cursor_slot(const lf_agent_buffer *b, const char *source, bool *found)
{
    size_t lo = 0, hi = b->ncursors;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(b->cursors[mid].source, source);
        if (c == 0) {
            *found = true;
            return mid;
        }
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    *found = false;
    return lo;
}

cursor_entry *abuf_cursor_find(const lf_agent_buffer *b, const char *source)
{
    bool found;
    size_t i = cursor_slot(b, source, &found);
    return found ? &b->cursors[i] : NULL;
}

lf_err abuf_cursor_reserve(lf_agent_buffer *b)
{
    if (b->cursors != NULL)
        return LF_OK;
    b->cursors = calloc(LF_AGENT_BUFFER_SOURCES_MAX, sizeof *b->cursors);
    return b->cursors != NULL ? LF_OK : LF_ERR_NOMEM;
}

lf_err abuf_cursor_put(lf_agent_buffer *b, const char *source, uint64_t id, uint8_t **cursor,
                       size_t len, bool persisted)
{
    lf_err rc = abuf_cursor_reserve(b);
    if (rc != LF_OK)
        return rc;
    bool found;
    size_t i = cursor_slot(b, source, &found);
    if (found) {
        cursor_entry *e = &b->cursors[i];
        if (id <= e->id) { /* we already know a newer one */
            free(*cursor);
            *cursor = NULL;
            return LF_OK;
        }
        free(e->cursor);
        e->id = id;
        e->cursor = *cursor;
        e->len = len;
        e->persisted = persisted;
        *cursor = NULL;
        return LF_OK;
    }
    if (b->ncursors == LF_AGENT_BUFFER_SOURCES_MAX)
        return LF_ERR_TOO_LARGE;
    memmove(&b->cursors[i + 1], &b->cursors[i], (b->ncursors - i) * sizeof *b->cursors);
    cursor_entry *e = &b->cursors[i];
    memset(e, 0, sizeof *e);
    snprintf(e->source, sizeof e->source, "%s", source);
    e->id = id;
    e->cursor = *cursor;
    e->len = len;
    e->persisted = persisted;
    *cursor = NULL;
    b->ncursors++;
    return LF_OK;
}

void abuf_cursors_free(lf_agent_buffer *b)
{
    for (size_t i = 0; i < b->ncursors; i++)
        free(b->cursors[i].cursor);
    free(b->cursors);
    b->cursors = NULL;
    b->ncursors = 0;
}

/* Is item id in a segment other than segs[lo, hi)? Segments are sorted and never overlap. */
static bool id_live(const lf_agent_buffer *b, uint64_t id, size_t lo, size_t hi)
{
    size_t l = 0, h = b->nsegs; /* find the last segment with first_id <= id */
    while (l < h) {
        size_t mid = l + (h - l) / 2;
        if (b->segs[mid].first_id <= id)
            l = mid + 1;
        else
            h = mid;
    }
    if (l == 0)
        return false;
    size_t i = l - 1;
    const segment *s = &b->segs[i];
    if (i >= lo && i < hi)
        return false;
    return s->n > 0 && id <= s->items[s->n - 1].id;
}

/* What the next checkpoint must hold: what it holds now, plus what leaves the segments. */
static bool entry_kept(const lf_agent_buffer *b, const cursor_entry *e, size_t lo, size_t hi)
{
    return e->persisted || !id_live(b, e->id, lo, hi);
}

bool abuf_cursors_at_risk(const lf_agent_buffer *b, size_t lo, size_t hi)
{
    for (size_t i = 0; i < b->ncursors; i++)
        if (!b->cursors[i].persisted && !id_live(b, b->cursors[i].id, lo, hi))
            return true;
    return false;
}

/* ---- writing ---- */

/* Buffered sequential writer with a running CRC; the first failure sticks. */
typedef struct ckpt_writer {
    lf_agent_buffer *b;
    int fd;
    uint8_t *chunk;
    size_t used;
    off_t off;
    uint32_t crc;
    bool failed;
} ckpt_writer;

static void cw_flush(ckpt_writer *w)
{
    if (w->failed || w->used == 0)
        return;
    if (abuf_write_all(w->b, w->fd, w->chunk, w->used, w->off) != 0)
        w->failed = true;
    w->off += (off_t)w->used;
    w->used = 0;
}

static void cw_put(ckpt_writer *w, const void *data, size_t len)
{
    const uint8_t *p = data;
    w->crc = lf_crc32c(w->crc, p, len);
    while (len > 0 && !w->failed) {
        size_t n = WRITE_CHUNK - w->used < len ? WRITE_CHUNK - w->used : len;
        memcpy(w->chunk + w->used, p, n);
        w->used += n;
        p += n;
        len -= n;
        if (w->used == WRITE_CHUNK)
            cw_flush(w);
    }
}

lf_err abuf_ckpt_write(lf_agent_buffer *b, uint64_t acked, size_t lo, size_t hi, lf_error *err)
{
    char tmp[ABUF_PATH_CAP], fin[ABUF_PATH_CAP];
    snprintf(tmp, sizeof tmp, "%s/acked.ckpt.tmp", b->dir);
    snprintf(fin, sizeof fin, "%s/acked.ckpt", b->dir);
    ckpt_writer w = {.b = b, .chunk = malloc(WRITE_CHUNK)};
    if (w.chunk == NULL)
        return lf_error_set(err, LF_ERR_NOMEM, "agent buffer: writing checkpoint");
    w.fd = b->io->open(b->ctx, tmp, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (w.fd < 0) {
        free(w.chunk);
        return abuf_io_fail(err, "create", tmp);
    }
    uint32_t count = 0;
    for (size_t i = 0; i < b->ncursors; i++)
        count += entry_kept(b, &b->cursors[i], lo, hi);
    uint8_t h[CKPT_HDR] = {0};
    memcpy(h, CKPT_MAGIC, 8);
    abuf_put64(h + 8, acked);
    abuf_put64(h + 16, b->next_id);
    abuf_put32(h + 24, count);
    cw_put(&w, h, sizeof h);
    for (size_t i = 0; i < b->ncursors; i++) { /* sorted by source, as the reader demands */
        const cursor_entry *e = &b->cursors[i];
        if (!entry_kept(b, e, lo, hi))
            continue;
        size_t slen = strlen(e->source);
        uint8_t eh[CKPT_ENTRY_HDR] = {0};
        abuf_put64(eh, e->id);
        abuf_put32(eh + 8, (uint32_t)e->len);
        abuf_put16(eh + 12, (uint16_t)slen);
        cw_put(&w, eh, sizeof eh);
        cw_put(&w, e->source, slen);
        cw_put(&w, e->cursor, e->len);
    }
    uint8_t crc[4];
    abuf_put32(crc, w.crc);
    cw_put(&w, crc, sizeof crc);
    cw_flush(&w);
    free(w.chunk);
    lf_err rc = LF_OK;
    if (w.failed)
        rc = abuf_io_fail(err, "write", tmp);
    else if (b->io->fdatasync(b->ctx, w.fd) != 0)
        rc = abuf_io_fail(err, "fdatasync", tmp);
    b->io->close(b->ctx, w.fd);
    if (rc == LF_OK && b->io->rename(b->ctx, tmp, fin) != 0)
        rc = abuf_io_fail(err, "rename to acked.ckpt", tmp);
    if (rc == LF_OK)
        rc = abuf_fsync_dir(b, err);
    if (rc != LF_OK) {
        (void)b->io->unlink(b->ctx, tmp);
        return rc;
    }
    for (size_t i = 0; i < b->ncursors; i++)
        if (entry_kept(b, &b->cursors[i], lo, hi))
            b->cursors[i].persisted = true;
    return LF_OK;
}

/* ---- reading ---- */

/* Parse an open checkpoint of file_size bytes; 0 on success, -1 if damaged. */
static int ckpt_parse(lf_agent_buffer *b, int fd, uint64_t file_size)
{
    uint8_t h[CKPT_HDR];
    if (file_size < CKPT_HDR + 4 || abuf_read_all(b, fd, h, CKPT_HDR, 0) != 0)
        return -1;
    uint64_t acked = abuf_get64(h + 8), next = abuf_get64(h + 16);
    uint32_t count = abuf_get32(h + 24);
    if (memcmp(h, CKPT_MAGIC, 8) != 0 || abuf_get32(h + 28) != 0 || next > ID_LIMIT ||
        acked >= next || count > LF_AGENT_BUFFER_SOURCES_MAX)
        return -1;
    uint32_t crc = lf_crc32c(0, h, CKPT_HDR);
    uint64_t off = CKPT_HDR;
    char prev[LF_AGENT_BUFFER_SOURCE_MAX + 1] = "";
    for (uint32_t i = 0; i < count; i++) {
        uint8_t eh[CKPT_ENTRY_HDR];
        if (file_size - off < CKPT_ENTRY_HDR + 4 ||
            abuf_read_all(b, fd, eh, CKPT_ENTRY_HDR, (off_t)off) != 0)
            return -1;
        uint64_t id = abuf_get64(eh);
        uint32_t clen = abuf_get32(eh + 8);
        uint16_t slen = abuf_get16(eh + 12);
        if (id == 0 || id >= next || clen < 1 || clen > LF_AGENT_BUFFER_CURSOR_MAX || slen < 1 ||
            slen > LF_AGENT_BUFFER_SOURCE_MAX || abuf_get16(eh + 14) != 0 ||
            (uint64_t)CKPT_ENTRY_HDR + slen + clen + 4 > file_size - off)
            return -1;
        char source[LF_AGENT_BUFFER_SOURCE_MAX + 1] = {0};
        uint8_t *cursor = malloc(clen); /* <= 64 KiB and within the file */
        if (cursor == NULL ||
            abuf_read_all(b, fd, source, slen, (off_t)(off + CKPT_ENTRY_HDR)) != 0 ||
            abuf_read_all(b, fd, cursor, clen, (off_t)(off + CKPT_ENTRY_HDR + slen)) != 0 ||
            !abuf_source_valid(source, slen) || strcmp(prev, source) >= 0) {
            free(cursor); /* sources must be strictly increasing: no duplicates */
            return -1;
        }
        crc = lf_crc32c(crc, eh, CKPT_ENTRY_HDR);
        crc = lf_crc32c(crc, source, slen);
        crc = lf_crc32c(crc, cursor, clen);
        memcpy(prev, source, slen + 1);
        if (abuf_cursor_put(b, source, id, &cursor, clen, true) != LF_OK) {
            free(cursor);
            return -1;
        }
        off += CKPT_ENTRY_HDR + slen + clen;
    }
    uint8_t tail[4];
    if (file_size - off != 4 || abuf_read_all(b, fd, tail, 4, (off_t)off) != 0 ||
        abuf_get32(tail) != crc)
        return -1;
    b->acked = acked;
    b->next_id = next;
    return 0;
}

void abuf_ckpt_read(lf_agent_buffer *b)
{
    char tmp[ABUF_PATH_CAP], fin[ABUF_PATH_CAP];
    snprintf(tmp, sizeof tmp, "%s/acked.ckpt.tmp", b->dir);
    snprintf(fin, sizeof fin, "%s/acked.ckpt", b->dir);
    (void)b->io->unlink(b->ctx, tmp);
    b->acked = 0;
    b->next_id = 1;
    int fd = b->io->open(b->ctx, fin, O_RDONLY, 0);
    if (fd < 0)
        return; /* absent: nothing acked yet */
    struct stat sb;
    int ok = fstat(fd, &sb) == 0 ? ckpt_parse(b, fd, (uint64_t)sb.st_size) : -1;
    b->io->close(b->ctx, fd);
    if (ok == 0)
        return;
    /* Damaged (or the old format): lose only duplicates, never data. */
    abuf_cursors_free(b);
    b->acked = 0;
    b->next_id = 1;
    abuf_quarantine_file(b, "acked.ckpt", "checkpoint has a wrong size, magic, field or CRC");
    b->st.checkpoint_resets++;
}

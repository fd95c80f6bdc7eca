/*
 * tail_file.c — one followed file: its identity, its read buffer, line splitting, and the
 * checks that notice rotation, deletion and truncation.
 *
 * Identity is (dev, inode) plus a content fingerprint: the FNV-1a 64 hash of the first
 * fp_len = min(size, LF_TAIL_FP_MAX) bytes. While a file is shorter than LF_TAIL_FP_MAX the
 * fingerprint grows with it; it is extended only after the old prefix was verified, so a
 * fingerprint always describes a prefix of the content we read. A file is truncated when it
 * is shorter than what we read, when its first fp_len bytes no longer hash to fp_hash, or
 * when the 64 bytes just before our read offset are no longer the ones we read (the anchor).
 * The fingerprint catches a copytruncate where the file re-grew past our offset between two
 * checks; the anchor catches it even when new content starts with the same header.
 *
 * The file is checked at every poll tick and before every read that follows an EOF, so new
 * content after a truncation is never read from the old offset once the file was idle.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "tail_int.h"

#define TAIL_READ_CHUNK 65536

int64_t tail_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t tail_realtime_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

uint64_t tail_fnv1a(const uint8_t *p, size_t n)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < n; i++) {
        h ^= p[i];
        h *= 0x100000001b3ull;
    }
    return h;
}

bool tail_bytes_append(tail_bytes *b, const void *p, size_t n)
{
    if (n > SIZE_MAX - b->len)
        return false;
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + n)
            cap = cap > SIZE_MAX / 2 ? b->len + n : cap * 2;
        uint8_t *d = realloc(b->data, cap);
        if (!d)
            return false;
        b->data = d;
        b->cap = cap;
    }
    if (n)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    return true;
}

void tail_bytes_free(tail_bytes *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

bool tail_pread_full(int fd, uint8_t *p, size_t n, uint64_t off)
{
    while (n > 0) {
        ssize_t r = pread(fd, p, n, (off_t)off);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return false;
        p += r;
        n -= (size_t)r;
        off += (uint64_t)r;
    }
    return true;
}

bool tail_file_hash_prefix(int fd, uint32_t n, uint64_t *hash)
{
    uint8_t head[LF_TAIL_FP_MAX];
    if (n > LF_TAIL_FP_MAX)
        return false;
    if (n > 0 && !tail_pread_full(fd, head, n, 0))
        return false;
    *hash = tail_fnv1a(head, n);
    return true;
}

bool tail_file_fingerprint(tail_file *f, uint32_t n)
{
    uint8_t head[LF_TAIL_FP_MAX];
    if (n > LF_TAIL_FP_MAX || (n > 0 && !tail_pread_full(f->fd, head, n, 0)))
        return false;
    memcpy(f->head, head, n);
    f->fp_len = n;
    f->fp_hash = tail_fnv1a(head, n);
    return true;
}

static void refresh_anchor(tail_file *f)
{
    uint64_t off = f->consumed_off + (f->buf_len - f->buf_pos);
    size_t n = off < sizeof f->anchor ? (size_t)off : sizeof f->anchor;
    f->anchor_len = tail_pread_full(f->fd, f->anchor, n, off - n) ? n : 0;
}

void tail_file_seek(tail_file *f, uint64_t off)
{
    f->consumed_off = off;
    f->buf_pos = f->buf_len = 0;
    f->eof_since_ms = 0;
    refresh_anchor(f);
}

lf_err tail_file_open(lf_tail *t, const char *path, tail_file **out, lf_error *err)
{
    struct stat st;
    tail_file *f = calloc(1, sizeof *f);
    if (!f)
        return lf_error_set(err, LF_ERR_NOMEM, "tail: out of memory");
    f->fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (f->fd < 0 || fstat(f->fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        int e = errno;
        if (f->fd >= 0)
            close(f->fd);
        free(f);
        return lf_error_set(err, LF_ERR_IO, "tail: %s: cannot open regular file: %s", path,
                            strerror(e));
    }
    f->path = strdup(path);
    f->buf_cap = t->max_line + TAIL_READ_CHUNK;
    f->buf = malloc(f->buf_cap);
    if (!f->path || !f->buf) {
        close(f->fd);
        free(f->path);
        free(f->buf);
        free(f);
        return lf_error_set(err, LF_ERR_NOMEM, "tail: out of memory");
    }
    f->dev = (uint64_t)st.st_dev;
    f->ino = (uint64_t)st.st_ino;
    if (!tail_file_fingerprint(f, st.st_size < LF_TAIL_FP_MAX ? (uint32_t)st.st_size
                                                              : LF_TAIL_FP_MAX)) {
        f->fp_len = 0;
        f->fp_hash = tail_fnv1a(NULL, 0);
    }
    t->stats.files_opened++;
    *out = f;
    return LF_OK;
}

void tail_file_close(lf_tail *t, tail_file *f)
{
    if (!f)
        return;
    close(f->fd);
    free(f->path);
    free(f->buf);
    tail_bytes_free(&f->ml.group);
    free(f);
    t->stats.files_closed++;
}

void tail_file_position(const tail_file *f, uint64_t off, lf_tail_position *pos)
{
    pos->dev = f->dev;
    pos->ino = f->ino;
    pos->fp_hash = f->fp_hash;
    pos->fp_len = f->fp_len;
    pos->generation = f->generation;
    pos->offset = off;
}

void tail_emit(lf_tail *t, tail_file *f, const uint8_t *p, size_t n, size_t lines, unsigned flags,
               uint64_t end_off, lf_tail_record *rec)
{
    t->out.len = 0;
    if (!tail_bytes_append(&t->out, p, n)) {
        /* Keep the record rather than lose it: hand out the bytes in place. They stay valid
         * until the caller's next call because nothing is consumed before then. */
        rec->data = p;
    } else {
        rec->data = t->out.data;
    }
    if (!t->out_path || strcmp(t->out_path, f->path) != 0) {
        char *dup = strdup(f->path);
        if (dup) {
            free(t->out_path);
            t->out_path = dup;
        }
    }
    rec->path = t->out_path ? t->out_path : f->path;
    rec->len = n;
    rec->lines = lines;
    rec->flags = flags;
    if (f->after_truncate) {
        rec->flags |= LF_TAIL_REC_AFTER_TRUNCATE;
        f->after_truncate = false;
    }
    /* One clock read per read(2), not per line: a record's time is when its bytes were read. */
    rec->read_time_ns = f->read_time_ns ? f->read_time_ns : tail_realtime_ns();
    tail_file_position(f, end_off, &rec->position);
}

static void consume(tail_file *f, size_t n)
{
    f->buf_pos += n;
    f->consumed_off += n;
    if (f->buf_pos == f->buf_len)
        f->buf_pos = f->buf_len = 0;
}

/* f was cut: everything before read_off was returned (or is held and will be flushed). A
 * copy of f already found continues from read_off; otherwise a memo waits for one. */
static void note_truncation(lf_tail *t, tail_file *f)
{
    if (f->trunc_pending)
        return;
    uint64_t read_off = f->consumed_off + (f->buf_len - f->buf_pos);
    f->trunc_pending = true;
    t->stats.truncations++;
    if (tail_copy_original_cut(t, f, read_off) > 0)
        return;
    if (t->n_memo == TAIL_MEMO_MAX) {
        memmove(&t->memo[0], &t->memo[1], sizeof t->memo[0] * (TAIL_MEMO_MAX - 1));
        t->n_memo--;
    }
    tail_trunc_memo *m = &t->memo[t->n_memo++];
    memcpy(m->head, f->head, f->fp_len);
    m->fp_len = f->fp_len;
    m->offset = read_off;
    memcpy(m->anchor, f->anchor, f->anchor_len);
    m->anchor_len = f->anchor_len;
    m->at_ms = tail_now_ms();
}

void tail_file_check(lf_tail *t, tail_file *f)
{
    struct stat st, ps;
    if (f->trunc_pending || fstat(f->fd, &st) != 0)
        return;
    if (!f->gone) {
        bool moved = stat(f->path, &ps) != 0 || (uint64_t)ps.st_dev != f->dev ||
                     (uint64_t)ps.st_ino != f->ino;
        if (st.st_nlink == 0 || moved) {
            f->gone = true;
            t->stats.rotations++;
        }
    }
    if (f->copy_state != TAIL_COPY_NONE)
        return; /* parked: nothing read yet, tail_copy_settle decides */
    uint64_t size = (uint64_t)st.st_size;
    uint64_t read_off = f->consumed_off + (f->buf_len - f->buf_pos);
    if (size < read_off) {
        note_truncation(t, f);
        return;
    }
    uint64_t h;
    if (!tail_file_hash_prefix(f->fd, f->fp_len, &h) || h != f->fp_hash) {
        note_truncation(t, f);
        return;
    }
    if (f->anchor_len > 0) {
        uint8_t now_bytes[sizeof f->anchor];
        if (!tail_pread_full(f->fd, now_bytes, f->anchor_len, read_off - f->anchor_len) ||
            memcmp(now_bytes, f->anchor, f->anchor_len) != 0) {
            note_truncation(t, f);
            return;
        }
    }
    if (f->fp_len < LF_TAIL_FP_MAX && size > f->fp_len)
        tail_file_fingerprint(f, size < LF_TAIL_FP_MAX ? (uint32_t)size : LF_TAIL_FP_MAX);
}

/* Restart at offset 0 of the new content after a truncation. */
static void restart_after_truncation(tail_file *f)
{
    struct stat st;
    f->generation++;
    f->split_active = false;
    f->trunc_pending = false;
    f->after_truncate = true;
    uint64_t size = fstat(f->fd, &st) == 0 ? (uint64_t)st.st_size : 0;
    if (!tail_file_fingerprint(f, size < LF_TAIL_FP_MAX ? (uint32_t)size : LF_TAIL_FP_MAX)) {
        f->fp_len = 0;
        f->fp_hash = tail_fnv1a(NULL, 0);
    }
    tail_file_seek(f, 0);
}

/* Emit whatever is held for f: a partial line (flagged) and the pending multiline group. */
static bool flush_held(lf_tail *t, tail_file *f, int64_t now, lf_tail_record *rec)
{
    size_t n = f->buf_len - f->buf_pos;
    if (n > 0) {
        const uint8_t *p = f->buf + f->buf_pos;
        uint64_t end = f->consumed_off + n;
        t->stats.partial_flushes++;
        if (t->ml_on && !f->split_active) {
            bool got = tail_ml_feed(t, f, p, n, end, now, rec);
            f->ml.flags |= LF_TAIL_REC_NO_NEWLINE;
            consume(f, n);
            if (got)
                return true;
        } else {
            unsigned fl = LF_TAIL_REC_NO_NEWLINE;
            if (f->split_active)
                fl |= LF_TAIL_REC_SPLIT | LF_TAIL_REC_SPLIT_LAST;
            f->split_active = false;
            tail_emit(t, f, p, n, 1, fl, end, rec);
            consume(f, n);
            return true;
        }
    }
    return t->ml_on && tail_ml_flush(t, f, now, true, rec);
}

static void update_anchor(tail_file *f, size_t got)
{
    size_t have = f->buf_len; /* bytes in buf including the new ones */
    if (have >= sizeof f->anchor) {
        memcpy(f->anchor, f->buf + have - sizeof f->anchor, sizeof f->anchor);
        f->anchor_len = sizeof f->anchor;
        return;
    }
    /* Fewer than 64 bytes buffered: keep the tail of the old anchor in front. */
    uint8_t tmp[2 * sizeof f->anchor];
    size_t keep = f->anchor_len;
    size_t add = got < sizeof f->anchor ? got : sizeof f->anchor;
    memcpy(tmp, f->anchor, keep);
    memcpy(tmp + keep, f->buf + have - add, add);
    size_t total = keep + add;
    size_t n = total < sizeof f->anchor ? total : sizeof f->anchor;
    memcpy(f->anchor, tmp + total - n, n);
    f->anchor_len = n;
}

/* Does the file still start with our fingerprint and hold our anchor before read_off? */
static bool same_content(const tail_file *f, uint64_t read_off)
{
    uint64_t h;
    uint8_t now_bytes[sizeof f->anchor];
    if (!tail_file_hash_prefix(f->fd, f->fp_len, &h) || h != f->fp_hash)
        return false;
    return f->anchor_len == 0 ||
           (tail_pread_full(f->fd, now_bytes, f->anchor_len, read_off - f->anchor_len) &&
            memcmp(now_bytes, f->anchor, f->anchor_len) == 0);
}

/* Read more bytes. true when something was read. The identity is verified after the read:
 * a truncation that raced with it (the file cut and re-grown past our offset in between)
 * would otherwise hand us new content read from the middle. Bytes read across such a cut
 * are dropped here; the copy rule or the restart at 0 reads them again. */
static bool read_more(lf_tail *t, tail_file *f, int64_t now)
{
    if (f->buf_pos > 0 && f->buf_cap - f->buf_len < TAIL_READ_CHUNK) {
        memmove(f->buf, f->buf + f->buf_pos, f->buf_len - f->buf_pos);
        f->buf_len -= f->buf_pos;
        f->buf_pos = 0;
    }
    if (f->buf_len == f->buf_cap)
        return false;
    ssize_t r;
    uint64_t read_off = f->consumed_off + (f->buf_len - f->buf_pos);
    do {
        r = pread(f->fd, f->buf + f->buf_len, f->buf_cap - f->buf_len, (off_t)read_off);
    } while (r < 0 && errno == EINTR);
    if (r > 0 && !same_content(f, read_off)) {
        note_truncation(t, f);
        return false;
    }
    if (r <= 0) {
        if (f->eof_since_ms == 0)
            f->eof_since_ms = now;
        return false;
    }
    f->buf_len += (size_t)r;
    f->eof_since_ms = 0;
    f->read_time_ns = tail_realtime_ns();
    update_anchor(f, (size_t)r);
    return true;
}

bool tail_file_produce(lf_tail *t, tail_file *f, lf_tail_record *rec, int64_t now)
{
    if (f->copy_state != TAIL_COPY_NONE && !tail_copy_settle(t, f, now))
        return false;
    for (;;) {
        const uint8_t *p = f->buf + f->buf_pos;
        size_t avail = f->buf_len - f->buf_pos;
        size_t scan = avail < t->max_line + 1 ? avail : t->max_line + 1;
        const uint8_t *nl = memchr(p, '\n', scan);
        if (nl) {
            size_t n = (size_t)(nl - p);
            uint64_t end = f->consumed_off + n + 1;
            if (f->split_active) {
                f->split_active = false;
                tail_emit(t, f, p, n, 1, LF_TAIL_REC_SPLIT | LF_TAIL_REC_SPLIT_LAST, end, rec);
                consume(f, n + 1);
                return true;
            }
            if (t->ml_on) {
                bool got = tail_ml_feed(t, f, p, n, end, now, rec);
                consume(f, n + 1);
                if (got)
                    return true;
                continue;
            }
            tail_emit(t, f, p, n, 1, 0, end, rec);
            consume(f, n + 1);
            return true;
        }
        if (avail >= t->max_line) {
            /* A line longer than the limit: hand it out in pieces, never drop it. A pending
             * multiline group goes first so the order in the file is kept. */
            if (t->ml_on && f->ml.lines > 0 && tail_ml_flush(t, f, now, true, rec))
                return true;
            if (!f->split_active)
                t->stats.split_lines++;
            f->split_active = true;
            tail_emit(t, f, p, t->max_line, 1, LF_TAIL_REC_SPLIT, f->consumed_off + t->max_line,
                      rec);
            consume(f, t->max_line);
            return true;
        }
        if (f->trunc_pending) {
            if (flush_held(t, f, now, rec))
                return true;
            restart_after_truncation(f);
            continue;
        }
        /* Coming back from EOF: verify identity before reading what may be new content. */
        if (f->eof_since_ms != 0) {
            tail_file_check(t, f);
            if (f->trunc_pending)
                continue;
        }
        if (read_more(t, f, now) || f->trunc_pending)
            continue;
        break;
    }
    if (t->ml_on && tail_ml_flush(t, f, now, false, rec))
        return true;
    if (f->gone && f->eof_since_ms != 0 && now - f->eof_since_ms >= (int64_t)t->rotate_wait_ms)
        return flush_held(t, f, now, rec);
    return false;
}

bool tail_file_finished(const lf_tail *t, const tail_file *f, int64_t now)
{
    return f->gone && !f->trunc_pending && f->eof_since_ms != 0 &&
           now - f->eof_since_ms >= (int64_t)t->rotate_wait_ms && f->buf_len == f->buf_pos &&
           f->ml.lines == 0;
}

/*
 * tail_copy.c — the copy rule: where a file that appears while running starts when it may be
 * the copy that copytruncate made of a file we follow.
 *
 * copytruncate copies app.log to app.log.1, then cuts app.log to 0. A scan can see the copy at
 * any point of that: still empty or half written, complete but before the cut, or after we
 * noticed the cut. Reading the copy from 0 repeats everything already returned from the
 * original. Starting it at the original's offset at the moment the copy is seen repeats what
 * the original still returns until the cut. So nothing is decided while it is ambiguous: the
 * file is parked (not read) until it is not.
 *
 * Candidates: a followed file (not parked, not cut) or the memo of a file found cut in the last
 * 5 minutes, with a head (the first fp_len bytes) of at least 64 bytes.
 *
 *   MAYBE    the new file's bytes so far are a strict prefix of a candidate's head (an empty
 *            file always is). Wait: once a byte differs it is new content and starts at 0;
 *            once it holds a whole head it becomes one of the two below.
 *   OF_LIVE  it holds the whole head of a followed file. Wait for that original: when its cut
 *            is noticed at read offset R (everything before R was returned from it), AT R.
 *   AT R     it holds the whole head of the memo of a file cut at R. Wait until it is R bytes
 *            long. If its 64 bytes before R are the ones we read before R in the original
 *            (the anchor), it holds exactly the bytes we returned: it starts at R. Otherwise
 *            it is other content and starts at 0.
 *
 * A file parked longer than rotate_wait in one state is decided by what is known then:
 * MAYBE starts at 0 (new). OF_LIVE with the original still intact is a plain copy: if its last
 * bytes (up to 4 KiB) equal the original's at the same offsets, the original returns all of
 * it and it starts at its end; otherwise at 0. OF_LIVE whose original was closed starts at 0.
 * AT still shorter than R holds only bytes we returned (the writer wrote the rest between the
 * copy and the cut): it starts at its end.
 *
 * The defaults lean to repeating, never to losing: every undecidable case starts at 0.
 */
#define _GNU_SOURCE
#include <string.h>
#include <sys/stat.h>

#include "tail_int.h"

#define TAIL_COPY_MIN_FP     64
#define TAIL_MEMO_TTL_MS     300000
#define TAIL_COPY_TAIL_CHECK 4096

typedef enum { MATCH_NONE, MATCH_PREFIX, MATCH_FULL } head_match;

/* Compare a file's first `have` bytes with a candidate's head. */
static head_match match_head(const uint8_t *mine, uint32_t have, const uint8_t *head,
                             uint32_t head_len)
{
    if (head_len < TAIL_COPY_MIN_FP)
        return MATCH_NONE;
    uint32_t k = have < head_len ? have : head_len;
    if (memcmp(mine, head, k) != 0)
        return MATCH_NONE;
    return have >= head_len ? MATCH_FULL : MATCH_PREFIX;
}

static void park(tail_file *f, enum tail_copy_state st, int64_t now)
{
    if (f->copy_state != st)
        f->copy_since_ms = now;
    f->copy_state = st;
}

static void start_at(lf_tail *t, tail_file *f, uint64_t off, uint64_t size, bool resumed)
{
    f->copy_state = TAIL_COPY_NONE;
    /* The fingerprint describes the file as it is now, not as it was when first seen. */
    tail_file_fingerprint(f, size < LF_TAIL_FP_MAX ? (uint32_t)size : LF_TAIL_FP_MAX);
    tail_file_seek(f, off);
    if (resumed)
        t->stats.copy_resumes++;
}

static void classify(lf_tail *t, tail_file *f, uint64_t size, int64_t now)
{
    uint8_t mine[LF_TAIL_FP_MAX];
    uint32_t have = size < LF_TAIL_FP_MAX ? (uint32_t)size : LF_TAIL_FP_MAX;
    if (have > 0 && !tail_pread_full(f->fd, mine, have, 0)) {
        park(f, TAIL_COPY_MAYBE, now); /* shrank under us: look again at the next pass */
        return;
    }
    bool maybe = false;
    for (size_t i = 0; i < t->n_memo; i++) {
        tail_trunc_memo *m = &t->memo[i];
        if (now - m->at_ms > TAIL_MEMO_TTL_MS)
            continue;
        head_match hm = match_head(mine, have, m->head, m->fp_len);
        if (hm == MATCH_FULL) {
            f->copy_off = m->offset;
            memcpy(f->copy_anchor, m->anchor, m->anchor_len);
            f->copy_anchor_len = m->anchor_len;
            park(f, TAIL_COPY_AT, now);
            memmove(m, m + 1, sizeof *m * (t->n_memo - i - 1));
            t->n_memo--;
            return;
        }
        maybe = maybe || hm == MATCH_PREFIX;
    }
    for (const tail_file *o = t->files; o; o = o->next) {
        if (o == f || o->copy_state != TAIL_COPY_NONE || o->trunc_pending)
            continue;
        head_match hm = match_head(mine, have, o->head, o->fp_len);
        if (hm == MATCH_FULL) {
            f->copy_dev = o->dev;
            f->copy_ino = o->ino;
            park(f, TAIL_COPY_OF_LIVE, now);
            return;
        }
        maybe = maybe || hm == MATCH_PREFIX;
    }
    if (maybe)
        park(f, TAIL_COPY_MAYBE, now);
    else
        start_at(t, f, 0, size, false);
}

void tail_copy_begin(lf_tail *t, tail_file *f, int64_t now)
{
    struct stat st;
    if (fstat(f->fd, &st) != 0) {
        start_at(t, f, 0, 0, false);
        return;
    }
    classify(t, f, (uint64_t)st.st_size, now);
}

/* Are bytes [from, to) the same in both files? */
static bool same_range(int a, int b, uint64_t from, uint64_t to)
{
    uint8_t x[1024], y[1024];
    while (from < to) {
        size_t n = to - from < sizeof x ? (size_t)(to - from) : sizeof x;
        if (!tail_pread_full(a, x, n, from) || !tail_pread_full(b, y, n, from) ||
            memcmp(x, y, n) != 0)
            return false;
        from += n;
    }
    return true;
}

static tail_file *find_original(lf_tail *t, const tail_file *f)
{
    for (tail_file *o = t->files; o; o = o->next)
        if (o != f && o->dev == f->copy_dev && o->ino == f->copy_ino)
            return o;
    return NULL;
}

/* A copy parked as OF_LIVE whose original was not cut within rotate_wait. */
static void settle_plain_copy(lf_tail *t, tail_file *f, uint64_t size)
{
    tail_file *o = find_original(t, f);
    uint64_t from = size > TAIL_COPY_TAIL_CHECK ? size - TAIL_COPY_TAIL_CHECK : 0;
    if (o && o->copy_state == TAIL_COPY_NONE && !o->trunc_pending &&
        same_range(f->fd, o->fd, from, size))
        start_at(t, f, size, size, true);
    else
        start_at(t, f, 0, size, false);
}

static void settle_at(lf_tail *t, tail_file *f, uint64_t size, bool expired)
{
    if (size < f->copy_off) {
        if (expired)
            start_at(t, f, size, size, true);
        return;
    }
    uint8_t now_bytes[sizeof f->copy_anchor];
    size_t n = f->copy_anchor_len;
    bool same = n == 0 || (tail_pread_full(f->fd, now_bytes, n, f->copy_off - n) &&
                           memcmp(now_bytes, f->copy_anchor, n) == 0);
    start_at(t, f, same ? f->copy_off : 0, size, same);
}

bool tail_copy_settle(lf_tail *t, tail_file *f, int64_t now)
{
    struct stat st;
    if (fstat(f->fd, &st) != 0)
        return false;
    uint64_t size = (uint64_t)st.st_size;
    bool expired = now - f->copy_since_ms >= (int64_t)t->rotate_wait_ms;
    if (f->copy_state == TAIL_COPY_MAYBE) {
        classify(t, f, size, now);
        if (f->copy_state == TAIL_COPY_MAYBE && expired)
            start_at(t, f, 0, size, false);
        /* a fresh OF_LIVE / AT starts its own wait */
        expired = f->copy_state == TAIL_COPY_MAYBE && expired;
    }
    if (f->copy_state == TAIL_COPY_OF_LIVE) {
        tail_file *o = find_original(t, f);
        if (!o) {
            start_at(t, f, 0, size, false);
        } else if (expired) {
            /* Look at the original now: a cut not noticed yet resolves the link (AT). */
            tail_file_check(t, o);
            if (f->copy_state == TAIL_COPY_OF_LIVE)
                settle_plain_copy(t, f, size);
            else
                expired = false;
        }
    }
    if (f->copy_state == TAIL_COPY_AT)
        settle_at(t, f, size, expired);
    return f->copy_state == TAIL_COPY_NONE;
}

size_t tail_copy_original_cut(lf_tail *t, const tail_file *o, uint64_t read_off)
{
    size_t n = 0;
    int64_t now = tail_now_ms();
    for (tail_file *f = t->files; f; f = f->next) {
        if (f->copy_state != TAIL_COPY_OF_LIVE || f->copy_dev != o->dev || f->copy_ino != o->ino)
            continue;
        f->copy_off = read_off;
        memcpy(f->copy_anchor, o->anchor, o->anchor_len);
        f->copy_anchor_len = o->anchor_len;
        park(f, TAIL_COPY_AT, now);
        n++;
    }
    return n;
}

/*
 * tail_multiline.c — groups lines into one record: a line matching the first-line regex (POSIX
 * ERE) starts a group, every other line joins the group before it (joined with '\n'). A group
 * is emitted when the next first line arrives, when it would exceed max lines or max bytes
 * (then it is flagged LF_TAIL_REC_ML_CAPPED and the rest starts a new group), or when no line
 * joined it for the flush timeout. A line before any first line forms a group of its own
 * start. The group's position is the offset after its last line, so a checkpoint never covers
 * a line that was only held here.
 */
#define _GNU_SOURCE
#include <string.h>

#include "tail_int.h"

static bool is_first_line(lf_tail *t, const uint8_t *line, size_t n)
{
    t->scratch.len = 0;
    if (!tail_bytes_append(&t->scratch, line, n) || !tail_bytes_append(&t->scratch, "", 1))
        return true; /* out of memory: fall back to one record per line */
    /* A NUL inside the line would end the string early: match on the prefix, as grep does. */
    return regexec(&t->ml_re, (const char *)t->scratch.data, 0, NULL, 0) == 0;
}

static void ml_emit(lf_tail *t, tail_file *f, lf_tail_record *rec)
{
    tail_emit(t, f, f->ml.group.data, f->ml.group.len, f->ml.lines, f->ml.flags, f->ml.end_offset,
              rec);
    f->ml.group.len = 0;
    f->ml.lines = 0;
    f->ml.flags = 0;
}

static void ml_start(lf_tail *t, tail_file *f, const uint8_t *line, size_t n, uint64_t end,
                     int64_t now, unsigned flags)
{
    (void)t;
    f->ml.group.len = 0;
    if (!tail_bytes_append(&f->ml.group, line, n)) {
        /* Cannot hold it: keep what fits rather than fail the whole input. */
        flags |= LF_TAIL_REC_ML_CAPPED;
    }
    f->ml.lines = 1;
    f->ml.flags = flags;
    f->ml.end_offset = end;
    f->ml.last_append_ms = now;
}

bool tail_ml_feed(lf_tail *t, tail_file *f, const uint8_t *line, size_t n, uint64_t end_off,
                  int64_t now, lf_tail_record *rec)
{
    if (f->ml.lines == 0) {
        ml_start(t, f, line, n, end_off, now, 0);
        return false;
    }
    bool first = is_first_line(t, line, n);
    bool capped =
        !first && (f->ml.lines + 1 > t->ml_max_lines || f->ml.group.len + 1 + n > t->ml_max_bytes);
    if (first || capped) {
        if (capped)
            f->ml.flags |= LF_TAIL_REC_ML_CAPPED;
        ml_emit(t, f, rec);
        ml_start(t, f, line, n, end_off, now, capped ? LF_TAIL_REC_ML_CAPPED : 0);
        return true;
    }
    if (!tail_bytes_append(&f->ml.group, "\n", 1) || !tail_bytes_append(&f->ml.group, line, n)) {
        f->ml.flags |= LF_TAIL_REC_ML_CAPPED;
        ml_emit(t, f, rec);
        ml_start(t, f, line, n, end_off, now, LF_TAIL_REC_ML_CAPPED);
        return true;
    }
    f->ml.lines++;
    f->ml.end_offset = end_off;
    f->ml.last_append_ms = now;
    return false;
}

bool tail_ml_flush(lf_tail *t, tail_file *f, int64_t now, bool force, lf_tail_record *rec)
{
    if (f->ml.lines == 0)
        return false;
    if (!force && now - f->ml.last_append_ms < (int64_t)t->ml_flush_ms)
        return false;
    ml_emit(t, f, rec);
    return true;
}

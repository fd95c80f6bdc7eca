/*
 * tail_watch_poll.c — stat polling: rescans the globs to find new files and files renamed
 * to another matching name, and runs the per-file checks (rotation, deletion, truncation).
 * It always runs, every poll interval, whether inotify works or not.
 *
 * Where a newly seen file starts:
 *   1. a checkpoint for its (dev, inode) whose fingerprint matches its content: the committed
 *      offset (or 0 if the file is now shorter: it was truncated while we were down);
 *   2. otherwise, for a file that appeared while running, the copy rule: if its first fp_len
 *      bytes (fp_len >= 64) match the fingerprint of a file we truncated recently, or of a
 *      file we are following under another inode, it is the copy made by copytruncate and it
 *      starts where we were in the original, so the lines we had not read yet are not lost;
 *   3. otherwise a file present at start begins at 0 with read_from_head, else at its end;
 *      a file that appeared while running begins at 0 (all of it is new).
 */
#define _GNU_SOURCE
#include <glob.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "tail_int.h"

#define TAIL_COPY_MIN_FP 64
#define TAIL_MEMO_TTL_MS 300000

static tail_file *find_identity(lf_tail *t, uint64_t dev, uint64_t ino)
{
    for (tail_file *f = t->files; f; f = f->next)
        if (f->dev == dev && f->ino == ino)
            return f;
    return NULL;
}

static bool apply_checkpoint(lf_tail *t, tail_file *f, uint64_t size, uint64_t *start)
{
    lf_tail_position cp;
    if (!t->ckpt || tail_ckpt_get(t->ckpt, f->dev, f->ino, &cp, NULL) != LF_OK)
        return false;
    uint64_t h;
    if (!tail_file_hash_prefix(f->fd, cp.fp_len, &h) || h != cp.fp_hash) {
        t->stats.checkpoints_rejected++;
        return false;
    }
    t->stats.checkpoints_applied++;
    f->generation = cp.generation;
    if (size < cp.offset) {
        f->generation++;
        f->after_truncate = true;
        t->stats.truncations++;
        *start = 0;
    } else {
        *start = cp.offset;
    }
    return true;
}

static bool apply_copy_rule(lf_tail *t, tail_file *f, uint64_t size, uint64_t *start)
{
    int64_t now = tail_now_ms();
    uint64_t h;
    for (size_t i = 0; i < t->n_memo; i++) {
        tail_trunc_memo *m = &t->memo[i];
        if (now - m->at_ms > TAIL_MEMO_TTL_MS || m->fp_len < TAIL_COPY_MIN_FP || size < m->offset)
            continue;
        if (tail_file_hash_prefix(f->fd, m->fp_len, &h) && h == m->fp_hash) {
            *start = m->offset;
            memmove(m, m + 1, sizeof *m * (t->n_memo - i - 1));
            t->n_memo--;
            t->stats.copy_resumes++;
            return true;
        }
    }
    for (tail_file *o = t->files; o; o = o->next) {
        uint64_t read_off = o->consumed_off + (o->buf_len - o->buf_pos);
        if (o->fp_len < TAIL_COPY_MIN_FP || o->trunc_pending || size < read_off)
            continue;
        if (tail_file_hash_prefix(f->fd, o->fp_len, &h) && h == o->fp_hash) {
            *start = read_off;
            t->stats.copy_resumes++;
            return true;
        }
    }
    return false;
}

static lf_err add_file(lf_tail *t, const char *path, lf_error *err)
{
    tail_file *f;
    struct stat st;
    lf_err e = tail_file_open(t, path, &f, err);
    if (e != LF_OK)
        return e == LF_ERR_NOMEM ? e : LF_OK; /* vanished or not regular: skip */
    if (fstat(f->fd, &st) != 0) {
        tail_file_close(t, f);
        return LF_OK;
    }
    uint64_t size = (uint64_t)st.st_size, start;
    if (!apply_checkpoint(t, f, size, &start) &&
        !(t->first_scan_done && apply_copy_rule(t, f, size, &start)))
        start = (!t->first_scan_done && !t->read_from_head) ? size : 0;
    tail_file_seek(f, start);
    tail_file **tail_link = &t->files;
    while (*tail_link)
        tail_link = &(*tail_link)->next;
    *tail_link = f;
    return LF_OK;
}

lf_err tail_poll_scan(lf_tail *t, lf_error *err)
{
    for (size_t i = 0; i < t->n_globs; i++) {
        glob_t g;
        memset(&g, 0, sizeof g);
        int rc = glob(t->globs[i], 0, NULL, &g);
        if (rc == GLOB_NOSPACE) {
            globfree(&g);
            return lf_error_set(err, LF_ERR_NOMEM, "tail: glob: out of memory");
        }
        for (size_t k = 0; rc == 0 && k < g.gl_pathc; k++) {
            struct stat st;
            const char *path = g.gl_pathv[k];
            if (stat(path, &st) != 0 || !S_ISREG(st.st_mode))
                continue;
            tail_file *f = find_identity(t, (uint64_t)st.st_dev, (uint64_t)st.st_ino);
            if (!f && t->accept && !t->accept(t->accept_ctx, path))
                continue;
            if (f) {
                /* Renamed to another matching name: follow it there. */
                if (f->gone && strcmp(f->path, path) != 0) {
                    char *dup = strdup(path);
                    if (dup) {
                        free(f->path);
                        f->path = dup;
                        f->gone = false;
                    }
                }
                continue;
            }
            lf_err e = add_file(t, path, err);
            if (e != LF_OK) {
                globfree(&g);
                return e;
            }
        }
        globfree(&g);
    }
    t->first_scan_done = true;
    return LF_OK;
}

void tail_poll_check_all(lf_tail *t)
{
    for (tail_file *f = t->files; f; f = f->next)
        tail_file_check(t, f);
}

/*
 * tail_watch_poll.c — stat polling: rescans the globs to find new files and files renamed
 * to another matching name, and runs the per-file checks (rotation, deletion, truncation).
 * It always runs, every poll interval, whether inotify works or not.
 *
 * Where a newly seen file starts:
 *   1. a checkpoint for its (dev, inode) whose fingerprint matches its content: the committed
 *      offset (or 0 if the file is now shorter: it was truncated while we were down);
 *   2. otherwise, for a file that appeared while running, the copy rule (tail_copy.c): if it
 *      may be the copy made by copytruncate of a file we follow or truncated recently, it is
 *      parked until that is settled, then starts where the original's returned bytes end;
 *      otherwise it begins at 0 (all of it is new);
 *   3. a file present at start begins at 0 with read_from_head, else at its end.
 */
#define _GNU_SOURCE
#include <glob.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "tail_int.h"

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
    if (apply_checkpoint(t, f, size, &start))
        tail_file_seek(f, start);
    else if (t->first_scan_done)
        tail_copy_begin(t, f, tail_now_ms()); /* from 0, unless it may be a copy */
    else
        tail_file_seek(f, t->read_from_head ? 0 : size);
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

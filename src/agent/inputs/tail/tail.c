/*
 * tail.c — the tail input's handle and its pull loop.
 *
 * lf_tail_next runs passes until a record is ready or the timeout passes. A pass: (every poll
 * interval, and after an inotify event) check every open file for rotation/truncation and
 * rescan the globs; then give each file, round-robin, the chance to produce one record; then
 * close files that are gone, drained and past rotate_wait. Between passes it sleeps on the
 * inotify descriptor (or plain sleeps when polling only) until the next poll tick.
 *
 * Records hold no resource the caller must free; positions are plain values that
 * lf_tail_commit writes to the checkpoint DB in one transaction.
 */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>

#include "tail_int.h"

lf_err lf_tail_create(const lf_tail_options *opt, lf_tail **out, lf_error *err)
{
    if (!opt || !out || !opt->globs || opt->n_globs == 0)
        return lf_error_set(err, LF_ERR_INVALID, "tail: at least one glob is required");
    if (opt->max_line_bytes > (64u << 20) || opt->multiline_max_bytes > (256u << 20))
        return lf_error_set(err, LF_ERR_TOO_LARGE, "tail: line or group limit above maximum");
    lf_tail *t = calloc(1, sizeof *t);
    if (!t)
        return lf_error_set(err, LF_ERR_NOMEM, "tail: out of memory");
    t->inotify_fd = -1;
    t->read_from_head = opt->read_from_head;
    t->poll_ms = opt->poll_interval_ms ? opt->poll_interval_ms : 250;
    t->ml_flush_ms = opt->multiline_flush_ms ? opt->multiline_flush_ms : 1000;
    t->ml_max_lines = opt->multiline_max_lines ? opt->multiline_max_lines : 1000;
    t->ml_max_bytes = opt->multiline_max_bytes ? opt->multiline_max_bytes : (1u << 20);
    t->max_line = opt->max_line_bytes ? opt->max_line_bytes : 65536;
    t->rotate_wait_ms = opt->rotate_wait_ms ? opt->rotate_wait_ms : 5000;
    t->accept = opt->accept;
    t->accept_ctx = opt->accept_ctx;
    lf_err e = LF_OK;
    t->globs = calloc(opt->n_globs, sizeof *t->globs);
    if (!t->globs) {
        e = lf_error_set(err, LF_ERR_NOMEM, "tail: out of memory");
        goto fail;
    }
    t->n_globs = opt->n_globs;
    for (size_t i = 0; i < opt->n_globs; i++) {
        if (!opt->globs[i] || !opt->globs[i][0]) {
            e = lf_error_set(err, LF_ERR_INVALID, "tail: glob %zu is empty", i);
            goto fail;
        }
        if (!(t->globs[i] = strdup(opt->globs[i]))) {
            e = lf_error_set(err, LF_ERR_NOMEM, "tail: out of memory");
            goto fail;
        }
    }
    if (opt->multiline_first) {
        int rc = regcomp(&t->ml_re, opt->multiline_first, REG_EXTENDED | REG_NOSUB);
        if (rc != 0) {
            char msg[128];
            regerror(rc, &t->ml_re, msg, sizeof msg);
            e = lf_error_set(err, LF_ERR_INVALID, "tail: multiline regex: %s", msg);
            goto fail;
        }
        t->ml_on = true;
    }
    if (opt->checkpoint_db && (e = tail_ckpt_open(opt->checkpoint_db, &t->ckpt, err)) != LF_OK)
        goto fail;
    if (!opt->disable_inotify)
        tail_inotify_init(t);
    *out = t;
    return LF_OK;
fail:
    lf_tail_destroy(t);
    return e;
}

void lf_tail_destroy(lf_tail *t)
{
    if (!t)
        return;
    while (t->files) {
        tail_file *f = t->files;
        t->files = f->next;
        tail_file_close(t, f);
    }
    for (size_t i = 0; t->globs && i < t->n_globs; i++)
        free(t->globs[i]);
    free(t->globs);
    if (t->ml_on)
        regfree(&t->ml_re);
    tail_ckpt_close(t->ckpt);
    tail_inotify_close(t);
    tail_bytes_free(&t->out);
    tail_bytes_free(&t->scratch);
    free(t->out_path);
    free(t);
}

static void close_finished(lf_tail *t, int64_t now)
{
    tail_file **link = &t->files;
    while (*link) {
        tail_file *f = *link;
        if (tail_file_finished(t, f, now)) {
            *link = f->next;
            if (t->rr == f)
                t->rr = f->next;
            tail_file_close(t, f);
        } else {
            link = &f->next;
        }
    }
}

/* One round-robin pass: the first file that produces a record wins. */
static bool produce_pass(lf_tail *t, lf_tail_record *rec, int64_t now)
{
    tail_file *start = t->rr ? t->rr : t->files;
    tail_file *f = start;
    while (f) {
        if (tail_file_produce(t, f, rec, now)) {
            t->rr = f->next;
            return true;
        }
        f = f->next ? f->next : t->files;
        if (f == start)
            break;
    }
    return false;
}

lf_err lf_tail_next(lf_tail *t, lf_tail_record *rec, int timeout_ms, lf_error *err)
{
    if (!t || !rec)
        return lf_error_set(err, LF_ERR_INVALID, "tail: next: NULL argument");
    int64_t now = tail_now_ms();
    int64_t deadline = now + (timeout_ms > 0 ? timeout_ms : 0);
    bool woke = false;
    for (bool first = true;; first = false) {
        if (!first)
            now = tail_now_ms();
        if (!t->first_scan_done || woke || now >= t->next_scan_ms) {
            tail_poll_check_all(t);
            lf_err e = tail_poll_scan(t, err);
            if (e != LF_OK)
                return e;
            if (now >= t->next_scan_ms)
                t->next_scan_ms = now + t->poll_ms;
        }
        bool got = produce_pass(t, rec, now);
        close_finished(t, now);
        if (got)
            return LF_OK;
        now = tail_now_ms();
        if (now >= deadline)
            return LF_ERR_NOT_FOUND;
        int64_t wait = deadline - now;
        if (t->next_scan_ms - now < wait)
            wait = t->next_scan_ms - now;
        woke = tail_inotify_wait(t, (int)(wait > 0 ? wait : 0));
    }
}

lf_err lf_tail_commit(lf_tail *t, const lf_tail_position *pos, size_t n, lf_error *err)
{
    if (!t || (n > 0 && !pos))
        return lf_error_set(err, LF_ERR_INVALID, "tail: commit: NULL argument");
    if (!t->ckpt || n == 0)
        return LF_OK;
    return tail_ckpt_put(t->ckpt, pos, n, t, err);
}

lf_err lf_tail_restore(lf_tail *t, const lf_tail_position *pos, size_t n, size_t *applied,
                       lf_error *err)
{
    if (applied)
        *applied = 0;
    if (!t || (n > 0 && !pos))
        return lf_error_set(err, LF_ERR_INVALID, "tail: restore: NULL argument");
    /* Files already opened took their start from the DB; a later restore could not move
     * them without re-reading or skipping, so it is refused rather than half-applied. */
    if (t->first_scan_done)
        return lf_error_set(err, LF_ERR_INVALID, "tail: restore after the first read");
    if (!t->ckpt || n == 0)
        return LF_OK;
    return tail_ckpt_put_if_ahead(t->ckpt, pos, n, applied, err);
}

void lf_tail_get_stats(const lf_tail *t, lf_tail_stats *out)
{
    if (t && out)
        *out = t->stats;
}

/*
 * journald.c — the journald input object: opens the journal, positions the read pointer once
 * (checkpoint, restored cursor, head or tail), then turns one entry per next() into an event.
 *
 * Position rule, applied at the first next() (after restore() had its chance):
 *   - a cursor (the checkpoint file's, or restore()'s when that one is ahead): seek to it and
 *     step onto the entry; if sd_journal_test_cursor says it is the entry, it was delivered,
 *     so reading continues after it. If it is gone (vacuumed, rotated away, another journal),
 *     the cursor is counted as a reset, and reading continues at the entry sd-journal found
 *     next to it when that entry is provably later (same seqnum id, larger seqnum); otherwise
 *     at the head (at-least-once: a journal we cannot place the cursor in is read whole).
 *   - no cursor: the head if read_from_head, else the tail: the newest entry present is taken
 *     as delivered and its cursor is written as the checkpoint at once, so entries written
 *     while the agent is down before its first commit are not skipped by the next start.
 *
 * An entry that cannot be read (sd-journal error, no memory) is retried at the next call,
 * MAX_ENTRY_FAILURES times, then skipped and counted: one broken entry must not stop the input.
 *
 * Waiting: sd_journal_wait in slices of at most WAIT_SLICE_MS so a stop request is seen
 * promptly; it also picks up new and rotated files (and vacuumed ones going away).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "journald_int.h"

#define WAIT_SLICE_MS      200
#define MAX_ENTRY_FAILURES 3

typedef struct journald_input {
    lf_agent_input base;
    sd_journal *j;
    const atomic_bool *stop;
    char *dir;       /* <state_dir>/journald */
    char *ckpt_path; /* <dir>/<name>.cursor */
    bool read_from_head;
    size_t max_message;
    bool positioned;
    bool have_current; /* the read pointer is on an entry not yet returned */
    journald_ckpt_state ckpt_state;
    char start[JOURNALD_CURSOR_MAX];     /* cursor to resume after; "" = none */
    char last[JOURNALD_CURSOR_MAX];      /* cursor of the last entry consumed; "" = none */
    char committed[JOURNALD_CURSOR_MAX]; /* what the checkpoint file holds */
    journald_entry entry;
    unsigned entry_failures; /* consecutive failures to read the current entry */
    uint64_t n_read, n_skipped, n_resets;
} journald_input;

static const lf_agent_input_vtable JOURNALD_VT;

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static lf_err sd_fail(lf_error *err, const char *what, int r)
{
    return lf_error_set(err, LF_ERR_IO, "journald: %s: %s", what, strerror(-r));
}

static lf_err open_journal(journald_input *in, const lf_journald_config *cfg, lf_error *err)
{
    int r;
    if (cfg->files.n > 0) {
        const char **paths = calloc(cfg->files.n + 1, sizeof *paths);
        if (!paths)
            return lf_error_set(err, LF_ERR_NOMEM, "journald: out of memory");
        for (size_t i = 0; i < cfg->files.n; i++)
            paths[i] = cfg->files.items[i];
        r = sd_journal_open_files(&in->j, paths, 0);
        free(paths);
        if (r < 0)
            return sd_fail(err, "cannot open the journal files", r);
    } else if (cfg->path && cfg->path[0]) {
        if ((r = sd_journal_open_directory(&in->j, cfg->path, 0)) < 0)
            return lf_error_set(err, LF_ERR_IO, "journald: cannot open journal directory %s: %s",
                                cfg->path, strerror(-r));
    } else if ((r = sd_journal_open(&in->j, SD_JOURNAL_LOCAL_ONLY)) < 0) {
        return sd_fail(err, "cannot open the local journal", r);
    }
    /* Data beyond the limit is never needed: an entry that long is skipped, so sd-journal need
     * not decompress more of it than shows it is too long. */
    if ((r = sd_journal_set_data_threshold(in->j, in->max_message + sizeof "MESSAGE=")) < 0)
        return sd_fail(err, "data threshold", r);
    /* Sets up the inotify watches now, so changes made before the first wait are not missed. */
    if ((r = sd_journal_get_fd(in->j)) < 0)
        return sd_fail(err, "cannot watch the journal", r);
    return journald_apply_matches(in->j, cfg, err);
}

static lf_err make_paths(journald_input *in, const char *state_dir, const char *name, lf_error *err)
{
    if (asprintf(&in->dir, "%s/journald", state_dir) < 0) {
        in->dir = NULL;
        return lf_error_set(err, LF_ERR_NOMEM, "journald: out of memory");
    }
    if (asprintf(&in->ckpt_path, "%s/%s.cursor", in->dir, name) < 0) {
        in->ckpt_path = NULL;
        return lf_error_set(err, LF_ERR_NOMEM, "journald: out of memory");
    }
    if (mkdir(in->dir, 0700) != 0 && errno != EEXIST)
        return lf_error_set(err, LF_ERR_IO, "journald: %s: %s", in->dir, strerror(errno));
    return LF_OK;
}

static void journald_destroy(lf_agent_input *base)
{
    journald_input *in = (journald_input *)base;
    if (!in)
        return;
    if (in->j)
        sd_journal_close(in->j);
    free(in->dir);
    free(in->ckpt_path);
    free(in);
}

lf_err journald_create(const lf_agent_input_common *common, const void *config,
                       lf_agent_input **out, lf_error *err)
{
    const lf_journald_config *cfg = config;
    if (!common || !common->name || !common->state_dir || !cfg || !out)
        return lf_error_set(err, LF_ERR_INVALID, "journald: create: NULL argument");
    /* The name becomes a file name: the agent checks it too, but a '/' here would escape. */
    if (strlen(common->name) >= sizeof((lf_agent_input *)0)->name || !common->name[0] ||
        strchr(common->name, '/'))
        return lf_error_set(err, LF_ERR_INVALID, "journald: bad input name");
    if (cfg->max_entry_bytes == 0 || cfg->max_entry_bytes > LF_PAYLOAD_MAX_MESSAGE)
        return lf_error_set(err, LF_ERR_INVALID, "journald: max_entry_bytes out of range");
    lf_err e = lf_agent_input_type_journald.validate(cfg, err);
    if (e != LF_OK)
        return e;
    journald_input *in = calloc(1, sizeof *in);
    if (!in)
        return lf_error_set(err, LF_ERR_NOMEM, "journald: out of memory");
    in->base.vt = &JOURNALD_VT;
    snprintf(in->base.name, sizeof in->base.name, "%s", common->name);
    atomic_init(&in->base.finished, false);
    in->stop = common->stop;
    in->read_from_head = cfg->read_from_head;
    in->max_message = (size_t)cfg->max_entry_bytes;
    if ((e = make_paths(in, common->state_dir, common->name, err)) != LF_OK ||
        (e = journald_ckpt_load(in->ckpt_path, in->start, &in->ckpt_state, err)) != LF_OK ||
        (e = open_journal(in, cfg, err)) != LF_OK) {
        journald_destroy(&in->base);
        return e;
    }
    if (in->ckpt_state == JOURNALD_CKPT_OK)
        memcpy(in->committed, in->start, sizeof in->committed);
    *out = &in->base;
    return LF_OK;
}

/* Copy the current entry's cursor into dst (JOURNALD_CURSOR_MAX bytes). */
static lf_err current_cursor(journald_input *in, char *dst, lf_error *err)
{
    char *c = NULL;
    int r = sd_journal_get_cursor(in->j, &c);
    if (r < 0)
        return sd_fail(err, "get cursor", r);
    size_t n = strlen(c);
    if (!journald_cursor_text_ok(c, n)) {
        free(c);
        return lf_error_set(err, LF_ERR_UNSUPPORTED, "journald: unusable cursor from sd-journal");
    }
    memcpy(dst, c, n + 1);
    free(c);
    return LF_OK;
}

/* The cursor in->start was not found; the read pointer is on the entry after its place, if
 * any (r > 0). Continue there when that entry is provably later, else from the head. */
static lf_err resume_after_lost_cursor(journald_input *in, int r, lf_error *err)
{
    in->n_resets++;
    journald_cursor_pos want, got;
    char here[JOURNALD_CURSOR_MAX];
    if (r > 0 && journald_cursor_parse(in->start, strlen(in->start), &want) &&
        current_cursor(in, here, NULL) == LF_OK &&
        journald_cursor_parse(here, strlen(here), &got) &&
        strcmp(want.seqnum_id, got.seqnum_id) == 0 && got.seqnum > want.seqnum) {
        in->have_current = true;
        return LF_OK;
    }
    int s = sd_journal_seek_head(in->j);
    return s < 0 ? sd_fail(err, "seek head", s) : LF_OK;
}

static lf_err position_at_cursor(journald_input *in, lf_error *err)
{
    int r = sd_journal_seek_cursor(in->j, in->start);
    if (r < 0) /* sd-journal cannot parse it: same as a cursor that names nothing */
        return resume_after_lost_cursor(in, 0, err);
    if ((r = sd_journal_next(in->j)) < 0)
        return sd_fail(err, "next", r);
    if (r > 0 && sd_journal_test_cursor(in->j, in->start) > 0) {
        memcpy(in->last, in->start, sizeof in->last); /* on it; next() steps past it */
        return LF_OK;
    }
    return resume_after_lost_cursor(in, r, err);
}

static lf_err position_at_tail(journald_input *in, lf_error *err)
{
    int r = sd_journal_seek_tail(in->j);
    if (r < 0)
        return sd_fail(err, "seek tail", r);
    if ((r = sd_journal_previous(in->j)) < 0)
        return sd_fail(err, "previous", r);
    if (r == 0) { /* empty journal: everything that comes is new */
        r = sd_journal_seek_head(in->j);
        return r < 0 ? sd_fail(err, "seek head", r) : LF_OK;
    }
    lf_err e = current_cursor(in, in->last, err);
    if (e != LF_OK)
        return e;
    if ((e = journald_ckpt_store(in->dir, in->ckpt_path, in->last, err)) != LF_OK)
        return e;
    memcpy(in->committed, in->last, sizeof in->committed);
    return LF_OK;
}

static lf_err position(journald_input *in, lf_error *err)
{
    lf_err e;
    if (in->start[0]) {
        e = position_at_cursor(in, err);
    } else if (in->ckpt_state == JOURNALD_CKPT_INVALID) {
        in->n_resets++;
        int r = sd_journal_seek_head(in->j);
        e = r < 0 ? sd_fail(err, "seek head", r) : LF_OK;
    } else if (in->read_from_head) {
        int r = sd_journal_seek_head(in->j);
        e = r < 0 ? sd_fail(err, "seek head", r) : LF_OK;
    } else {
        e = position_at_tail(in, err);
    }
    if (e == LF_OK)
        in->positioned = true;
    return e;
}

/* Turn the current entry into ev. *skipped: it was consumed but is not to be returned. */
static lf_err read_entry(journald_input *in, lf_agent_event *ev, bool *skipped, lf_error *err)
{
    const void *data;
    size_t len;
    int r;
    journald_entry_begin(&in->entry, in->max_message);
    sd_journal_restart_data(in->j);
    /* _available_: a field sd-journal cannot decode (unknown compression) is left out rather
     * than stalling the input on that entry forever. */
    while ((r = sd_journal_enumerate_available_data(in->j, &data, &len)) > 0) {
        lf_err e = journald_entry_field(&in->entry, ev, data, len, err);
        if (e != LF_OK)
            return e;
    }
    if (r < 0)
        return sd_fail(err, "read entry", r);
    uint64_t realtime_us = 0;
    if (sd_journal_get_realtime_usec(in->j, &realtime_us) < 0)
        realtime_us = 0;
    journald_entry_finish(&in->entry, ev, realtime_us);
    lf_err e = current_cursor(in, in->last, err);
    if (e != LF_OK)
        return e;
    *skipped = in->entry.too_large;
    return LF_OK;
}

static lf_err journald_next(lf_agent_input *base, lf_agent_event *ev, int timeout_ms, lf_error *err)
{
    journald_input *in = (journald_input *)base;
    lf_err e;
    if (!in->positioned && (e = position(in, err)) != LF_OK)
        return e;
    int64_t deadline = now_ms() + (timeout_ms > 0 ? timeout_ms : 0);
    for (;;) {
        if (in->stop && atomic_load(in->stop))
            return LF_ERR_NOT_FOUND;
        int r = 1;
        if (in->have_current)
            in->have_current = false;
        else if ((r = sd_journal_next(in->j)) < 0)
            return sd_fail(err, "next", r);
        if (r > 0) {
            bool skipped = false;
            if ((e = read_entry(in, ev, &skipped, err)) != LF_OK) {
                /* Try the same entry again at the next call (memory may come back); an entry
                 * that keeps failing is skipped rather than stalling the input forever. */
                lf_agent_event_reset(ev);
                if (++in->entry_failures <= MAX_ENTRY_FAILURES) {
                    in->have_current = true;
                    return e;
                }
                skipped = true;
            }
            in->entry_failures = 0;
            if (!skipped) {
                in->n_read++;
                return LF_OK;
            }
            in->n_skipped++;
            lf_agent_event_reset(ev);
            if (now_ms() >= deadline)
                return LF_ERR_NOT_FOUND;
            continue;
        }
        int64_t left = deadline - now_ms();
        if (left <= 0)
            return LF_ERR_NOT_FOUND;
        if (left > WAIT_SLICE_MS)
            left = WAIT_SLICE_MS;
        if ((r = sd_journal_wait(in->j, (uint64_t)left * 1000)) < 0)
            return sd_fail(err, "wait", r);
    }
}

static lf_err journald_cursor(lf_agent_input *base, lf_buf *out, lf_error *err)
{
    journald_input *in = (journald_input *)base;
    if (!in->last[0])
        return LF_OK;
    if (lf_buf_append(out, in->last, strlen(in->last)) != LF_OK)
        return lf_error_set(err, LF_ERR_NOMEM, "journald: out of memory");
    return LF_OK;
}

static lf_err journald_commit(lf_agent_input *base, lf_error *err)
{
    journald_input *in = (journald_input *)base;
    if (!in->last[0] || strcmp(in->last, in->committed) == 0)
        return LF_OK;
    lf_err e = journald_ckpt_store(in->dir, in->ckpt_path, in->last, err);
    if (e == LF_OK)
        memcpy(in->committed, in->last, sizeof in->committed);
    return e;
}

static lf_err journald_restore(lf_agent_input *base, const uint8_t *cursor, size_t len,
                               lf_error *err)
{
    journald_input *in = (journald_input *)base;
    if (in->positioned)
        return lf_error_set(err, LF_ERR_INVALID, "journald: restore after the first next()");
    if (len == 0)
        return LF_OK; /* no cursor stored: nothing to restore */
    journald_cursor_pos theirs, ours;
    if (!cursor || !journald_cursor_parse((const char *)cursor, len, &theirs))
        return lf_error_set(err, LF_ERR_INVALID, "journald: restore: not a journal cursor");
    if (in->start[0] && journald_cursor_parse(in->start, strlen(in->start), &ours) &&
        journald_cursor_compare(&theirs, &ours) <= 0)
        return LF_OK; /* the checkpoint is as far or further */
    memcpy(in->start, cursor, len);
    in->start[len] = '\0';
    return LF_OK;
}

static void journald_write_metrics(lf_agent_input *base, lf_buf *out)
{
    journald_input *in = (journald_input *)base;
    lf_agent_input_metric(out, "logflux_agent_journald_entries_read_total", in->base.name,
                          in->n_read);
    lf_agent_input_metric(out, "logflux_agent_journald_entries_skipped_total", in->base.name,
                          in->n_skipped);
    lf_agent_input_metric(out, "logflux_agent_journald_cursor_resets_total", in->base.name,
                          in->n_resets);
}

static const lf_agent_input_vtable JOURNALD_VT = {
    .next = journald_next,
    .cursor = journald_cursor,
    .commit = journald_commit,
    .restore = journald_restore,
    .write_metrics = journald_write_metrics,
    .destroy = journald_destroy,
};

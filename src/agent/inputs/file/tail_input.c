/*
 * tail_input.c — the "tail" input: every line (or multiline group) of the files matched by
 * `paths` becomes one event, its message the line's bytes, its source the file's path. The
 * pipeline then applies the configured parser. Positions go through file_common.c.
 */
#define _GNU_SOURCE
#include <stddef.h>
#include <regex.h>
#include <stdlib.h>
#include <string.h>

#include "file_common.h"
#include "file_input.h"
#include "logflux/payload.h"

#define CFG(f) offsetof(lf_tail_input_config, f)

static const lf_option tail_options[] = {
    {"paths", LF_OPT_STRLIST, NULL, 0, 0, NULL, CFG(paths),
     "Glob patterns of the files to follow (required). Include rotated names (app.log*) so "
     "lines written just before a rotation are never missed."},
    {"exclude", LF_OPT_STRLIST, NULL, 0, 0, NULL, CFG(exclude),
     "Glob patterns of paths never opened, e.g. *.gz."},
    {"read_from_head", LF_OPT_BOOL, "false", 0, 0, NULL, CFG(read_from_head),
     "Files present at start without a checkpoint are read from their beginning (else from "
     "their end). Files that appear later are always read from the beginning."},
    {"poll_interval", LF_OPT_DURATION, "250ms", 10, 60000, NULL, CFG(poll_interval_ms),
     "How often globs are rescanned and files checked for rotation and truncation."},
    {"inotify", LF_OPT_BOOL, "true", 0, 0, NULL, CFG(inotify),
     "Wake up on inotify events instead of waiting for the next poll."},
    {"multiline.first_line", LF_OPT_STRING, "", 0, 0, NULL, CFG(multiline_first_line),
     "POSIX extended regex matching the first line of a record; other lines join the record "
     "before them. Empty = one record per line."},
    {"multiline.max_lines", LF_OPT_INT, "1000", 1, 100000, NULL, CFG(multiline_max_lines),
     "A multiline record is cut after this many lines."},
    {"multiline.max_bytes", LF_OPT_SIZE, "1MiB", 1024, LF_PAYLOAD_MAX_MESSAGE, NULL,
     CFG(multiline_max_bytes), "A multiline record is cut at this size."},
    {"multiline.flush_timeout", LF_OPT_DURATION, "1s", 10, 3600000, NULL, CFG(multiline_flush_ms),
     "A pending multiline record is emitted after this idle time."},
    {"max_line_bytes", LF_OPT_SIZE, "64KiB", 256, LF_PAYLOAD_MAX_MESSAGE, NULL, CFG(max_line_bytes),
     "Longer lines are emitted in pieces of this size (nothing dropped)."},
    {"rotate_wait", LF_OPT_DURATION, "5s", 1, 3600000, NULL, CFG(rotate_wait_ms),
     "A rotated or deleted file is kept open this long after its last line, for late writes."},
};

typedef struct tail_input {
    lf_file_input fi; /* first: the shared vtable functions cast to it */
    lf_strlist exclude;
} tail_input;

static bool accept_path(void *ctx, const char *path)
{
    tail_input *ti = ctx;
    return !lf_file_input_match_any(&ti->exclude, path);
}

static lf_err tail_next(lf_agent_input *in, lf_agent_event *ev, int timeout_ms, lf_error *err)
{
    tail_input *ti = (tail_input *)in;
    lf_tail_record rec;
    lf_err e = lf_tail_next(ti->fi.tail, &rec, timeout_ms, err);
    if (e != LF_OK)
        return e;
    ev->message = (const char *)rec.data;
    ev->message_len = rec.len;
    ev->ts_ns = rec.read_time_ns; /* a parser that finds the record's own time replaces it */
    lf_agent_event_set_source(ev, rec.path, strlen(rec.path));
    e = lf_tail_pending_note(&ti->fi.pending, &rec.position, err);
    if (e == LF_OK)
        ti->fi.records++;
    return e;
}

static void tail_destroy(lf_agent_input *in)
{
    tail_input *ti = (tail_input *)in;
    if (!ti)
        return;
    lf_file_input_fini(&ti->fi);
    lf_strlist_free(&ti->exclude);
    free(ti);
}

static const lf_agent_input_vtable tail_vt = {
    .next = tail_next,
    .cursor = lf_file_input_cursor,
    .commit = lf_file_input_commit,
    .restore = lf_file_input_restore,
    .write_metrics = lf_file_input_write_metrics,
    .destroy = tail_destroy,
};

static lf_err copy_strlist(const lf_strlist *src, lf_strlist *dst, lf_error *err)
{
    memset(dst, 0, sizeof *dst);
    if (src->n == 0)
        return LF_OK;
    dst->items = calloc(src->n, sizeof *dst->items);
    if (!dst->items)
        return lf_error_set(err, LF_ERR_NOMEM, "tail input: out of memory");
    for (; dst->n < src->n; dst->n++)
        if (!(dst->items[dst->n] = strdup(src->items[dst->n])))
            return lf_error_set(err, LF_ERR_NOMEM, "tail input: out of memory");
    return LF_OK;
}

static lf_err tail_validate(const void *config, lf_error *err)
{
    const lf_tail_input_config *c = config;
    if (c->paths.n == 0)
        return lf_error_set(err, LF_ERR_INVALID, "tail: `paths` needs at least one glob");
    for (size_t i = 0; i < c->paths.n; i++)
        if (!c->paths.items[i] || c->paths.items[i][0] != '/')
            return lf_error_set(err, LF_ERR_INVALID, "tail: paths[%zu] must be an absolute path",
                                i);
    if (c->multiline_first_line && c->multiline_first_line[0]) {
        /* Compiled here too, so --check-config refuses a bad pattern instead of the start. */
        regex_t re;
        int rc = regcomp(&re, c->multiline_first_line, REG_EXTENDED | REG_NOSUB);
        if (rc != 0) {
            char why[128];
            regerror(rc, &re, why, sizeof why);
            return lf_error_set(err, LF_ERR_INVALID,
                                "tail: multiline.first_line is not a POSIX extended regex: %s",
                                why);
        }
        regfree(&re);
    }
    return LF_OK;
}

static lf_err tail_create(const lf_agent_input_common *common, const void *config,
                          lf_agent_input **out, lf_error *err)
{
    const lf_tail_input_config *c = config;
    lf_err e = tail_validate(c, err);
    if (e != LF_OK)
        return e;
    tail_input *ti = calloc(1, sizeof *ti);
    if (!ti)
        return lf_error_set(err, LF_ERR_NOMEM, "tail input: out of memory");
    lf_file_input_init(&ti->fi, &tail_vt, common->name);
    char *db = NULL;
    if ((e = copy_strlist(&c->exclude, &ti->exclude, err)) != LF_OK ||
        (e = lf_file_input_db_path(common, "tail", &db, err)) != LF_OK)
        goto fail;
    lf_tail_options o = {
        .globs = lf_file_input_globs(&c->paths),
        .n_globs = c->paths.n,
        .read_from_head = c->read_from_head,
        .poll_interval_ms = (unsigned)c->poll_interval_ms,
        .disable_inotify = !c->inotify,
        .multiline_first =
            c->multiline_first_line && c->multiline_first_line[0] ? c->multiline_first_line : NULL,
        .multiline_max_lines = (unsigned)c->multiline_max_lines,
        .multiline_max_bytes = (size_t)c->multiline_max_bytes,
        .multiline_flush_ms = (unsigned)c->multiline_flush_ms,
        .max_line_bytes = (size_t)c->max_line_bytes,
        .rotate_wait_ms = (unsigned)c->rotate_wait_ms,
        .checkpoint_db = db,
        .accept = ti->exclude.n ? accept_path : NULL,
        .accept_ctx = ti,
    };
    e = lf_tail_create(&o, &ti->fi.tail, err);
    free(db);
    db = NULL;
    if (e != LF_OK)
        goto fail;
    *out = &ti->fi.base;
    return LF_OK;
fail:
    free(db);
    tail_destroy(&ti->fi.base);
    return e;
}

const lf_agent_input_type lf_agent_input_type_tail = {
    .type = "tail",
    .summary = "Follows files matched by glob patterns: one event per line (or multiline "
               "group), across rename and copytruncate rotation, with checkpoints advanced only "
               "once events are durable in the disk buffer.",
    .options = tail_options,
    .n_options = sizeof tail_options / sizeof tail_options[0],
    .config_size = sizeof(lf_tail_input_config),
    .validate = tail_validate,
    .create = tail_create,
};

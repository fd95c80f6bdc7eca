/*
 * nginx_input.c — the "nginx" input: follows nginx's access and error logs with one tail
 * engine and parses each line itself (nginx_access: combined or JSON, detected per line;
 * nginx_error), so events arrive with time, level, message and the request's fields as labels.
 * A line that does not parse is kept whole as the message. Label nginx_log = access | error
 * says which log a line came from (by the path's match against access_paths).
 */
#define _GNU_SOURCE
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "file_common.h"
#include "file_input.h"
#include "parser.h"

#define CFG(f) offsetof(lf_nginx_input_config, f)

static const lf_option nginx_options[] = {
    {"access_paths", LF_OPT_STRLIST, "/var/log/nginx/access.log", 0, 0, NULL, CFG(access_paths),
     "Glob patterns of access logs."},
    {"error_paths", LF_OPT_STRLIST, "/var/log/nginx/error.log", 0, 0, NULL, CFG(error_paths),
     "Glob patterns of error logs."},
    {"access_format", LF_OPT_ENUM, "combined", 0, 0, "combined|json", CFG(access_format),
     "The access log's format: nginx's combined format, or one JSON object per line "
     "(escape=json). Lines of the other format are recognised too."},
    {"read_from_head", LF_OPT_BOOL, "false", 0, 0, NULL, CFG(read_from_head),
     "Files present at start without a checkpoint are read from their beginning."},
    {"poll_interval", LF_OPT_DURATION, "250ms", 10, 60000, NULL, CFG(poll_interval_ms),
     "How often globs are rescanned and files checked for rotation."},
    {"inotify", LF_OPT_BOOL, "true", 0, 0, NULL, CFG(inotify),
     "Wake up on inotify events instead of waiting for the next poll."},
    {"rotate_wait", LF_OPT_DURATION, "5s", 1, 3600000, NULL, CFG(rotate_wait_ms),
     "A rotated log is kept open this long after its last line (nginx reopens on USR1)."},
};

typedef struct nginx_input {
    lf_file_input fi;
    lf_strlist access;
    lf_parser *access_parser, *error_parser;
    uint64_t unparsed;
} nginx_input;

static int64_t realtime_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static lf_err nginx_next(lf_agent_input *in, lf_agent_event *ev, int timeout_ms, lf_error *err)
{
    nginx_input *ni = (nginx_input *)in;
    lf_tail_record rec;
    lf_err e = lf_tail_next(ni->fi.tail, &rec, timeout_ms, err);
    if (e != LF_OK)
        return e;
    bool access = lf_file_input_match_any(&ni->access, rec.path);
    lf_agent_event_set_source(ev, rec.path, strlen(rec.path));
    lf_agent_event_set_label(ev, "nginx_log", 9, access ? "access" : "error", access ? 6 : 5);
    e = lf_parser_apply(access ? ni->access_parser : ni->error_parser, (const char *)rec.data,
                        rec.len, realtime_ns(), ev, NULL);
    if (e == LF_ERR_NOMEM)
        return lf_error_set(err, e, "nginx input: out of memory");
    if (e != LF_OK) {
        /* Not in nginx's format (a custom log_format, a split line): keep the line whole. */
        ni->unparsed++;
        ev->message = (const char *)rec.data;
        ev->message_len = rec.len;
    }
    e = lf_tail_pending_note(&ni->fi.pending, &rec.position, err);
    if (e == LF_OK)
        ni->fi.records++;
    return e;
}

static void nginx_metrics(lf_agent_input *in, lf_buf *out)
{
    nginx_input *ni = (nginx_input *)in;
    lf_file_input_write_metrics(in, out);
    lf_agent_input_metric(out, "logflux_agent_nginx_unparsed_lines_total", in->name, ni->unparsed);
}

static void nginx_destroy(lf_agent_input *in)
{
    nginx_input *ni = (nginx_input *)in;
    if (!ni)
        return;
    lf_file_input_fini(&ni->fi);
    for (size_t i = 0; i < ni->access.n; i++)
        free(ni->access.items[i]);
    free(ni->access.items);
    lf_parser_free(ni->access_parser);
    lf_parser_free(ni->error_parser);
    free(ni);
}

static const lf_agent_input_vtable nginx_vt = {
    .next = nginx_next,
    .cursor = lf_file_input_cursor,
    .commit = lf_file_input_commit,
    .restore = lf_file_input_restore,
    .write_metrics = nginx_metrics,
    .destroy = nginx_destroy,
};

static lf_err nginx_validate(const void *config, lf_error *err)
{
    const lf_nginx_input_config *c = config;
    if (c->access_paths.n + c->error_paths.n == 0)
        return lf_error_set(err, LF_ERR_INVALID,
                            "nginx: `access_paths` and `error_paths` are both empty");
    const lf_strlist *lists[2] = {&c->access_paths, &c->error_paths};
    for (size_t l = 0; l < 2; l++)
        for (size_t i = 0; i < lists[l]->n; i++)
            if (!lists[l]->items[i] || lists[l]->items[i][0] != '/')
                return lf_error_set(err, LF_ERR_INVALID, "nginx: %s[%zu] must be absolute",
                                    l == 0 ? "access_paths" : "error_paths", i);
    return LF_OK;
}

static lf_err nginx_create(const lf_agent_input_common *common, const void *config,
                           lf_agent_input **out, lf_error *err)
{
    const lf_nginx_input_config *c = config;
    lf_err e = nginx_validate(c, err);
    if (e != LF_OK)
        return e;
    nginx_input *ni = calloc(1, sizeof *ni);
    const char **globs = calloc(c->access_paths.n + c->error_paths.n, sizeof *globs);
    char *db = NULL;
    if (!ni || !globs) {
        free(ni);
        free(globs);
        return lf_error_set(err, LF_ERR_NOMEM, "nginx input: out of memory");
    }
    lf_file_input_init(&ni->fi, &nginx_vt, common->name);
    size_t n = 0;
    for (size_t i = 0; i < c->access_paths.n; i++)
        globs[n++] = c->access_paths.items[i];
    for (size_t i = 0; i < c->error_paths.n; i++)
        globs[n++] = c->error_paths.items[i];
    ni->access.items = calloc(c->access_paths.n ? c->access_paths.n : 1, sizeof(char *));
    if (!ni->access.items) {
        e = lf_error_set(err, LF_ERR_NOMEM, "nginx input: out of memory");
        goto fail;
    }
    for (; ni->access.n < c->access_paths.n; ni->access.n++)
        if (!(ni->access.items[ni->access.n] = strdup(c->access_paths.items[ni->access.n]))) {
            e = lf_error_set(err, LF_ERR_NOMEM, "nginx input: out of memory");
            goto fail;
        }
    lf_parser_config pa = {.name = "nginx_access", .kind = LF_PARSER_NGINX_ACCESS};
    lf_parser_config pe = {.name = "nginx_error", .kind = LF_PARSER_NGINX_ERROR};
    if ((e = lf_parser_new(&pa, &ni->access_parser, err)) != LF_OK ||
        (e = lf_parser_new(&pe, &ni->error_parser, err)) != LF_OK ||
        (e = lf_file_input_db_path(common, "nginx", &db, err)) != LF_OK)
        goto fail;
    lf_tail_options o = {
        .globs = globs,
        .n_globs = n,
        .read_from_head = c->read_from_head,
        .poll_interval_ms = (unsigned)c->poll_interval_ms,
        .disable_inotify = !c->inotify,
        .rotate_wait_ms = (unsigned)c->rotate_wait_ms,
        .checkpoint_db = db,
    };
    if ((e = lf_tail_create(&o, &ni->fi.tail, err)) != LF_OK)
        goto fail;
    free(db);
    free(globs);
    *out = &ni->fi.base;
    return LF_OK;
fail:
    free(db);
    free(globs);
    nginx_destroy(&ni->fi.base);
    return e;
}

const lf_agent_input_type lf_agent_input_type_nginx = {
    .type = "nginx",
    .summary = "Follows nginx's access and error logs and parses each line (access: combined "
               "or JSON; error log format) into time, level, message and request fields.",
    .options = nginx_options,
    .n_options = sizeof nginx_options / sizeof nginx_options[0],
    .config_size = sizeof(lf_nginx_input_config),
    .validate = nginx_validate,
    .create = nginx_create,
};

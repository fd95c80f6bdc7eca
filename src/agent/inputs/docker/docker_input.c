/*
 * docker_input.c — the "docker" input (docker_input.h): one tail engine over
 * <data_root>/containers/ * /<id>-json.log (so containers that start later are picked up by
 * the next scan), lines parsed and joined by container_reader.c, labels from docker_meta.c.
 *
 * Filtering by container name happens before a log file is opened (the tail's accept hook):
 * excluded containers cost one cached lookup per scan, never a read.
 */
#define _GNU_SOURCE
#include <fnmatch.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "container_reader.h"
#include "docker_input.h"
#include "docker_meta.h"
#include "logflux/payload.h"

#define CFG(f) offsetof(lf_docker_input_config, f)

static const lf_option docker_options[] = {
    {"data_root", LF_OPT_STRING, "/var/lib/docker", 0, 0, NULL, CFG(data_root),
     "Docker's data root (dockerd --data-root); logs are read from "
     "<data_root>/containers/<id>/<id>-json.log (the json-file log driver)."},
    {"containers.include", LF_OPT_STRLIST, NULL, 0, 0, NULL, CFG(include),
     "Glob patterns of container names to read; empty = every container."},
    {"containers.exclude", LF_OPT_STRLIST, NULL, 0, 0, NULL, CFG(exclude),
     "Glob patterns of container names never read (applied after include)."},
    {"container_labels", LF_OPT_STRLIST, "com.docker.compose.project\ncom.docker.compose.service",
     0, 0, NULL, CFG(container_labels),
     "Glob patterns of the containers' own labels (Config.Labels) copied to each event as "
     "label.<key>. [\"*\"] takes all of them (up to container_labels_max)."},
    {"container_labels_max", LF_OPT_INT, "6", 0, LF_DOCKER_MAX_CONTAINER_LABELS, NULL,
     CFG(container_labels_max),
     "At most this many container labels per event (the first in key order)."},
    {"read_from_head", LF_OPT_BOOL, "false", 0, 0, NULL, CFG(read_from_head),
     "Logs present at start without a checkpoint are read from their beginning (else from "
     "their end). Containers that start later are always read from the beginning."},
    {"max_partial_bytes", LF_OPT_SIZE, "256KiB", 16384, LF_PAYLOAD_MAX_MESSAGE, NULL,
     CFG(max_partial_bytes),
     "A line Docker split into 16 KiB pieces is joined up to this size; longer ones are "
     "emitted in pieces of this size labelled split=max_bytes."},
    {"partial_flush_timeout", LF_OPT_DURATION, "5s", 10, 3600000, NULL, CFG(partial_flush_ms),
     "A joined line whose last piece does not come within this time is emitted as it is, "
     "labelled split=timeout."},
    {"max_line_bytes", LF_OPT_SIZE, "1MiB", 65536, LF_PAYLOAD_MAX_MESSAGE, NULL,
     CFG(max_line_bytes), "Longest JSON line read whole; a longer one cannot be parsed."},
    {"poll_interval", LF_OPT_DURATION, "250ms", 10, 60000, NULL, CFG(poll_interval_ms),
     "How often new containers are looked for and files checked for rotation."},
    {"inotify", LF_OPT_BOOL, "true", 0, 0, NULL, CFG(inotify),
     "Wake up on inotify events instead of waiting for the next poll."},
    {"rotate_wait", LF_OPT_DURATION, "5s", 1, 3600000, NULL, CFG(rotate_wait_ms),
     "A rotated log file is kept open this long after its last line."},
};

typedef struct docker_input {
    lf_file_input fi;
    lf_container_reader reader;
    char *data_root;
    lf_strlist include, exclude, label_patterns;
    docker_meta_cache meta;
    uint64_t filtered;
} docker_input;

static bool name_selected(const docker_input *di, const char *name)
{
    bool in = di->include.n == 0;
    for (size_t i = 0; !in && i < di->include.n; i++)
        in = fnmatch(di->include.items[i], name, 0) == 0;
    for (size_t i = 0; in && i < di->exclude.n; i++)
        in = fnmatch(di->exclude.items[i], name, 0) != 0;
    return in;
}

static bool accept_path(void *ctx, const char *path)
{
    docker_input *di = ctx;
    char id[DOCKER_ID_MAX + 1];
    if (!docker_id_of_path(path, id))
        return false;
    if (di->include.n == 0 && di->exclude.n == 0)
        return true;
    /* Filtering needs the name: wait (skip this scan) until config.v2.json is readable. */
    docker_meta *m = docker_meta_get(&di->meta, id);
    if (!m || !m->loaded)
        return false;
    if (!name_selected(di, m->name)) {
        di->filtered++;
        return false;
    }
    return true;
}

static void add_labels(docker_input *di, const char *path, lf_agent_event *ev)
{
    char id[DOCKER_ID_MAX + 1];
    if (!docker_id_of_path(path, id))
        return;
    size_t idn = strlen(id) < 12 ? strlen(id) : 12;
    lf_agent_event_set_label(ev, "container_id", 12, id, idn);
    docker_meta *m = docker_meta_get(&di->meta, id);
    if (!m || !m->loaded) {
        lf_agent_event_set_source(ev, id, idn);
        return;
    }
    lf_agent_event_set_label(ev, "container_name", 14, m->name, strlen(m->name));
    if (m->image[0])
        lf_agent_event_set_label(ev, "image", 5, m->image, strlen(m->image));
    for (size_t i = 0; i < m->n_labels; i++)
        lf_agent_event_set_label(ev, m->labels[i].key, strlen(m->labels[i].key), m->labels[i].value,
                                 strlen(m->labels[i].value));
    lf_agent_event_set_source(ev, m->name[0] ? m->name : id, m->name[0] ? strlen(m->name) : idn);
}

static lf_err docker_next(lf_agent_input *in, lf_agent_event *ev, int timeout_ms, lf_error *err)
{
    docker_input *di = (docker_input *)in;
    const char *path;
    lf_err e = lf_container_next(&di->reader, ev, timeout_ms, &path, err);
    if (e == LF_OK)
        add_labels(di, path, ev);
    return e;
}

static void docker_metrics(lf_agent_input *in, lf_buf *out)
{
    docker_input *di = (docker_input *)in;
    lf_file_input_write_metrics(in, out);
    lf_container_reader_metrics(&di->reader, in->name, out);
    lf_agent_input_metric(out, "logflux_agent_docker_config_read_errors_total", in->name,
                          di->meta.read_errors);
    lf_agent_input_metric(out, "logflux_agent_docker_containers_filtered_total", in->name,
                          di->filtered);
}

static void docker_destroy(lf_agent_input *in)
{
    docker_input *di = (docker_input *)in;
    if (!di)
        return;
    lf_container_reader_fini(&di->reader);
    lf_file_input_fini(&di->fi);
    docker_meta_cache_free(&di->meta);
    lf_strlist_free(&di->include);
    lf_strlist_free(&di->exclude);
    lf_strlist_free(&di->label_patterns);
    free(di->data_root);
    free(di);
}

static const lf_agent_input_vtable docker_vt = {
    .next = docker_next,
    .cursor = lf_file_input_cursor,
    .commit = lf_file_input_commit,
    .restore = lf_file_input_restore,
    .write_metrics = docker_metrics,
    .destroy = docker_destroy,
};

static lf_err docker_validate(const void *config, lf_error *err)
{
    const lf_docker_input_config *c = config;
    if (!c->data_root || c->data_root[0] != '/')
        return lf_error_set(err, LF_ERR_INVALID, "docker: data_root must be an absolute path");
    /* glob(3) would read these as pattern characters in the directory part. */
    if (strpbrk(c->data_root, "*?[\\"))
        return lf_error_set(err, LF_ERR_INVALID,
                            "docker: data_root must not contain glob characters");
    return LF_OK;
}

static lf_err docker_create(const lf_agent_input_common *common, const void *config,
                            lf_agent_input **out, lf_error *err)
{
    const lf_docker_input_config *c = config;
    lf_err e = docker_validate(c, err);
    if (e != LF_OK)
        return e;
    docker_input *di = calloc(1, sizeof *di);
    if (!di)
        return lf_error_set(err, LF_ERR_NOMEM, "docker input: out of memory");
    lf_file_input_init(&di->fi, &docker_vt, common->name);
    char *db = NULL, *glob = NULL;
    if (!(di->data_root = strdup(c->data_root)) ||
        lf_strlist_copy(&c->include, &di->include, NULL) ||
        lf_strlist_copy(&c->exclude, &di->exclude, NULL) ||
        lf_strlist_copy(&c->container_labels, &di->label_patterns, NULL) ||
        asprintf(&glob, "%s/containers/*/*-json.log", c->data_root) < 0) {
        glob = NULL;
        e = lf_error_set(err, LF_ERR_NOMEM, "docker input: out of memory");
        goto fail;
    }
    di->meta.data_root = di->data_root;
    di->meta.label_patterns = &di->label_patterns;
    di->meta.max_labels = (size_t)c->container_labels_max;
    di->reader.fi = &di->fi;
    di->reader.format = LF_CONTAINER_DOCKER;
    di->reader.max_bytes = (size_t)c->max_partial_bytes;
    di->reader.flush_ms = (unsigned)c->partial_flush_ms;
    if ((e = lf_file_input_db_path(common, "docker", &db, err)) != LF_OK)
        goto fail;
    const char *globs[1] = {glob};
    lf_tail_options o = {
        .globs = globs,
        .n_globs = 1,
        .read_from_head = c->read_from_head,
        .poll_interval_ms = (unsigned)c->poll_interval_ms,
        .disable_inotify = !c->inotify,
        .max_line_bytes = (size_t)c->max_line_bytes,
        .rotate_wait_ms = (unsigned)c->rotate_wait_ms,
        .checkpoint_db = db,
        .accept = accept_path,
        .accept_ctx = di,
    };
    if ((e = lf_tail_create(&o, &di->fi.tail, err)) != LF_OK)
        goto fail;
    free(db);
    free(glob);
    *out = &di->fi.base;
    return LF_OK;
fail:
    free(db);
    free(glob);
    docker_destroy(&di->fi.base);
    return e;
}

const lf_agent_input_type lf_agent_input_type_docker = {
    .type = "docker",
    .summary = "Reads the json-file logs of Docker containers, including containers started "
               "later; lines Docker split are joined; events carry container_id, "
               "container_name, image, stream and chosen container labels.",
    .options = docker_options,
    .n_options = sizeof docker_options / sizeof docker_options[0],
    .config_size = sizeof(lf_docker_input_config),
    .validate = docker_validate,
    .create = docker_create,
};

/*
 * kubernetes_input.c — the "kubernetes" input (kubernetes_input.h). The kubelet keeps
 * /var/log/containers/<pod>_<namespace>_<container>-<id>.log as symlinks to
 * /var/log/pods/<namespace>_<pod>_<uid>/<container>/<restart>.log; the tail engine follows
 * the link's target (identity = the target's inode), so when the kubelet rotates 0.log the old
 * file is drained under the same link name and the new one read from its start. Everything
 * about a line's origin comes from the link's name: pod and namespace names cannot contain
 * '_' (DNS names), so the name splits unambiguously.
 *
 * Namespace filters are applied before a file is opened (the tail's accept hook).
 */
#define _GNU_SOURCE
#include <fnmatch.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "inputs/docker/container_reader.h"
#include "kubernetes_input.h"
#include "logflux/payload.h"

#define CFG(f)     offsetof(lf_kubernetes_input_config, f)
#define K8S_ID_HEX 64

static const lf_option k8s_options[] = {
    {"paths", LF_OPT_STRLIST, "/var/log/containers/*.log", 0, 0, NULL, CFG(paths),
     "Glob patterns of the kubelet's container log links."},
    {"format", LF_OPT_ENUM, "auto", 0, 0, "auto|cri|docker", CFG(format),
     "Line format: cri (containerd, CRI-O), docker (json-file), or auto (per line: a line "
     "starting with '{' is Docker's, any other CRI)."},
    {"namespaces.include", LF_OPT_STRLIST, NULL, 0, 0, NULL, CFG(ns_include),
     "Glob patterns of namespaces to read; empty = all."},
    {"namespaces.exclude", LF_OPT_STRLIST, NULL, 0, 0, NULL, CFG(ns_exclude),
     "Glob patterns of namespaces never read (applied after include)."},
    {"read_from_head", LF_OPT_BOOL, "false", 0, 0, NULL, CFG(read_from_head),
     "Logs present at start without a checkpoint are read from their beginning (else from "
     "their end). Containers that start later are always read from the beginning."},
    {"max_partial_bytes", LF_OPT_SIZE, "256KiB", 16384, LF_PAYLOAD_MAX_MESSAGE, NULL,
     CFG(max_partial_bytes),
     "Pieces of a line the runtime split (CRI P, Docker without newline) are joined up to "
     "this size; longer ones are emitted in pieces labelled split=max_bytes."},
    {"partial_flush_timeout", LF_OPT_DURATION, "5s", 10, 3600000, NULL, CFG(partial_flush_ms),
     "A joined line whose last piece does not come within this time is emitted as it is, "
     "labelled split=timeout."},
    {"max_line_bytes", LF_OPT_SIZE, "1MiB", 65536, LF_PAYLOAD_MAX_MESSAGE, NULL,
     CFG(max_line_bytes), "Longest line read whole; a longer one cannot be parsed."},
    {"poll_interval", LF_OPT_DURATION, "250ms", 10, 60000, NULL, CFG(poll_interval_ms),
     "How often new pods are looked for and files checked for rotation."},
    {"inotify", LF_OPT_BOOL, "true", 0, 0, NULL, CFG(inotify),
     "Wake up on inotify events instead of waiting for the next poll."},
    {"rotate_wait", LF_OPT_DURATION, "5s", 1, 3600000, NULL, CFG(rotate_wait_ms),
     "A rotated log file is kept open this long after its last line."},
};

typedef struct k8s_input {
    lf_file_input fi;
    lf_container_reader reader;
    lf_strlist ns_include, ns_exclude;
    uint64_t filtered;
} k8s_input;

static bool is_hex(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return false;
    return true;
}

bool lf_k8s_parse_log_name(const char *path, lf_k8s_log_name *out)
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    size_t n = strlen(base);
    if (n < 4 || memcmp(base + n - 4, ".log", 4) != 0)
        return false;
    n -= 4;
    const char *u1 = memchr(base, '_', n);
    if (!u1 || u1 == base)
        return false;
    const char *u2 = memchr(u1 + 1, '_', n - (size_t)(u1 + 1 - base));
    if (!u2 || u2 == u1 + 1)
        return false;
    const char *rest = u2 + 1;
    size_t rest_len = n - (size_t)(rest - base);
    /* <container>-<64 hex>: the container name is at least one character */
    if (rest_len < K8S_ID_HEX + 2 || rest[rest_len - K8S_ID_HEX - 1] != '-' ||
        !is_hex(rest + rest_len - K8S_ID_HEX, K8S_ID_HEX) || memchr(rest, '_', rest_len))
        return false;
    out->pod = base;
    out->pod_len = (size_t)(u1 - base);
    out->ns = u1 + 1;
    out->ns_len = (size_t)(u2 - u1 - 1);
    out->container = rest;
    out->container_len = rest_len - K8S_ID_HEX - 1;
    out->container_id = rest + rest_len - K8S_ID_HEX;
    out->container_id_len = K8S_ID_HEX;
    return true;
}

static bool match_any(const lf_strlist *l, const char *s)
{
    for (size_t i = 0; i < l->n; i++)
        if (fnmatch(l->items[i], s, 0) == 0)
            return true;
    return false;
}

static bool accept_path(void *ctx, const char *path)
{
    k8s_input *ki = ctx;
    lf_k8s_log_name nm;
    if (ki->ns_include.n == 0 && ki->ns_exclude.n == 0)
        return true;
    if (!lf_k8s_parse_log_name(path, &nm))
        return false; /* a filter is set and this file has no namespace to match */
    char ns[256];
    if (nm.ns_len >= sizeof ns)
        return false;
    memcpy(ns, nm.ns, nm.ns_len);
    ns[nm.ns_len] = '\0';
    bool in = (ki->ns_include.n == 0 || match_any(&ki->ns_include, ns)) &&
              !match_any(&ki->ns_exclude, ns);
    if (!in)
        ki->filtered++;
    return in;
}

static lf_err k8s_next(lf_agent_input *in, lf_agent_event *ev, int timeout_ms, lf_error *err)
{
    k8s_input *ki = (k8s_input *)in;
    const char *path;
    lf_err e = lf_container_next(&ki->reader, ev, timeout_ms, &path, err);
    if (e != LF_OK)
        return e;
    lf_k8s_log_name nm;
    if (lf_k8s_parse_log_name(path, &nm)) {
        lf_agent_event_set_label(ev, "namespace", 9, nm.ns, nm.ns_len);
        lf_agent_event_set_label(ev, "pod", 3, nm.pod, nm.pod_len);
        lf_agent_event_set_label(ev, "container", 9, nm.container, nm.container_len);
        lf_agent_event_set_label(ev, "container_id", 12, nm.container_id, 12);
        char source[LF_PAYLOAD_MAX_SOURCE + 1];
        int n = snprintf(source, sizeof source, "%.*s/%.*s/%.*s", (int)nm.ns_len, nm.ns,
                         (int)nm.pod_len, nm.pod, (int)nm.container_len, nm.container);
        lf_agent_event_set_source(ev, source,
                                  n < 0                       ? 0
                                  : (size_t)n < sizeof source ? (size_t)n
                                                              : sizeof source - 1);
    } else {
        lf_agent_event_set_source(ev, path, strlen(path));
    }
    return LF_OK;
}

static void k8s_metrics(lf_agent_input *in, lf_buf *out)
{
    k8s_input *ki = (k8s_input *)in;
    lf_file_input_write_metrics(in, out);
    lf_container_reader_metrics(&ki->reader, in->name, out);
    lf_agent_input_metric(out, "logflux_agent_kubernetes_files_filtered_total", in->name,
                          ki->filtered);
}

static void k8s_destroy(lf_agent_input *in)
{
    k8s_input *ki = (k8s_input *)in;
    if (!ki)
        return;
    lf_container_reader_fini(&ki->reader);
    lf_file_input_fini(&ki->fi);
    lf_strlist_free(&ki->ns_include);
    lf_strlist_free(&ki->ns_exclude);
    free(ki);
}

static const lf_agent_input_vtable k8s_vt = {
    .next = k8s_next,
    .cursor = lf_file_input_cursor,
    .commit = lf_file_input_commit,
    .restore = lf_file_input_restore,
    .write_metrics = k8s_metrics,
    .destroy = k8s_destroy,
};

static lf_err k8s_validate(const void *config, lf_error *err)
{
    const lf_kubernetes_input_config *c = config;
    if (c->paths.n == 0)
        return lf_error_set(err, LF_ERR_INVALID, "kubernetes: `paths` is empty");
    for (size_t i = 0; i < c->paths.n; i++)
        if (!c->paths.items[i] || c->paths.items[i][0] != '/')
            return lf_error_set(err, LF_ERR_INVALID,
                                "kubernetes: paths[%zu] must be an absolute path", i);
    return LF_OK;
}

static lf_err k8s_create(const lf_agent_input_common *common, const void *config,
                         lf_agent_input **out, lf_error *err)
{
    const lf_kubernetes_input_config *c = config;
    lf_err e = k8s_validate(c, err);
    if (e != LF_OK)
        return e;
    k8s_input *ki = calloc(1, sizeof *ki);
    if (!ki)
        return lf_error_set(err, LF_ERR_NOMEM, "kubernetes input: out of memory");
    lf_file_input_init(&ki->fi, &k8s_vt, common->name);
    char *db = NULL;
    if (lf_strlist_copy(&c->ns_include, &ki->ns_include, NULL) ||
        lf_strlist_copy(&c->ns_exclude, &ki->ns_exclude, NULL)) {
        e = lf_error_set(err, LF_ERR_NOMEM, "kubernetes input: out of memory");
        goto fail;
    }
    ki->reader.fi = &ki->fi;
    ki->reader.format = !c->format || strcmp(c->format, "auto") == 0 ? LF_CONTAINER_AUTO
                        : strcmp(c->format, "cri") == 0              ? LF_CONTAINER_CRI
                                                                     : LF_CONTAINER_DOCKER;
    ki->reader.max_bytes = (size_t)c->max_partial_bytes;
    ki->reader.flush_ms = (unsigned)c->partial_flush_ms;
    if ((e = lf_file_input_db_path(common, "kubernetes", &db, err)) != LF_OK)
        goto fail;
    lf_tail_options o = {
        .globs = lf_file_input_globs(&c->paths),
        .n_globs = c->paths.n,
        .read_from_head = c->read_from_head,
        .poll_interval_ms = (unsigned)c->poll_interval_ms,
        .disable_inotify = !c->inotify,
        .max_line_bytes = (size_t)c->max_line_bytes,
        .rotate_wait_ms = (unsigned)c->rotate_wait_ms,
        .checkpoint_db = db,
        .accept = accept_path,
        .accept_ctx = ki,
    };
    if ((e = lf_tail_create(&o, &ki->fi.tail, err)) != LF_OK)
        goto fail;
    free(db);
    *out = &ki->fi.base;
    return LF_OK;
fail:
    free(db);
    k8s_destroy(&ki->fi.base);
    return e;
}

const lf_agent_input_type lf_agent_input_type_kubernetes = {
    .type = "kubernetes",
    .summary = "Reads the container logs of a Kubernetes node (/var/log/containers), CRI or "
               "Docker format, joining split lines; events carry namespace, pod, container, "
               "container_id and stream.",
    .options = k8s_options,
    .n_options = sizeof k8s_options / sizeof k8s_options[0],
    .config_size = sizeof(lf_kubernetes_input_config),
    .validate = k8s_validate,
    .create = k8s_create,
};

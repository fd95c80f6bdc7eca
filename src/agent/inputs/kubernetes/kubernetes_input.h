/*
 * kubernetes_input.h — the "kubernetes" input: the container logs the kubelet links under
 * /var/log/containers/<pod>_<namespace>_<container>-<container id>.log, in CRI format
 * (containerd, CRI-O) or Docker json-file (dockershim), with namespace, pod, container,
 * container_id and stream as labels. docs/AGENT-CONTAINERS.md.
 */
#ifndef LF_AGENT_KUBERNETES_INPUT_H
#define LF_AGENT_KUBERNETES_INPUT_H

#include "input.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct lf_kubernetes_input_config {
    lf_strlist paths;
    char *format;          /* auto | cri | docker */
    lf_strlist ns_include; /* namespaces.include: globs; empty = all */
    lf_strlist ns_exclude; /* namespaces.exclude */
    bool read_from_head;
    uint64_t max_partial_bytes;
    int64_t partial_flush_ms;
    uint64_t max_line_bytes;
    int64_t poll_interval_ms;
    bool inotify;
    int64_t rotate_wait_ms;
} lf_kubernetes_input_config;

/* The parts of a kubelet log file name. Pointers into the caller's buffer. */
typedef struct lf_k8s_log_name {
    const char *pod, *ns, *container, *container_id;
    size_t pod_len, ns_len, container_len, container_id_len;
} lf_k8s_log_name;

/* Split the base name of `path` (<pod>_<namespace>_<container>-<64 hex>.log). false if the
 * name is not of that shape. */
bool lf_k8s_parse_log_name(const char *path, lf_k8s_log_name *out);

extern const lf_agent_input_type lf_agent_input_type_kubernetes; /* "kubernetes" */

#ifdef __cplusplus
}
#endif
#endif

/*
 * docker_input.h — the "docker" input: the json-file logs of the containers of a Docker
 * daemon (<data_root>/containers/<id>/<id>-json.log), with each container's name, image and
 * chosen labels (from its config.v2.json) as event labels. docs/AGENT-CONTAINERS.md.
 */
#ifndef LF_AGENT_DOCKER_INPUT_H
#define LF_AGENT_DOCKER_INPUT_H

#include "input.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Labels the docker input sets itself: container_id, container_name, image, stream. */
#define LF_DOCKER_FIXED_LABELS 4
/* Upper bound of container_labels_max: fixed + container labels + split stays well within the
 * event's 20, leaving room for the input's configured labels. */
#define LF_DOCKER_MAX_CONTAINER_LABELS 10

typedef struct lf_docker_input_config {
    char *data_root;
    lf_strlist include;          /* containers.include: name globs; empty = all */
    lf_strlist exclude;          /* containers.exclude */
    lf_strlist container_labels; /* globs of Config.Labels keys copied as label.<key> */
    int64_t container_labels_max;
    bool read_from_head;
    uint64_t max_partial_bytes;
    int64_t partial_flush_ms;
    uint64_t max_line_bytes;
    int64_t poll_interval_ms;
    bool inotify;
    int64_t rotate_wait_ms;
} lf_docker_input_config;

extern const lf_agent_input_type lf_agent_input_type_docker; /* "docker" */

#ifdef __cplusplus
}
#endif
#endif

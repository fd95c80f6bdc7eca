/*
 * docker_meta.h — what the docker input knows of each container, read from
 * <data_root>/containers/<id>/config.v2.json: its name, image and chosen Config.Labels.
 * Cached by id; read when a container is first seen; a container whose file cannot be read
 * yet (being created) is retried at most once a second.
 */
#ifndef LF_AGENT_DOCKER_META_H
#define LF_AGENT_DOCKER_META_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "options.h"

#define DOCKER_ID_MAX 128

typedef struct docker_label {
    char *key; /* "label.<Config.Labels key>" */
    char *value;
} docker_label;

typedef struct docker_meta {
    struct docker_meta *next;
    char id[DOCKER_ID_MAX + 1];
    bool loaded;         /* config.v2.json was read */
    int64_t retry_at_ms; /* !loaded: next attempt */
    char *name;          /* without Docker's leading '/' */
    char *image;
    docker_label *labels;
    size_t n_labels;
} docker_meta;

typedef struct docker_meta_cache {
    const char *data_root;            /* borrowed */
    const lf_strlist *label_patterns; /* borrowed */
    size_t max_labels;
    docker_meta *head;
    docker_meta *last; /* the last one looked up: consecutive lines mostly share a container */
    size_t n;
    uint64_t read_errors;
} docker_meta_cache;

/* The container id of a log path <data_root>/containers/<id>/<file>: false if not that shape. */
bool docker_id_of_path(const char *path, char id[DOCKER_ID_MAX + 1]);
/* The metadata of a container (cached; read on first use). NULL only when out of memory.
 * Check ->loaded: the file may not be readable yet. */
docker_meta *docker_meta_get(docker_meta_cache *c, const char *id);
void docker_meta_cache_free(docker_meta_cache *c);

#endif

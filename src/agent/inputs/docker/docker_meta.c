/*
 * docker_meta.c — the container metadata cache (docker_meta.h). config.v2.json is Docker's
 * own state file: {"ID":..., "Name":"/web", "Config":{"Image":"nginx:1.27",
 * "Labels":{...}}, ...}. It is read with a size bound (a damaged or hostile file cannot make
 * us allocate without limit) and only the fields above are used.
 *
 * The cache holds at most DOCKER_META_MAX containers; past that it is emptied and refilled
 * on demand, which bounds memory on hosts that churn through many short-lived containers.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "docker_meta.h"

#define DOCKER_META_MAX         4096
#define DOCKER_CONFIG_MAX_BYTES (4u << 20)
#define DOCKER_META_RETRY_MS    1000

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static bool id_char(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
           c == '-' || c == '.';
}

bool docker_id_of_path(const char *path, char id[DOCKER_ID_MAX + 1])
{
    const char *slash = strrchr(path, '/');
    if (!slash || slash == path)
        return false;
    const char *begin = slash;
    while (begin > path && begin[-1] != '/')
        begin--;
    size_t n = (size_t)(slash - begin);
    if (n == 0 || n > DOCKER_ID_MAX || begin[0] == '.')
        return false;
    for (size_t i = 0; i < n; i++)
        if (!id_char(begin[i]))
            return false;
    memcpy(id, begin, n);
    id[n] = '\0';
    return true;
}

static void meta_free(docker_meta *m)
{
    free(m->name);
    free(m->image);
    for (size_t i = 0; i < m->n_labels; i++) {
        free(m->labels[i].key);
        free(m->labels[i].value);
    }
    free(m->labels);
    free(m);
}

void docker_meta_cache_free(docker_meta_cache *c)
{
    while (c->head) {
        docker_meta *m = c->head;
        c->head = m->next;
        meta_free(m);
    }
    c->last = NULL;
    c->n = 0;
}

static json_t *load_config(const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return NULL;
    struct stat st;
    json_t *root = NULL;
    char *buf = NULL;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size <= 0 ||
        (uint64_t)st.st_size > DOCKER_CONFIG_MAX_BYTES)
        goto out;
    size_t size = (size_t)st.st_size, got = 0;
    if (!(buf = malloc(size)))
        goto out;
    while (got < size) {
        ssize_t r = read(fd, buf + got, size - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        got += (size_t)r;
    }
    if (got == size)
        root = json_loadb(buf, size, 0, NULL);
out:
    free(buf);
    close(fd);
    return root;
}

static int cmp_keys(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static bool wanted(const docker_meta_cache *c, const char *key)
{
    for (size_t i = 0; c->label_patterns && i < c->label_patterns->n; i++)
        if (fnmatch(c->label_patterns->items[i], key, 0) == 0)
            return true;
    return false;
}

/* Copy the wanted Config.Labels, in key order (so the choice under the cap is stable). */
static bool take_labels(const docker_meta_cache *c, docker_meta *m, json_t *labels)
{
    if (!json_is_object(labels) || c->max_labels == 0)
        return true;
    size_t n = json_object_size(labels), k = 0;
    const char **keys = calloc(n ? n : 1, sizeof *keys);
    if (!keys)
        return false;
    const char *key;
    json_t *value;
    json_object_foreach(labels, key, value)
    {
        if (json_is_string(value) && wanted(c, key))
            keys[k++] = key;
    }
    qsort(keys, k, sizeof *keys, cmp_keys);
    if (k > c->max_labels)
        k = c->max_labels;
    bool ok = (m->labels = calloc(k ? k : 1, sizeof *m->labels)) != NULL;
    for (size_t i = 0; ok && i < k; i++) {
        docker_label *l = &m->labels[m->n_labels];
        ok = asprintf(&l->key, "label.%s", keys[i]) >= 0;
        if (!ok) {
            l->key = NULL;
            break;
        }
        l->value = strdup(json_string_value(json_object_get(labels, keys[i])));
        m->n_labels++;
        ok = l->value != NULL;
    }
    free(keys);
    return ok;
}

/* Read config.v2.json into m. false: not readable (yet) or out of memory. */
static bool meta_load(docker_meta_cache *c, docker_meta *m)
{
    char *path = NULL;
    if (asprintf(&path, "%s/containers/%s/config.v2.json", c->data_root, m->id) < 0)
        return false;
    json_t *root = load_config(path);
    free(path);
    if (!root)
        return false;
    json_t *config = json_object_get(root, "Config");
    const char *name = json_string_value(json_object_get(root, "Name"));
    const char *image = json_string_value(json_object_get(config, "Image"));
    if (name && name[0] == '/')
        name++;
    bool ok = (m->name = strdup(name ? name : "")) && (m->image = strdup(image ? image : "")) &&
              take_labels(c, m, json_object_get(config, "Labels"));
    json_decref(root);
    return ok;
}

docker_meta *docker_meta_get(docker_meta_cache *c, const char *id)
{
    docker_meta *m = c->last && strcmp(c->last->id, id) == 0 ? c->last : c->head;
    while (m && strcmp(m->id, id) != 0)
        m = m->next;
    if (!m) {
        if (c->n >= DOCKER_META_MAX)
            docker_meta_cache_free(c);
        if (!(m = calloc(1, sizeof *m)))
            return NULL;
        snprintf(m->id, sizeof m->id, "%s", id);
        m->next = c->head;
        c->head = m;
        c->n++;
    }
    c->last = m;
    if (m->loaded || mono_ms() < m->retry_at_ms)
        return m;
    if (meta_load(c, m)) {
        m->loaded = true;
        return m;
    }
    /* Half-filled by a failed load: clear it for the next attempt. */
    free(m->name);
    free(m->image);
    for (size_t i = 0; i < m->n_labels; i++) {
        free(m->labels[i].key);
        free(m->labels[i].value);
    }
    free(m->labels);
    m->name = m->image = NULL;
    m->labels = NULL;
    m->n_labels = 0;
    c->read_errors++;
    m->retry_at_ms = mono_ms() + DOCKER_META_RETRY_MS;
    return m;
}

/*
 * options_tree.c — YAML as a small tree (lf_cfg_node), and applying a mapping of that tree to
 * an option table. Configurations with lists of sections (the agent's `inputs:`) need the
 * whole structure before they can decide which table a mapping belongs to, so they read the
 * tree first; flat configurations use lf_options_load_yaml, built on the same functions.
 *
 * Refused on purpose: anchors, aliases and tags (a configuration should read the same to a
 * person as to the program), non-scalar keys, duplicate keys (the second would silently win).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "options.h"

#define MAX_DEPTH    32
#define MAX_NAME_LEN 512
/* Keys of one mapping. Duplicates are found by a linear scan (quadratic in the keys of a
 * mapping): without a bound a 750 KB file of distinct keys took minutes to be refused. */
#define MAX_MAP_KEYS 1024

void lf_cfg_free(lf_cfg_node *node)
{
    if (node == NULL)
        return;
    free(node->text);
    for (size_t i = 0; i < node->n; i++) {
        if (node->keys)
            free(node->keys[i]);
        lf_cfg_free(node->items[i]);
    }
    free(node->keys);
    free(node->items);
    free(node);
}

const lf_cfg_node *lf_cfg_get(const lf_cfg_node *map, const char *key)
{
    if (map == NULL || map->kind != LF_CFG_MAP)
        return NULL;
    for (size_t i = 0; i < map->n; i++)
        if (strcmp(map->keys[i], key) == 0)
            return map->items[i];
    return NULL;
}

typedef struct tree_reader {
    yaml_parser_t parser;
    const char *name;
} tree_reader;

static lf_err next_event(tree_reader *r, yaml_event_t *ev, lf_error *err)
{
    if (!yaml_parser_parse(&r->parser, ev))
        return lf_error_set(err, LF_ERR_INVALID, "%s:%zu: %s", r->name,
                            r->parser.problem_mark.line + 1,
                            r->parser.problem ? r->parser.problem : "YAML syntax error");
    size_t line = ev->start_mark.line + 1;
    if (ev->type == YAML_ALIAS_EVENT) {
        yaml_event_delete(ev);
        return lf_error_set(err, LF_ERR_INVALID, "%s:%zu: aliases are not supported", r->name,
                            line);
    }
    const yaml_char_t *anchor = NULL, *tag = NULL;
    if (ev->type == YAML_SCALAR_EVENT) {
        anchor = ev->data.scalar.anchor;
        tag = ev->data.scalar.tag;
    } else if (ev->type == YAML_MAPPING_START_EVENT) {
        anchor = ev->data.mapping_start.anchor;
        tag = ev->data.mapping_start.tag;
    } else if (ev->type == YAML_SEQUENCE_START_EVENT) {
        anchor = ev->data.sequence_start.anchor;
        tag = ev->data.sequence_start.tag;
    }
    if (anchor != NULL || tag != NULL) {
        yaml_event_delete(ev);
        return lf_error_set(err, LF_ERR_INVALID, "%s:%zu: anchors and tags are not supported",
                            r->name, line);
    }
    return LF_OK;
}

static lf_cfg_node *new_node(lf_cfg_kind kind, size_t line)
{
    lf_cfg_node *n = calloc(1, sizeof *n);
    if (n) {
        n->kind = kind;
        n->line = line;
    }
    return n;
}

static lf_err push_item(lf_cfg_node *parent, char *key, lf_cfg_node *child, lf_error *err)
{
    lf_cfg_node **items = realloc(parent->items, (parent->n + 1) * sizeof *items);
    if (items == NULL)
        return lf_error_set(err, LF_ERR_NOMEM, "out of memory");
    parent->items = items;
    if (parent->kind == LF_CFG_MAP) {
        char **keys = realloc(parent->keys, (parent->n + 1) * sizeof *keys);
        if (keys == NULL)
            return lf_error_set(err, LF_ERR_NOMEM, "out of memory");
        parent->keys = keys;
        parent->keys[parent->n] = key;
    }
    parent->items[parent->n++] = child;
    return LF_OK;
}

/* Build the node whose start event is `ev` (already consumed), reading until its end. */
static lf_err read_node(tree_reader *r, yaml_event_t *ev, int depth, lf_cfg_node **out,
                        lf_error *err)
{
    size_t line = ev->start_mark.line + 1;
    if (depth > MAX_DEPTH)
        return lf_error_set(err, LF_ERR_INVALID, "%s:%zu: nested too deeply", r->name, line);
    if (ev->type == YAML_SCALAR_EVENT) {
        lf_cfg_node *n = new_node(LF_CFG_SCALAR, line);
        if (n == NULL || (n->text = strndup((const char *)ev->data.scalar.value,
                                            ev->data.scalar.length)) == NULL) {
            free(n);
            return lf_error_set(err, LF_ERR_NOMEM, "out of memory");
        }
        if (strlen(n->text) != ev->data.scalar.length) {
            lf_cfg_free(n);
            return lf_error_set(err, LF_ERR_INVALID, "%s:%zu: NUL byte in a value", r->name, line);
        }
        *out = n;
        return LF_OK;
    }
    bool is_map = ev->type == YAML_MAPPING_START_EVENT;
    if (!is_map && ev->type != YAML_SEQUENCE_START_EVENT)
        return lf_error_set(err, LF_ERR_INVALID, "%s:%zu: unexpected YAML construct", r->name,
                            line);
    lf_cfg_node *node = new_node(is_map ? LF_CFG_MAP : LF_CFG_SEQ, line);
    if (node == NULL)
        return lf_error_set(err, LF_ERR_NOMEM, "out of memory");
    lf_err rc = LF_OK;
    for (;;) {
        yaml_event_t e;
        if ((rc = next_event(r, &e, err)) != LF_OK)
            break;
        if (e.type == YAML_MAPPING_END_EVENT || e.type == YAML_SEQUENCE_END_EVENT) {
            yaml_event_delete(&e);
            break;
        }
        char *key = NULL;
        if (is_map) {
            size_t kline = e.start_mark.line + 1;
            if (node->n >= MAX_MAP_KEYS) {
                yaml_event_delete(&e);
                rc = lf_error_set(err, LF_ERR_INVALID, "%s:%zu: more than %d keys in one mapping",
                                  r->name, kline, MAX_MAP_KEYS);
                break;
            }
            if (e.type != YAML_SCALAR_EVENT || e.data.scalar.length == 0 ||
                e.data.scalar.length >= MAX_NAME_LEN) {
                yaml_event_delete(&e);
                rc = lf_error_set(err, LF_ERR_INVALID, "%s:%zu: keys must be short scalars",
                                  r->name, kline);
                break;
            }
            key = strndup((const char *)e.data.scalar.value, e.data.scalar.length);
            yaml_event_delete(&e);
            if (key == NULL) {
                rc = lf_error_set(err, LF_ERR_NOMEM, "out of memory");
                break;
            }
            if (lf_cfg_get(node, key) != NULL) {
                rc = lf_error_set(err, LF_ERR_INVALID, "%s:%zu: duplicate key '%.64s'", r->name,
                                  kline, key);
                free(key);
                break;
            }
            if ((rc = next_event(r, &e, err)) != LF_OK) {
                free(key);
                break;
            }
        }
        lf_cfg_node *child = NULL;
        rc = read_node(r, &e, depth + 1, &child, err);
        yaml_event_delete(&e);
        if (rc == LF_OK && (rc = push_item(node, key, child, err)) != LF_OK)
            lf_cfg_free(child);
        if (rc != LF_OK) {
            free(key);
            break;
        }
    }
    if (rc != LF_OK) {
        lf_cfg_free(node);
        return rc;
    }
    *out = node;
    return LF_OK;
}

static lf_err read_document(tree_reader *r, lf_cfg_node **out, lf_error *err)
{
    lf_cfg_node *root = NULL;
    lf_err rc = LF_OK;
    for (;;) {
        yaml_event_t ev;
        if ((rc = next_event(r, &ev, err)) != LF_OK)
            break;
        yaml_event_type_t t = ev.type;
        size_t line = ev.start_mark.line + 1;
        if (t == YAML_STREAM_END_EVENT) {
            yaml_event_delete(&ev);
            break;
        }
        if (t == YAML_MAPPING_START_EVENT || t == YAML_SEQUENCE_START_EVENT ||
            t == YAML_SCALAR_EVENT) {
            if (root != NULL) {
                rc = lf_error_set(err, LF_ERR_INVALID, "%s:%zu: only one YAML document allowed",
                                  r->name, line);
            } else if (t == YAML_SCALAR_EVENT && ev.data.scalar.length == 0) {
                root = new_node(LF_CFG_MAP, line); /* an empty document */
                if (root == NULL)
                    rc = lf_error_set(err, LF_ERR_NOMEM, "out of memory");
            } else if (t != YAML_MAPPING_START_EVENT) {
                rc = lf_error_set(err, LF_ERR_INVALID, "%s:%zu: expected a mapping of options",
                                  r->name, line);
            } else {
                rc = read_node(r, &ev, 0, &root, err);
            }
        }
        yaml_event_delete(&ev);
        if (rc != LF_OK)
            break;
    }
    if (rc == LF_OK && root == NULL && (root = new_node(LF_CFG_MAP, 1)) == NULL)
        rc = lf_error_set(err, LF_ERR_NOMEM, "out of memory");
    if (rc != LF_OK) {
        lf_cfg_free(root);
        return rc;
    }
    *out = root;
    return LF_OK;
}

lf_err lf_cfg_parse_yaml(const char *text, size_t len, const char *name, lf_cfg_node **out,
                         lf_error *err)
{
    tree_reader r = {.name = name};
    yaml_parser_initialize(&r.parser);
    yaml_parser_set_input_string(&r.parser, (const unsigned char *)text, len);
    lf_err rc = read_document(&r, out, err);
    yaml_parser_delete(&r.parser);
    return rc;
}

lf_err lf_cfg_load_yaml(const char *path, lf_cfg_node **out, lf_error *err)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return lf_error_set(err, LF_ERR_IO, "%s: %s", path, strerror(errno));
    tree_reader r = {.name = path};
    yaml_parser_initialize(&r.parser);
    yaml_parser_set_input_file(&r.parser, f);
    lf_err rc = read_document(&r, out, err);
    yaml_parser_delete(&r.parser);
    fclose(f);
    return rc;
}

/* ---- applying a mapping to a table ---- */

typedef struct apply_ctx {
    const lf_option *table;
    size_t n;
    void *config;
    const char *path;
    const char *prefix;
    lf_cfg_unknown_fn unknown;
    void *unknown_ctx;
} apply_ctx;

static lf_err set_list(const apply_ctx *a, const lf_option *o, const lf_cfg_node *node,
                       lf_error *err)
{
    lf_strlist fresh = {0};
    for (size_t i = 0; i < node->n; i++) {
        const lf_cfg_node *it = node->items[i];
        lf_err rc = LF_OK;
        if (it->kind != LF_CFG_SCALAR)
            rc = lf_error_set(err, LF_ERR_INVALID, "%s:%zu: %s%s: list items must be scalars",
                              a->path, it->line, a->prefix, o->name);
        else if (lf_strlist_add(&fresh, it->text, strlen(it->text), err) != LF_OK)
            rc = lf_error_set(err, LF_ERR_NOMEM, "out of memory");
        if (rc != LF_OK) {
            lf_strlist_free(&fresh);
            return rc;
        }
    }
    lf_strlist *l = (lf_strlist *)((char *)a->config + o->offset);
    lf_strlist_free(l);
    *l = fresh;
    return LF_OK;
}

static lf_err set_map(const apply_ctx *a, const lf_option *o, const lf_cfg_node *node,
                      lf_error *err)
{
    lf_strmap *m = (lf_strmap *)((char *)a->config + o->offset);
    lf_options_free(o, 1, (char *)a->config);
    for (size_t i = 0; i < node->n; i++) {
        const lf_cfg_node *it = node->items[i];
        if (it->kind != LF_CFG_SCALAR)
            return lf_error_set(err, LF_ERR_INVALID, "%s:%zu: %s%s.%s: values must be scalars",
                                a->path, it->line, a->prefix, o->name, node->keys[i]);
        if (lf_strmap_set(m, node->keys[i], it->text, err) != LF_OK)
            return lf_error_set(err, LF_ERR_NOMEM, "out of memory");
    }
    return LF_OK;
}

static lf_err apply_map(const apply_ctx *a, const lf_cfg_node *map, const char *section,
                        lf_error *err)
{
    for (size_t i = 0; i < map->n; i++) {
        char name[MAX_NAME_LEN * 2];
        int w = snprintf(name, sizeof name, "%s%s%s", section, *section ? "." : "", map->keys[i]);
        const lf_cfg_node *v = map->items[i];
        if (w < 0 || (size_t)w >= sizeof name)
            return lf_error_set(err, LF_ERR_INVALID, "%s:%zu: key path too long", a->path, v->line);
        const lf_option *o = lf_options_find(a->table, a->n, name);
        lf_err rc = LF_OK;
        lf_error inner = {0};
        if (o != NULL && o->type == LF_OPT_STRLIST && v->kind == LF_CFG_SEQ) {
            rc = set_list(a, o, v, err);
        } else if (o != NULL && o->type == LF_OPT_MAP && v->kind == LF_CFG_MAP) {
            rc = set_map(a, o, v, err);
        } else if (o != NULL && o->type == LF_OPT_MAP && v->kind == LF_CFG_SCALAR &&
                   v->text[0] == '\0') {
            rc = set_map(a, o, v, err); /* `labels:` with nothing: empty map */
        } else if (o != NULL && v->kind == LF_CFG_SCALAR && o->type != LF_OPT_MAP) {
            if (o->type == LF_OPT_STRLIST) {
                /* One scalar is a one-item list (not split at newlines). */
                lf_strlist *l = (lf_strlist *)((char *)a->config + o->offset);
                lf_options_free(o, 1, a->config);
                rc = v->text[0] ? lf_strlist_add(l, v->text, strlen(v->text), &inner) : LF_OK;
            } else {
                rc = lf_options_set(a->table, a->n, a->config, name, v->text, &inner);
            }
            if (rc != LF_OK)
                return lf_error_set(err, rc, "%s:%zu: %s%s", a->path, v->line, a->prefix,
                                    inner.message);
        } else if (o != NULL) {
            return lf_error_set(err, LF_ERR_INVALID, "%s:%zu: %s%s: expected %s", a->path, v->line,
                                a->prefix, name,
                                o->type == LF_OPT_STRLIST ? "a list of strings"
                                : o->type == LF_OPT_MAP   ? "a mapping of strings"
                                                          : "a single value");
        } else {
            /* The caller's handler sees the key first (the agent's `inputs:` is its own),
             * then a mapping nobody claimed is a section of dotted names. */
            rc = LF_ERR_NOT_FOUND;
            if (a->unknown != NULL)
                rc = a->unknown(a->unknown_ctx, name, v, &inner);
            if (rc == LF_ERR_NOT_FOUND && v->kind == LF_CFG_MAP) {
                if ((rc = apply_map(a, v, name, err)) != LF_OK)
                    return rc;
            } else if (rc == LF_ERR_NOT_FOUND)
                return lf_error_set(err, LF_ERR_INVALID, "%s:%zu: unknown option '%s%s'", a->path,
                                    v->line, a->prefix, name);
            if (rc != LF_OK)
                return lf_error_set(err, rc, "%s:%zu: %s%s", a->path, v->line, a->prefix,
                                    inner.message);
        }
        if (rc != LF_OK)
            return rc;
    }
    return LF_OK;
}

lf_err lf_options_apply(const lf_option *table, size_t n, void *config, const lf_cfg_node *map,
                        const char *path, const char *prefix, lf_cfg_unknown_fn unknown, void *ctx,
                        lf_error *err)
{
    if (map == NULL || map->kind != LF_CFG_MAP)
        return lf_error_set(err, LF_ERR_INVALID, "%s:%zu: %sexpected a mapping", path,
                            map ? map->line : 0, prefix ? prefix : "");
    apply_ctx a = {table, n, config, path, prefix ? prefix : "", unknown, ctx};
    return apply_map(&a, map, "", err);
}

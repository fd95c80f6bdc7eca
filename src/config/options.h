/*
 * options.h — configuration declared once, as a table.
 *
 * A component lists its options in an array of lf_option: name (dotted for sections, e.g.
 * "spool.max_bytes"), type, default, bounds, description and the offset of the field in the
 * component's config struct. From that one table come: defaults, validation of a YAML file
 * (unknown keys and bad values are errors naming the key and line), command-line overrides,
 * and the Markdown reference in docs/ (so the documentation cannot drift from the code).
 */
#ifndef LF_OPTIONS_H
#define LF_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "logflux/error.h"

typedef enum lf_opt_type {
    LF_OPT_STRING, /* char * (owned by the config; "" allowed) */
    LF_OPT_INT,    /* int64_t within [min, max] */
    LF_OPT_BOOL,   /* bool: true/false, yes/no, on/off */
    LF_OPT_SIZE,   /* uint64_t bytes: 1048576, 512KiB, 10MiB, 1GiB (also KB/MB/GB = powers of 10) */
    LF_OPT_DURATION, /* int64_t milliseconds: 250ms, 5s, 2m, 1h, 7d */
    LF_OPT_ENUM,     /* char * restricted to the '|'-separated list in `choices` */
    LF_OPT_STRLIST,  /* lf_strlist: a YAML sequence of scalars, or one scalar (a one-item
                        list). default_value separates items with '\n'. Setting it again
                        replaces the whole list. */
    LF_OPT_MAP,      /* lf_strmap: a YAML mapping of scalar keys to scalar values (labels).
                        default_value: "k=v\nk2=v2". */
} lf_opt_type;

typedef struct lf_strlist {
    char **items;
    size_t n;
} lf_strlist;

typedef struct lf_strmap {
    char **keys;
    char **values;
    size_t n;
} lf_strmap;

/* A parsed YAML document as a small tree, for configurations with lists of sections (the
 * agent's `inputs:`). Anchors, aliases, tags and duplicate keys are refused; keys are
 * scalars. Every node remembers its line for error messages. */
typedef enum lf_cfg_kind { LF_CFG_SCALAR, LF_CFG_MAP, LF_CFG_SEQ } lf_cfg_kind;

typedef struct lf_cfg_node {
    lf_cfg_kind kind;
    size_t line;                /* 1-based */
    char *text;                 /* SCALAR: the value */
    char **keys;                /* MAP: n keys */
    struct lf_cfg_node **items; /* MAP: n values; SEQ: n items */
    size_t n;
} lf_cfg_node;

typedef struct lf_option {
    const char *name;
    lf_opt_type type;
    const char *default_value; /* text, parsed like a config value; NULL = "" / 0 */
    int64_t min, max;          /* INT, SIZE, DURATION bounds (inclusive); both 0 = unbounded */
    const char *choices;       /* ENUM: "a|b|c" */
    size_t offset;             /* offsetof(config struct, field) */
    const char *description;   /* one or two sentences for the reference */
} lf_option;

/* Set every option to its default. */
lf_err lf_options_defaults(const lf_option *table, size_t n, void *config, lf_error *err);
/* Parse `value` for the option called `name` and store it. Unknown name: LF_ERR_NOT_FOUND. */
lf_err lf_options_set(const lf_option *table, size_t n, void *config, const char *name,
                      const char *value, lf_error *err);
/* Load a YAML file: nested mappings name sections ("spool: {max_bytes: 1GiB}" sets
 * "spool.max_bytes"); every scalar must name a known option. Errors carry path and line. */
lf_err lf_options_load_yaml(const lf_option *table, size_t n, void *config, const char *path,
                            lf_error *err);
/* Load a YAML file as a tree. An empty file gives an empty MAP. The document root must be a
 * mapping. Free with lf_cfg_free. */
lf_err lf_cfg_load_yaml(const char *path, lf_cfg_node **out, lf_error *err);
/* The same from memory (`name` labels error messages). */
lf_err lf_cfg_parse_yaml(const char *text, size_t len, const char *name, lf_cfg_node **out,
                         lf_error *err);
void lf_cfg_free(lf_cfg_node *node);
/* The value of `key` in a MAP node, or NULL. */
const lf_cfg_node *lf_cfg_get(const lf_cfg_node *map, const char *key);

/* Called by lf_options_apply for a key the table does not know (`name` is the dotted path
 * relative to the applied mapping). Return LF_OK if handled, LF_ERR_NOT_FOUND to let it be
 * reported as unknown, any other code to fail. */
typedef lf_err (*lf_cfg_unknown_fn)(void *ctx, const char *name, const lf_cfg_node *node,
                                    lf_error *err);

/* Apply a MAP node to a config: nested mappings name sections (dotted), scalars set options,
 * sequences/mappings set STRLIST/MAP options. Keys the table does not know go to `unknown`
 * (may be NULL). `path` labels errors ("agent.yaml:12: ..."); `prefix` (may be NULL or "") is
 * prepended to names in messages, e.g. "inputs[2]." */
lf_err lf_options_apply(const lf_option *table, size_t n, void *config, const lf_cfg_node *map,
                        const char *path, const char *prefix, lf_cfg_unknown_fn unknown, void *ctx,
                        lf_error *err);

/* Free the strings of a config. */
void lf_options_free(const lf_option *table, size_t n, void *config);
/* Write the Markdown reference of the table (title and intro given by the caller). */
void lf_options_write_markdown(const lf_option *table, size_t n, const char *title,
                               const char *intro, FILE *out);

/* Only the table (no title or intro): for references made of several tables. */
void lf_options_write_markdown_table(const lf_option *table, size_t n, FILE *out);
/* The option called `name`, or NULL. */
const lf_option *lf_options_find(const lf_option *table, size_t n, const char *name);
/* Append to a list / set a key of a map (copies). */
lf_err lf_strlist_add(lf_strlist *l, const char *item, size_t len, lf_error *err);
lf_err lf_strmap_set(lf_strmap *m, const char *key, const char *value, lf_error *err);
/* Free a list's items (the struct itself is the caller's) / deep-copy one. */
void lf_strlist_free(lf_strlist *l);
lf_err lf_strlist_copy(const lf_strlist *src, lf_strlist *dst, lf_error *err);

/* Parsers, exposed for command-line flags and tests. */
lf_err lf_parse_size(const char *text, uint64_t *out, lf_error *err);
lf_err lf_parse_duration_ms(const char *text, int64_t *out, lf_error *err);
lf_err lf_parse_bool(const char *text, bool *out, lf_error *err);

#endif

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
} lf_opt_type;

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
/* Free the strings of a config. */
void lf_options_free(const lf_option *table, size_t n, void *config);
/* Write the Markdown reference of the table (title and intro given by the caller). */
void lf_options_write_markdown(const lf_option *table, size_t n, const char *title,
                               const char *intro, FILE *out);

/* Parsers, exposed for command-line flags and tests. */
lf_err lf_parse_size(const char *text, uint64_t *out, lf_error *err);
lf_err lf_parse_duration_ms(const char *text, int64_t *out, lf_error *err);
lf_err lf_parse_bool(const char *text, bool *out, lf_error *err);

#endif

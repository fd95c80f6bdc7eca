/*
 * options.c — defaults, typed parsing and validation, and the Markdown reference of an
 * option table (see options.h). The YAML reader lives in options_yaml.c.
 */
#include "options.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const lf_option *find_option(const lf_option *table, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(table[i].name, name) == 0)
            return &table[i];
    return NULL;
}

/* Parse a non-negative decimal number with an optional fraction ("1.5"), then a unit. */
static lf_err parse_number_unit(const char *text, double *number, const char **unit)
{
    errno = 0;
    char *end = NULL;
    if (text[0] < '0' || text[0] > '9')
        return LF_ERR_INVALID;
    double v = strtod(text, &end);
    if (errno != 0 || end == text || v < 0)
        return LF_ERR_INVALID;
    while (*end == ' ')
        end++;
    *number = v;
    *unit = end;
    return LF_OK;
}

lf_err lf_parse_size(const char *text, uint64_t *out, lf_error *err)
{
    static const struct {
        const char *unit;
        double factor;
    } units[] = {
        {"", 1},
        {"b", 1},
        {"kib", 1024.0},
        {"kb", 1e3},
        {"k", 1024.0},
        {"mib", 1048576.0},
        {"mb", 1e6},
        {"m", 1048576.0},
        {"gib", 1073741824.0},
        {"gb", 1e9},
        {"g", 1073741824.0},
        {"tib", 1099511627776.0},
        {"tb", 1e12},
    };
    double v;
    const char *unit;
    if (parse_number_unit(text, &v, &unit) == LF_OK)
        for (size_t i = 0; i < sizeof units / sizeof *units; i++)
            if (strcasecmp(unit, units[i].unit) == 0) {
                double bytes = v * units[i].factor;
                if (bytes > 9.0e18)
                    break;
                *out = (uint64_t)bytes;
                return LF_OK;
            }
    return lf_error_set(err, LF_ERR_INVALID,
                        "'%s' is not a size (examples: 1048576, 512KiB, 10MiB, 1GiB)", text);
}

lf_err lf_parse_duration_ms(const char *text, int64_t *out, lf_error *err)
{
    static const struct {
        const char *unit;
        double ms;
    } units[] = {{"ms", 1}, {"s", 1e3}, {"m", 6e4}, {"h", 3.6e6}, {"d", 8.64e7}};
    double v;
    const char *unit;
    if (parse_number_unit(text, &v, &unit) == LF_OK)
        for (size_t i = 0; i < sizeof units / sizeof *units; i++)
            if (strcmp(unit, units[i].unit) == 0 && v * units[i].ms < 9.0e15) {
                *out = (int64_t)(v * units[i].ms);
                return LF_OK;
            }
    return lf_error_set(err, LF_ERR_INVALID,
                        "'%s' is not a duration (examples: 250ms, 5s, 2m, 1h, 7d)", text);
}

lf_err lf_parse_bool(const char *text, bool *out, lf_error *err)
{
    static const char *const yes[] = {"true", "yes", "on", "1"};
    static const char *const no[] = {"false", "no", "off", "0"};
    for (size_t i = 0; i < 4; i++) {
        if (strcasecmp(text, yes[i]) == 0) {
            *out = true;
            return LF_OK;
        }
        if (strcasecmp(text, no[i]) == 0) {
            *out = false;
            return LF_OK;
        }
    }
    return lf_error_set(err, LF_ERR_INVALID, "'%s' is not a boolean (true or false)", text);
}

static lf_err parse_int(const char *text, int64_t *out, lf_error *err)
{
    errno = 0;
    char *end = NULL;
    long long v = strtoll(text, &end, 10);
    if (errno != 0 || end == text || *end != '\0')
        return lf_error_set(err, LF_ERR_INVALID, "'%s' is not an integer", text);
    *out = v;
    return LF_OK;
}

static bool enum_allows(const char *choices, const char *value)
{
    size_t len = strlen(value);
    for (const char *p = choices; *p;) {
        const char *bar = strchr(p, '|');
        size_t n = bar ? (size_t)(bar - p) : strlen(p);
        if (n == len && strncmp(p, value, n) == 0)
            return true;
        p += n + (bar ? 1 : 0);
    }
    return false;
}

static lf_err check_bounds(const lf_option *o, int64_t v, lf_error *err)
{
    if ((o->min != 0 || o->max != 0) && (v < o->min || v > o->max))
        return lf_error_set(err, LF_ERR_INVALID, "%s: %" PRId64 " is outside %" PRId64 "..%" PRId64,
                            o->name, v, o->min, o->max);
    return LF_OK;
}

void lf_strlist_free(lf_strlist *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->items[i]);
    free(l->items);
    l->items = NULL;
    l->n = 0;
}

lf_err lf_strlist_copy(const lf_strlist *src, lf_strlist *dst, lf_error *err)
{
    *dst = (lf_strlist){0};
    for (size_t i = 0; i < src->n; i++)
        if (lf_strlist_add(dst, src->items[i], strlen(src->items[i]), err) != LF_OK) {
            lf_strlist_free(dst);
            return LF_ERR_NOMEM;
        }
    return LF_OK;
}

static void strmap_clear(lf_strmap *m)
{
    for (size_t i = 0; i < m->n; i++) {
        free(m->keys[i]);
        free(m->values[i]);
    }
    free(m->keys);
    free(m->values);
    m->keys = m->values = NULL;
    m->n = 0;
}

lf_err lf_strlist_add(lf_strlist *l, const char *item, size_t len, lf_error *err)
{
    char **grown = realloc(l->items, (l->n + 1) * sizeof *grown);
    if (grown == NULL)
        return lf_error_set(err, LF_ERR_NOMEM, "out of memory");
    l->items = grown;
    if ((l->items[l->n] = strndup(item, len)) == NULL)
        return lf_error_set(err, LF_ERR_NOMEM, "out of memory");
    l->n++;
    return LF_OK;
}

lf_err lf_strmap_set(lf_strmap *m, const char *key, const char *value, lf_error *err)
{
    for (size_t i = 0; i < m->n; i++)
        if (strcmp(m->keys[i], key) == 0) {
            char *v = strdup(value);
            if (v == NULL)
                return lf_error_set(err, LF_ERR_NOMEM, "out of memory");
            free(m->values[i]);
            m->values[i] = v;
            return LF_OK;
        }
    char **k = realloc(m->keys, (m->n + 1) * sizeof *k);
    if (k)
        m->keys = k;
    char **v = realloc(m->values, (m->n + 1) * sizeof *v);
    if (v)
        m->values = v;
    if (k == NULL || v == NULL)
        return lf_error_set(err, LF_ERR_NOMEM, "out of memory");
    m->keys[m->n] = strdup(key);
    m->values[m->n] = strdup(value);
    if (m->keys[m->n] == NULL || m->values[m->n] == NULL) {
        free(m->keys[m->n]);
        free(m->values[m->n]);
        return lf_error_set(err, LF_ERR_NOMEM, "out of memory");
    }
    m->n++;
    return LF_OK;
}

/* "a\nb" -> [a, b] (the default_value form of a list; also a scalar given for a list). */
static lf_err store_list_text(const lf_option *o, lf_strlist *l, const char *value, lf_error *err)
{
    lf_strlist_free(l);
    for (const char *p = value; *p;) {
        const char *nl = strchr(p, '\n');
        size_t n = nl ? (size_t)(nl - p) : strlen(p);
        if (n > 0 && lf_strlist_add(l, p, n, err) != LF_OK)
            return lf_error_set(err, LF_ERR_NOMEM, "%s: out of memory", o->name);
        p += n + (nl ? 1 : 0);
    }
    return LF_OK;
}

/* "k=v\nk2=v2" -> map. */
static lf_err store_map_text(const lf_option *o, lf_strmap *m, const char *value, lf_error *err)
{
    strmap_clear(m);
    for (const char *p = value; *p;) {
        const char *nl = strchr(p, '\n');
        size_t n = nl ? (size_t)(nl - p) : strlen(p);
        const char *eq = memchr(p, '=', n);
        if (n > 0) {
            if (eq == NULL || eq == p)
                return lf_error_set(err, LF_ERR_INVALID, "%s: '%.*s' is not key=value", o->name,
                                    (int)(n > 64 ? 64 : n), p);
            char *k = strndup(p, (size_t)(eq - p));
            char *v = strndup(eq + 1, n - (size_t)(eq - p) - 1);
            lf_err rc = (k && v) ? lf_strmap_set(m, k, v, err)
                                 : lf_error_set(err, LF_ERR_NOMEM, "out of memory");
            free(k);
            free(v);
            if (rc != LF_OK)
                return rc;
        }
        p += n + (nl ? 1 : 0);
    }
    return LF_OK;
}

static lf_err store_value(const lf_option *o, void *config, const char *value, lf_error *err)
{
    char *field = (char *)config + o->offset;
    lf_error inner = {0};
    lf_err rc = LF_OK;
    switch (o->type) {
    case LF_OPT_ENUM:
        if (!enum_allows(o->choices, value))
            return lf_error_set(err, LF_ERR_INVALID, "%s: '%s' is not one of %s", o->name, value,
                                o->choices);
        /* fall through */
    case LF_OPT_STRING: {
        char *copy = strdup(value);
        if (copy == NULL)
            return lf_error_set(err, LF_ERR_NOMEM, "%s: out of memory", o->name);
        free(*(char **)field);
        *(char **)field = copy;
        return LF_OK;
    }
    case LF_OPT_STRLIST:
        return store_list_text(o, (lf_strlist *)field, value, err);
    case LF_OPT_MAP:
        return store_map_text(o, (lf_strmap *)field, value, err);
    case LF_OPT_BOOL:
        rc = lf_parse_bool(value, (bool *)field, &inner);
        break;
    case LF_OPT_INT: {
        int64_t v = 0;
        rc = parse_int(value, &v, &inner);
        if (rc == LF_OK && (rc = check_bounds(o, v, err)) != LF_OK)
            return rc;
        if (rc == LF_OK)
            *(int64_t *)field = v;
        break;
    }
    case LF_OPT_SIZE: {
        uint64_t v = 0;
        rc = lf_parse_size(value, &v, &inner);
        if (rc == LF_OK && (rc = check_bounds(o, (int64_t)v, err)) != LF_OK)
            return rc;
        if (rc == LF_OK)
            *(uint64_t *)field = v;
        break;
    }
    case LF_OPT_DURATION: {
        int64_t v = 0;
        rc = lf_parse_duration_ms(value, &v, &inner);
        if (rc == LF_OK && (rc = check_bounds(o, v, err)) != LF_OK)
            return rc;
        if (rc == LF_OK)
            *(int64_t *)field = v;
        break;
    }
    }
    if (rc != LF_OK)
        return lf_error_set(err, rc, "%s: %s", o->name, inner.message);
    return LF_OK;
}

lf_err lf_options_defaults(const lf_option *table, size_t n, void *config, lf_error *err)
{
    for (size_t i = 0; i < n; i++) {
        const char *d = table[i].default_value;
        if (d == NULL)
            d = (table[i].type == LF_OPT_INT || table[i].type == LF_OPT_BOOL ||
                 table[i].type == LF_OPT_SIZE || table[i].type == LF_OPT_DURATION)
                    ? "0"
                    : "";
        lf_err rc = store_value(&table[i], config, d, err);
        if (rc != LF_OK)
            return rc;
    }
    return LF_OK;
}

lf_err lf_options_set(const lf_option *table, size_t n, void *config, const char *name,
                      const char *value, lf_error *err)
{
    const lf_option *o = find_option(table, n, name);
    if (o == NULL)
        return lf_error_set(err, LF_ERR_NOT_FOUND, "unknown option '%s'", name);
    return store_value(o, config, value, err);
}

void lf_options_free(const lf_option *table, size_t n, void *config)
{
    for (size_t i = 0; i < n; i++) {
        void *field = (char *)config + table[i].offset;
        if (table[i].type == LF_OPT_STRING || table[i].type == LF_OPT_ENUM) {
            free(*(char **)field);
            *(char **)field = NULL;
        } else if (table[i].type == LF_OPT_STRLIST) {
            lf_strlist_free(field);
        } else if (table[i].type == LF_OPT_MAP) {
            strmap_clear(field);
        }
    }
}

const lf_option *lf_options_find(const lf_option *table, size_t n, const char *name)
{
    return find_option(table, n, name);
}

static const char *type_name(const lf_option *o)
{
    switch (o->type) {
    case LF_OPT_STRING:
        return "string";
    case LF_OPT_INT:
        return "integer";
    case LF_OPT_BOOL:
        return "boolean";
    case LF_OPT_SIZE:
        return "size";
    case LF_OPT_DURATION:
        return "duration";
    case LF_OPT_ENUM:
        return "one of";
    case LF_OPT_STRLIST:
        return "list of strings";
    case LF_OPT_MAP:
        return "map of strings";
    }
    return "?";
}

void lf_options_write_markdown(const lf_option *table, size_t n, const char *title,
                               const char *intro, FILE *out)
{
    fprintf(out, "# %s\n\n%s\n\n", title, intro);
    fprintf(out, "Sizes accept `1048576`, `512KiB`, `10MiB`, `1GiB` (`KB`/`MB`/`GB` are powers "
                 "of ten); durations accept `250ms`, `5s`, `2m`, `1h`, `7d`. Nested YAML "
                 "mappings name sections: `spool: {max_bytes: 1GiB}` sets `spool.max_bytes`. "
                 "Unknown keys are errors.\n\n");
    lf_options_write_markdown_table(table, n, out);
}

void lf_options_write_markdown_table(const lf_option *table, size_t n, FILE *out)
{
    fprintf(out, "| option | type | default | description |\n|---|---|---|---|\n");
    for (size_t i = 0; i < n; i++) {
        const lf_option *o = &table[i];
        fprintf(out, "| `%s` | %s", o->name, type_name(o));
        if (o->type == LF_OPT_ENUM) {
            /* A bare '|' would end the table cell, even inside a code span. */
            fputs(" `", out);
            for (const char *p = o->choices; *p; p++)
                fputs(*p == '|' ? "\\|" : (char[]){*p, '\0'}, out);
            fputs("`", out);
        }
        if ((o->min != 0 || o->max != 0) && o->type == LF_OPT_INT)
            fprintf(out, " (%" PRId64 "..%" PRId64 ")", o->min, o->max);
        fputs(" | ", out);
        if (o->default_value && *o->default_value) {
            /* A list or map default shows one code span per item: `a`, `b`. */
            fputc('`', out);
            for (const char *p = o->default_value; *p; p++) {
                if (*p == '\n')
                    fputs("`, `", out);
                else if (*p == '|')
                    fputs("\\|", out);
                else
                    fputc(*p, out);
            }
            fputc('`', out);
        } else {
            fputs("—", out);
        }
        fprintf(out, " | %s |\n", o->description);
    }
}

/*
 * options_yaml.c — reads a YAML configuration file against an option table with libyaml's
 * event parser. Mappings nest into dotted names; every scalar value must belong to a known
 * option. Sequences, anchors and aliases are refused: a configuration should read the same to
 * a person as to the program.
 */
#include "options.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <yaml.h>

#define MAX_DEPTH    8
#define MAX_NAME_LEN 256

typedef struct yaml_state {
    char prefix[MAX_DEPTH][MAX_NAME_LEN]; /* key path of each open mapping */
    int depth;                            /* open mappings below the document root */
    char key[MAX_NAME_LEN];               /* pending key awaiting its value */
    bool have_key;
} yaml_state;

static lf_err join_name(const yaml_state *st, char *out, size_t cap, const char *path, size_t line,
                        lf_error *err)
{
    out[0] = '\0';
    for (int i = 0; i <= st->depth; i++) {
        if (st->prefix[i][0] == '\0')
            continue;
        strncat(out, st->prefix[i], cap - strlen(out) - 1);
        strncat(out, ".", cap - strlen(out) - 1);
    }
    if (strlen(out) + strlen(st->key) + 1 > cap)
        return lf_error_set(err, LF_ERR_INVALID, "%s:%zu: key path too long", path, line);
    strcat(out, st->key);
    return LF_OK;
}

static lf_err on_scalar(const lf_option *table, size_t n, void *config, yaml_state *st,
                        const yaml_event_t *ev, const char *path, lf_error *err)
{
    const char *text = (const char *)ev->data.scalar.value;
    size_t line = ev->start_mark.line + 1;
    if (!st->have_key) {
        if (strlen(text) == 0 || strlen(text) >= MAX_NAME_LEN)
            return lf_error_set(err, LF_ERR_INVALID, "%s:%zu: invalid key '%.64s'", path, line,
                                text);
        strcpy(st->key, text);
        st->have_key = true;
        return LF_OK;
    }
    char name[MAX_NAME_LEN * 2];
    lf_err rc = join_name(st, name, sizeof name, path, line, err);
    if (rc != LF_OK)
        return rc;
    st->have_key = false;
    lf_error inner = {0};
    rc = lf_options_set(table, n, config, name, text, &inner);
    if (rc != LF_OK)
        return lf_error_set(err, rc == LF_ERR_NOT_FOUND ? LF_ERR_INVALID : rc, "%s:%zu: %s", path,
                            line, inner.message);
    return LF_OK;
}

lf_err lf_options_load_yaml(const lf_option *table, size_t n, void *config, const char *path,
                            lf_error *err)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return lf_error_set(err, LF_ERR_IO, "%s: %s", path, strerror(errno));
    yaml_parser_t parser;
    yaml_event_t ev;
    yaml_state st;
    memset(&st, 0, sizeof st);
    st.depth = -1;
    yaml_parser_initialize(&parser);
    yaml_parser_set_input_file(&parser, f);
    lf_err rc = LF_OK;
    bool done = false;
    while (!done && rc == LF_OK) {
        if (!yaml_parser_parse(&parser, &ev)) {
            rc = lf_error_set(err, LF_ERR_INVALID, "%s:%zu: %s", path, parser.problem_mark.line + 1,
                              parser.problem ? parser.problem : "YAML syntax error");
            break;
        }
        size_t line = ev.start_mark.line + 1;
        switch (ev.type) {
        case YAML_STREAM_END_EVENT:
            done = true;
            break;
        case YAML_MAPPING_START_EVENT:
            if (st.depth + 1 >= MAX_DEPTH) {
                rc = lf_error_set(err, LF_ERR_INVALID, "%s:%zu: nested too deeply", path, line);
                break;
            }
            if (st.depth >= 0 && !st.have_key) {
                rc = lf_error_set(err, LF_ERR_INVALID, "%s:%zu: a mapping cannot be a key", path,
                                  line);
                break;
            }
            st.depth++;
            strcpy(st.prefix[st.depth], st.depth == 0 ? "" : st.key);
            st.have_key = false;
            break;
        case YAML_MAPPING_END_EVENT:
            st.depth--;
            break;
        case YAML_SCALAR_EVENT:
            if (st.depth < 0) {
                /* An empty file or a bare scalar document: only empty is acceptable. */
                if (ev.data.scalar.length != 0)
                    rc = lf_error_set(err, LF_ERR_INVALID, "%s:%zu: expected a mapping of options",
                                      path, line);
                break;
            }
            rc = on_scalar(table, n, config, &st, &ev, path, err);
            break;
        case YAML_SEQUENCE_START_EVENT:
            rc = lf_error_set(err, LF_ERR_INVALID, "%s:%zu: lists are not supported here", path,
                              line);
            break;
        case YAML_ALIAS_EVENT:
            rc = lf_error_set(err, LF_ERR_INVALID, "%s:%zu: aliases are not supported", path, line);
            break;
        default:
            break;
        }
        yaml_event_delete(&ev);
    }
    yaml_parser_delete(&parser);
    fclose(f);
    return rc;
}

/*
 * json.c — the json parser: one JSON object per record. The message, level and time come from
 * configured (or conventional) members; with keep_fields the other top-level scalars become
 * labels. Also the bounded JSON loading the nginx parser shares.
 *
 * The text is checked for nesting depth by a linear scan before jansson parses it: jansson's
 * parser recurses per level (up to 2048), and the agent's threads need not have that much stack
 * to spare for one hostile line. Nothing is written into the event until the text has parsed,
 * so on LF_ERR_INVALID the caller still has the record as the input gave it.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parser_int.h"

/* Deepest nesting of the JSON text, counting only brackets outside strings; stops (returning
 * a value > limit) as soon as the limit is passed. */
static size_t json_depth(const char *s, size_t len, size_t limit)
{
    size_t depth = 0, max = 0;
    bool in_str = false;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (in_str) {
            if (c == '\\')
                i++;
            else if (c == '"')
                in_str = false;
        } else if (c == '"') {
            in_str = true;
        } else if (c == '{' || c == '[') {
            if (++depth > max && (max = depth) > limit)
                return max;
        } else if ((c == '}' || c == ']') && depth > 0) {
            depth--;
        }
    }
    return max;
}

json_t *lf_p_json_load_object(const char *data, size_t len, const char *what, lf_error *err)
{
    size_t i = 0;
    while (i < len && lf_p_space(data[i]))
        i++;
    if (i == len || data[i] != '{') {
        lf_error_set(err, LF_ERR_INVALID, "%s: not a JSON object", what);
        return NULL;
    }
    if (len > LF_PARSE_MAX_JSON) {
        lf_error_set(err, LF_ERR_INVALID, "%s: %zu bytes exceed the %u-byte JSON limit", what, len,
                     (unsigned)LF_PARSE_MAX_JSON);
        return NULL;
    }
    if (json_depth(data, len, LF_PARSE_MAX_DEPTH) > LF_PARSE_MAX_DEPTH) {
        lf_error_set(err, LF_ERR_INVALID, "%s: JSON nested deeper than %d levels", what,
                     LF_PARSE_MAX_DEPTH);
        return NULL;
    }
    json_error_t jerr;
    json_t *root = json_loadb(data, len, JSON_ALLOW_NUL, &jerr);
    if (root == NULL) {
        /* jerr.text may quote the input: report the position only. */
        lf_error_set(err, LF_ERR_INVALID, "%s: invalid JSON at byte %d", what, jerr.position);
        return NULL;
    }
    if (!json_is_object(root)) {
        json_decref(root);
        lf_error_set(err, LF_ERR_INVALID, "%s: not a JSON object", what);
        return NULL;
    }
    return root;
}

bool lf_p_json_scalar(const json_t *v, char *tmp, size_t tmp_cap, const char **s, size_t *n)
{
    int w;
    switch (json_typeof(v)) {
    case JSON_STRING:
        *s = json_string_value(v);
        *n = json_string_length(v);
        return true;
    case JSON_INTEGER:
        w = snprintf(tmp, tmp_cap, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        break;
    case JSON_REAL:
        w = snprintf(tmp, tmp_cap, "%.17g", json_real_value(v));
        break;
    case JSON_TRUE:
        w = snprintf(tmp, tmp_cap, "true");
        break;
    case JSON_FALSE:
        w = snprintf(tmp, tmp_cap, "false");
        break;
    default:
        return false;
    }
    if (w < 0 || (size_t)w >= tmp_cap)
        return false;
    *s = tmp;
    *n = (size_t)w;
    return true;
}

int lf_p_json_level(const json_t *v)
{
    if (json_is_string(v))
        return lf_level_parse(json_string_value(v), json_string_length(v));
    if (json_is_integer(v)) {
        char tmp[32];
        int w = snprintf(tmp, sizeof tmp, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        return w > 0 && (size_t)w < sizeof tmp ? lf_level_parse(tmp, (size_t)w) : 0;
    }
    return 0;
}

bool lf_p_json_time(const json_t *v, const char *format, int64_t *ns_out)
{
    if (json_is_string(v))
        return lf_parse_time(json_string_value(v), json_string_length(v), format, ns_out, NULL) ==
               LF_OK;
    /* A number is a Unix time; a strptime pattern cannot describe it, so it is read by
     * magnitude unless the format names a unit. */
    if (format && format[0] && strncmp(format, "unix", 4) != 0)
        format = NULL;
    char tmp[48];
    int w;
    if (json_is_integer(v)) {
        w = snprintf(tmp, sizeof tmp, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
    } else if (json_is_real(v)) {
        double d = json_real_value(v);
        /* A double holds ~16 significant digits: microseconds of a 2020s epoch in seconds. */
        if (!(d >= 0 && d < 1e19))
            return false;
        w = snprintf(tmp, sizeof tmp, "%.6f", d);
    } else {
        return false;
    }
    if (w <= 0 || (size_t)w >= sizeof tmp)
        return false;
    return lf_parse_time(tmp, (size_t)w, format, ns_out, NULL) == LF_OK;
}

/* The member named `key` (configured), else the first present of the defaults. */
static json_t *member(json_t *root, const char *key, const char *const *defaults,
                      const char **name_out)
{
    if (key && key[0]) {
        *name_out = key;
        return json_object_get(root, key);
    }
    for (; *defaults; defaults++) {
        json_t *v = json_object_get(root, *defaults);
        if (v) {
            *name_out = *defaults;
            return v;
        }
    }
    return NULL;
}

/* The message member's text, unless it is null (then the whole record is the message). */
static lf_err set_message(lf_agent_event *ev, json_t *v, lf_error *err)
{
    if (json_is_string(v)) {
        const char *s = json_string_value(v);
        size_t n = json_string_length(v);
        /* A line-oriented producer's trailing newline is framing, not text. */
        if (n > 0 && s[n - 1] == '\n')
            n--;
        if (n > 0 && s[n - 1] == '\r')
            n--;
        return lf_agent_event_set_message_copy(ev, s, n, err);
    }
    char tmp[48];
    const char *s;
    size_t n;
    if (lf_p_json_scalar(v, tmp, sizeof tmp, &s, &n))
        return lf_agent_event_set_message_copy(ev, s, n, err);
    char *dump = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
    if (dump == NULL)
        return lf_error_set(err, LF_ERR_NOMEM, "json: out of memory");
    lf_err rc = lf_agent_event_set_message_copy(ev, dump, strlen(dump), err);
    free(dump);
    return rc;
}

lf_err lf_parse_json(const lf_parser_config *cfg, const char *data, size_t len, lf_agent_event *ev,
                     lf_error *err)
{
    static const char *const message_keys[] = {"message", "msg", "log", NULL};
    static const char *const level_keys[] = {"level", "severity", "lvl", NULL};
    static const char *const time_keys[] = {"time", "ts", "timestamp", "@timestamp", NULL};
    static const lf_parser_config defaults = {0};
    if (cfg == NULL)
        cfg = &defaults;
    json_t *root = lf_p_json_load_object(data, len, "json", err);
    if (root == NULL)
        return LF_ERR_INVALID;
    const char *mname = NULL, *lname = NULL, *tname = NULL;
    json_t *mval = member(root, cfg->message_key, message_keys, &mname);
    json_t *lval = member(root, cfg->level_key, level_keys, &lname);
    json_t *tval = member(root, cfg->time_key, time_keys, &tname);
    int level = lval ? lf_p_json_level(lval) : 0;
    int64_t ts = 0;
    bool have_ts = tval && lf_p_json_time(tval, cfg->time_format, &ts);

    lf_err rc = LF_OK;
    if (mval && !json_is_null(mval)) {
        rc = set_message(ev, mval, err);
        if (rc != LF_OK)
            goto out;
    } else {
        ev->message = data;
        ev->message_len = len;
    }
    if (level)
        ev->level = level;
    if (have_ts)
        ev->ts_ns = ts;
    if (cfg->keep_fields) {
        const char *key;
        json_t *v;
        json_object_foreach(root, key, v)
        {
            /* Members that became the message, level or time are not repeated as labels;
             * ones that did not parse (a level "verbose") are kept as labels. */
            if (v == mval || (v == lval && level) || (v == tval && have_ts))
                continue;
            char tmp[48];
            const char *s;
            size_t n;
            if (!lf_p_json_scalar(v, tmp, sizeof tmp, &s, &n))
                continue;
            if (!lf_agent_event_set_label(ev, key, strlen(key), s, n) &&
                ev->n_labels >= LF_AGENT_EVENT_MAX_LABELS)
                break;
        }
    }
out:
    json_decref(root);
    return rc;
}

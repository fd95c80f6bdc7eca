/*
 * socket_message.c — one agent-socket line to records (see socket_message.h).
 *
 * Validation happens whole at decode time, before any record is handed out, so that a batch
 * is taken or refused as one; the per-record conversion afterwards cannot fail. Times are
 * parsed once, while validating, and kept in m->ts.
 */
#include "socket_message.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parser.h"

/* The first of the names that is present in obj, or NULL. */
static json_t *member(const json_t *obj, const char *a, const char *b)
{
    json_t *v = json_object_get(obj, a);
    if (!v && b)
        v = json_object_get(obj, b);
    return v;
}

static lf_err entry_error(lf_error *err, long idx, const char *what)
{
    if (idx < 0)
        return lf_error_set(err, LF_ERR_INVALID, "%s", what);
    return lf_error_set(err, LF_ERR_INVALID, "entries[%ld]: %s", idx, what);
}

/* A time given as a JSON number: Unix seconds/ms/us/ns by magnitude, like the parser's
 * auto mode (which is given the number's text). */
static lf_err number_time(const json_t *v, int64_t *ns, lf_error *err)
{
    char text[64];
    if (json_is_integer(v))
        snprintf(text, sizeof text, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
    else
        snprintf(text, sizeof text, "%.6f", json_real_value(v));
    return lf_parse_time(text, strlen(text), NULL, ns, err);
}

static lf_err check_time(const json_t *e, long idx, int64_t *ts, lf_error *err)
{
    *ts = 0;
    json_t *v = member(e, "timestamp", "ts");
    if (!v || json_is_null(v))
        return LF_OK;
    lf_error perr = {0};
    lf_err r;
    if (json_is_string(v))
        r = lf_parse_time(json_string_value(v), json_string_length(v), NULL, ts, &perr);
    else if (json_is_number(v))
        r = number_time(v, ts, &perr);
    else
        r = LF_ERR_INVALID;
    if (r != LF_OK)
        return entry_error(err, idx, "timestamp is not an RFC 3339 time (or Unix time number)");
    return LF_OK;
}

static bool is_level_number(const json_t *v)
{
    return json_is_integer(v) && json_integer_value(v) >= 1 && json_integer_value(v) <= 8;
}

static lf_err check_labels(const json_t *labels, long idx, lf_error *err)
{
    if (!labels || json_is_null(labels))
        return LF_OK;
    if (!json_is_object(labels))
        return entry_error(err, idx, "metadata/labels must be an object");
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)labels, k, v)
    {
        if (!json_is_string(v) && !json_is_number(v) && !json_is_boolean(v) && !json_is_null(v))
            return entry_error(err, idx, "metadata/labels values must be strings");
    }
    return LF_OK;
}

static lf_err check_entry(const json_t *e, long idx, int64_t *ts, lf_error *err)
{
    if (!json_is_object(e))
        return entry_error(err, idx, "an entry must be a JSON object");
    json_t *msg = member(e, "payload", "message");
    if (!json_is_string(msg) || json_string_length(msg) == 0)
        return entry_error(err, idx, "payload (or message) must be a non-empty string");
    if (json_string_length(msg) > LF_PAYLOAD_MAX_MESSAGE)
        return entry_error(err, idx, "payload exceeds 1 MiB");
    json_t *v = json_object_get(e, "logLevel");
    if (v && !json_is_null(v) && !is_level_number(v))
        return entry_error(err, idx, "logLevel must be an integer 1..8");
    v = json_object_get(e, "level");
    if (v && !json_is_null(v) && !is_level_number(v) && !json_is_string(v))
        return entry_error(err, idx, "level must be 1..8 or a level name");
    v = json_object_get(e, "entryType");
    if (v && !json_is_null(v) &&
        !(json_is_integer(v) && json_integer_value(v) >= 1 && json_integer_value(v) <= 7))
        return entry_error(err, idx, "entryType must be an integer 1..7");
    static const char *const strings[] = {"source", "logger", "version", "payloadType"};
    for (size_t i = 0; i < sizeof strings / sizeof strings[0]; i++) {
        v = json_object_get(e, strings[i]);
        if (v && !json_is_null(v) && !json_is_string(v)) {
            char what[64];
            snprintf(what, sizeof what, "%s must be a string", strings[i]);
            return entry_error(err, idx, what);
        }
    }
    lf_err r = check_labels(json_object_get(e, "metadata"), idx, err);
    if (r == LF_OK)
        r = check_labels(member(e, "labels", "attributes"), idx, err);
    if (r == LF_OK)
        r = check_time(e, idx, ts, err);
    return r;
}

static lf_err decode_action(lf_socket_message *m, const json_t *action, lf_error *err)
{
    const char *a = json_string_value(action);
    if (!a)
        return lf_error_set(err, LF_ERR_INVALID, "action must be a string");
    if (strcmp(a, "ping") == 0) {
        m->kind = LF_SOCKET_MSG_PING;
        return LF_OK;
    }
    if (strcmp(a, "authenticate") == 0) {
        m->kind = LF_SOCKET_MSG_AUTH;
        return LF_OK;
    }
    return lf_error_set(err, LF_ERR_INVALID, "unknown action (expected ping or authenticate)");
}

static lf_err decode_batch(lf_socket_message *m, json_t *entries, lf_error *err)
{
    if (!json_is_array(entries))
        return lf_error_set(err, LF_ERR_INVALID, "entries must be an array");
    size_t n = json_array_size(entries);
    if (n == 0)
        return lf_error_set(err, LF_ERR_INVALID, "entries is empty");
    if (n > LF_SOCKET_MAX_BATCH)
        return lf_error_set(err, LF_ERR_TOO_LARGE, "a batch holds at most %d entries",
                            LF_SOCKET_MAX_BATCH);
    m->ts = calloc(n, sizeof *m->ts);
    if (!m->ts)
        return lf_error_set(err, LF_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < n; i++) {
        lf_err r = check_entry(json_array_get(entries, i), (long)i, &m->ts[i], err);
        if (r != LF_OK)
            return r;
    }
    m->kind = LF_SOCKET_MSG_ENTRIES;
    m->entries = entries;
    m->n = n;
    return LF_OK;
}

lf_err lf_socket_message_decode(const char *line, size_t len, lf_socket_message *m, lf_error *err)
{
    memset(m, 0, sizeof *m);
    json_error_t jerr;
    m->root = json_loadb(line, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!m->root)
        return lf_error_set(err, LF_ERR_INVALID, "invalid JSON at byte %d", jerr.position);
    lf_err r;
    json_t *v;
    if (!json_is_object(m->root)) {
        r = lf_error_set(err, LF_ERR_INVALID, "a line must be a JSON object");
    } else if ((v = json_object_get(m->root, "action"))) {
        r = decode_action(m, v, err);
    } else if ((v = json_object_get(m->root, "entries"))) {
        r = decode_batch(m, v, err);
    } else if ((r = check_entry(m->root, -1, &m->ts_one, err)) == LF_OK) {
        m->kind = LF_SOCKET_MSG_ENTRIES;
        m->n = 1;
    }
    if (r != LF_OK)
        lf_socket_message_free(m);
    return r;
}

static bool set_label_value(lf_agent_event *ev, const char *k, const json_t *v)
{
    char text[64];
    const char *s = text;
    size_t len;
    if (json_is_string(v)) {
        s = json_string_value(v);
        len = json_string_length(v);
    } else if (json_is_integer(v)) {
        len = (size_t)snprintf(text, sizeof text, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
    } else if (json_is_real(v)) {
        len = (size_t)snprintf(text, sizeof text, "%.17g", json_real_value(v));
    } else if (json_is_boolean(v)) {
        s = json_is_true(v) ? "true" : "false";
        len = strlen(s);
    } else {
        return true; /* null: absent */
    }
    return lf_agent_event_set_label(ev, k, strlen(k), s, len);
}

static size_t copy_labels(lf_agent_event *ev, const json_t *labels)
{
    size_t dropped = 0;
    const char *k;
    json_t *v;
    if (!json_is_object(labels))
        return 0;
    json_object_foreach((json_t *)labels, k, v)
    {
        if (!set_label_value(ev, k, v))
            dropped++;
    }
    return dropped;
}

size_t lf_socket_message_entry(const lf_socket_message *m, size_t i, lf_agent_event *ev)
{
    const json_t *e = m->entries ? json_array_get(m->entries, i) : m->root;
    json_t *msg = member(e, "payload", "message");
    ev->message = json_string_value(msg);
    ev->message_len = json_string_length(msg);
    ev->ts_ns = m->ts ? m->ts[i] : m->ts_one;
    json_t *v = member(e, "logLevel", "level");
    if (is_level_number(v))
        ev->level = (int)json_integer_value(v);
    else if (json_is_string(v))
        ev->level = lf_level_parse(json_string_value(v), json_string_length(v));
    if ((v = json_object_get(e, "source")) && json_is_string(v))
        lf_agent_event_set_source(ev, json_string_value(v), json_string_length(v));
    if ((v = json_object_get(e, "logger")) && json_is_string(v))
        lf_agent_event_set_logger(ev, json_string_value(v), json_string_length(v));
    size_t dropped = copy_labels(ev, json_object_get(e, "metadata"));
    dropped += copy_labels(ev, member(e, "labels", "attributes"));
    v = json_object_get(e, "entryType");
    if (json_is_integer(v) && json_integer_value(v) != LF_ENTRY_LOG) {
        /* Sent as a log all the same; keep what the client called it. */
        const char *name = lf_entry_type_name((int)json_integer_value(v));
        if (name && !lf_agent_event_set_label(ev, "entry_type", 10, name, strlen(name)))
            dropped++;
    }
    return dropped;
}

void lf_socket_message_free(lf_socket_message *m)
{
    free(m->ts);
    json_decref(m->root);
    memset(m, 0, sizeof *m);
}

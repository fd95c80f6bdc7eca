/*
 * docker.c — Docker's json-file log line:
 *
 *     {"log":"the message\n","stream":"stderr","time":"2024-01-02T03:04:05.123456789Z"}
 *
 * optionally with "attrs":{"key":"value",...} (the log driver's labels/env options). The log
 * text is JSON-escaped, so it is unescaped (jansson) into the event's message_buf. Docker
 * splits lines longer than 16 KiB into several JSON lines: only the last piece ends in '\n',
 * so a log text without one is flagged partial (the input joins the pieces). The final '\n'
 * is not part of the message. Everything is checked before the event is written, so a line
 * that is not in this format leaves the event as it was given (parser.h).
 */
#include <jansson.h>
#include <string.h>

#include "parser.h"

/* Longest stream name taken as a label; Docker writes only stdout and stderr. */
#define DOCKER_MAX_STREAM 16

lf_err lf_parse_docker(const char *data, size_t len, lf_agent_event *ev, lf_error *err)
{
    if (!data || !ev)
        return lf_error_set(err, LF_ERR_INVALID, "docker: NULL argument");
    /* Cheap refusal before jansson: the object must open the line. */
    size_t i = 0;
    while (i < len && (data[i] == ' ' || data[i] == '\t'))
        i++;
    if (i == len || data[i] != '{')
        return lf_error_set(err, LF_ERR_INVALID, "docker: not a JSON object");
    json_error_t jerr;
    json_t *root = json_loadb(data, len, JSON_ALLOW_NUL, &jerr);
    if (!root)
        return lf_error_set(err, LF_ERR_INVALID, "docker: bad JSON at column %d", jerr.column);
    lf_err e = LF_OK;
    json_t *log = json_object_get(root, "log");
    json_t *stream = json_object_get(root, "stream");
    json_t *jtime = json_object_get(root, "time");
    json_t *attrs = json_object_get(root, "attrs");
    if (!json_is_object(root) || !json_is_string(log)) {
        e = lf_error_set(err, LF_ERR_INVALID, "docker: no \"log\" string");
        goto out;
    }
    int64_t ts = 0;
    if (json_is_string(jtime) && lf_parse_time(json_string_value(jtime), json_string_length(jtime),
                                               "rfc3339", &ts, NULL) != LF_OK)
        ts = 0; /* keep the line; the pipeline uses the read time */
    const char *text = json_string_value(log);
    size_t text_len = json_string_length(log);
    bool partial = true;
    if (text_len > 0 && text[text_len - 1] == '\n') {
        text_len--;
        partial = false;
    }
    if ((e = lf_agent_event_set_message_copy(ev, text, text_len, err)) != LF_OK)
        goto out;
    ev->ts_ns = ts;
    ev->partial = partial;
    if (json_is_string(stream) && json_string_length(stream) > 0 &&
        json_string_length(stream) <= DOCKER_MAX_STREAM)
        lf_agent_event_set_label(ev, "stream", 6, json_string_value(stream),
                                 json_string_length(stream));
    if (json_is_object(attrs)) {
        const char *key;
        json_t *value;
        json_object_foreach(attrs, key, value)
        {
            if (json_is_string(value))
                lf_agent_event_set_label(ev, key, strlen(key), json_string_value(value),
                                         json_string_length(value));
        }
    }
out:
    json_decref(root);
    return e;
}

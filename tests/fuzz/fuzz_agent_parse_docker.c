/*
 * fuzz_agent_parse_docker.c — libFuzzer target for the Docker json-file line parser
 * (src/agent/parsers/docker.c): whatever the bytes, no crash or leak; on success the message
 * lives in the event's own buffer and is no longer than the line; on failure the event is exactly
 * as it was given. The same event is reused for a second parse, as an input thread does.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "parser.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(const char *line, size_t size, lf_agent_event *ev)
{
    lf_agent_event_reset(ev);
    ev->message = "sentinel";
    ev->message_len = 8;
    lf_err e = lf_parse_docker(line, size, ev, NULL);
    if (e == LF_OK) {
        if (ev->message_len > 0 && ev->message != (const char *)ev->message_buf.data)
            abort();
        if (ev->message_len > size || ev->n_labels > LF_AGENT_EVENT_MAX_LABELS)
            abort();
    } else if (e == LF_ERR_INVALID) {
        if (strcmp(ev->message, "sentinel") != 0 || ev->n_labels != 0 || ev->ts_ns != 0 ||
            ev->partial)
            abort();
    } else if (e != LF_ERR_NOMEM) {
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *line = malloc(size ? size : 1);
    if (!line)
        return 0;
    if (size)
        memcpy(line, data, size);
    lf_agent_event ev;
    memset(&ev, 0, sizeof ev);
    check(line, size, &ev);
    check(line, size, &ev);
    lf_agent_event_free(&ev);
    free(line);
    return 0;
}

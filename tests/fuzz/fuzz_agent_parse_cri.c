/*
 * fuzz_agent_parse_cri.c — libFuzzer target for the CRI log line parser
 * (src/agent/parsers/cri.c): whatever the bytes, no crash, no read outside them; on success
 * the borrowed message lies inside the input and the stream label is stdout or stderr; on
 * failure the event is exactly as it was given.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "parser.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* A copy of exactly `size` bytes, so ASan catches any read past the end. */
    char *line = malloc(size ? size : 1);
    if (!line)
        return 0;
    if (size)
        memcpy(line, data, size);
    lf_agent_event ev;
    memset(&ev, 0, sizeof ev);
    ev.message = "sentinel";
    ev.message_len = 8;
    lf_err e = lf_parse_cri(line, size, &ev, NULL);
    if (e == LF_OK) {
        if (ev.message < line || ev.message + ev.message_len > line + size)
            abort();
        const char *s = lf_agent_event_label(&ev, "stream");
        if (!s || (strcmp(s, "stdout") != 0 && strcmp(s, "stderr") != 0))
            abort();
    } else if (e != LF_ERR_INVALID || strcmp(ev.message, "sentinel") != 0 || ev.n_labels != 0 ||
               ev.ts_ns != 0 || ev.partial) {
        abort();
    }
    lf_agent_event_free(&ev);
    free(line);
    return 0;
}

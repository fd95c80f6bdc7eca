/*
 * fuzz_agent_socket_message.c — libFuzzer target for the agent socket's line decoder
 * (src/agent/inputs/socket/socket_message.c): any line decodes or is refused with a message,
 * never crashes; a decoded line's records all convert to events whose fields respect the
 * event's limits, and an error message never carries the line's bytes.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "inputs/socket/socket_message.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > (1u << 20))
        return 0;
    static lf_agent_event ev;
    lf_socket_message m;
    lf_error err = {0};
    lf_err e = lf_socket_message_decode((const char *)data, size, &m, &err);
    if (e != LF_OK) {
        if (!err.message[0])
            abort(); /* every refusal explains itself */
        return 0;
    }
    if (m.kind == LF_SOCKET_MSG_ENTRIES && (m.n == 0 || m.n > LF_SOCKET_MAX_BATCH))
        abort();
    if (m.kind != LF_SOCKET_MSG_ENTRIES && m.n != 0)
        abort();
    for (size_t i = 0; i < m.n; i++) {
        lf_agent_event_reset(&ev);
        (void)lf_socket_message_entry(&m, i, &ev);
        if (!ev.message || ev.message_len == 0 || ev.level < 0 || ev.level > 8 ||
            ev.n_labels > LF_AGENT_EVENT_MAX_LABELS || strlen(ev.source) > LF_PAYLOAD_MAX_SOURCE)
            abort();
        volatile char sink = 0;
        for (size_t k = 0; k < ev.message_len; k++) /* the borrowed text is readable */
            sink ^= ev.message[k];
        (void)sink;
    }
    lf_socket_message_free(&m);
    return 0;
}

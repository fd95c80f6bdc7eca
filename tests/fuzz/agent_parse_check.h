/*
 * agent_parse_check.h — what every parser fuzz target checks after a parse: the message lies
 * inside the input or the event's own buffer (every byte is read, so ASan sees an escape), the
 * fields are in range, labels are bounded C strings, and a refused record left the event
 * byte for byte as it was given.
 */
#ifndef LF_FUZZ_AGENT_PARSE_CHECK_H
#define LF_FUZZ_AGENT_PARSE_CHECK_H

#include <stdlib.h>
#include <string.h>

#include "parsers/parser.h"

/* Every message byte is added here, so a message pointing outside valid memory is read. */
static volatile unsigned fuzz_message_sink;

/* An event as an input hands it over; `before` keeps a copy to compare with. */
static inline void fuzz_event_prepare(lf_agent_event *ev, lf_agent_event *before)
{
    lf_agent_event_reset(ev);
    (void)lf_agent_event_set_label(ev, "input", 5, "fuzz", 4);
    ev->message = "raw";
    ev->message_len = 3;
    memcpy(before, ev, sizeof *ev);
}

static inline void fuzz_event_check(lf_err rc, const lf_agent_event *ev,
                                    const lf_agent_event *before, const char *d, size_t n)
{
    if (rc != LF_OK && rc != LF_ERR_INVALID)
        abort();
    if (rc == LF_ERR_INVALID && memcmp(before, ev, sizeof *ev) != 0)
        abort();
    for (size_t i = 0; i < ev->message_len; i++)
        fuzz_message_sink += (unsigned char)ev->message[i];
    const char *buf = (const char *)ev->message_buf.data;
    bool in_data = ev->message >= d && ev->message + ev->message_len <= d + n;
    bool in_buf =
        buf && ev->message >= buf && ev->message + ev->message_len <= buf + ev->message_buf.len;
    bool unchanged = ev->message == before->message && ev->message_len == before->message_len;
    if (!in_data && !in_buf && !unchanged)
        abort();
    if (ev->level < 0 || ev->level > 8 || ev->ts_ns < 0 || ev->n_labels > LF_AGENT_EVENT_MAX_LABELS)
        abort();
    for (size_t i = 0; i < ev->n_labels; i++) {
        size_t k = strnlen(ev->labels[i].key, sizeof ev->labels[i].key);
        size_t v = strnlen(ev->labels[i].value, sizeof ev->labels[i].value);
        if (k == 0 || k > LF_PAYLOAD_MAX_KEY || v > LF_PAYLOAD_MAX_VALUE)
            abort();
    }
    if (strnlen(ev->logger, sizeof ev->logger) > LF_PAYLOAD_MAX_VALUE)
        abort();
}

#endif

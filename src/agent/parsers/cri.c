/*
 * cri.c — the CRI log line (containerd, CRI-O; what the kubelet reads):
 *
 *     2024-01-02T03:04:05.123456789Z stdout F the message
 *
 * TIMESTAMP (RFC 3339 with nanoseconds, Z or an offset) SP STREAM (stdout|stderr) SP TAG SP
 * MESSAGE. TAG is P (partial: the runtime cut a long line, more follows) or F (full, the last
 * piece), possibly followed by more flags after ':' ("F:x"), which are ignored. The message
 * may be empty, with or without the space before it. Everything is checked before the event is
 * touched, so a line that is not CRI leaves the event as it was given (parser.h).
 */
#include <string.h>

#include "parser.h"

/* Longest timestamp we accept ("2024-01-02T03:04:05.123456789+05:30" is 35 bytes); more
 * digits of fraction than nanoseconds are allowed by RFC 3339, so leave room. */
#define CRI_MAX_TS 64

lf_err lf_parse_cri(const char *data, size_t len, lf_agent_event *ev, lf_error *err)
{
    if (!data || !ev)
        return lf_error_set(err, LF_ERR_INVALID, "cri: NULL argument");
    const char *end = data + len;
    const char *sp = memchr(data, ' ', len < CRI_MAX_TS + 1 ? len : CRI_MAX_TS + 1);
    if (!sp || sp == data)
        return lf_error_set(err, LF_ERR_INVALID, "cri: no timestamp");
    int64_t ts;
    if (lf_parse_time(data, (size_t)(sp - data), "rfc3339", &ts, NULL) != LF_OK)
        return lf_error_set(err, LF_ERR_INVALID, "cri: bad timestamp");
    const char *stream = sp + 1;
    size_t stream_len;
    if ((size_t)(end - stream) >= 7 && memcmp(stream, "stdout ", 7) == 0)
        stream_len = 6;
    else if ((size_t)(end - stream) >= 7 && memcmp(stream, "stderr ", 7) == 0)
        stream_len = 6;
    else
        return lf_error_set(err, LF_ERR_INVALID, "cri: stream is not stdout or stderr");
    const char *tag = stream + stream_len + 1;
    if (tag >= end || (*tag != 'P' && *tag != 'F'))
        return lf_error_set(err, LF_ERR_INVALID, "cri: tag is not P or F");
    const char *tag_end = tag + 1;
    if (tag_end < end && *tag_end == ':') {
        while (tag_end < end && *tag_end != ' ')
            tag_end++;
    } else if (tag_end < end && *tag_end != ' ') {
        return lf_error_set(err, LF_ERR_INVALID, "cri: tag is not P or F");
    }
    const char *msg = tag_end < end ? tag_end + 1 : end;
    ev->ts_ns = ts;
    ev->partial = *tag == 'P';
    ev->message = msg;
    ev->message_len = (size_t)(end - msg);
    lf_agent_event_set_label(ev, "stream", 6, stream, stream_len);
    return LF_OK;
}

/*
 * ops_text.c — UTF-8 validation and escaping for the agent's own output (ops_text.h).
 * Allocation-free apart from the caller's lf_buf.
 */
#include "ops/ops_text.h"

#include <string.h>

size_t lf_agent_utf8_seq(const uint8_t *p, size_t n)
{
    if (n == 0)
        return 0;
    uint8_t c = p[0];
    if (c < 0x80)
        return 1;
    size_t len;
    uint32_t cp, min;
    if (c >= 0xC2 && c <= 0xDF) {
        len = 2, cp = c & 0x1F, min = 0x80;
    } else if (c >= 0xE0 && c <= 0xEF) {
        len = 3, cp = c & 0x0F, min = 0x800;
    } else if (c >= 0xF0 && c <= 0xF4) {
        len = 4, cp = c & 0x07, min = 0x10000;
    } else {
        return 0; /* continuation byte, overlong lead (C0/C1) or past F4 */
    }
    if (n < len)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((p[i] & 0xC0) != 0x80)
            return 0;
        cp = (cp << 6) | (p[i] & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
    return len;
}

size_t lf_agent_escape_unit(const uint8_t *p, size_t n, bool json, char *out, size_t *consumed)
{
    static const char hex[] = "0123456789abcdef";
    uint8_t c = p[0];
    *consumed = 1;
    if (c == '\\' || (json && c == '"')) {
        out[0] = '\\', out[1] = (char)c;
        return 2;
    }
    if (c == '\n' || c == '\r' || c == '\t') {
        out[0] = '\\', out[1] = c == '\n' ? 'n' : c == '\r' ? 'r' : 't';
        return 2;
    }
    if (c < 0x20 || (!json && c == 0x7F)) {
        if (json) {
            memcpy(out, "\\u00", 4);
            out[4] = hex[c >> 4], out[5] = hex[c & 15];
            return 6;
        }
        out[0] = '\\', out[1] = 'x', out[2] = hex[c >> 4], out[3] = hex[c & 15];
        return 4;
    }
    size_t seq = lf_agent_utf8_seq(p, n);
    if (seq == 0) {
        memcpy(out, "\xEF\xBF\xBD", 3); /* U+FFFD stands for one bad byte */
        return 3;
    }
    memcpy(out, p, seq);
    *consumed = seq;
    return seq;
}

lf_err lf_agent_json_escape(lf_buf *out, const char *s, size_t len)
{
    const uint8_t *p = (const uint8_t *)s;
    size_t i = 0;
    while (i < len) {
        /* Copy the longest run that needs no escaping in one append. */
        size_t run = i;
        while (run < len && p[run] >= 0x20 && p[run] < 0x80 && p[run] != '"' && p[run] != '\\')
            run++;
        lf_err rc;
        if (run > i) {
            rc = lf_buf_append(out, p + i, run - i);
            i = run;
        } else {
            char unit[LF_AGENT_ESCAPE_UNIT_MAX];
            size_t used;
            size_t k = lf_agent_escape_unit(p + i, len - i, true, unit, &used);
            rc = lf_buf_append(out, unit, k);
            i += used;
        }
        if (rc != LF_OK)
            return rc;
    }
    return LF_OK;
}

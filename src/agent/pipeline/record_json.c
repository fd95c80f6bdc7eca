/*
 * record_json.c — one agent log record as schema 2.0 JSON in one pass (see record_json.h).
 *
 * Field order and escaping are lf_payload_encode's for a log entry:
 *   {"v":"2.0","type":"log","source":S,"level":N,"ts":"T","message":M[,"logger":L]
 *    [,"attributes":{"k":"v",...}]}
 * strings escaped as \" \\ \n \r \t and \u00xx for other control bytes, everything else as is.
 */
#include "record_json.h"

#include <string.h>

#include "logflux/timefmt.h"
#include "ops/ops_text.h"

static const uint64_t ONES = 0x0101010101010101ull, HIGHS = 0x8080808080808080ull;

/* No byte of w is a control byte, '"', '\\' or non-ASCII: the eight bytes are copied as they
 * are by both the repair and the escaping. */
static inline bool plain8(uint64_t w)
{
    uint64_t q = w ^ (ONES * '"'), b = w ^ (ONES * '\\');
    return ((w & HIGHS) | ((w - ONES * 0x20) & ~w & HIGHS) | ((q - ONES) & ~q & HIGHS) |
            ((b - ONES) & ~b & HIGHS)) == 0;
}

size_t lf_agent_utf8_repair(const char *s, size_t len, char *dst, size_t max_out)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t o = 0;
    for (size_t i = 0; i < len;) {
        /* Eight ASCII bytes without NUL at a time (most log text). */
        if (i + 8 <= len && o + 8 <= max_out) {
            uint64_t w;
            memcpy(&w, u + i, 8);
            if (((w & HIGHS) | ((w - ONES) & ~w & HIGHS)) == 0) {
                memcpy(dst + o, &w, 8);
                o += 8;
                i += 8;
                continue;
            }
        }
        size_t n = u[i] == 0 ? 0 : lf_agent_utf8_seq(u + i, len - i);
        if (n == 0) {
            if (o + 3 > max_out)
                break;
            memcpy(dst + o, "\xEF\xBF\xBD", 3);
            o += 3;
            i++;
        } else {
            if (o + n > max_out)
                break;
            memcpy(dst + o, u + i, n);
            o += n;
            i += n;
        }
    }
    dst[o] = '\0';
    return o;
}

/*
 * Write s as a JSON string at *pp: repaired like lf_agent_utf8_repair (at most max_text bytes
 * of text), escaped like the payload encoder. The caller reserved 6 * len + 2 bytes. Returns
 * the repaired text length; *repaired tells whether any byte was replaced.
 */
static size_t put_text(uint8_t **pp, const char *s, size_t len, size_t max_text, bool *repaired)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *u = (const unsigned char *)s;
    uint8_t *o = *pp;
    size_t t = 0;
    *o++ = '"';
    for (size_t i = 0; i < len;) {
        if (i + 8 <= len && t + 8 <= max_text) {
            uint64_t w;
            memcpy(&w, u + i, 8);
            if (plain8(w)) {
                memcpy(o, &w, 8);
                o += 8;
                t += 8;
                i += 8;
                continue;
            }
        }
        unsigned char c = u[i];
        if (c != 0 && c < 0x80) {
            if (t + 1 > max_text)
                break;
            t++;
            i++;
            if (c == '"' || c == '\\') {
                *o++ = '\\';
                *o++ = c;
            } else if (c == '\n') {
                *o++ = '\\';
                *o++ = 'n';
            } else if (c == '\r') {
                *o++ = '\\';
                *o++ = 'r';
            } else if (c == '\t') {
                *o++ = '\\';
                *o++ = 't';
            } else if (c < 0x20) {
                memcpy(o, "\\u00", 4);
                o[4] = (uint8_t)hex[c >> 4];
                o[5] = (uint8_t)hex[c & 15];
                o += 6;
            } else {
                *o++ = c;
            }
            continue;
        }
        size_t n = c == 0 ? 0 : lf_agent_utf8_seq(u + i, len - i);
        if (n == 0) {
            if (t + 3 > max_text)
                break;
            memcpy(o, "\xEF\xBF\xBD", 3);
            o += 3;
            t += 3;
            i++;
            *repaired = true;
        } else {
            if (t + n > max_text)
                break;
            memcpy(o, u + i, n);
            o += n;
            t += n;
            i += n;
        }
    }
    *o++ = '"';
    *pp = o;
    return t;
}

static inline void put_lit(uint8_t **pp, const char *lit, size_t n)
{
    memcpy(*pp, lit, n);
    *pp += n;
}

bool lf_agent_record_json(lf_buf *out, const lf_agent_record_fields *f, size_t *text_len)
{
    size_t src_len = strlen(f->source), log_len = f->logger ? strlen(f->logger) : 0;
    size_t klen[LF_PAYLOAD_MAX_ATTRS], vlen[LF_PAYLOAD_MAX_ATTRS];
    size_t n_attr = f->n_attributes < LF_PAYLOAD_MAX_ATTRS ? f->n_attributes : LF_PAYLOAD_MAX_ATTRS;
    /* Fixed text ~120 bytes + the time; every string byte at most 6 escaped bytes; quotes,
     * ':' and ',' around each label. Generous on purpose: this bounds every write below. */
    size_t need = 192 + LF_RFC3339_MAX + 6 * (src_len + f->message_len + log_len);
    for (size_t i = 0; i < n_attr; i++) {
        klen[i] = strlen(f->attributes[i].key);
        vlen[i] = strlen(f->attributes[i].value);
        need += 6 * (klen[i] + vlen[i]) + 8;
    }
    if (lf_buf_reserve(out, need) != LF_OK)
        return false;
    uint8_t *o = out->data + out->len;
    bool repaired = false;
    put_lit(&o, "{\"v\":\"2.0\",\"type\":\"log\",\"source\":", 33);
    put_text(&o, f->source, src_len, (size_t)-1, &repaired);
    put_lit(&o, ",\"level\":", 9);
    *o++ = (uint8_t)('0' + f->level);
    put_lit(&o, ",\"ts\":\"", 7);
    o += lf_rfc3339_format(f->ts_ns, (char *)o);
    put_lit(&o, "\",\"message\":", 12);
    bool message_repaired = false;
    *text_len = put_text(&o, f->message, f->message_len, LF_PAYLOAD_MAX_MESSAGE, &message_repaired);
    if (f->logger != NULL) {
        put_lit(&o, ",\"logger\":", 10);
        put_text(&o, f->logger, log_len, (size_t)-1, &repaired);
    }
    if (n_attr > 0) {
        put_lit(&o, ",\"attributes\":{", 15);
        for (size_t i = 0; i < n_attr; i++) {
            if (i > 0)
                *o++ = ',';
            put_text(&o, f->attributes[i].key, klen[i], (size_t)-1, &repaired);
            *o++ = ':';
            put_text(&o, f->attributes[i].value, vlen[i], (size_t)-1, &repaired);
        }
        *o++ = '}';
    }
    *o++ = '}';
    if (repaired)
        return false; /* only the message may be repaired here; the caller takes the long way */
    out->len = (size_t)(o - out->data);
    return true;
}

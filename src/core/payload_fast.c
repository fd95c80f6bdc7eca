/*
 * payload_fast.c — the schema 2.0 decoder's fast path for the common shape of an entry.
 *
 * `logflux query` decodes ~1M entries/s per core; building a jansson tree per ~280-byte
 * entry, copying out of it and wiping it cost ~80% of that. This file decodes the common
 * shape in one pass with no tree: a top-level object whose members are all fields known to
 * the schema, with string / number / null values, and `attributes` / `meta` as flat objects
 * of strings. Strings are unescaped straight into one allocation that also holds the
 * lf_payload and the attribute arrays (decoded text is never longer than its JSON form, so
 * the JSON length bounds the storage and no second pass is needed).
 *
 * It is strict in the direction that matters: it accepts only what jansson (as called by the
 * slow path: JSON_REJECT_DUPLICATES, no JSON_ALLOW_NUL) accepts, and only when every check of
 * the slow path passes. Anything else — malformed or unusual JSON (control characters, bad
 * UTF-8, \u0000, lone surrogates, duplicate names, numbers jansson might treat differently),
 * arrays, nested objects, unknown members (which need extra_json), a failed check of any kind —
 * makes it decline, and the jansson path then decides and reports, so error codes and messages
 * are exactly the slow path's. Declining costs one partial scan; it only happens for rare
 * inputs.
 *
 * Numbers: integers of at most 18 digits (no overflow possible) become int64 and, where a
 * double is wanted, (double)int64 as jansson does (so "-0" is +0.0); reals go through strtod
 * in the C locale, as jansson's own strtod does, and decline on overflow.
 */
#include <locale.h>
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "logflux/buf.h"
#include "logflux/timefmt.h"
#include "payload_internal.h"

char lf_payload_fast_tag_;

/* Top-level members the fast path knows, over all entry types. */
enum fid {
    F_V,
    F_TYPE,
    F_SOURCE,
    F_LEVEL,
    F_TS,
    F_ATTRIBUTES,
    F_META,
    F_METRIC_TYPE,
    F_MESSAGE,
    F_LOGGER,
    F_ERROR_TYPE,
    F_NAME,
    F_VALUE,
    F_UNIT,
    F_KIND,
    F_TRACE_ID,
    F_SPAN_ID,
    F_PARENT_SPAN_ID,
    F_OPERATION,
    F_START_TIME,
    F_END_TIME,
    F_DURATION_MS,
    F_STATUS,
    F_EVENT,
    F_ACTION,
    F_ACTOR,
    F_ACTOR_TYPE,
    F_RESOURCE,
    F_RESOURCE_ID,
    F_OUTCOME,
    F_DEVICE_ID,
    F_COUNT
};

static const char *const field_names[F_COUNT] = {
    "v",           "type",     "source",   "level",          "ts",        "attributes", "meta",
    "metric_type", "message",  "logger",   "error_type",     "name",      "value",      "unit",
    "kind",        "trace_id", "span_id",  "parent_span_id", "operation", "start_time", "end_time",
    "duration_ms", "status",   "event",    "action",         "actor",     "actor_type", "resource",
    "resource_id", "outcome",  "device_id"};

#define BIT(f) (1ull << (f))
#define COMMON_FIELDS                                                                              \
    (BIT(F_V) | BIT(F_TYPE) | BIT(F_SOURCE) | BIT(F_LEVEL) | BIT(F_TS) | BIT(F_ATTRIBUTES) |       \
     BIT(F_META))

/* Members known (without extra_json) for each entry type, as in payload.c's decoder. */
static const uint64_t type_fields[8] = {
    0,
    BIT(F_MESSAGE) | BIT(F_LOGGER) | BIT(F_ERROR_TYPE),
    BIT(F_NAME) | BIT(F_VALUE) | BIT(F_UNIT) | BIT(F_KIND),
    BIT(F_TRACE_ID) | BIT(F_SPAN_ID) | BIT(F_PARENT_SPAN_ID) | BIT(F_OPERATION) | BIT(F_NAME) |
        BIT(F_START_TIME) | BIT(F_END_TIME) | BIT(F_DURATION_MS) | BIT(F_STATUS),
    BIT(F_EVENT),
    BIT(F_ACTION) | BIT(F_ACTOR) | BIT(F_ACTOR_TYPE) | BIT(F_RESOURCE) | BIT(F_RESOURCE_ID) |
        BIT(F_OUTCOME),
    BIT(F_DEVICE_ID),
    BIT(F_DEVICE_ID),
};

enum vkind { V_STR = 1, V_NUM, V_NULL, V_OBJ };

typedef struct val {
    int kind;
    bool is_int;
    const char *s; /* V_STR: decoded, NUL-terminated, in the block */
    size_t len;
    int64_t i; /* V_NUM with is_int */
    double d;  /* V_NUM */
    lf_kv *kv; /* V_OBJ */
    size_t n;
} val;

/* The single allocation: the payload first (so lf_payload_free's pointer is the block). */
typedef struct fast_block {
    lf_payload p;
    size_t used; /* bytes from the start of the block that hold decoded data (wiped on free) */
    lf_kv kv[2 * LF_PAYLOAD_MAX_ATTRS];
    char str[];
} fast_block;

typedef struct scan {
    const unsigned char *p, *end;
    char *out; /* next free byte of fast_block.str */
    char *out_end;
} scan;

/* Bytes copied verbatim inside a string: printable ASCII (DEL included, as jansson accepts it
 * raw) other than '"' and '\\'. Control characters are refused; bytes >= 0x80 are UTF-8 and
 * checked separately. */
static inline bool plain(unsigned c)
{
    return c >= 0x20 && c < 0x80 && c != '"' && c != '\\';
}

/* Length of the valid UTF-8 sequence at s (n bytes left), or 0 (same rules as jansson and
 * the encoder: no overlongs, no surrogates, nothing above U+10FFFF). */
static size_t utf8_len(const unsigned char *s, size_t n)
{
    unsigned c = s[0];
    if (c >= 0xc2 && c <= 0xdf)
        return n >= 2 && (s[1] & 0xc0) == 0x80 ? 2 : 0;
    if (c >= 0xe0 && c <= 0xef) {
        if (n < 3 || (s[1] & 0xc0) != 0x80 || (s[2] & 0xc0) != 0x80)
            return 0;
        if ((c == 0xe0 && s[1] < 0xa0) || (c == 0xed && s[1] > 0x9f))
            return 0;
        return 3;
    }
    if (c >= 0xf0 && c <= 0xf4) {
        if (n < 4 || (s[1] & 0xc0) != 0x80 || (s[2] & 0xc0) != 0x80 || (s[3] & 0xc0) != 0x80)
            return 0;
        if ((c == 0xf0 && s[1] < 0x90) || (c == 0xf4 && s[1] > 0x8f))
            return 0;
        return 4;
    }
    return 0;
}

static void skip_ws(scan *s)
{
    while (s->p < s->end && (*s->p == ' ' || *s->p == '\n' || *s->p == '\r' || *s->p == '\t'))
        s->p++;
}

static int hex4(const unsigned char *h)
{
    int v = 0;
    for (int i = 0; i < 4; i++) {
        unsigned c = h[i];
        int d;
        if (c >= '0' && c <= '9')
            d = (int)(c - '0');
        else if (c >= 'a' && c <= 'f')
            d = (int)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F')
            d = (int)(c - 'A' + 10);
        else
            return -1;
        v = v * 16 + d;
    }
    return v;
}

/* Decodes the string whose opening quote is at s->p into dst (at most cap bytes, then a NUL
 * which must also fit). Returns false when the string is not one jansson accepts or does not
 * fit; the caller then declines. */
static bool scan_string(scan *s, char *dst, size_t cap, size_t *out_len)
{
    const unsigned char *p = s->p + 1, *end = s->end;
    size_t n = 0;
    for (;;) {
        const unsigned char *run = p;
        /* Eight bytes at a time while none is special (the usual case: long ASCII runs). */
        while (end - p >= 8) {
            uint64_t w, q, b;
            memcpy(&w, p, 8);
            q = w ^ 0x2222222222222222ull; /* '"' -> 0 */
            b = w ^ 0x5c5c5c5c5c5c5c5cull; /* '\\' -> 0 */
            uint64_t special =
                (w | ((w - 0x2020202020202020ull) & ~w) | ((q - 0x0101010101010101ull) & ~q) |
                 ((b - 0x0101010101010101ull) & ~b)) &
                0x8080808080808080ull; /* >= 0x80, < 0x20, '"', '\\' */
            if (special != 0)
                break;
            p += 8;
        }
        while (p < end && plain(*p))
            p++;
        size_t r = (size_t)(p - run);
        if (r >= cap - n)
            return false;
        memcpy(dst + n, run, r);
        n += r;
        if (p >= end)
            return false;
        unsigned c = *p;
        if (c == '"') {
            p++;
            break;
        }
        if (c == '\\') {
            if (end - p < 2)
                return false;
            unsigned e = p[1];
            p += 2;
            unsigned long cp;
            switch (e) {
            case '"':
            case '\\':
            case '/':
                cp = e;
                break;
            case 'b':
                cp = '\b';
                break;
            case 'f':
                cp = '\f';
                break;
            case 'n':
                cp = '\n';
                break;
            case 'r':
                cp = '\r';
                break;
            case 't':
                cp = '\t';
                break;
            case 'u': {
                if (end - p < 4)
                    return false;
                int h = hex4(p);
                p += 4;
                if (h <= 0 || (h >= 0xdc00 && h <= 0xdfff)) /* \u0000, lone low surrogate */
                    return false;
                cp = (unsigned long)h;
                if (h >= 0xd800 && h <= 0xdbff) {
                    if (end - p < 6 || p[0] != '\\' || p[1] != 'u')
                        return false;
                    int l = hex4(p + 2);
                    if (l < 0xdc00 || l > 0xdfff)
                        return false;
                    p += 6;
                    cp = 0x10000ul + (((unsigned long)h - 0xd800) << 10) +
                         ((unsigned long)l - 0xdc00);
                }
                break;
            }
            default:
                return false;
            }
            unsigned char u[4];
            size_t k;
            if (cp < 0x80) {
                u[0] = (unsigned char)cp;
                k = 1;
            } else if (cp < 0x800) {
                u[0] = (unsigned char)(0xc0 | (cp >> 6));
                u[1] = (unsigned char)(0x80 | (cp & 0x3f));
                k = 2;
            } else if (cp < 0x10000) {
                u[0] = (unsigned char)(0xe0 | (cp >> 12));
                u[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
                u[2] = (unsigned char)(0x80 | (cp & 0x3f));
                k = 3;
            } else {
                u[0] = (unsigned char)(0xf0 | (cp >> 18));
                u[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3f));
                u[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
                u[3] = (unsigned char)(0x80 | (cp & 0x3f));
                k = 4;
            }
            if (k >= cap - n)
                return false;
            memcpy(dst + n, u, k);
            n += k;
            continue;
        }
        if (c < 0x80) /* control character */
            return false;
        size_t k = utf8_len(p, (size_t)(end - p));
        if (k == 0 || k >= cap - n)
            return false;
        memcpy(dst + n, p, k);
        p += k;
        n += k;
    }
    dst[n] = '\0';
    s->p = p;
    *out_len = n;
    return true;
}

/* A string value stored in the block. */
static bool scan_stored(scan *s, const char **out, size_t *len)
{
    size_t cap = (size_t)(s->out_end - s->out);
    if (cap == 0 || !scan_string(s, s->out, cap, len))
        return false;
    *out = s->out;
    s->out += *len + 1;
    return true;
}

static bool is_digit(const unsigned char *p, const unsigned char *end)
{
    return p < end && *p >= '0' && *p <= '9';
}

/* A JSON number in the plain grammar; declines on anything jansson might read otherwise
 * (integers beyond 18 digits, real overflow, a locale whose decimal point is not '.'). */
static bool scan_number(scan *s, val *v)
{
    const unsigned char *p = s->p, *end = s->end, *start = p;
    bool neg = false, real = false;
    if (p < end && *p == '-') {
        neg = true;
        p++;
    }
    if (!is_digit(p, end))
        return false;
    if (*p == '0') {
        p++;
        if (is_digit(p, end))
            return false;
    } else {
        while (is_digit(p, end))
            p++;
    }
    size_t int_digits = (size_t)(p - start) - (neg ? 1u : 0u);
    if (p < end && *p == '.') {
        real = true;
        p++;
        if (!is_digit(p, end))
            return false;
        while (is_digit(p, end))
            p++;
    }
    if (p < end && (*p == 'e' || *p == 'E')) {
        real = true;
        p++;
        if (p < end && (*p == '+' || *p == '-'))
            p++;
        if (!is_digit(p, end))
            return false;
        while (is_digit(p, end))
            p++;
    }
    size_t len = (size_t)(p - start);
    v->kind = V_NUM;
    if (!real) {
        if (int_digits > 18)
            return false;
        int64_t x = 0;
        for (const unsigned char *q = start + (neg ? 1 : 0); q < p; q++)
            x = x * 10 + (*q - '0');
        v->is_int = true;
        v->i = neg ? -x : x;
        v->d = (double)v->i;
    } else {
        char tmp[64];
        const struct lconv *lc = localeconv();
        if (len >= sizeof tmp || lc == NULL || strcmp(lc->decimal_point, ".") != 0)
            return false;
        memcpy(tmp, start, len);
        tmp[len] = '\0';
        char *stop = NULL;
        double d = strtod(tmp, &stop);
        if (stop != tmp + len || isinf(d) || isnan(d))
            return false;
        v->is_int = false;
        v->d = d;
    }
    s->p = p;
    return true;
}

/* A flat object of string values for attributes / meta, at most LF_PAYLOAD_MAX_ATTRS
 * members, no duplicate names. kv has room for LF_PAYLOAD_MAX_ATTRS pairs. */
static bool scan_map(scan *s, lf_kv *kv, val *v)
{
    size_t n = 0, klen[LF_PAYLOAD_MAX_ATTRS];
    s->p++; /* '{' */
    skip_ws(s);
    if (s->p < s->end && *s->p == '}') {
        s->p++;
    } else {
        for (;;) {
            if (s->p >= s->end || *s->p != '"' || n == LF_PAYLOAD_MAX_ATTRS)
                return false;
            size_t kl, vl;
            if (!scan_stored(s, &kv[n].key, &kl))
                return false;
            for (size_t j = 0; j < n; j++)
                if (klen[j] == kl && memcmp(kv[j].key, kv[n].key, kl) == 0)
                    return false; /* duplicate name: jansson refuses the document */
            klen[n] = kl;
            skip_ws(s);
            if (s->p >= s->end || *s->p != ':')
                return false;
            s->p++;
            skip_ws(s);
            if (s->p >= s->end || *s->p != '"' || !scan_stored(s, &kv[n].value, &vl))
                return false;
            n++;
            skip_ws(s);
            if (s->p < s->end && *s->p == ',') {
                s->p++;
                skip_ws(s);
                continue;
            }
            if (s->p < s->end && *s->p == '}') {
                s->p++;
                break;
            }
            return false;
        }
    }
    v->kind = V_OBJ;
    v->kv = kv;
    v->n = n;
    return true;
}

static int field_id(const char *k, size_t len)
{
    for (int f = 0; f < F_COUNT; f++)
        if (field_names[f][0] == k[0] && strncmp(field_names[f], k, len) == 0 &&
            field_names[f][len] == '\0') /* k has no NUL, so the name is >= len long */
            return f;
    return -1;
}

/* Optional string field: absent or null leaves *dst NULL. */
static bool get_str(const val *vals, uint64_t mask, int f, const char **dst)
{
    if (!(mask & BIT(f)) || vals[f].kind == V_NULL)
        return true;
    if (vals[f].kind != V_STR)
        return false;
    *dst = vals[f].s;
    return true;
}

static bool get_num(const val *vals, uint64_t mask, int f, double *dst, bool *has)
{
    if (!(mask & BIT(f)) || vals[f].kind == V_NULL)
        return true;
    if (vals[f].kind != V_NUM)
        return false;
    *dst = vals[f].d;
    if (has != NULL)
        *has = true;
    return true;
}

static bool get_time(const val *vals, uint64_t mask, int f, int64_t *dst)
{
    if (!(mask & BIT(f)) || vals[f].kind == V_NULL)
        return true;
    return vals[f].kind == V_STR && lf_rfc3339_parse(vals[f].s, vals[f].len, dst, NULL) == LF_OK;
}

/* Applies the slow path's header and field rules to the scanned members; false = decline. */
static bool build(lf_payload *p, const val *vals, uint64_t mask, int entry_type)
{
    if (!(mask & BIT(F_V)) || vals[F_V].kind != V_STR || vals[F_V].len != 3 ||
        memcmp(vals[F_V].s, "2.0", 3) != 0)
        return false;
    if (!(mask & BIT(F_TYPE)) || vals[F_TYPE].kind != V_STR)
        return false;
    int jt = lf_entry_type_from_name(vals[F_TYPE].s, vals[F_TYPE].len);
    if (jt == 0)
        return false;
    if (entry_type != 0) {
        int expect = entry_type == LF_ENTRY_TELEMETRY_MANAGED ? LF_ENTRY_TELEMETRY : entry_type;
        if (entry_type < 1 || entry_type > 7 || jt != expect)
            return false;
        jt = entry_type;
    }
    p->type = jt;
    uint64_t allowed = COMMON_FIELDS | type_fields[jt];
    if (jt == LF_ENTRY_METRIC && !(mask & BIT(F_KIND)))
        allowed |= BIT(F_METRIC_TYPE); /* alias, only when `kind` itself is absent */
    if (mask & ~allowed)
        return false; /* members that would go to extra_json */
    /* ts: present, a string (null is refused for ts), RFC 3339. */
    if (!(mask & BIT(F_TS)) || vals[F_TS].kind != V_STR ||
        lf_rfc3339_parse(vals[F_TS].s, vals[F_TS].len, &p->ts_ns, NULL) != LF_OK)
        return false;
    if (!get_str(vals, mask, F_SOURCE, &p->source) ||
        (p->source != NULL && vals[F_SOURCE].len > LF_PAYLOAD_MAX_SOURCE))
        return false;
    if (mask & BIT(F_LEVEL)) {
        const val *l = &vals[F_LEVEL];
        if (l->kind != V_NUM || !l->is_int || l->i < 1 || l->i > 8)
            return false;
        p->level = (int)l->i;
    }
    if (mask & BIT(F_ATTRIBUTES)) {
        if (vals[F_ATTRIBUTES].kind != V_OBJ)
            return false;
        p->attributes = vals[F_ATTRIBUTES].kv;
        p->n_attributes = vals[F_ATTRIBUTES].n;
    }
    if (mask & BIT(F_META)) {
        if (vals[F_META].kind != V_OBJ)
            return false;
        p->meta = vals[F_META].kv;
        p->n_meta = vals[F_META].n;
    }
    switch (jt) {
    case LF_ENTRY_LOG:
        return get_str(vals, mask, F_MESSAGE, &p->log.message) &&
               (p->log.message == NULL || vals[F_MESSAGE].len <= LF_PAYLOAD_MAX_MESSAGE) &&
               get_str(vals, mask, F_LOGGER, &p->log.logger) &&
               get_str(vals, mask, F_ERROR_TYPE, &p->log.error_type);
    case LF_ENTRY_METRIC:
        return get_str(vals, mask, F_NAME, &p->metric.name) &&
               get_num(vals, mask, F_VALUE, &p->metric.value, NULL) &&
               get_str(vals, mask, F_UNIT, &p->metric.unit) &&
               get_str(vals, mask, F_KIND, &p->metric.kind) &&
               get_str(vals, mask, F_METRIC_TYPE, &p->metric.kind);
    case LF_ENTRY_TRACE:
        return get_str(vals, mask, F_TRACE_ID, &p->trace.trace_id) &&
               get_str(vals, mask, F_SPAN_ID, &p->trace.span_id) &&
               get_str(vals, mask, F_PARENT_SPAN_ID, &p->trace.parent_span_id) &&
               get_str(vals, mask, F_OPERATION, &p->trace.operation) &&
               get_str(vals, mask, F_NAME, &p->trace.name) &&
               get_time(vals, mask, F_START_TIME, &p->trace.start_ns) &&
               get_time(vals, mask, F_END_TIME, &p->trace.end_ns) &&
               get_num(vals, mask, F_DURATION_MS, &p->trace.duration_ms, &p->trace.has_duration) &&
               get_str(vals, mask, F_STATUS, &p->trace.status);
    case LF_ENTRY_EVENT:
        return get_str(vals, mask, F_EVENT, &p->event.event);
    case LF_ENTRY_AUDIT:
        return get_str(vals, mask, F_ACTION, &p->audit.action) &&
               get_str(vals, mask, F_ACTOR, &p->audit.actor) &&
               get_str(vals, mask, F_ACTOR_TYPE, &p->audit.actor_type) &&
               get_str(vals, mask, F_RESOURCE, &p->audit.resource) &&
               get_str(vals, mask, F_RESOURCE_ID, &p->audit.resource_id) &&
               get_str(vals, mask, F_OUTCOME, &p->audit.outcome);
    default: /* telemetry, managed telemetry */
        return get_str(vals, mask, F_DEVICE_ID, &p->telemetry.device_id);
    }
}

/* Scans the top-level object into vals (indexed by field id); false = decline. */
static bool scan_top(scan *s, fast_block *b, val *vals, uint64_t *mask_out)
{
    uint64_t mask = 0;
    int n_maps = 0;
    skip_ws(s);
    if (s->p >= s->end || *s->p != '{')
        return false;
    s->p++;
    skip_ws(s);
    for (;;) {
        if (s->p >= s->end || *s->p != '"')
            return false; /* includes "{}": no `v`, the slow path reports it */
        char key[24];
        size_t kl;
        if (!scan_string(s, key, sizeof key, &kl) || kl == 0)
            return false;
        int f = field_id(key, kl);
        if (f < 0 || (mask & BIT(f)))
            return false; /* unknown member (extra_json) or duplicate name */
        mask |= BIT(f);
        skip_ws(s);
        if (s->p >= s->end || *s->p != ':')
            return false;
        s->p++;
        skip_ws(s);
        if (s->p >= s->end)
            return false;
        val *v = &vals[f];
        unsigned c = *s->p;
        if (c == '"') {
            v->kind = V_STR;
            if (!scan_stored(s, &v->s, &v->len))
                return false;
        } else if (c == '-' || (c >= '0' && c <= '9')) {
            if (!scan_number(s, v))
                return false;
        } else if (c == 'n') {
            if (s->end - s->p < 4 || memcmp(s->p, "null", 4) != 0)
                return false;
            s->p += 4;
            v->kind = V_NULL;
        } else if (c == '{' && (f == F_ATTRIBUTES || f == F_META)) {
            if (!scan_map(s, b->kv + LF_PAYLOAD_MAX_ATTRS * n_maps++, v))
                return false;
        } else {
            return false; /* arrays, nested objects, true/false: the slow path */
        }
        skip_ws(s);
        if (s->p < s->end && *s->p == ',') {
            s->p++;
            skip_ws(s);
            continue;
        }
        if (s->p < s->end && *s->p == '}') {
            s->p++;
            break;
        }
        return false;
    }
    skip_ws(s);
    *mask_out = mask;
    return s->p == s->end; /* nothing but whitespace after the object */
}

bool lf_payload_decode_fast(const void *json, size_t len, int entry_type, int64_t now_ns,
                            lf_payload **out)
{
    *out = NULL;
    if (json == NULL || len == 0 || len > LF_PAYLOAD_MAX_JSON)
        return false;
    fast_block *b = malloc(offsetof(fast_block, str) + len + 1);
    if (b == NULL)
        return false;
    memset(&b->p, 0, sizeof b->p);
    scan s = {.p = json,
              .end = (const unsigned char *)json + len,
              .out = b->str,
              .out_end = b->str + len + 1};
    val vals[F_COUNT];
    uint64_t mask = 0;
    bool ok = scan_top(&s, b, vals, &mask) && build(&b->p, vals, mask, entry_type);
    b->p.owned_ = &lf_payload_fast_tag_;
    if (ok)
        ok = lf_payload_validate(&b->p, now_ns, NULL) == LF_OK;
    /* On success only [block, s.out) holds data; a declined scan may have left a partly
     * decoded string past s.out, so then the whole block is wiped. */
    b->used = ok ? (size_t)(s.out - (char *)b) : offsetof(fast_block, str) + len + 1;
    if (!ok) {
        lf_payload_fast_free(&b->p);
        return false;
    }
    *out = &b->p;
    return true;
}

void lf_payload_fast_free(lf_payload *p)
{
    fast_block *b = (fast_block *)(void *)p;
    lf_wipe(b, b->used);
    free(b);
}

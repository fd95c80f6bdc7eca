/*
 * payload.c — schema 2.0 payload: validation, a one-pass JSON encoder, and a bounded decoder.
 *
 * Encoding is hand-written: fields go straight into an lf_buf in a fixed order, strings are
 * checked for UTF-8 and escaped in runs (plain ASCII is copied with one memcpy per run),
 * numbers use the shortest "%.15g".."%.17g" form that reads back to the same double. No tree
 * is built, so encoding costs little more than copying the strings.
 *
 * Decoding uses jansson (duplicate keys rejected, NUL in strings rejected) after two cheap
 * pre-checks on the raw bytes: total size and nesting depth, which bound both the work and
 * jansson's recursion. The decoded lf_payload points into the jansson tree, which it owns;
 * members this schema does not know (for the payload's type) are gathered into one object
 * and exposed as JSON text so that a re-encode loses nothing at the top level.
 *
 * lf_payload_decode first offers the bytes to the fast path (payload_fast.c), which decodes
 * the common flat shape without a tree into one allocation, or declines; the jansson decoder
 * (lf_payload_decode_slow) decides everything declined, so results are the same either way.
 */
#include "logflux/payload.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "logflux/timefmt.h"
#include "payload_internal.h"

static const char *const type_names[] = {NULL,    "log",   "metric",    "trace",
                                         "event", "audit", "telemetry", "telemetry"};

const char *lf_entry_type_name(int type)
{
    return type >= 1 && type <= 7 ? type_names[type] : NULL;
}

int lf_entry_type_from_name(const char *name, size_t len)
{
    for (int t = 1; t <= 6; t++)
        if (strlen(type_names[t]) == len && memcmp(type_names[t], name, len) == 0)
            return t;
    return 0;
}

/* ------------------------------------------------------------------ validation */

static lf_err check_map(const char *what, const lf_kv *kv, size_t n, lf_error *err)
{
    if (n > LF_PAYLOAD_MAX_ATTRS)
        return lf_error_set(err, LF_ERR_TOO_LARGE, "payload: %zu %s (at most %d)", n, what,
                            LF_PAYLOAD_MAX_ATTRS);
    if (n > 0 && kv == NULL)
        return lf_error_set(err, LF_ERR_INVALID, "payload: %s count without entries", what);
    for (size_t i = 0; i < n; i++) {
        if (kv[i].key == NULL || kv[i].value == NULL)
            return lf_error_set(err, LF_ERR_INVALID, "payload: %s[%zu] has a NULL key or value",
                                what, i);
        size_t kl = strlen(kv[i].key), vl = strlen(kv[i].value);
        if (kl == 0)
            return lf_error_set(err, LF_ERR_INVALID, "payload: %s key %zu is empty", what, i);
        if (kl > LF_PAYLOAD_MAX_KEY)
            return lf_error_set(err, LF_ERR_TOO_LARGE,
                                "payload: %s key %zu has %zu bytes (1..%d allowed)", what, i, kl,
                                LF_PAYLOAD_MAX_KEY);
        if (vl > LF_PAYLOAD_MAX_VALUE)
            return lf_error_set(err, LF_ERR_TOO_LARGE,
                                "payload: %s value %zu has %zu bytes (at most %d)", what, i, vl,
                                LF_PAYLOAD_MAX_VALUE);
        for (size_t j = 0; j < i; j++)
            if (strcmp(kv[i].key, kv[j].key) == 0)
                return lf_error_set(err, LF_ERR_INVALID, "payload: duplicate %s key at %zu", what,
                                    i);
    }
    return LF_OK;
}

static lf_err check_list(const char *what, const void *items, size_t n, lf_error *err)
{
    if (n > LF_PAYLOAD_MAX_LIST)
        return lf_error_set(err, LF_ERR_TOO_LARGE, "payload: %zu %s entries (at most %d)", n, what,
                            LF_PAYLOAD_MAX_LIST);
    if (n > 0 && items == NULL)
        return lf_error_set(err, LF_ERR_INVALID, "payload: %s count without entries", what);
    return LF_OK;
}

lf_err lf_payload_validate(const lf_payload *p, int64_t now_ns, lf_error *err)
{
    lf_err rc;
    if (lf_entry_type_name(p->type) == NULL)
        return lf_error_set(err, LF_ERR_INVALID, "payload: entry type %d is not 1..7", p->type);
    if (p->level != 0 && (p->level < 1 || p->level > 8))
        return lf_error_set(err, LF_ERR_INVALID, "payload: level %d is not 1..8", p->level);
    if (p->source != NULL && strlen(p->source) > LF_PAYLOAD_MAX_SOURCE)
        return lf_error_set(err, LF_ERR_TOO_LARGE, "payload: source longer than %d bytes",
                            LF_PAYLOAD_MAX_SOURCE);
    if ((rc = check_map("attributes", p->attributes, p->n_attributes, err)) != LF_OK ||
        (rc = check_map("meta", p->meta, p->n_meta, err)) != LF_OK)
        return rc;
    switch (p->type) {
    case LF_ENTRY_LOG:
        if (p->log.message != NULL && strlen(p->log.message) > LF_PAYLOAD_MAX_MESSAGE)
            return lf_error_set(err, LF_ERR_TOO_LARGE, "payload: message longer than 1 MiB");
        if ((rc = check_list("error_chain", p->log.error_chain, p->log.n_error_chain, err)) !=
                LF_OK ||
            (rc = check_list("stack_trace", p->log.stack_trace, p->log.n_stack_trace, err)) !=
                LF_OK)
            return rc;
        break;
    case LF_ENTRY_METRIC:
        if (!isfinite(p->metric.value))
            return lf_error_set(err, LF_ERR_INVALID, "payload: metric value is not finite");
        break;
    case LF_ENTRY_TRACE:
        if (p->trace.has_duration && !isfinite(p->trace.duration_ms))
            return lf_error_set(err, LF_ERR_INVALID, "payload: trace duration is not finite");
        break;
    case LF_ENTRY_TELEMETRY:
    case LF_ENTRY_TELEMETRY_MANAGED:
        if ((rc = check_list("readings", p->telemetry.readings, p->telemetry.n_readings, err)) !=
            LF_OK)
            return rc;
        for (size_t i = 0; i < p->telemetry.n_readings; i++)
            if (!isfinite(p->telemetry.readings[i].value))
                return lf_error_set(err, LF_ERR_INVALID, "payload: reading %zu value is not finite",
                                    i);
        break;
    default:
        break;
    }
    if (now_ns != 0) {
        if (p->ts_ns > now_ns && p->ts_ns - now_ns > LF_PAYLOAD_MAX_FUTURE_NS)
            return lf_error_set(err, LF_ERR_EXPIRED, "payload: ts is more than 60 s in the future");
        if (p->ts_ns < now_ns && now_ns - p->ts_ns > LF_PAYLOAD_MAX_AGE_NS)
            return lf_error_set(err, LF_ERR_EXPIRED, "payload: ts is more than a year old");
    }
    return LF_OK;
}

/* ------------------------------------------------------------------ encoder */

typedef struct enc {
    lf_buf *out;
    lf_err rc;
    lf_error *err;
    bool first;
    /* names written so far, to refuse extra_json members that would duplicate them */
    const char *emitted[48];
    size_t n_emitted;
} enc;

/* Length of the valid UTF-8 sequence at s (n bytes left), or 0 if invalid. */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
    unsigned c = s[0];
    if (c < 0x80)
        return 1;
    if (c >= 0xc2 && c <= 0xdf)
        return n >= 2 && (s[1] & 0xc0) == 0x80 ? 2 : 0;
    if (c >= 0xe0 && c <= 0xef) {
        if (n < 3 || (s[1] & 0xc0) != 0x80 || (s[2] & 0xc0) != 0x80)
            return 0;
        if ((c == 0xe0 && s[1] < 0xa0) || (c == 0xed && s[1] > 0x9f)) /* overlong, surrogate */
            return 0;
        return 3;
    }
    if (c >= 0xf0 && c <= 0xf4) {
        if (n < 4 || (s[1] & 0xc0) != 0x80 || (s[2] & 0xc0) != 0x80 || (s[3] & 0xc0) != 0x80)
            return 0;
        if ((c == 0xf0 && s[1] < 0x90) || (c == 0xf4 && s[1] > 0x8f)) /* overlong, > 10FFFF */
            return 0;
        return 4;
    }
    return 0;
}

static void put(enc *e, const void *data, size_t len)
{
    lf_buf *b = e->out;
    /* Most pieces are a few bytes and fit: copy without the call (the agent encodes every
     * record through here). */
    if (e->rc == LF_OK && b->cap - b->len >= len && len > 0) {
        memcpy(b->data + b->len, data, len);
        b->len += len;
        return;
    }
    if (e->rc == LF_OK && lf_buf_append(b, data, len) != LF_OK)
        e->rc = lf_error_set(e->err, LF_ERR_NOMEM, "payload: out of memory while encoding");
}

/* True when none of the 8 bytes of w needs a look: no control byte, '"', '\\' or non-ASCII.
 * (Word-at-a-time test; a false "needs a look" only sends the bytes down the exact path.) */
static inline bool plain8(uint64_t w)
{
    const uint64_t ones = 0x0101010101010101ull, highs = 0x8080808080808080ull;
    uint64_t q = w ^ (ones * '"'), b = w ^ (ones * '\\');
    uint64_t bad = (w & highs) | ((w - ones * 0x20) & ~w & highs) | ((q - ones) & ~q & highs) |
                   ((b - ones) & ~b & highs);
    return bad == 0;
}

static void put_str_raw(enc *e, const char *s, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *u = (const unsigned char *)s;
    put(e, "\"", 1);
    size_t run = 0, i = 0;
    while (i < len && e->rc == LF_OK) {
        /* Log text is mostly plain ASCII: skip it eight bytes at a time. */
        while (i + 8 <= len) {
            uint64_t w;
            memcpy(&w, u + i, 8);
            if (!plain8(w))
                break;
            i += 8;
        }
        if (i >= len)
            break;
        unsigned char c = u[i];
        if (c >= 0x20 && c != '"' && c != '\\' && c < 0x80) {
            i++;
            continue;
        }
        if (c >= 0x80) {
            size_t n = utf8_seq(u + i, len - i);
            if (n == 0) {
                e->rc = lf_error_set(e->err, LF_ERR_INVALID,
                                     "payload: string is not valid UTF-8 (offset %zu)", i);
                return;
            }
            i += n;
            continue;
        }
        put(e, s + run, i - run);
        char esc[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
        switch (c) {
        case '"':
            put(e, "\\\"", 2);
            break;
        case '\\':
            put(e, "\\\\", 2);
            break;
        case '\n':
            put(e, "\\n", 2);
            break;
        case '\r':
            put(e, "\\r", 2);
            break;
        case '\t':
            put(e, "\\t", 2);
            break;
        default:
            put(e, esc, 6);
            break;
        }
        run = ++i;
    }
    put(e, s + run, len - run);
    put(e, "\"", 1);
}

static void put_key(enc *e, const char *key)
{
    if (!e->first)
        put(e, ",", 1);
    e->first = false;
    put_str_raw(e, key, strlen(key));
    put(e, ":", 1);
    if (e->n_emitted < sizeof e->emitted / sizeof *e->emitted)
        e->emitted[e->n_emitted++] = key;
}

static void field_str(enc *e, const char *key, const char *value)
{
    if (value == NULL)
        return;
    put_key(e, key);
    put_str_raw(e, value, strlen(value));
}

static void put_double(enc *e, double v)
{
    char tmp[40];
    int n = 0;
    /* Shortest of 15, 16, 17 significant digits that reads back exactly. */
    for (int prec = 15; prec <= 17; prec++) {
        n = snprintf(tmp, sizeof tmp, "%.*g", prec, v);
        if (strtod(tmp, NULL) == v)
            break;
    }
    for (int i = 0; i < n; i++)
        if (tmp[i] == ',') /* a caller's setlocale() must not break JSON */
            tmp[i] = '.';
    put(e, tmp, (size_t)n);
}

static void put_i64(enc *e, int64_t v)
{
    char tmp[24];
    int n = snprintf(tmp, sizeof tmp, "%lld", (long long)v);
    put(e, tmp, (size_t)n);
}

static void field_time(enc *e, const char *key, int64_t ns)
{
    char ts[LF_RFC3339_MAX];
    put_key(e, key);
    put(e, "\"", 1);
    put(e, ts, lf_rfc3339_format(ns, ts));
    put(e, "\"", 1);
}

static void field_map(enc *e, const char *key, const lf_kv *kv, size_t n)
{
    if (n == 0)
        return;
    put_key(e, key);
    put(e, "{", 1);
    for (size_t i = 0; i < n; i++) {
        if (i > 0)
            put(e, ",", 1);
        put_str_raw(e, kv[i].key, strlen(kv[i].key));
        put(e, ":", 1);
        put_str_raw(e, kv[i].value, strlen(kv[i].value));
    }
    put(e, "}", 1);
}

/* Writes "{"k":"v",...}" for the non-NULL pairs of an array element. */
static void put_object2(enc *e, const char *k1, const char *v1, const char *k2, const char *v2)
{
    bool any = false;
    put(e, "{", 1);
    if (v1 != NULL) {
        put_str_raw(e, k1, strlen(k1));
        put(e, ":", 1);
        put_str_raw(e, v1, strlen(v1));
        any = true;
    }
    if (v2 != NULL) {
        if (any)
            put(e, ",", 1);
        put_str_raw(e, k2, strlen(k2));
        put(e, ":", 1);
        put_str_raw(e, v2, strlen(v2));
    }
}

static void encode_log(enc *e, const lf_payload *p)
{
    field_str(e, "message", p->log.message);
    field_str(e, "logger", p->log.logger);
    field_str(e, "error_type", p->log.error_type);
    if (p->log.n_error_chain > 0) {
        put_key(e, "error_chain");
        put(e, "[", 1);
        for (size_t i = 0; i < p->log.n_error_chain; i++) {
            if (i > 0)
                put(e, ",", 1);
            const lf_error_link *l = &p->log.error_chain[i];
            put_object2(e, "type", l->type, "message", l->message);
            put(e, "}", 1);
        }
        put(e, "]", 1);
    }
    if (p->log.n_stack_trace > 0) {
        put_key(e, "stack_trace");
        put(e, "[", 1);
        for (size_t i = 0; i < p->log.n_stack_trace; i++) {
            if (i > 0)
                put(e, ",", 1);
            const lf_stack_frame *f = &p->log.stack_trace[i];
            put_object2(e, "function", f->function, "file", f->file);
            if (f->line != 0) {
                if (f->function != NULL || f->file != NULL)
                    put(e, ",", 1);
                put(e, "\"line\":", 7);
                put_i64(e, f->line);
            }
            put(e, "}", 1);
        }
        put(e, "]", 1);
    }
    if (p->log.breadcrumbs_json != NULL) {
        /* Caller-supplied raw JSON: checked, then re-serialised compactly by jansson. */
        json_error_t jerr;
        json_t *b = json_loads(p->log.breadcrumbs_json, JSON_REJECT_DUPLICATES, &jerr);
        char *text = json_is_array(b) ? json_dumps(b, JSON_COMPACT) : NULL;
        json_decref(b);
        if (text == NULL) {
            if (e->rc == LF_OK)
                e->rc = lf_error_set(e->err, LF_ERR_INVALID,
                                     "payload: breadcrumbs_json is not a JSON array");
            return;
        }
        put_key(e, "breadcrumbs");
        put(e, text, strlen(text));
        free(text);
    }
}

static void encode_type_fields(enc *e, const lf_payload *p)
{
    switch (p->type) {
    case LF_ENTRY_LOG:
        encode_log(e, p);
        break;
    case LF_ENTRY_METRIC:
        field_str(e, "name", p->metric.name);
        put_key(e, "value");
        put_double(e, p->metric.value);
        field_str(e, "unit", p->metric.unit);
        field_str(e, "kind", p->metric.kind);
        break;
    case LF_ENTRY_TRACE:
        field_str(e, "trace_id", p->trace.trace_id);
        field_str(e, "span_id", p->trace.span_id);
        field_str(e, "parent_span_id", p->trace.parent_span_id);
        field_str(e, "operation", p->trace.operation);
        field_str(e, "name", p->trace.name);
        if (p->trace.start_ns != 0)
            field_time(e, "start_time", p->trace.start_ns);
        if (p->trace.end_ns != 0)
            field_time(e, "end_time", p->trace.end_ns);
        if (p->trace.has_duration) {
            put_key(e, "duration_ms");
            put_double(e, p->trace.duration_ms);
        }
        field_str(e, "status", p->trace.status);
        break;
    case LF_ENTRY_EVENT:
        field_str(e, "event", p->event.event);
        break;
    case LF_ENTRY_AUDIT:
        field_str(e, "action", p->audit.action);
        field_str(e, "actor", p->audit.actor);
        field_str(e, "actor_type", p->audit.actor_type);
        field_str(e, "resource", p->audit.resource);
        field_str(e, "resource_id", p->audit.resource_id);
        field_str(e, "outcome", p->audit.outcome);
        break;
    default: /* telemetry, managed telemetry */
        field_str(e, "device_id", p->telemetry.device_id);
        if (p->telemetry.n_readings > 0) {
            put_key(e, "readings");
            put(e, "[", 1);
            for (size_t i = 0; i < p->telemetry.n_readings; i++) {
                const lf_reading *r = &p->telemetry.readings[i];
                if (i > 0)
                    put(e, ",", 1);
                put(e, "{", 1);
                if (r->name != NULL) {
                    put(e, "\"name\":", 7);
                    put_str_raw(e, r->name, strlen(r->name));
                    put(e, ",", 1);
                }
                put(e, "\"value\":", 8);
                put_double(e, r->value);
                if (r->unit != NULL) {
                    put(e, ",\"unit\":", 8);
                    put_str_raw(e, r->unit, strlen(r->unit));
                }
                put(e, "}", 1);
            }
            put(e, "]", 1);
        }
        break;
    }
}

static void encode_extras(enc *e, const char *extra_json)
{
    json_error_t jerr;
    json_t *x = json_loads(extra_json, JSON_REJECT_DUPLICATES, &jerr);
    if (!json_is_object(x)) {
        json_decref(x);
        if (e->rc == LF_OK)
            e->rc =
                lf_error_set(e->err, LF_ERR_INVALID, "payload: extra_json is not a JSON object");
        return;
    }
    const char *key;
    json_t *value;
    json_object_foreach(x, key, value)
    {
        for (size_t i = 0; i < e->n_emitted; i++)
            if (strcmp(e->emitted[i], key) == 0) {
                if (e->rc == LF_OK)
                    e->rc = lf_error_set(e->err, LF_ERR_INVALID,
                                         "payload: extra_json repeats the field '%.64s'", key);
                json_decref(x);
                return;
            }
        char *text = json_dumps(value, JSON_COMPACT | JSON_ENCODE_ANY);
        if (text == NULL) {
            if (e->rc == LF_OK)
                e->rc = lf_error_set(e->err, LF_ERR_NOMEM, "payload: out of memory");
            break;
        }
        if (!e->first)
            put(e, ",", 1);
        e->first = false;
        put_str_raw(e, key, strlen(key));
        put(e, ":", 1);
        put(e, text, strlen(text));
        free(text);
    }
    json_decref(x);
}

lf_err lf_payload_encode(const lf_payload *p, lf_buf *out, lf_error *err)
{
    lf_err rc = lf_payload_validate(p, 0, err);
    if (rc != LF_OK)
        return rc;
    const size_t start = out->len;
    enc e = {.out = out, .rc = LF_OK, .err = err, .first = true};
    put(&e, "{", 1);
    put_key(&e, "v");
    put(&e, "\"2.0\"", 5);
    field_str(&e, "type", lf_entry_type_name(p->type));
    field_str(&e, "source", p->source);
    if (p->level != 0) {
        put_key(&e, "level");
        char lv = (char)('0' + p->level);
        put(&e, &lv, 1);
    }
    field_time(&e, "ts", p->ts_ns);
    encode_type_fields(&e, p);
    field_map(&e, "attributes", p->attributes, p->n_attributes);
    field_map(&e, "meta", p->meta, p->n_meta);
    if (p->extra_json != NULL)
        encode_extras(&e, p->extra_json);
    put(&e, "}", 1);
    if (e.rc != LF_OK) {
        lf_wipe(out->data + start, out->len - start);
        out->len = start;
    }
    return e.rc;
}

/* ------------------------------------------------------------------ decoder */

typedef struct owned {
    json_t *root;
    char *extra_text;
    char *breadcrumbs;
    lf_kv *attrs;
    lf_kv *meta;
    lf_error_link *chain;
    lf_stack_frame *frames;
    lf_reading *readings;
} owned;

/* Rejects nesting deeper than LF_PAYLOAD_MAX_DEPTH before jansson recurses into it. */
static lf_err check_depth(const unsigned char *s, size_t len, lf_error *err)
{
    int depth = 0;
    bool in_str = false;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = s[i];
        if (in_str) {
            if (c == '\\')
                i++;
            else if (c == '"')
                in_str = false;
        } else if (c == '"') {
            in_str = true;
        } else if (c == '{' || c == '[') {
            if (++depth > LF_PAYLOAD_MAX_DEPTH)
                return lf_error_set(err, LF_ERR_TOO_LARGE,
                                    "payload: JSON nested deeper than %d levels",
                                    LF_PAYLOAD_MAX_DEPTH);
        } else if (c == '}' || c == ']') {
            depth--;
        }
    }
    return LF_OK;
}

static void wipe_json(json_t *j)
{
    if (json_is_string(j)) {
        lf_wipe((char *)(uintptr_t)json_string_value(j), json_string_length(j));
    } else if (json_is_object(j)) {
        const char *k;
        json_t *v;
        json_object_foreach(j, k, v)
        {
            wipe_json(v);
        }
    } else if (json_is_array(j)) {
        size_t i;
        json_t *v;
        json_array_foreach(j, i, v)
        {
            wipe_json(v);
        }
    }
}

void lf_payload_free(lf_payload *p)
{
    if (p == NULL)
        return;
    if (p->owned_ == &lf_payload_fast_tag_) {
        lf_payload_fast_free(p); /* one block: payload, arrays and strings */
        return;
    }
    owned *o = p->owned_;
    if (o != NULL) {
        wipe_json(o->root);
        json_decref(o->root);
        if (o->extra_text != NULL) {
            lf_wipe(o->extra_text, strlen(o->extra_text));
            free(o->extra_text);
        }
        if (o->breadcrumbs != NULL) {
            lf_wipe(o->breadcrumbs, strlen(o->breadcrumbs));
            free(o->breadcrumbs);
        }
        free(o->attrs);
        free(o->meta);
        free(o->chain);
        free(o->frames);
        free(o->readings);
        free(o);
    }
    free(p);
}

typedef struct dec {
    lf_payload *p;
    owned *o;
    lf_error *err;
    json_t *extras;
} dec;

/* JSON null in a known field means "absent" (JavaScript senders write null for unset). */
static lf_err want_string(dec *d, const char *key, json_t *v, const char **out)
{
    if (json_is_null(v))
        return LF_OK;
    if (!json_is_string(v))
        return lf_error_set(d->err, LF_ERR_INVALID, "payload: field '%s' is not a string", key);
    *out = json_string_value(v);
    return LF_OK;
}

static lf_err want_number(dec *d, const char *key, json_t *v, double *out)
{
    if (json_is_null(v))
        return LF_OK;
    if (!json_is_number(v))
        return lf_error_set(d->err, LF_ERR_INVALID, "payload: field '%s' is not a number", key);
    *out = json_number_value(v);
    return LF_OK;
}

static lf_err want_time(dec *d, const char *key, json_t *v, int64_t *out)
{
    if (json_is_null(v) && strcmp(key, "ts") != 0)
        return LF_OK;
    if (!json_is_string(v))
        return lf_error_set(d->err, LF_ERR_INVALID, "payload: field '%s' is not a string", key);
    lf_error tmp;
    if (lf_rfc3339_parse(json_string_value(v), json_string_length(v), out, &tmp) != LF_OK)
        return lf_error_set(d->err, LF_ERR_INVALID, "payload: field '%s': %s", key, tmp.message);
    return LF_OK;
}

static lf_err decode_map(dec *d, const char *key, json_t *v, lf_kv **out, size_t *n_out)
{
    if (!json_is_object(v))
        return lf_error_set(d->err, LF_ERR_INVALID, "payload: '%s' is not an object", key);
    size_t n = json_object_size(v);
    if (n > LF_PAYLOAD_MAX_ATTRS)
        return lf_error_set(d->err, LF_ERR_TOO_LARGE, "payload: %zu %s (at most %d)", n, key,
                            LF_PAYLOAD_MAX_ATTRS);
    lf_kv *kv = calloc(n ? n : 1, sizeof *kv);
    if (kv == NULL)
        return lf_error_set(d->err, LF_ERR_NOMEM, "payload: out of memory");
    *out = kv;
    size_t i = 0;
    const char *k;
    json_t *val;
    json_object_foreach(v, k, val)
    {
        if (!json_is_string(val))
            return lf_error_set(d->err, LF_ERR_INVALID, "payload: %s value %zu is not a string",
                                key, i);
        kv[i].key = k;
        kv[i].value = json_string_value(val);
        i++;
    }
    *n_out = n;
    return LF_OK;
}

static lf_err decode_array(dec *d, const char *key, json_t *v, size_t elem, void **out,
                           size_t *n_out)
{
    if (!json_is_array(v))
        return lf_error_set(d->err, LF_ERR_INVALID, "payload: '%s' is not an array", key);
    size_t n = json_array_size(v);
    if (n > LF_PAYLOAD_MAX_LIST)
        return lf_error_set(d->err, LF_ERR_TOO_LARGE, "payload: '%s' has %zu entries", key, n);
    *out = calloc(n ? n : 1, elem);
    if (*out == NULL)
        return lf_error_set(d->err, LF_ERR_NOMEM, "payload: out of memory");
    *n_out = n;
    for (size_t i = 0; i < n; i++)
        if (!json_is_object(json_array_get(v, i)))
            return lf_error_set(d->err, LF_ERR_INVALID, "payload: %s[%zu] is not an object", key,
                                i);
    return LF_OK;
}

/* Optional string member of an array element. */
static lf_err member_str(dec *d, const char *arr, size_t i, json_t *obj, const char *key,
                         const char **out)
{
    json_t *v = json_object_get(obj, key);
    if (v == NULL || json_is_null(v))
        return LF_OK;
    if (!json_is_string(v))
        return lf_error_set(d->err, LF_ERR_INVALID, "payload: %s[%zu].%s is not a string", arr, i,
                            key);
    *out = json_string_value(v);
    return LF_OK;
}

static lf_err decode_log_field(dec *d, const char *key, json_t *v, bool *known)
{
    lf_payload *p = d->p;
    lf_err rc = LF_OK;
    *known = true;
    if (strcmp(key, "message") == 0) {
        if ((rc = want_string(d, key, v, &p->log.message)) == LF_OK &&
            json_string_length(v) > LF_PAYLOAD_MAX_MESSAGE)
            rc = lf_error_set(d->err, LF_ERR_TOO_LARGE, "payload: message longer than 1 MiB");
    } else if (strcmp(key, "logger") == 0) {
        rc = want_string(d, key, v, &p->log.logger);
    } else if (strcmp(key, "error_type") == 0) {
        rc = want_string(d, key, v, &p->log.error_type);
    } else if (strcmp(key, "error_chain") == 0) {
        rc = decode_array(d, key, v, sizeof(lf_error_link), (void **)&d->o->chain,
                          &p->log.n_error_chain);
        p->log.error_chain = d->o->chain;
        for (size_t i = 0; rc == LF_OK && i < p->log.n_error_chain; i++) {
            json_t *el = json_array_get(v, i);
            if ((rc = member_str(d, key, i, el, "type", &d->o->chain[i].type)) == LF_OK)
                rc = member_str(d, key, i, el, "message", &d->o->chain[i].message);
        }
    } else if (strcmp(key, "stack_trace") == 0) {
        rc = decode_array(d, key, v, sizeof(lf_stack_frame), (void **)&d->o->frames,
                          &p->log.n_stack_trace);
        p->log.stack_trace = d->o->frames;
        for (size_t i = 0; rc == LF_OK && i < p->log.n_stack_trace; i++) {
            json_t *el = json_array_get(v, i), *line = json_object_get(el, "line");
            if ((rc = member_str(d, key, i, el, "function", &d->o->frames[i].function)) == LF_OK &&
                (rc = member_str(d, key, i, el, "file", &d->o->frames[i].file)) == LF_OK &&
                line != NULL && !json_is_null(line)) {
                if (!json_is_integer(line))
                    rc = lf_error_set(d->err, LF_ERR_INVALID,
                                      "payload: stack_trace[%zu].line is not an integer", i);
                else
                    d->o->frames[i].line = json_integer_value(line);
            }
        }
    } else if (strcmp(key, "breadcrumbs") == 0) {
        if (!json_is_array(v))
            return lf_error_set(d->err, LF_ERR_INVALID, "payload: 'breadcrumbs' is not an array");
        d->o->breadcrumbs = json_dumps(v, JSON_COMPACT);
        if (d->o->breadcrumbs == NULL)
            return lf_error_set(d->err, LF_ERR_NOMEM, "payload: out of memory");
        p->log.breadcrumbs_json = d->o->breadcrumbs;
    } else {
        *known = false;
    }
    return rc;
}

static lf_err decode_type_field(dec *d, const char *key, json_t *v, bool *known)
{
    lf_payload *p = d->p;
    *known = true;
    struct sfield {
        const char *name;
        const char **dst;
    };
    const struct sfield metric[] = {{"name", &p->metric.name},
                                    {"unit", &p->metric.unit},
                                    {"kind", &p->metric.kind},
                                    {NULL, NULL}};
    const struct sfield trace[] = {{"trace_id", &p->trace.trace_id},
                                   {"span_id", &p->trace.span_id},
                                   {"parent_span_id", &p->trace.parent_span_id},
                                   {"operation", &p->trace.operation},
                                   {"name", &p->trace.name},
                                   {"status", &p->trace.status},
                                   {NULL, NULL}};
    const struct sfield event[] = {{"event", &p->event.event}, {NULL, NULL}};
    const struct sfield audit[] = {{"action", &p->audit.action},
                                   {"actor", &p->audit.actor},
                                   {"actor_type", &p->audit.actor_type},
                                   {"resource", &p->audit.resource},
                                   {"resource_id", &p->audit.resource_id},
                                   {"outcome", &p->audit.outcome},
                                   {NULL, NULL}};
    const struct sfield telemetry[] = {{"device_id", &p->telemetry.device_id}, {NULL, NULL}};
    const struct sfield *table = NULL;
    switch (p->type) {
    case LF_ENTRY_LOG:
        return decode_log_field(d, key, v, known);
    case LF_ENTRY_METRIC:
        if (strcmp(key, "value") == 0)
            return want_number(d, key, v, &p->metric.value);
        table = metric;
        break;
    case LF_ENTRY_TRACE:
        if (strcmp(key, "start_time") == 0)
            return want_time(d, key, v, &p->trace.start_ns);
        if (strcmp(key, "end_time") == 0)
            return want_time(d, key, v, &p->trace.end_ns);
        if (strcmp(key, "duration_ms") == 0) {
            p->trace.has_duration = !json_is_null(v);
            return want_number(d, key, v, &p->trace.duration_ms);
        }
        table = trace;
        break;
    case LF_ENTRY_EVENT:
        table = event;
        break;
    case LF_ENTRY_AUDIT:
        table = audit;
        break;
    default:
        if (strcmp(key, "readings") == 0) {
            lf_err rc = decode_array(d, key, v, sizeof(lf_reading), (void **)&d->o->readings,
                                     &p->telemetry.n_readings);
            p->telemetry.readings = d->o->readings;
            for (size_t i = 0; rc == LF_OK && i < p->telemetry.n_readings; i++) {
                json_t *el = json_array_get(v, i), *num = json_object_get(el, "value");
                if ((rc = member_str(d, key, i, el, "name", &d->o->readings[i].name)) == LF_OK &&
                    (rc = member_str(d, key, i, el, "unit", &d->o->readings[i].unit)) == LF_OK &&
                    num != NULL && !json_is_null(num)) {
                    if (!json_is_number(num))
                        rc = lf_error_set(d->err, LF_ERR_INVALID,
                                          "payload: readings[%zu].value is not a number", i);
                    else
                        d->o->readings[i].value = json_number_value(num);
                }
            }
            return rc;
        }
        table = telemetry;
        break;
    }
    for (const struct sfield *f = table; f->name != NULL; f++)
        if (strcmp(key, f->name) == 0)
            return want_string(d, key, v, f->dst);
    *known = false;
    return LF_OK;
}

static lf_err decode_field(dec *d, const char *key, json_t *v)
{
    lf_payload *p = d->p;
    lf_err rc;
    bool known = true;
    if (strcmp(key, "v") == 0 || strcmp(key, "type") == 0)
        return LF_OK; /* checked before the walk */
    if (strcmp(key, "source") == 0) {
        if ((rc = want_string(d, key, v, &p->source)) == LF_OK &&
            json_string_length(v) > LF_PAYLOAD_MAX_SOURCE)
            rc = lf_error_set(d->err, LF_ERR_TOO_LARGE, "payload: source longer than %d bytes",
                              LF_PAYLOAD_MAX_SOURCE);
        return rc;
    }
    if (strcmp(key, "level") == 0) {
        if (!json_is_integer(v) || json_integer_value(v) < 1 || json_integer_value(v) > 8)
            return lf_error_set(d->err, LF_ERR_INVALID, "payload: level is not an integer 1..8");
        p->level = (int)json_integer_value(v);
        return LF_OK;
    }
    if (strcmp(key, "ts") == 0)
        return want_time(d, key, v, &p->ts_ns);
    if (strcmp(key, "attributes") == 0) {
        rc = decode_map(d, key, v, &d->o->attrs, &p->n_attributes);
        p->attributes = d->o->attrs;
        return rc;
    }
    if (strcmp(key, "meta") == 0) {
        rc = decode_map(d, key, v, &d->o->meta, &p->n_meta);
        p->meta = d->o->meta;
        return rc;
    }
    if (p->type == LF_ENTRY_METRIC && strcmp(key, "metric_type") == 0 &&
        json_object_get(d->o->root, "kind") == NULL)
        return want_string(d, key, v, &p->metric.kind); /* TypeScript SDK's name for kind */
    rc = decode_type_field(d, key, v, &known);
    if (rc != LF_OK || known)
        return rc;
    if (d->extras == NULL && (d->extras = json_object()) == NULL)
        return lf_error_set(d->err, LF_ERR_NOMEM, "payload: out of memory");
    if (json_object_set(d->extras, key, v) != 0)
        return lf_error_set(d->err, LF_ERR_NOMEM, "payload: out of memory");
    return LF_OK;
}

static lf_err decode_header(dec *d, int entry_type)
{
    json_t *root = d->o->root;
    json_t *v = json_object_get(root, "v"), *t = json_object_get(root, "type");
    if (v == NULL)
        return lf_error_set(d->err, LF_ERR_INVALID, "payload: missing 'v'");
    if (!json_is_string(v) || strcmp(json_string_value(v), "2.0") != 0)
        return lf_error_set(d->err, LF_ERR_UNSUPPORTED, "payload: schema version is not \"2.0\"");
    if (!json_is_string(t))
        return lf_error_set(d->err, LF_ERR_INVALID, "payload: missing or non-string 'type'");
    int jt = lf_entry_type_from_name(json_string_value(t), json_string_length(t));
    if (jt == 0)
        return lf_error_set(d->err, LF_ERR_INVALID, "payload: unknown type '%.32s'",
                            json_string_value(t));
    if (entry_type != 0) {
        int expect = entry_type == LF_ENTRY_TELEMETRY_MANAGED ? LF_ENTRY_TELEMETRY : entry_type;
        if (entry_type < 1 || entry_type > 7 || jt != expect)
            return lf_error_set(d->err, LF_ERR_INVALID,
                                "payload: type '%s' does not match entry type %d",
                                lf_entry_type_name(jt), entry_type);
        jt = entry_type;
    }
    d->p->type = jt;
    if (json_object_get(root, "ts") == NULL)
        return lf_error_set(d->err, LF_ERR_INVALID, "payload: missing 'ts'");
    return LF_OK;
}

lf_err lf_payload_decode_slow(const void *json, size_t len, int entry_type, int64_t now_ns,
                              lf_payload **out, lf_error *err)
{
    lf_err rc;
    *out = NULL;
    if (len > LF_PAYLOAD_MAX_JSON)
        return lf_error_set(err, LF_ERR_TOO_LARGE, "payload: %zu bytes of JSON (at most %u)", len,
                            LF_PAYLOAD_MAX_JSON);
    if ((rc = check_depth(json, len, err)) != LF_OK)
        return rc;
    lf_payload *p = calloc(1, sizeof *p);
    owned *o = calloc(1, sizeof *o);
    if (p == NULL || o == NULL) {
        free(p);
        free(o);
        return lf_error_set(err, LF_ERR_NOMEM, "payload: out of memory");
    }
    p->owned_ = o;
    json_error_t jerr;
    o->root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &jerr);
    if (o->root == NULL) {
        /* jerr.text may quote input; report only the position */
        rc = lf_error_set(err, LF_ERR_INVALID, "payload: malformed JSON at byte %d", jerr.position);
        goto fail;
    }
    if (!json_is_object(o->root)) {
        rc = lf_error_set(err, LF_ERR_INVALID, "payload: JSON is not an object");
        goto fail;
    }
    dec d = {.p = p, .o = o, .err = err, .extras = NULL};
    if ((rc = decode_header(&d, entry_type)) != LF_OK)
        goto fail;
    const char *key;
    json_t *v;
    json_object_foreach(o->root, key, v)
    {
        if ((rc = decode_field(&d, key, v)) != LF_OK)
            break;
    }
    if (rc == LF_OK && d.extras != NULL) {
        o->extra_text = json_dumps(d.extras, JSON_COMPACT);
        if (o->extra_text == NULL)
            rc = lf_error_set(err, LF_ERR_NOMEM, "payload: out of memory");
        p->extra_json = o->extra_text;
    }
    json_decref(d.extras);
    if (rc == LF_OK)
        rc = lf_payload_validate(p, now_ns, err);
    if (rc != LF_OK)
        goto fail;
    *out = p;
    return LF_OK;
fail:
    lf_payload_free(p);
    return rc;
}

lf_err lf_payload_decode(const void *json, size_t len, int entry_type, int64_t now_ns,
                         lf_payload **out, lf_error *err)
{
    /* The fast path (payload_fast.c) takes the common flat shape or declines; everything it
     * declines, including every input that is to be refused, is decided here as before. */
    if (LF_PAYLOAD_FAST_ENABLED && lf_payload_decode_fast(json, len, entry_type, now_ns, out))
        return LF_OK;
    return lf_payload_decode_slow(json, len, entry_type, now_ns, out, err);
}

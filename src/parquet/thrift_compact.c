/*
 * thrift_compact.c — Thrift compact protocol encoder and bounded decoder for lf_parquet.
 *
 * Wire rules used here (from the Thrift compact protocol description):
 *   - integers are zigzag ULEB128 varints (i16, i32, i64); i8 is one raw byte;
 *   - a field header is one byte (delta << 4 | type) when the id is 1..15 above the previous
 *     field's id in the same struct, else the type byte followed by the zigzag i16 id;
 *   - booleans in fields live in the header's type (1 true, 2 false); in lists, one byte each;
 *   - binary is a varint length then the bytes; list/set headers are (size << 4 | type) for
 *     sizes below 15, else (0xF0 | type) and a varint size; maps are a varint size and, when
 *     non-empty, one byte of key/value types.
 * The decoder never reads past `end`, never nests deeper than TC_MAX_DEPTH and refuses varints
 * longer than their type allows.
 */
#include "thrift_compact.h"

#include <string.h>

/* ---------------------------------------------------------------------------- encoder */

void tcw_init(tc_writer *w, lf_buf *out)
{
    memset(w, 0, sizeof(*w));
    w->out = out;
}

static void put_byte(tc_writer *w, uint8_t b)
{
    if (!w->failed && lf_buf_append_u8(w->out, b) != LF_OK)
        w->failed = true;
}

static void put_bytes(tc_writer *w, const void *p, size_t len)
{
    if (!w->failed && len > 0 && lf_buf_append(w->out, p, len) != LF_OK)
        w->failed = true;
}

static void put_varint(tc_writer *w, uint64_t v)
{
    uint8_t tmp[10];
    size_t n = 0;
    while (v >= 0x80) {
        tmp[n++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    tmp[n++] = (uint8_t)v;
    put_bytes(w, tmp, n);
}

static uint64_t zigzag64(int64_t v)
{
    return ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
}

void tcw_struct_begin(tc_writer *w)
{
    if (w->depth + 1 >= TC_MAX_DEPTH) {
        w->failed = true;
        return;
    }
    w->depth++;
    w->last_id[w->depth] = 0;
}

void tcw_struct_end(tc_writer *w)
{
    put_byte(w, TC_STOP);
    if (w->depth > 0)
        w->depth--;
}

void tcw_field(tc_writer *w, int16_t id, uint8_t type)
{
    int delta = id - w->last_id[w->depth];
    if (delta > 0 && delta <= 15) {
        put_byte(w, (uint8_t)((delta << 4) | type));
    } else {
        put_byte(w, type);
        put_varint(w, zigzag64(id));
    }
    w->last_id[w->depth] = id;
}

void tcw_i32(tc_writer *w, int32_t v)
{
    put_varint(w, zigzag64(v));
}

void tcw_binary(tc_writer *w, const void *p, size_t len)
{
    put_varint(w, len);
    put_bytes(w, p, len);
}

void tcw_field_i32(tc_writer *w, int16_t id, int32_t v)
{
    tcw_field(w, id, TC_I32);
    put_varint(w, zigzag64(v));
}

void tcw_field_i64(tc_writer *w, int16_t id, int64_t v)
{
    tcw_field(w, id, TC_I64);
    put_varint(w, zigzag64(v));
}

void tcw_field_i8(tc_writer *w, int16_t id, int8_t v)
{
    tcw_field(w, id, TC_BYTE);
    put_byte(w, (uint8_t)v);
}

void tcw_field_bool(tc_writer *w, int16_t id, bool v)
{
    tcw_field(w, id, v ? TC_TRUE : TC_FALSE);
}

void tcw_field_binary(tc_writer *w, int16_t id, const void *p, size_t len)
{
    tcw_field(w, id, TC_BINARY);
    tcw_binary(w, p, len);
}

void tcw_field_string(tc_writer *w, int16_t id, const char *s)
{
    tcw_field_binary(w, id, s, strlen(s));
}

void tcw_field_struct(tc_writer *w, int16_t id)
{
    tcw_field(w, id, TC_STRUCT);
    tcw_struct_begin(w);
}

void tcw_list_header(tc_writer *w, uint8_t elem_type, size_t n)
{
    if (n < 15) {
        put_byte(w, (uint8_t)((n << 4) | elem_type));
    } else {
        put_byte(w, (uint8_t)(0xF0 | elem_type));
        put_varint(w, n);
    }
}

void tcw_field_list(tc_writer *w, int16_t id, uint8_t elem_type, size_t n)
{
    tcw_field(w, id, TC_LIST);
    tcw_list_header(w, elem_type, n);
}

/* ---------------------------------------------------------------------------- decoder */

void tcr_init(tc_reader *r, const uint8_t *p, size_t len, uint32_t max_list, const char *what,
              lf_error *err)
{
    memset(r, 0, sizeof(*r));
    r->p = p;
    r->end = p + len;
    r->max_list = max_list;
    r->what = what;
    r->err = err;
}

bool tcr_ok(const tc_reader *r)
{
    return r->status == LF_OK;
}

void tcr_fail(tc_reader *r, lf_err code, const char *msg)
{
    if (r->status != LF_OK)
        return;
    r->status = code;
    lf_error_set(r->err, code, "parquet: %s: %s", r->what, msg);
    r->p = r->end; /* nothing more is read */
}

static uint8_t get_byte(tc_reader *r)
{
    if (r->status != LF_OK)
        return 0;
    if (r->p >= r->end) {
        tcr_fail(r, LF_ERR_TRUNCATED, "Thrift data ends early");
        return 0;
    }
    return *r->p++;
}

static uint64_t get_varint(tc_reader *r, int max_bytes)
{
    uint64_t v = 0;
    for (int i = 0; i < max_bytes; i++) {
        uint8_t b = get_byte(r);
        if (r->status != LF_OK)
            return 0;
        v |= (uint64_t)(b & 0x7F) << (7 * i);
        if (!(b & 0x80))
            return v;
    }
    tcr_fail(r, LF_ERR_INVALID, "Thrift varint too long");
    return 0;
}

static int64_t unzigzag(uint64_t v)
{
    return (int64_t)(v >> 1) ^ -(int64_t)(v & 1);
}

bool tcr_struct_begin(tc_reader *r)
{
    if (r->status != LF_OK)
        return false;
    if (r->depth + 1 >= TC_MAX_DEPTH) {
        tcr_fail(r, LF_ERR_TOO_LARGE, "Thrift structures nested too deeply");
        return false;
    }
    r->depth++;
    r->last_id[r->depth] = 0;
    return true;
}

void tcr_struct_end(tc_reader *r)
{
    if (r->depth > 0)
        r->depth--;
}

bool tcr_field(tc_reader *r, int16_t *id, uint8_t *type)
{
    uint8_t b = get_byte(r);
    if (r->status != LF_OK || b == TC_STOP)
        return false;
    uint8_t t = b & 0x0F;
    int delta = b >> 4;
    int64_t fid;
    if (delta != 0) {
        fid = r->last_id[r->depth] + delta;
    } else {
        fid = unzigzag(get_varint(r, 3));
    }
    if (r->status != LF_OK)
        return false;
    if (fid < INT16_MIN || fid > INT16_MAX || t > TC_STRUCT) {
        tcr_fail(r, LF_ERR_INVALID, "bad Thrift field header");
        return false;
    }
    r->last_id[r->depth] = (int16_t)fid;
    *id = (int16_t)fid;
    *type = t;
    return true;
}

bool tcr_bool_of(uint8_t type)
{
    return type == TC_TRUE;
}

int32_t tcr_i32(tc_reader *r)
{
    int64_t v = unzigzag(get_varint(r, 5));
    if (v < INT32_MIN || v > INT32_MAX) {
        tcr_fail(r, LF_ERR_INVALID, "Thrift i32 out of range");
        return 0;
    }
    return (int32_t)v;
}

int64_t tcr_i64(tc_reader *r)
{
    return unzigzag(get_varint(r, 10));
}

int8_t tcr_i8(tc_reader *r)
{
    return (int8_t)get_byte(r);
}

const uint8_t *tcr_binary(tc_reader *r, uint32_t *len)
{
    uint64_t n = get_varint(r, 5);
    *len = 0;
    if (r->status != LF_OK)
        return NULL;
    if (n > (uint64_t)(r->end - r->p)) {
        tcr_fail(r, LF_ERR_TRUNCATED, "Thrift binary longer than the data left");
        return NULL;
    }
    const uint8_t *p = r->p;
    r->p += n;
    *len = (uint32_t)n;
    return p;
}

uint32_t tcr_list(tc_reader *r, uint8_t *elem_type)
{
    uint8_t b = get_byte(r);
    uint64_t n = b >> 4;
    *elem_type = b & 0x0F;
    if (n == 15)
        n = get_varint(r, 5);
    if (r->status != LF_OK)
        return 0;
    if (*elem_type > TC_STRUCT || *elem_type == TC_STOP) {
        tcr_fail(r, LF_ERR_INVALID, "bad Thrift list element type");
        return 0;
    }
    if (n > r->max_list) {
        tcr_fail(r, LF_ERR_TOO_LARGE, "Thrift list longer than the limit");
        return 0;
    }
    /* Every element takes at least one byte on the wire: a cheap bound before any allocation. */
    if (n > (uint64_t)(r->end - r->p)) {
        tcr_fail(r, LF_ERR_TRUNCATED, "Thrift list longer than the data left");
        return 0;
    }
    return (uint32_t)n;
}

int32_t tcr_field_i32(tc_reader *r, uint8_t type)
{
    if (type != TC_I32 && type != TC_I16 && type != TC_BYTE) {
        tcr_fail(r, LF_ERR_INVALID, "Thrift field has the wrong type (want i32)");
        return 0;
    }
    if (type == TC_BYTE)
        return tcr_i8(r);
    return tcr_i32(r);
}

int64_t tcr_field_i64(tc_reader *r, uint8_t type)
{
    if (type != TC_I64 && type != TC_I32 && type != TC_I16) {
        tcr_fail(r, LF_ERR_INVALID, "Thrift field has the wrong type (want i64)");
        return 0;
    }
    return tcr_i64(r);
}

void tcr_skip(tc_reader *r, uint8_t type)
{
    if (r->status != LF_OK)
        return;
    switch (type) {
    case TC_TRUE:
    case TC_FALSE:
        return; /* the value was in the field header */
    case TC_BYTE:
        (void)get_byte(r);
        return;
    case TC_I16:
    case TC_I32:
    case TC_I64:
        (void)get_varint(r, 10);
        return;
    case TC_DOUBLE:
        if (r->end - r->p < 8) {
            tcr_fail(r, LF_ERR_TRUNCATED, "Thrift double ends early");
            return;
        }
        r->p += 8;
        return;
    case TC_BINARY: {
        uint32_t len;
        (void)tcr_binary(r, &len);
        return;
    }
    case TC_LIST:
    case TC_SET: {
        uint8_t et;
        uint32_t n = tcr_list(r, &et);
        if (!tcr_struct_begin(r)) /* count list nesting against the depth bound too */
            return;
        for (uint32_t i = 0; i < n && r->status == LF_OK; i++) {
            if (et == TC_TRUE || et == TC_FALSE)
                (void)get_byte(r);
            else
                tcr_skip(r, et);
        }
        tcr_struct_end(r);
        return;
    }
    case TC_MAP: {
        uint64_t n = get_varint(r, 5);
        if (r->status != LF_OK || n == 0)
            return;
        if (n > r->max_list || n > (uint64_t)(r->end - r->p)) {
            tcr_fail(r, LF_ERR_TOO_LARGE, "Thrift map too large");
            return;
        }
        uint8_t kv = get_byte(r);
        uint8_t kt = kv >> 4, vt = kv & 0x0F;
        if (kt == TC_STOP || vt == TC_STOP || kt > TC_STRUCT || vt > TC_STRUCT) {
            tcr_fail(r, LF_ERR_INVALID, "bad Thrift map types");
            return;
        }
        if (!tcr_struct_begin(r))
            return;
        for (uint64_t i = 0; i < n && r->status == LF_OK; i++) {
            uint8_t ts[2] = {kt, vt};
            for (int k = 0; k < 2; k++) {
                if (ts[k] == TC_TRUE || ts[k] == TC_FALSE)
                    (void)get_byte(r);
                else
                    tcr_skip(r, ts[k]);
            }
        }
        tcr_struct_end(r);
        return;
    }
    case TC_STRUCT: {
        if (!tcr_struct_begin(r))
            return;
        int16_t id;
        uint8_t t;
        while (tcr_field(r, &id, &t))
            tcr_skip(r, t);
        tcr_struct_end(r);
        return;
    }
    default:
        tcr_fail(r, LF_ERR_INVALID, "unknown Thrift type");
        return;
    }
}

/*
 * schema.c — logfluxd's Parquet storage schema (see schema.h and docs/WORKER.md).
 *
 * Timestamps are INT64 TIMESTAMP(NANOS) holding UTC so DuckDB and every other reader see real
 * times at full precision;
 * small integers are INT32 with an INT(32, signed) annotation; the nonce is a 12-byte
 * FIXED_LEN_BYTE_ARRAY. Every column is REQUIRED: an empty token list is an empty byte array,
 * not NULL, so rows rebuild the native header (PROTOCOL §3.1) without special cases.
 */
#include "worker/schema.h"

#include <string.h>

#include "logflux/buf.h"
#include "logflux/timefmt.h"

/* isAdjustedToUTC = false on purpose: DuckDB maps UTC-adjusted nanosecond timestamps to
 * TIMESTAMPTZ, which has microsecond precision, and the nanoseconds matter (ts_min/ts_max are
 * authenticated header fields the customer's tools rebuild byte for byte). The values are UTC
 * by definition (docs/WORKER.md). */
#define TS_NS                                                                                      \
    {                                                                                              \
        .kind = LF_PQ_LOGICAL_TIMESTAMP, .unit = LF_PQ_NANOS, .utc_adjusted = false                \
    }
#define STR                                                                                        \
    {                                                                                              \
        .kind = LF_PQ_LOGICAL_STRING                                                               \
    }
#define I32                                                                                        \
    {                                                                                              \
        .kind = LF_PQ_LOGICAL_INT, .bit_width = 32, .is_signed = true                              \
    }

const lf_pq_column lfd_schema_columns[LFD_COL__COUNT] = {
    [LFD_COL_TENANT] = {.name = "tenant", .type = LF_PQ_BYTE_ARRAY, .logical = STR},
    [LFD_COL_APP] = {.name = "app", .type = LF_PQ_BYTE_ARRAY, .logical = STR},
    [LFD_COL_FORMAT] = {.name = "format", .type = LF_PQ_INT32, .logical = I32},
    [LFD_COL_KIND] = {.name = "kind", .type = LF_PQ_INT32, .logical = I32},
    [LFD_COL_ENTRY_TYPE] = {.name = "entry_type", .type = LF_PQ_INT32, .logical = I32},
    [LFD_COL_FLAGS] = {.name = "flags", .type = LF_PQ_INT32, .logical = I32},
    [LFD_COL_KEY_ID] = {.name = "key_id", .type = LF_PQ_BYTE_ARRAY, .logical = STR},
    [LFD_COL_SEQUENCE] = {.name = "sequence", .type = LF_PQ_INT64},
    [LFD_COL_TS] = {.name = "ts", .type = LF_PQ_INT64, .logical = TS_NS},
    [LFD_COL_TS_MAX] = {.name = "ts_max", .type = LF_PQ_INT64, .logical = TS_NS},
    [LFD_COL_COUNT] = {.name = "count", .type = LF_PQ_INT32, .logical = I32},
    [LFD_COL_NONCE] = {.name = "nonce", .type = LF_PQ_FIXED_LEN_BYTE_ARRAY, .type_length = 12},
    [LFD_COL_SEARCH_TOKENS] = {.name = "search_tokens", .type = LF_PQ_BYTE_ARRAY},
    [LFD_COL_CIPHERTEXT] = {.name = "ciphertext", .type = LF_PQ_BYTE_ARRAY},
    [LFD_COL_INGEST_TIME] = {.name = "ingest_time", .type = LF_PQ_INT64, .logical = TS_NS},
    [LFD_COL_SPOOL_SEQ] = {.name = "spool_seq", .type = LF_PQ_INT64},
};

static lf_pq_value bytes(const void *p, size_t n)
{
    lf_pq_value v = {0};
    v.v.bytes.ptr = p ? p : (const uint8_t *)"";
    v.v.bytes.len = (uint32_t)n;
    return v;
}

static lf_pq_value i32(int32_t x)
{
    lf_pq_value v = {0};
    v.v.i32 = x;
    return v;
}

static lf_pq_value i64(int64_t x)
{
    lf_pq_value v = {0};
    v.v.i64 = x;
    return v;
}

void lfd_schema_values(const lfd_batch *b, const lfd_row *row, uint64_t spool_seq,
                       lf_pq_value out[LFD_COL__COUNT])
{
    out[LFD_COL_TENANT] = bytes(b->tenant, b->tenant_len);
    out[LFD_COL_APP] = bytes(b->app, b->app_len);
    out[LFD_COL_FORMAT] = i32(row->format);
    out[LFD_COL_KIND] = i32(row->kind);
    out[LFD_COL_ENTRY_TYPE] = i32(row->entry_type);
    out[LFD_COL_FLAGS] = i32(row->flags);
    out[LFD_COL_KEY_ID] = bytes(row->key_id, row->key_id_len);
    out[LFD_COL_SEQUENCE] = i64((int64_t)row->sequence);
    out[LFD_COL_TS] = i64(row->ts_min);
    out[LFD_COL_TS_MAX] = i64(row->ts_max);
    out[LFD_COL_COUNT] = i32((int32_t)row->count);
    out[LFD_COL_NONCE] = bytes(row->nonce, sizeof row->nonce);
    out[LFD_COL_SEARCH_TOKENS] = bytes(row->tokens, row->tokens_len);
    out[LFD_COL_CIPHERTEXT] = bytes(row->body, row->body_len);
    out[LFD_COL_INGEST_TIME] = i64(b->ingest_time);
    out[LFD_COL_SPOOL_SEQ] = i64((int64_t)spool_seq);
}

lf_err lfd_schema_open(const uint8_t *data, size_t len, lf_pq_reader **out, lf_error *err)
{
    lf_pq_reader *r = NULL;
    lf_err rc = lf_pq_reader_open_mem(data, len, NULL, &r, err);
    if (rc != LF_OK)
        return rc;
    const char *ver = lf_pq_reader_kv_get(r, LFD_SCHEMA_KV_KEY);
    if (ver == NULL || strcmp(ver, LFD_SCHEMA_VERSION) != 0 ||
        lf_pq_reader_num_columns(r) != LFD_COL__COUNT) {
        lf_pq_reader_close(r);
        return lf_error_set(err, LF_ERR_UNSUPPORTED, "stored file: not logflux schema %s",
                            LFD_SCHEMA_VERSION);
    }
    for (size_t i = 0; i < LFD_COL__COUNT; i++) {
        const lf_pq_column *c = lf_pq_reader_column(r, i);
        if (c == NULL || strcmp(c->name, lfd_schema_columns[i].name) != 0 ||
            c->type != lfd_schema_columns[i].type || c->optional) {
            lf_pq_reader_close(r);
            return lf_error_set(err, LF_ERR_UNSUPPORTED, "stored file: column %zu differs", i);
        }
    }
    *out = r;
    return LF_OK;
}

bool lfd_schema_rg_bounds(const lf_pq_reader *r, size_t rg, int64_t *ts_min, int64_t *ts_max)
{
    const lf_pq_stats *a = lf_pq_reader_stats(r, rg, LFD_COL_TS);
    const lf_pq_stats *b = lf_pq_reader_stats(r, rg, LFD_COL_TS_MAX);
    if (a == NULL || b == NULL || !a->has_min_max || !b->has_min_max)
        return false;
    *ts_min = a->min.v.i64;
    *ts_max = b->max.v.i64;
    return true;
}

void lfd_schema_rg_free(lfd_schema_rg *g)
{
    for (size_t i = 0; i < LFD_COL__COUNT; i++)
        lf_pq_column_data_free(&g->cols[i]);
    memset(g, 0, sizeof *g);
}

lf_err lfd_schema_rg_read(lf_pq_reader *r, size_t rg, lfd_schema_rg *out, lf_error *err)
{
    memset(out, 0, sizeof *out);
    int64_t n = lf_pq_reader_row_group_num_rows(r, rg);
    if (n < 0)
        return lf_error_set(err, LF_ERR_INVALID, "stored file: bad row group %zu", rg);
    out->num_rows = (size_t)n;
    for (size_t c = 0; c < LFD_COL__COUNT; c++) {
        lf_err rc = lf_pq_reader_read_column(r, rg, c, &out->cols[c], err);
        if (rc == LF_OK && (out->cols[c].num_values != out->num_rows || out->cols[c].null_count))
            rc = lf_error_set(err, LF_ERR_INVALID, "stored file: column %zu has bad values", c);
        if (rc != LF_OK) {
            lfd_schema_rg_free(out);
            return rc;
        }
    }
    return LF_OK;
}

void lfd_schema_row(const lfd_schema_rg *g, size_t i, lfd_stored_row *o)
{
#define V(c) (g->cols[c].values[i].v)
    o->tenant = V(LFD_COL_TENANT).bytes.ptr;
    o->tenant_len = V(LFD_COL_TENANT).bytes.len;
    o->app = V(LFD_COL_APP).bytes.ptr;
    o->app_len = V(LFD_COL_APP).bytes.len;
    o->format = V(LFD_COL_FORMAT).i32;
    o->kind = V(LFD_COL_KIND).i32;
    o->entry_type = V(LFD_COL_ENTRY_TYPE).i32;
    o->flags = V(LFD_COL_FLAGS).i32;
    o->key_id = V(LFD_COL_KEY_ID).bytes.ptr;
    o->key_id_len = V(LFD_COL_KEY_ID).bytes.len;
    o->sequence = V(LFD_COL_SEQUENCE).i64;
    o->ts = V(LFD_COL_TS).i64;
    o->ts_max = V(LFD_COL_TS_MAX).i64;
    o->count = V(LFD_COL_COUNT).i32;
    o->nonce = V(LFD_COL_NONCE).bytes.ptr;
    o->nonce_len = V(LFD_COL_NONCE).bytes.len;
    o->tokens = V(LFD_COL_SEARCH_TOKENS).bytes.ptr;
    o->tokens_len = V(LFD_COL_SEARCH_TOKENS).bytes.len;
    o->ciphertext = V(LFD_COL_CIPHERTEXT).bytes.ptr;
    o->ciphertext_len = V(LFD_COL_CIPHERTEXT).bytes.len;
    o->ingest_time = V(LFD_COL_INGEST_TIME).i64;
    o->spool_seq = V(LFD_COL_SPOOL_SEQ).i64;
#undef V
}

static json_t *b64(const uint8_t *p, size_t n)
{
    size_t cap = lf_base64_encoded_len(n, false) + 1;
    char *s = malloc(cap);
    if (s == NULL)
        return NULL;
    lf_base64_encode(p, n, s, false);
    json_t *j = json_string(s);
    free(s);
    return j;
}

json_t *lfd_schema_row_json(const lfd_stored_row *r, int64_t file_id, uint64_t row_index)
{
    char ts[LF_RFC3339_MAX];
    lf_rfc3339_format(r->ts, ts);
    json_t *o = json_object();
    if (o == NULL)
        return NULL;
    int bad = 0;
    bad |= json_object_set_new(o, "tenant", json_stringn((const char *)r->tenant, r->tenant_len));
    bad |= json_object_set_new(o, "app", json_stringn((const char *)r->app, r->app_len));
    bad |= json_object_set_new(o, "format", json_integer(r->format));
    bad |= json_object_set_new(o, "kind", json_integer(r->kind));
    bad |= json_object_set_new(o, "entry_type", json_integer(r->entry_type));
    bad |= json_object_set_new(o, "flags", json_integer(r->flags));
    bad |= json_object_set_new(o, "key_id", json_stringn((const char *)r->key_id, r->key_id_len));
    bad |= json_object_set_new(o, "sequence", json_integer(r->sequence));
    bad |= json_object_set_new(o, "ts", json_integer(r->ts));
    bad |= json_object_set_new(o, "ts_rfc3339", json_string(ts));
    bad |= json_object_set_new(o, "ts_max", json_integer(r->ts_max));
    bad |= json_object_set_new(o, "count", json_integer(r->count));
    bad |= json_object_set_new(o, "nonce", b64(r->nonce, r->nonce_len));
    bad |= json_object_set_new(o, "search_tokens", b64(r->tokens, r->tokens_len));
    bad |= json_object_set_new(o, "ciphertext", b64(r->ciphertext, r->ciphertext_len));
    bad |= json_object_set_new(o, "ingest_time", json_integer(r->ingest_time));
    bad |= json_object_set_new(o, "spool_seq", json_integer(r->spool_seq));
    bad |= json_object_set_new(o, "file_id", json_integer(file_id));
    bad |= json_object_set_new(o, "row", json_integer((json_int_t)row_index));
    if (bad) {
        json_decref(o);
        return NULL;
    }
    return o;
}

bool lfd_schema_token_match(const lfd_stored_row *r, const char *token)
{
    size_t tl = strlen(token);
    if (tl == 0)
        return false;
    if (r->format == LFD_FORMAT_NATIVE) {
        uint8_t want[16];
        if (tl != 32 || lf_hex_decode(token, tl, want, sizeof want, NULL) != LF_OK)
            return false;
        for (size_t off = 0; off + 16 <= r->tokens_len; off += 16)
            if (memcmp(r->tokens + off, want, 16) == 0)
                return true;
        return false;
    }
    const char *p = (const char *)r->tokens, *end = p + r->tokens_len;
    while (p <= end) {
        const char *comma = memchr(p, ',', (size_t)(end - p));
        const char *stop = comma ? comma : end;
        if ((size_t)(stop - p) == tl && memcmp(p, token, tl) == 0)
            return true;
        if (comma == NULL)
            break;
        p = comma + 1;
    }
    return false;
}

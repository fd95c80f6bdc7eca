/*
 * parquet_writer.c — streaming Parquet writer: rows in, a complete file out only on close.
 *
 * How it works:
 *   - Each column keeps the current page in memory: PLAIN-encoded values plus, for OPTIONAL
 *     columns, one definition-level bit per row. When a page reaches the target size it is
 *     encoded (levels as the RLE / bit-packed hybrid with bit width 1, then the values),
 *     compressed with zstd and appended with its Thrift PageHeader to the column's chunk buffer.
 *   - When a row group is full (rows or bytes), every column's pending page is closed and the
 *     column chunks are written one after the other; their offsets, sizes and statistics are
 *     remembered for the footer.
 *   - Close writes the FileMetaData (Thrift compact), its 4-byte length and "PAR1", then fsyncs.
 *     The footer goes last, so a file that stops anywhere before that has no trailing magic and
 *     no reader takes it for a complete file.
 * Statistics follow each column's type order (signed INT32/INT64 and timestamps, unsigned for
 * UINT_32/UINT_64, unsigned lexicographic bytes for BYTE_ARRAY/STRING/FIXED_LEN_BYTE_ARRAY,
 * false<true, numeric order for FLOAT/DOUBLE without NaN) and the footer declares TypeDefinedOrder
 * for every column so readers trust min_value/max_value.
 * Every write goes through lf_pq_io; any failure (short write that cannot finish, ENOSPC, fsync)
 * makes the writer fail for good with a message naming the file and the offset.
 */
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <zstd.h>

#include "parquet_internal.h"
#include "thrift_compact.h"

#define PQ_PAGE_MAX_ROWS (1u << 20)

typedef union pq_scalar {
    bool b;
    int32_t i32;
    int64_t i64;
    float f;
    double d;
} pq_scalar;

typedef struct pq_stat {
    int64_t null_count;
    int64_t nan_count;
    bool has; /* at least one value counted in min/max */
    pq_scalar min, max;
    lf_buf bmin, bmax; /* byte-array types */
} pq_stat;

typedef struct pq_col {
    lf_pq_column def;
    bool unsigned_cmp;
    lf_buf values; /* current page, PLAIN */
    lf_buf levels; /* current page, definition bits, LSB first */
    uint32_t page_rows;
    uint32_t page_nulls;
    uint32_t page_defined; /* non-null values in the page (boolean bit position) */
    lf_buf chunk;          /* finished pages of the current row group */
    int64_t chunk_uncompressed;
    int64_t chunk_values;
    pq_stat st;
} pq_col;

typedef struct pq_chunk_rec {
    int64_t offset, compressed, uncompressed, num_values, null_count, nan_count;
    bool has_minmax;
    lf_buf min, max;
} pq_chunk_rec;

typedef struct pq_rg_rec {
    int64_t num_rows, offset, total_uncompressed, total_compressed;
    pq_chunk_rec *cols;
} pq_rg_rec;

typedef struct pq_kv_own {
    char *key;
    char *value;
} pq_kv_own;

struct lf_pq_writer {
    lf_pq_io io;
    int fd;
    bool own_fd;
    char name[256];
    pq_col *cols;
    size_t ncols;
    uint32_t rows_per_rg;
    uint64_t bytes_per_rg;
    uint32_t page_size;
    lf_pq_codec codec;
    int zstd_level;
    uint32_t max_stat_bytes;
    bool no_fsync;
    char *created_by;
    pq_kv_own *kv;
    size_t nkv, cap_kv;
    uint64_t offset; /* bytes written so far */
    uint64_t total_rows;
    uint32_t group_rows;
    uint64_t group_bytes;
    pq_rg_rec *rgs;
    size_t nrg, cap_rg;
    ZSTD_CCtx *cctx;
    lf_buf body, cbuf, hdr;
    lf_err failed;
    lf_error fail_err;
};

/* ---------------------------------------------------------------------------- I/O */

static ssize_t fd_write(void *ctx, const void *buf, size_t len)
{
    return write(*(int *)ctx, buf, len);
}

static int fd_fsync(void *ctx)
{
    return fsync(*(int *)ctx);
}

/* Remember the first failure: every later call reports it, and close writes no footer. */
static lf_err fail(lf_pq_writer *w, lf_error *err, lf_err code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static lf_err fail(lf_pq_writer *w, lf_error *err, lf_err code, const char *fmt, ...)
{
    char msg[LF_ERROR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (w->failed == LF_OK) {
        w->failed = code;
        lf_error_set(&w->fail_err, code, "%s", msg);
    }
    return lf_error_set(err, code, "%s", msg);
}

static lf_err io_error(lf_pq_writer *w, lf_error *err, int e, const char *op, const char *what)
{
    lf_err code = (e == ENOSPC || e == EDQUOT) ? LF_ERR_FULL : LF_ERR_IO;
    return fail(w, err, code, "parquet: %s: %s failed at offset %llu while writing %s: %s", w->name,
                op, (unsigned long long)w->offset, what, strerror(e));
}

static lf_err write_all(lf_pq_writer *w, const void *data, size_t len, const char *what,
                        lf_error *err)
{
    const uint8_t *p = data;
    while (len > 0) {
        size_t n = len > (1u << 30) ? (1u << 30) : len;
        ssize_t got = w->io.write(w->io.ctx, p, n);
        if (got < 0) {
            if (errno == EINTR)
                continue;
            return io_error(w, err, errno, "write", what);
        }
        if (got == 0 || (size_t)got > n)
            return fail(w, err, LF_ERR_IO,
                        "parquet: %s: write made no progress at offset %llu while writing %s",
                        w->name, (unsigned long long)w->offset, what);
        p += got;
        len -= (size_t)got;
        w->offset += (uint64_t)got;
    }
    return LF_OK;
}

/* ---------------------------------------------------------------------------- statistics */

static bool is_bytes(lf_pq_type t)
{
    return t == LF_PQ_BYTE_ARRAY || t == LF_PQ_FIXED_LEN_BYTE_ARRAY;
}

static lf_err buf_set(lf_buf *b, const uint8_t *p, size_t len)
{
    b->len = 0;
    return lf_buf_append(b, p, len);
}

static lf_err stat_update(pq_col *c, const lf_pq_value *v)
{
    pq_stat *s = &c->st;
    switch (c->def.type) {
    case LF_PQ_BOOLEAN:
        if (!s->has || (!v->v.b && s->min.b))
            s->min.b = v->v.b;
        if (!s->has || (v->v.b && !s->max.b))
            s->max.b = v->v.b;
        break;
    case LF_PQ_INT32:
        if (c->unsigned_cmp) {
            if (!s->has || (uint32_t)v->v.i32 < (uint32_t)s->min.i32)
                s->min.i32 = v->v.i32;
            if (!s->has || (uint32_t)v->v.i32 > (uint32_t)s->max.i32)
                s->max.i32 = v->v.i32;
        } else {
            if (!s->has || v->v.i32 < s->min.i32)
                s->min.i32 = v->v.i32;
            if (!s->has || v->v.i32 > s->max.i32)
                s->max.i32 = v->v.i32;
        }
        break;
    case LF_PQ_INT64:
        if (c->unsigned_cmp) {
            if (!s->has || (uint64_t)v->v.i64 < (uint64_t)s->min.i64)
                s->min.i64 = v->v.i64;
            if (!s->has || (uint64_t)v->v.i64 > (uint64_t)s->max.i64)
                s->max.i64 = v->v.i64;
        } else {
            if (!s->has || v->v.i64 < s->min.i64)
                s->min.i64 = v->v.i64;
            if (!s->has || v->v.i64 > s->max.i64)
                s->max.i64 = v->v.i64;
        }
        break;
    case LF_PQ_FLOAT:
        if (isnan(v->v.f)) {
            s->nan_count++;
            return LF_OK; /* NaN never goes into min/max */
        }
        if (!s->has || v->v.f < s->min.f)
            s->min.f = v->v.f;
        if (!s->has || v->v.f > s->max.f)
            s->max.f = v->v.f;
        break;
    case LF_PQ_DOUBLE:
        if (isnan(v->v.d)) {
            s->nan_count++;
            return LF_OK;
        }
        if (!s->has || v->v.d < s->min.d)
            s->min.d = v->v.d;
        if (!s->has || v->v.d > s->max.d)
            s->max.d = v->v.d;
        break;
    case LF_PQ_BYTE_ARRAY:
    case LF_PQ_FIXED_LEN_BYTE_ARRAY: {
        const uint8_t *p = v->v.bytes.ptr;
        size_t n = v->v.bytes.len;
        if (!s->has || pq_bytes_cmp(p, n, s->bmin.data, s->bmin.len) < 0)
            if (buf_set(&s->bmin, p, n) != LF_OK)
                return LF_ERR_NOMEM;
        if (!s->has || pq_bytes_cmp(p, n, s->bmax.data, s->bmax.len) > 0)
            if (buf_set(&s->bmax, p, n) != LF_OK)
                return LF_ERR_NOMEM;
        break;
    }
    }
    s->has = true;
    return LF_OK;
}

/* PLAIN encoding of a statistic (byte arrays without their length prefix). */
static lf_err stat_encode(const pq_col *c, const pq_scalar *v, const lf_buf *bv, lf_buf *out)
{
    uint8_t tmp[8];
    switch (c->def.type) {
    case LF_PQ_BOOLEAN:
        tmp[0] = v->b ? 1 : 0;
        return buf_set(out, tmp, 1);
    case LF_PQ_INT32:
        pq_store_le32(tmp, (uint32_t)v->i32);
        return buf_set(out, tmp, 4);
    case LF_PQ_INT64:
        pq_store_le64(tmp, (uint64_t)v->i64);
        return buf_set(out, tmp, 8);
    case LF_PQ_FLOAT: {
        uint32_t u;
        memcpy(&u, &v->f, 4);
        pq_store_le32(tmp, u);
        return buf_set(out, tmp, 4);
    }
    case LF_PQ_DOUBLE: {
        uint64_t u;
        memcpy(&u, &v->d, 8);
        pq_store_le64(tmp, u);
        return buf_set(out, tmp, 8);
    }
    default:
        return buf_set(out, bv->data, bv->len);
    }
}

/* Move the column's statistics into a chunk record and reset them. */
static lf_err stat_finish(lf_pq_writer *w, pq_col *c, pq_chunk_rec *rec)
{
    pq_stat *s = &c->st;
    rec->null_count = s->null_count;
    rec->nan_count = s->nan_count;
    rec->has_minmax = false;
    if (s->has) {
        /* The spec asks for -0.0 as a zero minimum and +0.0 as a zero maximum. */
        if (c->def.type == LF_PQ_FLOAT) {
            if (s->min.f == 0.0f)
                s->min.f = -0.0f;
            if (s->max.f == 0.0f)
                s->max.f = 0.0f;
        } else if (c->def.type == LF_PQ_DOUBLE) {
            if (s->min.d == 0.0)
                s->min.d = -0.0;
            if (s->max.d == 0.0)
                s->max.d = 0.0;
        }
        bool too_long = is_bytes(c->def.type) &&
                        (s->bmin.len > w->max_stat_bytes || s->bmax.len > w->max_stat_bytes);
        if (!too_long) {
            if (stat_encode(c, &s->min, &s->bmin, &rec->min) != LF_OK ||
                stat_encode(c, &s->max, &s->bmax, &rec->max) != LF_OK)
                return LF_ERR_NOMEM;
            /* buf_set with a zero length leaves data NULL: make empty values representable. */
            rec->has_minmax = true;
        }
    }
    s->null_count = s->nan_count = 0;
    s->has = false;
    s->bmin.len = s->bmax.len = 0;
    return LF_OK;
}

/* ---------------------------------------------------------------------------- pages */

static lf_err put_varint(lf_buf *b, uint64_t v)
{
    uint8_t tmp[10];
    size_t n = 0;
    while (v >= 0x80) {
        tmp[n++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    tmp[n++] = (uint8_t)v;
    return lf_buf_append(b, tmp, n);
}

/* Definition levels of an OPTIONAL column's page: 4-byte little-endian length, then the RLE /
 * bit-packed hybrid with bit width 1. A page without NULLs (or with only NULLs) is one RLE run;
 * otherwise one bit-packed run of ceil(rows/8) groups, whose bytes are exactly our bit array. */
static lf_err encode_levels(pq_col *c, lf_buf *body)
{
    size_t start = body->len;
    uint8_t zero4[4] = {0};
    lf_err e = lf_buf_append(body, zero4, 4);
    if (e == LF_OK) {
        if (c->page_nulls == 0 || c->page_nulls == c->page_rows) {
            e = put_varint(body, (uint64_t)c->page_rows << 1);
            if (e == LF_OK)
                e = lf_buf_append_u8(body, c->page_nulls == 0 ? 1 : 0);
        } else {
            size_t groups = (c->page_rows + 7) / 8;
            e = put_varint(body, ((uint64_t)groups << 1) | 1);
            if (e == LF_OK)
                e = lf_buf_append(body, c->levels.data, groups);
        }
    }
    if (e == LF_OK)
        pq_store_le32(body->data + start, (uint32_t)(body->len - start - 4));
    return e;
}

static lf_err flush_page(lf_pq_writer *w, pq_col *c, lf_error *err)
{
    if (c->page_rows == 0)
        return LF_OK;
    const lf_buf *body = &c->values;
    if (c->def.optional) {
        w->body.len = 0;
        if (encode_levels(c, &w->body) != LF_OK ||
            lf_buf_append(&w->body, c->values.data, c->values.len) != LF_OK)
            return fail(w, err, LF_ERR_NOMEM, "parquet: %s: out of memory encoding a page",
                        w->name);
        body = &w->body;
    }
    const uint8_t *payload = body->data;
    size_t payload_len = body->len;
    if (w->codec == LF_PQ_CODEC_ZSTD) {
        size_t bound = ZSTD_compressBound(body->len);
        w->cbuf.len = 0;
        if (lf_buf_reserve(&w->cbuf, bound) != LF_OK)
            return fail(w, err, LF_ERR_NOMEM, "parquet: %s: out of memory compressing a page",
                        w->name);
        size_t n =
            ZSTD_compressCCtx(w->cctx, w->cbuf.data, bound, body->data, body->len, w->zstd_level);
        if (ZSTD_isError(n))
            return fail(w, err, LF_ERR_INVALID, "parquet: %s: zstd: %s", w->name,
                        ZSTD_getErrorName(n));
        payload = w->cbuf.data;
        payload_len = n;
    }
    if (body->len > INT32_MAX || payload_len > INT32_MAX)
        return fail(w, err, LF_ERR_TOO_LARGE, "parquet: %s: page over 2 GiB", w->name);

    w->hdr.len = 0;
    tc_writer t;
    tcw_init(&t, &w->hdr);
    tcw_struct_begin(&t);
    tcw_field_i32(&t, 1, PQ_PAGE_DATA);
    tcw_field_i32(&t, 2, (int32_t)body->len);
    tcw_field_i32(&t, 3, (int32_t)payload_len);
    tcw_field_struct(&t, 5); /* DataPageHeader */
    tcw_field_i32(&t, 1, (int32_t)c->page_rows);
    tcw_field_i32(&t, 2, PQ_ENC_PLAIN);
    tcw_field_i32(&t, 3, PQ_ENC_RLE);
    tcw_field_i32(&t, 4, PQ_ENC_RLE);
    tcw_struct_end(&t);
    tcw_struct_end(&t);
    if (t.failed || lf_buf_append(&c->chunk, w->hdr.data, w->hdr.len) != LF_OK ||
        lf_buf_append(&c->chunk, payload, payload_len) != LF_OK)
        return fail(w, err, LF_ERR_NOMEM, "parquet: %s: out of memory buffering a page", w->name);
    c->chunk_uncompressed += (int64_t)(w->hdr.len + body->len);
    c->chunk_values += c->page_rows;
    c->values.len = 0;
    c->levels.len = 0;
    c->page_rows = c->page_nulls = c->page_defined = 0;
    return LF_OK;
}

static lf_err flush_row_group(lf_pq_writer *w, lf_error *err)
{
    if (w->group_rows == 0)
        return LF_OK;
    for (size_t i = 0; i < w->ncols; i++) {
        lf_err e = flush_page(w, &w->cols[i], err);
        if (e != LF_OK)
            return e;
    }
    if (w->nrg == w->cap_rg) {
        size_t cap = w->cap_rg ? w->cap_rg * 2 : 16;
        pq_rg_rec *n = realloc(w->rgs, cap * sizeof(*n));
        if (n == NULL)
            return fail(w, err, LF_ERR_NOMEM, "parquet: %s: out of memory", w->name);
        w->rgs = n;
        w->cap_rg = cap;
    }
    pq_rg_rec *rg = &w->rgs[w->nrg];
    memset(rg, 0, sizeof(*rg));
    rg->cols = calloc(w->ncols, sizeof(*rg->cols));
    if (rg->cols == NULL)
        return fail(w, err, LF_ERR_NOMEM, "parquet: %s: out of memory", w->name);
    w->nrg++;
    rg->num_rows = w->group_rows;
    rg->offset = (int64_t)w->offset;
    for (size_t i = 0; i < w->ncols; i++) {
        pq_col *c = &w->cols[i];
        pq_chunk_rec *rec = &rg->cols[i];
        rec->offset = (int64_t)w->offset;
        rec->compressed = (int64_t)c->chunk.len;
        rec->uncompressed = c->chunk_uncompressed;
        rec->num_values = c->chunk_values;
        if (stat_finish(w, c, rec) != LF_OK)
            return fail(w, err, LF_ERR_NOMEM, "parquet: %s: out of memory", w->name);
        char what[64];
        snprintf(what, sizeof(what), "row group %zu column %zu", w->nrg - 1, i);
        lf_err e = write_all(w, c->chunk.data, c->chunk.len, what, err);
        if (e != LF_OK)
            return e;
        rg->total_uncompressed += rec->uncompressed;
        rg->total_compressed += rec->compressed;
        c->chunk.len = 0;
        c->chunk_uncompressed = 0;
        c->chunk_values = 0;
    }
    w->group_rows = 0;
    w->group_bytes = 0;
    return LF_OK;
}

/* ---------------------------------------------------------------------------- rows */

static lf_err check_value(const lf_pq_writer *w, size_t i, const lf_pq_value *v, lf_error *err)
{
    const lf_pq_column *c = &w->cols[i].def;
    if (v->is_null) {
        if (!c->optional)
            return lf_error_set(err, LF_ERR_INVALID, "parquet: column %zu (%s) is REQUIRED: NULL",
                                i, c->name);
        return LF_OK;
    }
    switch (c->type) {
    case LF_PQ_INT32:
        if (c->logical.kind == LF_PQ_LOGICAL_INT && c->logical.bit_width < 32) {
            int32_t lo = c->logical.is_signed ? -(1 << (c->logical.bit_width - 1)) : 0;
            int32_t hi = c->logical.is_signed ? (1 << (c->logical.bit_width - 1)) - 1
                                              : (1 << c->logical.bit_width) - 1;
            if (v->v.i32 < lo || v->v.i32 > hi)
                return lf_error_set(err, LF_ERR_INVALID,
                                    "parquet: column %zu (%s): %d outside INT(%d, %s)", i, c->name,
                                    (int)v->v.i32, c->logical.bit_width,
                                    c->logical.is_signed ? "signed" : "unsigned");
        }
        break;
    case LF_PQ_BYTE_ARRAY:
        if (v->v.bytes.len > PQ_MAX_VALUE_BYTES)
            return lf_error_set(err, LF_ERR_TOO_LARGE,
                                "parquet: column %zu (%s): value of %u bytes over 512 MiB", i,
                                c->name, (unsigned)v->v.bytes.len);
        if (v->v.bytes.ptr == NULL && v->v.bytes.len > 0)
            return lf_error_set(err, LF_ERR_INVALID, "parquet: column %zu (%s): NULL pointer", i,
                                c->name);
        break;
    case LF_PQ_FIXED_LEN_BYTE_ARRAY:
        if (v->v.bytes.len != (uint32_t)c->type_length || v->v.bytes.ptr == NULL)
            return lf_error_set(err, LF_ERR_INVALID,
                                "parquet: column %zu (%s): value of %u bytes, type length %d", i,
                                c->name, (unsigned)v->v.bytes.len, (int)c->type_length);
        break;
    default:
        break;
    }
    return LF_OK;
}

static lf_err append_value(lf_pq_writer *w, pq_col *c, const lf_pq_value *v)
{
    if (c->def.optional) {
        size_t byte = c->page_rows / 8;
        if (byte >= c->levels.len && lf_buf_append_u8(&c->levels, 0) != LF_OK)
            return LF_ERR_NOMEM;
        if (!v->is_null)
            c->levels.data[byte] |= (uint8_t)(1u << (c->page_rows % 8));
    }
    c->page_rows++;
    if (v->is_null) {
        c->page_nulls++;
        c->st.null_count++;
        return LF_OK;
    }
    size_t before = c->values.len;
    uint8_t tmp[8];
    switch (c->def.type) {
    case LF_PQ_BOOLEAN: {
        /* PLAIN booleans are bit-packed, LSB first. */
        uint32_t bit = c->page_defined % 8;
        if (bit == 0 && lf_buf_append_u8(&c->values, 0) != LF_OK)
            return LF_ERR_NOMEM;
        if (v->v.b)
            c->values.data[c->values.len - 1] |= (uint8_t)(1u << bit);
        break;
    }
    case LF_PQ_INT32:
        pq_store_le32(tmp, (uint32_t)v->v.i32);
        if (lf_buf_append(&c->values, tmp, 4) != LF_OK)
            return LF_ERR_NOMEM;
        break;
    case LF_PQ_INT64:
        pq_store_le64(tmp, (uint64_t)v->v.i64);
        if (lf_buf_append(&c->values, tmp, 8) != LF_OK)
            return LF_ERR_NOMEM;
        break;
    case LF_PQ_FLOAT: {
        uint32_t u;
        memcpy(&u, &v->v.f, 4);
        pq_store_le32(tmp, u);
        if (lf_buf_append(&c->values, tmp, 4) != LF_OK)
            return LF_ERR_NOMEM;
        break;
    }
    case LF_PQ_DOUBLE: {
        uint64_t u;
        memcpy(&u, &v->v.d, 8);
        pq_store_le64(tmp, u);
        if (lf_buf_append(&c->values, tmp, 8) != LF_OK)
            return LF_ERR_NOMEM;
        break;
    }
    case LF_PQ_BYTE_ARRAY: {
        uint32_t n = v->v.bytes.len;
        if (lf_buf_reserve(&c->values, 4 + (size_t)n) != LF_OK)
            return LF_ERR_NOMEM;
        pq_store_le32(c->values.data + c->values.len, n);
        if (n)
            memcpy(c->values.data + c->values.len + 4, v->v.bytes.ptr, n);
        c->values.len += 4 + (size_t)n;
        break;
    }
    case LF_PQ_FIXED_LEN_BYTE_ARRAY:
        if (lf_buf_append(&c->values, v->v.bytes.ptr, v->v.bytes.len) != LF_OK)
            return LF_ERR_NOMEM;
        break;
    }
    c->page_defined++;
    w->group_bytes += c->values.len - before;
    return stat_update(c, v);
}

lf_err lf_pq_writer_add_row(lf_pq_writer *w, const lf_pq_value *values, lf_error *err)
{
    if (w == NULL || values == NULL)
        return lf_error_set(err, LF_ERR_INVALID, "parquet: add_row: NULL argument");
    if (w->failed != LF_OK)
        return lf_error_set(err, w->failed, "%s", w->fail_err.message);
    /* Check the whole row before touching any column, so a bad row changes nothing. */
    for (size_t i = 0; i < w->ncols; i++) {
        lf_err e = check_value(w, i, &values[i], err);
        if (e != LF_OK)
            return e;
    }
    for (size_t i = 0; i < w->ncols; i++) {
        pq_col *c = &w->cols[i];
        if (append_value(w, c, &values[i]) != LF_OK)
            return fail(w, err, LF_ERR_NOMEM, "parquet: %s: out of memory adding a row", w->name);
        if (c->values.len >= w->page_size || c->page_rows >= PQ_PAGE_MAX_ROWS) {
            lf_err e = flush_page(w, c, err);
            if (e != LF_OK)
                return e;
        }
    }
    w->group_rows++;
    w->total_rows++;
    if (w->group_rows >= w->rows_per_rg || w->group_bytes >= w->bytes_per_rg)
        return flush_row_group(w, err);
    return LF_OK;
}

uint64_t lf_pq_writer_num_rows(const lf_pq_writer *w)
{
    return w ? w->total_rows : 0;
}

/* ---------------------------------------------------------------------------- open / close */

static char *dup_str(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d)
        memcpy(d, s, n);
    return d;
}

lf_err lf_pq_writer_add_kv(lf_pq_writer *w, const char *key, const char *value, lf_error *err)
{
    if (w == NULL || key == NULL)
        return lf_error_set(err, LF_ERR_INVALID, "parquet: add_kv: NULL argument");
    if (w->nkv >= 4096)
        return lf_error_set(err, LF_ERR_TOO_LARGE, "parquet: %s: more than 4096 metadata keys",
                            w->name);
    if (w->nkv == w->cap_kv) {
        size_t cap = w->cap_kv ? w->cap_kv * 2 : 8;
        pq_kv_own *n = realloc(w->kv, cap * sizeof(*n));
        if (n == NULL)
            return lf_error_set(err, LF_ERR_NOMEM, "parquet: out of memory");
        w->kv = n;
        w->cap_kv = cap;
    }
    pq_kv_own *kv = &w->kv[w->nkv];
    kv->key = dup_str(key);
    kv->value = value ? dup_str(value) : NULL;
    if (kv->key == NULL || (value && kv->value == NULL)) {
        free(kv->key);
        free(kv->value);
        return lf_error_set(err, LF_ERR_NOMEM, "parquet: out of memory");
    }
    w->nkv++;
    return LF_OK;
}

static void writer_free(lf_pq_writer *w)
{
    if (w == NULL)
        return;
    for (size_t i = 0; i < w->ncols; i++) {
        pq_col *c = &w->cols[i];
        free((char *)c->def.name);
        lf_buf_free(&c->values);
        lf_buf_free(&c->levels);
        lf_buf_free(&c->chunk);
        lf_buf_free(&c->st.bmin);
        lf_buf_free(&c->st.bmax);
    }
    free(w->cols);
    for (size_t i = 0; i < w->nrg; i++) {
        for (size_t j = 0; j < w->ncols; j++) {
            lf_buf_free(&w->rgs[i].cols[j].min);
            lf_buf_free(&w->rgs[i].cols[j].max);
        }
        free(w->rgs[i].cols);
    }
    free(w->rgs);
    for (size_t i = 0; i < w->nkv; i++) {
        free(w->kv[i].key);
        free(w->kv[i].value);
    }
    free(w->kv);
    free(w->created_by);
    ZSTD_freeCCtx(w->cctx);
    lf_buf_free(&w->body);
    lf_buf_free(&w->cbuf);
    lf_buf_free(&w->hdr);
    if (w->own_fd && w->fd >= 0)
        close(w->fd);
    free(w);
}

void lf_pq_writer_abort(lf_pq_writer *w)
{
    writer_free(w);
}

/* io == NULL: write to fd through write(2)/fsync(2). */
static lf_err writer_create(const lf_pq_io *io, int fd, const char *name,
                            const lf_pq_column *columns, size_t num_columns,
                            const lf_pq_writer_options *opts, lf_pq_writer **out, lf_error *err)
{
    *out = NULL;
    lf_err e = pq_schema_validate(columns, num_columns, err);
    if (e != LF_OK)
        return e;
    lf_pq_writer_options o = {0};
    if (opts)
        o = *opts;
    if (o.page_size > (1u << 30))
        return lf_error_set(err, LF_ERR_INVALID, "parquet: page size over 1 GiB");
    if (o.codec != LF_PQ_CODEC_ZSTD && o.codec != LF_PQ_CODEC_UNCOMPRESSED)
        return lf_error_set(err, LF_ERR_INVALID, "parquet: unknown codec %d", (int)o.codec);
    if (o.num_kv > 4096 || (o.num_kv > 0 && o.kv == NULL))
        return lf_error_set(err, LF_ERR_INVALID, "parquet: bad key/value metadata");

    lf_pq_writer *w = calloc(1, sizeof(*w));
    if (w == NULL)
        return lf_error_set(err, LF_ERR_NOMEM, "parquet: out of memory");
    w->fd = fd;
    if (io) {
        w->io = *io;
    } else {
        w->io.write = fd_write;
        w->io.fsync = fd_fsync;
        w->io.ctx = &w->fd;
    }
    snprintf(w->name, sizeof(w->name), "%s", name ? name : "(stream)");
    w->rows_per_rg = o.rows_per_row_group ? o.rows_per_row_group : 65536;
    w->bytes_per_rg = o.bytes_per_row_group ? o.bytes_per_row_group : (128u << 20);
    w->page_size = o.page_size ? o.page_size : (256u << 10);
    w->codec = o.codec;
    w->zstd_level = o.zstd_level ? o.zstd_level : 1;
    w->max_stat_bytes = o.max_stat_bytes ? o.max_stat_bytes : 1024;
    w->no_fsync = o.no_fsync;
    w->created_by = dup_str(o.created_by ? o.created_by : "logflux parquet writer");
    w->cols = calloc(num_columns, sizeof(*w->cols));
    if (w->cols == NULL || w->created_by == NULL)
        goto nomem;
    w->ncols = num_columns;
    for (size_t i = 0; i < num_columns; i++) {
        w->cols[i].def = columns[i];
        w->cols[i].def.name = dup_str(columns[i].name);
        if (w->cols[i].def.name == NULL)
            goto nomem;
        w->cols[i].unsigned_cmp = pq_column_unsigned(&columns[i]);
    }
    for (size_t i = 0; i < o.num_kv; i++) {
        if (o.kv[i].key == NULL) {
            writer_free(w);
            return lf_error_set(err, LF_ERR_INVALID, "parquet: metadata key %zu is NULL", i);
        }
        e = lf_pq_writer_add_kv(w, o.kv[i].key, o.kv[i].value, err);
        if (e != LF_OK) {
            writer_free(w);
            return e;
        }
    }
    if (w->codec == LF_PQ_CODEC_ZSTD && (w->cctx = ZSTD_createCCtx()) == NULL)
        goto nomem;
    e = write_all(w, PQ_MAGIC, 4, "the leading magic", err);
    if (e != LF_OK) {
        writer_free(w);
        return e;
    }
    *out = w;
    return LF_OK;
nomem:
    writer_free(w);
    return lf_error_set(err, LF_ERR_NOMEM, "parquet: out of memory");
}

lf_err lf_pq_writer_open_io(const lf_pq_io *io, const char *name, const lf_pq_column *columns,
                            size_t num_columns, const lf_pq_writer_options *opts,
                            lf_pq_writer **out, lf_error *err)
{
    if (out == NULL || io == NULL || io->write == NULL || io->fsync == NULL)
        return lf_error_set(err, LF_ERR_INVALID, "parquet: writer_open_io: NULL argument");
    return writer_create(io, -1, name, columns, num_columns, opts, out, err);
}

lf_err lf_pq_writer_open_fd(int fd, const char *name, const lf_pq_column *columns,
                            size_t num_columns, const lf_pq_writer_options *opts,
                            lf_pq_writer **out, lf_error *err)
{
    if (fd < 0 || out == NULL)
        return lf_error_set(err, LF_ERR_INVALID, "parquet: writer_open_fd: bad argument");
    char label[64];
    if (name == NULL) {
        snprintf(label, sizeof(label), "fd %d", fd);
        name = label;
    }
    return writer_create(NULL, fd, name, columns, num_columns, opts, out, err);
}

lf_err lf_pq_writer_open(const char *path, const lf_pq_column *columns, size_t num_columns,
                         const lf_pq_writer_options *opts, lf_pq_writer **out, lf_error *err)
{
    if (path == NULL || out == NULL)
        return lf_error_set(err, LF_ERR_INVALID, "parquet: writer_open: NULL argument");
    *out = NULL;
    lf_err e = pq_schema_validate(columns, num_columns, err);
    if (e != LF_OK)
        return e;
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return lf_error_set(err, errno == ENOSPC ? LF_ERR_FULL : LF_ERR_IO,
                            "parquet: %s: cannot create: %s", path, strerror(errno));
    e = lf_pq_writer_open_fd(fd, path, columns, num_columns, opts, out, err);
    if (e != LF_OK) {
        close(fd);
        return e;
    }
    (*out)->own_fd = true;
    return LF_OK;
}

/* ---------------------------------------------------------------------------- footer */

static void encode_logical(tc_writer *t, const lf_pq_column *c)
{
    const lf_pq_logical *l = &c->logical;
    if (l->kind == LF_PQ_LOGICAL_NONE)
        return;
    tcw_field_struct(t, 10); /* LogicalType union */
    switch (l->kind) {
    case LF_PQ_LOGICAL_STRING:
        tcw_field_struct(t, 1);
        tcw_struct_end(t);
        break;
    case LF_PQ_LOGICAL_TIMESTAMP:
        tcw_field_struct(t, 8);
        tcw_field_bool(t, 1, l->utc_adjusted);
        tcw_field_struct(t, 2); /* TimeUnit union: 1 MILLIS, 2 MICROS, 3 NANOS */
        tcw_field_struct(t, l->unit == LF_PQ_MILLIS ? 1 : l->unit == LF_PQ_MICROS ? 2 : 3);
        tcw_struct_end(t);
        tcw_struct_end(t);
        tcw_struct_end(t);
        break;
    case LF_PQ_LOGICAL_INT:
        tcw_field_struct(t, 10);
        tcw_field_i8(t, 1, (int8_t)l->bit_width);
        tcw_field_bool(t, 2, l->is_signed);
        tcw_struct_end(t);
        break;
    default:
        break;
    }
    tcw_struct_end(t);
}

static void encode_footer(const lf_pq_writer *w, tc_writer *t)
{
    tcw_struct_begin(t);
    tcw_field_i32(t, 1, 1); /* version */
    tcw_field_list(t, 2, TC_STRUCT, w->ncols + 1);
    tcw_struct_begin(t); /* root */
    tcw_field_string(t, 4, "schema");
    tcw_field_i32(t, 5, (int32_t)w->ncols);
    tcw_struct_end(t);
    for (size_t i = 0; i < w->ncols; i++) {
        const lf_pq_column *c = &w->cols[i].def;
        tcw_struct_begin(t);
        tcw_field_i32(t, 1, (int32_t)c->type);
        if (c->type == LF_PQ_FIXED_LEN_BYTE_ARRAY)
            tcw_field_i32(t, 2, c->type_length);
        tcw_field_i32(t, 3, c->optional ? PQ_REP_OPTIONAL : PQ_REP_REQUIRED);
        tcw_field_string(t, 4, c->name);
        int ct = pq_converted_type(c);
        if (ct >= 0)
            tcw_field_i32(t, 6, ct);
        encode_logical(t, c);
        tcw_struct_end(t);
    }
    tcw_field_i64(t, 3, (int64_t)w->total_rows);
    tcw_field_list(t, 4, TC_STRUCT, w->nrg);
    for (size_t g = 0; g < w->nrg; g++) {
        const pq_rg_rec *rg = &w->rgs[g];
        tcw_struct_begin(t);
        tcw_field_list(t, 1, TC_STRUCT, w->ncols);
        for (size_t i = 0; i < w->ncols; i++) {
            const pq_chunk_rec *r = &rg->cols[i];
            const lf_pq_column *c = &w->cols[i].def;
            tcw_struct_begin(t);    /* ColumnChunk */
            tcw_field_i64(t, 2, 0); /* file_offset: deprecated, 0 when no external metadata */
            tcw_field_struct(t, 3); /* ColumnMetaData */
            tcw_field_i32(t, 1, (int32_t)c->type);
            tcw_field_list(t, 2, TC_I32, 2);
            tcw_i32(t, PQ_ENC_PLAIN);
            tcw_i32(t, PQ_ENC_RLE);
            tcw_field_list(t, 3, TC_BINARY, 1);
            tcw_binary(t, c->name, strlen(c->name));
            tcw_field_i32(t, 4,
                          w->codec == LF_PQ_CODEC_ZSTD ? PQ_CODEC_ZSTD : PQ_CODEC_UNCOMPRESSED);
            tcw_field_i64(t, 5, r->num_values);
            tcw_field_i64(t, 6, r->uncompressed);
            tcw_field_i64(t, 7, r->compressed);
            tcw_field_i64(t, 9, r->offset);
            tcw_field_struct(t, 12); /* Statistics */
            tcw_field_i64(t, 3, r->null_count);
            if (r->has_minmax) {
                tcw_field_binary(t, 5, r->max.data, r->max.len);
                tcw_field_binary(t, 6, r->min.data, r->min.len);
            }
            if (c->type == LF_PQ_FLOAT || c->type == LF_PQ_DOUBLE)
                tcw_field_i64(t, 9, r->nan_count);
            tcw_struct_end(t);
            tcw_struct_end(t); /* ColumnMetaData */
            tcw_struct_end(t); /* ColumnChunk */
        }
        tcw_field_i64(t, 2, rg->total_uncompressed);
        tcw_field_i64(t, 3, rg->num_rows);
        tcw_field_i64(t, 5, rg->offset);
        tcw_field_i64(t, 6, rg->total_compressed);
        if (g <= INT16_MAX) {
            tcw_field(t, 7, TC_I16);
            tcw_i32(t, (int32_t)g);
        }
        tcw_struct_end(t);
    }
    if (w->nkv > 0) {
        tcw_field_list(t, 5, TC_STRUCT, w->nkv);
        for (size_t i = 0; i < w->nkv; i++) {
            tcw_struct_begin(t);
            tcw_field_string(t, 1, w->kv[i].key);
            if (w->kv[i].value)
                tcw_field_string(t, 2, w->kv[i].value);
            tcw_struct_end(t);
        }
    }
    tcw_field_string(t, 6, w->created_by);
    tcw_field_list(t, 7, TC_STRUCT, w->ncols);
    for (size_t i = 0; i < w->ncols; i++) {
        tcw_struct_begin(t);    /* ColumnOrder union */
        tcw_field_struct(t, 1); /* TypeDefinedOrder */
        tcw_struct_end(t);
        tcw_struct_end(t);
    }
    tcw_struct_end(t);
}

lf_err lf_pq_writer_close(lf_pq_writer *w, lf_error *err)
{
    if (w == NULL)
        return lf_error_set(err, LF_ERR_INVALID, "parquet: close: NULL writer");
    lf_err e = w->failed;
    if (e != LF_OK) {
        lf_error_set(err, e, "%s", w->fail_err.message);
        goto out;
    }
    e = flush_row_group(w, err);
    if (e != LF_OK)
        goto out;
    lf_buf footer = LF_BUF_INIT;
    tc_writer t;
    tcw_init(&t, &footer);
    encode_footer(w, &t);
    if (t.failed || footer.len > UINT32_MAX) {
        lf_buf_free(&footer);
        e = fail(w, err, LF_ERR_NOMEM, "parquet: %s: out of memory encoding the footer", w->name);
        goto out;
    }
    uint8_t tail[8];
    pq_store_le32(tail, (uint32_t)footer.len);
    memcpy(tail + 4, PQ_MAGIC, 4);
    if (lf_buf_append(&footer, tail, 8) != LF_OK) {
        lf_buf_free(&footer);
        e = fail(w, err, LF_ERR_NOMEM, "parquet: %s: out of memory", w->name);
        goto out;
    }
    e = write_all(w, footer.data, footer.len, "the footer", err);
    lf_buf_free(&footer);
    if (e != LF_OK)
        goto out;
    if (!w->no_fsync) {
        while (w->io.fsync(w->io.ctx) != 0) {
            if (errno == EINTR)
                continue;
            e = io_error(w, err, errno, "fsync", "the finished file");
            goto out;
        }
    }
    if (w->own_fd) {
        int fd = w->fd;
        w->fd = -1;
        if (close(fd) != 0) {
            e = io_error(w, err, errno, "close", "the finished file");
            goto out;
        }
    }
out:
    writer_free(w);
    return e;
}

/*
 * test_parquet.c — lf_parquet writer and reader: round trips of every type (NULLs, empty
 * strings, 1 MiB values, many row groups, multi-page chunks), statistics in each type's order,
 * injected I/O faults (short writes, ENOSPC, fsync failure, no progress) at every point of a
 * file, and rejection of truncated, corrupted and oversized input.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "testutil.h"

#include "parquet.h"

/* ------------------------------------------------------------------ an in-memory, faulty io */

typedef struct fault_io {
    lf_buf data;
    size_t fail_at;   /* writes fail once this many bytes are written (SIZE_MAX: never) */
    int fail_errno;   /* errno of the failing write */
    size_t max_chunk; /* most bytes accepted per call (short writes); 0 = all */
    int fsync_errno;  /* fsync fails with this when non-zero */
    bool zero_write;  /* the failing write returns 0 instead of -1 */
    int fsyncs;
} fault_io;

static ssize_t fault_write(void *ctx, const void *buf, size_t len)
{
    fault_io *f = ctx;
    if (f->data.len >= f->fail_at) {
        if (f->zero_write)
            return 0;
        errno = f->fail_errno;
        return -1;
    }
    size_t n = len;
    if (f->max_chunk && n > f->max_chunk)
        n = f->max_chunk;
    if (n > f->fail_at - f->data.len)
        n = f->fail_at - f->data.len;
    if (lf_buf_append(&f->data, buf, n) != LF_OK) {
        errno = ENOMEM;
        return -1;
    }
    return (ssize_t)n;
}

static int fault_fsync(void *ctx)
{
    fault_io *f = ctx;
    f->fsyncs++;
    if (f->fsync_errno) {
        errno = f->fsync_errno;
        return -1;
    }
    return 0;
}

static void fault_init(fault_io *f)
{
    memset(f, 0, sizeof(*f));
    f->fail_at = SIZE_MAX;
}

/* ------------------------------------------------------------------ a schema with every type */

enum {
    C_BOOL,
    C_I32,
    C_I64,
    C_F32,
    C_F64,
    C_STR,
    C_BIN,
    C_TS,
    C_I8,
    C_U32,
    C_U64,
    C_FLBA,
    C_OSTR,
    C_OI64,
    NCOLS
};

static const lf_pq_column all_cols[NCOLS] = {
    {"b", LF_PQ_BOOLEAN, 0, {0}, true},
    {"i32", LF_PQ_INT32, 0, {0}, false},
    {"i64", LF_PQ_INT64, 0, {0}, true},
    {"f32", LF_PQ_FLOAT, 0, {0}, true},
    {"f64", LF_PQ_DOUBLE, 0, {0}, false},
    {"str", LF_PQ_BYTE_ARRAY, 0, {.kind = LF_PQ_LOGICAL_STRING}, false},
    {"bin", LF_PQ_BYTE_ARRAY, 0, {0}, true},
    {"ts", LF_PQ_INT64, 0, {.kind = LF_PQ_LOGICAL_TIMESTAMP, .utc_adjusted = true}, false},
    {"i8", LF_PQ_INT32, 0, {.kind = LF_PQ_LOGICAL_INT, .bit_width = 8, .is_signed = true}, true},
    {"u32", LF_PQ_INT32, 0, {.kind = LF_PQ_LOGICAL_INT, .bit_width = 32}, false},
    {"u64", LF_PQ_INT64, 0, {.kind = LF_PQ_LOGICAL_INT, .bit_width = 64}, true},
    {"flba", LF_PQ_FIXED_LEN_BYTE_ARRAY, 12, {0}, true},
    {"ostr", LF_PQ_BYTE_ARRAY, 0, {.kind = LF_PQ_LOGICAL_STRING}, true},
    {"oi64", LF_PQ_INT64, 0, {0}, true},
};

/* Deterministic row generator; byte values live in `scratch` (one slot per column). */
typedef struct rowgen {
    uint8_t scratch[NCOLS][64];
} rowgen;

static uint64_t mix(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdull;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ull;
    return x ^ (x >> 33);
}

static void make_row(rowgen *g, uint64_t i, lf_pq_value *v)
{
    uint64_t h = mix(i + 1);
    memset(v, 0, sizeof(*v) * NCOLS);
    v[C_BOOL].is_null = i % 7 == 3;
    v[C_BOOL].v.b = h & 1;
    v[C_I32].v.i32 = (int32_t)(h >> 8);
    v[C_I64].is_null = i % 5 == 0;
    v[C_I64].v.i64 = (int64_t)h;
    v[C_F32].is_null = i % 11 == 1;
    v[C_F32].v.f = (float)((int32_t)(h >> 40)) / 7.0f;
    v[C_F64].v.d = (double)(int64_t)h / 1e6;
    /* Strings: unicode, and the empty string every 13th row. */
    int n = snprintf((char *)g->scratch[C_STR], 64, "%s-%llu", (i % 3) ? "héllo" : "日本",
                     (unsigned long long)(h % 100000));
    v[C_STR].v.bytes.ptr = g->scratch[C_STR];
    v[C_STR].v.bytes.len = i % 13 == 0 ? 0 : (uint32_t)n;
    v[C_BIN].is_null = i % 4 == 2;
    for (int k = 0; k < 40; k++)
        g->scratch[C_BIN][k] = (uint8_t)mix(h + (uint64_t)k);
    v[C_BIN].v.bytes.ptr = g->scratch[C_BIN];
    v[C_BIN].v.bytes.len = (uint32_t)(h % 41);
    v[C_TS].v.i64 = 1700000000000000000ll + (int64_t)i * 1000003;
    v[C_I8].is_null = i % 9 == 0;
    v[C_I8].v.i32 = (int32_t)(h % 256) - 128;
    v[C_U32].v.i32 = (int32_t)(uint32_t)(h >> 3);
    v[C_U64].is_null = i % 2 == 0;
    v[C_U64].v.i64 = (int64_t)mix(h);
    memcpy(g->scratch[C_FLBA], &h, 8);
    memcpy(g->scratch[C_FLBA] + 8, &i, 4);
    v[C_FLBA].is_null = i % 6 == 5;
    v[C_FLBA].v.bytes.ptr = g->scratch[C_FLBA];
    v[C_FLBA].v.bytes.len = 12;
    v[C_OSTR].is_null = true; /* an all-NULL column */
    v[C_OI64].v.i64 = (int64_t)i;
}

static bool value_eq(const lf_pq_column *c, const lf_pq_value *a, const lf_pq_value *b)
{
    if (a->is_null != b->is_null)
        return false;
    if (a->is_null)
        return true;
    switch (c->type) {
    case LF_PQ_BOOLEAN:
        return a->v.b == b->v.b;
    case LF_PQ_INT32:
        return a->v.i32 == b->v.i32;
    case LF_PQ_INT64:
        return a->v.i64 == b->v.i64;
    case LF_PQ_FLOAT:
        return memcmp(&a->v.f, &b->v.f, 4) == 0;
    case LF_PQ_DOUBLE:
        return memcmp(&a->v.d, &b->v.d, 8) == 0;
    default:
        return a->v.bytes.len == b->v.bytes.len &&
               (a->v.bytes.len == 0 || memcmp(a->v.bytes.ptr, b->v.bytes.ptr, a->v.bytes.len) == 0);
    }
}

/* Type-order comparison, as the test's own reference for statistics. */
static int order_cmp(const lf_pq_column *c, const lf_pq_value *a, const lf_pq_value *b)
{
    bool uns = c->logical.kind == LF_PQ_LOGICAL_INT && !c->logical.is_signed;
    switch (c->type) {
    case LF_PQ_BOOLEAN:
        return (int)a->v.b - (int)b->v.b;
    case LF_PQ_INT32:
        if (uns)
            return (uint32_t)a->v.i32 < (uint32_t)b->v.i32
                       ? -1
                       : (uint32_t)a->v.i32 > (uint32_t)b->v.i32;
        return a->v.i32 < b->v.i32 ? -1 : a->v.i32 > b->v.i32;
    case LF_PQ_INT64:
        if (uns)
            return (uint64_t)a->v.i64 < (uint64_t)b->v.i64
                       ? -1
                       : (uint64_t)a->v.i64 > (uint64_t)b->v.i64;
        return a->v.i64 < b->v.i64 ? -1 : a->v.i64 > b->v.i64;
    case LF_PQ_FLOAT:
        return a->v.f < b->v.f ? -1 : a->v.f > b->v.f;
    case LF_PQ_DOUBLE:
        return a->v.d < b->v.d ? -1 : a->v.d > b->v.d;
    default: {
        size_t n = a->v.bytes.len < b->v.bytes.len ? a->v.bytes.len : b->v.bytes.len;
        int r = n ? memcmp(a->v.bytes.ptr, b->v.bytes.ptr, n) : 0;
        if (r)
            return r;
        return a->v.bytes.len < b->v.bytes.len ? -1 : a->v.bytes.len > b->v.bytes.len;
    }
    }
}

/* Write `rows` generated rows through a fault_io (no faults) and return the bytes. */
static lf_buf write_generated(size_t rows, const lf_pq_writer_options *o)
{
    fault_io f;
    fault_init(&f);
    lf_pq_io io = {fault_write, fault_fsync, &f};
    lf_pq_writer *w;
    lf_error err = {0};
    assert_int_equal(lf_pq_writer_open_io(&io, "mem", all_cols, NCOLS, o, &w, &err), LF_OK);
    rowgen g;
    lf_pq_value v[NCOLS];
    for (size_t i = 0; i < rows; i++) {
        make_row(&g, i, v);
        assert_int_equal(lf_pq_writer_add_row(w, v, &err), LF_OK);
    }
    assert_int_equal(lf_pq_writer_num_rows(w), rows);
    assert_int_equal(lf_pq_writer_close(w, &err), LF_OK);
    assert_int_equal(f.fsyncs, 1);
    return f.data;
}

/* Read everything back and compare with the generator, statistics included. */
static void verify_generated(const lf_buf *file, size_t rows, size_t expect_groups)
{
    lf_pq_reader *r;
    lf_error err = {0};
    assert_int_equal(lf_pq_reader_open_mem(file->data, file->len, NULL, &r, &err), LF_OK);
    assert_int_equal(lf_pq_reader_num_rows(r), (int64_t)rows);
    assert_int_equal(lf_pq_reader_num_columns(r), NCOLS);
    if (expect_groups)
        assert_int_equal(lf_pq_reader_num_row_groups(r), expect_groups);
    for (size_t i = 0; i < NCOLS; i++) {
        const lf_pq_column *c = lf_pq_reader_column(r, i);
        assert_string_equal(c->name, all_cols[i].name);
        assert_int_equal(c->type, all_cols[i].type);
        assert_int_equal(c->optional, all_cols[i].optional);
        assert_int_equal(c->logical.kind, all_cols[i].logical.kind);
        assert_int_equal(c->type_length, all_cols[i].type_length);
    }
    rowgen g;
    lf_pq_value v[NCOLS];
    size_t row = 0;
    for (size_t rg = 0; rg < lf_pq_reader_num_row_groups(r); rg++) {
        size_t n = (size_t)lf_pq_reader_row_group_num_rows(r, rg);
        for (size_t col = 0; col < NCOLS; col++) {
            const lf_pq_column *c = &all_cols[col];
            lf_pq_column_data d;
            assert_int_equal(lf_pq_reader_read_column(r, rg, col, &d, &err), LF_OK);
            assert_int_equal(d.num_values, n);
            lf_pq_value mn = {0}, mx = {0};
            bool any = false;
            int64_t nulls = 0;
            for (size_t k = 0; k < n; k++) {
                make_row(&g, row + k, v);
                if (!value_eq(c, &v[col], &d.values[k]))
                    fail_msg("row %zu column %s differs", row + k, c->name);
                if (v[col].is_null) {
                    nulls++;
                    continue;
                }
                /* keep copies for byte values: the generator's scratch is reused */
                if (!any || order_cmp(c, &d.values[k], &mn) < 0)
                    mn = d.values[k];
                if (!any || order_cmp(c, &d.values[k], &mx) > 0)
                    mx = d.values[k];
                any = true;
            }
            const lf_pq_stats *s = lf_pq_reader_stats(r, rg, col);
            assert_non_null(s);
            assert_true(s->has_null_count);
            assert_int_equal(s->null_count, nulls);
            assert_int_equal((size_t)nulls, d.null_count);
            assert_int_equal(s->num_values, (int64_t)n);
            assert_int_equal(s->has_min_max, any);
            if (any) {
                assert_int_equal(order_cmp(c, &s->min, &mn), 0);
                assert_int_equal(order_cmp(c, &s->max, &mx), 0);
            }
            lf_pq_column_data_free(&d);
        }
        row += n;
    }
    assert_int_equal(row, rows);
    lf_pq_reader_close(r);
}

static void test_roundtrip_many_groups_and_pages(void **state)
{
    (void)state;
    /* 4 KiB pages and 700-row groups: many pages per chunk and a short last group. */
    lf_pq_writer_options o = {.rows_per_row_group = 700, .page_size = 4096};
    lf_buf file = write_generated(5000, &o);
    verify_generated(&file, 5000, 8);
    lf_buf_free(&file);
}

static void test_roundtrip_uncompressed_one_group(void **state)
{
    (void)state;
    lf_pq_writer_options o = {.codec = LF_PQ_CODEC_UNCOMPRESSED};
    lf_buf file = write_generated(3000, &o);
    verify_generated(&file, 3000, 1);
    lf_buf_free(&file);
}

static void test_roundtrip_bytes_per_group(void **state)
{
    (void)state;
    lf_pq_writer_options o = {.bytes_per_row_group = 20000, .zstd_level = 1};
    lf_buf file = write_generated(2000, &o);
    lf_pq_reader *r;
    assert_int_equal(lf_pq_reader_open_mem(file.data, file.len, NULL, &r, NULL), LF_OK);
    assert_true(lf_pq_reader_num_row_groups(r) > 3);
    lf_pq_reader_close(r);
    verify_generated(&file, 2000, 0);
    lf_buf_free(&file);
}

static void test_empty_file(void **state)
{
    (void)state;
    lf_buf file = write_generated(0, NULL);
    lf_pq_reader *r;
    assert_int_equal(lf_pq_reader_open_mem(file.data, file.len, NULL, &r, NULL), LF_OK);
    assert_int_equal(lf_pq_reader_num_rows(r), 0);
    assert_int_equal(lf_pq_reader_num_row_groups(r), 0);
    assert_int_equal(lf_pq_reader_num_columns(r), NCOLS);
    assert_null(lf_pq_reader_stats(r, 0, 0));
    lf_pq_reader_close(r);
    lf_buf_free(&file);
}

static void test_large_binaries_and_metadata(void **state)
{
    (void)state;
    const lf_pq_column cols[] = {
        {"id", LF_PQ_INT64, 0, {0}, false},
        {"blob", LF_PQ_BYTE_ARRAY, 0, {0}, true},
    };
    const lf_pq_kv kv[] = {{"logflux.schema", "1"}, {"nothing", NULL}};
    lf_pq_writer_options o = {
        .kv = kv, .num_kv = 2, .created_by = "test suite", .page_size = 64 << 10};
    fault_io f;
    fault_init(&f);
    lf_pq_io io = {fault_write, fault_fsync, &f};
    lf_pq_writer *w;
    lf_error err = {0};
    assert_int_equal(lf_pq_writer_open_io(&io, "big", cols, 2, &o, &w, &err), LF_OK);
    assert_int_equal(lf_pq_writer_add_kv(w, "added", "later", &err), LF_OK);
    size_t big = 1 << 20;
    uint8_t *blob = malloc(big);
    assert_non_null(blob);
    for (size_t i = 0; i < big; i++)
        blob[i] = (uint8_t)mix(i);
    for (int i = 0; i < 6; i++) {
        blob[0] = (uint8_t)i;
        lf_pq_value v[2] = {{.v.i64 = i}, {.is_null = i == 3, .v.bytes = {blob, (uint32_t)big}}};
        assert_int_equal(lf_pq_writer_add_row(w, v, &err), LF_OK);
    }
    assert_int_equal(lf_pq_writer_close(w, &err), LF_OK);

    lf_pq_reader *r;
    assert_int_equal(lf_pq_reader_open_mem(f.data.data, f.data.len, NULL, &r, &err), LF_OK);
    assert_string_equal(lf_pq_reader_created_by(r), "test suite");
    assert_int_equal(lf_pq_reader_num_kv(r), 3);
    assert_string_equal(lf_pq_reader_kv_get(r, "logflux.schema"), "1");
    assert_string_equal(lf_pq_reader_kv_get(r, "added"), "later");
    assert_null(lf_pq_reader_kv_get(r, "nothing"));
    assert_null(lf_pq_reader_kv_get(r, "absent"));
    assert_int_equal(lf_pq_reader_find_column(r, "blob"), 1);
    assert_int_equal(lf_pq_reader_find_column(r, "nope"), -1);
    lf_pq_column_data d;
    assert_int_equal(lf_pq_reader_read_column(r, 0, 1, &d, &err), LF_OK);
    assert_int_equal(d.num_values, 6);
    for (int i = 0; i < 6; i++) {
        assert_int_equal(d.values[i].is_null, i == 3);
        if (i == 3)
            continue;
        blob[0] = (uint8_t)i;
        assert_int_equal(d.values[i].v.bytes.len, big);
        assert_memory_equal(d.values[i].v.bytes.ptr, blob, big);
    }
    lf_pq_column_data_free(&d);
    /* 1 MiB min/max are over max_stat_bytes: left out, null_count kept. */
    const lf_pq_stats *s = lf_pq_reader_stats(r, 0, 1);
    assert_false(s->has_min_max);
    assert_int_equal(s->null_count, 1);
    s = lf_pq_reader_stats(r, 0, 0);
    assert_true(s->has_min_max);
    assert_int_equal(s->min.v.i64, 0);
    assert_int_equal(s->max.v.i64, 5);
    lf_pq_reader_close(r);
    free(blob);
    lf_buf_free(&f.data);
}

/* Statistics must follow the type order, not the signed-byte or signed-int order. */
static void test_statistics_order(void **state)
{
    (void)state;
    const lf_pq_column cols[] = {
        {"s32", LF_PQ_INT32, 0, {0}, false},
        {"u32", LF_PQ_INT32, 0, {.kind = LF_PQ_LOGICAL_INT, .bit_width = 32}, false},
        {"u64", LF_PQ_INT64, 0, {.kind = LF_PQ_LOGICAL_INT, .bit_width = 64}, false},
        {"str", LF_PQ_BYTE_ARRAY, 0, {.kind = LF_PQ_LOGICAL_STRING}, false},
        {"d", LF_PQ_DOUBLE, 0, {0}, false},
        {"ts", LF_PQ_INT64, 0, {.kind = LF_PQ_LOGICAL_TIMESTAMP}, true},
    };
    const char *strs[] = {"b", "\xff", "", "ab"};
    const double ds[] = {NAN, 0.0, -0.0, NAN};
    const int64_t ts[] = {-5, 3, 0, 0};
    lf_pq_writer_options o = {0};
    fault_io f;
    fault_init(&f);
    lf_pq_io io = {fault_write, fault_fsync, &f};
    lf_pq_writer *w;
    lf_error err = {0};
    assert_int_equal(lf_pq_writer_open_io(&io, "stats", cols, 6, &o, &w, &err), LF_OK);
    for (int i = 0; i < 4; i++) {
        lf_pq_value v[6] = {0};
        v[0].v.i32 = i == 1 ? -1 : i;
        v[1].v.i32 = i == 1 ? -1 : i + 1; /* -1 is 0xFFFFFFFF: the unsigned maximum */
        v[2].v.i64 = i == 2 ? -1 : i + 7;
        v[3].v.bytes.ptr = (const uint8_t *)strs[i];
        v[3].v.bytes.len = (uint32_t)strlen(strs[i]);
        v[4].v.d = ds[i];
        v[5].v.i64 = ts[i];
        v[5].is_null = i == 3;
        assert_int_equal(lf_pq_writer_add_row(w, v, &err), LF_OK);
    }
    assert_int_equal(lf_pq_writer_close(w, &err), LF_OK);
    lf_pq_reader *r;
    assert_int_equal(lf_pq_reader_open_mem(f.data.data, f.data.len, NULL, &r, &err), LF_OK);
    const lf_pq_stats *s = lf_pq_reader_stats(r, 0, 0);
    assert_int_equal(s->min.v.i32, -1);
    assert_int_equal(s->max.v.i32, 3);
    s = lf_pq_reader_stats(r, 0, 1);
    assert_int_equal(s->min.v.i32, 1);
    assert_int_equal(s->max.v.i32, -1);
    s = lf_pq_reader_stats(r, 0, 2);
    assert_int_equal(s->min.v.i64, 7);
    assert_int_equal(s->max.v.i64, -1);
    s = lf_pq_reader_stats(r, 0, 3);
    assert_int_equal(s->min.v.bytes.len, 0);
    assert_int_equal(s->max.v.bytes.len, 1);
    assert_int_equal(s->max.v.bytes.ptr[0], 0xff);
    s = lf_pq_reader_stats(r, 0, 4);
    assert_true(s->has_min_max);
    /* NaN is left out; a zero minimum is -0.0 and a zero maximum +0.0. */
    assert_true(s->min.v.d == 0.0 && signbit(s->min.v.d));
    assert_true(s->max.v.d == 0.0 && !signbit(s->max.v.d));
    s = lf_pq_reader_stats(r, 0, 5);
    assert_int_equal(s->min.v.i64, -5);
    assert_int_equal(s->max.v.i64, 3);
    assert_int_equal(s->null_count, 1);
    lf_pq_reader_close(r);
    lf_buf_free(&f.data);
}

static void test_bad_rows_refused(void **state)
{
    (void)state;
    const lf_pq_column cols[] = {
        {"req",
         LF_PQ_INT32,
         0,
         {.kind = LF_PQ_LOGICAL_INT, .bit_width = 8, .is_signed = true},
         false},
        {"fx", LF_PQ_FIXED_LEN_BYTE_ARRAY, 4, {0}, true},
    };
    fault_io f;
    fault_init(&f);
    lf_pq_io io = {fault_write, fault_fsync, &f};
    lf_pq_writer *w;
    lf_error err = {0};
    assert_int_equal(lf_pq_writer_open_io(&io, "bad", cols, 2, NULL, &w, &err), LF_OK);
    lf_pq_value v[2] = {{.is_null = true}, {.is_null = true}};
    assert_int_equal(lf_pq_writer_add_row(w, v, &err), LF_ERR_INVALID);
    assert_non_null(strstr(err.message, "REQUIRED"));
    v[0] = (lf_pq_value){.v.i32 = 128};
    assert_int_equal(lf_pq_writer_add_row(w, v, &err), LF_ERR_INVALID);
    v[0].v.i32 = -128;
    v[1] = (lf_pq_value){.v.bytes = {(const uint8_t *)"abc", 3}};
    assert_int_equal(lf_pq_writer_add_row(w, v, &err), LF_ERR_INVALID);
    v[1].v.bytes.len = 4;
    v[1].v.bytes.ptr = (const uint8_t *)"abcd";
    assert_int_equal(lf_pq_writer_add_row(w, v, &err), LF_OK); /* still usable */
    assert_int_equal(lf_pq_writer_close(w, &err), LF_OK);
    lf_pq_reader *r;
    assert_int_equal(lf_pq_reader_open_mem(f.data.data, f.data.len, NULL, &r, &err), LF_OK);
    assert_int_equal(lf_pq_reader_num_rows(r), 1);
    lf_pq_reader_close(r);
    lf_buf_free(&f.data);

    /* Bad schemas. */
    const lf_pq_column dup[] = {{"a", LF_PQ_INT32, 0, {0}, false},
                                {"a", LF_PQ_INT64, 0, {0}, false}};
    assert_int_equal(lf_pq_writer_open_io(&io, "x", dup, 2, NULL, &w, &err), LF_ERR_INVALID);
    const lf_pq_column str_on_int[] = {{"a", LF_PQ_INT32, 0, {.kind = LF_PQ_LOGICAL_STRING}, 0}};
    assert_int_equal(lf_pq_writer_open_io(&io, "x", str_on_int, 1, NULL, &w, &err), LF_ERR_INVALID);
    const lf_pq_column flba0[] = {{"a", LF_PQ_FIXED_LEN_BYTE_ARRAY, 0, {0}, false}};
    assert_int_equal(lf_pq_writer_open_io(&io, "x", flba0, 1, NULL, &w, &err), LF_ERR_INVALID);
    assert_int_equal(lf_pq_writer_open_io(&io, "x", all_cols, 0, NULL, &w, &err), LF_ERR_INVALID);
}

/* ------------------------------------------------------------------ fault injection */

static lf_err write_with_faults(fault_io *f, size_t rows, lf_error *err)
{
    lf_pq_io io = {fault_write, fault_fsync, f};
    lf_pq_writer_options o = {.rows_per_row_group = 100, .page_size = 2048};
    lf_pq_writer *w;
    lf_err e = lf_pq_writer_open_io(&io, "/data/x.parquet", all_cols, NCOLS, &o, &w, err);
    if (e != LF_OK)
        return e;
    rowgen g;
    lf_pq_value v[NCOLS];
    for (size_t i = 0; i < rows; i++) {
        make_row(&g, i, v);
        e = lf_pq_writer_add_row(w, v, err);
        if (e != LF_OK) {
            /* The failure is sticky: later rows and close report it too. */
            lf_error again = {0};
            assert_int_equal(lf_pq_writer_add_row(w, v, &again), e);
            assert_int_equal(lf_pq_writer_close(w, &again), e);
            return e;
        }
    }
    return lf_pq_writer_close(w, err);
}

static void assert_not_parquet(const lf_buf *b)
{
    lf_pq_reader *r = NULL;
    lf_err e = lf_pq_reader_open_mem(b->data, b->len, NULL, &r, NULL);
    assert_int_not_equal(e, LF_OK);
    assert_null(r);
}

static void test_short_writes_complete(void **state)
{
    (void)state;
    fault_io f;
    fault_init(&f);
    f.max_chunk = 7; /* every write is short; the writer must finish each one */
    lf_error err = {0};
    assert_int_equal(write_with_faults(&f, 450, &err), LF_OK);
    verify_generated(&f.data, 450, 5);
    lf_buf_free(&f.data);
}

static void test_fault_at_every_point(void **state)
{
    (void)state;
    fault_io ok;
    fault_init(&ok);
    lf_error err = {0};
    assert_int_equal(write_with_faults(&ok, 450, &err), LF_OK);
    size_t total = ok.data.len;
    lf_buf_free(&ok.data);
    /* Fail at many points across the file (and at the very last bytes): ENOSPC, EIO, and a
     * write that makes no progress, each after a short write. None may report success, and
     * what was written must never pass for a Parquet file. */
    size_t step = total / 97 + 1;
    for (size_t at = 0; at < total; at += (at + 16 < total) ? step : 1) {
        for (int mode = 0; mode < 3; mode++) {
            fault_io f;
            fault_init(&f);
            f.fail_at = at;
            f.max_chunk = 1000;
            f.fail_errno = mode == 0 ? ENOSPC : EIO;
            f.zero_write = mode == 2;
            memset(&err, 0, sizeof(err));
            lf_err e = write_with_faults(&f, 450, &err);
            if (mode == 0) {
                assert_int_equal(e, LF_ERR_FULL);
                assert_non_null(strstr(err.message, "No space left"));
            } else {
                assert_int_equal(e, LF_ERR_IO);
            }
            assert_non_null(strstr(err.message, "/data/x.parquet"));
            assert_int_equal(f.fsyncs, 0);
            assert_not_parquet(&f.data);
            lf_buf_free(&f.data);
        }
    }
}

static void test_fsync_failure(void **state)
{
    (void)state;
    fault_io f;
    fault_init(&f);
    f.fsync_errno = EIO;
    lf_error err = {0};
    assert_int_equal(write_with_faults(&f, 50, &err), LF_ERR_IO);
    assert_non_null(strstr(err.message, "fsync"));
    assert_non_null(strstr(err.message, "/data/x.parquet"));
    assert_int_equal(f.fsyncs, 1);
    lf_buf_free(&f.data);
}

static void test_path_writer_and_reader(void **state)
{
    (void)state;
    char dir[] = "/tmp/lf-pq-test-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[128];
    snprintf(path, sizeof(path), "%s/a.parquet", dir);
    lf_pq_writer *w;
    lf_error err = {0};
    assert_int_equal(lf_pq_writer_open(path, all_cols, NCOLS, NULL, &w, &err), LF_OK);
    rowgen g;
    lf_pq_value v[NCOLS];
    for (size_t i = 0; i < 100; i++) {
        make_row(&g, i, v);
        assert_int_equal(lf_pq_writer_add_row(w, v, &err), LF_OK);
    }
    assert_int_equal(lf_pq_writer_close(w, &err), LF_OK);
    lf_pq_reader *r;
    assert_int_equal(lf_pq_reader_open(path, NULL, &r, &err), LF_OK);
    assert_int_equal(lf_pq_reader_num_rows(r), 100);
    lf_pq_column_data d;
    assert_int_equal(lf_pq_reader_read_column(r, 0, C_STR, &d, &err), LF_OK);
    assert_int_equal(d.num_values, 100);
    lf_pq_column_data_free(&d);
    lf_pq_reader_close(r);

    /* An aborted writer leaves no valid file behind. */
    assert_int_equal(lf_pq_writer_open(path, all_cols, NCOLS, NULL, &w, &err), LF_OK);
    make_row(&g, 0, v);
    assert_int_equal(lf_pq_writer_add_row(w, v, &err), LF_OK);
    lf_pq_writer_abort(w);
    assert_int_not_equal(lf_pq_reader_open(path, NULL, &r, &err), LF_OK);
    unlink(path);

    char missing[160];
    snprintf(missing, sizeof(missing), "%s/no/such/dir.parquet", dir);
    assert_int_equal(lf_pq_writer_open(missing, all_cols, NCOLS, NULL, &w, &err), LF_ERR_IO);
    assert_non_null(strstr(err.message, missing));
    assert_int_equal(lf_pq_reader_open(missing, NULL, &r, &err), LF_ERR_NOT_FOUND);
    assert_int_not_equal(lf_pq_reader_open(dir, NULL, &r, &err), LF_OK);
    rmdir(dir);
}

/* ------------------------------------------------------------------ hostile input */

/* Open and read everything; returns the first error (LF_OK if all of it decoded). */
static lf_err read_all(const uint8_t *p, size_t n, const lf_pq_reader_options *o)
{
    lf_pq_reader *r;
    lf_err e = lf_pq_reader_open_mem(p, n, o, &r, NULL);
    if (e != LF_OK)
        return e;
    for (size_t g = 0; g < lf_pq_reader_num_row_groups(r) && e == LF_OK; g++)
        for (size_t c = 0; c < lf_pq_reader_num_columns(r) && e == LF_OK; c++) {
            lf_pq_column_data d;
            e = lf_pq_reader_read_column(r, g, c, &d, NULL);
            lf_pq_column_data_free(&d);
        }
    lf_pq_reader_close(r);
    return e;
}

static void test_reader_rejects_truncation_and_bad_magic(void **state)
{
    (void)state;
    lf_pq_writer_options o = {.rows_per_row_group = 40, .page_size = 1024};
    lf_buf file = write_generated(120, &o);
    assert_int_equal(read_all(file.data, file.len, NULL), LF_OK);
    /* Every proper prefix fails (no trailing magic). */
    for (size_t n = 0; n < file.len; n++)
        assert_int_not_equal(read_all(file.data, n, NULL), LF_OK);
    uint8_t *copy = malloc(file.len);
    memcpy(copy, file.data, file.len);
    copy[0] = 'X';
    assert_int_equal(read_all(copy, file.len, NULL), LF_ERR_INVALID);
    memcpy(copy, file.data, file.len);
    copy[file.len - 1] = 'X';
    assert_int_equal(read_all(copy, file.len, NULL), LF_ERR_INVALID);
    memcpy(copy + file.len - 4, "PARE", 4);
    assert_int_equal(read_all(copy, file.len, NULL), LF_ERR_UNSUPPORTED);
    /* Absurd footer lengths. */
    memcpy(copy, file.data, file.len);
    memcpy(copy + file.len - 8, "\xff\xff\xff\x7f", 4);
    assert_int_equal(read_all(copy, file.len, NULL), LF_ERR_TOO_LARGE);
    memcpy(copy + file.len - 8, "\x00\x00\x10\x00", 4); /* 1 MiB: under the limit, over the file */
    assert_int_equal(read_all(copy, file.len, NULL), LF_ERR_TRUNCATED);
    memcpy(copy + file.len - 8, "\x00\x00\x00\x00", 4);
    assert_int_equal(read_all(copy, file.len, NULL), LF_ERR_TRUNCATED);
    /* A footer limit below the real footer. */
    lf_pq_reader_options small = {.max_footer_bytes = 64};
    assert_int_equal(read_all(file.data, file.len, &small), LF_ERR_TOO_LARGE);
    lf_pq_reader_options few = {.max_values = 10};
    assert_int_equal(read_all(file.data, file.len, &few), LF_ERR_TOO_LARGE);
    lf_pq_reader_options cols = {.max_columns = 3};
    assert_int_equal(read_all(file.data, file.len, &cols), LF_ERR_TOO_LARGE);
    /* Cut bytes out of the middle (data pages shift under the footer's offsets). */
    size_t cut = file.len / 3;
    memcpy(copy, file.data, cut);
    memcpy(copy + cut, file.data + cut + 10, file.len - cut - 10);
    assert_int_not_equal(read_all(copy, file.len - 10, NULL), LF_OK);
    free(copy);
    lf_buf_free(&file);
}

static void test_reader_survives_corruption(void **state)
{
    (void)state;
    lf_pq_writer_options o = {.rows_per_row_group = 30, .page_size = 512};
    lf_buf file = write_generated(90, &o);
    uint8_t *copy = malloc(file.len);
    lf_pq_reader_options lim = {.max_values = 1 << 16, .max_page_bytes = 1 << 20};
    uint64_t seed = 1;
    /* Byte and bit corruption anywhere: any result but a crash or a sanitizer report; when a
     * footer byte changes, the result must still be an error or a readable file. */
    for (int round = 0; round < 3000; round++) {
        memcpy(copy, file.data, file.len);
        int flips = 1 + round % 4;
        for (int k = 0; k < flips; k++) {
            seed = mix(seed);
            size_t pos = (size_t)(seed % file.len);
            if (round % 2)
                copy[pos] ^= (uint8_t)(1u << (seed >> 60 & 7));
            else
                copy[pos] = (uint8_t)(seed >> 40);
        }
        (void)read_all(copy, file.len, &lim);
    }
    free(copy);
    lf_buf_free(&file);
}

/* A hand-made footer: a list claiming 2^31 schema elements must be refused before any
 * allocation, and deep nesting must stop at the depth limit. */
static void test_reader_hostile_footers(void **state)
{
    (void)state;
    uint8_t f[64];
    size_t n = 0;
    memcpy(f, "PAR1", 4);
    n = 4;
    size_t meta = n;
    f[n++] = 0x15; /* field 1 i32 */
    f[n++] = 0x02;
    f[n++] = 0x19; /* field 2 list */
    f[n++] = 0xFC; /* size follows, struct */
    f[n++] = 0xFF, f[n++] = 0xFF, f[n++] = 0xFF, f[n++] = 0xFF, f[n++] = 0x07;
    f[n++] = 0x00;
    uint32_t mlen = (uint32_t)(n - meta);
    f[n++] = (uint8_t)mlen, f[n++] = 0, f[n++] = 0, f[n++] = 0;
    memcpy(f + n, "PAR1", 4);
    n += 4;
    lf_err e = read_all(f, n, NULL);
    assert_true(e == LF_ERR_TOO_LARGE || e == LF_ERR_TRUNCATED);

    /* 40 nested structs in an unknown field. */
    uint8_t g[128];
    n = 0;
    memcpy(g, "PAR1", 4);
    n = 4;
    meta = n;
    g[n++] = 0x1C; /* field 1 struct */
    for (int i = 0; i < 40; i++)
        g[n++] = 0x1C;
    for (int i = 0; i < 42; i++)
        g[n++] = 0x00;
    mlen = (uint32_t)(n - meta);
    g[n++] = (uint8_t)mlen, g[n++] = 0, g[n++] = 0, g[n++] = 0;
    memcpy(g + n, "PAR1", 4);
    n += 4;
    assert_int_equal(read_all(g, n, NULL), LF_ERR_TOO_LARGE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_roundtrip_many_groups_and_pages),
        cmocka_unit_test(test_roundtrip_uncompressed_one_group),
        cmocka_unit_test(test_roundtrip_bytes_per_group),
        cmocka_unit_test(test_empty_file),
        cmocka_unit_test(test_large_binaries_and_metadata),
        cmocka_unit_test(test_statistics_order),
        cmocka_unit_test(test_bad_rows_refused),
        cmocka_unit_test(test_short_writes_complete),
        cmocka_unit_test(test_fault_at_every_point),
        cmocka_unit_test(test_fsync_failure),
        cmocka_unit_test(test_path_writer_and_reader),
        cmocka_unit_test(test_reader_rejects_truncation_and_bad_magic),
        cmocka_unit_test(test_reader_survives_corruption),
        cmocka_unit_test(test_reader_hostile_footers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

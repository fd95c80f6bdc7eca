/*
 * lf_parquet_tool.c — a small CLI over lf_parquet, for the DuckDB interoperability test and for
 * measuring throughput.
 *
 *   lf-parquet-tool write <out.parquet> <spec.json>   write rows described in JSON
 *   lf-parquet-tool dump <file.parquet>               print schema, metadata, stats, rows as JSON
 *   lf-parquet-tool bench [rows]                      LogFlux-like rows: write and read rows/s
 *
 * JSON conventions (both directions): NULL is null; BOOLEAN true/false; INT32 a number; INT64
 * a decimal string (exact beyond 2^53; numbers are accepted on input); FLOAT/DOUBLE a number
 * or "NaN", "Infinity", "-Infinity"; STRING a string; other byte arrays lowercase hex.
 * A spec is {"columns": [{"name", "type", "logical"?, "optional"?, "length"?, "utc"?}],
 * "rows": [[...], ...], "options": {"rows_per_row_group", "page_size", "codec": "zstd"|"none",
 * "zstd_level", "created_by", "kv": {key: value}}}. Logical names: STRING, TIMESTAMP_NANOS,
 * TIMESTAMP_MICROS, TIMESTAMP_MILLIS, INT8..INT64, UINT8..UINT64 (OTHER on output).
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "parquet.h"

static int die(const char *what, const lf_error *e)
{
    fprintf(stderr, "lf-parquet-tool: %s: %s\n", what, e ? e->message : "");
    return 1;
}

static const char *type_names[] = {"BOOLEAN", "INT32",  "INT64",      "INT96",
                                   "FLOAT",   "DOUBLE", "BYTE_ARRAY", "FIXED_LEN_BYTE_ARRAY"};

static int parse_type(const char *s, lf_pq_type *t)
{
    for (int i = 0; i < 8; i++)
        if (i != 3 && strcmp(s, type_names[i]) == 0) {
            *t = (lf_pq_type)i;
            return 0;
        }
    return -1;
}

static int parse_logical(const char *s, bool utc, lf_pq_logical *l)
{
    memset(l, 0, sizeof(*l));
    if (s == NULL)
        return 0;
    if (strcmp(s, "STRING") == 0) {
        l->kind = LF_PQ_LOGICAL_STRING;
    } else if (strncmp(s, "TIMESTAMP_", 10) == 0) {
        l->kind = LF_PQ_LOGICAL_TIMESTAMP;
        l->utc_adjusted = utc;
        if (strcmp(s + 10, "NANOS") == 0)
            l->unit = LF_PQ_NANOS;
        else if (strcmp(s + 10, "MICROS") == 0)
            l->unit = LF_PQ_MICROS;
        else if (strcmp(s + 10, "MILLIS") == 0)
            l->unit = LF_PQ_MILLIS;
        else
            return -1;
    } else if (strncmp(s, "INT", 3) == 0 || strncmp(s, "UINT", 4) == 0) {
        l->kind = LF_PQ_LOGICAL_INT;
        l->is_signed = s[0] == 'I';
        l->bit_width = (uint8_t)atoi(s + (l->is_signed ? 3 : 4));
    } else {
        return -1;
    }
    return 0;
}

static void logical_name(const lf_pq_logical *l, char *out, size_t n)
{
    static const char *units[] = {"NANOS", "MICROS", "MILLIS"};
    switch (l->kind) {
    case LF_PQ_LOGICAL_NONE:
        snprintf(out, n, "NONE");
        break;
    case LF_PQ_LOGICAL_STRING:
        snprintf(out, n, "STRING");
        break;
    case LF_PQ_LOGICAL_TIMESTAMP:
        snprintf(out, n, "TIMESTAMP_%s", units[l->unit]);
        break;
    case LF_PQ_LOGICAL_INT:
        snprintf(out, n, "%sINT%d", l->is_signed ? "" : "U", l->bit_width);
        break;
    default:
        snprintf(out, n, "OTHER");
    }
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Convert a JSON value to an lf_pq_value; byte storage is appended to *arena (freed by caller). */
static int json_to_value(const lf_pq_column *c, json_t *j, lf_pq_value *v, uint8_t **hold)
{
    memset(v, 0, sizeof(*v));
    *hold = NULL;
    if (json_is_null(j)) {
        v->is_null = true;
        return 0;
    }
    switch (c->type) {
    case LF_PQ_BOOLEAN:
        if (!json_is_boolean(j))
            return -1;
        v->v.b = json_is_true(j);
        return 0;
    case LF_PQ_INT32:
        if (!json_is_integer(j))
            return -1;
        v->v.i32 = (int32_t)json_integer_value(j);
        return 0;
    case LF_PQ_INT64:
        if (json_is_integer(j)) {
            v->v.i64 = json_integer_value(j);
            return 0;
        }
        if (!json_is_string(j))
            return -1;
        errno = 0;
        if (c->logical.kind == LF_PQ_LOGICAL_INT && !c->logical.is_signed)
            v->v.i64 = (int64_t)strtoull(json_string_value(j), NULL, 10);
        else
            v->v.i64 = strtoll(json_string_value(j), NULL, 10);
        return errno ? -1 : 0;
    case LF_PQ_FLOAT:
    case LF_PQ_DOUBLE: {
        double d;
        if (json_is_number(j)) {
            d = json_number_value(j);
        } else if (json_is_string(j)) {
            const char *s = json_string_value(j);
            d = strcmp(s, "NaN") == 0         ? NAN
                : strcmp(s, "Infinity") == 0  ? INFINITY
                : strcmp(s, "-Infinity") == 0 ? -INFINITY
                                              : 0.0;
        } else {
            return -1;
        }
        if (c->type == LF_PQ_FLOAT)
            v->v.f = (float)d;
        else
            v->v.d = d;
        return 0;
    }
    default:
        break;
    }
    if (!json_is_string(j))
        return -1;
    const char *s = json_string_value(j);
    size_t len = json_string_length(j);
    if (c->logical.kind == LF_PQ_LOGICAL_STRING) {
        v->v.bytes.ptr = (const uint8_t *)s;
        v->v.bytes.len = (uint32_t)len;
        return 0;
    }
    if (len % 2)
        return -1;
    uint8_t *b = malloc(len / 2 + 1);
    if (b == NULL)
        return -1;
    for (size_t i = 0; i < len / 2; i++) {
        int hi = hexval(s[2 * i]), lo = hexval(s[2 * i + 1]);
        if (hi < 0 || lo < 0) {
            free(b);
            return -1;
        }
        b[i] = (uint8_t)(hi << 4 | lo);
    }
    *hold = b;
    v->v.bytes.ptr = b;
    v->v.bytes.len = (uint32_t)(len / 2);
    return 0;
}

static json_t *double_json(double d)
{
    if (isnan(d))
        return json_string("NaN");
    if (isinf(d))
        return json_string(d > 0 ? "Infinity" : "-Infinity");
    return json_real(d);
}

static json_t *value_to_json(const lf_pq_column *c, const lf_pq_value *v)
{
    char tmp[32];
    if (v->is_null)
        return json_null();
    switch (c->type) {
    case LF_PQ_BOOLEAN:
        return json_boolean(v->v.b);
    case LF_PQ_INT32:
        if (c->logical.kind == LF_PQ_LOGICAL_INT && !c->logical.is_signed)
            return json_integer((json_int_t)(uint32_t)v->v.i32);
        return json_integer(v->v.i32);
    case LF_PQ_INT64:
        if (c->logical.kind == LF_PQ_LOGICAL_INT && !c->logical.is_signed)
            snprintf(tmp, sizeof(tmp), "%" PRIu64, (uint64_t)v->v.i64);
        else
            snprintf(tmp, sizeof(tmp), "%" PRId64, v->v.i64);
        return json_string(tmp);
    case LF_PQ_FLOAT:
        return double_json(v->v.f);
    case LF_PQ_DOUBLE:
        return double_json(v->v.d);
    default:
        break;
    }
    if (c->logical.kind == LF_PQ_LOGICAL_STRING)
        return json_stringn_nocheck((const char *)v->v.bytes.ptr, v->v.bytes.len);
    char *hex = malloc((size_t)v->v.bytes.len * 2 + 1);
    if (hex == NULL)
        return json_null();
    for (uint32_t i = 0; i < v->v.bytes.len; i++)
        snprintf(hex + 2 * i, 3, "%02x", v->v.bytes.ptr[i]);
    hex[2 * (size_t)v->v.bytes.len] = '\0';
    json_t *j = json_string(hex);
    free(hex);
    return j;
}

static int cmd_write(const char *out_path, const char *spec_path)
{
    json_error_t je;
    json_t *spec = json_load_file(spec_path, JSON_ALLOW_NUL, &je);
    if (spec == NULL) {
        fprintf(stderr, "lf-parquet-tool: %s: %s\n", spec_path, je.text);
        return 1;
    }
    json_t *jcols = json_object_get(spec, "columns");
    json_t *jrows = json_object_get(spec, "rows");
    json_t *jopt = json_object_get(spec, "options");
    size_t ncols = json_array_size(jcols);
    lf_pq_column *cols = calloc(ncols ? ncols : 1, sizeof(*cols));
    lf_pq_value *vals = calloc(ncols ? ncols : 1, sizeof(*vals));
    uint8_t **holds = calloc(ncols ? ncols : 1, sizeof(*holds));
    lf_pq_kv *kv = NULL;
    int rc = 1;
    lf_pq_writer *w = NULL;
    lf_error err = {0};
    for (size_t i = 0; i < ncols; i++) {
        json_t *jc = json_array_get(jcols, i);
        cols[i].name = json_string_value(json_object_get(jc, "name"));
        const char *t = json_string_value(json_object_get(jc, "type"));
        json_t *utc = json_object_get(jc, "utc");
        if (t == NULL || parse_type(t, &cols[i].type) != 0 ||
            parse_logical(json_string_value(json_object_get(jc, "logical")),
                          utc ? json_is_true(utc) : true, &cols[i].logical) != 0) {
            fprintf(stderr, "lf-parquet-tool: column %zu: bad type or logical type\n", i);
            goto out;
        }
        cols[i].optional = json_is_true(json_object_get(jc, "optional"));
        cols[i].type_length = (int32_t)json_integer_value(json_object_get(jc, "length"));
    }
    lf_pq_writer_options o = {0};
    o.rows_per_row_group =
        (uint32_t)json_integer_value(json_object_get(jopt, "rows_per_row_group"));
    o.page_size = (uint32_t)json_integer_value(json_object_get(jopt, "page_size"));
    o.zstd_level = (int)json_integer_value(json_object_get(jopt, "zstd_level"));
    o.created_by = json_string_value(json_object_get(jopt, "created_by"));
    const char *codec = json_string_value(json_object_get(jopt, "codec"));
    if (codec && strcmp(codec, "none") == 0)
        o.codec = LF_PQ_CODEC_UNCOMPRESSED;
    json_t *jkv = json_object_get(jopt, "kv");
    if (json_object_size(jkv) > 0) {
        kv = calloc(json_object_size(jkv), sizeof(*kv));
        const char *k;
        json_t *v;
        json_object_foreach(jkv, k, v)
        {
            kv[o.num_kv].key = k;
            kv[o.num_kv].value = json_string_value(v);
            o.num_kv++;
        }
        o.kv = kv;
    }
    if (lf_pq_writer_open(out_path, cols, ncols, &o, &w, &err) != LF_OK) {
        rc = die("open", &err);
        goto out;
    }
    for (size_t r = 0; r < json_array_size(jrows); r++) {
        json_t *row = json_array_get(jrows, r);
        if (json_array_size(row) != ncols) {
            fprintf(stderr, "lf-parquet-tool: row %zu: wrong number of values\n", r);
            goto out;
        }
        int bad = 0;
        for (size_t i = 0; i < ncols; i++)
            bad |= json_to_value(&cols[i], json_array_get(row, i), &vals[i], &holds[i]);
        lf_err e = bad ? LF_ERR_INVALID : lf_pq_writer_add_row(w, vals, &err);
        for (size_t i = 0; i < ncols; i++) {
            free(holds[i]);
            holds[i] = NULL;
        }
        if (e != LF_OK) {
            fprintf(stderr, "lf-parquet-tool: row %zu: %s\n", r,
                    bad ? "bad JSON value" : err.message);
            goto out;
        }
    }
    lf_pq_writer *tmp = w;
    w = NULL;
    if (lf_pq_writer_close(tmp, &err) != LF_OK) {
        rc = die("close", &err);
        goto out;
    }
    rc = 0;
out:
    if (w)
        lf_pq_writer_abort(w);
    free(kv);
    free(cols);
    free(vals);
    free(holds);
    json_decref(spec);
    return rc;
}

static int cmd_dump(const char *path)
{
    lf_pq_reader *r;
    lf_error err = {0};
    if (lf_pq_reader_open(path, NULL, &r, &err) != LF_OK)
        return die("open", &err);
    json_t *root = json_object();
    size_t ncols = lf_pq_reader_num_columns(r);
    char name[32];
    json_object_set_new(root, "num_rows", json_integer(lf_pq_reader_num_rows(r)));
    const char *cb = lf_pq_reader_created_by(r);
    json_object_set_new(root, "created_by", cb ? json_string(cb) : json_null());
    json_t *kv = json_object();
    for (size_t i = 0; i < lf_pq_reader_num_kv(r); i++) {
        const lf_pq_kv *p = lf_pq_reader_kv(r, i);
        json_object_set_new(kv, p->key, p->value ? json_string(p->value) : json_null());
    }
    json_object_set_new(root, "kv", kv);
    json_t *cols = json_array();
    for (size_t i = 0; i < ncols; i++) {
        const lf_pq_column *c = lf_pq_reader_column(r, i);
        logical_name(&c->logical, name, sizeof(name));
        json_array_append_new(cols, json_pack("{s:s, s:s, s:s, s:b, s:i, s:b}", "name", c->name,
                                              "type", lf_pq_type_name(c->type), "logical", name,
                                              "optional", c->optional, "length",
                                              (int)c->type_length, "utc", c->logical.utc_adjusted));
    }
    json_object_set_new(root, "columns", cols);
    json_t *rgs = json_array();
    json_t *rows = json_array();
    int rc = 0;
    for (size_t g = 0; g < lf_pq_reader_num_row_groups(r) && rc == 0; g++) {
        json_t *stats = json_array();
        size_t nrows = (size_t)lf_pq_reader_row_group_num_rows(r, g);
        lf_pq_column_data *data = calloc(ncols, sizeof(*data));
        for (size_t i = 0; i < ncols; i++) {
            const lf_pq_column *c = lf_pq_reader_column(r, i);
            const lf_pq_stats *s = lf_pq_reader_stats(r, g, i);
            json_t *js = json_object();
            json_object_set_new(js, "null_count",
                                s->has_null_count ? json_integer(s->null_count) : json_null());
            if (s->has_min_max) {
                json_object_set_new(js, "min", value_to_json(c, &s->min));
                json_object_set_new(js, "max", value_to_json(c, &s->max));
            }
            json_array_append_new(stats, js);
            if (lf_pq_reader_read_column(r, g, i, &data[i], &err) != LF_OK) {
                rc = die("read", &err);
                break;
            }
        }
        json_array_append_new(
            rgs, json_pack("{s:I, s:o}", "num_rows", (json_int_t)nrows, "stats", stats));
        for (size_t k = 0; rc == 0 && k < nrows; k++) {
            json_t *row = json_array();
            for (size_t i = 0; i < ncols; i++)
                json_array_append_new(row,
                                      value_to_json(lf_pq_reader_column(r, i), &data[i].values[k]));
            json_array_append_new(rows, row);
        }
        for (size_t i = 0; i < ncols; i++)
            lf_pq_column_data_free(&data[i]);
        free(data);
    }
    json_object_set_new(root, "row_groups", rgs);
    json_object_set_new(root, "rows", rows);
    if (rc == 0) {
        json_dumpf(root, stdout, JSON_COMPACT);
        fputc('\n', stdout);
    }
    json_decref(root);
    lf_pq_reader_close(r);
    return rc;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* LogFlux-like rows: tenant, app, entry type, timestamp, key id, nonce, payload type, search
 * tokens, ~300-byte ciphertext, ingest time. */
static int cmd_bench(long nrows)
{
    const lf_pq_column cols[] = {
        {"tenant", LF_PQ_BYTE_ARRAY, 0, {.kind = LF_PQ_LOGICAL_STRING}, false},
        {"app", LF_PQ_BYTE_ARRAY, 0, {.kind = LF_PQ_LOGICAL_STRING}, false},
        {"entry_type",
         LF_PQ_INT32,
         0,
         {.kind = LF_PQ_LOGICAL_INT, .bit_width = 8, .is_signed = 0},
         false},
        {"ts", LF_PQ_INT64, 0, {.kind = LF_PQ_LOGICAL_TIMESTAMP, .utc_adjusted = true}, false},
        {"key_id", LF_PQ_BYTE_ARRAY, 0, {.kind = LF_PQ_LOGICAL_STRING}, false},
        {"nonce", LF_PQ_FIXED_LEN_BYTE_ARRAY, 12, {0}, true},
        {"payload_type", LF_PQ_INT32, 0, {0}, false},
        {"tokens", LF_PQ_BYTE_ARRAY, 0, {0}, true},
        {"ciphertext", LF_PQ_BYTE_ARRAY, 0, {0}, false},
        {"ingest_ts",
         LF_PQ_INT64,
         0,
         {.kind = LF_PQ_LOGICAL_TIMESTAMP, .utc_adjusted = true},
         false},
    };
    char path[512];
    const char *dir = getenv("LF_BENCH_DIR");
    snprintf(path, sizeof(path), "%s/lf-parquet-bench-XXXXXX", dir ? dir : "/tmp");
    int fd = mkstemp(path);
    if (fd < 0)
        return 1;
    close(fd);
    uint8_t ct[300], nonce[12], tokens[64];
    uint64_t x = 88172645463325252ull;
    lf_pq_writer *w;
    lf_error err = {0};
    lf_pq_writer_options o = {0};
    const char *level = getenv("LF_BENCH_ZSTD_LEVEL");
    if (level)
        o.zstd_level = atoi(level);
    if (lf_pq_writer_open(path, cols, 10, &o, &w, &err) != LF_OK)
        return die("open", &err);
    double t0 = now_s();
    for (long i = 0; i < nrows; i++) {
        for (size_t k = 0; k < sizeof(ct); k += 8) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            memcpy(ct + k, &x, sizeof(ct) - k < 8 ? sizeof(ct) - k : 8);
        }
        memcpy(nonce, ct, 12);
        memcpy(tokens, ct + 12, sizeof(tokens));
        lf_pq_value v[10] = {0};
        v[0].v.bytes.ptr = (const uint8_t *)"tenant-1", v[0].v.bytes.len = 8;
        v[1].v.bytes.ptr = (const uint8_t *)"web", v[1].v.bytes.len = 3;
        v[2].v.i32 = 1;
        v[3].v.i64 = 1700000000000000000 + i * 1000;
        v[4].v.bytes.ptr = (const uint8_t *)"k-2024", v[4].v.bytes.len = 6;
        v[5].v.bytes.ptr = nonce, v[5].v.bytes.len = 12;
        v[6].v.i32 = 2;
        v[7].v.bytes.ptr = tokens, v[7].v.bytes.len = sizeof(tokens);
        v[8].v.bytes.ptr = ct, v[8].v.bytes.len = sizeof(ct);
        v[9].v.i64 = 1700000000000000000 + i * 1000 + 5;
        if (lf_pq_writer_add_row(w, v, &err) != LF_OK) {
            lf_pq_writer_abort(w);
            return die("add_row", &err);
        }
    }
    if (lf_pq_writer_close(w, &err) != LF_OK)
        return die("close", &err);
    double t1 = now_s();
    lf_pq_reader *r;
    if (lf_pq_reader_open(path, NULL, &r, &err) != LF_OK)
        return die("open", &err);
    size_t got = 0;
    for (size_t g = 0; g < lf_pq_reader_num_row_groups(r); g++) {
        for (size_t i = 0; i < 10; i++) {
            lf_pq_column_data d;
            if (lf_pq_reader_read_column(r, g, i, &d, &err) != LF_OK) {
                lf_pq_column_data_free(&d);
                return die("read", &err);
            }
            if (i == 0)
                got += d.num_values;
            lf_pq_column_data_free(&d);
        }
    }
    lf_pq_reader_close(r);
    double t2 = now_s();
    FILE *f = fopen(path, "rb");
    long size = 0;
    if (f) {
        fseek(f, 0, SEEK_END);
        size = ftell(f);
        fclose(f);
    }
    unlink(path);
    printf("rows %ld, file %.1f MiB: write %.0f rows/s (%.1f MiB/s of file), read %.0f rows/s "
           "(read back %zu rows)\n",
           nrows, (double)size / 1048576.0, (double)nrows / (t1 - t0),
           (double)size / 1048576.0 / (t1 - t0), (double)nrows / (t2 - t1), got);
    return got == (size_t)nrows ? 0 : 1;
}

int main(int argc, char **argv)
{
    if (argc == 4 && strcmp(argv[1], "write") == 0)
        return cmd_write(argv[2], argv[3]);
    if (argc == 3 && strcmp(argv[1], "dump") == 0)
        return cmd_dump(argv[2]);
    if ((argc == 2 || argc == 3) && strcmp(argv[1], "bench") == 0)
        return cmd_bench(argc == 3 ? atol(argv[2]) : 1000000);
    fprintf(stderr, "usage: lf-parquet-tool write <out.parquet> <spec.json>\n"
                    "       lf-parquet-tool dump <file.parquet>\n"
                    "       lf-parquet-tool bench [rows]\n");
    return 2;
}

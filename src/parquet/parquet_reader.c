/*
 * parquet_reader.c — bounded Parquet reader for files we did not write ourselves (a server's
 * files are downloaded by clients that do not trust it, and the server reads what workers wrote).
 *
 * How it works:
 *   - open reads only the tail: "PAR1", the footer length, the footer (at most max_footer_bytes),
 *     and parses FileMetaData with the bounded Thrift decoder. The schema must be flat (a root
 *     and leaf columns, REQUIRED or OPTIONAL); the row groups must have one chunk per column.
 *     Statistics are decoded only when their size fits the type and the order is known.
 *   - read_column checks the chunk's offset and length against the file (the chunk must lie
 *     between the leading magic and the footer) and max_chunk_bytes, reads it with pread (or
 *     from memory), then walks its pages: each PageHeader is parsed within the chunk, each page
 *     body must fit in the chunk, zstd output is limited to the declared uncompressed size (at
 *     most max_page_bytes), definition levels and dictionary indices go through a checked
 *     RLE / bit-packed hybrid decoder, and PLAIN values are read with a bounds check each.
 *   - The number of decoded values is bounded by max_values, and value arrays grow only as pages
 *     actually decode, so a lying footer cannot make us allocate more than the limits allow.
 * What is not supported (nested schemas, INT96, encryption, codecs other than zstd and none,
 * encodings other than PLAIN and dictionary) is refused with LF_ERR_UNSUPPORTED.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <zstd.h>

#include "parquet_internal.h"
#include "thrift_compact.h"

typedef struct pq_rchunk {
    bool has_meta;
    int32_t type, codec;
    int64_t num_values, total_compressed, data_page_offset, dict_page_offset;
    bool has_dict_offset;
    const uint8_t *min_value, *max_value, *min_old, *max_old;
    uint32_t min_value_len, max_value_len, min_old_len, max_old_len;
    bool has_null_count;
    int64_t null_count;
    lf_pq_stats stats;
} pq_rchunk;

typedef struct pq_rrg {
    int64_t num_rows;
    pq_rchunk *chunks;
    uint32_t nchunks;
} pq_rrg;

struct lf_pq_reader {
    int fd;
    const uint8_t *mem;
    uint64_t size;
    char name[256];
    lf_pq_reader_options lim;
    uint8_t *meta;
    uint32_t meta_len;
    lf_pq_column *cols;
    size_t ncols;
    bool schema_seen;
    bool *type_order;
    int64_t num_rows;
    char *created_by;
    lf_pq_kv *kv;
    size_t nkv;
    pq_rrg *rgs;
    size_t nrg;
    ZSTD_DCtx *dctx;
};

/* ---------------------------------------------------------------------------- helpers */

static char *dup_n(const uint8_t *p, uint32_t n)
{
    char *s = malloc((size_t)n + 1);
    if (s) {
        if (n)
            memcpy(s, p, n);
        s[n] = '\0';
    }
    return s;
}

static lf_err read_at(lf_pq_reader *r, uint64_t off, void *dst, size_t len, lf_error *err)
{
    if (off > r->size || len > r->size - off)
        return lf_error_set(err, LF_ERR_INVALID,
                            "parquet: %s: range %llu+%zu outside the file (%llu bytes)", r->name,
                            (unsigned long long)off, len, (unsigned long long)r->size);
    if (r->mem) {
        if (len)
            memcpy(dst, r->mem + off, len);
        return LF_OK;
    }
    uint8_t *p = dst;
    while (len > 0) {
        ssize_t got = pread(r->fd, p, len, (off_t)off);
        if (got < 0) {
            if (errno == EINTR)
                continue;
            return lf_error_set(err, LF_ERR_IO, "parquet: %s: read at offset %llu: %s", r->name,
                                (unsigned long long)off, strerror(errno));
        }
        if (got == 0)
            return lf_error_set(err, LF_ERR_TRUNCATED,
                                "parquet: %s: file shrank while reading offset %llu", r->name,
                                (unsigned long long)off);
        p += got;
        off += (uint64_t)got;
        len -= (size_t)got;
    }
    return LF_OK;
}

/* ---------------------------------------------------------------------------- footer */

static void parse_logical(tc_reader *t, lf_pq_logical *l)
{
    int16_t id;
    uint8_t ty;
    if (!tcr_struct_begin(t))
        return;
    while (tcr_field(t, &id, &ty)) {
        if (ty != TC_STRUCT) {
            tcr_skip(t, ty);
            continue;
        }
        if (id == 1) {
            l->kind = LF_PQ_LOGICAL_STRING;
            tcr_skip(t, ty);
        } else if (id == 8) { /* TimestampType */
            l->kind = LF_PQ_LOGICAL_TIMESTAMP;
            l->unit = LF_PQ_NANOS;
            int16_t fid;
            uint8_t ft;
            tcr_struct_begin(t);
            while (tcr_field(t, &fid, &ft)) {
                if (fid == 1 && (ft == TC_TRUE || ft == TC_FALSE)) {
                    l->utc_adjusted = tcr_bool_of(ft);
                } else if (fid == 2 && ft == TC_STRUCT) {
                    int16_t uid;
                    uint8_t ut;
                    tcr_struct_begin(t);
                    while (tcr_field(t, &uid, &ut)) {
                        if (uid == 1)
                            l->unit = LF_PQ_MILLIS;
                        else if (uid == 2)
                            l->unit = LF_PQ_MICROS;
                        else if (uid == 3)
                            l->unit = LF_PQ_NANOS;
                        else
                            l->kind = LF_PQ_LOGICAL_OTHER;
                        tcr_skip(t, ut);
                    }
                    tcr_struct_end(t);
                } else {
                    tcr_skip(t, ft);
                }
            }
            tcr_struct_end(t);
        } else if (id == 10) { /* IntType */
            l->kind = LF_PQ_LOGICAL_INT;
            l->is_signed = true;
            int16_t fid;
            uint8_t ft;
            tcr_struct_begin(t);
            while (tcr_field(t, &fid, &ft)) {
                if (fid == 1 && ft == TC_BYTE)
                    l->bit_width = (uint8_t)tcr_i8(t);
                else if (fid == 2 && (ft == TC_TRUE || ft == TC_FALSE))
                    l->is_signed = tcr_bool_of(ft);
                else
                    tcr_skip(t, ft);
            }
            tcr_struct_end(t);
        } else {
            l->kind = LF_PQ_LOGICAL_OTHER;
            tcr_skip(t, ty);
        }
    }
    tcr_struct_end(t);
}

/* Logical type from the deprecated ConvertedType, for files that set only that. */
static void logical_from_converted(int32_t ct, lf_pq_logical *l)
{
    if (ct == PQ_CT_UTF8) {
        l->kind = LF_PQ_LOGICAL_STRING;
    } else if (ct == PQ_CT_TIMESTAMP_MILLIS || ct == PQ_CT_TIMESTAMP_MICROS) {
        l->kind = LF_PQ_LOGICAL_TIMESTAMP;
        l->utc_adjusted = true;
        l->unit = ct == PQ_CT_TIMESTAMP_MILLIS ? LF_PQ_MILLIS : LF_PQ_MICROS;
    } else if (ct >= PQ_CT_UINT_8 && ct <= PQ_CT_INT_8 + 3) {
        l->kind = LF_PQ_LOGICAL_INT;
        l->is_signed = ct >= PQ_CT_INT_8;
        l->bit_width = (uint8_t)(8 << (ct - (l->is_signed ? PQ_CT_INT_8 : PQ_CT_UINT_8)));
    } else {
        l->kind = LF_PQ_LOGICAL_OTHER;
    }
}

/* A logical annotation that does not fit the physical type is passed through as OTHER. */
static void logical_sanitize(lf_pq_column *c)
{
    lf_pq_logical *l = &c->logical;
    bool ok = true;
    if (l->kind == LF_PQ_LOGICAL_STRING)
        ok = c->type == LF_PQ_BYTE_ARRAY;
    else if (l->kind == LF_PQ_LOGICAL_TIMESTAMP)
        ok = c->type == LF_PQ_INT64;
    else if (l->kind == LF_PQ_LOGICAL_INT)
        ok = (c->type == LF_PQ_INT32 &&
              (l->bit_width == 8 || l->bit_width == 16 || l->bit_width == 32)) ||
             (c->type == LF_PQ_INT64 && l->bit_width == 64);
    if (!ok)
        *l = (lf_pq_logical){.kind = LF_PQ_LOGICAL_OTHER};
}

static void parse_schema(lf_pq_reader *r, tc_reader *t, uint8_t ftype)
{
    if (ftype != TC_LIST || r->schema_seen) {
        tcr_fail(t, LF_ERR_INVALID, "schema repeated or not a list");
        return;
    }
    r->schema_seen = true;
    uint8_t et;
    uint32_t n = tcr_list(t, &et);
    if (!tcr_ok(t))
        return;
    if (et != TC_STRUCT || n < 2) {
        tcr_fail(t, LF_ERR_INVALID, "schema needs a root and at least one column");
        return;
    }
    if (n - 1 > r->lim.max_columns) {
        tcr_fail(t, LF_ERR_TOO_LARGE, "more columns than the limit");
        return;
    }
    r->cols = calloc(n - 1, sizeof(*r->cols));
    if (r->cols == NULL) {
        tcr_fail(t, LF_ERR_NOMEM, "out of memory");
        return;
    }
    for (uint32_t i = 0; i < n && tcr_ok(t); i++) {
        int32_t type = -1, type_length = 0, rep = -1, num_children = 0, ct = -1;
        bool has_children = false, has_logical = false;
        char *name = NULL;
        lf_pq_logical logical = {0};
        int16_t id;
        uint8_t ty;
        if (!tcr_struct_begin(t))
            break;
        while (tcr_field(t, &id, &ty)) {
            switch (id) {
            case 1:
                type = tcr_field_i32(t, ty);
                break;
            case 2:
                type_length = tcr_field_i32(t, ty);
                break;
            case 3:
                rep = tcr_field_i32(t, ty);
                break;
            case 4: {
                uint32_t len = 0;
                const uint8_t *p = ty == TC_BINARY ? tcr_binary(t, &len) : NULL;
                if (ty != TC_BINARY || name != NULL) {
                    tcr_fail(t, LF_ERR_INVALID, "bad schema element name");
                    break;
                }
                if (tcr_ok(t) && (name = dup_n(p, len)) == NULL)
                    tcr_fail(t, LF_ERR_NOMEM, "out of memory");
                break;
            }
            case 5:
                num_children = tcr_field_i32(t, ty);
                has_children = true;
                break;
            case 6:
                ct = tcr_field_i32(t, ty);
                break;
            case 10:
                if (ty != TC_STRUCT || has_logical) {
                    tcr_fail(t, LF_ERR_INVALID, "bad logical type");
                    break;
                }
                has_logical = true;
                parse_logical(t, &logical);
                break;
            default:
                tcr_skip(t, ty);
            }
        }
        tcr_struct_end(t);
        if (!tcr_ok(t)) {
            free(name);
            break;
        }
        if (name == NULL) {
            tcr_fail(t, LF_ERR_INVALID, "schema element without a name");
            break;
        }
        if (i == 0) {
            free(name);
            if (!has_children || num_children != (int32_t)(n - 1) || type != -1)
                tcr_fail(t, LF_ERR_UNSUPPORTED, "nested schema (only flat schemas are read)");
            continue;
        }
        lf_pq_column *c = &r->cols[i - 1];
        c->name = name;
        r->ncols = i; /* names so far are owned by cols and freed at close */
        if ((has_children && num_children != 0) || type < 0) {
            tcr_fail(t, LF_ERR_UNSUPPORTED, "nested schema (only flat schemas are read)");
            break;
        }
        if (rep == PQ_REP_REPEATED || (rep != PQ_REP_REQUIRED && rep != PQ_REP_OPTIONAL)) {
            tcr_fail(t, LF_ERR_UNSUPPORTED, "repeated or unknown repetition");
            break;
        }
        if (type == 3) {
            tcr_fail(t, LF_ERR_UNSUPPORTED, "INT96 columns are not read");
            break;
        }
        if (type != LF_PQ_BOOLEAN && type != LF_PQ_INT32 && type != LF_PQ_INT64 &&
            type != LF_PQ_FLOAT && type != LF_PQ_DOUBLE && type != LF_PQ_BYTE_ARRAY &&
            type != LF_PQ_FIXED_LEN_BYTE_ARRAY) {
            tcr_fail(t, LF_ERR_INVALID, "unknown physical type");
            break;
        }
        if (type == LF_PQ_FIXED_LEN_BYTE_ARRAY && (type_length < 1 || type_length > (1 << 26))) {
            tcr_fail(t, LF_ERR_INVALID, "bad FIXED_LEN_BYTE_ARRAY length");
            break;
        }
        c->type = (lf_pq_type)type;
        c->type_length = type == LF_PQ_FIXED_LEN_BYTE_ARRAY ? type_length : 0;
        c->optional = rep == PQ_REP_OPTIONAL;
        if (has_logical)
            c->logical = logical;
        else if (ct >= 0)
            logical_from_converted(ct, &c->logical);
        logical_sanitize(c);
    }
}

static void parse_statistics(tc_reader *t, pq_rchunk *ch)
{
    int16_t id;
    uint8_t ty;
    if (!tcr_struct_begin(t))
        return;
    while (tcr_field(t, &id, &ty)) {
        const uint8_t **pp = NULL;
        uint32_t *lp = NULL;
        if (id == 1)
            pp = &ch->max_old, lp = &ch->max_old_len;
        else if (id == 2)
            pp = &ch->min_old, lp = &ch->min_old_len;
        else if (id == 5)
            pp = &ch->max_value, lp = &ch->max_value_len;
        else if (id == 6)
            pp = &ch->min_value, lp = &ch->min_value_len;
        if (pp && ty == TC_BINARY) {
            *pp = tcr_binary(t, lp);
            if (*pp == NULL) /* an empty value is still a value */
                *pp = (const uint8_t *)"";
        } else if (id == 3) {
            ch->null_count = tcr_field_i64(t, ty);
            ch->has_null_count = true;
        } else {
            tcr_skip(t, ty);
        }
    }
    tcr_struct_end(t);
}

static void parse_column_meta(tc_reader *t, pq_rchunk *ch)
{
    int16_t id;
    uint8_t ty;
    if (!tcr_struct_begin(t))
        return;
    ch->has_meta = true;
    ch->type = -1;
    ch->codec = -1;
    ch->data_page_offset = -1;
    while (tcr_field(t, &id, &ty)) {
        switch (id) {
        case 1:
            ch->type = tcr_field_i32(t, ty);
            break;
        case 4:
            ch->codec = tcr_field_i32(t, ty);
            break;
        case 5:
            ch->num_values = tcr_field_i64(t, ty);
            break;
        case 7:
            ch->total_compressed = tcr_field_i64(t, ty);
            break;
        case 9:
            ch->data_page_offset = tcr_field_i64(t, ty);
            break;
        case 11:
            ch->dict_page_offset = tcr_field_i64(t, ty);
            ch->has_dict_offset = true;
            break;
        case 12:
            if (ty == TC_STRUCT)
                parse_statistics(t, ch);
            else
                tcr_skip(t, ty);
            break;
        default:
            tcr_skip(t, ty);
        }
    }
    tcr_struct_end(t);
}

static void parse_row_group(lf_pq_reader *r, tc_reader *t, pq_rrg *rg)
{
    int16_t id;
    uint8_t ty;
    bool have_cols = false;
    rg->num_rows = -1;
    if (!tcr_struct_begin(t))
        return;
    while (tcr_field(t, &id, &ty)) {
        if (id == 1 && ty == TC_LIST && !have_cols) {
            have_cols = true;
            uint8_t et;
            uint32_t n = tcr_list(t, &et);
            if (!tcr_ok(t))
                break;
            if (et != TC_STRUCT || n > r->lim.max_columns) {
                tcr_fail(t, LF_ERR_INVALID, "bad column chunk list");
                break;
            }
            rg->chunks = calloc(n ? n : 1, sizeof(*rg->chunks));
            if (rg->chunks == NULL) {
                tcr_fail(t, LF_ERR_NOMEM, "out of memory");
                break;
            }
            rg->nchunks = n;
            for (uint32_t i = 0; i < n && tcr_ok(t); i++) {
                int16_t cid;
                uint8_t cty;
                if (!tcr_struct_begin(t))
                    break;
                while (tcr_field(t, &cid, &cty)) {
                    if (cid == 1 || cid == 8 || cid == 9) {
                        tcr_fail(t, LF_ERR_UNSUPPORTED,
                                 "external or encrypted column chunks are not read");
                    } else if (cid == 3 && cty == TC_STRUCT && !rg->chunks[i].has_meta) {
                        parse_column_meta(t, &rg->chunks[i]);
                    } else {
                        tcr_skip(t, cty);
                    }
                }
                tcr_struct_end(t);
            }
        } else if (id == 3) {
            rg->num_rows = tcr_field_i64(t, ty);
        } else {
            tcr_skip(t, ty);
        }
    }
    tcr_struct_end(t);
}

static void parse_file_metadata(lf_pq_reader *r, tc_reader *t)
{
    int16_t id;
    uint8_t ty;
    bool seen_rg = false, seen_kv = false, seen_orders = false, seen_rows = false;
    if (!tcr_struct_begin(t))
        return;
    while (tcr_field(t, &id, &ty)) {
        switch (id) {
        case 2:
            parse_schema(r, t, ty);
            break;
        case 3:
            r->num_rows = tcr_field_i64(t, ty);
            seen_rows = true;
            break;
        case 4: {
            uint8_t et;
            if (ty != TC_LIST || seen_rg) {
                tcr_fail(t, LF_ERR_INVALID, "row groups repeated or not a list");
                break;
            }
            seen_rg = true;
            uint32_t n = tcr_list(t, &et);
            if (!tcr_ok(t))
                break;
            if ((n > 0 && et != TC_STRUCT) || n > r->lim.max_row_groups) {
                tcr_fail(t, LF_ERR_TOO_LARGE, "bad or too many row groups");
                break;
            }
            r->rgs = calloc(n ? n : 1, sizeof(*r->rgs));
            if (r->rgs == NULL) {
                tcr_fail(t, LF_ERR_NOMEM, "out of memory");
                break;
            }
            r->nrg = n;
            for (uint32_t i = 0; i < n && tcr_ok(t); i++)
                parse_row_group(r, t, &r->rgs[i]);
            break;
        }
        case 5: {
            uint8_t et;
            if (ty != TC_LIST || seen_kv) {
                tcr_fail(t, LF_ERR_INVALID, "key/value metadata repeated or not a list");
                break;
            }
            seen_kv = true;
            uint32_t n = tcr_list(t, &et);
            if (!tcr_ok(t))
                break;
            if (n > 0 && et != TC_STRUCT) {
                tcr_fail(t, LF_ERR_INVALID, "bad key/value list");
                break;
            }
            r->kv = calloc(n ? n : 1, sizeof(*r->kv));
            if (r->kv == NULL) {
                tcr_fail(t, LF_ERR_NOMEM, "out of memory");
                break;
            }
            for (uint32_t i = 0; i < n && tcr_ok(t); i++) {
                int16_t kid;
                uint8_t kt;
                char *key = NULL, *value = NULL;
                if (!tcr_struct_begin(t))
                    break;
                while (tcr_field(t, &kid, &kt)) {
                    if ((kid == 1 || kid == 2) && kt == TC_BINARY) {
                        uint32_t len;
                        const uint8_t *p = tcr_binary(t, &len);
                        char **dst = kid == 1 ? &key : &value;
                        if (!tcr_ok(t) || *dst != NULL) {
                            tcr_fail(t, LF_ERR_INVALID, "bad key/value entry");
                            break;
                        }
                        if ((*dst = dup_n(p, len)) == NULL)
                            tcr_fail(t, LF_ERR_NOMEM, "out of memory");
                    } else {
                        tcr_skip(t, kt);
                    }
                }
                tcr_struct_end(t);
                if (key == NULL || !tcr_ok(t)) {
                    free(key);
                    free(value);
                    tcr_fail(t, LF_ERR_INVALID, "key/value entry without a key");
                    break;
                }
                r->kv[r->nkv].key = key;
                r->kv[r->nkv].value = value;
                r->nkv++;
            }
            break;
        }
        case 6:
            if (ty == TC_BINARY && r->created_by == NULL) {
                uint32_t len;
                const uint8_t *p = tcr_binary(t, &len);
                if (tcr_ok(t) && (r->created_by = dup_n(p, len)) == NULL)
                    tcr_fail(t, LF_ERR_NOMEM, "out of memory");
            } else {
                tcr_skip(t, ty);
            }
            break;
        case 7: {
            uint8_t et;
            if (ty != TC_LIST || seen_orders || !r->schema_seen) {
                /* Orders before the schema cannot be matched to columns: ignore them. */
                tcr_skip(t, ty);
                break;
            }
            seen_orders = true;
            uint32_t n = tcr_list(t, &et);
            if (!tcr_ok(t))
                break;
            if (n > 0 && et != TC_STRUCT) {
                tcr_fail(t, LF_ERR_INVALID, "bad column order list");
                break;
            }
            for (uint32_t i = 0; i < n && tcr_ok(t); i++) {
                int16_t oid;
                uint8_t ot;
                if (!tcr_struct_begin(t))
                    break;
                while (tcr_field(t, &oid, &ot)) {
                    if (oid == 1 && ot == TC_STRUCT && i < r->ncols)
                        r->type_order[i] = true;
                    tcr_skip(t, ot);
                }
                tcr_struct_end(t);
            }
            break;
        }
        case 8:
            tcr_fail(t, LF_ERR_UNSUPPORTED, "encrypted files are not read");
            break;
        default:
            tcr_skip(t, ty);
        }
        if (id == 2 && tcr_ok(t)) {
            r->type_order = calloc(r->ncols ? r->ncols : 1, sizeof(bool));
            if (r->type_order == NULL)
                tcr_fail(t, LF_ERR_NOMEM, "out of memory");
        }
    }
    tcr_struct_end(t);
    if (tcr_ok(t) && (!r->schema_seen || !seen_rg || !seen_rows))
        tcr_fail(t, LF_ERR_INVALID, "FileMetaData lacks schema, num_rows or row_groups");
}

/* Decode a PLAIN statistic of the column's type; false when its size does not fit. */
static bool decode_stat(const lf_pq_column *c, const uint8_t *p, uint32_t len, lf_pq_value *v)
{
    memset(v, 0, sizeof(*v));
    switch (c->type) {
    case LF_PQ_BOOLEAN:
        if (len != 1)
            return false;
        v->v.b = p[0] != 0;
        return true;
    case LF_PQ_INT32:
    case LF_PQ_FLOAT:
        if (len != 4)
            return false;
        v->v.i32 = (int32_t)pq_load_le32(p);
        return true;
    case LF_PQ_INT64:
    case LF_PQ_DOUBLE:
        if (len != 8)
            return false;
        v->v.i64 = (int64_t)pq_load_le64(p);
        return true;
    case LF_PQ_FIXED_LEN_BYTE_ARRAY:
        if (len != (uint32_t)c->type_length)
            return false;
        /* fall through */
    case LF_PQ_BYTE_ARRAY:
        v->v.bytes.ptr = p;
        v->v.bytes.len = len;
        return true;
    }
    return false;
}

/* The value union stores FLOAT/DOUBLE bit patterns through i32/i64 above; fix the members. */
static void stat_fix_float(const lf_pq_column *c, lf_pq_value *v)
{
    if (c->type == LF_PQ_FLOAT) {
        uint32_t u = (uint32_t)v->v.i32;
        memcpy(&v->v.f, &u, 4);
    } else if (c->type == LF_PQ_DOUBLE) {
        uint64_t u = (uint64_t)v->v.i64;
        memcpy(&v->v.d, &u, 8);
    }
}

static lf_err validate_metadata(lf_pq_reader *r, lf_error *err)
{
    if (r->num_rows < 0)
        return lf_error_set(err, LF_ERR_INVALID, "parquet: %s: negative row count", r->name);
    int64_t total = 0;
    for (size_t g = 0; g < r->nrg; g++) {
        pq_rrg *rg = &r->rgs[g];
        if (rg->num_rows < 0 || rg->nchunks != r->ncols)
            return lf_error_set(err, LF_ERR_INVALID,
                                "parquet: %s: row group %zu: bad row count or column count",
                                r->name, g);
        if (rg->num_rows > INT64_MAX - total)
            return lf_error_set(err, LF_ERR_INVALID, "parquet: %s: row counts overflow", r->name);
        total += rg->num_rows;
        for (size_t i = 0; i < r->ncols; i++) {
            pq_rchunk *ch = &rg->chunks[i];
            const lf_pq_column *c = &r->cols[i];
            if (!ch->has_meta || ch->type != (int32_t)c->type || ch->num_values < 0 ||
                ch->total_compressed < 0 || ch->data_page_offset < 0 ||
                (ch->has_null_count && (ch->null_count < 0 || ch->null_count > ch->num_values)))
                return lf_error_set(err, LF_ERR_INVALID,
                                    "parquet: %s: row group %zu column %zu (%s): bad column "
                                    "metadata",
                                    r->name, g, i, c->name);
            lf_pq_stats *s = &ch->stats;
            s->num_values = ch->num_values;
            s->has_null_count = ch->has_null_count;
            s->null_count = ch->null_count;
            const uint8_t *mn = NULL, *mx = NULL;
            uint32_t mnl = 0, mxl = 0;
            bool signed_ok =
                (c->type == LF_PQ_BOOLEAN || c->type == LF_PQ_INT32 || c->type == LF_PQ_INT64) &&
                !pq_column_unsigned(c);
            if (r->type_order[i] && ch->min_value && ch->max_value) {
                mn = ch->min_value, mnl = ch->min_value_len;
                mx = ch->max_value, mxl = ch->max_value_len;
            } else if (signed_ok && ch->min_old && ch->max_old) {
                /* Deprecated min/max are in signed order, which is the type order here. */
                mn = ch->min_old, mnl = ch->min_old_len;
                mx = ch->max_old, mxl = ch->max_old_len;
            }
            if (mn && mx && decode_stat(c, mn, mnl, &s->min) && decode_stat(c, mx, mxl, &s->max)) {
                stat_fix_float(c, &s->min);
                stat_fix_float(c, &s->max);
                s->has_min_max = true;
            }
        }
    }
    if (total != r->num_rows)
        return lf_error_set(err, LF_ERR_INVALID,
                            "parquet: %s: row groups hold %lld rows, footer says %lld", r->name,
                            (long long)total, (long long)r->num_rows);
    return LF_OK;
}

/* ---------------------------------------------------------------------------- open / close */

static void limits_default(lf_pq_reader_options *l, const lf_pq_reader_options *o)
{
    lf_pq_reader_options z = {0};
    if (o)
        z = *o;
    l->max_footer_bytes = z.max_footer_bytes ? z.max_footer_bytes : (64u << 20);
    l->max_chunk_bytes = z.max_chunk_bytes ? z.max_chunk_bytes : (1ull << 30);
    l->max_page_bytes = z.max_page_bytes ? z.max_page_bytes : (256u << 20);
    l->max_values = z.max_values ? z.max_values : (64ull << 20);
    l->max_columns = z.max_columns ? z.max_columns : PQ_MAX_COLUMNS;
    l->max_row_groups = z.max_row_groups ? z.max_row_groups : (1u << 20);
    l->max_list_elements = z.max_list_elements ? z.max_list_elements : (16u << 20);
}

void lf_pq_reader_close(lf_pq_reader *r)
{
    if (r == NULL)
        return;
    for (size_t i = 0; i < r->ncols; i++)
        free((char *)r->cols[i].name);
    free(r->cols);
    free(r->type_order);
    for (size_t i = 0; i < r->nkv; i++) {
        free((char *)r->kv[i].key);
        free((char *)r->kv[i].value);
    }
    free(r->kv);
    for (size_t i = 0; i < r->nrg; i++)
        free(r->rgs[i].chunks);
    free(r->rgs);
    free(r->created_by);
    free(r->meta);
    ZSTD_freeDCtx(r->dctx);
    if (r->fd >= 0)
        close(r->fd);
    free(r);
}

static lf_err reader_load(lf_pq_reader *r, lf_error *err)
{
    uint8_t head[4], tail[8];
    if (r->size < 12)
        return lf_error_set(err, LF_ERR_TRUNCATED, "parquet: %s: %llu bytes is too short", r->name,
                            (unsigned long long)r->size);
    lf_err e = read_at(r, 0, head, 4, err);
    if (e == LF_OK)
        e = read_at(r, r->size - 8, tail, 8, err);
    if (e != LF_OK)
        return e;
    if (memcmp(tail + 4, "PARE", 4) == 0)
        return lf_error_set(err, LF_ERR_UNSUPPORTED, "parquet: %s: encrypted footer", r->name);
    if (memcmp(head, PQ_MAGIC, 4) != 0 || memcmp(tail + 4, PQ_MAGIC, 4) != 0)
        return lf_error_set(err, LF_ERR_INVALID,
                            "parquet: %s: no PAR1 magic at both ends (not Parquet, or "
                            "incomplete)",
                            r->name);
    uint32_t mlen = pq_load_le32(tail);
    if (mlen > r->lim.max_footer_bytes)
        return lf_error_set(err, LF_ERR_TOO_LARGE, "parquet: %s: footer of %u bytes over %u",
                            r->name, mlen, r->lim.max_footer_bytes);
    if (mlen == 0 || (uint64_t)mlen > r->size - 12)
        return lf_error_set(err, LF_ERR_TRUNCATED,
                            "parquet: %s: footer length %u does not fit the file", r->name, mlen);
    r->meta = malloc(mlen);
    if (r->meta == NULL)
        return lf_error_set(err, LF_ERR_NOMEM, "parquet: out of memory");
    r->meta_len = mlen;
    e = read_at(r, r->size - 8 - mlen, r->meta, mlen, err);
    if (e != LF_OK)
        return e;
    tc_reader t;
    char what[300];
    snprintf(what, sizeof(what), "%s: footer", r->name);
    tcr_init(&t, r->meta, mlen, r->lim.max_list_elements, what, err);
    parse_file_metadata(r, &t);
    if (!tcr_ok(&t))
        return t.status;
    if (r->type_order == NULL)
        return lf_error_set(err, LF_ERR_INVALID, "parquet: %s: no schema", r->name);
    e = validate_metadata(r, err);
    if (e != LF_OK)
        return e;
    r->dctx = ZSTD_createDCtx();
    if (r->dctx == NULL)
        return lf_error_set(err, LF_ERR_NOMEM, "parquet: out of memory");
    return LF_OK;
}

static lf_err reader_new(const char *name, const lf_pq_reader_options *opts, lf_pq_reader **out,
                         lf_error *err)
{
    lf_pq_reader *r = calloc(1, sizeof(*r));
    if (r == NULL)
        return lf_error_set(err, LF_ERR_NOMEM, "parquet: out of memory");
    r->fd = -1;
    snprintf(r->name, sizeof(r->name), "%s", name);
    limits_default(&r->lim, opts);
    *out = r;
    return LF_OK;
}

lf_err lf_pq_reader_open(const char *path, const lf_pq_reader_options *opts, lf_pq_reader **out,
                         lf_error *err)
{
    if (path == NULL || out == NULL)
        return lf_error_set(err, LF_ERR_INVALID, "parquet: reader_open: NULL argument");
    *out = NULL;
    lf_pq_reader *r;
    lf_err e = reader_new(path, opts, &r, err);
    if (e != LF_OK)
        return e;
    r->fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (r->fd < 0 || fstat(r->fd, &st) != 0) {
        e = lf_error_set(err, errno == ENOENT ? LF_ERR_NOT_FOUND : LF_ERR_IO,
                         "parquet: %s: cannot open: %s", path, strerror(errno));
        lf_pq_reader_close(r);
        return e;
    }
    if (!S_ISREG(st.st_mode)) {
        lf_pq_reader_close(r);
        return lf_error_set(err, LF_ERR_INVALID, "parquet: %s: not a regular file", path);
    }
    r->size = (uint64_t)st.st_size;
    e = reader_load(r, err);
    if (e != LF_OK) {
        lf_pq_reader_close(r);
        return e;
    }
    *out = r;
    return LF_OK;
}

lf_err lf_pq_reader_open_mem(const uint8_t *data, size_t len, const lf_pq_reader_options *opts,
                             lf_pq_reader **out, lf_error *err)
{
    if ((data == NULL && len > 0) || out == NULL)
        return lf_error_set(err, LF_ERR_INVALID, "parquet: reader_open_mem: NULL argument");
    *out = NULL;
    lf_pq_reader *r;
    lf_err e = reader_new("(memory)", opts, &r, err);
    if (e != LF_OK)
        return e;
    static const uint8_t empty[1] = {0};
    r->mem = data ? data : empty;
    r->size = len;
    e = reader_load(r, err);
    if (e != LF_OK) {
        lf_pq_reader_close(r);
        return e;
    }
    *out = r;
    return LF_OK;
}

/* ---------------------------------------------------------------------------- accessors */

size_t lf_pq_reader_num_columns(const lf_pq_reader *r)
{
    return r ? r->ncols : 0;
}

const lf_pq_column *lf_pq_reader_column(const lf_pq_reader *r, size_t i)
{
    return r && i < r->ncols ? &r->cols[i] : NULL;
}

ssize_t lf_pq_reader_find_column(const lf_pq_reader *r, const char *name)
{
    if (r == NULL || name == NULL)
        return -1;
    for (size_t i = 0; i < r->ncols; i++)
        if (strcmp(r->cols[i].name, name) == 0)
            return (ssize_t)i;
    return -1;
}

int64_t lf_pq_reader_num_rows(const lf_pq_reader *r)
{
    return r ? r->num_rows : 0;
}

const char *lf_pq_reader_created_by(const lf_pq_reader *r)
{
    return r ? r->created_by : NULL;
}

size_t lf_pq_reader_num_kv(const lf_pq_reader *r)
{
    return r ? r->nkv : 0;
}

const lf_pq_kv *lf_pq_reader_kv(const lf_pq_reader *r, size_t i)
{
    return r && i < r->nkv ? &r->kv[i] : NULL;
}

const char *lf_pq_reader_kv_get(const lf_pq_reader *r, const char *key)
{
    if (r == NULL || key == NULL)
        return NULL;
    for (size_t i = 0; i < r->nkv; i++)
        if (strcmp(r->kv[i].key, key) == 0)
            return r->kv[i].value;
    return NULL;
}

size_t lf_pq_reader_num_row_groups(const lf_pq_reader *r)
{
    return r ? r->nrg : 0;
}

int64_t lf_pq_reader_row_group_num_rows(const lf_pq_reader *r, size_t rg)
{
    return r && rg < r->nrg ? r->rgs[rg].num_rows : 0;
}

const lf_pq_stats *lf_pq_reader_stats(const lf_pq_reader *r, size_t rg, size_t col)
{
    if (r == NULL || rg >= r->nrg || col >= r->ncols)
        return NULL;
    return &r->rgs[rg].chunks[col].stats;
}

/* ---------------------------------------------------------------------------- pages */

typedef struct pq_ctx {
    lf_pq_reader *r;
    const lf_pq_column *c;
    lf_pq_column_data *out;
    size_t rg, col;
    lf_error *err;
} pq_ctx;

static lf_err bad(pq_ctx *x, lf_err code, const char *what)
{
    return lf_error_set(x->err, code, "parquet: %s: row group %zu column %zu (%s): %s", x->r->name,
                        x->rg, x->col, x->c->name, what);
}

static lf_err own(pq_ctx *x, void *p)
{
    lf_pq_column_data *o = x->out;
    if (o->num_owned == o->cap_owned) {
        size_t cap = o->cap_owned ? o->cap_owned * 2 : 8;
        void **n = realloc(o->owned, cap * sizeof(*n));
        if (n == NULL) {
            free(p);
            return bad(x, LF_ERR_NOMEM, "out of memory");
        }
        o->owned = n;
        o->cap_owned = cap;
    }
    o->owned[o->num_owned++] = p;
    return LF_OK;
}

/* RLE / bit-packed hybrid: decode `count` values of `bw` bits from [p, p+len). */
static lf_err hybrid_decode(pq_ctx *x, const uint8_t *p, size_t len, int bw, uint32_t *out,
                            size_t count)
{
    size_t pos = 0, got = 0;
    uint32_t mask = bw >= 32 ? 0xFFFFFFFFu : ((1u << bw) - 1);
    while (got < count) {
        uint64_t h = 0;
        int shift = 0;
        for (;;) {
            if (pos >= len)
                return bad(x, LF_ERR_TRUNCATED, "RLE/bit-packed data ends early");
            uint8_t b = p[pos++];
            h |= (uint64_t)(b & 0x7F) << shift;
            if (!(b & 0x80))
                break;
            shift += 7;
            if (shift > 28)
                return bad(x, LF_ERR_INVALID, "RLE run header too long");
        }
        if (h & 1) {
            uint64_t groups = h >> 1;
            uint64_t nvals = groups * 8;
            uint64_t nbytes = groups * (uint64_t)bw;
            size_t avail = len - pos;
            size_t take = nvals < count - got ? (size_t)nvals : count - got;
            /* Some writers end the last run early; only the values we need must be present. */
            if ((uint64_t)take * (uint64_t)bw > (uint64_t)avail * 8)
                return bad(x, LF_ERR_TRUNCATED, "bit-packed run ends early");
            for (size_t i = 0; i < take; i++) {
                uint64_t bit = (uint64_t)i * (uint64_t)bw;
                size_t byte = (size_t)(bit >> 3);
                uint64_t acc = 0;
                for (int k = 0; k < 5 && byte + (size_t)k < avail; k++)
                    acc |= (uint64_t)p[pos + byte + (size_t)k] << (8 * k);
                out[got + i] = (uint32_t)(acc >> (bit & 7)) & mask;
            }
            got += take;
            pos += nbytes < avail ? (size_t)nbytes : avail;
        } else {
            uint64_t run = h >> 1;
            if (run == 0)
                return bad(x, LF_ERR_INVALID, "empty RLE run");
            size_t vb = ((size_t)bw + 7) / 8;
            if (len - pos < vb)
                return bad(x, LF_ERR_TRUNCATED, "RLE value ends early");
            uint32_t v = 0;
            for (size_t k = 0; k < vb; k++)
                v |= (uint32_t)p[pos + k] << (8 * k);
            pos += vb;
            v &= mask;
            size_t take = run < count - got ? (size_t)run : count - got;
            for (size_t i = 0; i < take; i++)
                out[got + i] = v;
            got += take;
        }
    }
    return LF_OK;
}

/* Decode `n` PLAIN values into dst (no NULLs); *used returns the bytes consumed. */
static lf_err plain_decode(pq_ctx *x, const uint8_t *p, size_t len, size_t n, lf_pq_value *dst,
                           size_t *used)
{
    const lf_pq_column *c = x->c;
    size_t pos = 0;
    size_t width = 0;
    switch (c->type) {
    case LF_PQ_BOOLEAN:
        if ((n + 7) / 8 > len)
            return bad(x, LF_ERR_TRUNCATED, "PLAIN booleans end early");
        for (size_t i = 0; i < n; i++) {
            dst[i].is_null = false;
            dst[i].v.b = (p[i / 8] >> (i % 8)) & 1;
        }
        *used = (n + 7) / 8;
        return LF_OK;
    case LF_PQ_INT32:
    case LF_PQ_FLOAT:
        width = 4;
        break;
    case LF_PQ_INT64:
    case LF_PQ_DOUBLE:
        width = 8;
        break;
    case LF_PQ_FIXED_LEN_BYTE_ARRAY:
        width = (size_t)c->type_length;
        break;
    case LF_PQ_BYTE_ARRAY:
        for (size_t i = 0; i < n; i++) {
            if (len - pos < 4)
                return bad(x, LF_ERR_TRUNCATED, "PLAIN byte array length ends early");
            uint32_t l = pq_load_le32(p + pos);
            pos += 4;
            if (l > len - pos)
                return bad(x, LF_ERR_TRUNCATED, "PLAIN byte array longer than its page");
            dst[i].is_null = false;
            dst[i].v.bytes.ptr = p + pos;
            dst[i].v.bytes.len = l;
            pos += l;
        }
        *used = pos;
        return LF_OK;
    }
    if (width == 0 || n > len / width)
        return bad(x, LF_ERR_TRUNCATED, "PLAIN values end early");
    for (size_t i = 0; i < n; i++, pos += width) {
        dst[i].is_null = false;
        switch (c->type) {
        case LF_PQ_INT32:
            dst[i].v.i32 = (int32_t)pq_load_le32(p + pos);
            break;
        case LF_PQ_FLOAT: {
            uint32_t u = pq_load_le32(p + pos);
            memcpy(&dst[i].v.f, &u, 4);
            break;
        }
        case LF_PQ_INT64:
            dst[i].v.i64 = (int64_t)pq_load_le64(p + pos);
            break;
        case LF_PQ_DOUBLE: {
            uint64_t u = pq_load_le64(p + pos);
            memcpy(&dst[i].v.d, &u, 8);
            break;
        }
        default:
            dst[i].v.bytes.ptr = p + pos;
            dst[i].v.bytes.len = (uint32_t)width;
        }
    }
    *used = pos;
    return LF_OK;
}

/* Page bytes after decompression (or the raw bytes when uncompressed). */
static lf_err page_body(pq_ctx *x, int32_t codec, const uint8_t *src, size_t clen, size_t ulen,
                        const uint8_t **body)
{
    if (ulen > x->r->lim.max_page_bytes)
        return bad(x, LF_ERR_TOO_LARGE, "page larger than the limit");
    if (codec == PQ_CODEC_UNCOMPRESSED) {
        if (clen != ulen)
            return bad(x, LF_ERR_INVALID, "uncompressed page with two different sizes");
        *body = src;
        return LF_OK;
    }
    uint8_t *dst = malloc(ulen ? ulen : 1);
    if (dst == NULL)
        return bad(x, LF_ERR_NOMEM, "out of memory");
    size_t n = ZSTD_decompressDCtx(x->r->dctx, dst, ulen, src, clen);
    if (ZSTD_isError(n) || n != ulen) {
        free(dst);
        return bad(x, LF_ERR_INVALID, "zstd page does not decompress to its declared size");
    }
    *body = dst;
    return own(x, dst);
}

typedef struct pq_dict {
    lf_pq_value *v;
    size_t n;
} pq_dict;

static lf_err grow_values(pq_ctx *x, size_t need, size_t *cap)
{
    lf_pq_column_data *o = x->out;
    if (need <= *cap)
        return LF_OK;
    size_t ncap = *cap ? *cap : 1024;
    while (ncap < need)
        ncap *= 2;
    lf_pq_value *n = realloc(o->values, ncap * sizeof(*n));
    if (n == NULL)
        return bad(x, LF_ERR_NOMEM, "out of memory");
    o->values = n;
    *cap = ncap;
    return LF_OK;
}

/* Fill out->values[start .. start+n) from definition levels and encoded values. */
static lf_err decode_values(pq_ctx *x, size_t n, const uint8_t *levels, size_t levels_len,
                            bool levels_prefixed, int32_t encoding, const uint8_t *data,
                            size_t data_len, const pq_dict *dict)
{
    lf_pq_column_data *o = x->out;
    lf_pq_value *dst = o->values + o->num_values;
    uint32_t *def = NULL;
    size_t defined = n;
    lf_err e = LF_OK;
    if (x->c->optional) {
        const uint8_t *lp = levels;
        size_t ll = levels_len;
        if (levels_prefixed) {
            if (ll < 4)
                return bad(x, LF_ERR_TRUNCATED, "definition levels end early");
            uint32_t l = pq_load_le32(lp);
            if (l > ll - 4)
                return bad(x, LF_ERR_TRUNCATED, "definition levels longer than the page");
            lp += 4;
            ll = l;
        }
        def = malloc(n ? n * sizeof(*def) : 1);
        if (def == NULL)
            return bad(x, LF_ERR_NOMEM, "out of memory");
        e = hybrid_decode(x, lp, ll, 1, def, n);
        if (e != LF_OK)
            goto out;
        defined = 0;
        for (size_t i = 0; i < n; i++)
            defined += def[i];
    }
    /* Decode the defined values to the front of dst, then spread them to their rows. */
    if (encoding == PQ_ENC_PLAIN) {
        size_t used;
        e = plain_decode(x, data, data_len, defined, dst, &used);
    } else if (encoding == PQ_ENC_PLAIN_DICTIONARY || encoding == PQ_ENC_RLE_DICTIONARY) {
        if (dict == NULL) {
            e = bad(x, LF_ERR_INVALID, "dictionary-encoded page without a dictionary");
            goto out;
        }
        if (defined > 0) {
            if (data_len < 1 || data[0] > 32) {
                e = bad(x, LF_ERR_INVALID, "bad dictionary index bit width");
                goto out;
            }
            uint32_t *idx = malloc(defined * sizeof(*idx));
            if (idx == NULL) {
                e = bad(x, LF_ERR_NOMEM, "out of memory");
                goto out;
            }
            e = hybrid_decode(x, data + 1, data_len - 1, data[0], idx, defined);
            for (size_t i = 0; e == LF_OK && i < defined; i++) {
                if (idx[i] >= dict->n)
                    e = bad(x, LF_ERR_INVALID, "dictionary index out of range");
                else
                    dst[i] = dict->v[idx[i]];
            }
            free(idx);
        }
    } else {
        e = bad(x, LF_ERR_UNSUPPORTED, "value encoding not supported (PLAIN and dictionary only)");
    }
    if (e != LF_OK)
        goto out;
    if (def) {
        size_t k = defined;
        for (size_t i = n; i-- > 0;) {
            if (def[i]) {
                dst[i] = dst[--k];
            } else {
                memset(&dst[i], 0, sizeof(dst[i]));
                dst[i].is_null = true;
                o->null_count++;
            }
        }
    }
    o->num_values += n;
out:
    free(def);
    return e;
}

static lf_err read_dictionary(pq_ctx *x, const uint8_t *body, size_t len, int64_t n,
                              int32_t encoding, pq_dict *dict)
{
    if (encoding != PQ_ENC_PLAIN && encoding != PQ_ENC_PLAIN_DICTIONARY)
        return bad(x, LF_ERR_UNSUPPORTED, "dictionary page encoding not supported");
    if (n < 0 || (uint64_t)n > x->r->lim.max_values)
        return bad(x, LF_ERR_TOO_LARGE, "dictionary larger than the limit");
    /* Every entry takes at least one bit: a cheap bound before allocating. */
    if ((uint64_t)n > (uint64_t)len * 8 + 1)
        return bad(x, LF_ERR_TRUNCATED, "dictionary page shorter than its entries");
    dict->v = malloc((size_t)(n ? n : 1) * sizeof(*dict->v));
    if (dict->v == NULL)
        return bad(x, LF_ERR_NOMEM, "out of memory");
    dict->n = (size_t)n;
    size_t used;
    return plain_decode(x, body, len, (size_t)n, dict->v, &used);
}

typedef struct pq_page_hdr {
    int32_t type, usize, csize;
    bool has_data, has_dict, has_v2;
    int32_t num_values, encoding, def_encoding;
    int32_t v2_num_nulls, v2_def_len, v2_rep_len;
    bool v2_compressed;
    int32_t dict_num_values, dict_encoding;
} pq_page_hdr;

static void parse_page_header(tc_reader *t, pq_page_hdr *h)
{
    int16_t id, sid;
    uint8_t ty, st;
    memset(h, 0, sizeof(*h));
    h->type = h->usize = h->csize = -1;
    h->def_encoding = PQ_ENC_RLE;
    h->v2_compressed = true;
    if (!tcr_struct_begin(t))
        return;
    while (tcr_field(t, &id, &ty)) {
        if (id == 1) {
            h->type = tcr_field_i32(t, ty);
        } else if (id == 2) {
            h->usize = tcr_field_i32(t, ty);
        } else if (id == 3) {
            h->csize = tcr_field_i32(t, ty);
        } else if ((id == 5 || id == 7 || id == 8) && ty == TC_STRUCT) {
            if (!tcr_struct_begin(t))
                break;
            h->has_data |= id == 5;
            h->has_dict |= id == 7;
            h->has_v2 |= id == 8;
            while (tcr_field(t, &sid, &st)) {
                if (id == 5 && sid == 1)
                    h->num_values = tcr_field_i32(t, st);
                else if (id == 5 && sid == 2)
                    h->encoding = tcr_field_i32(t, st);
                else if (id == 5 && sid == 3)
                    h->def_encoding = tcr_field_i32(t, st);
                else if (id == 7 && sid == 1)
                    h->dict_num_values = tcr_field_i32(t, st);
                else if (id == 7 && sid == 2)
                    h->dict_encoding = tcr_field_i32(t, st);
                else if (id == 8 && sid == 1)
                    h->num_values = tcr_field_i32(t, st);
                else if (id == 8 && sid == 2)
                    h->v2_num_nulls = tcr_field_i32(t, st);
                else if (id == 8 && sid == 4)
                    h->encoding = tcr_field_i32(t, st);
                else if (id == 8 && sid == 5)
                    h->v2_def_len = tcr_field_i32(t, st);
                else if (id == 8 && sid == 6)
                    h->v2_rep_len = tcr_field_i32(t, st);
                else if (id == 8 && sid == 7 && (st == TC_TRUE || st == TC_FALSE))
                    h->v2_compressed = tcr_bool_of(st);
                else
                    tcr_skip(t, st);
            }
            tcr_struct_end(t);
        } else {
            tcr_skip(t, ty);
        }
    }
    tcr_struct_end(t);
}

static lf_err read_pages(pq_ctx *x, const pq_rchunk *ch, const uint8_t *chunk, size_t len)
{
    lf_pq_column_data *o = x->out;
    size_t pos = 0, cap = 0;
    pq_dict dict = {NULL, 0};
    bool have_dict = false;
    lf_err e = LF_OK;
    uint64_t want = (uint64_t)ch->num_values;
    while (o->num_values < want) {
        if (pos >= len) {
            e = bad(x, LF_ERR_TRUNCATED, "column chunk ends before all its values");
            break;
        }
        tc_reader t;
        pq_page_hdr h;
        tcr_init(&t, chunk + pos, len - pos, 1024, "page header", x->err);
        parse_page_header(&t, &h);
        if (!tcr_ok(&t)) {
            e = t.status;
            break;
        }
        pos += (size_t)(t.p - (chunk + pos));
        if (h.usize < 0 || h.csize < 0 || (size_t)h.csize > len - pos) {
            e = bad(x, LF_ERR_INVALID, "page sizes negative or beyond the chunk");
            break;
        }
        const uint8_t *raw = chunk + pos;
        size_t clen = (size_t)h.csize, ulen = (size_t)h.usize;
        pos += clen;
        const uint8_t *body = NULL;
        if (h.type == PQ_PAGE_INDEX) {
            continue;
        } else if (h.type == PQ_PAGE_DICTIONARY && h.has_dict) {
            if (have_dict || o->num_values > 0) {
                e = bad(x, LF_ERR_INVALID, "misplaced or second dictionary page");
                break;
            }
            if ((e = page_body(x, ch->codec, raw, clen, ulen, &body)) != LF_OK)
                break;
            have_dict = true;
            if ((e = read_dictionary(x, body, ulen, h.dict_num_values, h.dict_encoding, &dict)) !=
                LF_OK)
                break;
            continue;
        } else if ((h.type != PQ_PAGE_DATA || !h.has_data) &&
                   (h.type != PQ_PAGE_DATA_V2 || !h.has_v2)) {
            e = bad(x, LF_ERR_UNSUPPORTED, "unknown page type");
            break;
        }
        if (h.num_values < 0 || (uint64_t)h.num_values > want - o->num_values) {
            e = bad(x, LF_ERR_INVALID, "page holds more values than its column chunk");
            break;
        }
        size_t n = (size_t)h.num_values;
        if ((e = grow_values(x, o->num_values + n, &cap)) != LF_OK)
            break;
        if (h.type == PQ_PAGE_DATA) {
            if (x->c->optional && h.def_encoding != PQ_ENC_RLE) {
                e = bad(x, LF_ERR_UNSUPPORTED, "definition levels not RLE-encoded");
                break;
            }
            if ((e = page_body(x, ch->codec, raw, clen, ulen, &body)) != LF_OK)
                break;
            size_t lv = 0;
            if (x->c->optional) {
                if (ulen < 4) {
                    e = bad(x, LF_ERR_TRUNCATED, "definition levels end early");
                    break;
                }
                lv = 4 + (size_t)pq_load_le32(body);
                if (lv > ulen || lv < 4) {
                    e = bad(x, LF_ERR_TRUNCATED, "definition levels longer than the page");
                    break;
                }
            }
            e = decode_values(x, n, body, lv, true, h.encoding, body + lv, ulen - lv,
                              have_dict ? &dict : NULL);
        } else {
            /* v2: levels are stored uncompressed before the (maybe compressed) values. */
            if (h.v2_def_len < 0 || h.v2_rep_len != 0 || (size_t)h.v2_def_len > clen ||
                (size_t)h.v2_def_len > ulen || (!x->c->optional && h.v2_def_len != 0)) {
                e = bad(x, LF_ERR_INVALID, "bad v2 level lengths for a flat column");
                break;
            }
            size_t dl = (size_t)h.v2_def_len;
            int32_t codec = h.v2_compressed ? ch->codec : PQ_CODEC_UNCOMPRESSED;
            if ((e = page_body(x, codec, raw + dl, clen - dl, ulen - dl, &body)) != LF_OK)
                break;
            e = decode_values(x, n, raw, dl, false, h.encoding, body, ulen - dl,
                              have_dict ? &dict : NULL);
        }
        if (e != LF_OK)
            break;
    }
    free(dict.v);
    return e;
}

lf_err lf_pq_reader_read_column(lf_pq_reader *r, size_t rg, size_t col, lf_pq_column_data *out,
                                lf_error *err)
{
    if (r == NULL || out == NULL)
        return lf_error_set(err, LF_ERR_INVALID, "parquet: read_column: NULL argument");
    memset(out, 0, sizeof(*out));
    if (rg >= r->nrg || col >= r->ncols)
        return lf_error_set(err, LF_ERR_INVALID, "parquet: %s: no row group %zu column %zu",
                            r->name, rg, col);
    const pq_rchunk *ch = &r->rgs[rg].chunks[col];
    pq_ctx x = {r, &r->cols[col], out, rg, col, err};
    if (ch->codec != PQ_CODEC_UNCOMPRESSED && ch->codec != PQ_CODEC_ZSTD)
        return bad(&x, LF_ERR_UNSUPPORTED, "compression codec not supported (zstd and none)");
    if (ch->num_values != r->rgs[rg].num_rows)
        return bad(&x, LF_ERR_INVALID, "value count differs from the row count");
    if ((uint64_t)ch->num_values > r->lim.max_values)
        return bad(&x, LF_ERR_TOO_LARGE, "more values than the limit");
    uint64_t start = (uint64_t)ch->data_page_offset;
    if (ch->has_dict_offset && ch->dict_page_offset > 0 && (uint64_t)ch->dict_page_offset < start)
        start = (uint64_t)ch->dict_page_offset;
    uint64_t len = (uint64_t)ch->total_compressed;
    uint64_t data_end = r->size - 8 - r->meta_len; /* the footer follows the data */
    if (start < 4 || start > data_end || len > data_end - start)
        return bad(&x, LF_ERR_INVALID, "column chunk outside the file's data");
    if (len > r->lim.max_chunk_bytes)
        return bad(&x, LF_ERR_TOO_LARGE, "column chunk larger than the limit");
    if (ch->num_values == 0)
        return LF_OK;
    uint8_t *chunk = malloc(len ? (size_t)len : 1);
    if (chunk == NULL)
        return bad(&x, LF_ERR_NOMEM, "out of memory");
    lf_err e = own(&x, chunk);
    if (e != LF_OK)
        return e;
    e = read_at(r, start, chunk, (size_t)len, err);
    if (e != LF_OK)
        return e;
    return read_pages(&x, ch, chunk, (size_t)len);
}

void lf_pq_column_data_free(lf_pq_column_data *cd)
{
    if (cd == NULL)
        return;
    for (size_t i = 0; i < cd->num_owned; i++)
        free(cd->owned[i]);
    free(cd->owned);
    free(cd->values);
    memset(cd, 0, sizeof(*cd));
}

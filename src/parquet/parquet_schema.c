/*
 * parquet_schema.c — the rules for the flat schemas lf_parquet writes: which logical types go
 * with which physical types, and how they map to Parquet's deprecated ConvertedType (which the
 * spec asks writers to keep setting alongside LogicalType for older readers).
 */
#include "parquet_internal.h"

const char *lf_pq_type_name(lf_pq_type t)
{
    switch (t) {
    case LF_PQ_BOOLEAN:
        return "BOOLEAN";
    case LF_PQ_INT32:
        return "INT32";
    case LF_PQ_INT64:
        return "INT64";
    case LF_PQ_FLOAT:
        return "FLOAT";
    case LF_PQ_DOUBLE:
        return "DOUBLE";
    case LF_PQ_BYTE_ARRAY:
        return "BYTE_ARRAY";
    case LF_PQ_FIXED_LEN_BYTE_ARRAY:
        return "FIXED_LEN_BYTE_ARRAY";
    }
    return "?";
}

bool pq_column_unsigned(const lf_pq_column *c)
{
    return c->logical.kind == LF_PQ_LOGICAL_INT && !c->logical.is_signed;
}

int pq_converted_type(const lf_pq_column *c)
{
    const lf_pq_logical *l = &c->logical;
    switch (l->kind) {
    case LF_PQ_LOGICAL_STRING:
        return PQ_CT_UTF8;
    case LF_PQ_LOGICAL_TIMESTAMP:
        /* The converted types imply UTC adjustment and exist only for millis and micros. */
        if (!l->utc_adjusted)
            return -1;
        if (l->unit == LF_PQ_MILLIS)
            return PQ_CT_TIMESTAMP_MILLIS;
        if (l->unit == LF_PQ_MICROS)
            return PQ_CT_TIMESTAMP_MICROS;
        return -1;
    case LF_PQ_LOGICAL_INT: {
        int idx = l->bit_width == 8 ? 0 : l->bit_width == 16 ? 1 : l->bit_width == 32 ? 2 : 3;
        return (l->is_signed ? PQ_CT_INT_8 : PQ_CT_UINT_8) + idx;
    }
    default:
        return -1;
    }
}

lf_err pq_schema_validate(const lf_pq_column *cols, size_t n, lf_error *err)
{
    if (cols == NULL || n == 0 || n > PQ_MAX_COLUMNS)
        return lf_error_set(err, LF_ERR_INVALID, "parquet: schema needs 1..%d columns",
                            PQ_MAX_COLUMNS);
    for (size_t i = 0; i < n; i++) {
        const lf_pq_column *c = &cols[i];
        if (c->name == NULL || c->name[0] == '\0' || strlen(c->name) > 1024)
            return lf_error_set(err, LF_ERR_INVALID, "parquet: column %zu: name empty or too long",
                                i);
        for (size_t j = 0; j < i; j++)
            if (strcmp(cols[j].name, c->name) == 0)
                return lf_error_set(err, LF_ERR_INVALID, "parquet: column %zu: duplicate name", i);
        switch (c->type) {
        case LF_PQ_BOOLEAN:
        case LF_PQ_INT32:
        case LF_PQ_INT64:
        case LF_PQ_FLOAT:
        case LF_PQ_DOUBLE:
        case LF_PQ_BYTE_ARRAY:
            break;
        case LF_PQ_FIXED_LEN_BYTE_ARRAY:
            if (c->type_length < 1 || c->type_length > (1 << 20))
                return lf_error_set(err, LF_ERR_INVALID,
                                    "parquet: column %zu: FIXED_LEN_BYTE_ARRAY length %d "
                                    "outside 1..1048576",
                                    i, (int)c->type_length);
            break;
        default:
            return lf_error_set(err, LF_ERR_INVALID, "parquet: column %zu: unknown type %d", i,
                                (int)c->type);
        }
        const lf_pq_logical *l = &c->logical;
        bool ok = true;
        switch (l->kind) {
        case LF_PQ_LOGICAL_NONE:
            break;
        case LF_PQ_LOGICAL_STRING:
            ok = c->type == LF_PQ_BYTE_ARRAY;
            break;
        case LF_PQ_LOGICAL_TIMESTAMP:
            ok = c->type == LF_PQ_INT64 &&
                 (l->unit == LF_PQ_NANOS || l->unit == LF_PQ_MICROS || l->unit == LF_PQ_MILLIS);
            break;
        case LF_PQ_LOGICAL_INT:
            ok = (c->type == LF_PQ_INT32 &&
                  (l->bit_width == 8 || l->bit_width == 16 || l->bit_width == 32)) ||
                 (c->type == LF_PQ_INT64 && l->bit_width == 64);
            break;
        default:
            ok = false;
        }
        if (!ok)
            return lf_error_set(err, LF_ERR_INVALID,
                                "parquet: column %zu (%s): logical type does not fit %s", i,
                                c->name, lf_pq_type_name(c->type));
    }
    return LF_OK;
}

/*
 * parquet_internal.h — what lf_parquet's writer, reader and schema code share (not public).
 *
 * Numbers below come from parquet.thrift (enums Encoding, CompressionCodec, PageType,
 * ConvertedType, FieldRepetitionType) and from the RLE / bit-packed hybrid encoding.
 */
#ifndef LF_PQ_INTERNAL_H
#define LF_PQ_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "parquet.h"

#define PQ_MAGIC           "PAR1"
#define PQ_MAX_COLUMNS     4096
#define PQ_MAX_VALUE_BYTES (512u * 1024 * 1024)

enum {
    PQ_ENC_PLAIN = 0,
    PQ_ENC_PLAIN_DICTIONARY = 2,
    PQ_ENC_RLE = 3,
    PQ_ENC_BIT_PACKED = 4,
    PQ_ENC_RLE_DICTIONARY = 8
};
enum { PQ_CODEC_UNCOMPRESSED = 0, PQ_CODEC_ZSTD = 6 };
enum { PQ_PAGE_DATA = 0, PQ_PAGE_INDEX = 1, PQ_PAGE_DICTIONARY = 2, PQ_PAGE_DATA_V2 = 3 };
enum { PQ_REP_REQUIRED = 0, PQ_REP_OPTIONAL = 1, PQ_REP_REPEATED = 2 };
enum {
    PQ_CT_UTF8 = 0,
    PQ_CT_TIMESTAMP_MILLIS = 9,
    PQ_CT_TIMESTAMP_MICROS = 10,
    PQ_CT_UINT_8 = 11,
    PQ_CT_INT_8 = 15,
};

/* Validate a writer schema (names, type/logical combinations, lengths). */
lf_err pq_schema_validate(const lf_pq_column *cols, size_t n, lf_error *err);
/* True when INT32/INT64 values of this column compare as unsigned (UINT_32, UINT_64). */
bool pq_column_unsigned(const lf_pq_column *c);
/* ConvertedType for a column, or -1 when none applies. */
int pq_converted_type(const lf_pq_column *c);

static inline void pq_store_le32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

static inline uint32_t pq_load_le32(const uint8_t *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

static inline uint64_t pq_load_le64(const uint8_t *p)
{
    return (uint64_t)pq_load_le32(p) | ((uint64_t)pq_load_le32(p + 4) << 32);
}

static inline void pq_store_le64(uint8_t *p, uint64_t v)
{
    pq_store_le32(p, (uint32_t)v);
    pq_store_le32(p + 4, (uint32_t)(v >> 32));
}

/* Unsigned lexicographic comparison of byte strings (the order of BYTE_ARRAY / STRING). */
static inline int pq_bytes_cmp(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
    size_t n = alen < blen ? alen : blen;
    int c = n ? memcmp(a, b, n) : 0;
    if (c != 0)
        return c;
    return alen < blen ? -1 : alen > blen ? 1 : 0;
}

#endif

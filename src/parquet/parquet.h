/*
 * parquet.h — LogFlux's own Apache Parquet writer and reader (public API of lf_parquet).
 *
 * What it covers (docs/PARQUET.md has the full subset and the reasons):
 *   - flat schemas only: a list of leaf columns, each REQUIRED or OPTIONAL (no nesting, no
 *     REPEATED), physical types BOOLEAN, INT32, INT64, FLOAT, DOUBLE, BYTE_ARRAY and
 *     FIXED_LEN_BYTE_ARRAY(n), logical types STRING, TIMESTAMP(unit, UTC-adjusted) and
 *     INT(8/16/32/64, signed/unsigned);
 *   - the writer emits data pages v1, PLAIN values, RLE/bit-packed definition levels, zstd (or no)
 *     page compression, column-chunk statistics with TypeDefinedOrder column orders, and the
 *     footer last, so a file cut short by a crash or an I/O error never looks complete;
 *   - the reader is built for files from untrusted sources: every offset and length is checked
 *     against the file size and configurable limits before use, Thrift nesting and list sizes
 *     are bounded, decompression is bounded by the declared page size. It reads v1 and v2 data
 *     pages, PLAIN and dictionary (PLAIN_DICTIONARY / RLE_DICTIONARY) encodings, uncompressed and
 *     zstd pages; anything else is refused with LF_ERR_UNSUPPORTED.
 *
 * Ownership: every handle is opaque and freed by its own close/free function. Strings and byte
 * values handed out by the reader point into memory owned by the reader (schema, metadata,
 * statistics: valid until lf_pq_reader_close) or by an lf_pq_column_data (values: valid until
 * lf_pq_column_data_free). The writer copies everything it is given before returning.
 */
#ifndef LF_PARQUET_H
#define LF_PARQUET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "logflux/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Physical types, numbered as in parquet.thrift's enum Type. */
typedef enum lf_pq_type {
    LF_PQ_BOOLEAN = 0,
    LF_PQ_INT32 = 1,
    LF_PQ_INT64 = 2,
    LF_PQ_FLOAT = 4,
    LF_PQ_DOUBLE = 5,
    LF_PQ_BYTE_ARRAY = 6,
    LF_PQ_FIXED_LEN_BYTE_ARRAY = 7,
} lf_pq_type;

typedef enum lf_pq_logical_kind {
    LF_PQ_LOGICAL_NONE = 0,
    LF_PQ_LOGICAL_STRING,    /* BYTE_ARRAY holding UTF-8 */
    LF_PQ_LOGICAL_TIMESTAMP, /* INT64 counting `unit` since the Unix epoch */
    LF_PQ_LOGICAL_INT,       /* INT32 (8/16/32 bits) or INT64 (64 bits), signed or unsigned */
    LF_PQ_LOGICAL_OTHER,     /* reader only: an annotation we pass through without meaning */
} lf_pq_logical_kind;

typedef enum lf_pq_time_unit {
    LF_PQ_NANOS = 0, /* the zero value: LogFlux timestamps are nanoseconds */
    LF_PQ_MICROS,
    LF_PQ_MILLIS,
} lf_pq_time_unit;

typedef struct lf_pq_logical {
    lf_pq_logical_kind kind;
    lf_pq_time_unit unit; /* TIMESTAMP */
    bool utc_adjusted;    /* TIMESTAMP: isAdjustedToUTC */
    uint8_t bit_width;    /* INT: 8, 16, 32 or 64 */
    bool is_signed;       /* INT */
} lf_pq_logical;

typedef struct lf_pq_column {
    const char *name; /* UTF-8, non-empty. Borrowed from the caller by the writer (copied) */
    lf_pq_type type;
    int32_t type_length; /* FIXED_LEN_BYTE_ARRAY only: bytes per value (1 .. 2^20) */
    lf_pq_logical logical;
    bool optional; /* OPTIONAL (NULLs allowed) instead of REQUIRED */
} lf_pq_column;

/* One value. For BYTE_ARRAY / FIXED_LEN_BYTE_ARRAY, bytes.ptr is borrowed (the writer copies). */
typedef struct lf_pq_value {
    bool is_null;
    union {
        bool b;
        int32_t i32;
        int64_t i64;
        float f;
        double d;
        struct {
            const uint8_t *ptr;
            uint32_t len;
        } bytes;
    } v;
} lf_pq_value;

typedef struct lf_pq_kv {
    const char *key;   /* non-NULL */
    const char *value; /* may be NULL (absent) */
} lf_pq_kv;

/* ---------------------------------------------------------------------------------------------
 * Writer I/O: a tiny vtable so tests can inject short writes, ENOSPC and fsync failures.
 */
typedef struct lf_pq_io {
    /* Write up to len bytes; return how many were written (> 0), or -1 with errno set. A return
     * of 0 is treated as an error (no progress). Short writes are retried for the rest. */
    ssize_t (*write)(void *ctx, const void *buf, size_t len);
    /* Make everything written durable: 0, or -1 with errno set. */
    int (*fsync)(void *ctx);
    void *ctx;
} lf_pq_io;

typedef enum lf_pq_codec {
    LF_PQ_CODEC_ZSTD = 0, /* default */
    LF_PQ_CODEC_UNCOMPRESSED,
} lf_pq_codec;

/* Writer options. Zero-initialise for the defaults given on each field. */
typedef struct lf_pq_writer_options {
    uint32_t rows_per_row_group;  /* 0 = 65536 */
    uint64_t bytes_per_row_group; /* 0 = 128 MiB of buffered encoded values */
    uint32_t page_size;           /* target uncompressed page size; 0 = 256 KiB; max 1 GiB */
    lf_pq_codec codec;
    int zstd_level;          /* 0 = 1 (ciphertext does not compress; 3 halves write speed) */
    const char *created_by;  /* NULL = "logflux parquet writer" */
    const lf_pq_kv *kv;      /* key/value metadata, copied at open */
    size_t num_kv;           /* up to 4096 */
    uint32_t max_stat_bytes; /* byte-array min/max longer than this are not written; 0 = 1024 */
    bool no_fsync;           /* skip the final fsync (tests, or a caller that fsyncs itself) */
} lf_pq_writer_options;

typedef struct lf_pq_writer lf_pq_writer;

/* Create (or truncate) `path` and start a file. Columns (1..4096) are copied. On close the file is
 * fsynced and closed; renaming into place is the caller's business. */
lf_err lf_pq_writer_open(const char *path, const lf_pq_column *columns, size_t num_columns,
                         const lf_pq_writer_options *opts, lf_pq_writer **out, lf_error *err);
/* Write to an fd the caller owns (it is fsynced at close, never closed). `name` is used in error
 * messages only (may be NULL). */
lf_err lf_pq_writer_open_fd(int fd, const char *name, const lf_pq_column *columns,
                            size_t num_columns, const lf_pq_writer_options *opts,
                            lf_pq_writer **out, lf_error *err);
/* Write through a caller-supplied vtable (copied; io->ctx stays the caller's). */
lf_err lf_pq_writer_open_io(const lf_pq_io *io, const char *name, const lf_pq_column *columns,
                            size_t num_columns, const lf_pq_writer_options *opts,
                            lf_pq_writer **out, lf_error *err);

/* Append one row: values[i] for column i (num_columns values). A row that does not fit the schema
 * (NULL in a REQUIRED column, wrong FIXED_LEN length, INT out of its bit width, value over
 * 512 MiB) is refused with LF_ERR_INVALID and leaves the writer usable. An I/O failure while a
 * full row group is flushed is sticky: every later call fails and close writes no footer. */
lf_err lf_pq_writer_add_row(lf_pq_writer *w, const lf_pq_value *values, lf_error *err);
/* Add a key/value pair to the footer metadata (copied). */
lf_err lf_pq_writer_add_kv(lf_pq_writer *w, const char *key, const char *value, lf_error *err);
/* Rows accepted so far. */
uint64_t lf_pq_writer_num_rows(const lf_pq_writer *w);
/* Flush the last row group, write the footer (FileMetaData, its length, "PAR1"), fsync, and free
 * the writer (always, even on failure). Only LF_OK means the file is complete and durable. */
lf_err lf_pq_writer_close(lf_pq_writer *w, lf_error *err);
/* Free the writer without writing a footer: what was written is not a valid Parquet file. */
void lf_pq_writer_abort(lf_pq_writer *w);

/* ---------------------------------------------------------------------------------------------
 * Reader.
 */
typedef struct lf_pq_reader_options {
    uint32_t max_footer_bytes;  /* 0 = 64 MiB */
    uint64_t max_chunk_bytes;   /* compressed column chunk read at once; 0 = 1 GiB */
    uint32_t max_page_bytes;    /* uncompressed page size; 0 = 256 MiB */
    uint64_t max_values;        /* values decoded per column chunk; 0 = 64 Mi */
    uint32_t max_columns;       /* 0 = 4096 */
    uint32_t max_row_groups;    /* 0 = 1 Mi */
    uint32_t max_list_elements; /* any Thrift list in the footer; 0 = 16 Mi */
} lf_pq_reader_options;

typedef struct lf_pq_reader lf_pq_reader;

typedef struct lf_pq_stats {
    int64_t num_values; /* values in the chunk, NULLs included */
    bool has_null_count;
    int64_t null_count;
    /* min/max in the column's type order; only set when the file declares the order
     * (column_orders TypeDefinedOrder) or the deprecated signed min/max agree with it. Byte values
     * point into the reader. */
    bool has_min_max;
    lf_pq_value min;
    lf_pq_value max;
} lf_pq_stats;

/* Open a file: only the footer is read now (pread); column chunks are read on demand. */
lf_err lf_pq_reader_open(const char *path, const lf_pq_reader_options *opts, lf_pq_reader **out,
                         lf_error *err);
/* Read from memory the caller keeps alive and unchanged until lf_pq_reader_close. */
lf_err lf_pq_reader_open_mem(const uint8_t *data, size_t len, const lf_pq_reader_options *opts,
                             lf_pq_reader **out, lf_error *err);
void lf_pq_reader_close(lf_pq_reader *r);

size_t lf_pq_reader_num_columns(const lf_pq_reader *r);
/* Column i's description (name, types, optional). NULL when i is out of range. */
const lf_pq_column *lf_pq_reader_column(const lf_pq_reader *r, size_t i);
/* Index of the column named `name`, or -1. */
ssize_t lf_pq_reader_find_column(const lf_pq_reader *r, const char *name);
int64_t lf_pq_reader_num_rows(const lf_pq_reader *r);
const char *lf_pq_reader_created_by(const lf_pq_reader *r); /* NULL when absent */
size_t lf_pq_reader_num_kv(const lf_pq_reader *r);
const lf_pq_kv *lf_pq_reader_kv(const lf_pq_reader *r, size_t i);
/* Value of key `key` (first match) or NULL. */
const char *lf_pq_reader_kv_get(const lf_pq_reader *r, const char *key);
size_t lf_pq_reader_num_row_groups(const lf_pq_reader *r);
int64_t lf_pq_reader_row_group_num_rows(const lf_pq_reader *r, size_t rg);
/* Statistics of column `col` in row group `rg`; NULL when out of range. */
const lf_pq_stats *lf_pq_reader_stats(const lf_pq_reader *r, size_t rg, size_t col);

/* The decoded values of one column chunk. */
typedef struct lf_pq_column_data {
    size_t num_values; /* = rows in the row group */
    size_t null_count;
    lf_pq_value *values; /* byte values point into `owned` */
    void **owned;        /* private: buffers the values point into */
    size_t num_owned, cap_owned;
} lf_pq_column_data;

/* Read and decode column `col` of row group `rg` into *out (zero it first; free with
 * lf_pq_column_data_free, also after a failure). */
lf_err lf_pq_reader_read_column(lf_pq_reader *r, size_t rg, size_t col, lf_pq_column_data *out,
                                lf_error *err);
void lf_pq_column_data_free(lf_pq_column_data *cd);

/* Name of a physical type ("INT64"). */
const char *lf_pq_type_name(lf_pq_type t);

#ifdef __cplusplus
}
#endif
#endif

/*
 * schema.h — the one definition of how logfluxd stores rows in Parquet (docs/WORKER.md has the
 * table): the columns, the footer metadata that names the schema version, the conversion of a
 * spool row into Parquet values, and the reading side (a file back into rows, rows into the
 * JSON the read API answers with). The worker, the query API and the live tail all use it, so
 * the format is defined in exactly one place.
 */
#ifndef LFD_SCHEMA_H
#define LFD_SCHEMA_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ingest/batch.h"
#include "logflux/error.h"
#include "parquet.h"

enum {
    LFD_COL_TENANT = 0,
    LFD_COL_APP,
    LFD_COL_FORMAT,
    LFD_COL_KIND,
    LFD_COL_ENTRY_TYPE,
    LFD_COL_FLAGS,
    LFD_COL_KEY_ID,
    LFD_COL_SEQUENCE,
    LFD_COL_TS,
    LFD_COL_TS_MAX,
    LFD_COL_COUNT,
    LFD_COL_NONCE,
    LFD_COL_SEARCH_TOKENS,
    LFD_COL_CIPHERTEXT,
    LFD_COL_INGEST_TIME,
    LFD_COL_SPOOL_SEQ,
    LFD_COL__COUNT
};

/* Footer key/value: "logflux.schema" = LFD_SCHEMA_VERSION. */
#define LFD_SCHEMA_KV_KEY  "logflux.schema"
#define LFD_SCHEMA_VERSION "1"

extern const lf_pq_column lfd_schema_columns[LFD_COL__COUNT];

/* The Parquet values of one spool row (byte values point into `row`/`b`). */
void lfd_schema_values(const lfd_batch *b, const lfd_row *row, uint64_t spool_seq,
                       lf_pq_value out[LFD_COL__COUNT]);

/* One stored row as read back; byte fields point into the lfd_schema_rg it came from. */
typedef struct lfd_stored_row {
    const uint8_t *tenant, *app, *key_id;
    size_t tenant_len, app_len, key_id_len;
    int32_t format, kind, entry_type, flags, count;
    int64_t sequence, ts, ts_max, ingest_time, spool_seq;
    const uint8_t *nonce, *tokens, *ciphertext;
    size_t nonce_len, tokens_len, ciphertext_len;
} lfd_stored_row;

/* A decoded row group of a stored file. */
typedef struct lfd_schema_rg {
    size_t num_rows;
    lf_pq_column_data cols[LFD_COL__COUNT];
} lfd_schema_rg;

/* Open a stored file from memory (kept alive by the caller) and check that it has exactly our
 * schema (names, types, version): LF_ERR_UNSUPPORTED otherwise. */
lf_err lfd_schema_open(const uint8_t *data, size_t len, lf_pq_reader **out, lf_error *err);
/* min(ts) and max(ts_max) of row group rg from its statistics; false when absent. */
bool lfd_schema_rg_bounds(const lf_pq_reader *r, size_t rg, int64_t *ts_min, int64_t *ts_max);
lf_err lfd_schema_rg_read(lf_pq_reader *r, size_t rg, lfd_schema_rg *out, lf_error *err);
void lfd_schema_rg_free(lfd_schema_rg *g);
void lfd_schema_row(const lfd_schema_rg *g, size_t i, lfd_stored_row *out);

/* The read API's JSON for a row: every column (binary as standard base64, timestamps as Unix
 * ns integers), "ts_rfc3339", "file_id" and "row" (index in the file). NULL on no memory. */
json_t *lfd_schema_row_json(const lfd_stored_row *row, int64_t file_id, uint64_t row_index);

/* Search-token match: v3 rows hold comma-separated text and match `token` exactly against one
 * item; native rows hold 16-byte tokens and match when `token` is 32 hex digits of one. */
bool lfd_schema_token_match(const lfd_stored_row *row, const char *token);

#endif

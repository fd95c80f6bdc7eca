/*
 * batch.c — encoding and bounded decoding of spool records (see batch.h).
 */
#include "batch.h"

#include <stdlib.h>
#include <string.h>

#define BATCH_MAGIC   "LFB1"
#define BATCH_VERSION 1
#define MAX_ROWS      200000u

static lf_err put_str(lf_buf *b, const char *s, size_t len)
{
    if (len > UINT16_MAX)
        return LF_ERR_TOO_LARGE;
    lf_err rc = lf_buf_append_be16(b, (uint16_t)len);
    return rc == LF_OK ? lf_buf_append(b, s, len) : rc;
}

static lf_err put_bytes(lf_buf *b, const void *p, size_t len)
{
    if (len > UINT32_MAX)
        return LF_ERR_TOO_LARGE;
    lf_err rc = lf_buf_append_be32(b, (uint32_t)len);
    return rc == LF_OK ? lf_buf_append(b, p, len) : rc;
}

lf_err lfd_batch_begin(lf_buf *out, int64_t tenant_id, const char *tenant, const char *app,
                       int64_t ingest_time, lf_error *err)
{
    lf_buf_reset(out);
    lf_err rc = lf_buf_append(out, BATCH_MAGIC, 4);
    if (rc == LF_OK)
        rc = lf_buf_append_u8(out, BATCH_VERSION);
    if (rc == LF_OK)
        rc = lf_buf_append_be64(out, (uint64_t)tenant_id);
    if (rc == LF_OK)
        rc = put_str(out, tenant, strlen(tenant));
    if (rc == LF_OK)
        rc = put_str(out, app, strlen(app));
    if (rc == LF_OK)
        rc = lf_buf_append_be64(out, (uint64_t)ingest_time);
    if (rc == LF_OK)
        rc = lf_buf_append_be32(out, 0); /* row count, patched by finish */
    return rc == LF_OK ? LF_OK : lf_error_set(err, rc, "batch: cannot encode header");
}

lf_err lfd_batch_add(lf_buf *out, const lfd_row *r, lf_error *err)
{
    lf_err rc = lf_buf_reserve(out, 64 + r->key_id_len + r->tokens_len + r->body_len);
    uint8_t fixed[4] = {r->format, r->kind, r->entry_type, r->flags};
    if (rc == LF_OK)
        rc = lf_buf_append(out, fixed, 4);
    if (rc == LF_OK)
        rc = put_str(out, r->key_id, r->key_id_len);
    if (rc == LF_OK)
        rc = lf_buf_append_be64(out, r->sequence);
    if (rc == LF_OK)
        rc = lf_buf_append_be64(out, (uint64_t)r->ts_min);
    if (rc == LF_OK)
        rc = lf_buf_append_be64(out, (uint64_t)r->ts_max);
    if (rc == LF_OK)
        rc = lf_buf_append_be32(out, r->count);
    if (rc == LF_OK)
        rc = lf_buf_append(out, r->nonce, 12);
    if (rc == LF_OK)
        rc = put_bytes(out, r->tokens, r->tokens_len);
    if (rc == LF_OK)
        rc = put_bytes(out, r->body, r->body_len);
    return rc == LF_OK ? LF_OK : lf_error_set(err, rc, "batch: cannot encode row");
}

/* Offset of the row count: magic, version, tenant id, two strings, ingest time. */
static size_t count_offset(const uint8_t *data)
{
    size_t off = 4 + 1 + 8;
    off += 2 + lf_load_be16(data + off);
    off += 2 + lf_load_be16(data + off);
    return off + 8;
}

lf_err lfd_batch_finish(lf_buf *out, uint32_t n_rows, lf_error *err)
{
    if (n_rows == 0)
        return lf_error_set(err, LF_ERR_INVALID, "batch: no rows");
    lf_store_be32(out->data + count_offset(out->data), n_rows);
    return LF_OK;
}

typedef struct reader {
    const uint8_t *p;
    size_t left;
    bool ok;
} reader;

static const uint8_t *take(reader *r, size_t n)
{
    if (!r->ok || n > r->left) {
        r->ok = false;
        return NULL;
    }
    const uint8_t *p = r->p;
    r->p += n;
    r->left -= n;
    return p;
}

static uint64_t take_be(reader *r, size_t n)
{
    const uint8_t *p = take(r, n);
    if (p == NULL)
        return 0;
    return n == 1 ? p[0] : n == 2 ? lf_load_be16(p) : n == 4 ? lf_load_be32(p) : lf_load_be64(p);
}

static const uint8_t *take_sized(reader *r, size_t len_bytes, size_t *len)
{
    *len = (size_t)take_be(r, len_bytes);
    return take(r, *len);
}

lf_err lfd_batch_decode(const uint8_t *data, size_t len, lfd_batch *out, lf_error *err)
{
    memset(out, 0, sizeof *out);
    reader r = {data, len, true};
    const uint8_t *magic = take(&r, 4);
    if (magic == NULL || memcmp(magic, BATCH_MAGIC, 4) != 0 || take_be(&r, 1) != BATCH_VERSION)
        return lf_error_set(err, LF_ERR_INVALID, "batch: not a version 1 batch record");
    out->tenant_id = (int64_t)take_be(&r, 8);
    out->tenant = (const char *)take_sized(&r, 2, &out->tenant_len);
    out->app = (const char *)take_sized(&r, 2, &out->app_len);
    out->ingest_time = (int64_t)take_be(&r, 8);
    uint32_t n = (uint32_t)take_be(&r, 4);
    if (!r.ok || n == 0 || n > MAX_ROWS)
        return lf_error_set(err, LF_ERR_INVALID, "batch: bad header or row count");
    /* Every row takes at least 50 bytes: refuse counts the record cannot hold before
     * allocating for them. */
    if ((size_t)n > r.left / 50)
        return lf_error_set(err, LF_ERR_INVALID, "batch: %u rows cannot fit in %zu bytes", n,
                            r.left);
    out->rows = calloc(n, sizeof *out->rows);
    if (out->rows == NULL)
        return lf_error_set(err, LF_ERR_NOMEM, "batch: out of memory");
    for (uint32_t i = 0; i < n && r.ok; i++) {
        lfd_row *row = &out->rows[i];
        row->format = (uint8_t)take_be(&r, 1);
        row->kind = (uint8_t)take_be(&r, 1);
        row->entry_type = (uint8_t)take_be(&r, 1);
        row->flags = (uint8_t)take_be(&r, 1);
        row->key_id = (const char *)take_sized(&r, 2, &row->key_id_len);
        row->sequence = take_be(&r, 8);
        row->ts_min = (int64_t)take_be(&r, 8);
        row->ts_max = (int64_t)take_be(&r, 8);
        row->count = (uint32_t)take_be(&r, 4);
        const uint8_t *nonce = take(&r, 12);
        if (nonce)
            memcpy(row->nonce, nonce, 12);
        row->tokens = take_sized(&r, 4, &row->tokens_len);
        row->body = take_sized(&r, 4, &row->body_len);
        if (r.ok && (row->format < LFD_FORMAT_V3 || row->format > LFD_FORMAT_NATIVE))
            r.ok = false;
    }
    if (!r.ok || r.left != 0) {
        lfd_batch_clear(out);
        return lf_error_set(err, LF_ERR_INVALID, "batch: truncated or malformed row data");
    }
    out->n_rows = n;
    return LF_OK;
}

void lfd_batch_clear(lfd_batch *b)
{
    free(b->rows);
    memset(b, 0, sizeof *b);
}

/*
 * decrypt.c — open one stored row and check that its authenticated content agrees with the
 * columns the server stored beside it.
 *
 * Native rows: the frame header is rebuilt byte for byte from the stored columns
 * (lf_native_header_encode) and used as the AES-GCM associated data, so any change of tenant,
 * app, kind, entry type, flags, key id, sequence, timestamps, count, nonce or search tokens
 * fails the tag. The opened entries are then decoded and each entry's `ts` must lie in
 * [ts, ts_max] and their number must be `count`.
 *
 * v3 rows have no associated data: AES-GCM covers the JSON only. What can be checked is that
 * the decrypted entry's `ts` equals the stored `ts`, its type the stored entry type, and that
 * the row's app is the app the key was issued under.
 *
 * Any failure is LFC_EXIT_TAMPERED with the reason in `err` (never content); callers print a
 * warning per bad row and never show its content.
 */
#include <stdlib.h>
#include <string.h>

#include "logflux/v3.h"
#include "rows.h"

void lfc_opened_free(lfc_opened *o)
{
    if (o == NULL)
        return;
    for (size_t i = 0; i < o->count; i++)
        lf_payload_free(o->entries[i].p);
    free(o->entries);
    lf_native_opened_free(&o->native_);
    lf_buf_free_secret(&o->v3json_);
    memset(o, 0, sizeof *o);
}

static void opened_reset(lfc_opened *o)
{
    for (size_t i = 0; i < o->count; i++)
        lf_payload_free(o->entries[i].p);
    o->count = 0;
    o->is_close = o->is_key = false;
    o->close_count = 0;
    lf_buf_free_secret(&o->v3json_);
}

static lf_err add_entry(lfc_opened *o, const lfc_row *row, const uint8_t *json, size_t len,
                        lf_error *err)
{
    if (o->count == o->cap_) {
        size_t cap = o->cap_ ? o->cap_ * 2 : 16;
        lfc_entry *v = realloc(o->entries, cap * sizeof *v);
        if (v == NULL)
            return lf_error_set(err, LF_ERR_NOMEM, "out of memory");
        o->entries = v;
        o->cap_ = cap;
    }
    lfc_entry *e = &o->entries[o->count];
    memset(e, 0, sizeof *e);
    lf_error perr = {0};
    if (lf_payload_decode(json, len, row->entry_type, 0, &e->p, &perr) != LF_OK)
        return lf_error_set(err, LF_ERR_INVALID, "entry %zu does not decode (%s)", o->count,
                            lf_strerror(perr.code));
    e->json = json;
    e->json_len = len;
    e->row = row;
    e->index = (uint32_t)o->count;
    o->count++;
    if (e->p->ts_ns < row->ts || e->p->ts_ns > row->ts_max)
        return lf_error_set(err, LF_ERR_AUTH,
                            "entry %u has ts outside the row's stored [ts, ts_max] (re-dated)",
                            e->index);
    return LF_OK;
}

lf_err lfc_row_native_header(const lfc_row *row, lf_native_header *h, lf_buf *header_bytes,
                             lf_error *err)
{
    memset(h, 0, sizeof *h);
    if (row->format != LFC_ROW_FORMAT_NATIVE)
        return lf_error_set(err, LF_ERR_INVALID, "not a native row");
    if (row->kind < 1 || row->kind > 4 || row->entry_type > 255 || row->flags > 255)
        return lf_error_set(err, LF_ERR_INVALID, "bad kind, entry type or flags column");
    h->kind = (uint8_t)row->kind;
    h->entry_type = (uint8_t)row->entry_type;
    h->flags = (uint8_t)row->flags;
    if (strlen(row->key_id) != 32 ||
        lf_hex_decode(row->key_id, 32, h->key_id, sizeof h->key_id, NULL) != LF_OK)
        return lf_error_set(err, LF_ERR_INVALID, "key_id column is not 32 hex digits");
    h->sequence = row->sequence;
    h->ts_min = row->ts;
    h->ts_max = row->ts_max;
    h->count = row->count;
    if (row->nonce.len != LF_GCM_NONCE_LEN)
        return lf_error_set(err, LF_ERR_INVALID, "nonce column is not 12 bytes");
    memcpy(h->nonce, row->nonce.data, LF_GCM_NONCE_LEN);
    memcpy(h->tenant, row->tenant, sizeof h->tenant);
    memcpy(h->app, row->app, sizeof h->app);
    if (row->search_tokens.len % LF_NATIVE_TOKEN_LEN != 0 ||
        row->search_tokens.len / LF_NATIVE_TOKEN_LEN > LF_NATIVE_TOKENS_MAX)
        return lf_error_set(err, LF_ERR_INVALID, "search_tokens column has a bad length");
    h->token_count = (uint16_t)(row->search_tokens.len / LF_NATIVE_TOKEN_LEN);
    h->tokens = row->search_tokens.data;
    if (row->ciphertext.len > LF_NATIVE_BLOCK_BODY_MAX)
        return lf_error_set(err, LF_ERR_TOO_LARGE, "ciphertext column too long");
    h->body_len = (uint32_t)row->ciphertext.len;
    if (header_bytes == NULL)
        return lf_native_header_check(h, err);
    lf_buf_reset(header_bytes);
    return lf_native_header_encode(h, header_bytes, err);
}

static int open_native(lfc_keyring *k, const lfc_row *row, lfc_opened *out, lf_error *err)
{
    lf_native_header h;
    lf_buf header = LF_BUF_INIT;
    if (lfc_row_native_header(row, &h, &header, err) != LF_OK) {
        lf_buf_free(&header);
        return LFC_EXIT_TAMPERED;
    }
    if (row->kind == LF_NATIVE_KEY) {
        /* Key frames are stored as key material, not opened here: the keyring reads them
         * through /v1/keys. */
        lf_buf_free(&header);
        out->is_key = true;
        return LFC_EXIT_OK;
    }
    lf_native_opener *o = NULL;
    int rc = lfc_keyring_native_opener(k, row->key_id, &o);
    if (rc != LFC_EXIT_OK) {
        lf_buf_free(&header);
        lf_error_set(err, LF_ERR_NOT_FOUND, "no session key for key id %s", row->key_id);
        return rc;
    }
    lf_error oerr = {0};
    lf_err e = lf_native_open_parts(o, &h, header.data, header.len, row->ciphertext.data,
                                    row->ciphertext.len, &out->native_, &oerr);
    lf_buf_free(&header);
    if (e != LF_OK) {
        lf_error_set(err, e == LF_ERR_AUTH ? LF_ERR_AUTH : LF_ERR_INVALID,
                     e == LF_ERR_AUTH ? "authentication failed (ciphertext or a stored column "
                                        "changed)"
                                      : "authenticated but malformed plaintext (%s)",
                     lf_strerror(e));
        return LFC_EXIT_TAMPERED;
    }
    if (row->kind == LF_NATIVE_CLOSE) {
        out->is_close = true;
        out->close_count = row->count;
        return LFC_EXIT_OK;
    }
    size_t want = row->kind == LF_NATIVE_ENTRY ? 1 : row->count;
    if (out->native_.count != want) {
        lf_error_set(err, LF_ERR_AUTH, "row holds %zu entries, its count column says %zu",
                     out->native_.count, want);
        return LFC_EXIT_TAMPERED;
    }
    for (size_t i = 0; i < out->native_.count; i++) {
        if (add_entry(out, row, out->native_.entries[i].data, out->native_.entries[i].len, err) !=
            LF_OK)
            return LFC_EXIT_TAMPERED;
    }
    return LFC_EXIT_OK;
}

static int open_v3(lfc_keyring *k, const lfc_row *row, lfc_opened *out, lf_error *err)
{
    const uint8_t *key = NULL;
    int rc = lfc_keyring_get(k, row->key_id, &key);
    if (rc != LFC_EXIT_OK) {
        lf_error_set(err, LF_ERR_NOT_FOUND, "no session key for key id %s", row->key_id);
        return rc;
    }
    if (row->nonce.len != LF_GCM_NONCE_LEN) {
        lf_error_set(err, LF_ERR_INVALID, "nonce column is not 12 bytes");
        return LFC_EXIT_TAMPERED;
    }
    const char *key_app = lfc_keyring_app(k, row->key_id);
    if (key_app != NULL && strcmp(key_app, row->app) != 0) {
        lf_error_set(err, LF_ERR_AUTH, "row is stored under app %s but its key belongs to %s",
                     row->app, key_app);
        return LFC_EXIT_TAMPERED;
    }
    lf_error oerr = {0};
    lf_err e = lf_v3_open_json(key, row->nonce.data, row->ciphertext.data, row->ciphertext.len,
                               &out->v3json_, &oerr);
    if (e != LF_OK) {
        lf_error_set(err, LF_ERR_AUTH, "authentication failed (%s)", lf_strerror(e));
        return LFC_EXIT_TAMPERED;
    }
    if (row->count != 1) {
        lf_error_set(err, LF_ERR_AUTH, "v3 row with count %u", row->count);
        return LFC_EXIT_TAMPERED;
    }
    if (add_entry(out, row, out->v3json_.data, out->v3json_.len, err) != LF_OK)
        return LFC_EXIT_TAMPERED;
    return LFC_EXIT_OK;
}

int lfc_row_open(lfc_keyring *k, const lfc_row *row, lfc_opened *out, lf_error *err)
{
    opened_reset(out);
    int rc = row->format == LFC_ROW_FORMAT_NATIVE ? open_native(k, row, out, err)
             : row->format == LFC_ROW_FORMAT_V3
                 ? open_v3(k, row, out, err)
                 : (lf_error_set(err, LF_ERR_INVALID, "unknown format %d", row->format),
                    LFC_EXIT_TAMPERED);
    if (rc != LFC_EXIT_OK)
        opened_reset(out);
    return rc;
}

void lfc_warn_tampered(const lfc_row *row, const lf_error *err)
{
    fprintf(stderr,
            "logflux: warning: row %lld/%lld (app %s, key %s, sequence %llu): tampered: %s\n",
            (long long)row->file_id, (long long)row->row, row->app, row->key_id,
            (unsigned long long)row->sequence, err && err->message[0] ? err->message : "?");
}

/* ---------------- the read loop ---------------- */

typedef struct read_state {
    const lfc_filter *f;
    lfc_keyring *k;
    lfc_entry_fn fn;
    void *ud;
    size_t emitted;
    size_t tampered;
    int key_rc; /* first key failure that did not stop the read (unknown key id…) */
    lfc_opened op;
} read_state;

static int on_row(void *ud, lfc_row *row)
{
    read_state *s = ud;
    lf_error err = {0};
    int rc = lfc_row_open(s->k, row, &s->op, &err);
    if (rc == LFC_EXIT_TAMPERED) {
        lfc_warn_tampered(row, &err);
        s->tampered++;
        return LFC_EXIT_OK;
    }
    if (rc == LFC_EXIT_NOT_FOUND) { /* this key is lost or not ours: the other rows may open */
        if (s->key_rc == LFC_EXIT_OK)
            s->key_rc = rc;
        return LFC_EXIT_OK;
    }
    if (rc != LFC_EXIT_OK)
        return rc;
    for (size_t i = 0; i < s->op.count; i++) {
        if (!lfc_filter_match(s->f, &s->op.entries[i]))
            continue;
        rc = s->fn(s->ud, &s->op.entries[i]);
        if (rc != LFC_EXIT_OK)
            return rc;
        if (s->f->limit && ++s->emitted >= s->f->limit)
            return -1;
    }
    return LFC_EXIT_OK;
}

int lfc_read_entries(lfc_ctx *c, const lfc_filter *f, bool newest_first, lfc_entry_fn fn, void *ud)
{
    lf_privkey *priv = NULL;
    int rc = lfc_load_private_key(c, &priv);
    if (rc != LFC_EXIT_OK)
        return rc;
    read_state s = {.f = f, .fn = fn, .ud = ud};
    rc = lfc_keyring_new(c, priv, &s.k);
    if (rc == LFC_EXIT_OK) {
        lfc_window w = {0};
        lfc_filter_window(f, &w);
        w.newest_first = newest_first;
        w.use_cache = lfc_cache_enabled();
        rc = lfc_rows_fetch(c, &w, on_row, &s);
    }
    lfc_opened_free(&s.op);
    lfc_keyring_free(s.k);
    lf_privkey_free(priv);
    if (rc == -1)
        rc = LFC_EXIT_OK;
    if (rc == LFC_EXIT_OK && s.tampered > 0) {
        fprintf(stderr, "logflux: %zu row(s) failed authentication and were not shown\n",
                s.tampered);
        rc = LFC_EXIT_TAMPERED;
    }
    if (rc == LFC_EXIT_OK)
        rc = s.key_rc;
    return rc;
}

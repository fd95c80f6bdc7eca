/*
 * native_frame.c — the native v1 frame header: canonical encoder and bounded parser
 * (docs/PROTOCOL.md §3.1, §3.3, §3.4).
 *
 * This file is server-safe: it reads and writes headers and never touches a key. The server
 * runs lf_native_body_check / lf_native_reader_next over untrusted request bodies, so every
 * length is checked against its protocol limit and against the bytes that remain before it is
 * used, and every per-kind rule (entry type, flags, count, sequence, tokens, timestamps,
 * nonce, body length) is enforced in one place, field_rules(), shared by the parser and the
 * encoder: a header the encoder accepts is exactly one the parser accepts, and back.
 *
 * Error messages name the frame index and the field ("frame 3: app_len 0 is below 1") and
 * never repeat body bytes.
 */
#include "logflux/native.h"

#include <stdio.h>
#include <string.h>

/* Largest sequence an entry/block frame may carry: the close frame must still fit under the
 * per-key cap of 2^24 frames (§3.2). */
#define SEQ_DATA_MAX  ((uint64_t)LF_NATIVE_KEY_FRAMES_MAX - 2u)
#define SEQ_CLOSE_MAX ((uint64_t)LF_NATIVE_KEY_FRAMES_MAX - 1u)

/* Context for messages: "frame N" when parsing, "native header" when encoding. */
typedef struct where {
    char text[40];
} where;

static where where_frame(size_t index)
{
    where w;
    snprintf(w.text, sizeof w.text, "frame %zu", index);
    return w;
}

static where where_header(void)
{
    where w;
    snprintf(w.text, sizeof w.text, "native header");
    return w;
}

static bool id_char_ok(uint8_t c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_' || c == '-';
}

static lf_err check_ident(const where *w, const char *name, const uint8_t *s, size_t len,
                          size_t max, lf_error *err)
{
    if (len == 0)
        return lf_error_set(err, LF_ERR_INVALID, "%s: %s is empty", w->text, name);
    if (len > max)
        return lf_error_set(err, LF_ERR_TOO_LARGE, "%s: %s length %zu exceeds %zu", w->text, name,
                            len, max);
    for (size_t i = 0; i < len; i++)
        if (!id_char_ok(s[i]))
            return lf_error_set(err, LF_ERR_INVALID,
                                "%s: %s has a character outside [A-Za-z0-9._-] at offset %zu",
                                w->text, name, i);
    return LF_OK;
}

static bool all_zero(const uint8_t *p, size_t len)
{
    uint8_t acc = 0;
    for (size_t i = 0; i < len; i++)
        acc |= p[i];
    return acc == 0;
}

/* Every per-kind rule of §3.1/§3.3/§3.4 that does not concern tenant/app bytes. */
static lf_err field_rules(const where *w, const lf_native_header *h, lf_error *err)
{
    bool data = h->kind == LF_NATIVE_ENTRY || h->kind == LF_NATIVE_BLOCK;
    if (h->kind < LF_NATIVE_ENTRY || h->kind > LF_NATIVE_KEY)
        return lf_error_set(err, LF_ERR_INVALID, "%s: unknown kind %u", w->text, h->kind);
    if (data ? (h->entry_type < 1 || h->entry_type > 7) : h->entry_type != 0)
        return lf_error_set(err, LF_ERR_INVALID, "%s: entry_type %u not allowed for kind %u",
                            w->text, h->entry_type, h->kind);
    if ((h->flags & ~(data ? LF_NATIVE_FLAG_ZSTD : 0u)) != 0)
        return lf_error_set(err, LF_ERR_INVALID, "%s: flags 0x%02x not allowed for kind %u",
                            w->text, h->flags, h->kind);
    if (h->ts_min > h->ts_max)
        return lf_error_set(err, LF_ERR_INVALID, "%s: ts_min is after ts_max", w->text);
    if (!data && h->ts_min != h->ts_max)
        return lf_error_set(err, LF_ERR_INVALID, "%s: ts_min and ts_max differ for kind %u",
                            w->text, h->kind);
    if (h->token_count > LF_NATIVE_TOKENS_MAX)
        return lf_error_set(err, LF_ERR_TOO_LARGE, "%s: token_count %u exceeds %u", w->text,
                            h->token_count, LF_NATIVE_TOKENS_MAX);
    if (!data && h->token_count != 0)
        return lf_error_set(err, LF_ERR_INVALID, "%s: token_count %u not allowed for kind %u",
                            w->text, h->token_count, h->kind);

    uint32_t body = h->body_len;
    switch (h->kind) {
    case LF_NATIVE_ENTRY:
    case LF_NATIVE_BLOCK: {
        uint32_t max_count = h->kind == LF_NATIVE_ENTRY ? 1u : LF_NATIVE_BLOCK_COUNT_MAX;
        uint32_t max_body =
            h->kind == LF_NATIVE_ENTRY ? LF_NATIVE_ENTRY_BODY_MAX : LF_NATIVE_BLOCK_BODY_MAX;
        if (h->count < 1 || h->count > max_count)
            return lf_error_set(err, LF_ERR_INVALID, "%s: count %u outside 1..%u", w->text,
                                h->count, max_count);
        if (h->sequence > SEQ_DATA_MAX)
            return lf_error_set(err, LF_ERR_INVALID,
                                "%s: sequence %llu beyond the per-key frame cap", w->text,
                                (unsigned long long)h->sequence);
        if (body > max_body)
            return lf_error_set(err, LF_ERR_TOO_LARGE, "%s: body_len %u exceeds %u", w->text, body,
                                max_body);
        if (body <= LF_GCM_TAG_LEN)
            return lf_error_set(err, LF_ERR_INVALID,
                                "%s: body_len %u leaves no room for a plaintext", w->text, body);
        break;
    }
    case LF_NATIVE_CLOSE:
        if (h->sequence != h->count)
            return lf_error_set(err, LF_ERR_INVALID, "%s: close sequence differs from count",
                                w->text);
        if (h->count > SEQ_CLOSE_MAX)
            return lf_error_set(err, LF_ERR_INVALID, "%s: close count %u beyond the frame cap",
                                w->text, h->count);
        if (body != LF_NATIVE_CLOSE_BODY_LEN)
            return lf_error_set(err, LF_ERR_INVALID, "%s: close body_len %u is not %u", w->text,
                                body, LF_NATIVE_CLOSE_BODY_LEN);
        break;
    default: /* LF_NATIVE_KEY */
        if (h->sequence != 0 || h->count != 0)
            return lf_error_set(err, LF_ERR_INVALID, "%s: key frame sequence/count must be 0",
                                w->text);
        if (!all_zero(h->nonce, sizeof h->nonce))
            return lf_error_set(err, LF_ERR_INVALID, "%s: key frame nonce must be zero", w->text);
        if (body < LF_NATIVE_FINGERPRINT_LEN + LF_NATIVE_WRAPPED_MIN)
            return lf_error_set(err, LF_ERR_INVALID, "%s: key body_len %u below %u", w->text, body,
                                LF_NATIVE_FINGERPRINT_LEN + LF_NATIVE_WRAPPED_MIN);
        if (body > LF_NATIVE_FINGERPRINT_LEN + LF_NATIVE_WRAPPED_MAX)
            return lf_error_set(err, LF_ERR_TOO_LARGE, "%s: key body_len %u exceeds %u", w->text,
                                body, LF_NATIVE_FINGERPRINT_LEN + LF_NATIVE_WRAPPED_MAX);
        break;
    }
    return LF_OK;
}

lf_err lf_native_header_check(const lf_native_header *h, lf_error *err)
{
    where w = where_header();
    lf_err rc = check_ident(&w, "tenant", (const uint8_t *)h->tenant,
                            strnlen(h->tenant, sizeof h->tenant), LF_NATIVE_TENANT_MAX, err);
    if (rc == LF_OK)
        rc = check_ident(&w, "app", (const uint8_t *)h->app, strnlen(h->app, sizeof h->app),
                         LF_NATIVE_APP_MAX, err);
    if (rc == LF_OK)
        rc = field_rules(&w, h, err);
    if (rc == LF_OK && h->token_count > 0 && h->tokens == NULL)
        rc = lf_error_set(err, LF_ERR_INVALID, "native header: tokens missing");
    return rc;
}

size_t lf_native_header_len(const lf_native_header *h)
{
    return LF_NATIVE_FIXED_LEN + strnlen(h->tenant, sizeof h->tenant) +
           strnlen(h->app, sizeof h->app) + (size_t)h->token_count * LF_NATIVE_TOKEN_LEN;
}

lf_err lf_native_header_encode(const lf_native_header *h, lf_buf *out, lf_error *err)
{
    lf_err rc = lf_native_header_check(h, err);
    if (rc != LF_OK)
        return rc;
    size_t tenant_len = strlen(h->tenant), app_len = strlen(h->app);
    size_t len = lf_native_header_len(h);
    if (lf_buf_reserve(out, len) != LF_OK)
        return lf_error_set(err, LF_ERR_NOMEM, "native header: out of memory");
    uint8_t *p = out->data + out->len;
    memcpy(p, LF_NATIVE_MAGIC, 4);
    p[4] = h->kind;
    p[5] = h->entry_type;
    p[6] = h->flags;
    p[7] = 0;
    memcpy(p + 8, h->key_id, LF_NATIVE_KEY_ID_LEN);
    lf_store_be64(p + 24, h->sequence);
    lf_store_be64(p + 32, (uint64_t)h->ts_min);
    lf_store_be64(p + 40, (uint64_t)h->ts_max);
    lf_store_be32(p + 48, h->count);
    memcpy(p + 52, h->nonce, LF_GCM_NONCE_LEN);
    p[64] = (uint8_t)tenant_len;
    p[65] = (uint8_t)app_len;
    lf_store_be16(p + 66, h->token_count);
    lf_store_be32(p + 68, h->body_len);
    p += LF_NATIVE_FIXED_LEN;
    memcpy(p, h->tenant, tenant_len);
    memcpy(p + tenant_len, h->app, app_len);
    if (h->token_count > 0)
        memcpy(p + tenant_len + app_len, h->tokens, (size_t)h->token_count * LF_NATIVE_TOKEN_LEN);
    out->len += len;
    return LF_OK;
}

lf_err lf_native_frame_parse(const uint8_t *data, size_t len, size_t index, lf_native_frame *out,
                             size_t *consumed, lf_error *err)
{
    where w = where_frame(index);
    /* A wrong magic is reported as such even in a short tail, rather than as truncation. */
    if (len > 0 && memcmp(data, LF_NATIVE_MAGIC, len < 4 ? len : 4) != 0)
        return lf_error_set(err, LF_ERR_INVALID, "%s: bad magic", w.text);
    if (len < LF_NATIVE_FIXED_LEN)
        return lf_error_set(err, LF_ERR_TRUNCATED, "%s: %zu bytes left, header needs %d", w.text,
                            len, LF_NATIVE_FIXED_LEN);
    if (data[7] != 0)
        return lf_error_set(err, LF_ERR_INVALID, "%s: reserved byte is 0x%02x", w.text, data[7]);

    lf_native_header *h = &out->hdr;
    h->kind = data[4];
    h->entry_type = data[5];
    h->flags = data[6];
    memcpy(h->key_id, data + 8, LF_NATIVE_KEY_ID_LEN);
    h->sequence = lf_load_be64(data + 24);
    h->ts_min = (int64_t)lf_load_be64(data + 32);
    h->ts_max = (int64_t)lf_load_be64(data + 40);
    h->count = lf_load_be32(data + 48);
    memcpy(h->nonce, data + 52, LF_GCM_NONCE_LEN);
    size_t tenant_len = data[64], app_len = data[65];
    h->token_count = lf_load_be16(data + 66);
    h->body_len = lf_load_be32(data + 68);

    /* Limits first (cheap, and independent of how much arrived), then the bytes themselves. */
    if (tenant_len == 0 || tenant_len > LF_NATIVE_TENANT_MAX)
        return lf_error_set(err, tenant_len == 0 ? LF_ERR_INVALID : LF_ERR_TOO_LARGE,
                            "%s: tenant_len %zu outside 1..%d", w.text, tenant_len,
                            LF_NATIVE_TENANT_MAX);
    if (app_len == 0 || app_len > LF_NATIVE_APP_MAX)
        return lf_error_set(err, app_len == 0 ? LF_ERR_INVALID : LF_ERR_TOO_LARGE,
                            "%s: app_len %zu outside 1..%d", w.text, app_len, LF_NATIVE_APP_MAX);
    lf_err rc = field_rules(&w, h, err);
    if (rc != LF_OK)
        return rc;

    /* Bounded: at most 72 + 64 + 128 + 256 * 16, so no overflow. */
    size_t header_len =
        LF_NATIVE_FIXED_LEN + tenant_len + app_len + (size_t)h->token_count * LF_NATIVE_TOKEN_LEN;
    if (len < header_len)
        return lf_error_set(err, LF_ERR_TRUNCATED, "%s: %zu bytes left, header needs %zu", w.text,
                            len, header_len);
    const uint8_t *tenant = data + LF_NATIVE_FIXED_LEN;
    const uint8_t *app = tenant + tenant_len;
    rc = check_ident(&w, "tenant", tenant, tenant_len, LF_NATIVE_TENANT_MAX, err);
    if (rc == LF_OK)
        rc = check_ident(&w, "app", app, app_len, LF_NATIVE_APP_MAX, err);
    if (rc != LF_OK)
        return rc;
    if (len - header_len < h->body_len)
        return lf_error_set(err, LF_ERR_TRUNCATED, "%s: body_len %u but %zu bytes left", w.text,
                            h->body_len, len - header_len);

    memcpy(h->tenant, tenant, tenant_len);
    h->tenant[tenant_len] = '\0';
    memcpy(h->app, app, app_len);
    h->app[app_len] = '\0';
    h->tokens = h->token_count > 0 ? app + app_len : NULL;
    out->header = data;
    out->header_len = header_len;
    out->body = data + header_len;
    out->index = index;
    out->offset = 0;
    if (consumed != NULL)
        *consumed = header_len + h->body_len;
    return LF_OK;
}

void lf_native_frame_header_bytes(const lf_native_frame *f, const uint8_t **header,
                                  size_t *header_len)
{
    *header = f->header;
    *header_len = f->header_len;
}

lf_err lf_native_key_frame_parts(const lf_native_frame *f, const uint8_t **fingerprint,
                                 const uint8_t **wrapped, size_t *wrapped_len, lf_error *err)
{
    if (f->hdr.kind != LF_NATIVE_KEY || f->hdr.body_len < LF_NATIVE_FINGERPRINT_LEN)
        return lf_error_set(err, LF_ERR_INVALID, "frame %zu: not a key frame", f->index);
    *fingerprint = f->body;
    *wrapped = f->body + LF_NATIVE_FINGERPRINT_LEN;
    *wrapped_len = f->hdr.body_len - LF_NATIVE_FINGERPRINT_LEN;
    return LF_OK;
}

void lf_native_reader_init(lf_native_reader *r, const void *body, size_t len)
{
    r->data = body;
    r->len = body != NULL ? len : 0;
    r->pos = 0;
    r->index = 0;
}

lf_err lf_native_reader_next(lf_native_reader *r, lf_native_frame *out, lf_error *err)
{
    if (r->pos == r->len) {
        if (r->index == 0)
            return lf_error_set(err, LF_ERR_TRUNCATED, "native body: empty, needs 1 frame");
        return LF_ERR_NOT_FOUND; /* clean end; not an error, so err is left alone */
    }
    if (r->index >= LF_NATIVE_FRAMES_MAX)
        return lf_error_set(err, LF_ERR_TOO_LARGE, "native body: more than %u frames",
                            LF_NATIVE_FRAMES_MAX);
    size_t consumed = 0;
    lf_err rc =
        lf_native_frame_parse(r->data + r->pos, r->len - r->pos, r->index, out, &consumed, err);
    if (rc != LF_OK)
        return rc;
    out->offset = r->pos;
    r->pos += consumed;
    r->index++;
    return LF_OK;
}

lf_err lf_native_body_check(const void *body, size_t len, size_t *frame_count, lf_error *err)
{
    lf_native_reader r;
    lf_native_frame f;
    lf_native_reader_init(&r, body, len);
    lf_err rc;
    while ((rc = lf_native_reader_next(&r, &f, err)) == LF_OK)
        ;
    if (rc != LF_ERR_NOT_FOUND)
        return rc;
    if (frame_count != NULL)
        *frame_count = r.index;
    return LF_OK;
}

lf_err lf_native_key_frame_encode(const uint8_t key_id[LF_NATIVE_KEY_ID_LEN], const char *tenant,
                                  const char *app, int64_t created,
                                  const uint8_t fingerprint[LF_NATIVE_FINGERPRINT_LEN],
                                  const uint8_t *wrapped, size_t wrapped_len, lf_buf *out,
                                  lf_error *err)
{
    if (wrapped_len < LF_NATIVE_WRAPPED_MIN || wrapped_len > LF_NATIVE_WRAPPED_MAX)
        return lf_error_set(err, LF_ERR_INVALID,
                            "key frame: wrapped key of %zu bytes outside %u..%u", wrapped_len,
                            LF_NATIVE_WRAPPED_MIN, LF_NATIVE_WRAPPED_MAX);
    if (strlen(tenant) > LF_NATIVE_TENANT_MAX || strlen(app) > LF_NATIVE_APP_MAX)
        return lf_error_set(err, LF_ERR_TOO_LARGE, "key frame: tenant or app too long");
    lf_native_header h;
    memset(&h, 0, sizeof h);
    h.kind = LF_NATIVE_KEY;
    memcpy(h.key_id, key_id, LF_NATIVE_KEY_ID_LEN);
    h.ts_min = h.ts_max = created;
    memcpy(h.tenant, tenant, strlen(tenant) + 1);
    memcpy(h.app, app, strlen(app) + 1);
    h.body_len = (uint32_t)(LF_NATIVE_FINGERPRINT_LEN + wrapped_len);
    size_t start = out->len;
    lf_err rc = lf_native_header_encode(&h, out, err);
    if (rc == LF_OK && (lf_buf_append(out, fingerprint, LF_NATIVE_FINGERPRINT_LEN) != LF_OK ||
                        lf_buf_append(out, wrapped, wrapped_len) != LF_OK))
        rc = lf_error_set(err, LF_ERR_NOMEM, "key frame: out of memory");
    if (rc != LF_OK)
        out->len = start;
    return rc;
}

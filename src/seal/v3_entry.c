/*
 * v3_entry.c — seal and open one LogFlux v3 entry (client side; PROTOCOL.md §2.1).
 *
 * The sealer keeps an lf_aead (AES key schedule expanded once), an lf_gzip (deflate state
 * allocated once) and two scratch buffers (JSON, gzip output) that are reused and wiped
 * after every entry, because they hold plaintext. In steady state sealing an entry allocates
 * nothing: encode -> gzip -> GCM straight into the caller's output buffer.
 */
#include <stdlib.h>
#include <string.h>

#include "logflux/compress.h"
#include "logflux/v3.h"

struct lf_v3_sealer {
    lf_aead *aead;
    lf_gzip *gzip; /* NULL when compression is off */
    int gzip_level;
    char key_id[LF_V3_KEY_ID_MAX + 1];
    lf_buf json; /* scratch: encoded payload */
    lf_buf z;    /* scratch: gzip output */
};

lf_err lf_v3_sealer_new(const uint8_t key[LF_AES_KEY_LEN], const char *key_id, int gzip_level,
                        lf_v3_sealer **out, lf_error *err)
{
    *out = NULL;
    size_t n = key_id != NULL ? strlen(key_id) : 0;
    if (n == 0 || n > LF_V3_KEY_ID_MAX)
        return lf_error_set(err, LF_ERR_INVALID, "v3: key id must have 1..%d characters",
                            LF_V3_KEY_ID_MAX);
    for (size_t i = 0; i < n; i++)
        if (key_id[i] <= 0x20 || key_id[i] >= 0x7f)
            return lf_error_set(err, LF_ERR_INVALID,
                                "v3: key id has a character outside 0x21..0x7e");
    lf_v3_sealer *s = calloc(1, sizeof *s);
    if (s == NULL)
        return lf_error_set(err, LF_ERR_NOMEM, "v3: out of memory");
    memcpy(s->key_id, key_id, n + 1);
    s->gzip_level = gzip_level;
    lf_err rc = lf_aead_new(key, &s->aead, err);
    if (rc == LF_OK && gzip_level != LF_V3_NO_GZIP)
        rc = lf_gzip_new(gzip_level, &s->gzip, err);
    if (rc != LF_OK) {
        lf_v3_sealer_free(s);
        return rc;
    }
    *out = s;
    return LF_OK;
}

void lf_v3_sealer_free(lf_v3_sealer *s)
{
    if (s == NULL)
        return;
    lf_aead_free(s->aead);
    lf_gzip_free(s->gzip);
    lf_buf_free_secret(&s->json);
    lf_buf_free_secret(&s->z);
    free(s);
}

static void scrub(lf_buf *b)
{
    if (b->len > 0)
        lf_wipe(b->data, b->len);
    b->len = 0;
}

lf_err lf_v3_seal_json(lf_v3_sealer *s, int entry_type, int64_t ts_ns, const void *json, size_t len,
                       const uint8_t *nonce, lf_buf *out, lf_v3_headers *h, lf_error *err)
{
    if (entry_type < 1 || entry_type > 7)
        return lf_error_set(err, LF_ERR_INVALID, "v3: entry type %d is not 1..7", entry_type);
    if (len > LF_PAYLOAD_MAX_JSON)
        return lf_error_set(err, LF_ERR_TOO_LARGE, "v3: payload of %zu bytes", len);
    if (entry_type == LF_ENTRY_TELEMETRY_MANAGED)
        return lf_v3_plain_seal_json(
            json, len, ts_ns,
            s->gzip_level == LF_V3_NO_GZIP ? LF_GZIP_LEVEL_DEFAULT : s->gzip_level, out, h, err);
    uint8_t n[LF_GCM_NONCE_LEN];
    lf_err rc = LF_OK;
    if (nonce != NULL)
        memcpy(n, nonce, sizeof n);
    else if ((rc = lf_random(n, sizeof n, err)) != LF_OK)
        return rc;
    const void *pt = json;
    size_t pt_len = len;
    if (s->gzip != NULL) {
        scrub(&s->z);
        if ((rc = lf_gzip_ctx_compress(s->gzip, json, len, &s->z, err)) != LF_OK)
            return rc;
        pt = s->z.data;
        pt_len = s->z.len;
    }
    rc = lf_aead_ctx_seal(s->aead, n, NULL, 0, pt, pt_len, out, err);
    scrub(&s->z);
    if (rc != LF_OK)
        return rc;
    memset(h, 0, sizeof *h);
    h->entry_type = entry_type;
    h->payload_type = LF_V3_PAYLOAD_ENCRYPTED;
    h->ts_ns = ts_ns;
    lf_rfc3339_format(ts_ns, h->timestamp);
    memcpy(h->key_id, s->key_id, sizeof h->key_id);
    memcpy(h->nonce, n, sizeof n);
    lf_base64_encode(n, sizeof n, h->nonce_b64, false);
    return LF_OK;
}

lf_err lf_v3_seal_payload(lf_v3_sealer *s, const lf_payload *p, const uint8_t *nonce, lf_buf *out,
                          lf_v3_headers *h, lf_error *err)
{
    scrub(&s->json);
    lf_err rc = lf_payload_encode(p, &s->json, err);
    if (rc == LF_OK)
        rc = lf_v3_seal_json(s, p->type, p->ts_ns, s->json.data, s->json.len, nonce, out, h, err);
    scrub(&s->json);
    return rc;
}

lf_err lf_v3_open_json_ctx(lf_aead *ctx, const uint8_t nonce[LF_GCM_NONCE_LEN], const void *sealed,
                           size_t len, lf_buf *json_out, lf_error *err)
{
    if (len < LF_GCM_TAG_LEN)
        return lf_error_set(err, LF_ERR_TRUNCATED, "v3: body of %zu bytes is shorter than the tag",
                            len);
    /* a compressed entry never needs more than the JSON bound; an uncompressed one is the
     * JSON itself */
    if (len - LF_GCM_TAG_LEN > LF_PAYLOAD_MAX_JSON)
        return lf_error_set(err, LF_ERR_TOO_LARGE, "v3: body of %zu bytes", len);
    lf_buf z = LF_BUF_INIT;
    lf_err rc = lf_aead_ctx_open(ctx, nonce, NULL, 0, sealed, len, &z, err);
    if (rc == LF_OK) {
        if (lf_is_gzip(z.data, z.len))
            rc = lf_gunzip(z.data, z.len, LF_PAYLOAD_MAX_JSON, json_out, err);
        else if (lf_buf_append(json_out, z.data, z.len) != LF_OK)
            rc = lf_error_set(err, LF_ERR_NOMEM, "v3: out of memory");
    }
    lf_buf_free_secret(&z);
    return rc;
}

lf_err lf_v3_open_json(const uint8_t key[LF_AES_KEY_LEN], const uint8_t nonce[LF_GCM_NONCE_LEN],
                       const void *sealed, size_t len, lf_buf *json_out, lf_error *err)
{
    lf_aead *ctx = NULL;
    lf_err rc = lf_aead_new(key, &ctx, err);
    if (rc == LF_OK)
        rc = lf_v3_open_json_ctx(ctx, nonce, sealed, len, json_out, err);
    lf_aead_free(ctx);
    return rc;
}

lf_err lf_v3_open_payload(const uint8_t *key, const lf_v3_headers *h, const void *body, size_t len,
                          int64_t now_ns, lf_payload **out, lf_error *err)
{
    lf_buf json = LF_BUF_INIT;
    lf_err rc;
    *out = NULL;
    if (h->payload_type == LF_V3_PAYLOAD_PLAIN)
        rc = lf_v3_plain_open(body, len, &json, err);
    else if (h->payload_type != LF_V3_PAYLOAD_ENCRYPTED)
        rc = lf_error_set(err, LF_ERR_UNSUPPORTED, "v3: payload type %d", h->payload_type);
    else if (key == NULL)
        rc = lf_error_set(err, LF_ERR_INVALID, "v3: payload type 1 needs a key");
    else
        rc = lf_v3_open_json(key, h->nonce, body, len, &json, err);
    if (rc == LF_OK)
        rc = lf_payload_decode(json.data, json.len, h->entry_type, now_ns, out, err);
    lf_buf_free_secret(&json);
    return rc;
}

/*
 * native_seal.c — sealing and opening native v1 frames (docs/PROTOCOL.md §3.2–§3.5).
 *
 * Client-only. A sealing session turns one session key into
 *   enc_key   = HKDF-SHA-256(session_key, salt = key_id, "logflux native v1 record")
 *   token_key = HKDF-SHA-256(session_key, salt = key_id, "logflux native v1 search-token")
 * and then seals frames: the header (canonical bytes from native_frame.c) is written straight
 * into the caller's output buffer and used in place as the AES-GCM associated data, so a frame
 * costs one header encode, one GCM pass and no copies of the plaintext beyond compression.
 * This is the agent's hot path: the AES key schedule lives in a reusable lf_aead, the zstd
 * compression context is reused, and nonces come from a pool filled by one RAND_bytes call per
 * 64 frames instead of one per frame.
 *
 * The sequence counter enforces §3.4 and the per-key cap of §3.2: entry/block frames carry
 * 0, 1, 2, … and the session refuses to go past 2^24 − 2 so that the close frame (count = n)
 * always fits under 2^24 frames per key; after close it refuses to seal anything.
 *
 * The opener is the customer's side: it authenticates the header and body, inflates zstd only
 * when the frame declares its content size (≤ 64 MiB, exactly one zstd frame), and checks that
 * the plaintext splits into exactly `count` entries. Plaintext that failed authentication is
 * never returned; scratch buffers holding plaintext are wiped.
 */
#include "logflux/native.h"

#include <stdlib.h>
#include <string.h>
#include <zstd.h>

#define INFO_RECORD        "logflux native v1 record"
#define INFO_TOKEN         "logflux native v1 search-token"
#define SEQ_DATA_MAX       ((uint64_t)LF_NATIVE_KEY_FRAMES_MAX - 2u)
#define NONCE_POOL_FRAMES  64
#define TOKEN_TERM_MAX     4096 /* longest search term we lowercase on the stack */
#define ZSTD_LEVEL_DEFAULT 3

struct lf_native_session {
    lf_aead *enc;
    uint8_t token_key[32];
    uint8_t session_key[LF_AES_KEY_LEN];
    bool have_session_key; /* until the first key frame wraps it */
    uint8_t key_id[LF_NATIVE_KEY_ID_LEN];
    char tenant[LF_NATIVE_TENANT_MAX + 1];
    char app[LF_NATIVE_APP_MAX + 1];
    uint64_t next_seq;
    bool closed;
    int zstd_level;
    ZSTD_CCtx *cctx;
    lf_buf block;      /* length-prefixed concatenation of a block's entries (plaintext) */
    lf_buf compressed; /* zstd output (plaintext-derived) */
    uint8_t nonces[NONCE_POOL_FRAMES * LF_GCM_NONCE_LEN];
    size_t nonce_pos; /* next unused byte of nonces; sizeof nonces = empty */
    lf_buf key_frame; /* the cached key frame, so a resend is byte-identical (§3.3) */
    uint8_t key_frame_fp[LF_NATIVE_FINGERPRINT_LEN];
};

struct lf_native_opener {
    lf_aead *dec;
    uint8_t key_id[LF_NATIVE_KEY_ID_LEN];
    ZSTD_DCtx *dctx;
    lf_buf sealed_plain; /* decrypted, still compressed plaintext (wiped after use) */
};

/* ---------------- keys and tokens ---------------- */

lf_err lf_native_derive_keys(const uint8_t session_key[LF_AES_KEY_LEN],
                             const uint8_t key_id[LF_NATIVE_KEY_ID_LEN],
                             uint8_t enc_key[LF_AES_KEY_LEN], uint8_t token_key[32], lf_error *err)
{
    lf_err rc = LF_OK;
    if (enc_key != NULL)
        rc = lf_hkdf_sha256(session_key, LF_AES_KEY_LEN, key_id, LF_NATIVE_KEY_ID_LEN, INFO_RECORD,
                            strlen(INFO_RECORD), enc_key, LF_AES_KEY_LEN, err);
    if (rc == LF_OK && token_key != NULL)
        rc = lf_hkdf_sha256(session_key, LF_AES_KEY_LEN, key_id, LF_NATIVE_KEY_ID_LEN, INFO_TOKEN,
                            strlen(INFO_TOKEN), token_key, 32, err);
    return rc;
}

lf_err lf_native_token(const uint8_t token_key[32], const char *term, size_t term_len,
                       uint8_t out[LF_NATIVE_TOKEN_LEN], lf_error *err)
{
    if (term_len > TOKEN_TERM_MAX)
        return lf_error_set(err, LF_ERR_TOO_LARGE, "search token: term of %zu bytes exceeds %d",
                            term_len, TOKEN_TERM_MAX);
    /* ASCII-only lowercasing (§3.5): every implementation agrees without Unicode tables. */
    uint8_t lower[TOKEN_TERM_MAX];
    for (size_t i = 0; i < term_len; i++) {
        uint8_t c = (uint8_t)term[i];
        lower[i] = (c >= 'A' && c <= 'Z') ? (uint8_t)(c + 32) : c;
    }
    uint8_t mac[LF_SHA256_LEN];
    lf_err rc = lf_hmac_sha256(token_key, 32, lower, term_len, mac, err);
    if (rc == LF_OK)
        memcpy(out, mac, LF_NATIVE_TOKEN_LEN);
    lf_wipe(lower, term_len);
    lf_wipe(mac, sizeof mac);
    return rc;
}

/* ---------------- low-level seal ---------------- */

lf_err lf_native_seal_raw(lf_aead *enc, const lf_native_header *h, const void *plaintext,
                          size_t pt_len, lf_buf *out, lf_error *err)
{
    if (pt_len > UINT32_MAX - LF_GCM_TAG_LEN)
        return lf_error_set(err, LF_ERR_TOO_LARGE, "native seal: plaintext of %zu bytes", pt_len);
    lf_native_header hdr = *h;
    hdr.body_len = (uint32_t)(pt_len + LF_GCM_TAG_LEN);
    size_t header_len = lf_native_header_len(&hdr);
    /* Reserve everything now: the AAD below points into out, which must not move. */
    if (lf_buf_reserve(out, header_len + hdr.body_len) != LF_OK)
        return lf_error_set(err, LF_ERR_NOMEM, "native seal: out of memory");
    size_t start = out->len;
    lf_err rc = lf_native_header_encode(&hdr, out, err);
    if (rc != LF_OK)
        return rc;
    static const uint8_t empty[1];
    rc = lf_aead_ctx_seal(enc, hdr.nonce, out->data + start, header_len,
                          pt_len > 0 ? plaintext : empty, pt_len, out, err);
    if (rc != LF_OK)
        out->len = start;
    return rc;
}

/* ---------------- session ---------------- */

static lf_err check_name(const char *what, const char *s, size_t max, lf_error *err)
{
    size_t n = s != NULL ? strnlen(s, max + 1) : 0;
    if (n == 0 || n > max)
        return lf_error_set(err, LF_ERR_INVALID, "native session: %s must be 1..%zu characters",
                            what, max);
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-'))
            return lf_error_set(err, LF_ERR_INVALID,
                                "native session: %s has a character outside [A-Za-z0-9._-]", what);
    }
    return LF_OK;
}

lf_err lf_native_session_new(const uint8_t *session_key, const uint8_t *key_id, const char *tenant,
                             const char *app, lf_native_session **out, lf_error *err)
{
    lf_err rc = check_name("tenant", tenant, LF_NATIVE_TENANT_MAX, err);
    if (rc == LF_OK)
        rc = check_name("app", app, LF_NATIVE_APP_MAX, err);
    if (rc != LF_OK)
        return rc;
    lf_native_session *s = calloc(1, sizeof *s);
    if (s == NULL)
        return lf_error_set(err, LF_ERR_NOMEM, "native session: out of memory");
    uint8_t enc_key[LF_AES_KEY_LEN];
    s->zstd_level = ZSTD_LEVEL_DEFAULT;
    s->nonce_pos = sizeof s->nonces;
    strcpy(s->tenant, tenant);
    strcpy(s->app, app);
    if (session_key != NULL)
        memcpy(s->session_key, session_key, LF_AES_KEY_LEN);
    else
        rc = lf_random(s->session_key, LF_AES_KEY_LEN, err);
    s->have_session_key = true;
    if (rc == LF_OK) {
        if (key_id != NULL)
            memcpy(s->key_id, key_id, LF_NATIVE_KEY_ID_LEN);
        else
            rc = lf_random(s->key_id, LF_NATIVE_KEY_ID_LEN, err);
    }
    if (rc == LF_OK)
        rc = lf_native_derive_keys(s->session_key, s->key_id, enc_key, s->token_key, err);
    if (rc == LF_OK)
        rc = lf_aead_new(enc_key, &s->enc, err);
    lf_wipe(enc_key, sizeof enc_key);
    if (rc == LF_OK && (s->cctx = ZSTD_createCCtx()) == NULL)
        rc = lf_error_set(err, LF_ERR_NOMEM, "native session: zstd context");
    if (rc != LF_OK) {
        lf_native_session_free(s);
        return rc;
    }
    *out = s;
    return LF_OK;
}

void lf_native_session_free(lf_native_session *s)
{
    if (s == NULL)
        return;
    lf_aead_free(s->enc);
    ZSTD_freeCCtx(s->cctx);
    lf_buf_free_secret(&s->block);
    lf_buf_free_secret(&s->compressed);
    lf_buf_free(&s->key_frame);
    lf_wipe(s, sizeof *s);
    free(s);
}

lf_err lf_native_session_set_zstd_level(lf_native_session *s, int level, lf_error *err)
{
    if (level < 1 || level > 19)
        return lf_error_set(err, LF_ERR_INVALID, "native session: zstd level %d outside 1..19",
                            level);
    s->zstd_level = level;
    return LF_OK;
}

const uint8_t *lf_native_session_key_id(const lf_native_session *s)
{
    return s->key_id;
}

uint64_t lf_native_session_sequence(const lf_native_session *s)
{
    return s->next_seq;
}

bool lf_native_session_closed(const lf_native_session *s)
{
    return s->closed;
}

void lf_native_session_test_set_sequence(lf_native_session *s, uint64_t sequence)
{
    s->next_seq = sequence;
}

lf_err lf_native_session_token(const lf_native_session *s, const char *term, size_t term_len,
                               uint8_t out[LF_NATIVE_TOKEN_LEN], lf_error *err)
{
    return lf_native_token(s->token_key, term, term_len, out, err);
}

static lf_err next_nonce(lf_native_session *s, uint8_t nonce[LF_GCM_NONCE_LEN], lf_error *err)
{
    if (s->nonce_pos >= sizeof s->nonces) {
        lf_err rc = lf_random(s->nonces, sizeof s->nonces, err);
        if (rc != LF_OK)
            return rc;
        s->nonce_pos = 0;
    }
    memcpy(nonce, s->nonces + s->nonce_pos, LF_GCM_NONCE_LEN);
    /* A used nonce is erased so it cannot be handed out twice, whatever happens later. */
    memset(s->nonces + s->nonce_pos, 0, LF_GCM_NONCE_LEN);
    s->nonce_pos += LF_GCM_NONCE_LEN;
    return LF_OK;
}

static lf_err check_can_seal(const lf_native_session *s, const char *what, lf_error *err)
{
    if (s->closed)
        return lf_error_set(err, LF_ERR_INVALID, "native %s: session is closed", what);
    if (s->next_seq > SEQ_DATA_MAX)
        return lf_error_set(err, LF_ERR_TOO_LARGE,
                            "native %s: key reached its cap of 2^24 frames; rotate the key", what);
    return LF_OK;
}

/* zstd-compress src into s->compressed (replacing it). The frame carries its content size,
 * which readers require. */
static lf_err compress_into(lf_native_session *s, const void *src, size_t len, lf_error *err)
{
    if (len > LF_NATIVE_INFLATE_MAX)
        return lf_error_set(err, LF_ERR_TOO_LARGE,
                            "native seal: %zu bytes exceed the 64 MiB inflation cap", len);
    size_t bound = ZSTD_compressBound(len);
    lf_buf_reset(&s->compressed);
    if (lf_buf_reserve(&s->compressed, bound) != LF_OK)
        return lf_error_set(err, LF_ERR_NOMEM, "native seal: out of memory");
    if (ZSTD_isError(ZSTD_CCtx_setParameter(s->cctx, ZSTD_c_compressionLevel, s->zstd_level)) ||
        ZSTD_isError(ZSTD_CCtx_setParameter(s->cctx, ZSTD_c_contentSizeFlag, 1)))
        return lf_error_set(err, LF_ERR_INVALID, "native seal: zstd parameters refused");
    size_t n = ZSTD_compress2(s->cctx, s->compressed.data, bound, src, len);
    if (ZSTD_isError(n))
        return lf_error_set(err, LF_ERR_CRYPTO, "native seal: zstd failed: %s",
                            ZSTD_getErrorName(n));
    s->compressed.len = n;
    return LF_OK;
}

/* Seal an entry or block frame around `pt` (compressing first when asked). */
static lf_err seal_data(lf_native_session *s, uint8_t kind, uint8_t entry_type, int64_t ts_min,
                        int64_t ts_max, uint32_t count, const uint8_t *tokens, size_t token_count,
                        bool compress, const void *pt, size_t pt_len, lf_buf *out, lf_error *err)
{
    const char *what = kind == LF_NATIVE_ENTRY ? "entry" : "block";
    lf_err rc = check_can_seal(s, what, err);
    if (rc != LF_OK)
        return rc;
    if (token_count > LF_NATIVE_TOKENS_MAX)
        return lf_error_set(err, LF_ERR_TOO_LARGE, "native %s: %zu tokens exceed %u", what,
                            token_count, LF_NATIVE_TOKENS_MAX);
    if (token_count > 0 && tokens == NULL)
        return lf_error_set(err, LF_ERR_INVALID, "native %s: tokens missing", what);
    if (compress) {
        rc = compress_into(s, pt, pt_len, err);
        if (rc != LF_OK)
            return rc;
        pt = s->compressed.data;
        pt_len = s->compressed.len;
    }
    size_t max = (kind == LF_NATIVE_ENTRY ? LF_NATIVE_ENTRY_BODY_MAX : LF_NATIVE_BLOCK_BODY_MAX) -
                 LF_GCM_TAG_LEN;
    if (pt_len > max)
        return lf_error_set(err, LF_ERR_TOO_LARGE, "native %s: body of %zu bytes exceeds %zu", what,
                            pt_len, max);

    lf_native_header h;
    h.kind = kind;
    h.entry_type = entry_type;
    h.flags = compress ? LF_NATIVE_FLAG_ZSTD : 0;
    memcpy(h.key_id, s->key_id, LF_NATIVE_KEY_ID_LEN);
    h.sequence = s->next_seq;
    h.ts_min = ts_min;
    h.ts_max = ts_max;
    h.count = count;
    memcpy(h.tenant, s->tenant, sizeof h.tenant);
    memcpy(h.app, s->app, sizeof h.app);
    h.token_count = (uint16_t)token_count;
    h.tokens = tokens;
    h.body_len = 0;
    rc = next_nonce(s, h.nonce, err);
    if (rc == LF_OK)
        rc = lf_native_seal_raw(s->enc, &h, pt, pt_len, out, err);
    if (rc == LF_OK)
        s->next_seq++;
    return rc;
}

lf_err lf_native_seal_entry(lf_native_session *s, uint8_t entry_type, const lf_native_entry *entry,
                            const uint8_t *tokens, size_t token_count, bool compress, lf_buf *out,
                            lf_error *err)
{
    if (entry->len == 0 || entry->json == NULL)
        return lf_error_set(err, LF_ERR_INVALID, "native entry: empty entry");
    return seal_data(s, LF_NATIVE_ENTRY, entry_type, entry->ts, entry->ts, 1, tokens, token_count,
                     compress, entry->json, entry->len, out, err);
}

/* The block plaintext: each entry as u32 length || JSON, back to back. */
static void write_block(const lf_native_entry *entries, size_t n, uint8_t *p)
{
    for (size_t i = 0; i < n; i++) {
        lf_store_be32(p, (uint32_t)entries[i].len);
        memcpy(p + 4, entries[i].json, entries[i].len);
        p += 4 + entries[i].len;
    }
}

lf_err lf_native_seal_block(lf_native_session *s, uint8_t entry_type,
                            const lf_native_entry *entries, size_t n, const uint8_t *tokens,
                            size_t token_count, bool compress, lf_buf *out, lf_error *err)
{
    if (n < 1 || n > LF_NATIVE_BLOCK_COUNT_MAX)
        return lf_error_set(err, LF_ERR_INVALID, "native block: %zu entries outside 1..%u", n,
                            LF_NATIVE_BLOCK_COUNT_MAX);
    /* The limit that applies to what we build: the sealed body (16 MiB) if not compressed,
     * the inflation cap (64 MiB) if compressed. */
    size_t cap = compress ? LF_NATIVE_INFLATE_MAX : LF_NATIVE_BLOCK_BODY_MAX - LF_GCM_TAG_LEN;
    size_t total = 0;
    int64_t ts_min = entries[0].ts, ts_max = entries[0].ts;
    for (size_t i = 0; i < n; i++) {
        if (entries[i].len == 0 || entries[i].json == NULL)
            return lf_error_set(err, LF_ERR_INVALID, "native block: entry %zu is empty", i);
        if (entries[i].len > cap || total > cap - 4 - entries[i].len)
            return lf_error_set(err, LF_ERR_TOO_LARGE,
                                "native block: entries exceed %zu bytes at entry %zu", cap, i);
        total += 4 + entries[i].len;
        if (entries[i].ts < ts_min)
            ts_min = entries[i].ts;
        if (entries[i].ts > ts_max)
            ts_max = entries[i].ts;
    }
    lf_err rc = check_can_seal(s, "block", err);
    if (rc != LF_OK)
        return rc;
    if (!compress) {
        /* Hot path: lay the plaintext out where its ciphertext will go, right after the
         * header in `out`, and encrypt it in place. That saves a copy of the block and a wipe
         * of a scratch buffer: half the cost of sealing a 64 KiB block beside AES-GCM itself. */
        size_t header_len = LF_NATIVE_FIXED_LEN + strlen(s->tenant) + strlen(s->app) +
                            token_count * LF_NATIVE_TOKEN_LEN;
        if (token_count > LF_NATIVE_TOKENS_MAX ||
            lf_buf_reserve(out, header_len + total + LF_GCM_TAG_LEN) != LF_OK)
            return lf_error_set(err, LF_ERR_NOMEM, "native block: out of memory");
        uint8_t *body = out->data + out->len + header_len;
        write_block(entries, n, body);
        rc = seal_data(s, LF_NATIVE_BLOCK, entry_type, ts_min, ts_max, (uint32_t)n, tokens,
                       token_count, false, body, total, out, err);
        if (rc != LF_OK)
            lf_wipe(body, total); /* the plaintext must not stay in the caller's spare room */
        return rc;
    }
    lf_buf_reset(&s->block);
    if (lf_buf_reserve(&s->block, total) != LF_OK)
        return lf_error_set(err, LF_ERR_NOMEM, "native block: out of memory");
    write_block(entries, n, s->block.data);
    s->block.len = total;
    rc = seal_data(s, LF_NATIVE_BLOCK, entry_type, ts_min, ts_max, (uint32_t)n, tokens, token_count,
                   compress, s->block.data, total, out, err);
    /* No plaintext lingers between blocks, compressed or not. */
    lf_wipe(s->block.data, s->block.len);
    lf_wipe(s->compressed.data, s->compressed.len);
    lf_buf_reset(&s->block);
    lf_buf_reset(&s->compressed);
    return rc;
}

lf_err lf_native_seal_close(lf_native_session *s, int64_t now, lf_buf *out, lf_error *err)
{
    if (s->closed)
        return lf_error_set(err, LF_ERR_INVALID, "native close: session is already closed");
    lf_native_header h;
    memset(&h, 0, sizeof h);
    h.kind = LF_NATIVE_CLOSE;
    memcpy(h.key_id, s->key_id, LF_NATIVE_KEY_ID_LEN);
    h.sequence = s->next_seq;
    h.count = (uint32_t)s->next_seq; /* ≤ 2^24 − 1 by the cap in check_can_seal */
    h.ts_min = h.ts_max = now;
    memcpy(h.tenant, s->tenant, sizeof h.tenant);
    memcpy(h.app, s->app, sizeof h.app);
    lf_err rc = next_nonce(s, h.nonce, err);
    if (rc == LF_OK)
        rc = lf_native_seal_raw(s->enc, &h, NULL, 0, out, err);
    if (rc == LF_OK)
        s->closed = true;
    return rc;
}

static lf_err spki_fingerprint(const lf_pubkey *key, uint8_t fp[LF_NATIVE_FINGERPRINT_LEN],
                               lf_error *err)
{
    lf_buf der = LF_BUF_INIT;
    lf_err rc = lf_pubkey_to_der(key, &der, err);
    if (rc == LF_OK)
        rc = lf_sha256(der.data, der.len, fp, err);
    lf_buf_free(&der);
    return rc;
}

lf_err lf_native_session_key_frame(lf_native_session *s, const lf_pubkey *customer, int64_t created,
                                   lf_buf *out, lf_error *err)
{
    uint8_t fp[LF_NATIVE_FINGERPRINT_LEN];
    lf_err rc = spki_fingerprint(customer, fp, err);
    if (rc != LF_OK)
        return rc;
    if (!s->have_session_key) {
        /* Already wrapped once: a resend must be the identical frame (§3.3). */
        if (memcmp(fp, s->key_frame_fp, sizeof fp) != 0)
            return lf_error_set(err, LF_ERR_INVALID,
                                "native key frame: session key already wrapped for another key");
        if (lf_buf_append(out, s->key_frame.data, s->key_frame.len) != LF_OK)
            return lf_error_set(err, LF_ERR_NOMEM, "native key frame: out of memory");
        return LF_OK;
    }
    lf_buf wrapped = LF_BUF_INIT;
    rc = lf_rsa_wrap(customer, s->session_key, LF_AES_KEY_LEN, &wrapped, err);
    if (rc == LF_OK)
        rc = lf_native_key_frame_encode(s->key_id, s->tenant, s->app, created, fp, wrapped.data,
                                        wrapped.len, &s->key_frame, err);
    lf_buf_free(&wrapped);
    if (rc != LF_OK) {
        lf_buf_reset(&s->key_frame);
        return rc;
    }
    if (lf_buf_append(out, s->key_frame.data, s->key_frame.len) != LF_OK) {
        lf_buf_reset(&s->key_frame);
        return lf_error_set(err, LF_ERR_NOMEM, "native key frame: out of memory");
    }
    memcpy(s->key_frame_fp, fp, sizeof fp);
    lf_wipe(s->session_key, sizeof s->session_key); /* its only remaining use is done */
    s->have_session_key = false;
    return LF_OK;
}

/* ---------------- opener ---------------- */

lf_err lf_native_opener_new(const uint8_t session_key[LF_AES_KEY_LEN],
                            const uint8_t key_id[LF_NATIVE_KEY_ID_LEN], lf_native_opener **out,
                            lf_error *err)
{
    lf_native_opener *o = calloc(1, sizeof *o);
    if (o == NULL)
        return lf_error_set(err, LF_ERR_NOMEM, "native opener: out of memory");
    memcpy(o->key_id, key_id, LF_NATIVE_KEY_ID_LEN);
    uint8_t enc_key[LF_AES_KEY_LEN];
    lf_err rc = lf_native_derive_keys(session_key, key_id, enc_key, NULL, err);
    if (rc == LF_OK)
        rc = lf_aead_new(enc_key, &o->dec, err);
    lf_wipe(enc_key, sizeof enc_key);
    if (rc == LF_OK && (o->dctx = ZSTD_createDCtx()) == NULL)
        rc = lf_error_set(err, LF_ERR_NOMEM, "native opener: zstd context");
    if (rc != LF_OK) {
        lf_native_opener_free(o);
        return rc;
    }
    *out = o;
    return LF_OK;
}

void lf_native_opener_free(lf_native_opener *o)
{
    if (o == NULL)
        return;
    lf_aead_free(o->dec);
    ZSTD_freeDCtx(o->dctx);
    lf_buf_free_secret(&o->sealed_plain);
    free(o);
}

static void opened_clear(lf_native_opened *o)
{
    if (o->plaintext.data != NULL)
        lf_wipe(o->plaintext.data, o->plaintext.len);
    lf_buf_reset(&o->plaintext);
    o->count = 0;
}

void lf_native_opened_free(lf_native_opened *o)
{
    if (o == NULL)
        return;
    lf_buf_free_secret(&o->plaintext);
    free(o->entries);
    o->entries = NULL;
    o->count = o->entries_cap = 0;
}

/* Inflate exactly one zstd frame that declares its content size (≤ 64 MiB) into out. */
static lf_err inflate_zstd(lf_native_opener *o, const uint8_t *src, size_t len, lf_buf *out,
                           lf_error *err)
{
    unsigned long long size = ZSTD_getFrameContentSize(src, len);
    if (size == ZSTD_CONTENTSIZE_ERROR)
        return lf_error_set(err, LF_ERR_INVALID, "native open: plaintext is not a zstd frame");
    if (size == ZSTD_CONTENTSIZE_UNKNOWN)
        return lf_error_set(err, LF_ERR_INVALID,
                            "native open: zstd frame does not declare its content size");
    if (size == 0)
        return lf_error_set(err, LF_ERR_INVALID, "native open: zstd frame of empty content");
    if (size > LF_NATIVE_INFLATE_MAX)
        return lf_error_set(err, LF_ERR_TOO_LARGE,
                            "native open: zstd content of %llu bytes exceeds the 64 MiB cap", size);
    size_t frame_len = ZSTD_findFrameCompressedSize(src, len);
    if (ZSTD_isError(frame_len) || frame_len != len)
        return lf_error_set(err, LF_ERR_INVALID,
                            "native open: plaintext is not exactly one zstd frame");
    if (lf_buf_reserve(out, (size_t)size) != LF_OK)
        return lf_error_set(err, LF_ERR_NOMEM, "native open: out of memory");
    size_t n = ZSTD_decompressDCtx(o->dctx, out->data + out->len, (size_t)size, src, len);
    if (ZSTD_isError(n) || n != size) {
        if (!ZSTD_isError(n))
            lf_wipe(out->data + out->len, n);
        return lf_error_set(err, LF_ERR_INVALID, "native open: zstd frame is corrupt");
    }
    out->len += n;
    return LF_OK;
}

static lf_err reserve_spans(lf_native_opened *out, size_t n, lf_error *err)
{
    if (n <= out->entries_cap)
        return LF_OK;
    lf_native_span *p = realloc(out->entries, n * sizeof *p);
    if (p == NULL)
        return lf_error_set(err, LF_ERR_NOMEM, "native open: out of memory");
    out->entries = p;
    out->entries_cap = n;
    return LF_OK;
}

/* Split authenticated plaintext into entries per kind and check it against count. */
static lf_err split_entries(const lf_native_header *h, lf_native_opened *out, lf_error *err)
{
    const uint8_t *p = out->plaintext.data;
    size_t len = out->plaintext.len;
    if (h->kind == LF_NATIVE_CLOSE) {
        if (len != 0)
            return lf_error_set(err, LF_ERR_INVALID, "native open: close frame has a plaintext");
        return LF_OK;
    }
    if (h->kind == LF_NATIVE_ENTRY) {
        if (len == 0)
            return lf_error_set(err, LF_ERR_INVALID, "native open: empty entry");
        lf_err rc = reserve_spans(out, 1, err);
        if (rc != LF_OK)
            return rc;
        out->entries[0].data = p;
        out->entries[0].len = len;
        out->count = 1;
        return LF_OK;
    }
    /* Block: each entry takes at least 5 bytes, so a count the plaintext cannot hold is
     * refused before allocating spans for it. */
    if (h->count == 0 || h->count > len / 5)
        return lf_error_set(err, LF_ERR_INVALID,
                            "native open: block of %zu bytes cannot hold %u entries", len,
                            h->count);
    lf_err rc = reserve_spans(out, h->count, err);
    if (rc != LF_OK)
        return rc;
    size_t pos = 0;
    for (uint32_t i = 0; i < h->count; i++) {
        if (len - pos < 4)
            return lf_error_set(err, LF_ERR_INVALID, "native open: block entry %u truncated", i);
        uint32_t n = lf_load_be32(p + pos);
        pos += 4;
        if (n == 0 || n > len - pos)
            return lf_error_set(err, LF_ERR_INVALID,
                                "native open: block entry %u length %u invalid", i, n);
        out->entries[i].data = p + pos;
        out->entries[i].len = n;
        pos += n;
    }
    if (pos != len)
        return lf_error_set(err, LF_ERR_INVALID,
                            "native open: %zu bytes after the last block entry", len - pos);
    out->count = h->count;
    return LF_OK;
}

lf_err lf_native_open_parts(lf_native_opener *o, const lf_native_header *h, const uint8_t *header,
                            size_t header_len, const uint8_t *body, size_t body_len,
                            lf_native_opened *out, lf_error *err)
{
    opened_clear(out);
    if (h->kind != LF_NATIVE_ENTRY && h->kind != LF_NATIVE_BLOCK && h->kind != LF_NATIVE_CLOSE)
        return lf_error_set(err, LF_ERR_INVALID, "native open: kind %u is not sealed", h->kind);
    /* The key id is the HKDF salt: another id means another key, so the tag would fail. */
    if (memcmp(h->key_id, o->key_id, LF_NATIVE_KEY_ID_LEN) != 0)
        return lf_error_set(err, LF_ERR_AUTH, "native open: frame is for another key id");
    bool zstd = (h->flags & LF_NATIVE_FLAG_ZSTD) != 0;
    lf_buf *dst = zstd ? &o->sealed_plain : &out->plaintext;
    lf_buf_reset(dst);
    /* Never hand a NULL buffer to the cipher, even for the empty plaintext of a close frame. */
    if (lf_buf_reserve(dst, 1) != LF_OK || lf_buf_reserve(&out->plaintext, 1) != LF_OK)
        return lf_error_set(err, LF_ERR_NOMEM, "native open: out of memory");
    lf_err rc = lf_aead_ctx_open(o->dec, h->nonce, header, header_len, body, body_len, dst, err);
    if (rc == LF_OK && zstd) {
        rc = inflate_zstd(o, o->sealed_plain.data, o->sealed_plain.len, &out->plaintext, err);
        lf_wipe(o->sealed_plain.data, o->sealed_plain.len);
        lf_buf_reset(&o->sealed_plain);
    }
    if (rc == LF_OK)
        rc = split_entries(h, out, err);
    if (rc != LF_OK)
        opened_clear(out);
    return rc;
}

lf_err lf_native_open(lf_native_opener *o, const lf_native_frame *f, lf_native_opened *out,
                      lf_error *err)
{
    return lf_native_open_parts(o, &f->hdr, f->header, f->header_len, f->body, f->hdr.body_len, out,
                                err);
}

lf_err lf_native_key_frame_unwrap(const lf_native_frame *f, const lf_privkey *customer,
                                  uint8_t session_key[LF_AES_KEY_LEN], lf_error *err)
{
    const uint8_t *fp_frame = NULL, *wrapped = NULL;
    size_t wrapped_len = 0;
    lf_err rc = lf_native_key_frame_parts(f, &fp_frame, &wrapped, &wrapped_len, err);
    if (rc != LF_OK)
        return rc;
    lf_pubkey *pub = NULL;
    uint8_t fp[LF_NATIVE_FINGERPRINT_LEN];
    rc = lf_privkey_public(customer, &pub, err);
    if (rc == LF_OK)
        rc = spki_fingerprint(pub, fp, err);
    lf_pubkey_free(pub);
    if (rc != LF_OK)
        return rc;
    if (memcmp(fp, fp_frame, sizeof fp) != 0)
        return lf_error_set(err, LF_ERR_NOT_FOUND,
                            "native key frame: wrapped for another customer key");
    lf_buf secret = LF_BUF_INIT;
    rc = lf_rsa_unwrap(customer, wrapped, wrapped_len, &secret, err);
    if (rc == LF_OK && secret.len != LF_AES_KEY_LEN)
        rc = lf_error_set(err, LF_ERR_AUTH, "native key frame: unwrapped key is not 32 bytes");
    if (rc == LF_OK)
        memcpy(session_key, secret.data, LF_AES_KEY_LEN);
    lf_buf_free_secret(&secret);
    return rc;
}

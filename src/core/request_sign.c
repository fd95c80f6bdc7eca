/*
 * request_sign.c — LF-HMAC-SHA256 request signing and verification, and the replay cache
 * (docs/PROTOCOL.md §3.6).
 *
 * Both sides build the same string to sign from an lf_sign_request; the only transformations
 * are the ones the spec names (method uppercased, host lowercased, optional whitespace around
 * header values dropped as HTTP parsers do), so there is nothing else for two implementations
 * to disagree on. Fields with control characters are refused instead of signed: a newline
 * inside a field would let one request's lines be read as another's.
 *
 * The server verifies in a fixed order — clock window, signature (constant time), then the
 * replay cache — so an unauthenticated request can never insert into the cache.
 *
 * Replay cache: open addressing with linear probing over 2 × capacity (rounded up to a power
 * of two) slots, so the table is never more than half full and probes stay short. A slot holds
 * a 16-byte keyed digest of (credential, nonce) and its expiry; an expired slot is a tombstone
 * that the next insert along its probe path reuses. When the used slots reach `capacity`, the
 * table is rebuilt without the expired entries; if everything is still live, the insert is
 * refused (LF_ERR_TOO_LARGE) and no rebuild is tried again before the earliest live entry
 * expires, so a full cache costs O(1) per refused request. One mutex guards the table; the
 * digest is computed outside it.
 */
#include "logflux/sign.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "logflux/credentials.h"
#include "logflux/crypto.h"

#define SIGN_INFO   "logflux request signing v1"
#define NONCE_BYTES 16

/* ---------------- string to sign ---------------- */

static bool is_ows(char c)
{
    return c == ' ' || c == '\t';
}

/* Validate one field and append it (trimmed of optional whitespace if `trim`) with a case
 * mapping: 'U' uppercase, 'L' lowercase, 0 as is. `allow_space` admits SP/HTAB inside. */
static lf_err append_field(lf_buf *out, const char *name, const char *v, bool required, bool trim,
                           bool allow_space, char mapping, lf_error *err)
{
    if (v == NULL)
        v = "";
    size_t len = strnlen(v, LF_SIGN_FIELD_MAX + 1);
    if (len > LF_SIGN_FIELD_MAX)
        return lf_error_set(err, LF_ERR_TOO_LARGE, "sign: %s longer than %d bytes", name,
                            LF_SIGN_FIELD_MAX);
    const char *start = v, *end = v + len;
    if (trim) {
        while (start < end && is_ows(*start))
            start++;
        while (end > start && is_ows(end[-1]))
            end--;
    }
    if (required && start == end)
        return lf_error_set(err, LF_ERR_INVALID, "sign: %s is empty", name);
    if (lf_buf_reserve(out, (size_t)(end - start) + 1) != LF_OK)
        return lf_error_set(err, LF_ERR_NOMEM, "sign: out of memory");
    for (const char *p = start; p < end; p++) {
        unsigned char c = (unsigned char)*p;
        bool space = c == ' ' || c == '\t';
        if ((c < 0x20 && c != '\t') || c == 0x7f || (space && !allow_space))
            return lf_error_set(err, LF_ERR_INVALID,
                                "sign: %s has a control or space character at offset %zu", name,
                                (size_t)(p - v));
        if (mapping == 'U' && c >= 'a' && c <= 'z')
            c = (unsigned char)(c - 32);
        else if (mapping == 'L' && c >= 'A' && c <= 'Z')
            c = (unsigned char)(c + 32);
        out->data[out->len++] = c;
    }
    return LF_OK;
}

static lf_err check_nonce(const char *nonce, lf_error *err)
{
    if (nonce == NULL || strnlen(nonce, LF_AUTH_NONCE_LEN + 1) != LF_AUTH_NONCE_LEN)
        return lf_error_set(err, LF_ERR_INVALID, "sign: nonce must be %d characters",
                            LF_AUTH_NONCE_LEN);
    lf_buf raw = LF_BUF_INIT;
    lf_err rc = lf_base64_decode(nonce, LF_AUTH_NONCE_LEN, &raw, true, NULL);
    if (rc == LF_OK && raw.len != NONCE_BYTES)
        rc = LF_ERR_INVALID;
    lf_buf_free(&raw);
    if (rc != LF_OK)
        return lf_error_set(err, LF_ERR_INVALID, "sign: nonce is not URL-safe base64 of 16 bytes");
    return LF_OK;
}

lf_err lf_sign_string_to_sign(const lf_sign_request *req, int64_t timestamp, const char *nonce,
                              lf_buf *out, lf_error *err)
{
    if (timestamp < 0)
        return lf_error_set(err, LF_ERR_INVALID, "sign: negative timestamp");
    lf_err rc = check_nonce(nonce, err);
    if (rc != LF_OK)
        return rc;
    if (req->path == NULL || req->path[0] != '/' || strchr(req->path, '?') != NULL)
        return lf_error_set(err, LF_ERR_INVALID, "sign: path must start with '/' and hold no '?'");
    if (req->body == NULL && req->body_len > 0 && req->body_sha256 == NULL)
        return lf_error_set(err, LF_ERR_INVALID, "sign: body missing");

    uint8_t digest[LF_SHA256_LEN];
    if (req->body_sha256 != NULL)
        memcpy(digest, req->body_sha256, sizeof digest);
    else if ((rc = lf_sha256(req->body, req->body_len, digest, err)) != LF_OK)
        return rc;
    char hex[2 * LF_SHA256_LEN + 1];
    lf_hex_encode(digest, sizeof digest, hex);

    size_t start = out->len;
    if (lf_buf_printf(out, LF_SIGN_SCHEME "\n%lld\n%s\n", (long long)timestamp, nonce) != LF_OK)
        rc = lf_error_set(err, LF_ERR_NOMEM, "sign: out of memory");
    /* Each field: validate and append, then the separator. */
    struct {
        const char *name, *value;
        bool required, trim, space;
        char map;
    } fields[] = {
        {"method", req->method, true, false, false, 'U'},
        {"path", req->path, true, false, false, 0},
        {"query", req->query, false, false, false, 0},
        {"host", req->host, true, true, false, 'L'},
        {"content type", req->content_type, false, true, true, 0},
        {"idempotency key", req->idempotency_key, false, true, false, 0},
    };
    for (size_t i = 0; rc == LF_OK && i < sizeof fields / sizeof *fields; i++) {
        rc = append_field(out, fields[i].name, fields[i].value, fields[i].required, fields[i].trim,
                          fields[i].space, fields[i].map, err);
        if (rc == LF_OK && lf_buf_append_u8(out, '\n') != LF_OK)
            rc = lf_error_set(err, LF_ERR_NOMEM, "sign: out of memory");
    }
    if (rc == LF_OK && lf_buf_append(out, hex, 2 * LF_SHA256_LEN) != LF_OK)
        rc = lf_error_set(err, LF_ERR_NOMEM, "sign: out of memory");
    if (rc != LF_OK)
        out->len = start;
    return rc;
}

lf_err lf_sign_derive_key(const char *api_key, size_t len, uint8_t out[LF_SIGN_KEY_LEN],
                          lf_error *err)
{
    if (api_key == NULL || len == 0)
        return lf_error_set(err, LF_ERR_INVALID, "sign: empty API key");
    return lf_hkdf_sha256(api_key, len, NULL, 0, SIGN_INFO, strlen(SIGN_INFO), out, LF_SIGN_KEY_LEN,
                          err);
}

lf_err lf_sign_compute(const uint8_t signing_key[LF_SIGN_KEY_LEN], const lf_sign_request *req,
                       int64_t timestamp, const char *nonce, uint8_t out[32], lf_error *err)
{
    lf_buf sts = LF_BUF_INIT;
    lf_err rc = lf_sign_string_to_sign(req, timestamp, nonce, &sts, err);
    if (rc == LF_OK)
        rc = lf_hmac_sha256(signing_key, LF_SIGN_KEY_LEN, sts.data, sts.len, out, err);
    lf_buf_free(&sts);
    return rc;
}

lf_err lf_sign_authorization_with_key(const char *credential,
                                      const uint8_t signing_key[LF_SIGN_KEY_LEN],
                                      const lf_sign_request *req, int64_t timestamp,
                                      const char *nonce, lf_buf *out, lf_error *err)
{
    lf_credential_id id;
    if (credential == NULL ||
        lf_credential_id_parse(credential, strlen(credential), &id, NULL) != LF_OK)
        return lf_error_set(err, LF_ERR_INVALID, "sign: malformed credential id");
    char fresh[LF_AUTH_NONCE_LEN + 1];
    if (nonce == NULL) {
        uint8_t raw[NONCE_BYTES];
        lf_err rc = lf_random(raw, sizeof raw, err);
        if (rc != LF_OK)
            return rc;
        lf_base64_encode(raw, sizeof raw, fresh, true);
        nonce = fresh;
    }
    uint8_t sig[32];
    lf_err rc = lf_sign_compute(signing_key, req, timestamp, nonce, sig, err);
    if (rc != LF_OK)
        return rc;
    char hex[65];
    lf_hex_encode(sig, sizeof sig, hex);
    size_t start = out->len;
    if (lf_buf_printf(out, LF_SIGN_SCHEME " Credential=%s, Timestamp=%lld, Nonce=%s, Signature=%s",
                      id.text, (long long)timestamp, nonce, hex) != LF_OK ||
        lf_buf_terminate(out) != LF_OK) {
        out->len = start;
        return lf_error_set(err, LF_ERR_NOMEM, "sign: out of memory");
    }
    return LF_OK;
}

lf_err lf_sign_authorization(const char *api_key, size_t api_key_len, const lf_sign_request *req,
                             int64_t timestamp, const char *nonce, lf_buf *out, lf_error *err)
{
    lf_credential cred;
    if (api_key == NULL || lf_credential_parse(api_key, api_key_len, &cred, NULL) != LF_OK)
        return lf_error_set(err, LF_ERR_INVALID, "sign: malformed API key");
    uint8_t key[LF_SIGN_KEY_LEN];
    lf_err rc = lf_sign_derive_key(api_key, api_key_len, key, err);
    if (rc == LF_OK)
        rc = lf_sign_authorization_with_key(cred.pub.text, key, req, timestamp, nonce, out, err);
    lf_wipe(key, sizeof key);
    lf_wipe(&cred, sizeof cred);
    return rc;
}

/* ---------------- replay cache ---------------- */

typedef struct replay_slot {
    uint8_t digest[16];
    int64_t expires;
    bool used; /* false = never used (ends a probe); true with expires <= now = tombstone */
} replay_slot;

struct lf_replay_cache {
    pthread_mutex_t lock;
    replay_slot *slots;
    size_t mask;     /* slot count − 1 */
    size_t capacity; /* most used slots (live or tombstone) before a rebuild */
    size_t used;
    int64_t rebuild_not_before; /* a full rebuild cannot free anything before this time */
    uint8_t secret[32];         /* keys the digest, so clients cannot aim at one probe chain */
};

lf_err lf_replay_cache_new(size_t capacity, lf_replay_cache **out, lf_error *err)
{
    if (capacity < 1 || capacity > LF_REPLAY_CAPACITY_MAX)
        return lf_error_set(err, LF_ERR_INVALID, "replay cache: capacity %zu outside 1..%u",
                            capacity, LF_REPLAY_CAPACITY_MAX);
    lf_replay_cache *c = calloc(1, sizeof *c);
    if (c == NULL)
        return lf_error_set(err, LF_ERR_NOMEM, "replay cache: out of memory");
    size_t slots = 2;
    while (slots < 2 * capacity)
        slots *= 2;
    c->slots = calloc(slots, sizeof *c->slots);
    lf_err rc = c->slots == NULL ? lf_error_set(err, LF_ERR_NOMEM, "replay cache: out of memory")
                                 : lf_random(c->secret, sizeof c->secret, err);
    if (rc == LF_OK && pthread_mutex_init(&c->lock, NULL) != 0)
        rc = lf_error_set(err, LF_ERR_NOMEM, "replay cache: mutex initialisation failed");
    if (rc != LF_OK) {
        free(c->slots);
        free(c);
        return rc;
    }
    c->mask = slots - 1;
    c->capacity = capacity;
    c->rebuild_not_before = INT64_MIN;
    *out = c;
    return LF_OK;
}

void lf_replay_cache_free(lf_replay_cache *c)
{
    if (c == NULL)
        return;
    pthread_mutex_destroy(&c->lock);
    free(c->slots);
    lf_wipe(c->secret, sizeof c->secret);
    free(c);
}

static size_t slot_index(const lf_replay_cache *c, const uint8_t digest[16])
{
    return (size_t)lf_load_be64(digest) & c->mask;
}

/* Rebuild without expired entries. Caller holds the lock. */
static lf_err rebuild(lf_replay_cache *c, int64_t now, lf_error *err)
{
    replay_slot *fresh = calloc(c->mask + 1, sizeof *fresh);
    if (fresh == NULL)
        return lf_error_set(err, LF_ERR_NOMEM, "replay cache: out of memory while purging");
    size_t used = 0;
    int64_t earliest = INT64_MAX;
    for (size_t i = 0; i <= c->mask; i++) {
        const replay_slot *s = &c->slots[i];
        if (!s->used || s->expires <= now)
            continue;
        size_t j = slot_index(c, s->digest);
        while (fresh[j].used)
            j = (j + 1) & c->mask;
        fresh[j] = *s;
        used++;
        if (s->expires < earliest)
            earliest = s->expires;
    }
    free(c->slots);
    c->slots = fresh;
    c->used = used;
    /* Nothing can expire before the earliest live expiry, so a full table stays full until
     * then and a new rebuild would be wasted work. */
    c->rebuild_not_before = used >= c->capacity ? earliest : INT64_MIN;
    return LF_OK;
}

/* Find the digest or the slot to insert it in. Caller holds the lock. */
static replay_slot *probe(lf_replay_cache *c, const uint8_t digest[16], int64_t now, bool *found)
{
    size_t i = slot_index(c, digest);
    replay_slot *tombstone = NULL;
    for (;;) {
        replay_slot *s = &c->slots[i];
        if (!s->used) {
            *found = false;
            return tombstone != NULL ? tombstone : s;
        }
        if (memcmp(s->digest, digest, 16) == 0) {
            *found = s->expires > now;
            return s; /* an expired copy of the same key is simply refreshed */
        }
        if (tombstone == NULL && s->expires <= now)
            tombstone = s;
        i = (i + 1) & c->mask;
    }
}

lf_err lf_replay_cache_check_and_insert(lf_replay_cache *c, const char *credential,
                                        const char *nonce, int64_t now, lf_error *err)
{
    if (credential == NULL || nonce == NULL)
        return lf_error_set(err, LF_ERR_INVALID, "replay cache: credential or nonce missing");
    size_t cl = strnlen(credential, LF_AUTH_CREDENTIAL_MAX + 1);
    size_t nl = strnlen(nonce, LF_AUTH_NONCE_LEN + 1);
    if (cl > LF_AUTH_CREDENTIAL_MAX || nl > LF_AUTH_NONCE_LEN)
        return lf_error_set(err, LF_ERR_INVALID, "replay cache: credential or nonce too long");
    uint8_t material[32 + LF_AUTH_CREDENTIAL_MAX + 1 + LF_AUTH_NONCE_LEN];
    memcpy(material, c->secret, 32);
    memcpy(material + 32, credential, cl);
    material[32 + cl] = 0; /* separator: no credential/nonce split is ambiguous */
    memcpy(material + 33 + cl, nonce, nl);
    uint8_t full[LF_SHA256_LEN], digest[16];
    lf_err rc = lf_sha256(material, 33 + cl + nl, full, err);
    lf_wipe(material, 32);
    if (rc != LF_OK)
        return rc;
    memcpy(digest, full, sizeof digest);

    pthread_mutex_lock(&c->lock);
    bool found = false;
    replay_slot *s = probe(c, digest, now, &found);
    if (found) {
        rc = lf_error_set(err, LF_ERR_REPLAY, "replay cache: nonce already used");
    } else if (!s->used && c->used >= c->capacity) {
        /* No tombstone on the path and no room: purge expired entries if any can exist. */
        if (now < c->rebuild_not_before)
            rc = lf_error_set(err, LF_ERR_TOO_LARGE, "replay cache: full of live nonces");
        else if ((rc = rebuild(c, now, err)) == LF_OK) {
            s = probe(c, digest, now, &found);
            if (c->used >= c->capacity && !s->used)
                rc = lf_error_set(err, LF_ERR_TOO_LARGE, "replay cache: full of live nonces");
        }
    }
    if (rc == LF_OK) {
        if (!s->used)
            c->used++;
        memcpy(s->digest, digest, sizeof digest);
        s->used = true;
        s->expires = now > INT64_MAX - LF_SIGN_REPLAY_TTL ? INT64_MAX : now + LF_SIGN_REPLAY_TTL;
    }
    pthread_mutex_unlock(&c->lock);
    return rc;
}

size_t lf_replay_cache_size(lf_replay_cache *c, int64_t now)
{
    size_t live = 0;
    pthread_mutex_lock(&c->lock);
    for (size_t i = 0; i <= c->mask; i++)
        if (c->slots[i].used && c->slots[i].expires > now)
            live++;
    pthread_mutex_unlock(&c->lock);
    return live;
}

/* ---------------- verification ---------------- */

lf_err lf_sign_verify(const lf_auth_hmac *auth, const lf_sign_request *req,
                      const uint8_t signing_key[LF_SIGN_KEY_LEN], int64_t now,
                      lf_replay_cache *cache, lf_error *err)
{
    if (cache == NULL)
        return lf_error_set(err, LF_ERR_INVALID, "sign verify: no replay cache");
    int64_t skew;
    if (__builtin_sub_overflow(now, auth->timestamp, &skew) || skew > LF_SIGN_WINDOW ||
        skew < -LF_SIGN_WINDOW)
        return lf_error_set(err, LF_ERR_EXPIRED, "sign verify: timestamp outside the %d s window",
                            LF_SIGN_WINDOW);
    uint8_t expected[32];
    lf_err rc = lf_sign_compute(signing_key, req, auth->timestamp, auth->nonce, expected, err);
    if (rc != LF_OK)
        return rc;
    bool ok = lf_ct_equal(expected, auth->signature, sizeof expected);
    lf_wipe(expected, sizeof expected);
    if (!ok)
        return lf_error_set(err, LF_ERR_AUTH, "sign verify: signature mismatch");
    return lf_replay_cache_check_and_insert(cache, auth->credential, auth->nonce, now, err);
}

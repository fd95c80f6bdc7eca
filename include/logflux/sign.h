/*
 * sign.h — LF-HMAC-SHA256 request signing (docs/PROTOCOL.md §3.6) and the server's replay
 * cache.
 *
 *   Authorization: LF-HMAC-SHA256 Credential=<id>, Timestamp=<s>, Nonce=<n>, Signature=<hex>
 *
 * The client derives signing_key = HKDF-SHA-256(full API key, salt = empty,
 * "logflux request signing v1") and signs a newline-joined description of the request; the
 * server keeps only signing_key, rebuilds the same string from the request it received,
 * compares in constant time, checks the ±300 s window and remembers (credential, nonce) for
 * 600 s. Server-safe (lf_core): nothing here decrypts.
 */
#ifndef LOGFLUX_SIGN_H
#define LOGFLUX_SIGN_H

#include <stddef.h>
#include <stdint.h>

#include "logflux/auth.h"
#include "logflux/buf.h"
#include "logflux/error.h"

#ifdef __cplusplus
extern "C" {
#endif

#define LF_SIGN_SCHEME         "LF-HMAC-SHA256"
#define LF_SIGN_KEY_LEN        32
#define LF_SIGN_WINDOW         300   /* seconds either side of the server's clock */
#define LF_SIGN_REPLAY_TTL     600   /* seconds a (credential, nonce) is remembered */
#define LF_SIGN_FIELD_MAX      16384 /* longest method/path/query/host/header value we sign */
#define LF_REPLAY_CAPACITY_MAX (1u << 24)

/* The parts of an HTTP request that are signed. All strings are borrowed, NUL-terminated and
 * taken as sent (no normalisation besides uppercasing the method and lowercasing the host).
 * A field containing a control character (CR, LF, NUL, …) cannot be signed: LF_ERR_INVALID. */
typedef struct lf_sign_request {
    const char *method;          /* "POST" */
    const char *path;            /* "/v1/ingest": starts with '/', no '?' */
    const char *query;           /* without '?'; NULL or "" when none */
    const char *host;            /* Host header value */
    const char *content_type;    /* NULL when absent */
    const char *idempotency_key; /* X-LF-Idempotency-Key; NULL when absent */
    const uint8_t *body_sha256;  /* 32 bytes if already known, else NULL: body is hashed */
    const void *body;            /* the body bytes as sent (may be NULL when body_len is 0) */
    size_t body_len;
} lf_sign_request;

/* Append the string to sign (10 lines joined by LF, no trailing newline) to `out`.
 * `nonce` must be 22 characters of URL-safe base64 (16 bytes). */
lf_err lf_sign_string_to_sign(const lf_sign_request *req, int64_t timestamp, const char *nonce,
                              lf_buf *out, lf_error *err);

/* signing_key from the full API key (or personal access token) string of `len` bytes. The
 * caller wipes `out`. */
lf_err lf_sign_derive_key(const char *api_key, size_t len, uint8_t out[LF_SIGN_KEY_LEN],
                          lf_error *err);

/* The 32-byte signature over a request with a derived signing key. */
lf_err lf_sign_compute(const uint8_t signing_key[LF_SIGN_KEY_LEN], const lf_sign_request *req,
                       int64_t timestamp, const char *nonce, uint8_t out[32], lf_error *err);

/* Client: append the Authorization header value (without "Authorization: "), NUL-terminated,
 * to `out`. The credential id is taken from the API key's structure (§4). `nonce` NULL = 16
 * fresh random bytes. The key is not kept; derived material is wiped. */
lf_err lf_sign_authorization(const char *api_key, size_t api_key_len, const lf_sign_request *req,
                             int64_t timestamp, const char *nonce, lf_buf *out, lf_error *err);
/* The same with an already derived signing key and credential id text (hot path: derive once
 * per process). */
lf_err lf_sign_authorization_with_key(const char *credential,
                                      const uint8_t signing_key[LF_SIGN_KEY_LEN],
                                      const lf_sign_request *req, int64_t timestamp,
                                      const char *nonce, lf_buf *out, lf_error *err);

/* Server: remembers (credential, nonce) pairs. Thread-safe; bounded to `capacity` live
 * entries (each expires LF_SIGN_REPLAY_TTL seconds after it was recorded); O(1) per lookup. */
typedef struct lf_replay_cache lf_replay_cache;

/* capacity 1..LF_REPLAY_CAPACITY_MAX. Free with lf_replay_cache_free. */
lf_err lf_replay_cache_new(size_t capacity, lf_replay_cache **out, lf_error *err);
void lf_replay_cache_free(lf_replay_cache *c);
/* Record (credential, nonce) at `now` unless it is already recorded and unexpired
 * (LF_ERR_REPLAY). When the cache holds `capacity` live entries it refuses the new one with
 * LF_ERR_TOO_LARGE rather than forget a live nonce (the server answers 503 and the client
 * retries with a new nonce). */
lf_err lf_replay_cache_check_and_insert(lf_replay_cache *c, const char *credential,
                                        const char *nonce, int64_t now, lf_error *err);
/* Live entries at `now`. */
size_t lf_replay_cache_size(lf_replay_cache *c, int64_t now);

/* Server: verify a parsed LF-HMAC-SHA256 header against the request, the credential's stored
 * signing key and the clock, in this order:
 *   LF_ERR_EXPIRED  |now − timestamp| > 300;
 *   LF_ERR_INVALID  malformed nonce or request fields;
 *   LF_ERR_AUTH     signature mismatch (constant-time comparison);
 *   LF_ERR_REPLAY   (credential, nonce) already seen (recorded only after the signature
 *                   verified, so forged requests cannot fill the cache);
 *   LF_ERR_TOO_LARGE the replay cache is full of live entries.
 * The caller has looked `auth->credential` up to find `signing_key` and checks the credential
 * itself (revoked, expired, scope) separately. `cache` is required (LF_ERR_INVALID if NULL). */
lf_err lf_sign_verify(const lf_auth_hmac *auth, const lf_sign_request *req,
                      const uint8_t signing_key[LF_SIGN_KEY_LEN], int64_t now,
                      lf_replay_cache *cache, lf_error *err);

#ifdef __cplusplus
}
#endif
#endif

/*
 * auth.h — the Authorization header, as parsed from outside input.
 *
 * Two schemes (docs/PROTOCOL.md §3.6 and §4):
 *   Authorization: Bearer <api key or personal access token>
 *   Authorization: LF-HMAC-SHA256 Credential=<id>, Timestamp=<s>, Nonce=<n>, Signature=<hex>
 * Parsing is implemented in src/core/auth_header.c; signature checking in src/core/request_sign.c.
 */
#ifndef LOGFLUX_AUTH_H
#define LOGFLUX_AUTH_H

#include <stddef.h>
#include <stdint.h>

#include "logflux/error.h"

#ifdef __cplusplus
extern "C" {
#endif

#define LF_AUTH_CREDENTIAL_MAX 64 /* longest credential id text, without NUL */
#define LF_AUTH_NONCE_LEN      22 /* URL-safe base64 of 16 bytes, no padding */
#define LF_AUTH_BEARER_MAX     512

typedef enum lf_auth_scheme {
    LF_AUTH_NONE = 0,
    LF_AUTH_BEARER,
    LF_AUTH_HMAC,
} lf_auth_scheme;

typedef struct lf_auth_hmac {
    char credential[LF_AUTH_CREDENTIAL_MAX + 1]; /* e.g. "eu-lf_0123456789abcdef" */
    int64_t timestamp;                           /* Unix seconds */
    char nonce[LF_AUTH_NONCE_LEN + 1];
    uint8_t signature[32];
} lf_auth_hmac;

typedef struct lf_auth_header {
    lf_auth_scheme scheme;
    char bearer[LF_AUTH_BEARER_MAX + 1]; /* the token, for LF_AUTH_BEARER */
    lf_auth_hmac hmac;                   /* for LF_AUTH_HMAC */
} lf_auth_header;

/* Parse an Authorization header value (without the "Authorization:" name). Strict: unknown
 * schemes, duplicate or unknown parameters, over-long values and bad encodings are
 * LF_ERR_INVALID with a message that never repeats the token itself. Wipe `out` after use. */
lf_err lf_auth_header_parse(const char *value, size_t len, lf_auth_header *out, lf_error *err);

#ifdef __cplusplus
}
#endif
#endif

/*
 * auth.h — the Authorization header, as parsed from outside input.
 *
 * Two schemes (docs/PROTOCOL.md §3.6 and §4):
 *   Authorization: Bearer <api key or personal access token>
 *   Authorization: LF-HMAC-SHA256 Credential=<id>, Timestamp=<s>, Nonce=<n>, Signature=<hex>
 * Parsing is implemented in src/core/auth_header.c; signature checking in src/core/request_sign.c.
 *
 * Grammar accepted by lf_auth_header_parse (leading and trailing SP/HTAB of the field value are
 * ignored, as HTTP defines field values without them):
 *   Bearer:  scheme "Bearer" (any case), one or more SP, then 1..512 printable non-space ASCII
 *            characters (0x21..0x7e) up to the end.
 *   HMAC:    scheme "LF-HMAC-SHA256" (any case), one or more SP, then exactly the four parameters
 *            Credential, Timestamp, Nonce, Signature (names in any case, any order) as
 *            name=value, separated by ',' with optional SP/HTAB around it. No quoted values, no
 *            empty list elements, no duplicates, no other parameters.
 *              Credential  a credential id text (lf_credential_id_parse)
 *              Timestamp   decimal Unix seconds, no sign, no leading zeros, 0..253402300799
 *                          (9999-12-31T23:59:59Z)
 *              Nonce       22 characters of URL-safe base64 that decode canonically to 16 bytes
 *              Signature   64 lowercase hex digits
 * Every byte is checked within `len`, so an embedded NUL is simply an invalid character.
 */
#ifndef LOGFLUX_AUTH_H
#define LOGFLUX_AUTH_H

#include <stddef.h>
#include <stdint.h>

#include "logflux/credentials.h"
#include "logflux/error.h"

#ifdef __cplusplus
extern "C" {
#endif

#define LF_AUTH_CREDENTIAL_MAX 64 /* longest credential id text, without NUL */
#define LF_AUTH_NONCE_LEN      22 /* URL-safe base64 of 16 bytes, no padding */
#define LF_AUTH_BEARER_MAX     512
#define LF_AUTH_NONCE_BYTES    16
/* Latest Timestamp accepted: 9999-12-31T23:59:59Z. */
#define LF_AUTH_TIMESTAMP_MAX INT64_C(253402300799)

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
    /* Added for the server: the parsed Credential and the decoded Nonce. */
    lf_credential_id credential_id;
    uint8_t nonce_bytes[LF_AUTH_NONCE_BYTES];
} lf_auth_hmac;

typedef struct lf_auth_header {
    lf_auth_scheme scheme;
    char bearer[LF_AUTH_BEARER_MAX + 1]; /* the token, for LF_AUTH_BEARER */
    lf_auth_hmac hmac;                   /* for LF_AUTH_HMAC */
} lf_auth_header;

/* Parse an Authorization header value of `len` bytes (without the "Authorization:" name; no NUL
 * needed). Strict: unknown schemes, duplicate, missing or unknown parameters, over-long values
 * and bad encodings are LF_ERR_INVALID with a message that never repeats the token or any
 * value. On failure `out` is zeroed. The bearer token is a secret: wipe `out` (lf_wipe) after
 * use. */
lf_err lf_auth_header_parse(const char *value, size_t len, lf_auth_header *out, lf_error *err);

#ifdef __cplusplus
}
#endif
#endif

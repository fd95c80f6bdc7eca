/*
 * error.h — the one error type of liblogflux.
 *
 * Every fallible function returns an lf_err and, when the caller passes a non-NULL lf_error,
 * fills it with a human-readable message that carries context ("multipart: part 3 header line
 * exceeds 8192 bytes"). Messages never contain key material, secrets or payload bytes.
 */
#ifndef LOGFLUX_ERROR_H
#define LOGFLUX_ERROR_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum lf_err {
    LF_OK = 0,
    LF_ERR_INVALID,     /* malformed or out-of-range input */
    LF_ERR_TOO_LARGE,   /* input exceeds a documented limit */
    LF_ERR_NOMEM,       /* allocation failed */
    LF_ERR_CRYPTO,      /* the crypto library failed (not an input problem) */
    LF_ERR_AUTH,        /* authentication failed: bad GCM tag, bad signature, bad credential */
    LF_ERR_EXPIRED,     /* credential or timestamp outside its validity window */
    LF_ERR_REPLAY,      /* request nonce seen before */
    LF_ERR_SCOPE,       /* credential lacks the required scope */
    LF_ERR_UNSUPPORTED, /* valid but not supported (version, algorithm, entry type) */
    LF_ERR_TRUNCATED,   /* input ended early */
    LF_ERR_PASSPHRASE,  /* private key could not be decrypted with the given passphrase */
    LF_ERR_IO,          /* file or system call failed */
    LF_ERR_NOT_FOUND,   /* named thing does not exist */
    LF_ERR_FULL,        /* bounded storage is full: retry later (HTTP 503/507) */
    LF_ERR_CONFLICT,    /* exists already with different content */
    LF_ERR__COUNT
} lf_err;

/* Static English description of an error code. Never NULL. */
const char *lf_strerror(lf_err code);

#define LF_ERROR_MSG_MAX 256

/* Caller-owned error detail. Zero-initialise or leave it; functions overwrite it on failure. */
typedef struct lf_error {
    lf_err code;
    char message[LF_ERROR_MSG_MAX];
} lf_error;

/* Record an error (printf-style message) in err (may be NULL) and return code. */
lf_err lf_error_set(lf_error *err, lf_err code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#ifdef __cplusplus
}
#endif
#endif

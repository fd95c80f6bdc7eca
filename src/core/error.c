/*
 * error.c — lf_err descriptions and the lf_error message recorder.
 */
#include "logflux/error.h"

#include <stdarg.h>
#include <stdio.h>

static const char *const error_names[LF_ERR__COUNT] = {
    [LF_OK] = "success",
    [LF_ERR_INVALID] = "invalid input",
    [LF_ERR_TOO_LARGE] = "input exceeds a limit",
    [LF_ERR_NOMEM] = "out of memory",
    [LF_ERR_CRYPTO] = "cryptographic library failure",
    [LF_ERR_AUTH] = "authentication failed",
    [LF_ERR_EXPIRED] = "expired or outside the allowed time window",
    [LF_ERR_REPLAY] = "replayed request",
    [LF_ERR_SCOPE] = "insufficient scope",
    [LF_ERR_UNSUPPORTED] = "unsupported",
    [LF_ERR_TRUNCATED] = "input truncated",
    [LF_ERR_PASSPHRASE] = "wrong passphrase",
    [LF_ERR_IO] = "I/O error",
    [LF_ERR_NOT_FOUND] = "not found",
    [LF_ERR_FULL] = "storage full",
    [LF_ERR_CONFLICT] = "conflicts with an existing record",
};

const char *lf_strerror(lf_err code)
{
    if ((int)code < 0 || code >= LF_ERR__COUNT || error_names[code] == NULL)
        return "unknown error";
    return error_names[code];
}

lf_err lf_error_set(lf_error *err, lf_err code, const char *fmt, ...)
{
    if (err != NULL) {
        err->code = code;
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->message, sizeof err->message, fmt, ap);
        va_end(ap);
    }
    return code;
}

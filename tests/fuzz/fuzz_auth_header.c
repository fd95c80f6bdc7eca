/*
 * fuzz_auth_header.c — libFuzzer target for lf_auth_header_parse (outside input: every request's
 * Authorization header). Besides memory safety it checks the parser's promises: a success has
 * a scheme and self-consistent fields (token length and alphabet, a credential id text that
 * re-parses, a timestamp in range), and a failure leaves the output zeroed.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "logflux/auth.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    lf_auth_header h;
    lf_error err;
    /* An exact-size copy so ASan catches any read past `size`. */
    char *copy = malloc(size ? size : 1);
    if (copy == NULL)
        return 0;
    memcpy(copy, data, size);
    lf_err rc = lf_auth_header_parse(copy, size, &h, &err);
    if (rc == LF_OK) {
        if (h.scheme == LF_AUTH_BEARER) {
            size_t n = strlen(h.bearer);
            if (n == 0 || n > LF_AUTH_BEARER_MAX)
                abort();
            for (size_t i = 0; i < n; i++)
                if ((unsigned char)h.bearer[i] < 0x21 || (unsigned char)h.bearer[i] > 0x7e)
                    abort();
        } else if (h.scheme == LF_AUTH_HMAC) {
            lf_credential_id id;
            if (lf_credential_id_parse(h.hmac.credential, strlen(h.hmac.credential), &id, NULL) !=
                    LF_OK ||
                strcmp(id.text, h.hmac.credential) != 0)
                abort();
            if (h.hmac.timestamp < 0 || h.hmac.timestamp > LF_AUTH_TIMESTAMP_MAX)
                abort();
            if (strlen(h.hmac.nonce) != LF_AUTH_NONCE_LEN)
                abort();
        } else {
            abort();
        }
    } else {
        if (rc != LF_ERR_INVALID || h.scheme != LF_AUTH_NONE || h.bearer[0] != '\0' ||
            err.message[0] == '\0')
            abort();
    }
    free(copy);
    return 0;
}

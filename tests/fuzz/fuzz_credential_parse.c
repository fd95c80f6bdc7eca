/*
 * fuzz_credential_parse.c — libFuzzer target for lf_credential_parse and
 * lf_credential_id_parse (outside input: bearer tokens, handshake bodies, Credential=). Checks
 * memory safety and the parser's promises: on success the secret is a span at the end of the
 * input, the id text re-parses to the same public half and prefixes the input (or, for opaque
 * keys, the id is the SHA-256 prefix), and the verifier can be computed; a failure leaves the
 * output zeroed.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "logflux/buf.h"
#include "logflux/credentials.h"
#include "logflux/crypto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = malloc(size ? size : 1);
    if (s == NULL)
        return 0;
    memcpy(s, data, size);
    lf_credential c;
    lf_error err;
    if (lf_credential_parse(s, size, &c, &err) == LF_OK) {
        if (c.secret == NULL || c.secret < s || c.secret + c.secret_len != s + size)
            abort();
        lf_credential_id id;
        if (lf_credential_id_parse(c.pub.text, strlen(c.pub.text), &id, NULL) != LF_OK ||
            id.kind != c.pub.kind || id.region != c.pub.region || strcmp(id.id, c.pub.id) != 0)
            abort();
        if (c.form == LF_CREDENTIAL_FORM_LEGACY_OPAQUE) {
            uint8_t digest[LF_SHA256_LEN];
            char hex[2 * LF_SHA256_LEN + 1];
            if (lf_sha256(s, size, digest, NULL) != LF_OK)
                abort();
            lf_hex_encode(digest, sizeof digest, hex);
            if (memcmp(hex, c.pub.id, 16) != 0)
                abort();
        } else if (memcmp(s, c.pub.text, strlen(c.pub.text)) != 0) {
            abort();
        }
        uint8_t v[LF_CREDENTIAL_VERIFIER_LEN];
        if (lf_credential_verifier(s, size, v, NULL) != LF_OK)
            abort();
    } else if (c.secret != NULL || c.pub.text[0] != '\0' || err.message[0] == '\0') {
        abort();
    }
    lf_credential_id id;
    if (lf_credential_id_parse(s, size, &id, NULL) == LF_OK &&
        (size != strlen(id.text) || memcmp(s, id.text, size) != 0))
        abort();
    free(s);
    return 0;
}

/*
 * fuzz_pubkey_pem.c — libFuzzer target for lf_pubkey_from_pem, the parser the server runs on
 * customer-supplied public keys (key registration) and clients run on keys a server hands out.
 *
 * Two modes, chosen by the first byte: odd = the rest is PEM text as received; even = the rest
 * is DER, wrapped here in a correct "PUBLIC KEY" armour, so that mutations reach the ASN.1
 * decoding and the key checks instead of dying in base64.
 *
 * Any input must either be refused with an lf_err or give a key whose DER, PEM and fingerprint
 * can be produced and whose PEM parses back to the same DER (what is stored is what was
 * checked).
 */
#include <stdlib.h>
#include <string.h>

#include "logflux/crypto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Armour DER as a PEM block with 64-character lines. */
static void armour(const uint8_t *der, size_t len, lf_buf *out)
{
    char *b64 = malloc(lf_base64_encoded_len(len, false) + 1);
    if (b64 == NULL)
        abort();
    size_t n = lf_base64_encode(der, len, b64, false);
    lf_buf_append_str(out, "-----BEGIN PUBLIC KEY-----\n");
    for (size_t off = 0; off < n; off += 64) {
        lf_buf_append(out, b64 + off, n - off < 64 ? n - off : 64);
        lf_buf_append_u8(out, '\n');
    }
    lf_buf_append_str(out, "-----END PUBLIC KEY-----\n");
    free(b64);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    lf_buf input = LF_BUF_INIT;
    if (data[0] & 1)
        lf_buf_append(&input, data + 1, size - 1);
    else
        armour(data + 1, size - 1, &input);

    lf_pubkey *key = NULL;
    lf_err rc = lf_pubkey_from_pem((const char *)input.data, input.len, &key, NULL);
    lf_buf_free(&input);
    if (rc != LF_OK) {
        if (key != NULL)
            abort(); /* a failed parse must not hand out a key */
        return 0;
    }
    lf_buf der = LF_BUF_INIT, pem = LF_BUF_INIT, der2 = LF_BUF_INIT;
    char fp[LF_FINGERPRINT_STR_LEN];
    lf_pubkey *again = NULL;
    int bits = lf_pubkey_bits(key);
    if (bits < 2048 || bits > 16384 || lf_pubkey_to_der(key, &der, NULL) != LF_OK ||
        lf_pubkey_to_pem(key, &pem, NULL) != LF_OK ||
        lf_pubkey_fingerprint(key, fp, NULL) != LF_OK || strncmp(fp, "SHA256:", 7) != 0 ||
        lf_pubkey_from_pem((const char *)pem.data, pem.len, &again, NULL) != LF_OK ||
        lf_pubkey_to_der(again, &der2, NULL) != LF_OK || der.len != der2.len ||
        memcmp(der.data, der2.data, der.len) != 0)
        abort();
    lf_pubkey_free(again);
    lf_pubkey_free(key);
    lf_buf_free(&der);
    lf_buf_free(&der2);
    lf_buf_free(&pem);
    return 0;
}

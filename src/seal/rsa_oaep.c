/*
 * rsa_oaep.c — session-key wrapping with RSA-OAEP (SHA-256 digest, MGF1-SHA-256, empty label).
 *
 * PROTOCOL.md §1.1: each client session key (32 random bytes) is wrapped for the customer's
 * public key; the wrapped key travels in the handshake (v3) or in a key frame (native) and only
 * the customer's tools can unwrap it. These are exactly the parameters of Node's
 * crypto.publicEncrypt({padding: RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256'}) and of the v3
 * SDKs, so keys wrapped anywhere unwrap here and the other way round.
 *
 * Both directions live in src/seal: the server has no reason to wrap, and unwrapping must never
 * be linked into it (DESIGN.md §2, invariant 6).
 *
 * Length rules: a k-byte modulus carries at most k - 2*32 - 2 secret bytes (446 for RSA-4096),
 * and a wrapped value is exactly k bytes; anything else is refused before OpenSSL sees it. Any
 * failure to unwrap a correctly sized value is LF_ERR_AUTH: OAEP decoding failure, a value above
 * the modulus and a tampered byte must look the same to the caller.
 */
#include "pubkey_internal.h"

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>

#define OAEP_OVERHEAD (2 * LF_SHA256_LEN + 2)

static const uint8_t empty_secret[1] = {0};

/* Set the OAEP parameters on a context already initialised for encrypt or decrypt. */
static int oaep_params(EVP_PKEY_CTX *ctx)
{
    return EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_OAEP_PADDING) == 1 &&
           EVP_PKEY_CTX_set_rsa_oaep_md(ctx, EVP_sha256()) == 1 &&
           EVP_PKEY_CTX_set_rsa_mgf1_md(ctx, EVP_sha256()) == 1;
}

lf_err lf_rsa_wrap(const lf_pubkey *key, const uint8_t *secret, size_t secret_len, lf_buf *out,
                   lf_error *err)
{
    if (key == NULL || out == NULL || (secret == NULL && secret_len > 0))
        return lf_error_set(err, LF_ERR_INVALID, "rsa-oaep: NULL argument");
    int k = EVP_PKEY_get_size(key->pkey);
    if (k <= OAEP_OVERHEAD)
        return lf_error_set(err, LF_ERR_INVALID, "rsa-oaep: key too small");
    if (secret_len > (size_t)(k - OAEP_OVERHEAD))
        return lf_error_set(err, LF_ERR_TOO_LARGE,
                            "rsa-oaep: secret of %zu bytes exceeds %d for a %d-bit key", secret_len,
                            k - OAEP_OVERHEAD, EVP_PKEY_get_bits(key->pkey));
    if (lf_buf_reserve(out, (size_t)k) != LF_OK)
        return lf_error_set(err, LF_ERR_NOMEM, "rsa-oaep: out of memory");

    lf_err rc = LF_OK;
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, key->pkey, NULL);
    size_t out_len = (size_t)k;
    if (ctx == NULL || EVP_PKEY_encrypt_init(ctx) != 1 || !oaep_params(ctx) ||
        EVP_PKEY_encrypt(ctx, out->data + out->len, &out_len,
                         secret != NULL ? secret : empty_secret, secret_len) != 1 ||
        out_len != (size_t)k) {
        ERR_clear_error();
        rc = lf_error_set(err, LF_ERR_CRYPTO, "rsa-oaep: wrap failed");
    } else {
        out->len += out_len;
    }
    EVP_PKEY_CTX_free(ctx);
    return rc;
}

lf_err lf_rsa_unwrap(const lf_privkey *key, const uint8_t *wrapped, size_t wrapped_len, lf_buf *out,
                     lf_error *err)
{
    if (key == NULL || out == NULL || wrapped == NULL)
        return lf_error_set(err, LF_ERR_INVALID, "rsa-oaep: NULL argument");
    int k = EVP_PKEY_get_size(key->pkey);
    if (k <= OAEP_OVERHEAD || wrapped_len != (size_t)k)
        return lf_error_set(err, LF_ERR_INVALID,
                            "rsa-oaep: wrapped key of %zu bytes, expected %d for this key",
                            wrapped_len, k);

    /* Decrypt straight into out's spare room, so the secret is never copied (and no
     * unwiped copy is left behind by a buffer reallocation). */
    if (lf_buf_reserve(out, (size_t)k) != LF_OK)
        return lf_error_set(err, LF_ERR_NOMEM, "rsa-oaep: out of memory");
    uint8_t *dst = out->data + out->len;
    size_t secret_len = (size_t)k;
    lf_err rc = LF_OK;
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, key->pkey, NULL);
    if (ctx == NULL || EVP_PKEY_decrypt_init(ctx) != 1 || !oaep_params(ctx)) {
        rc = lf_error_set(err, LF_ERR_CRYPTO, "rsa-oaep: cannot set up OAEP");
    } else if (EVP_PKEY_decrypt(ctx, dst, &secret_len, wrapped, wrapped_len) != 1 ||
               secret_len > (size_t)(k - OAEP_OVERHEAD)) {
        lf_wipe(dst, (size_t)k);
        rc = lf_error_set(err, LF_ERR_AUTH, "rsa-oaep: unwrap failed (wrong key or tampered)");
    } else {
        out->len += secret_len;
    }
    if (rc != LF_OK)
        ERR_clear_error();
    EVP_PKEY_CTX_free(ctx);
    return rc;
}

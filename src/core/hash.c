/*
 * hash.c — SHA-256, HMAC-SHA-256 and HKDF-SHA-256 (RFC 5869) on OpenSSL 3.
 *
 * These are the server-safe primitives: the server uses them for fingerprints, request signing
 * (PROTOCOL.md §3.6), credential verifiers (§4) and body hashes; clients additionally derive the
 * record and search-token keys with HKDF (§3.2, §3.5). Nothing here can decrypt anything.
 *
 * Implementation: one-shot EVP calls (EVP_Digest, EVP_Q_mac) and the provider KDF "HKDF"
 * in its default extract-and-expand mode. OpenSSL's HKDF keeps `info` in a fixed 1024-byte
 * buffer, so we check that bound ourselves and report it as a limit instead of a library failure.
 * On failure the OpenSSL error queue is cleared so that stale entries cannot confuse a later,
 * unrelated caller (TLS code in particular inspects the queue).
 */
#include "logflux/crypto.h"

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/params.h>

/* RFC 5869 §2.3: L <= 255 * HashLen. */
#define HKDF_MAX_OUT (255u * LF_SHA256_LEN)
/* OpenSSL 3.0's HKDF provider refuses info longer than this (HKDF_MAXBUF). */
#define HKDF_MAX_INFO 1024u

/* OpenSSL's one-shot APIs take int or size_t lengths; a NULL pointer with length 0 is not
 * accepted everywhere, so empty inputs point at this byte instead. */
static const uint8_t empty_input[1] = {0};

static const void *nonnull(const void *p)
{
    return p != NULL ? p : empty_input;
}

lf_err lf_sha256(const void *data, size_t len, uint8_t out[LF_SHA256_LEN], lf_error *err)
{
    if (data == NULL && len > 0)
        return lf_error_set(err, LF_ERR_INVALID, "sha256: NULL input of %zu bytes", len);
    unsigned int out_len = 0;
    if (EVP_Digest(nonnull(data), len, out, &out_len, EVP_sha256(), NULL) != 1 ||
        out_len != LF_SHA256_LEN) {
        ERR_clear_error();
        return lf_error_set(err, LF_ERR_CRYPTO, "sha256: digest failed");
    }
    return LF_OK;
}

lf_err lf_hmac_sha256(const void *key, size_t key_len, const void *data, size_t len,
                      uint8_t out[LF_SHA256_LEN], lf_error *err)
{
    if ((key == NULL && key_len > 0) || (data == NULL && len > 0))
        return lf_error_set(err, LF_ERR_INVALID, "hmac-sha256: NULL key or data");
    size_t out_len = 0;
    if (EVP_Q_mac(NULL, "HMAC", NULL, "SHA256", NULL, nonnull(key), key_len, nonnull(data), len,
                  out, LF_SHA256_LEN, &out_len) == NULL ||
        out_len != LF_SHA256_LEN) {
        ERR_clear_error();
        return lf_error_set(err, LF_ERR_CRYPTO, "hmac-sha256: mac computation failed");
    }
    return LF_OK;
}

lf_err lf_hkdf_sha256(const void *ikm, size_t ikm_len, const void *salt, size_t salt_len,
                      const void *info, size_t info_len, uint8_t *out, size_t out_len,
                      lf_error *err)
{
    if (out == NULL || out_len == 0 || out_len > HKDF_MAX_OUT)
        return lf_error_set(err, LF_ERR_INVALID, "hkdf-sha256: output length %zu outside 1..%u",
                            out_len, HKDF_MAX_OUT);
    if ((ikm == NULL && ikm_len > 0) || (salt == NULL && salt_len > 0) ||
        (info == NULL && info_len > 0))
        return lf_error_set(err, LF_ERR_INVALID, "hkdf-sha256: NULL input with non-zero length");
    if (info_len > HKDF_MAX_INFO)
        return lf_error_set(err, LF_ERR_TOO_LARGE, "hkdf-sha256: info of %zu bytes exceeds %u",
                            info_len, HKDF_MAX_INFO);

    lf_err rc = LF_OK;
    EVP_KDF *kdf = EVP_KDF_fetch(NULL, OSSL_KDF_NAME_HKDF, NULL);
    EVP_KDF_CTX *ctx = kdf != NULL ? EVP_KDF_CTX_new(kdf) : NULL;
    if (ctx == NULL) {
        rc = lf_error_set(err, LF_ERR_CRYPTO, "hkdf-sha256: KDF unavailable");
        goto out;
    }
    OSSL_PARAM params[5];
    size_t n = 0;
    params[n++] = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)"SHA256", 0);
    params[n++] =
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, (void *)nonnull(ikm), ikm_len);
    /* An absent salt is, per RFC 5869 §2.2, HashLen zero bytes; OpenSSL does that itself
     * when the parameter is not given. */
    if (salt_len > 0)
        params[n++] =
            OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, (void *)salt, salt_len);
    if (info_len > 0)
        params[n++] =
            OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, (void *)info, info_len);
    params[n] = OSSL_PARAM_construct_end();
    if (EVP_KDF_derive(ctx, out, out_len, params) != 1) {
        lf_wipe(out, out_len);
        rc = lf_error_set(err, LF_ERR_CRYPTO, "hkdf-sha256: derivation failed");
    }
out:
    if (rc != LF_OK)
        ERR_clear_error();
    EVP_KDF_CTX_free(ctx); /* cleanses the copies of ikm and salt it holds */
    EVP_KDF_free(kdf);
    return rc;
}

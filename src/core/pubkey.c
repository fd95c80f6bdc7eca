/*
 * pubkey.c — RSA public keys: strict PEM parsing, DER/PEM export and the SPKI fingerprint.
 *
 * The server parses these when a customer registers a key and hands them to ingesting clients;
 * agents and SDKs parse them to wrap session keys and to check the pinned fingerprint
 * (PROTOCOL.md §1.1). Because the text arrives from outside, parsing is strict and bounded:
 *   - at most LF_PUBKEY_PEM_MAX bytes;
 *   - exactly one "PUBLIC KEY" (SubjectPublicKeyInfo) PEM block, without PEM headers, with
 *     nothing but whitespace around it (a second block or trailing text is refused, so what is
 *     stored is exactly what was checked);
 *   - DER with no trailing bytes, an RSA key (not RSA-PSS), modulus 2048..16384 bits, a sane
 *     public exponent (odd, 3..2^64-1: larger exponents make every wrap slow and OpenSSL refuses
 *     them above 3072 bits anyway).
 * Base64 and ASN.1 decoding are OpenSSL's; tests/fuzz/fuzz_pubkey_pem.c drives this path.
 *
 * The fingerprint is SHA-256 over the DER re-encoding of the key, so equivalent encodings of
 * one key have one fingerprint, the same one Node's createPublicKey().export({type:'spki'})
 * gives.
 */
#include "pubkey_internal.h"

#include <ctype.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdlib.h>
#include <string.h>

/* A 16384-bit SPKI PEM is about 2.9 KB; anything much larger is not a key we accept. */
#define LF_PUBKEY_PEM_MAX 16384

static const char pem_begin[] = "-----BEGIN ";

static bool only_whitespace(const char *p, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (!isspace((unsigned char)p[i]))
            return false;
    return true;
}

lf_err lf_rsa_key_check(const EVP_PKEY *pkey, const char *what, lf_error *err)
{
    if (!EVP_PKEY_is_a(pkey, "RSA") || EVP_PKEY_is_a(pkey, "RSA-PSS"))
        return lf_error_set(err, LF_ERR_UNSUPPORTED, "%s: not an RSA key", what);
    int bits = EVP_PKEY_get_bits(pkey);
    if (bits < LF_RSA_MIN_BITS || bits > LF_RSA_MAX_BITS)
        return lf_error_set(err, LF_ERR_UNSUPPORTED, "%s: RSA modulus of %d bits outside %d..%d",
                            what, bits, LF_RSA_MIN_BITS, LF_RSA_MAX_BITS);
    BIGNUM *n = NULL, *e = NULL;
    lf_err rc = LF_OK;
    if (EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_RSA_N, &n) != 1 ||
        EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_RSA_E, &e) != 1) {
        ERR_clear_error();
        rc = lf_error_set(err, LF_ERR_INVALID, "%s: RSA key without modulus or exponent", what);
    } else if (!BN_is_odd(n)) {
        rc = lf_error_set(err, LF_ERR_INVALID, "%s: RSA modulus is even", what);
    } else if (!BN_is_odd(e) || BN_num_bits(e) < 2 || BN_num_bits(e) > 64) {
        rc = lf_error_set(err, LF_ERR_INVALID, "%s: RSA public exponent out of range", what);
    }
    BN_free(n);
    BN_free(e);
    return rc;
}

static lf_err pubkey_wrap(EVP_PKEY *pkey, lf_pubkey **out, lf_error *err)
{
    lf_pubkey *key = calloc(1, sizeof *key);
    if (key == NULL) {
        EVP_PKEY_free(pkey);
        return lf_error_set(err, LF_ERR_NOMEM, "pubkey: out of memory");
    }
    key->pkey = pkey;
    *out = key;
    return LF_OK;
}

lf_err lf_pubkey_from_evp(const EVP_PKEY *pkey, lf_pubkey **out, lf_error *err)
{
    lf_err rc = lf_rsa_key_check(pkey, "pubkey", err);
    if (rc != LF_OK)
        return rc;
    /* A DER round trip copies exactly the public half, whatever pkey holds. */
    unsigned char *der = NULL;
    int der_len = i2d_PUBKEY((EVP_PKEY *)pkey, &der);
    if (der_len <= 0) {
        ERR_clear_error();
        return lf_error_set(err, LF_ERR_CRYPTO, "pubkey: cannot encode public key");
    }
    const unsigned char *p = der;
    EVP_PKEY *pub = d2i_PUBKEY(NULL, &p, der_len);
    OPENSSL_free(der);
    if (pub == NULL) {
        ERR_clear_error();
        return lf_error_set(err, LF_ERR_CRYPTO, "pubkey: cannot decode own encoding");
    }
    return pubkey_wrap(pub, out, err);
}

/* Parse the single PEM block of text into its DER body; checks framing only. */
static lf_err pem_read_public_block(const char *pem, size_t pem_len, unsigned char **der,
                                    long *der_len, lf_error *err)
{
    size_t lead = 0;
    while (lead < pem_len && isspace((unsigned char)pem[lead]))
        lead++;
    if (pem_len - lead < sizeof pem_begin - 1 ||
        memcmp(pem + lead, pem_begin, sizeof pem_begin - 1) != 0)
        return lf_error_set(err, LF_ERR_INVALID, "pubkey: text does not start with a PEM block");

    BIO *bio = BIO_new_mem_buf(pem, (int)pem_len);
    if (bio == NULL)
        return lf_error_set(err, LF_ERR_NOMEM, "pubkey: out of memory");
    char *name = NULL, *header = NULL;
    lf_err rc = LF_OK;
    if (PEM_read_bio(bio, &name, &header, der, der_len) != 1) {
        rc = lf_error_set(err, LF_ERR_INVALID, "pubkey: malformed PEM");
        goto out;
    }
    if (strcmp(name, "PUBLIC KEY") != 0) {
        /* The label is outside input: say what kind it is, never echo it. */
        rc = lf_error_set(err, LF_ERR_INVALID, "%s",
                          strstr(name, "PRIVATE") != NULL
                              ? "pubkey: a private key was given; expected PUBLIC KEY"
                              : "pubkey: PEM block is not a PUBLIC KEY");
        goto out;
    }
    if (header[0] != '\0') {
        rc = lf_error_set(err, LF_ERR_INVALID, "pubkey: PEM headers are not allowed");
        goto out;
    }
    char *rest = NULL;
    long rest_len = BIO_get_mem_data(bio, &rest);
    if (rest_len > 0 && !only_whitespace(rest, (size_t)rest_len)) {
        rc = lf_error_set(err, LF_ERR_INVALID, "pubkey: unexpected text after the PEM block");
        goto out;
    }
out:
    if (rc != LF_OK) {
        OPENSSL_free(*der);
        *der = NULL;
    }
    OPENSSL_free(name);
    OPENSSL_free(header);
    BIO_free(bio);
    return rc;
}

lf_err lf_pubkey_from_pem(const char *pem, size_t pem_len, lf_pubkey **out, lf_error *err)
{
    if (out == NULL || (pem == NULL && pem_len > 0))
        return lf_error_set(err, LF_ERR_INVALID, "pubkey: NULL argument");
    *out = NULL;
    if (pem_len == 0)
        return lf_error_set(err, LF_ERR_INVALID, "pubkey: empty PEM");
    if (pem_len > LF_PUBKEY_PEM_MAX)
        return lf_error_set(err, LF_ERR_TOO_LARGE, "pubkey: PEM of %zu bytes exceeds %d", pem_len,
                            LF_PUBKEY_PEM_MAX);

    unsigned char *der = NULL;
    long der_len = 0;
    lf_err rc = pem_read_public_block(pem, pem_len, &der, &der_len, err);
    if (rc != LF_OK) {
        ERR_clear_error();
        return rc;
    }
    const unsigned char *p = der;
    EVP_PKEY *pkey = d2i_PUBKEY(NULL, &p, der_len);
    if (pkey == NULL) {
        rc = lf_error_set(err, LF_ERR_INVALID, "pubkey: not a valid SubjectPublicKeyInfo");
    } else if (p != der + der_len) {
        rc = lf_error_set(err, LF_ERR_INVALID, "pubkey: trailing bytes after the key");
    } else {
        rc = lf_rsa_key_check(pkey, "pubkey", err);
    }
    OPENSSL_free(der);
    if (rc != LF_OK) {
        EVP_PKEY_free(pkey);
        ERR_clear_error();
        return rc;
    }
    return pubkey_wrap(pkey, out, err);
}

lf_err lf_pubkey_to_der(const lf_pubkey *key, lf_buf *out, lf_error *err)
{
    if (key == NULL || out == NULL)
        return lf_error_set(err, LF_ERR_INVALID, "pubkey: NULL argument");
    int len = i2d_PUBKEY(key->pkey, NULL);
    if (len <= 0) {
        ERR_clear_error();
        return lf_error_set(err, LF_ERR_CRYPTO, "pubkey: cannot encode DER");
    }
    if (lf_buf_reserve(out, (size_t)len) != LF_OK)
        return lf_error_set(err, LF_ERR_NOMEM, "pubkey: out of memory");
    unsigned char *dst = out->data + out->len;
    if (i2d_PUBKEY(key->pkey, &dst) != len) {
        ERR_clear_error();
        return lf_error_set(err, LF_ERR_CRYPTO, "pubkey: DER encoding changed length");
    }
    out->len += (size_t)len;
    return LF_OK;
}

lf_err lf_pubkey_to_pem(const lf_pubkey *key, lf_buf *out, lf_error *err)
{
    if (key == NULL || out == NULL)
        return lf_error_set(err, LF_ERR_INVALID, "pubkey: NULL argument");
    BIO *bio = BIO_new(BIO_s_mem());
    if (bio == NULL)
        return lf_error_set(err, LF_ERR_NOMEM, "pubkey: out of memory");
    lf_err rc = LF_OK;
    char *text = NULL;
    long len = 0;
    if (PEM_write_bio_PUBKEY(bio, key->pkey) != 1 || (len = BIO_get_mem_data(bio, &text)) <= 0) {
        ERR_clear_error();
        rc = lf_error_set(err, LF_ERR_CRYPTO, "pubkey: cannot encode PEM");
    } else if (lf_buf_append(out, text, (size_t)len) != LF_OK || lf_buf_terminate(out) != LF_OK) {
        rc = lf_error_set(err, LF_ERR_NOMEM, "pubkey: out of memory");
    }
    BIO_free(bio);
    return rc;
}

lf_err lf_pubkey_fingerprint(const lf_pubkey *key, char out[LF_FINGERPRINT_STR_LEN], lf_error *err)
{
    lf_buf der = LF_BUF_INIT;
    uint8_t digest[LF_SHA256_LEN];
    lf_err rc = lf_pubkey_to_der(key, &der, err);
    if (rc == LF_OK)
        rc = lf_sha256(der.data, der.len, digest, err);
    lf_buf_free(&der);
    if (rc != LF_OK)
        return rc;
    memcpy(out, "SHA256:", 7);
    lf_hex_encode(digest, sizeof digest, out + 7);
    return LF_OK;
}

int lf_pubkey_bits(const lf_pubkey *key)
{
    return key != NULL ? EVP_PKEY_get_bits(key->pkey) : 0;
}

void lf_pubkey_free(lf_pubkey *key)
{
    if (key == NULL)
        return;
    EVP_PKEY_free(key->pkey);
    free(key);
}

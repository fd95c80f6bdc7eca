/*
 * privkey.c — the customer's RSA private key: generation and passphrase-protected PEM storage.
 *
 * The private key lives only in the customer's analysis tools (CLI, gateway) and at rest only
 * as PKCS#8 "ENCRYPTED PRIVATE KEY" (PROTOCOL.md §1.1): PBES2 with scrypt as the key
 * derivation function and AES-256-CBC as the cipher, built with PKCS5_pbe2_set_scrypt and
 * PKCS8_set0_pbe, written with PEM_write_bio_PKCS8. Standard PKCS#8 tools load it (tested:
 * `openssl pkey -in key.pem` and Node's crypto.createPrivateKey({key, passphrase})).
 *
 * scrypt parameters: N = 2^14, r = 8, p = 4, 16-byte random salt.
 *   scrypt needs 128 * r * N bytes. OpenSSL's PKCS#8 loader (and therefore Node, which uses it)
 *   refuses anything above its default 32 MiB scrypt memory cap, and offers no way to raise it
 *   through the PEM/PKCS#8 API. N = 2^15 with r = 8 already needs 32 MiB + 1 KiB and is refused
 *   (checked with OpenSSL 3.0 and Node 20), so N = 2^17, 2^16 and 2^15 are all out.
 *   N = 2^14, r = 8 (16 MiB, the scrypt paper's setting for interactive use) is the largest
 *   standard memory cost that every loader accepts without a flag. p = 4 multiplies the work
 *   per guess by four at the same memory: unlocking takes about 150 ms, paid once per CLI or
 *   gateway start.
 *
 * Loading accepts any PBES2-encrypted PKCS#8 key OpenSSL can decrypt (so keys written by
 * `openssl pkcs8 -topk8` or Node with PBKDF2 load too), but refuses PBES1 (DES/RC2 era) and
 * PBKDF2 iteration counts above PBKDF2_MAX_ITER, which a hostile file could use to stall us.
 * Loading distinguishes the failures a user needs to tell apart: not a private-key PEM at all
 * (LF_ERR_INVALID), an unencrypted private key (refused, LF_ERR_INVALID: we never accept key
 * material stored in the clear), and a wrong passphrase (LF_ERR_PASSPHRASE). We pass the
 * caller's passphrase to OpenSSL without copying it; the decrypted PKCS#8 structure is freed
 * with OpenSSL's cleansing free and the EVP_PKEY clears its secret numbers when freed.
 */
#include "pubkey_internal.h"

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <stdlib.h>
#include <string.h>

#define SCRYPT_N        ((uint64_t)1 << 14)
#define SCRYPT_R        8
#define SCRYPT_P        4
#define SCRYPT_SALT_LEN 16

/* Bounds on outside input: a 16384-bit encrypted key is about 13 KB of PEM. */
#define PRIVKEY_PEM_MAX    65536
#define PASSPHRASE_MAX_LEN 1024
/* OpenSSL writes 2048 iterations, Node the same; 10 million is several seconds of work. */
#define PBKDF2_MAX_ITER 10000000

static lf_err check_passphrase(const char *passphrase, int *len, lf_error *err)
{
    if (passphrase == NULL || passphrase[0] == '\0')
        return lf_error_set(err, LF_ERR_INVALID, "privkey: empty passphrase refused");
    size_t n = strnlen(passphrase, PASSPHRASE_MAX_LEN + 1);
    if (n > PASSPHRASE_MAX_LEN)
        return lf_error_set(err, LF_ERR_TOO_LARGE, "privkey: passphrase longer than %d bytes",
                            PASSPHRASE_MAX_LEN);
    *len = (int)n;
    return LF_OK;
}

lf_err lf_privkey_generate(int bits, lf_privkey **out, lf_error *err)
{
    if (out == NULL)
        return lf_error_set(err, LF_ERR_INVALID, "privkey: NULL output");
    *out = NULL;
    if (bits < LF_RSA_MIN_BITS || bits > LF_RSA_MAX_BITS)
        return lf_error_set(err, LF_ERR_INVALID, "privkey: %d bits outside %d..%d", bits,
                            LF_RSA_MIN_BITS, LF_RSA_MAX_BITS);
    lf_err rc = LF_OK;
    EVP_PKEY *pkey = NULL;
    BIGNUM *e = BN_new();
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
    if (e == NULL || ctx == NULL || BN_set_word(e, RSA_F4) != 1 || EVP_PKEY_keygen_init(ctx) != 1 ||
        EVP_PKEY_CTX_set_rsa_keygen_bits(ctx, bits) != 1 ||
        EVP_PKEY_CTX_set1_rsa_keygen_pubexp(ctx, e) != 1 || EVP_PKEY_generate(ctx, &pkey) != 1) {
        ERR_clear_error();
        rc = lf_error_set(err, LF_ERR_CRYPTO, "privkey: RSA-%d key generation failed", bits);
        goto out;
    }
    lf_privkey *key = calloc(1, sizeof *key);
    if (key == NULL) {
        rc = lf_error_set(err, LF_ERR_NOMEM, "privkey: out of memory");
        goto out;
    }
    key->pkey = pkey;
    pkey = NULL;
    *out = key;
out:
    EVP_PKEY_free(pkey);
    EVP_PKEY_CTX_free(ctx);
    BN_free(e);
    return rc;
}

lf_err lf_privkey_to_pem(const lf_privkey *key, const char *passphrase, lf_buf *out, lf_error *err)
{
    if (key == NULL || out == NULL)
        return lf_error_set(err, LF_ERR_INVALID, "privkey: NULL argument");
    int pass_len = 0;
    lf_err rc = check_passphrase(passphrase, &pass_len, err);
    if (rc != LF_OK)
        return rc;
    unsigned char salt[SCRYPT_SALT_LEN];
    rc = lf_random(salt, sizeof salt, err);
    if (rc != LF_OK)
        return rc;

    PKCS8_PRIV_KEY_INFO *p8inf = EVP_PKEY2PKCS8(key->pkey);
    /* A NULL IV asks OpenSSL for a random one. */
    X509_ALGOR *pbe = PKCS5_pbe2_set_scrypt(EVP_aes_256_cbc(), salt, (int)sizeof salt, NULL,
                                            SCRYPT_N, SCRYPT_R, SCRYPT_P);
    X509_SIG *p8 = NULL;
    BIO *bio = BIO_new(BIO_s_mem());
    char *text = NULL;
    long text_len = 0;
    if (p8inf == NULL || pbe == NULL || bio == NULL) {
        rc = lf_error_set(err, LF_ERR_CRYPTO, "privkey: cannot prepare PKCS#8 encryption");
        goto out;
    }
    p8 = PKCS8_set0_pbe(passphrase, pass_len, p8inf, pbe);
    if (p8 == NULL) {
        rc = lf_error_set(err, LF_ERR_CRYPTO, "privkey: PKCS#8 encryption failed");
        goto out;
    }
    pbe = NULL; /* owned by p8 now */
    if (PEM_write_bio_PKCS8(bio, p8) != 1 || (text_len = BIO_get_mem_data(bio, &text)) <= 0) {
        rc = lf_error_set(err, LF_ERR_CRYPTO, "privkey: cannot write PEM");
        goto out;
    }
    if (lf_buf_append(out, text, (size_t)text_len) != LF_OK || lf_buf_terminate(out) != LF_OK)
        rc = lf_error_set(err, LF_ERR_NOMEM, "privkey: out of memory");
out:
    if (rc != LF_OK)
        ERR_clear_error();
    BIO_free(bio);
    X509_SIG_free(p8);
    X509_ALGOR_free(pbe);
    PKCS8_PRIV_KEY_INFO_free(p8inf); /* clears the plaintext key encoding */
    lf_wipe(salt, sizeof salt);
    return rc;
}

/* Read the first PEM block and make sure it is an encrypted PKCS#8 key; returns its DER. */
static lf_err read_encrypted_block(const char *pem, size_t pem_len, unsigned char **der,
                                   long *der_len, lf_error *err)
{
    BIO *bio = BIO_new_mem_buf(pem, (int)pem_len);
    if (bio == NULL)
        return lf_error_set(err, LF_ERR_NOMEM, "privkey: out of memory");
    char *name = NULL, *header = NULL;
    lf_err rc = LF_OK;
    if (PEM_read_bio(bio, &name, &header, der, der_len) != 1) {
        rc = lf_error_set(err, LF_ERR_INVALID, "privkey: not a PEM private key");
    } else if (strcmp(name, "ENCRYPTED PRIVATE KEY") == 0) {
        rc = LF_OK;
    } else if (strstr(name, "PRIVATE KEY") != NULL) {
        rc = lf_error_set(err, LF_ERR_INVALID, "%s",
                          header[0] != '\0'
                              ? "privkey: legacy PEM encryption is not supported; use PKCS#8"
                              : "privkey: private key is not encrypted");
    } else {
        rc = lf_error_set(err, LF_ERR_INVALID, "privkey: PEM block is not a private key");
    }
    if (rc != LF_OK) {
        /* An unencrypted key's DER is key material: clear it before freeing. */
        if (*der != NULL)
            OPENSSL_clear_free(*der, (size_t)*der_len);
        *der = NULL;
    }
    OPENSSL_free(name);
    OPENSSL_free(header);
    BIO_free(bio);
    return rc;
}

/* Refuse encryption schemes we do not want to run on a file's say-so: anything but PBES2
 * (PBES1 means DES or RC2), and PBKDF2 iteration counts that would stall the process (scrypt
 * is already bounded by OpenSSL's 32 MiB memory cap). */
static lf_err check_pbe(const X509_SIG *p8, lf_error *err)
{
    const X509_ALGOR *alg = NULL;
    X509_SIG_get0(p8, &alg, NULL);
    if (OBJ_obj2nid(alg->algorithm) != NID_pbes2)
        return lf_error_set(err, LF_ERR_UNSUPPORTED,
                            "privkey: only PBES2 encryption is supported (re-encrypt the key)");
    PBE2PARAM *pbe2 = ASN1_TYPE_unpack_sequence(ASN1_ITEM_rptr(PBE2PARAM), alg->parameter);
    if (pbe2 == NULL)
        return lf_error_set(err, LF_ERR_INVALID, "privkey: malformed PBES2 parameters");
    lf_err rc = LF_OK;
    if (OBJ_obj2nid(pbe2->keyfunc->algorithm) == NID_id_pbkdf2) {
        PBKDF2PARAM *kdf =
            ASN1_TYPE_unpack_sequence(ASN1_ITEM_rptr(PBKDF2PARAM), pbe2->keyfunc->parameter);
        uint64_t iter = 0;
        if (kdf == NULL || ASN1_INTEGER_get_uint64(&iter, kdf->iter) != 1)
            rc = lf_error_set(err, LF_ERR_INVALID, "privkey: malformed PBKDF2 parameters");
        else if (iter > PBKDF2_MAX_ITER)
            rc = lf_error_set(err, LF_ERR_UNSUPPORTED,
                              "privkey: PBKDF2 iteration count %llu exceeds %d",
                              (unsigned long long)iter, PBKDF2_MAX_ITER);
        PBKDF2PARAM_free(kdf);
    }
    PBE2PARAM_free(pbe2);
    return rc;
}

/* Decrypt p8 with the passphrase and turn it into a checked RSA key. */
static lf_err decrypt_pkcs8(const X509_SIG *p8, const char *passphrase, int pass_len,
                            EVP_PKEY **pkey, lf_error *err)
{
    PKCS8_PRIV_KEY_INFO *p8inf = PKCS8_decrypt(p8, passphrase, pass_len);
    if (p8inf == NULL) {
        /* Other errors get stacked on top of the scrypt one, so look through the queue. */
        for (unsigned long e; (e = ERR_get_error()) != 0;)
            if (ERR_GET_LIB(e) == ERR_LIB_EVP && ERR_GET_REASON(e) == EVP_R_MEMORY_LIMIT_EXCEEDED)
                return lf_error_set(err, LF_ERR_UNSUPPORTED,
                                    "privkey: scrypt parameters exceed the memory limit");
        /* A wrong passphrase shows as bad CBC padding or, one time in ~256, as garbage that
         * fails to parse: both mean the same to the user. */
        return lf_error_set(err, LF_ERR_PASSPHRASE, "privkey: wrong passphrase");
    }
    lf_err rc = LF_OK;
    *pkey = EVP_PKCS82PKEY(p8inf);
    if (*pkey == NULL)
        rc = lf_error_set(err, LF_ERR_INVALID, "privkey: decrypted data is not a private key");
    else
        rc = lf_rsa_key_check(*pkey, "privkey", err);
    PKCS8_PRIV_KEY_INFO_free(p8inf); /* clears the plaintext key encoding */
    return rc;
}

lf_err lf_privkey_from_pem(const char *pem, size_t pem_len, const char *passphrase,
                           lf_privkey **out, lf_error *err)
{
    if (out == NULL || (pem == NULL && pem_len > 0))
        return lf_error_set(err, LF_ERR_INVALID, "privkey: NULL argument");
    *out = NULL;
    if (pem_len == 0)
        return lf_error_set(err, LF_ERR_INVALID, "privkey: empty PEM");
    if (pem_len > PRIVKEY_PEM_MAX)
        return lf_error_set(err, LF_ERR_TOO_LARGE, "privkey: PEM of %zu bytes exceeds %d", pem_len,
                            PRIVKEY_PEM_MAX);
    int pass_len = 0;
    lf_err rc = check_passphrase(passphrase, &pass_len, err);
    if (rc != LF_OK)
        return rc;

    unsigned char *der = NULL;
    long der_len = 0;
    X509_SIG *p8 = NULL;
    EVP_PKEY *pkey = NULL;
    rc = read_encrypted_block(pem, pem_len, &der, &der_len, err);
    if (rc != LF_OK)
        goto out;
    const unsigned char *p = der;
    p8 = d2i_X509_SIG(NULL, &p, der_len);
    if (p8 == NULL || p != der + der_len) {
        rc = lf_error_set(err, LF_ERR_INVALID, "privkey: malformed EncryptedPrivateKeyInfo");
        goto out;
    }
    rc = check_pbe(p8, err);
    if (rc != LF_OK)
        goto out;
    rc = decrypt_pkcs8(p8, passphrase, pass_len, &pkey, err);
    if (rc != LF_OK)
        goto out;
    lf_privkey *key = calloc(1, sizeof *key);
    if (key == NULL) {
        rc = lf_error_set(err, LF_ERR_NOMEM, "privkey: out of memory");
        goto out;
    }
    key->pkey = pkey;
    pkey = NULL;
    *out = key;
out:
    if (rc != LF_OK)
        ERR_clear_error();
    EVP_PKEY_free(pkey);
    X509_SIG_free(p8);
    OPENSSL_free(der);
    return rc;
}

lf_err lf_privkey_public(const lf_privkey *key, lf_pubkey **out, lf_error *err)
{
    if (key == NULL || out == NULL)
        return lf_error_set(err, LF_ERR_INVALID, "privkey: NULL argument");
    *out = NULL;
    return lf_pubkey_from_evp(key->pkey, out, err);
}

void lf_privkey_free(lf_privkey *key)
{
    if (key == NULL)
        return;
    EVP_PKEY_free(key->pkey); /* RSA_free clears the private numbers */
    free(key);
}

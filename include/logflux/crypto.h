/*
 * crypto.h — the cryptographic primitives of LogFlux, on OpenSSL 3 EVP.
 *
 * Two halves, compiled into two libraries so that the server cannot decrypt even by accident
 * (DESIGN.md §2, invariant 6):
 *   - server-safe (src/core, lf_core): SHA-256, HMAC-SHA-256, HKDF-SHA-256, public-key PEM
 *     parsing and the SPKI fingerprint;
 *   - client-only (src/seal, lf_seal): AES-256-GCM seal/open, RSA-4096 key generation,
 *     passphrase-protected private keys, RSA-OAEP wrap/unwrap.
 *
 * Key material held by this module is wiped before it is released.
 */
#ifndef LOGFLUX_CRYPTO_H
#define LOGFLUX_CRYPTO_H

#include <stddef.h>
#include <stdint.h>

#include "logflux/buf.h"
#include "logflux/error.h"

#ifdef __cplusplus
extern "C" {
#endif

#define LF_AES_KEY_LEN   32
#define LF_GCM_NONCE_LEN 12
#define LF_GCM_TAG_LEN   16
#define LF_SHA256_LEN    32
#define LF_RSA_BITS      4096
/* "SHA256:" + 64 hex digits + NUL */
#define LF_FINGERPRINT_STR_LEN (7 + 64 + 1)
/* Upper bound on a single AES-GCM message we accept (inputs larger are LF_ERR_TOO_LARGE). */
#define LF_AEAD_MAX_PLAINTEXT (256u * 1024u * 1024u)

/* ---------------- server-safe (lf_core) ---------------- */

lf_err lf_sha256(const void *data, size_t len, uint8_t out[LF_SHA256_LEN], lf_error *err);
lf_err lf_hmac_sha256(const void *key, size_t key_len, const void *data, size_t len,
                      uint8_t out[LF_SHA256_LEN], lf_error *err);
/* HKDF-SHA-256 (RFC 5869), extract-and-expand. salt may be NULL/0 (a zero salt of hash length).
 * out_len at most 255*32. */
lf_err lf_hkdf_sha256(const void *ikm, size_t ikm_len, const void *salt, size_t salt_len,
                      const void *info, size_t info_len, uint8_t *out, size_t out_len,
                      lf_error *err);

/* An RSA public key (opaque). */
typedef struct lf_pubkey lf_pubkey;

/* Parse a PEM "-----BEGIN PUBLIC KEY-----" (SubjectPublicKeyInfo) RSA key. Rejects other key
 * types and RSA moduli below 2048 bits. Caller frees with lf_pubkey_free. */
lf_err lf_pubkey_from_pem(const char *pem, size_t pem_len, lf_pubkey **out, lf_error *err);
/* DER SubjectPublicKeyInfo (appended to out). */
lf_err lf_pubkey_to_der(const lf_pubkey *key, lf_buf *out, lf_error *err);
/* PEM SubjectPublicKeyInfo (appended to out, NUL-terminated). */
lf_err lf_pubkey_to_pem(const lf_pubkey *key, lf_buf *out, lf_error *err);
/* "SHA256:<64 lowercase hex of sha256(DER SPKI)>" into out[LF_FINGERPRINT_STR_LEN]. */
lf_err lf_pubkey_fingerprint(const lf_pubkey *key, char out[LF_FINGERPRINT_STR_LEN], lf_error *err);
int lf_pubkey_bits(const lf_pubkey *key);
void lf_pubkey_free(lf_pubkey *key);

/* ---------------- client-only (lf_seal) ---------------- */

/* AES-256-GCM. Output of seal is ciphertext || 16-byte tag, appended to out.
 * aad may be NULL when aad_len is 0. */
lf_err lf_aead_seal(const uint8_t key[LF_AES_KEY_LEN], const uint8_t nonce[LF_GCM_NONCE_LEN],
                    const void *aad, size_t aad_len, const void *plaintext, size_t pt_len,
                    lf_buf *out, lf_error *err);
/* Opens ciphertext || tag; appends the plaintext to out only if the tag verifies
 * (LF_ERR_AUTH otherwise, with nothing appended). */
lf_err lf_aead_open(const uint8_t key[LF_AES_KEY_LEN], const uint8_t nonce[LF_GCM_NONCE_LEN],
                    const void *aad, size_t aad_len, const void *sealed, size_t sealed_len,
                    lf_buf *out, lf_error *err);

/* A reusable AES-256-GCM context for one key: avoids re-expanding the key schedule per
 * message on hot paths (agent, bulk decrypt). Not thread-safe; one per thread. */
typedef struct lf_aead lf_aead;
lf_err lf_aead_new(const uint8_t key[LF_AES_KEY_LEN], lf_aead **out, lf_error *err);
lf_err lf_aead_ctx_seal(lf_aead *ctx, const uint8_t nonce[LF_GCM_NONCE_LEN], const void *aad,
                        size_t aad_len, const void *plaintext, size_t pt_len, lf_buf *out,
                        lf_error *err);
lf_err lf_aead_ctx_open(lf_aead *ctx, const uint8_t nonce[LF_GCM_NONCE_LEN], const void *aad,
                        size_t aad_len, const void *sealed, size_t sealed_len, lf_buf *out,
                        lf_error *err);
/* Wipes the key schedule. NULL is fine. */
void lf_aead_free(lf_aead *ctx);

/* An RSA private key (opaque). Held in memory only; freed with wiping. */
typedef struct lf_privkey lf_privkey;

/* New RSA key pair of `bits` bits (LF_RSA_BITS in production; tests may use 2048). */
lf_err lf_privkey_generate(int bits, lf_privkey **out, lf_error *err);
/* PEM "-----BEGIN ENCRYPTED PRIVATE KEY-----": PKCS#8, PBES2 with scrypt (N=2^14, r=8, p=4) and
 * AES-256-CBC, under passphrase. Appended to out, NUL-terminated. Empty passphrases are refused. */
lf_err lf_privkey_to_pem(const lf_privkey *key, const char *passphrase, lf_buf *out, lf_error *err);
/* Load an encrypted PKCS#8 PEM. Wrong passphrase gives LF_ERR_PASSPHRASE. */
lf_err lf_privkey_from_pem(const char *pem, size_t pem_len, const char *passphrase,
                           lf_privkey **out, lf_error *err);
/* The public half (new object, caller frees). */
lf_err lf_privkey_public(const lf_privkey *key, lf_pubkey **out, lf_error *err);
void lf_privkey_free(lf_privkey *key);

/* RSA-OAEP with SHA-256 as OAEP digest and MGF1-SHA-256, empty label. Appends to out. */
lf_err lf_rsa_wrap(const lf_pubkey *key, const uint8_t *secret, size_t secret_len, lf_buf *out,
                   lf_error *err);
/* Appends the unwrapped secret to out (use lf_buf_free_secret). LF_ERR_AUTH on failure. */
lf_err lf_rsa_unwrap(const lf_privkey *key, const uint8_t *wrapped, size_t wrapped_len, lf_buf *out,
                     lf_error *err);

#ifdef __cplusplus
}
#endif
#endif

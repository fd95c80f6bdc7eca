/*
 * pubkey_internal.h — the insides of the opaque RSA key handles, shared by src/core/pubkey.c
 * (public keys, server-safe) and src/seal (private keys, OAEP wrap/unwrap).
 *
 * Both handles are a single owned EVP_PKEY. lf_privkey is declared here only so that the
 * src/seal files can share it; nothing in src/core creates or reads one.
 */
#ifndef LF_PUBKEY_INTERNAL_H
#define LF_PUBKEY_INTERNAL_H

#include <openssl/evp.h>

#include "logflux/crypto.h"

/* Smallest and largest RSA modulus we accept anywhere (OpenSSL's own ceiling is 16384). */
#define LF_RSA_MIN_BITS 2048
#define LF_RSA_MAX_BITS 16384

struct lf_pubkey {
    EVP_PKEY *pkey; /* owned; holds only the public half */
};

struct lf_privkey {
    EVP_PKEY *pkey; /* owned; RSA private key, freed with its secret numbers cleared */
};

/* Check that pkey is an RSA key we accept (type RSA, not RSA-PSS; modulus 2048..16384 bits;
 * odd modulus; odd public exponent 3..2^64-1). `what` names the caller in the message. */
lf_err lf_rsa_key_check(const EVP_PKEY *pkey, const char *what, lf_error *err);

/* Build a public-key handle holding only the public half of pkey (which may be a private key;
 * it is not consumed). The key is checked with lf_rsa_key_check. */
lf_err lf_pubkey_from_evp(const EVP_PKEY *pkey, lf_pubkey **out, lf_error *err);

#endif

#!/bin/sh
# Usage: check-no-decrypt-symbols.sh BINARY_OR_ARCHIVE...
# Fails if any given object references a function that can decrypt or unwrap keys.
# DESIGN.md §2 invariant 6: the server cannot decrypt even by accident.
set -eu
status=0
for f in "$@"; do
    bad=$(nm -u "$f" 2>/dev/null | grep -E 'EVP_Decrypt|EVP_CipherInit|EVP_PKEY_decrypt|EVP_OpenInit|RSA_private_decrypt|PEM_read_bio_PrivateKey|lf_aead_open|lf_rsa_unwrap' || true)
    if [ -n "$bad" ]; then
        echo "FAIL: $f references decryption functions:" >&2
        echo "$bad" >&2
        status=1
    else
        echo "ok: $f has no decryption references"
    fi
done
exit $status

/*
 * test_crypto.c — the crypto primitives of crypto.h against published known answers and
 * against deliberate damage.
 *
 *   - AES-256-GCM: McGrew–Viega test cases 13–16 (testdata/vectors/aes-256-gcm.json), one-shot
 *     and context API; a flipped bit in ciphertext, tag, aad or nonce, a wrong key and a
 *     truncated input are refused with nothing appended; one context reused for many messages.
 *   - HMAC-SHA-256: RFC 4231 (hmac-sha256.json). HKDF-SHA-256: RFC 5869 A.1–A.3
 *     (hkdf-sha256.json), including the extract step rebuilt from HMAC, and the length limits.
 *   - RSA: key generation, encrypted PKCS#8 round trip (and that it really is PBES2 + scrypt +
 *     AES-256-CBC with the documented parameters), wrong passphrase, unencrypted and garbage
 *     PEMs, strict public-key parsing, fingerprint = sha256(DER SPKI), OAEP round trip and
 *     tampering, and values wrapped by Node's crypto (rsa-oaep.json) unwrapped here.
 */
#include "testutil.h"

#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>
#include <openssl/x509.h>
#include <stdlib.h>
#include <string.h>

#include "logflux/crypto.h"
#include "pubkey_internal.h" /* to reach the EVP_PKEY when writing test inputs */

/* A 2048-bit key shared by the tests that do not care which key they use (generation is the
 * slow part, under the sanitizers especially). */
static lf_privkey *shared_key;

static int group_setup(void **state)
{
    (void)state;
    return lf_privkey_generate(2048, &shared_key, NULL) == LF_OK ? 0 : -1;
}

static int group_teardown(void **state)
{
    (void)state;
    lf_privkey_free(shared_key);
    return 0;
}

/* ---------------- AES-256-GCM ---------------- */

static void test_aead_vectors(void **state)
{
    (void)state;
    json_t *root = lf_test_load_vectors("aes-256-gcm.json");
    json_t *vectors = json_object_get(root, "vectors");
    assert_int_equal(json_array_size(vectors), 4);
    size_t i;
    json_t *v;
    json_array_foreach(vectors, i, v)
    {
        lf_buf key = lf_test_hex(v, "key"), nonce = lf_test_hex(v, "nonce");
        lf_buf aad = lf_test_hex(v, "aad"), pt = lf_test_hex(v, "plaintext");
        lf_buf ct = lf_test_hex(v, "ciphertext"), tag = lf_test_hex(v, "tag");
        assert_int_equal(key.len, LF_AES_KEY_LEN);
        assert_int_equal(nonce.len, LF_GCM_NONCE_LEN);
        assert_int_equal(tag.len, LF_GCM_TAG_LEN);
        lf_buf expected = LF_BUF_INIT;
        assert_int_equal(lf_buf_append(&expected, ct.data, ct.len), LF_OK);
        assert_int_equal(lf_buf_append(&expected, tag.data, tag.len), LF_OK);

        lf_buf sealed = LF_BUF_INIT, opened = LF_BUF_INIT;
        assert_int_equal(
            lf_aead_seal(key.data, nonce.data, aad.data, aad.len, pt.data, pt.len, &sealed, NULL),
            LF_OK);
        assert_int_equal(sealed.len, expected.len);
        assert_memory_equal(sealed.data, expected.data, expected.len);
        assert_int_equal(lf_aead_open(key.data, nonce.data, aad.data, aad.len, expected.data,
                                      expected.len, &opened, NULL),
                         LF_OK);
        assert_int_equal(opened.len, pt.len);
        if (pt.len > 0)
            assert_memory_equal(opened.data, pt.data, pt.len);

        /* The context API gives the same bytes. */
        lf_aead *ctx = NULL;
        assert_int_equal(lf_aead_new(key.data, &ctx, NULL), LF_OK);
        lf_buf_reset(&sealed);
        lf_buf_reset(&opened);
        assert_int_equal(
            lf_aead_ctx_seal(ctx, nonce.data, aad.data, aad.len, pt.data, pt.len, &sealed, NULL),
            LF_OK);
        assert_memory_equal(sealed.data, expected.data, expected.len);
        assert_int_equal(lf_aead_ctx_open(ctx, nonce.data, aad.data, aad.len, sealed.data,
                                          sealed.len, &opened, NULL),
                         LF_OK);
        assert_int_equal(opened.len, pt.len);
        lf_aead_free(ctx);

        lf_buf_free(&key);
        lf_buf_free(&nonce);
        lf_buf_free(&aad);
        lf_buf_free(&pt);
        lf_buf_free(&ct);
        lf_buf_free(&tag);
        lf_buf_free(&expected);
        lf_buf_free(&sealed);
        lf_buf_free(&opened);
    }
    json_decref(root);
}

/* Open must fail with LF_ERR_AUTH and leave out exactly as it was. */
static void expect_auth_failure(const uint8_t *key, const uint8_t *nonce, const lf_buf *aad,
                                const lf_buf *sealed)
{
    lf_buf out = LF_BUF_INIT;
    assert_int_equal(lf_buf_append_str(&out, "prefix"), LF_OK);
    lf_error err = {0};
    assert_int_equal(
        lf_aead_open(key, nonce, aad->data, aad->len, sealed->data, sealed->len, &out, &err),
        LF_ERR_AUTH);
    assert_int_equal(err.code, LF_ERR_AUTH);
    assert_int_equal(out.len, 6);
    assert_memory_equal(out.data, "prefix", 6);
    lf_buf_free(&out);
}

static void test_aead_tamper(void **state)
{
    (void)state;
    json_t *root = lf_test_load_vectors("aes-256-gcm.json");
    json_t *v = json_array_get(json_object_get(root, "vectors"), 3); /* case 16: has aad */
    lf_buf key = lf_test_hex(v, "key"), nonce = lf_test_hex(v, "nonce");
    lf_buf aad = lf_test_hex(v, "aad"), pt = lf_test_hex(v, "plaintext");
    lf_buf sealed = LF_BUF_INIT;
    assert_int_equal(
        lf_aead_seal(key.data, nonce.data, aad.data, aad.len, pt.data, pt.len, &sealed, NULL),
        LF_OK);

    /* Every bit of the ciphertext and tag matters. */
    for (size_t byte = 0; byte < sealed.len; byte++) {
        sealed.data[byte] ^= (uint8_t)(1u << (byte % 8));
        expect_auth_failure(key.data, nonce.data, &aad, &sealed);
        sealed.data[byte] ^= (uint8_t)(1u << (byte % 8));
    }
    for (size_t byte = 0; byte < aad.len; byte++) {
        aad.data[byte] ^= 0x80;
        expect_auth_failure(key.data, nonce.data, &aad, &sealed);
        aad.data[byte] ^= 0x80;
    }
    for (size_t byte = 0; byte < nonce.len; byte++) {
        nonce.data[byte] ^= 0x01;
        expect_auth_failure(key.data, nonce.data, &aad, &sealed);
        nonce.data[byte] ^= 0x01;
    }
    /* Dropping the aad, or a different key, fails too. */
    lf_buf no_aad = LF_BUF_INIT;
    expect_auth_failure(key.data, nonce.data, &no_aad, &sealed);
    key.data[31] ^= 0x01;
    expect_auth_failure(key.data, nonce.data, &aad, &sealed);
    key.data[31] ^= 0x01;
    /* Untouched, it still opens (the loop restored every bit). */
    lf_buf out = LF_BUF_INIT;
    assert_int_equal(
        lf_aead_open(key.data, nonce.data, aad.data, aad.len, sealed.data, sealed.len, &out, NULL),
        LF_OK);
    assert_memory_equal(out.data, pt.data, pt.len);

    lf_buf_free(&out);
    lf_buf_free(&key);
    lf_buf_free(&nonce);
    lf_buf_free(&aad);
    lf_buf_free(&pt);
    lf_buf_free(&sealed);
    json_decref(root);
}

static void test_aead_truncated_and_oversize(void **state)
{
    (void)state;
    uint8_t key[LF_AES_KEY_LEN] = {1}, nonce[LF_GCM_NONCE_LEN] = {2};
    lf_buf sealed = LF_BUF_INIT, out = LF_BUF_INIT;
    assert_int_equal(lf_aead_seal(key, nonce, NULL, 0, "hello world", 11, &sealed, NULL), LF_OK);
    assert_int_equal(sealed.len, 11 + LF_GCM_TAG_LEN);

    /* Shorter than a tag: truncated, whatever the bytes are. */
    for (size_t len = 0; len < LF_GCM_TAG_LEN; len++) {
        lf_error err = {0};
        assert_int_equal(lf_aead_open(key, nonce, NULL, 0, sealed.data, len, &out, &err),
                         LF_ERR_TRUNCATED);
        assert_int_equal(out.len, 0);
    }
    /* Any other cut (the tag is then read from the wrong place) fails authentication. */
    for (size_t len = LF_GCM_TAG_LEN; len < sealed.len; len++) {
        lf_buf cut = {sealed.data, len, len};
        expect_auth_failure(key, nonce, &(lf_buf)LF_BUF_INIT, &cut);
    }
    /* Sizes beyond the documented limit are refused before any work (the pointer is never
     * read that far). */
    lf_error err = {0};
    assert_int_equal(lf_aead_seal(key, nonce, NULL, 0, sealed.data,
                                  (size_t)LF_AEAD_MAX_PLAINTEXT + LF_GCM_TAG_LEN + 1, &out, &err),
                     LF_ERR_TOO_LARGE);
    assert_int_equal(lf_aead_open(key, nonce, NULL, 0, sealed.data,
                                  (size_t)LF_AEAD_MAX_PLAINTEXT + LF_GCM_TAG_LEN + 1, &out, &err),
                     LF_ERR_TOO_LARGE);
    assert_int_equal(out.len, 0);
    lf_buf_free(&sealed);
    lf_buf_free(&out);
}

static void test_aead_context_reuse(void **state)
{
    (void)state;
    uint8_t key[LF_AES_KEY_LEN];
    assert_int_equal(lf_random(key, sizeof key, NULL), LF_OK);
    lf_aead *sealer = NULL, *opener = NULL;
    assert_int_equal(lf_aead_new(key, &sealer, NULL), LF_OK);
    assert_int_equal(lf_aead_new(key, &opener, NULL), LF_OK);
    uint8_t msg[700], aad[40];
    for (size_t i = 0; i < sizeof msg; i++)
        msg[i] = (uint8_t)(i * 7 + 3);
    for (size_t i = 0; i < sizeof aad; i++)
        aad[i] = (uint8_t)(i ^ 0x5a);

    for (unsigned i = 0; i < 2000; i++) {
        uint8_t nonce[LF_GCM_NONCE_LEN] = {0};
        lf_store_be32(nonce + 8, i);
        size_t pt_len = (i * 37) % sizeof msg, aad_len = i % sizeof aad;
        lf_buf sealed = LF_BUF_INIT, opened = LF_BUF_INIT, one_shot = LF_BUF_INIT;
        assert_int_equal(lf_aead_ctx_seal(sealer, nonce, aad, aad_len, msg, pt_len, &sealed, NULL),
                         LF_OK);
        /* The reused context agrees with a fresh one-shot seal. */
        assert_int_equal(lf_aead_seal(key, nonce, aad, aad_len, msg, pt_len, &one_shot, NULL),
                         LF_OK);
        assert_int_equal(sealed.len, one_shot.len);
        assert_memory_equal(sealed.data, one_shot.data, sealed.len);
        /* A failed open must not poison the context for the next message. */
        if (i % 10 == 0) {
            sealed.data[0] ^= 1;
            assert_int_equal(lf_aead_ctx_open(opener, nonce, aad, aad_len, sealed.data, sealed.len,
                                              &opened, NULL),
                             LF_ERR_AUTH);
            assert_int_equal(opened.len, 0);
            sealed.data[0] ^= 1;
        }
        assert_int_equal(
            lf_aead_ctx_open(opener, nonce, aad, aad_len, sealed.data, sealed.len, &opened, NULL),
            LF_OK);
        assert_int_equal(opened.len, pt_len);
        if (pt_len > 0)
            assert_memory_equal(opened.data, msg, pt_len);
        lf_buf_free(&sealed);
        lf_buf_free(&opened);
        lf_buf_free(&one_shot);
    }
    lf_aead_free(sealer);
    lf_aead_free(opener);
    lf_aead_free(NULL);
}

/* ---------------- SHA-256, HMAC, HKDF ---------------- */

static void test_sha256(void **state)
{
    (void)state;
    uint8_t d[LF_SHA256_LEN];
    char hex[2 * LF_SHA256_LEN + 1];
    assert_int_equal(lf_sha256("abc", 3, d, NULL), LF_OK);
    lf_hex_encode(d, sizeof d, hex);
    /* FIPS 180-2 appendix B.1 */
    assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    assert_int_equal(lf_sha256(NULL, 0, d, NULL), LF_OK);
    lf_hex_encode(d, sizeof d, hex);
    assert_string_equal(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    assert_int_equal(lf_sha256(NULL, 1, d, NULL), LF_ERR_INVALID);
}

static void test_hmac_vectors(void **state)
{
    (void)state;
    json_t *root = lf_test_load_vectors("hmac-sha256.json");
    json_t *vectors = json_object_get(root, "vectors");
    assert_int_equal(json_array_size(vectors), 7);
    size_t i;
    json_t *v;
    json_array_foreach(vectors, i, v)
    {
        lf_buf key = lf_test_hex(v, "key"), data = lf_test_hex(v, "data");
        lf_buf mac = lf_test_hex(v, "mac");
        size_t mac_len = (size_t)json_integer_value(json_object_get(v, "mac_len"));
        assert_int_equal(mac.len, mac_len);
        uint8_t out[LF_SHA256_LEN];
        assert_int_equal(lf_hmac_sha256(key.data, key.len, data.data, data.len, out, NULL), LF_OK);
        assert_memory_equal(out, mac.data, mac_len);
        lf_buf_free(&key);
        lf_buf_free(&data);
        lf_buf_free(&mac);
    }
    json_decref(root);
    /* Empty key and data are legal inputs. */
    uint8_t out[LF_SHA256_LEN];
    assert_int_equal(lf_hmac_sha256(NULL, 0, NULL, 0, out, NULL), LF_OK);
    assert_int_equal(lf_hmac_sha256(NULL, 4, "data", 4, out, NULL), LF_ERR_INVALID);
}

static void test_hkdf_vectors(void **state)
{
    (void)state;
    json_t *root = lf_test_load_vectors("hkdf-sha256.json");
    json_t *vectors = json_object_get(root, "vectors");
    assert_int_equal(json_array_size(vectors), 3);
    size_t i;
    json_t *v;
    json_array_foreach(vectors, i, v)
    {
        lf_buf ikm = lf_test_hex(v, "ikm"), salt = lf_test_hex(v, "salt");
        lf_buf info = lf_test_hex(v, "info"), prk = lf_test_hex(v, "prk");
        lf_buf okm = lf_test_hex(v, "okm");
        size_t len = (size_t)json_integer_value(json_object_get(v, "length"));
        assert_int_equal(okm.len, len);
        uint8_t out[128];
        assert_true(len <= sizeof out);
        assert_int_equal(lf_hkdf_sha256(ikm.data, ikm.len, salt.data, salt.len, info.data, info.len,
                                        out, len, NULL),
                         LF_OK);
        assert_memory_equal(out, okm.data, len);
        /* The extract step is HMAC(salt, ikm); an empty salt is 32 zero bytes. */
        uint8_t zero_salt[LF_SHA256_LEN] = {0};
        uint8_t got_prk[LF_SHA256_LEN];
        assert_int_equal(lf_hmac_sha256(salt.len ? salt.data : zero_salt,
                                        salt.len ? salt.len : sizeof zero_salt, ikm.data, ikm.len,
                                        got_prk, NULL),
                         LF_OK);
        assert_memory_equal(got_prk, prk.data, LF_SHA256_LEN);
        /* A shorter output is a prefix of a longer one. */
        assert_int_equal(lf_hkdf_sha256(ikm.data, ikm.len, salt.data, salt.len, info.data, info.len,
                                        out, 7, NULL),
                         LF_OK);
        assert_memory_equal(out, okm.data, 7);
        lf_buf_free(&ikm);
        lf_buf_free(&salt);
        lf_buf_free(&info);
        lf_buf_free(&prk);
        lf_buf_free(&okm);
    }
    json_decref(root);
}

static void test_hkdf_limits(void **state)
{
    (void)state;
    static uint8_t out[255 * 32 + 1];
    uint8_t info[1025] = {0};
    lf_error err = {0};
    assert_int_equal(lf_hkdf_sha256("k", 1, NULL, 0, NULL, 0, out, 0, &err), LF_ERR_INVALID);
    assert_int_equal(lf_hkdf_sha256("k", 1, NULL, 0, NULL, 0, out, 255 * 32 + 1, &err),
                     LF_ERR_INVALID);
    assert_int_equal(lf_hkdf_sha256("k", 1, NULL, 0, NULL, 0, out, 255 * 32, &err), LF_OK);
    assert_int_equal(lf_hkdf_sha256("k", 1, NULL, 0, NULL, 0, NULL, 32, &err), LF_ERR_INVALID);
    assert_int_equal(lf_hkdf_sha256("k", 1, NULL, 0, info, 1024, out, 32, &err), LF_OK);
    assert_int_equal(lf_hkdf_sha256("k", 1, NULL, 0, info, 1025, out, 32, &err), LF_ERR_TOO_LARGE);
    assert_int_equal(lf_hkdf_sha256(NULL, 3, NULL, 0, NULL, 0, out, 32, &err), LF_ERR_INVALID);
    /* Empty ikm is legal (RFC 5869 does not forbid it). */
    assert_int_equal(lf_hkdf_sha256(NULL, 0, NULL, 0, NULL, 0, out, 32, &err), LF_OK);
    /* No salt is the same as HashLen zero bytes of salt. */
    uint8_t a[32], b[32], zeros[32] = {0};
    assert_int_equal(lf_hkdf_sha256("ikm", 3, NULL, 0, "i", 1, a, 32, NULL), LF_OK);
    assert_int_equal(lf_hkdf_sha256("ikm", 3, zeros, 32, "i", 1, b, 32, NULL), LF_OK);
    assert_memory_equal(a, b, 32);
}

/* ---------------- RSA keys ---------------- */

static void test_generate_rejects_sizes(void **state)
{
    (void)state;
    lf_privkey *key = (lf_privkey *)&key; /* must be reset to NULL on failure */
    lf_error err = {0};
    assert_int_equal(lf_privkey_generate(1024, &key, &err), LF_ERR_INVALID);
    assert_null(key);
    assert_int_equal(lf_privkey_generate(0, &key, &err), LF_ERR_INVALID);
    assert_int_equal(lf_privkey_generate(1 << 20, &key, &err), LF_ERR_INVALID);
}

/* Check that pem is PKCS#8 PBES2 + scrypt(N=2^14, r=8, p=4) + AES-256-CBC. */
static void check_pbes2_scrypt(const char *pem)
{
    BIO *bio = BIO_new_mem_buf(pem, -1);
    X509_SIG *p8 = PEM_read_bio_PKCS8(bio, NULL, NULL, NULL);
    assert_non_null(p8);
    const X509_ALGOR *alg = NULL;
    X509_SIG_get0(p8, &alg, NULL);
    assert_int_equal(OBJ_obj2nid(alg->algorithm), NID_pbes2);
    PBE2PARAM *pbe2 = ASN1_TYPE_unpack_sequence(ASN1_ITEM_rptr(PBE2PARAM), alg->parameter);
    assert_non_null(pbe2);
    assert_int_equal(OBJ_obj2nid(pbe2->keyfunc->algorithm), NID_id_scrypt);
    assert_int_equal(OBJ_obj2nid(pbe2->encryption->algorithm), NID_aes_256_cbc);
    SCRYPT_PARAMS *sp =
        ASN1_TYPE_unpack_sequence(ASN1_ITEM_rptr(SCRYPT_PARAMS), pbe2->keyfunc->parameter);
    assert_non_null(sp);
    assert_int_equal(ASN1_INTEGER_get(sp->costParameter), 1 << 14);
    assert_int_equal(ASN1_INTEGER_get(sp->blockSize), 8);
    assert_int_equal(ASN1_INTEGER_get(sp->parallelizationParameter), 4);
    assert_int_equal(ASN1_STRING_length(sp->salt), 16);
    SCRYPT_PARAMS_free(sp);
    PBE2PARAM_free(pbe2);
    X509_SIG_free(p8);
    BIO_free(bio);
}

static void test_privkey_pem_round_trip(void **state)
{
    (void)state;
    lf_buf pem = LF_BUF_INIT;
    assert_int_equal(lf_privkey_to_pem(shared_key, "correct horse", &pem, NULL), LF_OK);
    const char *text = (const char *)pem.data;
    assert_int_equal(strlen(text), pem.len); /* NUL-terminated, no embedded NUL */
    assert_non_null(strstr(text, "-----BEGIN ENCRYPTED PRIVATE KEY-----\n"));
    assert_null(strstr(text, "BEGIN PRIVATE KEY"));
    check_pbes2_scrypt(text);

    lf_privkey *loaded = NULL;
    assert_int_equal(lf_privkey_from_pem(text, pem.len, "correct horse", &loaded, NULL), LF_OK);
    lf_pubkey *a = NULL, *b = NULL;
    assert_int_equal(lf_privkey_public(shared_key, &a, NULL), LF_OK);
    assert_int_equal(lf_privkey_public(loaded, &b, NULL), LF_OK);
    char fa[LF_FINGERPRINT_STR_LEN], fb[LF_FINGERPRINT_STR_LEN];
    assert_int_equal(lf_pubkey_fingerprint(a, fa, NULL), LF_OK);
    assert_int_equal(lf_pubkey_fingerprint(b, fb, NULL), LF_OK);
    assert_string_equal(fa, fb);

    /* The loaded key unwraps what the original's public half wraps. */
    uint8_t secret[32];
    assert_int_equal(lf_random(secret, sizeof secret, NULL), LF_OK);
    lf_buf wrapped = LF_BUF_INIT, unwrapped = LF_BUF_INIT;
    assert_int_equal(lf_rsa_wrap(a, secret, sizeof secret, &wrapped, NULL), LF_OK);
    assert_int_equal(lf_rsa_unwrap(loaded, wrapped.data, wrapped.len, &unwrapped, NULL), LF_OK);
    assert_int_equal(unwrapped.len, sizeof secret);
    assert_memory_equal(unwrapped.data, secret, sizeof secret);

    /* Wrong, empty and missing passphrases. */
    lf_privkey *bad = NULL;
    lf_error err = {0};
    assert_int_equal(lf_privkey_from_pem(text, pem.len, "correct horsf", &bad, &err),
                     LF_ERR_PASSPHRASE);
    assert_int_equal(err.code, LF_ERR_PASSPHRASE);
    assert_null(bad);
    assert_int_equal(lf_privkey_from_pem(text, pem.len, "", &bad, &err), LF_ERR_INVALID);
    assert_int_equal(lf_privkey_from_pem(text, pem.len, NULL, &bad, &err), LF_ERR_INVALID);
    lf_buf other = LF_BUF_INIT;
    assert_int_equal(lf_privkey_to_pem(shared_key, "", &other, &err), LF_ERR_INVALID);
    assert_int_equal(lf_privkey_to_pem(shared_key, NULL, &other, &err), LF_ERR_INVALID);
    assert_int_equal(other.len, 0);
    /* Two encryptions of one key differ (fresh salt and IV). */
    assert_int_equal(lf_privkey_to_pem(shared_key, "correct horse", &other, NULL), LF_OK);
    assert_true(other.len != pem.len || memcmp(other.data, pem.data, pem.len) != 0);

    lf_buf_free(&other);
    lf_buf_free(&wrapped);
    lf_buf_free_secret(&unwrapped);
    lf_pubkey_free(a);
    lf_pubkey_free(b);
    lf_privkey_free(loaded);
    lf_buf_free(&pem);
}

static void expect_privkey_invalid(const char *pem, size_t len, lf_err code, const char *msg)
{
    lf_privkey *key = NULL;
    lf_error err = {0};
    assert_int_equal(lf_privkey_from_pem(pem, len, "passphrase", &key, &err), code);
    assert_null(key);
    if (msg != NULL)
        assert_non_null(strstr(err.message, msg));
}

static void test_privkey_rejects(void **state)
{
    (void)state;
    /* An unencrypted PKCS#8 key and a traditional RSA key are refused. */
    BIO *bio = BIO_new(BIO_s_mem());
    lf_pubkey *pub = NULL;
    assert_int_equal(lf_privkey_public(shared_key, &pub, NULL), LF_OK);
    EVP_PKEY *pkey = shared_key->pkey;
    assert_int_equal(PEM_write_bio_PrivateKey(bio, pkey, NULL, NULL, 0, NULL, NULL), 1);
    char *text = NULL;
    long len = BIO_get_mem_data(bio, &text);
    expect_privkey_invalid(text, (size_t)len, LF_ERR_INVALID, "not encrypted");
    BIO_free(bio);
    bio = BIO_new(BIO_s_mem());
    assert_int_equal(PEM_write_bio_PrivateKey_traditional(bio, pkey, NULL, NULL, 0, NULL, NULL), 1);
    len = BIO_get_mem_data(bio, &text);
    assert_non_null(strstr(text, "BEGIN RSA PRIVATE KEY"));
    expect_privkey_invalid(text, (size_t)len, LF_ERR_INVALID, "not encrypted");
    BIO_free(bio);

    /* PBES1 (here 3DES with SHA-1) is refused as unsupported. */
    bio = BIO_new(BIO_s_mem());
    assert_int_equal(PEM_write_bio_PKCS8PrivateKey_nid(bio, pkey,
                                                       NID_pbe_WithSHA1And3_Key_TripleDES_CBC,
                                                       "passphrase", 10, NULL, NULL),
                     1);
    len = BIO_get_mem_data(bio, &text);
    expect_privkey_invalid(text, (size_t)len, LF_ERR_UNSUPPORTED, "PBES2");
    BIO_free(bio);

    /* A PBKDF2 iteration count of 2^31-1 is refused before any work is done (the ciphertext
     * belongs to other parameters; it is never reached). */
    PKCS8_PRIV_KEY_INFO *p8inf = EVP_PKEY2PKCS8(pkey);
    X509_ALGOR *cheap =
        PKCS5_pbe2_set_iv(EVP_aes_256_cbc(), 1000, NULL, 0, NULL, NID_hmacWithSHA256);
    X509_ALGOR *costly =
        PKCS5_pbe2_set_iv(EVP_aes_256_cbc(), 0x7fffffff, NULL, 0, NULL, NID_hmacWithSHA256);
    X509_SIG *p8 = PKCS8_set0_pbe("passphrase", 10, p8inf, cheap);
    assert_non_null(p8);
    X509_ALGOR *alg = NULL;
    X509_SIG_getm(p8, &alg, NULL);
    assert_int_equal(X509_ALGOR_copy(alg, costly), 1);
    bio = BIO_new(BIO_s_mem());
    assert_int_equal(PEM_write_bio_PKCS8(bio, p8), 1);
    len = BIO_get_mem_data(bio, &text);
    expect_privkey_invalid(text, (size_t)len, LF_ERR_UNSUPPORTED, "iteration");
    BIO_free(bio);
    X509_SIG_free(p8);
    X509_ALGOR_free(costly);
    PKCS8_PRIV_KEY_INFO_free(p8inf);

    /* scrypt asking for more than OpenSSL's 32 MiB cap (N = 2^20, r = 8: 1 GiB) is refused as
     * unsupported, not reported as a wrong passphrase. */
    lf_buf enc_ok = LF_BUF_INIT;
    assert_int_equal(lf_privkey_to_pem(shared_key, "passphrase", &enc_ok, NULL), LF_OK);
    bio = BIO_new_mem_buf(enc_ok.data, (int)enc_ok.len);
    p8 = PEM_read_bio_PKCS8(bio, NULL, NULL, NULL);
    assert_non_null(p8);
    BIO_free(bio);
    X509_SIG_getm(p8, &alg, NULL);
    PBE2PARAM *pbe2 = ASN1_TYPE_unpack_sequence(ASN1_ITEM_rptr(PBE2PARAM), alg->parameter);
    SCRYPT_PARAMS *sp =
        ASN1_TYPE_unpack_sequence(ASN1_ITEM_rptr(SCRYPT_PARAMS), pbe2->keyfunc->parameter);
    assert_int_equal(ASN1_INTEGER_set(sp->costParameter, 1L << 20), 1);
    assert_non_null(
        ASN1_TYPE_pack_sequence(ASN1_ITEM_rptr(SCRYPT_PARAMS), sp, &pbe2->keyfunc->parameter));
    assert_non_null(ASN1_TYPE_pack_sequence(ASN1_ITEM_rptr(PBE2PARAM), pbe2, &alg->parameter));
    bio = BIO_new(BIO_s_mem());
    assert_int_equal(PEM_write_bio_PKCS8(bio, p8), 1);
    len = BIO_get_mem_data(bio, &text);
    expect_privkey_invalid(text, (size_t)len, LF_ERR_UNSUPPORTED, "memory");
    BIO_free(bio);
    SCRYPT_PARAMS_free(sp);
    PBE2PARAM_free(pbe2);
    X509_SIG_free(p8);
    lf_buf_free(&enc_ok);

    /* A public key, garbage, an empty string, an oversize input. */
    lf_buf pub_pem = LF_BUF_INIT;
    assert_int_equal(lf_pubkey_to_pem(pub, &pub_pem, NULL), LF_OK);
    expect_privkey_invalid((const char *)pub_pem.data, pub_pem.len, LF_ERR_INVALID,
                           "not a private key");
    const char *garbage = "this is not a key\n";
    expect_privkey_invalid(garbage, strlen(garbage), LF_ERR_INVALID, NULL);
    expect_privkey_invalid("", 0, LF_ERR_INVALID, NULL);
    const char *bad_b64 = "-----BEGIN ENCRYPTED PRIVATE KEY-----\n!!!!\n"
                          "-----END ENCRYPTED PRIVATE KEY-----\n";
    expect_privkey_invalid(bad_b64, strlen(bad_b64), LF_ERR_INVALID, NULL);
    const char *not_asn1 = "-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAECAwQF\n"
                           "-----END ENCRYPTED PRIVATE KEY-----\n";
    expect_privkey_invalid(not_asn1, strlen(not_asn1), LF_ERR_INVALID, NULL);
    char *big = calloc(1, 70000);
    assert_non_null(big);
    memset(big, 'A', 69999);
    expect_privkey_invalid(big, 69999, LF_ERR_TOO_LARGE, NULL);
    free(big);

    /* A truncated encrypted PEM is not a key. */
    lf_buf enc = LF_BUF_INIT;
    assert_int_equal(lf_privkey_to_pem(shared_key, "passphrase", &enc, NULL), LF_OK);
    expect_privkey_invalid((const char *)enc.data, enc.len / 2, LF_ERR_INVALID, NULL);

    lf_buf_free(&enc);
    lf_buf_free(&pub_pem);
    lf_pubkey_free(pub);
}

static void test_pubkey_round_trip_and_fingerprint(void **state)
{
    (void)state;
    lf_pubkey *pub = NULL;
    assert_int_equal(lf_privkey_public(shared_key, &pub, NULL), LF_OK);
    assert_int_equal(lf_pubkey_bits(pub), 2048);
    assert_int_equal(lf_pubkey_bits(NULL), 0);

    lf_buf pem = LF_BUF_INIT, der = LF_BUF_INIT, der2 = LF_BUF_INIT;
    assert_int_equal(lf_pubkey_to_pem(pub, &pem, NULL), LF_OK);
    assert_int_equal(strlen((const char *)pem.data), pem.len);
    assert_int_equal(strncmp((const char *)pem.data, "-----BEGIN PUBLIC KEY-----\n", 27), 0);
    assert_int_equal(lf_pubkey_to_der(pub, &der, NULL), LF_OK);

    lf_pubkey *back = NULL;
    assert_int_equal(lf_pubkey_from_pem((const char *)pem.data, pem.len, &back, NULL), LF_OK);
    assert_int_equal(lf_pubkey_to_der(back, &der2, NULL), LF_OK);
    assert_int_equal(der.len, der2.len);
    assert_memory_equal(der.data, der2.data, der.len);

    /* The fingerprint is "SHA256:" + hex(sha256(DER SPKI)). */
    uint8_t digest[LF_SHA256_LEN];
    char hex[2 * LF_SHA256_LEN + 1], expected[LF_FINGERPRINT_STR_LEN], fp[LF_FINGERPRINT_STR_LEN];
    assert_int_equal(lf_sha256(der.data, der.len, digest, NULL), LF_OK);
    lf_hex_encode(digest, sizeof digest, hex);
    snprintf(expected, sizeof expected, "SHA256:%s", hex);
    assert_int_equal(lf_pubkey_fingerprint(back, fp, NULL), LF_OK);
    assert_string_equal(fp, expected);
    assert_int_equal(strlen(fp), LF_FINGERPRINT_STR_LEN - 1);

    /* Surrounding whitespace (a file with a blank line, CRLF) is fine. */
    lf_buf padded = LF_BUF_INIT;
    assert_int_equal(lf_buf_append_str(&padded, "\r\n  \n"), LF_OK);
    assert_int_equal(lf_buf_append(&padded, pem.data, pem.len), LF_OK);
    assert_int_equal(lf_buf_append_str(&padded, "\n\n"), LF_OK);
    lf_pubkey *again = NULL;
    assert_int_equal(lf_pubkey_from_pem((const char *)padded.data, padded.len, &again, NULL),
                     LF_OK);
    lf_pubkey_free(again);

    lf_buf_free(&padded);
    lf_buf_free(&pem);
    lf_buf_free(&der);
    lf_buf_free(&der2);
    lf_pubkey_free(back);
    lf_pubkey_free(pub);
    lf_pubkey_free(NULL);
}

static void expect_pubkey_rejected(const char *pem, size_t len, lf_err code)
{
    lf_pubkey *key = NULL;
    lf_error err = {0};
    assert_int_equal(lf_pubkey_from_pem(pem, len, &key, &err), code);
    assert_int_equal(err.code, code);
    assert_true(strlen(err.message) > 0);
    assert_null(key);
}

/* PEM of a freshly generated key of another kind or size. */
static lf_buf foreign_pubkey_pem(const char *type, size_t bits_or_zero, const char *curve)
{
    EVP_PKEY *pkey = curve != NULL ? EVP_PKEY_Q_keygen(NULL, NULL, type, curve)
                                   : EVP_PKEY_Q_keygen(NULL, NULL, type, bits_or_zero);
    assert_non_null(pkey);
    BIO *bio = BIO_new(BIO_s_mem());
    assert_int_equal(PEM_write_bio_PUBKEY(bio, pkey), 1);
    char *text = NULL;
    long len = BIO_get_mem_data(bio, &text);
    lf_buf out = LF_BUF_INIT;
    assert_int_equal(lf_buf_append(&out, text, (size_t)len), LF_OK);
    BIO_free(bio);
    EVP_PKEY_free(pkey);
    return out;
}

static void test_pubkey_rejects(void **state)
{
    (void)state;
    lf_pubkey *pub = NULL;
    assert_int_equal(lf_privkey_public(shared_key, &pub, NULL), LF_OK);
    lf_buf pem = LF_BUF_INIT;
    assert_int_equal(lf_pubkey_to_pem(pub, &pem, NULL), LF_OK);
    const char *good = (const char *)pem.data;

    /* Other key types and small RSA keys. */
    lf_buf ec = foreign_pubkey_pem("EC", 0, "P-256");
    expect_pubkey_rejected((const char *)ec.data, ec.len, LF_ERR_UNSUPPORTED);
    lf_buf ed = foreign_pubkey_pem("ED25519", 0, NULL);
    expect_pubkey_rejected((const char *)ed.data, ed.len, LF_ERR_UNSUPPORTED);
    lf_buf small = foreign_pubkey_pem("RSA", 1024, NULL);
    expect_pubkey_rejected((const char *)small.data, small.len, LF_ERR_UNSUPPORTED);

    /* A private key where a public one belongs. */
    lf_buf priv = LF_BUF_INIT;
    assert_int_equal(lf_privkey_to_pem(shared_key, "pw", &priv, NULL), LF_OK);
    expect_pubkey_rejected((const char *)priv.data, priv.len, LF_ERR_INVALID);

    /* Framing: empty, garbage, leading text, trailing text, two blocks, headers, bad base64,
     * truncated, oversize. */
    expect_pubkey_rejected("", 0, LF_ERR_INVALID);
    expect_pubkey_rejected("garbage", 7, LF_ERR_INVALID);
    lf_buf t = LF_BUF_INIT;
    assert_int_equal(lf_buf_printf(&t, "note: my key\n%s", good), LF_OK);
    expect_pubkey_rejected((const char *)t.data, t.len, LF_ERR_INVALID);
    lf_buf_reset(&t);
    assert_int_equal(lf_buf_printf(&t, "%sextra\n", good), LF_OK);
    expect_pubkey_rejected((const char *)t.data, t.len, LF_ERR_INVALID);
    lf_buf_reset(&t);
    assert_int_equal(lf_buf_printf(&t, "%s%s", good, good), LF_OK);
    expect_pubkey_rejected((const char *)t.data, t.len, LF_ERR_INVALID);
    lf_buf_reset(&t);
    assert_int_equal(
        lf_buf_printf(&t, "-----BEGIN PUBLIC KEY-----\nProc-Type: 4,ENCRYPTED\n\n%s", good + 27),
        LF_OK);
    expect_pubkey_rejected((const char *)t.data, t.len, LF_ERR_INVALID);
    const char *bad_b64 = "-----BEGIN PUBLIC KEY-----\n@@@@\n-----END PUBLIC KEY-----\n";
    expect_pubkey_rejected(bad_b64, strlen(bad_b64), LF_ERR_INVALID);
    const char *not_spki = "-----BEGIN PUBLIC KEY-----\nMAA=\n-----END PUBLIC KEY-----\n";
    expect_pubkey_rejected(not_spki, strlen(not_spki), LF_ERR_INVALID);
    expect_pubkey_rejected(good, pem.len - 30, LF_ERR_INVALID); /* END line cut off */
    /* DER with a byte missing: drop the last full base64 line of the body. */
    lf_buf_reset(&t);
    assert_int_equal(lf_buf_append_str(&t, good), LF_OK);
    char *last_body_line = strstr((char *)t.data, "\n-----END");
    *last_body_line = '\0';
    char *cut = strrchr((char *)t.data, '\n');
    *cut = '\0';
    t.len = strlen((char *)t.data);
    assert_int_equal(lf_buf_append_str(&t, "\n-----END PUBLIC KEY-----\n"), LF_OK);
    expect_pubkey_rejected((const char *)t.data, t.len, LF_ERR_INVALID);
    char *big = malloc(20000);
    assert_non_null(big);
    memset(big, ' ', 20000);
    memcpy(big, good, pem.len);
    expect_pubkey_rejected(big, 20000, LF_ERR_TOO_LARGE);
    free(big);

    lf_buf_free(&t);
    lf_buf_free(&priv);
    lf_buf_free(&ec);
    lf_buf_free(&ed);
    lf_buf_free(&small);
    lf_buf_free(&pem);
    lf_pubkey_free(pub);
}

/* ---------------- RSA-OAEP ---------------- */

static void test_oaep_round_trip_and_tamper(void **state)
{
    (void)state;
    lf_pubkey *pub = NULL;
    assert_int_equal(lf_privkey_public(shared_key, &pub, NULL), LF_OK);
    uint8_t secret[32];
    assert_int_equal(lf_random(secret, sizeof secret, NULL), LF_OK);
    lf_buf w1 = LF_BUF_INIT, w2 = LF_BUF_INIT, out = LF_BUF_INIT;
    assert_int_equal(lf_rsa_wrap(pub, secret, sizeof secret, &w1, NULL), LF_OK);
    assert_int_equal(lf_rsa_wrap(pub, secret, sizeof secret, &w2, NULL), LF_OK);
    assert_int_equal(w1.len, 256);
    assert_memory_not_equal(w1.data, w2.data, w1.len); /* OAEP is randomised */
    assert_int_equal(lf_rsa_unwrap(shared_key, w1.data, w1.len, &out, NULL), LF_OK);
    assert_int_equal(out.len, sizeof secret);
    assert_memory_equal(out.data, secret, sizeof secret);

    /* Tampering anywhere is an authentication failure and appends nothing. */
    const size_t positions[] = {0, 1, 100, 128, 254, 255};
    for (size_t i = 0; i < sizeof positions / sizeof *positions; i++) {
        lf_buf_reset(&out);
        w1.data[positions[i]] ^= 0x04;
        lf_error err = {0};
        assert_int_equal(lf_rsa_unwrap(shared_key, w1.data, w1.len, &out, &err), LF_ERR_AUTH);
        assert_int_equal(out.len, 0);
        w1.data[positions[i]] ^= 0x04;
    }
    /* All-ones is above the modulus. */
    memset(w2.data, 0xff, w2.len);
    assert_int_equal(lf_rsa_unwrap(shared_key, w2.data, w2.len, &out, NULL), LF_ERR_AUTH);
    /* Wrong lengths are refused before decryption. */
    assert_int_equal(lf_rsa_unwrap(shared_key, w1.data, w1.len - 1, &out, NULL), LF_ERR_INVALID);
    assert_int_equal(lf_rsa_unwrap(shared_key, w1.data, 0, &out, NULL), LF_ERR_INVALID);
    lf_buf longer = LF_BUF_INIT;
    assert_int_equal(lf_buf_append(&longer, w1.data, w1.len), LF_OK);
    assert_int_equal(lf_buf_append_u8(&longer, 0), LF_OK);
    assert_int_equal(lf_rsa_unwrap(shared_key, longer.data, longer.len, &out, NULL),
                     LF_ERR_INVALID);
    assert_int_equal(out.len, 0);

    /* Another key cannot unwrap it. */
    lf_privkey *other = NULL;
    assert_int_equal(lf_privkey_generate(2048, &other, NULL), LF_OK);
    assert_int_equal(lf_rsa_unwrap(other, w1.data, w1.len, &out, NULL), LF_ERR_AUTH);
    lf_privkey_free(other);

    /* Secret lengths: 0 and 2048/8 - 66 = 190 work, 191 is too large. */
    uint8_t big[191] = {0};
    lf_buf_reset(&w2);
    assert_int_equal(lf_rsa_wrap(pub, NULL, 0, &w2, NULL), LF_OK);
    assert_int_equal(lf_rsa_unwrap(shared_key, w2.data, w2.len, &out, NULL), LF_OK);
    assert_int_equal(out.len, 0);
    lf_buf_reset(&w2);
    assert_int_equal(lf_rsa_wrap(pub, big, 190, &w2, NULL), LF_OK);
    assert_int_equal(lf_rsa_unwrap(shared_key, w2.data, w2.len, &out, NULL), LF_OK);
    assert_int_equal(out.len, 190);
    lf_buf_reset(&w2);
    assert_int_equal(lf_rsa_wrap(pub, big, 191, &w2, NULL), LF_ERR_TOO_LARGE);
    assert_int_equal(w2.len, 0);

    lf_buf_free(&longer);
    lf_buf_free(&w1);
    lf_buf_free(&w2);
    lf_buf_free_secret(&out);
    lf_pubkey_free(pub);
}

static void test_rsa_4096(void **state)
{
    (void)state;
    lf_privkey *key = NULL;
    lf_pubkey *pub = NULL;
    assert_int_equal(lf_privkey_generate(LF_RSA_BITS, &key, NULL), LF_OK);
    assert_int_equal(lf_privkey_public(key, &pub, NULL), LF_OK);
    assert_int_equal(lf_pubkey_bits(pub), 4096);
    uint8_t secret[446];
    assert_int_equal(lf_random(secret, sizeof secret, NULL), LF_OK);
    lf_buf wrapped = LF_BUF_INIT, out = LF_BUF_INIT;
    assert_int_equal(lf_rsa_wrap(pub, secret, sizeof secret, &wrapped, NULL), LF_OK);
    assert_int_equal(wrapped.len, 512);
    assert_int_equal(lf_rsa_unwrap(key, wrapped.data, wrapped.len, &out, NULL), LF_OK);
    assert_int_equal(out.len, sizeof secret);
    assert_memory_equal(out.data, secret, sizeof secret);
    lf_buf_reset(&wrapped);
    uint8_t too_big[447] = {0};
    assert_int_equal(lf_rsa_wrap(pub, too_big, sizeof too_big, &wrapped, NULL), LF_ERR_TOO_LARGE);
    lf_buf_free(&wrapped);
    lf_buf_free_secret(&out);
    lf_pubkey_free(pub);
    lf_privkey_free(key);
}

/* Values wrapped by Node's crypto.publicEncrypt unwrap here (testdata/vectors/rsa-oaep.json). */
static void test_oaep_node_vectors(void **state)
{
    (void)state;
    json_t *root = lf_test_load_vectors("rsa-oaep.json");
    const char *priv_pem = lf_test_str(root, "private_key_pem");
    const char *pub_pem = lf_test_str(root, "public_key_pem");
    const char *passphrase = lf_test_str(root, "passphrase");

    lf_privkey *key = NULL;
    lf_error err = {0};
    assert_int_equal(lf_privkey_from_pem(priv_pem, strlen(priv_pem), "not it", &key, &err),
                     LF_ERR_PASSPHRASE);
    assert_int_equal(lf_privkey_from_pem(priv_pem, strlen(priv_pem), passphrase, &key, &err),
                     LF_OK);
    lf_pubkey *pub = NULL, *derived = NULL;
    assert_int_equal(lf_pubkey_from_pem(pub_pem, strlen(pub_pem), &pub, NULL), LF_OK);
    assert_int_equal(lf_privkey_public(key, &derived, NULL), LF_OK);
    assert_int_equal(lf_pubkey_bits(pub), 4096);
    char fp[LF_FINGERPRINT_STR_LEN], fp2[LF_FINGERPRINT_STR_LEN];
    assert_int_equal(lf_pubkey_fingerprint(pub, fp, NULL), LF_OK);
    assert_int_equal(lf_pubkey_fingerprint(derived, fp2, NULL), LF_OK);
    assert_string_equal(fp, lf_test_str(root, "fingerprint"));
    assert_string_equal(fp2, fp);
    /* Our PEM of the public key is Node's, byte for byte. */
    lf_buf our_pem = LF_BUF_INIT;
    assert_int_equal(lf_pubkey_to_pem(pub, &our_pem, NULL), LF_OK);
    assert_string_equal((const char *)our_pem.data, pub_pem);

    json_t *vectors = json_object_get(root, "vectors");
    assert_int_equal(json_array_size(vectors), 5);
    size_t i;
    json_t *v;
    json_array_foreach(vectors, i, v)
    {
        lf_buf secret = lf_test_hex(v, "secret"), wrapped = lf_test_hex(v, "wrapped");
        lf_buf out = LF_BUF_INIT;
        assert_int_equal(wrapped.len, 512);
        assert_int_equal(lf_rsa_unwrap(key, wrapped.data, wrapped.len, &out, NULL), LF_OK);
        assert_int_equal(out.len, secret.len);
        if (secret.len > 0)
            assert_memory_equal(out.data, secret.data, secret.len);
        lf_buf_reset(&out);
        wrapped.data[wrapped.len / 2] ^= 0x10;
        assert_int_equal(lf_rsa_unwrap(key, wrapped.data, wrapped.len, &out, NULL), LF_ERR_AUTH);
        assert_int_equal(out.len, 0);
        lf_buf_free(&secret);
        lf_buf_free(&wrapped);
        lf_buf_free(&out);
    }
    lf_buf_free(&our_pem);
    lf_pubkey_free(pub);
    lf_pubkey_free(derived);
    lf_privkey_free(key);
    json_decref(root);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_aead_vectors),
        cmocka_unit_test(test_aead_tamper),
        cmocka_unit_test(test_aead_truncated_and_oversize),
        cmocka_unit_test(test_aead_context_reuse),
        cmocka_unit_test(test_sha256),
        cmocka_unit_test(test_hmac_vectors),
        cmocka_unit_test(test_hkdf_vectors),
        cmocka_unit_test(test_hkdf_limits),
        cmocka_unit_test(test_generate_rejects_sizes),
        cmocka_unit_test(test_privkey_pem_round_trip),
        cmocka_unit_test(test_privkey_rejects),
        cmocka_unit_test(test_pubkey_round_trip_and_fingerprint),
        cmocka_unit_test(test_pubkey_rejects),
        cmocka_unit_test(test_oaep_round_trip_and_tamper),
        cmocka_unit_test(test_rsa_4096),
        cmocka_unit_test(test_oaep_node_vectors),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}

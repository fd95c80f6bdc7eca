/*
 * test_credentials.c — API keys and personal access tokens (docs/PROTOCOL.md §4): generation,
 * strict parsing (testdata/vectors/credentials.json plus hand-written cases), the verifier,
 * the stored record and lf_credential_check, scope strings, and the rule that no error message
 * ever contains the secret or the whole credential.
 */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "logflux/credentials.h"
#include "logflux/crypto.h"

static const char *err_name(lf_err rc)
{
    switch (rc) {
    case LF_OK:
        return "LF_OK";
    case LF_ERR_INVALID:
        return "LF_ERR_INVALID";
    case LF_ERR_AUTH:
        return "LF_ERR_AUTH";
    case LF_ERR_EXPIRED:
        return "LF_ERR_EXPIRED";
    case LF_ERR_SCOPE:
        return "LF_ERR_SCOPE";
    default:
        return "other";
    }
}

/* The message must not contain the credential, nor any 10-character window of it that lies in
 * its secret part (from `secret_from` on): a leak of part of a secret is still a leak. */
static void assert_no_leak(const char *message, const char *key, size_t len, size_t secret_from)
{
    if (len == 0)
        return;
    char *copy = malloc(len + 1);
    assert_non_null(copy);
    memcpy(copy, key, len);
    copy[len] = '\0';
    if (strlen(copy) == len && len >= 10) /* shorter ones may be words; windows cover NULs */
        assert_null(strstr(message, copy));
    for (size_t i = secret_from; i + 10 <= len; i++) {
        char window[11];
        memcpy(window, key + i, 10);
        window[10] = '\0';
        if (strlen(window) == 10 && strstr(message, window) != NULL)
            fail_msg("error message '%s' contains part of the secret", message);
    }
    free(copy);
}

/* Position where a credential's secret starts (what lies before it is public), or 0. */
static size_t secret_start_n(const char *key, size_t len)
{
    lf_credential c;
    if (key == NULL)
        return 0;
    if (lf_credential_parse(key, len, &c, NULL) == LF_OK)
        return (size_t)(c.secret - key);
    if (len >= 3 && memcmp(key, "lf_", 3) == 0)
        return 3;
    return 0;
}

static size_t secret_start(const char *key)
{
    return secret_start_n(key, strlen(key));
}

static lf_err parse_expect_fail(const char *key, size_t len, lf_err want)
{
    lf_credential c;
    lf_error err = {0};
    lf_err rc = lf_credential_parse(key, len, &c, &err);
    assert_int_equal(rc, want);
    assert_int_equal(err.code, want);
    assert_true(strlen(err.message) > 0);
    assert_no_leak(err.message, key, len, secret_start_n(key, len));
    assert_null(c.secret); /* zeroed on failure */
    return rc;
}

static void test_vectors_valid(void **state)
{
    (void)state;
    json_t *root = lf_test_load_vectors("credentials.json");
    assert_string_equal(lf_test_str(root, "verifier_info"), "logflux credential verifier v1");
    json_t *valid = json_object_get(root, "valid");
    assert_true(json_array_size(valid) >= 10);
    size_t i;
    json_t *v;
    json_array_foreach(valid, i, v)
    {
        const char *key = lf_test_str(v, "key");
        lf_credential c;
        lf_error err = {0};
        assert_int_equal(lf_credential_parse(key, strlen(key), &c, &err), LF_OK);
        assert_string_equal(lf_credential_kind_name(c.pub.kind), lf_test_str(v, "kind"));
        assert_string_equal(lf_region_name(c.pub.region), lf_test_str(v, "region"));
        const char *form = lf_test_str(v, "form");
        lf_credential_form want_form = strcmp(form, "current") == 0 ? LF_CREDENTIAL_FORM_CURRENT
                                       : strcmp(form, "legacy") == 0
                                           ? LF_CREDENTIAL_FORM_LEGACY
                                           : LF_CREDENTIAL_FORM_LEGACY_OPAQUE;
        assert_int_equal(c.form, want_form);
        assert_string_equal(c.pub.id, lf_test_str(v, "id"));
        assert_string_equal(c.pub.text, lf_test_str(v, "id_text"));
        const char *secret = lf_test_str(v, "secret");
        assert_int_equal(c.secret_len, strlen(secret));
        assert_memory_equal(c.secret, secret, c.secret_len);
        /* The secret is a span of the input, ending it. */
        assert_ptr_equal(c.secret + c.secret_len, key + strlen(key));

        /* The id text parses back to the same public half. */
        lf_credential_id id;
        assert_int_equal(lf_credential_id_parse(c.pub.text, strlen(c.pub.text), &id, NULL), LF_OK);
        assert_int_equal(id.kind, c.pub.kind);
        assert_int_equal(id.region, c.pub.region);
        assert_string_equal(id.id, c.pub.id);
        assert_string_equal(id.text, c.pub.text);

        uint8_t verifier[LF_CREDENTIAL_VERIFIER_LEN];
        assert_int_equal(lf_credential_verifier(key, strlen(key), verifier, NULL), LF_OK);
        lf_buf want = lf_test_hex(v, "verifier");
        assert_int_equal(want.len, sizeof verifier);
        assert_memory_equal(verifier, want.data, sizeof verifier);
        lf_buf_free(&want);

        /* Recompute from the definition: salt is the ASCII of the 16 hex digits. */
        const char *info = "logflux credential verifier v1";
        uint8_t direct[32];
        assert_int_equal(lf_hkdf_sha256(key, strlen(key), c.pub.id, 16, info, strlen(info), direct,
                                        sizeof direct, NULL),
                         LF_OK);
        assert_memory_equal(direct, verifier, 32);

        if (c.form == LF_CREDENTIAL_FORM_LEGACY_OPAQUE) {
            uint8_t digest[32];
            char hex[65];
            assert_int_equal(lf_sha256(key, strlen(key), digest, NULL), LF_OK);
            lf_hex_encode(digest, 32, hex);
            assert_memory_equal(c.pub.id, hex, 16);
        }
    }
    json_decref(root);
}

static void test_vectors_invalid(void **state)
{
    (void)state;
    json_t *root = lf_test_load_vectors("credentials.json");
    json_t *invalid = json_object_get(root, "invalid");
    assert_true(json_array_size(invalid) >= 20);
    size_t i;
    json_t *v;
    json_array_foreach(invalid, i, v)
    {
        const char *key = lf_test_str(v, "key");
        lf_credential c;
        lf_error err = {0};
        lf_err rc = lf_credential_parse(key, strlen(key), &c, &err);
        if (strcmp(err_name(rc), lf_test_str(v, "error")) != 0)
            fail_msg("vector '%s': got %s", lf_test_str(v, "name"), err_name(rc));
        assert_no_leak(err.message, key, strlen(key), secret_start(key));
        uint8_t verifier[32];
        assert_int_equal(lf_credential_verifier(key, strlen(key), verifier, &err), rc);
        assert_no_leak(err.message, key, strlen(key), secret_start(key));
    }
    json_t *ids = json_object_get(root, "credential_ids");
    assert_true(json_array_size(ids) >= 10);
    json_array_foreach(ids, i, v)
    {
        const char *text = lf_test_str(v, "text");
        lf_credential_id id;
        lf_err rc = lf_credential_id_parse(text, strlen(text), &id, NULL);
        json_t *e = json_object_get(v, "error");
        if (e != NULL) {
            assert_string_equal(err_name(rc), json_string_value(e));
            continue;
        }
        assert_int_equal(rc, LF_OK);
        assert_string_equal(lf_credential_kind_name(id.kind), lf_test_str(v, "kind"));
        assert_string_equal(lf_region_name(id.region), lf_test_str(v, "region"));
        assert_string_equal(id.id, lf_test_str(v, "id"));
        assert_string_equal(id.text, text);
    }
    json_decref(root);
}

#define SPEC_KEY "eu-lf_0123456789abcdef_Q2hvb3NlIGEgcmFuZG9tIHNlY3JldCBvZiAzMiBieXQ"

static void test_parse_handwritten(void **state)
{
    (void)state;
    lf_credential c;
    /* Secret with '_' and '-' in every position that could confuse a split on '_'. */
    const char *tricky = "us-lf_usr_0011223344556677__-_-_-_-_-_-_-_-_-_-_-_-_-_-_-_-_-_-_-_-_-A";
    assert_int_equal(strlen(tricky), 70);
    assert_int_equal(lf_credential_parse(tricky, strlen(tricky), &c, NULL), LF_OK);
    assert_int_equal(c.pub.kind, LF_CREDENTIAL_PAT);
    assert_int_equal(c.pub.region, LF_REGION_US);
    assert_string_equal(c.pub.id, "0011223344556677");
    assert_string_equal(c.pub.text, "us-lf_usr_0011223344556677");
    assert_int_equal(c.secret_len, 43);
    assert_memory_equal(c.secret, "_-_-", 4);

    /* An API key whose id starts like "usr_" cannot exist (hex), and an API key whose secret
     * starts with "usr_" is still an API key. */
    const char *usr_secret = "eu-lf_0123456789abcdef_usr_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
    assert_int_equal(lf_credential_parse(usr_secret, strlen(usr_secret), &c, NULL), LF_OK);
    assert_int_equal(c.pub.kind, LF_CREDENTIAL_API_KEY);
    assert_string_equal(c.pub.text, "eu-lf_0123456789abcdef");

    /* Every region. */
    const char *regions[] = {"eu", "us", "ca", "au", "ap"};
    for (size_t r = 0; r < 5; r++) {
        char key[80];
        snprintf(key, sizeof key, "%s%s", regions[r], &SPEC_KEY[2]);
        assert_int_equal(lf_credential_parse(key, strlen(key), &c, NULL), LF_OK);
        assert_string_equal(lf_region_name(c.pub.region), regions[r]);
        lf_region back;
        assert_int_equal(lf_region_from_string(regions[r], 2, &back, NULL), LF_OK);
        assert_int_equal(back, c.pub.region);
    }
    lf_region back;
    assert_int_equal(lf_region_from_string("EU", 2, &back, NULL), LF_ERR_INVALID);
    assert_int_equal(lf_region_from_string("eu", 3, &back, NULL), LF_ERR_INVALID);
    assert_int_equal(lf_region_from_string("", 0, &back, NULL), LF_ERR_INVALID);
    assert_string_equal(lf_region_name(LF_REGION_NONE), "");
    assert_null(lf_region_name((lf_region)99));
    assert_null(lf_credential_kind_name((lf_credential_kind)0));

    /* Rejections with leak checks: wrong region, short secret, bad characters, NUL, length. */
    char key[300];
    snprintf(key, sizeof key, "de%s", &SPEC_KEY[2]);
    parse_expect_fail(key, strlen(key), LF_ERR_INVALID);
    parse_expect_fail(SPEC_KEY, strlen(SPEC_KEY) - 1, LF_ERR_INVALID);
    snprintf(key, sizeof key, "%s", SPEC_KEY);
    key[40] = '\0'; /* embedded NUL inside the given length */
    parse_expect_fail(key, strlen(SPEC_KEY), LF_ERR_INVALID);
    key[40] = '*';
    parse_expect_fail(key, strlen(SPEC_KEY), LF_ERR_INVALID);
    snprintf(key, sizeof key, "%s", SPEC_KEY);
    key[10] = '\0'; /* NUL in the id */
    parse_expect_fail(key, strlen(SPEC_KEY), LF_ERR_INVALID);
    parse_expect_fail("lf_abc\0defghijklmnopq", 21, LF_ERR_INVALID);
    memset(key, 'a', sizeof key);
    memcpy(key, "lf_", 3);
    parse_expect_fail(key, 260, LF_ERR_INVALID);
    parse_expect_fail(key, 300, LF_ERR_INVALID);
    assert_int_equal(lf_credential_parse(key, 259, &c, NULL), LF_OK); /* 256 after lf_ */
    parse_expect_fail(NULL, 0, LF_ERR_INVALID);
    parse_expect_fail("eu-lf_usr_", 10, LF_ERR_INVALID);
    parse_expect_fail("e", 1, LF_ERR_INVALID);
    parse_expect_fail("eu-lf", 5, LF_ERR_INVALID);
}

static void test_id_parse(void **state)
{
    (void)state;
    lf_credential_id id;
    lf_error err = {0};
    assert_int_equal(lf_credential_id_parse("ca-lf_usr_0123456789abcdef", 26, &id, &err), LF_OK);
    assert_int_equal(id.kind, LF_CREDENTIAL_PAT);
    assert_int_equal(id.region, LF_REGION_CA);
    assert_int_equal(lf_credential_id_parse("lf_0123456789abcdef", 19, &id, NULL), LF_OK);
    assert_int_equal(id.region, LF_REGION_NONE);
    assert_int_equal(id.kind, LF_CREDENTIAL_API_KEY);
    const char *bad[] = {"lf_0123456789abcdef_",      "au-lf_usr_0123456789abcdeF",
                         "au-lf_usr0123456789abcdef", "au_lf_0123456789abcdef",
                         "au-lf_0123456789abcdef\n",  "au-lf_ 0123456789abcdef"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        assert_int_equal(lf_credential_id_parse(bad[i], strlen(bad[i]), &id, &err), LF_ERR_INVALID);
        assert_int_equal(id.text[0], '\0');
    }
    assert_int_equal(lf_credential_id_parse("eu-lf_0123\0"
                                            "56789abcdef",
                                            22, &id, NULL),
                     LF_ERR_INVALID);
    assert_int_equal(lf_credential_id_parse(NULL, 0, &id, NULL), LF_ERR_INVALID);
    assert_int_equal(lf_credential_id_parse(SPEC_KEY, strlen(SPEC_KEY), &id, &err), LF_ERR_INVALID);
    assert_no_leak(err.message, SPEC_KEY, strlen(SPEC_KEY), 22);
}

static void test_generate(void **state)
{
    (void)state;
#define GEN_N 200
    static char keys[GEN_N][LF_CREDENTIAL_GENERATED_MAX + 1];
    const lf_region regions[] = {LF_REGION_EU, LF_REGION_US, LF_REGION_CA, LF_REGION_AU,
                                 LF_REGION_AP};
    for (int i = 0; i < GEN_N; i++) {
        lf_credential_kind kind = i % 2 ? LF_CREDENTIAL_PAT : LF_CREDENTIAL_API_KEY;
        lf_region region = regions[i % 5];
        lf_credential parts;
        assert_int_equal(lf_credential_generate(kind, region, keys[i], &parts, NULL), LF_OK);
        size_t len = strlen(keys[i]);
        assert_int_equal(len, kind == LF_CREDENTIAL_PAT ? 70 : 66);
        assert_int_equal(parts.pub.kind, kind);
        assert_int_equal(parts.pub.region, region);
        assert_int_equal(parts.form, LF_CREDENTIAL_FORM_CURRENT);
        assert_int_equal(parts.secret_len, 43);
        assert_ptr_equal(parts.secret, keys[i] + len - 43);
        assert_memory_equal(keys[i], parts.pub.text, strlen(parts.pub.text));
        assert_int_equal(keys[i][strlen(parts.pub.text)], '_');
        for (size_t k = 0; k < 16; k++)
            assert_non_null(strchr("0123456789abcdef", parts.pub.id[k]));
        /* Reparses to the same thing. */
        lf_credential again;
        assert_int_equal(lf_credential_parse(keys[i], len, &again, NULL), LF_OK);
        assert_string_equal(again.pub.text, parts.pub.text);
        /* The secret decodes to exactly 32 bytes. */
        lf_buf raw = LF_BUF_INIT;
        assert_int_equal(lf_base64_decode(parts.secret, 43, &raw, true, NULL), LF_OK);
        assert_int_equal(raw.len, 32);
        lf_buf_free_secret(&raw);
    }
    /* Uniqueness of ids and secrets. */
    for (int i = 0; i < GEN_N; i++)
        for (int j = i + 1; j < GEN_N; j++) {
            lf_credential a, b;
            assert_int_equal(lf_credential_parse(keys[i], strlen(keys[i]), &a, NULL), LF_OK);
            assert_int_equal(lf_credential_parse(keys[j], strlen(keys[j]), &b, NULL), LF_OK);
            assert_string_not_equal(a.pub.id, b.pub.id);
            assert_false(memcmp(a.secret, b.secret, 43) == 0);
        }
    for (int i = 0; i < GEN_N; i++)
        lf_wipe(keys[i], sizeof keys[i]);

    char out[LF_CREDENTIAL_GENERATED_MAX + 1];
    lf_error err = {0};
    assert_int_equal(lf_credential_generate(LF_CREDENTIAL_API_KEY, LF_REGION_NONE, out, NULL, &err),
                     LF_ERR_INVALID);
    assert_int_equal(lf_credential_generate(LF_CREDENTIAL_API_KEY, (lf_region)9, out, NULL, NULL),
                     LF_ERR_INVALID);
    assert_int_equal(lf_credential_generate((lf_credential_kind)7, LF_REGION_EU, out, NULL, NULL),
                     LF_ERR_INVALID);
    assert_int_equal(lf_credential_generate(LF_CREDENTIAL_PAT, LF_REGION_AP, out, NULL, NULL),
                     LF_OK);
    assert_memory_equal(out, "ap-lf_usr_", 10);
}

static void test_scopes(void **state)
{
    (void)state;
    uint32_t s;
    char text[LF_SCOPES_STR_MAX + 1];
    assert_int_equal(lf_scopes_from_string("ingest,read", 11, &s, NULL), LF_OK);
    assert_int_equal(s, LF_SCOPE_INGEST | LF_SCOPE_READ);
    assert_int_equal(lf_scopes_from_string("admin,write,read,ingest", 23, &s, NULL), LF_OK);
    assert_int_equal(s, LF_SCOPE_ALL);
    assert_int_equal(lf_scopes_to_string(s, text, NULL), LF_OK);
    assert_string_equal(text, "ingest,read,write,admin");
    assert_int_equal(lf_scopes_from_string("", 0, &s, NULL), LF_OK);
    assert_int_equal(s, 0);
    assert_int_equal(lf_scopes_to_string(0, text, NULL), LF_OK);
    assert_string_equal(text, "");
    assert_int_equal(lf_scopes_to_string(LF_SCOPE_WRITE | LF_SCOPE_INGEST, text, NULL), LF_OK);
    assert_string_equal(text, "ingest,write");
    assert_int_equal(lf_scopes_to_string(0x10, text, NULL), LF_ERR_INVALID);
    for (uint32_t m = 0; m <= LF_SCOPE_ALL; m++) {
        assert_int_equal(lf_scopes_to_string(m, text, NULL), LF_OK);
        assert_int_equal(lf_scopes_from_string(text, strlen(text), &s, NULL), LF_OK);
        assert_int_equal(s, m);
    }
    const char *bad[] = {"read,",      ",read",     "read,,write", "read,read", "Read",
                         "read write", "superuser", "read ,write", "reads"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        assert_int_equal(lf_scopes_from_string(bad[i], strlen(bad[i]), &s, NULL), LF_ERR_INVALID);
    assert_int_equal(lf_scopes_from_string("re\0d", 4, &s, NULL), LF_ERR_INVALID);

    assert_int_equal(lf_scopes_effective(LF_SCOPE_ADMIN),
                     LF_SCOPE_ADMIN | LF_SCOPE_WRITE | LF_SCOPE_READ);
    assert_int_equal(lf_scopes_effective(LF_SCOPE_WRITE), LF_SCOPE_WRITE | LF_SCOPE_READ);
    assert_int_equal(lf_scopes_effective(LF_SCOPE_READ), LF_SCOPE_READ);
    assert_int_equal(lf_scopes_effective(LF_SCOPE_INGEST), LF_SCOPE_INGEST);
}

/* check() and assert the code, and that the message does not leak the presented key. */
static void check_expect(const lf_credential_record *rec, const char *key, int64_t now,
                         uint32_t required, const char *app, lf_err want)
{
    lf_error err = {0};
    lf_err rc = lf_credential_check(rec, key, key ? strlen(key) : 0, now, required, app, &err);
    if (rc != want)
        fail_msg("check: got %s, want %s (%s)", err_name(rc), err_name(want), err.message);
    if (want != LF_OK && key != NULL) {
        assert_true(strlen(err.message) > 0);
        assert_no_leak(err.message, key, strlen(key), secret_start(key));
    }
}

static void test_record_and_check(void **state)
{
    (void)state;
    char key[LF_CREDENTIAL_GENERATED_MAX + 1], other[LF_CREDENTIAL_GENERATED_MAX + 1];
    lf_credential parts;
    assert_int_equal(lf_credential_generate(LF_CREDENTIAL_PAT, LF_REGION_EU, key, &parts, NULL),
                     LF_OK);
    lf_credential_record rec;
    assert_int_equal(
        lf_credential_record_init(key, strlen(key), LF_SCOPE_WRITE, NULL, 1000, 2000, &rec, NULL),
        LF_OK);
    assert_int_equal(rec.kind, LF_CREDENTIAL_PAT);
    assert_int_equal(rec.region, LF_REGION_EU);
    assert_string_equal(rec.id, parts.pub.id);
    uint8_t v[32];
    assert_int_equal(lf_credential_verifier(key, strlen(key), v, NULL), LF_OK);
    assert_memory_equal(rec.verifier, v, 32);
    /* The record holds no copy of the secret. */
    for (size_t i = 0; i + 8 <= sizeof rec; i++)
        assert_false(memcmp((const char *)&rec + i, parts.secret, 8) == 0);

    check_expect(&rec, key, 1500, LF_SCOPE_WRITE, NULL, LF_OK);
    check_expect(&rec, key, 1500, LF_SCOPE_READ, NULL, LF_OK); /* write implies read */
    check_expect(&rec, key, 1500, 0, NULL, LF_OK);
    check_expect(&rec, key, 1500, LF_SCOPE_ADMIN, NULL, LF_ERR_SCOPE);
    check_expect(&rec, key, 1500, LF_SCOPE_INGEST, NULL, LF_ERR_SCOPE);
    check_expect(&rec, key, 1500, LF_SCOPE_READ | LF_SCOPE_ADMIN, NULL, LF_ERR_SCOPE);
    check_expect(&rec, key, 1500, 0x40, NULL, LF_ERR_INVALID);
    /* Expiry: alive one second before, dead at exactly `expires`. */
    check_expect(&rec, key, 1999, LF_SCOPE_READ, NULL, LF_OK);
    check_expect(&rec, key, 2000, LF_SCOPE_READ, NULL, LF_ERR_EXPIRED);
    check_expect(&rec, key, INT64_MAX, LF_SCOPE_READ, NULL, LF_ERR_EXPIRED);

    /* Wrong secret, same id: flip one secret character (keeping it canonical at the end). */
    snprintf(other, sizeof other, "%s", key);
    other[40] = other[40] == 'A' ? 'B' : 'A';
    check_expect(&rec, other, 1500, LF_SCOPE_READ, NULL, LF_ERR_AUTH);
    /* ...even when the record is expired or revoked: the reason is only for the holder. */
    check_expect(&rec, other, 5000, LF_SCOPE_READ, NULL, LF_ERR_AUTH);
    /* Another credential altogether (id mismatch), and the same id as an API key. */
    assert_int_equal(lf_credential_generate(LF_CREDENTIAL_PAT, LF_REGION_EU, other, NULL, NULL),
                     LF_OK);
    check_expect(&rec, other, 1500, LF_SCOPE_READ, NULL, LF_ERR_AUTH);
    snprintf(other, sizeof other, "eu-lf_%s", key + 10);
    check_expect(&rec, other, 1500, LF_SCOPE_READ, NULL, LF_ERR_AUTH);
    snprintf(other, sizeof other, "us%s", key + 2); /* same id, other region */
    check_expect(&rec, other, 1500, LF_SCOPE_READ, NULL, LF_ERR_AUTH);
    check_expect(&rec, "garbage", 1500, LF_SCOPE_READ, NULL, LF_ERR_AUTH);
    check_expect(&rec, NULL, 1500, LF_SCOPE_READ, NULL, LF_ERR_AUTH);
    /* Embedded NUL in the presented key. */
    snprintf(other, sizeof other, "%s", key);
    other[50] = '\0';
    lf_error err = {0};
    assert_int_equal(lf_credential_check(&rec, other, strlen(key), 1500, 0, NULL, &err),
                     LF_ERR_AUTH);
    assert_no_leak(err.message, key, strlen(key), 26);

    /* Revoked. */
    rec.revoked = true;
    check_expect(&rec, key, 1500, LF_SCOPE_READ, NULL, LF_ERR_AUTH);
    rec.revoked = false;

    /* Never expiring. */
    rec.expires = 0;
    check_expect(&rec, key, INT64_MAX, LF_SCOPE_READ, NULL, LF_OK);

    /* Admin implies everything but ingest. */
    rec.scopes = LF_SCOPE_ADMIN;
    check_expect(&rec, key, 1500, LF_SCOPE_READ | LF_SCOPE_WRITE | LF_SCOPE_ADMIN, NULL, LF_OK);
    check_expect(&rec, key, 1500, LF_SCOPE_INGEST, NULL, LF_ERR_SCOPE);
    rec.scopes = LF_SCOPE_READ;
    check_expect(&rec, key, 1500, LF_SCOPE_WRITE, NULL, LF_ERR_SCOPE);
    rec.scopes = 0;
    check_expect(&rec, key, 1500, LF_SCOPE_READ, NULL, LF_ERR_SCOPE);

    assert_int_equal(lf_credential_check(NULL, key, strlen(key), 0, 0, NULL, NULL), LF_ERR_INVALID);
    lf_wipe(key, sizeof key);
    lf_wipe(other, sizeof other);
}

static void test_app_binding(void **state)
{
    (void)state;
    char key[LF_CREDENTIAL_GENERATED_MAX + 1];
    assert_int_equal(lf_credential_generate(LF_CREDENTIAL_API_KEY, LF_REGION_AU, key, NULL, NULL),
                     LF_OK);
    lf_credential_record rec;
    assert_int_equal(lf_credential_record_init(key, strlen(key), LF_SCOPE_INGEST, "billing-api.v2",
                                               10, 0, &rec, NULL),
                     LF_OK);
    assert_string_equal(rec.app, "billing-api.v2");
    check_expect(&rec, key, 11, LF_SCOPE_INGEST, "billing-api.v2", LF_OK);
    check_expect(&rec, key, 11, LF_SCOPE_INGEST, "billing-api", LF_ERR_SCOPE);
    check_expect(&rec, key, 11, LF_SCOPE_INGEST, "billing-api.v2x", LF_ERR_SCOPE);
    check_expect(&rec, key, 11, LF_SCOPE_INGEST, NULL, LF_ERR_SCOPE);
    check_expect(&rec, key, 11, LF_SCOPE_INGEST, "", LF_ERR_SCOPE);

    /* Unbound: any app. */
    assert_int_equal(
        lf_credential_record_init(key, strlen(key), LF_SCOPE_INGEST, NULL, 10, 0, &rec, NULL),
        LF_OK);
    assert_string_equal(rec.app, "");
    check_expect(&rec, key, 11, LF_SCOPE_INGEST, "anything", LF_OK);
    check_expect(&rec, key, 11, LF_SCOPE_INGEST, NULL, LF_OK);

    /* record_init validation. */
    lf_error err = {0};
    char long_app[LF_CREDENTIAL_APP_MAX + 2];
    memset(long_app, 'a', sizeof long_app - 1);
    long_app[sizeof long_app - 1] = '\0';
    assert_int_equal(lf_credential_record_init(key, strlen(key), 0, long_app, 0, 0, &rec, &err),
                     LF_ERR_INVALID);
    long_app[LF_CREDENTIAL_APP_MAX] = '\0';
    assert_int_equal(lf_credential_record_init(key, strlen(key), 0, long_app, 0, 0, &rec, &err),
                     LF_OK);
    assert_int_equal(lf_credential_record_init(key, strlen(key), 0, "", 0, 0, &rec, &err),
                     LF_ERR_INVALID);
    assert_int_equal(lf_credential_record_init(key, strlen(key), 0, "a/b", 0, 0, &rec, &err),
                     LF_ERR_INVALID);
    assert_int_equal(lf_credential_record_init(key, strlen(key), 0x20, NULL, 0, 0, &rec, &err),
                     LF_ERR_INVALID);
    assert_int_equal(lf_credential_record_init(key, strlen(key), 0, NULL, 100, 100, &rec, &err),
                     LF_ERR_INVALID);
    assert_int_equal(lf_credential_record_init(key, strlen(key) - 1, 0, NULL, 0, 0, &rec, &err),
                     LF_ERR_INVALID);
    assert_no_leak(err.message, key, strlen(key), 22);
    lf_wipe(key, sizeof key);
}

static void test_legacy_records(void **state)
{
    (void)state;
    /* Legacy keys live through the same record and check, with their (derived) ids. */
    const char *keys[] = {"lf_1020304050607080_QEVKT1RZXmNobXJ3fIGGi5CVmp-kqa6zuL3Cx8zR1ts",
                          "lf_my-legacy_key_value-0001_"};
    for (size_t i = 0; i < 2; i++) {
        lf_credential_record rec;
        assert_int_equal(lf_credential_record_init(keys[i], strlen(keys[i]), LF_SCOPE_INGEST, NULL,
                                                   0, 0, &rec, NULL),
                         LF_OK);
        assert_int_equal(rec.region, LF_REGION_NONE);
        check_expect(&rec, keys[i], 1, LF_SCOPE_INGEST, "app", LF_OK);
        char wrong[80];
        snprintf(wrong, sizeof wrong, "%s", keys[i]);
        wrong[20] = wrong[20] == 'x' ? 'y' : 'x';
        check_expect(&rec, wrong, 1, LF_SCOPE_INGEST, "app", LF_ERR_AUTH);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vectors_valid),     cmocka_unit_test(test_vectors_invalid),
        cmocka_unit_test(test_parse_handwritten), cmocka_unit_test(test_id_parse),
        cmocka_unit_test(test_generate),          cmocka_unit_test(test_scopes),
        cmocka_unit_test(test_record_and_check),  cmocka_unit_test(test_app_binding),
        cmocka_unit_test(test_legacy_records),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

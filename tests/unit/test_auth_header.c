/*
 * test_auth_header.c — the Authorization header parser (include/logflux/auth.h): every vector
 * of testdata/vectors/auth-headers.json, plus shapes JSON cannot carry (embedded NULs, values
 * cut short by `len`), each HMAC parameter missing and duplicated, over-long values, and the
 * rule that no message repeats a bearer token.
 */
#include "testutil.h"

#include <stdio.h>
#include <string.h>

#include "logflux/auth.h"

#define CRED  "eu-lf_0123456789abcdef"
#define TS    "1767225600"
#define NONCE "AAECAwQFBgcICQoLDA0ODw"
#define SIG   "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"

static const char *err_name(lf_err rc)
{
    return rc == LF_OK ? "LF_OK" : rc == LF_ERR_INVALID ? "LF_ERR_INVALID" : "other";
}

static void expect_invalid(const char *value, size_t len)
{
    lf_auth_header h;
    lf_error err = {0};
    assert_int_equal(lf_auth_header_parse(value, len, &h, &err), LF_ERR_INVALID);
    assert_int_equal(err.code, LF_ERR_INVALID);
    assert_true(strlen(err.message) > 0);
    assert_int_equal(h.scheme, LF_AUTH_NONE);
    assert_int_equal(h.bearer[0], '\0');
}

static void test_vectors(void **state)
{
    (void)state;
    json_t *root = lf_test_load_vectors("auth-headers.json");
    json_t *valid = json_object_get(root, "valid"), *invalid = json_object_get(root, "invalid");
    assert_true(json_array_size(valid) >= 10);
    assert_true(json_array_size(invalid) >= 40);
    size_t i;
    json_t *v;
    json_array_foreach(valid, i, v)
    {
        const char *header = lf_test_str(v, "header");
        lf_auth_header h;
        lf_error err = {0};
        if (lf_auth_header_parse(header, strlen(header), &h, &err) != LF_OK)
            fail_msg("vector '%s': %s", lf_test_str(v, "name"), err.message);
        if (strcmp(lf_test_str(v, "scheme"), "bearer") == 0) {
            assert_int_equal(h.scheme, LF_AUTH_BEARER);
            assert_string_equal(h.bearer, lf_test_str(v, "token"));
            continue;
        }
        assert_int_equal(h.scheme, LF_AUTH_HMAC);
        assert_string_equal(h.hmac.credential, lf_test_str(v, "credential"));
        assert_string_equal(h.hmac.credential_id.text, lf_test_str(v, "credential"));
        assert_string_equal(lf_credential_kind_name(h.hmac.credential_id.kind),
                            lf_test_str(v, "kind"));
        assert_string_equal(lf_region_name(h.hmac.credential_id.region), lf_test_str(v, "region"));
        assert_string_equal(h.hmac.credential_id.id, lf_test_str(v, "id"));
        assert_true(h.hmac.timestamp == json_integer_value(json_object_get(v, "timestamp")));
        assert_string_equal(h.hmac.nonce, lf_test_str(v, "nonce"));
        lf_buf nonce = lf_test_hex(v, "nonce_hex"), sig = lf_test_hex(v, "signature");
        assert_int_equal(nonce.len, 16);
        assert_memory_equal(h.hmac.nonce_bytes, nonce.data, 16);
        assert_int_equal(sig.len, 32);
        assert_memory_equal(h.hmac.signature, sig.data, 32);
        lf_buf_free(&nonce);
        lf_buf_free(&sig);
    }
    json_array_foreach(invalid, i, v)
    {
        const char *header = lf_test_str(v, "header");
        lf_auth_header h;
        lf_error err = {0};
        lf_err rc = lf_auth_header_parse(header, strlen(header), &h, &err);
        if (strcmp(err_name(rc), lf_test_str(v, "error")) != 0)
            fail_msg("vector '%s': got %s", lf_test_str(v, "name"), err_name(rc));
        assert_int_equal(h.scheme, LF_AUTH_NONE);
        /* The message never carries the value's payload. */
        const char *sp = strchr(header, ' ');
        if (sp != NULL && strlen(sp + 1) >= 8)
            assert_null(strstr(err.message, sp + 1));
    }
    json_decref(root);
}

static void test_bearer(void **state)
{
    (void)state;
    lf_auth_header h;
    const char *secret = "eu-lf_0123456789abcdef_Q2hvb3NlIGEgcmFuZG9tIHNlY3JldCBvZiAzMiBieXQ";
    char value[700];
    snprintf(value, sizeof value, "Bearer %s", secret);
    assert_int_equal(lf_auth_header_parse(value, strlen(value), &h, NULL), LF_OK);
    assert_int_equal(h.scheme, LF_AUTH_BEARER);
    assert_string_equal(h.bearer, secret);
    lf_wipe(&h, sizeof h);

    /* `len` is authoritative: a value cut short parses as the shorter token. */
    assert_int_equal(lf_auth_header_parse(value, 10, &h, NULL), LF_OK);
    assert_string_equal(h.bearer, "eu-");

    /* Bad characters inside the token never show up in the message. */
    const char bad_chars[] = {'\0', '\t', '\r', '\n', ' ', 0x7f, (char)0x80, (char)0xff};
    for (size_t i = 0; i < sizeof bad_chars; i++) {
        snprintf(value, sizeof value, "Bearer %s", secret);
        value[40] = bad_chars[i];
        lf_error err = {0};
        size_t len = strlen("Bearer ") + strlen(secret);
        assert_int_equal(lf_auth_header_parse(value, len, &h, &err), LF_ERR_INVALID);
        assert_null(strstr(err.message, "Q2hvb3Nl"));
        assert_null(strstr(err.message, "0123456789abcdef"));
        assert_int_equal(h.bearer[0], '\0');
    }
    /* Length limits: 512 fine, 513 not, whatever the characters. */
    memcpy(value, "Bearer ", 7);
    memset(value + 7, 'Z', 600);
    assert_int_equal(lf_auth_header_parse(value, 7 + 512, &h, NULL), LF_OK);
    assert_int_equal(strlen(h.bearer), 512);
    expect_invalid(value, 7 + 513);
    expect_invalid(value, 7 + 600);
    /* Scheme spelled any case; junk around it refused. */
    assert_int_equal(lf_auth_header_parse("bEaReR t", 8, &h, NULL), LF_OK);
    expect_invalid("Bearer\0 tok", 11);
    expect_invalid("Bearerx tok", 11);
    expect_invalid("Bear tok", 8);
    expect_invalid(NULL, 0);
    expect_invalid("", 0);
    expect_invalid("Bearer", 6);
}

/* Build an HMAC header from parameter strings (NULL entries skipped). */
static size_t hmac_value(char *out, size_t cap, const char *const params[], size_t n)
{
    size_t len = (size_t)snprintf(out, cap, "LF-HMAC-SHA256 ");
    for (size_t i = 0; i < n; i++) {
        if (params[i] == NULL)
            continue;
        len += (size_t)snprintf(out + len, cap - len, "%s%s", len > 15 ? ", " : "", params[i]);
    }
    return len;
}

static void test_hmac_params(void **state)
{
    (void)state;
    const char *p[] = {"Credential=" CRED, "Timestamp=" TS, "Nonce=" NONCE, "Signature=" SIG};
    char value[1200];
    lf_auth_header h;
    size_t len = hmac_value(value, sizeof value, p, 4);
    assert_int_equal(lf_auth_header_parse(value, len, &h, NULL), LF_OK);
    assert_int_equal(h.scheme, LF_AUTH_HMAC);
    assert_string_equal(h.hmac.credential, CRED);
    assert_true(h.hmac.timestamp == 1767225600);
    assert_string_equal(h.hmac.nonce, NONCE);
    for (int i = 0; i < 16; i++)
        assert_int_equal(h.hmac.nonce_bytes[i], i);
    for (int i = 0; i < 32; i++)
        assert_int_equal(h.hmac.signature[i], i);

    /* Each parameter missing, then each duplicated. */
    for (int k = 0; k < 4; k++) {
        const char *q[4] = {p[0], p[1], p[2], p[3]};
        q[k] = NULL;
        len = hmac_value(value, sizeof value, q, 4);
        expect_invalid(value, len);
        const char *d[5] = {p[0], p[1], p[2], p[3], p[k]};
        len = hmac_value(value, sizeof value, d, 5);
        expect_invalid(value, len);
    }
    /* Every order of the four is accepted. */
    int perm[4] = {0, 1, 2, 3};
    for (int n = 0; n < 24; n++) {
        int a[4], used = 0, r = n;
        for (int i = 0; i < 4; i++) {
            int pick = r % (4 - i);
            r /= 4 - i;
            for (int j = 0; j < 4; j++)
                if (!(used & (1 << j)) && pick-- == 0) {
                    a[i] = perm[j];
                    used |= 1 << j;
                    break;
                }
        }
        const char *q[4] = {p[a[0]], p[a[1]], p[a[2]], p[a[3]]};
        len = hmac_value(value, sizeof value, q, 4);
        assert_int_equal(lf_auth_header_parse(value, len, &h, NULL), LF_OK);
        assert_string_equal(h.hmac.credential, CRED);
    }
    /* Embedded NUL in each value, and the value cut short by len. */
    len = hmac_value(value, sizeof value, p, 4);
    const char *marks[] = {CRED, TS, NONCE, SIG};
    for (int k = 0; k < 4; k++) {
        char copy[1200];
        memcpy(copy, value, len + 1);
        char *at = strstr(copy, marks[k]);
        assert_non_null(at);
        at[3] = '\0';
        expect_invalid(copy, len);
    }
    expect_invalid(value, len - 1); /* signature one digit short */
    expect_invalid(value, 30);
    /* Whitespace only where allowed. */
    assert_int_equal(
        lf_auth_header_parse(" LF-HMAC-SHA256 Credential=" CRED "\t,\tTimestamp=" TS
                             " , Nonce=" NONCE ",Signature=" SIG "\t",
                             strlen(" LF-HMAC-SHA256 Credential=" CRED "\t,\tTimestamp=" TS
                                    " , Nonce=" NONCE ",Signature=" SIG "\t"),
                             &h, NULL),
        LF_OK);
    const char *bad =
        "LF-HMAC-SHA256\tCredential=" CRED ", Timestamp=" TS ", Nonce=" NONCE ", Signature=" SIG;
    expect_invalid(bad, strlen(bad));
    bad =
        "LF-HMAC-SHA256 Credential=" CRED ",\r\nTimestamp=" TS ", Nonce=" NONCE ", Signature=" SIG;
    expect_invalid(bad, strlen(bad));
    /* Over-long: many spaces, and a huge value. */
    memset(value, ' ', sizeof value);
    memcpy(value, "LF-HMAC-SHA256", 14);
    len = (size_t)snprintf(value + 1000, 200, "Credential=%s", CRED) + 1000;
    expect_invalid(value, sizeof value);
}

static void test_timestamps(void **state)
{
    (void)state;
    struct {
        const char *ts;
        lf_err want;
        int64_t value;
    } cases[] = {
        {"0", LF_OK, 0},
        {"1", LF_OK, 1},
        {"253402300799", LF_OK, INT64_C(253402300799)},
        {"253402300800", LF_ERR_INVALID, 0},
        {"999999999999", LF_ERR_INVALID, 0},
        {"1000000000000", LF_ERR_INVALID, 0},
        {"9223372036854775807", LF_ERR_INVALID, 0},
        {"9223372036854775808", LF_ERR_INVALID, 0},
        {"00", LF_ERR_INVALID, 0},
        {"-0", LF_ERR_INVALID, 0},
        {"+5", LF_ERR_INVALID, 0},
        {" 5", LF_OK, 5}, /* OWS after the comma, before the next parameter: allowed */
        {"5x", LF_ERR_INVALID, 0},
        {"0x10", LF_ERR_INVALID, 0},
        {"", LF_ERR_INVALID, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char value[300];
        /* Timestamp last so that trailing junk cannot hide behind another parameter. */
        int n = snprintf(value, sizeof value,
                         "LF-HMAC-SHA256 Credential=" CRED ", Nonce=" NONCE ", Signature=" SIG
                         ", Timestamp=%s",
                         cases[i].ts);
        lf_auth_header h;
        lf_err rc = lf_auth_header_parse(value, (size_t)n, &h, NULL);
        if (cases[i].ts[0] == ' ') {
            /* "Timestamp= 5": a space after '=' is refused. */
            assert_int_equal(rc, LF_ERR_INVALID);
            continue;
        }
        if (rc != cases[i].want)
            fail_msg("timestamp '%s': got %d", cases[i].ts, rc);
        if (rc == LF_OK)
            assert_true(h.hmac.timestamp == cases[i].value);
    }
}

static void test_nonce_and_signature(void **state)
{
    (void)state;
    const char *nonces_ok[] = {"AAAAAAAAAAAAAAAAAAAAAA", "__________________-_-w",
                               "_____________________w", "zzzzzzzzzzzzzzzzzzzzzg"};
    const char *nonces_bad[] = {"AAAAAAAAAAAAAAAAAAAAAB",  "AAAAAAAAAAAAAAAAAAAAA",
                                "AAAAAAAAAAAAAAAAAAAAAAA", "AAAAAAAAAAAAAAAAAAAA+A",
                                "AAAAAAAAAAAAAAAAAAAA/A",  "AAAAAAAAAAAAAAAAAAAAAA==",
                                "AAAAAAAAAAAAAAAAAAAA.A",  "AAAAAAAAAAAAAAAAAAAAA\""};
    char value[300];
    lf_auth_header h;
    for (size_t i = 0; i < sizeof nonces_ok / sizeof *nonces_ok; i++) {
        int n = snprintf(value, sizeof value,
                         "LF-HMAC-SHA256 Credential=" CRED ", Timestamp=" TS
                         ", Nonce=%s, Signature=" SIG,
                         nonces_ok[i]);
        if (strlen(nonces_ok[i]) != 22)
            continue;
        assert_int_equal(lf_auth_header_parse(value, (size_t)n, &h, NULL), LF_OK);
    }
    for (size_t i = 0; i < sizeof nonces_bad / sizeof *nonces_bad; i++) {
        int n = snprintf(value, sizeof value,
                         "LF-HMAC-SHA256 Credential=" CRED ", Timestamp=" TS
                         ", Nonce=%s, Signature=" SIG,
                         nonces_bad[i]);
        expect_invalid(value, (size_t)n);
    }
    int n = snprintf(value, sizeof value,
                     "LF-HMAC-SHA256 Credential=" CRED ", Timestamp=" TS ", Nonce=" NONCE
                     ", Signature=%s",
                     "ff0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f");
    assert_int_equal(lf_auth_header_parse(value, (size_t)n, &h, NULL), LF_OK);
    assert_int_equal(h.hmac.signature[0], 0xff);
    const char *sigs_bad[] = {"FF0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",
                              "zz0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",
                              "0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",
                              SIG "00",
                              "\"" SIG "\"",
                              ""};
    for (size_t i = 0; i < sizeof sigs_bad / sizeof *sigs_bad; i++) {
        n = snprintf(value, sizeof value,
                     "LF-HMAC-SHA256 Credential=" CRED ", Timestamp=" TS ", Nonce=" NONCE
                     ", Signature=%s",
                     sigs_bad[i]);
        expect_invalid(value, (size_t)n);
    }
    /* Credential kinds. */
    const char *creds_ok[] = {"us-lf_usr_fedcba9876543210", "lf_0011223344556677",
                              "ap-lf_ffffffffffffffff"};
    for (size_t i = 0; i < 3; i++) {
        n = snprintf(value, sizeof value,
                     "LF-HMAC-SHA256 Credential=%s, Timestamp=" TS ", Nonce=" NONCE
                     ", Signature=" SIG,
                     creds_ok[i]);
        assert_int_equal(lf_auth_header_parse(value, (size_t)n, &h, NULL), LF_OK);
        assert_string_equal(h.hmac.credential, creds_ok[i]);
    }
    const char *creds_bad[] = {
        "us-lf_usr_fedcba987654321", "xx-lf_0011223344556677", "lf_usr_0011223344556677",
        "eu-lf_0123456789abcdef_secretpart",
        "eu-lf_0123456789abcdef0123456789abcdef0123456789abcdef0123456789ab"};
    for (size_t i = 0; i < sizeof creds_bad / sizeof *creds_bad; i++) {
        n = snprintf(value, sizeof value,
                     "LF-HMAC-SHA256 Credential=%s, Timestamp=" TS ", Nonce=" NONCE
                     ", Signature=" SIG,
                     creds_bad[i]);
        lf_error err = {0};
        assert_int_equal(lf_auth_header_parse(value, (size_t)n, &h, &err), LF_ERR_INVALID);
        assert_null(strstr(err.message, "secretpart"));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vectors),
        cmocka_unit_test(test_bearer),
        cmocka_unit_test(test_hmac_params),
        cmocka_unit_test(test_timestamps),
        cmocka_unit_test(test_nonce_and_signature),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * test_encoding.c — buffer, hex and base64 helpers, including RFC 4648 §10 vectors and the
 * strictness rules (bad characters, bad padding, non-canonical trailing bits).
 */
#include "testutil.h"

#include <string.h>

static void check_b64(const char *plain, const char *std, const char *url)
{
    char out[128];
    size_t n = lf_base64_encode((const uint8_t *)plain, strlen(plain), out, false);
    assert_int_equal(n, strlen(std));
    assert_int_equal(lf_base64_encoded_len(strlen(plain), false), n);
    assert_string_equal(out, std);
    n = lf_base64_encode((const uint8_t *)plain, strlen(plain), out, true);
    assert_int_equal(lf_base64_encoded_len(strlen(plain), true), n);
    assert_string_equal(out, url);

    lf_buf b = LF_BUF_INIT;
    assert_int_equal(lf_base64_decode(std, strlen(std), &b, false, NULL), LF_OK);
    assert_int_equal(b.len, strlen(plain));
    assert_memory_equal(b.data, plain, b.len);
    lf_buf_reset(&b);
    assert_int_equal(lf_base64_decode(url, strlen(url), &b, true, NULL), LF_OK);
    assert_int_equal(b.len, strlen(plain));
    assert_memory_equal(b.data, plain, b.len);
    lf_buf_free(&b);
}

static void test_base64_rfc4648(void **state)
{
    (void)state;
    check_b64("", "", "");
    check_b64("f", "Zg==", "Zg");
    check_b64("fo", "Zm8=", "Zm8");
    check_b64("foo", "Zm9v", "Zm9v");
    check_b64("foob", "Zm9vYg==", "Zm9vYg");
    check_b64("fooba", "Zm9vYmE=", "Zm9vYmE");
    check_b64("foobar", "Zm9vYmFy", "Zm9vYmFy");
    check_b64("\xfb\xff", "+/8=", "-_8");
}

static void test_base64_rejects(void **state)
{
    (void)state;
    const char *bad_std[] = {"Zg", "Zg=", "Z===", "Zh==", "Zm9v!A==", "Zm-v", "====", "Zg==Zg=="};
    lf_buf b = LF_BUF_INIT;
    for (size_t i = 0; i < sizeof bad_std / sizeof *bad_std; i++) {
        lf_error err = {0};
        assert_int_equal(lf_base64_decode(bad_std[i], strlen(bad_std[i]), &b, false, &err),
                         LF_ERR_INVALID);
        assert_int_equal(err.code, LF_ERR_INVALID);
        assert_true(strlen(err.message) > 0);
        assert_int_equal(b.len, 0); /* nothing appended on failure */
    }
    assert_int_equal(lf_base64_decode("Z", 1, &b, true, NULL), LF_ERR_INVALID);
    assert_int_equal(lf_base64_decode("Zm+v", 4, &b, true, NULL), LF_ERR_INVALID);
    lf_buf_free(&b);
}

static void test_hex(void **state)
{
    (void)state;
    const uint8_t in[] = {0x00, 0x01, 0xab, 0xff};
    char out[9];
    lf_hex_encode(in, sizeof in, out);
    assert_string_equal(out, "0001abff");
    uint8_t back[4];
    assert_int_equal(lf_hex_decode("0001ABff", 8, back, 4, NULL), LF_OK);
    assert_memory_equal(back, in, 4);
    assert_int_equal(lf_hex_decode("0001abf", 7, back, 4, NULL), LF_ERR_INVALID);
    assert_int_equal(lf_hex_decode("0001abgf", 8, back, 4, NULL), LF_ERR_INVALID);
}

static void test_buf_and_be(void **state)
{
    (void)state;
    lf_buf b = LF_BUF_INIT;
    assert_int_equal(lf_buf_append_be16(&b, 0x0102), LF_OK);
    assert_int_equal(lf_buf_append_be32(&b, 0x03040506), LF_OK);
    assert_int_equal(lf_buf_append_be64(&b, 0x0708090a0b0c0d0eull), LF_OK);
    assert_int_equal(lf_buf_printf(&b, "%d-%s", 42, "x"), LF_OK);
    assert_int_equal(b.len, 2 + 4 + 8 + 4);
    assert_int_equal(lf_load_be16(b.data), 0x0102);
    assert_int_equal(lf_load_be32(b.data + 2), 0x03040506);
    assert_true(lf_load_be64(b.data + 6) == 0x0708090a0b0c0d0eull);
    assert_memory_equal(b.data + 14, "42-x", 4);
    for (int i = 0; i < 10000; i++)
        assert_int_equal(lf_buf_append_u8(&b, (uint8_t)i), LF_OK);
    assert_int_equal(b.len, 18 + 10000);
    assert_int_equal(lf_buf_reserve(&b, (size_t)-1), LF_ERR_TOO_LARGE);
    lf_buf_free_secret(&b);
    assert_null(b.data);
}

static void test_ct_equal_and_strerror(void **state)
{
    (void)state;
    assert_true(lf_ct_equal("abcd", "abcd", 4));
    assert_false(lf_ct_equal("abcd", "abce", 4));
    for (int i = 0; i < LF_ERR__COUNT; i++)
        assert_non_null(lf_strerror((lf_err)i));
    assert_string_equal(lf_strerror((lf_err)999), "unknown error");
    lf_error err = {0};
    assert_int_equal(lf_error_set(&err, LF_ERR_IO, "x %d", 1), LF_ERR_IO);
    assert_string_equal(err.message, "x 1");
    assert_int_equal(lf_error_set(NULL, LF_ERR_IO, "ignored"), LF_ERR_IO);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_base64_rfc4648),
        cmocka_unit_test(test_base64_rejects),
        cmocka_unit_test(test_hex),
        cmocka_unit_test(test_buf_and_be),
        cmocka_unit_test(test_ct_equal_and_strerror),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * test_gzip.c — gzip round trips and the bounded inflater's verdicts: exact limit, zip bomb
 * (LF_ERR_TOO_LARGE), every truncation (LF_ERR_TRUNCATED), trailing garbage and corruption
 * (LF_ERR_INVALID), concatenated members, and the output buffer restored on failure.
 */
#include "testutil.h"

#include <string.h>

#include "logflux/compress.h"

static void fill(uint8_t *p, size_t n, uint32_t seed)
{
    for (size_t i = 0; i < n; i++) {
        seed = seed * 1103515245u + 12345u;
        /* half text-like, half random, so deflate has something to do */
        p[i] = (i / 512) % 2 ? (uint8_t)(seed >> 16) : (uint8_t)("log line "[i % 9]);
    }
}

static void test_round_trip(void **state)
{
    (void)state;
    const size_t sizes[] = {0, 1, 100, 65536, 1024 * 1024 + 3};
    for (size_t s = 0; s < sizeof sizes / sizeof *sizes; s++) {
        lf_buf in = LF_BUF_INIT, z = LF_BUF_INIT, out = LF_BUF_INIT;
        lf_buf_reserve(&in, sizes[s] + 1);
        fill(in.data, sizes[s], (uint32_t)s);
        in.len = sizes[s];
        assert_int_equal(lf_gzip_compress(in.data, in.len, LF_GZIP_LEVEL_DEFAULT, &z, NULL), LF_OK);
        assert_true(lf_is_gzip(z.data, z.len));
        assert_int_equal(z.data[3], 0);                 /* no flags: no name, no comment */
        assert_memory_equal(z.data + 4, "\0\0\0\0", 4); /* mtime 0: deterministic */
        assert_int_equal(lf_gunzip(z.data, z.len, in.len, &out, NULL), LF_OK); /* exact limit */
        assert_int_equal(out.len, in.len);
        if (in.len > 0)
            assert_memory_equal(out.data, in.data, in.len);
        if (in.len > 0) {
            lf_error err = {0};
            lf_buf_reset(&out);
            assert_int_equal(lf_gunzip(z.data, z.len, in.len - 1, &out, &err), LF_ERR_TOO_LARGE);
            assert_int_equal(out.len, 0);
            assert_int_equal(err.code, LF_ERR_TOO_LARGE);
        }
        lf_buf_free(&in);
        lf_buf_free(&z);
        lf_buf_free(&out);
    }
}

static void test_context_reuse_and_levels(void **state)
{
    (void)state;
    lf_gzip *ctx = NULL;
    assert_int_equal(lf_gzip_new(0, &ctx, NULL), LF_ERR_INVALID);
    assert_int_equal(lf_gzip_new(10, &ctx, NULL), LF_ERR_INVALID);
    assert_int_equal(lf_gzip_new(1, &ctx, NULL), LF_OK);
    lf_buf first = LF_BUF_INIT, again = LF_BUF_INIT, out = LF_BUF_INIT;
    const char *msg = "{\"v\":\"2.0\",\"type\":\"log\",\"message\":\"hello hello hello\"}";
    assert_int_equal(lf_gzip_ctx_compress(ctx, msg, strlen(msg), &first, NULL), LF_OK);
    for (int i = 0; i < 100; i++) {
        lf_buf_reset(&again);
        assert_int_equal(lf_gzip_ctx_compress(ctx, msg, strlen(msg), &again, NULL), LF_OK);
        assert_int_equal(again.len, first.len);
        assert_memory_equal(again.data, first.data, first.len);
    }
    assert_int_equal(lf_gunzip(again.data, again.len, 1000, &out, NULL), LF_OK);
    assert_int_equal(out.len, strlen(msg));
    lf_gzip_free(ctx);
    lf_gzip_free(NULL);
    lf_buf_free(&first);
    lf_buf_free(&again);
    lf_buf_free(&out);
}

static void test_zip_bomb(void **state)
{
    (void)state;
    /* 64 MiB of zeros deflate to ~64 KiB; inflating must stop at the limit */
    size_t n = 64u * 1024 * 1024;
    lf_buf zeros = LF_BUF_INIT, z = LF_BUF_INIT, out = LF_BUF_INIT;
    lf_buf_reserve(&zeros, n);
    memset(zeros.data, 0, n);
    zeros.len = n;
    assert_int_equal(lf_gzip_compress(zeros.data, n, 9, &z, NULL), LF_OK);
    lf_buf_free(&zeros);
    assert_true(z.len < 100 * 1024);
    lf_buf_append_str(&out, "keep");
    assert_int_equal(lf_gunzip(z.data, z.len, 1024 * 1024, &out, NULL), LF_ERR_TOO_LARGE);
    assert_int_equal(out.len, 4); /* restored to its length on entry */
    assert_memory_equal(out.data, "keep", 4);
    assert_true(out.cap <= 4 * 1024 * 1024); /* never allocated far beyond the limit */
    lf_buf_free(&z);
    lf_buf_free(&out);
}

static void test_truncation_and_garbage(void **state)
{
    (void)state;
    const char *msg = "The quick brown fox jumps over the lazy dog, again and again and again.";
    lf_buf z = LF_BUF_INIT, out = LF_BUF_INIT, two = LF_BUF_INIT;
    assert_int_equal(lf_gzip_compress(msg, strlen(msg), LF_GZIP_LEVEL_DEFAULT, &z, NULL), LF_OK);
    /* every strict prefix is truncated */
    for (size_t n = 0; n < z.len; n++) {
        lf_error err = {0};
        lf_buf_reset(&out);
        lf_err rc = lf_gunzip(z.data, n, 1000, &out, &err);
        if (rc != LF_ERR_TRUNCATED)
            fail_msg("prefix %zu: %d (%s)", n, rc, err.message);
        assert_int_equal(out.len, 0);
    }
    /* trailing garbage */
    lf_buf_append(&two, z.data, z.len);
    lf_buf_append_str(&two, "garbage");
    lf_buf_reset(&out);
    assert_int_equal(lf_gunzip(two.data, two.len, 1000, &out, NULL), LF_ERR_INVALID);
    assert_int_equal(out.len, 0);
    two.len = z.len;
    lf_buf_append(&two, "\0", 1);
    assert_int_equal(lf_gunzip(two.data, two.len, 1000, &out, NULL), LF_ERR_INVALID);
    /* two members concatenated (RFC 1952 allows it) */
    two.len = z.len;
    lf_buf_append(&two, z.data, z.len);
    assert_int_equal(lf_gunzip(two.data, two.len, 1000, &out, NULL), LF_OK);
    assert_int_equal(out.len, 2 * strlen(msg));
    /* ... but the limit covers both */
    lf_buf_reset(&out);
    assert_int_equal(lf_gunzip(two.data, two.len, strlen(msg) + 1, &out, NULL), LF_ERR_TOO_LARGE);
    /* a second member cut short */
    lf_buf_reset(&out);
    assert_int_equal(lf_gunzip(two.data, two.len - 3, 1000, &out, NULL), LF_ERR_TRUNCATED);
    /* not gzip, corrupt CRC, corrupt length, corrupt deflate data, bad method */
    assert_int_equal(lf_gunzip("{\"v\":1}", 7, 1000, &out, NULL), LF_ERR_INVALID);
    lf_buf bad = LF_BUF_INIT;
    const size_t spots[] = {2, 10, z.len / 2, z.len - 8, z.len - 1};
    for (size_t i = 0; i < sizeof spots / sizeof *spots; i++) {
        lf_buf_reset(&bad);
        lf_buf_append(&bad, z.data, z.len);
        bad.data[spots[i]] ^= 0x55;
        lf_buf_reset(&out);
        lf_err rc = lf_gunzip(bad.data, bad.len, 1000, &out, NULL);
        assert_true(rc == LF_ERR_INVALID || rc == LF_ERR_TRUNCATED);
        assert_int_equal(out.len, 0);
    }
    lf_buf_free(&bad);
    lf_buf_free(&z);
    lf_buf_free(&out);
    lf_buf_free(&two);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_context_reuse_and_levels),
        cmocka_unit_test(test_zip_bomb),
        cmocka_unit_test(test_truncation_and_garbage),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

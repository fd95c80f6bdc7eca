/*
 * test_batch.c — spool batch records: round trip of v3 and native rows, and refusal of every
 * truncation and of impossible row counts.
 */
#include "testutil.h"

#include <string.h>

#include "ingest/batch.h"

static void make(lf_buf *out)
{
    uint8_t body1[40], body2[3000], tokens[32];
    memset(body1, 0xab, sizeof body1);
    memset(body2, 0xcd, sizeof body2);
    memset(tokens, 0x11, sizeof tokens);
    assert_int_equal(lfd_batch_begin(out, 42, "acme", "checkout", 1790000000000000000LL, NULL),
                     LF_OK);
    lfd_row v3 = {.format = LFD_FORMAT_V3,
                  .kind = 1,
                  .entry_type = 1,
                  .flags = 1,
                  .key_id = "5f0c2a8e-3b1d-4c7a-9e62-0d4b8a1f3c55",
                  .key_id_len = 36,
                  .ts_min = 1790000000000000001LL,
                  .ts_max = 1790000000000000001LL,
                  .count = 1,
                  .tokens = (const uint8_t *)"a,b",
                  .tokens_len = 3,
                  .body = body1,
                  .body_len = sizeof body1};
    memset(v3.nonce, 7, 12);
    lfd_row native = {.format = LFD_FORMAT_NATIVE,
                      .kind = 2,
                      .entry_type = 1,
                      .flags = 1,
                      .key_id = "00112233445566778899aabbccddeeff",
                      .key_id_len = 32,
                      .sequence = 9,
                      .ts_min = -5,
                      .ts_max = 7,
                      .count = 100,
                      .tokens = tokens,
                      .tokens_len = sizeof tokens,
                      .body = body2,
                      .body_len = sizeof body2};
    assert_int_equal(lfd_batch_add(out, &v3, NULL), LF_OK);
    assert_int_equal(lfd_batch_add(out, &native, NULL), LF_OK);
    assert_int_equal(lfd_batch_finish(out, 2, NULL), LF_OK);
}

static void test_round_trip(void **state)
{
    (void)state;
    lf_buf rec = LF_BUF_INIT;
    make(&rec);
    lfd_batch b;
    assert_int_equal(lfd_batch_decode(rec.data, rec.len, &b, NULL), LF_OK);
    assert_int_equal(b.tenant_id, 42);
    assert_int_equal(b.tenant_len, 4);
    assert_memory_equal(b.tenant, "acme", 4);
    assert_memory_equal(b.app, "checkout", 8);
    assert_int_equal(b.n_rows, 2);
    assert_int_equal(b.rows[0].format, LFD_FORMAT_V3);
    assert_int_equal(b.rows[0].key_id_len, 36);
    assert_int_equal(b.rows[0].nonce[11], 7);
    assert_memory_equal(b.rows[0].tokens, "a,b", 3);
    assert_int_equal(b.rows[1].sequence, 9);
    assert_int_equal(b.rows[1].ts_min, -5);
    assert_int_equal(b.rows[1].count, 100);
    assert_int_equal(b.rows[1].body_len, 3000);
    assert_int_equal(b.rows[1].body[2999], 0xcd);
    lfd_batch_clear(&b);

    /* Every strict prefix and one extra byte are refused. */
    lf_error err = {0};
    for (size_t n = 0; n < rec.len; n++)
        assert_int_equal(lfd_batch_decode(rec.data, n, &b, &err), LF_ERR_INVALID);
    assert_int_equal(lf_buf_append_u8(&rec, 0), LF_OK);
    assert_int_equal(lfd_batch_decode(rec.data, rec.len, &b, &err), LF_ERR_INVALID);
    lf_buf_free(&rec);
}

static void test_bad_counts(void **state)
{
    (void)state;
    lf_buf rec = LF_BUF_INIT;
    assert_int_equal(lfd_batch_begin(&rec, 1, "t", "a", 0, NULL), LF_OK);
    assert_int_equal(lfd_batch_finish(&rec, 0, NULL), LF_ERR_INVALID);
    /* A header claiming 100000 rows with no row data must not allocate or read past the end. */
    lf_store_be32(rec.data + rec.len - 4, 100000);
    lfd_batch b;
    assert_int_equal(lfd_batch_decode(rec.data, rec.len, &b, NULL), LF_ERR_INVALID);
    lf_buf_free(&rec);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_bad_counts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

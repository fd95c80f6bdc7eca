/*
 * test_agent_record_json.c — the agent's one-pass record writer produces exactly the bytes of
 * the general encoder (lf_payload_encode) over the repaired values, for random records: ASCII,
 * multi-byte UTF-8, invalid UTF-8, NUL and control bytes, quotes and backslashes, labels,
 * logger or not, and messages cut at 1 MiB in the middle of a character. A field other than
 * the message that is not valid UTF-8 is declined (out untouched).
 */
#include "testutil.h"

#include <stdlib.h>
#include <string.h>

#include "pipeline/record_json.h"

static uint64_t rng = 0x9E3779B97F4A7C15ull;
static uint32_t next_rand(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)(rng >> 16);
}

/* Bytes drawn from pieces that exercise every branch of both encoders. */
static size_t random_text(char *dst, size_t max, bool valid_only)
{
    static const char *const pieces[] = {
        "plain ascii words ",
        "\"",
        "\\",
        "\n",
        "\r",
        "\t",
        "\x01",
        "\x1f",
        "\x7f",
        "é",
        "€",
        "😀",
        "abcdefgh",
        "12345678",
        "\xc3",
        "\xe2\x82",
        "\xf0\x9f\x98",
        "\xed\xa0\x80",
        "\xc0\x80",
        "\xff",
        "\x80",
        "",
    };
    size_t n = 0, count = next_rand() % 40;
    for (size_t k = 0; k < count; k++) {
        size_t idx = next_rand() % (sizeof pieces / sizeof *pieces);
        if (valid_only && idx >= 14)
            idx = next_rand() % 14;
        const char *pc = pieces[idx];
        size_t l = strlen(pc);
        if (idx == 21) { /* a NUL byte, only where length-counted text allows it */
            if (valid_only || n + 1 > max)
                continue;
            dst[n++] = '\0';
            continue;
        }
        if (n + l > max)
            break;
        memcpy(dst + n, pc, l);
        n += l;
    }
    return n;
}

static void compare_one(const lf_agent_record_fields *f)
{
    lf_buf fast = LF_BUF_INIT, slow = LF_BUF_INIT;
    size_t text_len = 0;
    assert_true(lf_agent_record_json(&fast, f, &text_len));
    char *repaired = malloc(LF_PAYLOAD_MAX_MESSAGE + 1);
    assert_non_null(repaired);
    size_t rl = lf_agent_utf8_repair(f->message, f->message_len, repaired, LF_PAYLOAD_MAX_MESSAGE);
    assert_int_equal(rl, text_len);
    lf_payload p;
    memset(&p, 0, sizeof p);
    p.type = LF_ENTRY_LOG;
    p.source = f->source;
    p.level = f->level;
    p.ts_ns = f->ts_ns;
    p.attributes = f->attributes;
    p.n_attributes = f->n_attributes;
    p.log.message = repaired;
    p.log.logger = f->logger;
    lf_error err = {0};
    if (lf_payload_encode(&p, &slow, &err) != LF_OK)
        fail_msg("general encoder refused: %s", err.message);
    if (fast.len != slow.len || memcmp(fast.data, slow.data, fast.len) != 0)
        fail_msg("differ:\nfast %.*s\nslow %.*s", (int)fast.len, (char *)fast.data, (int)slow.len,
                 (char *)slow.data);
    free(repaired);
    lf_buf_free(&fast);
    lf_buf_free(&slow);
}

static void test_random_records_match(void **state)
{
    (void)state;
    char msg[600], src[257], logger[257], keys[20][65], vals[20][257];
    lf_kv kv[20];
    for (int round = 0; round < 20000; round++) {
        size_t ml = random_text(msg, sizeof msg, false);
        size_t sl = random_text(src, 256, true);
        src[sl] = '\0';
        size_t ll = random_text(logger, 256, true);
        logger[ll] = '\0';
        size_t n = next_rand() % 21;
        for (size_t i = 0; i < n; i++) {
            snprintf(keys[i], sizeof keys[i], "k%zu_%u", i, next_rand() % 1000);
            size_t vl = random_text(vals[i], 256, true);
            vals[i][vl] = '\0';
            kv[i] = (lf_kv){keys[i], vals[i]};
        }
        lf_agent_record_fields f = {
            .source = src,
            .level = 1 + (int)(next_rand() % 8),
            .ts_ns = 1700000000000000000LL + (int64_t)next_rand() * 1000003LL,
            .message = msg,
            .message_len = ml,
            .logger = (next_rand() & 1) ? logger : NULL,
            .attributes = kv,
            .n_attributes = n,
        };
        compare_one(&f);
    }
}

/* The 1 MiB cut, landing before, inside and after a multi-byte character or a replaced byte. */
static void test_cut_at_one_mib(void **state)
{
    (void)state;
    size_t big = LF_PAYLOAD_MAX_MESSAGE + 16;
    char *msg = malloc(big);
    assert_non_null(msg);
    for (int shift = 0; shift < 8; shift++) {
        memset(msg, 'a', big);
        memcpy(msg + LF_PAYLOAD_MAX_MESSAGE - 4 + shift, "\xe2\x82\xac\xff", 4);
        lf_agent_record_fields f = {
            .source = "s", .level = 7, .ts_ns = 1, .message = msg, .message_len = big};
        compare_one(&f);
    }
    free(msg);
}

static void test_invalid_source_declined(void **state)
{
    (void)state;
    lf_buf out = LF_BUF_INIT;
    lf_buf_append_str(&out, "keep");
    size_t tl = 0;
    lf_kv bad = {"k", "\xff"};
    lf_agent_record_fields f = {.source = "ok",
                                .level = 7,
                                .ts_ns = 1,
                                .message = "m",
                                .message_len = 1,
                                .attributes = &bad,
                                .n_attributes = 1};
    assert_false(lf_agent_record_json(&out, &f, &tl));
    assert_int_equal(out.len, 4);
    f.n_attributes = 0;
    f.source = "\xc3(";
    assert_false(lf_agent_record_json(&out, &f, &tl));
    assert_int_equal(out.len, 4);
    lf_buf_free(&out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_random_records_match),
        cmocka_unit_test(test_cut_at_one_mib),
        cmocka_unit_test(test_invalid_source_declined),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

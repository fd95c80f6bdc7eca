/*
 * test_cli_read.c — the CLI read path without a server: opening native and v3 rows (and
 * refusing every tampered variant: re-dated, moved to another app, re-sequenced, flipped
 * ciphertext bit, wrong count, entry ts outside the row), filters, durations and CSV quoting.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "logflux/native.h"
#include "logflux/timefmt.h"
#include "logflux/v3.h"
#include "rows.h"
#include "testutil.h"

static const uint8_t k_key[32] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
static const uint8_t k_kid[16] = {0xaa, 0xbb, 0xcc};
static const int64_t k_ts = 1795834800000000000LL;

static void entry_json(int i, int level, lf_buf *out)
{
    char msg[64];
    snprintf(msg, sizeof msg, "payment %d, \"ok\"", i);
    lf_kv attrs[] = {{"env", "prod"}};
    lf_payload p = {.type = LF_ENTRY_LOG, .source = "api", .level = level, .ts_ns = k_ts + i};
    p.log.message = msg;
    p.attributes = attrs;
    p.n_attributes = 1;
    assert_int_equal(lf_payload_encode(&p, out, NULL), LF_OK);
}

/* A native block row of 3 entries. */
static void native_row(lfc_row *r)
{
    lf_native_session *s = NULL;
    assert_int_equal(lf_native_session_new(k_key, k_kid, "acme", "checkout", &s, NULL), LF_OK);
    lf_buf j[3] = {LF_BUF_INIT, LF_BUF_INIT, LF_BUF_INIT}, frame = LF_BUF_INIT;
    lf_native_entry e[3];
    for (int i = 0; i < 3; i++) {
        entry_json(i, 3 + i, &j[i]);
        e[i] = (lf_native_entry){j[i].data, j[i].len, k_ts + i};
    }
    assert_int_equal(lf_native_seal_block(s, LF_ENTRY_LOG, e, 3, NULL, 0, true, &frame, NULL),
                     LF_OK);
    lf_native_frame f;
    assert_int_equal(lf_native_frame_parse(frame.data, frame.len, 0, &f, NULL, NULL), LF_OK);
    memset(r, 0, sizeof *r);
    strcpy(r->tenant, "acme");
    strcpy(r->app, "checkout");
    r->format = LFC_ROW_FORMAT_NATIVE;
    r->kind = f.hdr.kind;
    r->entry_type = f.hdr.entry_type;
    r->flags = f.hdr.flags;
    lf_hex_encode(k_kid, 16, r->key_id);
    r->sequence = f.hdr.sequence;
    r->ts = f.hdr.ts_min;
    r->ts_max = f.hdr.ts_max;
    r->count = f.hdr.count;
    lf_buf_append(&r->nonce, f.hdr.nonce, 12);
    lf_buf_append(&r->ciphertext, f.body, f.hdr.body_len);
    for (int i = 0; i < 3; i++)
        lf_buf_free(&j[i]);
    lf_buf_free(&frame);
    lf_native_session_free(s);
}

static lfc_keyring *ring(void)
{
    lfc_keyring *k = NULL;
    assert_int_equal(lfc_keyring_new(NULL, NULL, &k), LFC_EXIT_OK);
    char hex[33];
    lf_hex_encode(k_kid, 16, hex);
    hex[32] = '\0';
    assert_int_equal(lfc_keyring_put(k, hex, k_key, NULL), LF_OK);
    assert_int_equal(
        lfc_keyring_put_app(k, "6f1c2d3e-4b5a-4789-9abc-def012345678", k_key, "checkout", NULL),
        LF_OK);
    return k;
}

static void test_native_open_and_tamper(void **state)
{
    (void)state;
    lfc_keyring *k = ring();
    lfc_row r;
    lfc_opened o = {0};
    lf_error err = {0};
    native_row(&r);
    assert_int_equal(lfc_row_open(k, &r, &o, &err), LFC_EXIT_OK);
    assert_int_equal(o.count, 3);
    assert_string_equal(o.entries[1].p->log.message, "payment 1, \"ok\"");
    /* the row survives JSON (the cache) unchanged */
    json_t *j = lfc_row_to_json(&r);
    lfc_row back;
    assert_int_equal(lfc_row_from_json(j, &back, NULL), LF_OK);
    json_decref(j);
    assert_int_equal(lfc_row_open(k, &back, &o, &err), LFC_EXIT_OK);
    lfc_row_free(&back);

    lfc_row t = r;
    t.ts -= 1000000000; /* re-dated */
    assert_int_equal(lfc_row_open(k, &t, &o, &err), LFC_EXIT_TAMPERED);
    assert_int_equal(o.count, 0);
    t = r;
    strcpy(t.app, "billing"); /* moved */
    assert_int_equal(lfc_row_open(k, &t, &o, &err), LFC_EXIT_TAMPERED);
    t = r;
    t.sequence = 7; /* re-sequenced */
    assert_int_equal(lfc_row_open(k, &t, &o, &err), LFC_EXIT_TAMPERED);
    t = r;
    t.count = 2;
    assert_int_equal(lfc_row_open(k, &t, &o, &err), LFC_EXIT_TAMPERED);
    r.ciphertext.data[5] ^= 1; /* flipped bit */
    assert_int_equal(lfc_row_open(k, &r, &o, &err), LFC_EXIT_TAMPERED);
    assert_non_null(strstr(err.message, "authentication failed"));
    lfc_opened_free(&o);
    lfc_row_free(&r);
    lfc_keyring_free(k);
}

static void test_v3_open_and_tamper(void **state)
{
    (void)state;
    lfc_keyring *k = ring();
    const char *uuid = "6f1c2d3e-4b5a-4789-9abc-def012345678";
    lf_v3_sealer *s = NULL;
    assert_int_equal(lf_v3_sealer_new(k_key, uuid, -1, &s, NULL), LF_OK);
    lf_buf j = LF_BUF_INIT, part = LF_BUF_INIT;
    entry_json(0, 4, &j);
    lf_v3_headers h;
    assert_int_equal(lf_v3_seal_json(s, LF_ENTRY_LOG, k_ts, j.data, j.len, NULL, &part, &h, NULL),
                     LF_OK);
    lfc_row r = {0};
    strcpy(r.tenant, "acme");
    strcpy(r.app, "checkout");
    r.format = LFC_ROW_FORMAT_V3;
    r.kind = 1;
    r.entry_type = LF_ENTRY_LOG;
    strcpy(r.key_id, uuid);
    r.ts = r.ts_max = k_ts;
    r.count = 1;
    lf_buf_append(&r.nonce, h.nonce, 12);
    r.ciphertext = part;
    lfc_opened o = {0};
    lf_error err = {0};
    assert_int_equal(lfc_row_open(k, &r, &o, &err), LFC_EXIT_OK);
    assert_int_equal(o.count, 1);
    lfc_row t = r;
    t.ts = t.ts_max = k_ts + 5; /* re-dated: the entry's ts no longer matches */
    assert_int_equal(lfc_row_open(k, &t, &o, &err), LFC_EXIT_TAMPERED);
    t = r;
    strcpy(t.app, "billing"); /* moved: the key belongs to checkout */
    assert_int_equal(lfc_row_open(k, &t, &o, &err), LFC_EXIT_TAMPERED);
    r.ciphertext.data[r.ciphertext.len - 1] ^= 0x80;
    assert_int_equal(lfc_row_open(k, &r, &o, &err), LFC_EXIT_TAMPERED);
    lfc_opened_free(&o);
    lfc_row_free(&r);
    lf_buf_free(&j);
    lf_v3_sealer_free(s);
    lfc_keyring_free(k);
}

static void test_row_json_rejects(void **state)
{
    (void)state;
    lfc_row r;
    lf_error err = {0};
    json_t *j = json_loads("{\"tenant\":\"acme\",\"app\":\"a\",\"format\":9}", 0, NULL);
    assert_int_equal(lfc_row_from_json(j, &r, &err), LF_ERR_INVALID);
    json_decref(j);
    assert_int_equal(lfc_row_from_json(NULL, &r, &err), LF_ERR_INVALID);
}

static void test_filters(void **state)
{
    (void)state;
    int64_t ns = 0;
    assert_int_equal(lfc_parse_duration("90m", &ns, NULL), LF_OK);
    assert_true(ns == 90LL * 60 * LF_NS_PER_SEC);
    assert_int_equal(lfc_parse_duration("2d", &ns, NULL), LF_OK);
    assert_int_equal(lfc_parse_duration("5y", &ns, NULL), LF_ERR_INVALID);
    assert_int_equal(lfc_parse_duration("", &ns, NULL), LF_ERR_INVALID);
    assert_int_not_equal(lfc_parse_duration("99999999999999999d", &ns, NULL), LF_OK);
    assert_int_equal(lfc_parse_time("2026-11-28T03:00:00Z", 0, &ns, NULL), LF_OK);
    assert_true(ns == k_ts);
    assert_int_equal(lfc_parse_time("1h", 10 * 3600 * LF_NS_PER_SEC, &ns, NULL), LF_OK);
    assert_true(ns == 9 * 3600 * LF_NS_PER_SEC);

    char *argv[] = {"query", "--level", "error",          "--label", "env=prod", "--grep=PAYMENT",
                    "-i",    "--regex", "^payment [01],", "--limit", "2",        "--bogus"};
    int argc = (int)(sizeof argv / sizeof *argv);
    lfc_filter f = {0};
    int i = 1;
    while (i < argc) {
        bool used = false;
        assert_int_equal(lfc_filter_arg(&f, argc, argv, &i, &used), LFC_EXIT_OK);
        if (!used)
            break;
    }
    assert_int_equal(i, argc - 1); /* --bogus is not a filter flag */
    assert_int_equal(f.level, 4);
    assert_int_equal(f.limit, 2);
    assert_int_equal(lfc_filter_finish(&f, k_ts + 100, 3600LL * LF_NS_PER_SEC), LFC_EXIT_OK);

    lfc_keyring *k = ring();
    lfc_row r;
    lfc_opened o = {0};
    native_row(&r); /* levels 3, 4, 5 */
    assert_int_equal(lfc_row_open(k, &r, &o, NULL), LFC_EXIT_OK);
    assert_true(lfc_filter_match(&f, &o.entries[0]));
    assert_true(lfc_filter_match(&f, &o.entries[1]));
    assert_false(lfc_filter_match(&f, &o.entries[2])); /* level 5 and regex */
    lfc_filter_free(&f);

    lfc_filter g = {0};
    char *bad[] = {"q", "--level", "loud"};
    i = 1;
    bool used;
    assert_int_equal(lfc_filter_arg(&g, 3, bad, &i, &used), LFC_EXIT_USAGE);
    char *bad2[] = {"q", "--regex", "("};
    i = 1;
    assert_int_equal(lfc_filter_arg(&g, 3, bad2, &i, &used), LFC_EXIT_OK);
    assert_int_equal(lfc_filter_finish(&g, k_ts, 1), LFC_EXIT_USAGE);
    lfc_filter_free(&g);
    lfc_opened_free(&o);
    lfc_row_free(&r);
    lfc_keyring_free(k);
}

static void test_csv_quoting(void **state)
{
    (void)state;
    lf_buf b = LF_BUF_INIT;
    assert_int_equal(lfc_csv_field(&b, "plain", NULL), LF_OK);
    lf_buf_append_u8(&b, '|');
    lfc_csv_field(&b, "a,b", NULL);
    lf_buf_append_u8(&b, '|');
    lfc_csv_field(&b, "say \"hi\"\nthere", NULL);
    lf_buf_terminate(&b);
    assert_string_equal((char *)b.data, "plain|\"a,b\"|\"say \"\"hi\"\"\nthere\"");
    lf_buf_free(&b);
    assert_string_equal(lfc_level_name(4), "ERROR");
    assert_string_equal(lfc_level_name(9), "-");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_native_open_and_tamper),
        cmocka_unit_test(test_v3_open_and_tamper),
        cmocka_unit_test(test_row_json_rejects),
        cmocka_unit_test(test_filters),
        cmocka_unit_test(test_csv_quoting),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

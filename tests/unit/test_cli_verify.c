/*
 * test_cli_verify.c — the analysis behind `logflux verify` (src/cli/verify.c) on rows sealed
 * here with liblogflux and edited the way an attacker with write access to storage would:
 * clean data is clean; a dropped, duplicated, re-dated, moved, bit-flipped or re-sequenced
 * record and a session without its close marker are each named by their own kind (and only
 * that kind), at the right sequence; authentic rows out of timestamp order are "reordered".
 */
#include "testutil.h"

#include <stdlib.h>
#include <string.h>

#include "logflux/native.h"
#include "logflux/timefmt.h"
#include "rows.h"
#include "verify.h"

#define N_ENTRIES 5
static const uint8_t session_key[32] = {1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11, 12, 13, 14, 15,
                                        16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30};
static const uint8_t key_id[16] = {0xa1, 0xb2, 0xc3, 0xd4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};
static const int64_t t0 = 1795834800000000000LL;

/* Seal N_ENTRIES entry frames (sequence i at t0 + i s, entry i "ts" = t0 + i s; entry 3 at
 * `odd_ts` when non-zero) and a close marker, as stored rows of app "shop". */
static void make_rows(lfc_rows *rows, int64_t odd_ts)
{
    lf_error err = {0};
    lf_native_session *s = NULL;
    assert_int_equal(lf_native_session_new(session_key, key_id, "acme", "shop", &s, &err), LF_OK);
    lf_buf body = LF_BUF_INIT;
    for (int i = 0; i < N_ENTRIES; i++) {
        int64_t ts = (i == 3 && odd_ts) ? odd_ts : t0 + (int64_t)i * 1000000000LL;
        char tss[LF_RFC3339_MAX], json[256];
        lf_rfc3339_format(ts, tss);
        int n = snprintf(json, sizeof json,
                         "{\"v\":\"2.0\",\"type\":\"log\",\"source\":\"t\",\"level\":6,"
                         "\"ts\":\"%s\",\"message\":\"m%d\"}",
                         tss, i);
        lf_native_entry e = {json, (size_t)n, ts};
        assert_int_equal(lf_native_seal_entry(s, 1, &e, NULL, 0, i % 2 == 0, &body, &err), LF_OK);
    }
    assert_int_equal(lf_native_seal_close(s, t0 + 3600000000000LL, &body, &err), LF_OK);
    lf_native_session_free(s);
    lf_native_reader rd;
    lf_native_reader_init(&rd, body.data, body.len);
    lf_native_frame f;
    int64_t i = 0;
    while (lf_native_reader_next(&rd, &f, &err) == LF_OK) {
        lfc_row r = {0};
        snprintf(r.tenant, sizeof r.tenant, "%s", f.hdr.tenant);
        snprintf(r.app, sizeof r.app, "%s", f.hdr.app);
        r.format = LFC_ROW_FORMAT_NATIVE;
        r.kind = f.hdr.kind;
        r.entry_type = f.hdr.entry_type;
        r.flags = f.hdr.flags;
        lf_hex_encode(f.hdr.key_id, 16, r.key_id);
        r.sequence = f.hdr.sequence;
        r.ts = f.hdr.ts_min;
        r.ts_max = f.hdr.ts_max;
        r.count = f.hdr.count;
        lf_buf_append(&r.nonce, f.hdr.nonce, 12);
        lf_buf_append(&r.ciphertext, f.body, f.hdr.body_len);
        r.file_id = 1;
        r.row = i++;
        assert_int_equal(lfc_rows_push(rows, &r, &err), LF_OK);
    }
    assert_int_equal(i, N_ENTRIES + 1);
    lf_buf_free(&body);
}

/* Run the analysis; returns the report (caller frees). */
static lfc_vreport analyse(const lfc_rows *rows, bool require_closed)
{
    lfc_keyring *k = NULL;
    assert_int_equal(lfc_keyring_new(NULL, NULL, &k), LFC_EXIT_OK);
    char hex[33];
    lf_hex_encode(key_id, 16, hex);
    assert_int_equal(lfc_keyring_put(k, hex, session_key, NULL), LF_OK);
    lfc_verify_options o = {
        .from = t0 - 1, .to = t0 + 7200000000000LL, .require_closed = require_closed};
    lfc_vreport rep;
    assert_int_equal(lfc_verify_rows(NULL, k, rows, &o, &rep), LFC_EXIT_OK);
    lfc_keyring_free(k);
    return rep;
}

/* Exactly `n` problems, all of `kind`; the first at sequence `seq`. */
static void expect_only(const lfc_vreport *rep, lfc_vkind kind, size_t n, uint64_t seq)
{
    if (rep->n != n || rep->counts[kind] != n) {
        for (size_t i = 0; i < rep->n; i++)
            print_message("problem: %s seq %llu: %s\n", lfc_vkind_name(rep->problems[i].kind),
                          (unsigned long long)rep->problems[i].seq, rep->problems[i].detail);
        fail_msg("want %zu x %s, got %zu problems", n, lfc_vkind_name(kind), rep->n);
    }
    assert_true(rep->problems[0].has_seq);
    assert_int_equal(rep->problems[0].seq, seq);
    assert_int_equal(lfc_vreport_exit(rep), LFC_EXIT_VERIFY);
}

static void test_clean(void **state)
{
    (void)state;
    lfc_rows rows = {0};
    make_rows(&rows, 0);
    lfc_vreport rep = analyse(&rows, true);
    assert_int_equal(rep.n, 0);
    assert_int_equal(rep.sessions, 1);
    assert_int_equal(rep.closed, 1);
    assert_int_equal(lfc_vreport_exit(&rep), LFC_EXIT_OK);
    lfc_vreport_free(&rep);
    lfc_rows_free(&rows);
}

static void remove_row(lfc_rows *rows, size_t i)
{
    lfc_row_free(&rows->v[i]);
    memmove(&rows->v[i], &rows->v[i + 1], (rows->n - i - 1) * sizeof *rows->v);
    rows->n--;
}

static void test_missing(void **state)
{
    (void)state;
    lfc_rows rows = {0};
    make_rows(&rows, 0);
    remove_row(&rows, 2);
    lfc_vreport rep = analyse(&rows, false);
    expect_only(&rep, LFC_V_MISSING, 1, 2);
    assert_int_equal(rep.problems[0].file_id, -1);
    lfc_vreport_free(&rep);
    /* the last record before the close marker */
    remove_row(&rows, 3);
    rep = analyse(&rows, false);
    assert_int_equal(rep.counts[LFC_V_MISSING], 2);
    assert_int_equal(rep.problems[1].seq, 4);
    lfc_vreport_free(&rep);
    lfc_rows_free(&rows);
}

static void test_duplicated(void **state)
{
    (void)state;
    lfc_rows rows = {0};
    make_rows(&rows, 0);
    lfc_row copy = {0};
    lf_error err = {0};
    json_t *j = lfc_row_to_json(&rows.v[1]);
    assert_non_null(j);
    assert_int_equal(lfc_row_from_json(j, &copy, &err), LF_OK);
    json_decref(j);
    copy.row = 99;
    assert_int_equal(lfc_rows_push(&rows, &copy, &err), LF_OK);
    lfc_vreport rep = analyse(&rows, true);
    expect_only(&rep, LFC_V_DUPLICATED, 1, 1);
    lfc_vreport_free(&rep);
    lfc_rows_free(&rows);
}

static void test_redated(void **state)
{
    (void)state;
    lfc_rows rows = {0};
    make_rows(&rows, 0);
    rows.v[2].ts -= 600000000000LL; /* 10 minutes earlier, a compressed frame */
    rows.v[2].ts_max -= 600000000000LL;
    rows.v[3].ts += 5; /* an uncompressed one */
    rows.v[3].ts_max += 5;
    lfc_vreport rep = analyse(&rows, true);
    expect_only(&rep, LFC_V_REDATED, 2, 2);
    assert_int_equal(rep.problems[0].row, 2);
    assert_non_null(strstr(rep.problems[0].detail, "sealed at"));
    lfc_vreport_free(&rep);
    lfc_rows_free(&rows);
}

static void test_moved(void **state)
{
    (void)state;
    lfc_rows rows = {0};
    make_rows(&rows, 0);
    snprintf(rows.v[4].app, sizeof rows.v[4].app, "other");
    lfc_vreport rep = analyse(&rows, true);
    expect_only(&rep, LFC_V_MOVED, 1, 4);
    assert_non_null(strstr(rep.problems[0].detail, "sealed for app shop, stored under app other"));
    lfc_vreport_free(&rep);
    lfc_rows_free(&rows);
}

static void test_tampered(void **state)
{
    (void)state;
    lfc_rows rows = {0};
    make_rows(&rows, 0);
    rows.v[1].ciphertext.data[3] ^= 0x40;
    lfc_vreport rep = analyse(&rows, true);
    expect_only(&rep, LFC_V_TAMPERED, 1, 1);
    lfc_vreport_free(&rep);
    /* two header fields at once: not explained by one, reported as tampered */
    lfc_rows_free(&rows);
    make_rows(&rows, 0);
    rows.v[2].ts += 1;
    snprintf(rows.v[2].app, sizeof rows.v[2].app, "other");
    rep = analyse(&rows, true);
    expect_only(&rep, LFC_V_TAMPERED, 1, 2);
    lfc_vreport_free(&rep);
    lfc_rows_free(&rows);
}

static void test_reordered(void **state)
{
    (void)state;
    lfc_rows rows = {0};
    make_rows(&rows, 0);
    rows.v[1].sequence = 2;
    rows.v[2].sequence = 1;
    lfc_vreport rep = analyse(&rows, true);
    assert_int_equal(rep.n, 2);
    assert_int_equal(rep.counts[LFC_V_REORDERED], 2);
    lfc_vreport_free(&rep);
    lfc_rows_free(&rows);
    /* authentic, but sealed out of timestamp order */
    make_rows(&rows, t0 - 1000);
    rep = analyse(&rows, true);
    expect_only(&rep, LFC_V_REORDERED, 1, 3);
    lfc_vreport_free(&rep);
    lfc_rows_free(&rows);
}

static void test_truncated(void **state)
{
    (void)state;
    lfc_rows rows = {0};
    make_rows(&rows, 0);
    remove_row(&rows, N_ENTRIES); /* the close marker */
    lfc_vreport rep = analyse(&rows, false);
    assert_int_equal(rep.n, 0); /* an open session */
    assert_int_equal(rep.open, 1);
    lfc_vreport_free(&rep);
    rep = analyse(&rows, true);
    expect_only(&rep, LFC_V_TRUNCATED, 1, N_ENTRIES);
    lfc_vreport_free(&rep);
    lfc_rows_free(&rows);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_clean),      cmocka_unit_test(test_missing),
        cmocka_unit_test(test_duplicated), cmocka_unit_test(test_redated),
        cmocka_unit_test(test_moved),      cmocka_unit_test(test_tampered),
        cmocka_unit_test(test_reordered),  cmocka_unit_test(test_truncated),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

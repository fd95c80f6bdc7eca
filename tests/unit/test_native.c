/*
 * test_native.c — native v1 frames (docs/PROTOCOL.md §3): the byte-exact vectors, round trips
 * of every kind through a sealing session and the opener, tampering with every stored header
 * field, truncation, every parser limit, zstd bombs, the sequence counter, close and the
 * per-key cap, key frames with a real RSA key.
 */
#include "testutil.h"

#include <stdlib.h>
#include <string.h>
#include <zstd.h>

#include "logflux/native.h"

static const uint8_t key32[32] = {1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11, 12, 13, 14, 15, 16,
                                  17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32};
static const uint8_t kid[16] = {0xde, 0xad, 0xbe, 0xef, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11};
#define T0 INT64_C(1795834800000000000)

static const char *const J[] = {
    "{\"v\":\"2.0\",\"type\":\"log\",\"message\":\"one\"}",
    "{\"v\":\"2.0\",\"type\":\"log\",\"message\":\"two\"}",
    "{\"v\":\"2.0\",\"type\":\"log\",\"message\":\"three\"}",
};

static lf_native_entry E(size_t i, int64_t ts)
{
    lf_native_entry e = {J[i], strlen(J[i]), ts};
    return e;
}

static lf_native_session *new_session(void)
{
    lf_native_session *s = NULL;
    assert_int_equal(lf_native_session_new(key32, kid, "tenant-1", "app.web", &s, NULL), LF_OK);
    return s;
}

static lf_native_opener *new_opener(void)
{
    lf_native_opener *o = NULL;
    assert_int_equal(lf_native_opener_new(key32, kid, &o, NULL), LF_OK);
    return o;
}

static int64_t json_i64(json_t *o, const char *k)
{
    return (int64_t)strtoll(lf_test_str(o, k), NULL, 10);
}

/* ---------------- vectors ---------------- */

static void test_vectors(void **state)
{
    (void)state;
    json_t *v = lf_test_load_vectors("native-frames.json");
    lf_buf sk = lf_test_hex(v, "session_key"), key_id = lf_test_hex(v, "key_id");
    lf_buf enc_exp = lf_test_hex(v, "enc_key"), tok_exp = lf_test_hex(v, "token_key");
    uint8_t enc_key[32], token_key[32];
    assert_int_equal(lf_native_derive_keys(sk.data, key_id.data, enc_key, token_key, NULL), LF_OK);
    assert_memory_equal(enc_key, enc_exp.data, 32);
    assert_memory_equal(token_key, tok_exp.data, 32);

    size_t i;
    json_t *t;
    json_array_foreach(json_object_get(v, "tokens"), i, t)
    {
        const char *term = lf_test_str(t, "term");
        lf_buf want = lf_test_hex(t, "token");
        uint8_t tok[16];
        assert_int_equal(lf_native_token(token_key, term, strlen(term), tok, NULL), LF_OK);
        assert_memory_equal(tok, want.data, 16);
        lf_buf_free(&want);
    }

    lf_aead *enc = NULL;
    assert_int_equal(lf_aead_new(enc_key, &enc, NULL), LF_OK);
    lf_native_opener *op = NULL;
    assert_int_equal(lf_native_opener_new(sk.data, key_id.data, &op, NULL), LF_OK);
    lf_native_opened opened = {0};
    json_t *f;
    size_t checked = 0;
    json_array_foreach(json_object_get(v, "frames"), i, f)
    {
        /* Rebuild the header from the fields (as the customer's tools do from columns). */
        lf_native_header h;
        memset(&h, 0, sizeof h);
        h.kind = (uint8_t)json_integer_value(json_object_get(f, "kind"));
        h.entry_type = (uint8_t)json_integer_value(json_object_get(f, "entry_type"));
        h.flags = (uint8_t)json_integer_value(json_object_get(f, "flags"));
        memcpy(h.key_id, key_id.data, 16);
        h.sequence = (uint64_t)json_integer_value(json_object_get(f, "sequence"));
        h.ts_min = json_i64(f, "ts_min");
        h.ts_max = json_i64(f, "ts_max");
        h.count = (uint32_t)json_integer_value(json_object_get(f, "count"));
        lf_buf nonce = lf_test_hex(f, "nonce");
        memcpy(h.nonce, nonce.data, 12);
        strcpy(h.tenant, lf_test_str(v, "tenant"));
        strcpy(h.app, lf_test_str(v, "app"));
        json_t *terms = json_object_get(f, "terms");
        uint8_t tokens[8 * 16];
        h.token_count = (uint16_t)json_array_size(terms);
        for (size_t k = 0; k < h.token_count; k++) {
            const char *term = json_string_value(json_array_get(terms, k));
            assert_int_equal(lf_native_token(token_key, term, strlen(term), tokens + 16 * k, NULL),
                             LF_OK);
        }
        h.tokens = tokens;
        lf_buf pt = lf_test_hex(f, "plaintext"), header = lf_test_hex(f, "header"),
               frame = lf_test_hex(f, "frame");
        h.body_len = (uint32_t)(pt.len + 16);
        lf_buf enc_hdr = LF_BUF_INIT, sealed = LF_BUF_INIT;
        assert_int_equal(lf_native_header_encode(&h, &enc_hdr, NULL), LF_OK);
        assert_int_equal(enc_hdr.len, header.len);
        assert_memory_equal(enc_hdr.data, header.data, header.len);
        assert_int_equal(lf_native_seal_raw(enc, &h, pt.data, pt.len, &sealed, NULL), LF_OK);
        assert_int_equal(sealed.len, frame.len);
        assert_memory_equal(sealed.data, frame.data, frame.len);

        /* Parse and open the vector frame. */
        lf_native_frame pf;
        size_t consumed = 0;
        assert_int_equal(lf_native_frame_parse(frame.data, frame.len, 0, &pf, &consumed, NULL),
                         LF_OK);
        assert_int_equal(consumed, frame.len);
        const uint8_t *hb;
        size_t hl;
        lf_native_frame_header_bytes(&pf, &hb, &hl);
        assert_int_equal(hl, header.len);
        assert_memory_equal(hb, header.data, hl);
        assert_int_equal(pf.hdr.sequence, h.sequence);
        assert_int_equal(pf.hdr.ts_min, h.ts_min);
        assert_string_equal(pf.hdr.app, h.app);
        assert_int_equal(lf_native_open(op, &pf, &opened, NULL), LF_OK);
        json_t *entries = json_object_get(f, "entries");
        assert_int_equal(opened.count, json_array_size(entries));
        for (size_t k = 0; k < opened.count; k++) {
            json_t *e = json_array_get(entries, k);
            const char *js = lf_test_str(e, "json");
            assert_int_equal(opened.entries[k].len, strlen(js));
            assert_memory_equal(opened.entries[k].data, js, strlen(js));
            int64_t ts = json_i64(e, "ts");
            assert_true(ts >= h.ts_min && ts <= h.ts_max);
        }
        if (h.flags & LF_NATIVE_FLAG_ZSTD) /* the zstd bytes inflate to the entries */
            assert_true(ZSTD_getFrameContentSize(pt.data, pt.len) == opened.plaintext.len);
        lf_buf_free(&nonce);
        lf_buf_free(&pt);
        lf_buf_free(&header);
        lf_buf_free(&frame);
        lf_buf_free(&enc_hdr);
        lf_buf_free(&sealed);
        checked++;
    }
    assert_int_equal(checked, 5);

    json_t *k = json_object_get(v, "key_frame");
    lf_buf fp = lf_test_hex(k, "fingerprint"), wr = lf_test_hex(k, "wrapped"),
           kf = lf_test_hex(k, "frame"), kh = lf_test_hex(k, "header");
    lf_buf built = LF_BUF_INIT;
    assert_int_equal(lf_native_key_frame_encode(key_id.data, lf_test_str(v, "tenant"),
                                                lf_test_str(v, "app"), json_i64(k, "created"),
                                                fp.data, wr.data, wr.len, &built, NULL),
                     LF_OK);
    assert_int_equal(built.len, kf.len);
    assert_memory_equal(built.data, kf.data, kf.len);
    lf_native_frame pf;
    assert_int_equal(lf_native_frame_parse(kf.data, kf.len, 0, &pf, NULL, NULL), LF_OK);
    assert_int_equal(pf.header_len, kh.len);
    const uint8_t *pfp, *pwr;
    size_t pwl;
    assert_int_equal(lf_native_key_frame_parts(&pf, &pfp, &pwr, &pwl, NULL), LF_OK);
    assert_memory_equal(pfp, fp.data, 32);
    assert_int_equal(pwl, wr.len);
    assert_memory_equal(pwr, wr.data, wr.len);
    assert_int_equal(lf_native_open(op, &pf, &opened, NULL), LF_ERR_INVALID); /* not sealed */

    lf_buf_free(&fp);
    lf_buf_free(&wr);
    lf_buf_free(&kf);
    lf_buf_free(&kh);
    lf_buf_free(&built);
    lf_native_opened_free(&opened);
    lf_native_opener_free(op);
    lf_aead_free(enc);
    lf_buf_free(&sk);
    lf_buf_free(&key_id);
    lf_buf_free(&enc_exp);
    lf_buf_free(&tok_exp);
    json_decref(v);
}

/* ---------------- round trips ---------------- */

static void test_roundtrip_all_kinds(void **state)
{
    (void)state;
    lf_native_session *s = new_session();
    assert_memory_equal(lf_native_session_key_id(s), kid, 16);
    lf_buf body = LF_BUF_INIT;
    uint8_t tok[2][16];
    assert_int_equal(lf_native_session_token(s, "Error", 5, tok[0], NULL), LF_OK);
    assert_int_equal(lf_native_session_token(s, "db", 2, tok[1], NULL), LF_OK);
    lf_native_entry e0 = E(0, T0), blk[3] = {E(0, T0 + 5), E(1, T0 + 1), E(2, T0 + 9)};
    assert_int_equal(lf_native_seal_entry(s, 1, &e0, &tok[0][0], 2, false, &body, NULL), LF_OK);
    assert_int_equal(lf_native_seal_entry(s, 2, &e0, NULL, 0, true, &body, NULL), LF_OK);
    assert_int_equal(lf_native_seal_block(s, 3, blk, 3, &tok[1][0], 1, false, &body, NULL), LF_OK);
    assert_int_equal(lf_native_session_set_zstd_level(s, 19, NULL), LF_OK);
    assert_int_equal(lf_native_seal_block(s, 7, blk, 3, NULL, 0, true, &body, NULL), LF_OK);
    assert_int_equal(lf_native_session_sequence(s), 4);
    assert_false(lf_native_session_closed(s));
    assert_int_equal(lf_native_seal_close(s, T0 + 100, &body, NULL), LF_OK);
    assert_true(lf_native_session_closed(s));

    /* Refuses to seal after close, and nothing is appended. */
    size_t before = body.len;
    lf_error err = {0};
    assert_int_equal(lf_native_seal_entry(s, 1, &e0, NULL, 0, false, &body, &err), LF_ERR_INVALID);
    assert_int_equal(lf_native_seal_block(s, 1, blk, 3, NULL, 0, false, &body, NULL),
                     LF_ERR_INVALID);
    assert_int_equal(lf_native_seal_close(s, T0, &body, NULL), LF_ERR_INVALID);
    assert_int_equal(body.len, before);

    size_t n = 0;
    assert_int_equal(lf_native_body_check(body.data, body.len, &n, NULL), LF_OK);
    assert_int_equal(n, 5);

    lf_native_opener *o = new_opener();
    lf_native_opened out = {0};
    lf_native_reader r;
    lf_native_frame f;
    lf_native_reader_init(&r, body.data, body.len);
    const uint8_t kinds[] = {1, 1, 2, 2, 3}, types[] = {1, 2, 3, 7, 0}, flags[] = {0, 1, 0, 1, 0};
    for (size_t i = 0; i < 5; i++) {
        assert_int_equal(lf_native_reader_next(&r, &f, NULL), LF_OK);
        assert_int_equal(f.index, i);
        assert_int_equal(f.hdr.kind, kinds[i]);
        assert_int_equal(f.hdr.entry_type, types[i]);
        assert_int_equal(f.hdr.flags, flags[i]);
        assert_int_equal(f.hdr.sequence, i);
        assert_string_equal(f.hdr.tenant, "tenant-1");
        assert_string_equal(f.hdr.app, "app.web");
        assert_int_equal(lf_native_open(o, &f, &out, NULL), LF_OK);
        if (kinds[i] == 1) {
            assert_int_equal(f.hdr.count, 1);
            assert_int_equal(f.hdr.ts_min, T0);
            assert_int_equal(f.hdr.ts_max, T0);
            assert_int_equal(out.count, 1);
            assert_int_equal(out.entries[0].len, strlen(J[0]));
            assert_memory_equal(out.entries[0].data, J[0], strlen(J[0]));
        } else if (kinds[i] == 2) {
            assert_int_equal(f.hdr.count, 3);
            assert_int_equal(f.hdr.ts_min, T0 + 1);
            assert_int_equal(f.hdr.ts_max, T0 + 9);
            assert_int_equal(out.count, 3);
            for (size_t k = 0; k < 3; k++)
                assert_memory_equal(out.entries[k].data, J[k], strlen(J[k]));
        } else {
            assert_int_equal(f.hdr.count, 4);
            assert_int_equal(f.hdr.ts_min, T0 + 100);
            assert_int_equal(out.count, 0);
        }
    }
    /* Tokens are in the header: the first frame has both, the third the second one. */
    lf_native_reader_init(&r, body.data, body.len);
    assert_int_equal(lf_native_reader_next(&r, &f, NULL), LF_OK);
    assert_int_equal(f.hdr.token_count, 2);
    assert_memory_equal(f.hdr.tokens, tok, 32);
    assert_int_equal(lf_native_reader_next(&r, &f, NULL), LF_OK);
    assert_int_equal(lf_native_reader_next(&r, &f, NULL), LF_OK);
    assert_memory_equal(f.hdr.tokens, tok[1], 16);
    assert_int_equal(lf_native_reader_next(&r, &f, NULL), LF_OK);
    assert_int_equal(lf_native_reader_next(&r, &f, NULL), LF_OK);
    assert_int_equal(lf_native_reader_next(&r, &f, NULL), LF_ERR_NOT_FOUND);

    lf_native_opened_free(&out);
    lf_native_opener_free(o);
    lf_native_session_free(s);
    lf_buf_free(&body);
}

static void test_random_key_and_id(void **state)
{
    (void)state;
    lf_native_session *a = NULL, *b = NULL;
    assert_int_equal(lf_native_session_new(NULL, NULL, "t", "a", &a, NULL), LF_OK);
    assert_int_equal(lf_native_session_new(NULL, NULL, "t", "a", &b, NULL), LF_OK);
    assert_memory_not_equal(lf_native_session_key_id(a), lf_native_session_key_id(b), 16);
    /* Two frames of one session never share a nonce. */
    lf_buf body = LF_BUF_INIT;
    lf_native_entry e = E(0, T0);
    for (int i = 0; i < 200; i++)
        assert_int_equal(lf_native_seal_entry(a, 1, &e, NULL, 0, false, &body, NULL), LF_OK);
    lf_native_reader r;
    lf_native_frame f;
    uint8_t nonces[200][12];
    lf_native_reader_init(&r, body.data, body.len);
    for (int i = 0; i < 200; i++) {
        assert_int_equal(lf_native_reader_next(&r, &f, NULL), LF_OK);
        memcpy(nonces[i], f.hdr.nonce, 12);
        for (int k = 0; k < i; k++)
            assert_memory_not_equal(nonces[i], nonces[k], 12);
    }
    lf_buf_free(&body);
    lf_native_session_free(a);
    lf_native_session_free(b);
}

/* ---------------- tampering ---------------- */

/* Flip one byte of a frame so that it still parses, and check the tag fails. */
static void expect_auth_fail(const lf_buf *frame, size_t offset, uint8_t new_value)
{
    lf_buf copy = LF_BUF_INIT;
    assert_int_equal(lf_buf_append(&copy, frame->data, frame->len), LF_OK);
    assert_int_not_equal(copy.data[offset], new_value);
    copy.data[offset] = new_value;
    lf_native_frame f;
    lf_error err = {0};
    assert_int_equal(lf_native_frame_parse(copy.data, copy.len, 0, &f, NULL, &err), LF_OK);
    lf_native_opener *o = new_opener();
    lf_native_opened out = {0};
    lf_err rc = lf_native_open(o, &f, &out, &err);
    if (rc != LF_ERR_AUTH)
        fail_msg("offset %zu: expected LF_ERR_AUTH, got %d (%s)", offset, rc, err.message);
    assert_int_equal(out.count, 0);
    assert_int_equal(out.plaintext.len, 0);
    lf_native_opened_free(&out);
    lf_native_opener_free(o);
    lf_buf_free(&copy);
}

static void test_tamper_each_field(void **state)
{
    (void)state;
    lf_native_session *s = new_session();
    uint8_t tok[2][16];
    assert_int_equal(lf_native_session_token(s, "alpha", 5, tok[0], NULL), LF_OK);
    assert_int_equal(lf_native_session_token(s, "beta", 4, tok[1], NULL), LF_OK);
    lf_native_entry blk[3] = {E(0, T0), E(1, T0 + 10), E(2, T0 + 20)};
    lf_buf frame = LF_BUF_INIT;
    lf_native_session_test_set_sequence(s, 7);
    assert_int_equal(lf_native_seal_block(s, 1, blk, 3, &tok[0][0], 2, false, &frame, NULL), LF_OK);
    lf_native_frame f;
    assert_int_equal(lf_native_frame_parse(frame.data, frame.len, 0, &f, NULL, NULL), LF_OK);
    assert_int_equal(f.hdr.sequence, 7);
    size_t tenant_off = 72, app_off = 72 + strlen("tenant-1"), tok_off = app_off + 7;

    expect_auth_fail(&frame, 5, 2);                        /* entry_type 1 -> 2 */
    expect_auth_fail(&frame, 6, 1);                        /* flags: claim zstd */
    expect_auth_fail(&frame, 8, 0x00);                     /* key_id */
    expect_auth_fail(&frame, 31, 8);                       /* sequence 7 -> 8 */
    expect_auth_fail(&frame, 39, frame.data[39] ^ 0x01);   /* ts_min, still <= ts_max */
    expect_auth_fail(&frame, 47, frame.data[47] + 1);      /* ts_max */
    expect_auth_fail(&frame, 51, 2);                       /* count 3 -> 2 */
    expect_auth_fail(&frame, 52, frame.data[52] ^ 0x80);   /* nonce */
    expect_auth_fail(&frame, tenant_off, 'T');             /* tenant */
    expect_auth_fail(&frame, app_off + 4, 'X');            /* app "app.web" -> "app.Xeb" */
    expect_auth_fail(&frame, tok_off + 3, tok[0][3] ^ 1);  /* a token */
    expect_auth_fail(&frame, tok_off + 16, tok[1][0] ^ 1); /* the second token */
    expect_auth_fail(&frame, f.header_len, frame.data[f.header_len] ^ 1);   /* body */
    expect_auth_fail(&frame, frame.len - 1, frame.data[frame.len - 1] ^ 1); /* tag */

    /* Rebuilding the header from (possibly altered) stored columns: identical columns open,
     * a re-dated record does not. */
    lf_native_opener *o = new_opener();
    lf_native_opened out = {0};
    lf_buf rebuilt = LF_BUF_INIT;
    assert_int_equal(lf_native_header_encode(&f.hdr, &rebuilt, NULL), LF_OK);
    assert_int_equal(rebuilt.len, f.header_len);
    assert_memory_equal(rebuilt.data, f.header, f.header_len);
    assert_int_equal(lf_native_open_parts(o, &f.hdr, rebuilt.data, rebuilt.len, f.body,
                                          f.hdr.body_len, &out, NULL),
                     LF_OK);
    assert_int_equal(out.count, 3);
    lf_native_header moved = f.hdr;
    moved.ts_min -= 3600000000000LL;
    strcpy(moved.app, "other-app");
    lf_buf_reset(&rebuilt);
    assert_int_equal(lf_native_header_encode(&moved, &rebuilt, NULL), LF_OK);
    assert_int_equal(lf_native_open_parts(o, &moved, rebuilt.data, rebuilt.len, f.body,
                                          f.hdr.body_len, &out, NULL),
                     LF_ERR_AUTH);
    assert_int_equal(out.count, 0);

    /* Wrong session key or wrong key id: LF_ERR_AUTH. */
    uint8_t other[32];
    memcpy(other, key32, 32);
    other[0] ^= 1;
    lf_native_opener *wrong = NULL;
    assert_int_equal(lf_native_opener_new(other, kid, &wrong, NULL), LF_OK);
    assert_int_equal(lf_native_open(wrong, &f, &out, NULL), LF_ERR_AUTH);
    lf_native_opener_free(wrong);
    uint8_t other_kid[16];
    memcpy(other_kid, kid, 16);
    other_kid[15] ^= 1;
    assert_int_equal(lf_native_opener_new(key32, other_kid, &wrong, NULL), LF_OK);
    assert_int_equal(lf_native_open(wrong, &f, &out, NULL), LF_ERR_AUTH);
    lf_native_opener_free(wrong);

    lf_native_opened_free(&out);
    lf_native_opener_free(o);
    lf_buf_free(&rebuilt);
    lf_buf_free(&frame);
    lf_native_session_free(s);
}

/* ---------------- truncation and bodies ---------------- */

static void test_truncation_and_trailing(void **state)
{
    (void)state;
    lf_native_session *s = new_session();
    lf_buf body = LF_BUF_INIT;
    lf_native_entry e = E(1, T0);
    size_t bounds[4], nb = 0;
    for (int i = 0; i < 3; i++) {
        assert_int_equal(lf_native_seal_entry(s, 1, &e, NULL, 0, i == 1, &body, NULL), LF_OK);
        bounds[nb++] = body.len;
    }
    assert_int_equal(lf_native_seal_close(s, T0, &body, NULL), LF_OK);
    bounds[nb++] = body.len;

    assert_int_equal(lf_native_body_check(body.data, 0, NULL, NULL), LF_ERR_TRUNCATED);
    for (size_t len = 1; len < body.len; len++) {
        bool boundary = false;
        for (size_t k = 0; k < nb; k++)
            boundary |= bounds[k] == len;
        lf_error err = {0};
        lf_err rc = lf_native_body_check(body.data, len, NULL, &err);
        if (boundary)
            assert_int_equal(rc, LF_OK);
        else if (rc != LF_ERR_TRUNCATED)
            fail_msg("prefix %zu: expected LF_ERR_TRUNCATED, got %d (%s)", len, rc, err.message);
    }
    size_t n = 0;
    assert_int_equal(lf_native_body_check(body.data, body.len, &n, NULL), LF_OK);
    assert_int_equal(n, 4);

    /* Anything after the last frame is refused, naming the frame index. */
    lf_error err = {0};
    assert_int_equal(lf_buf_append(&body, "x", 1), LF_OK);
    assert_int_equal(lf_native_body_check(body.data, body.len, NULL, &err), LF_ERR_INVALID);
    assert_non_null(strstr(err.message, "frame 4"));
    body.data[body.len - 1] = 'L';
    assert_int_equal(lf_native_body_check(body.data, body.len, NULL, NULL), LF_ERR_TRUNCATED);

    /* The opener refuses a truncated body even if a caller skipped the parser. */
    lf_native_frame f;
    assert_int_equal(lf_native_frame_parse(body.data, body.len, 0, &f, NULL, NULL), LF_OK);
    lf_native_opener *o = new_opener();
    lf_native_opened out = {0};
    assert_int_equal(lf_native_open_parts(o, &f.hdr, f.header, f.header_len, f.body,
                                          f.hdr.body_len - 1, &out, NULL),
                     LF_ERR_AUTH);
    assert_int_equal(lf_native_open_parts(o, &f.hdr, f.header, f.header_len, f.body, 5, &out, NULL),
                     LF_ERR_TRUNCATED);
    lf_native_opened_free(&out);
    lf_native_opener_free(o);
    lf_buf_free(&body);
    lf_native_session_free(s);
}

/* ---------------- parser limits ---------------- */

/* A valid frame for `h` with a zero body of h->body_len bytes. */
static lf_buf raw_frame(const lf_native_header *h)
{
    lf_buf b = LF_BUF_INIT;
    lf_error err = {0};
    if (lf_native_header_encode(h, &b, &err) != LF_OK)
        fail_msg("raw_frame: %s", err.message);
    assert_int_equal(lf_buf_reserve(&b, h->body_len), LF_OK);
    memset(b.data + b.len, 0, h->body_len);
    b.len += h->body_len;
    return b;
}

static lf_native_header base(uint8_t kind)
{
    lf_native_header h;
    memset(&h, 0, sizeof h);
    h.kind = kind;
    h.entry_type = kind <= 2 ? 1 : 0;
    memcpy(h.key_id, kid, 16);
    h.ts_min = h.ts_max = T0;
    h.count = kind <= 2 ? 1 : 0;
    if (kind != LF_NATIVE_KEY)
        h.nonce[0] = 9;
    strcpy(h.tenant, "t");
    strcpy(h.app, "a");
    h.body_len = kind == LF_NATIVE_KEY ? 32 + 512 : kind == LF_NATIVE_CLOSE ? 16 : 100;
    return h;
}

/* Mutate byte `off` of a valid frame of `kind` and expect `code` from the parser. */
static void expect_byte(uint8_t kind, size_t off, uint8_t value, lf_err code)
{
    lf_native_header h = base(kind);
    lf_buf b = raw_frame(&h);
    b.data[off] = value;
    lf_native_frame f;
    lf_error err = {0};
    lf_err rc = lf_native_frame_parse(b.data, b.len, 3, &f, NULL, &err);
    if (rc != code)
        fail_msg("kind %u byte %zu = %u: expected %d, got %d (%s)", kind, off, value, code, rc,
                 err.message);
    if (rc != LF_OK)
        assert_non_null(strstr(err.message, "frame 3"));
    lf_buf_free(&b);
}

/* Encode `h` as if by a careless writer (bypassing the encoder's checks) and expect `code`
 * from both the parser and lf_native_header_check. */
static void expect_header(lf_native_header h, lf_err code)
{
    lf_error err = {0};
    lf_err check = lf_native_header_check(&h, &err);
    if (check != code)
        fail_msg("header_check: expected %d, got %d (%s)", code, check, err.message);
    lf_native_header ok = base(LF_NATIVE_ENTRY);
    ok.body_len = 0; /* placeholder, patched below */
    size_t tl = strnlen(h.tenant, 65), al = strnlen(h.app, 129);
    size_t hl = 72 + tl + al + (size_t)h.token_count * 16;
    size_t total = hl + (h.body_len < 4096 ? h.body_len : 4096);
    uint8_t *p = calloc(1, total);
    memcpy(p, "LFN1", 4);
    p[4] = h.kind;
    p[5] = h.entry_type;
    p[6] = h.flags;
    memcpy(p + 8, h.key_id, 16);
    lf_store_be64(p + 24, h.sequence);
    lf_store_be64(p + 32, (uint64_t)h.ts_min);
    lf_store_be64(p + 40, (uint64_t)h.ts_max);
    lf_store_be32(p + 48, h.count);
    memcpy(p + 52, h.nonce, 12);
    p[64] = (uint8_t)tl;
    p[65] = (uint8_t)al;
    lf_store_be16(p + 66, h.token_count);
    lf_store_be32(p + 68, h.body_len);
    memcpy(p + 72, h.tenant, tl);
    memcpy(p + 72 + tl, h.app, al);
    lf_native_frame f;
    lf_err rc = lf_native_frame_parse(p, total, 0, &f, NULL, &err);
    if (rc != code && !(code == LF_OK && rc == LF_ERR_TRUNCATED && h.body_len > 4096))
        fail_msg("parse: expected %d, got %d (%s)", code, rc, err.message);
    free(p);
    (void)ok;
}

static void test_parser_limits(void **state)
{
    (void)state;
    /* Every kind's base frame is valid. */
    for (uint8_t k = 1; k <= 4; k++)
        expect_byte(k, 7, 0, LF_OK);

    expect_byte(LF_NATIVE_ENTRY, 0, 'X', LF_ERR_INVALID);    /* magic */
    expect_byte(LF_NATIVE_ENTRY, 3, '2', LF_ERR_INVALID);    /* magic "LFN2" */
    expect_byte(LF_NATIVE_ENTRY, 4, 0, LF_ERR_INVALID);      /* kind 0 */
    expect_byte(LF_NATIVE_ENTRY, 4, 5, LF_ERR_INVALID);      /* kind 5 */
    expect_byte(LF_NATIVE_ENTRY, 5, 0, LF_ERR_INVALID);      /* entry_type 0 */
    expect_byte(LF_NATIVE_ENTRY, 5, 7, LF_OK);               /* entry_type 7 */
    expect_byte(LF_NATIVE_BLOCK, 5, 8, LF_ERR_INVALID);      /* entry_type 8 */
    expect_byte(LF_NATIVE_CLOSE, 5, 1, LF_ERR_INVALID);      /* close with entry_type */
    expect_byte(LF_NATIVE_KEY, 5, 1, LF_ERR_INVALID);        /* key with entry_type */
    expect_byte(LF_NATIVE_ENTRY, 6, 1, LF_OK);               /* zstd flag */
    expect_byte(LF_NATIVE_ENTRY, 6, 2, LF_ERR_INVALID);      /* unknown flag */
    expect_byte(LF_NATIVE_BLOCK, 6, 0x81, LF_ERR_INVALID);   /* unknown flag */
    expect_byte(LF_NATIVE_CLOSE, 6, 1, LF_ERR_INVALID);      /* zstd on close */
    expect_byte(LF_NATIVE_KEY, 6, 1, LF_ERR_INVALID);        /* zstd on key */
    expect_byte(LF_NATIVE_ENTRY, 7, 1, LF_ERR_INVALID);      /* reserved */
    expect_byte(LF_NATIVE_ENTRY, 51, 2, LF_ERR_INVALID);     /* entry count 2 */
    expect_byte(LF_NATIVE_ENTRY, 51, 0, LF_ERR_INVALID);     /* entry count 0 */
    expect_byte(LF_NATIVE_BLOCK, 51, 0, LF_ERR_INVALID);     /* block count 0 */
    expect_byte(LF_NATIVE_CLOSE, 51, 1, LF_ERR_INVALID);     /* close count != sequence */
    expect_byte(LF_NATIVE_CLOSE, 31, 1, LF_ERR_INVALID);     /* close sequence != count */
    expect_byte(LF_NATIVE_KEY, 51, 1, LF_ERR_INVALID);       /* key count */
    expect_byte(LF_NATIVE_KEY, 31, 1, LF_ERR_INVALID);       /* key sequence */
    expect_byte(LF_NATIVE_KEY, 60, 1, LF_ERR_INVALID);       /* key nonce not zero */
    expect_byte(LF_NATIVE_ENTRY, 39, 0xff, LF_ERR_INVALID);  /* ts_min > ts_max */
    expect_byte(LF_NATIVE_ENTRY, 47, 0xff, LF_OK);           /* ts_max later: fine */
    expect_byte(LF_NATIVE_CLOSE, 47, 0xff, LF_ERR_INVALID);  /* close ts_min != ts_max */
    expect_byte(LF_NATIVE_KEY, 47, 0xff, LF_ERR_INVALID);    /* key ts_min != ts_max */
    expect_byte(LF_NATIVE_ENTRY, 64, 0, LF_ERR_INVALID);     /* tenant_len 0 */
    expect_byte(LF_NATIVE_ENTRY, 64, 65, LF_ERR_TOO_LARGE);  /* tenant_len 65 */
    expect_byte(LF_NATIVE_ENTRY, 65, 0, LF_ERR_INVALID);     /* app_len 0 */
    expect_byte(LF_NATIVE_ENTRY, 65, 129, LF_ERR_TOO_LARGE); /* app_len 129 */
    expect_byte(LF_NATIVE_ENTRY, 72, '/', LF_ERR_INVALID);   /* tenant charset */
    expect_byte(LF_NATIVE_ENTRY, 73, ' ', LF_ERR_INVALID);   /* app charset */
    expect_byte(LF_NATIVE_ENTRY, 73, 0, LF_ERR_INVALID);     /* NUL in app */
    expect_byte(LF_NATIVE_CLOSE, 71, 17, LF_ERR_INVALID);    /* close body_len 17 */
    expect_byte(LF_NATIVE_ENTRY, 71, 16, LF_ERR_INVALID);    /* entry body_len = tag only */
    expect_byte(LF_NATIVE_KEY, 67, 1, LF_ERR_INVALID);       /* token on key frame */
    expect_byte(LF_NATIVE_CLOSE, 67, 1, LF_ERR_INVALID);     /* token on close frame */
    expect_byte(LF_NATIVE_ENTRY, 67, 1, LF_ERR_TRUNCATED);   /* a token shifts the body */
    expect_byte(LF_NATIVE_ENTRY, 66, 2, LF_ERR_TOO_LARGE);   /* 512 tokens */
    expect_byte(LF_NATIVE_ENTRY, 66, 1, LF_ERR_TRUNCATED);   /* 256 tokens: allowed */
    expect_byte(LF_NATIVE_ENTRY, 69, 1, LF_ERR_TRUNCATED);   /* body_len beyond the input */

    lf_native_header h = base(LF_NATIVE_ENTRY);
    h.body_len = LF_NATIVE_ENTRY_BODY_MAX;
    expect_header(h, LF_OK);
    h.body_len = LF_NATIVE_ENTRY_BODY_MAX + 1;
    expect_header(h, LF_ERR_TOO_LARGE);
    h = base(LF_NATIVE_BLOCK);
    h.body_len = LF_NATIVE_BLOCK_BODY_MAX + 1;
    expect_header(h, LF_ERR_TOO_LARGE);
    h.body_len = 100;
    h.count = LF_NATIVE_BLOCK_COUNT_MAX;
    expect_header(h, LF_OK);
    h.count = LF_NATIVE_BLOCK_COUNT_MAX + 1;
    expect_header(h, LF_ERR_INVALID);
    h = base(LF_NATIVE_KEY);
    h.body_len = 32 + 63;
    expect_header(h, LF_ERR_INVALID);
    h.body_len = 32 + 64;
    expect_header(h, LF_OK);
    h.body_len = 32 + 1024;
    expect_header(h, LF_OK);
    h.body_len = 32 + 1025;
    expect_header(h, LF_ERR_TOO_LARGE);
    h = base(LF_NATIVE_ENTRY);
    h.sequence = LF_NATIVE_KEY_FRAMES_MAX - 2;
    expect_header(h, LF_OK);
    h.sequence = LF_NATIVE_KEY_FRAMES_MAX - 1;
    expect_header(h, LF_ERR_INVALID);
    h = base(LF_NATIVE_CLOSE);
    h.sequence = h.count = LF_NATIVE_KEY_FRAMES_MAX - 1;
    expect_header(h, LF_OK);
    h.sequence = h.count = LF_NATIVE_KEY_FRAMES_MAX;
    expect_header(h, LF_ERR_INVALID);
    h = base(LF_NATIVE_ENTRY);
    static const uint8_t many_tokens[257 * 16];
    h.tokens = many_tokens;
    h.token_count = 257;
    expect_header(h, LF_ERR_TOO_LARGE);
    h = base(LF_NATIVE_ENTRY);
    memset(h.tenant, 'a', 64);
    memset(h.app, 'b', 128);
    expect_header(h, LF_OK);

    /* The encoder refuses what the parser refuses, and appends nothing. */
    lf_buf b = LF_BUF_INIT;
    h = base(LF_NATIVE_ENTRY);
    strcpy(h.app, "no/slash");
    assert_int_equal(lf_native_header_encode(&h, &b, NULL), LF_ERR_INVALID);
    h = base(LF_NATIVE_ENTRY);
    h.token_count = 2;
    h.tokens = NULL;
    assert_int_equal(lf_native_header_encode(&h, &b, NULL), LF_ERR_INVALID);
    assert_int_equal(b.len, 0);
    lf_buf_free(&b);
}

static void test_frame_count_limit(void **state)
{
    (void)state;
    lf_native_header h = base(LF_NATIVE_CLOSE);
    lf_buf one = raw_frame(&h);
    lf_buf body = LF_BUF_INIT;
    for (unsigned i = 0; i < LF_NATIVE_FRAMES_MAX; i++)
        assert_int_equal(lf_buf_append(&body, one.data, one.len), LF_OK);
    size_t n = 0;
    assert_int_equal(lf_native_body_check(body.data, body.len, &n, NULL), LF_OK);
    assert_int_equal(n, LF_NATIVE_FRAMES_MAX);
    assert_int_equal(lf_buf_append(&body, one.data, one.len), LF_OK);
    lf_error err = {0};
    assert_int_equal(lf_native_body_check(body.data, body.len, &n, &err), LF_ERR_TOO_LARGE);
    lf_buf_free(&one);
    lf_buf_free(&body);
}

/* ---------------- zstd and plaintext structure ---------------- */

/* Seal an arbitrary plaintext under a header of `kind` with `count` and `flags`, and open it. */
static lf_err seal_and_open(uint8_t kind, uint32_t count, uint8_t flags, const void *pt, size_t len)
{
    uint8_t enc_key[32];
    assert_int_equal(lf_native_derive_keys(key32, kid, enc_key, NULL, NULL), LF_OK);
    lf_aead *enc = NULL;
    assert_int_equal(lf_aead_new(enc_key, &enc, NULL), LF_OK);
    lf_native_header h = base(kind);
    h.count = count;
    h.flags = flags;
    if (kind == LF_NATIVE_CLOSE)
        h.sequence = count;
    lf_buf frame = LF_BUF_INIT;
    lf_error err = {0};
    lf_err rc = lf_native_seal_raw(enc, &h, pt, len, &frame, &err);
    if (rc == LF_OK) {
        lf_native_frame f;
        assert_int_equal(lf_native_frame_parse(frame.data, frame.len, 0, &f, NULL, NULL), LF_OK);
        lf_native_opener *o = new_opener();
        lf_native_opened out = {0};
        rc = lf_native_open(o, &f, &out, &err);
        if (rc != LF_OK)
            assert_int_equal(out.count, 0);
        lf_native_opened_free(&out);
        lf_native_opener_free(o);
    }
    lf_buf_free(&frame);
    lf_aead_free(enc);
    return rc;
}

static void test_zstd_bombs_and_structure(void **state)
{
    (void)state;
    /* 65 MiB of zeros compress to a few KiB but declare a content size over the cap. */
    size_t big = LF_NATIVE_INFLATE_MAX + 1024 * 1024;
    uint8_t *zeros = calloc(1, big);
    assert_non_null(zeros);
    size_t bound = ZSTD_compressBound(big);
    uint8_t *z = malloc(bound);
    size_t zn = ZSTD_compress(z, bound, zeros, big, 1);
    assert_false(ZSTD_isError(zn));
    assert_true(zn < 1024 * 1024);
    assert_int_equal(seal_and_open(LF_NATIVE_ENTRY, 1, 1, z, zn), LF_ERR_TOO_LARGE);
    /* Exactly the cap inflates. */
    zn = ZSTD_compress(z, bound, zeros, LF_NATIVE_INFLATE_MAX, 1);
    assert_int_equal(seal_and_open(LF_NATIVE_ENTRY, 1, 1, z, zn), LF_OK);

    /* A frame without a content size (streaming) is refused. */
    ZSTD_CCtx *c = ZSTD_createCCtx();
    ZSTD_CCtx_setParameter(c, ZSTD_c_contentSizeFlag, 0);
    zn = ZSTD_compress2(c, z, bound, J[0], strlen(J[0]));
    assert_false(ZSTD_isError(zn));
    assert_int_equal(seal_and_open(LF_NATIVE_ENTRY, 1, 1, z, zn), LF_ERR_INVALID);
    ZSTD_freeCCtx(c);

    /* Two zstd frames back to back, trailing bytes, garbage, and a corrupt frame. */
    size_t one = ZSTD_compress(z, bound, J[0], strlen(J[0]), 3);
    memcpy(z + one, z, one);
    assert_int_equal(seal_and_open(LF_NATIVE_ENTRY, 1, 1, z, 2 * one), LF_ERR_INVALID);
    assert_int_equal(seal_and_open(LF_NATIVE_ENTRY, 1, 1, z, one + 1), LF_ERR_INVALID);
    assert_int_equal(seal_and_open(LF_NATIVE_ENTRY, 1, 1, "not zstd at all", 15), LF_ERR_INVALID);
    assert_int_equal(seal_and_open(LF_NATIVE_ENTRY, 1, 1, z, one), LF_OK);
    z[one - 2] ^= 0x55;
    assert_int_equal(seal_and_open(LF_NATIVE_ENTRY, 1, 1, z, one - 1), LF_ERR_INVALID);
    /* A zstd frame of empty content: an empty entry. */
    zn = ZSTD_compress(z, bound, "", 0, 3);
    assert_int_equal(seal_and_open(LF_NATIVE_ENTRY, 1, 1, z, zn), LF_ERR_INVALID);

    /* Block structure: count must match exactly, entries non-empty, nothing trailing. */
    lf_buf blk = LF_BUF_INIT;
    for (int i = 0; i < 3; i++) {
        lf_buf_append_be32(&blk, (uint32_t)strlen(J[i]));
        lf_buf_append(&blk, J[i], strlen(J[i]));
    }
    assert_int_equal(seal_and_open(LF_NATIVE_BLOCK, 3, 0, blk.data, blk.len), LF_OK);
    assert_int_equal(seal_and_open(LF_NATIVE_BLOCK, 2, 0, blk.data, blk.len), LF_ERR_INVALID);
    assert_int_equal(seal_and_open(LF_NATIVE_BLOCK, 4, 0, blk.data, blk.len), LF_ERR_INVALID);
    assert_int_equal(seal_and_open(LF_NATIVE_BLOCK, 100000, 0, blk.data, blk.len), LF_ERR_INVALID);
    assert_int_equal(seal_and_open(LF_NATIVE_BLOCK, 3, 0, blk.data, blk.len - 1), LF_ERR_INVALID);
    lf_buf_append_u8(&blk, 0);
    assert_int_equal(seal_and_open(LF_NATIVE_BLOCK, 3, 0, blk.data, blk.len), LF_ERR_INVALID);
    uint8_t empty_entry[8] = {0, 0, 0, 0, 0, 0, 0, 1};
    assert_int_equal(seal_and_open(LF_NATIVE_BLOCK, 1, 0, empty_entry, 4), LF_ERR_INVALID);
    uint8_t huge_len[8] = {0xff, 0xff, 0xff, 0xff, 'x', 'y', 'z', 'w'};
    assert_int_equal(seal_and_open(LF_NATIVE_BLOCK, 1, 0, huge_len, 8), LF_ERR_INVALID);
    lf_buf_free(&blk);
    free(z);
    free(zeros);
}

/* ---------------- sequence cap and seal errors ---------------- */

static void test_frame_cap(void **state)
{
    (void)state;
    lf_native_session *s = new_session();
    lf_buf body = LF_BUF_INIT;
    lf_native_entry e = E(0, T0);
    lf_native_session_test_set_sequence(s, LF_NATIVE_KEY_FRAMES_MAX - 2);
    assert_int_equal(lf_native_seal_entry(s, 1, &e, NULL, 0, false, &body, NULL), LF_OK);
    size_t len = body.len;
    lf_error err = {0};
    assert_int_equal(lf_native_seal_entry(s, 1, &e, NULL, 0, false, &body, &err), LF_ERR_TOO_LARGE);
    assert_int_equal(lf_native_seal_block(s, 1, &e, 1, NULL, 0, true, &body, NULL),
                     LF_ERR_TOO_LARGE);
    assert_int_equal(body.len, len);
    assert_int_equal(lf_native_session_sequence(s), LF_NATIVE_KEY_FRAMES_MAX - 1);
    /* The close frame still fits: 2^24 frames in all. */
    assert_int_equal(lf_native_seal_close(s, T0, &body, NULL), LF_OK);
    lf_native_reader r;
    lf_native_frame f;
    lf_native_reader_init(&r, body.data, body.len);
    assert_int_equal(lf_native_reader_next(&r, &f, NULL), LF_OK);
    assert_int_equal(f.hdr.sequence, LF_NATIVE_KEY_FRAMES_MAX - 2);
    assert_int_equal(lf_native_reader_next(&r, &f, NULL), LF_OK);
    assert_int_equal(f.hdr.kind, LF_NATIVE_CLOSE);
    assert_int_equal(f.hdr.count, LF_NATIVE_KEY_FRAMES_MAX - 1);
    lf_native_opener *o = new_opener();
    lf_native_opened out = {0};
    assert_int_equal(lf_native_open(o, &f, &out, NULL), LF_OK);
    lf_native_opened_free(&out);
    lf_native_opener_free(o);
    lf_buf_free(&body);
    lf_native_session_free(s);
}

static void test_seal_errors(void **state)
{
    (void)state;
    lf_native_session *s = NULL;
    assert_int_equal(lf_native_session_new(key32, kid, "", "a", &s, NULL), LF_ERR_INVALID);
    assert_int_equal(lf_native_session_new(key32, kid, "t/x", "a", &s, NULL), LF_ERR_INVALID);
    assert_int_equal(lf_native_session_new(key32, kid, "t", NULL, &s, NULL), LF_ERR_INVALID);
    char long_app[130];
    memset(long_app, 'a', 129);
    long_app[129] = 0;
    assert_int_equal(lf_native_session_new(key32, kid, "t", long_app, &s, NULL), LF_ERR_INVALID);
    s = new_session();
    assert_int_equal(lf_native_session_set_zstd_level(s, 0, NULL), LF_ERR_INVALID);
    assert_int_equal(lf_native_session_set_zstd_level(s, 20, NULL), LF_ERR_INVALID);

    lf_buf out = LF_BUF_INIT;
    size_t big_len = LF_NATIVE_ENTRY_BODY_MAX - 16 + 1;
    char *big = malloc(big_len);
    memset(big, 'x', big_len);
    lf_native_entry e = {big, big_len, T0};
    assert_int_equal(lf_native_seal_entry(s, 1, &e, NULL, 0, false, &out, NULL), LF_ERR_TOO_LARGE);
    e.len = big_len - 1; /* exactly 1 MiB */
    assert_int_equal(lf_native_seal_entry(s, 1, &e, NULL, 0, false, &out, NULL), LF_OK);
    e.len = big_len; /* compresses well below the limit */
    assert_int_equal(lf_native_seal_entry(s, 1, &e, NULL, 0, true, &out, NULL), LF_OK);
    e.len = 0;
    assert_int_equal(lf_native_seal_entry(s, 1, &e, NULL, 0, false, &out, NULL), LF_ERR_INVALID);
    lf_native_entry ok = E(0, T0);
    assert_int_equal(lf_native_seal_entry(s, 0, &ok, NULL, 0, false, &out, NULL), LF_ERR_INVALID);
    assert_int_equal(lf_native_seal_entry(s, 8, &ok, NULL, 0, false, &out, NULL), LF_ERR_INVALID);
    uint8_t *toks = calloc(257, 16);
    assert_int_equal(lf_native_seal_entry(s, 1, &ok, toks, 257, false, &out, NULL),
                     LF_ERR_TOO_LARGE);
    assert_int_equal(lf_native_seal_entry(s, 1, &ok, toks, 256, false, &out, NULL), LF_OK);
    assert_int_equal(lf_native_seal_entry(s, 1, &ok, NULL, 1, false, &out, NULL), LF_ERR_INVALID);
    assert_int_equal(lf_native_seal_block(s, 1, &ok, 0, NULL, 0, false, &out, NULL),
                     LF_ERR_INVALID);
    lf_native_entry blk[2] = {ok, {big, 0, T0}};
    assert_int_equal(lf_native_seal_block(s, 1, blk, 2, NULL, 0, false, &out, NULL),
                     LF_ERR_INVALID);
    /* Failures did not advance the sequence: 3 frames sealed. */
    assert_int_equal(lf_native_session_sequence(s), 3);
    assert_int_equal(lf_native_body_check(out.data, out.len, NULL, NULL), LF_OK);
    /* A block over 16 MiB uncompressed is refused, compressed it fits. */
    size_t n = 17;
    lf_native_entry *many = calloc(n, sizeof *many);
    char *mib = malloc(1024 * 1024);
    memset(mib, 'y', 1024 * 1024);
    for (size_t i = 0; i < n; i++)
        many[i] = (lf_native_entry){mib, 1024 * 1024, T0 + (int64_t)i};
    assert_int_equal(lf_native_seal_block(s, 1, many, n, NULL, 0, false, &out, NULL),
                     LF_ERR_TOO_LARGE);
    assert_int_equal(lf_native_seal_block(s, 1, many, n, NULL, 0, true, &out, NULL), LF_OK);
    free(many);
    free(mib);
    free(toks);
    free(big);
    lf_buf_free(&out);
    lf_native_session_free(s);
}

static void test_tokens(void **state)
{
    (void)state;
    lf_native_session *s = new_session();
    uint8_t a[16], b[16], c[16];
    assert_int_equal(lf_native_session_token(s, "PayMent", 7, a, NULL), LF_OK);
    assert_int_equal(lf_native_session_token(s, "payment", 7, b, NULL), LF_OK);
    assert_int_equal(lf_native_session_token(s, "payments", 8, c, NULL), LF_OK);
    assert_memory_equal(a, b, 16);
    assert_memory_not_equal(a, c, 16);
    /* Non-ASCII bytes are not case-mapped. */
    assert_int_equal(lf_native_session_token(s, "\xc3\x84", 2, a, NULL), LF_OK);
    assert_int_equal(lf_native_session_token(s, "\xc3\xa4", 2, b, NULL), LF_OK);
    assert_memory_not_equal(a, b, 16);
    /* Another session key gives other tokens. */
    lf_native_session *t = NULL;
    assert_int_equal(lf_native_session_new(NULL, kid, "x", "y", &t, NULL), LF_OK);
    assert_int_equal(lf_native_session_token(t, "payment", 7, a, NULL), LF_OK);
    assert_memory_not_equal(a, b, 16);
    char big[5000];
    memset(big, 'a', sizeof big);
    assert_int_equal(lf_native_session_token(s, big, sizeof big, a, NULL), LF_ERR_TOO_LARGE);
    lf_native_session_free(t);
    lf_native_session_free(s);
}

/* ---------------- key frames ---------------- */

static void test_key_frame(void **state)
{
    (void)state;
    lf_privkey *priv = NULL, *other = NULL;
    lf_pubkey *pub = NULL, *other_pub = NULL;
    assert_int_equal(lf_privkey_generate(2048, &priv, NULL), LF_OK);
    assert_int_equal(lf_privkey_generate(2048, &other, NULL), LF_OK);
    assert_int_equal(lf_privkey_public(priv, &pub, NULL), LF_OK);
    assert_int_equal(lf_privkey_public(other, &other_pub, NULL), LF_OK);

    lf_native_session *s = new_session();
    lf_buf body = LF_BUF_INIT, again = LF_BUF_INIT;
    assert_int_equal(lf_native_session_key_frame(s, pub, T0, &body, NULL), LF_OK);
    lf_native_entry e = E(2, T0 + 1);
    assert_int_equal(lf_native_seal_entry(s, 1, &e, NULL, 0, true, &body, NULL), LF_OK);
    /* A resend is byte-identical; another customer key is refused. */
    assert_int_equal(lf_native_session_key_frame(s, pub, T0 + 99, &again, NULL), LF_OK);
    assert_memory_equal(again.data, body.data, again.len);
    assert_int_equal(lf_native_session_key_frame(s, other_pub, T0, &again, NULL), LF_ERR_INVALID);

    lf_native_reader r;
    lf_native_frame kf, ef;
    lf_native_reader_init(&r, body.data, body.len);
    assert_int_equal(lf_native_reader_next(&r, &kf, NULL), LF_OK);
    assert_int_equal(lf_native_reader_next(&r, &ef, NULL), LF_OK);
    assert_int_equal(kf.hdr.kind, LF_NATIVE_KEY);
    assert_int_equal(kf.hdr.ts_min, T0);
    assert_int_equal(kf.hdr.body_len, 32 + 256);
    /* The fingerprint in the frame is the key's SPKI fingerprint. */
    char fp_text[LF_FINGERPRINT_STR_LEN];
    assert_int_equal(lf_pubkey_fingerprint(pub, fp_text, NULL), LF_OK);
    char fp_hex[65];
    lf_hex_encode(kf.body, 32, fp_hex);
    assert_string_equal(fp_text + 7, fp_hex);

    uint8_t sk[32];
    assert_int_equal(lf_native_key_frame_unwrap(&kf, priv, sk, NULL), LF_OK);
    assert_memory_equal(sk, key32, 32);
    lf_native_opener *o = NULL;
    assert_int_equal(lf_native_opener_new(sk, kf.hdr.key_id, &o, NULL), LF_OK);
    lf_native_opened out = {0};
    assert_int_equal(lf_native_open(o, &ef, &out, NULL), LF_OK);
    assert_memory_equal(out.entries[0].data, J[2], strlen(J[2]));

    assert_int_equal(lf_native_key_frame_unwrap(&kf, other, sk, NULL), LF_ERR_NOT_FOUND);
    assert_int_equal(lf_native_key_frame_unwrap(&ef, priv, sk, NULL), LF_ERR_INVALID);
    body.data[kf.header_len + 40] ^= 1; /* corrupt the wrapped key */
    assert_int_equal(lf_native_key_frame_unwrap(&kf, priv, sk, NULL), LF_ERR_AUTH);

    lf_native_opened_free(&out);
    lf_native_opener_free(o);
    lf_buf_free(&body);
    lf_buf_free(&again);
    lf_native_session_free(s);
    lf_pubkey_free(pub);
    lf_pubkey_free(other_pub);
    lf_privkey_free(priv);
    lf_privkey_free(other);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vectors),
        cmocka_unit_test(test_roundtrip_all_kinds),
        cmocka_unit_test(test_random_key_and_id),
        cmocka_unit_test(test_tamper_each_field),
        cmocka_unit_test(test_truncation_and_trailing),
        cmocka_unit_test(test_parser_limits),
        cmocka_unit_test(test_frame_count_limit),
        cmocka_unit_test(test_zstd_bombs_and_structure),
        cmocka_unit_test(test_frame_cap),
        cmocka_unit_test(test_seal_errors),
        cmocka_unit_test(test_tokens),
        cmocka_unit_test(test_key_frame),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * test_v3.c — v3 entries: every vector of v3-entries.json (gzip bytes inflate to the
 * plaintext, AES-GCM over them gives the sealed bytes, the sealer reproduces them with the
 * fixed nonce, opening gives the plaintext back, header values match), and rejection of wrong
 * keys, tampering, truncation, and zip bombs inside a valid ciphertext.
 */
#include "testutil.h"

#include <string.h>

#include "logflux/compress.h"
#include "logflux/v3.h"

static void hexbuf(json_t *o, const char *key, lf_buf *out)
{
    *out = lf_test_hex(o, key);
}

static void test_vectors(void **state)
{
    (void)state;
    json_t *root = lf_test_load_vectors("v3-entries.json");
    lf_buf key;
    hexbuf(root, "key", &key);
    assert_int_equal(key.len, 32);
    const char *key_id = lf_test_str(root, "key_id");
    size_t i;
    json_t *e;
    json_array_foreach(json_object_get(root, "entries"), i, e)
    {
        const char *name = lf_test_str(e, "name");
        const char *plain = lf_test_str(e, "plaintext");
        int type = (int)json_integer_value(json_object_get(e, "entry_type"));
        int ptype = (int)json_integer_value(json_object_get(e, "payload_type"));
        bool compressed = json_is_true(json_object_get(e, "compressed"));
        lf_buf z, sealed, out = LF_BUF_INIT, body = LF_BUF_INIT, nonce;
        hexbuf(e, "gzip", &z);
        hexbuf(e, "sealed", &sealed);
        hexbuf(e, "nonce", &nonce);
        /* the stored gzip bytes inflate to the plaintext */
        const lf_buf *pt = compressed ? &z : NULL;
        if (compressed) {
            assert_int_equal(lf_gunzip(z.data, z.len, LF_PAYLOAD_MAX_JSON, &out, NULL), LF_OK);
            assert_int_equal(out.len, strlen(plain));
            assert_memory_equal(out.data, plain, out.len);
            lf_buf_reset(&out);
        }
        lf_v3_sealer *s = NULL;
        assert_int_equal(lf_v3_sealer_new(key.data, key_id,
                                          compressed ? LF_GZIP_LEVEL_DEFAULT : LF_V3_NO_GZIP, &s,
                                          NULL),
                         LF_OK);
        lf_payload *p = NULL;
        assert_int_equal(lf_payload_decode(plain, strlen(plain), type, 0, &p, NULL), LF_OK);
        lf_v3_headers h;
        if (ptype == 1) {
            assert_int_equal(nonce.len, 12);
            /* AES-GCM over the stored bytes is the sealed body */
            assert_int_equal(lf_aead_seal(key.data, nonce.data, NULL, 0,
                                          pt ? pt->data : (const uint8_t *)plain,
                                          pt ? pt->len : strlen(plain), &out, NULL),
                             LF_OK);
            assert_int_equal(out.len, sealed.len);
            assert_memory_equal(out.data, sealed.data, out.len);
            lf_buf_reset(&out);
            /* the sealer reproduces it (same zlib), headers included */
            assert_int_equal(lf_v3_seal_json(s, type, p->ts_ns, plain, strlen(plain), nonce.data,
                                             &body, &h, NULL),
                             LF_OK);
            assert_int_equal(body.len, sealed.len);
            assert_memory_equal(body.data, sealed.data, body.len);
            assert_string_equal(h.key_id, lf_test_str(e, "key_id"));
            assert_string_equal(h.nonce_b64, lf_test_str(e, "nonce_b64"));
            assert_memory_equal(h.nonce, nonce.data, 12);
            /* open */
            lf_error err = {0};
            if (lf_v3_open_json(key.data, nonce.data, sealed.data, sealed.len, &out, &err) != LF_OK)
                fail_msg("%s: %s", name, err.message);
            assert_int_equal(out.len, strlen(plain));
            assert_memory_equal(out.data, plain, out.len);
        } else {
            assert_int_equal(type, 7);
            assert_int_equal(sealed.len, z.len); /* payload type 3: the body is the gzip */
            assert_memory_equal(sealed.data, z.data, z.len);
            assert_int_equal(
                lf_v3_seal_json(s, type, p->ts_ns, plain, strlen(plain), NULL, &body, &h, NULL),
                LF_OK);
            assert_int_equal(body.len, sealed.len);
            assert_memory_equal(body.data, sealed.data, body.len);
            assert_string_equal(h.key_id, "");
            assert_string_equal(h.nonce_b64, "");
            assert_int_equal(lf_v3_plain_open(sealed.data, sealed.len, &out, NULL), LF_OK);
            assert_int_equal(out.len, strlen(plain));
        }
        assert_int_equal(h.entry_type, type);
        assert_int_equal(h.payload_type, ptype);
        assert_string_equal(h.timestamp, lf_test_str(e, "timestamp"));
        /* open and decode as a received part */
        lf_payload *q = NULL;
        assert_int_equal(lf_v3_open_payload(key.data, &h, sealed.data, sealed.len, 0, &q, NULL),
                         LF_OK);
        assert_int_equal(q->type, type);
        assert_true(q->ts_ns == p->ts_ns);
        lf_payload_free(q);
        lf_payload_free(p);
        lf_v3_sealer_free(s);
        lf_buf_free(&z);
        lf_buf_free(&sealed);
        lf_buf_free(&nonce);
        lf_buf_free(&body);
        lf_buf_free_secret(&out);
    }
    lf_buf_free_secret(&key);
    json_decref(root);
}

static lf_payload sample_log(void)
{
    lf_payload p;
    memset(&p, 0, sizeof p);
    p.type = LF_ENTRY_LOG;
    p.level = LF_LEVEL_WARNING;
    p.ts_ns = lf_time_now_ns();
    p.source = "test";
    p.log.message = "disk almost full";
    return p;
}

static void test_seal_open_random_nonce(void **state)
{
    (void)state;
    uint8_t key[32], other[32];
    memset(key, 7, sizeof key);
    memset(other, 8, sizeof other);
    for (int compress = 0; compress <= 1; compress++) {
        lf_v3_sealer *s = NULL;
        assert_int_equal(lf_v3_sealer_new(key, "key-1", compress ? 1 : LF_V3_NO_GZIP, &s, NULL),
                         LF_OK);
        lf_payload p = sample_log();
        lf_buf a = LF_BUF_INIT, b = LF_BUF_INIT, json = LF_BUF_INIT;
        lf_v3_headers ha, hb;
        assert_int_equal(lf_v3_seal_payload(s, &p, NULL, &a, &ha, NULL), LF_OK);
        assert_int_equal(lf_v3_seal_payload(s, &p, NULL, &b, &hb, NULL), LF_OK);
        assert_memory_not_equal(ha.nonce, hb.nonce, 12); /* fresh nonce each time */
        assert_string_equal(ha.key_id, "key-1");
        assert_int_equal(strlen(ha.nonce_b64), 16);
        assert_int_equal(lf_v3_open_json(key, ha.nonce, a.data, a.len, &json, NULL), LF_OK);
        assert_true(json.len > 0 && json.data[0] == '{'); /* inflated (or never compressed) */
        lf_payload *q = NULL;
        assert_int_equal(lf_v3_open_payload(key, &ha, a.data, a.len, lf_time_now_ns(), &q, NULL),
                         LF_OK);
        assert_string_equal(q->log.message, "disk almost full");
        lf_payload_free(q);
        /* wrong key, wrong nonce, tampered ciphertext and tag: LF_ERR_AUTH, nothing output */
        lf_buf_reset(&json);
        assert_int_equal(lf_v3_open_json(other, ha.nonce, a.data, a.len, &json, NULL), LF_ERR_AUTH);
        assert_int_equal(lf_v3_open_json(key, hb.nonce, a.data, a.len, &json, NULL), LF_ERR_AUTH);
        a.data[0] ^= 1;
        assert_int_equal(lf_v3_open_json(key, ha.nonce, a.data, a.len, &json, NULL), LF_ERR_AUTH);
        a.data[0] ^= 1;
        a.data[a.len - 1] ^= 0x80;
        assert_int_equal(lf_v3_open_json(key, ha.nonce, a.data, a.len, &json, NULL), LF_ERR_AUTH);
        assert_int_equal(json.len, 0);
        /* truncated below the tag */
        assert_int_equal(lf_v3_open_json(key, ha.nonce, a.data, 15, &json, NULL), LF_ERR_TRUNCATED);
        /* payload type 1 needs a key; unknown payload types are refused */
        assert_int_equal(lf_v3_open_payload(NULL, &ha, a.data, a.len, 0, &q, NULL), LF_ERR_INVALID);
        ha.payload_type = 2;
        assert_int_equal(lf_v3_open_payload(key, &ha, a.data, a.len, 0, &q, NULL),
                         LF_ERR_UNSUPPORTED);
        lf_v3_sealer_free(s);
        lf_buf_free(&a);
        lf_buf_free(&b);
        lf_buf_free_secret(&json);
    }
}

static void test_header_type_mismatch_and_window(void **state)
{
    (void)state;
    uint8_t key[32] = {1};
    lf_v3_sealer *s = NULL;
    assert_int_equal(lf_v3_sealer_new(key, "k", LF_GZIP_LEVEL_DEFAULT, &s, NULL), LF_OK);
    lf_payload p = sample_log();
    lf_buf body = LF_BUF_INIT;
    lf_v3_headers h;
    assert_int_equal(lf_v3_seal_payload(s, &p, NULL, &body, &h, NULL), LF_OK);
    lf_payload *q = NULL;
    h.entry_type = 2; /* the header claims metric; the payload says log */
    assert_int_equal(lf_v3_open_payload(key, &h, body.data, body.len, 0, &q, NULL), LF_ERR_INVALID);
    h.entry_type = 1;
    int64_t two_years = 2LL * 366 * 86400 * 1000000000LL;
    assert_int_equal(
        lf_v3_open_payload(key, &h, body.data, body.len, p.ts_ns + two_years, &q, NULL),
        LF_ERR_EXPIRED);
    /* invalid payloads are refused before sealing */
    p.level = 12;
    lf_buf_reset(&body);
    assert_int_equal(lf_v3_seal_payload(s, &p, NULL, &body, &h, NULL), LF_ERR_INVALID);
    assert_int_equal(body.len, 0);
    assert_int_equal(lf_v3_seal_json(s, 0, 0, "{}", 2, NULL, &body, &h, NULL), LF_ERR_INVALID);
    assert_int_equal(lf_v3_seal_json(s, 8, 0, "{}", 2, NULL, &body, &h, NULL), LF_ERR_INVALID);
    lf_v3_sealer_free(s);
    lf_v3_sealer_free(NULL);
    lf_buf_free(&body);
    /* key ids */
    assert_int_equal(lf_v3_sealer_new(key, "", 1, &s, NULL), LF_ERR_INVALID);
    assert_int_equal(lf_v3_sealer_new(key, NULL, 1, &s, NULL), LF_ERR_INVALID);
    assert_int_equal(lf_v3_sealer_new(key, "has space", 1, &s, NULL), LF_ERR_INVALID);
    char long_id[130];
    memset(long_id, 'a', 129);
    long_id[129] = '\0';
    assert_int_equal(lf_v3_sealer_new(key, long_id, 1, &s, NULL), LF_ERR_INVALID);
    long_id[128] = '\0';
    assert_int_equal(lf_v3_sealer_new(key, long_id, 1, &s, NULL), LF_OK);
    lf_v3_sealer_free(s);
    assert_int_equal(lf_v3_sealer_new(key, "k", 11, &s, NULL), LF_ERR_INVALID);
}

static void test_bomb_inside_ciphertext(void **state)
{
    (void)state;
    /* A correctly sealed entry whose gzip inflates past the payload bound. */
    uint8_t key[32] = {9}, nonce[12] = {3};
    size_t n = LF_PAYLOAD_MAX_JSON + 1;
    lf_buf big = LF_BUF_INIT, z = LF_BUF_INIT, sealed = LF_BUF_INIT, out = LF_BUF_INIT;
    lf_buf_reserve(&big, n);
    memset(big.data, ' ', n);
    big.len = n;
    assert_int_equal(lf_gzip_compress(big.data, n, 9, &z, NULL), LF_OK);
    assert_int_equal(lf_aead_seal(key, nonce, NULL, 0, z.data, z.len, &sealed, NULL), LF_OK);
    assert_int_equal(lf_v3_open_json(key, nonce, sealed.data, sealed.len, &out, NULL),
                     LF_ERR_TOO_LARGE);
    assert_int_equal(out.len, 0);
    /* the same for payload type 3 */
    assert_int_equal(lf_v3_plain_open(z.data, z.len, &out, NULL), LF_ERR_TOO_LARGE);
    /* gzip magic but garbage after it */
    lf_buf_reset(&sealed);
    assert_int_equal(lf_aead_seal(key, nonce, NULL, 0, "\x1f\x8bxyz", 5, &sealed, NULL), LF_OK);
    assert_int_equal(lf_v3_open_json(key, nonce, sealed.data, sealed.len, &out, NULL),
                     LF_ERR_INVALID);
    /* a plain (uncompressed) type-3 body is taken as JSON */
    assert_int_equal(lf_v3_plain_open("{}", 2, &out, NULL), LF_OK);
    assert_int_equal(out.len, 2);
    lf_buf_free(&big);
    lf_buf_free(&z);
    lf_buf_free(&sealed);
    lf_buf_free(&out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vectors),
        cmocka_unit_test(test_seal_open_random_nonce),
        cmocka_unit_test(test_header_type_mismatch_and_window),
        cmocka_unit_test(test_bomb_inside_ciphertext),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

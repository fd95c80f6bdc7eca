/*
 * test_multipart.c — v3 request bodies: every case of multipart.json parsed with chunk sizes
 * 1, 7, 4096 and whole (identical results), builder output equal to the vector bodies, both
 * framings with the CRLF-by-chance case, every limit, Content-Type parsing, truncation at
 * every length, per-part errors, and garbage.
 */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "logflux/multipart.h"

static const char *err_name(lf_err e)
{
    static const char *const names[] = {
        "ok",     "invalid", "too_large",   "nomem",     "crypto",     "auth", "expired",
        "replay", "scope",   "unsupported", "truncated", "passphrase", "io",   "not_found"};
    return (unsigned)e < sizeof names / sizeof *names ? names[e] : "unknown";
}

/* Parses body in chunks of `chunk` bytes (0 = all at once). */
static lf_err parse(const char *ct, const char *ua, const lf_mp_limits *lim, const uint8_t *body,
                    size_t len, size_t chunk, lf_mp_parser **out, lf_error *err)
{
    lf_err rc = lf_mp_parser_new(ct, ua, lim, out, err);
    if (rc != LF_OK)
        return rc;
    if (chunk == 0)
        chunk = len ? len : 1;
    for (size_t off = 0; off < len; off += chunk) {
        size_t n = len - off < chunk ? len - off : chunk;
        if ((rc = lf_mp_parser_feed(*out, body + off, n, err)) != LF_OK)
            return rc;
    }
    return lf_mp_parser_finish(*out, err);
}

static void check_case(json_t *c, size_t chunk)
{
    const char *name = lf_test_str(c, "name");
    lf_buf body = lf_test_hex(c, "body");
    lf_mp_parser *p = NULL;
    lf_error err = {0};
    lf_err rc = parse(lf_test_str(c, "content_type"), lf_test_str(c, "user_agent"), NULL, body.data,
                      body.len, chunk, &p, &err);
    json_t *want_err = json_object_get(c, "error");
    if (json_is_string(want_err)) {
        if (strcmp(err_name(rc), json_string_value(want_err)) != 0)
            fail_msg("%s (chunk %zu): got %s (%s), want %s", name, chunk, err_name(rc), err.message,
                     json_string_value(want_err));
        assert_int_equal(lf_mp_parser_count(p), 0);
        lf_mp_parser_free(p);
        lf_buf_free(&body);
        return;
    }
    if (rc != LF_OK)
        fail_msg("%s (chunk %zu): %s", name, chunk, err.message);
    assert_string_equal(lf_mp_parser_form(p) == LF_MP_STANDARD ? "standard" : "typescript",
                        lf_test_str(c, "form"));
    json_t *parts = json_object_get(c, "parts");
    assert_int_equal(lf_mp_parser_count(p), json_array_size(parts));
    size_t i;
    json_t *w;
    json_array_foreach(parts, i, w)
    {
        const lf_mp_part *pt = lf_mp_parser_part(p, i);
        assert_non_null(pt);
        assert_int_equal(pt->index, i);
        if (strcmp(err_name(pt->error.code), lf_test_str(w, "error")) != 0)
            fail_msg("%s part %zu: got %s (%s)", name, i, err_name(pt->error.code),
                     pt->error.message);
        if (pt->error.code != LF_OK) {
            assert_non_null(strstr(pt->error.message, "part "));
            assert_null(pt->body);
            continue;
        }
        const lf_v3_headers *h = &pt->headers;
        assert_int_equal(h->entry_type, json_integer_value(json_object_get(w, "entry_type")));
        assert_int_equal(h->payload_type, json_integer_value(json_object_get(w, "payload_type")));
        assert_string_equal(h->timestamp, lf_test_str(w, "timestamp"));
        assert_string_equal(h->key_id, lf_test_str(w, "key_id"));
        assert_string_equal(h->nonce_b64, lf_test_str(w, "nonce"));
        json_t *tok = json_object_get(w, "search_tokens");
        assert_int_equal(pt->n_search_tokens, json_array_size(tok));
        for (size_t t = 0; t < pt->n_search_tokens; t++)
            assert_string_equal(pt->search_tokens[t], json_string_value(json_array_get(tok, t)));
        lf_buf want = lf_test_hex(w, "body");
        assert_int_equal(pt->body_len, want.len);
        assert_memory_equal(pt->body, want.data, want.len);
        lf_buf_free(&want);
    }
    assert_null(lf_mp_parser_part(p, json_array_size(parts)));
    lf_mp_parser_free(p);
    lf_buf_free(&body);
}

static void test_vectors_all_chunkings(void **state)
{
    (void)state;
    json_t *root = lf_test_load_vectors("multipart.json");
    const size_t chunks[] = {0, 1, 2, 7, 13, 4096};
    size_t i;
    json_t *c;
    json_array_foreach(json_object_get(root, "cases"), i, c)
    {
        for (size_t k = 0; k < sizeof chunks / sizeof *chunks; k++)
            check_case(c, chunks[k]);
    }
    json_decref(root);
}

/* The builder reproduces every "build" body from its parts, byte for byte. */
static void test_builder_matches_vectors(void **state)
{
    (void)state;
    json_t *root = lf_test_load_vectors("multipart.json");
    size_t i, built = 0;
    json_t *c;
    json_array_foreach(json_object_get(root, "cases"), i, c)
    {
        json_t *b = json_object_get(c, "build");
        if (!json_is_object(b))
            continue;
        lf_mp_builder mb;
        lf_mp_form form =
            strcmp(lf_test_str(b, "form"), "standard") == 0 ? LF_MP_STANDARD : LF_MP_TYPESCRIPT;
        assert_int_equal(lf_mp_builder_init(&mb, form, lf_test_str(b, "boundary"), NULL, NULL),
                         LF_OK);
        assert_string_equal(mb.content_type, lf_test_str(c, "content_type"));
        size_t j;
        json_t *w;
        json_array_foreach(json_object_get(c, "parts"), j, w)
        {
            lf_v3_headers h;
            memset(&h, 0, sizeof h);
            h.entry_type = (int)json_integer_value(json_object_get(w, "entry_type"));
            h.payload_type = (int)json_integer_value(json_object_get(w, "payload_type"));
            snprintf(h.timestamp, sizeof h.timestamp, "%s", lf_test_str(w, "timestamp"));
            snprintf(h.key_id, sizeof h.key_id, "%s", lf_test_str(w, "key_id"));
            snprintf(h.nonce_b64, sizeof h.nonce_b64, "%s", lf_test_str(w, "nonce"));
            json_t *tok = json_object_get(w, "search_tokens");
            const char *tokens[8];
            for (size_t t = 0; t < json_array_size(tok) && t < 8; t++)
                tokens[t] = json_string_value(json_array_get(tok, t));
            lf_buf body = lf_test_hex(w, "body");
            assert_int_equal(
                lf_mp_builder_add(&mb, &h, tokens, json_array_size(tok), body.data, body.len, NULL),
                LF_OK);
            lf_buf_free(&body);
        }
        assert_int_equal(lf_mp_builder_finish(&mb, NULL), LF_OK);
        lf_buf want = lf_test_hex(c, "body");
        assert_int_equal(mb.body.len, want.len);
        assert_memory_equal(mb.body.data, want.data, want.len);
        lf_buf_free(&want);
        lf_mp_builder_free(&mb);
        built++;
    }
    assert_true(built >= 5);
    json_decref(root);
}

static lf_v3_headers hdr(int entry, int payload)
{
    lf_v3_headers h;
    memset(&h, 0, sizeof h);
    h.entry_type = entry;
    h.payload_type = payload;
    h.ts_ns = 1795834800123456789LL;
    snprintf(h.key_id, sizeof h.key_id, "key-1");
    for (int i = 0; i < 12; i++)
        h.nonce[i] = (uint8_t)i;
    return h;
}

/* Builds a body of n parts whose bodies are given. */
static void build(lf_mp_builder *b, lf_mp_form form, const char *const *bodies, size_t n)
{
    assert_int_equal(lf_mp_builder_init(b, form, "bnd", NULL, NULL), LF_OK);
    for (size_t i = 0; i < n; i++) {
        lf_v3_headers h = hdr(1, 1);
        assert_int_equal(lf_mp_builder_add(b, &h, NULL, 0, bodies[i], strlen(bodies[i]), NULL),
                         LF_OK);
    }
    assert_int_equal(lf_mp_builder_finish(b, NULL), LF_OK);
}

static void test_crlf_by_chance(void **state)
{
    (void)state;
    const char *bodies[] = {"ciphertext-and-tag-ending-in\r\n", "0123456789abcdef-second",
                            "0123456789abcdef-third\r\n"};
    const char *uas[] = {"logflux-go-sdk/3.0.1", "logflux-js-sdk/3.0.1", NULL};
    for (int form = 0; form <= 1; form++) {
        for (size_t u = 0; u < 3; u++) {
            for (size_t n = 1; n <= 3; n++) {
                lf_mp_builder b;
                build(&b, (lf_mp_form)form, bodies, n);
                lf_mp_parser *p = NULL;
                lf_error err = {0};
                const char *ua = uas[u];
                /* a standard-form body sent with the js User-Agent would be misread: the
                 * User-Agent rule assumes the TS SDK sends TS form, so skip that combination */
                if (form == LF_MP_STANDARD && u == 1)
                    goto next;
                /* TS form from an unknown agent whose only inner delimiter follows a CRLF by
                 * chance is indistinguishable from standard form: §2.2 relies on the js
                 * User-Agent for exactly this case */
                if (form == LF_MP_TYPESCRIPT && u != 1 && n == 2)
                    goto next;
                if (parse(b.content_type, ua, NULL, b.body.data, b.body.len, 3, &p, &err) != LF_OK)
                    fail_msg("form %d ua %zu n %zu: %s", form, u, n, err.message);
                assert_int_equal(lf_mp_parser_count(p), n);
                for (size_t i = 0; i < n; i++) {
                    const lf_mp_part *pt = lf_mp_parser_part(p, i);
                    assert_int_equal(pt->error.code, LF_OK);
                    assert_int_equal(pt->body_len, strlen(bodies[i])); /* CRLF kept */
                    assert_memory_equal(pt->body, bodies[i], pt->body_len);
                }
                if (n > 1 || u == 1)
                    assert_int_equal(lf_mp_parser_form(p), u == 1 || form == LF_MP_TYPESCRIPT
                                                               ? LF_MP_TYPESCRIPT
                                                               : LF_MP_STANDARD);
            next:
                lf_mp_parser_free(p);
                lf_mp_builder_free(&b);
            }
        }
    }
}

static void test_chunkings_identical(void **state)
{
    (void)state;
    /* near-misses of the delimiter inside bodies, and a body ending in '-' right before a
     * glued TS delimiter */
    const char *bodies[] = {"aaaaaaaaaaaaaaaaaaaaaaaa--bn", "bbbbbbbbbbbbbbbb--bndx--bnd-x\r\n-",
                            "cccccccccccccccc\r\n\r\n"};
    for (int form = 0; form <= 1; form++) {
        lf_mp_builder b;
        build(&b, (lf_mp_form)form, bodies, 3);
        for (size_t chunk = 1; chunk <= b.body.len; chunk++) {
            lf_mp_parser *p = NULL;
            lf_error err = {0};
            if (parse(b.content_type, "x", NULL, b.body.data, b.body.len, chunk, &p, &err) != LF_OK)
                fail_msg("form %d chunk %zu: %s", form, chunk, err.message);
            assert_int_equal(lf_mp_parser_count(p), 3);
            for (size_t i = 0; i < 3; i++) {
                const lf_mp_part *pt = lf_mp_parser_part(p, i);
                assert_int_equal(pt->error.code, LF_OK);
                assert_int_equal(pt->body_len, strlen(bodies[i]));
                assert_memory_equal(pt->body, bodies[i], pt->body_len);
            }
            lf_mp_parser_free(p);
        }
        lf_mp_builder_free(&b);
    }
}

static void test_truncated_everywhere(void **state)
{
    (void)state;
    const char *bodies[] = {"0123456789abcdef0123", "fedcba9876543210fedcba"};
    for (int form = 0; form <= 1; form++) {
        lf_mp_builder b;
        build(&b, (lf_mp_form)form, bodies, 2);
        /* "\r\n--bnd--" complete needs all but the final CRLF */
        for (size_t n = 0; n + 2 < b.body.len; n++) {
            lf_mp_parser *p = NULL;
            lf_error err = {0};
            lf_err rc = parse(b.content_type, NULL, NULL, b.body.data, n, 5, &p, &err);
            if (rc != LF_ERR_TRUNCATED)
                fail_msg("form %d prefix %zu: %d %s", form, n, rc, err.message);
            lf_mp_parser_free(p);
        }
        lf_mp_parser *p = NULL;
        assert_int_equal(
            parse(b.content_type, NULL, NULL, b.body.data, b.body.len - 2, 5, &p, NULL), LF_OK);
        lf_mp_parser_free(p);
        lf_mp_builder_free(&b);
    }
}

static void test_content_type(void **state)
{
    (void)state;
    struct {
        const char *ct;
        lf_err want;
    } cases[] = {
        {"multipart/mixed; boundary=abc", LF_OK},
        {"MULTIPART/MIXED;BOUNDARY=abc", LF_OK},
        {"multipart/mixed; charset=utf-8; boundary=\"a b:c\"", LF_OK},
        {"multipart/mixed; boundary=\"a\\\"b\"", LF_ERR_INVALID}, /* '"' is not a bchar */
        {"multipart/mixed; boundary=abc;", LF_OK},
        {"multipart/mixed", LF_ERR_INVALID},
        {"multipart/mixed; boundary=", LF_ERR_INVALID},
        {"multipart/mixed; boundary=\"\"", LF_ERR_INVALID},
        {"multipart/mixed; boundary=\"abc", LF_ERR_INVALID},
        {"multipart/mixed; boundary=\"abc \"", LF_ERR_INVALID},
        {"multipart/mixed; boundary=a; boundary=b", LF_ERR_INVALID},
        {"multipart/mixed; boundary=a{b", LF_ERR_INVALID},
        {"multipart/mixed boundary=a", LF_ERR_INVALID},
        {"multipart/form-data; boundary=abc", LF_ERR_UNSUPPORTED},
        {"application/json", LF_ERR_UNSUPPORTED},
        {"", LF_ERR_UNSUPPORTED},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        lf_mp_parser *p = NULL;
        lf_error err = {0};
        lf_err rc = lf_mp_parser_new(cases[i].ct, NULL, NULL, &p, &err);
        if (rc != cases[i].want)
            fail_msg("'%s': got %d (%s)", cases[i].ct, rc, err.message);
        lf_mp_parser_free(p);
    }
    lf_mp_parser *p = NULL;
    assert_int_equal(lf_mp_parser_new(NULL, NULL, NULL, &p, NULL), LF_ERR_INVALID);
    /* 200 characters accepted, 201 refused */
    char ct[300];
    for (int n = 200; n <= 201; n++) {
        int off = snprintf(ct, sizeof ct, "multipart/mixed; boundary=");
        memset(ct + off, 'b', (size_t)n);
        ct[off + n] = '\0';
        assert_int_equal(lf_mp_parser_new(ct, NULL, NULL, &p, NULL),
                         n == 200 ? LF_OK : LF_ERR_INVALID);
        lf_mp_parser_free(p);
        p = NULL;
    }
}

static lf_err parse_text(const char *body, const lf_mp_limits *lim, lf_mp_parser **p)
{
    lf_error err = {0};
    return parse("multipart/mixed; boundary=bnd", NULL, lim, (const uint8_t *)body, strlen(body), 1,
                 p, &err);
}

#define PART_HDRS                                                                                  \
    "X-LF-Entry-Type: 1\r\nX-LF-Payload-Type: 1\r\nX-LF-Timestamp: 2026-11-28T03:00:00Z\r\n"       \
    "X-LF-Key-ID: k\r\nX-LF-Nonce: AAECAwQFBgcICQoL\r\n"
#define BODY16 "0123456789abcdef"

static void test_part_errors(void **state)
{
    (void)state;
    struct {
        const char *part;
        lf_err want;
    } cases[] = {
        {PART_HDRS "\r\n" BODY16, LF_OK},
        {PART_HDRS "X-LF-Search-Tokens:  a , ,b,c \r\n\r\n" BODY16, LF_OK},
        {PART_HDRS "content-type: application/octet-stream; x=y\r\n\r\n" BODY16, LF_OK},
        {PART_HDRS "Content-Type: text/plain\r\n\r\n" BODY16, LF_ERR_INVALID},
        {PART_HDRS "X-LF-Entry-Type: 1\r\n\r\n" BODY16, LF_ERR_INVALID}, /* duplicate */
        {PART_HDRS " folded\r\n\r\n" BODY16, LF_ERR_INVALID},
        {PART_HDRS "no colon\r\n\r\n" BODY16, LF_ERR_INVALID},
        {PART_HDRS "X-Ctl: a\x01b\r\n\r\n" BODY16, LF_ERR_INVALID},
        {"X-LF-Entry-Type: 0\r\nX-LF-Payload-Type: 1\r\n\r\n" BODY16, LF_ERR_INVALID},
        {"X-LF-Entry-Type: 10\r\nX-LF-Payload-Type: 1\r\n\r\n" BODY16, LF_ERR_INVALID},
        {"X-LF-Entry-Type: 1\r\nX-LF-Payload-Type: 2\r\n\r\n" BODY16, LF_ERR_INVALID},
        {"X-LF-Entry-Type: 1\r\nX-LF-Payload-Type: 3\r\nX-LF-Timestamp: 2026-11-28T03:00:00Z\r\n"
         "\r\n" BODY16,
         LF_ERR_INVALID}, /* payload type 3 only for entry type 7 */
        {"X-LF-Entry-Type: 7\r\nX-LF-Payload-Type: 3\r\nX-LF-Timestamp: 2026-11-28T03:00:00Z\r\n"
         "\r\nx",
         LF_OK}, /* no key id, no nonce, short body: fine for type 3 */
        {"X-LF-Payload-Type: 1\r\n\r\n" BODY16, LF_ERR_INVALID},
        {"X-LF-Entry-Type: 1\r\nX-LF-Payload-Type: 1\r\nX-LF-Key-ID: k\r\n"
         "X-LF-Nonce: AAECAwQFBgcICQoL\r\n\r\n" BODY16,
         LF_ERR_INVALID}, /* no timestamp */
        {"X-LF-Entry-Type: 1\r\nX-LF-Payload-Type: 1\r\nX-LF-Timestamp: 2026-11-28T03:00:00Z\r\n"
         "X-LF-Key-ID: k\r\nX-LF-Nonce: AAECAwQFBgcICQo=\r\n\r\n" BODY16,
         LF_ERR_INVALID}, /* nonce of 11 bytes */
        {"X-LF-Entry-Type: 1\r\nX-LF-Payload-Type: 1\r\nX-LF-Timestamp: 2026-11-28T03:00:00Z\r\n"
         "X-LF-Key-ID: k\r\nX-LF-Nonce: AAECAwQFBgcICQo-\r\n\r\n" BODY16,
         LF_ERR_INVALID}, /* URL alphabet */
        {"X-LF-Entry-Type: 1\r\nX-LF-Payload-Type: 1\r\nX-LF-Timestamp: 2026-11-28T03:00:00Z\r\n"
         "X-LF-Key-ID: a b\r\nX-LF-Nonce: AAECAwQFBgcICQoL\r\n\r\n" BODY16,
         LF_ERR_INVALID},
        {"X-LF-Entry-Type: 1\r\nX-LF-Payload-Type: 1\r\nX-LF-Timestamp: 2026-11-28T03:00:00Z\r\n"
         "X-LF-Nonce: AAECAwQFBgcICQoL\r\n\r\n" BODY16,
         LF_ERR_INVALID},                                    /* no key id */
        {PART_HDRS "\r\n0123456789abcde", LF_ERR_TRUNCATED}, /* shorter than a tag */
        {PART_HDRS "\r\n", LF_ERR_INVALID},                  /* empty body */
        {PART_HDRS "--bnd\r\n", LF_ERR_INVALID},             /* no blank line */
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        /* the bad part sits between two good ones, which must survive */
        lf_buf body = LF_BUF_INIT;
        lf_buf_printf(&body,
                      "--bnd\r\n" PART_HDRS "\r\n" BODY16 "\r\n--bnd\r\n%s\r\n--bnd\r\n" PART_HDRS
                      "\r\n" BODY16 "\r\n--bnd--\r\n",
                      cases[i].part);
        lf_buf_terminate(&body);
        lf_mp_parser *p = NULL;
        lf_err rc = parse_text((char *)body.data, NULL, &p);
        if (rc != LF_OK)
            fail_msg("case %zu: request failed %d", i, rc);
        size_t mid = lf_mp_parser_count(p) == 4 ? 2 : 1; /* the no-blank-line case adds a part */
        const lf_mp_part *pt = lf_mp_parser_part(p, 1);
        if (pt->error.code != cases[i].want)
            fail_msg("case %zu: part error %d (%s), want %d", i, pt->error.code, pt->error.message,
                     cases[i].want);
        if (cases[i].want != LF_OK)
            assert_non_null(strstr(pt->error.message, "part 1"));
        assert_int_equal(lf_mp_parser_part(p, 0)->error.code, LF_OK);
        assert_int_equal(lf_mp_parser_part(p, mid + 1)->error.code, LF_OK);
        assert_int_equal(lf_mp_parser_part(p, mid + 1)->body_len, 16);
        if (i == 1) {
            assert_int_equal(pt->n_search_tokens, 3);
            assert_string_equal(pt->search_tokens[0], "a");
            assert_string_equal(pt->search_tokens[2], "c");
        }
        lf_mp_parser_free(p);
        lf_buf_free(&body);
    }
}

static void test_limits(void **state)
{
    (void)state;
    lf_mp_limits lim = LF_MP_LIMITS_DEFAULT;
    assert_int_equal(lim.max_request, 10u * 1024 * 1024);
    assert_int_equal(lim.max_part_body, 1024u * 1024);
    assert_int_equal(lim.max_parts, 1000);
    assert_int_equal(lim.max_header_line, 8192);
    assert_int_equal(lim.max_headers, 32);
    lf_mp_parser *p = NULL;
    lf_buf body = LF_BUF_INIT;

    /* part body: exactly the limit passes; one more is a per-part error */
    lim.max_part_body = 20;
    lf_buf_printf(&body, "--bnd\r\n" PART_HDRS "\r\n%s\r\n--bnd\r\n" PART_HDRS "\r\n%s\r\n--bnd--",
                  BODY16 "abcd", BODY16 "abcde");
    assert_int_equal(
        parse("multipart/mixed; boundary=bnd", NULL, &lim, body.data, body.len, 1, &p, NULL),
        LF_OK);
    assert_int_equal(lf_mp_parser_part(p, 0)->error.code, LF_OK);
    assert_int_equal(lf_mp_parser_part(p, 1)->error.code, LF_ERR_TOO_LARGE);
    lf_mp_parser_free(p);
    /* TS form: the limit still applies to the real body (no CRLF to strip) */
    lf_buf_reset(&body);
    lf_buf_printf(&body, "--bnd\r\n" PART_HDRS "\r\n%s--bnd\r\n" PART_HDRS "\r\n%s\r\n--bnd--",
                  BODY16 "abcde", BODY16 "abcd");
    assert_int_equal(
        parse("multipart/mixed; boundary=bnd", NULL, &lim, body.data, body.len, 0, &p, NULL),
        LF_OK);
    assert_int_equal(lf_mp_parser_form(p), LF_MP_TYPESCRIPT);
    assert_int_equal(lf_mp_parser_part(p, 0)->error.code, LF_ERR_TOO_LARGE);
    assert_int_equal(lf_mp_parser_part(p, 1)->error.code, LF_OK);
    lf_mp_parser_free(p);
    /* a body far over the limit is not buffered */
    lim.max_part_body = 1024;
    lf_buf_reset(&body);
    lf_buf_append_str(&body, "--bnd\r\n" PART_HDRS "\r\n");
    for (int i = 0; i < 100000; i++)
        lf_buf_append_str(&body, "0123456789");
    lf_buf_append_str(&body, "\r\n--bnd--\r\n");
    assert_int_equal(
        parse("multipart/mixed; boundary=bnd", NULL, &lim, body.data, body.len, 4096, &p, NULL),
        LF_OK);
    assert_int_equal(lf_mp_parser_part(p, 0)->error.code, LF_ERR_TOO_LARGE);
    lf_mp_parser_free(p);

    /* request size: request-level error as soon as it is exceeded */
    lim = (lf_mp_limits)LF_MP_LIMITS_DEFAULT;
    lf_buf_reset(&body);
    lf_buf_printf(&body, "--bnd\r\n" PART_HDRS "\r\n" BODY16 "\r\n--bnd--\r\n");
    lim.max_request = body.len;
    assert_int_equal(
        parse("multipart/mixed; boundary=bnd", NULL, &lim, body.data, body.len, 1, &p, NULL),
        LF_OK);
    lf_mp_parser_free(p);
    lim.max_request = body.len - 1;
    lf_error err = {0};
    assert_int_equal(
        parse("multipart/mixed; boundary=bnd", NULL, &lim, body.data, body.len, 1, &p, &err),
        LF_ERR_TOO_LARGE);
    assert_int_equal(lf_mp_parser_feed(p, "x", 1, NULL), LF_ERR_TOO_LARGE); /* sticky */
    assert_int_equal(lf_mp_parser_finish(p, NULL), LF_ERR_TOO_LARGE);
    lf_mp_parser_free(p);

    /* parts */
    lim = (lf_mp_limits)LF_MP_LIMITS_DEFAULT;
    lim.max_parts = 3;
    for (size_t n = 3; n <= 4; n++) {
        lf_buf_reset(&body);
        for (size_t i = 0; i < n; i++)
            lf_buf_printf(&body, "--bnd\r\n" PART_HDRS "\r\n" BODY16 "\r\n");
        lf_buf_append_str(&body, "--bnd--\r\n");
        assert_int_equal(
            parse("multipart/mixed; boundary=bnd", NULL, &lim, body.data, body.len, 7, &p, NULL),
            n == 3 ? LF_OK : LF_ERR_TOO_LARGE);
        lf_mp_parser_free(p);
    }
    /* default: 1000 parts fine, 1001 not */
    for (size_t n = 1000; n <= 1001; n++) {
        lf_buf_reset(&body);
        for (size_t i = 0; i < n; i++)
            lf_buf_printf(&body, "--bnd\r\n" PART_HDRS "\r\n" BODY16 "\r\n");
        lf_buf_append_str(&body, "--bnd--\r\n");
        assert_int_equal(
            parse("multipart/mixed; boundary=bnd", NULL, NULL, body.data, body.len, 4096, &p, NULL),
            n == 1000 ? LF_OK : LF_ERR_TOO_LARGE);
        lf_mp_parser_free(p);
    }

    /* header line length: per part */
    lim = (lf_mp_limits)LF_MP_LIMITS_DEFAULT;
    lim.max_header_line = 40;
    for (size_t len = 40; len <= 41; len++) {
        char line[64];
        memset(line, 'a', len);
        memcpy(line, "X-Pad: ", 7);
        line[len] = '\0';
        lf_buf_reset(&body);
        lf_buf_printf(&body,
                      "--bnd\r\n%s\r\n" PART_HDRS "\r\n" BODY16 "\r\n--bnd\r\n" PART_HDRS
                      "\r\n" BODY16 "\r\n--bnd--\r\n",
                      line);
        for (size_t chunk = 1; chunk <= 64; chunk *= 4) {
            assert_int_equal(parse("multipart/mixed; boundary=bnd", NULL, &lim, body.data, body.len,
                                   chunk, &p, NULL),
                             LF_OK);
            assert_int_equal(lf_mp_parser_part(p, 0)->error.code,
                             len == 40 ? LF_OK : LF_ERR_TOO_LARGE);
            assert_int_equal(lf_mp_parser_part(p, 1)->error.code, LF_OK);
            lf_mp_parser_free(p);
        }
    }
    /* delimiter line with too much transport padding: request-level */
    lf_buf_reset(&body);
    lf_buf_append_str(&body, "--bnd");
    for (int i = 0; i < 50; i++)
        lf_buf_append_str(&body, " ");
    lf_buf_append_str(&body, "\r\n");
    assert_int_equal(
        parse("multipart/mixed; boundary=bnd", NULL, &lim, body.data, body.len, 1, &p, NULL),
        LF_ERR_TOO_LARGE);
    lf_mp_parser_free(p);

    /* header count: 32 fine, 33 not */
    lim = (lf_mp_limits)LF_MP_LIMITS_DEFAULT;
    for (int n = 32; n <= 33; n++) {
        lf_buf_reset(&body);
        lf_buf_append_str(&body, "--bnd\r\n" PART_HDRS);
        for (int i = 5; i < n; i++)
            lf_buf_printf(&body, "X-Extra-%d: v\r\n", i);
        lf_buf_append_str(&body, "\r\n" BODY16 "\r\n--bnd--\r\n");
        assert_int_equal(
            parse("multipart/mixed; boundary=bnd", NULL, &lim, body.data, body.len, 1, &p, NULL),
            LF_OK);
        assert_int_equal(lf_mp_parser_part(p, 0)->error.code, n == 32 ? LF_OK : LF_ERR_TOO_LARGE);
        lf_mp_parser_free(p);
    }
    lf_buf_free(&body);
}

static void test_builder_limits_and_errors(void **state)
{
    (void)state;
    lf_mp_builder b;
    lf_mp_limits lim = LF_MP_LIMITS_DEFAULT;
    lim.max_parts = 2;
    lim.max_part_body = 32;
    assert_int_equal(lf_mp_builder_init(&b, LF_MP_STANDARD, NULL, &lim, NULL), LF_OK);
    assert_int_equal(strncmp(b.boundary, "lf-", 3), 0);
    assert_int_equal(strlen(b.boundary), 35);
    assert_int_equal(lf_mp_builder_finish(&b, NULL), LF_ERR_INVALID); /* no parts */
    lf_v3_headers h = hdr(1, 1);
    char big[40] = {0};
    memset(big, 'x', 33);
    assert_int_equal(lf_mp_builder_add(&b, &h, NULL, 0, big, 33, NULL), LF_ERR_TOO_LARGE);
    assert_int_equal(b.body.len, 0);
    const char *bad_tokens[] = {"a,b"};
    assert_int_equal(lf_mp_builder_add(&b, &h, bad_tokens, 1, big, 16, NULL), LF_ERR_INVALID);
    assert_int_equal(b.body.len, 0);
    h.payload_type = 3;
    assert_int_equal(lf_mp_builder_add(&b, &h, NULL, 0, big, 16, NULL), LF_ERR_INVALID);
    h = hdr(1, 1);
    h.key_id[0] = '\0';
    assert_int_equal(lf_mp_builder_add(&b, &h, NULL, 0, big, 16, NULL), LF_ERR_INVALID);
    h = hdr(1, 1);
    assert_int_equal(lf_mp_builder_add(&b, &h, NULL, 0, big, 16, NULL), LF_OK);
    assert_int_equal(lf_mp_builder_add(&b, &h, NULL, 0, big, 16, NULL), LF_OK);
    assert_int_equal(lf_mp_builder_add(&b, &h, NULL, 0, big, 16, NULL), LF_ERR_TOO_LARGE);
    assert_int_equal(lf_mp_builder_finish(&b, NULL), LF_OK);
    assert_int_equal(lf_mp_builder_add(&b, &h, NULL, 0, big, 16, NULL), LF_ERR_INVALID);
    /* the header values written are the ones parsed back (nonce from bytes, ts from ns) */
    lf_mp_parser *p = NULL;
    assert_int_equal(parse(b.content_type, NULL, NULL, b.body.data, b.body.len, 0, &p, NULL),
                     LF_OK);
    const lf_mp_part *pt = lf_mp_parser_part(p, 1);
    assert_string_equal(pt->headers.nonce_b64, "AAECAwQFBgcICQoL");
    assert_memory_equal(pt->headers.nonce, h.nonce, 12);
    assert_string_equal(pt->headers.timestamp, "2026-11-28T03:00:00.123456789Z");
    assert_true(pt->headers.ts_ns == h.ts_ns);
    lf_mp_parser_free(p);
    lf_mp_builder_free(&b);
    assert_int_equal(lf_mp_builder_init(&b, LF_MP_STANDARD, "bad\"quote", NULL, NULL),
                     LF_ERR_INVALID);
    assert_int_equal(lf_mp_builder_init(&b, LF_MP_STANDARD, "", NULL, NULL), LF_ERR_INVALID);
    assert_int_equal(lf_mp_builder_init(&b, (lf_mp_form)5, "x", NULL, NULL), LF_ERR_INVALID);
    assert_int_equal(lf_mp_builder_init(&b, LF_MP_TYPESCRIPT, "a b", NULL, NULL), LF_OK);
    assert_string_equal(b.content_type, "multipart/mixed; boundary=\"a b\"");
}

static void test_garbage(void **state)
{
    (void)state;
    uint32_t x = 12345;
    uint8_t buf[2048];
    for (int round = 0; round < 300; round++) {
        size_t n = (size_t)(round * 7) % sizeof buf;
        for (size_t i = 0; i < n; i++) {
            x = x * 1664525u + 1013904223u;
            /* a small alphabet makes delimiters and CRLFs common */
            buf[i] = (uint8_t) "-bnd\r\n:X \x01"[(x >> 24) % 10];
        }
        lf_mp_parser *a = NULL, *b = NULL;
        lf_err ra = parse("multipart/mixed; boundary=bnd", NULL, NULL, buf, n, 1, &a, NULL);
        lf_err rb = parse("multipart/mixed; boundary=bnd", NULL, NULL, buf, n, 0, &b, NULL);
        assert_int_equal(ra, rb);
        assert_int_equal(lf_mp_parser_count(a), lf_mp_parser_count(b));
        lf_mp_parser_free(a);
        lf_mp_parser_free(b);
    }
    /* feed after finish */
    lf_mp_parser *p = NULL;
    assert_int_equal(parse_text("--bnd\r\n" PART_HDRS "\r\n" BODY16 "\r\n--bnd--", NULL, &p),
                     LF_OK);
    assert_int_equal(lf_mp_parser_finish(p, NULL), LF_OK);
    assert_int_equal(lf_mp_parser_feed(p, "x", 1, NULL), LF_ERR_INVALID);
    lf_mp_parser_free(p);
    lf_mp_parser_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vectors_all_chunkings),
        cmocka_unit_test(test_builder_matches_vectors),
        cmocka_unit_test(test_crlf_by_chance),
        cmocka_unit_test(test_chunkings_identical),
        cmocka_unit_test(test_truncated_everywhere),
        cmocka_unit_test(test_content_type),
        cmocka_unit_test(test_part_errors),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_builder_limits_and_errors),
        cmocka_unit_test(test_garbage),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * fuzz_multipart.c — the streaming multipart parser on arbitrary bodies.
 *
 * Input layout: byte 0 picks the User-Agent (bit 0: logflux-js-sdk/) and the chunk size for
 * the second pass (bits 1..7); byte 1 is the boundary length L (1..16); the next L bytes are
 * the boundary (mapped into RFC 2046 bchars); the rest is the body. The body is parsed whole,
 * byte by byte and in odd chunks; all three must give the same verdict, the same form and
 * the same parts, or the fuzzer aborts. Small limits make every limit reachable.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "logflux/multipart.h"

static const char bchars[] = "0123456789abcdefXYZ'()+_,-./:=?";

typedef struct result {
    lf_err rc;
    lf_mp_form form;
    size_t n;
    lf_mp_parser *p;
} result;

static result run(const char *ct, const char *ua, const uint8_t *body, size_t len, size_t chunk)
{
    static const lf_mp_limits lim = {4096, 512, 16, 128, 8};
    result r = {0};
    r.rc = lf_mp_parser_new(ct, ua, &lim, &r.p, NULL);
    if (r.rc != LF_OK)
        return r;
    for (size_t off = 0; off < len && r.rc == LF_OK; off += chunk) {
        size_t n = len - off < chunk ? len - off : chunk;
        r.rc = lf_mp_parser_feed(r.p, body + off, n, NULL);
    }
    if (r.rc == LF_OK)
        r.rc = lf_mp_parser_finish(r.p, NULL);
    if (r.rc == LF_OK) {
        r.form = lf_mp_parser_form(r.p);
        r.n = lf_mp_parser_count(r.p);
    }
    return r;
}

static void same(const result *a, const result *b)
{
    if (a->rc != b->rc || a->n != b->n || (a->rc == LF_OK && a->form != b->form))
        abort();
    for (size_t i = 0; i < a->n; i++) {
        const lf_mp_part *x = lf_mp_parser_part(a->p, i), *y = lf_mp_parser_part(b->p, i);
        if (x->error.code != y->error.code || x->body_len != y->body_len ||
            (x->body_len > 0 && memcmp(x->body, y->body, x->body_len) != 0) ||
            x->n_search_tokens != y->n_search_tokens)
            abort();
        if (x->error.code == LF_OK && (x->headers.entry_type != y->headers.entry_type ||
                                       strcmp(x->headers.timestamp, y->headers.timestamp) != 0 ||
                                       strcmp(x->headers.key_id, y->headers.key_id) != 0))
            abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    const char *ua = data[0] & 1 ? "logflux-js-sdk/3.0.1" : "logflux-go-sdk/3.0.1";
    size_t chunk = (size_t)(data[0] >> 1) + 2;
    size_t blen = (size_t)(data[1] % 16) + 1;
    if (size < 2 + blen)
        return 0;
    char ct[64] = "multipart/mixed; boundary=\"";
    size_t off = strlen(ct);
    for (size_t i = 0; i < blen; i++)
        ct[off++] = bchars[data[2 + i] % (sizeof bchars - 1)];
    ct[off++] = '"';
    ct[off] = '\0';
    const uint8_t *body = data + 2 + blen;
    size_t len = size - 2 - blen;
    result whole = run(ct, ua, body, len, len ? len : 1);
    result bytes = run(ct, ua, body, len, 1);
    result odd = run(ct, ua, body, len, chunk);
    same(&whole, &bytes);
    same(&whole, &odd);
    lf_mp_parser_free(whole.p);
    lf_mp_parser_free(bytes.p);
    lf_mp_parser_free(odd.p);
    return 0;
}

/*
 * multipart_build.c — writes v3 request bodies (multipart/mixed, one entry per part).
 *
 * Both framings of PROTOCOL.md §2.2 are produced byte for byte:
 *   standard:   "--b" CRLF hdrs CRLF body  CRLF "--b" CRLF hdrs CRLF body  CRLF "--b--" CRLF
 *   TypeScript: "--b" CRLF hdrs CRLF body       "--b" CRLF hdrs CRLF body  CRLF "--b--" CRLF
 * (each hdrs block ends with its own CRLF, so "hdrs CRLF" is the blank line). The builder
 * checks the same limits the server enforces so a client never sends a batch that is bound
 * to be refused.
 */
#include "logflux/multipart.h"

#include <stdio.h>
#include <string.h>

static bool boundary_char_ok(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
           strchr("'()+_,-./:=? ", c) != NULL;
}

lf_err lf_mp_builder_init(lf_mp_builder *b, lf_mp_form form, const char *boundary,
                          const lf_mp_limits *limits, lf_error *err)
{
    memset(b, 0, sizeof *b);
    const lf_mp_limits def = LF_MP_LIMITS_DEFAULT;
    b->limits = limits != NULL ? *limits : def;
    if (form != LF_MP_STANDARD && form != LF_MP_TYPESCRIPT)
        return lf_error_set(err, LF_ERR_INVALID, "multipart: unknown form %d", (int)form);
    b->form = form;
    if (boundary == NULL) {
        uint8_t rnd[16];
        lf_err rc = lf_random(rnd, sizeof rnd, err);
        if (rc != LF_OK)
            return rc;
        memcpy(b->boundary, "lf-", 3);
        lf_hex_encode(rnd, sizeof rnd, b->boundary + 3);
    } else {
        size_t n = strlen(boundary);
        if (n == 0 || n > LF_MP_BOUNDARY_MAX || boundary[n - 1] == ' ')
            return lf_error_set(err, LF_ERR_INVALID, "multipart: boundary of %zu characters", n);
        for (size_t i = 0; i < n; i++)
            if (!boundary_char_ok(boundary[i]))
                return lf_error_set(err, LF_ERR_INVALID,
                                    "multipart: boundary character %zu not allowed", i);
        memcpy(b->boundary, boundary, n + 1);
    }
    /* quote the boundary when it holds characters that are not token characters */
    bool quote = strpbrk(b->boundary, "'()+,/:=? ") != NULL;
    snprintf(b->content_type, sizeof b->content_type, "multipart/mixed; boundary=%s%s%s",
             quote ? "\"" : "", b->boundary, quote ? "\"" : "");
    return LF_OK;
}

static bool header_value_ok(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            return false;
    return true;
}

static lf_err write_headers(lf_buf *o, const lf_v3_headers *h, const char *const *tokens,
                            size_t n_tokens, lf_error *err)
{
    char ts[LF_RFC3339_MAX];
    const char *timestamp = h->timestamp;
    if (timestamp[0] == '\0') {
        lf_rfc3339_format(h->ts_ns, ts);
        timestamp = ts;
    }
    if (h->entry_type < 1 || h->entry_type > 7)
        return lf_error_set(err, LF_ERR_INVALID, "multipart: entry type %d", h->entry_type);
    if (h->payload_type != 1 && h->payload_type != 3)
        return lf_error_set(err, LF_ERR_INVALID, "multipart: payload type %d", h->payload_type);
    if (h->payload_type == 3 && h->entry_type != 7)
        return lf_error_set(err, LF_ERR_INVALID, "multipart: payload type 3 needs entry type 7");
    if (!header_value_ok(timestamp) || !header_value_ok(h->key_id) ||
        !header_value_ok(h->nonce_b64))
        return lf_error_set(err, LF_ERR_INVALID, "multipart: control character in a header");
    lf_err rc = LF_OK;
    if (lf_buf_printf(o,
                      "Content-Type: application/octet-stream\r\n"
                      "X-LF-Entry-Type: %d\r\n"
                      "X-LF-Payload-Type: %d\r\n"
                      "X-LF-Timestamp: %s\r\n",
                      h->entry_type, h->payload_type, timestamp) != LF_OK)
        rc = LF_ERR_NOMEM;
    if (rc == LF_OK && h->payload_type == 1) {
        char nonce[LF_V3_NONCE_B64_LEN + 1];
        const char *n64 = h->nonce_b64;
        if (n64[0] == '\0') {
            lf_base64_encode(h->nonce, sizeof h->nonce, nonce, false);
            n64 = nonce;
        }
        if (h->key_id[0] == '\0')
            return lf_error_set(err, LF_ERR_INVALID, "multipart: payload type 1 needs a key id");
        if (lf_buf_printf(o, "X-LF-Key-ID: %s\r\nX-LF-Nonce: %s\r\n", h->key_id, n64) != LF_OK)
            rc = LF_ERR_NOMEM;
    }
    if (rc == LF_OK && n_tokens > 0) {
        rc = lf_buf_append_str(o, "X-LF-Search-Tokens: ");
        for (size_t i = 0; rc == LF_OK && i < n_tokens; i++) {
            if (strpbrk(tokens[i], ",") != NULL || !header_value_ok(tokens[i]))
                return lf_error_set(err, LF_ERR_INVALID,
                                    "multipart: search token %zu contains ',' or a control "
                                    "character",
                                    i);
            if (i > 0)
                rc = lf_buf_append_str(o, ",");
            if (rc == LF_OK)
                rc = lf_buf_append_str(o, tokens[i]);
        }
        if (rc == LF_OK)
            rc = lf_buf_append_str(o, "\r\n");
    }
    if (rc == LF_OK)
        rc = lf_buf_append_str(o, "\r\n");
    if (rc != LF_OK)
        return lf_error_set(err, rc, "multipart: out of memory");
    return LF_OK;
}

lf_err lf_mp_builder_add(lf_mp_builder *b, const lf_v3_headers *h, const char *const *tokens,
                         size_t n_tokens, const void *body, size_t len, lf_error *err)
{
    if (b->finished)
        return lf_error_set(err, LF_ERR_INVALID, "multipart: builder already finished");
    if (b->parts >= b->limits.max_parts)
        return lf_error_set(err, LF_ERR_TOO_LARGE, "multipart: more than %zu parts",
                            b->limits.max_parts);
    if (len > b->limits.max_part_body)
        return lf_error_set(err, LF_ERR_TOO_LARGE,
                            "multipart: part body of %zu bytes (at most %zu)", len,
                            b->limits.max_part_body);
    const size_t start = b->body.len;
    lf_err rc = LF_OK;
    /* the CRLF before an inner delimiter belongs to the delimiter; the TS SDK omits it */
    if (b->parts > 0 && b->form == LF_MP_STANDARD)
        rc = lf_buf_append(&b->body, "\r\n", 2);
    if (rc == LF_OK)
        rc = lf_buf_printf(&b->body, "--%s\r\n", b->boundary);
    if (rc != LF_OK) {
        b->body.len = start;
        return lf_error_set(err, rc, "multipart: out of memory");
    }
    rc = write_headers(&b->body, h, tokens, n_tokens, err);
    if (rc == LF_OK && lf_buf_append(&b->body, body, len) != LF_OK)
        rc = lf_error_set(err, LF_ERR_NOMEM, "multipart: out of memory");
    /* room for the close delimiter must remain under the request limit */
    if (rc == LF_OK && b->body.len + strlen(b->boundary) + 8 > b->limits.max_request)
        rc = lf_error_set(err, LF_ERR_TOO_LARGE, "multipart: request would exceed %zu bytes",
                          b->limits.max_request);
    if (rc != LF_OK) {
        b->body.len = start;
        return rc;
    }
    b->parts++;
    return LF_OK;
}

lf_err lf_mp_builder_finish(lf_mp_builder *b, lf_error *err)
{
    if (b->finished)
        return LF_OK;
    if (b->parts == 0)
        return lf_error_set(err, LF_ERR_INVALID, "multipart: a request needs at least one part");
    if (lf_buf_printf(&b->body, "\r\n--%s--\r\n", b->boundary) != LF_OK)
        return lf_error_set(err, LF_ERR_NOMEM, "multipart: out of memory");
    b->finished = true;
    return LF_OK;
}

void lf_mp_builder_free(lf_mp_builder *b)
{
    lf_buf_free(&b->body);
    b->parts = 0;
    b->finished = false;
}

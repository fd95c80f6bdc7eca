/*
 * multipart.h — the v3 request body: multipart/mixed, one entry per part (PROTOCOL.md §2.2).
 *
 * Builder: writes a body in the standard RFC 2046 form (what the Go SDK sends) or in the
 * TypeScript SDK's form (inner delimiters glued to the previous body), with the X-LF-* part
 * headers. Used by our SDKs speaking v3 and by tests.
 *
 * Parser: streaming and bounded, for the server. Create it with the request's Content-Type
 * and User-Agent, feed the body in chunks of any size (1 byte is fine), then finish. Limits
 * are enforced as bytes arrive. The framing (standard or TypeScript) is decided once per
 * request at finish, exactly as §2.2 says, and only then are part bodies final.
 *
 * Errors come at two levels. Framing errors (no boundary, request too large, too many parts,
 * missing close delimiter) fail the whole request: feed/finish return them. Problems inside
 * one part (a bad header, a missing nonce, a body over 1 MiB) only mark that part: it carries
 * its own lf_error, so the server can answer per-part results and store the good parts.
 */
#ifndef LOGFLUX_MULTIPART_H
#define LOGFLUX_MULTIPART_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "logflux/buf.h"
#include "logflux/error.h"
#include "logflux/timefmt.h"

#ifdef __cplusplus
extern "C" {
#endif

#define LF_V3_KEY_ID_MAX    128
#define LF_V3_NONCE_B64_LEN 16 /* standard base64 of 12 bytes, padded */
#define LF_MP_BOUNDARY_MAX  200

/* The X-LF-* headers of one v3 part. Text fields are NUL-terminated; the parser also keeps
 * the decoded forms (ts_ns, nonce). key_id and nonce_b64 are "" for payload type 3. */
typedef struct lf_v3_headers {
    int entry_type;   /* 1..7 */
    int payload_type; /* 1 = AES-256-GCM over (gzip) JSON, 3 = gzip JSON (type 7 only) */
    int64_t ts_ns;
    char timestamp[65]; /* RFC 3339 as sent (the builder writes lf_rfc3339_format(ts_ns)) */
    char key_id[LF_V3_KEY_ID_MAX + 1];
    char nonce_b64[LF_V3_NONCE_B64_LEN + 1];
    uint8_t nonce[12];
} lf_v3_headers;

typedef enum lf_mp_form {
    LF_MP_STANDARD = 0,   /* RFC 2046: CRLF before every delimiter */
    LF_MP_TYPESCRIPT = 1, /* logflux-js-sdk: no CRLF before inner delimiters */
} lf_mp_form;

typedef struct lf_mp_limits {
    size_t max_request;     /* whole body, preamble and epilogue included; 10 MiB */
    size_t max_part_body;   /* one part's body; 1 MiB */
    size_t max_parts;       /* 1000 */
    size_t max_header_line; /* one header or delimiter line without CRLF; 8 KiB */
    size_t max_headers;     /* header lines per part; 32 */
} lf_mp_limits;

#define LF_MP_LIMITS_DEFAULT                                                                       \
    {                                                                                              \
        10u * 1024u * 1024u, 1024u * 1024u, 1000u, 8192u, 32u                                      \
    }

/* ------------------------------------------------------------------ builder */

typedef struct lf_mp_builder {
    lf_buf body; /* the request body so far (owned; lf_mp_builder_free releases it) */
    lf_mp_form form;
    char boundary[LF_MP_BOUNDARY_MAX + 1];
    char content_type[LF_MP_BOUNDARY_MAX + 64]; /* "multipart/mixed; boundary=..." */
    size_t parts;
    lf_mp_limits limits;
    bool finished;
} lf_mp_builder;

/* boundary NULL = random ("lf-" + 32 hex digits). limits NULL = defaults. */
lf_err lf_mp_builder_init(lf_mp_builder *b, lf_mp_form form, const char *boundary,
                          const lf_mp_limits *limits, lf_error *err);
/* Append one part. h supplies entry/payload type, timestamp (from ts_ns when timestamp is
 * ""), key id and nonce (nonce_b64, or encoded from nonce when nonce_b64 is "" — payload
 * type 1 only). tokens: NULL or n_tokens search tokens, written comma-separated (a token must
 * not contain ',', CR or LF). LF_ERR_TOO_LARGE past the limits. */
lf_err lf_mp_builder_add(lf_mp_builder *b, const lf_v3_headers *h, const char *const *tokens,
                         size_t n_tokens, const void *body, size_t len, lf_error *err);
/* Write the close delimiter. The body is then complete in b->body. */
lf_err lf_mp_builder_finish(lf_mp_builder *b, lf_error *err);
void lf_mp_builder_free(lf_mp_builder *b);

/* ------------------------------------------------------------------ parser */

typedef struct lf_mp_part {
    size_t index;          /* 0-based position in the request */
    lf_error error;        /* error.code LF_OK when the part is usable */
    bool has_headers;      /* false if the header block never parsed */
    lf_v3_headers headers; /* valid when error.code == LF_OK */
    char **search_tokens;  /* n_search_tokens NUL-terminated tokens (trimmed, non-empty) */
    size_t n_search_tokens;
    const uint8_t *body; /* the part body (owned by the parser); valid after finish */
    size_t body_len;
} lf_mp_part;

typedef struct lf_mp_parser lf_mp_parser;

/* Extracts the boundary from content_type ("multipart/mixed; boundary=..." — quoted or not,
 * 1..200 characters of RFC 2046 bchars). user_agent may be NULL. limits NULL = defaults.
 * LF_ERR_UNSUPPORTED for another media type, LF_ERR_INVALID for a bad boundary. */
lf_err lf_mp_parser_new(const char *content_type, const char *user_agent,
                        const lf_mp_limits *limits, lf_mp_parser **out, lf_error *err);
/* Feed the next len bytes. A framing error is sticky: later calls return it again. */
lf_err lf_mp_parser_feed(lf_mp_parser *p, const void *data, size_t len, lf_error *err);
/* End of body. Decides the form, finalises the bodies, checks per-part bodies.
 * LF_ERR_TRUNCATED without a close delimiter; LF_ERR_INVALID when there is no part. */
lf_err lf_mp_parser_finish(lf_mp_parser *p, lf_error *err);
/* After a successful finish: */
lf_mp_form lf_mp_parser_form(const lf_mp_parser *p);
size_t lf_mp_parser_count(const lf_mp_parser *p);
const lf_mp_part *lf_mp_parser_part(const lf_mp_parser *p, size_t i); /* NULL out of range */
void lf_mp_parser_free(lf_mp_parser *p);

#ifdef __cplusplus
}
#endif
#endif

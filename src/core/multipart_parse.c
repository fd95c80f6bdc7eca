/*
 * multipart_parse.c — streaming, bounded parser for v3 request bodies (PROTOCOL.md §2.2).
 *
 * Input arrives in chunks of any size. Bytes not yet classified wait in `pend`; everything
 * before the earliest place a delimiter could start is committed at once, so `pend` never
 * holds more than one chunk plus a delimiter line. States:
 *
 *   PREAMBLE --delimiter--> HEADERS --blank line--> BODY --delimiter--> HEADERS ...
 *                                                   BODY --close-----> EPILOGUE
 *
 * A delimiter is "--" boundary followed by optional spaces/tabs and CRLF, or by "--" (close),
 * wherever it occurs: the TypeScript SDK glues inner delimiters to the previous body, so we
 * cannot require a CRLF before them. Whether the CRLF before an inner delimiter belongs to the
 * body is decided once for the whole request at finish (TypeScript form if the User-Agent says
 * logflux-js-sdk/ or any inner delimiter lacks the CRLF; standard form otherwise), which is
 * why each part remembers its last two raw bytes and bodies are trimmed only at finish. The
 * CRLF before the close delimiter always belongs to the delimiter (both SDKs write it).
 *
 * Framing problems fail the request and are sticky; header or size problems of one part are
 * recorded in that part (the first one wins) and the parser carries on with the next.
 */
#include "logflux/multipart.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

enum state { S_PREAMBLE, S_HEADERS, S_BODY, S_EPILOGUE };

typedef struct part {
    lf_mp_part pub;
    lf_buf body;
    size_t raw_len;   /* body bytes seen, stored or not */
    uint8_t last2[2]; /* the last two raw body bytes */
    bool ended_by_close;
    size_t n_headers;
    bool seen[7]; /* which X-LF-* / Content-Type headers appeared */
} part;

struct lf_mp_parser {
    lf_mp_limits limits;
    char delim[LF_MP_BOUNDARY_MAX + 3]; /* "--" boundary */
    size_t dlen;
    bool js_agent;
    enum state state;
    lf_buf pend;
    size_t total;
    bool skipping_line; /* discarding the rest of an over-long header line */
    part *parts;
    size_t n_parts, cap_parts;
    lf_err failed;
    char failed_msg[LF_ERROR_MSG_MAX];
    bool finished;
    lf_mp_form form;
};

/* memmem is a GNU extension; this is the portable equivalent (memchr does the scanning). */
static const uint8_t *find_bytes(const uint8_t *hay, size_t n, const void *needle, size_t m)
{
    const uint8_t *nd = needle;
    const uint8_t *end = hay + n;
    while (m > 0 && (size_t)(end - hay) >= m) {
        const uint8_t *c = memchr(hay, nd[0], (size_t)(end - hay) - m + 1);
        if (c == NULL)
            return NULL;
        if (memcmp(c, nd, m) == 0)
            return c;
        hay = c + 1;
    }
    return NULL;
}

/* ------------------------------------------------------------------ Content-Type */

static bool is_lwsp(char c)
{
    return c == ' ' || c == '\t';
}

static bool bchar_ok(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
           strchr("'()+_,-./:=? ", c) != NULL;
}

static bool token_char(char c)
{
    return c > 0x20 && c < 0x7f && strchr("()<>@,;:\\\"/[]?=", c) == NULL;
}

static lf_err parse_content_type(const char *ct, char *boundary, lf_error *err)
{
    const char *s = ct;
    while (is_lwsp(*s))
        s++;
    const char *type = s;
    while (*s && *s != ';' && !is_lwsp(*s))
        s++;
    if ((size_t)(s - type) != 15 || strncasecmp(type, "multipart/mixed", 15) != 0)
        return lf_error_set(err, LF_ERR_UNSUPPORTED,
                            "multipart: Content-Type is not multipart/mixed");
    bool have = false;
    for (;;) {
        while (is_lwsp(*s))
            s++;
        if (*s == '\0')
            break;
        if (*s++ != ';')
            return lf_error_set(err, LF_ERR_INVALID, "multipart: malformed Content-Type");
        while (is_lwsp(*s))
            s++;
        if (*s == '\0')
            break; /* a trailing ';' is harmless */
        const char *name = s;
        while (token_char(*s))
            s++;
        size_t name_len = (size_t)(s - name);
        while (is_lwsp(*s))
            s++;
        if (name_len == 0 || *s++ != '=')
            return lf_error_set(err, LF_ERR_INVALID, "multipart: malformed Content-Type parameter");
        while (is_lwsp(*s))
            s++;
        char value[LF_MP_BOUNDARY_MAX + 2];
        size_t vlen = 0;
        if (*s == '"') {
            s++;
            for (;;) {
                if (*s == '\0')
                    return lf_error_set(err, LF_ERR_INVALID,
                                        "multipart: unterminated quoted parameter");
                if (*s == '"') {
                    s++;
                    break;
                }
                if (*s == '\\' && s[1] != '\0')
                    s++;
                if (vlen <= LF_MP_BOUNDARY_MAX)
                    value[vlen] = *s;
                vlen++;
                s++;
            }
        } else {
            while (token_char(*s)) {
                if (vlen <= LF_MP_BOUNDARY_MAX)
                    value[vlen] = *s;
                vlen++;
                s++;
            }
        }
        if (name_len != 8 || strncasecmp(name, "boundary", 8) != 0)
            continue; /* charset and friends: irrelevant */
        if (have)
            return lf_error_set(err, LF_ERR_INVALID, "multipart: boundary given twice");
        if (vlen == 0 || vlen > LF_MP_BOUNDARY_MAX)
            return lf_error_set(err, LF_ERR_INVALID,
                                "multipart: boundary of %zu characters (1..%d)", vlen,
                                LF_MP_BOUNDARY_MAX);
        for (size_t i = 0; i < vlen; i++)
            if (!bchar_ok(value[i]))
                return lf_error_set(err, LF_ERR_INVALID,
                                    "multipart: boundary character %zu is not allowed", i);
        if (value[vlen - 1] == ' ')
            return lf_error_set(err, LF_ERR_INVALID, "multipart: boundary ends in a space");
        memcpy(boundary, value, vlen);
        boundary[vlen] = '\0';
        have = true;
    }
    if (!have)
        return lf_error_set(err, LF_ERR_INVALID, "multipart: Content-Type has no boundary");
    return LF_OK;
}

lf_err lf_mp_parser_new(const char *content_type, const char *user_agent,
                        const lf_mp_limits *limits, lf_mp_parser **out, lf_error *err)
{
    char boundary[LF_MP_BOUNDARY_MAX + 1];
    *out = NULL;
    if (content_type == NULL)
        return lf_error_set(err, LF_ERR_INVALID, "multipart: no Content-Type");
    lf_err rc = parse_content_type(content_type, boundary, err);
    if (rc != LF_OK)
        return rc;
    lf_mp_parser *p = calloc(1, sizeof *p);
    if (p == NULL)
        return lf_error_set(err, LF_ERR_NOMEM, "multipart: out of memory");
    const lf_mp_limits def = LF_MP_LIMITS_DEFAULT;
    p->limits = limits != NULL ? *limits : def;
    p->dlen = (size_t)snprintf(p->delim, sizeof p->delim, "--%s", boundary);
    p->js_agent = user_agent != NULL && strncmp(user_agent, "logflux-js-sdk/", 15) == 0;
    p->state = S_PREAMBLE;
    *out = p;
    return LF_OK;
}

void lf_mp_parser_free(lf_mp_parser *p)
{
    if (p == NULL)
        return;
    for (size_t i = 0; i < p->n_parts; i++) {
        lf_buf_free(&p->parts[i].body);
        free(p->parts[i].pub.search_tokens);
    }
    free(p->parts);
    lf_buf_free(&p->pend);
    free(p);
}

/* ------------------------------------------------------------------ helpers */

static lf_err fail(lf_mp_parser *p, lf_error *err, lf_err code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static lf_err fail(lf_mp_parser *p, lf_error *err, lf_err code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(p->failed_msg, sizeof p->failed_msg, fmt, ap);
    va_end(ap);
    p->failed = code;
    return lf_error_set(err, code, "%s", p->failed_msg);
}

static void part_error(part *pt, lf_err code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void part_error(part *pt, lf_err code, const char *fmt, ...)
{
    if (pt->pub.error.code != LF_OK)
        return; /* the first problem is the one worth reporting */
    char msg[LF_ERROR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    lf_error_set(&pt->pub.error, code, "multipart: part %zu: %s", pt->pub.index, msg);
    lf_buf_free(&pt->body); /* a rejected part's bytes are not kept */
}

static part *current(lf_mp_parser *p)
{
    return &p->parts[p->n_parts - 1];
}

static lf_err start_part(lf_mp_parser *p, lf_error *err)
{
    if (p->n_parts >= p->limits.max_parts)
        return fail(p, err, LF_ERR_TOO_LARGE, "multipart: more than %zu parts",
                    p->limits.max_parts);
    if (p->n_parts == p->cap_parts) {
        size_t cap = p->cap_parts ? p->cap_parts * 2 : 8;
        part *np = realloc(p->parts, cap * sizeof *np);
        if (np == NULL)
            return fail(p, err, LF_ERR_NOMEM, "multipart: out of memory");
        p->parts = np;
        p->cap_parts = cap;
    }
    part *pt = &p->parts[p->n_parts++];
    memset(pt, 0, sizeof *pt);
    pt->pub.index = p->n_parts - 1;
    p->state = S_HEADERS;
    p->skipping_line = false;
    return LF_OK;
}

static void body_commit(lf_mp_parser *p, const uint8_t *data, size_t n)
{
    if (n == 0)
        return;
    part *pt = current(p);
    if (n >= 2) {
        pt->last2[0] = data[n - 2];
        pt->last2[1] = data[n - 1];
    } else {
        pt->last2[0] = pt->last2[1];
        pt->last2[1] = data[0];
    }
    pt->raw_len += n;
    if (pt->pub.error.code != LF_OK)
        return;
    /* +2: the CRLF that may still turn out to belong to the delimiter */
    if (pt->raw_len > p->limits.max_part_body + 2) {
        part_error(pt, LF_ERR_TOO_LARGE, "body exceeds %zu bytes", p->limits.max_part_body);
        return;
    }
    if (lf_buf_append(&pt->body, data, n) != LF_OK)
        part_error(pt, LF_ERR_NOMEM, "out of memory");
}

static bool crlf_before_end(const part *pt)
{
    return pt->raw_len >= 2 && pt->last2[0] == '\r' && pt->last2[1] == '\n';
}

/* ------------------------------------------------------------------ delimiters */

enum delim_kind { D_NONE, D_MORE, D_INNER, D_CLOSE, D_TOO_LONG };

/* s[0..n) starts with the delimiter text; classify what follows. *line_len receives the
 * bytes to consume (through the CRLF for an inner delimiter, through "--" for the close). */
static enum delim_kind classify(const lf_mp_parser *p, const uint8_t *s, size_t n, size_t *line_len)
{
    size_t j = p->dlen;
    if (j >= n)
        return D_MORE;
    if (s[j] == '-') {
        if (j + 1 >= n)
            return D_MORE;
        if (s[j + 1] == '-') {
            *line_len = j + 2;
            return D_CLOSE;
        }
        return D_NONE;
    }
    while (j < n && is_lwsp((char)s[j])) {
        if (j - p->dlen >= p->limits.max_header_line)
            return D_TOO_LONG;
        j++;
    }
    if (j >= n)
        return D_MORE;
    if (s[j] != '\r')
        return D_NONE;
    if (j + 1 >= n)
        return D_MORE;
    if (s[j + 1] != '\n')
        return D_NONE;
    *line_len = j + 2;
    return D_INNER;
}

/* Finds the first delimiter in s[0..n). Returns its kind; *at is its offset (for D_MORE: the
 * offset from which bytes must be kept; for D_NONE: how many bytes are surely not part of
 * one). */
static enum delim_kind find_delim(const lf_mp_parser *p, const uint8_t *s, size_t n, size_t *at,
                                  size_t *line_len)
{
    size_t from = 0;
    while (from < n) {
        const uint8_t *hit = find_bytes(s + from, n - from, p->delim, p->dlen);
        if (hit == NULL)
            break;
        size_t i = (size_t)(hit - s);
        enum delim_kind k = classify(p, hit, n - i, line_len);
        if (k != D_NONE) {
            *at = i;
            return k;
        }
        from = i + 1;
    }
    /* keep a tail that could be the start of a delimiter split across chunks */
    size_t keep = p->dlen - 1;
    if (n > keep) {
        size_t tail = n - keep;
        /* the tail only needs keeping from its first '-' on */
        const uint8_t *dash = memchr(s + tail, '-', keep);
        *at = dash != NULL ? (size_t)(dash - s) : n;
    } else {
        const uint8_t *dash = memchr(s, '-', n);
        *at = dash != NULL ? (size_t)(dash - s) : n;
    }
    return D_NONE;
}

/* ------------------------------------------------------------------ headers */

enum { H_CT, H_ENTRY, H_PAYLOAD, H_TS, H_TOKENS, H_KEY, H_NONCE };

static void set_tokens(part *pt, const char *v, size_t len)
{
    size_t count = 0;
    for (size_t i = 0; i < len; i++)
        count += v[i] == ',';
    count++;
    /* one allocation: the pointer array, then the token text */
    char **arr = malloc(count * sizeof(char *) + len + count);
    if (arr == NULL) {
        part_error(pt, LF_ERR_NOMEM, "out of memory");
        return;
    }
    char *text = (char *)(arr + count);
    size_t n = 0, i = 0;
    while (i <= len) {
        size_t start = i;
        while (i < len && v[i] != ',')
            i++;
        size_t end = i;
        while (start < end && is_lwsp(v[start]))
            start++;
        while (end > start && is_lwsp(v[end - 1]))
            end--;
        if (end > start) {
            memcpy(text, v + start, end - start);
            text[end - start] = '\0';
            arr[n++] = text;
            text += end - start + 1;
        }
        i++;
    }
    pt->pub.search_tokens = arr;
    pt->pub.n_search_tokens = n;
}

static bool copy_text(char *dst, size_t cap, const char *v, size_t len)
{
    if (len >= cap)
        return false;
    memcpy(dst, v, len);
    dst[len] = '\0';
    return true;
}

static void header_value(part *pt, int which, const char *v, size_t len)
{
    lf_v3_headers *h = &pt->pub.headers;
    lf_error tmp;
    switch (which) {
    case H_CT:
        if (!(len >= 24 && strncasecmp(v, "application/octet-stream", 24) == 0 &&
              (len == 24 || v[24] == ';' || is_lwsp(v[24]))))
            part_error(pt, LF_ERR_INVALID, "Content-Type is not application/octet-stream");
        break;
    case H_ENTRY:
        if (len != 1 || v[0] < '1' || v[0] > '7')
            part_error(pt, LF_ERR_INVALID, "X-LF-Entry-Type is not 1..7");
        else
            h->entry_type = v[0] - '0';
        break;
    case H_PAYLOAD:
        if (len != 1 || (v[0] != '1' && v[0] != '3'))
            part_error(pt, LF_ERR_INVALID, "X-LF-Payload-Type is not 1 or 3");
        else
            h->payload_type = v[0] - '0';
        break;
    case H_TS:
        if (!copy_text(h->timestamp, sizeof h->timestamp, v, len) ||
            lf_rfc3339_parse(v, len, &h->ts_ns, &tmp) != LF_OK)
            part_error(pt, LF_ERR_INVALID, "X-LF-Timestamp is not RFC 3339");
        break;
    case H_TOKENS:
        set_tokens(pt, v, len);
        break;
    case H_KEY:
        if (len == 0 || !copy_text(h->key_id, sizeof h->key_id, v, len)) {
            part_error(pt, LF_ERR_INVALID, "X-LF-Key-ID must have 1..%d characters",
                       LF_V3_KEY_ID_MAX);
            break;
        }
        for (size_t i = 0; i < len; i++)
            if (v[i] <= 0x20 || v[i] >= 0x7f) {
                part_error(pt, LF_ERR_INVALID, "X-LF-Key-ID has a character outside 0x21..0x7e");
                break;
            }
        break;
    case H_NONCE: {
        lf_buf raw = LF_BUF_INIT;
        if (len != LF_V3_NONCE_B64_LEN || lf_base64_decode(v, len, &raw, false, &tmp) != LF_OK ||
            raw.len != sizeof h->nonce) {
            part_error(pt, LF_ERR_INVALID, "X-LF-Nonce is not standard base64 of 12 bytes");
        } else {
            memcpy(h->nonce, raw.data, sizeof h->nonce);
            copy_text(h->nonce_b64, sizeof h->nonce_b64, v, len);
        }
        lf_buf_free(&raw);
        break;
    }
    default:
        break;
    }
}

static void header_line(lf_mp_parser *p, const char *line, size_t len)
{
    static const char *const names[] = {"content-type",   "x-lf-entry-type",    "x-lf-payload-type",
                                        "x-lf-timestamp", "x-lf-search-tokens", "x-lf-key-id",
                                        "x-lf-nonce"};
    part *pt = current(p);
    if (++pt->n_headers > p->limits.max_headers) {
        part_error(pt, LF_ERR_TOO_LARGE, "more than %zu header lines", p->limits.max_headers);
        return;
    }
    size_t colon = 0;
    while (colon < len && token_char(line[colon]))
        colon++;
    if (colon == 0 || colon >= len || line[colon] != ':') {
        part_error(pt, LF_ERR_INVALID, "malformed header line %zu", pt->n_headers);
        return;
    }
    size_t vs = colon + 1, ve = len;
    while (vs < ve && is_lwsp(line[vs]))
        vs++;
    while (ve > vs && is_lwsp(line[ve - 1]))
        ve--;
    for (size_t i = vs; i < ve; i++)
        if (((unsigned char)line[i] < 0x20 && line[i] != '\t') || line[i] == 0x7f) {
            part_error(pt, LF_ERR_INVALID, "control character in header line %zu", pt->n_headers);
            return;
        }
    for (int w = 0; w < (int)(sizeof names / sizeof *names); w++) {
        if (strlen(names[w]) != colon || strncasecmp(line, names[w], colon) != 0)
            continue;
        if (pt->seen[w]) {
            part_error(pt, LF_ERR_INVALID, "header %s appears twice", names[w]);
            return;
        }
        pt->seen[w] = true;
        header_value(pt, w, line + vs, ve - vs);
        return;
    }
    /* other headers are ignored */
}

static void headers_done(part *pt)
{
    lf_v3_headers *h = &pt->pub.headers;
    pt->pub.has_headers = true;
    if (!pt->seen[H_ENTRY])
        part_error(pt, LF_ERR_INVALID, "missing X-LF-Entry-Type");
    else if (!pt->seen[H_PAYLOAD])
        part_error(pt, LF_ERR_INVALID, "missing X-LF-Payload-Type");
    else if (!pt->seen[H_TS])
        part_error(pt, LF_ERR_INVALID, "missing X-LF-Timestamp");
    else if (h->payload_type == 3 && h->entry_type != 7)
        part_error(pt, LF_ERR_INVALID, "payload type 3 is only for entry type 7");
    else if (h->payload_type == 1 && !pt->seen[H_KEY])
        part_error(pt, LF_ERR_INVALID, "missing X-LF-Key-ID");
    else if (h->payload_type == 1 && !pt->seen[H_NONCE])
        part_error(pt, LF_ERR_INVALID, "missing X-LF-Nonce");
}

/* ------------------------------------------------------------------ the state machine */

/* Handles a delimiter found at pend[at] (kind D_INNER or D_CLOSE) in any state. */
static lf_err on_delimiter(lf_mp_parser *p, enum delim_kind kind, lf_error *err)
{
    if (p->state == S_HEADERS)
        part_error(current(p), LF_ERR_INVALID, "delimiter inside the header block");
    if (p->state == S_HEADERS || p->state == S_BODY)
        current(p)->ended_by_close = kind == D_CLOSE;
    if (kind == D_CLOSE) {
        p->state = S_EPILOGUE;
        return LF_OK;
    }
    return start_part(p, err);
}

static lf_err delim_too_long(lf_mp_parser *p, lf_error *err)
{
    return fail(p, err, LF_ERR_TOO_LARGE, "multipart: delimiter line longer than %zu bytes",
                p->limits.max_header_line);
}

/* One step over pend[*pos..n). Returns false when more input is needed. */
static bool step(lf_mp_parser *p, size_t *pos, lf_err *rc, lf_error *err)
{
    uint8_t *s = p->pend.data + *pos;
    size_t n = p->pend.len - *pos, at = 0, line_len = 0;
    enum delim_kind k;
    switch (p->state) {
    case S_EPILOGUE:
        *pos += n;
        return false;
    case S_PREAMBLE:
    case S_BODY:
        k = find_delim(p, s, n, &at, &line_len);
        if (p->state == S_BODY)
            body_commit(p, s, at);
        *pos += at;
        if (k == D_TOO_LONG) {
            *rc = delim_too_long(p, err);
            return false;
        }
        if (k == D_NONE || k == D_MORE)
            return false;
        *pos += line_len;
        *rc = on_delimiter(p, k, err);
        return *rc == LF_OK;
    case S_HEADERS: {
        const uint8_t *cr = find_bytes(s, n, "\r\n", 2);
        if (p->skipping_line) {
            if (cr == NULL) {
                /* keep a final '\r' that may pair with the next chunk's '\n' */
                *pos += n > 0 && s[n - 1] == '\r' ? n - 1 : n;
                return false;
            }
            *pos += (size_t)(cr - s) + 2;
            p->skipping_line = false;
            return true;
        }
        if (cr == NULL) {
            if (n > p->limits.max_header_line + 1) {
                part_error(current(p), LF_ERR_TOO_LARGE, "header line longer than %zu bytes",
                           p->limits.max_header_line);
                p->skipping_line = true;
                return true;
            }
            return false;
        }
        size_t len = (size_t)(cr - s);
        if (len > p->limits.max_header_line) {
            part_error(current(p), LF_ERR_TOO_LARGE, "header line longer than %zu bytes",
                       p->limits.max_header_line);
            *pos += len + 2;
            return true;
        }
        if (len == 0) {
            *pos += 2;
            headers_done(current(p));
            p->state = S_BODY;
            return true;
        }
        /* a delimiter where a header was expected: the part had no blank line */
        if (len >= p->dlen && memcmp(s, p->delim, p->dlen) == 0) {
            k = classify(p, s, len + 2, &line_len);
            if (k == D_INNER || k == D_CLOSE) {
                *pos += k == D_INNER ? line_len : len + 2;
                *rc = on_delimiter(p, k, err);
                return *rc == LF_OK;
            }
        }
        header_line(p, (const char *)s, len);
        *pos += len + 2;
        return true;
    }
    }
    return false;
}

lf_err lf_mp_parser_feed(lf_mp_parser *p, const void *data, size_t len, lf_error *err)
{
    if (p->failed != LF_OK)
        return lf_error_set(err, p->failed, "%s", p->failed_msg);
    if (p->finished)
        return fail(p, err, LF_ERR_INVALID, "multipart: feed after finish");
    if (len > p->limits.max_request || p->total > p->limits.max_request - len)
        return fail(p, err, LF_ERR_TOO_LARGE, "multipart: request body exceeds %zu bytes",
                    p->limits.max_request);
    p->total += len;
    if (p->state == S_EPILOGUE)
        return LF_OK; /* the epilogue is ignored without being stored */
    if (lf_buf_append(&p->pend, data, len) != LF_OK)
        return fail(p, err, LF_ERR_NOMEM, "multipart: out of memory");
    size_t pos = 0;
    lf_err rc = LF_OK;
    while (pos < p->pend.len && step(p, &pos, &rc, err))
        ;
    if (rc != LF_OK)
        return rc;
    memmove(p->pend.data, p->pend.data + pos, p->pend.len - pos);
    p->pend.len -= pos;
    return LF_OK;
}

static void finish_part(lf_mp_parser *p, part *pt)
{
    bool strip = pt->ended_by_close ? crlf_before_end(pt) : p->form == LF_MP_STANDARD;
    size_t len = pt->raw_len - (strip ? 2 : 0);
    const lf_v3_headers *h = &pt->pub.headers;
    if (len > p->limits.max_part_body)
        part_error(pt, LF_ERR_TOO_LARGE, "body of %zu bytes exceeds %zu", len,
                   p->limits.max_part_body);
    else if (len == 0)
        part_error(pt, LF_ERR_INVALID, "empty body");
    else if (h->payload_type == 1 && len < 16)
        part_error(pt, LF_ERR_TRUNCATED, "body of %zu bytes is shorter than the GCM tag", len);
    if (pt->pub.error.code != LF_OK) {
        pt->pub.body = NULL;
        pt->pub.body_len = 0;
        return;
    }
    pt->pub.body = pt->body.data;
    pt->pub.body_len = len;
}

lf_err lf_mp_parser_finish(lf_mp_parser *p, lf_error *err)
{
    if (p->failed != LF_OK)
        return lf_error_set(err, p->failed, "%s", p->failed_msg);
    if (p->finished)
        return LF_OK;
    if (p->state != S_EPILOGUE)
        return fail(p, err, LF_ERR_TRUNCATED,
                    p->n_parts == 0 ? "multipart: no delimiter in the body"
                                    : "multipart: body ends without the close delimiter");
    if (p->n_parts == 0)
        return fail(p, err, LF_ERR_INVALID, "multipart: request has no parts");
    /* §2.2: the form is decided once for the request, never per part */
    p->form = p->js_agent ? LF_MP_TYPESCRIPT : LF_MP_STANDARD;
    for (size_t i = 0; i < p->n_parts; i++)
        if (!p->parts[i].ended_by_close && !crlf_before_end(&p->parts[i]))
            p->form = LF_MP_TYPESCRIPT;
    for (size_t i = 0; i < p->n_parts; i++)
        finish_part(p, &p->parts[i]);
    lf_buf_free(&p->pend);
    p->finished = true;
    return LF_OK;
}

lf_mp_form lf_mp_parser_form(const lf_mp_parser *p)
{
    return p->form;
}

size_t lf_mp_parser_count(const lf_mp_parser *p)
{
    return p->finished ? p->n_parts : 0;
}

const lf_mp_part *lf_mp_parser_part(const lf_mp_parser *p, size_t i)
{
    return p->finished && i < p->n_parts ? &p->parts[i].pub : NULL;
}

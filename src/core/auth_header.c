/*
 * auth_header.c — strict parser of the Authorization header value (include/logflux/auth.h has
 * the grammar; docs/PROTOCOL.md §3.6 and §4 the meaning).
 *
 * How it works: one left-to-right pass over exactly `len` bytes, no allocation, no copying of
 * anything until it has been validated. The scheme is matched case-insensitively; a Bearer
 * token is checked character by character; LF-HMAC-SHA256 parameters are read as name=value
 * items separated by commas, each value is validated by its own rule and recorded once in a
 * bitmask so a repeat or an absence is caught. Because every check is against `len`, an
 * embedded NUL is just another invalid character, never an early end.
 *
 * Messages give offsets and parameter names from our own table, never the bytes of the input:
 * a bearer token is a secret, and reflecting attacker-chosen bytes into logs is a bad habit.
 */
#include "logflux/auth.h"

#include <string.h>

#include "logflux/buf.h"

/* No valid value comes close (Bearer: 7 + 512; HMAC: about 200), but spaces are unbounded. */
#define AUTH_HEADER_MAX 1024

enum hmac_param {
    PARAM_CREDENTIAL,
    PARAM_TIMESTAMP,
    PARAM_NONCE,
    PARAM_SIGNATURE,
    PARAM_COUNT,
};

static const char *const param_names[PARAM_COUNT] = {
    [PARAM_CREDENTIAL] = "Credential",
    [PARAM_TIMESTAMP] = "Timestamp",
    [PARAM_NONCE] = "Nonce",
    [PARAM_SIGNATURE] = "Signature",
};

static char ascii_lower(char c)
{
    return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

/* Case-insensitive equality of s[0..len) with the NUL-terminated ASCII `lit`. */
static bool equals_nocase(const char *s, size_t len, const char *lit)
{
    if (strlen(lit) != len)
        return false;
    for (size_t i = 0; i < len; i++)
        if (ascii_lower(s[i]) != ascii_lower(lit[i]))
            return false;
    return true;
}

static bool is_ows(char c)
{
    return c == ' ' || c == '\t';
}

static lf_err parse_bearer(const char *v, size_t len, lf_auth_header *out, lf_error *err)
{
    if (len == 0)
        return lf_error_set(err, LF_ERR_INVALID, "authorization: Bearer without a token");
    if (len > LF_AUTH_BEARER_MAX)
        return lf_error_set(err, LF_ERR_INVALID,
                            "authorization: bearer token of %zu characters exceeds %d", len,
                            LF_AUTH_BEARER_MAX);
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)v[i];
        if (c < 0x21 || c > 0x7e)
            return lf_error_set(err, LF_ERR_INVALID,
                                "authorization: bearer token has an invalid character at "
                                "position %zu",
                                i);
    }
    memcpy(out->bearer, v, len);
    out->bearer[len] = '\0';
    out->scheme = LF_AUTH_BEARER;
    return LF_OK;
}

static lf_err parse_credential(const char *v, size_t len, lf_auth_hmac *h, lf_error *err)
{
    lf_error inner = {0};
    if (len > LF_AUTH_CREDENTIAL_MAX ||
        lf_credential_id_parse(v, len, &h->credential_id, &inner) != LF_OK)
        return lf_error_set(err, LF_ERR_INVALID, "authorization: Credential: %s",
                            inner.message[0] ? inner.message : "too long");
    memcpy(h->credential, h->credential_id.text, strlen(h->credential_id.text) + 1);
    return LF_OK;
}

/* Canonical decimal: no sign, no leading zero (so the value re-prints to the signed text). */
static lf_err parse_timestamp(const char *v, size_t len, lf_auth_hmac *h, lf_error *err)
{
    if (len == 0 || len > 12 || (len > 1 && v[0] == '0'))
        return lf_error_set(err, LF_ERR_INVALID,
                            "authorization: Timestamp must be 1..12 decimal digits without "
                            "leading zeros");
    int64_t t = 0;
    for (size_t i = 0; i < len; i++) {
        if (v[i] < '0' || v[i] > '9')
            return lf_error_set(err, LF_ERR_INVALID,
                                "authorization: Timestamp has a non-digit at position %zu", i);
        t = t * 10 + (v[i] - '0'); /* at most 12 digits: no overflow */
    }
    if (t > LF_AUTH_TIMESTAMP_MAX)
        return lf_error_set(err, LF_ERR_INVALID, "authorization: Timestamp is after the year 9999");
    h->timestamp = t;
    return LF_OK;
}

/* 22 base64url characters = 132 bits for 128: the last character's low 4 bits must be zero. */
static lf_err parse_nonce(const char *v, size_t len, lf_auth_hmac *h, lf_error *err)
{
    if (len != LF_AUTH_NONCE_LEN)
        return lf_error_set(err, LF_ERR_INVALID,
                            "authorization: Nonce must be %d characters, got %zu",
                            LF_AUTH_NONCE_LEN, len);
    uint32_t acc = 0;
    int bits = 0;
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        int x = lf_base64_value(v[i], true);
        if (x < 0)
            return lf_error_set(err, LF_ERR_INVALID,
                                "authorization: Nonce has a character outside URL-safe base64 "
                                "at position %zu",
                                i);
        acc = (acc << 6 | (uint32_t)x) & 0xffffff;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            h->nonce_bytes[o++] = (uint8_t)(acc >> bits);
        }
    }
    if (o != LF_AUTH_NONCE_BYTES || (acc & ((1u << bits) - 1)) != 0)
        return lf_error_set(err, LF_ERR_INVALID,
                            "authorization: Nonce is not canonical base64url of 16 bytes");
    memcpy(h->nonce, v, len);
    h->nonce[len] = '\0';
    return LF_OK;
}

static lf_err parse_signature(const char *v, size_t len, lf_auth_hmac *h, lf_error *err)
{
    if (len != 2 * sizeof h->signature)
        return lf_error_set(err, LF_ERR_INVALID,
                            "authorization: Signature must be %zu hex digits, got %zu",
                            2 * sizeof h->signature, len);
    for (size_t i = 0; i < len; i++)
        if (!((v[i] >= '0' && v[i] <= '9') || (v[i] >= 'a' && v[i] <= 'f')))
            return lf_error_set(err, LF_ERR_INVALID,
                                "authorization: Signature has a character that is not a "
                                "lowercase hex digit at position %zu",
                                i);
    return lf_hex_decode(v, len, h->signature, sizeof h->signature, err);
}

static lf_err parse_param_value(enum hmac_param p, const char *v, size_t len, lf_auth_hmac *h,
                                lf_error *err)
{
    switch (p) {
    case PARAM_CREDENTIAL:
        return parse_credential(v, len, h, err);
    case PARAM_TIMESTAMP:
        return parse_timestamp(v, len, h, err);
    case PARAM_NONCE:
        return parse_nonce(v, len, h, err);
    case PARAM_SIGNATURE:
        return parse_signature(v, len, h, err);
    case PARAM_COUNT:
        break;
    }
    return lf_error_set(err, LF_ERR_INVALID, "authorization: unknown parameter");
}

static lf_err parse_hmac(const char *v, size_t len, lf_auth_header *out, lf_error *err)
{
    unsigned seen = 0;
    size_t pos = 0;
    if (len == 0)
        return lf_error_set(err, LF_ERR_INVALID,
                            "authorization: LF-HMAC-SHA256 without "
                            "parameters");
    for (;;) {
        size_t name_start = pos;
        while (pos < len && ((v[pos] >= 'A' && v[pos] <= 'Z') || (v[pos] >= 'a' && v[pos] <= 'z')))
            pos++;
        if (pos == name_start || pos == len || v[pos] != '=')
            return lf_error_set(err, LF_ERR_INVALID,
                                "authorization: expected name=value at position %zu", name_start);
        enum hmac_param p = PARAM_COUNT;
        for (int k = 0; k < PARAM_COUNT; k++)
            if (equals_nocase(v + name_start, pos - name_start, param_names[k]))
                p = (enum hmac_param)k;
        if (p == PARAM_COUNT)
            return lf_error_set(err, LF_ERR_INVALID,
                                "authorization: unknown parameter at position %zu", name_start);
        if (seen & (1u << p))
            return lf_error_set(err, LF_ERR_INVALID, "authorization: parameter %s given twice",
                                param_names[p]);
        seen |= 1u << p;
        size_t value_start = ++pos;
        while (pos < len && v[pos] != ',' && !is_ows(v[pos]))
            pos++;
        lf_err rc = parse_param_value(p, v + value_start, pos - value_start, &out->hmac, err);
        if (rc != LF_OK)
            return rc;
        while (pos < len && is_ows(v[pos]))
            pos++;
        if (pos == len)
            break;
        if (v[pos] != ',')
            return lf_error_set(err, LF_ERR_INVALID,
                                "authorization: expected ',' after %s at position %zu",
                                param_names[p], pos);
        pos++;
        while (pos < len && is_ows(v[pos]))
            pos++;
        if (pos == len)
            return lf_error_set(err, LF_ERR_INVALID, "authorization: trailing ','");
    }
    for (int k = 0; k < PARAM_COUNT; k++)
        if (!(seen & (1u << k)))
            return lf_error_set(err, LF_ERR_INVALID, "authorization: parameter %s missing",
                                param_names[k]);
    out->scheme = LF_AUTH_HMAC;
    return LF_OK;
}

lf_err lf_auth_header_parse(const char *value, size_t len, lf_auth_header *out, lf_error *err)
{
    memset(out, 0, sizeof *out);
    if (value == NULL)
        return lf_error_set(err, LF_ERR_INVALID, "authorization: no header value");
    if (len > AUTH_HEADER_MAX)
        return lf_error_set(err, LF_ERR_INVALID,
                            "authorization: header value of %zu bytes exceeds %d", len,
                            AUTH_HEADER_MAX);
    while (len > 0 && is_ows(value[0])) {
        value++;
        len--;
    }
    while (len > 0 && is_ows(value[len - 1]))
        len--;
    size_t scheme_len = 0;
    while (scheme_len < len && value[scheme_len] != ' ')
        scheme_len++;
    bool bearer = equals_nocase(value, scheme_len, "Bearer");
    bool hmac = equals_nocase(value, scheme_len, "LF-HMAC-SHA256");
    if (!bearer && !hmac)
        return lf_error_set(err, LF_ERR_INVALID,
                            len == 0 ? "authorization: empty header value"
                                     : "authorization: unknown scheme (expected Bearer or "
                                       "LF-HMAC-SHA256)");
    size_t pos = scheme_len;
    if (pos == len)
        return lf_error_set(err, LF_ERR_INVALID, "authorization: %s without credentials",
                            bearer ? "Bearer" : "LF-HMAC-SHA256");
    while (pos < len && value[pos] == ' ')
        pos++;
    lf_err rc = bearer ? parse_bearer(value + pos, len - pos, out, err)
                       : parse_hmac(value + pos, len - pos, out, err);
    if (rc != LF_OK)
        lf_wipe(out, sizeof *out);
    return rc;
}

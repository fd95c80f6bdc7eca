/*
 * encoding.c — hex and base64 (RFC 4648), strict on decode: untrusted text (headers, JSON
 * fields) is decoded here, so non-canonical forms are rejected rather than guessed at.
 */
#include "logflux/buf.h"

#include <pthread.h>
#include <string.h>

static const char hex_digits[] = "0123456789abcdef";
static const char b64_std[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static const char b64_url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

void lf_hex_encode(const uint8_t *in, size_t len, char *out)
{
    for (size_t i = 0; i < len; i++) {
        out[2 * i] = hex_digits[in[i] >> 4];
        out[2 * i + 1] = hex_digits[in[i] & 15];
    }
    out[2 * len] = '\0';
}

static int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

lf_err lf_hex_decode(const char *in, size_t in_len, uint8_t *out, size_t out_len, lf_error *err)
{
    if (in_len != 2 * out_len)
        return lf_error_set(err, LF_ERR_INVALID, "hex: expected %zu digits, got %zu", 2 * out_len,
                            in_len);
    for (size_t i = 0; i < out_len; i++) {
        int hi = hex_value(in[2 * i]), lo = hex_value(in[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return lf_error_set(err, LF_ERR_INVALID, "hex: invalid digit at offset %zu", 2 * i);
        out[i] = (uint8_t)(hi << 4 | lo);
    }
    return LF_OK;
}

size_t lf_base64_encoded_len(size_t len, bool url)
{
    if (!url)
        return (len + 2) / 3 * 4;
    return len / 3 * 4 + (len % 3 == 0 ? 0 : len % 3 + 1);
}

size_t lf_base64_encode(const uint8_t *in, size_t len, char *out, bool url)
{
    const char *alphabet = url ? b64_url : b64_std;
    size_t o = 0, i = 0;
    for (; i + 3 <= len; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
        out[o++] = alphabet[v >> 18];
        out[o++] = alphabet[(v >> 12) & 63];
        out[o++] = alphabet[(v >> 6) & 63];
        out[o++] = alphabet[v & 63];
    }
    size_t rest = len - i;
    if (rest > 0) {
        uint32_t v = (uint32_t)in[i] << 16 | (rest == 2 ? (uint32_t)in[i + 1] << 8 : 0);
        out[o++] = alphabet[v >> 18];
        out[o++] = alphabet[(v >> 12) & 63];
        if (rest == 2)
            out[o++] = alphabet[(v >> 6) & 63];
        if (!url) {
            if (rest == 1)
                out[o++] = '=';
            out[o++] = '=';
        }
    }
    out[o] = '\0';
    return o;
}

int lf_base64_value(char c, bool url)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == (url ? '-' : '+'))
        return 62;
    if (c == (url ? '_' : '/'))
        return 63;
    return -1;
}

/* Character → 6-bit value, -1 for characters outside the alphabet (built from
 * lf_base64_value so the two can never disagree). */
static int8_t b64_table_std[256], b64_table_url[256];
static pthread_once_t b64_tables_once = PTHREAD_ONCE_INIT;

static void b64_tables_init(void)
{
    for (int c = 0; c < 256; c++) {
        b64_table_std[c] = (int8_t)lf_base64_value((char)c, false);
        b64_table_url[c] = (int8_t)lf_base64_value((char)c, true);
    }
}

lf_err lf_base64_decode(const char *in, size_t in_len, lf_buf *out, bool url, lf_error *err)
{
    size_t start = out->len, pad = 0;
    while (in_len > 0 && pad < 2 && in[in_len - 1] == '=') {
        in_len--;
        pad++;
    }
    if (!url && (in_len + pad) % 4 != 0)
        return lf_error_set(err, LF_ERR_INVALID, "base64: length is not a multiple of 4");
    if (in_len % 4 == 1 || (pad > 0 && (in_len + pad) % 4 != 0))
        return lf_error_set(err, LF_ERR_INVALID, "base64: invalid length");
    if (lf_buf_reserve(out, in_len / 4 * 3 + 3) != LF_OK)
        return lf_error_set(err, LF_ERR_NOMEM, "base64: out of memory");
    pthread_once(&b64_tables_once, b64_tables_init);
    /* Whole groups of four characters first, through a table: bulk ciphertext (query rows,
     * cached rows) decodes at memory speed instead of a bit at a time. */
    const int8_t *table = url ? b64_table_url : b64_table_std;
    size_t i = 0;
    uint8_t *dst = out->data + out->len;
    for (; i + 4 <= in_len; i += 4) {
        int a = table[(uint8_t)in[i]], b = table[(uint8_t)in[i + 1]];
        int c = table[(uint8_t)in[i + 2]], d = table[(uint8_t)in[i + 3]];
        if ((a | b | c | d) < 0)
            break; /* the careful loop below names the offending character */
        uint32_t v = (uint32_t)a << 18 | (uint32_t)b << 12 | (uint32_t)c << 6 | (uint32_t)d;
        dst[0] = (uint8_t)(v >> 16);
        dst[1] = (uint8_t)(v >> 8);
        dst[2] = (uint8_t)v;
        dst += 3;
    }
    out->len = (size_t)(dst - out->data);
    uint32_t acc = 0;
    int bits = 0;
    for (; i < in_len; i++) {
        int v = lf_base64_value(in[i], url);
        if (v < 0) {
            out->len = start;
            return lf_error_set(err, LF_ERR_INVALID, "base64: invalid character at offset %zu", i);
        }
        acc = acc << 6 | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out->data[out->len++] = (uint8_t)(acc >> bits);
        }
    }
    /* Leftover bits must be zero, or two encodings would decode to the same bytes. */
    if ((acc & ((1u << bits) - 1)) != 0) {
        out->len = start;
        return lf_error_set(err, LF_ERR_INVALID, "base64: non-canonical trailing bits");
    }
    return LF_OK;
}

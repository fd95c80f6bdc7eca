/*
 * buf.c — growable byte buffer, big-endian helpers, wiping, constant-time compare, randomness.
 */
#include "logflux/buf.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* No single buffer may exceed this; protects size arithmetic from overflow. */
#define LF_BUF_MAX ((size_t)1 << 40)

lf_err lf_buf_reserve(lf_buf *b, size_t extra)
{
    if (extra > LF_BUF_MAX || b->len > LF_BUF_MAX - extra)
        return LF_ERR_TOO_LARGE;
    size_t need = b->len + extra;
    if (need <= b->cap)
        return LF_OK;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < need)
        cap *= 2;
    uint8_t *p = realloc(b->data, cap);
    if (p == NULL)
        return LF_ERR_NOMEM;
    b->data = p;
    b->cap = cap;
    return LF_OK;
}

lf_err lf_buf_append(lf_buf *b, const void *data, size_t len)
{
    if (len == 0)
        return LF_OK;
    lf_err rc = lf_buf_reserve(b, len);
    if (rc != LF_OK)
        return rc;
    memcpy(b->data + b->len, data, len);
    b->len += len;
    return LF_OK;
}

lf_err lf_buf_append_str(lf_buf *b, const char *s)
{
    return lf_buf_append(b, s, strlen(s));
}

lf_err lf_buf_append_u8(lf_buf *b, uint8_t v)
{
    return lf_buf_append(b, &v, 1);
}

lf_err lf_buf_append_be16(lf_buf *b, uint16_t v)
{
    uint8_t t[2];
    lf_store_be16(t, v);
    return lf_buf_append(b, t, sizeof t);
}

lf_err lf_buf_append_be32(lf_buf *b, uint32_t v)
{
    uint8_t t[4];
    lf_store_be32(t, v);
    return lf_buf_append(b, t, sizeof t);
}

lf_err lf_buf_append_be64(lf_buf *b, uint64_t v)
{
    uint8_t t[8];
    lf_store_be64(t, v);
    return lf_buf_append(b, t, sizeof t);
}

lf_err lf_buf_printf(lf_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return LF_ERR_INVALID;
    lf_err rc = lf_buf_reserve(b, (size_t)n + 1);
    if (rc != LF_OK)
        return rc;
    va_start(ap, fmt);
    vsnprintf((char *)b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return LF_OK;
}

lf_err lf_buf_terminate(lf_buf *b)
{
    lf_err rc = lf_buf_reserve(b, 1);
    if (rc != LF_OK)
        return rc;
    b->data[b->len] = '\0';
    return LF_OK;
}

void lf_buf_reset(lf_buf *b)
{
    b->len = 0;
}

void lf_buf_free(lf_buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

void lf_buf_free_secret(lf_buf *b)
{
    if (b->data != NULL)
        lf_wipe(b->data, b->cap);
    lf_buf_free(b);
}

uint16_t lf_load_be16(const uint8_t *p)
{
    return (uint16_t)((unsigned)p[0] << 8 | p[1]);
}

uint32_t lf_load_be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

uint64_t lf_load_be64(const uint8_t *p)
{
    return (uint64_t)lf_load_be32(p) << 32 | lf_load_be32(p + 4);
}

void lf_store_be16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

void lf_store_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

void lf_store_be64(uint8_t *p, uint64_t v)
{
    lf_store_be32(p, (uint32_t)(v >> 32));
    lf_store_be32(p + 4, (uint32_t)v);
}

void lf_wipe(void *p, size_t len)
{
    if (p != NULL && len > 0)
        OPENSSL_cleanse(p, len);
}

bool lf_ct_equal(const void *a, const void *b, size_t len)
{
    return CRYPTO_memcmp(a, b, len) == 0;
}

lf_err lf_random(void *out, size_t len, lf_error *err)
{
    if (len > INT32_MAX)
        return lf_error_set(err, LF_ERR_TOO_LARGE, "random: %zu bytes requested", len);
    if (RAND_bytes(out, (int)len) != 1)
        return lf_error_set(err, LF_ERR_CRYPTO, "random: RAND_bytes failed");
    return LF_OK;
}

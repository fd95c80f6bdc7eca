/*
 * buf.h — growable byte buffer and small encoding helpers shared by every module.
 *
 * An lf_buf owns its memory. Initialise with LF_BUF_INIT (or zero), free with lf_buf_free.
 * lf_buf_free_secret wipes before freeing and must be used for plaintext and key material.
 */
#ifndef LOGFLUX_BUF_H
#define LOGFLUX_BUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "logflux/error.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct lf_buf {
    uint8_t *data;
    size_t len;
    size_t cap;
} lf_buf;

#define LF_BUF_INIT                                                                                \
    {                                                                                              \
        NULL, 0, 0                                                                                 \
    }

/* Ensure room for `extra` more bytes. */
lf_err lf_buf_reserve(lf_buf *b, size_t extra);
lf_err lf_buf_append(lf_buf *b, const void *data, size_t len);
lf_err lf_buf_append_str(lf_buf *b, const char *s);
lf_err lf_buf_append_u8(lf_buf *b, uint8_t v);
lf_err lf_buf_append_be16(lf_buf *b, uint16_t v);
lf_err lf_buf_append_be32(lf_buf *b, uint32_t v);
lf_err lf_buf_append_be64(lf_buf *b, uint64_t v);
lf_err lf_buf_printf(lf_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Append a NUL without counting it in len, so data can be used as a C string. */
lf_err lf_buf_terminate(lf_buf *b);
void lf_buf_reset(lf_buf *b);
void lf_buf_free(lf_buf *b);
/* Wipe the whole allocation, then free. For plaintext and secrets. */
void lf_buf_free_secret(lf_buf *b);

/* Big-endian loads/stores. */
uint16_t lf_load_be16(const uint8_t *p);
uint32_t lf_load_be32(const uint8_t *p);
uint64_t lf_load_be64(const uint8_t *p);
void lf_store_be16(uint8_t *p, uint16_t v);
void lf_store_be32(uint8_t *p, uint32_t v);
void lf_store_be64(uint8_t *p, uint64_t v);

/* Wipe memory in a way the compiler may not elide. */
void lf_wipe(void *p, size_t len);
/* Constant-time equality of two byte strings of the same length: true when equal. */
bool lf_ct_equal(const void *a, const void *b, size_t len);
/* Cryptographically secure random bytes (OpenSSL RAND_bytes). */
lf_err lf_random(void *out, size_t len, lf_error *err);

/* Lowercase hex. out must hold 2*len+1 bytes; it is NUL-terminated. */
void lf_hex_encode(const uint8_t *in, size_t len, char *out);
/* Decode exactly out_len bytes from hex text of length 2*out_len (either case). */
lf_err lf_hex_decode(const char *in, size_t in_len, uint8_t *out, size_t out_len, lf_error *err);

/* Base64 (RFC 4648). `url` selects the URL-safe alphabet; url encodings have no padding. */
size_t lf_base64_encoded_len(size_t len, bool url);
/* out must hold lf_base64_encoded_len()+1 bytes; NUL-terminated. Returns the length written. */
size_t lf_base64_encode(const uint8_t *in, size_t len, char *out, bool url);
/* The 6-bit value of one base64 character of the chosen alphabet, or -1 if it is not one. */
int lf_base64_value(char c, bool url);
/* Strict decode into b (appended): rejects bad characters, bad padding, non-canonical bits.
 * Standard alphabet requires padding; URL alphabet accepts it absent or present. */
lf_err lf_base64_decode(const char *in, size_t in_len, lf_buf *out, bool url, lf_error *err);

#ifdef __cplusplus
}
#endif
#endif

/*
 * compress.h — gzip (RFC 1952) for the v3 compatibility format.
 *
 * v3 entries are gzip'd JSON. Compression happens where logs are born (hot path: a reusable
 * lf_gzip context avoids re-allocating zlib's ~256 KiB deflate state per entry);
 * decompression happens on untrusted input, so lf_gunzip is bounded: it refuses to produce
 * more than the caller's limit (zip bombs), and distinguishes a truncated stream from
 * trailing garbage.
 */
#ifndef LOGFLUX_COMPRESS_H
#define LOGFLUX_COMPRESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "logflux/buf.h"
#include "logflux/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* zlib's default level (6). */
#define LF_GZIP_LEVEL_DEFAULT (-1)

/* True if data starts with the gzip magic bytes 1f 8b. */
bool lf_is_gzip(const void *data, size_t len);

/* One-shot gzip of in[0..len) appended to out. level: LF_GZIP_LEVEL_DEFAULT or 1..9.
 * The header carries no name and mtime 0, so output is deterministic for a zlib version. */
lf_err lf_gzip_compress(const void *in, size_t len, int level, lf_buf *out, lf_error *err);

/* Reusable compressor for one thread (not thread-safe). Free with lf_gzip_free (NULL ok). */
typedef struct lf_gzip lf_gzip;
lf_err lf_gzip_new(int level, lf_gzip **out, lf_error *err);
lf_err lf_gzip_ctx_compress(lf_gzip *ctx, const void *in, size_t len, lf_buf *out, lf_error *err);
void lf_gzip_free(lf_gzip *ctx);

/* Inflate a gzip stream (one member or several concatenated members, as RFC 1952 allows),
 * appending at most max_out bytes to out.
 *   LF_ERR_TOO_LARGE  the output would exceed max_out (nothing more is produced)
 *   LF_ERR_TRUNCATED  the input ends inside a member (or is empty)
 *   LF_ERR_INVALID    bad header, corrupt data, CRC/length mismatch, or bytes after the last
 *                     member that are not another gzip member
 * On failure out->len is restored to its value on entry (bytes written are wiped, since they
 * may be decrypted plaintext). */
lf_err lf_gunzip(const void *in, size_t len, size_t max_out, lf_buf *out, lf_error *err);

#ifdef __cplusplus
}
#endif
#endif

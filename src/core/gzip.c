/*
 * gzip.c — gzip compress and bounded decompress on zlib (windowBits 31 = gzip wrapper).
 *
 * Decompression is the dangerous direction: the input comes from the network or from a
 * decrypted entry of unknown origin. lf_gunzip inflates in steps into the caller's buffer,
 * growing it geometrically but never past max_out, and classifies every way a stream can be
 * wrong (truncated, corrupt, oversized, trailing bytes) into a distinct lf_err.
 */
#include "logflux/compress.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

struct lf_gzip {
    z_stream zs;
};

bool lf_is_gzip(const void *data, size_t len)
{
    const uint8_t *p = data;
    return len >= 2 && p[0] == 0x1f && p[1] == 0x8b;
}

static lf_err check_level(int level, lf_error *err)
{
    if (level != LF_GZIP_LEVEL_DEFAULT && (level < 1 || level > 9))
        return lf_error_set(err, LF_ERR_INVALID, "gzip: level %d is not -1 or 1..9", level);
    return LF_OK;
}

lf_err lf_gzip_new(int level, lf_gzip **out, lf_error *err)
{
    lf_err rc = check_level(level, err);
    if (rc != LF_OK)
        return rc;
    lf_gzip *ctx = calloc(1, sizeof *ctx);
    if (ctx == NULL)
        return lf_error_set(err, LF_ERR_NOMEM, "gzip: out of memory");
    /* memLevel 8 and the default strategy: what gzip(1) and Node's zlib use */
    if (deflateInit2(&ctx->zs, level, Z_DEFLATED, 31, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
        free(ctx);
        return lf_error_set(err, LF_ERR_NOMEM, "gzip: deflateInit2 failed");
    }
    *out = ctx;
    return LF_OK;
}

void lf_gzip_free(lf_gzip *ctx)
{
    if (ctx == NULL)
        return;
    deflateEnd(&ctx->zs);
    free(ctx);
}

lf_err lf_gzip_ctx_compress(lf_gzip *ctx, const void *in, size_t len, lf_buf *out, lf_error *err)
{
    if (len > UINT_MAX / 2)
        return lf_error_set(err, LF_ERR_TOO_LARGE, "gzip: input of %zu bytes is too large", len);
    if (deflateReset(&ctx->zs) != Z_OK)
        return lf_error_set(err, LF_ERR_INVALID, "gzip: deflateReset failed");
    /* deflateBound covers the zlib wrapper; gzip adds 18 bytes of header/trailer at most
     * beyond a zlib stream's 6, so a small margin makes one pass always sufficient. */
    size_t bound = deflateBound(&ctx->zs, (uLong)len) + 32;
    if (lf_buf_reserve(out, bound) != LF_OK)
        return lf_error_set(err, LF_ERR_NOMEM, "gzip: out of memory");
    ctx->zs.next_in = (Bytef *)(uintptr_t)in;
    ctx->zs.avail_in = (uInt)len;
    ctx->zs.next_out = out->data + out->len;
    ctx->zs.avail_out = (uInt)bound;
    int zrc = deflate(&ctx->zs, Z_FINISH);
    if (zrc != Z_STREAM_END)
        return lf_error_set(err, LF_ERR_INVALID, "gzip: deflate failed (%d)", zrc);
    out->len += bound - ctx->zs.avail_out;
    return LF_OK;
}

lf_err lf_gzip_compress(const void *in, size_t len, int level, lf_buf *out, lf_error *err)
{
    lf_gzip *ctx = NULL;
    lf_err rc = lf_gzip_new(level, &ctx, err);
    if (rc != LF_OK)
        return rc;
    rc = lf_gzip_ctx_compress(ctx, in, len, out, err);
    lf_gzip_free(ctx);
    return rc;
}

static lf_err gunzip_fail(lf_buf *out, size_t start, z_stream *zs, lf_err code, lf_error *err,
                          const char *why)
{
    inflateEnd(zs);
    if (out->data != NULL && out->len > start)
        lf_wipe(out->data + start, out->len - start);
    out->len = start;
    return lf_error_set(err, code, "gunzip: %s", why);
}

lf_err lf_gunzip(const void *in, size_t len, size_t max_out, lf_buf *out, lf_error *err)
{
    const size_t start = out->len;
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    if (len == 0 || (len == 1 && ((const uint8_t *)in)[0] == 0x1f))
        return lf_error_set(err, LF_ERR_TRUNCATED, "gunzip: input ends inside the header");
    if (!lf_is_gzip(in, len))
        return lf_error_set(err, LF_ERR_INVALID, "gunzip: missing gzip magic");
    if (len > UINT_MAX)
        return lf_error_set(err, LF_ERR_TOO_LARGE, "gunzip: input of %zu bytes", len);
    if (max_out > ((size_t)1 << 40))
        max_out = (size_t)1 << 40; /* keeps max_out + 1 from wrapping */
    if (inflateInit2(&zs, 31) != Z_OK)
        return lf_error_set(err, LF_ERR_NOMEM, "gunzip: inflateInit2 failed");
    zs.next_in = (Bytef *)(uintptr_t)in;
    zs.avail_in = (uInt)len;
    size_t produced = 0;
    for (;;) {
        /* Never offer more room than max_out + 1 in total: one byte beyond the limit is
         * enough to tell an oversized stream from one that fits exactly. */
        size_t allowed = max_out + 1 - produced;
        if (out->cap == out->len) {
            size_t want = len < 1024 ? 4096 : len * 4;
            if (want > allowed)
                want = allowed;
            if (want > (1u << 30))
                want = 1u << 30;
            if (lf_buf_reserve(out, want) != LF_OK)
                return gunzip_fail(out, start, &zs, LF_ERR_NOMEM, err, "out of memory");
        }
        size_t room = out->cap - out->len;
        if (room > allowed)
            room = allowed;
        if (room > UINT_MAX)
            room = UINT_MAX;
        zs.next_out = out->data + out->len;
        zs.avail_out = (uInt)room;
        int zrc = inflate(&zs, Z_NO_FLUSH);
        size_t got = room - zs.avail_out;
        out->len += got;
        produced += got;
        if (produced > max_out)
            return gunzip_fail(out, start, &zs, LF_ERR_TOO_LARGE, err,
                               "output exceeds the size limit");
        if (zrc == Z_STREAM_END) {
            if (zs.avail_in == 0)
                break;
            /* Another member may follow (RFC 1952 §2.2); anything else is garbage. */
            if (!lf_is_gzip(zs.next_in, zs.avail_in))
                return gunzip_fail(out, start, &zs,
                                   zs.avail_in == 1 && zs.next_in[0] == 0x1f ? LF_ERR_TRUNCATED
                                                                             : LF_ERR_INVALID,
                                   err, "trailing bytes after the gzip stream");
            if (inflateReset(&zs) != Z_OK)
                return gunzip_fail(out, start, &zs, LF_ERR_INVALID, err, "inflateReset failed");
            continue;
        }
        if (zrc == Z_OK)
            continue;
        if (zrc == Z_BUF_ERROR && zs.avail_in == 0)
            return gunzip_fail(out, start, &zs, LF_ERR_TRUNCATED, err,
                               "stream ends before its trailer");
        if (zrc == Z_BUF_ERROR && got > 0)
            continue; /* output space exhausted; the loop grows it */
        if (zrc == Z_MEM_ERROR)
            return gunzip_fail(out, start, &zs, LF_ERR_NOMEM, err, "out of memory");
        return gunzip_fail(out, start, &zs, LF_ERR_INVALID, err, "corrupt gzip data");
    }
    inflateEnd(&zs);
    return LF_OK;
}

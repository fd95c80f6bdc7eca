/*
 * fuzz_gzip.c — the bounded gzip inflater on arbitrary bytes, plus a compress/inflate round
 * trip of the same bytes. On failure the output buffer must be back at its entry length; on
 * success it never exceeds the limit.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "logflux/compress.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const size_t limit = 256 * 1024;
    lf_buf out = LF_BUF_INIT;
    lf_buf_append(&out, "pre", 3);
    lf_err rc = lf_gunzip(data, size, limit, &out, NULL);
    if (rc != LF_OK && out.len != 3)
        abort();
    if (rc == LF_OK && out.len - 3 > limit)
        abort();
    lf_buf z = LF_BUF_INIT, back = LF_BUF_INIT;
    if (lf_gzip_compress(data, size, 1, &z, NULL) != LF_OK ||
        lf_gunzip(z.data, z.len, size, &back, NULL) != LF_OK || back.len != size ||
        (size > 0 && memcmp(back.data, data, size) != 0))
        abort();
    lf_buf_free(&out);
    lf_buf_free(&z);
    lf_buf_free(&back);
    return 0;
}

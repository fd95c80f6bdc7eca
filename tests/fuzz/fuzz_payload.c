/*
 * fuzz_payload.c — the schema 2.0 payload decoder on arbitrary JSON bytes.
 *
 * Byte 0 picks the expected entry type (0..7); the rest is the JSON. Whatever decodes must
 * re-encode, and the re-encoding must decode again and re-encode to the same bytes (the
 * encoder's output is a fixed point), or the fuzzer aborts.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "logflux/payload.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    int type = data[0] % 8;
    lf_payload *p = NULL;
    if (lf_payload_decode(data + 1, size - 1, type, 0, &p, NULL) != LF_OK)
        return 0;
    lf_buf a = LF_BUF_INIT, b = LF_BUF_INIT;
    if (lf_payload_encode(p, &a, NULL) != LF_OK)
        abort();
    lf_payload *q = NULL;
    if (lf_payload_decode(a.data, a.len, type, 0, &q, NULL) != LF_OK)
        abort();
    if (lf_payload_encode(q, &b, NULL) != LF_OK || a.len != b.len ||
        memcmp(a.data, b.data, a.len) != 0)
        abort();
    lf_payload_free(p);
    lf_payload_free(q);
    lf_buf_free(&a);
    lf_buf_free(&b);
    return 0;
}

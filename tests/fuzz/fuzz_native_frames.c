/*
 * fuzz_native_frames.c — the native v1 frame parser (src/core/native_frame.c) over arbitrary
 * request bodies: the server runs it on untrusted input, so it must never read out of bounds,
 * and every frame it accepts must round-trip: re-encoding the decoded header gives exactly the
 * header bytes received (the customer's tools rely on that to rebuild the AAD).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "logflux/native.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t count = 0;
    lf_error err;
    lf_err whole = lf_native_body_check(data, size, &count, &err);

    lf_native_reader r;
    lf_native_frame f;
    lf_native_reader_init(&r, data, size);
    lf_buf enc = LF_BUF_INIT;
    size_t frames = 0;
    lf_err rc;
    while ((rc = lf_native_reader_next(&r, &f, &err)) == LF_OK) {
        frames++;
        if (f.offset + f.header_len + f.hdr.body_len > size)
            abort();
        lf_buf_reset(&enc);
        if (lf_native_header_encode(&f.hdr, &enc, &err) != LF_OK)
            abort(); /* the parser accepted what the encoder refuses */
        if (enc.len != f.header_len || memcmp(enc.data, f.header, enc.len) != 0)
            abort(); /* not canonical */
        if (lf_native_header_len(&f.hdr) != f.header_len)
            abort();
        if (f.hdr.kind == LF_NATIVE_KEY) {
            const uint8_t *fp, *wrapped;
            size_t wl;
            if (lf_native_key_frame_parts(&f, &fp, &wrapped, &wl, NULL) != LF_OK ||
                wl < LF_NATIVE_WRAPPED_MIN || wl > LF_NATIVE_WRAPPED_MAX)
                abort();
        }
    }
    /* The iterator and the whole-body check agree. */
    if ((rc == LF_ERR_NOT_FOUND) != (whole == LF_OK))
        abort();
    if (whole == LF_OK && (count != frames || count == 0 || count > LF_NATIVE_FRAMES_MAX))
        abort();
    lf_buf_free(&enc);
    return 0;
}

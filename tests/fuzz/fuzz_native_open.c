/*
 * fuzz_native_open.c — the opening path of native v1 frames (src/seal/native_seal.c) with a
 * fixed key: it must never crash, whatever arrives, zstd flag included.
 *
 * First byte selects the mode:
 *   even: the rest is a request body; every frame is parsed and opened with the key of
 *         testdata/vectors/native-frames.json (so the seed corpus holds frames that open);
 *   odd:  the rest is an arbitrary *plaintext* (byte 1 = kind/flags, bytes 2..5 = count)
 *         that is sealed with that key and then opened — random ciphertext would almost never
 *         pass the tag, so this is how zstd inflation and block splitting get fuzzed.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "logflux/native.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint8_t session_key[32] = {0,  1,  2,  3,  4,  5,  6,  7,  8,  9,  10,
                                        11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21,
                                        22, 23, 24, 25, 26, 27, 28, 29, 30, 31};
static const uint8_t key_id[16] = {0xa0, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7,
                                   0xa8, 0xa9, 0xaa, 0xab, 0xac, 0xad, 0xae, 0xaf};

static lf_native_opener *opener;
static lf_aead *sealer;

static void check_opened(const lf_native_header *h, const lf_native_opened *o)
{
    if (h->kind == LF_NATIVE_CLOSE && o->count != 0)
        abort();
    if (h->kind != LF_NATIVE_CLOSE && o->count != h->count)
        abort();
    for (size_t i = 0; i < o->count; i++) {
        const lf_native_span *s = &o->entries[i];
        if (s->len == 0 || s->data < o->plaintext.data ||
            s->data + s->len > o->plaintext.data + o->plaintext.len)
            abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (opener == NULL) {
        uint8_t enc_key[32];
        if (lf_native_opener_new(session_key, key_id, &opener, NULL) != LF_OK ||
            lf_native_derive_keys(session_key, key_id, enc_key, NULL, NULL) != LF_OK ||
            lf_aead_new(enc_key, &sealer, NULL) != LF_OK)
            abort();
    }
    if (size < 1)
        return 0;
    lf_native_opened out = {0};
    lf_error err;
    if ((data[0] & 1) == 0) {
        lf_native_reader r;
        lf_native_frame f;
        lf_native_reader_init(&r, data + 1, size - 1);
        while (lf_native_reader_next(&r, &f, &err) == LF_OK) {
            if (lf_native_open(opener, &f, &out, &err) == LF_OK)
                check_opened(&f.hdr, &out);
            else if (out.count != 0 || out.plaintext.len != 0)
                abort(); /* nothing may be returned on failure */
        }
    } else if (size >= 6) {
        lf_native_header h;
        memset(&h, 0, sizeof h);
        h.kind = (data[1] & 3) == 0 ? LF_NATIVE_ENTRY : (data[1] & 3) == 3 ? 3 : data[1] & 3;
        h.entry_type = h.kind == LF_NATIVE_CLOSE ? 0 : 1;
        h.flags = h.kind != LF_NATIVE_CLOSE && (data[1] & 4) ? LF_NATIVE_FLAG_ZSTD : 0;
        memcpy(h.key_id, key_id, 16);
        h.count =
            (uint32_t)data[2] << 24 | (uint32_t)data[3] << 16 | (uint32_t)data[4] << 8 | data[5];
        if (h.kind == LF_NATIVE_ENTRY)
            h.count = 1;
        if (h.kind == LF_NATIVE_CLOSE)
            h.count %= LF_NATIVE_KEY_FRAMES_MAX;
        h.sequence = h.kind == LF_NATIVE_CLOSE ? h.count : 0;
        strcpy(h.tenant, "t");
        strcpy(h.app, "a");
        lf_buf frame = LF_BUF_INIT;
        if (lf_native_seal_raw(sealer, &h, data + 6, size - 6, &frame, &err) == LF_OK) {
            lf_native_frame f;
            if (lf_native_frame_parse(frame.data, frame.len, 0, &f, NULL, &err) != LF_OK)
                abort(); /* what seal_raw writes must parse */
            if (lf_native_open(opener, &f, &out, &err) == LF_OK)
                check_opened(&f.hdr, &out);
            else if (err.code == LF_ERR_AUTH)
                abort(); /* we sealed it with the right key */
        }
        lf_buf_free(&frame);
    }
    lf_native_opened_free(&out);
    return 0;
}

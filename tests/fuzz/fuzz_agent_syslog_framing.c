/*
 * fuzz_agent_syslog_framing.c — libFuzzer target for the syslog TCP frame decoder
 * (src/agent/inputs/syslog/syslog_framing.c).
 *
 * Input layout: [mode u8][max u16 LE][split seed u8][stream bytes...]. mode % 3 picks
 * auto/octet/newline; max = 1 + (u16 % 4096). The stream is decoded twice: pushed at once,
 * and pushed in pieces whose sizes come from the seed. Both must give the same frames (bytes
 * and truncated flag), the same counters, and no frame longer than max.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "inputs/syslog/syslog_framing.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct frames {
    uint8_t *bytes; /* each frame: [len u32][truncated u8][bytes] */
    size_t len, cap;
} frames;

static void keep(frames *fs, const lf_syslog_frame *fr, size_t max)
{
    if (fr->len > max || fr->len == 0)
        abort();
    size_t need = fs->len + 5 + fr->len;
    if (need > fs->cap) {
        fs->cap = need * 2;
        fs->bytes = realloc(fs->bytes, fs->cap);
        if (!fs->bytes)
            abort();
    }
    uint32_t l = (uint32_t)fr->len;
    memcpy(fs->bytes + fs->len, &l, 4);
    fs->bytes[fs->len + 4] = fr->truncated;
    memcpy(fs->bytes + fs->len + 5, fr->data, fr->len);
    fs->len = need;
}

/* Decode stream in pieces: piece sizes from a small LCG seeded by seed (seed 0 = at once). */
static void decode(lf_syslog_framing mode, size_t max, unsigned seed, const uint8_t *s, size_t n,
                   frames *fs, lf_syslog_framer_stats *st)
{
    lf_syslog_framer f;
    lf_syslog_framer_init(&f, mode, max);
    uint32_t x = seed;
    size_t pos = 0;
    while (pos < n) {
        size_t piece = n - pos;
        if (seed) {
            x = x * 1103515245u + 12345u;
            piece = 1 + (x >> 16) % 17;
            if (piece > n - pos)
                piece = n - pos;
        }
        size_t off = 0;
        while (off < piece) {
            size_t used = 0;
            lf_syslog_frame fr;
            bool got = lf_syslog_framer_push(&f, s + pos + off, piece - off, &used, &fr);
            if (used > piece - off)
                abort();
            if (got)
                keep(fs, &fr, max);
            else if (used != piece - off)
                abort(); /* only allocation failure stops short, and there is none here */
            off += used;
        }
        pos += piece;
    }
    lf_syslog_frame fr;
    if (lf_syslog_framer_finish(&f, &fr))
        keep(fs, &fr, max);
    *st = f.stats;
    lf_syslog_framer_free(&f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 4)
        return 0;
    lf_syslog_framing mode = (lf_syslog_framing)(data[0] % 3);
    size_t max = 1 + (size_t)((data[1] | (data[2] << 8)) % 4096);
    unsigned seed = data[3] | 1u;
    frames whole = {0}, pieces = {0};
    lf_syslog_framer_stats sw, sp;
    decode(mode, max, 0, data + 4, size - 4, &whole, &sw);
    decode(mode, max, seed, data + 4, size - 4, &pieces, &sp);
    if (whole.len != pieces.len || (whole.len && memcmp(whole.bytes, pieces.bytes, whole.len)))
        abort();
    if (memcmp(&sw, &sp, sizeof sw) != 0)
        abort();
    free(whole.bytes);
    free(pieces.bytes);
    return 0;
}

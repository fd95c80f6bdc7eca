/*
 * bench_crypto.c — seal and open throughput of LogFlux's formats, for comparison with
 * `openssl speed -evp aes-256-gcm` measured in the same run (bench/run.sh passes its 256-byte
 * and 16 KiB figures in, and this program prints ratios against them).
 *
 * Figures:
 *   aead 256 B          raw lf_aead_ctx_seal: our wrapper's overhead over OpenSSL
 *   native entry 256 B  a complete native entry frame: random nonce, header, AAD, seal
 *   v3 entry 256 B      a complete v3 entry without gzip (random nonce, seal, header values)
 *   native block 64 KiB a block frame of 256 entries, crypto only (no compression)
 *   native block zstd   the same entries compressed with zstd level 3 then sealed
 * and the opening side of the native ones. Entries are realistic log lines as schema 2.0 JSON,
 * 256 bytes each. Each figure runs for --seconds of wall time.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_util.h"
#include "logflux/crypto.h"
#include "logflux/native.h"
#include "logflux/v3.h"

#define ENTRY_LEN     256
#define BLOCK_ENTRIES 256 /* 256 x (4 + 252..256) bytes ~ 64 KiB of block plaintext */

struct bench {
    uint8_t key[LF_AES_KEY_LEN];
    lf_aead *aead;
    lf_native_session *session;
    lf_native_opener *opener;
    lf_v3_sealer *v3;
    char entries_json[BLOCK_ENTRIES][ENTRY_LEN + 1];
    lf_native_entry entries[BLOCK_ENTRIES];
    uint64_t counter;
    lf_buf out;
    lf_buf frame_entry, frame_block, frame_zstd;
    lf_native_opened opened;
    bool compress;
};

static void die(const char *what, const lf_error *err)
{
    fprintf(stderr, "bench_crypto: %s: %s\n", what, err->message);
    exit(1);
}

/* A 256-byte schema 2.0 log entry that looks like an access log line. */
static void make_entry(char *dst, int i, int64_t ts)
{
    static const char *paths[] = {"/api/v1/orders", "/api/v1/users/me", "/healthz",
                                  "/static/app.js", "/api/v1/search?q=invoice"};
    int n = snprintf(dst, ENTRY_LEN + 1,
                     "{\"v\":\"2.0\",\"type\":\"log\",\"source\":\"nginx\",\"level\":%d,"
                     "\"ts\":\"2026-11-28T03:%02d:%02d.%06dZ\",\"message\":\"GET %s %d %d "
                     "ms\",\"attributes\":{\"host\":\"web-%d\",\"pad\":\"",
                     i % 17 == 0 ? 4 : 7, (i / 60) % 60, i % 60, (int)(ts % 1000000), paths[i % 5],
                     i % 13 == 0 ? 500 : 200, 3 + i % 97, i % 8);
    for (; n < ENTRY_LEN - 3; n++)
        dst[n] = (char)('a' + (i + n) % 26);
    memcpy(dst + n, "\"}}", 4);
}

static int op_aead(void *ctx)
{
    struct bench *b = ctx;
    uint8_t nonce[LF_GCM_NONCE_LEN] = {0};
    lf_store_be64(nonce + 4, ++b->counter); /* unique per message, as a real caller must */
    lf_buf_reset(&b->out);
    return lf_aead_ctx_seal(b->aead, nonce, NULL, 0, b->entries_json[0], ENTRY_LEN, &b->out,
                            NULL) != LF_OK;
}

static int op_native_entry(void *ctx)
{
    struct bench *b = ctx;
    lf_buf_reset(&b->out);
    if (lf_native_session_sequence(b->session) > (1u << 23)) {
        /* Stay under the per-key frame cap, as the agent rotates keys. */
        lf_native_session_free(b->session);
        lf_error err = {0};
        if (lf_native_session_new(b->key, NULL, "acme", "bench", &b->session, &err) != LF_OK)
            die("session", &err);
    }
    return lf_native_seal_entry(b->session, 1, &b->entries[b->counter++ % BLOCK_ENTRIES], NULL, 0,
                                false, &b->out, NULL) != LF_OK;
}

static int op_v3_entry(void *ctx)
{
    struct bench *b = ctx;
    lf_v3_headers h;
    lf_buf_reset(&b->out);
    return lf_v3_seal_json(b->v3, 1, 1790000000000000000LL, b->entries_json[b->counter++ % 256],
                           ENTRY_LEN, NULL, &b->out, &h, NULL) != LF_OK;
}

static int op_native_block(void *ctx)
{
    struct bench *b = ctx;
    lf_buf_reset(&b->out);
    return lf_native_seal_block(b->session, 1, b->entries, BLOCK_ENTRIES, NULL, 0, b->compress,
                                &b->out, NULL) != LF_OK;
}

static int open_frame(struct bench *b, const lf_buf *frame)
{
    lf_native_frame f;
    if (lf_native_frame_parse(frame->data, frame->len, 0, &f, NULL, NULL) != LF_OK)
        return 1;
    return lf_native_open(b->opener, &f, &b->opened, NULL) != LF_OK;
}

static int op_open_entry(void *ctx)
{
    struct bench *b = ctx;
    return open_frame(b, &b->frame_entry);
}

static int op_open_block(void *ctx)
{
    struct bench *b = ctx;
    return open_frame(b, &b->frame_block);
}

static int op_open_zstd(void *ctx)
{
    struct bench *b = ctx;
    return open_frame(b, &b->frame_zstd);
}

static double arg_double(int argc, char **argv, const char *name, double dflt)
{
    for (int i = 1; i + 1 < argc; i++)
        if (strcmp(argv[i], name) == 0)
            return atof(argv[i + 1]);
    return dflt;
}

static void report(const char *name, double ops, double bytes_per_op, double ref_bytes_s,
                   const char *ref_name)
{
    double mbs = ops * bytes_per_op / 1e6;
    printf("%-26s %12.0f ops/s %9.1f MB/s", name, ops, mbs);
    if (ref_bytes_s > 0)
        printf("   %5.2fx openssl %s", ops * bytes_per_op / ref_bytes_s, ref_name);
    printf("\n");
}

static size_t block_plaintext_len(const struct bench *b)
{
    size_t n = 0;
    for (int i = 0; i < BLOCK_ENTRIES; i++)
        n += 4 + b->entries[i].len;
    return n;
}

int main(int argc, char **argv)
{
    double secs = arg_double(argc, argv, "--seconds", 2);
    double ossl_256 = arg_double(argc, argv, "--openssl-256", 0);
    double ossl_16k = arg_double(argc, argv, "--openssl-16k", 0);
    static struct bench b;
    lf_error err = {0};

    if (lf_random(b.key, sizeof b.key, &err) != LF_OK ||
        lf_aead_new(b.key, &b.aead, &err) != LF_OK ||
        lf_native_session_new(b.key, NULL, "acme", "bench", &b.session, &err) != LF_OK ||
        lf_v3_sealer_new(b.key, "0b5b3f5e-0c8a-4d7c-9a51-3f0f4d2c1e77", LF_V3_NO_GZIP, &b.v3,
                         &err) != LF_OK)
        die("setup", &err);
    for (int i = 0; i < BLOCK_ENTRIES; i++) {
        int64_t ts = 1795834800000000000LL + (int64_t)i * 1000000;
        make_entry(b.entries_json[i], i, ts);
        b.entries[i] = (lf_native_entry){b.entries_json[i], strlen(b.entries_json[i]), ts};
    }
    size_t block_len = block_plaintext_len(&b);
    printf("entry: %d bytes of JSON; block: %d entries, %zu bytes of plaintext\n", ENTRY_LEN,
           BLOCK_ENTRIES, block_len);

    report("aead seal 256 B", bench_rate(secs, op_aead, &b), ENTRY_LEN, ossl_256, "256 B");
    report("v3 entry seal 256 B", bench_rate(secs, op_v3_entry, &b), ENTRY_LEN, ossl_256, "256 B");
    report("native entry seal 256 B", bench_rate(secs, op_native_entry, &b), ENTRY_LEN, ossl_256,
           "256 B");
    b.compress = false;
    report("native block seal 64 KiB", bench_rate(secs, op_native_block, &b), (double)block_len,
           ossl_16k, "16 KiB");
    b.compress = true;
    report("native block+zstd seal", bench_rate(secs, op_native_block, &b), (double)block_len,
           ossl_16k, "16 KiB");

    /* Frames to open, sealed by a fresh session whose key the opener holds. */
    lf_native_session_free(b.session);
    if (lf_native_session_new(b.key, NULL, "acme", "bench", &b.session, &err) != LF_OK ||
        lf_native_opener_new(b.key, lf_native_session_key_id(b.session), &b.opener, &err) !=
            LF_OK ||
        lf_native_seal_entry(b.session, 1, &b.entries[0], NULL, 0, false, &b.frame_entry, &err) !=
            LF_OK ||
        lf_native_seal_block(b.session, 1, b.entries, BLOCK_ENTRIES, NULL, 0, false, &b.frame_block,
                             &err) != LF_OK ||
        lf_native_seal_block(b.session, 1, b.entries, BLOCK_ENTRIES, NULL, 0, true, &b.frame_zstd,
                             &err) != LF_OK)
        die("sealing frames to open", &err);
    printf("zstd block: %zu bytes of plaintext -> %zu bytes of frame (%.1fx)\n", block_len,
           b.frame_zstd.len, (double)block_len / (double)b.frame_zstd.len);
    report("native entry open 256 B", bench_rate(secs, op_open_entry, &b), ENTRY_LEN, ossl_256,
           "256 B");
    report("native block open 64 KiB", bench_rate(secs, op_open_block, &b), (double)block_len,
           ossl_16k, "16 KiB");
    report("native block+zstd open", bench_rate(secs, op_open_zstd, &b), (double)block_len,
           ossl_16k, "16 KiB");

    lf_native_opened_free(&b.opened);
    lf_buf_free(&b.out);
    lf_buf_free(&b.frame_entry);
    lf_buf_free(&b.frame_block);
    lf_buf_free(&b.frame_zstd);
    lf_native_opener_free(b.opener);
    lf_native_session_free(b.session);
    lf_v3_sealer_free(b.v3);
    lf_aead_free(b.aead);
    lf_wipe(b.key, sizeof b.key);
    return 0;
}

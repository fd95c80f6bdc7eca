/*
 * bench_decrypt.c — the read path's hot loop, as `logflux query` runs it over cached rows:
 * open (AES-256-GCM with the native header rebuilt from the stored columns as AAD), inflate
 * (zstd), split, decode each schema 2.0 entry, check its ts against the row, and filter
 * (level + message substring). Throughput is in MB/s of plaintext JSON per core (one thread),
 * to set beside `openssl speed -evp aes-256-gcm` measured by bench/run.sh in the same run.
 *
 *   bench_decrypt [--seconds S] [--openssl-16k BYTES_PER_SEC]
 *
 * Figures: native blocks of 1000 realistic log entries (zstd), the same with the cached row
 * JSON decoded first (base64 + JSON, as read from the cache file), and v3 rows (one gzip JSON
 * entry each).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_util.h"
#include "logflux/native.h"
#include "logflux/timefmt.h"
#include "logflux/v3.h"
#include "rows.h"

#define BLOCK   1000
#define NBLOCKS 16
#define NV3     4000

static lfc_row native_rows[NBLOCKS], v3_rows[NV3];
static json_t *native_json[NBLOCKS];
static size_t native_bytes, v3_bytes;
static lfc_keyring *ring;
static lfc_filter filter;
static lfc_opened opened;
static size_t matched;

static void die(const char *what, const lf_error *err)
{
    fprintf(stderr, "bench_decrypt: %s: %s\n", what, err ? err->message : "");
    exit(1);
}

static void make_entry(size_t i, int64_t ts, lf_buf *out)
{
    static const char *const words[] = {"checkout", "payment", "order", "user",    "cart",
                                        "session",  "timeout", "retry", "shipped", "invoice"};
    char msg[256];
    snprintf(msg, sizeof msg, "request %zu: %s %s for customer %zu completed in %zu ms (%s)", i,
             words[i % 10], words[(i / 10) % 10], (i * 7919) % 100000, i % 997,
             words[(i / 100) % 10]);
    char rid[40];
    snprintf(rid, sizeof rid, "req-%08zx", i * 2654435761u);
    lf_kv attrs[] = {{"env", "prod"}, {"region", "eu-west-1"}, {"request_id", rid}};
    lf_payload p = {0};
    p.type = LF_ENTRY_LOG;
    p.source = "checkout-api";
    p.level = (int)(4 + i % 4);
    p.ts_ns = ts;
    p.log.message = msg;
    p.log.logger = "http";
    p.attributes = attrs;
    p.n_attributes = 3;
    lf_error err = {0};
    lf_buf_reset(out);
    if (lf_payload_encode(&p, out, &err) != LF_OK)
        die("encode", &err);
}

static void row_from_frame(const lf_native_frame *f, lfc_row *r)
{
    memset(r, 0, sizeof *r);
    snprintf(r->tenant, sizeof r->tenant, "%s", f->hdr.tenant);
    snprintf(r->app, sizeof r->app, "%s", f->hdr.app);
    r->format = LFC_ROW_FORMAT_NATIVE;
    r->kind = f->hdr.kind;
    r->entry_type = f->hdr.entry_type;
    r->flags = f->hdr.flags;
    lf_hex_encode(f->hdr.key_id, 16, r->key_id);
    r->sequence = f->hdr.sequence;
    r->ts = f->hdr.ts_min;
    r->ts_max = f->hdr.ts_max;
    r->count = f->hdr.count;
    lf_buf_append(&r->nonce, f->hdr.nonce, 12);
    lf_buf_append(&r->ciphertext, f->body, f->hdr.body_len);
}

static void setup(void)
{
    lf_error err = {0};
    uint8_t key[32], kid[16];
    lf_random(key, 32, NULL);
    lf_random(kid, 16, NULL);
    if (lfc_keyring_new(NULL, NULL, &ring) != 0)
        die("keyring", NULL);
    lf_native_session *s = NULL;
    if (lf_native_session_new(key, kid, "acme", "checkout", &s, &err) != LF_OK)
        die("session", &err);
    char hex[33];
    lf_hex_encode(kid, 16, hex);
    hex[32] = '\0';
    if (lfc_keyring_put(ring, hex, key, &err) != LF_OK)
        die("put", &err);
    int64_t t0 = lf_time_now_ns() - 600LL * LF_NS_PER_SEC;
    lf_buf *json = calloc(BLOCK, sizeof *json);
    lf_native_entry *ent = calloc(BLOCK, sizeof *ent);
    for (size_t b = 0; b < NBLOCKS; b++) {
        for (size_t i = 0; i < BLOCK; i++) {
            int64_t ts = t0 + (int64_t)(b * BLOCK + i) * 1000;
            make_entry(b * BLOCK + i, ts, &json[i]);
            ent[i] = (lf_native_entry){json[i].data, json[i].len, ts};
            native_bytes += json[i].len;
        }
        lf_buf frame = LF_BUF_INIT;
        if (lf_native_seal_block(s, LF_ENTRY_LOG, ent, BLOCK, NULL, 0, true, &frame, &err) != LF_OK)
            die("seal", &err);
        lf_native_frame f;
        if (lf_native_frame_parse(frame.data, frame.len, 0, &f, NULL, &err) != LF_OK)
            die("parse", &err);
        row_from_frame(&f, &native_rows[b]);
        native_json[b] = lfc_row_to_json(&native_rows[b]);
        lf_buf_free(&frame);
    }
    lf_native_session_free(s);
    /* v3: one entry per row under one session key */
    const char *uuid = "6f1c2d3e-4b5a-4789-9abc-def012345678";
    lf_v3_sealer *v = NULL;
    if (lf_v3_sealer_new(key, uuid, -1, &v, &err) != LF_OK ||
        lfc_keyring_put(ring, uuid, key, &err) != LF_OK)
        die("v3 sealer", &err);
    for (size_t i = 0; i < NV3; i++) {
        int64_t ts = t0 + (int64_t)i;
        make_entry(i, ts, &json[0]);
        v3_bytes += json[0].len;
        lf_buf part = LF_BUF_INIT;
        lf_v3_headers h;
        if (lf_v3_seal_json(v, LF_ENTRY_LOG, ts, json[0].data, json[0].len, NULL, &part, &h,
                            &err) != LF_OK)
            die("v3 seal", &err);
        lfc_row *r = &v3_rows[i];
        snprintf(r->tenant, sizeof r->tenant, "acme");
        snprintf(r->app, sizeof r->app, "checkout");
        r->format = LFC_ROW_FORMAT_V3;
        r->kind = 1;
        r->entry_type = LF_ENTRY_LOG;
        snprintf(r->key_id, sizeof r->key_id, "%s", uuid);
        r->ts = r->ts_max = ts;
        r->count = 1;
        lf_buf_append(&r->nonce, h.nonce, 12);
        r->ciphertext = part;
    }
    lf_v3_sealer_free(v);
    lf_wipe(key, sizeof key);
    for (size_t i = 0; i < BLOCK; i++)
        lf_buf_free(&json[i]);
    free(json);
    free(ent);
    filter.from = INT64_MIN;
    filter.to = INT64_MAX;
    filter.level = 6;
    filter.grep = "payment";
}

static int open_filter(const lfc_row *r)
{
    lf_error err = {0};
    if (lfc_row_open(ring, r, &opened, &err) != 0) {
        fprintf(stderr, "open: %s\n", err.message);
        return 1;
    }
    for (size_t i = 0; i < opened.count; i++)
        matched += lfc_filter_match(&filter, &opened.entries[i]);
    return 0;
}

static size_t next_block;
static int op_native(void *ctx)
{
    (void)ctx;
    return open_filter(&native_rows[next_block++ % NBLOCKS]);
}

static int op_native_json(void *ctx)
{
    (void)ctx;
    lfc_row r;
    if (lfc_row_from_json(native_json[next_block++ % NBLOCKS], &r, NULL) != LF_OK)
        return 1;
    int rc = open_filter(&r);
    lfc_row_free(&r);
    return rc;
}

static size_t next_v3;
static int op_v3(void *ctx)
{
    (void)ctx;
    return open_filter(&v3_rows[next_v3++ % NV3]);
}

int main(int argc, char **argv)
{
    double secs = 2, ossl = 0;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--seconds") == 0)
            secs = atof(argv[i + 1]);
        else if (strcmp(argv[i], "--openssl-16k") == 0)
            ossl = atof(argv[i + 1]);
    }
    setup();
    double per_block = (double)native_bytes / NBLOCKS, per_v3 = (double)v3_bytes / NV3;
    double r1 = bench_rate(secs, op_native, NULL) * per_block / 1e6;
    double r2 = bench_rate(secs, op_native_json, NULL) * per_block / 1e6;
    double r3 = bench_rate(secs, op_v3, NULL) * per_v3 / 1e6;
    printf("decrypt+decompress+filter, one core, MB/s of plaintext JSON (entries ~%.0f B):\n",
           per_v3);
    printf("  native zstd blocks of %d entries: %8.0f MB/s%s\n", BLOCK, r1,
           r1 >= 300 ? "  (goal 300: met)" : "  (goal 300: NOT met)");
    printf("  same, from cached row JSON:        %8.0f MB/s\n", r2);
    printf("  v3 rows (one gzip entry each):     %8.0f MB/s\n", r3);
    if (ossl > 0)
        printf("  openssl speed aes-256-gcm 16 KiB:  %8.0f MB/s (native = %.0f%% of raw AES-GCM)\n",
               ossl / 1e6, 100.0 * r1 / (ossl / 1e6));
    printf("  (%zu entries matched the filter)\n", matched);
    lfc_opened_free(&opened);
    for (size_t b = 0; b < NBLOCKS; b++) {
        lfc_row_free(&native_rows[b]);
        json_decref(native_json[b]);
    }
    for (size_t i = 0; i < NV3; i++)
        lfc_row_free(&v3_rows[i]);
    lfc_keyring_free(ring);
    return 0;
}

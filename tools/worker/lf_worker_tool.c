/*
 * lf_worker_tool.c — `lf-worker-tool run DIR [BATCHES]`: in the empty directory DIR, open a
 * real spool, SQLite metadata and fs object store, append BATCHES deterministic sample batches
 * (native and v3 rows, several apps and hours, timestamps out of order, empty and non-empty
 * token lists), run the worker until everything is flushed, and print one JSON document:
 *   {"files":[{"path":ABS,"rows":N,"ts_min":"…","ts_max":"…","row_group_rows":R}],
 *    "rows":[{every stored column; integers > 2^53 as decimal strings, bytes as upper hex}]}
 * tests/interop/worker_duckdb.mjs reads every file with DuckDB and compares.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "ingest/batch.h"
#include "queue/spool.h"
#include "store/store.h"
#include "worker/worker.h"

#define T0 1764298800123456789LL

static void die(const char *what, const lf_error *err)
{
    fprintf(stderr, "lf-worker-tool: %s: %s\n", what, err ? err->message : "");
    exit(1);
}

static char *hexu(const uint8_t *p, size_t n)
{
    static const char d[] = "0123456789ABCDEF";
    char *s = malloc(2 * n + 1);
    for (size_t i = 0; i < n; i++) {
        s[2 * i] = d[p[i] >> 4];
        s[2 * i + 1] = d[p[i] & 15];
    }
    s[2 * n] = '\0';
    return s;
}

static json_t *num(int64_t v)
{
    char b[32];
    snprintf(b, sizeof b, "%lld", (long long)v);
    return json_string(b);
}

int main(int argc, char **argv)
{
    if (argc < 3 || strcmp(argv[1], "run") != 0) {
        fprintf(stderr, "usage: lf-worker-tool run DIR [BATCHES]\n");
        return 2;
    }
    const char *dir = argv[2];
    int batches = argc > 3 ? atoi(argv[3]) : 12;
    if (batches < 1 || batches > 10000)
        batches = 12;
    lf_error err = {0};
    lfd_config cfg = {0};
    if (lfd_config_init(&cfg, &err) != LF_OK)
        die("config", &err);
    free(cfg.data_dir);
    cfg.data_dir = strdup(dir);
    cfg.worker_row_group_rows = 5;
    lfd_app app = {.cfg = &cfg};
    char p[4096];
    snprintf(p, sizeof p, "%s/meta.db", dir);
    if (lf_meta_sqlite_open(p, NULL, &app.meta, &err) != LF_OK)
        die("meta", &err);
    snprintf(p, sizeof p, "%s/spool", dir);
    if (lf_spool_open(p, NULL, &app.queue, &err) != LF_OK)
        die("spool", &err);
    snprintf(p, sizeof p, "%s/objects", dir);
    if (lfd_store_fs_open(p, &app.store, &err) != LF_OK)
        die("store", &err);
    int64_t tenant = 0;
    if (lf_meta_tenant_create(app.meta, "acme", LF_REGION_EU, 1000, &tenant, &err) != LF_OK)
        die("tenant", &err);
    lfd_worker_options wo = {.no_age_flush = true, .quiet = true};
    if (lfd_worker_start_opts(&app, &wo, &app.worker, &err) != LF_OK)
        die("worker", &err);

    json_t *rows = json_array();
    uint32_t ctr = 1;
    const char *apps[] = {"checkout", "api.gateway", "batch_jobs"};
    for (int b = 0; b < batches; b++) {
        lf_buf rec = LF_BUF_INIT;
        const char *appname = apps[b % 3];
        int64_t ingest = 1764300000000000000LL + b;
        if (lfd_batch_begin(&rec, tenant, "acme", appname, ingest, &err) != LF_OK)
            die("batch", &err);
        int n = 1 + (b * 7) % 13;
        for (int i = 0; i < n; i++, ctr++) {
            bool v3 = (ctr % 4) == 0;
            uint8_t body[64], tok[48];
            size_t body_len = 17 + ctr % 40, tok_len = 0;
            for (size_t k = 0; k < body_len; k++)
                body[k] = (uint8_t)(ctr * 31 + k * 7);
            body[0] = (uint8_t)ctr;
            body[1] = (uint8_t)(ctr >> 8);
            char v3tok[64];
            if (v3) {
                tok_len = (size_t)snprintf(v3tok, sizeof v3tok, "user-%u,order,%u", ctr, ctr % 5);
                memcpy(tok, v3tok, tok_len);
            } else {
                tok_len = 16 * (ctr % 3);
                for (size_t k = 0; k < tok_len; k++)
                    tok[k] = (uint8_t)(ctr + k);
            }
            /* Timestamps spread over 3 hours and 2 days, deliberately out of order. */
            int64_t ts = T0 + (int64_t)((ctr * 7919) % 10000) * 1000003LL +
                         (int64_t)(ctr % 3) * 3600000000000LL +
                         (int64_t)(ctr % 7 == 0) * 86400000000000LL;
            lfd_row row = {
                .format = v3 ? LFD_FORMAT_V3 : LFD_FORMAT_NATIVE,
                .kind = v3 ? 1 : (uint8_t)(1 + ctr % 2),
                .entry_type = (uint8_t)(1 + ctr % 7),
                .flags = v3 ? (uint8_t)(ctr % 2 ? 1 : 3) : (uint8_t)(ctr % 2),
                .key_id = v3 ? "6f1c2b3a-0d4e-4f5a-8b6c-7d8e9fa0b1c2"
                             : "00112233445566778899aabbccddeeff",
                .key_id_len = v3 ? 36 : 32,
                .sequence = v3 ? 0 : ctr,
                .ts_min = ts,
                .ts_max = ts + (v3 ? 0 : (int64_t)(ctr % 5) * 1000),
                .count = v3 ? 1 : 1 + ctr % 3,
                .tokens = tok,
                .tokens_len = tok_len,
                .body = body,
                .body_len = body_len,
            };
            for (int k = 0; k < 12; k++)
                row.nonce[k] = (uint8_t)(ctr * 13 + (uint32_t)k);
            if (lfd_batch_add(&rec, &row, &err) != LF_OK)
                die("batch add", &err);
            char *hn = hexu(row.nonce, 12), *ht = hexu(tok, tok_len), *hb = hexu(body, body_len);
            json_t *o = json_object();
            json_object_set_new(o, "tenant", json_string("acme"));
            json_object_set_new(o, "app", json_string(appname));
            json_object_set_new(o, "format", json_integer(row.format));
            json_object_set_new(o, "kind", json_integer(row.kind));
            json_object_set_new(o, "entry_type", json_integer(row.entry_type));
            json_object_set_new(o, "flags", json_integer(row.flags));
            json_object_set_new(o, "key_id", json_stringn(row.key_id, row.key_id_len));
            json_object_set_new(o, "sequence", num((int64_t)row.sequence));
            json_object_set_new(o, "ts", num(row.ts_min));
            json_object_set_new(o, "ts_max", num(row.ts_max));
            json_object_set_new(o, "count", json_integer(row.count));
            json_object_set_new(o, "nonce", json_string(hn));
            json_object_set_new(o, "search_tokens", json_string(ht));
            json_object_set_new(o, "ciphertext", json_string(hb));
            json_object_set_new(o, "ingest_time", num(ingest));
            json_object_set_new(o, "spool_seq", num(b + 1));
            json_array_append_new(rows, o);
            free(hn);
            free(ht);
            free(hb);
        }
        if (lfd_batch_finish(&rec, (uint32_t)n, &err) != LF_OK)
            die("batch finish", &err);
        uint64_t seq;
        if (lf_queue_append1(app.queue, rec.data, rec.len, &seq, &err) != LF_OK)
            die("append", &err);
        lf_buf_free(&rec);
        /* Two flushes: files from different flushes share partitions. */
        if (b == batches / 2 && lfd_worker_flush(app.worker, &err) != LF_OK)
            die("flush", &err);
    }
    if (lfd_worker_flush(app.worker, &err) != LF_OK)
        die("flush", &err);

    json_t *files = json_array();
    lf_meta_file_query q = {.ts_from = INT64_MIN, .ts_to = INT64_MAX, .order = LF_META_ASC};
    lf_meta_cursor c = LF_META_CURSOR_START;
    for (;;) {
        lf_meta_file *f = NULL;
        size_t n = 0;
        lf_meta_cursor next;
        if (lf_meta_manifest_query(app.meta, tenant, &q, 1000, c, &f, &n, &next, &err) != LF_OK)
            die("manifest", &err);
        for (size_t i = 0; i < n; i++) {
            snprintf(p, sizeof p, "%s/objects/%s", dir, f[i].path);
            json_t *o = json_pack("{s:s, s:s, s:I, s:o, s:o, s:i}", "path", p, "key", f[i].path,
                                  "rows", (json_int_t)f[i].rows, "ts_min", num(f[i].ts_min),
                                  "ts_max", num(f[i].ts_max), "row_group_rows", 5);
            json_array_append_new(files, o);
        }
        free(f);
        if (next.id == 0)
            break;
        c = next;
    }
    lfd_worker_stop(app.worker);
    lf_queue_close(app.queue);
    lf_meta_close(app.meta);
    lfd_store_close(app.store);
    lfd_config_free(&cfg);
    json_t *out = json_pack("{s:o, s:o}", "files", files, "rows", rows);
    char *text = json_dumps(out, JSON_COMPACT);
    puts(text);
    free(text);
    json_decref(out);
    return 0;
}

/*
 * test_worker_env.h — a real logfluxd back end in a temporary directory for the worker and read
 * API tests: SQLite metadata, the embedded spool, the fs object store, a default config; helpers
 * to append batches through the spool and to collect every row the manifest's files hold.
 * Header-only (static functions) so each test file stays one translation unit.
 */
#ifndef TEST_WORKER_ENV_H
#define TEST_WORKER_ENV_H

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "app.h"
#include "ingest/batch.h"
#include "queue/spool.h"
#include "store/store.h"
#include "testutil.h"
#include "worker/schema.h"
#include "worker/worker.h"

typedef struct wenv {
    char dir[256];
    char path[512];
    lfd_config cfg;
    lfd_app app;
    int64_t tenant_a, tenant_b;
} wenv;

static inline void wenv_open_parts(wenv *e)
{
    char p[600];
    snprintf(p, sizeof p, "%s/meta.db", e->dir);
    assert_int_equal(lf_meta_sqlite_open(p, NULL, &e->app.meta, NULL), LF_OK);
    snprintf(p, sizeof p, "%s/spool", e->dir);
    lf_spool_options so = {.log = NULL};
    assert_int_equal(lf_spool_open(p, &so, &e->app.queue, NULL), LF_OK);
    snprintf(p, sizeof p, "%s/objects", e->dir);
    assert_int_equal(lfd_store_fs_open(p, &e->app.store, NULL), LF_OK);
}

static inline void wenv_close_parts(wenv *e)
{
    lf_queue_close(e->app.queue);
    lf_meta_close(e->app.meta);
    lfd_store_close(e->app.store);
    e->app.queue = NULL;
    e->app.meta = NULL;
    e->app.store = NULL;
}

static inline void wenv_init(wenv *e)
{
    memset(e, 0, sizeof *e);
    snprintf(e->dir, sizeof e->dir, "/tmp/lfwk-XXXXXX");
    assert_non_null(mkdtemp(e->dir));
    assert_int_equal(lfd_config_init(&e->cfg, NULL), LF_OK);
    free(e->cfg.data_dir);
    e->cfg.data_dir = strdup(e->dir);
    e->cfg.worker_row_group_rows = 4; /* several row groups per file */
    e->app.cfg = &e->cfg;
    wenv_open_parts(e);
    assert_int_equal(
        lf_meta_tenant_create(e->app.meta, "acme", LF_REGION_EU, 1000, &e->tenant_a, NULL), LF_OK);
    assert_int_equal(
        lf_meta_tenant_create(e->app.meta, "other", LF_REGION_EU, 1000, &e->tenant_b, NULL), LF_OK);
}

static inline void rm_rf(const char *path)
{
    struct stat sb;
    if (lstat(path, &sb) != 0)
        return;
    if (S_ISDIR(sb.st_mode)) {
        DIR *d = opendir(path);
        struct dirent *de;
        while (d && (de = readdir(d)) != NULL) {
            if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
                continue;
            char sub[1024];
            if (snprintf(sub, sizeof sub, "%s/%s", path, de->d_name) >= (int)sizeof sub)
                continue;
            rm_rf(sub);
        }
        if (d)
            closedir(d);
        rmdir(path);
    } else {
        unlink(path);
    }
}

static inline void wenv_free(wenv *e)
{
    lfd_worker_stop(e->app.worker);
    e->app.worker = NULL;
    wenv_close_parts(e);
    lfd_config_free(&e->cfg);
    rm_rf(e->dir);
}

/* A batch of n rows; row i gets sequence = seq_base + i (the rows' identity in checks),
 * ts = ts0 + i * step, native format with one token (16 bytes of seq) and a body. */
static inline uint64_t wenv_append(wenv *e, int64_t tenant_id, const char *tenant, const char *app,
                                   size_t n, uint64_t seq_base, int64_t ts0, int64_t step,
                                   uint8_t type)
{
    lf_buf rec = LF_BUF_INIT;
    assert_int_equal(lfd_batch_begin(&rec, tenant_id, tenant, app, 1700000000000000000LL, NULL),
                     LF_OK);
    for (size_t i = 0; i < n; i++) {
        uint8_t tok[16] = {0}, body[40];
        uint64_t s = seq_base + i;
        for (int k = 0; k < 8; k++)
            tok[k] = (uint8_t)(s >> (56 - 8 * k));
        for (size_t k = 0; k < sizeof body; k++)
            body[k] = (uint8_t)(s * 7 + k);
        lfd_row row = {
            .format = LFD_FORMAT_NATIVE,
            .kind = 1,
            .entry_type = type,
            .flags = 0,
            .key_id = "0123456789abcdef0123456789abcdef",
            .key_id_len = 32,
            .sequence = s,
            .ts_min = ts0 + (int64_t)i * step,
            .ts_max = ts0 + (int64_t)i * step,
            .count = 1,
            .tokens = tok,
            .tokens_len = sizeof tok,
            .body = body,
            .body_len = sizeof body,
        };
        memset(row.nonce, (int)(s & 0xff), sizeof row.nonce);
        assert_int_equal(lfd_batch_add(&rec, &row, NULL), LF_OK);
    }
    assert_int_equal(lfd_batch_finish(&rec, (uint32_t)n, NULL), LF_OK);
    uint64_t seq = 0;
    assert_int_equal(lf_queue_append1(e->app.queue, rec.data, rec.len, &seq, NULL), LF_OK);
    lf_buf_free(&rec);
    return seq;
}

/* Every manifest file of `tenant`: counts[sequence]++ for each stored row (sequence < cap);
 * returns the number of rows and checks each file's rows against its manifest entry. */
static inline size_t wenv_collect(wenv *e, int64_t tenant, unsigned *counts, size_t cap,
                                  size_t *nfiles)
{
    lf_meta_file_query q = {.ts_from = INT64_MIN, .ts_to = INT64_MAX, .order = LF_META_ASC};
    lf_meta_cursor c = LF_META_CURSOR_START;
    size_t rows = 0;
    *nfiles = 0;
    for (int guard = 0; guard < 1000; guard++) {
        lf_meta_file *f = NULL;
        size_t n = 0;
        lf_meta_cursor next;
        assert_int_equal(
            lf_meta_manifest_query(e->app.meta, tenant, &q, 100, c, &f, &n, &next, NULL), LF_OK);
        for (size_t i = 0; i < n; i++) {
            lf_buf data = LF_BUF_INIT;
            assert_int_equal(e->app.store->ops->get(e->app.store, f[i].path, &data, NULL), LF_OK);
            assert_int_equal(data.len, f[i].bytes);
            lf_pq_reader *rd = NULL;
            assert_int_equal(lfd_schema_open(data.data, data.len, &rd, NULL), LF_OK);
            assert_int_equal(lf_pq_reader_num_rows(rd), (int64_t)f[i].rows);
            int64_t prev = INT64_MIN;
            for (size_t g = 0; g < lf_pq_reader_num_row_groups(rd); g++) {
                lfd_schema_rg rg;
                assert_int_equal(lfd_schema_rg_read(rd, g, &rg, NULL), LF_OK);
                for (size_t k = 0; k < rg.num_rows; k++) {
                    lfd_stored_row r;
                    lfd_schema_row(&rg, k, &r);
                    assert_true(r.ts >= prev); /* sorted by ts */
                    prev = r.ts;
                    assert_true(r.ts >= f[i].ts_min && r.ts_max <= f[i].ts_max);
                    assert_true((uint64_t)r.spool_seq >= f[i].seq_first &&
                                (uint64_t)r.spool_seq <= f[i].seq_last);
                    if ((uint64_t)r.sequence < cap)
                        counts[r.sequence]++;
                    rows++;
                }
                lfd_schema_rg_free(&rg);
            }
            lf_pq_reader_close(rd);
            lf_buf_free(&data);
            (*nfiles)++;
        }
        free(f);
        if (next.id == 0)
            break;
        c = next;
    }
    return rows;
}

static inline int count_key(void *ctx, const char *key)
{
    (void)key;
    (*(size_t *)ctx)++;
    return 0;
}

static inline size_t wenv_store_objects(wenv *e)
{
    size_t n = 0;
    assert_int_equal(e->app.store->ops->list(e->app.store, "", count_key, &n, NULL), LF_OK);
    return n;
}

#endif

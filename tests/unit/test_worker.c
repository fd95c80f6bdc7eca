/*
 * test_worker.c — the spool → Parquet → store → manifest → release pipeline on a real spool,
 * SQLite metadata and fs store:
 *   - rows land in one file per partition (tenant, app, dt, hour), sorted by ts, with the
 *     schema, several row groups with statistics, and the checkpoint and release follow;
 *   - an undecodable record is quarantined (written to <data>/quarantine) and skipped;
 *   - injected Parquet I/O failures (ENOSPC on write, fsync failure) and a manifest failure:
 *     no release without the manifest, the retry succeeds after the fault clears, no duplicate
 *     and no loss;
 *   - a simulated crash after every step of a flush, then a new worker on the reopened spool,
 *     metadata and store: every row is in exactly one manifest file and no orphan is left;
 *   - the tail announcements.
 */
#include <errno.h>
#include <fcntl.h>

#include "test_worker_env.h"

#define T0      1764298800000000000LL /* 2025-11-28T03:00:00Z */
#define HOUR_NS 3600000000000LL

static lfd_worker *start(wenv *e, const lfd_worker_options *o)
{
    lfd_worker_options opts = o ? *o : (lfd_worker_options){0};
    opts.no_age_flush = true;
    opts.quiet = true;
    lfd_worker *w = NULL;
    lf_error err = {0};
    assert_int_equal(lfd_worker_start_opts(&e->app, &opts, &w, &err), LF_OK);
    e->app.worker = w;
    return w;
}

static void expect_once(wenv *e, size_t n_expected, size_t *nfiles)
{
    unsigned *counts = calloc(n_expected + 1, sizeof *counts);
    size_t rows = wenv_collect(e, e->tenant_a, counts, n_expected + 1, nfiles);
    assert_int_equal(rows, n_expected);
    for (size_t i = 0; i < n_expected; i++)
        if (counts[i] != 1) {
            fprintf(stderr, "row %zu stored %u times\n", i, counts[i]);
            fail();
        }
    free(counts);
}

static void test_basic_flush(void **state)
{
    (void)state;
    wenv e;
    wenv_init(&e);
    lfd_worker *w = start(&e, NULL);
    /* 3 batches: two in hour 03 of app a (out of ts order), one in hour 04 of app b. */
    wenv_append(&e, e.tenant_a, "acme", "a", 10, 0, T0 + 1000, -10, 1);
    wenv_append(&e, e.tenant_a, "acme", "a", 5, 10, T0, 1, 2);
    uint64_t last = wenv_append(&e, e.tenant_a, "acme", "b", 3, 15, T0 + HOUR_NS, 1, 3);
    lf_error err = {0};
    assert_int_equal(lfd_worker_flush(w, &err), LF_OK);
    size_t nfiles = 0;
    expect_once(&e, 18, &nfiles);
    assert_int_equal(nfiles, 2);
    uint64_t cp = 0;
    assert_int_equal(lf_meta_checkpoint_get(e.app.meta, LFD_WORKER_STREAM, &cp, NULL), LF_OK);
    assert_int_equal(cp, last);
    lf_queue_stats qs;
    lf_queue_stats_get(e.app.queue, &qs);
    assert_int_equal(qs.released_seq, last);

    /* Names, partitions and row groups with statistics. */
    lf_meta_file_query q = {.ts_from = INT64_MIN, .ts_to = INT64_MAX, .order = LF_META_ASC};
    lf_meta_file *f = NULL;
    size_t n = 0;
    lf_meta_cursor next;
    assert_int_equal(lf_meta_manifest_query(e.app.meta, e.tenant_a, &q, 10, LF_META_CURSOR_START,
                                            &f, &n, &next, NULL),
                     LF_OK);
    assert_int_equal(n, 2);
    char want[200];
    snprintf(want, sizeof want, "tenant=acme/app=a/dt=2025-11-28/hour=03/%020d.parquet", 1);
    assert_string_equal(f[0].path, want);
    assert_string_equal(f[0].dt, "2025-11-28");
    assert_int_equal(f[0].hour, 3);
    assert_int_equal(f[0].rows, 15);
    assert_int_equal(f[0].ts_min, T0);
    assert_int_equal(f[0].ts_max, T0 + 1000);
    assert_int_equal(f[0].seq_first, 1);
    assert_int_equal(f[0].seq_last, 2);
    assert_int_equal(f[1].hour, 4);
    lf_buf data = LF_BUF_INIT;
    assert_int_equal(e.app.store->ops->get(e.app.store, f[0].path, &data, NULL), LF_OK);
    lf_pq_reader *rd = NULL;
    assert_int_equal(lfd_schema_open(data.data, data.len, &rd, NULL), LF_OK);
    assert_int_equal(lf_pq_reader_num_row_groups(rd), 4); /* 15 rows, 4 per group */
    int64_t prev_max = INT64_MIN;
    for (size_t g = 0; g < 4; g++) {
        int64_t mn, mx;
        assert_true(lfd_schema_rg_bounds(rd, g, &mn, &mx));
        assert_true(mn >= prev_max);
        prev_max = mx;
    }
    assert_string_equal(lf_pq_reader_kv_get(rd, LFD_SCHEMA_KV_KEY), LFD_SCHEMA_VERSION);
    lf_pq_reader_close(rd);
    lf_buf_free(&data);
    free(f);

    /* Tail announcements: two files, in commit order, for tenant a only. */
    lfd_tail_file tf[8];
    uint64_t lastseq = 0;
    bool gap = true;
    assert_int_equal(lfd_worker_tail_wait(w, e.tenant_a, 0, 0, tf, 8, &lastseq, &gap), 2);
    assert_false(gap);
    assert_int_equal(lastseq, 2);
    assert_int_equal(lfd_worker_tail_wait(w, e.tenant_b, 0, 0, tf, 8, &lastseq, &gap), 0);
    assert_int_equal(lfd_worker_tail_wait(w, e.tenant_a, 2, 50, tf, 8, &lastseq, &gap), 0);
    assert_int_equal(lfd_worker_tail_seq_at(w, 0), 0);
    assert_int_equal(lfd_worker_tail_seq_at(w, INT64_MAX), 2);

    /* Nothing new: a flush is a no-op. Then more data goes on after the checkpoint. */
    assert_int_equal(lfd_worker_flush(w, &err), LF_OK);
    wenv_append(&e, e.tenant_a, "acme", "a", 2, 18, T0 + 5, 1, 1);
    assert_int_equal(lfd_worker_flush(w, &err), LF_OK);
    expect_once(&e, 20, &nfiles);
    assert_int_equal(nfiles, 3);
    lfd_worker_stats st;
    lfd_worker_stats_get(w, &st);
    assert_int_equal(st.rows, 20);
    assert_int_equal(st.records, 4);
    wenv_free(&e);
}

static void test_flush_on_stop_and_by_size(void **state)
{
    (void)state;
    wenv e;
    wenv_init(&e);
    e.cfg.worker_flush_rows = 5;
    lfd_worker *w = start(&e, NULL);
    wenv_append(&e, e.tenant_a, "acme", "a", 6, 0, T0, 1, 1);
    /* Over flush_rows: the worker flushes by itself (bounded wait). */
    uint64_t cp = 0;
    for (int i = 0; i < 200 && cp == 0; i++) {
        usleep(20000);
        assert_int_equal(lf_meta_checkpoint_get(e.app.meta, LFD_WORKER_STREAM, &cp, NULL), LF_OK);
    }
    assert_int_equal(cp, 1);
    e.cfg.worker_flush_rows = 1000;
    wenv_append(&e, e.tenant_a, "acme", "a", 3, 6, T0, 1, 1);
    usleep(150000); /* read but not flushed (no age flush in tests) */
    lfd_worker_stop(w);
    e.app.worker = NULL;
    size_t nfiles;
    expect_once(&e, 9, &nfiles);
    assert_int_equal(nfiles, 2);
    wenv_free(&e);
}

static void test_age_flush(void **state)
{
    (void)state;
    wenv e;
    wenv_init(&e);
    e.cfg.worker_flush_interval_ms = 100;
    lfd_worker_options o = {.quiet = true};
    lf_error err = {0};
    assert_int_equal(lfd_worker_start_opts(&e.app, &o, &e.app.worker, &err), LF_OK);
    wenv_append(&e, e.tenant_a, "acme", "a", 2, 0, T0, 1, 1);
    uint64_t cp = 0;
    for (int i = 0; i < 250 && cp == 0; i++) {
        usleep(20000);
        assert_int_equal(lf_meta_checkpoint_get(e.app.meta, LFD_WORKER_STREAM, &cp, NULL), LF_OK);
    }
    assert_int_equal(cp, 1);
    wenv_free(&e);
}

static void test_quarantine(void **state)
{
    (void)state;
    wenv e;
    wenv_init(&e);
    lfd_worker *w = start(&e, NULL);
    wenv_append(&e, e.tenant_a, "acme", "a", 2, 0, T0, 1, 1);
    uint64_t bad = 0;
    assert_int_equal(lf_queue_append1(e.app.queue, "LFB1garbage", 11, &bad, NULL), LF_OK);
    wenv_append(&e, e.tenant_a, "acme", "a", 2, 2, T0, 1, 1);
    lf_error err = {0};
    assert_int_equal(lfd_worker_flush(w, &err), LF_OK);
    size_t nfiles;
    expect_once(&e, 4, &nfiles);
    char p[600];
    snprintf(p, sizeof p, "%s/quarantine/%020llu.rec", e.dir, (unsigned long long)bad);
    lf_buf q = lf_test_read_file(p);
    assert_int_equal(q.len, 11);
    assert_memory_equal(q.data, "LFB1garbage", 11);
    lf_buf_free(&q);
    lfd_worker_stats st;
    lfd_worker_stats_get(w, &st);
    assert_int_equal(st.quarantined, 1);
    assert_int_equal(st.checkpoint, 3);
    wenv_free(&e);
}

/* ---- Parquet I/O faults ---- */

typedef struct fault {
    int fail_write; /* errno to fail writes with, 0 = none */
    int fail_fsync;
    int writes_before; /* successful writes before failing */
} fault;

static ssize_t f_write(void *ctx, int fd, const void *buf, size_t len)
{
    fault *f = ctx;
    if (f->fail_write) {
        if (f->writes_before > 0) {
            f->writes_before--;
            return write(fd, buf, len > 7 ? 7 : len); /* and a short write */
        }
        errno = f->fail_write;
        return -1;
    }
    return write(fd, buf, len);
}

static int f_fsync(void *ctx, int fd)
{
    fault *f = ctx;
    if (f->fail_fsync) {
        errno = f->fail_fsync;
        return -1;
    }
    return fsync(fd);
}

static void check_no_progress(wenv *e)
{
    uint64_t cp = 0;
    assert_int_equal(lf_meta_checkpoint_get(e->app.meta, LFD_WORKER_STREAM, &cp, NULL), LF_OK);
    assert_int_equal(cp, 0);
    lf_queue_stats qs;
    lf_queue_stats_get(e->app.queue, &qs);
    assert_int_equal(qs.released_seq, 0);
    size_t nfiles = 0;
    unsigned counts[1];
    assert_int_equal(wenv_collect(e, e->tenant_a, counts, 0, &nfiles), 0);
}

static void test_parquet_io_faults(void **state)
{
    (void)state;
    int modes[][3] = {{ENOSPC, 0, 0}, {EIO, 0, 2}, {0, EIO, 0}};
    for (size_t m = 0; m < 3; m++) {
        wenv e;
        wenv_init(&e);
        fault f = {modes[m][0], modes[m][1], modes[m][2]};
        lfd_worker_options o = {.pq_write = f_write, .pq_fsync = f_fsync, .io_ctx = &f};
        lfd_worker *w = start(&e, &o);
        wenv_append(&e, e.tenant_a, "acme", "a", 7, 0, T0, 1, 1);
        wenv_append(&e, e.tenant_a, "acme", "b", 3, 7, T0, 1, 1);
        lf_error err = {0};
        assert_int_not_equal(lfd_worker_flush(w, &err), LF_OK);
        assert_int_not_equal(lfd_worker_flush(w, &err), LF_OK); /* still failing */
        check_no_progress(&e);
        /* Data that arrives meanwhile stays in the spool until the retry succeeds. */
        wenv_append(&e, e.tenant_a, "acme", "a", 2, 10, T0, 1, 1);
        f.fail_write = 0;
        f.fail_fsync = 0;
        assert_int_equal(lfd_worker_flush(w, &err), LF_OK);
        size_t nfiles;
        expect_once(&e, 12, &nfiles);
        assert_int_equal(wenv_store_objects(&e), nfiles);
        lfd_worker_stats st;
        lfd_worker_stats_get(w, &st);
        assert_true(st.flush_errors >= 2);
        wenv_free(&e);
    }
}

static void test_manifest_fault(void **state)
{
    (void)state;
    wenv e;
    wenv_init(&e);
    lfd_worker *w = start(&e, NULL);
    wenv_append(&e, e.tenant_a, "acme", "a", 4, 0, T0, 1, 1);
    wenv_append(&e, e.tenant_a, "acme", "a", 4, 4, T0 + HOUR_NS, 1, 1);
    lf_meta_sqlite_test_fail_next_manifest_add(e.app.meta);
    lf_error err = {0};
    assert_int_not_equal(lfd_worker_flush(w, &err), LF_OK);
    check_no_progress(&e);
    /* The files were renamed in; the retry replaces them under the same names. */
    assert_int_equal(wenv_store_objects(&e), 2);
    assert_int_equal(lfd_worker_flush(w, &err), LF_OK);
    size_t nfiles;
    expect_once(&e, 8, &nfiles);
    assert_int_equal(nfiles, 2);
    assert_int_equal(wenv_store_objects(&e), 2);
    lf_queue_stats qs;
    lf_queue_stats_get(e.app.queue, &qs);
    assert_int_equal(qs.released_seq, 2);
    wenv_free(&e);
}

/* ---- crash after every step ---- */

typedef struct crash_at {
    lfd_worker_step step;
    int skip; /* occurrences to let pass first */
} crash_at;

static bool crash_hook(void *ctx, lfd_worker_step step)
{
    crash_at *c = ctx;
    if (step != c->step)
        return false;
    if (c->skip > 0) {
        c->skip--;
        return false;
    }
    return true;
}

static void test_crash_points(void **state)
{
    (void)state;
    struct {
        lfd_worker_step step;
        int skip;
    } points[] = {
        {LFD_WSTEP_WRITE, 0},   {LFD_WSTEP_PUT_ONE, 0},  {LFD_WSTEP_PUT_ONE, 1},
        {LFD_WSTEP_PUT_ALL, 0}, {LFD_WSTEP_MANIFEST, 0}, {LFD_WSTEP_RELEASE, 0},
        {LFD_WSTEP_WRITE, 1},   {LFD_WSTEP_MANIFEST, 1},
    };
    for (size_t pi = 0; pi < sizeof points / sizeof points[0]; pi++) {
        wenv e;
        wenv_init(&e);
        crash_at c = {points[pi].step, points[pi].skip};
        lfd_worker_options o = {.crash_after = crash_hook, .hook_ctx = &c};
        lfd_worker *w = start(&e, &o);
        size_t total = 0;
        lf_error err = {0};
        /* Two flushes' worth, three partitions each; the crash hits the first or second. */
        for (int round = 0; round < 2; round++) {
            wenv_append(&e, e.tenant_a, "acme", "a", 5, total, T0, 3, 1);
            total += 5;
            wenv_append(&e, e.tenant_a, "acme", "b", 4, total, T0 + HOUR_NS, 3, 2);
            total += 4;
            wenv_append(&e, e.tenant_a, "acme", "a", 3, total, T0 + 2 * HOUR_NS, 3, 1);
            total += 3;
            lf_err rc = lfd_worker_flush(w, &err);
            lfd_worker_stats st;
            lfd_worker_stats_get(w, &st);
            if (st.crashed) {
                assert_int_not_equal(rc, LF_OK);
                break;
            }
            assert_int_equal(rc, LF_OK);
        }
        lfd_worker_stats st;
        lfd_worker_stats_get(w, &st);
        assert_true(st.crashed);
        /* "Process death": the thread is gone; drop the worker and reopen everything. */
        lfd_worker_stop(w);
        e.app.worker = NULL;
        wenv_close_parts(&e);
        wenv_open_parts(&e);
        /* More acknowledged data after the restart. */
        w = start(&e, NULL);
        wenv_append(&e, e.tenant_a, "acme", "b", 2, total, T0, 1, 1);
        total += 2;
        assert_int_equal(lfd_worker_flush(w, &err), LF_OK);
        size_t nfiles;
        expect_once(&e, total, &nfiles);
        /* No orphan in the store, nothing left in scratch. */
        assert_int_equal(wenv_store_objects(&e), nfiles);
        DIR *d = opendir(lfd_store_fs_scratch(e.app.store));
        assert_non_null(d);
        struct dirent *de;
        int left = 0;
        while ((de = readdir(d)) != NULL)
            left += de->d_name[0] != '.';
        closedir(d);
        assert_int_equal(left, 0);
        wenv_free(&e);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_basic_flush),       cmocka_unit_test(test_flush_on_stop_and_by_size),
        cmocka_unit_test(test_age_flush),         cmocka_unit_test(test_quarantine),
        cmocka_unit_test(test_parquet_io_faults), cmocka_unit_test(test_manifest_fault),
        cmocka_unit_test(test_crash_points),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

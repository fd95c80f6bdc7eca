/*
 * test_agent_buffer.c — the agent's disk buffer (src/agent/buffer/): append/peek/ack across
 * restarts, the size bound under both policies (block loses nothing; drop_oldest counts exactly
 * what it drops), a torn tail at every byte offset of the last item, a corrupt middle segment
 * quarantined while the rest survives, injected short writes / ENOSPC / fsync failures (no
 * acknowledgement, works again once the fault clears), a fork + SIGKILL crash loop proving that
 * every acknowledged append survives exactly once, one appender and one shipper thread at once,
 * and a check of what reaches the disk (the buffer stores bytes verbatim: feeding it plaintext
 * would put plaintext on disk, so the caller must only feed sealed bodies).
 */
#define _XOPEN_SOURCE 700 /* nftw */
#include "testutil.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "buffer/buffer.h"

/* ---- helpers ---- */

static int rm_entry(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(p);
}

static void rm_rf(const char *dir)
{
    nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static void make_dir(char *out)
{
    strcpy(out, "/tmp/lf-abuf-XXXXXX");
    assert_non_null(mkdtemp(out));
}

/* Deterministic body for a key, so any item can be checked against its key. */
static void body_for(const char *key, uint8_t *body, size_t len)
{
    uint32_t h = 2166136261u;
    for (const char *p = key; *p; p++)
        h = (h ^ (uint8_t)*p) * 16777619u;
    for (size_t i = 0; i < len; i++) {
        h = h * 1103515245u + 12345u;
        body[i] = (uint8_t)(h >> 16);
    }
}

static lf_err append_n(lf_agent_buffer *b, unsigned n, size_t body_len, uint64_t *id)
{
    char key[40];
    snprintf(key, sizeof key, "key-%012u-abcdef", n);
    uint8_t *body = malloc(body_len ? body_len : 1);
    body_for(key, body, body_len);
    lf_agent_buffer_input in = {.app = "web",
                                .idempotency_key = key,
                                .records = n % 7 + 1,
                                .created_ms = 1700000000000 + n,
                                .body = body,
                                .body_len = body_len};
    lf_error e = {0};
    lf_err rc = lf_agent_buffer_append(b, &in, id, &e);
    free(body);
    return rc;
}

static void check_item(const lf_agent_buffer_item *it, size_t body_len)
{
    uint8_t *want = malloc(body_len ? body_len : 1);
    body_for(it->idempotency_key, want, body_len);
    assert_int_equal(it->body_len, body_len);
    assert_memory_equal(it->body, want, body_len);
    unsigned n = 0;
    assert_int_equal(sscanf(it->idempotency_key, "key-%u-", &n), 1);
    assert_int_equal(it->records, n % 7 + 1);
    assert_int_equal(it->created_ms, 1700000000000 + n);
    assert_string_equal(it->app, "web");
    free(want);
}

static size_t count_files(const char *dir, const char *suffix)
{
    DIR *d = opendir(dir);
    if (d == NULL)
        return 0;
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        size_t l = strlen(e->d_name), s = strlen(suffix);
        if (l >= s && strcmp(e->d_name + l - s, suffix) == 0)
            n++;
    }
    closedir(d);
    return n;
}

/* Names of segment files, sorted. */
static size_t list_segs(const char *dir, char names[][32], size_t cap)
{
    DIR *d = opendir(dir);
    assert_non_null(d);
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        if (strlen(e->d_name) == 24 && strstr(e->d_name, ".seg") && n < cap)
            memcpy(names[n++], e->d_name, 25); /* 24 characters and the NUL */
    closedir(d);
    qsort(names, n, 32, (int (*)(const void *, const void *))strcmp);
    return n;
}

static lf_agent_buffer *open_buf(const char *dir, const lf_agent_buffer_options *o)
{
    lf_agent_buffer *b = NULL;
    lf_error e = {0};
    lf_err rc = lf_agent_buffer_open(dir, o, &b, &e);
    if (rc != LF_OK)
        fail_msg("open: %s", e.message);
    return b;
}

/* ---- append / peek / ack / restart ---- */

static void test_roundtrip(void **state)
{
    (void)state;
    char dir[64];
    make_dir(dir);
    lf_agent_buffer *b = open_buf(dir, NULL);
    uint64_t ids[5];
    for (unsigned i = 0; i < 5; i++)
        assert_int_equal(append_n(b, i, 100 + i, &ids[i]), LF_OK);
    for (unsigned i = 0; i < 5; i++)
        assert_int_equal(ids[i], i + 1);
    lf_agent_buffer_item *it;
    size_t n;
    assert_int_equal(lf_agent_buffer_peek(b, 10, &it, &n, NULL), LF_OK);
    assert_int_equal(n, 5);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(it[i].id, i + 1);
        check_item(&it[i], 100 + i);
    }
    lf_agent_buffer_items_free(it, n);
    lf_agent_buffer_stats st;
    lf_agent_buffer_stats_get(b, &st);
    assert_int_equal(st.items_pending, 5);
    assert_int_equal(st.records_pending, 1 + 2 + 3 + 4 + 5);

    assert_int_equal(lf_agent_buffer_ack(b, 3, NULL), LF_OK);
    assert_int_equal(lf_agent_buffer_ack(b, 2, NULL), LF_OK); /* below the checkpoint: no-op */
    lf_error e = {0};
    assert_int_equal(lf_agent_buffer_ack(b, 99, &e), LF_ERR_INVALID);
    assert_int_equal(lf_agent_buffer_peek(b, 1, &it, &n, NULL), LF_OK);
    assert_int_equal(n, 1);
    assert_int_equal(it[0].id, 4);
    lf_agent_buffer_items_free(it, n);
    lf_agent_buffer_close(b);

    b = open_buf(dir, NULL);
    assert_int_equal(lf_agent_buffer_peek(b, 10, &it, &n, NULL), LF_OK);
    assert_int_equal(n, 2);
    assert_int_equal(it[0].id, 4);
    assert_int_equal(it[1].id, 5);
    check_item(&it[1], 104);
    lf_agent_buffer_items_free(it, n);
    uint64_t id;
    assert_int_equal(append_n(b, 5, 10, &id), LF_OK);
    assert_int_equal(id, 6);
    assert_int_equal(lf_agent_buffer_ack(b, 6, NULL), LF_OK);
    lf_agent_buffer_stats_get(b, &st);
    assert_int_equal(st.items_pending, 0);
    assert_int_equal(st.bytes_used, 0); /* fully acked segments are deleted */
    assert_int_equal(count_files(dir, ".seg"), 0);
    assert_int_equal(lf_agent_buffer_peek(b, 10, &it, &n, NULL), LF_OK);
    assert_int_equal(n, 0);
    assert_null(it);
    lf_agent_buffer_close(b);

    /* ids are never reused after everything was acked and deleted */
    b = open_buf(dir, NULL);
    assert_int_equal(append_n(b, 6, 10, &id), LF_OK);
    assert_int_equal(id, 7);
    lf_agent_buffer_close(b);
    rm_rf(dir);
}

static void test_invalid_input(void **state)
{
    (void)state;
    char dir[64];
    make_dir(dir);
    lf_agent_buffer_options o = {.max_bytes = 8192, .segment_bytes = 4096};
    lf_agent_buffer *b = open_buf(dir, &o);
    uint8_t body[16] = {0};
    lf_agent_buffer_input in = {
        .app = "web", .idempotency_key = "short", .records = 1, .body = body, .body_len = 16};
    lf_error e = {0};
    assert_int_equal(lf_agent_buffer_append(b, &in, NULL, &e), LF_ERR_INVALID);
    in.idempotency_key = "0123456789abcdef!";
    assert_int_equal(lf_agent_buffer_append(b, &in, NULL, &e), LF_ERR_INVALID);
    in.idempotency_key = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdefX";
    assert_int_equal(lf_agent_buffer_append(b, &in, NULL, &e), LF_ERR_INVALID);
    in.idempotency_key = "0123456789abcdef_-";
    in.app = "";
    assert_int_equal(lf_agent_buffer_append(b, &in, NULL, &e), LF_ERR_INVALID);
    in.app = "a\nb";
    assert_int_equal(lf_agent_buffer_append(b, &in, NULL, &e), LF_ERR_INVALID);
    in.app = "web";
    assert_int_equal(lf_agent_buffer_append(b, &in, NULL, &e), LF_OK);
    uint8_t *big = calloc(1, 8192);
    in.body = big;
    in.body_len = 8192;
    assert_int_equal(lf_agent_buffer_append(b, &in, NULL, &e), LF_ERR_TOO_LARGE);
    free(big);
    lf_agent_buffer_close(b);
    lf_agent_buffer_options bad = {.max_bytes = 8192, .segment_bytes = 16384};
    assert_int_equal(lf_agent_buffer_open(dir, &bad, &b, &e), LF_ERR_INVALID);
    rm_rf(dir);
}

/* The on-disk format, byte for byte (expected bytes computed by an independent Python script
 * from docs/AGENT-BUFFER.md, including the CRC-32C). */
static void test_format_bytes(void **state)
{
    (void)state;
    static const char seg_hex[] =
        "4c4641425345473101000000000000000100000000000000000000006cfdf6b04c464149010000000000"
        "00000068e5cf8b01000003000000140000000300140000000000124b8eec7765626b65792d3030303030"
        "303030303030312d6162637878787878787878787878787878787878787878";
    static const char ckpt_hex[] = "4c464142434b50310100000000000000000000003e8b19ec";
    char dir[64], p[128];
    make_dir(dir);
    lf_agent_buffer *b = open_buf(dir, NULL);
    lf_agent_buffer_input in = {.app = "web",
                                .idempotency_key = "key-000000000001-abc",
                                .records = 3,
                                .created_ms = 1700000000000,
                                .body = (const uint8_t *)"xxxxxxxxxxxxxxxxxxxx",
                                .body_len = 20};
    assert_int_equal(lf_agent_buffer_append(b, &in, NULL, NULL), LF_OK);
    snprintf(p, sizeof p, "%s/00000000000000000001.seg", dir);
    lf_buf f = lf_test_read_file(p);
    json_t *j = json_pack("{ss ss}", "seg", seg_hex, "ckpt", ckpt_hex);
    lf_buf want = lf_test_hex(j, "seg");
    assert_int_equal(f.len, want.len);
    assert_memory_equal(f.data, want.data, want.len);
    lf_buf_free(&f);
    lf_buf_free(&want);
    /* a second item keeps the segment alive, so the checkpoint stays visible after the ack */
    in.idempotency_key = "key-000000000002-abc";
    assert_int_equal(lf_agent_buffer_append(b, &in, NULL, NULL), LF_OK);
    assert_int_equal(lf_agent_buffer_ack(b, 1, NULL), LF_OK);
    snprintf(p, sizeof p, "%s/acked.ckpt", dir);
    f = lf_test_read_file(p);
    want = lf_test_hex(j, "ckpt");
    assert_int_equal(f.len, want.len);
    assert_memory_equal(f.data, want.data, want.len);
    lf_buf_free(&f);
    lf_buf_free(&want);
    json_decref(j);
    lf_agent_buffer_close(b);
    rm_rf(dir);
}

/* ---- the bound ---- */

static void test_bound_block(void **state)
{
    (void)state;
    char dir[64];
    make_dir(dir);
    lf_agent_buffer_options o = {.max_bytes = 8192, .segment_bytes = 2048};
    lf_agent_buffer *b = open_buf(dir, &o);
    unsigned appended = 0;
    lf_err rc;
    while ((rc = append_n(b, appended, 200, NULL)) == LF_OK)
        appended++;
    assert_int_equal(rc, LF_ERR_FULL);
    assert_true(appended > 10);
    lf_agent_buffer_stats st;
    lf_agent_buffer_stats_get(b, &st);
    assert_true(st.bytes_used <= 8192);
    assert_int_equal(st.items_pending, appended);
    assert_int_equal(st.dropped_items, 0);
    /* still full on retry; nothing was lost */
    assert_int_equal(append_n(b, appended, 200, NULL), LF_ERR_FULL);
    lf_agent_buffer_item *it;
    size_t n;
    assert_int_equal(lf_agent_buffer_peek(b, 1000, &it, &n, NULL), LF_OK);
    assert_int_equal(n, appended);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(it[i].id, i + 1);
        check_item(&it[i], 200);
    }
    /* shipping makes room again */
    assert_int_equal(lf_agent_buffer_ack(b, it[n / 2].id, NULL), LF_OK);
    lf_agent_buffer_items_free(it, n);
    assert_int_equal(append_n(b, appended, 200, NULL), LF_OK);
    lf_agent_buffer_close(b);
    rm_rf(dir);
}

static void test_bound_drop_oldest(void **state)
{
    (void)state;
    char dir[64];
    make_dir(dir);
    lf_agent_buffer_options o = {
        .max_bytes = 8192, .segment_bytes = 2048, .policy = LF_AGENT_BUFFER_DROP_OLDEST};
    lf_agent_buffer *b = open_buf(dir, &o);
    const unsigned total = 200;
    uint64_t records_total = 0;
    for (unsigned i = 0; i < total; i++) {
        uint64_t id;
        assert_int_equal(append_n(b, i, 200, &id), LF_OK);
        assert_int_equal(id, i + 1);
        records_total += i % 7 + 1;
        if (i == 3)
            assert_int_equal(lf_agent_buffer_ack(b, 2, NULL), LF_OK); /* acked: not "dropped" */
    }
    lf_agent_buffer_stats st;
    lf_agent_buffer_stats_get(b, &st);
    assert_true(st.bytes_used <= 8192);
    assert_true(st.dropped_items > 0);
    lf_agent_buffer_item *it;
    size_t n;
    assert_int_equal(lf_agent_buffer_peek(b, 1000, &it, &n, NULL), LF_OK);
    assert_int_equal(n, st.items_pending);
    /* what is left is the newest, contiguous; what went is counted exactly */
    uint64_t first = it[0].id;
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(it[i].id, first + i);
        check_item(&it[i], 200);
    }
    assert_int_equal(it[n - 1].id, total);
    uint64_t records_dropped = 0;
    for (unsigned i = 2; i < first - 1; i++) /* items 3 .. first-1, i.e. n = 2 .. first-2 */
        records_dropped += i % 7 + 1;
    assert_int_equal(st.dropped_items, first - 1 - 2);
    assert_int_equal(st.dropped_records, records_dropped);
    assert_int_equal(st.records_pending + st.dropped_records + 1 + 2, records_total);
    lf_agent_buffer_items_free(it, n);
    lf_agent_buffer_close(b);
    rm_rf(dir);
}

/* ---- torn tail and corruption ---- */

static off_t file_size(const char *p)
{
    struct stat sb;
    assert_int_equal(stat(p, &sb), 0);
    return sb.st_size;
}

static void test_torn_tail_every_offset(void **state)
{
    (void)state;
    char dir[64];
    make_dir(dir);
    char seg[128];
    snprintf(seg, sizeof seg, "%s/00000000000000000001.seg", dir);
    /* Build once, remember the full file, then cut it at every offset of the last item. */
    lf_agent_buffer *b = open_buf(dir, NULL);
    assert_int_equal(append_n(b, 0, 30, NULL), LF_OK);
    assert_int_equal(append_n(b, 1, 30, NULL), LF_OK);
    off_t start = file_size(seg);
    assert_int_equal(append_n(b, 2, 30, NULL), LF_OK);
    lf_agent_buffer_close(b);
    lf_buf full = lf_test_read_file(seg);
    for (off_t cut = start; cut < (off_t)full.len; cut++) {
        for (int mode = 0; mode < 2; mode++) {
            /* mode 0: the file ends at cut; mode 1: garbage from cut on (a torn page) */
            FILE *f = fopen(seg, "wb");
            assert_non_null(f);
            assert_int_equal(fwrite(full.data, 1, (size_t)cut, f), (size_t)cut);
            if (mode == 1)
                for (off_t k = cut; k < (off_t)full.len; k++)
                    fputc((int)(full.data[k] ^ 0x5A), f);
            fclose(f);
            size_t written = mode == 1 ? full.len : (size_t)cut;
            b = open_buf(dir, NULL);
            lf_agent_buffer_stats st;
            lf_agent_buffer_stats_get(b, &st);
            assert_int_equal(st.recovered_bytes_truncated, written - (size_t)start);
            assert_int_equal(st.items_pending, 2);
            assert_int_equal(st.quarantined_segments, 0);
            assert_int_equal(file_size(seg), start);
            lf_agent_buffer_item *it;
            size_t n;
            assert_int_equal(lf_agent_buffer_peek(b, 10, &it, &n, NULL), LF_OK);
            assert_int_equal(n, 2);
            check_item(&it[0], 30);
            check_item(&it[1], 30);
            lf_agent_buffer_items_free(it, n);
            lf_agent_buffer_close(b);
        }
    }
    lf_buf_free(&full);
    /* and it keeps working: the next append lands right after the survivors */
    b = open_buf(dir, NULL);
    uint64_t id;
    assert_int_equal(append_n(b, 2, 30, &id), LF_OK);
    assert_int_equal(id, 3);
    lf_agent_buffer_close(b);
    rm_rf(dir);
}

static void test_corrupt_middle_segment(void **state)
{
    (void)state;
    char dir[64], q[96];
    make_dir(dir);
    snprintf(q, sizeof q, "%s/quarantine", dir);
    lf_agent_buffer_options o = {.max_bytes = 1 << 20, .segment_bytes = 1024};
    lf_agent_buffer *b = open_buf(dir, &o);
    for (unsigned i = 0; i < 30; i++)
        assert_int_equal(append_n(b, i, 200, NULL), LF_OK);
    lf_agent_buffer_close(b);
    char names[64][32];
    size_t nseg = list_segs(dir, names, 64);
    assert_true(nseg >= 4);
    char victim[128];
    snprintf(victim, sizeof victim, "%s/%s", dir, names[1]);
    /* one flipped bit in the body of the middle segment's last item */
    int fd = open(victim, O_RDWR);
    assert_true(fd >= 0);
    off_t sz = file_size(victim);
    uint8_t c;
    assert_int_equal(pread(fd, &c, 1, sz - 3), 1);
    c ^= 0x10;
    assert_int_equal(pwrite(fd, &c, 1, sz - 3), 1);
    close(fd);
    uint64_t victim_first = strtoull(names[1], NULL, 10);
    uint64_t next_first = strtoull(names[2], NULL, 10);

    b = open_buf(dir, &o);
    lf_agent_buffer_stats st;
    lf_agent_buffer_stats_get(b, &st);
    assert_int_equal(st.quarantined_segments, 1);
    uint64_t lost = next_first - victim_first;
    assert_int_equal(st.items_pending, 30 - lost);
    assert_int_equal(count_files(q, ".reason"), 1);
    assert_int_equal(count_files(dir, ".seg"), nseg - 1);
    lf_agent_buffer_item *it;
    size_t n;
    assert_int_equal(lf_agent_buffer_peek(b, 100, &it, &n, NULL), LF_OK);
    assert_int_equal(n, 30 - lost);
    for (size_t i = 0; i < n; i++) {
        assert_true(it[i].id < victim_first || it[i].id >= next_first);
        check_item(&it[i], 200);
    }
    lf_agent_buffer_items_free(it, n);
    uint64_t id;
    assert_int_equal(append_n(b, 30, 200, &id), LF_OK);
    assert_int_equal(id, 31);
    lf_agent_buffer_close(b);

    /* damage found at peek time (after open) is quarantined too, and peek goes on */
    nseg = list_segs(dir, names, 64);
    snprintf(victim, sizeof victim, "%s/%s", dir, names[0]);
    b = open_buf(dir, &o);
    fd = open(victim, O_RDWR);
    assert_true(fd >= 0);
    assert_int_equal(pwrite(fd, "XXXX", 4, 40), 4);
    close(fd);
    assert_int_equal(lf_agent_buffer_peek(b, 100, &it, &n, NULL), LF_OK);
    lf_agent_buffer_stats_get(b, &st);
    assert_int_equal(st.quarantined_segments, 1);
    assert_int_equal(n, st.items_pending);
    assert_true(n > 0);
    lf_agent_buffer_items_free(it, n);
    assert_int_equal(count_files(q, ".reason"), 2);
    lf_agent_buffer_close(b);

    /* a damaged checkpoint is quarantined and everything is delivered again */
    char ck[128];
    snprintf(ck, sizeof ck, "%s/acked.ckpt", dir);
    b = open_buf(dir, &o);
    assert_int_equal(lf_agent_buffer_ack(b, 25, NULL), LF_OK);
    lf_agent_buffer_close(b);
    FILE *f = fopen(ck, "wb");
    fputs("garbage", f);
    fclose(f);
    b = open_buf(dir, &o);
    lf_agent_buffer_stats_get(b, &st);
    assert_int_equal(st.checkpoint_resets, 1);
    assert_true(st.items_pending >= 6);
    lf_agent_buffer_close(b);
    rm_rf(dir);
}

/* ---- injected faults ---- */

typedef struct fault {
    int short_write; /* next pwrite writes half, the one after fails ENOSPC */
    int enospc;      /* pwrite fails ENOSPC */
    int eio_sync;    /* fdatasync fails EIO */
    int fail_rename;
    int phase;
} fault;

static int f_open(void *c, const char *p, int fl, mode_t m)
{
    (void)c;
    return lf_agent_buffer_io_posix()->open(NULL, p, fl, m);
}
static int f_close(void *c, int fd)
{
    (void)c;
    return close(fd);
}
static ssize_t f_pread(void *c, int fd, void *b, size_t l, off_t o)
{
    (void)c;
    return pread(fd, b, l, o);
}
static ssize_t f_pwrite(void *c, int fd, const void *b, size_t l, off_t o)
{
    fault *f = c;
    if (f->enospc) {
        errno = ENOSPC;
        return -1;
    }
    if (f->short_write) {
        if (f->phase++ % 2 == 0 && l > 1)
            return pwrite(fd, b, l / 2, o);
        errno = ENOSPC;
        return -1;
    }
    return pwrite(fd, b, l, o);
}
static int f_fdatasync(void *c, int fd)
{
    fault *f = c;
    if (f->eio_sync) {
        errno = EIO;
        return -1;
    }
    return fdatasync(fd);
}
static int f_fsync(void *c, int fd)
{
    fault *f = c;
    (void)f;
    return fsync(fd);
}
static int f_ftruncate(void *c, int fd, off_t l)
{
    (void)c;
    return ftruncate(fd, l);
}
static int f_rename(void *c, const char *a, const char *b)
{
    fault *f = c;
    if (f->fail_rename) {
        errno = EIO;
        return -1;
    }
    return rename(a, b);
}
static int f_unlink(void *c, const char *p)
{
    (void)c;
    return unlink(p);
}
static const lf_agent_buffer_io fault_io = {f_open,  f_close,     f_pread,  f_pwrite, f_fdatasync,
                                            f_fsync, f_ftruncate, f_rename, f_unlink};

static void test_injected_faults(void **state)
{
    (void)state;
    char dir[64];
    make_dir(dir);
    fault f = {0};
    lf_agent_buffer_options o = {
        .max_bytes = 1 << 20, .segment_bytes = 600, .io = &fault_io, .io_ctx = &f};
    lf_agent_buffer *b = open_buf(dir, &o);
    unsigned ok = 0;
    int *modes[] = {&f.short_write, &f.enospc, &f.eio_sync};
    for (int round = 0; round < 12; round++) {
        /* a few good appends, one faulty, then good again */
        for (int k = 0; k < 2; k++) {
            uint64_t id;
            assert_int_equal(append_n(b, ok, 100, &id), LF_OK);
            assert_int_equal(id, ok + 1);
            ok++;
        }
        int *m = modes[round % 3];
        *m = 1;
        f.phase = 0;
        lf_agent_buffer_stats before, after;
        lf_agent_buffer_stats_get(b, &before);
        uint64_t id = 0;
        lf_error e = {0};
        assert_int_equal(append_n(b, 9999, 100, &id), LF_ERR_IO);
        assert_int_equal(lf_agent_buffer_append(
                             b,
                             &(lf_agent_buffer_input){
                                 .app = "web", .idempotency_key = "0123456789abcdef", .records = 1},
                             &id, &e),
                         LF_ERR_IO);
        assert_int_equal(id, 0);
        assert_non_null(strstr(e.message, dir));
        lf_agent_buffer_stats_get(b, &after);
        assert_int_equal(after.items_pending, before.items_pending);
        *m = 0;
    }
    /* ack durability: a failed checkpoint rename is an error and changes nothing */
    f.fail_rename = 1;
    assert_int_equal(lf_agent_buffer_ack(b, 1, NULL), LF_ERR_IO);
    f.fail_rename = 0;
    lf_agent_buffer_item *it;
    size_t n;
    assert_int_equal(lf_agent_buffer_peek(b, 1000, &it, &n, NULL), LF_OK);
    assert_int_equal(n, ok);
    assert_int_equal(it[0].id, 1);
    lf_agent_buffer_items_free(it, n);
    lf_agent_buffer_close(b);

    /* after restart: exactly the acknowledged appends, in order, nothing else */
    b = open_buf(dir, NULL);
    lf_agent_buffer_stats st;
    lf_agent_buffer_stats_get(b, &st);
    assert_int_equal(st.quarantined_segments, 0);
    assert_int_equal(lf_agent_buffer_peek(b, 1000, &it, &n, NULL), LF_OK);
    assert_int_equal(n, ok);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(it[i].id, i + 1);
        check_item(&it[i], 100);
    }
    lf_agent_buffer_items_free(it, n);
    lf_agent_buffer_close(b);
    rm_rf(dir);
}

/* ---- crash loop: fork, append, SIGKILL at a random moment, reopen, check ---- */

#define CRASH_MAX_IDS 200000

static void crash_child(const char *dir, int wfd, unsigned seed)
{
    lf_agent_buffer_options o = {.max_bytes = 64 << 20, .segment_bytes = 4096};
    lf_agent_buffer *b = NULL;
    if (lf_agent_buffer_open(dir, &o, &b, NULL) != LF_OK)
        _exit(3);
    for (unsigned i = 0;; i++) {
        uint64_t id;
        unsigned tag = seed * 100000 + i;
        if (append_n(b, tag, 50 + tag % 300, &id) != LF_OK)
            _exit(4);
        char line[64];
        int l = snprintf(line, sizeof line, "A %" PRIu64 "\n", id);
        if (write(wfd, line, (size_t)l) != l)
            _exit(5);
        if (i % 5 == 4) {
            lf_agent_buffer_item *it;
            size_t n;
            if (lf_agent_buffer_peek(b, 3, &it, &n, NULL) != LF_OK)
                _exit(6);
            if (n > 0) {
                uint64_t ack = it[n - 1].id;
                l = snprintf(line, sizeof line, "S %" PRIu64 "\n", ack);
                if (write(wfd, line, (size_t)l) != l)
                    _exit(5);
                if (lf_agent_buffer_ack(b, ack, NULL) != LF_OK)
                    _exit(7);
                l = snprintf(line, sizeof line, "D %" PRIu64 "\n", ack);
                if (write(wfd, line, (size_t)l) != l)
                    _exit(5);
            }
            lf_agent_buffer_items_free(it, n);
        }
    }
}

static void test_crash_loop(void **state)
{
    (void)state;
    char dir[64];
    make_dir(dir);
    uint8_t *appended = calloc(CRASH_MAX_IDS, 1);
    uint64_t max_started = 0, max_done = 0, max_id = 0;
    srand((unsigned)time(NULL));
    for (unsigned round = 1; round <= 10; round++) {
        int p[2];
        assert_int_equal(pipe(p), 0);
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
            close(p[0]);
            crash_child(dir, p[1], round);
        }
        close(p[1]);
        /* read while the child runs so it never blocks on a full pipe */
        struct timespec t0, now;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        long limit_ms = 20 + rand() % 250;
        fcntl(p[0], F_SETFL, O_NONBLOCK);
        char buf[1 << 16];
        char *acc = NULL;
        size_t acc_len = 0;
        for (;;) {
            ssize_t r = read(p[0], buf, sizeof buf);
            if (r > 0) {
                acc = realloc(acc, acc_len + (size_t)r + 1);
                memcpy(acc + acc_len, buf, (size_t)r);
                acc_len += (size_t)r;
            }
            clock_gettime(CLOCK_MONOTONIC, &now);
            long ms = (now.tv_sec - t0.tv_sec) * 1000 + (now.tv_nsec - t0.tv_nsec) / 1000000;
            if (ms >= limit_ms)
                break;
            if (r <= 0)
                usleep(1000);
        }
        kill(pid, SIGKILL);
        int status;
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFSIGNALED(status)); /* the child never failed on its own */
        fcntl(p[0], F_SETFL, 0);
        ssize_t r;
        while ((r = read(p[0], buf, sizeof buf)) > 0) {
            acc = realloc(acc, acc_len + (size_t)r + 1);
            memcpy(acc + acc_len, buf, (size_t)r);
            acc_len += (size_t)r;
        }
        close(p[0]);
        if (acc != NULL) {
            acc[acc_len] = 0;
            /* only whole lines count (a line is written after the fact it reports) */
            char *line = acc, *nl;
            while ((nl = strchr(line, '\n')) != NULL) {
                *nl = 0;
                uint64_t v = strtoull(line + 2, NULL, 10);
                if (line[0] == 'A') {
                    assert_true(v < CRASH_MAX_IDS);
                    assert_int_equal(appended[v], 0); /* an id is never handed out twice */
                    appended[v] = 1;
                    if (v > max_id)
                        max_id = v;
                } else if (line[0] == 'S' && v > max_started) {
                    max_started = v;
                } else if (line[0] == 'D' && v > max_done) {
                    max_done = v;
                }
                line = nl + 1;
            }
        }
        free(acc);

        lf_agent_buffer *b = open_buf(dir, NULL);
        lf_agent_buffer_item *it;
        size_t n;
        assert_int_equal(lf_agent_buffer_peek(b, SIZE_MAX, &it, &n, NULL), LF_OK);
        uint8_t *seen = calloc(CRASH_MAX_IDS, 1);
        uint64_t prev = 0;
        for (size_t i = 0; i < n; i++) {
            assert_true(it[i].id > prev); /* in order, each once */
            prev = it[i].id;
            assert_true(it[i].id > max_done); /* acked items are never shipped again */
            assert_true(it[i].id < CRASH_MAX_IDS);
            seen[it[i].id] = 1;
            unsigned tag = 0;
            assert_int_equal(sscanf(it[i].idempotency_key, "key-%u-", &tag), 1);
            check_item(&it[i], 50 + tag % 300);
        }
        for (uint64_t id = max_started + 1; id <= max_id; id++)
            if (appended[id] && !seen[id])
                fail_msg("round %u: acknowledged item %" PRIu64 " is missing", round, id);
        lf_agent_buffer_items_free(it, n);
        free(seen);
        lf_agent_buffer_stats st;
        lf_agent_buffer_stats_get(b, &st);
        assert_int_equal(st.quarantined_segments, 0);
        lf_agent_buffer_close(b);
    }
    assert_true(max_id > 10);
    print_message("crash loop: %" PRIu64 " ids handed out, acks up to %" PRIu64 " confirmed\n",
                  max_id, max_done);
    free(appended);
    rm_rf(dir);
}

/* ---- one appender and one shipper thread ---- */

typedef struct shared {
    lf_agent_buffer *b;
    unsigned total;
    unsigned shipped;
} shared;

static void *appender(void *arg)
{
    shared *s = arg;
    for (unsigned i = 0; i < s->total; i++)
        while (append_n(s->b, i, 64, NULL) != LF_OK)
            usleep(100); /* LF_ERR_FULL: wait for the shipper */
    return NULL;
}

static void *shipper(void *arg)
{
    shared *s = arg;
    uint64_t next = 1;
    while (s->shipped < s->total) {
        lf_agent_buffer_item *it;
        size_t n;
        if (lf_agent_buffer_peek(s->b, 8, &it, &n, NULL) != LF_OK)
            return (void *)1;
        for (size_t i = 0; i < n; i++) {
            uint8_t want[64];
            body_for(it[i].idempotency_key, want, sizeof want);
            /* no cmocka asserts off the main thread: report through the return value */
            if (it[i].id != next++ || it[i].body_len != 64 || memcmp(it[i].body, want, 64) != 0)
                return (void *)2;
        }
        if (n > 0) {
            if (lf_agent_buffer_ack(s->b, it[n - 1].id, NULL) != LF_OK)
                return (void *)3;
            s->shipped += (unsigned)n;
        } else {
            usleep(100);
        }
        lf_agent_buffer_items_free(it, n);
    }
    return NULL;
}

static void test_threads(void **state)
{
    (void)state;
    char dir[64];
    make_dir(dir);
    lf_agent_buffer_options o = {.max_bytes = 8192, .segment_bytes = 1024};
    shared s = {.b = open_buf(dir, &o), .total = 300};
    pthread_t a, sh;
    pthread_create(&a, NULL, appender, &s);
    pthread_create(&sh, NULL, shipper, &s);
    void *ra, *rs;
    pthread_join(a, &ra);
    pthread_join(sh, &rs);
    assert_null(ra);
    assert_null(rs);
    lf_agent_buffer_stats st;
    lf_agent_buffer_stats_get(s.b, &st);
    assert_int_equal(st.items_pending, 0);
    assert_int_equal(st.dropped_items, 0);
    lf_agent_buffer_close(s.b);
    rm_rf(dir);
}

/* ---- what reaches the disk ---- */

static bool dir_contains(const char *dir, const char *needle)
{
    char names[64][32];
    size_t n = list_segs(dir, names, 64);
    size_t nl = strlen(needle);
    for (size_t i = 0; i < n; i++) {
        char p[128];
        snprintf(p, sizeof p, "%s/%s", dir, names[i]);
        lf_buf f = lf_test_read_file(p);
        bool hit = false;
        for (size_t k = 0; k + nl <= f.len && !hit; k++)
            hit = memcmp(f.data + k, needle, nl) == 0;
        lf_buf_free(&f);
        if (hit)
            return true;
    }
    return false;
}

static void test_no_plaintext_marker(void **state)
{
    (void)state;
    char dir[64];
    make_dir(dir);
    const char *marker = "PLAINTEXT-MARKER-never-fed-7f3a";
    lf_agent_buffer *b = open_buf(dir, NULL);
    for (unsigned i = 0; i < 20; i++)
        assert_int_equal(append_n(b, i, 500, NULL), LF_OK); /* pseudo-random "sealed" bodies */
    assert_false(dir_contains(dir, marker));
    /* Control: the buffer stores bodies verbatim, so the no-plaintext rule is the caller's
     * (seal first). Fed the marker, the disk holds it — which is why it must never be fed. */
    lf_agent_buffer_input in = {.app = "web",
                                .idempotency_key = "control-key-0000",
                                .records = 1,
                                .body = (const uint8_t *)marker,
                                .body_len = strlen(marker)};
    assert_int_equal(lf_agent_buffer_append(b, &in, NULL, NULL), LF_OK);
    assert_true(dir_contains(dir, marker));
    lf_agent_buffer_close(b);
    rm_rf(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_roundtrip),
        cmocka_unit_test(test_invalid_input),
        cmocka_unit_test(test_format_bytes),
        cmocka_unit_test(test_bound_block),
        cmocka_unit_test(test_bound_drop_oldest),
        cmocka_unit_test(test_torn_tail_every_offset),
        cmocka_unit_test(test_corrupt_middle_segment),
        cmocka_unit_test(test_injected_faults),
        cmocka_unit_test(test_crash_loop),
        cmocka_unit_test(test_threads),
        cmocka_unit_test(test_no_plaintext_marker),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

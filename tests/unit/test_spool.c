/*
 * test_spool.c — the embedded durable queue (src/server/queue/spool.c): format, recovery of a torn
 * tail at every byte offset, CRC corruption, the size bound, release durability across restarts,
 * concurrency of group commit, and injected I/O faults (short write, ENOSPC, EIO on fdatasync and
 * fsync) through the I/O vtable: nothing is acknowledged without durability, errors say which file,
 * and the spool works again once the fault clears.
 */
#include "testutil.h"

#include "logflux/checksum.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "queue/spool.h"

/* ---- fault-injecting I/O ---- */

enum { OP_OPEN, OP_PWRITEV, OP_FDATASYNC, OP_FSYNC, OP_FTRUNCATE, OP_RENAME, OP_UNLINK, OP__N };

typedef struct fault_io {
    int calls[OP__N];
    int fail_from[OP__N]; /* 1-based call number from which to fail; 0 = never */
    int fail_count[OP__N];
    int fail_errno[OP__N];
    int short_at; /* pwritev call number that writes only half */
} fault_io;

static bool should_fail(fault_io *f, int op)
{
    int n = ++f->calls[op];
    if (f->fail_from[op] && n >= f->fail_from[op] && f->fail_count[op] > 0) {
        f->fail_count[op]--;
        errno = f->fail_errno[op];
        return true;
    }
    return false;
}

static void arm(fault_io *f, int op, int after_calls, int count, int e)
{
    f->fail_from[op] = f->calls[op] + after_calls;
    f->fail_count[op] = count;
    f->fail_errno[op] = e;
}

static int f_open(void *c, const char *p, int fl, mode_t m)
{
    return should_fail(c, OP_OPEN) ? -1 : lf_spool_io_posix()->open(NULL, p, fl, m);
}
static int f_close(void *c, int fd)
{
    return close(fd);
}
static ssize_t f_pread(void *c, int fd, void *b, size_t l, off_t o)
{
    return pread(fd, b, l, o);
}
static ssize_t f_pwritev(void *c, int fd, const struct iovec *iov, int n, off_t o)
{
    fault_io *f = c;
    if (should_fail(f, OP_PWRITEV))
        return -1;
    if (f->short_at && f->calls[OP_PWRITEV] == f->short_at) {
        size_t half = iov[0].iov_len / 2 ? iov[0].iov_len / 2 : 1;
        return pwrite(fd, iov[0].iov_base, half, o);
    }
    return pwritev(fd, iov, n, o);
}
static int f_fdatasync(void *c, int fd)
{
    return should_fail(c, OP_FDATASYNC) ? -1 : fdatasync(fd);
}
static int f_fsync(void *c, int fd)
{
    return should_fail(c, OP_FSYNC) ? -1 : fsync(fd);
}
static int f_ftruncate(void *c, int fd, off_t l)
{
    return should_fail(c, OP_FTRUNCATE) ? -1 : ftruncate(fd, l);
}
static int f_fstat_size(void *c, int fd, off_t *sz)
{
    return lf_spool_io_posix()->fstat_size(NULL, fd, sz);
}
static int f_rename(void *c, const char *a, const char *b)
{
    return should_fail(c, OP_RENAME) ? -1 : rename(a, b);
}
static int f_unlink(void *c, const char *p)
{
    return should_fail(c, OP_UNLINK) ? -1 : unlink(p);
}

static const lf_spool_io fault_vt = {f_open,  f_close,     f_pread,      f_pwritev, f_fdatasync,
                                     f_fsync, f_ftruncate, f_fstat_size, f_rename,  f_unlink};

/* ---- helpers ---- */

static char logbuf[4096];
static void capture_log(void *ctx, const char *msg)
{
    snprintf(logbuf, sizeof logbuf, "%s", msg);
}

typedef struct env {
    char dir[64];
    fault_io faults;
    lf_spool_options opt;
} env;

static void env_init(env *e)
{
    memset(e, 0, sizeof *e);
    snprintf(e->dir, sizeof e->dir, "/tmp/lf-spool-test-XXXXXX");
    assert_non_null(mkdtemp(e->dir));
    e->opt.io = &fault_vt;
    e->opt.io_ctx = &e->faults;
    e->opt.log = capture_log;
    logbuf[0] = 0;
}

static void env_cleanup(env *e)
{
    DIR *d = opendir(e->dir);
    assert_non_null(d);
    struct dirent *de;
    char p[512];
    while ((de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.')
            continue;
        snprintf(p, sizeof p, "%s/%s", e->dir, de->d_name);
        unlink(p);
    }
    closedir(d);
    rmdir(e->dir);
}

static lf_queue *open_ok(env *e)
{
    lf_queue *q = NULL;
    lf_error err = {0};
    lf_err rc = lf_spool_open(e->dir, &e->opt, &q, &err);
    if (rc != LF_OK)
        fail_msg("open: %s", err.message);
    return q;
}

static uint64_t append_str(lf_queue *q, const char *s)
{
    uint64_t seq = 0;
    lf_error err = {0};
    lf_err rc = lf_queue_append1(q, s, strlen(s), &seq, &err);
    if (rc != LF_OK)
        fail_msg("append: %s", err.message);
    return seq;
}

static void expect_read(lf_queue *q, uint64_t from, uint64_t seq, const char *s)
{
    lf_buf b = LF_BUF_INIT;
    uint64_t got = 0;
    lf_error err = {0};
    lf_err rc = lf_queue_read(q, from, 0, &b, &got, &err);
    if (rc != LF_OK)
        fail_msg("read from %llu: %s", (unsigned long long)from, err.message);
    assert_int_equal(got, seq);
    assert_int_equal(b.len, strlen(s));
    assert_memory_equal(b.data, s, b.len);
    lf_buf_free(&b);
}

static void expect_none(lf_queue *q, uint64_t from)
{
    lf_buf b = LF_BUF_INIT;
    uint64_t got = 0;
    assert_int_equal(lf_queue_read(q, from, 0, &b, &got, NULL), LF_ERR_NOT_FOUND);
    lf_buf_free(&b);
}

static int count_segments(const char *dir)
{
    DIR *d = opendir(dir);
    int n = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL)
        n += strstr(de->d_name, ".seg") != NULL;
    closedir(d);
    return n;
}

static void seg_file(const env *e, uint64_t first, char *out, size_t cap)
{
    snprintf(out, cap, "%s/%020llu.seg", e->dir, (unsigned long long)first);
}

/* ---- tests ---- */

static void test_crc32c(void **state)
{
    (void)state;
    assert_int_equal(lf_crc32c(0, "123456789", 9), 0xE3069283u);
    assert_int_equal(lf_crc32c(0, "", 0), 0);
    /* Chaining equals one pass, over lengths that cross the 8-byte stride. */
    uint8_t buf[100];
    for (int i = 0; i < 100; i++)
        buf[i] = (uint8_t)(i * 7 + 3);
    for (int cut = 0; cut <= 100; cut++)
        assert_int_equal(lf_crc32c(lf_crc32c(0, buf, (size_t)cut), buf + cut, 100 - (size_t)cut),
                         lf_crc32c(0, buf, 100));
}

static void test_format_bytes(void **state)
{
    (void)state;
    env e;
    env_init(&e);
    lf_queue *q = open_ok(&e);
    assert_int_equal(append_str(q, "abc"), 1);
    lf_queue_close(q);
    char p[256];
    seg_file(&e, 1, p, sizeof p);
    lf_buf f = lf_test_read_file(p);
    assert_int_equal(f.len, 32 + 24 + 3);
    static const uint8_t seg_hdr[28] = {'L', 'F', 'S', 'P', 'S', 'E', 'G', '1', 1, 0, 0, 0, 0, 0,
                                        0,   0,   1,   0,   0,   0,   0,   0,   0, 0, 0, 0, 0, 0};
    assert_memory_equal(f.data, seg_hdr, 28);
    uint8_t crc[4];
    uint32_t c = lf_crc32c(0, f.data, 28);
    for (int i = 0; i < 4; i++)
        crc[i] = (uint8_t)(c >> (8 * i));
    assert_memory_equal(f.data + 28, crc, 4);
    static const uint8_t rec_hdr[20] = {'L', 'F', 'R', '1', 3, 0, 0, 0, 1, 0,
                                        0,   0,   0,   0,   0, 0, 0, 0, 0, 0};
    assert_memory_equal(f.data + 32, rec_hdr, 20);
    c = lf_crc32c(lf_crc32c(0, "abc", 3), rec_hdr, 20);
    for (int i = 0; i < 4; i++)
        crc[i] = (uint8_t)(c >> (8 * i));
    assert_memory_equal(f.data + 52, crc, 4);
    assert_memory_equal(f.data + 56, "abc", 3);
    lf_buf_free(&f);
    env_cleanup(&e);
}

static void test_basic_and_reopen(void **state)
{
    (void)state;
    env e;
    env_init(&e);
    e.opt.segment_bytes = 200; /* forces several segments */
    lf_queue *q = open_ok(&e);
    char s[64];
    for (int i = 1; i <= 20; i++) {
        snprintf(s, sizeof s, "record number %d", i);
        assert_int_equal(append_str(q, s), (uint64_t)i);
    }
    lf_queue_rec batch[3] = {{"x", 1}, {"", 0}, {"yz", 2}};
    uint64_t first = 0;
    assert_int_equal(lf_queue_append(q, batch, 3, &first, NULL), LF_OK);
    assert_int_equal(first, 21);
    assert_true(count_segments(e.dir) > 3);
    for (int pass = 0; pass < 2; pass++) {
        for (int i = 1; i <= 20; i++) {
            snprintf(s, sizeof s, "record number %d", i);
            expect_read(q, (uint64_t)i, (uint64_t)i, s);
        }
        expect_read(q, 21, 21, "x");
        expect_read(q, 22, 22, "");
        expect_read(q, 23, 23, "yz");
        expect_read(q, 5, 5, "record number 5"); /* backwards seek */
        expect_none(q, 24);
        lf_queue_stats st;
        lf_queue_stats_get(q, &st);
        assert_int_equal(st.durable_seq, 23);
        assert_int_equal(st.next_seq, 24);
        lf_queue_close(q);
        q = open_ok(&e);
    }
    assert_int_equal(append_str(q, "after"), 24);
    expect_read(q, 24, 24, "after");
    /* Too large, empty batch. */
    e.opt.max_record_bytes = 10;
    lf_queue_close(q);
    q = open_ok(&e);
    lf_error err = {0};
    uint64_t seq;
    assert_int_equal(lf_queue_append1(q, "12345678901", 11, &seq, &err), LF_ERR_TOO_LARGE);
    assert_int_equal(lf_queue_append(q, batch, 0, &seq, NULL), LF_ERR_INVALID);
    lf_queue_close(q);
    env_cleanup(&e);
}

/* Write three records, then cut the file at every byte offset inside the last one: recovery keeps
 * the first two, drops exactly the torn bytes, and the next append reuses sequence 3. */
static void test_torn_tail_every_offset(void **state)
{
    (void)state;
    env e;
    env_init(&e);
    lf_queue *q = open_ok(&e);
    append_str(q, "first record");
    append_str(q, "second record");
    append_str(q, "third record, the one that gets torn");
    lf_queue_close(q);
    char p[256];
    seg_file(&e, 1, p, sizeof p);
    lf_buf orig = lf_test_read_file(p);
    size_t start = 32 + 24 + 12 + 24 + 13;
    assert_true(orig.len > start);
    for (size_t cut = start; cut < orig.len; cut++) {
        FILE *fp = fopen(p, "wb");
        assert_non_null(fp);
        assert_int_equal(fwrite(orig.data, 1, cut, fp), cut);
        fclose(fp);
        q = open_ok(&e);
        lf_queue_stats st;
        lf_queue_stats_get(q, &st);
        assert_int_equal(st.durable_seq, 2);
        assert_int_equal(st.recovered_bytes_dropped, cut - start);
        if (cut > start)
            assert_non_null(strstr(logbuf, "torn tail"));
        expect_read(q, 1, 1, "first record");
        expect_read(q, 2, 2, "second record");
        expect_none(q, 3);
        lf_queue_close(q);
        struct stat sb;
        assert_int_equal(stat(p, &sb), 0);
        assert_int_equal((size_t)sb.st_size, start);
    }
    /* And the spool carries on: the next record is 3, in a new segment. */
    q = open_ok(&e);
    assert_int_equal(append_str(q, "new third"), 3);
    lf_queue_close(q);
    q = open_ok(&e);
    expect_read(q, 3, 3, "new third");
    lf_queue_close(q);
    /* A torn segment header (crash while creating a segment) is removed. */
    seg_file(&e, 4, p, sizeof p);
    FILE *fp = fopen(p, "wb");
    fwrite("LFSPS", 1, 5, fp);
    fclose(fp);
    q = open_ok(&e);
    expect_read(q, 3, 3, "new third");
    assert_int_equal(append_str(q, "fourth"), 4);
    lf_queue_close(q);
    lf_buf_free(&orig);
    env_cleanup(&e);
}

static void flip_byte(const char *path, long off)
{
    FILE *fp = fopen(path, "r+b");
    assert_non_null(fp);
    fseek(fp, off, SEEK_SET);
    int c = fgetc(fp);
    fseek(fp, off, SEEK_SET);
    fputc(c ^ 0x20, fp);
    fclose(fp);
}

static void test_crc_corruption(void **state)
{
    (void)state;
    env e;
    env_init(&e);
    e.opt.segment_bytes = 100; /* one record per segment */
    lf_queue *q = open_ok(&e);
    for (int i = 0; i < 4; i++)
        append_str(q, "payload bytes of some record");
    lf_queue_close(q);
    assert_int_equal(count_segments(e.dir), 4);
    char p[256];
    /* Corruption in an older segment: refuse to open, name the file and the offset. */
    seg_file(&e, 2, p, sizeof p);
    flip_byte(p, 32 + 24 + 5);
    lf_queue *q2 = NULL;
    lf_error err = {0};
    assert_int_equal(lf_spool_open(e.dir, &e.opt, &q2, &err), LF_ERR_INVALID);
    assert_null(q2);
    assert_non_null(strstr(err.message, "00000000000000000002.seg"));
    assert_non_null(strstr(err.message, "offset 32"));
    flip_byte(p, 32 + 24 + 5); /* undo */
    /* A corrupt older segment header, too. */
    flip_byte(p, 3);
    assert_int_equal(lf_spool_open(e.dir, &e.opt, &q2, &err), LF_ERR_INVALID);
    flip_byte(p, 3);
    /* A bad record in the last segment is a torn tail: dropped, reported. */
    seg_file(&e, 4, p, sizeof p);
    flip_byte(p, 32 + 24 + 1);
    q = open_ok(&e);
    lf_queue_stats st;
    lf_queue_stats_get(q, &st);
    assert_int_equal(st.durable_seq, 3);
    assert_true(st.recovered_bytes_dropped > 0);
    expect_read(q, 3, 3, "payload bytes of some record");
    lf_queue_close(q);
    /* A bad checkpoint is an error, not a silent restart from zero. */
    char ck[256];
    snprintf(ck, sizeof ck, "%s/release.ckpt", e.dir);
    FILE *fp = fopen(ck, "wb");
    fwrite("garbage garbage garbage!", 1, 24, fp);
    fclose(fp);
    assert_int_equal(lf_spool_open(e.dir, &e.opt, &q2, &err), LF_ERR_INVALID);
    assert_non_null(strstr(err.message, "release.ckpt"));
    unlink(ck);
    /* A missing middle segment is a gap. */
    seg_file(&e, 2, p, sizeof p);
    unlink(p);
    assert_int_equal(lf_spool_open(e.dir, &e.opt, &q2, &err), LF_ERR_INVALID);
    assert_non_null(strstr(err.message, "gap"));
    env_cleanup(&e);
}

static void test_full_then_release(void **state)
{
    (void)state;
    env e;
    env_init(&e);
    e.opt.segment_bytes = 4096;
    e.opt.max_bytes = 16384;
    lf_queue *q = open_ok(&e);
    char rec[1000];
    memset(rec, 'r', sizeof rec);
    uint64_t seq = 0, last = 0;
    lf_err rc;
    lf_error err = {0};
    int n = 0;
    while ((rc = lf_queue_append1(q, rec, sizeof rec, &seq, &err)) == LF_OK && n < 100) {
        last = seq;
        n++;
    }
    assert_int_equal(rc, LF_ERR_FULL);
    assert_non_null(strstr(err.message, "full"));
    assert_true(n >= 12 && n < 17);
    /* Reads keep working while full. */
    lf_buf b = LF_BUF_INIT;
    for (uint64_t s = 1; s <= last; s++) {
        assert_int_equal(lf_queue_read(q, s, 0, &b, &seq, NULL), LF_OK);
        assert_int_equal(seq, s);
        assert_int_equal(b.len, sizeof rec);
    }
    /* Release everything: every segment, the active one included, goes; space comes back. */
    assert_int_equal(lf_queue_release(q, last, NULL), LF_OK);
    lf_queue_stats st;
    lf_queue_stats_get(q, &st);
    assert_int_equal(st.bytes_used, 0);
    assert_int_equal(count_segments(e.dir), 0);
    assert_int_equal(lf_queue_append1(q, rec, sizeof rec, &seq, NULL), LF_OK);
    assert_int_equal(seq, last + 1);
    /* Releasing beyond the durable end is refused; below the release point is a no-op. */
    assert_int_equal(lf_queue_release(q, last + 5, NULL), LF_ERR_INVALID);
    assert_int_equal(lf_queue_release(q, 1, NULL), LF_OK);
    /* A record that can never fit. */
    lf_queue_close(q);
    e.opt.max_record_bytes = 20000;
    q = open_ok(&e);
    char *big = calloc(1, 17000);
    assert_int_equal(lf_queue_append1(q, big, 17000, &seq, NULL), LF_ERR_TOO_LARGE);
    free(big);
    lf_buf_free(&b);
    lf_queue_close(q);
    env_cleanup(&e);
}

static void test_release_survives_restart(void **state)
{
    (void)state;
    env e;
    env_init(&e);
    e.opt.segment_bytes = 128;
    lf_queue *q = open_ok(&e);
    char s[32];
    for (int i = 1; i <= 10; i++) {
        snprintf(s, sizeof s, "r%d", i);
        append_str(q, s);
    }
    assert_int_equal(lf_queue_release(q, 6, NULL), LF_OK);
    expect_read(q, 1, 7, "r7"); /* released records are not handed out again */
    lf_queue_close(q);
    q = open_ok(&e);
    expect_read(q, 0, 7, "r7");
    lf_queue_stats st;
    lf_queue_stats_get(q, &st);
    assert_int_equal(st.released_seq, 6);
    assert_int_equal(lf_queue_release(q, 10, NULL), LF_OK);
    lf_queue_close(q);
    q = open_ok(&e);
    expect_none(q, 0);
    assert_int_equal(count_segments(e.dir), 0);
    assert_int_equal(append_str(q, "eleven"), 11); /* sequences never go back */
    lf_queue_close(q);
    /* Checkpoint write failure: release fails, the position is unchanged, a retry works. */
    q = open_ok(&e);
    append_str(q, "twelve");
    arm(&e.faults, OP_RENAME, 1, 1, EIO);
    lf_error err = {0};
    assert_int_equal(lf_queue_release(q, 11, &err), LF_ERR_IO);
    assert_non_null(strstr(err.message, "release.ckpt"));
    expect_read(q, 0, 11, "eleven");
    assert_int_equal(lf_queue_release(q, 11, NULL), LF_OK);
    expect_read(q, 0, 12, "twelve");
    lf_queue_close(q);
    env_cleanup(&e);
}

/* ---- faults ---- */

static void test_fdatasync_failure(void **state)
{
    (void)state;
    env e;
    env_init(&e);
    lf_queue *q = open_ok(&e);
    assert_int_equal(append_str(q, "durable one"), 1);
    arm(&e.faults, OP_FDATASYNC, 1, 1, EIO);
    lf_error err = {0};
    uint64_t seq = 0;
    assert_int_equal(lf_queue_append1(q, "doomed", 6, &seq, &err), LF_ERR_IO);
    assert_non_null(strstr(err.message, "fdatasync"));
    assert_non_null(strstr(err.message, "00000000000000000001.seg"));
    expect_none(q, 2); /* never visible */
    /* The failed tail was cut back and the segment sealed: the next record is 2, in a new file. */
    char p[256];
    seg_file(&e, 1, p, sizeof p);
    struct stat sb;
    assert_int_equal(stat(p, &sb), 0);
    assert_int_equal(sb.st_size, 32 + 24 + 11);
    assert_int_equal(append_str(q, "after the fault"), 2);
    assert_int_equal(count_segments(e.dir), 2);
    lf_queue_close(q);
    q = open_ok(&e);
    expect_read(q, 1, 1, "durable one");
    expect_read(q, 2, 2, "after the fault");
    expect_none(q, 3);
    lf_queue_close(q);
    env_cleanup(&e);
}

static void test_fsync_failure_in_new_segment_and_repair(void **state)
{
    (void)state;
    env e;
    env_init(&e);
    lf_queue *q = open_ok(&e);
    /* Creating the first segment: its directory fsync fails. */
    arm(&e.faults, OP_FSYNC, 1, 1, EIO);
    lf_error err = {0};
    uint64_t seq;
    assert_int_equal(lf_queue_append1(q, "a", 1, &seq, &err), LF_ERR_IO);
    assert_non_null(strstr(err.message, "directory"));
    assert_int_equal(count_segments(e.dir), 0);
    /* The first record's sync fails and so does the repair (dir fsync after unlinking): every
     * append fails until the repair goes through. */
    arm(&e.faults, OP_FDATASYNC, 2, 1, EIO);
    arm(&e.faults, OP_FSYNC, 2, 2, EIO);
    assert_int_equal(lf_queue_append1(q, "b", 1, &seq, &err), LF_ERR_IO);
    assert_int_equal(lf_queue_append1(q, "c", 1, &seq, &err), LF_ERR_IO);
    assert_non_null(strstr(err.message, "repair"));
    assert_int_equal(append_str(q, "d"), 1);
    expect_read(q, 1, 1, "d");
    lf_queue_close(q);
    q = open_ok(&e);
    expect_read(q, 1, 1, "d");
    expect_none(q, 2);
    lf_queue_close(q);
    env_cleanup(&e);
}

static void test_enospc_and_short_write(void **state)
{
    (void)state;
    env e;
    env_init(&e);
    lf_queue *q = open_ok(&e);
    assert_int_equal(append_str(q, "one"), 1);
    /* ENOSPC on the record write. */
    arm(&e.faults, OP_PWRITEV, 1, 1, ENOSPC);
    lf_error err = {0};
    uint64_t seq;
    assert_int_equal(lf_queue_append1(q, "two", 3, &seq, &err), LF_ERR_IO);
    assert_non_null(strstr(err.message, "No space left"));
    assert_non_null(strstr(err.message, ".seg"));
    expect_none(q, 2);
    assert_int_equal(append_str(q, "two again"), 2);
    /* A short write followed by ENOSPC: no acknowledgement. */
    e.faults.short_at = e.faults.calls[OP_PWRITEV] + 1;
    arm(&e.faults, OP_PWRITEV, 2, 1, ENOSPC);
    assert_int_equal(lf_queue_append1(q, "three", 5, &seq, &err), LF_ERR_IO);
    expect_none(q, 3);
    /* A short write alone is completed by the next call: acknowledged, and intact. */
    char big[5000];
    memset(big, 'z', sizeof big);
    big[4999] = 0;
    e.faults.short_at = e.faults.calls[OP_PWRITEV] + 2; /* segment header, then the record */
    assert_int_equal(append_str(q, big), 3);
    lf_queue_close(q);
    q = open_ok(&e);
    expect_read(q, 1, 1, "one");
    expect_read(q, 2, 2, "two again");
    expect_read(q, 3, 3, big);
    expect_none(q, 4);
    lf_queue_close(q);
    env_cleanup(&e);
}

/* ---- concurrency ---- */

#define THREADS    16
#define PER_THREAD 150

typedef struct worker {
    lf_queue *q;
    int id;
    uint64_t seqs[PER_THREAD];
} worker;

static void *append_worker(void *arg)
{
    worker *w = arg;
    char rec[64];
    for (int i = 0; i < PER_THREAD; i++) {
        int n = snprintf(rec, sizeof rec, "t%02d-i%04d", w->id, i);
        if (lf_queue_append1(w->q, rec, (size_t)n, &w->seqs[i], NULL) != LF_OK)
            w->seqs[i] = 0;
    }
    return NULL;
}

static void test_concurrent_appends(void **state)
{
    (void)state;
    env e;
    env_init(&e);
    e.opt.segment_bytes = 8192;
    lf_queue *q = open_ok(&e);
    static worker ws[THREADS];
    pthread_t th[THREADS];
    for (int t = 0; t < THREADS; t++) {
        ws[t].q = q;
        ws[t].id = t;
        assert_int_equal(pthread_create(&th[t], NULL, append_worker, &ws[t]), 0);
    }
    /* A reader follows along with the blocking read while appends run. */
    lf_buf b = LF_BUF_INIT;
    uint64_t seq, next = 1;
    while (next <= THREADS * PER_THREAD) {
        lf_error err = {0};
        lf_err rc = lf_queue_read(q, next, 5000, &b, &seq, &err);
        if (rc != LF_OK)
            fail_msg("read %llu: %s", (unsigned long long)next, err.message);
        assert_int_equal(seq, next);
        next++;
    }
    for (int t = 0; t < THREADS; t++)
        pthread_join(th[t], NULL);
    lf_queue_stats st;
    lf_queue_stats_get(q, &st);
    assert_int_equal(st.records, THREADS * PER_THREAD);
    assert_true(st.syncs < THREADS * PER_THREAD); /* fsyncs were shared */
    lf_queue_close(q);

    q = open_ok(&e);
    static char seen[THREADS][PER_THREAD];
    memset(seen, 0, sizeof seen);
    for (uint64_t s = 1; s <= THREADS * PER_THREAD; s++) {
        assert_int_equal(lf_queue_read(q, s, 0, &b, &seq, NULL), LF_OK);
        assert_int_equal(seq, s);
        int t, i;
        char txt[64];
        snprintf(txt, sizeof txt, "%.*s", (int)b.len, (const char *)b.data);
        assert_int_equal(sscanf(txt, "t%d-i%d", &t, &i), 2);
        assert_true(t >= 0 && t < THREADS && i >= 0 && i < PER_THREAD);
        assert_int_equal(seen[t][i], 0);
        seen[t][i] = 1;
        assert_int_equal(ws[t].seqs[i], s); /* the acknowledged sequence is where it is */
        if (i > 0)
            assert_true(ws[t].seqs[i - 1] < s); /* one thread's records stay in its order */
    }
    expect_none(q, THREADS * PER_THREAD + 1);
    lf_buf_free(&b);
    lf_queue_close(q);
    env_cleanup(&e);
}

static void test_read_timeout(void **state)
{
    (void)state;
    env e;
    env_init(&e);
    lf_queue *q = open_ok(&e);
    lf_buf b = LF_BUF_INIT;
    uint64_t seq;
    assert_int_equal(lf_queue_read(q, 1, 50, &b, &seq, NULL), LF_ERR_NOT_FOUND);
    lf_buf_free(&b);
    lf_queue_close(q);
    lf_error err = {0};
    assert_int_equal(lf_spool_open(NULL, NULL, &q, &err), LF_ERR_INVALID);
    lf_spool_options bad = {.segment_bytes = 1000, .max_bytes = 500};
    assert_int_equal(lf_spool_open(e.dir, &bad, &q, &err), LF_ERR_INVALID);
    env_cleanup(&e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_crc32c),
        cmocka_unit_test(test_format_bytes),
        cmocka_unit_test(test_basic_and_reopen),
        cmocka_unit_test(test_torn_tail_every_offset),
        cmocka_unit_test(test_crc_corruption),
        cmocka_unit_test(test_full_then_release),
        cmocka_unit_test(test_release_survives_restart),
        cmocka_unit_test(test_fdatasync_failure),
        cmocka_unit_test(test_fsync_failure_in_new_segment_and_repair),
        cmocka_unit_test(test_enospc_and_short_write),
        cmocka_unit_test(test_concurrent_appends),
        cmocka_unit_test(test_read_timeout),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

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
#include <sched.h>
#include <stdatomic.h>
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

/* append_n with a source and a cursor (a string, stored without its NUL). */
static lf_err append_c(lf_agent_buffer *b, unsigned n, size_t body_len, const char *source,
                       const char *cursor, uint64_t *id)
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
                                .body_len = body_len,
                                .source = source,
                                .cursor = (const uint8_t *)cursor,
                                .cursor_len = cursor ? strlen(cursor) : 0};
    lf_error e = {0};
    lf_err rc = lf_agent_buffer_append(b, &in, id, &e);
    free(body);
    return rc;
}

/* The last cursor of source as a string, or NULL when not found. Caller frees. */
static char *last_cursor(lf_agent_buffer *b, const char *source)
{
    lf_buf out = LF_BUF_INIT;
    lf_error e = {0};
    lf_err rc = lf_agent_buffer_last_cursor(b, source, &out, &e);
    if (rc == LF_ERR_NOT_FOUND) {
        lf_buf_free(&out);
        return NULL;
    }
    if (rc != LF_OK)
        fail_msg("last_cursor(%s): %s", source, e.message);
    char *s = strndup((const char *)out.data, out.len);
    lf_buf_free(&out);
    return s;
}

static void assert_cursor(lf_agent_buffer *b, const char *source, const char *want)
{
    char *got = last_cursor(b, source);
    if (want == NULL) {
        if (got != NULL)
            fail_msg("source %s: expected no cursor, got %s", source, got);
        return;
    }
    if (got == NULL)
        fail_msg("source %s: expected cursor %s, got none", source, want);
    assert_string_equal(got, want);
    free(got);
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

/* One buffer directory, one user: a second open (another agent, a requeue) is refused until
 * the first closes. */
static void test_single_user(void **state)
{
    (void)state;
    char dir[64];
    make_dir(dir);
    lf_agent_buffer *b = open_buf(dir, NULL);
    lf_agent_buffer *second = NULL;
    lf_error err = {0};
    assert_int_equal(lf_agent_buffer_open(dir, NULL, &second, &err), LF_ERR_CONFLICT);
    assert_null(second);
    assert_non_null(strstr(err.message, "in use by another process"));
    lf_agent_buffer_close(b);
    assert_int_equal(lf_agent_buffer_open(dir, NULL, &second, &err), LF_OK);
    lf_agent_buffer_close(second);
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

/* The on-disk format (version 2), byte for byte (expected bytes computed by an independent
 * Python script from docs/AGENT-BUFFER.md, including the CRC-32C). */
static void test_format_bytes(void **state)
{
    (void)state;
    static const char seg_hex[] =
        "4c464142534547310200000000000000010000000000000000000000abe532e94c464149010000000000"
        "00000068e5cf8b01000003000000140000000600000003001400080000002d393d9f7765626b65792d30"
        "30303030303030303030312d6162637461696c2e6170706f66663d343278787878787878787878787878"
        "78787878787878";
    static const char ckpt_hex[] =
        "4c464142434b503202000000000000000300000000000000010000000000000001000000000000000600"
        "0000080000007461696c2e6170706f66663d34324dfb604d";
    char dir[64], p[128];
    make_dir(dir);
    lf_agent_buffer *b = open_buf(dir, NULL);
    lf_agent_buffer_input in = {.app = "web",
                                .idempotency_key = "key-000000000001-abc",
                                .records = 3,
                                .created_ms = 1700000000000,
                                .body = (const uint8_t *)"xxxxxxxxxxxxxxxxxxxx",
                                .body_len = 20,
                                .source = "tail.app",
                                .cursor = (const uint8_t *)"off=42",
                                .cursor_len = 6};
    assert_int_equal(lf_agent_buffer_append(b, &in, NULL, NULL), LF_OK);
    snprintf(p, sizeof p, "%s/00000000000000000001.seg", dir);
    lf_buf f = lf_test_read_file(p);
    json_t *j = json_pack("{ss ss}", "seg", seg_hex, "ckpt", ckpt_hex);
    lf_buf want = lf_test_hex(j, "seg");
    assert_int_equal(f.len, want.len);
    assert_memory_equal(f.data, want.data, want.len);
    lf_buf_free(&f);
    lf_buf_free(&want);
    /* a second item without a cursor; acking both deletes the segment, so the checkpoint must
     * take over item 1's cursor */
    in.idempotency_key = "key-000000000002-abc";
    in.source = NULL;
    in.cursor = NULL;
    in.cursor_len = 0;
    assert_int_equal(lf_agent_buffer_append(b, &in, NULL, NULL), LF_OK);
    assert_int_equal(lf_agent_buffer_ack(b, 2, NULL), LF_OK);
    assert_int_equal(count_files(dir, ".seg"), 0);
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
    assert_int_equal(append_c(b, 0, 30, "tail.t", "c0", NULL), LF_OK);
    assert_int_equal(append_c(b, 1, 30, "tail.t", "c1", NULL), LF_OK);
    off_t start = file_size(seg);
    assert_int_equal(append_c(b, 2, 30, "tail.t", "c2", NULL), LF_OK);
    assert_cursor(b, "tail.t", "c2");
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
            /* the torn item never reached its input: the cursor is the survivor's */
            assert_cursor(b, "tail.t", "c1");
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

/* ---- cursors: the newest position of each input, kept through ack, drop and crashes ---- */

static void test_cursor_basic(void **state)
{
    (void)state;
    char dir[64];
    make_dir(dir);
    lf_agent_buffer *b = open_buf(dir, NULL);
    assert_cursor(b, "tail.app", NULL);
    assert_int_equal(append_c(b, 0, 10, "tail.app", "off=10", NULL), LF_OK);
    assert_int_equal(append_c(b, 1, 10, "journald", "s=abc;i=1", NULL), LF_OK);
    assert_int_equal(append_c(b, 2, 10, "tail.app", "off=20", NULL), LF_OK);
    assert_int_equal(append_c(b, 3, 10, "tail.app", NULL, NULL), LF_OK); /* no cursor: ignored */
    assert_int_equal(append_c(b, 4, 10, "no-cursor", NULL, NULL), LF_OK);
    assert_int_equal(append_n(b, 5, 10, NULL), LF_OK);
    assert_cursor(b, "tail.app", "off=20");
    assert_cursor(b, "journald", "s=abc;i=1");
    assert_cursor(b, "no-cursor", NULL);
    assert_cursor(b, "other", NULL);
    /* appends to what is already in out */
    lf_buf out = LF_BUF_INIT;
    assert_int_equal(lf_buf_append(&out, "X", 1), LF_OK);
    assert_int_equal(lf_agent_buffer_last_cursor(b, "tail.app", &out, NULL), LF_OK);
    assert_int_equal(out.len, 7);
    assert_memory_equal(out.data, "Xoff=20", 7);
    lf_error e = {0};
    assert_int_equal(lf_agent_buffer_last_cursor(b, "", &out, &e), LF_ERR_INVALID);
    assert_int_equal(lf_agent_buffer_last_cursor(b, "a/b", &out, &e), LF_ERR_INVALID);
    assert_int_equal(lf_agent_buffer_last_cursor(b, NULL, &out, &e), LF_ERR_INVALID);
    lf_buf_free(&out);
    /* peek hands source and cursor back */
    lf_agent_buffer_item *it;
    size_t n;
    assert_int_equal(lf_agent_buffer_peek(b, 10, &it, &n, NULL), LF_OK);
    assert_int_equal(n, 6);
    assert_string_equal(it[0].source, "tail.app");
    assert_int_equal(it[0].cursor_len, 6);
    assert_memory_equal(it[0].cursor, "off=10", 6);
    assert_string_equal(it[3].source, "tail.app");
    assert_int_equal(it[3].cursor_len, 0);
    assert_null(it[3].cursor);
    assert_string_equal(it[5].source, "");
    for (size_t i = 0; i < n; i++)
        check_item(&it[i], 10);
    lf_agent_buffer_items_free(it, n);
    lf_agent_buffer_close(b);

    /* restart with everything unacked: found in the segments */
    b = open_buf(dir, NULL);
    assert_cursor(b, "tail.app", "off=20");
    assert_cursor(b, "journald", "s=abc;i=1");
    assert_cursor(b, "no-cursor", NULL);
    lf_agent_buffer_close(b);
    rm_rf(dir);
}

static void test_cursor_invalid(void **state)
{
    (void)state;
    char dir[64];
    make_dir(dir);
    lf_agent_buffer *b = open_buf(dir, NULL);
    lf_agent_buffer_input in = {.app = "web",
                                .idempotency_key = "0123456789abcdef",
                                .records = 1,
                                .source = "a b",
                                .cursor = (const uint8_t *)"c",
                                .cursor_len = 1};
    lf_error e = {0};
    assert_int_equal(lf_agent_buffer_append(b, &in, NULL, &e), LF_ERR_INVALID);
    in.source = "0123456789012345678901234567890123456789012345678901234567890123X"; /* 65 */
    assert_int_equal(lf_agent_buffer_append(b, &in, NULL, &e), LF_ERR_INVALID);
    in.source = NULL; /* a cursor nobody could ask for */
    assert_int_equal(lf_agent_buffer_append(b, &in, NULL, &e), LF_ERR_INVALID);
    in.source = "";
    assert_int_equal(lf_agent_buffer_append(b, &in, NULL, &e), LF_ERR_INVALID);
    in.source = "ok";
    in.cursor = NULL;
    assert_int_equal(lf_agent_buffer_append(b, &in, NULL, &e), LF_ERR_INVALID);
    uint8_t *big = calloc(1, LF_AGENT_BUFFER_CURSOR_MAX + 1);
    memset(big, 'c', LF_AGENT_BUFFER_CURSOR_MAX + 1);
    in.cursor = big;
    in.cursor_len = LF_AGENT_BUFFER_CURSOR_MAX + 1;
    assert_int_equal(lf_agent_buffer_append(b, &in, NULL, &e), LF_ERR_TOO_LARGE);
    lf_agent_buffer_stats st;
    lf_agent_buffer_stats_get(b, &st);
    assert_int_equal(st.items_pending, 0);
    assert_cursor(b, "ok", NULL);
    /* 64 sources-long name and a 64 KiB cursor are fine */
    in.source = "0123456789012345678901234567890123456789012345678901234567890123";
    in.cursor_len = LF_AGENT_BUFFER_CURSOR_MAX;
    assert_int_equal(lf_agent_buffer_append(b, &in, NULL, &e), LF_OK);
    assert_int_equal(lf_agent_buffer_ack(b, 1, NULL), LF_OK);
    lf_agent_buffer_close(b);
    b = open_buf(dir, NULL);
    lf_buf out = LF_BUF_INIT;
    assert_int_equal(lf_agent_buffer_last_cursor(b, in.source, &out, NULL), LF_OK);
    assert_int_equal(out.len, LF_AGENT_BUFFER_CURSOR_MAX);
    assert_memory_equal(out.data, big, LF_AGENT_BUFFER_CURSOR_MAX);
    lf_buf_free(&out);
    free(big);
    lf_agent_buffer_close(b);
    rm_rf(dir);
}

/* At most 1024 sources with a cursor, ever; all of them survive ack + deletion + restart. */
static void test_cursor_source_limit(void **state)
{
    (void)state;
    char dir[64];
    make_dir(dir);
    lf_agent_buffer *b = open_buf(dir, NULL);
    char src[32], cur[32];
    uint64_t id = 0;
    for (unsigned i = 0; i < LF_AGENT_BUFFER_SOURCES_MAX; i++) {
        snprintf(src, sizeof src, "in.%u", i);
        snprintf(cur, sizeof cur, "pos-%u", i);
        assert_int_equal(append_c(b, i, 8, src, cur, &id), LF_OK);
        if (i == 500) /* half of them move into the checkpoint early */
            assert_int_equal(lf_agent_buffer_ack(b, id, NULL), LF_OK);
    }
    assert_int_equal(append_c(b, 5000, 8, "one-too-many", "x", NULL), LF_ERR_TOO_LARGE);
    assert_int_equal(append_c(b, 5001, 8, "one-too-many", NULL, NULL), LF_OK); /* no cursor */
    assert_int_equal(append_c(b, 5002, 8, "in.7", "pos-7b", &id), LF_OK);      /* known source */
    assert_int_equal(lf_agent_buffer_ack(b, id, NULL), LF_OK);
    assert_int_equal(count_files(dir, ".seg"), 0);
    lf_agent_buffer_close(b);

    b = open_buf(dir, NULL);
    for (unsigned i = 0; i < LF_AGENT_BUFFER_SOURCES_MAX; i++) {
        snprintf(src, sizeof src, "in.%u", i);
        snprintf(cur, sizeof cur, i == 7 ? "pos-%ub" : "pos-%u", i);
        assert_cursor(b, src, cur);
    }
    assert_cursor(b, "one-too-many", NULL);
    assert_int_equal(append_c(b, 5003, 8, "one-too-many", "x", NULL), LF_ERR_TOO_LARGE);
    lf_agent_buffer_stats st;
    lf_agent_buffer_stats_get(b, &st);
    assert_int_equal(st.checkpoint_resets, 0);
    lf_agent_buffer_close(b);
    rm_rf(dir);
}

/* Acked, segment deleted, restart: the checkpoint has it; newer unacked items still win. */
static void test_cursor_after_ack(void **state)
{
    (void)state;
    char dir[64];
    make_dir(dir);
    lf_agent_buffer_options o = {.max_bytes = 1 << 20, .segment_bytes = 512};
    lf_agent_buffer *b = open_buf(dir, &o);
    uint64_t id;
    assert_int_equal(append_c(b, 0, 100, "a", "a1", &id), LF_OK);
    assert_int_equal(append_c(b, 1, 100, "b", "b1", &id), LF_OK);
    assert_int_equal(lf_agent_buffer_ack(b, id, NULL), LF_OK);
    assert_int_equal(count_files(dir, ".seg"), 0);
    assert_cursor(b, "a", "a1");
    lf_agent_buffer_close(b);
    b = open_buf(dir, &o);
    assert_cursor(b, "a", "a1");
    assert_cursor(b, "b", "b1");
    /* a newer one for a stays unacked (in a segment); b's older items are acked away */
    assert_int_equal(append_c(b, 2, 100, "b", "b2", &id), LF_OK);
    for (unsigned i = 3; i < 12; i++)
        assert_int_equal(append_c(b, i, 100, "b", i == 11 ? "b3" : NULL, NULL), LF_OK);
    assert_int_equal(append_c(b, 12, 100, "a", "a2", &id), LF_OK);
    assert_int_equal(append_c(b, 13, 100, "c", NULL, NULL), LF_OK);
    assert_int_equal(lf_agent_buffer_ack(b, id - 1, NULL), LF_OK); /* b3's segment goes */
    assert_true(count_files(dir, ".seg") >= 1);
    lf_agent_buffer_close(b);
    b = open_buf(dir, &o);
    assert_cursor(b, "a", "a2");
    assert_cursor(b, "b", "b3");
    lf_agent_buffer_stats st;
    lf_agent_buffer_stats_get(b, &st);
    assert_int_equal(st.items_pending, 2);
    assert_int_equal(st.quarantined_segments, 0);
    lf_agent_buffer_close(b);
    rm_rf(dir);
}

/*
 * Newest by id wins between checkpoint and segments: the checkpoint holds a's id-3 cursor
 * (its segment deleted), while an older segment holding a's id-1 item is put back by hand, as
 * if its deletion had been lost; the answer must stay id 3's.
 */
static void test_cursor_newest_wins(void **state)
{
    (void)state;
    char dir[64], p[128];
    make_dir(dir);
    lf_agent_buffer_options o = {.max_bytes = 1 << 20, .segment_bytes = 256};
    lf_agent_buffer *b = open_buf(dir, &o);
    uint64_t id;
    assert_int_equal(append_c(b, 0, 150, "a", "old", &id), LF_OK);
    assert_int_equal(id, 1);
    snprintf(p, sizeof p, "%s/00000000000000000001.seg", dir);
    lf_buf first = lf_test_read_file(p);
    assert_int_equal(append_c(b, 1, 150, "b", "b1", &id), LF_OK);
    assert_int_equal(append_c(b, 2, 150, "a", "new", &id), LF_OK);
    assert_int_equal(id, 3);
    assert_int_equal(append_c(b, 3, 150, "b", "b2", &id), LF_OK);
    assert_int_equal(lf_agent_buffer_ack(b, 3, NULL), LF_OK);
    lf_agent_buffer_close(b);
    assert_true(access(p, F_OK) != 0);
    FILE *f = fopen(p, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(first.data, 1, first.len, f), first.len);
    fclose(f);
    lf_buf_free(&first);
    b = open_buf(dir, &o);
    assert_cursor(b, "a", "new");
    assert_cursor(b, "b", "b2");
    assert_true(access(p, F_OK) != 0); /* the stale, fully acked segment was deleted */
    lf_agent_buffer_close(b);
    rm_rf(dir);
}

/* drop_oldest deletes the segment holding a source's newest item: the cursor stays. */
static void test_cursor_drop_oldest(void **state)
{
    (void)state;
    char dir[64];
    make_dir(dir);
    lf_agent_buffer_options o = {
        .max_bytes = 8192, .segment_bytes = 1024, .policy = LF_AGENT_BUFFER_DROP_OLDEST};
    lf_agent_buffer *b = open_buf(dir, &o);
    uint64_t a_id;
    assert_int_equal(append_c(b, 0, 200, "early", "e-last", &a_id), LF_OK);
    char cur[32];
    for (unsigned i = 1; i <= 200; i++) {
        snprintf(cur, sizeof cur, "l-%u", i);
        assert_int_equal(append_c(b, i, 200, "late", cur, NULL), LF_OK);
    }
    lf_agent_buffer_stats st;
    lf_agent_buffer_stats_get(b, &st);
    assert_true(st.dropped_items > 0);
    lf_agent_buffer_item *it;
    size_t n;
    assert_int_equal(lf_agent_buffer_peek(b, 1000, &it, &n, NULL), LF_OK);
    assert_true(n > 0 && it[0].id > a_id); /* the early item is gone */
    lf_agent_buffer_items_free(it, n);
    assert_cursor(b, "early", "e-last");
    lf_agent_buffer_close(b);
    b = open_buf(dir, &o);
    assert_cursor(b, "early", "e-last");
    assert_cursor(b, "late", "l-200");
    lf_agent_buffer_close(b);
    rm_rf(dir);
}

/*
 * Version 1 files (before cursors) are not read: a v1 segment is quarantined, a v1 checkpoint
 * reset. Also a segment quarantined at peek keeps the cursors appended into it.
 */
static void test_cursor_old_format_and_quarantine(void **state)
{
    (void)state;
    static const char v1_seg[] =
        "4c4641425345473101000000000000000100000000000000000000006cfdf6b04c464149010000000000"
        "00000068e5cf8b01000003000000140000000300140000000000124b8eec7765626b65792d3030303030"
        "303030303030312d6162637878787878787878787878787878787878787878";
    static const char v1_ckpt[] = "4c464142434b50310100000000000000000000003e8b19ec";
    char dir[64], p[128];
    make_dir(dir);
    json_t *j = json_pack("{ss ss}", "seg", v1_seg, "ckpt", v1_ckpt);
    lf_buf seg = lf_test_hex(j, "seg"), ck = lf_test_hex(j, "ckpt");
    json_decref(j);
    snprintf(p, sizeof p, "%s/00000000000000000001.seg", dir);
    FILE *f = fopen(p, "wb");
    assert_int_equal(fwrite(seg.data, 1, seg.len, f), seg.len);
    fclose(f);
    snprintf(p, sizeof p, "%s/acked.ckpt", dir);
    f = fopen(p, "wb");
    assert_int_equal(fwrite(ck.data, 1, ck.len, f), ck.len);
    fclose(f);
    lf_buf_free(&seg);
    lf_buf_free(&ck);
    lf_agent_buffer_options o = {.max_bytes = 1 << 20, .segment_bytes = 512};
    lf_agent_buffer *b = open_buf(dir, &o);
    lf_agent_buffer_stats st;
    lf_agent_buffer_stats_get(b, &st);
    assert_int_equal(st.quarantined_segments, 1);
    assert_int_equal(st.checkpoint_resets, 1);
    assert_int_equal(st.items_pending, 0);
    uint64_t id;
    assert_int_equal(append_c(b, 0, 200, "q", "q1", &id), LF_OK);
    assert_int_equal(id, 2); /* the quarantined segment's name is never reused */
    assert_int_equal(append_c(b, 1, 200, "q", "q2", &id), LF_OK);
    assert_int_equal(append_c(b, 2, 200, "r", "r1", &id), LF_OK);
    assert_true(count_files(dir, ".seg") >= 2);
    /* damage the segment holding q's newest item under the open buffer: peek quarantines it,
     * and the checkpoint takes q2 over first */
    char names[16][32];
    assert_int_equal(list_segs(dir, names, 16), 3);
    snprintf(p, sizeof p, "%s/%s", dir, names[1]);
    int fd = open(p, O_RDWR);
    assert_true(fd >= 0);
    assert_int_equal(pwrite(fd, "XXXX", 4, 40), 4);
    close(fd);
    lf_agent_buffer_item *it;
    size_t n;
    assert_int_equal(lf_agent_buffer_peek(b, 100, &it, &n, NULL), LF_OK);
    lf_agent_buffer_items_free(it, n);
    lf_agent_buffer_stats_get(b, &st);
    assert_int_equal(st.quarantined_segments, 2);
    lf_agent_buffer_close(b);
    b = open_buf(dir, &o);
    assert_cursor(b, "q", "q2");
    assert_cursor(b, "r", "r1");
    lf_agent_buffer_close(b);
    rm_rf(dir);
}

/*
 * The checkpoint records a floor for the next id. Should the newest segment end below it
 * (here: its last item cut away by hand after the checkpoint was written), appends must not
 * continue that segment with a gap in its ids (the next open would cut them off as a torn
 * tail): they start a new segment.
 */
static void test_next_id_floor(void **state)
{
    (void)state;
    char dir[64], p[128];
    make_dir(dir);
    lf_agent_buffer *b = open_buf(dir, NULL);
    for (unsigned i = 0; i < 3; i++)
        assert_int_equal(append_c(b, i, 40, "f", i == 1 ? "f2" : NULL, NULL), LF_OK);
    snprintf(p, sizeof p, "%s/00000000000000000001.seg", dir);
    off_t two = file_size(p);
    assert_int_equal(append_n(b, 3, 40, NULL), LF_OK);
    assert_int_equal(lf_agent_buffer_ack(b, 1, NULL), LF_OK); /* floor: next id 5 */
    lf_agent_buffer_close(b);
    assert_int_equal(truncate(p, two), 0); /* items 1..3 left */
    b = open_buf(dir, NULL);
    uint64_t id;
    assert_int_equal(append_c(b, 9, 40, "f", "f5", &id), LF_OK);
    assert_int_equal(id, 5);
    lf_agent_buffer_close(b);
    b = open_buf(dir, NULL);
    lf_agent_buffer_stats st;
    lf_agent_buffer_stats_get(b, &st);
    assert_int_equal(st.recovered_bytes_truncated, 0);
    assert_int_equal(st.quarantined_segments, 0);
    assert_int_equal(st.items_pending, 3);
    assert_int_equal(count_files(dir, ".seg"), 2);
    assert_cursor(b, "f", "f5");
    lf_agent_buffer_close(b);
    rm_rf(dir);
}

/* A failed checkpoint write stops a drop that would lose a cursor: nothing dropped, no item. */
static void test_cursor_drop_fault(void **state)
{
    (void)state;
    char dir[64];
    make_dir(dir);
    fault f = {0};
    lf_agent_buffer_options o = {.max_bytes = 8192,
                                 .segment_bytes = 1024,
                                 .policy = LF_AGENT_BUFFER_DROP_OLDEST,
                                 .io = &fault_io,
                                 .io_ctx = &f};
    lf_agent_buffer *b = open_buf(dir, &o);
    assert_int_equal(append_c(b, 0, 200, "early", "e1", NULL), LF_OK);
    f.fail_rename = 1;
    unsigned i = 1;
    lf_err rc = LF_OK;
    for (; i < 100 && (rc = append_c(b, i, 200, "late", "l", NULL)) == LF_OK; i++) {
        lf_agent_buffer_stats st;
        lf_agent_buffer_stats_get(b, &st);
        assert_int_equal(st.dropped_items, 0);
    }
    assert_int_equal(rc, LF_ERR_IO);
    lf_agent_buffer_stats st;
    lf_agent_buffer_stats_get(b, &st);
    assert_int_equal(st.dropped_items, 0);
    assert_int_equal(st.items_pending, i);
    f.fail_rename = 0;
    uint64_t id;
    assert_int_equal(append_c(b, i, 200, "late", "l-final", &id), LF_OK);
    assert_int_equal(id, i + 1);
    lf_agent_buffer_stats_get(b, &st);
    assert_true(st.dropped_items > 0);
    lf_agent_buffer_close(b);
    b = open_buf(dir, NULL);
    assert_cursor(b, "early", "e1");
    assert_cursor(b, "late", "l-final");
    lf_agent_buffer_close(b);
    rm_rf(dir);
}

/*
 * Crash loop for cursors: a child appends items of one source whose cursor is a running tag,
 * printing each acknowledged tag; odd rounds ack everything often (segments deleted, cursors
 * move into the checkpoint), even rounds run drop_oldest against a 4 KiB bound. After SIGKILL
 * the newest cursor must be the last acknowledged tag or the one append that was in flight.
 */
static void cursor_crash_child(const char *dir, int wfd, unsigned round)
{
    lf_agent_buffer_options o = {.max_bytes = 64 << 20, .segment_bytes = 2048};
    if (round % 2 == 0) { /* about 20 items fit: drops start early */
        o.max_bytes = 4096;
        o.segment_bytes = 1024;
        o.policy = LF_AGENT_BUFFER_DROP_OLDEST;
    }
    lf_agent_buffer *b = NULL;
    if (lf_agent_buffer_open(dir, &o, &b, NULL) != LF_OK)
        _exit(3);
    for (unsigned i = 0;; i++) {
        uint64_t id;
        unsigned tag = round * 100000 + i;
        char cur[32];
        snprintf(cur, sizeof cur, "t%u", tag);
        if (append_c(b, tag, 20 + tag % 200, "in", cur, &id) != LF_OK)
            _exit(4);
        char line[32];
        int l = snprintf(line, sizeof line, "%u\n", tag);
        if (write(wfd, line, (size_t)l) != l)
            _exit(5);
        if (round % 2 == 1 && i % 3 == 2 && lf_agent_buffer_ack(b, id, NULL) != LF_OK)
            _exit(7);
    }
}

static void test_cursor_crash_loop(void **state)
{
    (void)state;
    char dir[64];
    make_dir(dir);
    unsigned last = 0; /* last acknowledged tag, 0 = none yet */
    srand((unsigned)time(NULL) ^ 0x5eed);
    for (unsigned round = 1; round <= 10; round++) {
        int p[2];
        assert_int_equal(pipe(p), 0);
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
            close(p[0]);
            cursor_crash_child(dir, p[1], round);
        }
        close(p[1]);
        usleep((useconds_t)(20 + rand() % 250) * 1000); /* the pipe holds far more than needed */
        kill(pid, SIGKILL);
        int status;
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFSIGNALED(status));
        char buf[4096];
        size_t have = 0;
        bool this_round = false;
        ssize_t r;
        while ((r = read(p[0], buf + have, sizeof buf - 1 - have)) > 0) {
            have += (size_t)r;
            buf[have] = 0;
            char *nl, *line = buf;
            while ((nl = strchr(line, '\n')) != NULL) {
                *nl = 0;
                last = (unsigned)strtoul(line, NULL, 10);
                this_round = true;
                line = nl + 1;
            }
            have = strlen(line);
            memmove(buf, line, have);
        }
        close(p[0]);
        unsigned in_flight = this_round ? last + 1 : round * 100000;
        lf_agent_buffer *b = open_buf(dir, NULL);
        char *got = last_cursor(b, "in");
        if (last == 0 && got == NULL) {
            /* nothing acknowledged yet and the first append did not get through */
        } else {
            if (got == NULL)
                fail_msg("round %u: cursor lost (last acknowledged t%u)", round, last);
            unsigned tag = (unsigned)strtoul(got + 1, NULL, 10);
            if (tag != last && tag != in_flight)
                fail_msg("round %u: cursor %s, expected t%u or t%u", round, got, last, in_flight);
            last = tag; /* an in-flight append that became durable counts as acknowledged */
        }
        free(got);
        lf_agent_buffer_stats st;
        lf_agent_buffer_stats_get(b, &st);
        assert_int_equal(st.quarantined_segments, 0);
        assert_int_equal(st.checkpoint_resets, 0);
        lf_agent_buffer_close(b);
    }
    assert_true(last > 100000);
    print_message("cursor crash loop: last acknowledged cursor t%u\n", last);
    rm_rf(dir);
}

/* ---- blocking waits ---- */

typedef struct waiter {
    lf_agent_buffer *b;
    bool space; /* wait_space, else wait_items */
    size_t bytes;
    int timeout_ms;
    lf_err rc;
    lf_error err;
} waiter;

static void *wait_thread(void *arg)
{
    waiter *w = arg;
    w->rc = w->space ? lf_agent_buffer_wait_space(w->b, w->bytes, w->timeout_ms, &w->err)
                     : lf_agent_buffer_wait_items(w->b, w->timeout_ms, &w->err);
    return NULL;
}

/* Give a thread the chance to block first; correctness never depends on it. */
static void let_it_block(void)
{
    usleep(50000);
}

static void test_wait_items(void **state)
{
    (void)state;
    char dir[64];
    make_dir(dir);
    lf_agent_buffer *b = open_buf(dir, NULL);
    lf_error e = {0};
    assert_int_equal(lf_agent_buffer_wait_items(b, 0, &e), LF_ERR_NOT_FOUND);
    assert_int_equal(lf_agent_buffer_wait_items(b, 20, &e), LF_ERR_NOT_FOUND);
    assert_non_null(strstr(e.message, "timed out"));
    /* woken by an append from another thread (a minute's bound, never reached) */
    waiter w = {.b = b, .timeout_ms = 60000};
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, wait_thread, &w), 0);
    let_it_block();
    uint64_t id;
    assert_int_equal(append_n(b, 0, 10, &id), LF_OK);
    pthread_join(t, NULL);
    assert_int_equal(w.rc, LF_OK);
    assert_int_equal(lf_agent_buffer_wait_items(b, 0, NULL), LF_OK);
    assert_int_equal(lf_agent_buffer_ack(b, id, NULL), LF_OK);
    assert_int_equal(lf_agent_buffer_wait_items(b, 0, NULL), LF_ERR_NOT_FOUND);
    /* items found at open count */
    assert_int_equal(append_n(b, 1, 10, NULL), LF_OK);
    lf_agent_buffer_close(b);
    b = open_buf(dir, NULL);
    assert_int_equal(lf_agent_buffer_wait_items(b, 0, NULL), LF_OK);
    lf_agent_buffer_close(b);
    rm_rf(dir);
}

static void test_wait_space(void **state)
{
    (void)state;
    char dir[64];
    make_dir(dir);
    lf_agent_buffer_options o = {.max_bytes = 8192, .segment_bytes = 2048};
    lf_agent_buffer *b = open_buf(dir, &o);
    lf_error e = {0};
    assert_int_equal(lf_agent_buffer_wait_space(b, 200, 0, &e), LF_OK); /* empty */
    assert_int_equal(lf_agent_buffer_wait_space(b, 8192, 0, &e), LF_ERR_TOO_LARGE);
    assert_int_equal(lf_agent_buffer_wait_space(b, (size_t)2 << 30, 0, &e), LF_ERR_TOO_LARGE);
    unsigned n = 0;
    while (append_n(b, n, 200, NULL) == LF_OK)
        n++;
    assert_int_equal(lf_agent_buffer_wait_space(b, 200, 0, &e), LF_ERR_NOT_FOUND);
    assert_int_equal(lf_agent_buffer_wait_space(b, 200, 20, &e), LF_ERR_NOT_FOUND);
    /* woken by an ack from another thread */
    waiter w = {.b = b, .space = true, .bytes = 200, .timeout_ms = 60000};
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, wait_thread, &w), 0);
    let_it_block();
    assert_int_equal(lf_agent_buffer_ack(b, n / 2, NULL), LF_OK);
    pthread_join(t, NULL);
    assert_int_equal(w.rc, LF_OK);
    assert_int_equal(append_n(b, n, 200, NULL), LF_OK);
    lf_agent_buffer_close(b);
    rm_rf(dir);

    /* the promise: LF_OK from wait_space means the append is not refused as full */
    make_dir(dir);
    b = open_buf(dir, &o);
    unsigned ok = 0, waited = 0, next_ack = 1;
    uint64_t id = 0;
    for (unsigned i = 0; i < 600; i++) {
        size_t len = 30 + (i * 37) % 900;
        if (lf_agent_buffer_wait_space(b, len, 0, NULL) == LF_OK) {
            assert_int_equal(append_n(b, i, len, &id), LF_OK);
            ok++;
        } else {
            waited++;
            /* ship the oldest few */
            next_ack += 3;
            if (next_ack > id)
                next_ack = (unsigned)id;
            assert_int_equal(lf_agent_buffer_ack(b, next_ack, NULL), LF_OK);
        }
    }
    assert_true(ok > 100 && waited > 10);
    lf_agent_buffer_close(b);
    rm_rf(dir);

    /* drop_oldest never refuses as full */
    make_dir(dir);
    o.policy = LF_AGENT_BUFFER_DROP_OLDEST;
    b = open_buf(dir, &o);
    for (unsigned i = 0; i < 100; i++)
        assert_int_equal(append_n(b, i, 200, NULL), LF_OK);
    assert_int_equal(lf_agent_buffer_wait_space(b, 1000, 0, NULL), LF_OK);
    lf_agent_buffer_close(b);
    rm_rf(dir);
}

static void test_wake(void **state)
{
    (void)state;
    char dir_a[64], dir_b[64];
    make_dir(dir_a);
    make_dir(dir_b);
    lf_agent_buffer_options o = {.max_bytes = 8192, .segment_bytes = 2048};
    lf_agent_buffer *a = open_buf(dir_a, &o), *b = open_buf(dir_b, &o);
    unsigned n = 0;
    while (append_n(b, n, 200, NULL) == LF_OK)
        n++;
    /* a's waiter waits for items that never come, b's for space nobody frees */
    waiter wi = {.b = a, .timeout_ms = 60000};
    waiter ws = {.b = b, .space = true, .bytes = 200, .timeout_ms = 60000};
    pthread_t ti, ts;
    assert_int_equal(pthread_create(&ti, NULL, wait_thread, &wi), 0);
    assert_int_equal(pthread_create(&ts, NULL, wait_thread, &ws), 0);
    let_it_block();
    lf_agent_buffer_wake(a);
    lf_agent_buffer_wake(b);
    pthread_join(ti, NULL);
    pthread_join(ts, NULL);
    assert_int_equal(wi.rc, LF_ERR_NOT_FOUND);
    assert_non_null(strstr(wi.err.message, "woken"));
    assert_int_equal(ws.rc, LF_ERR_NOT_FOUND);
    assert_non_null(strstr(ws.err.message, "woken"));
    /* sticky: a later wait returns at once even though its condition holds; the rest works */
    uint64_t id;
    assert_int_equal(append_n(a, 0, 10, &id), LF_OK);
    assert_int_equal(lf_agent_buffer_wait_items(a, 60000, NULL), LF_ERR_NOT_FOUND);
    lf_agent_buffer_item *it;
    size_t cnt;
    assert_int_equal(lf_agent_buffer_peek(a, 10, &it, &cnt, NULL), LF_OK);
    assert_int_equal(cnt, 1);
    lf_agent_buffer_items_free(it, cnt);
    assert_int_equal(lf_agent_buffer_ack(a, id, NULL), LF_OK);
    assert_int_equal(lf_agent_buffer_wait_space(b, 200, 60000, NULL), LF_ERR_NOT_FOUND);
    lf_agent_buffer_close(a);
    lf_agent_buffer_close(b);
    rm_rf(dir_a);
    rm_rf(dir_b);
}

/* One appender and one shipper that only ever block in the waits (no sleeping, no polling). */
static void *wait_appender(void *arg)
{
    shared *s = arg;
    for (unsigned i = 0; i < s->total; i++) {
        if (lf_agent_buffer_wait_space(s->b, 64, 60000, NULL) != LF_OK)
            return (void *)1;
        if (append_n(s->b, i, 64, NULL) != LF_OK) /* room was promised */
            return (void *)2;
    }
    return NULL;
}

static void *wait_shipper(void *arg)
{
    shared *s = arg;
    uint64_t next = 1;
    while (s->shipped < s->total) {
        if (lf_agent_buffer_wait_items(s->b, 60000, NULL) != LF_OK)
            return (void *)1;
        lf_agent_buffer_item *it;
        size_t n;
        if (lf_agent_buffer_peek(s->b, 8, &it, &n, NULL) != LF_OK || n == 0)
            return (void *)2;
        for (size_t i = 0; i < n; i++)
            if (it[i].id != next++ || it[i].body_len != 64)
                return (void *)3;
        if (lf_agent_buffer_ack(s->b, it[n - 1].id, NULL) != LF_OK)
            return (void *)4;
        s->shipped += (unsigned)n;
        lf_agent_buffer_items_free(it, n);
    }
    return NULL;
}

static void test_threads_waiting(void **state)
{
    (void)state;
    char dir[64];
    make_dir(dir);
    lf_agent_buffer_options o = {.max_bytes = 8192, .segment_bytes = 1024};
    shared s = {.b = open_buf(dir, &o), .total = 500};
    pthread_t a, sh;
    pthread_create(&a, NULL, wait_appender, &s);
    pthread_create(&sh, NULL, wait_shipper, &s);
    void *ra, *rs;
    pthread_join(a, &ra);
    pthread_join(sh, &rs);
    assert_null(ra);
    assert_null(rs);
    lf_agent_buffer_stats st;
    lf_agent_buffer_stats_get(s.b, &st);
    assert_int_equal(st.items_pending, 0);
    lf_agent_buffer_close(s.b);
    rm_rf(dir);
}

/* ---- what the shipper holds: drop_oldest accounting stays exact ---- */

static uint64_t rec_of(uint64_t id) /* records of append_n(id - 1) */
{
    return (id - 1) % 7 + 1;
}

static lf_agent_buffer_stats stats_of(lf_agent_buffer *b)
{
    lf_agent_buffer_stats st;
    lf_agent_buffer_stats_get(b, &st);
    return st;
}

/*
 * One item per segment (220-byte items, 256-byte segments), 16 fit in 4096 bytes. The shipper's
 * copies are deleted under it in every state: in flight then delivered, merely peeked (skipped,
 * counted once), delivered but not yet acked, in flight then abandoned. At the end delivered +
 * dropped + pending == appended, record for record.
 */
static void test_inflight_drop_exact(void **state)
{
    (void)state;
    char dir[64];
    make_dir(dir);
    lf_agent_buffer_options o = {
        .max_bytes = 4096, .segment_bytes = 256, .policy = LF_AGENT_BUFFER_DROP_OLDEST};
    lf_agent_buffer *b = open_buf(dir, &o);
    uint64_t id = 0, total_records = 0, delivered_records = 0;
    for (unsigned i = 0; i < 16; i++) {
        assert_int_equal(append_n(b, i, 150, &id), LF_OK);
        total_records += rec_of(id);
    }
    assert_int_equal(stats_of(b).items_pending, 16);
    assert_int_equal(stats_of(b).dropped_items, 0);
    lf_agent_buffer_item *it;
    size_t n;
    assert_int_equal(lf_agent_buffer_peek(b, 8, &it, &n, NULL), LF_OK);
    assert_int_equal(n, 8);
    lf_agent_buffer_items_free(it, n);

    /* bad calls */
    lf_error e = {0};
    assert_int_equal(lf_agent_buffer_send_begin(b, 0, &e), LF_ERR_INVALID);
    assert_int_equal(lf_agent_buffer_send_begin(b, 17, &e), LF_ERR_INVALID);
    assert_int_equal(lf_agent_buffer_send_end(b, 1, LF_AGENT_BUFFER_SENT, &e), LF_ERR_INVALID);
    assert_int_equal(lf_agent_buffer_send_begin(NULL, 1, &e), LF_ERR_INVALID);

    /* item 1 in flight; six appends delete items 1..6: 1 is not counted, 2..6 are */
    assert_int_equal(lf_agent_buffer_send_begin(b, 1, &e), LF_OK);
    assert_int_equal(lf_agent_buffer_send_begin(b, 1, &e), LF_OK);          /* again: still ours */
    assert_int_equal(lf_agent_buffer_send_begin(b, 2, &e), LF_ERR_INVALID); /* one at a time */
    assert_int_equal(lf_agent_buffer_send_end(b, 1, (lf_agent_buffer_send_outcome)7, &e),
                     LF_ERR_INVALID);
    for (unsigned i = 16; i < 22; i++) {
        assert_int_equal(append_n(b, i, 150, &id), LF_OK);
        total_records += rec_of(id);
    }
    lf_agent_buffer_stats st = stats_of(b);
    assert_int_equal(st.dropped_items, 5);
    assert_int_equal(st.dropped_records, rec_of(2) + rec_of(3) + rec_of(4) + rec_of(5) + rec_of(6));
    assert_int_equal(st.items_pending, 16);
    /* the server took it: delivered, never dropped; its ack is harmless though its segment
     * is gone */
    assert_int_equal(lf_agent_buffer_send_end(b, 1, LF_AGENT_BUFFER_SENT, &e), LF_OK);
    delivered_records += rec_of(1);
    assert_int_equal(lf_agent_buffer_send_end(b, 1, LF_AGENT_BUFFER_SENT, &e), LF_ERR_INVALID);
    assert_int_equal(lf_agent_buffer_ack(b, 1, &e), LF_OK);
    assert_int_equal(stats_of(b).dropped_items, 5);
    /* the peeked copies of 2..6 were dropped and counted: never to be sent */
    for (uint64_t k = 2; k <= 6; k++)
        assert_int_equal(lf_agent_buffer_send_begin(b, k, &e), LF_ERR_NOT_FOUND);
    assert_int_equal(lf_agent_buffer_send_begin(b, 1, &e), LF_ERR_NOT_FOUND); /* acked */

    /* 7 delivered, its ack not yet written, then its segment dropped: not counted */
    assert_int_equal(lf_agent_buffer_send_begin(b, 7, &e), LF_OK);
    assert_int_equal(lf_agent_buffer_send_end(b, 7, LF_AGENT_BUFFER_SENT, &e), LF_OK);
    delivered_records += rec_of(7);
    assert_int_equal(append_n(b, 22, 150, &id), LF_OK);
    total_records += rec_of(id);
    assert_int_equal(stats_of(b).dropped_items, 5);
    /* 8 in flight, dropped, then given up (stop): counted when abandoned, not before */
    assert_int_equal(lf_agent_buffer_send_begin(b, 8, &e), LF_OK);
    assert_int_equal(append_n(b, 23, 150, &id), LF_OK);
    total_records += rec_of(id);
    assert_int_equal(stats_of(b).dropped_items, 5);
    assert_int_equal(lf_agent_buffer_send_begin(b, 8, &e), LF_OK); /* a retry may go ahead */
    assert_int_equal(lf_agent_buffer_send_end(b, 8, LF_AGENT_BUFFER_ABANDONED, &e), LF_OK);
    st = stats_of(b);
    assert_int_equal(st.dropped_items, 6);
    assert_int_equal(st.dropped_records,
                     rec_of(2) + rec_of(3) + rec_of(4) + rec_of(5) + rec_of(6) + rec_of(8));
    assert_int_equal(lf_agent_buffer_send_begin(b, 8, &e), LF_ERR_NOT_FOUND);
    /* 9 in flight and abandoned while its segment is still there: pending, not dropped */
    assert_int_equal(lf_agent_buffer_send_begin(b, 9, &e), LF_OK);
    assert_int_equal(lf_agent_buffer_send_end(b, 9, LF_AGENT_BUFFER_ABANDONED, &e), LF_OK);
    assert_int_equal(stats_of(b).dropped_items, 6);
    assert_int_equal(lf_agent_buffer_ack(b, 7, &e), LF_OK);

    st = stats_of(b);
    assert_int_equal(st.items_pending, 16);
    assert_int_equal(delivered_records + st.dropped_records + st.records_pending, total_records);
    assert_int_equal(2 + st.dropped_items + st.items_pending, id);
    assert_int_equal(lf_agent_buffer_peek(b, 100, &it, &n, NULL), LF_OK);
    assert_int_equal(n, 16);
    assert_int_equal(it[0].id, 9);
    assert_int_equal(it[n - 1].id, id);
    lf_agent_buffer_items_free(it, n);
    /* counts are per process; what is on disk is unchanged by a restart */
    lf_agent_buffer_close(b);
    b = open_buf(dir, &o);
    st = stats_of(b);
    assert_int_equal(st.dropped_items, 0);
    assert_int_equal(st.items_pending, 16);
    assert_int_equal(lf_agent_buffer_send_begin(b, 8, &e), LF_ERR_NOT_FOUND);
    assert_int_equal(lf_agent_buffer_send_begin(b, 9, &e), LF_OK);
    lf_agent_buffer_close(b);
    rm_rf(dir);
}

/* The block policy never drops: a claimed item at the bound stays, nothing is counted. */
static void test_inflight_block_policy(void **state)
{
    (void)state;
    char dir[64];
    make_dir(dir);
    lf_agent_buffer_options o = {.max_bytes = 4096, .segment_bytes = 256};
    lf_agent_buffer *b = open_buf(dir, &o);
    unsigned appended = 0;
    lf_err rc;
    assert_int_equal(append_n(b, appended++, 150, NULL), LF_OK);
    assert_int_equal(lf_agent_buffer_send_begin(b, 1, NULL), LF_OK);
    while ((rc = append_n(b, appended, 150, NULL)) == LF_OK)
        appended++;
    assert_int_equal(rc, LF_ERR_FULL);
    assert_int_equal(appended, 16);
    assert_int_equal(lf_agent_buffer_send_end(b, 1, LF_AGENT_BUFFER_ABANDONED, NULL), LF_OK);
    lf_agent_buffer_stats st = stats_of(b);
    assert_int_equal(st.dropped_items, 0);
    assert_int_equal(st.items_pending, 16);
    assert_int_equal(lf_agent_buffer_send_begin(b, 1, NULL), LF_OK);
    assert_int_equal(lf_agent_buffer_send_end(b, 1, LF_AGENT_BUFFER_SENT, NULL), LF_OK);
    assert_int_equal(lf_agent_buffer_ack(b, 1, NULL), LF_OK);
    assert_int_equal(append_n(b, appended, 150, NULL), LF_OK);
    assert_int_equal(stats_of(b).dropped_items, 0);
    lf_agent_buffer_close(b);
    rm_rf(dir);
}

/*
 * An appender overflowing a drop_oldest buffer against a shipper that peeks batches, claims
 * each copy, sometimes yields mid-send, delivers most and abandons some (retried later). Once
 * drained, every id was delivered at most once, and the records never delivered are exactly
 * dropped_records.
 */
#define RACE_ITEMS 3000

typedef struct race {
    lf_agent_buffer *b;
    atomic_bool done;
    uint8_t delivered[RACE_ITEMS + 1]; /* times each id was delivered */
    uint64_t delivered_records;
    atomic_int failure; /* line of the first failed check, 0 = none */
} race;

/* The race's items come from two inputs, interleaved, and some from none. */
static const char *race_source(uint64_t id)
{
    return id % 5 == 0 ? "" : id % 2 ? "in.a" : "in.b";
}

static void *race_appender(void *arg)
{
    race *r = arg;
    for (unsigned i = 0; i < RACE_ITEMS; i++) {
        uint64_t id;
        if (append_c(r->b, i, 150, race_source(i + 1), NULL, &id) != LF_OK || id != i + 1) {
            atomic_store(&r->failure, __LINE__);
            break;
        }
    }
    atomic_store(&r->done, true);
    return NULL;
}

static void *race_shipper(void *arg)
{
    race *r = arg;
    uint32_t rnd = 12345;
    for (int round = 0; round < 1000000 && atomic_load(&r->failure) == 0; round++) {
        bool finished = atomic_load(&r->done);
        lf_agent_buffer_item *it;
        size_t n;
        if (lf_agent_buffer_peek(r->b, 8, &it, &n, NULL) != LF_OK) {
            atomic_store(&r->failure, __LINE__);
            break;
        }
        if (n == 0 && finished)
            break;
        uint64_t ack = 0;
        for (size_t i = 0; i < n; i++) {
            lf_err rc = lf_agent_buffer_send_begin(r->b, it[i].id, NULL);
            if (rc == LF_ERR_NOT_FOUND)
                continue; /* dropped since the peek: counted there */
            if (rc != LF_OK) {
                atomic_store(&r->failure, __LINE__);
                break;
            }
            rnd = rnd * 1103515245u + 12345u;
            if ((rnd >> 16) % 2 == 0)
                sched_yield(); /* let the appender drop it while "in flight" */
            if ((rnd >> 16) % 5 == 0) {
                (void)lf_agent_buffer_send_end(r->b, it[i].id, LF_AGENT_BUFFER_ABANDONED, NULL);
                break; /* like a stop: the rest of the batch waits */
            }
            r->delivered[it[i].id]++;
            r->delivered_records += it[i].records;
            if (lf_agent_buffer_send_end(r->b, it[i].id, LF_AGENT_BUFFER_SENT, NULL) != LF_OK) {
                atomic_store(&r->failure, __LINE__);
                break;
            }
            ack = it[i].id;
        }
        lf_agent_buffer_items_free(it, n);
        if (ack != 0 && lf_agent_buffer_ack(r->b, ack, NULL) != LF_OK)
            atomic_store(&r->failure, __LINE__);
    }
    return NULL;
}

static void test_inflight_race(void **state)
{
    (void)state;
    char dir[64];
    make_dir(dir);
    lf_agent_buffer_options o = {
        .max_bytes = 4096, .segment_bytes = 512, .policy = LF_AGENT_BUFFER_DROP_OLDEST};
    race *r = calloc(1, sizeof *r);
    assert_non_null(r);
    r->b = open_buf(dir, &o);
    atomic_init(&r->done, false);
    atomic_init(&r->failure, 0);
    pthread_t a, sh;
    assert_int_equal(pthread_create(&a, NULL, race_appender, r), 0);
    assert_int_equal(pthread_create(&sh, NULL, race_shipper, r), 0);
    pthread_join(a, NULL);
    pthread_join(sh, NULL);
    assert_int_equal(atomic_load(&r->failure), 0);
    lf_agent_buffer_stats st = stats_of(r->b);
    assert_int_equal(st.items_pending, 0);
    uint64_t total = 0, not_delivered = 0, not_delivered_items = 0;
    const char *sources[] = {"in.a", "in.b", ""};
    uint64_t src_items[3] = {0}, src_records[3] = {0};
    for (uint64_t id = 1; id <= RACE_ITEMS; id++) {
        assert_true(r->delivered[id] <= 1);
        total += rec_of(id);
        if (r->delivered[id] == 0) {
            not_delivered += rec_of(id);
            not_delivered_items++;
            size_t k = 0;
            while (strcmp(sources[k], race_source(id)) != 0)
                k++;
            src_items[k]++;
            src_records[k] += rec_of(id);
        }
    }
    assert_true(st.dropped_items > 0);
    assert_int_equal(st.dropped_items, not_delivered_items);
    assert_int_equal(st.dropped_records, not_delivered);
    assert_int_equal(r->delivered_records + st.dropped_records, total);
    /* per source: exactly what of that input was never delivered */
    for (size_t k = 0; k < 3; k++) {
        uint64_t items = 0, records = 0;
        assert_int_equal(lf_agent_buffer_dropped_for(r->b, sources[k], &items, &records, NULL),
                         LF_OK);
        assert_int_equal(items, src_items[k]);
        assert_int_equal(records, src_records[k]);
        assert_true(items > 0);
    }
    lf_agent_buffer_close(r->b);
    free(r);
    rm_rf(dir);
}

/* ---- drops per source (the agent's per-input metrics) ---- */

static void dropped_of(lf_agent_buffer *b, const char *source, uint64_t *items, uint64_t *records)
{
    lf_error e = {0};
    if (lf_agent_buffer_dropped_for(b, source, items, records, &e) != LF_OK)
        fail_msg("dropped_for(%s): %s", source ? source : "(null)", e.message);
}

/*
 * Assert what `source` has dropped: the items whose ids are in `ids` (0-terminated), with their
 * record counts from rec_of.
 */
static void assert_dropped(lf_agent_buffer *b, const char *source, const uint64_t *ids)
{
    uint64_t want_items = 0, want_records = 0, items = 99, records = 99;
    for (; *ids != 0; ids++) {
        want_items++;
        want_records += rec_of(*ids);
    }
    dropped_of(b, source, &items, &records);
    if (items != want_items || records != want_records)
        fail_msg("source \"%s\": dropped %" PRIu64 " items / %" PRIu64 " records, expected %" PRIu64
                 " / %" PRIu64,
                 source, items, records, want_items, want_records);
}

/* The global counters equal the sum over the given sources plus "" and the catch-all. */
static void assert_sum(lf_agent_buffer *b, const char *const *sources, size_t n)
{
    uint64_t items = 0, records = 0, i, r;
    for (size_t k = 0; k < n; k++) {
        dropped_of(b, sources[k], &i, &r);
        items += i;
        records += r;
    }
    dropped_of(b, "", &i, &r);
    items += i;
    records += r;
    dropped_of(b, LF_AGENT_BUFFER_SOURCE_OTHER, &i, &r);
    items += i;
    records += r;
    lf_agent_buffer_stats st = stats_of(b);
    assert_int_equal(st.dropped_items, items);
    assert_int_equal(st.dropped_records, records);
}

/* Items of test_dropped_per_source: odd ids from in.a, even from in.b, 5 and 14 from none. */
static const char *src_of(uint64_t id)
{
    if (id == 5 || id == 14)
        return "";
    return id % 2 ? "in.a" : "in.b";
}

static void append_src(lf_agent_buffer *b, uint64_t want_id)
{
    uint64_t id = 0;
    assert_int_equal(append_c(b, (unsigned)(want_id - 1), 150, src_of(want_id), NULL, &id), LF_OK);
    assert_int_equal(id, want_id);
}

/*
 * Two inputs interleaved in a drop_oldest buffer of one item per segment (sources of 4 bytes:
 * 224-byte items, 256-byte segments, 16 fit in 4096, and each further append drops exactly the
 * oldest one). Every state of the shipper, then a reopen: the counts start again at 0, but the
 * items recovered from the segments keep their source, so later drops go to the right input.
 */
static void test_dropped_per_source(void **state)
{
    (void)state;
    char dir[64];
    make_dir(dir);
    lf_agent_buffer_options o = {
        .max_bytes = 4096, .segment_bytes = 256, .policy = LF_AGENT_BUFFER_DROP_OLDEST};
    lf_agent_buffer *b = open_buf(dir, &o);
    const char *const both[] = {"in.a", "in.b"};
    const uint64_t none[] = {0};
    for (uint64_t id = 1; id <= 16; id++)
        append_src(b, id);
    assert_int_equal(stats_of(b).dropped_items, 0);
    assert_dropped(b, "in.a", none);
    assert_dropped(b, "never-seen", none);
    assert_dropped(b, NULL, none);
    assert_dropped(b, LF_AGENT_BUFFER_SOURCE_OTHER, none);
    lf_agent_buffer_item *it;
    size_t n;
    assert_int_equal(lf_agent_buffer_peek(b, 8, &it, &n, NULL), LF_OK);
    assert_int_equal(n, 8);
    for (size_t i = 0; i < n; i++)
        assert_string_equal(it[i].source, src_of(it[i].id));
    lf_agent_buffer_items_free(it, n);

    /* 1 (in.a) in flight; 6 appends drop 1..6: 1 is not counted, the peeked 2..6 are */
    assert_int_equal(lf_agent_buffer_send_begin(b, 1, NULL), LF_OK);
    for (uint64_t id = 17; id <= 22; id++)
        append_src(b, id);
    const uint64_t a1[] = {3, 0}, b1[] = {2, 4, 6, 0}, n1[] = {5, 0};
    assert_dropped(b, "in.a", a1);
    assert_dropped(b, "in.b", b1);
    assert_dropped(b, "", n1);
    assert_sum(b, both, 2);
    assert_int_equal(stats_of(b).dropped_items, 5);
    /* delivered: never counted, for nobody */
    assert_int_equal(lf_agent_buffer_send_end(b, 1, LF_AGENT_BUFFER_SENT, NULL), LF_OK);
    assert_int_equal(lf_agent_buffer_ack(b, 1, NULL), LF_OK);
    assert_dropped(b, "in.a", a1);
    /* 7 (in.a) delivered, not yet acked, then dropped: not counted */
    assert_int_equal(lf_agent_buffer_send_begin(b, 7, NULL), LF_OK);
    assert_int_equal(lf_agent_buffer_send_end(b, 7, LF_AGENT_BUFFER_SENT, NULL), LF_OK);
    append_src(b, 23);
    assert_dropped(b, "in.a", a1);
    assert_sum(b, both, 2);
    /* 8 (in.b) in flight, dropped: counted for in.b only once abandoned */
    assert_int_equal(lf_agent_buffer_send_begin(b, 8, NULL), LF_OK);
    append_src(b, 24);
    assert_dropped(b, "in.b", b1);
    assert_sum(b, both, 2);
    assert_int_equal(lf_agent_buffer_send_end(b, 8, LF_AGENT_BUFFER_ABANDONED, NULL), LF_OK);
    const uint64_t b2[] = {2, 4, 6, 8, 0};
    assert_dropped(b, "in.b", b2);
    assert_dropped(b, "in.a", a1);
    assert_sum(b, both, 2);
    /* 9 (in.a) in flight, dropped, then delivered: never counted */
    assert_int_equal(lf_agent_buffer_send_begin(b, 9, NULL), LF_OK);
    append_src(b, 25);
    assert_int_equal(lf_agent_buffer_send_end(b, 9, LF_AGENT_BUFFER_SENT, NULL), LF_OK);
    assert_int_equal(lf_agent_buffer_ack(b, 9, NULL), LF_OK);
    assert_dropped(b, "in.a", a1);
    assert_dropped(b, "in.b", b2);
    assert_dropped(b, "", n1);
    assert_sum(b, both, 2);
    assert_int_equal(stats_of(b).dropped_items, 6);
    assert_int_equal(stats_of(b).items_pending, 16); /* 10..25 */

    /* reopen: the counts are per process, the sources of 10..25 come back from the segments */
    lf_agent_buffer_close(b);
    b = open_buf(dir, &o);
    assert_int_equal(stats_of(b).dropped_items, 0);
    assert_dropped(b, "in.a", none);
    assert_dropped(b, "in.b", none);
    assert_dropped(b, "", none);
    /* 13 (in.a) in flight; 6 appends drop 10..15 */
    assert_int_equal(lf_agent_buffer_send_begin(b, 13, NULL), LF_OK);
    for (uint64_t id = 26; id <= 31; id++)
        append_src(b, id);
    const uint64_t a3[] = {11, 15, 0}, b3[] = {10, 12, 0}, n3[] = {14, 0};
    assert_dropped(b, "in.a", a3);
    assert_dropped(b, "in.b", b3);
    assert_dropped(b, "", n3);
    assert_sum(b, both, 2);
    assert_int_equal(lf_agent_buffer_send_end(b, 13, LF_AGENT_BUFFER_ABANDONED, NULL), LF_OK);
    const uint64_t a4[] = {11, 13, 15, 0};
    assert_dropped(b, "in.a", a4);
    assert_dropped(b, "in.b", b3);
    assert_sum(b, both, 2);
    assert_int_equal(stats_of(b).dropped_items, 6);
    /* and what was appended after the reopen is attributed too: 16..21 go */
    for (uint64_t id = 32; id <= 37; id++)
        append_src(b, id);
    const uint64_t a5[] = {11, 13, 15, 17, 19, 21, 0}, b5[] = {10, 12, 16, 18, 20, 0};
    assert_dropped(b, "in.a", a5);
    assert_dropped(b, "in.b", b5);
    assert_dropped(b, "", n3);
    assert_sum(b, both, 2);
    assert_int_equal(stats_of(b).dropped_items, 12);
    assert_int_equal(lf_agent_buffer_peek(b, 100, &it, &n, NULL), LF_OK);
    assert_int_equal(n, 16);
    assert_int_equal(it[0].id, 22);
    lf_agent_buffer_items_free(it, n);
    lf_agent_buffer_close(b);
    rm_rf(dir);
}

/* Bad calls; nullable outputs. */
static void test_dropped_for_invalid(void **state)
{
    (void)state;
    char dir[64];
    make_dir(dir);
    lf_agent_buffer *b = open_buf(dir, NULL);
    lf_error e = {0};
    uint64_t items = 7, records = 7;
    assert_int_equal(lf_agent_buffer_dropped_for(NULL, "in.a", &items, &records, &e),
                     LF_ERR_INVALID);
    assert_int_equal(lf_agent_buffer_dropped_for(b, "in/a", &items, &records, &e), LF_ERR_INVALID);
    assert_int_equal(lf_agent_buffer_dropped_for(b, "a*", &items, &records, &e), LF_ERR_INVALID);
    char longname[LF_AGENT_BUFFER_SOURCE_MAX + 2];
    memset(longname, 'x', sizeof longname - 1);
    longname[sizeof longname - 1] = 0;
    assert_int_equal(lf_agent_buffer_dropped_for(b, longname, &items, &records, &e),
                     LF_ERR_INVALID);
    assert_int_equal(items, 7);               /* untouched on error */
    longname[LF_AGENT_BUFFER_SOURCE_MAX] = 0; /* 64 bytes: valid, never seen */
    assert_int_equal(lf_agent_buffer_dropped_for(b, longname, &items, &records, &e), LF_OK);
    assert_int_equal(items, 0);
    assert_int_equal(records, 0);
    assert_int_equal(lf_agent_buffer_dropped_for(b, "in.a", NULL, NULL, &e), LF_OK);
    lf_agent_buffer_close(b);
    rm_rf(dir);
}

/*
 * More distinct sources than the table holds (items without a cursor may carry any number):
 * the first 1024 names get their own counts, later ones count under "*", and the global counts
 * stay the sum of all of them. Expectations come from what is left in the buffer.
 */
static void test_dropped_source_overflow(void **state)
{
    (void)state;
    char dir[64];
    make_dir(dir);
    lf_agent_buffer_options o = {
        .max_bytes = 4096, .segment_bytes = 256, .policy = LF_AGENT_BUFFER_DROP_OLDEST};
    lf_agent_buffer *b = open_buf(dir, &o);
    const unsigned named = LF_AGENT_BUFFER_SOURCES_MAX + 10, total = named + 20;
    char name[16];
    for (unsigned i = 0; i < total; i++) {
        uint64_t id;
        snprintf(name, sizeof name, "s%04u", i);
        assert_int_equal(append_c(b, i, 150, i < named ? name : NULL, NULL, &id), LF_OK);
        assert_int_equal(id, i + 1);
    }
    lf_agent_buffer_item *it;
    size_t n;
    assert_int_equal(lf_agent_buffer_peek(b, 100, &it, &n, NULL), LF_OK);
    assert_true(n > 0 && n < 20); /* every named item was dropped */
    uint64_t first = it[0].id;
    lf_agent_buffer_items_free(it, n);
    uint64_t sum_items = 0, sum_records = 0, items, records, other_records = 0, none_records = 0;
    for (unsigned i = 0; i < named; i++) {
        snprintf(name, sizeof name, "s%04u", i);
        dropped_of(b, name, &items, &records);
        sum_items += items;
        sum_records += records;
        if (i < LF_AGENT_BUFFER_SOURCES_MAX) {
            assert_int_equal(items, 1);
            assert_int_equal(records, rec_of(i + 1));
        } else {
            assert_int_equal(items, 0); /* no slot of its own: counted under "*" */
            other_records += rec_of(i + 1);
        }
    }
    for (uint64_t id = named + 1; id < first; id++)
        none_records += rec_of(id);
    dropped_of(b, LF_AGENT_BUFFER_SOURCE_OTHER, &items, &records);
    assert_int_equal(items, 10);
    assert_int_equal(records, other_records);
    sum_items += items;
    sum_records += records;
    dropped_of(b, "", &items, &records);
    assert_int_equal(items, first - 1 - named);
    assert_int_equal(records, none_records);
    sum_items += items;
    sum_records += records;
    lf_agent_buffer_stats st = stats_of(b);
    assert_int_equal(st.dropped_items, first - 1);
    assert_int_equal(st.dropped_items, sum_items);
    assert_int_equal(st.dropped_records, sum_records);
    lf_agent_buffer_close(b);
    rm_rf(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_roundtrip),
        cmocka_unit_test(test_invalid_input),
        cmocka_unit_test(test_single_user),
        cmocka_unit_test(test_format_bytes),
        cmocka_unit_test(test_bound_block),
        cmocka_unit_test(test_bound_drop_oldest),
        cmocka_unit_test(test_torn_tail_every_offset),
        cmocka_unit_test(test_corrupt_middle_segment),
        cmocka_unit_test(test_injected_faults),
        cmocka_unit_test(test_crash_loop),
        cmocka_unit_test(test_threads),
        cmocka_unit_test(test_no_plaintext_marker),
        cmocka_unit_test(test_cursor_basic),
        cmocka_unit_test(test_cursor_invalid),
        cmocka_unit_test(test_cursor_source_limit),
        cmocka_unit_test(test_cursor_after_ack),
        cmocka_unit_test(test_cursor_newest_wins),
        cmocka_unit_test(test_cursor_drop_oldest),
        cmocka_unit_test(test_cursor_old_format_and_quarantine),
        cmocka_unit_test(test_next_id_floor),
        cmocka_unit_test(test_cursor_drop_fault),
        cmocka_unit_test(test_cursor_crash_loop),
        cmocka_unit_test(test_wait_items),
        cmocka_unit_test(test_wait_space),
        cmocka_unit_test(test_wake),
        cmocka_unit_test(test_threads_waiting),
        cmocka_unit_test(test_inflight_drop_exact),
        cmocka_unit_test(test_inflight_block_policy),
        cmocka_unit_test(test_inflight_race),
        cmocka_unit_test(test_dropped_per_source),
        cmocka_unit_test(test_dropped_for_invalid),
        cmocka_unit_test(test_dropped_source_overflow),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * test_agent_tail.c — the agent's file tail input against real files in a temp dir: lines,
 * partial lines, long lines, read_from_head vs tail, globs that match files created later,
 * rotation by rename and copytruncate under a concurrent writer, truncation that re-grew
 * between two polls (caught by fingerprint/anchor, not size), restart from checkpoints
 * (at-least-once, never skip; a checkpoint with a foreign fingerprint is refused), multiline
 * Java stack traces, rejection of bad options, lf_tail_restore's "only where ahead" rule,
 * cursor encoding (round trip, every truncation and malformation refused) and the accept hook. The
 * concurrency tests run twice: with inotify and poll-only. Every wait is bounded.
 */
#define _GNU_SOURCE
#include "testutil.h"

#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "inputs/tail/tail.h"

typedef struct rec_copy {
    char *data;
    size_t len;
    unsigned flags;
    size_t lines;
    lf_tail_position pos;
    char path[256];
} rec_copy;

typedef struct collected {
    rec_copy *v;
    size_t n, cap;
} collected;

static char g_dir[256];
static bool g_no_inotify;

static void mkpath(char *out, size_t cap, const char *name)
{
    snprintf(out, cap, "%s/%s", g_dir, name);
}

static int setup_dir(void **state)
{
    (void)state;
    snprintf(g_dir, sizeof g_dir, "/tmp/lf-tail-XXXXXX");
    return mkdtemp(g_dir) ? 0 : -1;
}

static int teardown_dir(void **state)
{
    (void)state;
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_dir);
    return system(cmd) == 0 ? 0 : -1;
}

static void append(const char *name, const char *text)
{
    char p[300];
    mkpath(p, sizeof p, name);
    int fd = open(p, O_WRONLY | O_CREAT | O_APPEND, 0644);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
}

static lf_tail_options base_opts(const char **globs, size_t n)
{
    lf_tail_options o = {0};
    o.globs = globs;
    o.n_globs = n;
    o.poll_interval_ms = 30;
    o.rotate_wait_ms = 150;
    o.multiline_flush_ms = 150;
    o.disable_inotify = g_no_inotify;
    return o;
}

static void keep(collected *c, const lf_tail_record *r)
{
    if (c->n == c->cap) {
        c->cap = c->cap ? c->cap * 2 : 64;
        c->v = realloc(c->v, c->cap * sizeof *c->v);
        assert_non_null(c->v);
    }
    rec_copy *k = &c->v[c->n++];
    k->data = strndup((const char *)r->data, r->len);
    k->len = r->len;
    k->flags = r->flags;
    k->lines = r->lines;
    k->pos = r->position;
    snprintf(k->path, sizeof k->path, "%s", r->path);
    assert_true(r->read_time_ns > 0);
}

/* Collect until want records or the time limit; returns how many were collected. */
static size_t collect(lf_tail *t, collected *c, size_t want, int limit_ms)
{
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    while (c->n < want) {
        lf_tail_record r;
        lf_err e = lf_tail_next(t, &r, 50, NULL);
        if (e == LF_OK)
            keep(c, &r);
        else
            assert_int_equal(e, LF_ERR_NOT_FOUND);
        clock_gettime(CLOCK_MONOTONIC, &b);
        if ((b.tv_sec - a.tv_sec) * 1000 + (b.tv_nsec - a.tv_nsec) / 1000000 > limit_ms)
            break;
    }
    return c->n;
}

static void collected_free(collected *c)
{
    for (size_t i = 0; i < c->n; i++)
        free(c->v[i].data);
    free(c->v);
    memset(c, 0, sizeof *c);
}

static void expect_nothing(lf_tail *t, int ms)
{
    lf_tail_record r;
    assert_int_equal(lf_tail_next(t, &r, ms, NULL), LF_ERR_NOT_FOUND);
}

static void test_lines_and_partial(void **state)
{
    (void)state;
    char glob[300];
    mkpath(glob, sizeof glob, "a.log");
    const char *globs[] = {glob};
    append("a.log", "one\ntwo\nthree\n");
    lf_tail_options o = base_opts(globs, 1);
    o.read_from_head = true;
    lf_tail *t;
    assert_int_equal(lf_tail_create(&o, &t, NULL), LF_OK);
    collected c = {0};
    assert_int_equal(collect(t, &c, 3, 2000), 3);
    assert_string_equal(c.v[0].data, "one");
    assert_string_equal(c.v[2].data, "three");
    assert_string_equal(c.v[0].path, glob);
    assert_int_equal(c.v[0].pos.offset, 4);
    assert_int_equal(c.v[2].pos.offset, 14);
    assert_int_equal(c.v[1].flags, 0);
    /* A partial line waits for its newline, however long we wait. */
    append("a.log", "par");
    expect_nothing(t, 300);
    append("a.log", "tial\nlast-without-newline");
    assert_int_equal(collect(t, &c, 4, 2000), 4);
    assert_string_equal(c.v[3].data, "partial");
    expect_nothing(t, 300);
    /* Only once the file is gone (deleted here) is the partial line flushed, flagged. */
    char p[300];
    mkpath(p, sizeof p, "a.log");
    assert_int_equal(unlink(p), 0);
    assert_int_equal(collect(t, &c, 5, 3000), 5);
    assert_string_equal(c.v[4].data, "last-without-newline");
    assert_true(c.v[4].flags & LF_TAIL_REC_NO_NEWLINE);
    /* Drained and deleted: closed. */
    expect_nothing(t, 400);
    lf_tail_stats st;
    lf_tail_get_stats(t, &st);
    assert_int_equal(st.files_opened, 1);
    assert_int_equal(st.files_closed, 1);
    assert_int_equal(st.partial_flushes, 1);
    lf_tail_destroy(t);
    collected_free(&c);
}

static void test_head_vs_tail(void **state)
{
    (void)state;
    char glob[300];
    mkpath(glob, sizeof glob, "b.log");
    const char *globs[] = {glob};
    append("b.log", "old1\nold2\n");
    lf_tail_options o = base_opts(globs, 1);
    lf_tail *t;
    assert_int_equal(lf_tail_create(&o, &t, NULL), LF_OK);
    expect_nothing(t, 100); /* first scan: starts at the end */
    append("b.log", "new1\n");
    collected c = {0};
    assert_int_equal(collect(t, &c, 1, 2000), 1);
    assert_string_equal(c.v[0].data, "new1");
    lf_tail_destroy(t);
    collected_free(&c);

    o.read_from_head = true;
    assert_int_equal(lf_tail_create(&o, &t, NULL), LF_OK);
    assert_int_equal(collect(t, &c, 3, 2000), 3);
    assert_string_equal(c.v[0].data, "old1");
    assert_string_equal(c.v[2].data, "new1");
    lf_tail_destroy(t);
    collected_free(&c);
}

static void test_long_line_split(void **state)
{
    (void)state;
    char glob[300];
    mkpath(glob, sizeof glob, "long.log");
    const char *globs[] = {glob};
    lf_tail_options o = base_opts(globs, 1);
    o.max_line_bytes = 100;
    o.read_from_head = true;
    char line[252];
    for (int i = 0; i < 250; i++)
        line[i] = (char)('a' + i % 26);
    line[250] = '\n';
    line[251] = '\0';
    append("long.log", line);
    append("long.log", "short\n");
    lf_tail *t;
    assert_int_equal(lf_tail_create(&o, &t, NULL), LF_OK);
    collected c = {0};
    assert_int_equal(collect(t, &c, 4, 2000), 4);
    assert_int_equal(c.v[0].len, 100);
    assert_int_equal(c.v[1].len, 100);
    assert_int_equal(c.v[2].len, 50);
    assert_int_equal(c.v[0].flags, LF_TAIL_REC_SPLIT);
    assert_int_equal(c.v[2].flags, LF_TAIL_REC_SPLIT | LF_TAIL_REC_SPLIT_LAST);
    assert_memory_equal(c.v[1].data, line + 100, 100);
    assert_memory_equal(c.v[2].data, line + 200, 50);
    assert_int_equal(c.v[2].pos.offset, 251);
    assert_string_equal(c.v[3].data, "short");
    lf_tail_stats st;
    lf_tail_get_stats(t, &st);
    assert_int_equal(st.split_lines, 1);
    lf_tail_destroy(t);
    collected_free(&c);
}

static void test_glob_new_files(void **state)
{
    (void)state;
    char glob[300];
    mkpath(glob, sizeof glob, "g*.log");
    const char *globs[] = {glob};
    lf_tail_options o = base_opts(globs, 1);
    lf_tail *t;
    assert_int_equal(lf_tail_create(&o, &t, NULL), LF_OK);
    expect_nothing(t, 100);
    /* Files created after the start are read from their beginning. */
    append("g1.log", "g1-a\ng1-b\n");
    append("other.txt", "not matched\n");
    collected c = {0};
    assert_int_equal(collect(t, &c, 2, 3000), 2);
    append("g2.log", "g2-a\n");
    assert_int_equal(collect(t, &c, 3, 3000), 3);
    assert_string_equal(c.v[0].data, "g1-a");
    assert_string_equal(c.v[1].data, "g1-b");
    assert_string_equal(c.v[2].data, "g2-a");
    expect_nothing(t, 200);
    lf_tail_destroy(t);
    collected_free(&c);
}

/* ---- concurrent writers ---- */

#define ROT_LINES 6000
#define ROT_EVERY 1000

typedef struct writer_arg {
    int n_lines;
    int rotate_every;
    bool copytruncate;
    int copies;
} writer_arg;

static void tiny_sleep(void)
{
    struct timespec ts = {0, 20000};
    nanosleep(&ts, NULL);
}

static void milli_sleep(void)
{
    struct timespec ts = {0, 1000000};
    nanosleep(&ts, NULL);
}

static void *rename_writer(void *arg)
{
    writer_arg *w = arg;
    char p[300], q[300];
    mkpath(p, sizeof p, "rot.log");
    int fd = open(p, O_WRONLY | O_CREAT | O_APPEND, 0644);
    for (int i = 0; i < w->n_lines; i++) {
        if (i > 0 && i % w->rotate_every == 0) {
            snprintf(q, sizeof q, "%s/rot.log.%d", g_dir, i / w->rotate_every);
            if (rename(p, q) != 0)
                return (void *)1;
            /* The application keeps writing to the renamed file for a moment. */
            char line[32];
            int k = snprintf(line, sizeof line, "L%08d\n", i);
            if (write(fd, line, (size_t)k) != k)
                return (void *)1;
            i++;
            close(fd);
            fd = open(p, O_WRONLY | O_CREAT | O_APPEND, 0644);
        }
        char line[32];
        int k = snprintf(line, sizeof line, "L%08d\n", i);
        if (fd < 0 || write(fd, line, (size_t)k) != k)
            return (void *)1;
        /* About 10 ms per 100 lines: a file lives under its name for several poll
         * intervals, as real rotated logs do (see AGENT-TAIL.md on short-lived files). */
        if (i % 10 == 0)
            milli_sleep();
    }
    close(fd);
    return NULL;
}

static void test_rotation_rename(void **state)
{
    (void)state;
    char glob[300];
    mkpath(glob, sizeof glob, "rot.log");
    const char *globs[] = {glob};
    lf_tail_options o = base_opts(globs, 1);
    o.read_from_head = true;
    append("rot.log", "");
    lf_tail *t;
    assert_int_equal(lf_tail_create(&o, &t, NULL), LF_OK);
    expect_nothing(t, 50);
    writer_arg w = {ROT_LINES, ROT_EVERY, false, 0};
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, rename_writer, &w), 0);
    collected c = {0};
    collect(t, &c, ROT_LINES, 30000);
    void *wr;
    pthread_join(th, &wr);
    assert_null(wr);
    expect_nothing(t, 300);
    if (c.n != ROT_LINES) {
        unsigned char *m = calloc(ROT_LINES, 1);
        for (size_t i = 0; i < c.n; i++)
            m[atoi(c.v[i].data + 1)] = 1;
        for (int i = 0; i < ROT_LINES; i++)
            if (!m[i] && (i == 0 || m[i - 1]))
                fprintf(stderr, "missing from %d\n", i);
        free(m);
        lf_tail_stats d;
        lf_tail_get_stats(t, &d);
        fprintf(stderr, "opened %lu closed %lu rot %lu trunc %lu copy %lu\n",
                (unsigned long)d.files_opened, (unsigned long)d.files_closed,
                (unsigned long)d.rotations, (unsigned long)d.truncations,
                (unsigned long)d.copy_resumes);
    }
    assert_int_equal(c.n, ROT_LINES);
    /* Exactly once, and in order within each file (files are told apart by inode). */
    unsigned char *seen = calloc(ROT_LINES, 1);
    for (size_t i = 0; i < c.n; i++) {
        int v = atoi(c.v[i].data + 1);
        assert_true(v >= 0 && v < ROT_LINES);
        assert_int_equal(seen[v], 0);
        seen[v] = 1;
        for (size_t j = i; j-- > 0;) {
            if (c.v[j].pos.ino == c.v[i].pos.ino) {
                assert_true(atoi(c.v[j].data + 1) < v);
                break;
            }
        }
    }
    free(seen);
    lf_tail_stats st;
    lf_tail_get_stats(t, &st);
    assert_true(st.rotations >= ROT_LINES / ROT_EVERY - 1);
    assert_int_equal(st.truncations, 0);
    lf_tail_destroy(t);
    collected_free(&c);
}

static void copy_file(const char *from, const char *to)
{
    int in = open(from, O_RDONLY), out = open(to, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    assert_true(in >= 0 && out >= 0);
    char buf[8192];
    ssize_t n;
    while ((n = read(in, buf, sizeof buf)) > 0)
        assert_int_equal(write(out, buf, (size_t)n), n);
    close(in);
    close(out);
}

static void *append_writer(void *arg)
{
    writer_arg *w = arg;
    char p[300];
    mkpath(p, sizeof p, "ct.log");
    int fd = open(p, O_WRONLY | O_CREAT | O_APPEND, 0644);
    for (int i = 0; i < w->n_lines; i++) {
        char line[32];
        int k = snprintf(line, sizeof line, "C%08d\n", i);
        if (fd < 0 || write(fd, line, (size_t)k) != k)
            return (void *)1;
        if (i % 8 == 0)
            tiny_sleep();
    }
    close(fd);
    return NULL;
}

/* Mark every line in a file as expected. */
static void mark_file(const char *path, unsigned char *expect, int n)
{
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    char line[64];
    while (fgets(line, sizeof line, f))
        if (line[0] == 'C' && strchr(line, '\n')) {
            int v = atoi(line + 1);
            if (v >= 0 && v < n)
                expect[v] = 1;
        }
    fclose(f);
}

static void test_copytruncate(void **state)
{
    (void)state;
    char glob[300], p[300], q[300];
    mkpath(glob, sizeof glob, "ct.log*");
    mkpath(p, sizeof p, "ct.log");
    const char *globs[] = {glob};
    lf_tail_options o = base_opts(globs, 1);
    o.read_from_head = true;
    append("ct.log", "");
    lf_tail *t;
    assert_int_equal(lf_tail_create(&o, &t, NULL), LF_OK);
    expect_nothing(t, 50);
    writer_arg w = {ROT_LINES, 0, true, 0};
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, append_writer, &w), 0);
    collected c = {0};
    int copies = 0;
    /* Reader and copytruncate interleave, like logrotate against a live agent. */
    for (int round = 0; round < 400 && copies < 4; round++) {
        collect(t, &c, c.n + 200, 100);
        struct stat st;
        if (stat(p, &st) == 0 && st.st_size > 8000) {
            snprintf(q, sizeof q, "%s/ct.log.%d", g_dir, ++copies);
            copy_file(p, q);
            assert_int_equal(truncate(p, 0), 0);
        }
    }
    void *wr;
    pthread_join(th, &wr);
    assert_null(wr);
    collect(t, &c, SIZE_MAX, 1500);
    assert_true(copies >= 2);
    /* Every line present in any copy or in the live file was emitted: nothing that still
     * exists anywhere is lost. (Lines written between a copy and its truncation exist
     * nowhere; no tailer can return them.) */
    unsigned char *expect = calloc(ROT_LINES, 1), *got = calloc(ROT_LINES, 1);
    mark_file(p, expect, ROT_LINES);
    for (int k = 1; k <= copies; k++) {
        snprintf(q, sizeof q, "%s/ct.log.%d", g_dir, k);
        mark_file(q, expect, ROT_LINES);
    }
    for (size_t i = 0; i < c.n; i++) {
        if (c.v[i].flags & LF_TAIL_REC_NO_NEWLINE)
            continue; /* a line cut at the truncation instant: its rest comes separately */
        assert_true(c.v[i].len == 9 && c.v[i].data[0] == 'C');
        got[atoi(c.v[i].data + 1)] = 1;
    }
    int missing = 0;
    for (int i = 0; i < ROT_LINES; i++)
        if (expect[i] && !got[i]) {
            fprintf(stderr, "missing C%08d\n", i);
            missing++;
        }
    lf_tail_stats st;
    lf_tail_get_stats(t, &st);
    if (missing)
        fprintf(stderr, "copies %d trunc %lu copy %lu opened %lu\n", copies,
                (unsigned long)st.truncations, (unsigned long)st.copy_resumes,
                (unsigned long)st.files_opened);
    assert_int_equal(missing, 0);
    assert_true(st.truncations >= 1);
    free(expect);
    free(got);
    lf_tail_destroy(t);
    collected_free(&c);
}

/* Truncated and re-grown past our offset while we did not look: size alone would not tell. */
static void regrow_case(bool same_head)
{
    char glob[300], p[300];
    const char *name = same_head ? "rg2.log" : "rg1.log";
    mkpath(glob, sizeof glob, name);
    mkpath(p, sizeof p, name);
    const char *globs[] = {glob};
    lf_tail_options o = base_opts(globs, 1);
    o.read_from_head = true;
    o.disable_inotify = true;
    o.poll_interval_ms = 60000; /* no poll tick during the test */
    char line[64];
    for (int i = 0; i < 100; i++) {
        snprintf(line, sizeof line, "old line %04d with some padding\n", i);
        append(name, line);
    }
    lf_tail *t;
    assert_int_equal(lf_tail_create(&o, &t, NULL), LF_OK);
    collected c = {0};
    assert_int_equal(collect(t, &c, 100, 3000), 100);
    expect_nothing(t, 50);
    assert_int_equal(truncate(p, 0), 0);
    for (int i = 0; i < 300; i++) {
        if (same_head && i < 50)
            snprintf(line, sizeof line, "old line %04d with some padding\n", i);
        else
            snprintf(line, sizeof line, "NEW-%05d\n", i);
        append(name, line);
    }
    assert_int_equal(collect(t, &c, 400, 5000), 400);
    assert_string_equal(c.v[100].data, same_head ? "old line 0000 with some padding" : "NEW-00000");
    assert_true(c.v[100].flags & LF_TAIL_REC_AFTER_TRUNCATE);
    assert_int_equal(c.v[100].pos.generation, 1);
    assert_string_equal(c.v[399].data, "NEW-00299");
    lf_tail_stats st;
    lf_tail_get_stats(t, &st);
    assert_int_equal(st.truncations, 1);
    lf_tail_destroy(t);
    collected_free(&c);
}

static void test_truncate_regrow_between_polls(void **state)
{
    (void)state;
    regrow_case(false);
    regrow_case(true);
}

/* ---- copytruncate, step by step (the sequence of tests/agent/tail_rotation.sh) ---- */

/* Where the tail looks at the copy during the copytruncate. */
enum ct_seen {
    CT_SEEN_COMPLETE_LAGGING, /* copy complete, original not cut, its last lines not read yet */
    CT_SEEN_EMPTY,            /* copy created, nothing in it yet */
    CT_SEEN_HALF,             /* copy half written */
    CT_SEEN_AFTER_CUT,        /* the cut noticed first */
};

typedef struct ct_ctx {
    bool allow_copy;
    int copy_asked;
} ct_ctx;

static bool ct_accept(void *ctx, const char *path)
{
    ct_ctx *c = ctx;
    if (!strstr(path, "copy"))
        return true;
    c->copy_asked++;
    return c->allow_copy;
}

static int ct_line(char *out, size_t cap, int i)
{
    char pad[151];
    memset(pad, 'p', 150);
    pad[150] = '\0';
    return snprintf(out, cap, "zq1x %d %s payment processed %s", i, i % 10 ? "[INFO]" : "[ERROR]",
                    pad);
}

static void ct_write(const char *name, int from, int to)
{
    char p[300], line[256];
    mkpath(p, sizeof p, name);
    int fd = open(p, O_WRONLY | O_CREAT | O_APPEND, 0644);
    assert_true(fd >= 0);
    for (int i = from; i < to; i++) {
        int k = ct_line(line, sizeof line - 1, i);
        line[k++] = '\n';
        assert_int_equal(write(fd, line, (size_t)k), k);
    }
    close(fd);
}

/* Read until nothing is left: the last call waited 300 ms, so it scanned and checked every
 * file (poll interval 20 ms) and found nothing to read. */
static void ct_drain(lf_tail *t, collected *c)
{
    lf_tail_record r;
    for (int i = 0; i < 20000; i++) {
        lf_err e = lf_tail_next(t, &r, 300, NULL);
        if (e == LF_ERR_NOT_FOUND)
            return;
        assert_int_equal(e, LF_OK);
        keep(c, &r);
    }
    fail_msg("tail did not drain");
}

/* One call that scans before it reads: once the poll interval has passed since the last scan,
 * lf_tail_next rescans before it reads anything (not a race: the clock only moves forward). */
static void ct_scan_then_one(lf_tail *t, collected *c, unsigned poll_ms)
{
    struct timespec ts = {0, (long)(poll_ms + 10) * 1000000L};
    nanosleep(&ts, NULL);
    lf_tail_record r;
    assert_int_equal(lf_tail_next(t, &r, 1000, NULL), LF_OK);
    keep(c, &r);
}

static void ct_exactly_once(const collected *c, int n)
{
    int *count = calloc((size_t)n, sizeof *count);
    assert_non_null(count);
    char want[256];
    for (size_t i = 0; i < c->n; i++) {
        int v = -1;
        assert_int_equal(sscanf(c->v[i].data, "zq1x %d ", &v), 1);
        assert_true(v >= 0 && v < n);
        ct_line(want, sizeof want, v);
        assert_string_equal(c->v[i].data, want); /* whole lines, never pieces */
        assert_int_equal(c->v[i].flags & ~(unsigned)LF_TAIL_REC_AFTER_TRUNCATE, 0);
        count[v]++;
    }
    for (int i = 0; i < n; i++) {
        if (count[i] != 1)
            fprintf(stderr, "line %d returned %d times\n", i, count[i]);
        assert_int_equal(count[i], 1);
    }
    free(count);
}

static void ct_exact_case(enum ct_seen seen)
{
    char g1[300], g2[300], app[300], copy[300], p[300];
    mkpath(g1, sizeof g1, "*.log");
    mkpath(g2, sizeof g2, "*.log.[0-9]");
    mkpath(app, sizeof app, "app.log");
    mkpath(copy, sizeof copy, "copy1099.log");
    const char *globs[] = {g1, g2};
    ct_ctx ctx = {true, 0};
    lf_tail_options o = base_opts(globs, 2);
    o.read_from_head = true;
    o.poll_interval_ms = 20;
    o.rotate_wait_ms = 5000; /* nothing here may be decided by a timeout */
    o.accept = ct_accept;
    o.accept_ctx = &ctx;
    lf_tail *t;
    assert_int_equal(lf_tail_create(&o, &t, NULL), LF_OK);
    collected c = {0};

    /* A rename rotation, then app.log is a new file holding 700..999, all read. */
    ct_write("app.log", 0, 700);
    mkpath(p, sizeof p, "app.log.1");
    assert_int_equal(rename(app, p), 0);
    ct_write("app.log", 700, 1000);
    ct_drain(t, &c);
    assert_int_equal(c.n, 1000);

    /* 1000..1099 written, not read yet; then the copy is made. */
    ct_write("app.log", 1000, 1100);
    struct stat st;
    assert_int_equal(stat(app, &st), 0);
    switch (seen) {
    case CT_SEEN_COMPLETE_LAGGING:
        copy_file(app, copy);
        ct_scan_then_one(t, &c, o.poll_interval_ms);
        assert_string_equal(c.v[1000].path, app); /* the original was still behind */
        break;
    case CT_SEEN_EMPTY:
        close(open(copy, O_WRONLY | O_CREAT | O_TRUNC, 0644));
        ct_scan_then_one(t, &c, o.poll_interval_ms);
        copy_file(app, copy);
        break;
    case CT_SEEN_HALF: {
        int in = open(app, O_RDONLY), out = open(copy, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        assert_true(in >= 0 && out >= 0);
        size_t half = (size_t)st.st_size / 2;
        char *buf = malloc((size_t)st.st_size);
        assert_non_null(buf);
        assert_int_equal(read(in, buf, (size_t)st.st_size), st.st_size);
        assert_int_equal(write(out, buf, half), (ssize_t)half);
        ct_scan_then_one(t, &c, o.poll_interval_ms);
        assert_int_equal(write(out, buf + half, (size_t)st.st_size - half),
                         st.st_size - (ssize_t)half);
        free(buf);
        close(in);
        close(out);
        break;
    }
    case CT_SEEN_AFTER_CUT:
        ctx.allow_copy = false;
        copy_file(app, copy);
        break;
    }
    if (seen != CT_SEEN_AFTER_CUT)
        assert_int_equal(ctx.copy_asked, 1); /* that call's scan was the one that found it */
    assert_int_equal(truncate(app, 0), 0);   /* no write between the copy and the cut */
    if (seen == CT_SEEN_AFTER_CUT) {
        ct_drain(t, &c);
        lf_tail_stats mid;
        lf_tail_get_stats(t, &mid);
        assert_int_equal(mid.truncations, 1);
        ctx.allow_copy = true;
    }

    /* Written after the cut, then a rename rotation and a new app.log. */
    ct_write("app.log", 1100, 1400);
    mkpath(p, sizeof p, "app.log.2");
    assert_int_equal(rename(app, p), 0);
    ct_write("app.log", 1400, 1500);
    ct_drain(t, &c);

    ct_exactly_once(&c, 1500);
    lf_tail_stats s;
    lf_tail_get_stats(t, &s);
    assert_int_equal(s.truncations, 1);
    assert_int_equal(s.copy_resumes, 1);
    lf_tail_destroy(t);
    collected_free(&c);
    char cmd[320];
    snprintf(cmd, sizeof cmd, "rm -f '%s'/*", g_dir);
    assert_int_equal(system(cmd), 0);
}

static void test_copytruncate_exact_sequence(void **state)
{
    (void)state;
    ct_exact_case(CT_SEEN_COMPLETE_LAGGING);
    ct_exact_case(CT_SEEN_EMPTY);
    ct_exact_case(CT_SEEN_HALF);
    ct_exact_case(CT_SEEN_AFTER_CUT);
}

/* A copy that is never followed by a cut (a backup): the original returns all of it, so it
 * starts at its end once rotate_wait has passed; what is appended to it later is read. */
static void test_copy_without_cut(void **state)
{
    (void)state;
    char g1[300], app[300], bak[300];
    mkpath(g1, sizeof g1, "*.log");
    mkpath(app, sizeof app, "app.log");
    mkpath(bak, sizeof bak, "bak.log");
    const char *globs[] = {g1};
    lf_tail_options o = base_opts(globs, 1);
    o.read_from_head = true;
    lf_tail *t;
    assert_int_equal(lf_tail_create(&o, &t, NULL), LF_OK);
    collected c = {0};
    ct_write("app.log", 0, 100);
    ct_drain(t, &c);
    assert_int_equal(c.n, 100);
    copy_file(app, bak);
    ct_write("app.log", 100, 150);
    ct_drain(t, &c); /* 300 ms > rotate_wait (150 ms): the copy is settled by now */
    ct_write("bak.log", 150, 160);
    ct_drain(t, &c);
    ct_exactly_once(&c, 160);
    lf_tail_stats s;
    lf_tail_get_stats(t, &s);
    assert_int_equal(s.copy_resumes, 1);
    assert_int_equal(s.truncations, 0);
    lf_tail_destroy(t);
    collected_free(&c);
}

static void test_restart_checkpoints(void **state)
{
    (void)state;
    char glob[300], p[300], db[300];
    mkpath(glob, sizeof glob, "ck.log");
    mkpath(p, sizeof p, "ck.log");
    mkpath(db, sizeof db, "ckpt.db");
    const char *globs[] = {glob};
    char line[64];
    for (int i = 0; i < 100; i++) {
        snprintf(line, sizeof line, "K%04d\n", i);
        append("ck.log", line);
    }
    lf_tail_options o = base_opts(globs, 1);
    o.read_from_head = true;
    o.checkpoint_db = db;
    lf_tail *t;
    assert_int_equal(lf_tail_create(&o, &t, NULL), LF_OK);
    collected c = {0};
    assert_int_equal(collect(t, &c, 100, 3000), 100);
    /* Only records up to K0059 became durable downstream. */
    lf_tail_position pos[2] = {c.v[10].pos, c.v[59].pos};
    assert_int_equal(lf_tail_commit(t, pos, 2, NULL), LF_OK);
    lf_tail_destroy(t);
    collected_free(&c);

    for (int i = 100; i < 120; i++) {
        snprintf(line, sizeof line, "K%04d\n", i);
        append("ck.log", line);
    }
    o.read_from_head = false; /* the checkpoint wins over the start policy */
    assert_int_equal(lf_tail_create(&o, &t, NULL), LF_OK);
    assert_int_equal(collect(t, &c, 60, 3000), 60);
    for (int i = 0; i < 60; i++) {
        snprintf(line, sizeof line, "K%04d", 60 + i);
        assert_string_equal(c.v[i].data, line);
    }
    expect_nothing(t, 100);
    lf_tail_stats st;
    lf_tail_get_stats(t, &st);
    assert_int_equal(st.checkpoints_applied, 1);
    lf_tail_position last = c.v[59].pos;
    assert_int_equal(lf_tail_commit(t, &last, 1, NULL), LF_OK);
    lf_tail_destroy(t);
    collected_free(&c);

    /* Same inode, different content now (rewritten while we were down): the checkpoint
     * belongs to other content and must not be applied. */
    int fd = open(p, O_WRONLY | O_TRUNC);
    assert_true(fd >= 0);
    for (int i = 0; i < 200; i++) {
        int k = snprintf(line, sizeof line, "Z%04d\n", i);
        assert_int_equal(write(fd, line, (size_t)k), k);
    }
    close(fd);
    o.read_from_head = true;
    assert_int_equal(lf_tail_create(&o, &t, NULL), LF_OK);
    assert_int_equal(collect(t, &c, 200, 3000), 200);
    assert_string_equal(c.v[0].data, "Z0000");
    lf_tail_get_stats(t, &st);
    assert_int_equal(st.checkpoints_rejected, 1);
    assert_int_equal(st.checkpoints_applied, 0);
    lf_tail_destroy(t);
    collected_free(&c);
}

/* lf_tail_restore: a position is taken only where it is ahead of the stored checkpoint. */
static void test_restore_rules(void **state)
{
    (void)state;
    char glob[300], db[300], line[64];
    mkpath(glob, sizeof glob, "rs.log");
    mkpath(db, sizeof db, "rs.db");
    const char *globs[] = {glob};
    for (int i = 0; i < 30; i++) {
        snprintf(line, sizeof line, "R%04d\n", i);
        append("rs.log", line);
    }
    lf_tail_options o = base_opts(globs, 1);
    o.read_from_head = true;
    o.checkpoint_db = db;
    lf_tail *t;
    collected c = {0};
    assert_int_equal(lf_tail_create(&o, &t, NULL), LF_OK);
    assert_int_equal(collect(t, &c, 30, 3000), 30);
    assert_int_equal(lf_tail_commit(t, &c.v[9].pos, 1, NULL), LF_OK); /* after R0009 */
    lf_tail_position p19 = c.v[19].pos, p4 = c.v[4].pos;
    lf_tail_destroy(t);
    collected_free(&c);

    /* Behind the checkpoint, a foreign fingerprint of the same length, and a same-offset
     * position are all refused; restore is refused after the first read. */
    lf_tail_position foreign = p19;
    foreign.fp_hash ^= 1;
    size_t applied = 99;
    assert_int_equal(lf_tail_create(&o, &t, NULL), LF_OK);
    lf_tail_position refused[2] = {p4, foreign};
    assert_int_equal(lf_tail_restore(t, refused, 2, &applied, NULL), LF_OK);
    assert_int_equal(applied, 0);
    assert_int_equal(collect(t, &c, 20, 3000), 20);
    assert_string_equal(c.v[0].data, "R0010"); /* the checkpoint decided */
    lf_error err = {0};
    assert_int_equal(lf_tail_restore(t, &p19, 1, NULL, &err), LF_ERR_INVALID);
    lf_tail_destroy(t);
    collected_free(&c);

    /* Ahead (the crash window): taken, reading goes on after R0019. */
    assert_int_equal(lf_tail_create(&o, &t, NULL), LF_OK);
    assert_int_equal(lf_tail_restore(t, &p19, 1, &applied, NULL), LF_OK);
    assert_int_equal(applied, 1);
    assert_int_equal(collect(t, &c, 10, 3000), 10);
    assert_string_equal(c.v[0].data, "R0020");
    expect_nothing(t, 100);
    lf_tail_destroy(t);
    collected_free(&c);

    /* A greater generation is ahead whatever its offset (truncated since). */
    lf_tail_position gen = p4;
    gen.generation = p4.generation + 1;
    gen.fp_hash ^= 7;
    assert_int_equal(lf_tail_create(&o, &t, NULL), LF_OK);
    assert_int_equal(lf_tail_restore(t, &gen, 1, &applied, NULL), LF_OK);
    assert_int_equal(applied, 1);
    lf_tail_destroy(t);
    /* ... and is then checked against the file's content when it is opened: this file was
     * never truncated, so the position does not fit and the start policy decides. */
    assert_int_equal(lf_tail_create(&o, &t, NULL), LF_OK);
    assert_int_equal(collect(t, &c, 30, 3000), 30);
    assert_string_equal(c.v[0].data, "R0000");
    lf_tail_stats st;
    lf_tail_get_stats(t, &st);
    assert_int_equal(st.checkpoints_rejected, 1);
    lf_tail_destroy(t);
    collected_free(&c);

    /* Without a DB, restore does nothing. */
    o.checkpoint_db = NULL;
    assert_int_equal(lf_tail_create(&o, &t, NULL), LF_OK);
    assert_int_equal(lf_tail_restore(t, &p19, 1, &applied, NULL), LF_OK);
    assert_int_equal(applied, 0);
    lf_tail_destroy(t);
}

static void test_cursor_encoding(void **state)
{
    (void)state;
    lf_tail_position v[3] = {
        {1, 2, 0x0123456789abcdefull, 1024, 0, 4096},
        {UINT64_MAX, UINT64_MAX, UINT64_MAX, 0, UINT32_MAX, INT64_MAX},
        {0, 0, 0, 1, 1, 0},
    };
    lf_buf b = LF_BUF_INIT;
    assert_int_equal(lf_tail_cursor_encode(v, 3, &b, NULL), LF_OK);
    assert_int_equal(b.data[0], LF_TAIL_CURSOR_VERSION);
    lf_tail_position *out;
    size_t n;
    assert_int_equal(lf_tail_cursor_decode(b.data, b.len, &out, &n, NULL), LF_OK);
    assert_int_equal(n, 3);
    assert_memory_equal(out, v, sizeof v);
    free(out);
    /* Every proper prefix and any trailing byte is refused, never half-decoded. */
    for (size_t k = 0; k < b.len; k++) {
        assert_int_not_equal(lf_tail_cursor_decode(b.data, k, &out, &n, NULL), LF_OK);
        assert_null(out);
        assert_int_equal(n, 0);
    }
    assert_int_equal(lf_buf_append_u8(&b, 0), LF_OK);
    assert_int_equal(lf_tail_cursor_decode(b.data, b.len, &out, &n, NULL), LF_ERR_INVALID);
    /* empty, overlong varint, a count larger than the bytes, out-of-range fields */
    lf_buf_reset(&b);
    assert_int_equal(lf_tail_cursor_encode(NULL, 0, &b, NULL), LF_OK);
    assert_int_equal(lf_tail_cursor_decode(b.data, b.len, &out, &n, NULL), LF_OK);
    assert_int_equal(n, 0);
    static const uint8_t overlong[] = {1,    0x80, 0x80, 0x80, 0x80, 0x80,
                                       0x80, 0x80, 0x80, 0x80, 0x80, 0x01};
    assert_int_equal(lf_tail_cursor_decode(overlong, sizeof overlong, &out, &n, NULL),
                     LF_ERR_INVALID);
    static const uint8_t huge_count[] = {1, 0xff, 0xff, 0xff, 0xff, 0x0f, 0, 0};
    assert_int_equal(lf_tail_cursor_decode(huge_count, sizeof huge_count, &out, &n, NULL),
                     LF_ERR_INVALID);
    lf_tail_position big_fp = {1, 1, 1, LF_TAIL_FP_MAX + 1, 0, 0};
    lf_buf_reset(&b);
    assert_int_equal(lf_tail_cursor_encode(&big_fp, 1, &b, NULL), LF_OK);
    assert_int_equal(lf_tail_cursor_decode(b.data, b.len, &out, &n, NULL), LF_ERR_INVALID);
    lf_buf_free(&b);

    /* pending: one newest position per file */
    lf_tail_pending p = {0};
    lf_tail_position a1 = {1, 1, 9, 5, 0, 10}, a0 = {1, 1, 9, 5, 0, 5}, b1 = {1, 2, 9, 5, 0, 3},
                     a_gen = {1, 1, 8, 5, 1, 2};
    assert_int_equal(lf_tail_pending_note(&p, &a1, NULL), LF_OK);
    assert_int_equal(lf_tail_pending_note(&p, &b1, NULL), LF_OK);
    assert_int_equal(lf_tail_pending_note(&p, &a0, NULL), LF_OK); /* older: ignored */
    assert_int_equal(p.n, 2);
    assert_int_equal(p.v[0].offset, 10);
    assert_int_equal(lf_tail_pending_note(&p, &a_gen, NULL), LF_OK); /* newer generation */
    assert_int_equal(p.v[0].generation, 1);
    assert_int_equal(p.v[0].offset, 2);
    lf_tail_pending_clear(&p);
    assert_int_equal(p.n, 0);
    lf_tail_pending_free(&p);
}

static bool refuse_skip(void *ctx, const char *path)
{
    (*(int *)ctx)++;
    return strstr(path, "skip") == NULL;
}

static void test_accept_hook(void **state)
{
    (void)state;
    char glob[300];
    mkpath(glob, sizeof glob, "*.log");
    const char *globs[] = {glob};
    append("keep.log", "kept\n");
    append("skip.log", "skipped\n");
    int calls = 0;
    lf_tail_options o = base_opts(globs, 1);
    o.read_from_head = true;
    o.accept = refuse_skip;
    o.accept_ctx = &calls;
    lf_tail *t;
    assert_int_equal(lf_tail_create(&o, &t, NULL), LF_OK);
    collected c = {0};
    assert_int_equal(collect(t, &c, 1, 2000), 1);
    assert_string_equal(c.v[0].data, "kept");
    expect_nothing(t, 200);
    assert_true(calls >= 2); /* asked again at every scan for the refused file */
    lf_tail_stats st;
    lf_tail_get_stats(t, &st);
    assert_int_equal(st.files_opened, 1);
    lf_tail_destroy(t);
    collected_free(&c);
}

static const char JAVA[] = "2024-05-01 12:00:00 ERROR request failed\n"
                           "java.lang.IllegalStateException: boom\n"
                           "\tat com.example.A.run(A.java:10)\n"
                           "\tat com.example.B.call(B.java:20)\n"
                           "Caused by: java.io.IOException: disk\n"
                           "\t... 2 more\n"
                           "2024-05-01 12:00:01 INFO recovered\n";

static void test_multiline(void **state)
{
    (void)state;
    char glob[300];
    mkpath(glob, sizeof glob, "java.log");
    const char *globs[] = {glob};
    lf_tail_options o = base_opts(globs, 1);
    o.read_from_head = true;
    o.multiline_first = "^[0-9]{4}-[0-9]{2}-[0-9]{2} ";
    append("java.log", JAVA);
    lf_tail *t;
    assert_int_equal(lf_tail_create(&o, &t, NULL), LF_OK);
    collected c = {0};
    assert_int_equal(collect(t, &c, 1, 2000), 1);
    assert_int_equal(c.v[0].lines, 6);
    const char *second = strstr(JAVA, "2024-05-01 12:00:01");
    assert_int_equal(c.v[0].len, (size_t)(second - JAVA) - 1);
    assert_memory_equal(c.v[0].data, JAVA, c.v[0].len);
    assert_int_equal(c.v[0].pos.offset, (uint64_t)(second - JAVA));
    /* The last group has no successor: the flush timeout emits it. */
    assert_int_equal(collect(t, &c, 2, 2000), 2);
    assert_string_equal(c.v[1].data, "2024-05-01 12:00:01 INFO recovered");
    assert_int_equal(c.v[1].lines, 1);
    assert_int_equal(c.v[1].pos.offset, strlen(JAVA));
    lf_tail_destroy(t);
    collected_free(&c);

    /* Capped at 3 lines: the group is cut and flagged, nothing is lost. */
    o.multiline_max_lines = 3;
    assert_int_equal(lf_tail_create(&o, &t, NULL), LF_OK);
    assert_int_equal(collect(t, &c, 3, 3000), 3);
    assert_int_equal(c.v[0].lines, 3);
    assert_true(c.v[0].flags & LF_TAIL_REC_ML_CAPPED);
    assert_int_equal(c.v[1].lines, 3);
    assert_memory_equal(c.v[1].data, "\tat com.example.B", 17);
    assert_int_equal(c.v[2].lines, 1);
    lf_tail_destroy(t);
    collected_free(&c);
}

static void test_bad_options(void **state)
{
    (void)state;
    lf_tail *t = NULL;
    lf_error err = {0};
    lf_tail_options o = {0};
    assert_int_equal(lf_tail_create(&o, &t, &err), LF_ERR_INVALID);
    const char *globs[] = {"/tmp/x*.log"};
    o = base_opts(globs, 1);
    o.multiline_first = "([unclosed";
    assert_int_equal(lf_tail_create(&o, &t, &err), LF_ERR_INVALID);
    assert_non_null(strstr(err.message, "regex"));
    o.multiline_first = NULL;
    o.max_line_bytes = (size_t)1 << 40;
    assert_int_equal(lf_tail_create(&o, &t, &err), LF_ERR_TOO_LARGE);
    o.max_line_bytes = 0;
    o.checkpoint_db = "/nonexistent-dir/x/ckpt.db";
    assert_int_equal(lf_tail_create(&o, &t, &err), LF_ERR_IO);
    const char *empty[] = {""};
    o = base_opts(empty, 1);
    assert_int_equal(lf_tail_create(&o, &t, &err), LF_ERR_INVALID);
    assert_null(t);
    lf_tail_record r;
    assert_int_equal(lf_tail_next(NULL, &r, 0, &err), LF_ERR_INVALID);
}

static int poll_only(void **state)
{
    g_no_inotify = true;
    return setup_dir(state);
}

static int with_inotify(void **state)
{
    g_no_inotify = false;
    return setup_dir(state);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_lines_and_partial, with_inotify, teardown_dir),
        cmocka_unit_test_setup_teardown(test_lines_and_partial, poll_only, teardown_dir),
        cmocka_unit_test_setup_teardown(test_head_vs_tail, with_inotify, teardown_dir),
        cmocka_unit_test_setup_teardown(test_long_line_split, with_inotify, teardown_dir),
        cmocka_unit_test_setup_teardown(test_glob_new_files, with_inotify, teardown_dir),
        cmocka_unit_test_setup_teardown(test_glob_new_files, poll_only, teardown_dir),
        cmocka_unit_test_setup_teardown(test_rotation_rename, with_inotify, teardown_dir),
        cmocka_unit_test_setup_teardown(test_rotation_rename, poll_only, teardown_dir),
        cmocka_unit_test_setup_teardown(test_copytruncate, with_inotify, teardown_dir),
        cmocka_unit_test_setup_teardown(test_copytruncate, poll_only, teardown_dir),
        cmocka_unit_test_setup_teardown(test_truncate_regrow_between_polls, with_inotify,
                                        teardown_dir),
        cmocka_unit_test_setup_teardown(test_copytruncate_exact_sequence, with_inotify,
                                        teardown_dir),
        cmocka_unit_test_setup_teardown(test_copytruncate_exact_sequence, poll_only, teardown_dir),
        cmocka_unit_test_setup_teardown(test_copy_without_cut, with_inotify, teardown_dir),
        cmocka_unit_test_setup_teardown(test_copy_without_cut, poll_only, teardown_dir),
        cmocka_unit_test_setup_teardown(test_restart_checkpoints, with_inotify, teardown_dir),
        cmocka_unit_test_setup_teardown(test_multiline, with_inotify, teardown_dir),
        cmocka_unit_test_setup_teardown(test_multiline, poll_only, teardown_dir),
        cmocka_unit_test_setup_teardown(test_bad_options, with_inotify, teardown_dir),
        cmocka_unit_test_setup_teardown(test_restore_rules, with_inotify, teardown_dir),
        cmocka_unit_test(test_cursor_encoding),
        cmocka_unit_test_setup_teardown(test_accept_hook, poll_only, teardown_dir),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

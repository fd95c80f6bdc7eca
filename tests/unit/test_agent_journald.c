/*
 * test_agent_journald.c — the agent's journald input against real journal files.
 *
 * Each test writes journal export-format text (docs: systemd "Journal Export Format"; binary
 * values in their length-prefixed form too), turns it into a real journal file with
 * systemd-journal-remote (`-o <dir>/x.journal <export file>`; a second run into the same file
 * appends to it), and reads it through the input's vtable exactly as the agent does. Checked:
 * every entry comes out once, in order, with the right fields; checkpoints on commit and
 * resume after restart; the crash window (cursor() taken, commit() not) closed by restore();
 * a restored cursor behind the checkpoint ignored; entries appended to the open journal and a
 * new file in the directory while the input waits; the tail start (and its immediate
 * checkpoint); matches and units; a checkpoint naming an entry that no longer exists (reset
 * counted); oversized entries skipped and counted; stop; option validation. The pure parts
 * (field mapping, cursor order) are tested directly. Every wait is bounded.
 */
#define _GNU_SOURCE
#include "testutil.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "input.h"
#include "inputs/journald/journald_input.h"
#include "inputs/journald/journald_int.h"
#include "options.h"

#define BOOT_ID   "0123456789abcdef0123456789abcdef"
#define RT_BASE   1700000000000000ULL /* µs */
#define WAIT_MS   10000               /* per next() when an entry is expected */
#define MAX_LOOPS 200                 /* x 200 ms: a writer thread gets 40 s */

static char g_dir[256];   /* temp root */
static char g_jdir[300];  /* journal directory */
static char g_state[300]; /* agent state dir */
static atomic_bool g_stop;

static const char *remote_binary(void)
{
    static const char *const candidates[] = {"/lib/systemd/systemd-journal-remote",
                                             "/usr/lib/systemd/systemd-journal-remote"};
    for (size_t i = 0; i < 2; i++)
        if (access(candidates[i], X_OK) == 0)
            return candidates[i];
    return NULL;
}

static int setup(void **state)
{
    (void)state;
    snprintf(g_dir, sizeof g_dir, "/tmp/lf-journald-XXXXXX");
    if (!mkdtemp(g_dir))
        return -1;
    snprintf(g_jdir, sizeof g_jdir, "%s/journal", g_dir);
    snprintf(g_state, sizeof g_state, "%s/state", g_dir);
    atomic_store(&g_stop, false);
    return mkdir(g_jdir, 0700) == 0 && mkdir(g_state, 0700) == 0 ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_dir);
    return system(cmd) == 0 ? 0 : -1;
}

/* ---------------- export format ---------------- */

static void field_text(lf_buf *b, const char *key, const char *value)
{
    assert_int_equal(lf_buf_printf(b, "%s=%s\n", key, value), LF_OK);
}

/* A value in the binary form: KEY\n, length as little-endian u64, bytes, \n. */
static void field_binary(lf_buf *b, const char *key, const void *v, size_t n)
{
    uint8_t le[8];
    for (int i = 0; i < 8; i++)
        le[i] = (uint8_t)((uint64_t)n >> (8 * i));
    assert_int_equal(lf_buf_printf(b, "%s\n", key), LF_OK);
    assert_int_equal(lf_buf_append(b, le, 8), LF_OK);
    assert_int_equal(lf_buf_append(b, v, n), LF_OK);
    assert_int_equal(lf_buf_append(b, "\n", 1), LF_OK);
}

static void entry_begin(lf_buf *b, int k)
{
    assert_int_equal(lf_buf_printf(b, "__REALTIME_TIMESTAMP=%llu\n__MONOTONIC_TIMESTAMP=%d\n",
                                   (unsigned long long)(RT_BASE + (uint64_t)k * 1000), 1000 + k),
                     LF_OK);
    field_text(b, "_BOOT_ID", BOOT_ID);
}

static const char *unit_of(int k)
{
    return k % 2 ? "b.service" : "a.service";
}

/* The standard entry number k: MESSAGE "entry k", PRIORITY k%8, unit a/b, and more. */
static void std_entry(lf_buf *b, int k)
{
    char v[64];
    entry_begin(b, k);
    snprintf(v, sizeof v, "entry %d", k);
    field_text(b, "MESSAGE", v);
    snprintf(v, sizeof v, "%d", k % 8);
    field_text(b, "PRIORITY", v);
    field_text(b, "_SYSTEMD_UNIT", unit_of(k));
    field_text(b, "_HOSTNAME", "host1");
    snprintf(v, sizeof v, "%d", 100 + k);
    field_text(b, "_PID", v);
    snprintf(v, sizeof v, "comm%d", k);
    field_text(b, "_COMM", v);
    field_text(b, "_TRANSPORT", "journal");
    if (k % 3 == 0)
        field_text(b, "SYSLOG_IDENTIFIER", "ident");
    field_text(b, "CODE_FILE", "x.c"); /* ignored by the input */
    assert_int_equal(lf_buf_append(b, "\n", 1), LF_OK);
}

static void std_entries(lf_buf *b, int from, int to)
{
    for (int k = from; k < to; k++)
        std_entry(b, k);
}

/* Write the export text and convert it into <g_jdir>/<journal> (appending when it exists);
 * the buffer is freed. No cmocka assertions: it also runs on a writer thread. NULL = done,
 * else what failed. */
static const char *convert_try(lf_buf *b, const char *journal)
{
    static atomic_int seq;
    char exp[400], out[400];
    snprintf(exp, sizeof exp, "%s/in-%d.export", g_dir, atomic_fetch_add(&seq, 1));
    snprintf(out, sizeof out, "%s/%s", g_jdir, journal);
    FILE *f = fopen(exp, "wb");
    bool written = f && fwrite(b->data, 1, b->len, f) == b->len;
    if (f && fclose(f) != 0)
        written = false;
    lf_buf_free(b);
    if (!written)
        return "cannot write the export file";
    const char *bin = remote_binary();
    if (!bin)
        return "systemd-journal-remote not found (package systemd-journal-remote, "
               "scripts/deps.sh)";
    pid_t pid = fork();
    if (pid < 0)
        return "fork failed";
    if (pid == 0) {
        int null = open("/dev/null", O_WRONLY);
        if (null >= 0) {
            dup2(null, 1);
            dup2(null, 2);
        }
        char oarg[420];
        snprintf(oarg, sizeof oarg, "--output=%s", out);
        execl(bin, bin, oarg, "--split-mode=none", exp, (char *)NULL);
        _exit(127);
    }
    int status = 0;
    for (int i = 0; i < 3000; i++) { /* up to 30 s */
        pid_t r = waitpid(pid, &status, WNOHANG);
        if (r < 0)
            return "waitpid failed";
        if (r == pid)
            return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? NULL
                                                                 : "systemd-journal-remote failed";
        struct timespec ts = {0, 10 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
    return "systemd-journal-remote did not finish in 30 s";
}

static void convert(lf_buf *b, const char *journal)
{
    const char *why = convert_try(b, journal);
    if (why)
        fail_msg("%s", why);
}

/* ---------------- input helpers ---------------- */

static lf_err load_cfg(lf_journald_config *cfg, const char *yaml, lf_error *err)
{
    const lf_agent_input_type *t = &lf_agent_input_type_journald;
    memset(cfg, 0, sizeof *cfg);
    lf_err e = lf_options_defaults(t->options, t->n_options, cfg, err);
    if (e != LF_OK)
        return e;
    lf_cfg_node *root = NULL;
    if ((e = lf_cfg_parse_yaml(yaml, strlen(yaml), "test.yaml", &root, err)) != LF_OK)
        return e;
    e = lf_options_apply(t->options, t->n_options, cfg, root, "test.yaml", "", NULL, NULL, err);
    lf_cfg_free(root);
    if (e == LF_OK)
        e = t->validate(cfg, err);
    return e;
}

/* Create an input named "j1" from YAML options ("path" defaults to the temp journal dir). */
static lf_agent_input *open_input(const char *extra_yaml)
{
    char yaml[2048];
    if (strstr(extra_yaml, "files:"))
        snprintf(yaml, sizeof yaml, "%s", extra_yaml);
    else
        snprintf(yaml, sizeof yaml, "path: \"%s\"\n%s", g_jdir, extra_yaml);
    lf_journald_config cfg;
    lf_error err = {0};
    lf_err e = load_cfg(&cfg, yaml, &err);
    if (e != LF_OK)
        fail_msg("config: %s", err.message);
    lf_agent_input_common common = {.name = "j1", .state_dir = g_state, .stop = &g_stop};
    lf_agent_input *in = NULL;
    e = lf_agent_input_type_journald.create(&common, &cfg, &in, &err);
    lf_options_free(lf_agent_input_type_journald.options, lf_agent_input_type_journald.n_options,
                    &cfg);
    if (e != LF_OK)
        fail_msg("create: %s", err.message);
    assert_string_equal(in->name, "j1");
    return in;
}

/* next() as the pipeline calls it: the event reset first; failures other than "nothing" fail
 * the test. */
static lf_err next_event(lf_agent_input *in, lf_agent_event *ev, int timeout_ms)
{
    lf_error err = {0};
    lf_agent_event_reset(ev);
    lf_err e = in->vt->next(in, ev, timeout_ms, &err);
    if (e != LF_OK && e != LF_ERR_NOT_FOUND)
        fail_msg("next: %s", err.message);
    return e;
}

static void expect_msg(lf_agent_input *in, lf_agent_event *ev, const char *msg)
{
    assert_int_equal(next_event(in, ev, WAIT_MS), LF_OK);
    assert_int_equal(ev->message_len, strlen(msg));
    assert_memory_equal(ev->message, msg, strlen(msg));
}

static void expect_std(lf_agent_input *in, lf_agent_event *ev, int k)
{
    char m[64];
    snprintf(m, sizeof m, "entry %d", k);
    expect_msg(in, ev, m);
}

static void expect_nothing(lf_agent_input *in, lf_agent_event *ev)
{
    assert_int_equal(next_event(in, ev, 50), LF_ERR_NOT_FOUND);
}

static void commit(lf_agent_input *in)
{
    lf_error err = {0};
    if (in->vt->commit(in, &err) != LF_OK)
        fail_msg("commit: %s", err.message);
}

static lf_buf take_cursor(lf_agent_input *in)
{
    lf_buf c = LF_BUF_INIT;
    lf_error err = {0};
    assert_int_equal(in->vt->cursor(in, &c, &err), LF_OK);
    return c;
}

static uint64_t metric(lf_agent_input *in, const char *name)
{
    lf_buf out = LF_BUF_INIT;
    in->vt->write_metrics(in, &out);
    assert_int_equal(lf_buf_terminate(&out), LF_OK);
    char key[200];
    snprintf(key, sizeof key, "%s{input=\"j1\"} ", name);
    const char *p = strstr((const char *)out.data, key);
    if (!p)
        fail_msg("metric %s missing", name);
    uint64_t v = strtoull(p + strlen(key), NULL, 10);
    lf_buf_free(&out);
    return v;
}

static void ckpt_path(char *out, size_t cap)
{
    snprintf(out, cap, "%s/journald/j1.cursor", g_state);
}

/* ---------------- pure parts ---------------- */

static void feed(journald_entry *st, lf_agent_event *ev, const char *kv)
{
    assert_int_equal(journald_entry_field(st, ev, kv, strlen(kv), NULL), LF_OK);
}

static void test_fields_mapping(void **state)
{
    (void)state;
    lf_agent_event ev = {0};
    journald_entry st;

    /* _COMM before SYSLOG_IDENTIFIER: the identifier still wins; source time wins too. */
    lf_agent_event_reset(&ev);
    journald_entry_begin(&st, 100);
    feed(&st, &ev, "_COMM=bash");
    feed(&st, &ev, "_SOURCE_REALTIME_TIMESTAMP=1700000000000123");
    feed(&st, &ev, "MESSAGE=hello=world");
    feed(&st, &ev, "MESSAGE=second value ignored");
    feed(&st, &ev, "PRIORITY=3");
    feed(&st, &ev, "SYSLOG_IDENTIFIER=sshd");
    feed(&st, &ev, "_SYSTEMD_UNIT=ssh.service");
    feed(&st, &ev, "_HOSTNAME=h\x01x"); /* control byte: not a label */
    feed(&st, &ev, "_PID=42");
    feed(&st, &ev, "noequals");
    feed(&st, &ev, "=novalue");
    journald_entry_finish(&st, &ev, 1700000000999999ULL);
    assert_false(st.too_large);
    assert_int_equal(ev.message_len, strlen("hello=world"));
    assert_memory_equal(ev.message, "hello=world", ev.message_len);
    assert_int_equal(ev.level, 4);
    assert_int_equal(ev.ts_ns, 1700000000000123LL * 1000);
    assert_string_equal(ev.logger, "sshd");
    assert_string_equal(ev.source, "journald");
    assert_string_equal(lf_agent_event_label(&ev, "unit"), "ssh.service");
    assert_string_equal(lf_agent_event_label(&ev, "comm"), "bash");
    assert_string_equal(lf_agent_event_label(&ev, "pid"), "42");
    assert_null(lf_agent_event_label(&ev, "hostname"));

    /* No identifier: _COMM is the logger. No MESSAGE: empty. Bad PRIORITY: unknown level. */
    lf_agent_event_reset(&ev);
    journald_entry_begin(&st, 100);
    feed(&st, &ev, "PRIORITY=8");
    feed(&st, &ev, "_COMM=cron");
    feed(&st, &ev, "_SOURCE_REALTIME_TIMESTAMP=12x");
    journald_entry_finish(&st, &ev, 5);
    assert_int_equal(ev.level, 0);
    assert_string_equal(ev.logger, "cron");
    assert_non_null(ev.message);
    assert_int_equal(ev.message_len, 0);
    assert_int_equal(ev.ts_ns, 5000);

    /* Binary MESSAGE kept byte for byte; at the limit accepted, above it flagged. */
    static const char bin[] = "MESSAGE=a\0b\xff\n";
    lf_agent_event_reset(&ev);
    journald_entry_begin(&st, 5);
    assert_int_equal(journald_entry_field(&st, &ev, bin, sizeof bin - 1, NULL), LF_OK);
    journald_entry_finish(&st, &ev, 0);
    assert_false(st.too_large);
    assert_int_equal(ev.message_len, 5);
    assert_memory_equal(ev.message, "a\0b\xff\n", 5);
    assert_int_equal(ev.ts_ns, 0);
    lf_agent_event_reset(&ev);
    journald_entry_begin(&st, 4);
    assert_int_equal(journald_entry_field(&st, &ev, bin, sizeof bin - 1, NULL), LF_OK);
    assert_true(st.too_large);
    lf_agent_event_free(&ev);
}

static void test_cursor_order(void **state)
{
    (void)state;
    const char *a = "s=d64105fe43dc42c384ca7bdadd83ebf8;i=1a;b=" BOOT_ID ";m=3e9;t=60a24181e4000;"
                    "x=e44ece7e5635d15b";
    journald_cursor_pos pa, pb;
    assert_true(journald_cursor_parse(a, strlen(a), &pa));
    assert_int_equal(pa.seqnum, 0x1a);
    assert_int_equal(pa.monotonic_us, 0x3e9);
    assert_int_equal(pa.realtime_us, 0x60a24181e4000ULL);
    assert_string_equal(pa.boot_id, BOOT_ID);

    /* Same seqnum id: seqnum decides even if the clocks say otherwise. */
    pb = pa;
    pb.seqnum++;
    pb.realtime_us--;
    pb.monotonic_us--;
    assert_true(journald_cursor_compare(&pb, &pa) > 0);
    assert_true(journald_cursor_compare(&pa, &pb) < 0);
    assert_int_equal(journald_cursor_compare(&pa, &pa), 0);
    /* Other seqnum id, same boot: monotonic. */
    pb.seqnum_id[0] = 'e';
    assert_true(journald_cursor_compare(&pb, &pa) < 0);
    /* Other boot too: realtime. */
    pb.boot_id[0] = 'f';
    pb.realtime_us = pa.realtime_us + 1;
    assert_true(journald_cursor_compare(&pb, &pa) > 0);

    const char *bad[] = {
        "",
        "s=d64105fe43dc42c384ca7bdadd83ebf8;i=1",                        /* parts missing */
        "s=d64105fe43dc42c384ca7bdadd83ebf;i=1;b=" BOOT_ID ";m=1;t=1",   /* short id */
        "s=d64105fe43dc42c384ca7bdadd83ebf8;i=1g;b=" BOOT_ID ";m=1;t=1", /* bad hex */
        "s=d64105fe43dc42c384ca7bdadd83ebf8;i=;b=" BOOT_ID ";m=1;t=1",   /* empty */
        "s=d64105fe43dc42c384ca7bdadd83ebf8;i=1;b=" BOOT_ID ";m=1;t=1 ", /* space */
        "s=d64105fe43dc42c384ca7bdadd83ebf8;i=11111111111111111;b=" BOOT_ID ";m=1;t=1",
        "s=d64105fe43dc42c384ca7bdadd83ebf8;;i=1;b=" BOOT_ID ";m=1;t=1",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_false(journald_cursor_parse(bad[i], strlen(bad[i]), &pb));
    const char *ok = "s=d64105fe43dc42c384ca7bdadd83ebf8;i=1;b=" BOOT_ID ";m=1;t=1;z=new";
    assert_true(journald_cursor_parse(ok, strlen(ok), &pb));
}

/* ---------------- against real journals ---------------- */

static void test_read_all_in_order(void **state)
{
    (void)state;
    lf_buf b = LF_BUF_INIT;
    std_entries(&b, 0, 40);
    /* A binary MESSAGE (NUL, newline, invalid UTF-8), an entry without MESSAGE, and one whose
     * _SOURCE_REALTIME_TIMESTAMP gives the time. */
    static const char bin[] = "bin\0ary\n\xff\xfe end";
    entry_begin(&b, 40);
    field_binary(&b, "MESSAGE", bin, sizeof bin - 1);
    field_text(&b, "PRIORITY", "0");
    field_text(&b, "_SYSTEMD_UNIT", "bin.service");
    assert_int_equal(lf_buf_append(&b, "\n", 1), LF_OK);
    entry_begin(&b, 41);
    field_text(&b, "PRIORITY", "7");
    field_text(&b, "_COMM", "nomsg");
    assert_int_equal(lf_buf_append(&b, "\n", 1), LF_OK);
    entry_begin(&b, 42);
    field_text(&b, "MESSAGE", "timed");
    field_text(&b, "_SOURCE_REALTIME_TIMESTAMP", "1600000000000001");
    assert_int_equal(lf_buf_append(&b, "\n", 1), LF_OK);
    convert(&b, "remote.journal");

    lf_agent_input *in = open_input("read_from_head: true\n");
    lf_agent_event ev = {0};
    for (int k = 0; k < 40; k++) {
        expect_std(in, &ev, k);
        char v[32];
        assert_int_equal(ev.level, k % 8 + 1);
        assert_int_equal(ev.ts_ns, (int64_t)(RT_BASE + (uint64_t)k * 1000) * 1000);
        assert_string_equal(ev.source, "journald");
        snprintf(v, sizeof v, "comm%d", k);
        assert_string_equal(ev.logger, k % 3 == 0 ? "ident" : v);
        assert_string_equal(lf_agent_event_label(&ev, "comm"), v);
        assert_string_equal(lf_agent_event_label(&ev, "unit"), unit_of(k));
        assert_string_equal(lf_agent_event_label(&ev, "hostname"), "host1");
        assert_string_equal(lf_agent_event_label(&ev, "transport"), "journal");
        assert_string_equal(lf_agent_event_label(&ev, "boot_id"), BOOT_ID);
        snprintf(v, sizeof v, "%d", 100 + k);
        assert_string_equal(lf_agent_event_label(&ev, "pid"), v);
        assert_null(lf_agent_event_label(&ev, "code_file"));
        assert_true(ev.n_labels <= 8);
    }
    assert_int_equal(next_event(in, &ev, WAIT_MS), LF_OK);
    assert_int_equal(ev.message_len, sizeof bin - 1);
    assert_memory_equal(ev.message, bin, sizeof bin - 1);
    assert_int_equal(ev.level, 1);
    assert_string_equal(lf_agent_event_label(&ev, "unit"), "bin.service");
    assert_int_equal(next_event(in, &ev, WAIT_MS), LF_OK);
    assert_int_equal(ev.message_len, 0);
    assert_int_equal(ev.level, 8);
    assert_string_equal(ev.logger, "nomsg");
    expect_msg(in, &ev, "timed");
    assert_int_equal(ev.ts_ns, 1600000000000001LL * 1000);
    expect_nothing(in, &ev);
    assert_int_equal(metric(in, "logflux_agent_journald_entries_read_total"), 43);
    assert_int_equal(metric(in, "logflux_agent_journald_cursor_resets_total"), 0);
    assert_int_equal(metric(in, "logflux_agent_journald_entries_skipped_total"), 0);
    /* Nothing committed: no checkpoint file yet. */
    char p[400];
    ckpt_path(p, sizeof p);
    assert_int_equal(access(p, F_OK), -1);
    in->vt->destroy(in);
    lf_agent_event_free(&ev);
}

static void test_checkpoint_resume(void **state)
{
    (void)state;
    lf_buf b = LF_BUF_INIT;
    std_entries(&b, 0, 30);
    convert(&b, "remote.journal");
    lf_agent_event ev = {0};

    lf_agent_input *in = open_input("read_from_head: true\n");
    for (int k = 0; k < 12; k++)
        expect_std(in, &ev, k);
    lf_buf c = take_cursor(in);
    assert_true(c.len > 0);
    commit(in);
    /* Read on without committing: a restart re-reads these (at-least-once). */
    for (int k = 12; k < 15; k++)
        expect_std(in, &ev, k);
    in->vt->destroy(in);

    char p[400];
    ckpt_path(p, sizeof p);
    lf_buf file = lf_test_read_file(p);
    assert_int_equal(file.len, c.len + 1);
    assert_memory_equal(file.data, c.data, c.len);
    assert_int_equal(file.data[c.len], '\n');
    lf_buf_free(&file);
    lf_buf_free(&c);

    /* read_from_head no longer matters: the checkpoint decides. */
    in = open_input("read_from_head: false\n");
    for (int k = 12; k < 30; k++)
        expect_std(in, &ev, k);
    expect_nothing(in, &ev);
    commit(in);
    in->vt->destroy(in);

    in = open_input("");
    expect_nothing(in, &ev);
    assert_int_equal(metric(in, "logflux_agent_journald_cursor_resets_total"), 0);
    in->vt->destroy(in);
    lf_agent_event_free(&ev);
}

static void test_crash_window_restore(void **state)
{
    (void)state;
    lf_buf b = LF_BUF_INIT;
    std_entries(&b, 0, 25);
    convert(&b, "remote.journal");
    lf_agent_event ev = {0};
    lf_error err = {0};

    lf_agent_input *in = open_input("read_from_head: true\n");
    for (int k = 0; k < 5; k++)
        expect_std(in, &ev, k);
    lf_buf old = take_cursor(in);
    for (int k = 5; k < 10; k++)
        expect_std(in, &ev, k);
    commit(in);
    for (int k = 10; k < 16; k++)
        expect_std(in, &ev, k);
    /* The batch holding 10..15 reached the disk buffer with this cursor; then the crash,
     * before commit(). */
    lf_buf newest = take_cursor(in);
    in->vt->destroy(in);

    in = open_input("read_from_head: true\n");
    assert_int_equal(in->vt->restore(in, newest.data, newest.len, &err), LF_OK);
    for (int k = 16; k < 25; k++)
        expect_std(in, &ev, k);
    expect_nothing(in, &ev);
    /* restore() after the first next() is a caller bug, refused. */
    assert_int_equal(in->vt->restore(in, newest.data, newest.len, &err), LF_ERR_INVALID);
    in->vt->destroy(in);

    /* A restored cursor behind the checkpoint (10) is ignored; garbage is refused. */
    in = open_input("read_from_head: true\n");
    assert_int_equal(in->vt->restore(in, old.data, old.len, &err), LF_OK);
    assert_int_equal(in->vt->restore(in, (const uint8_t *)"s=zz", 4, &err), LF_ERR_INVALID);
    assert_int_equal(in->vt->restore(in, (const uint8_t *)"", 0, &err), LF_OK);
    expect_std(in, &ev, 10);
    in->vt->destroy(in);

    /* Without any checkpoint file, a restored cursor is where reading resumes. */
    char p[400];
    ckpt_path(p, sizeof p);
    assert_int_equal(unlink(p), 0);
    in = open_input("read_from_head: true\n");
    assert_int_equal(in->vt->restore(in, old.data, old.len, &err), LF_OK);
    expect_std(in, &ev, 5);
    /* cursor() right after restore covers what restore said was delivered. */
    in->vt->destroy(in);

    lf_buf_free(&old);
    lf_buf_free(&newest);
    lf_agent_event_free(&ev);
}

typedef struct append_job {
    lf_buf export_text;
    const char *journal;
    const char *failure;
} append_job;

static void *append_thread(void *arg)
{
    append_job *job = arg;
    job->failure = convert_try(&job->export_text, job->journal);
    return NULL;
}

static void run_append_while_waiting(lf_agent_input *in, lf_agent_event *ev, int from, int to,
                                     const char *journal)
{
    append_job job = {LF_BUF_INIT, journal, NULL};
    std_entries(&job.export_text, from, to);
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, append_thread, &job), 0);
    /* next() blocks in sd_journal_wait until the writer's changes arrive. */
    int got = from;
    for (int i = 0; i < MAX_LOOPS && got < to; i++) {
        if (next_event(in, ev, 200) != LF_OK)
            continue;
        char m[64];
        snprintf(m, sizeof m, "entry %d", got);
        assert_int_equal(ev->message_len, strlen(m));
        assert_memory_equal(ev->message, m, strlen(m));
        got++;
    }
    assert_int_equal(pthread_join(th, NULL), 0);
    if (job.failure)
        fail_msg("%s", job.failure);
    assert_int_equal(got, to);
}

static void test_follow_appends_and_new_files(void **state)
{
    (void)state;
    lf_buf b = LF_BUF_INIT;
    std_entries(&b, 0, 5);
    convert(&b, "remote.journal");
    lf_agent_event ev = {0};
    lf_agent_input *in = open_input("read_from_head: true\n");
    for (int k = 0; k < 5; k++)
        expect_std(in, &ev, k);
    expect_nothing(in, &ev);
    run_append_while_waiting(in, &ev, 5, 20, "remote.journal"); /* same file grows */
    expect_nothing(in, &ev);
    run_append_while_waiting(in, &ev, 20, 30, "second.journal"); /* new file in the dir */
    expect_nothing(in, &ev);
    assert_int_equal(metric(in, "logflux_agent_journald_entries_read_total"), 30);
    in->vt->destroy(in);
    lf_agent_event_free(&ev);
}

static void test_tail_start(void **state)
{
    (void)state;
    lf_buf b = LF_BUF_INIT;
    std_entries(&b, 0, 10);
    convert(&b, "remote.journal");
    lf_agent_event ev = {0};
    char p[400];
    ckpt_path(p, sizeof p);

    lf_agent_input *in = open_input("read_from_head: false\n");
    expect_nothing(in, &ev);
    /* The start point is a checkpoint at once: the newest entry present. */
    assert_int_equal(access(p, F_OK), 0);
    run_append_while_waiting(in, &ev, 10, 13, "remote.journal");
    in->vt->destroy(in); /* no commit */

    /* Entries written while the agent was down are read after the restart, from the start
     * checkpoint (10..12 again: never committed). */
    b = (lf_buf)LF_BUF_INIT;
    std_entries(&b, 13, 16);
    convert(&b, "remote.journal");
    in = open_input("read_from_head: false\n");
    for (int k = 10; k < 16; k++)
        expect_std(in, &ev, k);
    expect_nothing(in, &ev);
    in->vt->destroy(in);

    /* An empty journal directory and the tail: everything later is new. */
    char cmd[1000];
    snprintf(cmd, sizeof cmd, "rm -f '%s'/*.journal '%s'", g_jdir, p);
    assert_int_equal(system(cmd), 0);
    in = open_input("read_from_head: false\n");
    expect_nothing(in, &ev);
    run_append_while_waiting(in, &ev, 100, 103, "fresh.journal");
    in->vt->destroy(in);
    lf_agent_event_free(&ev);
}

static void test_matches_and_units(void **state)
{
    (void)state;
    lf_buf b = LF_BUF_INIT;
    std_entries(&b, 0, 16);
    convert(&b, "remote.journal");
    lf_agent_event ev = {0};
    char p[400];
    ckpt_path(p, sizeof p);

    lf_agent_input *in =
        open_input("read_from_head: true\nmatches: [\"_SYSTEMD_UNIT=a.service\"]\n");
    for (int k = 0; k < 16; k += 2)
        expect_std(in, &ev, k);
    expect_nothing(in, &ev);
    in->vt->destroy(in);

    in = open_input("read_from_head: true\nunits: [b]\n");
    for (int k = 1; k < 16; k += 2)
        expect_std(in, &ev, k);
    expect_nothing(in, &ev);
    in->vt->destroy(in);

    /* Same field OR'ed, "+" a disjunction: PRIORITY 1 or 2, or (unit b and PRIORITY 7). */
    in = open_input("read_from_head: true\nmatches: [\"PRIORITY=1\", \"PRIORITY=2\", \"+\", "
                    "\"PRIORITY=7\", \"_SYSTEMD_UNIT=b.service\"]\n");
    int want1[] = {1, 2, 7, 9, 10, 15};
    for (size_t i = 0; i < sizeof want1 / sizeof want1[0]; i++)
        expect_std(in, &ev, want1[i]);
    expect_nothing(in, &ev);
    in->vt->destroy(in);

    /* matches AND units, even across the "+": (P=0 or P=3) and unit a. */
    in = open_input("read_from_head: true\nmatches: [\"PRIORITY=0\", \"+\", \"PRIORITY=3\"]\n"
                    "units: [a.service]\n");
    int want2[] = {0, 8};
    for (size_t i = 0; i < sizeof want2 / sizeof want2[0]; i++)
        expect_std(in, &ev, want2[i]);
    expect_nothing(in, &ev);
    in->vt->destroy(in);
    assert_int_equal(access(p, F_OK), -1);
    lf_agent_event_free(&ev);
}

static void test_lost_cursor(void **state)
{
    (void)state;
    lf_buf b = LF_BUF_INIT;
    std_entries(&b, 0, 10);
    convert(&b, "remote.journal");
    lf_agent_event ev = {0};
    char p[400], cmd[1000];
    ckpt_path(p, sizeof p);

    lf_agent_input *in = open_input("read_from_head: true\n");
    for (int k = 0; k < 6; k++)
        expect_std(in, &ev, k);
    commit(in);
    in->vt->destroy(in);

    /* Filters changed so that the checkpointed entry (5, unit b) is filtered out: the entry
     * found next to it is later in the same sequence, so reading continues there. */
    in = open_input("units: [a]\n");
    expect_std(in, &ev, 6);
    expect_std(in, &ev, 8);
    expect_nothing(in, &ev);
    assert_int_equal(metric(in, "logflux_agent_journald_cursor_resets_total"), 1);
    in->vt->destroy(in);

    /* The journal is replaced (vacuumed, another machine's): the checkpoint names nothing in
     * it, so it is read from its head; the reset is counted. */
    snprintf(cmd, sizeof cmd, "rm -f '%s'/*.journal", g_jdir);
    assert_int_equal(system(cmd), 0);
    b = (lf_buf)LF_BUF_INIT;
    std_entries(&b, 0, 4);
    convert(&b, "other.journal");
    in = open_input("");
    for (int k = 0; k < 4; k++)
        expect_std(in, &ev, k);
    expect_nothing(in, &ev);
    assert_int_equal(metric(in, "logflux_agent_journald_cursor_resets_total"), 1);
    commit(in);
    in->vt->destroy(in);

    /* A damaged checkpoint file: a reset too, read from the head. */
    FILE *f = fopen(p, "w");
    assert_non_null(f);
    fputs("not a cursor at all\n", f);
    fclose(f);
    in = open_input("");
    for (int k = 0; k < 4; k++)
        expect_std(in, &ev, k);
    assert_int_equal(metric(in, "logflux_agent_journald_cursor_resets_total"), 1);
    in->vt->destroy(in);
    lf_agent_event_free(&ev);
}

static void test_files_option_and_too_large(void **state)
{
    (void)state;
    lf_buf b = LF_BUF_INIT;
    std_entries(&b, 0, 3);
    entry_begin(&b, 3);
    char big[1001];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    field_text(&b, "MESSAGE", big);
    assert_int_equal(lf_buf_append(&b, "\n", 1), LF_OK);
    std_entries(&b, 4, 6);
    convert(&b, "remote.journal");

    char yaml[600];
    snprintf(yaml, sizeof yaml,
             "files: [\"%s/remote.journal\"]\nread_from_head: true\nmax_entry_bytes: 999\n",
             g_jdir);
    lf_agent_input *in = open_input(yaml);
    lf_agent_event ev = {0};
    for (int k = 0; k < 3; k++)
        expect_std(in, &ev, k);
    expect_std(in, &ev, 4); /* 3 (1000-byte message > 999) skipped */
    expect_std(in, &ev, 5);
    expect_nothing(in, &ev);
    assert_int_equal(metric(in, "logflux_agent_journald_entries_skipped_total"), 1);
    assert_int_equal(metric(in, "logflux_agent_journald_entries_read_total"), 5);
    in->vt->destroy(in);

    /* At exactly the limit it is read. */
    char p[400];
    ckpt_path(p, sizeof p);
    unlink(p);
    snprintf(yaml, sizeof yaml,
             "files: [\"%s/remote.journal\"]\nread_from_head: true\nmax_entry_bytes: 1000\n",
             g_jdir);
    in = open_input(yaml);
    for (int k = 0; k < 3; k++)
        expect_std(in, &ev, k);
    expect_msg(in, &ev, big);
    in->vt->destroy(in);
    lf_agent_event_free(&ev);
}

static void test_stop(void **state)
{
    (void)state;
    lf_buf b = LF_BUF_INIT;
    std_entries(&b, 0, 2);
    convert(&b, "remote.journal");
    lf_agent_event ev = {0};
    lf_agent_input *in = open_input("read_from_head: true\n");
    atomic_store(&g_stop, true);
    /* A long timeout, yet next() returns at once: the stop flag is checked first. */
    assert_int_equal(next_event(in, &ev, 60000), LF_ERR_NOT_FOUND);
    atomic_store(&g_stop, false);
    expect_std(in, &ev, 0);
    in->vt->destroy(in);
    lf_agent_event_free(&ev);
}

static void test_bad_options(void **state)
{
    (void)state;
    const char *bad[] = {
        "matches: [\"lower=x\"]\n",
        "matches: [\"=x\"]\n",
        "matches: [\"NOVALUE\"]\n",
        "matches: [\"1ABC=x\"]\n",
        "units: [\"a b\"]\n",
        "units: [\"x=y\"]\n",
        "path: /tmp\nfiles: [/tmp/x.journal]\n",
        "max_entry_bytes: 2MiB\n",
        "max_entry_bytes: 10\n",
        "bogus: 1\n",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        lf_journald_config cfg;
        lf_error err = {0};
        lf_err e = load_cfg(&cfg, bad[i], &err);
        if (e == LF_OK)
            fail_msg("accepted: %s", bad[i]);
        assert_true(err.message[0] != '\0');
        lf_options_free(lf_agent_input_type_journald.options,
                        lf_agent_input_type_journald.n_options, &cfg);
    }
    assert_true(journald_match_ok("_SYSTEMD_UNIT=x"));
    assert_true(journald_match_ok("FIELD="));
    assert_true(journald_match_ok("+"));
    assert_true(journald_unit_ok("user@1000.service"));

    /* A journal directory that does not exist fails at create with the path in the message. */
    lf_journald_config cfg;
    lf_error err = {0};
    assert_int_equal(load_cfg(&cfg, "path: /nonexistent/lf-journal\n", &err), LF_OK);
    lf_agent_input_common common = {.name = "j1", .state_dir = g_state, .stop = &g_stop};
    lf_agent_input *in = NULL;
    assert_int_not_equal(lf_agent_input_type_journald.create(&common, &cfg, &in, &err), LF_OK);
    assert_non_null(strstr(err.message, "/nonexistent/lf-journal"));
    assert_null(in);
    lf_options_free(lf_agent_input_type_journald.options, lf_agent_input_type_journald.n_options,
                    &cfg);
}

/* A journal file damaged inside a compressed MESSAGE: no crash, no stall; the other entries
 * come out intact and in order. */
static void test_damaged_compressed_field(void **state)
{
    (void)state;
    lf_buf b = LF_BUF_INIT;
    std_entries(&b, 0, 2);
    entry_begin(&b, 2);
    char big[3001];
    uint32_t x = 12345;
    for (size_t i = 0; i < sizeof big - 1; i++) { /* compressible, but not one long run */
        x = x * 1103515245u + 12345u;
        big[i] = (char)('a' + (x >> 16) % 8);
    }
    big[sizeof big - 1] = '\0';
    field_text(&b, "MESSAGE", big);
    assert_int_equal(lf_buf_append(&b, "\n", 1), LF_OK);
    std_entries(&b, 3, 5);
    convert(&b, "remote.journal");

    char p[400];
    snprintf(p, sizeof p, "%s/remote.journal", g_jdir);
    lf_buf file = lf_test_read_file(p);
    static const uint8_t zstd_magic[4] = {0x28, 0xb5, 0x2f, 0xfd};
    uint8_t *z = memmem(file.data, file.len, zstd_magic, 4);
    if (!z)
        fail_msg("no zstd frame in the journal (systemd built without zstd?)");
    assert_true((size_t)(z - file.data) + 80 <= file.len);
    for (size_t i = 20; i < 80; i++)
        z[i] ^= 0x5a;
    FILE *f = fopen(p, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(file.data, 1, file.len, f), file.len);
    assert_int_equal(fclose(f), 0);
    lf_buf_free(&file);

    lf_agent_input *in = open_input("read_from_head: true\n");
    lf_agent_event ev = {0};
    expect_std(in, &ev, 0);
    expect_std(in, &ev, 1);
    /* Entry 2: its MESSAGE cannot be decoded; sd-journal leaves the field out, so the entry
     * comes with its time and an empty message (not the damaged bytes passed off as text). */
    assert_int_equal(next_event(in, &ev, WAIT_MS), LF_OK);
    assert_int_equal(ev.message_len, 0);
    assert_int_equal(ev.ts_ns, (int64_t)(RT_BASE + 2 * 1000) * 1000);
    expect_std(in, &ev, 3);
    expect_std(in, &ev, 4);
    assert_int_equal(metric(in, "logflux_agent_journald_entries_read_total"), 5);
    expect_nothing(in, &ev);
    in->vt->destroy(in);
    lf_agent_event_free(&ev);
}

/* path "" opens this machine's journal. Its content depends on the host (a container may have
 * none), so only the contract is checked: it opens, next() answers, the tail start is kept. */
static void test_local_journal(void **state)
{
    (void)state;
    lf_journald_config cfg;
    lf_error err = {0};
    assert_int_equal(load_cfg(&cfg, "path: \"\"\n", &err), LF_OK);
    lf_agent_input_common common = {.name = "j1", .state_dir = g_state, .stop = &g_stop};
    lf_agent_input *in = NULL;
    lf_err e = lf_agent_input_type_journald.create(&common, &cfg, &in, &err);
    lf_options_free(lf_agent_input_type_journald.options, lf_agent_input_type_journald.n_options,
                    &cfg);
    if (e != LF_OK)
        fail_msg("create: %s", err.message);
    lf_agent_event ev = {0};
    lf_agent_event_reset(&ev);
    e = in->vt->next(in, &ev, 0, &err);
    assert_true(e == LF_OK || e == LF_ERR_NOT_FOUND);
    commit(in);
    in->vt->destroy(in);
    lf_agent_event_free(&ev);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fields_mapping),
        cmocka_unit_test(test_cursor_order),
        cmocka_unit_test_setup_teardown(test_read_all_in_order, setup, teardown),
        cmocka_unit_test_setup_teardown(test_checkpoint_resume, setup, teardown),
        cmocka_unit_test_setup_teardown(test_crash_window_restore, setup, teardown),
        cmocka_unit_test_setup_teardown(test_follow_appends_and_new_files, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tail_start, setup, teardown),
        cmocka_unit_test_setup_teardown(test_matches_and_units, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lost_cursor, setup, teardown),
        cmocka_unit_test_setup_teardown(test_files_option_and_too_large, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stop, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_options, setup, teardown),
        cmocka_unit_test_setup_teardown(test_damaged_compressed_field, setup, teardown),
        cmocka_unit_test_setup_teardown(test_local_journal, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * test_agent_input_file.c — the "tail" and "nginx" agent inputs over real files in a temp
 * dir, driven through their lf_agent_input_type (option table defaults, create, vtable):
 * events and their source, exclude globs, the checkpoint DB under <state_dir>/<type>/, and
 * cursor/commit/restore across a simulated crash (a cursor newer than the checkpoint is
 * applied, an older one is not), malformed cursors, and nginx lines parsed by the input.
 * Every wait is bounded.
 */
#define _GNU_SOURCE
#include "testutil.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "inputs/file/file_input.h"
#include "options.h"

static char g_dir[256];
static char g_state[300];
static atomic_bool g_stop;

static int setup_dir(void **state)
{
    (void)state;
    snprintf(g_dir, sizeof g_dir, "/tmp/lf-finput-XXXXXX");
    if (!mkdtemp(g_dir))
        return -1;
    snprintf(g_state, sizeof g_state, "%s/state", g_dir);
    return mkdir(g_state, 0700);
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
    char p[400];
    snprintf(p, sizeof p, "%s/%s", g_dir, name);
    int fd = open(p, O_WRONLY | O_CREAT | O_APPEND, 0644);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
}

static void set(const lf_agent_input_type *t, void *cfg, const char *name, const char *value)
{
    lf_error err = {0};
    assert_int_equal(lf_options_set(t->options, t->n_options, cfg, name, value, &err), LF_OK);
}

static lf_agent_input *make(const lf_agent_input_type *t, void *cfg, const char *name)
{
    lf_agent_input_common common = {.name = name, .state_dir = g_state, .stop = &g_stop};
    lf_agent_input *in = NULL;
    lf_error err = {0};
    assert_int_equal(t->validate(cfg, &err), LF_OK);
    lf_err e = t->create(&common, cfg, &in, &err);
    if (e != LF_OK)
        fail_msg("create: %s", err.message);
    assert_non_null(in);
    assert_string_equal(in->name, name);
    return in;
}

/* The next event's message (copied into out), or false after limit_ms. */
static bool next_msg(lf_agent_input *in, lf_agent_event *ev, char *out, size_t cap, int limit_ms)
{
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    for (;;) {
        lf_agent_event_reset(ev);
        lf_error err = {0};
        lf_err e = in->vt->next(in, ev, 50, &err);
        if (e == LF_OK) {
            snprintf(out, cap, "%.*s", (int)ev->message_len, ev->message);
            return true;
        }
        assert_int_equal(e, LF_ERR_NOT_FOUND);
        clock_gettime(CLOCK_MONOTONIC, &b);
        if ((b.tv_sec - a.tv_sec) * 1000 + (b.tv_nsec - a.tv_nsec) / 1000000 > limit_ms)
            return false;
    }
}

static void expect_msg(lf_agent_input *in, lf_agent_event *ev, const char *want)
{
    char got[512];
    if (!next_msg(in, ev, got, sizeof got, 3000))
        fail_msg("no event; wanted '%s'", want);
    assert_string_equal(got, want);
}

static void expect_none(lf_agent_input *in, lf_agent_event *ev, int ms)
{
    char got[512];
    if (next_msg(in, ev, got, sizeof got, ms))
        fail_msg("unexpected event '%s'", got);
}

static void *tail_config(const char *paths)
{
    const lf_agent_input_type *t = &lf_agent_input_type_tail;
    void *cfg = calloc(1, t->config_size);
    assert_non_null(cfg);
    assert_int_equal(lf_options_defaults(t->options, t->n_options, cfg, NULL), LF_OK);
    set(t, cfg, "paths", paths);
    set(t, cfg, "poll_interval", "30ms");
    set(t, cfg, "read_from_head", "true");
    return cfg;
}

static void free_config(const lf_agent_input_type *t, void *cfg)
{
    lf_options_free(t->options, t->n_options, cfg);
    free(cfg);
}

static void test_tail_events_and_exclude(void **state)
{
    (void)state;
    const lf_agent_input_type *t = &lf_agent_input_type_tail;
    char glob[400], excl[400], a[400];
    snprintf(glob, sizeof glob, "%s/*.log*", g_dir);
    snprintf(excl, sizeof excl, "%s/*.gz", g_dir);
    snprintf(a, sizeof a, "%s/a.log", g_dir);
    append("a.log", "first\nsecond\n");
    append("old.log.gz", "compressed\n");
    void *cfg = tail_config(glob);
    set(t, cfg, "exclude", excl);
    lf_agent_input *in = make(t, cfg, "files");
    lf_agent_event ev = {0};
    expect_msg(in, &ev, "first");
    assert_string_equal(ev.source, a);
    assert_true(ev.ts_ns > 1700000000LL * 1000000000LL); /* read time; a parser may replace it */
    expect_msg(in, &ev, "second");
    expect_none(in, &ev, 300); /* the .gz file is never opened */
    /* The checkpoint DB lives at <state_dir>/tail/<name>.db. */
    char db[400];
    snprintf(db, sizeof db, "%s/tail/files.db", g_state);
    struct stat st;
    assert_int_equal(stat(db, &st), 0);
    snprintf(db, sizeof db, "%s/tail", g_state);
    assert_int_equal(stat(db, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0700);
    lf_buf m = LF_BUF_INIT;
    in->vt->write_metrics(in, &m);
    assert_int_equal(lf_buf_terminate(&m), LF_OK);
    assert_non_null(strstr((char *)m.data, "logflux_agent_tail_records_total{input=\"files\"} 2"));
    lf_buf_free(&m);
    in->vt->destroy(in);
    lf_agent_event_free(&ev);
    free_config(t, cfg);
}

static void cursor_of(lf_agent_input *in, lf_buf *out)
{
    lf_buf_reset(out);
    assert_int_equal(in->vt->cursor(in, out, NULL), LF_OK);
    assert_true(out->len > 0);
}

static void test_tail_cursor_restore(void **state)
{
    (void)state;
    const lf_agent_input_type *t = &lf_agent_input_type_tail;
    char glob[400];
    snprintf(glob, sizeof glob, "%s/app.log", g_dir);
    append("app.log", "l1\nl2\nl3\nl4\nl5\n");
    void *cfg = tail_config(glob);
    lf_agent_event ev = {0};
    lf_buf c1 = LF_BUF_INIT, c2 = LF_BUF_INIT, c3 = LF_BUF_INIT;

    /* A: 1..3 committed; 4..5 appended downstream (cursor c2) but the crash came before
     * commit. */
    lf_agent_input *in = make(t, cfg, "app");
    expect_msg(in, &ev, "l1");
    expect_msg(in, &ev, "l2");
    expect_msg(in, &ev, "l3");
    cursor_of(in, &c1);
    assert_int_equal(in->vt->commit(in, NULL), LF_OK);
    expect_msg(in, &ev, "l4");
    expect_msg(in, &ev, "l5");
    cursor_of(in, &c2);
    in->vt->destroy(in);

    /* B: without restore the checkpoint says 3: l4 would come again. With the cursor of the
     * newest buffered batch it continues after l5. */
    in = make(t, cfg, "app");
    assert_int_equal(in->vt->restore(in, c2.data, c2.len, NULL), LF_OK);
    append("app.log", "l6\n");
    expect_msg(in, &ev, "l6");
    cursor_of(in, &c3);
    assert_int_equal(in->vt->commit(in, NULL), LF_OK);
    /* restore after the first read is refused */
    lf_error err = {0};
    assert_int_equal(in->vt->restore(in, c3.data, c3.len, &err), LF_ERR_INVALID);
    in->vt->destroy(in);

    /* C: a cursor older than the checkpoint (c1: after l3) is not applied: no repeat. */
    in = make(t, cfg, "app");
    assert_int_equal(in->vt->restore(in, c1.data, c1.len, NULL), LF_OK);
    append("app.log", "l7\n");
    expect_msg(in, &ev, "l7");
    expect_none(in, &ev, 200);
    in->vt->destroy(in);

    /* D: malformed cursors are refused whole and change nothing. */
    in = make(t, cfg, "app");
    uint8_t bad_version[] = {9, 0};
    assert_int_equal(in->vt->restore(in, bad_version, sizeof bad_version, NULL),
                     LF_ERR_UNSUPPORTED);
    assert_int_not_equal(in->vt->restore(in, c2.data, c2.len - 1, NULL), LF_OK);
    assert_int_not_equal(in->vt->restore(in, NULL, 0, NULL), LF_OK);
    append("app.log", "l8\n");
    expect_msg(in, &ev, "l7"); /* C never committed l7: it comes again (at-least-once) */
    expect_msg(in, &ev, "l8");
    in->vt->destroy(in);

    lf_buf_free(&c1);
    lf_buf_free(&c2);
    lf_buf_free(&c3);
    lf_agent_event_free(&ev);
    free_config(t, cfg);
}

static void test_tail_validate(void **state)
{
    (void)state;
    const lf_agent_input_type *t = &lf_agent_input_type_tail;
    void *cfg = calloc(1, t->config_size);
    assert_int_equal(lf_options_defaults(t->options, t->n_options, cfg, NULL), LF_OK);
    lf_error err = {0};
    assert_int_equal(t->validate(cfg, &err), LF_ERR_INVALID);
    assert_non_null(strstr(err.message, "paths"));
    set(t, cfg, "paths", "relative/*.log");
    assert_int_equal(t->validate(cfg, &err), LF_ERR_INVALID);
    /* The bounds of the table hold. */
    assert_int_not_equal(
        lf_options_set(t->options, t->n_options, cfg, "max_line_bytes", "2GiB", &err), LF_OK);
    set(t, cfg, "paths", "/tmp/x.log");
    set(t, cfg, "multiline.first_line", "([");
    lf_agent_input_common common = {.name = "bad", .state_dir = g_state, .stop = &g_stop};
    lf_agent_input *in = NULL;
    assert_int_equal(t->create(&common, cfg, &in, &err), LF_ERR_INVALID);
    assert_null(in);
    free_config(t, cfg);
}

static void test_nginx(void **state)
{
    (void)state;
    const lf_agent_input_type *t = &lf_agent_input_type_nginx;
    void *cfg = calloc(1, t->config_size);
    assert_non_null(cfg);
    assert_int_equal(lf_options_defaults(t->options, t->n_options, cfg, NULL), LF_OK);
    char acc[400], errp[400];
    snprintf(acc, sizeof acc, "%s/access.log", g_dir);
    snprintf(errp, sizeof errp, "%s/error.log", g_dir);
    set(t, cfg, "access_paths", acc);
    set(t, cfg, "error_paths", errp);
    set(t, cfg, "read_from_head", "true");
    set(t, cfg, "poll_interval", "30ms");
    append("access.log", "192.0.2.7 - - [02/Jan/2024:03:04:05 +0000] \"GET /shop?id=1 HTTP/1.1\" "
                         "503 12 \"-\" \"curl/8.0\"\n");
    append("access.log", "not an access line\n");
    lf_agent_input *in = make(t, cfg, "web");
    lf_agent_event ev = {0};
    char got[512];
    assert_true(next_msg(in, &ev, got, sizeof got, 3000));
    assert_string_equal(lf_agent_event_label(&ev, "nginx_log"), "access");
    assert_string_equal(lf_agent_event_label(&ev, "status"), "503");
    assert_string_equal(lf_agent_event_label(&ev, "method"), "GET");
    assert_int_equal(ev.ts_ns, 1704164645LL * 1000000000LL);
    assert_string_equal(ev.source, acc);
    /* Unparseable: kept whole, still labelled. */
    expect_msg(in, &ev, "not an access line");
    assert_string_equal(lf_agent_event_label(&ev, "nginx_log"), "access");
    assert_null(lf_agent_event_label(&ev, "status"));
    append("error.log", "2024/01/02 03:04:05 [error] 12#12: *3 open() failed (2: No such file)\n");
    assert_true(next_msg(in, &ev, got, sizeof got, 3000));
    assert_string_equal(lf_agent_event_label(&ev, "nginx_log"), "error");
    assert_int_equal(ev.level, LF_LEVEL_ERROR);
    assert_non_null(strstr(got, "open() failed"));
    lf_buf m = LF_BUF_INIT;
    in->vt->write_metrics(in, &m);
    assert_int_equal(lf_buf_terminate(&m), LF_OK);
    assert_non_null(
        strstr((char *)m.data, "logflux_agent_nginx_unparsed_lines_total{input=\"web\"} 1"));
    lf_buf_free(&m);
    in->vt->destroy(in);
    lf_agent_event_free(&ev);
    free_config(t, cfg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_tail_events_and_exclude, setup_dir, teardown_dir),
        cmocka_unit_test_setup_teardown(test_tail_cursor_restore, setup_dir, teardown_dir),
        cmocka_unit_test_setup_teardown(test_tail_validate, setup_dir, teardown_dir),
        cmocka_unit_test_setup_teardown(test_nginx, setup_dir, teardown_dir),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

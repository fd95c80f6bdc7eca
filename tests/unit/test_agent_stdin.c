/*
 * test_agent_stdin.c — the agent's stdin input over a real pipe (given as fd), a regular
 * file and a FIFO by path: lines, a line split across writes, a last line without '\n' at
 * EOF followed by `finished`, lines over max_line_bytes returned in pieces, a FIFO that
 * outlives its writers, the stop flag, and bad options. Every wait is bounded.
 */
#define _GNU_SOURCE
#include "testutil.h"

#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "inputs/stdin/stdin.h"

static atomic_bool g_stop;
static char g_dir[64];

static int setup_dir(void **state)
{
    (void)state;
    snprintf(g_dir, sizeof g_dir, "/tmp/lf-stdin-XXXXXX");
    return mkdtemp(g_dir) ? 0 : -1;
}

static int teardown_dir(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_dir);
    return system(cmd) == 0 ? 0 : -1;
}

static lf_agent_input *make_input(const char *const *kv, size_t n, lf_error *err_out)
{
    const lf_agent_input_type *t = &lf_agent_input_type_stdin;
    void *cfg = calloc(1, t->config_size);
    assert_non_null(cfg);
    lf_error err = {0};
    assert_int_equal(lf_options_defaults(t->options, t->n_options, cfg, &err), LF_OK);
    for (size_t i = 0; i + 1 < n; i += 2)
        assert_int_equal(lf_options_set(t->options, t->n_options, cfg, kv[i], kv[i + 1], &err),
                         LF_OK);
    lf_agent_input *in = NULL;
    lf_agent_input_common common = {.name = "in", .state_dir = g_dir, .stop = &g_stop};
    lf_err e = t->create(&common, cfg, &in, &err);
    lf_options_free(t->options, t->n_options, cfg);
    free(cfg);
    if (err_out)
        *err_out = err;
    return e == LF_OK ? in : NULL;
}

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static size_t collect(lf_agent_input *in, char out[][256], size_t want, int limit_ms)
{
    lf_agent_event ev = {0};
    size_t n = 0;
    int64_t end = mono_ms() + limit_ms;
    while (n < want && mono_ms() < end) {
        lf_agent_event_reset(&ev);
        lf_err e = in->vt->next(in, &ev, 50, NULL);
        if (e == LF_ERR_NOT_FOUND) {
            if (atomic_load(&in->finished))
                break;
            continue;
        }
        assert_int_equal(e, LF_OK);
        assert_true(ev.message_len < 256);
        memcpy(out[n], ev.message, ev.message_len);
        out[n][ev.message_len] = '\0';
        n++;
    }
    lf_agent_event_free(&ev);
    return n;
}

static void write_str(int fd, const char *s)
{
    assert_int_equal(write(fd, s, strlen(s)), (ssize_t)strlen(s));
}

static void test_pipe_lines_and_eof(void **state)
{
    (void)state;
    int p[2];
    assert_int_equal(pipe(p), 0);
    char fd[16];
    snprintf(fd, sizeof fd, "%d", p[0]);
    const char *kv[] = {"fd", fd};
    lf_agent_input *in = make_input(kv, 2, NULL);
    assert_non_null(in);
    assert_null(in->vt->cursor);
    char got[8][256];
    write_str(p[1], "one\ntwo\nhal");
    assert_int_equal(collect(in, got, 8, 300), 2);
    assert_string_equal(got[0], "one");
    assert_string_equal(got[1], "two");
    /* The half line waits for the rest of it. */
    assert_false(atomic_load(&in->finished));
    write_str(p[1], "f\n\nlast without newline");
    assert_int_equal(collect(in, got, 2, 3000), 2);
    assert_string_equal(got[0], "half");
    assert_string_equal(got[1], ""); /* an empty line is a line */
    assert_false(atomic_load(&in->finished));
    /* EOF: the last partial line, then finished. */
    close(p[1]);
    assert_int_equal(collect(in, got, 8, 3000), 1);
    assert_string_equal(got[0], "last without newline");
    assert_true(atomic_load(&in->finished));
    lf_agent_event ev = {0};
    assert_int_equal(in->vt->next(in, &ev, 10, NULL), LF_ERR_NOT_FOUND);
    in->vt->destroy(in);
    /* The descriptor was borrowed: still open. */
    assert_true(fcntl(p[0], F_GETFD) >= 0);
    close(p[0]);
}

static void test_long_lines_split(void **state)
{
    (void)state;
    int p[2];
    assert_int_equal(pipe(p), 0);
    char fd[16];
    snprintf(fd, sizeof fd, "%d", p[0]);
    const char *kv[] = {"fd", fd, "max_line_bytes", "16"};
    lf_agent_input *in = make_input(kv, 4, NULL);
    assert_non_null(in);
    write_str(p[1], "0123456789abcdefXYZ\nshort\n0123456789abcdef\n");
    close(p[1]);
    char got[8][256];
    assert_int_equal(collect(in, got, 8, 3000), 4);
    assert_string_equal(got[0], "0123456789abcdef");
    assert_string_equal(got[1], "XYZ");
    assert_string_equal(got[2], "short");
    assert_string_equal(got[3], "0123456789abcdef"); /* exactly max: one line */
    assert_true(atomic_load(&in->finished));
    lf_buf m = LF_BUF_INIT;
    in->vt->write_metrics(in, &m);
    lf_buf_terminate(&m);
    assert_non_null(
        strstr((char *)m.data, "logflux_agent_stdin_split_lines_total{input=\"in\"} 1"));
    assert_non_null(strstr((char *)m.data, "logflux_agent_stdin_lines_total{input=\"in\"} 4"));
    lf_buf_free(&m);
    in->vt->destroy(in);
    close(p[0]);
}

static void test_file_and_fifo_paths(void **state)
{
    (void)state;
    char path[128];
    snprintf(path, sizeof path, "%s/input.txt", g_dir);
    int f = open(path, O_CREAT | O_WRONLY | O_TRUNC, 0644);
    assert_true(f >= 0);
    write_str(f, "a\nb\n");
    close(f);
    const char *kv[] = {"path", path};
    lf_agent_input *in = make_input(kv, 2, NULL);
    assert_non_null(in);
    char got[8][256];
    assert_int_equal(collect(in, got, 8, 3000), 2);
    assert_string_equal(got[1], "b");
    assert_true(atomic_load(&in->finished));
    in->vt->destroy(in);

    /* A FIFO survives its writers: two writers one after the other, never finished. */
    char fifo[128];
    snprintf(fifo, sizeof fifo, "%s/fifo", g_dir);
    assert_int_equal(mkfifo(fifo, 0600), 0);
    const char *kv2[] = {"path", fifo};
    in = make_input(kv2, 2, NULL);
    assert_non_null(in);
    for (int w = 0; w < 2; w++) {
        int wfd = open(fifo, O_WRONLY);
        assert_true(wfd >= 0);
        write_str(wfd, w ? "from writer 2\n" : "from writer 1\n");
        close(wfd);
        assert_int_equal(collect(in, got, 1, 3000), 1);
        assert_string_equal(got[0], w ? "from writer 2" : "from writer 1");
        assert_int_equal(collect(in, got, 1, 100), 0);
        assert_false(atomic_load(&in->finished));
    }
    in->vt->destroy(in);
}

static void test_stop_and_bad_options(void **state)
{
    (void)state;
    int p[2];
    assert_int_equal(pipe(p), 0);
    char fd[16];
    snprintf(fd, sizeof fd, "%d", p[0]);
    const char *kv[] = {"fd", fd};
    lf_agent_input *in = make_input(kv, 2, NULL);
    assert_non_null(in);
    atomic_store(&g_stop, true);
    lf_agent_event ev = {0};
    assert_int_equal(in->vt->next(in, &ev, 60000, NULL), LF_ERR_NOT_FOUND); /* at once */
    atomic_store(&g_stop, false);
    in->vt->destroy(in);
    close(p[0]);
    close(p[1]);

    lf_error err;
    const char *bad_fd[] = {"fd", "987"};
    assert_null(make_input(bad_fd, 2, &err));
    assert_non_null(strstr(err.message, "not open"));
    char missing[128];
    snprintf(missing, sizeof missing, "%s/missing", g_dir);
    const char *bad_path[] = {"path", missing};
    assert_null(make_input(bad_path, 2, &err));
    assert_non_null(strstr(err.message, "missing"));
    assert_string_equal(lf_agent_input_type_stdin.type, "stdin");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pipe_lines_and_eof),
        cmocka_unit_test(test_long_lines_split),
        cmocka_unit_test(test_file_and_fifo_paths),
        cmocka_unit_test(test_stop_and_bad_options),
    };
    return cmocka_run_group_tests(tests, setup_dir, teardown_dir);
}

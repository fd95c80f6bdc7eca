/*
 * test_agent_containers.c — the CRI and Docker line parsers, and the "docker" and "kubernetes"
 * inputs over temp dirs laid out like a Docker data root (containers/<id>/config.v2.json and
 * <id>-json.log) and a node's /var/log/containers -> /var/log/pods symlinks: labels, split
 * lines joined (and cut at the limit or after the timeout), containers that start while
 * running, rotation while a writer keeps writing, name and namespace filters, and restore
 * after a simulated crash (cursor newer than the checkpoint, with a split line held at the
 * time of the crash). Every wait is bounded.
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

#include "inputs/docker/docker_input.h"
#include "inputs/kubernetes/kubernetes_input.h"
#include "options.h"
#include "parser.h"

static char g_dir[256];
static char g_state[300];
static atomic_bool g_stop;

#define ID1   "1111111111111111111111111111111111111111111111111111111111111111"
#define ID2   "2222222222222222222222222222222222222222222222222222222222222222"
#define ID3   "3333333333333333333333333333333333333333333333333333333333333333"
#define CID_A "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define CID_B "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
#define CID_C "cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc"

static int setup_dir(void **state)
{
    (void)state;
    snprintf(g_dir, sizeof g_dir, "/tmp/lf-ctr-XXXXXX");
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

static void mkdirs(const char *rel)
{
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "mkdir -p '%s/%s'", g_dir, rel);
    assert_int_equal(system(cmd), 0);
}

static void append(const char *rel, const char *text)
{
    char p[600];
    snprintf(p, sizeof p, "%s/%s", g_dir, rel);
    int fd = open(p, O_WRONLY | O_CREAT | O_APPEND, 0644);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
}

static void put_file(const char *rel, const char *text)
{
    char p[600];
    snprintf(p, sizeof p, "%s/%s", g_dir, rel);
    FILE *f = fopen(p, "w");
    assert_non_null(f);
    assert_int_equal(fputs(text, f) >= 0, 1);
    assert_int_equal(fclose(f), 0);
}

static void rename_rel(const char *from, const char *to)
{
    char a[600], b[600];
    snprintf(a, sizeof a, "%s/%s", g_dir, from);
    snprintf(b, sizeof b, "%s/%s", g_dir, to);
    assert_int_equal(rename(a, b), 0);
}

static void set(const lf_agent_input_type *t, void *cfg, const char *name, const char *value)
{
    lf_error err = {0};
    if (lf_options_set(t->options, t->n_options, cfg, name, value, &err) != LF_OK)
        fail_msg("%s: %s", name, err.message);
}

static void *new_config(const lf_agent_input_type *t)
{
    void *cfg = calloc(1, t->config_size);
    assert_non_null(cfg);
    assert_int_equal(lf_options_defaults(t->options, t->n_options, cfg, NULL), LF_OK);
    set(t, cfg, "poll_interval", "30ms");
    set(t, cfg, "rotate_wait", "200ms");
    set(t, cfg, "read_from_head", "true");
    return cfg;
}

static void free_config(const lf_agent_input_type *t, void *cfg)
{
    lf_options_free(t->options, t->n_options, cfg);
    free(cfg);
}

static lf_agent_input *make(const lf_agent_input_type *t, void *cfg, const char *name)
{
    lf_agent_input_common common = {.name = name, .state_dir = g_state, .stop = &g_stop};
    lf_agent_input *in = NULL;
    lf_error err = {0};
    assert_int_equal(t->validate(cfg, &err), LF_OK);
    if (t->create(&common, cfg, &in, &err) != LF_OK)
        fail_msg("create: %s", err.message);
    return in;
}

static bool next_event(lf_agent_input *in, lf_agent_event *ev, int limit_ms)
{
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    for (;;) {
        lf_agent_event_reset(ev);
        lf_error err = {0};
        lf_err e = in->vt->next(in, ev, 50, &err);
        if (e == LF_OK)
            return true;
        if (e != LF_ERR_NOT_FOUND)
            fail_msg("next: %s", err.message);
        clock_gettime(CLOCK_MONOTONIC, &b);
        if ((b.tv_sec - a.tv_sec) * 1000 + (b.tv_nsec - a.tv_nsec) / 1000000 > limit_ms)
            return false;
    }
}

static void expect_msg(lf_agent_input *in, lf_agent_event *ev, const char *want)
{
    if (!next_event(in, ev, 3000))
        fail_msg("no event; wanted '%s'", want);
    if (ev->message_len != strlen(want) || memcmp(ev->message, want, ev->message_len) != 0)
        fail_msg("got '%.*s', wanted '%s'", (int)ev->message_len, ev->message, want);
}

static void expect_none(lf_agent_input *in, lf_agent_event *ev, int ms)
{
    if (next_event(in, ev, ms))
        fail_msg("unexpected event '%.*s'", (int)ev->message_len, ev->message);
}

static void expect_label(const lf_agent_event *ev, const char *key, const char *want)
{
    const char *v = lf_agent_event_label(ev, key);
    if (!v || strcmp(v, want) != 0)
        fail_msg("label %s = '%s', wanted '%s'", key, v ? v : "(none)", want);
}

/* ---------------- parsers ---------------- */

static void test_parse_cri(void **state)
{
    (void)state;
    lf_agent_event ev = {0};
    static const char line[] = "2024-01-02T03:04:05.123456789Z stderr F hello world";
    assert_int_equal(lf_parse_cri(line, strlen(line), &ev, NULL), LF_OK);
    assert_int_equal(ev.ts_ns, 1704164645123456789LL);
    assert_false(ev.partial);
    assert_int_equal(ev.message_len, 11);
    assert_ptr_equal(ev.message, line + 40); /* borrowed */
    expect_label(&ev, "stream", "stderr");

    lf_agent_event_reset(&ev);
    static const char p[] = "2024-01-02T05:04:05.5+02:00 stdout P:x,y part";
    assert_int_equal(lf_parse_cri(p, strlen(p), &ev, NULL), LF_OK);
    assert_int_equal(ev.ts_ns, 1704164645500000000LL);
    assert_true(ev.partial);
    assert_memory_equal(ev.message, "part", 4);

    /* Empty messages, with and without the space. */
    static const char e1[] = "2024-01-02T03:04:05Z stdout F";
    static const char e2[] = "2024-01-02T03:04:05Z stdout F ";
    lf_agent_event_reset(&ev);
    assert_int_equal(lf_parse_cri(e1, strlen(e1), &ev, NULL), LF_OK);
    assert_int_equal(ev.message_len, 0);
    lf_agent_event_reset(&ev);
    assert_int_equal(lf_parse_cri(e2, strlen(e2), &ev, NULL), LF_OK);
    assert_int_equal(ev.message_len, 0);

    /* Not CRI: the event is left exactly as given. */
    static const char *const bad[] = {
        "",
        "hello",
        "2024-01-02T03:04:05Z stdin F x",
        "2024-01-02T03:04:05Z stdout X x",
        "2024-01-02T03:04:05Z stdout Fx x",
        "2024-13-02T03:04:05Z stdout F x",
        "yesterday stdout F x",
        " stdout F x",
        "2024-01-02T03:04:05Z stdout",
        "{\"log\":\"x\\n\"}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        lf_agent_event_reset(&ev);
        ev.message = "kept";
        ev.message_len = 4;
        ev.ts_ns = 7;
        lf_error err = {0};
        assert_int_equal(lf_parse_cri(bad[i], strlen(bad[i]), &ev, &err), LF_ERR_INVALID);
        assert_true(err.message[0] != '\0');
        assert_string_equal(ev.message, "kept");
        assert_int_equal(ev.ts_ns, 7);
        assert_int_equal(ev.n_labels, 0);
        assert_false(ev.partial);
    }
    lf_agent_event_free(&ev);
}

static void test_parse_docker(void **state)
{
    (void)state;
    lf_agent_event ev = {0};
    static const char line[] = "{\"log\":\"caf\\u00e9 \\\"q\\\"\\tend\\n\",\"stream\":\"stderr\","
                               "\"time\":\"2024-01-02T03:04:05.000000001Z\"}";
    assert_int_equal(lf_parse_docker(line, strlen(line), &ev, NULL), LF_OK);
    assert_int_equal(ev.message_len, strlen("café \"q\"\tend"));
    assert_memory_equal(ev.message, "café \"q\"\tend", ev.message_len);
    assert_ptr_equal(ev.message, ev.message_buf.data); /* unescaped copy */
    assert_false(ev.partial);
    assert_int_equal(ev.ts_ns, 1704164645000000001LL);
    expect_label(&ev, "stream", "stderr");

    lf_agent_event_reset(&ev);
    static const char part[] = "{\"log\":\"no newline\",\"stream\":\"stdout\",\"time\":\"x\","
                               "\"attrs\":{\"tag\":\"web\",\"n\":1}}";
    assert_int_equal(lf_parse_docker(part, strlen(part), &ev, NULL), LF_OK);
    assert_true(ev.partial);
    assert_int_equal(ev.ts_ns, 0); /* bad time: kept, time unknown */
    expect_label(&ev, "tag", "web");
    assert_null(lf_agent_event_label(&ev, "n"));

    /* An embedded NUL survives unescaping. */
    lf_agent_event_reset(&ev);
    static const char nul[] = "{\"log\":\"a\\u0000b\\n\"}";
    assert_int_equal(lf_parse_docker(nul, strlen(nul), &ev, NULL), LF_OK);
    assert_int_equal(ev.message_len, 3);
    assert_memory_equal(ev.message, "a\0b", 3);

    static const char *const bad[] = {
        "",
        "plain text",
        "{",
        "[1,2]",
        "{\"stream\":\"x\"}",
        "{\"log\":5}",
        "{\"log\":\"x\\n\"} trailing",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        lf_agent_event_reset(&ev);
        ev.message = "kept";
        ev.message_len = 4;
        assert_int_equal(lf_parse_docker(bad[i], strlen(bad[i]), &ev, NULL), LF_ERR_INVALID);
        assert_string_equal(ev.message, "kept");
        assert_int_equal(ev.n_labels, 0);
        assert_int_equal(ev.message_buf.len, 0);
    }
    lf_agent_event_free(&ev);
}

/* ---------------- docker ---------------- */

static void docker_container(const char *id, const char *name, const char *labels_json)
{
    char rel[300], text[1024];
    snprintf(rel, sizeof rel, "docker/containers/%s", id);
    mkdirs(rel);
    snprintf(rel, sizeof rel, "docker/containers/%s/config.v2.json", id);
    snprintf(text, sizeof text,
             "{\"ID\":\"%s\",\"Name\":\"/%s\",\"Image\":\"sha256:feed\",\"Config\":"
             "{\"Image\":\"shop/%s:1.2\",\"Labels\":%s}}",
             id, name, name, labels_json);
    put_file(rel, text);
}

static void docker_log(const char *id, const char *stream, const char *log_json_escaped)
{
    char rel[300], line[70000];
    snprintf(rel, sizeof rel, "docker/containers/%s/%s-json.log", id, id);
    snprintf(line, sizeof line,
             "{\"log\":\"%s\",\"stream\":\"%s\",\"time\":\"2024-01-02T03:04:05.25Z\"}\n",
             log_json_escaped, stream);
    append(rel, line);
}

static void *docker_config(void)
{
    const lf_agent_input_type *t = &lf_agent_input_type_docker;
    void *cfg = new_config(t);
    char root[400];
    snprintf(root, sizeof root, "%s/docker", g_dir);
    set(t, cfg, "data_root", root);
    set(t, cfg, "partial_flush_timeout", "300ms");
    return cfg;
}

static void test_docker_input(void **state)
{
    (void)state;
    const lf_agent_input_type *t = &lf_agent_input_type_docker;
    docker_container(ID1, "web", "{\"com.docker.compose.project\":\"shop\",\"other\":\"x\"}");
    docker_log(ID1, "stdout", "hello\\n");
    void *cfg = docker_config();
    set(t, cfg, "containers.exclude", "db*");
    lf_agent_input *in = make(t, cfg, "dock");
    lf_agent_event ev = {0};
    expect_msg(in, &ev, "hello");
    expect_label(&ev, "container_id", "111111111111");
    expect_label(&ev, "container_name", "web");
    expect_label(&ev, "image", "shop/web:1.2");
    expect_label(&ev, "stream", "stdout");
    expect_label(&ev, "label.com.docker.compose.project", "shop");
    assert_null(lf_agent_event_label(&ev, "label.other")); /* not in container_labels */
    assert_string_equal(ev.source, "web");
    assert_int_equal(ev.ts_ns, 1704164645250000000LL);

    /* Split lines are joined per stream, even when the other stream interleaves. */
    docker_log(ID1, "stdout", "part1 ");
    docker_log(ID1, "stderr", "err line\\n");
    docker_log(ID1, "stdout", "part2 ");
    docker_log(ID1, "stdout", "end\\n");
    expect_msg(in, &ev, "err line");
    expect_label(&ev, "stream", "stderr");
    expect_msg(in, &ev, "part1 part2 end");
    expect_label(&ev, "stream", "stdout");
    expect_label(&ev, "container_name", "web");
    assert_null(lf_agent_event_label(&ev, "split"));

    /* Containers that start while running are read from their start; an excluded one never. */
    docker_container(ID3, "db1", "{}");
    docker_log(ID3, "stdout", "secret db line\\n");
    docker_container(ID2, "api", "null");
    docker_log(ID2, "stderr", "api up\\n");
    expect_msg(in, &ev, "api up");
    expect_label(&ev, "container_name", "api");
    expect_label(&ev, "container_id", "222222222222");
    expect_none(in, &ev, 300);

    /* A split line that never gets its end is emitted after the timeout, labelled. */
    docker_log(ID2, "stdout", "dangling");
    expect_msg(in, &ev, "dangling");
    expect_label(&ev, "split", "timeout");
    expect_label(&ev, "container_name", "api");
    lf_buf m = LF_BUF_INIT;
    in->vt->write_metrics(in, &m);
    assert_int_equal(lf_buf_terminate(&m), LF_OK);
    assert_non_null(
        strstr((char *)m.data, "logflux_agent_container_split_timeout_total{input=\"dock\"} 1"));
    assert_non_null(
        strstr((char *)m.data, "logflux_agent_docker_containers_filtered_total{input=\"dock\"} "));
    lf_buf_free(&m);
    in->vt->destroy(in);
    lf_agent_event_free(&ev);
    free_config(t, cfg);
}

static void test_docker_partial_max(void **state)
{
    (void)state;
    const lf_agent_input_type *t = &lf_agent_input_type_docker;
    docker_container(ID1, "big", "{}");
    void *cfg = docker_config();
    set(t, cfg, "max_partial_bytes", "16KiB");
    lf_agent_input *in = make(t, cfg, "dock");
    lf_agent_event ev = {0};
    expect_none(in, &ev, 100);
    /* 5 pieces of 9000 bytes, the last with its newline: 45000 bytes in 16 KiB chunks. */
    static char piece[9003];
    for (int k = 0; k < 5; k++) {
        for (int i = 0; i < 9000; i++)
            piece[i] = (char)('a' + (i + k) % 26);
        strcpy(piece + 9000, k == 4 ? "\\n" : "");
        docker_log(ID1, "stdout", piece);
    }
    size_t total = 0, events = 0;
    while (total < 45000 && next_event(in, &ev, 3000)) {
        assert_true(ev.message_len <= 16384);
        /* every byte is where it was written */
        for (size_t i = 0; i < ev.message_len; i++) {
            size_t at = total + i, k = at / 9000, off = at % 9000;
            if (ev.message[i] != (char)('a' + (off + k) % 26))
                fail_msg("byte %zu wrong", at);
        }
        total += ev.message_len;
        events++;
        const char *split = lf_agent_event_label(&ev, "split");
        if (total < 45000)
            assert_string_equal(split, "max_bytes");
        else
            assert_null(split);
    }
    assert_int_equal(total, 45000);
    assert_int_equal(events, 3);
    in->vt->destroy(in);
    lf_agent_event_free(&ev);
    free_config(t, cfg);
}

typedef struct writer_arg {
    const char *id;
    int count;
} writer_arg;

static void *docker_writer(void *p)
{
    writer_arg *w = p;
    char text[64];
    for (int i = 0; i < w->count; i++) {
        snprintf(text, sizeof text, "line-%05d\\n", i);
        docker_log(w->id, "stdout", text);
        if (i % 100 == 50) {
            /* Docker's own rotation: rename, the next write goes to a new file. */
            char from[300], to[300];
            snprintf(from, sizeof from, "docker/containers/%s/%s-json.log", w->id, w->id);
            snprintf(to, sizeof to, "docker/containers/%s/%s-json.log.%d", w->id, w->id, i);
            rename_rel(from, to);
        }
        /* ~200 ms per file: Docker rotates at max-size, so a log file lives for many
         * scans (a file that lives less than one scan is a documented limit of the tail) */
        usleep(2000);
    }
    return NULL;
}

static void test_docker_rotation(void **state)
{
    (void)state;
    const lf_agent_input_type *t = &lf_agent_input_type_docker;
    docker_container(ID1, "rot", "{}");
    docker_log(ID1, "stdout", "first\\n");
    void *cfg = docker_config();
    lf_agent_input *in = make(t, cfg, "dock");
    lf_agent_event ev = {0};
    expect_msg(in, &ev, "first");
    writer_arg w = {ID1, 400};
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, docker_writer, &w), 0);
    static bool seen[400];
    memset(seen, 0, sizeof seen);
    int got = 0;
    while (got < 400 && next_event(in, &ev, 5000)) {
        int n;
        char buf[32];
        snprintf(buf, sizeof buf, "%.*s", (int)ev.message_len, ev.message);
        assert_int_equal(sscanf(buf, "line-%05d", &n), 1);
        assert_true(n >= 0 && n < 400);
        if (seen[n])
            fail_msg("line %d twice", n);
        seen[n] = true;
        got++;
        expect_label(&ev, "container_name", "rot");
    }
    pthread_join(th, NULL);
    assert_int_equal(got, 400);
    expect_none(in, &ev, 300);
    in->vt->destroy(in);
    lf_agent_event_free(&ev);
    free_config(t, cfg);
}

/* ---------------- kubernetes ---------------- */

/* /var/log/pods/<ns>_<pod>_<uid>/<container>/0.log and its /var/log/containers link. */
static void k8s_pod(const char *ns, const char *pod, const char *container, const char *cid)
{
    char rel[300], target[800], link[800];
    snprintf(rel, sizeof rel, "pods/%s_%s_uid-%s/%s", ns, pod, pod, container);
    mkdirs(rel);
    mkdirs("containers");
    snprintf(target, sizeof target, "%s/%s/0.log", g_dir, rel);
    int fd = open(target, O_WRONLY | O_CREAT | O_APPEND, 0644);
    assert_true(fd >= 0);
    close(fd);
    snprintf(link, sizeof link, "%s/containers/%s_%s_%s-%s.log", g_dir, pod, ns, container, cid);
    assert_int_equal(symlink(target, link), 0);
}

static void k8s_write(const char *ns, const char *pod, const char *container, const char *text)
{
    char rel[600];
    snprintf(rel, sizeof rel, "pods/%s_%s_uid-%s/%s/0.log", ns, pod, pod, container);
    append(rel, text);
}

static void *k8s_config(void)
{
    const lf_agent_input_type *t = &lf_agent_input_type_kubernetes;
    void *cfg = new_config(t);
    char glob[400];
    snprintf(glob, sizeof glob, "%s/containers/*.log", g_dir);
    set(t, cfg, "paths", glob);
    set(t, cfg, "partial_flush_timeout", "300ms");
    return cfg;
}

static void test_k8s_log_name(void **state)
{
    (void)state;
    lf_k8s_log_name n;
    assert_true(lf_k8s_parse_log_name("/var/log/containers/web-7d9f_shop_nginx-" CID_A ".log", &n));
    assert_int_equal(n.pod_len, 8);
    assert_memory_equal(n.pod, "web-7d9f", 8);
    assert_memory_equal(n.ns, "shop", n.ns_len);
    assert_memory_equal(n.container, "nginx", n.container_len);
    assert_int_equal(n.container_len, 5);
    assert_memory_equal(n.container_id, CID_A, 64);
    /* container names may contain '-' */
    assert_true(lf_k8s_parse_log_name("p_ns_side-car-" CID_A ".log", &n));
    assert_memory_equal(n.container, "side-car", n.container_len);
    assert_false(lf_k8s_parse_log_name("/x/p_ns_c-" CID_A ".txt", &n));
    assert_false(lf_k8s_parse_log_name("/x/p_ns_c-abc.log", &n));
    assert_false(lf_k8s_parse_log_name("/x/_ns_c-" CID_A ".log", &n));
    assert_false(lf_k8s_parse_log_name("/x/p__c-" CID_A ".log", &n));
    assert_false(lf_k8s_parse_log_name("/x/p_ns_-" CID_A ".log", &n));
    assert_false(lf_k8s_parse_log_name("/x/p_ns_c_d-" CID_A ".log", &n));
    assert_false(lf_k8s_parse_log_name("/x/pns.log", &n));
}

static void test_k8s_input(void **state)
{
    (void)state;
    const lf_agent_input_type *t = &lf_agent_input_type_kubernetes;
    k8s_pod("shop", "web-1", "nginx", CID_A);
    k8s_pod("kube-system", "dns-1", "coredns", CID_B);
    k8s_write("shop", "web-1", "nginx", "2024-01-02T03:04:05.000000001Z stdout F ready\n");
    k8s_write("kube-system", "dns-1", "coredns", "2024-01-02T03:04:05Z stdout F dns noise\n");
    void *cfg = k8s_config();
    set(t, cfg, "namespaces.exclude", "kube-*");
    lf_agent_input *in = make(t, cfg, "k8s");
    lf_agent_event ev = {0};
    expect_msg(in, &ev, "ready");
    expect_label(&ev, "namespace", "shop");
    expect_label(&ev, "pod", "web-1");
    expect_label(&ev, "container", "nginx");
    expect_label(&ev, "container_id", "aaaaaaaaaaaa");
    expect_label(&ev, "stream", "stdout");
    assert_string_equal(ev.source, "shop/web-1/nginx");
    assert_int_equal(ev.ts_ns, 1704164645000000001LL);

    /* P pieces joined up to F; stderr interleaves without breaking the join. */
    k8s_write("shop", "web-1", "nginx",
              "2024-01-02T03:04:06Z stdout P first \n"
              "2024-01-02T03:04:06Z stderr F oops\n"
              "2024-01-02T03:04:07Z stdout P second \n"
              "2024-01-02T03:04:08Z stdout F third\n");
    expect_msg(in, &ev, "oops");
    expect_label(&ev, "stream", "stderr");
    expect_msg(in, &ev, "first second third");
    assert_int_equal(ev.ts_ns, 1704164646000000000LL); /* the first piece's time */
    expect_label(&ev, "pod", "web-1");

    /* A pod that starts later, writing Docker json lines (auto format). */
    k8s_pod("shop", "api-2", "app", CID_C);
    k8s_write("shop", "api-2", "app",
              "{\"log\":\"json \",\"stream\":\"stdout\",\"time\":\"2024-01-02T03:04:09Z\"}\n"
              "{\"log\":\"line\\n\",\"stream\":\"stdout\",\"time\":\"2024-01-02T03:04:09Z\"}\n");
    expect_msg(in, &ev, "json line");
    expect_label(&ev, "pod", "api-2");
    expect_label(&ev, "container_id", "cccccccccccc");

    /* kubelet rotation: 0.log renamed, a new 0.log behind the same link. */
    k8s_write("shop", "web-1", "nginx", "2024-01-02T03:04:10Z stdout F before rotation\n");
    char from[300];
    snprintf(from, sizeof from, "pods/shop_web-1_uid-web-1/nginx/0.log");
    rename_rel(from, "pods/shop_web-1_uid-web-1/nginx/0.log.20240102-030410");
    k8s_write("shop", "web-1", "nginx", "2024-01-02T03:04:11Z stdout F after rotation\n");
    expect_msg(in, &ev, "before rotation");
    expect_msg(in, &ev, "after rotation");
    expect_label(&ev, "container", "nginx");

    /* Not CRI and not JSON: kept whole. */
    k8s_write("shop", "web-1", "nginx", "garbage line\n");
    expect_msg(in, &ev, "garbage line");
    assert_null(lf_agent_event_label(&ev, "stream"));
    expect_label(&ev, "namespace", "shop");
    expect_none(in, &ev, 300); /* kube-system was never read */
    lf_buf m = LF_BUF_INIT;
    in->vt->write_metrics(in, &m);
    assert_int_equal(lf_buf_terminate(&m), LF_OK);
    assert_non_null(
        strstr((char *)m.data, "logflux_agent_container_unparsed_lines_total{input=\"k8s\"} 1"));
    lf_buf_free(&m);
    in->vt->destroy(in);
    lf_agent_event_free(&ev);
    free_config(t, cfg);
}

static void test_k8s_namespace_include(void **state)
{
    (void)state;
    const lf_agent_input_type *t = &lf_agent_input_type_kubernetes;
    k8s_pod("shop", "web-1", "nginx", CID_A);
    k8s_pod("billing", "pay-1", "app", CID_B);
    k8s_write("shop", "web-1", "nginx", "2024-01-02T03:04:05Z stdout F from shop\n");
    k8s_write("billing", "pay-1", "app", "2024-01-02T03:04:05Z stdout F from billing\n");
    void *cfg = k8s_config();
    set(t, cfg, "namespaces.include", "bill*");
    set(t, cfg, "format", "cri");
    lf_agent_input *in = make(t, cfg, "k8s");
    lf_agent_event ev = {0};
    expect_msg(in, &ev, "from billing");
    expect_none(in, &ev, 300);
    in->vt->destroy(in);
    lf_agent_event_free(&ev);
    free_config(t, cfg);
}

/* Crash between "batch appended" and commit, with a split line held at that moment. */
static void test_k8s_restore_after_crash(void **state)
{
    (void)state;
    const lf_agent_input_type *t = &lf_agent_input_type_kubernetes;
    k8s_pod("shop", "web-1", "nginx", CID_A);
    k8s_write("shop", "web-1", "nginx",
              "2024-01-02T03:04:05Z stdout F one\n"
              "2024-01-02T03:04:05Z stdout F two\n");
    void *cfg = k8s_config();
    set(t, cfg, "partial_flush_timeout", "10s");
    lf_agent_input *in = make(t, cfg, "k8s");
    lf_agent_event ev = {0};
    lf_buf c1 = LF_BUF_INIT, c2 = LF_BUF_INIT;
    expect_msg(in, &ev, "one");
    assert_int_equal(in->vt->cursor(in, &c1, NULL), LF_OK);
    assert_int_equal(in->vt->commit(in, NULL), LF_OK);
    expect_msg(in, &ev, "two");
    /* "three" is complete, "head " is held waiting for its F when the batch is sealed. */
    k8s_write("shop", "web-1", "nginx",
              "2024-01-02T03:04:06Z stdout P head \n"
              "2024-01-02T03:04:06Z stderr F three\n");
    expect_msg(in, &ev, "three");
    assert_int_equal(in->vt->cursor(in, &c2, NULL), LF_OK);
    in->vt->destroy(in); /* crash: c2 is in the buffer, the checkpoint still says "one" */

    k8s_write("shop", "web-1", "nginx", "2024-01-02T03:04:07Z stdout F tail\n");
    in = make(t, cfg, "k8s");
    assert_int_equal(in->vt->restore(in, c2.data, c2.len, NULL), LF_OK);
    /* "two" is not repeated; the held piece is read again and joined with its end. "three"
     * comes again: the cursor could not pass the held piece before it (at-least-once). */
    expect_msg(in, &ev, "three");
    expect_msg(in, &ev, "head tail");
    expect_none(in, &ev, 300);
    assert_int_equal(in->vt->commit(in, NULL), LF_OK);
    in->vt->destroy(in);

    /* The stale cursor c1 does not move the checkpoint back. */
    in = make(t, cfg, "k8s");
    assert_int_equal(in->vt->restore(in, c1.data, c1.len, NULL), LF_OK);
    expect_none(in, &ev, 300);
    in->vt->destroy(in);
    lf_buf_free(&c1);
    lf_buf_free(&c2);
    lf_agent_event_free(&ev);
    free_config(t, cfg);
}

static void test_docker_restore_after_crash(void **state)
{
    (void)state;
    const lf_agent_input_type *t = &lf_agent_input_type_docker;
    docker_container(ID1, "web", "{}");
    docker_log(ID1, "stdout", "a\\n");
    docker_log(ID1, "stdout", "b\\n");
    docker_log(ID1, "stdout", "c\\n");
    void *cfg = docker_config();
    lf_agent_input *in = make(t, cfg, "dock");
    lf_agent_event ev = {0};
    lf_buf cur = LF_BUF_INIT;
    expect_msg(in, &ev, "a");
    assert_int_equal(in->vt->commit(in, NULL), LF_OK);
    expect_msg(in, &ev, "b");
    expect_msg(in, &ev, "c");
    assert_int_equal(in->vt->cursor(in, &cur, NULL), LF_OK);
    in->vt->destroy(in);
    docker_log(ID1, "stdout", "d\\n");
    in = make(t, cfg, "dock");
    assert_int_equal(in->vt->restore(in, cur.data, cur.len, NULL), LF_OK);
    expect_msg(in, &ev, "d");
    expect_none(in, &ev, 200);
    in->vt->destroy(in);
    lf_buf_free(&cur);
    lf_agent_event_free(&ev);
    free_config(t, cfg);
}

static void test_validate(void **state)
{
    (void)state;
    const lf_agent_input_type *t = &lf_agent_input_type_docker;
    void *cfg = new_config(t);
    lf_error err = {0};
    set(t, cfg, "data_root", "relative");
    assert_int_equal(t->validate(cfg, &err), LF_ERR_INVALID);
    set(t, cfg, "data_root", "/var/lib/doc*er");
    assert_int_equal(t->validate(cfg, &err), LF_ERR_INVALID);
    assert_int_not_equal(
        lf_options_set(t->options, t->n_options, cfg, "container_labels_max", "30", &err), LF_OK);
    free_config(t, cfg);
    t = &lf_agent_input_type_kubernetes;
    cfg = new_config(t);
    assert_int_not_equal(lf_options_set(t->options, t->n_options, cfg, "format", "xml", &err),
                         LF_OK);
    set(t, cfg, "paths", "");
    assert_int_equal(t->validate(cfg, &err), LF_ERR_INVALID);
    free_config(t, cfg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_cri),
        cmocka_unit_test(test_parse_docker),
        cmocka_unit_test(test_k8s_log_name),
        cmocka_unit_test_setup_teardown(test_docker_input, setup_dir, teardown_dir),
        cmocka_unit_test_setup_teardown(test_docker_partial_max, setup_dir, teardown_dir),
        cmocka_unit_test_setup_teardown(test_docker_rotation, setup_dir, teardown_dir),
        cmocka_unit_test_setup_teardown(test_docker_restore_after_crash, setup_dir, teardown_dir),
        cmocka_unit_test_setup_teardown(test_k8s_input, setup_dir, teardown_dir),
        cmocka_unit_test_setup_teardown(test_k8s_namespace_include, setup_dir, teardown_dir),
        cmocka_unit_test_setup_teardown(test_k8s_restore_after_crash, setup_dir, teardown_dir),
        cmocka_unit_test_setup_teardown(test_validate, setup_dir, teardown_dir),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

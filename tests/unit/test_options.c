/*
 * test_options.c — the option-table machinery: defaults, typed parsing with bounds, YAML files
 * (nested and dotted keys, unknown keys and bad values rejected with the line), and the
 * generated Markdown reference.
 */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "options.h"

struct cfg {
    char *listen;
    int64_t threads;
    bool insecure;
    uint64_t max_bytes;
    int64_t flush_ms;
    char *level;
};

static const lf_option table[] = {
    {"listen", LF_OPT_STRING, "127.0.0.1:8443", 0, 0, NULL, offsetof(struct cfg, listen),
     "Address to bind."},
    {"http.threads", LF_OPT_INT, "8", 1, 256, NULL, offsetof(struct cfg, threads), "Threads."},
    {"insecure_http", LF_OPT_BOOL, "false", 0, 0, NULL, offsetof(struct cfg, insecure),
     "Plain HTTP."},
    {"spool.max_bytes", LF_OPT_SIZE, "1GiB", 1024, 0x7fffffffffffffffLL, NULL,
     offsetof(struct cfg, max_bytes), "Spool bound."},
    {"worker.flush_interval", LF_OPT_DURATION, "5s", 10, 3600000, NULL,
     offsetof(struct cfg, flush_ms), "Flush age."},
    {"log.level", LF_OPT_ENUM, "info", 0, 0, "debug|info|warn|error", offsetof(struct cfg, level),
     "Log level."},
};
#define N (sizeof table / sizeof *table)

static char *write_temp(const char *text)
{
    char *path = strdup("/tmp/lf-options-XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    return path;
}

static void test_defaults_and_set(void **state)
{
    (void)state;
    struct cfg c = {0};
    assert_int_equal(lf_options_defaults(table, N, &c, NULL), LF_OK);
    assert_string_equal(c.listen, "127.0.0.1:8443");
    assert_int_equal(c.threads, 8);
    assert_false(c.insecure);
    assert_true(c.max_bytes == 1073741824ull);
    assert_int_equal(c.flush_ms, 5000);
    assert_string_equal(c.level, "info");

    lf_error err = {0};
    assert_int_equal(lf_options_set(table, N, &c, "http.threads", "300", &err), LF_ERR_INVALID);
    assert_non_null(strstr(err.message, "http.threads"));
    assert_int_equal(c.threads, 8); /* unchanged on error */
    assert_int_equal(lf_options_set(table, N, &c, "http.threads", "12x", &err), LF_ERR_INVALID);
    assert_int_equal(lf_options_set(table, N, &c, "http.threads", "16", &err), LF_OK);
    assert_int_equal(c.threads, 16);
    assert_int_equal(lf_options_set(table, N, &c, "log.level", "trace", &err), LF_ERR_INVALID);
    assert_non_null(strstr(err.message, "debug|info|warn|error"));
    assert_int_equal(lf_options_set(table, N, &c, "nope", "1", &err), LF_ERR_NOT_FOUND);
    assert_int_equal(lf_options_set(table, N, &c, "spool.max_bytes", "10", &err), LF_ERR_INVALID);
    lf_options_free(table, N, &c);
    assert_null(c.listen);
}

static void test_parsers(void **state)
{
    (void)state;
    uint64_t sz;
    assert_int_equal(lf_parse_size("10MiB", &sz, NULL), LF_OK);
    assert_true(sz == 10485760ull);
    assert_int_equal(lf_parse_size("1.5 KiB", &sz, NULL), LF_OK);
    assert_true(sz == 1536);
    assert_int_equal(lf_parse_size("2GB", &sz, NULL), LF_OK);
    assert_true(sz == 2000000000ull);
    assert_int_equal(lf_parse_size("-1", &sz, NULL), LF_ERR_INVALID);
    assert_int_equal(lf_parse_size("12 parsecs", &sz, NULL), LF_ERR_INVALID);
    assert_int_equal(lf_parse_size("1e30", &sz, NULL), LF_ERR_INVALID);
    int64_t ms;
    assert_int_equal(lf_parse_duration_ms("250ms", &ms, NULL), LF_OK);
    assert_int_equal(ms, 250);
    assert_int_equal(lf_parse_duration_ms("2m", &ms, NULL), LF_OK);
    assert_int_equal(ms, 120000);
    assert_int_equal(lf_parse_duration_ms("7d", &ms, NULL), LF_OK);
    assert_int_equal(ms, 604800000);
    assert_int_equal(lf_parse_duration_ms("5", &ms, NULL), LF_ERR_INVALID); /* unit required */
    bool b;
    assert_int_equal(lf_parse_bool("On", &b, NULL), LF_OK);
    assert_true(b);
    assert_int_equal(lf_parse_bool("maybe", &b, NULL), LF_ERR_INVALID);
}

static void test_yaml(void **state)
{
    (void)state;
    struct cfg c = {0};
    assert_int_equal(lf_options_defaults(table, N, &c, NULL), LF_OK);
    char *path = write_temp("# comment\nlisten: \"[::1]:9443\"\nhttp:\n  threads: 4\n"
                            "spool.max_bytes: 2GiB\nworker: {flush_interval: 500ms}\n");
    lf_error err = {0};
    if (lf_options_load_yaml(table, N, &c, path, &err) != LF_OK)
        fail_msg("%s", err.message);
    assert_string_equal(c.listen, "[::1]:9443");
    assert_int_equal(c.threads, 4);
    assert_true(c.max_bytes == 2147483648ull);
    assert_int_equal(c.flush_ms, 500);
    unlink(path);
    free(path);

    struct {
        const char *text;
        const char *needle;
    } bad[] = {
        {"listen: a\nspool:\n  max_byte: 1GiB\n", ":3: unknown option 'spool.max_byte'"},
        {"http:\n  threads: 0\n", ":2: http.threads"},
        {"listen: [a, b]\n", "listen: expected a single value"},
        {"listen: &x a\nlog: {level: *x}\n", "anchors and tags are not supported"},
        {"log: {level: *x}\n", "aliases"},
        {"listen: a\nlisten: b\n", ":2: duplicate key 'listen'"},
        {"listen: a\n  bad indent: b\n", "mapping values are not allowed"},
        {"just a scalar\n", "expected a mapping"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        path = write_temp(bad[i].text);
        memset(&err, 0, sizeof err);
        assert_int_not_equal(lf_options_load_yaml(table, N, &c, path, &err), LF_OK);
        if (strstr(err.message, bad[i].needle) == NULL)
            fail_msg("case %zu: '%s' lacks '%s'", i, err.message, bad[i].needle);
        unlink(path);
        free(path);
    }
    assert_int_equal(lf_options_load_yaml(table, N, &c, "/nonexistent/x.yaml", &err), LF_ERR_IO);
    lf_options_free(table, N, &c);
}

struct lcfg {
    lf_strlist paths;
    lf_strmap labels;
    char *name;
};

static const lf_option ltable[] = {
    {"paths", LF_OPT_STRLIST, "/var/log/a.log\n/var/log/b.log", 0, 0, NULL,
     offsetof(struct lcfg, paths), "Globs."},
    {"labels", LF_OPT_MAP, "env=prod", 0, 0, NULL, offsetof(struct lcfg, labels), "Labels."},
    {"name", LF_OPT_STRING, "x", 0, 0, NULL, offsetof(struct lcfg, name), "Name."},
};
#define LN (sizeof ltable / sizeof *ltable)

typedef struct seen {
    int inputs;
    size_t line;
} seen;

static lf_err on_unknown(void *ctx, const char *name, const lf_cfg_node *node, lf_error *err)
{
    seen *s = ctx;
    if (strcmp(name, "inputs") != 0)
        return LF_ERR_NOT_FOUND;
    if (node->kind != LF_CFG_SEQ)
        return lf_error_set(err, LF_ERR_INVALID, "inputs: expected a list");
    s->inputs = (int)node->n;
    s->line = node->line;
    return LF_OK;
}

/* Lists and maps (defaults, YAML sequences, one scalar as a one-item list), the tree with its
 * line numbers, and keys handed to the caller's handler. */
static void test_tree_lists_maps(void **state)
{
    (void)state;
    struct lcfg c = {0};
    assert_int_equal(lf_options_defaults(ltable, LN, &c, NULL), LF_OK);
    assert_int_equal(c.paths.n, 2);
    assert_string_equal(c.paths.items[1], "/var/log/b.log");
    assert_int_equal(c.labels.n, 1);
    assert_string_equal(c.labels.values[0], "prod");

    const char *text = "name: n1\npaths:\n  - /x/*.log\n  - /y/*.log\n  - /z.log\n"
                       "labels: {team: core, env: dev}\ninputs:\n  - type: tail\n"
                       "  - type: stdin\n";
    lf_cfg_node *root = NULL;
    lf_error err = {0};
    assert_int_equal(lf_cfg_parse_yaml(text, strlen(text), "t.yaml", &root, &err), LF_OK);
    assert_int_equal(root->kind, LF_CFG_MAP);
    const lf_cfg_node *inputs = lf_cfg_get(root, "inputs");
    assert_non_null(inputs);
    assert_int_equal(inputs->kind, LF_CFG_SEQ);
    assert_int_equal(inputs->line, 8);
    assert_string_equal(lf_cfg_get(inputs->items[1], "type")->text, "stdin");
    seen s = {0};
    if (lf_options_apply(ltable, LN, &c, root, "t.yaml", NULL, on_unknown, &s, &err) != LF_OK)
        fail_msg("%s", err.message);
    assert_int_equal(s.inputs, 2);
    assert_int_equal(c.paths.n, 3);
    assert_string_equal(c.paths.items[2], "/z.log");
    assert_int_equal(c.labels.n, 2); /* replaced, not merged with the default */
    assert_string_equal(c.labels.keys[0], "team");
    assert_string_equal(c.labels.values[1], "dev");
    lf_cfg_free(root);

    struct {
        const char *text;
        const char *needle;
    } cases[] = {
        {"paths: /only.log\n", NULL},
        {"paths: [[a]]\n", "t.yaml:1: in[0].paths: list items must be scalars"},
        {"labels: [a]\n", "in[0].labels: expected a mapping of strings"},
        {"labels: {a: {b: c}}\n", "labels.a: values must be scalars"},
        {"name: [a]\n", "expected a single value"},
        {"other: [a]\n", "t.yaml:1: unknown option 'in[0].other'"},
        {"inputs: 3\n", "inputs: expected a list"},
        {"a: b\n---\nc: d\n", "only one YAML document"},
        {"!!str x: y\n", "anchors and tags"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        memset(&err, 0, sizeof err);
        root = NULL;
        lf_err rc = lf_cfg_parse_yaml(cases[i].text, strlen(cases[i].text), "t.yaml", &root, &err);
        if (rc == LF_OK)
            rc = lf_options_apply(ltable, LN, &c, root, "t.yaml", "in[0].", on_unknown, &s, &err);
        lf_cfg_free(root);
        if (cases[i].needle == NULL) {
            if (rc != LF_OK)
                fail_msg("case %zu: %s", i, err.message);
            assert_int_equal(c.paths.n, 1);
            assert_string_equal(c.paths.items[0], "/only.log");
            continue;
        }
        assert_int_not_equal(rc, LF_OK);
        if (strstr(err.message, cases[i].needle) == NULL)
            fail_msg("case %zu: '%s' lacks '%s'", i, err.message, cases[i].needle);
    }
    lf_options_free(ltable, LN, &c);
    assert_null(c.paths.items);
    assert_int_equal(c.labels.n, 0);
}

static void test_markdown(void **state)
{
    (void)state;
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    lf_options_write_markdown(table, N, "Title", "Intro.", f);
    fclose(f);
    assert_non_null(strstr(buf, "# Title"));
    assert_non_null(strstr(buf, "| `http.threads` | integer (1..256) | `8` | Threads. |"));
    assert_non_null(strstr(buf, "| `log.level` | one of `debug\\|info\\|warn\\|error` | `info` |"));
    free(buf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults_and_set),
        cmocka_unit_test(test_parsers),
        cmocka_unit_test(test_yaml),
        cmocka_unit_test(test_markdown),
        cmocka_unit_test(test_tree_lists_maps),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * fuzz_config_yaml.c — libFuzzer target for the configuration reader (src/config/): arbitrary
 * bytes as YAML (lf_cfg_parse_yaml), then the tree applied (lf_options_apply) to a table that
 * holds every option type — STRING, bounded INT, BOOL, bounded SIZE, bounded DURATION, ENUM,
 * STRLIST, MAP, and dotted section names — with a handler for unknown keys that claims some,
 * refuses some and passes the rest on.
 *
 * What must hold, whatever the bytes: no crash, no leak, no hang; a parsed tree is well formed
 * (a MAP has one key per item, no NULL child, every line >= 1); after apply, success or not,
 * every number lies inside its bounds and every ENUM holds one of its choices (a refused value
 * never lands in the config); errors carry a message; the config frees cleanly.
 *
 * Scalars of the tree are also fed to the value parsers one by one (lf_options_set on each
 * option), so the size/duration/bool/int parsers see the fuzzer's strings even when the YAML
 * around them does not name an option.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "options.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct fuzz_config {
    char *name;
    int64_t count;
    bool enabled;
    uint64_t max_bytes;
    int64_t wait_ms;
    char *mode;
    lf_strlist paths;
    lf_strmap labels;
    int64_t free_int; /* INT without bounds */
    char *nested;
} fuzz_config;

#define F(field) offsetof(fuzz_config, field)
static const lf_option table[] = {
    {"name", LF_OPT_STRING, "default", 0, 0, NULL, F(name), "a string"},
    {"count", LF_OPT_INT, "10", -5, 1000, NULL, F(count), "bounded integer"},
    {"enabled", LF_OPT_BOOL, "true", 0, 0, NULL, F(enabled), "a boolean"},
    {"limits.max_bytes", LF_OPT_SIZE, "1MiB", 1024, 1LL << 40, NULL, F(max_bytes), "size"},
    {"limits.wait", LF_OPT_DURATION, "1s", 1, 86400000, NULL, F(wait_ms), "duration"},
    {"mode", LF_OPT_ENUM, "fast", 0, 0, "fast|safe|off", F(mode), "enum"},
    {"paths", LF_OPT_STRLIST, "/a\n/b", 0, 0, NULL, F(paths), "list"},
    {"labels", LF_OPT_MAP, "env=test\nteam=core", 0, 0, NULL, F(labels), "map"},
    {"free_int", LF_OPT_INT, NULL, 0, 0, NULL, F(free_int), "unbounded integer"},
    {"a.b.c.nested", LF_OPT_STRING, NULL, 0, 0, NULL, F(nested), "deep section"},
};
#undef F
#define TABLE_N (sizeof table / sizeof *table)

/* Keys starting with "x-" are claimed, "reject" fails, the rest is unknown. */
static lf_err on_unknown(void *ctx, const char *name, const lf_cfg_node *node, lf_error *err)
{
    size_t *claimed = ctx;
    if (name == NULL || node == NULL)
        abort();
    if (strncmp(name, "x-", 2) == 0) {
        (*claimed)++;
        return LF_OK;
    }
    if (strcmp(name, "reject") == 0)
        return lf_error_set(err, LF_ERR_INVALID, "rejected by the handler");
    return LF_ERR_NOT_FOUND;
}

static void check_tree(const lf_cfg_node *n, int depth)
{
    if (n == NULL || n->line == 0 || depth > 64)
        abort();
    switch (n->kind) {
    case LF_CFG_SCALAR:
        if (n->text == NULL || n->n != 0)
            abort();
        return;
    case LF_CFG_MAP:
        for (size_t i = 0; i < n->n; i++) {
            if (n->keys[i] == NULL || n->keys[i][0] == '\0')
                abort();
            if (lf_cfg_get(n, n->keys[i]) != n->items[i]) /* keys are unique */
                abort();
            check_tree(n->items[i], depth + 1);
        }
        return;
    case LF_CFG_SEQ:
        if (n->keys != NULL)
            abort();
        for (size_t i = 0; i < n->n; i++)
            check_tree(n->items[i], depth + 1);
        return;
    }
    abort();
}

static void check_config(const fuzz_config *c)
{
    if (c->name == NULL || c->mode == NULL || c->nested == NULL)
        abort();
    if (c->count < -5 || c->count > 1000)
        abort();
    if (c->max_bytes < 1024 || c->max_bytes > (1ULL << 40))
        abort();
    if (c->wait_ms < 1 || c->wait_ms > 86400000)
        abort();
    if (strcmp(c->mode, "fast") && strcmp(c->mode, "safe") && strcmp(c->mode, "off"))
        abort();
    for (size_t i = 0; i < c->paths.n; i++)
        if (c->paths.items[i] == NULL)
            abort();
    for (size_t i = 0; i < c->labels.n; i++)
        if (c->labels.keys[i] == NULL || c->labels.values[i] == NULL)
            abort();
}

/* Every scalar of the tree (at most `budget`) tried as the value of every option. */
static void feed_scalars(const lf_cfg_node *n, fuzz_config *c, size_t *budget)
{
    if (*budget == 0)
        return;
    if (n->kind == LF_CFG_SCALAR) {
        (*budget)--;
        for (size_t i = 0; i < TABLE_N; i++) {
            lf_error err = {0};
            if (lf_options_set(table, TABLE_N, c, table[i].name, n->text, &err) != LF_OK &&
                err.message[0] == '\0')
                abort();
        }
        uint64_t size;
        int64_t ms;
        bool b;
        (void)lf_parse_size(n->text, &size, NULL);
        (void)lf_parse_duration_ms(n->text, &ms, NULL);
        (void)lf_parse_bool(n->text, &b, NULL);
        check_config(c);
        return;
    }
    for (size_t i = 0; i < n->n; i++)
        feed_scalars(n->items[i], c, budget);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 65536)
        return 0;
    lf_cfg_node *root = NULL;
    lf_error err = {0};
    lf_err rc = lf_cfg_parse_yaml((const char *)data, size, "fuzz.yaml", &root, &err);
    if (rc != LF_OK) {
        if (root != NULL || err.message[0] == '\0')
            abort();
        return 0;
    }
    if (root == NULL || root->kind != LF_CFG_MAP)
        abort();
    check_tree(root, 0);

    fuzz_config cfg;
    memset(&cfg, 0, sizeof cfg);
    if (lf_options_defaults(table, TABLE_N, &cfg, NULL) != LF_OK)
        abort();
    size_t claimed = 0;
    lf_error aerr = {0};
    rc = lf_options_apply(table, TABLE_N, &cfg, root, "fuzz.yaml", (size & 1) ? "x[1]." : NULL,
                          on_unknown, &claimed, &aerr);
    if (rc != LF_OK && aerr.message[0] == '\0')
        abort();
    check_config(&cfg);

    /* The same tree without a handler: every unknown key is an error. */
    lf_options_free(table, TABLE_N, &cfg);
    memset(&cfg, 0, sizeof cfg);
    if (lf_options_defaults(table, TABLE_N, &cfg, NULL) != LF_OK)
        abort();
    (void)lf_options_apply(table, TABLE_N, &cfg, root, "fuzz.yaml", NULL, NULL, NULL, &aerr);
    check_config(&cfg);

    size_t budget = 64;
    feed_scalars(root, &cfg, &budget);
    lf_options_free(table, TABLE_N, &cfg);
    lf_cfg_free(root);
    return 0;
}

/*
 * test_agent_config.c — logflux-agent's configuration: a full file with several input types
 * and parsers loads with the values given and the defaults elsewhere; every kind of mistake is
 * refused with the file, line and key named; the committed docs/CONFIG-AGENT.md is exactly
 * what the tables generate.
 */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config/agent_config.h"

#define HEAD                                                                                       \
    "endpoint: https://127.0.0.1:8443\n"                                                           \
    "tenant: acme\n"                                                                               \
    "app: web\n"                                                                                   \
    "api_key: eu-lf_0123456789abcdef_secret\n"                                                     \
    "public_key_file: /etc/logflux/customer.pub.pem\n"

static lf_err parse(const char *text, lf_agent_config *cfg, lf_error *err)
{
    return lf_agent_config_parse(text, strlen(text), "agent.yaml", cfg, err);
}

static void test_docs_match_tables(void **state)
{
    (void)state;
    char *generated = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&generated, &len);
    lf_agent_config_write_docs(f);
    fclose(f);
    lf_buf committed = lf_test_read_file(LF_VECTORS_DIR "/../../docs/CONFIG-AGENT.md");
    if (committed.len != len || memcmp(committed.data, generated, len) != 0)
        fail_msg("docs/CONFIG-AGENT.md is stale: regenerate it with "
                 "`logflux-agent --config-docs > docs/CONFIG-AGENT.md`");
    /* Every input type has its section. */
    for (size_t i = 0; lf_agent_input_types[i]; i++) {
        char want[64];
        snprintf(want, sizeof want, "### `type: %s`", lf_agent_input_types[i]->type);
        if (strstr(generated, want) == NULL)
            fail_msg("no section for input type %s", lf_agent_input_types[i]->type);
    }
    free(generated);
    lf_buf_free(&committed);
}

static void test_full_file(void **state)
{
    (void)state;
    const char *text = HEAD "labels: {env: prod, dc: fra1}\n"
                            "buffer: {max_bytes: 64MiB, policy: drop_oldest}\n"
                            "batch:\n  max_records: 500\n  max_wait: 250ms\n"
                            "parsers:\n"
                            "  - name: kv\n    type: regex\n"
                            "    pattern: '^(?<level>\\w+) (?<message>.*)$'\n"
                            "inputs:\n"
                            "  - type: tail\n    name: app\n    paths: [/var/log/a/*.log, /b.log]\n"
                            "    parser: kv\n    labels: {team: core}\n"
                            "  - type: syslog\n    app: infra\n    parser: ''\n"
                            "  - type: tail\n    paths: /c.log\n    parser: json\n"
                            "    enabled: false\n";
    lf_agent_config cfg;
    lf_error err = {0};
    if (parse(text, &cfg, &err) != LF_OK)
        fail_msg("%s", err.message);
    assert_string_equal(cfg.tenant, "acme");
    assert_int_equal(cfg.labels.n, 2);
    assert_true(cfg.buffer_max_bytes == 64u << 20);
    assert_string_equal(cfg.buffer_policy, "drop_oldest");
    assert_true(cfg.buffer_segment_bytes == 8u << 20); /* default */
    assert_int_equal(cfg.batch_max_records, 500);
    assert_int_equal(cfg.batch_max_wait_ms, 250);
    assert_string_equal(cfg.state_dir, "/var/lib/logflux-agent");
    assert_int_equal(cfg.n_parsers, 1);
    assert_string_equal(cfg.parsers[0].type, "regex");
    assert_int_equal(cfg.n_inputs, 3);
    assert_string_equal(cfg.inputs[0].name, "app");
    assert_string_equal(cfg.inputs[0].kind->type, "tail");
    assert_string_equal(cfg.inputs[0].parser, "kv");
    assert_int_equal(cfg.inputs[0].labels.n, 1);
    assert_string_equal(cfg.inputs[1].name, "syslog-1"); /* default name: type-index */
    assert_string_equal(cfg.inputs[1].app, "infra");
    assert_true(cfg.inputs[1].enabled);
    assert_false(cfg.inputs[2].enabled);
    /* The type's own table received its keys: a one-scalar list for paths. */
    const lf_option *paths =
        lf_options_find(cfg.inputs[2].kind->options, cfg.inputs[2].kind->n_options, "paths");
    assert_non_null(paths);
    const lf_strlist *pl = (const lf_strlist *)((char *)cfg.inputs[2].options + paths->offset);
    assert_int_equal(pl->n, 1);
    assert_string_equal(pl->items[0], "/c.log");
    lf_agent_config_free(&cfg);
}

static void test_mistakes_named(void **state)
{
    (void)state;
    struct {
        const char *text;
        const char *needle;
    } cases[] = {
        {HEAD "inputs:\n  - type: tail\n    paths: [/a]\n    pahts: [/b]\n",
         "agent.yaml:9: unknown option 'inputs[0].pahts'"},
        {HEAD "bufer: {max_bytes: 1GiB}\ninputs:\n  - type: stdin\n",
         "agent.yaml:6: unknown option 'bufer.max_bytes'"},
        {HEAD "inputs:\n  - type: carrier-pigeon\n", "unknown input type 'carrier-pigeon'"},
        {HEAD "inputs:\n  - paths: [/a]\n", "inputs[0].type is required"},
        {HEAD "inputs:\n  - type: tail\n", "agent.yaml:7: inputs[0].tail: `paths` needs at least"},
        {HEAD "parsers:\n  - {name: p, type: xml}\n"
              "inputs:\n  - {type: tail, paths: [/x]}\n",
         "parsers[0].type: 'xml' is not one of"},
        {HEAD "inputs:\n  - {type: tail, name: a, paths: [/x]}\n  - {type: tail, name: a, "
              "paths: [/y]}\n",
         "name 'a' is used twice"},
        {HEAD "inputs:\n  - {type: tail, name: 'bad name', paths: [/x]}\n",
         "must be 1..64 of [A-Za-z0-9_.-]"},
        {HEAD "inputs:\n  - {type: tail, paths: [/x], parser: nope}\n",
         "inputs[0].parser: 'nope' is neither declared"},
        {HEAD "parsers:\n  - {name: r, type: regex, pattern: '(?<x>[a-'}\n"
              "inputs:\n  - {type: tail, paths: [/x]}\n",
         "agent.yaml:7: parsers[0]."},
        {HEAD "buffer: {policy: sometimes}\ninputs:\n  - {type: tail, paths: [/x]}\n",
         "buffer.policy: 'sometimes' is not one of block|drop_oldest"},
        {HEAD "inputs: []\n", "at least one input"},
        {HEAD "public_key_fingerprint: SHA256:abc\ninputs:\n  - {type: tail, paths: [/x]}\n",
         "public_key_fingerprint must be SHA256: and 64 hex digits"},
        {"endpoint: https://x\ntenant: t\napp: a\napi_key: k\ninputs:\n  - {type: tail, "
         "paths: [/x]}\n",
         "public_key_file (the customer's public key) is required"},
        {HEAD "inputs:\n  - {type: tail, paths: [/x], multiline: {first_line: 'a[b'}}\n",
         "multiline.first_line is not a POSIX extended regex"},
        {HEAD "inputs: {type: tail}\n", "inputs: expected a list"},
        {"tenant: acme\napp: web\napi_key: k\npublic_key_file: /k\ninputs:\n  - {type: tail, "
         "paths: [/x]}\n",
         "endpoint is required"},
        {"endpoint: ftp://x\ntenant: acme\napp: web\napi_key: k\npublic_key_file: /k\n"
         "inputs:\n  - {type: tail, paths: [/x]}\n",
         "endpoint must start with https://"},
        {HEAD "api_key_file: /k\ninputs:\n  - {type: tail, paths: [/x]}\n",
         "exactly one of api_key, api_key_file"},
        {"endpoint: https://x\ntenant: acme\napi_key: k\npublic_key_file: /k\n"
         "inputs:\n  - {type: tail, paths: [/x]}\n",
         "inputs[0]: no app"},
        {HEAD "buffer: {max_bytes: 16MiB, segment_bytes: 32MiB}\ninputs:\n  - {type: tail, "
              "paths: [/x]}\n",
         "segment_bytes must not exceed"},
        {HEAD "buffer: {max_bytes: 6MiB}\ninputs:\n  - {type: tail, paths: [/x]}\n",
         "at least twice batch.max_bytes"},
        {HEAD "ops: {listen: '0.0.0.0:2020'}\ninputs:\n  - {type: tail, paths: [/x]}\n",
         "set ops.allow_non_loopback: true"},
        {HEAD "ops: {listen: 'nowhere'}\ninputs:\n  - {type: tail, paths: [/x]}\n", "ops.listen:"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        lf_agent_config cfg;
        lf_error err = {0};
        if (parse(cases[i].text, &cfg, &err) == LF_OK) {
            lf_agent_config_free(&cfg);
            fail_msg("case %zu accepted", i);
        }
        if (strstr(err.message, cases[i].needle) == NULL)
            fail_msg("case %zu: '%s' lacks '%s'", i, err.message, cases[i].needle);
        /* The API key never appears in a message. */
        if (strstr(err.message, "0123456789abcdef_secret") != NULL)
            fail_msg("case %zu: API key in the message", i);
    }
}

/* Only the fingerprint: valid (the agent fetches the key and holds it to the pin). */
static void test_fingerprint_only(void **state)
{
    (void)state;
    const char *text = "endpoint: https://x\ntenant: t\napp: a\napi_key: k\n"
                       "public_key_fingerprint: "
                       "SHA256:00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\n"
                       "inputs:\n  - {type: tail, paths: [/x]}\n";
    lf_agent_config cfg;
    lf_error err = {0};
    if (parse(text, &cfg, &err) != LF_OK)
        fail_msg("%s", err.message);
    assert_string_equal(cfg.public_key_file, "");
    lf_agent_config_free(&cfg);
}

static void test_api_key_file(void **state)
{
    (void)state;
    char dir[] = "/tmp/lf-agent-cfg-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[256];
    snprintf(path, sizeof path, "%s/key", dir);
    FILE *f = fopen(path, "w");
    fputs("eu-lf_00112233aabbccdd_topsecret\n", f);
    fclose(f);
    chmod(path, 0644);
    char text[1024];
    snprintf(text, sizeof text,
             "endpoint: https://x\ntenant: t\napp: a\napi_key_file: %s\npublic_key_file: /k\n"
             "inputs:\n  - {type: tail, paths: [/x]}\n",
             path);
    lf_agent_config cfg;
    lf_error err = {0};
    assert_int_equal(parse(text, &cfg, &err), LF_OK);
    char *key = NULL;
    assert_int_equal(lf_agent_config_api_key(&cfg, &key, &err), LF_ERR_INVALID);
    assert_non_null(strstr(err.message, "chmod 600"));
    assert_null(strstr(err.message, "topsecret"));
    chmod(path, 0600);
    assert_int_equal(lf_agent_config_api_key(&cfg, &key, &err), LF_OK);
    assert_string_equal(key, "eu-lf_00112233aabbccdd_topsecret");
    free(key);
    lf_agent_config_free(&cfg);
    unlink(path);
    rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_docs_match_tables), cmocka_unit_test(test_full_file),
        cmocka_unit_test(test_mistakes_named),    cmocka_unit_test(test_api_key_file),
        cmocka_unit_test(test_fingerprint_only),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

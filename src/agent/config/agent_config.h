/*
 * agent_config.h — logflux-agent's configuration: one option table for the top level, one for
 * the keys every input shares, one per input type (declared by the input itself, see
 * input.h), one for parsers. The YAML file is read as a tree, validated against those tables
 * (unknown keys are errors naming the line), and docs/CONFIG-AGENT.md is generated from the
 * same tables (a test fails when the file and the tables drift apart).
 */
#ifndef LF_AGENT_CONFIG_H
#define LF_AGENT_CONFIG_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "input.h"
#include "logflux/error.h"
#include "options.h"

#ifdef __cplusplus
extern "C" {
#endif

/* One entry of `parsers:`. */
typedef struct lf_agent_parser_decl {
    char *name;
    char *type; /* json | regex | nginx_access | nginx_error | syslog | cri | docker | none */
    char *pattern;
    char *time_key;
    char *time_format;
    char *level_key;
    char *message_key;
    bool keep_fields;
} lf_agent_parser_decl;

/* One entry of `inputs:`. */
typedef struct lf_agent_input_decl {
    char *type;
    char *name;
    char *app;    /* "" = the agent's app */
    char *parser; /* "" = none; a declared parser's name or a built-in one */
    lf_strmap labels;
    bool enabled;
    const lf_agent_input_type *kind;
    void *options; /* kind->config_size bytes, filled from kind->options */
    size_t line;   /* where it was declared, for messages */
} lf_agent_input_decl;

typedef struct lf_agent_config {
    char *endpoint;
    char *api_key;
    char *api_key_file;
    char *tenant;
    char *app;
    char *public_key_file;
    char *public_key_fingerprint;
    char *state_dir;
    char *tls_ca_file;
    char *tls_pinned_public_key;
    lf_strmap labels;
    uint64_t buffer_max_bytes;
    uint64_t buffer_segment_bytes;
    char *buffer_policy;
    int64_t batch_max_records;
    uint64_t batch_max_bytes;
    int64_t batch_max_wait_ms;
    int64_t zstd_level;
    int64_t key_rotate_records;
    uint64_t key_rotate_bytes;
    int64_t key_rotate_after_ms;
    int64_t ship_backoff_base_ms;
    int64_t ship_backoff_max_ms;
    int64_t ship_max_retries;
    int64_t ship_connect_timeout_ms;
    int64_t ship_request_timeout_ms;
    uint64_t dead_letter_max_bytes;
    int64_t shutdown_flush_ms;
    char *ops_listen;
    bool ops_allow_non_loopback;
    char *log_level;
    char *log_format;

    lf_agent_input_decl *inputs;
    size_t n_inputs;
    lf_agent_parser_decl *parsers;
    size_t n_parsers;
} lf_agent_config;

/* Load and validate. On error *cfg is left empty (freed) and err names file, line and key. */
lf_err lf_agent_config_load(const char *path, lf_agent_config *cfg, lf_error *err);
/* The same from memory (tests). */
lf_err lf_agent_config_parse(const char *text, size_t len, const char *name, lf_agent_config *cfg,
                             lf_error *err);
void lf_agent_config_free(lf_agent_config *cfg);

/* The API key: `api_key`, else the first line of `api_key_file` (which must not be readable
 * by group or others). The caller wipes and frees *out. */
lf_err lf_agent_config_api_key(const lf_agent_config *cfg, char **out, lf_error *err);

/* The whole reference, docs/CONFIG-AGENT.md. */
void lf_agent_config_write_docs(FILE *out);

#ifdef __cplusplus
}
#endif
#endif

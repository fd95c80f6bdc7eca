/*
 * fuzz_agent_config.c — libFuzzer target for logflux-agent's configuration loader
 * (src/agent/config/agent_config.c): arbitrary bytes through lf_agent_config_parse, which reads
 * the YAML tree, applies the top-level table, every `inputs:` entry to the common table and to
 * its type's own table (and the type's validate), every `parsers:` entry to the parser table,
 * and compiles each declared parser (PCRE2 patterns included) so a bad one is a config error.
 *
 * What must hold: no crash, no leak, no hang (a pattern that makes lf_parser_new slow shows up
 * as a libFuzzer timeout); a refused file leaves the config zeroed with a message naming the
 * file; an accepted one satisfies what agent.c relies on without checking again (an endpoint,
 * a tenant, exactly one API key source, at least one input, each with a known type, its option
 * struct, a valid unique name and an app; parsers with a name and a type).
 *
 * Seeds (corpus/fuzz_agent_config/): one realistic file per input type, parsers of every kind,
 * and files with the mistakes people make (unknown keys, bad sizes, wrong types, bad regexes).
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config/agent_config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool all_zero(const void *p, size_t n)
{
    const uint8_t *b = p;
    for (size_t i = 0; i < n; i++)
        if (b[i] != 0)
            return false;
    return true;
}

static bool name_ok(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    if (n == 0 || n > 64)
        return false;
    return strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") == n;
}

static void check_accepted(const lf_agent_config *c)
{
    if (c->endpoint == NULL || c->endpoint[0] == '\0' || c->tenant == NULL ||
        c->tenant[0] == '\0' || c->state_dir == NULL || c->buffer_policy == NULL ||
        c->log_level == NULL || c->log_format == NULL || c->ops_listen == NULL)
        abort();
    if ((c->api_key[0] != '\0') == (c->api_key_file[0] != '\0'))
        abort();
    if (c->public_key_file[0] == '\0')
        abort();
    if (c->buffer_segment_bytes > c->buffer_max_bytes ||
        c->buffer_max_bytes < 2 * c->batch_max_bytes)
        abort();
    if (c->batch_max_records < 1 || c->batch_max_records > 100000 || c->zstd_level < 1 ||
        c->zstd_level > 19)
        abort();
    if (c->n_inputs == 0 || c->inputs == NULL)
        abort();
    for (size_t i = 0; i < c->n_inputs; i++) {
        const lf_agent_input_decl *in = &c->inputs[i];
        if (in->kind == NULL || in->options == NULL || !name_ok(in->name) || in->type == NULL ||
            in->app == NULL || in->parser == NULL)
            abort();
        if (strcmp(in->kind->type, in->type) != 0)
            abort();
        if (in->app[0] == '\0' && c->app[0] == '\0')
            abort();
        for (size_t j = 0; j < i; j++)
            if (strcmp(c->inputs[j].name, in->name) == 0)
                abort();
        for (size_t k = 0; k < in->labels.n; k++)
            if (in->labels.keys[k] == NULL || in->labels.values[k] == NULL)
                abort();
    }
    for (size_t i = 0; i < c->n_parsers; i++) {
        const lf_agent_parser_decl *p = &c->parsers[i];
        if (!name_ok(p->name) || p->type == NULL || p->type[0] == '\0' || p->pattern == NULL)
            abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 65536)
        return 0;
    lf_agent_config cfg;
    memset(&cfg, 0xA5, sizeof cfg); /* parse must not rely on a zeroed struct */
    lf_error err = {0};
    lf_err rc = lf_agent_config_parse((const char *)data, size, "agent.yaml", &cfg, &err);
    if (rc != LF_OK) {
        if (!all_zero(&cfg, sizeof cfg) || strstr(err.message, "agent.yaml") == NULL)
            abort();
        return 0;
    }
    check_accepted(&cfg);
    lf_agent_config_free(&cfg);
    if (!all_zero(&cfg, sizeof cfg))
        abort();
    return 0;
}

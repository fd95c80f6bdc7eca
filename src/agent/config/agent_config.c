/*
 * agent_config.c — the option tables of logflux-agent and the loader that applies a YAML tree
 * to them (see agent_config.h).
 */
#define _GNU_SOURCE
#include "agent_config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "ops/ops_http.h"
#include "parser.h"

#define F(field) offsetof(lf_agent_config, field)

static const lf_option top_table[] = {
    {"endpoint", LF_OPT_STRING, "", 0, 0, NULL, F(endpoint),
     "Base URL of the LogFlux server, e.g. `https://logs.example.com:8443`. Required. Plain "
     "`http://` is accepted only for a loopback host."},
    {"api_key", LF_OPT_STRING, "", 0, 0, NULL, F(api_key),
     "API key (`<region>-lf_...`). Prefer `api_key_file`: a key in the config file is readable "
     "by whoever reads the file."},
    {"api_key_file", LF_OPT_STRING, "", 0, 0, NULL, F(api_key_file),
     "File whose first line is the API key; must not be readable by group or others."},
    {"tenant", LF_OPT_STRING, "", 0, 0, NULL, F(tenant),
     "Tenant the API key belongs to (named in every sealed frame header). Required."},
    {"app", LF_OPT_STRING, "", 0, 0, NULL, F(app),
     "Default application name for records (an input may set its own). Required unless every "
     "input sets `app`."},
    {"public_key_file", LF_OPT_STRING, "", 0, 0, NULL, F(public_key_file),
     "The customer's RSA public key (PEM). Records are sealed to it before they touch the "
     "disk, from the first second, with no server needed."},
    {"public_key_fingerprint", LF_OPT_STRING, "", 0, 0, NULL, F(public_key_fingerprint),
     "`SHA256:<hex>` of the customer key's SubjectPublicKeyInfo (`logflux keys show`). With "
     "`public_key_file`: the file must match it. Alone: the agent asks the server for the key "
     "once, refuses any key that does not match, and caches it in `state_dir` (inputs start "
     "when the key is known)."},
    {"state_dir", LF_OPT_STRING, "/var/lib/logflux-agent", 0, 0, NULL, F(state_dir),
     "Disk buffer, checkpoints and dead letters live here (created 0700)."},
    {"tls.ca_file", LF_OPT_STRING, "", 0, 0, NULL, F(tls_ca_file),
     "PEM bundle of CAs trusted for the server. Empty: the system store. Verification is never "
     "disabled."},
    {"tls.pinned_public_key", LF_OPT_STRING, "", 0, 0, NULL, F(tls_pinned_public_key),
     "Pin the server's TLS key: `sha256//<base64>` (several separated by `;`)."},
    {"labels", LF_OPT_MAP, "", 0, 0, NULL, F(labels),
     "Labels added to every record (a record's own label of the same name wins)."},
    {"buffer.max_bytes", LF_OPT_SIZE, "256MiB", 1 << 20, 1LL << 42, NULL, F(buffer_max_bytes),
     "Bound on the disk buffer (sealed data waiting to be shipped)."},
    {"buffer.segment_bytes", LF_OPT_SIZE, "8MiB", 64 << 10, 1LL << 32, NULL,
     F(buffer_segment_bytes), "Size at which a buffer segment file rolls over."},
    {"buffer.policy", LF_OPT_ENUM, "block", 0, 0, "block|drop_oldest", F(buffer_policy),
     "When the buffer is full: `block` pauses the inputs (files wait on disk, TCP senders are "
     "pushed back); `drop_oldest` deletes the oldest unsent data and counts every record "
     "dropped."},
    {"batch.max_records", LF_OPT_INT, "10000", 1, 100000, NULL, F(batch_max_records),
     "Records per sealed block."},
    {"batch.max_bytes", LF_OPT_SIZE, "4MiB", 1024, 8 << 20, NULL, F(batch_max_bytes),
     "Plaintext bytes per sealed block (before zstd)."},
    {"batch.max_wait", LF_OPT_DURATION, "1s", 1, 600000, NULL, F(batch_max_wait_ms),
     "A batch is sealed at the latest this long after its first record."},
    {"batch.zstd_level", LF_OPT_INT, "1", 1, 19, NULL, F(zstd_level),
     "zstd level of sealed blocks. 1 compresses log text 3-4x at several hundred MB/s per "
     "core; 3 saves a few percent more bytes at about half the speed."},
    {"keys.rotate_records", LF_OPT_INT, "10000000", 1000, 1000000000, NULL, F(key_rotate_records),
     "A new session key after this many records."},
    {"keys.rotate_bytes", LF_OPT_SIZE, "4GiB", 1 << 20, 1LL << 50, NULL, F(key_rotate_bytes),
     "... or after this many plaintext bytes."},
    {"keys.rotate_after", LF_OPT_DURATION, "1h", 1000, 30LL * 86400000, NULL,
     F(key_rotate_after_ms), "... or after this long."},
    {"ship.backoff_base", LF_OPT_DURATION, "1s", 1, 3600000, NULL, F(ship_backoff_base_ms),
     "First retry delay; doubles per failure, with full jitter."},
    {"ship.backoff_max", LF_OPT_DURATION, "60s", 1, 86400000, NULL, F(ship_backoff_max_ms),
     "Cap of the retry delay."},
    {"ship.max_retries", LF_OPT_INT, "0", 0, 1000000000, NULL, F(ship_max_retries),
     "Retries of one batch before it goes to the dead-letter folder; 0 = never give up."},
    {"ship.connect_timeout", LF_OPT_DURATION, "10s", 100, 600000, NULL, F(ship_connect_timeout_ms),
     "TCP + TLS connect timeout."},
    {"ship.request_timeout", LF_OPT_DURATION, "60s", 1000, 3600000, NULL,
     F(ship_request_timeout_ms), "Whole-request timeout."},
    {"ship.dead_letter_max_bytes", LF_OPT_SIZE, "1GiB", 0, 1LL << 44, NULL,
     F(dead_letter_max_bytes), "Bound on `<state_dir>/dead-letter`."},
    {"shutdown.flush_timeout", LF_OPT_DURATION, "10s", 0, 600000, NULL, F(shutdown_flush_ms),
     "On SIGTERM: seal what was read, then keep shipping the buffer this long before exiting "
     "(what is left stays in the buffer for the next start)."},
    {"ops.listen", LF_OPT_STRING, "127.0.0.1:2020", 0, 0, NULL, F(ops_listen),
     "Address of the metrics (`/metrics`) and health (`/health`) endpoint; empty disables it."},
    {"ops.allow_non_loopback", LF_OPT_BOOL, "false", 0, 0, NULL, F(ops_allow_non_loopback),
     "Allow `ops.listen` on an address other than loopback (Kubernetes probes reach the pod "
     "IP). The endpoint shows counters, never record content."},
    {"log.level", LF_OPT_ENUM, "info", 0, 0, "error|warn|info|debug", F(log_level),
     "The agent's own log (stderr). It never contains record content."},
    {"log.format", LF_OPT_ENUM, "text", 0, 0, "text|json", F(log_format),
     "Format of the agent's own log lines."},
};
#define TOP_N (sizeof top_table / sizeof *top_table)

#undef F
#define F(field) offsetof(lf_agent_input_decl, field)
static const lf_option input_table[] = {
    {"type", LF_OPT_STRING, "", 0, 0, NULL, F(type), "Input type (sections below). Required."},
    {"name", LF_OPT_STRING, "", 0, 0, NULL, F(name),
     "Unique name ([A-Za-z0-9_.-], ≤ 64): metrics label and checkpoint file name. Default: "
     "`<type>` or `<type>-<n>`."},
    {"app", LF_OPT_STRING, "", 0, 0, NULL, F(app), "Application name; default the agent's `app`."},
    {"parser", LF_OPT_STRING, "", 0, 0, NULL, F(parser),
     "Parser applied to each record's message: a name from `parsers:` or a built-in "
     "(`json`, `nginx_access`, `nginx_error`, `syslog`, `cri`, `docker`). Empty: none."},
    {"labels", LF_OPT_MAP, "", 0, 0, NULL, F(labels), "Labels added to this input's records."},
    {"enabled", LF_OPT_BOOL, "true", 0, 0, NULL, F(enabled),
     "`false` keeps it configured but off."},
};
#define INPUT_N (sizeof input_table / sizeof *input_table)

#undef F
#define F(field) offsetof(lf_agent_parser_decl, field)
static const lf_option parser_table[] = {
    {"name", LF_OPT_STRING, "", 0, 0, NULL, F(name), "Name inputs refer to. Required."},
    {"type", LF_OPT_STRING, "", 0, 0, NULL, F(type),
     "Parser kind: `json`, `regex`, `nginx_access`, `nginx_error`, `syslog`, `cri`, `docker` or "
     "`none`. Required."},
    {"pattern", LF_OPT_STRING, "", 0, 0, NULL, F(pattern),
     "regex: PCRE2 pattern with named groups; groups `message`, `time`, `level` fill those "
     "fields, others become labels."},
    {"time_key", LF_OPT_STRING, "", 0, 0, NULL, F(time_key), "json/regex: field with the time."},
    {"time_format", LF_OPT_STRING, "", 0, 0, NULL, F(time_format),
     "`rfc3339`, `unix`, `unix_ms`, `unix_us`, `unix_ns`, a strptime pattern, or empty: auto."},
    {"level_key", LF_OPT_STRING, "", 0, 0, NULL, F(level_key), "json/regex: field with the level."},
    {"message_key", LF_OPT_STRING, "", 0, 0, NULL, F(message_key),
     "json/regex: field with the message (absent: the whole text)."},
    {"keep_fields", LF_OPT_BOOL, "false", 0, 0, NULL, F(keep_fields),
     "json/regex: other top-level scalar fields become labels (up to the 20-label limit)."},
};
#define PARSER_N (sizeof parser_table / sizeof *parser_table)

static bool valid_name(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 64)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '.' || c == '-'))
            return false;
    }
    return true;
}

static void free_input(lf_agent_input_decl *in)
{
    if (in->kind && in->options) {
        lf_options_free(in->kind->options, in->kind->n_options, in->options);
        free(in->options);
    }
    lf_options_free(input_table, INPUT_N, in);
}

void lf_agent_config_free(lf_agent_config *cfg)
{
    for (size_t i = 0; i < cfg->n_inputs; i++)
        free_input(&cfg->inputs[i]);
    free(cfg->inputs);
    for (size_t i = 0; i < cfg->n_parsers; i++)
        lf_options_free(parser_table, PARSER_N, &cfg->parsers[i]);
    free(cfg->parsers);
    if (cfg->api_key)
        lf_wipe(cfg->api_key, strlen(cfg->api_key));
    lf_options_free(top_table, TOP_N, cfg);
    memset(cfg, 0, sizeof *cfg);
}

typedef struct load_ctx {
    lf_agent_config *cfg;
    const char *path;
    const lf_cfg_node *inputs;
    const lf_cfg_node *parsers;
} load_ctx;

static lf_err on_top_unknown(void *ctx, const char *name, const lf_cfg_node *node, lf_error *err)
{
    load_ctx *l = ctx;
    if (strcmp(name, "inputs") == 0 || strcmp(name, "parsers") == 0) {
        if (node->kind != LF_CFG_SEQ && !(node->kind == LF_CFG_SCALAR && node->text[0] == '\0'))
            return lf_error_set(err, LF_ERR_INVALID, "%s: expected a list", name);
        if (name[0] == 'i')
            l->inputs = node;
        else
            l->parsers = node;
        return LF_OK;
    }
    return LF_ERR_NOT_FOUND;
}

/* Split one input mapping: common keys here, the rest for the type's table. */
static lf_err load_input(load_ctx *l, const lf_cfg_node *node, size_t index,
                         lf_agent_input_decl *in, lf_error *err)
{
    char prefix[48];
    snprintf(prefix, sizeof prefix, "inputs[%zu].", index);
    in->line = node->line;
    if (node->kind != LF_CFG_MAP)
        return lf_error_set(err, LF_ERR_INVALID, "%s:%zu: %sexpected a mapping", l->path,
                            node->line, prefix);
    lf_err rc = lf_options_defaults(input_table, INPUT_N, in, err);
    if (rc != LF_OK)
        return rc;
    const lf_cfg_node *type = lf_cfg_get(node, "type");
    if (type == NULL || type->kind != LF_CFG_SCALAR)
        return lf_error_set(err, LF_ERR_INVALID, "%s:%zu: %stype is required", l->path, node->line,
                            prefix);
    in->kind = lf_agent_input_type_find(type->text);
    if (in->kind == NULL) {
        char known[256] = "";
        for (size_t i = 0; lf_agent_input_types[i]; i++) {
            strncat(known, i ? ", " : "", sizeof known - strlen(known) - 1);
            strncat(known, lf_agent_input_types[i]->type, sizeof known - strlen(known) - 1);
        }
        return lf_error_set(err, LF_ERR_INVALID,
                            "%s:%zu: %stype: unknown input type '%.64s' "
                            "(known: %s)",
                            l->path, type->line, prefix, type->text, known);
    }
    in->options = calloc(1, in->kind->config_size ? in->kind->config_size : 1);
    if (in->options == NULL)
        return lf_error_set(err, LF_ERR_NOMEM, "out of memory");
    if ((rc = lf_options_defaults(in->kind->options, in->kind->n_options, in->options, err)) !=
        LF_OK)
        return rc;
    /* Two passes over one mapping: a sub-map with only the common keys, the rest to the type. */
    lf_cfg_node common = {.kind = LF_CFG_MAP, .line = node->line};
    lf_cfg_node own = {.kind = LF_CFG_MAP, .line = node->line};
    char *ck[INPUT_N], *ok_[64];
    lf_cfg_node *cv[INPUT_N], *ov[64];
    common.keys = ck, common.items = cv, own.keys = ok_, own.items = ov;
    for (size_t i = 0; i < node->n; i++) {
        bool is_common = lf_options_find(input_table, INPUT_N, node->keys[i]) != NULL;
        lf_cfg_node *dst = is_common ? &common : &own;
        if (!is_common && own.n >= 64)
            return lf_error_set(err, LF_ERR_INVALID, "%s:%zu: %stoo many keys", l->path,
                                node->items[i]->line, prefix);
        dst->keys[dst->n] = node->keys[i];
        dst->items[dst->n++] = node->items[i];
    }
    rc = lf_options_apply(input_table, INPUT_N, in, &common, l->path, prefix, NULL, NULL, err);
    if (rc == LF_OK)
        rc = lf_options_apply(in->kind->options, in->kind->n_options, in->options, &own, l->path,
                              prefix, NULL, NULL, err);
    if (rc != LF_OK)
        return rc;
    if (in->name[0] == '\0') {
        char def[80];
        snprintf(def, sizeof def, "%s-%zu", in->kind->type, index);
        free(in->name);
        if ((in->name = strdup(def)) == NULL)
            return lf_error_set(err, LF_ERR_NOMEM, "out of memory");
    }
    if (!valid_name(in->name))
        return lf_error_set(err, LF_ERR_INVALID,
                            "%s:%zu: %sname: '%.64s' must be 1..64 of [A-Za-z0-9_.-]", l->path,
                            node->line, prefix, in->name);
    if (in->kind->validate) {
        lf_error inner = {0};
        if ((rc = in->kind->validate(in->options, &inner)) != LF_OK)
            return lf_error_set(err, rc, "%s:%zu: %s%s", l->path, node->line, prefix,
                                inner.message);
    }
    return LF_OK;
}

static lf_err load_parser(load_ctx *l, const lf_cfg_node *node, size_t index,
                          lf_agent_parser_decl *p, lf_error *err)
{
    char prefix[48];
    snprintf(prefix, sizeof prefix, "parsers[%zu].", index);
    lf_err rc = lf_options_defaults(parser_table, PARSER_N, p, err);
    if (rc == LF_OK)
        rc = lf_options_apply(parser_table, PARSER_N, p, node, l->path, prefix, NULL, NULL, err);
    if (rc != LF_OK)
        return rc;
    if (!valid_name(p->name) || p->type[0] == '\0')
        return lf_error_set(err, LF_ERR_INVALID,
                            "%s:%zu: %sname (1..64 of [A-Za-z0-9_.-]) and type are required",
                            l->path, node->line, prefix);
    if (lf_parser_kind_from_name(p->type) < 0)
        return lf_error_set(err, LF_ERR_INVALID,
                            "%s:%zu: %stype: '%.64s' is not one of json, regex, nginx_access, "
                            "nginx_error, syslog, cri, docker, none",
                            l->path, node->line, prefix, p->type);
    /* Compile it now, so a bad regex is a config error, not a runtime surprise. */
    lf_parser_config pc = {.name = p->name,
                           .kind = (lf_parser_kind)lf_parser_kind_from_name(p->type),
                           .pattern = p->pattern,
                           .time_key = p->time_key,
                           .time_format = p->time_format,
                           .level_key = p->level_key,
                           .message_key = p->message_key,
                           .keep_fields = p->keep_fields};
    lf_parser *compiled = NULL;
    lf_error inner = {0};
    if ((rc = lf_parser_new(&pc, &compiled, &inner)) != LF_OK)
        return lf_error_set(err, rc, "%s:%zu: %s%s", l->path, node->line, prefix, inner.message);
    lf_parser_free(compiled);
    return LF_OK;
}

static lf_err check_top(const lf_agent_config *cfg, const char *path, lf_error *err)
{
    if (cfg->endpoint[0] == '\0')
        return lf_error_set(err, LF_ERR_INVALID, "%s: endpoint is required", path);
    if (strncmp(cfg->endpoint, "https://", 8) != 0 && strncmp(cfg->endpoint, "http://", 7) != 0)
        return lf_error_set(err, LF_ERR_INVALID, "%s: endpoint must start with https://", path);
    if (cfg->tenant[0] == '\0')
        return lf_error_set(err, LF_ERR_INVALID, "%s: tenant is required", path);
    if ((cfg->api_key[0] != '\0') == (cfg->api_key_file[0] != '\0'))
        return lf_error_set(err, LF_ERR_INVALID, "%s: set exactly one of api_key, api_key_file",
                            path);
    if (cfg->public_key_file[0] == '\0' && cfg->public_key_fingerprint[0] == '\0')
        return lf_error_set(err, LF_ERR_INVALID,
                            "%s: public_key_file (the customer's public key) is required", path);
    if (cfg->public_key_fingerprint[0] != '\0' &&
        (strncasecmp(cfg->public_key_fingerprint, "SHA256:", 7) != 0 ||
         strlen(cfg->public_key_fingerprint) != 7 + 64 ||
         strspn(cfg->public_key_fingerprint + 7, "0123456789abcdefABCDEF") != 64))
        return lf_error_set(err, LF_ERR_INVALID,
                            "%s: public_key_fingerprint must be SHA256: and 64 hex digits "
                            "(logflux keys show)",
                            path);
    if (cfg->ops_listen[0] != '\0') {
        char sa[128];
        unsigned sl = 0;
        bool loopback = false;
        lf_error inner = {0};
        if (lf_agent_ops_parse_listen(cfg->ops_listen, sa, &sl, &loopback, &inner) != LF_OK)
            return lf_error_set(err, LF_ERR_INVALID, "%s: ops.listen: %s", path, inner.message);
        if (!loopback && !cfg->ops_allow_non_loopback)
            return lf_error_set(err, LF_ERR_INVALID,
                                "%s: ops.listen %s is not loopback: set "
                                "ops.allow_non_loopback: true to expose it",
                                path, cfg->ops_listen);
    }
    if (cfg->buffer_max_bytes < 2 * cfg->batch_max_bytes)
        return lf_error_set(err, LF_ERR_INVALID,
                            "%s: buffer.max_bytes must be at least twice batch.max_bytes", path);
    if (cfg->buffer_segment_bytes > cfg->buffer_max_bytes)
        return lf_error_set(err, LF_ERR_INVALID,
                            "%s: buffer.segment_bytes must not exceed buffer.max_bytes", path);
    if (cfg->n_inputs == 0)
        return lf_error_set(err, LF_ERR_INVALID, "%s: inputs: at least one input is required",
                            path);
    for (size_t i = 0; i < cfg->n_inputs; i++) {
        const lf_agent_input_decl *in = &cfg->inputs[i];
        if (in->app[0] == '\0' && cfg->app[0] == '\0')
            return lf_error_set(err, LF_ERR_INVALID,
                                "%s:%zu: inputs[%zu]: no app (set `app` "
                                "at the top or in the input)",
                                path, in->line, i);
        for (size_t j = 0; j < i; j++)
            if (strcmp(cfg->inputs[j].name, in->name) == 0)
                return lf_error_set(err, LF_ERR_INVALID,
                                    "%s:%zu: inputs[%zu]: name '%s' is used twice", path, in->line,
                                    i, in->name);
        if (in->parser[0] == '\0')
            continue;
        bool found = lf_parser_kind_from_name(in->parser) > 0 && strcmp(in->parser, "regex");
        for (size_t j = 0; !found && j < cfg->n_parsers; j++)
            found = strcmp(cfg->parsers[j].name, in->parser) == 0;
        if (!found)
            return lf_error_set(err, LF_ERR_INVALID,
                                "%s:%zu: inputs[%zu].parser: '%.64s' is neither declared under "
                                "parsers nor built in",
                                path, in->line, i, in->parser);
    }
    return LF_OK;
}

static lf_err load_tree(const lf_cfg_node *root, const char *path, lf_agent_config *cfg,
                        lf_error *err)
{
    memset(cfg, 0, sizeof *cfg);
    load_ctx l = {.cfg = cfg, .path = path};
    lf_err rc = lf_options_defaults(top_table, TOP_N, cfg, err);
    if (rc == LF_OK)
        rc = lf_options_apply(top_table, TOP_N, cfg, root, path, NULL, on_top_unknown, &l, err);
    if (rc == LF_OK && l.parsers && l.parsers->n) {
        cfg->parsers = calloc(l.parsers->n, sizeof *cfg->parsers);
        if (cfg->parsers == NULL)
            rc = lf_error_set(err, LF_ERR_NOMEM, "out of memory");
        for (size_t i = 0; rc == LF_OK && i < l.parsers->n; i++) {
            cfg->n_parsers = i + 1;
            rc = load_parser(&l, l.parsers->items[i], i, &cfg->parsers[i], err);
            for (size_t j = 0; rc == LF_OK && j < i; j++)
                if (strcmp(cfg->parsers[j].name, cfg->parsers[i].name) == 0)
                    rc = lf_error_set(err, LF_ERR_INVALID,
                                      "%s:%zu: parsers[%zu]: name '%s' "
                                      "is used twice",
                                      path, l.parsers->items[i]->line, i, cfg->parsers[i].name);
        }
    }
    if (rc == LF_OK && l.inputs && l.inputs->n) {
        cfg->inputs = calloc(l.inputs->n, sizeof *cfg->inputs);
        if (cfg->inputs == NULL)
            rc = lf_error_set(err, LF_ERR_NOMEM, "out of memory");
        for (size_t i = 0; rc == LF_OK && i < l.inputs->n; i++) {
            cfg->n_inputs = i + 1;
            rc = load_input(&l, l.inputs->items[i], i, &cfg->inputs[i], err);
        }
    }
    if (rc == LF_OK)
        rc = check_top(cfg, path, err);
    if (rc != LF_OK)
        lf_agent_config_free(cfg);
    return rc;
}

lf_err lf_agent_config_load(const char *path, lf_agent_config *cfg, lf_error *err)
{
    lf_cfg_node *root = NULL;
    memset(cfg, 0, sizeof *cfg);
    lf_err rc = lf_cfg_load_yaml(path, &root, err);
    if (rc == LF_OK)
        rc = load_tree(root, path, cfg, err);
    lf_cfg_free(root);
    return rc;
}

lf_err lf_agent_config_parse(const char *text, size_t len, const char *name, lf_agent_config *cfg,
                             lf_error *err)
{
    lf_cfg_node *root = NULL;
    memset(cfg, 0, sizeof *cfg);
    lf_err rc = lf_cfg_parse_yaml(text, len, name, &root, err);
    if (rc == LF_OK)
        rc = load_tree(root, name, cfg, err);
    lf_cfg_free(root);
    return rc;
}

lf_err lf_agent_config_api_key(const lf_agent_config *cfg, char **out, lf_error *err)
{
    if (cfg->api_key[0] != '\0') {
        if ((*out = strdup(cfg->api_key)) == NULL)
            return lf_error_set(err, LF_ERR_NOMEM, "out of memory");
        return LF_OK;
    }
    FILE *f = fopen(cfg->api_key_file, "r");
    if (f == NULL)
        return lf_error_set(err, LF_ERR_IO, "api_key_file %s: %s", cfg->api_key_file,
                            strerror(errno));
    struct stat st;
    if (fstat(fileno(f), &st) == 0 && (st.st_mode & 077) != 0) {
        fclose(f);
        return lf_error_set(err, LF_ERR_INVALID,
                            "api_key_file %s: readable by group or others (chmod 600 it)",
                            cfg->api_key_file);
    }
    char line[512];
    bool got = fgets(line, sizeof line, f) != NULL;
    fclose(f);
    size_t n = got ? strcspn(line, "\r\n") : 0;
    line[n] = '\0';
    if (n == 0) {
        lf_wipe(line, sizeof line);
        return lf_error_set(err, LF_ERR_INVALID, "api_key_file %s: empty", cfg->api_key_file);
    }
    *out = strdup(line);
    lf_wipe(line, sizeof line);
    return *out ? LF_OK : lf_error_set(err, LF_ERR_NOMEM, "out of memory");
}

void lf_agent_config_write_docs(FILE *out)
{
    fputs("# logflux-agent configuration reference\n\n"
          "Generated from the option tables in `src/agent/` by `logflux-agent --config-docs`; "
          "a test fails when this file and the tables differ. `logflux-agent --check-config "
          "agent.yaml` validates a file without starting.\n\n"
          "Sizes accept `1048576`, `512KiB`, `10MiB`, `1GiB` (`KB`/`MB`/`GB` are powers of "
          "ten); durations accept `250ms`, `5s`, `2m`, `1h`, `7d`. Nested mappings name "
          "sections: `buffer: {max_bytes: 1GiB}` sets `buffer.max_bytes`. Unknown keys are "
          "errors naming the line.\n\n"
          "```yaml\n"
          "endpoint: https://logs.example.com:8443\n"
          "tenant: acme\n"
          "app: web\n"
          "api_key_file: /etc/logflux/api-key\n"
          "public_key_file: /etc/logflux/customer.pub.pem\n"
          "public_key_fingerprint: SHA256:...\n"
          "labels: {env: prod}\n"
          "inputs:\n"
          "  - type: tail\n"
          "    paths: [/var/log/app/*.log]\n"
          "    parser: json\n"
          "  - type: journald\n"
          "parsers:\n"
          "  - name: access\n"
          "    type: regex\n"
          "    pattern: '^(?<remote>\\S+) (?<message>.*)$'\n"
          "```\n\n## Top level\n\n",
          out);
    lf_options_write_markdown_table(top_table, TOP_N, out);
    fputs("\n## `inputs:` — keys every input has\n\n", out);
    lf_options_write_markdown_table(input_table, INPUT_N, out);
    for (size_t i = 0; lf_agent_input_types[i]; i++) {
        const lf_agent_input_type *t = lf_agent_input_types[i];
        fprintf(out, "\n### `type: %s`\n\n%s\n\n", t->type, t->summary);
        if (t->n_options)
            lf_options_write_markdown_table(t->options, t->n_options, out);
        else
            fputs("No options of its own.\n", out);
    }
    fputs("\n## `parsers:` — named parsers inputs refer to\n\n"
          "The built-in names `json`, `nginx_access`, `nginx_error`, `syslog`, `cri` and "
          "`docker` need no declaration (docs/AGENT-PARSERS.md).\n\n",
          out);
    lf_options_write_markdown_table(parser_table, PARSER_N, out);
}

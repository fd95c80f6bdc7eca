/*
 * parser.c — a configured parser: its settings copied (the config tree may go away), the
 * regex compiled once, and lf_parser_apply dispatching to the format's function. A parser is
 * immutable after lf_parser_new, which is what makes concurrent lf_parser_apply calls safe.
 */
#include <stdlib.h>
#include <string.h>

#include "parser_int.h"

struct lf_parser {
    lf_parser_config cfg; /* its strings point into `strings` */
    char *strings[6];
    lf_p_regex *re;
};

static const char *const kind_names[] = {
    [LF_PARSER_NONE] = "none",
    [LF_PARSER_JSON] = "json",
    [LF_PARSER_REGEX] = "regex",
    [LF_PARSER_NGINX_ACCESS] = "nginx_access",
    [LF_PARSER_NGINX_ERROR] = "nginx_error",
    [LF_PARSER_SYSLOG] = "syslog",
    [LF_PARSER_CRI] = "cri",
    [LF_PARSER_DOCKER] = "docker",
};
#define N_KINDS (sizeof kind_names / sizeof kind_names[0])

int lf_parser_kind_from_name(const char *name)
{
    for (size_t i = 0; name && i < N_KINDS; i++)
        if (strcmp(name, kind_names[i]) == 0)
            return (int)i;
    return -1;
}

const char *lf_parser_kind_name(lf_parser_kind kind)
{
    return (unsigned)kind < N_KINDS ? kind_names[kind] : "unknown";
}

lf_parser_kind lf_parser_kind_of(const lf_parser *p)
{
    return p->cfg.kind;
}

void lf_parser_free(lf_parser *p)
{
    if (p == NULL)
        return;
    lf_p_regex_free(p->re);
    for (size_t i = 0; i < sizeof p->strings / sizeof p->strings[0]; i++)
        free(p->strings[i]);
    free(p);
}

/* Copy a config string (NULL -> "") into the parser's own storage. */
static bool own(lf_parser *p, size_t slot, const char **field)
{
    p->strings[slot] = strdup(*field ? *field : "");
    *field = p->strings[slot];
    return p->strings[slot] != NULL;
}

lf_err lf_parser_new(const lf_parser_config *cfg, lf_parser **out, lf_error *err)
{
    *out = NULL;
    const char *name = cfg->name && cfg->name[0] ? cfg->name : "(unnamed)";
    if ((unsigned)cfg->kind >= N_KINDS)
        return lf_error_set(err, LF_ERR_INVALID, "parser %s: unknown kind %d", name,
                            (int)cfg->kind);
    if (!lf_time_format_valid(cfg->time_format))
        return lf_error_set(err, LF_ERR_INVALID,
                            "parser %s: time_format must be rfc3339, unix, unix_ms, unix_us, "
                            "unix_ns or a strptime pattern (at most one %%L or %%N)",
                            name);
    lf_parser *p = calloc(1, sizeof *p);
    if (p == NULL)
        return lf_error_set(err, LF_ERR_NOMEM, "parser %s: out of memory", name);
    p->cfg = *cfg;
    if (!own(p, 0, &p->cfg.name) || !own(p, 1, &p->cfg.pattern) || !own(p, 2, &p->cfg.time_key) ||
        !own(p, 3, &p->cfg.time_format) || !own(p, 4, &p->cfg.level_key) ||
        !own(p, 5, &p->cfg.message_key)) {
        lf_parser_free(p);
        return lf_error_set(err, LF_ERR_NOMEM, "parser %s: out of memory", name);
    }
    if (cfg->kind == LF_PARSER_REGEX) {
        lf_error inner = {0};
        lf_err rc = lf_p_regex_compile(&p->cfg, &p->re, &inner);
        if (rc != LF_OK) {
            lf_parser_free(p);
            return lf_error_set(err, rc, "parser %s: %s", name, inner.message);
        }
    }
    *out = p;
    return LF_OK;
}

lf_err lf_parser_apply(const lf_parser *p, const char *data, size_t len, int64_t now_ns,
                       lf_agent_event *ev, lf_error *err)
{
    switch (p->cfg.kind) {
    case LF_PARSER_NONE:
        return LF_OK;
    case LF_PARSER_JSON:
        return lf_parse_json(&p->cfg, data, len, ev, err);
    case LF_PARSER_REGEX:
        return lf_p_regex_apply(p->re, data, len, ev, err);
    case LF_PARSER_NGINX_ACCESS:
        return lf_parse_nginx_access(data, len, ev, err);
    case LF_PARSER_NGINX_ERROR:
        return lf_parse_nginx_error(data, len, ev, err);
    case LF_PARSER_SYSLOG:
        return lf_parse_syslog(data, len, now_ns, ev, err);
    case LF_PARSER_CRI:
        return lf_parse_cri(data, len, ev, err);
    case LF_PARSER_DOCKER:
        return lf_parse_docker(data, len, ev, err);
    }
    return lf_error_set(err, LF_ERR_INVALID, "parser: unknown kind");
}

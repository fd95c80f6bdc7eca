/*
 * regex.c — the regex parser: a PCRE2 pattern whose named groups say where the fields are.
 * The group named like message_key ("message") becomes the message, time_key ("time") the
 * time (read with time_format), level_key ("level") the level; every other named group
 * becomes a label of its name. A record the pattern does not match is LF_ERR_INVALID.
 *
 * Compiled once (JIT when available) when the parser is created; what each group means is
 * resolved then too. Matching allocates its own match data per call, so one parser serves any
 * number of threads. Every match is bounded: a match limit and a heap limit stop catastrophic
 * backtracking (the record then counts as not matching).
 *
 * Log lines are untrusted bytes, not always valid UTF-8. The pattern is compiled twice: in UTF
 * mode, used for valid UTF-8 (PCRE2 checks that first), and in byte mode for the rest, where
 * '.' and \S match single bytes. PCRE2_MATCH_INVALID_UTF would do this in one code, but its
 * JIT in PCRE2 10.42 fails to match \S, \D, \W against multi-byte characters (PCRE2 issue
 * 224), so valid "José" would not match "\S+".
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stdlib.h>
#include <string.h>

#include "parser_int.h"

/* Longest pattern accepted (a config value; bounds compile time). */
#define MAX_PATTERN 16384
/* Backtracking budget per record: ~ms of CPU at worst, far above what a sane pattern needs. */
#define MATCH_LIMIT    200000
#define HEAP_LIMIT_KIB 4096

typedef enum group_role { ROLE_LABEL, ROLE_MESSAGE, ROLE_TIME, ROLE_LEVEL } group_role;

typedef struct named_group {
    uint32_t number;
    group_role role;
    char name[LF_PAYLOAD_MAX_KEY + 1]; /* PCRE2 names are at most 32 code units */
} named_group;

struct lf_p_regex {
    pcre2_code *code;       /* UTF mode */
    pcre2_code *code_bytes; /* byte mode, for subjects that are not UTF-8; NULL if the pattern
                               has no byte-mode meaning (\x{100}) */
    pcre2_match_context *mctx;
    char *time_format;
    named_group *groups;
    size_t n_groups;
};

void lf_p_regex_free(lf_p_regex *re)
{
    if (re == NULL)
        return;
    pcre2_code_free(re->code);
    pcre2_code_free(re->code_bytes);
    pcre2_match_context_free(re->mctx);
    free(re->time_format);
    free(re->groups);
    free(re);
}

static const char *or_default(const char *s, const char *def)
{
    return s && s[0] ? s : def;
}

static lf_err load_groups(lf_p_regex *re, const lf_parser_config *cfg, lf_error *err)
{
    uint32_t count = 0, entry = 0;
    PCRE2_SPTR table = NULL;
    pcre2_pattern_info(re->code, PCRE2_INFO_NAMECOUNT, &count);
    if (count == 0)
        return lf_error_set(err, LF_ERR_INVALID,
                            "regex parser: the pattern has no named group (?<name>...)");
    pcre2_pattern_info(re->code, PCRE2_INFO_NAMEENTRYSIZE, &entry);
    pcre2_pattern_info(re->code, PCRE2_INFO_NAMETABLE, &table);
    re->groups = calloc(count, sizeof *re->groups);
    if (re->groups == NULL)
        return lf_error_set(err, LF_ERR_NOMEM, "regex parser: out of memory");
    const char *mkey = or_default(cfg->message_key, "message");
    const char *tkey = or_default(cfg->time_key, "time");
    const char *lkey = or_default(cfg->level_key, "level");
    for (uint32_t i = 0; i < count; i++) {
        /* Each entry: the group number (2 bytes, big-endian), then the NUL-terminated name. */
        PCRE2_SPTR e = table + (size_t)i * entry;
        named_group *g = &re->groups[re->n_groups++];
        g->number = ((uint32_t)e[0] << 8) | e[1];
        size_t n = strnlen((const char *)e + 2, entry - 2);
        if (n > LF_PAYLOAD_MAX_KEY)
            n = LF_PAYLOAD_MAX_KEY;
        memcpy(g->name, e + 2, n);
        g->name[n] = '\0';
        g->role = strcmp(g->name, mkey) == 0   ? ROLE_MESSAGE
                  : strcmp(g->name, tkey) == 0 ? ROLE_TIME
                  : strcmp(g->name, lkey) == 0 ? ROLE_LEVEL
                                               : ROLE_LABEL;
    }
    return LF_OK;
}

lf_err lf_p_regex_compile(const lf_parser_config *cfg, lf_p_regex **out, lf_error *err)
{
    *out = NULL;
    if (cfg->pattern == NULL || cfg->pattern[0] == '\0')
        return lf_error_set(err, LF_ERR_INVALID, "regex parser: `pattern` is required");
    size_t plen = strlen(cfg->pattern);
    if (plen > MAX_PATTERN)
        return lf_error_set(err, LF_ERR_INVALID, "regex parser: pattern longer than %d bytes",
                            MAX_PATTERN);
    lf_p_regex *re = calloc(1, sizeof *re);
    if (re == NULL)
        return lf_error_set(err, LF_ERR_NOMEM, "regex parser: out of memory");
    lf_err rc;
    int code = 0;
    PCRE2_SIZE offset = 0;
    re->code = pcre2_compile((PCRE2_SPTR)cfg->pattern, plen, PCRE2_UTF, &code, &offset, NULL);
    if (re->code == NULL) {
        PCRE2_UCHAR msg[160];
        if (pcre2_get_error_message(code, msg, sizeof msg) < 0)
            strcpy((char *)msg, "unknown error");
        rc = lf_error_set(err, LF_ERR_INVALID, "regex parser: %s at offset %zu of the pattern",
                          (const char *)msg, (size_t)offset);
        goto fail;
    }
    /* JIT is an optimisation: without it (unsupported CPU, no executable memory) the
     * interpreter gives the same results. */
    (void)pcre2_jit_compile(re->code, PCRE2_JIT_COMPLETE);
    int unused_code = 0;
    re->code_bytes = pcre2_compile((PCRE2_SPTR)cfg->pattern, plen, 0, &unused_code, &offset, NULL);
    if (re->code_bytes)
        (void)pcre2_jit_compile(re->code_bytes, PCRE2_JIT_COMPLETE);
    re->mctx = pcre2_match_context_create(NULL);
    if (re->mctx == NULL) {
        rc = lf_error_set(err, LF_ERR_NOMEM, "regex parser: out of memory");
        goto fail;
    }
    pcre2_set_match_limit(re->mctx, MATCH_LIMIT);
    pcre2_set_heap_limit(re->mctx, HEAP_LIMIT_KIB);
    rc = load_groups(re, cfg, err);
    if (rc != LF_OK)
        goto fail;
    re->time_format = strdup(cfg->time_format ? cfg->time_format : "");
    if (re->time_format == NULL) {
        rc = lf_error_set(err, LF_ERR_NOMEM, "regex parser: out of memory");
        goto fail;
    }
    *out = re;
    return LF_OK;
fail:
    lf_p_regex_free(re);
    return rc;
}

lf_err lf_p_regex_apply(const lf_p_regex *re, const char *data, size_t len, lf_agent_event *ev,
                        lf_error *err)
{
    if (data == NULL)
        data = "", len = 0;
    pcre2_match_data *md = pcre2_match_data_create_from_pattern(re->code, NULL);
    if (md == NULL)
        return lf_error_set(err, LF_ERR_NOMEM, "regex parser: out of memory");
    lf_err rc = LF_OK;
    int m = pcre2_match(re->code, (PCRE2_SPTR)data, len, 0, 0, md, re->mctx);
    if (m <= PCRE2_ERROR_UTF8_ERR1 && m >= PCRE2_ERROR_UTF8_ERR21)
        m = re->code_bytes ? pcre2_match(re->code_bytes, (PCRE2_SPTR)data, len, 0, 0, md, re->mctx)
                           : PCRE2_ERROR_NOMATCH;
    if (m < 0) {
        rc = lf_error_set(err, LF_ERR_INVALID, "regex parser: %s",
                          m == PCRE2_ERROR_NOMATCH ? "the record does not match the pattern"
                                                   : "matching gave up (backtracking limit)");
        goto out;
    }
    PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
    uint32_t pairs = pcre2_get_ovector_count(md);
    /* Decide everything first, then write: the message is a slice of data (borrowed). */
    const char *msg = data;
    size_t msg_len = len;
    int level = 0;
    int64_t ts = 0;
    bool have_ts = false;
    for (size_t i = 0; i < re->n_groups; i++) {
        const named_group *g = &re->groups[i];
        if (g->number >= pairs || ov[2 * g->number] == PCRE2_UNSET ||
            ov[2 * g->number + 1] < ov[2 * g->number])
            continue;
        const char *s = data + ov[2 * g->number];
        size_t n = ov[2 * g->number + 1] - ov[2 * g->number];
        if (g->role == ROLE_MESSAGE) {
            msg = s;
            msg_len = n;
        } else if (g->role == ROLE_LEVEL) {
            level = lf_level_parse(s, n);
        } else if (g->role == ROLE_TIME) {
            have_ts = lf_parse_time(s, n, re->time_format, &ts, NULL) == LF_OK;
        }
    }
    ev->message = msg;
    ev->message_len = msg_len;
    if (level)
        ev->level = level;
    if (have_ts)
        ev->ts_ns = ts;
    for (size_t i = 0; i < re->n_groups; i++) {
        const named_group *g = &re->groups[i];
        if (g->role != ROLE_LABEL || g->number >= pairs || ov[2 * g->number] == PCRE2_UNSET ||
            ov[2 * g->number + 1] < ov[2 * g->number])
            continue;
        size_t start = ov[2 * g->number];
        (void)lf_agent_event_set_label(ev, g->name, strlen(g->name), data + start,
                                       ov[2 * g->number + 1] - start);
    }
out:
    pcre2_match_data_free(md);
    return rc;
}

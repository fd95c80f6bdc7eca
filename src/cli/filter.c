/*
 * filter.c — the filter flags shared by query, tail, export, sql and verify.
 *
 * A filter has two halves. The window (time range, app, entry type) goes to the server, which
 * can select on the columns it stores. Everything about content (level, attributes, message
 * substring or regex) can only be checked here, after decryption: the server never sees it.
 * Time is checked again locally per entry, because a block row spans [ts, ts_max] and holds
 * entries outside a narrow window.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "logflux/timefmt.h"
#include "rows.h"

const char lfc_filter_usage[] =
    "  --since D            the last D (30s, 15m, 1h, 2d, 1w; default 1h)\n"
    "  --from T --to T      RFC 3339 times or durations ago (e.g. --from 3h --to 1h)\n"
    "  --app A              one app\n"
    "  --type T             log|metric|trace|event|audit|telemetry\n"
    "  --level L            that level or more severe (emergency..debug, or 1..8)\n"
    "  --label k=v          attribute k equals v (repeatable; all must match)\n"
    "  --grep S             message contains S (--ignore-case / -i for case-insensitive)\n"
    "  --regex RE           message matches the POSIX extended regular expression RE\n"
    "  --limit N            at most N entries\n";

lf_err lfc_parse_duration(const char *s, int64_t *ns, lf_error *err)
{
    if (s == NULL || !isdigit((unsigned char)*s))
        return lf_error_set(err, LF_ERR_INVALID, "bad duration (want e.g. 30m, 1h, 2d)");
    char *end = NULL;
    unsigned long long v = strtoull(s, &end, 10);
    int64_t unit;
    if (strcmp(end, "ms") == 0)
        unit = 1000000LL;
    else if (strcmp(end, "s") == 0)
        unit = LF_NS_PER_SEC;
    else if (strcmp(end, "m") == 0 || strcmp(end, "min") == 0)
        unit = 60 * LF_NS_PER_SEC;
    else if (strcmp(end, "h") == 0)
        unit = 3600 * LF_NS_PER_SEC;
    else if (strcmp(end, "d") == 0)
        unit = 86400 * LF_NS_PER_SEC;
    else if (strcmp(end, "w") == 0)
        unit = 7 * 86400 * LF_NS_PER_SEC;
    else
        return lf_error_set(err, LF_ERR_INVALID, "bad duration unit (use ms, s, m, h, d or w)");
    if (v > (unsigned long long)(INT64_MAX / unit))
        return lf_error_set(err, LF_ERR_TOO_LARGE, "duration too long");
    *ns = (int64_t)v * unit;
    return LF_OK;
}

lf_err lfc_parse_time(const char *s, int64_t now, int64_t *ns, lf_error *err)
{
    if (s == NULL || *s == '\0')
        return lf_error_set(err, LF_ERR_INVALID, "empty time");
    if (strcmp(s, "now") == 0) {
        *ns = now;
        return LF_OK;
    }
    size_t n = strlen(s), digits = strspn(s, "0123456789");
    if (digits == n && n > 12) { /* Unix nanoseconds */
        char *end = NULL;
        unsigned long long v = strtoull(s, &end, 10);
        if (v > (unsigned long long)INT64_MAX)
            return lf_error_set(err, LF_ERR_INVALID, "time out of range");
        *ns = (int64_t)v;
        return LF_OK;
    }
    if (strchr(s, 'T') != NULL || strchr(s, 't') != NULL)
        return lf_rfc3339_parse(s, n, ns, err);
    int64_t d;
    lf_err rc = lfc_parse_duration(s, &d, err);
    if (rc != LF_OK)
        return lf_error_set(err, LF_ERR_INVALID,
                            "bad time '%.40s' (RFC 3339, or a duration ago such as 2h)", s);
    *ns = now - d;
    return LF_OK;
}

static int level_from(const char *s)
{
    static const char *const names[] = {"emergency", "alert",  "critical", "error",
                                        "warning",   "notice", "info",     "debug"};
    static const char *const alt[] = {"emerg", "alert",  "crit",        "err",
                                      "warn",  "notice", "information", "dbg"};
    if (isdigit((unsigned char)s[0]) && s[1] == '\0' && s[0] >= '1' && s[0] <= '8')
        return s[0] - '0';
    for (int i = 0; i < 8; i++)
        if (strcasecmp(s, names[i]) == 0 || strcasecmp(s, alt[i]) == 0)
            return i + 1;
    return 0;
}

static int set_str(char **dst, const char *v)
{
    free(*dst);
    *dst = strdup(v);
    return *dst ? LFC_EXIT_OK : lfc_fail(LFC_EXIT_ERROR, "out of memory");
}

int lfc_filter_arg(lfc_filter *f, int argc, char **argv, int *i, bool *consumed)
{
    *consumed = false;
    const char *a = argv[*i];
    if (strcmp(a, "--ignore-case") == 0 || strcmp(a, "-i") == 0) {
        f->ignore_case = true;
        *consumed = true;
        (*i)++;
        return LFC_EXIT_OK;
    }
    static const char *const flags[] = {"--since", "--from",  "--to",   "--app",   "--type",
                                        "--level", "--label", "--grep", "--regex", "--limit"};
    const char *flag = NULL, *val = NULL;
    int used = 0;
    for (size_t k = 0; k < sizeof flags / sizeof *flags; k++) {
        size_t n = strlen(flags[k]);
        if (strncmp(a, flags[k], n) != 0)
            continue;
        if (a[n] == '=') {
            flag = flags[k];
            val = a + n + 1;
            used = 1;
        } else if (a[n] == '\0') {
            flag = flags[k];
            if (*i + 1 >= argc)
                return lfc_fail(LFC_EXIT_USAGE, "%s needs a value", flag);
            val = argv[*i + 1];
            used = 2;
        }
        if (flag != NULL)
            break;
    }
    if (flag == NULL)
        return LFC_EXIT_OK;
    *consumed = true;
    *i += used;
    int rc = LFC_EXIT_OK;
    if (strcmp(flag, "--since") == 0)
        rc = set_str(&f->since_, val);
    else if (strcmp(flag, "--from") == 0)
        rc = set_str(&f->from_, val);
    else if (strcmp(flag, "--to") == 0)
        rc = set_str(&f->to_, val);
    else if (strcmp(flag, "--app") == 0) {
        size_t n = strlen(val);
        if (n == 0 || n > LF_NATIVE_APP_MAX ||
            strspn(val, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopq"
                        "rstuvwxyz0123456789._-") != n)
            return lfc_fail(LFC_EXIT_USAGE, "--app: 1..128 of [A-Za-z0-9._-]");
        rc = set_str(&f->app, val);
    } else if (strcmp(flag, "--type") == 0) {
        int t = lf_entry_type_from_name(val, strlen(val));
        if (t == 0 && isdigit((unsigned char)val[0]) && val[1] == '\0' && val[0] >= '1' &&
            val[0] <= '7')
            t = val[0] - '0';
        if (t == 0)
            return lfc_fail(LFC_EXIT_USAGE,
                            "--type: log, metric, trace, event, audit or telemetry");
        f->type = t;
    } else if (strcmp(flag, "--level") == 0) {
        int l = level_from(val);
        if (l == 0)
            return lfc_fail(LFC_EXIT_USAGE, "--level: emergency, alert, critical, error, "
                                            "warning, notice, info, debug (or 1..8)");
        f->level = l;
    } else if (strcmp(flag, "--label") == 0) {
        const char *eq = strchr(val, '=');
        if (eq == NULL || eq == val)
            return lfc_fail(LFC_EXIT_USAGE, "--label wants key=value");
        if (f->n_labels == LFC_LABELS_MAX)
            return lfc_fail(LFC_EXIT_USAGE, "at most %d --label flags", LFC_LABELS_MAX);
        char *k = strndup(val, (size_t)(eq - val)), *v = strdup(eq + 1);
        if (k == NULL || v == NULL) {
            free(k);
            free(v);
            return lfc_fail(LFC_EXIT_ERROR, "out of memory");
        }
        f->label_key[f->n_labels] = k;
        f->label_value[f->n_labels++] = v;
    } else if (strcmp(flag, "--grep") == 0)
        rc = set_str(&f->grep, val);
    else if (strcmp(flag, "--regex") == 0)
        rc = set_str(&f->regex_src, val);
    else if (strcmp(flag, "--limit") == 0) {
        char *end = NULL;
        unsigned long long n = strtoull(val, &end, 10);
        if (!isdigit((unsigned char)val[0]) || *end != '\0' || n == 0 || n > 100000000ULL)
            return lfc_fail(LFC_EXIT_USAGE, "--limit: a positive integer");
        f->limit = (size_t)n;
    }
    return rc;
}

int lfc_filter_finish(lfc_filter *f, int64_t now, int64_t default_since_ns)
{
    lf_error err = {0};
    if (f->since_ != NULL && (f->from_ != NULL || f->to_ != NULL))
        return lfc_fail(LFC_EXIT_USAGE, "--since and --from/--to exclude each other");
    f->to = now;
    f->from = now - default_since_ns;
    if (f->since_ != NULL) {
        int64_t d;
        if (lfc_parse_duration(f->since_, &d, &err) != LF_OK)
            return lfc_fail(LFC_EXIT_USAGE, "--since: %s", err.message);
        f->from = now - d;
    }
    if (f->from_ != NULL && lfc_parse_time(f->from_, now, &f->from, &err) != LF_OK)
        return lfc_fail(LFC_EXIT_USAGE, "--from: %s", err.message);
    if (f->to_ != NULL && lfc_parse_time(f->to_, now, &f->to, &err) != LF_OK)
        return lfc_fail(LFC_EXIT_USAGE, "--to: %s", err.message);
    if (f->from_ != NULL && f->to_ == NULL)
        f->to = now;
    if (f->to_ != NULL && f->from_ == NULL)
        f->from = f->to - default_since_ns;
    if (f->from > f->to)
        return lfc_fail(LFC_EXIT_USAGE, "--from is after --to");
    if (f->regex_src != NULL && !f->has_regex) {
        int rc = regcomp(&f->regex, f->regex_src,
                         REG_EXTENDED | REG_NOSUB | (f->ignore_case ? REG_ICASE : 0));
        if (rc != 0) {
            char msg[128];
            regerror(rc, &f->regex, msg, sizeof msg);
            return lfc_fail(LFC_EXIT_USAGE, "--regex: %s", msg);
        }
        f->has_regex = true;
    }
    return LFC_EXIT_OK;
}

void lfc_filter_window(const lfc_filter *f, lfc_window *w)
{
    w->from = f->from;
    w->to = f->to;
    w->app = f->app;
    w->type = f->type;
}

static bool contains(const char *hay, const char *needle, bool icase)
{
    if (!icase)
        return strstr(hay, needle) != NULL;
    size_t n = strlen(needle);
    if (n == 0)
        return true;
    for (const char *p = hay; *p; p++)
        if (strncasecmp(p, needle, n) == 0)
            return true;
    return false;
}

bool lfc_filter_match(const lfc_filter *f, const lfc_entry *e)
{
    const lf_payload *p = e->p;
    if (p == NULL)
        return false;
    if (p->ts_ns < f->from || p->ts_ns > f->to)
        return false;
    if (f->type != 0 && p->type != f->type &&
        !(f->type == LF_ENTRY_TELEMETRY && p->type == LF_ENTRY_TELEMETRY_MANAGED))
        return false;
    if (f->app != NULL && e->row != NULL && strcmp(e->row->app, f->app) != 0)
        return false;
    if (f->level != 0 && (p->level < 1 || p->level > f->level))
        return false;
    for (size_t i = 0; i < f->n_labels; i++) {
        bool found = false;
        for (size_t a = 0; a < p->n_attributes && !found; a++)
            found = strcmp(p->attributes[a].key, f->label_key[i]) == 0 &&
                    strcmp(p->attributes[a].value ? p->attributes[a].value : "",
                           f->label_value[i]) == 0;
        if (!found)
            return false;
    }
    if (f->grep != NULL || f->has_regex) {
        /* Log entries (nearly all) are matched in place; others on their summary line. */
        char *owned = NULL;
        const char *msg = p->log.message;
        if (p->type != LF_ENTRY_LOG || msg == NULL)
            msg = owned = lfc_entry_message(p);
        if (msg == NULL)
            return false;
        bool ok = (f->grep == NULL || contains(msg, f->grep, f->ignore_case)) &&
                  (!f->has_regex || regexec(&f->regex, msg, 0, NULL, 0) == 0);
        free(owned);
        if (!ok)
            return false;
    }
    return true;
}

void lfc_filter_free(lfc_filter *f)
{
    if (f == NULL)
        return;
    free(f->app);
    for (size_t i = 0; i < f->n_labels; i++) {
        free(f->label_key[i]);
        free(f->label_value[i]);
    }
    free(f->grep);
    free(f->regex_src);
    if (f->has_regex)
        regfree(&f->regex);
    free(f->since_);
    free(f->from_);
    free(f->to_);
    memset(f, 0, sizeof *f);
}

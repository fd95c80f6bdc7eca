/*
 * journald_config.c — the journald input's options (one table: defaults, validation and the
 * reference in docs/CONFIG-AGENT.md come from it), their cross-checks, and the translation of
 * `matches` and `units` into sd-journal matches.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "journald_int.h"
#include "logflux/payload.h"

#define F(field) offsetof(lf_journald_config, field)

static const lf_option JOURNALD_OPTIONS[] = {
    {"path", LF_OPT_STRING, "", 0, 0, NULL, F(path),
     "Directory of journal files to read (e.g. a journal-remote output directory). Empty: the "
     "local system journal (/var/log/journal and /run/log/journal, this machine only)."},
    {"files", LF_OPT_STRLIST, NULL, 0, 0, NULL, F(files),
     "Journal files to read instead of a directory (new files appearing later are not "
     "followed). Excludes `path`."},
    {"matches", LF_OPT_STRLIST, NULL, 0, 0, NULL, F(matches),
     "Only entries matching these `FIELD=value` terms, combined as journalctl does: terms on "
     "the same field are OR'ed, different fields AND'ed; an item `+` separates alternatives."},
    {"units", LF_OPT_STRLIST, NULL, 0, 0, NULL, F(units),
     "Only entries of these systemd units (`_SYSTEMD_UNIT`; a name without a dot gets "
     "`.service`). OR'ed together, AND'ed with `matches`."},
    {"read_from_head", LF_OPT_BOOL, "false", 0, 0, NULL, F(read_from_head),
     "Without a checkpoint, start at the oldest entry instead of only reading new ones."},
    {"max_entry_bytes", LF_OPT_SIZE, "1MiB", 256, LF_PAYLOAD_MAX_MESSAGE, NULL, F(max_entry_bytes),
     "Longest MESSAGE accepted; an entry with a longer one is skipped and counted in "
     "`logflux_agent_journald_entries_skipped_total`."},
};

bool journald_match_ok(const char *s)
{
    if (strcmp(s, "+") == 0)
        return true;
    const char *eq = strchr(s, '=');
    if (!eq || eq == s || eq - s > 64 || (s[0] >= '0' && s[0] <= '9'))
        return false;
    for (const char *p = s; p < eq; p++)
        if (!((*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '_'))
            return false;
    return true;
}

bool journald_unit_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 255)
        return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c <= 0x20 || c == 0x7f || c == '=' || c == '/')
            return false;
    }
    return true;
}

static lf_err journald_validate(const void *config, lf_error *err)
{
    const lf_journald_config *c = config;
    if (c->path && c->path[0] && c->files.n > 0)
        return lf_error_set(err, LF_ERR_INVALID, "journald: set either path or files, not both");
    for (size_t i = 0; i < c->files.n; i++)
        if (!c->files.items[i][0])
            return lf_error_set(err, LF_ERR_INVALID, "journald: files[%zu] is empty", i);
    for (size_t i = 0; i < c->matches.n; i++)
        if (!journald_match_ok(c->matches.items[i]))
            return lf_error_set(err, LF_ERR_INVALID,
                                "journald: matches[%zu] is not FIELD=value (FIELD of A-Z, 0-9, "
                                "_) nor \"+\"",
                                i);
    for (size_t i = 0; i < c->units.n; i++)
        if (!journald_unit_ok(c->units.items[i]))
            return lf_error_set(err, LF_ERR_INVALID, "journald: units[%zu] is not a unit name", i);
    return LF_OK;
}

static lf_err add_match(sd_journal *j, const char *m, size_t len, lf_error *err)
{
    int r = sd_journal_add_match(j, m, len);
    if (r < 0)
        return lf_error_set(err, LF_ERR_INVALID, "journald: match refused by sd-journal: %s",
                            strerror(-r));
    return LF_OK;
}

lf_err journald_apply_matches(sd_journal *j, const lf_journald_config *cfg, lf_error *err)
{
    lf_err e;
    for (size_t i = 0; i < cfg->matches.n; i++) {
        const char *m = cfg->matches.items[i];
        if (strcmp(m, "+") == 0) {
            int r = sd_journal_add_disjunction(j);
            if (r < 0)
                return lf_error_set(err, LF_ERR_INVALID, "journald: matches[%zu]: %s", i,
                                    strerror(-r));
        } else if ((e = add_match(j, m, strlen(m), err)) != LF_OK) {
            return e;
        }
    }
    if (cfg->units.n == 0)
        return LF_OK;
    /* The units form their own AND-ed term, so a "+" in matches does not split them off. */
    if (cfg->matches.n > 0) {
        int r = sd_journal_add_conjunction(j);
        if (r < 0)
            return lf_error_set(err, LF_ERR_INVALID, "journald: units: %s", strerror(-r));
    }
    for (size_t i = 0; i < cfg->units.n; i++) {
        const char *u = cfg->units.items[i];
        char m[300];
        int n = snprintf(m, sizeof m, "_SYSTEMD_UNIT=%s%s", u, strchr(u, '.') ? "" : ".service");
        if (n < 0 || (size_t)n >= sizeof m)
            return lf_error_set(err, LF_ERR_INVALID, "journald: units[%zu] is too long", i);
        if ((e = add_match(j, m, (size_t)n, err)) != LF_OK)
            return e;
    }
    return LF_OK;
}

const lf_agent_input_type lf_agent_input_type_journald = {
    .type = "journald",
    .summary = "Reads the systemd journal (the local one, a directory such as a journal-remote "
               "output, or given files) through sd-journal: one event per entry with MESSAGE, "
               "PRIORITY as level, the entry time, SYSLOG_IDENTIFIER as logger and unit, "
               "hostname, pid, uid, comm, transport and boot id as labels. Its checkpoint is "
               "the journal cursor, advanced once entries are durable in the disk buffer.",
    .options = JOURNALD_OPTIONS,
    .n_options = sizeof JOURNALD_OPTIONS / sizeof JOURNALD_OPTIONS[0],
    .config_size = sizeof(lf_journald_config),
    .validate = journald_validate,
    .create = journald_create,
};

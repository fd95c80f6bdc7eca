/*
 * journald_fields.c — one journal entry's fields to an lf_agent_event.
 *
 * sd-journal hands the fields of an entry one at a time as "KEY=value" (the value is binary:
 * MESSAGE may hold any bytes, including NUL and invalid UTF-8) in no defined order. This file
 * is the pure part of the input: no sd-journal, no I/O, so it can be fuzzed on its own
 * (tests/fuzz/fuzz_agent_journald_fields.c).
 *
 * Mapping (docs/AGENT-JOURNALD.md): MESSAGE -> message (copied as is; absent = empty),
 * PRIORITY "0".."7" -> level 1..8, _SOURCE_REALTIME_TIMESTAMP (else __REALTIME_TIMESTAMP) ->
 * ts, SYSLOG_IDENTIFIER (else _COMM) -> logger, and a few trusted fields as labels. Values that
 * hold control bytes are not used as labels or logger: a NUL would silently cut them.
 */
#include <string.h>

#include "journald_int.h"

/* Trusted (underscore) fields copied to labels: small, stable, useful for filtering. */
static const struct {
    const char *field;
    const char *label;
} LABEL_FIELDS[] = {
    {"_SYSTEMD_UNIT", "unit"},
    {"_SYSTEMD_USER_UNIT", "user_unit"},
    {"_HOSTNAME", "hostname"},
    {"_PID", "pid"},
    {"_UID", "uid"},
    {"_COMM", "comm"},
    {"_TRANSPORT", "transport"},
    {"_BOOT_ID", "boot_id"},
};

static bool key_is(const char *key, size_t key_len, const char *name)
{
    size_t n = strlen(name);
    return key_len == n && memcmp(key, name, n) == 0;
}

static bool has_control(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c == 0x7f)
            return true;
    }
    return false;
}

/* Decimal microseconds, 1..19 digits, no sign; -1 when malformed or beyond int64. */
static int64_t parse_usec(const char *s, size_t len)
{
    if (len == 0 || len > 19)
        return -1;
    uint64_t v = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (uint64_t)(s[i] - '0'); /* 19 digits cannot overflow uint64 */
    }
    return v > (uint64_t)INT64_MAX ? -1 : (int64_t)v;
}

void journald_entry_begin(journald_entry *st, size_t max_message)
{
    *st = (journald_entry){.max_message = max_message, .source_realtime_us = -1};
}

static lf_err set_message(journald_entry *st, lf_agent_event *ev, const char *v, size_t n,
                          lf_error *err)
{
    if (st->have_message || st->too_large)
        return LF_OK;
    if (n > st->max_message) {
        st->too_large = true; /* not copied: the entry is skipped */
        return LF_OK;
    }
    st->have_message = true;
    return lf_agent_event_set_message_copy(ev, v, n, err);
}

lf_err journald_entry_field(journald_entry *st, lf_agent_event *ev, const void *data, size_t len,
                            lf_error *err)
{
    const char *p = data;
    const char *eq = len ? memchr(p, '=', len) : NULL;
    if (!eq || eq == p)
        return LF_OK; /* sd-journal never returns these; ignore rather than guess */
    size_t key_len = (size_t)(eq - p);
    const char *v = eq + 1;
    size_t n = len - key_len - 1;

    if (key_is(p, key_len, "MESSAGE"))
        return set_message(st, ev, v, n, err);
    if (key_is(p, key_len, "PRIORITY")) {
        if (ev->level == 0 && n == 1 && v[0] >= '0' && v[0] <= '7')
            ev->level = v[0] - '0' + 1; /* syslog severity 0 (emerg) is LF_LEVEL 1 */
        return LF_OK;
    }
    if (key_is(p, key_len, "_SOURCE_REALTIME_TIMESTAMP")) {
        if (st->source_realtime_us < 0)
            st->source_realtime_us = parse_usec(v, n);
        return LF_OK;
    }
    if (n == 0 || has_control(v, n))
        return LF_OK;
    if (key_is(p, key_len, "SYSLOG_IDENTIFIER")) {
        if (!st->have_identifier) {
            lf_agent_event_set_logger(ev, v, n);
            st->have_identifier = true;
        }
        return LF_OK;
    }
    for (size_t i = 0; i < sizeof LABEL_FIELDS / sizeof LABEL_FIELDS[0]; i++) {
        if (!key_is(p, key_len, LABEL_FIELDS[i].field))
            continue;
        const char *label = LABEL_FIELDS[i].label;
        if (!lf_agent_event_label(ev, label))
            (void)lf_agent_event_set_label(ev, label, strlen(label), v, n);
        break;
    }
    return LF_OK;
}

void journald_entry_finish(journald_entry *st, lf_agent_event *ev, uint64_t realtime_us)
{
    uint64_t us = st->source_realtime_us > 0 ? (uint64_t)st->source_realtime_us : realtime_us;
    ev->ts_ns = (us > 0 && us <= (uint64_t)(INT64_MAX / 1000)) ? (int64_t)us * 1000 : 0;
    if (!st->have_identifier) {
        const char *comm = lf_agent_event_label(ev, "comm");
        if (comm)
            lf_agent_event_set_logger(ev, comm, strlen(comm));
    }
    lf_agent_event_set_source(ev, "journald", 8);
    if (!st->have_message) {
        ev->message = "";
        ev->message_len = 0;
    }
}

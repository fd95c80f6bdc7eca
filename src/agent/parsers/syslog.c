/*
 * syslog.c — one syslog message (the transport framing already removed) to an event.
 *
 *   RFC 5424: <PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID [SD-ID p="v"...]... MSG
 *   RFC 3164: <PRI>Mmm dd hh:mm:ss HOSTNAME TAG[PID]: MSG
 * A version digit after PRI means 5424. 3164 is what senders really write, so it is read
 * leniently: the PRI may be missing (a program writing to /dev/log through some libraries),
 * the hostname may be missing (the token after the time ending in ':' or holding "[pid]:" is
 * the tag), the time may be RFC 3339 (rsyslog's high-precision form) or carry a fraction.
 * A message with a valid PRI whose header is not either format still parses: level and
 * facility from the PRI, the rest as the message.
 *
 * The whole header is parsed (and the structured data validated) before the event is touched,
 * so LF_ERR_INVALID leaves it as given. The message is borrowed from the input.
 */
#include <string.h>

#include "parser_int.h"

#define NS_PER_S 1000000000LL

static const char *const facility_names[24] = {
    "kern",   "user",   "mail",     "daemon", "auth",   "syslog",   "lpr",     "news",
    "uucp",   "cron",   "authpriv", "ftp",    "ntp",    "security", "console", "solaris-cron",
    "local0", "local1", "local2",   "local3", "local4", "local5",   "local6",  "local7"};

typedef struct span {
    const char *s;
    size_t n;
} span;

typedef struct syslog_msg {
    int pri; /* -1 = none */
    int64_t ts;
    span host, app, procid, msgid;
    const char *sd; /* 5424 structured data, validated; NULL = none */
    const char *sd_end;
    const char *msg, *msg_end;
} syslog_msg;

/* "<PRI>": 1-3 digits, 0..191. */
static bool parse_pri(const char **p, const char *end, int *pri)
{
    const char *q = *p;
    if (q >= end || *q++ != '<')
        return false;
    int v = 0, n = 0;
    while (q < end && lf_p_digit(*q) && n < 3)
        v = v * 10 + (*q++ - '0'), n++;
    if (n == 0 || q >= end || *q++ != '>' || v > 191)
        return false;
    *pri = v;
    *p = q;
    return true;
}

/* A header field: a run of non-space bytes, then one space. */
static bool field(const char **p, const char *end, span *out)
{
    const char *t = *p;
    while (*p < end && **p != ' ')
        (*p)++;
    out->s = t;
    out->n = (size_t)(*p - t);
    if (out->n == 0 || *p >= end)
        return false;
    (*p)++;
    return true;
}

static bool is_nil(span s)
{
    return s.n == 1 && s.s[0] == '-';
}

/* SD-NAME: printable US-ASCII except '=', ' ', ']', '"'; 1..32 characters. */
static bool sd_name(const char **p, const char *end, span *out)
{
    const char *t = *p;
    while (*p<end &&* * p> ' ' && **p < 127 && **p != '=' && **p != ']' && **p != '"' &&
           *p - t < 32)
        (*p)++;
    out->s = t;
    out->n = (size_t)(*p - t);
    return out->n > 0;
}

/* A PARAM-VALUE's text with \" \\ \] unescaped (another backslash stays), cut to cap - 1. */
static size_t sd_unescape(span v, char *out, size_t cap)
{
    size_t n = 0;
    for (size_t i = 0; i < v.n && n + 1 < cap; i++) {
        char c = v.s[i];
        if (c == '\\' && i + 1 < v.n &&
            (v.s[i + 1] == '"' || v.s[i + 1] == '\\' || v.s[i + 1] == ']'))
            c = v.s[++i];
        out[n++] = c;
    }
    return n;
}

/* Structured data at p: "-" or one or more [ID PARAM="VALUE"...]. Returns the end, NULL if
 * malformed. With ev, each parameter becomes the label sd.<id>.<param>. */
static const char *parse_sd(const char *p, const char *end, lf_agent_event *ev)
{
    if (p < end && *p == '-')
        return p + 1;
    if (p >= end || *p != '[')
        return NULL;
    while (p < end && *p == '[') {
        p++;
        span id, name;
        if (!sd_name(&p, end, &id))
            return NULL;
        while (p < end && *p == ' ') {
            p++;
            if (!sd_name(&p, end, &name) || p + 1 >= end || p[0] != '=' || p[1] != '"')
                return NULL;
            p += 2;
            const char *v = p;
            while (p < end && *p != '"')
                p += (*p == '\\' && p + 1 < end) ? 2 : 1;
            if (p >= end)
                return NULL;
            span value = {v, (size_t)(p - v)};
            p++;
            if (ev) {
                char key[3 + 32 + 1 + 32 + 1], text[LF_PAYLOAD_MAX_VALUE + 8];
                size_t kn = 0;
                memcpy(key, "sd.", 3), kn = 3;
                memcpy(key + kn, id.s, id.n), kn += id.n;
                key[kn++] = '.';
                memcpy(key + kn, name.s, name.n), kn += name.n;
                size_t tn = sd_unescape(value, text, sizeof text);
                (void)lf_agent_event_set_label(ev, key, kn, text, tn);
            }
        }
        if (p >= end || *p != ']')
            return NULL;
        p++;
    }
    return p;
}

/* After "<PRI>": "1 TS HOST APP PROCID MSGID SD[ MSG]". */
static bool parse_5424(const char *p, const char *end, syslog_msg *m)
{
    span version, ts;
    if (!field(&p, end, &version) || !(version.n == 1 && version.s[0] == '1') ||
        !field(&p, end, &ts) || !field(&p, end, &m->host) || !field(&p, end, &m->app) ||
        !field(&p, end, &m->procid) || !field(&p, end, &m->msgid))
        return false;
    /* An unreadable time is no reason to lose the record: it stays unknown. */
    if (!is_nil(ts) && lf_parse_time(ts.s, ts.n, "rfc3339", &m->ts, NULL) != LF_OK)
        m->ts = 0;
    const char *sd_end = parse_sd(p, end, NULL);
    if (sd_end == NULL)
        return false;
    if (*p == '[') {
        m->sd = p;
        m->sd_end = sd_end;
    }
    p = sd_end;
    if (p < end && *p++ != ' ')
        return false;
    m->msg = p;
    return true;
}

/* The 3164 time: "Mmm dd hh:mm:ss" (day space-padded or not, optional fraction), or an RFC
 * 3339 token. Then a space or the end. The year is inferred from now. */
static bool parse_3164_time(const char **pp, const char *end, int64_t now, int64_t *ts)
{
    const char *p = *pp;
    if (p < end && lf_p_digit(*p)) {
        const char *t = p;
        while (p < end && *p != ' ')
            p++;
        if (lf_parse_time(t, (size_t)(p - t), "rfc3339", ts, NULL) != LF_OK)
            return false;
    } else {
        if (end - p < 14)
            return false;
        int mo = lf_p_month_abbr(p);
        if (mo == 0 || p[3] != ' ')
            return false;
        p += 4;
        if (*p == ' ')
            p++;
        int d = 0, hms[3] = {0}, nd = 0;
        for (; nd < 2 && p < end && lf_p_digit(*p); nd++)
            d = d * 10 + (*p++ - '0');
        if (nd == 0)
            return false;
        for (int i = 0; i < 3; i++) {
            if (end - p < 3 || *p != (i == 0 ? ' ' : ':') || !lf_p_digit(p[1]) || !lf_p_digit(p[2]))
                return false;
            hms[i] = (p[1] - '0') * 10 + (p[2] - '0');
            p += 3;
        }
        /* Impossible fields mean this is not a 3164 time; a date no nearby year has (Feb 29)
         * is a real time whose year we cannot tell. */
        if (d < 1 || d > lf_p_days_in_month(2024, mo) || hms[0] > 23 || hms[1] > 59 || hms[2] > 60)
            return false;
        int64_t frac = 0, scale = NS_PER_S;
        if (p < end && *p == '.') {
            p++;
            const char *f = p;
            for (; p < end && lf_p_digit(*p) && p - f < 9; p++)
                frac = frac * 10 + (*p - '0'), scale /= 10;
            if (p == f || (p < end && lf_p_digit(*p)))
                return false;
            frac *= scale;
        }
        /* No year, no zone: UTC, in the latest year that is not more than a day ahead. */
        const int64_t day = 86400 * NS_PER_S;
        int64_t year = lf_p_year_of(now), limit = now > INT64_MAX - day ? INT64_MAX : now + day;
        bool found = false;
        for (int64_t y = year + 1; y >= year - 1 && !found; y--)
            found = lf_p_civil_to_ns(y, mo, d, hms[0], hms[1], hms[2], frac, 0, ts) && *ts <= limit;
        if (!found)
            *ts = 0;
    }
    if (p < end && *p++ != ' ')
        return false;
    *pp = p;
    return true;
}

/* TAG[PID]: at p — the tag up to '[', ':' or ' ' (1..128 bytes), an optional [pid], then ':'
 * and an optional space. */
static bool parse_tag(const char **pp, const char *end, span *tag, span *pid)
{
    const char *p = *pp;
    const char *t = p;
    while (p < end && *p != '[' && *p != ':' && *p != ' ' && p - t < 128)
        p++;
    *tag = (span){t, (size_t)(p - t)};
    *pid = (span){0};
    if (tag->n == 0 || p >= end)
        return false;
    if (*p == '[') {
        const char *q = ++p;
        while (p < end && *p != ']' && *p != ' ' && p - q < 128)
            p++;
        if (p >= end || *p != ']' || p == q)
            return false;
        *pid = (span){q, (size_t)(p - q)};
        p++;
    }
    if (p >= end || *p != ':')
        return false;
    p++;
    if (p < end && *p == ' ')
        p++;
    *pp = p;
    return true;
}

/* After the optional PRI: "TIME [HOST ]TAG[PID]: MSG", the tag optional too. */
static bool parse_3164(const char *p, const char *end, int64_t now, syslog_msg *m)
{
    if (!parse_3164_time(&p, end, now, &m->ts))
        return false;
    /* The first token is the hostname unless it already looks like a tag ("app:",
     * "app[12]:"): local senders omit the hostname. */
    const char *t = p;
    while (p < end && *p != ' ')
        p++;
    bool first_is_tag = p > t && p[-1] == ':';
    p = t;
    if (!first_is_tag && p < end) {
        const char *h = p;
        while (p < end && *p != ' ')
            p++;
        m->host = (span){h, (size_t)(p - h)};
        if (p < end)
            p++;
    }
    const char *before_tag = p;
    if (!parse_tag(&p, end, &m->app, &m->procid)) {
        p = before_tag;
        m->app = m->procid = (span){0};
    }
    m->msg = p;
    return true;
}

lf_err lf_parse_syslog(const char *data, size_t len, int64_t now_ns, lf_agent_event *ev,
                       lf_error *err)
{
    if (data == NULL)
        data = "", len = 0;
    const char *p = data, *end = data + len;
    /* Framing leftovers: a trailing newline (or NUL, as some senders add) is not text. */
    while (end > p && (end[-1] == '\n' || end[-1] == '\r' || end[-1] == '\0'))
        end--;
    syslog_msg m = {.pri = -1};
    m.msg_end = end;
    if (now_ns <= 0)
        now_ns = lf_p_now_ns();
    bool has_pri = parse_pri(&p, end, &m.pri);
    bool ok = false;
    if (has_pri && p < end && lf_p_digit(*p) && p + 1 < end && p[1] == ' ')
        ok = parse_5424(p, end, &m);
    if (!ok) {
        syslog_msg retry = {.pri = m.pri, .msg_end = end};
        m = retry;
        ok = parse_3164(p, end, now_ns, &m);
    }
    if (!ok) {
        if (!has_pri)
            return lf_error_set(err, LF_ERR_INVALID, "syslog: neither RFC 5424 nor RFC 3164");
        syslog_msg rest = {.pri = m.pri, .msg = p, .msg_end = end};
        m = rest;
    }
    const char *msg = m.msg;
    if (m.msg_end - msg >= 3 && memcmp(msg, "\xEF\xBB\xBF", 3) == 0)
        msg += 3;
    ev->message = msg;
    ev->message_len = (size_t)(m.msg_end - msg);
    if (m.ts)
        ev->ts_ns = m.ts;
    if (m.pri >= 0) {
        ev->level = m.pri % 8 + 1;
        const char *fac = facility_names[m.pri / 8];
        (void)lf_agent_event_set_label(ev, "facility", 8, fac, strlen(fac));
    }
    static const struct {
        const char *key;
        size_t off;
    } fields[] = {{"hostname", offsetof(syslog_msg, host)},
                  {"appname", offsetof(syslog_msg, app)},
                  {"procid", offsetof(syslog_msg, procid)},
                  {"msgid", offsetof(syslog_msg, msgid)}};
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
        const span *s = (const span *)((const char *)&m + fields[i].off);
        if (s->n > 0 && !is_nil(*s))
            (void)lf_agent_event_set_label(ev, fields[i].key, strlen(fields[i].key), s->s, s->n);
    }
    if (m.app.n > 0 && !is_nil(m.app))
        lf_agent_event_set_logger(ev, m.app.s, m.app.n);
    if (m.sd)
        (void)parse_sd(m.sd, m.sd_end, ev);
    return LF_OK;
}

/*
 * nginx.c — nginx's access log (the "combined" format and its common extensions, or a JSON
 * log_format) and its error log.
 *
 * Access, combined:
 *   $remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent
 *   "$http_referer" "$http_user_agent"  [anything more: "$http_x_forwarded_for", $request_time...]
 * The "common" format (ending after $body_bytes_sent) is accepted too. Quoted fields end at
 * the next unescaped '"' (nginx writes '"' as \x22; a '\"' as other servers write it is
 * skipped). The whole line stays the message: the parser only adds labels, time and level
 * (5xx error, 4xx warning, other statuses info).
 *
 * Error: "YYYY/MM/DD HH:MM:SS [level] PID#TID: *CID message". nginx writes local time with no
 * zone; we read it as UTC (run nginx with TZ=UTC, or accept the offset). The message is the
 * text after the header; the context nginx appends (", client: ..., server: ..., request:
 * "...", upstream: "...", host: "...") also becomes labels.
 */
#include <string.h>

#include "parser_int.h"

typedef struct span {
    const char *s;
    size_t n;
} span;

static bool span_is(span v, const char *lit)
{
    return v.n == strlen(lit) && memcmp(v.s, lit, v.n) == 0;
}

/* A run of non-space bytes (non-empty). */
static bool token(const char **p, const char *end, span *out)
{
    const char *t = *p;
    while (*p < end && **p != ' ')
        (*p)++;
    out->s = t;
    out->n = (size_t)(*p - t);
    return out->n > 0;
}

static bool expect(const char **p, const char *end, char c)
{
    if (*p >= end || **p != c)
        return false;
    (*p)++;
    return true;
}

/* "..." at *p, backslash escapes skipped over; out is the text between the quotes (escapes
 * left as written: nginx's \xHH are text to us). */
static bool quoted(const char **p, const char *end, span *out)
{
    if (!expect(p, end, '"'))
        return false;
    const char *t = *p;
    while (*p < end && **p != '"')
        *p += (**p == '\\' && *p + 1 < end) ? 2 : 1;
    if (*p >= end)
        return false;
    out->s = t;
    out->n = (size_t)(*p - t);
    (*p)++;
    return true;
}

/* $time_local: "02/Jan/2024:15:04:05 +0100". */
static bool parse_time_local(const char *s, size_t n, int64_t *ns)
{
    const char *p = s;
    int d = 0, y = 0, h = 0, mi = 0, sec = 0, oh = 0, om = 0;
    if (n != 26 || p[2] != '/' || p[6] != '/' || p[11] != ':' || p[14] != ':' || p[17] != ':' ||
        p[20] != ' ' || (p[21] != '+' && p[21] != '-'))
        return false;
    int mo = lf_p_month_abbr(p + 3);
    const struct {
        int off, len;
        int *out;
    } nums[] = {{0, 2, &d},    {7, 4, &y},   {12, 2, &h}, {15, 2, &mi},
                {18, 2, &sec}, {22, 2, &oh}, {24, 2, &om}};
    for (size_t i = 0; i < sizeof nums / sizeof nums[0]; i++) {
        int v = 0;
        for (int k = 0; k < nums[i].len; k++) {
            char c = p[nums[i].off + k];
            if (!lf_p_digit(c))
                return false;
            v = v * 10 + (c - '0');
        }
        *nums[i].out = v;
    }
    if (mo == 0 || oh > 23 || om > 59)
        return false;
    int64_t off = (p[21] == '-' ? -1 : 1) * (int64_t)(oh * 3600 + om * 60);
    return lf_p_civil_to_ns(y, mo, d, h, mi, sec, 0, off, ns);
}

/* 3 digits: 5xx error, 4xx warning, 1xx-3xx info; 0 if it is no HTTP status. */
static int status_level(span st)
{
    if (st.n != 3 || !lf_p_digit(st.s[0]) || !lf_p_digit(st.s[1]) || !lf_p_digit(st.s[2]) ||
        st.s[0] < '1')
        return 0;
    return st.s[0] == '5' ? LF_LEVEL_ERROR : st.s[0] == '4' ? LF_LEVEL_WARNING : LF_LEVEL_INFO;
}

static void label(lf_agent_event *ev, const char *key, span v)
{
    (void)lf_agent_event_set_label(ev, key, strlen(key), v.s, v.n);
}

/* "GET /path?q HTTP/1.1" -> method, path, protocol. A request line that is not one (TLS bytes
 * sent to a plain port, "-") gives no labels. */
static void request_labels(lf_agent_event *ev, span req)
{
    const char *p = req.s, *end = req.s + req.n;
    span method;
    if (!token(&p, end, &method) || method.n > 32)
        return;
    for (size_t i = 0; i < method.n; i++)
        if ((method.s[i] < 'A' || method.s[i] > 'Z') && method.s[i] != '-' && method.s[i] != '_')
            return;
    label(ev, "method", method);
    if (!expect(&p, end, ' ') || p == end)
        return;
    span path = {p, (size_t)(end - p)};
    const char *sp = end;
    while (sp > p && sp[-1] != ' ')
        sp--;
    if (sp > p && end - sp >= 5 && memcmp(sp, "HTTP/", 5) == 0) {
        path.n = (size_t)(sp - 1 - p);
        label(ev, "protocol", (span){sp, (size_t)(end - sp)});
    }
    if (path.n > 0)
        label(ev, "path", path);
}

/* ---------------- access: combined ---------------- */

static lf_err access_combined(const char *data, size_t len, lf_agent_event *ev, lf_error *err)
{
    const char *p = data, *end = data + len;
    span addr, ident, user, tl, req, status, bytes, referer = {0}, agent = {0};
    int64_t ts = 0;
    bool ok = token(&p, end, &addr) && expect(&p, end, ' ') && token(&p, end, &ident) &&
              expect(&p, end, ' ') && token(&p, end, &user) && expect(&p, end, ' ') &&
              expect(&p, end, '[');
    if (ok) {
        tl.s = p;
        const char *close = memchr(p, ']', (size_t)(end - p));
        ok = close != NULL;
        if (ok) {
            tl.n = (size_t)(close - p);
            p = close + 1;
            ok = parse_time_local(tl.s, tl.n, &ts);
        }
    }
    ok = ok && expect(&p, end, ' ') && quoted(&p, end, &req) && expect(&p, end, ' ') &&
         token(&p, end, &status) && status_level(status) != 0 && expect(&p, end, ' ') &&
         token(&p, end, &bytes);
    for (size_t i = 0; ok && i < bytes.n; i++)
        ok = lf_p_digit(bytes.s[i]) || span_is(bytes, "-");
    if (!ok)
        return lf_error_set(err, LF_ERR_INVALID, "nginx_access: not a combined-format line");
    /* Referer and user agent are optional (common format); anything after them is ignored. */
    if (p + 1 < end && p[0] == ' ' && p[1] == '"') {
        p++;
        if (quoted(&p, end, &referer) && p + 1 < end && p[0] == ' ' && p[1] == '"') {
            p++;
            if (!quoted(&p, end, &agent))
                agent = (span){0};
        }
    }
    ev->message = data;
    ev->message_len = len;
    ev->ts_ns = ts;
    ev->level = status_level(status);
    label(ev, "remote_addr", addr);
    request_labels(ev, req);
    label(ev, "status", status);
    if (!span_is(bytes, "-"))
        label(ev, "bytes", bytes);
    if (referer.s && !span_is(referer, "-"))
        label(ev, "referer", referer);
    if (agent.s && !span_is(agent, "-"))
        label(ev, "user_agent", agent);
    return LF_OK;
}

/* ---------------- access: JSON ---------------- */

/* nginx variable names in a JSON log_format, and the label each becomes. */
static const struct {
    const char *member, *label;
} json_names[] = {
    {"remote_addr", "remote_addr"},
    {"request_method", "method"},
    {"uri", "path"},
    {"request_uri", "path"}, /* with the query: wins */
    {"server_protocol", "protocol"},
    {"status", "status"},
    {"body_bytes_sent", "bytes"},
    {"http_referer", "referer"},
    {"http_user_agent", "user_agent"},
};

static span json_text(json_t *v, char *tmp, size_t cap)
{
    span s = {0};
    if (v == NULL || !lf_p_json_scalar(v, tmp, cap, &s.s, &s.n))
        s = (span){0};
    return s;
}

static lf_err access_json(const char *data, size_t len, lf_agent_event *ev, lf_error *err)
{
    json_t *root = lf_p_json_load_object(data, len, "nginx_access", err);
    if (root == NULL)
        return LF_ERR_INVALID;
    int64_t ts = 0;
    bool have_ts = false;
    json_t *v;
    if ((v = json_object_get(root, "time_iso8601")) != NULL)
        have_ts = lf_p_json_time(v, "rfc3339", &ts);
    if (!have_ts && (v = json_object_get(root, "time_local")) != NULL && json_is_string(v))
        have_ts = parse_time_local(json_string_value(v), json_string_length(v), &ts);
    if (!have_ts && (v = json_object_get(root, "msec")) != NULL)
        have_ts = lf_p_json_time(v, "unix", &ts);
    static const char *const other_times[] = {"time", "timestamp", "@timestamp"};
    for (size_t i = 0; !have_ts && i < 3; i++)
        if ((v = json_object_get(root, other_times[i])) != NULL)
            have_ts = lf_p_json_time(v, NULL, &ts);
    char tmp[48];
    span status = json_text(json_object_get(root, "status"), tmp, sizeof tmp);

    ev->message = data;
    ev->message_len = len;
    if (have_ts)
        ev->ts_ns = ts;
    int level = status.s ? status_level(status) : 0;
    if (level)
        ev->level = level;
    json_t *req = json_object_get(root, "request");
    if (json_is_string(req))
        request_labels(ev, (span){json_string_value(req), json_string_length(req)});
    for (size_t i = 0; i < sizeof json_names / sizeof json_names[0]; i++) {
        char t2[48];
        span s = json_text(json_object_get(root, json_names[i].member), t2, sizeof t2);
        if (s.s && s.n > 0 && !span_is(s, "-"))
            label(ev, json_names[i].label, s);
    }
    /* Every other scalar member under its own name, while labels last. */
    const char *key;
    json_object_foreach(root, key, v)
    {
        bool known = strcmp(key, "request") == 0;
        for (size_t i = 0; !known && i < sizeof json_names / sizeof json_names[0]; i++)
            known = strcmp(key, json_names[i].member) == 0;
        if (known || ev->n_labels >= LF_AGENT_EVENT_MAX_LABELS)
            continue;
        char t2[48];
        span s = json_text(v, t2, sizeof t2);
        if (s.s)
            label(ev, key, s);
    }
    json_decref(root);
    return LF_OK;
}

lf_err lf_parse_nginx_access(const char *data, size_t len, lf_agent_event *ev, lf_error *err)
{
    if (data == NULL)
        data = "", len = 0;
    size_t i = 0;
    while (i < len && lf_p_space(data[i]))
        i++;
    if (i < len && data[i] == '{')
        return access_json(data, len, ev, err);
    return access_combined(data, len, ev, err);
}

/* ---------------- error log ---------------- */

static bool number(const char **p, const char *end, span *out, size_t max)
{
    const char *t = *p;
    while (*p < end && lf_p_digit(**p) && (size_t)(*p - t) < max)
        (*p)++;
    out->s = t;
    out->n = (size_t)(*p - t);
    return out->n > 0 && (*p >= end || !lf_p_digit(**p));
}

/* ", client: 1.2.3.4, server: x, request: "GET / HTTP/1.1", host: "x"": nginx's context,
 * always in this order at the end of the line. Only known keys; values quoted or up to the
 * next ", ". Best effort: what parses becomes labels. */
static void error_context(lf_agent_event *ev, const char *msg, const char *end)
{
    static const char *const keys[] = {"client",   "server", "request", "subrequest",
                                       "upstream", "host",   "referrer"};
    const char *p = NULL;
    for (const char *q = msg; q + 10 <= end; q++)
        if (memcmp(q, ", client: ", 10) == 0)
            p = q; /* the last one: a message may quote an earlier line */
    if (p == NULL)
        return;
    while (p + 2 < end && p[0] == ',' && p[1] == ' ') {
        p += 2;
        const char *k = p;
        while (p < end && ((*p >= 'a' && *p <= 'z')))
            p++;
        span key = {k, (size_t)(p - k)};
        if (p + 2 > end || p[0] != ':' || p[1] != ' ')
            return;
        p += 2;
        span val;
        if (p < end && *p == '"') {
            if (!quoted(&p, end, &val))
                return;
        } else {
            const char *v = p;
            while (p < end && !(*p == ',' && p + 1 < end && p[1] == ' '))
                p++;
            val = (span){v, (size_t)(p - v)};
        }
        for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
            if (span_is(key, keys[i]))
                label(ev, keys[i], val);
    }
}

lf_err lf_parse_nginx_error(const char *data, size_t len, lf_agent_event *ev, lf_error *err)
{
    if (data == NULL)
        data = "", len = 0;
    const char *p = data, *end = data + len;
    int64_t ts = 0;
    /* "2024/01/02 15:04:05 " */
    bool ok = len >= 20 && p[4] == '/' && p[7] == '/' && p[10] == ' ' && p[13] == ':' &&
              p[16] == ':' && p[19] == ' ';
    int f[6] = {0};
    static const int offs[6] = {0, 5, 8, 11, 14, 17}, lens[6] = {4, 2, 2, 2, 2, 2};
    for (int i = 0; ok && i < 6; i++)
        for (int k = 0; ok && k < lens[i]; k++) {
            char c = p[offs[i] + k];
            ok = lf_p_digit(c);
            f[i] = f[i] * 10 + (c - '0');
        }
    ok = ok && lf_p_civil_to_ns(f[0], f[1], f[2], f[3], f[4], f[5], 0, 0, &ts);
    span lvl = {0}, pid = {0}, tid = {0}, cid = {0};
    if (ok) {
        p += 20;
        ok = expect(&p, end, '[');
        lvl.s = p;
        while (ok && p < end && lf_p_alpha(*p))
            p++;
        lvl.n = (size_t)(p - lvl.s);
        ok = ok && lvl.n > 0 && expect(&p, end, ']') && expect(&p, end, ' ') &&
             number(&p, end, &pid, 10) && expect(&p, end, '#') && number(&p, end, &tid, 20) &&
             expect(&p, end, ':');
    }
    int level = ok ? lf_level_parse(lvl.s, lvl.n) : 0;
    if (!ok || level == 0)
        return lf_error_set(err, LF_ERR_INVALID, "nginx_error: not an nginx error-log line");
    if (p < end && *p == ' ')
        p++;
    if (p < end && *p == '*') {
        const char *save = p++;
        if (number(&p, end, &cid, 20) && (p == end || *p == ' ')) {
            if (p < end)
                p++;
        } else {
            p = save;
            cid = (span){0};
        }
    }
    ev->message = p;
    ev->message_len = (size_t)(end - p);
    ev->ts_ns = ts;
    ev->level = level;
    label(ev, "pid", pid);
    label(ev, "tid", tid);
    if (cid.n)
        label(ev, "connection_id", cid);
    error_context(ev, p, end);
    return LF_OK;
}

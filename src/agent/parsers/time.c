/*
 * time.c — timestamps to Unix nanoseconds: RFC 3339 / ISO 8601, Unix epochs in any unit, and
 * strptime(3) patterns with %L/%N fractions.
 *
 * Everything is checked arithmetic on integers: a timestamp is untrusted text, so a 40-digit
 * epoch or year 99999 must give LF_ERR_INVALID, never an overflow. Calendar conversion is our
 * own (days from a civil date), not timegm(3): it needs no time zone state and its range is
 * explicit. Results before 1970 are refused: 0 means "unknown" in an event, and a log line
 * from before 1970 is a broken clock (Go's zero time "0001-01-01T00:00:00Z" is common).
 */
#define _GNU_SOURCE /* strptime, tm_gmtoff */
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "parser_int.h"

#define NS_PER_S 1000000000LL
/* The last whole second representable in int64 nanoseconds (2262-04-11). */
#define MAX_SECONDS (INT64_MAX / NS_PER_S - 1)
/* Timestamps are short; anything longer is not one (and bounds the strptime copy). */
#define MAX_TIME_TEXT 128

static bool is_leap(int64_t y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

int lf_p_days_in_month(int64_t year, int month)
{
    static const int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (month < 1 || month > 12)
        return 0;
    return month == 2 && is_leap(year) ? 29 : days[month - 1];
}

/* Days since 1970-01-01 of a civil date, counting from March so that the leap day is the
 * last day of a "year": then each 400-year era has the same 146097 days. */
static int64_t days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

bool lf_p_civil_to_ns(int64_t year, int month, int day, int hour, int min, int sec, int64_t frac_ns,
                      int64_t offset_s, int64_t *ns_out)
{
    /* The year range keeps every product below far from overflow; the final check is exact. */
    if (year < 1969 || year > 2263 || day < 1 || day > lf_p_days_in_month(year, month) ||
        hour < 0 || hour > 23 || min < 0 || min > 59 || sec < 0 || sec > 60 || frac_ns < 0 ||
        frac_ns >= NS_PER_S || offset_s < -86400 || offset_s > 86400)
        return false;
    int64_t s = days_from_civil(year, month, day) * 86400 + hour * 3600 + min * 60 + sec;
    s -= offset_s;
    if (s < 0 || s > MAX_SECONDS)
        return false;
    *ns_out = s * NS_PER_S + frac_ns;
    return true;
}

int lf_p_month_abbr(const char *s)
{
    static const char names[] = "janfebmaraprmayjunjulaugsepoctnovdec";
    char a = lf_p_lower(s[0]), b = lf_p_lower(s[1]), c = lf_p_lower(s[2]);
    for (int i = 0; i < 12; i++)
        if (names[3 * i] == a && names[3 * i + 1] == b && names[3 * i + 2] == c)
            return i + 1;
    return 0;
}

int64_t lf_p_now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    return (int64_t)t.tv_sec * NS_PER_S + t.tv_nsec;
}

int64_t lf_p_year_of(int64_t ns)
{
    /* Inverse of days_from_civil, year only. */
    int64_t z = ns / NS_PER_S / 86400 + 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    int64_t m = mp < 10 ? mp + 3 : mp - 9;
    return yoe + era * 400 + (m <= 2);
}

/* ---------------- small scanners over [p, end) ---------------- */

/* Exactly n digits. */
static bool digits(const char **p, const char *end, int n, int *out)
{
    if (end - *p < n)
        return false;
    int v = 0;
    for (int i = 0; i < n; i++) {
        char c = (*p)[i];
        if (!lf_p_digit(c))
            return false;
        v = v * 10 + (c - '0');
    }
    *p += n;
    *out = v;
    return true;
}

/* A fraction of a second: 1..max_digits digits, the first 9 kept (more are truncated, not
 * rounded). */
static bool fraction(const char **p, const char *end, size_t max_digits, int64_t *ns)
{
    int64_t v = 0;
    size_t n = 0;
    for (; *p < end && lf_p_digit(**p); (*p)++, n++) {
        if (n >= max_digits)
            return false;
        if (n < 9)
            v = v * 10 + (**p - '0');
    }
    if (n == 0)
        return false;
    for (size_t i = n; i < 9; i++)
        v *= 10;
    *ns = v;
    return true;
}

/* RFC 3339, a little wider as ISO 8601 is written in logs: 'T', 't' or ' ' between date and
 * time; '.' or ',' before the fraction; zone Z, +hh:mm, +hhmm, +hh, or none (UTC). */
static bool parse_rfc3339(const char *p, const char *end, int64_t *ns_out)
{
    int y, mo, d, h, mi, s;
    int64_t frac = 0, off = 0;
    if (!digits(&p, end, 4, &y) || p == end || *p++ != '-' || !digits(&p, end, 2, &mo) ||
        p == end || *p++ != '-' || !digits(&p, end, 2, &d) || p == end)
        return false;
    if (*p != 'T' && *p != 't' && *p != ' ')
        return false;
    p++;
    if (!digits(&p, end, 2, &h) || p == end || *p++ != ':' || !digits(&p, end, 2, &mi) ||
        p == end || *p++ != ':' || !digits(&p, end, 2, &s))
        return false;
    if (p < end && (*p == '.' || *p == ',')) {
        p++;
        if (!fraction(&p, end, SIZE_MAX, &frac))
            return false;
    }
    if (p < end && (*p == 'Z' || *p == 'z')) {
        p++;
    } else if (p < end && (*p == '+' || *p == '-')) {
        int sign = *p++ == '-' ? -1 : 1, oh, om = 0;
        if (!digits(&p, end, 2, &oh))
            return false;
        if (p < end && *p == ':')
            p++;
        if (p < end && !digits(&p, end, 2, &om))
            return false;
        if (oh > 23 || om > 59)
            return false;
        off = sign * (oh * 3600 + om * 60);
    }
    return p == end && lf_p_civil_to_ns(y, mo, d, h, mi, s, frac, off, ns_out);
}

/* Unix time: digits with an optional fraction, in units of `unit_ns` nanoseconds; unit_ns 0 =
 * guess the unit from the magnitude of the integer part. */
static bool parse_epoch(const char *p, const char *end, int64_t unit_ns, int64_t *ns_out)
{
    uint64_t v = 0;
    int n = 0;
    for (; p < end && lf_p_digit(*p); p++, n++) {
        if (v > (UINT64_MAX - 9) / 10)
            return false;
        v = v * 10 + (uint64_t)(*p - '0');
    }
    if (n == 0 || v > INT64_MAX)
        return false;
    int64_t frac = 0;
    if (p < end && *p == '.') {
        p++;
        if (!fraction(&p, end, SIZE_MAX, &frac))
            return false;
    }
    if (p != end)
        return false;
    if (unit_ns == 0) {
        /* Seconds up to 1e11 (year 5138), then ms, us, ns: the units' plausible ranges for
         * the next centuries do not overlap. */
        unit_ns = v < 100000000000ULL         ? NS_PER_S
                  : v < 100000000000000ULL    ? 1000000
                  : v < 100000000000000000ULL ? 1000
                                              : 1;
    }
    int64_t whole;
    if (__builtin_mul_overflow((int64_t)v, unit_ns, &whole))
        return false;
    /* frac is in ns per second; scale it to the unit (frac * unit_ns < 1e18: no overflow). */
    int64_t part = frac * unit_ns / NS_PER_S;
    if (whole > INT64_MAX - part)
        return false;
    *ns_out = whole + part;
    return true;
}

/* strptime(3) with an optional %L (milliseconds, 1-3 digits) or %N (fraction, 1-9 digits)
 * handled here: the pattern is split around it. No %Y (and no %y): the current year, or the
 * one before if that would put the time more than a day in the future. */
static bool parse_strptime(const char *p, size_t n, const char *format, int64_t *ns_out)
{
    char text[MAX_TIME_TEXT + 1], fmt[MAX_TIME_TEXT + 1];
    size_t flen = strlen(format);
    if (n > MAX_TIME_TEXT || flen > MAX_TIME_TEXT)
        return false;
    memcpy(text, p, n);
    text[n] = '\0';
    if (memchr(text, '\0', n))
        return false;
    memcpy(fmt, format, flen + 1);
    const char *rest_fmt = NULL;
    size_t frac_digits = 0;
    char *mark = strstr(fmt, "%L");
    char *mark_n = strstr(fmt, "%N");
    if (mark_n && (!mark || mark_n < mark))
        mark = mark_n;
    if (mark) {
        frac_digits = mark[1] == 'L' ? 3 : 9;
        *mark = '\0';
        rest_fmt = mark + 2;
    }
    /* A year no strptime can write marks "no year in the pattern". */
    const int no_year = -100000;
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    tm.tm_year = no_year;
    tm.tm_mday = 1;
    const char *q = strptime(text, fmt, &tm);
    if (q == NULL)
        return false;
    int64_t frac = 0;
    if (mark) {
        if (!fraction(&q, text + n, frac_digits, &frac))
            return false;
        q = strptime(q, rest_fmt, &tm);
        if (q == NULL)
            return false;
    }
    while (*q && lf_p_space(*q))
        q++;
    if (*q != '\0')
        return false;
    int64_t off = tm.tm_gmtoff;
    if (tm.tm_year != no_year)
        return lf_p_civil_to_ns((int64_t)tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                                tm.tm_min, tm.tm_sec, frac, off, ns_out);
    int64_t now = lf_p_now_ns();
    int64_t year = lf_p_year_of(now);
    for (int64_t y = year; y >= year - 1; y--) {
        if (lf_p_civil_to_ns(y, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, frac,
                             off, ns_out) &&
            *ns_out - 86400 * NS_PER_S <= now)
            return true;
    }
    return false;
}

lf_err lf_parse_time(const char *s, size_t len, const char *format, int64_t *ns_out, lf_error *err)
{
    if (s == NULL)
        len = 0;
    const char *p = s, *end = s + len;
    while (p < end && lf_p_space(*p))
        p++;
    while (end > p && lf_p_space(end[-1]))
        end--;
    bool ok;
    if (p == end) {
        ok = false;
    } else if (format == NULL || format[0] == '\0') {
        /* A date starts with 4 digits and '-'; an epoch is digits only. */
        ok = (end - p > 4 && p[4] == '-') ? parse_rfc3339(p, end, ns_out)
                                          : parse_epoch(p, end, 0, ns_out);
    } else if (strcmp(format, "rfc3339") == 0 || strcmp(format, "iso8601") == 0) {
        ok = parse_rfc3339(p, end, ns_out);
    } else if (strcmp(format, "unix") == 0) {
        ok = parse_epoch(p, end, NS_PER_S, ns_out);
    } else if (strcmp(format, "unix_ms") == 0) {
        ok = parse_epoch(p, end, 1000000, ns_out);
    } else if (strcmp(format, "unix_us") == 0) {
        ok = parse_epoch(p, end, 1000, ns_out);
    } else if (strcmp(format, "unix_ns") == 0) {
        ok = parse_epoch(p, end, 1, ns_out);
    } else {
        ok = parse_strptime(p, (size_t)(end - p), format, ns_out);
    }
    if (!ok)
        return lf_error_set(err, LF_ERR_INVALID, "time: %zu bytes do not parse as %s", len,
                            format && format[0] ? format : "a timestamp");
    return LF_OK;
}

/* Whether `format` is one lf_parse_time understands (a name, or a pattern with a conversion
 * and at most one %L/%N). */
bool lf_time_format_valid(const char *format)
{
    if (format == NULL || format[0] == '\0')
        return true;
    static const char *const names[] = {"rfc3339", "iso8601", "unix",
                                        "unix_ms", "unix_us", "unix_ns"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strcmp(format, names[i]) == 0)
            return true;
    if (strchr(format, '%') == NULL || strlen(format) > MAX_TIME_TEXT)
        return false;
    int marks = 0;
    for (const char *q = format; (q = strchr(q, '%')) != NULL; q += 2) {
        if (q[1] == '\0')
            return false;
        marks += q[1] == 'L' || q[1] == 'N';
    }
    return marks <= 1;
}

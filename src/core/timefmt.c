/*
 * timefmt.c — RFC 3339 parsing and formatting on int64 Unix nanoseconds.
 *
 * Calendar arithmetic uses the proleptic Gregorian day-count formulas (days since 1970-01-01
 * from year/month/day and back) computed in 400-year eras, so there is no table, no locale,
 * no timegm() and no dependence on the TZ environment. Everything is integer arithmetic with
 * explicit overflow checks at the one place a sum can leave the int64 range.
 */
#include "logflux/timefmt.h"

#include <stdbool.h>
#include <time.h>

static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    const int64_t era = (y >= 0 ? y : y - 399) / 400;
    const unsigned yoe = (unsigned)(y - era * 400);
    const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
    z += 719468;
    const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    const unsigned doe = (unsigned)(z - era * 146097);
    const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int64_t)yoe + era * 400 + (*m <= 2);
}

static bool is_leap(int64_t y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static unsigned days_in_month(int64_t y, unsigned m)
{
    static const unsigned dim[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && is_leap(y) ? 29 : dim[m - 1];
}

/* Reads exactly n decimal digits at text[*pos]; false if any is not a digit. */
static bool read_digits(const char *text, size_t len, size_t *pos, size_t n, unsigned *out)
{
    if (len - *pos < n)
        return false;
    unsigned v = 0;
    for (size_t i = 0; i < n; i++) {
        char c = text[*pos + i];
        if (c < '0' || c > '9')
            return false;
        v = v * 10 + (unsigned)(c - '0');
    }
    *pos += n;
    *out = v;
    return true;
}

static bool expect(const char *text, size_t len, size_t *pos, char c1, char c2)
{
    if (*pos >= len || (text[*pos] != c1 && text[*pos] != c2))
        return false;
    (*pos)++;
    return true;
}

lf_err lf_rfc3339_parse(const char *text, size_t len, int64_t *ns_out, lf_error *err)
{
    size_t pos = 0;
    unsigned year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0, frac = 0;
    if (len > 64)
        return lf_error_set(err, LF_ERR_INVALID, "rfc3339: timestamp of %zu characters", len);
    if (!read_digits(text, len, &pos, 4, &year) || !expect(text, len, &pos, '-', '-') ||
        !read_digits(text, len, &pos, 2, &month) || !expect(text, len, &pos, '-', '-') ||
        !read_digits(text, len, &pos, 2, &day) || !expect(text, len, &pos, 'T', 't') ||
        !read_digits(text, len, &pos, 2, &hour) || !expect(text, len, &pos, ':', ':') ||
        !read_digits(text, len, &pos, 2, &minute) || !expect(text, len, &pos, ':', ':') ||
        !read_digits(text, len, &pos, 2, &second))
        return lf_error_set(err, LF_ERR_INVALID, "rfc3339: malformed date or time");
    if (month < 1 || month > 12 || day < 1 || day > days_in_month(year, month) || hour > 23 ||
        minute > 59 || second > 59)
        return lf_error_set(err, LF_ERR_INVALID, "rfc3339: date or time field out of range");
    if (pos < len && text[pos] == '.') {
        pos++;
        size_t digits = 0;
        while (pos < len && text[pos] >= '0' && text[pos] <= '9') {
            if (++digits > 9)
                return lf_error_set(err, LF_ERR_INVALID, "rfc3339: more than 9 fraction digits");
            frac = frac * 10 + (unsigned)(text[pos] - '0');
            pos++;
        }
        if (digits == 0)
            return lf_error_set(err, LF_ERR_INVALID, "rfc3339: empty fraction");
        for (; digits < 9; digits++)
            frac *= 10;
    }
    int64_t offset = 0;
    if (pos < len && (text[pos] == 'Z' || text[pos] == 'z')) {
        pos++;
    } else if (pos < len && (text[pos] == '+' || text[pos] == '-')) {
        int sign = text[pos] == '-' ? -1 : 1;
        unsigned oh = 0, om = 0;
        pos++;
        if (!read_digits(text, len, &pos, 2, &oh) || !expect(text, len, &pos, ':', ':') ||
            !read_digits(text, len, &pos, 2, &om) || oh > 23 || om > 59)
            return lf_error_set(err, LF_ERR_INVALID, "rfc3339: malformed UTC offset");
        offset = sign * (int64_t)(oh * 3600 + om * 60);
    } else {
        return lf_error_set(err, LF_ERR_INVALID, "rfc3339: missing 'Z' or UTC offset");
    }
    if (pos != len)
        return lf_error_set(err, LF_ERR_INVALID, "rfc3339: trailing characters");

    int64_t secs =
        days_from_civil(year, month, day) * 86400 + hour * 3600 + minute * 60 + second - offset;
    /* (secs + 1) * 1e9 - (1e9 - frac) reaches INT64_MIN, where secs * 1e9 + frac would
     * overflow on the way */
    int64_t ns, carry = secs < 0 && frac > 0 ? 1 : 0;
    if (__builtin_mul_overflow(secs + carry, LF_NS_PER_SEC, &ns) ||
        __builtin_add_overflow(ns, carry ? (int64_t)frac - LF_NS_PER_SEC : (int64_t)frac, &ns))
        return lf_error_set(err, LF_ERR_INVALID,
                            "rfc3339: timestamp outside the representable range");
    *ns_out = ns;
    return LF_OK;
}

static void put_digits(char *out, unsigned v, int n)
{
    for (int i = n - 1; i >= 0; i--) {
        out[i] = (char)('0' + v % 10);
        v /= 10;
    }
}

size_t lf_rfc3339_format(int64_t ns, char out[LF_RFC3339_MAX])
{
    /* floor division, so times before 1970 get a positive fraction */
    int64_t secs = ns / LF_NS_PER_SEC;
    int64_t frac = ns % LF_NS_PER_SEC;
    if (frac < 0) {
        frac += LF_NS_PER_SEC;
        secs -= 1;
    }
    int64_t days = secs / 86400;
    int64_t rem = secs % 86400;
    if (rem < 0) {
        rem += 86400;
        days -= 1;
    }
    int64_t y;
    unsigned m, d;
    civil_from_days(days, &y, &m, &d);
    put_digits(out, (unsigned)y, 4);
    out[4] = '-';
    put_digits(out + 5, m, 2);
    out[7] = '-';
    put_digits(out + 8, d, 2);
    out[10] = 'T';
    put_digits(out + 11, (unsigned)(rem / 3600), 2);
    out[13] = ':';
    put_digits(out + 14, (unsigned)(rem / 60 % 60), 2);
    out[16] = ':';
    put_digits(out + 17, (unsigned)(rem % 60), 2);
    out[19] = '.';
    put_digits(out + 20, (unsigned)frac, 9);
    out[29] = 'Z';
    out[30] = '\0';
    return LF_RFC3339_LEN;
}

int64_t lf_time_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * LF_NS_PER_SEC + ts.tv_nsec;
}

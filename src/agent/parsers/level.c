/*
 * level.c — level names to LF_LEVEL_*, and guessing the level of a free-text line.
 *
 * Detection must not invent levels: "failed to read error count" is not an error line, and a
 * wrong level is worse than none (the pipeline then says info). So a level word counts only
 * where loggers put it:
 *   - a klog/glog header "E0102 15:04:05.000000 ..." at the start;
 *   - the first token after leading timestamp-like tokens, when it is bracketed ("[warn]",
 *     "<E>", "<3>" as sd-daemon writes), or an upper-case word ("ERROR ..."), or a word with a
 *     colon ("warning: ...");
 *   - a key: logfmt `level=error` / `lvl=warn` / `severity=err` (no spaces around '='), or a
 *     JSON member `"level":"warn"` / `"level": 50`;
 *   - a bracketed level name anywhere ("... [main] [ERROR] ..."), names of 3+ letters only.
 */
#include <string.h>

#include "parser_int.h"

/* Longest level name we know ("informational"), plus room to tell a longer word apart. */
#define MAX_WORD 16
/* How far into a message detection looks. */
#define DETECT_WINDOW 256

typedef struct level_name {
    const char *name;
    size_t len;
    int level;
} level_name;

#define NAME(text, level)                                                                          \
    {                                                                                              \
        text, sizeof text - 1, level                                                               \
    }
static const level_name names[] = {
    NAME("emerg", LF_LEVEL_EMERGENCY),   NAME("emergency", LF_LEVEL_EMERGENCY),
    NAME("panic", LF_LEVEL_EMERGENCY),   NAME("fatal", LF_LEVEL_EMERGENCY),
    NAME("alert", LF_LEVEL_ALERT),       NAME("crit", LF_LEVEL_CRITICAL),
    NAME("critical", LF_LEVEL_CRITICAL), NAME("err", LF_LEVEL_ERROR),
    NAME("error", LF_LEVEL_ERROR),       NAME("eror", LF_LEVEL_ERROR),
    NAME("warn", LF_LEVEL_WARNING),      NAME("warning", LF_LEVEL_WARNING),
    NAME("notice", LF_LEVEL_NOTICE),     NAME("info", LF_LEVEL_INFO),
    NAME("information", LF_LEVEL_INFO),  NAME("informational", LF_LEVEL_INFO),
    NAME("debug", LF_LEVEL_DEBUG),       NAME("trace", LF_LEVEL_DEBUG),
    NAME("dbg", LF_LEVEL_DEBUG),
};
#undef NAME

static int name_level(const char *s, size_t len)
{
    if (len < 3 || len > MAX_WORD)
        return 0;
    /* Runs on every record's first word: compare only the names of this length that start
     * with the same letter. */
    char first = lf_p_lower(s[0]);
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        if (names[i].len != len || names[i].name[0] != first)
            continue;
        size_t k = 1;
        while (k < len && lf_p_lower(s[k]) == names[i].name[k])
            k++;
        if (k == len)
            return names[i].level;
    }
    return 0;
}

static int letter_level(char c)
{
    switch (lf_p_lower(c)) {
    case 'f':
        return LF_LEVEL_EMERGENCY;
    case 'e':
        return LF_LEVEL_ERROR;
    case 'w':
        return LF_LEVEL_WARNING;
    case 'i':
        return LF_LEVEL_INFO;
    case 'd':
        return LF_LEVEL_DEBUG;
    default:
        return 0;
    }
}

/* Numbers: syslog severities 0..7, and the pino/bunyan scale (10 trace .. 60 fatal). */
static int number_level(const char *s, size_t len)
{
    if (len == 0 || len > 2)
        return 0;
    int v = 0;
    for (size_t i = 0; i < len; i++) {
        if (!lf_p_digit(s[i]))
            return 0;
        v = v * 10 + (s[i] - '0');
    }
    if (len == 1)
        return v <= 7 ? v + 1 : 0;
    switch (v) {
    case 10:
    case 20:
        return LF_LEVEL_DEBUG;
    case 30:
        return LF_LEVEL_INFO;
    case 40:
        return LF_LEVEL_WARNING;
    case 50:
        return LF_LEVEL_ERROR;
    case 60:
        return LF_LEVEL_EMERGENCY;
    default:
        return 0;
    }
}

int lf_level_parse(const char *s, size_t len)
{
    if (s == NULL)
        return 0;
    while (len > 0 && lf_p_space(*s))
        s++, len--;
    while (len > 0 && lf_p_space(s[len - 1]))
        len--;
    if (len == 1 && lf_p_alpha(s[0]))
        return letter_level(s[0]);
    if (len > 0 && lf_p_digit(s[0]))
        return number_level(s, len);
    return name_level(s, len);
}

static bool is_upper_word(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] < 'A' || s[i] > 'Z')
            return false;
    return true;
}

/* The level inside a bracket pair at s[0] ('[' or '<'), spaces inside allowed ("[ WARN]").
 * Single letters count only in upper case ("[E]", "<W>"). */
static int bracket_level(const char *s, const char *end, bool allow_short)
{
    char close = s[0] == '[' ? ']' : '>';
    const char *p = s + 1;
    const char *q = p;
    while (q < end && *q != close && q - p <= MAX_WORD + 2)
        q++;
    if (q >= end || *q != close)
        return 0;
    const char *a = p, *b = q;
    while (a < b && *a == ' ')
        a++;
    while (b > a && b[-1] == ' ')
        b--;
    size_t n = (size_t)(b - a);
    if (n == 0)
        return 0;
    if (n == 1)
        return !allow_short               ? 0
               : (*a >= 'A' && *a <= 'Z') ? letter_level(*a)
               : lf_p_digit(*a)           ? number_level(a, 1)
                                          : 0;
    return name_level(a, n);
}

/* klog/glog: "Lmmdd hh:mm:ss.uuuuuu threadid file:line] msg". */
static int klog_level(const char *p, const char *end)
{
    if (end - p < 9 || letter_level(*p) == 0 || *p < 'A' || *p > 'Z')
        return 0;
    for (int i = 1; i <= 4; i++)
        if (!lf_p_digit(p[i]))
            return 0;
    if (p[5] != ' ' || !lf_p_digit(p[6]) || !lf_p_digit(p[7]) || p[8] != ':')
        return 0;
    return letter_level(*p);
}

/* A token made of date/time characters only (with at least one digit): skipped before the
 * level word. "2024-01-02", "15:04:05,123", "2024-01-02T15:04:05.123Z", "+0100", "1234". */
static bool is_time_token(const char *s, size_t n)
{
    bool digit = false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (lf_p_digit(c))
            digit = true;
        else if (c != '-' && c != ':' && c != '.' && c != '/' && c != ',' && c != '+' && c != 'T' &&
                 c != 'Z')
            return false; /* (a switch, not strchr: this runs on every record's first word) */
    }
    return digit;
}

static int leading_level(const char *p, const char *end)
{
    int lvl = klog_level(p, end);
    if (lvl)
        return lvl;
    for (int tokens = 0; tokens < 4 && p < end; tokens++) {
        const char *t = p;
        if (*t == '[' || *t == '<') {
            /* A level in brackets, or another bracketed field ("[main]", "[pid 42]") to skip. */
            int b = bracket_level(t, end, true);
            if (b)
                return b;
            const void *close = memchr(t, *t == '[' ? ']' : '>', (size_t)(end - t));
            if (close == NULL)
                return 0;
            p = (const char *)close + 1;
            while (p < end && (*p == ' ' || *p == '\t'))
                p++;
            continue;
        }
        while (p < end && *p != ' ' && *p != '\t')
            p++;
        size_t n = (size_t)(p - t);
        while (p < end && (*p == ' ' || *p == '\t'))
            p++;
        if (is_time_token(t, n) || (n == 1 && (*t == '-' || *t == '|')))
            continue;
        size_t w = 0;
        while (w < n && lf_p_alpha(t[w]))
            w++;
        bool colon = w < n && t[w] == ':';
        if (w < n && !colon && t[w] != '|' && t[w] != ',')
            return 0;
        if (colon || is_upper_word(t, w))
            return name_level(t, w);
        return 0;
    }
    return 0;
}

static bool word_char(char c)
{
    return lf_p_alpha(c) || lf_p_digit(c) || c == '_';
}

/* level=error, lvl=warn, severity=err (logfmt), "level":"warn", "level": 30 (JSON). */
static int key_level(const char *s, const char *end)
{
    static const char *const keys[] = {"level", "lvl", "severity"};
    static const size_t key_lens[] = {5, 3, 8};
    /* Every form needs a '=' or a ':' after the key: most plain text has neither. */
    if (memchr(s, '=', (size_t)(end - s)) == NULL && memchr(s, ':', (size_t)(end - s)) == NULL)
        return 0;
    for (const char *p = s; p < end; p++) {
        if (lf_p_lower(*p) != 'l' && lf_p_lower(*p) != 's')
            continue;
        if (p > s && word_char(p[-1]))
            continue;
        for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++) {
            size_t kl = key_lens[k];
            if ((size_t)(end - p) <= kl)
                continue;
            size_t i = 0;
            while (i < kl && lf_p_lower(p[i]) == keys[k][i])
                i++;
            if (i < kl)
                continue;
            const char *q = p + kl;
            bool json = p > s && p[-1] == '"';
            if (json) {
                if (q >= end || *q != '"')
                    continue;
                q++;
                while (q < end && *q == ' ')
                    q++;
                if (q >= end || *q != ':')
                    continue;
                q++;
                while (q < end && *q == ' ')
                    q++;
            } else {
                if (*q != '=')
                    continue;
                q++;
            }
            bool quoted = q < end && *q == '"';
            q += quoted;
            const char *v = q;
            while (q < end && (lf_p_alpha(*q) || lf_p_digit(*q)))
                q++;
            /* logfmt numbers are rarely levels ("level=3" of a game, a tank): names only. */
            if (!json && !quoted && q > v && lf_p_digit(*v))
                continue;
            int lvl = lf_level_parse(v, (size_t)(q - v));
            if (lvl)
                return lvl;
        }
    }
    return 0;
}

static int any_bracket_level(const char *s, const char *end)
{
    for (const char *p = s; p < end; p++) {
        p = memchr(p, '[', (size_t)(end - p));
        if (p == NULL)
            return 0;
        int lvl = bracket_level(p, end, false);
        if (lvl)
            return lvl;
    }
    return 0;
}

int lf_level_detect(const char *msg, size_t len)
{
    if (msg == NULL)
        return 0;
    const char *p = msg, *end = msg + (len < DETECT_WINDOW ? len : DETECT_WINDOW);
    while (p < end && lf_p_space(*p))
        p++;
    int lvl = leading_level(p, end);
    if (!lvl)
        lvl = key_level(p, end);
    if (!lvl)
        lvl = any_bracket_level(p, end);
    return lvl;
}

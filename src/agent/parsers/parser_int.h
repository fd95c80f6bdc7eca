/*
 * parser_int.h — helpers shared by the parser files (not part of the agent's API): calendar
 * arithmetic with range checks, bounded JSON loading, scalar-to-text for labels, and the
 * compiled regex behind LF_PARSER_REGEX.
 */
#ifndef LF_AGENT_PARSER_INT_H
#define LF_AGENT_PARSER_INT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "parser.h"

/* Largest JSON text the json/nginx parsers accept (larger lines stay unparsed), and the
 * deepest nesting: checked by a scan before jansson sees the text, so jansson's recursion
 * stays shallow whatever the input. */
#define LF_PARSE_MAX_JSON  LF_PAYLOAD_MAX_JSON
#define LF_PARSE_MAX_DEPTH 64

/* Cheap ASCII classes: the C library's depend on the locale. */
static inline bool lf_p_digit(char c)
{
    return c >= '0' && c <= '9';
}
static inline char lf_p_lower(char c)
{
    return (c >= 'A' && c <= 'Z') ? (char)(c + ('a' - 'A')) : c;
}
static inline bool lf_p_alpha(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
static inline bool lf_p_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Civil time (proleptic Gregorian, UTC) to Unix nanoseconds. Checks every field's range
 * (second 60 is accepted as a leap second and counts as the next second), applies the zone
 * offset (seconds east of UTC), and refuses results before 1970 or past the int64 range
 * (2262). */
bool lf_p_civil_to_ns(int64_t year, int month, int day, int hour, int min, int sec, int64_t frac_ns,
                      int64_t offset_s, int64_t *ns_out);
/* Days in a month of a year; 0 for a month outside 1..12. */
int lf_p_days_in_month(int64_t year, int month);
/* "Jan".."Dec" (any case, exactly 3 bytes at s) to 1..12, 0 if not a month. */
int lf_p_month_abbr(const char *s);
/* Current year (UTC) and time, for formats without a year. */
int64_t lf_p_now_ns(void);
/* The year of a Unix ns time (UTC). */
int64_t lf_p_year_of(int64_t ns);

/* Parse a JSON object of at most LF_PARSE_MAX_JSON bytes and LF_PARSE_MAX_DEPTH levels.
 * NULL with err set (LF_ERR_INVALID) if it is not one. Strings may hold NUL (use
 * json_string_length). The caller json_decref()s. */
json_t *lf_p_json_load_object(const char *data, size_t len, const char *what, lf_error *err);
/* A scalar's text for a label: a string's bytes, a number in decimal, true/false. False for
 * null, arrays and objects. `tmp` (>= 32 bytes) holds the text of non-strings. */
bool lf_p_json_scalar(const json_t *v, char *tmp, size_t tmp_cap, const char **s, size_t *n);
/* Level from a JSON value: a name, or a number (syslog 0..7, pino 10..60). 0 if neither. */
int lf_p_json_level(const json_t *v);
/* Time from a JSON value: a string in `format`, or a number (Unix time by magnitude, or the
 * unit `format` names). False if neither parses. */
bool lf_p_json_time(const json_t *v, const char *format, int64_t *ns_out);

/* The regex parser's compiled state (regex.c). */
typedef struct lf_p_regex lf_p_regex;
/* Compile cfg->pattern; LF_ERR_INVALID naming the problem (syntax error with its offset, no
 * named group). */
lf_err lf_p_regex_compile(const lf_parser_config *cfg, lf_p_regex **out, lf_error *err);
void lf_p_regex_free(lf_p_regex *re);
/* Match `data`; see lf_parser_apply's contract. Safe to call concurrently. */
lf_err lf_p_regex_apply(const lf_p_regex *re, const char *data, size_t len, lf_agent_event *ev,
                        lf_error *err);

#endif

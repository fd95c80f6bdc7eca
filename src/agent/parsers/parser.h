/*
 * parser.h — the agent's parsers: turn the text of one record into an lf_agent_event
 * (message, time, level, labels). Pure functions over untrusted bytes: bounded, never
 * allocating beyond the event's message_buf and the parser's own state, fuzzed
 * (tests/fuzz/fuzz_agent_parse_*.c).
 *
 * Two uses:
 *   - transport formats, called by the input that reads them: syslog (RFC 3164 and 5424),
 *     CRI and Docker json-file container lines;
 *   - the `parser` an input is configured with, applied by the pipeline to the message the
 *     input produced: json, regex (named groups), nginx_access (combined or JSON),
 *     nginx_error, syslog, cri, docker, or none.
 *
 * Contract of every lf_parse_* function: `data` is NOT NUL-terminated and must not point into
 * ev->message_buf (the pipeline guarantees this). On LF_OK the event's fields the format
 * carries are set (ev->message may borrow from `data`, or live in ev->message_buf when the
 * text had to be unescaped). On LF_ERR_INVALID (the text is not in this format, or too large
 * or deep to parse) the event is left as it was given, so the caller can keep the raw line as
 * the message; the configured parsers return no other error except LF_ERR_NOMEM. Fields
 * already set in ev (labels from the input) are kept; the parser adds its own (replacing an
 * input label of the same name). A field the record lacks or that does not parse (a time in
 * another format) is left as it was: time and level stay 0 = unknown.
 */
#ifndef LF_AGENT_PARSER_H
#define LF_AGENT_PARSER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "event.h"
#include "logflux/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------- levels and time ---------------- */

/* A level name or number to LF_LEVEL_* (1..8), 0 if not recognised. Case-insensitive names:
 * emerg/emergency/panic/fatal, alert, crit/critical, err/error/eror, warn/warning, notice,
 * info/information/informational, debug/trace/dbg; single letters E W I D F (glog/klog);
 * syslog severities "0".."7" -> LF_LEVEL = severity + 1; pino/bunyan numbers 10 20 (debug)
 * 30 (info) 40 (warning) 50 (error) 60 (fatal). Surrounding white space is ignored. */
int lf_level_parse(const char *s, size_t len);
/* Guess the level from a free-text message: a leading or bracketed level word ("ERROR ...",
 * "[warn]", "<E>", "level=error", "\"level\":\"warn\"", klog "E0102 ..."). 0 if none found.
 * Looks only at the first 256 bytes. Ordinary words in a sentence never count: a leading word
 * only in upper case or followed by ':' (after timestamps and bracketed fields), anywhere else
 * only in brackets or as a level= / "level": value (docs/AGENT-PARSERS.md). */
int lf_level_detect(const char *msg, size_t len);

/* Parse a timestamp. `format`: NULL or "" = auto (RFC 3339 / ISO 8601 with optional fraction
 * and zone; Unix seconds, milliseconds, microseconds or nanoseconds by magnitude, with optional
 * fraction); "rfc3339"; "unix"; "unix_ms"; "unix_us"; "unix_ns"; otherwise a strptime(3)
 * pattern (with %z honoured; no zone = UTC), optionally followed by ".%f" style fraction via the
 * conversion "%L" (milliseconds) or "%N" (nanoseconds); a pattern without a year takes the
 * current one (or the last, not to land more than a day ahead). Times before 1970 or after
 * 2262 (the int64 ns range) are LF_ERR_INVALID, as is anything that does not parse. */
lf_err lf_parse_time(const char *s, size_t len, const char *format, int64_t *ns_out, lf_error *err);
/* Whether lf_parse_time understands `format` (NULL/"" = auto, a name above, or a pattern with
 * a conversion and at most one %L/%N): for validating configuration. */
bool lf_time_format_valid(const char *format);

/* ---------------- transport formats ---------------- */

/* RFC 5424 ("<PRI>1 TS HOST APP PROCID MSGID [SD] MSG") or RFC 3164 ("<PRI>Mmm dd hh:mm:ss
 * HOST TAG[pid]: MSG"), detected by the version digit after PRI; also accepts 3164 without
 * hostname and without PRI (as a local /dev/log sender writes). Sets level from the severity,
 * ts (3164 has no year or zone: the year is taken from `now_ns` such that the time is not more
 * than a day in the future; UTC), labels facility, hostname, appname, procid, msgid (5424),
 * and structured data as labels "sd.<id>.<param>"; logger = appname/tag; message = MSG
 * (a UTF-8 BOM removed). */
lf_err lf_parse_syslog(const char *data, size_t len, int64_t now_ns, lf_agent_event *ev,
                       lf_error *err);

/* CRI (containerd, CRI-O): "TIMESTAMP STREAM P|F MESSAGE". Sets ts, label stream, partial
 * (P), message (borrowed). */
lf_err lf_parse_cri(const char *data, size_t len, lf_agent_event *ev, lf_error *err);

/* Docker json-file: {"log":"...","stream":"stdout","time":"RFC3339Nano","attrs":{...}}.
 * Message unescaped into message_buf without its final '\n'; partial = the log text did not
 * end in '\n'; label stream; attrs members become labels. */
lf_err lf_parse_docker(const char *data, size_t len, lf_agent_event *ev, lf_error *err);

/* ---------------- configured parsers ---------------- */

typedef enum lf_parser_kind {
    LF_PARSER_NONE = 0,
    LF_PARSER_JSON,
    LF_PARSER_REGEX,
    LF_PARSER_NGINX_ACCESS, /* combined log format, or JSON (auto-detected by '{') */
    LF_PARSER_NGINX_ERROR,
    LF_PARSER_SYSLOG,
    LF_PARSER_CRI,
    LF_PARSER_DOCKER,
} lf_parser_kind;

/* A parser's settings (as declared under `parsers:` in the agent's YAML). */
typedef struct lf_parser_config {
    const char *name; /* what inputs refer to */
    lf_parser_kind kind;
    const char *pattern;     /* regex: PCRE2 pattern with named groups (?<name>...); the
                                groups become message/time/level/labels */
    const char *time_key;    /* json/regex: field holding the time; "" = "time"/"ts"/"timestamp"
                                /"@timestamp" for json, "time" for regex */
    const char *time_format; /* see lf_parse_time; "" = auto */
    const char *level_key;   /* json/regex: field holding the level; "" = "level"/"severity"/
                                "lvl" for json, "level" for regex */
    const char *message_key; /* json/regex: field holding the message; "" = "message"/"msg"/
                                "log" for json, "message" for regex; absent: the whole text */
    bool keep_fields;        /* json: other top-level scalar fields become labels (first 20 in
                                order; nested values are kept in the message). regex: every
                                other named group always becomes a label (naming it is the
                                choice), so this is not consulted */
} lf_parser_config;

typedef struct lf_parser lf_parser;

/* Compile a parser. LF_ERR_INVALID with a message naming the problem (bad regex, regex
 * without named groups, unknown kind). */
lf_err lf_parser_new(const lf_parser_config *cfg, lf_parser **out, lf_error *err);
void lf_parser_free(lf_parser *p);
lf_parser_kind lf_parser_kind_of(const lf_parser *p);
/* "json" -> LF_PARSER_JSON, ...; -1 if unknown. Names: none json regex nginx_access
 * nginx_error syslog cri docker. */
int lf_parser_kind_from_name(const char *name);
const char *lf_parser_kind_name(lf_parser_kind kind);

/* Apply to one record (see the contract above). now_ns is the reader's clock (syslog 3164
 * year inference). Thread-safe for concurrent calls on one parser (state is read-only). */
lf_err lf_parser_apply(const lf_parser *p, const char *data, size_t len, int64_t now_ns,
                       lf_agent_event *ev, lf_error *err);

/* The individual configured formats, also called by the dispatcher above. */
lf_err lf_parse_json(const lf_parser_config *cfg, const char *data, size_t len, lf_agent_event *ev,
                     lf_error *err);
lf_err lf_parse_nginx_access(const char *data, size_t len, lf_agent_event *ev, lf_error *err);
lf_err lf_parse_nginx_error(const char *data, size_t len, lf_agent_event *ev, lf_error *err);

#ifdef __cplusplus
}
#endif
#endif

/*
 * ops_text.h — the text escapes the agent's own output needs: JSON string content (JSON log
 * lines, endpoint bodies), one-line text (text log lines: a message can never start a second
 * line) and UTF-8 validation (a file path or a system error string may hold any bytes, and
 * JSON and the Prometheus format both require UTF-8). Invalid bytes become U+FFFD rather than
 * an error: the output must always be well-formed.
 */
#ifndef LF_AGENT_OPS_TEXT_H
#define LF_AGENT_OPS_TEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "logflux/buf.h"
#include "logflux/error.h"

/* Length (1..4) of the well-formed UTF-8 sequence at p (n bytes available), or 0 when the
 * bytes there are not one (overlong forms, surrogates and values past U+10FFFF are refused). */
size_t lf_agent_utf8_seq(const uint8_t *p, size_t n);

#define LF_AGENT_ESCAPE_UNIT_MAX 8

/*
 * Escape the next unit (one character, or one invalid byte) of p[0..n), n > 0: write its
 * escaped form to out (at most LF_AGENT_ESCAPE_UNIT_MAX bytes, not NUL-terminated), return its
 * length and set *consumed to the input bytes it stands for.
 *   json: \" \\ \n \r \t, other control bytes \u00XX
 *   text: \\ \n \r \t, other control bytes and DEL \xXX; the double quote stays
 * Invalid UTF-8 becomes U+FFFD in both. Callers that must cut output cut between units.
 */
size_t lf_agent_escape_unit(const uint8_t *p, size_t n, bool json, char *out, size_t *consumed);

/* Append s[0..len) as the content of a JSON string (no quotes). */
lf_err lf_agent_json_escape(lf_buf *out, const char *s, size_t len);

#endif

/*
 * log.h — the agent's own diagnostics: one line per event on stderr, text or JSON.
 *
 * NEVER PASS LOG CONTENT OR SECRETS TO THESE FUNCTIONS. The agent exists to keep the records
 * it collects unreadable to everyone but their owner; its own log goes to journald, kubectl
 * logs and support tickets in plain text. A message may name a file, an input, a byte count,
 * an offset, an errno, an HTTP status or a server address; it must never quote a record, a
 * field of one, a parser's input, an API key, a token, a key file's bytes or a request body.
 * (The agent's stderr is also never one of its own inputs: that would be a feedback loop.)
 *
 * Lines:
 *   text: 2025-01-31T12:00:00.123Z warn  [shipper] server unreachable: ... (suppressed 41)
 *   json: {"ts":"2025-01-31T12:00:00.123Z","level":"warn","component":"shipper",
 *          "msg":"server unreachable: ...","suppressed":41}
 * Control bytes are escaped (a message cannot forge a second line) and invalid UTF-8 becomes
 * U+FFFD. A line is at most LF_AGENT_LOG_LINE_MAX bytes (longer messages are cut) and is
 * written with one write(2), so lines of concurrent threads never interleave.
 *
 * Rate limit: an identical message (same level, component and text) is written at most once
 * per window (default 30 s). Repeats inside the window are counted; the count is reported as
 * "suppressed N" on the next line of that message, or, if the message stops, by a
 * "suppressed N repeats of: ..." line at the next log call after the window (or at
 * lf_agent_log_flush). So a server flapping every millisecond costs one line per window.
 *
 * Process-wide state (a logger is): initialise once from main before starting threads; the
 * logging calls themselves are thread-safe. Without lf_agent_log_init the level is info, text.
 */
#ifndef LF_AGENT_OPS_LOG_H
#define LF_AGENT_OPS_LOG_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>

#include "logflux/error.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum lf_agent_log_level {
    LF_AGENT_LOG_ERROR = 0,
    LF_AGENT_LOG_WARN,
    LF_AGENT_LOG_INFO,
    LF_AGENT_LOG_DEBUG,
} lf_agent_log_level;

#define LF_AGENT_LOG_LINE_MAX         4096 /* = PIPE_BUF on Linux: atomic on pipes too */
#define LF_AGENT_LOG_DEFAULT_WINDOW_S 30

/* Set the threshold (messages above it are dropped before formatting) and the format. */
void lf_agent_log_init(lf_agent_log_level level, bool json);
/* "error", "warn" (or "warning"), "info", "debug" → level. For config validation. */
lf_err lf_agent_log_level_parse(const char *text, lf_agent_log_level *out, lf_error *err);
/* Would a message at this level be written? (Skip building expensive arguments.) */
bool lf_agent_log_enabled(lf_agent_log_level level);

/* Log one message. component: a short static name ("tail", "shipper", "ops"). */
void lf_agent_log(lf_agent_log_level level, const char *component, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void lf_agent_logv(lf_agent_log_level level, const char *component, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));

/* Write the pending "suppressed N" reports now, whatever their window (call at shutdown). */
void lf_agent_log_flush(void);
/* Report pending repeat counts and forget every message seen, so the next occurrence of any
 * message is written at once (used at a reload: "input started" must show again). */
void lf_agent_log_reset_repeats(void);

/* ---- for tests and special callers ---- */

/* The repeat window in seconds; 0 disables rate limiting. Resets the repeat table. */
void lf_agent_log_set_window(unsigned seconds);
/* The monotonic clock (milliseconds) the rate limit uses; NULL restores CLOCK_MONOTONIC. */
void lf_agent_log_set_clock(int64_t (*now_ms)(void));
/* The descriptor lines go to (default 2, stderr). */
void lf_agent_log_set_fd(int fd);

#ifdef __cplusplus
}
#endif
#endif

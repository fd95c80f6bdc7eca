/*
 * ops_http.h — the agent's operations endpoint: Prometheus metrics and health over plain HTTP.
 *
 * A deliberately tiny libmicrohttpd server (one internal polling thread, 8 connections and 4
 * per client, short timeouts, small per-connection memory) so that monitoring can never cost
 * the agent more than a few kilobytes or compete with shipping. Routes:
 *
 *   GET /metrics   200 text/plain; version=0.0.4 — whatever the metrics callback writes
 *   GET /health    200 or 503 application/json — whatever the health callback decides
 *   GET /ready     the same as /health (the name Kubernetes readiness probes usually use)
 *   GET /live      200 {"status":"alive"} — answered without the callbacks: it proves only that
 *                  the process and this thread run (a liveness probe that restarts the pod
 *                  because the remote server is down would only lose the buffer's momentum)
 *   other paths    404 {"error":"..."}
 *   other methods  405 {"error":"..."} with an Allow header (HEAD is served like GET)
 *
 * Bound to loopback by default (127.0.0.1:2020). A non-loopback address is refused unless the
 * caller sets allow_non_loopback: the metrics carry no log content, but they do reveal file
 * paths, input names, volumes and error counts of the host, and the endpoint has no
 * authentication or TLS — exposing it is a decision, not a default (docs/AGENT-OPERATIONS.md).
 *
 * Callbacks run on the server's thread, one at a time, concurrently with the rest of the agent:
 * they must read shared state safely (atomics or the owner's lock) and return quickly. They
 * must never write log content or secrets into their output.
 */
#ifndef LF_AGENT_OPS_HTTP_H
#define LF_AGENT_OPS_HTTP_H

#include <stdbool.h>
#include <stdint.h>

#include "logflux/buf.h"
#include "logflux/error.h"

#ifdef __cplusplus
extern "C" {
#endif

#define LF_AGENT_OPS_DEFAULT_LISTEN "127.0.0.1:2020"

/* Append the Prometheus text exposition of every metric to out (which starts empty). */
typedef void (*lf_agent_ops_metrics_fn)(void *ctx, lf_buf *out);
/* Fill out_json (starts empty) with a JSON object and return 200 (healthy) or 503. Any other
 * return is answered as 503; an empty out_json gets {"status":"ok"} / {"status":"unavailable"}. */
typedef int (*lf_agent_ops_health_fn)(void *ctx, lf_buf *out_json);

typedef struct lf_agent_ops lf_agent_ops;

typedef struct lf_agent_ops_options {
    const char *listen;      /* "127.0.0.1:2020", "[::1]:2020", "0.0.0.0:2020"; NULL/"" = default */
    bool allow_non_loopback; /* required for any address outside 127.0.0.0/8 and ::1 */
    lf_agent_ops_metrics_fn metrics; /* may be NULL: /metrics is then empty */
    lf_agent_ops_health_fn health;   /* may be NULL: /health is then always 200 */
    void *ctx;                       /* passed to both callbacks; borrowed until stop */
} lf_agent_ops_options;

/* Start the endpoint (loopback only). On LF_OK *out is running until lf_agent_ops_stop. */
lf_err lf_agent_ops_start(const char *listen, lf_agent_ops_metrics_fn metrics,
                          lf_agent_ops_health_fn health, void *ctx, lf_agent_ops **out,
                          lf_error *err);
/* The same with every option (a non-loopback address needs allow_non_loopback). */
lf_err lf_agent_ops_start_opts(const lf_agent_ops_options *opts, lf_agent_ops **out, lf_error *err);
/* The bound port (useful when listening on port 0). */
uint16_t lf_agent_ops_port(const lf_agent_ops *o);
/* Stop answering, wait for the server thread, free. NULL is a no-op. */
void lf_agent_ops_stop(lf_agent_ops *o);

/* Parse "host:port" / "[v6]:port" (numeric addresses only: no DNS at startup) into a
 * sockaddr_storage; *loopback tells whether it is 127.0.0.0/8 or ::1. Exposed for tests and
 * for config validation. */
lf_err lf_agent_ops_parse_listen(const char *listen, void *sockaddr_storage, unsigned *socklen,
                                 bool *loopback, lf_error *err);

/* ---- Prometheus text helpers for the components' metric writers ---- */

/* Write "# HELP name help" and "# TYPE name type" — once per metric family, before its
 * samples. type: counter, gauge, histogram, summary or untyped. help is escaped (\\ and \n). */
lf_err lf_agent_metric_help(lf_buf *out, const char *name, const char *type, const char *help);
/*
 * Write one sample line: name{l1="v1",l2="v2"} value. labels is NULL or a NULL-terminated
 * array of name/value pairs {"input", "tail", "path", "/var/log/a.log", NULL}. Values are
 * escaped per the exposition format (\\, \", \n) and invalid UTF-8 becomes U+FFFD. Names are
 * checked ([a-zA-Z_:][a-zA-Z0-9_:]* for metrics, no ':' in label names): LF_ERR_INVALID.
 */
lf_err lf_agent_metric_u64(lf_buf *out, const char *name, const char *const *labels, uint64_t v);
/* The same for a double: NaN, +Inf and -Inf are written as Prometheus spells them. */
lf_err lf_agent_metric_f64(lf_buf *out, const char *name, const char *const *labels, double v);

#ifdef __cplusplus
}
#endif
#endif

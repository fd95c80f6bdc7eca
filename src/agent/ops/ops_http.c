/*
 * ops_http.c — the agent's metrics/health endpoint (ops_http.h) and the Prometheus text
 * helpers.
 *
 * Independent of the server's HTTP layer on purpose: logfluxd's needs (TLS, streams, bodies,
 * thread pools) are the opposite of ours. Here every request is a GET answered at the first
 * access callback from a buffer the callback fills, so no request body is ever read and no
 * per-request state exists. Bounds: one polling thread, LF_OPS_MAX_CONNECTIONS connections,
 * a short idle timeout, and a small memory pool per connection (request headers only).
 */
#include "ops/ops_http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "ops/log.h"
#include "ops/ops_text.h"

#define LF_OPS_MAX_CONNECTIONS    8
#define LF_OPS_MAX_PER_PEER       4 /* one noisy client cannot take every slot from the probes */
#define LF_OPS_TIMEOUT_S          10
#define LF_OPS_CONN_MEMORY        ((size_t)16 * 1024)
#define LF_OPS_LISTEN_MAX         128
#define LF_OPS_PROMETHEUS_CONTENT "text/plain; version=0.0.4; charset=utf-8"

struct lf_agent_ops {
    struct MHD_Daemon *daemon;
    lf_agent_ops_metrics_fn metrics;
    lf_agent_ops_health_fn health;
    void *ctx;
    uint16_t port;
};

/* ---- listen address ---- */

static bool parse_port(const char *s, uint16_t *out)
{
    if (*s == '\0' || strlen(s) > 5)
        return false;
    unsigned v = 0;
    for (const char *p = s; *p; p++) {
        if (*p < '0' || *p > '9')
            return false;
        v = v * 10 + (unsigned)(*p - '0');
    }
    if (v > 65535)
        return false;
    *out = (uint16_t)v;
    return true;
}

lf_err lf_agent_ops_parse_listen(const char *listen, void *sockaddr_storage, unsigned *socklen,
                                 bool *loopback, lf_error *err)
{
    if (listen == NULL || *listen == '\0')
        listen = LF_AGENT_OPS_DEFAULT_LISTEN;
    size_t n = strlen(listen);
    if (n >= LF_OPS_LISTEN_MAX)
        return lf_error_set(err, LF_ERR_INVALID, "ops.listen: longer than %d bytes",
                            LF_OPS_LISTEN_MAX - 1);
    char host[LF_OPS_LISTEN_MAX];
    const char *port_text;
    if (listen[0] == '[') {
        const char *close = strchr(listen, ']');
        if (close == NULL || close[1] != ':')
            return lf_error_set(err, LF_ERR_INVALID,
                                "ops.listen: \"%s\" is not [ipv6-address]:port", listen);
        size_t hl = (size_t)(close - listen - 1);
        memcpy(host, listen + 1, hl);
        host[hl] = '\0';
        port_text = close + 2;
    } else {
        const char *colon = strrchr(listen, ':');
        if (colon == NULL || colon == listen || memchr(listen, ':', (size_t)(colon - listen)))
            return lf_error_set(err, LF_ERR_INVALID,
                                "ops.listen: \"%s\" is not address:port (IPv6 in brackets)",
                                listen);
        size_t hl = (size_t)(colon - listen);
        memcpy(host, listen, hl);
        host[hl] = '\0';
        port_text = colon + 1;
    }
    uint16_t port;
    if (!parse_port(port_text, &port))
        return lf_error_set(err, LF_ERR_INVALID, "ops.listen: bad port in \"%s\"", listen);
    /* Numeric addresses only (plus the one name everyone means): no resolver at startup. */
    if (strcmp(host, "localhost") == 0)
        strcpy(host, "127.0.0.1");
    struct sockaddr_storage *ss = sockaddr_storage;
    memset(ss, 0, sizeof *ss);
    struct sockaddr_in *v4 = (struct sockaddr_in *)ss;
    struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)ss;
    if (inet_pton(AF_INET, host, &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        v4->sin_port = htons(port);
        *socklen = sizeof *v4;
        *loopback = (ntohl(v4->sin_addr.s_addr) >> 24) == 127;
    } else if (inet_pton(AF_INET6, host, &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons(port);
        *socklen = sizeof *v6;
        *loopback = IN6_IS_ADDR_LOOPBACK(&v6->sin6_addr);
    } else {
        return lf_error_set(err, LF_ERR_INVALID,
                            "ops.listen: \"%s\" is not a numeric IPv4/IPv6 address", host);
    }
    return LF_OK;
}

/* ---- responses ---- */

static enum MHD_Result send_body(struct MHD_Connection *conn, unsigned status,
                                 const char *content_type, const void *data, size_t len,
                                 const char *allow)
{
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(len, (void *)data, MHD_RESPMEM_MUST_COPY);
    if (resp == NULL)
        return MHD_NO;
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, content_type);
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    if (allow != NULL)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, allow);
    enum MHD_Result r = MHD_queue_response(conn, status, resp);
    MHD_destroy_response(resp);
    return r;
}

static enum MHD_Result send_error(struct MHD_Connection *conn, unsigned status, const char *msg,
                                  const char *allow)
{
    char body[160];
    int n = snprintf(body, sizeof body, "{\"error\":\"%s\"}\n", msg);
    return send_body(conn, status, "application/json", body,
                     n > 0 && (size_t)n < sizeof body ? (size_t)n : 0, allow);
}

static enum MHD_Result serve_metrics(lf_agent_ops *o, struct MHD_Connection *conn)
{
    lf_buf out = LF_BUF_INIT;
    if (o->metrics != NULL)
        o->metrics(o->ctx, &out);
    enum MHD_Result r = send_body(conn, MHD_HTTP_OK, LF_OPS_PROMETHEUS_CONTENT,
                                  out.data ? (const void *)out.data : "", out.len, NULL);
    lf_buf_free(&out);
    return r;
}

static enum MHD_Result serve_health(lf_agent_ops *o, struct MHD_Connection *conn)
{
    lf_buf out = LF_BUF_INIT;
    int status = o->health != NULL ? o->health(o->ctx, &out) : MHD_HTTP_OK;
    /* Probes understand two answers; anything else from the callback is a bug read as "not
     * healthy", which is the side that gets someone to look. */
    if (status != MHD_HTTP_OK)
        status = MHD_HTTP_SERVICE_UNAVAILABLE;
    if (out.len == 0) {
        lf_buf_reset(&out);
        lf_buf_append_str(&out, status == MHD_HTTP_OK ? "{\"status\":\"ok\"}\n"
                                                      : "{\"status\":\"unavailable\"}\n");
    }
    enum MHD_Result r = send_body(conn, (unsigned)status, "application/json",
                                  out.data ? (const void *)out.data : "", out.len, NULL);
    lf_buf_free(&out);
    return r;
}

static enum MHD_Result on_access(void *cls, struct MHD_Connection *conn, const char *url,
                                 const char *method, const char *version, const char *upload_data,
                                 size_t *upload_data_size, void **req_cls)
{
    (void)version;
    (void)upload_data;
    (void)upload_data_size;
    (void)req_cls;
    lf_agent_ops *o = cls;
    /* Answer at the first call, before any body is read: MHD then closes the connection if a
     * body was sent, which is what a stray POST deserves. HEAD is GET without the body. */
    bool get =
        strcmp(method, MHD_HTTP_METHOD_GET) == 0 || strcmp(method, MHD_HTTP_METHOD_HEAD) == 0;
    bool known = strcmp(url, "/metrics") == 0 || strcmp(url, "/health") == 0 ||
                 strcmp(url, "/ready") == 0 || strcmp(url, "/live") == 0;
    if (!known)
        return send_error(conn, MHD_HTTP_NOT_FOUND, "not found: try /metrics or /health", NULL);
    if (!get)
        return send_error(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "method not allowed: use GET",
                          "GET, HEAD");
    if (strcmp(url, "/metrics") == 0)
        return serve_metrics(o, conn);
    if (strcmp(url, "/live") == 0) {
        static const char alive[] = "{\"status\":\"alive\"}\n";
        return send_body(conn, MHD_HTTP_OK, "application/json", alive, sizeof alive - 1, NULL);
    }
    return serve_health(o, conn);
}

/* libmicrohttpd's own complaints (accept failures, connection limit) go to the agent's log. */
static void mhd_logger(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    char msg[256];
    vsnprintf(msg, sizeof msg, fmt, ap);
    size_t n = strlen(msg);
    while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
        msg[--n] = '\0';
    lf_agent_log(LF_AGENT_LOG_WARN, "ops", "http: %s", msg);
}

lf_err lf_agent_ops_start_opts(const lf_agent_ops_options *opts, lf_agent_ops **out, lf_error *err)
{
    *out = NULL;
    struct sockaddr_storage addr;
    unsigned addr_len = 0;
    bool loopback = false;
    const char *listen = opts->listen && *opts->listen ? opts->listen : LF_AGENT_OPS_DEFAULT_LISTEN;
    lf_err rc = lf_agent_ops_parse_listen(listen, &addr, &addr_len, &loopback, err);
    if (rc != LF_OK)
        return rc;
    if (!loopback && !opts->allow_non_loopback)
        return lf_error_set(err, LF_ERR_INVALID,
                            "ops.listen: %s is not a loopback address; the endpoint has no "
                            "authentication, so set ops.allow_non_loopback to expose it",
                            listen);
    lf_agent_ops *o = calloc(1, sizeof *o);
    if (o == NULL)
        return lf_error_set(err, LF_ERR_NOMEM, "ops: out of memory");
    o->metrics = opts->metrics;
    o->health = opts->health;
    o->ctx = opts->ctx;
    /* epoll, not select: the agent may hold more than FD_SETSIZE descriptors (tailed files),
     * and select() cannot watch a socket numbered past that. */
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ERROR_LOG;
    if (addr.ss_family == AF_INET6)
        flags |= MHD_USE_IPv6;
    /* The logger goes first: MHD uses its default logger for options parsed before it. */
    o->daemon = MHD_start_daemon(flags, 0, NULL, NULL, on_access, o, MHD_OPTION_EXTERNAL_LOGGER,
                                 mhd_logger, NULL, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr,
                                 MHD_OPTION_CONNECTION_LIMIT, (unsigned)LF_OPS_MAX_CONNECTIONS,
                                 MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)LF_OPS_MAX_PER_PEER,
                                 MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)LF_OPS_TIMEOUT_S,
                                 MHD_OPTION_CONNECTION_MEMORY_LIMIT, LF_OPS_CONN_MEMORY,
                                 MHD_OPTION_LISTEN_BACKLOG_SIZE, (unsigned)16, MHD_OPTION_END);
    if (o->daemon == NULL) {
        int e = errno;
        free(o);
        return lf_error_set(err, LF_ERR_IO, "ops: cannot listen on %s: %s", listen,
                            e ? strerror(e) : "libmicrohttpd refused to start");
    }
    const union MHD_DaemonInfo *di = MHD_get_daemon_info(o->daemon, MHD_DAEMON_INFO_BIND_PORT);
    o->port = di ? di->port : 0;
    *out = o;
    return LF_OK;
}

lf_err lf_agent_ops_start(const char *listen, lf_agent_ops_metrics_fn metrics,
                          lf_agent_ops_health_fn health, void *ctx, lf_agent_ops **out,
                          lf_error *err)
{
    lf_agent_ops_options opts = {
        .listen = listen, .metrics = metrics, .health = health, .ctx = ctx};
    return lf_agent_ops_start_opts(&opts, out, err);
}

uint16_t lf_agent_ops_port(const lf_agent_ops *o)
{
    return o ? o->port : 0;
}

void lf_agent_ops_stop(lf_agent_ops *o)
{
    if (o == NULL)
        return;
    MHD_stop_daemon(o->daemon);
    free(o);
}

/* ---- Prometheus text exposition ---- */

static bool metric_name_ok(const char *s, bool colon)
{
    if (s == NULL || *s == '\0')
        return false;
    for (const char *p = s; *p; p++) {
        char c = *p;
        bool alpha =
            (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (colon && c == ':');
        if (!alpha && !(p != s && c >= '0' && c <= '9'))
            return false;
    }
    return true;
}

/* Append text with the given escapes, replacing invalid UTF-8 so the exposition stays valid.
 * HELP escapes \ and newline; label values also escape the double quote. */
static lf_err append_escaped(lf_buf *out, const char *s, bool quote)
{
    const uint8_t *p = (const uint8_t *)s;
    size_t len = strlen(s);
    for (size_t i = 0; i < len;) {
        lf_err rc;
        uint8_t c = p[i];
        if (c == '\\') {
            rc = lf_buf_append(out, "\\\\", 2), i++;
        } else if (c == '\n') {
            rc = lf_buf_append(out, "\\n", 2), i++;
        } else if (c == '"' && quote) {
            rc = lf_buf_append(out, "\\\"", 2), i++;
        } else {
            size_t seq = lf_agent_utf8_seq(p + i, len - i);
            if (seq == 0)
                rc = lf_buf_append(out, "\xEF\xBF\xBD", 3), i++;
            else
                rc = lf_buf_append(out, p + i, seq), i += seq;
        }
        if (rc != LF_OK)
            return rc;
    }
    return LF_OK;
}

lf_err lf_agent_metric_help(lf_buf *out, const char *name, const char *type, const char *help)
{
    static const char *const types[] = {"counter", "gauge", "histogram", "summary", "untyped"};
    bool type_ok = false;
    for (size_t i = 0; type != NULL && i < sizeof types / sizeof types[0]; i++)
        type_ok = type_ok || strcmp(type, types[i]) == 0;
    if (!metric_name_ok(name, true) || !type_ok)
        return LF_ERR_INVALID;
    lf_err rc = lf_buf_printf(out, "# HELP %s ", name);
    if (rc == LF_OK)
        rc = append_escaped(out, help ? help : "", false);
    if (rc == LF_OK)
        rc = lf_buf_printf(out, "\n# TYPE %s %s\n", name, type);
    return rc;
}

static lf_err sample_prefix(lf_buf *out, const char *name, const char *const *labels)
{
    if (!metric_name_ok(name, true))
        return LF_ERR_INVALID;
    /* Check every label name before writing anything, so a refused sample leaves no half
     * line behind. */
    size_t pairs = 0;
    for (; labels != NULL && labels[2 * pairs] != NULL; pairs++)
        if (!metric_name_ok(labels[2 * pairs], false) || labels[2 * pairs + 1] == NULL)
            return LF_ERR_INVALID;
    lf_err rc = lf_buf_append_str(out, name);
    for (size_t i = 0; rc == LF_OK && i < pairs; i++) {
        rc = lf_buf_printf(out, "%s%s=\"", i == 0 ? "{" : ",", labels[2 * i]);
        if (rc == LF_OK)
            rc = append_escaped(out, labels[2 * i + 1], true);
        if (rc == LF_OK)
            rc = lf_buf_append_str(out, "\"");
    }
    if (rc == LF_OK && pairs > 0)
        rc = lf_buf_append_str(out, "}");
    return rc;
}

lf_err lf_agent_metric_u64(lf_buf *out, const char *name, const char *const *labels, uint64_t v)
{
    lf_err rc = sample_prefix(out, name, labels);
    return rc != LF_OK ? rc : lf_buf_printf(out, " %" PRIu64 "\n", v);
}

lf_err lf_agent_metric_f64(lf_buf *out, const char *name, const char *const *labels, double v)
{
    lf_err rc = sample_prefix(out, name, labels);
    if (rc != LF_OK)
        return rc;
    if (isnan(v))
        return lf_buf_append_str(out, " NaN\n");
    if (isinf(v))
        return lf_buf_append_str(out, v > 0 ? " +Inf\n" : " -Inf\n");
    return lf_buf_printf(out, " %.17g\n", v);
}

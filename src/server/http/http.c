/*
 * http.c — libmicrohttpd glue: daemon life cycle, routing, bounded bodies, answers.
 *
 * MHD calls the access handler several times per request: first with the headers (we pick the
 * route, check Content-Length against the route's limit and answer 413/404/405 at once), then
 * once per chunk of body (we append, refusing to pass the limit), then with an empty chunk
 * (we run the handler). The per-request state lives in lfd_request, freed when MHD reports the
 * request complete. Answers queued before the body is read make MHD close the connection after
 * answering, which is what we want for a client that sends too much.
 */
#include "http.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "logflux/timefmt.h"

#define MAX_EXTRA_HEADERS 12

typedef struct lfd_stream lfd_stream;

struct lfd_http {
    struct MHD_Daemon *daemon;
    lfd_http_options opts;
    atomic_int open_connections;
    uint16_t port;
    /* Streamed answers, and the thread that wakes the parked ones. */
    pthread_mutex_t streams_lock;
    lfd_stream *streams;
    pthread_t pump;
    atomic_bool pump_stop;
    atomic_bool stopping;
    atomic_size_t buffered; /* body bytes held by all requests right now */
};

struct lfd_stream {
    lfd_http *http;
    struct MHD_Connection *conn;
    lfd_stream_next next;
    void *cls;
    void (*done)(void *cls);
    bool parked;
    lfd_stream *prev, *after;
};

#define STREAM_POLL_MS 250

struct lfd_request {
    lfd_http *http;
    struct MHD_Connection *conn;
    const lfd_route *route;
    char method[16];
    char *path;
    char *raw_query;
    char peer[INET6_ADDRSTRLEN];
    char request_id[33];
    char actor[80];
    lf_buf body;
    bool answered;
    bool too_large;
    bool keep_answer;
    size_t max_body;        /* this request's body limit (from the route, maybe by type) */
    unsigned refuse_status; /* set when the body is being discarded: answer once it ends */
    const char *refuse_code, *refuse_message;
    int refuse_retry;
    char *answer_copy;
    size_t answer_len;
    unsigned status;
    size_t bytes_out;
    double started;
    struct {
        char *name, *value;
    } headers[MAX_EXTRA_HEADERS];
    size_t n_headers;
};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

lf_err lfd_parse_listen(const char *listen, void *storage, unsigned *socklen, bool *loopback,
                        lf_error *err)
{
    char host[256];
    const char *colon;
    if (listen[0] == '[') {
        const char *close = strchr(listen, ']');
        if (close == NULL || close[1] != ':' || (size_t)(close - listen - 1) >= sizeof host)
            return lf_error_set(err, LF_ERR_INVALID, "listen '%s': expected [v6-address]:port",
                                listen);
        memcpy(host, listen + 1, (size_t)(close - listen - 1));
        host[close - listen - 1] = '\0';
        colon = close + 1;
    } else {
        colon = strrchr(listen, ':');
        if (colon == NULL || (size_t)(colon - listen) >= sizeof host)
            return lf_error_set(err, LF_ERR_INVALID, "listen '%s': expected host:port", listen);
        memcpy(host, listen, (size_t)(colon - listen));
        host[colon - listen] = '\0';
    }
    char *end = NULL;
    long port = strtol(colon + 1, &end, 10);
    if (end == colon + 1 || *end != '\0' || port < 0 || port > 65535)
        return lf_error_set(err, LF_ERR_INVALID, "listen '%s': bad port", listen);
    memset(storage, 0, sizeof(struct sockaddr_storage));
    struct sockaddr_in *v4 = storage;
    struct sockaddr_in6 *v6 = storage;
    if (strcmp(host, "localhost") == 0)
        strcpy(host, "127.0.0.1");
    if (inet_pton(AF_INET, host, &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        v4->sin_port = htons((uint16_t)port);
        *socklen = sizeof *v4;
        *loopback = (ntohl(v4->sin_addr.s_addr) >> 24) == 127;
    } else if (inet_pton(AF_INET6, host, &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons((uint16_t)port);
        *socklen = sizeof *v6;
        *loopback = IN6_IS_ADDR_LOOPBACK(&v6->sin6_addr);
    } else {
        return lf_error_set(err, LF_ERR_INVALID,
                            "listen '%s': host must be an IP address or localhost", listen);
    }
    return LF_OK;
}

/* ---------------- answers ---------------- */

static void queue(lfd_request *r, unsigned status, struct MHD_Response *resp, size_t len,
                  const void *body)
{
    if (r->answered || resp == NULL) {
        if (resp)
            MHD_destroy_response(resp);
        return;
    }
    MHD_add_response_header(resp, "X-Request-Id", r->request_id);
    MHD_add_response_header(resp, "Cache-Control", "no-store");
    for (size_t i = 0; i < r->n_headers; i++)
        MHD_add_response_header(resp, r->headers[i].name, r->headers[i].value);
    MHD_queue_response(r->conn, status, resp);
    MHD_destroy_response(resp);
    r->answered = true;
    r->status = status;
    r->bytes_out = len;
    if (r->keep_answer && body != NULL && len <= 4096 && (r->answer_copy = malloc(len + 1))) {
        memcpy(r->answer_copy, body, len);
        r->answer_len = len;
    }
}

void lfd_req_keep_answer(lfd_request *r)
{
    r->keep_answer = true;
}

bool lfd_req_answer(const lfd_request *r, unsigned *status, const void **body, size_t *len)
{
    if (!r->answered || r->answer_copy == NULL)
        return false;
    *status = r->status;
    *body = r->answer_copy;
    *len = r->answer_len;
    return true;
}

void lfd_respond_bytes(lfd_request *r, unsigned status, const char *content_type, const void *data,
                       size_t len)
{
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(len, (void *)data, MHD_RESPMEM_MUST_COPY);
    if (resp != NULL && content_type != NULL)
        MHD_add_response_header(resp, "Content-Type", content_type);
    queue(r, status, resp, len, data);
}

void lfd_respond_json(lfd_request *r, unsigned status, json_t *body)
{
    char *text = json_dumps(body, JSON_COMPACT);
    json_decref(body);
    if (text == NULL) {
        static const char oom[] = "{\"status\":\"error\",\"error\":{\"code\":\"internal\","
                                  "\"message\":\"out of memory\"}}";
        lfd_respond_bytes(r, 500, "application/json", oom, sizeof oom - 1);
        return;
    }
    size_t len = strlen(text);
    struct MHD_Response *resp = MHD_create_response_from_buffer(len, text, MHD_RESPMEM_MUST_FREE);
    if (resp != NULL)
        MHD_add_response_header(resp, "Content-Type", "application/json");
    else
        free(text);
    queue(r, status, resp, len, resp != NULL ? text : NULL);
}

void lfd_respond_error(lfd_request *r, unsigned status, const char *code, const char *message,
                       int retry_after)
{
    json_t *e = json_pack("{s:s, s:s}", "code", code, "message", message);
    if (retry_after > 0) {
        char v[24];
        snprintf(v, sizeof v, "%d", retry_after);
        lfd_resp_header(r, "Retry-After", v);
        json_object_set_new(e, "retry_after", json_integer(retry_after));
    }
    lfd_respond_json(
        r, status,
        json_pack("{s:s, s:o, s:s}", "status", "error", "error", e, "request_id", r->request_id));
}

void lfd_resp_header(lfd_request *r, const char *name, const char *value)
{
    if (r->n_headers >= MAX_EXTRA_HEADERS)
        return;
    r->headers[r->n_headers].name = strdup(name);
    r->headers[r->n_headers].value = strdup(value);
    if (r->headers[r->n_headers].name && r->headers[r->n_headers].value)
        r->n_headers++;
    else {
        free(r->headers[r->n_headers].name);
        free(r->headers[r->n_headers].value);
    }
}

/* ---------------- streamed answers ---------------- */

static ssize_t stream_read(void *cls, uint64_t pos, char *buf, size_t max)
{
    (void)pos;
    lfd_stream *st = cls;
    ssize_t n = st->next(st->cls, buf, max);
    if (n > 0)
        return n;
    if (n < 0)
        return MHD_CONTENT_READER_END_OF_STREAM;
    /* Nothing now: park the connection (no thread held) until the pump wakes it. Under the
     * lock, so the pump never resumes a connection that is not suspended yet. */
    pthread_mutex_lock(&st->http->streams_lock);
    st->parked = true;
    MHD_suspend_connection(st->conn);
    pthread_mutex_unlock(&st->http->streams_lock);
    return 0;
}

static void stream_free(void *cls)
{
    lfd_stream *st = cls;
    lfd_http *h = st->http;
    pthread_mutex_lock(&h->streams_lock);
    if (st->prev)
        st->prev->after = st->after;
    else
        h->streams = st->after;
    if (st->after)
        st->after->prev = st->prev;
    pthread_mutex_unlock(&h->streams_lock);
    if (st->done)
        st->done(st->cls);
    free(st);
}

static void resume_parked(lfd_http *h)
{
    pthread_mutex_lock(&h->streams_lock);
    for (lfd_stream *st = h->streams; st; st = st->after)
        if (st->parked) {
            st->parked = false;
            MHD_resume_connection(st->conn);
        }
    pthread_mutex_unlock(&h->streams_lock);
}

static void *stream_pump(void *arg)
{
    lfd_http *h = arg;
    while (!atomic_load(&h->pump_stop)) {
        usleep(STREAM_POLL_MS * 1000);
        resume_parked(h);
    }
    return NULL;
}

void lfd_respond_stream(lfd_request *r, unsigned status, const char *content_type,
                        lfd_stream_next next, void *cls, void (*done)(void *cls))
{
    lfd_stream *st = calloc(1, sizeof *st);
    struct MHD_Response *resp = st ? MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 16 * 1024,
                                                                       stream_read, st, stream_free)
                                   : NULL;
    if (resp == NULL) {
        free(st);
        if (done)
            done(cls);
        lfd_respond_error(r, 503, "overloaded", "cannot start a stream now", 1);
        return;
    }
    st->http = r->http;
    st->conn = r->conn;
    st->next = next;
    st->cls = cls;
    st->done = done;
    pthread_mutex_lock(&r->http->streams_lock);
    st->after = r->http->streams;
    if (st->after)
        st->after->prev = st;
    r->http->streams = st;
    pthread_mutex_unlock(&r->http->streams_lock);
    MHD_add_response_header(resp, "Content-Type", content_type);
    MHD_add_response_header(resp, "X-Accel-Buffering", "no");
    queue(r, status, resp, 0, NULL);
}

bool lfd_stream_stopping(const lfd_request *r)
{
    return atomic_load(&r->http->stopping);
}

/* ---------------- request accessors ---------------- */

const char *lfd_req_method(const lfd_request *r)
{
    return r->method;
}

const char *lfd_req_path(const lfd_request *r)
{
    return r->path;
}

const char *lfd_req_header(const lfd_request *r, const char *name)
{
    return MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, name);
}

const char *lfd_req_query(const lfd_request *r, const char *name)
{
    return MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, name);
}

const char *lfd_req_raw_query(const lfd_request *r)
{
    return r->raw_query ? r->raw_query : "";
}

const lf_buf *lfd_req_body(const lfd_request *r)
{
    return &r->body;
}

const char *lfd_req_peer(const lfd_request *r)
{
    return r->peer;
}

const char *lfd_req_id(const lfd_request *r)
{
    return r->request_id;
}

void lfd_req_set_actor(lfd_request *r, const char *credential_id)
{
    snprintf(r->actor, sizeof r->actor, "%s", credential_id);
}

/* ---------------- MHD callbacks ---------------- */

static const lfd_route *find_route(const lfd_http *h, const char *method, const char *path,
                                   bool *path_known)
{
    *path_known = false;
    for (size_t i = 0; i < h->opts.n_routes; i++) {
        const lfd_route *rt = &h->opts.routes[i];
        size_t n = strlen(rt->path);
        bool match = rt->path[n - 1] == '*' ? strncmp(path, rt->path, n - 1) == 0
                                            : strcmp(path, rt->path) == 0;
        if (!match)
            continue;
        *path_known = true;
        if (strcmp(rt->method, method) == 0)
            return rt;
    }
    return NULL;
}

static void peer_text(struct MHD_Connection *conn, char *out, size_t cap)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    strcpy(out, "?");
    if (ci == NULL || ci->client_addr == NULL)
        return;
    const struct sockaddr *sa = ci->client_addr;
    if (sa->sa_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, out,
                  (socklen_t)cap);
    else if (sa->sa_family == AF_INET6)
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, out,
                  (socklen_t)cap);
}

static lfd_request *request_new(lfd_http *h, struct MHD_Connection *conn, const char *url,
                                const char *method)
{
    lfd_request *r = calloc(1, sizeof *r);
    if (r == NULL)
        return NULL;
    r->http = h;
    r->conn = conn;
    r->started = now_s();
    snprintf(r->method, sizeof r->method, "%s", method);
    const char *q = strchr(url, '?');
    r->path = q ? strndup(url, (size_t)(q - url)) : strdup(url);
    r->raw_query = q ? strdup(q + 1) : NULL;
    uint8_t id[16];
    if (lf_random(id, sizeof id, NULL) != LF_OK)
        memset(id, 0, sizeof id);
    lf_hex_encode(id, sizeof id, r->request_id);
    peer_text(conn, r->peer, sizeof r->peer);
    if (r->path == NULL || (q && r->raw_query == NULL)) {
        free(r->path);
        free(r->raw_query);
        free(r);
        return NULL;
    }
    return r;
}

static void request_free(lfd_request *r)
{
    for (size_t i = 0; i < r->n_headers; i++) {
        free(r->headers[i].name);
        free(r->headers[i].value);
    }
    atomic_fetch_sub(&r->http->buffered, r->body.len);
    lf_buf_free(&r->body);
    free(r->answer_copy);
    free(r->path);
    free(r->raw_query);
    free(r);
}

/* First call for a request: route it and check the declared length. */
static void on_headers(lfd_request *r)
{
    bool path_known;
    r->route = find_route(r->http, r->method, r->path, &path_known);
    if (r->route == NULL) {
        if (path_known)
            lfd_respond_error(r, 405, "method_not_allowed",
                              "this method is not allowed on this path", 0);
        else
            lfd_respond_error(r, 404, "not_found", "no such endpoint", 0);
        return;
    }
    r->max_body = r->route->max_body;
    if (r->max_body == LFD_BODY_BY_TYPE) {
        const char *ct = lfd_req_header(r, "Content-Type");
        bool native = ct != NULL && strncasecmp(ct, "application/vnd.logflux.frames.v1", 33) == 0;
        r->max_body = native ? r->http->opts.max_body_native : r->http->opts.max_body_default;
    }
    const char *cl = lfd_req_header(r, "Content-Length");
    if (cl != NULL) {
        char *end = NULL;
        unsigned long long n = strtoull(cl, &end, 10);
        if (end == cl || *end != '\0') {
            lfd_respond_error(r, 400, "bad_request", "invalid Content-Length", 0);
            return;
        }
        if (n > r->max_body) {
            r->too_large = true;
            char msg[128];
            snprintf(msg, sizeof msg, "request body of %llu bytes exceeds the limit of %zu", n,
                     r->max_body);
            lfd_respond_error(r, 413, "payload_too_large", msg, 0);
        }
    }
}

/* Stop keeping the body (give its memory back now) and remember the answer for its end. */
static void refuse(lfd_request *r, unsigned status, const char *code, const char *message,
                   int retry_after)
{
    r->too_large = status == 413;
    r->refuse_status = status;
    r->refuse_code = code;
    r->refuse_message = message;
    r->refuse_retry = retry_after;
    atomic_fetch_sub(&r->http->buffered, r->body.len);
    lf_buf_free(&r->body);
}

static enum MHD_Result on_access(void *cls, struct MHD_Connection *conn, const char *url,
                                 const char *method, const char *version, const char *upload_data,
                                 size_t *upload_data_size, void **req_cls)
{
    (void)version;
    lfd_http *h = cls;
    lfd_request *r = *req_cls;
    if (r == NULL) {
        r = request_new(h, conn, url, method);
        if (r == NULL)
            return MHD_NO;
        *req_cls = r;
        on_headers(r);
        return MHD_YES;
    }
    if (*upload_data_size > 0) {
        /* A body that cannot be kept is read to its end and dropped, and refused when it is
         * complete: answering in the middle of an upload makes libmicrohttpd close the
         * connection without a reply. (With Content-Length too large, on_headers answered
         * before any of it was read.) */
        if (!r->answered && r->refuse_status == 0) {
            if (r->body.len + *upload_data_size > r->max_body)
                refuse(r, 413, "payload_too_large", "request body exceeds its limit", 0);
            else if (h->opts.max_buffered > 0 &&
                     atomic_load(&h->buffered) + *upload_data_size > h->opts.max_buffered)
                /* Many large uploads at once: refuse this one rather than run out of memory
                 * (a soft bound: concurrent chunks may pass it by a little). */
                refuse(r, 503, "overloaded", "too many request bodies in flight; retry shortly", 1);
            else if (lf_buf_append(&r->body, upload_data, *upload_data_size) != LF_OK)
                refuse(r, 503, "overloaded", "out of memory for the request body", 1);
            else
                atomic_fetch_add(&h->buffered, *upload_data_size);
        }
        *upload_data_size = 0; /* consumed, or discarded */
        return MHD_YES;
    }
    if (!r->answered && r->refuse_status != 0) {
        lfd_respond_error(r, r->refuse_status, r->refuse_code, r->refuse_message, r->refuse_retry);
    } else if (!r->answered) {
        r->route->handler(r, h->opts.ctx);
        if (!r->answered)
            lfd_respond_error(r, 500, "internal", "the handler did not answer", 0);
    }
    return MHD_YES;
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **req_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)conn;
    lfd_http *h = cls;
    lfd_request *r = *req_cls;
    if (r == NULL)
        return;
    if (!h->opts.quiet) {
        char ts[LF_RFC3339_MAX];
        lf_rfc3339_format(lf_time_now_ns(), ts);
        /* The path can carry ids but never secrets; the query is left out on purpose. */
        fprintf(stderr,
                "%s access request_id=%s peer=%s method=%s path=%.200s status=%u in=%zu "
                "out=%zu ms=%.1f actor=%s%s\n",
                ts, r->request_id, r->peer, r->method, r->path, r->answered ? r->status : 0,
                r->body.len, r->bytes_out, (now_s() - r->started) * 1e3,
                r->actor[0] ? r->actor : "-",
                toe == MHD_REQUEST_TERMINATED_COMPLETED_OK ? "" : " aborted=1");
    }
    request_free(r);
    *req_cls = NULL;
}

static void on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
                          enum MHD_ConnectionNotificationCode code)
{
    (void)conn;
    (void)socket_context;
    lfd_http *h = cls;
    if (code == MHD_CONNECTION_NOTIFY_STARTED)
        atomic_fetch_add(&h->open_connections, 1);
    else
        atomic_fetch_sub(&h->open_connections, 1);
}

lf_err lfd_http_start(const lfd_http_options *opts, lfd_http **out, lf_error *err)
{
    struct sockaddr_storage addr;
    unsigned addr_len = 0;
    bool loopback = false;
    lf_err rc = lfd_parse_listen(opts->listen, &addr, &addr_len, &loopback, err);
    if (rc != LF_OK)
        return rc;
    if (opts->cert_pem == NULL && !loopback)
        return lf_error_set(err, LF_ERR_INVALID,
                            "plain HTTP is allowed only on a loopback address, not on %s",
                            opts->listen);
    lfd_http *h = calloc(1, sizeof *h);
    if (h == NULL)
        return lf_error_set(err, LF_ERR_NOMEM, "http: out of memory");
    h->opts = *opts;
    pthread_mutex_init(&h->streams_lock, NULL);
    /* ITC lets MHD_quiesce_daemon stop the listening socket of a thread pool. */
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ERROR_LOG |
                     MHD_USE_ITC | MHD_ALLOW_SUSPEND_RESUME;
    if (addr.ss_family == AF_INET6)
        flags |= MHD_USE_IPv6;
    if (opts->cert_pem != NULL)
        flags |= MHD_USE_TLS;
    const char *prio =
        opts->tls_priorities ? opts->tls_priorities : "SECURE256:+SECURE128:-VERS-ALL:+VERS-TLS1.3";
    struct MHD_OptionItem tls[] = {
        {MHD_OPTION_HTTPS_MEM_CERT, 0, (void *)opts->cert_pem},
        {MHD_OPTION_HTTPS_MEM_KEY, 0, (void *)opts->key_pem},
        {MHD_OPTION_HTTPS_PRIORITIES, 0, (void *)prio},
        {MHD_OPTION_END, 0, NULL},
    };
    struct MHD_OptionItem no_tls[] = {{MHD_OPTION_END, 0, NULL}};
    h->daemon = MHD_start_daemon(
        flags, 0, NULL, NULL, on_access, h, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr,
        MHD_OPTION_THREAD_POOL_SIZE, (unsigned)(opts->threads ? opts->threads : 4),
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)opts->connection_timeout_s,
        MHD_OPTION_CONNECTION_LIMIT,
        (unsigned)(opts->max_connections ? opts->max_connections : 1024),
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(64 * 1024), MHD_OPTION_NOTIFY_COMPLETED,
        on_completed, h, MHD_OPTION_NOTIFY_CONNECTION, on_connection, h, MHD_OPTION_ARRAY,
        opts->cert_pem ? tls : no_tls, MHD_OPTION_END);
    if (h->daemon == NULL) {
        free(h);
        return lf_error_set(err, LF_ERR_IO,
                            "http: cannot start on %s (address in use, bad TLS key or "
                            "certificate?)",
                            opts->listen);
    }
    const union MHD_DaemonInfo *di = MHD_get_daemon_info(h->daemon, MHD_DAEMON_INFO_BIND_PORT);
    h->port = di ? di->port : 0;
    if (pthread_create(&h->pump, NULL, stream_pump, h) != 0) {
        MHD_stop_daemon(h->daemon);
        free(h);
        return lf_error_set(err, LF_ERR_NOMEM, "http: cannot start the stream pump");
    }
    *out = h;
    return LF_OK;
}

uint16_t lfd_http_port(const lfd_http *h)
{
    return h->port;
}

void lfd_http_drain_and_stop(lfd_http *h, unsigned timeout_ms)
{
    if (h == NULL)
        return;
    MHD_socket listen_fd = MHD_quiesce_daemon(h->daemon);
    if (listen_fd != MHD_INVALID_SOCKET)
        close(listen_fd);
    /* Streams see stopping and end; the pump keeps waking them until they have. */
    atomic_store(&h->stopping, true);
    /* Idle keep-alive connections would hold us for their whole timeout; in-flight requests
     * are what we wait for, and they finish within the handler's own bounds. */
    for (unsigned waited = 0; waited < timeout_ms && atomic_load(&h->open_connections) > 0;
         waited += 10)
        usleep(10000);
    atomic_store(&h->pump_stop, true);
    pthread_join(h->pump, NULL);
    /* MHD requires every suspended connection resumed before it stops. */
    resume_parked(h);
    MHD_stop_daemon(h->daemon);
    pthread_mutex_destroy(&h->streams_lock);
    free(h);
}

/*
 * http.h — logfluxd's HTTP layer on libmicrohttpd: TLS (GnuTLS, TLS 1.3 by default), a route
 * table, bounded request bodies, request ids, JSON answers and the error shape every client
 * of ours (and the official v3 SDKs) reads:
 *
 *   {"status":"error","error":{"code":"...","message":"..."},"request_id":"..."}
 *
 * Handlers run on the server's worker threads once the whole (bounded) body has arrived; they
 * may block (an ingest handler waits for the spool's group commit). Every request gets one
 * access-log line: method, path (never the query), status, sizes, duration, request id and the
 * public credential id a handler recorded — never a header value, a secret or a body byte.
 */
#ifndef LFD_HTTP_H
#define LFD_HTTP_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "logflux/buf.h"
#include "logflux/error.h"

typedef struct lfd_http lfd_http;
typedef struct lfd_request lfd_request;

typedef void (*lfd_handler)(lfd_request *req, void *ctx);

typedef struct lfd_route {
    const char *method; /* "GET", "POST", ... */
    const char *path;   /* exact path, or a prefix ending in '*', e.g. "/v1/keys/" + '*' */
    size_t max_body;    /* bytes; 0 = no body allowed; LFD_BODY_BY_TYPE = see below */
    lfd_handler handler;
} lfd_route;

/* A route whose body limit depends on its Content-Type: the native frames media type gets
 * lfd_http_options.max_body_native, anything else max_body_default. Checked before a byte of
 * the body is buffered, so a client cannot make the server hold more than the format allows. */
#define LFD_BODY_BY_TYPE ((size_t)-1)

typedef struct lfd_http_options {
    const char *listen;   /* "127.0.0.1:8443", "[::1]:8443" */
    const char *cert_pem; /* NULL = plain HTTP (only allowed on loopback) */
    const char *key_pem;
    const char *tls_priorities; /* GnuTLS priority string; NULL = TLS 1.3 only */
    unsigned threads;
    unsigned connection_timeout_s;
    unsigned max_connections;
    const lfd_route *routes;
    size_t n_routes;
    void *ctx;               /* passed to handlers */
    size_t max_body_default; /* LFD_BODY_BY_TYPE routes: multipart and other bodies */
    size_t max_body_native;  /* LFD_BODY_BY_TYPE routes: application/vnd.logflux.frames.v1 */
    size_t max_buffered;     /* bodies of all requests buffered at once; 0 = unlimited */
    bool quiet;              /* no access log */
} lfd_http_options;

/* Parse "host:port" / "[v6]:port" into a socket address; loopback tells whether it is
 * 127.0.0.0/8 or ::1. */
lf_err lfd_parse_listen(const char *listen, void *sockaddr_storage, unsigned *socklen,
                        bool *loopback, lf_error *err);

lf_err lfd_http_start(const lfd_http_options *opts, lfd_http **out, lf_error *err);
/* The bound port (useful with port 0 in tests). */
uint16_t lfd_http_port(const lfd_http *h);
/* Stop accepting new connections, let in-flight requests finish (up to timeout_ms), stop. */
void lfd_http_drain_and_stop(lfd_http *h, unsigned timeout_ms);

/* ---- inside a handler ---- */
const char *lfd_req_method(const lfd_request *r);
const char *lfd_req_path(const lfd_request *r);
/* Header value (case-insensitive name) or NULL. */
const char *lfd_req_header(const lfd_request *r, const char *name);
/* Query argument or NULL. */
const char *lfd_req_query(const lfd_request *r, const char *name);
/* The raw query string as sent (without '?'), "" if none: request signing needs it. */
const char *lfd_req_raw_query(const lfd_request *r);
const lf_buf *lfd_req_body(const lfd_request *r);
/* The peer address as text ("127.0.0.1", "::1"). */
const char *lfd_req_peer(const lfd_request *r);
const char *lfd_req_id(const lfd_request *r);
/* Record the public credential id for the access log (never a secret). */
void lfd_req_set_actor(lfd_request *r, const char *credential_id);

/* Answers. Each handler must answer exactly once; a handler that returns without answering
 * gets a 500. `body` is stolen (decref'd by the layer). */
void lfd_respond_json(lfd_request *r, unsigned status, json_t *body);
/* The error shape above; `retry_after` > 0 also sets the Retry-After header. */
void lfd_respond_error(lfd_request *r, unsigned status, const char *code, const char *message,
                       int retry_after);
/* Raw bytes with a content type (copied). */
void lfd_respond_bytes(lfd_request *r, unsigned status, const char *content_type, const void *data,
                       size_t len);
/* Keep a copy of the answer body (up to 4 KiB) so the handler can store it after answering,
 * e.g. against an idempotency key; lfd_req_answer then returns it. */
void lfd_req_keep_answer(lfd_request *r);
bool lfd_req_answer(const lfd_request *r, unsigned *status, const void **body, size_t *len);
/* A streamed answer (chunked transfer encoding) for long-lived responses like the live tail.
 * `next` fills up to `max` bytes of `buf` and returns how many it wrote; 0 means "nothing now":
 * the connection is parked without holding a thread and `next` is asked again shortly (the
 * layer polls parked streams every 250 ms); a negative value ends the stream. `next` must not
 * block. `done` (nullable) frees `cls` when the response is over, whatever ended it. While the
 * server drains, lfd_stream_stopping() is true and streams should end. */
typedef ssize_t (*lfd_stream_next)(void *cls, char *buf, size_t max);
void lfd_respond_stream(lfd_request *r, unsigned status, const char *content_type,
                        lfd_stream_next next, void *cls, void (*done)(void *cls));
bool lfd_stream_stopping(const lfd_request *r);
/* Extra response header (before responding). */
void lfd_resp_header(lfd_request *r, const char *name, const char *value);

#endif

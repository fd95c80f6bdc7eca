/*
 * ship_int.h — the shipper's parts, shared by its files and nothing else:
 *   ship.c            the thread: peek, send, classify, back off, ack; start/stop; stats
 *   ship_http.c       one libcurl easy handle kept alive, signing, the answer
 *   ship_deadletter.c the dead-letter folder (write, size bound, requeue)
 *   ship_backoff.c    pure decisions (backoff, Retry-After, status classes)
 *   ship_metrics.c    Prometheus text
 */
#ifndef LF_AGENT_SHIP_INT_H
#define LF_AGENT_SHIP_INT_H

#include <curl/curl.h>
#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>

#include "logflux/credentials.h"
#include "logflux/sign.h"
#include "ship/ship.h"

/* The most of an answer body we keep (a 10,000-frame failure list fits). Beyond it the body
 * is read and discarded: the status alone decides. */
#define SHIP_ANSWER_MAX ((size_t)2 << 20)
/* Longest server error text we copy into last_error or a sidecar. */
#define SHIP_SERVER_TEXT_MAX 200

/* ---------------- HTTP ---------------- */

typedef struct ship_answer {
    long status;            /* 0: no HTTP answer */
    CURLcode curl_rc;       /* CURLE_OK when an answer came */
    bool stopped;           /* aborted because the shipper is stopping */
    bool replayed;          /* X-LF-Idempotent-Replay: the server answered from its record */
    int64_t retry_after_ms; /* -1: none */
    lf_buf body;            /* the first SHIP_ANSWER_MAX bytes */
    bool body_truncated;
    char curl_error[CURL_ERROR_SIZE];
} ship_answer;

typedef struct ship_http {
    CURL *curl;
    char *url;  /* endpoint + "/v1/ingest" */
    char *path; /* its path, as signed */
    char *host; /* the Host header, as signed */
    char user_agent[64];
    char credential[LF_CREDENTIAL_ID_TEXT_MAX + 1];
    uint8_t signing_key[LF_SIGN_KEY_LEN];
    struct curl_slist *headers;
    const _Atomic int64_t *abort_at_ms; /* CLOCK_MONOTONIC ms at which transfers give up */
    uint64_t connections;               /* new connections opened (curl CURLINFO_NUM_CONNECTS) */
} ship_http;

/* Check the endpoint, derive the signing key, configure the handle. The API key is not kept. */
lf_err ship_http_open(ship_http *h, const lf_agent_ship_options *o,
                      const _Atomic int64_t *abort_at_ms, lf_error *err);
/* One signed POST of the item's body. Never fails as a call: the outcome is in *ans (reset
 * first; free its body with ship_answer_free). */
void ship_http_send(ship_http *h, const lf_agent_buffer_item *it, ship_answer *ans);
/* One signed POST of a small body to another route of the same server (e.g.
 * "/v1/handshake/init"), no idempotency key; the outcome in *ans as for ship_http_send. */
lf_err ship_http_post_route(ship_http *h, const char *route, const char *content_type,
                            const void *body, size_t body_len, ship_answer *ans, lf_error *err);
void ship_http_close(ship_http *h);
void ship_answer_free(ship_answer *ans);

/* Monotonic and wall clocks in ms. */
int64_t ship_mono_ms(void);
int64_t ship_wall_ms(void);

/* Printable ASCII copy of at most `max` bytes (other bytes become '?'), NUL-terminated. */
void ship_clean_text(const char *in, size_t max, char *out, size_t cap);

/* ---------------- dead letters ---------------- */

typedef struct ship_deadletter {
    char *dir;
    uint64_t max_bytes;
    uint64_t used; /* bytes of the folder's files as last counted plus what we wrote since */
} ship_deadletter;

/* Why an item is dead-lettered (all borrowed). */
typedef struct ship_dl_reason {
    const char *reason;     /* "refused", "partially_refused", "retries_exhausted" */
    long http_status;       /* 0: no answer */
    const char *error_code; /* server's error.code or NULL */
    const char *message;    /* server's message or the local reason (printable) */
    const char *request_id; /* server's request_id or NULL */
    json_t *failures;       /* the answer's data.failures array or NULL (borrowed) */
    int64_t attempts;
} ship_dl_reason;

lf_err ship_deadletter_open(ship_deadletter *d, const char *dir, uint64_t max_bytes, lf_error *err);
/* Write <key>.frames then <key>.json (each tmp + fsync + rename, then the folder fsynced).
 * LF_ERR_FULL: over the bound even after a recount (nothing left behind); LF_ERR_IO. */
lf_err ship_deadletter_write(ship_deadletter *d, const lf_agent_buffer_item *it,
                             const ship_dl_reason *why, lf_error *err);
void ship_deadletter_close(ship_deadletter *d);

#endif

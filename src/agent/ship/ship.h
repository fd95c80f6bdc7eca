/*
 * ship.h — the agent's shipper: one thread that sends the disk buffer's sealed bodies, oldest
 * first, to logfluxd (POST <endpoint>/v1/ingest, native frames, LF-HMAC-SHA256 signed) and acks
 * each one once the server accepted it.
 *
 *   - HTTP/1.1 keep-alive over TLS (one libcurl easy handle reused); the server's certificate
 *     is always verified (ca_file, optional public-key pin); plain http:// only to loopback.
 *   - Every retry of an item carries the same X-LF-Idempotency-Key (the item's), so the server
 *     stores it once however often it is sent.
 *   - Transient failures (network, 408, 409 in progress, 429, 5xx, 507), credential failures
 *     (401, 403) and a missing app or route (404) are retried without limit by default, with
 *     capped exponential backoff and full jitter, never sooner than a Retry-After the server
 *     asked for.
 *   - Refusals of the body itself (other 4xx) move the item to a dead-letter folder and ack it.
 *
 * docs/AGENT-SHIP.md has the retry table, the dead-letter format and the metrics.
 *
 * The API key is used once, at start, to derive the signing key; neither it nor any body byte
 * ever appears in an error, a stat or a log line.
 */
#ifndef LF_AGENT_SHIP_H
#define LF_AGENT_SHIP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buffer/buffer.h"
#include "logflux/buf.h"
#include "logflux/error.h"

#ifdef __cplusplus
extern "C" {
#endif

#ifndef LF_AGENT_VERSION
#define LF_AGENT_VERSION "0.1.0" /* sent as User-Agent: logflux-agent/<version> */
#endif

#define LF_AGENT_SHIP_DEFAULT_BACKOFF_BASE_MS    1000
#define LF_AGENT_SHIP_DEFAULT_BACKOFF_MAX_MS     60000
#define LF_AGENT_SHIP_DEFAULT_RETRY_AFTER_MAX_MS 300000 /* a longer Retry-After is cut to this */
#define LF_AGENT_SHIP_DEFAULT_CONNECT_TIMEOUT_MS 10000
#define LF_AGENT_SHIP_DEFAULT_REQUEST_TIMEOUT_MS 120000
#define LF_AGENT_SHIP_DEFAULT_DEAD_LETTER_MAX    ((uint64_t)256 << 20)
#define LF_AGENT_SHIP_LAST_ERROR_MAX             256

/*
 * Zero/NULL fields take the defaults. Strings are copied at start (the API key is not even
 * copied: only the signing key derived from it is kept).
 */
typedef struct lf_agent_ship_options {
    const char *endpoint;           /* "https://host[:port][/prefix]"; http:// only to loopback */
    const char *api_key;            /* required; an ingest API key of the tenant */
    const char *ca_file;            /* PEM bundle to verify the server; NULL = system store */
    const char *pinned_pubkey;      /* "sha256//<base64>[;sha256//...]"; NULL = no pin */
    const char *dead_letter_dir;    /* required; created 0700 if missing */
    uint64_t dead_letter_max_bytes; /* bound on the folder; 0 = 256 MiB */
    int64_t backoff_base_ms;        /* 0 = 1 s */
    int64_t backoff_max_ms;         /* 0 = 60 s; must be >= base */
    int64_t retry_after_max_ms;     /* ceiling on a server's Retry-After; 0 = 5 min */
    int64_t max_retries;        /* retries of one item before it is dead-lettered; 0 = unlimited */
    int64_t connect_timeout_ms; /* 0 = 10 s */
    int64_t request_timeout_ms; /* whole request, upload included; 0 = 120 s */
    size_t peek_items;          /* most items read from the buffer at once (fewer when bodies are
                                   large: about 8 MiB of bodies per read); 0 = 16 */
} lf_agent_ship_options;

/* Counters since start; a consistent snapshot (one mutex). */
typedef struct lf_agent_ship_stats {
    uint64_t requests;    /* HTTP requests attempted */
    uint64_t connections; /* TCP/TLS connections opened (keep-alive keeps this low) */
    uint64_t responses_2xx, responses_3xx, responses_4xx, responses_5xx, responses_other;
    uint64_t network_errors; /* no HTTP answer (connect, TLS, timeout, reset) */
    uint64_t retries;        /* attempts after the first one of an item */
    uint64_t items_shipped;  /* acked after a 2xx */
    uint64_t records_shipped;
    uint64_t bytes_shipped;         /* body bytes of those items */
    uint64_t items_skipped_dropped; /* peeked copies not sent: drop_oldest deleted (and counted)
                                       them first (lf_agent_buffer_send_begin) */
    uint64_t frames_rejected;       /* frames a 2xx answer listed as refused (see docs) */
    uint64_t records_rejected;      /* records in those frames */
    uint64_t dead_letter_items;     /* items written to the dead-letter folder and acked */
    uint64_t dead_letter_records;
    uint64_t dead_letter_full;     /* times an item could not be dead-lettered: folder at bound */
    uint64_t dead_letter_errors;   /* times writing a dead-letter file failed (I/O) */
    uint64_t auth_failures;        /* 401 and 403 answers */
    uint64_t consecutive_failures; /* failed attempts since the last success (gauge) */
    int64_t backoff_ms;            /* the current/last wait before a retry; 0 after a success */
    int64_t last_success_ms;       /* Unix ms of the last 2xx; 0 = none yet */
    long last_status;              /* HTTP status of the last answer; 0 = none/network error */
    char last_error[LF_AGENT_SHIP_LAST_ERROR_MAX]; /* "" after a success */
} lf_agent_ship_stats;

typedef struct lf_agent_ship lf_agent_ship;

/*
 * Validate the options, derive the signing key, open the dead-letter folder and start the
 * thread. The buffer is borrowed: it must outlive lf_agent_ship_stop. *out is owned by the
 * caller and released by lf_agent_ship_stop. LF_ERR_INVALID: bad options (message names the
 * option, never the key); LF_ERR_IO: the dead-letter folder cannot be created.
 */
lf_err lf_agent_ship_start(lf_agent_buffer *buf, const lf_agent_ship_options *opt,
                           lf_agent_ship **out, lf_error *err);

/*
 * Stop: keep shipping what is buffered for up to flush_timeout_ms (0 = do not wait), returning
 * as soon as the buffer is empty; then interrupt any backoff sleep or request in flight, ack
 * what was accepted, join the thread and free everything. NULL is fine. Unshipped items stay
 * in the buffer for the next start.
 */
void lf_agent_ship_stop(lf_agent_ship *s, int64_t flush_timeout_ms);

/* Thread-safe snapshot of the counters. */
void lf_agent_ship_stats_get(lf_agent_ship *s, lf_agent_ship_stats *out);

/* Append the counters as Prometheus text (logflux_agent_ship_*, with # HELP / # TYPE). */
void lf_agent_ship_write_metrics(lf_agent_ship *s, lf_buf *out);

/*
 * Ask the server for the tenant's customer public key (POST /v1/handshake/init, signed like
 * ingest), for an agent configured with only its fingerprint. Appends the PEM (NUL-terminated)
 * to pem. The answer is NOT trusted by this call: the caller must check the key's fingerprint
 * against its pin before sealing anything to it. LF_ERR_IO when no answer came (retry later),
 * LF_ERR_INVALID for a refusal or a malformed answer.
 */
lf_err lf_agent_ship_fetch_customer_key(const lf_agent_ship_options *opt, lf_buf *pem,
                                        lf_error *err);

/*
 * Send dead letters again: every complete item in `dir` (a .json sidecar whose .frames file
 * matches its size and SHA-256), oldest first, is appended to `buf` under a NEW idempotency
 * key (the server remembers its refusal of the old one) and then deleted from `dir`. Run it
 * after fixing the cause (a raised size limit, a created app) — not against a running
 * shipper's folder while it may be writing (the shipper only adds files; a file it adds during
 * the run is simply left for the next one). *requeued (nullable) counts the items moved.
 * Stops at the first failure (LF_ERR_FULL from a full buffer: nothing lost, run it later).
 */
lf_err lf_agent_ship_dead_letter_requeue(const char *dir, lf_agent_buffer *buf, size_t *requeued,
                                         lf_error *err);

/* ---------------- pure helpers (ship_backoff.c), exposed for tests ---------------- */

/*
 * Full-jitter backoff: a value in [0, min(cap, base * 2^attempt)] picked by `random` (uniform
 * bits). attempt 0 is the first retry. Overflow-safe for any attempt >= 0; base/cap <= 0 give 0.
 */
int64_t lf_agent_ship_backoff_ms(int attempt, int64_t base, int64_t cap, uint64_t random);

/*
 * A Retry-After header value (RFC 9110 §10.2.3: delay-seconds or an HTTP-date in any of its
 * three forms) as milliseconds from now_unix_ms: >= 0, a date in the past gives 0. -1 when the
 * value is NULL or not valid.
 */
int64_t lf_agent_ship_retry_after_ms(const char *value, int64_t now_unix_ms);

/* What to do with an answer. */
typedef enum lf_agent_ship_verdict {
    LF_AGENT_SHIP_OK = 0,     /* 2xx: ack */
    LF_AGENT_SHIP_RETRY,      /* transient: back off and send again */
    LF_AGENT_SHIP_RETRY_AUTH, /* 401/403: retry, counted as auth failure */
    LF_AGENT_SHIP_PERMANENT,  /* the server will never accept this body: dead-letter */
} lf_agent_ship_verdict;

/* Classify an HTTP status (0 = no answer: network error). */
lf_agent_ship_verdict lf_agent_ship_classify(long status);

/*
 * The delay before the next attempt: max(Retry-After capped at retry_after_max, the jittered
 * backoff). retry_after_ms < 0 means none was given.
 */
int64_t lf_agent_ship_next_delay_ms(int attempt, int64_t retry_after_ms,
                                    const lf_agent_ship_options *resolved, uint64_t random);

#ifdef __cplusplus
}
#endif
#endif

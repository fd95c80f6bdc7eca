/*
 * payload.h — the schema 2.0 plaintext payload (PROTOCOL.md §1.2) of all seven entry types.
 *
 * An lf_payload is a flat C struct an SDK user fills on the stack: every string is a borrowed
 * NUL-terminated UTF-8 pointer (NULL = field absent), every list a pointer + count. Only the
 * block for the payload's type is read by the encoder. lf_payload_encode writes the JSON in
 * one pass, in a fixed field order, without building a tree (the agent encodes ~1M entries/s).
 *
 * lf_payload_decode parses untrusted JSON (bounded size and nesting), validates it, and
 * returns an lf_payload whose strings and arrays live in storage owned by the payload itself
 * (free it with lf_payload_free). Fields it does not know are kept, as one JSON object text
 * in `extra_json`, and written back by lf_payload_encode, so re-encoding loses nothing at the
 * top level. Known fields set to JSON null read as absent. Members other than the documented
 * ones inside error_chain[], stack_trace[] and readings[] elements are not kept: a reader that
 * must show an entry exactly as sent shows the decrypted bytes, not a re-encoding.
 *
 * Time: `ts` and trace start/end are int64 Unix nanoseconds here and RFC 3339 (UTC, nine
 * fraction digits) in the JSON. The decoder's window check takes the checker's clock as an
 * argument; pass 0 to skip it (the customer's tools read archives older than a year).
 */
#ifndef LOGFLUX_PAYLOAD_H
#define LOGFLUX_PAYLOAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "logflux/buf.h"
#include "logflux/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Entry types, as in X-LF-Entry-Type and the native frame header. */
typedef enum lf_entry_type {
    LF_ENTRY_LOG = 1,
    LF_ENTRY_METRIC = 2,
    LF_ENTRY_TRACE = 3,
    LF_ENTRY_EVENT = 4,
    LF_ENTRY_AUDIT = 5,
    LF_ENTRY_TELEMETRY = 6,
    LF_ENTRY_TELEMETRY_MANAGED = 7, /* v3 payload type 3: gzip JSON, not encrypted */
} lf_entry_type;

/* Syslog-style levels. */
enum {
    LF_LEVEL_EMERGENCY = 1,
    LF_LEVEL_ALERT,
    LF_LEVEL_CRITICAL,
    LF_LEVEL_ERROR,
    LF_LEVEL_WARNING,
    LF_LEVEL_NOTICE,
    LF_LEVEL_INFO,
    LF_LEVEL_DEBUG,
};

/* Limits of PROTOCOL.md §1.2 (checked by both encode and decode). */
#define LF_PAYLOAD_MAX_ATTRS     20
#define LF_PAYLOAD_MAX_KEY       64
#define LF_PAYLOAD_MAX_VALUE     256
#define LF_PAYLOAD_MAX_SOURCE    256
#define LF_PAYLOAD_MAX_MESSAGE   (1024u * 1024u)
#define LF_PAYLOAD_MAX_FUTURE_NS (60LL * 1000000000LL)
#define LF_PAYLOAD_MAX_AGE_NS    (366LL * 86400LL * 1000000000LL)
/* Decoder bounds on untrusted input: total JSON bytes, nesting depth, list lengths. */
#define LF_PAYLOAD_MAX_JSON  (2u * 1024u * 1024u)
#define LF_PAYLOAD_MAX_DEPTH 32
#define LF_PAYLOAD_MAX_LIST  10000

/* "telemetry" for 6 and 7, "log" for 1, ...; NULL outside 1..7. */
const char *lf_entry_type_name(int type);
/* Entry type for a payload `type` string (len bytes); 0 if unknown. "telemetry" gives 6. */
int lf_entry_type_from_name(const char *name, size_t len);

typedef struct lf_kv {
    const char *key;
    const char *value;
} lf_kv;

typedef struct lf_error_link { /* log error_chain[] */
    const char *type;
    const char *message;
} lf_error_link;

typedef struct lf_stack_frame { /* log stack_trace[] */
    const char *function;
    const char *file;
    int64_t line; /* 0 = absent */
} lf_stack_frame;

typedef struct lf_reading { /* telemetry readings[] */
    const char *name;
    double value;
    const char *unit;
} lf_reading;

typedef struct lf_payload {
    int type;           /* lf_entry_type, 1..7 */
    const char *source; /* <= 256 bytes */
    int level;          /* 1..8 */
    int64_t ts_ns;      /* Unix nanoseconds, UTC; written as RFC 3339 */
    const lf_kv *attributes;
    size_t n_attributes;
    const lf_kv *meta;
    size_t n_meta;

    struct {
        const char *message; /* <= 1 MiB */
        const char *logger;
        const char *error_type;
        const lf_error_link *error_chain;
        size_t n_error_chain;
        const lf_stack_frame *stack_trace;
        size_t n_stack_trace;
        const char *breadcrumbs_json; /* raw JSON array text, e.g. "[{...}]"; NULL = absent */
    } log;
    struct {
        const char *name;
        double value; /* finite */
        const char *unit;
        const char *kind; /* "counter" | "gauge" | "distribution" (free text accepted) */
    } metric;
    struct {
        const char *trace_id;
        const char *span_id;
        const char *parent_span_id;
        const char *operation;
        const char *name;
        int64_t start_ns; /* 0 = absent; written as RFC 3339 */
        int64_t end_ns;   /* 0 = absent */
        double duration_ms;
        bool has_duration;
        const char *status;
    } trace;
    struct {
        const char *event;
    } event;
    struct {
        const char *action;
        const char *actor;
        const char *actor_type;
        const char *resource;
        const char *resource_id;
        const char *outcome;
    } audit;
    struct {
        const char *device_id;
        const lf_reading *readings;
        size_t n_readings;
    } telemetry;

    /* Unknown fields: JSON object text ("{...}") whose members are appended after the known
     * ones; NULL = none. Members named like a known field are refused by the encoder. */
    const char *extra_json;

    void *owned_; /* decoder storage; NULL for caller-filled payloads */
} lf_payload;

/* Structural validation (types, level, limits, UTF-8 is checked by encode/decode). When
 * now_ns != 0 also checks ts ∈ [now - 1 year, now + 60 s] (LF_ERR_EXPIRED otherwise). */
lf_err lf_payload_validate(const lf_payload *p, int64_t now_ns, lf_error *err);

/* Validate (without the time window) and append the JSON to out. Strings must be UTF-8:
 * invalid sequences are refused (LF_ERR_INVALID), control characters escaped. */
lf_err lf_payload_encode(const lf_payload *p, lf_buf *out, lf_error *err);

/* Parse and validate JSON bytes. entry_type: 0 = take it from the JSON `type` (telemetry ->
 * 6); 1..7 = the JSON must be of that type (7 expects "telemetry") and p->type is set to it.
 * now_ns: the checker's clock for the ts window, or 0 to skip the window (archives).
 * `metric_type` is accepted as an alias of `kind`. On success *out is a new payload the
 * caller frees with lf_payload_free; its pointers stay valid until then. Errors:
 * LF_ERR_INVALID (shape, types, values), LF_ERR_TOO_LARGE (size, depth, limits),
 * LF_ERR_EXPIRED (ts window), LF_ERR_UNSUPPORTED (`v` is not "2.0"). */
lf_err lf_payload_decode(const void *json, size_t len, int entry_type, int64_t now_ns,
                         lf_payload **out, lf_error *err);

/* Frees a payload from lf_payload_decode, wiping its storage (it is decrypted plaintext).
 * NULL is fine. Never call it on a caller-filled payload. */
void lf_payload_free(lf_payload *p);

#ifdef __cplusplus
}
#endif
#endif

/*
 * input.h — what every agent input implements, and how it is declared to the configuration.
 *
 * Threading: the agent runs each input in its own thread, which also runs that input's
 * pipeline (parse -> batch -> seal -> disk buffer). So an input's functions are called from
 * one thread only, and an input needs no locks of its own (unless it starts helper threads).
 *
 * Delivery: the pipeline calls, for each batch,
 *     next() ... next()      records go into the batch
 *     cursor()               "where am I": stored in the buffer WITH the sealed batch
 *     (batch appended durably to the disk buffer)
 *     commit()               everything next() returned so far is durable: persist the
 *                            checkpoint (tail, journald) or acknowledge the client (socket)
 * After a crash between the append and commit(), the agent hands the cursor stored with the
 * newest buffered batch of this input to restore() before the first next(), so nothing is read
 * twice nor skipped (docs/AGENT.md, "exactly once").
 */
#ifndef LF_AGENT_INPUT_H
#define LF_AGENT_INPUT_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "event.h"
#include "logflux/buf.h"
#include "logflux/error.h"
#include "options.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct lf_agent_input lf_agent_input;

typedef struct lf_agent_input_vtable {
    /* Wait up to timeout_ms for the next record. LF_OK: *ev is filled (the caller reset it
     * first; borrowed pointers stay valid until the next call). LF_ERR_NOT_FOUND: nothing yet
     * (also once the input has ended: it then sets in->finished). Any other code is a
     * failure: the agent logs it, counts it, and calls next() again after a pause. */
    lf_err (*next)(lf_agent_input *in, lf_agent_event *ev, int timeout_ms, lf_error *err);
    /* Append an opaque cursor covering every record returned so far (nothing appended = the
     * input cannot replay, e.g. UDP syslog). NULL = no cursor. */
    lf_err (*cursor)(lf_agent_input *in, lf_buf *out, lf_error *err);
    /* Every record returned so far is durable in the disk buffer. NULL = nothing to do. */
    lf_err (*commit)(lf_agent_input *in, lf_error *err);
    /* Before the first next(): the cursor stored with this input's newest buffered batch
     * (possibly newer than the input's own checkpoint). Apply it only if it is ahead. */
    lf_err (*restore)(lf_agent_input *in, const uint8_t *cursor, size_t len, lf_error *err);
    /* Append Prometheus text lines of the input's own counters, each labelled
     * {input="<name>"} (see lf_agent_input_metric). NULL = none. */
    void (*write_metrics)(lf_agent_input *in, lf_buf *out);
    /* Close everything and free the input (including the struct that embeds `base`). */
    void (*destroy)(lf_agent_input *in);
} lf_agent_input_vtable;

/* The common head of every input object: embed it as the first member. */
struct lf_agent_input {
    const lf_agent_input_vtable *vt;
    char name[65];        /* the input's configured name */
    atomic_bool finished; /* set by the input when no record will ever come again (stdin EOF) */
};

/* What the agent gives every input at creation, besides the input's own config struct. */
typedef struct lf_agent_input_common {
    const char *name;        /* unique per agent: [A-Za-z0-9_.-], 1..64 */
    const char *state_dir;   /* the agent's state directory; keep files as <state_dir>/<type>/
                                <name>.* (checkpoint DBs); created 0700 by the agent */
    const atomic_bool *stop; /* becomes true at shutdown: return from next() promptly */
} lf_agent_input_common;

/*
 * One input type, as the configuration sees it. Its options are a normal lf_option table over
 * its own config struct (names relative to the input's mapping: "paths", "tls.ca", ...); the
 * common keys (type, name, app, parser, labels) are handled by the agent and must not appear.
 */
typedef struct lf_agent_input_type {
    const char *type;    /* "tail", "journald", "syslog", ... */
    const char *summary; /* one paragraph for docs/CONFIG-AGENT.md */
    const lf_option *options;
    size_t n_options;
    size_t config_size; /* the struct the options write into (zeroed, then defaults) */
    /* Cross-field checks after loading (NULL = none): required fields, conflicts. */
    lf_err (*validate)(const void *config, lf_error *err);
    lf_err (*create)(const lf_agent_input_common *common, const void *config, lf_agent_input **out,
                     lf_error *err);
} lf_agent_input_type;

/* Append one Prometheus sample line: `<metric>{input="<name>"} <value>\n`. */
void lf_agent_input_metric(lf_buf *out, const char *metric, const char *input, uint64_t value);

/* Every input type the agent knows (inputs/registry.c), NULL-terminated. */
extern const lf_agent_input_type *const lf_agent_input_types[];
const lf_agent_input_type *lf_agent_input_type_find(const char *type);

#ifdef __cplusplus
}
#endif
#endif

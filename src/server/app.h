/*
 * app.h — the state one logfluxd process shares between its roles (ingest, worker, API):
 * configuration, metadata store, durable queue, object store, rate limiters, replay cache.
 * Handlers receive it as their context. Each part is behind its own interface (meta.h,
 * queue.h, store.h), so the scale-out backends slot in without touching handlers.
 */
#ifndef LFD_APP_H
#define LFD_APP_H

#include <stdatomic.h>
#include <stdint.h>

#include "http/http.h"
#include "http/ratelimit.h"
#include "logflux/sign.h"
#include "meta/meta.h"
#include "queue/queue.h"
#include "server_config.h"

typedef struct lfd_worker lfd_worker;
typedef struct lfd_store lfd_store;

typedef struct lfd_app {
    lfd_config *cfg;
    lf_meta *meta;
    lf_queue *queue;
    lfd_store *store;
    lfd_worker *worker;
    lf_replay_cache *replay;
    lfd_ratelimit *rl_key;
    lfd_ratelimit *rl_ip;
    char public_url[256];
    int64_t started_ns;
    /* Set when an append found the spool full, cleared by the next append that fits:
     * what /health reports as accepting_writes. */
    atomic_bool spool_full;
    int lock_fd; /* flock on <data_dir>/logfluxd.lock while serving */
} lfd_app;

/* Who is calling, once authenticated. */
typedef struct lfd_principal {
    lf_meta_tenant tenant;
    lf_credential_kind kind;
    char id_text[LF_CREDENTIAL_ID_TEXT_MAX + 1];
    uint32_t scopes;                     /* effective (admin implies write implies read) */
    char app[LF_CREDENTIAL_APP_MAX + 1]; /* bound app, "" if none */
} lfd_principal;

/* Authenticate the request as `kind` needing `scope`. On failure the request has been
 * answered (401/403/429/503) and false is returned. Also applies the per-IP and
 * per-credential rate limits and sets the X-RateLimit-* headers. */
bool lfd_authenticate(lfd_app *app, lfd_request *r, lf_credential_kind kind, uint32_t scope,
                      lfd_principal *out);

/* Audit a read or an administrative change (best effort: a failure is logged, not fatal). */
void lfd_audit(lfd_app *app, lfd_request *r, const lfd_principal *p, const char *action,
               const char *object, json_t *detail);

/* Answers shared by handlers. */
void lfd_respond_success(lfd_request *r, unsigned status, const char *message, json_t *data);
/* Map an lf_err from a store to an HTTP error answer (never leaks internals). */
void lfd_respond_lf_err(lfd_request *r, lf_err rc, const lf_error *err);

#endif

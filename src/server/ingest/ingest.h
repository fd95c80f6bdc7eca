/*
 * ingest.h — the ingest endpoints: the LogFlux v3 protocol exactly as the official SDKs speak
 * it (handshake, multipart /v1/ingest and /v1/batch) and the native frames protocol on the
 * same /v1/ingest, told apart by Content-Type (docs/PROTOCOL.md).
 *
 * A success answer means durable: the request's accepted entries are one spool record, and the
 * handler answers only after the spool reports it fsynced.
 */
#ifndef LFD_INGEST_H
#define LFD_INGEST_H

#include "app.h"

void lfd_handle_handshake_init(lfd_request *r, void *app);
void lfd_handle_handshake_complete(lfd_request *r, void *app);
/* POST /v1/ingest and /v1/batch. */
void lfd_handle_ingest(lfd_request *r, void *app);

/* Internal to the ingest folder. */
typedef struct lfd_ingest_ctx {
    lfd_app *app;
    lfd_request *req;
    lfd_principal who;
    int64_t now_ns;
    lf_buf record; /* the spool record being built */
    uint32_t rows;
    json_t *failures; /* [{"index":i,"error":"..."}] */
    size_t total;
} lfd_ingest_ctx;

/* Check an entry timestamp against the configured window; NULL if fine, else the reason. */
const char *lfd_ingest_check_time(const lfd_ingest_ctx *c, int64_t ts_ns);
void lfd_ingest_fail(lfd_ingest_ctx *c, size_t index, const char *reason);
/* Append the record durably and answer with per-entry results (or the storage error). */
void lfd_ingest_commit(lfd_ingest_ctx *c, const char *what);

void lfd_ingest_v3(lfd_ingest_ctx *c);
void lfd_ingest_native(lfd_ingest_ctx *c);

#endif

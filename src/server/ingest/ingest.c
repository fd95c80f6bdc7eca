/*
 * ingest.c — POST /v1/ingest and /v1/batch: authenticate, pick the format by Content-Type,
 * let the format build one spool record from the accepted entries, make it durable, answer
 * with per-entry results in the shape the v3 SDKs read.
 */
#include "ingest.h"

#include <string.h>
#include <strings.h>

#include "ingest/batch.h"
#include "logflux/native.h"
#include "logflux/timefmt.h"

const char *lfd_ingest_check_time(const lfd_ingest_ctx *c, int64_t ts_ns)
{
    int64_t future = c->app->cfg->max_future_ms * 1000000LL;
    int64_t age = c->app->cfg->max_age_ms * 1000000LL;
    if (ts_ns > c->now_ns + future)
        return "timestamp is too far in the future";
    if (ts_ns < c->now_ns - age)
        return "timestamp is older than the server accepts";
    return NULL;
}

void lfd_ingest_fail(lfd_ingest_ctx *c, size_t index, const char *reason)
{
    json_array_append_new(c->failures,
                          json_pack("{s:I, s:s}", "index", (json_int_t)index, "error", reason));
}

static json_t *results(const lfd_ingest_ctx *c)
{
    size_t failed = json_array_size(c->failures);
    return json_pack("{s:b, s:I, s:I, s:I, s:O}", "success", failed == 0, "total",
                     (json_int_t)c->total, "succeeded", (json_int_t)(c->total - failed), "failed",
                     (json_int_t)failed, "failures", c->failures);
}

void lfd_ingest_commit(lfd_ingest_ctx *c, const char *what)
{
    if (c->rows == 0) {
        json_t *body =
            json_pack("{s:s, s:{s:s, s:s}, s:s, s:o}", "status", "error", "error", "code",
                      "no_valid_entries", "message", "no entry of the request was accepted",
                      "request_id", lfd_req_id(c->req), "data", results(c));
        lfd_respond_json(c->req, 400, body);
        return;
    }
    lf_error err = {0};
    lf_err rc = lfd_batch_finish(&c->record, c->rows, &err);
    uint64_t seq = 0;
    if (rc == LF_OK)
        rc = lf_queue_append1(c->app->queue, c->record.data, c->record.len, &seq, &err);
    atomic_store(&c->app->spool_full, rc == LF_ERR_FULL);
    if (rc == LF_ERR_FULL) {
        lfd_respond_error(c->req, 503, "storage_full",
                          "the server's durable buffer is full; nothing was stored, retry later",
                          10);
        return;
    }
    if (rc == LF_ERR_TOO_LARGE) {
        lfd_respond_error(c->req, 413, "payload_too_large", "the batch exceeds the record limit",
                          0);
        return;
    }
    if (rc != LF_OK) {
        fprintf(stderr, "logfluxd: request %s: spool append failed: %s\n", lfd_req_id(c->req),
                err.message);
        lfd_respond_error(c->req, 503, "storage_unavailable",
                          "the entries could not be made durable; nothing was stored, retry", 5);
        return;
    }
    char msg[96];
    snprintf(msg, sizeof msg, "%u %s accepted", c->rows, what);
    lfd_respond_success(c->req, 200, msg, results(c));
}

/* The tenant's storage quota (bytes of Parquet in the manifest): 507, as the v3 SDKs expect,
 * once it is used up. Waiting does not help, so no Retry-After: retention or a larger quota
 * does. */
static bool quota_allows(lfd_ingest_ctx *c)
{
    uint64_t quota = c->who.tenant.settings.quota_bytes, used = 0;
    if (quota == 0)
        return true;
    lf_error err = {0};
    if (lf_meta_manifest_usage(c->app->meta, c->who.tenant.id, NULL, &used, &err) != LF_OK) {
        lfd_respond_lf_err(c->req, LF_ERR_IO, &err);
        return false;
    }
    if (used < quota)
        return true;
    char msg[128];
    snprintf(msg, sizeof msg, "storage quota of %llu bytes is used up (%llu stored)",
             (unsigned long long)quota, (unsigned long long)used);
    lfd_respond_error(c->req, 507, "quota_exceeded", msg, 0);
    return false;
}

void lfd_handle_ingest(lfd_request *r, void *ctx)
{
    lfd_ingest_ctx c;
    memset(&c, 0, sizeof c);
    c.app = ctx;
    c.req = r;
    if (!lfd_authenticate(c.app, r, LF_CREDENTIAL_API_KEY, LF_SCOPE_INGEST, &c.who))
        return;
    if (!quota_allows(&c))
        return;
    const char *ct = lfd_req_header(r, "Content-Type");
    if (ct == NULL) {
        lfd_respond_error(r, 415, "unsupported_media_type",
                          "Content-Type must be multipart/mixed or " LF_NATIVE_CONTENT_TYPE, 0);
        return;
    }
    c.now_ns = lf_time_now_ns();
    c.failures = json_array();
    bool native = strncasecmp(ct, LF_NATIVE_CONTENT_TYPE, strlen(LF_NATIVE_CONTENT_TYPE)) == 0;
    if (native && lfd_req_body(r)->len > c.app->cfg->max_native_request_bytes)
        lfd_respond_error(r, 413, "payload_too_large", "native request exceeds its limit", 0);
    else if (!native && lfd_req_body(r)->len > c.app->cfg->max_request_bytes)
        lfd_respond_error(r, 413, "payload_too_large", "v3 request exceeds 10 MiB", 0);
    else if (native)
        lfd_ingest_native(&c);
    else if (strncasecmp(ct, "multipart/", 10) == 0)
        lfd_ingest_v3(&c);
    else
        lfd_respond_error(r, 415, "unsupported_media_type",
                          "Content-Type must be multipart/mixed or " LF_NATIVE_CONTENT_TYPE, 0);
    json_decref(c.failures);
    lf_buf_free(&c.record);
}

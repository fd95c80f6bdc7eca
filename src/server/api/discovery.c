/*
 * discovery.c — service endpoints and discovery.
 *
 *   GET /health                 liveness, plus whether the spool accepts writes
 *   GET /info, /version         name, version, protocols
 *   GET /discovery              the static per-region document (no authentication)
 *   GET /api/discovery, /v1/discovery
 *                               authenticated: tenant, region, endpoints, capabilities and
 *                               rate limits, for an API key or a personal access token
 */
#include <string.h>
#include <time.h>

#include "admin.h"
#include "logflux/timefmt.h"

#define LOGFLUXD_VERSION "0.1.0"

void lfd_handle_health(lfd_request *r, void *ctx)
{
    lfd_app *app = ctx;
    lf_queue_stats st;
    memset(&st, 0, sizeof st);
    if (app->queue)
        lf_queue_stats_get(app->queue, &st);
    bool full =
        atomic_load(&app->spool_full) || (st.bytes_max > 0 && st.bytes_used >= st.bytes_max);
    lfd_respond_json(r, 200,
                     json_pack("{s:s, s:b, s:I, s:I}", "status", "ok", "accepting_writes", !full,
                               "spool_bytes", (json_int_t)st.bytes_used, "spool_bytes_max",
                               (json_int_t)st.bytes_max));
}

void lfd_handle_info(lfd_request *r, void *ctx)
{
    lfd_app *app = ctx;
    lfd_respond_json(r, 200,
                     json_pack("{s:s, s:s, s:s, s:[s,s], s:I}", "name", "logfluxd", "version",
                               LOGFLUXD_VERSION, "region", app->cfg->region, "protocols",
                               "logflux-v3", "logflux-native-v1", "uptime_s",
                               (json_int_t)((lf_time_now_ns() - app->started_ns) / 1000000000LL)));
}

static json_t *endpoints(const lfd_app *app)
{
    char stream[300];
    snprintf(stream, sizeof stream, "%s/v1/tail", app->public_url);
    return json_pack("{s:s, s:s, s:s, s:s}", "backend_url", app->public_url, "ingestor_url",
                     app->public_url, "stream_url", stream, "dashboard_url", "");
}

void lfd_handle_static_discovery(lfd_request *r, void *ctx)
{
    lfd_app *app = ctx;
    char now[LF_RFC3339_MAX];
    lf_rfc3339_format(app->started_ns, now);
    lfd_respond_json(r, 200,
                     json_pack("{s:s, s:s, s:o, s:s}", "version", "1.1", "region", app->cfg->region,
                               "endpoints", endpoints(app), "updated_at", now));
}

void lfd_handle_discovery(lfd_request *r, void *ctx)
{
    lfd_app *app = ctx;
    lfd_principal who;
    /* Both credential kinds may ask: the SDKs send their API key, the CLI its token. */
    const char *auth = lfd_req_header(r, "Authorization");
    lf_credential_kind kind =
        auth && strstr(auth, "lf_usr_") != NULL ? LF_CREDENTIAL_PAT : LF_CREDENTIAL_API_KEY;
    if (!lfd_authenticate(app, r, kind, 0, &who))
        return;
    const lfd_config *c = app->cfg;
    uint32_t rate = who.tenant.settings.rate_per_sec ? who.tenant.settings.rate_per_sec
                                                     : (uint32_t)c->rate_key_per_sec;
    uint32_t burst = who.tenant.settings.rate_burst ? who.tenant.settings.rate_burst
                                                    : (uint32_t)c->rate_key_burst;
    char scopes[LF_SCOPES_STR_MAX + 1] = "";
    lf_scopes_to_string(who.scopes, scopes, NULL);
    json_t *body = endpoints(app);
    json_object_set_new(body, "data_residency", json_string(lf_region_name(who.tenant.region)));
    json_object_set_new(body, "environment", json_string("self-hosted"));
    json_object_set_new(body, "features",
                        json_pack("[s,s,s,s,s]", "multipart", "native-frames", "request-signing",
                                  "idempotency", "customer-key-pinning"));
    json_object_set_new(body, "tenant", json_string(who.tenant.name));
    json_object_set_new(body, "credential",
                        json_pack("{s:s, s:s, s:s, s:s}", "id", who.id_text, "kind",
                                  lf_credential_kind_name(who.kind), "scopes", scopes, "app",
                                  who.app));
    json_object_set_new(body, "capabilities",
                        json_pack("{s:[s,s], s:I, s:I, s:I, s:I}", "formats", "logflux-v3",
                                  "logflux-native-v1", "max_batch_size", (json_int_t)c->max_parts,
                                  "max_payload_size", (json_int_t)c->max_part_bytes,
                                  "max_request_size", (json_int_t)c->max_request_bytes,
                                  "max_native_request_size",
                                  (json_int_t)c->max_native_request_bytes));
    json_object_set_new(body, "rate_limits",
                        json_pack("{s:I, s:I}", "requests_per_second", (json_int_t)rate, "burst",
                                  (json_int_t)burst));
    lfd_respond_json(r, 200, body);
}

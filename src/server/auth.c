/*
 * auth.c — request authentication for every endpoint.
 *
 * Bearer: `Authorization: Bearer <api key | PAT>`; the credential is parsed, looked up by its
 * public id, and checked against the stored verifier in constant time (lf_credential_check).
 * Bearer API keys are accepted only for tenants that allow them (v3 SDKs need them).
 * Signed: `Authorization: LF-HMAC-SHA256 …` (API keys only); the stored signing key verifies
 * the canonical request, the timestamp window and the nonce cache stop replays.
 * Rate limits come first for the client IP (before any lookup, so a flood of bad credentials
 * costs us little) and then per credential.
 */
#include <string.h>
#include <time.h>

#include "app.h"
#include "logflux/auth.h"
#include "logflux/crypto.h"

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void set_rate_headers(lfd_request *r, const lfd_rate_decision *d)
{
    char v[32];
    snprintf(v, sizeof v, "%u", d->limit);
    lfd_resp_header(r, "X-RateLimit-Limit", v);
    snprintf(v, sizeof v, "%u", d->remaining);
    lfd_resp_header(r, "X-RateLimit-Remaining", v);
    snprintf(v, sizeof v, "%lld", (long long)d->reset_unix);
    lfd_resp_header(r, "X-RateLimit-Reset", v);
}

static bool rate_ok(lfd_request *r, lfd_ratelimit *rl, const char *key, double rate, uint32_t burst,
                    const char *what)
{
    if (rl == NULL || rate <= 0)
        return true;
    lfd_rate_decision d = lfd_ratelimit_take(rl, key, rate, burst, 1, now_ms());
    set_rate_headers(r, &d);
    if (d.allowed)
        return true;
    char msg[96];
    snprintf(msg, sizeof msg, "rate limit exceeded for this %s", what);
    lfd_respond_error(r, 429, "rate_limited", msg, (int)d.retry_after);
    return false;
}

static void deny(lfd_request *r, lf_err rc)
{
    switch (rc) {
    case LF_ERR_EXPIRED:
        lfd_respond_error(r, 401, "credential_expired", "the credential has expired", 0);
        break;
    case LF_ERR_SCOPE:
        lfd_respond_error(r, 403, "forbidden", "the credential lacks the scope for this request",
                          0);
        break;
    case LF_ERR_REPLAY:
        lfd_respond_error(r, 401, "replayed_request", "this signed request was already used", 0);
        break;
    case LF_ERR_TOO_LARGE:
        lfd_respond_error(r, 503, "overloaded", "replay cache full; retry shortly", 5);
        break;
    default:
        lfd_respond_error(r, 401, "unauthorized", "missing or invalid credentials", 0);
        break;
    }
}

/* Checks that signed requests share with bearer ones, minus the secret comparison. */
static lf_err check_record(const lf_credential_record *rec, int64_t now, uint32_t scope)
{
    if (rec->revoked)
        return LF_ERR_AUTH;
    if (rec->expires != 0 && now >= rec->expires)
        return LF_ERR_EXPIRED;
    if ((lf_scopes_effective(rec->scopes) & scope) != scope)
        return LF_ERR_SCOPE;
    return LF_OK;
}

static lf_err verify_signed(lfd_app *app, lfd_request *r, const lf_auth_hmac *h,
                            lf_meta_credential *cred, int64_t now)
{
    lf_err rc =
        lf_meta_credential_lookup(app->meta, LF_CREDENTIAL_API_KEY, h->credential, cred, NULL);
    if (rc != LF_OK)
        return LF_ERR_AUTH;
    const lf_buf *body = lfd_req_body(r);
    lf_sign_request sreq = {
        .method = lfd_req_method(r),
        .path = lfd_req_path(r),
        .query = lfd_req_raw_query(r),
        .host = lfd_req_header(r, "Host"),
        .content_type = lfd_req_header(r, "Content-Type"),
        .idempotency_key = lfd_req_header(r, "X-LF-Idempotency-Key"),
        .body = body->data,
        .body_len = body->len,
    };
    if (sreq.host == NULL)
        return LF_ERR_AUTH;
    return lf_sign_verify(h, &sreq, cred->signing_key, now, app->replay, NULL);
}

bool lfd_authenticate(lfd_app *app, lfd_request *r, lf_credential_kind kind, uint32_t scope,
                      lfd_principal *out)
{
    const lfd_config *c = app->cfg;
    if (!rate_ok(r, app->rl_ip, lfd_req_peer(r), (double)c->rate_ip_per_sec,
                 (uint32_t)c->rate_ip_burst, "client address"))
        return false;
    const char *value = lfd_req_header(r, "Authorization");
    if (value == NULL) {
        lfd_respond_error(r, 401, "unauthorized", "missing Authorization header", 0);
        return false;
    }
    lf_auth_header auth;
    lf_meta_credential cred;
    memset(&cred, 0, sizeof cred);
    int64_t now = (int64_t)time(NULL);
    lf_err rc = lf_auth_header_parse(value, strlen(value), &auth, NULL);
    if (rc == LF_OK && auth.scheme == LF_AUTH_HMAC) {
        rc = kind == LF_CREDENTIAL_API_KEY ? verify_signed(app, r, &auth.hmac, &cred, now)
                                           : LF_ERR_AUTH;
        if (rc == LF_ERR_EXPIRED) {
            lf_wipe(&cred, sizeof cred);
            lfd_respond_error(r, 401, "request_expired",
                              "the signed timestamp is outside the allowed window; check the "
                              "client's clock",
                              0);
            return false;
        }
    } else if (rc == LF_OK && auth.scheme == LF_AUTH_BEARER) {
        lf_credential parsed;
        size_t len = strlen(auth.bearer);
        rc = lf_credential_parse(auth.bearer, len, &parsed, NULL);
        if (rc == LF_OK && parsed.pub.kind != kind)
            rc = LF_ERR_AUTH;
        if (rc == LF_OK)
            rc = lf_meta_credential_lookup(app->meta, kind, parsed.pub.text, &cred, NULL);
        /* App confinement is the handlers' business (they know the app a request writes
         * to); here the credential itself is checked. */
        if (rc == LF_OK)
            rc = lf_credential_check(&cred.rec, auth.bearer, len, now, 0,
                                     cred.rec.app[0] ? cred.rec.app : NULL, NULL);
        if (rc != LF_OK && rc != LF_ERR_EXPIRED)
            rc = LF_ERR_AUTH; /* one answer for unknown, wrong and malformed credentials */
    } else {
        rc = LF_ERR_AUTH;
    }
    bool bearer = auth.scheme == LF_AUTH_BEARER;
    lf_wipe(&auth, sizeof auth);
    if (rc == LF_OK)
        rc = check_record(&cred.rec, now, scope);
    if (rc == LF_OK &&
        (rc = lf_meta_tenant_get(app->meta, cred.tenant_id, &out->tenant, NULL)) != LF_OK)
        rc = LF_ERR_AUTH;
    if (rc == LF_OK && bearer && kind == LF_CREDENTIAL_API_KEY &&
        !out->tenant.settings.allow_bearer) {
        lf_wipe(&cred, sizeof cred);
        lfd_respond_error(r, 401, "signature_required",
                          "this tenant requires signed requests (LF-HMAC-SHA256)", 0);
        return false;
    }
    if (rc != LF_OK) {
        lf_wipe(&cred, sizeof cred);
        deny(r, rc);
        return false;
    }
    out->kind = kind;
    snprintf(out->id_text, sizeof out->id_text, "%s", cred.id_text);
    snprintf(out->app, sizeof out->app, "%s", cred.rec.app);
    out->scopes = lf_scopes_effective(cred.rec.scopes);
    lf_wipe(&cred, sizeof cred);
    lfd_req_set_actor(r, out->id_text);
    uint32_t per_sec = out->tenant.settings.rate_per_sec ? out->tenant.settings.rate_per_sec
                                                         : (uint32_t)c->rate_key_per_sec;
    uint32_t burst = out->tenant.settings.rate_burst ? out->tenant.settings.rate_burst
                                                     : (uint32_t)c->rate_key_burst;
    return rate_ok(r, app->rl_key, out->id_text, (double)per_sec, burst, "credential");
}

void lfd_audit(lfd_app *app, lfd_request *r, const lfd_principal *p, const char *action,
               const char *object, json_t *detail)
{
    lf_meta_audit_entry e;
    memset(&e, 0, sizeof e);
    e.tenant_id = p->tenant.id;
    snprintf(e.actor, sizeof e.actor, "%s", p->id_text);
    snprintf(e.action, sizeof e.action, "%s", action);
    snprintf(e.object, sizeof e.object, "%s", object ? object : "");
    if (detail != NULL) {
        char *text = json_dumps(detail, JSON_COMPACT);
        if (text != NULL && strlen(text) <= LF_META_DETAIL_MAX)
            strcpy(e.detail, text);
        free(text);
        json_decref(detail);
    }
    e.time = (int64_t)time(NULL);
    snprintf(e.request_id, sizeof e.request_id, "%s", lfd_req_id(r));
    lf_error err = {0};
    if (lf_meta_audit_append(app->meta, &e, NULL, &err) != LF_OK)
        fprintf(stderr, "logfluxd: audit append failed (request %s): %s\n", lfd_req_id(r),
                err.message);
}

void lfd_respond_success(lfd_request *r, unsigned status, const char *message, json_t *data)
{
    json_t *body = json_pack("{s:s, s:s, s:s}", "status", "success", "message", message,
                             "request_id", lfd_req_id(r));
    if (data != NULL)
        json_object_set_new(body, "data", data);
    lfd_respond_json(r, status, body);
}

void lfd_respond_lf_err(lfd_request *r, lf_err rc, const lf_error *err)
{
    switch (rc) {
    case LF_ERR_INVALID:
    case LF_ERR_TOO_LARGE:
    case LF_ERR_UNSUPPORTED:
    case LF_ERR_TRUNCATED:
        lfd_respond_error(r, 400, "bad_request", err->message, 0);
        break;
    case LF_ERR_NOT_FOUND:
        lfd_respond_error(r, 404, "not_found", err->message, 0);
        break;
    case LF_ERR_CONFLICT:
        lfd_respond_error(r, 409, "conflict", err->message, 0);
        break;
    case LF_ERR_FULL:
        lfd_respond_error(r, 503, "storage_full", "the server's buffer is full; retry later", 10);
        break;
    default:
        /* Internal details go to the server log, not to the client. */
        fprintf(stderr, "logfluxd: request %s failed: %s\n", lfd_req_id(r), err->message);
        lfd_respond_error(r, 500, "internal", "internal error; see the server log", 0);
        break;
    }
}

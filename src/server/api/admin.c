/*
 * admin.c — the administrative API (personal access token with the admin scope):
 *
 *   POST   /v1/admin/apps                {"name"}                     create an app
 *   GET    /v1/admin/apps                                             list apps
 *   POST   /v1/admin/api-keys            {"app","label","expires_in"} create (secret shown once)
 *   GET    /v1/admin/api-keys                                         list (never secrets)
 *   DELETE /v1/admin/api-keys/{id}                                    revoke
 *   POST   /v1/admin/tokens              {"scope","label","expires_in"}
 *   GET    /v1/admin/tokens
 *   DELETE /v1/admin/tokens/{id}
 *   POST   /v1/admin/public-keys         {"public_key": PEM}          register or rotate
 *   GET    /v1/admin/public-keys
 *   GET    /v1/admin/tenant                                           settings
 *   PUT    /v1/admin/tenant              {"allow_bearer", ...}
 *   GET    /v1/admin/audit?since=&limit=&cursor=
 *
 * Every change is written to the audit log. Secrets appear in exactly one answer, the create
 * answer, and nowhere else (not in the audit log, not in the server log).
 */
#include <string.h>
#include <time.h>

#include "admin.h"
#include "api/read.h"
#include "options.h"
#include "logflux/crypto.h"

#define LIST_DEFAULT     100
#define CURSOR_TAG_ADMIN 'A'

static json_t *body_json(lfd_request *r)
{
    const lf_buf *b = lfd_req_body(r);
    json_error_t jerr;
    json_t *j = b->len ? json_loadb((const char *)b->data, b->len, JSON_REJECT_DUPLICATES, &jerr)
                       : json_object();
    if (j == NULL || !json_is_object(j)) {
        json_decref(j);
        lfd_respond_error(r, 400, "bad_request", "the body must be a JSON object", 0);
        return NULL;
    }
    return j;
}

static bool admin(lfd_app *app, lfd_request *r, lfd_principal *who)
{
    return lfd_authenticate(app, r, LF_CREDENTIAL_PAT, LF_SCOPE_ADMIN, who);
}

static const char *last_segment(lfd_request *r)
{
    const char *p = strrchr(lfd_req_path(r), '/');
    return p ? p + 1 : "";
}

/* "expires_in": a duration ("30d"); "expires": Unix seconds. 0 = never. */
static bool expiry(lfd_request *r, json_t *body, int64_t now, int64_t *out)
{
    *out = 0;
    json_t *in = json_object_get(body, "expires_in");
    json_t *at = json_object_get(body, "expires");
    if (json_is_string(in)) {
        int64_t ms;
        if (lf_parse_duration_ms(json_string_value(in), &ms, NULL) != LF_OK || ms < 1000) {
            lfd_respond_error(r, 400, "bad_request", "expires_in must be a duration like 30d", 0);
            return false;
        }
        *out = now + ms / 1000;
    } else if (json_is_integer(at)) {
        *out = json_integer_value(at);
        if (*out <= now) {
            lfd_respond_error(r, 400, "bad_request", "expires must be in the future", 0);
            return false;
        }
    }
    return true;
}

/* ---------------- apps ---------------- */

void lfd_handle_apps(lfd_request *r, void *ctx)
{
    lfd_app *app = ctx;
    lfd_principal who;
    if (!admin(app, r, &who))
        return;
    lf_error err = {0};
    if (strcmp(lfd_req_method(r), "POST") == 0) {
        json_t *body = body_json(r);
        if (body == NULL)
            return;
        const char *name = json_string_value(json_object_get(body, "name"));
        int64_t id = 0;
        lf_err rc = name ? lf_meta_app_create(app->meta, who.tenant.id, name, (int64_t)time(NULL),
                                              &id, &err)
                         : lf_error_set(&err, LF_ERR_INVALID, "name is required");
        if (rc == LF_OK) {
            lfd_audit(app, r, &who, "app.create", name, NULL);
            lfd_respond_success(r, 201, "app created",
                                json_pack("{s:s, s:I}", "name", name, "id", (json_int_t)id));
        } else {
            lfd_respond_lf_err(r, rc, &err);
        }
        json_decref(body);
        return;
    }
    size_t limit;
    lf_meta_cursor cursor, next;
    if (!lfd_read_list_args(r, CURSOR_TAG_ADMIN, LIST_DEFAULT, &limit, &cursor))
        return;
    lf_meta_app *apps = NULL;
    size_t n = 0;
    lf_err rc = lf_meta_app_list(app->meta, who.tenant.id, limit, cursor, &apps, &n, &next, &err);
    if (rc != LF_OK) {
        lfd_respond_lf_err(r, rc, &err);
        return;
    }
    json_t *list = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(list, json_pack("{s:s, s:I, s:I}", "name", apps[i].name, "id",
                                              (json_int_t)apps[i].id, "created",
                                              (json_int_t)apps[i].created));
    free(apps);
    lfd_respond_success(r, 200, "apps",
                        json_pack("{s:o, s:o}", "apps", list, "next_cursor",
                                  lfd_read_list_cursor(CURSOR_TAG_ADMIN, next)));
}

/* ---------------- API keys and tokens ---------------- */

static json_t *credential_json(const lf_meta_credential_info *c)
{
    char scopes[LF_SCOPES_STR_MAX + 1] = "";
    lf_scopes_to_string(c->scopes, scopes, NULL);
    return json_pack("{s:s, s:s, s:s, s:s, s:I, s:I, s:b, s:s}", "id", c->id_text, "kind",
                     lf_credential_kind_name(c->kind), "scopes", scopes, "app", c->app, "created",
                     (json_int_t)c->created, "expires", (json_int_t)c->expires, "revoked",
                     c->revoked, "label", c->label);
}

static void create_credential(lfd_app *app, lfd_request *r, const lfd_principal *who,
                              lf_credential_kind kind, json_t *body)
{
    lf_error err = {0};
    int64_t now = (int64_t)time(NULL), expires;
    if (!expiry(r, body, now, &expires))
        return;
    const char *label = json_string_value(json_object_get(body, "label"));
    const char *app_name = json_string_value(json_object_get(body, "app"));
    uint32_t scopes = LF_SCOPE_INGEST;
    if (kind == LF_CREDENTIAL_PAT) {
        const char *scope = json_string_value(json_object_get(body, "scope"));
        if (scope == NULL || lf_scopes_from_string(scope, strlen(scope), &scopes, NULL) != LF_OK ||
            (scopes & LF_SCOPE_INGEST) != 0) {
            lfd_respond_error(r, 400, "bad_request", "scope must be read, write or admin", 0);
            return;
        }
    }
    lf_meta_app a;
    if (app_name != NULL &&
        lf_meta_app_get(app->meta, who->tenant.id, app_name, &a, NULL) != LF_OK) {
        lfd_respond_error(r, 404, "unknown_app", "no such app", 0);
        return;
    }
    char secret[LF_CREDENTIAL_GENERATED_MAX + 1];
    lf_credential parts;
    lf_meta_credential c;
    memset(&c, 0, sizeof c);
    lf_err rc = lf_credential_generate(kind, who->tenant.region, secret, &parts, &err);
    if (rc == LF_OK)
        rc = lf_credential_record_init(secret, strlen(secret), scopes, app_name, now, expires,
                                       &c.rec, &err);
    if (rc == LF_OK && kind == LF_CREDENTIAL_API_KEY)
        rc = lf_sign_derive_key(secret, strlen(secret), c.signing_key, &err);
    if (rc == LF_OK) {
        c.tenant_id = who->tenant.id;
        snprintf(c.id_text, sizeof c.id_text, "%s", parts.pub.text);
        snprintf(c.label, sizeof c.label, "%s", label ? label : "");
        rc = lf_meta_credential_create(app->meta, &c, &err);
    }
    if (rc != LF_OK) {
        lf_wipe(secret, sizeof secret);
        lf_wipe(&c, sizeof c);
        lfd_respond_lf_err(r, rc, &err);
        return;
    }
    lfd_audit(app, r, who, kind == LF_CREDENTIAL_PAT ? "token.create" : "apikey.create", c.id_text,
              json_pack("{s:s}", "app", app_name ? app_name : ""));
    char scope_text[LF_SCOPES_STR_MAX + 1] = "";
    lf_scopes_to_string(scopes, scope_text, NULL);
    json_t *data = json_pack("{s:s, s:s, s:s, s:s, s:I, s:s}", "id", c.id_text,
                             kind == LF_CREDENTIAL_PAT ? "token" : "api_key", secret, "scopes",
                             scope_text, "app", app_name ? app_name : "", "expires",
                             (json_int_t)expires, "note", "the secret is shown only now");
    lf_wipe(secret, sizeof secret);
    lf_wipe(&c, sizeof c);
    lfd_respond_success(r, 201, "created", data);
}

static void credentials(lfd_request *r, void *ctx, lf_credential_kind kind)
{
    lfd_app *app = ctx;
    lfd_principal who;
    if (!admin(app, r, &who))
        return;
    lf_error err = {0};
    const char *method = lfd_req_method(r);
    if (strcmp(method, "POST") == 0) {
        json_t *body = body_json(r);
        if (body != NULL)
            create_credential(app, r, &who, kind, body);
        json_decref(body);
        return;
    }
    if (strcmp(method, "DELETE") == 0) {
        const char *id = last_segment(r);
        lf_err rc = lf_meta_credential_revoke(app->meta, who.tenant.id, kind, id, &err);
        if (rc != LF_OK) {
            lfd_respond_lf_err(r, rc, &err);
            return;
        }
        lfd_audit(app, r, &who, kind == LF_CREDENTIAL_PAT ? "token.revoke" : "apikey.revoke", id,
                  NULL);
        lfd_respond_success(r, 200, "revoked", json_pack("{s:s}", "id", id));
        return;
    }
    size_t limit;
    lf_meta_cursor cursor, next;
    if (!lfd_read_list_args(r, CURSOR_TAG_ADMIN, LIST_DEFAULT, &limit, &cursor))
        return;
    lf_meta_credential_info *list = NULL;
    size_t n = 0;
    lf_err rc = lf_meta_credential_list(app->meta, who.tenant.id, kind, limit, cursor, &list, &n,
                                        &next, &err);
    if (rc != LF_OK) {
        lfd_respond_lf_err(r, rc, &err);
        return;
    }
    json_t *items = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(items, credential_json(&list[i]));
    free(list);
    lfd_respond_success(r, 200, "credentials",
                        json_pack("{s:o, s:o}", kind == LF_CREDENTIAL_PAT ? "tokens" : "api_keys",
                                  items, "next_cursor",
                                  lfd_read_list_cursor(CURSOR_TAG_ADMIN, next)));
}

void lfd_handle_api_keys(lfd_request *r, void *ctx)
{
    credentials(r, ctx, LF_CREDENTIAL_API_KEY);
}

void lfd_handle_tokens(lfd_request *r, void *ctx)
{
    credentials(r, ctx, LF_CREDENTIAL_PAT);
}

/* ---------------- customer public keys ---------------- */

static void fingerprint_text(const uint8_t fp[LF_META_FP_LEN], char out[LF_FINGERPRINT_STR_LEN])
{
    char hex[2 * LF_META_FP_LEN + 1];
    lf_hex_encode(fp, LF_META_FP_LEN, hex);
    snprintf(out, LF_FINGERPRINT_STR_LEN, "SHA256:%s", hex);
}

void lfd_handle_public_keys(lfd_request *r, void *ctx)
{
    lfd_app *app = ctx;
    lfd_principal who;
    if (!admin(app, r, &who))
        return;
    lf_error err = {0};
    if (strcmp(lfd_req_method(r), "POST") == 0) {
        json_t *body = body_json(r);
        if (body == NULL)
            return;
        const char *pem = json_string_value(json_object_get(body, "public_key"));
        lf_pubkey *key = NULL;
        lf_buf der = LF_BUF_INIT;
        uint8_t fp[LF_META_FP_LEN];
        int64_t id = 0;
        lf_err rc = pem ? lf_pubkey_from_pem(pem, strlen(pem), &key, &err)
                        : lf_error_set(&err, LF_ERR_INVALID, "public_key (PEM) is required");
        if (rc == LF_OK && lf_pubkey_bits(key) < 4096)
            rc = lf_error_set(&err, LF_ERR_INVALID, "the customer key must be RSA-4096 or larger");
        if (rc == LF_OK)
            rc = lf_pubkey_to_der(key, &der, &err);
        if (rc == LF_OK)
            rc = lf_sha256(der.data, der.len, fp, &err);
        if (rc == LF_OK)
            rc = lf_meta_pubkey_register(app->meta, who.tenant.id, pem, strlen(pem), fp,
                                         (int64_t)time(NULL), &id, &err);
        lf_pubkey_free(key);
        lf_buf_free(&der);
        json_decref(body);
        if (rc != LF_OK) {
            lfd_respond_lf_err(r, rc, &err);
            return;
        }
        char fpt[LF_FINGERPRINT_STR_LEN];
        fingerprint_text(fp, fpt);
        lfd_audit(app, r, &who, "publickey.register", fpt, NULL);
        lfd_respond_success(r, 201, "public key registered; it is now the active key",
                            json_pack("{s:s, s:I}", "fingerprint", fpt, "id", (json_int_t)id));
        return;
    }
    size_t limit;
    lf_meta_cursor cursor, next;
    if (!lfd_read_list_args(r, CURSOR_TAG_ADMIN, LIST_DEFAULT, &limit, &cursor))
        return;
    lf_meta_pubkey_info *keys = NULL;
    size_t n = 0;
    lf_err rc =
        lf_meta_pubkey_list(app->meta, who.tenant.id, limit, cursor, &keys, &n, &next, &err);
    if (rc != LF_OK) {
        lfd_respond_lf_err(r, rc, &err);
        return;
    }
    json_t *items = json_array();
    for (size_t i = 0; i < n; i++) {
        char fpt[LF_FINGERPRINT_STR_LEN];
        fingerprint_text(keys[i].fingerprint, fpt);
        json_array_append_new(items,
                              json_pack("{s:s, s:b, s:I}", "fingerprint", fpt, "active",
                                        keys[i].active, "created", (json_int_t)keys[i].created));
    }
    free(keys);
    lfd_respond_success(r, 200, "public keys",
                        json_pack("{s:o, s:o}", "public_keys", items, "next_cursor",
                                  lfd_read_list_cursor(CURSOR_TAG_ADMIN, next)));
}

/* ---------------- tenant settings and audit ---------------- */

static json_t *settings_json(const lf_meta_tenant *t)
{
    return json_pack("{s:s, s:s, s:b, s:I, s:I, s:I, s:I}", "tenant", t->name, "region",
                     lf_region_name(t->region), "allow_bearer", t->settings.allow_bearer,
                     "rate_per_sec", (json_int_t)t->settings.rate_per_sec, "rate_burst",
                     (json_int_t)t->settings.rate_burst, "quota_bytes",
                     (json_int_t)t->settings.quota_bytes, "retention_days",
                     (json_int_t)t->settings.retention_days);
}

void lfd_handle_tenant(lfd_request *r, void *ctx)
{
    lfd_app *app = ctx;
    lfd_principal who;
    if (!admin(app, r, &who))
        return;
    if (strcmp(lfd_req_method(r), "PUT") == 0) {
        json_t *body = body_json(r);
        if (body == NULL)
            return;
        lf_meta_tenant_settings s = who.tenant.settings;
        json_t *v;
        if ((v = json_object_get(body, "allow_bearer")) && json_is_boolean(v))
            s.allow_bearer = json_is_true(v);
        if ((v = json_object_get(body, "rate_per_sec")) && json_is_integer(v))
            s.rate_per_sec = (uint32_t)json_integer_value(v);
        if ((v = json_object_get(body, "rate_burst")) && json_is_integer(v))
            s.rate_burst = (uint32_t)json_integer_value(v);
        if ((v = json_object_get(body, "quota_bytes")) && json_is_integer(v))
            s.quota_bytes = (uint64_t)json_integer_value(v);
        if ((v = json_object_get(body, "retention_days")) && json_is_integer(v))
            s.retention_days = (uint32_t)json_integer_value(v);
        json_decref(body);
        lf_error err = {0};
        lf_err rc = lf_meta_tenant_set_settings(app->meta, who.tenant.id, &s, &err);
        if (rc != LF_OK) {
            lfd_respond_lf_err(r, rc, &err);
            return;
        }
        who.tenant.settings = s;
        lfd_audit(app, r, &who, "tenant.settings", who.tenant.name, settings_json(&who.tenant));
    }
    lfd_respond_success(r, 200, "tenant", settings_json(&who.tenant));
}

void lfd_handle_audit(lfd_request *r, void *ctx)
{
    lfd_app *app = ctx;
    lfd_principal who;
    if (!admin(app, r, &who))
        return;
    size_t limit;
    lf_meta_cursor cursor, next;
    if (!lfd_read_list_args(r, CURSOR_TAG_ADMIN, LIST_DEFAULT, &limit, &cursor))
        return;
    const char *since_text = lfd_req_query(r, "since");
    int64_t since = since_text ? strtoll(since_text, NULL, 10) : 0;
    lf_meta_audit_entry *entries = NULL;
    size_t n = 0;
    lf_error err = {0};
    lf_err rc = lf_meta_audit_list(app->meta, who.tenant.id, since, limit, cursor, &entries, &n,
                                   &next, &err);
    if (rc != LF_OK) {
        lfd_respond_lf_err(r, rc, &err);
        return;
    }
    json_t *items = json_array();
    for (size_t i = 0; i < n; i++) {
        json_t *detail = entries[i].detail[0] ? json_loads(entries[i].detail, 0, NULL) : NULL;
        json_array_append_new(
            items, json_pack("{s:I, s:I, s:s, s:s, s:s, s:s, s:o}", "id", (json_int_t)entries[i].id,
                             "time", (json_int_t)entries[i].time, "actor", entries[i].actor,
                             "action", entries[i].action, "object", entries[i].object, "request_id",
                             entries[i].request_id, "detail", detail ? detail : json_null()));
    }
    free(entries);
    lfd_respond_success(r, 200, "audit log",
                        json_pack("{s:o, s:o}", "entries", items, "next_cursor",
                                  lfd_read_list_cursor(CURSOR_TAG_ADMIN, next)));
}

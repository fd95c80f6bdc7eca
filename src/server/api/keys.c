/*
 * keys.c — GET /v1/keys/{key_id} and GET /v1/keys: the tenant's wrapped session keys, which the
 * customer's tools unwrap with their private key (the server cannot). Tenant-scoped in the
 * metadata store itself: another tenant's key id is a 404, and an app-bound token sees only its
 * app's keys. from/to filter on the key's creation time (stored in seconds).
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "api/read.h"

#define KEYS_LIMIT_DEFAULT 100
#define CURSOR_TAG_KEYS    'K'

static json_t *key_json(const lf_meta_session_key *k)
{
    char fp[2 * LF_META_FP_LEN + 1];
    lf_hex_encode(k->fingerprint, LF_META_FP_LEN, fp);
    char *w = malloc(lf_base64_encoded_len(k->wrapped_len, false) + 1);
    if (w == NULL)
        return NULL;
    lf_base64_encode(k->wrapped, k->wrapped_len, w, false);
    json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:I}", "key_id", k->key_id, "app", k->app,
                          "format", k->format == LF_META_KEY_NATIVE ? "native" : "v3",
                          "fingerprint", fp, "wrapped", w, "created", (json_int_t)k->created);
    free(w);
    return o;
}

static bool key_id_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > LF_META_KEY_ID_MAX)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!(isxdigit((unsigned char)s[i]) || s[i] == '-'))
            return false;
    return true;
}

void lfd_handle_keys_get(lfd_request *r, void *ctx)
{
    lfd_app *app = ctx;
    lfd_principal who;
    const char *app_filter = NULL;
    if (!lfd_read_begin(app, r, &who, &app_filter))
        return;
    const char *path = lfd_req_path(r);
    const char *prefix = "/v1/keys/";
    char id[LF_META_KEY_ID_MAX + 1];
    const char *raw = strncmp(path, prefix, strlen(prefix)) == 0 ? path + strlen(prefix) : "";
    if (!key_id_ok(raw)) {
        lfd_respond_error(r, 404, "not_found", "no such key", 0);
        return;
    }
    size_t n = strlen(raw);
    for (size_t i = 0; i <= n; i++)
        id[i] = (char)tolower((unsigned char)raw[i]);
    lf_meta_session_key k;
    lf_error err = {0};
    lf_err rc = lf_meta_session_key_get(app->meta, who.tenant.id, id, &k, &err);
    if (rc == LF_OK && app_filter != NULL && strcmp(k.app, app_filter) != 0)
        rc = LF_ERR_NOT_FOUND;
    if (rc == LF_ERR_NOT_FOUND) {
        lfd_respond_error(r, 404, "not_found", "no such key", 0);
        return;
    }
    if (rc != LF_OK) {
        lfd_respond_lf_err(r, rc, &err);
        return;
    }
    json_t *j = key_json(&k);
    lfd_audit(app, r, &who, "keys.get", id, NULL);
    lfd_respond_success(r, 200, "ok", j);
}

void lfd_handle_keys_list(lfd_request *r, void *ctx)
{
    lfd_app *app = ctx;
    lfd_principal who;
    const char *app_filter = NULL;
    if (!lfd_read_begin(app, r, &who, &app_filter))
        return;
    lf_meta_session_key_filter f = {.app = app_filter};
    int64_t t;
    const char *s;
    if ((s = lfd_req_query(r, "from"))) {
        if (!lfd_read_parse_time(s, &t)) {
            lfd_respond_error(r, 400, "bad_request", "from: RFC 3339 or Unix nanoseconds", 0);
            return;
        }
        /* Seconds, rounded so the range keeps every key created inside it. */
        f.created_from = t / 1000000000LL - (t % 1000000000LL < 0);
        if (f.created_from <= 0)
            f.created_from = 0;
    }
    if ((s = lfd_req_query(r, "to"))) {
        if (!lfd_read_parse_time(s, &t)) {
            lfd_respond_error(r, 400, "bad_request", "to: RFC 3339 or Unix nanoseconds", 0);
            return;
        }
        f.created_to = t / 1000000000LL;
        if (f.created_to <= 0) {
            /* Everything ends before 1970: nothing to list (0 would mean "no bound"). */
            json_t *data = json_pack("{s:[], s:n}", "keys", "next_cursor");
            lfd_audit(app, r, &who, "keys.list", app_filter ? app_filter : "", NULL);
            lfd_respond_success(r, 200, "ok", data);
            return;
        }
    }
    if (f.created_to && f.created_from > f.created_to) {
        lfd_respond_error(r, 400, "bad_request", "from is after to", 0);
        return;
    }
    size_t limit;
    lf_meta_cursor mc;
    if (!lfd_read_list_args(r, CURSOR_TAG_KEYS, KEYS_LIMIT_DEFAULT, &limit, &mc))
        return;
    lf_meta_session_key *keys = NULL;
    size_t n = 0;
    lf_meta_cursor next;
    lf_error err = {0};
    lf_err rc =
        lf_meta_session_key_list(app->meta, who.tenant.id, &f, limit, mc, &keys, &n, &next, &err);
    if (rc != LF_OK) {
        lfd_respond_lf_err(r, rc, &err);
        return;
    }
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(arr, key_json(&keys[i]));
    free(keys);
    json_t *data = json_object();
    json_object_set_new(data, "keys", arr);
    json_object_set_new(data, "next_cursor", lfd_read_list_cursor(CURSOR_TAG_KEYS, next));
    lfd_audit(app, r, &who, "keys.list", app_filter ? app_filter : "",
              json_pack("{s:I}", "keys", (json_int_t)n));
    lfd_respond_success(r, 200, "ok", data);
}

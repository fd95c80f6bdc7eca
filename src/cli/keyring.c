/*
 * keyring.c — session keys of the rows being read, in memory only.
 *
 * Each key id is fetched once (GET /v1/keys/{id}: the wrapped session key and the SHA-256
 * fingerprint of the customer key it was wrapped for). The fingerprint is compared with the
 * loaded private key's before unwrapping, so a key wrapped for another customer key is named
 * as such instead of failing as an anonymous RSA error. Unwrapped keys live in an
 * open-addressing table keyed by key id, with a native opener (derived enc_key) per key made
 * on first use; everything is wiped on free. Failures are remembered per key id so a query
 * over thousands of rows of a lost key asks (and complains) once.
 */
#include <stdlib.h>
#include <string.h>

#include "rows.h"

typedef struct slot {
    char key_id[LFC_KEY_ID_MAX + 1];
    bool used;
    int status; /* LFC_EXIT_OK or the remembered failure */
    uint8_t key[LF_AES_KEY_LEN];
    char app[LF_NATIVE_APP_MAX + 1]; /* "" = unknown */
    lf_native_opener *opener;
} slot;

struct lfc_keyring {
    lfc_ctx *c;
    const lf_privkey *priv;
    char fingerprint[LF_FINGERPRINT_STR_LEN]; /* "SHA256:<hex>" of the private key */
    slot *slots;
    size_t cap, n;
};

static uint64_t hash(const char *s)
{
    uint64_t h = 1469598103934665603ULL;
    for (; *s; s++)
        h = (h ^ (uint8_t)*s) * 1099511628211ULL;
    return h;
}

int lfc_keyring_new(lfc_ctx *c, const lf_privkey *priv, lfc_keyring **out)
{
    *out = NULL;
    lfc_keyring *k = calloc(1, sizeof *k);
    if (k == NULL)
        return lfc_fail(LFC_EXIT_ERROR, "out of memory");
    k->c = c;
    k->priv = priv;
    k->cap = 64;
    k->slots = calloc(k->cap, sizeof *k->slots);
    if (k->slots == NULL) {
        free(k);
        return lfc_fail(LFC_EXIT_ERROR, "out of memory");
    }
    if (priv != NULL) {
        lf_pubkey *pub = NULL;
        lf_error err = {0};
        if (lf_privkey_public(priv, &pub, &err) != LF_OK ||
            lf_pubkey_fingerprint(pub, k->fingerprint, &err) != LF_OK) {
            lf_pubkey_free(pub);
            lfc_keyring_free(k);
            return lfc_fail(LFC_EXIT_ERROR, "customer key: %s", err.message);
        }
        lf_pubkey_free(pub);
    }
    *out = k;
    return LFC_EXIT_OK;
}

void lfc_keyring_free(lfc_keyring *k)
{
    if (k == NULL)
        return;
    for (size_t i = 0; i < k->cap; i++) {
        lf_native_opener_free(k->slots[i].opener);
        lf_wipe(k->slots[i].key, sizeof k->slots[i].key);
    }
    free(k->slots);
    free(k);
}

static slot *find(lfc_keyring *k, const char *key_id, bool create)
{
    size_t mask = k->cap - 1;
    for (size_t i = hash(key_id) & mask;; i = (i + 1) & mask) {
        slot *s = &k->slots[i];
        if (!s->used) {
            if (!create)
                return NULL;
            if ((k->n + 1) * 2 > k->cap) {
                /* grow, then insert into the new table */
                size_t ncap = k->cap * 2;
                slot *ns = calloc(ncap, sizeof *ns);
                if (ns == NULL)
                    return NULL;
                for (size_t j = 0; j < k->cap; j++) {
                    if (!k->slots[j].used)
                        continue;
                    size_t p = hash(k->slots[j].key_id) & (ncap - 1);
                    while (ns[p].used)
                        p = (p + 1) & (ncap - 1);
                    ns[p] = k->slots[j];
                }
                lf_wipe(k->slots, k->cap * sizeof *k->slots);
                free(k->slots);
                k->slots = ns;
                k->cap = ncap;
                return find(k, key_id, true);
            }
            s->used = true;
            snprintf(s->key_id, sizeof s->key_id, "%s", key_id);
            s->status = -1; /* not fetched yet */
            k->n++;
            return s;
        }
        if (strcmp(s->key_id, key_id) == 0)
            return s;
    }
}

static bool valid_key_id(const char *id)
{
    size_t n = strlen(id);
    if (n == 0 || n > LFC_KEY_ID_MAX)
        return false;
    for (size_t i = 0; i < n; i++) {
        char ch = id[i];
        if (!((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f') || (ch >= 'A' && ch <= 'F') ||
              ch == '-'))
            return false;
    }
    return true;
}

static int fetch_key(lfc_keyring *k, slot *s)
{
    if (k->priv == NULL)
        return lfc_fail(LFC_EXIT_ERROR, "no customer key loaded");
    char path[128];
    snprintf(path, sizeof path, "/v1/keys/%s", s->key_id);
    lfc_reply r = {0};
    int rc = lfc_http_json(k->c, "GET", path, NULL, &r);
    if (rc != LFC_EXIT_OK) {
        lfc_reply_free(&r);
        return rc;
    }
    if (r.status == 404) {
        lfc_reply_free(&r);
        return lfc_fail(LFC_EXIT_NOT_FOUND, "unknown key id %s (the server has no such key)",
                        s->key_id);
    }
    if ((rc = lfc_expect(&r, 200)) != LFC_EXIT_OK) {
        lfc_reply_free(&r);
        return rc;
    }
    json_t *data = json_object_get(r.json, "data");
    if (json_object_get(data, "key") != NULL)
        data = json_object_get(data, "key");
    const char *fp = json_string_value(json_object_get(data, "fingerprint"));
    const char *w = json_string_value(json_object_get(data, "wrapped"));
    const char *app_in = json_string_value(json_object_get(data, "app"));
    char app[LF_NATIVE_APP_MAX + 1] = "";
    if (app_in != NULL && strlen(app_in) <= LF_NATIVE_APP_MAX)
        snprintf(app, sizeof app, "%s", app_in);
    if (fp == NULL || w == NULL || strlen(w) > 4096) {
        lfc_reply_free(&r);
        return lfc_fail(LFC_EXIT_SERVER, "/v1/keys/%s: malformed answer", s->key_id);
    }
    const char *mine = k->fingerprint + 7; /* after "SHA256:" */
    if (strlen(fp) != 64 || strncasecmp(fp, mine, 64) != 0) {
        char shown[80];
        snprintf(shown, sizeof shown, "%.64s", fp);
        lfc_reply_free(&r);
        return lfc_fail(LFC_EXIT_NOT_FOUND,
                        "key id %s is wrapped for another customer key (SHA256:%s); the loaded "
                        "key is %s",
                        s->key_id, shown, k->fingerprint);
    }
    lf_buf wrapped = LF_BUF_INIT, secret = LF_BUF_INIT;
    lf_error err = {0};
    if (lf_base64_decode(w, strlen(w), &wrapped, false, &err) != LF_OK) {
        lfc_reply_free(&r);
        lf_buf_free(&wrapped);
        return lfc_fail(LFC_EXIT_SERVER, "/v1/keys/%s: wrapped key is not base64", s->key_id);
    }
    lfc_reply_free(&r);
    lf_err e = lf_rsa_unwrap(k->priv, wrapped.data, wrapped.len, &secret, &err);
    lf_buf_free(&wrapped);
    if (e != LF_OK || secret.len != LF_AES_KEY_LEN) {
        lf_buf_free_secret(&secret);
        return lfc_fail(LFC_EXIT_TAMPERED,
                        "key id %s: the wrapped session key does not unwrap with the customer key",
                        s->key_id);
    }
    memcpy(s->key, secret.data, LF_AES_KEY_LEN);
    lf_buf_free_secret(&secret);
    snprintf(s->app, sizeof s->app, "%s", app);
    return LFC_EXIT_OK;
}

int lfc_keyring_get(lfc_keyring *k, const char *key_id, const uint8_t **session_key)
{
    *session_key = NULL;
    if (!valid_key_id(key_id))
        return lfc_fail(LFC_EXIT_SERVER, "malformed key id in a row");
    char low[LFC_KEY_ID_MAX + 1];
    size_t n = strlen(key_id);
    for (size_t i = 0; i <= n; i++)
        low[i] = (char)((key_id[i] >= 'A' && key_id[i] <= 'Z') ? key_id[i] - 'A' + 'a' : key_id[i]);
    slot *s = find(k, low, true);
    if (s == NULL)
        return lfc_fail(LFC_EXIT_ERROR, "out of memory");
    if (s->status == -1)
        s->status = fetch_key(k, s);
    if (s->status != LFC_EXIT_OK)
        return s->status;
    *session_key = s->key;
    return LFC_EXIT_OK;
}

int lfc_keyring_native_opener(lfc_keyring *k, const char *key_id, lf_native_opener **out)
{
    *out = NULL;
    const uint8_t *key = NULL;
    int rc = lfc_keyring_get(k, key_id, &key);
    if (rc != LFC_EXIT_OK)
        return rc;
    slot *s = find(k, key_id, false);
    if (s == NULL)
        return LFC_EXIT_ERROR;
    if (s->opener == NULL) {
        uint8_t id[LF_NATIVE_KEY_ID_LEN];
        lf_error err = {0};
        if (strlen(key_id) != 32 || lf_hex_decode(key_id, 32, id, sizeof id, &err) != LF_OK)
            return lfc_fail(LFC_EXIT_SERVER, "native key id %s is not 32 hex digits", key_id);
        if (lf_native_opener_new(key, id, &s->opener, &err) != LF_OK)
            return lfc_fail(LFC_EXIT_ERROR, "key id %s: %s", key_id, err.message);
    }
    *out = s->opener;
    return LFC_EXIT_OK;
}

const char *lfc_keyring_app(lfc_keyring *k, const char *key_id)
{
    slot *s = find(k, key_id, false);
    return (s == NULL || s->status != LFC_EXIT_OK || s->app[0] == '\0') ? NULL : s->app;
}

lf_err lfc_keyring_put(lfc_keyring *k, const char *key_id, const uint8_t key[32], lf_error *err)
{
    return lfc_keyring_put_app(k, key_id, key, NULL, err);
}

lf_err lfc_keyring_put_app(lfc_keyring *k, const char *key_id, const uint8_t key[32],
                           const char *app, lf_error *err)
{
    if (!valid_key_id(key_id))
        return lf_error_set(err, LF_ERR_INVALID, "keyring: malformed key id");
    slot *s = find(k, key_id, true);
    if (s == NULL)
        return lf_error_set(err, LF_ERR_NOMEM, "keyring: out of memory");
    memcpy(s->key, key, LF_AES_KEY_LEN);
    snprintf(s->app, sizeof s->app, "%s", app ? app : "");
    lf_native_opener_free(s->opener);
    s->opener = NULL;
    s->status = LFC_EXIT_OK;
    return LF_OK;
}

/*
 * native.c — native frames on POST /v1/ingest (docs/PROTOCOL.md §3).
 *
 * The whole body is validated first (framing errors refuse the request: a half-understood
 * body is not half-stored). Every frame must name the credential's tenant and one app (the
 * key's app if the key is bound to one). Key frames register their wrapped session key, for a
 * customer key the tenant registered; data frames need a key id that is registered (in this
 * request or before) and timestamps inside the window. A retried batch with the same
 * X-LF-Idempotency-Key is answered from the first answer and stored once.
 */
#include <pthread.h>
#include <string.h>
#include <time.h>

#include "ingest.h"
#include "ingest/batch.h"
#include "logflux/native.h"

#define IDEM_KEY_MIN 16
#define IDEM_KEY_MAX 64
#define INFLIGHT_MAX 1024

/* Idempotency keys being processed right now in this process: a concurrent retry of the same
 * batch waits for the first answer instead of storing a second copy. */
static pthread_mutex_t inflight_lock = PTHREAD_MUTEX_INITIALIZER;
static char inflight[INFLIGHT_MAX][LF_CREDENTIAL_ID_TEXT_MAX + IDEM_KEY_MAX + 2];

static bool inflight_claim(const char *key)
{
    bool ok = false;
    int free_slot = -1;
    pthread_mutex_lock(&inflight_lock);
    for (int i = 0; i < INFLIGHT_MAX; i++) {
        if (inflight[i][0] == '\0') {
            if (free_slot < 0)
                free_slot = i;
        } else if (strcmp(inflight[i], key) == 0) {
            free_slot = -2;
            break;
        }
    }
    if (free_slot >= 0) {
        snprintf(inflight[free_slot], sizeof inflight[free_slot], "%s", key);
        ok = true;
    }
    pthread_mutex_unlock(&inflight_lock);
    return ok;
}

static void inflight_release(const char *key)
{
    pthread_mutex_lock(&inflight_lock);
    for (int i = 0; i < INFLIGHT_MAX; i++)
        if (strcmp(inflight[i], key) == 0)
            inflight[i][0] = '\0';
    pthread_mutex_unlock(&inflight_lock);
}

static bool idem_key_valid(const char *k)
{
    size_t n = strlen(k);
    if (n < IDEM_KEY_MIN || n > IDEM_KEY_MAX)
        return false;
    for (size_t i = 0; i < n; i++)
        if (lf_base64_value(k[i], true) < 0)
            return false;
    return true;
}

/* Key ids registered by this request's key frames (they need no lookup). */
typedef struct key_set {
    char ids[64][2 * LF_NATIVE_KEY_ID_LEN + 1];
    size_t n;
    char last_ok[2 * LF_NATIVE_KEY_ID_LEN + 1];
} key_set;

static bool key_in_set(const key_set *s, const char *hex)
{
    if (strcmp(s->last_ok, hex) == 0)
        return true;
    for (size_t i = 0; i < s->n; i++)
        if (strcmp(s->ids[i], hex) == 0)
            return true;
    return false;
}

static const char *register_key(lfd_ingest_ctx *c, const lf_native_frame *f, const char *hex,
                                key_set *keys)
{
    const uint8_t *fp, *wrapped;
    size_t wrapped_len;
    if (lf_native_key_frame_parts(f, &fp, &wrapped, &wrapped_len, NULL) != LF_OK)
        return "malformed key frame";
    lf_meta_pubkey pk;
    if (lf_meta_pubkey_get(c->app->meta, c->who.tenant.id, fp, &pk, NULL) != LF_OK)
        return "key frame wraps for a customer key this tenant has not registered";
    lf_meta_pubkey_clear(&pk);
    lf_meta_session_key sk;
    memset(&sk, 0, sizeof sk);
    sk.tenant_id = c->who.tenant.id;
    snprintf(sk.app, sizeof sk.app, "%s", f->hdr.app);
    snprintf(sk.key_id, sizeof sk.key_id, "%s", hex);
    sk.format = LF_META_KEY_NATIVE;
    memcpy(sk.fingerprint, fp, LF_META_FP_LEN);
    if (wrapped_len > sizeof sk.wrapped)
        return "wrapped key too long";
    memcpy(sk.wrapped, wrapped, wrapped_len);
    sk.wrapped_len = wrapped_len;
    sk.created = f->hdr.ts_min / 1000000000LL;
    lf_err rc = lf_meta_session_key_put(c->app->meta, &sk, NULL);
    if (rc == LF_ERR_CONFLICT)
        return "key id already registered with a different wrapped key";
    if (rc != LF_OK)
        return "key could not be registered";
    if (keys->n < sizeof keys->ids / sizeof *keys->ids)
        strcpy(keys->ids[keys->n++], hex);
    return NULL;
}

static const char *check_data_key(lfd_ingest_ctx *c, const char *hex, const char *app,
                                  key_set *keys)
{
    if (key_in_set(keys, hex))
        return NULL;
    lf_meta_session_key sk;
    lf_err rc = lf_meta_session_key_get(c->app->meta, c->who.tenant.id, hex, &sk, NULL);
    if (rc == LF_ERR_NOT_FOUND || (rc == LF_OK && sk.format != LF_META_KEY_NATIVE))
        return "unknown key id (send its key frame first)";
    if (rc != LF_OK)
        return "key lookup failed";
    if (strcmp(sk.app, app) != 0)
        return "key id belongs to another app";
    strcpy(keys->last_ok, hex);
    return NULL;
}

static const char *add_frame(lfd_ingest_ctx *c, const lf_native_frame *f, key_set *keys)
{
    char hex[2 * LF_NATIVE_KEY_ID_LEN + 1];
    lf_hex_encode(f->hdr.key_id, LF_NATIVE_KEY_ID_LEN, hex);
    if (f->hdr.kind == LF_NATIVE_KEY)
        return register_key(c, f, hex, keys);
    const char *why = lfd_ingest_check_time(c, f->hdr.ts_min);
    if (why == NULL)
        why = lfd_ingest_check_time(c, f->hdr.ts_max);
    if (why == NULL)
        why = check_data_key(c, hex, f->hdr.app, keys);
    if (why != NULL)
        return why;
    lfd_row row = {.format = LFD_FORMAT_NATIVE,
                   .kind = f->hdr.kind,
                   .entry_type = f->hdr.entry_type,
                   .flags = f->hdr.flags,
                   .key_id = hex,
                   .key_id_len = strlen(hex),
                   .sequence = f->hdr.sequence,
                   .ts_min = f->hdr.ts_min,
                   .ts_max = f->hdr.ts_max,
                   .count = f->hdr.count,
                   .tokens = f->hdr.tokens,
                   .tokens_len = (size_t)f->hdr.token_count * LF_NATIVE_TOKEN_LEN,
                   .body = f->body,
                   .body_len = f->hdr.body_len};
    memcpy(row.nonce, f->hdr.nonce, sizeof row.nonce);
    if (lfd_batch_add(&c->record, &row, NULL) != LF_OK)
        return "frame could not be buffered";
    c->rows++;
    return NULL;
}

/* Same tenant and one app for every frame; the app must exist and fit the key's binding. */
static bool check_names(lfd_ingest_ctx *c, const lf_buf *body, char *app, size_t cap)
{
    lf_native_reader rd;
    lf_native_frame f;
    lf_native_reader_init(&rd, body->data, body->len);
    app[0] = '\0';
    while (lf_native_reader_next(&rd, &f, NULL) == LF_OK) {
        if (strcmp(f.hdr.tenant, c->who.tenant.name) != 0) {
            lfd_respond_error(c->req, 403, "forbidden",
                              "frames name a tenant other than the credential's", 0);
            return false;
        }
        if (app[0] == '\0')
            snprintf(app, cap, "%s", f.hdr.app);
        else if (strcmp(app, f.hdr.app) != 0) {
            lfd_respond_error(c->req, 400, "bad_request",
                              "all frames of a request must name "
                              "the same app",
                              0);
            return false;
        }
    }
    if (c->who.app[0] != '\0' && strcmp(c->who.app, app) != 0) {
        lfd_respond_error(c->req, 403, "forbidden", "this API key is bound to another app", 0);
        return false;
    }
    lf_meta_app a;
    if (lf_meta_app_get(c->app->meta, c->who.tenant.id, app, &a, NULL) != LF_OK) {
        lfd_respond_error(c->req, 404, "unknown_app", "the app named by the frames does not exist",
                          0);
        return false;
    }
    return true;
}

static void ingest_frames(lfd_ingest_ctx *c)
{
    const lf_buf *body = lfd_req_body(c->req);
    lf_error err = {0};
    size_t n = 0;
    lf_err rc = lf_native_body_check(body->data, body->len, &n, &err);
    if (rc != LF_OK) {
        lfd_respond_error(c->req, rc == LF_ERR_TOO_LARGE ? 413 : 400, "bad_frames", err.message, 0);
        return;
    }
    char app[LF_NATIVE_APP_MAX + 1];
    if (!check_names(c, body, app, sizeof app))
        return;
    c->total = n;
    if ((rc = lfd_batch_begin(&c->record, c->who.tenant.id, c->who.tenant.name, app, c->now_ns,
                              &err)) != LF_OK) {
        lfd_respond_lf_err(c->req, rc, &err);
        return;
    }
    key_set *keys = calloc(1, sizeof *keys);
    if (keys == NULL) {
        lfd_respond_error(c->req, 503, "overloaded", "out of memory", 1);
        return;
    }
    lf_native_reader rd;
    lf_native_frame f;
    size_t key_frames = 0;
    lf_native_reader_init(&rd, body->data, body->len);
    while (lf_native_reader_next(&rd, &f, NULL) == LF_OK) {
        const char *why = add_frame(c, &f, keys);
        if (why != NULL)
            lfd_ingest_fail(c, f.index, why);
        else if (f.hdr.kind == LF_NATIVE_KEY)
            key_frames++;
    }
    free(keys);
    if (c->rows == 0 && key_frames > 0 && json_array_size(c->failures) == 0) {
        /* Only key frames: registered in the metadata store, nothing for the spool. */
        json_t *data = json_pack("{s:b, s:I, s:I, s:I, s:[]}", "success", 1, "total", (json_int_t)n,
                                 "succeeded", (json_int_t)n, "failed", (json_int_t)0, "failures");
        lfd_respond_success(c->req, 200, "keys registered", data);
        return;
    }
    lfd_ingest_commit(c, "frames");
}

/* Capture the answer so a retry with the same idempotency key gets the same one. */
static void remember_answer(lfd_ingest_ctx *c, const char *key)
{
    unsigned status;
    const void *body;
    size_t len;
    /* Storage errors (5xx) and conflicts are worth retrying: only final answers are kept. */
    if (!lfd_req_answer(c->req, &status, &body, &len) || (status != 200 && status != 400) ||
        len > LF_META_IDEM_BODY_MAX)
        return;
    lf_meta_idem_response resp;
    memset(&resp, 0, sizeof resp);
    resp.status = (int)status;
    memcpy(resp.body, body, len);
    resp.body_len = len;
    int64_t now = (int64_t)time(NULL);
    resp.created = now;
    resp.expires = now + c->app->cfg->idempotency_ttl_ms / 1000;
    lf_meta_idem_response stored;
    bool existed = false;
    lf_error err = {0};
    if (lf_meta_idem_put_if_absent(c->app->meta, c->who.tenant.id, c->who.id_text, key, &resp, now,
                                   &stored, &existed, &err) != LF_OK)
        fprintf(stderr, "logfluxd: request %s: idempotency record not stored: %s\n",
                lfd_req_id(c->req), err.message);
}

void lfd_ingest_native(lfd_ingest_ctx *c)
{
    const char *idem = lfd_req_header(c->req, "X-LF-Idempotency-Key");
    if (idem == NULL) {
        ingest_frames(c);
        return;
    }
    if (!idem_key_valid(idem)) {
        lfd_respond_error(c->req, 400, "bad_request",
                          "X-LF-Idempotency-Key must be 16..64 characters of [A-Za-z0-9_-]", 0);
        return;
    }
    lf_meta_idem_response stored;
    lf_err rc = lf_meta_idem_get(c->app->meta, c->who.tenant.id, c->who.id_text, idem,
                                 (int64_t)time(NULL), &stored, NULL);
    if (rc == LF_OK) {
        lfd_resp_header(c->req, "X-LF-Idempotent-Replay", "true");
        lfd_respond_bytes(c->req, (unsigned)stored.status, "application/json", stored.body,
                          stored.body_len);
        return;
    }
    char claim[sizeof inflight[0]];
    snprintf(claim, sizeof claim, "%s/%s", c->who.id_text, idem);
    if (!inflight_claim(claim)) {
        lfd_respond_error(c->req, 409, "in_progress",
                          "a request with this idempotency key is being processed; retry", 1);
        return;
    }
    lfd_req_keep_answer(c->req);
    ingest_frames(c);
    remember_answer(c, idem);
    inflight_release(claim);
}

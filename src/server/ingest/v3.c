/*
 * v3.c — the LogFlux v3 protocol as the official SDKs speak it.
 *
 * Handshake: init answers the tenant's registered *customer* public key (never a key of ours:
 * the server holds nothing that decrypts), complete stores the session key the SDK wrapped for
 * it and answers a new key id. Ingest: a multipart/mixed body, one entry per part; each part is
 * checked on its own (entry type, payload type, key id known to this tenant, timestamp window)
 * and reported in the per-part results; the accepted parts become one spool record.
 */
#include <string.h>
#include <strings.h>
#include <time.h>

#include "ingest.h"
#include "ingest/batch.h"
#include "logflux/crypto.h"
#include "logflux/multipart.h"

/* The app v3 entries go to: the API key's app, else "default". */
static const char *v3_app(const lfd_principal *p)
{
    return p->app[0] ? p->app : "default";
}

/* The SDKs repeat the API key in handshake bodies: when they do, it must be the same key. */
static bool body_key_matches(lfd_request *r, json_t *body)
{
    json_t *k = json_object_get(body, "api_key");
    if (k == NULL)
        return true;
    const char *auth = lfd_req_header(r, "Authorization");
    if (!json_is_string(k) || auth == NULL || strncasecmp(auth, "Bearer ", 7) != 0)
        return !json_is_string(k) ? false : true;
    const char *bearer = auth + 7;
    while (*bearer == ' ')
        bearer++;
    size_t n = strlen(bearer);
    return json_string_length(k) == n && lf_ct_equal(json_string_value(k), bearer, n);
}

static json_t *parse_body(lfd_request *r)
{
    const lf_buf *b = lfd_req_body(r);
    if (b->len == 0)
        return json_object();
    json_error_t jerr;
    json_t *j = json_loadb((const char *)b->data, b->len, JSON_REJECT_DUPLICATES, &jerr);
    if (j == NULL || !json_is_object(j)) {
        json_decref(j);
        lfd_respond_error(r, 400, "bad_request", "the body must be a JSON object", 0);
        return NULL;
    }
    if (!body_key_matches(r, j)) {
        json_decref(j);
        lfd_respond_error(r, 400, "bad_request", "api_key in the body differs from the bearer", 0);
        return NULL;
    }
    return j;
}

void lfd_handle_handshake_init(lfd_request *r, void *ctx)
{
    lfd_app *app = ctx;
    lfd_principal who;
    if (!lfd_authenticate(app, r, LF_CREDENTIAL_API_KEY, LF_SCOPE_INGEST, &who))
        return;
    json_t *body = parse_body(r);
    if (body == NULL)
        return;
    json_decref(body);
    lf_meta_pubkey key;
    lf_error err = {0};
    lf_err rc = lf_meta_pubkey_get_active(app->meta, who.tenant.id, &key, &err);
    if (rc == LF_ERR_NOT_FOUND) {
        lfd_respond_error(r, 409, "no_customer_key",
                          "no customer public key is registered for this tenant "
                          "(logflux admin keys register)",
                          0);
        return;
    }
    if (rc != LF_OK) {
        lfd_respond_lf_err(r, rc, &err);
        return;
    }
    char fp_hex[2 * LF_META_FP_LEN + 1], fp[8 + 2 * LF_META_FP_LEN];
    lf_hex_encode(key.fingerprint, LF_META_FP_LEN, fp_hex);
    snprintf(fp, sizeof fp, "SHA256:%s", fp_hex);
    json_t *limits = json_pack("{s:I, s:I, s:I}", "max_batch_size", (json_int_t)app->cfg->max_parts,
                               "max_payload_size", (json_int_t)app->cfg->max_part_bytes,
                               "max_request_size", (json_int_t)app->cfg->max_request_bytes);
    lfd_respond_json(r, 200,
                     json_pack("{s:s, s:b, s:o, s:s, s:s}", "public_key", key.pem,
                               "supports_multipart", 1, "limits", limits, "key_fingerprint", fp,
                               "request_id", lfd_req_id(r)));
    lf_meta_pubkey_clear(&key);
}

static void uuid_v4(char out[37])
{
    uint8_t b[16];
    if (lf_random(b, sizeof b, NULL) != LF_OK)
        memset(b, 0, sizeof b);
    b[6] = (uint8_t)((b[6] & 0x0f) | 0x40);
    b[8] = (uint8_t)((b[8] & 0x3f) | 0x80);
    snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0],
             b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13],
             b[14], b[15]);
}

void lfd_handle_handshake_complete(lfd_request *r, void *ctx)
{
    lfd_app *app = ctx;
    lfd_principal who;
    if (!lfd_authenticate(app, r, LF_CREDENTIAL_API_KEY, LF_SCOPE_INGEST, &who))
        return;
    json_t *body = parse_body(r);
    if (body == NULL)
        return;
    const char *secret = json_string_value(json_object_get(body, "encrypted_secret"));
    lf_buf wrapped = LF_BUF_INIT;
    lf_meta_pubkey key;
    lf_error err = {0};
    lf_err rc = LF_OK;
    if (secret == NULL ||
        lf_base64_decode(secret, strlen(secret), &wrapped, false, NULL) != LF_OK) {
        lfd_respond_error(r, 400, "bad_request", "encrypted_secret must be standard base64", 0);
        goto out;
    }
    if ((rc = lf_meta_pubkey_get_active(app->meta, who.tenant.id, &key, &err)) != LF_OK) {
        if (rc == LF_ERR_NOT_FOUND)
            lfd_respond_error(r, 409, "no_customer_key",
                              "no customer public key is registered for this tenant", 0);
        else
            lfd_respond_lf_err(r, rc, &err);
        goto out;
    }
    /* We cannot check the wrap (we cannot unwrap); we can check its size is the modulus's. */
    lf_pubkey *pub = NULL;
    int bits = 0;
    if (lf_pubkey_from_pem(key.pem, key.pem_len, &pub, NULL) == LF_OK)
        bits = lf_pubkey_bits(pub);
    lf_pubkey_free(pub);
    if (bits == 0 || wrapped.len != (size_t)(bits + 7) / 8) {
        lf_meta_pubkey_clear(&key);
        lfd_respond_error(r, 400, "bad_request",
                          "encrypted_secret is not an RSA-OAEP value for the customer key", 0);
        goto out;
    }
    lf_meta_session_key sk;
    memset(&sk, 0, sizeof sk);
    sk.tenant_id = who.tenant.id;
    snprintf(sk.app, sizeof sk.app, "%s", v3_app(&who));
    uuid_v4(sk.key_id);
    sk.format = LF_META_KEY_V3;
    memcpy(sk.fingerprint, key.fingerprint, LF_META_FP_LEN);
    memcpy(sk.wrapped, wrapped.data, wrapped.len);
    sk.wrapped_len = wrapped.len;
    sk.created = (int64_t)time(NULL);
    lf_meta_pubkey_clear(&key);
    if ((rc = lf_meta_session_key_put(app->meta, &sk, &err)) != LF_OK) {
        lfd_respond_lf_err(r, rc, &err);
        goto out;
    }
    lfd_respond_json(r, 200,
                     json_pack("{s:s, s:s, s:s}", "key_id", sk.key_id, "status", "success",
                               "request_id", lfd_req_id(r)));
out:
    lf_buf_free(&wrapped);
    json_decref(body);
}

/* Key ids seen in this request, so a batch of 1000 parts under one key costs one lookup. */
typedef struct key_memo {
    char key_id[LF_V3_KEY_ID_MAX + 1];
    lf_err result;
} key_memo;

static lf_err key_known(lfd_ingest_ctx *c, key_memo *memo, const char *key_id)
{
    if (memo->key_id[0] != '\0' && strcmp(memo->key_id, key_id) == 0)
        return memo->result;
    lf_meta_session_key sk;
    lf_err rc = lf_meta_session_key_get(c->app->meta, c->who.tenant.id, key_id, &sk, NULL);
    if (rc == LF_OK && (sk.format != LF_META_KEY_V3 || strcmp(sk.app, v3_app(&c->who)) != 0))
        rc = LF_ERR_NOT_FOUND; /* a key of another app or format does not cover this part */
    snprintf(memo->key_id, sizeof memo->key_id, "%s", key_id);
    memo->result = rc;
    return rc;
}

static void add_part(lfd_ingest_ctx *c, const lf_mp_part *p, key_memo *memo)
{
    const lf_v3_headers *h = &p->headers;
    if (p->error.code != LF_OK) {
        lfd_ingest_fail(c, p->index, p->error.message);
        return;
    }
    const char *why = lfd_ingest_check_time(c, h->ts_ns);
    if (why != NULL) {
        lfd_ingest_fail(c, p->index, why);
        return;
    }
    if (h->payload_type == 1) {
        if (p->body_len < LF_GCM_TAG_LEN) {
            lfd_ingest_fail(c, p->index, "ciphertext shorter than the GCM tag");
            return;
        }
        lf_err rc = key_known(c, memo, h->key_id);
        if (rc != LF_OK) {
            lfd_ingest_fail(c, p->index,
                            rc == LF_ERR_NOT_FOUND ? "unknown key id (handshake first)"
                                                   : "key lookup failed");
            return;
        }
    }
    /* Search tokens travel as the comma-joined text the SDK sent. */
    lf_buf tokens = LF_BUF_INIT;
    for (size_t i = 0; i < p->n_search_tokens; i++) {
        if (i > 0)
            lf_buf_append_u8(&tokens, ',');
        lf_buf_append_str(&tokens, p->search_tokens[i]);
    }
    lfd_row row = {.format = LFD_FORMAT_V3,
                   .kind = 1,
                   .entry_type = (uint8_t)h->entry_type,
                   .flags = (uint8_t)h->payload_type,
                   .key_id = h->key_id,
                   .key_id_len = strlen(h->key_id),
                   .ts_min = h->ts_ns,
                   .ts_max = h->ts_ns,
                   .count = 1,
                   .tokens = tokens.data,
                   .tokens_len = tokens.len,
                   .body = p->body,
                   .body_len = p->body_len};
    memcpy(row.nonce, h->nonce, sizeof row.nonce);
    lf_error err = {0};
    if (lfd_batch_add(&c->record, &row, &err) == LF_OK)
        c->rows++;
    else
        lfd_ingest_fail(c, p->index, "entry could not be buffered");
    lf_buf_free(&tokens);
}

void lfd_ingest_v3(lfd_ingest_ctx *c)
{
    const lfd_config *cfg = c->app->cfg;
    lf_mp_limits limits = {cfg->max_request_bytes, cfg->max_part_bytes, (size_t)cfg->max_parts,
                           cfg->max_header_line_bytes, 32};
    lf_mp_parser *mp = NULL;
    lf_error err = {0};
    const lf_buf *body = lfd_req_body(c->req);
    lf_err rc = lf_mp_parser_new(lfd_req_header(c->req, "Content-Type"),
                                 lfd_req_header(c->req, "User-Agent"), &limits, &mp, &err);
    if (rc == LF_OK)
        rc = lf_mp_parser_feed(mp, body->data, body->len, &err);
    if (rc == LF_OK)
        rc = lf_mp_parser_finish(mp, &err);
    if (rc != LF_OK) {
        lfd_respond_error(c->req, rc == LF_ERR_TOO_LARGE ? 413 : 400,
                          rc == LF_ERR_UNSUPPORTED ? "unsupported_media_type" : "bad_multipart",
                          err.message, 0);
        lf_mp_parser_free(mp);
        return;
    }
    key_memo memo = {{0}, LF_OK};
    c->total = lf_mp_parser_count(mp);
    rc = lfd_batch_begin(&c->record, c->who.tenant.id, c->who.tenant.name, v3_app(&c->who),
                         c->now_ns, &err);
    for (size_t i = 0; rc == LF_OK && i < c->total; i++)
        add_part(c, lf_mp_parser_part(mp, i), &memo);
    if (rc == LF_OK)
        lfd_ingest_commit(c, "entries");
    else
        lfd_respond_lf_err(c->req, rc, &err);
    lf_mp_parser_free(mp);
}

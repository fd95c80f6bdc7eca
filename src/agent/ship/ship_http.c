/*
 * ship_http.c — one libcurl easy handle, reused for every request so that the TCP connection
 * and the TLS session stay up between items (HTTP/1.1 keep-alive; curl keeps the connection in
 * the handle's cache while the server allows it and reconnects transparently when not).
 *
 * TLS: peer and host verification are set explicitly and never turned off; ca_file and an
 * optional public-key pin come from the options. Plain http:// is refused unless the host is
 * loopback (tests, a local relay), and curl may speak only the scheme we checked, so neither a
 * redirect nor a proxy answer can move a request elsewhere (redirects are not followed).
 *
 * Each request is signed afresh (new timestamp, new nonce) with the signing key derived once
 * at open; the API key itself is never stored. The signed Host is the Host header we send.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "logflux/native.h"
#include "ship/ship_int.h"

int64_t ship_mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t ship_wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void ship_clean_text(const char *in, size_t max, char *out, size_t cap)
{
    size_t n = 0;
    for (; in != NULL && in[n] != '\0' && n < max && n + 1 < cap; n++)
        out[n] = (in[n] >= 0x20 && in[n] < 0x7f) ? in[n] : '?';
    if (cap > 0)
        out[n] = '\0';
}

void ship_answer_free(ship_answer *ans)
{
    lf_buf_free(&ans->body);
}

/* ---------------- endpoint ---------------- */

static bool host_is_loopback(const char *host)
{
    if (strcasecmp(host, "localhost") == 0 || strcmp(host, "[::1]") == 0 ||
        strcmp(host, "::1") == 0)
        return true;
    /* 127.0.0.0/8 written as a dotted quad. */
    unsigned a, b, c, d;
    char tail;
    return sscanf(host, "%u.%u.%u.%u%c", &a, &b, &c, &d, &tail) == 4 && a == 127 && b < 256 &&
           c < 256 && d < 256;
}

static bool path_prefix_ok(const char *p)
{
    for (; *p; p++)
        if (!isalnum((unsigned char)*p) && strchr("/._~-", *p) == NULL)
            return false;
    return true;
}

/* Fill url, path and host from the endpoint; *https says which scheme curl may use. */
static lf_err parse_endpoint(ship_http *h, const char *endpoint, bool *https, lf_error *err)
{
    lf_err rc = LF_OK;
    char *scheme = NULL, *host = NULL, *port = NULL, *path = NULL, *extra = NULL;
    CURLU *u = curl_url();
    if (u == NULL)
        return lf_error_set(err, LF_ERR_NOMEM, "ship: out of memory");
    if (curl_url_set(u, CURLUPART_URL, endpoint, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK) {
        rc = lf_error_set(err, LF_ERR_INVALID, "ship: endpoint is not a URL");
        goto out;
    }
    if (curl_url_get(u, CURLUPART_USER, &extra, 0) == CURLUE_OK ||
        curl_url_get(u, CURLUPART_QUERY, &extra, 0) == CURLUE_OK ||
        curl_url_get(u, CURLUPART_FRAGMENT, &extra, 0) == CURLUE_OK) {
        rc = lf_error_set(err, LF_ERR_INVALID,
                          "ship: endpoint must have no user, query or fragment part");
        goto out;
    }
    *https = strcasecmp(scheme, "https") == 0;
    if (!*https && !(strcasecmp(scheme, "http") == 0 && host_is_loopback(host))) {
        rc = lf_error_set(err, LF_ERR_INVALID,
                          "ship: endpoint must be https:// (http:// only to a loopback host)");
        goto out;
    }
    if (curl_url_get(u, CURLUPART_PATH, &path, 0) != CURLUE_OK || !path_prefix_ok(path)) {
        rc =
            lf_error_set(err, LF_ERR_INVALID, "ship: endpoint path may hold only [A-Za-z0-9/._~-]");
        goto out;
    }
    size_t plen = strlen(path);
    while (plen > 0 && path[plen - 1] == '/')
        plen--;
    size_t cap = plen + sizeof "/v1/ingest";
    h->path = malloc(cap);
    if (h->path == NULL) {
        rc = lf_error_set(err, LF_ERR_NOMEM, "ship: out of memory");
        goto out;
    }
    snprintf(h->path, cap, "%.*s/v1/ingest", (int)plen, path);
    /* The port goes into Host only when given and not the scheme's default, as curl does. */
    long default_port = *https ? 443 : 80;
    bool with_port = curl_url_get(u, CURLUPART_PORT, &port, 0) == CURLUE_OK &&
                     strtol(port, NULL, 10) != default_port;
    size_t hcap = strlen(host) + (with_port ? strlen(port) + 2 : 1);
    h->host = malloc(hcap);
    if (h->host == NULL) {
        rc = lf_error_set(err, LF_ERR_NOMEM, "ship: out of memory");
        goto out;
    }
    snprintf(h->host, hcap, "%s%s%s", host, with_port ? ":" : "", with_port ? port : "");
    char *url = NULL;
    if (curl_url_set(u, CURLUPART_PATH, h->path, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_URL, &url, 0) != CURLUE_OK) {
        rc = lf_error_set(err, LF_ERR_INVALID, "ship: endpoint is not a URL");
        goto out;
    }
    h->url = strdup(url);
    curl_free(url);
    if (h->url == NULL)
        rc = lf_error_set(err, LF_ERR_NOMEM, "ship: out of memory");
out:
    curl_free(scheme);
    curl_free(host);
    curl_free(port);
    curl_free(path);
    curl_free(extra);
    curl_url_cleanup(u);
    return rc;
}

/* ---------------- callbacks ---------------- */

typedef struct call_ctx {
    ship_http *h;
    ship_answer *ans;
    char retry_after[64];
} call_ctx;

static size_t on_body(char *p, size_t size, size_t n, void *ud)
{
    call_ctx *c = ud;
    size_t len = size * n;
    size_t room = SHIP_ANSWER_MAX - c->ans->body.len;
    size_t take = len < room ? len : room;
    if (take < len)
        c->ans->body_truncated = true;
    if (take > 0 && lf_buf_append(&c->ans->body, p, take) != LF_OK)
        c->ans->body_truncated = true;
    return len; /* the rest is read and dropped: the status decides */
}

static bool header_is(const char *line, size_t len, const char *name, const char **value,
                      size_t *vlen)
{
    size_t n = strlen(name);
    if (len <= n || strncasecmp(line, name, n) != 0 || line[n] != ':')
        return false;
    const char *v = line + n + 1;
    const char *end = line + len;
    while (v < end && (*v == ' ' || *v == '\t'))
        v++;
    while (end > v && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' ' || end[-1] == '\t'))
        end--;
    *value = v;
    *vlen = (size_t)(end - v);
    return true;
}

static size_t on_header(char *p, size_t size, size_t n, void *ud)
{
    call_ctx *c = ud;
    size_t len = size * n;
    const char *v;
    size_t vlen;
    if (len >= 5 && strncmp(p, "HTTP/", 5) == 0) {
        /* A new response (after a 1xx, say): forget the previous one's headers. */
        c->retry_after[0] = '\0';
        c->ans->replayed = false;
    } else if (header_is(p, len, "Retry-After", &v, &vlen)) {
        if (vlen < sizeof c->retry_after) {
            memcpy(c->retry_after, v, vlen);
            c->retry_after[vlen] = '\0';
        }
    } else if (header_is(p, len, "X-LF-Idempotent-Replay", &v, &vlen)) {
        c->ans->replayed = vlen == 4 && strncasecmp(v, "true", 4) == 0;
    }
    return len;
}

static int on_progress(void *ud, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                       curl_off_t ulnow)
{
    (void)dltotal, (void)dlnow, (void)ultotal, (void)ulnow;
    call_ctx *c = ud;
    /* Nonzero aborts the transfer (CURLE_ABORTED_BY_CALLBACK): the shipper is stopping. */
    return ship_mono_ms() >= atomic_load(c->h->abort_at_ms);
}

/* ---------------- open / send / close ---------------- */

lf_err ship_http_open(ship_http *h, const lf_agent_ship_options *o,
                      const _Atomic int64_t *abort_at_ms, lf_error *err)
{
    memset(h, 0, sizeof *h);
    h->abort_at_ms = abort_at_ms;
    if (o->endpoint == NULL || o->endpoint[0] == '\0')
        return lf_error_set(err, LF_ERR_INVALID, "ship: endpoint is required");
    if (o->api_key == NULL || o->api_key[0] == '\0')
        return lf_error_set(err, LF_ERR_INVALID, "ship: api_key is required");
    if (o->pinned_pubkey != NULL && strncmp(o->pinned_pubkey, "sha256//", 8) != 0)
        return lf_error_set(err, LF_ERR_INVALID,
                            "ship: pinned_pubkey must be sha256//<base64>[;sha256//...]");
    bool https = false;
    lf_err rc = parse_endpoint(h, o->endpoint, &https, err);
    if (rc != LF_OK)
        goto fail;
    lf_credential cred;
    size_t klen = strlen(o->api_key);
    if (lf_credential_parse(o->api_key, klen, &cred, NULL) != LF_OK ||
        cred.pub.kind != LF_CREDENTIAL_API_KEY) {
        lf_wipe(&cred, sizeof cred);
        rc = lf_error_set(err, LF_ERR_INVALID, "ship: api_key is not a LogFlux API key");
        goto fail;
    }
    snprintf(h->credential, sizeof h->credential, "%s", cred.pub.text);
    lf_wipe(&cred, sizeof cred);
    if ((rc = lf_sign_derive_key(o->api_key, klen, h->signing_key, err)) != LF_OK)
        goto fail;
    snprintf(h->user_agent, sizeof h->user_agent, "logflux-agent/%s", LF_AGENT_VERSION);
    if ((h->curl = curl_easy_init()) == NULL) {
        rc = lf_error_set(err, LF_ERR_NOMEM, "ship: curl_easy_init failed");
        goto fail;
    }
    CURL *c = h->curl;
    CURLcode cc = CURLE_OK;
#define SET(opt, val)                                                                              \
    if (cc == CURLE_OK)                                                                            \
    cc = curl_easy_setopt(c, opt, val)
    SET(CURLOPT_URL, h->url);
    SET(CURLOPT_PROTOCOLS_STR, https ? "https" : "http");
    SET(CURLOPT_FOLLOWLOCATION, 0L);
    SET(CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
    SET(CURLOPT_SSL_VERIFYPEER, 1L);
    SET(CURLOPT_SSL_VERIFYHOST, 2L);
    if (o->ca_file != NULL)
        SET(CURLOPT_CAINFO, o->ca_file);
    if (o->pinned_pubkey != NULL)
        SET(CURLOPT_PINNEDPUBLICKEY, o->pinned_pubkey);
    SET(CURLOPT_NOSIGNAL, 1L);
    SET(CURLOPT_TCP_KEEPALIVE, 1L);
    SET(CURLOPT_CONNECTTIMEOUT_MS, (long)o->connect_timeout_ms);
    SET(CURLOPT_TIMEOUT_MS, (long)o->request_timeout_ms);
    SET(CURLOPT_USERAGENT, h->user_agent);
    SET(CURLOPT_POST, 1L);
    SET(CURLOPT_NOPROGRESS, 0L);
    SET(CURLOPT_XFERINFOFUNCTION, on_progress);
    SET(CURLOPT_WRITEFUNCTION, on_body);
    SET(CURLOPT_HEADERFUNCTION, on_header);
#undef SET
    if (cc != CURLE_OK) {
        rc = lf_error_set(err, LF_ERR_INVALID, "ship: libcurl refused an option: %s",
                          curl_easy_strerror(cc));
        goto fail;
    }
    return LF_OK;
fail:
    ship_http_close(h);
    return rc;
}

/* Headers for one attempt: signed now, with a fresh nonce. idem may be NULL (no header). */
static lf_err build_headers(ship_http *h, const char *path, const char *content_type,
                            const char *idem_key, const void *body, size_t body_len, lf_error *err)
{
    lf_sign_request req = {.method = "POST",
                           .path = path,
                           .host = h->host,
                           .content_type = content_type,
                           .idempotency_key = idem_key,
                           .body = body,
                           .body_len = body_len};
    lf_buf line = LF_BUF_INIT;
    lf_err rc = lf_buf_append_str(&line, "Authorization: ");
    if (rc == LF_OK)
        rc = lf_sign_authorization_with_key(h->credential, h->signing_key, &req,
                                            (int64_t)time(NULL), NULL, &line, err);
    if (rc == LF_OK)
        rc = lf_buf_terminate(&line);
    char host[512], idem[128], ctype[128];
    snprintf(host, sizeof host, "Host: %s", h->host);
    snprintf(idem, sizeof idem, "X-LF-Idempotency-Key: %s", idem_key ? idem_key : "");
    snprintf(ctype, sizeof ctype, "Content-Type: %s", content_type);
    const char *lines[] = {host, ctype, "Accept: application/json",
                           /* no 100-continue round trip: the server reads the body anyway */
                           "Expect:", rc == LF_OK ? (const char *)line.data : NULL,
                           idem_key ? idem : NULL};
    struct curl_slist *list = NULL;
    for (size_t i = 0; rc == LF_OK && i < sizeof lines / sizeof *lines && lines[i]; i++) {
        struct curl_slist *next = curl_slist_append(list, lines[i]);
        if (next == NULL)
            rc = lf_error_set(err, LF_ERR_NOMEM, "ship: out of memory");
        else
            list = next;
    }
    lf_buf_free(&line);
    if (rc != LF_OK) {
        curl_slist_free_all(list);
        return rc;
    }
    curl_slist_free_all(h->headers);
    h->headers = list;
    return LF_OK;
}

static void post(ship_http *h, const char *path, const char *content_type, const char *idem,
                 const void *body, size_t body_len, ship_answer *ans);

void ship_http_send(ship_http *h, const lf_agent_buffer_item *it, ship_answer *ans)
{
    const void *body = it->body != NULL ? (const void *)it->body : "";
    post(h, h->path, LF_NATIVE_CONTENT_TYPE, it->idempotency_key, body, it->body_len, ans);
}

lf_err ship_http_post_route(ship_http *h, const char *route, const char *content_type,
                            const void *body, size_t body_len, ship_answer *ans, lf_error *err)
{
    /* h->url is <scheme://host[:port]><prefix>/v1/ingest and h->path <prefix>/v1/ingest. */
    size_t ulen = strlen(h->url), plen = strlen(h->path), ilen = strlen("/v1/ingest");
    size_t rlen = strlen(route);
    char *url = malloc(ulen - ilen + rlen + 1), *path = malloc(plen - ilen + rlen + 1);
    if (url == NULL || path == NULL) {
        free(url);
        free(path);
        return lf_error_set(err, LF_ERR_NOMEM, "ship: out of memory");
    }
    snprintf(url, ulen - ilen + rlen + 1, "%.*s%s", (int)(ulen - ilen), h->url, route);
    snprintf(path, plen - ilen + rlen + 1, "%.*s%s", (int)(plen - ilen), h->path, route);
    curl_easy_setopt(h->curl, CURLOPT_URL, url);
    post(h, path, content_type, NULL, body, body_len, ans);
    curl_easy_setopt(h->curl, CURLOPT_URL, h->url);
    free(url);
    free(path);
    return LF_OK;
}

static void post(ship_http *h, const char *path, const char *content_type, const char *idem,
                 const void *body, size_t body_len, ship_answer *ans)
{
    lf_buf_free(&ans->body);
    memset(ans, 0, sizeof *ans);
    ans->retry_after_ms = -1;
    lf_error err = {0};
    if (build_headers(h, path, content_type, idem, body, body_len, &err) != LF_OK) {
        ans->curl_rc = CURLE_OUT_OF_MEMORY;
        snprintf(ans->curl_error, sizeof ans->curl_error, "%s", err.message);
        return;
    }
    call_ctx ctx = {.h = h, .ans = ans};
    CURL *c = h->curl;
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h->headers);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body_len);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &ctx);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, &ctx);
    curl_easy_setopt(c, CURLOPT_XFERINFODATA, &ctx);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, ans->curl_error);
    ans->curl_rc = curl_easy_perform(c);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, NULL); /* ans may not outlive this call */
    long connects = 0;
    if (curl_easy_getinfo(c, CURLINFO_NUM_CONNECTS, &connects) == CURLE_OK && connects > 0)
        h->connections += (uint64_t)connects;
    if (ans->curl_rc == CURLE_ABORTED_BY_CALLBACK)
        ans->stopped = true;
    if (ans->curl_rc != CURLE_OK) {
        ans->status = 0;
        if (ans->curl_error[0] == '\0')
            snprintf(ans->curl_error, sizeof ans->curl_error, "%s",
                     curl_easy_strerror(ans->curl_rc));
        return;
    }
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &ans->status);
    ans->retry_after_ms =
        lf_agent_ship_retry_after_ms(ctx.retry_after[0] ? ctx.retry_after : NULL, ship_wall_ms());
}

void ship_http_close(ship_http *h)
{
    if (h->curl != NULL)
        curl_easy_cleanup(h->curl);
    curl_slist_free_all(h->headers);
    free(h->url);
    free(h->path);
    free(h->host);
    lf_wipe(h->signing_key, sizeof h->signing_key);
    memset(h, 0, sizeof *h);
}

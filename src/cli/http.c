/*
 * http.c — the CLI's HTTP client for logfluxd, on libcurl.
 *
 * One CURL easy handle per context is reused for every request so that a command making many
 * calls (paging, key fetches) keeps one TLS connection alive (HTTP/1.1 keep-alive). TLS peer
 * and host verification are always on; --ca only adds a trust anchor (CURLOPT_CAINFO), and
 * there is deliberately no way to turn verification off.
 *
 * 429 and 503 are retried (3 tries at most) after the server's Retry-After (capped at 10 s),
 * because both mean "nothing was done, come back later". Error messages name the method, the
 * URL path and the status — never the Authorization header or the token.
 */
#include "cli.h"

#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define LFC_MAX_BODY   (512u * 1024 * 1024) /* refuse answers larger than this */
#define LFC_TRIES      3
#define LFC_MAX_WAIT_S 10

typedef struct recv_state {
    lf_buf *body;
    bool too_large;
} recv_state;

static size_t on_body(char *data, size_t size, size_t n, void *arg)
{
    recv_state *st = arg;
    size_t len = size * n;
    if (st->body->len + len > LFC_MAX_BODY) {
        st->too_large = true;
        return 0; /* aborts the transfer */
    }
    if (lf_buf_append(st->body, data, len) != LF_OK)
        return 0;
    return len;
}

static size_t on_header(char *data, size_t size, size_t n, void *arg)
{
    lfc_reply *r = arg;
    size_t len = size * n;
    static const char name[] = "retry-after:";
    if (len > sizeof name - 1 && strncasecmp(data, name, sizeof name - 1) == 0) {
        const char *v = data + sizeof name - 1;
        size_t vl = len - (sizeof name - 1);
        while (vl > 0 && (*v == ' ' || *v == '\t'))
            v++, vl--;
        while (vl > 0 && (v[vl - 1] == '\r' || v[vl - 1] == '\n' || v[vl - 1] == ' '))
            vl--;
        if (vl >= sizeof r->retry_after)
            vl = sizeof r->retry_after - 1;
        memcpy(r->retry_after, v, vl);
        r->retry_after[vl] = '\0';
    }
    return len;
}

void lfc_http_close(lfc_ctx *c)
{
    if (c && c->http) {
        curl_easy_cleanup(c->http);
        c->http = NULL;
    }
}

static CURL *handle(lfc_ctx *c)
{
    if (!c->http) {
        static bool global_done;
        if (!global_done) {
            curl_global_init(CURL_GLOBAL_DEFAULT);
            global_done = true;
        }
        c->http = curl_easy_init();
    } else {
        curl_easy_reset(c->http); /* keeps the connection cache: keep-alive survives */
    }
    return c->http;
}

static void set_where(lfc_reply *r, const char *method, const char *path)
{
    size_t n = strcspn(path, "?"); /* query strings may carry cursors; keep messages short */
    snprintf(r->where, sizeof r->where, "%s %.*s", method, (int)(n > 150 ? 150 : n), path);
}

static int transport_error(lfc_ctx *c, CURLcode rc, const char *where, const char *errbuf)
{
    const char *detail = errbuf[0] ? errbuf : curl_easy_strerror(rc);
    switch (rc) {
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CONNECT_ERROR:
        return lfc_fail(LFC_EXIT_UNREACHABLE,
                        "%s at %s: TLS failed, the server certificate is not trusted or the "
                        "handshake failed (%s); trust a private CA with --ca FILE or LOGFLUX_CA "
                        "(verification cannot be turned off)",
                        where, c->endpoint, detail);
    default:
        return lfc_fail(LFC_EXIT_UNREACHABLE, "%s: cannot reach %s: %s", where, c->endpoint,
                        detail);
    }
}

/* One attempt of a request to an absolute URL. Returns an exit code. */
static int perform(lfc_ctx *c, const char *method, const char *url, const char *content_type,
                   const void *body, size_t body_len, bool with_token, lfc_reply *out)
{
    CURL *h = handle(c);
    if (!h)
        return lfc_fail(LFC_EXIT_ERROR, "cannot initialise libcurl");
    char errbuf[CURL_ERROR_SIZE] = "";
    struct curl_slist *headers = NULL;
    lf_buf auth = LF_BUF_INIT;
    recv_state st = {&out->body, false};

    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "https");
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
    if (c->ca)
        curl_easy_setopt(h, CURLOPT_CAINFO, c->ca);
    curl_easy_setopt(h, CURLOPT_USERAGENT, "logflux-cli/" LFC_VERSION);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, 10000L);
    if (c->timeout_ms > 0)
        curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)c->timeout_ms);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &st);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, out);
    curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, "");
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
    if (strcmp(method, "GET") == 0)
        curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
    else if (strcmp(method, "HEAD") == 0)
        curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
    if (body || strcmp(method, "POST") == 0 || strcmp(method, "PUT") == 0) {
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, body ? body : "");
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body_len);
    }
    headers = curl_slist_append(headers, "Accept: application/json");
    headers = curl_slist_append(headers, "Expect:");
    if (content_type) {
        lf_buf ct = LF_BUF_INIT;
        lf_buf_printf(&ct, "Content-Type: %s", content_type);
        lf_buf_terminate(&ct);
        if (ct.data)
            headers = curl_slist_append(headers, (char *)ct.data);
        lf_buf_free(&ct);
    }
    if (with_token && c->token) {
        lf_buf_printf(&auth, "Authorization: Bearer %s", c->token);
        lf_buf_terminate(&auth);
        if (auth.data)
            headers = curl_slist_append(headers, (char *)auth.data);
    }
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);

    CURLcode rc = curl_easy_perform(h);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, NULL);
    /* The header list holds a copy of the token: wipe it before it is freed. */
    for (struct curl_slist *s = headers; s; s = s->next)
        if (strncmp(s->data, "Authorization:", 14) == 0)
            lf_wipe(s->data, strlen(s->data));
    curl_slist_free_all(headers);
    lf_buf_free_secret(&auth);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, NULL);

    if (st.too_large)
        return lfc_fail(LFC_EXIT_SERVER, "%s: answer larger than %u bytes", out->where,
                        LFC_MAX_BODY);
    if (rc != CURLE_OK)
        return transport_error(c, rc, out->where, errbuf);
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &out->status);
    if (out->body.len > 0) {
        json_error_t jerr;
        out->json = json_loadb((const char *)out->body.data, out->body.len, 0, &jerr);
    }
    if (c->verbose)
        fprintf(stderr, "logflux: %s -> %ld (%zu bytes)\n", out->where, out->status, out->body.len);
    return LFC_EXIT_OK;
}

static unsigned retry_wait(const lfc_reply *r, int attempt)
{
    long s = r->retry_after[0] ? strtol(r->retry_after, NULL, 10) : attempt;
    if (s < 1)
        s = 1;
    if (s > LFC_MAX_WAIT_S)
        s = LFC_MAX_WAIT_S;
    return (unsigned)s;
}

static int request_url(lfc_ctx *c, const char *method, const char *url, const char *where_path,
                       const char *content_type, const void *body, size_t body_len, bool with_token,
                       lfc_reply *out)
{
    memset(out, 0, sizeof *out);
    set_where(out, method, where_path);
    for (int attempt = 1;; attempt++) {
        int rc = perform(c, method, url, content_type, body, body_len, with_token, out);
        if (rc != LFC_EXIT_OK)
            return rc;
        if ((out->status != 429 && out->status != 503) || attempt >= LFC_TRIES)
            return LFC_EXIT_OK;
        unsigned wait = retry_wait(out, attempt);
        if (!c->quiet)
            fprintf(stderr, "logflux: %s answered %ld, retrying in %u s\n", out->where, out->status,
                    wait);
        char where[sizeof out->where];
        memcpy(where, out->where, sizeof where);
        lfc_reply_free(out);
        memcpy(out->where, where, sizeof where);
        struct timespec ts = {(time_t)wait, 0};
        nanosleep(&ts, NULL);
    }
}

/* A region is a short lowercase label: it is pasted into a host name. */
static bool token_region(const char *token, char *region, size_t cap)
{
    const char *dash = token ? strstr(token, "-lf_") : NULL;
    if (!dash || dash == token || (size_t)(dash - token) >= cap || dash - token > 32)
        return false;
    for (const char *p = token; p < dash; p++)
        if (!(*p >= 'a' && *p <= 'z') && !(*p >= '0' && *p <= '9') && *p != '-')
            return false;
    memcpy(region, token, (size_t)(dash - token));
    region[dash - token] = '\0';
    return true;
}

int lfc_resolve_endpoint(lfc_ctx *c)
{
    if (c->endpoint && *c->endpoint)
        return LFC_EXIT_OK;
    char region[40];
    if (!token_region(c->token, region, sizeof region))
        return lfc_fail(LFC_EXIT_USAGE,
                        "no endpoint: pass --endpoint URL, set LOGFLUX_ENDPOINT or run `logflux "
                        "login` (a region-prefixed token such as eu-lf_usr_… is resolved through "
                        "discovery)");
    const char *tmpl = getenv("LOGFLUX_DISCOVERY_URL");
    if (!tmpl || !*tmpl)
        tmpl = "https://discover.{region}.logflux.io";
    lf_buf url = LF_BUF_INIT;
    for (const char *p = tmpl; *p;) {
        if (strncmp(p, "{region}", 8) == 0) {
            lf_buf_append_str(&url, region);
            p += 8;
        } else {
            lf_buf_append_u8(&url, (uint8_t)*p++);
        }
    }
    while (url.len > 0 && url.data[url.len - 1] == '/')
        url.len--;
    lf_buf_append_str(&url, "/discovery");
    if (lf_buf_terminate(&url) != LF_OK)
        return lfc_fail(LFC_EXIT_ERROR, "out of memory");
    /* For messages about the discovery host. */
    c->endpoint = strndup((const char *)url.data, url.len - strlen("/discovery"));
    lfc_reply r;
    /* The discovery document is public: the token is not sent to the discovery host. */
    int rc = request_url(c, "GET", (const char *)url.data, "/discovery", NULL, NULL, 0, false, &r);
    lf_buf_free(&url);
    free(c->endpoint);
    c->endpoint = NULL;
    if (rc != LFC_EXIT_OK)
        return rc;
    rc = lfc_expect(&r, 200);
    if (rc == LFC_EXIT_OK) {
        json_t *root = r.json;
        json_t *data = json_object_get(root, "data");
        json_t *eps = json_object_get(data ? data : root, "endpoints");
        const char *backend = json_string_value(json_object_get(eps, "backend_url"));
        if (!backend || strncmp(backend, "https://", 8) != 0)
            rc = lfc_fail(LFC_EXIT_SERVER,
                          "discovery for region '%s' gave no https endpoints.backend_url", region);
        else {
            c->endpoint = strdup(backend);
            size_t n = strlen(c->endpoint);
            while (n > 0 && c->endpoint[n - 1] == '/')
                c->endpoint[--n] = '\0';
            if (c->verbose)
                fprintf(stderr, "logflux: region %s -> %s\n", region, c->endpoint);
        }
    }
    lfc_reply_free(&r);
    return rc;
}

int lfc_http(lfc_ctx *c, const char *method, const char *path, const char *content_type,
             const void *body, size_t body_len, lfc_reply *out)
{
    memset(out, 0, sizeof *out);
    int rc = lfc_resolve_endpoint(c);
    if (rc != LFC_EXIT_OK)
        return rc;
    if (strncmp(c->endpoint, "https://", 8) != 0)
        return lfc_fail(LFC_EXIT_USAGE,
                        "endpoint %s is not https://: the token is never sent in the clear",
                        c->endpoint);
    if (!c->token)
        return lfc_fail(LFC_EXIT_AUTH,
                        "no token: pass --token, set LOGFLUX_TOKEN or run `logflux login`");
    lf_buf url = LF_BUF_INIT;
    lf_buf_printf(&url, "%s%s%s", c->endpoint, path[0] == '/' ? "" : "/", path);
    if (lf_buf_terminate(&url) != LF_OK)
        return lfc_fail(LFC_EXIT_ERROR, "out of memory");
    rc = request_url(c, method, (const char *)url.data, path, content_type, body, body_len, true,
                     out);
    lf_buf_free(&url);
    return rc;
}

int lfc_http_json(lfc_ctx *c, const char *method, const char *path, json_t *body, lfc_reply *out)
{
    char *text = NULL;
    if (body) {
        text = json_dumps(body, JSON_COMPACT);
        json_decref(body);
        if (!text) {
            memset(out, 0, sizeof *out);
            return lfc_fail(LFC_EXIT_ERROR, "cannot encode the request body");
        }
    }
    int rc = lfc_http(c, method, path, text ? "application/json" : NULL, text,
                      text ? strlen(text) : 0, out);
    free(text);
    return rc;
}

int lfc_expect(const lfc_reply *r, long want)
{
    if (r->status == want)
        return LFC_EXIT_OK;
    json_t *e = json_object_get(r->json, "error");
    const char *code = json_string_value(json_object_get(e, "code"));
    const char *msg = json_string_value(json_object_get(e, "message"));
    if (!msg)
        msg = json_string_value(json_object_get(r->json, "message"));
    int exit_code;
    const char *hint = "";
    if (r->status == 401 || r->status == 403) {
        exit_code = LFC_EXIT_AUTH;
        hint = r->status == 401 ? " (the token is missing, wrong, revoked or expired: see `logflux "
                                  "login`)"
                                : " (the token lacks the scope for this)";
    } else if (r->status == 404) {
        exit_code = LFC_EXIT_NOT_FOUND;
    } else if (r->status >= 500 || r->status < 100) {
        exit_code = LFC_EXIT_SERVER;
    } else if (r->status >= 200 && r->status < 300) {
        exit_code = LFC_EXIT_SERVER; /* a success of the wrong kind: a malformed answer */
    } else {
        exit_code = LFC_EXIT_ERROR;
    }
    return lfc_fail(exit_code, "%s: HTTP %ld%s%s%s%s%s", r->where, r->status, code ? " " : "",
                    code ? code : "", msg ? ": " : "", msg ? msg : "", hint);
}

void lfc_reply_free(lfc_reply *r)
{
    if (!r)
        return;
    json_decref(r->json);
    lf_buf_free(&r->body);
    memset(r, 0, sizeof *r);
}

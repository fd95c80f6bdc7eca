/*
 * cmd_tail.c — `logflux tail [-f] [-n N] [filters]`.
 *
 * Without -f: the last N (default 10) matching entries of the window, oldest first (the query
 * read path with a limit), then exit.
 *
 * With -f: GET /v1/tail?stream=1 — an endless NDJSON answer of rows as the worker flushes
 * them, plus cursor and heartbeat lines. Every row is opened and filtered like a query row and
 * printed at once. The last cursor seen is kept; when the connection drops the stream is
 * reopened from it (so nothing is lost or repeated) after a backoff of 0.5 s doubling up to
 * 10 s, reset by any line received. Ctrl-C (SIGINT) or SIGTERM ends it with exit 0 (7 if some
 * row failed authentication). The time filters do not apply with -f (the stream starts now).
 */
#include <curl/curl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "commands.h"
#include "logflux/timefmt.h"
#include "rows.h"

static volatile sig_atomic_t g_stop;

static void on_signal(int sig)
{
    (void)sig;
    g_stop = 1;
}

typedef struct tail_state {
    lfc_filter *f;
    lfc_keyring *k;
    lfc_printer pr;
    lfc_opened op;
    lf_buf line;       /* partial NDJSON line */
    char cursor[1024]; /* last cursor seen */
    bool got_line;     /* since the last (re)connect */
    size_t tampered;
    int fatal; /* a key failure that ends the tail */
} tail_state;

static void handle_line(tail_state *s, const char *text, size_t len)
{
    json_t *j = json_loadb(text, len, 0, NULL);
    if (j == NULL)
        return;
    s->got_line = true;
    const char *cur = json_string_value(json_object_get(j, "cursor"));
    if (json_object_get(j, "ciphertext") != NULL) {
        lfc_row row;
        lf_error err = {0};
        if (lfc_row_from_json(j, &row, &err) != LF_OK) {
            fprintf(stderr, "logflux: tail: malformed row skipped: %s\n", err.message);
        } else {
            int rc = lfc_row_open(s->k, &row, &s->op, &err);
            if (rc == LFC_EXIT_TAMPERED) {
                lfc_warn_tampered(&row, &err);
                s->tampered++;
            } else if (rc == LFC_EXIT_OK) {
                for (size_t i = 0; i < s->op.count; i++) {
                    if (!lfc_filter_match(s->f, &s->op.entries[i]))
                        continue;
                    if (lfc_printer_entry(&s->pr, &s->op.entries[i], &err) != LF_OK)
                        s->fatal = LFC_EXIT_ERROR;
                }
                fflush(s->pr.out);
            } else if (rc != LFC_EXIT_NOT_FOUND) {
                s->fatal = rc;
            }
            lfc_opened_free(&s->op);
            lfc_row_free(&row);
        }
    } else if (cur != NULL && strlen(cur) < sizeof s->cursor) {
        snprintf(s->cursor, sizeof s->cursor, "%s", cur);
    }
    json_decref(j);
}

static size_t on_data(char *p, size_t size, size_t n, void *ud)
{
    tail_state *s = ud;
    size_t len = size * n;
    if (lf_buf_append(&s->line, p, len) != LF_OK)
        return 0;
    size_t start = 0;
    for (size_t i = 0; i < s->line.len; i++) {
        if (s->line.data[i] != '\n')
            continue;
        handle_line(s, (const char *)s->line.data + start, i - start);
        start = i + 1;
    }
    if (start > 0) {
        memmove(s->line.data, s->line.data + start, s->line.len - start);
        s->line.len -= start;
    }
    if (s->line.len > 64u * 1024u * 1024u) /* no line is that long: the stream is broken */
        return 0;
    return (g_stop || s->fatal) ? 0 : len;
}

static int on_progress(void *ud, curl_off_t a, curl_off_t b, curl_off_t c, curl_off_t d)
{
    (void)ud, (void)a, (void)b, (void)c, (void)d;
    return g_stop ? 1 : 0;
}

/* One stream connection; returns the HTTP status (0 on transport failure). */
static long stream_once(lfc_ctx *c, tail_state *s)
{
    lf_buf url = LF_BUF_INIT, auth = LF_BUF_INIT;
    lf_buf_printf(&url, "%s/v1/tail?stream=1", c->endpoint);
    if (s->f->app)
        lf_buf_printf(&url, "&app=%s", s->f->app);
    if (s->f->type)
        lf_buf_printf(&url, "&type=%d", s->f->type);
    if (s->cursor[0])
        lf_buf_printf(&url, "&cursor=%s", s->cursor);
    lf_buf_terminate(&url);
    lf_buf_printf(&auth, "Authorization: Bearer %s", c->token ? c->token : "");
    lf_buf_terminate(&auth);
    CURL *h = curl_easy_init();
    struct curl_slist *hdr = curl_slist_append(NULL, (const char *)auth.data);
    long status = 0;
    if (h != NULL) {
        curl_easy_setopt(h, CURLOPT_URL, (const char *)url.data);
        curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdr);
        curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
        curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
        if (c->ca)
            curl_easy_setopt(h, CURLOPT_CAINFO, c->ca);
        curl_easy_setopt(h, CURLOPT_USERAGENT, "logflux-cli/" LFC_VERSION);
        curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
        curl_easy_setopt(h, CURLOPT_WRITEDATA, s);
        curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
        curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_progress);
        curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, 10L);
        /* heartbeats come every 10 s: 30 s of silence is a dead connection */
        curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
        curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, 30L);
        CURLcode rc = curl_easy_perform(h);
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
        if (rc != CURLE_OK && !g_stop && !s->fatal && c->verbose)
            fprintf(stderr, "logflux: tail: stream ended: %s\n", curl_easy_strerror(rc));
        curl_easy_cleanup(h);
    }
    curl_slist_free_all(hdr);
    lf_buf_free_secret(&auth);
    lf_buf_free(&url);
    s->line.len = 0;
    return status;
}

static void sleep_ms(long ms)
{
    for (long t = 0; t < ms && !g_stop; t += 50) {
        struct timespec ts = {0, 50 * 1000000L};
        nanosleep(&ts, NULL);
    }
}

static int follow(lfc_ctx *c, lfc_filter *f)
{
    int rc = lfc_resolve_endpoint(c);
    if (rc != LFC_EXIT_OK)
        return rc;
    lf_privkey *priv = NULL;
    if ((rc = lfc_load_private_key(c, &priv)) != LFC_EXIT_OK)
        return rc;
    tail_state s = {.f = f};
    f->from = INT64_MIN;
    f->to = INT64_MAX;
    lfc_printer_init(&s.pr, stdout, c->output);
    if ((rc = lfc_keyring_new(c, priv, &s.k)) != LFC_EXIT_OK) {
        lf_privkey_free(priv);
        return rc;
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    long backoff = 500;
    while (!g_stop && !s.fatal) {
        s.got_line = false;
        long status = stream_once(c, &s);
        if (g_stop || s.fatal)
            break;
        if (status == 401 || status == 403) {
            rc = lfc_fail(LFC_EXIT_AUTH, "tail: the server refused the token (%ld)", status);
            break;
        }
        if (status == 400 || status == 404) {
            rc = lfc_fail(LFC_EXIT_ERROR, "tail: the server refused the request (%ld)", status);
            break;
        }
        if (s.got_line)
            backoff = 500;
        if (c->verbose)
            fprintf(stderr, "logflux: tail: reconnecting in %ld ms\n", backoff);
        sleep_ms(backoff);
        backoff = backoff * 2 > 10000 ? 10000 : backoff * 2;
    }
    if (s.fatal)
        rc = s.fatal;
    else if (rc == LFC_EXIT_OK && s.tampered)
        rc = LFC_EXIT_TAMPERED;
    lfc_opened_free(&s.op);
    lfc_keyring_free(s.k);
    lf_privkey_free(priv);
    lf_buf_free_secret(&s.line);
    return rc;
}

typedef struct last_state {
    lfc_printer pr;
    lf_buf *json;
    lfc_row *rows;
    size_t n, cap;
} last_state;

static int keep_entry(void *ud, const lfc_entry *e)
{
    last_state *s = ud;
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 16;
        lf_buf *j = realloc(s->json, cap * sizeof *j);
        if (j == NULL)
            return LFC_EXIT_ERROR;
        s->json = j;
        lfc_row *r = realloc(s->rows, cap * sizeof *r);
        if (r == NULL)
            return LFC_EXIT_ERROR;
        s->rows = r;
        s->cap = cap;
    }
    s->json[s->n] = (lf_buf)LF_BUF_INIT;
    if (lf_buf_append(&s->json[s->n], e->json, e->json_len) != LF_OK)
        return LFC_EXIT_ERROR;
    memset(&s->rows[s->n], 0, sizeof s->rows[s->n]);
    memcpy(s->rows[s->n].app, e->row->app, sizeof s->rows[s->n].app);
    memcpy(s->rows[s->n].key_id, e->row->key_id, sizeof s->rows[s->n].key_id);
    s->rows[s->n].sequence = e->row->sequence;
    s->rows[s->n].entry_type = e->row->entry_type;
    s->n++;
    return LFC_EXIT_OK;
}

int lfc_cmd_tail(lfc_ctx *c, int argc, char **argv)
{
    lfc_filter f = {0};
    bool follow_flag = false;
    size_t n = 10;
    int rc = LFC_EXIT_OK;
    for (int i = 1; i < argc && rc == LFC_EXIT_OK;) {
        bool used = false;
        rc = lfc_filter_arg(&f, argc, argv, &i, &used);
        if (rc != LFC_EXIT_OK || used)
            continue;
        if (strcmp(argv[i], "-f") == 0 || strcmp(argv[i], "--follow") == 0) {
            follow_flag = true;
            i++;
        } else if ((strcmp(argv[i], "-n") == 0 || strcmp(argv[i], "--lines") == 0) &&
                   i + 1 < argc) {
            char *end = NULL;
            unsigned long v = strtoul(argv[i + 1], &end, 10);
            if (*end != '\0' || v == 0 || v > 1000000)
                rc = lfc_fail(LFC_EXIT_USAGE, "-n: a positive integer");
            n = (size_t)v;
            i += 2;
        } else if (strcmp(argv[i], "--no-cache") == 0) {
            lfc_cache_disable();
            i++;
        } else {
            rc = lfc_fail(LFC_EXIT_USAGE,
                          "tail: unknown argument '%s' (logflux tail [-f] [-n N] "
                          "[filters])",
                          argv[i]);
        }
    }
    if (rc == LFC_EXIT_OK)
        rc = lfc_filter_finish(&f, lf_time_now_ns(), 3600LL * LF_NS_PER_SEC);
    if (rc != LFC_EXIT_OK) {
        lfc_filter_free(&f);
        return rc;
    }
    if (follow_flag) {
        rc = follow(c, &f);
        lfc_filter_free(&f);
        return rc;
    }
    if (f.limit == 0)
        f.limit = n;
    last_state s = {0};
    lfc_printer_init(&s.pr, stdout, c->output);
    rc = lfc_read_entries(c, &f, true, keep_entry, &s);
    for (size_t k = s.n; k-- > 0;) {
        lfc_entry e = {.json = s.json[k].data, .json_len = s.json[k].len, .row = &s.rows[k]};
        lf_error err = {0};
        if (lf_payload_decode(e.json, e.json_len, s.rows[k].entry_type, 0, &e.p, &err) == LF_OK)
            lfc_printer_entry(&s.pr, &e, &err);
        lf_payload_free(e.p);
    }
    for (size_t k = 0; k < s.n; k++)
        lf_buf_free_secret(&s.json[k]);
    free(s.json);
    free(s.rows);
    lfc_filter_free(&f);
    fflush(stdout);
    return rc;
}

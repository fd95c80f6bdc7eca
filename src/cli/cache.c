/*
 * cache.c — a local cache of the server's ciphertext rows, so a repeated query over the same
 * window does not fetch the same rows again. It holds exactly what /v1/query answered (row
 * JSON: base64 ciphertext, nonce, tokens and the stored columns) — never plaintext, never a
 * key — in files of mode 0600 under
 *
 *   $XDG_CACHE_HOME/logflux/<first 16 hex of SHA-256(endpoint)>/a_<app|*>/t<type>/<hour>.json
 *
 * (~/.cache when XDG_CACHE_HOME is unset; <hour> = Unix seconds / 3600).
 *
 * What is cached: the complete answer for one (app, type, hour), and only for CLOSED hours —
 * hours that ended more than LFC_CACHE_SETTLE_NS ago (the server's flush interval, 5 s by
 * default, plus a wide margin for clock skew and spool latency). The open hours of a window
 * are always asked for.
 *
 * Invalidation: each cache file records the ids of the manifest files (GET /v1/files) that
 * overlapped its hour when it was filled. Every cached read first lists the manifest for the
 * closed part of the window (one paged request) and uses a cache file only if that set is
 * unchanged; a late arrival (an entry flushed after its hour closed), a compaction or a
 * deleted file changes the set and the hour is fetched again. An hour with no file at all
 * needs no request. The manifest is listed before the rows are queried, so a file flushed in
 * between can only make the cache look stale (refetch), never hide rows.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "logflux/timefmt.h"
#include "rows.h"

#define HOUR_NS             (3600LL * LF_NS_PER_SEC)
#define LFC_CACHE_SETTLE_NS (120LL * LF_NS_PER_SEC)
#define MAX_CLOSED_HOURS    (24 * 31) /* beyond this, query without the cache */
#define MAX_FILES           100000

static bool g_disabled;

void lfc_cache_disable(void)
{
    g_disabled = true;
}

bool lfc_cache_enabled(void)
{
    const char *e = getenv("LOGFLUX_NO_CACHE");
    return !g_disabled && !(e != NULL && *e != '\0' && strcmp(e, "0") != 0);
}

lf_err lfc_cache_dir(const lfc_ctx *c, char *buf, size_t cap, lf_error *err)
{
    const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
    uint8_t h[LF_SHA256_LEN];
    char hex[2 * LF_SHA256_LEN + 1];
    const char *ep = c->endpoint ? c->endpoint : "";
    if (lf_sha256(ep, strlen(ep), h, err) != LF_OK)
        return LF_ERR_CRYPTO;
    lf_hex_encode(h, sizeof h, hex);
    hex[16] = '\0';
    int n;
    if (xdg != NULL && xdg[0] == '/')
        n = snprintf(buf, cap, "%s/logflux/%s", xdg, hex);
    else if (home != NULL && home[0] != '\0')
        n = snprintf(buf, cap, "%s/.cache/logflux/%s", home, hex);
    else
        return lf_error_set(err, LF_ERR_INVALID, "cache: neither XDG_CACHE_HOME nor HOME is set");
    if (n < 0 || (size_t)n >= cap)
        return lf_error_set(err, LF_ERR_INVALID, "cache: directory path too long");
    return LF_OK;
}

static int mkdirs(char *path)
{
    for (char *p = path + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        int rc = mkdir(path, 0700);
        *p = '/';
        if (rc != 0 && errno != EEXIST)
            return -1;
    }
    return mkdir(path, 0700) == 0 || errno == EEXIST ? 0 : -1;
}

typedef struct file_span {
    int64_t id, ts_min, ts_max;
} file_span;

typedef struct manifest {
    file_span *v;
    size_t n, cap;
} manifest;

/* The manifest files overlapping [from, to]. LFC_EXIT_OK or an exit code (printed). */
static int list_files(lfc_ctx *c, const lfc_window *w, int64_t from, int64_t to, manifest *m)
{
    char *cursor = NULL;
    for (;;) {
        lf_buf path = LF_BUF_INIT;
        lf_buf_printf(&path, "/v1/files?from=%lld&to=%lld&limit=1000", (long long)from,
                      (long long)to);
        if (w->app)
            lf_buf_printf(&path, "&app=%s", w->app);
        if (cursor)
            lf_buf_printf(&path, "&cursor=%s", cursor);
        free(cursor);
        cursor = NULL;
        if (lf_buf_terminate(&path) != LF_OK) {
            lf_buf_free(&path);
            return LFC_EXIT_ERROR;
        }
        lfc_reply r = {0};
        int rc = lfc_http_json(c, "GET", (const char *)path.data, NULL, &r);
        lf_buf_free(&path);
        if (rc == LFC_EXIT_OK)
            rc = lfc_expect(&r, 200);
        if (rc != LFC_EXIT_OK) {
            lfc_reply_free(&r);
            return rc;
        }
        json_t *data = json_object_get(r.json, "data");
        json_t *files = json_object_get(data, "files");
        if (!json_is_array(files)) {
            lfc_reply_free(&r);
            return lfc_fail(LFC_EXIT_SERVER, "/v1/files: malformed answer");
        }
        size_t i;
        json_t *f;
        json_array_foreach(files, i, f)
        {
            if (m->n == m->cap) {
                if (m->cap >= MAX_FILES) {
                    lfc_reply_free(&r);
                    return LFC_EXIT_ERROR;
                }
                size_t cap = m->cap ? m->cap * 2 : 64;
                file_span *v = realloc(m->v, cap * sizeof *v);
                if (v == NULL) {
                    lfc_reply_free(&r);
                    return LFC_EXIT_ERROR;
                }
                m->v = v;
                m->cap = cap;
            }
            json_t *id = json_object_get(f, "id"), *lo = json_object_get(f, "ts_min"),
                   *hi = json_object_get(f, "ts_max");
            if (!json_is_integer(id) || !json_is_integer(lo) || !json_is_integer(hi)) {
                lfc_reply_free(&r);
                return lfc_fail(LFC_EXIT_SERVER, "/v1/files: malformed file entry");
            }
            m->v[m->n++] =
                (file_span){json_integer_value(id), json_integer_value(lo), json_integer_value(hi)};
        }
        const char *nc = json_string_value(json_object_get(data, "next_cursor"));
        if (nc != NULL && *nc)
            cursor = strdup(nc);
        lfc_reply_free(&r);
        if (cursor == NULL)
            return LFC_EXIT_OK;
    }
}

/* Sorted ids of the manifest files overlapping [lo, hi] as a JSON array. */
static json_t *files_of(const manifest *m, int64_t lo, int64_t hi)
{
    json_t *a = json_array();
    /* insertion into a sorted array; a handful of files per hour */
    for (size_t i = 0; a && i < m->n; i++) {
        if (m->v[i].ts_max < lo || m->v[i].ts_min > hi)
            continue;
        size_t pos = json_array_size(a);
        while (pos > 0 && json_integer_value(json_array_get(a, pos - 1)) > m->v[i].id)
            pos--;
        json_array_insert_new(a, pos, json_integer(m->v[i].id));
    }
    return a;
}

static int cache_path(lfc_ctx *c, const lfc_window *w, int64_t hour, char *buf, size_t cap)
{
    char dir[3072];
    if (lfc_cache_dir(c, dir, sizeof dir, NULL) != LF_OK)
        return -1;
    int n = snprintf(buf, cap, "%s/a_%s/t%d/%lld.json", dir, w->app ? w->app : "*", w->type,
                     (long long)hour);
    return n < 0 || (size_t)n >= cap ? -1 : 0;
}

/* Load the cached rows of an hour if its file set is `files`. */
static bool cache_load(const char *path, const json_t *files, lfc_rows *out)
{
    json_t *j = json_load_file(path, 0, NULL);
    if (j == NULL)
        return false;
    bool ok = json_integer_value(json_object_get(j, "v")) == 1 &&
              json_equal(json_object_get(j, "files"), (json_t *)files);
    json_t *rows = json_object_get(j, "rows");
    ok = ok && json_is_array(rows);
    size_t i;
    json_t *jr;
    if (ok) {
        json_array_foreach(rows, i, jr)
        {
            lfc_row row;
            if (lfc_row_from_json(jr, &row, NULL) != LF_OK ||
                lfc_rows_push(out, &row, NULL) != LF_OK) {
                lfc_row_free(&row);
                ok = false;
                break;
            }
        }
    }
    json_decref(j);
    if (!ok)
        lfc_rows_free(out);
    return ok;
}

/* Write atomically (temp file + rename), mode 0600. Failures only cost the cache. */
static void cache_store(const char *path, const json_t *files, const lfc_rows *rows)
{
    json_t *a = json_array();
    for (size_t i = 0; a && i < rows->n; i++)
        json_array_append_new(a, lfc_row_to_json(&rows->v[i]));
    json_t *j = json_pack("{s:i, s:O, s:o}", "v", 1, "files", files, "rows", a ? a : json_array());
    if (j == NULL)
        return;
    char dir[4096], tmp[4200];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash != NULL) {
        *slash = '\0';
        if (mkdirs(dir) != 0) {
            json_decref(j);
            return;
        }
    }
    snprintf(tmp, sizeof tmp, "%s.%ld.tmp", path, (long)getpid());
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd >= 0) {
        bool ok = json_dumpfd(j, fd, JSON_COMPACT) == 0;
        ok = close(fd) == 0 && ok;
        if (!ok || rename(tmp, path) != 0)
            unlink(tmp);
    }
    json_decref(j);
}

typedef struct deliver_state {
    const lfc_window *w;
    lfc_row_fn fn;
    void *ud;
    size_t *delivered;
} deliver_state;

/* Hand the cached rows of a segment [seg_lo, seg_hi] to the caller. */
static int deliver(deliver_state *d, lfc_rows *rows, int64_t seg_lo, int64_t seg_hi)
{
    const lfc_window *w = d->w;
    for (size_t k = 0; k < rows->n; k++) {
        lfc_row *r = &rows->v[w->newest_first ? rows->n - 1 - k : k];
        if (r->ts > w->to || r->ts_max < w->from)
            continue;
        int64_t anchor = r->ts > w->from ? r->ts : w->from;
        if (anchor < seg_lo || anchor > seg_hi)
            continue;
        int rc = d->fn(d->ud, r);
        (*d->delivered)++;
        if (rc != LFC_EXIT_OK)
            return rc == -1 ? -1 : rc;
        if (w->max_rows && *d->delivered >= w->max_rows)
            return -1;
    }
    return LFC_EXIT_OK;
}

static int collect(void *ud, lfc_row *row)
{
    return lfc_rows_push(ud, row, NULL) == LF_OK ? LFC_EXIT_OK : LFC_EXIT_ERROR;
}

static int closed_hour(lfc_ctx *c, deliver_state *d, const manifest *m, int64_t h)
{
    const lfc_window *w = d->w;
    int64_t lo = h * HOUR_NS, hi = lo + HOUR_NS - 1;
    int64_t seg_lo = lo > w->from ? lo : w->from, seg_hi = hi < w->to ? hi : w->to;
    json_t *files = files_of(m, lo, hi);
    if (files == NULL)
        return LFC_EXIT_ERROR;
    if (json_array_size(files) == 0) { /* nothing stored for this hour: no request */
        json_decref(files);
        return LFC_EXIT_OK;
    }
    char path[4096];
    lfc_rows rows = {0};
    int rc = LFC_EXIT_OK;
    bool have_path = cache_path(c, w, h, path, sizeof path) == 0;
    if (!have_path || !cache_load(path, files, &rows)) {
        lfc_window hw = *w;
        hw.newest_first = false;
        hw.max_rows = 0;
        rc = lfc_rows_query_range(c, &hw, lo, hi, lo, INT64_MIN, INT64_MAX, collect, &rows, NULL);
        if (rc == LFC_EXIT_OK && have_path)
            cache_store(path, files, &rows);
    }
    json_decref(files);
    if (rc == LFC_EXIT_OK)
        rc = deliver(d, &rows, seg_lo, seg_hi);
    lfc_rows_free(&rows);
    return rc;
}

int lfc_cache_fetch(lfc_ctx *c, const lfc_window *w, lfc_row_fn fn, void *ud, size_t *delivered)
{
    int64_t now = lf_time_now_ns();
    int64_t h0 = w->from / HOUR_NS, hn = w->to / HOUR_NS;
    if (w->from < 0 || w->to < 0)
        return lfc_rows_query_range(c, w, w->from, w->to, w->from, INT64_MIN, INT64_MAX, fn, ud,
                                    delivered);
    /* Last closed hour: ended (lo + HOUR) at or before now - settle. */
    int64_t hc = (now - LFC_CACHE_SETTLE_NS) / HOUR_NS - 1;
    if (hc > hn)
        hc = hn;
    if (hc < h0 || hc - h0 + 1 > MAX_CLOSED_HOURS)
        return lfc_rows_query_range(c, w, w->from, w->to, w->from, INT64_MIN, INT64_MAX, fn, ud,
                                    delivered);
    manifest m = {0};
    int64_t closed_lo = h0 * HOUR_NS, closed_hi = (hc + 1) * HOUR_NS - 1;
    if (list_files(c, w, closed_lo, closed_hi, &m) != LFC_EXIT_OK) {
        /* No manifest (e.g. the server refuses /v1/files to this token): no cache. */
        free(m.v);
        return lfc_rows_query_range(c, w, w->from, w->to, w->from, INT64_MIN, INT64_MAX, fn, ud,
                                    delivered);
    }
    deliver_state d = {w, fn, ud, delivered};
    int rc = LFC_EXIT_OK;
    int64_t open_lo = (hc + 1) * HOUR_NS;
    bool has_open = hc < hn;
    if (w->newest_first) {
        if (has_open)
            rc = lfc_rows_query_range(c, w, open_lo, w->to, w->from, open_lo, INT64_MAX, fn, ud,
                                      delivered);
        for (int64_t h = hc; rc == LFC_EXIT_OK && h >= h0; h--)
            rc = closed_hour(c, &d, &m, h);
    } else {
        for (int64_t h = h0; rc == LFC_EXIT_OK && h <= hc; h++)
            rc = closed_hour(c, &d, &m, h);
        if (rc == LFC_EXIT_OK && has_open)
            rc = lfc_rows_query_range(c, w, open_lo, w->to, w->from, open_lo, INT64_MAX, fn, ud,
                                      delivered);
    }
    free(m.v);
    return rc;
}

/*
 * rows.c — the server's stored rows: the row model (every column of the query answers decoded
 * and range-checked) and the fetch loop over GET /v1/query with cursor paging.
 *
 * A window is fetched either in one paged query or, when the cache is on, split into hour
 * segments (cache.c serves the closed hours it holds and stores the ones it fetches; open
 * hours are asked for as one range). Splitting must not repeat a row whose [ts, ts_max] spans
 * an hour boundary: a row belongs to the segment holding max(ts, from), the first point of it
 * inside the window, and each segment keeps only its own rows.
 */
#include <stdlib.h>
#include <string.h>

#include "rows.h"

static size_t g_query_requests;

size_t lfc_rows_requests(void)
{
    return g_query_requests;
}

static lf_err get_int(const json_t *j, const char *name, int64_t lo, int64_t hi, int64_t *out,
                      lf_error *err)
{
    json_t *v = json_object_get(j, name);
    if (!json_is_integer(v))
        return lf_error_set(err, LF_ERR_INVALID, "row: %s is not an integer", name);
    json_int_t x = json_integer_value(v);
    if (x < lo || x > hi)
        return lf_error_set(err, LF_ERR_INVALID, "row: %s out of range", name);
    *out = (int64_t)x;
    return LF_OK;
}

static lf_err get_str(const json_t *j, const char *name, char *out, size_t cap, bool may_be_empty,
                      lf_error *err)
{
    const char *s = json_string_value(json_object_get(j, name));
    if (s == NULL)
        return lf_error_set(err, LF_ERR_INVALID, "row: %s is not a string", name);
    size_t n = strlen(s);
    if (n >= cap || (n == 0 && !may_be_empty))
        return lf_error_set(err, LF_ERR_INVALID, "row: %s has a bad length", name);
    memcpy(out, s, n + 1);
    return LF_OK;
}

static lf_err get_b64(const json_t *j, const char *name, size_t max, lf_buf *out, lf_error *err)
{
    json_t *v = json_object_get(j, name);
    if (v == NULL || json_is_null(v))
        return LF_OK; /* absent = empty */
    const char *s = json_string_value(v);
    if (s == NULL)
        return lf_error_set(err, LF_ERR_INVALID, "row: %s is not a string", name);
    size_t n = strlen(s);
    if (n / 4 * 3 > max + 3)
        return lf_error_set(err, LF_ERR_TOO_LARGE, "row: %s too long", name);
    if (lf_base64_decode(s, n, out, false, err) != LF_OK)
        return lf_error_set(err, LF_ERR_INVALID, "row: %s is not base64", name);
    return LF_OK;
}

lf_err lfc_row_from_json(const json_t *j, lfc_row *out, lf_error *err)
{
    memset(out, 0, sizeof *out);
    if (!json_is_object(j))
        return lf_error_set(err, LF_ERR_INVALID, "row: not an object");
    int64_t v = 0;
    lf_err rc;
#define INT(field, lo, hi, dst)                                                                    \
    do {                                                                                           \
        if ((rc = get_int(j, field, lo, hi, &v, err)) != LF_OK)                                    \
            goto fail;                                                                             \
        dst = v;                                                                                   \
    } while (0)
    if ((rc = get_str(j, "tenant", out->tenant, sizeof out->tenant, false, err)) != LF_OK ||
        (rc = get_str(j, "app", out->app, sizeof out->app, false, err)) != LF_OK ||
        (rc = get_str(j, "key_id", out->key_id, sizeof out->key_id, false, err)) != LF_OK)
        goto fail;
    INT("format", 1, 2, out->format);
    INT("kind", 0, 255, out->kind);
    INT("entry_type", 0, 255, out->entry_type);
    INT("flags", 0, 255, out->flags);
    INT("sequence", 0, INT64_MAX, out->sequence);
    INT("ts", INT64_MIN, INT64_MAX, out->ts);
    INT("ts_max", INT64_MIN, INT64_MAX, out->ts_max);
    INT("count", 0, UINT32_MAX, out->count);
    if (json_object_get(j, "ingest_time") != NULL)
        INT("ingest_time", INT64_MIN, INT64_MAX, out->ingest_time);
    if (json_object_get(j, "spool_seq") != NULL)
        INT("spool_seq", INT64_MIN, INT64_MAX, out->spool_seq);
    if (json_object_get(j, "file_id") != NULL)
        INT("file_id", INT64_MIN, INT64_MAX, out->file_id);
    if (json_object_get(j, "row") != NULL)
        INT("row", INT64_MIN, INT64_MAX, out->row);
#undef INT
    if ((rc = get_b64(j, "nonce", 64, &out->nonce, err)) != LF_OK ||
        (rc = get_b64(j, "search_tokens", 64u * 1024u, &out->search_tokens, err)) != LF_OK ||
        (rc = get_b64(j, "ciphertext", LF_NATIVE_BLOCK_BODY_MAX, &out->ciphertext, err)) != LF_OK)
        goto fail;
    for (char *p = out->key_id; *p; p++)
        if (*p >= 'A' && *p <= 'Z')
            *p = (char)(*p - 'A' + 'a');
    return LF_OK;
fail:
    lfc_row_free(out);
    return rc;
}

static json_t *b64_json(const lf_buf *b)
{
    char *s = malloc(lf_base64_encoded_len(b->len, false) + 1);
    if (s == NULL)
        return NULL;
    size_t n = lf_base64_encode(b->data, b->len, s, false);
    s[n] = '\0';
    json_t *j = json_string(s);
    free(s);
    return j;
}

json_t *lfc_row_to_json(const lfc_row *r)
{
    json_t *j = json_object();
    if (j == NULL)
        return NULL;
    int bad = 0;
    bad |= json_object_set_new(j, "tenant", json_string(r->tenant));
    bad |= json_object_set_new(j, "app", json_string(r->app));
    bad |= json_object_set_new(j, "format", json_integer(r->format));
    bad |= json_object_set_new(j, "kind", json_integer(r->kind));
    bad |= json_object_set_new(j, "entry_type", json_integer(r->entry_type));
    bad |= json_object_set_new(j, "flags", json_integer(r->flags));
    bad |= json_object_set_new(j, "key_id", json_string(r->key_id));
    bad |= json_object_set_new(j, "sequence", json_integer((json_int_t)r->sequence));
    bad |= json_object_set_new(j, "ts", json_integer(r->ts));
    bad |= json_object_set_new(j, "ts_max", json_integer(r->ts_max));
    bad |= json_object_set_new(j, "count", json_integer(r->count));
    bad |= json_object_set_new(j, "nonce", b64_json(&r->nonce));
    bad |= json_object_set_new(j, "search_tokens", b64_json(&r->search_tokens));
    bad |= json_object_set_new(j, "ciphertext", b64_json(&r->ciphertext));
    bad |= json_object_set_new(j, "ingest_time", json_integer(r->ingest_time));
    bad |= json_object_set_new(j, "spool_seq", json_integer(r->spool_seq));
    bad |= json_object_set_new(j, "file_id", json_integer(r->file_id));
    bad |= json_object_set_new(j, "row", json_integer(r->row));
    if (bad) {
        json_decref(j);
        return NULL;
    }
    return j;
}

void lfc_row_free(lfc_row *r)
{
    if (r == NULL)
        return;
    lf_buf_free(&r->nonce);
    lf_buf_free(&r->search_tokens);
    lf_buf_free(&r->ciphertext);
    memset(r, 0, sizeof *r);
}

lf_err lfc_rows_push(lfc_rows *rows, lfc_row *r, lf_error *err)
{
    if (rows->n == rows->cap) {
        size_t cap = rows->cap ? rows->cap * 2 : 64;
        lfc_row *v = realloc(rows->v, cap * sizeof *v);
        if (v == NULL)
            return lf_error_set(err, LF_ERR_NOMEM, "rows: out of memory");
        rows->v = v;
        rows->cap = cap;
    }
    rows->v[rows->n++] = *r;
    memset(r, 0, sizeof *r);
    return LF_OK;
}

void lfc_rows_free(lfc_rows *rows)
{
    for (size_t i = 0; i < rows->n; i++)
        lfc_row_free(&rows->v[i]);
    free(rows->v);
    memset(rows, 0, sizeof *rows);
}

/* ---------------- one paged query ---------------- */

/* Rows of [from, to] (inclusive) from the server, in the window's order. Rows whose
 * max(ts, keep_from) lies outside [keep_lo, keep_hi] are dropped (segment ownership). */
int lfc_rows_query_range(lfc_ctx *c, const lfc_window *w, int64_t from, int64_t to,
                         int64_t keep_from, int64_t keep_lo, int64_t keep_hi, lfc_row_fn fn,
                         void *ud, size_t *delivered)
{
    char *cursor = NULL;
    int rc = LFC_EXIT_OK;
    for (;;) {
        lf_buf path = LF_BUF_INIT;
        lf_buf_printf(&path, "/v1/query?from=%lld&to=%lld&limit=%d&order=%s", (long long)from,
                      (long long)to, 5000, w->newest_first ? "desc" : "asc");
        if (w->app != NULL)
            lf_buf_printf(&path, "&app=%s", w->app);
        if (w->type > 0)
            lf_buf_printf(&path, "&type=%d", w->type);
        if (cursor != NULL)
            lf_buf_printf(&path, "&cursor=%s", cursor);
        if (lf_buf_terminate(&path) != LF_OK) {
            lf_buf_free(&path);
            free(cursor);
            return lfc_fail(LFC_EXIT_ERROR, "out of memory");
        }
        lfc_reply r = {0};
        g_query_requests++;
        rc = lfc_http_json(c, "GET", (const char *)path.data, NULL, &r);
        lf_buf_free(&path);
        free(cursor);
        cursor = NULL;
        if (rc == LFC_EXIT_OK)
            rc = lfc_expect(&r, 200);
        if (rc != LFC_EXIT_OK) {
            lfc_reply_free(&r);
            return rc;
        }
        json_t *data = json_object_get(r.json, "data");
        json_t *rows = json_object_get(data, "rows");
        json_t *next = json_object_get(data, "next_cursor");
        if (!json_is_array(rows)) {
            lfc_reply_free(&r);
            return lfc_fail(LFC_EXIT_SERVER, "/v1/query: malformed answer (no rows)");
        }
        size_t i;
        json_t *jr;
        json_array_foreach(rows, i, jr)
        {
            lfc_row row;
            lf_error err = {0};
            if (lfc_row_from_json(jr, &row, &err) != LF_OK) {
                lfc_reply_free(&r);
                return lfc_fail(LFC_EXIT_SERVER, "/v1/query: %s", err.message);
            }
            int64_t anchor = row.ts > keep_from ? row.ts : keep_from;
            if (anchor < keep_lo || anchor > keep_hi) {
                lfc_row_free(&row);
                continue;
            }
            rc = fn(ud, &row);
            lfc_row_free(&row);
            if (delivered != NULL)
                (*delivered)++;
            if (rc != LFC_EXIT_OK || (w->max_rows && delivered && *delivered >= w->max_rows)) {
                lfc_reply_free(&r);
                return rc == -1 || rc == LFC_EXIT_OK ? -1 : rc;
            }
        }
        const char *nc = json_string_value(next);
        if (nc != NULL && *nc != '\0') {
            cursor = strdup(nc);
            if (cursor == NULL) {
                lfc_reply_free(&r);
                return lfc_fail(LFC_EXIT_ERROR, "out of memory");
            }
        }
        lfc_reply_free(&r);
        if (cursor == NULL)
            return LFC_EXIT_OK;
    }
}

int lfc_rows_fetch(lfc_ctx *c, const lfc_window *w, lfc_row_fn fn, void *ud)
{
    if (w->from > w->to)
        return LFC_EXIT_OK;
    size_t delivered = 0;
    int rc;
    if (w->use_cache && lfc_cache_enabled())
        rc = lfc_cache_fetch(c, w, fn, ud, &delivered);
    else
        rc = lfc_rows_query_range(c, w, w->from, w->to, w->from, INT64_MIN, INT64_MAX, fn, ud,
                                  &delivered);
    return rc == -1 ? LFC_EXIT_OK : rc;
}

static int collect(void *ud, lfc_row *row)
{
    lf_error err = {0};
    if (lfc_rows_push(ud, row, &err) != LF_OK)
        return lfc_fail(LFC_EXIT_ERROR, "%s", err.message);
    return LFC_EXIT_OK;
}

int lfc_rows_fetch_all(lfc_ctx *c, const lfc_window *w, lfc_rows *out)
{
    return lfc_rows_fetch(c, w, collect, out);
}

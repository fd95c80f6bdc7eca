/*
 * query.c — GET /v1/query, and the helpers every read handler shares (read.h).
 *
 * How a query runs: the manifest gives the tenant's files whose [ts_min, ts_max] overlaps
 * [from, to] (for one app or all), in file order (earliest timestamp, then id; reversed for
 * order=desc). Each file is fetched from the object store and opened with our reader; a row
 * group whose statistics (min ts, max ts_max) cannot overlap the range is skipped without
 * being decoded; the rows of the others are filtered by time overlap, entry type and search
 * token. Files are sorted by ts inside, so rows come out in ts order within a file; rows of
 * files whose time ranges overlap are not interleaved (docs/API.md says so).
 *
 * Paging: the cursor is the position of the next row to examine — (file ts_min, file id, row
 * index in the file) — so it stays valid however long the client waits (files never change;
 * one removed by retention is simply passed). Work per request is bounded: at most
 * SCAN_FILES files and about RESPONSE_BYTES of row data; when a bound is hit the answer
 * carries what was found and a cursor to continue from.
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "api/read.h"
#include "logflux/timefmt.h"
#include "store/store.h"
#include "worker/schema.h"

#define QUERY_LIMIT_DEFAULT 1000
#define QUERY_LIMIT_MAX     10000
#define SCAN_FILES          512
#define RESPONSE_BYTES      ((size_t)24 << 20)
#define MANIFEST_PAGE       100
#define CURSOR_TAG_QUERY    'Q'

#define BAD(msg)                                                                                   \
    do {                                                                                           \
        lfd_respond_error(r, 400, "bad_request", msg, 0);                                          \
        return;                                                                                    \
    } while (0)

/* ---------------- shared helpers ---------------- */

bool lfd_read_parse_time(const char *s, int64_t *out)
{
    if (s == NULL || *s == '\0')
        return false;
    const char *p = s;
    if (*p == '-')
        p++;
    bool digits = *p != '\0';
    for (const char *q = p; *q; q++)
        if (!isdigit((unsigned char)*q))
            digits = false;
    if (digits) {
        if (strlen(p) > 19)
            return false;
        errno = 0;
        long long v = strtoll(s, NULL, 10);
        if (errno != 0)
            return false;
        *out = (int64_t)v;
        return true;
    }
    return lf_rfc3339_parse(s, strlen(s), out, NULL) == LF_OK;
}

bool lfd_read_parse_limit(const char *s, long def, long max, long *out)
{
    if (s == NULL) {
        *out = def;
        return true;
    }
    if (*s == '\0' || strlen(s) > 9)
        return false;
    for (const char *q = s; *q; q++)
        if (!isdigit((unsigned char)*q))
            return false;
    long v = strtol(s, NULL, 10);
    if (v < 1 || v > max)
        return false;
    *out = v;
    return true;
}

char *lfd_read_cursor_encode(uint8_t tag, const int64_t *v, size_t n)
{
    uint8_t raw[1 + 4 * 8];
    if (n > 4)
        return NULL;
    raw[0] = tag;
    for (size_t i = 0; i < n; i++)
        lf_store_be64(raw + 1 + 8 * i, (uint64_t)v[i]);
    size_t len = 1 + 8 * n;
    char *s = malloc(lf_base64_encoded_len(len, true) + 1);
    if (s != NULL)
        lf_base64_encode(raw, len, s, true);
    return s;
}

bool lfd_read_cursor_decode(const char *s, uint8_t tag, int64_t *v, size_t n)
{
    if (s == NULL || n > 4 || strlen(s) > 64)
        return false;
    lf_buf b = LF_BUF_INIT;
    bool ok = lf_base64_decode(s, strlen(s), &b, true, NULL) == LF_OK && b.len == 1 + 8 * n &&
              b.data[0] == tag;
    for (size_t i = 0; ok && i < n; i++) {
        uint64_t x = 0;
        for (size_t k = 0; k < 8; k++)
            x = (x << 8) | b.data[1 + 8 * i + k];
        v[i] = (int64_t)x;
    }
    lf_buf_free(&b);
    return ok;
}

bool lfd_read_list_args(lfd_request *r, uint8_t tag, long def, size_t *limit,
                        lf_meta_cursor *cursor)
{
    long l;
    if (!lfd_read_parse_limit(lfd_req_query(r, "limit"), def, LF_META_LIST_MAX, &l)) {
        lfd_respond_error(r, 400, "bad_request", "limit: 1..1000", 0);
        return false;
    }
    *limit = (size_t)l;
    *cursor = LF_META_CURSOR_START;
    const char *s = lfd_req_query(r, "cursor");
    if (s != NULL) {
        int64_t v[2];
        if (!lfd_read_cursor_decode(s, tag, v, 2) || v[1] <= 0) {
            lfd_respond_error(r, 400, "bad_request", "cursor: not one of this list's", 0);
            return false;
        }
        *cursor = (lf_meta_cursor){v[0], v[1]};
    }
    return true;
}

json_t *lfd_read_list_cursor(uint8_t tag, lf_meta_cursor next)
{
    if (next.id == 0)
        return json_null();
    int64_t v[2] = {next.key, next.id};
    char *c = lfd_read_cursor_encode(tag, v, 2);
    json_t *j = c ? json_string(c) : json_null();
    free(c);
    return j;
}

static bool app_param_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > LF_META_APP_MAX || strcmp(s, ".") == 0 || strcmp(s, "..") == 0)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!(isalnum((unsigned char)c) || c == '.' || c == '_' || c == '-'))
            return false;
    }
    return true;
}

bool lfd_read_begin(lfd_app *app, lfd_request *r, lfd_principal *who, const char **app_filter)
{
    if (!lfd_authenticate(app, r, LF_CREDENTIAL_PAT, LF_SCOPE_READ, who))
        return false;
    const char *a = lfd_req_query(r, "app");
    if (a != NULL && !app_param_ok(a)) {
        lfd_respond_error(r, 400, "bad_request", "app: 1..128 of [A-Za-z0-9._-]", 0);
        return false;
    }
    if (who->app[0] != '\0') {
        if (a != NULL && strcmp(a, who->app) != 0) {
            lfd_respond_error(r, 403, "forbidden", "this token is bound to another app", 0);
            return false;
        }
        a = who->app;
    }
    *app_filter = a;
    return true;
}

/* ---------------- the query ---------------- */

typedef struct query {
    int64_t from, to;
    int entry_type; /* 0 = any */
    const char *token;
    bool desc;
    long limit;
    /* results */
    json_t *rows;
    long count;
    size_t bytes;
    bool stop;        /* limit or byte budget reached */
    int64_t next_row; /* position to resume at, in the file being scanned when stop is set */
} query;

static bool row_matches(const query *q, const lfd_stored_row *row)
{
    if (row->ts > q->to || row->ts_max < q->from)
        return false;
    if (q->entry_type && row->entry_type != q->entry_type)
        return false;
    if (q->token && !lfd_schema_token_match(row, q->token))
        return false;
    return true;
}

/* Scan one file from row position `start` (in the direction of the query; INT64_MIN = from the
 * first row in query order). */
static lf_err scan_file(lfd_app *app, query *q, const lf_meta_file *f, int64_t start, lf_error *err)
{
    lf_buf data = LF_BUF_INIT;
    lf_err rc = app->store->ops->get(app->store, f->path, &data, err);
    if (rc == LF_ERR_NOT_FOUND) { /* removed by retention since the manifest was read */
        lf_buf_free(&data);
        return LF_OK;
    }
    lf_pq_reader *rd = NULL;
    if (rc == LF_OK)
        rc = lfd_schema_open(data.data, data.len, &rd, err);
    if (rc != LF_OK) {
        lf_buf_free(&data);
        return rc;
    }
    size_t nrg = lf_pq_reader_num_row_groups(rd);
    int64_t total = lf_pq_reader_num_rows(rd);
    /* Row-group starts (global row index of each group's first row). */
    int64_t *first = calloc(nrg + 1, sizeof *first);
    if (first == NULL) {
        lf_pq_reader_close(rd);
        lf_buf_free(&data);
        return lf_error_set(err, LF_ERR_NOMEM, "query: no memory");
    }
    for (size_t g = 0; g < nrg; g++)
        first[g + 1] = first[g] + lf_pq_reader_row_group_num_rows(rd, g);
    if (start == INT64_MIN)
        start = q->desc ? total - 1 : 0; /* from the file's first row in query order */
    else if (start < 0 || start >= total)
        start = q->desc ? -1 : total; /* a cursor past the end: nothing left here */
    for (size_t k = 0; k < nrg && rc == LF_OK && !q->stop; k++) {
        size_t g = q->desc ? nrg - 1 - k : k;
        int64_t lo = first[g], hi = first[g + 1] - 1;
        if (q->desc ? lo > start : hi < start)
            continue; /* before the cursor */
        int64_t mn, mx;
        if (lfd_schema_rg_bounds(rd, g, &mn, &mx) && (mn > q->to || mx < q->from))
            continue; /* statistics prune this row group */
        lfd_schema_rg rg;
        if ((rc = lfd_schema_rg_read(rd, g, &rg, err)) != LF_OK)
            break;
        int64_t a = q->desc ? (start < hi ? start : hi) : (start > lo ? start : lo);
        for (int64_t i = a; q->desc ? i >= lo : i <= hi; i += q->desc ? -1 : 1) {
            if (q->count >= q->limit || q->bytes >= RESPONSE_BYTES) {
                q->stop = true;
                q->next_row = i;
                break;
            }
            lfd_stored_row row;
            lfd_schema_row(&rg, (size_t)(i - lo), &row);
            if (!row_matches(q, &row))
                continue;
            json_t *j = lfd_schema_row_json(&row, f->id, (uint64_t)i);
            if (j == NULL || json_array_append_new(q->rows, j) != 0) {
                rc = lf_error_set(err, LF_ERR_NOMEM, "query: no memory");
                break;
            }
            q->count++;
            q->bytes += row.ciphertext_len * 4 / 3 + row.tokens_len * 4 / 3 + 512;
        }
        lfd_schema_rg_free(&rg);
    }
    /* The limit was reached exactly at the end of this file: continue after it. */
    if (rc == LF_OK && !q->stop && (q->count >= q->limit || q->bytes >= RESPONSE_BYTES)) {
        q->stop = true;
        q->next_row = q->desc ? -1 : total;
    }
    free(first);
    lf_pq_reader_close(rd);
    lf_buf_free(&data);
    return rc;
}

/* The manifest cursor that makes (ts_min, id) the first file returned. */
static lf_meta_cursor inclusive_cursor(bool desc, int64_t ts_min, int64_t id)
{
    if (desc)
        return (lf_meta_cursor){ts_min, id + 1};
    if (id > 1)
        return (lf_meta_cursor){ts_min, id - 1};
    if (ts_min > INT64_MIN)
        return (lf_meta_cursor){ts_min - 1, INT64_MAX};
    return LF_META_CURSOR_START;
}

void lfd_handle_query(lfd_request *r, void *ctx)
{
    lfd_app *app = ctx;
    lfd_principal who;
    const char *app_filter = NULL;
    if (!lfd_read_begin(app, r, &who, &app_filter))
        return;
    query q = {.from = INT64_MIN, .to = INT64_MAX, .desc = true};
    const char *s;
    if ((s = lfd_req_query(r, "from")) && !lfd_read_parse_time(s, &q.from))
        BAD("from: RFC 3339 or Unix nanoseconds");
    if ((s = lfd_req_query(r, "to")) && !lfd_read_parse_time(s, &q.to))
        BAD("to: RFC 3339 or Unix nanoseconds");
    if (q.from > q.to)
        BAD("from is after to");
    if ((s = lfd_req_query(r, "type"))) {
        if (strlen(s) != 1 || s[0] < '1' || s[0] > '7')
            BAD("type: an entry type 1..7");
        q.entry_type = s[0] - '0';
    }
    if ((s = lfd_req_query(r, "token"))) {
        if (*s == '\0' || strlen(s) > 256)
            BAD("token: 1..256 characters");
        q.token = s;
    }
    if ((s = lfd_req_query(r, "order"))) {
        if (strcmp(s, "asc") == 0)
            q.desc = false;
        else if (strcmp(s, "desc") != 0)
            BAD("order: asc or desc");
    }
    if (!lfd_read_parse_limit(lfd_req_query(r, "limit"), QUERY_LIMIT_DEFAULT, QUERY_LIMIT_MAX,
                              &q.limit))
        BAD("limit: 1..10000");
    lf_meta_cursor mc = LF_META_CURSOR_START;
    int64_t cur_file = 0, cur_row = INT64_MIN;
    if ((s = lfd_req_query(r, "cursor"))) {
        int64_t v[4];
        if (!lfd_read_cursor_decode(s, CURSOR_TAG_QUERY, v, 4) || v[0] != (q.desc ? 1 : 0) ||
            v[2] <= 0)
            BAD("cursor: not one of this query's");
        mc = inclusive_cursor(q.desc, v[1], v[2]);
        cur_file = v[2];
        cur_row = v[3];
    }
    q.rows = json_array();
    lf_meta_file_query mq = {.app = app_filter,
                             .ts_from = q.from,
                             .ts_to = q.to,
                             .order = q.desc ? LF_META_DESC : LF_META_ASC};
    lf_error err = {0};
    lf_err rc = LF_OK;
    size_t scanned = 0;
    bool more = false;
    int64_t next[4] = {q.desc ? 1 : 0, 0, 0, INT64_MIN};
    while (rc == LF_OK && !q.stop) {
        lf_meta_file *files = NULL;
        size_t nf = 0;
        lf_meta_cursor nc;
        rc = lf_meta_manifest_query(app->meta, who.tenant.id, &mq, MANIFEST_PAGE, mc, &files, &nf,
                                    &nc, &err);
        if (rc != LF_OK)
            break;
        for (size_t i = 0; i < nf && rc == LF_OK; i++) {
            if (scanned == SCAN_FILES) {
                /* Work bound: stop before this file. */
                q.stop = true;
                next[1] = files[i].ts_min;
                next[2] = files[i].id;
                next[3] = INT64_MIN;
                more = true;
                break;
            }
            scanned++;
            int64_t start = files[i].id == cur_file ? cur_row : INT64_MIN;
            rc = scan_file(app, &q, &files[i], start, &err);
            if (rc == LF_OK && q.stop) {
                next[1] = files[i].ts_min;
                next[2] = files[i].id;
                next[3] = q.next_row;
                more = true;
                break;
            }
        }
        free(files);
        if (nc.id == 0)
            break;
        mc = nc;
    }
    if (rc != LF_OK) {
        json_decref(q.rows);
        lfd_respond_lf_err(r, rc, &err);
        return;
    }
    json_t *detail =
        json_pack("{s:I, s:I, s:i, s:b, s:I}", "from", (json_int_t)q.from, "to", (json_int_t)q.to,
                  "type", q.entry_type, "token", q.token != NULL, "rows", (json_int_t)q.count);
    lfd_audit(app, r, &who, "query", app_filter ? app_filter : "", detail);
    json_t *data = json_object();
    json_object_set_new(data, "rows", q.rows);
    char *c = more ? lfd_read_cursor_encode(CURSOR_TAG_QUERY, next, 4) : NULL;
    json_object_set_new(data, "next_cursor", c ? json_string(c) : json_null());
    free(c);
    lfd_respond_success(r, 200, "ok", data);
}

/*
 * tail.c — GET /v1/tail?app=&type=&since=&cursor=&wait=&limit=: the live tail as a long poll.
 *
 * The worker announces every committed file (lfd_worker_tail_wait). A request without a cursor
 * starts after the last file flushed at or before `since` (default: now); with a cursor it
 * continues exactly where the previous answer stopped. If no matching row is there yet, the
 * handler waits up to `wait` seconds (0..30, default 0) for the next announcement and answers
 * as soon as rows exist. At most a bounded number of waits run at once (half the HTTP threads),
 * so tails can never starve ingest; extra pollers get an immediate answer. The worker's stop
 * (or lfd_worker_tail_shutdown) wakes every waiter, so a server stop is never held up by a tail.
 *
 * With stream=1 the same tail is one never-ending NDJSON answer instead: rows as they are
 * flushed, a {"cursor":…} line after each batch (reconnect with it to resume exactly), and a
 * {"heartbeat":…} line after 10 quiet seconds. The connection is parked between batches
 * (libmicrohttpd suspend/resume, polled every 250 ms by the HTTP layer), so a stream holds no
 * thread; at most 256 run at once, and a server drain ends them.
 */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "api/read.h"
#include "logflux/timefmt.h"
#include "store/store.h"
#include "worker/schema.h"
#include "worker/worker.h"

#define TAIL_LIMIT_DEFAULT 1000
#define TAIL_LIMIT_MAX     10000
#define TAIL_WAIT_MAX_S    30
#define TAIL_BYTES         ((size_t)16 << 20)
#define TAIL_FILES         64
#define CURSOR_TAG_TAIL    'T'

static atomic_int waiting;

typedef struct tail {
    const char *app;
    int entry_type;
    long limit;
    json_t *rows;
    long count;
    size_t bytes;
} tail;

/* Emit the rows of file t from row `start`; returns the row to resume at, or -1 when the file
 * was emitted to its end. */
static int64_t emit_file(lfd_app *app, tail *q, const lfd_tail_file *t, int64_t start,
                         lf_error *err, lf_err *rc)
{
    lf_buf data = LF_BUF_INIT;
    *rc = app->store->ops->get(app->store, t->path, &data, err);
    if (*rc == LF_ERR_NOT_FOUND) {
        *rc = LF_OK;
        lf_buf_free(&data);
        return -1;
    }
    lf_pq_reader *rd = NULL;
    if (*rc == LF_OK)
        *rc = lfd_schema_open(data.data, data.len, &rd, err);
    int64_t resume = -1, base = 0;
    size_t nrg = *rc == LF_OK ? lf_pq_reader_num_row_groups(rd) : 0;
    for (size_t g = 0; g < nrg && *rc == LF_OK && resume < 0; g++) {
        int64_t n = lf_pq_reader_row_group_num_rows(rd, g);
        if (base + n <= start) {
            base += n;
            continue;
        }
        lfd_schema_rg rg;
        if ((*rc = lfd_schema_rg_read(rd, g, &rg, err)) != LF_OK)
            break;
        for (int64_t i = base > start ? base : start; i < base + n; i++) {
            if (q->count >= q->limit || q->bytes >= TAIL_BYTES) {
                resume = i;
                break;
            }
            lfd_stored_row row;
            lfd_schema_row(&rg, (size_t)(i - base), &row);
            if (q->entry_type && row.entry_type != q->entry_type)
                continue;
            json_t *j = lfd_schema_row_json(&row, t->file_id, (uint64_t)i);
            if (j == NULL || json_array_append_new(q->rows, j) != 0) {
                *rc = lf_error_set(err, LF_ERR_NOMEM, "tail: no memory");
                break;
            }
            q->count++;
            q->bytes += row.ciphertext_len * 4 / 3 + row.tokens_len * 4 / 3 + 512;
        }
        lfd_schema_rg_free(&rg);
        base += n;
    }
    lf_pq_reader_close(rd);
    lf_buf_free(&data);
    return resume;
}

/* Where a tail stands: after announcement `after`, and inside announcement `part` from row
 * `prow`; `gap` once announcements were lost to the ring's bound. */
typedef struct tail_pos {
    uint64_t after, part;
    int64_t prow;
    bool gap;
} tail_pos;

/* One round: the announcements after pos (waiting up to wait_ms for one), their rows into q.
 * *n_files: announcements seen; *full: q filled up inside a file (pos points into it). */
static lf_err collect_once(lfd_app *app, int64_t tenant, tail *q, tail_pos *pos,
                           lfd_tail_file *files, int wait_ms, size_t *n_files, bool *full,
                           lf_error *err)
{
    uint64_t last = pos->after;
    bool g = false;
    size_t n = lfd_worker_tail_wait(app->worker, tenant, pos->after, wait_ms, files, TAIL_FILES,
                                    &last, &g);
    pos->gap |= g;
    *n_files = n;
    *full = false;
    lf_err rc = LF_OK;
    for (size_t i = 0; i < n && rc == LF_OK; i++) {
        if (q->app && strcmp(files[i].app, q->app) != 0) {
            pos->after = files[i].seq;
            continue;
        }
        int64_t start = files[i].seq == pos->part ? pos->prow : 0;
        int64_t resume = emit_file(app, q, &files[i], start, err, &rc);
        if (rc != LF_OK)
            break;
        if (resume >= 0) { /* full inside this file */
            pos->part = files[i].seq;
            pos->prow = resume;
            *full = true;
            return LF_OK;
        }
        pos->after = files[i].seq;
        pos->part = 0;
        pos->prow = 0;
    }
    /* Every file of ours up to `last` was handed over: skip the others' announcements. */
    if (rc == LF_OK && n < TAIL_FILES && last > pos->after)
        pos->after = last;
    return rc;
}

static char *pos_cursor(const tail_pos *p)
{
    int64_t v[3] = {(int64_t)p->after, (int64_t)p->part, p->prow};
    return lfd_read_cursor_encode(CURSOR_TAG_TAIL, v, 3);
}

/* ---------------- streamed tail (stream=1): NDJSON ---------------- */

#define STREAMS_MAX       256
#define HEARTBEAT_NS      (10LL * LF_NS_PER_SEC)
#define STREAM_BATCH_ROWS 1000

static atomic_int streams;

typedef struct tail_stream {
    lfd_app *app;
    lfd_request *req;
    int64_t tenant;
    char app_filter[LF_META_APP_MAX + 1];
    int entry_type;
    tail_pos pos;
    lfd_tail_file files[TAIL_FILES];
    lf_buf out;
    size_t off;
    int64_t last_write;
    bool ending;
} tail_stream;

static void stream_line(tail_stream *ts, json_t *j)
{
    char *text = json_dumps(j, JSON_COMPACT);
    json_decref(j);
    if (text != NULL) {
        lf_buf_append_str(&ts->out, text);
        lf_buf_append_u8(&ts->out, '\n');
        free(text);
    }
}

/* Fill ts->out with what is new: rows (one JSON object a line) then a cursor line; or a
 * heartbeat when quiet for a while. */
static void stream_fill(tail_stream *ts)
{
    tail q = {.app = ts->app_filter[0] ? ts->app_filter : NULL,
              .entry_type = ts->entry_type,
              .limit = STREAM_BATCH_ROWS,
              .rows = json_array()};
    size_t n = 0;
    bool full = false;
    lf_error err = {0};
    lf_err rc = collect_once(ts->app, ts->tenant, &q, &ts->pos, ts->files, 0, &n, &full, &err);
    int64_t now = lf_time_now_ns();
    if (rc != LF_OK) {
        stream_line(ts, json_pack("{s:s}", "error", "tail interrupted; reconnect with the cursor"));
        ts->ending = true;
    }
    size_t i;
    json_t *row;
    json_array_foreach(q.rows, i, row) stream_line(ts, json_incref(row));
    json_decref(q.rows);
    if (q.count > 0 || (rc == LF_OK && now - ts->last_write >= HEARTBEAT_NS)) {
        char *c = pos_cursor(&ts->pos);
        char stamp[LF_RFC3339_MAX];
        lf_rfc3339_format(now, stamp);
        stream_line(ts, q.count > 0
                            ? json_pack("{s:s, s:b}", "cursor", c ? c : "", "gap", ts->pos.gap)
                            : json_pack("{s:s, s:s}", "heartbeat", stamp, "cursor", c ? c : ""));
        free(c);
    }
}

static ssize_t stream_next(void *cls, char *buf, size_t max)
{
    tail_stream *ts = cls;
    if (ts->off >= ts->out.len) {
        lf_buf_reset(&ts->out);
        ts->off = 0;
        if (ts->ending || lfd_stream_stopping(ts->req) || lfd_worker_tail_stopping(ts->app->worker))
            return -1;
        stream_fill(ts);
        if (ts->out.len == 0)
            return 0; /* nothing new: parked until the next poll */
        ts->last_write = lf_time_now_ns();
    }
    size_t n = ts->out.len - ts->off < max ? ts->out.len - ts->off : max;
    memcpy(buf, ts->out.data + ts->off, n);
    ts->off += n;
    return (ssize_t)n;
}

static void stream_done(void *cls)
{
    tail_stream *ts = cls;
    lf_buf_free(&ts->out);
    free(ts);
    atomic_fetch_sub(&streams, 1);
}

static void start_stream(lfd_app *app, lfd_request *r, const lfd_principal *who,
                         const char *app_filter, int entry_type, const tail_pos *pos)
{
    if (atomic_fetch_add(&streams, 1) >= STREAMS_MAX) {
        atomic_fetch_sub(&streams, 1);
        lfd_respond_error(r, 503, "overloaded", "too many live tails; retry or use long polls", 5);
        return;
    }
    tail_stream *ts = calloc(1, sizeof *ts);
    if (ts == NULL) {
        atomic_fetch_sub(&streams, 1);
        lfd_respond_error(r, 503, "overloaded", "out of memory", 1);
        return;
    }
    ts->app = app;
    ts->req = r;
    ts->tenant = who->tenant.id;
    snprintf(ts->app_filter, sizeof ts->app_filter, "%s", app_filter ? app_filter : "");
    ts->entry_type = entry_type;
    ts->pos = *pos;
    ts->last_write = 0; /* a first heartbeat at once tells the client it is connected */
    lfd_audit(app, r, who, "tail", app_filter ? app_filter : "", json_pack("{s:b}", "stream", 1));
    lfd_respond_stream(r, 200, "application/x-ndjson", stream_next, ts, stream_done);
}

void lfd_handle_tail(lfd_request *r, void *ctx)
{
    lfd_app *app = ctx;
    lfd_principal who;
    const char *app_filter = NULL;
    if (!lfd_read_begin(app, r, &who, &app_filter))
        return;
    if (app->worker == NULL) {
        lfd_respond_error(r, 503, "unavailable", "the worker is not running here", 5);
        return;
    }
    tail q = {.app = app_filter};
    const char *s;
    if ((s = lfd_req_query(r, "type"))) {
        if (strlen(s) != 1 || s[0] < '1' || s[0] > '7') {
            lfd_respond_error(r, 400, "bad_request", "type: an entry type 1..7", 0);
            return;
        }
        q.entry_type = s[0] - '0';
    }
    long wait_s = 0;
    if ((s = lfd_req_query(r, "wait")) && strcmp(s, "0") != 0 &&
        !lfd_read_parse_limit(s, 0, TAIL_WAIT_MAX_S, &wait_s)) {
        lfd_respond_error(r, 400, "bad_request", "wait: 0..30 seconds", 0);
        return;
    }
    if (!lfd_read_parse_limit(lfd_req_query(r, "limit"), TAIL_LIMIT_DEFAULT, TAIL_LIMIT_MAX,
                              &q.limit)) {
        lfd_respond_error(r, 400, "bad_request", "limit: 1..10000", 0);
        return;
    }
    int64_t v[3] = {0, 0, 0};
    if ((s = lfd_req_query(r, "cursor"))) {
        if (!lfd_read_cursor_decode(s, CURSOR_TAG_TAIL, v, 3) || v[0] < 0 || v[1] < 0 || v[2] < 0) {
            lfd_respond_error(r, 400, "bad_request", "cursor: not one of this tail's", 0);
            return;
        }
    } else {
        int64_t since = lf_time_now_ns();
        if ((s = lfd_req_query(r, "since")) && !lfd_read_parse_time(s, &since)) {
            lfd_respond_error(r, 400, "bad_request", "since: RFC 3339 or Unix nanoseconds", 0);
            return;
        }
        v[0] = (int64_t)lfd_worker_tail_seq_at(app->worker, since);
    }
    tail_pos pos = {(uint64_t)v[0], (uint64_t)v[1], v[2], false};
    if ((s = lfd_req_query(r, "stream")) && strcmp(s, "1") == 0) {
        start_stream(app, r, &who, app_filter, q.entry_type, &pos);
        return;
    }

    int cap = app->cfg && app->cfg->http_threads > 1 ? (int)(app->cfg->http_threads / 2) : 1;
    bool may_wait = wait_s > 0;
    if (may_wait && atomic_fetch_add(&waiting, 1) >= cap) {
        atomic_fetch_sub(&waiting, 1);
        may_wait = false;
    }
    int64_t deadline = lf_time_now_ns() + (int64_t)wait_s * LF_NS_PER_SEC;
    q.rows = json_array();
    lfd_tail_file *files = calloc(TAIL_FILES, sizeof *files);
    lf_error err = {0};
    lf_err rc = files ? LF_OK : lf_error_set(&err, LF_ERR_NOMEM, "tail: no memory");
    while (rc == LF_OK) {
        int64_t left_ms = may_wait ? (deadline - lf_time_now_ns()) / 1000000 : 0;
        size_t n = 0;
        bool full = false;
        rc = collect_once(app, who.tenant.id, &q, &pos, files, left_ms > 0 ? (int)left_ms : 0, &n,
                          &full, &err);
        if (rc != LF_OK || full || q.count > 0)
            break;
        if (n == 0 &&
            (!may_wait || lf_time_now_ns() >= deadline || lfd_worker_tail_stopping(app->worker)))
            break;
    }
    if (wait_s > 0 && may_wait)
        atomic_fetch_sub(&waiting, 1);
    free(files);
    if (rc != LF_OK) {
        json_decref(q.rows);
        lfd_respond_lf_err(r, rc, &err);
        return;
    }
    char *c = pos_cursor(&pos);
    json_t *data = json_object();
    json_object_set_new(data, "rows", q.rows);
    json_object_set_new(data, "cursor", c ? json_string(c) : json_null());
    json_object_set_new(data, "gap", json_boolean(pos.gap));
    free(c);
    lfd_audit(app, r, &who, "tail", app_filter ? app_filter : "",
              json_pack("{s:I}", "rows", (json_int_t)q.count));
    lfd_respond_success(r, 200, "ok", data);
}

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
 * Why not a stream: the HTTP layer runs handlers on a small libmicrohttpd thread pool without
 * suspend/resume, where a never-ending response would pin a pool thread per subscriber. The long
 * poll gives the same data, bounded per connection (limit rows and a byte budget per answer).
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
    /* Position: after announcement `after`, and inside announcement `part` from row `prow`. */
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
    uint64_t after = (uint64_t)v[0];
    uint64_t part = (uint64_t)v[1];
    int64_t prow = v[2];

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
    bool gap = false, stopped = false;
    while (rc == LF_OK && !stopped) {
        int64_t left_ms = may_wait ? (deadline - lf_time_now_ns()) / 1000000 : 0;
        uint64_t last = after;
        bool g = false;
        size_t n =
            lfd_worker_tail_wait(app->worker, who.tenant.id, after, left_ms > 0 ? (int)left_ms : 0,
                                 files, TAIL_FILES, &last, &g);
        gap |= g;
        for (size_t i = 0; i < n && rc == LF_OK; i++) {
            if (q.app && strcmp(files[i].app, q.app) != 0) {
                after = files[i].seq;
                continue;
            }
            int64_t start = files[i].seq == part ? prow : 0;
            int64_t resume = emit_file(app, &q, &files[i], start, &err, &rc);
            if (rc != LF_OK)
                break;
            if (resume >= 0) { /* answer is full inside this file */
                part = files[i].seq;
                prow = resume;
                stopped = true;
                break;
            }
            after = files[i].seq;
            part = 0;
            prow = 0;
        }
        /* Every file of ours up to `last` was handed over: skip the others' announcements. */
        if (rc == LF_OK && !stopped && n < TAIL_FILES && last > after)
            after = last;
        if (rc != LF_OK || stopped || q.count > 0)
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
    int64_t nv[3] = {(int64_t)after, (int64_t)part, prow};
    char *c = lfd_read_cursor_encode(CURSOR_TAG_TAIL, nv, 3);
    json_t *data = json_object();
    json_object_set_new(data, "rows", q.rows);
    json_object_set_new(data, "cursor", c ? json_string(c) : json_null());
    json_object_set_new(data, "gap", json_boolean(gap));
    free(c);
    lfd_audit(app, r, &who, "tail", app_filter ? app_filter : "",
              json_pack("{s:I}", "rows", (json_int_t)q.count));
    lfd_respond_success(r, 200, "ok", data);
}

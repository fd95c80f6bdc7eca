/*
 * ship.c — the shipper thread: take the oldest items from the disk buffer, send each until the
 * server gives a final answer, ack.
 *
 * Order: items go out strictly one after the other, oldest first; an item that keeps failing
 * holds back the ones behind it (they wait safely in the buffer, whose own bound then pauses
 * the inputs). That is the point: a later item is never acked past an earlier one, so the
 * buffer's one-number checkpoint stays true.
 *
 * Acks are batched: accepted items are acked when the peeked batch is done, before any backoff
 * sleep and at stop, so a long outage never holds acknowledged-by-server items in the buffer
 * and the common case costs one checkpoint fsync per batch, not per item. A crash between the
 * server's answer and our ack re-sends those items; their idempotency keys make that a no-op.
 *
 * Copies and drop_oldest: the batch is a set of copies, and the buffer may drop the segments
 * they came from while we retry. Each copy is claimed with lf_agent_buffer_send_begin before
 * its first attempt (a copy already dropped, and so counted, is skipped: never sent) and
 * released with send_end once it is settled (SENT: accepted or dead-lettered) or given up at
 * stop (ABANDONED). The buffer counts the claimed item as dropped only in that last case, so
 * every record is stored or counted as dropped, never both (docs/AGENT-BUFFER.md).
 *
 * Stop: `abort_at_ms` (monotonic) is the instant everything gives up: sleeps wake at it and
 * curl's progress callback aborts a transfer at it. Until then a stopping shipper keeps
 * shipping and leaves as soon as the buffer is empty.
 */
#define _GNU_SOURCE /* pthread_setname_np */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "logflux/native.h"
#include "ship/ship_int.h"

#define WAIT_POLL_MS  100               /* longest idle wait before looking at the stop flag */
#define ACK_RETRY_MS  1000              /* pause after a failed ack before trying it again */
#define PEEK_BYTES    ((size_t)8 << 20) /* about this much body copied per peek */
#define ATTEMPT_LIMIT 4096 /* the backoff is at its cap long before; keeps the int bounded */

struct lf_agent_ship {
    lf_agent_buffer *buf;
    lf_agent_ship_options opt; /* resolved numbers; the strings are not kept */
    ship_http http;
    ship_deadletter dl;
    pthread_t thread;
    bool thread_started;
    pthread_mutex_t lock; /* st, wake; and the sleeps' condition variable */
    pthread_cond_t cond;
    bool wake;                   /* set by stop: ends a kickable sleep */
    _Atomic int64_t abort_at_ms; /* INT64_MAX while running */
    atomic_bool stopping;        /* leave once the buffer is empty */
    uint64_t pending_ack;        /* newest accepted id not yet acked; 0 = none (thread only) */
    size_t last_body_len;        /* of the last item sent (thread only): sizes the next peek */
    lf_agent_ship_stats st;
};

typedef enum item_outcome { ITEM_DONE, ITEM_STOPPED } item_outcome;

/* ---------------- small helpers ---------------- */

static bool aborted(lf_agent_ship *s)
{
    return ship_mono_ms() >= atomic_load(&s->abort_at_ms);
}

static uint64_t random_u64(void)
{
    uint64_t r = 0;
    if (lf_random(&r, sizeof r, NULL) != LF_OK)
        r = (uint64_t)ship_mono_ms() * 0x9E3779B97F4A7C15ull; /* still spreads retries */
    return r;
}

/* Sleep up to ms, waking early at the abort instant or, when `kickable`, at a stop request
 * (an idle sleep: a stopping shipper goes to look whether the buffer is empty). false when
 * the abort instant has come. */
static bool sleep_for(lf_agent_ship *s, int64_t ms, bool kickable)
{
    int64_t until = ship_mono_ms() + (ms > 0 ? ms : 0);
    pthread_mutex_lock(&s->lock);
    for (;;) {
        int64_t abort_at = atomic_load(&s->abort_at_ms);
        int64_t now = ship_mono_ms();
        int64_t deadline = until < abort_at ? until : abort_at;
        if (now >= deadline || (kickable && s->wake))
            break;
        struct timespec ts = {.tv_sec = deadline / 1000, .tv_nsec = (deadline % 1000) * 1000000};
        /* Woken by a kick or a stop (which moves abort_at): the loop recomputes. */
        pthread_cond_timedwait(&s->cond, &s->lock, &ts);
    }
    if (kickable)
        s->wake = false;
    pthread_mutex_unlock(&s->lock);
    return !aborted(s);
}

static void set_last_error(lf_agent_ship *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void set_last_error(lf_agent_ship *s, const char *fmt, ...)
{
    char text[LF_AGENT_SHIP_LAST_ERROR_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    pthread_mutex_lock(&s->lock);
    ship_clean_text(text, sizeof text - 1, s->st.last_error, sizeof s->st.last_error);
    pthread_mutex_unlock(&s->lock);
}

/* Ack the newest accepted item, if any. false when the buffer refused (kept pending). */
static bool flush_ack(lf_agent_ship *s)
{
    if (s->pending_ack == 0)
        return true;
    lf_error err = {0};
    if (lf_agent_buffer_ack(s->buf, s->pending_ack, &err) != LF_OK) {
        set_last_error(s, "buffer ack failed: %s", err.message);
        return false;
    }
    s->pending_ack = 0;
    return true;
}

/* ---------------- the answer ---------------- */

/* What the JSON answer says (pointers into `root`, NULL when absent). */
typedef struct answer_info {
    json_t *root;
    const char *code, *message, *request_id;
    json_t *failures; /* data.failures when data.failed > 0 */
    int64_t failed;
} answer_info;

static void answer_parse(const ship_answer *ans, answer_info *ai)
{
    memset(ai, 0, sizeof *ai);
    if (ans->body.len == 0 || ans->body_truncated)
        return;
    ai->root = json_loadb((const char *)ans->body.data, ans->body.len, 0, NULL);
    if (!json_is_object(ai->root))
        return;
    json_t *error = json_object_get(ai->root, "error");
    ai->code = json_string_value(json_object_get(error, "code"));
    ai->message = json_string_value(json_object_get(error, "message"));
    if (ai->message == NULL)
        ai->message = json_string_value(json_object_get(ai->root, "message"));
    ai->request_id = json_string_value(json_object_get(ai->root, "request_id"));
    json_t *data = json_object_get(ai->root, "data");
    ai->failed = (int64_t)json_integer_value(json_object_get(data, "failed"));
    json_t *failures = json_object_get(data, "failures");
    if (ai->failed > 0 && json_is_array(failures))
        ai->failures = failures;
}

/* Records in the frames the answer lists as failed (data frames only; key and close frames
 * carry none). Walks the body we sent: the server-safe reader, no decryption. */
static uint64_t failed_records(const lf_agent_buffer_item *it, json_t *failures,
                               uint64_t *frames_out)
{
    uint64_t records = 0, frames = 0;
    bool *hit = calloc(LF_NATIVE_FRAMES_MAX, sizeof *hit);
    if (hit == NULL)
        return 0;
    size_t i;
    json_t *f;
    json_array_foreach(failures, i, f)
    {
        json_int_t idx = json_integer_value(json_object_get(f, "index"));
        if (idx >= 0 && idx < (json_int_t)LF_NATIVE_FRAMES_MAX && !hit[idx]) {
            hit[idx] = true;
            frames++;
        }
    }
    lf_native_reader rd;
    lf_native_frame fr;
    lf_native_reader_init(&rd, it->body, it->body_len);
    while (lf_native_reader_next(&rd, &fr, NULL) == LF_OK)
        if (fr.index < LF_NATIVE_FRAMES_MAX && hit[fr.index] &&
            (fr.hdr.kind == LF_NATIVE_ENTRY || fr.hdr.kind == LF_NATIVE_BLOCK))
            records += fr.hdr.kind == LF_NATIVE_BLOCK ? fr.hdr.count : 1;
    free(hit);
    *frames_out = frames;
    return records;
}

static void count_response(lf_agent_ship *s, long status)
{
    pthread_mutex_lock(&s->lock);
    s->st.last_status = status;
    if (status == 0)
        s->st.network_errors++;
    else if (status >= 200 && status < 300)
        s->st.responses_2xx++;
    else if (status >= 300 && status < 400)
        s->st.responses_3xx++;
    else if (status >= 400 && status < 500)
        s->st.responses_4xx++;
    else if (status >= 500 && status < 600)
        s->st.responses_5xx++;
    else
        s->st.responses_other++;
    s->st.connections = s->http.connections;
    pthread_mutex_unlock(&s->lock);
}

/* A 2xx. Frames it lists as refused are not stored, and asking again with the same key gets
 * the same answer (the server remembers it), so the item is acked either way; the refused
 * part is counted and the item copied to the dead-letter folder for the record. */
static void accepted(lf_agent_ship *s, const lf_agent_buffer_item *it, const answer_info *ai,
                     int64_t attempts, long status)
{
    uint64_t rej_frames = 0, rej_records = 0;
    bool partial = ai->failures != NULL;
    if (partial) {
        rej_records = failed_records(it, ai->failures, &rej_frames);
        ship_dl_reason why = {.reason = "partially_refused",
                              .http_status = status,
                              .error_code = ai->code,
                              .message = ai->message,
                              .request_id = ai->request_id,
                              .failures = ai->failures,
                              .attempts = attempts};
        lf_error err = {0};
        lf_err rc = ship_deadletter_write(&s->dl, it, &why, &err);
        const char *first =
            json_string_value(json_object_get(json_array_get(ai->failures, 0), "error"));
        char reason[SHIP_SERVER_TEXT_MAX + 1];
        ship_clean_text(first ? first : "", SHIP_SERVER_TEXT_MAX, reason, sizeof reason);
        set_last_error(s, "item %s: server refused %llu frame(s) (%s)%s", it->idempotency_key,
                       (unsigned long long)rej_frames, reason,
                       rc == LF_OK ? "; copy in the dead-letter folder" : "; no dead-letter copy");
        pthread_mutex_lock(&s->lock);
        if (rc == LF_ERR_FULL)
            s->st.dead_letter_full++;
        else if (rc != LF_OK)
            s->st.dead_letter_errors++;
        pthread_mutex_unlock(&s->lock);
    }
    pthread_mutex_lock(&s->lock);
    s->st.items_shipped++;
    s->st.records_shipped += it->records;
    s->st.bytes_shipped += it->body_len;
    s->st.frames_rejected += rej_frames;
    s->st.records_rejected += rej_records;
    s->st.consecutive_failures = 0;
    s->st.backoff_ms = 0;
    s->st.last_success_ms = ship_wall_ms();
    if (!partial)
        s->st.last_error[0] = '\0';
    pthread_mutex_unlock(&s->lock);
}

/* Describe a failed attempt in last_error: status, the server's code and message, or curl's. */
static void describe_failure(lf_agent_ship *s, const lf_agent_buffer_item *it,
                             const ship_answer *ans, const answer_info *ai, const char *what)
{
    char msg[SHIP_SERVER_TEXT_MAX + 1];
    if (ans->status == 0) {
        ship_clean_text(ans->curl_error, SHIP_SERVER_TEXT_MAX, msg, sizeof msg);
        set_last_error(s, "item %s: %s: %s", it->idempotency_key, what, msg);
        return;
    }
    char code[65];
    ship_clean_text(ai->code ? ai->code : "", 64, code, sizeof code);
    ship_clean_text(ai->message ? ai->message : "", SHIP_SERVER_TEXT_MAX, msg, sizeof msg);
    set_last_error(s, "item %s: %s: HTTP %ld%s%s%s%s", it->idempotency_key, what, ans->status,
                   code[0] ? " " : "", code, msg[0] ? ": " : "", msg);
}

/* Dead-letter an item; true when it is written (and may be acked). */
static bool dead_letter(lf_agent_ship *s, const lf_agent_buffer_item *it, const ship_answer *ans,
                        const answer_info *ai, const char *reason, int64_t attempts)
{
    char local[SHIP_SERVER_TEXT_MAX + 1];
    ship_clean_text(ans->curl_error, SHIP_SERVER_TEXT_MAX, local, sizeof local);
    ship_dl_reason why = {.reason = reason,
                          .http_status = ans->status,
                          .error_code = ai->code,
                          .message = ans->status != 0 ? ai->message : local,
                          .request_id = ai->request_id,
                          .failures = ai->failures,
                          .attempts = attempts};
    lf_error err = {0};
    lf_err rc = ship_deadletter_write(&s->dl, it, &why, &err);
    pthread_mutex_lock(&s->lock);
    if (rc == LF_OK) {
        s->st.dead_letter_items++;
        s->st.dead_letter_records += it->records;
    } else if (rc == LF_ERR_FULL) {
        s->st.dead_letter_full++;
    } else {
        s->st.dead_letter_errors++;
    }
    pthread_mutex_unlock(&s->lock);
    if (rc == LF_OK)
        describe_failure(s, it, ans, ai, "dead-lettered");
    else
        set_last_error(s, "item %s: could not be dead-lettered, kept and retried: %s",
                       it->idempotency_key, err.message);
    return rc == LF_OK;
}

/* ---------------- one item ---------------- */

static item_outcome ship_item(lf_agent_ship *s, const lf_agent_buffer_item *it)
{
    ship_answer ans = {.retry_after_ms = -1};
    item_outcome outcome = ITEM_STOPPED;
    for (int attempt = 0;; attempt += attempt < ATTEMPT_LIMIT) {
        if (aborted(s))
            break;
        pthread_mutex_lock(&s->lock);
        s->st.requests++;
        if (attempt > 0)
            s->st.retries++;
        pthread_mutex_unlock(&s->lock);
        ship_http_send(&s->http, it, &ans);
        if (ans.stopped)
            break;
        count_response(s, ans.status);
        answer_info ai;
        answer_parse(&ans, &ai);
        lf_agent_ship_verdict v =
            ans.status == 0 ? LF_AGENT_SHIP_RETRY : lf_agent_ship_classify(ans.status);
        bool done = false;
        if (v == LF_AGENT_SHIP_OK) {
            accepted(s, it, &ai, attempt + 1, ans.status);
            done = true;
        } else if (v == LF_AGENT_SHIP_PERMANENT) {
            done = dead_letter(s, it, &ans, &ai, "refused", attempt + 1);
        } else if (s->opt.max_retries > 0 && attempt >= s->opt.max_retries) {
            done = dead_letter(s, it, &ans, &ai, "retries_exhausted", attempt + 1);
        } else {
            describe_failure(s, it, &ans, &ai,
                             v == LF_AGENT_SHIP_RETRY_AUTH ? "credentials refused, retrying"
                                                           : "retrying");
        }
        if (!done) {
            int64_t delay =
                lf_agent_ship_next_delay_ms(attempt, ans.retry_after_ms, &s->opt, random_u64());
            pthread_mutex_lock(&s->lock);
            s->st.consecutive_failures++;
            if (v == LF_AGENT_SHIP_RETRY_AUTH)
                s->st.auth_failures++;
            s->st.backoff_ms = delay;
            pthread_mutex_unlock(&s->lock);
            json_decref(ai.root);
            flush_ack(s); /* what the server already has must not wait for this item */
            if (!sleep_for(s, delay, false))
                break;
            continue;
        }
        json_decref(ai.root);
        outcome = ITEM_DONE;
        break;
    }
    ship_answer_free(&ans);
    return outcome;
}

/* ---------------- the thread ---------------- */

/* Items per peek: peek_items, fewer when bodies are large, because peek copies every body
 * into memory at once (a 32 MiB body times 16 is not what a small agent should hold). */
static size_t peek_count(const lf_agent_ship *s)
{
    if (s->last_body_len == 0)
        return 1; /* first look: learn the size */
    size_t n = PEEK_BYTES / s->last_body_len;
    if (n < 1)
        n = 1;
    return n < s->opt.peek_items ? n : s->opt.peek_items;
}

/*
 * Send a peeked batch in order. Each copy is claimed with send_begin first: one that
 * drop_oldest deleted (and counted) since the peek is skipped, never sent; the claimed one is
 * then never counted as dropped unless we give up on it without a final answer (send_end
 * ABANDONED, at stop). That keeps "stored or dropped, never both" exact (docs/AGENT-BUFFER.md).
 */
static void ship_batch(lf_agent_ship *s, const lf_agent_buffer_item *items, size_t n)
{
    for (size_t i = 0; i < n && !aborted(s); i++) {
        lf_error err = {0};
        lf_err rc = lf_agent_buffer_send_begin(s->buf, items[i].id, &err);
        if (rc == LF_ERR_NOT_FOUND) {
            pthread_mutex_lock(&s->lock);
            s->st.items_skipped_dropped++;
            pthread_mutex_unlock(&s->lock);
            continue;
        }
        if (rc != LF_OK) {
            set_last_error(s, "buffer send_begin failed: %s", err.message);
            sleep_for(s, ACK_RETRY_MS, false);
            return;
        }
        s->last_body_len = items[i].body_len;
        item_outcome out = ship_item(s, &items[i]);
        lf_agent_buffer_send_outcome how =
            out == ITEM_DONE ? LF_AGENT_BUFFER_SENT : LF_AGENT_BUFFER_ABANDONED;
        if (lf_agent_buffer_send_end(s->buf, items[i].id, how, &err) != LF_OK)
            set_last_error(s, "buffer send_end failed: %s", err.message); /* cannot happen */
        if (out != ITEM_DONE)
            return;
        s->pending_ack = items[i].id;
    }
}

/* Idle: the buffer wakes us on append. The wait is short so that a stop is seen soon without
 * lf_agent_buffer_wake, which is sticky and belongs to the agent's shutdown (it would also
 * release the appenders). Once the buffer was woken its waits return at once: then sleep
 * instead of spinning. */
static void wait_for_items(lf_agent_ship *s)
{
    int64_t t0 = ship_mono_ms();
    lf_err rc = lf_agent_buffer_wait_items(s->buf, WAIT_POLL_MS, NULL);
    int64_t spent = ship_mono_ms() - t0;
    if (rc != LF_OK && spent < WAIT_POLL_MS / 2)
        sleep_for(s, WAIT_POLL_MS - spent, true);
}

static void *ship_main(void *arg)
{
    lf_agent_ship *s = arg;
    pthread_setname_np(pthread_self(), "ship");
    while (!aborted(s)) {
        if (!flush_ack(s)) {
            sleep_for(s, ACK_RETRY_MS, false);
            continue;
        }
        lf_agent_buffer_item *items = NULL;
        size_t n = 0;
        lf_error err = {0};
        if (lf_agent_buffer_peek(s->buf, peek_count(s), &items, &n, &err) != LF_OK) {
            set_last_error(s, "buffer peek failed: %s", err.message);
            sleep_for(s, ACK_RETRY_MS, false);
            continue;
        }
        if (n == 0) {
            if (atomic_load(&s->stopping))
                break; /* flushed */
            wait_for_items(s);
            continue;
        }
        ship_batch(s, items, n);
        lf_agent_buffer_items_free(items, n);
    }
    flush_ack(s);
    return NULL;
}

/* ---------------- start / stop ---------------- */

static lf_err resolve(const lf_agent_ship_options *in, lf_agent_ship_options *o, lf_error *err)
{
    *o = *in;
#define DEFAULT(field, value)                                                                      \
    if (o->field == 0)                                                                             \
    o->field = (value)
    DEFAULT(backoff_base_ms, LF_AGENT_SHIP_DEFAULT_BACKOFF_BASE_MS);
    DEFAULT(backoff_max_ms, LF_AGENT_SHIP_DEFAULT_BACKOFF_MAX_MS);
    DEFAULT(retry_after_max_ms, LF_AGENT_SHIP_DEFAULT_RETRY_AFTER_MAX_MS);
    DEFAULT(connect_timeout_ms, LF_AGENT_SHIP_DEFAULT_CONNECT_TIMEOUT_MS);
    DEFAULT(request_timeout_ms, LF_AGENT_SHIP_DEFAULT_REQUEST_TIMEOUT_MS);
    DEFAULT(dead_letter_max_bytes, LF_AGENT_SHIP_DEFAULT_DEAD_LETTER_MAX);
    DEFAULT(peek_items, 16);
#undef DEFAULT
    if (o->backoff_base_ms < 0 || o->backoff_max_ms < o->backoff_base_ms)
        return lf_error_set(err, LF_ERR_INVALID, "ship: backoff needs 0 < base <= max");
    if (o->retry_after_max_ms < 0 || o->max_retries < 0)
        return lf_error_set(err, LF_ERR_INVALID,
                            "ship: retry_after_max_ms and max_retries must not be negative");
    /* curl takes long milliseconds; a day is more than any request needs. */
    if (o->connect_timeout_ms < 0 || o->connect_timeout_ms > 86400000 ||
        o->request_timeout_ms < 0 || o->request_timeout_ms > 86400000)
        return lf_error_set(err, LF_ERR_INVALID, "ship: timeouts must be within 1 ms .. 1 day");
    if (o->peek_items > 1024)
        return lf_error_set(err, LF_ERR_INVALID, "ship: peek_items must be at most 1024");
    return LF_OK;
}

lf_err lf_agent_ship_start(lf_agent_buffer *buf, const lf_agent_ship_options *opt,
                           lf_agent_ship **out, lf_error *err)
{
    *out = NULL;
    if (buf == NULL || opt == NULL)
        return lf_error_set(err, LF_ERR_INVALID, "ship: buffer and options are required");
    lf_agent_ship *s = calloc(1, sizeof *s);
    if (s == NULL)
        return lf_error_set(err, LF_ERR_NOMEM, "ship: out of memory");
    s->buf = buf;
    atomic_init(&s->abort_at_ms, INT64_MAX);
    atomic_init(&s->stopping, false);
    pthread_mutex_init(&s->lock, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&s->cond, &ca);
    pthread_condattr_destroy(&ca);
    curl_global_init(CURL_GLOBAL_DEFAULT); /* reference counted by curl */
    lf_err rc = resolve(opt, &s->opt, err);
    if (rc == LF_OK)
        rc = ship_http_open(&s->http, &s->opt, &s->abort_at_ms, err);
    if (rc == LF_OK)
        rc = ship_deadletter_open(&s->dl, opt->dead_letter_dir, s->opt.dead_letter_max_bytes, err);
    /* The strings were for start only; nothing may read them later. */
    s->opt.endpoint = s->opt.api_key = s->opt.ca_file = s->opt.pinned_pubkey = NULL;
    s->opt.dead_letter_dir = NULL;
    if (rc == LF_OK && pthread_create(&s->thread, NULL, ship_main, s) != 0)
        rc = lf_error_set(err, LF_ERR_NOMEM, "ship: cannot start the thread");
    if (rc != LF_OK) {
        lf_agent_ship_stop(s, 0);
        return rc;
    }
    s->thread_started = true;
    *out = s;
    return LF_OK;
}

void lf_agent_ship_stop(lf_agent_ship *s, int64_t flush_timeout_ms)
{
    if (s == NULL)
        return;
    if (flush_timeout_ms < 0)
        flush_timeout_ms = 0;
    if (flush_timeout_ms > INT64_MAX / 4)
        flush_timeout_ms = INT64_MAX / 4;
    pthread_mutex_lock(&s->lock);
    atomic_store(&s->stopping, true);
    atomic_store(&s->abort_at_ms, ship_mono_ms() + flush_timeout_ms);
    s->wake = true;
    pthread_cond_broadcast(&s->cond);
    pthread_mutex_unlock(&s->lock);
    if (s->thread_started)
        pthread_join(s->thread, NULL);
    ship_http_close(&s->http);
    ship_deadletter_close(&s->dl);
    pthread_cond_destroy(&s->cond);
    pthread_mutex_destroy(&s->lock);
    curl_global_cleanup();
    free(s);
}

void lf_agent_ship_stats_get(lf_agent_ship *s, lf_agent_ship_stats *out)
{
    pthread_mutex_lock(&s->lock);
    *out = s->st;
    pthread_mutex_unlock(&s->lock);
}

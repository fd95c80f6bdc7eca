/*
 * pipeline.c — record -> sealed, durable batch, for one input (see pipeline.h).
 */
#define _GNU_SOURCE
#include "pipeline.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "logflux/native.h"
#include "logflux/payload.h"
#include "ops/log.h"
#include "ops/ops_text.h"
#include "record_json.h"

/* The payload's own window (payload.h): older than this, or further ahead, is stamped with
 * the read time instead (counted), since the server would refuse the whole block. */
#define MAX_AGE_NS            (365LL * 86400LL * 1000000000LL)
#define MAX_FUTURE_NS         LF_PAYLOAD_MAX_FUTURE_NS
#define REPAIR_MAX            (3 * LF_PAYLOAD_MAX_VALUE + 1) /* every byte -> U+FFFD */
#define WAIT_SLICE_MS         200
#define STOP_APPEND_BUDGET_MS 5000

typedef struct held {
    size_t off, len;
    int64_t ts;
} held;

struct lf_agent_pipeline {
    lf_agent_pipeline_options opt;
    lf_agent_input *in;
    lf_agent_pipeline_stats stats;

    /* The batch being filled: JSON entries back to back in `plain`. */
    lf_buf plain;
    held *held;
    size_t n_held, cap_held;
    int64_t first_ms;   /* monotonic time of the batch's first record */
    int64_t now_coarse; /* wall clock for the time-window check, refreshed per batch */
    lf_native_entry *entries;
    size_t cap_entries;

    /* Sealing session (one key) and what it sealed so far. */
    lf_native_session *session;
    int64_t session_created_ns, session_started_ms;
    uint64_t session_records, session_bytes;

    lf_buf body, cursor;
    bool slow_only; /* tests: always the general encoder */
    lf_buf raw;     /* the message handed to the parser (never the event's own buffer) */
    lf_buf text;    /* the message, UTF-8-repaired and NUL-terminated */
    char fixed[LF_AGENT_EVENT_MAX_LABELS + 2][REPAIR_MAX];
};

static int64_t realtime_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* For the time-window check only: a few ms of imprecision do not matter there, and the
 * coarse clock costs a fraction of the precise one on every record. */
static int64_t realtime_coarse_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME_COARSE, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int64_t monotonic_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

/* Batch deadlines are checked once per record: the coarse clock (a few ms of resolution,
 * a fraction of the cost) is precise enough for them. */
static int64_t monotonic_coarse_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
    return (int64_t)ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

static int64_t monotonic_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

lf_err lf_agent_pipeline_new(const lf_agent_pipeline_options *opt, lf_agent_input *input,
                             lf_agent_pipeline **out, lf_error *err)
{
    if (opt->customer_key == NULL || opt->buffer == NULL || opt->tenant == NULL ||
        opt->app == NULL || opt->max_records == 0 || opt->max_records > LF_NATIVE_BLOCK_COUNT_MAX ||
        opt->max_bytes == 0)
        return lf_error_set(err, LF_ERR_INVALID, "pipeline: incomplete options");
    lf_agent_pipeline *p = calloc(1, sizeof *p);
    if (p == NULL)
        return lf_error_set(err, LF_ERR_NOMEM, "pipeline: out of memory");
    p->opt = *opt;
    p->in = input;
    *out = p;
    return LF_OK;
}

lf_agent_pipeline_stats *lf_agent_pipeline_stats_of(lf_agent_pipeline *p)
{
    return &p->stats;
}

void lf_agent_pipeline_free(lf_agent_pipeline *p)
{
    if (p == NULL)
        return;
    lf_native_session_free(p->session);
    lf_buf_free_secret(&p->plain);
    lf_buf_free_secret(&p->raw);
    lf_buf_free_secret(&p->text);
    lf_buf_free(&p->body);
    lf_buf_free(&p->cursor);
    free(p->held);
    free(p->entries);
    lf_wipe(p->fixed, sizeof p->fixed);
    free(p);
}

static bool utf8_valid_cstr(const char *s)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t len = strlen(s);
    for (size_t i = 0; i < len;) {
        if (u[i] < 0x80) {
            i++;
            continue;
        }
        size_t n = lf_agent_utf8_seq(u + i, len - i);
        if (n == 0)
            return false;
        i += n;
    }
    return true;
}

/* A NUL-terminated string from a fixed-size field, repaired if needed. */
static const char *clean(lf_agent_pipeline *p, size_t slot, const char *s)
{
    if (utf8_valid_cstr(s))
        return s;
    lf_agent_utf8_repair(s, strlen(s), p->fixed[slot], REPAIR_MAX - 1);
    return p->fixed[slot];
}

static bool has_label(const lf_kv *kv, size_t n, const char *key)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(kv[i].key, key) == 0)
            return true;
    return false;
}

static size_t add_config_labels(const lf_strmap *m, lf_kv *kv, size_t n)
{
    for (size_t i = 0; m && i < m->n && n < LF_PAYLOAD_MAX_ATTRS; i++)
        if (!has_label(kv, n, m->keys[i]))
            kv[n++] = (lf_kv){m->keys[i], m->values[i]};
    return n;
}

lf_err lf_agent_pipeline_encode(lf_agent_pipeline *p, lf_agent_event *ev, int64_t now_ns,
                                lf_buf *out, int64_t *ts_out, lf_error *err)
{
    if (p->opt.parser != NULL && ev->message_len > 0) {
        /* The parser may rewrite the event's message buffer, so it reads a copy. */
        p->raw.len = 0;
        if (lf_buf_append(&p->raw, ev->message, ev->message_len) != LF_OK)
            return lf_error_set(err, LF_ERR_NOMEM, "pipeline: out of memory");
        lf_error perr = {0};
        if (lf_parser_apply(p->opt.parser, (const char *)p->raw.data, p->raw.len, now_ns, ev,
                            &perr) != LF_OK)
            atomic_fetch_add(&p->stats.parse_errors, 1);
    }
    size_t mlen = ev->message_len;
    if (mlen > LF_PAYLOAD_MAX_MESSAGE) {
        mlen = LF_PAYLOAD_MAX_MESSAGE;
        atomic_fetch_add(&p->stats.truncated, 1);
    }
    int level = ev->level;
    if (level < LF_LEVEL_EMERGENCY || level > LF_LEVEL_DEBUG)
        level = lf_level_detect(ev->message, mlen);
    if (level < LF_LEVEL_EMERGENCY || level > LF_LEVEL_DEBUG)
        level = LF_LEVEL_INFO;

    int64_t ts = ev->ts_ns;
    if (ts == 0)
        ts = realtime_ns();
    else if (ts > now_ns + MAX_FUTURE_NS || ts < now_ns - MAX_AGE_NS) {
        ts = now_ns;
        atomic_fetch_add(&p->stats.time_clamped, 1);
    }
    *ts_out = ts;

    lf_kv kv[LF_PAYLOAD_MAX_ATTRS];
    size_t n = 0;
    for (size_t i = 0; i < ev->n_labels && n < LF_PAYLOAD_MAX_ATTRS; i++)
        kv[n++] = (lf_kv){ev->labels[i].key, ev->labels[i].value};
    n = add_config_labels(p->opt.input_labels, kv, n);
    n = add_config_labels(p->opt.agent_labels, kv, n);

    /* The one-pass writer covers every record whose source, logger and labels are valid
     * UTF-8; the rest take the general encoder below (same bytes: see record_json.h). */
    lf_agent_record_fields rf = {
        .source = ev->source[0] ? ev->source : p->in->name,
        .level = level,
        .ts_ns = ts,
        .message = ev->message ? ev->message : "",
        .message_len = mlen,
        .logger = ev->logger[0] ? ev->logger : NULL,
        .attributes = kv,
        .n_attributes = n,
    };
    size_t tl = 0;
    if (!p->slow_only && lf_agent_record_json(out, &rf, &tl)) {
        if (tl < mlen && tl + 4 > LF_PAYLOAD_MAX_MESSAGE)
            atomic_fetch_add(&p->stats.truncated, 1);
        return LF_OK;
    }

    /* Worst case every byte becomes a 3-byte U+FFFD; the repair cuts at the 1 MiB cap. */
    p->text.len = 0;
    if (lf_buf_reserve(&p->text, 3 * mlen + 4) != LF_OK)
        return lf_error_set(err, LF_ERR_NOMEM, "pipeline: out of memory");
    tl = mlen ? lf_agent_utf8_repair(rf.message, mlen, (char *)p->text.data, LF_PAYLOAD_MAX_MESSAGE)
              : 0;
    p->text.data[tl] = '\0';
    if (tl < mlen && tl + 4 > LF_PAYLOAD_MAX_MESSAGE)
        atomic_fetch_add(&p->stats.truncated, 1);
    for (size_t i = 0; i < n; i++)
        kv[i].value = clean(p, i, kv[i].value);

    lf_payload pl;
    memset(&pl, 0, sizeof pl);
    pl.type = LF_ENTRY_LOG;
    pl.source = ev->source[0] ? clean(p, LF_AGENT_EVENT_MAX_LABELS, ev->source) : p->in->name;
    pl.level = level;
    pl.ts_ns = ts;
    pl.attributes = kv;
    pl.n_attributes = n;
    pl.log.message = (const char *)p->text.data;
    pl.log.logger = ev->logger[0] ? clean(p, LF_AGENT_EVENT_MAX_LABELS + 1, ev->logger) : NULL;
    size_t before = out->len;
    lf_err rc = lf_payload_encode(&pl, out, err);
    if (rc != LF_OK) {
        /* A label the encoder refuses (a repaired value over 256 bytes): keep the record
         * without the labels rather than lose it. */
        out->len = before;
        pl.n_attributes = 0;
        rc = lf_payload_encode(&pl, out, err);
    }
    return rc;
}

void lf_agent_pipeline_set_general_encoder(lf_agent_pipeline *p, bool only)
{
    p->slow_only = only;
}

static lf_err grow(void **arr, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return LF_OK;
    size_t c = *cap ? *cap * 2 : 256;
    while (c < need)
        c *= 2;
    void *g = realloc(*arr, c * elem);
    if (g == NULL)
        return LF_ERR_NOMEM;
    *arr = g;
    *cap = c;
    return LF_OK;
}

lf_err lf_agent_pipeline_add(lf_agent_pipeline *p, lf_agent_event *ev, lf_error *err)
{
    if (grow((void **)&p->held, &p->cap_held, p->n_held + 1, sizeof *p->held) != LF_OK)
        return lf_error_set(err, LF_ERR_NOMEM, "pipeline: out of memory");
    if (p->n_held == 0 || (p->n_held & 255) == 0) {
        /* The window check needs "now" only to within seconds: read the clock per batch (and
         * every 256 records), not per record. */
        if (p->n_held == 0)
            p->first_ms = monotonic_coarse_ms();
        p->now_coarse = realtime_coarse_ns();
    }
    size_t off = p->plain.len;
    int64_t ts = 0;
    atomic_fetch_add_explicit(&p->stats.bytes_in, ev->message_len, memory_order_relaxed);
    lf_err rc = lf_agent_pipeline_encode(p, ev, p->now_coarse, &p->plain, &ts, err);
    if (rc != LF_OK)
        return rc;
    p->held[p->n_held++] = (held){off, p->plain.len - off, ts};
    if (p->n_held >= p->opt.max_records || p->plain.len >= p->opt.max_bytes)
        return lf_agent_pipeline_flush(p, false, err);
    return LF_OK;
}

static bool stopping(const lf_agent_pipeline *p)
{
    return p->opt.stop != NULL && atomic_load(p->opt.stop);
}

/* Seal what is held (and the close frame when asked or when the key is due) into p->body. */
static lf_err seal_body(lf_agent_pipeline *p, bool close_session, lf_error *err)
{
    int64_t now = realtime_ns();
    p->body.len = 0;
    lf_err rc;
    if (p->session == NULL) {
        if (p->n_held == 0)
            return LF_OK; /* nothing to seal, no key to close */
        if ((rc = lf_native_session_new(NULL, NULL, p->opt.tenant, p->opt.app, &p->session, err)) !=
                LF_OK ||
            (rc = lf_native_session_set_zstd_level(
                 p->session, p->opt.zstd_level ? p->opt.zstd_level : 3, err)) != LF_OK)
            return rc;
        p->session_created_ns = now;
        p->session_started_ms = monotonic_ms();
        p->session_records = p->session_bytes = 0;
    }
    if ((rc = lf_native_session_key_frame(p->session, p->opt.customer_key, p->session_created_ns,
                                          &p->body, err)) != LF_OK)
        return rc;
    if (p->n_held > 0) {
        if (grow((void **)&p->entries, &p->cap_entries, p->n_held, sizeof *p->entries) != LF_OK)
            return lf_error_set(err, LF_ERR_NOMEM, "pipeline: out of memory");
        for (size_t i = 0; i < p->n_held; i++)
            p->entries[i] =
                (lf_native_entry){p->plain.data + p->held[i].off, p->held[i].len, p->held[i].ts};
        if ((rc = lf_native_seal_block(p->session, LF_ENTRY_LOG, p->entries, p->n_held, NULL, 0,
                                       true, &p->body, err)) != LF_OK)
            return rc;
        p->session_records += p->n_held;
        p->session_bytes += p->plain.len;
    }
    bool due = p->session_records >= p->opt.rotate_records ||
               p->session_bytes >= p->opt.rotate_bytes ||
               monotonic_ms() - p->session_started_ms >= p->opt.rotate_after_ms ||
               lf_native_session_sequence(p->session) + 2 >= LF_NATIVE_KEY_FRAMES_MAX;
    if (close_session || due) {
        if ((rc = lf_native_seal_close(p->session, now, &p->body, err)) != LF_OK)
            return rc;
        lf_native_session_free(p->session);
        p->session = NULL;
        if (!close_session)
            atomic_fetch_add(&p->stats.key_rotations, 1);
    }
    return LF_OK;
}

/* Append p->body durably, waiting for room under the block policy. */
static lf_err append_body(lf_agent_pipeline *p, uint32_t records, lf_error *err)
{
    uint8_t rnd[24];
    char key[40];
    lf_err rc = lf_random(rnd, sizeof rnd, err);
    if (rc != LF_OK)
        return rc;
    lf_base64_encode(rnd, sizeof rnd, key, true);
    lf_agent_buffer_input item = {
        .app = p->opt.app,
        .idempotency_key = key,
        .records = records,
        .created_ms = realtime_ns() / 1000000,
        .body = p->body.data,
        .body_len = p->body.len,
        .source = p->in->name,
        .cursor = p->cursor.len ? p->cursor.data : NULL,
        .cursor_len = p->cursor.len,
    };
    int64_t stop_deadline = 0;
    for (;;) {
        lf_error e = {0};
        rc = lf_agent_buffer_append(p->opt.buffer, &item, NULL, &e);
        if (rc == LF_OK)
            break;
        if (rc != LF_ERR_FULL && rc != LF_ERR_IO)
            return lf_error_set(err, rc, "%s", e.message);
        if (stopping(p)) {
            if (stop_deadline == 0)
                stop_deadline = monotonic_ms() + STOP_APPEND_BUDGET_MS;
            else if (monotonic_ms() > stop_deadline)
                return lf_error_set(err, rc,
                                    "stopping with the buffer unable to take the "
                                    "last batch: %s",
                                    e.message);
        }
        int64_t t0 = monotonic_ms();
        if (rc == LF_ERR_FULL) {
            atomic_store(&p->stats.blocked, true);
            (void)lf_agent_buffer_wait_space(p->opt.buffer, p->body.len + p->cursor.len,
                                             WAIT_SLICE_MS, NULL);
        } else {
            atomic_fetch_add(&p->stats.append_errors, 1);
            lf_agent_log(LF_AGENT_LOG_ERROR, "pipeline", "input %s: buffer append failed: %s",
                         p->in->name, e.message);
            struct timespec ts = {0, WAIT_SLICE_MS * 1000000L};
            nanosleep(&ts, NULL);
        }
        atomic_fetch_add(&p->stats.blocked_ms, (uint64_t)(monotonic_ms() - t0));
    }
    atomic_store(&p->stats.blocked, false);
    lf_wipe(key, sizeof key);
    return LF_OK;
}

lf_err lf_agent_pipeline_flush(lf_agent_pipeline *p, bool close_session, lf_error *err)
{
    if (p->n_held == 0 && (p->session == NULL || !close_session))
        return LF_OK;
    int64_t t0 = monotonic_ns();
    lf_err rc = seal_body(p, close_session, err);
    atomic_fetch_add(&p->stats.seal_ns, (uint64_t)(monotonic_ns() - t0));
    if (rc != LF_OK)
        return rc;
    if (p->body.len == 0)
        return LF_OK;
    p->cursor.len = 0;
    if (p->in->vt->cursor && (rc = p->in->vt->cursor(p->in, &p->cursor, err)) != LF_OK)
        return rc;
    size_t records = p->n_held;
    if ((rc = append_body(p, (uint32_t)records, err)) != LF_OK) {
        atomic_fetch_add(&p->stats.lost_at_stop, records);
        return rc;
    }
    atomic_fetch_add(&p->stats.batches, 1);
    atomic_fetch_add(&p->stats.sealed_bytes, p->body.len);
    atomic_fetch_add(&p->stats.records_sealed, records);
    p->n_held = 0;
    p->plain.len = 0;
    if (p->in->vt->commit && (rc = p->in->vt->commit(p->in, err)) != LF_OK)
        return rc;
    return LF_OK;
}

static void restore_input(lf_agent_pipeline *p)
{
    if (p->in->vt->restore == NULL)
        return;
    lf_buf c = LF_BUF_INIT;
    lf_error e = {0};
    if (lf_agent_buffer_last_cursor(p->opt.buffer, p->in->name, &c, &e) == LF_OK &&
        p->in->vt->restore(p->in, c.data, c.len, &e) != LF_OK)
        lf_agent_log(LF_AGENT_LOG_WARN, "pipeline", "input %s: restore: %s", p->in->name,
                     e.message);
    lf_buf_free(&c);
}

lf_err lf_agent_pipeline_run(lf_agent_pipeline *p, lf_error *err)
{
    restore_input(p);
    lf_agent_event ev;
    memset(&ev, 0, sizeof ev);
    lf_err rc = LF_OK;
    while (!stopping(p)) {
        int timeout = WAIT_SLICE_MS;
        if (p->n_held > 0) {
            int64_t left = p->first_ms + p->opt.max_wait_ms - monotonic_coarse_ms();
            if (left <= 0) {
                if ((rc = lf_agent_pipeline_flush(p, false, err)) != LF_OK)
                    break;
                continue;
            }
            if (left < timeout)
                timeout = (int)left;
        }
        lf_agent_event_reset(&ev);
        lf_error e = {0};
        lf_err r = p->in->vt->next(p->in, &ev, timeout, &e);
        if (r == LF_OK) {
            atomic_fetch_add(&p->stats.records_in, 1);
            if ((rc = lf_agent_pipeline_add(p, &ev, err)) != LF_OK)
                break;
        } else if (r == LF_ERR_NOT_FOUND) {
            if (atomic_load(&p->in->finished))
                break;
        } else {
            atomic_fetch_add(&p->stats.input_errors, 1);
            lf_agent_log(LF_AGENT_LOG_ERROR, "input", "%s: %s", p->in->name, e.message);
            for (int i = 0; i < 5 && !stopping(p); i++) {
                struct timespec ts = {0, WAIT_SLICE_MS * 1000000L};
                nanosleep(&ts, NULL);
            }
        }
    }
    lf_agent_event_free(&ev);
    /* Stop or end of input: seal what is held and close the key, so the customer's tools
     * see a clean end of this session (docs/VERIFY.md). */
    lf_error e2 = {0};
    lf_err frc = lf_agent_pipeline_flush(p, true, &e2);
    if (rc == LF_OK && frc != LF_OK) {
        rc = frc;
        if (err)
            *err = e2;
    }
    return rc;
}

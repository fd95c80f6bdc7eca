/*
 * container_reader.c — see container_reader.h. The one rule that keeps restarts exact: a
 * position noted for a file (and so later committed as its checkpoint) never passes the start
 * of a piece still held in a join for that file. After a crash, the held pieces are therefore
 * read again; a join emitted in several max_bytes chunks may repeat its chunks (never lose
 * them).
 */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "container_reader.h"
#include "parser.h"

#define JOIN_MAX_FILES 8 /* file identities one joined line may span (rotations mid-line) */

struct container_join {
    container_join *next;
    char *path;
    char stream[17];
    lf_buf text;
    int64_t ts_ns;
    int64_t last_ms;
    bool final;             /* its last piece arrived (or it timed out): emit all of it */
    const char *reason;     /* split= label of the last chunk (NULL: it completed) */
    lf_tail_position start; /* where the oldest held piece begins */
    lf_tail_position ends[JOIN_MAX_FILES]; /* newest end per file identity */
    size_t n_ends;
    size_t last_piece_len;
    lf_tail_position last_start, last_end; /* the newest piece */
};

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static bool same_file(const lf_tail_position *a, const lf_tail_position *b)
{
    return a->dev == b->dev && a->ino == b->ino;
}

/* Where a record begins: its end minus its bytes and the '\n' the tail removed. */
static lf_tail_position record_start(const lf_tail_record *rec)
{
    lf_tail_position p = rec->position;
    bool newline = !(rec->flags & LF_TAIL_REC_NO_NEWLINE) &&
                   (!(rec->flags & LF_TAIL_REC_SPLIT) || (rec->flags & LF_TAIL_REC_SPLIT_LAST));
    uint64_t back = (uint64_t)rec->len + (newline ? 1 : 0);
    p.offset = p.offset >= back ? p.offset - back : 0;
    return p;
}

/* Note that a file was handed out up to pos, but never past a piece still held. */
static lf_err note(lf_container_reader *r, const lf_tail_position *pos, lf_error *err)
{
    lf_tail_position p = *pos;
    for (container_join *j = r->joins; j; j = j->next)
        if (same_file(&j->start, &p) && j->start.generation == p.generation &&
            j->start.offset < p.offset)
            p.offset = j->start.offset;
    return lf_tail_pending_note(&r->fi->pending, &p, err);
}

static lf_err set_emit_path(lf_container_reader *r, const char *path, lf_error *err)
{
    if (r->emit_path && strcmp(r->emit_path, path) == 0)
        return LF_OK;
    char *dup = strdup(path);
    if (!dup)
        return lf_error_set(err, LF_ERR_NOMEM, "container input: out of memory");
    free(r->emit_path);
    r->emit_path = dup;
    return LF_OK;
}

static void join_free(container_join *j)
{
    lf_buf_free_secret(&j->text);
    free(j->path);
    free(j);
}

static void join_unlink(lf_container_reader *r, container_join *j)
{
    for (container_join **l = &r->joins; *l; l = &(*l)->next)
        if (*l == j) {
            *l = j->next;
            return;
        }
}

/* Emit one chunk of j (j is final or holds at least max_bytes). */
static lf_err emit_chunk(lf_container_reader *r, container_join *j, lf_agent_event *ev,
                         lf_error *err)
{
    size_t n = j->text.len;
    bool last = j->final && n <= r->max_bytes;
    if (!last) {
        n = lf_agent_utf8_cut((const char *)j->text.data, j->text.len, r->max_bytes);
        if (n == 0)
            n = r->max_bytes < j->text.len ? r->max_bytes : j->text.len;
    }
    lf_err e = set_emit_path(r, j->path, err);
    if (e != LF_OK)
        return e;
    lf_agent_event_reset(ev);
    if ((e = lf_agent_event_set_message_copy(ev, j->text.data, n, err)) != LF_OK)
        return e;
    ev->ts_ns = j->ts_ns;
    if (j->stream[0])
        lf_agent_event_set_label(ev, "stream", 6, j->stream, strlen(j->stream));
    const char *reason = last ? j->reason : "max_bytes";
    if (reason)
        lf_agent_event_set_label(ev, "split", 5, reason, strlen(reason));
    if (last) {
        join_unlink(r, j);
        for (size_t i = 0; i < j->n_ends && e == LF_OK; i++)
            e = note(r, &j->ends[i], err);
        join_free(j);
        r->fi->records++;
        return e;
    }
    r->split_max++;
    memmove(j->text.data, j->text.data + n, j->text.len - n);
    j->text.len -= n;
    /* What is left came from the newest piece alone: the older pieces are all handed out, so
     * the files they came from may be noted (up to where the newest piece begins). */
    if (j->text.len <= j->last_piece_len) {
        j->start = j->last_start;
        for (size_t i = 0; i < j->n_ends && e == LF_OK; i++)
            e = note(r, &j->ends[i], err);
        j->ends[0] = j->last_end;
        j->n_ends = 1;
    }
    r->fi->records++;
    return e;
}

static container_join *find_join(lf_container_reader *r, const char *path, const char *stream)
{
    for (container_join *j = r->joins; j; j = j->next)
        if (!j->final && strcmp(j->path, path) == 0 && strcmp(j->stream, stream) == 0)
            return j;
    return NULL;
}

static lf_err join_piece(lf_container_reader *r, const lf_tail_record *rec, lf_agent_event *ev,
                         const char *stream, lf_error *err)
{
    container_join *j = find_join(r, rec->path, stream);
    if (!j) {
        j = calloc(1, sizeof *j);
        if (!j || !(j->path = strdup(rec->path))) {
            free(j);
            return lf_error_set(err, LF_ERR_NOMEM, "container input: out of memory");
        }
        snprintf(j->stream, sizeof j->stream, "%s", stream);
        j->ts_ns = ev->ts_ns;
        j->start = record_start(rec);
        container_join **l = &r->joins;
        while (*l)
            l = &(*l)->next;
        *l = j;
    }
    if (lf_buf_append(&j->text, ev->message, ev->message_len) != LF_OK)
        return lf_error_set(err, LF_ERR_NOMEM, "container input: out of memory");
    j->last_piece_len = ev->message_len;
    j->last_start = record_start(rec);
    j->last_end = rec->position;
    j->last_ms = mono_ms();
    size_t i = 0;
    while (i < j->n_ends && !same_file(&j->ends[i], &rec->position))
        i++;
    if (i == JOIN_MAX_FILES) {
        /* A line spread over more rotated files than we track: emit what we hold. */
        j->final = true;
        j->reason = "rotation";
        i = JOIN_MAX_FILES - 1;
    }
    j->ends[i] = rec->position;
    if (i == j->n_ends)
        j->n_ends++;
    if (!ev->partial)
        j->final = true;
    return LF_OK;
}

/* One record from the tail. *emitted: ev holds an event to return. */
static lf_err handle_record(lf_container_reader *r, const lf_tail_record *rec, lf_agent_event *ev,
                            bool *emitted, lf_error *err)
{
    *emitted = false;
    lf_agent_event_reset(ev);
    const char *data = (const char *)rec->data;
    lf_container_format fmt = r->format;
    if (fmt == LF_CONTAINER_AUTO)
        fmt = rec->len > 0 && data[0] == '{' ? LF_CONTAINER_DOCKER : LF_CONTAINER_CRI;
    lf_err e = fmt == LF_CONTAINER_DOCKER ? lf_parse_docker(data, rec->len, ev, NULL)
                                          : lf_parse_cri(data, rec->len, ev, NULL);
    if (e == LF_ERR_NOMEM)
        return lf_error_set(err, e, "container input: out of memory");
    if (e != LF_OK) {
        r->unparsed++;
        lf_agent_event_reset(ev);
        ev->message = data;
        ev->message_len = rec->len;
    }
    char stream[17] = "";
    const char *s = lf_agent_event_label(ev, "stream");
    if (s)
        snprintf(stream, sizeof stream, "%s", s);
    if (e != LF_OK || (!ev->partial && !find_join(r, rec->path, stream))) {
        if ((e = set_emit_path(r, rec->path, err)) != LF_OK ||
            (e = note(r, &rec->position, err)) != LF_OK)
            return e;
        r->fi->records++;
        *emitted = true;
        return LF_OK;
    }
    return join_piece(r, rec, ev, stream, err);
}

/* Mark joins that waited too long for their last piece; return one ready to emit, else NULL
 * (and *wait_ms lowered to the nearest timeout). */
static container_join *ready_join(lf_container_reader *r, int64_t now, int64_t *wait_ms)
{
    for (container_join *j = r->joins; j; j = j->next) {
        if (!j->final && now - j->last_ms >= (int64_t)r->flush_ms) {
            j->final = true;
            j->reason = "timeout";
            r->split_timeout++;
        }
        if (j->final || j->text.len >= r->max_bytes)
            return j;
        if (j->last_ms + (int64_t)r->flush_ms - now < *wait_ms)
            *wait_ms = j->last_ms + (int64_t)r->flush_ms - now;
    }
    return NULL;
}

lf_err lf_container_next(lf_container_reader *r, lf_agent_event *ev, int timeout_ms,
                         const char **path, lf_error *err)
{
    int64_t deadline = mono_ms() + (timeout_ms > 0 ? timeout_ms : 0);
    for (;;) {
        int64_t now = mono_ms();
        int64_t wait = deadline - now;
        container_join *j = ready_join(r, now, &wait);
        if (j) {
            lf_err e = emit_chunk(r, j, ev, err);
            if (e == LF_OK)
                *path = r->emit_path;
            return e;
        }
        /* Past the deadline: one more look at the tail without waiting, so a record that is
         * already there is not held back, then give up. */
        bool last_try = deadline - now <= 0;
        lf_tail_record rec;
        lf_err e = lf_tail_next(r->fi->tail, &rec, (int)(wait > 0 ? wait : 0), err);
        if (e == LF_ERR_NOT_FOUND) {
            if (last_try || mono_ms() >= deadline)
                return e;
            continue;
        }
        if (e != LF_OK)
            return e;
        bool emitted;
        if ((e = handle_record(r, &rec, ev, &emitted, err)) != LF_OK)
            return e;
        if (emitted) {
            *path = r->emit_path;
            return LF_OK;
        }
        /* A held piece: loop (a join it completed is emitted at the top). The tail returns
         * NOT_FOUND once it has nothing more, which ends the loop past the deadline. */
    }
}

void lf_container_reader_fini(lf_container_reader *r)
{
    while (r->joins) {
        container_join *j = r->joins;
        r->joins = j->next;
        join_free(j);
    }
    free(r->emit_path);
    r->emit_path = NULL;
}

void lf_container_reader_metrics(const lf_container_reader *r, const char *input, lf_buf *out)
{
    lf_agent_input_metric(out, "logflux_agent_container_unparsed_lines_total", input, r->unparsed);
    lf_agent_input_metric(out, "logflux_agent_container_split_max_bytes_total", input,
                          r->split_max);
    lf_agent_input_metric(out, "logflux_agent_container_split_timeout_total", input,
                          r->split_timeout);
}

/*
 * inflight.c — what the shipper holds, and the rule that counts drops exactly.
 *
 * The shipper works on copies: peek hands it a batch, and it may keep retrying the first item
 * for as long as the server is down. Meanwhile drop_oldest may delete the segments those
 * copies came from. Counting every unacked item of a deleted segment as dropped would count
 * twice an item the shipper then delivers; not counting them would lose the ones it never
 * sends. The rule (docs/AGENT-BUFFER.md, "What the shipper holds"):
 *
 *   - An item at or below max(acked, delivered) is shipped: never counted as dropped.
 *     `delivered` is where send_end(SENT) got to; the ack that makes it durable comes later
 *     (the shipper acks a batch at a time), and a drop in between must not count those items.
 *   - The item in flight (send_begin .. send_end) is not counted when its segment goes: only
 *     a final answer settles it, because a failed attempt (a timeout, a reset) may still have
 *     been stored. send_end(SENT) leaves it uncounted; send_end(ABANDONED) counts it then.
 *   - Every other unacked item of a dropped segment is counted at once, and send_begin refuses
 *     it from then on (LF_ERR_NOT_FOUND), so its copy is never sent.
 *
 * Ids are strictly increasing and the shipper goes oldest first, so one watermark and one
 * in-flight slot describe everything it holds. Every count also goes to the item's source
 * (abuf_count_drop, sources.c), so the per-input counts obey the same rule. None of this is
 * persisted: after a crash the items still on disk are delivered again (the server dedupes by
 * idempotency key) and the counters, like all of this buffer's event counters, start again at
 * zero.
 */
#include "buffer/buffer_int.h"

#include <inttypes.h>

static uint64_t shipped_upto(const lf_agent_buffer *b)
{
    return b->acked > b->delivered ? b->acked : b->delivered;
}

/* Is item id still in a segment? Segments are ordered by first id, items by id. */
static bool in_segments(const lf_agent_buffer *b, uint64_t id)
{
    size_t lo = 0, hi = b->nsegs;
    while (lo < hi) { /* first segment whose first_id > id */
        size_t mid = lo + (hi - lo) / 2;
        if (b->segs[mid].first_id <= id)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == 0)
        return false;
    const segment *s = &b->segs[lo - 1];
    size_t a = 0, z = s->n; /* ids are consecutive in practice; a search does not assume it */
    while (a < z) {
        size_t mid = a + (z - a) / 2;
        if (s->items[mid].id < id)
            a = mid + 1;
        else
            z = mid;
    }
    return a < s->n && s->items[a].id == id;
}

void abuf_count_dropped(lf_agent_buffer *b, const segment *s)
{
    uint64_t shipped = shipped_upto(b);
    for (size_t j = 0; j < s->n; j++) {
        const item_ref *r = &s->items[j];
        if (r->id <= shipped)
            continue;
        if (r->id == b->inflight_id) {
            b->inflight_dropped = true;
            b->inflight_records = r->records;
            b->inflight_source = r->source;
            continue;
        }
        abuf_count_drop(b, r->source, r->records);
    }
}

static lf_err begin_locked(lf_agent_buffer *b, uint64_t id, lf_error *err)
{
    if (id == 0 || id >= b->next_id)
        return lf_error_set(err, LF_ERR_INVALID,
                            "agent buffer: send of item %" PRIu64 " which was never appended", id);
    if (b->inflight_id == id)
        return LF_OK; /* still ours, whatever happened to its segment */
    if (b->inflight_id != 0)
        return lf_error_set(err, LF_ERR_INVALID,
                            "agent buffer: send of item %" PRIu64 " while item %" PRIu64
                            " is in flight",
                            id, b->inflight_id);
    if (id <= b->acked || !in_segments(b, id))
        return lf_error_set(err, LF_ERR_NOT_FOUND,
                            "agent buffer: item %" PRIu64 " is no longer pending", id);
    b->inflight_id = id;
    b->inflight_dropped = false;
    b->inflight_records = 0;
    b->inflight_source = ABUF_SOURCE_NONE;
    return LF_OK;
}

lf_err lf_agent_buffer_send_begin(lf_agent_buffer *b, uint64_t id, lf_error *err)
{
    if (b == NULL)
        return lf_error_set(err, LF_ERR_INVALID, "agent buffer: send_begin needs a buffer");
    pthread_mutex_lock(&b->mu);
    lf_err rc = begin_locked(b, id, err);
    pthread_mutex_unlock(&b->mu);
    return rc;
}

static lf_err end_locked(lf_agent_buffer *b, uint64_t id, lf_agent_buffer_send_outcome outcome,
                         lf_error *err)
{
    if (id == 0 || id != b->inflight_id)
        return lf_error_set(err, LF_ERR_INVALID,
                            "agent buffer: send_end of item %" PRIu64 " which is not in flight",
                            id);
    if (outcome == LF_AGENT_BUFFER_SENT) {
        if (id > b->delivered)
            b->delivered = id;
    } else if (b->inflight_dropped && id > shipped_upto(b)) {
        /* Its segment is gone and nobody will send it again: now it is dropped. */
        abuf_count_drop(b, b->inflight_source, b->inflight_records);
    }
    b->inflight_id = 0;
    b->inflight_dropped = false;
    b->inflight_records = 0;
    b->inflight_source = ABUF_SOURCE_NONE;
    return LF_OK;
}

lf_err lf_agent_buffer_send_end(lf_agent_buffer *b, uint64_t id,
                                lf_agent_buffer_send_outcome outcome, lf_error *err)
{
    if (b == NULL || (outcome != LF_AGENT_BUFFER_SENT && outcome != LF_AGENT_BUFFER_ABANDONED))
        return lf_error_set(err, LF_ERR_INVALID,
                            "agent buffer: send_end needs a buffer and a known outcome");
    pthread_mutex_lock(&b->mu);
    lf_err rc = end_locked(b, id, outcome, err);
    pthread_mutex_unlock(&b->mu);
    return rc;
}

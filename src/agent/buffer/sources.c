/*
 * sources.c — which input each indexed item came from, and what drop_oldest dropped per input.
 *
 * The agent exports "records dropped" per input, so a drop must be attributed to the item's
 * source. Reading the source back from the segment when it is dropped would cost a pread per
 * item inside the append path, and the segment may be half gone; so the in-memory index keeps
 * it instead, as a 16-bit slot in a per-buffer table of names (item_ref.source). Slots are
 * handed out on append and on recovery at open, in this process, and never reused: a name's
 * slot holds its drop counters for the life of the handle.
 *
 * Bounds: slot 0 is "no source" (""), slot 1 is the catch-all "*" (never a valid source name),
 * then at most LF_AGENT_BUFFER_SOURCES_MAX named slots. Sources with a cursor are limited to
 * that many anyway; items without a cursor are not, so a process that sees more distinct names
 * than that attributes the later ones to "*" instead of growing without bound.
 *
 * Exactness: abuf_count_drop is the only place that adds to dropped_items / dropped_records,
 * and it adds to one slot in the same step, so the global counters always equal the sum over
 * slots. Which items count, and when, is inflight.c's rule.
 */
#include "buffer/buffer_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Position of name among the named slots in sorted order (found or where it would go). */
static size_t order_slot(const lf_agent_buffer *b, const char *name, bool *found)
{
    size_t lo = 0, hi = b->nsources - ABUF_SOURCE_FIRST;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(b->sources[b->source_order[mid]].name, name);
        if (c == 0) {
            *found = true;
            return mid;
        }
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    *found = false;
    return lo;
}

lf_err abuf_sources_init(lf_agent_buffer *b)
{
    b->sources = calloc(ABUF_SOURCE_FIRST, sizeof *b->sources);
    if (b->sources == NULL)
        return LF_ERR_NOMEM;
    snprintf(b->sources[ABUF_SOURCE_OTHER].name, sizeof b->sources[0].name, "%s",
             LF_AGENT_BUFFER_SOURCE_OTHER);
    b->nsources = b->sourcecap = ABUF_SOURCE_FIRST;
    return LF_OK;
}

void abuf_sources_free(lf_agent_buffer *b)
{
    free(b->sources);
    free(b->source_order);
    b->sources = NULL;
    b->source_order = NULL;
    b->nsources = b->sourcecap = 0;
}

/* Room for one more named slot (slots and the sorted order grow together). */
static lf_err sources_reserve(lf_agent_buffer *b)
{
    if (b->nsources < b->sourcecap)
        return LF_OK;
    size_t cap = b->sourcecap * 2;
    if (cap > ABUF_SOURCE_SLOTS)
        cap = ABUF_SOURCE_SLOTS;
    source_slot *s = realloc(b->sources, cap * sizeof *s);
    if (s == NULL)
        return LF_ERR_NOMEM;
    b->sources = s;
    uint16_t *o = realloc(b->source_order, (cap - ABUF_SOURCE_FIRST) * sizeof *o);
    if (o == NULL)
        return LF_ERR_NOMEM; /* the larger slot array is kept; cap is unchanged, still sound */
    b->source_order = o;
    b->sourcecap = cap;
    return LF_OK;
}

lf_err abuf_source_slot(lf_agent_buffer *b, const char *name, size_t len, uint16_t *slot)
{
    if (len == 0) {
        *slot = ABUF_SOURCE_NONE;
        return LF_OK;
    }
    bool found;
    size_t at = order_slot(b, name, &found);
    if (found) {
        *slot = b->source_order[at];
        return LF_OK;
    }
    if (b->nsources == ABUF_SOURCE_SLOTS) {
        *slot = ABUF_SOURCE_OTHER; /* documented: past the bound, counted under "*" */
        return LF_OK;
    }
    if (sources_reserve(b) != LF_OK)
        return LF_ERR_NOMEM;
    size_t named = b->nsources - ABUF_SOURCE_FIRST;
    memmove(&b->source_order[at + 1], &b->source_order[at], (named - at) * sizeof *b->source_order);
    source_slot *s = &b->sources[b->nsources];
    memset(s, 0, sizeof *s);
    memcpy(s->name, name, len); /* len <= LF_AGENT_BUFFER_SOURCE_MAX, validated by the caller */
    s->name[len] = 0;
    b->source_order[at] = (uint16_t)b->nsources;
    *slot = (uint16_t)b->nsources;
    b->nsources++;
    return LF_OK;
}

void abuf_count_drop(lf_agent_buffer *b, uint16_t slot, uint32_t records)
{
    if (slot >= b->nsources)
        slot = ABUF_SOURCE_OTHER; /* cannot happen: every slot in an item_ref was handed out */
    b->st.dropped_items++;
    b->st.dropped_records += records;
    b->sources[slot].dropped_items++;
    b->sources[slot].dropped_records += records;
}

lf_err lf_agent_buffer_dropped_for(lf_agent_buffer *b, const char *source, uint64_t *items,
                                   uint64_t *records, lf_error *err)
{
    size_t len = source ? strnlen(source, LF_AGENT_BUFFER_SOURCE_MAX + 1) : 0;
    bool other = len > 0 && strcmp(source, LF_AGENT_BUFFER_SOURCE_OTHER) == 0;
    if (b == NULL || (!other && !abuf_source_valid(source, len)))
        return lf_error_set(err, LF_ERR_INVALID,
                            "agent buffer: dropped_for needs a buffer and a source of 0..64 "
                            "[A-Za-z0-9_.-] or \"" LF_AGENT_BUFFER_SOURCE_OTHER "\"");
    uint64_t n = 0, r = 0;
    pthread_mutex_lock(&b->mu);
    const source_slot *s = NULL;
    if (len == 0) {
        s = &b->sources[ABUF_SOURCE_NONE];
    } else if (other) {
        s = &b->sources[ABUF_SOURCE_OTHER];
    } else {
        bool found;
        size_t at = order_slot(b, source, &found);
        if (found)
            s = &b->sources[b->source_order[at]];
    }
    if (s != NULL) {
        n = s->dropped_items;
        r = s->dropped_records;
    }
    pthread_mutex_unlock(&b->mu);
    if (items != NULL)
        *items = n;
    if (records != NULL)
        *records = r;
    return LF_OK;
}

/*
 * buffer_int.h — what the agent buffer's files share (not part of the API): the handle, the
 * in-memory index of segments, the per-source cursor table, little-endian helpers and the I/O
 * wrappers. buffer.c owns segments, append, peek, ack and recovery; checkpoint.c the ack
 * checkpoint file and the cursor table persisted in it; wait.c the blocking helpers; inflight.c
 * the shipper's claim on the item it is sending and the rule that counts drops; sources.c the
 * table of source names the index points into and the drop counters per source.
 */
#ifndef LF_AGENT_BUFFER_INT_H
#define LF_AGENT_BUFFER_INT_H

#include "buffer/buffer.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#define ABUF_SEG_HDR  32
#define ABUF_ITEM_HDR 44
#define ABUF_PATH_CAP 4096
/* The most app + key + source bytes an item carries. */
#define ABUF_META_MAX                                                                              \
    (LF_AGENT_BUFFER_APP_MAX + LF_AGENT_BUFFER_KEY_MAX + LF_AGENT_BUFFER_SOURCE_MAX)

typedef struct item_ref {
    uint64_t id;
    uint64_t off;
    uint64_t size;
    uint32_t records;
    uint16_t source; /* slot in b->sources (sources.c); fits the padding, the index stays 32 B */
} item_ref;

typedef struct segment {
    uint64_t first_id;
    uint64_t size; /* bytes in the file (durable) */
    item_ref *items;
    size_t n, cap;
} segment;

/*
 * The newest cursor of one source. persisted: acked.ckpt holds exactly this (id, cursor); an
 * entry that is not persisted lives only in a segment, so before that segment goes away (ack,
 * drop, quarantine) the checkpoint is rewritten to hold it.
 */
typedef struct cursor_entry {
    char source[LF_AGENT_BUFFER_SOURCE_MAX + 1];
    uint64_t id;
    uint8_t *cursor; /* malloc'd, len > 0 */
    size_t len;
    bool persisted;
} cursor_entry;

/* A source name and what drop_oldest dropped of its items in this process (sources.c). */
typedef struct source_slot {
    char name[LF_AGENT_BUFFER_SOURCE_MAX + 1];
    uint64_t dropped_items;
    uint64_t dropped_records;
} source_slot;

#define ABUF_SOURCE_NONE  0 /* items without a source */
#define ABUF_SOURCE_OTHER 1 /* the catch-all once every named slot is taken */
#define ABUF_SOURCE_FIRST 2 /* the first named slot */
#define ABUF_SOURCE_SLOTS (ABUF_SOURCE_FIRST + LF_AGENT_BUFFER_SOURCES_MAX)

struct lf_agent_buffer {
    char *dir;
    int dirfd;
    uint64_t max_bytes, segment_bytes;
    lf_agent_buffer_policy policy;
    const lf_agent_buffer_io *io;
    void *ctx;
    pthread_mutex_t mu;
    pthread_cond_t space_cv; /* signalled when segments go away (ack, drop, quarantine) */
    pthread_cond_t items_cv; /* signalled by append */
    bool woken;              /* lf_agent_buffer_wake was called: every wait returns at once */
    segment *segs; /* oldest first; the last one is the active segment when active_fd >= 0 */
    size_t nsegs, segcap;
    int active_fd;    /* open descriptor of segs[nsegs-1], or -1 (next append starts a segment) */
    bool need_repair; /* a failed append left bytes past segs[last].size: cut them first */
    uint64_t next_id;
    uint64_t acked;
    cursor_entry *cursors; /* sorted by source (strcmp), at most LF_AGENT_BUFFER_SOURCES_MAX */
    size_t ncursors;
    source_slot *sources;   /* slots in the order handed out; never reused (sources.c) */
    uint16_t *source_order; /* the named slots, sorted by name (strcmp) */
    size_t nsources, sourcecap;
    /* What the shipper holds (inflight.c; in memory only, per process). */
    uint64_t delivered;        /* send_end(SENT) reached this id; its ack is on the way */
    uint64_t inflight_id;      /* between send_begin and send_end; 0 = none */
    bool inflight_dropped;     /* drop_oldest deleted it meanwhile: not counted (yet) */
    uint32_t inflight_records; /* its record count and source slot, for when it is abandoned */
    uint16_t inflight_source;
    lf_agent_buffer_stats st;
};

static inline void abuf_put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}
static inline void abuf_put32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}
static inline void abuf_put64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}
static inline uint16_t abuf_get16(const uint8_t *p)
{
    return (uint16_t)(p[0] | (p[1] << 8));
}
static inline uint32_t abuf_get32(const uint8_t *p)
{
    uint32_t v = 0;
    for (int i = 3; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}
static inline uint64_t abuf_get64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

/* buffer.c */
lf_err abuf_io_fail(lf_error *err, const char *what, const char *path);
int abuf_write_all(const lf_agent_buffer *b, int fd, const void *data, size_t len, off_t off);
int abuf_read_all(const lf_agent_buffer *b, int fd, void *data, size_t len, off_t off);
lf_err abuf_fsync_dir(lf_agent_buffer *b, lf_error *err);
void abuf_quarantine_file(lf_agent_buffer *b, const char *name, const char *reason);
bool abuf_source_valid(const char *s, size_t len);
/* Bytes an item of these lengths takes in a segment. */
uint64_t abuf_item_size(size_t app_len, size_t key_len, size_t source_len, size_t cursor_len,
                        size_t body_len);
/* Would an item of `size` bytes be refused with LF_ERR_FULL under the block policy now? */
bool abuf_fits(const lf_agent_buffer *b, uint64_t size);

/* inflight.c */
/* drop_oldest is deleting segment s: count what in it was neither shipped nor is in flight. */
void abuf_count_dropped(lf_agent_buffer *b, const segment *s);

/* sources.c */
/* The table with its two fixed slots ("" and "*"). LF_ERR_NOMEM. */
lf_err abuf_sources_init(lf_agent_buffer *b);
void abuf_sources_free(lf_agent_buffer *b);
/*
 * The slot of a valid source of len bytes (0 = none), handed out on first sight; "*" once the
 * table is full. LF_ERR_NOMEM only when a new slot cannot be allocated.
 */
lf_err abuf_source_slot(lf_agent_buffer *b, const char *name, size_t len, uint16_t *slot);
/* Count one dropped item of that slot, globally and per source in one step. */
void abuf_count_drop(lf_agent_buffer *b, uint16_t slot, uint32_t records);

/* checkpoint.c */
/* Read acked.ckpt into b->acked, b->next_id (a floor) and the cursor table (all persisted). */
void abuf_ckpt_read(lf_agent_buffer *b);
/*
 * Write acked.ckpt (tmp, fdatasync, rename, directory fsync) holding `acked`, b->next_id and
 * every cursor that would no longer be in a segment once segs[lo, hi) are gone. LF_OK marks
 * those persisted; on failure nothing changes.
 */
lf_err abuf_ckpt_write(lf_agent_buffer *b, uint64_t acked, size_t lo, size_t hi, lf_error *err);
/* Would removing segs[lo, hi) lose a cursor that acked.ckpt does not hold? */
bool abuf_cursors_at_risk(const lf_agent_buffer *b, size_t lo, size_t hi);
cursor_entry *abuf_cursor_find(const lf_agent_buffer *b, const char *source);
/* Allocate the table (all LF_AGENT_BUFFER_SOURCES_MAX slots, once) so a put cannot fail on
 * memory after an append is already durable. */
lf_err abuf_cursor_reserve(lf_agent_buffer *b);
/*
 * Record (source, id, cursor) if id is newer than what the table holds. Takes ownership of
 * *cursor on LF_OK (sets it NULL when kept; frees it when older). LF_ERR_TOO_LARGE when the
 * table is full of other sources, LF_ERR_NOMEM if it cannot be allocated.
 */
lf_err abuf_cursor_put(lf_agent_buffer *b, const char *source, uint64_t id, uint8_t **cursor,
                       size_t len, bool persisted);
void abuf_cursors_free(lf_agent_buffer *b);

#endif

/*
 * tail_int.h — internal state of the tail input shared by its files: tail.c (the next() loop
 * and glob scanning), tail_file.c (one followed file: reading, lines, identity, truncation),
 * tail_watch_inotify.c / tail_watch_poll.c (wakeups), tail_copy.c (the copy rule),
 * tail_checkpoint.c (SQLite), tail_multiline.c (grouping). Not a public header.
 */
#ifndef LF_AGENT_TAIL_INT_H
#define LF_AGENT_TAIL_INT_H

#include <regex.h>
#include <sys/types.h>

#include "tail.h"

/* A growable byte buffer (plain; log bytes are not secrets here). */
typedef struct tail_bytes {
    uint8_t *data;
    size_t len, cap;
} tail_bytes;

bool tail_bytes_append(tail_bytes *b, const void *p, size_t n);
void tail_bytes_free(tail_bytes *b);

/* Multiline accumulator of one file. */
typedef struct tail_ml {
    tail_bytes group;
    size_t lines;
    unsigned flags;
    uint64_t end_offset; /* offset after the last line in the group */
    int64_t last_append_ms;
} tail_ml;

/* Where a file found while running stands with respect to the copy rule (tail_copy.c). Any
 * state but TAIL_COPY_NONE parks the file: it is not read until the state is resolved. */
enum tail_copy_state {
    TAIL_COPY_NONE = 0, /* decided; the file is read from its offset */
    TAIL_COPY_MAYBE,    /* all its bytes so far are a prefix of a candidate's head: wait */
    TAIL_COPY_OF_LIVE,  /* a copy of a followed file not seen truncated (yet): wait for it */
    TAIL_COPY_AT,       /* the copy of a cut file: starts at copy_off once it is that long */
};

typedef struct tail_file {
    struct tail_file *next;
    char *path;
    int fd;
    uint64_t dev, ino;
    uint64_t fp_hash;
    uint32_t fp_len;
    uint32_t generation;
    uint8_t head[LF_TAIL_FP_MAX]; /* the first fp_len bytes (fp_hash is their hash) */
    uint8_t *buf; /* unconsumed bytes are buf[buf_pos..buf_len); buf[buf_pos] is at consumed_off */
    size_t buf_pos, buf_len, buf_cap;
    uint64_t consumed_off;
    uint8_t anchor[64]; /* last bytes read before read_off (truncation check) */
    size_t anchor_len;
    bool gone;            /* path no longer names this file (renamed away, deleted) */
    int64_t eof_since_ms; /* when reads last hit EOF (0 = not at EOF) */
    bool split_active;    /* a long line is being emitted in pieces */
    bool after_truncate;
    bool trunc_pending; /* truncation seen: flush what we hold, then restart at 0 */
    tail_ml ml;
    /* copy rule: state, the original (OF_LIVE), where to start and the bytes that must
     * precede that offset (AT), since when the file is parked */
    enum tail_copy_state copy_state;
    uint64_t copy_dev, copy_ino;
    uint64_t copy_off;
    uint8_t copy_anchor[64];
    size_t copy_anchor_len;
    int64_t copy_since_ms;
    int64_t read_time_ns; /* CLOCK_REALTIME of the last read: the time of the records in it */
} tail_file;

/* A recent truncation, kept so that the copy made by copytruncate can resume where we were. */
typedef struct tail_trunc_memo {
    uint8_t head[LF_TAIL_FP_MAX]; /* the file's first fp_len bytes before the cut */
    uint32_t fp_len;
    uint64_t offset;    /* everything before it was returned */
    uint8_t anchor[64]; /* the bytes just before offset */
    size_t anchor_len;
    int64_t at_ms;
} tail_trunc_memo;

#define TAIL_MEMO_MAX 16

typedef struct tail_ckpt tail_ckpt;

struct lf_tail {
    char **globs;
    size_t n_globs;
    bool read_from_head;
    unsigned poll_ms, ml_flush_ms, rotate_wait_ms;
    unsigned ml_max_lines;
    size_t ml_max_bytes, max_line;
    bool ml_on;
    regex_t ml_re;
    tail_file *files;
    tail_file *rr; /* round-robin cursor */
    bool first_scan_done;
    int64_t next_scan_ms;
    int inotify_fd; /* -1 when off */
    tail_trunc_memo memo[TAIL_MEMO_MAX];
    size_t n_memo;
    tail_ckpt *ckpt;
    lf_tail_stats stats;
    tail_bytes out; /* storage behind the last returned record */
    char *out_path;
    tail_bytes scratch;
    bool (*accept)(void *ctx, const char *path);
    void *accept_ctx;
};

int64_t tail_now_ms(void);
int64_t tail_realtime_ns(void);
uint64_t tail_fnv1a(const uint8_t *p, size_t n);

/* tail_file.c */
lf_err tail_file_open(lf_tail *t, const char *path, tail_file **out, lf_error *err);
void tail_file_close(lf_tail *t, tail_file *f);
/* Hash of the first n bytes of fd; false when the file is shorter or unreadable. */
bool tail_file_hash_prefix(int fd, uint32_t n, uint64_t *hash);
/* Read all n bytes at off; false on a short read or an error. */
bool tail_pread_full(int fd, uint8_t *p, size_t n, uint64_t off);
/* Take the first n bytes (at most LF_TAIL_FP_MAX) as f's head and fingerprint; on a short
 * read f is left as it was and false is returned. */
bool tail_file_fingerprint(tail_file *f, uint32_t n);
void tail_file_seek(tail_file *f, uint64_t off);
/* Per-tick check: rotation, deletion, truncation, fingerprint growth. */
void tail_file_check(lf_tail *t, tail_file *f);
/* Try to produce one record from f. true: *rec filled. */
bool tail_file_produce(lf_tail *t, tail_file *f, lf_tail_record *rec, int64_t now);
/* true when f is gone, drained and past rotate_wait with nothing pending. */
bool tail_file_finished(const lf_tail *t, const tail_file *f, int64_t now);
void tail_file_position(const tail_file *f, uint64_t off, lf_tail_position *pos);
/* Fill rec from bytes (copied into t->out). */
void tail_emit(lf_tail *t, tail_file *f, const uint8_t *p, size_t n, size_t lines, unsigned flags,
               uint64_t end_off, lf_tail_record *rec);

/* tail_multiline.c */
/* Feed one complete line. true: a finished group was emitted into *rec (the line itself then
 * starts the next group). */
bool tail_ml_feed(lf_tail *t, tail_file *f, const uint8_t *line, size_t n, uint64_t end_off,
                  int64_t now, lf_tail_record *rec);
/* Emit the pending group if it has been idle for the flush timeout (or force). */
bool tail_ml_flush(lf_tail *t, tail_file *f, int64_t now, bool force, lf_tail_record *rec);

/* tail_checkpoint.c */
lf_err tail_ckpt_open(const char *path, tail_ckpt **out, lf_error *err);
void tail_ckpt_close(tail_ckpt *c);
/* Look up by (dev, ino). LF_ERR_NOT_FOUND when there is none. */
lf_err tail_ckpt_get(tail_ckpt *c, uint64_t dev, uint64_t ino, lf_tail_position *pos,
                     lf_error *err);
lf_err tail_ckpt_put(tail_ckpt *c, const lf_tail_position *pos, size_t n, lf_tail *t,
                     lf_error *err);
/* Write each position whose row is behind it (lf_tail_restore's rule), in one transaction. */
lf_err tail_ckpt_put_if_ahead(tail_ckpt *c, const lf_tail_position *pos, size_t n, size_t *applied,
                              lf_error *err);

/* tail_copy.c */
/* Decide where a file found while running (and without a checkpoint) starts: at 0 (new
 * content), or, if it may be the copy made by copytruncate, parked until that is settled. */
void tail_copy_begin(lf_tail *t, tail_file *f, int64_t now);
/* Try to resolve a parked file. true once f has a read offset (copy_state NONE). */
bool tail_copy_settle(lf_tail *t, tail_file *f, int64_t now);
/* o was found cut with everything before read_off returned: its copies parked as OF_LIVE now
 * start at read_off. Returns how many there were (0: keep a memo for a copy found later). */
size_t tail_copy_original_cut(lf_tail *t, const tail_file *o, uint64_t read_off);

/* tail_watch_inotify.c */
void tail_inotify_init(lf_tail *t);
void tail_inotify_close(lf_tail *t);
/* Wait up to ms for an event; true if something happened in a watched directory. */
bool tail_inotify_wait(lf_tail *t, int ms);

/* tail_watch_poll.c */
/* Rescan the globs: open new matching files, follow renamed ones. */
lf_err tail_poll_scan(lf_tail *t, lf_error *err);
/* Run the per-file checks on every open file. */
void tail_poll_check_all(lf_tail *t);

#endif

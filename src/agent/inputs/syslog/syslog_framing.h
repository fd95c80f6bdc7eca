/*
 * syslog_framing.h — RFC 6587 frame decoder for syslog over a byte stream (TCP).
 *
 * Two framings exist in the wild:
 *   octet counting        "LEN SP MSG"  (LEN: decimal, no leading zero; MSG exactly LEN bytes)
 *   non-transparent       "MSG LF"      (the message ends at a line feed)
 * In `auto` mode the first byte of the stream decides, once per connection: a digit means
 * octet counting (a message in the other framing starts with '<' of its PRI).
 *
 * The decoder is a pure state machine over bytes: no I/O, no clock, no allocation beyond its
 * own frame buffer (at most max_message_bytes). Feeding a stream in any split into pushes
 * yields the same frames as feeding it at once (tests/fuzz/fuzz_agent_syslog_framing.c checks
 * exactly that).
 *
 * Limits: an octet-counted frame longer than the maximum is skipped whole and counted (its
 * length is known, so the stream stays in sync); a line longer than the maximum is cut: its
 * first max bytes form a frame flagged `truncated`, the rest up to the LF is discarded. A
 * malformed length prefix is a framing error: bytes up to the next LF are discarded, then the
 * decoder expects a length again.
 */
#ifndef LF_AGENT_SYSLOG_FRAMING_H
#define LF_AGENT_SYSLOG_FRAMING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "logflux/buf.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum lf_syslog_framing {
    LF_SYSLOG_FRAMING_AUTO = 0,
    LF_SYSLOG_FRAMING_OCTET,
    LF_SYSLOG_FRAMING_NEWLINE,
} lf_syslog_framing;

typedef struct lf_syslog_framer_stats {
    uint64_t frames;           /* frames produced */
    uint64_t truncated;        /* lines cut at the maximum */
    uint64_t oversize_dropped; /* octet-counted frames over the maximum, skipped */
    uint64_t framing_errors;   /* malformed octet-count prefixes */
    uint64_t incomplete;       /* octet-counted frame cut short by the end of the stream */
} lf_syslog_framer_stats;

typedef struct lf_syslog_framer {
    lf_syslog_framing configured; /* as given to init (restored by finish) */
    lf_syslog_framing mode;       /* AUTO until the first byte decides */
    size_t max;                   /* largest frame produced */
    int state;
    uint64_t remaining; /* octet: bytes of the current frame still to come (or to skip) */
    unsigned len_digits;
    bool acc_emitted; /* the last frame lived in acc: reset it on the next push */
    lf_buf acc;       /* bytes of a frame that spans pushes (<= max) */
    lf_syslog_framer_stats stats;
} lf_syslog_framer;

typedef struct lf_syslog_frame {
    const uint8_t *data; /* into the pushed bytes or the framer's buffer: valid until the next
                            push/finish/free and while the pushed bytes are unchanged */
    size_t len;
    bool truncated; /* a line cut at max */
} lf_syslog_frame;

/* max_message_bytes must be >= 1. */
void lf_syslog_framer_init(lf_syslog_framer *f, lf_syslog_framing mode, size_t max_message_bytes);
void lf_syslog_framer_free(lf_syslog_framer *f);

/*
 * Consume a prefix of data[0..len). Returns true when a frame completed (then *out is set and
 * *consumed is the number of bytes used up to and including its end); false when all `len`
 * bytes were consumed without completing one (*consumed == len). Never fails: malformed input
 * is counted in stats. Returns false with *consumed < len only on allocation failure (the
 * caller should drop the connection).
 */
bool lf_syslog_framer_push(lf_syslog_framer *f, const uint8_t *data, size_t len, size_t *consumed,
                           lf_syslog_frame *out);

/* End of stream: a pending unterminated line becomes a frame (true); a pending octet-counted
 * frame is incomplete (counted, false). The framer is ready for a new stream afterwards. */
bool lf_syslog_framer_finish(lf_syslog_framer *f, lf_syslog_frame *out);

#ifdef __cplusplus
}
#endif
#endif

/*
 * syslog_framing.c — the RFC 6587 frame decoder (see syslog_framing.h).
 *
 * A frame that lies whole inside one push is returned as a pointer into the pushed bytes (no
 * copy: the common case when a read returns many small messages); only a frame that spans
 * pushes is gathered in `acc`, which therefore never holds more than max bytes.
 */
#include "syslog_framing.h"

#include <string.h>

enum {
    FR_START,        /* between frames (AUTO: before the first byte) */
    FR_LEN,          /* octet counting: reading the decimal length */
    FR_BODY,         /* octet counting: `remaining` bytes of message to come */
    FR_SKIP,         /* octet counting: skipping a frame over the maximum */
    FR_RESYNC,       /* octet counting: bad prefix, discarding up to the next LF */
    FR_LINE,         /* newline: gathering a line */
    FR_LINE_DISCARD, /* newline: discarding the rest of a line cut at the maximum */
};

/* Ten digits already exceed any sane maximum (and 9 are enough for RFC 6587's 2^31). */
#define FR_MAX_LEN_DIGITS 10

void lf_syslog_framer_init(lf_syslog_framer *f, lf_syslog_framing mode, size_t max_message_bytes)
{
    memset(f, 0, sizeof *f);
    f->configured = mode;
    f->mode = mode;
    f->max = max_message_bytes ? max_message_bytes : 1;
    f->state = mode == LF_SYSLOG_FRAMING_NEWLINE ? FR_LINE : FR_START;
}

void lf_syslog_framer_free(lf_syslog_framer *f)
{
    /* The buffer held log text: wipe it like every other plaintext buffer. */
    lf_buf_free_secret(&f->acc);
}

static bool is_digit(uint8_t c)
{
    return c >= '0' && c <= '9';
}

static bool emit(lf_syslog_framer *f, const uint8_t *data, size_t len, bool truncated,
                 lf_syslog_frame *out)
{
    out->data = data;
    out->len = len;
    out->truncated = truncated;
    f->stats.frames++;
    return true;
}

static bool emit_acc(lf_syslog_framer *f, bool truncated, lf_syslog_frame *out)
{
    f->acc_emitted = true;
    return emit(f, f->acc.data, f->acc.len, truncated, out);
}

/* FR_START: skip separators, decide the framing (AUTO), start a length or a line. Returns the
 * number of bytes consumed (0 when only the state changed). */
static size_t step_start(lf_syslog_framer *f, uint8_t c)
{
    bool octet = f->mode == LF_SYSLOG_FRAMING_OCTET;
    /* Blank separators between frames: many senders end an octet-counted frame with LF
     * outside the count, and an empty line is no message in either framing. */
    if (c == '\n' || c == '\r' || (octet && (c == ' ' || c == '\t' || c == '\0')))
        return 1;
    if (f->mode == LF_SYSLOG_FRAMING_AUTO)
        f->mode = is_digit(c) ? LF_SYSLOG_FRAMING_OCTET : LF_SYSLOG_FRAMING_NEWLINE;
    if (f->mode == LF_SYSLOG_FRAMING_NEWLINE) {
        f->state = FR_LINE;
        return 0;
    }
    if (c >= '1' && c <= '9') {
        f->remaining = (uint64_t)(c - '0');
        f->len_digits = 1;
        f->state = FR_LEN;
        return 1;
    }
    f->stats.framing_errors++;
    f->state = FR_RESYNC;
    return 0;
}

static size_t step_len(lf_syslog_framer *f, uint8_t c)
{
    if (is_digit(c) && f->len_digits < FR_MAX_LEN_DIGITS) {
        f->remaining = f->remaining * 10 + (uint64_t)(c - '0');
        f->len_digits++;
        return 1;
    }
    if (c == ' ') {
        if (f->remaining > f->max) {
            f->stats.oversize_dropped++;
            f->state = FR_SKIP;
        } else {
            f->state = FR_BODY;
        }
        return 1;
    }
    f->stats.framing_errors++;
    f->state = FR_RESYNC;
    return 0;
}

/* FR_LINE over data[0..avail): true when a frame is ready; *used is what was consumed. */
static bool step_line(lf_syslog_framer *f, const uint8_t *data, size_t avail, size_t *used,
                      bool *oom, lf_syslog_frame *out)
{
    const uint8_t *nl = memchr(data, '\n', avail);
    size_t seg = nl ? (size_t)(nl - data) : avail;
    size_t room = f->max - f->acc.len;
    if (seg > room) {
        /* Longer than the maximum: the first max bytes are the message, the rest goes. */
        *used = room;
        f->state = FR_LINE_DISCARD;
        f->stats.truncated++;
        if (f->acc.len == 0)
            return emit(f, data, room, true, out);
        if (lf_buf_append(&f->acc, data, room) != LF_OK) {
            *oom = true;
            return false;
        }
        return emit_acc(f, true, out);
    }
    if (!nl) {
        *used = avail;
        if (lf_buf_append(&f->acc, data, avail) != LF_OK)
            *oom = true;
        return false;
    }
    *used = seg + 1;
    const uint8_t *line = data;
    size_t len = seg;
    bool from_acc = f->acc.len > 0;
    if (from_acc) {
        if (lf_buf_append(&f->acc, data, seg) != LF_OK) {
            *oom = true;
            return false;
        }
        line = f->acc.data;
        len = f->acc.len;
    }
    if (len > 0 && line[len - 1] == '\r')
        len--;
    if (len == 0) {
        f->acc.len = 0;
        return false;
    }
    if (from_acc)
        f->acc_emitted = true;
    return emit(f, line, len, false, out);
}

/* FR_BODY over data[0..avail). */
static bool step_body(lf_syslog_framer *f, const uint8_t *data, size_t avail, size_t *used,
                      bool *oom, lf_syslog_frame *out)
{
    if (f->acc.len == 0 && avail >= f->remaining) {
        size_t n = (size_t)f->remaining;
        *used = n;
        f->state = FR_START;
        return emit(f, data, n, false, out);
    }
    size_t take = avail < f->remaining ? avail : (size_t)f->remaining;
    if (lf_buf_append(&f->acc, data, take) != LF_OK) {
        *oom = true;
        *used = 0;
        return false;
    }
    *used = take;
    f->remaining -= take;
    if (f->remaining > 0)
        return false;
    f->state = FR_START;
    return emit_acc(f, false, out);
}

static size_t skip_to_newline(lf_syslog_framer *f, const uint8_t *data, size_t avail, int next)
{
    const uint8_t *nl = memchr(data, '\n', avail);
    if (!nl)
        return avail;
    f->state = next;
    return (size_t)(nl - data) + 1;
}

bool lf_syslog_framer_push(lf_syslog_framer *f, const uint8_t *data, size_t len, size_t *consumed,
                           lf_syslog_frame *out)
{
    if (f->acc_emitted) {
        f->acc.len = 0;
        f->acc_emitted = false;
    }
    size_t i = 0;
    while (i < len) {
        size_t avail = len - i, used = 0;
        bool oom = false, got = false;
        switch (f->state) {
        case FR_START:
            used = step_start(f, data[i]);
            break;
        case FR_LEN:
            used = step_len(f, data[i]);
            break;
        case FR_BODY:
            got = step_body(f, data + i, avail, &used, &oom, out);
            break;
        case FR_SKIP:
            used = avail < f->remaining ? avail : (size_t)f->remaining;
            f->remaining -= used;
            if (f->remaining == 0)
                f->state = FR_START;
            break;
        case FR_RESYNC:
            used = skip_to_newline(f, data + i, avail, FR_START);
            break;
        case FR_LINE:
            got = step_line(f, data + i, avail, &used, &oom, out);
            break;
        default: /* FR_LINE_DISCARD */
            used = skip_to_newline(f, data + i, avail, FR_LINE);
            break;
        }
        i += used;
        if (got || oom) {
            *consumed = i;
            return got;
        }
    }
    *consumed = len;
    return false;
}

bool lf_syslog_framer_finish(lf_syslog_framer *f, lf_syslog_frame *out)
{
    if (f->acc_emitted) {
        f->acc.len = 0;
        f->acc_emitted = false;
    }
    bool got = false;
    if (f->state == FR_LINE && f->acc.len > 0) {
        size_t len = f->acc.len;
        if (f->acc.data[len - 1] == '\r')
            len--;
        if (len > 0) {
            f->acc_emitted = true;
            got = emit(f, f->acc.data, len, false, out);
        }
    } else if (f->state == FR_LEN || f->state == FR_BODY) {
        f->stats.incomplete++;
    }
    if (!got)
        f->acc.len = 0;
    f->mode = f->configured;
    f->state = f->mode == LF_SYSLOG_FRAMING_NEWLINE ? FR_LINE : FR_START;
    f->remaining = 0;
    f->len_digits = 0;
    return got;
}

/*
 * tail_cursor.c — the positions an input returned since its last commit, and their compact
 * encoding as a cursor (format in tail.h). The cursor is stored by the agent with each sealed
 * batch; after a crash between the append and the commit it is handed back to
 * lf_tail_restore, so the records of that batch are neither read twice nor skipped.
 *
 * Decoding is over bytes read back from the agent's disk buffer: bounded (every count is
 * checked against the bytes left before anything is allocated) and strict (a cursor that
 * does not decode exactly is refused whole, never half-applied).
 */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>

#include "tail.h"

/* Smallest encoded position: five one-byte varints and the 8-byte hash. */
#define CURSOR_MIN_POSITION 13

lf_err lf_tail_pending_note(lf_tail_pending *p, const lf_tail_position *pos, lf_error *err)
{
    for (size_t i = 0; i < p->n; i++) {
        lf_tail_position *h = &p->v[i];
        if (h->dev != pos->dev || h->ino != pos->ino)
            continue;
        bool newer = pos->generation != h->generation ? pos->generation > h->generation
                                                      : pos->offset >= h->offset;
        if (newer)
            *h = *pos;
        return LF_OK;
    }
    if (p->n == p->cap) {
        size_t cap = p->cap ? p->cap * 2 : 8;
        lf_tail_position *v = realloc(p->v, cap * sizeof *v);
        if (!v)
            return lf_error_set(err, LF_ERR_NOMEM, "tail: out of memory");
        p->v = v;
        p->cap = cap;
    }
    p->v[p->n++] = *pos;
    return LF_OK;
}

void lf_tail_pending_clear(lf_tail_pending *p)
{
    p->n = 0;
}

void lf_tail_pending_free(lf_tail_pending *p)
{
    free(p->v);
    memset(p, 0, sizeof *p);
}

static void put_uvarint(uint8_t *out, size_t *at, uint64_t v)
{
    while (v >= 0x80) {
        out[(*at)++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    out[(*at)++] = (uint8_t)v;
}

lf_err lf_tail_cursor_encode(const lf_tail_position *pos, size_t n, lf_buf *out, lf_error *err)
{
    /* version + count + per position at most 5 varints of 10 bytes and the hash */
    if (n > (SIZE_MAX - 11) / 58)
        return lf_error_set(err, LF_ERR_TOO_LARGE, "tail: cursor: too many positions");
    lf_err e = lf_buf_reserve(out, 11 + n * 58);
    if (e != LF_OK)
        return lf_error_set(err, e, "tail: cursor: out of memory");
    uint8_t *p = out->data + out->len;
    size_t at = 0;
    p[at++] = LF_TAIL_CURSOR_VERSION;
    put_uvarint(p, &at, n);
    for (size_t i = 0; i < n; i++) {
        put_uvarint(p, &at, pos[i].dev);
        put_uvarint(p, &at, pos[i].ino);
        lf_store_be64(p + at, pos[i].fp_hash);
        at += 8;
        put_uvarint(p, &at, pos[i].fp_len);
        put_uvarint(p, &at, pos[i].generation);
        put_uvarint(p, &at, pos[i].offset);
    }
    out->len += at;
    return LF_OK;
}

static bool get_uvarint(const uint8_t *d, size_t len, size_t *at, uint64_t *v)
{
    uint64_t r = 0;
    for (unsigned shift = 0; shift < 64; shift += 7) {
        if (*at >= len)
            return false;
        uint8_t b = d[(*at)++];
        /* the 10th byte may only carry the top bit of a 64-bit value */
        if (shift == 63 && b > 1)
            return false;
        r |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) {
            *v = r;
            return true;
        }
    }
    return false;
}

lf_err lf_tail_cursor_decode(const uint8_t *data, size_t len, lf_tail_position **out, size_t *n,
                             lf_error *err)
{
    *out = NULL;
    *n = 0;
    if (!data || len == 0)
        return lf_error_set(err, LF_ERR_TRUNCATED, "tail: cursor: empty");
    if (data[0] != LF_TAIL_CURSOR_VERSION)
        return lf_error_set(err, LF_ERR_UNSUPPORTED, "tail: cursor: version %u unknown", data[0]);
    size_t at = 1;
    uint64_t count;
    if (!get_uvarint(data, len, &at, &count))
        return lf_error_set(err, LF_ERR_INVALID, "tail: cursor: bad count");
    if (count > (len - at) / CURSOR_MIN_POSITION)
        return lf_error_set(err, LF_ERR_INVALID, "tail: cursor: count %llu exceeds its bytes",
                            (unsigned long long)count);
    if (count == 0)
        return at == len ? LF_OK
                         : lf_error_set(err, LF_ERR_INVALID, "tail: cursor: trailing bytes");
    lf_tail_position *v = calloc((size_t)count, sizeof *v);
    if (!v)
        return lf_error_set(err, LF_ERR_NOMEM, "tail: out of memory");
    for (size_t i = 0; i < count; i++) {
        uint64_t dev, ino, fp_len, gen, off;
        bool ok = get_uvarint(data, len, &at, &dev) && get_uvarint(data, len, &at, &ino);
        ok = ok && len - at >= 8;
        if (ok) {
            v[i].fp_hash = lf_load_be64(data + at);
            at += 8;
        }
        ok = ok && get_uvarint(data, len, &at, &fp_len) && get_uvarint(data, len, &at, &gen) &&
             get_uvarint(data, len, &at, &off);
        if (!ok || fp_len > LF_TAIL_FP_MAX || gen > UINT32_MAX || off > INT64_MAX) {
            free(v);
            return lf_error_set(err, LF_ERR_INVALID, "tail: cursor: position %zu malformed", i);
        }
        v[i].dev = dev;
        v[i].ino = ino;
        v[i].fp_len = (uint32_t)fp_len;
        v[i].generation = (uint32_t)gen;
        v[i].offset = off;
    }
    if (at != len) {
        free(v);
        return lf_error_set(err, LF_ERR_INVALID, "tail: cursor: trailing bytes");
    }
    *out = v;
    *n = (size_t)count;
    return LF_OK;
}

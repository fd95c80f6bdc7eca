/*
 * fuzz_agent_journald_fields.c — libFuzzer target for the pure parts of the journald input
 * (src/agent/inputs/journald/): the mapping of an entry's "KEY=value" fields to an event, and
 * the parsing and ordering of cursors. Journal entries are written by any local process, so
 * every byte of a field is outside input.
 *
 * Input layout: [max_message u16 LE][realtime u64 LE] then fields, each [len u16 LE][bytes]
 * (a short last field takes what is left). The same bytes after the header are also parsed as
 * a cursor, and as two cursors split at the first '|'.
 *
 * Checked: nothing crashes or reads out of bounds (ASan); a message longer than max_message is
 * flagged and not copied; the event's bounded fields stay bounded and terminated; a parsed
 * cursor compares equal to itself and the comparison is antisymmetric.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "inputs/journald/journald_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_cursors(const uint8_t *p, size_t n)
{
    journald_cursor_pos a, b;
    if (journald_cursor_parse((const char *)p, n, &a)) {
        if (journald_cursor_compare(&a, &a) != 0)
            abort();
    }
    const uint8_t *bar = memchr(p, '|', n);
    if (!bar)
        return;
    size_t na = (size_t)(bar - p);
    if (journald_cursor_parse((const char *)p, na, &a) &&
        journald_cursor_parse((const char *)bar + 1, n - na - 1, &b)) {
        int ab = journald_cursor_compare(&a, &b), ba = journald_cursor_compare(&b, &a);
        if ((ab < 0) != (ba > 0) || (ab == 0) != (ba == 0))
            abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 10)
        return 0;
    size_t max_message = (size_t)data[0] | (size_t)data[1] << 8;
    uint64_t realtime = 0;
    for (int i = 0; i < 8; i++)
        realtime |= (uint64_t)data[2 + i] << (8 * i);
    const uint8_t *p = data + 10;
    size_t left = size - 10;
    check_cursors(p, left);

    lf_agent_event ev = {0};
    lf_agent_event_reset(&ev);
    journald_entry st;
    journald_entry_begin(&st, max_message);
    size_t longest_message = 0;
    while (left > 0) {
        size_t n = left;
        if (left >= 2) {
            n = (size_t)p[0] | (size_t)p[1] << 8;
            p += 2;
            left -= 2;
            if (n > left)
                n = left;
        }
        /* sd-journal's data is only valid until its next call: hand over a private copy that
         * is freed at once, so ASan catches any pointer kept into it. */
        uint8_t *field = malloc(n ? n : 1);
        if (!field)
            abort();
        memcpy(field, p, n);
        if (n >= 8 && memcmp(field, "MESSAGE=", 8) == 0 && n - 8 > longest_message)
            longest_message = n - 8;
        if (journald_entry_field(&st, &ev, field, n, NULL) != LF_OK)
            abort();
        free(field);
        p += n;
        left -= n;
    }
    journald_entry_finish(&st, &ev, realtime);

    if (!st.too_large) {
        if (!ev.message || ev.message_len > max_message || ev.message_len > longest_message)
            abort();
        if (ev.message_len > 0) { /* touch every byte: it must be our own copy */
            volatile uint8_t sink = 0;
            for (size_t i = 0; i < ev.message_len; i++)
                sink ^= (uint8_t)ev.message[i];
            (void)sink;
        }
    }
    if (ev.n_labels > 8 || ev.level < 0 || ev.level > 8 || ev.ts_ns < 0)
        abort();
    if (strlen(ev.logger) > LF_PAYLOAD_MAX_VALUE || strcmp(ev.source, "journald") != 0)
        abort();
    for (size_t i = 0; i < ev.n_labels; i++)
        if (strlen(ev.labels[i].value) > LF_PAYLOAD_MAX_VALUE || !ev.labels[i].key[0])
            abort();
    lf_agent_event_free(&ev);
    return 0;
}

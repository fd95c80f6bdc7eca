/*
 * journald_int.h — internals of the journald input shared by its files: journald.c (the input
 * object: open, position, next, cursor, commit, restore), journald_fields.c (one entry's
 * "KEY=value" fields to an event: pure, fuzzed), journald_cursor.c (cursor text: validation,
 * ordering, the checkpoint file), journald_config.c (the option table, validation, matches).
 * Not a public header.
 */
#ifndef LF_AGENT_JOURNALD_INT_H
#define LF_AGENT_JOURNALD_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <systemd/sd-journal.h>

#include "event.h"
#include "journald_input.h"
#include "logflux/error.h"

/* Longest cursor we keep (systemd's are about 140 bytes; anything near this is not one). */
#define JOURNALD_CURSOR_MAX 512

/* ---------------- journald_fields.c ---------------- */

/* What the field pass remembers across the fields of one entry, whose order sd-journal does
 * not define: the logger prefers SYSLOG_IDENTIFIER over _COMM and the time prefers
 * _SOURCE_REALTIME_TIMESTAMP over the entry's receive time whichever comes first. */
typedef struct journald_entry {
    size_t max_message;
    bool have_message;
    bool too_large;             /* MESSAGE longer than max_message: the caller skips the entry */
    bool have_identifier;       /* SYSLOG_IDENTIFIER set the logger */
    int64_t source_realtime_us; /* -1 = none */
} journald_entry;

/* Start an entry (ev already reset by the caller). */
void journald_entry_begin(journald_entry *st, size_t max_message);
/* Apply one field as sd_journal_enumerate_data returns it: "KEY=value", value binary, not
 * NUL-terminated. Unknown keys and malformed data are ignored; for a repeated key the first
 * value wins. Copies what it keeps (the data is only valid until the next sd-journal call).
 * Fails only for lack of memory. */
lf_err journald_entry_field(journald_entry *st, lf_agent_event *ev, const void *data, size_t len,
                            lf_error *err);
/* Complete the event: time (realtime_us = the entry's __REALTIME_TIMESTAMP unless the entry
 * carried _SOURCE_REALTIME_TIMESTAMP), logger fallback, source, empty message if none. */
void journald_entry_finish(journald_entry *st, lf_agent_event *ev, uint64_t realtime_us);

/* ---------------- journald_cursor.c ---------------- */

/* The parts of a cursor ("s=<seqnum id>;i=<seqnum>;b=<boot id>;m=<mono>;t=<realtime>;x=..")
 * that order two positions. */
typedef struct journald_cursor_pos {
    char seqnum_id[33];
    uint64_t seqnum;
    char boot_id[33];
    uint64_t monotonic_us;
    uint64_t realtime_us;
} journald_cursor_pos;

/* A cursor as we store it: 1..JOURNALD_CURSOR_MAX-1 printable ASCII bytes, no space. */
bool journald_cursor_text_ok(const char *s, size_t len);
/* Parse s (len bytes, need not be NUL-terminated). false when a required part is missing or
 * malformed. */
bool journald_cursor_parse(const char *s, size_t len, journald_cursor_pos *out);
/* <0, 0, >0 as a is before, at, after b: by seqnum within one seqnum id, else by monotonic
 * time within one boot, else by realtime (the order sd-journal itself uses). */
int journald_cursor_compare(const journald_cursor_pos *a, const journald_cursor_pos *b);

typedef enum journald_ckpt_state {
    JOURNALD_CKPT_NONE,    /* no file */
    JOURNALD_CKPT_OK,      /* cursor loaded */
    JOURNALD_CKPT_INVALID, /* file present but not a cursor (counted as a reset) */
} journald_ckpt_state;

/* Read the checkpoint file (out: JOURNALD_CURSOR_MAX bytes). I/O failures other than a
 * missing file are errors. */
lf_err journald_ckpt_load(const char *path, char *out, journald_ckpt_state *state, lf_error *err);
/* Replace the checkpoint file atomically: write <path>.tmp, fsync, rename, fsync the dir. */
lf_err journald_ckpt_store(const char *dir, const char *path, const char *cursor, lf_error *err);

/* ---------------- journald_config.c ---------------- */

/* A match term: "FIELD=value" with FIELD of [A-Z0-9_], not starting with a digit, 1..64
 * bytes; or "+" (disjunction). */
bool journald_match_ok(const char *s);
/* A unit name as given in `units`: 1..255 bytes, no control character, space, '=' or '/'. */
bool journald_unit_ok(const char *s);
/* Install matches then units on j: (matches) AND (unit1 OR unit2 ...). */
lf_err journald_apply_matches(sd_journal *j, const lf_journald_config *cfg, lf_error *err);

/* ---------------- journald.c ---------------- */

lf_err journald_create(const lf_agent_input_common *common, const void *config,
                       lf_agent_input **out, lf_error *err);

#endif

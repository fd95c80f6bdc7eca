/*
 * verify.h — the analysis behind `logflux verify`: given every stored row of a window (all
 * kinds, close markers included), say which records are missing, duplicated, reordered,
 * re-dated, moved, tampered, or which sessions were truncated. docs/VERIFY.md says exactly what
 * each finding proves.
 *
 * The analysis opens every row through the keyring (rows.h): a native row is authenticated
 * over the header rebuilt from its stored columns, so a changed column fails the tag. A failed
 * row is then re-tried with the header values it may have been sealed with (another app seen in
 * the window or the key's own app; the timestamps its own plaintext carries; a sequence the
 * session is missing or another failed row claims): a trial that authenticates proves which
 * field was changed, and how. Sequences and close markers are then checked per key id.
 */
#ifndef LFC_VERIFY_H
#define LFC_VERIFY_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "cli.h"
#include "rows.h"

typedef enum lfc_vkind {
    LFC_V_MISSING = 0,  /* a sequence of a session is absent */
    LFC_V_DUPLICATED,   /* a record (or a sequence) appears more than once */
    LFC_V_REORDERED,    /* a sequence stored as another, or sequences out of timestamp order */
    LFC_V_REDATED,      /* stored timestamps differ from the sealed ones */
    LFC_V_MOVED,        /* stored under another app than the one it was sealed for */
    LFC_V_TAMPERED,     /* authentication failed and no single changed header field explains
                           it: ciphertext, tag or several fields changed */
    LFC_V_TRUNCATED,    /* a session without its close marker (with --require-closed) */
    LFC_V_AFTER_CLOSE,  /* an authentic record beyond the close marker's count */
    LFC_V_INVALID,      /* authentic but self-contradicting content (a sender bug) */
    LFC_V_UNVERIFIABLE, /* the session key could not be had: nothing about the row is known */
    LFC_V__COUNT
} lfc_vkind;

/* "missing", "duplicated", "reordered", "re-dated", "moved", "tampered", "truncated",
 * "after-close", "invalid", "unverifiable". */
const char *lfc_vkind_name(lfc_vkind k);

typedef struct lfc_vproblem {
    lfc_vkind kind;
    char key_id[LFC_KEY_ID_MAX + 1];
    bool has_seq;
    uint64_t seq, seq_last; /* a range for missing sequences; seq == seq_last otherwise */
    int64_t file_id, row;   /* -1 when the problem has no row (missing, truncated) */
    char detail[256];       /* never content, never key material */
} lfc_vproblem;

typedef struct lfc_vreport {
    lfc_vproblem *problems;
    size_t n, cap;
    size_t counts[LFC_V__COUNT];
    size_t rows, native_rows, v3_rows, key_rows, close_rows;
    size_t sessions, closed, open, v3_keys;
    size_t unchecked_leading; /* sessions that began before the window */
    int key_exit;             /* first keyring failure's exit code (0 if none) */
} lfc_vreport;

typedef struct lfc_verify_options {
    int64_t from, to;    /* the window that was fetched */
    bool require_closed; /* a session without a close marker is a problem (truncated) */
} lfc_verify_options;

/* Analyse `rows` (any order). `c` is used to ask the server for each session key's app and
 * creation time (GET /v1/keys/{id}); it may be NULL (then those hints are not used). Returns
 * LFC_EXIT_OK once the report is filled (problems or not), or an exit code for an operational
 * failure (no memory). */
int lfc_verify_rows(lfc_ctx *c, lfc_keyring *k, const lfc_rows *rows, const lfc_verify_options *o,
                    lfc_vreport *out);
/* Text (one line per problem, then a summary) or JSON (one object). */
void lfc_vreport_print(const lfc_vreport *r, FILE *out, lfc_output format);
/* LFC_EXIT_VERIFY if problems, else the keyring failure code, else LFC_EXIT_OK. */
int lfc_vreport_exit(const lfc_vreport *r);
void lfc_vreport_free(lfc_vreport *r);

#endif

/*
 * rows.h — the read path of the `logflux` CLI, shared by query, tail, export, sql and verify.
 *
 * The pipeline, one stage per file:
 *
 *   filter.c   flags (--since/--from/--to/--app/--type/--level/--label/--grep/--regex/--limit)
 *              → an lfc_filter: a server-side window (time, app, type) and local predicates
 *   rows.c     the window → the server's stored rows (GET /v1/query, cursor paging, newest or
 *              oldest first), each decoded into an lfc_row holding every stored column
 *   cache.c    ciphertext rows of closed hours kept on disk (never plaintext), so a repeated
 *              query over the same window does not ask the server again
 *   keyring.c  key id → session key (GET /v1/keys/{id} once per id, RSA-OAEP unwrap with the
 *              customer's private key; memory only, wiped on free)
 *   decrypt.c  a row → its authenticated entries (v3: AES-GCM; native: the header rebuilt from
 *              the stored columns is the AAD, so a re-dated, moved or relabelled row fails),
 *              each decoded as a schema 2.0 payload
 *   output.c   entries → text, NDJSON or CSV
 *
 * Exit codes are the LFC_EXIT_* of cli.h. Functions returning `int` return one of them (and
 * have printed nothing unless said so); functions returning `lf_err` fill `err`.
 *
 * Stability: `logflux verify` builds on this header; additions only.
 */
#ifndef LFC_ROWS_H
#define LFC_ROWS_H

#include <jansson.h>
#include <regex.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "cli.h"
#include "logflux/buf.h"
#include "logflux/error.h"
#include "logflux/native.h"
#include "logflux/payload.h"

/* ---------------- the row model ---------------- */

#define LFC_ROW_FORMAT_V3     1
#define LFC_ROW_FORMAT_NATIVE 2
#define LFC_KEY_ID_MAX        64 /* native: 32 hex digits; v3: a UUID (36) */

/* One stored row, every column of docs/WORKER.md decoded. Binary columns are decoded from
 * base64 into owned buffers. Zero-initialise; release with lfc_row_free. */
typedef struct lfc_row {
    char tenant[LF_NATIVE_TENANT_MAX + 1];
    char app[LF_NATIVE_APP_MAX + 1];
    int format;                      /* LFC_ROW_FORMAT_V3 or LFC_ROW_FORMAT_NATIVE */
    int kind;                        /* native lf_native_kind (entry, block, close, key); v3: 1 */
    int entry_type;                  /* 1..7; 0 for close/key */
    int flags;                       /* native LF_NATIVE_FLAG_ZSTD or 0 */
    char key_id[LFC_KEY_ID_MAX + 1]; /* lower-case, as the server stores it */
    uint64_t sequence;
    int64_t ts;           /* ts_min, Unix ns */
    int64_t ts_max;       /* Unix ns */
    uint32_t count;       /* entries in the row (close: frames sealed under the key) */
    lf_buf nonce;         /* 12 bytes */
    lf_buf search_tokens; /* native: token_count * 16 bytes; v3: comma-separated text */
    lf_buf ciphertext;    /* the body: ciphertext || tag */
    int64_t ingest_time;  /* Unix ns */
    int64_t spool_seq;
    int64_t file_id; /* manifest id of the Parquet file */
    int64_t row;     /* index of the row in that file */
} lfc_row;

/* Decode one row object of the query/tail answers. Every field is type- and range-checked
 * (LF_ERR_INVALID names the field). `out` is replaced (free it first if reused). */
lf_err lfc_row_from_json(const json_t *j, lfc_row *out, lf_error *err);
/* The same JSON shape back (for the cache). New reference; NULL on allocation failure. */
json_t *lfc_row_to_json(const lfc_row *r);
void lfc_row_free(lfc_row *r);

/* A growable array of rows. Zero-initialise; lfc_rows_free frees every row. */
typedef struct lfc_rows {
    lfc_row *v;
    size_t n, cap;
} lfc_rows;
/* Append (moves *r into the array; *r is zeroed). */
lf_err lfc_rows_push(lfc_rows *rows, lfc_row *r, lf_error *err);
void lfc_rows_free(lfc_rows *rows);

/* ---------------- fetching rows ---------------- */

/* What to ask the server for. from/to are inclusive Unix ns (a row matches when its
 * [ts, ts_max] overlaps). */
typedef struct lfc_window {
    int64_t from, to;
    const char *app; /* NULL = every app the token sees (borrowed) */
    int type;        /* entry type 1..7; 0 = all */
    bool newest_first;
    bool use_cache;  /* read/write the ciphertext cache (cache.c) for closed hours */
    size_t max_rows; /* stop after this many rows; 0 = no limit */
} lfc_window;

/* Called for each row in order. The row is borrowed for the call (the callee may move it out
 * with memcpy + memset 0). Return LFC_EXIT_OK to go on, anything else to stop: that value is
 * returned by lfc_rows_fetch (use -1 to stop early without an error: fetch then returns OK). */
typedef int (*lfc_row_fn)(void *ud, lfc_row *row);

/* Page through GET /v1/query for the window (following next_cursor until null), through the
 * cache when w->use_cache. Prints an error and returns its exit code on failure. */
int lfc_rows_fetch(lfc_ctx *c, const lfc_window *w, lfc_row_fn fn, void *ud);
/* lfc_rows_fetch into an array (appended to *out). */
int lfc_rows_fetch_all(lfc_ctx *c, const lfc_window *w, lfc_rows *out);
/* Count of /v1/query requests made by this process (tests and --verbose). */
size_t lfc_rows_requests(void);

/* ---------------- the ciphertext cache (cache.c) ---------------- */

/* Directory of the cache for c->endpoint: $XDG_CACHE_HOME/logflux/<sha256(endpoint)[0..16]>
 * (or ~/.cache/...). Writes into buf (cap bytes). LF_ERR_INVALID when it would not fit. */
lf_err lfc_cache_dir(const lfc_ctx *c, char *buf, size_t cap, lf_error *err);
/* Disable the cache for this process (--no-cache, LOGFLUX_NO_CACHE=1). */
void lfc_cache_disable(void);
bool lfc_cache_enabled(void);
/* Internal to rows.c/cache.c: the window through the cache (closed hours from disk or fetched
 * and stored; open hours in one range), and one paged query over [from, to] keeping the rows
 * whose max(ts, keep_from) lies in [keep_lo, keep_hi]. `delivered` counts rows handed to fn.
 * Return -1 when fn stopped early or max_rows was reached. */
int lfc_cache_fetch(lfc_ctx *c, const lfc_window *w, lfc_row_fn fn, void *ud, size_t *delivered);
int lfc_rows_query_range(lfc_ctx *c, const lfc_window *w, int64_t from, int64_t to,
                         int64_t keep_from, int64_t keep_lo, int64_t keep_hi, lfc_row_fn fn,
                         void *ud, size_t *delivered);

/* ---------------- session keys (keyring.c) ---------------- */

typedef struct lfc_keyring lfc_keyring;
/* New keyring over the customer's private key (borrowed; must outlive the keyring). */
int lfc_keyring_new(lfc_ctx *c, const lf_privkey *priv, lfc_keyring **out);
/* Wipes every session key. NULL is fine. */
void lfc_keyring_free(lfc_keyring *k);
/* The 32-byte session key of `key_id` (pointer valid until the keyring is freed): fetched with
 * GET /v1/keys/{id} on first use, its fingerprint checked against the private key's, then
 * unwrapped. Exit codes: NOT_FOUND (unknown key id, or wrapped for another customer key —
 * message names the fingerprint), AUTH, UNREACHABLE, SERVER (malformed answer), TAMPERED (the
 * wrapped key does not unwrap). The message is printed once per key id and the failure remembered.
 */
int lfc_keyring_get(lfc_keyring *k, const char *key_id, const uint8_t **session_key);
/* The native opener for `key_id` (owned by the keyring), made on first use. */
int lfc_keyring_native_opener(lfc_keyring *k, const char *key_id, lf_native_opener **out);
/* The app the key was issued under (from /v1/keys), or NULL when unknown or not fetched.
 * decrypt.c checks it against a v3 row's app: v3 has no associated data, so this is what
 * catches a v3 row moved to another app. */
const char *lfc_keyring_app(lfc_keyring *k, const char *key_id);
/* Insert a session key directly (unit tests, benchmarks). The key is copied. */
lf_err lfc_keyring_put(lfc_keyring *k, const char *key_id, const uint8_t key[32], lf_error *err);
/* The same with the key's app (NULL = unknown). */
lf_err lfc_keyring_put_app(lfc_keyring *k, const char *key_id, const uint8_t key[32],
                           const char *app, lf_error *err);

/* ---------------- opening rows (decrypt.c) ---------------- */

/* One authenticated entry. `json` points into the opened plaintext; `p` is its decoding. */
typedef struct lfc_entry {
    const uint8_t *json;
    size_t json_len;
    lf_payload *p; /* owned by the lfc_opened */
    const lfc_row *row;
    uint32_t index; /* position inside the row (block entries) */
} lfc_entry;

/* What a row held. Zero-initialise; lfc_opened_free wipes and frees (reusable). */
typedef struct lfc_opened {
    lfc_entry *entries; /* `count` entries (0 for a close or key row) */
    size_t count;
    bool is_close;        /* a native close marker (authenticated) */
    bool is_key;          /* a native key frame row (nothing to open) */
    uint32_t close_count; /* close: frames sealed under the key */
    /* internal */
    lf_native_opened native_;
    lf_buf v3json_;
    size_t cap_;
} lfc_opened;
void lfc_opened_free(lfc_opened *o);

/* Open one row: LFC_EXIT_OK with `out` filled; LFC_EXIT_TAMPERED when the row fails
 * authentication or its authenticated content disagrees with its columns (an entry's ts
 * outside [ts, ts_max], a count mismatch, an undecodable payload) — `err` says why; or the
 * keyring's exit code (the key could not be had; the keyring printed why). */
int lfc_row_open(lfc_keyring *k, const lfc_row *row, lfc_opened *out, lf_error *err);
/* Rebuild the native header (the AAD) of a native row from its columns. */
lf_err lfc_row_native_header(const lfc_row *row, lf_native_header *h, lf_buf *header_bytes,
                             lf_error *err);
/* Print "logflux: warning: row <file_id>/<row> (app A, key K, seq S): tampered: <why>" on
 * stderr (never content). */
void lfc_warn_tampered(const lfc_row *row, const lf_error *err);

/* ---------------- filters (filter.c) ---------------- */

#define LFC_LABELS_MAX 16

typedef struct lfc_filter {
    int64_t from, to; /* inclusive Unix ns; set by lfc_filter_finish */
    char *app;        /* owned */
    int type;         /* 0 = all */
    int level;        /* 0 = all; else entries with 1 <= level <= this (more severe or equal) */
    size_t n_labels;
    char *label_key[LFC_LABELS_MAX]; /* owned; attribute key = value */
    char *label_value[LFC_LABELS_MAX];
    char *grep; /* owned; substring of the message */
    bool ignore_case;
    char *regex_src; /* owned; POSIX ERE on the message */
    regex_t regex;
    bool has_regex;
    size_t limit; /* 0 = none */
    /* internal: the raw time flags until finish */
    char *since_, *from_, *to_;
} lfc_filter;

/* Zero-initialise then feed arguments: if argv[*i] is a filter flag it (and its value) is
 * consumed, *i advanced past them and *consumed set. Returns LFC_EXIT_USAGE (message printed)
 * for a bad value. Accepts "--flag value" and "--flag=value". */
int lfc_filter_arg(lfc_filter *f, int argc, char **argv, int *i, bool *consumed);
/* Resolve the window against `now` (Unix ns): --since D (e.g. 30m, 1h, 2d, 90s, 1w) gives
 * [now-D, now]; --from/--to take RFC 3339 or a relative duration (= now - D); without any,
 * [now - default_since_ns, now]. Compiles the regex. LFC_EXIT_USAGE on bad input. */
int lfc_filter_finish(lfc_filter *f, int64_t now, int64_t default_since_ns);
/* The server-side part of the filter. */
void lfc_filter_window(const lfc_filter *f, lfc_window *w);
/* Whether an opened entry passes every local predicate (time, type, level, labels, grep,
 * regex). The limit is the caller's business. */
bool lfc_filter_match(const lfc_filter *f, const lfc_entry *e);
void lfc_filter_free(lfc_filter *f);
/* Usage text of the filter flags (for commands' --help). */
extern const char lfc_filter_usage[];

/* "1h" / "30m" / "2d" / "90s" / "1w" / "500ms" → ns. */
lf_err lfc_parse_duration(const char *s, int64_t *ns, lf_error *err);
/* RFC 3339, Unix ns digits, or a duration meaning `now - duration`. */
lf_err lfc_parse_time(const char *s, int64_t now, int64_t *ns, lf_error *err);

/* ---------------- output (output.c) ---------------- */

/* "EMERG".."DEBUG"; "-" outside 1..8. */
const char *lfc_level_name(int level);
/* The message shown for an entry: log.message, else a one-line summary of the type's fields
 * (metric "name=value unit", event name, audit "actor action resource", trace name…). Owned
 * by the caller (free). NULL on allocation failure. */
char *lfc_entry_message(const lf_payload *p);
/* Attributes as a JSON object text (owned, free()). */
char *lfc_entry_attributes_json(const lf_payload *p);

typedef struct lfc_printer {
    FILE *out;
    lfc_output format;
    bool header_done; /* csv */
    size_t printed;
} lfc_printer;
void lfc_printer_init(lfc_printer *pr, FILE *out, lfc_output format);
/* text: `<RFC3339> <LEVEL> <app> <source>: <message> k=v…`; json: one NDJSON object with ts,
 * level, type, app, source, message, attributes, key_id, sequence; csv: a header, then RFC 4180
 * records of the same fields. */
lf_err lfc_printer_entry(lfc_printer *pr, const lfc_entry *e, lf_error *err);
/* RFC 4180 field (quoted when it holds , " CR or LF; quotes doubled). */
lf_err lfc_csv_field(lf_buf *out, const char *s, lf_error *err);

/* ---------------- the read loop used by query/export/sql ---------------- */

/* Called for each authenticated entry that passes the filter, oldest first unless the window
 * says newest_first. Return LFC_EXIT_OK to go on, -1 to stop (limit reached), else an exit code
 * to abort. */
typedef int (*lfc_entry_fn)(void *ud, const lfc_entry *e);
/* Fetch, open (loading the private key on first need), filter, and call `fn` for at most
 * f->limit entries. Tampered rows are warned about on stderr and skipped; the return value is
 * then LFC_EXIT_TAMPERED once every good row was delivered. */
int lfc_read_entries(lfc_ctx *c, const lfc_filter *f, bool newest_first, lfc_entry_fn fn, void *ud);

#endif

/*
 * cmd_query.c — `logflux query [filters] [-o text|json|csv] [--no-cache]`.
 *
 * Fetches the ciphertext rows of the window, opens them with the session keys unwrapped by the
 * customer key (memory only), filters locally and prints. Without --limit the entries stream
 * out oldest first; with --limit N the newest N matching entries are kept (the read goes
 * newest first and stops early) and printed oldest first. Rows that fail authentication are
 * never printed: a warning per row on stderr, the good rows, then exit LFC_EXIT_TAMPERED.
 */
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "logflux/timefmt.h"
#include "rows.h"

#define DEFAULT_SINCE_NS (3600LL * LF_NS_PER_SEC)

static int usage(void)
{
    fprintf(stderr, "usage: logflux query [filters] [-o text|json|csv] [--no-cache]\n%s",
            lfc_filter_usage);
    return LFC_EXIT_USAGE;
}

/* Kept entries for --limit: their JSON is re-decoded at print time, so only bytes are kept. */
typedef struct kept {
    lfc_row row; /* columns only (no ciphertext) for app/key id/sequence */
    uint8_t *json;
    size_t len;
} kept;

typedef struct query_state {
    lfc_printer pr;
    kept *v;
    size_t n, cap;
    bool keep;
} query_state;

static int on_entry(void *ud, const lfc_entry *e)
{
    query_state *s = ud;
    lf_error err = {0};
    if (!s->keep) {
        if (lfc_printer_entry(&s->pr, e, &err) != LF_OK)
            return lfc_fail(LFC_EXIT_ERROR, "%s", err.message);
        return LFC_EXIT_OK;
    }
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 64;
        kept *v = realloc(s->v, cap * sizeof *v);
        if (v == NULL)
            return lfc_fail(LFC_EXIT_ERROR, "out of memory");
        s->v = v;
        s->cap = cap;
    }
    kept *k = &s->v[s->n];
    memset(k, 0, sizeof *k);
    memcpy(k->row.tenant, e->row->tenant, sizeof k->row.tenant);
    memcpy(k->row.app, e->row->app, sizeof k->row.app);
    memcpy(k->row.key_id, e->row->key_id, sizeof k->row.key_id);
    k->row.sequence = e->row->sequence;
    k->row.entry_type = e->row->entry_type;
    k->json = malloc(e->json_len ? e->json_len : 1);
    if (k->json == NULL)
        return lfc_fail(LFC_EXIT_ERROR, "out of memory");
    memcpy(k->json, e->json, e->json_len);
    k->len = e->json_len;
    s->n++;
    return LFC_EXIT_OK;
}

int lfc_cmd_query(lfc_ctx *c, int argc, char **argv)
{
    lfc_filter f = {0};
    int rc = LFC_EXIT_OK;
    for (int i = 1; i < argc && rc == LFC_EXIT_OK;) {
        bool used = false;
        rc = lfc_filter_arg(&f, argc, argv, &i, &used);
        if (rc != LFC_EXIT_OK || used)
            continue;
        if (strcmp(argv[i], "--no-cache") == 0) {
            lfc_cache_disable();
            i++;
        } else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            lfc_filter_free(&f);
            usage();
            return LFC_EXIT_OK;
        } else {
            fprintf(stderr, "logflux query: unknown argument '%s'\n", argv[i]);
            rc = usage();
        }
    }
    if (rc == LFC_EXIT_OK)
        rc = lfc_filter_finish(&f, lf_time_now_ns(), DEFAULT_SINCE_NS);
    if (rc != LFC_EXIT_OK) {
        lfc_filter_free(&f);
        return rc;
    }
    query_state s = {0};
    lfc_printer_init(&s.pr, stdout, c->output);
    s.keep = f.limit > 0;
    rc = lfc_read_entries(c, &f, s.keep, on_entry, &s);
    /* --limit: the newest N were collected newest first; print them oldest first. */
    for (size_t k = s.n; k-- > 0;) {
        lfc_entry e = {.json = s.v[k].json, .json_len = s.v[k].len, .row = &s.v[k].row};
        lf_error err = {0};
        if (lf_payload_decode(e.json, e.json_len, s.v[k].row.entry_type, 0, &e.p, &err) == LF_OK &&
            lfc_printer_entry(&s.pr, &e, &err) != LF_OK && rc == LFC_EXIT_OK)
            rc = lfc_fail(LFC_EXIT_ERROR, "%s", err.message);
        lf_payload_free(e.p);
    }
    for (size_t k = 0; k < s.n; k++) {
        lf_wipe(s.v[k].json, s.v[k].len);
        free(s.v[k].json);
    }
    free(s.v);
    if (fflush(stdout) != 0 && rc == LFC_EXIT_OK)
        rc = lfc_fail(LFC_EXIT_ERROR, "writing the output failed");
    lfc_filter_free(&f);
    return rc;
}

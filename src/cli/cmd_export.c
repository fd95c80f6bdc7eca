/*
 * cmd_export.c — `logflux export --format jsonl|csv|parquet --out FILE [filters] [--no-cache]`.
 *
 * Decrypted entries of the window, oldest first, into a file the customer's own tools read:
 * NDJSON and CSV as `query -o json|csv` prints them, or Parquet with typed columns
 *
 *   ts TIMESTAMP(NANOS), level INT32, type STRING, app STRING, source STRING,
 *   message STRING, attributes STRING (JSON text), key_id STRING, sequence INT64
 *
 * so DuckDB's read_parquet gives a TIMESTAMP_NS, integers and VARCHARs. The file holds
 * plaintext: it is created with mode 0600 under a temporary name and renamed into place only
 * when complete. A progress line goes to stderr when stderr is a terminal. Tampered rows are
 * left out (warned about) and the exit code is then 7.
 */
#include <fcntl.h>
#include <sys/stat.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "commands.h"
#include "logflux/timefmt.h"
#include "parquet.h"
#include "rows.h"

enum { FMT_JSONL, FMT_CSV, FMT_PARQUET };

typedef struct export_state {
    int format;
    FILE *out;
    lfc_printer pr;
    lf_pq_writer *pq;
    size_t entries;
    bool progress;
    int64_t last_progress;
} export_state;

static const lf_pq_column k_columns[] = {
    {.name = "ts",
     .type = LF_PQ_INT64,
     .logical = {.kind = LF_PQ_LOGICAL_TIMESTAMP, .unit = LF_PQ_NANOS, .utc_adjusted = false}},
    {.name = "level",
     .type = LF_PQ_INT32,
     .logical = {.kind = LF_PQ_LOGICAL_INT, .bit_width = 32, .is_signed = true}},
    {.name = "type", .type = LF_PQ_BYTE_ARRAY, .logical = {.kind = LF_PQ_LOGICAL_STRING}},
    {.name = "app", .type = LF_PQ_BYTE_ARRAY, .logical = {.kind = LF_PQ_LOGICAL_STRING}},
    {.name = "source", .type = LF_PQ_BYTE_ARRAY, .logical = {.kind = LF_PQ_LOGICAL_STRING}},
    {.name = "message", .type = LF_PQ_BYTE_ARRAY, .logical = {.kind = LF_PQ_LOGICAL_STRING}},
    {.name = "attributes", .type = LF_PQ_BYTE_ARRAY, .logical = {.kind = LF_PQ_LOGICAL_STRING}},
    {.name = "key_id", .type = LF_PQ_BYTE_ARRAY, .logical = {.kind = LF_PQ_LOGICAL_STRING}},
    {.name = "sequence",
     .type = LF_PQ_INT64,
     .logical = {.kind = LF_PQ_LOGICAL_INT, .bit_width = 64, .is_signed = true}},
};
#define N_COLUMNS (sizeof k_columns / sizeof *k_columns)

static lf_pq_value str_value(const char *s)
{
    lf_pq_value v = {0};
    v.v.bytes.ptr = (const uint8_t *)(s ? s : "");
    v.v.bytes.len = (uint32_t)strlen(s ? s : "");
    return v;
}

static int on_entry(void *ud, const lfc_entry *e)
{
    export_state *s = ud;
    lf_error err = {0};
    if (s->format == FMT_PARQUET) {
        const lf_payload *p = e->p;
        char *msg = lfc_entry_message(p), *attrs = lfc_entry_attributes_json(p);
        const char *tn = lf_entry_type_name(p->type);
        lf_pq_value v[N_COLUMNS];
        memset(v, 0, sizeof v);
        v[0].v.i64 = p->ts_ns;
        v[1].v.i32 = p->level;
        v[2] = str_value(tn ? tn : "");
        v[3] = str_value(e->row->app);
        v[4] = str_value(p->source);
        v[5] = str_value(msg);
        v[6] = str_value(attrs ? attrs : "{}");
        v[7] = str_value(e->row->key_id);
        v[8].v.i64 = (int64_t)e->row->sequence;
        lf_err rc = msg ? lf_pq_writer_add_row(s->pq, v, &err) : LF_ERR_NOMEM;
        if (msg)
            lf_wipe(msg, strlen(msg));
        free(msg);
        free(attrs);
        if (rc != LF_OK)
            return lfc_fail(LFC_EXIT_ERROR, "export: %s", err.message[0] ? err.message : "?");
    } else if (lfc_printer_entry(&s->pr, e, &err) != LF_OK)
        return lfc_fail(LFC_EXIT_ERROR, "export: %s", err.message);
    s->entries++;
    if (s->progress) {
        int64_t now = lf_time_now_ns();
        if (now - s->last_progress > 100000000LL) {
            fprintf(stderr, "\rexporting: %zu entries", s->entries);
            s->last_progress = now;
        }
    }
    return LFC_EXIT_OK;
}

int lfc_cmd_export(lfc_ctx *c, int argc, char **argv)
{
    lfc_filter f = {0};
    const char *out = NULL, *fmt = NULL;
    int rc = LFC_EXIT_OK;
    for (int i = 1; i < argc && rc == LFC_EXIT_OK;) {
        bool used = false;
        rc = lfc_filter_arg(&f, argc, argv, &i, &used);
        if (rc != LFC_EXIT_OK || used)
            continue;
        if (strcmp(argv[i], "--format") == 0 && i + 1 < argc) {
            fmt = argv[i + 1];
            i += 2;
        } else if (strcmp(argv[i], "--out") == 0 && i + 1 < argc) {
            out = argv[i + 1];
            i += 2;
        } else if (strcmp(argv[i], "--no-cache") == 0) {
            lfc_cache_disable();
            i++;
        } else
            rc = lfc_fail(LFC_EXIT_USAGE, "export: unknown argument '%s'", argv[i]);
    }
    export_state s = {0};
    if (rc == LFC_EXIT_OK && (fmt == NULL || out == NULL))
        rc = lfc_fail(LFC_EXIT_USAGE,
                      "usage: logflux export --format jsonl|csv|parquet --out FILE [filters]");
    if (rc == LFC_EXIT_OK) {
        if (strcmp(fmt, "jsonl") == 0 || strcmp(fmt, "json") == 0)
            s.format = FMT_JSONL;
        else if (strcmp(fmt, "csv") == 0)
            s.format = FMT_CSV;
        else if (strcmp(fmt, "parquet") == 0)
            s.format = FMT_PARQUET;
        else
            rc = lfc_fail(LFC_EXIT_USAGE, "--format: jsonl, csv or parquet");
    }
    if (rc == LFC_EXIT_OK)
        rc = lfc_filter_finish(&f, lf_time_now_ns(), 3600LL * LF_NS_PER_SEC);
    if (rc != LFC_EXIT_OK) {
        lfc_filter_free(&f);
        return rc;
    }
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.%ld.partial", out, (long)getpid());
    lf_error err = {0};
    if (s.format == FMT_PARQUET) {
        lf_pq_writer_options o = {.created_by = "logflux export"};
        if (lf_pq_writer_open(tmp, k_columns, N_COLUMNS, &o, &s.pq, &err) != LF_OK) {
            lfc_filter_free(&f);
            return lfc_fail(LFC_EXIT_ERROR, "export: %s", err.message);
        }
        chmod(tmp, 0600);
    } else {
        int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        s.out = fd >= 0 ? fdopen(fd, "w") : NULL;
        if (s.out == NULL) {
            if (fd >= 0)
                close(fd);
            lfc_filter_free(&f);
            return lfc_fail(LFC_EXIT_ERROR, "export: cannot create %s", tmp);
        }
        lfc_printer_init(&s.pr, s.out, s.format == FMT_CSV ? LFC_OUT_CSV : LFC_OUT_JSON);
    }
    s.progress = isatty(STDERR_FILENO) && !c->quiet;
    rc = lfc_read_entries(c, &f, false, on_entry, &s);
    bool complete = rc == LFC_EXIT_OK || rc == LFC_EXIT_TAMPERED;
    if (s.pq != NULL) {
        if (complete && lf_pq_writer_close(s.pq, &err) != LF_OK) {
            rc = lfc_fail(LFC_EXIT_ERROR, "export: %s", err.message);
            complete = false;
        } else if (!complete)
            lf_pq_writer_abort(s.pq);
    }
    if (s.out != NULL && fclose(s.out) != 0 && complete) {
        rc = lfc_fail(LFC_EXIT_ERROR, "export: writing %s failed", out);
        complete = false;
    }
    if (complete && rename(tmp, out) != 0) {
        rc = lfc_fail(LFC_EXIT_ERROR, "export: cannot rename into %s", out);
        complete = false;
    }
    if (!complete)
        unlink(tmp);
    if (s.progress)
        fprintf(stderr, "\r");
    if (complete && !c->quiet)
        fprintf(stderr, "exported %zu entries to %s\n", s.entries, out);
    lfc_filter_free(&f);
    return rc;
}

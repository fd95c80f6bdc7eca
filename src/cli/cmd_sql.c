/*
 * cmd_sql.c — `logflux sql "SELECT …" [filters] [-o text|json|csv] [--no-cache]`.
 *
 * The decrypted entries of the filter window are loaded into an in-memory SQLite table
 *
 *   logs(ts TEXT, ts_ns INTEGER, level INTEGER, type TEXT, app TEXT, source TEXT,
 *        message TEXT, attributes TEXT, key_id TEXT, sequence INTEGER)
 *
 * (attributes is JSON text: json_extract(attributes, '$.env') works), then the user's
 * statement(s) run and the result of each is printed as a text table, NDJSON or CSV. The
 * database never touches the disk (":memory:", no temp files: temp_store = MEMORY). Tampered
 * rows are not loaded; the exit code is then 7 after the results.
 */
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "logflux/timefmt.h"
#include "rows.h"

typedef struct sql_state {
    sqlite3 *db;
    sqlite3_stmt *ins;
} sql_state;

static int on_entry(void *ud, const lfc_entry *e)
{
    sql_state *s = ud;
    const lf_payload *p = e->p;
    char ts[LF_RFC3339_MAX];
    lf_rfc3339_format(p->ts_ns, ts);
    char *msg = lfc_entry_message(p), *attrs = lfc_entry_attributes_json(p);
    const char *tn = lf_entry_type_name(p->type);
    sqlite3_stmt *q = s->ins;
    sqlite3_reset(q);
    sqlite3_bind_text(q, 1, ts, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(q, 2, p->ts_ns);
    sqlite3_bind_int(q, 3, p->level);
    sqlite3_bind_text(q, 4, tn ? tn : "", -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 5, e->row->app, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(q, 6, p->source ? p->source : "", -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(q, 7, msg ? msg : "", -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(q, 8, attrs ? attrs : "{}", -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(q, 9, e->row->key_id, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(q, 10, (sqlite3_int64)e->row->sequence);
    int rc = sqlite3_step(q);
    if (msg)
        lf_wipe(msg, strlen(msg));
    free(msg);
    free(attrs);
    if (rc != SQLITE_DONE)
        return lfc_fail(LFC_EXIT_ERROR, "sql: loading a row failed: %s", sqlite3_errmsg(s->db));
    return LFC_EXIT_OK;
}

static const char *cell(sqlite3_stmt *st, int i)
{
    const unsigned char *t = sqlite3_column_text(st, i);
    return t ? (const char *)t : "NULL";
}

/* Run one prepared statement and print its rows. */
static int print_result(sqlite3_stmt *st, lfc_output fmt)
{
    int ncol = sqlite3_column_count(st);
    lf_buf out = LF_BUF_INIT;
    char ***rows = NULL; /* text mode buffers the table to size the columns */
    size_t nrows = 0, cap = 0;
    size_t *width = calloc((size_t)(ncol > 0 ? ncol : 1), sizeof *width);
    if (width == NULL)
        return lfc_fail(LFC_EXIT_ERROR, "out of memory");
    for (int i = 0; i < ncol; i++)
        width[i] = strlen(sqlite3_column_name(st, i));
    if (fmt == LFC_OUT_CSV && ncol > 0) {
        for (int i = 0; i < ncol; i++) {
            if (i)
                lf_buf_append_u8(&out, ',');
            lfc_csv_field(&out, sqlite3_column_name(st, i), NULL);
        }
        lf_buf_append_str(&out, "\r\n");
    }
    int rc, exit_rc = LFC_EXIT_OK;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (fmt == LFC_OUT_JSON) {
            json_t *o = json_object();
            for (int i = 0; i < ncol; i++) {
                json_t *v;
                switch (sqlite3_column_type(st, i)) {
                case SQLITE_INTEGER:
                    v = json_integer(sqlite3_column_int64(st, i));
                    break;
                case SQLITE_FLOAT:
                    v = json_real(sqlite3_column_double(st, i));
                    break;
                case SQLITE_NULL:
                    v = json_null();
                    break;
                default:
                    v = json_string(cell(st, i));
                    if (v == NULL) /* not UTF-8 (a blob): hex would be kinder, keep it simple */
                        v = json_null();
                }
                json_object_set_new(o, sqlite3_column_name(st, i), v);
            }
            char *s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
            if (s) {
                lf_buf_append_str(&out, s);
                lf_buf_append_u8(&out, '\n');
                free(s);
            }
            json_decref(o);
        } else if (fmt == LFC_OUT_CSV) {
            for (int i = 0; i < ncol; i++) {
                if (i)
                    lf_buf_append_u8(&out, ',');
                lfc_csv_field(&out, sqlite3_column_type(st, i) == SQLITE_NULL ? "" : cell(st, i),
                              NULL);
            }
            lf_buf_append_str(&out, "\r\n");
        } else {
            if (nrows == cap) {
                cap = cap ? cap * 2 : 64;
                char ***nr = realloc(rows, cap * sizeof *nr);
                if (nr == NULL) {
                    exit_rc = lfc_fail(LFC_EXIT_ERROR, "out of memory");
                    break;
                }
                rows = nr;
            }
            rows[nrows] = calloc((size_t)ncol, sizeof(char *));
            for (int i = 0; rows[nrows] && i < ncol; i++) {
                rows[nrows][i] = strdup(cell(st, i));
                size_t w = rows[nrows][i] ? strlen(rows[nrows][i]) : 0;
                if (w > width[i])
                    width[i] = w;
            }
            nrows++;
        }
    }
    if (rc != SQLITE_DONE && exit_rc == LFC_EXIT_OK)
        exit_rc = lfc_fail(LFC_EXIT_ERROR, "sql: %s", sqlite3_errmsg(sqlite3_db_handle(st)));
    if (fmt == LFC_OUT_TEXT && ncol > 0) {
        for (int i = 0; i < ncol; i++)
            lf_buf_printf(&out, "%s%-*s", i ? "  " : "", (int)width[i], sqlite3_column_name(st, i));
        lf_buf_append_u8(&out, '\n');
        for (size_t r = 0; r < nrows; r++) {
            for (int i = 0; i < ncol; i++) {
                const char *v = rows[r] && rows[r][i] ? rows[r][i] : "";
                lf_buf_printf(&out, "%s%-*s", i ? "  " : "", (int)width[i], v);
            }
            lf_buf_append_u8(&out, '\n');
        }
    }
    for (size_t r = 0; r < nrows; r++) {
        for (int i = 0; rows[r] && i < ncol; i++)
            free(rows[r][i]);
        free(rows[r]);
    }
    free(rows);
    free(width);
    fwrite(out.data, 1, out.len, stdout);
    lf_buf_free_secret(&out);
    return exit_rc;
}

int lfc_cmd_sql(lfc_ctx *c, int argc, char **argv)
{
    lfc_filter f = {0};
    const char *stmt = NULL;
    int rc = LFC_EXIT_OK;
    for (int i = 1; i < argc && rc == LFC_EXIT_OK;) {
        bool used = false;
        rc = lfc_filter_arg(&f, argc, argv, &i, &used);
        if (rc != LFC_EXIT_OK || used)
            continue;
        if (strcmp(argv[i], "--no-cache") == 0) {
            lfc_cache_disable();
            i++;
        } else if (stmt == NULL && argv[i][0] != '-') {
            stmt = argv[i++];
        } else
            rc = lfc_fail(LFC_EXIT_USAGE, "sql: unexpected argument '%s'", argv[i]);
    }
    if (rc == LFC_EXIT_OK && stmt == NULL)
        rc = lfc_fail(LFC_EXIT_USAGE, "usage: logflux sql \"SELECT … FROM logs …\" [filters]");
    if (rc == LFC_EXIT_OK)
        rc = lfc_filter_finish(&f, lf_time_now_ns(), 3600LL * LF_NS_PER_SEC);
    if (rc != LFC_EXIT_OK) {
        lfc_filter_free(&f);
        return rc;
    }
    sql_state s = {0};
    if (sqlite3_open_v2(":memory:", &s.db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_MEMORY, NULL) !=
            SQLITE_OK ||
        sqlite3_exec(s.db,
                     "PRAGMA temp_store = MEMORY;"
                     "CREATE TABLE logs(ts TEXT, ts_ns INTEGER, level INTEGER, type TEXT, app "
                     "TEXT, source TEXT, message TEXT, attributes TEXT, key_id TEXT, sequence "
                     "INTEGER);"
                     "BEGIN;",
                     NULL, NULL, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(s.db, "INSERT INTO logs VALUES (?,?,?,?,?,?,?,?,?,?)", -1, &s.ins,
                           NULL) != SQLITE_OK) {
        rc = lfc_fail(LFC_EXIT_ERROR, "sql: %s", s.db ? sqlite3_errmsg(s.db) : "sqlite");
        sqlite3_close(s.db);
        lfc_filter_free(&f);
        return rc;
    }
    rc = lfc_read_entries(c, &f, false, on_entry, &s);
    sqlite3_finalize(s.ins);
    sqlite3_exec(s.db, "COMMIT;", NULL, NULL, NULL);
    int read_rc = rc;
    if (rc == LFC_EXIT_OK || rc == LFC_EXIT_TAMPERED) {
        const char *tail = stmt;
        rc = LFC_EXIT_OK;
        while (rc == LFC_EXIT_OK && tail && *tail) {
            sqlite3_stmt *st = NULL;
            if (sqlite3_prepare_v2(s.db, tail, -1, &st, &tail) != SQLITE_OK) {
                rc = lfc_fail(LFC_EXIT_USAGE, "sql: %s", sqlite3_errmsg(s.db));
                break;
            }
            if (st == NULL) /* whitespace or a comment */
                continue;
            rc = print_result(st, c->output);
            sqlite3_finalize(st);
        }
        if (rc == LFC_EXIT_OK)
            rc = read_rc;
    }
    sqlite3_close(s.db);
    lfc_filter_free(&f);
    fflush(stdout);
    return rc;
}

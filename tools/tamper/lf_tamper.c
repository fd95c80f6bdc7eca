/*
 * lf_tamper.c — `lf-tamper`: the attacker of the tampering tests. It edits the stored Parquet
 * files of a stopped logfluxd's data directory in place, the way someone with write access to
 * the object store and the metadata database could, so tests can prove that `logflux verify`
 * names each kind of change and `logflux query` never shows tampered content as valid.
 *
 *   lf-tamper --data DIR OP [selection] [options]
 *
 * OP (one per run):
 *   redate    shift ts and ts_max of the row by --delta-ns (default +3600 s)
 *   move      move the row to app --to-app: its `app` column changes, and it goes into a new
 *             file under the other app= path with its own manifest row (the original file is
 *             rewritten without it), so the server serves it under the other app
 *   drop      delete the row
 *   dup       insert a copy of the row right after it
 *   flip      flip one bit of the row's ciphertext (--bit N, default: the middle byte's bit 0)
 *   truncate  delete the close marker of a session (selection defaults to --kind close)
 *   reorder   swap the `sequence` of the row with the next sequence of the same key
 *
 * Selection: the rows of every manifest file (in manifest id order, rows in file order) that
 * match --format native|v3, --kind entry|close (entry = entry or block rows), --key HEX and
 * --seq N; --index N picks the Nth match (default 0).
 *
 * How: the whole file is read with our Parquet reader into memory (schema, footer key/values,
 * every value), edited, written with our writer to a temporary file next to it and renamed
 * over it; the manifest row (rows, bytes, ts_min, ts_max; app, path for a move) is fixed with
 * SQLite. The server must be stopped. Prints one JSON line saying what it did.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "parquet.h"

/* ---------------- small helpers ---------------- */

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("lf-tamper: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(1);
}

static void *xcalloc(size_t n, size_t sz)
{
    void *p = calloc(n ? n : 1, sz ? sz : 1);
    if (p == NULL)
        die("out of memory");
    return p;
}

static char *xstrdup(const char *s)
{
    char *p = strdup(s);
    if (p == NULL)
        die("out of memory");
    return p;
}

/* ---------------- a whole Parquet file in memory ---------------- */

typedef struct table {
    size_t ncol;
    lf_pq_column *cols; /* names owned */
    size_t nkv;
    lf_pq_kv *kv; /* keys/values owned */
    size_t nrow, cap;
    lf_pq_value **rows; /* rows[i][c]; byte values owned (malloc'd copies) */
} table;

static lf_pq_value *row_copy(const table *t, const lf_pq_value *src)
{
    lf_pq_value *r = xcalloc(t->ncol, sizeof *r);
    for (size_t c = 0; c < t->ncol; c++) {
        r[c] = src[c];
        lf_pq_type ty = t->cols[c].type;
        if (!src[c].is_null && (ty == LF_PQ_BYTE_ARRAY || ty == LF_PQ_FIXED_LEN_BYTE_ARRAY)) {
            uint8_t *b = xcalloc(src[c].v.bytes.len + 1, 1);
            if (src[c].v.bytes.len)
                memcpy(b, src[c].v.bytes.ptr, src[c].v.bytes.len);
            r[c].v.bytes.ptr = b;
        }
    }
    return r;
}

static void row_free(const table *t, lf_pq_value *r)
{
    if (r == NULL)
        return;
    for (size_t c = 0; c < t->ncol; c++) {
        lf_pq_type ty = t->cols[c].type;
        if (!r[c].is_null && (ty == LF_PQ_BYTE_ARRAY || ty == LF_PQ_FIXED_LEN_BYTE_ARRAY))
            free((void *)r[c].v.bytes.ptr);
    }
    free(r);
}

static void table_insert(table *t, size_t at, lf_pq_value *r)
{
    if (t->nrow == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 64;
        lf_pq_value **n = realloc(t->rows, cap * sizeof *n);
        if (n == NULL)
            die("out of memory");
        t->rows = n;
        t->cap = cap;
    }
    memmove(&t->rows[at + 1], &t->rows[at], (t->nrow - at) * sizeof *t->rows);
    t->rows[at] = r;
    t->nrow++;
}

static void table_remove(table *t, size_t at)
{
    row_free(t, t->rows[at]);
    memmove(&t->rows[at], &t->rows[at + 1], (t->nrow - at - 1) * sizeof *t->rows);
    t->nrow--;
}

static void table_free(table *t)
{
    for (size_t i = 0; i < t->nrow; i++)
        row_free(t, t->rows[i]);
    free(t->rows);
    for (size_t c = 0; c < t->ncol; c++)
        free((void *)t->cols[c].name);
    free(t->cols);
    for (size_t i = 0; i < t->nkv; i++) {
        free((void *)t->kv[i].key);
        free((void *)t->kv[i].value);
    }
    free(t->kv);
    memset(t, 0, sizeof *t);
}

static void table_read(const char *path, table *t)
{
    lf_error err = {0};
    lf_pq_reader *r = NULL;
    if (lf_pq_reader_open(path, NULL, &r, &err) != LF_OK)
        die("%s: %s", path, err.message);
    memset(t, 0, sizeof *t);
    t->ncol = lf_pq_reader_num_columns(r);
    t->cols = xcalloc(t->ncol, sizeof *t->cols);
    for (size_t c = 0; c < t->ncol; c++) {
        t->cols[c] = *lf_pq_reader_column(r, c);
        t->cols[c].name = xstrdup(t->cols[c].name);
    }
    t->nkv = lf_pq_reader_num_kv(r);
    t->kv = xcalloc(t->nkv, sizeof *t->kv);
    for (size_t i = 0; i < t->nkv; i++) {
        const lf_pq_kv *kv = lf_pq_reader_kv(r, i);
        t->kv[i].key = xstrdup(kv->key);
        t->kv[i].value = kv->value ? xstrdup(kv->value) : NULL;
    }
    lf_pq_column_data *cd = xcalloc(t->ncol, sizeof *cd);
    lf_pq_value *tmp = xcalloc(t->ncol, sizeof *tmp);
    for (size_t g = 0; g < lf_pq_reader_num_row_groups(r); g++) {
        for (size_t c = 0; c < t->ncol; c++) {
            memset(&cd[c], 0, sizeof cd[c]);
            if (lf_pq_reader_read_column(r, g, c, &cd[c], &err) != LF_OK)
                die("%s: row group %zu column %zu: %s", path, g, c, err.message);
        }
        for (size_t i = 0; i < cd[0].num_values; i++) {
            for (size_t c = 0; c < t->ncol; c++) {
                if (i >= cd[c].num_values)
                    die("%s: ragged row group %zu", path, g);
                tmp[c] = cd[c].values[i];
            }
            table_insert(t, t->nrow, row_copy(t, tmp));
        }
        for (size_t c = 0; c < t->ncol; c++)
            lf_pq_column_data_free(&cd[c]);
    }
    free(tmp);
    free(cd);
    lf_pq_reader_close(r);
}

/* Write the table to path.tmp and rename it over path. Returns the new size in bytes. */
static long long table_write(const table *t, const char *path)
{
    char tmp[PATH_MAX];
    if (snprintf(tmp, sizeof tmp, "%s.tamper-tmp", path) >= (int)sizeof tmp)
        die("path too long");
    lf_error err = {0};
    lf_pq_writer_options o = {.kv = t->kv, .num_kv = t->nkv, .created_by = "lf-tamper"};
    lf_pq_writer *w = NULL;
    if (lf_pq_writer_open(tmp, t->cols, t->ncol, &o, &w, &err) != LF_OK)
        die("%s: %s", tmp, err.message);
    for (size_t i = 0; i < t->nrow; i++)
        if (lf_pq_writer_add_row(w, t->rows[i], &err) != LF_OK)
            die("%s: row %zu: %s", tmp, i, err.message);
    if (lf_pq_writer_close(w, &err) != LF_OK)
        die("%s: %s", tmp, err.message);
    if (rename(tmp, path) != 0)
        die("rename %s: %s", path, strerror(errno));
    struct stat st;
    if (stat(path, &st) != 0)
        die("stat %s: %s", path, strerror(errno));
    return (long long)st.st_size;
}

static ssize_t col(const table *t, const char *name)
{
    for (size_t c = 0; c < t->ncol; c++)
        if (strcmp(t->cols[c].name, name) == 0)
            return (ssize_t)c;
    die("stored file has no column %s", name);
}

static void ts_range(const table *t, long long *mn, long long *mx)
{
    ssize_t ts = col(t, "ts"), tsx = col(t, "ts_max");
    *mn = LLONG_MAX;
    *mx = LLONG_MIN;
    for (size_t i = 0; i < t->nrow; i++) {
        if (t->rows[i][ts].v.i64 < *mn)
            *mn = t->rows[i][ts].v.i64;
        if (t->rows[i][tsx].v.i64 > *mx)
            *mx = t->rows[i][tsx].v.i64;
    }
    if (t->nrow == 0)
        *mn = *mx = 0;
}

/* ---------------- the manifest ---------------- */

typedef struct mfile {
    long long id, tenant_id, hour, created, seq_first, seq_last;
    char *app, *dt, *path;
} mfile;

static void sql_ok(sqlite3 *db, int rc, const char *what)
{
    if (rc != SQLITE_OK && rc != SQLITE_DONE && rc != SQLITE_ROW)
        die("meta.db: %s: %s", what, sqlite3_errmsg(db));
}

static mfile *manifest_list(sqlite3 *db, size_t *n)
{
    sqlite3_stmt *st = NULL;
    sql_ok(db,
           sqlite3_prepare_v2(db,
                              "SELECT id, tenant_id, app, dt, hour, path, created, seq_first, "
                              "seq_last FROM manifest ORDER BY id",
                              -1, &st, NULL),
           "select manifest");
    size_t cap = 16;
    mfile *f = xcalloc(cap, sizeof *f);
    *n = 0;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (*n == cap) {
            cap *= 2;
            mfile *g = realloc(f, cap * sizeof *g);
            if (g == NULL)
                die("out of memory");
            f = g;
        }
        mfile *m = &f[(*n)++];
        memset(m, 0, sizeof *m);
        m->id = sqlite3_column_int64(st, 0);
        m->tenant_id = sqlite3_column_int64(st, 1);
        m->app = xstrdup((const char *)sqlite3_column_text(st, 2));
        m->dt = xstrdup((const char *)sqlite3_column_text(st, 3));
        m->hour = sqlite3_column_int64(st, 4);
        m->path = xstrdup((const char *)sqlite3_column_text(st, 5));
        m->created = sqlite3_column_int64(st, 6);
        m->seq_first = sqlite3_column_int64(st, 7);
        m->seq_last = sqlite3_column_int64(st, 8);
    }
    sql_ok(db, rc, "select manifest");
    sqlite3_finalize(st);
    return f;
}

static void manifest_update(sqlite3 *db, long long id, const table *t, long long bytes)
{
    long long mn, mx;
    ts_range(t, &mn, &mx);
    sqlite3_stmt *st = NULL;
    sql_ok(db,
           sqlite3_prepare_v2(db,
                              "UPDATE manifest SET rows = ?, bytes = ?, ts_min = ?, ts_max = ? "
                              "WHERE id = ?",
                              -1, &st, NULL),
           "update manifest");
    sqlite3_bind_int64(st, 1, (sqlite3_int64)t->nrow);
    sqlite3_bind_int64(st, 2, bytes);
    sqlite3_bind_int64(st, 3, mn);
    sqlite3_bind_int64(st, 4, mx);
    sqlite3_bind_int64(st, 5, id);
    sql_ok(db, sqlite3_step(st), "update manifest");
    sqlite3_finalize(st);
}

static void manifest_insert(sqlite3 *db, const mfile *like, const char *app, const char *path,
                            const table *t, long long bytes)
{
    long long mn, mx;
    ts_range(t, &mn, &mx);
    sqlite3_stmt *st = NULL;
    sql_ok(db,
           sqlite3_prepare_v2(db,
                              "INSERT INTO manifest(tenant_id, app, dt, hour, path, rows, bytes, "
                              "ts_min, ts_max, created, seq_first, seq_last) "
                              "VALUES(?,?,?,?,?,?,?,?,?,?,?,?)",
                              -1, &st, NULL),
           "insert manifest");
    sqlite3_bind_int64(st, 1, like->tenant_id);
    sqlite3_bind_text(st, 2, app, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 3, like->dt, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 4, like->hour);
    sqlite3_bind_text(st, 5, path, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 6, (sqlite3_int64)t->nrow);
    sqlite3_bind_int64(st, 7, bytes);
    sqlite3_bind_int64(st, 8, mn);
    sqlite3_bind_int64(st, 9, mx);
    sqlite3_bind_int64(st, 10, like->created);
    sqlite3_bind_int64(st, 11, like->seq_first);
    sqlite3_bind_int64(st, 12, like->seq_last);
    sql_ok(db, sqlite3_step(st), "insert manifest");
    sqlite3_finalize(st);
}

/* ---------------- selection ---------------- */

typedef struct selection {
    int format;        /* 0 any, 1 v3, 2 native */
    int kind;          /* 0 any, 1 entry/block, 3 close */
    const char *key;   /* NULL any */
    long long seq;     /* -1 any */
    long long index;   /* Nth match */
    long long matched; /* running count */
} selection;

static bool row_matches(const table *t, const lf_pq_value *r, const selection *s)
{
    int fmt = r[col(t, "format")].v.i32, kind = r[col(t, "kind")].v.i32;
    if (s->format && fmt != s->format)
        return false;
    if (s->kind == 1 && kind != 1 && kind != 2)
        return false;
    if (s->kind == 3 && kind != 3)
        return false;
    if (s->key) {
        const lf_pq_value *k = &r[col(t, "key_id")];
        if (k->v.bytes.len != strlen(s->key) ||
            strncasecmp((const char *)k->v.bytes.ptr, s->key, k->v.bytes.len) != 0)
            return false;
    }
    if (s->seq >= 0 && r[col(t, "sequence")].v.i64 != s->seq)
        return false;
    return true;
}

static void usage(void)
{
    fputs("usage: lf-tamper --data DIR redate|move|drop|dup|flip|truncate|reorder\n"
          "         [--format native|v3] [--kind entry|close] [--key HEX] [--seq N] [--index N]\n"
          "         [--delta-ns N] [--to-app APP] [--bit N]\n",
          stderr);
    exit(2);
}

static void print_key(const table *t, const lf_pq_value *r)
{
    const lf_pq_value *k = &r[col(t, "key_id")];
    printf("\"key_id\":\"%.*s\",\"sequence\":%" PRId64, (int)k->v.bytes.len,
           (const char *)k->v.bytes.ptr, r[col(t, "sequence")].v.i64);
}

int main(int argc, char **argv)
{
    const char *data = NULL, *op = NULL, *to_app = NULL;
    long long delta = 3600LL * 1000000000LL, bit = -1;
    selection sel = {.seq = -1};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--data") == 0 && v)
            data = v, i++;
        else if (strcmp(a, "--format") == 0 && v)
            sel.format = strcmp(v, "v3") == 0 ? 1 : strcmp(v, "native") == 0 ? 2 : -1, i++;
        else if (strcmp(a, "--kind") == 0 && v)
            sel.kind = strcmp(v, "entry") == 0 ? 1 : strcmp(v, "close") == 0 ? 3 : -1, i++;
        else if (strcmp(a, "--key") == 0 && v)
            sel.key = v, i++;
        else if (strcmp(a, "--seq") == 0 && v)
            sel.seq = strtoll(v, NULL, 10), i++;
        else if (strcmp(a, "--index") == 0 && v)
            sel.index = strtoll(v, NULL, 10), i++;
        else if (strcmp(a, "--delta-ns") == 0 && v)
            delta = strtoll(v, NULL, 10), i++;
        else if (strcmp(a, "--to-app") == 0 && v)
            to_app = v, i++;
        else if (strcmp(a, "--bit") == 0 && v)
            bit = strtoll(v, NULL, 10), i++;
        else if (a[0] != '-' && op == NULL)
            op = a;
        else
            usage();
    }
    if (data == NULL || op == NULL || sel.format < 0 || sel.kind < 0 || sel.index < 0)
        usage();
    static const char *const ops[] = {"redate", "move",     "drop",    "dup",
                                      "flip",   "truncate", "reorder", NULL};
    bool known = false;
    for (size_t i = 0; ops[i]; i++)
        known |= strcmp(op, ops[i]) == 0;
    if (!known)
        usage();
    if (strcmp(op, "truncate") == 0) {
        sel.kind = 3;
        sel.format = 2;
    } else if (sel.kind == 0 && strcmp(op, "flip") != 0) {
        sel.kind = 1; /* the other edits aim at records, not close markers, by default */
    }
    if (strcmp(op, "move") == 0 && (to_app == NULL || !*to_app || strchr(to_app, '/')))
        die("move needs --to-app APP");

    char dbpath[PATH_MAX];
    snprintf(dbpath, sizeof dbpath, "%s/meta.db", data);
    sqlite3 *db = NULL;
    if (sqlite3_open_v2(dbpath, &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK)
        die("%s: %s", dbpath, db ? sqlite3_errmsg(db) : "cannot open");
    sqlite3_busy_timeout(db, 5000);
    size_t nf = 0;
    mfile *files = manifest_list(db, &nf);

    int status = 1;
    for (size_t f = 0; f < nf; f++) {
        char path[PATH_MAX];
        if (snprintf(path, sizeof path, "%s/objects/%s", data, files[f].path) >= (int)sizeof path)
            die("path too long");
        table t;
        table_read(path, &t);
        size_t hit = SIZE_MAX;
        for (size_t i = 0; i < t.nrow && hit == SIZE_MAX; i++)
            if (row_matches(&t, t.rows[i], &sel) && sel.matched++ == sel.index)
                hit = i;
        if (hit == SIZE_MAX) {
            table_free(&t);
            continue;
        }
        lf_pq_value *r = t.rows[hit];
        printf("{\"op\":\"%s\",\"file_id\":%lld,\"path\":\"%s\",\"row\":%zu,", op, files[f].id,
               files[f].path, hit);
        print_key(&t, r);
        sql_ok(db, sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL), "begin");
        if (strcmp(op, "redate") == 0) {
            r[col(&t, "ts")].v.i64 += delta;
            r[col(&t, "ts_max")].v.i64 += delta;
            printf(",\"delta_ns\":%lld", delta);
        } else if (strcmp(op, "drop") == 0 || strcmp(op, "truncate") == 0) {
            table_remove(&t, hit);
        } else if (strcmp(op, "dup") == 0) {
            table_insert(&t, hit + 1, row_copy(&t, r));
        } else if (strcmp(op, "flip") == 0) {
            lf_pq_value *c = &r[col(&t, "ciphertext")];
            if (c->v.bytes.len == 0)
                die("row has an empty ciphertext");
            long long b = bit >= 0 ? bit : (long long)(c->v.bytes.len / 2) * 8;
            if (b / 8 >= (long long)c->v.bytes.len)
                die("--bit %lld is beyond the ciphertext (%u bytes)", b, c->v.bytes.len);
            ((uint8_t *)c->v.bytes.ptr)[b / 8] ^= (uint8_t)(1u << (b % 8));
            printf(",\"bit\":%lld", b);
        } else if (strcmp(op, "reorder") == 0) {
            /* Swap sequences with the row of the same key carrying sequence + 1, searched in
             * this file (the sender's rows of one session normally land in one flush). */
            ssize_t sq = col(&t, "sequence"), kc = col(&t, "key_id");
            int64_t want = r[sq].v.i64 + 1;
            size_t other = SIZE_MAX;
            for (size_t i = 0; i < t.nrow; i++) {
                const lf_pq_value *o = t.rows[i];
                if (i != hit && o[sq].v.i64 == want && o[col(&t, "kind")].v.i32 != 3 &&
                    o[kc].v.bytes.len == r[kc].v.bytes.len &&
                    memcmp(o[kc].v.bytes.ptr, r[kc].v.bytes.ptr, r[kc].v.bytes.len) == 0)
                    other = i;
            }
            if (other == SIZE_MAX)
                die("reorder: no row with sequence %" PRId64 " of that key in the same file", want);
            t.rows[other][sq].v.i64 = r[sq].v.i64;
            r[sq].v.i64 = want;
            printf(",\"swapped_with_row\":%zu", other);
        } else { /* move */
            lf_pq_value *moved = t.rows[hit];
            t.rows[hit] = NULL;
            memmove(&t.rows[hit], &t.rows[hit + 1], (t.nrow - hit - 1) * sizeof *t.rows);
            t.nrow--;
            ssize_t ac = col(&t, "app");
            free((void *)moved[ac].v.bytes.ptr);
            moved[ac].v.bytes.ptr = (const uint8_t *)xstrdup(to_app);
            moved[ac].v.bytes.len = (uint32_t)strlen(to_app);
            /* tenant=T/app=A/rest -> tenant=T/app=TO/rest */
            const char *p = files[f].path, *app_at = strstr(p, "/app="), *rest;
            if (app_at == NULL || (rest = strchr(app_at + 1, '/')) == NULL)
                die("unexpected object path %s", p);
            char newrel[PATH_MAX], newabs[PATH_MAX + 64], dir[PATH_MAX + 64];
            if (snprintf(newrel, sizeof newrel, "%.*s/app=%s%s", (int)(app_at - p), p, to_app,
                         rest) >= (int)sizeof newrel ||
                snprintf(newabs, sizeof newabs, "%s/objects/%s", data, newrel) >=
                    (int)sizeof newabs)
                die("path too long");
            memcpy(dir, newabs, sizeof dir);
            for (char *s = dir + strlen(data) + 1; (s = strchr(s, '/')) != NULL; s++) {
                *s = '\0';
                if (mkdir(dir, 0700) != 0 && errno != EEXIST)
                    die("mkdir %s: %s", dir, strerror(errno));
                *s = '/';
            }
            table nt = {.ncol = t.ncol, .cols = t.cols, .nkv = t.nkv, .kv = t.kv};
            table_insert(&nt, 0, moved);
            long long nb = table_write(&nt, newabs);
            manifest_insert(db, &files[f], to_app, newrel, &nt, nb);
            row_free(&nt, moved);
            free(nt.rows);
            printf(",\"to_app\":\"%s\",\"new_path\":\"%s\"", to_app, newrel);
        }
        long long bytes = table_write(&t, path);
        manifest_update(db, files[f].id, &t, bytes);
        sql_ok(db, sqlite3_exec(db, "COMMIT", NULL, NULL, NULL), "commit");
        printf("}\n");
        table_free(&t);
        status = 0;
        break;
    }
    if (status != 0)
        fprintf(stderr, "lf-tamper: no stored row matches the selection (%lld matched)\n",
                sel.matched);
    for (size_t f = 0; f < nf; f++) {
        free(files[f].app);
        free(files[f].dt);
        free(files[f].path);
    }
    free(files);
    sqlite3_close(db);
    return status;
}

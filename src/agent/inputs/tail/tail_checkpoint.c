/*
 * tail_checkpoint.c — the SQLite checkpoint DB: one row per file identity (dev, inode) with the
 * fingerprint it had, the committed offset and the truncation generation. A row is written only
 * by lf_tail_commit (after the pipeline made the data durable), all positions of one call in one
 * transaction. WAL with synchronous=NORMAL: a power cut may lose the last commits, which only
 * makes us read those records again (at-least-once), never skip them.
 *
 * A row is applied to a file only if the file's first fp_len bytes still hash to fp_hash: an
 * inode reused by a different file, or a file replaced under the same path, does not inherit
 * another file's offset.
 */
#define _GNU_SOURCE
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#include "tail_int.h"

struct tail_ckpt {
    sqlite3 *db;
    sqlite3_stmt *get, *put;
};

static const char SCHEMA[] = "PRAGMA journal_mode=WAL;"
                             "PRAGMA synchronous=NORMAL;"
                             "CREATE TABLE IF NOT EXISTS tail_checkpoint("
                             " dev INTEGER NOT NULL, ino INTEGER NOT NULL,"
                             " fp_hash INTEGER NOT NULL, fp_len INTEGER NOT NULL,"
                             " generation INTEGER NOT NULL, offset INTEGER NOT NULL,"
                             " path TEXT, updated_ns INTEGER NOT NULL,"
                             " PRIMARY KEY(dev, ino));";

lf_err tail_ckpt_open(const char *path, tail_ckpt **out, lf_error *err)
{
    tail_ckpt *c = calloc(1, sizeof *c);
    if (!c)
        return lf_error_set(err, LF_ERR_NOMEM, "tail: out of memory");
    if (sqlite3_open_v2(path, &c->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) !=
            SQLITE_OK ||
        sqlite3_busy_timeout(c->db, 5000) != SQLITE_OK ||
        sqlite3_exec(c->db, SCHEMA, NULL, NULL, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(c->db,
                           "SELECT fp_hash, fp_len, generation, offset FROM tail_checkpoint "
                           "WHERE dev=?1 AND ino=?2",
                           -1, &c->get, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(c->db,
                           "INSERT INTO tail_checkpoint(dev,ino,fp_hash,fp_len,generation,offset,"
                           "path,updated_ns) VALUES(?1,?2,?3,?4,?5,?6,?7,?8) "
                           "ON CONFLICT(dev,ino) DO UPDATE SET fp_hash=excluded.fp_hash,"
                           "fp_len=excluded.fp_len,generation=excluded.generation,"
                           "offset=excluded.offset,path=COALESCE(excluded.path,path),"
                           "updated_ns=excluded.updated_ns",
                           -1, &c->put, NULL) != SQLITE_OK) {
        lf_err e = lf_error_set(err, LF_ERR_IO, "tail: checkpoint db %s: %s", path,
                                c->db ? sqlite3_errmsg(c->db) : "cannot open");
        tail_ckpt_close(c);
        return e;
    }
    *out = c;
    return LF_OK;
}

void tail_ckpt_close(tail_ckpt *c)
{
    if (!c)
        return;
    sqlite3_finalize(c->get);
    sqlite3_finalize(c->put);
    sqlite3_close(c->db);
    free(c);
}

lf_err tail_ckpt_get(tail_ckpt *c, uint64_t dev, uint64_t ino, lf_tail_position *pos, lf_error *err)
{
    sqlite3_reset(c->get);
    sqlite3_bind_int64(c->get, 1, (sqlite3_int64)dev);
    sqlite3_bind_int64(c->get, 2, (sqlite3_int64)ino);
    int rc = sqlite3_step(c->get);
    if (rc == SQLITE_DONE)
        return LF_ERR_NOT_FOUND;
    if (rc != SQLITE_ROW)
        return lf_error_set(err, LF_ERR_IO, "tail: checkpoint lookup: %s",
                            sqlite3_errmsg(sqlite3_db_handle(c->get)));
    sqlite3_int64 fp_len = sqlite3_column_int64(c->get, 1);
    sqlite3_int64 gen = sqlite3_column_int64(c->get, 2);
    sqlite3_int64 off = sqlite3_column_int64(c->get, 3);
    /* The DB is ours but may be damaged: treat out-of-range values as no checkpoint. */
    if (fp_len < 0 || fp_len > LF_TAIL_FP_MAX || gen < 0 || gen > UINT32_MAX || off < 0)
        return LF_ERR_NOT_FOUND;
    pos->dev = dev;
    pos->ino = ino;
    pos->fp_hash = (uint64_t)sqlite3_column_int64(c->get, 0);
    pos->fp_len = (uint32_t)fp_len;
    pos->generation = (uint32_t)gen;
    pos->offset = (uint64_t)off;
    sqlite3_reset(c->get);
    return LF_OK;
}

static const char *path_of(lf_tail *t, const lf_tail_position *p)
{
    for (tail_file *f = t->files; f; f = f->next)
        if (f->dev == p->dev && f->ino == p->ino)
            return f->path;
    return NULL;
}

lf_err tail_ckpt_put(tail_ckpt *c, const lf_tail_position *pos, size_t n, lf_tail *t, lf_error *err)
{
    if (sqlite3_exec(c->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
        return lf_error_set(err, LF_ERR_IO, "tail: checkpoint begin: %s", sqlite3_errmsg(c->db));
    int64_t now = tail_realtime_ns();
    for (size_t i = 0; i < n; i++) {
        const lf_tail_position *p = &pos[i];
        if (p->offset > INT64_MAX || p->fp_len > LF_TAIL_FP_MAX) {
            sqlite3_exec(c->db, "ROLLBACK", NULL, NULL, NULL);
            return lf_error_set(err, LF_ERR_INVALID, "tail: commit: position %zu out of range", i);
        }
        const char *path = path_of(t, p);
        sqlite3_reset(c->put);
        sqlite3_bind_int64(c->put, 1, (sqlite3_int64)p->dev);
        sqlite3_bind_int64(c->put, 2, (sqlite3_int64)p->ino);
        sqlite3_bind_int64(c->put, 3, (sqlite3_int64)p->fp_hash);
        sqlite3_bind_int64(c->put, 4, (sqlite3_int64)p->fp_len);
        sqlite3_bind_int64(c->put, 5, (sqlite3_int64)p->generation);
        sqlite3_bind_int64(c->put, 6, (sqlite3_int64)p->offset);
        if (path)
            sqlite3_bind_text(c->put, 7, path, -1, SQLITE_TRANSIENT);
        else
            sqlite3_bind_null(c->put, 7);
        sqlite3_bind_int64(c->put, 8, (sqlite3_int64)now);
        if (sqlite3_step(c->put) != SQLITE_DONE) {
            lf_err e =
                lf_error_set(err, LF_ERR_IO, "tail: checkpoint write: %s", sqlite3_errmsg(c->db));
            sqlite3_reset(c->put);
            sqlite3_exec(c->db, "ROLLBACK", NULL, NULL, NULL);
            return e;
        }
    }
    sqlite3_reset(c->put);
    if (sqlite3_exec(c->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
        lf_err e =
            lf_error_set(err, LF_ERR_IO, "tail: checkpoint commit: %s", sqlite3_errmsg(c->db));
        sqlite3_exec(c->db, "ROLLBACK", NULL, NULL, NULL);
        return e;
    }
    return LF_OK;
}

/* lf_tail_restore's rule: is `p` ahead of the stored row `cp` of the same (dev, inode)? */
static bool ahead_of(const lf_tail_position *p, const lf_tail_position *cp)
{
    if (p->generation != cp->generation)
        return p->generation > cp->generation;
    bool same_fp = p->fp_len > cp->fp_len || (p->fp_len == cp->fp_len && p->fp_hash == cp->fp_hash);
    return same_fp && p->offset > cp->offset;
}

lf_err tail_ckpt_put_if_ahead(tail_ckpt *c, const lf_tail_position *pos, size_t n, size_t *applied,
                              lf_error *err)
{
    size_t taken = 0;
    if (sqlite3_exec(c->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
        return lf_error_set(err, LF_ERR_IO, "tail: restore begin: %s", sqlite3_errmsg(c->db));
    int64_t now = tail_realtime_ns();
    for (size_t i = 0; i < n; i++) {
        const lf_tail_position *p = &pos[i];
        if (p->offset > INT64_MAX || p->fp_len > LF_TAIL_FP_MAX) {
            sqlite3_exec(c->db, "ROLLBACK", NULL, NULL, NULL);
            return lf_error_set(err, LF_ERR_INVALID, "tail: restore: position %zu out of range", i);
        }
        lf_tail_position cp;
        lf_err e = tail_ckpt_get(c, p->dev, p->ino, &cp, err);
        sqlite3_reset(c->get);
        if (e != LF_OK && e != LF_ERR_NOT_FOUND) {
            sqlite3_exec(c->db, "ROLLBACK", NULL, NULL, NULL);
            return e;
        }
        if (e == LF_OK && !ahead_of(p, &cp))
            continue;
        sqlite3_reset(c->put);
        sqlite3_bind_int64(c->put, 1, (sqlite3_int64)p->dev);
        sqlite3_bind_int64(c->put, 2, (sqlite3_int64)p->ino);
        sqlite3_bind_int64(c->put, 3, (sqlite3_int64)p->fp_hash);
        sqlite3_bind_int64(c->put, 4, (sqlite3_int64)p->fp_len);
        sqlite3_bind_int64(c->put, 5, (sqlite3_int64)p->generation);
        sqlite3_bind_int64(c->put, 6, (sqlite3_int64)p->offset);
        sqlite3_bind_null(c->put, 7); /* keeps the row's path */
        sqlite3_bind_int64(c->put, 8, (sqlite3_int64)now);
        if (sqlite3_step(c->put) != SQLITE_DONE) {
            lf_err we =
                lf_error_set(err, LF_ERR_IO, "tail: restore write: %s", sqlite3_errmsg(c->db));
            sqlite3_reset(c->put);
            sqlite3_exec(c->db, "ROLLBACK", NULL, NULL, NULL);
            return we;
        }
        taken++;
    }
    sqlite3_reset(c->put);
    if (sqlite3_exec(c->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
        lf_err e = lf_error_set(err, LF_ERR_IO, "tail: restore commit: %s", sqlite3_errmsg(c->db));
        sqlite3_exec(c->db, "ROLLBACK", NULL, NULL, NULL);
        return e;
    }
    if (applied)
        *applied = taken;
    return LF_OK;
}

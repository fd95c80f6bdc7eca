/*
 * meta_sqlite.c — the embedded SQLite backend of the metadata store (meta.h).
 *
 * Schema: the numbered migrations below (docs/METADATA.md explains every table). The file's
 * PRAGMA user_version is the number of migrations applied; opening runs the missing ones in
 * order, in one IMMEDIATE transaction, and refuses a file from a newer build.
 *
 * Concurrency: a small fixed pool of connections guarded by a mutex and a condition variable.
 * Each operation takes one connection for its whole duration and gives it back. Why a pool and
 * not a connection per thread: libmicrohttpd may run many short-lived threads, and a
 * per-thread connection would need thread-exit cleanup and grow without bound; a pool keeps
 * descriptors and prepared statements bounded and each connection's statement cache warm. Why
 * more than one connection: in WAL mode readers never wait for the writer, so queries from HTTP
 * threads proceed while the worker commits the manifest. Writers are serialised by SQLite
 * itself (BEGIN IMMEDIATE + busy timeout); a busy timeout that expires is LF_ERR_FULL (retry).
 * A connection is only ever used by the thread holding it, so it is opened NOMUTEX.
 *
 * Durability: WAL with synchronous=FULL, so a committed manifest + checkpoint survives power
 * loss (the worker releases spool records after that commit; losing it would lose data).
 * The database file is created 0600 before SQLite opens it; SQLite gives its -wal and -shm
 * files the same mode.
 *
 * Every SQL text is a constant prepared once per connection; values are always bound.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include "logflux/buf.h"
#include "meta/meta.h"

/* ---------------- schema ---------------- */

static const char *const migrations[] = {
    /* 1: tenants, apps, credentials, customer keys, wrapped session keys */
    "CREATE TABLE tenants("
    " id INTEGER PRIMARY KEY,"
    " name TEXT NOT NULL UNIQUE,"
    " region TEXT NOT NULL,"
    " created INTEGER NOT NULL,"
    " allow_bearer INTEGER NOT NULL DEFAULT 0,"
    " rate_per_sec INTEGER NOT NULL DEFAULT 0,"
    " rate_burst INTEGER NOT NULL DEFAULT 0,"
    " quota_bytes INTEGER NOT NULL DEFAULT 0,"
    " retention_days INTEGER NOT NULL DEFAULT 0) STRICT;"
    "CREATE TABLE apps("
    " id INTEGER PRIMARY KEY,"
    " tenant_id INTEGER NOT NULL REFERENCES tenants(id),"
    " name TEXT NOT NULL,"
    " created INTEGER NOT NULL,"
    " UNIQUE(tenant_id, name)) STRICT;"
    /* app: NULL when unbound; the composite foreign key makes a binding to another tenant's
     * app impossible at the database level. */
    "CREATE TABLE api_keys("
    " id INTEGER PRIMARY KEY,"
    " tenant_id INTEGER NOT NULL REFERENCES tenants(id),"
    " id_text TEXT NOT NULL UNIQUE,"
    " region TEXT NOT NULL,"
    " app TEXT,"
    " verifier BLOB NOT NULL CHECK(length(verifier) = 32),"
    " signing_key BLOB NOT NULL CHECK(length(signing_key) = 32),"
    " scopes INTEGER NOT NULL,"
    " created INTEGER NOT NULL,"
    " expires INTEGER NOT NULL,"
    " revoked INTEGER NOT NULL DEFAULT 0,"
    " label TEXT NOT NULL DEFAULT '',"
    " FOREIGN KEY(tenant_id, app) REFERENCES apps(tenant_id, name)) STRICT;"
    "CREATE INDEX api_keys_tenant ON api_keys(tenant_id, id);"
    "CREATE TABLE pats("
    " id INTEGER PRIMARY KEY,"
    " tenant_id INTEGER NOT NULL REFERENCES tenants(id),"
    " id_text TEXT NOT NULL UNIQUE,"
    " region TEXT NOT NULL,"
    " app TEXT,"
    " verifier BLOB NOT NULL CHECK(length(verifier) = 32),"
    " scopes INTEGER NOT NULL,"
    " created INTEGER NOT NULL,"
    " expires INTEGER NOT NULL,"
    " revoked INTEGER NOT NULL DEFAULT 0,"
    " label TEXT NOT NULL DEFAULT '',"
    " FOREIGN KEY(tenant_id, app) REFERENCES apps(tenant_id, name)) STRICT;"
    "CREATE INDEX pats_tenant ON pats(tenant_id, id);"
    "CREATE TABLE customer_keys("
    " id INTEGER PRIMARY KEY,"
    " tenant_id INTEGER NOT NULL REFERENCES tenants(id),"
    " fingerprint BLOB NOT NULL CHECK(length(fingerprint) = 32),"
    " pem TEXT NOT NULL,"
    " active INTEGER NOT NULL,"
    " created INTEGER NOT NULL,"
    " UNIQUE(tenant_id, fingerprint)) STRICT;"
    "CREATE UNIQUE INDEX customer_keys_one_active ON customer_keys(tenant_id) WHERE active = 1;"
    "CREATE TABLE session_keys("
    " id INTEGER PRIMARY KEY,"
    " tenant_id INTEGER NOT NULL REFERENCES tenants(id),"
    " key_id TEXT NOT NULL,"
    " app TEXT NOT NULL,"
    " format INTEGER NOT NULL CHECK(format IN (1, 2)),"
    " fingerprint BLOB NOT NULL CHECK(length(fingerprint) = 32),"
    " wrapped BLOB NOT NULL,"
    " created INTEGER NOT NULL,"
    " UNIQUE(tenant_id, key_id)) STRICT;"
    "CREATE INDEX session_keys_tenant ON session_keys(tenant_id, id);",

    /* 2: the Parquet manifest and the worker checkpoints */
    "CREATE TABLE manifest("
    " id INTEGER PRIMARY KEY,"
    " tenant_id INTEGER NOT NULL REFERENCES tenants(id),"
    " app TEXT NOT NULL,"
    " dt TEXT NOT NULL,"
    " hour INTEGER NOT NULL CHECK(hour BETWEEN 0 AND 23),"
    " path TEXT NOT NULL UNIQUE,"
    " rows INTEGER NOT NULL,"
    " bytes INTEGER NOT NULL,"
    " ts_min INTEGER NOT NULL,"
    " ts_max INTEGER NOT NULL,"
    " created INTEGER NOT NULL,"
    " seq_first INTEGER NOT NULL,"
    " seq_last INTEGER NOT NULL,"
    " CHECK(ts_min <= ts_max), CHECK(seq_first <= seq_last)) STRICT;"
    "CREATE INDEX manifest_tenant_ts ON manifest(tenant_id, ts_min, id);"
    "CREATE INDEX manifest_tenant_app_ts ON manifest(tenant_id, app, ts_min, id);"
    "CREATE TABLE checkpoints("
    " stream TEXT PRIMARY KEY,"
    " seq INTEGER NOT NULL) STRICT;",

    /* 3: idempotency records and the audit log (append-only) */
    "CREATE TABLE idempotency("
    " tenant_id INTEGER NOT NULL REFERENCES tenants(id),"
    " credential TEXT NOT NULL,"
    " key TEXT NOT NULL,"
    " status INTEGER NOT NULL,"
    " body BLOB NOT NULL,"
    " created INTEGER NOT NULL,"
    " expires INTEGER NOT NULL,"
    " PRIMARY KEY(tenant_id, credential, key)) STRICT, WITHOUT ROWID;"
    "CREATE INDEX idempotency_expires ON idempotency(expires);"
    "CREATE TABLE audit("
    " id INTEGER PRIMARY KEY,"
    " tenant_id INTEGER NOT NULL REFERENCES tenants(id),"
    " actor TEXT NOT NULL,"
    " action TEXT NOT NULL,"
    " object TEXT NOT NULL,"
    " detail TEXT NOT NULL CHECK(detail = '' OR json_valid(detail)),"
    " time INTEGER NOT NULL,"
    " request_id TEXT NOT NULL) STRICT;"
    "CREATE INDEX audit_tenant ON audit(tenant_id, id);"
    "CREATE TRIGGER audit_append_only BEFORE UPDATE ON audit"
    " BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END;",
};
#define SCHEMA_VERSION ((int)(sizeof migrations / sizeof migrations[0]))

int lf_meta_sqlite_schema_version(void)
{
    return SCHEMA_VERSION;
}

/* ---------------- statements ---------------- */

enum {
    S_BEGIN,
    S_COMMIT,
    S_ROLLBACK,
    S_TENANT_INSERT,
    S_TENANT_GET,
    S_TENANT_GET_NAME,
    S_TENANT_SET,
    S_APP_INSERT,
    S_APP_GET,
    S_APP_LIST,
    S_KEY_INSERT,
    S_PAT_INSERT,
    S_KEY_LOOKUP,
    S_PAT_LOOKUP,
    S_KEY_LIST,
    S_PAT_LIST,
    S_KEY_REVOKE,
    S_PAT_REVOKE,
    S_PK_FIND,
    S_PK_DEACTIVATE,
    S_PK_ACTIVATE,
    S_PK_INSERT,
    S_PK_GET_ACTIVE,
    S_PK_GET,
    S_PK_LIST,
    S_SK_INSERT,
    S_SK_GET,
    S_SK_LIST,
    S_MF_INSERT,
    S_MF_QUERY_ASC,
    S_MF_QUERY_DESC,
    S_CP_GET,
    S_CP_SET,
    S_MF_USAGE,
    S_MF_REMOVE,
    S_IDEM_GET,
    S_IDEM_PUT,
    S_IDEM_PURGE,
    S_AUDIT_INSERT,
    S_AUDIT_LIST,
    S_COUNT
};

#define TENANT_COLS                                                                                \
    "id, name, region, created, allow_bearer, rate_per_sec, rate_burst, quota_bytes, "             \
    "retention_days"
#define CRED_LIST_COLS                                                                             \
    "id, tenant_id, region, id_text, scopes, app, created, expires, revoked, label"
#define PK_COLS "id, tenant_id, fingerprint, pem, active, created"
#define SK_COLS "id, tenant_id, app, key_id, format, fingerprint, wrapped, created"
#define MF_COLS                                                                                    \
    "id, tenant_id, app, dt, hour, path, rows, bytes, ts_min, ts_max, created, seq_first, "        \
    "seq_last"
#define MF_WHERE                                                                                   \
    " FROM manifest WHERE tenant_id = ?1 AND (?2 IS NULL OR app = ?2) AND ts_max >= ?3"            \
    " AND ts_min <= ?4"
#define AUDIT_COLS "id, tenant_id, actor, action, object, detail, time, request_id"

static const char *const stmt_sql[S_COUNT] = {
    [S_BEGIN] = "BEGIN IMMEDIATE",
    [S_COMMIT] = "COMMIT",
    [S_ROLLBACK] = "ROLLBACK",
    [S_TENANT_INSERT] = "INSERT INTO tenants(name, region, created) VALUES(?1, ?2, ?3)",
    [S_TENANT_GET] = "SELECT " TENANT_COLS " FROM tenants WHERE id = ?1",
    [S_TENANT_GET_NAME] = "SELECT " TENANT_COLS " FROM tenants WHERE name = ?1",
    [S_TENANT_SET] = "UPDATE tenants SET allow_bearer = ?2, rate_per_sec = ?3, rate_burst = ?4,"
                     " quota_bytes = ?5, retention_days = ?6 WHERE id = ?1",
    [S_APP_INSERT] = "INSERT INTO apps(tenant_id, name, created) VALUES(?1, ?2, ?3)",
    [S_APP_GET] =
        "SELECT id, tenant_id, name, created FROM apps WHERE tenant_id = ?1 AND name = ?2",
    [S_APP_LIST] = "SELECT id, tenant_id, name, created FROM apps WHERE tenant_id = ?1 AND id > ?2"
                   " ORDER BY id LIMIT ?3",
    [S_KEY_INSERT] = "INSERT INTO api_keys(tenant_id, id_text, region, app, verifier, signing_key,"
                     " scopes, created, expires, label) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9,"
                     " ?10)",
    [S_PAT_INSERT] = "INSERT INTO pats(tenant_id, id_text, region, app, verifier, scopes, created,"
                     " expires, label) VALUES(?1, ?2, ?3, ?4, ?5, ?7, ?8, ?9, ?10)",
    [S_KEY_LOOKUP] = "SELECT tenant_id, region, app, verifier, scopes, created, expires, revoked,"
                     " label, signing_key FROM api_keys WHERE id_text = ?1",
    [S_PAT_LOOKUP] = "SELECT tenant_id, region, app, verifier, scopes, created, expires, revoked,"
                     " label FROM pats WHERE id_text = ?1",
    /* The list statements do not select verifier or signing_key at all. */
    [S_KEY_LIST] = "SELECT " CRED_LIST_COLS " FROM api_keys WHERE tenant_id = ?1 AND id > ?2"
                   " ORDER BY id LIMIT ?3",
    [S_PAT_LIST] = "SELECT " CRED_LIST_COLS " FROM pats WHERE tenant_id = ?1 AND id > ?2"
                   " ORDER BY id LIMIT ?3",
    [S_KEY_REVOKE] = "UPDATE api_keys SET revoked = 1 WHERE tenant_id = ?1 AND id_text = ?2",
    [S_PAT_REVOKE] = "UPDATE pats SET revoked = 1 WHERE tenant_id = ?1 AND id_text = ?2",
    [S_PK_FIND] = "SELECT id, pem FROM customer_keys WHERE tenant_id = ?1 AND fingerprint = ?2",
    [S_PK_DEACTIVATE] = "UPDATE customer_keys SET active = 0 WHERE tenant_id = ?1 AND active = 1",
    [S_PK_ACTIVATE] = "UPDATE customer_keys SET active = 1 WHERE tenant_id = ?1 AND id = ?2",
    [S_PK_INSERT] = "INSERT INTO customer_keys(tenant_id, fingerprint, pem, active, created)"
                    " VALUES(?1, ?2, ?3, 1, ?4)",
    [S_PK_GET_ACTIVE] = "SELECT " PK_COLS " FROM customer_keys WHERE tenant_id = ?1 AND active = 1",
    [S_PK_GET] = "SELECT " PK_COLS " FROM customer_keys WHERE tenant_id = ?1 AND fingerprint = ?2",
    [S_PK_LIST] = "SELECT " PK_COLS " FROM customer_keys WHERE tenant_id = ?1 AND id > ?2"
                  " ORDER BY id LIMIT ?3",
    [S_SK_INSERT] = "INSERT INTO session_keys(tenant_id, key_id, app, format, fingerprint, wrapped,"
                    " created) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7)"
                    " ON CONFLICT(tenant_id, key_id) DO NOTHING",
    [S_SK_GET] = "SELECT " SK_COLS " FROM session_keys WHERE tenant_id = ?1 AND key_id = ?2",
    [S_SK_LIST] = "SELECT " SK_COLS " FROM session_keys WHERE tenant_id = ?1 AND id > ?2"
                  " AND (?3 IS NULL OR app = ?3) AND created >= ?4 AND created <= ?5"
                  " ORDER BY id LIMIT ?6",
    [S_MF_INSERT] = "INSERT INTO manifest(tenant_id, app, dt, hour, path, rows, bytes, ts_min,"
                    " ts_max, created, seq_first, seq_last) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8,"
                    " ?9, ?10, ?11, ?12)",
    [S_MF_QUERY_ASC] = "SELECT " MF_COLS MF_WHERE " AND (?5 = 0 OR (ts_min, id) > (?6, ?5))"
                       " ORDER BY ts_min, id LIMIT ?7",
    [S_MF_QUERY_DESC] = "SELECT " MF_COLS MF_WHERE " AND (?5 = 0 OR (ts_min, id) < (?6, ?5))"
                        " ORDER BY ts_min DESC, id DESC LIMIT ?7",
    [S_CP_GET] = "SELECT seq FROM checkpoints WHERE stream = ?1",
    [S_CP_SET] = "INSERT INTO checkpoints(stream, seq) VALUES(?1, ?2)"
                 " ON CONFLICT(stream) DO UPDATE SET seq = excluded.seq",
    [S_MF_USAGE] = "SELECT count(*), coalesce(sum(bytes), 0) FROM manifest WHERE tenant_id = ?1",
    [S_MF_REMOVE] = "DELETE FROM manifest WHERE tenant_id = ?1 AND id = ?2",
    [S_IDEM_GET] = "SELECT status, body, created, expires FROM idempotency"
                   " WHERE tenant_id = ?1 AND credential = ?2 AND key = ?3",
    [S_IDEM_PUT] = "INSERT OR REPLACE INTO idempotency(tenant_id, credential, key, status, body,"
                   " created, expires) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    [S_IDEM_PURGE] = "DELETE FROM idempotency WHERE expires <= ?1",
    [S_AUDIT_INSERT] = "INSERT INTO audit(tenant_id, actor, action, object, detail, time,"
                       " request_id) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    [S_AUDIT_LIST] = "SELECT " AUDIT_COLS " FROM audit WHERE tenant_id = ?1 AND id > ?2"
                     " AND time >= ?3 ORDER BY id LIMIT ?4",
};

/* ---------------- handle and pool ---------------- */

#define POOL_MAX 64

typedef struct conn {
    sqlite3 *db;
    sqlite3_stmt *st[S_COUNT];
} conn;

typedef struct lf_meta_sqlite {
    lf_meta base; /* first: lf_meta * and lf_meta_sqlite * convert */
    pthread_mutex_t lock;
    pthread_cond_t cond;
    conn conns[POOL_MAX];
    conn *idle[POOL_MAX];
    unsigned pool_size;
    unsigned nidle;
    bool fail_next_manifest_add; /* test hook, read/written under lock */
} lf_meta_sqlite;

static lf_meta_sqlite *S(lf_meta *m)
{
    return (lf_meta_sqlite *)m;
}

static conn *pool_get(lf_meta_sqlite *s)
{
    pthread_mutex_lock(&s->lock);
    while (s->nidle == 0)
        pthread_cond_wait(&s->cond, &s->lock);
    conn *c = s->idle[--s->nidle];
    pthread_mutex_unlock(&s->lock);
    return c;
}

static void pool_put(lf_meta_sqlite *s, conn *c)
{
    pthread_mutex_lock(&s->lock);
    s->idle[s->nidle++] = c;
    pthread_cond_signal(&s->cond);
    pthread_mutex_unlock(&s->lock);
}

/* Map an SQLite result to lf_err with `what` as context. SQLite's messages name tables and
 * columns, never the values bound, so they are safe to pass on. */
static lf_err db_error(conn *c, int rc, const char *what, lf_error *err)
{
    const char *msg = c && c->db ? sqlite3_errmsg(c->db) : sqlite3_errstr(rc);
    lf_err code;
    switch (rc) {
    case SQLITE_CONSTRAINT_UNIQUE:
    case SQLITE_CONSTRAINT_PRIMARYKEY:
        code = LF_ERR_CONFLICT;
        break;
    case SQLITE_CONSTRAINT_FOREIGNKEY:
        code = LF_ERR_NOT_FOUND;
        break;
    case SQLITE_NOMEM:
        code = LF_ERR_NOMEM;
        break;
    default:
        switch (rc & 0xff) {
        case SQLITE_CONSTRAINT:
        case SQLITE_TOOBIG:
        case SQLITE_MISMATCH:
            code = LF_ERR_INVALID;
            break;
        case SQLITE_BUSY:
        case SQLITE_LOCKED:
        case SQLITE_FULL:
            code = LF_ERR_FULL;
            break;
        default:
            code = LF_ERR_IO;
        }
    }
    return lf_error_set(err, code, "meta: %s: %s", what, msg);
}

/* The connection's statement `id`, prepared on first use, reset and unbound. */
static sqlite3_stmt *stmt(conn *c, int id, lf_error *err)
{
    sqlite3_stmt *st = c->st[id];
    if (!st) {
        int rc = sqlite3_prepare_v3(c->db, stmt_sql[id], -1, SQLITE_PREPARE_PERSISTENT, &st, NULL);
        if (rc != SQLITE_OK) {
            db_error(c, rc, "prepare", err);
            return NULL;
        }
        c->st[id] = st;
    }
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return st;
}

/* Run a statement that returns no rows. */
static lf_err exec_done(conn *c, sqlite3_stmt *st, const char *what, lf_error *err)
{
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc != SQLITE_DONE)
        return db_error(c, rc, what, err);
    return LF_OK;
}

static lf_err tx_simple(conn *c, int id, const char *what, lf_error *err)
{
    sqlite3_stmt *st = stmt(c, id, err);
    if (!st)
        return err ? err->code : LF_ERR_IO;
    return exec_done(c, st, what, err);
}

static lf_err tx_begin(conn *c, lf_error *err)
{
    return tx_simple(c, S_BEGIN, "begin", err);
}

static lf_err tx_commit(conn *c, lf_error *err)
{
    lf_err e = tx_simple(c, S_COMMIT, "commit", err);
    if (e != LF_OK && sqlite3_get_autocommit(c->db) == 0)
        tx_simple(c, S_ROLLBACK, "rollback", NULL);
    return e;
}

static void tx_rollback(conn *c)
{
    if (sqlite3_get_autocommit(c->db) == 0)
        tx_simple(c, S_ROLLBACK, "rollback", NULL);
}

/* Reporting "prepare failed" needs the code even when err is NULL. */
#define PREP(c, id, st, e, err)                                                                    \
    do {                                                                                           \
        lf_error prep_err_ = {0};                                                                  \
        (st) = stmt((c), (id), &prep_err_);                                                        \
        if (!(st)) {                                                                               \
            if (err)                                                                               \
                *(err) = prep_err_;                                                                \
            (e) = prep_err_.code;                                                                  \
        }                                                                                          \
    } while (0)

/* ---------------- validation and binding ---------------- */

static bool name_ok(const char *s, size_t max)
{
    if (!s)
        return false;
    size_t n = strnlen(s, max + 1);
    if (n == 0 || n > max || strcmp(s, ".") == 0 || strcmp(s, "..") == 0)
        return false;
    for (size_t i = 0; i < n; i++) {
        char ch = s[i];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
              ch == '.' || ch == '_' || ch == '-'))
            return false;
    }
    return true;
}

/* Free text: at most max bytes, no ASCII control characters (they would corrupt logs and
 * listings). empty_ok says whether "" is allowed. */
static bool text_ok(const char *s, size_t max, bool empty_ok)
{
    if (!s)
        return false;
    size_t n = strnlen(s, max + 1);
    if (n > max || (n == 0 && !empty_ok))
        return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch < 0x20 || ch == 0x7f)
            return false;
    }
    return true;
}

static bool id_text_ok(const char *s, lf_credential_id *out)
{
    if (!s)
        return false;
    size_t n = strnlen(s, LF_CREDENTIAL_ID_TEXT_MAX + 1);
    if (n == 0 || n > LF_CREDENTIAL_ID_TEXT_MAX)
        return false;
    lf_credential_id tmp;
    if (lf_credential_id_parse(s, n, out ? out : &tmp, NULL) != LF_OK)
        return false;
    return true;
}

static bool u64_ok(uint64_t v)
{
    return v <= (uint64_t)INT64_MAX;
}

static bool fp_nonzero(const uint8_t *p, size_t n)
{
    uint8_t acc = 0;
    for (size_t i = 0; i < n; i++)
        acc |= p[i];
    return acc != 0;
}

static bool is_hex(char ch)
{
    return (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f') || (ch >= 'A' && ch <= 'F');
}

static char lower(char ch)
{
    return (ch >= 'A' && ch <= 'Z') ? (char)(ch - 'A' + 'a') : ch;
}

/* A v3 UUID (8-4-4-4-12 hex) or a native id (32 hex), copied lowercased into out. Its format
 * is returned in *fmt. */
static bool key_id_norm(const char *s, char out[LF_META_KEY_ID_MAX + 1], lf_meta_key_format *fmt)
{
    if (!s)
        return false;
    size_t n = strnlen(s, LF_META_KEY_ID_MAX + 1);
    if (n == 36) {
        for (size_t i = 0; i < n; i++) {
            bool dash = (i == 8 || i == 13 || i == 18 || i == 23);
            if (dash ? s[i] != '-' : !is_hex(s[i]))
                return false;
            out[i] = lower(s[i]);
        }
        *fmt = LF_META_KEY_V3;
    } else if (n == 32) {
        for (size_t i = 0; i < n; i++) {
            if (!is_hex(s[i]))
                return false;
            out[i] = lower(s[i]);
        }
        *fmt = LF_META_KEY_NATIVE;
    } else {
        return false;
    }
    out[n] = '\0';
    return true;
}

/* A relative object-store path: printable ASCII, no leading '/', no '\\', no "." or ".."
 * segment, no empty segment. */
static bool path_ok(const char *s)
{
    if (!text_ok(s, LF_META_PATH_MAX, false) || s[0] == '/')
        return false;
    const char *seg = s;
    for (const char *p = s;; p++) {
        if (*p == '\\' || (unsigned char)*p > 0x7e)
            return false;
        if (*p == '/' || *p == '\0') {
            size_t len = (size_t)(p - seg);
            if (len == 0 || (len == 1 && seg[0] == '.') ||
                (len == 2 && seg[0] == '.' && seg[1] == '.'))
                return false;
            if (*p == '\0')
                return true;
            seg = p + 1;
        }
    }
}

static bool dt_ok(const char *s)
{
    if (strnlen(s, 11) != 10)
        return false;
    for (int i = 0; i < 10; i++) {
        bool dash = (i == 4 || i == 7);
        if (dash ? s[i] != '-' : !(s[i] >= '0' && s[i] <= '9'))
            return false;
    }
    int month = (s[5] - '0') * 10 + (s[6] - '0');
    int day = (s[8] - '0') * 10 + (s[9] - '0');
    return month >= 1 && month <= 12 && day >= 1 && day <= 31;
}

static bool idem_key_ok(const char *s)
{
    if (!s)
        return false;
    size_t n = strnlen(s, LF_META_IDEM_KEY_MAX + 1);
    if (n < 16 || n > LF_META_IDEM_KEY_MAX)
        return false;
    for (size_t i = 0; i < n; i++) {
        char ch = s[i];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
              ch == '_' || ch == '-'))
            return false;
    }
    return true;
}

static lf_err invalid(lf_error *err, const char *what)
{
    return lf_error_set(err, LF_ERR_INVALID, "meta: %s", what);
}

static lf_err bind_check(conn *c, int rc, lf_error *err)
{
    return rc == SQLITE_OK ? LF_OK : db_error(c, rc, "bind", err);
}

static int bind_text(sqlite3_stmt *st, int i, const char *s)
{
    return s ? sqlite3_bind_text(st, i, s, -1, SQLITE_STATIC) : sqlite3_bind_null(st, i);
}

static int bind_blob(sqlite3_stmt *st, int i, const void *p, size_t n)
{
    /* A zero-length blob must still be a blob, not NULL. */
    return sqlite3_bind_blob(st, i, n ? p : "", (int)n, SQLITE_STATIC);
}

/* Copy a text column into a fixed buffer; a value that does not fit means the file was changed
 * behind our back. */
static lf_err col_text(conn *c, sqlite3_stmt *st, int col, char *dst, size_t cap, lf_error *err)
{
    const unsigned char *t = sqlite3_column_text(st, col);
    size_t n = (size_t)sqlite3_column_bytes(st, col);
    if (!t) {
        dst[0] = '\0';
        return LF_OK;
    }
    if (n >= cap)
        return lf_error_set(err, LF_ERR_IO, "meta: stored text in column %d exceeds %zu bytes", col,
                            cap - 1);
    memcpy(dst, t, n);
    dst[n] = '\0';
    (void)c;
    return LF_OK;
}

static lf_err col_blob(sqlite3_stmt *st, int col, uint8_t *dst, size_t want, lf_error *err)
{
    const void *p = sqlite3_column_blob(st, col);
    size_t n = (size_t)sqlite3_column_bytes(st, col);
    if (n != want || (n && !p))
        return lf_error_set(err, LF_ERR_IO, "meta: stored blob in column %d has %zu bytes, not %zu",
                            col, n, want);
    if (n)
        memcpy(dst, p, n);
    return LF_OK;
}

static lf_err region_from_db(sqlite3_stmt *st, int col, lf_region *out, lf_error *err)
{
    const char *t = (const char *)sqlite3_column_text(st, col);
    size_t n = (size_t)sqlite3_column_bytes(st, col);
    if (!t || n == 0) {
        *out = LF_REGION_NONE;
        return LF_OK;
    }
    if (lf_region_from_string(t, n, out, NULL) != LF_OK)
        return lf_error_set(err, LF_ERR_IO, "meta: stored region is unknown");
    return LF_OK;
}

/* Growable result array for list operations. */
typedef struct list_acc {
    void *items;
    size_t count;
    size_t cap;
    size_t elem;
} list_acc;

static void *list_next(list_acc *a, lf_error *err)
{
    if (a->count == a->cap) {
        size_t ncap = a->cap ? a->cap * 2 : 16;
        void *p = realloc(a->items, ncap * a->elem);
        if (!p) {
            lf_error_set(err, LF_ERR_NOMEM, "meta: list of %zu items", ncap);
            return NULL;
        }
        a->items = p;
        a->cap = ncap;
    }
    void *slot = (char *)a->items + a->count * a->elem;
    memset(slot, 0, a->elem);
    a->count++;
    return slot;
}

static lf_err list_args(size_t limit, lf_meta_cursor cursor, void *out, size_t *count,
                        lf_meta_cursor *next, lf_error *err)
{
    if (!out || !count || !next)
        return invalid(err, "list: NULL output");
    if (limit == 0 || limit > LF_META_LIST_MAX)
        return lf_error_set(err, LF_ERR_INVALID, "meta: list limit must be 1..%d",
                            LF_META_LIST_MAX);
    if (cursor.id < 0)
        return invalid(err, "list: bad cursor");
    return LF_OK;
}

/* Run a list statement whose rows come back with LIMIT limit + 1: the extra row only says that
 * there is a next page. `row` fills one item. Every list statement selects the row id as
 * column 0; `key_col` is the column of the ordering key (-1 when ordered by id alone): the
 * cursor of the last item returned is read from those columns. */
typedef lf_err (*row_fn)(conn *c, sqlite3_stmt *st, void *item, lf_error *err);

static lf_err run_list(conn *c, sqlite3_stmt *st, size_t limit, size_t elem, row_fn row,
                       int key_col, void **out, size_t *count, lf_meta_cursor *next, lf_error *err)
{
    list_acc a = {NULL, 0, 0, elem};
    lf_meta_cursor last = LF_META_CURSOR_START;
    lf_err e = LF_OK;
    bool more = false;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (a.count == limit) {
            more = true;
            break;
        }
        void *item = list_next(&a, err);
        if (!item) {
            e = LF_ERR_NOMEM;
            goto out;
        }
        if ((e = row(c, st, item, err)) != LF_OK)
            goto out;
        last.id = sqlite3_column_int64(st, 0);
        last.key = key_col >= 0 ? sqlite3_column_int64(st, key_col) : 0;
    }
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        e = db_error(c, rc, "list", err);
out:
    sqlite3_reset(st);
    if (e != LF_OK || a.count == 0) {
        free(a.items);
        a.items = NULL;
    }
    if (e != LF_OK)
        return e;
    *out = a.items;
    *count = a.count;
    *next = more ? last : LF_META_CURSOR_START;
    return LF_OK;
}

/* ---------------- tenants ---------------- */

static lf_err tenant_row(conn *c, sqlite3_stmt *st, void *item, lf_error *err)
{
    lf_meta_tenant *t = item;
    memset(t, 0, sizeof *t);
    t->id = sqlite3_column_int64(st, 0);
    lf_err e = col_text(c, st, 1, t->name, sizeof t->name, err);
    if (e == LF_OK)
        e = region_from_db(st, 2, &t->region, err);
    t->created = sqlite3_column_int64(st, 3);
    t->settings.allow_bearer = sqlite3_column_int64(st, 4) != 0;
    t->settings.rate_per_sec = (uint32_t)sqlite3_column_int64(st, 5);
    t->settings.rate_burst = (uint32_t)sqlite3_column_int64(st, 6);
    t->settings.quota_bytes = (uint64_t)sqlite3_column_int64(st, 7);
    t->settings.retention_days = (uint32_t)sqlite3_column_int64(st, 8);
    return e;
}

/* Step a statement expected to return at most one row and fill it with `row`. */
static lf_err get_one(conn *c, sqlite3_stmt *st, row_fn row, void *item, const char *what,
                      lf_error *err)
{
    int rc = sqlite3_step(st);
    lf_err e;
    if (rc == SQLITE_ROW)
        e = row(c, st, item, err);
    else if (rc == SQLITE_DONE)
        e = lf_error_set(err, LF_ERR_NOT_FOUND, "meta: %s not found", what);
    else
        e = db_error(c, rc, what, err);
    sqlite3_reset(st);
    return e;
}

static lf_err sq_tenant_create(lf_meta *m, const char *name, lf_region region, int64_t created,
                               int64_t *id, lf_error *err)
{
    if (!name_ok(name, LF_META_NAME_MAX))
        return invalid(err, "tenant name must be 1..64 of [A-Za-z0-9._-]");
    const char *rname = lf_region_name(region);
    if (!rname || region == LF_REGION_NONE)
        return invalid(err, "tenant region");
    conn *c = pool_get(S(m));
    sqlite3_stmt *st;
    lf_err e = LF_OK;
    PREP(c, S_TENANT_INSERT, st, e, err);
    if (st) {
        e = bind_check(c, bind_text(st, 1, name), err);
        if (e == LF_OK)
            e = bind_check(c, bind_text(st, 2, rname), err);
        if (e == LF_OK)
            e = bind_check(c, sqlite3_bind_int64(st, 3, created), err);
        if (e == LF_OK)
            e = exec_done(c, st, "create tenant", err);
        if (e == LF_OK && id)
            *id = sqlite3_last_insert_rowid(c->db);
    }
    pool_put(S(m), c);
    return e;
}

static lf_err sq_tenant_get(lf_meta *m, int64_t id, lf_meta_tenant *out, lf_error *err)
{
    if (!out)
        return invalid(err, "tenant_get: NULL output");
    conn *c = pool_get(S(m));
    sqlite3_stmt *st;
    lf_err e = LF_OK;
    PREP(c, S_TENANT_GET, st, e, err);
    if (st) {
        e = bind_check(c, sqlite3_bind_int64(st, 1, id), err);
        if (e == LF_OK)
            e = get_one(c, st, tenant_row, out, "tenant", err);
    }
    pool_put(S(m), c);
    return e;
}

static lf_err sq_tenant_get_by_name(lf_meta *m, const char *name, lf_meta_tenant *out,
                                    lf_error *err)
{
    if (!out)
        return invalid(err, "tenant_get_by_name: NULL output");
    if (!name_ok(name, LF_META_NAME_MAX))
        return invalid(err, "tenant name");
    conn *c = pool_get(S(m));
    sqlite3_stmt *st;
    lf_err e = LF_OK;
    PREP(c, S_TENANT_GET_NAME, st, e, err);
    if (st) {
        e = bind_check(c, bind_text(st, 1, name), err);
        if (e == LF_OK)
            e = get_one(c, st, tenant_row, out, "tenant", err);
    }
    pool_put(S(m), c);
    return e;
}

static lf_err sq_tenant_set_settings(lf_meta *m, int64_t tenant, const lf_meta_tenant_settings *s,
                                     lf_error *err)
{
    if (!s || !u64_ok(s->quota_bytes))
        return invalid(err, "tenant settings");
    conn *c = pool_get(S(m));
    sqlite3_stmt *st;
    lf_err e = LF_OK;
    PREP(c, S_TENANT_SET, st, e, err);
    if (st) {
        int rc = sqlite3_bind_int64(st, 1, tenant);
        rc |= sqlite3_bind_int64(st, 2, s->allow_bearer ? 1 : 0);
        rc |= sqlite3_bind_int64(st, 3, s->rate_per_sec);
        rc |= sqlite3_bind_int64(st, 4, s->rate_burst);
        rc |= sqlite3_bind_int64(st, 5, (int64_t)s->quota_bytes);
        rc |= sqlite3_bind_int64(st, 6, s->retention_days);
        e = bind_check(c, rc, err);
        if (e == LF_OK)
            e = exec_done(c, st, "set tenant settings", err);
        if (e == LF_OK && sqlite3_changes(c->db) == 0)
            e = lf_error_set(err, LF_ERR_NOT_FOUND, "meta: tenant not found");
    }
    pool_put(S(m), c);
    return e;
}

/* ---------------- apps ---------------- */

static lf_err app_row(conn *c, sqlite3_stmt *st, void *item, lf_error *err)
{
    lf_meta_app *a = item;
    a->id = sqlite3_column_int64(st, 0);
    a->tenant_id = sqlite3_column_int64(st, 1);
    a->created = sqlite3_column_int64(st, 3);
    return col_text(c, st, 2, a->name, sizeof a->name, err);
}

static lf_err sq_app_create(lf_meta *m, int64_t tenant, const char *name, int64_t created,
                            int64_t *id, lf_error *err)
{
    if (!name_ok(name, LF_META_APP_MAX))
        return invalid(err, "app name must be 1..128 of [A-Za-z0-9._-]");
    conn *c = pool_get(S(m));
    sqlite3_stmt *st;
    lf_err e = LF_OK;
    PREP(c, S_APP_INSERT, st, e, err);
    if (st) {
        int rc = sqlite3_bind_int64(st, 1, tenant);
        rc |= bind_text(st, 2, name);
        rc |= sqlite3_bind_int64(st, 3, created);
        e = bind_check(c, rc, err);
        if (e == LF_OK)
            e = exec_done(c, st, "create app", err);
        if (e == LF_OK && id)
            *id = sqlite3_last_insert_rowid(c->db);
    }
    pool_put(S(m), c);
    return e;
}

static lf_err sq_app_get(lf_meta *m, int64_t tenant, const char *name, lf_meta_app *out,
                         lf_error *err)
{
    if (!out || !name_ok(name, LF_META_APP_MAX))
        return invalid(err, "app_get: bad name or NULL output");
    conn *c = pool_get(S(m));
    sqlite3_stmt *st;
    lf_err e = LF_OK;
    PREP(c, S_APP_GET, st, e, err);
    if (st) {
        int rc = sqlite3_bind_int64(st, 1, tenant);
        rc |= bind_text(st, 2, name);
        e = bind_check(c, rc, err);
        if (e == LF_OK)
            e = get_one(c, st, app_row, out, "app", err);
    }
    pool_put(S(m), c);
    return e;
}

/* Shared by the lists ordered by row id and filtered by tenant: ?1 tenant, ?2 after id,
 * ?3 limit + 1. */
static lf_err simple_list(lf_meta *m, int sid, int64_t tenant, size_t limit, lf_meta_cursor cursor,
                          size_t elem, row_fn row, void **out, size_t *count, lf_meta_cursor *next,
                          lf_error *err)
{
    lf_err e = list_args(limit, cursor, out, count, next, err);
    if (e != LF_OK)
        return e;
    conn *c = pool_get(S(m));
    sqlite3_stmt *st;
    PREP(c, sid, st, e, err);
    if (st) {
        int rc = sqlite3_bind_int64(st, 1, tenant);
        rc |= sqlite3_bind_int64(st, 2, cursor.id);
        rc |= sqlite3_bind_int64(st, 3, (int64_t)limit + 1);
        e = bind_check(c, rc, err);
        if (e == LF_OK)
            e = run_list(c, st, limit, elem, row, -1, out, count, next, err);
    }
    pool_put(S(m), c);
    return e;
}

static lf_err sq_app_list(lf_meta *m, int64_t tenant, size_t limit, lf_meta_cursor cursor,
                          lf_meta_app **out, size_t *count, lf_meta_cursor *next, lf_error *err)
{
    return simple_list(m, S_APP_LIST, tenant, limit, cursor, sizeof(lf_meta_app), app_row,
                       (void **)out, count, next, err);
}

/* ---------------- credentials ---------------- */

static lf_err sq_credential_create(lf_meta *m, const lf_meta_credential *cr, lf_error *err)
{
    if (!cr)
        return invalid(err, "credential_create: NULL");
    const lf_credential_record *r = &cr->rec;
    lf_credential_id pid;
    bool api = r->kind == LF_CREDENTIAL_API_KEY;
    if (r->kind != LF_CREDENTIAL_API_KEY && r->kind != LF_CREDENTIAL_PAT)
        return invalid(err, "credential kind");
    if (!id_text_ok(cr->id_text, &pid) || pid.kind != r->kind || pid.region != r->region ||
        strncmp(pid.id, r->id, sizeof pid.id) != 0)
        return invalid(err, "credential id text does not parse or disagrees with the record");
    if (r->scopes == 0 || (r->scopes & ~LF_SCOPE_ALL) ||
        (!api && (r->scopes & ~(uint32_t)(LF_SCOPE_READ | LF_SCOPE_WRITE | LF_SCOPE_ADMIN))))
        return invalid(err, "credential scopes");
    if (r->expires != 0 && r->expires <= r->created)
        return invalid(err, "credential expires before it is created");
    if (r->revoked)
        return invalid(err, "a credential cannot be created revoked");
    if (!fp_nonzero(r->verifier, sizeof r->verifier))
        return invalid(err, "credential verifier is all zero");
    if (api != fp_nonzero(cr->signing_key, sizeof cr->signing_key))
        return invalid(err, api ? "API key without a signing key"
                                : "a personal access token has no signing key");
    if (r->app[0] && !name_ok(r->app, LF_META_APP_MAX))
        return invalid(err, "credential app name");
    if (!text_ok(cr->label, LF_META_LABEL_MAX, true))
        return invalid(err, "credential label: at most 128 bytes, no control characters");
    const char *rname = lf_region_name(r->region);
    if (!rname)
        return invalid(err, "credential region");

    conn *c = pool_get(S(m));
    sqlite3_stmt *st;
    lf_err e = LF_OK;
    PREP(c, api ? S_KEY_INSERT : S_PAT_INSERT, st, e, err);
    if (st) {
        int rc = sqlite3_bind_int64(st, 1, cr->tenant_id);
        rc |= bind_text(st, 2, cr->id_text);
        rc |= bind_text(st, 3, rname);
        rc |= bind_text(st, 4, r->app[0] ? r->app : NULL);
        rc |= bind_blob(st, 5, r->verifier, sizeof r->verifier);
        if (api)
            rc |= bind_blob(st, 6, cr->signing_key, sizeof cr->signing_key);
        rc |= sqlite3_bind_int64(st, 7, r->scopes);
        rc |= sqlite3_bind_int64(st, 8, r->created);
        rc |= sqlite3_bind_int64(st, 9, r->expires);
        rc |= bind_text(st, 10, cr->label);
        e = bind_check(c, rc, err);
        if (e == LF_OK)
            e = exec_done(c, st, api ? "create API key" : "create token", err);
        /* Bound values referenced the caller's memory; clear so no statement keeps a pointer
         * to key material. */
        sqlite3_clear_bindings(st);
    }
    pool_put(S(m), c);
    return e;
}

/* Columns of S_KEY_LOOKUP / S_PAT_LOOKUP. */
static lf_err cred_lookup_row(conn *c, sqlite3_stmt *st, lf_meta_credential *out, bool api,
                              lf_error *err)
{
    lf_credential_record *r = &out->rec;
    out->tenant_id = sqlite3_column_int64(st, 0);
    lf_err e = region_from_db(st, 1, &r->region, err);
    if (e == LF_OK)
        e = col_text(c, st, 2, r->app, sizeof r->app, err);
    if (e == LF_OK)
        e = col_blob(st, 3, r->verifier, sizeof r->verifier, err);
    r->scopes = (uint32_t)sqlite3_column_int64(st, 4);
    r->created = sqlite3_column_int64(st, 5);
    r->expires = sqlite3_column_int64(st, 6);
    r->revoked = sqlite3_column_int64(st, 7) != 0;
    if (e == LF_OK)
        e = col_text(c, st, 8, out->label, sizeof out->label, err);
    if (e == LF_OK && api)
        e = col_blob(st, 9, out->signing_key, sizeof out->signing_key, err);
    return e;
}

static lf_err sq_credential_lookup(lf_meta *m, lf_credential_kind kind, const char *id_text,
                                   lf_meta_credential *out, lf_error *err)
{
    lf_credential_id pid;
    if (!out)
        return invalid(err, "credential_lookup: NULL output");
    if (!id_text_ok(id_text, &pid) || pid.kind != kind)
        return invalid(err, "credential id text");
    bool api = kind == LF_CREDENTIAL_API_KEY;
    memset(out, 0, sizeof *out);
    conn *c = pool_get(S(m));
    sqlite3_stmt *st;
    lf_err e = LF_OK;
    PREP(c, api ? S_KEY_LOOKUP : S_PAT_LOOKUP, st, e, err);
    if (st) {
        e = bind_check(c, bind_text(st, 1, id_text), err);
        if (e == LF_OK) {
            int rc = sqlite3_step(st);
            if (rc == SQLITE_ROW)
                e = cred_lookup_row(c, st, out, api, err);
            else if (rc == SQLITE_DONE)
                e = lf_error_set(err, LF_ERR_NOT_FOUND, "meta: credential %s not found", pid.text);
            else
                e = db_error(c, rc, "credential lookup", err);
        }
        /* Reset so SQLite drops its reference to the row holding the signing key. */
        sqlite3_reset(st);
    }
    pool_put(S(m), c);
    if (e == LF_OK) {
        out->rec.kind = kind;
        memcpy(out->rec.id, pid.id, sizeof out->rec.id);
        memcpy(out->id_text, pid.text, sizeof out->id_text);
        if (pid.region != out->rec.region)
            e = lf_error_set(err, LF_ERR_IO, "meta: stored region disagrees with the id text");
    }
    if (e != LF_OK)
        lf_wipe(out, sizeof *out);
    return e;
}

static lf_err cred_info_row(conn *c, sqlite3_stmt *st, void *item, lf_error *err)
{
    lf_meta_credential_info *i = item;
    lf_credential_id pid;
    i->tenant_id = sqlite3_column_int64(st, 1);
    lf_err e = region_from_db(st, 2, &i->region, err);
    if (e == LF_OK)
        e = col_text(c, st, 3, i->id_text, sizeof i->id_text, err);
    if (e == LF_OK && !id_text_ok(i->id_text, &pid))
        e = lf_error_set(err, LF_ERR_IO, "meta: stored credential id text does not parse");
    if (e == LF_OK)
        i->kind = pid.kind;
    i->scopes = (uint32_t)sqlite3_column_int64(st, 4);
    if (e == LF_OK)
        e = col_text(c, st, 5, i->app, sizeof i->app, err);
    i->created = sqlite3_column_int64(st, 6);
    i->expires = sqlite3_column_int64(st, 7);
    i->revoked = sqlite3_column_int64(st, 8) != 0;
    if (e == LF_OK)
        e = col_text(c, st, 9, i->label, sizeof i->label, err);
    return e;
}

static lf_err sq_credential_list(lf_meta *m, int64_t tenant, lf_credential_kind kind, size_t limit,
                                 lf_meta_cursor cursor, lf_meta_credential_info **out,
                                 size_t *count, lf_meta_cursor *next, lf_error *err)
{
    if (kind != LF_CREDENTIAL_API_KEY && kind != LF_CREDENTIAL_PAT)
        return invalid(err, "credential kind");
    return simple_list(m, kind == LF_CREDENTIAL_API_KEY ? S_KEY_LIST : S_PAT_LIST, tenant, limit,
                       cursor, sizeof(lf_meta_credential_info), cred_info_row, (void **)out, count,
                       next, err);
}

static lf_err sq_credential_revoke(lf_meta *m, int64_t tenant, lf_credential_kind kind,
                                   const char *id_text, lf_error *err)
{
    lf_credential_id pid;
    if (!id_text_ok(id_text, &pid) || pid.kind != kind)
        return invalid(err, "credential id text");
    conn *c = pool_get(S(m));
    sqlite3_stmt *st;
    lf_err e = LF_OK;
    PREP(c, kind == LF_CREDENTIAL_API_KEY ? S_KEY_REVOKE : S_PAT_REVOKE, st, e, err);
    if (st) {
        int rc = sqlite3_bind_int64(st, 1, tenant);
        rc |= bind_text(st, 2, id_text);
        e = bind_check(c, rc, err);
        if (e == LF_OK)
            e = exec_done(c, st, "revoke credential", err);
        if (e == LF_OK && sqlite3_changes(c->db) == 0)
            e = lf_error_set(err, LF_ERR_NOT_FOUND, "meta: credential %s not found", pid.text);
    }
    pool_put(S(m), c);
    return e;
}

/* ---------------- customer public keys ---------------- */

static lf_err pubkey_row(conn *c, sqlite3_stmt *st, void *item, lf_error *err)
{
    lf_meta_pubkey *k = item;
    memset(k, 0, sizeof *k);
    k->id = sqlite3_column_int64(st, 0);
    k->tenant_id = sqlite3_column_int64(st, 1);
    lf_err e = col_blob(st, 2, k->fingerprint, sizeof k->fingerprint, err);
    k->active = sqlite3_column_int64(st, 4) != 0;
    k->created = sqlite3_column_int64(st, 5);
    if (e != LF_OK)
        return e;
    const unsigned char *pem = sqlite3_column_text(st, 3);
    size_t n = (size_t)sqlite3_column_bytes(st, 3);
    if (!pem || n > LF_META_PEM_MAX)
        return lf_error_set(err, LF_ERR_IO, "meta: stored public key PEM is missing or too long");
    k->pem = malloc(n + 1);
    if (!k->pem)
        return lf_error_set(err, LF_ERR_NOMEM, "meta: public key PEM of %zu bytes", n);
    memcpy(k->pem, pem, n);
    k->pem[n] = '\0';
    k->pem_len = n;
    (void)c;
    return LF_OK;
}

static lf_err pubkey_info_row(conn *c, sqlite3_stmt *st, void *item, lf_error *err)
{
    lf_meta_pubkey_info *k = item;
    k->id = sqlite3_column_int64(st, 0);
    k->active = sqlite3_column_int64(st, 4) != 0;
    k->created = sqlite3_column_int64(st, 5);
    (void)c;
    return col_blob(st, 2, k->fingerprint, sizeof k->fingerprint, err);
}

/* Inside the register transaction: the existing key with this fingerprint, if any. *found_id
 * is 0 when there is none; *same_pem says whether its PEM equals `pem`. */
static lf_err pubkey_find(conn *c, int64_t tenant, const uint8_t *fp, const char *pem,
                          size_t pem_len, int64_t *found_id, bool *same_pem, lf_error *err)
{
    sqlite3_stmt *st;
    lf_err e = LF_OK;
    *found_id = 0;
    PREP(c, S_PK_FIND, st, e, err);
    if (!st)
        return e;
    int rc = sqlite3_bind_int64(st, 1, tenant);
    rc |= bind_blob(st, 2, fp, LF_META_FP_LEN);
    if ((e = bind_check(c, rc, err)) != LF_OK)
        return e;
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        *found_id = sqlite3_column_int64(st, 0);
        const void *stored = sqlite3_column_text(st, 1);
        size_t n = (size_t)sqlite3_column_bytes(st, 1);
        *same_pem = stored && n == pem_len && memcmp(stored, pem, n) == 0;
    } else if (rc != SQLITE_DONE) {
        e = db_error(c, rc, "find public key", err);
    }
    sqlite3_reset(st);
    return e;
}

static lf_err sq_pubkey_register(lf_meta *m, int64_t tenant, const char *pem, size_t pem_len,
                                 const uint8_t fingerprint[LF_META_FP_LEN], int64_t created,
                                 int64_t *id, lf_error *err)
{
    if (!pem || pem_len == 0 || pem_len > LF_META_PEM_MAX || memchr(pem, '\0', pem_len))
        return lf_error_set(err, LF_ERR_INVALID, "meta: public key PEM must be 1..%d bytes",
                            LF_META_PEM_MAX);
    if (!fingerprint || !fp_nonzero(fingerprint, LF_META_FP_LEN))
        return invalid(err, "public key fingerprint");
    conn *c = pool_get(S(m));
    sqlite3_stmt *st = NULL;
    int64_t found = 0, new_id = 0;
    bool same = false;
    lf_err e = tx_begin(c, err);
    if (e == LF_OK)
        e = pubkey_find(c, tenant, fingerprint, pem, pem_len, &found, &same, err);
    if (e == LF_OK && found && !same)
        e = lf_error_set(err, LF_ERR_CONFLICT,
                         "meta: a different public key with this fingerprint is registered");
    /* Only one key may be active (a partial unique index enforces it): deactivate first. */
    if (e == LF_OK)
        PREP(c, S_PK_DEACTIVATE, st, e, err);
    if (e == LF_OK) {
        e = bind_check(c, sqlite3_bind_int64(st, 1, tenant), err);
        if (e == LF_OK)
            e = exec_done(c, st, "deactivate public keys", err);
    }
    if (e == LF_OK && found) {
        PREP(c, S_PK_ACTIVATE, st, e, err);
        if (e == LF_OK) {
            int rc = sqlite3_bind_int64(st, 1, tenant);
            rc |= sqlite3_bind_int64(st, 2, found);
            e = bind_check(c, rc, err);
        }
        if (e == LF_OK)
            e = exec_done(c, st, "activate public key", err);
        new_id = found;
    } else if (e == LF_OK) {
        PREP(c, S_PK_INSERT, st, e, err);
        if (e == LF_OK) {
            int rc = sqlite3_bind_int64(st, 1, tenant);
            rc |= bind_blob(st, 2, fingerprint, LF_META_FP_LEN);
            rc |= sqlite3_bind_text(st, 3, pem, (int)pem_len, SQLITE_STATIC);
            rc |= sqlite3_bind_int64(st, 4, created);
            e = bind_check(c, rc, err);
        }
        if (e == LF_OK)
            e = exec_done(c, st, "register public key", err);
        if (e == LF_OK)
            new_id = sqlite3_last_insert_rowid(c->db);
    }
    if (e == LF_OK)
        e = tx_commit(c, err);
    else
        tx_rollback(c);
    pool_put(S(m), c);
    if (e == LF_OK && id)
        *id = new_id;
    return e;
}

static lf_err sq_pubkey_get_active(lf_meta *m, int64_t tenant, lf_meta_pubkey *out, lf_error *err)
{
    if (!out)
        return invalid(err, "pubkey_get_active: NULL output");
    memset(out, 0, sizeof *out);
    conn *c = pool_get(S(m));
    sqlite3_stmt *st;
    lf_err e = LF_OK;
    PREP(c, S_PK_GET_ACTIVE, st, e, err);
    if (st) {
        e = bind_check(c, sqlite3_bind_int64(st, 1, tenant), err);
        if (e == LF_OK)
            e = get_one(c, st, pubkey_row, out, "active public key", err);
    }
    pool_put(S(m), c);
    if (e != LF_OK)
        lf_meta_pubkey_clear(out);
    return e;
}

static lf_err sq_pubkey_get(lf_meta *m, int64_t tenant, const uint8_t fingerprint[LF_META_FP_LEN],
                            lf_meta_pubkey *out, lf_error *err)
{
    if (!out || !fingerprint)
        return invalid(err, "pubkey_get: NULL argument");
    memset(out, 0, sizeof *out);
    conn *c = pool_get(S(m));
    sqlite3_stmt *st;
    lf_err e = LF_OK;
    PREP(c, S_PK_GET, st, e, err);
    if (st) {
        int rc = sqlite3_bind_int64(st, 1, tenant);
        rc |= bind_blob(st, 2, fingerprint, LF_META_FP_LEN);
        e = bind_check(c, rc, err);
        if (e == LF_OK)
            e = get_one(c, st, pubkey_row, out, "public key", err);
    }
    pool_put(S(m), c);
    if (e != LF_OK)
        lf_meta_pubkey_clear(out);
    return e;
}

static lf_err sq_pubkey_list(lf_meta *m, int64_t tenant, size_t limit, lf_meta_cursor cursor,
                             lf_meta_pubkey_info **out, size_t *count, lf_meta_cursor *next,
                             lf_error *err)
{
    return simple_list(m, S_PK_LIST, tenant, limit, cursor, sizeof(lf_meta_pubkey_info),
                       pubkey_info_row, (void **)out, count, next, err);
}

/* ---------------- wrapped session keys ---------------- */

static lf_err session_key_row(conn *c, sqlite3_stmt *st, void *item, lf_error *err)
{
    lf_meta_session_key *k = item;
    memset(k, 0, sizeof *k);
    k->tenant_id = sqlite3_column_int64(st, 1);
    lf_err e = col_text(c, st, 2, k->app, sizeof k->app, err);
    if (e == LF_OK)
        e = col_text(c, st, 3, k->key_id, sizeof k->key_id, err);
    int64_t fmt = sqlite3_column_int64(st, 4);
    if (e == LF_OK && fmt != LF_META_KEY_V3 && fmt != LF_META_KEY_NATIVE)
        e = lf_error_set(err, LF_ERR_IO, "meta: stored session key format %lld is unknown",
                         (long long)fmt);
    k->format = (lf_meta_key_format)fmt;
    if (e == LF_OK)
        e = col_blob(st, 5, k->fingerprint, sizeof k->fingerprint, err);
    size_t n = (size_t)sqlite3_column_bytes(st, 6);
    if (e == LF_OK && (n == 0 || n > LF_META_WRAPPED_MAX))
        e = lf_error_set(err, LF_ERR_IO, "meta: stored wrapped key has %zu bytes", n);
    if (e == LF_OK)
        e = col_blob(st, 6, k->wrapped, n, err);
    k->wrapped_len = n;
    k->created = sqlite3_column_int64(st, 7);
    return e;
}

static lf_err sq_session_key_put(lf_meta *m, const lf_meta_session_key *k, lf_error *err)
{
    char key_id[LF_META_KEY_ID_MAX + 1];
    lf_meta_key_format fmt;
    if (!k)
        return invalid(err, "session_key_put: NULL");
    if (!key_id_norm(k->key_id, key_id, &fmt))
        return invalid(err, "session key id must be a UUID (v3) or 32 hex digits (native)");
    if (fmt != k->format)
        return invalid(err, "session key id does not match its format");
    if (!name_ok(k->app, LF_META_APP_MAX))
        return invalid(err, "session key app name");
    if (k->wrapped_len == 0 || k->wrapped_len > LF_META_WRAPPED_MAX)
        return lf_error_set(err, LF_ERR_INVALID, "meta: wrapped key must be 1..%d bytes",
                            LF_META_WRAPPED_MAX);
    if (!fp_nonzero(k->fingerprint, sizeof k->fingerprint))
        return invalid(err, "session key fingerprint");

    conn *c = pool_get(S(m));
    sqlite3_stmt *st;
    lf_err e = LF_OK;
    PREP(c, S_SK_INSERT, st, e, err);
    if (st) {
        int rc = sqlite3_bind_int64(st, 1, k->tenant_id);
        rc |= bind_text(st, 2, key_id);
        rc |= bind_text(st, 3, k->app);
        rc |= sqlite3_bind_int64(st, 4, fmt);
        rc |= bind_blob(st, 5, k->fingerprint, sizeof k->fingerprint);
        rc |= bind_blob(st, 6, k->wrapped, k->wrapped_len);
        rc |= sqlite3_bind_int64(st, 7, k->created);
        e = bind_check(c, rc, err);
        if (e == LF_OK)
            e = exec_done(c, st, "put session key", err);
    }
    /* Nothing inserted: the tenant holds this key id already. A stored row is never changed, so
     * comparing after the fact is race-free. */
    if (e == LF_OK && sqlite3_changes(c->db) == 0) {
        lf_meta_session_key *old = malloc(sizeof *old);
        if (!old)
            e = lf_error_set(err, LF_ERR_NOMEM, "meta: session key compare");
        if (e == LF_OK)
            PREP(c, S_SK_GET, st, e, err);
        if (e == LF_OK) {
            int rc = sqlite3_bind_int64(st, 1, k->tenant_id);
            rc |= bind_text(st, 2, key_id);
            e = bind_check(c, rc, err);
        }
        if (e == LF_OK)
            e = get_one(c, st, session_key_row, old, "session key", err);
        if (e == LF_OK && (old->format != fmt || strcmp(old->app, k->app) != 0 ||
                           memcmp(old->fingerprint, k->fingerprint, sizeof old->fingerprint) != 0 ||
                           old->wrapped_len != k->wrapped_len ||
                           memcmp(old->wrapped, k->wrapped, k->wrapped_len) != 0))
            e = lf_error_set(err, LF_ERR_CONFLICT,
                             "meta: session key %s is already stored with other content", key_id);
        free(old);
    }
    pool_put(S(m), c);
    return e;
}

static lf_err sq_session_key_get(lf_meta *m, int64_t tenant, const char *key_id_in,
                                 lf_meta_session_key *out, lf_error *err)
{
    char key_id[LF_META_KEY_ID_MAX + 1];
    lf_meta_key_format fmt;
    if (!out || !key_id_norm(key_id_in, key_id, &fmt))
        return invalid(err, "session_key_get: bad key id or NULL output");
    conn *c = pool_get(S(m));
    sqlite3_stmt *st;
    lf_err e = LF_OK;
    PREP(c, S_SK_GET, st, e, err);
    if (st) {
        int rc = sqlite3_bind_int64(st, 1, tenant);
        rc |= bind_text(st, 2, key_id);
        e = bind_check(c, rc, err);
        if (e == LF_OK)
            e = get_one(c, st, session_key_row, out, "session key", err);
    }
    pool_put(S(m), c);
    return e;
}

static lf_err sq_session_key_list(lf_meta *m, int64_t tenant, const lf_meta_session_key_filter *f,
                                  size_t limit, lf_meta_cursor cursor, lf_meta_session_key **out,
                                  size_t *count, lf_meta_cursor *next, lf_error *err)
{
    lf_meta_session_key_filter all = {NULL, 0, 0};
    if (!f)
        f = &all;
    lf_err e = list_args(limit, cursor, out, count, next, err);
    if (e != LF_OK)
        return e;
    if (f->app && !name_ok(f->app, LF_META_APP_MAX))
        return invalid(err, "session key filter app name");
    int64_t to = f->created_to ? f->created_to : INT64_MAX;
    int64_t from = f->created_from ? f->created_from : INT64_MIN;
    if (from > to)
        return invalid(err, "session key filter: created_from > created_to");
    conn *c = pool_get(S(m));
    sqlite3_stmt *st;
    PREP(c, S_SK_LIST, st, e, err);
    if (st) {
        int rc = sqlite3_bind_int64(st, 1, tenant);
        rc |= sqlite3_bind_int64(st, 2, cursor.id);
        rc |= bind_text(st, 3, f->app);
        rc |= sqlite3_bind_int64(st, 4, from);
        rc |= sqlite3_bind_int64(st, 5, to);
        rc |= sqlite3_bind_int64(st, 6, (int64_t)limit + 1);
        e = bind_check(c, rc, err);
        if (e == LF_OK)
            e = run_list(c, st, limit, sizeof(lf_meta_session_key), session_key_row, -1,
                         (void **)out, count, next, err);
    }
    pool_put(S(m), c);
    return e;
}

/* ---------------- manifest and checkpoints ---------------- */

static lf_err file_check(const lf_meta_file *f, uint64_t checkpoint, lf_error *err)
{
    if (!name_ok(f->app, LF_META_APP_MAX))
        return invalid(err, "manifest: app name");
    if (!dt_ok(f->dt))
        return invalid(err, "manifest: dt must be YYYY-MM-DD");
    if (f->hour < 0 || f->hour > 23)
        return invalid(err, "manifest: hour must be 0..23");
    if (!path_ok(f->path))
        return invalid(err, "manifest: path must be relative, without '.' or '..' segments");
    if (!u64_ok(f->rows) || !u64_ok(f->bytes) || !u64_ok(f->seq_last))
        return invalid(err, "manifest: count out of range");
    if (f->ts_min > f->ts_max)
        return invalid(err, "manifest: ts_min > ts_max");
    if (f->seq_first > f->seq_last)
        return invalid(err, "manifest: seq_first > seq_last");
    if (f->seq_last > checkpoint)
        return invalid(err, "manifest: a file's spool range ends after the new checkpoint");
    return LF_OK;
}

static lf_err checkpoint_read(conn *c, const char *stream, uint64_t *out, lf_error *err)
{
    sqlite3_stmt *st;
    lf_err e = LF_OK;
    PREP(c, S_CP_GET, st, e, err);
    if (!st)
        return e;
    if ((e = bind_check(c, bind_text(st, 1, stream), err)) != LF_OK)
        return e;
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        *out = (uint64_t)sqlite3_column_int64(st, 0);
    else if (rc == SQLITE_DONE)
        *out = 0;
    else
        e = db_error(c, rc, "read checkpoint", err);
    sqlite3_reset(st);
    return e;
}

static lf_err file_insert(conn *c, const lf_meta_file *f, int64_t *id, lf_error *err)
{
    sqlite3_stmt *st;
    lf_err e = LF_OK;
    PREP(c, S_MF_INSERT, st, e, err);
    if (!st)
        return e;
    int rc = sqlite3_bind_int64(st, 1, f->tenant_id);
    rc |= bind_text(st, 2, f->app);
    rc |= bind_text(st, 3, f->dt);
    rc |= sqlite3_bind_int64(st, 4, f->hour);
    rc |= bind_text(st, 5, f->path);
    rc |= sqlite3_bind_int64(st, 6, (int64_t)f->rows);
    rc |= sqlite3_bind_int64(st, 7, (int64_t)f->bytes);
    rc |= sqlite3_bind_int64(st, 8, f->ts_min);
    rc |= sqlite3_bind_int64(st, 9, f->ts_max);
    rc |= sqlite3_bind_int64(st, 10, f->created);
    rc |= sqlite3_bind_int64(st, 11, (int64_t)f->seq_first);
    rc |= sqlite3_bind_int64(st, 12, (int64_t)f->seq_last);
    if ((e = bind_check(c, rc, err)) != LF_OK)
        return e;
    if ((e = exec_done(c, st, "add manifest file", err)) != LF_OK)
        return e;
    if (id)
        *id = sqlite3_last_insert_rowid(c->db);
    return LF_OK;
}

static lf_err sq_manifest_add(lf_meta *m, const lf_meta_file *files, size_t n, const char *stream,
                              uint64_t checkpoint, int64_t *ids, lf_error *err)
{
    if ((n && !files) || n > LF_META_LIST_MAX)
        return lf_error_set(err, LF_ERR_INVALID, "meta: manifest_add takes 0..%d files",
                            LF_META_LIST_MAX);
    if (!name_ok(stream, LF_META_STREAM_MAX))
        return invalid(err, "checkpoint stream name");
    if (!u64_ok(checkpoint))
        return invalid(err, "checkpoint out of range");
    lf_err e;
    for (size_t i = 0; i < n; i++)
        if ((e = file_check(&files[i], checkpoint, err)) != LF_OK)
            return e;

    lf_meta_sqlite *s = S(m);
    conn *c = pool_get(s);
    sqlite3_stmt *st = NULL;
    uint64_t current = 0;
    e = tx_begin(c, err);
    if (e == LF_OK)
        e = checkpoint_read(c, stream, &current, err);
    if (e == LF_OK && checkpoint < current)
        e = lf_error_set(err, LF_ERR_CONFLICT,
                         "meta: checkpoint %s would go back from %llu to %llu", stream,
                         (unsigned long long)current, (unsigned long long)checkpoint);
    for (size_t i = 0; e == LF_OK && i < n; i++)
        e = file_insert(c, &files[i], ids ? &ids[i] : NULL, err);
    if (e == LF_OK) {
        pthread_mutex_lock(&s->lock);
        bool fail = s->fail_next_manifest_add;
        s->fail_next_manifest_add = false;
        pthread_mutex_unlock(&s->lock);
        if (fail)
            e = lf_error_set(err, LF_ERR_IO, "meta: injected failure before the checkpoint");
    }
    if (e == LF_OK)
        PREP(c, S_CP_SET, st, e, err);
    if (e == LF_OK) {
        int rc = bind_text(st, 1, stream);
        rc |= sqlite3_bind_int64(st, 2, (int64_t)checkpoint);
        e = bind_check(c, rc, err);
        if (e == LF_OK)
            e = exec_done(c, st, "write checkpoint", err);
    }
    if (e == LF_OK)
        e = tx_commit(c, err);
    else
        tx_rollback(c);
    pool_put(s, c);
    return e;
}

static lf_err file_row(conn *c, sqlite3_stmt *st, void *item, lf_error *err)
{
    lf_meta_file *f = item;
    f->id = sqlite3_column_int64(st, 0);
    f->tenant_id = sqlite3_column_int64(st, 1);
    lf_err e = col_text(c, st, 2, f->app, sizeof f->app, err);
    if (e == LF_OK)
        e = col_text(c, st, 3, f->dt, sizeof f->dt, err);
    f->hour = (int)sqlite3_column_int64(st, 4);
    if (e == LF_OK)
        e = col_text(c, st, 5, f->path, sizeof f->path, err);
    f->rows = (uint64_t)sqlite3_column_int64(st, 6);
    f->bytes = (uint64_t)sqlite3_column_int64(st, 7);
    f->ts_min = sqlite3_column_int64(st, 8);
    f->ts_max = sqlite3_column_int64(st, 9);
    f->created = sqlite3_column_int64(st, 10);
    f->seq_first = (uint64_t)sqlite3_column_int64(st, 11);
    f->seq_last = (uint64_t)sqlite3_column_int64(st, 12);
    return e;
}

static lf_err sq_manifest_query(lf_meta *m, int64_t tenant, const lf_meta_file_query *q,
                                size_t limit, lf_meta_cursor cursor, lf_meta_file **out,
                                size_t *count, lf_meta_cursor *next, lf_error *err)
{
    lf_err e = list_args(limit, cursor, out, count, next, err);
    if (e != LF_OK)
        return e;
    if (!q || (q->order != LF_META_ASC && q->order != LF_META_DESC))
        return invalid(err, "manifest query");
    if (q->app && !name_ok(q->app, LF_META_APP_MAX))
        return invalid(err, "manifest query app name");
    if (q->ts_from > q->ts_to)
        return invalid(err, "manifest query: ts_from > ts_to");
    conn *c = pool_get(S(m));
    sqlite3_stmt *st;
    PREP(c, q->order == LF_META_ASC ? S_MF_QUERY_ASC : S_MF_QUERY_DESC, st, e, err);
    if (st) {
        int rc = sqlite3_bind_int64(st, 1, tenant);
        rc |= bind_text(st, 2, q->app);
        rc |= sqlite3_bind_int64(st, 3, q->ts_from);
        rc |= sqlite3_bind_int64(st, 4, q->ts_to);
        rc |= sqlite3_bind_int64(st, 5, cursor.id);
        rc |= sqlite3_bind_int64(st, 6, cursor.key);
        rc |= sqlite3_bind_int64(st, 7, (int64_t)limit + 1);
        e = bind_check(c, rc, err);
        if (e == LF_OK)
            e = run_list(c, st, limit, sizeof(lf_meta_file), file_row, 8, (void **)out, count, next,
                         err);
    }
    pool_put(S(m), c);
    return e;
}

static lf_err sq_checkpoint_get(lf_meta *m, const char *stream, uint64_t *out, lf_error *err)
{
    if (!out || !name_ok(stream, LF_META_STREAM_MAX))
        return invalid(err, "checkpoint_get: bad stream name or NULL output");
    conn *c = pool_get(S(m));
    lf_err e = checkpoint_read(c, stream, out, err);
    pool_put(S(m), c);
    return e;
}

static lf_err sq_manifest_usage(lf_meta *m, int64_t tenant, uint64_t *files, uint64_t *bytes,
                                lf_error *err)
{
    conn *c = pool_get(S(m));
    sqlite3_stmt *st;
    lf_err e = LF_OK;
    PREP(c, S_MF_USAGE, st, e, err);
    if (st) {
        e = bind_check(c, sqlite3_bind_int64(st, 1, tenant), err);
        int rc = e == LF_OK ? sqlite3_step(st) : SQLITE_OK;
        if (e == LF_OK && rc == SQLITE_ROW) {
            if (files)
                *files = (uint64_t)sqlite3_column_int64(st, 0);
            if (bytes)
                *bytes = (uint64_t)sqlite3_column_int64(st, 1);
        } else if (e == LF_OK) {
            e = db_error(c, rc, "manifest usage", err);
        }
        sqlite3_reset(st);
    }
    pool_put(S(m), c);
    return e;
}

static lf_err sq_manifest_remove(lf_meta *m, int64_t tenant, int64_t id, lf_error *err)
{
    conn *c = pool_get(S(m));
    sqlite3_stmt *st;
    lf_err e = LF_OK;
    PREP(c, S_MF_REMOVE, st, e, err);
    if (st) {
        int rc = sqlite3_bind_int64(st, 1, tenant);
        rc |= sqlite3_bind_int64(st, 2, id);
        e = bind_check(c, rc, err);
        if (e == LF_OK)
            e = exec_done(c, st, "remove manifest file", err);
        if (e == LF_OK && sqlite3_changes(c->db) == 0)
            e = lf_error_set(err, LF_ERR_NOT_FOUND, "meta: manifest file %lld not found",
                             (long long)id);
    }
    pool_put(S(m), c);
    return e;
}

/* ---------------- idempotency ---------------- */

static lf_err idem_args(const char *credential, const char *key, lf_error *err)
{
    if (!id_text_ok(credential, NULL))
        return invalid(err, "idempotency: credential id text");
    if (!idem_key_ok(key))
        return invalid(err, "idempotency key must be 16..64 of [A-Za-z0-9_-]");
    return LF_OK;
}

/* Read the record for (tenant, credential, key) if it is unexpired at `now`; *found says so. */
static lf_err idem_read(conn *c, int64_t tenant, const char *credential, const char *key,
                        int64_t now, lf_meta_idem_response *out, bool *found, lf_error *err)
{
    sqlite3_stmt *st;
    lf_err e = LF_OK;
    *found = false;
    PREP(c, S_IDEM_GET, st, e, err);
    if (!st)
        return e;
    int rc = sqlite3_bind_int64(st, 1, tenant);
    rc |= bind_text(st, 2, credential);
    rc |= bind_text(st, 3, key);
    if ((e = bind_check(c, rc, err)) != LF_OK)
        return e;
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW && sqlite3_column_int64(st, 3) > now) {
        size_t n = (size_t)sqlite3_column_bytes(st, 1);
        if (n > LF_META_IDEM_BODY_MAX) {
            e = lf_error_set(err, LF_ERR_IO, "meta: stored idempotent response too long");
        } else if (out) {
            out->status = (int)sqlite3_column_int64(st, 0);
            e = col_blob(st, 1, out->body, n, err);
            out->body_len = n;
            out->created = sqlite3_column_int64(st, 2);
            out->expires = sqlite3_column_int64(st, 3);
        }
        *found = e == LF_OK;
    } else if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        e = db_error(c, rc, "read idempotency record", err);
    }
    sqlite3_reset(st);
    return e;
}

static lf_err sq_idem_put_if_absent(lf_meta *m, int64_t tenant, const char *credential,
                                    const char *key, const lf_meta_idem_response *resp, int64_t now,
                                    lf_meta_idem_response *stored, bool *existed, lf_error *err)
{
    lf_err e = idem_args(credential, key, err);
    if (e != LF_OK)
        return e;
    if (!resp || !existed || resp->status < 100 || resp->status > 599 ||
        resp->body_len > LF_META_IDEM_BODY_MAX || resp->expires <= now)
        return invalid(err, "idempotency: response status, body length or expiry");
    conn *c = pool_get(S(m));
    bool found = false;
    sqlite3_stmt *st = NULL;
    /* IMMEDIATE: two retries racing each other serialise here; the second sees the first. */
    e = tx_begin(c, err);
    if (e == LF_OK)
        e = idem_read(c, tenant, credential, key, now, stored, &found, err);
    if (e == LF_OK && !found) {
        PREP(c, S_IDEM_PUT, st, e, err);
        if (e == LF_OK) {
            int rc = sqlite3_bind_int64(st, 1, tenant);
            rc |= bind_text(st, 2, credential);
            rc |= bind_text(st, 3, key);
            rc |= sqlite3_bind_int64(st, 4, resp->status);
            rc |= bind_blob(st, 5, resp->body, resp->body_len);
            rc |= sqlite3_bind_int64(st, 6, resp->created);
            rc |= sqlite3_bind_int64(st, 7, resp->expires);
            e = bind_check(c, rc, err);
        }
        if (e == LF_OK)
            e = exec_done(c, st, "store idempotency record", err);
    }
    if (e == LF_OK)
        e = tx_commit(c, err);
    else
        tx_rollback(c);
    pool_put(S(m), c);
    if (e == LF_OK) {
        *existed = found;
        if (!found && stored)
            *stored = *resp;
    }
    return e;
}

static lf_err sq_idem_get(lf_meta *m, int64_t tenant, const char *credential, const char *key,
                          int64_t now, lf_meta_idem_response *out, lf_error *err)
{
    lf_err e = idem_args(credential, key, err);
    if (e != LF_OK)
        return e;
    if (!out)
        return invalid(err, "idem_get: NULL output");
    conn *c = pool_get(S(m));
    bool found = false;
    e = idem_read(c, tenant, credential, key, now, out, &found, err);
    pool_put(S(m), c);
    if (e == LF_OK && !found)
        e = lf_error_set(err, LF_ERR_NOT_FOUND, "meta: idempotency record not found");
    return e;
}

static lf_err sq_idem_purge(lf_meta *m, int64_t now, uint64_t *purged, lf_error *err)
{
    conn *c = pool_get(S(m));
    sqlite3_stmt *st;
    lf_err e = LF_OK;
    PREP(c, S_IDEM_PURGE, st, e, err);
    if (st) {
        e = bind_check(c, sqlite3_bind_int64(st, 1, now), err);
        if (e == LF_OK)
            e = exec_done(c, st, "purge idempotency records", err);
        if (e == LF_OK && purged)
            *purged = (uint64_t)sqlite3_changes64(c->db);
    }
    pool_put(S(m), c);
    return e;
}

/* ---------------- audit ---------------- */

static bool action_ok(const char *s)
{
    if (!s)
        return false;
    size_t n = strnlen(s, LF_META_ACTION_MAX + 1);
    if (n == 0 || n > LF_META_ACTION_MAX)
        return false;
    for (size_t i = 0; i < n; i++) {
        char ch = s[i];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '.' || ch == '_' ||
              ch == '-'))
            return false;
    }
    return true;
}

static lf_err sq_audit_append(lf_meta *m, const lf_meta_audit_entry *a, int64_t *id, lf_error *err)
{
    if (!a)
        return invalid(err, "audit_append: NULL");
    if (a->actor[0] && !id_text_ok(a->actor, NULL))
        return invalid(err, "audit actor must be a credential id text or empty");
    if (!action_ok(a->action))
        return invalid(err, "audit action must be 1..64 of [a-z0-9._-]");
    if (!text_ok(a->object, LF_META_OBJECT_MAX, true) ||
        !text_ok(a->request_id, LF_META_REQUEST_ID_MAX, true))
        return invalid(err, "audit object or request id");
    /* JSON may contain newlines and tabs: only the length is checked here; the table's CHECK
     * (json_valid) refuses anything that is not JSON. */
    if (strnlen(a->detail, LF_META_DETAIL_MAX + 1) > LF_META_DETAIL_MAX)
        return lf_error_set(err, LF_ERR_TOO_LARGE, "meta: audit detail exceeds %d bytes",
                            LF_META_DETAIL_MAX);
    conn *c = pool_get(S(m));
    sqlite3_stmt *st;
    lf_err e = LF_OK;
    PREP(c, S_AUDIT_INSERT, st, e, err);
    if (st) {
        int rc = sqlite3_bind_int64(st, 1, a->tenant_id);
        rc |= bind_text(st, 2, a->actor);
        rc |= bind_text(st, 3, a->action);
        rc |= bind_text(st, 4, a->object);
        rc |= bind_text(st, 5, a->detail);
        rc |= sqlite3_bind_int64(st, 6, a->time);
        rc |= bind_text(st, 7, a->request_id);
        e = bind_check(c, rc, err);
        if (e == LF_OK)
            e = exec_done(c, st, "append audit entry", err);
        if (e == LF_OK && id)
            *id = sqlite3_last_insert_rowid(c->db);
    }
    pool_put(S(m), c);
    return e;
}

static lf_err audit_row(conn *c, sqlite3_stmt *st, void *item, lf_error *err)
{
    lf_meta_audit_entry *a = item;
    a->id = sqlite3_column_int64(st, 0);
    a->tenant_id = sqlite3_column_int64(st, 1);
    lf_err e = col_text(c, st, 2, a->actor, sizeof a->actor, err);
    if (e == LF_OK)
        e = col_text(c, st, 3, a->action, sizeof a->action, err);
    if (e == LF_OK)
        e = col_text(c, st, 4, a->object, sizeof a->object, err);
    if (e == LF_OK)
        e = col_text(c, st, 5, a->detail, sizeof a->detail, err);
    a->time = sqlite3_column_int64(st, 6);
    if (e == LF_OK)
        e = col_text(c, st, 7, a->request_id, sizeof a->request_id, err);
    return e;
}

static lf_err sq_audit_list(lf_meta *m, int64_t tenant, int64_t since, size_t limit,
                            lf_meta_cursor cursor, lf_meta_audit_entry **out, size_t *count,
                            lf_meta_cursor *next, lf_error *err)
{
    lf_err e = list_args(limit, cursor, out, count, next, err);
    if (e != LF_OK)
        return e;
    conn *c = pool_get(S(m));
    sqlite3_stmt *st;
    PREP(c, S_AUDIT_LIST, st, e, err);
    if (st) {
        int rc = sqlite3_bind_int64(st, 1, tenant);
        rc |= sqlite3_bind_int64(st, 2, cursor.id);
        rc |= sqlite3_bind_int64(st, 3, since);
        rc |= sqlite3_bind_int64(st, 4, (int64_t)limit + 1);
        e = bind_check(c, rc, err);
        if (e == LF_OK)
            e = run_list(c, st, limit, sizeof(lf_meta_audit_entry), audit_row, -1, (void **)out,
                         count, next, err);
    }
    pool_put(S(m), c);
    return e;
}

/* ---------------- open, migrate, close ---------------- */

static void conn_close(conn *c)
{
    for (int i = 0; i < S_COUNT; i++)
        sqlite3_finalize(c->st[i]);
    memset(c->st, 0, sizeof c->st);
    sqlite3_close(c->db);
    c->db = NULL;
}

static void sq_close(lf_meta *m)
{
    lf_meta_sqlite *s = S(m);
    for (unsigned i = 0; i < s->pool_size; i++)
        conn_close(&s->conns[i]);
    pthread_cond_destroy(&s->cond);
    pthread_mutex_destroy(&s->lock);
    free(s);
}

/* One-off SQL of our own (pragmas, migrations): no values from outside. */
static lf_err exec_sql(conn *c, const char *sql, const char *what, lf_error *err)
{
    int rc = sqlite3_exec(c->db, sql, NULL, NULL, NULL);
    return rc == SQLITE_OK ? LF_OK : db_error(c, rc, what, err);
}

static lf_err user_version(conn *c, int *out, lf_error *err)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(c->db, "PRAGMA user_version", -1, &st, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        *out = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    return rc == SQLITE_ROW ? LF_OK : db_error(c, rc, "read schema version", err);
}

static lf_err migrate(conn *c, int target, lf_error *err)
{
    int v = 0;
    lf_err e = user_version(c, &v, err);
    if (e != LF_OK)
        return e;
    if (v > SCHEMA_VERSION)
        return lf_error_set(err, LF_ERR_UNSUPPORTED,
                            "meta: database schema version %d is newer than this build's %d", v,
                            SCHEMA_VERSION);
    if (v >= target)
        return LF_OK;
    /* Re-read inside the write lock: another process may have migrated meanwhile. */
    if ((e = exec_sql(c, "BEGIN IMMEDIATE", "begin migration", err)) != LF_OK)
        return e;
    e = user_version(c, &v, err);
    for (; e == LF_OK && v < target; v++) {
        char pragma[48];
        e = exec_sql(c, migrations[v], "migration", err);
        snprintf(pragma, sizeof pragma, "PRAGMA user_version = %d", v + 1);
        if (e == LF_OK)
            e = exec_sql(c, pragma, "set schema version", err);
    }
    if (e == LF_OK)
        e = exec_sql(c, "COMMIT", "commit migration", err);
    if (e != LF_OK)
        sqlite3_exec(c->db, "ROLLBACK", NULL, NULL, NULL);
    return e;
}

static lf_err conn_open(conn *c, const char *path, unsigned busy_ms, bool first, int target,
                        lf_error *err)
{
    int rc = sqlite3_open_v2(path, &c->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc != SQLITE_OK) {
        lf_err e = db_error(c, rc, "open", err);
        if (e != LF_ERR_NOMEM)
            e = lf_error_set(err, LF_ERR_IO, "meta: cannot open %s: %s", path, sqlite3_errstr(rc));
        return e;
    }
    sqlite3_extended_result_codes(c->db, 1);
    sqlite3_busy_timeout(c->db, (int)busy_ms);
    lf_err e = LF_OK;
    if (first) {
        sqlite3_stmt *st = NULL;
        rc = sqlite3_prepare_v2(c->db, "PRAGMA journal_mode = WAL", -1, &st, NULL);
        if (rc == SQLITE_OK)
            rc = sqlite3_step(st);
        bool wal = rc == SQLITE_ROW &&
                   sqlite3_stricmp((const char *)sqlite3_column_text(st, 0), "wal") == 0;
        sqlite3_finalize(st);
        if (rc != SQLITE_ROW)
            e = lf_error_set(err, LF_ERR_IO, "meta: %s is not a usable database: %s", path,
                             sqlite3_errmsg(c->db));
        else if (!wal)
            e = lf_error_set(err, LF_ERR_IO, "meta: %s: WAL mode refused", path);
    }
    if (e == LF_OK)
        e = exec_sql(c, "PRAGMA foreign_keys = ON; PRAGMA synchronous = FULL;",
                     "configure connection", err);
    if (e == LF_OK && first)
        e = migrate(c, target, err);
    return e;
}

/* Create the file 0600 (or tighten an existing one) before SQLite sees it, so the database is
 * never readable by others, not even for an instant. */
static lf_err prepare_file(const char *path, lf_error *err)
{
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0)
        return lf_error_set(err, LF_ERR_IO, "meta: %s: %s", path, strerror(errno));
    struct stat sb;
    lf_err e = LF_OK;
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode))
        e = lf_error_set(err, LF_ERR_IO, "meta: %s is not a regular file", path);
    else if ((sb.st_mode & 0777) != 0600 && fchmod(fd, 0600) != 0)
        e = lf_error_set(err, LF_ERR_IO, "meta: chmod 0600 %s: %s", path, strerror(errno));
    close(fd);
    return e;
}

static const lf_meta_ops sqlite_ops = {
    .name = "sqlite",
    .close = sq_close,
    .tenant_create = sq_tenant_create,
    .tenant_get = sq_tenant_get,
    .tenant_get_by_name = sq_tenant_get_by_name,
    .tenant_set_settings = sq_tenant_set_settings,
    .app_create = sq_app_create,
    .app_get = sq_app_get,
    .app_list = sq_app_list,
    .credential_create = sq_credential_create,
    .credential_lookup = sq_credential_lookup,
    .credential_list = sq_credential_list,
    .credential_revoke = sq_credential_revoke,
    .pubkey_register = sq_pubkey_register,
    .pubkey_get_active = sq_pubkey_get_active,
    .pubkey_get = sq_pubkey_get,
    .pubkey_list = sq_pubkey_list,
    .session_key_put = sq_session_key_put,
    .session_key_get = sq_session_key_get,
    .session_key_list = sq_session_key_list,
    .manifest_add = sq_manifest_add,
    .manifest_query = sq_manifest_query,
    .checkpoint_get = sq_checkpoint_get,
    .manifest_usage = sq_manifest_usage,
    .manifest_remove = sq_manifest_remove,
    .idem_put_if_absent = sq_idem_put_if_absent,
    .idem_get = sq_idem_get,
    .idem_purge = sq_idem_purge,
    .audit_append = sq_audit_append,
    .audit_list = sq_audit_list,
};

lf_err lf_meta_sqlite_open(const char *path, const lf_meta_sqlite_options *opt, lf_meta **out,
                           lf_error *err)
{
    if (!path || !*path || !out)
        return invalid(err, "sqlite_open: path and output are required");
    *out = NULL;
    lf_meta_sqlite_options o = opt ? *opt : (lf_meta_sqlite_options){0};
    if (o.pool_size == 0)
        o.pool_size = 4;
    if (o.busy_timeout_ms == 0)
        o.busy_timeout_ms = 5000;
    if (o.pool_size > POOL_MAX || o.busy_timeout_ms > INT32_MAX || o.max_version < 0 ||
        o.max_version > SCHEMA_VERSION)
        return invalid(err, "sqlite options out of range");
    int target = o.max_version ? o.max_version : SCHEMA_VERSION;
    if (!sqlite3_threadsafe())
        return lf_error_set(err, LF_ERR_UNSUPPORTED, "meta: SQLite was built without threads");

    lf_err e = prepare_file(path, err);
    if (e != LF_OK)
        return e;
    lf_meta_sqlite *s = calloc(1, sizeof *s);
    if (!s)
        return lf_error_set(err, LF_ERR_NOMEM, "meta: handle");
    s->base.ops = &sqlite_ops;
    pthread_mutex_init(&s->lock, NULL);
    pthread_cond_init(&s->cond, NULL);
    for (unsigned i = 0; i < o.pool_size; i++) {
        s->pool_size = i + 1; /* so sq_close releases what was opened */
        e = conn_open(&s->conns[i], path, o.busy_timeout_ms, i == 0, target, err);
        if (e != LF_OK) {
            sq_close(&s->base);
            return e;
        }
        s->idle[s->nidle++] = &s->conns[i];
    }
    *out = &s->base;
    return LF_OK;
}

void lf_meta_sqlite_test_fail_next_manifest_add(lf_meta *m)
{
    if (!m || m->ops != &sqlite_ops)
        return;
    lf_meta_sqlite *s = S(m);
    pthread_mutex_lock(&s->lock);
    s->fail_next_manifest_add = true;
    pthread_mutex_unlock(&s->lock);
}

/*
 * meta.h — logfluxd's metadata store: the one interface through which the server reads and
 * writes tenants, apps, credentials (API keys and personal access tokens), customer public keys,
 * wrapped session keys, the Parquet file manifest with the worker's checkpoint, idempotency
 * records and the audit log (docs/METADATA.md describes every table).
 *
 * How it works: an lf_meta handle carries a pointer to a backend's vtable (lf_meta_ops). The
 * rest of the server calls only the lf_meta_* functions below, which dispatch through that
 * table; it never names a backend except to open one. SQLite (meta_sqlite.c) is the embedded
 * backend; a PostgreSQL backend implements the same ops later and passes the same tests.
 *
 * Rules every backend keeps:
 *   - Tenant scoping: every operation on a tenant's rows takes the tenant id and matches it in
 *     the same statement, so guessing another tenant's app name, credential id, key id, file or
 *     audit id yields LF_ERR_NOT_FOUND (or nothing in a list), never the row. The only lookups
 *     not scoped by tenant are those that authenticate a request (credential by id text), and
 *     they return the owning tenant.
 *   - No secrets: credentials are stored as their verifier (and, for API keys, the request
 *     signing key of PROTOCOL §3.6); never the credential string. List results use *_info types
 *     that have no field for a verifier or a signing key. Nothing here holds log plaintext.
 *   - Thread safety: every function may be called from many threads at once on one handle.
 *   - Errors: LF_ERR_INVALID for malformed arguments, LF_ERR_NOT_FOUND, LF_ERR_CONFLICT (a
 *     unique name/id already exists with other content), LF_ERR_IO for a storage failure,
 *     LF_ERR_FULL when the database is busy beyond the timeout or the disk is full (retry later).
 *
 * Lists: `limit` is 1..LF_META_LIST_MAX; results go into a malloc'd array `*out` (the caller
 * free()s it; NULL when `*count` is 0) and `*next` is the cursor to pass for the following page,
 * LF_META_CURSOR_START ({0, 0}) when there is none. Cursors are opaque to callers.
 */
#ifndef LF_SERVER_META_H
#define LF_SERVER_META_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "logflux/credentials.h"
#include "logflux/error.h"
#include "logflux/sign.h"

#ifdef __cplusplus
extern "C" {
#endif

#define LF_META_NAME_MAX       64 /* tenant names: 1..64 of [A-Za-z0-9._-], not "." or ".." */
#define LF_META_APP_MAX        LF_CREDENTIAL_APP_MAX /* app names: 1..128 of [A-Za-z0-9._-] */
#define LF_META_LABEL_MAX      128 /* free-text label of a credential (UTF-8, no control chars) */
#define LF_META_PEM_MAX        16384
#define LF_META_FP_LEN         32   /* SHA-256 of a customer key's DER SubjectPublicKeyInfo */
#define LF_META_KEY_ID_MAX     36   /* v3: canonical UUID (36); native: 32 lowercase hex */
#define LF_META_WRAPPED_MAX    1024 /* an RSA-OAEP wrapped session key (512 bytes for RSA-4096) */
#define LF_META_PATH_MAX       512  /* relative path of a Parquet file in the object store */
#define LF_META_STREAM_MAX     64   /* name of a worker checkpoint ("spool") */
#define LF_META_IDEM_KEY_MAX   64   /* X-LF-Idempotency-Key: 16..64 of [A-Za-z0-9_-] (§3.7) */
#define LF_META_IDEM_BODY_MAX  4096 /* stored response body */
#define LF_META_ACTION_MAX     64
#define LF_META_OBJECT_MAX     256
#define LF_META_DETAIL_MAX     2048 /* audit detail: a JSON document */
#define LF_META_REQUEST_ID_MAX 64
#define LF_META_LIST_MAX       1000

typedef struct lf_meta lf_meta;

/* ---------------- common ---------------- */

typedef struct lf_meta_cursor {
    int64_t key; /* ordering key of the last row returned (backend-defined) */
    int64_t id;  /* row id of the last row returned; 0 = start / no more rows */
} lf_meta_cursor;
#define LF_META_CURSOR_START ((lf_meta_cursor){0, 0})

/* ---------------- tenants and apps ---------------- */

typedef struct lf_meta_tenant_settings {
    bool allow_bearer;       /* accept `Authorization: Bearer <api key>` (v3 clients) */
    uint32_t rate_per_sec;   /* per-credential token bucket refill; 0 = server default */
    uint32_t rate_burst;     /* token bucket size; 0 = server default */
    uint64_t quota_bytes;    /* stored bytes allowed; 0 = unlimited */
    uint32_t retention_days; /* Parquet files older than this are deleted; 0 = keep */
} lf_meta_tenant_settings;

typedef struct lf_meta_tenant {
    int64_t id;
    char name[LF_META_NAME_MAX + 1];
    lf_region region;
    int64_t created; /* Unix seconds */
    lf_meta_tenant_settings settings;
} lf_meta_tenant;

typedef struct lf_meta_app {
    int64_t id;
    int64_t tenant_id;
    char name[LF_META_APP_MAX + 1];
    int64_t created;
} lf_meta_app;

/* ---------------- credentials ---------------- */

/* A stored credential with what authenticates it. Returned only by lookup (the request
 * authentication path); `rec` can be passed to lf_credential_check() as it is. The caller
 * wipes it (lf_wipe) when done: it holds the signing key. */
typedef struct lf_meta_credential {
    int64_t tenant_id;
    char id_text[LF_CREDENTIAL_ID_TEXT_MAX + 1]; /* "eu-lf_0123…", unique per kind */
    lf_credential_record rec;                    /* kind, region, id, verifier, scopes, app, … */
    uint8_t signing_key[LF_SIGN_KEY_LEN];        /* API keys only; zero for tokens */
    char label[LF_META_LABEL_MAX + 1];
} lf_meta_credential;

/* A credential as listed: no verifier, no signing key. */
typedef struct lf_meta_credential_info {
    int64_t tenant_id;
    lf_credential_kind kind;
    lf_region region;
    char id_text[LF_CREDENTIAL_ID_TEXT_MAX + 1];
    uint32_t scopes;
    char app[LF_META_APP_MAX + 1];
    int64_t created;
    int64_t expires;
    bool revoked;
    char label[LF_META_LABEL_MAX + 1];
} lf_meta_credential_info;

/* ---------------- customer public keys ---------------- */

/* `pem` is owned by the struct: release with lf_meta_pubkey_clear. */
typedef struct lf_meta_pubkey {
    int64_t id;
    int64_t tenant_id;
    uint8_t fingerprint[LF_META_FP_LEN];
    char *pem; /* NUL-terminated */
    size_t pem_len;
    bool active;
    int64_t created;
} lf_meta_pubkey;

typedef struct lf_meta_pubkey_info {
    int64_t id;
    uint8_t fingerprint[LF_META_FP_LEN];
    bool active;
    int64_t created;
} lf_meta_pubkey_info;

/* ---------------- wrapped session keys ---------------- */

typedef enum lf_meta_key_format {
    LF_META_KEY_V3 = 1,     /* key_id: a UUID from /v1/handshake (stored lowercase) */
    LF_META_KEY_NATIVE = 2, /* key_id: the native 16-byte key id as 32 lowercase hex */
} lf_meta_key_format;

typedef struct lf_meta_session_key {
    int64_t tenant_id;
    char app[LF_META_APP_MAX + 1];
    char key_id[LF_META_KEY_ID_MAX + 1];
    lf_meta_key_format format;
    uint8_t fingerprint[LF_META_FP_LEN]; /* the customer key it is wrapped to */
    uint8_t wrapped[LF_META_WRAPPED_MAX];
    size_t wrapped_len; /* 1..LF_META_WRAPPED_MAX */
    int64_t created;
} lf_meta_session_key;

typedef struct lf_meta_session_key_filter {
    const char *app;      /* NULL = every app */
    int64_t created_from; /* inclusive; 0 = no lower bound */
    int64_t created_to;   /* inclusive; 0 = no upper bound */
} lf_meta_session_key_filter;

/* ---------------- manifest ---------------- */

typedef struct lf_meta_file {
    int64_t id; /* assigned by add; ignored on input */
    int64_t tenant_id;
    char app[LF_META_APP_MAX + 1];
    char dt[11];                     /* "YYYY-MM-DD" (UTC) */
    int hour;                        /* 0..23 */
    char path[LF_META_PATH_MAX + 1]; /* relative, no "..", no leading '/' */
    uint64_t rows;
    uint64_t bytes;
    int64_t ts_min; /* entry timestamps in the file (unit chosen by the writer), min <= max */
    int64_t ts_max;
    int64_t created;
    uint64_t seq_first; /* spool sequence range the file was made from, first <= last */
    uint64_t seq_last;
} lf_meta_file;

typedef enum lf_meta_order {
    LF_META_ASC = 0, /* by ts_min, then id */
    LF_META_DESC = 1,
} lf_meta_order;

typedef struct lf_meta_file_query {
    const char *app; /* NULL = all apps of the tenant */
    int64_t ts_from; /* files whose [ts_min, ts_max] overlaps [ts_from, ts_to] */
    int64_t ts_to;
    lf_meta_order order;
} lf_meta_file_query;

/* ---------------- idempotency ---------------- */

typedef struct lf_meta_idem_response {
    int status; /* HTTP status answered the first time */
    uint8_t body[LF_META_IDEM_BODY_MAX];
    size_t body_len;
    int64_t created;
    int64_t expires;
} lf_meta_idem_response;

/* ---------------- audit ---------------- */

typedef struct lf_meta_audit_entry {
    int64_t id;
    int64_t tenant_id;
    char actor[LF_CREDENTIAL_ID_TEXT_MAX + 1]; /* credential id text; "" for the system */
    char action[LF_META_ACTION_MAX + 1];       /* "query", "apikey.create", … */
    char object[LF_META_OBJECT_MAX + 1];       /* what it acted on; may be "" */
    char detail[LF_META_DETAIL_MAX + 1];       /* JSON text; "" for none */
    int64_t time;
    char request_id[LF_META_REQUEST_ID_MAX + 1];
} lf_meta_audit_entry;

/* ---------------- the backend vtable ---------------- */

/* Every entry is required. Arguments are validated by the backend (the wrappers below only
 * dispatch), and pointers are borrowed for the duration of the call unless stated. */
typedef struct lf_meta_ops {
    const char *name; /* "sqlite", "postgres" */
    void (*close)(lf_meta *m);

    lf_err (*tenant_create)(lf_meta *m, const char *name, lf_region region, int64_t created,
                            int64_t *id, lf_error *err);
    lf_err (*tenant_get)(lf_meta *m, int64_t id, lf_meta_tenant *out, lf_error *err);
    lf_err (*tenant_get_by_name)(lf_meta *m, const char *name, lf_meta_tenant *out, lf_error *err);
    lf_err (*tenant_set_settings)(lf_meta *m, int64_t tenant, const lf_meta_tenant_settings *s,
                                  lf_error *err);

    lf_err (*app_create)(lf_meta *m, int64_t tenant, const char *name, int64_t created, int64_t *id,
                         lf_error *err);
    lf_err (*app_get)(lf_meta *m, int64_t tenant, const char *name, lf_meta_app *out,
                      lf_error *err);
    lf_err (*app_list)(lf_meta *m, int64_t tenant, size_t limit, lf_meta_cursor cursor,
                       lf_meta_app **out, size_t *count, lf_meta_cursor *next, lf_error *err);

    lf_err (*credential_create)(lf_meta *m, const lf_meta_credential *c, lf_error *err);
    lf_err (*credential_lookup)(lf_meta *m, lf_credential_kind kind, const char *id_text,
                                lf_meta_credential *out, lf_error *err);
    lf_err (*credential_list)(lf_meta *m, int64_t tenant, lf_credential_kind kind, size_t limit,
                              lf_meta_cursor cursor, lf_meta_credential_info **out, size_t *count,
                              lf_meta_cursor *next, lf_error *err);
    lf_err (*credential_revoke)(lf_meta *m, int64_t tenant, lf_credential_kind kind,
                                const char *id_text, lf_error *err);

    lf_err (*pubkey_register)(lf_meta *m, int64_t tenant, const char *pem, size_t pem_len,
                              const uint8_t fingerprint[LF_META_FP_LEN], int64_t created,
                              int64_t *id, lf_error *err);
    lf_err (*pubkey_get_active)(lf_meta *m, int64_t tenant, lf_meta_pubkey *out, lf_error *err);
    lf_err (*pubkey_get)(lf_meta *m, int64_t tenant, const uint8_t fingerprint[LF_META_FP_LEN],
                         lf_meta_pubkey *out, lf_error *err);
    lf_err (*pubkey_list)(lf_meta *m, int64_t tenant, size_t limit, lf_meta_cursor cursor,
                          lf_meta_pubkey_info **out, size_t *count, lf_meta_cursor *next,
                          lf_error *err);

    lf_err (*session_key_put)(lf_meta *m, const lf_meta_session_key *k, lf_error *err);
    lf_err (*session_key_get)(lf_meta *m, int64_t tenant, const char *key_id,
                              lf_meta_session_key *out, lf_error *err);
    lf_err (*session_key_list)(lf_meta *m, int64_t tenant, const lf_meta_session_key_filter *f,
                               size_t limit, lf_meta_cursor cursor, lf_meta_session_key **out,
                               size_t *count, lf_meta_cursor *next, lf_error *err);

    lf_err (*manifest_add)(lf_meta *m, const lf_meta_file *files, size_t n, const char *stream,
                           uint64_t checkpoint, int64_t *ids, lf_error *err);
    lf_err (*manifest_query)(lf_meta *m, int64_t tenant, const lf_meta_file_query *q, size_t limit,
                             lf_meta_cursor cursor, lf_meta_file **out, size_t *count,
                             lf_meta_cursor *next, lf_error *err);
    lf_err (*checkpoint_get)(lf_meta *m, const char *stream, uint64_t *out, lf_error *err);
    lf_err (*manifest_usage)(lf_meta *m, int64_t tenant, uint64_t *files, uint64_t *bytes,
                             lf_error *err);
    lf_err (*manifest_remove)(lf_meta *m, int64_t tenant, int64_t id, lf_error *err);

    lf_err (*idem_put_if_absent)(lf_meta *m, int64_t tenant, const char *credential,
                                 const char *key, const lf_meta_idem_response *resp, int64_t now,
                                 lf_meta_idem_response *stored, bool *existed, lf_error *err);
    lf_err (*idem_get)(lf_meta *m, int64_t tenant, const char *credential, const char *key,
                       int64_t now, lf_meta_idem_response *out, lf_error *err);
    lf_err (*idem_purge)(lf_meta *m, int64_t now, uint64_t *purged, lf_error *err);

    lf_err (*audit_append)(lf_meta *m, const lf_meta_audit_entry *e, int64_t *id, lf_error *err);
    lf_err (*audit_list)(lf_meta *m, int64_t tenant, int64_t since, size_t limit,
                         lf_meta_cursor cursor, lf_meta_audit_entry **out, size_t *count,
                         lf_meta_cursor *next, lf_error *err);
} lf_meta_ops;

/* Backends embed this as their first member; callers never look inside. */
struct lf_meta {
    const lf_meta_ops *ops;
};

/* ---------------- opening a backend ---------------- */

typedef struct lf_meta_sqlite_options {
    unsigned pool_size;       /* connections, 1..64; 0 = 4 */
    unsigned busy_timeout_ms; /* 0 = 5000 */
    int max_version;          /* migrate only up to this schema version; 0 = latest (tests) */
} lf_meta_sqlite_options;

/* Latest schema version this build knows (PRAGMA user_version). */
int lf_meta_sqlite_schema_version(void);

/* Open (creating with mode 0600 if needed) the SQLite database at `path`, bring its schema up to
 * date with forward migrations, and return a handle in *out (close with lf_meta_close). `opt`
 * may be NULL. LF_ERR_UNSUPPORTED if the file's schema is newer than this build; LF_ERR_IO if it
 * cannot be opened or is not a database. */
lf_err lf_meta_sqlite_open(const char *path, const lf_meta_sqlite_options *opt, lf_meta **out,
                           lf_error *err);

/* Test hook (fault injection): make the next manifest_add fail with LF_ERR_IO after its files
 * are inserted and before the checkpoint is written, inside the transaction. */
void lf_meta_sqlite_test_fail_next_manifest_add(lf_meta *m);

/* ---------------- the interface the server calls ---------------- */

/* Close the handle and free everything it holds. NULL is a no-op. */
static inline void lf_meta_close(lf_meta *m)
{
    if (m)
        m->ops->close(m);
}

/* Create tenant `name` (LF_ERR_CONFLICT if the name exists); default settings (bearer off, no
 * limits). Its id goes to *id. */
static inline lf_err lf_meta_tenant_create(lf_meta *m, const char *name, lf_region region,
                                           int64_t created, int64_t *id, lf_error *err)
{
    return m->ops->tenant_create(m, name, region, created, id, err);
}
static inline lf_err lf_meta_tenant_get(lf_meta *m, int64_t id, lf_meta_tenant *out, lf_error *err)
{
    return m->ops->tenant_get(m, id, out, err);
}
static inline lf_err lf_meta_tenant_get_by_name(lf_meta *m, const char *name, lf_meta_tenant *out,
                                                lf_error *err)
{
    return m->ops->tenant_get_by_name(m, name, out, err);
}
/* Replace all settings of `tenant`. */
static inline lf_err lf_meta_tenant_set_settings(lf_meta *m, int64_t tenant,
                                                 const lf_meta_tenant_settings *s, lf_error *err)
{
    return m->ops->tenant_set_settings(m, tenant, s, err);
}

/* Create app `name` in `tenant` (LF_ERR_CONFLICT if it exists there; other tenants may use the
 * same name). */
static inline lf_err lf_meta_app_create(lf_meta *m, int64_t tenant, const char *name,
                                        int64_t created, int64_t *id, lf_error *err)
{
    return m->ops->app_create(m, tenant, name, created, id, err);
}
static inline lf_err lf_meta_app_get(lf_meta *m, int64_t tenant, const char *name, lf_meta_app *out,
                                     lf_error *err)
{
    return m->ops->app_get(m, tenant, name, out, err);
}
/* Apps of `tenant` by id. */
static inline lf_err lf_meta_app_list(lf_meta *m, int64_t tenant, size_t limit,
                                      lf_meta_cursor cursor, lf_meta_app **out, size_t *count,
                                      lf_meta_cursor *next, lf_error *err)
{
    return m->ops->app_list(m, tenant, limit, cursor, out, count, next, err);
}

/* Store a credential: c->rec.kind says API key or token. API keys need a signing key (not all
 * zero) and scopes within LF_SCOPE_ALL; tokens have an all-zero signing key and scopes within
 * read|write|admin. Both need a non-zero scope set, an id text that parses and agrees with
 * rec.kind/region/id, and rec.app "" or an app that exists in c->tenant_id (else
 * LF_ERR_NOT_FOUND). LF_ERR_CONFLICT if the id text is taken. rec.revoked must be false. */
static inline lf_err lf_meta_credential_create(lf_meta *m, const lf_meta_credential *c,
                                               lf_error *err)
{
    return m->ops->credential_create(m, c, err);
}
/* The authentication lookup: the credential of `kind` whose id text is `id_text`, with its
 * tenant, verifier and signing key (revoked and expired ones too: lf_credential_check decides).
 * The caller wipes *out. */
static inline lf_err lf_meta_credential_lookup(lf_meta *m, lf_credential_kind kind,
                                               const char *id_text, lf_meta_credential *out,
                                               lf_error *err)
{
    return m->ops->credential_lookup(m, kind, id_text, out, err);
}
static inline lf_err lf_meta_credential_list(lf_meta *m, int64_t tenant, lf_credential_kind kind,
                                             size_t limit, lf_meta_cursor cursor,
                                             lf_meta_credential_info **out, size_t *count,
                                             lf_meta_cursor *next, lf_error *err)
{
    return m->ops->credential_list(m, tenant, kind, limit, cursor, out, count, next, err);
}
/* Mark revoked (idempotent). LF_ERR_NOT_FOUND unless it belongs to `tenant`. */
static inline lf_err lf_meta_credential_revoke(lf_meta *m, int64_t tenant, lf_credential_kind kind,
                                               const char *id_text, lf_error *err)
{
    return m->ops->credential_revoke(m, tenant, kind, id_text, err);
}

/* Register a customer public key (PEM, <= LF_META_PEM_MAX bytes) and make it the tenant's
 * active key; the previous active key stays, inactive. Registering a fingerprint the tenant
 * already has with the same PEM re-activates it; with a different PEM is LF_ERR_CONFLICT. The
 * caller computed `fingerprint` from the PEM. */
static inline lf_err lf_meta_pubkey_register(lf_meta *m, int64_t tenant, const char *pem,
                                             size_t pem_len,
                                             const uint8_t fingerprint[LF_META_FP_LEN],
                                             int64_t created, int64_t *id, lf_error *err)
{
    return m->ops->pubkey_register(m, tenant, pem, pem_len, fingerprint, created, id, err);
}
/* The active key (LF_ERR_NOT_FOUND if none). Release *out with lf_meta_pubkey_clear. */
static inline lf_err lf_meta_pubkey_get_active(lf_meta *m, int64_t tenant, lf_meta_pubkey *out,
                                               lf_error *err)
{
    return m->ops->pubkey_get_active(m, tenant, out, err);
}
static inline lf_err lf_meta_pubkey_get(lf_meta *m, int64_t tenant,
                                        const uint8_t fingerprint[LF_META_FP_LEN],
                                        lf_meta_pubkey *out, lf_error *err)
{
    return m->ops->pubkey_get(m, tenant, fingerprint, out, err);
}
static inline lf_err lf_meta_pubkey_list(lf_meta *m, int64_t tenant, size_t limit,
                                         lf_meta_cursor cursor, lf_meta_pubkey_info **out,
                                         size_t *count, lf_meta_cursor *next, lf_error *err)
{
    return m->ops->pubkey_list(m, tenant, limit, cursor, out, count, next, err);
}
/* Free k->pem and zero *k. NULL is a no-op. */
static inline void lf_meta_pubkey_clear(lf_meta_pubkey *k)
{
    if (!k)
        return;
    free(k->pem);
    *k = (lf_meta_pubkey){0};
}

/* Store a wrapped session key under (k->tenant_id, k->key_id). A key id the tenant already has
 * is LF_OK if every field but `created` is identical (a retried handshake or key frame) and
 * LF_ERR_CONFLICT otherwise. Key ids of different tenants never collide. */
static inline lf_err lf_meta_session_key_put(lf_meta *m, const lf_meta_session_key *k,
                                             lf_error *err)
{
    return m->ops->session_key_put(m, k, err);
}
static inline lf_err lf_meta_session_key_get(lf_meta *m, int64_t tenant, const char *key_id,
                                             lf_meta_session_key *out, lf_error *err)
{
    return m->ops->session_key_get(m, tenant, key_id, out, err);
}
/* Session keys of `tenant` matching `f` (NULL = all) in insertion order. */
static inline lf_err lf_meta_session_key_list(lf_meta *m, int64_t tenant,
                                              const lf_meta_session_key_filter *f, size_t limit,
                                              lf_meta_cursor cursor, lf_meta_session_key **out,
                                              size_t *count, lf_meta_cursor *next, lf_error *err)
{
    return m->ops->session_key_list(m, tenant, f, limit, cursor, out, count, next, err);
}

/* Record `n` (0..LF_META_LIST_MAX) Parquet files AND set checkpoint `stream` to `checkpoint`, in
 * one transaction: after a crash either all of it is visible or none. The checkpoint never goes
 * back (LF_ERR_CONFLICT if `checkpoint` < the stored one); every file's seq_last must be <=
 * `checkpoint`; each file's tenant must exist (LF_ERR_NOT_FOUND). ids (nullable, n entries)
 * receive the files' ids. LF_ERR_CONFLICT if a path is already recorded. */
static inline lf_err lf_meta_manifest_add(lf_meta *m, const lf_meta_file *files, size_t n,
                                          const char *stream, uint64_t checkpoint, int64_t *ids,
                                          lf_error *err)
{
    return m->ops->manifest_add(m, files, n, stream, checkpoint, ids, err);
}
static inline lf_err lf_meta_manifest_query(lf_meta *m, int64_t tenant, const lf_meta_file_query *q,
                                            size_t limit, lf_meta_cursor cursor, lf_meta_file **out,
                                            size_t *count, lf_meta_cursor *next, lf_error *err)
{
    return m->ops->manifest_query(m, tenant, q, limit, cursor, out, count, next, err);
}
/* Highest spool sequence durably in the manifest for `stream`; 0 if never set. */
static inline lf_err lf_meta_checkpoint_get(lf_meta *m, const char *stream, uint64_t *out,
                                            lf_error *err)
{
    return m->ops->checkpoint_get(m, stream, out, err);
}

/* Number of files and total bytes the manifest holds for `tenant` (quota checks). Both
 * nullable. */
static inline lf_err lf_meta_manifest_usage(lf_meta *m, int64_t tenant, uint64_t *files,
                                            uint64_t *bytes, lf_error *err)
{
    return m->ops->manifest_usage(m, tenant, files, bytes, err);
}
/* Forget file `id` of `tenant` (retention: after the object is deleted). LF_ERR_NOT_FOUND unless
 * it belongs to `tenant`. */
static inline lf_err lf_meta_manifest_remove(lf_meta *m, int64_t tenant, int64_t id, lf_error *err)
{
    return m->ops->manifest_remove(m, tenant, id, err);
}

/* Remember `resp` for (tenant, credential id text, idempotency key) unless an unexpired record
 * exists: then *existed = true and *stored is that record (answer the retry with it). An expired
 * record (expires <= now) is replaced. resp->expires must be > now. `stored` is nullable. */
static inline lf_err lf_meta_idem_put_if_absent(lf_meta *m, int64_t tenant, const char *credential,
                                                const char *key, const lf_meta_idem_response *resp,
                                                int64_t now, lf_meta_idem_response *stored,
                                                bool *existed, lf_error *err)
{
    return m->ops->idem_put_if_absent(m, tenant, credential, key, resp, now, stored, existed, err);
}
/* The unexpired record, or LF_ERR_NOT_FOUND. */
static inline lf_err lf_meta_idem_get(lf_meta *m, int64_t tenant, const char *credential,
                                      const char *key, int64_t now, lf_meta_idem_response *out,
                                      lf_error *err)
{
    return m->ops->idem_get(m, tenant, credential, key, now, out, err);
}
/* Delete every record with expires <= now; the number deleted goes to *purged (nullable). */
static inline lf_err lf_meta_idem_purge(lf_meta *m, int64_t now, uint64_t *purged, lf_error *err)
{
    return m->ops->idem_purge(m, now, purged, err);
}

/* Append e (its id is ignored; detail "" or valid JSON). The new id goes to *id (nullable). */
static inline lf_err lf_meta_audit_append(lf_meta *m, const lf_meta_audit_entry *e, int64_t *id,
                                          lf_error *err)
{
    return m->ops->audit_append(m, e, id, err);
}
/* Entries of `tenant` with time >= since, oldest first. */
static inline lf_err lf_meta_audit_list(lf_meta *m, int64_t tenant, int64_t since, size_t limit,
                                        lf_meta_cursor cursor, lf_meta_audit_entry **out,
                                        size_t *count, lf_meta_cursor *next, lf_error *err)
{
    return m->ops->audit_list(m, tenant, since, limit, cursor, out, count, next, err);
}

#ifdef __cplusplus
}
#endif
#endif

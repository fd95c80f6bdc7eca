/*
 * test_meta.c — the metadata store (src/server/meta/meta.h) through its SQLite backend: every
 * operation, tenant isolation (tenant B cannot reach A's rows by guessing names or ids),
 * idempotent and conflicting session-key puts, manifest + checkpoint atomicity under an
 * injected failure, 8 threads at once, reopening, migrations from an empty file and from an
 * older schema, file permissions, and a byte scan of the database proving that no credential
 * or secret is stored.
 *
 * Each test runs in its own mkdtemp directory, removed afterwards.
 */
#include "testutil.h"

#include <dirent.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include "logflux/buf.h"
#include "logflux/credentials.h"
#include "logflux/sign.h"
#include "meta/meta.h"

typedef struct fixture {
    char dir[64];
    char path[128];
    lf_meta *m;
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    if (!f)
        return -1;
    snprintf(f->dir, sizeof f->dir, "/tmp/lf-meta-XXXXXX");
    if (!mkdtemp(f->dir)) {
        free(f);
        return -1;
    }
    snprintf(f->path, sizeof f->path, "%s/meta.db", f->dir);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    lf_meta_close(f->m);
    DIR *d = opendir(f->dir);
    if (d) {
        struct dirent *de;
        char p[400];
        while ((de = readdir(d)) != NULL) {
            if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
                continue;
            snprintf(p, sizeof p, "%s/%s", f->dir, de->d_name);
            unlink(p);
        }
        closedir(d);
    }
    rmdir(f->dir);
    free(f);
    return 0;
}

static lf_meta *open_db(fixture *f)
{
    lf_error err = {0};
    lf_meta_close(f->m);
    f->m = NULL;
    lf_err rc = lf_meta_sqlite_open(f->path, NULL, &f->m, &err);
    if (rc != LF_OK)
        fail_msg("open: %s", err.message);
    return f->m;
}

static int64_t mk_tenant(lf_meta *m, const char *name)
{
    int64_t id = 0;
    lf_error err = {0};
    lf_err rc = lf_meta_tenant_create(m, name, LF_REGION_EU, 1000, &id, &err);
    if (rc != LF_OK)
        fail_msg("tenant_create: %s", err.message);
    assert_true(id > 0);
    return id;
}

static int64_t mk_app(lf_meta *m, int64_t tenant, const char *name)
{
    int64_t id = 0;
    assert_int_equal(lf_meta_app_create(m, tenant, name, 1001, &id, NULL), LF_OK);
    return id;
}

/* A real API key: the string goes to *key (caller wipes), its record to *c. */
static void mk_api_key(int64_t tenant, const char *app, uint32_t scopes,
                       char key[LF_CREDENTIAL_GENERATED_MAX + 1], lf_meta_credential *c)
{
    lf_credential parts;
    memset(c, 0, sizeof *c);
    assert_int_equal(lf_credential_generate(LF_CREDENTIAL_API_KEY, LF_REGION_EU, key, &parts, NULL),
                     LF_OK);
    assert_int_equal(
        lf_credential_record_init(key, strlen(key), scopes, app, 2000, 0, &c->rec, NULL), LF_OK);
    assert_int_equal(lf_sign_derive_key(key, strlen(key), c->signing_key, NULL), LF_OK);
    c->tenant_id = tenant;
    snprintf(c->id_text, sizeof c->id_text, "%s", parts.pub.text);
    snprintf(c->label, sizeof c->label, "ci key");
}

static void mk_pat(int64_t tenant, uint32_t scopes, char key[LF_CREDENTIAL_GENERATED_MAX + 1],
                   lf_meta_credential *c)
{
    lf_credential parts;
    memset(c, 0, sizeof *c);
    assert_int_equal(lf_credential_generate(LF_CREDENTIAL_PAT, LF_REGION_EU, key, &parts, NULL),
                     LF_OK);
    assert_int_equal(
        lf_credential_record_init(key, strlen(key), scopes, NULL, 2000, 9000, &c->rec, NULL),
        LF_OK);
    c->tenant_id = tenant;
    snprintf(c->id_text, sizeof c->id_text, "%s", parts.pub.text);
}

static void fill_fp(uint8_t fp[LF_META_FP_LEN], uint8_t seed)
{
    for (int i = 0; i < LF_META_FP_LEN; i++)
        fp[i] = (uint8_t)(seed + i);
}

static lf_meta_session_key mk_session_key(int64_t tenant, const char *app, const char *key_id,
                                          uint8_t seed, int64_t created)
{
    lf_meta_session_key k;
    memset(&k, 0, sizeof k);
    k.tenant_id = tenant;
    snprintf(k.app, sizeof k.app, "%s", app);
    snprintf(k.key_id, sizeof k.key_id, "%s", key_id);
    k.format = strlen(key_id) == 36 ? LF_META_KEY_V3 : LF_META_KEY_NATIVE;
    fill_fp(k.fingerprint, 7);
    k.wrapped_len = 512;
    for (size_t i = 0; i < k.wrapped_len; i++)
        k.wrapped[i] = (uint8_t)(seed ^ i);
    k.created = created;
    return k;
}

static lf_meta_file mk_file(int64_t tenant, const char *app, int n, int64_t ts_min, int64_t ts_max,
                            uint64_t seq_first, uint64_t seq_last)
{
    lf_meta_file f;
    memset(&f, 0, sizeof f);
    f.tenant_id = tenant;
    snprintf(f.app, sizeof f.app, "%s", app);
    snprintf(f.dt, sizeof f.dt, "2024-05-01");
    f.hour = 13;
    snprintf(f.path, sizeof f.path, "tenant=%lld/app=%s/dt=2024-05-01/hour=13/f%d.parquet",
             (long long)tenant, app, n);
    f.rows = 100 + (uint64_t)n;
    f.bytes = 4096;
    f.ts_min = ts_min;
    f.ts_max = ts_max;
    f.created = 5000;
    f.seq_first = seq_first;
    f.seq_last = seq_last;
    return f;
}

static int user_version_of(const char *path)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    int v = -1;
    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return v;
}

static void write_file(const char *path, const void *data, size_t len)
{
    FILE *fp = fopen(path, "wb");
    assert_non_null(fp);
    if (len)
        assert_int_equal(fwrite(data, 1, len, fp), len);
    fclose(fp);
}

/* ---------------- open and migrations ---------------- */

static void test_open_empty_file_and_permissions(void **state)
{
    fixture *f = *state;
    write_file(f->path, "", 0);
    chmod(f->path, 0644);
    lf_meta *m = open_db(f);
    assert_string_equal(m->ops->name, "sqlite");
    mk_tenant(m, "acme"); /* a write makes the WAL file exist */
    struct stat sb;
    assert_int_equal(stat(f->path, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0600);
    char wal[160];
    snprintf(wal, sizeof wal, "%s-wal", f->path);
    assert_int_equal(stat(wal, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0600);
    lf_meta_close(f->m);
    f->m = NULL;
    assert_int_equal(user_version_of(f->path), lf_meta_sqlite_schema_version());
    assert_true(lf_meta_sqlite_schema_version() >= 3);

    /* A fresh path is created 0600 as well. */
    char p2[160];
    snprintf(p2, sizeof p2, "%s/fresh.db", f->dir);
    lf_meta *m2 = NULL;
    assert_int_equal(lf_meta_sqlite_open(p2, NULL, &m2, NULL), LF_OK);
    assert_int_equal(stat(p2, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0600);
    lf_meta_close(m2);
}

static void test_open_refuses_garbage_and_newer(void **state)
{
    fixture *f = *state;
    lf_error err = {0};
    lf_meta *m = NULL;
    char junk[4096];
    memset(junk, 'x', sizeof junk);
    write_file(f->path, junk, sizeof junk);
    assert_int_equal(lf_meta_sqlite_open(f->path, NULL, &m, &err), LF_ERR_IO);
    assert_null(m);

    unlink(f->path);
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "PRAGMA user_version = 999", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    assert_int_equal(lf_meta_sqlite_open(f->path, NULL, &m, &err), LF_ERR_UNSUPPORTED);
    assert_non_null(strstr(err.message, "newer"));

    lf_meta_sqlite_options bad = {.pool_size = 65};
    assert_int_equal(lf_meta_sqlite_open(f->path, &bad, &m, NULL), LF_ERR_INVALID);
    assert_int_equal(lf_meta_sqlite_open(NULL, NULL, &m, NULL), LF_ERR_INVALID);
    char missing[160];
    snprintf(missing, sizeof missing, "%s/no/such/dir.db", f->dir);
    assert_int_equal(lf_meta_sqlite_open(missing, NULL, &m, NULL), LF_ERR_IO);
}

static void test_forward_migration(void **state)
{
    fixture *f = *state;
    lf_meta_sqlite_options v1 = {.max_version = 1};
    assert_int_equal(lf_meta_sqlite_open(f->path, &v1, &f->m, NULL), LF_OK);
    int64_t t = mk_tenant(f->m, "old");
    mk_app(f->m, t, "web");
    lf_meta_close(f->m);
    f->m = NULL;
    assert_int_equal(user_version_of(f->path), 1);

    lf_meta *m = open_db(f); /* migrates 1 -> latest, keeping the rows */
    assert_int_equal(user_version_of(f->path), lf_meta_sqlite_schema_version());
    lf_meta_app app;
    assert_int_equal(lf_meta_app_get(m, t, "web", &app, NULL), LF_OK);
    lf_meta_file file = mk_file(t, "web", 1, 10, 20, 1, 5);
    assert_int_equal(lf_meta_manifest_add(m, &file, 1, "spool", 5, NULL, NULL), LF_OK);
    lf_meta_audit_entry a = {.tenant_id = t, .action = "migrate", .time = 1};
    assert_int_equal(lf_meta_audit_append(m, &a, NULL, NULL), LF_OK);
    /* Opening a current database again changes nothing. */
    m = open_db(f);
    assert_int_equal(user_version_of(f->path), lf_meta_sqlite_schema_version());
}

/* ---------------- tenants and apps ---------------- */

static void test_tenants(void **state)
{
    fixture *f = *state;
    lf_meta *m = open_db(f);
    lf_error err = {0};
    int64_t a = mk_tenant(m, "acme");
    int64_t id = 0;
    assert_int_equal(lf_meta_tenant_create(m, "acme", LF_REGION_US, 1, &id, &err), LF_ERR_CONFLICT);
    assert_int_equal(lf_meta_tenant_create(m, "", LF_REGION_EU, 1, &id, NULL), LF_ERR_INVALID);
    assert_int_equal(lf_meta_tenant_create(m, "..", LF_REGION_EU, 1, &id, NULL), LF_ERR_INVALID);
    assert_int_equal(lf_meta_tenant_create(m, "a/b", LF_REGION_EU, 1, &id, NULL), LF_ERR_INVALID);
    assert_int_equal(lf_meta_tenant_create(m, "x", LF_REGION_NONE, 1, &id, NULL), LF_ERR_INVALID);
    assert_int_equal(lf_meta_tenant_create(m, "x", (lf_region)99, 1, &id, NULL), LF_ERR_INVALID);

    lf_meta_tenant t;
    assert_int_equal(lf_meta_tenant_get(m, a, &t, NULL), LF_OK);
    assert_string_equal(t.name, "acme");
    assert_int_equal(t.region, LF_REGION_EU);
    assert_int_equal(t.created, 1000);
    assert_false(t.settings.allow_bearer);
    assert_int_equal(t.settings.quota_bytes, 0);
    assert_int_equal(lf_meta_tenant_get(m, a + 100, &t, NULL), LF_ERR_NOT_FOUND);
    assert_int_equal(lf_meta_tenant_get_by_name(m, "nope", &t, NULL), LF_ERR_NOT_FOUND);

    lf_meta_tenant_settings s = {.allow_bearer = true,
                                 .rate_per_sec = 50,
                                 .rate_burst = 200,
                                 .quota_bytes = 1ull << 40,
                                 .retention_days = 30};
    assert_int_equal(lf_meta_tenant_set_settings(m, a, &s, NULL), LF_OK);
    assert_int_equal(lf_meta_tenant_get_by_name(m, "acme", &t, NULL), LF_OK);
    assert_int_equal(t.id, a);
    assert_true(t.settings.allow_bearer);
    assert_int_equal(t.settings.rate_per_sec, 50);
    assert_int_equal(t.settings.rate_burst, 200);
    assert_int_equal(t.settings.quota_bytes, 1ull << 40);
    assert_int_equal(t.settings.retention_days, 30);
    assert_int_equal(lf_meta_tenant_set_settings(m, a + 100, &s, NULL), LF_ERR_NOT_FOUND);
    s.quota_bytes = UINT64_MAX;
    assert_int_equal(lf_meta_tenant_set_settings(m, a, &s, NULL), LF_ERR_INVALID);
}

static void test_apps(void **state)
{
    fixture *f = *state;
    lf_meta *m = open_db(f);
    int64_t t = mk_tenant(m, "acme");
    const char *names[] = {"web", "api", "worker.v2", "cron_job", "db-1"};
    for (int i = 0; i < 5; i++)
        mk_app(m, t, names[i]);
    assert_int_equal(lf_meta_app_create(m, t, "web", 1, NULL, NULL), LF_ERR_CONFLICT);
    assert_int_equal(lf_meta_app_create(m, t, "bad name", 1, NULL, NULL), LF_ERR_INVALID);
    assert_int_equal(lf_meta_app_create(m, t + 50, "web", 1, NULL, NULL), LF_ERR_NOT_FOUND);

    lf_meta_app app;
    assert_int_equal(lf_meta_app_get(m, t, "api", &app, NULL), LF_OK);
    assert_string_equal(app.name, "api");
    assert_int_equal(app.tenant_id, t);
    assert_int_equal(app.created, 1001);
    assert_int_equal(lf_meta_app_get(m, t, "missing", &app, NULL), LF_ERR_NOT_FOUND);

    /* Page through with limit 2: 2 + 2 + 1, every name once, in creation order. */
    lf_meta_cursor cur = LF_META_CURSOR_START, next;
    int seen = 0;
    for (int page = 0; page < 10; page++) {
        lf_meta_app *list = NULL;
        size_t n = 0;
        assert_int_equal(lf_meta_app_list(m, t, 2, cur, &list, &n, &next, NULL), LF_OK);
        for (size_t i = 0; i < n; i++)
            assert_string_equal(list[i].name, names[seen++]);
        free(list);
        if (next.id == 0)
            break;
        assert_int_equal(n, 2);
        cur = next;
    }
    assert_int_equal(seen, 5);
    lf_meta_app *list = NULL;
    size_t n = 9;
    assert_int_equal(lf_meta_app_list(m, t, 0, cur, &list, &n, &next, NULL), LF_ERR_INVALID);
    assert_int_equal(lf_meta_app_list(m, t, LF_META_LIST_MAX + 1, cur, &list, &n, &next, NULL),
                     LF_ERR_INVALID);
}

/* ---------------- credentials ---------------- */

static void test_api_keys(void **state)
{
    fixture *f = *state;
    lf_meta *m = open_db(f);
    lf_error err = {0};
    int64_t t = mk_tenant(m, "acme");
    mk_app(m, t, "web");
    char key[LF_CREDENTIAL_GENERATED_MAX + 1];
    lf_meta_credential c, got;
    mk_api_key(t, "web", LF_SCOPE_INGEST, key, &c);
    assert_int_equal(lf_meta_credential_create(m, &c, &err), LF_OK);
    assert_int_equal(lf_meta_credential_create(m, &c, NULL), LF_ERR_CONFLICT);

    assert_int_equal(lf_meta_credential_lookup(m, LF_CREDENTIAL_API_KEY, c.id_text, &got, &err),
                     LF_OK);
    assert_int_equal(got.tenant_id, t);
    assert_string_equal(got.id_text, c.id_text);
    assert_memory_equal(got.rec.verifier, c.rec.verifier, LF_CREDENTIAL_VERIFIER_LEN);
    assert_memory_equal(got.signing_key, c.signing_key, LF_SIGN_KEY_LEN);
    assert_int_equal(got.rec.scopes, LF_SCOPE_INGEST);
    assert_string_equal(got.rec.app, "web");
    assert_int_equal(got.rec.kind, LF_CREDENTIAL_API_KEY);
    assert_int_equal(got.rec.region, LF_REGION_EU);
    assert_string_equal(got.rec.id, c.rec.id);
    assert_int_equal(got.rec.created, 2000);
    assert_int_equal(got.rec.expires, 0);
    assert_false(got.rec.revoked);
    assert_string_equal(got.label, "ci key");
    /* The looked-up record authenticates the real key, through the core's check. */
    assert_int_equal(
        lf_credential_check(&got.rec, key, strlen(key), 3000, LF_SCOPE_INGEST, "web", NULL), LF_OK);
    assert_int_equal(lf_meta_credential_lookup(m, LF_CREDENTIAL_PAT, c.id_text, &got, NULL),
                     LF_ERR_INVALID);
    assert_int_equal(
        lf_meta_credential_lookup(m, LF_CREDENTIAL_API_KEY, "eu-lf_0000000000000000", &got, NULL),
        LF_ERR_NOT_FOUND);
    assert_int_equal(lf_meta_credential_lookup(m, LF_CREDENTIAL_API_KEY, "junk", &got, NULL),
                     LF_ERR_INVALID);

    /* Unbound second key; a key bound to an app the tenant lacks is refused. */
    char key2[LF_CREDENTIAL_GENERATED_MAX + 1];
    lf_meta_credential c2;
    mk_api_key(t, NULL, LF_SCOPE_INGEST | LF_SCOPE_READ, key2, &c2);
    assert_int_equal(lf_meta_credential_create(m, &c2, NULL), LF_OK);
    char key3[LF_CREDENTIAL_GENERATED_MAX + 1];
    lf_meta_credential c3;
    mk_api_key(t, "nosuchapp", LF_SCOPE_INGEST, key3, &c3);
    assert_int_equal(lf_meta_credential_create(m, &c3, NULL), LF_ERR_NOT_FOUND);
    /* Malformed records. */
    lf_meta_credential bad = c3;
    bad.rec.app[0] = '\0';
    memset(bad.signing_key, 0, sizeof bad.signing_key);
    assert_int_equal(lf_meta_credential_create(m, &bad, NULL), LF_ERR_INVALID);
    bad = c3;
    bad.rec.app[0] = '\0';
    bad.id_text[7] = bad.id_text[7] == 'a' ? 'b' : 'a';
    assert_int_equal(lf_meta_credential_create(m, &bad, NULL), LF_ERR_INVALID);
    bad = c3;
    bad.rec.app[0] = '\0';
    bad.rec.scopes = 0;
    assert_int_equal(lf_meta_credential_create(m, &bad, NULL), LF_ERR_INVALID);
    bad = c3;
    bad.rec.app[0] = '\0';
    snprintf(bad.label, sizeof bad.label, "line\nbreak");
    assert_int_equal(lf_meta_credential_create(m, &bad, NULL), LF_ERR_INVALID);
    bad = c3;
    bad.rec.app[0] = '\0';
    bad.tenant_id = t + 77;
    assert_int_equal(lf_meta_credential_create(m, &bad, NULL), LF_ERR_NOT_FOUND);

    lf_meta_credential_info *list = NULL;
    size_t n = 0;
    lf_meta_cursor next;
    assert_int_equal(lf_meta_credential_list(m, t, LF_CREDENTIAL_API_KEY, 10, LF_META_CURSOR_START,
                                             &list, &n, &next, NULL),
                     LF_OK);
    assert_int_equal(n, 2);
    assert_int_equal(next.id, 0);
    assert_string_equal(list[0].id_text, c.id_text);
    assert_string_equal(list[0].app, "web");
    assert_int_equal(list[0].kind, LF_CREDENTIAL_API_KEY);
    assert_string_equal(list[1].id_text, c2.id_text);
    assert_string_equal(list[1].app, "");
    assert_int_equal(list[1].scopes, LF_SCOPE_INGEST | LF_SCOPE_READ);
    free(list);
    assert_int_equal(lf_meta_credential_list(m, t, LF_CREDENTIAL_PAT, 10, LF_META_CURSOR_START,
                                             &list, &n, &next, NULL),
                     LF_OK);
    assert_int_equal(n, 0);
    assert_null(list);

    assert_int_equal(lf_meta_credential_revoke(m, t, LF_CREDENTIAL_API_KEY, c.id_text, NULL),
                     LF_OK);
    assert_int_equal(lf_meta_credential_revoke(m, t, LF_CREDENTIAL_API_KEY, c.id_text, NULL),
                     LF_OK); /* idempotent */
    assert_int_equal(lf_meta_credential_lookup(m, LF_CREDENTIAL_API_KEY, c.id_text, &got, NULL),
                     LF_OK);
    assert_true(got.rec.revoked);
    assert_int_equal(lf_credential_check(&got.rec, key, strlen(key), 3000, 0, "web", NULL),
                     LF_ERR_AUTH);
    assert_int_equal(
        lf_meta_credential_revoke(m, t, LF_CREDENTIAL_API_KEY, "eu-lf_0000000000000000", NULL),
        LF_ERR_NOT_FOUND);
    lf_wipe(&got, sizeof got);
    lf_wipe(key, sizeof key);
    lf_wipe(key2, sizeof key2);
    lf_wipe(key3, sizeof key3);
}

static void test_pats(void **state)
{
    fixture *f = *state;
    lf_meta *m = open_db(f);
    int64_t t = mk_tenant(m, "acme");
    char key[LF_CREDENTIAL_GENERATED_MAX + 1];
    lf_meta_credential c, got;
    mk_pat(t, LF_SCOPE_READ | LF_SCOPE_WRITE, key, &c);
    assert_int_equal(lf_meta_credential_create(m, &c, NULL), LF_OK);
    assert_int_equal(lf_meta_credential_lookup(m, LF_CREDENTIAL_PAT, c.id_text, &got, NULL), LF_OK);
    assert_int_equal(got.rec.kind, LF_CREDENTIAL_PAT);
    assert_int_equal(got.rec.scopes, LF_SCOPE_READ | LF_SCOPE_WRITE);
    assert_int_equal(got.rec.expires, 9000);
    uint8_t zero[LF_SIGN_KEY_LEN] = {0};
    assert_memory_equal(got.signing_key, zero, sizeof zero);
    assert_int_equal(
        lf_credential_check(&got.rec, key, strlen(key), 3000, LF_SCOPE_READ, NULL, NULL), LF_OK);
    assert_int_equal(
        lf_credential_check(&got.rec, key, strlen(key), 9000, LF_SCOPE_READ, NULL, NULL),
        LF_ERR_EXPIRED);
    assert_int_equal(lf_meta_credential_lookup(m, LF_CREDENTIAL_API_KEY, c.id_text, &got, NULL),
                     LF_ERR_INVALID);

    /* A token never has a signing key nor the ingest scope. */
    char key2[LF_CREDENTIAL_GENERATED_MAX + 1];
    lf_meta_credential c2;
    mk_pat(t, LF_SCOPE_ADMIN, key2, &c2);
    lf_meta_credential bad = c2;
    bad.signing_key[0] = 1;
    assert_int_equal(lf_meta_credential_create(m, &bad, NULL), LF_ERR_INVALID);
    bad = c2;
    bad.rec.scopes = LF_SCOPE_INGEST;
    assert_int_equal(lf_meta_credential_create(m, &bad, NULL), LF_ERR_INVALID);
    assert_int_equal(lf_meta_credential_create(m, &c2, NULL), LF_OK);

    lf_meta_credential_info *list = NULL;
    size_t n = 0;
    lf_meta_cursor next;
    assert_int_equal(lf_meta_credential_list(m, t, LF_CREDENTIAL_PAT, 1, LF_META_CURSOR_START,
                                             &list, &n, &next, NULL),
                     LF_OK);
    assert_int_equal(n, 1);
    assert_string_equal(list[0].id_text, c.id_text);
    assert_int_equal(list[0].kind, LF_CREDENTIAL_PAT);
    assert_true(next.id != 0);
    free(list);
    assert_int_equal(
        lf_meta_credential_list(m, t, LF_CREDENTIAL_PAT, 1, next, &list, &n, &next, NULL), LF_OK);
    assert_int_equal(n, 1);
    assert_string_equal(list[0].id_text, c2.id_text);
    assert_int_equal(list[0].scopes, LF_SCOPE_ADMIN);
    assert_int_equal(next.id, 0);
    free(list);

    assert_int_equal(lf_meta_credential_revoke(m, t, LF_CREDENTIAL_PAT, c2.id_text, NULL), LF_OK);
    assert_int_equal(lf_meta_credential_lookup(m, LF_CREDENTIAL_PAT, c2.id_text, &got, NULL),
                     LF_OK);
    assert_true(got.rec.revoked);
    lf_wipe(key, sizeof key);
    lf_wipe(key2, sizeof key2);
}

/* ---------------- customer public keys ---------------- */

static const char PEM_A[] = "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n";
static const char PEM_B[] = "-----BEGIN PUBLIC KEY-----\nBBBB\n-----END PUBLIC KEY-----\n";

static void test_pubkeys(void **state)
{
    fixture *f = *state;
    lf_meta *m = open_db(f);
    int64_t t = mk_tenant(m, "acme");
    uint8_t fa[LF_META_FP_LEN], fb[LF_META_FP_LEN];
    fill_fp(fa, 1);
    fill_fp(fb, 2);
    lf_meta_pubkey k = {0};
    assert_int_equal(lf_meta_pubkey_get_active(m, t, &k, NULL), LF_ERR_NOT_FOUND);

    int64_t ida = 0, idb = 0, id = 0;
    assert_int_equal(lf_meta_pubkey_register(m, t, PEM_A, strlen(PEM_A), fa, 10, &ida, NULL),
                     LF_OK);
    assert_int_equal(lf_meta_pubkey_get_active(m, t, &k, NULL), LF_OK);
    assert_int_equal(k.id, ida);
    assert_string_equal(k.pem, PEM_A);
    assert_int_equal(k.pem_len, strlen(PEM_A));
    assert_true(k.active);
    assert_memory_equal(k.fingerprint, fa, LF_META_FP_LEN);
    lf_meta_pubkey_clear(&k);

    /* Rotation: B becomes active, A stays, inactive. */
    assert_int_equal(lf_meta_pubkey_register(m, t, PEM_B, strlen(PEM_B), fb, 20, &idb, NULL),
                     LF_OK);
    assert_true(idb != ida);
    assert_int_equal(lf_meta_pubkey_get_active(m, t, &k, NULL), LF_OK);
    assert_int_equal(k.id, idb);
    lf_meta_pubkey_clear(&k);
    assert_int_equal(lf_meta_pubkey_get(m, t, fa, &k, NULL), LF_OK);
    assert_false(k.active);
    assert_string_equal(k.pem, PEM_A);
    assert_int_equal(k.created, 10);
    lf_meta_pubkey_clear(&k);

    lf_meta_pubkey_info *list = NULL;
    size_t n = 0;
    lf_meta_cursor next;
    assert_int_equal(lf_meta_pubkey_list(m, t, 10, LF_META_CURSOR_START, &list, &n, &next, NULL),
                     LF_OK);
    assert_int_equal(n, 2);
    assert_int_equal(list[0].id, ida);
    assert_false(list[0].active);
    assert_int_equal(list[1].id, idb);
    assert_true(list[1].active);
    free(list);

    /* Re-registering A re-activates it; the same fingerprint with another PEM conflicts. */
    assert_int_equal(lf_meta_pubkey_register(m, t, PEM_A, strlen(PEM_A), fa, 30, &id, NULL), LF_OK);
    assert_int_equal(id, ida);
    assert_int_equal(lf_meta_pubkey_get_active(m, t, &k, NULL), LF_OK);
    assert_int_equal(k.id, ida);
    lf_meta_pubkey_clear(&k);
    assert_int_equal(lf_meta_pubkey_register(m, t, PEM_B, strlen(PEM_B), fa, 30, &id, NULL),
                     LF_ERR_CONFLICT);
    assert_int_equal(lf_meta_pubkey_get_active(m, t, &k, NULL), LF_OK);
    assert_int_equal(k.id, ida); /* the failed register rolled back */
    lf_meta_pubkey_clear(&k);

    uint8_t zero[LF_META_FP_LEN] = {0}, fc[LF_META_FP_LEN];
    fill_fp(fc, 3);
    assert_int_equal(lf_meta_pubkey_register(m, t, PEM_A, strlen(PEM_A), zero, 1, &id, NULL),
                     LF_ERR_INVALID);
    assert_int_equal(lf_meta_pubkey_register(m, t, PEM_A, 0, fc, 1, &id, NULL), LF_ERR_INVALID);
    assert_int_equal(lf_meta_pubkey_register(m, t, PEM_A, LF_META_PEM_MAX + 1, fc, 1, &id, NULL),
                     LF_ERR_INVALID);
    assert_int_equal(lf_meta_pubkey_register(m, t + 9, PEM_A, strlen(PEM_A), fc, 1, &id, NULL),
                     LF_ERR_NOT_FOUND);
    assert_int_equal(lf_meta_pubkey_get(m, t, fc, &k, NULL), LF_ERR_NOT_FOUND);
    assert_null(k.pem);
}

/* ---------------- session keys ---------------- */

#define UUID1 "3F2504E0-4F89-41D3-9A0C-0305E82C3301"
#define UUID2 "9b2c5a2e-0c1d-4e8f-a1b2-c3d4e5f60718"
#define NAT1  "00112233445566778899aabbccddeeff"

static void test_session_keys(void **state)
{
    fixture *f = *state;
    lf_meta *m = open_db(f);
    lf_error err = {0};
    int64_t t = mk_tenant(m, "acme");
    lf_meta_session_key k1 = mk_session_key(t, "web", UUID1, 1, 100);
    lf_meta_session_key k2 = mk_session_key(t, "api", NAT1, 2, 200);
    lf_meta_session_key k3 = mk_session_key(t, "web", UUID2, 3, 300);
    assert_int_equal(lf_meta_session_key_put(m, &k1, &err), LF_OK);
    assert_int_equal(lf_meta_session_key_put(m, &k2, NULL), LF_OK);
    assert_int_equal(lf_meta_session_key_put(m, &k3, NULL), LF_OK);

    /* Identical again (a retried handshake, even later): OK. Different content: conflict,
     * whether it is the bytes, the app, the fingerprint, or the id's letter case that differs
     * only in spelling (the same id). */
    lf_meta_session_key again = k1;
    again.created = 999;
    assert_int_equal(lf_meta_session_key_put(m, &again, NULL), LF_OK);
    lf_meta_session_key lower_id = k1;
    for (char *p = lower_id.key_id; *p; p++)
        if (*p >= 'A' && *p <= 'Z')
            *p = (char)(*p - 'A' + 'a');
    assert_int_equal(lf_meta_session_key_put(m, &lower_id, NULL), LF_OK);
    lf_meta_session_key diff = k1;
    diff.wrapped[5] ^= 1;
    assert_int_equal(lf_meta_session_key_put(m, &diff, &err), LF_ERR_CONFLICT);
    diff = k1;
    diff.wrapped_len--;
    assert_int_equal(lf_meta_session_key_put(m, &diff, NULL), LF_ERR_CONFLICT);
    diff = k1;
    snprintf(diff.app, sizeof diff.app, "api");
    assert_int_equal(lf_meta_session_key_put(m, &diff, NULL), LF_ERR_CONFLICT);
    diff = k1;
    diff.fingerprint[0] ^= 1;
    assert_int_equal(lf_meta_session_key_put(m, &diff, NULL), LF_ERR_CONFLICT);

    lf_meta_session_key got;
    assert_int_equal(lf_meta_session_key_get(m, t, UUID1, &got, NULL), LF_OK);
    assert_string_equal(got.key_id, "3f2504e0-4f89-41d3-9a0c-0305e82c3301");
    assert_int_equal(got.format, LF_META_KEY_V3);
    assert_int_equal(got.created, 100);
    assert_int_equal(got.wrapped_len, 512);
    assert_memory_equal(got.wrapped, k1.wrapped, 512);
    assert_memory_equal(got.fingerprint, k1.fingerprint, LF_META_FP_LEN);
    assert_string_equal(got.app, "web");
    assert_int_equal(lf_meta_session_key_get(m, t, NAT1, &got, NULL), LF_OK);
    assert_int_equal(got.format, LF_META_KEY_NATIVE);
    assert_int_equal(lf_meta_session_key_get(m, t, "ffffffffffffffffffffffffffffffff", &got, NULL),
                     LF_ERR_NOT_FOUND);

    /* Malformed puts. */
    lf_meta_session_key bad = k1;
    bad.format = LF_META_KEY_NATIVE;
    assert_int_equal(lf_meta_session_key_put(m, &bad, NULL), LF_ERR_INVALID);
    bad = k1;
    snprintf(bad.key_id, sizeof bad.key_id, "3f2504e0_4f89-41d3-9a0c-0305e82c3301");
    assert_int_equal(lf_meta_session_key_put(m, &bad, NULL), LF_ERR_INVALID);
    bad = k2;
    snprintf(bad.key_id, sizeof bad.key_id, "0011223344556677");
    assert_int_equal(lf_meta_session_key_put(m, &bad, NULL), LF_ERR_INVALID);
    bad = k2;
    bad.wrapped_len = 0;
    assert_int_equal(lf_meta_session_key_put(m, &bad, NULL), LF_ERR_INVALID);
    bad.wrapped_len = LF_META_WRAPPED_MAX + 1;
    assert_int_equal(lf_meta_session_key_put(m, &bad, NULL), LF_ERR_INVALID);
    bad = mk_session_key(t + 40, "web", "ffffffffffffffffffffffffffffffff", 1, 1);
    assert_int_equal(lf_meta_session_key_put(m, &bad, NULL), LF_ERR_NOT_FOUND);

    /* Lists: all, by app, by created range, paged. */
    lf_meta_session_key *list = NULL;
    size_t n = 0;
    lf_meta_cursor next;
    assert_int_equal(
        lf_meta_session_key_list(m, t, NULL, 10, LF_META_CURSOR_START, &list, &n, &next, NULL),
        LF_OK);
    assert_int_equal(n, 3);
    free(list);
    lf_meta_session_key_filter fw = {.app = "web"};
    assert_int_equal(
        lf_meta_session_key_list(m, t, &fw, 1, LF_META_CURSOR_START, &list, &n, &next, NULL),
        LF_OK);
    assert_int_equal(n, 1);
    assert_int_equal(list[0].created, 100);
    free(list);
    assert_int_equal(lf_meta_session_key_list(m, t, &fw, 1, next, &list, &n, &next, NULL), LF_OK);
    assert_int_equal(n, 1);
    assert_int_equal(list[0].created, 300);
    assert_int_equal(next.id, 0);
    free(list);
    lf_meta_session_key_filter fr = {.created_from = 150, .created_to = 300};
    assert_int_equal(
        lf_meta_session_key_list(m, t, &fr, 10, LF_META_CURSOR_START, &list, &n, &next, NULL),
        LF_OK);
    assert_int_equal(n, 2);
    assert_string_equal(list[0].key_id, NAT1);
    assert_string_equal(list[1].key_id, UUID2);
    free(list);
    lf_meta_session_key_filter fbad = {.created_from = 5, .created_to = 4};
    assert_int_equal(
        lf_meta_session_key_list(m, t, &fbad, 10, LF_META_CURSOR_START, &list, &n, &next, NULL),
        LF_ERR_INVALID);
}

/* ---------------- manifest ---------------- */

static size_t query_count(lf_meta *m, int64_t t, const char *app, int64_t from, int64_t to)
{
    lf_meta_file_query q = {.app = app, .ts_from = from, .ts_to = to, .order = LF_META_ASC};
    lf_meta_file *list = NULL;
    size_t n = 0;
    lf_meta_cursor next;
    assert_int_equal(lf_meta_manifest_query(m, t, &q, LF_META_LIST_MAX, LF_META_CURSOR_START, &list,
                                            &n, &next, NULL),
                     LF_OK);
    free(list);
    return n;
}

static void test_manifest(void **state)
{
    fixture *f = *state;
    lf_meta *m = open_db(f);
    lf_error err = {0};
    int64_t t = mk_tenant(m, "acme");
    uint64_t cp = 99;
    assert_int_equal(lf_meta_checkpoint_get(m, "spool", &cp, NULL), LF_OK);
    assert_int_equal(cp, 0);

    lf_meta_file files[3] = {mk_file(t, "web", 1, 100, 200, 1, 10),
                             mk_file(t, "api", 2, 150, 160, 11, 20),
                             mk_file(t, "web", 3, 300, 400, 21, 30)};
    int64_t ids[3] = {0};
    assert_int_equal(lf_meta_manifest_add(m, files, 3, "spool", 30, ids, &err), LF_OK);
    assert_true(ids[0] > 0 && ids[1] > ids[0] && ids[2] > ids[1]);
    assert_int_equal(lf_meta_checkpoint_get(m, "spool", &cp, NULL), LF_OK);
    assert_int_equal(cp, 30);

    /* Overlap semantics: a file counts if [ts_min, ts_max] meets [from, to]. */
    assert_int_equal(query_count(m, t, NULL, 0, 1000), 3);
    assert_int_equal(query_count(m, t, NULL, 200, 299), 1); /* touches file 1 at 200 */
    assert_int_equal(query_count(m, t, NULL, 155, 155), 2); /* inside 1 and 2 */
    assert_int_equal(query_count(m, t, NULL, 201, 299), 0); /* the gap */
    assert_int_equal(query_count(m, t, "web", 0, 1000), 2);
    assert_int_equal(query_count(m, t, "nope", 0, 1000), 0);

    /* Full row round trip. */
    lf_meta_file_query q = {.ts_from = 0, .ts_to = 1000, .order = LF_META_ASC};
    lf_meta_file *list = NULL;
    size_t n = 0;
    lf_meta_cursor next;
    assert_int_equal(
        lf_meta_manifest_query(m, t, &q, 1, LF_META_CURSOR_START, &list, &n, &next, NULL), LF_OK);
    assert_int_equal(n, 1);
    assert_int_equal(list[0].id, ids[0]);
    assert_string_equal(list[0].path, files[0].path);
    assert_string_equal(list[0].app, "web");
    assert_string_equal(list[0].dt, "2024-05-01");
    assert_int_equal(list[0].hour, 13);
    assert_int_equal(list[0].rows, 101);
    assert_int_equal(list[0].bytes, 4096);
    assert_int_equal(list[0].seq_first, 1);
    assert_int_equal(list[0].seq_last, 10);
    assert_int_equal(list[0].created, 5000);
    free(list);
    /* Page ascending: 100 (f1), 150 (f2), 300 (f3). */
    int64_t order_asc[3] = {ids[0], ids[1], ids[2]};
    lf_meta_cursor cur = LF_META_CURSOR_START;
    for (int i = 0; i < 3; i++) {
        assert_int_equal(lf_meta_manifest_query(m, t, &q, 1, cur, &list, &n, &next, NULL), LF_OK);
        assert_int_equal(n, 1);
        assert_int_equal(list[0].id, order_asc[i]);
        free(list);
        cur = next;
    }
    assert_int_equal(cur.id, 0);
    q.order = LF_META_DESC;
    cur = LF_META_CURSOR_START;
    for (int i = 2; i >= 0; i--) {
        assert_int_equal(lf_meta_manifest_query(m, t, &q, 1, cur, &list, &n, &next, NULL), LF_OK);
        assert_int_equal(n, 1);
        assert_int_equal(list[0].id, order_asc[i]);
        free(list);
        cur = next;
    }
    assert_int_equal(cur.id, 0);

    /* The checkpoint never goes back; files must lie within it; a path is recorded once and a
     * failed add changes nothing. */
    lf_meta_file more = mk_file(t, "web", 4, 500, 600, 31, 40);
    lf_meta_file old = mk_file(t, "web", 5, 500, 600, 25, 29);
    assert_int_equal(lf_meta_manifest_add(m, &old, 1, "spool", 29, NULL, NULL), LF_ERR_CONFLICT);
    assert_int_equal(lf_meta_manifest_add(m, NULL, 0, "spool", 29, NULL, NULL), LF_ERR_CONFLICT);
    assert_int_equal(lf_meta_manifest_add(m, &more, 1, "spool", 39, NULL, NULL), LF_ERR_INVALID);
    lf_meta_file two[2] = {more, files[0]};
    assert_int_equal(lf_meta_manifest_add(m, two, 2, "spool", 40, NULL, &err), LF_ERR_CONFLICT);
    assert_int_equal(query_count(m, t, NULL, 0, 1000), 3);
    assert_int_equal(lf_meta_checkpoint_get(m, "spool", &cp, NULL), LF_OK);
    assert_int_equal(cp, 30);
    /* Advancing the checkpoint alone (records that made no file, e.g. all dropped). */
    assert_int_equal(lf_meta_manifest_add(m, NULL, 0, "spool", 35, NULL, NULL), LF_OK);
    assert_int_equal(lf_meta_checkpoint_get(m, "spool", &cp, NULL), LF_OK);
    assert_int_equal(cp, 35);

    lf_meta_file bad = more;
    snprintf(bad.path, sizeof bad.path, "tenant=1/../../etc/passwd");
    assert_int_equal(lf_meta_manifest_add(m, &bad, 1, "spool", 40, NULL, NULL), LF_ERR_INVALID);
    bad = more;
    snprintf(bad.path, sizeof bad.path, "/abs/path.parquet");
    assert_int_equal(lf_meta_manifest_add(m, &bad, 1, "spool", 40, NULL, NULL), LF_ERR_INVALID);
    bad = more;
    bad.hour = 24;
    assert_int_equal(lf_meta_manifest_add(m, &bad, 1, "spool", 40, NULL, NULL), LF_ERR_INVALID);
    bad = more;
    snprintf(bad.dt, sizeof bad.dt, "2024-13-01");
    assert_int_equal(lf_meta_manifest_add(m, &bad, 1, "spool", 40, NULL, NULL), LF_ERR_INVALID);
    bad = more;
    bad.ts_min = bad.ts_max + 1;
    assert_int_equal(lf_meta_manifest_add(m, &bad, 1, "spool", 40, NULL, NULL), LF_ERR_INVALID);
    bad = more;
    bad.tenant_id = t + 5;
    assert_int_equal(lf_meta_manifest_add(m, &bad, 1, "spool", 40, NULL, NULL), LF_ERR_NOT_FOUND);
    assert_int_equal(lf_meta_manifest_add(m, &more, 1, "bad stream", 40, NULL, NULL),
                     LF_ERR_INVALID);
    q.ts_from = 10;
    q.ts_to = 5;
    assert_int_equal(
        lf_meta_manifest_query(m, t, &q, 1, LF_META_CURSOR_START, &list, &n, &next, NULL),
        LF_ERR_INVALID);
    assert_int_equal(lf_meta_manifest_add(m, &more, 1, "spool", 40, NULL, NULL), LF_OK);
    assert_int_equal(query_count(m, t, NULL, 0, 1000), 4);

    /* Usage for quotas; removal for retention. */
    uint64_t nfiles = 0, nbytes = 0;
    assert_int_equal(lf_meta_manifest_usage(m, t, &nfiles, &nbytes, NULL), LF_OK);
    assert_int_equal(nfiles, 4);
    assert_int_equal(nbytes, 4 * 4096);
    assert_int_equal(lf_meta_manifest_remove(m, t, ids[1], NULL), LF_OK);
    assert_int_equal(lf_meta_manifest_remove(m, t, ids[1], NULL), LF_ERR_NOT_FOUND);
    assert_int_equal(query_count(m, t, NULL, 0, 1000), 3);
    assert_int_equal(lf_meta_manifest_usage(m, t, &nfiles, &nbytes, NULL), LF_OK);
    assert_int_equal(nfiles, 3);
    assert_int_equal(lf_meta_manifest_usage(m, t + 99, &nfiles, &nbytes, NULL), LF_OK);
    assert_int_equal(nfiles, 0);
    assert_int_equal(nbytes, 0);
}

static void test_manifest_checkpoint_atomic(void **state)
{
    fixture *f = *state;
    lf_meta *m = open_db(f);
    lf_error err = {0};
    int64_t t = mk_tenant(m, "acme");
    lf_meta_file a = mk_file(t, "web", 1, 100, 200, 1, 10);
    assert_int_equal(lf_meta_manifest_add(m, &a, 1, "spool", 10, NULL, NULL), LF_OK);

    /* Fail after the files are inserted, before the checkpoint: neither is visible. */
    lf_meta_file b[2] = {mk_file(t, "web", 2, 300, 400, 11, 20),
                         mk_file(t, "api", 3, 300, 400, 21, 25)};
    lf_meta_sqlite_test_fail_next_manifest_add(m);
    assert_int_equal(lf_meta_manifest_add(m, b, 2, "spool", 25, NULL, &err), LF_ERR_IO);
    assert_non_null(strstr(err.message, "injected"));
    uint64_t cp = 0;
    assert_int_equal(lf_meta_checkpoint_get(m, "spool", &cp, NULL), LF_OK);
    assert_int_equal(cp, 10);
    assert_int_equal(query_count(m, t, NULL, 0, 1000), 1);
    /* ... also after a restart (nothing half-committed on disk). */
    m = open_db(f);
    assert_int_equal(lf_meta_checkpoint_get(m, "spool", &cp, NULL), LF_OK);
    assert_int_equal(cp, 10);
    assert_int_equal(query_count(m, t, NULL, 0, 1000), 1);

    /* The worker redoes the step: now both are visible together. */
    assert_int_equal(lf_meta_manifest_add(m, b, 2, "spool", 25, NULL, NULL), LF_OK);
    assert_int_equal(lf_meta_checkpoint_get(m, "spool", &cp, NULL), LF_OK);
    assert_int_equal(cp, 25);
    assert_int_equal(query_count(m, t, NULL, 0, 1000), 3);
}

/* ---------------- idempotency ---------------- */

#define IDEM_KEY "batch-0001-abcdefgh"

static void test_idempotency(void **state)
{
    fixture *f = *state;
    lf_meta *m = open_db(f);
    int64_t t = mk_tenant(m, "acme");
    const char *cred = "eu-lf_0123456789abcdef";
    lf_meta_idem_response r1 = {.status = 202, .created = 100, .expires = 200};
    r1.body_len = (size_t)snprintf((char *)r1.body, sizeof r1.body, "{\"accepted\":3}");
    lf_meta_idem_response r2 = {.status = 500, .created = 150, .expires = 250};
    r2.body_len = (size_t)snprintf((char *)r2.body, sizeof r2.body, "{\"other\":1}");
    lf_meta_idem_response stored;
    bool existed = true;

    assert_int_equal(lf_meta_idem_get(m, t, cred, IDEM_KEY, 100, &stored, NULL), LF_ERR_NOT_FOUND);
    assert_int_equal(
        lf_meta_idem_put_if_absent(m, t, cred, IDEM_KEY, &r1, 100, &stored, &existed, NULL), LF_OK);
    assert_false(existed);
    assert_int_equal(stored.status, 202);
    /* A retry is answered with the first response, not the new one. */
    assert_int_equal(
        lf_meta_idem_put_if_absent(m, t, cred, IDEM_KEY, &r2, 150, &stored, &existed, NULL), LF_OK);
    assert_true(existed);
    assert_int_equal(stored.status, 202);
    assert_int_equal(stored.body_len, r1.body_len);
    assert_memory_equal(stored.body, r1.body, r1.body_len);
    assert_int_equal(stored.expires, 200);
    assert_int_equal(lf_meta_idem_get(m, t, cred, IDEM_KEY, 199, &stored, NULL), LF_OK);
    assert_int_equal(stored.status, 202);
    /* Same key, other credential: separate. */
    assert_int_equal(lf_meta_idem_put_if_absent(m, t, "eu-lf_1111111111111111", IDEM_KEY, &r2, 150,
                                                NULL, &existed, NULL),
                     LF_OK);
    assert_false(existed);

    /* Expired at 200: gone for get, replaced by a new put. */
    assert_int_equal(lf_meta_idem_get(m, t, cred, IDEM_KEY, 200, &stored, NULL), LF_ERR_NOT_FOUND);
    assert_int_equal(
        lf_meta_idem_put_if_absent(m, t, cred, IDEM_KEY, &r2, 200, &stored, &existed, NULL), LF_OK);
    assert_false(existed);
    assert_int_equal(lf_meta_idem_get(m, t, cred, IDEM_KEY, 201, &stored, NULL), LF_OK);
    assert_int_equal(stored.status, 500);

    uint64_t purged = 9;
    assert_int_equal(lf_meta_idem_purge(m, 249, &purged, NULL), LF_OK);
    assert_int_equal(purged, 0);
    assert_int_equal(lf_meta_idem_purge(m, 250, &purged, NULL), LF_OK);
    assert_int_equal(purged, 2);

    /* Bad arguments. */
    assert_int_equal(
        lf_meta_idem_put_if_absent(m, t, cred, "short", &r1, 100, NULL, &existed, NULL),
        LF_ERR_INVALID);
    assert_int_equal(lf_meta_idem_put_if_absent(m, t, cred, "has space in it!!!", &r1, 100, NULL,
                                                &existed, NULL),
                     LF_ERR_INVALID);
    assert_int_equal(
        lf_meta_idem_put_if_absent(m, t, "nobody", IDEM_KEY, &r1, 100, NULL, &existed, NULL),
        LF_ERR_INVALID);
    assert_int_equal(
        lf_meta_idem_put_if_absent(m, t, cred, IDEM_KEY, &r1, 300, NULL, &existed, NULL),
        LF_ERR_INVALID); /* already expired */
    lf_meta_idem_response big = r1;
    big.body_len = LF_META_IDEM_BODY_MAX + 1;
    assert_int_equal(
        lf_meta_idem_put_if_absent(m, t, cred, IDEM_KEY, &big, 100, NULL, &existed, NULL),
        LF_ERR_INVALID);
    assert_int_equal(
        lf_meta_idem_put_if_absent(m, t + 3, cred, IDEM_KEY, &r1, 100, NULL, &existed, NULL),
        LF_ERR_NOT_FOUND);
}

/* ---------------- audit ---------------- */

static void test_audit(void **state)
{
    fixture *f = *state;
    lf_meta *m = open_db(f);
    int64_t t = mk_tenant(m, "acme");
    int64_t ids[5];
    for (int i = 0; i < 5; i++) {
        lf_meta_audit_entry e = {.tenant_id = t, .time = 100 + i};
        snprintf(e.actor, sizeof e.actor, "eu-lf_usr_0123456789abcdef");
        snprintf(e.action, sizeof e.action, "query");
        snprintf(e.object, sizeof e.object, "app=web");
        snprintf(e.detail, sizeof e.detail, "{\"from\":%d,\"to\":%d}", i, i + 10);
        snprintf(e.request_id, sizeof e.request_id, "req-%d", i);
        assert_int_equal(lf_meta_audit_append(m, &e, &ids[i], NULL), LF_OK);
    }
    lf_meta_audit_entry *list = NULL;
    size_t n = 0;
    lf_meta_cursor next;
    assert_int_equal(lf_meta_audit_list(m, t, 102, 2, LF_META_CURSOR_START, &list, &n, &next, NULL),
                     LF_OK);
    assert_int_equal(n, 2);
    assert_int_equal(list[0].id, ids[2]);
    assert_int_equal(list[0].time, 102);
    assert_string_equal(list[0].actor, "eu-lf_usr_0123456789abcdef");
    assert_string_equal(list[0].action, "query");
    assert_string_equal(list[0].object, "app=web");
    assert_string_equal(list[0].detail, "{\"from\":2,\"to\":12}");
    assert_string_equal(list[0].request_id, "req-2");
    assert_int_equal(list[1].id, ids[3]);
    free(list);
    assert_int_equal(lf_meta_audit_list(m, t, 102, 2, next, &list, &n, &next, NULL), LF_OK);
    assert_int_equal(n, 1);
    assert_int_equal(list[0].id, ids[4]);
    assert_int_equal(next.id, 0);
    free(list);

    lf_meta_audit_entry bad = {.tenant_id = t, .time = 1};
    snprintf(bad.action, sizeof bad.action, "query");
    snprintf(bad.detail, sizeof bad.detail, "{not json");
    assert_int_equal(lf_meta_audit_append(m, &bad, NULL, NULL), LF_ERR_INVALID);
    bad.detail[0] = '\0';
    snprintf(bad.actor, sizeof bad.actor, "someone");
    assert_int_equal(lf_meta_audit_append(m, &bad, NULL, NULL), LF_ERR_INVALID);
    bad.actor[0] = '\0';
    snprintf(bad.action, sizeof bad.action, "DROP TABLE");
    assert_int_equal(lf_meta_audit_append(m, &bad, NULL, NULL), LF_ERR_INVALID);
    snprintf(bad.action, sizeof bad.action, "system.start");
    bad.tenant_id = t + 1;
    assert_int_equal(lf_meta_audit_append(m, &bad, NULL, NULL), LF_ERR_NOT_FOUND);
    bad.tenant_id = t;
    assert_int_equal(lf_meta_audit_append(m, &bad, NULL, NULL), LF_OK);

    /* The table is append-only even for someone with SQL access through SQLite. */
    lf_meta_close(f->m);
    f->m = NULL;
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
    assert_int_not_equal(sqlite3_exec(db, "UPDATE audit SET action = 'x'", NULL, NULL, NULL),
                         SQLITE_OK);
    sqlite3_close(db);
}

/* ---------------- tenant isolation ---------------- */

static void test_tenant_isolation(void **state)
{
    fixture *f = *state;
    lf_meta *m = open_db(f);
    int64_t a = mk_tenant(m, "alpha");
    int64_t b = mk_tenant(m, "beta");
    mk_app(m, a, "web");
    char key[LF_CREDENTIAL_GENERATED_MAX + 1], pat[LF_CREDENTIAL_GENERATED_MAX + 1];
    lf_meta_credential ck, cp, got;
    mk_api_key(a, "web", LF_SCOPE_INGEST, key, &ck);
    mk_pat(a, LF_SCOPE_ADMIN, pat, &cp);
    assert_int_equal(lf_meta_credential_create(m, &ck, NULL), LF_OK);
    assert_int_equal(lf_meta_credential_create(m, &cp, NULL), LF_OK);
    uint8_t fp[LF_META_FP_LEN];
    fill_fp(fp, 1);
    assert_int_equal(lf_meta_pubkey_register(m, a, PEM_A, strlen(PEM_A), fp, 1, NULL, NULL), LF_OK);
    lf_meta_session_key sk = mk_session_key(a, "web", UUID2, 1, 100);
    assert_int_equal(lf_meta_session_key_put(m, &sk, NULL), LF_OK);
    lf_meta_file file = mk_file(a, "web", 1, 100, 200, 1, 10);
    assert_int_equal(lf_meta_manifest_add(m, &file, 1, "spool", 10, NULL, NULL), LF_OK);
    lf_meta_audit_entry au = {.tenant_id = a, .time = 5};
    snprintf(au.action, sizeof au.action, "query");
    assert_int_equal(lf_meta_audit_append(m, &au, NULL, NULL), LF_OK);
    lf_meta_idem_response r = {.status = 202, .created = 1, .expires = 1000};
    bool existed;
    assert_int_equal(
        lf_meta_idem_put_if_absent(m, a, ck.id_text, IDEM_KEY, &r, 1, NULL, &existed, NULL), LF_OK);

    /* B, guessing every name and id of A's. */
    lf_meta_app app;
    assert_int_equal(lf_meta_app_get(m, b, "web", &app, NULL), LF_ERR_NOT_FOUND);
    lf_meta_app *apps = NULL;
    size_t n = 1;
    lf_meta_cursor next;
    assert_int_equal(lf_meta_app_list(m, b, 10, LF_META_CURSOR_START, &apps, &n, &next, NULL),
                     LF_OK);
    assert_int_equal(n, 0);
    assert_int_equal(lf_meta_credential_revoke(m, b, LF_CREDENTIAL_API_KEY, ck.id_text, NULL),
                     LF_ERR_NOT_FOUND);
    assert_int_equal(lf_meta_credential_revoke(m, b, LF_CREDENTIAL_PAT, cp.id_text, NULL),
                     LF_ERR_NOT_FOUND);
    assert_int_equal(lf_meta_credential_lookup(m, LF_CREDENTIAL_API_KEY, ck.id_text, &got, NULL),
                     LF_OK);
    assert_false(got.rec.revoked);
    assert_int_equal(got.tenant_id, a);
    assert_int_equal(lf_meta_credential_lookup(m, LF_CREDENTIAL_PAT, cp.id_text, &got, NULL),
                     LF_OK);
    assert_false(got.rec.revoked);
    lf_meta_credential_info *creds = NULL;
    for (int kind = LF_CREDENTIAL_API_KEY; kind <= LF_CREDENTIAL_PAT; kind++) {
        assert_int_equal(lf_meta_credential_list(m, b, (lf_credential_kind)kind, 10,
                                                 LF_META_CURSOR_START, &creds, &n, &next, NULL),
                         LF_OK);
        assert_int_equal(n, 0);
    }
    /* B cannot bind a key to A's app. */
    char key_b[LF_CREDENTIAL_GENERATED_MAX + 1];
    lf_meta_credential cb;
    mk_api_key(b, "web", LF_SCOPE_INGEST, key_b, &cb);
    assert_int_equal(lf_meta_credential_create(m, &cb, NULL), LF_ERR_NOT_FOUND);

    lf_meta_pubkey pk;
    assert_int_equal(lf_meta_pubkey_get(m, b, fp, &pk, NULL), LF_ERR_NOT_FOUND);
    assert_int_equal(lf_meta_pubkey_get_active(m, b, &pk, NULL), LF_ERR_NOT_FOUND);
    lf_meta_pubkey_info *pks = NULL;
    assert_int_equal(lf_meta_pubkey_list(m, b, 10, LF_META_CURSOR_START, &pks, &n, &next, NULL),
                     LF_OK);
    assert_int_equal(n, 0);

    lf_meta_session_key got_sk;
    assert_int_equal(lf_meta_session_key_get(m, b, UUID2, &got_sk, NULL), LF_ERR_NOT_FOUND);
    lf_meta_session_key *sks = NULL;
    assert_int_equal(
        lf_meta_session_key_list(m, b, NULL, 10, LF_META_CURSOR_START, &sks, &n, &next, NULL),
        LF_OK);
    assert_int_equal(n, 0);
    /* B's own key with A's id is B's business and does not disturb A's. */
    lf_meta_session_key skb = mk_session_key(b, "web", UUID2, 9, 100);
    assert_int_equal(lf_meta_session_key_put(m, &skb, NULL), LF_OK);
    assert_int_equal(lf_meta_session_key_get(m, a, UUID2, &got_sk, NULL), LF_OK);
    assert_memory_equal(got_sk.wrapped, sk.wrapped, sk.wrapped_len);

    assert_int_equal(query_count(m, b, NULL, INT64_MIN, INT64_MAX), 0);
    assert_int_equal(query_count(m, b, "web", INT64_MIN, INT64_MAX), 0);
    assert_int_equal(query_count(m, a, NULL, INT64_MIN, INT64_MAX), 1);
    lf_meta_file *af = NULL;
    lf_meta_file_query aq = {.ts_from = INT64_MIN, .ts_to = INT64_MAX};
    assert_int_equal(
        lf_meta_manifest_query(m, a, &aq, 1, LF_META_CURSOR_START, &af, &n, &next, NULL), LF_OK);
    assert_int_equal(n, 1);
    assert_int_equal(lf_meta_manifest_remove(m, b, af[0].id, NULL), LF_ERR_NOT_FOUND);
    free(af);
    assert_int_equal(query_count(m, a, NULL, INT64_MIN, INT64_MAX), 1);
    uint64_t bfiles = 9;
    assert_int_equal(lf_meta_manifest_usage(m, b, &bfiles, NULL, NULL), LF_OK);
    assert_int_equal(bfiles, 0);
    lf_meta_audit_entry *aus = NULL;
    assert_int_equal(
        lf_meta_audit_list(m, b, INT64_MIN, 10, LF_META_CURSOR_START, &aus, &n, &next, NULL),
        LF_OK);
    assert_int_equal(n, 0);
    lf_meta_idem_response st;
    assert_int_equal(lf_meta_idem_get(m, b, ck.id_text, IDEM_KEY, 1, &st, NULL), LF_ERR_NOT_FOUND);
    lf_wipe(&got, sizeof got);
    lf_wipe(key, sizeof key);
    lf_wipe(pat, sizeof pat);
    lf_wipe(key_b, sizeof key_b);
}

/* ---------------- concurrency ---------------- */

#define THREADS 8
#define ROUNDS  40

typedef struct worker_arg {
    lf_meta *m;
    int64_t tenant;
    int index;
    const char *shared_id_text;
    int failures;
} worker_arg;

static void *worker(void *p)
{
    worker_arg *w = p;
    char app[32], stream[32];
    snprintf(app, sizeof app, "app%d", w->index);
    snprintf(stream, sizeof stream, "spool%d", w->index);
    if (lf_meta_app_create(w->m, w->tenant, app, 1, NULL, NULL) != LF_OK)
        w->failures++;
    for (int i = 0; i < ROUNDS; i++) {
        char kid[40];
        snprintf(kid, sizeof kid, "%08x%08x%016x", (unsigned)w->index, (unsigned)i, 0u);
        lf_meta_session_key k = mk_session_key(w->tenant, app, kid, (uint8_t)i, i);
        if (lf_meta_session_key_put(w->m, &k, NULL) != LF_OK)
            w->failures++;
        lf_meta_file file = mk_file(w->tenant, app, i, i, i + 1, (uint64_t)i + 1, (uint64_t)i + 1);
        if (lf_meta_manifest_add(w->m, &file, 1, stream, (uint64_t)i + 1, NULL, NULL) != LF_OK)
            w->failures++;
        lf_meta_audit_entry e = {.tenant_id = w->tenant, .time = i};
        snprintf(e.action, sizeof e.action, "ingest");
        if (lf_meta_audit_append(w->m, &e, NULL, NULL) != LF_OK)
            w->failures++;
        lf_meta_credential c;
        if (lf_meta_credential_lookup(w->m, LF_CREDENTIAL_API_KEY, w->shared_id_text, &c, NULL) !=
                LF_OK ||
            c.tenant_id != w->tenant)
            w->failures++;
        lf_wipe(&c, sizeof c);
        lf_meta_file_query q = {.app = app, .ts_from = 0, .ts_to = 1000};
        lf_meta_file *list = NULL;
        size_t n = 0;
        lf_meta_cursor next;
        if (lf_meta_manifest_query(w->m, w->tenant, &q, LF_META_LIST_MAX, LF_META_CURSOR_START,
                                   &list, &n, &next, NULL) != LF_OK ||
            n != (size_t)i + 1)
            w->failures++;
        free(list);
    }
    return NULL;
}

static void test_concurrency(void **state)
{
    fixture *f = *state;
    lf_meta *m = open_db(f);
    int64_t t = mk_tenant(m, "acme");
    char key[LF_CREDENTIAL_GENERATED_MAX + 1];
    lf_meta_credential c;
    mk_api_key(t, NULL, LF_SCOPE_INGEST, key, &c);
    assert_int_equal(lf_meta_credential_create(m, &c, NULL), LF_OK);

    pthread_t th[THREADS];
    worker_arg args[THREADS];
    for (int i = 0; i < THREADS; i++) {
        args[i] = (worker_arg){m, t, i, c.id_text, 0};
        assert_int_equal(pthread_create(&th[i], NULL, worker, &args[i]), 0);
    }
    for (int i = 0; i < THREADS; i++) {
        pthread_join(th[i], NULL);
        assert_int_equal(args[i].failures, 0);
    }
    /* Every write landed exactly once. */
    size_t total = 0;
    lf_meta_cursor cur = LF_META_CURSOR_START, next;
    for (int page = 0; page < 100; page++) {
        lf_meta_session_key *list = NULL;
        size_t n = 0;
        assert_int_equal(lf_meta_session_key_list(m, t, NULL, 7, cur, &list, &n, &next, NULL),
                         LF_OK);
        total += n;
        free(list);
        if (next.id == 0)
            break;
        cur = next;
    }
    assert_int_equal(total, THREADS * ROUNDS);
    assert_int_equal(query_count(m, t, NULL, 0, 10000), THREADS * ROUNDS);
    lf_meta_audit_entry *au = NULL;
    size_t n = 0;
    assert_int_equal(
        lf_meta_audit_list(m, t, 0, LF_META_LIST_MAX, LF_META_CURSOR_START, &au, &n, &next, NULL),
        LF_OK);
    assert_int_equal(n, THREADS * ROUNDS);
    free(au);
    for (int i = 0; i < THREADS; i++) {
        char stream[32];
        uint64_t cp = 0;
        snprintf(stream, sizeof stream, "spool%d", i);
        assert_int_equal(lf_meta_checkpoint_get(m, stream, &cp, NULL), LF_OK);
        assert_int_equal(cp, ROUNDS);
    }
    lf_wipe(key, sizeof key);
}

/* ---------------- persistence ---------------- */

static void test_reopen_persists(void **state)
{
    fixture *f = *state;
    lf_meta *m = open_db(f);
    int64_t t = mk_tenant(m, "acme");
    lf_meta_tenant_settings s = {.allow_bearer = true, .retention_days = 7};
    assert_int_equal(lf_meta_tenant_set_settings(m, t, &s, NULL), LF_OK);
    mk_app(m, t, "web");
    char key[LF_CREDENTIAL_GENERATED_MAX + 1], pat[LF_CREDENTIAL_GENERATED_MAX + 1];
    lf_meta_credential ck, cp, got;
    mk_api_key(t, "web", LF_SCOPE_INGEST, key, &ck);
    mk_pat(t, LF_SCOPE_READ, pat, &cp);
    assert_int_equal(lf_meta_credential_create(m, &ck, NULL), LF_OK);
    assert_int_equal(lf_meta_credential_create(m, &cp, NULL), LF_OK);
    assert_int_equal(lf_meta_credential_revoke(m, t, LF_CREDENTIAL_PAT, cp.id_text, NULL), LF_OK);
    uint8_t fp[LF_META_FP_LEN];
    fill_fp(fp, 1);
    assert_int_equal(lf_meta_pubkey_register(m, t, PEM_A, strlen(PEM_A), fp, 1, NULL, NULL), LF_OK);
    lf_meta_session_key sk = mk_session_key(t, "web", NAT1, 4, 100);
    assert_int_equal(lf_meta_session_key_put(m, &sk, NULL), LF_OK);
    lf_meta_file file = mk_file(t, "web", 1, 100, 200, 1, 10);
    assert_int_equal(lf_meta_manifest_add(m, &file, 1, "spool", 12, NULL, NULL), LF_OK);
    lf_meta_audit_entry au = {.tenant_id = t, .time = 5};
    snprintf(au.action, sizeof au.action, "apikey.create");
    assert_int_equal(lf_meta_audit_append(m, &au, NULL, NULL), LF_OK);
    lf_meta_idem_response r = {.status = 202, .created = 1, .expires = 1000};
    bool existed;
    assert_int_equal(
        lf_meta_idem_put_if_absent(m, t, ck.id_text, IDEM_KEY, &r, 1, NULL, &existed, NULL), LF_OK);

    m = open_db(f);
    lf_meta_tenant tt;
    assert_int_equal(lf_meta_tenant_get_by_name(m, "acme", &tt, NULL), LF_OK);
    assert_int_equal(tt.id, t);
    assert_true(tt.settings.allow_bearer);
    assert_int_equal(tt.settings.retention_days, 7);
    lf_meta_app app;
    assert_int_equal(lf_meta_app_get(m, t, "web", &app, NULL), LF_OK);
    assert_int_equal(lf_meta_credential_lookup(m, LF_CREDENTIAL_API_KEY, ck.id_text, &got, NULL),
                     LF_OK);
    assert_int_equal(
        lf_credential_check(&got.rec, key, strlen(key), 3000, LF_SCOPE_INGEST, "web", NULL), LF_OK);
    assert_memory_equal(got.signing_key, ck.signing_key, LF_SIGN_KEY_LEN);
    assert_int_equal(lf_meta_credential_lookup(m, LF_CREDENTIAL_PAT, cp.id_text, &got, NULL),
                     LF_OK);
    assert_true(got.rec.revoked);
    lf_meta_pubkey pk;
    assert_int_equal(lf_meta_pubkey_get_active(m, t, &pk, NULL), LF_OK);
    assert_string_equal(pk.pem, PEM_A);
    lf_meta_pubkey_clear(&pk);
    lf_meta_session_key gsk;
    assert_int_equal(lf_meta_session_key_get(m, t, NAT1, &gsk, NULL), LF_OK);
    assert_memory_equal(gsk.wrapped, sk.wrapped, sk.wrapped_len);
    uint64_t cpv = 0;
    assert_int_equal(lf_meta_checkpoint_get(m, "spool", &cpv, NULL), LF_OK);
    assert_int_equal(cpv, 12);
    assert_int_equal(query_count(m, t, "web", 0, 1000), 1);
    lf_meta_audit_entry *aus = NULL;
    size_t n = 0;
    lf_meta_cursor next;
    assert_int_equal(lf_meta_audit_list(m, t, 0, 10, LF_META_CURSOR_START, &aus, &n, &next, NULL),
                     LF_OK);
    assert_int_equal(n, 1);
    assert_string_equal(aus[0].action, "apikey.create");
    free(aus);
    lf_meta_idem_response st;
    assert_int_equal(lf_meta_idem_get(m, t, ck.id_text, IDEM_KEY, 2, &st, NULL), LF_OK);
    assert_int_equal(st.status, 202);
    lf_wipe(&got, sizeof got);
    lf_wipe(key, sizeof key);
    lf_wipe(pat, sizeof pat);
}

/* ---------------- no secret in the file ---------------- */

static bool contains(const lf_buf *hay, const void *needle, size_t len)
{
    if (len == 0 || hay->len < len)
        return false;
    for (size_t i = 0; i + len <= hay->len; i++)
        if (memcmp(hay->data + i, needle, len) == 0)
            return true;
    return false;
}

static void append_file(lf_buf *all, const char *path)
{
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return;
    uint8_t chunk[8192];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, fp)) > 0)
        assert_int_equal(lf_buf_append(all, chunk, n), LF_OK);
    fclose(fp);
}

static void test_no_secret_stored(void **state)
{
    fixture *f = *state;
    lf_meta *m = open_db(f);
    int64_t t = mk_tenant(m, "acme");
    char key[LF_CREDENTIAL_GENERATED_MAX + 1], pat[LF_CREDENTIAL_GENERATED_MAX + 1];
    lf_meta_credential ck, cp;
    mk_api_key(t, NULL, LF_SCOPE_INGEST, key, &ck);
    mk_pat(t, LF_SCOPE_READ, pat, &cp);
    assert_int_equal(lf_meta_credential_create(m, &ck, NULL), LF_OK);
    assert_int_equal(lf_meta_credential_create(m, &cp, NULL), LF_OK);
    lf_credential pk, pp;
    assert_int_equal(lf_credential_parse(key, strlen(key), &pk, NULL), LF_OK);
    assert_int_equal(lf_credential_parse(pat, strlen(pat), &pp, NULL), LF_OK);
    lf_buf raw_k = LF_BUF_INIT, raw_p = LF_BUF_INIT;
    assert_int_equal(lf_base64_decode(pk.secret, pk.secret_len, &raw_k, true, NULL), LF_OK);
    assert_int_equal(lf_base64_decode(pp.secret, pp.secret_len, &raw_p, true, NULL), LF_OK);
    assert_int_equal(raw_k.len, 32);

    /* Scan while open (database + WAL) and again after close (checkpointed file). */
    for (int pass = 0; pass < 2; pass++) {
        if (pass == 1) {
            lf_meta_close(f->m);
            f->m = NULL;
        }
        char wal[160];
        snprintf(wal, sizeof wal, "%s-wal", f->path);
        lf_buf all = LF_BUF_INIT;
        append_file(&all, f->path);
        append_file(&all, wal);
        assert_true(all.len > 0);
        /* Control: the scan sees what is stored (id text, verifier, signing key). */
        assert_true(contains(&all, ck.id_text, strlen(ck.id_text)));
        assert_true(contains(&all, ck.rec.verifier, LF_CREDENTIAL_VERIFIER_LEN));
        assert_true(contains(&all, ck.signing_key, LF_SIGN_KEY_LEN));
        assert_true(contains(&all, cp.rec.verifier, LF_CREDENTIAL_VERIFIER_LEN));
        /* Never the credential, its secret (text or bytes), nor a 12-character window of the
         * secret text. */
        assert_false(contains(&all, key, strlen(key)));
        assert_false(contains(&all, pat, strlen(pat)));
        assert_false(contains(&all, raw_k.data, raw_k.len));
        assert_false(contains(&all, raw_p.data, raw_p.len));
        for (size_t i = 0; i + 12 <= pk.secret_len; i++) {
            assert_false(contains(&all, pk.secret + i, 12));
            assert_false(contains(&all, pp.secret + i, 12));
        }
        lf_buf_free(&all);
    }
    lf_buf_free_secret(&raw_k);
    lf_buf_free_secret(&raw_p);
    lf_wipe(key, sizeof key);
    lf_wipe(pat, sizeof pat);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_open_empty_file_and_permissions, setup, teardown),
        cmocka_unit_test_setup_teardown(test_open_refuses_garbage_and_newer, setup, teardown),
        cmocka_unit_test_setup_teardown(test_forward_migration, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tenants, setup, teardown),
        cmocka_unit_test_setup_teardown(test_apps, setup, teardown),
        cmocka_unit_test_setup_teardown(test_api_keys, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pats, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pubkeys, setup, teardown),
        cmocka_unit_test_setup_teardown(test_session_keys, setup, teardown),
        cmocka_unit_test_setup_teardown(test_manifest, setup, teardown),
        cmocka_unit_test_setup_teardown(test_manifest_checkpoint_atomic, setup, teardown),
        cmocka_unit_test_setup_teardown(test_idempotency, setup, teardown),
        cmocka_unit_test_setup_teardown(test_audit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tenant_isolation, setup, teardown),
        cmocka_unit_test_setup_teardown(test_concurrency, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reopen_persists, setup, teardown),
        cmocka_unit_test_setup_teardown(test_no_secret_stored, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

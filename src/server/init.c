/*
 * init.c — `logfluxd init`: make a data directory (metadata, spool, object store, TLS files)
 * with a first tenant, its "default" app and an admin personal access token, printed once.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "server.h"
#include "tls/selfsigned.h"

static lf_err path_join(char *out, size_t cap, const char *dir, const char *name, lf_error *err)
{
    int n = snprintf(out, cap, "%s/%s", dir, name);
    if (n < 0 || (size_t)n >= cap)
        return lf_error_set(err, LF_ERR_INVALID, "path too long: %s/%s", dir, name);
    return LF_OK;
}

static lf_err make_dir(const char *path, lf_error *err)
{
    if (mkdir(path, 0700) != 0 && errno != EEXIST)
        return lf_error_set(err, LF_ERR_IO, "%s: %s", path, strerror(errno));
    return LF_OK;
}

static lf_err copy_file(const char *from, const char *to, int mode, lf_error *err)
{
    lf_buf b = LF_BUF_INIT;
    FILE *in = fopen(from, "rb");
    if (in == NULL)
        return lf_error_set(err, LF_ERR_IO, "%s: %s", from, strerror(errno));
    uint8_t chunk[8192];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, in)) > 0)
        lf_buf_append(&b, chunk, n);
    fclose(in);
    int fd = open(to, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
    lf_err rc = LF_OK;
    if (fd < 0 || write(fd, b.data, b.len) != (ssize_t)b.len || fsync(fd) != 0)
        rc = lf_error_set(err, LF_ERR_IO, "%s: %s", to, strerror(errno));
    if (fd >= 0)
        close(fd);
    lf_buf_free_secret(&b); /* it may be a private key */
    return rc;
}

static lf_err make_admin_token(lf_meta *meta, int64_t tenant, lf_region region,
                               char token[LF_CREDENTIAL_GENERATED_MAX + 1], lf_error *err)
{
    lf_credential parts;
    lf_err rc = lf_credential_generate(LF_CREDENTIAL_PAT, region, token, &parts, err);
    if (rc != LF_OK)
        return rc;
    lf_meta_credential c;
    memset(&c, 0, sizeof c);
    c.tenant_id = tenant;
    snprintf(c.id_text, sizeof c.id_text, "%s", parts.pub.text);
    snprintf(c.label, sizeof c.label, "initial admin token");
    rc = lf_credential_record_init(token, strlen(token), LF_SCOPE_ADMIN, NULL, (int64_t)time(NULL),
                                   0, &c.rec, err);
    if (rc == LF_OK)
        rc = lf_meta_credential_create(meta, &c, err);
    lf_wipe(&c, sizeof c);
    return rc;
}

lf_err lfd_init(const lfd_init_options *o, FILE *out, lf_error *err)
{
    char meta_path[PATH_MAX], tls_dir[PATH_MAX], cert[PATH_MAX], key[PATH_MAX], sub[PATH_MAX];
    lf_region region;
    lf_err rc = lf_region_from_string(o->region, strlen(o->region), &region, err);
    if (rc != LF_OK)
        return rc;
    if ((rc = make_dir(o->data_dir, err)) != LF_OK ||
        (rc = path_join(meta_path, sizeof meta_path, o->data_dir, LFD_META_FILE, err)) != LF_OK)
        return rc;
    if (access(meta_path, F_OK) == 0)
        return lf_error_set(err, LF_ERR_CONFLICT,
                            "%s is already initialised (%s exists); use a new directory",
                            o->data_dir, LFD_META_FILE);
    const char *subdirs[] = {LFD_SPOOL_DIR, LFD_OBJECTS_DIR, LFD_TLS_DIR};
    for (size_t i = 0; i < 3 && rc == LF_OK; i++) {
        rc = path_join(sub, sizeof sub, o->data_dir, subdirs[i], err);
        if (rc == LF_OK)
            rc = make_dir(sub, err);
    }
    if (rc == LF_OK)
        rc = path_join(tls_dir, sizeof tls_dir, o->data_dir, LFD_TLS_DIR, err);
    if (rc == LF_OK)
        rc = path_join(cert, sizeof cert, tls_dir, "cert.pem", err);
    if (rc == LF_OK)
        rc = path_join(key, sizeof key, tls_dir, "key.pem", err);
    if (rc != LF_OK)
        return rc;
    if (o->tls_cert != NULL) {
        rc = copy_file(o->tls_cert, cert, 0644, err);
        if (rc == LF_OK)
            rc = copy_file(o->tls_key, key, 0600, err);
    } else {
        rc = lfd_tls_make_selfsigned(cert, key, o->tls_names, 3650, err);
    }
    if (rc != LF_OK)
        return rc;

    lf_meta *meta = NULL;
    int64_t tenant = 0, app = 0;
    char token[LF_CREDENTIAL_GENERATED_MAX + 1] = {0};
    int64_t now = (int64_t)time(NULL);
    rc = lf_meta_sqlite_open(meta_path, NULL, &meta, err);
    if (rc == LF_OK)
        rc = lf_meta_tenant_create(meta, o->tenant, region, now, &tenant, err);
    if (rc == LF_OK) {
        /* v3 SDKs authenticate with bearer API keys; allow them by default. */
        lf_meta_tenant_settings s = {.allow_bearer = true};
        rc = lf_meta_tenant_set_settings(meta, tenant, &s, err);
    }
    if (rc == LF_OK)
        rc = lf_meta_app_create(meta, tenant, "default", now, &app, err);
    if (rc == LF_OK)
        rc = make_admin_token(meta, tenant, region, token, err);
    lf_meta_close(meta);
    if (rc != LF_OK) {
        lf_wipe(token, sizeof token);
        return rc;
    }
    char abs_cert[PATH_MAX];
    if (realpath(cert, abs_cert) == NULL)
        snprintf(abs_cert, sizeof abs_cert, "%s", cert);
    json_t *j =
        json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "tenant", o->tenant, "region", o->region,
                  "admin_token", token, "tls_cert", abs_cert, "endpoint", "https://127.0.0.1:8443",
                  "note", "the admin token is shown only now: store it safely");
    lf_wipe(token, sizeof token);
    char *text = json_dumps(j, JSON_INDENT(2));
    json_decref(j);
    if (text == NULL)
        return lf_error_set(err, LF_ERR_NOMEM, "init: out of memory");
    fprintf(out, "%s\n", text);
    fflush(out);
    lf_wipe(text, strlen(text));
    free(text);
    return LF_OK;
}

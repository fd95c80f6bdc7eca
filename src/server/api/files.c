/*
 * files.c — GET /v1/files (the tenant's manifest entries) and GET /v1/files/{id}/download (the
 * raw Parquet bytes of one, for the customer's own tools: DuckDB, Spark, our CLI).
 *
 * The manifest is tenant-scoped in the metadata store, so another tenant's file id is simply not
 * found (404). The metadata interface has no lookup by id yet, so download finds the file by
 * paging the tenant's manifest (bounded by the tenant's file count; docs/API.md notes it).
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "api/read.h"
#include "store/store.h"

#define FILES_LIMIT_DEFAULT 100
#define CURSOR_TAG_FILES    'F'

static json_t *file_json(const lf_meta_file *f)
{
    char url[64];
    snprintf(url, sizeof url, "/v1/files/%lld/download", (long long)f->id);
    return json_pack("{s:I, s:s, s:s, s:i, s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:s}", "id",
                     (json_int_t)f->id, "app", f->app, "dt", f->dt, "hour", f->hour, "path",
                     f->path, "rows", (json_int_t)f->rows, "bytes", (json_int_t)f->bytes, "ts_min",
                     (json_int_t)f->ts_min, "ts_max", (json_int_t)f->ts_max, "created",
                     (json_int_t)f->created, "seq_first", (json_int_t)f->seq_first, "seq_last",
                     (json_int_t)f->seq_last, "download", url);
}

static bool parse_times(lfd_request *r, lf_meta_file_query *q)
{
    const char *s;
    q->ts_from = INT64_MIN;
    q->ts_to = INT64_MAX;
    if ((s = lfd_req_query(r, "from")) && !lfd_read_parse_time(s, &q->ts_from)) {
        lfd_respond_error(r, 400, "bad_request", "from: RFC 3339 or Unix nanoseconds", 0);
        return false;
    }
    if ((s = lfd_req_query(r, "to")) && !lfd_read_parse_time(s, &q->ts_to)) {
        lfd_respond_error(r, 400, "bad_request", "to: RFC 3339 or Unix nanoseconds", 0);
        return false;
    }
    if (q->ts_from > q->ts_to) {
        lfd_respond_error(r, 400, "bad_request", "from is after to", 0);
        return false;
    }
    return true;
}

void lfd_handle_files_list(lfd_request *r, void *ctx)
{
    lfd_app *app = ctx;
    lfd_principal who;
    const char *app_filter = NULL;
    if (!lfd_read_begin(app, r, &who, &app_filter))
        return;
    lf_meta_file_query q = {.app = app_filter, .order = LF_META_ASC};
    if (!parse_times(r, &q))
        return;
    size_t limit;
    lf_meta_cursor mc;
    if (!lfd_read_list_args(r, CURSOR_TAG_FILES, FILES_LIMIT_DEFAULT, &limit, &mc))
        return;
    lf_meta_file *files = NULL;
    size_t n = 0;
    lf_meta_cursor next;
    lf_error err = {0};
    lf_err rc =
        lf_meta_manifest_query(app->meta, who.tenant.id, &q, limit, mc, &files, &n, &next, &err);
    if (rc != LF_OK) {
        lfd_respond_lf_err(r, rc, &err);
        return;
    }
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(arr, file_json(&files[i]));
    free(files);
    json_t *data = json_object();
    json_object_set_new(data, "files", arr);
    json_object_set_new(data, "next_cursor", lfd_read_list_cursor(CURSOR_TAG_FILES, next));
    lfd_audit(app, r, &who, "files.list", app_filter ? app_filter : "",
              json_pack("{s:I}", "files", (json_int_t)n));
    lfd_respond_success(r, 200, "ok", data);
}

/* The tenant's file `id` (and, with an app-bound token, of that app). */
static lf_err find_file(lfd_app *app, int64_t tenant, const char *app_filter, int64_t id,
                        lf_meta_file *out, lf_error *err)
{
    lf_meta_file_query q = {
        .app = app_filter, .ts_from = INT64_MIN, .ts_to = INT64_MAX, .order = LF_META_ASC};
    lf_meta_cursor mc = LF_META_CURSOR_START;
    for (;;) {
        lf_meta_file *files = NULL;
        size_t n = 0;
        lf_meta_cursor next;
        lf_err rc = lf_meta_manifest_query(app->meta, tenant, &q, LF_META_LIST_MAX, mc, &files, &n,
                                           &next, err);
        if (rc != LF_OK)
            return rc;
        bool found = false;
        for (size_t i = 0; i < n && !found; i++)
            if (files[i].id == id) {
                *out = files[i];
                found = true;
            }
        free(files);
        if (found)
            return LF_OK;
        if (next.id == 0)
            return lf_error_set(err, LF_ERR_NOT_FOUND, "no such file");
        mc = next;
    }
}

void lfd_handle_files_item(lfd_request *r, void *ctx)
{
    lfd_app *app = ctx;
    lfd_principal who;
    const char *app_filter = NULL;
    if (!lfd_read_begin(app, r, &who, &app_filter))
        return;
    /* "/v1/files/<decimal id>/download" */
    const char *p = lfd_req_path(r);
    const char *prefix = "/v1/files/";
    int64_t id = 0;
    bool ok = strncmp(p, prefix, strlen(prefix)) == 0;
    if (ok) {
        p += strlen(prefix);
        size_t digits = 0;
        while (isdigit((unsigned char)p[digits]) && digits < 19) {
            id = id * 10 + (p[digits] - '0');
            digits++;
        }
        ok = digits > 0 && id > 0 && strcmp(p + digits, "/download") == 0;
    }
    if (!ok) {
        lfd_respond_error(r, 404, "not_found", "no such file", 0);
        return;
    }
    lf_meta_file f;
    lf_error err = {0};
    lf_err rc = find_file(app, who.tenant.id, app_filter, id, &f, &err);
    lf_buf data = LF_BUF_INIT;
    if (rc == LF_OK)
        rc = app->store->ops->get(app->store, f.path, &data, &err);
    if (rc == LF_ERR_NOT_FOUND) {
        lf_buf_free(&data);
        lfd_respond_error(r, 404, "not_found", "no such file", 0);
        return;
    }
    if (rc != LF_OK) {
        lf_buf_free(&data);
        lfd_respond_lf_err(r, rc, &err);
        return;
    }
    char obj[32];
    snprintf(obj, sizeof obj, "%lld", (long long)id);
    lfd_audit(app, r, &who, "files.download", obj,
              json_pack("{s:s, s:I}", "path", f.path, "bytes", (json_int_t)data.len));
    lfd_resp_header(r, "Content-Disposition", "attachment");
    lfd_respond_bytes(r, 200, "application/vnd.apache.parquet", data.data, data.len);
    lf_buf_free(&data);
}

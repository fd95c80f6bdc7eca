/*
 * cmd_admin.c — `logflux admin`: the tenant's public keys, apps, API keys and access tokens,
 * over the admin API (docs/API.md, "Administration"; needs a token with scope admin).
 *
 * Lists follow next_cursor until the server says there is no more, so a table is always
 * complete. Text output is an aligned table; `-o json` prints the server's `data` object
 * (for lists: every item of every page in one array); `-o csv` a header line and rows.
 * The secret of a new API key or token appears in exactly one place: the output of the
 * create command that made it. Nothing else in the CLI prints it.
 */
#include "commands.h"

#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define LFC_MAX_PAGES 10000

/* ---------------- output ---------------- */

static void print_json(json_t *v)
{
    json_dumpf(v, stdout, JSON_INDENT(2) | JSON_ENCODE_ANY);
    fputc('\n', stdout);
}

/* A cell as text: strings as is, numbers of time columns as UTC, booleans yes/no. */
static char *cell(json_t *v, bool is_time)
{
    char buf[64];
    if (json_is_string(v))
        return strdup(json_string_value(v));
    if (json_is_integer(v)) {
        json_int_t n = json_integer_value(v);
        if (is_time) {
            if (n == 0)
                return strdup("never");
            time_t t = (time_t)n;
            struct tm tm;
            if (gmtime_r(&t, &tm) && strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm))
                return strdup(buf);
        }
        snprintf(buf, sizeof buf, "%lld", (long long)n);
        return strdup(buf);
    }
    if (json_is_boolean(v))
        return strdup(json_is_true(v) ? "yes" : "no");
    if (json_is_null(v) || !v)
        return strdup("");
    char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
    return s ? s : strdup("");
}

typedef struct column {
    const char *key;    /* field of each item */
    const char *header; /* table header */
    bool is_time;       /* Unix seconds rendered as UTC */
} column;

static void csv_field(const char *s)
{
    if (strpbrk(s, ",\"\r\n") == NULL) {
        fputs(s, stdout);
        return;
    }
    fputc('"', stdout);
    for (; *s; s++) {
        if (*s == '"')
            fputc('"', stdout);
        fputc(*s, stdout);
    }
    fputc('"', stdout);
}

static int print_table(lfc_ctx *c, json_t *items, const column *cols, size_t ncols)
{
    if (c->output == LFC_OUT_JSON) {
        print_json(items);
        return LFC_EXIT_OK;
    }
    size_t rows = json_array_size(items);
    char **cells = calloc((rows + 1) * ncols, sizeof *cells);
    size_t *width = calloc(ncols, sizeof *width);
    if (!cells || !width) {
        free(cells);
        free(width);
        return lfc_fail(LFC_EXIT_ERROR, "out of memory");
    }
    for (size_t j = 0; j < ncols; j++) {
        cells[j] = strdup(cols[j].header);
        width[j] = strlen(cols[j].header);
    }
    for (size_t i = 0; i < rows; i++) {
        json_t *item = json_array_get(items, i);
        for (size_t j = 0; j < ncols; j++) {
            char *s = cell(json_object_get(item, cols[j].key), cols[j].is_time);
            cells[(i + 1) * ncols + j] = s;
            if (s && strlen(s) > width[j])
                width[j] = strlen(s);
        }
    }
    for (size_t i = 0; i <= rows; i++) {
        for (size_t j = 0; j < ncols; j++) {
            const char *s = cells[i * ncols + j] ? cells[i * ncols + j] : "";
            if (c->output == LFC_OUT_CSV) {
                if (j)
                    fputc(',', stdout);
                csv_field(s);
            } else if (j + 1 == ncols) {
                fputs(s, stdout);
            } else {
                printf("%-*s  ", (int)width[j], s);
            }
        }
        fputc('\n', stdout);
    }
    if (rows == 0 && c->output == LFC_OUT_TEXT && !c->quiet)
        fprintf(stderr, "(none)\n");
    for (size_t i = 0; i < (rows + 1) * ncols; i++)
        free(cells[i]);
    free(cells);
    free(width);
    return LFC_EXIT_OK;
}

/* Print one object as "key: value" lines (text) or JSON. */
static void print_object(lfc_ctx *c, json_t *obj, const column *cols, size_t ncols)
{
    if (c->output == LFC_OUT_JSON) {
        print_json(obj);
        return;
    }
    json_t *one = json_array();
    json_array_append(one, obj);
    if (c->output == LFC_OUT_CSV) {
        print_table(c, one, cols, ncols);
    } else {
        for (size_t j = 0; j < ncols; j++) {
            json_t *v = json_object_get(obj, cols[j].key);
            if (!v)
                continue;
            char *s = cell(v, cols[j].is_time);
            printf("%-12s %s\n", cols[j].header, s ? s : "");
            free(s);
        }
    }
    json_decref(one);
}

/* ---------------- requests ---------------- */

/* Do a request expecting `want`; on success *data is the answer's `data` (a new reference). */
static int call(lfc_ctx *c, const char *method, const char *path, json_t *body, long want,
                json_t **data)
{
    lfc_reply r;
    *data = NULL;
    int rc = lfc_http_json(c, method, path, body, &r);
    if (rc == LFC_EXIT_OK)
        rc = lfc_expect(&r, want);
    if (rc == LFC_EXIT_OK) {
        json_t *d = json_object_get(r.json, "data");
        if (!json_is_object(d))
            rc = lfc_fail(LFC_EXIT_SERVER, "%s: answer without a data object", r.where);
        else
            *data = json_incref(d);
    }
    lfc_reply_free(&r);
    return rc;
}

/* GET every page of a list; *items gets one array with all of them. */
static int list_all(lfc_ctx *c, const char *path, const char *field, json_t **items)
{
    *items = json_array();
    char *cursor = NULL;
    int rc = LFC_EXIT_OK;
    for (int page = 0; page < LFC_MAX_PAGES; page++) {
        lf_buf p = LF_BUF_INIT;
        if (cursor) {
            char *esc = curl_easy_escape(NULL, cursor, 0);
            lf_buf_printf(&p, "%s?limit=1000&cursor=%s", path, esc ? esc : "");
            curl_free(esc);
        } else {
            lf_buf_printf(&p, "%s?limit=1000", path);
        }
        lf_buf_terminate(&p);
        json_t *data = NULL;
        rc = p.data ? call(c, "GET", (const char *)p.data, NULL, 200, &data)
                    : lfc_fail(LFC_EXIT_ERROR, "out of memory");
        lf_buf_free(&p);
        if (rc != LFC_EXIT_OK)
            break;
        json_t *list = json_object_get(data, field);
        if (!json_is_array(list)) {
            rc = lfc_fail(LFC_EXIT_SERVER, "GET %s: answer without a '%s' list", path, field);
            json_decref(data);
            break;
        }
        json_array_extend(*items, list);
        free(cursor);
        const char *next = json_string_value(json_object_get(data, "next_cursor"));
        cursor = next && *next ? strdup(next) : NULL;
        json_decref(data);
        if (!cursor)
            break;
    }
    free(cursor);
    if (rc != LFC_EXIT_OK) {
        json_decref(*items);
        *items = NULL;
    }
    return rc;
}

/* ---------------- argument parsing ---------------- */

typedef struct opts {
    const char *app, *label, *expires_in, *scope, *public_key;
    const char *positional[2];
    int npos;
} opts;

static int parse_opts(int argc, char **argv, const char *allowed, opts *o)
{
    memset(o, 0, sizeof *o);
    static const char *names[] = {"--app", "--label", "--expires-in", "--scope", "--public-key"};
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (a[0] != '-' || strcmp(a, "-") == 0) {
            if (o->npos >= 2)
                return lfc_fail(LFC_EXIT_USAGE, "unexpected argument '%s'", a);
            o->positional[o->npos++] = a;
            continue;
        }
        size_t k = 0;
        const char *value = NULL;
        for (; k < sizeof names / sizeof names[0]; k++) {
            size_t n = strlen(names[k]);
            if (strncmp(a, names[k], n) == 0 && (a[n] == '\0' || a[n] == '=')) {
                value = a[n] == '=' ? a + n + 1 : NULL;
                break;
            }
        }
        if (k == sizeof names / sizeof names[0] || !strstr(allowed, names[k]))
            return lfc_fail(LFC_EXIT_USAGE, "unknown flag '%s'", a);
        if (!value) {
            if (i + 1 >= argc)
                return lfc_fail(LFC_EXIT_USAGE, "%s needs a value", names[k]);
            value = argv[++i];
        }
        const char **slot[] = {&o->app, &o->label, &o->expires_in, &o->scope, &o->public_key};
        *slot[k] = value;
    }
    return LFC_EXIT_OK;
}

static int need_positional(const opts *o, int n, const char *what)
{
    if (o->npos < n)
        return lfc_fail(LFC_EXIT_USAGE, "missing %s", what);
    if (o->npos > n)
        return lfc_fail(LFC_EXIT_USAGE, "unexpected argument '%s'", o->positional[n]);
    return LFC_EXIT_OK;
}

/* ---------------- admin keys ---------------- */

static int read_pem_file(const char *path, lf_pubkey **out)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return lfc_fail(LFC_EXIT_ERROR, "cannot open %s", path);
    char buf[16384];
    size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    if (n == sizeof buf)
        return lfc_fail(LFC_EXIT_ERROR, "%s: too large for a public key", path);
    lf_error err = {0};
    if (lf_pubkey_from_pem(buf, n, out, &err) != LF_OK)
        return lfc_fail(LFC_EXIT_USAGE, "%s: %s", path, err.message);
    return LFC_EXIT_OK;
}

static const column pubkey_cols[] = {
    {"fingerprint", "FINGERPRINT", false},
    {"active", "ACTIVE", false},
    {"created", "CREATED", true},
};

static int admin_keys(lfc_ctx *c, int argc, char **argv)
{
    if (argc < 1)
        return lfc_fail(LFC_EXIT_USAGE, "admin keys: expected register or list");
    opts o;
    int rc;
    if (strcmp(argv[0], "list") == 0) {
        if ((rc = parse_opts(argc - 1, argv + 1, "", &o)) != LFC_EXIT_OK ||
            (rc = need_positional(&o, 0, "")) != LFC_EXIT_OK)
            return rc;
        json_t *items;
        if ((rc = list_all(c, "/v1/admin/public-keys", "public_keys", &items)) != LFC_EXIT_OK)
            return rc;
        rc = print_table(c, items, pubkey_cols, 3);
        json_decref(items);
        return rc;
    }
    if (strcmp(argv[0], "register") != 0)
        return lfc_fail(LFC_EXIT_USAGE, "admin keys: unknown subcommand '%s'", argv[0]);
    if ((rc = parse_opts(argc - 1, argv + 1, "--public-key", &o)) != LFC_EXIT_OK ||
        (rc = need_positional(&o, 0, "")) != LFC_EXIT_OK)
        return rc;
    lf_pubkey *pk = NULL;
    char *used = NULL;
    if (o.public_key) {
        rc = read_pem_file(o.public_key, &pk);
        used = strdup(o.public_key);
    } else {
        rc = lfc_configured_public_key(c, &pk, &used);
    }
    lf_buf pem = LF_BUF_INIT;
    char fp[LF_FINGERPRINT_STR_LEN] = "";
    lf_error err = {0};
    if (rc == LFC_EXIT_OK &&
        (lf_pubkey_to_pem(pk, &pem, &err) != LF_OK || lf_pubkey_fingerprint(pk, fp, &err) != LF_OK))
        rc = lfc_fail(LFC_EXIT_ERROR, "%s", err.message);
    json_t *data = NULL;
    if (rc == LFC_EXIT_OK)
        rc = call(c, "POST", "/v1/admin/public-keys",
                  json_pack("{s:s}", "public_key", (const char *)pem.data), 201, &data);
    if (rc == LFC_EXIT_OK) {
        const char *server_fp = json_string_value(json_object_get(data, "fingerprint"));
        if (!server_fp || strcmp(server_fp, fp) != 0) {
            /* The server must have stored exactly our key; anything else is an error. */
            rc = lfc_fail(LFC_EXIT_SERVER, "the server reports fingerprint %s for key %s",
                          server_fp ? server_fp : "(none)", fp);
        } else if (c->output == LFC_OUT_TEXT) {
            if (!c->quiet)
                fprintf(stderr, "Registered the public key from %s; it is now the active key.\n",
                        used ? used : "?");
            printf("fingerprint: %s\n", fp);
        } else {
            print_object(c, data, pubkey_cols, 1);
        }
    }
    json_decref(data);
    lf_buf_free(&pem);
    lf_pubkey_free(pk);
    free(used);
    return rc;
}

/* ---------------- admin apps ---------------- */

static const column app_cols[] = {
    {"name", "NAME", false},
    {"id", "ID", false},
    {"created", "CREATED", true},
};

static int admin_apps(lfc_ctx *c, int argc, char **argv)
{
    if (argc < 1)
        return lfc_fail(LFC_EXIT_USAGE, "admin apps: expected create NAME or list");
    opts o;
    int rc = parse_opts(argc - 1, argv + 1, "", &o);
    if (rc != LFC_EXIT_OK)
        return rc;
    if (strcmp(argv[0], "list") == 0) {
        if ((rc = need_positional(&o, 0, "")) != LFC_EXIT_OK)
            return rc;
        json_t *items;
        if ((rc = list_all(c, "/v1/admin/apps", "apps", &items)) != LFC_EXIT_OK)
            return rc;
        rc = print_table(c, items, app_cols, 3);
        json_decref(items);
        return rc;
    }
    if (strcmp(argv[0], "create") != 0)
        return lfc_fail(LFC_EXIT_USAGE, "admin apps: unknown subcommand '%s'", argv[0]);
    if ((rc = need_positional(&o, 1, "app NAME")) != LFC_EXIT_OK)
        return rc;
    json_t *data = NULL;
    rc = call(c, "POST", "/v1/admin/apps", json_pack("{s:s}", "name", o.positional[0]), 201, &data);
    if (rc == LFC_EXIT_OK)
        print_object(c, data, app_cols, 2);
    json_decref(data);
    return rc;
}

/* ---------------- admin api-keys / tokens ---------------- */

static const column cred_cols[] = {
    {"id", "ID", false},           {"app", "APP", false},        {"scopes", "SCOPES", false},
    {"label", "LABEL", false},     {"created", "CREATED", true}, {"expires", "EXPIRES", true},
    {"revoked", "REVOKED", false},
};

static int admin_credentials(lfc_ctx *c, int argc, char **argv, bool tokens)
{
    const char *what = tokens ? "tokens" : "api-keys";
    const char *path = tokens ? "/v1/admin/tokens" : "/v1/admin/api-keys";
    const char *secret_field = tokens ? "token" : "api_key";
    if (argc < 1)
        return lfc_fail(LFC_EXIT_USAGE, "admin %s: expected create, list or revoke ID", what);
    opts o;
    int rc = parse_opts(argc - 1, argv + 1,
                        strcmp(argv[0], "create") != 0 ? ""
                        : tokens                       ? "--scope --label --expires-in"
                                                       : "--app --label --expires-in",
                        &o);
    if (rc != LFC_EXIT_OK)
        return rc;
    json_t *data = NULL;
    if (strcmp(argv[0], "list") == 0) {
        if ((rc = need_positional(&o, 0, "")) != LFC_EXIT_OK)
            return rc;
        json_t *items;
        if ((rc = list_all(c, path, tokens ? "tokens" : "api_keys", &items)) != LFC_EXIT_OK)
            return rc;
        /* Lists never carry secrets; drop the field anyway should a server send one. */
        size_t i;
        json_t *item;
        json_array_foreach(items, i, item)
        {
            json_object_del(item, secret_field);
        }
        rc = print_table(c, items, cred_cols, sizeof cred_cols / sizeof cred_cols[0]);
        json_decref(items);
        return rc;
    }
    if (strcmp(argv[0], "revoke") == 0) {
        if ((rc = need_positional(&o, 1, "the ID to revoke")) != LFC_EXIT_OK)
            return rc;
        char *esc = curl_easy_escape(NULL, o.positional[0], 0);
        lf_buf p = LF_BUF_INIT;
        lf_buf_printf(&p, "%s/%s", path, esc ? esc : "");
        lf_buf_terminate(&p);
        curl_free(esc);
        rc = p.data ? call(c, "DELETE", (const char *)p.data, NULL, 200, &data)
                    : lfc_fail(LFC_EXIT_ERROR, "out of memory");
        lf_buf_free(&p);
        if (rc == LFC_EXIT_OK) {
            if (c->output == LFC_OUT_JSON)
                print_json(data);
            else if (c->output == LFC_OUT_CSV)
                printf("id,revoked\n%s,yes\n", o.positional[0]);
            else
                printf("revoked %s\n", o.positional[0]);
        }
        json_decref(data);
        return rc;
    }
    if (strcmp(argv[0], "create") != 0)
        return lfc_fail(LFC_EXIT_USAGE, "admin %s: unknown subcommand '%s'", what, argv[0]);
    if ((rc = need_positional(&o, 0, "")) != LFC_EXIT_OK)
        return rc;
    if (tokens && !o.scope)
        return lfc_fail(LFC_EXIT_USAGE, "admin tokens create: --scope read|write|admin needed");
    if (!tokens && !o.app)
        return lfc_fail(LFC_EXIT_USAGE, "admin api-keys create: --app APP needed");
    json_t *body = json_object();
    if (o.app)
        json_object_set_new(body, "app", json_string(o.app));
    if (o.scope)
        json_object_set_new(body, "scope", json_string(o.scope));
    if (o.label)
        json_object_set_new(body, "label", json_string(o.label));
    if (o.expires_in)
        json_object_set_new(body, "expires_in", json_string(o.expires_in));
    rc = call(c, "POST", path, body, 201, &data);
    if (rc == LFC_EXIT_OK) {
        const char *secret = json_string_value(json_object_get(data, secret_field));
        if (!secret) {
            rc = lfc_fail(LFC_EXIT_SERVER, "POST %s: answer without the new secret", path);
        } else if (c->output == LFC_OUT_TEXT) {
            static const column created_cols[] = {
                {"id", "id:", false},
                {"app", "app:", false},
                {"scopes", "scopes:", false},
                {"expires", "expires:", true},
            };
            json_object_del(data, "note");
            for (size_t j = 0; j < sizeof created_cols / sizeof created_cols[0]; j++) {
                json_t *v = json_object_get(data, created_cols[j].key);
                if (!v || (json_is_string(v) && !*json_string_value(v)))
                    continue;
                char *s = cell(v, created_cols[j].is_time);
                printf("%-12s %s\n", created_cols[j].header, s ? s : "");
                free(s);
            }
            printf("%-12s %s\n", tokens ? "token:" : "api key:", secret);
            if (!c->quiet)
                fprintf(stderr, "This secret is shown only now: store it safely.\n");
        } else if (c->output == LFC_OUT_CSV) {
            printf("id,%s\n%s,%s\n", secret_field,
                   json_string_value(json_object_get(data, "id"))
                       ? json_string_value(json_object_get(data, "id"))
                       : "",
                   secret);
        } else {
            print_json(data);
        }
    }
    json_decref(data);
    return rc;
}

int lfc_cmd_admin(lfc_ctx *c, int argc, char **argv)
{
    if (argc < 2)
        return lfc_fail(LFC_EXIT_USAGE, "admin: expected keys, apps, api-keys or tokens");
    const char *area = argv[1];
    if (strcmp(area, "keys") == 0 || strcmp(area, "public-keys") == 0)
        return admin_keys(c, argc - 2, argv + 2);
    if (strcmp(area, "apps") == 0)
        return admin_apps(c, argc - 2, argv + 2);
    if (strcmp(area, "api-keys") == 0)
        return admin_credentials(c, argc - 2, argv + 2, false);
    if (strcmp(area, "tokens") == 0)
        return admin_credentials(c, argc - 2, argv + 2, true);
    return lfc_fail(LFC_EXIT_USAGE, "admin: unknown area '%s' (keys, apps, api-keys, tokens)",
                    area);
}

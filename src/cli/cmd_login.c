/*
 * cmd_login.c — `logflux login`: check a token against the server and store it.
 *
 * The endpoint, token and CA come from the global flags, the environment or the existing
 * profile (ctx.c); a missing token is read without echo (or from stdin in scripts, so it never
 * has to appear in the process list). The token is verified with GET /v1/discovery, which
 * any valid credential may call, before anything is written: a typo never lands in the
 * profile. The profile is written with mode 0600 (lfc_profile_save).
 */
#include "commands.h"

#include <stdlib.h>
#include <string.h>

static const char *str_or(json_t *v, const char *dflt)
{
    const char *s = json_string_value(v);
    return s ? s : dflt;
}

int lfc_cmd_login(lfc_ctx *c, int argc, char **argv)
{
    if (argc > 1) /* the argument is not echoed: it may be a pasted token */
        return lfc_fail(LFC_EXIT_USAGE, "login takes no arguments: login [--endpoint URL] "
                                        "[--token T] [--ca FILE] (or the token on stdin)");
    if (!c->token) {
        char buf[1024];
        int rc = lfc_read_secret("Token: ", buf, sizeof buf);
        if (rc == LFC_EXIT_OK) {
            c->token = strdup(buf);
            if (!c->token)
                rc = lfc_fail(LFC_EXIT_ERROR, "out of memory");
        }
        lf_wipe(buf, sizeof buf);
        if (rc != LFC_EXIT_OK)
            return rc;
    }
    lfc_reply r;
    int rc = lfc_http_json(c, "GET", "/v1/discovery", NULL, &r);
    if (rc == LFC_EXIT_OK)
        rc = lfc_expect(&r, 200);
    if (rc == LFC_EXIT_OK) {
        json_t *data = json_object_get(r.json, "data");
        if (!data)
            data = r.json;
        json_t *cred = json_object_get(data, "credential");
        json_t *tenant = json_object_get(data, "tenant");
        const char *tenant_name = json_is_object(tenant)
                                      ? str_or(json_object_get(tenant, "name"), "?")
                                      : str_or(tenant, "?");
        char *scopes = NULL;
        json_t *sc = json_object_get(cred, "scopes");
        if (json_is_array(sc)) {
            lf_buf b = LF_BUF_INIT;
            size_t i;
            json_t *v;
            json_array_foreach(sc, i, v)
            {
                lf_buf_printf(&b, "%s%s", i ? "," : "", str_or(v, "?"));
            }
            lf_buf_terminate(&b);
            scopes = (char *)b.data;
        } else if (json_is_string(sc)) {
            scopes = strdup(json_string_value(sc));
        }
        rc = lfc_profile_save(c);
        if (rc == LFC_EXIT_OK) {
            if (c->output == LFC_OUT_JSON) {
                json_t *o =
                    json_pack("{s:s, s:s, s:s, s:s, s:s}", "endpoint", c->endpoint, "tenant",
                              tenant_name, "credential_id", str_or(json_object_get(cred, "id"), ""),
                              "scopes", scopes ? scopes : "", "profile", c->profile_path);
                if (o)
                    json_dumpf(o, stdout, JSON_INDENT(2));
                fputc('\n', stdout);
                json_decref(o);
            } else if (!c->quiet) {
                printf("Logged in to %s: tenant %s, token %s (scopes %s).\n"
                       "Profile '%s' saved to %s (mode 0600).\n",
                       c->endpoint, tenant_name, str_or(json_object_get(cred, "id"), "?"),
                       scopes ? scopes : "?", c->profile, c->profile_path);
            }
        }
        free(scopes);
    }
    lfc_reply_free(&r);
    return rc;
}

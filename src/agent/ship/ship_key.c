/*
 * ship_key.c — fetch the customer's public key from the server, for an agent configured with
 * only the key's fingerprint. The answer is untrusted: the caller accepts the key only if it
 * hashes to the pinned fingerprint (a server that hands out its own key is refused: that is the
 * whole point of pinning, docs/SECURITY.md "Key substitution").
 */
#include <jansson.h>
#include <stdint.h>
#include <string.h>

#include "ship.h"
#include "ship_int.h"

lf_err lf_agent_ship_fetch_customer_key(const lf_agent_ship_options *opt, lf_buf *pem,
                                        lf_error *err)
{
    static _Atomic int64_t never = INT64_MAX; /* no stop deadline: the caller bounds by timeouts */
    ship_http h;
    lf_err rc = ship_http_open(&h, opt, &never, err);
    if (rc != LF_OK)
        return rc;
    ship_answer ans;
    memset(&ans, 0, sizeof ans);
    rc = ship_http_post_route(&h, "/v1/handshake/init", "application/json", "{}", 2, &ans, err);
    if (rc == LF_OK && ans.status == 0)
        rc = lf_error_set(err, LF_ERR_IO, "key fetch: no answer from the server: %s",
                          ans.curl_error);
    if (rc == LF_OK && ans.status != 200) {
        char text[160];
        ship_clean_text((const char *)ans.body.data, ans.body.len < 150 ? ans.body.len : 150, text,
                        sizeof text);
        rc = lf_error_set(err, ans.status >= 500 ? LF_ERR_IO : LF_ERR_INVALID,
                          "key fetch: HTTP %ld: %s", ans.status, text);
    }
    if (rc == LF_OK) {
        /* {"public_key":"<PEM>",...}, or the same inside {"data":{...}} (v3 wire). */
        json_t *root = json_loadb((const char *)ans.body.data, ans.body.len, 0, NULL);
        json_t *obj =
            json_is_object(json_object_get(root, "data")) ? json_object_get(root, "data") : root;
        const char *key = json_string_value(json_object_get(obj, "public_key"));
        if (key == NULL || strncmp(key, "-----BEGIN PUBLIC KEY-----", 26) != 0)
            rc = lf_error_set(err, LF_ERR_INVALID,
                              "key fetch: the server's answer holds no PEM public key");
        else
            rc = lf_buf_append_str(pem, key) == LF_OK && lf_buf_terminate(pem) == LF_OK
                     ? LF_OK
                     : lf_error_set(err, LF_ERR_NOMEM, "key fetch: out of memory");
        json_decref(root);
    }
    ship_answer_free(&ans);
    ship_http_close(&h);
    return rc;
}

/*
 * v3_plain.c — v3 entry type 7 (managed telemetry), payload type 3: gzip JSON, not encrypted.
 *
 * This is the only v3 body the server may read, so it lives in lf_core next to the multipart
 * parser. Opening inflates with the same bound as for decrypted payloads; a body without
 * the gzip magic is taken as plain JSON, mirroring the payload-type-1 reader rule.
 */
#include <string.h>

#include "logflux/compress.h"
#include "logflux/v3.h"

lf_err lf_v3_plain_seal_json(const void *json, size_t len, int64_t ts_ns, int level, lf_buf *out,
                             lf_v3_headers *h, lf_error *err)
{
    if (len > LF_PAYLOAD_MAX_JSON)
        return lf_error_set(err, LF_ERR_TOO_LARGE, "v3: payload of %zu bytes", len);
    lf_err rc = lf_gzip_compress(json, len, level, out, err);
    if (rc != LF_OK)
        return rc;
    if (h != NULL) {
        memset(h, 0, sizeof *h);
        h->entry_type = LF_ENTRY_TELEMETRY_MANAGED;
        h->payload_type = LF_V3_PAYLOAD_PLAIN;
        h->ts_ns = ts_ns;
        lf_rfc3339_format(ts_ns, h->timestamp);
    }
    return LF_OK;
}

lf_err lf_v3_plain_open(const void *body, size_t len, lf_buf *json_out, lf_error *err)
{
    if (lf_is_gzip(body, len))
        return lf_gunzip(body, len, LF_PAYLOAD_MAX_JSON, json_out, err);
    if (len > LF_PAYLOAD_MAX_JSON)
        return lf_error_set(err, LF_ERR_TOO_LARGE, "v3: payload of %zu bytes", len);
    if (lf_buf_append(json_out, body, len) != LF_OK)
        return lf_error_set(err, LF_ERR_NOMEM, "v3: out of memory");
    return LF_OK;
}

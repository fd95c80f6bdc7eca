/*
 * v3.h — one LogFlux v3 entry (PROTOCOL.md §2.1): seal and open.
 *
 * Entry types 1–6 (payload type 1):
 *     plain  = schema 2.0 JSON
 *     z      = gzip(plain), or plain itself when compression is off
 *     sealed = AES-256-GCM(session key, 12-byte nonce, no AAD, z) = ciphertext || tag
 * Entry type 7 (payload type 3): body = gzip(plain), not encrypted.
 *
 * Sealing fills an lf_v3_headers (multipart.h) with the part header values: entry type,
 * payload type, RFC 3339 timestamp (the payload's ts), key id and base64 nonce, ready for
 * lf_mp_builder_add.
 *
 * Opening: GCM open, then inflate only if the plaintext starts with the gzip magic 1f 8b (the
 * TypeScript SDK labels uncompressed entries payload type 1 too), bounded by
 * LF_PAYLOAD_MAX_JSON, then (optionally) decode the payload.
 *
 * The type-7 functions (lf_v3_plain_*) live in lf_core: the server may read managed
 * telemetry. Everything else here is client-only (lf_seal).
 */
#ifndef LOGFLUX_V3_H
#define LOGFLUX_V3_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "logflux/buf.h"
#include "logflux/crypto.h"
#include "logflux/error.h"
#include "logflux/multipart.h"
#include "logflux/payload.h"

#ifdef __cplusplus
extern "C" {
#endif

#define LF_V3_PAYLOAD_ENCRYPTED 1
#define LF_V3_PAYLOAD_PLAIN     3

/* ---------------- server-safe (lf_core): entry type 7, payload type 3 ---------------- */

/* body = gzip(json) appended to out; h (may be NULL) gets entry type 7, payload type 3, the
 * timestamp of ts_ns, empty key id and nonce. level: LF_GZIP_LEVEL_DEFAULT or 1..9. */
lf_err lf_v3_plain_seal_json(const void *json, size_t len, int64_t ts_ns, int level, lf_buf *out,
                             lf_v3_headers *h, lf_error *err);
/* Inflate (if gzip, bounded by LF_PAYLOAD_MAX_JSON) a payload-type-3 body into json_out. */
lf_err lf_v3_plain_open(const void *body, size_t len, lf_buf *json_out, lf_error *err);

/* ---------------- client-only (lf_seal) ---------------- */

/* A sealer for one session key: keeps the AES key schedule, a gzip context and scratch
 * buffers, so sealing an entry costs no allocation in the steady state. Not thread-safe. */
typedef struct lf_v3_sealer lf_v3_sealer;

/* key_id: the handshake's key id (1..128 printable ASCII characters; copied).
 * gzip_level: LF_GZIP_LEVEL_DEFAULT or 1..9; LF_V3_NO_GZIP turns compression off (the
 * entry is still labelled payload type 1, as the official SDKs do). */
#define LF_V3_NO_GZIP 0
lf_err lf_v3_sealer_new(const uint8_t key[LF_AES_KEY_LEN], const char *key_id, int gzip_level,
                        lf_v3_sealer **out, lf_error *err);
/* Wipes the key schedule and scratch. NULL is fine. */
void lf_v3_sealer_free(lf_v3_sealer *s);

/* Seal JSON bytes as one entry of entry_type (1..7; 7 gives a payload-type-3 body). nonce:
 * 12 bytes, or NULL for a fresh random one (production). ts_ns: the payload's ts, written to
 * h->timestamp. Appends the part body to out and fills h. The JSON is not validated. */
lf_err lf_v3_seal_json(lf_v3_sealer *s, int entry_type, int64_t ts_ns, const void *json, size_t len,
                       const uint8_t *nonce, lf_buf *out, lf_v3_headers *h, lf_error *err);
/* Encode p (lf_payload_encode) and seal it with entry type p->type. */
lf_err lf_v3_seal_payload(lf_v3_sealer *s, const lf_payload *p, const uint8_t *nonce, lf_buf *out,
                          lf_v3_headers *h, lf_error *err);

/* Open a payload-type-1 body: json_out receives the JSON (decrypted plaintext: free it with
 * lf_buf_free_secret). LF_ERR_AUTH on a wrong key/nonce/tampering, LF_ERR_TRUNCATED for a
 * body shorter than the tag, gzip errors as lf_gunzip. */
lf_err lf_v3_open_json(const uint8_t key[LF_AES_KEY_LEN], const uint8_t nonce[LF_GCM_NONCE_LEN],
                       const void *sealed, size_t len, lf_buf *json_out, lf_error *err);
/* Same with a reusable AES context (bulk decryption under one session key). */
lf_err lf_v3_open_json_ctx(lf_aead *ctx, const uint8_t nonce[LF_GCM_NONCE_LEN], const void *sealed,
                           size_t len, lf_buf *json_out, lf_error *err);
/* Open and decode one part as received: h gives entry type, payload type and nonce (key may
 * be NULL for payload type 3). now_ns as lf_payload_decode. *out is freed with
 * lf_payload_free. */
lf_err lf_v3_open_payload(const uint8_t *key, const lf_v3_headers *h, const void *body, size_t len,
                          int64_t now_ns, lf_payload **out, lf_error *err);

#ifdef __cplusplus
}
#endif
#endif

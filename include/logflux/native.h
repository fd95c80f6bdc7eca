/*
 * native.h — the LogFlux native v1 frame format (docs/PROTOCOL.md §3.1–§3.5).
 *
 * A native request body is 1..10,000 frames back to back. Each frame is a fixed 72-byte
 * header, the variable header fields (tenant, app, search tokens) and a body. The whole header
 * (every byte before the body) is the AES-GCM associated data of the body, so the server cannot
 * change any field it stores without the customer's tools noticing.
 *
 * Two halves, as everywhere in liblogflux:
 *   - server-safe (src/core/native_frame.c, lf_core): the header struct, the canonical header
 *     encoder and a bounded parser over untrusted request bodies. Nothing here decrypts.
 *   - client-only (src/seal/native_seal.c, lf_seal): the sealing session (key derivation,
 *     sequence numbers, zstd, AES-256-GCM, key frames, search tokens) and the opener used by
 *     the customer's tools. Never linked into logfluxd.
 */
#ifndef LOGFLUX_NATIVE_H
#define LOGFLUX_NATIVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "logflux/buf.h"
#include "logflux/crypto.h"
#include "logflux/error.h"

#ifdef __cplusplus
extern "C" {
#endif

#define LF_NATIVE_CONTENT_TYPE "application/vnd.logflux.frames.v1"
#define LF_NATIVE_MAGIC        "LFN1"
#define LF_NATIVE_FIXED_LEN    72 /* bytes of the header before tenant */
#define LF_NATIVE_KEY_ID_LEN   16
#define LF_NATIVE_TOKEN_LEN    16
#define LF_NATIVE_TENANT_MAX   64
#define LF_NATIVE_APP_MAX      128
#define LF_NATIVE_TOKENS_MAX   256
/* Longest possible header: fixed part + tenant + app + tokens. */
#define LF_NATIVE_HEADER_MAX                                                                       \
    (LF_NATIVE_FIXED_LEN + LF_NATIVE_TENANT_MAX + LF_NATIVE_APP_MAX +                              \
     LF_NATIVE_TOKENS_MAX * LF_NATIVE_TOKEN_LEN)
#define LF_NATIVE_ENTRY_BODY_MAX  (1024u * 1024u + 16u)       /* entry: ≤ 1 MiB + tag */
#define LF_NATIVE_BLOCK_BODY_MAX  (16u * 1024u * 1024u + 16u) /* block: ≤ 16 MiB + tag */
#define LF_NATIVE_CLOSE_BODY_LEN  16                          /* close: the tag alone */
#define LF_NATIVE_FINGERPRINT_LEN 32                          /* key frame: SHA-256 of DER SPKI */
#define LF_NATIVE_WRAPPED_MIN     64
#define LF_NATIVE_WRAPPED_MAX     1024
#define LF_NATIVE_BLOCK_COUNT_MAX 100000u
#define LF_NATIVE_FRAMES_MAX      10000u /* frames per request body */
/* Frames one session key may seal, the close frame included (§3.2): entry/block sequences
 * run 0..2^24-2 and the close frame's count is at most 2^24-1. */
#define LF_NATIVE_KEY_FRAMES_MAX (1u << 24)
/* Readers refuse to inflate a zstd plaintext beyond this (§3.2). */
#define LF_NATIVE_INFLATE_MAX (64u * 1024u * 1024u)
#define LF_NATIVE_FLAG_ZSTD   0x01u

typedef enum lf_native_kind {
    LF_NATIVE_ENTRY = 1,
    LF_NATIVE_BLOCK = 2,
    LF_NATIVE_CLOSE = 3,
    LF_NATIVE_KEY = 4,
} lf_native_kind;

/* Every field of a frame header (§3.1). tenant/app are NUL-terminated copies; `tokens` is
 * borrowed: for a parsed frame it points into the parsed input, for encoding into the caller's
 * memory (token_count * 16 bytes; may be NULL when token_count is 0). */
typedef struct lf_native_header {
    uint8_t kind;       /* lf_native_kind */
    uint8_t entry_type; /* 1..7 for entry/block; 0 for close/key */
    uint8_t flags;      /* LF_NATIVE_FLAG_ZSTD or 0 */
    uint8_t key_id[LF_NATIVE_KEY_ID_LEN];
    uint64_t sequence;
    int64_t ts_min; /* Unix nanoseconds */
    int64_t ts_max;
    uint32_t count;
    uint8_t nonce[LF_GCM_NONCE_LEN];
    char tenant[LF_NATIVE_TENANT_MAX + 1];
    char app[LF_NATIVE_APP_MAX + 1];
    uint16_t token_count;
    const uint8_t *tokens;
    uint32_t body_len;
} lf_native_header;

/* ---------------- server-safe (lf_core) ---------------- */

/* Check every rule of §3.1 on a header struct (the same rules the parser applies), naming the
 * field in the message. LF_ERR_INVALID or LF_ERR_TOO_LARGE. */
lf_err lf_native_header_check(const lf_native_header *h, lf_error *err);
/* Encoded length of the header (without body) of a valid header struct. */
size_t lf_native_header_len(const lf_native_header *h);
/* Append the canonical header bytes (exactly what is on the wire, and the AAD) to `out`,
 * after lf_native_header_check. The customer's tools rebuild the header this way from the
 * columns the server stored. */
lf_err lf_native_header_encode(const lf_native_header *h, lf_buf *out, lf_error *err);

/* One parsed frame. All pointers point into the parsed input, which must outlive the frame. */
typedef struct lf_native_frame {
    lf_native_header hdr;  /* decoded fields (hdr.tokens points into the input) */
    const uint8_t *header; /* the header bytes as received: the AAD */
    size_t header_len;
    const uint8_t *body; /* hdr.body_len bytes */
    size_t index;        /* 0-based index of the frame in the request body */
    size_t offset;       /* byte offset of the frame in the request body */
} lf_native_frame;

/* Parse exactly one frame at the start of `data` (`len` bytes available), validating every
 * field and every length against `len` before use. `index` only labels error messages
 * ("frame 3: app_len 0 ..."). `*consumed` (nullable) receives the frame's total length.
 * LF_ERR_TRUNCATED if `len` ends inside the frame, LF_ERR_TOO_LARGE for a length over its
 * limit, LF_ERR_INVALID for any other bad field. */
lf_err lf_native_frame_parse(const uint8_t *data, size_t len, size_t index, lf_native_frame *out,
                             size_t *consumed, lf_error *err);

/* The header bytes of a parsed frame (pointer into the input and its length). */
void lf_native_frame_header_bytes(const lf_native_frame *f, const uint8_t **header,
                                  size_t *header_len);

/* For a parsed key frame: the 32-byte customer key fingerprint and the wrapped session key
 * (pointers into the input). LF_ERR_INVALID if `f` is not a key frame. */
lf_err lf_native_key_frame_parts(const lf_native_frame *f, const uint8_t **fingerprint,
                                 const uint8_t **wrapped, size_t *wrapped_len, lf_error *err);

/* Iterator over a request body. The body (borrowed) must outlive the reader and its frames.
 *
 *   lf_native_reader r;
 *   lf_native_reader_init(&r, body, len);
 *   lf_native_frame f;
 *   while ((rc = lf_native_reader_next(&r, &f, &err)) == LF_OK) { ... }
 *   if (rc != LF_ERR_NOT_FOUND) -> bad body (LF_ERR_NOT_FOUND marks the clean end)
 *
 * An empty body is LF_ERR_TRUNCATED on the first call; a body of more than
 * LF_NATIVE_FRAMES_MAX frames is LF_ERR_TOO_LARGE when frame 10,000 would start. */
typedef struct lf_native_reader {
    const uint8_t *data;
    size_t len;
    size_t pos;
    size_t index;
} lf_native_reader;

void lf_native_reader_init(lf_native_reader *r, const void *body, size_t len);
lf_err lf_native_reader_next(lf_native_reader *r, lf_native_frame *out, lf_error *err);

/* Validate a whole request body (every frame, nothing trailing, 1..10,000 frames) before any
 * of it is accepted. `*frame_count` (nullable) receives the number of frames. */
lf_err lf_native_body_check(const void *body, size_t len, size_t *frame_count, lf_error *err);

/* Build a key frame (§3.3) from its parts: kind 4, sequence/count/flags 0, zero nonce, no
 * tokens, ts_min = ts_max = `created`. Appends to `out`. Needs no key material, so the
 * customer's tools and the vectors can rebuild one byte-exactly. */
lf_err lf_native_key_frame_encode(const uint8_t key_id[LF_NATIVE_KEY_ID_LEN], const char *tenant,
                                  const char *app, int64_t created,
                                  const uint8_t fingerprint[LF_NATIVE_FINGERPRINT_LEN],
                                  const uint8_t *wrapped, size_t wrapped_len, lf_buf *out,
                                  lf_error *err);

/* ---------------- client-only (lf_seal) ---------------- */

/* enc_key and token_key of §3.2/§3.5 from a session key and its key id (either output may be
 * NULL). The caller wipes the outputs. */
lf_err lf_native_derive_keys(const uint8_t session_key[LF_AES_KEY_LEN],
                             const uint8_t key_id[LF_NATIVE_KEY_ID_LEN],
                             uint8_t enc_key[LF_AES_KEY_LEN], uint8_t token_key[32], lf_error *err);
/* token = first 16 bytes of HMAC-SHA-256(token_key, ASCII-lowercased term). */
lf_err lf_native_token(const uint8_t token_key[32], const char *term, size_t term_len,
                       uint8_t out[LF_NATIVE_TOKEN_LEN], lf_error *err);

/* Low level: seal `plaintext` (already compressed if h->flags says so) under the header `h`
 * (its nonce is used as given; h->body_len is ignored and set from the plaintext) with an
 * AES-256-GCM context holding enc_key, appending header || body to `out`. The caller MUST
 * never reuse a nonce; lf_native_session does this for you with random nonces. Exists for
 * test vectors and for tools that rebuild frames. */
lf_err lf_native_seal_raw(lf_aead *enc, const lf_native_header *h, const void *plaintext,
                          size_t pt_len, lf_buf *out, lf_error *err);

/* A sealing session: one session key, one key id, one tenant and app, a sequence counter.
 * Opaque; not thread-safe (one per sealing thread). Holds enc_key in a reusable AES-GCM context
 * and token_key; the session key itself is kept only until the first key frame is made (its
 * wrapped form is then cached) and wiped. */
typedef struct lf_native_session lf_native_session;

/* One entry to seal: its schema 2.0 JSON (borrowed) and its `ts` in Unix nanoseconds. */
typedef struct lf_native_entry {
    const void *json;
    size_t len;
    int64_t ts;
} lf_native_entry;

/* New session. `session_key` NULL = 32 fresh random bytes; `key_id` NULL = 16 random bytes.
 * tenant 1..64 and app 1..128 characters of [A-Za-z0-9._-]. The caller keeps ownership of its
 * inputs (the session copies what it needs; wipe your copy of the session key). Free with
 * lf_native_session_free. */
lf_err lf_native_session_new(const uint8_t *session_key, const uint8_t *key_id, const char *tenant,
                             const char *app, lf_native_session **out, lf_error *err);
/* Wipes all key material. NULL is fine. */
void lf_native_session_free(lf_native_session *s);
/* zstd level for compressed frames (1..19; default 3). */
lf_err lf_native_session_set_zstd_level(lf_native_session *s, int level, lf_error *err);
/* The 16-byte key id (pointer into the session, valid until it is freed). */
const uint8_t *lf_native_session_key_id(const lf_native_session *s);
/* The sequence the next entry/block frame will carry (= frames sealed so far). */
uint64_t lf_native_session_sequence(const lf_native_session *s);
bool lf_native_session_closed(const lf_native_session *s);
/* Search token for a term under this session's token_key (§3.5). */
lf_err lf_native_session_token(const lf_native_session *s, const char *term, size_t term_len,
                               uint8_t out[LF_NATIVE_TOKEN_LEN], lf_error *err);

/* Seal one entry frame (count 1, ts_min = ts_max = entry->ts) and append it to `out`.
 * `tokens` = token_count * 16 bytes (NULL when 0). `compress` sets the zstd flag.
 * LF_ERR_INVALID after close; LF_ERR_TOO_LARGE when the body would exceed its limit or the
 * key reached its frame cap (rotate the key). On error nothing is appended and the sequence
 * is unchanged. */
lf_err lf_native_seal_entry(lf_native_session *s, uint8_t entry_type, const lf_native_entry *entry,
                            const uint8_t *tokens, size_t token_count, bool compress, lf_buf *out,
                            lf_error *err);
/* Seal `n` (1..100,000) entries of one entry type as one block frame (each `u32 len || JSON`,
 * optionally zstd-compressed as one frame); ts_min/ts_max from the entries. */
lf_err lf_native_seal_block(lf_native_session *s, uint8_t entry_type,
                            const lf_native_entry *entries, size_t n, const uint8_t *tokens,
                            size_t token_count, bool compress, lf_buf *out, lf_error *err);
/* Seal the close frame (sequence = count = frames sealed) at time `now` (ns). Afterwards the
 * session refuses to seal (LF_ERR_INVALID). */
lf_err lf_native_seal_close(lf_native_session *s, int64_t now, lf_buf *out, lf_error *err);
/* Append a key frame wrapping the session key for the customer's public key (RSA-OAEP,
 * SHA-256) with its SPKI fingerprint, ts = `created` (ns). The first call wraps and wipes the
 * session key; later calls for the same customer key return the identical frame, for another
 * key LF_ERR_INVALID. */
lf_err lf_native_session_key_frame(lf_native_session *s, const lf_pubkey *customer, int64_t created,
                                   lf_buf *out, lf_error *err);

/* TEST ONLY: set the next sequence number, so tests can reach the 2^24 cap. */
void lf_native_session_test_set_sequence(lf_native_session *s, uint64_t sequence);

/* The opening side (the customer's tools). Holds enc_key for one key id. Opaque, not
 * thread-safe. */
typedef struct lf_native_opener lf_native_opener;

/* The session key is copied into derived keys and not kept. */
lf_err lf_native_opener_new(const uint8_t session_key[LF_AES_KEY_LEN],
                            const uint8_t key_id[LF_NATIVE_KEY_ID_LEN], lf_native_opener **out,
                            lf_error *err);
void lf_native_opener_free(lf_native_opener *o);

/* One entry inside opened plaintext. */
typedef struct lf_native_span {
    const uint8_t *data;
    size_t len;
} lf_native_span;

/* What an opened frame holds. `plaintext` (owned) is the inflated plaintext; `entries`
 * (owned array of `count` spans into plaintext) the JSON entries. Zero-initialise; release
 * with lf_native_opened_free (wipes). */
typedef struct lf_native_opened {
    lf_buf plaintext;
    lf_native_span *entries;
    size_t count;
    size_t entries_cap; /* internal: allocated spans, so a reused struct does not reallocate */
} lf_native_opened;

void lf_native_opened_free(lf_native_opened *o);

/* Open an entry, block or close frame: the tag is checked over `header` (the AAD: the
 * received bytes, or lf_native_header_encode of the stored columns) and the body; then zstd
 * is inflated (content size required, ≤ 64 MiB, exactly one zstd frame) and the plaintext
 * split and checked: entry = one non-empty JSON, block = exactly `count` non-empty
 * length-prefixed entries with nothing trailing, close = empty. The caller still checks that
 * the entries' `ts` lie in [ts_min, ts_max] (it parses the JSON). LF_ERR_AUTH for a wrong
 * key, key id or any changed byte; LF_ERR_INVALID for a well-authenticated but malformed
 * plaintext; LF_ERR_TOO_LARGE for an over-cap inflation. `out` is replaced. */
lf_err lf_native_open_parts(lf_native_opener *o, const lf_native_header *h, const uint8_t *header,
                            size_t header_len, const uint8_t *body, size_t body_len,
                            lf_native_opened *out, lf_error *err);
/* lf_native_open_parts over a parsed frame. */
lf_err lf_native_open(lf_native_opener *o, const lf_native_frame *f, lf_native_opened *out,
                      lf_error *err);

/* Unwrap the session key of a key frame with the customer's private key. LF_ERR_NOT_FOUND if
 * the frame's fingerprint is not this key's; LF_ERR_AUTH if unwrapping fails or does not
 * yield 32 bytes. The caller wipes `session_key`. */
lf_err lf_native_key_frame_unwrap(const lf_native_frame *f, const lf_privkey *customer,
                                  uint8_t session_key[LF_AES_KEY_LEN], lf_error *err);

#ifdef __cplusplus
}
#endif
#endif

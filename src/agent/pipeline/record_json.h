/*
 * record_json.h — the schema 2.0 JSON of one agent log record, written in one pass.
 *
 * lf_payload_encode (src/core/payload.c) is the general encoder: it validates every field,
 * then writes it. The pipeline builds its records itself (level 1..8, sanitised label keys,
 * at most 20 labels, source and values within their limits), so for every record it encodes
 * this writer produces the same bytes faster: the message is repaired (invalid UTF-8 and NUL
 * become U+FFFD, cut at 1 MiB of text) and escaped in the same pass, with no strlen, no
 * validation pass and no call per piece. "The same bytes" is checked, not assumed:
 * tests/unit/test_agent_record_json.c and tests/fuzz/fuzz_agent_record_json.c compare it with
 * lf_payload_encode over the repaired values.
 */
#ifndef LF_AGENT_RECORD_JSON_H
#define LF_AGENT_RECORD_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "logflux/buf.h"
#include "logflux/payload.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct lf_agent_record_fields {
    const char *source; /* NUL-terminated, <= 256 bytes */
    int level;          /* 1..8 */
    int64_t ts_ns;
    const char *message; /* message_len bytes, any bytes */
    size_t message_len;
    const char *logger; /* NUL-terminated or NULL (absent) */
    const lf_kv *attributes;
    size_t n_attributes; /* <= 20, keys 1..64 bytes, unique, values <= 256 bytes */
} lf_agent_record_fields;

/*
 * Append the record's JSON. Returns false, with `out` as it was, when a field other than the
 * message is not valid UTF-8 (repairing it could break a length limit, which the general
 * encoder handles) or memory runs out: the caller then uses the general path. *text_len
 * receives the length of the repaired message text (<= LF_PAYLOAD_MAX_MESSAGE).
 */
bool lf_agent_record_json(lf_buf *out, const lf_agent_record_fields *f, size_t *text_len);

/* The repair the message gets (exposed for the general path and the tests): s[0..len) into
 * dst, invalid UTF-8 and NUL bytes as U+FFFD, stopping before a character that would take the
 * output past max_out bytes; dst must hold max_out + 1 bytes (NUL-terminated). Returns the
 * output length. */
size_t lf_agent_utf8_repair(const char *s, size_t len, char *dst, size_t max_out);

#ifdef __cplusplus
}
#endif
#endif

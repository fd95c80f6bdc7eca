/*
 * fuzz_payload_diff.c — differential check of the payload decoder's fast path against the
 * jansson path (payload_internal.h).
 *
 * Byte 0 picks an expected entry type (byte % 8) and a clock (byte / 8 % 4: none, a fixed
 * 2026 clock, or clocks at the edges of the ts window of the seeds); the rest is the JSON.
 * For that choice and also for entry type 0 with no clock, the input goes through the fast
 * path alone, the jansson path alone, and lf_payload_decode. The fuzzer aborts when:
 * - the fast path accepts what the jansson path refuses, or both accept but the payloads
 *   differ (re-encoding with lf_payload_encode, plus the raw fields the encoding hides);
 * - lf_payload_decode's verdict or error code differs from the jansson path's.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "logflux/payload.h"
#include "payload_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define NOW_2026 1795834800123456789LL /* 2026-11-28T03:00:00.123456789Z */

static void same_str(const char *a, const char *b)
{
    if ((a == NULL) != (b == NULL) || (a != NULL && strcmp(a, b) != 0))
        abort();
}

static void same_payload(const lf_payload *a, const lf_payload *b)
{
    if (a->type != b->type || a->level != b->level || a->ts_ns != b->ts_ns ||
        a->n_attributes != b->n_attributes || a->n_meta != b->n_meta ||
        (a->attributes == NULL) != (b->attributes == NULL) ||
        (a->meta == NULL) != (b->meta == NULL))
        abort();
    same_str(a->source, b->source);
    same_str(a->extra_json, b->extra_json);
    for (size_t i = 0; i < a->n_attributes; i++) {
        same_str(a->attributes[i].key, b->attributes[i].key);
        same_str(a->attributes[i].value, b->attributes[i].value);
    }
    for (size_t i = 0; i < a->n_meta; i++) {
        same_str(a->meta[i].key, b->meta[i].key);
        same_str(a->meta[i].value, b->meta[i].value);
    }
    if (memcmp(&a->metric.value, &b->metric.value, sizeof(double)) != 0 ||
        a->trace.has_duration != b->trace.has_duration ||
        memcmp(&a->trace.duration_ms, &b->trace.duration_ms, sizeof(double)) != 0 ||
        a->trace.start_ns != b->trace.start_ns || a->trace.end_ns != b->trace.end_ns)
        abort();
    lf_buf ea = LF_BUF_INIT, eb = LF_BUF_INIT;
    lf_err ra = lf_payload_encode(a, &ea, NULL), rb = lf_payload_encode(b, &eb, NULL);
    if (ra != rb || ea.len != eb.len || (ea.len > 0 && memcmp(ea.data, eb.data, ea.len) != 0))
        abort();
    lf_buf_free(&ea);
    lf_buf_free(&eb);
}

static void check(const uint8_t *json, size_t len, int type, int64_t now)
{
    lf_payload *fast = NULL, *slow = NULL, *disp = NULL;
    lf_error se = {0}, de = {0};
    bool took = lf_payload_decode_fast(json, len, type, now, &fast);
    lf_err src = lf_payload_decode_slow(json, len, type, now, &slow, &se);
    lf_err drc = lf_payload_decode(json, len, type, now, &disp, &de);
    if (!took && fast != NULL)
        abort();
    if (took && (src != LF_OK || fast == NULL))
        abort(); /* the fast path accepted what the jansson path refuses */
    if (took)
        same_payload(fast, slow);
    if (drc != src || (drc == LF_OK) != (disp != NULL) || (src == LF_OK) != (slow != NULL))
        abort();
    if (drc == LF_OK)
        same_payload(disp, slow);
    else if (de.code != se.code)
        abort();
    lf_payload_free(fast);
    lf_payload_free(slow);
    lf_payload_free(disp);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    static const int64_t clocks[4] = {0, NOW_2026, NOW_2026 - 60000000000LL,
                                      NOW_2026 + LF_PAYLOAD_MAX_AGE_NS};
    int type = data[0] % 8;
    int64_t now = clocks[(data[0] / 8) % 4];
    check(data + 1, size - 1, type, now);
    if (type != 0 || now != 0)
        check(data + 1, size - 1, 0, 0);
    return 0;
}

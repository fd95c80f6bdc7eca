/*
 * payload_internal.h — private seam between the two schema 2.0 payload decoders.
 *
 * lf_payload_decode (payload.c) first offers the bytes to the fast path (payload_fast.c): a
 * single-pass scanner for the common, flat shape of an entry that builds the whole lf_payload
 * in one allocation. It either produces exactly the payload the jansson path would produce,
 * or declines ("not mine") and the jansson path (lf_payload_decode_slow) decides, unchanged.
 * The fast path never reports an error itself: every rejection, and every shape it does not
 * handle, goes to the jansson path, so verdicts, error codes and messages cannot diverge.
 *
 * Both entry points are exposed here for the differential fuzz target and the unit tests,
 * which check that whatever the fast path accepts, the jansson path accepts identically.
 * Not installed; not part of the public API.
 */
#ifndef LOGFLUX_PAYLOAD_INTERNAL_H
#define LOGFLUX_PAYLOAD_INTERNAL_H

#include <stdbool.h>

#include "logflux/payload.h"

/* 1 = lf_payload_decode tries the fast path first; 0 = jansson path only. */
#ifndef LF_PAYLOAD_FAST_ENABLED
#define LF_PAYLOAD_FAST_ENABLED 1
#endif

/* The jansson decoder, as lf_payload_decode behaved before the fast path existed. Same
 * contract as lf_payload_decode. */
lf_err lf_payload_decode_slow(const void *json, size_t len, int entry_type, int64_t now_ns,
                              lf_payload **out, lf_error *err);

/* The fast path. Returns true and sets *out (free with lf_payload_free) when it decoded the
 * input; returns false with *out = NULL when the input is not of the shape it handles or is
 * not accepted (then the jansson path must decide). Never writes an error. */
bool lf_payload_decode_fast(const void *json, size_t len, int entry_type, int64_t now_ns,
                            lf_payload **out);

/* owned_ of a fast-path payload points at this tag; lf_payload_free dispatches on it. */
extern char lf_payload_fast_tag_;

/* Wipes and frees a payload whose owned_ is &lf_payload_fast_tag_. */
void lf_payload_fast_free(lf_payload *p);

#endif

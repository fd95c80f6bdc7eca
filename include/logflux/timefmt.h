/*
 * timefmt.h — RFC 3339 timestamps <-> Unix time in nanoseconds (int64, UTC).
 *
 * LogFlux carries timestamps as RFC 3339 text on the v3 wire (payload `ts`, the
 * X-LF-Timestamp part header) and as int64 nanoseconds everywhere else. The formatter always
 * writes UTC with a nine-digit fraction ("2026-11-28T03:00:00.123456789Z"), fixed width, so
 * output is deterministic. The parser is strict about shape and ranges but accepts what real
 * senders write: 'T' or 't', 'Z'/'z' or a numeric offset, and 0 to 9 fraction digits.
 */
#ifndef LOGFLUX_TIMEFMT_H
#define LOGFLUX_TIMEFMT_H

#include <stddef.h>
#include <stdint.h>

#include "logflux/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* "YYYY-MM-DDTHH:MM:SS.nnnnnnnnnZ" is 30 characters; the buffer holds the NUL too. */
#define LF_RFC3339_LEN 30
#define LF_RFC3339_MAX (LF_RFC3339_LEN + 1)

#define LF_NS_PER_SEC 1000000000LL

/* Parse RFC 3339 text of length len (no NUL needed) into Unix nanoseconds. Rejects anything
 * outside the int64 nanosecond range (years 1678..2262), leap second 60, more than 9
 * fraction digits, and trailing bytes: LF_ERR_INVALID. */
lf_err lf_rfc3339_parse(const char *text, size_t len, int64_t *ns_out, lf_error *err);

/* Format ns as UTC RFC 3339 with nine fraction digits into out (NUL-terminated).
 * Returns LF_RFC3339_LEN. Works for every int64 (years 1677..2262). */
size_t lf_rfc3339_format(int64_t ns, char out[LF_RFC3339_MAX]);

/* Current wall-clock time in Unix nanoseconds (CLOCK_REALTIME). */
int64_t lf_time_now_ns(void);

#ifdef __cplusplus
}
#endif
#endif

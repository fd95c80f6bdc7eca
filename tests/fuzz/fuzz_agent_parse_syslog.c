/*
 * fuzz_agent_parse_syslog.c — libFuzzer target for the syslog parser (RFC 5424 and 3164,
 * src/agent/parsers/syslog.c): no crash, no read past the input, a consistent event, and a
 * refused record leaves the event as it was.
 *
 * Input layout: [clock u8][message]. clock picks the reader's time (3164 year inference):
 * mid-year, just before and after new year, a leap-year March, the far future, or "unknown".
 */
#include <stdint.h>

#include "agent_parse_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    static const int64_t clocks[8] = {
        1704207845LL * 1000000000,          /* 2024-01-02 */
        1735689599LL * 1000000000,          /* 2024-12-31 23:59:59 */
        1735689600LL * 1000000000,          /* 2025-01-01 */
        1709251200LL * 1000000000,          /* 2024-03-01 */
        9223372035LL * 1000000000,          /* 2262 */
        0,                                  /* unknown: the parser reads the clock */
        86400LL * 1000000000,               /* 1970-01-02 */
        1720000000LL * 1000000000 + 999999, /* mid-2024 */
    };
    const char *d = (const char *)data + 1;
    size_t n = size - 1;
    static lf_agent_event ev, before;
    fuzz_event_prepare(&ev, &before);
    lf_err rc = lf_parse_syslog(d, n, clocks[data[0] & 7], &ev, NULL);
    fuzz_event_check(rc, &ev, &before, d, n);
    return 0;
}

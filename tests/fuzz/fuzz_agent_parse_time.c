/*
 * fuzz_agent_parse_time.c — libFuzzer target for lf_parse_time and the level functions
 * (src/agent/parsers/time.c, level.c): no crash, no overflow (UBSan), no read past the input,
 * and an accepted time is a non-negative Unix time in nanoseconds.
 *
 * Input layout: [format u8][text]. format picks auto, a named format or a strptime pattern.
 */
#include <stdint.h>
#include <stdlib.h>

#include "parsers/parser.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    static const char *const formats[16] = {
        NULL,
        "",
        "rfc3339",
        "unix",
        "unix_ms",
        "unix_us",
        "unix_ns",
        "%d/%b/%Y:%H:%M:%S %z",
        "%Y-%m-%d %H:%M:%S.%L",
        "%b %d %H:%M:%S",
        "%Y-%m-%dT%H:%M:%S.%N%z",
        "%s",
        "%Y%m%d%H%M%S",
        "%d.%m.%Y %H:%M:%S,%L",
        "%a, %d %b %Y %H:%M:%S %Z",
        "%j %Y",
    };
    const char *d = (const char *)data + 1;
    size_t n = size - 1;
    int64_t ns = -1;
    lf_error err = {0};
    lf_err rc = lf_parse_time(d, n, formats[data[0] & 15], &ns, &err);
    if (rc == LF_OK && ns < 0)
        abort();
    if (rc != LF_OK && rc != LF_ERR_INVALID)
        abort();
    int a = lf_level_parse(d, n), b = lf_level_detect(d, n);
    if (a < 0 || a > 8 || b < 0 || b > 8)
        abort();
    return 0;
}

/*
 * fuzz_agent_parse_nginx.c — libFuzzer target for the nginx access (combined and JSON) and
 * error-log parsers (src/agent/parsers/nginx.c): no crash, no read past the input, a
 * consistent event, and a refused record leaves the event as it was.
 *
 * Input layout: [mode u8][line]. mode bit 0: 0 = access, 1 = error.
 */
#include <stdint.h>

#include "agent_parse_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    const char *d = (const char *)data + 1;
    size_t n = size - 1;
    static lf_agent_event ev, before;
    fuzz_event_prepare(&ev, &before);
    lf_err rc = (data[0] & 1) ? lf_parse_nginx_error(d, n, &ev, NULL)
                              : lf_parse_nginx_access(d, n, &ev, NULL);
    fuzz_event_check(rc, &ev, &before, d, n);
    return 0;
}

/*
 * fuzz_query_params.c — the parsers of query-string values every read request hands to
 * logfluxd: time bounds (RFC 3339 or Unix ns), limits, and opaque cursors. Cursors come back
 * from clients, so a forged one must be refused, never misread: whatever decodes must
 * re-encode to a cursor that decodes to the same values.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "api/read.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 4096)
        return 0;
    char *s = malloc(size + 1);
    if (s == NULL)
        return 0;
    memcpy(s, data, size);
    s[size] = '\0';
    int64_t t;
    (void)lfd_read_parse_time(s, &t);
    long l;
    (void)lfd_read_parse_limit(s, 100, 10000, &l);
    for (size_t n = 1; n <= 4; n++) {
        int64_t v[4];
        if (lfd_read_cursor_decode(s, 'Q', v, n)) {
            char *again = lfd_read_cursor_encode('Q', v, n);
            int64_t w[4];
            if (again == NULL || !lfd_read_cursor_decode(again, 'Q', w, n) ||
                memcmp(v, w, n * sizeof *v) != 0)
                abort();
            free(again);
        }
    }
    free(s);
    return 0;
}

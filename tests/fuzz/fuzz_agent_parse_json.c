/*
 * fuzz_agent_parse_json.c — libFuzzer target for the json parser (src/agent/parsers/json.c) and
 * level detection over the same bytes: no crash, no read past the input (which is not
 * NUL-terminated), a consistent event, and a refused record leaves the event as it was.
 *
 * Input layout: [flags u8][text]. flags bit 0: keep_fields; bit 1: configured keys
 * (message_key "m", level_key "l", time_key "t"); bits 2-3 pick the time_format.
 */
#include <stdint.h>

#include "agent_parse_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    static const char *const formats[] = {"", "unix_ms", "%Y-%m-%d %H:%M:%S.%L", "rfc3339"};
    lf_parser_config cfg = {.kind = LF_PARSER_JSON,
                            .keep_fields = data[0] & 1,
                            .time_format = formats[(data[0] >> 2) & 3]};
    if (data[0] & 2) {
        cfg.message_key = "m";
        cfg.level_key = "l";
        cfg.time_key = "t";
    }
    const char *d = (const char *)data + 1;
    size_t n = size - 1;
    static lf_agent_event ev, before;
    fuzz_event_prepare(&ev, &before);
    lf_err rc = lf_parse_json(&cfg, d, n, &ev, NULL);
    fuzz_event_check(rc, &ev, &before, d, n);
    int lvl = lf_level_detect(d, n);
    if (lvl < 0 || lvl > 8)
        abort();
    return 0;
}

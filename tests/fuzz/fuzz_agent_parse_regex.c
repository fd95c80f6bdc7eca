/*
 * fuzz_agent_parse_regex.c — libFuzzer target for the regex parser (src/agent/parsers/regex.c):
 * fixed patterns over arbitrary subjects (valid or invalid UTF-8), and arbitrary short patterns
 * compiled and applied. No crash, no read past the input, bounded time (match limits), a
 * consistent event, and a refused record leaves the event as it was.
 *
 * Input layout: [mode u8][rest]. mode & 7 < 5: one of the fixed patterns, rest = subject.
 * Otherwise rest = [pattern len u8][pattern (<= 64 bytes)][subject].
 */
#include <stdint.h>
#include <stdio.h>

#include "agent_parse_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const patterns[5] = {
    "^(?<time>\\S+) (?<level>\\w+) \\[(?<component>[^\\]]+)\\] (?<message>.*)$",
    ("^(?<remote>[^ ]*) (?<host>[^ ]*) (?<user>[^ ]*) \\[(?<time>[^\\]]*)\\] \"(?<method>\\S+)"
     "(?: +(?<path>[^\"]*?)(?: +\\S*)?)?\" (?<code>[^ ]*) (?<size>[^ ]*)"),
    "(?<a>(x+x+)+y)|(?<b>\\p{L}+)",
    "^(?<message>.*?)(?: user=(?<user>\\S+))?(?: (?<level>[A-Z]+))?$",
    "(?<k>\\w+)=(?<v>\"[^\"]*\"|\\S*)",
};
static lf_parser *fixed[5];

static lf_parser *compile(const char *pattern)
{
    lf_parser_config cfg = {.kind = LF_PARSER_REGEX, .pattern = pattern};
    lf_parser *p = NULL;
    return lf_parser_new(&cfg, &p, NULL) == LF_OK ? p : NULL;
}

static void run(const lf_parser *p, const char *d, size_t n)
{
    static lf_agent_event ev, before;
    fuzz_event_prepare(&ev, &before);
    lf_err rc = lf_parser_apply(p, d, n, 0, &ev, NULL);
    fuzz_event_check(rc, &ev, &before, d, n);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    unsigned mode = data[0] & 7;
    if (mode < 5) {
        if (fixed[mode] == NULL && (fixed[mode] = compile(patterns[mode])) == NULL)
            abort(); /* a fixed pattern must compile */
        run(fixed[mode], (const char *)data + 1, size - 1);
        return 0;
    }
    if (size < 2)
        return 0;
    size_t plen = data[1] % 65;
    if (plen > size - 2)
        return 0;
    char pattern[65];
    memcpy(pattern, data + 2, plen);
    pattern[plen] = '\0';
    lf_parser *p = compile(pattern);
    if (p) {
        run(p, (const char *)data + 2 + plen, size - 2 - plen);
        lf_parser_free(p);
    }
    return 0;
}

/*
 * fuzz_agent_record_json.c — differential: the agent's one-pass record writer against the
 * general payload encoder over the repaired values. Input: byte 0 = level and flags, then the
 * message, a 0xFE byte, the source, 0xFE, the logger, then labels "key=value" split by 0xFE.
 * Any difference, or a crash, is a finding.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "logflux/payload.h"
#include "pipeline/record_json.h"

static size_t field(const uint8_t **p, const uint8_t *end, char *dst, size_t cap)
{
    size_t n = 0;
    while (*p < end && **p != 0xFE) {
        if (n + 1 < cap && **p != 0)
            dst[n++] = (char)**p;
        (*p)++;
    }
    if (*p < end)
        (*p)++;
    dst[n] = '\0';
    return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    const uint8_t *p = data + 1, *end = data + size;
    const uint8_t *msg = p;
    while (p < end && *p != 0xFE)
        p++;
    size_t msg_len = (size_t)(p - msg);
    if (p < end)
        p++;
    static char src[257], logger[257], keys[20][65], vals[20][257];
    field(&p, end, src, sizeof src);
    field(&p, end, logger, sizeof logger);
    lf_kv kv[20];
    size_t n = 0;
    while (p < end && n < 20) {
        char text[330];
        field(&p, end, text, sizeof text);
        char *eq = strchr(text, '=');
        if (eq == NULL || eq == text || eq - text > 64)
            continue;
        *eq = '\0';
        bool dup = false;
        for (size_t i = 0; i < n; i++)
            dup |= strcmp(keys[i], text) == 0;
        if (dup || strlen(eq + 1) > 256)
            continue;
        strcpy(keys[n], text);
        strcpy(vals[n], eq + 1);
        kv[n] = (lf_kv){keys[n], vals[n]};
        n++;
    }
    lf_agent_record_fields f = {
        .source = src,
        .level = 1 + (data[0] & 7),
        .ts_ns = 1700000000123456789LL,
        .message = (const char *)msg,
        .message_len = msg_len,
        .logger = (data[0] & 8) ? logger : NULL,
        .attributes = kv,
        .n_attributes = n,
    };
    lf_buf fast = LF_BUF_INIT;
    size_t text_len = 0;
    if (!lf_agent_record_json(&fast, &f, &text_len)) {
        /* Declined: only allowed when a non-message field is not valid UTF-8. */
        if (fast.len != 0)
            abort();
        lf_buf_free(&fast);
        return 0;
    }
    char *repaired = malloc(3 * msg_len + 1);
    if (repaired == NULL)
        abort();
    size_t rl = lf_agent_utf8_repair(f.message, msg_len, repaired, LF_PAYLOAD_MAX_MESSAGE);
    if (rl != text_len)
        abort();
    lf_payload pl;
    memset(&pl, 0, sizeof pl);
    pl.type = LF_ENTRY_LOG;
    pl.source = src;
    pl.level = f.level;
    pl.ts_ns = f.ts_ns;
    pl.attributes = kv;
    pl.n_attributes = n;
    pl.log.message = repaired;
    pl.log.logger = f.logger;
    lf_buf slow = LF_BUF_INIT;
    if (lf_payload_encode(&pl, &slow, NULL) != LF_OK)
        abort(); /* the writer accepted what the encoder refuses */
    if (slow.len != fast.len || memcmp(slow.data, fast.data, fast.len) != 0)
        abort();
    free(repaired);
    lf_buf_free(&fast);
    lf_buf_free(&slow);
    return 0;
}

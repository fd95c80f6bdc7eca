/*
 * event.c — the agent's record between input and pipeline (see event.h).
 */
#include "event.h"

#include <string.h>

void lf_agent_event_reset(lf_agent_event *ev)
{
    lf_buf keep = ev->message_buf;
    /* Labels and source are plain arrays: clearing their first bytes and counts is enough; a
     * full memset of ~6 KiB per record would cost more than the record. */
    ev->ts_ns = 0;
    ev->level = 0;
    ev->message = NULL;
    ev->message_len = 0;
    ev->source[0] = '\0';
    ev->logger[0] = '\0';
    ev->n_labels = 0;
    ev->partial = false;
    keep.len = 0;
    ev->message_buf = keep;
}

void lf_agent_event_free(lf_agent_event *ev)
{
    lf_buf_free_secret(&ev->message_buf);
    ev->message = NULL;
    ev->message_len = 0;
}

lf_err lf_agent_event_set_message_copy(lf_agent_event *ev, const void *data, size_t len,
                                       lf_error *err)
{
    ev->message_buf.len = 0;
    if (lf_buf_reserve(&ev->message_buf, len + 1) != LF_OK)
        return lf_error_set(err, LF_ERR_NOMEM, "event: out of memory");
    if (len)
        memcpy(ev->message_buf.data, data, len);
    ev->message_buf.len = len;
    ev->message_buf.data[len] = '\0';
    ev->message = (const char *)ev->message_buf.data;
    ev->message_len = len;
    return LF_OK;
}

size_t lf_agent_utf8_cut(const char *s, size_t len, size_t max)
{
    if (len <= max)
        return len;
    size_t n = max;
    /* Step back over continuation bytes (10xxxxxx) to the start of the cut sequence, and drop
     * that sequence too: it does not fit. */
    while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
        n--;
    return n;
}

static void copy_cut(char *dst, size_t cap, const char *s, size_t len)
{
    size_t n = lf_agent_utf8_cut(s, len, cap - 1);
    if (n)
        memcpy(dst, s, n);
    dst[n] = '\0';
}

static size_t sanitize_key(char *dst, const char *key, size_t key_len)
{
    size_t n = key_len < LF_PAYLOAD_MAX_KEY ? key_len : LF_PAYLOAD_MAX_KEY;
    for (size_t i = 0; i < n; i++) {
        char c = key[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '_' || c == '.' || c == '-';
        dst[i] = ok ? c : '_';
    }
    dst[n] = '\0';
    return n;
}

bool lf_agent_event_set_label(lf_agent_event *ev, const char *key, size_t key_len,
                              const char *value, size_t value_len)
{
    char k[LF_PAYLOAD_MAX_KEY + 1];
    if (key == NULL || key_len == 0 || sanitize_key(k, key, key_len) == 0)
        return false;
    lf_agent_label *slot = NULL;
    for (size_t i = 0; i < ev->n_labels; i++)
        if (strcmp(ev->labels[i].key, k) == 0) {
            slot = &ev->labels[i];
            break;
        }
    if (slot == NULL) {
        if (ev->n_labels >= LF_AGENT_EVENT_MAX_LABELS)
            return false;
        slot = &ev->labels[ev->n_labels++];
        memcpy(slot->key, k, sizeof k);
    }
    copy_cut(slot->value, sizeof slot->value, value ? value : "", value ? value_len : 0);
    return true;
}

const char *lf_agent_event_label(const lf_agent_event *ev, const char *key)
{
    for (size_t i = 0; i < ev->n_labels; i++)
        if (strcmp(ev->labels[i].key, key) == 0)
            return ev->labels[i].value;
    return NULL;
}

void lf_agent_event_set_source(lf_agent_event *ev, const char *s, size_t len)
{
    copy_cut(ev->source, sizeof ev->source, s ? s : "", s ? len : 0);
}

void lf_agent_event_set_logger(lf_agent_event *ev, const char *s, size_t len)
{
    copy_cut(ev->logger, sizeof ev->logger, s ? s : "", s ? len : 0);
}

/*
 * log.c — the agent's own diagnostic log (log.h).
 *
 * A line is built on the stack in a bounded writer that only ever appends whole escape units,
 * so a cut message still leaves a well-formed line (valid JSON, valid UTF-8), then written with
 * one write(2). The repeat limiter is a small direct-mapped table keyed by a hash of (level,
 * component, text): a slot remembers when its message was last written and how many repeats
 * it has swallowed since. A colliding message evicts the slot (reporting its count first), so
 * the table is bounded and the worst a collision does is let one extra line through.
 * One mutex guards the table and the write, which also keeps the order of lines.
 */
#include "ops/log.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "ops/ops_text.h"

#define LOG_SLOTS      64
#define LOG_SLOT_TEXT  512
#define LOG_COMPONENT  32
#define LOG_SUFFIX_MAX 96 /* room kept for the suffix, the closing of the JSON and the newline */

typedef struct log_slot {
    bool used;
    uint64_t hash;
    int64_t last_ms;     /* when this message was last written */
    uint64_t suppressed; /* repeats swallowed since */
    lf_agent_log_level level;
    char component[LOG_COMPONENT];
    char text[LOG_SLOT_TEXT];
} log_slot;

static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
static atomic_int g_level = LF_AGENT_LOG_INFO;
static atomic_bool g_json = false;
static atomic_int g_fd = 2;
static int64_t g_window_ms = (int64_t)LF_AGENT_LOG_DEFAULT_WINDOW_S * 1000;
static int64_t (*g_clock)(void);
static log_slot g_slots[LOG_SLOTS];

static const char *const level_names[] = {"error", "warn", "info", "debug"};

/* ---- configuration ---- */

void lf_agent_log_init(lf_agent_log_level level, bool json)
{
    if ((int)level < LF_AGENT_LOG_ERROR || level > LF_AGENT_LOG_DEBUG)
        level = LF_AGENT_LOG_INFO;
    atomic_store(&g_level, (int)level);
    atomic_store(&g_json, json);
}

lf_err lf_agent_log_level_parse(const char *text, lf_agent_log_level *out, lf_error *err)
{
    for (int i = 0; text != NULL && i <= LF_AGENT_LOG_DEBUG; i++) {
        if (strcasecmp(text, level_names[i]) == 0) {
            *out = (lf_agent_log_level)i;
            return LF_OK;
        }
    }
    if (text != NULL && strcasecmp(text, "warning") == 0) {
        *out = LF_AGENT_LOG_WARN;
        return LF_OK;
    }
    return lf_error_set(err, LF_ERR_INVALID,
                        "log.level: \"%.32s\" is not one of error, warn, info, debug",
                        text ? text : "");
}

bool lf_agent_log_enabled(lf_agent_log_level level)
{
    return (int)level <= atomic_load(&g_level);
}

void lf_agent_log_set_window(unsigned seconds)
{
    pthread_mutex_lock(&g_lock);
    g_window_ms = (int64_t)seconds * 1000;
    memset(g_slots, 0, sizeof g_slots);
    pthread_mutex_unlock(&g_lock);
}

void lf_agent_log_set_clock(int64_t (*now_ms)(void))
{
    pthread_mutex_lock(&g_lock);
    g_clock = now_ms;
    pthread_mutex_unlock(&g_lock);
}

void lf_agent_log_set_fd(int fd)
{
    atomic_store(&g_fd, fd);
}

static int64_t monotonic_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- the bounded line writer ---- */

typedef struct line {
    char buf[LF_AGENT_LOG_LINE_MAX];
    size_t len;
    size_t limit; /* appends past this are refused (and mark the line cut) */
    bool cut;
} line;

static void put(line *l, const char *s, size_t n)
{
    if (l->cut || l->len + n > l->limit) {
        l->cut = true;
        return;
    }
    memcpy(l->buf + l->len, s, n);
    l->len += n;
}

static void put_str(line *l, const char *s)
{
    put(l, s, strlen(s));
}

static void put_escaped(line *l, const char *s, bool json)
{
    const uint8_t *p = (const uint8_t *)s;
    size_t n = strlen(s);
    for (size_t i = 0; i < n && !l->cut;) {
        char unit[LF_AGENT_ESCAPE_UNIT_MAX];
        size_t used;
        size_t k = lf_agent_escape_unit(p + i, n - i, json, unit, &used);
        put(l, unit, k);
        i += used;
    }
}

static void put_timestamp(line *l)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    char text[72];
    snprintf(text, sizeof text, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
             tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
             (int)(ts.tv_nsec / 1000000));
    put_str(l, text);
}

/*
 * Write one line. summary: this line reports `suppressed` repeats of a message that has not
 * recurred, rather than a new occurrence that also carries the count of repeats before it.
 */
static void emit(lf_agent_log_level level, const char *component, const char *msg,
                 uint64_t suppressed, bool summary)
{
    bool json = atomic_load(&g_json);
    line l = {.len = 0, .limit = sizeof l.buf - LOG_SUFFIX_MAX, .cut = false};
    if (json) {
        put_str(&l, "{\"ts\":\"");
        put_timestamp(&l);
        put_str(&l, "\",\"level\":\"");
        put_str(&l, level_names[level]);
        put_str(&l, "\",\"component\":\"");
        put_escaped(&l, component, true);
        put_str(&l, "\",\"msg\":\"");
        put_escaped(&l, msg, true);
    } else {
        put_timestamp(&l);
        char lv[16];
        snprintf(lv, sizeof lv, " %-5s [", level_names[level]);
        put_str(&l, lv);
        put_escaped(&l, component, false);
        put_str(&l, "] ");
        if (summary) {
            char head[48];
            snprintf(head, sizeof head, "suppressed %" PRIu64 " repeats of: ", suppressed);
            put_str(&l, head);
        }
        put_escaped(&l, msg, false);
    }
    /* The suffix always fits: LOG_SUFFIX_MAX was kept for it. */
    bool cut = l.cut;
    l.cut = false;
    l.limit = sizeof l.buf;
    if (cut)
        put_str(&l, "...");
    char tail[LOG_SUFFIX_MAX];
    if (json) {
        if (suppressed > 0)
            snprintf(tail, sizeof tail, "\",\"suppressed\":%" PRIu64 "%s}\n", suppressed,
                     summary ? ",\"summary\":true" : "");
        else
            snprintf(tail, sizeof tail, "\"}\n");
    } else if (suppressed > 0 && !summary) {
        snprintf(tail, sizeof tail, " (suppressed %" PRIu64 ")\n", suppressed);
    } else {
        snprintf(tail, sizeof tail, "\n");
    }
    put_str(&l, tail);
    int fd = atomic_load(&g_fd);
    for (size_t off = 0; off < l.len;) {
        ssize_t w = write(fd, l.buf + off, l.len - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            break; /* nowhere to complain to: the log itself is what failed */
        off += (size_t)w;
    }
}

/* ---- the repeat limiter ---- */

static uint64_t message_hash(lf_agent_log_level level, const char *component, const char *msg)
{
    uint64_t h = 1469598103934665603ull;
    h = (h ^ (uint64_t)level) * 1099511628211ull;
    for (const char *p = component; *p; p++)
        h = (h ^ (uint8_t)*p) * 1099511628211ull;
    h = (h ^ 0xFF) * 1099511628211ull; /* separator: "ab"+"c" differs from "a"+"bc" */
    for (const char *p = msg; *p; p++)
        h = (h ^ (uint8_t)*p) * 1099511628211ull;
    return h;
}

static void report_slot(log_slot *s)
{
    if (s->used && s->suppressed > 0) {
        emit(s->level, s->component, s->text, s->suppressed, true);
        s->suppressed = 0;
    }
}

/* Report the counts of messages whose window has passed without them recurring. */
static void report_expired(int64_t now, uint64_t except_hash)
{
    for (size_t i = 0; i < LOG_SLOTS; i++) {
        log_slot *s = &g_slots[i];
        if (s->used && s->suppressed > 0 && s->hash != except_hash &&
            now - s->last_ms >= g_window_ms)
            report_slot(s);
    }
}

static void copy_text(char *dst, size_t cap, const char *src)
{
    size_t n = strlen(src);
    if (n >= cap) {
        n = cap - 1;
        /* Cut on a character boundary (back off continuation bytes). */
        while (n > 0 && ((uint8_t)src[n] & 0xC0) == 0x80)
            n--;
    }
    memcpy(dst, src, n);
    dst[n] = '\0';
}

void lf_agent_logv(lf_agent_log_level level, const char *component, const char *fmt, va_list ap)
{
    if ((int)level < LF_AGENT_LOG_ERROR || level > LF_AGENT_LOG_DEBUG)
        level = LF_AGENT_LOG_ERROR;
    if (!lf_agent_log_enabled(level))
        return;
    if (component == NULL)
        component = "agent";
    char msg[LF_AGENT_LOG_LINE_MAX];
    msg[0] = '\0';
    if (fmt != NULL)
        vsnprintf(msg, sizeof msg, fmt, ap);
    uint64_t hash = message_hash(level, component, msg);

    pthread_mutex_lock(&g_lock);
    int64_t now = g_clock ? g_clock() : monotonic_ms();
    uint64_t suppressed = 0;
    if (g_window_ms > 0) {
        report_expired(now, hash);
        log_slot *s = &g_slots[hash % LOG_SLOTS];
        if (s->used && s->hash == hash) {
            if (now - s->last_ms < g_window_ms) {
                s->suppressed++;
                pthread_mutex_unlock(&g_lock);
                return;
            }
            suppressed = s->suppressed;
        } else {
            report_slot(s); /* a different message held the slot: its count goes out first */
        }
        s->used = true;
        s->hash = hash;
        s->last_ms = now;
        s->suppressed = 0;
        s->level = level;
        copy_text(s->component, sizeof s->component, component);
        copy_text(s->text, sizeof s->text, msg);
    }
    emit(level, component, msg, suppressed, false);
    pthread_mutex_unlock(&g_lock);
}

void lf_agent_log(lf_agent_log_level level, const char *component, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    lf_agent_logv(level, component, fmt, ap);
    va_end(ap);
}

void lf_agent_log_reset_repeats(void)
{
    pthread_mutex_lock(&g_lock);
    for (size_t i = 0; i < LOG_SLOTS; i++)
        report_slot(&g_slots[i]);
    memset(g_slots, 0, sizeof g_slots);
    pthread_mutex_unlock(&g_lock);
}

void lf_agent_log_flush(void)
{
    pthread_mutex_lock(&g_lock);
    for (size_t i = 0; i < LOG_SLOTS; i++)
        report_slot(&g_slots[i]);
    pthread_mutex_unlock(&g_lock);
}

/*
 * wait.c — blocking helpers of the agent buffer: the appender waits for room (block policy),
 * the shipper waits for items, shutdown wakes both. Condition variables on the buffer's one
 * mutex, signalled where the state changes (append: items_cv; ack, drop, quarantine:
 * space_cv); nothing polls. Deadlines use CLOCK_MONOTONIC so a wall-clock step cannot stretch
 * or cut a wait.
 */
#include "buffer/buffer_int.h"

#include <errno.h>
#include <time.h>

static struct timespec deadline_after(int timeout_ms)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    ts.tv_sec += timeout_ms / 1000;
    ts.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    return ts;
}

/* No segment holds an item: an append can then only be refused as too large, never as full. */
static bool holds_no_item(const lf_agent_buffer *b)
{
    for (size_t i = 0; i < b->nsegs; i++)
        if (b->segs[i].n > 0)
            return false;
    return true;
}

typedef bool (*wait_ready_fn)(const lf_agent_buffer *b, uint64_t arg);

/*
 * Wait on cv until ready(b, arg), wake, or the timeout. Called with b->mu held. The condition
 * is checked once more after a timeout, so a change that raced the deadline still counts.
 */
static lf_err wait_until(lf_agent_buffer *b, pthread_cond_t *cv, wait_ready_fn ready, uint64_t arg,
                         int timeout_ms, const char *what, lf_error *err)
{
    struct timespec deadline = deadline_after(timeout_ms > 0 ? timeout_ms : 0);
    bool timed_out = false;
    for (;;) {
        if (b->woken)
            return lf_error_set(err, LF_ERR_NOT_FOUND, "agent buffer: woken while waiting for %s",
                                what);
        if (ready(b, arg))
            return LF_OK;
        if (timed_out || timeout_ms == 0)
            return lf_error_set(err, LF_ERR_NOT_FOUND, "agent buffer: timed out waiting for %s",
                                what);
        int rc = timeout_ms < 0 ? pthread_cond_wait(cv, &b->mu)
                                : pthread_cond_timedwait(cv, &b->mu, &deadline);
        if (rc == ETIMEDOUT)
            timed_out = true;
    }
}

static bool space_ready(const lf_agent_buffer *b, uint64_t size)
{
    return b->policy == LF_AGENT_BUFFER_DROP_OLDEST || holds_no_item(b) || abuf_fits(b, size);
}

static bool items_ready(const lf_agent_buffer *b, uint64_t unused)
{
    (void)unused;
    return b->st.items_pending > 0;
}

lf_err lf_agent_buffer_wait_space(lf_agent_buffer *b, size_t bytes, int timeout_ms, lf_error *err)
{
    if (b == NULL)
        return lf_error_set(err, LF_ERR_INVALID, "agent buffer: wait_space needs a buffer");
    if (bytes > LF_AGENT_BUFFER_BODY_MAX + LF_AGENT_BUFFER_CURSOR_MAX)
        return lf_error_set(err, LF_ERR_TOO_LARGE, "agent buffer: %zu bytes can never be stored",
                            bytes);
    /* The caller knows only the payload: assume the largest metadata, so LF_OK is a promise. */
    uint64_t size = abuf_item_size(LF_AGENT_BUFFER_APP_MAX, LF_AGENT_BUFFER_KEY_MAX,
                                   LF_AGENT_BUFFER_SOURCE_MAX, 0, bytes);
    uint64_t least = abuf_item_size(1, LF_AGENT_BUFFER_KEY_MIN, 0, 0, bytes);
    if (least + ABUF_SEG_HDR > b->max_bytes)
        return lf_error_set(err, LF_ERR_TOO_LARGE,
                            "agent buffer: an item of %zu bytes can never fit the bound", bytes);
    pthread_mutex_lock(&b->mu);
    lf_err rc = wait_until(b, &b->space_cv, space_ready, size, timeout_ms, "space", err);
    pthread_mutex_unlock(&b->mu);
    return rc;
}

lf_err lf_agent_buffer_wait_items(lf_agent_buffer *b, int timeout_ms, lf_error *err)
{
    if (b == NULL)
        return lf_error_set(err, LF_ERR_INVALID, "agent buffer: wait_items needs a buffer");
    pthread_mutex_lock(&b->mu);
    lf_err rc = wait_until(b, &b->items_cv, items_ready, 0, timeout_ms, "items", err);
    pthread_mutex_unlock(&b->mu);
    return rc;
}

void lf_agent_buffer_wake(lf_agent_buffer *b)
{
    if (b == NULL)
        return;
    pthread_mutex_lock(&b->mu);
    b->woken = true;
    pthread_cond_broadcast(&b->space_cv);
    pthread_cond_broadcast(&b->items_cv);
    pthread_mutex_unlock(&b->mu);
}

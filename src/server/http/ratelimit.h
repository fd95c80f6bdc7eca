/*
 * ratelimit.h — token buckets keyed by a string (an API key id, a client IP), for the 429 +
 * Retry-After + X-RateLimit-* answers clients expect. Thread-safe; memory is bounded by a fixed
 * number of buckets: when the table is full, the least recently used bucket in the probe
 * window is recycled (a recycled key starts with a full bucket, which errs on the side of
 * serving, never of refusing a well-behaved client).
 */
#ifndef LFD_RATELIMIT_H
#define LFD_RATELIMIT_H

#include <stdbool.h>
#include <stdint.h>

#include "logflux/error.h"

typedef struct lfd_ratelimit lfd_ratelimit;

typedef struct lfd_rate_decision {
    bool allowed;
    uint32_t limit;       /* bucket size (burst) */
    uint32_t remaining;   /* whole tokens left after this request */
    int64_t reset_unix;   /* Unix seconds when the bucket is full again */
    uint32_t retry_after; /* seconds to wait when refused (>= 1) */
} lfd_rate_decision;

lf_err lfd_ratelimit_new(uint32_t max_buckets, lfd_ratelimit **out, lf_error *err);
void lfd_ratelimit_free(lfd_ratelimit *rl);
/* Take `cost` tokens from the bucket of `key` refilling at `rate` tokens/s up to `burst`.
 * now_ms: a clock in milliseconds (CLOCK_REALTIME-based, so reset_unix is meaningful).
 * rate == 0 disables limiting (always allowed). */
lfd_rate_decision lfd_ratelimit_take(lfd_ratelimit *rl, const char *key, double rate,
                                     uint32_t burst, uint32_t cost, int64_t now_ms);

#endif

/*
 * ratelimit.c — bounded table of token buckets (see ratelimit.h). Open addressing on a
 * 64-bit FNV-1a hash of the key; one mutex (a bucket update is a few arithmetic operations,
 * far cheaper than the request around it).
 */
#include "ratelimit.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define KEY_MAX 96
#define PROBES  16

typedef struct bucket {
    uint64_t hash;
    char key[KEY_MAX];
    double tokens;
    int64_t updated_ms;
    bool used;
} bucket;

struct lfd_ratelimit {
    pthread_mutex_t lock;
    bucket *slots;
    uint32_t n;
};

static uint64_t fnv1a(const char *s)
{
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++)
        h = (h ^ (uint8_t)*s) * 1099511628211ull;
    return h;
}

lf_err lfd_ratelimit_new(uint32_t max_buckets, lfd_ratelimit **out, lf_error *err)
{
    if (max_buckets < PROBES)
        max_buckets = PROBES;
    lfd_ratelimit *rl = calloc(1, sizeof *rl);
    if (rl == NULL || (rl->slots = calloc(max_buckets, sizeof *rl->slots)) == NULL) {
        free(rl);
        return lf_error_set(err, LF_ERR_NOMEM, "ratelimit: out of memory");
    }
    rl->n = max_buckets;
    pthread_mutex_init(&rl->lock, NULL);
    *out = rl;
    return LF_OK;
}

void lfd_ratelimit_free(lfd_ratelimit *rl)
{
    if (rl == NULL)
        return;
    pthread_mutex_destroy(&rl->lock);
    free(rl->slots);
    free(rl);
}

/* The bucket for key: found, else a free slot, else the stalest slot in the probe window. */
static bucket *find_slot(lfd_ratelimit *rl, const char *key, uint64_t h, double burst,
                         int64_t now_ms)
{
    bucket *victim = NULL;
    for (uint32_t i = 0; i < PROBES; i++) {
        bucket *b = &rl->slots[(h + i) % rl->n];
        if (b->used && b->hash == h && strcmp(b->key, key) == 0)
            return b;
        if (!b->used) {
            victim = b;
            break;
        }
        if (victim == NULL || b->updated_ms < victim->updated_ms)
            victim = b;
    }
    victim->used = true;
    victim->hash = h;
    snprintf(victim->key, sizeof victim->key, "%s", key);
    victim->tokens = burst;
    victim->updated_ms = now_ms;
    return victim;
}

lfd_rate_decision lfd_ratelimit_take(lfd_ratelimit *rl, const char *key, double rate,
                                     uint32_t burst, uint32_t cost, int64_t now_ms)
{
    lfd_rate_decision d = {.allowed = true, .limit = burst, .remaining = burst};
    d.reset_unix = now_ms / 1000;
    if (rate <= 0 || burst == 0)
        return d;
    uint64_t h = fnv1a(key);
    pthread_mutex_lock(&rl->lock);
    bucket *b = find_slot(rl, key, h, burst, now_ms);
    if (now_ms > b->updated_ms) {
        b->tokens = fmin((double)burst, b->tokens + rate * (double)(now_ms - b->updated_ms) / 1e3);
        b->updated_ms = now_ms;
    }
    if (b->tokens >= cost) {
        b->tokens -= cost;
    } else {
        d.allowed = false;
        d.retry_after = (uint32_t)ceil(((double)cost - b->tokens) / rate);
        if (d.retry_after < 1)
            d.retry_after = 1;
    }
    d.remaining = (uint32_t)floor(b->tokens);
    d.reset_unix = (now_ms + (int64_t)ceil(((double)burst - b->tokens) / rate * 1e3)) / 1000;
    pthread_mutex_unlock(&rl->lock);
    return d;
}

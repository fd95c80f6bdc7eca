/*
 * bench_util.h — a tiny timing harness shared by the benchmarks: run an operation repeatedly
 * for a fixed wall-clock budget and report operations per second. Header-only so each
 * bench_*.c stays a single self-contained program.
 */
#ifndef LF_BENCH_UTIL_H
#define LF_BENCH_UTIL_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static inline double bench_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Calls op(ctx) in batches until `seconds` have passed; returns operations per second.
 * op returns 0 on success; a failure aborts the benchmark (a failing op measures nothing). */
static inline double bench_rate(double seconds, int (*op)(void *), void *ctx)
{
    uint64_t n = 0, batch = 16;
    double start = bench_now(), elapsed = 0;
    while (elapsed < seconds) {
        for (uint64_t i = 0; i < batch; i++) {
            if (op(ctx) != 0) {
                fprintf(stderr, "bench: operation failed\n");
                exit(1);
            }
        }
        n += batch;
        if (batch < 4096)
            batch *= 2;
        elapsed = bench_now() - start;
    }
    return (double)n / elapsed;
}

#endif

/*
 * spool_bench.c — group-commit throughput of the spool: appends/s of 1 KiB records with 1, 8 and
 * 64 concurrent appenders (each append returns only after fdatasync), plus records per fsync.
 *
 *   spool-bench [DIR-PARENT] [SECONDS-PER-RUN]   (defaults: /tmp, 2)
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "queue/spool.h"

static lf_queue *queue;
static atomic_bool stop;
static atomic_ullong done;

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void *appender(void *arg)
{
    uint8_t rec[1024];
    memset(rec, 0x5a, sizeof rec);
    while (!atomic_load(&stop)) {
        uint64_t seq;
        if (lf_queue_append1(queue, rec, sizeof rec, &seq, NULL) == LF_OK)
            atomic_fetch_add(&done, 1);
    }
    return NULL;
}

static void *releaser(void *arg)
{
    while (!atomic_load(&stop)) {
        usleep(50000);
        lf_queue_stats st;
        lf_queue_stats_get(queue, &st);
        if (st.durable_seq > st.released_seq)
            lf_queue_release(queue, st.durable_seq, NULL);
    }
    return NULL;
}

int main(int argc, char **argv)
{
    const char *parent = argc > 1 ? argv[1] : "/tmp";
    double secs = argc > 2 ? atof(argv[2]) : 2.0;
    int counts[] = {1, 8, 64};
    printf("threads  appends/s  records/fsync  MiB/s\n");
    for (size_t c = 0; c < sizeof counts / sizeof *counts; c++) {
        char dir[512];
        snprintf(dir, sizeof dir, "%s/spool-bench-XXXXXX", parent);
        if (!mkdtemp(dir)) {
            perror("mkdtemp");
            return 1;
        }
        lf_error err = {0};
        if (lf_spool_open(dir, NULL, &queue, &err) != LF_OK) {
            fprintf(stderr, "open: %s\n", err.message);
            return 1;
        }
        atomic_store(&stop, false);
        atomic_store(&done, 0);
        pthread_t th[64], rel;
        double t0 = now();
        for (int i = 0; i < counts[c]; i++)
            pthread_create(&th[i], NULL, appender, NULL);
        pthread_create(&rel, NULL, releaser, NULL);
        usleep((useconds_t)(secs * 1e6));
        atomic_store(&stop, true);
        for (int i = 0; i < counts[c]; i++)
            pthread_join(th[i], NULL);
        pthread_join(rel, NULL);
        double dt = now() - t0;
        lf_queue_stats st;
        lf_queue_stats_get(queue, &st);
        unsigned long long n = atomic_load(&done);
        printf("%7d  %9.0f  %13.1f  %5.1f\n", counts[c], (double)n / dt,
               st.syncs ? (double)n / (double)st.syncs : 0.0, (double)n * 1048 / dt / 1048576);
        lf_queue_release(queue, st.durable_seq, NULL);
        lf_queue_close(queue);
        char cmd[600];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
        if (system(cmd) != 0)
            fprintf(stderr, "could not remove %s\n", dir);
    }
    return 0;
}

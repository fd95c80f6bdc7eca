/*
 * cli_deadletter.c — `logflux-agent --requeue-dead-letters --config FILE` (see
 * cli_deadletter.h).
 *
 * The work itself is lf_agent_ship_dead_letter_requeue; this file is the command around it:
 * load the config, make sure no agent is using the buffer, open the buffer and the dead-letter
 * folder where the agent keeps them, say what happened.
 *
 * Why the "is an agent running" check scans /proc: the buffer takes no lock on its directory
 * (two processes could open it and both append, each with its own idea of the next id — two
 * items with one id, and acks that skip items). What every open buffer does hold is a
 * descriptor on its directory (and on its active segment), so a process with one under
 * <state_dir>/buffer is using it. The check is best effort: Linux only, it sees processes of
 * the same user (or all, as root: an agent running as another user would not let us write its
 * 0700 buffer anyway), and an agent started during the requeue is not seen. A lock taken by
 * lf_agent_buffer_open would close those gaps.
 */
#define _GNU_SOURCE
#include "cli_deadletter.h"

#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buffer/buffer.h"
#include "config/agent_config.h"
#include "ship/ship.h"

/*
 * The pid of another process holding `dir` or a file below it open; 0 if there is none (or
 * `dir` does not exist yet); -1 if /proc cannot be read (the check is then skipped).
 */
static long buffer_holder(const char *dir)
{
    char real[PATH_MAX];
    if (realpath(dir, real) == NULL)
        return 0;
    size_t real_len = strlen(real);
    DIR *proc = opendir("/proc");
    if (proc == NULL)
        return -1;
    long self = (long)getpid(), found = 0;
    struct dirent *p;
    while (found == 0 && (p = readdir(proc)) != NULL) {
        char *end = NULL;
        long pid = strtol(p->d_name, &end, 10);
        if (end == p->d_name || *end != '\0' || pid <= 0 || pid == self)
            continue;
        char fd_dir[64];
        snprintf(fd_dir, sizeof fd_dir, "/proc/%ld/fd", pid);
        DIR *fds = opendir(fd_dir); /* fails for other users' processes and ones that exited */
        if (fds == NULL)
            continue;
        struct dirent *f;
        while ((f = readdir(fds)) != NULL) {
            if (f->d_name[0] == '.')
                continue;
            char link[512], target[PATH_MAX];
            snprintf(link, sizeof link, "%s/%s", fd_dir, f->d_name);
            ssize_t n = readlink(link, target, sizeof target - 1);
            if (n <= 0)
                continue;
            target[n] = '\0';
            if (strncmp(target, real, real_len) == 0 &&
                (target[real_len] == '\0' || target[real_len] == '/')) {
                found = pid;
                break;
            }
        }
        closedir(fds);
    }
    closedir(proc);
    return found;
}

/* Complete-looking entries (sidecars) and how many of them were partially refused: replaying
 * those sends their accepted frames a second time, which the operator should know. */
static void count_entries(const char *dir, size_t *total, size_t *partial)
{
    *total = *partial = 0;
    DIR *d = opendir(dir);
    if (d == NULL)
        return;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        size_t len = strlen(e->d_name);
        if (len <= 5 || strcmp(e->d_name + len - 5, ".json") != 0)
            continue;
        char path[PATH_MAX];
        if (snprintf(path, sizeof path, "%s/%s", dir, e->d_name) >= (int)sizeof path)
            continue;
        json_t *j = json_load_file(path, 0, NULL);
        const char *reason = json_string_value(json_object_get(j, "reason"));
        (*total)++;
        if (reason != NULL && strcmp(reason, "partially_refused") == 0)
            (*partial)++;
        json_decref(j);
    }
    closedir(d);
}

static int requeue(const lf_agent_config *cfg)
{
    char buffer_dir[PATH_MAX], dl_dir[PATH_MAX];
    if (snprintf(buffer_dir, sizeof buffer_dir, "%s/buffer", cfg->state_dir) >=
            (int)sizeof buffer_dir ||
        snprintf(dl_dir, sizeof dl_dir, "%s/dead-letter", cfg->state_dir) >= (int)sizeof dl_dir) {
        fprintf(stderr, "logflux-agent: state_dir is too long\n");
        return LF_AGENT_CLI_REQUEUE_FAILED;
    }
    struct stat st;
    if (stat(dl_dir, &st) != 0) {
        if (errno != ENOENT) {
            fprintf(stderr, "logflux-agent: %s: %s\n", dl_dir, strerror(errno));
            return LF_AGENT_CLI_REQUEUE_FAILED;
        }
        printf("requeued 0 dead letters (%s does not exist)\n", dl_dir);
        return 0;
    }
    long holder = buffer_holder(buffer_dir);
    if (holder > 0) {
        fprintf(stderr,
                "logflux-agent: process %ld has %s open (a running agent?): stop it, then "
                "requeue\n",
                holder, buffer_dir);
        return LF_AGENT_CLI_REQUEUE_RUNNING;
    }
    if (holder < 0)
        fprintf(stderr, "logflux-agent: warning: /proc unreadable, cannot check that no agent "
                        "uses the buffer; make sure none runs\n");
    size_t total = 0, partial = 0;
    count_entries(dl_dir, &total, &partial);
    if (partial > 0)
        fprintf(stderr,
                "logflux-agent: warning: %zu of the dead letters were partially refused: "
                "their accepted frames will be stored a second time\n",
                partial);

    /* Block, never drop_oldest: making room for old refusals by deleting pending data would
     * trade one loss for another. */
    lf_agent_buffer_options bo = {.max_bytes = cfg->buffer_max_bytes,
                                  .segment_bytes = cfg->buffer_segment_bytes,
                                  .policy = LF_AGENT_BUFFER_BLOCK};
    lf_agent_buffer *buf = NULL;
    lf_error err = {0};
    if (lf_agent_buffer_open(buffer_dir, &bo, &buf, &err) != LF_OK) {
        fprintf(stderr, "logflux-agent: %s\n", err.message);
        return LF_AGENT_CLI_REQUEUE_FAILED;
    }
    size_t n = 0;
    lf_err rc = lf_agent_ship_dead_letter_requeue(dl_dir, buf, &n, &err);
    lf_agent_buffer_stats bs;
    lf_agent_buffer_stats_get(buf, &bs);
    lf_agent_buffer_close(buf);
    printf("requeued %zu dead letters from %s into %s (%llu items pending there)\n", n, dl_dir,
           buffer_dir, (unsigned long long)bs.items_pending);
    if (rc == LF_OK)
        return 0;
    if (rc == LF_ERR_FULL)
        fprintf(stderr,
                "logflux-agent: the buffer is full: start the agent so it ships, then run "
                "this again for the %zu left (%s)\n",
                total > n ? total - n : 0, err.message);
    else
        fprintf(stderr, "logflux-agent: requeue stopped: %s\n", err.message);
    return LF_AGENT_CLI_REQUEUE_FAILED;
}

int lf_agent_cli_requeue(const char *config_path)
{
    if (config_path == NULL) {
        fprintf(stderr, "logflux-agent: --requeue-dead-letters needs --config FILE\n");
        return LF_AGENT_CLI_REQUEUE_CONFIG;
    }
    lf_agent_config *cfg = calloc(1, sizeof *cfg);
    if (cfg == NULL) {
        fprintf(stderr, "logflux-agent: out of memory\n");
        return LF_AGENT_CLI_REQUEUE_FAILED;
    }
    lf_error err = {0};
    if (lf_agent_config_load(config_path, cfg, &err) != LF_OK) {
        fprintf(stderr, "logflux-agent: %s\n", err.message);
        free(cfg);
        return LF_AGENT_CLI_REQUEUE_CONFIG;
    }
    int status = requeue(cfg);
    lf_agent_config_free(cfg);
    free(cfg);
    return status;
}

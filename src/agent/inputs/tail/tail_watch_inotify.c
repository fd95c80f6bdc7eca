/*
 * tail_watch_inotify.c — inotify as a wakeup source only. It watches the directory of every
 * glob whose directory part has no wildcard; any event there (a file written, created, moved,
 * deleted) wakes lf_tail_next early. All decisions are still made from stat/fstat and the
 * content fingerprint, so missing or overflowing events cost only latency: polling
 * (tail_watch_poll.c) runs regardless.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <time.h>
#include <unistd.h>

#include "tail_int.h"

void tail_inotify_init(lf_tail *t)
{
    t->inotify_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (t->inotify_fd < 0)
        return;
    int watches = 0;
    for (size_t i = 0; i < t->n_globs; i++) {
        char *dir = strdup(t->globs[i]);
        if (!dir)
            continue;
        char *slash = strrchr(dir, '/');
        if (slash == dir)
            slash[1] = '\0';
        else if (slash)
            *slash = '\0';
        else
            strcpy(dir, ".");
        if (!strpbrk(dir, "*?[") &&
            inotify_add_watch(t->inotify_fd, dir,
                              IN_MODIFY | IN_CREATE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE |
                                  IN_ATTRIB | IN_CLOSE_WRITE) >= 0)
            watches++;
        free(dir);
    }
    if (watches == 0)
        tail_inotify_close(t);
}

void tail_inotify_close(lf_tail *t)
{
    if (t->inotify_fd >= 0)
        close(t->inotify_fd);
    t->inotify_fd = -1;
}

bool tail_inotify_wait(lf_tail *t, int ms)
{
    if (ms < 0)
        ms = 0;
    if (t->inotify_fd < 0) {
        struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
        while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
            ;
        return false;
    }
    struct pollfd pfd = {.fd = t->inotify_fd, .events = POLLIN};
    if (poll(&pfd, 1, ms) <= 0)
        return false;
    /* Drain: the content of events does not matter, only that something happened. */
    char evbuf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
    while (read(t->inotify_fd, evbuf, sizeof evbuf) > 0)
        ;
    return true;
}

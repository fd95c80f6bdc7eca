/*
 * stdin.c — the stdin input (see stdin.h).
 *
 * The descriptor is never switched to O_NONBLOCK: stdin's file description is usually
 * shared with the shell or the service manager, and flipping its flags would change their
 * reads too. Instead next() waits in poll(2) (in slices, to honour the stop flag and the
 * timeout) and then reads once, which does not block on a pipe, FIFO or terminal that
 * poll reported readable, nor on a regular file.
 *
 * A FIFO given by path is opened read-write, so that the input never sees end-of-file when
 * a writer closes: writers may come and go (a FIFO as a log sink). Standard input, a given
 * descriptor or a regular file are read to their end; then `finished` is set.
 *
 * A line longer than max_line_bytes is returned in pieces of max_line_bytes (counted), so
 * nothing is lost and nothing unbounded is held.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "stdin.h"

#define STDIN_READ_CHUNK    (64u * 1024u)
#define STDIN_STOP_CHECK_MS 100

typedef struct stdin_config {
    int64_t fd;
    char *path;
    uint64_t max_line_bytes;
} stdin_config;

typedef struct stdin_input {
    lf_agent_input base;
    const atomic_bool *stop;
    int fd;
    bool owned; /* opened by us (path): closed at destroy */
    size_t max_line;
    lf_buf buf; /* unconsumed bytes are buf.data[pos..buf.len) */
    size_t pos;
    size_t scanned; /* bytes after pos known to hold no '\n' */
    bool eof;
    uint64_t lines, bytes, split_lines, read_errors;
} stdin_input;

static const lf_option stdin_options[] = {
    {"fd", LF_OPT_INT, "0", 0, 65535, NULL, offsetof(stdin_config, fd),
     "Inherited file descriptor to read (0 = standard input). Ignored when path is set."},
    {"path", LF_OPT_STRING, "", 0, 0, NULL, offsetof(stdin_config, path),
     "Read this file or FIFO instead. A FIFO is kept open across writers (never ends); a "
     "file is read once to its end."},
    {"max_line_bytes", LF_OPT_SIZE, "64KiB", 16, 64 << 20, NULL,
     offsetof(stdin_config, max_line_bytes),
     "Longest line; a longer one is returned in pieces of this size (counted)."},
};

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The next line (or piece, or final unterminated line) in the buffer, if any. */
static bool take_line(stdin_input *s, lf_agent_event *ev)
{
    if (!s->buf.data)
        return false; /* nothing read yet */
    size_t avail = s->buf.len - s->pos;
    const char *start = (const char *)s->buf.data + s->pos;
    const char *nl =
        avail > s->scanned ? memchr(start + s->scanned, '\n', avail - s->scanned) : NULL;
    size_t n, used;
    if (nl && (size_t)(nl - start) <= s->max_line) {
        n = (size_t)(nl - start);
        used = n + 1;
    } else if (avail >= s->max_line) {
        n = used = s->max_line; /* too long: a piece now, the rest later */
        s->split_lines++;
    } else if (s->eof && avail > 0) {
        n = used = avail; /* the last line had no '\n' */
    } else {
        s->scanned = avail;
        return false;
    }
    s->pos += used;
    s->scanned = 0;
    s->lines++;
    s->bytes += n;
    ev->message = start;
    ev->message_len = n;
    return true;
}

/* Wait up to wait_ms, then read once. LF_OK also when nothing came. */
static lf_err fill(stdin_input *s, int wait_ms, lf_error *err)
{
    struct pollfd p = {.fd = s->fd, .events = POLLIN};
    int rc = poll(&p, 1, wait_ms);
    if (rc <= 0)
        return LF_OK;
    if (s->pos > 0) { /* the previous record is no longer borrowed: compact */
        memmove(s->buf.data, s->buf.data + s->pos, s->buf.len - s->pos);
        s->buf.len -= s->pos;
        s->pos = 0;
    }
    if (lf_buf_reserve(&s->buf, STDIN_READ_CHUNK) != LF_OK)
        return lf_error_set(err, LF_ERR_NOMEM, "stdin: out of memory");
    ssize_t n = read(s->fd, s->buf.data + s->buf.len, STDIN_READ_CHUNK);
    if (n > 0) {
        s->buf.len += (size_t)n;
    } else if (n == 0) {
        s->eof = true;
    } else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
        /* An unreadable descriptor will not get better: end the input. */
        s->read_errors++;
        s->eof = true;
        return lf_error_set(err, LF_ERR_IO, "stdin: read fd %d: %s", s->fd, strerror(errno));
    }
    return LF_OK;
}

static lf_err stdin_next(lf_agent_input *in, lf_agent_event *ev, int timeout_ms, lf_error *err)
{
    stdin_input *s = (stdin_input *)in;
    int64_t deadline = now_ms() + (timeout_ms > 0 ? timeout_ms : 0);
    bool polled = false;
    for (;;) {
        if (atomic_load(s->stop))
            return LF_ERR_NOT_FOUND;
        if (take_line(s, ev))
            return LF_OK;
        if (s->eof) {
            atomic_store(&s->base.finished, true);
            return LF_ERR_NOT_FOUND;
        }
        int64_t left = deadline - now_ms();
        if (left <= 0 && polled)
            return LF_ERR_NOT_FOUND;
        lf_err e = fill(s,
                        left <= 0                    ? 0
                        : left > STDIN_STOP_CHECK_MS ? STDIN_STOP_CHECK_MS
                                                     : (int)left,
                        err);
        if (e != LF_OK)
            return e;
        polled = true;
    }
}

static lf_err stdin_restore(lf_agent_input *in, const uint8_t *cursor, size_t len, lf_error *err)
{
    (void)in;
    (void)cursor;
    (void)len;
    (void)err;
    return LF_OK; /* a pipe cannot be replayed: no cursor is ever written */
}

static void stdin_write_metrics(lf_agent_input *in, lf_buf *out)
{
    stdin_input *s = (stdin_input *)in;
    lf_agent_input_metric(out, "logflux_agent_stdin_lines_total", s->base.name, s->lines);
    lf_agent_input_metric(out, "logflux_agent_stdin_bytes_total", s->base.name, s->bytes);
    lf_agent_input_metric(out, "logflux_agent_stdin_split_lines_total", s->base.name,
                          s->split_lines);
    lf_agent_input_metric(out, "logflux_agent_stdin_read_errors_total", s->base.name,
                          s->read_errors);
}

static void stdin_destroy(lf_agent_input *in)
{
    stdin_input *s = (stdin_input *)in;
    if (!s)
        return;
    if (s->owned && s->fd >= 0)
        close(s->fd);
    lf_buf_free_secret(&s->buf);
    free(s);
}

static const lf_agent_input_vtable stdin_vtable = {
    .next = stdin_next,
    .cursor = NULL,
    .commit = NULL,
    .restore = stdin_restore,
    .write_metrics = stdin_write_metrics,
    .destroy = stdin_destroy,
};

static lf_err open_path(stdin_input *s, const char *path, lf_error *err)
{
    struct stat st;
    if (stat(path, &st) != 0)
        return lf_error_set(err, LF_ERR_IO, "stdin: %s: %s", path, strerror(errno));
    /* A FIFO read-write: open does not wait for a writer, and EOF never comes. */
    int flags = S_ISFIFO(st.st_mode) ? O_RDWR : O_RDONLY;
    int fd = open(path, flags | O_CLOEXEC);
    if (fd < 0)
        return lf_error_set(err, LF_ERR_IO, "stdin: open %s: %s", path, strerror(errno));
    s->fd = fd;
    s->owned = true;
    return LF_OK;
}

static lf_err stdin_create(const lf_agent_input_common *common, const void *config,
                           lf_agent_input **out, lf_error *err)
{
    const stdin_config *c = config;
    stdin_input *s = calloc(1, sizeof *s);
    if (!s)
        return lf_error_set(err, LF_ERR_NOMEM, "stdin: out of memory");
    s->base.vt = &stdin_vtable;
    snprintf(s->base.name, sizeof s->base.name, "%s", common->name ? common->name : "stdin");
    atomic_init(&s->base.finished, false);
    s->stop = common->stop;
    s->fd = -1;
    s->max_line = c->max_line_bytes ? (size_t)c->max_line_bytes : 65536;
    lf_err e = LF_OK;
    if (c->path && c->path[0]) {
        e = open_path(s, c->path, err);
    } else if (fcntl((int)c->fd, F_GETFD) < 0) {
        e = lf_error_set(err, LF_ERR_INVALID, "stdin: fd %d is not open", (int)c->fd);
    } else {
        s->fd = (int)c->fd;
    }
    if (e != LF_OK) {
        stdin_destroy(&s->base);
        return e;
    }
    *out = &s->base;
    return LF_OK;
}

const lf_agent_input_type lf_agent_input_type_stdin = {
    .type = "stdin",
    .summary = "Reads lines from standard input (or an inherited descriptor, a file or a "
               "FIFO). At the end of input the last line is returned and the input finishes.",
    .options = stdin_options,
    .n_options = sizeof stdin_options / sizeof stdin_options[0],
    .config_size = sizeof(stdin_config),
    .validate = NULL,
    .create = stdin_create,
};

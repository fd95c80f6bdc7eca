/*
 * socket_listen.c — the agent socket's file: parent directory, stale socket replacement,
 * bind, permissions, and removal at shutdown.
 *
 * A socket file left by a previous agent that died is "stale": connecting to it is refused.
 * Such a file is replaced; a live one (another agent listening) is an error, and so is any
 * path that is not a socket (we never delete a regular file someone configured by mistake).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "socket_int.h"

lf_err sock_parse_mode(const char *text, mode_t *out, lf_error *err)
{
    char *end = NULL;
    if (!text || !text[0] || strspn(text, "01234567") != strlen(text))
        return lf_error_set(err, LF_ERR_INVALID, "socket: mode \"%s\" is not an octal mode",
                            text ? text : "");
    unsigned long v = strtoul(text, &end, 8);
    if (v > 0777)
        return lf_error_set(err, LF_ERR_INVALID, "socket: mode \"%s\" is above 0777", text);
    *out = (mode_t)v;
    return LF_OK;
}

/* mkdir -p of path's parent directory (0755 for what we create; existing ones are kept). */
static lf_err make_parent(const char *path, lf_error *err)
{
    char dir[sizeof(((struct sockaddr_un *)0)->sun_path)];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (!slash || slash == dir)
        return LF_OK;
    *slash = '\0';
    for (char *p = dir + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(dir, 0755) != 0 && errno != EEXIST)
            return lf_error_set(err, LF_ERR_IO, "socket: mkdir %s: %s", dir, strerror(errno));
        *p = '/';
    }
    if (mkdir(dir, 0755) != 0 && errno != EEXIST)
        return lf_error_set(err, LF_ERR_IO, "socket: mkdir %s: %s", dir, strerror(errno));
    return LF_OK;
}

static lf_err remove_stale(const char *path, const struct sockaddr_un *addr, lf_error *err)
{
    struct stat st;
    if (lstat(path, &st) != 0)
        return errno == ENOENT
                   ? LF_OK
                   : lf_error_set(err, LF_ERR_IO, "socket: %s: %s", path, strerror(errno));
    if (!S_ISSOCK(st.st_mode))
        return lf_error_set(err, LF_ERR_CONFLICT, "socket: %s exists and is not a socket", path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return lf_error_set(err, LF_ERR_IO, "socket: socket: %s", strerror(errno));
    int rc = connect(fd, (const struct sockaddr *)addr, sizeof *addr);
    int saved = errno;
    close(fd);
    if (rc == 0)
        return lf_error_set(err, LF_ERR_CONFLICT, "socket: %s is in use by another process", path);
    if (saved != ECONNREFUSED)
        return lf_error_set(err, LF_ERR_IO, "socket: %s: %s", path, strerror(saved));
    if (unlink(path) != 0 && errno != ENOENT)
        return lf_error_set(err, LF_ERR_IO, "socket: remove stale %s: %s", path, strerror(errno));
    return LF_OK;
}

lf_err sock_listen(socket_input *s, const char *path, mode_t mode, lf_error *err)
{
    struct sockaddr_un addr = {0};
    addr.sun_family = AF_UNIX;
    if (!path || !path[0] || strlen(path) >= sizeof addr.sun_path)
        return lf_error_set(err, LF_ERR_INVALID, "socket: path must be 1..%zu bytes",
                            sizeof addr.sun_path - 1);
    memcpy(addr.sun_path, path, strlen(path) + 1);
    lf_err e = make_parent(path, err);
    if (e == LF_OK)
        e = remove_stale(path, &addr, err);
    if (e != LF_OK)
        return e;
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return lf_error_set(err, LF_ERR_IO, "socket: socket: %s", strerror(errno));
    struct stat st;
    if (bind(fd, (struct sockaddr *)&addr, sizeof addr) != 0) {
        e = lf_error_set(err, LF_ERR_IO, "socket: bind %s: %s", path, strerror(errno));
        close(fd);
        return e;
    }
    /* Permissions before listen(): no client can connect while the file still has the
     * umask's mode. */
    if (chmod(path, mode) != 0 || lstat(path, &st) != 0 || listen(fd, SOMAXCONN) != 0) {
        e = lf_error_set(err, LF_ERR_IO, "socket: %s: %s", path, strerror(errno));
        close(fd);
        unlink(path);
        return e;
    }
    s->listen_fd = fd;
    s->sock_dev = st.st_dev;
    s->sock_ino = st.st_ino;
    return LF_OK;
}

void sock_unlink(socket_input *s)
{
    struct stat st;
    if (s->path && s->sock_ino && lstat(s->path, &st) == 0 && st.st_dev == s->sock_dev &&
        st.st_ino == s->sock_ino)
        unlink(s->path);
}

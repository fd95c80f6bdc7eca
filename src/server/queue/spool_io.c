/*
 * spool_io.c — the POSIX implementation of the spool's I/O vtable: thin wrappers that retry on
 * EINTR and nothing else (short writes are the caller's business, so tests can exercise them).
 */
#include "queue/spool_io.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

static int posix_open(void *ctx, const char *path, int flags, mode_t mode)
{
    int fd;
    do {
        fd = open(path, flags | O_CLOEXEC, mode);
    } while (fd < 0 && errno == EINTR);
    return fd;
}

static int posix_close(void *ctx, int fd)
{
    return close(fd);
}

static ssize_t posix_pread(void *ctx, int fd, void *buf, size_t len, off_t off)
{
    ssize_t n;
    do {
        n = pread(fd, buf, len, off);
    } while (n < 0 && errno == EINTR);
    return n;
}

static ssize_t posix_pwritev(void *ctx, int fd, const struct iovec *iov, int iovcnt, off_t off)
{
    ssize_t n;
    do {
        n = pwritev(fd, iov, iovcnt, off);
    } while (n < 0 && errno == EINTR);
    return n;
}

/* No retry on EINTR for the syncs: a failed sync must be reported, never papered over. Linux
 * does not return EINTR from fsync on local file systems. */
static int posix_fdatasync(void *ctx, int fd)
{
    return fdatasync(fd);
}

static int posix_fsync(void *ctx, int fd)
{
    return fsync(fd);
}

static int posix_ftruncate(void *ctx, int fd, off_t len)
{
    return ftruncate(fd, len);
}

static int posix_fstat_size(void *ctx, int fd, off_t *size)
{
    struct stat st;
    if (fstat(fd, &st) != 0)
        return -1;
    *size = st.st_size;
    return 0;
}

static int posix_rename(void *ctx, const char *from, const char *to)
{
    return rename(from, to);
}

static int posix_unlink(void *ctx, const char *path)
{
    return unlink(path);
}

static const lf_spool_io posix_io = {
    posix_open,  posix_close,     posix_pread,      posix_pwritev, posix_fdatasync,
    posix_fsync, posix_ftruncate, posix_fstat_size, posix_rename,  posix_unlink,
};

const lf_spool_io *lf_spool_io_posix(void)
{
    return &posix_io;
}

/*
 * spool_io.h — the system calls the spool makes, as a vtable.
 *
 * Every call that writes or syncs goes through this table so that tests can inject the faults a
 * disk really produces (short write, ENOSPC, EIO from fdatasync) at chosen call numbers and prove
 * that nothing is acknowledged without durability. lf_spool_io_posix() is the real thing.
 * Conventions are those of POSIX: -1 with errno set on failure.
 */
#ifndef LF_SERVER_SPOOL_IO_H
#define LF_SERVER_SPOOL_IO_H

#include <stddef.h>
#include <sys/types.h>
#include <sys/uio.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct lf_spool_io {
    int (*open)(void *ctx, const char *path, int flags, mode_t mode);
    int (*close)(void *ctx, int fd);
    ssize_t (*pread)(void *ctx, int fd, void *buf, size_t len, off_t off);
    ssize_t (*pwritev)(void *ctx, int fd, const struct iovec *iov, int iovcnt, off_t off);
    int (*fdatasync)(void *ctx, int fd);
    int (*fsync)(void *ctx, int fd); /* also used on directory descriptors */
    int (*ftruncate)(void *ctx, int fd, off_t len);
    int (*fstat_size)(void *ctx, int fd, off_t *size);
    int (*rename)(void *ctx, const char *from, const char *to);
    int (*unlink)(void *ctx, const char *path);
} lf_spool_io;

/* The plain POSIX implementation (ctx unused). Static storage; never NULL. */
const lf_spool_io *lf_spool_io_posix(void);

#ifdef __cplusplus
}
#endif
#endif

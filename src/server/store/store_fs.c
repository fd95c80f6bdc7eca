/*
 * store_fs.c — the object store as a local directory (embedded mode).
 *
 * An object key ("tenant=7/app=a/dt=2026-11-28/hour=03/x.parquet") is a relative path under the
 * root. put_file copies the local file into "<root>/.tmp/put-<random>" (or hard-links it when
 * it already lives on the same file system), fsyncs it, creates the key's directories (fsyncing
 * each new one's parent so the entry itself is durable), renames the temporary file onto the
 * key and fsyncs the target directory: a reader sees the whole object or nothing, and after
 * put_file returns LF_OK the object survives a crash. Keys are validated before any path is
 * built, so no key can name a file outside the root. ".tmp" is the scratch directory the
 * worker builds Parquet files in; list never reports it (keys cannot start with '.').
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store/store.h"

#define KEY_MAX 512

typedef struct fs_store {
    lfd_store base;
    char *root;
    char *scratch;
} fs_store;

bool lfd_store_key_valid(const char *key)
{
    if (key == NULL || *key == '\0' || strlen(key) > KEY_MAX)
        return false;
    const char *seg = key;
    for (const char *p = key;; p++) {
        char c = *p;
        if (c == '/' || c == '\0') {
            size_t n = (size_t)(p - seg);
            /* No empty, "." or ".." segment; no segment starting with '.' at all keeps
             * the scratch directory and hidden files out of the key space. */
            if (n == 0 || seg[0] == '.')
                return false;
            if (c == '\0')
                return true;
            seg = p + 1;
            continue;
        }
        bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                  c == '.' || c == '_' || c == '=' || c == '-';
        if (!ok)
            return false;
    }
}

/* Allowed as a list prefix: "" or a valid key optionally ending in '/'. */
static bool prefix_valid(const char *prefix)
{
    size_t n = strlen(prefix);
    if (n == 0)
        return true;
    if (n > KEY_MAX)
        return false;
    char tmp[KEY_MAX + 1];
    memcpy(tmp, prefix, n + 1);
    if (tmp[n - 1] == '/')
        tmp[n - 1] = '\0';
    return lfd_store_key_valid(tmp);
}

static lf_err io_fail(lf_error *err, const char *what, const char *key)
{
    int e = errno;
    lf_err code = (e == ENOSPC || e == EDQUOT) ? LF_ERR_FULL : LF_ERR_IO;
    return lf_error_set(err, code, "store: %s %s: %s", what, key, strerror(e));
}

static lf_err key_path(const fs_store *s, const char *key, char *out, size_t cap, lf_error *err)
{
    if (!lfd_store_key_valid(key))
        return lf_error_set(err, LF_ERR_INVALID, "store: invalid object key");
    int n = snprintf(out, cap, "%s/%s", s->root, key);
    if (n < 0 || (size_t)n >= cap)
        return lf_error_set(err, LF_ERR_INVALID, "store: object path too long");
    return LF_OK;
}

static int fsync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    int rc = fsync(fd);
    int e = errno;
    close(fd);
    errno = e;
    return rc;
}

/* mkdir -p of the directories of `path` (everything before the last '/'), below root; each new
 * directory's parent is fsynced so the new entry is durable before an object goes in. */
static int make_parents(const fs_store *s, const char *path)
{
    char buf[PATH_MAX];
    size_t rootlen = strlen(s->root);
    size_t n = strlen(path);
    if (n >= sizeof buf)
        return errno = ENAMETOOLONG, -1;
    memcpy(buf, path, n + 1);
    for (size_t i = rootlen + 1; i < n; i++) {
        if (buf[i] != '/')
            continue;
        buf[i] = '\0';
        if (mkdir(buf, 0700) == 0) {
            char *slash = strrchr(buf, '/');
            *slash = '\0';
            int rc = fsync_dir(buf);
            *slash = '/';
            if (rc != 0)
                return -1;
        } else if (errno != EEXIST) {
            return -1;
        }
        buf[i] = '/';
    }
    return 0;
}

static int copy_fd(int in, int out)
{
    char chunk[65536];
    for (;;) {
        ssize_t r = read(in, chunk, sizeof chunk);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        if (r == 0)
            return 0;
        for (ssize_t off = 0; off < r;) {
            ssize_t w = write(out, chunk + off, (size_t)(r - off));
            if (w < 0) {
                if (errno == EINTR)
                    continue;
                return -1;
            }
            if (w == 0)
                return errno = EIO, -1;
            off += w;
        }
    }
}

static lf_err fs_put_file(lfd_store *st, const char *key, const char *local_path, lf_error *err)
{
    fs_store *s = (fs_store *)st;
    char target[PATH_MAX], tmp[PATH_MAX];
    lf_err rc = key_path(s, key, target, sizeof target, err);
    if (rc != LF_OK)
        return rc;
    if (local_path == NULL)
        return lf_error_set(err, LF_ERR_INVALID, "store: no local file");
    uint8_t rnd[8];
    if ((rc = lf_random(rnd, sizeof rnd, err)) != LF_OK)
        return rc;
    char hex[17];
    lf_hex_encode(rnd, sizeof rnd, hex);
    snprintf(tmp, sizeof tmp, "%s/put-%s", s->scratch, hex);

    /* Same file system (the scratch directory): a hard link avoids copying; the fsync below
     * makes sure the content is durable whoever wrote it. */
    if (link(local_path, tmp) == 0) {
        int fd = open(tmp, O_RDONLY | O_CLOEXEC);
        if (fd < 0 || fsync(fd) != 0) {
            rc = io_fail(err, "fsync", key);
            if (fd >= 0)
                close(fd);
            unlink(tmp);
            return rc;
        }
        close(fd);
        goto placed;
    }
    int in = open(local_path, O_RDONLY | O_CLOEXEC);
    if (in < 0)
        return io_fail(err, "open source for", key);
    int out = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (out < 0) {
        rc = io_fail(err, "create temporary for", key);
        close(in);
        return rc;
    }
    if (copy_fd(in, out) != 0 || fsync(out) != 0) {
        rc = io_fail(err, "write", key);
        close(in);
        close(out);
        unlink(tmp);
        return rc;
    }
    close(in);
    if (close(out) != 0) {
        rc = io_fail(err, "close", key);
        unlink(tmp);
        return rc;
    }
placed:
    if (make_parents(s, target) != 0) {
        rc = io_fail(err, "create directories for", key);
        unlink(tmp);
        return rc;
    }
    if (rename(tmp, target) != 0) {
        rc = io_fail(err, "rename into place", key);
        unlink(tmp);
        return rc;
    }
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s", target);
    *strrchr(dir, '/') = '\0';
    if (fsync_dir(dir) != 0)
        return io_fail(err, "fsync directory of", key);
    return LF_OK;
}

static lf_err fs_get(lfd_store *st, const char *key, lf_buf *out, lf_error *err)
{
    fs_store *s = (fs_store *)st;
    char path[PATH_MAX];
    lf_err rc = key_path(s, key, path, sizeof path, err);
    if (rc != LF_OK)
        return rc;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT || errno == ENOTDIR)
            return lf_error_set(err, LF_ERR_NOT_FOUND, "store: no object %s", key);
        return io_fail(err, "open", key);
    }
    struct stat sb;
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        close(fd);
        return lf_error_set(err, LF_ERR_NOT_FOUND, "store: no object %s", key);
    }
    out->len = 0;
    if ((rc = lf_buf_reserve(out, (size_t)sb.st_size)) != LF_OK) {
        close(fd);
        return lf_error_set(err, rc, "store: no memory for %s", key);
    }
    size_t want = (size_t)sb.st_size;
    while (out->len < want) {
        ssize_t r = read(fd, out->data + out->len, want - out->len);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            if (r == 0)
                errno = EIO;
            rc = io_fail(err, "read", key);
            close(fd);
            return rc;
        }
        out->len += (size_t)r;
    }
    close(fd);
    return LF_OK;
}

static lf_err fs_size(lfd_store *st, const char *key, uint64_t *out, lf_error *err)
{
    fs_store *s = (fs_store *)st;
    char path[PATH_MAX];
    lf_err rc = key_path(s, key, path, sizeof path, err);
    if (rc != LF_OK)
        return rc;
    struct stat sb;
    if (stat(path, &sb) != 0) {
        if (errno == ENOENT || errno == ENOTDIR)
            return lf_error_set(err, LF_ERR_NOT_FOUND, "store: no object %s", key);
        return io_fail(err, "stat", key);
    }
    if (!S_ISREG(sb.st_mode))
        return lf_error_set(err, LF_ERR_NOT_FOUND, "store: no object %s", key);
    *out = (uint64_t)sb.st_size;
    return LF_OK;
}

static lf_err fs_remove(lfd_store *st, const char *key, lf_error *err)
{
    fs_store *s = (fs_store *)st;
    char path[PATH_MAX];
    lf_err rc = key_path(s, key, path, sizeof path, err);
    if (rc != LF_OK)
        return rc;
    if (unlink(path) != 0) {
        if (errno == ENOENT || errno == ENOTDIR)
            return lf_error_set(err, LF_ERR_NOT_FOUND, "store: no object %s", key);
        return io_fail(err, "remove", key);
    }
    *strrchr(path, '/') = '\0';
    if (fsync_dir(path) != 0)
        return io_fail(err, "fsync directory of", key);
    return LF_OK;
}

/* Depth-first walk; `rel` is the key prefix of `dir` ("" for the root). Returns 1 when fn
 * asked to stop, 0 when done, -1 on error (errno). Depth is bounded by the key length. */
static int walk(const char *dir, const char *rel, const char *prefix,
                int (*fn)(void *ctx, const char *key), void *ctx, int depth)
{
    if (depth > KEY_MAX / 2)
        return 0;
    /* Sorted order makes listings deterministic (recovery and tests rely on nothing else). */
    struct dirent **names = NULL;
    int n = scandir(dir, &names, NULL, alphasort);
    if (n < 0)
        return errno == ENOENT ? 0 : -1;
    int result = 0;
    for (int i = 0; i < n; i++) {
        const char *nm = names[i]->d_name;
        if (result == 0 && nm[0] != '.') {
            char key[KEY_MAX + 2], path[PATH_MAX];
            int kn = snprintf(key, sizeof key, "%s%s%s", rel, *rel ? "/" : "", nm);
            int pn = snprintf(path, sizeof path, "%s/%s", dir, nm);
            if (kn > 0 && (size_t)kn <= KEY_MAX && pn > 0 && (size_t)pn < sizeof path &&
                lfd_store_key_valid(key)) {
                struct stat sb;
                if (lstat(path, &sb) == 0) {
                    size_t pl = strlen(prefix);
                    if (S_ISDIR(sb.st_mode)) {
                        /* Descend only where the prefix can still match. */
                        size_t kl = strlen(key);
                        bool may = pl <= kl ? strncmp(key, prefix, pl) == 0
                                            : strncmp(prefix, key, kl) == 0 && prefix[kl] == '/';
                        if (may)
                            result = walk(path, key, prefix, fn, ctx, depth + 1);
                    } else if (S_ISREG(sb.st_mode) && strncmp(key, prefix, pl) == 0) {
                        if (fn(ctx, key) != 0)
                            result = 1;
                    }
                }
            }
        }
        free(names[i]);
    }
    free(names);
    return result;
}

static lf_err fs_list(lfd_store *st, const char *prefix, int (*fn)(void *ctx, const char *key),
                      void *ctx, lf_error *err)
{
    fs_store *s = (fs_store *)st;
    if (prefix == NULL)
        prefix = "";
    if (!prefix_valid(prefix) || fn == NULL)
        return lf_error_set(err, LF_ERR_INVALID, "store: invalid list prefix");
    if (walk(s->root, "", prefix, fn, ctx, 0) < 0)
        return io_fail(err, "list", prefix);
    return LF_OK;
}

static void fs_close(lfd_store *st)
{
    fs_store *s = (fs_store *)st;
    free(s->root);
    free(s->scratch);
    free(s);
}

static const lfd_store_ops fs_ops = {
    .name = "fs",
    .put_file = fs_put_file,
    .get = fs_get,
    .size = fs_size,
    .remove = fs_remove,
    .list = fs_list,
    .close = fs_close,
};

lf_err lfd_store_fs_open(const char *root, lfd_store **out, lf_error *err)
{
    if (root == NULL || *root == '\0' || out == NULL)
        return lf_error_set(err, LF_ERR_INVALID, "store: root directory required");
    *out = NULL;
    size_t n = strlen(root);
    while (n > 1 && root[n - 1] == '/')
        n--;
    if (n + 64 >= PATH_MAX - KEY_MAX)
        return lf_error_set(err, LF_ERR_INVALID, "store: root path too long");
    if (mkdir(root, 0700) != 0 && errno != EEXIST)
        return lf_error_set(err, LF_ERR_IO, "store: create %s: %s", root, strerror(errno));
    fs_store *s = calloc(1, sizeof *s);
    if (s == NULL)
        return lf_error_set(err, LF_ERR_NOMEM, "store: no memory");
    s->base.ops = &fs_ops;
    s->root = strndup(root, n);
    s->scratch = malloc(n + 6);
    if (s->root == NULL || s->scratch == NULL) {
        fs_close(&s->base);
        return lf_error_set(err, LF_ERR_NOMEM, "store: no memory");
    }
    snprintf(s->scratch, n + 6, "%s/.tmp", s->root);
    if (mkdir(s->scratch, 0700) != 0 && errno != EEXIST) {
        lf_err rc = lf_error_set(err, LF_ERR_IO, "store: create scratch %s: %s", s->scratch,
                                 strerror(errno));
        fs_close(&s->base);
        return rc;
    }
    struct stat sb;
    if (stat(s->root, &sb) != 0 || !S_ISDIR(sb.st_mode)) {
        fs_close(&s->base);
        return lf_error_set(err, LF_ERR_IO, "store: %s is not a directory", root);
    }
    *out = &s->base;
    return LF_OK;
}

const char *lfd_store_fs_scratch(const lfd_store *st)
{
    if (st == NULL || st->ops != &fs_ops)
        return NULL;
    return ((const fs_store *)st)->scratch;
}

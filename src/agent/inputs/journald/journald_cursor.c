/*
 * journald_cursor.c — journal cursors as the input keeps them: which text we accept, how two
 * cursors are ordered (to decide whether the cursor restore() gets is ahead of the checkpoint),
 * and the checkpoint file.
 *
 * sd-journal calls cursors opaque; we still read the few parts that order entries, because
 * restore() must compare two cursors before any entry is read and sd_journal_test_cursor can
 * only say "this is the current entry". The rule mirrors sd-journal's own: same seqnum id ->
 * seqnum; same boot -> monotonic time; otherwise realtime.
 *
 * The checkpoint file holds the cursor and a newline. It is replaced atomically (tmp, fsync,
 * rename, directory fsync) so a crash leaves the old or the new cursor, never a torn one.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "journald_int.h"

bool journald_cursor_text_ok(const char *s, size_t len)
{
    if (len == 0 || len >= JOURNALD_CURSOR_MAX)
        return false;
    for (size_t i = 0; i < len; i++)
        if (s[i] <= 0x20 || s[i] >= 0x7f)
            return false;
    return true;
}

static bool parse_hex_u64(const char *s, size_t len, uint64_t *out)
{
    if (len == 0 || len > 16)
        return false;
    uint64_t v = 0;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        int d = c >= '0' && c <= '9'   ? c - '0'
                : c >= 'a' && c <= 'f' ? c - 'a' + 10
                : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                       : -1;
        if (d < 0)
            return false;
        v = v << 4 | (uint64_t)d;
    }
    *out = v;
    return true;
}

static bool parse_id128(const char *s, size_t len, char out[33])
{
    if (len != 32)
        return false;
    for (size_t i = 0; i < 32; i++) {
        char c = s[i];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')))
            return false;
        out[i] = (char)(c >= 'A' && c <= 'F' ? c - 'A' + 'a' : c);
    }
    out[32] = '\0';
    return true;
}

bool journald_cursor_parse(const char *s, size_t len, journald_cursor_pos *out)
{
    if (!journald_cursor_text_ok(s, len))
        return false;
    journald_cursor_pos pos = {0};
    unsigned seen = 0; /* bits: s i b m t */
    size_t i = 0;
    while (i < len) {
        const char *item = s + i;
        const char *end = memchr(item, ';', len - i);
        size_t n = end ? (size_t)(end - item) : len - i;
        i += n + 1;
        if (n < 2 || item[1] != '=')
            return false;
        const char *v = item + 2;
        size_t vn = n - 2;
        bool ok = true;
        switch (item[0]) {
        case 's':
            ok = parse_id128(v, vn, pos.seqnum_id);
            seen |= 1;
            break;
        case 'i':
            ok = parse_hex_u64(v, vn, &pos.seqnum);
            seen |= 2;
            break;
        case 'b':
            ok = parse_id128(v, vn, pos.boot_id);
            seen |= 4;
            break;
        case 'm':
            ok = parse_hex_u64(v, vn, &pos.monotonic_us);
            seen |= 8;
            break;
        case 't':
            ok = parse_hex_u64(v, vn, &pos.realtime_us);
            seen |= 16;
            break;
        default: /* x= (a hash) and parts a newer systemd may add */
            break;
        }
        if (!ok)
            return false;
    }
    if (seen != 31)
        return false;
    *out = pos;
    return true;
}

static int cmp_u64(uint64_t a, uint64_t b)
{
    return a < b ? -1 : a > b;
}

int journald_cursor_compare(const journald_cursor_pos *a, const journald_cursor_pos *b)
{
    if (strcmp(a->seqnum_id, b->seqnum_id) == 0)
        return cmp_u64(a->seqnum, b->seqnum);
    if (strcmp(a->boot_id, b->boot_id) == 0)
        return cmp_u64(a->monotonic_us, b->monotonic_us);
    return cmp_u64(a->realtime_us, b->realtime_us);
}

lf_err journald_ckpt_load(const char *path, char *out, journald_ckpt_state *state, lf_error *err)
{
    *state = JOURNALD_CKPT_NONE;
    out[0] = '\0';
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) {
        if (errno == ENOENT)
            return LF_OK;
        return lf_error_set(err, LF_ERR_IO, "journald: checkpoint %s: %s", path, strerror(errno));
    }
    char buf[JOURNALD_CURSOR_MAX + 1];
    size_t len = 0;
    for (;;) {
        ssize_t r = read(fd, buf + len, sizeof buf - len);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            int e = errno;
            close(fd);
            return lf_error_set(err, LF_ERR_IO, "journald: checkpoint %s: %s", path, strerror(e));
        }
        len += (size_t)r;
        if (r == 0 || len == sizeof buf)
            break;
    }
    close(fd);
    if (len > 0 && buf[len - 1] == '\n')
        len--;
    if (!journald_cursor_text_ok(buf, len)) {
        *state = JOURNALD_CKPT_INVALID;
        return LF_OK;
    }
    memcpy(out, buf, len);
    out[len] = '\0';
    *state = JOURNALD_CKPT_OK;
    return LF_OK;
}

static lf_err write_all(int fd, const char *p, size_t n, const char *path, lf_error *err)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return lf_error_set(err, LF_ERR_IO, "journald: checkpoint %s: write: %s", path,
                                w < 0 ? strerror(errno) : "no progress");
        p += w;
        n -= (size_t)w;
    }
    return LF_OK;
}

lf_err journald_ckpt_store(const char *dir, const char *path, const char *cursor, lf_error *err)
{
    char tmp[4096];
    if (snprintf(tmp, sizeof tmp, "%s.tmp", path) >= (int)sizeof tmp)
        return lf_error_set(err, LF_ERR_TOO_LARGE, "journald: checkpoint path too long");
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0)
        return lf_error_set(err, LF_ERR_IO, "journald: checkpoint %s: %s", tmp, strerror(errno));
    lf_err e = write_all(fd, cursor, strlen(cursor), tmp, err);
    if (e == LF_OK)
        e = write_all(fd, "\n", 1, tmp, err);
    if (e == LF_OK && fsync(fd) != 0)
        e = lf_error_set(err, LF_ERR_IO, "journald: checkpoint %s: fsync: %s", tmp,
                         strerror(errno));
    if (close(fd) != 0 && e == LF_OK)
        e = lf_error_set(err, LF_ERR_IO, "journald: checkpoint %s: close: %s", tmp,
                         strerror(errno));
    if (e == LF_OK && rename(tmp, path) != 0)
        e = lf_error_set(err, LF_ERR_IO, "journald: checkpoint %s: rename: %s", path,
                         strerror(errno));
    if (e != LF_OK) {
        unlink(tmp);
        return e;
    }
    /* The rename is durable only once the directory entry is. */
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0)
        return lf_error_set(err, LF_ERR_IO, "journald: checkpoint dir %s: %s", dir,
                            strerror(errno));
    if (fsync(dfd) != 0) {
        int en = errno;
        close(dfd);
        return lf_error_set(err, LF_ERR_IO, "journald: checkpoint dir %s: fsync: %s", dir,
                            strerror(en));
    }
    close(dfd);
    return LF_OK;
}

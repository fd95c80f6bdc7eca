/*
 * ship_deadletter.c — where items the server refused for good go, so that nothing is dropped
 * without a trace and an operator can look at it and send it again (docs/AGENT-SHIP.md).
 *
 * One item = two files named by its idempotency key (16..64 of [A-Za-z0-9_-], so always a
 * safe file name):
 *   <key>.frames  the body exactly as buffered (sealed native frames: ciphertext only)
 *   <key>.json    the sidecar: app, records, created_ms, HTTP status, the server's message ...
 * Each is written to <name>.tmp, fsynced, renamed, and the folder is fsynced before the item
 * is acked. The sidecar is written last: a .frames without its .json is an interrupted write
 * (the item was not acked and will come back). The folder's size is bounded; past the bound
 * nothing is written and the item is not acked (the shipper keeps retrying it), so a full
 * folder turns into back-pressure instead of loss.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "logflux/crypto.h"
#include "ship/ship_int.h"

#define SIDECAR_VERSION 1

static bool has_suffix(const char *name, const char *suffix)
{
    size_t n = strlen(name), s = strlen(suffix);
    return n > s && strcmp(name + n - s, suffix) == 0;
}

static lf_err fsync_dir(const char *dir, lf_error *err)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return lf_error_set(err, LF_ERR_IO, "dead-letter %s: open: %s", dir, strerror(errno));
    int rc = fsync(fd);
    int saved = errno;
    close(fd);
    if (rc != 0)
        return lf_error_set(err, LF_ERR_IO, "dead-letter %s: fsync: %s", dir, strerror(saved));
    return LF_OK;
}

/* Sum of the folder's regular files; leftover .tmp files (a crash mid-write) are removed. */
static lf_err recount(ship_deadletter *d, lf_error *err)
{
    DIR *dir = opendir(d->dir);
    if (dir == NULL)
        return lf_error_set(err, LF_ERR_IO, "dead-letter %s: %s", d->dir, strerror(errno));
    uint64_t used = 0;
    struct dirent *e;
    char path[4096];
    while ((e = readdir(dir)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        snprintf(path, sizeof path, "%s/%s", d->dir, e->d_name);
        struct stat st;
        if (lstat(path, &st) != 0 || !S_ISREG(st.st_mode))
            continue;
        if (has_suffix(e->d_name, ".tmp")) {
            unlink(path);
            continue;
        }
        used += (uint64_t)st.st_size;
    }
    closedir(dir);
    d->used = used;
    return LF_OK;
}

lf_err ship_deadletter_open(ship_deadletter *d, const char *dir, uint64_t max_bytes, lf_error *err)
{
    memset(d, 0, sizeof *d);
    if (dir == NULL || dir[0] == '\0')
        return lf_error_set(err, LF_ERR_INVALID, "ship: dead_letter_dir is required");
    if (strlen(dir) > 3000)
        return lf_error_set(err, LF_ERR_INVALID, "ship: dead_letter_dir is too long");
    if (mkdir(dir, 0700) != 0 && errno != EEXIST)
        return lf_error_set(err, LF_ERR_IO, "dead-letter %s: mkdir: %s", dir, strerror(errno));
    struct stat st;
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
        return lf_error_set(err, LF_ERR_IO, "dead-letter %s: not a directory", dir);
    /* The bodies are ciphertext, but names, apps and counts are nobody else's business. */
    if ((st.st_mode & 077) != 0 && chmod(dir, 0700) != 0)
        return lf_error_set(err, LF_ERR_IO, "dead-letter %s: chmod 0700: %s", dir, strerror(errno));
    if ((d->dir = strdup(dir)) == NULL)
        return lf_error_set(err, LF_ERR_NOMEM, "ship: out of memory");
    d->max_bytes = max_bytes;
    lf_err rc = recount(d, err);
    if (rc != LF_OK)
        ship_deadletter_close(d);
    return rc;
}

void ship_deadletter_close(ship_deadletter *d)
{
    free(d->dir);
    memset(d, 0, sizeof *d);
}

/* <dir>/<name>.tmp: write all, fsync, rename to <dir>/<name>. Nothing left behind on failure. */
static lf_err write_file(const char *dir, const char *name, const void *data, size_t len,
                         lf_error *err)
{
    char tmp[4096], final[4096];
    snprintf(final, sizeof final, "%s/%s", dir, name);
    snprintf(tmp, sizeof tmp, "%s/%s.tmp", dir, name);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0)
        return lf_error_set(err, LF_ERR_IO, "dead-letter %s: open: %s", tmp, strerror(errno));
    const uint8_t *p = data;
    size_t done = 0;
    int saved = 0;
    const char *what = NULL;
    while (done < len) {
        ssize_t n = write(fd, p + done, len - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            saved = n < 0 ? errno : ENOSPC;
            what = "write";
            break;
        }
        done += (size_t)n;
    }
    if (what == NULL && fsync(fd) != 0)
        saved = errno, what = "fsync";
    if (close(fd) != 0 && what == NULL)
        saved = errno, what = "close";
    if (what == NULL && rename(tmp, final) != 0)
        saved = errno, what = "rename";
    if (what != NULL) {
        unlink(tmp);
        return lf_error_set(err, LF_ERR_IO, "dead-letter %s: %s: %s", tmp, what, strerror(saved));
    }
    return LF_OK;
}

static char *sidecar_text(const lf_agent_buffer_item *it, const ship_dl_reason *why)
{
    uint8_t digest[LF_SHA256_LEN];
    char hex[2 * LF_SHA256_LEN + 1] = "";
    if (lf_sha256(it->body != NULL ? (const void *)it->body : "", it->body_len, digest, NULL) ==
        LF_OK)
        lf_hex_encode(digest, sizeof digest, hex);
    char frames[LF_AGENT_BUFFER_KEY_MAX + 8];
    snprintf(frames, sizeof frames, "%s.frames", it->idempotency_key);
    json_t *j = json_pack(
        "{s:i, s:s, s:s, s:I, s:I, s:I, s:s, s:I, s:s, s:I, s:s, s:I}", "version", SIDECAR_VERSION,
        "idempotency_key", it->idempotency_key, "app", it->app, "records", (json_int_t)it->records,
        "created_ms", (json_int_t)it->created_ms, "dead_lettered_ms", (json_int_t)ship_wall_ms(),
        "reason", why->reason, "http_status", (json_int_t)why->http_status, "body_file", frames,
        "body_bytes", (json_int_t)it->body_len, "body_sha256", hex, "attempts",
        (json_int_t)why->attempts);
    if (j == NULL)
        return NULL;
    char clean[SHIP_SERVER_TEXT_MAX + 1];
    if (why->error_code != NULL) {
        ship_clean_text(why->error_code, 64, clean, sizeof clean);
        json_object_set_new(j, "error_code", json_string(clean));
    }
    ship_clean_text(why->message != NULL ? why->message : "", SHIP_SERVER_TEXT_MAX, clean,
                    sizeof clean);
    json_object_set_new(j, "error_message", json_string(clean));
    if (why->request_id != NULL) {
        ship_clean_text(why->request_id, 64, clean, sizeof clean);
        json_object_set_new(j, "request_id", json_string(clean));
    }
    if (why->failures != NULL)
        json_object_set(j, "failures", why->failures);
    char *text = json_dumps(j, JSON_INDENT(2));
    json_decref(j);
    return text;
}

lf_err ship_deadletter_write(ship_deadletter *d, const lf_agent_buffer_item *it,
                             const ship_dl_reason *why, lf_error *err)
{
    char *sidecar = sidecar_text(it, why);
    if (sidecar == NULL)
        return lf_error_set(err, LF_ERR_NOMEM, "dead-letter: out of memory");
    size_t side_len = strlen(sidecar);
    uint64_t need = (uint64_t)it->body_len + side_len;
    lf_err rc = LF_OK;
    /* Over the bound by our own count: count again, the operator may have cleaned up. */
    if (d->used + need > d->max_bytes && (rc = recount(d, err)) != LF_OK)
        goto out;
    if (d->used + need > d->max_bytes) {
        rc = lf_error_set(err, LF_ERR_FULL,
                          "dead-letter %s: %llu of %llu bytes used, item needs %llu", d->dir,
                          (unsigned long long)d->used, (unsigned long long)d->max_bytes,
                          (unsigned long long)need);
        goto out;
    }
    char name[LF_AGENT_BUFFER_KEY_MAX + 8];
    snprintf(name, sizeof name, "%s.frames", it->idempotency_key);
    if ((rc = write_file(d->dir, name, it->body != NULL ? (const void *)it->body : "", it->body_len,
                         err)) != LF_OK)
        goto out;
    snprintf(name, sizeof name, "%s.json", it->idempotency_key);
    if ((rc = write_file(d->dir, name, sidecar, side_len, err)) != LF_OK)
        goto out;
    if ((rc = fsync_dir(d->dir, err)) != LF_OK)
        goto out;
    d->used += need;
out:
    free(sidecar);
    return rc;
}

/* ---------------- requeue ---------------- */

typedef struct dl_entry {
    char key[LF_AGENT_BUFFER_KEY_MAX + 1];
    int64_t created_ms;
} dl_entry;

static int entry_cmp(const void *a, const void *b)
{
    const dl_entry *x = a, *y = b;
    if (x->created_ms != y->created_ms)
        return x->created_ms < y->created_ms ? -1 : 1;
    return strcmp(x->key, y->key);
}

static bool key_ok(const char *k)
{
    size_t n = strlen(k);
    if (n < LF_AGENT_BUFFER_KEY_MIN || n > LF_AGENT_BUFFER_KEY_MAX)
        return false;
    for (size_t i = 0; i < n; i++)
        if (lf_base64_value(k[i], true) < 0)
            return false;
    return true;
}

/* The entries with a complete sidecar, oldest first. */
static lf_err list_entries(const char *dir, dl_entry **out, size_t *n_out, lf_error *err)
{
    *out = NULL;
    *n_out = 0;
    DIR *d = opendir(dir);
    if (d == NULL)
        return lf_error_set(err, LF_ERR_IO, "dead-letter %s: %s", dir, strerror(errno));
    dl_entry *list = NULL;
    size_t n = 0, cap = 0;
    lf_err rc = LF_OK;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        size_t len = strlen(e->d_name);
        if (!has_suffix(e->d_name, ".json") || len - 5 > LF_AGENT_BUFFER_KEY_MAX)
            continue;
        dl_entry ent = {.created_ms = 0};
        memcpy(ent.key, e->d_name, len - 5);
        ent.key[len - 5] = '\0';
        if (!key_ok(ent.key))
            continue;
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        json_t *j = json_load_file(path, 0, NULL);
        ent.created_ms = (int64_t)json_integer_value(json_object_get(j, "created_ms"));
        json_decref(j);
        if (n == cap) {
            size_t ncap = cap ? cap * 2 : 64;
            dl_entry *grown = realloc(list, ncap * sizeof *list);
            if (grown == NULL) {
                rc = lf_error_set(err, LF_ERR_NOMEM, "dead-letter: out of memory");
                break;
            }
            list = grown;
            cap = ncap;
        }
        list[n++] = ent;
    }
    closedir(d);
    if (rc != LF_OK) {
        free(list);
        return rc;
    }
    if (n > 1)
        qsort(list, n, sizeof *list, entry_cmp);
    *out = list;
    *n_out = n;
    return LF_OK;
}

static lf_err read_whole(const char *path, lf_buf *out, lf_error *err)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return lf_error_set(err, LF_ERR_IO, "dead-letter %s: %s", path, strerror(errno));
    char chunk[65536];
    size_t n;
    lf_err rc = LF_OK;
    while (rc == LF_OK && (n = fread(chunk, 1, sizeof chunk, f)) > 0) {
        if (out->len + n > LF_AGENT_BUFFER_BODY_MAX)
            rc = lf_error_set(err, LF_ERR_TOO_LARGE, "dead-letter %s: larger than 1 GiB", path);
        else
            rc = lf_buf_append(out, chunk, n);
    }
    if (rc == LF_OK && ferror(f))
        rc = lf_error_set(err, LF_ERR_IO, "dead-letter %s: read error", path);
    fclose(f);
    return rc;
}

/* Append one dead letter to the buffer under a fresh idempotency key, then delete it. */
static lf_err requeue_one(const char *dir, const dl_entry *ent, lf_agent_buffer *buf, lf_error *err)
{
    char side[4096], frames[4096];
    snprintf(side, sizeof side, "%s/%s.json", dir, ent->key);
    snprintf(frames, sizeof frames, "%s/%s.frames", dir, ent->key);
    json_error_t jerr;
    json_t *j = json_load_file(side, 0, &jerr);
    if (j == NULL)
        return lf_error_set(err, LF_ERR_INVALID, "dead-letter %s: not JSON (line %d)", side,
                            jerr.line);
    lf_buf body = LF_BUF_INIT;
    lf_err rc = read_whole(frames, &body, err);
    const char *app = json_string_value(json_object_get(j, "app"));
    json_int_t records = json_integer_value(json_object_get(j, "records"));
    json_int_t bytes = json_integer_value(json_object_get(j, "body_bytes"));
    const char *want = json_string_value(json_object_get(j, "body_sha256"));
    char hex[2 * LF_SHA256_LEN + 1] = "";
    uint8_t digest[LF_SHA256_LEN];
    if (rc == LF_OK &&
        lf_sha256(body.data != NULL ? (const void *)body.data : "", body.len, digest, err) == LF_OK)
        lf_hex_encode(digest, sizeof digest, hex);
    if (rc == LF_OK && (app == NULL || records < 0 || records > UINT32_MAX ||
                        bytes != (json_int_t)body.len || want == NULL || strcmp(want, hex) != 0))
        rc = lf_error_set(err, LF_ERR_INVALID,
                          "dead-letter %s: sidecar does not match its .frames file", side);
    /* The server remembers its answer to the old key (a 400 is replayed for a day), so the
     * body goes out under a new one: the old key's first 40 characters, "-r", 12 random. */
    char key[LF_AGENT_BUFFER_KEY_MAX + 1];
    uint8_t rnd[6];
    char rhex[13];
    if (rc == LF_OK && (rc = lf_random(rnd, sizeof rnd, err)) == LF_OK) {
        lf_hex_encode(rnd, sizeof rnd, rhex);
        snprintf(key, sizeof key, "%.40s-r%s", ent->key, rhex);
        lf_agent_buffer_input in = {.app = app,
                                    .idempotency_key = key,
                                    .records = (uint32_t)records,
                                    .created_ms = ent->created_ms,
                                    .body = body.data,
                                    .body_len = body.len};
        rc = lf_agent_buffer_append(buf, &in, NULL, err);
    }
    if (rc == LF_OK) {
        /* Sidecar first: a .frames alone is ignored by the next requeue. */
        if (unlink(side) != 0 || unlink(frames) != 0)
            rc = lf_error_set(err, LF_ERR_IO, "dead-letter %s: unlink: %s", side, strerror(errno));
    }
    json_decref(j);
    lf_buf_free(&body);
    return rc;
}

lf_err lf_agent_ship_dead_letter_requeue(const char *dir, lf_agent_buffer *buf, size_t *requeued,
                                         lf_error *err)
{
    if (requeued != NULL)
        *requeued = 0;
    if (dir == NULL || buf == NULL)
        return lf_error_set(err, LF_ERR_INVALID, "dead-letter requeue: dir and buffer required");
    dl_entry *list = NULL;
    size_t n = 0;
    lf_err rc = list_entries(dir, &list, &n, err);
    for (size_t i = 0; rc == LF_OK && i < n; i++) {
        rc = requeue_one(dir, &list[i], buf, err);
        if (rc == LF_OK && requeued != NULL)
            (*requeued)++;
    }
    free(list);
    if (rc == LF_OK)
        rc = fsync_dir(dir, err);
    return rc;
}

/*
 * store.h — the object store behind a small vtable: the local directory (embedded) now, S3
 * later. Objects are whole Parquet files named by Hive-style keys
 * ("tenant=acme/app=checkout/dt=2026-11-28/hour=03/<name>.parquet"). Keys are validated: relative,
 * no "..", no empty or dot segments, [A-Za-z0-9._=/-] only.
 */
#ifndef LFD_STORE_H
#define LFD_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "logflux/buf.h"
#include "logflux/error.h"

typedef struct lfd_store lfd_store;

typedef struct lfd_store_ops {
    const char *name; /* "fs", "s3" */
    /* Durably store the local file at `local_path` under `key`, atomically: readers see the
     * whole object or nothing (fs: copy or link into a temporary name beside the target,
     * fsync, rename, fsync the directory). The local file is left in place. */
    lf_err (*put_file)(lfd_store *s, const char *key, const char *local_path, lf_error *err);
    /* Read a whole object into out (replacing its contents). LF_ERR_NOT_FOUND if absent. */
    lf_err (*get)(lfd_store *s, const char *key, lf_buf *out, lf_error *err);
    /* Size of an object. */
    lf_err (*size)(lfd_store *s, const char *key, uint64_t *out, lf_error *err);
    lf_err (*remove)(lfd_store *s, const char *key, lf_error *err);
    /* Call fn for each object key under prefix (recursively); stop early if fn returns
     * non-zero. */
    lf_err (*list)(lfd_store *s, const char *prefix, int (*fn)(void *ctx, const char *key),
                   void *ctx, lf_error *err);
    void (*close)(lfd_store *s);
} lfd_store_ops;

struct lfd_store {
    const lfd_store_ops *ops;
};

/* The local directory backend. Creates root (0700) if missing. */
lf_err lfd_store_fs_open(const char *root, lfd_store **out, lf_error *err);
/* A writable scratch directory on the same file system as the store, for building files
 * (fs: <root>/.tmp). NULL for remote stores (use a local temporary directory). */
const char *lfd_store_fs_scratch(const lfd_store *s);

bool lfd_store_key_valid(const char *key);

static inline void lfd_store_close(lfd_store *s)
{
    if (s)
        s->ops->close(s);
}

#endif

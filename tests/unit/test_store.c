/*
 * test_store.c — the local-directory object store: key validation (no escape from the root),
 * atomic durable put (from a copy and from a hard link), get, size, remove, recursive list,
 * and the right error codes for absent objects and bad keys.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "test_worker_env.h"

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void test_key_validation(void **state)
{
    (void)state;
    assert_true(lfd_store_key_valid("tenant=7/app=a/dt=2026-11-28/hour=03/x.parquet"));
    assert_true(lfd_store_key_valid("a"));
    assert_false(lfd_store_key_valid(""));
    assert_false(lfd_store_key_valid(NULL));
    assert_false(lfd_store_key_valid("/abs"));
    assert_false(lfd_store_key_valid("a//b"));
    assert_false(lfd_store_key_valid("a/"));
    assert_false(lfd_store_key_valid("../x"));
    assert_false(lfd_store_key_valid("a/../x"));
    assert_false(lfd_store_key_valid("a/./x"));
    assert_false(lfd_store_key_valid(".tmp/x"));
    assert_false(lfd_store_key_valid("a b"));
    assert_false(lfd_store_key_valid("a\\b"));
    assert_false(lfd_store_key_valid("caf\xc3\xa9"));
    char longkey[600];
    memset(longkey, 'a', sizeof longkey - 1);
    longkey[sizeof longkey - 1] = '\0';
    assert_false(lfd_store_key_valid(longkey));
}

static int collect(void *ctx, const char *key)
{
    char *acc = ctx;
    strcat(acc, key);
    strcat(acc, ";");
    return 0;
}

static int stop_first(void *ctx, const char *key)
{
    (void)key;
    (*(int *)ctx)++;
    return 1;
}

static void test_put_get_list_remove(void **state)
{
    (void)state;
    char dir[] = "/tmp/lfstore-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char root[300], src[300];
    snprintf(root, sizeof root, "%s/objects", dir);
    lfd_store *s = NULL;
    assert_int_equal(lfd_store_fs_open(root, &s, NULL), LF_OK);
    assert_string_equal(s->ops->name, "fs");
    const char *scratch = lfd_store_fs_scratch(s);
    assert_non_null(scratch);

    /* From outside the store's file system tree (copied) and from scratch (linked). */
    snprintf(src, sizeof src, "%s/src.bin", dir);
    write_file(src, "hello parquet");
    lf_error err = {0};
    assert_int_equal(
        s->ops->put_file(s, "tenant=1/app=a/dt=2026-01-01/hour=00/1.parquet", src, &err), LF_OK);
    assert_int_equal(access(src, F_OK), 0); /* left in place */
    char linked[400];
    snprintf(linked, sizeof linked, "%s/local.bin", scratch);
    write_file(linked, "second object");
    assert_int_equal(s->ops->put_file(s, "tenant=1/app=b/2.parquet", linked, &err), LF_OK);

    lf_buf b = LF_BUF_INIT;
    assert_int_equal(s->ops->get(s, "tenant=1/app=a/dt=2026-01-01/hour=00/1.parquet", &b, &err),
                     LF_OK);
    assert_int_equal(b.len, 13);
    assert_memory_equal(b.data, "hello parquet", 13);
    uint64_t sz = 0;
    assert_int_equal(s->ops->size(s, "tenant=1/app=b/2.parquet", &sz, &err), LF_OK);
    assert_int_equal(sz, 13);

    /* Replace atomically. */
    write_file(src, "v2");
    assert_int_equal(s->ops->put_file(s, "tenant=1/app=b/2.parquet", src, &err), LF_OK);
    assert_int_equal(s->ops->get(s, "tenant=1/app=b/2.parquet", &b, &err), LF_OK);
    assert_int_equal(b.len, 2);

    char acc[1024] = "";
    assert_int_equal(s->ops->list(s, "", collect, acc, &err), LF_OK);
    assert_string_equal(acc, "tenant=1/app=a/dt=2026-01-01/hour=00/1.parquet;"
                             "tenant=1/app=b/2.parquet;");
    acc[0] = '\0';
    assert_int_equal(s->ops->list(s, "tenant=1/app=b/", collect, acc, &err), LF_OK);
    assert_string_equal(acc, "tenant=1/app=b/2.parquet;");
    acc[0] = '\0';
    assert_int_equal(s->ops->list(s, "tenant=2", collect, acc, &err), LF_OK);
    assert_string_equal(acc, "");
    int calls = 0;
    assert_int_equal(s->ops->list(s, "", stop_first, &calls, &err), LF_OK);
    assert_int_equal(calls, 1);
    assert_int_equal(s->ops->list(s, "../", collect, acc, &err), LF_ERR_INVALID);

    /* Absent, directories and bad keys. */
    assert_int_equal(s->ops->get(s, "tenant=1/nope", &b, &err), LF_ERR_NOT_FOUND);
    assert_int_equal(s->ops->get(s, "tenant=1", &b, &err), LF_ERR_NOT_FOUND);
    assert_int_equal(s->ops->size(s, "tenant=1/nope", &sz, &err), LF_ERR_NOT_FOUND);
    assert_int_equal(s->ops->get(s, "../etc/passwd", &b, &err), LF_ERR_INVALID);
    assert_int_equal(s->ops->put_file(s, "a/../../x", src, &err), LF_ERR_INVALID);
    assert_int_equal(s->ops->put_file(s, "ok", "/nonexistent/file", &err), LF_ERR_IO);
    assert_int_equal(s->ops->remove(s, "tenant=1/app=b/2.parquet", &err), LF_OK);
    assert_int_equal(s->ops->remove(s, "tenant=1/app=b/2.parquet", &err), LF_ERR_NOT_FOUND);
    assert_int_equal(s->ops->get(s, "tenant=1/app=b/2.parquet", &b, &err), LF_ERR_NOT_FOUND);

    /* Nothing is left in scratch by puts. */
    size_t n = 0;
    assert_int_equal(s->ops->list(s, "", count_key, &n, &err), LF_OK);
    assert_int_equal(n, 1);
    lf_buf_free(&b);
    lfd_store_close(s);
    assert_int_equal(lfd_store_fs_open("", &s, NULL), LF_ERR_INVALID);
    rm_rf(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_key_validation),
        cmocka_unit_test(test_put_get_list_remove),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

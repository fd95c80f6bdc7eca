/*
 * testutil.c — vector loading for the unit tests.
 */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

json_t *lf_test_load_vectors(const char *name)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", LF_VECTORS_DIR, name);
    json_error_t jerr;
    json_t *root = json_load_file(path, 0, &jerr);
    if (root == NULL)
        fail_msg("cannot load %s: %s (line %d)", path, jerr.text, jerr.line);
    return root;
}

const char *lf_test_str(json_t *obj, const char *key)
{
    json_t *v = json_object_get(obj, key);
    if (!json_is_string(v))
        fail_msg("vector field '%s' missing or not a string", key);
    return json_string_value(v);
}

lf_buf lf_test_hex(json_t *obj, const char *key)
{
    const char *hex = lf_test_str(obj, key);
    size_t n = strlen(hex);
    lf_buf b = LF_BUF_INIT;
    assert_int_equal(n % 2, 0);
    assert_int_equal(lf_buf_reserve(&b, n / 2 + 1), LF_OK);
    assert_int_equal(lf_hex_decode(hex, n, b.data, n / 2, NULL), LF_OK);
    b.len = n / 2;
    return b;
}

lf_buf lf_test_read_file(const char *path)
{
    lf_buf b = LF_BUF_INIT;
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        fail_msg("cannot open %s", path);
    uint8_t chunk[65536];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        assert_int_equal(lf_buf_append(&b, chunk, n), LF_OK);
    fclose(f);
    return b;
}

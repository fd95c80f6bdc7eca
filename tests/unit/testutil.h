/*
 * testutil.h — helpers shared by the cmocka unit tests: loading byte-exact vector files
 * (the JSON files in testdata/vectors) and hex fields out of them.
 */
#ifndef LF_TESTUTIL_H
#define LF_TESTUTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <jansson.h>

#include "logflux/buf.h"

/* Load testdata/vectors/<name> (fails the test if missing or malformed). Caller json_decref()s. */
json_t *lf_test_load_vectors(const char *name);
/* obj[key] as a string (fails the test if absent). */
const char *lf_test_str(json_t *obj, const char *key);
/* obj[key] decoded from hex into a fresh buffer (fails the test on bad hex). */
lf_buf lf_test_hex(json_t *obj, const char *key);
/* Read a whole file into a buffer (fails the test on error). */
lf_buf lf_test_read_file(const char *path);

#endif

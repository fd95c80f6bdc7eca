/*
 * thrift_compact.h — the Thrift compact protocol, just as much as Parquet's footer and page
 * headers need (internal to lf_parquet).
 *
 * Encoder: appends to an lf_buf; a sticky `failed` flag records an allocation failure so callers
 * can emit a whole structure and check once. Field ids are delta-encoded against the enclosing
 * struct's previous id, kept on a small stack (struct_begin/struct_end).
 *
 * Decoder: a cursor over untrusted bytes. Every read is bounds-checked; the first problem sets a
 * sticky error (later reads return zeros) so a parser can read a whole struct and check once.
 * Nesting depth and list sizes are bounded; unknown fields are skipped (with the same bounds).
 */
#ifndef LF_PQ_THRIFT_COMPACT_H
#define LF_PQ_THRIFT_COMPACT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "logflux/buf.h"
#include "logflux/error.h"

/* Compact protocol type codes. */
enum {
    TC_STOP = 0,
    TC_TRUE = 1,
    TC_FALSE = 2,
    TC_BYTE = 3,
    TC_I16 = 4,
    TC_I32 = 5,
    TC_I64 = 6,
    TC_DOUBLE = 7,
    TC_BINARY = 8,
    TC_LIST = 9,
    TC_SET = 10,
    TC_MAP = 11,
    TC_STRUCT = 12,
};

#define TC_MAX_DEPTH 32

typedef struct tc_writer {
    lf_buf *out;
    int16_t last_id[TC_MAX_DEPTH];
    int depth;
    bool failed;
} tc_writer;

void tcw_init(tc_writer *w, lf_buf *out);
void tcw_struct_begin(tc_writer *w); /* after a field header or list header of type STRUCT */
void tcw_struct_end(tc_writer *w);   /* writes STOP */
void tcw_field(tc_writer *w, int16_t id, uint8_t type);
void tcw_field_i32(tc_writer *w, int16_t id, int32_t v);
void tcw_field_i64(tc_writer *w, int16_t id, int64_t v);
void tcw_field_i8(tc_writer *w, int16_t id, int8_t v);
void tcw_field_bool(tc_writer *w, int16_t id, bool v);
void tcw_field_binary(tc_writer *w, int16_t id, const void *p, size_t len);
void tcw_field_string(tc_writer *w, int16_t id, const char *s);
/* field header of type STRUCT followed by struct_begin */
void tcw_field_struct(tc_writer *w, int16_t id);
void tcw_field_list(tc_writer *w, int16_t id, uint8_t elem_type, size_t n);
void tcw_list_header(tc_writer *w, uint8_t elem_type, size_t n);
void tcw_i32(tc_writer *w, int32_t v);
void tcw_binary(tc_writer *w, const void *p, size_t len);

typedef struct tc_reader {
    const uint8_t *p;
    const uint8_t *end;
    int16_t last_id[TC_MAX_DEPTH];
    int depth;
    uint32_t max_list;
    lf_err status; /* LF_OK until the first problem */
    lf_error *err;
    const char *what; /* context for messages: "footer", "page header" */
} tc_reader;

void tcr_init(tc_reader *r, const uint8_t *p, size_t len, uint32_t max_list, const char *what,
              lf_error *err);
bool tcr_ok(const tc_reader *r);
/* Fail the reader with a message (sticky; first error wins). */
void tcr_fail(tc_reader *r, lf_err code, const char *msg);
bool tcr_struct_begin(tc_reader *r);
void tcr_struct_end(tc_reader *r);
/* Next field of the current struct: false at STOP or on error. For booleans the value is in the
 * type (TC_TRUE / TC_FALSE); read it with tcr_bool_of. */
bool tcr_field(tc_reader *r, int16_t *id, uint8_t *type);
bool tcr_bool_of(uint8_t type);
int32_t tcr_i32(tc_reader *r);
int64_t tcr_i64(tc_reader *r);
int8_t tcr_i8(tc_reader *r);
/* A binary/string: pointer into the input and its length. */
const uint8_t *tcr_binary(tc_reader *r, uint32_t *len);
/* List header; the count is bounded by max_list and by the bytes left (each element of any type
 * takes at least one byte, except nothing: empty structs do take their STOP byte). */
uint32_t tcr_list(tc_reader *r, uint8_t *elem_type);
/* Read an integer field, checking its wire type. */
int32_t tcr_field_i32(tc_reader *r, uint8_t type);
int64_t tcr_field_i64(tc_reader *r, uint8_t type);
void tcr_skip(tc_reader *r, uint8_t type);

#endif

/*
 * file_input.h — the "tail" and "nginx" agent inputs: files followed by the tail engine
 * (inputs/tail/), one event per line or multiline group. docs/AGENT-TAIL.md describes the
 * options, the events and how cursor/commit/restore give exactly-once across crashes.
 */
#ifndef LF_AGENT_FILE_INPUT_H
#define LF_AGENT_FILE_INPUT_H

#include "input.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Options of "tail" (the struct its lf_option table writes into). */
typedef struct lf_tail_input_config {
    lf_strlist paths;   /* glob patterns (required) */
    lf_strlist exclude; /* glob patterns of paths never opened */
    bool read_from_head;
    int64_t poll_interval_ms;
    bool inotify;
    char *multiline_first_line; /* POSIX ERE; "" = no multiline */
    int64_t multiline_max_lines;
    uint64_t multiline_max_bytes;
    int64_t multiline_flush_ms;
    uint64_t max_line_bytes;
    int64_t rotate_wait_ms;
} lf_tail_input_config;

/* Options of "nginx". */
typedef struct lf_nginx_input_config {
    lf_strlist access_paths;
    lf_strlist error_paths;
    char *access_format; /* combined | json (both auto-detected per line by the parser) */
    bool read_from_head;
    int64_t poll_interval_ms;
    bool inotify;
    int64_t rotate_wait_ms;
} lf_nginx_input_config;

extern const lf_agent_input_type lf_agent_input_type_tail;  /* "tail" */
extern const lf_agent_input_type lf_agent_input_type_nginx; /* "nginx" */

#ifdef __cplusplus
}
#endif
#endif

/*
 * file_common.h — what the file-based inputs (tail, nginx, docker, kubernetes) share: the tail
 * engine handle, the positions returned since the last commit, and the vtable functions built
 * on them (cursor, commit, restore, metrics), plus the checkpoint DB's path rule.
 *
 * Every such input embeds lf_file_input as the first member of its own struct, so the shared
 * vtable functions can take the lf_agent_input pointer the agent hands them.
 */
#ifndef LF_AGENT_FILE_COMMON_H
#define LF_AGENT_FILE_COMMON_H

#include "input.h"
#include "inputs/tail/tail.h"

typedef struct lf_file_input {
    lf_agent_input base;
    lf_tail *tail;
    lf_tail_pending pending; /* newest position per file returned since the last commit */
    uint64_t records;        /* events handed to the pipeline */
    uint64_t restored;       /* positions taken from a cursor at restore */
} lf_file_input;

/* <state_dir>/<type>/<name>.db, creating <state_dir>/<type> (0700) if needed. *out is
 * malloc'ed. */
lf_err lf_file_input_db_path(const lf_agent_input_common *common, const char *type, char **out,
                             lf_error *err);

/* Fill base fields (vtable, name) and zero the rest. */
void lf_file_input_init(lf_file_input *fi, const lf_agent_input_vtable *vt, const char *name);
/* Close the tail and free the positions (not the struct). */
void lf_file_input_fini(lf_file_input *fi);

/* The shared vtable members. */
lf_err lf_file_input_cursor(lf_agent_input *in, lf_buf *out, lf_error *err);
lf_err lf_file_input_commit(lf_agent_input *in, lf_error *err);
lf_err lf_file_input_restore(lf_agent_input *in, const uint8_t *cursor, size_t len, lf_error *err);
/* The tail's counters as logflux_agent_tail_*_total{input="<name>"}. */
void lf_file_input_write_metrics(lf_agent_input *in, lf_buf *out);

/* Translate the configured list of strings into the tail options' glob array (borrowed). */
static inline const char *const *lf_file_input_globs(const lf_strlist *l)
{
    return (const char *const *)l->items;
}

/* Does path match any of the glob patterns (fnmatch, '*' does not cross '/')? */
bool lf_file_input_match_any(const lf_strlist *patterns, const char *path);

#endif

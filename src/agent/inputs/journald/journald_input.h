/*
 * journald_input.h — the agent's journald input: reads systemd journal entries through
 * sd-journal (libsystemd) and hands the pipeline one event per entry (MESSAGE, PRIORITY, time,
 * unit, host, ...). Its checkpoint is the journal cursor of the last durable entry, kept in
 * <state_dir>/journald/<name>.cursor and written only on commit(). See docs/AGENT-JOURNALD.md.
 */
#ifndef LF_AGENT_JOURNALD_INPUT_H
#define LF_AGENT_JOURNALD_INPUT_H

#include <stdbool.h>
#include <stdint.h>

#include "input.h"
#include "options.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The options of one journald input (filled from lf_agent_input_type_journald.options). */
typedef struct lf_journald_config {
    char *path;          /* journal directory; "" = the local system journal */
    lf_strlist files;    /* explicit journal files (instead of path) */
    lf_strlist matches;  /* "FIELD=value" terms and "+" (disjunction), as sd_journal_add_match */
    lf_strlist units;    /* shortcut for _SYSTEMD_UNIT=<unit> ("x" means "x.service") */
    bool read_from_head; /* without a checkpoint: the oldest entry, else only new ones */
    uint64_t max_entry_bytes; /* longest MESSAGE; longer entries are skipped and counted */
} lf_journald_config;

extern const lf_agent_input_type lf_agent_input_type_journald;

#ifdef __cplusplus
}
#endif
#endif

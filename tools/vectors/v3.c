/*
 * v3.c — lf-vectors subcommands for the v3 module (placeholder table until the module lands).
 */
#include <stddef.h>

#include "cmds.h"

const struct lf_vectors_cmd lf_vectors_v3_cmds[] = {
    {NULL, NULL, NULL},
};

/*
 * native.c — lf-vectors subcommands for the native module (placeholder table until the module lands).
 */
#include <stddef.h>

#include "cmds.h"

const struct lf_vectors_cmd lf_vectors_native_cmds[] = {
    {NULL, NULL, NULL},
};

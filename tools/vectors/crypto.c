/*
 * crypto.c — lf-vectors subcommands for the crypto module (placeholder table until the module lands).
 */
#include <stddef.h>

#include "cmds.h"

const struct lf_vectors_cmd lf_vectors_crypto_cmds[] = {
    {NULL, NULL, NULL},
};

/*
 * main.c — lf-vectors dispatcher: finds the subcommand in the module tables of cmds.h.
 */
#include <stdio.h>
#include <string.h>

#include "cmds.h"

static const struct lf_vectors_cmd *const tables[] = {
    lf_vectors_crypto_cmds,
    lf_vectors_v3_cmds,
    lf_vectors_native_cmds,
    lf_vectors_credentials_cmds,
};

static void usage(void)
{
    fprintf(stderr, "usage: lf-vectors SUBCOMMAND [ARGS]\n");
    for (size_t t = 0; t < sizeof tables / sizeof *tables; t++)
        for (const struct lf_vectors_cmd *c = tables[t]; c->name != NULL; c++)
            fprintf(stderr, "  %s %s\n", c->name, c->usage);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage();
        return 2;
    }
    for (size_t t = 0; t < sizeof tables / sizeof *tables; t++)
        for (const struct lf_vectors_cmd *c = tables[t]; c->name != NULL; c++)
            if (strcmp(c->name, argv[1]) == 0)
                return c->run(argc - 1, argv + 1);
    fprintf(stderr, "lf-vectors: unknown subcommand '%s'\n", argv[1]);
    usage();
    return 2;
}

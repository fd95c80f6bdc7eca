/*
 * cmds.h — subcommands of lf-vectors, one file per module.
 *
 * lf-vectors has two jobs: `gen-<module> DIR` writes the byte-exact vector files of a module
 * into DIR (testdata/vectors), and the interop subcommands let the tests/interop scripts (Node.js's
 * own crypto) exchange sealed data with the C code. Each returns a process exit code.
 */
#ifndef LF_VECTORS_CMDS_H
#define LF_VECTORS_CMDS_H

typedef int (*lf_vectors_cmd_fn)(int argc, char **argv);

struct lf_vectors_cmd {
    const char *name;
    const char *usage;
    lf_vectors_cmd_fn run;
};

/* Each module file defines a NULL-terminated table of its subcommands. */
extern const struct lf_vectors_cmd lf_vectors_crypto_cmds[];
extern const struct lf_vectors_cmd lf_vectors_v3_cmds[];
extern const struct lf_vectors_cmd lf_vectors_native_cmds[];
extern const struct lf_vectors_cmd lf_vectors_credentials_cmds[];

#endif

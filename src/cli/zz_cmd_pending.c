/*
 * zz_cmd_pending.c — weak stand-ins for the read-path commands (query, tail, export, sql,
 * verify) so the binary links while those files are being written. Each real cmd_<name>.c
 * defines the same function without `weak`, and the linker picks that one; these then do
 * nothing. The file name sorts last on purpose: the linker takes a symbol from the first
 * archive member that defines it, weak or not, so the real commands must come first in
 * lf_cli.a. Delete a stand-in once its command exists for good.
 */
#include "commands.h"

static int pending(const char *name)
{
    return lfc_fail(LFC_EXIT_ERROR, "`%s` is not available in this build", name);
}

__attribute__((weak)) int lfc_cmd_query(lfc_ctx *c, int argc, char **argv)
{
    (void)c, (void)argc, (void)argv;
    return pending("query");
}

__attribute__((weak)) int lfc_cmd_tail(lfc_ctx *c, int argc, char **argv)
{
    (void)c, (void)argc, (void)argv;
    return pending("tail");
}

__attribute__((weak)) int lfc_cmd_export(lfc_ctx *c, int argc, char **argv)
{
    (void)c, (void)argc, (void)argv;
    return pending("export");
}

__attribute__((weak)) int lfc_cmd_sql(lfc_ctx *c, int argc, char **argv)
{
    (void)c, (void)argc, (void)argv;
    return pending("sql");
}

__attribute__((weak)) int lfc_cmd_verify(lfc_ctx *c, int argc, char **argv)
{
    (void)c, (void)argc, (void)argv;
    return pending("verify");
}

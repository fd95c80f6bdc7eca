/*
 * commands.h — every `logflux` subcommand. Each takes the resolved context and the
 * arguments after the command name (argv[0] is the command name) and returns an exit code.
 * One file per command (cmd_<name>.c).
 */
#ifndef LFC_COMMANDS_H
#define LFC_COMMANDS_H

#include "cli.h"

int lfc_cmd_keys(lfc_ctx *c, int argc, char **argv);   /* keys init|show|export-public */
int lfc_cmd_login(lfc_ctx *c, int argc, char **argv);  /* login */
int lfc_cmd_admin(lfc_ctx *c, int argc, char **argv);  /* admin keys|apps|api-keys|tokens */
int lfc_cmd_query(lfc_ctx *c, int argc, char **argv);  /* query */
int lfc_cmd_tail(lfc_ctx *c, int argc, char **argv);   /* tail -f */
int lfc_cmd_export(lfc_ctx *c, int argc, char **argv); /* export --format jsonl|csv|parquet */
int lfc_cmd_sql(lfc_ctx *c, int argc, char **argv);    /* sql "SELECT …" */
int lfc_cmd_verify(lfc_ctx *c, int argc, char **argv); /* verify */

#endif

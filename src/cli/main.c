/*
 * main.c — `logflux`, the customer's CLI: `logflux [global flags] <command> [args]`.
 *
 * main resolves the context (flags, environment, profile: ctx.c), then hands the remaining
 * arguments to the command's function (commands.h, one file per command). `logflux --help`,
 * `logflux help CMD`, `logflux CMD --help` print usage from the table below; `config-docs`
 * (hidden) prints docs/CONFIG-CLI.md from the profile option table.
 */
#include <stdio.h>
#include <string.h>

#include "commands.h"

typedef struct command {
    const char *name;
    int (*fn)(lfc_ctx *c, int argc, char **argv);
    const char *summary;
    const char *usage;
} command;

static const command commands[] = {
    {"keys", lfc_cmd_keys, "create and show the customer key pair",
     "logflux keys init [--out PATH] [--force]\n"
     "    New RSA-4096 key pair. The private key is written to PATH (default: --key, or\n"
     "    customer.key in the configuration directory) encrypted under a passphrase\n"
     "    (LOGFLUX_PASSPHRASE or a prompt), mode 0600, never overwritten without --force; the\n"
     "    public key goes to PATH.pub. Prints the fingerprint SHA256:<hex>.\n"
     "logflux keys show\n"
     "    Path, fingerprint and size of the configured key (-o json).\n"
     "logflux keys export-public\n"
     "    The public key as PEM on stdout.\n"},
    {"login", lfc_cmd_login, "verify a token and store it in the profile",
     "logflux login [--endpoint URL] [--token TOKEN] [--ca FILE]\n"
     "    Checks the token against the server (GET /v1/discovery) and stores endpoint, token\n"
     "    and CA in the profile (mode 0600). The token comes from --token, LOGFLUX_TOKEN, or a\n"
     "    prompt without echo (or one line on stdin when it is not a terminal). A region-\n"
     "    prefixed token needs no endpoint: it is found through discovery.\n"},
    {"admin", lfc_cmd_admin, "manage public keys, apps, API keys and tokens",
     "logflux admin keys register [--public-key FILE]\n"
     "logflux admin keys list\n"
     "logflux admin apps create NAME | list\n"
     "logflux admin api-keys create --app APP [--label L] [--expires-in 90d] | list | revoke ID\n"
     "logflux admin tokens create --scope read|write|admin [--label L] [--expires-in 30d]\n"
     "                    | list | revoke ID\n"
     "    Needs a token with scope admin. Text tables by default, -o json for the data.\n"
     "    The secret of a new API key or token is printed once, at creation.\n"},
    {"query", lfc_cmd_query, "fetch, decrypt, filter and print log entries",
     "logflux query [--since 1h | --from T --to T] [--app A] [--type log] [--level error]\n"
     "              [--label k=v] [--grep STR] [--regex RE] [--limit N] [-o text|json|csv]\n"},
    {"tail", lfc_cmd_tail, "follow new entries live", "logflux tail -f [filters]\n"},
    {"export", lfc_cmd_export, "write decrypted entries to a file",
     "logflux export --format jsonl|csv|parquet --out FILE [filters]\n"},
    {"sql", lfc_cmd_sql, "run SQL over decrypted entries",
     "logflux sql \"SELECT ...\" [filters]\n"},
    {"verify", lfc_cmd_verify, "check integrity end to end", "logflux verify [filters]\n"},
};
#define N_COMMANDS (sizeof commands / sizeof commands[0])

static const char global_help[] =
    "Global flags (anywhere before `--`):\n"
    "  --profile NAME     profile in ~/.config/logflux/NAME.yaml (LOGFLUX_PROFILE; default)\n"
    "  --endpoint URL     server base URL (LOGFLUX_ENDPOINT)\n"
    "  --token TOKEN      access token (LOGFLUX_TOKEN)\n"
    "  --key PATH         encrypted private key (LOGFLUX_KEY)\n"
    "  --ca FILE          extra trusted CA or self-signed certificate, PEM (LOGFLUX_CA)\n"
    "  -o, --output FMT   text, json or csv\n"
    "  -v, --verbose      log requests on stderr\n"
    "  -q, --quiet        fewer messages\n"
    "Environment: LOGFLUX_PASSPHRASE (private key passphrase), LOGFLUX_DISCOVERY_URL.\n"
    "Flags override the environment, which overrides the profile. See docs/CLI.md.\n";

static void usage(FILE *out)
{
    fprintf(out, "usage: logflux [global flags] <command> [args]\n\nCommands:\n");
    for (size_t i = 0; i < N_COMMANDS; i++)
        fprintf(out, "  %-8s %s\n", commands[i].name, commands[i].summary);
    fprintf(out, "  %-8s %s\n\n%s", "help", "help CMD: usage of one command", global_help);
}

static const command *find(const char *name)
{
    for (size_t i = 0; i < N_COMMANDS; i++)
        if (strcmp(commands[i].name, name) == 0)
            return &commands[i];
    return NULL;
}

static int command_help(const char *name)
{
    const command *cmd = find(name);
    if (!cmd)
        return lfc_fail(LFC_EXIT_USAGE, "unknown command '%s' (see logflux --help)", name);
    printf("%s — %s\n\n%s\n%s", cmd->name, cmd->summary, cmd->usage, global_help);
    return LFC_EXIT_OK;
}

static bool wants_help(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--") == 0)
            return false;
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
            return true;
    }
    return false;
}

int main(int argc, char **argv)
{
    /* These need no configuration (and must work with a broken profile). */
    if (argc >= 2 && (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "version") == 0)) {
        printf("logflux %s\n", LFC_VERSION);
        return LFC_EXIT_OK;
    }
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? LFC_EXIT_USAGE : LFC_EXIT_OK;
    }
    if (strcmp(argv[1], "config-docs") == 0) {
        lfc_profile_write_docs(stdout);
        return LFC_EXIT_OK;
    }

    lfc_ctx c;
    int rc = lfc_ctx_init(&c, &argc, argv);
    if (rc == LFC_EXIT_OK) {
        if (argc < 2) {
            usage(stderr);
            rc = LFC_EXIT_USAGE;
        } else if (strcmp(argv[1], "help") == 0) {
            if (argc >= 3)
                rc = command_help(argv[2]);
            else
                usage(stdout);
        } else {
            const command *cmd = find(argv[1]);
            if (!cmd)
                rc = lfc_fail(LFC_EXIT_USAGE, "unknown command '%s' (see logflux --help)", argv[1]);
            else if (wants_help(argc - 1, argv + 1))
                rc = command_help(cmd->name);
            else
                rc = cmd->fn(&c, argc - 1, argv + 1);
        }
    }
    lfc_ctx_free(&c);
    fflush(stdout);
    if (ferror(stdout) && rc == LFC_EXIT_OK)
        rc = lfc_fail(LFC_EXIT_ERROR, "cannot write to stdout");
    return rc;
}

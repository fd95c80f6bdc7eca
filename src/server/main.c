/*
 * main.c — the logfluxd command line.
 *
 *   logfluxd init  --data DIR [--tenant NAME] [--region eu] [--tls-cert F --tls-key F]
 *                  [--tls-names a,b]
 *   logfluxd serve --data DIR [--listen ADDR] [--tls-cert F --tls-key F] [--insecure-http]
 *                  [--config FILE] [--set name=value]...
 *   logfluxd config-docs
 *   logfluxd version
 *
 * `init` makes the data directory and prints, once, a JSON document with the first tenant's
 * admin token and the certificate clients must trust. `serve` runs every role in this
 * process; SIGTERM or SIGINT drains: no new connections, in-flight requests finish, the
 * worker writes what it buffered, exit 0.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "server.h"
#include "server_config.h"

#define LOGFLUXD_VERSION "0.1.0"

static void usage(FILE *out)
{
    fprintf(out,
            "usage: logfluxd init  --data DIR [--tenant NAME] [--region eu|us|ca|au|ap]\n"
            "                      [--tls-cert FILE --tls-key FILE] [--tls-names NAMES]\n"
            "       logfluxd serve --data DIR [--listen ADDR] [--tls-cert FILE --tls-key FILE]\n"
            "                      [--insecure-http] [--config FILE] [--set NAME=VALUE]...\n"
            "       logfluxd config-docs\n"
            "       logfluxd version\n");
}

static int fail(const char *what, const lf_error *err)
{
    fprintf(stderr, "logfluxd: %s: %s\n", what, err->message);
    return 1;
}

static int cmd_init(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"data", required_argument, NULL, 'd'},    {"tenant", required_argument, NULL, 't'},
        {"region", required_argument, NULL, 'r'},  {"tls-cert", required_argument, NULL, 'c'},
        {"tls-key", required_argument, NULL, 'k'}, {"tls-names", required_argument, NULL, 'n'},
        {"help", no_argument, NULL, 'h'},          {NULL, 0, NULL, 0},
    };
    lfd_init_options o = {.tenant = "default", .region = "eu"};
    int ch;
    while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        switch (ch) {
        case 'd':
            o.data_dir = optarg;
            break;
        case 't':
            o.tenant = optarg;
            break;
        case 'r':
            o.region = optarg;
            break;
        case 'c':
            o.tls_cert = optarg;
            break;
        case 'k':
            o.tls_key = optarg;
            break;
        case 'n':
            o.tls_names = optarg;
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (o.data_dir == NULL || optind != argc || (o.tls_cert == NULL) != (o.tls_key == NULL)) {
        usage(stderr);
        return 2;
    }
    lf_error err = {0};
    if (lfd_init(&o, stdout, &err) != LF_OK)
        return fail("init", &err);
    return 0;
}

static int cmd_serve(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"data", required_argument, NULL, 'd'},
        {"listen", required_argument, NULL, 'l'},
        {"tls-cert", required_argument, NULL, 'c'},
        {"tls-key", required_argument, NULL, 'k'},
        {"insecure-http", no_argument, NULL, 'i'},
        {"config", required_argument, NULL, 'f'},
        {"set", required_argument, NULL, 's'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    lfd_config cfg;
    memset(&cfg, 0, sizeof cfg);
    lf_error err = {0};
    if (lfd_config_init(&cfg, &err) != LF_OK)
        return fail("config", &err);
    /* The file first, then flags on top, whatever their order on the command line. */
    for (int i = 1; i < argc - 1; i++)
        if (strcmp(argv[i], "--config") == 0 && lfd_config_load(&cfg, argv[i + 1], &err) != LF_OK)
            return fail("config", &err);
    int ch;
    lf_err rc = LF_OK;
    while (rc == LF_OK && (ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        switch (ch) {
        case 'd':
            rc = lfd_config_set(&cfg, "data_dir", optarg, &err);
            break;
        case 'l':
            rc = lfd_config_set(&cfg, "listen", optarg, &err);
            break;
        case 'c':
            rc = lfd_config_set(&cfg, "tls.cert", optarg, &err);
            break;
        case 'k':
            rc = lfd_config_set(&cfg, "tls.key", optarg, &err);
            break;
        case 'i':
            rc = lfd_config_set(&cfg, "insecure_http", "true", &err);
            break;
        case 'f':
            break; /* loaded above */
        case 's': {
            char *eq = strchr(optarg, '=');
            if (eq == NULL) {
                fprintf(stderr, "logfluxd: --set expects NAME=VALUE\n");
                return 2;
            }
            *eq = '\0';
            rc = lfd_config_set(&cfg, optarg, eq + 1, &err);
            break;
        }
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (rc != LF_OK)
        return fail("config", &err);
    if (cfg.data_dir[0] == '\0' || optind != argc) {
        usage(stderr);
        return 2;
    }
    int status = lfd_serve(&cfg, &err) == LF_OK ? 0 : fail("serve", &err);
    lfd_config_free(&cfg);
    return status;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "init") == 0)
        return cmd_init(argc - 1, argv + 1);
    if (strcmp(cmd, "serve") == 0)
        return cmd_serve(argc - 1, argv + 1);
    if (strcmp(cmd, "config-docs") == 0) {
        lfd_config_write_docs(stdout);
        return 0;
    }
    if (strcmp(cmd, "version") == 0 || strcmp(cmd, "--version") == 0) {
        printf("logfluxd %s\n", LOGFLUXD_VERSION);
        return 0;
    }
    if (strcmp(cmd, "help") == 0 || strcmp(cmd, "--help") == 0) {
        usage(stdout);
        return 0;
    }
    fprintf(stderr, "logfluxd: unknown command '%s'\n", cmd);
    usage(stderr);
    return 2;
}

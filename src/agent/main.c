/*
 * logflux-agent — collect logs, seal them with the customer's key, buffer on disk, ship.
 *
 *   logflux-agent --config agent.yaml          run
 *   logflux-agent --check-config agent.yaml    validate and exit (0 = valid)
 *   logflux-agent --config-docs                print docs/CONFIG-AGENT.md
 *   logflux-agent --requeue-dead-letters --config agent.yaml
 *                                              move dead letters back into the buffer (agent
 * stopped)
 *
 * Signals: SIGTERM/SIGINT stop in order (seal what was read, close keys, ship for
 * shutdown.flush_timeout); SIGHUP reloads the configuration — a new file that does not
 * validate is reported and the running configuration stays.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>

#include "agent.h"
#include "cli_deadletter.h"
#include "config/agent_config.h"
#include "ops/log.h"
#include "ship/ship.h"

static void usage(FILE *out)
{
    fputs("usage: logflux-agent --config FILE        run the agent\n"
          "       logflux-agent --check-config FILE  validate FILE and exit\n"
          "       logflux-agent --requeue-dead-letters --config FILE\n"
          "                                          move dead letters back into the buffer\n"
          "       logflux-agent --config-docs        print the configuration reference\n"
          "       logflux-agent --version\n",
          out);
}

static void apply_log_settings(const lf_agent_config *cfg)
{
    lf_agent_log_level level = LF_AGENT_LOG_INFO;
    (void)lf_agent_log_level_parse(cfg->log_level, &level, NULL);
    lf_agent_log_init(level, strcmp(cfg->log_format, "json") == 0);
}

int main(int argc, char **argv)
{
    const char *config = NULL;
    bool check = false, requeue = false;
    for (int i = 1; i < argc; i++) {
        if ((strcmp(argv[i], "--config") == 0 || strcmp(argv[i], "-c") == 0) && i + 1 < argc) {
            config = argv[++i];
        } else if (strcmp(argv[i], "--check-config") == 0 && i + 1 < argc) {
            config = argv[++i];
            check = true;
        } else if (strcmp(argv[i], "--requeue-dead-letters") == 0) {
            requeue = true;
        } else if (strcmp(argv[i], "--config-docs") == 0) {
            lf_agent_config_write_docs(stdout);
            return 0;
        } else if (strcmp(argv[i], "--version") == 0) {
            printf("logflux-agent %s\n", LF_AGENT_VERSION);
            return 0;
        } else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            return 0;
        } else {
            fprintf(stderr, "logflux-agent: unknown argument '%s'\n", argv[i]);
            usage(stderr);
            return 2;
        }
    }
    if (requeue)
        return lf_agent_cli_requeue(config);
    if (config == NULL) {
        usage(stderr);
        return 2;
    }
    lf_agent_config *cfg = calloc(1, sizeof *cfg);
    lf_error err = {0};
    if (cfg == NULL || lf_agent_config_load(config, cfg, &err) != LF_OK) {
        fprintf(stderr, "logflux-agent: %s\n", cfg ? err.message : "out of memory");
        free(cfg);
        return 3;
    }
    if (check) {
        printf("%s: valid (%zu inputs, %zu parsers)\n", config, cfg->n_inputs, cfg->n_parsers);
        lf_agent_config_free(cfg);
        free(cfg);
        return 0;
    }
    apply_log_settings(cfg);

    /* Every thread inherits this mask; only this thread takes the signals, with sigtimedwait,
     * so no handler runs in the middle of a pipeline. */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);

    /* libcurl's global state must exist before any thread uses it (the shipper). */
    curl_global_init(CURL_GLOBAL_DEFAULT);
    lf_agent *agent = NULL;
    if (lf_agent_start(cfg, &agent, &err) != LF_OK) {
        lf_agent_log(LF_AGENT_LOG_ERROR, "agent", "cannot start: %s", err.message);
        lf_agent_log_flush();
        lf_agent_config_free(cfg);
        free(cfg);
        return 1;
    }
    lf_agent_log(LF_AGENT_LOG_INFO, "agent", "running with %zu inputs (config %s)", cfg->n_inputs,
                 config);
    int exit_code = 0;
    for (;;) {
        struct timespec slice = {0, 200 * 1000000L};
        int sig = sigtimedwait(&set, NULL, &slice);
        if (sig == SIGTERM || sig == SIGINT) {
            lf_agent_log(LF_AGENT_LOG_INFO, "agent", "signal %d: stopping", sig);
            lf_agent_stop(agent, -1);
            break;
        }
        if (sig == SIGHUP) {
            lf_agent_config *next = calloc(1, sizeof *next);
            if (next == NULL || lf_agent_config_load(config, next, &err) != LF_OK) {
                lf_agent_log(LF_AGENT_LOG_ERROR, "agent",
                             "reload: %s; keeping the running configuration",
                             next ? err.message : "out of memory");
                free(next);
                continue;
            }
            lf_agent_log(LF_AGENT_LOG_INFO, "agent",
                         "reload: restarting with the new "
                         "configuration");
            /* The buffer persists across the restart, so the shipper need not drain it. */
            lf_agent_stop(agent, 0);
            lf_agent_log_reset_repeats();
            agent = NULL;
            if (lf_agent_start(next, &agent, &err) == LF_OK) {
                lf_agent_config_free(cfg);
                free(cfg);
                cfg = next;
                apply_log_settings(cfg);
                continue;
            }
            /* The new file validated but could not start (a key file, a port): go back. */
            lf_agent_log(LF_AGENT_LOG_ERROR, "agent",
                         "reload: cannot start: %s; back to the previous configuration",
                         err.message);
            lf_agent_config_free(next);
            free(next);
            if (lf_agent_start(cfg, &agent, &err) != LF_OK) {
                lf_agent_log(LF_AGENT_LOG_ERROR, "agent", "restart failed: %s", err.message);
                exit_code = 1;
                break;
            }
            continue;
        }
        if (lf_agent_inputs_done(agent)) {
            lf_agent_log(LF_AGENT_LOG_INFO, "agent", "every input ended: shipping and exiting");
            lf_agent_stop(agent, -1);
            break;
        }
    }
    lf_agent_log_flush();
    lf_agent_config_free(cfg);
    free(cfg);
    curl_global_cleanup();
    return exit_code;
}

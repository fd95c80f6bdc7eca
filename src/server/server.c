/*
 * server.c — `logfluxd serve`: open every part, start the roles, wait for a signal, drain in
 * order: HTTP first so nothing new arrives, then the worker flushes, then the stores close.
 */
#include "server.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <sys/file.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "logflux/timefmt.h"
#include "queue/spool.h"
#include "store/store.h"
#include "worker/worker.h"

static lf_err path_join(char *out, size_t cap, const char *dir, const char *name, lf_error *err)
{
    int n = snprintf(out, cap, "%s/%s", dir, name);
    if (n < 0 || (size_t)n >= cap)
        return lf_error_set(err, LF_ERR_INVALID, "path too long: %s/%s", dir, name);
    return LF_OK;
}

/* ---------------- serve ---------------- */

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}

static char *read_text(const char *path, lf_error *err)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        lf_error_set(err, LF_ERR_IO, "%s: %s", path, strerror(errno));
        return NULL;
    }
    lf_buf b = LF_BUF_INIT;
    uint8_t chunk[8192];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0 && b.len < (1u << 20))
        lf_buf_append(&b, chunk, n);
    fclose(f);
    lf_buf_terminate(&b);
    return (char *)b.data;
}

static void free_secret_text(char *s)
{
    if (s != NULL) {
        lf_wipe(s, strlen(s));
        free(s);
    }
}

static void spool_log(void *ctx, const char *message)
{
    (void)ctx;
    fprintf(stderr, "logfluxd: spool: %s\n", message);
}

/* One process per data directory: two would both append to the spool and both run a worker. */
static lf_err lock_data_dir(const char *dir, int *fd_out, lf_error *err)
{
    char path[PATH_MAX];
    lf_err rc = path_join(path, sizeof path, dir, "logfluxd.lock", err);
    if (rc != LF_OK)
        return rc;
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0)
        return lf_error_set(err, LF_ERR_IO, "%s: %s", path, strerror(errno));
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        close(fd);
        return lf_error_set(err, LF_ERR_CONFLICT,
                            "%s is in use by another logfluxd (lock %s is held)", dir, path);
    }
    *fd_out = fd;
    return LF_OK;
}

static lf_err open_parts(lfd_app *app, lf_error *err)
{
    char path[PATH_MAX];
    const lfd_config *c = app->cfg;
    lf_err rc = path_join(path, sizeof path, c->data_dir, LFD_META_FILE, err);
    if (rc == LF_OK && access(path, F_OK) != 0)
        return lf_error_set(err, LF_ERR_NOT_FOUND,
                            "%s is not a data directory (run logfluxd init --data %s)", c->data_dir,
                            c->data_dir);
    if (rc == LF_OK)
        rc = lock_data_dir(c->data_dir, &app->lock_fd, err);
    if (rc == LF_OK)
        rc = lf_meta_sqlite_open(path, NULL, &app->meta, err);
    if (rc == LF_OK)
        rc = path_join(path, sizeof path, c->data_dir, LFD_SPOOL_DIR, err);
    if (rc == LF_OK) {
        lf_spool_options so = {.segment_bytes = c->spool_segment_bytes,
                               .max_bytes = c->spool_max_bytes,
                               .log = spool_log};
        rc = lf_spool_open(path, &so, &app->queue, err);
    }
    if (rc == LF_OK)
        rc = path_join(path, sizeof path, c->data_dir, LFD_OBJECTS_DIR, err);
    if (rc == LF_OK)
        rc = lfd_store_fs_open(path, &app->store, err);
    if (rc == LF_OK)
        rc = lf_replay_cache_new((size_t)c->replay_cache_entries, &app->replay, err);
    if (rc == LF_OK)
        rc = lfd_ratelimit_new(65536, &app->rl_key, err);
    if (rc == LF_OK)
        rc = lfd_ratelimit_new(65536, &app->rl_ip, err);
    return rc;
}

static void close_parts(lfd_app *app)
{
    lfd_worker_stop(app->worker);
    lfd_store_close(app->store);
    lf_queue_close(app->queue);
    lf_meta_close(app->meta);
    lf_replay_cache_free(app->replay);
    lfd_ratelimit_free(app->rl_key);
    lfd_ratelimit_free(app->rl_ip);
    if (app->lock_fd > 0)
        close(app->lock_fd); /* releases the data directory */
}

lf_err lfd_serve(lfd_config *cfg, lf_error *err)
{
    lfd_app app;
    memset(&app, 0, sizeof app);
    app.cfg = cfg;
    app.started_ns = lf_time_now_ns();
    char cert_path[PATH_MAX], key_path[PATH_MAX];
    char *cert = NULL, *key = NULL;
    lfd_http *http = NULL;
    lf_err rc = LF_OK;
    if (!cfg->insecure_http) {
        if (cfg->tls_cert[0])
            snprintf(cert_path, sizeof cert_path, "%s", cfg->tls_cert);
        else
            rc =
                path_join(cert_path, sizeof cert_path, cfg->data_dir, LFD_TLS_DIR "/cert.pem", err);
        if (rc == LF_OK && cfg->tls_key[0])
            snprintf(key_path, sizeof key_path, "%s", cfg->tls_key);
        else if (rc == LF_OK)
            rc = path_join(key_path, sizeof key_path, cfg->data_dir, LFD_TLS_DIR "/key.pem", err);
        if (rc == LF_OK && ((cert = read_text(cert_path, err)) == NULL ||
                            (key = read_text(key_path, err)) == NULL))
            rc = LF_ERR_IO;
    }
    if (cfg->public_url[0])
        snprintf(app.public_url, sizeof app.public_url, "%s", cfg->public_url);
    else
        snprintf(app.public_url, sizeof app.public_url, "%s://%s",
                 cfg->insecure_http ? "http" : "https", cfg->listen);
    if (rc == LF_OK)
        rc = open_parts(&app, err);
    if (rc == LF_OK)
        rc = lfd_worker_start(&app, &app.worker, err);
    if (rc == LF_OK) {
        lfd_http_options ho = {
            .listen = cfg->listen,
            .cert_pem = cert,
            .key_pem = key,
            .tls_priorities = strcmp(cfg->tls_min_version, "1.2") == 0
                                  ? "SECURE256:+SECURE128:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2"
                                  : NULL,
            .threads = (unsigned)cfg->http_threads,
            .connection_timeout_s = (unsigned)(cfg->http_connection_timeout_ms / 1000),
            .max_connections = (unsigned)cfg->http_max_connections,
            .routes = lfd_routes,
            .n_routes = lfd_routes_len,
            .ctx = &app,
            .max_body_default = (size_t)cfg->max_request_bytes,
            .max_body_native = (size_t)cfg->max_native_request_bytes,
            .max_buffered = (size_t)cfg->http_max_buffered_bytes,
        };
        rc = lfd_http_start(&ho, &http, err);
    }
    free_secret_text(cert);
    free_secret_text(key);
    if (rc != LF_OK) {
        close_parts(&app);
        return rc;
    }
    /* With port 0 (tests, ad-hoc runs) the announced URL needs the port actually bound. It is
     * written before anyone could know the port to connect to, so no request reads it early. */
    size_t n = strlen(app.public_url);
    if (cfg->public_url[0] == '\0' && n >= 2 && strcmp(app.public_url + n - 2, ":0") == 0)
        snprintf(app.public_url + n - 1, sizeof app.public_url - (n - 1), "%u",
                 lfd_http_port(http));
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    /* The bound port (listen may say port 0); scripts wait for this line. */
    fprintf(stderr, "logfluxd: serving on %s port %u (%s), data in %s\n", cfg->listen,
            lfd_http_port(http), cfg->insecure_http ? "plain HTTP, loopback only" : "TLS",
            cfg->data_dir);
    while (!stop_requested)
        usleep(100000);
    fprintf(stderr, "logfluxd: draining\n");
    /* Wake long-polling tail requests first so they do not hold the drain; the worker itself
     * stops only after HTTP, since handlers use it until then. */
    lfd_worker_tail_shutdown(app.worker);
    lfd_http_drain_and_stop(http, (unsigned)cfg->drain_timeout_ms);
    close_parts(&app);
    fprintf(stderr, "logfluxd: stopped\n");
    return LF_OK;
}

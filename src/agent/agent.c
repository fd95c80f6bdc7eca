/*
 * agent.c — start and stop one logflux-agent (see agent.h).
 */
#define _GNU_SOURCE
#include "agent.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "buffer/buffer.h"
#include "ops/log.h"
#include "ops/ops_http.h"
#include "ops/ops_text.h"
#include "parser.h"
#include "pipeline/pipeline.h"
#include "ship/ship.h"

typedef struct runner {
    lf_agent *agent;
    const lf_agent_input_decl *decl;
    lf_agent_input *input;
    lf_parser *parser; /* owned */
    lf_agent_pipeline *pipeline;
    pthread_t thread;
    bool started;
    atomic_bool done;
    atomic_bool failed;
    atomic_bool ready; /* input and pipeline exist: metrics may read them */
} runner;

struct lf_agent {
    const lf_agent_config *cfg;
    atomic_bool stop;
    lf_pubkey *customer_key;
    lf_agent_buffer *buffer;
    lf_agent_ship *ship;
    lf_agent_ops *ops;
    runner *runners;
    size_t n_runners;
    int64_t started_s;
    /* Only a fingerprint configured and no cached key: a thread asks the server, checks the
     * answer against the pin, then starts the inputs. */
    pthread_t keyfetch;
    bool keyfetch_started;
    atomic_bool key_ready;
    char *api_key; /* kept only while fetching (wiped after) */
    lf_agent_ship_options ship_opt;
};

static lf_err make_dir(const char *path, lf_error *err)
{
    if (mkdir(path, 0700) != 0 && errno != EEXIST)
        return lf_error_set(err, LF_ERR_IO, "mkdir %s: %s", path, strerror(errno));
    return LF_OK;
}

/* Parse a PEM public key and hold it to the pinned fingerprint (when one is configured). */
static lf_err key_from_pem(const lf_agent_config *cfg, const char *pem, size_t n, const char *what,
                           lf_pubkey **out, lf_error *err)
{
    lf_error inner = {0};
    if (lf_pubkey_from_pem(pem, n, out, &inner) != LF_OK)
        return lf_error_set(err, LF_ERR_INVALID, "%s: %s", what, inner.message);
    if (cfg->public_key_fingerprint[0] == '\0')
        return LF_OK;
    char fp[LF_FINGERPRINT_STR_LEN];
    if (lf_pubkey_fingerprint(*out, fp, err) != LF_OK ||
        strcasecmp(fp, cfg->public_key_fingerprint)) {
        lf_pubkey_free(*out);
        *out = NULL;
        return lf_error_set(err, LF_ERR_AUTH,
                            "%s has fingerprint %s, but public_key_fingerprint pins %s: refusing "
                            "to seal to it",
                            what, fp, cfg->public_key_fingerprint);
    }
    return LF_OK;
}

static lf_err key_from_file(const lf_agent_config *cfg, const char *path, const char *what,
                            lf_pubkey **out, lf_error *err)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return lf_error_set(err, errno == ENOENT ? LF_ERR_NOT_FOUND : LF_ERR_IO, "%s %s: %s", what,
                            path, strerror(errno));
    char pem[16384];
    size_t n = fread(pem, 1, sizeof pem - 1, f);
    fclose(f);
    pem[n] = '\0';
    char label[4200];
    snprintf(label, sizeof label, "%s %s", what, path);
    return key_from_pem(cfg, pem, n, label, out, err);
}

/* Where a key fetched from the server is kept, so later starts need no server. */
static void key_cache_path(const lf_agent_config *cfg, char *out, size_t cap)
{
    snprintf(out, cap, "%s/customer-key.pem", cfg->state_dir);
}

/* tmp + fsync + rename: a torn cache file would only be refused (fingerprint), but why risk
 * a refetch. Failure is logged, not fatal: the key is in memory. */
static void key_cache_write(const lf_agent_config *cfg, const char *pem)
{
    char path[4096], tmp[4200];
    key_cache_path(cfg, path, sizeof path);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    size_t n = strlen(pem);
    bool ok = fd >= 0 && write(fd, pem, n) == (ssize_t)n && fsync(fd) == 0;
    if (fd >= 0)
        close(fd);
    if (!ok || rename(tmp, path) != 0) {
        unlink(tmp);
        lf_agent_log(LF_AGENT_LOG_WARN, "agent", "could not cache the customer key in %s", path);
    }
}

static lf_err make_parser(const lf_agent_config *cfg, const char *name, lf_parser **out,
                          lf_error *err)
{
    *out = NULL;
    if (name[0] == '\0')
        return LF_OK;
    lf_parser_config pc = {.name = name,
                           .pattern = "",
                           .time_key = "",
                           .time_format = "",
                           .level_key = "",
                           .message_key = ""};
    for (size_t i = 0; i < cfg->n_parsers; i++) {
        const lf_agent_parser_decl *d = &cfg->parsers[i];
        if (strcmp(d->name, name) == 0) {
            pc = (lf_parser_config){.name = d->name,
                                    .kind = (lf_parser_kind)lf_parser_kind_from_name(d->type),
                                    .pattern = d->pattern,
                                    .time_key = d->time_key,
                                    .time_format = d->time_format,
                                    .level_key = d->level_key,
                                    .message_key = d->message_key,
                                    .keep_fields = d->keep_fields};
            return lf_parser_new(&pc, out, err);
        }
    }
    pc.kind = (lf_parser_kind)lf_parser_kind_from_name(name);
    return lf_parser_new(&pc, out, err);
}

static void *runner_main(void *arg)
{
    runner *r = arg;
    lf_error err = {0};
    /* Named threads: `top -H` and profilers show which input costs what. */
    char tname[16];
    snprintf(tname, sizeof tname, "in:%.12s", r->decl->name);
    pthread_setname_np(pthread_self(), tname);
    lf_agent_log(LF_AGENT_LOG_INFO, "input", "%s (%s) started", r->decl->name, r->decl->type);
    if (lf_agent_pipeline_run(r->pipeline, &err) != LF_OK) {
        atomic_store(&r->failed, true);
        lf_agent_log(LF_AGENT_LOG_ERROR, "input", "%s stopped: %s", r->decl->name, err.message);
    } else {
        lf_agent_log(LF_AGENT_LOG_INFO, "input", "%s stopped", r->decl->name);
    }
    atomic_store(&r->done, true);
    return NULL;
}

static lf_err start_runner(lf_agent *a, runner *r, lf_error *err)
{
    const lf_agent_config *cfg = a->cfg;
    const lf_agent_input_decl *d = r->decl;
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/%s", cfg->state_dir, d->kind->type);
    lf_err rc = make_dir(dir, err);
    if (rc != LF_OK)
        return rc;
    if ((rc = make_parser(cfg, d->parser, &r->parser, err)) != LF_OK)
        return rc;
    lf_agent_input_common common = {.name = d->name, .state_dir = cfg->state_dir, .stop = &a->stop};
    lf_error inner = {0};
    if ((rc = d->kind->create(&common, d->options, &r->input, &inner)) != LF_OK)
        return lf_error_set(err, rc, "input %s: %s", d->name, inner.message);
    snprintf(r->input->name, sizeof r->input->name, "%s", d->name);
    lf_agent_pipeline_options po = {
        .tenant = cfg->tenant,
        .app = d->app[0] ? d->app : cfg->app,
        .customer_key = a->customer_key,
        .parser = r->parser,
        .input_labels = &d->labels,
        .agent_labels = &cfg->labels,
        .buffer = a->buffer,
        .stop = &a->stop,
        .max_records = (size_t)cfg->batch_max_records,
        .max_bytes = (size_t)cfg->batch_max_bytes,
        .max_wait_ms = cfg->batch_max_wait_ms,
        .zstd_level = (int)cfg->zstd_level,
        .rotate_records = (uint64_t)cfg->key_rotate_records,
        .rotate_bytes = cfg->key_rotate_bytes,
        .rotate_after_ms = cfg->key_rotate_after_ms,
    };
    if ((rc = lf_agent_pipeline_new(&po, r->input, &r->pipeline, err)) != LF_OK)
        return rc;
    atomic_store(&r->ready, true);
    if (pthread_create(&r->thread, NULL, runner_main, r) != 0)
        return lf_error_set(err, LF_ERR_IO, "input %s: cannot start its thread", d->name);
    r->started = true;
    return LF_OK;
}

static lf_err start_inputs(lf_agent *a, lf_error *err)
{
    for (size_t i = 0; i < a->n_runners; i++) {
        lf_err rc = start_runner(a, &a->runners[i], err);
        if (rc != LF_OK)
            return rc;
    }
    return LF_OK;
}

static bool sleep_unless_stopped(lf_agent *a, int64_t ms)
{
    for (int64_t t = 0; t < ms && !atomic_load(&a->stop); t += 100) {
        struct timespec ts = {0, 100 * 1000000L};
        nanosleep(&ts, NULL);
    }
    return !atomic_load(&a->stop);
}

static void *keyfetch_main(void *arg)
{
    lf_agent *a = arg;
    pthread_setname_np(pthread_self(), "keyfetch");
    int64_t delay = 1000;
    do {
        lf_buf pem = LF_BUF_INIT;
        lf_error e = {0};
        lf_pubkey *key = NULL;
        lf_err rc = lf_agent_ship_fetch_customer_key(&a->ship_opt, &pem, &e);
        if (rc == LF_OK)
            rc = key_from_pem(a->cfg, (const char *)pem.data, pem.len,
                              "the customer key the server answered", &key, &e);
        if (rc == LF_OK) {
            key_cache_write(a->cfg, (const char *)pem.data);
            a->customer_key = key;
            atomic_store(&a->key_ready, true);
            lf_agent_log(LF_AGENT_LOG_INFO, "agent",
                         "customer key %s fetched from the server and cached; starting inputs",
                         a->cfg->public_key_fingerprint);
            lf_buf_free(&pem);
            lf_error se = {0};
            if (start_inputs(a, &se) != LF_OK)
                lf_agent_log(LF_AGENT_LOG_ERROR, "agent", "cannot start inputs: %s", se.message);
            break;
        }
        lf_buf_free(&pem);
        /* A key that does not match the pin is an attack or a mistake: say so loudly, keep
         * asking (the operator may fix the registration), never seal to it. */
        lf_agent_log(rc == LF_ERR_AUTH ? LF_AGENT_LOG_ERROR : LF_AGENT_LOG_WARN, "agent",
                     "no customer key yet (only its fingerprint is configured): %s", e.message);
        delay = delay * 2 > 60000 ? 60000 : delay * 2;
    } while (sleep_unless_stopped(a, delay));
    lf_wipe(a->api_key, strlen(a->api_key));
    return NULL;
}

static void ops_metrics(void *ctx, lf_buf *out)
{
    lf_agent_write_metrics(ctx, out);
}

static int ops_health(void *ctx, lf_buf *out)
{
    return lf_agent_health(ctx, out);
}

lf_err lf_agent_start(const lf_agent_config *cfg, lf_agent **out, lf_error *err)
{
    lf_agent *a = calloc(1, sizeof *a);
    if (a == NULL)
        return lf_error_set(err, LF_ERR_NOMEM, "out of memory");
    a->cfg = cfg;
    a->started_s = (int64_t)time(NULL);
    char path[4096];
    char *api_key = NULL;
    lf_err rc = make_dir(cfg->state_dir, err);
    if (rc == LF_OK && cfg->public_key_file[0] != '\0') {
        rc = key_from_file(cfg, cfg->public_key_file, "public_key_file", &a->customer_key, err);
    } else if (rc == LF_OK) {
        char cache[4096];
        key_cache_path(cfg, cache, sizeof cache);
        lf_error e = {0};
        lf_err kc = key_from_file(cfg, cache, "cached customer key", &a->customer_key, &e);
        if (kc != LF_OK && kc != LF_ERR_NOT_FOUND)
            lf_agent_log(LF_AGENT_LOG_WARN, "agent", "ignoring the cached key: %s", e.message);
    }
    if (rc == LF_OK)
        rc = lf_agent_config_api_key(cfg, &api_key, err);
    if (rc == LF_OK) {
        snprintf(path, sizeof path, "%s/buffer", cfg->state_dir);
        lf_agent_buffer_options bo = {
            .max_bytes = cfg->buffer_max_bytes,
            .segment_bytes = cfg->buffer_segment_bytes,
            .policy = strcmp(cfg->buffer_policy, "drop_oldest") == 0 ? LF_AGENT_BUFFER_DROP_OLDEST
                                                                     : LF_AGENT_BUFFER_BLOCK,
        };
        rc = lf_agent_buffer_open(path, &bo, &a->buffer, err);
    }
    if (rc == LF_OK) {
        lf_agent_buffer_stats bs;
        lf_agent_buffer_stats_get(a->buffer, &bs);
        lf_agent_log(LF_AGENT_LOG_INFO, "buffer",
                     "opened: %llu items pending, %llu bytes, %llu quarantined segments",
                     (unsigned long long)bs.items_pending, (unsigned long long)bs.bytes_used,
                     (unsigned long long)bs.quarantined_segments);
        snprintf(path, sizeof path, "%s/dead-letter", cfg->state_dir);
        lf_agent_ship_options so = {
            .endpoint = cfg->endpoint,
            .api_key = api_key,
            .ca_file = cfg->tls_ca_file[0] ? cfg->tls_ca_file : NULL,
            .pinned_pubkey = cfg->tls_pinned_public_key[0] ? cfg->tls_pinned_public_key : NULL,
            .dead_letter_dir = path,
            .dead_letter_max_bytes = cfg->dead_letter_max_bytes,
            .backoff_base_ms = cfg->ship_backoff_base_ms,
            .backoff_max_ms = cfg->ship_backoff_max_ms,
            .max_retries = cfg->ship_max_retries,
            .connect_timeout_ms = cfg->ship_connect_timeout_ms,
            .request_timeout_ms = cfg->ship_request_timeout_ms,
        };
        rc = lf_agent_ship_start(a->buffer, &so, &a->ship, err);
        a->ship_opt = so;
        a->ship_opt.dead_letter_dir = NULL; /* the fetch needs the connection settings only */
    }
    if (rc == LF_OK && cfg->n_inputs) {
        a->runners = calloc(cfg->n_inputs, sizeof *a->runners);
        if (a->runners == NULL)
            rc = lf_error_set(err, LF_ERR_NOMEM, "out of memory");
    }
    for (size_t i = 0; rc == LF_OK && i < cfg->n_inputs; i++) {
        if (!cfg->inputs[i].enabled)
            continue;
        runner *r = &a->runners[a->n_runners++];
        r->agent = a;
        r->decl = &cfg->inputs[i];
    }
    if (rc == LF_OK && a->customer_key != NULL) {
        atomic_store(&a->key_ready, true);
        rc = start_inputs(a, err);
    } else if (rc == LF_OK) {
        a->api_key = api_key; /* the fetch thread signs with it, then wipes it */
        api_key = NULL;
        a->ship_opt.api_key = a->api_key;
        if (pthread_create(&a->keyfetch, NULL, keyfetch_main, a) != 0)
            rc = lf_error_set(err, LF_ERR_IO, "cannot start the key fetch thread");
        else
            a->keyfetch_started = true;
    }
    if (api_key) {
        lf_wipe(api_key, strlen(api_key));
        free(api_key);
    }
    a->ship_opt.api_key = a->api_key; /* NULL once the key is known */
    if (rc == LF_OK && cfg->ops_listen[0] != '\0') {
        lf_agent_ops_options oo = {.listen = cfg->ops_listen,
                                   .allow_non_loopback = cfg->ops_allow_non_loopback,
                                   .metrics = ops_metrics,
                                   .health = ops_health,
                                   .ctx = a};
        if ((rc = lf_agent_ops_start_opts(&oo, &a->ops, err)) == LF_OK)
            lf_agent_log(LF_AGENT_LOG_INFO, "ops", "ops endpoint on %s port %u", cfg->ops_listen,
                         (unsigned)lf_agent_ops_port(a->ops));
    }
    if (rc != LF_OK) {
        lf_agent_stop(a, 0);
        return rc;
    }
    *out = a;
    return LF_OK;
}

bool lf_agent_inputs_done(lf_agent *a)
{
    for (size_t i = 0; i < a->n_runners; i++)
        if (!atomic_load(&a->runners[i].done))
            return false;
    return true;
}

void lf_agent_stop(lf_agent *a, int64_t ship_flush_ms)
{
    if (a == NULL)
        return;
    atomic_store(&a->stop, true);
    if (a->keyfetch_started)
        pthread_join(a->keyfetch, NULL);
    free(a->api_key);
    for (size_t i = 0; i < a->n_runners; i++)
        if (a->runners[i].started)
            pthread_join(a->runners[i].thread, NULL);
    lf_agent_ops_stop(a->ops);
    a->ops = NULL;
    if (a->ship)
        lf_agent_ship_stop(a->ship, ship_flush_ms >= 0 ? ship_flush_ms : a->cfg->shutdown_flush_ms);
    for (size_t i = 0; i < a->n_runners; i++) {
        runner *r = &a->runners[i];
        lf_agent_pipeline_free(r->pipeline);
        if (r->input)
            r->input->vt->destroy(r->input);
        lf_parser_free(r->parser);
    }
    free(a->runners);
    lf_agent_buffer_close(a->buffer);
    lf_pubkey_free(a->customer_key);
    free(a);
}

static void counter(lf_buf *out, const char *name, const char *help, const char *type, lf_agent *a,
                    size_t field_off)
{
    lf_agent_metric_help(out, name, type, help);
    for (size_t i = 0; i < a->n_runners; i++) {
        runner *r = &a->runners[i];
        if (!atomic_load(&r->ready))
            continue;
        lf_agent_pipeline_stats *s = lf_agent_pipeline_stats_of(r->pipeline);
        uint64_t v = atomic_load((atomic_uint_fast64_t *)((char *)s + field_off));
        const char *labels[] = {"input", r->decl->name, "type", r->decl->type, NULL};
        lf_agent_metric_u64(out, name, labels, v);
    }
}

#define PSTAT(f) offsetof(lf_agent_pipeline_stats, f)

/* The inputs' own counters, one sample line each. Two inputs of one type write the same
 * metric names, and the exposition format wants each metric's samples together under one
 * TYPE line: so collect every input's lines, then emit them grouped by name (in order of first
 * appearance), typed counter for *_total and gauge otherwise. */
static void write_input_metrics(lf_agent *a, lf_buf *out)
{
    lf_buf all = LF_BUF_INIT;
    for (size_t i = 0; i < a->n_runners; i++)
        if (atomic_load(&a->runners[i].ready) && a->runners[i].input->vt->write_metrics)
            a->runners[i].input->vt->write_metrics(a->runners[i].input, &all);
    typedef struct line {
        const char *p;
        size_t len, name_len;
        bool done;
    } line;
    size_t n = 0, cap = 0;
    line *lines = NULL;
    for (size_t off = 0; off < all.len;) {
        const char *p = (const char *)all.data + off;
        const char *nl = memchr(p, '\n', all.len - off);
        size_t len = nl ? (size_t)(nl - p) + 1 : all.len - off;
        off += len;
        if (len < 2 || p[0] == '#')
            continue; /* inputs write samples only; stray comments are dropped */
        if (n == cap) {
            size_t c = cap ? cap * 2 : 64;
            line *g = realloc(lines, c * sizeof *g);
            if (g == NULL)
                break;
            lines = g;
            cap = c;
        }
        size_t name_len = strcspn(p, "{ ");
        lines[n++] = (line){p, len, name_len > len ? len : name_len, false};
    }
    for (size_t i = 0; i < n; i++) {
        if (lines[i].done)
            continue;
        char name[160];
        size_t nl = lines[i].name_len < sizeof name - 1 ? lines[i].name_len : sizeof name - 1;
        memcpy(name, lines[i].p, nl);
        name[nl] = '\0';
        bool counter = nl > 6 && strcmp(name + nl - 6, "_total") == 0;
        lf_buf_printf(out, "# TYPE %s %s\n", name, counter ? "counter" : "gauge");
        for (size_t j = i; j < n; j++)
            if (!lines[j].done && lines[j].name_len == lines[i].name_len &&
                memcmp(lines[j].p, lines[i].p, lines[i].name_len) == 0) {
                lf_buf_append(out, lines[j].p, lines[j].len);
                if (lines[j].p[lines[j].len - 1] != '\n')
                    lf_buf_append(out, "\n", 1);
                lines[j].done = true;
            }
    }
    free(lines);
    lf_buf_free(&all);
}

void lf_agent_write_metrics(lf_agent *a, lf_buf *out)
{
    lf_agent_metric_help(out, "logflux_agent_start_time_seconds", "gauge",
                         "Unix time the agent started.");
    lf_agent_metric_u64(out, "logflux_agent_start_time_seconds", NULL, (uint64_t)a->started_s);
    counter(out, "logflux_agent_input_records_total", "Records read by the input.", "counter", a,
            PSTAT(records_in));
    counter(out, "logflux_agent_input_bytes_total", "Message bytes read by the input.", "counter",
            a, PSTAT(bytes_in));
    counter(out, "logflux_agent_sealed_records_total",
            "Records sealed and durable in the disk buffer.", "counter", a, PSTAT(records_sealed));
    counter(out, "logflux_agent_parse_errors_total",
            "Records the configured parser did not match (kept as raw text).", "counter", a,
            PSTAT(parse_errors));
    counter(out, "logflux_agent_time_clamped_total",
            "Records whose time was outside the accepted window (stamped with the read time).",
            "counter", a, PSTAT(time_clamped));
    counter(out, "logflux_agent_truncated_total", "Messages cut at 1 MiB.", "counter", a,
            PSTAT(truncated));
    counter(out, "logflux_agent_sealed_batches_total", "Sealed bodies appended to the buffer.",
            "counter", a, PSTAT(batches));
    counter(out, "logflux_agent_sealed_bytes_total", "Bytes of sealed bodies.", "counter", a,
            PSTAT(sealed_bytes));
    counter(out, "logflux_agent_key_rotations_total", "Session keys rotated.", "counter", a,
            PSTAT(key_rotations));
    counter(out, "logflux_agent_input_errors_total", "Input read failures.", "counter", a,
            PSTAT(input_errors));
    counter(out, "logflux_agent_buffer_append_errors_total", "Buffer write failures (retried).",
            "counter", a, PSTAT(append_errors));
    counter(out, "logflux_agent_lost_at_stop_records_total",
            "Records read but not made durable when stopping (re-read on start where the input "
            "can replay).",
            "counter", a, PSTAT(lost_at_stop));
    struct {
        const char *name, *type, *help;
        size_t field;
        double scale; /* 0 = boolean gauge */
    } timed[] = {
        {"logflux_agent_seal_seconds_total", "counter",
         "Time spent compressing and sealing blocks.", PSTAT(seal_ns), 1e9},
        {"logflux_agent_blocked_seconds_total", "counter",
         "Time inputs waited for buffer space (policy block).", PSTAT(blocked_ms), 1e3},
    };
    for (size_t k = 0; k < sizeof timed / sizeof *timed; k++) {
        lf_agent_metric_help(out, timed[k].name, timed[k].type, timed[k].help);
        for (size_t i = 0; i < a->n_runners; i++) {
            runner *r = &a->runners[i];
            if (!atomic_load(&r->ready))
                continue;
            lf_agent_pipeline_stats *s = lf_agent_pipeline_stats_of(r->pipeline);
            uint64_t v = atomic_load((atomic_uint_fast64_t *)((char *)s + timed[k].field));
            const char *labels[] = {"input", r->decl->name, "type", r->decl->type, NULL};
            lf_agent_metric_f64(out, timed[k].name, labels, (double)v / timed[k].scale);
        }
    }
    lf_agent_metric_help(out, "logflux_agent_dropped_records_total", "counter",
                         "Records of this input deleted unsent by the drop_oldest policy.");
    for (size_t i = 0; i < a->n_runners; i++) {
        runner *r = &a->runners[i];
        uint64_t records = 0;
        if (!atomic_load(&r->ready) ||
            lf_agent_buffer_dropped_for(a->buffer, r->decl->name, NULL, &records, NULL) != LF_OK)
            continue;
        const char *labels[] = {"input", r->decl->name, "type", r->decl->type, NULL};
        lf_agent_metric_u64(out, "logflux_agent_dropped_records_total", labels, records);
    }
    lf_agent_metric_help(out, "logflux_agent_input_blocked", "gauge",
                         "1 while the input waits for buffer space.");
    for (size_t i = 0; i < a->n_runners; i++) {
        runner *r = &a->runners[i];
        if (!atomic_load(&r->ready))
            continue;
        const char *labels[] = {"input", r->decl->name, "type", r->decl->type, NULL};
        lf_agent_metric_u64(out, "logflux_agent_input_blocked", labels,
                            atomic_load(&lf_agent_pipeline_stats_of(r->pipeline)->blocked) ? 1 : 0);
    }
    write_input_metrics(a, out);
    lf_agent_buffer_stats bs;
    lf_agent_buffer_stats_get(a->buffer, &bs);
    struct {
        const char *name, *type, *help;
        uint64_t v;
    } buf[] = {
        {"logflux_agent_buffer_bytes", "gauge", "Bytes of the disk buffer's segment files.",
         bs.bytes_used},
        {"logflux_agent_buffer_max_bytes", "gauge", "Bound of the disk buffer.",
         a->cfg->buffer_max_bytes},
        {"logflux_agent_buffer_items", "gauge", "Sealed bodies waiting to be shipped.",
         bs.items_pending},
        {"logflux_agent_buffer_records", "gauge", "Records waiting to be shipped.",
         bs.records_pending},
        {"logflux_agent_buffer_dropped_records_total", "counter",
         "Records deleted unsent by the drop_oldest policy.", bs.dropped_records},
        {"logflux_agent_buffer_dropped_items_total", "counter",
         "Bodies deleted unsent by the drop_oldest policy.", bs.dropped_items},
        {"logflux_agent_buffer_quarantined_segments_total", "counter",
         "Damaged buffer segments moved to quarantine/.", bs.quarantined_segments},
        {"logflux_agent_buffer_recovered_bytes_truncated_total", "counter",
         "Bytes of a torn tail cut off at start.", bs.recovered_bytes_truncated},
    };
    for (size_t i = 0; i < sizeof buf / sizeof *buf; i++) {
        lf_agent_metric_help(out, buf[i].name, buf[i].type, buf[i].help);
        lf_agent_metric_u64(out, buf[i].name, NULL, buf[i].v);
    }
    lf_agent_ship_write_metrics(a->ship, out);
}

int lf_agent_health(lf_agent *a, lf_buf *out)
{
    size_t failed = 0, blocked = 0;
    for (size_t i = 0; i < a->n_runners; i++) {
        runner *r = &a->runners[i];
        failed += atomic_load(&r->failed);
        if (atomic_load(&r->ready) &&
            atomic_load(&lf_agent_pipeline_stats_of(r->pipeline)->blocked))
            blocked++;
    }
    lf_agent_buffer_stats bs;
    lf_agent_buffer_stats_get(a->buffer, &bs);
    lf_agent_ship_stats ss;
    lf_agent_ship_stats_get(a->ship, &ss);
    /* Unhealthy = this process cannot do its job even when the server comes back: an input
     * whose pipeline stopped on an error. A server that is down is reported, not unhealthy:
     * restarting the agent would not help, and the buffer is doing its job. */
    int status = failed ? 503 : 200;
    lf_buf_printf(out,
                  "{\"status\":\"%s\",\"customer_key\":\"%s\",\"inputs\":%zu,\"inputs_failed\":%zu,"
                  "\"inputs_blocked\":%zu,\"buffer_bytes\":%llu,\"buffer_max_bytes\":%llu,"
                  "\"buffer_items\":%llu,\"ship_consecutive_failures\":%llu,"
                  "\"last_ship_success_ms\":%lld,\"last_status\":%ld,\"last_error\":\"",
                  status == 200 ? "ok" : "failing", atomic_load(&a->key_ready) ? "ok" : "fetching",
                  a->n_runners, failed, blocked, (unsigned long long)bs.bytes_used,
                  (unsigned long long)a->cfg->buffer_max_bytes,
                  (unsigned long long)bs.items_pending, (unsigned long long)ss.consecutive_failures,
                  (long long)ss.last_success_ms, ss.last_status);
    lf_agent_json_escape(out, ss.last_error, strlen(ss.last_error));
    lf_buf_append_str(out, "\"}");
    return status;
}

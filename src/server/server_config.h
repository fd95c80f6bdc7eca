/*
 * server_config.h — every logfluxd option, declared once in lfd_config_table (server_config.c).
 * The table validates the YAML config file (unknown keys are errors), takes command-line
 * overrides, and generates docs/CONFIG-SERVER.md (`logfluxd config-docs`).
 */
#ifndef LFD_SERVER_CONFIG_H
#define LFD_SERVER_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "logflux/error.h"
#include "options.h"

typedef struct lfd_config {
    char *data_dir;
    char *listen;
    char *public_url;
    char *region;
    char *tls_cert;
    char *tls_key;
    char *tls_min_version;
    bool insecure_http;
    int64_t http_threads;
    int64_t http_connection_timeout_ms;
    int64_t http_max_connections;
    int64_t drain_timeout_ms;
    uint64_t http_max_buffered_bytes;
    uint64_t max_request_bytes;
    uint64_t max_native_request_bytes;
    uint64_t max_part_bytes;
    int64_t max_parts;
    uint64_t max_header_line_bytes;
    int64_t max_future_ms;
    int64_t max_age_ms;
    int64_t rate_key_per_sec;
    int64_t rate_key_burst;
    int64_t rate_ip_per_sec;
    int64_t rate_ip_burst;
    uint64_t spool_max_bytes;
    uint64_t spool_segment_bytes;
    int64_t worker_flush_interval_ms;
    int64_t worker_flush_rows;
    uint64_t worker_flush_bytes;
    int64_t worker_row_group_rows;
    int64_t idempotency_ttl_ms;
    int64_t replay_cache_entries;
    char *log_level;
} lfd_config;

extern const lf_option lfd_config_table[];
extern const size_t lfd_config_table_len;

lf_err lfd_config_init(lfd_config *c, lf_error *err);
lf_err lfd_config_load(lfd_config *c, const char *path, lf_error *err);
lf_err lfd_config_set(lfd_config *c, const char *name, const char *value, lf_error *err);
void lfd_config_free(lfd_config *c);
void lfd_config_write_docs(FILE *out);

#endif

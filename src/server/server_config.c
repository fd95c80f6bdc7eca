/*
 * server_config.c — the option table of logfluxd (see server_config.h).
 */
#include "server_config.h"

#include "options.h"

#define F(field) offsetof(lfd_config, field)
#define DAY_MS   86400000LL

const lf_option lfd_config_table[] = {
    {"data_dir", LF_OPT_STRING, "", 0, 0, NULL, F(data_dir),
     "Data directory made by `logfluxd init`: metadata, spool, object store, TLS files. "
     "Usually given as `--data`."},
    {"listen", LF_OPT_STRING, "127.0.0.1:8443", 0, 0, NULL, F(listen),
     "Address and port to bind (`host:port`, `[v6]:port`). Loopback unless told otherwise."},
    {"public_url", LF_OPT_STRING, "", 0, 0, NULL, F(public_url),
     "Base URL clients reach this server at, announced by discovery. Empty: derived from "
     "`listen`."},
    {"region", LF_OPT_ENUM, "eu", 0, 0, "eu|us|ca|au|ap", F(region),
     "Region this server serves; new credentials carry its prefix."},
    {"tls.cert", LF_OPT_STRING, "", 0, 0, NULL, F(tls_cert),
     "PEM certificate chain. Empty: `<data_dir>/tls/cert.pem` (made by `init`)."},
    {"tls.key", LF_OPT_STRING, "", 0, 0, NULL, F(tls_key),
     "PEM private key of the certificate. Empty: `<data_dir>/tls/key.pem`."},
    {"tls.min_version", LF_OPT_ENUM, "1.3", 0, 0, "1.2|1.3", F(tls_min_version),
     "Oldest TLS version accepted."},
    {"insecure_http", LF_OPT_BOOL, "false", 0, 0, NULL, F(insecure_http),
     "Serve plain HTTP instead of TLS. Refused unless `listen` is a loopback address."},
    {"http.threads", LF_OPT_INT, "16", 1, 1024, NULL, F(http_threads),
     "Worker threads serving requests (an ingest request holds one while its batch is made "
     "durable)."},
    {"http.connection_timeout", LF_OPT_DURATION, "30s", 1000, 3600000, NULL,
     F(http_connection_timeout_ms), "Idle connections are closed after this long."},
    {"http.max_connections", LF_OPT_INT, "4096", 1, 1000000, NULL, F(http_max_connections),
     "Concurrent connections accepted."},
    {"http.max_buffered_bytes", LF_OPT_SIZE, "1GiB", 1LL << 20, 1LL << 40, NULL,
     F(http_max_buffered_bytes),
     "Request bodies held in memory at once, all connections together; beyond it new uploads "
     "get 503 with Retry-After instead of exhausting memory."},
    {"http.drain_timeout", LF_OPT_DURATION, "30s", 0, 3600000, NULL, F(drain_timeout_ms),
     "On SIGTERM, how long in-flight requests may take to finish."},
    {"limits.max_request_bytes", LF_OPT_SIZE, "10MiB", 1024, 1LL << 30, NULL, F(max_request_bytes),
     "Largest v3 multipart request body."},
    {"limits.max_native_request_bytes", LF_OPT_SIZE, "32MiB", 1024, 1LL << 30, NULL,
     F(max_native_request_bytes), "Largest native frames request body."},
    {"limits.max_part_bytes", LF_OPT_SIZE, "1MiB", 64, 1LL << 30, NULL, F(max_part_bytes),
     "Largest v3 part body (one entry)."},
    {"limits.max_parts", LF_OPT_INT, "1000", 1, 100000, NULL, F(max_parts),
     "Most parts in one v3 request."},
    {"limits.max_header_line_bytes", LF_OPT_SIZE, "8KiB", 256, 1LL << 20, NULL,
     F(max_header_line_bytes), "Longest header line inside a multipart part."},
    {"limits.max_future", LF_OPT_DURATION, "5m", 0, 7 * DAY_MS, NULL, F(max_future_ms),
     "Entries stamped further in the future than this are refused."},
    {"limits.max_age", LF_OPT_DURATION, "366d", 60000, 3660 * DAY_MS, NULL, F(max_age_ms),
     "Entries older than this are refused."},
    {"ratelimit.per_key_per_sec", LF_OPT_INT, "2000", 0, 10000000, NULL, F(rate_key_per_sec),
     "Requests per second per credential (token bucket refill); 0 disables. Tenants may "
     "override."},
    {"ratelimit.per_key_burst", LF_OPT_INT, "4000", 1, 10000000, NULL, F(rate_key_burst),
     "Token bucket size per credential."},
    {"ratelimit.per_ip_per_sec", LF_OPT_INT, "1000", 0, 10000000, NULL, F(rate_ip_per_sec),
     "Requests per second per client IP address; 0 disables."},
    {"ratelimit.per_ip_burst", LF_OPT_INT, "2000", 1, 10000000, NULL, F(rate_ip_burst),
     "Token bucket size per client IP address."},
    {"spool.max_bytes", LF_OPT_SIZE, "4GiB", 1LL << 20, 1LL << 50, NULL, F(spool_max_bytes),
     "Bound on the durable spool; when full, ingest answers 503 with Retry-After and reads "
     "go on."},
    {"spool.segment_bytes", LF_OPT_SIZE, "64MiB", 1LL << 16, 1LL << 34, NULL,
     F(spool_segment_bytes), "Size at which the spool starts a new segment file."},
    {"worker.flush_interval", LF_OPT_DURATION, "5s", 100, 3600000, NULL,
     F(worker_flush_interval_ms),
     "Buffered rows are written to Parquet at least this often (data is queryable within it)."},
    {"worker.flush_rows", LF_OPT_INT, "200000", 1, 100000000, NULL, F(worker_flush_rows),
     "Write Parquet once this many rows are buffered."},
    {"worker.flush_bytes", LF_OPT_SIZE, "128MiB", 1024, 1LL << 34, NULL, F(worker_flush_bytes),
     "Write Parquet once this many bytes of rows are buffered."},
    {"worker.row_group_rows", LF_OPT_INT, "65536", 1, 10000000, NULL, F(worker_row_group_rows),
     "Rows per Parquet row group (the unit queries skip by time statistics)."},
    {"idempotency.ttl", LF_OPT_DURATION, "24h", 1000, 30 * DAY_MS, NULL, F(idempotency_ttl_ms),
     "How long a batch's idempotency key is remembered."},
    {"auth.replay_cache_entries", LF_OPT_INT, "1000000", 1024, 100000000, NULL,
     F(replay_cache_entries), "Signed-request nonces remembered (for 10 minutes each)."},
    {"log.level", LF_OPT_ENUM, "info", 0, 0, "debug|info|warn|error", F(log_level),
     "Server log verbosity. Logs never contain secrets or payloads."},
};
const size_t lfd_config_table_len = sizeof lfd_config_table / sizeof *lfd_config_table;

lf_err lfd_config_init(lfd_config *c, lf_error *err)
{
    return lf_options_defaults(lfd_config_table, lfd_config_table_len, c, err);
}

lf_err lfd_config_load(lfd_config *c, const char *path, lf_error *err)
{
    return lf_options_load_yaml(lfd_config_table, lfd_config_table_len, c, path, err);
}

lf_err lfd_config_set(lfd_config *c, const char *name, const char *value, lf_error *err)
{
    return lf_options_set(lfd_config_table, lfd_config_table_len, c, name, value, err);
}

void lfd_config_free(lfd_config *c)
{
    lf_options_free(lfd_config_table, lfd_config_table_len, c);
}

void lfd_config_write_docs(FILE *out)
{
    lf_options_write_markdown(
        lfd_config_table, lfd_config_table_len, "logfluxd configuration reference",
        "Generated by `logfluxd config-docs` from the option table in "
        "`src/server/server_config.c`; a test fails if this file and the table disagree.\n\n"
        "Options come from the YAML file given with `--config`, then from command-line flags "
        "(`--data`, `--listen`, `--tls-cert`, `--tls-key`, `--insecure-http`, or "
        "`--set name=value` for any option).",
        out);
}

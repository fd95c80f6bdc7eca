/*
 * routes.c — every endpoint of logfluxd, with its method and body limit, in one table.
 * Limits here bound what the HTTP layer buffers; the handlers apply the protocol limits.
 */
#include "api/admin.h"
#include "api/read.h"
#include "ingest/ingest.h"
#include "server.h"

#define KIB 1024u

const lfd_route lfd_routes[] = {
    {"GET", "/health", 0, lfd_handle_health},
    {"GET", "/info", 0, lfd_handle_info},
    {"GET", "/version", 0, lfd_handle_info},
    {"GET", "/discovery", 0, lfd_handle_static_discovery},
    {"GET", "/api/discovery", 0, lfd_handle_discovery},
    {"GET", "/v1/discovery", 0, lfd_handle_discovery},

    {"POST", "/v1/handshake/init", 4 * KIB, lfd_handle_handshake_init},
    {"POST", "/v1/handshake/complete", 8 * KIB, lfd_handle_handshake_complete},
    /* The configured limit of the request's format (limits.max_*request_bytes). */
    {"POST", "/v1/ingest", LFD_BODY_BY_TYPE, lfd_handle_ingest},
    {"POST", "/v1/batch", LFD_BODY_BY_TYPE, lfd_handle_ingest},

    {"GET", "/v1/admin/apps", 0, lfd_handle_apps},
    {"POST", "/v1/admin/apps", 4 * KIB, lfd_handle_apps},
    {"GET", "/v1/admin/api-keys", 0, lfd_handle_api_keys},
    {"POST", "/v1/admin/api-keys", 4 * KIB, lfd_handle_api_keys},
    {"DELETE", "/v1/admin/api-keys/*", 0, lfd_handle_api_keys},
    {"GET", "/v1/admin/tokens", 0, lfd_handle_tokens},
    {"POST", "/v1/admin/tokens", 4 * KIB, lfd_handle_tokens},
    {"DELETE", "/v1/admin/tokens/*", 0, lfd_handle_tokens},
    {"GET", "/v1/admin/public-keys", 0, lfd_handle_public_keys},
    {"POST", "/v1/admin/public-keys", 32 * KIB, lfd_handle_public_keys},
    {"GET", "/v1/admin/tenant", 0, lfd_handle_tenant},
    {"PUT", "/v1/admin/tenant", 4 * KIB, lfd_handle_tenant},
    {"GET", "/v1/admin/audit", 0, lfd_handle_audit},

    {"GET", "/v1/query", 0, lfd_handle_query},
    {"GET", "/v1/keys", 0, lfd_handle_keys_list},
    {"GET", "/v1/keys/*", 0, lfd_handle_keys_get},
    {"GET", "/v1/files", 0, lfd_handle_files_list},
    {"GET", "/v1/files/*", 0, lfd_handle_files_item},
    {"GET", "/v1/tail", 0, lfd_handle_tail},
};
const size_t lfd_routes_len = sizeof lfd_routes / sizeof *lfd_routes;

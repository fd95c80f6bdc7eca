/*
 * read.h — the read side of logfluxd's API (docs/API.md, "Read API"). Every handler takes the
 * lfd_app as its context, authenticates a personal access token with the read scope, scopes
 * everything to the token's tenant (another tenant's key, file or row is a 404 or simply
 * absent), honours an app-bound token's app, and audits the read.
 *
 *   GET /v1/query              rows by time range, app, entry type, search token; paged
 *   GET /v1/keys               wrapped session keys (list)        GET /v1/keys/{key_id}
 *   GET /v1/files              manifest entries (list)            GET /v1/files/{id}/download
 *   GET /v1/tail               rows flushed after a point: long-poll (wait=SECONDS)
 *
 * Routes (the server registers them): "/v1/query", "/v1/keys", "/v1/keys/" + '*', "/v1/files",
 * "/v1/files/" + '*' (lfd_handle_files_item answers ".../{id}/download"), "/v1/tail"; all GET
 * with max_body 0.
 */
#ifndef LFD_API_READ_H
#define LFD_API_READ_H

#include <stdbool.h>
#include <stdint.h>

#include "app.h"

void lfd_handle_query(lfd_request *r, void *app);
void lfd_handle_keys_list(lfd_request *r, void *app);
void lfd_handle_keys_get(lfd_request *r, void *app);
void lfd_handle_files_list(lfd_request *r, void *app);
void lfd_handle_files_item(lfd_request *r, void *app);
void lfd_handle_tail(lfd_request *r, void *app);

/* ---- shared by the read handlers ---- */

/* A time parameter: RFC 3339 or a decimal Unix-ns integer. false if malformed. */
bool lfd_read_parse_time(const char *s, int64_t *out);
/* limit parameter: absent = def, else 1..max; false if malformed or out of range. */
bool lfd_read_parse_limit(const char *s, long def, long max, long *out);
/* Opaque cursors: base64url (no padding) of up to 4 signed 64-bit integers, big-endian, after a
 * one-byte tag naming the endpoint; decoding checks the tag and the count. */
char *lfd_read_cursor_encode(uint8_t tag, const int64_t *v, size_t n);
bool lfd_read_cursor_decode(const char *s, uint8_t tag, int64_t *v, size_t n);
/* Paging of metadata lists (keys, files, admin lists): the `limit` (default def, at most
 * LF_META_LIST_MAX) and `cursor` query arguments of r. On bad input the request is answered
 * 400 and false returned. */
bool lfd_read_list_args(lfd_request *r, uint8_t tag, long def, size_t *limit,
                        lf_meta_cursor *cursor);
/* The `next_cursor` value for a metadata list: an opaque string, or null at the end. */
json_t *lfd_read_list_cursor(uint8_t tag, lf_meta_cursor next);
/* Authenticate a read and resolve the effective app filter: the query's `app` (validated),
 * overridden by an app-bound token (a different app is 403). On false the request is answered. */
bool lfd_read_begin(lfd_app *app, lfd_request *r, lfd_principal *who, const char **app_filter);

#endif

/*
 * cli.h — what every `logflux` command shares: the resolved configuration (flags, then
 * environment, then the profile in ~/.config/logflux/), the HTTP client for logfluxd, the
 * customer key, output formats and exit codes.
 *
 * The CLI is the only place plaintext appears. Plaintext and key material stay in memory
 * (wiped after use); the local cache holds ciphertext only.
 */
#ifndef LFC_CLI_H
#define LFC_CLI_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "logflux/buf.h"
#include "logflux/crypto.h"
#include "logflux/error.h"

/* Exit codes (documented in docs/CLI.md; tests rely on them). */
enum {
    LFC_EXIT_OK = 0,
    LFC_EXIT_ERROR = 1,       /* anything else */
    LFC_EXIT_USAGE = 2,       /* bad flags or arguments */
    LFC_EXIT_AUTH = 3,        /* 401/403: missing, wrong, revoked or expired credential */
    LFC_EXIT_NOT_FOUND = 4,   /* 404, unknown key id, unknown app */
    LFC_EXIT_UNREACHABLE = 5, /* connection, DNS, TLS or certificate failure */
    LFC_EXIT_PASSPHRASE = 6,  /* the private key did not open with the passphrase */
    LFC_EXIT_TAMPERED = 7,    /* data failed authentication (query/export/sql/tail) */
    LFC_EXIT_VERIFY = 8,      /* verify found missing, duplicated, reordered, re-dated or moved
                                 records */
    LFC_EXIT_SERVER = 9,      /* 5xx or a malformed answer */
};

typedef enum lfc_output { LFC_OUT_TEXT = 0, LFC_OUT_JSON, LFC_OUT_CSV } lfc_output;

/* The resolved configuration of one invocation. Strings are owned (freed by lfc_ctx_free). */
typedef struct lfc_ctx {
    char *profile;    /* --profile / LOGFLUX_PROFILE, default "default" */
    char *endpoint;   /* --endpoint / LOGFLUX_ENDPOINT / profile; resolved by discovery if empty */
    char *token;      /* --token / LOGFLUX_TOKEN / profile */
    char *key_path;   /* --key / LOGFLUX_KEY / profile; default ~/.config/logflux/customer.key */
    char *ca;         /* --ca / LOGFLUX_CA / profile: a CA or self-signed certificate (PEM) */
    char *config_dir; /* $XDG_CONFIG_HOME/logflux or ~/.config/logflux */
    lfc_output output;
    bool verbose;
    bool quiet;
    int64_t timeout_ms; /* whole-request timeout (profile `timeout`, default 60s); 0 = none,
                           which a streaming command (tail) may set before its requests */
    void *http;         /* the CURL easy handle, reused for keep-alive (owned; see http.c) */
    char *profile_path; /* the profile file path (owned) */
} lfc_ctx;

/* The version printed by --version and sent as User-Agent logflux-cli/<version>. */
#define LFC_VERSION "0.1.0"

/* Write docs/CONFIG-CLI.md (the profile keys) from the profile option table. */
void lfc_profile_write_docs(FILE *out);

/* Parse the global flags (they may appear anywhere before the command's own arguments), read
 * the environment and the profile. argv is rewritten to hold the remaining arguments.
 * Returns an exit code (LFC_EXIT_OK to go on). */
int lfc_ctx_init(lfc_ctx *c, int *argc, char **argv);
void lfc_ctx_free(lfc_ctx *c);
/* Save endpoint, token and ca into the current profile (mode 0600). */
int lfc_profile_save(const lfc_ctx *c);

/* Print an error (never a secret) and return the exit code for it. */
int lfc_fail(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ---------------- HTTP ---------------- */

typedef struct lfc_reply {
    long status;
    lf_buf body;  /* raw body */
    json_t *json; /* parsed body, NULL if not JSON */
    char retry_after[16];
    char where[192]; /* "GET /v1/path" (no query string), for error messages */
} lfc_reply;

/* One request to the configured endpoint with the configured token (bearer). body may be
 * NULL. On transport failure returns LFC_EXIT_UNREACHABLE (message printed); otherwise
 * LFC_EXIT_OK with out->status set (the caller decides what a status means, or uses
 * lfc_expect). Certificate checks are never skipped: --ca adds a trust anchor, nothing
 * removes verification. */
int lfc_http(lfc_ctx *c, const char *method, const char *path, const char *content_type,
             const void *body, size_t body_len, lfc_reply *out);
/* JSON convenience: body may be NULL (stolen otherwise). */
int lfc_http_json(lfc_ctx *c, const char *method, const char *path, json_t *body, lfc_reply *out);
/* Map an answer that is not `want` to a printed error and an exit code (401/403 → AUTH,
 * 404 → NOT_FOUND, 5xx → SERVER, other 4xx → ERROR). LFC_EXIT_OK if status == want. */
int lfc_expect(const lfc_reply *r, long want);
void lfc_reply_free(lfc_reply *r);
/* Make sure c->endpoint is set: a region-prefixed token (`eu-lf_usr_…`) with no endpoint is
 * resolved through discovery (GET <LOGFLUX_DISCOVERY_URL, default
 * https://discover.{region}.logflux.io>/discovery → endpoints.backend_url). lfc_http calls it;
 * commands that only need the URL may too. */
int lfc_resolve_endpoint(lfc_ctx *c);
/* Close the kept-alive connection (lfc_ctx_free does it). */
void lfc_http_close(lfc_ctx *c);

/* ---------------- the customer key ---------------- */

/* Load the private key at c->key_path with the passphrase from LOGFLUX_PASSPHRASE or a prompt
 * on the terminal (no echo). LFC_EXIT_PASSPHRASE for a wrong passphrase. The key stays in
 * memory only; free with lf_privkey_free. */
int lfc_load_private_key(lfc_ctx *c, lf_privkey **out);
/* The configured key's public half: <key_path>.pub when present (no passphrase), else derived
 * from the private key (asks for the passphrase). *used_path names the file read (caller
 * frees, also on failure). Free *out with lf_pubkey_free. */
int lfc_configured_public_key(lfc_ctx *c, lf_pubkey **out, char **used_path);
/* Read a secret other than a passphrase (a token for login): one line from stdin when it is not
 * a terminal, else a prompt on the terminal without echo. Caller wipes. */
int lfc_read_secret(const char *prompt, char *out, size_t cap);
/* Read a passphrase: LOGFLUX_PASSPHRASE, else prompt (twice when confirm). Caller wipes. */
int lfc_read_passphrase(const char *prompt, bool confirm, char *out, size_t cap);

#endif

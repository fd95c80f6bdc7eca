/*
 * credentials.h — API keys and personal access tokens (docs/PROTOCOL.md §4).
 *
 * A credential is one string that a client holds in full and the server never stores:
 *
 *   API key                 <region>-lf_<id>_<secret>        e.g. eu-lf_0123456789abcdef_<43>
 *   personal access token   <region>-lf_usr_<id>_<secret>
 *   legacy API key          lf_<id>_<secret>, or lf_<opaque>  (no region; v3 compatibility)
 *
 * `id` is 16 lowercase hex digits (8 random bytes) and public: it names the credential in logs,
 * in the LF-HMAC `Credential=` parameter and in the server's lookup. `secret` is 43 characters
 * of unpadded URL-safe base64 (32 random bytes). The public prefix up to and including the id is
 * the "credential id text" (`eu-lf_0123456789abcdef`, `us-lf_usr_fedcba9876543210`,
 * `lf_0123456789abcdef`); for a legacy opaque key it is `lf_` + the first 16 hex digits of
 * SHA-256 over the whole key.
 *
 * The server keeps an lf_credential_record: a verifier (HKDF of the full string) instead of the
 * string, the scopes, an optional bound app, validity times and a revoked flag;
 * lf_credential_check() decides whether a presented string passes that record.
 *
 * Error messages from this module never contain the secret nor the whole credential: they name
 * the part that is wrong and, at most, lengths and offsets.
 */
#ifndef LOGFLUX_CREDENTIALS_H
#define LOGFLUX_CREDENTIALS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "logflux/error.h"

#ifdef __cplusplus
extern "C" {
#endif

#define LF_CREDENTIAL_ID_HEX_LEN 16 /* the id: 16 lowercase hex digits */
#define LF_CREDENTIAL_SECRET_LEN 43 /* unpadded URL-safe base64 of 32 bytes */
/* Longest credential id text: "eu-lf_usr_" + 16 hex. */
#define LF_CREDENTIAL_ID_TEXT_MAX 26
/* Longest credential this module generates (a PAT: 10 + 16 + 1 + 43). */
#define LF_CREDENTIAL_GENERATED_MAX 70
/* Longest credential it parses (a legacy opaque key: "lf_" + 256). */
#define LF_CREDENTIAL_MAX          259
#define LF_CREDENTIAL_OPAQUE_MIN   16 /* characters after "lf_" in a legacy opaque key */
#define LF_CREDENTIAL_OPAQUE_MAX   256
#define LF_CREDENTIAL_VERIFIER_LEN 32
/* Longest app name a credential can be bound to (as the native frame's app_len, §3.1). */
#define LF_CREDENTIAL_APP_MAX 128

typedef enum lf_credential_kind {
    LF_CREDENTIAL_API_KEY = 1, /* ingest credentials, for the ingest host */
    LF_CREDENTIAL_PAT = 2,     /* personal access tokens, for the query/API host */
} lf_credential_kind;

typedef enum lf_region {
    LF_REGION_NONE = 0, /* legacy keys carry no region */
    LF_REGION_EU,
    LF_REGION_US,
    LF_REGION_CA,
    LF_REGION_AU,
    LF_REGION_AP,
} lf_region;

typedef enum lf_credential_form {
    LF_CREDENTIAL_FORM_CURRENT = 1,       /* <region>-lf_[usr_]<id>_<secret> */
    LF_CREDENTIAL_FORM_LEGACY = 2,        /* lf_<id>_<secret> */
    LF_CREDENTIAL_FORM_LEGACY_OPAQUE = 3, /* lf_<opaque>; id derived by SHA-256 */
} lf_credential_form;

/* The public half of a credential: everything that may be logged or sent. */
typedef struct lf_credential_id {
    lf_credential_kind kind;
    lf_region region;                         /* LF_REGION_NONE for legacy keys */
    char id[LF_CREDENTIAL_ID_HEX_LEN + 1];    /* 16 lowercase hex digits, NUL-terminated */
    char text[LF_CREDENTIAL_ID_TEXT_MAX + 1]; /* the credential id text, NUL-terminated */
} lf_credential_id;

/* A parsed credential. `secret` points INTO the string that was parsed (not a copy): it lives
 * as long as that string and is wiped with it. For a legacy opaque key the secret is
 * everything after "lf_". */
typedef struct lf_credential {
    lf_credential_id pub;
    lf_credential_form form;
    const char *secret;
    size_t secret_len;
} lf_credential;

/* "eu", "us", "ca", "au", "ap"; "" for LF_REGION_NONE; NULL for values outside the enum. */
const char *lf_region_name(lf_region region);
/* Exactly one of the five lowercase names (len bytes, no NUL needed). LF_ERR_INVALID otherwise. */
lf_err lf_region_from_string(const char *s, size_t len, lf_region *out, lf_error *err);
/* "api_key" or "pat"; NULL for values outside the enum. */
const char *lf_credential_kind_name(lf_credential_kind kind);

/* Make a new credential of `kind` for `region` (not LF_REGION_NONE: legacy forms are only
 * accepted, never issued). The full string is written NUL-terminated into `out`, which must
 * hold LF_CREDENTIAL_GENERATED_MAX + 1 bytes; it is shown to its owner once and the caller MUST
 * wipe it (lf_wipe) when done. `parts` (nullable) receives the parse of `out` (its secret
 * points into `out`). */
lf_err lf_credential_generate(lf_credential_kind kind, lf_region region,
                              char out[LF_CREDENTIAL_GENERATED_MAX + 1], lf_credential *parts,
                              lf_error *err);

/* Parse a full credential string of `len` bytes (no NUL needed; a NUL inside is refused).
 * Strict: exact lengths, lowercase hex id, the secret's alphabet and canonical final
 * character, a known region. The structure is fixed-width, so a secret that contains '_' or
 * '-' is split correctly. A legacy key whose tail has the shape <16 hex>_<43 base64url> is the
 * structured legacy form; any other tail of 16..256 [A-Za-z0-9_-] characters is opaque.
 * LF_ERR_INVALID for anything else, LF_ERR_CRYPTO if hashing fails (opaque ids). */
lf_err lf_credential_parse(const char *s, size_t len, lf_credential *out, lf_error *err);

/* Parse a credential id text (as in `Credential=`): `<region>-lf_<id>`, `<region>-lf_usr_<id>`
 * or `lf_<id>` (the last for both legacy forms). LF_ERR_INVALID otherwise. */
lf_err lf_credential_id_parse(const char *s, size_t len, lf_credential_id *out, lf_error *err);

/* verifier = HKDF-SHA-256(ikm = the full credential string, salt = the 16 ASCII bytes of the
 * lowercase hex id, info = "logflux credential verifier v1", L = 32). Parses `s` first. */
lf_err lf_credential_verifier(const char *s, size_t len, uint8_t out[LF_CREDENTIAL_VERIFIER_LEN],
                              lf_error *err);

/* Scopes (bitmask). admin implies write, write implies read; ingest stands alone. */
#define LF_SCOPE_INGEST 0x1u
#define LF_SCOPE_READ   0x2u
#define LF_SCOPE_WRITE  0x4u
#define LF_SCOPE_ADMIN  0x8u
#define LF_SCOPE_ALL    0xfu
/* Longest scope list text: "ingest,read,write,admin". */
#define LF_SCOPES_STR_MAX 23

/* Comma-separated scope names, no spaces ("ingest,read"); "" is no scope. Unknown, empty or
 * repeated names are LF_ERR_INVALID. */
lf_err lf_scopes_from_string(const char *s, size_t len, uint32_t *out, lf_error *err);
/* The names of the bits set in `scopes`, in the order ingest,read,write,admin, into
 * out[LF_SCOPES_STR_MAX + 1]. LF_ERR_INVALID if unknown bits are set. */
lf_err lf_scopes_to_string(uint32_t scopes, char out[LF_SCOPES_STR_MAX + 1], lf_error *err);
/* `scopes` with the implied scopes added (admin -> write -> read). */
uint32_t lf_scopes_effective(uint32_t scopes);

/* What the server stores per credential: no secret, nothing that lets one sign or log in. */
typedef struct lf_credential_record {
    lf_credential_kind kind;
    lf_region region;
    char id[LF_CREDENTIAL_ID_HEX_LEN + 1];
    uint8_t verifier[LF_CREDENTIAL_VERIFIER_LEN];
    uint32_t scopes;                     /* LF_SCOPE_* as granted (not expanded) */
    char app[LF_CREDENTIAL_APP_MAX + 1]; /* bound app, "" when not bound to one */
    int64_t created;                     /* Unix seconds */
    int64_t expires;                     /* Unix seconds; 0 = never */
    bool revoked;
} lf_credential_record;

/* Fill `out` for the credential string `s` (parsed and hashed here; `s` is not kept).
 * `app` is NULL or 1..LF_CREDENTIAL_APP_MAX characters of [A-Za-z0-9._-]; `scopes` only
 * LF_SCOPE_* bits; `expires` 0 or > `created`. LF_ERR_INVALID otherwise. */
lf_err lf_credential_record_init(const char *s, size_t len, uint32_t scopes, const char *app,
                                 int64_t created, int64_t expires, lf_credential_record *out,
                                 lf_error *err);

/* Decide whether the presented full credential string passes `rec` at time `now` for an
 * operation needing `required` (LF_SCOPE_* bits; 0 = authentication only) confined to `app`
 * (NULL = an operation not confined to one app). In this order, so that only the holder of the
 * secret learns why a valid credential was refused:
 *   LF_ERR_AUTH     the string is malformed, its id/kind/region differ from the record, its
 *                   verifier differs (compared in constant time), or the record is revoked;
 *   LF_ERR_EXPIRED  expires != 0 and now >= expires (a credential is dead AT its expiry second);
 *   LF_ERR_SCOPE    `required` not within the effective scopes, or the record is bound to an app
 *                   and `app` is NULL or a different app;
 *   LF_ERR_INVALID  `required` has unknown bits.
 * LF_OK otherwise. */
lf_err lf_credential_check(const lf_credential_record *rec, const char *presented, size_t len,
                           int64_t now, uint32_t required, const char *app, lf_error *err);

#ifdef __cplusplus
}
#endif
#endif

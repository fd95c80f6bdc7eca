/*
 * credentials.c — API keys and personal access tokens: generation, strict parsing, the stored
 * verifier and the server-side check (docs/PROTOCOL.md §4).
 *
 * How it works. Every current credential is fixed-width: a two-letter region, "-lf_", an
 * optional "usr_", 16 hex digits, "_", 43 base64url characters. The parser therefore reads the
 * string by position, never by searching for separators, so a secret that happens to contain
 * '_' or '-' cannot shift the split. Legacy keys ("lf_" without region) are either the same
 * shape without the region, or opaque; an opaque key gets a stable public id from SHA-256 of
 * the whole key so it can be named and looked up like the others.
 *
 * The server never stores a credential, only its verifier, an HKDF output salted with the id.
 * Credentials carry 256 random bits, so a fast derivation is as strong as a slow one here; the
 * comparison is constant-time so the verifier does not leak byte by byte.
 *
 * Messages never quote the input: a malformed credential may still be mostly secret (a key
 * pasted with one character missing), so they name the offending part and give lengths only.
 */
#include "logflux/credentials.h"

#include <string.h>

#include "logflux/buf.h"
#include "logflux/crypto.h"

#define VERIFIER_INFO "logflux credential verifier v1"

/* Sizes of the fixed-width parts. */
#define REGION_PREFIX_LEN 6 /* "eu-lf_" */
#define LEGACY_PREFIX_LEN 3 /* "lf_" */
#define PAT_MARK_LEN      4 /* "usr_" */
/* id + '_' + secret */
#define ID_AND_SECRET_LEN (LF_CREDENTIAL_ID_HEX_LEN + 1 + LF_CREDENTIAL_SECRET_LEN)

static const char *const region_names[] = {
    [LF_REGION_NONE] = "", [LF_REGION_EU] = "eu", [LF_REGION_US] = "us",
    [LF_REGION_CA] = "ca", [LF_REGION_AU] = "au", [LF_REGION_AP] = "ap",
};
#define REGION_COUNT (sizeof region_names / sizeof *region_names)

static const struct {
    const char *name;
    uint32_t bit;
} scope_names[] = {
    {"ingest", LF_SCOPE_INGEST},
    {"read", LF_SCOPE_READ},
    {"write", LF_SCOPE_WRITE},
    {"admin", LF_SCOPE_ADMIN},
};
#define SCOPE_COUNT (sizeof scope_names / sizeof *scope_names)

const char *lf_region_name(lf_region region)
{
    if ((unsigned)region >= REGION_COUNT)
        return NULL;
    return region_names[region];
}

lf_err lf_region_from_string(const char *s, size_t len, lf_region *out, lf_error *err)
{
    if (s != NULL && len == 2)
        for (size_t r = LF_REGION_EU; r < REGION_COUNT; r++)
            if (memcmp(s, region_names[r], 2) == 0) {
                *out = (lf_region)r;
                return LF_OK;
            }
    return lf_error_set(err, LF_ERR_INVALID, "region: expected one of eu, us, ca, au, ap");
}

const char *lf_credential_kind_name(lf_credential_kind kind)
{
    switch (kind) {
    case LF_CREDENTIAL_API_KEY:
        return "api_key";
    case LF_CREDENTIAL_PAT:
        return "pat";
    }
    return NULL;
}

static bool is_lower_hex(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

static bool all_lower_hex(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (!is_lower_hex(s[i]))
            return false;
    return true;
}

static bool all_b64url(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (lf_base64_value(s[i], true) < 0)
            return false;
    return true;
}

/* True when `p` (ID_AND_SECRET_LEN bytes available) has the shape <16 hex>_<43 base64url>.
 * Shape only: canonical encoding is checked by check_secret. */
static bool has_id_secret_shape(const char *p)
{
    return all_lower_hex(p, LF_CREDENTIAL_ID_HEX_LEN) && p[LF_CREDENTIAL_ID_HEX_LEN] == '_' &&
           all_b64url(p + LF_CREDENTIAL_ID_HEX_LEN + 1, LF_CREDENTIAL_SECRET_LEN);
}

/* 43 characters carry 258 bits for 256: the last character's two low bits must be zero, or two
 * strings would decode to the same secret. */
static lf_err check_secret(const char *what, const char *p, lf_error *err)
{
    for (size_t i = 0; i < LF_CREDENTIAL_SECRET_LEN; i++)
        if (lf_base64_value(p[i], true) < 0)
            return lf_error_set(err, LF_ERR_INVALID,
                                "%s: secret has a character outside URL-safe base64 at "
                                "position %zu",
                                what, i);
    if ((lf_base64_value(p[LF_CREDENTIAL_SECRET_LEN - 1], true) & 3) != 0)
        return lf_error_set(err, LF_ERR_INVALID,
                            "%s: secret is not canonical base64url (last character)", what);
    return LF_OK;
}

static lf_err check_id(const char *what, const char *p, lf_error *err)
{
    for (size_t i = 0; i < LF_CREDENTIAL_ID_HEX_LEN; i++)
        if (!is_lower_hex(p[i]))
            return lf_error_set(err, LF_ERR_INVALID,
                                "%s: id must be 16 lowercase hex digits (bad character at "
                                "position %zu)",
                                what, i);
    return LF_OK;
}

/* Fill the id text: "<region>-lf_[usr_]<id>" or "lf_<id>". */
static void set_id_text(lf_credential_id *pub)
{
    char *t = pub->text;
    if (pub->region != LF_REGION_NONE) {
        memcpy(t, region_names[pub->region], 2);
        memcpy(t + 2, "-", 1);
        t += 3;
    }
    memcpy(t, "lf_", 3);
    t += 3;
    if (pub->kind == LF_CREDENTIAL_PAT) {
        memcpy(t, "usr_", 4);
        t += 4;
    }
    memcpy(t, pub->id, LF_CREDENTIAL_ID_HEX_LEN);
    t[LF_CREDENTIAL_ID_HEX_LEN] = '\0';
}

/* Parses the part after "<region>-lf_" of a current-form key. */
static lf_err parse_current(const char *s, size_t len, lf_region region, lf_credential *out,
                            lf_error *err)
{
    bool pat = len >= REGION_PREFIX_LEN + PAT_MARK_LEN &&
               memcmp(s + REGION_PREFIX_LEN, "usr_", PAT_MARK_LEN) == 0;
    const char *what = pat ? "personal access token" : "API key";
    size_t head = REGION_PREFIX_LEN + (pat ? PAT_MARK_LEN : 0);
    if (len != head + ID_AND_SECRET_LEN)
        return lf_error_set(err, LF_ERR_INVALID, "%s: must be %zu characters, got %zu", what,
                            head + ID_AND_SECRET_LEN, len);
    const char *id = s + head;
    lf_err rc = check_id(what, id, err);
    if (rc != LF_OK)
        return rc;
    if (id[LF_CREDENTIAL_ID_HEX_LEN] != '_')
        return lf_error_set(err, LF_ERR_INVALID, "%s: expected '_' after the 16-digit id", what);
    rc = check_secret(what, id + LF_CREDENTIAL_ID_HEX_LEN + 1, err);
    if (rc != LF_OK)
        return rc;
    out->pub.kind = pat ? LF_CREDENTIAL_PAT : LF_CREDENTIAL_API_KEY;
    out->pub.region = region;
    out->form = LF_CREDENTIAL_FORM_CURRENT;
    memcpy(out->pub.id, id, LF_CREDENTIAL_ID_HEX_LEN);
    out->pub.id[LF_CREDENTIAL_ID_HEX_LEN] = '\0';
    out->secret = id + LF_CREDENTIAL_ID_HEX_LEN + 1;
    out->secret_len = LF_CREDENTIAL_SECRET_LEN;
    set_id_text(&out->pub);
    return LF_OK;
}

/* Parses the part after "lf_" of a legacy key. */
static lf_err parse_legacy(const char *s, size_t len, lf_credential *out, lf_error *err)
{
    const char *rest = s + LEGACY_PREFIX_LEN;
    size_t rest_len = len - LEGACY_PREFIX_LEN;
    out->pub.kind = LF_CREDENTIAL_API_KEY;
    out->pub.region = LF_REGION_NONE;
    if (rest_len == ID_AND_SECRET_LEN && has_id_secret_shape(rest)) {
        lf_err rc = check_secret("legacy API key", rest + LF_CREDENTIAL_ID_HEX_LEN + 1, err);
        if (rc != LF_OK)
            return rc;
        out->form = LF_CREDENTIAL_FORM_LEGACY;
        memcpy(out->pub.id, rest, LF_CREDENTIAL_ID_HEX_LEN);
        out->secret = rest + LF_CREDENTIAL_ID_HEX_LEN + 1;
        out->secret_len = LF_CREDENTIAL_SECRET_LEN;
    } else {
        if (rest_len < LF_CREDENTIAL_OPAQUE_MIN || rest_len > LF_CREDENTIAL_OPAQUE_MAX)
            return lf_error_set(err, LF_ERR_INVALID,
                                "legacy API key: expected %d..%d characters after 'lf_', got %zu",
                                LF_CREDENTIAL_OPAQUE_MIN, LF_CREDENTIAL_OPAQUE_MAX, rest_len);
        for (size_t i = 0; i < rest_len; i++)
            if (lf_base64_value(rest[i], true) < 0)
                return lf_error_set(err, LF_ERR_INVALID,
                                    "legacy API key: character outside [A-Za-z0-9_-] at "
                                    "position %zu",
                                    LEGACY_PREFIX_LEN + i);
        uint8_t digest[LF_SHA256_LEN];
        lf_err rc = lf_sha256(s, len, digest, err);
        if (rc != LF_OK)
            return rc;
        lf_hex_encode(digest, LF_CREDENTIAL_ID_HEX_LEN / 2, out->pub.id);
        lf_wipe(digest, sizeof digest); /* the rest of the hash is not public */
        out->form = LF_CREDENTIAL_FORM_LEGACY_OPAQUE;
        out->secret = rest;
        out->secret_len = rest_len;
    }
    out->pub.id[LF_CREDENTIAL_ID_HEX_LEN] = '\0';
    set_id_text(&out->pub);
    return LF_OK;
}

lf_err lf_credential_parse(const char *s, size_t len, lf_credential *out, lf_error *err)
{
    memset(out, 0, sizeof *out);
    if (s == NULL || len == 0)
        return lf_error_set(err, LF_ERR_INVALID, "credential: empty");
    if (len > LF_CREDENTIAL_MAX)
        return lf_error_set(err, LF_ERR_INVALID, "credential: %zu characters exceeds %d", len,
                            LF_CREDENTIAL_MAX);
    lf_err rc;
    if (len >= LEGACY_PREFIX_LEN && memcmp(s, "lf_", LEGACY_PREFIX_LEN) == 0) {
        rc = parse_legacy(s, len, out, err);
    } else if (len >= REGION_PREFIX_LEN && memcmp(s + 2, "-lf_", 4) == 0) {
        lf_region region;
        rc = lf_region_from_string(s, 2, &region, NULL);
        if (rc != LF_OK)
            rc = lf_error_set(err, LF_ERR_INVALID,
                              "credential: unknown region prefix (expected eu, us, ca, au or "
                              "ap)");
        else
            rc = parse_current(s, len, region, out, err);
    } else {
        rc = lf_error_set(err, LF_ERR_INVALID,
                          "credential: not a LogFlux credential (expected <region>-lf_... or "
                          "lf_...)");
    }
    if (rc != LF_OK)
        memset(out, 0, sizeof *out);
    return rc;
}

lf_err lf_credential_id_parse(const char *s, size_t len, lf_credential_id *out, lf_error *err)
{
    memset(out, 0, sizeof *out);
    if (s == NULL || len == 0)
        return lf_error_set(err, LF_ERR_INVALID, "credential id: empty");
    if (len > LF_CREDENTIAL_ID_TEXT_MAX)
        return lf_error_set(err, LF_ERR_INVALID, "credential id: %zu characters exceeds %d", len,
                            LF_CREDENTIAL_ID_TEXT_MAX);
    size_t head;
    if (len == LEGACY_PREFIX_LEN + LF_CREDENTIAL_ID_HEX_LEN && memcmp(s, "lf_", 3) == 0) {
        out->kind = LF_CREDENTIAL_API_KEY;
        out->region = LF_REGION_NONE;
        head = LEGACY_PREFIX_LEN;
    } else if (len >= REGION_PREFIX_LEN && memcmp(s + 2, "-lf_", 4) == 0) {
        if (lf_region_from_string(s, 2, &out->region, NULL) != LF_OK) {
            memset(out, 0, sizeof *out);
            return lf_error_set(err, LF_ERR_INVALID, "credential id: unknown region prefix");
        }
        bool pat = len == REGION_PREFIX_LEN + PAT_MARK_LEN + LF_CREDENTIAL_ID_HEX_LEN &&
                   memcmp(s + REGION_PREFIX_LEN, "usr_", PAT_MARK_LEN) == 0;
        out->kind = pat ? LF_CREDENTIAL_PAT : LF_CREDENTIAL_API_KEY;
        head = REGION_PREFIX_LEN + (pat ? PAT_MARK_LEN : 0);
        if (len != head + LF_CREDENTIAL_ID_HEX_LEN) {
            memset(out, 0, sizeof *out);
            return lf_error_set(err, LF_ERR_INVALID,
                                "credential id: expected <region>-lf_[usr_]<16 hex digits>");
        }
    } else {
        return lf_error_set(err, LF_ERR_INVALID,
                            "credential id: expected <region>-lf_[usr_]<id> or lf_<id>");
    }
    lf_err rc = check_id("credential id", s + head, err);
    if (rc != LF_OK) {
        memset(out, 0, sizeof *out);
        return rc;
    }
    memcpy(out->id, s + head, LF_CREDENTIAL_ID_HEX_LEN);
    out->id[LF_CREDENTIAL_ID_HEX_LEN] = '\0';
    set_id_text(out);
    return LF_OK;
}

/* The verifier of an already parsed credential `s`. */
static lf_err verifier_of(const char *s, size_t len, const lf_credential *cred,
                          uint8_t out[LF_CREDENTIAL_VERIFIER_LEN], lf_error *err)
{
    lf_err rc = lf_hkdf_sha256(s, len, cred->pub.id, LF_CREDENTIAL_ID_HEX_LEN, VERIFIER_INFO,
                               strlen(VERIFIER_INFO), out, LF_CREDENTIAL_VERIFIER_LEN, err);
    if (rc != LF_OK)
        return lf_error_set(err, rc, "credential %s: verifier derivation failed", cred->pub.text);
    return LF_OK;
}

lf_err lf_credential_verifier(const char *s, size_t len, uint8_t out[LF_CREDENTIAL_VERIFIER_LEN],
                              lf_error *err)
{
    lf_credential cred;
    lf_err rc = lf_credential_parse(s, len, &cred, err);
    if (rc == LF_OK)
        rc = verifier_of(s, len, &cred, out, err);
    lf_wipe(&cred, sizeof cred);
    return rc;
}

lf_err lf_credential_generate(lf_credential_kind kind, lf_region region,
                              char out[LF_CREDENTIAL_GENERATED_MAX + 1], lf_credential *parts,
                              lf_error *err)
{
    if (kind != LF_CREDENTIAL_API_KEY && kind != LF_CREDENTIAL_PAT)
        return lf_error_set(err, LF_ERR_INVALID, "credential: unknown kind %d", (int)kind);
    if (region == LF_REGION_NONE || (unsigned)region >= REGION_COUNT)
        return lf_error_set(err, LF_ERR_INVALID,
                            "credential: new credentials need a region (eu, us, ca, au, ap)");
    uint8_t id_bytes[LF_CREDENTIAL_ID_HEX_LEN / 2];
    uint8_t secret_bytes[32];
    lf_err rc = lf_random(id_bytes, sizeof id_bytes, err);
    if (rc == LF_OK)
        rc = lf_random(secret_bytes, sizeof secret_bytes, err);
    if (rc != LF_OK) {
        lf_wipe(secret_bytes, sizeof secret_bytes);
        return rc;
    }
    size_t n = 0;
    memcpy(out + n, region_names[region], 2);
    memcpy(out + n + 2, "-lf_", 4);
    n += REGION_PREFIX_LEN;
    if (kind == LF_CREDENTIAL_PAT) {
        memcpy(out + n, "usr_", PAT_MARK_LEN);
        n += PAT_MARK_LEN;
    }
    lf_hex_encode(id_bytes, sizeof id_bytes, out + n);
    n += LF_CREDENTIAL_ID_HEX_LEN;
    out[n++] = '_';
    n += lf_base64_encode(secret_bytes, sizeof secret_bytes, out + n, true);
    lf_wipe(secret_bytes, sizeof secret_bytes);

    lf_credential local;
    rc = lf_credential_parse(out, n, parts != NULL ? parts : &local, err);
    lf_wipe(&local, sizeof local);
    if (rc != LF_OK) /* cannot happen unless the encoders are broken; never hand it out */
        lf_wipe(out, LF_CREDENTIAL_GENERATED_MAX + 1);
    return rc;
}

/* ---------------------------------------------------------------- scopes */

lf_err lf_scopes_from_string(const char *s, size_t len, uint32_t *out, lf_error *err)
{
    uint32_t scopes = 0;
    *out = 0;
    if (len == 0)
        return LF_OK;
    if (s == NULL)
        return lf_error_set(err, LF_ERR_INVALID, "scopes: NULL text");
    size_t start = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i < len && s[i] != ',')
            continue;
        size_t n = i - start;
        uint32_t bit = 0;
        for (size_t k = 0; k < SCOPE_COUNT; k++)
            if (strlen(scope_names[k].name) == n && memcmp(s + start, scope_names[k].name, n) == 0)
                bit = scope_names[k].bit;
        if (bit == 0)
            return lf_error_set(err, LF_ERR_INVALID,
                                "scopes: item %zu..%zu is not one of ingest, read, write, admin",
                                start, i);
        if (scopes & bit)
            return lf_error_set(err, LF_ERR_INVALID, "scopes: '%s' listed twice",
                                bit == LF_SCOPE_INGEST  ? "ingest"
                                : bit == LF_SCOPE_READ  ? "read"
                                : bit == LF_SCOPE_WRITE ? "write"
                                                        : "admin");
        scopes |= bit;
        start = i + 1;
    }
    *out = scopes;
    return LF_OK;
}

lf_err lf_scopes_to_string(uint32_t scopes, char out[LF_SCOPES_STR_MAX + 1], lf_error *err)
{
    out[0] = '\0';
    if (scopes & ~LF_SCOPE_ALL)
        return lf_error_set(err, LF_ERR_INVALID, "scopes: unknown bits 0x%x",
                            scopes & ~LF_SCOPE_ALL);
    size_t n = 0;
    for (size_t k = 0; k < SCOPE_COUNT; k++) {
        if (!(scopes & scope_names[k].bit))
            continue;
        size_t l = strlen(scope_names[k].name);
        if (n > 0)
            out[n++] = ',';
        memcpy(out + n, scope_names[k].name, l);
        n += l;
    }
    out[n] = '\0';
    return LF_OK;
}

uint32_t lf_scopes_effective(uint32_t scopes)
{
    if (scopes & LF_SCOPE_ADMIN)
        scopes |= LF_SCOPE_WRITE;
    if (scopes & LF_SCOPE_WRITE)
        scopes |= LF_SCOPE_READ;
    return scopes;
}

/* ---------------------------------------------------------------- stored records */

static bool valid_app(const char *app)
{
    size_t n = strnlen(app, LF_CREDENTIAL_APP_MAX + 1);
    if (n == 0 || n > LF_CREDENTIAL_APP_MAX)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = app[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-'))
            return false;
    }
    return true;
}

lf_err lf_credential_record_init(const char *s, size_t len, uint32_t scopes, const char *app,
                                 int64_t created, int64_t expires, lf_credential_record *out,
                                 lf_error *err)
{
    memset(out, 0, sizeof *out);
    if (scopes & ~LF_SCOPE_ALL)
        return lf_error_set(err, LF_ERR_INVALID, "credential record: unknown scope bits 0x%x",
                            scopes & ~LF_SCOPE_ALL);
    if (app != NULL && !valid_app(app))
        return lf_error_set(err, LF_ERR_INVALID,
                            "credential record: app must be 1..%d characters of [A-Za-z0-9._-]",
                            LF_CREDENTIAL_APP_MAX);
    if (expires != 0 && expires <= created)
        return lf_error_set(err, LF_ERR_INVALID,
                            "credential record: expires must be 0 or after created");
    lf_credential cred;
    lf_err rc = lf_credential_parse(s, len, &cred, err);
    if (rc == LF_OK)
        rc = verifier_of(s, len, &cred, out->verifier, err);
    if (rc == LF_OK) {
        out->kind = cred.pub.kind;
        out->region = cred.pub.region;
        memcpy(out->id, cred.pub.id, sizeof out->id);
        out->scopes = scopes;
        if (app != NULL)
            memcpy(out->app, app, strlen(app) + 1);
        out->created = created;
        out->expires = expires;
        out->revoked = false;
    } else {
        memset(out, 0, sizeof *out);
    }
    lf_wipe(&cred, sizeof cred);
    return rc;
}

lf_err lf_credential_check(const lf_credential_record *rec, const char *presented, size_t len,
                           int64_t now, uint32_t required, const char *app, lf_error *err)
{
    if (rec == NULL)
        return lf_error_set(err, LF_ERR_INVALID, "credential check: no record");
    if (required & ~LF_SCOPE_ALL)
        return lf_error_set(err, LF_ERR_INVALID, "credential check: unknown scope bits 0x%x",
                            required & ~LF_SCOPE_ALL);
    lf_credential cred;
    if (lf_credential_parse(presented, len, &cred, NULL) != LF_OK)
        return lf_error_set(err, LF_ERR_AUTH,
                            "credential check: presented credential is "
                            "malformed");
    uint8_t verifier[LF_CREDENTIAL_VERIFIER_LEN];
    lf_err rc = LF_OK;
    if (cred.pub.kind != rec->kind || cred.pub.region != rec->region ||
        memcmp(cred.pub.id, rec->id, LF_CREDENTIAL_ID_HEX_LEN) != 0) {
        rc = lf_error_set(err, LF_ERR_AUTH, "credential %s: does not match the stored record",
                          cred.pub.text);
    } else if ((rc = verifier_of(presented, len, &cred, verifier, err)) != LF_OK) {
        /* hashing failed: rc set by verifier_of */
    } else if (!lf_ct_equal(verifier, rec->verifier, sizeof verifier)) {
        rc = lf_error_set(err, LF_ERR_AUTH, "credential %s: wrong secret", cred.pub.text);
    } else if (rec->revoked) {
        rc = lf_error_set(err, LF_ERR_AUTH, "credential %s: revoked", cred.pub.text);
    } else if (rec->expires != 0 && now >= rec->expires) {
        rc = lf_error_set(err, LF_ERR_EXPIRED, "credential %s: expired at %lld (now %lld)",
                          cred.pub.text, (long long)rec->expires, (long long)now);
    } else if ((required & ~lf_scopes_effective(rec->scopes)) != 0) {
        char want[LF_SCOPES_STR_MAX + 1], have[LF_SCOPES_STR_MAX + 1];
        lf_scopes_to_string(required, want, NULL);
        lf_scopes_to_string(rec->scopes & LF_SCOPE_ALL, have, NULL);
        rc = lf_error_set(err, LF_ERR_SCOPE, "credential %s: needs scope '%s', has '%s'",
                          cred.pub.text, want, have);
    } else if (rec->app[0] != '\0' && app == NULL) {
        rc = lf_error_set(err, LF_ERR_SCOPE,
                          "credential %s: bound to one app, operation spans all apps",
                          cred.pub.text);
    } else if (rec->app[0] != '\0' && strcmp(rec->app, app) != 0) {
        rc = lf_error_set(err, LF_ERR_SCOPE, "credential %s: bound to another app", cred.pub.text);
    }
    lf_wipe(verifier, sizeof verifier);
    lf_wipe(&cred, sizeof cred);
    return rc;
}

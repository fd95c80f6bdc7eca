/*
 * credentials.c — lf-vectors subcommands for credentials and the Authorization header.
 *
 *   gen-credentials DIR          writes DIR/credentials.json and DIR/auth-headers.json from
 *                                fixed inputs (byte-exact, deterministic)
 *   credential-verifier KEY      prints "<id text> <verifier hex>" (interop: Node recomputes)
 *   credential-generate REGION KIND
 *                                prints a fresh random credential (KIND: api_key | pat)
 *
 * The vector inputs are listed here by hand; the expected results are what the parser returns,
 * and the unit tests and the Node interop script hold those results against independent checks
 * (hand-written assertions in C, node:crypto for every derived value).
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmds.h"
#include "logflux/auth.h"
#include "logflux/buf.h"
#include "logflux/credentials.h"

static const char *err_name(lf_err rc)
{
    static const char *const names[LF_ERR__COUNT] = {
        [LF_OK] = "LF_OK",
        [LF_ERR_INVALID] = "LF_ERR_INVALID",
        [LF_ERR_TOO_LARGE] = "LF_ERR_TOO_LARGE",
        [LF_ERR_NOMEM] = "LF_ERR_NOMEM",
        [LF_ERR_CRYPTO] = "LF_ERR_CRYPTO",
        [LF_ERR_AUTH] = "LF_ERR_AUTH",
        [LF_ERR_EXPIRED] = "LF_ERR_EXPIRED",
        [LF_ERR_REPLAY] = "LF_ERR_REPLAY",
        [LF_ERR_SCOPE] = "LF_ERR_SCOPE",
        [LF_ERR_UNSUPPORTED] = "LF_ERR_UNSUPPORTED",
        [LF_ERR_TRUNCATED] = "LF_ERR_TRUNCATED",
        [LF_ERR_PASSPHRASE] = "LF_ERR_PASSPHRASE",
        [LF_ERR_IO] = "LF_ERR_IO",
        [LF_ERR_NOT_FOUND] = "LF_ERR_NOT_FOUND",
    };
    return (unsigned)rc < LF_ERR__COUNT && names[rc] ? names[rc] : "?";
}

static const char *form_name(lf_credential_form form)
{
    switch (form) {
    case LF_CREDENTIAL_FORM_CURRENT:
        return "current";
    case LF_CREDENTIAL_FORM_LEGACY:
        return "legacy";
    case LF_CREDENTIAL_FORM_LEGACY_OPAQUE:
        return "legacy_opaque";
    }
    return "?";
}

/* "<region>-lf_[usr_]<hex(id)>_<b64url(secret)>", or "lf_..." when region is NULL. */
static char *make_key(const char *region, bool pat, const uint8_t id[8], const uint8_t secret[32])
{
    static char out[128];
    char hex[17], b64[48];
    lf_hex_encode(id, 8, hex);
    lf_base64_encode(secret, 32, b64, true);
    snprintf(out, sizeof out, "%s%slf_%s%s_%s", region ? region : "", region ? "-" : "",
             pat ? "usr_" : "", hex, b64);
    return out;
}

static void fill(uint8_t *p, size_t n, unsigned start, unsigned step)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)(start + i * step);
}

/* A copy of key with up to three characters replaced: edits[k].at is a position (negative:
 * from the end), edits[k].c the new character (0: no edit). Caller frees. */
struct edit {
    long at;
    char c;
};

static char *mutate(const char *key, const struct edit edits[3])
{
    char *out = strdup(key);
    if (out == NULL)
        exit(1);
    size_t n = strlen(out);
    for (int k = 0; k < 3; k++)
        if (edits[k].c != 0)
            out[edits[k].at < 0 ? (size_t)((long)n + edits[k].at) : (size_t)edits[k].at] =
                edits[k].c;
    return out;
}

static json_t *valid_credential(const char *name, const char *key)
{
    lf_credential c;
    lf_error err = {0};
    uint8_t verifier[LF_CREDENTIAL_VERIFIER_LEN];
    if (lf_credential_parse(key, strlen(key), &c, &err) != LF_OK ||
        lf_credential_verifier(key, strlen(key), verifier, &err) != LF_OK) {
        fprintf(stderr, "gen-credentials: valid vector '%s' refused: %s\n", name, err.message);
        exit(1);
    }
    char vhex[2 * LF_CREDENTIAL_VERIFIER_LEN + 1];
    lf_hex_encode(verifier, sizeof verifier, vhex);
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s%, s:s}", "name", name, "key", key,
                     "kind", lf_credential_kind_name(c.pub.kind), "region",
                     lf_region_name(c.pub.region), "form", form_name(c.form), "id", c.pub.id,
                     "id_text", c.pub.text, "secret", c.secret, c.secret_len, "verifier", vhex);
}

static json_t *invalid_credential(const char *name, const char *key)
{
    lf_credential c;
    lf_err rc = lf_credential_parse(key, strlen(key), &c, NULL);
    if (rc == LF_OK) {
        fprintf(stderr, "gen-credentials: invalid vector '%s' accepted\n", name);
        exit(1);
    }
    return json_pack("{s:s, s:s, s:s}", "name", name, "key", key, "error", err_name(rc));
}

static json_t *credential_id_vector(const char *text)
{
    lf_credential_id id;
    lf_err rc = lf_credential_id_parse(text, strlen(text), &id, NULL);
    if (rc != LF_OK)
        return json_pack("{s:s, s:s}", "text", text, "error", err_name(rc));
    return json_pack("{s:s, s:s, s:s, s:s}", "text", text, "kind", lf_credential_kind_name(id.kind),
                     "region", lf_region_name(id.region), "id", id.id);
}

static json_t *credentials_doc(void)
{
    uint8_t id[8], secret[32];
    json_t *valid = json_array(), *invalid = json_array(), *ids = json_array();

    fill(id, 8, 0x01, 0x22);
    fill(secret, 32, 0x00, 1);
    char eu_key[128];
    snprintf(eu_key, sizeof eu_key, "%s", make_key("eu", false, id, secret));
    json_array_append_new(valid, valid_credential("API key, eu", eu_key));
    json_array_append_new(
        valid,
        valid_credential("API key, spec example",
                         "eu-lf_0123456789abcdef_Q2hvb3NlIGEgcmFuZG9tIHNlY3JldCBvZiAzMiBieXQ"));
    fill(id, 8, 0xfe, 0xdd);
    fill(secret, 32, 0xff, 0xff);
    char us_pat[128];
    snprintf(us_pat, sizeof us_pat, "%s", make_key("us", true, id, secret));
    json_array_append_new(valid, valid_credential("PAT, us", us_pat));
    /* Secrets full of '-' and '_' (0xfb 0xef 0xbe is "----", 0xff 0xff 0xff is "____"). */
    for (int i = 0; i < 32; i++)
        secret[i] = (uint8_t[]){0xfb, 0xef, 0xbe, 0xff, 0xff, 0xff}[i % 6];
    fill(id, 8, 0xca, 0x01);
    json_array_append_new(valid, valid_credential("API key, ca, secret of '-' and '_'",
                                                  make_key("ca", false, id, secret)));
    json_array_append_new(valid, valid_credential("PAT, ap, secret of '-' and '_'",
                                                  make_key("ap", true, id, secret)));
    /* A secret starting with '_' and with "_-" in its middle. */
    fill(secret, 32, 0xfc, 0x07);
    secret[0] = 0xff;
    fill(id, 8, 0xa0, 0x03);
    json_array_append_new(valid, valid_credential("API key, au, secret starting with '_'",
                                                  make_key("au", false, id, secret)));
    fill(id, 8, 0x10, 0x10);
    fill(secret, 32, 0x40, 0x05);
    char legacy[128];
    snprintf(legacy, sizeof legacy, "%s", make_key(NULL, false, id, secret));
    json_array_append_new(valid, valid_credential("legacy lf_<id>_<secret>", legacy));
    json_array_append_new(valid,
                          valid_credential("legacy opaque, 16 characters", "lf_abcdefghijklmnop"));
    json_array_append_new(
        valid, valid_credential("legacy opaque with '-' and '_'", "lf_my-legacy_key_value-0001_"));
    json_array_append_new(
        valid, valid_credential("legacy opaque: uppercase hex is not the structured form",
                                "lf_0123456789ABCDEF_Q2hvb3NlIGEgcmFuZG9tIHNlY3JldCBvZiAzMiBieXQ"));
    json_array_append_new(valid, valid_credential("legacy opaque: 'lf_usr_' is not a PAT",
                                                  "lf_usr_0123456789abcdef_not-a-token"));
    char opaque_max[260] = "lf_";
    for (int i = 0; i < 256; i++)
        opaque_max[3 + i] =
            "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"[i % 64];
    opaque_max[259] = '\0';
    json_array_append_new(valid, valid_credential("legacy opaque, 256 characters", opaque_max));

    static const char spec_key[] =
        "eu-lf_0123456789abcdef_Q2hvb3NlIGEgcmFuZG9tIHNlY3JldCBvZiAzMiBieXQ";
    const struct {
        const char *name;
        const char *base;
        struct edit edits[3];
    } edited[] = {
        {"unknown region", eu_key, {{0, 'd'}}},
        {"uppercase region", eu_key, {{0, 'E'}, {1, 'U'}}},
        {"missing '-' after region", eu_key, {{2, '_'}}},
        {"'lf' misspelt", eu_key, {{4, 'x'}}},
        {"id with uppercase hex", eu_key, {{6, 'A'}}},
        {"'-' instead of '_' after id", eu_key, {{22, '-'}}},
        {"secret with '+'", eu_key, {{30, '+'}}},
        {"secret with '/'", eu_key, {{30, '/'}}},
        {"secret with '='", eu_key, {{-1, '='}}},
        {"secret with '.'", eu_key, {{40, '.'}}},
        {"secret not canonical (last character)", eu_key, {{-1, 'B'}}},
        {"PAT with 'usr-'", us_pat, {{9, '-'}}},
        {"PAT with 'USR_'", us_pat, {{6, 'U'}, {7, 'S'}, {8, 'R'}}},
        {"PAT secret with a space", us_pat, {{50, ' '}}},
        {"legacy structured with non-canonical secret", legacy, {{-1, 'B'}}},
        {"legacy structured with '+' in the secret", legacy, {{40, '+'}}},
        {"spec example, non-canonical", spec_key, {{-1, 'R'}}},
    };
    for (size_t i = 0; i < sizeof edited / sizeof *edited; i++) {
        char *key = mutate(edited[i].base, edited[i].edits);
        json_array_append_new(invalid, invalid_credential(edited[i].name, key));
        free(key);
    }
    static const struct {
        const char *name;
        const char *key;
    } bad[] = {
        {"empty", ""},
        {"legacy opaque, 15 characters", "lf_abcdefghijklmno"},
        {"legacy opaque with '.'", "lf_abcdefghij.klmnop"},
        {"legacy opaque with '+'", "lf_abcdefghij+klmnop"},
        {"'lf_' alone", "lf_"},
        {"region with opaque tail", "eu-lf_abcdefghijklmnopqrstuvwxyz0123456789"},
        {"region only", "eu-lf_"},
        {"scheme in front",
         "Bearer eu-lf_0123456789abcdef_Q2hvb3NlIGEgcmFuZG9tIHNlY3JldCBvZiAzMiBieXQ"},
        {"trailing newline",
         "eu-lf_0123456789abcdef_Q2hvb3NlIGEgcmFuZG9tIHNlY3JldCBvZiAzMiBieXQ\n"},
        {"leading space", " eu-lf_0123456789abcdef_Q2hvb3NlIGEgcmFuZG9tIHNlY3JldCBvZiAzMiBieXQ"},
        {"region without lf_", "eu-0123456789abcdef_Q2hvb3NlIGEgcmFuZG9tIHNlY3JldCBvZiAzMiBieXQ"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        json_array_append_new(invalid, invalid_credential(bad[i].name, bad[i].key));
    /* Lengths: one character short / long in each part. */
    char buf[512];
    snprintf(buf, sizeof buf, "%.*s", (int)strlen(eu_key) - 1, eu_key);
    json_array_append_new(invalid, invalid_credential("secret of 42 characters", buf));
    snprintf(buf, sizeof buf, "%sA", eu_key);
    json_array_append_new(invalid, invalid_credential("secret of 44 characters", buf));
    snprintf(buf, sizeof buf, "eu-lf_%.15s%s", eu_key + 6, eu_key + 22);
    json_array_append_new(invalid, invalid_credential("id of 15 digits", buf));
    snprintf(buf, sizeof buf, "%.*s", (int)strlen(us_pat) - 1, us_pat);
    json_array_append_new(invalid, invalid_credential("PAT secret of 42 characters", buf));
    /* Not <id>_<secret> any more, but still 16..256 of the alphabet: an opaque legacy key. */
    snprintf(buf, sizeof buf, "%.*s", (int)strlen(legacy) - 1, legacy);
    json_array_append_new(valid,
                          valid_credential("legacy with a 42-character secret is opaque", buf));
    snprintf(buf, sizeof buf, "%sA", opaque_max);
    json_array_append_new(invalid, invalid_credential("legacy opaque, 257 characters", buf));

    const char *id_texts[] = {
        "eu-lf_0123456789abcdef",
        "us-lf_usr_fedcba9876543210",
        "lf_0123456789abcdef",
        "ap-lf_ffffffffffffffff",
        "eu-lf_0123456789ABCDEF",
        "eu-lf_0123456789abcde",
        "eu-lf_0123456789abcdef0",
        "xx-lf_0123456789abcdef",
        "eu-lf_usr_0123456789abcde",
        "lf_usr_0123456789abcdef",
        "",
        "eu-lf_0123456789abcdef_",
        "lf_0123456789abcdeg",
        "EU-lf_0123456789abcdef",
    };
    for (size_t i = 0; i < sizeof id_texts / sizeof *id_texts; i++)
        json_array_append_new(ids, credential_id_vector(id_texts[i]));

    return json_pack("{s:s, s:s, s:o, s:o, s:o}", "description",
                     "LogFlux credentials (docs/PROTOCOL.md section 4): parse results and "
                     "verifiers of valid credentials, error codes of invalid ones, and "
                     "credential id texts as they appear in Credential=",
                     "verifier_info", "logflux credential verifier v1", "valid", valid, "invalid",
                     invalid, "credential_ids", ids);
}

/* ---------------------------------------------------------------- auth headers */

#define CRED    "eu-lf_0123456789abcdef"
#define TS      "1767225600"
#define NONCE   "AAECAwQFBgcICQoLDA0ODw" /* bytes 00..0f */
#define SIG     "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
#define P_CRED  "Credential=" CRED
#define P_TS    "Timestamp=" TS
#define P_NONCE "Nonce=" NONCE
#define P_SIG   "Signature=" SIG

static json_t *auth_vector(const char *name, const char *header)
{
    lf_auth_header h;
    lf_err rc = lf_auth_header_parse(header, strlen(header), &h, NULL);
    json_t *v = json_pack("{s:s, s:s}", "name", name, "header", header);
    if (rc != LF_OK) {
        json_object_set_new(v, "error", json_string(err_name(rc)));
        return v;
    }
    if (h.scheme == LF_AUTH_BEARER) {
        json_object_set_new(v, "scheme", json_string("bearer"));
        json_object_set_new(v, "token", json_string(h.bearer));
        return v;
    }
    char nonce_hex[2 * LF_AUTH_NONCE_BYTES + 1], sig_hex[65];
    lf_hex_encode(h.hmac.nonce_bytes, sizeof h.hmac.nonce_bytes, nonce_hex);
    lf_hex_encode(h.hmac.signature, sizeof h.hmac.signature, sig_hex);
    json_object_set_new(v, "scheme", json_string("hmac"));
    json_object_set_new(v, "credential", json_string(h.hmac.credential));
    json_object_set_new(v, "kind", json_string(lf_credential_kind_name(h.hmac.credential_id.kind)));
    json_object_set_new(v, "region", json_string(lf_region_name(h.hmac.credential_id.region)));
    json_object_set_new(v, "id", json_string(h.hmac.credential_id.id));
    json_object_set_new(v, "timestamp", json_integer(h.hmac.timestamp));
    json_object_set_new(v, "nonce", json_string(h.hmac.nonce));
    json_object_set_new(v, "nonce_hex", json_string(nonce_hex));
    json_object_set_new(v, "signature", json_string(sig_hex));
    return v;
}

static json_t *auth_headers_doc(void)
{
    static const struct {
        const char *name;
        const char *header;
    } cases[] = {
        {"bearer API key",
         "Bearer eu-lf_0123456789abcdef_Q2hvb3NlIGEgcmFuZG9tIHNlY3JldCBvZiAzMiBieXQ"},
        {"bearer, scheme in lowercase, several spaces", "bearer   some.opaque~token/+="},
        {"bearer, one character", "BEARER x"},
        {"bearer, surrounding whitespace ignored", " \tBearer abc\t "},
        {"hmac, canonical", "LF-HMAC-SHA256 " P_CRED ", " P_TS ", " P_NONCE ", " P_SIG},
        {"hmac, any order, no spaces", "LF-HMAC-SHA256 " P_SIG "," P_NONCE "," P_TS "," P_CRED},
        {"hmac, spaces and tabs around commas",
         "LF-HMAC-SHA256   " P_NONCE " ,\t" P_CRED "  ,  " P_SIG " , " P_TS},
        {"hmac, scheme and names in other case",
         "lf-hmac-sha256 credential=" CRED ", TIMESTAMP=" TS ", nonce=" NONCE ", signature=" SIG},
        {"hmac, PAT credential",
         "LF-HMAC-SHA256 Credential=us-lf_usr_fedcba9876543210, " P_TS ", " P_NONCE ", " P_SIG},
        {"hmac, legacy credential",
         "LF-HMAC-SHA256 Credential=lf_00112233aabbccdd, " P_TS ", " P_NONCE ", " P_SIG},
        {"hmac, timestamp 0", "LF-HMAC-SHA256 " P_CRED ", Timestamp=0, " P_NONCE ", " P_SIG},
        {"hmac, timestamp 9999-12-31T23:59:59Z",
         "LF-HMAC-SHA256 " P_CRED ", Timestamp=253402300799, " P_NONCE ", " P_SIG},
        {"hmac, nonce with '-' and '_'",
         "LF-HMAC-SHA256 " P_CRED ", " P_TS ", Nonce=-_-_-_-_-_-_-_-_-_-_-w, " P_SIG},

        {"empty", ""},
        {"whitespace only", "  \t "},
        {"unknown scheme", "Basic dXNlcjpwYXNz"},
        {"bearer without token", "Bearer"},
        {"bearer with only spaces", "Bearer    "},
        {"bearer, tab instead of space", "Bearer\tabc"},
        {"bearer token with a space", "Bearer abc def"},
        {"bearer token with DEL", "Bearer abc\x7f"},
        {"bearer token with a non-ASCII byte", "Bearer abc\xc3\xa9"},
        {"scheme glued to parameters", "LF-HMAC-SHA256" P_CRED ", " P_TS ", " P_NONCE ", " P_SIG},
        {"hmac without parameters", "LF-HMAC-SHA256 "},
        {"hmac, Credential missing", "LF-HMAC-SHA256 " P_TS ", " P_NONCE ", " P_SIG},
        {"hmac, Timestamp missing", "LF-HMAC-SHA256 " P_CRED ", " P_NONCE ", " P_SIG},
        {"hmac, Nonce missing", "LF-HMAC-SHA256 " P_CRED ", " P_TS ", " P_SIG},
        {"hmac, Signature missing", "LF-HMAC-SHA256 " P_CRED ", " P_TS ", " P_NONCE},
        {"hmac, Credential twice",
         "LF-HMAC-SHA256 " P_CRED ", " P_TS ", " P_NONCE ", " P_SIG ", " P_CRED},
        {"hmac, Timestamp twice",
         "LF-HMAC-SHA256 " P_CRED ", " P_TS ", " P_NONCE ", " P_SIG ", " P_TS},
        {"hmac, Nonce twice",
         "LF-HMAC-SHA256 " P_CRED ", " P_TS ", " P_NONCE ", " P_SIG ", " P_NONCE},
        {"hmac, Signature twice",
         "LF-HMAC-SHA256 " P_CRED ", " P_TS ", " P_NONCE ", " P_SIG ", " P_SIG},
        {"hmac, twice in different case",
         "LF-HMAC-SHA256 " P_CRED ", " P_TS ", " P_NONCE ", " P_SIG ", timestamp=" TS},
        {"hmac, unknown parameter",
         "LF-HMAC-SHA256 " P_CRED ", " P_TS ", " P_NONCE ", " P_SIG ", Region=eu"},
        {"hmac, trailing comma", "LF-HMAC-SHA256 " P_CRED ", " P_TS ", " P_NONCE ", " P_SIG ","},
        {"hmac, leading comma", "LF-HMAC-SHA256 ," P_CRED ", " P_TS ", " P_NONCE ", " P_SIG},
        {"hmac, empty element", "LF-HMAC-SHA256 " P_CRED ",, " P_TS ", " P_NONCE ", " P_SIG},
        {"hmac, missing comma", "LF-HMAC-SHA256 " P_CRED " " P_TS ", " P_NONCE ", " P_SIG},
        {"hmac, quoted value",
         "LF-HMAC-SHA256 Credential=\"" CRED "\", " P_TS ", " P_NONCE ", " P_SIG},
        {"hmac, space before '='",
         "LF-HMAC-SHA256 Credential =" CRED ", " P_TS ", " P_NONCE ", " P_SIG},
        {"hmac, space after '='",
         "LF-HMAC-SHA256 Credential= " CRED ", " P_TS ", " P_NONCE ", " P_SIG},
        {"hmac, parameter without '='", "LF-HMAC-SHA256 Credential, " P_TS ", " P_NONCE ", " P_SIG},
        {"hmac, empty Credential", "LF-HMAC-SHA256 Credential=, " P_TS ", " P_NONCE ", " P_SIG},
        {"hmac, Credential with uppercase id",
         "LF-HMAC-SHA256 Credential=eu-lf_0123456789ABCDEF, " P_TS ", " P_NONCE ", " P_SIG},
        {"hmac, Credential unknown region",
         "LF-HMAC-SHA256 Credential=de-lf_0123456789abcdef, " P_TS ", " P_NONCE ", " P_SIG},
        {"hmac, Credential is a whole key",
         "LF-HMAC-SHA256 "
         "Credential=eu-lf_0123456789abcdef_Q2hvb3NlIGEgcmFuZG9tIHNlY3JldCBvZiAzMiBieXQ, " P_TS
         ", " P_NONCE ", " P_SIG},
        {"hmac, empty Timestamp", "LF-HMAC-SHA256 " P_CRED ", Timestamp=, " P_NONCE ", " P_SIG},
        {"hmac, negative Timestamp",
         "LF-HMAC-SHA256 " P_CRED ", Timestamp=-1, " P_NONCE ", " P_SIG},
        {"hmac, Timestamp with '+'",
         "LF-HMAC-SHA256 " P_CRED ", Timestamp=+1, " P_NONCE ", " P_SIG},
        {"hmac, Timestamp with leading zero",
         "LF-HMAC-SHA256 " P_CRED ", Timestamp=01767225600, " P_NONCE ", " P_SIG},
        {"hmac, Timestamp in exponent form",
         "LF-HMAC-SHA256 " P_CRED ", Timestamp=1e9, " P_NONCE ", " P_SIG},
        {"hmac, Timestamp after year 9999",
         "LF-HMAC-SHA256 " P_CRED ", Timestamp=253402300800, " P_NONCE ", " P_SIG},
        {"hmac, Timestamp beyond int64",
         "LF-HMAC-SHA256 " P_CRED ", Timestamp=99999999999999999999, " P_NONCE ", " P_SIG},
        {"hmac, Timestamp with fraction",
         "LF-HMAC-SHA256 " P_CRED ", Timestamp=1767225600.5, " P_NONCE ", " P_SIG},
        {"hmac, Nonce of 21 characters",
         "LF-HMAC-SHA256 " P_CRED ", " P_TS ", Nonce=AAECAwQFBgcICQoLDA0OD, " P_SIG},
        {"hmac, Nonce of 23 characters",
         "LF-HMAC-SHA256 " P_CRED ", " P_TS ", Nonce=AAECAwQFBgcICQoLDA0ODwA, " P_SIG},
        {"hmac, Nonce padded", "LF-HMAC-SHA256 " P_CRED ", " P_TS ", Nonce=" NONCE "==, " P_SIG},
        {"hmac, Nonce not canonical",
         "LF-HMAC-SHA256 " P_CRED ", " P_TS ", Nonce=AAECAwQFBgcICQoLDA0ODx, " P_SIG},
        {"hmac, Nonce in standard base64",
         "LF-HMAC-SHA256 " P_CRED ", " P_TS ", Nonce=+/ECAwQFBgcICQoLDA0ODw, " P_SIG},
        {"hmac, Signature of 63 digits",
         "LF-HMAC-SHA256 " P_CRED ", " P_TS ", " P_NONCE
         ", Signature=000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1"},
        {"hmac, Signature of 65 digits",
         "LF-HMAC-SHA256 " P_CRED ", " P_TS ", " P_NONCE ", " P_SIG "0"},
        {"hmac, Signature in uppercase",
         "LF-HMAC-SHA256 " P_CRED ", " P_TS ", " P_NONCE
         ", Signature=000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F"},
        {"hmac, Signature with non-hex",
         "LF-HMAC-SHA256 " P_CRED ", " P_TS ", " P_NONCE
         ", Signature=0g0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"},
    };
    json_t *valid = json_array(), *invalid = json_array();
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        json_t *v = auth_vector(cases[i].name, cases[i].header);
        json_array_append_new(json_object_get(v, "error") ? invalid : valid, v);
    }
    /* Over-long: a 513-character bearer token, and a 1025-byte value. */
    char big[1100];
    memcpy(big, "Bearer ", 7);
    memset(big + 7, 'a', 513);
    big[7 + 513] = '\0';
    json_array_append_new(invalid, auth_vector("bearer token of 513 characters", big));
    big[7 + 512] = '\0';
    json_array_append_new(valid, auth_vector("bearer token of 512 characters", big));
    snprintf(big, sizeof big, "LF-HMAC-SHA256 %0900d" P_CRED ", " P_TS ", " P_NONCE ", " P_SIG, 0);
    memset(big + 15, ' ', 900);
    json_array_append_new(invalid, auth_vector("value over 1024 bytes", big));
    return json_pack("{s:s, s:o, s:o}", "description",
                     "Authorization header values (include/logflux/auth.h grammar, "
                     "docs/PROTOCOL.md sections 3.6 and 4) and their parse results",
                     "valid", valid, "invalid", invalid);
}

static int write_json(const char *dir, const char *name, json_t *doc)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    char *text = json_dumps(doc, JSON_INDENT(2));
    json_decref(doc);
    FILE *f = fopen(path, "w");
    if (text == NULL || f == NULL || fprintf(f, "%s\n", text) < 0 || fclose(f) != 0) {
        fprintf(stderr, "gen-credentials: cannot write %s\n", path);
        free(text);
        return 1;
    }
    free(text);
    printf("wrote %s\n", path);
    return 0;
}

static int cmd_gen(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: gen-credentials DIR\n");
        return 2;
    }
    if (write_json(argv[1], "credentials.json", credentials_doc()) != 0)
        return 1;
    return write_json(argv[1], "auth-headers.json", auth_headers_doc());
}

static int cmd_verifier(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: credential-verifier KEY\n");
        return 2;
    }
    lf_credential c;
    lf_error err = {0};
    uint8_t verifier[LF_CREDENTIAL_VERIFIER_LEN];
    if (lf_credential_parse(argv[1], strlen(argv[1]), &c, &err) != LF_OK ||
        lf_credential_verifier(argv[1], strlen(argv[1]), verifier, &err) != LF_OK) {
        fprintf(stderr, "credential-verifier: %s\n", err.message);
        return 1;
    }
    char hex[2 * LF_CREDENTIAL_VERIFIER_LEN + 1];
    lf_hex_encode(verifier, sizeof verifier, hex);
    printf("%s %s\n", c.pub.text, hex);
    return 0;
}

static int cmd_generate(int argc, char **argv)
{
    lf_region region;
    lf_error err = {0};
    if (argc != 3 || lf_region_from_string(argv[1], strlen(argv[1]), &region, &err) != LF_OK ||
        (strcmp(argv[2], "api_key") != 0 && strcmp(argv[2], "pat") != 0)) {
        fprintf(stderr, "usage: credential-generate REGION api_key|pat\n");
        return 2;
    }
    char key[LF_CREDENTIAL_GENERATED_MAX + 1];
    lf_credential_kind kind =
        strcmp(argv[2], "pat") == 0 ? LF_CREDENTIAL_PAT : LF_CREDENTIAL_API_KEY;
    if (lf_credential_generate(kind, region, key, NULL, &err) != LF_OK) {
        fprintf(stderr, "credential-generate: %s\n", err.message);
        return 1;
    }
    printf("%s\n", key);
    lf_wipe(key, sizeof key);
    return 0;
}

const struct lf_vectors_cmd lf_vectors_credentials_cmds[] = {
    {"gen-credentials", "DIR  (writes credentials.json and auth-headers.json)", cmd_gen},
    {"credential-verifier", "KEY  (prints the id text and the verifier in hex)", cmd_verifier},
    {"credential-generate", "REGION api_key|pat  (prints a new random credential)", cmd_generate},
    {NULL, NULL, NULL},
};

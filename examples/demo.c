/*
 * demo.c — LogFlux end to end on the C SDK, in one process, playing every party in turn:
 *
 *   1. the customer makes an RSA-4096 key pair; the private key is stored encrypted (scrypt);
 *   2. a sender using the native format (as our agent does) pins the customer key by its
 *      fingerprint, seals log entries as a zstd block and a single entry, and closes the key;
 *   3. a sender using the LogFlux v3 protocol (as the official SDKs do) wraps a session key,
 *      seals entries one per multipart part, in the TypeScript SDK's framing;
 *   4. the server's view: it validates both request bodies exactly as logfluxd will, stores
 *      them, and we search everything stored for the log text — it is not there;
 *   5. the customer's tools load the private key, unwrap the session keys and open everything;
 *   6. tampering: one re-dated native record fails to open; the same change to a v3 record
 *      goes unnoticed, which is why our own senders use the native format.
 *
 * Usage: lf-demo [DIR]   (DIR defaults to a fresh temporary directory; it is kept, so the
 *                         stored files can be inspected). LOGFLUX_PASSPHRASE overrides the
 *                         demo passphrase.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "logflux/compress.h"
#include "logflux/crypto.h"
#include "logflux/multipart.h"
#include "logflux/native.h"
#include "logflux/payload.h"
#include "logflux/timefmt.h"
#include "logflux/v3.h"

#define TENANT "acme"
#define APP    "checkout"

static const char *const messages[] = {
    "user alice@example.com paid order 7731 with card ending 4242",
    "payment provider timeout after 3000 ms, retrying order 7732",
    "order 7733 shipped to 221B Baker Street, London",
    "password reset requested for bob@example.com from 203.0.113.9",
    "nightly settlement batch finished: 1204 orders, 0 failures",
};
#define N_MESSAGES (sizeof messages / sizeof *messages)

static void check(lf_err rc, const char *what, const lf_error *err)
{
    if (rc != LF_OK) {
        fprintf(stderr, "lf-demo: %s: %s (%s)\n", what, err->message, lf_strerror(rc));
        exit(1);
    }
}

static void write_file(const char *dir, const char *name, const void *data, size_t len, int mode)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (f == NULL || fwrite(data, 1, len, f) != len || fclose(f) != 0) {
        fprintf(stderr, "lf-demo: %s: %s\n", path, strerror(errno));
        exit(1);
    }
    chmod(path, (mode_t)mode);
}

static lf_buf read_file(const char *dir, const char *name)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    lf_buf b = LF_BUF_INIT;
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        fprintf(stderr, "lf-demo: %s: %s\n", path, strerror(errno));
        exit(1);
    }
    uint8_t chunk[65536];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        if (lf_buf_append(&b, chunk, n) != LF_OK)
            exit(1);
    fclose(f);
    lf_buf_terminate(&b);
    return b;
}

static void hexdump_line(const char *label, const uint8_t *p, size_t len)
{
    printf("    %-22s", label);
    for (size_t i = 0; i < len && i < 24; i++)
        printf("%02x", p[i]);
    printf("%s\n", len > 24 ? "…" : "");
}

/* Encode message i as a schema 2.0 log entry. */
static void log_json(size_t i, int64_t ts, lf_buf *out)
{
    lf_payload p = {0};
    lf_kv attrs[] = {{"order_service", "v2"}};
    p.type = LF_ENTRY_LOG;
    p.source = "checkout-api";
    p.level = i == 1 ? 4 : 7;
    p.ts_ns = ts;
    p.attributes = attrs;
    p.n_attributes = 1;
    p.log.message = messages[i];
    lf_error err = {0};
    lf_buf_reset(out);
    check(lf_payload_encode(&p, out, &err), "encode payload", &err);
}

static void customer_makes_keys(const char *dir, const char *passphrase, char *fingerprint)
{
    lf_error err = {0};
    lf_privkey *priv = NULL;
    lf_pubkey *pub = NULL;
    lf_buf pem = LF_BUF_INIT;
    printf("1. customer: generating an RSA-%d key pair...\n", LF_RSA_BITS);
    check(lf_privkey_generate(LF_RSA_BITS, &priv, &err), "generate key", &err);
    check(lf_privkey_to_pem(priv, passphrase, &pem, &err), "encrypt private key", &err);
    write_file(dir, "customer/private.pem", pem.data, pem.len, 0600);
    lf_buf_reset(&pem);
    check(lf_privkey_public(priv, &pub, &err), "public key", &err);
    check(lf_pubkey_to_pem(pub, &pem, &err), "public pem", &err);
    write_file(dir, "customer/public.pem", pem.data, pem.len, 0644);
    check(lf_pubkey_fingerprint(pub, fingerprint, &err), "fingerprint", &err);
    printf("   private key: %s/customer/private.pem (PKCS#8, scrypt + AES-256-CBC, mode 0600)\n",
           dir);
    printf("   fingerprint: %s\n\n", fingerprint);
    lf_buf_free(&pem);
    lf_pubkey_free(pub);
    lf_privkey_free(priv);
}

/* The native sender: pins the customer key, seals a block, an entry and the close marker. */
static void native_sender(const char *dir, const char *pinned, int64_t now)
{
    lf_error err = {0};
    lf_buf pem = read_file(dir, "customer/public.pem"), body = LF_BUF_INIT, json = LF_BUF_INIT;
    lf_pubkey *customer = NULL;
    char fp[LF_FINGERPRINT_STR_LEN];
    check(lf_pubkey_from_pem((const char *)pem.data, pem.len, &customer, &err), "load pub", &err);
    check(lf_pubkey_fingerprint(customer, fp, &err), "fingerprint", &err);
    if (strcmp(fp, pinned) != 0) { /* key substitution: refuse to send anything */
        fprintf(stderr, "lf-demo: public key %s is not the pinned %s\n", fp, pinned);
        exit(1);
    }
    printf("2. native sender (like logflux-agent): key pinned to %.20s…, session %s/%s\n", fp,
           TENANT, APP);

    lf_native_session *s = NULL;
    check(lf_native_session_new(NULL, NULL, TENANT, APP, &s, &err), "session", &err);
    check(lf_native_session_key_frame(s, customer, now, &body, &err), "key frame", &err);

    lf_buf jsons[N_MESSAGES];
    lf_native_entry entries[N_MESSAGES];
    for (size_t i = 0; i < N_MESSAGES - 1; i++) {
        jsons[i] = (lf_buf)LF_BUF_INIT;
        log_json(i, now + (int64_t)i * 1000000, &jsons[i]);
        entries[i] = (lf_native_entry){jsons[i].data, jsons[i].len, now + (int64_t)i * 1000000};
    }
    uint8_t token[LF_NATIVE_TOKEN_LEN];
    check(lf_native_session_token(s, "order", 5, token, &err), "token", &err);
    check(
        lf_native_seal_block(s, LF_ENTRY_LOG, entries, N_MESSAGES - 1, token, 1, true, &body, &err),
        "seal block", &err);
    log_json(N_MESSAGES - 1, now + 5000000, &json);
    lf_native_entry last = {json.data, json.len, now + 5000000};
    check(lf_native_seal_entry(s, LF_ENTRY_LOG, &last, NULL, 0, false, &body, &err), "seal entry",
          &err);
    check(lf_native_seal_close(s, now + 6000000, &body, &err), "close", &err);
    printf("   sealed: key frame, a zstd block of %zu entries, 1 single entry, close marker\n",
           N_MESSAGES - 1);
    write_file(dir, "wire/native-request.bin", body.data, body.len, 0644);
    printf("   request body: %zu bytes, Content-Type: %s\n\n", body.len, LF_NATIVE_CONTENT_TYPE);

    for (size_t i = 0; i < N_MESSAGES - 1; i++)
        lf_buf_free_secret(&jsons[i]);
    lf_buf_free_secret(&json);
    lf_buf_free(&body);
    lf_buf_free(&pem);
    lf_native_session_free(s);
    lf_pubkey_free(customer);
}

/* The v3 sender: handshake (wrap a session key), then one multipart part per entry. */
static void v3_sender(const char *dir, int64_t now)
{
    lf_error err = {0};
    lf_buf pem = read_file(dir, "customer/public.pem"), wrapped = LF_BUF_INIT, json = LF_BUF_INIT,
           part = LF_BUF_INIT;
    lf_pubkey *customer = NULL;
    uint8_t session_key[LF_AES_KEY_LEN];
    check(lf_pubkey_from_pem((const char *)pem.data, pem.len, &customer, &err), "load pub", &err);
    check(lf_random(session_key, sizeof session_key, &err), "random", &err);
    check(lf_rsa_wrap(customer, session_key, sizeof session_key, &wrapped, &err), "wrap", &err);
    write_file(dir, "wire/v3-handshake-wrapped-key.bin", wrapped.data, wrapped.len, 0644);
    const char *key_id = "5f0c2a8e-3b1d-4c7a-9e62-0d4b8a1f3c55"; /* the server's answer */
    printf("3. v3 sender (like the official SDKs): handshake sent a %zu-byte RSA-OAEP wrapped "
           "key, got key id %s\n",
           wrapped.len, key_id);

    lf_v3_sealer *sealer = NULL;
    lf_mp_builder mp;
    check(lf_v3_sealer_new(session_key, key_id, LF_GZIP_LEVEL_DEFAULT, &sealer, &err), "sealer",
          &err);
    lf_wipe(session_key, sizeof session_key);
    check(lf_mp_builder_init(&mp, LF_MP_TYPESCRIPT, NULL, NULL, &err), "multipart", &err);
    for (size_t i = 0; i < N_MESSAGES; i++) {
        lf_v3_headers h;
        log_json(i, now + (int64_t)i * 1000000, &json);
        lf_buf_reset(&part);
        check(lf_v3_seal_json(sealer, LF_ENTRY_LOG, now + (int64_t)i * 1000000, json.data, json.len,
                              NULL, &part, &h, &err),
              "v3 seal", &err);
        check(lf_mp_builder_add(&mp, &h, NULL, 0, part.data, part.len, &err), "add part", &err);
    }
    check(lf_mp_builder_finish(&mp, &err), "finish multipart", &err);
    write_file(dir, "wire/v3-request.bin", mp.body.data, mp.body.len, 0644);
    write_file(dir, "wire/v3-content-type.txt", mp.content_type, strlen(mp.content_type), 0644);
    printf("   request body: %zu bytes, %zu parts, Content-Type: %s\n\n", mp.body.len, N_MESSAGES,
           mp.content_type);

    lf_mp_builder_free(&mp);
    lf_v3_sealer_free(sealer);
    lf_buf_free_secret(&json);
    lf_buf_free(&part);
    lf_buf_free(&wrapped);
    lf_buf_free(&pem);
    lf_pubkey_free(customer);
}

/* What the server does and sees: validate, store, and never find the plaintext. */
static void server_view(const char *dir)
{
    lf_error err = {0};
    lf_buf native = read_file(dir, "wire/native-request.bin");
    lf_buf v3 = read_file(dir, "wire/v3-request.bin");
    lf_buf ct = read_file(dir, "wire/v3-content-type.txt");
    printf("4. server: validates and stores the bodies (it links no decryption code at all)\n");

    size_t frames = 0;
    check(lf_native_body_check(native.data, native.len, &frames, &err), "native body", &err);
    lf_native_reader r;
    lf_native_frame f;
    lf_native_reader_init(&r, native.data, native.len);
    static const char *kinds[] = {"?", "entry", "block", "close", "key"};
    while (lf_native_reader_next(&r, &f, &err) == LF_OK) {
        char key_hex[33], ts[LF_RFC3339_MAX];
        lf_hex_encode(f.hdr.key_id, 8, key_hex);
        lf_rfc3339_format(f.hdr.ts_min, ts);
        printf("   native frame %zu: %-5s type %u, %s/%s, key %s…, seq %llu, count %u, ts %s, "
               "%u body bytes\n",
               f.index, kinds[f.hdr.kind], f.hdr.entry_type, f.hdr.tenant, f.hdr.app, key_hex,
               (unsigned long long)f.hdr.sequence, f.hdr.count, ts, f.hdr.body_len);
    }

    lf_mp_parser *mp = NULL;
    check(lf_mp_parser_new((const char *)ct.data, "logflux-js-sdk/3.0.1", NULL, &mp, &err),
          "multipart", &err);
    check(lf_mp_parser_feed(mp, v3.data, v3.len, &err), "multipart feed", &err);
    check(lf_mp_parser_finish(mp, &err), "multipart finish", &err);
    for (size_t i = 0; i < lf_mp_parser_count(mp); i++) {
        const lf_mp_part *p = lf_mp_parser_part(mp, i);
        check(p->error.code, "part", &p->error);
        printf("   v3 part %zu: type %d, key %s, ts %s, %zu body bytes\n", i, p->headers.entry_type,
               p->headers.key_id, p->headers.timestamp, p->body_len);
        if (i == 0)
            hexdump_line("   body starts", p->body, p->body_len);
    }
    lf_mp_parser_free(mp);

    /* The proof of the claim: no message text anywhere in what the server holds. */
    size_t found = 0;
    for (size_t m = 0; m < N_MESSAGES; m++) {
        const char *needles[] = {messages[m], "alice@example.com", "Baker Street"};
        for (size_t k = 0; k < 3; k++) {
            size_t n = strlen(needles[k]);
            for (size_t i = 0; i + n <= native.len; i++)
                found += memcmp(native.data + i, needles[k], n) == 0;
            for (size_t i = 0; i + n <= v3.len; i++)
                found += memcmp(v3.data + i, needles[k], n) == 0;
        }
    }
    printf("   searched %zu stored bytes for the %zu messages (and fragments like "
           "\"alice@example.com\"): %zu found\n\n",
           native.len + v3.len, N_MESSAGES, found);
    if (found != 0) {
        fprintf(stderr, "lf-demo: plaintext found in server data\n");
        exit(1);
    }
    lf_buf_free(&native);
    lf_buf_free(&v3);
    lf_buf_free(&ct);
}

static void print_entry(const char *origin, const uint8_t *json, size_t len, int entry_type)
{
    lf_error err = {0};
    lf_payload *p = NULL;
    check(lf_payload_decode(json, len, entry_type, 0, &p, &err), "decode payload", &err);
    char ts[LF_RFC3339_MAX];
    lf_rfc3339_format(p->ts_ns, ts);
    printf("   %-6s %s level %d %s: %s\n", origin, ts, p->level, p->source, p->log.message);
    lf_payload_free(p);
}

/* Open every native frame; returns the number of frames that failed to open. */
static int open_native(const lf_buf *body, const lf_privkey *priv, bool quiet)
{
    lf_error err = {0};
    lf_native_reader r;
    lf_native_frame f;
    lf_native_opener *opener = NULL;
    lf_native_opened opened = {0};
    int failures = 0;
    uint64_t next_sequence = 0; /* sequences must run 0, 1, 2, ... up to the close marker */
    lf_native_reader_init(&r, body->data, body->len);
    while (lf_native_reader_next(&r, &f, &err) == LF_OK) {
        if (f.hdr.kind == LF_NATIVE_KEY) {
            uint8_t session_key[LF_AES_KEY_LEN];
            check(lf_native_key_frame_unwrap(&f, priv, session_key, &err), "unwrap", &err);
            lf_native_opener_free(opener);
            check(lf_native_opener_new(session_key, f.hdr.key_id, &opener, &err), "opener", &err);
            lf_wipe(session_key, sizeof session_key);
            continue;
        }
        lf_err rc = opener ? lf_native_open(opener, &f, &opened, &err) : LF_ERR_NOT_FOUND;
        if (rc != LF_OK) {
            printf("   native frame %zu (seq %llu): REFUSED — %s\n", f.index,
                   (unsigned long long)f.hdr.sequence, err.message);
            failures++;
            continue;
        }
        if (f.hdr.kind == LF_NATIVE_CLOSE && !quiet)
            printf("   native close marker: %u frames sealed under this key, %s\n", f.hdr.count,
                   next_sequence == f.hdr.count ? "all present in order" : "SOME MISSING");
        else if (f.hdr.sequence == next_sequence)
            next_sequence++;
        for (size_t i = 0; i < opened.count && !quiet; i++)
            print_entry("native", opened.entries[i].data, opened.entries[i].len, f.hdr.entry_type);
    }
    lf_native_opened_free(&opened);
    lf_native_opener_free(opener);
    return failures;
}

static void open_v3(const lf_buf *body, const char *content_type, const uint8_t *key, bool quiet)
{
    lf_error err = {0};
    lf_mp_parser *mp = NULL;
    check(lf_mp_parser_new(content_type, "logflux-js-sdk/3.0.1", NULL, &mp, &err), "mp", &err);
    check(lf_mp_parser_feed(mp, body->data, body->len, &err), "mp feed", &err);
    check(lf_mp_parser_finish(mp, &err), "mp finish", &err);
    for (size_t i = 0; i < lf_mp_parser_count(mp); i++) {
        const lf_mp_part *p = lf_mp_parser_part(mp, i);
        lf_buf json = LF_BUF_INIT;
        check(lf_v3_open_json(key, p->headers.nonce, p->body, p->body_len, &json, &err), "v3 open",
              &err);
        if (!quiet)
            print_entry("v3", json.data, json.len, p->headers.entry_type);
        else
            printf("   v3 part %zu opened fine although the server re-dated it to %s\n", i,
                   p->headers.timestamp);
        lf_buf_free_secret(&json);
    }
    lf_mp_parser_free(mp);
}

static void customer_reads(const char *dir, const char *passphrase)
{
    lf_error err = {0};
    lf_buf pem = read_file(dir, "customer/private.pem");
    lf_buf native = read_file(dir, "wire/native-request.bin");
    lf_buf v3 = read_file(dir, "wire/v3-request.bin");
    lf_buf ct = read_file(dir, "wire/v3-content-type.txt");
    lf_buf wrapped = read_file(dir, "wire/v3-handshake-wrapped-key.bin");
    lf_buf v3_key = LF_BUF_INIT;
    lf_privkey *priv = NULL;

    printf("5. customer's tools: load the private key with the passphrase, unwrap, open\n");
    check(lf_privkey_from_pem((const char *)pem.data, pem.len, passphrase, &priv, &err),
          "load private key", &err);
    if (open_native(&native, priv, false) != 0)
        exit(1);
    check(lf_rsa_unwrap(priv, wrapped.data, wrapped.len, &v3_key, &err), "unwrap v3", &err);
    open_v3(&v3, (const char *)ct.data, v3_key.data, false);

    printf("\n6. tampering: the server re-dates every stored record\n");
    /* Native: rewrite ts_min/ts_max (offsets 32..47) of each sealed frame's header. */
    lf_native_reader r;
    lf_native_frame f;
    lf_native_reader_init(&r, native.data, native.len);
    while (lf_native_reader_next(&r, &f, &err) == LF_OK) {
        if (f.hdr.kind == LF_NATIVE_KEY)
            continue;
        uint8_t *h = native.data + f.offset;
        lf_store_be64(h + 32, (uint64_t)(f.hdr.ts_min - 3600 * LF_NS_PER_SEC));
        lf_store_be64(h + 40, (uint64_t)(f.hdr.ts_max - 3600 * LF_NS_PER_SEC));
    }
    int refused = open_native(&native, priv, true);
    printf("   native: %d of 3 re-dated frames refused (the header is the AES-GCM associated "
           "data)\n",
           refused);
    /* v3: rewrite the X-LF-Timestamp hour digits; nothing binds it to the ciphertext. */
    for (size_t i = 0; i + 16 < v3.len; i++)
        if (memcmp(v3.data + i, "X-LF-Timestamp: ", 16) == 0)
            v3.data[i + 16 + 12] = v3.data[i + 16 + 12] == '0' ? '1' : '0';
    open_v3(&v3, (const char *)ct.data, v3_key.data, true);
    printf("   v3: the official format cannot see this; our agent and SDKs use the native "
           "format.\n");
    if (refused != 3)
        exit(1);

    lf_buf_free_secret(&v3_key);
    lf_privkey_free(priv);
    lf_buf_free(&pem);
    lf_buf_free(&native);
    lf_buf_free(&v3);
    lf_buf_free(&ct);
    lf_buf_free(&wrapped);
}

int main(int argc, char **argv)
{
    char dir[4096];
    if (argc > 1) {
        snprintf(dir, sizeof dir, "%s", argv[1]);
        mkdir(dir, 0700);
    } else {
        snprintf(dir, sizeof dir, "%s/logflux-demo-XXXXXX",
                 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
        if (mkdtemp(dir) == NULL) {
            perror("lf-demo: mkdtemp");
            return 1;
        }
    }
    char sub[4200];
    snprintf(sub, sizeof sub, "%s/customer", dir);
    mkdir(sub, 0700);
    snprintf(sub, sizeof sub, "%s/wire", dir);
    mkdir(sub, 0755);
    const char *passphrase = getenv("LOGFLUX_PASSPHRASE");
    if (passphrase == NULL || *passphrase == '\0')
        passphrase = "correct horse battery staple";

    printf("LogFlux demo — files in %s\n\n", dir);
    char fingerprint[LF_FINGERPRINT_STR_LEN];
    int64_t now = lf_time_now_ns();
    customer_makes_keys(dir, passphrase, fingerprint);
    native_sender(dir, fingerprint, now);
    v3_sender(dir, now);
    server_view(dir);
    customer_reads(dir, passphrase);
    printf("\ndone: logs went in encrypted, the server held only ciphertext, and only the "
           "customer's key read them.\n");
    return 0;
}

/*
 * crypto.c — lf-vectors subcommands for the crypto module.
 *
 * The crypto vector files (aes-256-gcm.json, hmac-sha256.json, hkdf-sha256.json) hold published
 * test cases (McGrew–Viega GCM, RFC 4231, RFC 5869) transcribed by hand, and rsa-oaep.json is
 * made by Node (tools/vectors/gen-rsa-oaep.mjs), so there is no gen-crypto here: generating
 * them with our own code would only prove that the code agrees with itself.
 *
 * What is here serves tests/interop/crypto.mjs, which checks the C code against Node's crypto:
 * every subcommand takes hex arguments (or `@FILE` naming a file that holds the hex, because
 * one command-line argument is limited to 128 KiB on Linux) and prints lowercase hex on stdout.
 * Exit codes: 0 success, 1 the operation was refused (authentication failure, bad key, ...),
 * 2 usage error.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmds.h"
#include "logflux/crypto.h"

static int fail(const char *what, const lf_error *err)
{
    fprintf(stderr, "lf-vectors %s: %s (%s)\n", what, err->message, lf_strerror(err->code));
    return 1;
}

static int usage_error(const char *usage)
{
    fprintf(stderr, "usage: lf-vectors %s\n", usage);
    return 2;
}

/* Read a whole file into b (NUL-terminated). */
static int read_file(const char *path, lf_buf *b)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        perror(path);
        return -1;
    }
    uint8_t chunk[16384];
    size_t n;
    int rc = 0;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        if (lf_buf_append(b, chunk, n) != LF_OK)
            rc = -1;
    if (ferror(f) || lf_buf_terminate(b) != LF_OK)
        rc = -1;
    fclose(f);
    return rc;
}

/* Decode a hex argument (or @FILE holding hex, surrounding whitespace ignored) into b. */
static int hex_arg(const char *arg, lf_buf *b)
{
    lf_buf text = LF_BUF_INIT;
    const char *hex = arg;
    size_t len = strlen(arg);
    if (arg[0] == '@') {
        if (read_file(arg + 1, &text) != 0) {
            lf_buf_free(&text);
            return -1;
        }
        hex = (const char *)text.data;
        len = text.len;
        while (len > 0 && (hex[len - 1] == '\n' || hex[len - 1] == '\r' || hex[len - 1] == ' '))
            len--;
    }
    int rc = -1;
    lf_error err = {0};
    if (len % 2 != 0) {
        fprintf(stderr, "lf-vectors: odd-length hex argument\n");
    } else if (lf_buf_reserve(b, len / 2 + 1) != LF_OK) {
        fprintf(stderr, "lf-vectors: out of memory\n");
    } else if (lf_hex_decode(hex, len, b->data + b->len, len / 2, &err) != LF_OK) {
        fprintf(stderr, "lf-vectors: bad hex argument: %s\n", err.message);
    } else {
        b->len += len / 2;
        rc = 0;
    }
    lf_buf_free(&text);
    return rc;
}

static int print_hex(const uint8_t *data, size_t len)
{
    char *hex = malloc(2 * len + 1);
    if (hex == NULL)
        return 1;
    lf_hex_encode(data, len, hex);
    printf("%s\n", hex);
    free(hex);
    return 0;
}

static int load_pubkey(const char *path, lf_pubkey **key)
{
    lf_buf pem = LF_BUF_INIT;
    lf_error err = {0};
    int rc = read_file(path, &pem);
    if (rc == 0 && lf_pubkey_from_pem((const char *)pem.data, pem.len, key, &err) != LF_OK)
        rc = fail("pubkey", &err);
    lf_buf_free(&pem);
    return rc;
}

static int load_privkey(const char *path, const char *passphrase, lf_privkey **key)
{
    lf_buf pem = LF_BUF_INIT;
    lf_error err = {0};
    int rc = read_file(path, &pem);
    if (rc == 0 &&
        lf_privkey_from_pem((const char *)pem.data, pem.len, passphrase, key, &err) != LF_OK)
        rc = fail("privkey", &err);
    lf_buf_free(&pem);
    return rc;
}

/* aead-seal / aead-open share argument handling: KEYHEX NONCEHEX AADHEX DATAHEX. */
static int aead_cmd(int argc, char **argv, bool seal)
{
    const char *usage = seal ? "aead-seal KEYHEX NONCEHEX AADHEX PTHEX"
                             : "aead-open KEYHEX NONCEHEX AADHEX SEALEDHEX";
    if (argc != 5)
        return usage_error(usage);
    lf_buf key = LF_BUF_INIT, nonce = LF_BUF_INIT, aad = LF_BUF_INIT, in = LF_BUF_INIT;
    lf_buf out = LF_BUF_INIT;
    int rc = 2;
    if (hex_arg(argv[1], &key) != 0 || hex_arg(argv[2], &nonce) != 0 ||
        hex_arg(argv[3], &aad) != 0 || hex_arg(argv[4], &in) != 0)
        goto out;
    if (key.len != LF_AES_KEY_LEN || nonce.len != LF_GCM_NONCE_LEN) {
        fprintf(stderr, "lf-vectors: key must be 32 bytes and nonce 12 bytes\n");
        goto out;
    }
    lf_error err = {0};
    lf_err e =
        seal ? lf_aead_seal(key.data, nonce.data, aad.data, aad.len, in.data, in.len, &out, &err)
             : lf_aead_open(key.data, nonce.data, aad.data, aad.len, in.data, in.len, &out, &err);
    rc = e == LF_OK ? print_hex(out.data, out.len) : fail(argv[0], &err);
out:
    lf_buf_free_secret(&key);
    lf_buf_free(&nonce);
    lf_buf_free(&aad);
    lf_buf_free_secret(&in);
    lf_buf_free_secret(&out);
    return rc;
}

static int cmd_aead_seal(int argc, char **argv)
{
    return aead_cmd(argc, argv, true);
}

static int cmd_aead_open(int argc, char **argv)
{
    return aead_cmd(argc, argv, false);
}

static int cmd_rsa_wrap(int argc, char **argv)
{
    if (argc != 3)
        return usage_error("rsa-wrap PUBPEMFILE SECRETHEX");
    lf_pubkey *key = NULL;
    lf_buf secret = LF_BUF_INIT, out = LF_BUF_INIT;
    int rc = 2;
    if (hex_arg(argv[2], &secret) != 0)
        goto out;
    rc = load_pubkey(argv[1], &key);
    if (rc != 0)
        goto out;
    lf_error err = {0};
    rc = lf_rsa_wrap(key, secret.data, secret.len, &out, &err) == LF_OK
             ? print_hex(out.data, out.len)
             : fail("rsa-wrap", &err);
out:
    lf_pubkey_free(key);
    lf_buf_free_secret(&secret);
    lf_buf_free(&out);
    return rc;
}

static int cmd_rsa_unwrap(int argc, char **argv)
{
    if (argc != 4)
        return usage_error("rsa-unwrap PRIVPEMFILE PASSPHRASE WRAPPEDHEX");
    lf_privkey *key = NULL;
    lf_buf wrapped = LF_BUF_INIT, out = LF_BUF_INIT;
    int rc = 2;
    if (hex_arg(argv[3], &wrapped) != 0)
        goto out;
    rc = load_privkey(argv[1], argv[2], &key);
    if (rc != 0)
        goto out;
    lf_error err = {0};
    rc = lf_rsa_unwrap(key, wrapped.data, wrapped.len, &out, &err) == LF_OK
             ? print_hex(out.data, out.len)
             : fail("rsa-unwrap", &err);
out:
    lf_privkey_free(key);
    lf_buf_free(&wrapped);
    lf_buf_free_secret(&out);
    return rc;
}

static int write_file(const char *path, const lf_buf *b, mode_t mode)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);
    if (fd < 0) {
        perror(path);
        return -1;
    }
    size_t off = 0;
    while (off < b->len) {
        ssize_t n = write(fd, b->data + off, b->len - off);
        if (n <= 0) {
            perror(path);
            close(fd);
            return -1;
        }
        off += (size_t)n;
    }
    return close(fd);
}

static int cmd_keygen(int argc, char **argv)
{
    if (argc != 4)
        return usage_error("keygen BITS PASSPHRASE OUTPREFIX");
    char *end = NULL;
    long bits = strtol(argv[1], &end, 10);
    if (*end != '\0' || bits <= 0 || bits > 65536)
        return usage_error("keygen BITS PASSPHRASE OUTPREFIX");
    lf_privkey *key = NULL;
    lf_pubkey *pub = NULL;
    lf_buf priv_pem = LF_BUF_INIT, pub_pem = LF_BUF_INIT, path = LF_BUF_INIT;
    lf_error err = {0};
    int rc = 1;
    if (lf_privkey_generate((int)bits, &key, &err) != LF_OK ||
        lf_privkey_to_pem(key, argv[2], &priv_pem, &err) != LF_OK ||
        lf_privkey_public(key, &pub, &err) != LF_OK ||
        lf_pubkey_to_pem(pub, &pub_pem, &err) != LF_OK) {
        rc = fail("keygen", &err);
        goto out;
    }
    if (lf_buf_printf(&path, "%s.key", argv[3]) != LF_OK ||
        write_file((const char *)path.data, &priv_pem, 0600) != 0)
        goto out;
    lf_buf_reset(&path);
    if (lf_buf_printf(&path, "%s.pub", argv[3]) != LF_OK ||
        write_file((const char *)path.data, &pub_pem, 0644) != 0)
        goto out;
    rc = 0;
out:
    lf_privkey_free(key);
    lf_pubkey_free(pub);
    lf_buf_free(&priv_pem);
    lf_buf_free(&pub_pem);
    lf_buf_free(&path);
    return rc;
}

static int cmd_fingerprint(int argc, char **argv)
{
    if (argc != 2)
        return usage_error("fingerprint PUBPEMFILE");
    lf_pubkey *key = NULL;
    int rc = load_pubkey(argv[1], &key);
    if (rc != 0)
        return rc;
    char fp[LF_FINGERPRINT_STR_LEN];
    lf_error err = {0};
    if (lf_pubkey_fingerprint(key, fp, &err) == LF_OK)
        printf("%s\n", fp);
    else
        rc = fail("fingerprint", &err);
    lf_pubkey_free(key);
    return rc;
}

static int cmd_hkdf(int argc, char **argv)
{
    if (argc != 5)
        return usage_error("hkdf IKMHEX SALTHEX INFOHEX LEN");
    lf_buf ikm = LF_BUF_INIT, salt = LF_BUF_INIT, info = LF_BUF_INIT;
    uint8_t *okm = NULL;
    int rc = 2;
    char *end = NULL;
    long len = strtol(argv[4], &end, 10);
    if (*end != '\0' || len <= 0 || len > 65536 || hex_arg(argv[1], &ikm) != 0 ||
        hex_arg(argv[2], &salt) != 0 || hex_arg(argv[3], &info) != 0)
        goto out;
    okm = malloc((size_t)len);
    if (okm == NULL)
        goto out;
    lf_error err = {0};
    rc = lf_hkdf_sha256(ikm.data, ikm.len, salt.data, salt.len, info.data, info.len, okm,
                        (size_t)len, &err) == LF_OK
             ? print_hex(okm, (size_t)len)
             : fail("hkdf", &err);
out:
    free(okm);
    lf_buf_free_secret(&ikm);
    lf_buf_free(&salt);
    lf_buf_free(&info);
    return rc;
}

static int cmd_hmac(int argc, char **argv)
{
    if (argc != 3)
        return usage_error("hmac KEYHEX DATAHEX");
    lf_buf key = LF_BUF_INIT, data = LF_BUF_INIT;
    int rc = 2;
    if (hex_arg(argv[1], &key) != 0 || hex_arg(argv[2], &data) != 0)
        goto out;
    uint8_t mac[LF_SHA256_LEN];
    lf_error err = {0};
    rc = lf_hmac_sha256(key.data, key.len, data.data, data.len, mac, &err) == LF_OK
             ? print_hex(mac, sizeof mac)
             : fail("hmac", &err);
out:
    lf_buf_free_secret(&key);
    lf_buf_free(&data);
    return rc;
}

static int cmd_sha256(int argc, char **argv)
{
    if (argc != 2)
        return usage_error("sha256 DATAHEX");
    lf_buf data = LF_BUF_INIT;
    int rc = 2;
    uint8_t digest[LF_SHA256_LEN];
    lf_error err = {0};
    if (hex_arg(argv[1], &data) == 0)
        rc = lf_sha256(data.data, data.len, digest, &err) == LF_OK
                 ? print_hex(digest, sizeof digest)
                 : fail("sha256", &err);
    lf_buf_free(&data);
    return rc;
}

const struct lf_vectors_cmd lf_vectors_crypto_cmds[] = {
    {"aead-seal", "KEYHEX NONCEHEX AADHEX PTHEX   (prints ct||tag hex; @FILE for any hex)",
     cmd_aead_seal},
    {"aead-open",
     "KEYHEX NONCEHEX AADHEX SEALEDHEX   (prints plaintext hex; exit 1 on auth failure)",
     cmd_aead_open},
    {"rsa-wrap", "PUBPEMFILE SECRETHEX", cmd_rsa_wrap},
    {"rsa-unwrap", "PRIVPEMFILE PASSPHRASE WRAPPEDHEX", cmd_rsa_unwrap},
    {"keygen", "BITS PASSPHRASE OUTPREFIX   (writes OUTPREFIX.key and OUTPREFIX.pub)", cmd_keygen},
    {"fingerprint", "PUBPEMFILE", cmd_fingerprint},
    {"hkdf", "IKMHEX SALTHEX INFOHEX LEN", cmd_hkdf},
    {"hmac", "KEYHEX DATAHEX", cmd_hmac},
    {"sha256", "DATAHEX", cmd_sha256},
    {NULL, NULL, NULL},
};

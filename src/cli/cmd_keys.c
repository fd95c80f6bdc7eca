/*
 * cmd_keys.c — `logflux keys init|show|export-public`: the customer key pair.
 *
 * init makes an RSA-4096 pair; the private key is written as encrypted PKCS#8 (scrypt, see
 * lf_privkey_to_pem) with mode 0600 through O_EXCL, so an existing key — which may be the only
 * way to read years of logs — is never overwritten unless --force says so. The public key
 * goes beside it as PATH.pub. show and export-public read PATH.pub when it exists (no
 * passphrase needed) and otherwise derive the public half from the private key.
 */
#include "commands.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Write data to path with mode; exclusive unless force. Returns an exit code. */
static int write_file(const char *path, const void *data, size_t len, mode_t mode, bool force)
{
    int flags = O_WRONLY | O_CREAT | O_CLOEXEC | (force ? O_TRUNC : O_EXCL);
    int fd = open(path, flags, mode);
    if (fd < 0) {
        if (errno == EEXIST)
            return lfc_fail(LFC_EXIT_ERROR,
                            "%s exists: refusing to overwrite a key (it may be the only way to "
                            "read your logs); use --force to replace it",
                            path);
        return lfc_fail(LFC_EXIT_ERROR, "cannot create %s: %s", path, strerror(errno));
    }
    /* With --force the file may have existed with a looser mode. */
    bool ok = fchmod(fd, mode) == 0 && write(fd, data, len) == (ssize_t)len && fsync(fd) == 0;
    int saved = errno;
    if (close(fd) != 0 && ok) {
        ok = false;
        saved = errno;
    }
    if (!ok)
        return lfc_fail(LFC_EXIT_ERROR, "cannot write %s: %s", path, strerror(saved));
    return LFC_EXIT_OK;
}

static int ensure_parent(const char *path)
{
    char *dir = strdup(path);
    if (!dir)
        return lfc_fail(LFC_EXIT_ERROR, "out of memory");
    char *slash = strrchr(dir, '/');
    int rc = LFC_EXIT_OK;
    if (slash && slash != dir) {
        *slash = '\0';
        /* Create missing levels; the key's own directory is private. */
        for (char *p = dir + 1; *p; p++) {
            if (*p != '/')
                continue;
            *p = '\0';
            if (mkdir(dir, 0755) != 0 && errno != EEXIST)
                rc = lfc_fail(LFC_EXIT_ERROR, "cannot create %s: %s", dir, strerror(errno));
            *p = '/';
        }
        if (rc == LFC_EXIT_OK && mkdir(dir, 0700) != 0 && errno != EEXIST)
            rc = lfc_fail(LFC_EXIT_ERROR, "cannot create %s: %s", dir, strerror(errno));
    }
    free(dir);
    return rc;
}

static char *pub_path(const char *key_path)
{
    size_t n = strlen(key_path) + 5;
    char *p = malloc(n);
    if (p)
        snprintf(p, n, "%s.pub", key_path);
    return p;
}

static int print_key_info(lfc_ctx *c, const char *path, const char *pub, const lf_pubkey *key,
                          bool created)
{
    char fp[LF_FINGERPRINT_STR_LEN];
    lf_error err = {0};
    if (lf_pubkey_fingerprint(key, fp, &err) != LF_OK)
        return lfc_fail(LFC_EXIT_ERROR, "fingerprint: %s", err.message);
    int bits = lf_pubkey_bits(key);
    if (c->output == LFC_OUT_JSON) {
        json_t *o = json_pack("{s:s, s:s, s:s, s:i}", "path", path, "public_key_path", pub,
                              "fingerprint", fp, "bits", bits);
        if (o)
            json_dumpf(o, stdout, JSON_INDENT(2));
        fputc('\n', stdout);
        json_decref(o);
    } else if (c->output == LFC_OUT_CSV) {
        printf("path,public_key_path,fingerprint,bits\n%s,%s,%s,%d\n", path, pub, fp, bits);
    } else {
        if (created && !c->quiet)
            fprintf(stderr,
                    "Keep %s and its passphrase safe: without them your logs cannot be read.\n"
                    "Register the public key with `logflux admin keys register`.\n",
                    path);
        printf("private key: %s\npublic key:  %s\nbits:        %d\nfingerprint: %s\n", path, pub,
               bits, fp);
    }
    return LFC_EXIT_OK;
}

static int keys_init(lfc_ctx *c, int argc, char **argv)
{
    const char *out = c->key_path;
    bool force = false;
    int bits = LF_RSA_BITS;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--out") == 0 && i + 1 < argc)
            out = argv[++i];
        else if (strncmp(argv[i], "--out=", 6) == 0)
            out = argv[i] + 6;
        else if (strcmp(argv[i], "--force") == 0)
            force = true;
        else
            return lfc_fail(LFC_EXIT_USAGE, "keys init: unexpected argument '%s'", argv[i]);
    }
    char *pub = pub_path(out);
    if (!pub)
        return lfc_fail(LFC_EXIT_ERROR, "out of memory");
    int rc = LFC_EXIT_OK;
    lf_privkey *key = NULL;
    lf_pubkey *pk = NULL;
    lf_buf pem = LF_BUF_INIT, pubpem = LF_BUF_INIT;
    char pass[1024];
    lf_error err = {0};

    if (!force && access(out, F_OK) == 0) {
        rc = lfc_fail(LFC_EXIT_ERROR,
                      "%s exists: refusing to overwrite a key (it may be the only way to read "
                      "your logs); use --force to replace it",
                      out);
        goto done;
    }
    if ((rc = ensure_parent(out)) != LFC_EXIT_OK)
        goto done;
    if ((rc = lfc_read_passphrase("New passphrase for the private key: ", true, pass,
                                  sizeof pass)) != LFC_EXIT_OK)
        goto done;
    if (!c->quiet)
        fprintf(stderr, "Generating an RSA-%d key pair...\n", bits);
    if (lf_privkey_generate(bits, &key, &err) != LF_OK ||
        lf_privkey_to_pem(key, pass, &pem, &err) != LF_OK ||
        lf_privkey_public(key, &pk, &err) != LF_OK ||
        lf_pubkey_to_pem(pk, &pubpem, &err) != LF_OK) {
        rc = lfc_fail(LFC_EXIT_ERROR, "key generation failed: %s", err.message);
        goto done;
    }
    /* PEM buffers are NUL-terminated; the NUL is not part of the file. */
    size_t pem_len = strlen((const char *)pem.data);
    if ((rc = write_file(out, pem.data, pem_len, 0600, force)) != LFC_EXIT_OK)
        goto done;
    if ((rc = write_file(pub, pubpem.data, strlen((const char *)pubpem.data), 0644, true)) !=
        LFC_EXIT_OK)
        goto done;
    rc = print_key_info(c, out, pub, pk, true);
done:
    lf_wipe(pass, sizeof pass);
    lf_buf_free_secret(&pem);
    lf_buf_free(&pubpem);
    lf_pubkey_free(pk);
    lf_privkey_free(key);
    free(pub);
    return rc;
}

/* The configured key's public half: PATH.pub when present, else from the private key. */
int lfc_configured_public_key(lfc_ctx *c, lf_pubkey **out, char **used_path)
{
    *out = NULL;
    *used_path = pub_path(c->key_path);
    if (!*used_path)
        return lfc_fail(LFC_EXIT_ERROR, "out of memory");
    lf_error err = {0};
    FILE *f = fopen(*used_path, "rb");
    if (f) {
        char buf[16384];
        size_t n = fread(buf, 1, sizeof buf, f);
        fclose(f);
        if (n == sizeof buf)
            return lfc_fail(LFC_EXIT_ERROR, "%s: too large for a public key", *used_path);
        if (lf_pubkey_from_pem(buf, n, out, &err) != LF_OK)
            return lfc_fail(LFC_EXIT_ERROR, "%s: %s", *used_path, err.message);
        return LFC_EXIT_OK;
    }
    free(*used_path);
    *used_path = strdup(c->key_path);
    if (!*used_path)
        return lfc_fail(LFC_EXIT_ERROR, "out of memory");
    lf_privkey *key = NULL;
    int rc = lfc_load_private_key(c, &key);
    if (rc != LFC_EXIT_OK)
        return rc;
    if (lf_privkey_public(key, out, &err) != LF_OK)
        rc = lfc_fail(LFC_EXIT_ERROR, "%s: %s", c->key_path, err.message);
    lf_privkey_free(key);
    return rc;
}

static int keys_show(lfc_ctx *c, bool export_pem)
{
    lf_pubkey *pk = NULL;
    char *used = NULL;
    int rc = lfc_configured_public_key(c, &pk, &used);
    if (rc == LFC_EXIT_OK) {
        if (export_pem) {
            lf_buf pem = LF_BUF_INIT;
            lf_error err = {0};
            if (lf_pubkey_to_pem(pk, &pem, &err) != LF_OK)
                rc = lfc_fail(LFC_EXIT_ERROR, "%s", err.message);
            else
                fputs((const char *)pem.data, stdout);
            lf_buf_free(&pem);
        } else {
            char *pub = pub_path(c->key_path);
            rc = pub ? print_key_info(c, c->key_path, pub, pk, false)
                     : lfc_fail(LFC_EXIT_ERROR, "out of memory");
            free(pub);
        }
    }
    lf_pubkey_free(pk);
    free(used);
    return rc;
}

int lfc_cmd_keys(lfc_ctx *c, int argc, char **argv)
{
    if (argc < 2)
        return lfc_fail(LFC_EXIT_USAGE, "keys: expected init, show or export-public");
    if (strcmp(argv[1], "init") == 0)
        return keys_init(c, argc - 1, argv + 1);
    if (argc > 2)
        return lfc_fail(LFC_EXIT_USAGE, "keys %s: unexpected argument '%s'", argv[1], argv[2]);
    if (strcmp(argv[1], "show") == 0)
        return keys_show(c, false);
    if (strcmp(argv[1], "export-public") == 0)
        return keys_show(c, true);
    return lfc_fail(LFC_EXIT_USAGE, "keys: unknown subcommand '%s' (init, show, export-public)",
                    argv[1]);
}

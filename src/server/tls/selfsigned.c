/*
 * selfsigned.c — self-signed server certificate on OpenSSL (see selfsigned.h).
 */
#include "selfsigned.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static bool add_ext(X509 *cert, int nid, const char *value)
{
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, cert, cert, NULL, NULL, 0);
    X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
    if (ext == NULL)
        return false;
    int ok = X509_add_ext(cert, ext, -1);
    X509_EXTENSION_free(ext);
    return ok == 1;
}

static bool is_ip(const char *s)
{
    for (; *s; s++)
        if (!((*s >= '0' && *s <= '9') || *s == '.' || *s == ':' || (*s >= 'a' && *s <= 'f') ||
              (*s >= 'A' && *s <= 'F')))
            return false;
    return true;
}

/* "DNS:localhost,IP:127.0.0.1,IP:::1" plus the extra names. */
static lf_err build_san(const char *extra, char *out, size_t cap, lf_error *err)
{
    snprintf(out, cap, "DNS:localhost,IP:127.0.0.1,IP:::1");
    if (extra == NULL || *extra == '\0')
        return LF_OK;
    char copy[1024];
    if (strlen(extra) >= sizeof copy)
        return lf_error_set(err, LF_ERR_TOO_LARGE, "tls: too many extra names");
    strcpy(copy, extra);
    for (char *save = NULL, *name = strtok_r(copy, ",", &save); name;
         name = strtok_r(NULL, ",", &save)) {
        while (*name == ' ')
            name++;
        size_t used = strlen(out);
        int n = snprintf(out + used, cap - used, ",%s:%s", is_ip(name) ? "IP" : "DNS", name);
        if (n < 0 || (size_t)n >= cap - used)
            return lf_error_set(err, LF_ERR_TOO_LARGE, "tls: too many extra names");
    }
    return LF_OK;
}

static lf_err write_pem(const char *path, int mode, bool key, EVP_PKEY *pkey, X509 *cert,
                        lf_error *err)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
    if (fd < 0)
        return lf_error_set(err, LF_ERR_IO, "%s: %s", path, strerror(errno));
    FILE *f = fdopen(fd, "w");
    if (f == NULL) {
        close(fd);
        return lf_error_set(err, LF_ERR_IO, "%s: %s", path, strerror(errno));
    }
    int ok =
        key ? PEM_write_PrivateKey(f, pkey, NULL, NULL, 0, NULL, NULL) : PEM_write_X509(f, cert);
    if (fflush(f) != 0 || fsync(fileno(f)) != 0)
        ok = 0;
    if (fclose(f) != 0)
        ok = 0;
    return ok == 1 ? LF_OK : lf_error_set(err, LF_ERR_IO, "%s: cannot write PEM", path);
}

lf_err lfd_tls_make_selfsigned(const char *cert_path, const char *key_path, const char *extra_names,
                               int days, lf_error *err)
{
    char san[2048];
    lf_err rc = build_san(extra_names, san, sizeof san, err);
    if (rc != LF_OK)
        return rc;
    EVP_PKEY *pkey = EVP_EC_gen("P-256");
    X509 *cert = X509_new();
    uint8_t serial[16];
    BIGNUM *bn = NULL;
    if (pkey == NULL || cert == NULL || RAND_bytes(serial, sizeof serial) != 1) {
        rc = lf_error_set(err, LF_ERR_CRYPTO, "tls: key generation failed");
        goto out;
    }
    serial[0] &= 0x7f; /* positive serial number */
    bn = BN_bin2bn(serial, sizeof serial, NULL);
    X509_NAME *name = X509_get_subject_name(cert);
    if (bn == NULL || X509_set_version(cert, 2) != 1 ||
        BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert)) == NULL ||
        X509_gmtime_adj(X509_getm_notBefore(cert), -3600) == NULL ||
        X509_gmtime_adj(X509_getm_notAfter(cert), (long)days * 86400) == NULL ||
        X509_set_pubkey(cert, pkey) != 1 ||
        X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC, (const unsigned char *)"LogFlux", -1,
                                   -1, 0) != 1 ||
        X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                                   (const unsigned char *)"logfluxd self-signed", -1, -1, 0) != 1 ||
        X509_set_issuer_name(cert, name) != 1 ||
        !add_ext(cert, NID_basic_constraints, "critical,CA:TRUE,pathlen:0") ||
        !add_ext(cert, NID_key_usage, "critical,digitalSignature,keyCertSign") ||
        !add_ext(cert, NID_ext_key_usage, "serverAuth") ||
        !add_ext(cert, NID_subject_key_identifier, "hash") ||
        !add_ext(cert, NID_subject_alt_name, san) || X509_sign(cert, pkey, EVP_sha256()) == 0) {
        rc = lf_error_set(err, LF_ERR_CRYPTO, "tls: cannot build the certificate");
        goto out;
    }
    rc = write_pem(key_path, 0600, true, pkey, NULL, err);
    if (rc == LF_OK)
        rc = write_pem(cert_path, 0644, false, NULL, cert, err);
out:
    BN_free(bn);
    X509_free(cert);
    EVP_PKEY_free(pkey);
    return rc;
}

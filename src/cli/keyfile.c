/*
 * keyfile.c — the customer's private key file and its passphrase.
 *
 * The key file is an encrypted PKCS#8 PEM (scrypt + AES-256-CBC, see lf_privkey_to_pem). The
 * passphrase comes from LOGFLUX_PASSPHRASE (for scripts and tests) or from the terminal with
 * echo off (termios on /dev/tty, so a pipe on stdin does not swallow it). Passphrases and the
 * file contents are wiped after use; the opened key lives in memory only.
 */
#include "cli.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#define LFC_MAX_KEYFILE (64 * 1024)

/* Read one line from the terminal with echo off. Returns false if there is no terminal. */
static bool tty_read(const char *prompt, char *out, size_t cap)
{
    int fd = open("/dev/tty", O_RDWR | O_CLOEXEC);
    if (fd < 0)
        return false;
    struct termios old, quiet;
    bool restore = tcgetattr(fd, &old) == 0;
    if (restore) {
        quiet = old;
        quiet.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
        quiet.c_lflag |= ICANON;
        tcsetattr(fd, TCSAFLUSH, &quiet);
    }
    ssize_t w = write(fd, prompt, strlen(prompt));
    (void)w;
    size_t n = 0;
    bool ok = true;
    for (;;) {
        char ch;
        ssize_t r = read(fd, &ch, 1);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            ok = n > 0;
            break;
        }
        if (ch == '\n' || ch == '\r')
            break;
        if (n + 1 < cap)
            out[n++] = ch;
    }
    out[n] = '\0';
    if (restore)
        tcsetattr(fd, TCSAFLUSH, &old);
    w = write(fd, "\n", 1);
    (void)w;
    close(fd);
    return ok;
}

int lfc_read_passphrase(const char *prompt, bool confirm, char *out, size_t cap)
{
    if (cap < 2)
        return lfc_fail(LFC_EXIT_ERROR, "passphrase buffer too small");
    const char *env = getenv("LOGFLUX_PASSPHRASE");
    if (env) {
        if (!*env)
            return lfc_fail(LFC_EXIT_USAGE, "LOGFLUX_PASSPHRASE is empty");
        if (strlen(env) >= cap)
            return lfc_fail(LFC_EXIT_USAGE, "LOGFLUX_PASSPHRASE is longer than %zu bytes", cap - 1);
        strcpy(out, env);
        return LFC_EXIT_OK;
    }
    if (!tty_read(prompt, out, cap))
        return lfc_fail(LFC_EXIT_USAGE,
                        "no passphrase: set LOGFLUX_PASSPHRASE or run on a terminal");
    if (!*out)
        return lfc_fail(LFC_EXIT_USAGE, "empty passphrase");
    if (confirm) {
        char again[1024];
        bool got = tty_read("Repeat passphrase: ", again, sizeof again);
        bool same = got && strcmp(again, out) == 0;
        lf_wipe(again, sizeof again);
        if (!same) {
            lf_wipe(out, cap);
            return lfc_fail(LFC_EXIT_USAGE, "the passphrases differ");
        }
    }
    return LFC_EXIT_OK;
}

int lfc_read_secret(const char *prompt, char *out, size_t cap)
{
    if (cap < 2)
        return lfc_fail(LFC_EXIT_ERROR, "secret buffer too small");
    if (!isatty(STDIN_FILENO)) {
        if (!fgets(out, (int)cap, stdin))
            return lfc_fail(LFC_EXIT_USAGE, "no token on stdin");
        out[strcspn(out, "\r\n")] = '\0';
    } else if (!tty_read(prompt, out, cap)) {
        return lfc_fail(LFC_EXIT_USAGE, "no terminal to read the token from");
    }
    if (!*out)
        return lfc_fail(LFC_EXIT_USAGE, "empty token");
    return LFC_EXIT_OK;
}

/* Read a whole small file (key files are a few KiB). NUL-terminated; caller frees secretly. */
static int read_small_file(const char *path, lf_buf *out)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT)
            return lfc_fail(LFC_EXIT_ERROR,
                            "no private key at %s: create one with `logflux keys init` or point "
                            "--key / LOGFLUX_KEY at yours",
                            path);
        return lfc_fail(LFC_EXIT_ERROR, "%s: %s", path, strerror(errno));
    }
    int rc = LFC_EXIT_OK;
    for (;;) {
        if (lf_buf_reserve(out, 4096) != LF_OK) {
            rc = lfc_fail(LFC_EXIT_ERROR, "out of memory");
            break;
        }
        ssize_t r = read(fd, out->data + out->len, 4096);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            rc = lfc_fail(LFC_EXIT_ERROR, "%s: %s", path, strerror(errno));
            break;
        }
        if (r == 0)
            break;
        out->len += (size_t)r;
        if (out->len > LFC_MAX_KEYFILE) {
            rc = lfc_fail(LFC_EXIT_ERROR, "%s: larger than %d bytes, not a key file", path,
                          LFC_MAX_KEYFILE);
            break;
        }
    }
    close(fd);
    if (rc == LFC_EXIT_OK && lf_buf_terminate(out) != LF_OK)
        rc = lfc_fail(LFC_EXIT_ERROR, "out of memory");
    return rc;
}

int lfc_load_private_key(lfc_ctx *c, lf_privkey **out)
{
    *out = NULL;
    if (!c->key_path)
        return lfc_fail(LFC_EXIT_USAGE, "no key path configured");
    lf_buf pem = LF_BUF_INIT;
    int rc = read_small_file(c->key_path, &pem);
    if (rc != LFC_EXIT_OK) {
        lf_buf_free_secret(&pem);
        return rc;
    }
    struct stat st;
    if (!c->quiet && stat(c->key_path, &st) == 0 && (st.st_mode & 077) != 0)
        fprintf(stderr, "logflux: warning: %s is readable by others (mode %04o); chmod 600 it\n",
                c->key_path, (unsigned)(st.st_mode & 07777));
    char pass[1024];
    char prompt[256];
    snprintf(prompt, sizeof prompt, "Passphrase for %s: ", c->key_path);
    rc = lfc_read_passphrase(prompt, false, pass, sizeof pass);
    if (rc == LFC_EXIT_OK) {
        lf_error err = {0};
        lf_err e = lf_privkey_from_pem((const char *)pem.data, pem.len, pass, out, &err);
        if (e == LF_ERR_PASSPHRASE)
            rc = lfc_fail(LFC_EXIT_PASSPHRASE, "wrong passphrase for %s", c->key_path);
        else if (e != LF_OK)
            rc = lfc_fail(LFC_EXIT_ERROR, "%s: not a usable private key: %s", c->key_path,
                          err.message);
    }
    lf_wipe(pass, sizeof pass);
    lf_buf_free_secret(&pem);
    return rc;
}

/*
 * selfsigned.h — the certificate `logfluxd init` makes when the operator brings none: an
 * ECDSA P-256 key and a self-signed certificate for localhost, 127.0.0.1 and ::1 (plus any
 * extra names), which clients trust explicitly (`--ca`, LOGFLUX_CA). It is both the server
 * certificate and its own trust anchor, so it carries CA:TRUE.
 */
#ifndef LFD_SELFSIGNED_H
#define LFD_SELFSIGNED_H

#include "logflux/error.h"

/* Write key (mode 0600) and certificate PEM files. extra_names: comma-separated DNS names or
 * IP addresses to add to the subjectAltName (NULL for none). */
lf_err lfd_tls_make_selfsigned(const char *cert_path, const char *key_path, const char *extra_names,
                               int days, lf_error *err);

#endif

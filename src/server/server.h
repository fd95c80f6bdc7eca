/*
 * server.h — `logfluxd init` and `logfluxd serve`, as functions (main.c parses flags; tests
 * call these directly).
 */
#ifndef LFD_SERVER_H
#define LFD_SERVER_H

#include <stdio.h>

#include "app.h"

typedef struct lfd_init_options {
    const char *data_dir;
    const char *tenant;   /* first tenant's name */
    const char *region;   /* eu, us, ca, au, ap */
    const char *tls_cert; /* NULL: make a self-signed certificate */
    const char *tls_key;
    const char *tls_names; /* extra subjectAltNames for the self-signed certificate */
} lfd_init_options;

/* Make the data directory and print the first tenant's admin token (once) as JSON on out. */
lf_err lfd_init(const lfd_init_options *o, FILE *out, lf_error *err);

/* Open every part, serve until SIGTERM/SIGINT, drain, close. */
lf_err lfd_serve(lfd_config *cfg, lf_error *err);

/* The route table of every role in this process. */
extern const lfd_route lfd_routes[];
extern const size_t lfd_routes_len;

/* Paths inside a data directory. */
#define LFD_META_FILE   "meta.db"
#define LFD_SPOOL_DIR   "spool"
#define LFD_OBJECTS_DIR "objects"
#define LFD_TLS_DIR     "tls"

#endif

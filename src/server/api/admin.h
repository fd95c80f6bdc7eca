/*
 * admin.h — handlers of the administrative, discovery and service endpoints (admin.c,
 * discovery.c). Routes are in routes.c.
 */
#ifndef LFD_ADMIN_H
#define LFD_ADMIN_H

#include "app.h"

void lfd_handle_apps(lfd_request *r, void *app);
void lfd_handle_api_keys(lfd_request *r, void *app);
void lfd_handle_tokens(lfd_request *r, void *app);
void lfd_handle_public_keys(lfd_request *r, void *app);
void lfd_handle_tenant(lfd_request *r, void *app);
void lfd_handle_audit(lfd_request *r, void *app);

void lfd_handle_health(lfd_request *r, void *app);
void lfd_handle_info(lfd_request *r, void *app);
void lfd_handle_static_discovery(lfd_request *r, void *app);
void lfd_handle_discovery(lfd_request *r, void *app);

#endif

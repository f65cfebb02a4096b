/* The authenticated admin routes (routes.c, objects.c). */
#ifndef ASC_ADMIN_ROUTES_H
#define ASC_ADMIN_ROUTES_H

#include "admin/internal.h"

/* Dispatch rest ("keys/ci/rotate", "whoami", ...) for principal p. */
void asc_admin_route(asc_admin_t *a, asc_http_req_t *req, const asc_snapshot_t *snap,
                     const asc_principal_t *p, const char *rest);

/* The object as the API shows it: secrets removed, hints and meta added.
 * snap (may be NULL) supplies in-memory key last-used times. */
cJSON *asc_admin_render(asc_admin_t *a, const asc_kind_t *k, const asc_store_obj_t *o,
                        const asc_snapshot_t *snap);

/* Object routes: collection (name NULL) or one object, with an optional
 * action (keys: rotate, revoke). */
void asc_admin_objects(asc_admin_t *a, asc_http_req_t *req, const asc_snapshot_t *snap,
                       const asc_principal_t *p, const asc_kind_t *k, const char *name,
                       const char *action);

/* "bootstrap-token" / "alice@example.com (oidc)": the change log's actor. */
void asc_admin_actor(const asc_principal_t *p, char *out, size_t len);

#endif

/*
 * Model resolution: the model name a client sent → the provider and
 * upstream model that serve it. A public name from `models:` maps to its
 * configured target; "<provider>/<model>" (split at the first '/') goes to
 * that configured provider with the rest verbatim. Policy (the key's
 * allow-list) is applied by the caller to the name as sent, for both forms.
 */
#ifndef ASC_ROUTE_RESOLVE_H
#define ASC_ROUTE_RESOLVE_H

#include "core/err.h"
#include "core/pool.h"
#include "gateway/snapshot.h"

typedef struct {
    const char *public_name; /* what the client sent */
    const asc_provider_rt_t *provider;
    const char *upstream_model;
    int embedding; /* configured as an embedding model */
    int direct;    /* "<provider>/<model>" form */
} asc_route_t;

/* ASC_ENOTFOUND when no configured (and enabled) model or provider
 * matches. Strings are borrowed from the snapshot or allocated in pool. */
asc_err_t asc_route_resolve(const asc_snapshot_t *s, const char *model, asc_pool_t *pool,
                            asc_route_t *out);

#endif

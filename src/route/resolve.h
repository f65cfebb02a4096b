/*
 * Model resolution: the model name a client sent → its route. A public
 * name from `models:` maps to its configured route; "<provider>/<model>"
 * (split at the first '/') is a direct route of one target: that
 * configured provider with the rest verbatim. Policy (the key's allow-list)
 * is applied by the caller to the name as sent, for both forms.
 */
#ifndef ASC_ROUTE_RESOLVE_H
#define ASC_ROUTE_RESOLVE_H

#include "core/err.h"
#include "core/pool.h"
#include "gateway/snapshot.h"
#include "route/route.h"

typedef struct {
    const char *public_name; /* what the client sent */
    const asc_route_rt_t *rt;
    int embedding; /* configured as an embedding model */
    int direct;    /* "<provider>/<model>" form */
} asc_route_t;

/* ASC_ENOTFOUND when no configured (and enabled) model or provider
 * matches. Strings are borrowed from the snapshot or allocated in pool. */
asc_err_t asc_route_resolve(const asc_snapshot_t *s, const char *model, asc_pool_t *pool,
                            asc_route_t *out);

#endif

#include "route/resolve.h"

#include <string.h>

asc_err_t asc_route_resolve(const asc_snapshot_t *s, const char *model, asc_pool_t *pool,
                            asc_route_t *out)
{
    memset(out, 0, sizeof *out);
    out->public_name = model;
    const asc_route_rt_t *r = asc_snapshot_route(s, model);
    if (r != NULL) {
        out->rt = r;
        out->embedding = r->embedding;
        return ASC_OK;
    }
    const char *slash = strchr(model, '/');
    if (slash == NULL || slash == model || slash[1] == '\0')
        return ASC_ENOTFOUND;
    const asc_provider_rt_t *p = asc_snapshot_provider(s, model, (size_t)(slash - model));
    if (p == NULL)
        return ASC_ENOTFOUND;
    out->rt = asc_route_direct(p, slash + 1, pool);
    out->direct = 1;
    return ASC_OK;
}

#include "route/resolve.h"

#include <string.h>

asc_err_t asc_route_resolve(const asc_snapshot_t *s, const char *model, asc_pool_t *pool,
                            asc_route_t *out)
{
    memset(out, 0, sizeof *out);
    out->public_name = model;
    const asc_model_rt_t *m = asc_snapshot_model(s, model);
    if (m != NULL) {
        out->provider = m->provider;
        out->upstream_model = m->upstream_model;
        out->embedding = m->embedding;
        return ASC_OK;
    }
    const char *slash = strchr(model, '/');
    if (slash == NULL || slash == model || slash[1] == '\0')
        return ASC_ENOTFOUND;
    const asc_provider_rt_t *p = asc_snapshot_provider(s, model, (size_t)(slash - model));
    if (p == NULL)
        return ASC_ENOTFOUND;
    out->provider = p;
    out->upstream_model = asc_pool_strndup(pool, slash + 1, strlen(slash + 1));
    out->direct = 1;
    return ASC_OK;
}

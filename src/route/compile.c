/* `models:` → the snapshot's routes (see route.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "route/route.h"

const asc_config_model_t asc_route_default_cfg = {
    .retries = 0,
    .backoff_ms = 100,
    .max_backoff_ms = 2000,
    .max_retry_after_ms = 10000,
    .timeout_ms = 120000,
    .breaker = {.failures = 5,
                .error_rate = 0.5,
                .min_requests = 20,
                .window_ms = 30000,
                .cooldown_ms = 10000},
    .guard = {.window_ms = 60000,
              .min_requests = 20,
              .max_error_rate_delta = 0.1,
              .max_ttft_p95_ratio = 2.0},
};

static uint64_t fnv(const char *s)
{
    return asc_route_hash(0, s, strlen(s));
}

static void target_free(asc_target_rt_t *t)
{
    free(t->label);
    asc_health_put(t->health);
    asc_guard_put(t->guard);
}

static int route_cmp(const void *a, const void *b)
{
    return strcmp(((const asc_route_rt_t *)a)->name, ((const asc_route_rt_t *)b)->name);
}

/* Fill t from its config; *skip when its provider is disabled. */
static asc_err_t target_build(const asc_snapshot_t *s, const char *route,
                              const asc_config_target_t *tc, asc_target_rt_t *t, int *skip)
{
    memset(t, 0, sizeof *t);
    *skip = 0;
    const asc_provider_rt_t *p = asc_snapshot_provider(s, tc->provider, strlen(tc->provider));
    if (p == NULL) {
        *skip = 1;
        return ASC_OK;
    }
    const asc_config_provider_t *pc = p->cfg;
    t->provider = p;
    t->model = tc->model;
    t->region = tc->region ? tc->region : pc->region;
    t->weight = tc->weight;
    t->canary = tc->canary;
    t->sample = tc->sample;
    t->connect_timeout_ms =
        tc->connect_timeout_ms ? tc->connect_timeout_ms : pc->connect_timeout_ms;
    t->first_byte_timeout_ms =
        tc->first_byte_timeout_ms ? tc->first_byte_timeout_ms : pc->first_byte_timeout_ms;
    t->idle_timeout_ms = tc->idle_timeout_ms ? tc->idle_timeout_ms : pc->idle_timeout_ms;
    t->total_timeout_ms = tc->total_timeout_ms ? tc->total_timeout_ms : pc->total_timeout_ms;
    size_t ll = strlen(p->name) + strlen(tc->model) + 2;
    t->label = malloc(ll);
    if (t->label == NULL)
        return ASC_ENOMEM;
    snprintf(t->label, ll, "%s/%s", p->name, tc->model);
    t->salt = fnv(t->label);
    t->health = asc_health_get(p->name, p->base_url, tc->model, 0);
    if (t->canary) {
        t->guard = asc_guard_get(route, t->label, tc->weight);
        if (t->guard == NULL)
            return ASC_ENOMEM;
    }
    return ASC_OK;
}

/* Targets of list tc[0..n) with an enabled provider into *out. */
static asc_err_t targets_build(const asc_snapshot_t *s, const char *route,
                               const asc_config_target_t *tc, size_t n, asc_target_rt_t **out,
                               size_t *nout)
{
    *nout = 0;
    *out = calloc(n ? n : 1, sizeof **out);
    if (*out == NULL)
        return ASC_ENOMEM;
    for (size_t i = 0; i < n; i++) {
        int skip = 0;
        asc_err_t e = target_build(s, route, &tc[i], &(*out)[*nout], &skip);
        if (e != ASC_OK) {
            target_free(&(*out)[*nout]);
            return e;
        }
        if (!skip)
            (*nout)++;
    }
    return ASC_OK;
}

static void route_free(asc_route_rt_t *r)
{
    for (size_t g = 0; g < r->ngroups; g++) {
        for (size_t i = 0; i < r->groups[g].n; i++)
            target_free(&r->groups[g].targets[i]);
        free(r->groups[g].targets);
    }
    free(r->groups);
    for (size_t i = 0; i < r->nshadows; i++)
        target_free(&r->shadows[i]);
    free(r->shadows);
}

static asc_err_t route_build(const asc_snapshot_t *s, const asc_config_model_t *mc,
                             asc_route_rt_t *r)
{
    memset(r, 0, sizeof *r);
    r->name = mc->name;
    r->cfg = mc;
    r->embedding = mc->type != NULL && strcmp(mc->type, "embedding") == 0;
    r->groups = calloc(mc->ngroups ? mc->ngroups : 1, sizeof *r->groups);
    if (r->groups == NULL)
        return ASC_ENOMEM;
    for (size_t g = 0; g < mc->ngroups; g++) {
        asc_group_rt_t *grp = &r->groups[r->ngroups];
        asc_err_t e = targets_build(s, mc->name, mc->groups[g].targets, mc->groups[g].ntargets,
                                    &grp->targets, &grp->n);
        if (e != ASC_OK) {
            r->ngroups++;
            return e;
        }
        if (grp->n == 0)
            free(grp->targets); /* every provider of the group is disabled */
        else
            r->ngroups++;
    }
    return targets_build(s, mc->name, mc->shadows, mc->nshadows, &r->shadows, &r->nshadows);
}

asc_err_t asc_route_compile_all(asc_snapshot_t *s, char *err, size_t errlen)
{
    const asc_config_t *cfg = s->cfg;
    s->routes = calloc(cfg->nmodels + 1, sizeof *s->routes);
    if (s->routes == NULL)
        return ASC_ENOMEM;
    for (size_t i = 0; i < cfg->nmodels; i++) {
        asc_route_rt_t *r = &s->routes[s->nroutes];
        asc_err_t e = route_build(s, &cfg->models[i], r);
        if (e != ASC_OK) {
            route_free(r);
            snprintf(err, errlen, "models.%s: out of memory", cfg->models[i].name);
            return e;
        }
        if (r->ngroups == 0) {
            route_free(r); /* its providers are disabled */
            continue;
        }
        s->nroutes++;
    }
    qsort(s->routes, s->nroutes, sizeof *s->routes, route_cmp);
    return ASC_OK;
}

void asc_route_free_all(asc_snapshot_t *s)
{
    for (size_t i = 0; i < s->nroutes; i++)
        route_free(&s->routes[i]);
    free(s->routes);
    s->routes = NULL;
    s->nroutes = 0;
}

asc_route_rt_t *asc_route_direct(const asc_provider_rt_t *p, const char *model, asc_pool_t *pool)
{
    asc_route_rt_t *r = asc_pool_alloc(pool, sizeof *r);
    asc_group_rt_t *g = asc_pool_alloc(pool, sizeof *g);
    asc_target_rt_t *t = asc_pool_alloc(pool, sizeof *t);
    memset(r, 0, sizeof *r);
    memset(t, 0, sizeof *t);
    const asc_config_provider_t *pc = p->cfg;
    size_t ml = strlen(model), pl = strlen(p->name);
    t->provider = p;
    t->model = asc_pool_strndup(pool, model, ml);
    t->region = pc->region;
    t->label = asc_pool_alloc(pool, pl + ml + 2);
    memcpy(t->label, p->name, pl);
    t->label[pl] = '/';
    memcpy(t->label + pl + 1, model, ml + 1);
    t->weight = 1;
    t->sample = 1;
    t->connect_timeout_ms = pc->connect_timeout_ms;
    t->first_byte_timeout_ms = pc->first_byte_timeout_ms;
    t->idle_timeout_ms = pc->idle_timeout_ms;
    t->total_timeout_ms = pc->total_timeout_ms;
    t->salt = fnv(t->label);
    /* Its breaker must outlive the request: a pinned object, found here
     * when one exists and created on the first failure (so that clients
     * sending made-up names cannot fill the table; see the proxy). */
    t->health = asc_health_find(p->name, p->base_url, model);
    g->targets = t;
    g->n = 1;
    r->name = t->label;
    r->cfg = &asc_route_default_cfg;
    r->direct = 1;
    r->groups = g;
    r->ngroups = 1;
    return r;
}

/* The canary guard applied to a route (see guard.h for the rules). */
#include "route/route.h"

#define MAX_BASELINE 64

int asc_route_guard_check(const asc_route_rt_t *r, uint64_t now_ms, const char **label, char *why,
                          size_t whylen)
{
    if (r->ngroups == 0)
        return 0;
    const asc_group_rt_t *g = &r->groups[0];
    asc_health_t *base[MAX_BASELINE];
    size_t nb = 0;
    for (size_t i = 0; i < g->n && nb < MAX_BASELINE; i++)
        if (!g->targets[i].canary && g->targets[i].health != NULL)
            base[nb++] = g->targets[i].health;
    for (size_t i = 0; i < g->n; i++) {
        const asc_target_rt_t *t = &g->targets[i];
        if (t->guard == NULL)
            continue;
        if (asc_guard_evaluate(t->guard, &r->cfg->guard, t->health, base, nb, now_ms, why,
                               whylen)) {
            *label = t->label;
            return 1;
        }
    }
    return 0;
}

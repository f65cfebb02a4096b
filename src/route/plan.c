/*
 * The attempt plan of one request (see route.h). Weighted choice without
 * replacement uses exponential keys (Efraimidis-Spirakis): each target gets
 * -ln(u)/weight and the plan follows increasing keys, so the first target
 * is chosen with probability weight/total and the rest follow in weighted
 * random order. For sticky routes u comes from a hash of (sticky key,
 * target) instead of the generator: the same user gets the same order, and
 * a change of weights or an unhealthy target moves only the users it must
 * (weighted rendezvous hashing).
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "route/route.h"

uint64_t asc_route_hash(uint64_t h, const void *p, size_t n)
{
    const unsigned char *s = p;
    if (h == 0)
        h = 1469598103934665603ULL;
    for (size_t i = 0; i < n; i++)
        h = (h ^ s[i]) * 1099511628211ULL;
    return h;
}

/* splitmix64's finaliser: spreads FNV's weak low bits */
static uint64_t mix(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static _Thread_local uint64_t t_rng[2];

static uint64_t next_random(void)
{
    if (t_rng[0] == 0 && t_rng[1] == 0) {
        randombytes_buf(t_rng, sizeof t_rng);
        t_rng[0] |= 1;
    }
    /* xorshift128+ */
    uint64_t s1 = t_rng[0];
    const uint64_t s0 = t_rng[1];
    t_rng[0] = s0;
    s1 ^= s1 << 23;
    t_rng[1] = s1 ^ s0 ^ (s1 >> 17) ^ (s0 >> 26);
    return t_rng[1] + s0;
}

/* (0, 1) from 64 bits */
static double unit(uint64_t x)
{
    return ((double)(x >> 11) + 0.5) * (1.0 / 9007199254740992.0);
}

double asc_route_random(void)
{
    return unit(next_random()) - 0.5 / 9007199254740992.0;
}

int asc_route_region_allowed(char *const *regions, size_t n, const char *region)
{
    if (regions == NULL)
        return 1;
    for (size_t i = 0; region != NULL && i < n; i++)
        if (strcmp(regions[i], region) == 0)
            return 1;
    return 0;
}

void asc_route_regions_text(char *const *regions, size_t n, char *out, size_t len)
{
    size_t o = 0;
    out[0] = '\0';
    for (size_t i = 0; i < n && o < len; i++) {
        int w = snprintf(out + o, len - o, "%s%s", i ? ", " : "", regions[i]);
        if (w < 0)
            break;
        o += (size_t)w;
    }
}

typedef struct {
    const asc_target_rt_t *t;
    double key;
} keyed_t;

void asc_route_plan(const asc_route_rt_t *r, const asc_plan_in_t *in, asc_pool_t *pool,
                    asc_plan_t *out)
{
    size_t total = 0;
    for (size_t g = 0; g < r->ngroups; g++)
        total += r->groups[g].n;
    memset(out, 0, sizeof *out);
    out->entries = asc_pool_alloc(pool, (total ? total : 1) * sizeof *out->entries);
    out->order = asc_pool_alloc(pool, (total ? total : 1) * sizeof *out->order);
    out->choice = total == 1 ? "single" : in->sticky ? "sticky" : "weighted";
    const asc_config_breaker_t *bc = &r->cfg->breaker;
    keyed_t keyed[64];
    char regions[200];
    if (in->regions != NULL)
        asc_route_regions_text(in->regions, in->nregions, regions, sizeof regions);
    for (size_t g = 0; g < r->ngroups; g++) {
        const asc_group_rt_t *grp = &r->groups[g];
        size_t first = out->n, nk = 0;
        double wsum = 0;
        for (size_t i = 0; i < grp->n; i++) {
            const asc_target_rt_t *t = &grp->targets[i];
            asc_plan_entry_t *e = &out->entries[out->n++];
            memset(e, 0, sizeof *e);
            e->t = t;
            e->group = (int)g;
            if (!asc_route_region_allowed(in->regions, in->nregions, t->region)) {
                if (t->region == NULL)
                    snprintf(e->why, sizeof e->why,
                             "residency: the target has no region; allowed: %.150s", regions);
                else
                    snprintf(e->why, sizeof e->why, "residency: region %.64s is not in %.100s",
                             t->region, regions);
                continue;
            }
            out->in_region++;
            uint64_t retry_in = 0;
            asc_breaker_state_t st = asc_health_state(t->health, bc, in->now_ms, &retry_in);
            if (st == ASC_BREAKER_OPEN) {
                snprintf(e->why, sizeof e->why, "circuit open: retried in %llu ms",
                         (unsigned long long)retry_in);
                if (out->retry_in_ms == 0 || retry_in < out->retry_in_ms)
                    out->retry_in_ms = retry_in;
                continue;
            }
            if (t->guard != NULL && asc_guard_rolled_back(t->guard)) {
                char reason[160];
                asc_guard_reason(t->guard, reason, sizeof reason);
                snprintf(e->why, sizeof e->why, "canary rolled back: %s", reason);
                continue;
            }
            e->kept = 1;
            if (st == ASC_BREAKER_HALF_OPEN)
                snprintf(e->why, sizeof e->why, "circuit half-open: this attempt is a probe");
            if (t->weight > 0) {
                double u = in->sticky ? unit(mix(in->sticky_hash ^ t->salt)) : unit(next_random());
                keyed[nk].t = t;
                keyed[nk].key = -log(u) / t->weight;
                nk++;
                wsum += t->weight;
            } else if (e->why[0] == '\0') {
                snprintf(e->why, sizeof e->why, "weight 0: tried after the weighted targets");
            }
        }
        /* insertion sort: groups are small */
        for (size_t i = 1; i < nk; i++) {
            keyed_t k = keyed[i];
            size_t j = i;
            while (j > 0 && keyed[j - 1].key > k.key) {
                keyed[j] = keyed[j - 1];
                j--;
            }
            keyed[j] = k;
        }
        for (size_t i = 0; i < nk; i++)
            out->order[out->norder++] = keyed[i].t;
        for (size_t i = first; i < out->n; i++) {
            asc_plan_entry_t *e = &out->entries[i];
            if (!e->kept)
                continue;
            if (e->t->weight > 0)
                e->share = e->t->weight / wsum;
            else
                out->order[out->norder++] = e->t;
        }
    }
}

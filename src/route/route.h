/*
 * Routes as the data plane sees them: compiled from `models:` into the
 * snapshot (compile.c), turned into an attempt plan per request (plan.c).
 *
 * A route is an ordered list of target groups: the primary group (weighted,
 * canary, sticky choice) and its fallbacks, plus shadow targets that get an
 * asynchronous copy of the request. Each target carries its provider,
 * upstream model, region, weight, timeouts and links to the shared health
 * (breaker, window stats) and canary-guard objects, which outlive reloads.
 */
#ifndef ASC_ROUTE_ROUTE_H
#define ASC_ROUTE_ROUTE_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "core/pool.h"
#include "gateway/snapshot.h"
#include "route/guard.h"
#include "route/health.h"

typedef struct asc_target_rt {
    const asc_provider_rt_t *provider;
    const char *model;  /* upstream model */
    const char *region; /* the target's, else its provider's; NULL = unknown */
    char *label;        /* "provider/model" */
    double weight;
    int canary;
    double sample; /* shadows: share of requests mirrored */
    uint64_t connect_timeout_ms, first_byte_timeout_ms, idle_timeout_ms, total_timeout_ms;
    asc_health_t *health; /* NULL = no breaker (registry full) */
    asc_guard_t *guard;   /* canaries only */
    uint64_t salt;        /* hash of the label, for sticky choice */
} asc_target_rt_t;

typedef struct {
    asc_target_rt_t *targets;
    size_t n;
} asc_group_rt_t;

typedef struct asc_route_rt {
    const char *name;
    const asc_config_model_t *cfg; /* retries, budget, breaker, guard, sticky */
    int embedding;
    int direct; /* "<provider>/<model>": built per request */
    asc_group_rt_t *groups;
    size_t ngroups;
    asc_target_rt_t *shadows;
    size_t nshadows;
} asc_route_rt_t;

/* Route options of a direct "<provider>/<model>" request and of a simple
 * {provider, model} entry: the config defaults. */
extern const asc_config_model_t asc_route_default_cfg;

/* Compile the snapshot's routes (s->routes, sorted by name) from s->cfg;
 * models whose every target names a disabled provider are left out. */
asc_err_t asc_route_compile_all(asc_snapshot_t *s, char *err, size_t errlen);
void asc_route_free_all(asc_snapshot_t *s);

/* A direct route to provider p for `model` (copied into pool). */
asc_route_rt_t *asc_route_direct(const asc_provider_rt_t *p, const char *model, asc_pool_t *pool);

/* ---- the attempt plan ---- */

typedef struct {
    const asc_target_rt_t *t;
    int group;
    int kept;      /* in the attempt order */
    double share;  /* chance of being chosen first in its group (kept, weighted) */
    char why[200]; /* why it was filtered, or a note on a kept one */
} asc_plan_entry_t;

typedef struct {
    asc_plan_entry_t *entries; /* every target, in group order */
    size_t n;
    const asc_target_rt_t **order; /* the attempt order */
    size_t norder;
    size_t in_region;     /* targets inside the allowed regions */
    uint64_t retry_in_ms; /* the soonest breaker cooldown among filtered ones */
    const char *choice;   /* "single", "weighted", "sticky" */
} asc_plan_t;

typedef struct {
    char *const *regions; /* allowed regions; NULL = anywhere */
    size_t nregions;
    int sticky;           /* sticky_hash is set */
    uint64_t sticky_hash; /* hash of (key, user or header) */
    uint64_t now_ms;
} asc_plan_in_t;

/* The plan for route r: residency and health filters, the weighted (or
 * sticky) order of the primary group, then each fallback group's. Never
 * fails (memory from pool). */
void asc_route_plan(const asc_route_rt_t *r, const asc_plan_in_t *in, asc_pool_t *pool,
                    asc_plan_t *out);

/* The canary guard of route r: judge each canary of the primary group
 * against the group's other targets (see guard.h). Returns 1 when a canary
 * was rolled back now (*label names it, why says why). */
int asc_route_guard_check(const asc_route_rt_t *r, uint64_t now_ms, const char **label, char *why,
                          size_t whylen);

/* 1 when region is in regions[0..n) (regions NULL = anywhere; a NULL
 * region is in no list). */
int asc_route_region_allowed(char *const *regions, size_t n, const char *region);
/* regions joined with ", " into out. */
void asc_route_regions_text(char *const *regions, size_t n, char *out, size_t len);

/* 64-bit hash for sticky keys (FNV-1a then a finaliser), chainable. */
uint64_t asc_route_hash(uint64_t h, const void *p, size_t n);

/* Uniform double in [0, 1) from the calling thread's generator. */
double asc_route_random(void);

#endif

/*
 * The canary guard: compares a canary target with the baseline (the other
 * targets of its group) over a sliding window and, past the route's
 * thresholds (error rate above the baseline's by more than a margin, or a
 * p95 time to first token above a multiple of the baseline's), rolls the
 * canary back: its effective weight becomes 0 until the config changes its
 * weight. The rollback is kept across reloads that leave the weight as it
 * was, so a reload does not resurrect a bad canary; raising the weight in
 * the config (the next step of a ramp) re-arms it.
 *
 * One object per (route, target), shared by all workers; thread-safe.
 */
#ifndef ASC_ROUTE_GUARD_H
#define ASC_ROUTE_GUARD_H

#include <stddef.h>
#include <stdint.h>

#include "config/config.h"
#include "route/health.h"

typedef struct asc_guard asc_guard_t;

/* The guard of target `label` in route `route`, with a reference. A
 * rollback recorded at another configured weight is cleared. NULL on
 * ENOMEM. */
asc_guard_t *asc_guard_get(const char *route, const char *label, double configured_weight);
void asc_guard_put(asc_guard_t *g);

/* 1 once rolled back (lock-free read). */
int asc_guard_rolled_back(const asc_guard_t *g);

/* Why it was rolled back (empty when it was not), copied into buf. */
void asc_guard_reason(asc_guard_t *g, char *buf, size_t len);

/* Judge the canary against the baseline now (at most every 50 ms; other
 * calls return 0 at once). Returns 1 when this call rolled it back; `why`
 * then holds the reason. */
int asc_guard_evaluate(asc_guard_t *g, const asc_config_guard_t *cfg, asc_health_t *canary,
                       asc_health_t *const *baseline, size_t nbaseline, uint64_t now_ms, char *why,
                       size_t whylen);

/* Number of rollbacks since start (all guards). */
uint64_t asc_guard_rollbacks(void);

#endif

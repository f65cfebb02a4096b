/*
 * Target health: one object per target (provider endpoint + upstream
 * model), shared by every route and every worker that uses it and kept
 * across config reloads, so a dead provider detected once costs no latency
 * anywhere. It holds
 *
 *  - a sliding window of attempt outcomes (1-second buckets, up to 120 s):
 *    attempts, failures and a log-scale histogram of time to first token;
 *  - a circuit breaker: closed -> open after N consecutive failures or an
 *    error rate over the window; open -> half-open after the cooldown, when
 *    one probe at a time may go through; a successful probe closes it, a
 *    failed one opens it again.
 *
 * Thread-safe (a mutex per object; the closed state is read without it).
 * The breaker's parameters come from the caller (the route's config), so a
 * reload that changes them applies at once.
 */
#ifndef ASC_ROUTE_HEALTH_H
#define ASC_ROUTE_HEALTH_H

#include <stddef.h>
#include <stdint.h>

#include "config/config.h"

#define ASC_HEALTH_WINDOW_MAX_S 120
#define ASC_HEALTH_TTFT_BINS 64

typedef struct asc_health asc_health_t;

typedef enum {
    ASC_BREAKER_CLOSED = 0,
    ASC_BREAKER_OPEN,
    ASC_BREAKER_HALF_OPEN,
} asc_breaker_state_t;

/* What one attempt taught about its target. */
typedef enum {
    ASC_HEALTH_OK = 0,
    ASC_HEALTH_FAIL,    /* the target failed (5xx, 429, overload, timeout, connection, ...) */
    ASC_HEALTH_NEUTRAL, /* says nothing about the target (client error, cancelled) */
} asc_health_outcome_t;

typedef struct {
    uint64_t attempts, failures, ttft_count;
    uint32_t ttft[ASC_HEALTH_TTFT_BINS];
} asc_health_stats_t;

/* The object for (provider, base_url, model), created on first use, with a
 * reference the caller drops with asc_health_put(). pinned = 1 keeps it for
 * the life of the process (direct <provider>/<model> addressing, whose
 * requests come and go); at most 1024 pinned objects exist, beyond that
 * NULL is returned (no breaker for that target). NULL also on ENOMEM. */
asc_health_t *asc_health_get(const char *provider, const char *base_url, const char *model,
                             int pinned);
void asc_health_put(asc_health_t *h);

/* The existing object for (provider, base_url, model), or NULL; creates
 * nothing (direct addressing looks up before its first failure pins one). */
asc_health_t *asc_health_find(const char *provider, const char *base_url, const char *model);

/* May an attempt go to this target now? 1 = yes (*probe = 1 when it took
 * the half-open probe slot, to be given back by asc_health_report() or
 * asc_health_abandon()); 0 = its breaker is open (*retry_in_ms = time left
 * in the cooldown). */
int asc_health_admit(asc_health_t *h, const asc_config_breaker_t *b, uint64_t now_ms, int *probe,
                     uint64_t *retry_in_ms);

/* The breaker's state as admit would see it, without taking a probe. */
asc_breaker_state_t asc_health_state(asc_health_t *h, const asc_config_breaker_t *b,
                                     uint64_t now_ms, uint64_t *retry_in_ms);

/* Record an attempt's outcome (ttft_ms: time to its first token, for OK).
 * Returns 1 when this report opened the breaker. */
int asc_health_report(asc_health_t *h, const asc_config_breaker_t *b, asc_health_outcome_t o,
                      int probe, uint64_t ttft_ms, uint64_t now_ms);

/* Give back a probe slot whose attempt ended without an outcome. */
void asc_health_abandon(asc_health_t *h);

/* Sum the last window_ms of outcomes into *out (added to what it holds). */
void asc_health_window(asc_health_t *h, uint64_t window_ms, uint64_t now_ms,
                       asc_health_stats_t *out);

/* The p-quantile (0..1) of a histogram, in ms (upper bound of its bin);
 * 0 when empty. */
double asc_health_quantile(const asc_health_stats_t *s, double p);

/* The label "provider/model" the object was created for (borrowed). */
const char *asc_health_label(const asc_health_t *h);

/* Forget every object's history (tests). */
void asc_health_reset_all(void);

#endif

#include "route/guard.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EVAL_EVERY_MS 50

struct asc_guard {
    struct asc_guard *next;
    char *key; /* route \n label */
    unsigned refs;
    pthread_mutex_t lock;
    atomic_int rolled_back;
    double weight_at_rollback;
    double configured_weight; /* as the newest snapshot says */
    uint64_t last_eval_ms;
    char reason[256];
};

static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
static asc_guard_t *g_list;
static atomic_uint_fast64_t g_rollbacks;

asc_guard_t *asc_guard_get(const char *route, const char *label, double configured_weight)
{
    size_t kl = strlen(route) + strlen(label) + 2;
    char *key = malloc(kl);
    if (key == NULL)
        return NULL;
    snprintf(key, kl, "%s\n%s", route, label);
    pthread_mutex_lock(&g_lock);
    asc_guard_t *g;
    for (g = g_list; g != NULL; g = g->next)
        if (strcmp(g->key, key) == 0)
            break;
    if (g != NULL) {
        free(key);
        g->refs++;
    } else {
        g = calloc(1, sizeof *g);
        if (g == NULL) {
            pthread_mutex_unlock(&g_lock);
            free(key);
            return NULL;
        }
        g->key = key;
        g->refs = 1;
        pthread_mutex_init(&g->lock, NULL);
        atomic_init(&g->rolled_back, 0);
        g->next = g_list;
        g_list = g;
    }
    pthread_mutex_lock(&g->lock);
    if (atomic_load(&g->rolled_back) && g->weight_at_rollback != configured_weight) {
        /* the operator set a new weight: the next step of the ramp */
        atomic_store(&g->rolled_back, 0);
        g->reason[0] = '\0';
    }
    g->configured_weight = configured_weight;
    pthread_mutex_unlock(&g->lock);
    pthread_mutex_unlock(&g_lock);
    return g;
}

void asc_guard_put(asc_guard_t *g)
{
    if (g == NULL)
        return;
    pthread_mutex_lock(&g_lock);
    if (--g->refs > 0) {
        pthread_mutex_unlock(&g_lock);
        return;
    }
    asc_guard_t **pp = &g_list;
    while (*pp != g)
        pp = &(*pp)->next;
    *pp = g->next;
    pthread_mutex_unlock(&g_lock);
    pthread_mutex_destroy(&g->lock);
    free(g->key);
    free(g);
}

int asc_guard_rolled_back(const asc_guard_t *g)
{
    return g != NULL && atomic_load_explicit(&g->rolled_back, memory_order_relaxed);
}

void asc_guard_reason(asc_guard_t *g, char *buf, size_t len)
{
    if (len == 0)
        return;
    buf[0] = '\0';
    if (g == NULL)
        return;
    pthread_mutex_lock(&g->lock);
    snprintf(buf, len, "%s", g->reason);
    pthread_mutex_unlock(&g->lock);
}

uint64_t asc_guard_rollbacks(void)
{
    return atomic_load(&g_rollbacks);
}

int asc_guard_evaluate(asc_guard_t *g, const asc_config_guard_t *cfg, asc_health_t *canary,
                       asc_health_t *const *baseline, size_t nbaseline, uint64_t now_ms, char *why,
                       size_t whylen)
{
    if (g == NULL || canary == NULL || asc_guard_rolled_back(g))
        return 0;
    pthread_mutex_lock(&g->lock);
    if (atomic_load(&g->rolled_back) || now_ms - g->last_eval_ms < EVAL_EVERY_MS) {
        pthread_mutex_unlock(&g->lock);
        return 0;
    }
    g->last_eval_ms = now_ms;
    pthread_mutex_unlock(&g->lock);

    asc_health_stats_t c, b;
    memset(&c, 0, sizeof c);
    memset(&b, 0, sizeof b);
    asc_health_window(canary, cfg->window_ms, now_ms, &c);
    if (c.attempts < cfg->min_requests)
        return 0;
    for (size_t i = 0; i < nbaseline; i++)
        if (baseline[i] != canary)
            asc_health_window(baseline[i], cfg->window_ms, now_ms, &b);
    double ce = (double)c.failures / (double)c.attempts;
    double be = b.attempts ? (double)b.failures / (double)b.attempts : 0.0;
    char reason[256] = "";
    if (ce - be > cfg->max_error_rate_delta) {
        snprintf(reason, sizeof reason,
                 "error rate %.1f%% over %llu attempts vs baseline %.1f%% over %llu (limit +%.1f "
                 "points, window %llu ms)",
                 ce * 100, (unsigned long long)c.attempts, be * 100, (unsigned long long)b.attempts,
                 cfg->max_error_rate_delta * 100, (unsigned long long)cfg->window_ms);
    } else if (cfg->max_ttft_p95_ratio > 0 && c.ttft_count >= cfg->min_requests &&
               b.ttft_count >= cfg->min_requests) {
        double cp = asc_health_quantile(&c, 0.95), bp = asc_health_quantile(&b, 0.95);
        if (bp > 0 && cp > cfg->max_ttft_p95_ratio * bp)
            snprintf(reason, sizeof reason,
                     "p95 time to first token %.0f ms vs baseline %.0f ms (limit %.2fx, window "
                     "%llu ms)",
                     cp, bp, cfg->max_ttft_p95_ratio, (unsigned long long)cfg->window_ms);
    }
    if (reason[0] == '\0')
        return 0;
    pthread_mutex_lock(&g->lock);
    int first = !atomic_load(&g->rolled_back);
    if (first) {
        snprintf(g->reason, sizeof g->reason, "%s", reason);
        g->weight_at_rollback = g->configured_weight;
        atomic_store(&g->rolled_back, 1);
        atomic_fetch_add(&g_rollbacks, 1);
    }
    pthread_mutex_unlock(&g->lock);
    if (first)
        snprintf(why, whylen, "%s", reason);
    return first;
}

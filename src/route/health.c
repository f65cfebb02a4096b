#include "route/health.h"

#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NBUCKETS 128 /* 1 s each: more than the longest window */
#define MAX_PINNED 1024
#define TABLE_SIZE 1024

typedef struct {
    uint64_t sec; /* which second this bucket holds */
    uint32_t attempts, failures;
    uint32_t ttft[ASC_HEALTH_TTFT_BINS];
} bucket_t;

struct asc_health {
    struct asc_health *next; /* hash chain */
    char *key;               /* provider \n base_url \n model */
    char *label;             /* provider/model */
    unsigned refs;           /* under g_lock */
    int pinned;
    pthread_mutex_t lock;
    atomic_int state; /* asc_breaker_state_t, readable without the lock */
    unsigned consecutive;
    uint64_t open_until_ms;
    int probe_out; /* a half-open probe is in flight */
    uint64_t probe_start_ms;
    bucket_t b[NBUCKETS];
};

static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
static asc_health_t *g_table[TABLE_SIZE];
static unsigned g_pinned;

static uint32_t hash_str(const char *s)
{
    uint32_t h = 2166136261u;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 16777619u;
    return h;
}

asc_health_t *asc_health_get(const char *provider, const char *base_url, const char *model,
                             int pinned)
{
    size_t kl = strlen(provider) + strlen(base_url) + strlen(model) + 3;
    char *key = malloc(kl);
    if (key == NULL)
        return NULL;
    snprintf(key, kl, "%s\n%s\n%s", provider, base_url, model);
    uint32_t slot = hash_str(key) % TABLE_SIZE;
    pthread_mutex_lock(&g_lock);
    asc_health_t *h;
    for (h = g_table[slot]; h != NULL; h = h->next)
        if (strcmp(h->key, key) == 0)
            break;
    if (h != NULL) {
        free(key);
        if (pinned && !h->pinned) {
            if (g_pinned >= MAX_PINNED) {
                pthread_mutex_unlock(&g_lock);
                return NULL;
            }
            h->pinned = 1;
            g_pinned++;
        }
        if (!pinned)
            h->refs++;
        pthread_mutex_unlock(&g_lock);
        return h;
    }
    if (pinned && g_pinned >= MAX_PINNED) {
        pthread_mutex_unlock(&g_lock);
        free(key);
        return NULL;
    }
    h = calloc(1, sizeof *h);
    size_t ll = strlen(provider) + strlen(model) + 2;
    char *label = malloc(ll);
    if (h == NULL || label == NULL) {
        pthread_mutex_unlock(&g_lock);
        free(h);
        free(label);
        free(key);
        return NULL;
    }
    snprintf(label, ll, "%s/%s", provider, model);
    h->key = key;
    h->label = label;
    pthread_mutex_init(&h->lock, NULL);
    atomic_init(&h->state, ASC_BREAKER_CLOSED);
    if (pinned) {
        h->pinned = 1;
        g_pinned++;
    } else {
        h->refs = 1;
    }
    h->next = g_table[slot];
    g_table[slot] = h;
    pthread_mutex_unlock(&g_lock);
    return h;
}

asc_health_t *asc_health_find(const char *provider, const char *base_url, const char *model)
{
    char key[2048];
    int n = snprintf(key, sizeof key, "%s\n%s\n%s", provider, base_url, model);
    if (n < 0 || (size_t)n >= sizeof key)
        return NULL;
    pthread_mutex_lock(&g_lock);
    asc_health_t *h = g_table[hash_str(key) % TABLE_SIZE];
    while (h != NULL && strcmp(h->key, key) != 0)
        h = h->next;
    pthread_mutex_unlock(&g_lock);
    return h != NULL && h->pinned ? h : NULL;
}

void asc_health_put(asc_health_t *h)
{
    if (h == NULL)
        return;
    pthread_mutex_lock(&g_lock);
    if (--h->refs > 0 || h->pinned) {
        pthread_mutex_unlock(&g_lock);
        return;
    }
    asc_health_t **pp = &g_table[hash_str(h->key) % TABLE_SIZE];
    while (*pp != h)
        pp = &(*pp)->next;
    *pp = h->next;
    pthread_mutex_unlock(&g_lock);
    pthread_mutex_destroy(&h->lock);
    free(h->key);
    free(h->label);
    free(h);
}

const char *asc_health_label(const asc_health_t *h)
{
    return h->label;
}

/* ---- breaker (h->lock held) ---- */

static void open_breaker(asc_health_t *h, const asc_config_breaker_t *b, uint64_t now_ms)
{
    atomic_store(&h->state, ASC_BREAKER_OPEN);
    h->open_until_ms = now_ms + b->cooldown_ms;
    h->probe_out = 0;
}

/* open -> half-open once the cooldown is over */
static asc_breaker_state_t current(asc_health_t *h, uint64_t now_ms, uint64_t *retry_in_ms)
{
    asc_breaker_state_t s = (asc_breaker_state_t)atomic_load(&h->state);
    if (s == ASC_BREAKER_OPEN && now_ms >= h->open_until_ms) {
        s = ASC_BREAKER_HALF_OPEN;
        atomic_store(&h->state, s);
        h->probe_out = 0;
    }
    if (retry_in_ms != NULL)
        *retry_in_ms = s == ASC_BREAKER_OPEN ? h->open_until_ms - now_ms : 0;
    return s;
}

int asc_health_admit(asc_health_t *h, const asc_config_breaker_t *b, uint64_t now_ms, int *probe,
                     uint64_t *retry_in_ms)
{
    *probe = 0;
    *retry_in_ms = 0;
    if (h == NULL || atomic_load_explicit(&h->state, memory_order_relaxed) == ASC_BREAKER_CLOSED)
        return 1;
    pthread_mutex_lock(&h->lock);
    int ok = 1;
    asc_breaker_state_t s = current(h, now_ms, retry_in_ms);
    if (s == ASC_BREAKER_OPEN) {
        ok = 0;
    } else if (s == ASC_BREAKER_HALF_OPEN) {
        /* one probe at a time; a probe that never reported (its request
         * vanished) is written off after a cooldown */
        if (h->probe_out && now_ms - h->probe_start_ms < b->cooldown_ms) {
            ok = 0;
            *retry_in_ms = h->probe_start_ms + b->cooldown_ms - now_ms;
        } else {
            h->probe_out = 1;
            h->probe_start_ms = now_ms;
            *probe = 1;
        }
    }
    pthread_mutex_unlock(&h->lock);
    return ok;
}

asc_breaker_state_t asc_health_state(asc_health_t *h, const asc_config_breaker_t *b,
                                     uint64_t now_ms, uint64_t *retry_in_ms)
{
    (void)b;
    if (retry_in_ms != NULL)
        *retry_in_ms = 0;
    if (h == NULL || atomic_load_explicit(&h->state, memory_order_relaxed) == ASC_BREAKER_CLOSED)
        return ASC_BREAKER_CLOSED;
    pthread_mutex_lock(&h->lock);
    asc_breaker_state_t s = current(h, now_ms, retry_in_ms);
    pthread_mutex_unlock(&h->lock);
    return s;
}

void asc_health_abandon(asc_health_t *h)
{
    if (h == NULL)
        return;
    pthread_mutex_lock(&h->lock);
    h->probe_out = 0;
    pthread_mutex_unlock(&h->lock);
}

/* ---- window ---- */

static int ttft_bin(uint64_t ms)
{
    /* bin i holds [2^(i/4) - 1, 2^((i+1)/4) - 1) ms; the last one the rest */
    double x = 4.0 * log2((double)ms + 1.0);
    int i = (int)x;
    return i >= ASC_HEALTH_TTFT_BINS ? ASC_HEALTH_TTFT_BINS - 1 : i;
}

static bucket_t *bucket_at(asc_health_t *h, uint64_t now_ms)
{
    uint64_t sec = now_ms / 1000;
    bucket_t *bk = &h->b[sec % NBUCKETS];
    if (bk->sec != sec) {
        memset(bk, 0, sizeof *bk);
        bk->sec = sec;
    }
    return bk;
}

static void window_locked(asc_health_t *h, uint64_t window_ms, uint64_t now_ms,
                          asc_health_stats_t *out)
{
    uint64_t now_s = now_ms / 1000;
    uint64_t span = (window_ms + 999) / 1000;
    if (span > ASC_HEALTH_WINDOW_MAX_S)
        span = ASC_HEALTH_WINDOW_MAX_S;
    for (uint64_t i = 0; i < span && i <= now_s; i++) {
        const bucket_t *bk = &h->b[(now_s - i) % NBUCKETS];
        if (bk->sec != now_s - i)
            continue;
        out->attempts += bk->attempts;
        out->failures += bk->failures;
        for (int j = 0; j < ASC_HEALTH_TTFT_BINS; j++) {
            out->ttft[j] += bk->ttft[j];
            out->ttft_count += bk->ttft[j];
        }
    }
}

int asc_health_report(asc_health_t *h, const asc_config_breaker_t *b, asc_health_outcome_t o,
                      int probe, uint64_t ttft_ms, uint64_t now_ms)
{
    if (h == NULL)
        return 0;
    int opened = 0;
    pthread_mutex_lock(&h->lock);
    if (probe)
        h->probe_out = 0;
    if (o == ASC_HEALTH_NEUTRAL) {
        pthread_mutex_unlock(&h->lock);
        return 0;
    }
    bucket_t *bk = bucket_at(h, now_ms);
    bk->attempts++;
    asc_breaker_state_t s = current(h, now_ms, NULL);
    if (o == ASC_HEALTH_OK) {
        bk->ttft[ttft_bin(ttft_ms)]++;
        h->consecutive = 0;
        if (s == ASC_BREAKER_HALF_OPEN && probe)
            atomic_store(&h->state, ASC_BREAKER_CLOSED);
    } else {
        bk->failures++;
        h->consecutive++;
        if (s == ASC_BREAKER_HALF_OPEN) {
            if (probe) {
                open_breaker(h, b, now_ms);
                opened = 1;
            }
        } else if (s == ASC_BREAKER_CLOSED) {
            int trip = b->failures > 0 && h->consecutive >= b->failures;
            if (!trip && b->error_rate > 0) {
                asc_health_stats_t w;
                memset(&w, 0, sizeof w);
                window_locked(h, b->window_ms, now_ms, &w);
                trip = w.attempts >= b->min_requests &&
                       (double)w.failures >= b->error_rate * (double)w.attempts;
            }
            if (trip) {
                open_breaker(h, b, now_ms);
                opened = 1;
            }
        }
    }
    pthread_mutex_unlock(&h->lock);
    return opened;
}

void asc_health_window(asc_health_t *h, uint64_t window_ms, uint64_t now_ms,
                       asc_health_stats_t *out)
{
    if (h == NULL)
        return;
    pthread_mutex_lock(&h->lock);
    window_locked(h, window_ms, now_ms, out);
    pthread_mutex_unlock(&h->lock);
}

double asc_health_quantile(const asc_health_stats_t *s, double p)
{
    if (s->ttft_count == 0)
        return 0;
    uint64_t want = (uint64_t)ceil(p * (double)s->ttft_count);
    if (want == 0)
        want = 1;
    uint64_t seen = 0;
    for (int i = 0; i < ASC_HEALTH_TTFT_BINS; i++) {
        seen += s->ttft[i];
        if (seen >= want)
            return exp2((double)(i + 1) / 4.0) - 1.0;
    }
    return exp2((double)ASC_HEALTH_TTFT_BINS / 4.0) - 1.0;
}

void asc_health_reset_all(void)
{
    pthread_mutex_lock(&g_lock);
    for (size_t i = 0; i < TABLE_SIZE; i++)
        for (asc_health_t *h = g_table[i]; h != NULL; h = h->next) {
            pthread_mutex_lock(&h->lock);
            memset(h->b, 0, sizeof h->b);
            h->consecutive = 0;
            h->probe_out = 0;
            atomic_store(&h->state, ASC_BREAKER_CLOSED);
            pthread_mutex_unlock(&h->lock);
        }
    pthread_mutex_unlock(&g_lock);
}

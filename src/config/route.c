/*
 * The `models:` section: each public model name and its route. The simple
 * form {provider, model} is a route of one target; the full form has a
 * primary group of weighted `targets`, ordered `fallbacks` (a target or a
 * group each), `shadow` targets, stickiness, retries, a time budget, a
 * circuit breaker and a canary guard. docs/routing.md is the user-facing
 * version of this file.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/check.h"
#include "config/config.h"
#include "config/internal.h"

#define MAX_TARGETS 64 /* per group, and shadows per route */
#define MAX_GROUPS 16  /* the primary group and its fallbacks */
#define WINDOW_MAX 120000ULL

static const char *const model_keys[] = {
    "provider", "model",        "type",       "targets",        "fallbacks",  "shadow",
    "sticky",   "retries",      "backoff_ms", "max_backoff_ms", "timeout_ms", "max_retry_after_ms",
    "breaker",  "canary_guard",
};
static const char *const target_keys[] = {
    "provider",
    "model",
    "region",
    "weight",
    "canary",
    "connect_timeout_ms",
    "first_byte_timeout_ms",
    "idle_timeout_ms",
    "total_timeout_ms",
};
static const char *const shadow_keys[] = {
    "provider",
    "model",
    "region",
    "sample",
    "connect_timeout_ms",
    "first_byte_timeout_ms",
    "idle_timeout_ms",
    "total_timeout_ms",
};
static const char *const breaker_keys[] = {"failures", "error_rate", "min_requests", "window_ms",
                                           "cooldown_ms"};
static const char *const guard_keys[] = {"window_ms", "min_requests", "max_error_rate_delta",
                                         "max_ttft_p95_ratio"};

/* The provider named by obj.provider: must be configured. */
static asc_err_t provider_ref(asc_cv_t *v, const cJSON *o, const char *path,
                              const asc_cv_named_t *provs, const asc_config_t *c, char **out)
{
    char fp[PATH_MAX_LEN];
    char q[ASC_CONFIG_QUOTE_MAX + 16];
    const char *str;
    asc_err_t e = asc_cv_req_str(v, o, path, "provider", &str);
    if (e != ASC_OK)
        return e;
    /* binary search (lower bound) in the sorted provider names */
    size_t lo = 0, hi = c->nproviders;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (strcmp(provs[mid].name, str) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo < c->nproviders && strcmp(provs[lo].name, str) == 0)
        return asc_cv_dup(v, str, out);
    asc_config_path_key(fp, sizeof fp, path, "provider");
    asc_config_quote(q, sizeof q, str);
    const char *best = NULL;
    size_t bestd = 3;
    for (size_t i = 0; i < c->nproviders && i < 1000; i++) {
        size_t d = asc_cv_edit_distance(str, c->providers[i].name);
        if (d < bestd) {
            bestd = d;
            best = c->providers[i].name;
        }
    }
    if (best != NULL)
        return asc_cv_fail(v, fp, "unknown provider %s (did you mean \"%s\"?)", q, best);
    return asc_cv_fail(v, fp, "unknown provider %s", q);
}

static asc_err_t upstream_model(asc_cv_t *v, const cJSON *o, const char *path, const char *dflt,
                                char **out)
{
    const char *str;
    asc_err_t e = asc_cv_opt_str(v, o, path, "model", &str);
    if (e != ASC_OK)
        return e;
    if (str != NULL && strlen(str) > 1024) {
        char fp[PATH_MAX_LEN];
        asc_config_path_key(fp, sizeof fp, path, "model");
        return asc_cv_fail(v, fp, "longer than 1024 characters");
    }
    return asc_cv_dup(v, str ? str : dflt, out);
}

static asc_err_t region_field(asc_cv_t *v, const cJSON *o, const char *path, char **out)
{
    const char *str;
    asc_err_t e = asc_cv_opt_str(v, o, path, "region", &str);
    if (e != ASC_OK || str == NULL)
        return e;
    if (strlen(str) > 64 || !asc_cv_is_printable(str, 0)) {
        char fp[PATH_MAX_LEN];
        asc_config_path_key(fp, sizeof fp, path, "region");
        return asc_cv_fail(v, fp, "must be at most 64 printable characters without spaces");
    }
    return asc_cv_dup(v, str, out);
}

static asc_err_t target_timeouts(asc_cv_t *v, const cJSON *o, const char *path,
                                 asc_config_target_t *t)
{
    asc_err_t e =
        asc_cv_opt_uint(v, o, path, "connect_timeout_ms", 1, TIMEOUT_MAX, &t->connect_timeout_ms);
    if (e == ASC_OK)
        e = asc_cv_opt_uint(v, o, path, "first_byte_timeout_ms", 1, TIMEOUT_MAX,
                            &t->first_byte_timeout_ms);
    if (e == ASC_OK)
        e = asc_cv_opt_uint(v, o, path, "idle_timeout_ms", 1, TIMEOUT_MAX, &t->idle_timeout_ms);
    if (e == ASC_OK)
        e = asc_cv_opt_uint(v, o, path, "total_timeout_ms", 1, TIMEOUT_MAX, &t->total_timeout_ms);
    return e;
}

/* One target (shadow = 1: a shadow target) at path. */
static asc_err_t target(asc_cv_t *v, const cJSON *o, const char *path, const char *public_name,
                        int shadow, const asc_cv_named_t *provs, const asc_config_t *c,
                        asc_config_target_t *t)
{
    asc_err_t e;
    t->weight = 1;
    t->sample = 1;
    if (!cJSON_IsObject(o))
        return asc_cv_fail(v, path, "must be a mapping with at least provider");
    if (shadow)
        e = asc_cv_check_keys(v, o, path, shadow_keys, sizeof shadow_keys / sizeof *shadow_keys);
    else
        e = asc_cv_check_keys(v, o, path, target_keys, sizeof target_keys / sizeof *target_keys);
    if (e == ASC_OK)
        e = provider_ref(v, o, path, provs, c, &t->provider);
    if (e == ASC_OK)
        e = upstream_model(v, o, path, public_name, &t->model);
    if (e == ASC_OK)
        e = region_field(v, o, path, &t->region);
    if (e == ASC_OK)
        e = asc_cv_opt_num(v, o, path, "weight", 0, 1e6, &t->weight);
    if (e == ASC_OK)
        e = asc_cv_opt_bool(v, o, path, "canary", &t->canary);
    if (e == ASC_OK)
        e = asc_cv_opt_num(v, o, path, "sample", 0, 1, &t->sample);
    if (e == ASC_OK)
        e = target_timeouts(v, o, path, t);
    return e;
}

/* A sequence of targets at path into *out. */
static asc_err_t target_list(asc_cv_t *v, const cJSON *arr, const char *path,
                             const char *public_name, int shadow, const asc_cv_named_t *provs,
                             const asc_config_t *c, asc_config_target_t **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    if (!cJSON_IsArray(arr) || cJSON_GetArraySize(arr) == 0)
        return asc_cv_fail(v, path, "must be a non-empty sequence of targets (- provider: ...)");
    size_t count = (size_t)cJSON_GetArraySize(arr);
    if (count > MAX_TARGETS)
        return asc_cv_fail(v, path, "at most %d targets", MAX_TARGETS);
    *out = calloc(count, sizeof **out);
    if (*out == NULL)
        return asc_cv_oom(v);
    const cJSON *el;
    cJSON_ArrayForEach(el, arr)
    {
        char ep[PATH_MAX_LEN];
        asc_config_path_index(ep, sizeof ep, path, *n);
        (*n)++;
        asc_err_t e = target(v, el, ep, public_name, shadow, provs, c, &(*out)[*n - 1]);
        if (e != ASC_OK)
            return e;
    }
    return ASC_OK;
}

/* A group's weights must give the weighted choice something to choose. */
static asc_err_t group_weights(asc_cv_t *v, const char *path, const asc_config_group_t *g)
{
    double sum = 0;
    for (size_t i = 0; i < g->ntargets; i++)
        sum += g->targets[i].weight;
    if (sum <= 0)
        return asc_cv_fail(v, path, "the weights of a group must not all be 0");
    return ASC_OK;
}

static asc_err_t fallbacks(asc_cv_t *v, const cJSON *arr, const char *path, const char *public_name,
                           const asc_cv_named_t *provs, const asc_config_t *c,
                           asc_config_model_t *m)
{
    if (!cJSON_IsArray(arr))
        return asc_cv_fail(v, path,
                           "must be a sequence of targets (- provider: ...) or groups "
                           "(- targets: [...])");
    size_t n = (size_t)cJSON_GetArraySize(arr);
    if (n + 1 > MAX_GROUPS)
        return asc_cv_fail(v, path, "at most %d fallbacks", MAX_GROUPS - 1);
    const cJSON *el;
    size_t i = 0;
    cJSON_ArrayForEach(el, arr)
    {
        char ep[PATH_MAX_LEN];
        asc_config_path_index(ep, sizeof ep, path, i++);
        asc_config_group_t *g = &m->groups[m->ngroups++];
        asc_err_t e;
        const cJSON *ts =
            cJSON_IsObject(el) ? cJSON_GetObjectItemCaseSensitive(el, "targets") : NULL;
        if (ts != NULL) {
            static const char *const group_keys[] = {"targets"};
            e = asc_cv_check_keys(v, el, ep, group_keys, 1);
            if (e == ASC_OK) {
                char tp[PATH_MAX_LEN];
                asc_config_path_key(tp, sizeof tp, ep, "targets");
                e = target_list(v, ts, tp, public_name, 0, provs, c, &g->targets, &g->ntargets);
            }
        } else {
            g->targets = calloc(1, sizeof *g->targets);
            if (g->targets == NULL)
                return asc_cv_oom(v);
            g->ntargets = 1;
            e = target(v, el, ep, public_name, 0, provs, c, &g->targets[0]);
        }
        if (e == ASC_OK)
            e = group_weights(v, ep, g);
        if (e != ASC_OK)
            return e;
    }
    return ASC_OK;
}

static asc_err_t sticky(asc_cv_t *v, const cJSON *o, const char *path, asc_config_model_t *m)
{
    const char *str;
    char fp[PATH_MAX_LEN];
    asc_err_t e = asc_cv_opt_str(v, o, path, "sticky", &str);
    if (e != ASC_OK || str == NULL)
        return e;
    asc_config_path_key(fp, sizeof fp, path, "sticky");
    if (strcmp(str, "none") == 0)
        m->sticky = ASC_STICKY_NONE;
    else if (strcmp(str, "user") == 0)
        m->sticky = ASC_STICKY_USER;
    else if (strcmp(str, "key") == 0)
        m->sticky = ASC_STICKY_KEY;
    else if (strncmp(str, "header:", 7) == 0) {
        const char *h = str + 7;
        size_t n = strlen(h);
        if (n == 0 || n > 128)
            return asc_cv_fail(v, fp, "header: must be followed by a header name");
        char *lower = malloc(n + 1);
        if (lower == NULL)
            return asc_cv_oom(v);
        for (size_t i = 0; i < n; i++) {
            char ch = h[i];
            int ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                     (ch >= '0' && ch <= '9') || ch == '-' || ch == '_';
            if (!ok) {
                free(lower);
                return asc_cv_fail(v, fp, "invalid header name (letters, digits, '-' and '_')");
            }
            lower[i] = (ch >= 'A' && ch <= 'Z') ? (char)(ch - 'A' + 'a') : ch;
        }
        lower[n] = '\0';
        m->sticky = ASC_STICKY_HEADER;
        m->sticky_header = lower;
    } else {
        char q[ASC_CONFIG_QUOTE_MAX + 16];
        asc_config_quote(q, sizeof q, str);
        return asc_cv_fail(v, fp, "unknown value %s (expected none, user, key or header:<name>)",
                           q);
    }
    return ASC_OK;
}

static asc_err_t breaker(asc_cv_t *v, const cJSON *o, const char *path, asc_config_breaker_t *b)
{
    b->failures = 5;
    b->error_rate = 0.5;
    b->min_requests = 20;
    b->window_ms = 30000;
    b->cooldown_ms = 10000;
    const cJSON *s = asc_cv_member(o, "breaker");
    if (s == NULL)
        return ASC_OK;
    char bp[PATH_MAX_LEN];
    asc_config_path_key(bp, sizeof bp, path, "breaker");
    if (!cJSON_IsObject(s))
        return asc_cv_fail(v, bp, "must be a mapping");
    asc_err_t e =
        asc_cv_check_keys(v, s, bp, breaker_keys, sizeof breaker_keys / sizeof *breaker_keys);
    uint64_t failures = b->failures, minr = b->min_requests;
    if (e == ASC_OK)
        e = asc_cv_opt_uint(v, s, bp, "failures", 0, 1000000, &failures);
    if (e == ASC_OK)
        e = asc_cv_opt_num(v, s, bp, "error_rate", 0, 1, &b->error_rate);
    if (e == ASC_OK)
        e = asc_cv_opt_uint(v, s, bp, "min_requests", 1, 1000000, &minr);
    if (e == ASC_OK)
        e = asc_cv_opt_uint(v, s, bp, "window_ms", 1000, WINDOW_MAX, &b->window_ms);
    if (e == ASC_OK)
        e = asc_cv_opt_uint(v, s, bp, "cooldown_ms", 1, TIMEOUT_MAX, &b->cooldown_ms);
    b->failures = (unsigned)failures;
    b->min_requests = (unsigned)minr;
    return e;
}

static asc_err_t guard(asc_cv_t *v, const cJSON *o, const char *path, asc_config_model_t *m)
{
    asc_config_guard_t *g = &m->guard;
    g->window_ms = 60000;
    g->min_requests = 20;
    g->max_error_rate_delta = 0.1;
    g->max_ttft_p95_ratio = 2.0;
    const cJSON *s = asc_cv_member(o, "canary_guard");
    if (s == NULL)
        return ASC_OK;
    m->has_guard = 1;
    char gp[PATH_MAX_LEN];
    asc_config_path_key(gp, sizeof gp, path, "canary_guard");
    if (!cJSON_IsObject(s))
        return asc_cv_fail(v, gp, "must be a mapping");
    asc_err_t e = asc_cv_check_keys(v, s, gp, guard_keys, sizeof guard_keys / sizeof *guard_keys);
    uint64_t minr = g->min_requests;
    if (e == ASC_OK)
        e = asc_cv_opt_uint(v, s, gp, "window_ms", 1000, WINDOW_MAX, &g->window_ms);
    if (e == ASC_OK)
        e = asc_cv_opt_uint(v, s, gp, "min_requests", 1, 1000000, &minr);
    if (e == ASC_OK)
        e = asc_cv_opt_num(v, s, gp, "max_error_rate_delta", 0, 2, &g->max_error_rate_delta);
    if (e == ASC_OK)
        e = asc_cv_opt_num(v, s, gp, "max_ttft_p95_ratio", 0, 1000, &g->max_ttft_p95_ratio);
    g->min_requests = (unsigned)minr;
    return e;
}

static asc_err_t route_options(asc_cv_t *v, const cJSON *o, const char *path, asc_config_model_t *m)
{
    uint64_t retries = 0;
    m->backoff_ms = 100;
    m->max_backoff_ms = 2000;
    m->max_retry_after_ms = 10000;
    m->timeout_ms = 120000;
    asc_err_t e = asc_cv_opt_uint(v, o, path, "retries", 0, 10, &retries);
    m->retries = (unsigned)retries;
    if (e == ASC_OK)
        e = asc_cv_opt_uint(v, o, path, "backoff_ms", 0, 60000, &m->backoff_ms);
    if (e == ASC_OK)
        e = asc_cv_opt_uint(v, o, path, "max_backoff_ms", 0, 600000, &m->max_backoff_ms);
    if (e == ASC_OK)
        e = asc_cv_opt_uint(v, o, path, "max_retry_after_ms", 0, 3600000, &m->max_retry_after_ms);
    if (e == ASC_OK)
        e = asc_cv_opt_uint(v, o, path, "timeout_ms", 1, TIMEOUT_MAX, &m->timeout_ms);
    if (e == ASC_OK)
        e = sticky(v, o, path, m);
    if (e == ASC_OK)
        e = breaker(v, o, path, &m->breaker);
    if (e == ASC_OK)
        e = guard(v, o, path, m);
    return e;
}

static asc_err_t validate_model(asc_cv_t *v, const cJSON *o, const asc_cv_named_t *provs,
                                const asc_config_t *c, asc_config_model_t *m)
{
    char path[PATH_MAX_LEN], fp[PATH_MAX_LEN];
    char q[ASC_CONFIG_QUOTE_MAX + 16];
    const char *name = o->string ? o->string : "";
    const char *str;
    size_t n = strlen(name);
    asc_err_t e;

    asc_config_path_key(path, sizeof path, "models", name);
    int name_ok = n > 0 && n <= 256;
    for (size_t i = 0; i < n && name_ok; i++)
        name_ok = (unsigned char)name[i] > 0x20 && (unsigned char)name[i] < 0x7f;
    if (!name_ok)
        return asc_cv_fail(
            v, path, "invalid model name: must be 1-256 printable ASCII characters without spaces");
    if (strchr(name, '/') != NULL)
        return asc_cv_fail(v, path,
                           "invalid model name: '/' is reserved for <provider>/<model> addressing");
    if (!cJSON_IsObject(o))
        return asc_cv_fail(v, path, "must be a mapping with provider or targets");
    e = asc_cv_check_keys(v, o, path, model_keys, sizeof model_keys / sizeof *model_keys);
    if (e != ASC_OK)
        return e;
    e = asc_cv_dup(v, name, &m->name);
    if (e != ASC_OK)
        return e;

    const cJSON *targets = asc_cv_member(o, "targets");
    const cJSON *fb = asc_cv_member(o, "fallbacks");
    m->groups = calloc(MAX_GROUPS, sizeof *m->groups);
    if (m->groups == NULL)
        return asc_cv_oom(v);
    asc_config_group_t *g0 = &m->groups[m->ngroups++];
    if (targets != NULL) {
        if (asc_cv_member(o, "provider") != NULL || asc_cv_member(o, "model") != NULL)
            return asc_cv_fail(v, path,
                               "give either provider/model (one target) or targets, not both");
        asc_config_path_key(fp, sizeof fp, path, "targets");
        e = target_list(v, targets, fp, name, 0, provs, c, &g0->targets, &g0->ntargets);
        if (e == ASC_OK)
            e = group_weights(v, fp, g0);
    } else {
        if (asc_cv_member(o, "provider") == NULL)
            return asc_cv_fail(v, path, "needs provider (one target) or targets");
        g0->targets = calloc(1, sizeof *g0->targets);
        if (g0->targets == NULL)
            return asc_cv_oom(v);
        g0->ntargets = 1;
        g0->targets[0].weight = 1;
        g0->targets[0].sample = 1;
        e = provider_ref(v, o, path, provs, c, &g0->targets[0].provider);
        if (e == ASC_OK)
            e = upstream_model(v, o, path, name, &g0->targets[0].model);
    }
    if (e == ASC_OK && fb != NULL) {
        asc_config_path_key(fp, sizeof fp, path, "fallbacks");
        e = fallbacks(v, fb, fp, name, provs, c, m);
    }
    const cJSON *sh = asc_cv_member(o, "shadow");
    if (e == ASC_OK && sh != NULL) {
        asc_config_path_key(fp, sizeof fp, path, "shadow");
        e = target_list(v, sh, fp, name, 1, provs, c, &m->shadows, &m->nshadows);
    }
    if (e != ASC_OK)
        return e;

    e = asc_cv_opt_str(v, o, path, "type", &str);
    if (e != ASC_OK)
        return e;
    if (str != NULL && strcmp(str, "chat") != 0 && strcmp(str, "embedding") != 0) {
        asc_config_path_key(fp, sizeof fp, path, "type");
        asc_config_quote(q, sizeof q, str);
        return asc_cv_fail(v, fp, "unknown type %s (expected chat or embedding)", q);
    }
    e = asc_cv_dup(v, str ? str : "chat", &m->type);
    if (e != ASC_OK)
        return e;
    e = route_options(v, o, path, m);
    if (e != ASC_OK)
        return e;
    if (m->max_backoff_ms < m->backoff_ms) {
        asc_config_path_key(fp, sizeof fp, path, "max_backoff_ms");
        return asc_cv_fail(v, fp, "must not be below backoff_ms");
    }
    size_t baseline = 0;
    for (size_t i = 0; i < m->groups[0].ntargets; i++)
        baseline += !m->groups[0].targets[i].canary;
    for (size_t gi = 0; gi < m->ngroups; gi++)
        for (size_t i = 0; i < m->groups[gi].ntargets; i++)
            if (m->groups[gi].targets[i].canary) {
                if (gi != 0 || baseline == 0) {
                    asc_config_path_key(fp, sizeof fp, path, gi ? "fallbacks" : "targets");
                    return asc_cv_fail(v, fp,
                                       "a canary must be in targets, next to at least one "
                                       "baseline target");
                }
                m->has_guard = 1;
            }
    return ASC_OK;
}

asc_err_t asc_config_validate_models(asc_cv_t *v, const cJSON *obj, const asc_cv_named_t *provs,
                                     asc_config_t *c)
{
    const cJSON *el;
    size_t n, i = 0;
    asc_cv_named_t *names = NULL;
    asc_err_t e = ASC_OK;

    if (obj == NULL || cJSON_IsNull(obj))
        return ASC_OK;
    if (cJSON_IsArray(obj))
        return asc_cv_fail(v, "models",
                           "must be a mapping of public model name to its route "
                           "({provider, model} or {targets, ...}), not a sequence");
    if (!cJSON_IsObject(obj))
        return asc_cv_fail(v, "models",
                           "must be a mapping of public model name to its route "
                           "({provider, model} or {targets, ...})");
    n = (size_t)cJSON_GetArraySize(obj);
    if (n == 0)
        return ASC_OK;
    c->models = calloc(n, sizeof *c->models);
    names = calloc(n, sizeof *names);
    if (c->models == NULL || names == NULL) {
        e = asc_cv_oom(v);
        goto out;
    }
    cJSON_ArrayForEach(el, obj)
    {
        c->nmodels++;
        e = validate_model(v, el, provs, c, &c->models[i]);
        if (e != ASC_OK)
            goto out;
        names[i].name = c->models[i].name;
        names[i].index = i;
        i++;
    }
    size_t first = 0;
    size_t d = asc_cv_find_duplicate(names, n, &first);
    if (d != (size_t)-1) {
        char path[PATH_MAX_LEN];
        asc_config_path_key(path, sizeof path, "models", c->models[d].name);
        e = asc_cv_fail(v, path, "duplicate model name");
    }
out:
    free(names);
    return e;
}

#include "gateway/routing.h"

#include <stdio.h>
#include <string.h>

#include "core/clock.h"
#include "gateway/errors.h"

/* The sticky key of the request under the route's rule; 0 when the rule
 * does not apply (no user, no header): then the choice is random. */
static int sticky_hash(asc_ctx_t *c, uint64_t *out)
{
    const asc_config_model_t *cfg = c->route.rt->cfg;
    const char *key = c->key->name;
    uint64_t h = asc_route_hash(0, key, strlen(key) + 1);
    const char *v = NULL;
    size_t n = 0;
    switch (cfg->sticky) {
    case ASC_STICKY_NONE: return 0;
    case ASC_STICKY_KEY: *out = h; return 1;
    case ASC_STICKY_HEADER: v = asc_http_req_header(c->req, cfg->sticky_header, &n); break;
    case ASC_STICKY_USER:
        if (c->canon_ready) {
            v = c->canon.user.p;
            n = c->canon.user.n;
        } else if (c->api.doc.ntok > 0) {
            int t = asc_json_obj_get(&c->api.doc, 0, "user");
            if (t < 0)
                t = asc_json_obj_get(&c->api.doc, 0, "safety_identifier");
            char *s = NULL;
            if (t >= 0 && asc_json_str_dup(&c->api.doc, t, c->req->pool, &s, &n) == ASC_OK)
                v = s;
        }
        break;
    }
    if (v == NULL || n == 0)
        return 0;
    *out = asc_route_hash(h, v, n);
    return 1;
}

int asc_gateway_plan(asc_ctx_t *c, int explain)
{
    const asc_key_rt_t *k = c->key;
    asc_plan_in_t in;
    memset(&in, 0, sizeof in);
    in.regions = k->regions;
    in.nregions = k->nregions;
    in.now_ms = asc_clock_ns() / 1000000u;
    in.sticky = sticky_hash(c, &in.sticky_hash);
    asc_route_plan(c->route.rt, &in, c->req->pool, &c->plan);
    const char *route = c->route.direct ? "direct" : c->route.rt->name;
    c->rec.route = route;
    if (explain)
        return 1;
    asc_record_add(&c->rec, ASC_REC_ROUTE, route, c->plan.choice, (int64_t)c->plan.norder, 0);
    for (size_t i = 0; i < c->plan.n; i++)
        if (!c->plan.entries[i].kept)
            asc_record_add(&c->rec, ASC_REC_SKIP, c->plan.entries[i].t->label,
                           c->plan.entries[i].why, 0, 0);
    char msg[600];
    if (c->plan.in_region == 0 && k->regions != NULL) {
        char regions[300];
        asc_route_regions_text(k->regions, k->nregions, regions, sizeof regions);
        snprintf(msg, sizeof msg,
                 "the model `%.200s` has no target in the regions this key may use (%s)", c->model,
                 regions);
        c->rec.error_code = "residency_violation";
        asc_record_add(&c->rec, ASC_REC_ERROR, "residency_violation", "route", 403, 0);
        asc_http_header_t rh = {
            "x-asc-route", 11, asc_pool_strndup(c->req->pool, route, strlen(route)), strlen(route)};
        asc_ctx_settle(c, 403);
        asc_gateway_error(c->req, c->errors, 403, "residency_violation", msg, &rh, 1);
        return 0;
    }
    if (c->plan.norder == 0) {
        uint64_t s = (c->plan.retry_in_ms + 999) / 1000;
        char ra[32];
        snprintf(ra, sizeof ra, "%llu", (unsigned long long)(s ? s : 1));
        char *v = asc_pool_strndup(c->req->pool, ra, strlen(ra));
        asc_http_header_t h[2] = {
            {"Retry-After", 11, v, strlen(v)},
            {"x-asc-route", 11, asc_pool_strndup(c->req->pool, route, strlen(route)),
             strlen(route)},
        };
        snprintf(msg, sizeof msg,
                 "no healthy target for the model `%.200s`: every eligible target's circuit is "
                 "open or its canary was rolled back",
                 c->model);
        c->rec.error_code = "no_healthy_target";
        asc_record_add(&c->rec, ASC_REC_ERROR, "no_healthy_target", "route", 503, 0);
        asc_ctx_settle(c, 503);
        asc_gateway_error(c->req, c->errors, 503, "no_healthy_target", msg, h, 2);
        return 0;
    }
    return 1;
}

/* ---- explain ---- */

static void put_str(asc_buf_t *b, const char *name, const char *v, int comma)
{
    asc_buf_printf(b, "%s\"%s\":", comma ? "," : "", name);
    if (v == NULL) {
        asc_buf_puts(b, "null");
        return;
    }
    asc_buf_putc(b, '"');
    asc_buf_json_str(b, v, strlen(v));
    asc_buf_putc(b, '"');
}

static void put_target(asc_buf_t *b, const asc_target_rt_t *t)
{
    put_str(b, "target", t->label, 0);
    put_str(b, "provider", t->provider->name, 1);
    put_str(b, "model", t->model, 1);
    put_str(b, "region", t->region, 1);
}

static const char *circuit_name(asc_breaker_state_t s)
{
    switch (s) {
    case ASC_BREAKER_OPEN: return "open";
    case ASC_BREAKER_HALF_OPEN: return "half_open";
    default: return "closed";
    }
}

void asc_gateway_explain_json(asc_ctx_t *c, asc_buf_t *b)
{
    const asc_route_rt_t *r = c->route.rt;
    const asc_config_model_t *cfg = r->cfg;
    const asc_key_rt_t *k = c->key;
    const asc_plan_t *p = &c->plan;
    uint64_t now = asc_clock_ns() / 1000000u;
    static const char *const sticky[] = {"none", "user", "key", "header"};

    asc_buf_puts(b, "{\"object\":\"route.explain\"");
    put_str(b, "model", c->model, 1);
    put_str(b, "route", c->route.direct ? "direct" : r->name, 1);
    put_str(b, "type", r->embedding ? "embedding" : "chat", 1);
    put_str(b, "choice", p->choice, 1);
    asc_buf_printf(b, ",\"sticky\":{\"by\":\"%s\"", sticky[cfg->sticky]);
    if (cfg->sticky == ASC_STICKY_HEADER)
        put_str(b, "header", cfg->sticky_header, 1);
    asc_buf_printf(b, ",\"applied\":%s}", strcmp(p->choice, "sticky") == 0 ? "true" : "false");
    asc_buf_puts(b, ",\"allowed_regions\":");
    if (k->regions == NULL) {
        asc_buf_puts(b, "null");
    } else {
        asc_buf_putc(b, '[');
        for (size_t i = 0; i < k->nregions; i++) {
            asc_buf_puts(b, i ? ",\"" : "\"");
            asc_buf_json_str(b, k->regions[i], strlen(k->regions[i]));
            asc_buf_putc(b, '"');
        }
        asc_buf_putc(b, ']');
    }
    asc_buf_printf(
        b,
        ",\"retries\":%u,\"backoff_ms\":%llu,\"max_backoff_ms\":%llu,"
        "\"max_retry_after_ms\":%llu,\"timeout_ms\":%llu",
        cfg->retries, (unsigned long long)cfg->backoff_ms, (unsigned long long)cfg->max_backoff_ms,
        (unsigned long long)cfg->max_retry_after_ms, (unsigned long long)cfg->timeout_ms);
    /* what the request would get before any provider answers */
    if (p->in_region == 0 && k->regions != NULL)
        asc_buf_puts(b, ",\"outcome\":{\"status\":403,\"code\":\"residency_violation\"}");
    else if (p->norder == 0)
        asc_buf_puts(b, ",\"outcome\":{\"status\":503,\"code\":\"no_healthy_target\"}");
    else
        asc_buf_puts(b, ",\"outcome\":{\"status\":null,\"code\":null}");

    asc_buf_puts(b, ",\"plan\":[");
    for (size_t i = 0; i < p->norder; i++) {
        const asc_target_rt_t *t = p->order[i];
        int group = 0;
        for (size_t j = 0; j < p->n; j++)
            if (p->entries[j].t == t)
                group = p->entries[j].group;
        asc_buf_printf(b, "%s{\"attempt\":%zu,", i ? "," : "", i + 1);
        put_target(b, t);
        asc_buf_printf(b, ",\"group\":%d}", group);
    }
    asc_buf_puts(b, "],\"targets\":[");
    for (size_t i = 0; i < p->n; i++) {
        const asc_plan_entry_t *e = &p->entries[i];
        const asc_target_rt_t *t = e->t;
        uint64_t retry_in = 0;
        asc_breaker_state_t st = asc_health_state(t->health, &cfg->breaker, now, &retry_in);
        asc_buf_puts(b, i ? ",{" : "{");
        put_target(b, t);
        double eff = t->guard != NULL && asc_guard_rolled_back(t->guard) ? 0 : t->weight;
        asc_buf_printf(b,
                       ",\"group\":%d,\"weight\":%g,\"effective_weight\":%g,\"canary\":%s,"
                       "\"share\":%.6f,\"circuit\":\"%s\",\"kept\":%s",
                       e->group, t->weight, eff, t->canary ? "true" : "false", e->share,
                       circuit_name(st), e->kept ? "true" : "false");
        put_str(b, "why", e->why[0] ? e->why : NULL, 1);
        asc_buf_putc(b, '}');
    }
    asc_buf_puts(b, "],\"shadows\":[");
    for (size_t i = 0; i < r->nshadows; i++) {
        const asc_target_rt_t *t = &r->shadows[i];
        int ok = asc_route_region_allowed(k->regions, k->nregions, t->region);
        asc_buf_puts(b, i ? ",{" : "{");
        put_target(b, t);
        asc_buf_printf(b, ",\"sample\":%g,\"kept\":%s", t->sample, ok ? "true" : "false");
        put_str(b, "why", ok ? NULL : "residency: outside the allowed regions", 1);
        asc_buf_putc(b, '}');
    }
    asc_buf_printf(b, "],\"canary_rollbacks_total\":%llu}",
                   (unsigned long long)asc_guard_rollbacks());
}

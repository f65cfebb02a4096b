/* src/route: the attempt plan (weights, stickiness, residency, health
 * filters, fallback order), the circuit breaker and the canary guard. The
 * statistical checks use tolerances of 5 standard deviations of the
 * binomial distribution: a correct implementation fails them about once in
 * 3.5 million runs, a wrong share of a few points fails them always. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "gateway/snapshot.h"
#include "route/route.h"

static asc_snapshot_t *build(const char *yaml)
{
    asc_config_t *cfg = NULL;
    char err[512];
    if (asc_config_load_text(yaml, strlen(yaml), "t", &cfg, err, sizeof err) != ASC_OK)
        fail_msg("config: %s", err);
    asc_snapshot_ctx_t ctx = {.data_dir = "/nonexistent", .mock_port = 1};
    asc_snapshot_t *s = NULL;
    if (asc_snapshot_build(cfg, &ctx, 1, &s, err, sizeof err) != ASC_OK)
        fail_msg("snapshot: %s", err);
    return s;
}

#define PROVIDERS                                                                                  \
    "providers:\n"                                                                                 \
    "  - {name: a, kind: openai-compatible, base_url: 'http://127.0.0.1:1/v1', region: eu}\n"      \
    "  - {name: b, kind: openai-compatible, base_url: 'http://127.0.0.1:2/v1', region: us}\n"      \
    "  - {name: c, kind: openai-compatible, base_url: 'http://127.0.0.1:3/v1'}\n"

/* |observed - n p| within 5 binomial standard deviations */
static void assert_share(size_t observed, size_t n, double p)
{
    double sd = sqrt((double)n * p * (1 - p));
    double d = fabs((double)observed - (double)n * p);
    if (d > 5 * sd + 1)
        fail_msg("observed %zu of %zu, expected %.1f (p=%.4f, sd %.1f)", observed, n, (double)n * p,
                 p, sd);
}

static size_t index_of(const asc_route_rt_t *r, const asc_target_rt_t *t)
{
    for (size_t i = 0; i < r->groups[0].n; i++)
        if (&r->groups[0].targets[i] == t)
            return i;
    return (size_t)-1;
}

static void test_weighted_split(void **state)
{
    (void)state;
    asc_snapshot_t *s = build(PROVIDERS "models:\n  m:\n    targets:\n"
                                        "      - {provider: a, model: x, weight: 70}\n"
                                        "      - {provider: a, model: y, weight: 28}\n"
                                        "      - {provider: a, model: z, weight: 2}\n"
                                        "    fallbacks: [{provider: b, model: f}]\n");
    const asc_route_rt_t *r = asc_snapshot_route(s, "m");
    assert_non_null(r);
    asc_pool_t *pool = asc_pool_create(0);
    size_t n = 100000, first[3] = {0}, second_given_x[3] = {0}, nx = 0;
    asc_plan_in_t in = {.now_ms = 1000};
    for (size_t i = 0; i < n; i++) {
        asc_plan_t p;
        asc_route_plan(r, &in, pool, &p);
        assert_int_equal(p.norder, 4);
        assert_string_equal(p.choice, "weighted");
        /* every target once, the fallback last */
        assert_ptr_equal(p.order[3], &r->groups[1].targets[0]);
        assert_true(p.order[0] != p.order[1] && p.order[1] != p.order[2] &&
                    p.order[0] != p.order[2]);
        first[index_of(r, p.order[0])]++;
        if (index_of(r, p.order[0]) == 0) {
            nx++;
            second_given_x[index_of(r, p.order[1])]++;
        }
        asc_pool_reset(pool);
    }
    assert_share(first[0], n, 0.70);
    assert_share(first[1], n, 0.28);
    assert_share(first[2], n, 0.02);
    /* the rest follow by weight too: after x, y comes second 28/30 of the time */
    assert_int_equal(second_given_x[0], 0);
    assert_share(second_given_x[1], nx, 28.0 / 30.0);
    asc_pool_destroy(pool);
    asc_snapshot_unref(s);
}

static void test_sticky(void **state)
{
    (void)state;
    asc_snapshot_t *s = build(PROVIDERS "models:\n  m:\n    sticky: user\n    targets:\n"
                                        "      - {provider: a, model: base, weight: 90}\n"
                                        "      - {provider: a, model: canary, weight: 10}\n");
    asc_snapshot_t *s2 = build(PROVIDERS "models:\n  m:\n    sticky: user\n    targets:\n"
                                         "      - {provider: a, model: base, weight: 75}\n"
                                         "      - {provider: a, model: canary, weight: 25}\n");
    const asc_route_rt_t *r = asc_snapshot_route(s, "m");
    const asc_route_rt_t *r2 = asc_snapshot_route(s2, "m");
    asc_pool_t *pool = asc_pool_create(0);
    size_t users = 20000, on_canary = 0, on_canary2 = 0, moved_back = 0;
    for (size_t u = 0; u < users; u++) {
        char name[32];
        int nl = snprintf(name, sizeof name, "user-%zu", u);
        asc_plan_in_t in = {.now_ms = 1000, .sticky = 1};
        in.sticky_hash = asc_route_hash(asc_route_hash(0, "key", 4), name, (size_t)nl);
        asc_plan_t p, q, p2;
        asc_route_plan(r, &in, pool, &p);
        asc_route_plan(r, &in, pool, &q);
        asc_route_plan(r2, &in, pool, &p2);
        assert_string_equal(p.choice, "sticky");
        /* the same user always gets the same variant */
        assert_ptr_equal(p.order[0], q.order[0]);
        int c1 = index_of(r, p.order[0]) == 1;
        int c2 = strcmp(p2.order[0]->model, "canary") == 0;
        on_canary += (size_t)c1;
        on_canary2 += (size_t)c2;
        /* raising the canary's weight only moves users onto it */
        if (c1 && !c2)
            moved_back++;
        asc_pool_reset(pool);
    }
    assert_share(on_canary, users, 0.10);
    assert_share(on_canary2, users, 0.25);
    assert_int_equal(moved_back, 0);
    asc_pool_destroy(pool);
    asc_snapshot_unref(s);
    asc_snapshot_unref(s2);
}

static void test_residency_and_order(void **state)
{
    (void)state;
    asc_snapshot_t *s = build(PROVIDERS "models:\n  m:\n    targets:\n"
                                        "      - {provider: a, model: x}\n"
                                        "      - {provider: b, model: y}\n"
                                        "      - {provider: a, model: standby, weight: 0}\n"
                                        "    fallbacks:\n"
                                        "      - {provider: b, model: f1}\n"
                                        "      - {provider: c, model: f2}\n"
                                        "      - {provider: a, model: f3}\n");
    const asc_route_rt_t *r = asc_snapshot_route(s, "m");
    asc_pool_t *pool = asc_pool_create(0);
    char *eu[] = {"eu"};
    asc_plan_in_t in = {.now_ms = 1000, .regions = eu, .nregions = 1};
    asc_plan_t p;
    asc_route_plan(r, &in, pool, &p);
    /* only eu targets, weighted before weight 0, groups in order */
    assert_int_equal(p.norder, 3);
    assert_string_equal(p.order[0]->label, "a/x");
    assert_string_equal(p.order[1]->label, "a/standby");
    assert_string_equal(p.order[2]->label, "a/f3");
    assert_int_equal(p.in_region, 3);
    assert_int_equal(p.n, 6);
    assert_false(p.entries[1].kept);
    assert_string_equal(p.entries[1].why, "residency: region us is not in eu");
    assert_string_equal(p.entries[4].why, "residency: the target has no region; allowed: eu");
    assert_string_equal(p.entries[2].why, "weight 0: tried after the weighted targets");
    assert_true(p.entries[0].share == 1.0);

    char *ap[] = {"ap"};
    in.regions = ap;
    asc_route_plan(r, &in, pool, &p);
    assert_int_equal(p.norder, 0);
    assert_int_equal(p.in_region, 0);
    asc_pool_destroy(pool);
    asc_snapshot_unref(s);
}

static const asc_config_breaker_t k_breaker = {
    .failures = 3, .error_rate = 0.5, .min_requests = 10, .window_ms = 10000, .cooldown_ms = 1000};

static void test_breaker(void **state)
{
    (void)state;
    asc_health_t *h = asc_health_get("p", "http://x", "m-breaker", 0);
    assert_non_null(h);
    int probe = 0;
    uint64_t retry = 0, t = 5000000;
    /* two failures and a success: the count starts again */
    asc_health_report(h, &k_breaker, ASC_HEALTH_FAIL, 0, 0, t);
    asc_health_report(h, &k_breaker, ASC_HEALTH_FAIL, 0, 0, t);
    asc_health_report(h, &k_breaker, ASC_HEALTH_OK, 0, 5, t);
    asc_health_report(h, &k_breaker, ASC_HEALTH_FAIL, 0, 0, t);
    /* client errors say nothing about the target */
    asc_health_report(h, &k_breaker, ASC_HEALTH_NEUTRAL, 0, 0, t);
    asc_health_report(h, &k_breaker, ASC_HEALTH_FAIL, 0, 0, t);
    assert_int_equal(asc_health_state(h, &k_breaker, t, NULL), ASC_BREAKER_CLOSED);
    assert_int_equal(asc_health_report(h, &k_breaker, ASC_HEALTH_FAIL, 0, 0, t), 1);
    assert_int_equal(asc_health_state(h, &k_breaker, t + 10, &retry), ASC_BREAKER_OPEN);
    assert_int_equal(retry, 990);
    assert_false(asc_health_admit(h, &k_breaker, t + 500, &probe, &retry));
    assert_int_equal(retry, 500);
    /* after the cooldown: one probe at a time */
    assert_true(asc_health_admit(h, &k_breaker, t + 1000, &probe, &retry));
    assert_true(probe);
    assert_false(asc_health_admit(h, &k_breaker, t + 1001, &probe, &retry));
    /* the probe fails: open again */
    assert_int_equal(asc_health_report(h, &k_breaker, ASC_HEALTH_FAIL, 1, 0, t + 1100), 1);
    assert_false(asc_health_admit(h, &k_breaker, t + 1500, &probe, &retry));
    /* a probe whose request vanished is given back */
    assert_true(asc_health_admit(h, &k_breaker, t + 2100, &probe, &retry));
    assert_true(probe);
    asc_health_abandon(h);
    assert_true(asc_health_admit(h, &k_breaker, t + 2101, &probe, &retry));
    assert_true(probe);
    /* the probe succeeds: closed */
    asc_health_report(h, &k_breaker, ASC_HEALTH_OK, 1, 10, t + 2200);
    assert_int_equal(asc_health_state(h, &k_breaker, t + 2200, NULL), ASC_BREAKER_CLOSED);
    assert_true(asc_health_admit(h, &k_breaker, t + 2201, &probe, &retry));
    assert_false(probe);
    asc_health_put(h);

    /* an error rate over the window opens it without consecutive failures */
    h = asc_health_get("p", "http://x", "m-rate", 0);
    t = 9000000;
    for (int i = 0; i < 4; i++) {
        assert_int_equal(asc_health_report(h, &k_breaker, ASC_HEALTH_OK, 0, 5, t), 0);
        assert_int_equal(asc_health_report(h, &k_breaker, ASC_HEALTH_FAIL, 0, 0, t), 0);
    }
    asc_health_report(h, &k_breaker, ASC_HEALTH_OK, 0, 5, t);
    /* 10 attempts, 5 failures = 50% */
    assert_int_equal(asc_health_report(h, &k_breaker, ASC_HEALTH_FAIL, 0, 0, t), 1);
    /* outcomes older than the window are forgotten */
    asc_health_stats_t w;
    memset(&w, 0, sizeof w);
    asc_health_window(h, 10000, t, &w);
    assert_int_equal(w.attempts, 10);
    assert_int_equal(w.failures, 5);
    memset(&w, 0, sizeof w);
    asc_health_window(h, 10000, t + 11000, &w);
    assert_int_equal(w.attempts, 0);
    asc_health_put(h);
}

static void test_quantile(void **state)
{
    (void)state;
    asc_health_t *h = asc_health_get("p", "http://x", "m-q", 0);
    uint64_t t = 7000000;
    for (int i = 1; i <= 100; i++)
        asc_health_report(h, &k_breaker, ASC_HEALTH_OK, 0, (uint64_t)i * 10, t);
    asc_health_stats_t w;
    memset(&w, 0, sizeof w);
    asc_health_window(h, 5000, t, &w);
    assert_int_equal(w.ttft_count, 100);
    double p95 = asc_health_quantile(&w, 0.95), p50 = asc_health_quantile(&w, 0.5);
    /* the bins are 19% wide: within a bin of the true values (950, 500) */
    assert_true(p95 >= 950 && p95 <= 950 * 1.19 + 1);
    assert_true(p50 >= 500 && p50 <= 500 * 1.19 + 1);
    asc_health_put(h);
}

static void test_canary_guard(void **state)
{
    (void)state;
    asc_snapshot_t *s = build(PROVIDERS "models:\n  g:\n    targets:\n"
                                        "      - {provider: a, model: gbase, weight: 90}\n"
                                        "      - {provider: a, model: gcanary, weight: 10, canary: "
                                        "true}\n"
                                        "    canary_guard: {window_ms: 10000, min_requests: 20}\n");
    const asc_route_rt_t *r = asc_snapshot_route(s, "g");
    const asc_target_rt_t *base = &r->groups[0].targets[0], *can = &r->groups[0].targets[1];
    const asc_config_breaker_t off = {.cooldown_ms = 1000, .window_ms = 10000};
    uint64_t t = 11000000;
    const char *label = NULL;
    char why[256];
    for (int i = 0; i < 200; i++)
        asc_health_report(base->health, &off, ASC_HEALTH_OK, 0, 20, t);
    /* 19 canary attempts, 6 failed: not enough to judge yet */
    for (int i = 0; i < 19; i++)
        asc_health_report(can->health, &off, i % 3 == 0 ? ASC_HEALTH_FAIL : ASC_HEALTH_OK, 0, 20,
                          t);
    assert_int_equal(asc_route_guard_check(r, t, &label, why, sizeof why), 0);
    asc_health_report(can->health, &off, ASC_HEALTH_OK, 0, 20, t);
    /* evaluated at most every 50 ms */
    assert_int_equal(asc_route_guard_check(r, t + 10, &label, why, sizeof why), 0);
    assert_int_equal(asc_route_guard_check(r, t + 60, &label, why, sizeof why), 1);
    assert_string_equal(label, "a/gcanary");
    assert_non_null(strstr(why, "error rate 35.0% over 20 attempts vs baseline 0.0% over 200"));
    assert_true(asc_guard_rolled_back(can->guard));
    /* the plan leaves it out and says why */
    asc_pool_t *pool = asc_pool_create(0);
    asc_plan_in_t in = {.now_ms = t};
    asc_plan_t p;
    asc_route_plan(r, &in, pool, &p);
    assert_int_equal(p.norder, 1);
    assert_ptr_equal(p.order[0], base);
    assert_non_null(strstr(p.entries[1].why, "canary rolled back: error rate 35.0%"));
    asc_pool_destroy(pool);
    /* a reload with the same weight keeps it rolled back ... */
    asc_snapshot_t *s2 =
        build(PROVIDERS "models:\n  g:\n    targets:\n"
                        "      - {provider: a, model: gbase, weight: 90}\n"
                        "      - {provider: a, model: gcanary, weight: 10, canary: true}\n");
    assert_true(asc_guard_rolled_back(asc_snapshot_route(s2, "g")->groups[0].targets[1].guard));
    asc_snapshot_unref(s2);
    /* ... a new weight (the next step of the ramp) re-arms it */
    s2 = build(PROVIDERS "models:\n  g:\n    targets:\n"
                         "      - {provider: a, model: gbase, weight: 95}\n"
                         "      - {provider: a, model: gcanary, weight: 5, canary: true}\n");
    assert_false(asc_guard_rolled_back(asc_snapshot_route(s2, "g")->groups[0].targets[1].guard));
    asc_snapshot_unref(s2);
    asc_snapshot_unref(s);
}

static void test_canary_guard_latency(void **state)
{
    (void)state;
    asc_snapshot_t *s = build(PROVIDERS "models:\n  l:\n    targets:\n"
                                        "      - {provider: a, model: lbase}\n"
                                        "      - {provider: a, model: lslow, canary: true}\n"
                                        "    canary_guard: {min_requests: 10, max_ttft_p95_ratio: "
                                        "2}\n");
    const asc_route_rt_t *r = asc_snapshot_route(s, "l");
    const asc_config_breaker_t off = {.cooldown_ms = 1000, .window_ms = 10000};
    uint64_t t = 13000000;
    const char *label = NULL;
    char why[256];
    for (int i = 0; i < 20; i++) {
        asc_health_report(r->groups[0].targets[0].health, &off, ASC_HEALTH_OK, 0, 100, t);
        asc_health_report(r->groups[0].targets[1].health, &off, ASC_HEALTH_OK, 0, 150, t);
    }
    assert_int_equal(asc_route_guard_check(r, t, &label, why, sizeof why), 0);
    for (int i = 0; i < 20; i++)
        asc_health_report(r->groups[0].targets[1].health, &off, ASC_HEALTH_OK, 0, 900, t);
    assert_int_equal(asc_route_guard_check(r, t + 100, &label, why, sizeof why), 1);
    assert_non_null(strstr(why, "p95 time to first token"));
    asc_snapshot_unref(s);
}

int main(void)
{
    if (sodium_init() < 0)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_weighted_split),
        cmocka_unit_test(test_sticky),
        cmocka_unit_test(test_residency_and_order),
        cmocka_unit_test(test_breaker),
        cmocka_unit_test(test_quantile),
        cmocka_unit_test(test_canary_guard),
        cmocka_unit_test(test_canary_guard_latency),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

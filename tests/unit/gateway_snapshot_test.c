/* Config → snapshot: keys by hash, allow-lists, routes, disabled providers,
 * the dev key of a data directory. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <sodium.h>

#include "auth/key.h"
#include "gateway/snapshot.h"
#include "route/resolve.h"

/* sha256("sk-asc-unit-key-1") */
static char g_hash[65];

static asc_snapshot_t *build(const char *yaml, asc_snapshot_ctx_t *ctx)
{
    asc_config_t *cfg = NULL;
    char err[512];
    if (asc_config_load_text(yaml, strlen(yaml), "t", &cfg, err, sizeof err) != ASC_OK)
        fail_msg("config: %s", err);
    asc_snapshot_t *s = NULL;
    if (asc_snapshot_build(cfg, ctx, 1, &s, err, sizeof err) != ASC_OK)
        fail_msg("snapshot: %s", err);
    return s;
}

static int setup(void **state)
{
    (void)state;
    if (sodium_init() < 0)
        return -1;
    uint8_t h[32];
    asc_key_hash("sk-asc-unit-key-1", 17, h);
    sodium_bin2hex(g_hash, sizeof g_hash, h, 32);
    return 0;
}

static void test_keys_and_routes(void **state)
{
    (void)state;
    char yaml[2048];
    setenv("UNIT_K2", "sk-asc-unit-key-2", 1);
    unsetenv("UNIT_MISSING");
    snprintf(yaml, sizeof yaml,
             "providers:\n"
             "  - {name: up, kind: openai-compatible, base_url: 'http://127.0.0.1:1/v1'}\n"
             "  - {name: off, kind: openai, base_url: 'http://127.0.0.1:2/v1', api_key: "
             "env:UNIT_MISSING, optional: true}\n"
             "models:\n"
             "  m1: {provider: up, model: real-1}\n"
             "  e1: {provider: up, model: emb, type: embedding}\n"
             "  gone: {provider: off}\n"
             "keys:\n"
             "  - {name: k1, key: 'sha256:%s'}\n"
             "  - {name: k2, key: env:UNIT_K2, models: ['m1', 'up/*']}\n",
             g_hash);
    asc_snapshot_ctx_t ctx = {0};
    asc_snapshot_t *s = build(yaml, &ctx);
    assert_int_equal(s->nproviders, 1); /* "off" is disabled: its key is unset */
    assert_string_equal(s->providers[0].chat_url, "http://127.0.0.1:1/v1/chat/completions");

    const asc_key_rt_t *k1 = asc_key_lookup(s, "sk-asc-unit-key-1", 17);
    assert_non_null(k1);
    assert_string_equal(k1->name, "k1");
    const asc_key_rt_t *k2 = asc_key_lookup(s, "sk-asc-unit-key-2", 17);
    assert_non_null(k2);
    assert_string_equal(k2->name, "k2");
    assert_null(asc_key_lookup(s, "sk-asc-unit-key-3", 17));
    assert_null(asc_key_lookup(s, "sk-asc-unit-key-1 ", 18));
    assert_null(asc_key_lookup(s, "' OR 1=1--", 10));
    assert_null(asc_key_lookup(s, "", 0));

    assert_true(asc_key_allows(k1, "anything/at-all"));
    assert_true(asc_key_allows(k2, "m1"));
    assert_true(asc_key_allows(k2, "up/whatever"));
    assert_false(asc_key_allows(k2, "e1"));
    assert_false(asc_key_allows(k2, "m1x"));

    asc_pool_t *pool = asc_pool_create(0);
    asc_route_t r;
    assert_int_equal(asc_route_resolve(s, "m1", pool, &r), ASC_OK);
    assert_string_equal(r.rt->groups[0].targets[0].model, "real-1");
    assert_false(r.direct);
    assert_int_equal(asc_route_resolve(s, "e1", pool, &r), ASC_OK);
    assert_true(r.embedding);
    assert_int_equal(asc_route_resolve(s, "up/meta-llama/Llama-3.1-8B", pool, &r), ASC_OK);
    assert_true(r.direct);
    assert_string_equal(r.rt->groups[0].targets[0].model, "meta-llama/Llama-3.1-8B");
    assert_string_equal(r.rt->groups[0].targets[0].provider->name, "up");
    assert_string_equal(r.rt->groups[0].targets[0].label, "up/meta-llama/Llama-3.1-8B");
    assert_int_equal(asc_route_resolve(s, "gone", pool, &r), ASC_ENOTFOUND);
    assert_int_equal(asc_route_resolve(s, "off/gpt-4o", pool, &r), ASC_ENOTFOUND);
    assert_int_equal(asc_route_resolve(s, "up/", pool, &r), ASC_ENOTFOUND);
    assert_int_equal(asc_route_resolve(s, "/x", pool, &r), ASC_ENOTFOUND);
    assert_int_equal(asc_route_resolve(s, "nope", pool, &r), ASC_ENOTFOUND);
    asc_pool_destroy(pool);

    /* publish / current / refcount */
    asc_snapshot_publish(s);
    asc_snapshot_t *cur = asc_snapshot_current();
    assert_ptr_equal(cur, s);
    asc_snapshot_unref(cur);
    asc_snapshot_publish(NULL);
}

static void test_dev_key_once(void **state)
{
    (void)state;
    char dir[] = "/tmp/asc-unit-XXXXXX";
    assert_non_null(mkdtemp(dir));
    unsetenv("UNIT_DEV");
    const char *yaml =
        "providers:\n  - {name: up, kind: openai-compatible, base_url: 'http://127.0.0.1:1/v1'}\n"
        "keys:\n  - {name: dev, key: env:UNIT_DEV, generate: true}\n";
    asc_snapshot_ctx_t ctx = {0};
    ctx.data_dir = dir;
    asc_snapshot_t *s = build(yaml, &ctx);
    assert_true(ctx.generated);
    assert_memory_equal(ctx.generated_key, "sk-asc-", 7);
    char key[64];
    snprintf(key, sizeof key, "%s", ctx.generated_key);
    assert_non_null(asc_key_lookup(s, key, strlen(key)));
    asc_snapshot_unref(s);

    char path[512];
    snprintf(path, sizeof path, "%s/dev-key", dir);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);

    /* second build: same key, not generated again */
    asc_snapshot_ctx_t ctx2 = {0};
    ctx2.data_dir = dir;
    s = build(yaml, &ctx2);
    assert_false(ctx2.generated);
    assert_non_null(asc_key_lookup(s, key, strlen(key)));
    asc_snapshot_unref(s);

    /* with the env var set, that key is used and nothing is generated */
    setenv("UNIT_DEV", "sk-asc-from-env", 1);
    asc_snapshot_ctx_t ctx3 = {0};
    ctx3.data_dir = dir;
    s = build(yaml, &ctx3);
    assert_false(ctx3.generated);
    assert_non_null(asc_key_lookup(s, "sk-asc-from-env", 15));
    assert_null(asc_key_lookup(s, key, strlen(key)));
    asc_snapshot_unref(s);
    unlink(path);
    rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_keys_and_routes),
        cmocka_unit_test(test_dev_key_once),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}

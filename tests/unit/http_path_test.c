#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "http/path.h"

static void expect_path(const char *in, const char *want, const char *want_query)
{
    asc_pool_t *p = asc_pool_create(0);
    const char *path = NULL, *query = NULL;
    size_t len = 0;
    assert_int_equal(asc_http_path_normalize(p, in, strlen(in), &path, &len, &query), ASC_OK);
    assert_string_equal(path, want);
    assert_int_equal(len, strlen(want));
    if (want_query == NULL)
        assert_null(query);
    else
        assert_string_equal(query, want_query);
    asc_pool_destroy(p);
}

static void expect_bad(const char *in)
{
    asc_pool_t *p = asc_pool_create(0);
    const char *path = NULL, *query = NULL;
    size_t len = 0;
    assert_int_equal(asc_http_path_normalize(p, in, strlen(in), &path, &len, &query), ASC_EINVAL);
    asc_pool_destroy(p);
}

static void test_plain(void **state)
{
    (void)state;
    expect_path("/v1/chat/completions", "/v1/chat/completions", NULL);
    expect_path("/", "/", NULL);
    expect_path("/v1/models?limit=2", "/v1/models", "limit=2");
}

static void test_tricks(void **state)
{
    (void)state;
    expect_path("//v1//chat/completions", "/v1/chat/completions", NULL);
    expect_path("/v1/chat/completions/", "/v1/chat/completions", NULL);
    expect_path("/v1/../v1/chat/completions", "/v1/chat/completions", NULL);
    expect_path("/v1/./models", "/v1/models", NULL);
    expect_path("/../../v1/models", "/v1/models", NULL);
    expect_path("/v1/%63hat/completions", "/v1/chat/completions", NULL);
    expect_path("/v1/%2e%2e/admin", "/admin", NULL);
    /* An encoded slash stays encoded: never a separator. */
    expect_path("/v1%2fchat", "/v1%2fchat", NULL);
    /* Case is kept: the router will 404 it. */
    expect_path("/V1/Chat/Completions", "/V1/Chat/Completions", NULL);
    expect_path("http://evil.example/v1/models?x=1", "/v1/models", "x=1");
}

static void test_bad(void **state)
{
    (void)state;
    expect_bad("");
    expect_bad("v1/models");
    expect_bad("/v1/%zz");
    expect_bad("/v1/%2");
    expect_bad("/v1/%00");
    expect_bad("/v1/%0a");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plain),
        cmocka_unit_test(test_tricks),
        cmocka_unit_test(test_bad),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

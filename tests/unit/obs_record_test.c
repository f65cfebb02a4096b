/* The execution record's access-log line: valid JSON, escaped, bounded. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "core/clock.h"
#include "json/json.h"
#include "obs/record.h"

static void test_line_is_json(void **state)
{
    (void)state;
    asc_pool_t *p = asc_pool_create(0);
    asc_record_t r;
    asc_record_init(&r, p, asc_clock_ns());
    r.key_name = "team-a";
    r.model = "m\"1\n\x01";
    r.provider = "up";
    r.upstream_model = "real";
    r.status = 200;
    r.stream = 1;
    r.attempts = 1;
    r.usage.present = 1;
    r.usage.prompt_tokens = 12;
    r.usage.completion_tokens = 34;
    r.usage.total_tokens = 46;
    asc_record_add(&r, ASC_REC_AUTH, "team-a", NULL, 1, 0);
    asc_record_add(&r, ASC_REC_MODEL, "m1", "up/real", 0, 0);
    asc_record_add(&r, ASC_REC_ERROR, "upstream_error", "upstream", 502, 0);
    asc_buf_t b;
    asc_buf_init(&b, 0);
    asc_record_json(&r, "req_1", "POST", "/v1/chat/completions", "127.0.0.1", &b);
    assert_true(b.len > 0 && b.data[b.len - 1] == '\n');
    /* exactly one line: control characters are escaped */
    assert_null(memchr(b.data, '\n', b.len - 1));
    asc_json_t j;
    asc_json_limits_t lim;
    asc_json_limits_default(&lim);
    char err[128];
    assert_int_equal(asc_json_parse(p, b.data, b.len - 1, &lim, &j, err, sizeof err), ASC_OK);
    int t = asc_json_obj_get(&j, 0, "model");
    assert_true(asc_json_str_eq(&j, t, "m\"1\n\x01"));
    t = asc_json_obj_get(&j, 0, "usage");
    assert_true(t >= 0);
    int64_t v = 0;
    assert_int_equal(asc_json_get_int(&j, asc_json_obj_get(&j, t, "completion_tokens"), &v),
                     ASC_OK);
    assert_int_equal(v, 34);
    t = asc_json_obj_get(&j, 0, "events");
    assert_int_equal(j.tok[t].size, 3);
    asc_buf_free(&b);
    asc_pool_destroy(p);
}

static void test_bounded(void **state)
{
    (void)state;
    asc_pool_t *p = asc_pool_create(0);
    asc_record_t r;
    asc_record_init(&r, p, asc_clock_ns());
    for (int i = 0; i < 10000; i++)
        asc_record_add(&r, ASC_REC_NOTE, "n", NULL, i, 0);
    assert_int_equal(r.nev, 256);
    asc_pool_destroy(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_line_is_json),
        cmocka_unit_test(test_bounded),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

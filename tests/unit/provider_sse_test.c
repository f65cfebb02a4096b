#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "provider/sse.h"

typedef struct {
    char log[4096];
    int n;
    int stop_after;
} sink_t;

static int on_ev(void *ud, const char *event, const char *data, size_t len, size_t raw_end)
{
    sink_t *s = ud;
    (void)raw_end;
    size_t l = strlen(s->log);
    snprintf(s->log + l, sizeof s->log - l, "[%s|%.*s]", event, (int)len, data);
    s->n++;
    return s->stop_after && s->n >= s->stop_after;
}

static void feed_all(const char *in, size_t chunk, sink_t *s)
{
    asc_sse_t p;
    asc_sse_init(&p, 1024);
    size_t n = strlen(in);
    for (size_t i = 0; i < n; i += chunk) {
        size_t k = n - i < chunk ? n - i : chunk;
        assert_int_equal(asc_sse_feed(&p, in + i, k, on_ev, s), ASC_OK);
    }
    asc_sse_free(&p);
}

static void test_events_any_split(void **state)
{
    (void)state;
    const char *in = ": comment\n"
                     "data: {\"a\":1}\n\n"
                     "event: message_start\r\ndata: x\r\n\r\n"
                     "data: line1\ndata: line2\n\n"
                     "id: 7\nretry: 10\n\n"
                     "data:nospace\n\n"
                     "data: [DONE]\n\n";
    const char *want = "[|{\"a\":1}][message_start|x][|line1\nline2][|nospace][|[DONE]]";
    /* Every chunking gives the same events. */
    for (size_t chunk = 1; chunk <= strlen(in); chunk++) {
        sink_t s = {{0}, 0, 0};
        feed_all(in, chunk, &s);
        assert_string_equal(s.log, want);
    }
}

static void test_limit(void **state)
{
    (void)state;
    asc_sse_t p;
    asc_sse_init(&p, 64);
    sink_t s = {{0}, 0, 0};
    char big[200];
    memset(big, 'a', sizeof big);
    memcpy(big, "data: ", 6);
    assert_int_equal(asc_sse_feed(&p, big, sizeof big, on_ev, &s), ASC_ETOOBIG);
    asc_sse_free(&p);
}

static void test_stop_and_pending(void **state)
{
    (void)state;
    asc_sse_t p;
    asc_sse_init(&p, 1024);
    sink_t s = {{0}, 0, 1};
    const char *in = "data: 1\n\ndata: 2\n\n";
    assert_int_equal(asc_sse_feed(&p, in, strlen(in), on_ev, &s), ASC_ECLOSED);
    assert_int_equal(s.n, 1);
    asc_sse_free(&p);

    asc_sse_init(&p, 1024);
    sink_t s2 = {{0}, 0, 0};
    assert_int_equal(asc_sse_feed(&p, "data: partial", 13, on_ev, &s2), ASC_OK);
    assert_int_equal(s2.n, 0);
    assert_true(asc_sse_pending(&p));
    asc_sse_free(&p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_events_any_split),
        cmocka_unit_test(test_limit),
        cmocka_unit_test(test_stop_and_pending),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

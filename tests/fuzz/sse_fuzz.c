/* libFuzzer target: the SSE parser (src/provider/sse.c) on arbitrary bytes,
 * fed whole and then split at every position the input's first byte picks.
 * Both feeds must yield the same events (the parser cannot depend on how
 * the network chunks a stream), and its memory stays within its limit. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "provider/sse.h"

#define CHECK(c)                                                                                   \
    do {                                                                                           \
        if (!(c))                                                                                  \
            abort();                                                                               \
    } while (0)

typedef struct {
    asc_buf_t log;
    int n;
} sink_t;

static int on_event(void *ud, const char *event, const char *data, size_t len, size_t raw_end)
{
    sink_t *s = ud;
    (void)raw_end;
    CHECK(strlen(event) < 64);
    asc_buf_append(&s->log, event, strlen(event));
    asc_buf_putc(&s->log, '\0');
    asc_buf_append(&s->log, data, len);
    asc_buf_putc(&s->log, '\0');
    s->n++;
    return 0;
}

static asc_err_t feed(const uint8_t *d, size_t n, size_t step, sink_t *s)
{
    asc_sse_t p;
    asc_sse_init(&p, 4096);
    asc_err_t e = ASC_OK;
    for (size_t i = 0; i < n && e == ASC_OK; i += step) {
        size_t k = n - i < step ? n - i : step;
        e = asc_sse_feed(&p, (const char *)d + i, k, on_event, s);
    }
    CHECK(p.line.len <= 4096 && p.data.len <= 4096);
    asc_sse_free(&p);
    return e;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    size_t step = (size_t)data[0] % 17 + 1;
    sink_t a, b;
    asc_buf_init(&a.log, 0);
    asc_buf_init(&b.log, 0);
    a.n = b.n = 0;
    asc_err_t ea = feed(data + 1, size - 1, size, &a);
    asc_err_t eb = feed(data + 1, size - 1, step, &b);
    if (ea == ASC_OK && eb == ASC_OK) {
        CHECK(a.n == b.n);
        CHECK(a.log.len == b.log.len);
        CHECK(a.log.len == 0 || memcmp(a.log.data, b.log.data, a.log.len) == 0);
    }
    asc_buf_free(&a.log);
    asc_buf_free(&b.log);
    return 0;
}

/*
 * Incremental Server-Sent Events parser (WHATWG rules): feed bytes as they
 * arrive; each complete event (blank-line terminated) is handed to the
 * callback with its `event` name (empty when absent) and its `data` (lines
 * joined by '\n'). Comments (":") are skipped; `id`/`retry` are ignored.
 * The parser keeps at most `limit` bytes of an unfinished event and
 * reports ASC_ETOOBIG past that, so a hostile upstream cannot grow it.
 */
#ifndef ASC_PROVIDER_SSE_H
#define ASC_PROVIDER_SSE_H

#include <stddef.h>

#include "core/buf.h"
#include "core/err.h"

typedef struct {
    asc_buf_t line; /* current partial line */
    asc_buf_t data; /* data of the current event */
    char event[64];
    int has_data;
    int skip_lf; /* the previous line ended with CR */
    size_t limit;
} asc_sse_t;

/* Called per event; return non-zero to stop parsing (asc_sse_feed then
 * returns ASC_ECLOSED at once without touching the parser again, so the
 * callback may free it before returning non-zero). `raw_end` is the offset in the fed chunk just
 * past the event's terminating blank line, so callers can forward the exact bytes of an event. */
typedef int (*asc_sse_event_fn)(void *ud, const char *event, const char *data, size_t len,
                                size_t raw_end);

void asc_sse_init(asc_sse_t *s, size_t limit);
void asc_sse_free(asc_sse_t *s);
asc_err_t asc_sse_feed(asc_sse_t *s, const char *p, size_t n, asc_sse_event_fn fn, void *ud);
/* 1 when bytes of an unfinished event are held (a stream that ends here
 * was truncated). */
int asc_sse_pending(const asc_sse_t *s);

#endif

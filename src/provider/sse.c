#include "provider/sse.h"

#include <string.h>

void asc_sse_init(asc_sse_t *s, size_t limit)
{
    memset(s, 0, sizeof *s);
    s->limit = limit;
    asc_buf_init(&s->line, limit);
    asc_buf_init(&s->data, limit);
}

void asc_sse_free(asc_sse_t *s)
{
    asc_buf_free(&s->line);
    asc_buf_free(&s->data);
}

int asc_sse_pending(const asc_sse_t *s)
{
    return s->line.len > 0 || s->has_data;
}

/* One complete line (without its terminator). Returns 1 at the blank line
 * that ends an event. */
static asc_err_t take_line(asc_sse_t *s, const char *l, size_t n, int *dispatch)
{
    *dispatch = 0;
    if (n == 0) {
        *dispatch = s->has_data;
        if (!s->has_data)
            s->event[0] = '\0';
        return ASC_OK;
    }
    if (l[0] == ':')
        return ASC_OK;
    const char *colon = memchr(l, ':', n);
    size_t fl = colon ? (size_t)(colon - l) : n;
    const char *v = colon ? colon + 1 : l + n;
    size_t vl = colon ? n - fl - 1 : 0;
    if (vl > 0 && v[0] == ' ') {
        v++;
        vl--;
    }
    if (fl == 4 && memcmp(l, "data", 4) == 0) {
        asc_err_t e = ASC_OK;
        if (s->has_data)
            e = asc_buf_putc(&s->data, '\n');
        if (e == ASC_OK)
            e = asc_buf_append(&s->data, v, vl);
        s->has_data = 1;
        return e;
    }
    if (fl == 5 && memcmp(l, "event", 5) == 0) {
        size_t k = vl < sizeof s->event - 1 ? vl : sizeof s->event - 1;
        memcpy(s->event, v, k);
        s->event[k] = '\0';
    }
    return ASC_OK;
}

asc_err_t asc_sse_feed(asc_sse_t *s, const char *p, size_t n, asc_sse_event_fn fn, void *ud)
{
    size_t i = 0;
    while (i < n) {
        if (s->skip_lf) {
            s->skip_lf = 0;
            if (p[i] == '\n') {
                i++;
                continue;
            }
        }
        /* find the end of the line */
        size_t j = i;
        while (j < n && p[j] != '\n' && p[j] != '\r')
            j++;
        if (j == n) {
            if (asc_buf_append(&s->line, p + i, n - i) != ASC_OK)
                return ASC_ETOOBIG;
            return ASC_OK;
        }
        const char *l = p + i;
        size_t ll = j - i;
        if (s->line.len > 0) {
            if (asc_buf_append(&s->line, p + i, j - i) != ASC_OK)
                return ASC_ETOOBIG;
            l = s->line.data;
            ll = s->line.len;
        }
        if (p[j] == '\r')
            s->skip_lf = 1;
        int dispatch = 0;
        asc_err_t e = take_line(s, l, ll, &dispatch);
        asc_buf_clear(&s->line);
        if (e != ASC_OK)
            return ASC_ETOOBIG;
        i = j + 1;
        if (s->skip_lf && i < n && p[i] == '\n') {
            s->skip_lf = 0;
            i++;
        }
        if (dispatch) {
            int stop = fn(ud, s->event, s->data.data ? s->data.data : "", s->data.len, i);
            /* After a stop the callback may have freed the parser. */
            if (stop)
                return ASC_ECLOSED;
            asc_buf_clear(&s->data);
            s->has_data = 0;
            s->event[0] = '\0';
        }
    }
    return ASC_OK;
}

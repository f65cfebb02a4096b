#include "core/buf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void asc_buf_init(asc_buf_t *b, size_t limit)
{
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
    b->limit = limit;
}

void asc_buf_free(asc_buf_t *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

void asc_buf_clear(asc_buf_t *b)
{
    b->len = 0;
    if (b->data)
        b->data[0] = '\0';
}

asc_err_t asc_buf_reserve(asc_buf_t *b, size_t extra)
{
    if (extra > (size_t)-1 - b->len - 1)
        return ASC_ETOOBIG;
    size_t need = b->len + extra;
    if (b->limit && need > b->limit)
        return ASC_ETOOBIG;
    if (need + 1 <= b->cap)
        return ASC_OK;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < need + 1)
        cap = cap > ((size_t)-1) / 2 ? need + 1 : cap * 2;
    if (b->limit && cap > b->limit + 1)
        cap = b->limit + 1;
    char *d = realloc(b->data, cap);
    if (d == NULL)
        return ASC_ENOMEM;
    b->data = d;
    b->cap = cap;
    return ASC_OK;
}

asc_err_t asc_buf_append(asc_buf_t *b, const void *p, size_t n)
{
    asc_err_t e = asc_buf_reserve(b, n);
    if (e != ASC_OK)
        return e;
    if (n)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
    return ASC_OK;
}

asc_err_t asc_buf_puts(asc_buf_t *b, const char *s)
{
    return asc_buf_append(b, s, strlen(s));
}

asc_err_t asc_buf_putc(asc_buf_t *b, char c)
{
    return asc_buf_append(b, &c, 1);
}

asc_err_t asc_buf_printf(asc_buf_t *b, const char *fmt, ...)
{
    va_list ap;
    char small[256];
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0)
        return ASC_EINVAL;
    if ((size_t)n < sizeof small)
        return asc_buf_append(b, small, (size_t)n);
    asc_err_t e = asc_buf_reserve(b, (size_t)n);
    if (e != ASC_OK)
        return e;
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return ASC_OK;
}

asc_err_t asc_buf_json_str(asc_buf_t *b, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    size_t start = 0;
    asc_err_t e = ASC_OK;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c != '"' && c != '\\' && c != 0x7f)
            continue;
        if ((e = asc_buf_append(b, s + start, i - start)) != ASC_OK)
            return e;
        char esc[6] = {'\\', 0, 0, 0, 0, 0};
        size_t el = 2;
        switch (c) {
        case '"': esc[1] = '"'; break;
        case '\\': esc[1] = '\\'; break;
        case '\n': esc[1] = 'n'; break;
        case '\r': esc[1] = 'r'; break;
        case '\t': esc[1] = 't'; break;
        default:
            esc[1] = 'u';
            esc[2] = '0';
            esc[3] = '0';
            esc[4] = hex[c >> 4];
            esc[5] = hex[c & 15];
            el = 6;
        }
        if ((e = asc_buf_append(b, esc, el)) != ASC_OK)
            return e;
        start = i + 1;
    }
    return asc_buf_append(b, s + start, n - start);
}

void asc_buf_consume(asc_buf_t *b, size_t n)
{
    if (n >= b->len) {
        asc_buf_clear(b);
        return;
    }
    memmove(b->data, b->data + n, b->len - n);
    b->len -= n;
    b->data[b->len] = '\0';
}

char *asc_buf_take(asc_buf_t *b, size_t *len)
{
    char *d = b->data;
    if (len)
        *len = b->len;
    b->data = NULL;
    b->len = b->cap = 0;
    return d;
}

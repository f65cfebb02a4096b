/*
 * Runtime overrides behind /__mock/overrides: behaviour parameters set while
 * the mock runs for every request whose model name (without the "@..."
 * suffix) is a given NAME, so a test can make a model start or stop failing
 * without changing the name its configuration sends.
 *
 * One table for the process, shared by every engine and worker thread like
 * the request log: an array sorted by name under one mutex. Requests read
 * an atomic count first, so while no override is set (the usual case) the
 * request path takes no lock.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mock/mock_int.h"

typedef struct {
    char *name; /* name_len bytes, then the parameter text and a NUL */
    size_t name_len;
    const char *text;
    size_t text_len;
    asc_mock_params_t p;
} entry_t;

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static entry_t *table; /* sorted by name: bytes, then length */
static size_t count, cap;
static atomic_size_t nonempty; /* == count, readable without the lock */

static int cmp(const char *a, size_t an, const char *b, size_t bn)
{
    int c = memcmp(a, b, an < bn ? an : bn);
    if (c != 0)
        return c;
    return an < bn ? -1 : an > bn;
}

/* Index of name in the table, or -(insertion point) - 1. Under mu. */
static long find(const char *name, size_t nlen)
{
    size_t lo = 0, hi = count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = cmp(table[mid].name, table[mid].name_len, name, nlen);
        if (c == 0)
            return (long)mid;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return -(long)lo - 1;
}

static int is_space(char ch)
{
    return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n';
}

asc_err_t asc_mock_override_set(const char *name, size_t nlen, const char *text, size_t tlen,
                                char *err, size_t errlen)
{
    asc_mock_params_t p;
    asc_err_t rc = ASC_OK;
    char *mem;
    long at;

    if (nlen == 0) {
        snprintf(err, errlen, "the override needs a model name");
        return ASC_EINVAL;
    }
    if (nlen > ASC_MOCK_MAX_MODEL) {
        snprintf(err, errlen, "model name is longer than %d bytes", ASC_MOCK_MAX_MODEL);
        return ASC_EINVAL;
    }
    if (memchr(name, '@', nlen) != NULL) {
        snprintf(err, errlen, "the model name of an override must not contain '@'");
        return ASC_EINVAL;
    }
    while (tlen > 0 && is_space(text[0])) {
        text++;
        tlen--;
    }
    while (tlen > 0 && is_space(text[tlen - 1]))
        tlen--;
    if (tlen > 0 && text[0] == '@') {
        text++;
        tlen--;
    }
    if (tlen > ASC_MOCK_MAX_OVERRIDE_TEXT) {
        snprintf(err, errlen, "override parameters are longer than %d bytes",
                 ASC_MOCK_MAX_OVERRIDE_TEXT);
        return ASC_ETOOBIG;
    }
    if (tlen == 0) {
        snprintf(err, errlen,
                 "the override has no parameters (the body is a list such as fault=500; "
                 "DELETE removes an override)");
        return ASC_EINVAL;
    }
    asc_mock_params_default(&p);
    p.set = 0;
    rc = asc_mock_params_parse(&p, text, tlen, err, errlen);
    if (rc != ASC_OK)
        return rc;

    /* One block: the name, then the text (NUL-terminated for the listing). */
    mem = malloc(nlen + tlen + 1);
    if (mem == NULL)
        abort();
    memcpy(mem, name, nlen);
    memcpy(mem + nlen, text, tlen);
    mem[nlen + tlen] = '\0';
    entry_t e = {mem, nlen, mem + nlen, tlen, p};

    pthread_mutex_lock(&mu);
    at = find(name, nlen);
    if (at >= 0) {
        free(table[at].name);
        table[at] = e;
        goto out;
    }
    if (count >= ASC_MOCK_MAX_OVERRIDES) {
        snprintf(err, errlen, "too many overrides (at most %d); DELETE some first",
                 ASC_MOCK_MAX_OVERRIDES);
        free(mem);
        rc = ASC_ETOOBIG;
        goto out;
    }
    if (count == cap) {
        size_t ncap = cap ? cap * 2 : 16;
        entry_t *t = realloc(table, ncap * sizeof *t);
        if (t == NULL)
            abort();
        table = t;
        cap = ncap;
    }
    size_t i = (size_t)(-at - 1);
    memmove(&table[i + 1], &table[i], (count - i) * sizeof *table);
    table[i] = e;
    count++;
    atomic_store_explicit(&nonempty, count, memory_order_release);
out:
    pthread_mutex_unlock(&mu);
    return rc;
}

asc_err_t asc_mock_override_del(const char *name, size_t nlen)
{
    asc_err_t rc = ASC_ENOTFOUND;
    pthread_mutex_lock(&mu);
    long at = find(name, nlen);
    if (at >= 0) {
        free(table[at].name);
        memmove(&table[at], &table[at + 1], (count - (size_t)at - 1) * sizeof *table);
        count--;
        atomic_store_explicit(&nonempty, count, memory_order_release);
        rc = ASC_OK;
    }
    pthread_mutex_unlock(&mu);
    return rc;
}

void asc_mock_override_clear(void)
{
    pthread_mutex_lock(&mu);
    for (size_t i = 0; i < count; i++)
        free(table[i].name);
    free(table);
    table = NULL;
    count = cap = 0;
    atomic_store_explicit(&nonempty, 0, memory_order_release);
    pthread_mutex_unlock(&mu);
}

void asc_mock_override_json(asc_buf_t *out)
{
    pthread_mutex_lock(&mu);
    asc_buf_puts(out, "{\"overrides\":{");
    for (size_t i = 0; i < count; i++) {
        if (i > 0)
            asc_buf_putc(out, ',');
        asc_buf_putc(out, '"');
        asc_mock_json_str_utf8(out, table[i].name, table[i].name_len);
        asc_buf_puts(out, "\":\"");
        asc_mock_json_str_utf8(out, table[i].text, table[i].text_len);
        asc_buf_putc(out, '"');
    }
    asc_buf_puts(out, "}}");
    pthread_mutex_unlock(&mu);
}

void asc_mock_override_apply(asc_mock_params_t *p, const char *name, size_t nlen)
{
    if (atomic_load_explicit(&nonempty, memory_order_acquire) == 0)
        return;
    pthread_mutex_lock(&mu);
    long at = find(name, nlen);
    if (at >= 0)
        asc_mock_params_overlay(p, &table[at].p);
    pthread_mutex_unlock(&mu);
}

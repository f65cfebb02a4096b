/*
 * The request log behind GET /__mock/requests: a ring of the last 64
 * requests of the process (every engine and worker thread shares it, under
 * one mutex). Each slot keeps one reusable buffer of length-prefixed
 * strings: method, path, query, then header name/value pairs, then the body.
 */
#include <pthread.h>
#include <string.h>

#include "mock/mock_int.h"

typedef struct {
    asc_buf_t data;
    int valid;
    uint32_t nh;
    int has_query;
    int truncated;
} entry_t;

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static entry_t ring[ASC_MOCK_LOG_SIZE];
static unsigned head; /* the next slot written */
static unsigned count;

/* A slot that once held a large body gives the memory back. */
#define SHRINK_ABOVE (256 * 1024)

static void put(asc_buf_t *b, const char *s, size_t n)
{
    uint32_t l = (uint32_t)n;
    asc_buf_append(b, &l, sizeof l);
    asc_buf_append(b, s, n);
}

static const char *get(const char **p, size_t *n)
{
    uint32_t l;
    memcpy(&l, *p, sizeof l);
    const char *s = *p + sizeof l;
    *p = s + l;
    *n = l;
    return s;
}

void asc_mock_reqlog_add(const asc_http_req_t *req)
{
    size_t blen = req->body_len;
    int truncated = 0;
    if (blen > ASC_MOCK_LOG_BODY_MAX) {
        blen = ASC_MOCK_LOG_BODY_MAX;
        truncated = 1;
    }
    pthread_mutex_lock(&mu);
    entry_t *e = &ring[head];
    head = (head + 1) % ASC_MOCK_LOG_SIZE;
    if (count < ASC_MOCK_LOG_SIZE)
        count++;
    if (e->data.cap > SHRINK_ABOVE && blen < SHRINK_ABOVE / 2)
        asc_buf_free(&e->data);
    asc_buf_clear(&e->data);
    /* Reserve everything first so the appends below cannot fail halfway. */
    size_t need = 3 * sizeof(uint32_t) + strlen(req->method_name) + req->path_len +
                  (req->query ? strlen(req->query) : 0) + sizeof(uint32_t) + blen;
    for (size_t i = 0; i < req->nheaders; i++)
        need += 2 * sizeof(uint32_t) + req->headers[i].name_len + req->headers[i].value_len;
    e->valid = asc_buf_reserve(&e->data, need) == ASC_OK;
    if (!e->valid) {
        pthread_mutex_unlock(&mu);
        return;
    }
    put(&e->data, req->method_name, strlen(req->method_name));
    put(&e->data, req->path, req->path_len);
    put(&e->data, req->query ? req->query : "", req->query ? strlen(req->query) : 0);
    e->has_query = req->query != NULL;
    for (size_t i = 0; i < req->nheaders; i++) {
        const asc_http_header_t *h = &req->headers[i];
        size_t at = e->data.len + sizeof(uint32_t);
        put(&e->data, h->name, h->name_len);
        for (size_t k = 0; k < h->name_len; k++) {
            char ch = e->data.data[at + k];
            if (ch >= 'A' && ch <= 'Z')
                e->data.data[at + k] = (char)(ch - 'A' + 'a');
        }
        put(&e->data, h->value, h->value_len);
    }
    e->nh = (uint32_t)req->nheaders;
    put(&e->data, req->body ? req->body : "", req->body ? blen : 0);
    e->truncated = truncated;
    pthread_mutex_unlock(&mu);
}

static void entry_json(asc_buf_t *out, const entry_t *e)
{
    const char *p = e->data.data;
    size_t n;
    const char *s;
    if (!e->valid || p == NULL) {
        asc_buf_puts(out, "null");
        return;
    }
    asc_buf_puts(out, "{\"method\":\"");
    s = get(&p, &n);
    asc_mock_json_str_utf8(out, s, n);
    asc_buf_puts(out, "\",\"path\":\"");
    s = get(&p, &n);
    asc_mock_json_str_utf8(out, s, n);
    asc_buf_putc(out, '"');
    s = get(&p, &n);
    if (e->has_query) {
        asc_buf_puts(out, ",\"query\":\"");
        asc_mock_json_str_utf8(out, s, n);
        asc_buf_putc(out, '"');
    }
    asc_buf_puts(out, ",\"headers\":{");
    /* A repeated name is written once, its values joined with ", ". */
    const char *hp = p;
    int first = 1;
    for (uint32_t i = 0; i < e->nh; i++) {
        size_t nl, vl;
        const char *name = get(&hp, &nl);
        const char *val = get(&hp, &vl);
        /* Skip a name already written. */
        const char *q = p;
        int seen = 0;
        for (uint32_t j = 0; j < i; j++) {
            size_t l2, v2;
            const char *n2 = get(&q, &l2);
            get(&q, &v2);
            if (l2 == nl && memcmp(n2, name, nl) == 0) {
                seen = 1;
                break;
            }
        }
        if (seen)
            continue;
        if (!first)
            asc_buf_putc(out, ',');
        first = 0;
        asc_buf_putc(out, '"');
        asc_mock_json_str_utf8(out, name, nl);
        asc_buf_puts(out, "\":\"");
        asc_mock_json_str_utf8(out, val, vl);
        const char *r = hp;
        for (uint32_t j = i + 1; j < e->nh; j++) {
            size_t l2, v2;
            const char *n2 = get(&r, &l2);
            const char *val2 = get(&r, &v2);
            if (l2 == nl && memcmp(n2, name, nl) == 0) {
                asc_buf_puts(out, ", ");
                asc_mock_json_str_utf8(out, val2, v2);
            }
        }
        asc_buf_putc(out, '"');
    }
    asc_buf_puts(out, "},\"body\":\"");
    s = get(&hp, &n);
    asc_mock_json_str_utf8(out, s, n);
    asc_buf_putc(out, '"');
    if (e->truncated)
        asc_buf_puts(out, ",\"body_truncated\":true");
    asc_buf_putc(out, '}');
}

void asc_mock_reqlog_json(asc_buf_t *out)
{
    pthread_mutex_lock(&mu);
    asc_buf_putc(out, '[');
    unsigned start = (head + ASC_MOCK_LOG_SIZE - count) % ASC_MOCK_LOG_SIZE;
    for (unsigned i = 0; i < count; i++) {
        if (i > 0)
            asc_buf_putc(out, ',');
        entry_json(out, &ring[(start + i) % ASC_MOCK_LOG_SIZE]);
    }
    asc_buf_putc(out, ']');
    pthread_mutex_unlock(&mu);
}

void asc_mock_reqlog_clear(void)
{
    pthread_mutex_lock(&mu);
    for (unsigned i = 0; i < ASC_MOCK_LOG_SIZE; i++) {
        asc_buf_free(&ring[i].data);
        ring[i].valid = 0;
        ring[i].nh = 0;
    }
    head = 0;
    count = 0;
    pthread_mutex_unlock(&mu);
}

#include "core/pool.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define POOL_BLOCK 4096
#define POOL_ALIGN 16

typedef struct block {
    struct block *next;
    char *data;
    size_t size; /* usable bytes at data */
    size_t used;
} block_t;

struct asc_pool {
    block_t *head; /* current block (most recent) */
    size_t limit;
    size_t total;  /* bytes handed out */
    block_t first; /* followed by POOL_BLOCK bytes */
};

static size_t align_up(size_t n)
{
    return (n + (POOL_ALIGN - 1)) & ~(size_t)(POOL_ALIGN - 1);
}

asc_pool_t *asc_pool_create(size_t limit)
{
    size_t hdr = align_up(sizeof(asc_pool_t));
    asc_pool_t *p = malloc(hdr + POOL_BLOCK);
    if (p == NULL)
        abort();
    p->limit = limit;
    p->total = 0;
    p->first.next = NULL;
    p->first.data = (char *)p + hdr;
    p->first.size = POOL_BLOCK;
    p->first.used = 0;
    p->head = &p->first;
    return p;
}

void asc_pool_reset(asc_pool_t *p)
{
    block_t *b = p->head;
    while (b != NULL && b != &p->first) {
        block_t *next = b->next;
        free(b);
        b = next;
    }
    p->head = &p->first;
    p->first.used = 0;
    p->total = 0;
}

void asc_pool_destroy(asc_pool_t *p)
{
    if (p == NULL)
        return;
    asc_pool_reset(p);
    free(p);
}

static void *pool_take(asc_pool_t *p, size_t n, int may_fail)
{
    size_t need = align_up(n ? n : 1);
    if (need < n || (p->limit && (need > p->limit || p->total > p->limit - need))) {
        if (may_fail)
            return NULL;
        abort();
    }
    block_t *b = p->head;
    if (b->size - b->used < need) {
        size_t sz = need > POOL_BLOCK ? need : POOL_BLOCK;
        block_t *nb = malloc(align_up(sizeof(block_t)) + sz);
        if (nb == NULL) {
            if (may_fail)
                return NULL;
            abort();
        }
        nb->data = (char *)nb + align_up(sizeof(block_t));
        nb->size = sz;
        nb->used = 0;
        nb->next = p->head;
        p->head = nb;
        b = nb;
    }
    void *ret = b->data + b->used;
    b->used += need;
    p->total += need;
    return ret;
}

void *asc_pool_alloc(asc_pool_t *p, size_t n)
{
    return pool_take(p, n, 0);
}

void *asc_pool_alloc_n(asc_pool_t *p, size_t n)
{
    return pool_take(p, n, 1);
}

char *asc_pool_strndup(asc_pool_t *p, const char *s, size_t n)
{
    char *d = asc_pool_alloc(p, n + 1);
    if (n)
        memcpy(d, s, n);
    d[n] = '\0';
    return d;
}

size_t asc_pool_used(const asc_pool_t *p)
{
    return p->total;
}

/*
 * Per-request memory pool (nginx/h2o style): many small allocations, freed
 * in one go by asc_pool_destroy(). Memory returned by the pool must never be
 * passed to free().
 *
 * Small internal allocations abort on out-of-memory; sizes a client controls
 * must go through asc_pool_alloc_n(), which returns NULL past the pool's
 * limit instead of aborting.
 */
#ifndef ASC_CORE_POOL_H
#define ASC_CORE_POOL_H

#include <stddef.h>

typedef struct asc_pool asc_pool_t;

/* Create a pool whose total size may not exceed `limit` bytes (0 = no
 * limit). Aborts on OOM. */
asc_pool_t *asc_pool_create(size_t limit);

/* Free every allocation of the pool and the pool itself. NULL is a no-op. */
void asc_pool_destroy(asc_pool_t *p);

/* Forget every allocation but keep the first block for reuse. */
void asc_pool_reset(asc_pool_t *p);

/* Aligned allocation; aborts on OOM (for sizes asc itself chooses). */
void *asc_pool_alloc(asc_pool_t *p, size_t n);

/* Like asc_pool_alloc but returns NULL when n would take the pool past its
 * limit (for sizes a client controls). */
void *asc_pool_alloc_n(asc_pool_t *p, size_t n);

/* Copy of s[0..n) with a terminating NUL. Aborts on OOM. */
char *asc_pool_strndup(asc_pool_t *p, const char *s, size_t n);

/* Bytes handed out so far (for accounting and tests). */
size_t asc_pool_used(const asc_pool_t *p);

#endif

/*
 * Bounded growable byte buffer (curl's dynbuf): anything a client controls is
 * read into one of these, and it refuses to grow past its limit with
 * ASC_ETOOBIG instead of aborting. The buffer owns its heap memory; data is
 * always NUL-terminated (the NUL is not counted in len).
 */
#ifndef ASC_CORE_BUF_H
#define ASC_CORE_BUF_H

#include <stdarg.h>
#include <stddef.h>

#include "core/err.h"

typedef struct {
    char *data;
    size_t len;
    size_t cap;
    size_t limit; /* max len; 0 = unlimited (for sizes asc chooses) */
} asc_buf_t;

void asc_buf_init(asc_buf_t *b, size_t limit);
void asc_buf_free(asc_buf_t *b);
/* Drop the contents, keep the memory. */
void asc_buf_clear(asc_buf_t *b);
asc_err_t asc_buf_reserve(asc_buf_t *b, size_t extra);
asc_err_t asc_buf_append(asc_buf_t *b, const void *p, size_t n);
asc_err_t asc_buf_puts(asc_buf_t *b, const char *s);
asc_err_t asc_buf_putc(asc_buf_t *b, char c);
asc_err_t asc_buf_printf(asc_buf_t *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Append s[0..n) as the body of a JSON string (no quotes), escaping what
 * JSON requires plus control characters. */
asc_err_t asc_buf_json_str(asc_buf_t *b, const char *s, size_t n);
/* Remove the first n bytes. */
void asc_buf_consume(asc_buf_t *b, size_t n);
/* Hand the heap memory to the caller (who frees it) and reset b. */
char *asc_buf_take(asc_buf_t *b, size_t *len);

#endif

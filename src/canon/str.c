#include <string.h>

#include "canon/canon.h"

char *asc_str_dup(asc_pool_t *pool, asc_str_t s)
{
    return asc_pool_strndup(pool, s.p ? s.p : "", s.p ? s.n : 0);
}

int asc_str_eq(asc_str_t s, const char *z)
{
    size_t n = strlen(z);
    return s.p != NULL && s.n == n && memcmp(s.p, z, n) == 0;
}

void asc_buf_json_string(asc_buf_t *b, asc_str_t s)
{
    asc_buf_putc(b, '"');
    if (s.p != NULL)
        asc_buf_json_str(b, s.p, s.n);
    asc_buf_putc(b, '"');
}

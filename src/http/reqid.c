#include "http/reqid.h"

#include <stdint.h>
#include <sys/random.h>

static _Thread_local uint64_t t_prefix;
static _Thread_local uint64_t t_counter;

void asc_http_reqid_generate(char out[129])
{
    static const char hex[] = "0123456789abcdef";
    if (t_prefix == 0) {
        if (getrandom(&t_prefix, sizeof t_prefix, 0) != sizeof t_prefix || t_prefix == 0)
            t_prefix = (uint64_t)(uintptr_t)&t_prefix ^ 0x9e3779b97f4a7c15u;
    }
    uint64_t n = ++t_counter;
    /* 12 hex digits of prefix (per thread), 12 of counter. */
    uint64_t a = t_prefix;
    out[0] = 'r';
    out[1] = 'e';
    out[2] = 'q';
    out[3] = '_';
    for (int i = 0; i < 12; i++)
        out[4 + i] = hex[(a >> (4 * i)) & 15];
    /* The counter is mixed so ids do not look sequential, yet stay unique:
     * multiplication by an odd constant is a bijection on 64 bits and the
     * low 48 bits of n * odd are unique for n < 2^48. */
    uint64_t b = (n * 0x9e3779b97f4a7c15u) & 0xffffffffffffu;
    for (int i = 0; i < 12; i++)
        out[16 + i] = hex[(b >> (4 * i)) & 15];
    out[28] = '\0';
}

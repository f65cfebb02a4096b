/*
 * Reading values out of a parsed asc_json_t: navigation, string unescaping
 * and comparison, numbers. All of these trust the token array that
 * asc_json_parse() built but still bound every index they are given.
 */
#include "json/json.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static int valid_index(const asc_json_t *j, int i)
{
    return j != NULL && i >= 0 && i < j->ntok;
}

int asc_json_skip(const asc_json_t *j, int i)
{
    if (!valid_index(j, i))
        return j != NULL ? j->ntok : 0;
    /* every token visited settles one pending slot and opens `size` more */
    int k = i, pending = 1;
    while (pending > 0 && k < j->ntok) {
        pending += j->tok[k].size - 1;
        k++;
    }
    return k;
}

static int hexval(unsigned c)
{
    if (c >= '0' && c <= '9')
        return (int)(c - '0');
    c |= 0x20;
    if (c >= 'a' && c <= 'f')
        return (int)(c - 'a' + 10);
    return -1;
}

/* The 4 hex digits at p[0..4) as a code unit, or -1. */
static long hex4(const unsigned char *p, size_t avail)
{
    long v = 0;
    if (avail < 4)
        return -1;
    for (int i = 0; i < 4; i++) {
        int h = hexval(p[i]);
        if (h < 0)
            return -1;
        v = (v << 4) | h;
    }
    return v;
}

static size_t put_utf8(unsigned long cp, char *o)
{
    if (cp < 0x80) {
        o[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        o[0] = (char)(0xC0 | (cp >> 6));
        o[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        o[0] = (char)(0xE0 | (cp >> 12));
        o[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        o[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    o[0] = (char)(0xF0 | (cp >> 18));
    o[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    o[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    o[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

/*
 * Decode the escape at in[0] == '\\' (avail bytes available) into o[0..4);
 * *used gets the input bytes consumed. Output is never longer than *used.
 * A malformed escape yields the backslash itself, consuming one byte.
 */
static size_t decode_escape(const char *in, size_t avail, char *o, size_t *used)
{
    const unsigned char *p = (const unsigned char *)in;
    *used = 2;
    if (avail >= 2) {
        switch (p[1]) {
        case '"': o[0] = '"'; return 1;
        case '\\': o[0] = '\\'; return 1;
        case '/': o[0] = '/'; return 1;
        case 'b': o[0] = '\b'; return 1;
        case 'f': o[0] = '\f'; return 1;
        case 'n': o[0] = '\n'; return 1;
        case 'r': o[0] = '\r'; return 1;
        case 't': o[0] = '\t'; return 1;
        case 'u': {
            long u = hex4(p + 2, avail - 2);
            if (u < 0)
                break;
            *used = 6;
            if (u >= 0xD800 && u <= 0xDBFF && avail >= 12 && p[6] == '\\' && p[7] == 'u') {
                long lo = hex4(p + 8, avail - 8);
                if (lo >= 0xDC00 && lo <= 0xDFFF) {
                    *used = 12;
                    return put_utf8(0x10000 + (((unsigned long)u - 0xD800) << 10) +
                                        ((unsigned long)lo - 0xDC00),
                                    o);
                }
            }
            if (u >= 0xD800 && u <= 0xDFFF)
                u = 0xFFFD; /* lone surrogate */
            return put_utf8((unsigned long)u, o);
        }
        default: break;
        }
    }
    *used = 1;
    o[0] = '\\';
    return 1;
}

size_t asc_json_unescape(const char *in, size_t n, char *out)
{
    size_t i = 0, k = 0;
    while (i < n) {
        const char *bs = memchr(in + i, '\\', n - i);
        size_t run = bs != NULL ? (size_t)(bs - (in + i)) : n - i;
        memmove(out + k, in + i, run);
        i += run;
        k += run;
        if (bs == NULL)
            break;
        char tmp[4];
        size_t used, m = decode_escape(in + i, n - i, tmp, &used);
        memcpy(out + k, tmp, m);
        i += used;
        k += m;
    }
    return k;
}

/* raw[0..n) (a string body) equals s[0..slen) once unescaped. */
static int eq_unescaped(const char *raw, size_t n, const char *s, size_t slen)
{
    size_t i = 0, k = 0;
    while (i < n) {
        const char *bs = memchr(raw + i, '\\', n - i);
        size_t run = bs != NULL ? (size_t)(bs - (raw + i)) : n - i;
        if (slen - k < run || memcmp(raw + i, s + k, run) != 0)
            return 0;
        i += run;
        k += run;
        if (bs == NULL)
            break;
        char tmp[4];
        size_t used, m = decode_escape(raw + i, n - i, tmp, &used);
        if (slen - k < m || memcmp(tmp, s + k, m) != 0)
            return 0;
        i += used;
        k += m;
    }
    return k == slen;
}

static int tok_str_eq(const asc_json_t *j, int i, const char *s, size_t slen)
{
    const asc_json_tok_t *t = &j->tok[i];
    size_t n = (size_t)(t->end - t->start);
    /* unescaping never lengthens, so a shorter raw key cannot match */
    if (t->type != ASC_JSON_STRING || n < slen)
        return 0;
    return eq_unescaped(j->text + t->start, n, s, slen);
}

int asc_json_str_eq(const asc_json_t *j, int i, const char *s)
{
    if (!valid_index(j, i) || s == NULL)
        return 0;
    return tok_str_eq(j, i, s, strlen(s));
}

int asc_json_obj_get(const asc_json_t *j, int obj, const char *key)
{
    if (!valid_index(j, obj) || key == NULL || j->tok[obj].type != ASC_JSON_OBJECT)
        return -1;
    size_t klen = strlen(key);
    int k = obj + 1;
    for (int m = 0; m < j->tok[obj].size && k + 1 < j->ntok; m++) {
        if (tok_str_eq(j, k, key, klen))
            return k + 1;
        k = asc_json_skip(j, k);
    }
    return -1;
}

int asc_json_arr_get(const asc_json_t *j, int arr, int n)
{
    if (!valid_index(j, arr) || j->tok[arr].type != ASC_JSON_ARRAY || n < 0 ||
        n >= j->tok[arr].size)
        return -1;
    int k = arr + 1;
    for (int m = 0; m < n; m++)
        k = asc_json_skip(j, k);
    return k < j->ntok ? k : -1;
}

asc_err_t asc_json_str_dup(const asc_json_t *j, int i, asc_pool_t *pool, char **out, size_t *outlen)
{
    if (!valid_index(j, i) || j->tok[i].type != ASC_JSON_STRING)
        return ASC_EINVAL;
    const asc_json_tok_t *t = &j->tok[i];
    size_t n = (size_t)(t->end - t->start);
    char *d = asc_pool_alloc_n(pool, n + 1);
    if (d == NULL)
        return ASC_ETOOBIG;
    size_t m = asc_json_unescape(j->text + t->start, n, d);
    d[m] = '\0';
    *out = d;
    if (outlen != NULL)
        *outlen = m;
    return ASC_OK;
}

asc_err_t asc_json_get_int(const asc_json_t *j, int i, int64_t *out)
{
    if (!valid_index(j, i) || j->tok[i].type != ASC_JSON_NUMBER)
        return ASC_EINVAL;
    const char *p = j->text + j->tok[i].start, *end = j->text + j->tok[i].end;
    int neg = 0;
    uint64_t v = 0, limit;
    if (p < end && *p == '-') {
        neg = 1;
        p++;
    }
    if (p >= end)
        return ASC_EINVAL;
    limit = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
    for (; p < end; p++) {
        if (*p < '0' || *p > '9')
            return ASC_EINVAL;
        unsigned d = (unsigned)(*p - '0');
        if (v > (limit - d) / 10)
            return ASC_EINVAL;
        v = v * 10 + d;
    }
    if (neg)
        *out = v == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)v;
    else
        *out = (int64_t)v;
    return ASC_OK;
}

asc_err_t asc_json_get_double(const asc_json_t *j, int i, double *out)
{
    char small[64];
    char *buf = small, *endp = NULL;
    asc_err_t e = ASC_EINVAL;
    if (!valid_index(j, i) || j->tok[i].type != ASC_JSON_NUMBER)
        return ASC_EINVAL;
    size_t n = (size_t)(j->tok[i].end - j->tok[i].start);
    /* strtod needs a NUL-terminated copy; numbers may be arbitrarily long */
    if (n >= sizeof small) {
        buf = malloc(n + 1);
        if (buf == NULL)
            return ASC_ENOMEM;
    }
    memcpy(buf, j->text + j->tok[i].start, n);
    buf[n] = '\0';
    double d = strtod(buf, &endp);
    if (endp != buf + n || !isfinite(d))
        goto out;
    *out = d;
    e = ASC_OK;
out:
    if (buf != small)
        free(buf);
    return e;
}

int asc_json_is_true(const asc_json_t *j, int i)
{
    return valid_index(j, i) && j->tok[i].type == ASC_JSON_TRUE;
}

void asc_json_value_range(const asc_json_t *j, int i, size_t *start, size_t *end)
{
    if (!valid_index(j, i)) {
        *start = *end = 0;
        return;
    }
    const asc_json_tok_t *t = &j->tok[i];
    int q = t->type == ASC_JSON_STRING;
    *start = (size_t)(t->start - q);
    *end = (size_t)(t->end + q);
}

/*
 * Helpers shared by the Anthropic request decoder's files: error messages
 * in Anthropic's wording, member lookup, strings and raw values, canonical
 * message allocation.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "api/anthropic_int.h"

asc_err_t asc_api_anth_bad(asc_api_anth_ctx_t *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->err, c->errlen, fmt, ap);
    va_end(ap);
    return ASC_EINVAL;
}

void asc_api_anth_path(char *buf, size_t n, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, n, fmt, ap);
    va_end(ap);
}

asc_err_t asc_api_anth_too_big(asc_api_anth_ctx_t *c)
{
    snprintf(c->err, c->errlen, "request too large: it needs more memory than one request may use");
    return ASC_ETOOBIG;
}

const char *asc_api_anth_printable(const asc_api_anth_ctx_t *c, int t, char *buf, size_t n)
{
    const asc_json_tok_t *tk = &c->j->tok[t];
    size_t len = (size_t)(tk->end - tk->start), o = 0;
    const unsigned char *s = (const unsigned char *)c->j->text + tk->start;
    for (size_t i = 0; i < len && o + 4 < n; i++)
        buf[o++] = s[i] >= 0x20 && s[i] < 0x7f && s[i] != '"' && s[i] != '\\' ? (char)s[i] : '?';
    if (o + 4 >= n && o < len) {
        memcpy(buf + o, "...", 3);
        o += 3;
    }
    buf[o] = '\0';
    return buf;
}

asc_err_t asc_api_anth_extra(asc_api_anth_ctx_t *c, const char *path, int key)
{
    char k[72];
    asc_api_anth_printable(c, key, k, sizeof k);
    if (path[0] == '\0')
        return asc_api_anth_bad(c, "%s: Extra inputs are not permitted", k);
    return asc_api_anth_bad(c, "%s.%s: Extra inputs are not permitted", path, k);
}

int asc_api_anth_field(const asc_api_anth_ctx_t *c, int k, const char *const *names)
{
    for (int i = 0; names[i] != NULL; i++)
        if (asc_json_str_eq(c->j, k, names[i]))
            return i;
    return -1;
}

asc_err_t asc_api_anth_str(asc_api_anth_ctx_t *c, int t, asc_str_t *out)
{
    const asc_json_tok_t *tk = &c->j->tok[t];
    const char *s = c->j->text + tk->start;
    size_t n = (size_t)(tk->end - tk->start);
    if (memchr(s, '\\', n) == NULL) {
        out->p = s;
        out->n = n;
        return ASC_OK;
    }
    char *d = asc_pool_alloc_n(c->pool, n);
    if (d == NULL)
        return asc_api_anth_too_big(c);
    out->p = d;
    out->n = asc_json_unescape(s, n, d);
    return ASC_OK;
}

asc_err_t asc_api_anth_req_str(asc_api_anth_ctx_t *c, int t, const char *path, const char *name,
                               asc_str_t *out)
{
    if (t < 0)
        return asc_api_anth_bad(c, "%s.%s: Field required", path, name);
    if (ty(c, t) != ASC_JSON_STRING)
        return asc_api_anth_bad(c, "%s.%s: Input should be a valid string", path, name);
    asc_err_t e = asc_api_anth_str(c, t, out);
    if (e != ASC_OK)
        return e;
    if (out->n == 0)
        return asc_api_anth_bad(c, "%s.%s: String should have at least 1 character", path, name);
    return ASC_OK;
}

asc_err_t asc_api_anth_cache_control(asc_api_anth_ctx_t *c, int t, const char *path, asc_str_t *out)
{
    if (is_null(c, t))
        return ASC_OK;
    if (ty(c, t) != ASC_JSON_OBJECT)
        return asc_api_anth_bad(c, "%s.cache_control: Input should be an object", path);
    *out = raw_of(c, t);
    return ASC_OK;
}

asc_err_t asc_api_anth_push_msg(asc_api_anth_ctx_t *c, asc_msg_t **m)
{
    if (c->nmsgs >= c->cap)
        return asc_api_anth_bad(c, "messages: too many messages"); /* the bound is exact; never */
    *m = &c->msgs[c->nmsgs++];
    memset(*m, 0, sizeof **m);
    return ASC_OK;
}

void *asc_api_anth_alloc(asc_api_anth_ctx_t *c, size_t n, size_t size)
{
    void *p = asc_pool_alloc_n(c->pool, (n ? n : 1) * size);
    if (p != NULL)
        memset(p, 0, (n ? n : 1) * size);
    return p;
}

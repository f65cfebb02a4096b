/*
 * Decoder internals of the Responses dialect, shared by responses_decode.c
 * (the top level) and responses_input.c (input items and content parts):
 * the decoding context and small helpers over the strict parser's tokens.
 * Everything here is static inline: nothing is exported.
 */
#ifndef ASC_API_RESPONSES_DEC_H
#define ASC_API_RESPONSES_DEC_H

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "api/responses_int.h"
#include "json/json.h"

#define PATH_LEN 96 /* error-message paths such as input[12].content[3].image_url */

typedef struct {
    asc_pool_t *pool;
    const asc_json_t *j;
    char *err;
    size_t errlen;
    char notes[200]; /* dropped hints, reported in err on success */
    asc_chat_req_t *out;
    size_t cap; /* room in out->msgs */
} asc_resp_dec_t;

static inline asc_err_t fail(asc_resp_dec_t *d, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static inline asc_err_t fail(asc_resp_dec_t *d, const char *fmt, ...)
{
    if (d->errlen > 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(d->err, d->errlen, fmt, ap);
        va_end(ap);
    }
    return ASC_EINVAL;
}

static inline asc_err_t too_big(asc_resp_dec_t *d)
{
    if (d->errlen > 0)
        snprintf(d->err, d->errlen, "request too large or too complex to translate");
    return ASC_ETOOBIG;
}

static inline void note(asc_resp_dec_t *d, const char *field)
{
    if (strstr(d->notes, field) != NULL)
        return;
    size_t n = strlen(d->notes);
    snprintf(d->notes + n, sizeof d->notes - n, "%s%s", n ? ", " : "", field);
}

/* The raw text of string token k as printable ASCII (at most 64
 * characters): client bytes never reach a message unfiltered. */
static inline const char *key_name(const asc_json_t *j, int k, char *buf, size_t n)
{
    const asc_json_tok_t *t = &j->tok[k];
    size_t len = (size_t)(t->end - t->start), o = 0;
    for (size_t i = 0; i < len && o + 4 < n && i < 64; i++) {
        unsigned char c = (unsigned char)j->text[t->start + (int)i];
        buf[o++] = c >= 0x20 && c < 0x7f && c != '"' && c != '\\' ? (char)c : '?';
    }
    if (len > 64 && o + 4 < n) {
        memcpy(buf + o, "...", 3);
        o += 3;
    }
    buf[o] = '\0';
    return buf;
}

/* dst (PATH_LEN bytes) = base + the formatted suffix, cut to fit. */
static inline void sub_path(char *dst, const char *base, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static inline void sub_path(char *dst, const char *base, const char *fmt, ...)
{
    size_t n = strnlen(base, PATH_LEN - 1);
    memmove(dst, base, n);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(dst + n, PATH_LEN - n, fmt, ap);
    va_end(ap);
}

static inline int is_null(const asc_json_t *j, int t)
{
    return t < 0 || j->tok[t].type == ASC_JSON_NULL;
}

static inline int type_is(const asc_json_t *j, int t, asc_json_type_t ty)
{
    return t >= 0 && j->tok[t].type == ty;
}

static inline int is_bool(const asc_json_t *j, int t)
{
    return type_is(j, t, ASC_JSON_TRUE) || type_is(j, t, ASC_JSON_FALSE);
}

static inline int str_len(const asc_json_t *j, int t)
{
    return j->tok[t].end - j->tok[t].start;
}

/* String token t: a view into the body when it has no escape, else an
 * unescaped pool copy. */
static inline asc_err_t get_str(asc_resp_dec_t *d, int t, asc_str_t *out)
{
    const asc_json_tok_t *k = &d->j->tok[t];
    const char *p = d->j->text + k->start;
    size_t n = (size_t)(k->end - k->start);
    if (memchr(p, '\\', n) == NULL) {
        *out = (asc_str_t){p, n};
        return ASC_OK;
    }
    char *s = NULL;
    size_t m = 0;
    if (asc_json_str_dup(d->j, t, d->pool, &s, &m) != ASC_OK)
        return too_big(d);
    *out = (asc_str_t){s, m};
    return ASC_OK;
}

/* The whole JSON value of token t, as body bytes. */
static inline asc_str_t raw(const asc_json_t *j, int t)
{
    size_t s = 0, e = 0;
    asc_json_value_range(j, t, &s, &e);
    return (asc_str_t){j->text + s, e - s};
}

static inline void *alloc_n(asc_resp_dec_t *d, size_t count, size_t size)
{
    if (count == 0)
        count = 1;
    if (count > (size_t)-1 / size)
        return NULL;
    void *p = asc_pool_alloc_n(d->pool, count * size);
    if (p != NULL)
        memset(p, 0, count * size);
    return p;
}

/* Collect the members of object obj into f[] by name (null values count as
 * absent, -1). An unknown key is ASC_EINVAL naming it under `path`. */
static inline asc_err_t members(asc_resp_dec_t *d, int obj, const char *const *names, int count,
                                int *f, const char *path)
{
    const asc_json_t *j = d->j;
    for (int i = 0; i < count; i++)
        f[i] = -1;
    int k = obj + 1;
    for (int m = 0; m < j->tok[obj].size; m++) {
        int idx = -1;
        for (int i = 0; i < count && idx < 0; i++)
            if (asc_json_str_eq(j, k, names[i]))
                idx = i;
        if (idx < 0) {
            char kb[80];
            return fail(d, "%s%s%s: unknown parameter", path, path[0] ? "." : "",
                        key_name(j, k, kb, sizeof kb));
        }
        if (!is_null(j, k + 1))
            f[idx] = k + 1;
        k = asc_json_skip(j, k + 1);
    }
    return ASC_OK;
}

static inline asc_err_t want_str(asc_resp_dec_t *d, int t, const char *path, int nonempty,
                                 asc_str_t *out)
{
    if (!type_is(d->j, t, ASC_JSON_STRING) || (nonempty && str_len(d->j, t) == 0))
        return fail(d, "%s: must be a %sstring", path, nonempty ? "non-empty " : "");
    return get_str(d, t, out);
}

/* `direct` is the only caller asc can reproduce. */
static inline asc_err_t check_caller(asc_resp_dec_t *d, int t, const char *path)
{
    if (t < 0)
        return ASC_OK;
    int ty = type_is(d->j, t, ASC_JSON_OBJECT) ? asc_json_obj_get(d->j, t, "type") : -1;
    if (ty < 0 || !asc_json_str_eq(d->j, ty, "direct") || d->j->tok[t].size != 1)
        return fail(d, "%s.caller: only {\"type\":\"direct\"} is supported", path);
    return ASC_OK;
}

/* instructions + input into out->msgs (responses_input.c). */
asc_err_t asc_api_resp_decode_input(asc_resp_dec_t *d, int in, int instr);

#endif

/*
 * The dialect-independent parts of a chat answer: the model name with its
 * parameters, the max_tokens cut, the completion token count.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mock/mock_int.h"

asc_err_t asc_mock_chat_model(asc_mock_chat_t *c, const char *model, size_t len,
                              const asc_mock_params_t *hdr, asc_pool_t *pool, char *err,
                              size_t errlen)
{
    size_t nl = 0;
    asc_mock_params_default(&c->p);
    asc_err_t e = asc_mock_params_model(&c->p, model, len, &nl, err, errlen);
    if (e != ASC_OK)
        return e;
    if (nl > ASC_MOCK_MAX_MODEL) {
        snprintf(err, errlen, "model name is longer than %d bytes", ASC_MOCK_MAX_MODEL);
        return ASC_EINVAL;
    }
    /* The model name's parameters, then a runtime override, then headers. */
    asc_mock_override_apply(&c->p, model, nl);
    if (hdr != NULL)
        asc_mock_params_overlay(&c->p, hdr);
    c->model = asc_pool_strndup(pool, model, nl);
    c->model_len = nl;
    return ASC_OK;
}

void asc_mock_chat_limit(asc_mock_chat_t *c, long long max_tokens)
{
    c->out_tokens = c->p.tokens;
    c->length_cut = 0;
    if (max_tokens >= 0 && (unsigned long long)max_tokens < c->out_tokens) {
        c->out_tokens = (uint32_t)max_tokens;
        c->length_cut = 1;
    }
}

uint32_t asc_mock_chat_completion_tokens(const asc_mock_chat_t *c)
{
    return c->ncalls > 0 ? c->call_tokens : c->out_tokens;
}

static int cmp_name(const void *key, const void *elem)
{
    return strcmp((const char *)key, *(const char *const *)elem);
}

int asc_mock_known(const char *const *sorted, size_t n, const char *name)
{
    return bsearch(name, sorted, n, sizeof *sorted, cmp_name) != NULL;
}

int asc_mock_json_int(const cJSON *x, long long *out)
{
    if (!cJSON_IsNumber(x))
        return 0;
    double d = x->valuedouble;
    if (!(d >= -9.0e15 && d <= 9.0e15) || d != (double)(long long)d)
        return 0;
    *out = (long long)d;
    return 1;
}

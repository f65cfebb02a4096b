/*
 * Tool calls of the mock: when to produce them, which tools, and the
 * generated arguments (every required property with a fixed value).
 */
#include <stdio.h>
#include <string.h>

#include "mock/mock_int.h"

void asc_mock_tools_scan_text(asc_mock_toolreq_t *tr, const char *s, size_t n)
{
    /* Without tools there is nothing to call: skip the scan (fast path). */
    if (s == NULL || tr->ndefs == 0 || tr->choice == ASC_MOCK_CHOICE_NONE)
        return;
    if (asc_mock_contains_ci(s, n, "tool", 4))
        tr->mentioned = 1;
    for (unsigned i = 0; i < tr->ndefs; i++) {
        const asc_mock_tooldef_t *d = &tr->defs[i];
        if (d->name_len == 0 || d->name_len > n || memmem(s, n, d->name, d->name_len) == NULL)
            continue;
        tr->mentioned = 1;
        if (tr->hits != NULL)
            tr->hits[i] = 1;
    }
}

/* The first type named by a schema's "type" (a string, or an array whose
 * first non-"null" string counts). */
static const char *schema_type(const cJSON *prop)
{
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(prop, "type");
    if (cJSON_IsString(t))
        return t->valuestring;
    if (cJSON_IsArray(t)) {
        const cJSON *x;
        cJSON_ArrayForEach(x, t)
        {
            if (cJSON_IsString(x) && strcmp(x->valuestring, "null") != 0)
                return x->valuestring;
        }
    }
    return NULL;
}

void asc_mock_tool_args(asc_buf_t *b, const cJSON *schema)
{
    const cJSON *req = cJSON_GetObjectItemCaseSensitive(schema, "required");
    const cJSON *props = cJSON_GetObjectItemCaseSensitive(schema, "properties");
    const cJSON *r;
    int first = 1;
    asc_buf_putc(b, '{');
    cJSON_ArrayForEach(r, (cJSON_IsArray(req) ? req : NULL))
    {
        if (!cJSON_IsString(r))
            continue;
        const cJSON *prop =
            cJSON_IsObject(props) ? cJSON_GetObjectItemCaseSensitive(props, r->valuestring) : NULL;
        const char *t = prop ? schema_type(prop) : NULL;
        const char *v = "\"test\"";
        if (t == NULL)
            v = "\"test\"";
        else if (strcmp(t, "number") == 0 || strcmp(t, "integer") == 0)
            v = "1";
        else if (strcmp(t, "boolean") == 0)
            v = "true";
        else if (strcmp(t, "array") == 0)
            v = "[]";
        else if (strcmp(t, "object") == 0)
            v = "{}";
        if (!first)
            asc_buf_putc(b, ',');
        first = 0;
        asc_buf_putc(b, '"');
        asc_mock_json_str_utf8(b, r->valuestring, strlen(r->valuestring));
        asc_buf_append(b, "\":", 2);
        asc_buf_puts(b, v);
    }
    asc_buf_putc(b, '}');
}

static void call_id(const asc_mock_chat_t *c, char id[40])
{
    uint64_t n = asc_mock_next_id();
    switch (c->d->id) {
    case ASC_MOCK_ANTHROPIC: snprintf(id, 40, "toolu_mock%llu", (unsigned long long)n); break;
    case ASC_MOCK_MISTRAL: asc_mock_id9(n, id); break;
    default: snprintf(id, 40, "call_mock%llu", (unsigned long long)n);
    }
}

asc_err_t asc_mock_tools_plan(asc_mock_chat_t *c, const asc_mock_toolreq_t *tr, asc_pool_t *pool,
                              char *err, size_t errlen)
{
    asc_err_t e = ASC_OK;
    asc_buf_t args;
    asc_buf_init(&args, 0);
    c->ncalls = 0;
    c->calls = NULL;
    if (tr->ndefs == 0 || tr->choice == ASC_MOCK_CHOICE_NONE || tr->last_is_tool_result)
        goto out;
    int forced = tr->choice == ASC_MOCK_CHOICE_ANY || tr->choice == ASC_MOCK_CHOICE_NAMED;
    if (!forced && !(tr->last_is_user && tr->mentioned))
        goto out;

    unsigned *cand = asc_pool_alloc(pool, sizeof *cand * tr->ndefs);
    unsigned ncand = 0;
    if (tr->choice == ASC_MOCK_CHOICE_NAMED) {
        for (unsigned i = 0; i < tr->ndefs && ncand == 0; i++) {
            if (tr->defs[i].name_len == tr->forced_len &&
                memcmp(tr->defs[i].name, tr->forced, tr->forced_len) == 0)
                cand[ncand++] = i;
        }
        if (ncand == 0) {
            snprintf(err, errlen, "tool_choice names '%.*s', which is not in tools",
                     (int)(tr->forced_len > 64 ? 64 : tr->forced_len), tr->forced);
            e = ASC_EINVAL;
            goto out;
        }
    } else {
        for (unsigned i = 0; tr->hits != NULL && i < tr->ndefs; i++)
            if (tr->hits[i])
                cand[ncand++] = i;
        if (ncand == 0)
            for (unsigned i = 0; i < tr->ndefs; i++)
                cand[ncand++] = i;
    }

    unsigned n = tr->single ? 1 : c->p.tool_calls;
    size_t bytes = 0;
    c->calls = asc_pool_alloc(pool, sizeof *c->calls * n);
    for (unsigned i = 0; i < n; i++) {
        const asc_mock_tooldef_t *d = &tr->defs[cand[i % ncand]];
        asc_mock_call_t *call = &c->calls[i];
        asc_buf_clear(&args);
        asc_mock_tool_args(&args, d->schema);
        if (args.data == NULL || args.len > ASC_MOCK_MAX_ARGS) {
            snprintf(err, errlen, "the arguments of tool '%.*s' would exceed %d bytes",
                     (int)(d->name_len > 64 ? 64 : d->name_len), d->name, ASC_MOCK_MAX_ARGS);
            e = ASC_EINVAL;
            goto out;
        }
        call->name = asc_pool_strndup(pool, d->name, d->name_len); /* d->name dies with the JSON */
        call->name_len = d->name_len;
        call->args = asc_pool_strndup(pool, args.data, args.len);
        call->args_len = args.len;
        call_id(c, call->id);
        bytes += d->name_len + args.len;
    }
    c->ncalls = n;
    c->call_tokens = asc_mock_count_tokens(bytes);
    c->length_cut = 0;
out:
    asc_buf_free(&args);
    return e;
}

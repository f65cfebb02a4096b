/*
 * Mistral dialect of the mock (the paths under /mistral). Mistral's API is
 * OpenAI-shaped but refuses every field outside its published schema with
 * 422 extra_forbidden, at the top level and inside messages; this file
 * holds that schema and the error formats, openai.c the rest.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mock/mock_int.h"

/* ChatCompletionRequest of @mistralai/mistralai (wire names), sorted. */
static const char *const chat_fields[] = {
    "frequency_penalty",
    "guardrails",
    "max_tokens",
    "messages",
    "metadata",
    "model",
    "n",
    "parallel_tool_calls",
    "prediction",
    "presence_penalty",
    "prompt_cache_key",
    "prompt_mode",
    "random_seed",
    "reasoning_effort",
    "response_format",
    "safe_prompt",
    "service_tier",
    "stop",
    "stream",
    "temperature",
    "tool_choice",
    "tools",
    "top_p",
};

/* Message fields by role, sorted. */
static const char *const sys_user_fields[] = {"content", "role"};
static const char *const assistant_fields[] = {"content", "prefix", "role", "tool_calls"};
static const char *const tool_fields[] = {"content", "name", "role", "tool_call_id"};

#define N(a) (sizeof(a) / sizeof(a)[0])

void asc_mock_verr_init(asc_mock_verr_t *v)
{
    asc_buf_init(&v->detail, 0);
    v->n = 0;
}

void asc_mock_verr_add(asc_mock_verr_t *v, const char *type, const char *msg, const char *loc,
                       const cJSON *input)
{
    asc_buf_t *b = &v->detail;
    if (v->n > 0)
        asc_buf_putc(b, ',');
    v->n++;
    asc_buf_printf(b, "{\"type\":\"%s\",\"loc\":[%s],\"msg\":\"%s\",\"input\":", type, loc, msg);
    char *printed = input ? cJSON_PrintUnformatted(input) : NULL;
    if (printed != NULL && strlen(printed) <= 4096)
        asc_buf_puts(b, printed);
    else
        asc_buf_puts(b, "null");
    free(printed);
    asc_buf_putc(b, '}');
}

int asc_mock_verr_finish(asc_mock_verr_t *v, asc_buf_t *out)
{
    asc_buf_clear(out);
    asc_buf_puts(out, "{\"object\":\"error\",\"message\":{\"detail\":[");
    if (v->detail.len > 0)
        asc_buf_append(out, v->detail.data, v->detail.len);
    asc_buf_puts(out, "]},\"type\":\"invalid_request_error\",\"param\":null,\"code\":null}");
    asc_buf_free(&v->detail);
    v->n = 0;
    return 422;
}

void asc_mock_verr_extras(asc_mock_verr_t *v, const cJSON *obj, const char *const *allowed,
                          size_t n, const char *loc_prefix)
{
    const cJSON *f;
    asc_buf_t loc;
    asc_buf_init(&loc, 0);
    cJSON_ArrayForEach(f, (cJSON_IsObject(obj) ? obj : NULL))
    {
        if (asc_mock_known(allowed, n, f->string))
            continue;
        asc_buf_clear(&loc);
        asc_buf_puts(&loc, loc_prefix);
        asc_buf_puts(&loc, ",\"");
        asc_mock_json_str_utf8(&loc, f->string, strlen(f->string));
        asc_buf_putc(&loc, '"');
        asc_mock_verr_add(v, "extra_forbidden", "Extra inputs are not permitted", loc.data, f);
    }
    asc_buf_free(&loc);
}

static int mistral_chat_parse(asc_mock_chat_t *c, const cJSON *root, const asc_mock_params_t *hdr,
                              asc_pool_t *pool, asc_buf_t *err)
{
    if (!cJSON_IsObject(root)) {
        asc_buf_clear(err);
        return c->d->error(err, ASC_MOCK_E_INVALID, "Invalid body: expected a JSON object.");
    }
    asc_mock_verr_t v;
    asc_mock_verr_init(&v);
    asc_mock_verr_extras(&v, root, chat_fields, N(chat_fields), "\"body\"");
    if (!cJSON_IsString(cJSON_GetObjectItemCaseSensitive(root, "model")))
        asc_mock_verr_add(&v, "missing", "Field required", "\"body\",\"model\"", NULL);
    const cJSON *msgs = cJSON_GetObjectItemCaseSensitive(root, "messages");
    if (!cJSON_IsArray(msgs))
        asc_mock_verr_add(&v, "missing", "Field required", "\"body\",\"messages\"", NULL);
    const cJSON *m;
    int i = 0;
    char loc[96];
    cJSON_ArrayForEach(m, (cJSON_IsArray(msgs) ? msgs : NULL))
    {
        const cJSON *role = cJSON_GetObjectItemCaseSensitive(m, "role");
        const char *r = cJSON_IsString(role) ? role->valuestring : "";
        const char *const *allowed = sys_user_fields;
        size_t n = N(sys_user_fields);
        if (strcmp(r, "assistant") == 0) {
            allowed = assistant_fields;
            n = N(assistant_fields);
        } else if (strcmp(r, "tool") == 0) {
            allowed = tool_fields;
            n = N(tool_fields);
        } else if (strcmp(r, "system") != 0 && strcmp(r, "user") != 0) {
            i++;
            continue; /* the role itself is refused below */
        }
        snprintf(loc, sizeof loc, "\"body\",\"messages\",%d,\"%s\"", i, r);
        asc_mock_verr_extras(&v, m, allowed, n, loc);
        i++;
    }
    if (v.n > 0)
        return asc_mock_verr_finish(&v, err);
    asc_buf_free(&v.detail);
    return asc_mock_oai_chat_parse(c, root, hdr, pool, err);
}

static int mistral_error(asc_buf_t *b, asc_mock_ekind_t kind, const char *msg)
{
    int status = 400;
    const char *type = "invalid_request_error", *code = NULL;
    switch (kind) {
    case ASC_MOCK_E_INVALID: break;
    case ASC_MOCK_E_AUTH:
        status = 401;
        type = "authentication_error";
        if (msg == NULL)
            msg = "Unauthorized";
        break;
    case ASC_MOCK_E_NOT_FOUND:
        status = 404;
        type = "not_found";
        break;
    case ASC_MOCK_E_RATE_LIMIT:
        status = 429;
        type = "rate_limited";
        code = "1300";
        if (msg == NULL)
            msg = "Requests rate limit exceeded";
        break;
    case ASC_MOCK_E_SERVER:
        status = 500;
        type = "internal_server_error";
        if (msg == NULL)
            msg = "Internal server error";
        break;
    case ASC_MOCK_E_UNAVAILABLE:
        status = 503;
        type = "service_unavailable";
        if (msg == NULL)
            msg = "Service unavailable";
        break;
    case ASC_MOCK_E_OVERLOADED:
        status = 503;
        type = "service_unavailable";
        code = "overloaded";
        if (msg == NULL)
            msg = "The server is overloaded";
        break;
    }
    if (msg == NULL)
        msg = "Bad request";
    asc_buf_puts(b, "{\"object\":\"error\",\"message\":\"");
    asc_mock_json_str_utf8(b, msg, strlen(msg));
    asc_buf_printf(b, "\",\"type\":\"%s\",\"param\":null,\"code\":", type);
    if (code != NULL)
        asc_buf_printf(b, "\"%s\"}", code);
    else
        asc_buf_puts(b, "null}");
    return status;
}

static int mistral_context_error(asc_buf_t *b, uint32_t tokens)
{
    char msg[160];
    snprintf(msg, sizeof msg,
             "Prompt contains %u tokens and 0 draft tokens, too large for model with %d maximum "
             "context length",
             tokens, ASC_MOCK_CONTEXT_WINDOW);
    return mistral_error(b, ASC_MOCK_E_INVALID, msg);
}

const asc_mock_dialect_t asc_mock_mistral = {
    .version = 1,
    .id = ASC_MOCK_MISTRAL,
    .chat_parse = mistral_chat_parse,
    .error = mistral_error,
    .body = asc_mock_oai_body,
    .head = asc_mock_oai_head,
    .unit = asc_mock_oai_unit,
    .tail = asc_mock_oai_tail,
    .error_event = asc_mock_oai_error_event,
    .context_error = mistral_context_error,
    .malformed = asc_mock_oai_malformed,
    .tool_units = asc_mock_oai_tool_units,
};

/*
 * OpenAI Chat Completions dialect of the mock: request validation and the
 * response / SSE chunk builders. Mistral (mistral.c) reuses the parser and
 * the builders, which check c->d->id for its few differences (no
 * system_fingerprint, usage only in the final chunk, whole tool calls).
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "mock/mock_int.h"

/* Top-level fields of ChatCompletionCreateParams (openai-node), sorted. */
static const char *const oai_fields[] = {
    "audio",
    "frequency_penalty",
    "function_call",
    "functions",
    "logit_bias",
    "logprobs",
    "max_completion_tokens",
    "max_tokens",
    "messages",
    "metadata",
    "modalities",
    "model",
    "moderation",
    "n",
    "parallel_tool_calls",
    "prediction",
    "presence_penalty",
    "prompt_cache_key",
    "prompt_cache_options",
    "prompt_cache_retention",
    "reasoning_effort",
    "response_format",
    "safety_identifier",
    "seed",
    "service_tier",
    "stop",
    "store",
    "stream",
    "stream_options",
    "temperature",
    "tool_choice",
    "tools",
    "top_logprobs",
    "top_p",
    "user",
    "verbosity",
    "web_search_options",
};

static int mistral(const asc_mock_chat_t *c)
{
    return c->d->id == ASC_MOCK_MISTRAL;
}

static int fail(const asc_mock_chat_t *c, asc_buf_t *err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(const asc_mock_chat_t *c, asc_buf_t *err, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    asc_buf_clear(err);
    return c->d->error(err, ASC_MOCK_E_INVALID, msg);
}

static const char *json_type(const cJSON *x)
{
    if (cJSON_IsNull(x))
        return "null";
    if (cJSON_IsBool(x))
        return "a boolean";
    if (cJSON_IsNumber(x))
        return "a number";
    if (cJSON_IsString(x))
        return "a string";
    if (cJSON_IsArray(x))
        return "an array";
    return "an object";
}

/* Visit the text of a message content: a string, or the "text" of parts of
 * type "text". */
static size_t content_text(const cJSON *content, asc_mock_toolreq_t *scan)
{
    size_t n = 0;
    if (cJSON_IsString(content)) {
        n = strlen(content->valuestring);
        if (scan != NULL)
            asc_mock_tools_scan_text(scan, content->valuestring, n);
        return n;
    }
    const cJSON *part;
    cJSON_ArrayForEach(part, (cJSON_IsArray(content) ? content : NULL))
    {
        const cJSON *t = cJSON_GetObjectItemCaseSensitive(part, "type");
        const cJSON *text = cJSON_GetObjectItemCaseSensitive(part, "text");
        if (!cJSON_IsString(t) || strcmp(t->valuestring, "text") != 0 || !cJSON_IsString(text))
            continue;
        size_t l = strlen(text->valuestring);
        n += l;
        if (scan != NULL)
            asc_mock_tools_scan_text(scan, text->valuestring, l);
    }
    return n;
}

static int valid_role(const asc_mock_chat_t *c, const char *r)
{
    if (strcmp(r, "system") == 0 || strcmp(r, "user") == 0 || strcmp(r, "assistant") == 0 ||
        strcmp(r, "tool") == 0)
        return 1;
    return !mistral(c) && (strcmp(r, "developer") == 0 || strcmp(r, "function") == 0);
}

static int parse_tools(asc_mock_chat_t *c, const cJSON *root, asc_mock_toolreq_t *tr,
                       asc_pool_t *pool, asc_buf_t *err)
{
    const cJSON *tools = cJSON_GetObjectItemCaseSensitive(root, "tools");
    const cJSON *tc = cJSON_GetObjectItemCaseSensitive(root, "tool_choice");
    const cJSON *ptc = cJSON_GetObjectItemCaseSensitive(root, "parallel_tool_calls");
    if (tools != NULL && !cJSON_IsNull(tools)) {
        if (!cJSON_IsArray(tools))
            return fail(c, err, "Invalid type for 'tools': expected an array, but got %s instead.",
                        json_type(tools));
        int n = cJSON_GetArraySize(tools);
        tr->defs = asc_pool_alloc(pool, sizeof *tr->defs * (size_t)(n + 1));
        tr->hits = asc_pool_alloc(pool, sizeof *tr->hits * (size_t)(n + 1));
        memset(tr->hits, 0, sizeof *tr->hits * (size_t)(n + 1));
        const cJSON *t;
        int i = 0;
        cJSON_ArrayForEach(t, tools)
        {
            const cJSON *type = cJSON_GetObjectItemCaseSensitive(t, "type");
            const cJSON *fn = cJSON_GetObjectItemCaseSensitive(t, "function");
            if (!cJSON_IsObject(t))
                return fail(c, err, "Invalid type for 'tools[%d]': expected an object.", i);
            if (cJSON_IsString(type) && strcmp(type->valuestring, "function") != 0) {
                i++;
                continue; /* custom tools are never called by the mock */
            }
            const cJSON *name = cJSON_GetObjectItemCaseSensitive(fn, "name");
            if (!cJSON_IsString(name) || name->valuestring[0] == '\0')
                return fail(c, err, "Missing required parameter: 'tools[%d].function.name'.", i);
            size_t nl = strlen(name->valuestring);
            if (nl > ASC_MOCK_MAX_TOOL_NAME)
                return fail(c, err,
                            "Invalid 'tools[%d].function.name': string too long. Expected a "
                            "string with maximum length %d.",
                            i, ASC_MOCK_MAX_TOOL_NAME);
            asc_mock_tooldef_t *d = &tr->defs[tr->ndefs++];
            d->name = name->valuestring;
            d->name_len = nl;
            d->schema = cJSON_GetObjectItemCaseSensitive(fn, "parameters");
            i++;
        }
    }
    tr->choice = ASC_MOCK_CHOICE_AUTO;
    if (tc != NULL && !cJSON_IsNull(tc)) {
        if (tools == NULL || cJSON_IsNull(tools))
            return fail(c, err,
                        "Invalid value for 'tool_choice': 'tool_choice' is only allowed when "
                        "'tools' are specified.");
        if (cJSON_IsString(tc)) {
            const char *s = tc->valuestring;
            if (strcmp(s, "none") == 0)
                tr->choice = ASC_MOCK_CHOICE_NONE;
            else if (strcmp(s, "auto") == 0)
                tr->choice = ASC_MOCK_CHOICE_AUTO;
            else if (strcmp(s, "required") == 0 || (mistral(c) && strcmp(s, "any") == 0))
                tr->choice = ASC_MOCK_CHOICE_ANY;
            else
                return fail(c, err,
                            "Invalid value: '%.64s'. Supported values are: 'none', 'auto', and "
                            "'required'.",
                            s);
        } else if (cJSON_IsObject(tc)) {
            const cJSON *fn = cJSON_GetObjectItemCaseSensitive(tc, "function");
            const cJSON *name = cJSON_GetObjectItemCaseSensitive(fn, "name");
            if (cJSON_IsString(name)) {
                tr->choice = ASC_MOCK_CHOICE_NAMED;
                tr->forced = name->valuestring;
                tr->forced_len = strlen(name->valuestring);
            }
        } else {
            return fail(c, err, "Invalid type for 'tool_choice': expected a string or an object.");
        }
    }
    if (cJSON_IsFalse(ptc))
        tr->single = 1;
    return 0;
}

int asc_mock_oai_chat_parse(asc_mock_chat_t *c, const cJSON *root, const asc_mock_params_t *hdr,
                            asc_pool_t *pool, asc_buf_t *err)
{
    char msg[256];
    const cJSON *model = cJSON_GetObjectItemCaseSensitive(root, "model");
    if (!cJSON_IsString(model))
        return fail(c, err, "you must provide a model parameter");
    if (asc_mock_chat_model(c, model->valuestring, strlen(model->valuestring), hdr, pool, msg,
                            sizeof msg) != ASC_OK)
        return fail(c, err, "%s", msg);

    const cJSON *msgs = cJSON_GetObjectItemCaseSensitive(root, "messages");
    if (msgs == NULL || cJSON_IsNull(msgs))
        return fail(c, err, "Missing required parameter: 'messages'.");
    if (!cJSON_IsArray(msgs))
        return fail(c, err,
                    "Invalid type for 'messages': expected an array of objects, but got %s "
                    "instead.",
                    json_type(msgs));
    if (cJSON_GetArraySize(msgs) == 0)
        return fail(c, err,
                    "Invalid 'messages': empty array. Expected an array with minimum length 1, "
                    "but got an empty array instead.");

    asc_mock_toolreq_t tr;
    memset(&tr, 0, sizeof tr);
    int rc = parse_tools(c, root, &tr, pool, err);
    if (rc != 0)
        return rc;

    size_t bytes = 0;
    int i = 0;
    const cJSON *m, *last = NULL;
    cJSON_ArrayForEach(m, msgs)
    {
        if (!cJSON_IsObject(m))
            return fail(c, err,
                        "Invalid type for 'messages[%d]': expected an object, but got %s instead.",
                        i, json_type(m));
        const cJSON *role = cJSON_GetObjectItemCaseSensitive(m, "role");
        if (!cJSON_IsString(role))
            return fail(c, err, "Missing required parameter: 'messages[%d].role'.", i);
        if (!valid_role(c, role->valuestring))
            return fail(c, err,
                        mistral(c) ? "Invalid value for 'messages[%d].role': '%.32s'. Supported "
                                     "values are: 'system', 'user', 'assistant' and 'tool'."
                                   : "Invalid value for 'messages[%d].role': '%.32s'. Supported "
                                     "values are: 'system', 'assistant', 'user', 'function', "
                                     "'tool', and 'developer'.",
                        i, role->valuestring);
        last = m;
        i++;
    }
    cJSON_ArrayForEach(m, msgs)
    {
        const cJSON *content = cJSON_GetObjectItemCaseSensitive(m, "content");
        bytes += content_text(content, m == last ? &tr : NULL);
    }
    c->prompt_tokens = asc_mock_count_tokens(bytes);
    const char *last_role = cJSON_GetObjectItemCaseSensitive(last, "role")->valuestring;
    tr.last_is_user = strcmp(last_role, "user") == 0;
    tr.last_is_tool_result = strcmp(last_role, "tool") == 0 || strcmp(last_role, "function") == 0;
    if (!tr.last_is_user) {
        tr.mentioned = 0;
        if (tr.hits != NULL)
            memset(tr.hits, 0, sizeof *tr.hits * tr.ndefs);
    }

    const cJSON *st = cJSON_GetObjectItemCaseSensitive(root, "stream");
    if (st != NULL && !cJSON_IsNull(st) && !cJSON_IsBool(st))
        return fail(c, err, "Invalid type for 'stream': expected a boolean, but got %s instead.",
                    json_type(st));
    c->stream = cJSON_IsTrue(st);
    const cJSON *so = cJSON_GetObjectItemCaseSensitive(root, "stream_options");
    if (so != NULL && !cJSON_IsNull(so)) {
        if (!cJSON_IsObject(so))
            return fail(c, err,
                        "Invalid type for 'stream_options': expected an object, but got %s "
                        "instead.",
                        json_type(so));
        if (!c->stream)
            return fail(c, err,
                        "The 'stream_options' parameter is only allowed when 'stream' is "
                        "enabled.");
        c->include_usage = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(so, "include_usage"));
    }

    long long mt = -1;
    const char *mt_name = "max_completion_tokens";
    const cJSON *x = cJSON_GetObjectItemCaseSensitive(root, mt_name);
    if (x == NULL || cJSON_IsNull(x)) {
        mt_name = "max_tokens";
        x = cJSON_GetObjectItemCaseSensitive(root, mt_name);
    }
    if (x != NULL && !cJSON_IsNull(x)) {
        if (!asc_mock_json_int(x, &mt))
            return fail(c, err, "Invalid type for '%s': expected an integer, but got %s instead.",
                        mt_name, json_type(x));
        if (mt < (mistral(c) ? 0 : 1))
            return fail(c, err,
                        "Invalid '%s': integer below minimum value. Expected a value >= %d, but "
                        "got %lld instead.",
                        mt_name, mistral(c) ? 0 : 1, mt);
    }
    asc_mock_chat_limit(c, mt);
    if (asc_mock_tools_plan(c, &tr, pool, msg, sizeof msg) != ASC_OK)
        return fail(c, err, "%s", msg);
    return 0;
}

static int oai_chat_parse(asc_mock_chat_t *c, const cJSON *root, const asc_mock_params_t *hdr,
                          asc_pool_t *pool, asc_buf_t *err)
{
    const cJSON *f;
    if (!cJSON_IsObject(root))
        return fail(c, err, "Invalid body: expected a JSON object.");
    cJSON_ArrayForEach(f, root)
    {
        if (!asc_mock_known(oai_fields, sizeof oai_fields / sizeof oai_fields[0], f->string))
            return fail(c, err, "Unrecognized request argument supplied: %.128s", f->string);
    }
    return asc_mock_oai_chat_parse(c, root, hdr, pool, err);
}

static int oai_error(asc_buf_t *b, asc_mock_ekind_t kind, const char *msg)
{
    int status = 400;
    const char *type = "invalid_request_error", *code = NULL;
    switch (kind) {
    case ASC_MOCK_E_INVALID: break;
    case ASC_MOCK_E_AUTH:
        status = 401;
        code = "invalid_api_key";
        if (msg == NULL)
            msg = "Incorrect API key provided";
        break;
    case ASC_MOCK_E_NOT_FOUND:
        status = 404;
        code = "not_found";
        break;
    case ASC_MOCK_E_RATE_LIMIT:
        status = 429;
        type = "requests";
        code = "rate_limit_exceeded";
        if (msg == NULL)
            msg = "Rate limit reached for requests";
        break;
    case ASC_MOCK_E_SERVER:
        status = 500;
        type = "server_error";
        if (msg == NULL)
            msg = "The server had an error while processing your request. Sorry about that!";
        break;
    case ASC_MOCK_E_UNAVAILABLE:
        status = 503;
        type = "server_error";
        code = "service_unavailable";
        if (msg == NULL)
            msg = "The engine is currently overloaded, please try again later";
        break;
    case ASC_MOCK_E_OVERLOADED:
        status = 503;
        type = "server_error";
        code = "overloaded";
        if (msg == NULL)
            msg = "The server is overloaded";
        break;
    }
    if (msg == NULL)
        msg = "Bad request";
    asc_buf_puts(b, "{\"error\":{\"message\":\"");
    asc_mock_json_str_utf8(b, msg, strlen(msg));
    asc_buf_printf(b, "\",\"type\":\"%s\",\"param\":null,\"code\":", type);
    if (code != NULL)
        asc_buf_printf(b, "\"%s\"}}", code);
    else
        asc_buf_puts(b, "null}}");
    return status;
}

static int oai_context_error(asc_buf_t *b, uint32_t tokens)
{
    asc_buf_printf(b,
                   "{\"error\":{\"message\":\"This model's maximum context length is %d tokens. "
                   "However, your messages resulted in %u tokens. Please reduce the length of "
                   "the messages.\",\"type\":\"invalid_request_error\",\"param\":\"messages\","
                   "\"code\":\"context_length_exceeded\"}}",
                   ASC_MOCK_CONTEXT_WINDOW, tokens);
    return 400;
}

/* ---- builders --------------------------------------------------------- */

static void put_u64(asc_buf_t *b, unsigned long long v)
{
    char tmp[24];
    size_t i = sizeof tmp;
    do {
        tmp[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v > 0);
    asc_buf_append(b, tmp + i, sizeof tmp - i);
}

static const char *finish_reason(const asc_mock_chat_t *c)
{
    if (c->ncalls > 0)
        return "tool_calls";
    return c->length_cut ? "length" : "stop";
}

static void put_usage(asc_buf_t *b, const asc_mock_chat_t *c)
{
    uint32_t out = asc_mock_chat_completion_tokens(c);
    asc_buf_puts(b, "{\"prompt_tokens\":");
    put_u64(b, c->prompt_tokens);
    asc_buf_puts(b, ",\"completion_tokens\":");
    put_u64(b, out);
    asc_buf_puts(b, ",\"total_tokens\":");
    put_u64(b, (unsigned long long)c->prompt_tokens + out);
    if (mistral(c))
        asc_buf_putc(b, '}');
    else
        asc_buf_puts(b, ",\"prompt_tokens_details\":{\"cached_tokens\":0,\"audio_tokens\":0},"
                        "\"completion_tokens_details\":{\"reasoning_tokens\":0,\"audio_tokens\":0,"
                        "\"accepted_prediction_tokens\":0,\"rejected_prediction_tokens\":0}}");
}

/* `"id":"chatcmpl-mock1","object":"<object>","created":..,"model":"..",` */
static void put_envelope(asc_buf_t *b, const asc_mock_chat_t *c, const char *object)
{
    asc_buf_puts(b, "\"id\":\"chatcmpl-mock");
    put_u64(b, c->seq);
    asc_buf_puts(b, "\",\"object\":\"");
    asc_buf_puts(b, object);
    asc_buf_puts(b, "\",\"created\":");
    put_u64(b, (unsigned long long)c->created);
    asc_buf_puts(b, ",\"model\":\"");
    asc_mock_json_str_utf8(b, c->model, c->model_len);
    if (mistral(c))
        asc_buf_puts(b, "\",");
    else
        asc_buf_puts(b, "\",\"system_fingerprint\":\"fp_mock\",");
}

static void put_call(asc_buf_t *b, const asc_mock_chat_t *c, unsigned i)
{
    const asc_mock_call_t *k = &c->calls[i];
    asc_buf_puts(b, "{\"id\":\"");
    asc_buf_puts(b, k->id);
    asc_buf_puts(b, "\",\"type\":\"function\",\"function\":{\"name\":\"");
    asc_mock_json_str_utf8(b, k->name, k->name_len);
    asc_buf_puts(b, "\",\"arguments\":\"");
    asc_mock_json_str_utf8(b, k->args, k->args_len);
    asc_buf_puts(b, "\"}");
    if (mistral(c)) {
        asc_buf_puts(b, ",\"index\":");
        put_u64(b, i);
    }
    asc_buf_putc(b, '}');
}

void asc_mock_oai_body(asc_buf_t *b, const asc_mock_chat_t *c)
{
    asc_buf_putc(b, '{');
    put_envelope(b, c, "chat.completion");
    asc_buf_puts(b, "\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":");
    if (c->ncalls > 0) {
        asc_buf_puts(b, mistral(c) ? "\"\",\"tool_calls\":[" : "null,\"tool_calls\":[");
        for (unsigned i = 0; i < c->ncalls; i++) {
            if (i > 0)
                asc_buf_putc(b, ',');
            put_call(b, c, i);
        }
        asc_buf_putc(b, ']');
    } else {
        asc_buf_putc(b, '"');
        asc_mock_text_append(b, 0, c->out_tokens);
        asc_buf_putc(b, '"');
        if (mistral(c))
            asc_buf_puts(b, ",\"tool_calls\":null");
    }
    asc_buf_puts(b, mistral(c) ? ",\"prefix\":false" : ",\"refusal\":null,\"annotations\":[]");
    asc_buf_puts(b, "},\"logprobs\":null,\"finish_reason\":\"");
    asc_buf_puts(b, finish_reason(c));
    asc_buf_puts(b, "\"}],\"usage\":");
    put_usage(b, c);
    if (!mistral(c))
        asc_buf_puts(b, ",\"service_tier\":\"default\"");
    asc_buf_putc(b, '}');
}

static void chunk_open(asc_buf_t *b, const asc_mock_chat_t *c)
{
    asc_buf_puts(b, "data: {");
    put_envelope(b, c, "chat.completion.chunk");
    asc_buf_puts(b, "\"choices\":[{\"index\":0,\"delta\":");
}

/* After the delta: finish_reason (NULL = null) and the end of the chunk. */
static void chunk_close(asc_buf_t *b, const asc_mock_chat_t *c, const char *finish)
{
    asc_buf_puts(b, ",\"logprobs\":null,\"finish_reason\":");
    if (finish != NULL) {
        asc_buf_putc(b, '"');
        asc_buf_puts(b, finish);
        asc_buf_puts(b, "\"}]");
    } else {
        asc_buf_puts(b, "null}]");
    }
    if (c->include_usage && !mistral(c))
        asc_buf_puts(b, ",\"usage\":null");
    asc_buf_puts(b, "}\n\n");
}

void asc_mock_oai_head(asc_buf_t *b, const asc_mock_chat_t *c)
{
    chunk_open(b, c);
    asc_buf_puts(b, "{\"role\":\"assistant\",\"content\":\"\"}");
    chunk_close(b, c, NULL);
}

void asc_mock_oai_unit(asc_buf_t *b, const asc_mock_chat_t *c, const asc_mock_unit_t *u)
{
    const asc_mock_call_t *k = u->kind == ASC_MOCK_U_TEXT ? NULL : &c->calls[u->call];
    chunk_open(b, c);
    switch (u->kind) {
    case ASC_MOCK_U_TEXT:
        asc_buf_puts(b, "{\"content\":\"");
        asc_mock_text_append(b, u->off, u->len);
        asc_buf_puts(b, "\"}");
        break;
    case ASC_MOCK_U_CALL_START:
        asc_buf_puts(b, "{\"tool_calls\":[{\"index\":");
        put_u64(b, u->call);
        asc_buf_puts(b, ",\"id\":\"");
        asc_buf_puts(b, k->id);
        asc_buf_puts(b, "\",\"type\":\"function\",\"function\":{\"name\":\"");
        asc_mock_json_str_utf8(b, k->name, k->name_len);
        asc_buf_puts(b, "\",\"arguments\":\"\"}}]}");
        break;
    case ASC_MOCK_U_CALL_ARGS:
        asc_buf_puts(b, "{\"tool_calls\":[{\"index\":");
        put_u64(b, u->call);
        asc_buf_puts(b, ",\"function\":{\"arguments\":\"");
        asc_mock_json_str_utf8(b, k->args + u->off, u->len);
        asc_buf_puts(b, "\"}}]}");
        break;
    default: /* ASC_MOCK_U_CALL_WHOLE */
        asc_buf_puts(b, "{\"tool_calls\":[");
        put_call(b, c, u->call);
        asc_buf_puts(b, "]}");
        break;
    }
    chunk_close(b, c, NULL);
}

void asc_mock_oai_tail(asc_buf_t *b, const asc_mock_chat_t *c)
{
    if (mistral(c)) {
        /* Mistral: finish_reason and usage in the same, last chunk. */
        chunk_open(b, c);
        asc_buf_puts(b, "{\"content\":\"\"},\"logprobs\":null,\"finish_reason\":\"");
        asc_buf_puts(b, finish_reason(c));
        asc_buf_puts(b, "\"}],\"usage\":");
        put_usage(b, c);
        asc_buf_puts(b, "}\n\ndata: [DONE]\n\n");
        return;
    }
    chunk_open(b, c);
    asc_buf_puts(b, "{}");
    chunk_close(b, c, finish_reason(c));
    if (c->include_usage) {
        asc_buf_puts(b, "data: {");
        put_envelope(b, c, "chat.completion.chunk");
        asc_buf_puts(b, "\"choices\":[],\"usage\":");
        put_usage(b, c);
        asc_buf_puts(b, "}\n\n");
    }
    asc_buf_puts(b, "data: [DONE]\n\n");
}

void asc_mock_oai_error_event(asc_buf_t *b, const asc_mock_chat_t *c)
{
    (void)c;
    asc_buf_puts(b, "data: {\"error\":{\"message\":\"The server is overloaded\",\"type\":"
                    "\"server_error\",\"code\":\"overloaded\"}}\n\n");
}

void asc_mock_oai_malformed(asc_buf_t *b, const asc_mock_chat_t *c)
{
    asc_buf_puts(b, "data: {\"id\":\"chatcmpl-mock");
    put_u64(b, c->seq);
    asc_buf_puts(b, "\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,\"delta\":"
                    "{\"content\":\n\n");
}

asc_mock_unit_t *asc_mock_oai_tool_units(const asc_mock_chat_t *c, asc_pool_t *pool, uint32_t *n)
{
    size_t cap = 0;
    for (unsigned i = 0; i < c->ncalls; i++)
        cap += 1 + c->calls[i].args_len; /* at least one byte per fragment */
    asc_mock_unit_t *u = asc_pool_alloc(pool, sizeof *u * (cap + 1));
    uint32_t k = 0;
    for (unsigned i = 0; i < c->ncalls; i++) {
        const asc_mock_call_t *call = &c->calls[i];
        if (mistral(c)) {
            u[k++] = (asc_mock_unit_t){ASC_MOCK_U_CALL_WHOLE, i, 0, 0};
            continue;
        }
        u[k++] = (asc_mock_unit_t){ASC_MOCK_U_CALL_START, i, 0, 0};
        size_t off = 0;
        while (off < call->args_len) {
            size_t l =
                asc_mock_utf8_cut(call->args + off, call->args_len - off, ASC_MOCK_ARG_FRAGMENT);
            u[k++] = (asc_mock_unit_t){ASC_MOCK_U_CALL_ARGS, i, (uint32_t)off, (uint32_t)l};
            off += l;
        }
    }
    *n = k;
    return u;
}

const asc_mock_dialect_t asc_mock_openai = {
    .version = 1,
    .id = ASC_MOCK_OPENAI,
    .chat_parse = oai_chat_parse,
    .error = oai_error,
    .body = asc_mock_oai_body,
    .head = asc_mock_oai_head,
    .unit = asc_mock_oai_unit,
    .tail = asc_mock_oai_tail,
    .error_event = asc_mock_oai_error_event,
    .context_error = oai_context_error,
    .malformed = asc_mock_oai_malformed,
    .tool_units = asc_mock_oai_tool_units,
};

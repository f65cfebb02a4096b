/*
 * Anthropic Messages dialect of the mock: validation as strict as the real
 * API (unknown fields at the top level, in messages and in content blocks
 * are refused), the message body and the typed SSE events.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "mock/mock_int.h"

/* MessageCreateParams of @anthropic-ai/sdk (plus beta and sampling fields
 * the API still accepts), sorted. */
static const char *const top_fields[] = {
    "cache_control", "container",     "context_management",
    "diagnostics",   "inference_geo", "max_tokens",
    "mcp_servers",   "messages",      "metadata",
    "model",         "output_config", "output_format",
    "service_tier",  "speed",         "stop_sequences",
    "stream",        "system",        "temperature",
    "thinking",      "tool_choice",   "tools",
    "top_k",         "top_p",         "user_profile_id",
    "workspace_id",
};

typedef struct {
    const char *type;
    const char *const *fields; /* sorted */
    size_t n;
} block_schema_t;

static const char *const text_f[] = {"cache_control", "citations", "text", "type"};
static const char *const image_f[] = {"cache_control", "source", "transformations", "type"};
static const char *const doc_f[] = {"cache_control", "citations", "context",
                                    "source",        "title",     "type"};
static const char *const tool_use_f[] = {"cache_control", "caller",       "id",  "input",
                                         "name",          "toolset_name", "type"};
static const char *const tool_result_f[] = {"cache_control", "content",      "is_error",
                                            "tool_use_id",   "toolset_name", "type"};
static const char *const thinking_f[] = {"signature", "thinking", "type"};
static const char *const redacted_f[] = {"data", "type"};
static const char *const search_f[] = {"cache_control", "citations", "content",
                                       "source",        "title",     "type"};

#define N(a) (sizeof(a) / sizeof(a)[0])

static const block_schema_t blocks[] = {
    {"text", text_f, N(text_f)},
    {"image", image_f, N(image_f)},
    {"document", doc_f, N(doc_f)},
    {"tool_use", tool_use_f, N(tool_use_f)},
    {"tool_result", tool_result_f, N(tool_result_f)},
    {"thinking", thinking_f, N(thinking_f)},
    {"redacted_thinking", redacted_f, N(redacted_f)},
    {"search_result", search_f, N(search_f)},
};

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

static const char *str_of(const cJSON *obj, const char *key)
{
    const cJSON *x = cJSON_GetObjectItemCaseSensitive(obj, key);
    return cJSON_IsString(x) ? x->valuestring : NULL;
}

/* Text bytes of a string or of the text blocks of an array; scans them for
 * tool mentions when scan is set. */
static size_t text_of(const cJSON *content, asc_mock_toolreq_t *scan)
{
    size_t n = 0;
    if (cJSON_IsString(content)) {
        n = strlen(content->valuestring);
        if (scan != NULL)
            asc_mock_tools_scan_text(scan, content->valuestring, n);
        return n;
    }
    const cJSON *b;
    cJSON_ArrayForEach(b, (cJSON_IsArray(content) ? content : NULL))
    {
        const char *type = str_of(b, "type");
        if (type == NULL)
            continue;
        if (strcmp(type, "text") == 0) {
            const char *t = str_of(b, "text");
            size_t l = t ? strlen(t) : 0;
            n += l;
            if (scan != NULL && t != NULL)
                asc_mock_tools_scan_text(scan, t, l);
        } else if (strcmp(type, "tool_result") == 0) {
            n += text_of(cJSON_GetObjectItemCaseSensitive(b, "content"), NULL);
        }
    }
    return n;
}

/* Extra fields in the blocks of message i; 0 or the error status. */
static int check_blocks(const asc_mock_chat_t *c, const cJSON *content, int i, asc_buf_t *err)
{
    const cJSON *b;
    int j = 0;
    cJSON_ArrayForEach(b, content)
    {
        if (!cJSON_IsObject(b))
            return fail(c, err, "messages.%d.content.%d: Input should be a valid dictionary", i, j);
        const char *type = str_of(b, "type");
        if (type == NULL)
            return fail(c, err, "messages.%d.content.%d.type: Field required", i, j);
        for (size_t k = 0; k < N(blocks); k++) {
            if (strcmp(blocks[k].type, type) != 0)
                continue;
            const cJSON *f;
            cJSON_ArrayForEach(f, b)
            {
                if (!asc_mock_known(blocks[k].fields, blocks[k].n, f->string))
                    return fail(c, err,
                                "messages.%d.content.%d.%s.%.128s: Extra inputs are not permitted",
                                i, j, type, f->string);
            }
        }
        j++;
    }
    return 0;
}

static int parse_tools(asc_mock_chat_t *c, const cJSON *root, asc_mock_toolreq_t *tr,
                       asc_pool_t *pool, asc_buf_t *err)
{
    const cJSON *tools = cJSON_GetObjectItemCaseSensitive(root, "tools");
    const cJSON *tc = cJSON_GetObjectItemCaseSensitive(root, "tool_choice");
    if (tools != NULL) {
        if (!cJSON_IsArray(tools))
            return fail(c, err, "tools: Input should be a valid list");
        int n = cJSON_GetArraySize(tools);
        tr->defs = asc_pool_alloc(pool, sizeof *tr->defs * (size_t)(n + 1));
        tr->hits = asc_pool_alloc(pool, sizeof *tr->hits * (size_t)(n + 1));
        memset(tr->hits, 0, sizeof *tr->hits * (size_t)(n + 1));
        const cJSON *t;
        int i = 0;
        cJSON_ArrayForEach(t, tools)
        {
            const char *name = str_of(t, "name");
            const cJSON *schema = cJSON_GetObjectItemCaseSensitive(t, "input_schema");
            const char *type = str_of(t, "type");
            if (name == NULL)
                return fail(c, err, "tools.%d.name: Field required", i);
            if (strlen(name) > ASC_MOCK_MAX_TOOL_NAME)
                return fail(c, err, "tools.%d.name: String should have at most %d characters", i,
                            ASC_MOCK_MAX_TOOL_NAME);
            i++;
            /* Server tools (web_search_..., bash_...) are not called. */
            if (schema == NULL || (type != NULL && strcmp(type, "custom") != 0))
                continue;
            asc_mock_tooldef_t *d = &tr->defs[tr->ndefs++];
            d->name = name;
            d->name_len = strlen(name);
            d->schema = schema;
        }
    }
    tr->choice = ASC_MOCK_CHOICE_AUTO;
    if (tc != NULL) {
        const char *type = str_of(tc, "type");
        if (type == NULL)
            return fail(c, err, "tool_choice.type: Field required");
        if (strcmp(type, "auto") == 0)
            tr->choice = ASC_MOCK_CHOICE_AUTO;
        else if (strcmp(type, "any") == 0)
            tr->choice = ASC_MOCK_CHOICE_ANY;
        else if (strcmp(type, "none") == 0)
            tr->choice = ASC_MOCK_CHOICE_NONE;
        else if (strcmp(type, "tool") == 0) {
            const char *name = str_of(tc, "name");
            if (name == NULL)
                return fail(c, err, "tool_choice.tool.name: Field required");
            tr->choice = ASC_MOCK_CHOICE_NAMED;
            tr->forced = name;
            tr->forced_len = strlen(name);
        } else {
            return fail(c, err,
                        "tool_choice: Input tag '%.32s' found using 'type' does not match any of "
                        "the expected tags: 'auto', 'any', 'tool', 'none'",
                        type);
        }
        if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(tc, "disable_parallel_tool_use")))
            tr->single = 1;
    }
    return 0;
}

static int anth_chat_parse(asc_mock_chat_t *c, const cJSON *root, const asc_mock_params_t *hdr,
                           asc_pool_t *pool, asc_buf_t *err)
{
    char msg[256];
    const cJSON *f;
    if (!cJSON_IsObject(root))
        return fail(c, err, "Input should be a valid dictionary");
    cJSON_ArrayForEach(f, root)
    {
        if (!asc_mock_known(top_fields, N(top_fields), f->string))
            return fail(c, err, "%.128s: Extra inputs are not permitted", f->string);
    }
    const cJSON *model = cJSON_GetObjectItemCaseSensitive(root, "model");
    if (model == NULL)
        return fail(c, err, "model: Field required");
    if (!cJSON_IsString(model))
        return fail(c, err, "model: Input should be a valid string");
    const cJSON *mt = cJSON_GetObjectItemCaseSensitive(root, "max_tokens");
    long long max_tokens = 0;
    if (mt == NULL)
        return fail(c, err, "max_tokens: Field required");
    if (!asc_mock_json_int(mt, &max_tokens))
        return fail(c, err, "max_tokens: Input should be a valid integer");
    if (max_tokens < 1)
        return fail(c, err, "max_tokens: Input should be greater than or equal to 1");
    const cJSON *msgs = cJSON_GetObjectItemCaseSensitive(root, "messages");
    if (msgs == NULL)
        return fail(c, err, "messages: Field required");
    if (!cJSON_IsArray(msgs))
        return fail(c, err, "messages: Input should be a valid list");
    if (cJSON_GetArraySize(msgs) == 0)
        return fail(c, err, "messages: at least one message is required");
    if (asc_mock_chat_model(c, model->valuestring, strlen(model->valuestring), hdr, pool, msg,
                            sizeof msg) != ASC_OK)
        return fail(c, err, "%s", msg);

    asc_mock_toolreq_t tr;
    memset(&tr, 0, sizeof tr);
    int rc = parse_tools(c, root, &tr, pool, err);
    if (rc != 0)
        return rc;

    const cJSON *sys = cJSON_GetObjectItemCaseSensitive(root, "system");
    if (sys != NULL && !cJSON_IsString(sys) && !cJSON_IsArray(sys))
        return fail(c, err, "system: Input should be a valid string");
    size_t bytes = text_of(sys, NULL);
    const cJSON *m, *last = NULL;
    int i = 0;
    cJSON_ArrayForEach(m, msgs)
    {
        if (!cJSON_IsObject(m))
            return fail(c, err, "messages.%d: Input should be a valid dictionary", i);
        cJSON_ArrayForEach(f, m)
        {
            if (strcmp(f->string, "role") != 0 && strcmp(f->string, "content") != 0)
                return fail(c, err, "messages.%d.%.128s: Extra inputs are not permitted", i,
                            f->string);
        }
        const char *role = str_of(m, "role");
        if (role == NULL)
            return fail(c, err, "messages.%d.role: Field required", i);
        if (strcmp(role, "user") != 0 && strcmp(role, "assistant") != 0)
            return fail(c, err, "messages.%d.role: Input should be 'user' or 'assistant'", i);
        const cJSON *content = cJSON_GetObjectItemCaseSensitive(m, "content");
        if (content == NULL)
            return fail(c, err, "messages.%d.content: Field required", i);
        if (!cJSON_IsString(content) && !cJSON_IsArray(content))
            return fail(c, err, "messages.%d.content: Input should be a valid list", i);
        if (cJSON_IsArray(content)) {
            rc = check_blocks(c, content, i, err);
            if (rc != 0)
                return rc;
        }
        last = m;
        i++;
    }
    cJSON_ArrayForEach(m, msgs)
    {
        const cJSON *content = cJSON_GetObjectItemCaseSensitive(m, "content");
        int scan = m == last && strcmp(str_of(m, "role"), "user") == 0;
        bytes += text_of(content, scan ? &tr : NULL);
    }
    c->prompt_tokens = asc_mock_count_tokens(bytes);
    tr.last_is_user = strcmp(str_of(last, "role"), "user") == 0;
    const cJSON *lc = cJSON_GetObjectItemCaseSensitive(last, "content");
    const cJSON *b;
    cJSON_ArrayForEach(b, (tr.last_is_user && cJSON_IsArray(lc) ? lc : NULL))
    {
        const char *type = str_of(b, "type");
        if (type != NULL && strcmp(type, "tool_result") == 0)
            tr.last_is_tool_result = 1;
    }

    const cJSON *st = cJSON_GetObjectItemCaseSensitive(root, "stream");
    if (st != NULL && !cJSON_IsBool(st))
        return fail(c, err, "stream: Input should be a valid boolean");
    c->stream = cJSON_IsTrue(st);
    asc_mock_chat_limit(c, max_tokens);
    if (asc_mock_tools_plan(c, &tr, pool, msg, sizeof msg) != ASC_OK)
        return fail(c, err, "%s", msg);
    return 0;
}

static int anth_error(asc_buf_t *b, asc_mock_ekind_t kind, const char *msg)
{
    int status = 400;
    const char *type = "invalid_request_error";
    switch (kind) {
    case ASC_MOCK_E_INVALID: break;
    case ASC_MOCK_E_AUTH:
        status = 401;
        type = "authentication_error";
        if (msg == NULL)
            msg = "invalid x-api-key";
        break;
    case ASC_MOCK_E_NOT_FOUND:
        status = 404;
        type = "not_found_error";
        break;
    case ASC_MOCK_E_RATE_LIMIT:
        status = 429;
        type = "rate_limit_error";
        if (msg == NULL)
            msg = "Number of requests has exceeded your rate limit";
        break;
    case ASC_MOCK_E_SERVER:
        status = 500;
        type = "api_error";
        if (msg == NULL)
            msg = "Internal server error";
        break;
    case ASC_MOCK_E_UNAVAILABLE:
        status = 503;
        type = "api_error";
        if (msg == NULL)
            msg = "Service unavailable";
        break;
    case ASC_MOCK_E_OVERLOADED:
        status = 529;
        type = "overloaded_error";
        if (msg == NULL)
            msg = "Overloaded";
        break;
    }
    if (msg == NULL)
        msg = "Bad request";
    asc_buf_printf(b, "{\"type\":\"error\",\"error\":{\"type\":\"%s\",\"message\":\"", type);
    asc_mock_json_str_utf8(b, msg, strlen(msg));
    asc_buf_puts(b, "\"}}");
    return status;
}

static int anth_context_error(asc_buf_t *b, uint32_t tokens)
{
    char msg[96];
    snprintf(msg, sizeof msg, "prompt is too long: %u tokens > %d maximum", tokens,
             ASC_MOCK_CONTEXT_WINDOW);
    return anth_error(b, ASC_MOCK_E_INVALID, msg);
}

/* ---- builders --------------------------------------------------------- */

static const char *stop_reason(const asc_mock_chat_t *c)
{
    if (c->ncalls > 0)
        return "tool_use";
    return c->length_cut ? "max_tokens" : "end_turn";
}

static void put_message_open(asc_buf_t *b, const asc_mock_chat_t *c)
{
    asc_buf_printf(
        b, "{\"id\":\"msg_mock%llu\",\"type\":\"message\",\"role\":\"assistant\",\"model\":\"",
        (unsigned long long)c->seq);
    asc_mock_json_str_utf8(b, c->model, c->model_len);
    asc_buf_puts(b, "\",\"content\":[");
}

static void put_usage(asc_buf_t *b, const asc_mock_chat_t *c, uint32_t out)
{
    asc_buf_printf(b,
                   "{\"input_tokens\":%u,\"cache_creation_input_tokens\":0,"
                   "\"cache_read_input_tokens\":0,\"output_tokens\":%u}",
                   c->prompt_tokens, out);
}

static void anth_body(asc_buf_t *b, const asc_mock_chat_t *c)
{
    put_message_open(b, c);
    if (c->ncalls > 0) {
        for (unsigned i = 0; i < c->ncalls; i++) {
            const asc_mock_call_t *k = &c->calls[i];
            if (i > 0)
                asc_buf_putc(b, ',');
            asc_buf_printf(b, "{\"type\":\"tool_use\",\"id\":\"%s\",\"name\":\"", k->id);
            asc_mock_json_str_utf8(b, k->name, k->name_len);
            asc_buf_puts(b, "\",\"input\":");
            asc_buf_append(b, k->args, k->args_len);
            asc_buf_putc(b, '}');
        }
    } else if (c->out_tokens > 0) {
        asc_buf_puts(b, "{\"type\":\"text\",\"text\":\"");
        asc_mock_text_append(b, 0, c->out_tokens);
        asc_buf_puts(b, "\"}");
    }
    asc_buf_printf(b, "],\"stop_reason\":\"%s\",\"stop_sequence\":null,\"usage\":", stop_reason(c));
    put_usage(b, c, asc_mock_chat_completion_tokens(c));
    asc_buf_putc(b, '}');
}

static void event(asc_buf_t *b, const char *name)
{
    asc_buf_printf(b, "event: %s\ndata: ", name);
}

static void anth_head(asc_buf_t *b, const asc_mock_chat_t *c)
{
    event(b, "message_start");
    asc_buf_puts(b, "{\"type\":\"message_start\",\"message\":");
    put_message_open(b, c);
    asc_buf_puts(b, "],\"stop_reason\":null,\"stop_sequence\":null,\"usage\":");
    put_usage(b, c, 1);
    asc_buf_puts(b, "}}\n\n");
    if (c->ncalls == 0) {
        event(b, "content_block_start");
        asc_buf_puts(b, "{\"type\":\"content_block_start\",\"index\":0,\"content_block\":"
                        "{\"type\":\"text\",\"text\":\"\"}}\n\n");
    }
    event(b, "ping");
    asc_buf_puts(b, "{\"type\":\"ping\"}\n\n");
}

static void anth_unit(asc_buf_t *b, const asc_mock_chat_t *c, const asc_mock_unit_t *u)
{
    const asc_mock_call_t *k = u->kind == ASC_MOCK_U_TEXT ? NULL : &c->calls[u->call];
    switch (u->kind) {
    case ASC_MOCK_U_TEXT:
        event(b, "content_block_delta");
        asc_buf_puts(b, "{\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":"
                        "\"text_delta\",\"text\":\"");
        asc_mock_text_append(b, u->off, u->len);
        asc_buf_puts(b, "\"}}\n\n");
        break;
    case ASC_MOCK_U_CALL_START:
        event(b, "content_block_start");
        asc_buf_printf(b,
                       "{\"type\":\"content_block_start\",\"index\":%u,\"content_block\":{\"type\":"
                       "\"tool_use\",\"id\":\"%s\",\"name\":\"",
                       u->call, k->id);
        asc_mock_json_str_utf8(b, k->name, k->name_len);
        asc_buf_puts(b, "\",\"input\":{}}}\n\n");
        break;
    case ASC_MOCK_U_CALL_ARGS:
        event(b, "content_block_delta");
        asc_buf_printf(b,
                       "{\"type\":\"content_block_delta\",\"index\":%u,\"delta\":{\"type\":"
                       "\"input_json_delta\",\"partial_json\":\"",
                       u->call);
        asc_mock_json_str_utf8(b, k->args + u->off, u->len);
        asc_buf_puts(b, "\"}}\n\n");
        break;
    default: /* ASC_MOCK_U_CALL_STOP */
        event(b, "content_block_stop");
        asc_buf_printf(b, "{\"type\":\"content_block_stop\",\"index\":%u}\n\n", u->call);
        break;
    }
}

static void anth_tail(asc_buf_t *b, const asc_mock_chat_t *c)
{
    if (c->ncalls == 0) {
        event(b, "content_block_stop");
        asc_buf_puts(b, "{\"type\":\"content_block_stop\",\"index\":0}\n\n");
    }
    event(b, "message_delta");
    asc_buf_printf(
        b,
        "{\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"%s\",\"stop_sequence\":"
        "null},\"usage\":{\"output_tokens\":%u}}\n\n",
        stop_reason(c), asc_mock_chat_completion_tokens(c));
    event(b, "message_stop");
    asc_buf_puts(b, "{\"type\":\"message_stop\"}\n\n");
}

static void anth_error_event(asc_buf_t *b, const asc_mock_chat_t *c)
{
    (void)c;
    event(b, "error");
    asc_buf_puts(b, "{\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\",\"message\":"
                    "\"Overloaded\"}}\n\n");
}

static void anth_malformed(asc_buf_t *b, const asc_mock_chat_t *c)
{
    (void)c;
    event(b, "content_block_delta");
    asc_buf_puts(b, "{\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":"
                    "\"text_delta\",\"text\":\n\n");
}

static asc_mock_unit_t *anth_tool_units(const asc_mock_chat_t *c, asc_pool_t *pool, uint32_t *n)
{
    size_t cap = 0;
    for (unsigned i = 0; i < c->ncalls; i++)
        cap += 3 + c->calls[i].args_len;
    asc_mock_unit_t *u = asc_pool_alloc(pool, sizeof *u * (cap + 1));
    uint32_t k = 0;
    for (unsigned i = 0; i < c->ncalls; i++) {
        const asc_mock_call_t *call = &c->calls[i];
        u[k++] = (asc_mock_unit_t){ASC_MOCK_U_CALL_START, i, 0, 0};
        u[k++] = (asc_mock_unit_t){ASC_MOCK_U_CALL_ARGS, i, 0, 0}; /* the first is "" */
        size_t off = 0;
        while (off < call->args_len) {
            size_t l =
                asc_mock_utf8_cut(call->args + off, call->args_len - off, ASC_MOCK_ARG_FRAGMENT);
            u[k++] = (asc_mock_unit_t){ASC_MOCK_U_CALL_ARGS, i, (uint32_t)off, (uint32_t)l};
            off += l;
        }
        u[k++] = (asc_mock_unit_t){ASC_MOCK_U_CALL_STOP, i, 0, 0};
    }
    *n = k;
    return u;
}

const asc_mock_dialect_t asc_mock_anthropic = {
    .version = 1,
    .id = ASC_MOCK_ANTHROPIC,
    .chat_parse = anth_chat_parse,
    .error = anth_error,
    .body = anth_body,
    .head = anth_head,
    .unit = anth_unit,
    .tail = anth_tail,
    .error_event = anth_error_event,
    .context_error = anth_context_error,
    .malformed = anth_malformed,
    .tool_units = anth_tool_units,
};

/*
 * The Response object (OpenAI Responses API) for a canonical answer, and the
 * pieces of it the stream encoder reuses for response.created and
 * response.completed. Field names and shapes follow the official SDK's
 * Response, ResponseOutputMessage, ResponseFunctionToolCall and
 * ResponseUsage types; fields the SDK types mark as required are always
 * present (the SDK computes output_text itself, so it is not sent).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "api/responses_int.h"

void asc_api_resp_int(asc_rw_t *w, int64_t v)
{
    char b[24];
    int n = snprintf(b, sizeof b, "%" PRId64, v);
    rw_put(w, b, (size_t)n);
}

void asc_api_resp_double(asc_rw_t *w, double v)
{
    char b[40];
    int n = 0;
    for (int prec = 15; prec <= 17; prec++) {
        n = snprintf(b, sizeof b, "%.*g", prec, v);
        if (strtod(b, NULL) == v)
            break;
    }
    rw_put(w, b, (size_t)n);
}

static int is_alnum(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

void asc_api_resp_core(asc_str_t id, char *core)
{
    size_t i = 0, o = 0;
    if (id.p != NULL) {
        /* a lowercase prefix such as "chatcmpl-", "msg_" or "resp_" */
        size_t k = 0;
        while (k < id.n && k < 16 && id.p[k] >= 'a' && id.p[k] <= 'z')
            k++;
        if (k > 0 && k < id.n && (id.p[k] == '-' || id.p[k] == '_'))
            i = k + 1;
        for (; i < id.n && o < ASC_RESP_CORE_MAX; i++)
            if (is_alnum(id.p[i]))
                core[o++] = id.p[i];
    }
    if (o == 0) {
        /* no upstream id: unique within the process and across restarts */
        static unsigned long counter;
        unsigned long c = __atomic_add_fetch(&counter, 1, __ATOMIC_RELAXED);
        o = (size_t)snprintf(core, ASC_RESP_CORE_MAX + 1, "asc%lx%lx", (unsigned long)time(NULL),
                             c);
    }
    core[o] = '\0';
}

const char *asc_api_resp_status(asc_finish_t f)
{
    return asc_api_resp_incomplete(f) != NULL ? "incomplete" : "completed";
}

const char *asc_api_resp_incomplete(asc_finish_t f)
{
    switch (f) {
    case ASC_FINISH_LENGTH: return "max_output_tokens";
    case ASC_FINISH_CONTENT_FILTER: return "content_filter";
    default: return NULL;
    }
}

void asc_api_resp_head(asc_rw_t *w, const char *core, int64_t created, const char *status,
                       const char *incomplete_reason)
{
    rw_puts(w, "{\"id\":\"resp_");
    rw_puts(w, core);
    rw_puts(w, "\",\"object\":\"response\",\"created_at\":");
    asc_api_resp_int(w, created);
    rw_puts(w, ",\"status\":");
    rw_cstr(w, status);
    rw_puts(w, ",\"background\":false,\"error\":null,\"incomplete_details\":");
    if (incomplete_reason != NULL) {
        rw_puts(w, "{\"reason\":");
        rw_cstr(w, incomplete_reason);
        rw_puts(w, "}");
    } else {
        rw_puts(w, "null");
    }
    rw_puts(w, ",");
}

void asc_api_resp_echo_head(asc_rw_t *w, const asc_chat_req_t *req, const char *model)
{
    /* instructions: the canonical request keeps them as a leading system
     * message, indistinguishable from a system input item, so they are not
     * echoed (the API allows null). */
    rw_puts(w, "\"instructions\":null,\"max_output_tokens\":");
    if (req != NULL && req->has_max_tokens)
        asc_api_resp_int(w, req->max_tokens);
    else
        rw_puts(w, "null");
    rw_puts(w, ",\"max_tool_calls\":null,\"model\":");
    rw_cstr(w, model != NULL ? model : "");
    rw_puts(w, ",");
}

/* Raw JSON from the request (schemas, metadata), copied without the
 * whitespace between tokens: a client's pretty-printed schema must not put
 * newlines into an SSE data line, which would split the event. */
static void put_raw_or(asc_rw_t *w, asc_str_t raw, const char *dflt)
{
    if (raw.p == NULL || raw.n == 0) {
        rw_puts(w, dflt);
        return;
    }
    size_t run = 0;
    int in_str = 0, esc = 0;
    for (size_t i = 0; i < raw.n; i++) {
        char ch = raw.p[i];
        if (in_str) {
            if (esc)
                esc = 0;
            else if (ch == '\\')
                esc = 1;
            else if (ch == '"')
                in_str = 0;
            continue;
        }
        if (ch == '"') {
            in_str = 1;
        } else if (ch == ' ' || ch == '\n' || ch == '\r' || ch == '\t') {
            if (i > run)
                rw_put(w, raw.p + run, i - run);
            run = i + 1;
        }
    }
    if (raw.n > run)
        rw_put(w, raw.p + run, raw.n - run);
}

static void put_bool3(asc_rw_t *w, int v)
{
    rw_puts(w, v < 0 ? "null" : v ? "true" : "false");
}

static void put_format(asc_rw_t *w, const asc_chat_req_t *req)
{
    asc_format_t f = req != NULL ? req->format : ASC_FORMAT_UNSET;
    if (f == ASC_FORMAT_JSON_OBJECT) {
        rw_puts(w, "{\"type\":\"json_object\"}");
    } else if (f == ASC_FORMAT_JSON_SCHEMA) {
        rw_puts(w, "{\"type\":\"json_schema\",\"name\":");
        rw_str(w, req->format_name.p, req->format_name.n);
        rw_puts(w, ",\"schema\":");
        put_raw_or(w, req->format_schema, "{}");
        rw_puts(w, ",\"strict\":");
        put_bool3(w, req->format_strict);
        rw_puts(w, "}");
    } else {
        rw_puts(w, "{\"type\":\"text\"}");
    }
}

static void put_tool_choice(asc_rw_t *w, const asc_chat_req_t *req)
{
    switch (req != NULL ? req->tool_choice : ASC_TOOL_CHOICE_UNSET) {
    case ASC_TOOL_CHOICE_NONE: rw_puts(w, "\"none\""); break;
    case ASC_TOOL_CHOICE_REQUIRED: rw_puts(w, "\"required\""); break;
    case ASC_TOOL_CHOICE_FUNCTION:
        rw_puts(w, "{\"type\":\"function\",\"name\":");
        rw_str(w, req->tool_choice_name.p, req->tool_choice_name.n);
        rw_puts(w, "}");
        break;
    default: rw_puts(w, "\"auto\""); break;
    }
}

static void put_tools(asc_rw_t *w, const asc_chat_req_t *req)
{
    rw_puts(w, "[");
    for (size_t i = 0; req != NULL && i < req->ntools; i++) {
        const asc_tool_t *t = &req->tools[i];
        rw_puts(w, i ? ",{\"type\":\"function\",\"name\":" : "{\"type\":\"function\",\"name\":");
        rw_str(w, t->name.p, t->name.n);
        rw_puts(w, ",\"description\":");
        if (t->description.p != NULL)
            rw_str(w, t->description.p, t->description.n);
        else
            rw_puts(w, "null");
        rw_puts(w, ",\"parameters\":");
        put_raw_or(w, t->parameters, "null");
        rw_puts(w, ",\"strict\":");
        put_bool3(w, t->strict);
        rw_puts(w, "}");
    }
    rw_puts(w, "]");
}

void asc_api_resp_echo_tail(asc_rw_t *w, const asc_chat_req_t *req)
{
    rw_puts(w, ",\"parallel_tool_calls\":");
    rw_puts(w, req != NULL && req->parallel_tool_calls == 0 ? "false" : "true");
    rw_puts(w, ",\"previous_response_id\":null,\"reasoning\":{\"effort\":");
    /* the decoder keeps reasoning.effort as its JSON string */
    if (req != NULL && req->reasoning.p != NULL && req->reasoning.n >= 2 &&
        req->reasoning.p[0] == '"')
        rw_put(w, req->reasoning.p, req->reasoning.n);
    else
        rw_puts(w, "null");
    rw_puts(w, ",\"summary\":null},\"store\":false,\"temperature\":");
    if (req != NULL && req->has_temperature)
        asc_api_resp_double(w, req->temperature);
    else
        rw_puts(w, "null");
    rw_puts(w, ",\"text\":{\"format\":");
    put_format(w, req);
    rw_puts(w, "},\"tool_choice\":");
    put_tool_choice(w, req);
    rw_puts(w, ",\"tools\":");
    put_tools(w, req);
    rw_puts(w, ",\"top_p\":");
    if (req != NULL && req->has_top_p)
        asc_api_resp_double(w, req->top_p);
    else
        rw_puts(w, "null");
    rw_puts(w, ",\"truncation\":\"disabled\",\"user\":");
    if (req != NULL && req->user.p != NULL)
        rw_str(w, req->user.p, req->user.n);
    else
        rw_puts(w, "null");
    rw_puts(w, ",\"metadata\":");
    put_raw_or(w, req != NULL ? req->metadata : ASC_STR_NULL, "{}");
}

void asc_api_resp_usage(asc_rw_t *w, const asc_canon_usage_t *u)
{
    if (u == NULL || (!u->present && !u->estimated)) {
        rw_puts(w, "\"usage\":null");
        return;
    }
    rw_puts(w, "\"usage\":{\"input_tokens\":");
    asc_api_resp_int(w, u->input_tokens);
    rw_puts(w, ",\"input_tokens_details\":{\"cached_tokens\":");
    asc_api_resp_int(w, u->cached_tokens);
    rw_puts(w, ",\"cache_write_tokens\":");
    asc_api_resp_int(w, u->cache_write_tokens);
    rw_puts(w, "},\"output_tokens\":");
    asc_api_resp_int(w, u->output_tokens);
    rw_puts(w, ",\"output_tokens_details\":{\"reasoning_tokens\":0},\"total_tokens\":");
    asc_api_resp_int(w, u->input_tokens + u->output_tokens);
    rw_puts(w, "}");
}

void asc_api_resp_item_id(char *buf, size_t n, const char *prefix, const char *core, int index)
{
    snprintf(buf, n, "%s_%s_%d", prefix, core, index);
}

void asc_api_resp_text_part(asc_rw_t *w, asc_str_t text)
{
    rw_puts(w, "{\"type\":\"output_text\",\"annotations\":[],\"logprobs\":[],\"text\":");
    rw_str(w, text.p, text.n);
    rw_puts(w, "}");
}

void asc_api_resp_msg_item(asc_rw_t *w, const char *id, const char *status, asc_str_t text,
                           asc_str_t refusal)
{
    rw_puts(w, "{\"id\":");
    rw_cstr(w, id);
    rw_puts(w, ",\"type\":\"message\",\"status\":");
    rw_cstr(w, status);
    rw_puts(w, ",\"content\":[");
    int parts = 0;
    if (text.p != NULL || refusal.p == NULL) {
        asc_api_resp_text_part(w, text);
        parts++;
    }
    if (refusal.p != NULL) {
        rw_puts(w, parts ? ",{\"type\":\"refusal\",\"refusal\":"
                         : "{\"type\":\"refusal\",\"refusal\":");
        rw_str(w, refusal.p, refusal.n);
        rw_puts(w, "}");
    }
    rw_puts(w, "],\"role\":\"assistant\"}");
}

void asc_api_resp_fc_item(asc_rw_t *w, const char *id, const char *status, asc_str_t call_id,
                          asc_str_t name, asc_str_t arguments)
{
    rw_puts(w, "{\"id\":");
    rw_cstr(w, id);
    rw_puts(w, ",\"type\":\"function_call\",\"status\":");
    rw_cstr(w, status);
    rw_puts(w, ",\"arguments\":");
    rw_str(w, arguments.p, arguments.n);
    rw_puts(w, ",\"call_id\":");
    rw_str(w, call_id.p, call_id.n);
    rw_puts(w, ",\"name\":");
    rw_str(w, name.p, name.n);
    rw_puts(w, "}");
}

void asc_api_resp_rollback(asc_buf_t *b, size_t mark)
{
    b->len = mark;
    if (b->data != NULL)
        b->data[mark] = '\0';
}

const char *asc_api_resp_error_type(int status)
{
    switch (status) {
    case 401: return "authentication_error";
    case 403: return "permission_error";
    case 429: return "rate_limit_error";
    default: return status >= 500 ? "api_error" : "invalid_request_error";
    }
}

void asc_api_responses_encode(const asc_chat_resp_t *r, const char *model,
                              const asc_chat_req_t *req, asc_buf_t *out)
{
    size_t mark = out->len;
    asc_rw_t w = {out, ASC_OK};
    char core[ASC_RESP_CORE_MAX + 1], id[ASC_RESP_CORE_MAX + 32];
    asc_api_resp_core(r->id, core);
    const char *incomplete = asc_api_resp_incomplete(r->finish);
    asc_api_resp_head(&w, core, r->created > 0 ? r->created : (int64_t)time(NULL),
                      asc_api_resp_status(r->finish), incomplete);
    asc_api_resp_echo_head(&w, req, model);
    rw_puts(&w, "\"output\":[");
    /* The text (or refusal) first, then the calls, as the API orders them;
     * an answer with neither still gets its (empty) message. When the
     * answer was cut short, the item being generated last is incomplete. */
    int index = 0;
    int has_msg =
        (r->text.p != NULL && r->text.n > 0) || r->refusal.p != NULL || r->ntool_calls == 0;
    if (has_msg) {
        asc_api_resp_item_id(id, sizeof id, "msg", core, index);
        asc_api_resp_msg_item(&w, id,
                              incomplete && r->ntool_calls == 0 ? "incomplete" : "completed",
                              r->text, r->refusal);
        index++;
    }
    for (size_t i = 0; i < r->ntool_calls; i++, index++) {
        const asc_tool_call_t *c = &r->tool_calls[i];
        char call[ASC_RESP_CORE_MAX + 32];
        asc_str_t call_id = c->id;
        if (call_id.p == NULL || call_id.n == 0) {
            asc_api_resp_item_id(call, sizeof call, "call", core, index);
            call_id = (asc_str_t){call, strlen(call)};
        }
        if (index > 0)
            rw_puts(&w, ",");
        asc_api_resp_item_id(id, sizeof id, "fc", core, index);
        asc_api_resp_fc_item(
            &w, id, incomplete && i + 1 == r->ntool_calls ? "incomplete" : "completed", call_id,
            c->name, c->arguments.p != NULL ? c->arguments : (asc_str_t){"{}", 2});
    }
    rw_puts(&w, "]");
    asc_api_resp_echo_tail(&w, req);
    rw_puts(&w, ",");
    asc_api_resp_usage(&w, &r->usage);
    rw_puts(&w, "}");
    if (w.e != ASC_OK)
        asc_api_resp_rollback(out, mark);
}

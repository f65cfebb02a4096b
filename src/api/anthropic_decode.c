/*
 * Inbound Anthropic Messages requests (POST /v1/messages) into the canonical
 * chat request.
 *
 * Strict like the real API: unknown fields at the top level, in messages,
 * content blocks, tools and tool_choice are refused with Anthropic's own
 * wording ("<path>: Extra inputs are not permitted"). Fields that exist in
 * Anthropic's schema but have no canonical meaning are refused with a 400
 * naming them when dropping them would change the answer, and dropped when
 * they are only hints (docs/dialect-anthropic.md lists every decision).
 *
 * Strings point into the body when they have no escapes, else into a pool
 * copy; raw JSON values (input_schema, tool_use input, cache_control,
 * thinking) point into the body.
 */
#include <stdio.h>
#include <string.h>

#include "api/anthropic_int.h"
#include "api/openai.h"
#include "json/json.h"

#define MAX_MODEL_LEN 256
#define MAX_USER_ID_LEN 256

/* ---- tools ---------------------------------------------------------------- */

static asc_err_t decode_tool(asc_api_anth_ctx_t *c, int t, int idx, asc_tool_t *tool)
{
    static const char *const f[] = {
        "name",   "description",   "input_schema",   "cache_control",         "type",
        "strict", "defer_loading", "input_examples", "eager_input_streaming", "allowed_callers",
        NULL,
    };
    char path[ASC_API_ANTH_PATH_LEN];
    asc_api_anth_path(path, sizeof path, "tools.%d", idx);
    if (ty(c, t) != ASC_JSON_OBJECT)
        return asc_api_anth_bad(c, "%s: Input should be an object", path);
    /* server tools first: their other fields would read as extra inputs */
    int type = asc_json_obj_get(c->j, t, "type");
    if (type >= 0 && !is_null(c, type) && !asc_json_str_eq(c->j, type, "custom")) {
        char tn[72];
        if (ty(c, type) != ASC_JSON_STRING)
            return asc_api_anth_bad(c, "%s.type: Input should be a valid string", path);
        return asc_api_anth_bad(
            c,
            "%s: server tool \"%s\" is not supported by this gateway (only client tools "
            "with an input_schema)",
            path, asc_api_anth_printable(c, type, tn, sizeof tn));
    }
    int name = -1, schema = -1;
    tool->strict = -1;
    int k = t + 1;
    for (int m = 0; m < c->j->tok[t].size; m++, k = asc_json_skip(c->j, k + 1)) {
        int v = k + 1;
        asc_err_t e = ASC_OK;
        switch (asc_api_anth_field(c, k, f)) {
        case 0: name = v; break;
        case 1:
            if (ty(c, v) != ASC_JSON_STRING)
                return asc_api_anth_bad(c, "%s.description: Input should be a valid string", path);
            e = asc_api_anth_str(c, v, &tool->description);
            break;
        case 2: schema = v; break;
        case 3:
            /* a cache breakpoint after the tool list: the canonical tool has
             * no place for it; dropped (caching only, same answer) */
            if (!is_null(c, v) && ty(c, v) != ASC_JSON_OBJECT)
                return asc_api_anth_bad(c, "%s.cache_control: Input should be an object", path);
            break;
        case 4: break;
        case 5:
            if (ty(c, v) == ASC_JSON_TRUE || ty(c, v) == ASC_JSON_FALSE)
                tool->strict = ty(c, v) == ASC_JSON_TRUE;
            else if (!is_null(c, v))
                return asc_api_anth_bad(c, "%s.strict: Input should be a valid boolean", path);
            break;
        case 6:
            if (ty(c, v) == ASC_JSON_TRUE)
                return asc_api_anth_bad(
                    c, "%s.defer_loading: tool search is not supported by this gateway", path);
            break;
        case 7:
            if (!is_null(c, v) && !(ty(c, v) == ASC_JSON_ARRAY && c->j->tok[v].size == 0))
                return asc_api_anth_bad(c, "%s.input_examples: not supported by this gateway",
                                        path);
            break;
        case 8: break; /* eager_input_streaming: chunking of streamed input only */
        case 9: {
            int a = v + 1;
            if (ty(c, v) == ASC_JSON_ARRAY && c->j->tok[v].size == 1 &&
                asc_json_str_eq(c->j, a, "direct"))
                break;
            if (!is_null(c, v))
                return asc_api_anth_bad(
                    c,
                    "%s.allowed_callers: only direct tool calls are supported by this "
                    "gateway",
                    path);
            break;
        }
        default: return asc_api_anth_extra(c, path, k);
        }
        if (e != ASC_OK)
            return e;
    }
    asc_err_t e = asc_api_anth_req_str(c, name, path, "name", &tool->name);
    if (e != ASC_OK)
        return e;
    if (schema < 0)
        return asc_api_anth_bad(c, "%s.input_schema: Field required", path);
    if (ty(c, schema) != ASC_JSON_OBJECT)
        return asc_api_anth_bad(c, "%s.input_schema: Input should be a valid dictionary", path);
    tool->parameters = raw_of(c, schema);
    return ASC_OK;
}

static asc_err_t decode_tools(asc_api_anth_ctx_t *c, int t)
{
    if (is_null(c, t))
        return ASC_OK;
    if (ty(c, t) != ASC_JSON_ARRAY)
        return asc_api_anth_bad(c, "tools: Input should be a valid list");
    int n = c->j->tok[t].size;
    c->out->tools = asc_api_anth_alloc(c, (size_t)n, sizeof *c->out->tools);
    if (c->out->tools == NULL)
        return asc_api_anth_too_big(c);
    int el = t + 1;
    for (int i = 0; i < n; i++, el = next_elem(c, el)) {
        asc_err_t e = decode_tool(c, el, i, &c->out->tools[i]);
        if (e != ASC_OK)
            return e;
        c->out->ntools++;
    }
    return ASC_OK;
}

static asc_err_t decode_tool_choice(asc_api_anth_ctx_t *c, int t)
{
    if (is_null(c, t))
        return ASC_OK;
    if (ty(c, t) != ASC_JSON_OBJECT)
        return asc_api_anth_bad(c, "tool_choice: Input should be an object");
    int type = asc_json_obj_get(c->j, t, "type");
    if (type < 0)
        return asc_api_anth_bad(c, "tool_choice.type: Field required");
    static const char *const types[] = {"auto", "any", "none", "tool", NULL};
    int kind = ty(c, type) == ASC_JSON_STRING ? asc_api_anth_field(c, type, types) : -1;
    if (kind < 0)
        return asc_api_anth_bad(
            c, "tool_choice.type: Input should be 'auto', 'any', 'none' or 'tool'");
    int name = -1, dp = -1;
    int k = t + 1;
    for (int m = 0; m < c->j->tok[t].size; m++, k = asc_json_skip(c->j, k + 1)) {
        if (asc_json_str_eq(c->j, k, "type"))
            continue;
        if (kind == 3 && asc_json_str_eq(c->j, k, "name"))
            name = k + 1;
        else if (kind != 2 && asc_json_str_eq(c->j, k, "disable_parallel_tool_use"))
            dp = k + 1;
        else
            return asc_api_anth_extra(c, "tool_choice", k);
    }
    static const asc_tool_choice_t map[] = {ASC_TOOL_CHOICE_AUTO, ASC_TOOL_CHOICE_REQUIRED,
                                            ASC_TOOL_CHOICE_NONE, ASC_TOOL_CHOICE_FUNCTION};
    c->out->tool_choice = map[kind];
    if (kind == 3) {
        asc_err_t e =
            asc_api_anth_req_str(c, name, "tool_choice", "name", &c->out->tool_choice_name);
        if (e != ASC_OK)
            return e;
    }
    if (dp >= 0) {
        if (ty(c, dp) != ASC_JSON_TRUE && ty(c, dp) != ASC_JSON_FALSE)
            return asc_api_anth_bad(
                c, "tool_choice.disable_parallel_tool_use: Input should be a valid boolean");
        c->out->parallel_tool_calls = ty(c, dp) == ASC_JSON_TRUE ? 0 : 1;
    }
    return ASC_OK;
}

/* ---- scalars and small objects -------------------------------------------- */

static asc_err_t number_in(asc_api_anth_ctx_t *c, int t, const char *name, double lo, double hi,
                           double *out)
{
    if (ty(c, t) != ASC_JSON_NUMBER || asc_json_get_double(c->j, t, out) != ASC_OK)
        return asc_api_anth_bad(c, "%s: Input should be a valid number", name);
    if (*out < lo || *out > hi)
        return asc_api_anth_bad(c, "%s: Input should be between %g and %g", name, lo, hi);
    return ASC_OK;
}

static asc_err_t decode_metadata(asc_api_anth_ctx_t *c, int t)
{
    if (is_null(c, t))
        return ASC_OK;
    if (ty(c, t) != ASC_JSON_OBJECT)
        return asc_api_anth_bad(c, "metadata: Input should be an object");
    int k = t + 1;
    for (int m = 0; m < c->j->tok[t].size; m++, k = asc_json_skip(c->j, k + 1)) {
        int v = k + 1;
        if (!asc_json_str_eq(c->j, k, "user_id"))
            return asc_api_anth_extra(c, "metadata", k);
        if (is_null(c, v))
            continue;
        if (ty(c, v) != ASC_JSON_STRING)
            return asc_api_anth_bad(c, "metadata.user_id: Input should be a valid string");
        asc_err_t e = asc_api_anth_str(c, v, &c->out->user);
        if (e != ASC_OK)
            return e;
        if (c->out->user.n > MAX_USER_ID_LEN)
            return asc_api_anth_bad(c, "metadata.user_id: String should have at most %d characters",
                                    MAX_USER_ID_LEN);
        for (size_t i = 0; i < c->out->user.n; i++)
            if ((unsigned char)c->out->user.p[i] < 0x20 || c->out->user.p[i] == 0x7f)
                return asc_api_anth_bad(c, "metadata.user_id: control characters are not allowed");
    }
    return ASC_OK;
}

static asc_err_t json_schema_format(asc_api_anth_ctx_t *c, int t, const char *path)
{
    if (is_null(c, t))
        return ASC_OK;
    if (ty(c, t) != ASC_JSON_OBJECT)
        return asc_api_anth_bad(c, "%s: Input should be an object", path);
    if (c->out->format != ASC_FORMAT_UNSET)
        return asc_api_anth_bad(c, "%s: cannot be combined with output_config.format", path);
    int type = -1, schema = -1;
    int k = t + 1;
    for (int m = 0; m < c->j->tok[t].size; m++, k = asc_json_skip(c->j, k + 1)) {
        if (asc_json_str_eq(c->j, k, "type"))
            type = k + 1;
        else if (asc_json_str_eq(c->j, k, "schema"))
            schema = k + 1;
        else
            return asc_api_anth_extra(c, path, k);
    }
    if (type < 0)
        return asc_api_anth_bad(c, "%s.type: Field required", path);
    if (!asc_json_str_eq(c->j, type, "json_schema"))
        return asc_api_anth_bad(c, "%s.type: Input should be 'json_schema'", path);
    if (schema < 0)
        return asc_api_anth_bad(c, "%s.schema: Field required", path);
    if (ty(c, schema) != ASC_JSON_OBJECT)
        return asc_api_anth_bad(c, "%s.schema: Input should be a valid dictionary", path);
    c->out->format = ASC_FORMAT_JSON_SCHEMA;
    c->out->format_schema = raw_of(c, schema);
    return ASC_OK;
}

static asc_err_t decode_output_config(asc_api_anth_ctx_t *c, int t)
{
    if (is_null(c, t))
        return ASC_OK;
    if (ty(c, t) != ASC_JSON_OBJECT)
        return asc_api_anth_bad(c, "output_config: Input should be an object");
    int k = t + 1;
    for (int m = 0; m < c->j->tok[t].size; m++, k = asc_json_skip(c->j, k + 1)) {
        int v = k + 1;
        if (asc_json_str_eq(c->j, k, "format")) {
            asc_err_t e = json_schema_format(c, v, "output_config.format");
            if (e != ASC_OK)
                return e;
        } else if (asc_json_str_eq(c->j, k, "effort")) {
            if (!is_null(c, v))
                return asc_api_anth_bad(c, "output_config.effort: not supported by this gateway");
        } else {
            return asc_api_anth_extra(c, "output_config", k);
        }
    }
    return ASC_OK;
}

/* The last canonical part of the request: where a top-level cache_control
 * puts its breakpoint ("the last cacheable block"). */
static asc_part_t *last_part(asc_api_anth_ctx_t *c)
{
    for (size_t i = c->nmsgs; i > 0; i--)
        if (c->msgs[i - 1].nparts > 0)
            return &c->msgs[i - 1].parts[c->msgs[i - 1].nparts - 1];
    return NULL;
}

static int valid_version(const char *v, size_t n)
{
    static const char pat[] = "dddd-dd-dd";
    if (n != sizeof pat - 1)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (pat[i] == 'd' ? (v[i] < '0' || v[i] > '9') : v[i] != pat[i])
            return 0;
    return 1;
}

enum {
    F_MODEL,
    F_MAX_TOKENS,
    F_MESSAGES,
    F_SYSTEM,
    F_STOP_SEQUENCES,
    F_STREAM,
    F_TEMPERATURE,
    F_TOP_P,
    F_TOP_K,
    F_METADATA,
    F_TOOLS,
    F_TOOL_CHOICE,
    F_THINKING,
    F_CACHE_CONTROL,
    F_OUTPUT_CONFIG,
    F_OUTPUT_FORMAT,
    F_SERVICE_TIER,
    F_SPEED,
    F_DIAGNOSTICS,
    F_INFERENCE_GEO,
    F_CONTAINER,
    F_MCP_SERVERS,
    F_CONTEXT_MANAGEMENT,
    F_COUNT
};

static const char *const k_top[] = {
    "model",
    "max_tokens",
    "messages",
    "system",
    "stop_sequences",
    "stream",
    "temperature",
    "top_p",
    "top_k",
    "metadata",
    "tools",
    "tool_choice",
    "thinking",
    "cache_control",
    "output_config",
    "output_format",
    "service_tier",
    "speed",
    "diagnostics",
    "inference_geo",
    "container",
    "mcp_servers",
    "context_management",
    NULL,
};

/* Top-level fields that change the answer or the place it is computed and
 * have no canonical meaning. */
static asc_err_t refuse_top(asc_api_anth_ctx_t *c, int f)
{
    switch (f) {
    case F_INFERENCE_GEO:
        return asc_api_anth_bad(
            c, "inference_geo: not supported by this gateway; where requests run is set "
               "by its routing and residency policy");
    case F_CONTAINER:
        return asc_api_anth_bad(
            c, "container: code execution containers are not supported by this gateway");
    case F_MCP_SERVERS:
        return asc_api_anth_bad(c, "mcp_servers: MCP connectors are not supported by this gateway");
    default: return asc_api_anth_bad(c, "%s: not supported by this gateway", k_top[f]);
    }
}

static asc_err_t decode_top(asc_api_anth_ctx_t *c, const int *tok)
{
    const asc_json_t *j = c->j;
    asc_chat_req_t *out = c->out;
    asc_err_t e;
    int t;

    t = tok[F_MODEL];
    if (t < 0)
        return asc_api_anth_bad(c, "model: Field required");
    if (ty(c, t) != ASC_JSON_STRING)
        return asc_api_anth_bad(c, "model: Input should be a valid string");
    e = asc_api_anth_str(c, t, &out->model);
    if (e != ASC_OK)
        return e;
    if (out->model.n == 0 || out->model.n > MAX_MODEL_LEN || memchr(out->model.p, 0, out->model.n))
        return asc_api_anth_bad(c, "model: must be a non-empty string of at most %d characters",
                                MAX_MODEL_LEN);

    t = tok[F_MAX_TOKENS];
    if (t < 0)
        return asc_api_anth_bad(c, "max_tokens: Field required");
    if (asc_json_get_int(j, t, &out->max_tokens) != ASC_OK || out->max_tokens < 1 ||
        out->max_tokens > (int64_t)1 << 53)
        return asc_api_anth_bad(c, "max_tokens: Input should be a positive integer");
    out->has_max_tokens = 1;

    t = tok[F_MESSAGES];
    if (t < 0)
        return asc_api_anth_bad(c, "messages: Field required");
    if (ty(c, t) != ASC_JSON_ARRAY || j->tok[t].size == 0)
        return asc_api_anth_bad(c, "messages: Input should be a non-empty list");
    c->cap = asc_api_anth_msgs_bound(c, t);
    c->msgs = asc_api_anth_alloc(c, c->cap, sizeof *c->msgs);
    if (c->msgs == NULL)
        return asc_api_anth_too_big(c);

    t = tok[F_SYSTEM];
    if (t >= 0 && !is_null(c, t) &&
        !(ty(c, t) == ASC_JSON_STRING && j->tok[t].end == j->tok[t].start) &&
        !(ty(c, t) == ASC_JSON_ARRAY && j->tok[t].size == 0)) {
        asc_msg_t *sys = NULL;
        e = asc_api_anth_push_msg(c, &sys);
        if (e != ASC_OK)
            return e;
        sys->role = ASC_ROLE_SYSTEM;
        e = asc_api_anth_text_content(c, t, "system", sys);
        if (e != ASC_OK)
            return e;
    }
    int el = tok[F_MESSAGES] + 1;
    for (int i = 0; i < j->tok[tok[F_MESSAGES]].size; i++, el = next_elem(c, el)) {
        e = asc_api_anth_message(c, el, i);
        if (e != ASC_OK)
            return e;
    }
    out->msgs = c->msgs;
    out->nmsgs = c->nmsgs;

    t = tok[F_CACHE_CONTROL];
    if (t >= 0) {
        asc_str_t cc = ASC_STR_NULL;
        e = asc_api_anth_cache_control(c, t, "", &cc);
        if (e != ASC_OK)
            return asc_api_anth_bad(c, "cache_control: Input should be an object");
        asc_part_t *p = last_part(c);
        if (asc_str_set(cc) && p != NULL && !asc_str_set(p->cache_control))
            p->cache_control = cc;
    }

    e = tok[F_TOOLS] >= 0 ? decode_tools(c, tok[F_TOOLS]) : ASC_OK;
    if (e == ASC_OK && tok[F_TOOL_CHOICE] >= 0)
        e = decode_tool_choice(c, tok[F_TOOL_CHOICE]);
    if (e != ASC_OK)
        return e;

    t = tok[F_STOP_SEQUENCES];
    if (t >= 0 && !is_null(c, t)) {
        if (ty(c, t) != ASC_JSON_ARRAY)
            return asc_api_anth_bad(c, "stop_sequences: Input should be a valid list");
        out->stop = asc_api_anth_alloc(c, (size_t)j->tok[t].size, sizeof *out->stop);
        if (out->stop == NULL)
            return asc_api_anth_too_big(c);
        el = t + 1;
        for (int i = 0; i < j->tok[t].size; i++, el = next_elem(c, el)) {
            if (ty(c, el) != ASC_JSON_STRING)
                return asc_api_anth_bad(c, "stop_sequences.%d: Input should be a valid string", i);
            e = asc_api_anth_str(c, el, &out->stop[out->nstop++]);
            if (e != ASC_OK)
                return e;
        }
    }

    t = tok[F_TEMPERATURE];
    if (t >= 0 && !is_null(c, t)) {
        e = number_in(c, t, "temperature", 0, 1, &out->temperature);
        if (e != ASC_OK)
            return e;
        out->has_temperature = 1;
    }
    t = tok[F_TOP_P];
    if (t >= 0 && !is_null(c, t)) {
        e = number_in(c, t, "top_p", 0, 1, &out->top_p);
        if (e != ASC_OK)
            return e;
        out->has_top_p = 1;
    }
    t = tok[F_TOP_K];
    if (t >= 0 && !is_null(c, t)) {
        if (asc_json_get_int(j, t, &out->top_k) != ASC_OK || out->top_k < 0 ||
            out->top_k > (int64_t)1 << 31)
            return asc_api_anth_bad(c, "top_k: Input should be a non-negative integer");
        out->has_top_k = 1;
    }

    e = tok[F_METADATA] >= 0 ? decode_metadata(c, tok[F_METADATA]) : ASC_OK;
    if (e != ASC_OK)
        return e;

    t = tok[F_STREAM];
    if (t >= 0) {
        if (ty(c, t) != ASC_JSON_TRUE && ty(c, t) != ASC_JSON_FALSE && !is_null(c, t))
            return asc_api_anth_bad(c, "stream: Input should be a valid boolean");
        out->stream = ty(c, t) == ASC_JSON_TRUE;
    }

    t = tok[F_THINKING];
    if (t >= 0 && !is_null(c, t)) {
        int tt = ty(c, t) == ASC_JSON_OBJECT ? asc_json_obj_get(j, t, "type") : -1;
        if (tt < 0 || ty(c, tt) != ASC_JSON_STRING)
            return asc_api_anth_bad(c,
                                    "thinking: Input should be an object with a string \"type\"");
        out->thinking = raw_of(c, t);
    }

    e = tok[F_OUTPUT_CONFIG] >= 0 ? decode_output_config(c, tok[F_OUTPUT_CONFIG]) : ASC_OK;
    if (e == ASC_OK && tok[F_OUTPUT_FORMAT] >= 0)
        e = json_schema_format(c, tok[F_OUTPUT_FORMAT], "output_format");
    if (e != ASC_OK)
        return e;

    t = tok[F_SERVICE_TIER];
    if (t >= 0 && !is_null(c, t)) {
        /* "auto" is the upstream's default: dropping it changes nothing;
         * "standard_only" is a promise asc cannot keep for every upstream */
        if (asc_json_str_eq(j, t, "standard_only"))
            return asc_api_anth_bad(
                c, "service_tier: \"standard_only\" is not supported by this gateway");
        if (!asc_json_str_eq(j, t, "auto"))
            return asc_api_anth_bad(c, "service_tier: Input should be 'auto' or 'standard_only'");
    }
    t = tok[F_SPEED];
    if (t >= 0 && !is_null(c, t)) {
        if (asc_json_str_eq(j, t, "fast"))
            return asc_api_anth_bad(c, "speed: \"fast\" is not supported by this gateway");
        if (!asc_json_str_eq(j, t, "standard"))
            return asc_api_anth_bad(c, "speed: Input should be 'standard' or 'fast'");
    }
    t = tok[F_DIAGNOSTICS];
    if (t >= 0 && !is_null(c, t) && ty(c, t) != ASC_JSON_OBJECT)
        return asc_api_anth_bad(c, "diagnostics: Input should be an object");
    return ASC_OK;
}

asc_err_t asc_anthropic_decode(asc_pool_t *pool, const char *body, size_t len,
                               const asc_http_req_t *req, asc_chat_req_t *out, char *err,
                               size_t errlen)
{
    asc_json_t doc;
    asc_api_anth_ctx_t c = {.pool = pool, .j = &doc, .out = out, .err = err, .errlen = errlen};
    memset(out, 0, sizeof *out);
    out->parallel_tool_calls = -1;
    out->format_strict = -1;
    out->include_usage = 1; /* Anthropic streams always carry usage */

    if (req != NULL) {
        size_t vl = 0;
        const char *v = asc_http_req_header(req, "anthropic-version", &vl);
        if (v == NULL) {
            snprintf(err, errlen, "anthropic-version: header is required");
            return ASC_EINVAL;
        }
        if (!valid_version(v, vl)) {
            snprintf(err, errlen,
                     "anthropic-version: not a valid version (expected a date such as "
                     "2023-06-01)");
            return ASC_EINVAL;
        }
    }

    asc_json_limits_t lim;
    asc_json_limits_default(&lim);
    lim.root_object = 1;
    char jerr[160];
    asc_err_t e = asc_json_parse(pool, body, len, &lim, &doc, jerr, sizeof jerr);
    if (e != ASC_OK) {
        snprintf(err, errlen, "invalid JSON body: %s", jerr);
        return e;
    }
    const char *refused = asc_api_upstream_field(&doc, 0);
    if (refused != NULL) {
        snprintf(err, errlen,
                 "%s: choosing the upstream from the request is not allowed; upstreams come "
                 "only from the gateway's configuration",
                 refused);
        return ASC_EINVAL;
    }

    int tok[F_COUNT];
    for (int i = 0; i < F_COUNT; i++)
        tok[i] = -1;
    int k = 1;
    for (int m = 0; m < doc.tok[0].size; m++, k = asc_json_skip(&doc, k + 1)) {
        int f = asc_api_anth_field(&c, k, k_top);
        if (f < 0)
            return asc_api_anth_extra(&c, "", k);
        if (f >= F_INFERENCE_GEO && !is_null(&c, k + 1))
            return refuse_top(&c, f);
        tok[f] = k + 1;
    }
    return decode_top(&c, tok);
}

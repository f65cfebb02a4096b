/*
 * Decoder of the Responses dialect: a POST /v1/responses body, parsed
 * strictly (src/json), into the canonical request.
 *
 * Every field of the SDK's ResponseCreateParams is known here and has one
 * of four fates (docs/dialect-responses.md lists them): mapped; refused with
 * a 400 naming it because asc keeps no state (previous_response_id,
 * conversation, store:true, background, prompt) or because honouring it
 * would need a feature no other provider has (built-in tools, logprobs,
 * verbosity, moderation ...); dropped as a hint that cannot change the
 * answer (service_tier, prompt caching keys, reasoning items ...), named in
 * `err` on success as "dropped: ..."; or unknown, which is a 400 naming it.
 *
 * Decoded strings point into the body when they hold no escape, else into
 * the pool (unescaped). Raw JSON fields are byte ranges of the body.
 */
#include "api/openai.h"
#include "api/responses_dec.h"

#define MAX_TOOLS 128     /* OpenAI's own limit on `tools` */
#define MAX_META_PAIRS 16 /* metadata: 16 pairs, keys <= 64, values <= 512 */
#define MODEL_MAX 256

/* ---- the client-chosen upstream (ADVERSARIAL #2) ------------------------ */

/* OpenAI's rule for function and schema names: ^[a-zA-Z0-9_-]{1,64}$. */
static int valid_name(asc_str_t s)
{
    if (s.n == 0 || s.n > 64)
        return 0;
    for (size_t i = 0; i < s.n; i++) {
        char c = s.p[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-'))
            return 0;
    }
    return 1;
}

/* ---- tools, tool_choice, text ------------------------------------------- */

enum {
    TL_TYPE,
    TL_NAME,
    TL_DESCRIPTION,
    TL_PARAMETERS,
    TL_STRICT,
    TL_DEFER,
    TL_ASYNC,
    TL_CALLERS,
    TL_OUTPUT_SCHEMA,
    TL_N
};
static const char *const k_tool[TL_N] = {
    "type",          "name",  "description",     "parameters",    "strict",
    "defer_loading", "async", "allowed_callers", "output_schema",
};

static asc_err_t decode_tool(asc_resp_dec_t *d, int t, asc_tool_t *tool, const char *path)
{
    const asc_json_t *j = d->j;
    if (!type_is(j, t, ASC_JSON_OBJECT))
        return fail(d, "%s: must be an object", path);
    int ty = asc_json_obj_get(j, t, "type");
    if (!type_is(j, ty, ASC_JSON_STRING))
        return fail(d, "%s.type: required string", path);
    if (!asc_json_str_eq(j, ty, "function")) {
        char kb[80];
        return fail(d,
                    "%s.type: tools of type \"%s\" are not supported by this gateway; only "
                    "function tools are",
                    path, key_name(j, ty, kb, sizeof kb));
    }
    int f[TL_N];
    asc_err_t e = members(d, t, k_tool, TL_N, f, path);
    if (e != ASC_OK)
        return e;
    char sub[PATH_LEN];
    sub_path(sub, path, ".name");
    if (f[TL_NAME] < 0)
        return fail(d, "%s: required", sub);
    if ((e = want_str(d, f[TL_NAME], sub, 1, &tool->name)) != ASC_OK)
        return e;
    if (!valid_name(tool->name))
        return fail(d, "%s: must be 1-64 characters of a-z, A-Z, 0-9, _ and -", sub);
    if (f[TL_DESCRIPTION] >= 0) {
        sub_path(sub, path, ".description");
        if ((e = want_str(d, f[TL_DESCRIPTION], sub, 0, &tool->description)) != ASC_OK)
            return e;
    }
    if (f[TL_PARAMETERS] >= 0) {
        if (!type_is(j, f[TL_PARAMETERS], ASC_JSON_OBJECT))
            return fail(d, "%s.parameters: must be a JSON schema object", path);
        tool->parameters = raw(j, f[TL_PARAMETERS]);
    }
    tool->strict = -1;
    if (f[TL_STRICT] >= 0) {
        if (!is_bool(j, f[TL_STRICT]))
            return fail(d, "%s.strict: must be a boolean", path);
        tool->strict = asc_json_is_true(j, f[TL_STRICT]);
    }
    if (f[TL_DEFER] >= 0 && !type_is(j, f[TL_DEFER], ASC_JSON_FALSE))
        return fail(d, "%s.defer_loading: tool search is not supported", path);
    if (f[TL_ASYNC] >= 0 && !type_is(j, f[TL_ASYNC], ASC_JSON_FALSE))
        return fail(d, "%s.async: asynchronous tools are not supported", path);
    if (f[TL_CALLERS] >= 0) {
        int c = f[TL_CALLERS];
        int ok = type_is(j, c, ASC_JSON_ARRAY);
        for (int i = 0; ok && i < j->tok[c].size; i++)
            ok = asc_json_str_eq(j, asc_json_arr_get(j, c, i), "direct");
        if (!ok)
            return fail(d, "%s.allowed_callers: only [\"direct\"] is supported", path);
    }
    if (f[TL_OUTPUT_SCHEMA] >= 0)
        note(d, "tools.output_schema");
    return ASC_OK;
}

static asc_err_t decode_tools(asc_resp_dec_t *d, int t)
{
    const asc_json_t *j = d->j;
    if (!type_is(j, t, ASC_JSON_ARRAY))
        return fail(d, "tools: must be an array");
    size_t n = (size_t)j->tok[t].size;
    if (n > MAX_TOOLS)
        return fail(d, "tools: at most %d tools", MAX_TOOLS);
    d->out->tools = alloc_n(d, n, sizeof *d->out->tools);
    if (d->out->tools == NULL)
        return too_big(d);
    int tt = t + 1;
    for (size_t i = 0; i < n; i++, tt = asc_json_skip(j, tt)) {
        char path[PATH_LEN];
        sub_path(path, "", "tools[%zu]", i);
        asc_err_t e = decode_tool(d, tt, &d->out->tools[i], path);
        if (e != ASC_OK)
            return e;
    }
    d->out->ntools = n;
    return ASC_OK;
}

static asc_err_t decode_tool_choice(asc_resp_dec_t *d, int t)
{
    const asc_json_t *j = d->j;
    asc_chat_req_t *out = d->out;
    if (type_is(j, t, ASC_JSON_STRING)) {
        if (asc_json_str_eq(j, t, "auto"))
            out->tool_choice = ASC_TOOL_CHOICE_AUTO;
        else if (asc_json_str_eq(j, t, "none"))
            out->tool_choice = ASC_TOOL_CHOICE_NONE;
        else if (asc_json_str_eq(j, t, "required"))
            out->tool_choice = ASC_TOOL_CHOICE_REQUIRED;
        else
            return fail(d, "tool_choice: must be \"auto\", \"none\", \"required\" or "
                           "{\"type\":\"function\",\"name\":...}");
        return ASC_OK;
    }
    if (!type_is(j, t, ASC_JSON_OBJECT))
        return fail(d, "tool_choice: must be a string or an object");
    int ty = asc_json_obj_get(j, t, "type");
    if (!type_is(j, ty, ASC_JSON_STRING))
        return fail(d, "tool_choice.type: required string");
    if (!asc_json_str_eq(j, ty, "function")) {
        char kb[80];
        return fail(d,
                    "tool_choice.type: \"%s\" is not supported by this gateway; only "
                    "function tools are",
                    key_name(j, ty, kb, sizeof kb));
    }
    static const char *const k_tc[] = {"type", "name"};
    int f[2];
    asc_err_t e = members(d, t, k_tc, 2, f, "tool_choice");
    if (e != ASC_OK)
        return e;
    if (f[1] < 0)
        return fail(d, "tool_choice.name: required");
    if ((e = want_str(d, f[1], "tool_choice.name", 1, &out->tool_choice_name)) != ASC_OK)
        return e;
    for (size_t i = 0; i < out->ntools; i++)
        if (out->tools[i].name.n == out->tool_choice_name.n &&
            memcmp(out->tools[i].name.p, out->tool_choice_name.p, out->tool_choice_name.n) == 0) {
            out->tool_choice = ASC_TOOL_CHOICE_FUNCTION;
            return ASC_OK;
        }
    return fail(d, "tool_choice.name: no function tool of that name in tools");
}

static asc_err_t decode_format(asc_resp_dec_t *d, int t)
{
    const asc_json_t *j = d->j;
    asc_chat_req_t *out = d->out;
    if (!type_is(j, t, ASC_JSON_OBJECT))
        return fail(d, "text.format: must be an object");
    int ty = asc_json_obj_get(j, t, "type");
    enum { FF_TYPE, FF_NAME, FF_SCHEMA, FF_STRICT, FF_DESCRIPTION, FF_N };
    static const char *const k_ff[FF_N] = {"type", "name", "schema", "strict", "description"};
    int f[FF_N];
    if (asc_json_str_eq(j, ty, "text") || asc_json_str_eq(j, ty, "json_object")) {
        asc_err_t e = members(d, t, k_ff, 1, f, "text.format");
        if (e != ASC_OK)
            return e;
        out->format = asc_json_str_eq(j, ty, "text") ? ASC_FORMAT_TEXT : ASC_FORMAT_JSON_OBJECT;
        return ASC_OK;
    }
    if (!asc_json_str_eq(j, ty, "json_schema"))
        return fail(d, "text.format.type: must be \"text\", \"json_object\" or \"json_schema\"");
    asc_err_t e = members(d, t, k_ff, FF_N, f, "text.format");
    if (e != ASC_OK)
        return e;
    if (f[FF_NAME] < 0)
        return fail(d, "text.format.name: required");
    if ((e = want_str(d, f[FF_NAME], "text.format.name", 1, &out->format_name)) != ASC_OK)
        return e;
    if (!valid_name(out->format_name))
        return fail(d, "text.format.name: must be 1-64 characters of a-z, A-Z, 0-9, _ and -");
    if (!type_is(j, f[FF_SCHEMA], ASC_JSON_OBJECT))
        return fail(d, "text.format.schema: %s",
                    f[FF_SCHEMA] < 0 ? "required" : "must be a JSON schema object");
    out->format_schema = raw(j, f[FF_SCHEMA]);
    if (f[FF_STRICT] >= 0) {
        if (!is_bool(j, f[FF_STRICT]))
            return fail(d, "text.format.strict: must be a boolean");
        out->format_strict = asc_json_is_true(j, f[FF_STRICT]);
    }
    if (f[FF_DESCRIPTION] >= 0) {
        if (!type_is(j, f[FF_DESCRIPTION], ASC_JSON_STRING))
            return fail(d, "text.format.description: must be a string");
        note(d, "text.format.description");
    }
    out->format = ASC_FORMAT_JSON_SCHEMA;
    return ASC_OK;
}

static asc_err_t decode_text(asc_resp_dec_t *d, int t)
{
    const asc_json_t *j = d->j;
    if (!type_is(j, t, ASC_JSON_OBJECT))
        return fail(d, "text: must be an object");
    static const char *const k_text[] = {"format", "verbosity"};
    int f[2];
    asc_err_t e = members(d, t, k_text, 2, f, "text");
    if (e != ASC_OK)
        return e;
    /* verbosity changes how long the answer is, and only OpenAI has it;
     * "medium" is its default and means nothing to drop */
    if (f[1] >= 0 && !asc_json_str_eq(j, f[1], "medium"))
        return fail(d, "text.verbosity: not supported by this gateway; omit it");
    return f[0] >= 0 ? decode_format(d, f[0]) : ASC_OK;
}

/* ---- the top level ------------------------------------------------------ */

enum {
    TF_MODEL,
    TF_INPUT,
    TF_INSTRUCTIONS,
    TF_TOOLS,
    TF_TOOL_CHOICE,
    TF_PARALLEL_TOOL_CALLS,
    TF_TEXT,
    TF_MAX_OUTPUT_TOKENS,
    TF_TEMPERATURE,
    TF_TOP_P,
    TF_USER,
    TF_SAFETY_IDENTIFIER,
    TF_METADATA,
    TF_STREAM,
    TF_STREAM_OPTIONS,
    TF_REASONING,
    TF_TRUNCATION,
    TF_INCLUDE,
    TF_SERVICE_TIER,
    TF_STORE,
    TF_PREVIOUS_RESPONSE_ID,
    TF_CONVERSATION,
    TF_BACKGROUND,
    TF_PROMPT,
    TF_PROMPT_CACHE_KEY,
    TF_PROMPT_CACHE_RETENTION,
    TF_PROMPT_CACHE_OPTIONS,
    TF_MAX_TOOL_CALLS,
    TF_TOP_LOGPROBS,
    TF_ACCESS_PROGRAMS,
    TF_CONTEXT_MANAGEMENT,
    TF_IMAGE,
    TF_MODERATION,
    TF_COUNT
};

/* Every top-level field of ResponseCreateParams (openai-node). */
static const char *const k_fields[TF_COUNT] = {
    "model",
    "input",
    "instructions",
    "tools",
    "tool_choice",
    "parallel_tool_calls",
    "text",
    "max_output_tokens",
    "temperature",
    "top_p",
    "user",
    "safety_identifier",
    "metadata",
    "stream",
    "stream_options",
    "reasoning",
    "truncation",
    "include",
    "service_tier",
    "store",
    "previous_response_id",
    "conversation",
    "background",
    "prompt",
    "prompt_cache_key",
    "prompt_cache_retention",
    "prompt_cache_options",
    "max_tool_calls",
    "top_logprobs",
    "access_programs",
    "context_management",
    "image",
    "moderation",
};

/* Stateful features and features only OpenAI itself has. */
static asc_err_t refuse_unsupported(asc_resp_dec_t *d, const int *f)
{
    const asc_json_t *j = d->j;
    if (f[TF_PREVIOUS_RESPONSE_ID] >= 0)
        return fail(d, "previous_response_id: conversation state is not supported; send the full "
                       "input");
    if (f[TF_CONVERSATION] >= 0)
        return fail(d, "conversation: conversation state is not supported; send the full input");
    if (f[TF_STORE] >= 0) {
        if (!is_bool(j, f[TF_STORE]))
            return fail(d, "store: must be a boolean");
        if (asc_json_is_true(j, f[TF_STORE]))
            return fail(d, "store: storing responses is not supported (the gateway keeps no "
                           "state); omit store or set it to false");
    }
    if (f[TF_BACKGROUND] >= 0) {
        if (!is_bool(j, f[TF_BACKGROUND]))
            return fail(d, "background: must be a boolean");
        if (asc_json_is_true(j, f[TF_BACKGROUND]))
            return fail(d, "background: background responses are not supported");
    }
    if (f[TF_PROMPT] >= 0)
        return fail(d, "prompt: stored prompt templates are not supported; send instructions and "
                       "input");
    static const int empty_ok[] = {TF_ACCESS_PROGRAMS, TF_CONTEXT_MANAGEMENT, TF_IMAGE,
                                   TF_MODERATION};
    for (size_t i = 0; i < sizeof empty_ok / sizeof empty_ok[0]; i++) {
        int t = f[empty_ok[i]];
        if (t < 0)
            continue;
        int empty = (type_is(j, t, ASC_JSON_OBJECT) || type_is(j, t, ASC_JSON_ARRAY)) &&
                    j->tok[t].size == 0;
        if (!empty)
            return fail(d, "%s: not supported by this gateway", k_fields[empty_ok[i]]);
    }
    return ASC_OK;
}

static asc_err_t decode_number(asc_resp_dec_t *d, int t, const char *name, double lo, double hi,
                               int *has, double *v)
{
    if (t < 0)
        return ASC_OK;
    if (!type_is(d->j, t, ASC_JSON_NUMBER) || asc_json_get_double(d->j, t, v) != ASC_OK ||
        *v < lo || *v > hi)
        return fail(d, "%s: must be a number from %g to %g", name, lo, hi);
    *has = 1;
    return ASC_OK;
}

static asc_err_t decode_int(asc_resp_dec_t *d, int t, const char *name, int64_t lo, int64_t hi,
                            int64_t *v)
{
    if (!type_is(d->j, t, ASC_JSON_NUMBER) || asc_json_get_int(d->j, t, v) != ASC_OK || *v < lo ||
        *v > hi)
        return fail(d, "%s: must be an integer from %lld to %lld", name, (long long)lo,
                    (long long)hi);
    return ASC_OK;
}

static asc_err_t decode_metadata(asc_resp_dec_t *d, int t)
{
    const asc_json_t *j = d->j;
    if (!type_is(j, t, ASC_JSON_OBJECT))
        return fail(d, "metadata: must be an object of strings");
    if (j->tok[t].size > MAX_META_PAIRS)
        return fail(d, "metadata: at most %d pairs", MAX_META_PAIRS);
    int k = t + 1;
    for (int m = 0; m < j->tok[t].size; m++, k += 2) {
        char kb[80];
        if (str_len(j, k) > 64)
            return fail(d, "metadata: keys are at most 64 characters");
        if (!type_is(j, k + 1, ASC_JSON_STRING))
            return fail(d, "metadata.%s: must be a string", key_name(j, k, kb, sizeof kb));
        if (str_len(j, k + 1) > 512)
            return fail(d, "metadata.%s: at most 512 characters", key_name(j, k, kb, sizeof kb));
    }
    d->out->metadata = raw(j, t);
    return ASC_OK;
}

static asc_err_t decode_reasoning(asc_resp_dec_t *d, int t)
{
    const asc_json_t *j = d->j;
    if (!type_is(j, t, ASC_JSON_OBJECT))
        return fail(d, "reasoning: must be an object");
    enum { RF_EFFORT, RF_SUMMARY, RF_GENERATE_SUMMARY, RF_CONTEXT, RF_MODE, RF_N };
    static const char *const k_r[RF_N] = {"effort", "summary", "generate_summary", "context",
                                          "mode"};
    int f[RF_N];
    asc_err_t e = members(d, t, k_r, RF_N, f, "reasoning");
    if (e != ASC_OK)
        return e;
    if (f[RF_EFFORT] >= 0) {
        if (!type_is(j, f[RF_EFFORT], ASC_JSON_STRING) || str_len(j, f[RF_EFFORT]) == 0)
            return fail(d, "reasoning.effort: must be a non-empty string");
        d->out->reasoning = raw(j, f[RF_EFFORT]); /* the JSON string, quotes included */
    }
    if (f[RF_SUMMARY] >= 0 || f[RF_GENERATE_SUMMARY] >= 0)
        note(d, "reasoning.summary");
    if (f[RF_CONTEXT] >= 0)
        note(d, "reasoning.context");
    if (f[RF_MODE] >= 0 && !asc_json_str_eq(j, f[RF_MODE], "standard"))
        return fail(d, "reasoning.mode: only \"standard\" is supported");
    return ASC_OK;
}

static asc_err_t decode_include(asc_resp_dec_t *d, int t)
{
    const asc_json_t *j = d->j;
    /* Values that add data about built-in tools (refused anyway), input
     * images or reasoning items (not returned): nothing to include. */
    static const char *const k_inert[] = {
        "reasoning.encrypted_content",    "message.input_image.image_url",
        "file_search_call.results",       "web_search_call.results",
        "web_search_call.action.sources", "computer_call_output.output.image_url",
        "code_interpreter_call.outputs",  NULL,
    };
    if (!type_is(j, t, ASC_JSON_ARRAY))
        return fail(d, "include: must be an array of strings");
    int it = t + 1;
    for (int i = 0; i < j->tok[t].size; i++, it = asc_json_skip(j, it)) {
        if (asc_json_str_eq(j, it, "message.output_text.logprobs"))
            return fail(d,
                        "include[%d]: message.output_text.logprobs: log probabilities are not "
                        "supported by this gateway",
                        i);
        int known = 0;
        for (int k = 0; k_inert[k] != NULL && !known; k++)
            known = asc_json_str_eq(j, it, k_inert[k]);
        if (!known)
            return fail(d, "include[%d]: unknown value", i);
        note(d, "include");
    }
    return ASC_OK;
}

/* Hints that cannot change the answer: validated, then dropped and named. */
static asc_err_t drop_hints(asc_resp_dec_t *d, const int *f)
{
    const asc_json_t *j = d->j;
    int64_t v = 0;
    asc_err_t e;
    static const int strings[] = {TF_SERVICE_TIER, TF_PROMPT_CACHE_KEY, TF_PROMPT_CACHE_RETENTION};
    for (size_t i = 0; i < sizeof strings / sizeof strings[0]; i++) {
        int t = f[strings[i]];
        if (t < 0)
            continue;
        if (!type_is(j, t, ASC_JSON_STRING))
            return fail(d, "%s: must be a string", k_fields[strings[i]]);
        note(d, k_fields[strings[i]]);
    }
    if (f[TF_PROMPT_CACHE_OPTIONS] >= 0) {
        int t = f[TF_PROMPT_CACHE_OPTIONS];
        if (!type_is(j, t, ASC_JSON_OBJECT))
            return fail(d, "prompt_cache_options: must be an object");
        static const char *const k_pco[] = {"comparison_response_id", "mode", "prewarm", "ttl"};
        int g[4];
        if ((e = members(d, t, k_pco, 4, g, "prompt_cache_options")) != ASC_OK)
            return e;
        /* prewarm asks for no output at all */
        if (g[2] >= 0 && !type_is(j, g[2], ASC_JSON_FALSE))
            return fail(d, "prompt_cache_options.prewarm: not supported by this gateway");
        note(d, "prompt_cache_options");
    }
    if (f[TF_TRUNCATION] >= 0) {
        int t = f[TF_TRUNCATION];
        /* "auto" only matters when the input overflows the context window;
         * then the upstream's context-length error reaches the client, as
         * with "disabled" */
        if (asc_json_str_eq(j, t, "auto"))
            note(d, "truncation");
        else if (!asc_json_str_eq(j, t, "disabled"))
            return fail(d, "truncation: must be \"auto\" or \"disabled\"");
    }
    if (f[TF_MAX_TOOL_CALLS] >= 0) {
        /* a cap on built-in tool calls, and there are none */
        if ((e = decode_int(d, f[TF_MAX_TOOL_CALLS], "max_tool_calls", 0, INT32_MAX, &v)) != ASC_OK)
            return e;
        note(d, "max_tool_calls");
    }
    if (f[TF_TOP_LOGPROBS] >= 0) {
        /* logprobs come back only with include message.output_text.logprobs,
         * which is refused */
        if ((e = decode_int(d, f[TF_TOP_LOGPROBS], "top_logprobs", 0, 20, &v)) != ASC_OK)
            return e;
        if (v > 0)
            note(d, "top_logprobs");
    }
    if (f[TF_STREAM_OPTIONS] >= 0) {
        int t = f[TF_STREAM_OPTIONS];
        if (!type_is(j, t, ASC_JSON_OBJECT))
            return fail(d, "stream_options: must be an object");
        static const char *const k_so[] = {"include_obfuscation"};
        int g[1];
        if ((e = members(d, t, k_so, 1, g, "stream_options")) != ASC_OK)
            return e;
        /* asc never pads deltas with obfuscation: nothing to switch off */
        if (g[0] >= 0 && !is_bool(j, g[0]))
            return fail(d, "stream_options.include_obfuscation: must be a boolean");
    }
    return f[TF_INCLUDE] >= 0 ? decode_include(d, f[TF_INCLUDE]) : ASC_OK;
}

static asc_err_t decode_settings(asc_resp_dec_t *d, const int *f)
{
    const asc_json_t *j = d->j;
    asc_chat_req_t *out = d->out;
    asc_err_t e;
    if (f[TF_STREAM] >= 0) {
        if (!is_bool(j, f[TF_STREAM]))
            return fail(d, "stream: must be a boolean");
        out->stream = asc_json_is_true(j, f[TF_STREAM]);
    }
    if ((e = decode_number(d, f[TF_TEMPERATURE], "temperature", 0, 2, &out->has_temperature,
                           &out->temperature)) != ASC_OK ||
        (e = decode_number(d, f[TF_TOP_P], "top_p", 0, 1, &out->has_top_p, &out->top_p)) != ASC_OK)
        return e;
    if (f[TF_MAX_OUTPUT_TOKENS] >= 0) {
        if ((e = decode_int(d, f[TF_MAX_OUTPUT_TOKENS], "max_output_tokens", 1, (int64_t)1 << 53,
                            &out->max_tokens)) != ASC_OK)
            return e;
        out->has_max_tokens = 1;
    }
    if (f[TF_PARALLEL_TOOL_CALLS] >= 0) {
        if (!is_bool(j, f[TF_PARALLEL_TOOL_CALLS]))
            return fail(d, "parallel_tool_calls: must be a boolean");
        out->parallel_tool_calls = asc_json_is_true(j, f[TF_PARALLEL_TOOL_CALLS]);
    }
    if (f[TF_USER] >= 0 && (e = want_str(d, f[TF_USER], "user", 0, &out->user)) != ASC_OK)
        return e;
    if (f[TF_SAFETY_IDENTIFIER] >= 0) {
        /* the newer name for the same end-user id */
        asc_str_t sid;
        if ((e = want_str(d, f[TF_SAFETY_IDENTIFIER], "safety_identifier", 0, &sid)) != ASC_OK)
            return e;
        if (out->user.p == NULL)
            out->user = sid;
        else
            note(d, "safety_identifier");
    }
    if (f[TF_METADATA] >= 0 && (e = decode_metadata(d, f[TF_METADATA])) != ASC_OK)
        return e;
    if (f[TF_REASONING] >= 0 && (e = decode_reasoning(d, f[TF_REASONING])) != ASC_OK)
        return e;
    if (f[TF_TEXT] >= 0 && (e = decode_text(d, f[TF_TEXT])) != ASC_OK)
        return e;
    if (f[TF_TOOLS] >= 0 && (e = decode_tools(d, f[TF_TOOLS])) != ASC_OK)
        return e;
    if (f[TF_TOOL_CHOICE] >= 0 && (e = decode_tool_choice(d, f[TF_TOOL_CHOICE])) != ASC_OK)
        return e;
    return ASC_OK;
}

asc_err_t asc_api_resp_decode(asc_pool_t *pool, const char *body, size_t len,
                              const asc_http_req_t *req, asc_chat_req_t *out, char *err,
                              size_t errlen)
{
    (void)req;
    asc_resp_dec_t d;
    memset(&d, 0, sizeof d);
    d.pool = pool;
    d.err = err;
    d.errlen = err != NULL ? errlen : 0;
    d.out = out;
    if (d.errlen > 0)
        err[0] = '\0';
    memset(out, 0, sizeof *out);
    out->parallel_tool_calls = -1;
    out->format_strict = -1;
    out->include_usage = 1; /* the Responses API always reports usage */

    asc_json_limits_t lim;
    asc_json_limits_default(&lim);
    lim.root_object = 1;
    asc_json_t doc;
    char jerr[160];
    asc_err_t e = asc_json_parse(pool, body, len, &lim, &doc, jerr, sizeof jerr);
    if (e != ASC_OK) {
        if (d.errlen > 0)
            snprintf(err, errlen, "invalid JSON body: %s", jerr);
        return e;
    }
    d.j = &doc;
    const char *refused = asc_api_upstream_field(&doc, 0);
    if (refused != NULL)
        return fail(&d,
                    "%s: choosing the upstream from the request is not allowed; upstreams come "
                    "only from the gateway's configuration",
                    refused);
    int f[TF_COUNT];
    if ((e = members(&d, 0, k_fields, TF_COUNT, f, "")) != ASC_OK)
        return e;
    if ((e = refuse_unsupported(&d, f)) != ASC_OK)
        return e;

    int t = f[TF_MODEL];
    if (t < 0)
        return fail(&d, "model: required");
    if (!type_is(&doc, t, ASC_JSON_STRING) || (e = get_str(&d, t, &out->model)) != ASC_OK ||
        out->model.n == 0 || out->model.n > MODEL_MAX || memchr(out->model.p, 0, out->model.n))
        return e == ASC_ETOOBIG ? e
                                : fail(&d,
                                       "model: must be a non-empty string of at most %d "
                                       "characters",
                                       MODEL_MAX);
    if ((e = decode_settings(&d, f)) != ASC_OK || (e = drop_hints(&d, f)) != ASC_OK)
        return e;
    if (f[TF_INPUT] < 0)
        return fail(&d, "input: required");
    if ((e = asc_api_resp_decode_input(&d, f[TF_INPUT], f[TF_INSTRUCTIONS])) != ASC_OK)
        return e;
    int conversation = 0;
    for (size_t i = 0; i < out->nmsgs; i++)
        conversation |= out->msgs[i].role != ASC_ROLE_SYSTEM;
    if (!conversation)
        return fail(&d, "input: must contain at least one message or item");
    if (d.notes[0] != '\0' && d.errlen > 0)
        snprintf(err, errlen, "dropped: %s", d.notes);
    return ASC_OK;
}

/*
 * The Responses dialect's `instructions` and `input` into canonical messages:
 * a string input is one user message; an item array maps message items
 * (roles user, assistant, system, developer) to messages, runs of
 * function_call items to the tool calls of one assistant message, and each
 * function_call_output to a tool message. Reasoning items are dropped
 * (hints for the model that produced them); items that refer to stored
 * state or to built-in tools are refused, naming the item.
 */
#include "api/responses_dec.h"

/* ---- content parts ------------------------------------------------------ */

enum {
    PF_TYPE,
    PF_TEXT,
    PF_ANNOTATIONS,
    PF_LOGPROBS,
    PF_REFUSAL,
    PF_IMAGE_URL,
    PF_FILE_ID,
    PF_DETAIL,
    PF_CACHE,
    PF_PARSED,
    PF_N
};
static const char *const k_part[PF_N] = {"type",     "text",    "annotations",
                                         "logprobs", "refusal", "image_url",
                                         "file_id",  "detail",  "prompt_cache_breakpoint",
                                         "parsed"};

/* Which fields each part type may carry. */
static int part_allows(int kind, int field)
{
    static const unsigned mask[] = {
        /* input_text */ 1u << PF_TYPE | 1u << PF_TEXT | 1u << PF_CACHE,
        /* output_text (the SDK's parse helpers add "parsed": accepted, as
         * their output is meant to be sent back as the next turn's input) */
        1u << PF_TYPE | 1u << PF_TEXT | 1u << PF_ANNOTATIONS | 1u << PF_LOGPROBS | 1u << PF_PARSED,
        /* refusal */ 1u << PF_TYPE | 1u << PF_REFUSAL,
        /* input_image */ 1u << PF_TYPE | 1u << PF_IMAGE_URL | 1u << PF_FILE_ID | 1u << PF_DETAIL |
            1u << PF_CACHE,
    };
    return (mask[kind] >> field) & 1u;
}

/* One content part of a message (role USER/SYSTEM/ASSISTANT) or of a
 * function_call_output (role TOOL). */
static asc_err_t decode_part(asc_resp_dec_t *d, int t, asc_role_t role, asc_part_t *p,
                             const char *path)
{
    const asc_json_t *j = d->j;
    if (!type_is(j, t, ASC_JSON_OBJECT))
        return fail(d, "%s: must be an object", path);
    int ty = asc_json_obj_get(j, t, "type");
    if (!type_is(j, ty, ASC_JSON_STRING))
        return fail(d, "%s.type: required string", path);
    int kind;
    if (asc_json_str_eq(j, ty, "input_text"))
        kind = 0;
    else if (asc_json_str_eq(j, ty, "output_text") && role != ASC_ROLE_TOOL)
        kind = 1;
    else if (asc_json_str_eq(j, ty, "refusal") && role == ASC_ROLE_ASSISTANT)
        kind = 2;
    else if (asc_json_str_eq(j, ty, "input_image") && role != ASC_ROLE_ASSISTANT)
        kind = 3;
    else if (asc_json_str_eq(j, ty, "input_file"))
        return fail(d, "%s: input_file parts are not supported by this gateway", path);
    else {
        char kb[80];
        return fail(d, "%s.type: part type \"%s\" is not supported here", path,
                    key_name(j, ty, kb, sizeof kb));
    }
    int f[PF_N];
    asc_err_t e = members(d, t, k_part, PF_N, f, path);
    if (e != ASC_OK)
        return e;
    for (int i = 0; i < PF_N; i++) {
        if (f[i] >= 0 && !part_allows(kind, i)) {
            return fail(d, "%s.%s: unknown parameter", path, k_part[i]);
        }
    }
    char sub[PATH_LEN];
    if (f[PF_CACHE] >= 0)
        note(d, "prompt_cache_breakpoint");
    if (kind <= 2) {
        int field = kind == 2 ? PF_REFUSAL : PF_TEXT;
        sub_path(sub, path, ".%s", k_part[field]);
        if (f[field] < 0)
            return fail(d, "%s: required", sub);
        p->type = ASC_PART_TEXT;
        e = want_str(d, f[field], sub, 0, &p->text);
        if (e == ASC_OK)
            d->out->input_bytes += p->text.n;
        return e;
    }
    if (f[PF_FILE_ID] >= 0)
        return fail(d,
                    "%s.file_id: file references are not supported (the gateway keeps no "
                    "files); send image_url",
                    path);
    sub_path(sub, path, ".image_url");
    if (f[PF_IMAGE_URL] < 0)
        return fail(d, "%s: required", sub);
    p->type = ASC_PART_IMAGE_URL;
    e = want_str(d, f[PF_IMAGE_URL], sub, 1, &p->url);
    if (e != ASC_OK)
        return e;
    if (f[PF_DETAIL] >= 0) {
        int dt = f[PF_DETAIL];
        if (!asc_json_str_eq(j, dt, "auto") && !asc_json_str_eq(j, dt, "low") &&
            !asc_json_str_eq(j, dt, "high") && !asc_json_str_eq(j, dt, "original"))
            return fail(d, "%s.detail: must be \"auto\", \"low\", \"high\" or \"original\"", path);
        return get_str(d, dt, &p->detail);
    }
    return ASC_OK;
}

/* Content: a string (one text part) or an array of parts. */
static asc_err_t decode_content(asc_resp_dec_t *d, int t, asc_role_t role, asc_msg_t *m,
                                const char *path)
{
    const asc_json_t *j = d->j;
    if (type_is(j, t, ASC_JSON_STRING)) {
        m->parts = alloc_n(d, 1, sizeof *m->parts);
        if (m->parts == NULL)
            return too_big(d);
        m->nparts = 1;
        m->parts[0].type = ASC_PART_TEXT;
        d->out->input_bytes += (size_t)str_len(j, t);
        return get_str(d, t, &m->parts[0].text);
    }
    if (!type_is(j, t, ASC_JSON_ARRAY))
        return fail(d, "%s: must be a string or an array of content parts", path);
    size_t n = (size_t)j->tok[t].size;
    m->parts = alloc_n(d, n, sizeof *m->parts);
    if (m->parts == NULL)
        return too_big(d);
    int pt = t + 1;
    for (size_t i = 0; i < n; i++, pt = asc_json_skip(j, pt)) {
        char sub[PATH_LEN];
        sub_path(sub, path, "[%zu]", i);
        asc_err_t e = decode_part(d, pt, role, &m->parts[i], sub);
        if (e != ASC_OK)
            return e;
    }
    m->nparts = n;
    return ASC_OK;
}

/* ---- input items -------------------------------------------------------- */

typedef enum { IT_MESSAGE, IT_CALL, IT_OUTPUT, IT_REASONING } item_kind_t;

static asc_err_t item_kind(asc_resp_dec_t *d, int it, const char *path, item_kind_t *kind)
{
    const asc_json_t *j = d->j;
    if (!type_is(j, it, ASC_JSON_OBJECT))
        return fail(d, "%s: must be an object", path);
    int ty = asc_json_obj_get(j, it, "type");
    if (is_null(j, ty)) {
        if (asc_json_obj_get(j, it, "role") >= 0) {
            *kind = IT_MESSAGE;
            return ASC_OK;
        }
        if (asc_json_obj_get(j, it, "id") >= 0)
            goto reference;
        return fail(d, "%s: an item needs a \"type\" (or a \"role\" for a message)", path);
    }
    if (!type_is(j, ty, ASC_JSON_STRING))
        return fail(d, "%s.type: must be a string", path);
    if (asc_json_str_eq(j, ty, "message"))
        *kind = IT_MESSAGE;
    else if (asc_json_str_eq(j, ty, "function_call"))
        *kind = IT_CALL;
    else if (asc_json_str_eq(j, ty, "function_call_output"))
        *kind = IT_OUTPUT;
    else if (asc_json_str_eq(j, ty, "reasoning"))
        *kind = IT_REASONING;
    else if (asc_json_str_eq(j, ty, "item_reference"))
        goto reference;
    else {
        char kb[80];
        return fail(d, "%s.type: input items of type \"%s\" are not supported by this gateway",
                    path, key_name(j, ty, kb, sizeof kb));
    }
    return ASC_OK;
reference:
    return fail(d,
                "%s: item_reference: stored items are not supported (the gateway keeps no "
                "state); send the items themselves",
                path);
}

static asc_msg_t *new_msg(asc_resp_dec_t *d, asc_role_t role)
{
    asc_msg_t *m = &d->out->msgs[d->out->nmsgs++];
    m->role = role;
    return m;
}

enum { MF_TYPE, MF_ROLE, MF_CONTENT, MF_ID, MF_STATUS, MF_PHASE, MF_N };
static const char *const k_msg[MF_N] = {"type", "role", "content", "id", "status", "phase"};

static asc_err_t decode_message(asc_resp_dec_t *d, int it, const char *path)
{
    const asc_json_t *j = d->j;
    int f[MF_N];
    asc_err_t e = members(d, it, k_msg, MF_N, f, path);
    if (e != ASC_OK)
        return e;
    asc_role_t role;
    int r = f[MF_ROLE];
    if (asc_json_str_eq(j, r, "user"))
        role = ASC_ROLE_USER;
    else if (asc_json_str_eq(j, r, "assistant"))
        role = ASC_ROLE_ASSISTANT;
    else if (asc_json_str_eq(j, r, "system") || asc_json_str_eq(j, r, "developer"))
        role = ASC_ROLE_SYSTEM;
    else
        return fail(d, "%s.role: must be \"user\", \"assistant\", \"system\" or \"developer\"",
                    path);
    if (f[MF_PHASE] >= 0)
        note(d, "phase");
    if (f[MF_CONTENT] < 0)
        return fail(d, "%s.content: required", path);
    char sub[PATH_LEN];
    sub_path(sub, path, ".content");
    return decode_content(d, f[MF_CONTENT], role, new_msg(d, role), sub);
}

enum {
    CF_TYPE,
    CF_CALL_ID,
    CF_NAME,
    CF_ARGUMENTS,
    CF_ID,
    CF_STATUS,
    CF_NAMESPACE,
    CF_CALLER,
    CF_ASYNC,
    CF_OUTPUT,
    CF_PARSED, /* added by the SDK's parse helpers to calls they return */
    CF_N
};
static const char *const k_call[CF_N] = {
    "type",   "call_id", "name",   "arguments",        "id", "status", "namespace",
    "caller", "async",   "output", "parsed_arguments",
};

/* Arguments: a string holding a JSON object ("" is taken as {}). */
static asc_err_t decode_arguments(asc_resp_dec_t *d, int t, asc_str_t *out, const char *path)
{
    char sub[PATH_LEN];
    sub_path(sub, path, ".arguments");
    if (t < 0)
        return fail(d, "%s: required", sub);
    asc_err_t e = want_str(d, t, sub, 0, out);
    if (e != ASC_OK)
        return e;
    d->out->input_bytes += out->n;
    if (out->n == 0) {
        *out = (asc_str_t){"{}", 2};
        return ASC_OK;
    }
    asc_json_limits_t lim;
    asc_json_limits_default(&lim);
    lim.root_object = 1;
    asc_json_t doc;
    e = asc_json_parse(d->pool, out->p, out->n, &lim, &doc, NULL, 0);
    if (e == ASC_ETOOBIG)
        return too_big(d);
    if (e != ASC_OK)
        return fail(d, "%s: must be a JSON object encoded as a string", sub);
    return ASC_OK;
}

static asc_err_t decode_call(asc_resp_dec_t *d, int it, asc_tool_call_t *c, const char *path)
{
    int f[CF_N];
    asc_err_t e = members(d, it, k_call, CF_N, f, path);
    if (e != ASC_OK)
        return e;
    char sub[PATH_LEN];
    if (f[CF_OUTPUT] >= 0)
        return fail(d, "%s.output: unknown parameter", path);
    if (f[CF_NAMESPACE] >= 0)
        return fail(d, "%s.namespace: namespaced tools are not supported", path);
    if (f[CF_ASYNC] >= 0 && !type_is(d->j, f[CF_ASYNC], ASC_JSON_FALSE))
        return fail(d, "%s.async: asynchronous tool calls are not supported", path);
    if ((e = check_caller(d, f[CF_CALLER], path)) != ASC_OK)
        return e;
    sub_path(sub, path, ".call_id");
    if (f[CF_CALL_ID] < 0)
        return fail(d, "%s: required", sub);
    if ((e = want_str(d, f[CF_CALL_ID], sub, 1, &c->id)) != ASC_OK)
        return e;
    sub_path(sub, path, ".name");
    if (f[CF_NAME] < 0)
        return fail(d, "%s: required", sub);
    if ((e = want_str(d, f[CF_NAME], sub, 1, &c->name)) != ASC_OK)
        return e;
    return decode_arguments(d, f[CF_ARGUMENTS], &c->arguments, path);
}

static asc_err_t decode_output(asc_resp_dec_t *d, int it, const char *path)
{
    int f[CF_N];
    asc_err_t e = members(d, it, k_call, CF_N, f, path);
    if (e != ASC_OK)
        return e;
    for (int i = 0; i < CF_N; i++)
        if (f[i] >= 0 && (i == CF_ARGUMENTS || i == CF_ASYNC || i == CF_PARSED))
            return fail(d, "%s.%s: unknown parameter", path, k_call[i]);
    if (f[CF_NAMESPACE] >= 0)
        return fail(d, "%s.namespace: namespaced tools are not supported", path);
    if ((e = check_caller(d, f[CF_CALLER], path)) != ASC_OK)
        return e;
    if (f[CF_NAME] >= 0 && !type_is(d->j, f[CF_NAME], ASC_JSON_STRING))
        return fail(d, "%s.name: must be a string", path);
    char sub[PATH_LEN];
    sub_path(sub, path, ".call_id");
    if (f[CF_CALL_ID] < 0)
        return fail(d, "%s: required (it pairs the output with its function_call)", sub);
    asc_msg_t *m = new_msg(d, ASC_ROLE_TOOL);
    if ((e = want_str(d, f[CF_CALL_ID], sub, 1, &m->tool_call_id)) != ASC_OK)
        return e;
    sub_path(sub, path, ".output");
    if (f[CF_OUTPUT] < 0)
        return fail(d, "%s: required", sub);
    return decode_content(d, f[CF_OUTPUT], ASC_ROLE_TOOL, m, sub);
}

/* A run of function_call items (reasoning items between them are dropped)
 * becomes the tool calls of one assistant message: the message just before
 * it when that is an assistant message without calls (its text and calls
 * came out of one model turn), else a new one. Returns the token after the
 * run in *next and the items consumed in *count. */
static asc_err_t decode_call_run(asc_resp_dec_t *d, int first, int index, int end_items, int *next,
                                 int *count)
{
    const asc_json_t *j = d->j;
    size_t ncalls = 0;
    int it = first, n = 0;
    for (; index + n < end_items; n++, it = asc_json_skip(j, it)) {
        item_kind_t k;
        char path[PATH_LEN];
        sub_path(path, "", "input[%d]", index + n);
        asc_err_t e = item_kind(d, it, path, &k);
        if (e != ASC_OK)
            return e;
        if (k == IT_CALL)
            ncalls++;
        else if (k != IT_REASONING)
            break;
    }
    asc_msg_t *m = d->out->nmsgs > 0 ? &d->out->msgs[d->out->nmsgs - 1] : NULL;
    if (m == NULL || m->role != ASC_ROLE_ASSISTANT || m->ntool_calls > 0)
        m = new_msg(d, ASC_ROLE_ASSISTANT);
    m->tool_calls = alloc_n(d, ncalls, sizeof *m->tool_calls);
    if (m->tool_calls == NULL)
        return too_big(d);
    it = first;
    for (int i = 0; i < n; i++, it = asc_json_skip(j, it)) {
        if (!asc_json_str_eq(j, asc_json_obj_get(j, it, "type"), "function_call")) {
            note(d, "reasoning items");
            continue;
        }
        char path[PATH_LEN];
        sub_path(path, "", "input[%d]", index + i);
        asc_err_t e = decode_call(d, it, &m->tool_calls[m->ntool_calls], path);
        if (e != ASC_OK)
            return e;
        m->ntool_calls++;
    }
    *next = it;
    *count = n;
    return ASC_OK;
}

asc_err_t asc_api_resp_decode_input(asc_resp_dec_t *d, int in, int instr)
{
    const asc_json_t *j = d->j;
    asc_chat_req_t *out = d->out;
    int nitems = type_is(j, in, ASC_JSON_ARRAY) ? j->tok[in].size : 1;
    d->cap = (size_t)nitems + 1;
    out->msgs = alloc_n(d, d->cap, sizeof *out->msgs);
    if (out->msgs == NULL)
        return too_big(d);
    asc_err_t e;
    if (instr >= 0) {
        if (!type_is(j, instr, ASC_JSON_STRING))
            return fail(d, "instructions: must be a string");
        if (str_len(j, instr) > 0 &&
            (e = decode_content(d, instr, ASC_ROLE_SYSTEM, new_msg(d, ASC_ROLE_SYSTEM),
                                "instructions")) != ASC_OK)
            return e;
    }
    if (type_is(j, in, ASC_JSON_STRING))
        return decode_content(d, in, ASC_ROLE_USER, new_msg(d, ASC_ROLE_USER), "input");
    if (!type_is(j, in, ASC_JSON_ARRAY))
        return fail(d, "input: must be a string or an array of input items");
    int it = in + 1;
    for (int i = 0; i < nitems;) {
        char path[PATH_LEN];
        sub_path(path, "", "input[%d]", i);
        item_kind_t k = IT_REASONING;
        if ((e = item_kind(d, it, path, &k)) != ASC_OK)
            return e;
        if (k == IT_CALL) {
            int next = it, n = 0;
            if ((e = decode_call_run(d, it, i, nitems, &next, &n)) != ASC_OK)
                return e;
            it = next;
            i += n;
            continue;
        }
        if (k == IT_MESSAGE)
            e = decode_message(d, it, path);
        else if (k == IT_OUTPUT)
            e = decode_output(d, it, path);
        else
            note(d, "reasoning items"); /* hints for the model that produced them */
        /* e is ASC_OK from item_kind() when nothing else set it */
        if (e != ASC_OK)
            return e;
        it = asc_json_skip(j, it);
        i++;
    }
    return ASC_OK;
}

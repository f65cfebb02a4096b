/*
 * Anthropic request decoding, messages and content blocks: text, image,
 * tool_use, tool_result; a user message's tool_result blocks become
 * canonical TOOL messages ahead of the rest of that message. Every other
 * block type is refused with a 400 naming it.
 */
#include <stdio.h>
#include <string.h>

#include "api/anthropic_int.h"

/* ---- content blocks ------------------------------------------------------ */

/* Block types of Anthropic's schema that asc cannot represent. */
static asc_err_t unsupported_block(asc_api_anth_ctx_t *c, const char *path, int type_tok)
{
    char t[72];
    asc_api_anth_printable(c, type_tok, t, sizeof t);
    if (asc_json_str_eq(c->j, type_tok, "thinking") ||
        asc_json_str_eq(c->j, type_tok, "redacted_thinking"))
        return asc_api_anth_bad(
            c,
            "%s: content block type \"%s\" is not supported by this gateway (thinking "
            "blocks cannot be passed back to the model through it)",
            path, t);
    return asc_api_anth_bad(c, "%s: content block type \"%s\" is not supported by this gateway",
                            path, t);
}

/* The "type" of block b (an object), checked. */
static asc_err_t block_type(asc_api_anth_ctx_t *c, int b, const char *path, int *type_tok)
{
    if (ty(c, b) != ASC_JSON_OBJECT)
        return asc_api_anth_bad(c, "%s: Input should be an object", path);
    int t = asc_json_obj_get(c->j, b, "type");
    if (t < 0)
        return asc_api_anth_bad(c, "%s.type: Field required", path);
    if (ty(c, t) != ASC_JSON_STRING)
        return asc_api_anth_bad(c, "%s.type: Input should be a valid string", path);
    *type_tok = t;
    return ASC_OK;
}

static asc_err_t text_block(asc_api_anth_ctx_t *c, int b, const char *path, asc_part_t *p)
{
    static const char *const f[] = {"type", "text", "cache_control", "citations", NULL};
    int text = -1;
    memset(p, 0, sizeof *p);
    p->type = ASC_PART_TEXT;
    int k = b + 1;
    for (int m = 0; m < c->j->tok[b].size; m++, k = asc_json_skip(c->j, k + 1)) {
        int v = k + 1;
        asc_err_t e = ASC_OK;
        switch (asc_api_anth_field(c, k, f)) {
        case 0: break;
        case 1: text = v; break;
        case 2: e = asc_api_anth_cache_control(c, v, path, &p->cache_control); break;
        case 3:
            if (!is_null(c, v) && !(ty(c, v) == ASC_JSON_ARRAY && c->j->tok[v].size == 0))
                return asc_api_anth_bad(
                    c, "%s.citations: citations are not supported by this gateway", path);
            break;
        default: return asc_api_anth_extra(c, path, k);
        }
        if (e != ASC_OK)
            return e;
    }
    if (text < 0)
        return asc_api_anth_bad(c, "%s.text: Field required", path);
    if (ty(c, text) != ASC_JSON_STRING)
        return asc_api_anth_bad(c, "%s.text: Input should be a valid string", path);
    return asc_api_anth_str(c, text, &p->text);
}

static asc_err_t image_source(asc_api_anth_ctx_t *c, int s, const char *path, asc_part_t *p)
{
    static const char *const f[] = {"type", "media_type", "data", "url", NULL};
    static const char *const media[] = {"image/jpeg", "image/png", "image/gif", "image/webp", NULL};
    char sp[ASC_API_ANTH_PATH_LEN + 8];
    asc_api_anth_path(sp, sizeof sp, "%s.source", path);
    if (ty(c, s) != ASC_JSON_OBJECT)
        return asc_api_anth_bad(c, "%s: Input should be an object", sp);
    int t = asc_json_obj_get(c->j, s, "type");
    if (t < 0)
        return asc_api_anth_bad(c, "%s.type: Field required", sp);
    int base64 = asc_json_str_eq(c->j, t, "base64"), url = asc_json_str_eq(c->j, t, "url");
    if (!base64 && !url) {
        if (asc_json_str_eq(c->j, t, "file"))
            return asc_api_anth_bad(
                c, "%s: file sources (Files API) are not supported by this gateway", sp);
        return asc_api_anth_bad(c, "%s.type: Input should be 'base64' or 'url'", sp);
    }
    int mt = -1, data = -1, u = -1;
    int k = s + 1;
    for (int m = 0; m < c->j->tok[s].size; m++, k = asc_json_skip(c->j, k + 1)) {
        int v = k + 1, i = asc_api_anth_field(c, k, f);
        if (i == 0)
            continue;
        if (base64 && i == 1)
            mt = v;
        else if (base64 && i == 2)
            data = v;
        else if (url && i == 3)
            u = v;
        else
            return asc_api_anth_extra(c, sp, k);
    }
    asc_err_t e;
    if (url) {
        p->type = ASC_PART_IMAGE_URL;
        return asc_api_anth_req_str(c, u, sp, "url", &p->url);
    }
    p->type = ASC_PART_IMAGE_BASE64;
    e = asc_api_anth_req_str(c, mt, sp, "media_type", &p->media_type);
    if (e != ASC_OK)
        return e;
    if (asc_api_anth_field(c, mt, media) < 0)
        return asc_api_anth_bad(
            c,
            "%s.media_type: Input should be 'image/jpeg', 'image/png', 'image/gif' or "
            "'image/webp'",
            sp);
    return asc_api_anth_req_str(c, data, sp, "data", &p->data);
}

static asc_err_t image_block(asc_api_anth_ctx_t *c, int b, const char *path, asc_part_t *p)
{
    static const char *const f[] = {"type", "source", "cache_control", "transformations", NULL};
    int source = -1;
    memset(p, 0, sizeof *p);
    int k = b + 1;
    for (int m = 0; m < c->j->tok[b].size; m++, k = asc_json_skip(c->j, k + 1)) {
        int v = k + 1;
        asc_err_t e = ASC_OK;
        switch (asc_api_anth_field(c, k, f)) {
        case 0: break;
        case 1: source = v; break;
        case 2: e = asc_api_anth_cache_control(c, v, path, &p->cache_control); break;
        case 3:
            if (!is_null(c, v))
                return asc_api_anth_bad(
                    c,
                    "%s.transformations: image transformations are not supported by "
                    "this gateway",
                    path);
            break;
        default: return asc_api_anth_extra(c, path, k);
        }
        if (e != ASC_OK)
            return e;
    }
    if (source < 0)
        return asc_api_anth_bad(c, "%s.source: Field required", path);
    return image_source(c, source, path, p);
}

static asc_err_t tool_use_block(asc_api_anth_ctx_t *c, int b, const char *path, asc_tool_call_t *tc)
{
    static const char *const f[] = {"type",          "id",     "name",         "input",
                                    "cache_control", "caller", "toolset_name", NULL};
    int id = -1, name = -1, input = -1;
    int k = b + 1;
    for (int m = 0; m < c->j->tok[b].size; m++, k = asc_json_skip(c->j, k + 1)) {
        int v = k + 1;
        switch (asc_api_anth_field(c, k, f)) {
        case 0: break;
        case 1: id = v; break;
        case 2: name = v; break;
        case 3: input = v; break;
        case 4:
            /* a cache breakpoint on a tool_use block: a hint the canonical
             * tool call cannot carry; dropped */
            if (!is_null(c, v) && ty(c, v) != ASC_JSON_OBJECT)
                return asc_api_anth_bad(c, "%s.cache_control: Input should be an object", path);
            break;
        case 5: {
            int ct = ty(c, v) == ASC_JSON_OBJECT ? asc_json_obj_get(c->j, v, "type") : -1;
            if (!is_null(c, v) &&
                !(c->j->tok[v].size == 1 && ct >= 0 && asc_json_str_eq(c->j, ct, "direct")))
                return asc_api_anth_bad(
                    c, "%s.caller: only direct tool calls are supported by this gateway", path);
            break;
        }
        case 6:
            if (!is_null(c, v))
                return asc_api_anth_bad(
                    c, "%s.toolset_name: toolsets are not supported by this gateway", path);
            break;
        default: return asc_api_anth_extra(c, path, k);
        }
    }
    asc_err_t e = asc_api_anth_req_str(c, id, path, "id", &tc->id);
    if (e == ASC_OK)
        e = asc_api_anth_req_str(c, name, path, "name", &tc->name);
    if (e != ASC_OK)
        return e;
    if (input < 0)
        return asc_api_anth_bad(c, "%s.input: Field required", path);
    if (ty(c, input) != ASC_JSON_OBJECT)
        return asc_api_anth_bad(c, "%s.input: Input should be a valid dictionary", path);
    tc->arguments = raw_of(c, input);
    return ASC_OK;
}

/* A tool_result block into one canonical TOOL message. */
static asc_err_t tool_result_block(asc_api_anth_ctx_t *c, int b, const char *path,
                                   size_t *text_bytes)
{
    static const char *const f[] = {"type",          "tool_use_id",  "content", "is_error",
                                    "cache_control", "toolset_name", NULL};
    int id = -1, content = -1;
    asc_str_t cc = ASC_STR_NULL;
    asc_msg_t *msg = NULL;
    asc_err_t e = asc_api_anth_push_msg(c, &msg);
    if (e != ASC_OK)
        return e;
    msg->role = ASC_ROLE_TOOL;
    int k = b + 1;
    for (int m = 0; m < c->j->tok[b].size; m++, k = asc_json_skip(c->j, k + 1)) {
        int v = k + 1;
        switch (asc_api_anth_field(c, k, f)) {
        case 0: break;
        case 1: id = v; break;
        case 2: content = v; break;
        case 3:
            if (ty(c, v) != ASC_JSON_TRUE && ty(c, v) != ASC_JSON_FALSE && !is_null(c, v))
                return asc_api_anth_bad(c, "%s.is_error: Input should be a valid boolean", path);
            msg->is_error = ty(c, v) == ASC_JSON_TRUE;
            break;
        case 4:
            e = asc_api_anth_cache_control(c, v, path, &cc);
            if (e != ASC_OK)
                return e;
            break;
        case 5:
            if (!is_null(c, v))
                return asc_api_anth_bad(
                    c, "%s.toolset_name: toolsets are not supported by this gateway", path);
            break;
        default: return asc_api_anth_extra(c, path, k);
        }
    }
    e = asc_api_anth_req_str(c, id, path, "tool_use_id", &msg->tool_call_id);
    if (e != ASC_OK)
        return e;
    if (content >= 0 && ty(c, content) == ASC_JSON_STRING) {
        if (c->j->tok[content].end > c->j->tok[content].start) {
            msg->parts = asc_api_anth_alloc(c, 1, sizeof *msg->parts);
            if (msg->parts == NULL)
                return asc_api_anth_too_big(c);
            msg->parts[0].type = ASC_PART_TEXT;
            e = asc_api_anth_str(c, content, &msg->parts[0].text);
            if (e != ASC_OK)
                return e;
            msg->nparts = 1;
            *text_bytes += msg->parts[0].text.n;
        }
    } else if (content >= 0 && ty(c, content) == ASC_JSON_ARRAY) {
        int n = c->j->tok[content].size;
        msg->parts = asc_api_anth_alloc(c, (size_t)n, sizeof *msg->parts);
        if (msg->parts == NULL)
            return asc_api_anth_too_big(c);
        int el = content + 1;
        for (int i = 0; i < n; i++, el = next_elem(c, el)) {
            char bp[ASC_API_ANTH_PATH_LEN];
            int t;
            asc_api_anth_path(bp, sizeof bp, "%s.content.%d", path, i);
            e = block_type(c, el, bp, &t);
            if (e != ASC_OK)
                return e;
            asc_part_t *p = &msg->parts[msg->nparts];
            if (asc_json_str_eq(c->j, t, "text")) {
                e = text_block(c, el, bp, p);
                *text_bytes += p->text.n;
            } else if (asc_json_str_eq(c->j, t, "image")) {
                e = image_block(c, el, bp, p);
            } else {
                return unsupported_block(c, bp, t);
            }
            if (e != ASC_OK)
                return e;
            msg->nparts++;
        }
    } else if (content >= 0 && !is_null(c, content)) {
        return asc_api_anth_bad(
            c, "%s.content: Input should be a string or a list of content blocks", path);
    }
    /* The block's cache breakpoint moves to its last part: the cached prefix
     * ends at the same place. */
    if (asc_str_set(cc) && msg->nparts > 0 &&
        !asc_str_set(msg->parts[msg->nparts - 1].cache_control))
        msg->parts[msg->nparts - 1].cache_control = cc;
    return ASC_OK;
}

/* ---- messages ---------------------------------------------------------- */

/* Text-only content (system prompt, system messages) into msg. */
asc_err_t asc_api_anth_text_content(asc_api_anth_ctx_t *c, int content, const char *path,
                                    asc_msg_t *msg)
{
    if (ty(c, content) == ASC_JSON_STRING) {
        msg->parts = asc_api_anth_alloc(c, 1, sizeof *msg->parts);
        if (msg->parts == NULL)
            return asc_api_anth_too_big(c);
        msg->parts[0].type = ASC_PART_TEXT;
        msg->nparts = 1;
        asc_err_t e = asc_api_anth_str(c, content, &msg->parts[0].text);
        c->out->input_bytes += msg->parts[0].text.n;
        return e;
    }
    if (ty(c, content) != ASC_JSON_ARRAY)
        return asc_api_anth_bad(c, "%s: Input should be a string or a list of text blocks", path);
    int n = c->j->tok[content].size;
    msg->parts = asc_api_anth_alloc(c, (size_t)n, sizeof *msg->parts);
    if (msg->parts == NULL)
        return asc_api_anth_too_big(c);
    int el = content + 1;
    for (int i = 0; i < n; i++, el = next_elem(c, el)) {
        char bp[ASC_API_ANTH_PATH_LEN];
        int t;
        asc_api_anth_path(bp, sizeof bp, "%s.%d", path, i);
        asc_err_t e = block_type(c, el, bp, &t);
        if (e != ASC_OK)
            return e;
        if (!asc_json_str_eq(c->j, t, "text"))
            return asc_api_anth_bad(c, "%s.type: only text blocks are allowed here", bp);
        e = text_block(c, el, bp, &msg->parts[i]);
        if (e != ASC_OK)
            return e;
        c->out->input_bytes += msg->parts[i].text.n;
        msg->nparts++;
    }
    return ASC_OK;
}

static asc_err_t user_content(asc_api_anth_ctx_t *c, int content, const char *path)
{
    int n = c->j->tok[content].size;
    asc_part_t *parts = asc_api_anth_alloc(c, (size_t)n, sizeof *parts);
    size_t nparts = 0, ntool = 0;
    if (parts == NULL)
        return asc_api_anth_too_big(c);
    int el = content + 1;
    for (int i = 0; i < n; i++, el = next_elem(c, el)) {
        char bp[ASC_API_ANTH_PATH_LEN];
        int t;
        asc_api_anth_path(bp, sizeof bp, "%s.%d", path, i);
        asc_err_t e = block_type(c, el, bp, &t);
        if (e != ASC_OK)
            return e;
        if (asc_json_str_eq(c->j, t, "text")) {
            e = text_block(c, el, bp, &parts[nparts]);
            c->out->input_bytes += parts[nparts++].text.n;
        } else if (asc_json_str_eq(c->j, t, "image")) {
            e = image_block(c, el, bp, &parts[nparts++]);
        } else if (asc_json_str_eq(c->j, t, "tool_result")) {
            e = tool_result_block(c, el, bp, &c->out->input_bytes);
            ntool++;
        } else if (asc_json_str_eq(c->j, t, "tool_use")) {
            return asc_api_anth_bad(c, "%s: tool_use blocks are only allowed in assistant messages",
                                    bp);
        } else {
            return unsupported_block(c, bp, t);
        }
        if (e != ASC_OK)
            return e;
    }
    /* tool results first (as canonical TOOL messages, pushed above), then
     * whatever else the user said */
    if (nparts > 0 || ntool == 0) {
        asc_msg_t *msg = NULL;
        asc_err_t e = asc_api_anth_push_msg(c, &msg);
        if (e != ASC_OK)
            return e;
        msg->role = ASC_ROLE_USER;
        msg->parts = parts;
        msg->nparts = nparts;
    }
    return ASC_OK;
}

static asc_err_t assistant_content(asc_api_anth_ctx_t *c, int content, const char *path,
                                   asc_msg_t *msg)
{
    int n = c->j->tok[content].size;
    msg->parts = asc_api_anth_alloc(c, (size_t)n, sizeof *msg->parts);
    msg->tool_calls = asc_api_anth_alloc(c, (size_t)n, sizeof *msg->tool_calls);
    if (msg->parts == NULL || msg->tool_calls == NULL)
        return asc_api_anth_too_big(c);
    int el = content + 1;
    for (int i = 0; i < n; i++, el = next_elem(c, el)) {
        char bp[ASC_API_ANTH_PATH_LEN];
        int t;
        asc_api_anth_path(bp, sizeof bp, "%s.%d", path, i);
        asc_err_t e = block_type(c, el, bp, &t);
        if (e != ASC_OK)
            return e;
        if (asc_json_str_eq(c->j, t, "text")) {
            e = text_block(c, el, bp, &msg->parts[msg->nparts]);
            c->out->input_bytes += msg->parts[msg->nparts++].text.n;
        } else if (asc_json_str_eq(c->j, t, "tool_use")) {
            asc_tool_call_t *tc = &msg->tool_calls[msg->ntool_calls++];
            e = tool_use_block(c, el, bp, tc);
            c->out->input_bytes += tc->arguments.n + tc->name.n;
        } else if (asc_json_str_eq(c->j, t, "tool_result")) {
            return asc_api_anth_bad(c, "%s: tool_result blocks are only allowed in user messages",
                                    bp);
        } else if (asc_json_str_eq(c->j, t, "image")) {
            return asc_api_anth_bad(c, "%s: image blocks are only allowed in user messages", bp);
        } else {
            return unsupported_block(c, bp, t);
        }
        if (e != ASC_OK)
            return e;
    }
    return ASC_OK;
}

asc_err_t asc_api_anth_message(asc_api_anth_ctx_t *c, int mi, int idx)
{
    char path[ASC_API_ANTH_PATH_LEN], cp[ASC_API_ANTH_PATH_LEN];
    asc_api_anth_path(path, sizeof path, "messages.%d", idx);
    asc_api_anth_path(cp, sizeof cp, "messages.%d.content", idx);
    if (ty(c, mi) != ASC_JSON_OBJECT)
        return asc_api_anth_bad(c, "%s: Input should be an object", path);
    int role = -1, content = -1;
    int k = mi + 1;
    for (int m = 0; m < c->j->tok[mi].size; m++, k = asc_json_skip(c->j, k + 1)) {
        if (asc_json_str_eq(c->j, k, "role"))
            role = k + 1;
        else if (asc_json_str_eq(c->j, k, "content"))
            content = k + 1;
        else
            return asc_api_anth_extra(c, path, k);
    }
    if (role < 0)
        return asc_api_anth_bad(c, "%s.role: Field required", path);
    if (content < 0)
        return asc_api_anth_bad(c, "%s.content: Field required", path);
    int user = asc_json_str_eq(c->j, role, "user");
    int assistant = asc_json_str_eq(c->j, role, "assistant");
    int system = asc_json_str_eq(c->j, role, "system");
    if (!user && !assistant && !system)
        return asc_api_anth_bad(c, "%s.role: Input should be 'user', 'assistant' or 'system'",
                                path);
    if (ty(c, content) != ASC_JSON_STRING && ty(c, content) != ASC_JSON_ARRAY)
        return asc_api_anth_bad(c, "%s: Input should be a string or a list of content blocks", cp);
    if (user && ty(c, content) == ASC_JSON_ARRAY)
        return user_content(c, content, cp);
    asc_msg_t *msg = NULL;
    asc_err_t e = asc_api_anth_push_msg(c, &msg);
    if (e != ASC_OK)
        return e;
    msg->role = user ? ASC_ROLE_USER : assistant ? ASC_ROLE_ASSISTANT : ASC_ROLE_SYSTEM;
    if (assistant && ty(c, content) == ASC_JSON_ARRAY)
        return assistant_content(c, content, cp, msg);
    return asc_api_anth_text_content(c, content, cp, msg);
}

/* Canonical messages a request can produce: the system prompt, one per
 * message and one more per content block (a tool_result becomes its own). */
size_t asc_api_anth_msgs_bound(const asc_api_anth_ctx_t *c, int msgs)
{
    size_t n = 1;
    int el = msgs + 1;
    for (int i = 0; i < c->j->tok[msgs].size; i++, el = next_elem(c, el)) {
        n++;
        int ct = ty(c, el) == ASC_JSON_OBJECT ? asc_json_obj_get(c->j, el, "content") : -1;
        if (ct >= 0 && ty(c, ct) == ASC_JSON_ARRAY)
            n += (size_t)c->j->tok[ct].size;
    }
    return n;
}

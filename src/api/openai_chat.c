/*
 * Inbound OpenAI Chat Completions dialect in canonical form: the path taken
 * when an OpenAI-SDK client is served by a provider of another kind
 * (Anthropic, Mistral). An OpenAI upstream uses the splice pass-through of
 * src/api/openai.c instead, so this decoder may refuse what only OpenAI
 * itself could honour (n > 1, logprobs, penalties, audio ...).
 *
 * Validation is layered: asc_api_openai_decode() parses the body strictly
 * and applies exactly the pass-through checks (model, messages, types of
 * stream / max_tokens / temperature ..., client-chosen upstream fields);
 * this file then walks the same token tree into asc_chat_req_t, refusing
 * every field it cannot map with a message naming it.
 *
 * Decoded strings point into the body when they hold no escape, else into
 * the pool (unescaped). Raw JSON fields are byte ranges of the body.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "api/dialect.h"
#include "api/openai.h"
#include "json/json.h"

#define MAX_TOOLS 128     /* OpenAI's own limit on `tools` */
#define MAX_STOP 4        /* OpenAI's own limit on `stop` */
#define MAX_META_PAIRS 16 /* metadata: 16 pairs, keys <= 64, values <= 512 */
#define MAX_TOOL_MAP 128  /* distinct tool-call indexes one stream can map */
#define MODEL_MAX 256     /* asc_api_openai_decode() refuses longer names */
#define ID_MAX 256

/* ------------------------------------------------------------------------
 * Decoding
 * ---------------------------------------------------------------------- */

/* Return the error of a failed step (its message is already in err). */
#define TRY(expr)                                                                                  \
    do {                                                                                           \
        asc_err_t try_e_ = (expr);                                                                 \
        if (try_e_ != ASC_OK)                                                                      \
            return try_e_;                                                                         \
    } while (0)

typedef struct {
    asc_pool_t *pool;
    const asc_json_t *j;
    char *err;
    size_t errlen;
    char notes[160]; /* dropped hints, reported in err on success */
} dec_t;

static asc_err_t fail(dec_t *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static asc_err_t fail(dec_t *d, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(d->err, d->errlen, fmt, ap);
    va_end(ap);
    return ASC_EINVAL;
}

static asc_err_t too_big(dec_t *d)
{
    snprintf(d->err, d->errlen, "request too large or too complex to translate");
    return ASC_ETOOBIG;
}

static void note(dec_t *d, const char *field)
{
    size_t n = strlen(d->notes);
    snprintf(d->notes + n, sizeof d->notes - n, "%s%s", n ? ", " : "", field);
}

/* The raw key text of token k as printable ASCII (at most 64 characters),
 * for error messages: client bytes never reach a message unfiltered. */
static const char *key_name(const asc_json_t *j, int k, char *buf, size_t n)
{
    const asc_json_tok_t *t = &j->tok[k];
    size_t len = (size_t)(t->end - t->start), o = 0;
    for (size_t i = 0; i < len && o + 4 < n && i < 64; i++) {
        unsigned char c = (unsigned char)j->text[t->start + (int)i];
        buf[o++] = c >= 0x20 && c < 0x7f ? (char)c : '?';
    }
    if (len > 64 && o + 4 < n) {
        memcpy(buf + o, "...", 3);
        o += 3;
    }
    buf[o] = '\0';
    return buf;
}

static int is_null(const asc_json_t *j, int t)
{
    return t < 0 || j->tok[t].type == ASC_JSON_NULL;
}

static int type_is(const asc_json_t *j, int t, asc_json_type_t ty)
{
    return t >= 0 && j->tok[t].type == ty;
}

static int is_bool(const asc_json_t *j, int t)
{
    return type_is(j, t, ASC_JSON_TRUE) || type_is(j, t, ASC_JSON_FALSE);
}

/* String token t: a view into the body when it has no escape, else an
 * unescaped pool copy. */
static asc_err_t get_str(dec_t *d, int t, asc_str_t *out)
{
    const asc_json_tok_t *k = &d->j->tok[t];
    const char *p = d->j->text + k->start;
    size_t n = (size_t)(k->end - k->start);
    if (memchr(p, '\\', n) == NULL) {
        *out = (asc_str_t){p, n};
        return ASC_OK;
    }
    char *s = NULL;
    size_t m = 0;
    if (asc_json_str_dup(d->j, t, d->pool, &s, &m) != ASC_OK)
        return too_big(d);
    *out = (asc_str_t){s, m};
    return ASC_OK;
}

/* The whole JSON value of token t, as body bytes. */
static asc_str_t raw(const asc_json_t *j, int t)
{
    size_t s = 0, e = 0;
    asc_json_value_range(j, t, &s, &e);
    return (asc_str_t){j->text + s, e - s};
}

static void *alloc_n(dec_t *d, size_t count, size_t size)
{
    if (count == 0)
        return NULL;
    if (count > (size_t)-1 / size)
        return NULL;
    return asc_pool_alloc_n(d->pool, count * size);
}

/* Index in names[] of the key token k, or -1. */
static int lookup(const asc_json_t *j, int k, const char *const *names, int count)
{
    for (int i = 0; i < count; i++)
        if (asc_json_str_eq(j, k, names[i]))
            return i;
    return -1;
}

/* Collect the members of object obj into f[] by name (null values count as
 * absent). An unknown key is ASC_EINVAL naming it under `path`. */
static asc_err_t members(dec_t *d, int obj, const char *const *names, int count, int *f,
                         const char *path)
{
    const asc_json_t *j = d->j;
    for (int i = 0; i < count; i++)
        f[i] = -1;
    int k = obj + 1;
    for (int m = 0; m < j->tok[obj].size; m++) {
        int idx = lookup(j, k, names, count);
        if (idx < 0) {
            char kb[80];
            return fail(d, "%s: unrecognized field \"%s\"", path, key_name(j, k, kb, sizeof kb));
        }
        if (!is_null(j, k + 1))
            f[idx] = k + 1;
        k = asc_json_skip(j, k + 1);
    }
    return ASC_OK;
}

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

/* --- content parts --- */

enum {
    PRT_TYPE,
    PRT_TEXT,
    PRT_IMAGE_URL,
    PRT_REFUSAL,
    PRT_INPUT_AUDIO,
    PRT_FILE,
    PRT_CACHE,
    PRT_N
};
static const char *const k_part_fields[PRT_N] = {
    "type", "text", "image_url", "refusal", "input_audio", "file", "prompt_cache_breakpoint",
};

/* Which part types a role may send (OpenAI's message param types). */
enum { ALLOW_TEXT = 1, ALLOW_IMAGE = 2, ALLOW_REFUSAL = 4, ALLOW_MEDIA = 8 };

static int has_prefix(asc_str_t s, const char *z)
{
    size_t n = strlen(z);
    return s.n >= n && memcmp(s.p, z, n) == 0;
}

static asc_err_t decode_image(dec_t *d, int t, asc_part_t *p, const char *path)
{
    static const char *const names[] = {"url", "detail"};
    int f[2];
    char sub[128];
    snprintf(sub, sizeof sub, "%s.image_url", path);
    if (!type_is(d->j, t, ASC_JSON_OBJECT))
        return fail(d, "%s: must be an object", sub);
    TRY(members(d, t, names, 2, f, sub));
    if (!type_is(d->j, f[0], ASC_JSON_STRING))
        return fail(d, "%s.url: %s", sub, f[0] < 0 ? "required" : "must be a string");
    TRY(get_str(d, f[0], &p->url));
    if (!has_prefix(p->url, "https://") && !has_prefix(p->url, "http://") &&
        !has_prefix(p->url, "data:"))
        return fail(d, "%s.url: must be an http(s) URL or a data: URL", sub);
    if (f[1] >= 0) {
        if (!type_is(d->j, f[1], ASC_JSON_STRING))
            return fail(d, "%s.detail: must be a string", sub);
        TRY(get_str(d, f[1], &p->detail));
        if (!asc_str_eq(p->detail, "auto") && !asc_str_eq(p->detail, "low") &&
            !asc_str_eq(p->detail, "high") && !asc_str_eq(p->detail, "original"))
            return fail(d, "%s.detail: must be one of auto, low, high, original", sub);
    }
    p->type = ASC_PART_IMAGE_URL;
    return ASC_OK;
}

static asc_err_t decode_part(dec_t *d, int t, unsigned allow, asc_part_t *p, const char *path)
{
    const asc_json_t *j = d->j;
    int f[PRT_N];
    if (!type_is(j, t, ASC_JSON_OBJECT))
        return fail(d, "%s: must be an object", path);
    TRY(members(d, t, k_part_fields, PRT_N, f, path));
    if (!type_is(j, f[PRT_TYPE], ASC_JSON_STRING))
        return fail(d, "%s.type: %s", path, f[PRT_TYPE] < 0 ? "required" : "must be a string");
    int want; /* the one payload field this type carries */
    if (asc_json_str_eq(j, f[PRT_TYPE], "text") && (allow & ALLOW_TEXT))
        want = PRT_TEXT;
    else if (asc_json_str_eq(j, f[PRT_TYPE], "image_url") && (allow & ALLOW_IMAGE))
        want = PRT_IMAGE_URL;
    else if (asc_json_str_eq(j, f[PRT_TYPE], "refusal") && (allow & ALLOW_REFUSAL))
        want = PRT_REFUSAL;
    else if ((asc_json_str_eq(j, f[PRT_TYPE], "input_audio") ||
              asc_json_str_eq(j, f[PRT_TYPE], "file")) &&
             (allow & ALLOW_MEDIA))
        return fail(d, "%s.type: content parts of type \"%s\" are not supported by this provider",
                    path, asc_json_str_eq(j, f[PRT_TYPE], "file") ? "file" : "input_audio");
    else {
        char kb[80];
        return fail(d, "%s.type: \"%s\" is not a valid content part type here", path,
                    key_name(j, f[PRT_TYPE], kb, sizeof kb));
    }
    for (int i = PRT_TEXT; i < PRT_N; i++) {
        if (f[i] >= 0 && i != want && !(i == PRT_CACHE && want != PRT_REFUSAL))
            return fail(d, "%s.%s: not allowed in a part of this type", path, k_part_fields[i]);
    }
    if (f[want] < 0)
        return fail(d, "%s.%s: required", path, k_part_fields[want]);
    memset(p, 0, sizeof *p);
    if (want == PRT_IMAGE_URL) {
        TRY(decode_image(d, f[want], p, path));
    } else {
        if (!type_is(j, f[want], ASC_JSON_STRING))
            return fail(d, "%s.%s: must be a string", path, k_part_fields[want]);
        p->type = ASC_PART_TEXT; /* a past refusal is text the assistant said */
        TRY(get_str(d, f[want], &p->text));
    }
    if (f[PRT_CACHE] >= 0) {
        /* OpenAI's explicit cache breakpoint is Anthropic's cache_control:
         * a caching hint either way, it never changes the answer. */
        if (!type_is(j, f[PRT_CACHE], ASC_JSON_OBJECT))
            return fail(d, "%s.prompt_cache_breakpoint: must be an object", path);
        p->cache_control = (asc_str_t){"{\"type\":\"ephemeral\"}", 20};
    }
    return ASC_OK;
}

/* content: a string (one text part; "" is no part) or an array of parts.
 * Parts are appended to m->parts (which has room for `room` entries). */
static asc_err_t decode_content(dec_t *d, int t, unsigned allow, asc_msg_t *m, size_t room,
                                const char *path)
{
    const asc_json_t *j = d->j;
    if (type_is(j, t, ASC_JSON_STRING)) {
        if (j->tok[t].end == j->tok[t].start)
            return ASC_OK;
        asc_part_t *p = &m->parts[m->nparts++];
        memset(p, 0, sizeof *p);
        p->type = ASC_PART_TEXT;
        return get_str(d, t, &p->text);
    }
    if (!type_is(j, t, ASC_JSON_ARRAY))
        return fail(d, "%s.content: must be a string or an array of content parts", path);
    int k = t + 1;
    for (int i = 0; i < j->tok[t].size && m->nparts < room; i++) {
        char sub[96];
        snprintf(sub, sizeof sub, "%s.content[%d]", path, i);
        TRY(decode_part(d, k, allow, &m->parts[m->nparts], sub));
        m->nparts++;
        k = asc_json_skip(j, k);
    }
    return ASC_OK;
}

/* --- tool calls in assistant messages --- */

static asc_err_t decode_arguments(dec_t *d, int t, asc_str_t *out, const char *path)
{
    TRY(get_str(d, t, out));
    if (out->n == 0) {
        *out = (asc_str_t){"{}", 2};
        return ASC_OK;
    }
    /* Providers other than OpenAI take the arguments as a JSON object, so
     * they are checked here with the same strict parser as the body. */
    asc_json_limits_t lim;
    asc_json_limits_default(&lim);
    lim.root_object = 1;
    asc_json_t args;
    char jerr[120];
    asc_err_t e = asc_json_parse(d->pool, out->p, out->n, &lim, &args, jerr, sizeof jerr);
    if (e == ASC_ETOOBIG)
        return too_big(d);
    if (e != ASC_OK)
        return fail(d, "%s.function.arguments: must be a JSON object (%s)", path, jerr);
    return ASC_OK;
}

static asc_err_t decode_tool_call(dec_t *d, int t, asc_tool_call_t *c, const char *path)
{
    /* `index` is what stream accumulators (the Mistral SDK's) leave on the
     * calls they hand back: ignored. */
    static const char *const names[] = {"id", "type", "function", "custom", "index"};
    static const char *const fnames[] = {"name", "arguments"};
    const asc_json_t *j = d->j;
    int f[5], g[2];
    if (!type_is(j, t, ASC_JSON_OBJECT))
        return fail(d, "%s: must be an object", path);
    TRY(members(d, t, names, 5, f, path));
    if (!type_is(j, f[1], ASC_JSON_STRING))
        return fail(d, "%s.type: %s", path, f[1] < 0 ? "required" : "must be a string");
    if (asc_json_str_eq(j, f[1], "custom"))
        return fail(d, "%s.type: custom tool calls are not supported by this provider", path);
    if (!asc_json_str_eq(j, f[1], "function"))
        return fail(d, "%s.type: must be \"function\"", path);
    if (f[3] >= 0)
        return fail(d, "%s.custom: not allowed in a function tool call", path);
    if (!type_is(j, f[0], ASC_JSON_STRING) || j->tok[f[0]].end == j->tok[f[0]].start)
        return fail(d, "%s.id: %s", path, f[0] < 0 ? "required" : "must be a non-empty string");
    if (!type_is(j, f[2], ASC_JSON_OBJECT))
        return fail(d, "%s.function: %s", path, f[2] < 0 ? "required" : "must be an object");
    char sub[96];
    snprintf(sub, sizeof sub, "%s.function", path);
    TRY(members(d, f[2], fnames, 2, g, sub));
    if (!type_is(j, g[0], ASC_JSON_STRING) || j->tok[g[0]].end == j->tok[g[0]].start)
        return fail(d, "%s.name: %s", sub, g[0] < 0 ? "required" : "must be a non-empty string");
    if (!type_is(j, g[1], ASC_JSON_STRING))
        return fail(d, "%s.arguments: %s", sub, g[1] < 0 ? "required" : "must be a string");
    TRY(get_str(d, f[0], &c->id));
    TRY(get_str(d, g[0], &c->name));
    return decode_arguments(d, g[1], &c->arguments, path);
}

/* --- messages --- */

enum {
    MF_ROLE,
    MF_CONTENT,
    MF_NAME,
    MF_TOOL_CALLS,
    MF_TOOL_CALL_ID,
    MF_REFUSAL,
    MF_AUDIO,
    MF_FCALL,
    MF_ANNOTATIONS,
    MF_PREFIX,
    MF_N
};
/* `annotations` (OpenAI) and `prefix` (Mistral) come back on assistant
 * messages that SDKs echo into the next turn. */
static const char *const k_msg_fields[MF_N] = {
    "role",    "content", "name",          "tool_calls",  "tool_call_id",
    "refusal", "audio",   "function_call", "annotations", "prefix",
};

static asc_err_t decode_message(dec_t *d, int t, int idx, asc_msg_t *m)
{
    const asc_json_t *j = d->j;
    char path[32];
    int f[MF_N];
    snprintf(path, sizeof path, "messages[%d]", idx);
    TRY(members(d, t, k_msg_fields, MF_N, f, path));
    int role = f[MF_ROLE]; /* a string: checked by asc_api_openai_decode() */
    unsigned fields = 1u << MF_ROLE | 1u << MF_CONTENT | 1u << MF_NAME, allow = ALLOW_TEXT;
    memset(m, 0, sizeof *m);
    if (asc_json_str_eq(j, role, "system") || asc_json_str_eq(j, role, "developer")) {
        m->role = ASC_ROLE_SYSTEM;
    } else if (asc_json_str_eq(j, role, "user")) {
        m->role = ASC_ROLE_USER;
        allow |= ALLOW_IMAGE | ALLOW_MEDIA;
    } else if (asc_json_str_eq(j, role, "assistant")) {
        m->role = ASC_ROLE_ASSISTANT;
        fields |= 1u << MF_TOOL_CALLS | 1u << MF_REFUSAL | 1u << MF_AUDIO | 1u << MF_FCALL |
                  1u << MF_ANNOTATIONS | 1u << MF_PREFIX;
        allow |= ALLOW_REFUSAL;
    } else if (asc_json_str_eq(j, role, "tool")) {
        m->role = ASC_ROLE_TOOL;
        fields |= 1u << MF_TOOL_CALL_ID;
    } else if (asc_json_str_eq(j, role, "function")) {
        return fail(d, "%s: role function is deprecated; use tool", path);
    } else {
        char kb[80];
        return fail(d, "%s.role: unknown role \"%s\"", path, key_name(j, role, kb, sizeof kb));
    }
    for (int i = 0; i < MF_N; i++)
        if (f[i] >= 0 && !(fields & 1u << i))
            return fail(d, "%s.%s: not allowed in a message of this role", path, k_msg_fields[i]);
    if (f[MF_AUDIO] >= 0)
        return fail(d, "%s.audio: audio is not supported by this provider", path);
    if (f[MF_FCALL] >= 0)
        return fail(d, "%s.function_call: deprecated; use tool_calls", path);
    /* Annotations (citations) of an earlier answer do not change the next
     * one; a prefix (Mistral's "continue this text") would. */
    if (f[MF_ANNOTATIONS] >= 0 && !type_is(j, f[MF_ANNOTATIONS], ASC_JSON_ARRAY))
        return fail(d, "%s.annotations: must be an array", path);
    if (f[MF_PREFIX] >= 0 && j->tok[f[MF_PREFIX]].type != ASC_JSON_FALSE)
        return fail(d, "%s.prefix: only false is supported by this provider", path);
    if (f[MF_CONTENT] < 0 && m->role != ASC_ROLE_ASSISTANT)
        return fail(d, "%s.content: required", path);
    if (f[MF_NAME] >= 0) {
        if (!type_is(j, f[MF_NAME], ASC_JSON_STRING))
            return fail(d, "%s.name: must be a string", path);
        TRY(get_str(d, f[MF_NAME], &m->name));
    }

    size_t room = f[MF_REFUSAL] >= 0 ? 1 : 0;
    if (type_is(j, f[MF_CONTENT], ASC_JSON_ARRAY))
        room += (size_t)j->tok[f[MF_CONTENT]].size;
    else if (f[MF_CONTENT] >= 0)
        room += 1;
    if (room > 0) {
        m->parts = alloc_n(d, room, sizeof *m->parts);
        if (m->parts == NULL)
            return too_big(d);
    }
    if (f[MF_CONTENT] >= 0)
        TRY(decode_content(d, f[MF_CONTENT], allow, m, room, path));
    if (f[MF_REFUSAL] >= 0) {
        if (!type_is(j, f[MF_REFUSAL], ASC_JSON_STRING))
            return fail(d, "%s.refusal: must be a string", path);
        asc_part_t *p = &m->parts[m->nparts];
        memset(p, 0, sizeof *p);
        p->type = ASC_PART_TEXT;
        TRY(get_str(d, f[MF_REFUSAL], &p->text));
        if (p->text.n > 0)
            m->nparts++;
    }

    if (f[MF_TOOL_CALLS] >= 0) {
        int tc = f[MF_TOOL_CALLS];
        if (!type_is(j, tc, ASC_JSON_ARRAY))
            return fail(d, "%s.tool_calls: must be an array", path);
        size_t n = (size_t)j->tok[tc].size;
        if (n > 0) {
            m->tool_calls = alloc_n(d, n, sizeof *m->tool_calls);
            if (m->tool_calls == NULL)
                return too_big(d);
        }
        int k = tc + 1;
        for (size_t i = 0; i < n; i++) {
            char sub[80];
            snprintf(sub, sizeof sub, "%s.tool_calls[%zu]", path, i);
            TRY(decode_tool_call(d, k, &m->tool_calls[i], sub));
            k = asc_json_skip(j, k);
        }
        m->ntool_calls = n;
    }
    if (m->role == ASC_ROLE_TOOL) {
        int id = f[MF_TOOL_CALL_ID];
        if (!type_is(j, id, ASC_JSON_STRING) || j->tok[id].end == j->tok[id].start)
            return fail(d, "%s.tool_call_id: %s", path,
                        id < 0 ? "required" : "must be a non-empty string");
        TRY(get_str(d, id, &m->tool_call_id));
    }
    return ASC_OK;
}

/* --- tools, tool_choice, response_format, stop, metadata --- */

static asc_err_t decode_tools(dec_t *d, int t, asc_chat_req_t *out)
{
    static const char *const names[] = {"type", "function", "custom"};
    static const char *const fnames[] = {"name", "description", "parameters", "strict"};
    const asc_json_t *j = d->j;
    if (!type_is(j, t, ASC_JSON_ARRAY))
        return fail(d, "tools: must be an array");
    size_t n = (size_t)j->tok[t].size;
    if (n > MAX_TOOLS)
        return fail(d, "tools: at most %d tools", MAX_TOOLS);
    if (n == 0)
        return ASC_OK;
    out->tools = alloc_n(d, n, sizeof *out->tools);
    if (out->tools == NULL)
        return too_big(d);
    int k = t + 1;
    for (size_t i = 0; i < n; i++, k = asc_json_skip(j, k)) {
        char path[32], sub[48];
        int f[3], g[4];
        asc_tool_t *tool = &out->tools[i];
        snprintf(path, sizeof path, "tools[%zu]", i);
        snprintf(sub, sizeof sub, "tools[%zu].function", i);
        if (!type_is(j, k, ASC_JSON_OBJECT))
            return fail(d, "%s: must be an object", path);
        TRY(members(d, k, names, 3, f, path));
        if (!type_is(j, f[0], ASC_JSON_STRING))
            return fail(d, "%s.type: %s", path, f[0] < 0 ? "required" : "must be a string");
        if (asc_json_str_eq(j, f[0], "custom"))
            return fail(d, "%s.type: custom tools are not supported by this provider", path);
        if (!asc_json_str_eq(j, f[0], "function"))
            return fail(d, "%s.type: must be \"function\"", path);
        if (f[2] >= 0)
            return fail(d, "%s.custom: not allowed in a function tool", path);
        if (!type_is(j, f[1], ASC_JSON_OBJECT))
            return fail(d, "%s: %s", sub, f[1] < 0 ? "required" : "must be an object");
        TRY(members(d, f[1], fnames, 4, g, sub));
        memset(tool, 0, sizeof *tool);
        tool->strict = -1;
        if (!type_is(j, g[0], ASC_JSON_STRING))
            return fail(d, "%s.name: %s", sub, g[0] < 0 ? "required" : "must be a string");
        TRY(get_str(d, g[0], &tool->name));
        if (!valid_name(tool->name))
            return fail(d, "%s.name: must be 1 to 64 characters of a-z, A-Z, 0-9, _ and -", sub);
        for (size_t p = 0; p < i; p++)
            if (out->tools[p].name.n == tool->name.n &&
                memcmp(out->tools[p].name.p, tool->name.p, tool->name.n) == 0)
                return fail(d, "%s.name: duplicate tool name \"%.*s\"", sub, (int)tool->name.n,
                            tool->name.p);
        if (g[1] >= 0) {
            if (!type_is(j, g[1], ASC_JSON_STRING))
                return fail(d, "%s.description: must be a string", sub);
            TRY(get_str(d, g[1], &tool->description));
        }
        if (g[2] >= 0) {
            if (!type_is(j, g[2], ASC_JSON_OBJECT))
                return fail(d, "%s.parameters: must be a JSON schema object", sub);
            tool->parameters = raw(j, g[2]);
        }
        if (g[3] >= 0) {
            if (!is_bool(j, g[3]))
                return fail(d, "%s.strict: must be a boolean", sub);
            tool->strict = asc_json_is_true(j, g[3]);
        }
        out->ntools = i + 1;
    }
    return ASC_OK;
}

static int has_tool(const asc_chat_req_t *r, asc_str_t name)
{
    for (size_t i = 0; i < r->ntools; i++)
        if (r->tools[i].name.n == name.n && memcmp(r->tools[i].name.p, name.p, name.n) == 0)
            return 1;
    return 0;
}

static asc_err_t decode_tool_choice(dec_t *d, int t, asc_chat_req_t *out)
{
    static const char *const names[] = {"type", "function", "custom", "allowed_tools"};
    static const char *const fnames[] = {"name"};
    const asc_json_t *j = d->j;
    if (type_is(j, t, ASC_JSON_STRING)) {
        if (asc_json_str_eq(j, t, "auto"))
            out->tool_choice = ASC_TOOL_CHOICE_AUTO;
        else if (asc_json_str_eq(j, t, "none"))
            out->tool_choice = ASC_TOOL_CHOICE_NONE;
        else if (asc_json_str_eq(j, t, "required"))
            out->tool_choice = ASC_TOOL_CHOICE_REQUIRED;
        else
            return fail(d, "tool_choice: must be \"none\", \"auto\", \"required\" or "
                           "{\"type\":\"function\",\"function\":{\"name\":...}}");
        if (out->tool_choice == ASC_TOOL_CHOICE_REQUIRED && out->ntools == 0)
            return fail(d, "tool_choice: \"required\" is only allowed when tools are specified");
        return ASC_OK;
    }
    if (!type_is(j, t, ASC_JSON_OBJECT))
        return fail(d, "tool_choice: must be a string or an object");
    int f[4], g[1];
    TRY(members(d, t, names, 4, f, "tool_choice"));
    if (!type_is(j, f[0], ASC_JSON_STRING))
        return fail(d, "tool_choice.type: %s", f[0] < 0 ? "required" : "must be a string");
    if (asc_json_str_eq(j, f[0], "allowed_tools") || asc_json_str_eq(j, f[0], "custom")) {
        char kb[80];
        return fail(d, "tool_choice.type: \"%s\" is not supported by this provider",
                    key_name(j, f[0], kb, sizeof kb));
    }
    if (!asc_json_str_eq(j, f[0], "function"))
        return fail(d, "tool_choice.type: must be \"function\"");
    if (f[2] >= 0 || f[3] >= 0)
        return fail(d, "tool_choice.%s: not allowed with type function",
                    f[2] >= 0 ? "custom" : "allowed_tools");
    if (!type_is(j, f[1], ASC_JSON_OBJECT))
        return fail(d, "tool_choice.function: %s", f[1] < 0 ? "required" : "must be an object");
    TRY(members(d, f[1], fnames, 1, g, "tool_choice.function"));
    if (!type_is(j, g[0], ASC_JSON_STRING))
        return fail(d, "tool_choice.function.name: %s", g[0] < 0 ? "required" : "must be a string");
    TRY(get_str(d, g[0], &out->tool_choice_name));
    if (!has_tool(out, out->tool_choice_name))
        return fail(d, "tool_choice.function.name: no tool named \"%.*s\" in tools",
                    (int)(out->tool_choice_name.n > 64 ? 64 : out->tool_choice_name.n),
                    valid_name(out->tool_choice_name) ? out->tool_choice_name.p : "?");
    out->tool_choice = ASC_TOOL_CHOICE_FUNCTION;
    return ASC_OK;
}

static asc_err_t decode_response_format(dec_t *d, int t, asc_chat_req_t *out)
{
    static const char *const names[] = {"type", "json_schema"};
    static const char *const snames[] = {"name", "description", "schema", "strict"};
    const asc_json_t *j = d->j;
    int f[2], g[4];
    if (!type_is(j, t, ASC_JSON_OBJECT))
        return fail(d, "response_format: must be an object");
    TRY(members(d, t, names, 2, f, "response_format"));
    if (!type_is(j, f[0], ASC_JSON_STRING))
        return fail(d, "response_format.type: %s", f[0] < 0 ? "required" : "must be a string");
    int schema = asc_json_str_eq(j, f[0], "json_schema");
    if (asc_json_str_eq(j, f[0], "text")) {
        out->format = ASC_FORMAT_TEXT;
    } else if (asc_json_str_eq(j, f[0], "json_object")) {
        out->format = ASC_FORMAT_JSON_OBJECT;
    } else if (!schema) {
        char kb[80];
        return fail(d, "response_format.type: \"%s\" is not supported by this provider",
                    key_name(j, f[0], kb, sizeof kb));
    }
    if (!schema) {
        if (f[1] >= 0)
            return fail(d, "response_format.json_schema: only allowed with type json_schema");
        return ASC_OK;
    }
    if (!type_is(j, f[1], ASC_JSON_OBJECT))
        return fail(d, "response_format.json_schema: %s",
                    f[1] < 0 ? "required" : "must be an object");
    TRY(members(d, f[1], snames, 4, g, "response_format.json_schema"));
    if (!type_is(j, g[0], ASC_JSON_STRING))
        return fail(d, "response_format.json_schema.name: %s",
                    g[0] < 0 ? "required" : "must be a string");
    TRY(get_str(d, g[0], &out->format_name));
    if (!valid_name(out->format_name))
        return fail(d, "response_format.json_schema.name: must be 1 to 64 characters of a-z, "
                       "A-Z, 0-9, _ and -");
    if (g[1] >= 0) {
        if (!type_is(j, g[1], ASC_JSON_STRING))
            return fail(d, "response_format.json_schema.description: must be a string");
        note(d, "response_format.json_schema.description");
    }
    if (g[2] >= 0) {
        if (!type_is(j, g[2], ASC_JSON_OBJECT))
            return fail(d, "response_format.json_schema.schema: must be an object");
        out->format_schema = raw(j, g[2]);
    }
    if (g[3] >= 0) {
        if (!is_bool(j, g[3]))
            return fail(d, "response_format.json_schema.strict: must be a boolean");
        out->format_strict = asc_json_is_true(j, g[3]);
    }
    out->format = ASC_FORMAT_JSON_SCHEMA;
    return ASC_OK;
}

static asc_err_t decode_stop(dec_t *d, int t, asc_chat_req_t *out)
{
    const asc_json_t *j = d->j;
    if (type_is(j, t, ASC_JSON_STRING)) {
        out->stop = alloc_n(d, 1, sizeof *out->stop);
        if (out->stop == NULL)
            return too_big(d);
        out->nstop = 1;
        return get_str(d, t, &out->stop[0]);
    }
    if (!type_is(j, t, ASC_JSON_ARRAY))
        return fail(d, "stop: must be a string or an array of strings");
    size_t n = (size_t)j->tok[t].size;
    if (n > MAX_STOP)
        return fail(d, "stop: at most %d sequences", MAX_STOP);
    if (n == 0)
        return ASC_OK;
    out->stop = alloc_n(d, n, sizeof *out->stop);
    if (out->stop == NULL)
        return too_big(d);
    for (size_t i = 0; i < n; i++) {
        int s = t + 1 + (int)i; /* strings have no children */
        if (!type_is(j, s, ASC_JSON_STRING))
            return fail(d, "stop[%zu]: must be a string", i);
        TRY(get_str(d, s, &out->stop[i]));
    }
    out->nstop = n;
    return ASC_OK;
}

static asc_err_t decode_metadata(dec_t *d, int t, asc_chat_req_t *out)
{
    const asc_json_t *j = d->j;
    if (!type_is(j, t, ASC_JSON_OBJECT))
        return fail(d, "metadata: must be an object of strings");
    if (j->tok[t].size > MAX_META_PAIRS)
        return fail(d, "metadata: at most %d pairs", MAX_META_PAIRS);
    int k = t + 1;
    for (int m = 0; m < j->tok[t].size; m++, k += 2) {
        char kb[80];
        if (j->tok[k].end - j->tok[k].start > 64)
            return fail(d, "metadata: keys are at most 64 characters");
        if (!type_is(j, k + 1, ASC_JSON_STRING))
            return fail(d, "metadata.%s: must be a string", key_name(j, k, kb, sizeof kb));
        if (j->tok[k + 1].end - j->tok[k + 1].start > 512)
            return fail(d, "metadata.%s: at most 512 characters", key_name(j, k, kb, sizeof kb));
    }
    out->metadata = raw(j, t);
    return ASC_OK;
}

/* --- the top level --- */

enum {
    TF_MODEL,
    TF_MESSAGES,
    TF_AUDIO,
    TF_FREQUENCY_PENALTY,
    TF_FUNCTION_CALL,
    TF_FUNCTIONS,
    TF_LOGIT_BIAS,
    TF_LOGPROBS,
    TF_MAX_COMPLETION_TOKENS,
    TF_MAX_TOKENS,
    TF_METADATA,
    TF_MODALITIES,
    TF_MODERATION,
    TF_N,
    TF_PARALLEL_TOOL_CALLS,
    TF_PREDICTION,
    TF_PRESENCE_PENALTY,
    TF_PROMPT_CACHE_KEY,
    TF_PROMPT_CACHE_OPTIONS,
    TF_PROMPT_CACHE_RETENTION,
    TF_REASONING_EFFORT,
    TF_RESPONSE_FORMAT,
    TF_SAFETY_IDENTIFIER,
    TF_SEED,
    TF_SERVICE_TIER,
    TF_STOP,
    TF_STORE,
    TF_STREAM,
    TF_STREAM_OPTIONS,
    TF_TEMPERATURE,
    TF_TOOL_CHOICE,
    TF_TOOLS,
    TF_TOP_LOGPROBS,
    TF_TOP_P,
    TF_USER,
    TF_VERBOSITY,
    TF_WEB_SEARCH_OPTIONS,
    TF_COUNT
};

/* Every top-level field of ChatCompletionCreateParams (openai-node). */
static const char *const k_fields[TF_COUNT] = {
    "model",
    "messages",
    "audio",
    "frequency_penalty",
    "function_call",
    "functions",
    "logit_bias",
    "logprobs",
    "max_completion_tokens",
    "max_tokens",
    "metadata",
    "modalities",
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

static asc_err_t unsupported(dec_t *d, int field, const char *why)
{
    return fail(d, "%s: %s", k_fields[field], why);
}

/* Fields refused because no other provider can honour them. Type errors
 * that asc_api_openai_decode() already checks are not repeated. */
static asc_err_t refuse_untranslatable(dec_t *d, const int *f)
{
    const asc_json_t *j = d->j;
    static const int always[] = {TF_AUDIO, TF_MODERATION, TF_PREDICTION, TF_WEB_SEARCH_OPTIONS};
    for (size_t i = 0; i < sizeof always / sizeof always[0]; i++)
        if (f[always[i]] >= 0)
            return unsupported(d, always[i], "not supported by this provider");
    if (f[TF_FUNCTIONS] >= 0)
        return unsupported(d, TF_FUNCTIONS, "deprecated; use tools");
    if (f[TF_FUNCTION_CALL] >= 0)
        return unsupported(d, TF_FUNCTION_CALL, "deprecated; use tool_choice");
    static const int penalties[] = {TF_FREQUENCY_PENALTY, TF_PRESENCE_PENALTY};
    for (int i = 0; i < 2; i++) {
        double v = 0;
        int t = f[penalties[i]];
        if (t >= 0 && asc_json_get_double(j, t, &v) == ASC_OK && v != 0)
            return unsupported(d, penalties[i], "not supported by this provider (only 0)");
    }
    if (f[TF_LOGIT_BIAS] >= 0) {
        if (!type_is(j, f[TF_LOGIT_BIAS], ASC_JSON_OBJECT))
            return unsupported(d, TF_LOGIT_BIAS, "must be an object");
        if (j->tok[f[TF_LOGIT_BIAS]].size > 0)
            return unsupported(d, TF_LOGIT_BIAS, "not supported by this provider");
    }
    if (f[TF_LOGPROBS] >= 0) {
        if (!is_bool(j, f[TF_LOGPROBS]))
            return unsupported(d, TF_LOGPROBS, "must be a boolean");
        if (asc_json_is_true(j, f[TF_LOGPROBS]))
            return unsupported(d, TF_LOGPROBS, "not supported by this provider");
    }
    int64_t v = 0;
    if (f[TF_TOP_LOGPROBS] >= 0 && asc_json_get_int(j, f[TF_TOP_LOGPROBS], &v) == ASC_OK && v != 0)
        return unsupported(d, TF_TOP_LOGPROBS, "not supported by this provider");
    if (f[TF_N] >= 0 && asc_json_get_int(j, f[TF_N], &v) == ASC_OK && v != 1)
        return unsupported(d, TF_N, "only 1 is supported by this provider");
    if (f[TF_MODALITIES] >= 0) {
        int t = f[TF_MODALITIES];
        if (!type_is(j, t, ASC_JSON_ARRAY))
            return unsupported(d, TF_MODALITIES, "must be an array");
        for (int i = 0; i < j->tok[t].size; i++)
            if (!asc_json_str_eq(j, t + 1 + i, "text"))
                return unsupported(d, TF_MODALITIES,
                                   "only [\"text\"] is supported by this provider");
    }
    if (f[TF_VERBOSITY] >= 0) {
        if (!type_is(j, f[TF_VERBOSITY], ASC_JSON_STRING))
            return unsupported(d, TF_VERBOSITY, "must be a string");
        if (!asc_json_str_eq(j, f[TF_VERBOSITY], "medium"))
            return unsupported(d, TF_VERBOSITY, "not supported by this provider (only \"medium\")");
    }
    return ASC_OK;
}

/* Hints that never change the answer: type-checked, then dropped (noted). */
static asc_err_t drop_hints(dec_t *d, const int *f)
{
    const asc_json_t *j = d->j;
    static const int strings[] = {TF_PROMPT_CACHE_KEY, TF_PROMPT_CACHE_RETENTION, TF_SERVICE_TIER};
    for (int i = 0; i < 3; i++) {
        if (f[strings[i]] < 0)
            continue;
        if (!type_is(j, f[strings[i]], ASC_JSON_STRING))
            return unsupported(d, strings[i], "must be a string");
        note(d, k_fields[strings[i]]);
    }
    if (f[TF_PROMPT_CACHE_OPTIONS] >= 0) {
        if (!type_is(j, f[TF_PROMPT_CACHE_OPTIONS], ASC_JSON_OBJECT))
            return unsupported(d, TF_PROMPT_CACHE_OPTIONS, "must be an object");
        note(d, k_fields[TF_PROMPT_CACHE_OPTIONS]);
    }
    if (f[TF_STORE] >= 0) {
        if (!is_bool(j, f[TF_STORE]))
            return unsupported(d, TF_STORE, "must be a boolean");
        if (asc_json_is_true(j, f[TF_STORE]))
            note(d, k_fields[TF_STORE]);
    }
    int so = f[TF_STREAM_OPTIONS]; /* an object: checked by asc_api_openai_decode() */
    if (so >= 0) {
        static const char *const names[] = {"include_usage", "include_obfuscation"};
        int g[2];
        TRY(members(d, so, names, 2, g, "stream_options"));
        if (g[1] >= 0 && !is_bool(j, g[1]))
            return fail(d, "stream_options.include_obfuscation: must be a boolean");
    }
    return ASC_OK;
}

static asc_err_t decode_sampling(dec_t *d, const int *f, asc_chat_req_t *out)
{
    const asc_json_t *j = d->j;
    /* numbers and integers were type-checked by asc_api_openai_decode() */
    if (f[TF_TEMPERATURE] >= 0) {
        asc_json_get_double(j, f[TF_TEMPERATURE], &out->temperature);
        if (out->temperature < 0 || out->temperature > 2)
            return fail(d, "temperature: must be between 0 and 2");
        out->has_temperature = 1;
    }
    if (f[TF_TOP_P] >= 0) {
        asc_json_get_double(j, f[TF_TOP_P], &out->top_p);
        if (out->top_p < 0 || out->top_p > 1)
            return fail(d, "top_p: must be between 0 and 1");
        out->has_top_p = 1;
    }
    if (f[TF_MAX_TOKENS] >= 0 && f[TF_MAX_COMPLETION_TOKENS] >= 0)
        return fail(d, "max_tokens: set either max_tokens or max_completion_tokens, not both");
    int mt = f[TF_MAX_TOKENS] >= 0 ? f[TF_MAX_TOKENS] : f[TF_MAX_COMPLETION_TOKENS];
    if (mt >= 0) {
        asc_json_get_int(j, mt, &out->max_tokens);
        out->has_max_tokens = 1;
    }
    if (f[TF_SEED] >= 0) {
        asc_json_get_int(j, f[TF_SEED], &out->seed);
        out->has_seed = 1;
    }
    if (f[TF_PARALLEL_TOOL_CALLS] >= 0) {
        if (!is_bool(j, f[TF_PARALLEL_TOOL_CALLS]))
            return fail(d, "parallel_tool_calls: must be a boolean");
        out->parallel_tool_calls = asc_json_is_true(j, f[TF_PARALLEL_TOOL_CALLS]);
    }
    if (f[TF_REASONING_EFFORT] >= 0) {
        int t = f[TF_REASONING_EFFORT];
        if (!type_is(j, t, ASC_JSON_STRING) || j->tok[t].end == j->tok[t].start)
            return fail(d, "reasoning_effort: must be a non-empty string");
        out->reasoning = raw(j, t); /* the JSON string, quotes included */
    }
    static const int ids[] = {TF_USER, TF_SAFETY_IDENTIFIER};
    for (int i = 0; i < 2; i++) {
        int t = f[ids[i]];
        if (t < 0)
            continue;
        if (!type_is(j, t, ASC_JSON_STRING))
            return unsupported(d, ids[i], "must be a string");
        /* safety_identifier is the newer name of user; user wins if both */
        if (!asc_str_set(out->user)) {
            TRY(get_str(d, t, &out->user));
        }
    }
    return ASC_OK;
}

asc_err_t asc_api_openai_chat_canon(asc_pool_t *pool, const asc_api_request_t *apireq,
                                    asc_chat_req_t *out, char *err, size_t errlen)
{
    const asc_api_request_t api = *apireq;
    dec_t d = {.pool = pool, .err = err, .errlen = errlen};
    int f[TF_COUNT];
    memset(out, 0, sizeof *out);
    out->parallel_tool_calls = -1;
    out->format_strict = -1;
    if (errlen > 0)
        err[0] = '\0';
    d.j = &api.doc;
    const asc_json_t *j = d.j;

    for (int i = 0; i < TF_COUNT; i++)
        f[i] = -1;
    int k = 1;
    for (int m = 0; m < j->tok[0].size; m++) {
        int idx = lookup(j, k, k_fields, TF_COUNT);
        if (idx < 0) {
            char kb[80];
            return fail(&d, "Unrecognized request argument supplied: %s",
                        key_name(j, k, kb, sizeof kb));
        }
        f[idx] = is_null(j, k + 1) ? -1 : k + 1;
        k = asc_json_skip(j, k + 1);
    }

    TRY(refuse_untranslatable(&d, f));
    TRY(drop_hints(&d, f));
    TRY(decode_sampling(&d, f, out));

    out->model = (asc_str_t){api.model, api.model_len};
    out->stream = api.stream;
    out->include_usage = api.stream && api.include_usage;
    out->input_bytes = api.input_bytes;

    int msgs = f[TF_MESSAGES]; /* a non-empty array of objects: checked */
    out->nmsgs = (size_t)j->tok[msgs].size;
    out->msgs = alloc_n(&d, out->nmsgs, sizeof *out->msgs);
    if (out->msgs == NULL)
        return too_big(&d);
    k = msgs + 1;
    for (size_t i = 0; i < out->nmsgs; i++, k = asc_json_skip(j, k))
        TRY(decode_message(&d, k, (int)i, &out->msgs[i]));

    if (f[TF_TOOLS] >= 0)
        TRY(decode_tools(&d, f[TF_TOOLS], out));
    if (f[TF_TOOL_CHOICE] >= 0)
        TRY(decode_tool_choice(&d, f[TF_TOOL_CHOICE], out));
    /* "auto" and "none" without tools say nothing: no tool_choice at all
     * (some providers refuse a tool_choice without tools) */
    if (out->ntools == 0)
        out->tool_choice = ASC_TOOL_CHOICE_UNSET;
    if (f[TF_RESPONSE_FORMAT] >= 0)
        TRY(decode_response_format(&d, f[TF_RESPONSE_FORMAT], out));
    if (f[TF_STOP] >= 0)
        TRY(decode_stop(&d, f[TF_STOP], out));
    if (f[TF_METADATA] >= 0)
        TRY(decode_metadata(&d, f[TF_METADATA], out));
    if (d.notes[0] != '\0' && errlen > 0)
        snprintf(err, errlen, "dropped: %s", d.notes);
    return ASC_OK;
}

/* ------------------------------------------------------------------------
 * Encoding
 * ---------------------------------------------------------------------- */

static const char *finish_name(asc_finish_t f, int has_tools)
{
    switch (f) {
    case ASC_FINISH_LENGTH: return "length";
    case ASC_FINISH_TOOL_CALLS: return "tool_calls";
    case ASC_FINISH_CONTENT_FILTER: return "content_filter";
    case ASC_FINISH_STOP:
    case ASC_FINISH_STOP_SEQUENCE:
    case ASC_FINISH_PAUSE: return "stop";
    case ASC_FINISH_NONE: break;
    }
    return has_tools ? "tool_calls" : "stop";
}

static void put_usage(asc_buf_t *b, const asc_canon_usage_t *u)
{
    asc_buf_printf(b,
                   "{\"prompt_tokens\":%lld,\"completion_tokens\":%lld,\"total_tokens\":%lld,"
                   "\"prompt_tokens_details\":{\"cached_tokens\":%lld}}",
                   (long long)u->input_tokens, (long long)u->output_tokens,
                   (long long)(u->input_tokens + u->output_tokens), (long long)u->cached_tokens);
}

static void put_cstr(asc_buf_t *b, const char *s)
{
    if (s == NULL) {
        asc_buf_puts(b, "null");
        return;
    }
    asc_buf_putc(b, '"');
    asc_buf_json_str(b, s, strlen(s));
    asc_buf_putc(b, '"');
}

static int64_t now_or(int64_t created)
{
    return created > 0 ? created : (int64_t)time(NULL);
}

static void chat_encode_response(const asc_chat_resp_t *r, const char *model, asc_buf_t *out)
{
    asc_buf_puts(out, "{\"id\":");
    if (asc_str_set(r->id))
        asc_buf_json_string(out, r->id);
    else
        asc_buf_puts(out, "\"chatcmpl-asc\"");
    asc_buf_printf(out, ",\"object\":\"chat.completion\",\"created\":%lld,\"model\":",
                   (long long)now_or(r->created));
    if (model != NULL)
        put_cstr(out, model);
    else
        asc_buf_json_string(out, r->model);
    asc_buf_puts(out,
                 ",\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":");
    if (r->text.n > 0 || (r->ntool_calls == 0 && !asc_str_set(r->refusal)))
        asc_buf_json_string(out, r->text.p != NULL ? r->text : (asc_str_t){"", 0});
    else
        asc_buf_puts(out, "null");
    asc_buf_puts(out, ",\"refusal\":");
    if (asc_str_set(r->refusal))
        asc_buf_json_string(out, r->refusal);
    else
        asc_buf_puts(out, "null");
    if (r->ntool_calls > 0) {
        asc_buf_puts(out, ",\"tool_calls\":[");
        for (size_t i = 0; i < r->ntool_calls; i++) {
            const asc_tool_call_t *c = &r->tool_calls[i];
            asc_buf_puts(out, i ? ",{\"id\":" : "{\"id\":");
            asc_buf_json_string(out, c->id);
            asc_buf_puts(out, ",\"type\":\"function\",\"function\":{\"name\":");
            asc_buf_json_string(out, c->name);
            asc_buf_puts(out, ",\"arguments\":");
            asc_buf_json_string(out,
                                asc_str_set(c->arguments) ? c->arguments : (asc_str_t){"{}", 2});
            asc_buf_puts(out, "}}");
        }
        asc_buf_putc(out, ']');
    }
    asc_buf_printf(out, "},\"logprobs\":null,\"finish_reason\":\"%s\"}],\"usage\":",
                   finish_name(r->finish, r->ntool_calls > 0));
    put_usage(out, &r->usage);
    asc_buf_putc(out, '}');
}

/* --- streaming --- */

typedef struct {
    int started;  /* the role chunk was written */
    int finished; /* the finish_reason chunk was written */
    int ended;    /* [DONE] or an error was written: nothing more */
    int include_usage;
    int have_usage;
    asc_canon_usage_t usage;
    int64_t created;
    int ntools;
    int tool_index[MAX_TOOL_MAP]; /* canonical index of OpenAI index k */
    size_t model_len, id_len;
    char model[MODEL_MAX];
    char id[ID_MAX];
    /* whole_tool_calls: the call being collected (heap; stream_free) */
    int whole;
    int pend_active, pend_index;
    asc_buf_t pend_id, pend_name, pend_args;
} chat_stream_t;

static void chat_stream_free(void *state)
{
    chat_stream_t *s = state;
    asc_buf_free(&s->pend_id);
    asc_buf_free(&s->pend_name);
    asc_buf_free(&s->pend_args);
    s->pend_active = 0;
}

static asc_err_t chat_decode(asc_pool_t *pool, const char *body, size_t len,
                             const asc_http_req_t *req, asc_chat_req_t *out, char *err,
                             size_t errlen)
{
    (void)req;
    asc_api_request_t api;
    /* The pass-through's checks first, so both paths refuse the same bodies
     * with the same messages. */
    asc_err_t e = asc_api_openai_decode(pool, ASC_OP_CHAT, body, len, &api, err, errlen);
    if (e != ASC_OK)
        return e;
    return asc_api_openai_chat_canon(pool, &api, out, err, errlen);
}

static void chat_stream_begin(void *state, const asc_chat_req_t *req, const char *model)
{
    chat_stream_t *s = state;
    memset(s, 0, sizeof *s);
    s->include_usage = req != NULL && req->include_usage;
    s->whole = req != NULL && req->whole_tool_calls;
    asc_buf_init(&s->pend_id, 4096);
    asc_buf_init(&s->pend_name, 4096);
    asc_buf_init(&s->pend_args, 8u * 1024 * 1024);
    s->created = (int64_t)time(NULL);
    asc_str_t m = model != NULL ? (asc_str_t){model, strlen(model)}
                  : req != NULL ? req->model
                                : ASC_STR_NULL;
    s->model_len = m.n < MODEL_MAX ? m.n : MODEL_MAX;
    if (s->model_len > 0)
        memcpy(s->model, m.p, s->model_len);
}

/* `data: {"id":..,"object":"chat.completion.chunk",..,"choices":` */
static void chunk_head(const chat_stream_t *s, asc_buf_t *out)
{
    asc_buf_puts(out, "data: {\"id\":\"");
    if (s->id_len > 0)
        asc_buf_json_str(out, s->id, s->id_len);
    else
        asc_buf_puts(out, "chatcmpl-asc");
    asc_buf_printf(out, "\",\"object\":\"chat.completion.chunk\",\"created\":%lld,\"model\":\"",
                   (long long)s->created);
    asc_buf_json_str(out, s->model, s->model_len);
    asc_buf_puts(out, "\",\"choices\":");
}

/* A chunk with one choice; `delta` is its JSON text. */
static void chunk_open(const chat_stream_t *s, asc_buf_t *out)
{
    chunk_head(s, out);
    asc_buf_puts(out, "[{\"index\":0,\"delta\":");
}

static void chunk_close(const chat_stream_t *s, const char *finish, asc_buf_t *out)
{
    asc_buf_puts(out, ",\"logprobs\":null,\"finish_reason\":");
    put_cstr(out, finish);
    asc_buf_puts(out, s->include_usage ? "}],\"usage\":null}\n\n" : "}]}\n\n");
}

static void ensure_started(chat_stream_t *s, asc_buf_t *out)
{
    if (s->started)
        return;
    s->started = 1;
    chunk_open(s, out);
    asc_buf_puts(out, "{\"role\":\"assistant\",\"content\":\"\"}");
    chunk_close(s, NULL, out);
}

static void write_finish(chat_stream_t *s, asc_finish_t f, asc_buf_t *out)
{
    ensure_started(s, out);
    s->finished = 1;
    chunk_open(s, out);
    asc_buf_puts(out, "{}");
    chunk_close(s, finish_name(f, s->ntools > 0), out);
}

/* The OpenAI index for canonical tool index ci (new ones numbered in order
 * of appearance, as OpenAI numbers parallel calls). */
static int tool_slot(chat_stream_t *s, int ci)
{
    for (int k = 0; k < s->ntools; k++)
        if (s->tool_index[k] == ci)
            return k;
    if (s->ntools == MAX_TOOL_MAP)
        return ci;
    s->tool_index[s->ntools] = ci;
    return s->ntools++;
}

/* OpenAI's error type for an HTTP status (as src/gateway/errors.c). */
static const char *error_type(int status)
{
    switch (status) {
    case 401: return "authentication_error";
    case 403: return "permission_error";
    case 429: return "rate_limit_error";
    default: return status >= 500 ? "api_error" : "invalid_request_error";
    }
}

static void error_object(int status, const char *code, asc_str_t msg, asc_buf_t *out)
{
    asc_buf_puts(out, "{\"error\":{\"message\":");
    asc_buf_json_string(out, msg.p != NULL ? msg : (asc_str_t){"", 0});
    asc_buf_printf(out, ",\"type\":\"%s\",\"param\":null,\"code\":", error_type(status));
    put_cstr(out, code);
    asc_buf_puts(out, "}}");
}

static void write_error(chat_stream_t *s, int status, const char *code, asc_str_t msg,
                        asc_buf_t *out)
{
    s->ended = 1;
    asc_buf_puts(out, "data: ");
    error_object(status, code, msg, out);
    asc_buf_puts(out, "\n\n");
}

static void tool_start_delta(chat_stream_t *s, int ci, asc_str_t id, asc_str_t name, asc_str_t args,
                             asc_buf_t *out)
{
    ensure_started(s, out);
    chunk_open(s, out);
    asc_buf_printf(out, "{\"tool_calls\":[{\"index\":%d,\"id\":", tool_slot(s, ci));
    asc_buf_json_string(out, id.p != NULL ? id : (asc_str_t){"", 0});
    asc_buf_puts(out, ",\"type\":\"function\",\"function\":{\"name\":");
    asc_buf_json_string(out, name.p != NULL ? name : (asc_str_t){"", 0});
    asc_buf_puts(out, ",\"arguments\":");
    asc_buf_json_string(out, args.p != NULL ? args : (asc_str_t){"", 0});
    asc_buf_puts(out, "}}]}");
    chunk_close(s, NULL, out);
}

static asc_str_t buf_str(const asc_buf_t *b)
{
    return (asc_str_t){b->data ? b->data : "", b->len};
}

/* whole_tool_calls: write the collected call as one delta. */
static void flush_pending(chat_stream_t *s, asc_buf_t *out)
{
    if (!s->pend_active)
        return;
    s->pend_active = 0;
    tool_start_delta(s, s->pend_index, buf_str(&s->pend_id), buf_str(&s->pend_name),
                     buf_str(&s->pend_args), out);
}

static void chat_stream_event(void *state, const asc_sev_t *ev, asc_buf_t *out)
{
    chat_stream_t *s = state;
    if (s->ended)
        return;
    if (s->whole) {
        /* Collect each call until an event that is not its own arguments,
         * then write it whole. */
        if (ev->type == ASC_SEV_TOOL_START) {
            flush_pending(s, out);
            asc_buf_clear(&s->pend_id);
            asc_buf_clear(&s->pend_name);
            asc_buf_clear(&s->pend_args);
            if (ev->tool_id.p != NULL)
                asc_buf_append(&s->pend_id, ev->tool_id.p, ev->tool_id.n);
            if (ev->tool_name.p != NULL)
                asc_buf_append(&s->pend_name, ev->tool_name.p, ev->tool_name.n);
            s->pend_index = ev->tool_index;
            s->pend_active = 1;
            return;
        }
        if (ev->type == ASC_SEV_TOOL_ARGS && s->pend_active && ev->tool_index == s->pend_index) {
            if (ev->text.n > 0 && asc_buf_append(&s->pend_args, ev->text.p, ev->text.n) != ASC_OK) {
                s->pend_active = 0;
                write_error(s, 502, "upstream_error",
                            (asc_str_t){"tool call arguments exceed the size limit", 41}, out);
            }
            return;
        }
        if (ev->type != ASC_SEV_USAGE)
            flush_pending(s, out);
    }
    switch (ev->type) {
    case ASC_SEV_START:
        if (!s->started && asc_str_set(ev->id)) {
            s->id_len = ev->id.n < ID_MAX ? ev->id.n : ID_MAX;
            memcpy(s->id, ev->id.p, s->id_len);
        }
        ensure_started(s, out);
        break;
    case ASC_SEV_TEXT:
        if (ev->text.n == 0)
            break;
        ensure_started(s, out);
        chunk_open(s, out);
        asc_buf_puts(out, "{\"content\":");
        asc_buf_json_string(out, ev->text);
        asc_buf_putc(out, '}');
        chunk_close(s, NULL, out);
        break;
    case ASC_SEV_TOOL_START:
        tool_start_delta(s, ev->tool_index, ev->tool_id, ev->tool_name, (asc_str_t){"", 0}, out);
        break;
    case ASC_SEV_TOOL_ARGS:
        if (ev->text.n == 0)
            break;
        ensure_started(s, out);
        chunk_open(s, out);
        asc_buf_printf(out, "{\"tool_calls\":[{\"index\":%d,\"function\":{\"arguments\":",
                       tool_slot(s, ev->tool_index));
        asc_buf_json_string(out, ev->text);
        asc_buf_puts(out, "}}]}");
        chunk_close(s, NULL, out);
        break;
    case ASC_SEV_FINISH:
        if (!s->finished)
            write_finish(s, ev->finish, out);
        break;
    case ASC_SEV_USAGE:
        s->usage = ev->usage;
        s->have_usage = 1;
        break;
    case ASC_SEV_DONE:
        if (!s->finished)
            write_finish(s, ASC_FINISH_NONE, out);
        if (s->include_usage) {
            chunk_head(s, out);
            asc_buf_puts(out, "[],\"usage\":");
            put_usage(out, &s->usage);
            asc_buf_puts(out, "}\n\n");
        }
        asc_buf_puts(out, "data: [DONE]\n\n");
        s->ended = 1;
        break;
    case ASC_SEV_ERROR:
        write_error(s, ev->error_status > 0 ? ev->error_status : 502,
                    ev->error_code != NULL ? ev->error_code : "upstream_error", ev->error_message,
                    out);
        break;
    }
}

static void chat_stream_error(void *state, int status, const char *code, const char *message,
                              asc_buf_t *out)
{
    chat_stream_t *s = state;
    if (s->ended)
        return;
    s->pend_active = 0; /* a call that did not complete is not written */
    write_error(s, status, code,
                message != NULL ? (asc_str_t){message, strlen(message)} : (asc_str_t){"", 0}, out);
}

static void chat_error_body(int status, const char *code, const char *message, asc_buf_t *out)
{
    error_object(status, code,
                 message != NULL ? (asc_str_t){message, strlen(message)} : (asc_str_t){"", 0}, out);
}

/*
 * The OpenAI chat dialect for the canonical path (a non-OpenAI upstream).
 * decode() returns ASC_EINVAL with a message naming the field (or
 * ASC_ETOOBIG past the pool's limit); on success err holds "" or a note of
 * the hints it dropped ("dropped: service_tier, store") for the execution
 * record. The encoders append to the caller's buffer and never fail (a
 * buffer that hits its limit stops growing). The stream state is zeroed
 * and set up by stream_begin(); after [DONE] or an error event it writes
 * nothing more. See docs/dialect-openai-chat.md.
 */
const asc_dialect_t asc_dialect_openai_chat = {
    .version = ASC_DIALECT_VERSION,
    .name = "openai-chat",
    .decode = chat_decode,
    .encode_response = chat_encode_response,
    .stream_state_size = sizeof(chat_stream_t),
    .stream_begin = chat_stream_begin,
    .stream_event = chat_stream_event,
    .stream_error = chat_stream_error,
    .error_body = chat_error_body,
    .stream_free = chat_stream_free,
};

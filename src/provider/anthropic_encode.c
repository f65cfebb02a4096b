/*
 * Canonical chat request → Anthropic Messages request body.
 *
 * Anthropic refuses fields outside its schema, so the body is built from
 * scratch with only the members below (never spliced from the client's):
 * model, max_tokens, system, messages, tools, tool_choice, stop_sequences,
 * temperature, top_p, top_k, metadata, thinking, output_config, stream.
 * The decisions for parameters without a mapping are listed in
 * docs/providers-anthropic.md.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "provider/anthropic_int.h"

/* What the client gets when it names no max_tokens (documented default). */
#define DEFAULT_MAX_TOKENS 4096

/* An output buffer that remembers its first failure, so the body is built
 * without an error check per fragment and checked once at the end. */
typedef struct {
    asc_buf_t *b;
    asc_err_t rc;
} w_t;

typedef struct {
    w_t w;
    const asc_chat_req_t *req;
    asc_pool_t *pool;
    char *err;
    size_t errlen;
    asc_err_t fail;  /* ASC_EUNSUPPORTED once a parameter was refused */
    char notes[160]; /* dropped hints, comma-separated */
} enc_t;

static void w_append(w_t *w, const char *p, size_t n)
{
    if (w->rc == ASC_OK)
        w->rc = asc_buf_append(w->b, p, n);
}

static void w_put(w_t *w, const char *s)
{
    w_append(w, s, strlen(s));
}

static void w_raw(w_t *w, asc_str_t s)
{
    w_append(w, s.p != NULL ? s.p : "", s.p != NULL ? s.n : 0);
}

/* s as a quoted JSON string. */
static void w_str(w_t *w, const char *p, size_t n)
{
    w_append(w, "\"", 1);
    if (w->rc == ASC_OK && n > 0)
        w->rc = asc_buf_json_str(w->b, p, n);
    w_append(w, "\"", 1);
}

static void w_sstr(w_t *w, asc_str_t s)
{
    w_str(w, s.p != NULL ? s.p : "", s.p != NULL ? s.n : 0);
}

static void w_int(w_t *w, int64_t v)
{
    char tmp[32];
    int n = snprintf(tmp, sizeof tmp, "%lld", (long long)v);
    w_append(w, tmp, (size_t)n);
}

/* The shortest of %.15g / %.17g that reads back as v (0.7, not
 * 0.69999999999999996). */
static void w_num(w_t *w, double v)
{
    char tmp[40];
    int n = snprintf(tmp, sizeof tmp, "%.15g", v);
    if (strtod(tmp, NULL) != v)
        n = snprintf(tmp, sizeof tmp, "%.17g", v);
    w_append(w, tmp, (size_t)n);
}

/* Separator before an array element or object member. */
static void w_sep(w_t *w, int *first)
{
    if (!*first)
        w_append(w, ",", 1);
    *first = 0;
}

static void note(enc_t *e, const char *name)
{
    size_t have = strlen(e->notes), n = strlen(name);
    const char *p = e->notes;
    while (p != NULL && *p != '\0') {
        const char *comma = strchr(p, ',');
        size_t l = comma != NULL ? (size_t)(comma - p) : strlen(p);
        if (l == n && memcmp(p, name, n) == 0)
            return;
        p = comma != NULL ? comma + 1 : NULL;
    }
    if (have + n + 2 > sizeof e->notes)
        return;
    if (have > 0)
        e->notes[have++] = ',';
    memcpy(e->notes + have, name, n + 1);
}

static asc_err_t refuse(enc_t *e, const char *msg)
{
    if (e->fail == ASC_OK && e->errlen > 0)
        snprintf(e->err, e->errlen, "%s", msg);
    e->fail = ASC_EUNSUPPORTED;
    return ASC_EUNSUPPORTED;
}

static int prefix_ci(asc_str_t s, const char *z)
{
    size_t n = strlen(z);
    if (s.p == NULL || s.n < n)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = s.p[i];
        if (c >= 'A' && c <= 'Z')
            c = (char)(c - 'A' + 'a');
        if (c != z[i])
            return 0;
    }
    return 1;
}

/* ---- content blocks --------------------------------------------------- */

/* Whether part p becomes a block (Anthropic refuses empty text blocks). */
static int part_emits(const asc_part_t *p)
{
    if (p->type == ASC_PART_TEXT)
        return p->text.p != NULL && p->text.n > 0;
    return p->type == ASC_PART_IMAGE_URL || p->type == ASC_PART_IMAGE_BASE64;
}

static size_t parts_emitted(const asc_msg_t *m, const asc_part_t **only)
{
    size_t n = 0;
    for (size_t i = 0; i < m->nparts; i++) {
        if (part_emits(&m->parts[i])) {
            if (only != NULL)
                *only = &m->parts[i];
            n++;
        }
    }
    return n;
}

/* A text part that may be written as a plain string instead of a block. */
static int plain_text(const asc_part_t *p)
{
    return p->type == ASC_PART_TEXT && !asc_str_set(p->cache_control);
}

/* "data:<media type>[;params];base64,<payload>" */
static int parse_data_url(asc_str_t url, asc_str_t *media, asc_str_t *data)
{
    if (!prefix_ci(url, "data:"))
        return 0;
    const char *h = url.p + 5;
    const char *end = url.p + url.n;
    const char *comma = memchr(h, ',', (size_t)(end - h));
    if (comma == NULL)
        return 0;
    const char *semi = memchr(h, ';', (size_t)(comma - h));
    if (semi == NULL || semi == h)
        return 0;
    if (comma - h < 7 || !prefix_ci((asc_str_t){comma - 7, 7}, ";base64"))
        return 0;
    *media = (asc_str_t){h, (size_t)(semi - h)};
    *data = (asc_str_t){comma + 1, (size_t)(end - comma - 1)};
    return 1;
}

static void w_base64_source(w_t *w, asc_str_t media, asc_str_t data)
{
    w_put(w, "{\"type\":\"image\",\"source\":{\"type\":\"base64\",\"media_type\":");
    w_sstr(w, media);
    w_put(w, ",\"data\":");
    w_sstr(w, data);
    w_put(w, "}");
}

/* One text or image block. */
static asc_err_t w_part(enc_t *e, const asc_part_t *p)
{
    w_t *w = &e->w;
    asc_str_t media, data;
    switch (p->type) {
    case ASC_PART_TEXT:
        w_put(w, "{\"type\":\"text\",\"text\":");
        w_sstr(w, p->text);
        break;
    case ASC_PART_IMAGE_URL:
        if (prefix_ci(p->url, "https://") || prefix_ci(p->url, "http://")) {
            w_put(w, "{\"type\":\"image\",\"source\":{\"type\":\"url\",\"url\":");
            w_sstr(w, p->url);
            w_put(w, "}");
        } else if (parse_data_url(p->url, &media, &data)) {
            w_base64_source(w, media, data);
        } else {
            return refuse(e, "image_url: anthropic providers take only http(s) URLs and base64 "
                             "data: URLs");
        }
        break;
    case ASC_PART_IMAGE_BASE64: w_base64_source(w, p->media_type, p->data); break;
    default: return refuse(e, "messages: unsupported content part");
    }
    if (asc_str_set(p->detail))
        note(e, "detail");
    if (asc_str_set(p->cache_control)) {
        w_put(w, ",\"cache_control\":");
        w_raw(w, p->cache_control);
    }
    w_put(w, "}");
    return ASC_OK;
}

/* Every emitting part of m as blocks, after *first. */
static asc_err_t w_parts(enc_t *e, const asc_msg_t *m, int *first)
{
    for (size_t i = 0; i < m->nparts; i++) {
        if (!part_emits(&m->parts[i]))
            continue;
        w_sep(&e->w, first);
        asc_err_t rc = w_part(e, &m->parts[i]);
        if (rc != ASC_OK)
            return rc;
    }
    return ASC_OK;
}

/* Anthropic ids must match ^[a-zA-Z0-9_-]+$. An id from elsewhere that
 * does not is replaced by a hash of itself, the same in tool_use and
 * tool_result so the pair still matches. */
static void w_tool_id(w_t *w, asc_str_t id)
{
    int ok = id.p != NULL && id.n > 0;
    for (size_t i = 0; ok && i < id.n; i++) {
        char c = id.p[i];
        ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
             c == '_' || c == '-';
    }
    if (ok) {
        w_sstr(w, id);
        return;
    }
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (size_t i = 0; id.p != NULL && i < id.n; i++) {
        h ^= (unsigned char)id.p[i];
        h *= 1099511628211ull;
    }
    char tmp[40];
    int n = snprintf(tmp, sizeof tmp, "\"toolu_asc%016llx\"", (unsigned long long)h);
    w_append(w, tmp, (size_t)n);
}

/* Tool arguments as an input object: "" or anything but a JSON object
 * becomes {} (Anthropic requires an object; OpenAI clients send ""). */
static void w_input(enc_t *e, asc_str_t args)
{
    asc_json_limits_t lim;
    asc_json_t j;
    asc_json_limits_default(&lim);
    lim.root_object = 1;
    if (args.p != NULL && args.n > 0 &&
        asc_json_parse(e->pool, args.p, args.n, &lim, &j, NULL, 0) == ASC_OK)
        w_raw(&e->w, args);
    else
        w_put(&e->w, "{}");
}

static void w_tool_result(enc_t *e, const asc_msg_t *m)
{
    w_t *w = &e->w;
    const asc_part_t *only = NULL;
    size_t n = parts_emitted(m, &only);
    w_put(w, "{\"type\":\"tool_result\",\"tool_use_id\":");
    w_tool_id(w, m->tool_call_id);
    if (n == 1 && plain_text(only)) {
        w_put(w, ",\"content\":");
        w_sstr(w, only->text);
    } else if (n > 0) {
        int first = 1;
        w_put(w, ",\"content\":[");
        if (w_parts(e, m, &first) != ASC_OK)
            return;
        w_put(w, "]");
    }
    if (m->is_error)
        w_put(w, ",\"is_error\":true");
    w_put(w, "}");
}

/* ---- messages --------------------------------------------------------- */

/* 'u' for user and tool results, 'a' for assistant, 0 for system. */
static int anth_role(const asc_msg_t *m)
{
    switch (m->role) {
    case ASC_ROLE_USER:
    case ASC_ROLE_TOOL: return 'u';
    case ASC_ROLE_ASSISTANT: return 'a';
    default: return 0;
    }
}

/* Whether m becomes anything in messages[] (system text is hoisted; an
 * empty user or assistant turn would be refused, so it is left out and its
 * neighbours merge). */
static int msg_counts(const asc_msg_t *m)
{
    if (anth_role(m) == 0)
        return 0;
    if (m->role == ASC_ROLE_TOOL)
        return 1;
    return m->ntool_calls > 0 || parts_emitted(m, NULL) > 0;
}

/* One Anthropic message from the canonical messages [from, to] (same
 * Anthropic role; skipped system or empty ones may sit between). */
static asc_err_t w_group(enc_t *e, size_t from, size_t to)
{
    w_t *w = &e->w;
    const asc_msg_t *msgs = e->req->msgs;
    int role = anth_role(&msgs[from]);
    size_t nmsg = 0;
    for (size_t k = from; k <= to; k++)
        nmsg += msg_counts(&msgs[k]);
    w_put(w,
          role == 'u' ? "{\"role\":\"user\",\"content\":" : "{\"role\":\"assistant\",\"content\":");
    const asc_msg_t *m = &msgs[from];
    const asc_part_t *only = NULL;
    if (nmsg == 1 && m->role != ASC_ROLE_TOOL && m->ntool_calls == 0 &&
        parts_emitted(m, &only) == 1 && plain_text(only)) {
        w_sstr(w, only->text);
        w_put(w, "}");
        return ASC_OK;
    }
    int first = 1;
    w_put(w, "[");
    if (role == 'u') {
        /* tool_result blocks must come first in their user message */
        for (size_t k = from; k <= to; k++) {
            if (msgs[k].role != ASC_ROLE_TOOL)
                continue;
            w_sep(w, &first);
            w_tool_result(e, &msgs[k]);
            if (e->fail != ASC_OK)
                return e->fail;
        }
        for (size_t k = from; k <= to; k++) {
            if (msgs[k].role != ASC_ROLE_USER)
                continue;
            asc_err_t rc = w_parts(e, &msgs[k], &first);
            if (rc != ASC_OK)
                return rc;
        }
    } else {
        for (size_t k = from; k <= to; k++) {
            const asc_msg_t *a = &msgs[k];
            if (a->role != ASC_ROLE_ASSISTANT)
                continue;
            asc_err_t rc = w_parts(e, a, &first);
            if (rc != ASC_OK)
                return rc;
            for (size_t c = 0; c < a->ntool_calls; c++) {
                const asc_tool_call_t *tc = &a->tool_calls[c];
                w_sep(w, &first);
                w_put(w, "{\"type\":\"tool_use\",\"id\":");
                w_tool_id(w, tc->id);
                w_put(w, ",\"name\":");
                w_sstr(w, tc->name);
                w_put(w, ",\"input\":");
                w_input(e, tc->arguments);
                w_put(w, "}");
            }
        }
    }
    w_put(w, "]}");
    return ASC_OK;
}

static asc_err_t w_messages(enc_t *e)
{
    const asc_chat_req_t *r = e->req;
    int first = 1;
    w_put(&e->w, ",\"messages\":[");
    size_t i = 0;
    while (i < r->nmsgs) {
        const asc_msg_t *m = &r->msgs[i];
        if (asc_str_set(m->name) && m->role != ASC_ROLE_TOOL)
            note(e, "name");
        if (!msg_counts(m)) {
            i++;
            continue;
        }
        /* Anthropic alternates user and assistant: consecutive messages
         * of one role (tool results and the user text after them
         * included) become one message. */
        size_t last = i;
        for (size_t k = i + 1; k < r->nmsgs; k++) {
            if (!msg_counts(&r->msgs[k]))
                continue;
            if (anth_role(&r->msgs[k]) != anth_role(m))
                break;
            last = k;
        }
        w_sep(&e->w, &first);
        asc_err_t rc = w_group(e, i, last);
        if (rc != ASC_OK)
            return rc;
        for (size_t k = i + 1; k <= last; k++) {
            if (asc_str_set(r->msgs[k].name) && r->msgs[k].role != ASC_ROLE_TOOL)
                note(e, "name");
        }
        i = last + 1;
    }
    w_put(&e->w, "]");
    return ASC_OK;
}

/* Every system (and developer) message's text, hoisted to `system`. */
static asc_err_t w_system(enc_t *e)
{
    const asc_chat_req_t *r = e->req;
    size_t n = 0;
    const asc_part_t *only = NULL;
    for (size_t i = 0; i < r->nmsgs; i++) {
        const asc_msg_t *m = &r->msgs[i];
        if (m->role != ASC_ROLE_SYSTEM)
            continue;
        for (size_t k = 0; k < m->nparts; k++) {
            if (m->parts[k].type != ASC_PART_TEXT)
                return refuse(e, "messages: anthropic providers take only text in system "
                                 "messages");
        }
        n += parts_emitted(m, &only);
    }
    if (n == 0)
        return ASC_OK;
    w_put(&e->w, ",\"system\":");
    if (n == 1 && plain_text(only)) {
        w_sstr(&e->w, only->text);
        return ASC_OK;
    }
    int first = 1;
    w_put(&e->w, "[");
    for (size_t i = 0; i < r->nmsgs; i++) {
        if (r->msgs[i].role == ASC_ROLE_SYSTEM)
            w_parts(e, &r->msgs[i], &first);
    }
    w_put(&e->w, "]");
    return ASC_OK;
}

/* ---- tools and parameters --------------------------------------------- */

/* input_schema: Anthropic requires "type":"object" at its root; an absent
 * or typeless OpenAI schema ({} is valid there) gets it. */
static void w_schema(enc_t *e, asc_str_t params)
{
    w_t *w = &e->w;
    asc_json_t j;
    asc_json_limits_t lim;
    asc_json_limits_default(&lim);
    if (params.p == NULL ||
        asc_json_parse(e->pool, params.p, params.n, &lim, &j, NULL, 0) != ASC_OK ||
        j.tok[0].type != ASC_JSON_OBJECT) {
        w_put(w, "{\"type\":\"object\"}");
        return;
    }
    if (asc_json_obj_get(&j, 0, "type") >= 0) {
        w_raw(w, params);
        return;
    }
    size_t s, end;
    asc_json_value_range(&j, 0, &s, &end);
    w_put(w, "{\"type\":\"object\"");
    if (j.tok[0].size > 0) {
        w_put(w, ",");
        w_append(w, params.p + s + 1, end - s - 2);
    }
    w_put(w, "}");
}

static void w_tools(enc_t *e)
{
    const asc_chat_req_t *r = e->req;
    w_t *w = &e->w;
    if (r->ntools == 0)
        return;
    int first = 1;
    w_put(w, ",\"tools\":[");
    for (size_t i = 0; i < r->ntools; i++) {
        const asc_tool_t *t = &r->tools[i];
        w_sep(w, &first);
        w_put(w, "{\"name\":");
        w_sstr(w, t->name);
        if (asc_str_set(t->description)) {
            w_put(w, ",\"description\":");
            w_sstr(w, t->description);
        }
        w_put(w, ",\"input_schema\":");
        w_schema(e, t->parameters);
        if (t->strict == 1)
            w_put(w, ",\"strict\":true");
        w_put(w, "}");
    }
    w_put(w, "]");
}

static void w_tool_choice(enc_t *e)
{
    const asc_chat_req_t *r = e->req;
    w_t *w = &e->w;
    /* Without tools there is nothing to choose; "none" and "auto" mean
     * the same then, and Anthropic refuses tool_choice without tools. */
    if (r->ntools == 0 &&
        (r->tool_choice == ASC_TOOL_CHOICE_UNSET || r->tool_choice == ASC_TOOL_CHOICE_AUTO ||
         r->tool_choice == ASC_TOOL_CHOICE_NONE))
        return;
    int single = r->parallel_tool_calls == 0 && r->ntools > 0;
    switch (r->tool_choice) {
    case ASC_TOOL_CHOICE_UNSET:
        if (!single)
            return;
        w_put(w, ",\"tool_choice\":{\"type\":\"auto\"");
        break;
    case ASC_TOOL_CHOICE_AUTO: w_put(w, ",\"tool_choice\":{\"type\":\"auto\""); break;
    case ASC_TOOL_CHOICE_REQUIRED: w_put(w, ",\"tool_choice\":{\"type\":\"any\""); break;
    case ASC_TOOL_CHOICE_NONE: w_put(w, ",\"tool_choice\":{\"type\":\"none\"}"); return;
    case ASC_TOOL_CHOICE_FUNCTION:
        w_put(w, ",\"tool_choice\":{\"type\":\"tool\",\"name\":");
        w_sstr(w, r->tool_choice_name);
        break;
    default: return;
    }
    if (single)
        w_put(w, ",\"disable_parallel_tool_use\":true");
    w_put(w, "}");
}

/* metadata: Anthropic takes only user_id; it comes from the canonical user
 * (OpenAI `user`), else from a client metadata.user_id string. Any other
 * metadata key is a hint for the caller's dashboard: dropped and noted. */
static void w_metadata(enc_t *e)
{
    const asc_chat_req_t *r = e->req;
    w_t *w = &e->w;
    asc_str_t uid = ASC_STR_NULL;
    int raw = 0;
    asc_json_t j;
    asc_json_limits_t lim;
    asc_json_limits_default(&lim);
    if (asc_str_set(r->metadata) &&
        asc_json_parse(e->pool, r->metadata.p, r->metadata.n, &lim, &j, NULL, 0) == ASC_OK &&
        j.tok[0].type == ASC_JSON_OBJECT) {
        int t = asc_json_obj_get(&j, 0, "user_id");
        if (j.tok[0].size > (t >= 0 ? 1 : 0))
            note(e, "metadata");
        if (t >= 0 && j.tok[t].type == ASC_JSON_STRING) {
            size_t s, end;
            asc_json_value_range(&j, t, &s, &end);
            uid = (asc_str_t){r->metadata.p + s, end - s};
            raw = 1;
        }
    }
    if (asc_str_set(r->user)) {
        uid = r->user;
        raw = 0;
    }
    if (!asc_str_set(uid))
        return;
    w_put(w, ",\"metadata\":{\"user_id\":");
    if (raw)
        w_raw(w, uid);
    else
        w_sstr(w, uid);
    w_put(w, "}");
}

/* Refusals decided before anything is written. */
static asc_err_t check_params(enc_t *e)
{
    const asc_chat_req_t *r = e->req;
    if (r->format == ASC_FORMAT_JSON_OBJECT)
        return refuse(e, "response_format: json_object is not supported by anthropic providers "
                         "(json_schema is)");
    if (r->format == ASC_FORMAT_JSON_SCHEMA && !asc_str_set(r->format_schema))
        return refuse(e, "response_format: json_schema needs a schema for anthropic providers");
    if (asc_str_set(r->reasoning))
        return refuse(e, "reasoning_effort: not supported by anthropic providers (use an "
                         "anthropic-dialect request with thinking)");
    if (r->has_temperature && !(r->temperature >= 0.0 && r->temperature <= 1.0))
        return refuse(e, "temperature: anthropic providers accept values from 0 to 1");
    return ASC_OK;
}

asc_err_t asc_provider_anthropic_encode_chat(const asc_chat_req_t *req, const char *upstream_model,
                                             asc_pool_t *pool, asc_buf_t *out, char *err,
                                             size_t errlen)
{
    enc_t e;
    memset(&e, 0, sizeof e);
    e.w.b = out;
    e.req = req;
    e.pool = pool;
    e.err = err;
    e.errlen = errlen;
    size_t start = out->len;
    asc_err_t rc;
    if (errlen > 0)
        err[0] = '\0';

    rc = check_params(&e);
    if (rc != ASC_OK)
        goto out;
    w_put(&e.w, "{\"model\":");
    w_str(&e.w, upstream_model, strlen(upstream_model));
    w_put(&e.w, ",\"max_tokens\":");
    w_int(&e.w, req->has_max_tokens ? req->max_tokens : DEFAULT_MAX_TOKENS);
    rc = w_system(&e);
    if (rc != ASC_OK)
        goto out;
    rc = w_messages(&e);
    if (rc != ASC_OK)
        goto out;
    w_tools(&e);
    w_tool_choice(&e);
    if (req->nstop > 0) {
        int first = 1;
        w_put(&e.w, ",\"stop_sequences\":[");
        for (size_t i = 0; i < req->nstop; i++) {
            w_sep(&e.w, &first);
            w_sstr(&e.w, req->stop[i]);
        }
        w_put(&e.w, "]");
    }
    if (req->has_temperature) {
        w_put(&e.w, ",\"temperature\":");
        w_num(&e.w, req->temperature);
    }
    if (req->has_top_p) {
        w_put(&e.w, ",\"top_p\":");
        w_num(&e.w, req->top_p);
    }
    if (req->has_top_k) {
        w_put(&e.w, ",\"top_k\":");
        w_int(&e.w, req->top_k);
    }
    w_metadata(&e);
    if (asc_str_set(req->thinking)) {
        w_put(&e.w, ",\"thinking\":");
        w_raw(&e.w, req->thinking);
    }
    if (req->format == ASC_FORMAT_JSON_SCHEMA) {
        w_put(&e.w, ",\"output_config\":{\"format\":{\"type\":\"json_schema\",\"schema\":");
        w_raw(&e.w, req->format_schema);
        w_put(&e.w, "}}");
    }
    if (req->has_seed)
        note(&e, "seed");
    if (req->stream)
        w_put(&e.w, ",\"stream\":true");
    w_put(&e.w, "}");
    rc = e.fail != ASC_OK ? e.fail : e.w.rc;
    if (rc == ASC_ETOOBIG && errlen > 0)
        snprintf(err, errlen, "the upstream request is too large");
    else if (rc == ASC_OK && errlen > 0)
        snprintf(err, errlen, "%s", e.notes);
out:
    if (rc != ASC_OK && out->data != NULL) {
        out->len = start;
        out->data[start] = '\0';
    }
    return rc;
}

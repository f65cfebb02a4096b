/*
 * Canonical request -> Chat Completions body, for OpenAI, OpenAI-compatible
 * servers and Mistral (the profile says which schema the upstream has).
 * The decoders (complete and streamed responses) are in openai_decode.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json/json.h"
#include "provider/openai_canon.h"

/* ---- encoder state ------------------------------------------------------ */

typedef struct {
    asc_str_t orig;
    char mapped[10];
} idmap_ent_t;

typedef struct {
    asc_oai_profile_t profile;
    const char *kind; /* for messages */
    const asc_chat_req_t *req;
    asc_pool_t *pool;
    asc_buf_t *out;
    char *err;
    size_t errlen;
    char dropped[192];
    /* Mistral: original tool-call id -> 9-character id (open addressing) */
    idmap_ent_t *ids;
    const idmap_ent_t **taken; /* the same entries, by mapped id */
    size_t idcap;
    int full; /* a write was refused by out's limit */
} enc_t;

/* ---- writers: every write goes through these, so a refusal by the
 * buffer's limit is remembered (a later, smaller write could otherwise
 * succeed and leave a body with a hole in it) ---------------------------- */

static void w_track(enc_t *e, asc_err_t rc)
{
    if (rc != ASC_OK)
        e->full = 1;
}

static void w_puts(enc_t *e, const char *s)
{
    w_track(e, asc_buf_puts(e->out, s));
}

static void w_putc(enc_t *e, char c)
{
    w_track(e, asc_buf_putc(e->out, c));
}

static void w_append(enc_t *e, const char *p, size_t n)
{
    if (n > 0)
        w_track(e, asc_buf_append(e->out, p, n));
}

/* The body of a JSON string (no quotes). */
static void w_esc(enc_t *e, const char *p, size_t n)
{
    if (n > 0)
        w_track(e, asc_buf_json_str(e->out, p, n));
}

/* A JSON string with its quotes (absent = ""). */
static void w_str(enc_t *e, asc_str_t s)
{
    w_putc(e, '"');
    if (s.p != NULL)
        w_esc(e, s.p, s.n);
    w_putc(e, '"');
}

/* JSON text (already validated) as a JSON string, without the whitespace
 * between its tokens: tool arguments from an Anthropic `input` object may
 * be pretty-printed by the client. */
static void w_json_as_str(enc_t *e, asc_str_t s)
{
    char tmp[256];
    size_t n = 0;
    int in_str = 0, esc = 0;
    w_putc(e, '"');
    for (size_t i = 0; i < s.n; i++) {
        char c = s.p[i];
        if (!in_str && (c == ' ' || c == '\t' || c == '\n' || c == '\r'))
            continue;
        if (in_str) {
            if (esc)
                esc = 0;
            else if (c == '\\')
                esc = 1;
            else if (c == '"')
                in_str = 0;
        } else if (c == '"') {
            in_str = 1;
        }
        tmp[n++] = c;
        if (n == sizeof tmp) {
            w_esc(e, tmp, n);
            n = 0;
        }
    }
    w_esc(e, tmp, n);
    w_putc(e, '"');
}

static void w_raw(enc_t *e, asc_str_t s)
{
    w_append(e, s.p, s.n);
}

/* A double in the shortest form that reads back as the same value. */
static void w_double(enc_t *e, double v)
{
    char tmp[40];
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(tmp, sizeof tmp, "%.*g", prec, v);
        if (strtod(tmp, NULL) == v)
            break;
    }
    w_puts(e, tmp);
}

static void w_int(enc_t *e, int64_t v)
{
    char tmp[24];
    snprintf(tmp, sizeof tmp, "%lld", (long long)v);
    w_puts(e, tmp);
}

static const char *profile_kind(asc_oai_profile_t p)
{
    switch (p) {
    case ASC_OAI_OPENAI: return "openai";
    case ASC_OAI_COMPATIBLE: return "openai-compatible";
    case ASC_OAI_MISTRAL: return "mistral";
    }
    return "openai";
}

static int is_mistral(const enc_t *e)
{
    return e->profile == ASC_OAI_MISTRAL;
}

/* Name a dropped hint once. */
static void drop(enc_t *e, const char *name)
{
    size_t nl = strlen(name), used = strlen(e->dropped);
    for (const char *p = strstr(e->dropped, name); p != NULL; p = strstr(p + nl, name)) {
        int start = p == e->dropped || p[-1] == ' ';
        int end = p[nl] == '\0' || p[nl] == ',';
        if (start && end)
            return;
    }
    if (used + nl + 3 >= sizeof e->dropped)
        return;
    if (used > 0) {
        memcpy(e->dropped + used, ", ", 2);
        used += 2;
    }
    memcpy(e->dropped + used, name, nl + 1);
}

/* A parameter the upstream cannot honour: "<param>: <why> (upstream ...)". */
static asc_err_t unsupported(enc_t *e, const char *param, const char *why)
{
    snprintf(e->err, e->errlen, "%s: %s (upstream kind %s)", param, why, e->kind);
    return ASC_EUNSUPPORTED;
}

/* ---- Mistral tool-call ids ---------------------------------------------- */

static const char b62[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

static uint64_t fnv1a(uint64_t h, const void *p, size_t n)
{
    const unsigned char *s = p;
    for (size_t i = 0; i < n; i++) {
        h ^= s[i];
        h *= 0x100000001b3ULL;
    }
    return h;
}

static uint64_t mix64(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static int mistral_id_ok(asc_str_t id)
{
    if (id.p == NULL || id.n != 9)
        return 0;
    for (size_t i = 0; i < 9; i++) {
        char c = id.p[i];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')))
            return 0;
    }
    return 1;
}

void asc_mistral_tool_id(asc_str_t id, unsigned salt, char out[10])
{
    if (salt == 0 && mistral_id_ok(id)) {
        memcpy(out, id.p, 9);
        out[9] = '\0';
        return;
    }
    uint64_t h = fnv1a(0xcbf29ce484222325ULL, "asc-mistral-id", 14);
    unsigned char sb[4] = {(unsigned char)salt, (unsigned char)(salt >> 8),
                           (unsigned char)(salt >> 16), (unsigned char)(salt >> 24)};
    h = fnv1a(h, sb, sizeof sb);
    h = mix64(fnv1a(h, id.p ? id.p : "", id.p ? id.n : 0));
    for (int i = 0; i < 9; i++) {
        out[i] = b62[h % 62];
        h /= 62;
    }
    out[9] = '\0';
}

static size_t slot_of(const enc_t *e, asc_str_t s)
{
    return (size_t)mix64(fnv1a(0xcbf29ce484222325ULL, s.p ? s.p : "", s.p ? s.n : 0)) &
           (e->idcap - 1);
}

static int same(asc_str_t a, asc_str_t b)
{
    return a.n == b.n && (a.n == 0 || memcmp(a.p, b.p, a.n) == 0);
}

/* The entry for id, or the empty slot where it goes. */
static idmap_ent_t *id_slot(enc_t *e, asc_str_t id)
{
    size_t i = slot_of(e, id);
    for (;;) {
        idmap_ent_t *x = &e->ids[i];
        if (x->mapped[0] == '\0' || same(x->orig, id))
            return x;
        i = (i + 1) & (e->idcap - 1);
    }
}

static size_t mapped_slot(const enc_t *e, const char *m)
{
    return (size_t)mix64(fnv1a(0x84222325cbf29ce4ULL, m, 9)) & (e->idcap - 1);
}

/* 1 if some id already maps to m. */
static int mapped_taken(const enc_t *e, const char *m)
{
    for (size_t i = mapped_slot(e, m);; i = (i + 1) & (e->idcap - 1)) {
        const idmap_ent_t *x = e->taken[i];
        if (x == NULL)
            return 0;
        if (memcmp(x->mapped, m, 9) == 0)
            return 1;
    }
}

static void mapped_add(enc_t *e, const idmap_ent_t *x)
{
    size_t i = mapped_slot(e, x->mapped);
    while (e->taken[i] != NULL)
        i = (i + 1) & (e->idcap - 1);
    e->taken[i] = x;
}

static void id_add(enc_t *e, asc_str_t id, int conforming_pass)
{
    if (mistral_id_ok(id) != conforming_pass)
        return;
    idmap_ent_t *x = id_slot(e, id);
    if (x->mapped[0] != '\0')
        return;
    x->orig = (asc_str_t){id.p ? id.p : "", id.p ? id.n : 0};
    char m[10];
    unsigned salt = 0;
    asc_mistral_tool_id(id, salt, m);
    /* a conforming id is kept as is (distinct ids, distinct strings); a
     * mapped one avoids every id already taken */
    while (!conforming_pass && mapped_taken(e, m))
        asc_mistral_tool_id(id, ++salt, m);
    memcpy(x->mapped, m, 10);
    mapped_add(e, x);
}

/* Build the id map: ids Mistral would accept first (kept verbatim), then
 * the others, hashed around them so no two originals share a mapped id. */
static asc_err_t build_idmap(enc_t *e)
{
    const asc_chat_req_t *r = e->req;
    size_t n = 0;
    for (size_t i = 0; i < r->nmsgs; i++)
        n += r->msgs[i].ntool_calls + (r->msgs[i].role == ASC_ROLE_TOOL);
    if (n == 0)
        return ASC_OK;
    size_t cap = 16;
    while (cap < 2 * n) {
        if (cap > ((size_t)1 << 40))
            return ASC_ETOOBIG;
        cap <<= 1;
    }
    e->ids = asc_pool_alloc_n(e->pool, cap * sizeof *e->ids);
    e->taken = asc_pool_alloc_n(e->pool, cap * sizeof *e->taken);
    if (e->ids == NULL || e->taken == NULL)
        return ASC_ETOOBIG;
    memset(e->ids, 0, cap * sizeof *e->ids);
    memset(e->taken, 0, cap * sizeof *e->taken);
    e->idcap = cap;
    for (int pass = 1; pass >= 0; pass--) {
        for (size_t i = 0; i < r->nmsgs; i++) {
            const asc_msg_t *m = &r->msgs[i];
            for (size_t k = 0; k < m->ntool_calls; k++)
                id_add(e, m->tool_calls[k].id, pass);
            if (m->role == ASC_ROLE_TOOL)
                id_add(e, m->tool_call_id, pass);
        }
    }
    return ASC_OK;
}

static void put_tool_id(enc_t *e, asc_str_t id)
{
    if (!is_mistral(e) || e->ids == NULL) {
        w_str(e, id);
        return;
    }
    idmap_ent_t *x = id_slot(e, id);
    w_putc(e, '"');
    w_append(e, x->mapped, 9);
    w_putc(e, '"');
}

/* ---- messages ------------------------------------------------------------ */

static void put_part(enc_t *e, const asc_part_t *p)
{
    if (p->type == ASC_PART_TEXT) {
        w_puts(e, "{\"type\":\"text\",\"text\":");
        w_str(e, p->text);
        w_putc(e, '}');
        return;
    }
    w_puts(e, "{\"type\":\"image_url\",\"image_url\":{\"url\":\"");
    if (p->type == ASC_PART_IMAGE_URL) {
        w_esc(e, p->url.p, p->url.n);
    } else {
        w_puts(e, "data:");
        w_esc(e, p->media_type.p, p->media_type.n);
        w_puts(e, ";base64,");
        w_esc(e, p->data.p, p->data.n);
    }
    w_putc(e, '"');
    if (asc_str_set(p->detail)) {
        w_puts(e, ",\"detail\":");
        w_str(e, p->detail);
    }
    w_puts(e, "}}");
}

/* Check the parts of message mi before anything is written: part types,
 * images where the upstream takes none (`where` names the message kind). */
static asc_err_t check_parts(enc_t *e, size_t mi, int images_ok, const char *where)
{
    const asc_msg_t *m = &e->req->msgs[mi];
    for (size_t i = 0; i < m->nparts; i++) {
        const asc_part_t *p = &m->parts[i];
        if (asc_str_set(p->cache_control))
            drop(e, "cache_control"); /* a prompt-caching hint */
        if (p->type == ASC_PART_TEXT)
            continue;
        if (p->type != ASC_PART_IMAGE_URL && p->type != ASC_PART_IMAGE_BASE64) {
            snprintf(e->err, e->errlen, "messages[%zu]: unknown content part type", mi);
            return ASC_EINVAL;
        }
        if (!images_ok) {
            char param[48], why[96];
            snprintf(param, sizeof param, "messages[%zu].content[%zu]", mi, i);
            snprintf(why, sizeof why, "images in %s are not supported by this provider", where);
            return unsupported(e, param, why);
        }
    }
    return ASC_OK;
}

/* "content": a string for one text part ("" for none), else the parts. */
static void put_content(enc_t *e, const asc_msg_t *m)
{
    w_puts(e, "\"content\":");
    if (m->nparts == 0) {
        w_puts(e, "\"\"");
        return;
    }
    if (m->nparts == 1 && m->parts[0].type == ASC_PART_TEXT) {
        w_str(e, m->parts[0].text);
        return;
    }
    w_putc(e, '[');
    for (size_t i = 0; i < m->nparts; i++) {
        if (i > 0)
            w_putc(e, ',');
        put_part(e, &m->parts[i]);
    }
    w_putc(e, ']');
}

/* The participant name: OpenAI takes it on system, user and assistant
 * messages; Mistral refuses it there (422), and it changes nothing. */
static void put_name(enc_t *e, const asc_msg_t *m)
{
    if (!asc_str_set(m->name))
        return;
    if (is_mistral(e)) {
        drop(e, "name");
        return;
    }
    w_puts(e, ",\"name\":");
    w_str(e, m->name);
}

/* 1 when s is valid JSON with line breaks in it (worth compacting). */
static int pretty_json(enc_t *e, asc_str_t s)
{
    if (memchr(s.p, '\n', s.n) == NULL && memchr(s.p, '\r', s.n) == NULL)
        return 0;
    asc_json_t j;
    return asc_json_parse(e->pool, s.p, s.n, NULL, &j, NULL, 0) == ASC_OK;
}

static void put_tool_calls(enc_t *e, const asc_msg_t *m)
{
    w_puts(e, ",\"tool_calls\":[");
    for (size_t k = 0; k < m->ntool_calls; k++) {
        const asc_tool_call_t *c = &m->tool_calls[k];
        if (k > 0)
            w_putc(e, ',');
        w_puts(e, "{\"id\":");
        put_tool_id(e, c->id);
        w_puts(e, ",\"type\":\"function\",\"function\":{\"name\":");
        w_str(e, c->name);
        w_puts(e, ",\"arguments\":");
        if (c->arguments.p != NULL && c->arguments.n > 0 && pretty_json(e, c->arguments))
            w_json_as_str(e, c->arguments);
        else if (c->arguments.p != NULL && c->arguments.n > 0)
            w_str(e, c->arguments); /* verbatim, even when it is not JSON */
        else
            w_puts(e, "\"{}\"");
        w_puts(e, "}}");
    }
    w_putc(e, ']');
}

/* The name of the function the tool call `call_id` (made before message
 * mi) invoked: Mistral documents `name` on tool messages. */
static asc_str_t tool_name_for(const enc_t *e, size_t mi, asc_str_t call_id)
{
    if (call_id.p == NULL)
        return ASC_STR_NULL;
    for (size_t i = mi; i-- > 0;) {
        const asc_msg_t *m = &e->req->msgs[i];
        for (size_t k = 0; k < m->ntool_calls; k++)
            if (m->tool_calls[k].id.p != NULL && same(m->tool_calls[k].id, call_id))
                return m->tool_calls[k].name;
    }
    return ASC_STR_NULL;
}

static asc_err_t put_message(enc_t *e, size_t mi)
{
    const asc_msg_t *m = &e->req->msgs[mi];
    asc_err_t rc;
    int has_text = 0;
    for (size_t i = 0; i < m->nparts; i++)
        has_text |= m->parts[i].type == ASC_PART_TEXT;
    switch (m->role) {
    case ASC_ROLE_SYSTEM:
        rc = check_parts(e, mi, 0, "system messages");
        if (rc != ASC_OK)
            return rc;
        w_puts(e, "{\"role\":\"system\",");
        put_content(e, m);
        put_name(e, m);
        break;
    case ASC_ROLE_USER:
        rc = check_parts(e, mi, 1, "user messages");
        if (rc != ASC_OK)
            return rc;
        w_puts(e, "{\"role\":\"user\",");
        put_content(e, m);
        put_name(e, m);
        break;
    case ASC_ROLE_ASSISTANT:
        if (is_mistral(e) && mi + 1 == e->req->nmsgs)
            return unsupported(e, "messages",
                               "a final assistant message (prefill) is not supported by this "
                               "provider; the last message must be from the user or a tool");
        rc = check_parts(e, mi, 0, "assistant messages");
        if (rc != ASC_OK)
            return rc;
        w_puts(e, "{\"role\":\"assistant\"");
        if (m->ntool_calls > 0 && !has_text) {
            /* OpenAI: content null next to tool calls; Mistral: omitted */
            if (!is_mistral(e))
                w_puts(e, ",\"content\":null");
        } else {
            w_putc(e, ',');
            put_content(e, m);
        }
        put_name(e, m);
        if (m->ntool_calls > 0)
            put_tool_calls(e, m);
        break;
    case ASC_ROLE_TOOL:
        /* Mistral takes images in tool results; OpenAI only text */
        rc = check_parts(e, mi, is_mistral(e), "tool results");
        if (rc != ASC_OK)
            return rc;
        w_puts(e, "{\"role\":\"tool\",\"tool_call_id\":");
        put_tool_id(e, m->tool_call_id);
        w_putc(e, ',');
        put_content(e, m);
        if (m->is_error)
            drop(e, "is_error"); /* the result text says what went wrong */
        if (is_mistral(e)) {
            asc_str_t name = asc_str_set(m->name) ? m->name : tool_name_for(e, mi, m->tool_call_id);
            if (asc_str_set(name)) {
                w_puts(e, ",\"name\":");
                w_str(e, name);
            }
        } else if (asc_str_set(m->name)) {
            drop(e, "name");
        }
        break;
    default: snprintf(e->err, e->errlen, "messages[%zu]: unknown role", mi); return ASC_EINVAL;
    }
    w_putc(e, '}');
    return ASC_OK;
}

/* ---- tools, format, hints ----------------------------------------------- */

static void put_tools(enc_t *e)
{
    const asc_chat_req_t *r = e->req;
    w_puts(e, ",\"tools\":[");
    for (size_t i = 0; i < r->ntools; i++) {
        const asc_tool_t *t = &r->tools[i];
        if (i > 0)
            w_putc(e, ',');
        w_puts(e, "{\"type\":\"function\",\"function\":{\"name\":");
        w_str(e, t->name);
        if (asc_str_set(t->description)) {
            w_puts(e, ",\"description\":");
            w_str(e, t->description);
        }
        if (asc_str_set(t->parameters) && t->parameters.n > 0) {
            w_puts(e, ",\"parameters\":");
            w_raw(e, t->parameters);
        } else if (is_mistral(e)) {
            /* required by Mistral; absent means no arguments */
            w_puts(e, ",\"parameters\":{\"type\":\"object\",\"properties\":{}}");
        }
        if (t->strict >= 0)
            w_puts(e, t->strict ? ",\"strict\":true" : ",\"strict\":false");
        w_puts(e, "}}");
    }
    w_putc(e, ']');
    switch (r->tool_choice) {
    case ASC_TOOL_CHOICE_AUTO: w_puts(e, ",\"tool_choice\":\"auto\""); break;
    case ASC_TOOL_CHOICE_NONE: w_puts(e, ",\"tool_choice\":\"none\""); break;
    case ASC_TOOL_CHOICE_REQUIRED:
        w_puts(e, is_mistral(e) ? ",\"tool_choice\":\"any\"" : ",\"tool_choice\":\"required\"");
        break;
    case ASC_TOOL_CHOICE_FUNCTION:
        w_puts(e, ",\"tool_choice\":{\"type\":\"function\",\"function\":{\"name\":");
        w_str(e, r->tool_choice_name);
        w_puts(e, "}}");
        break;
    default: break;
    }
    if (r->parallel_tool_calls >= 0)
        w_puts(e, r->parallel_tool_calls ? ",\"parallel_tool_calls\":true"
                                         : ",\"parallel_tool_calls\":false");
}

static void put_format(enc_t *e)
{
    const asc_chat_req_t *r = e->req;
    if (r->format == ASC_FORMAT_JSON_OBJECT ||
        (r->format == ASC_FORMAT_JSON_SCHEMA && !asc_str_set(r->format_schema))) {
        w_puts(e, ",\"response_format\":{\"type\":\"json_object\"}");
    } else if (r->format == ASC_FORMAT_JSON_SCHEMA) {
        w_puts(e, ",\"response_format\":{\"type\":\"json_schema\",\"json_schema\":{\"name\":");
        if (asc_str_set(r->format_name) && r->format_name.n > 0)
            w_str(e, r->format_name);
        else
            w_puts(e, "\"response\"");
        w_puts(e, ",\"schema\":");
        w_raw(e, r->format_schema);
        if (r->format_strict >= 0)
            w_puts(e, r->format_strict ? ",\"strict\":true" : ",\"strict\":false");
        w_puts(e, "}}");
    }
}

static asc_str_t trim(asc_str_t s)
{
    while (s.n > 0 && (s.p[0] == ' ' || s.p[0] == '\t' || s.p[0] == '\n' || s.p[0] == '\r'))
        s.p++, s.n--;
    while (s.n > 0 && (s.p[s.n - 1] == ' ' || s.p[s.n - 1] == '\t' || s.p[s.n - 1] == '\n' ||
                       s.p[s.n - 1] == '\r'))
        s.n--;
    return s;
}

/* reasoning_effort from the canonical reasoning hint: a JSON string is the
 * effort itself; an object (Responses `reasoning`) gives its `effort`, and
 * its other members (summary...) are dropped. */
static void put_reasoning(enc_t *e)
{
    asc_str_t r = trim(e->req->reasoning);
    if (r.n == 0)
        return;
    if (r.p[0] != '{' && r.p[0] != '"') {
        if (asc_str_eq(r, "null"))
            return;
        w_puts(e, ",\"reasoning_effort\":"); /* a bare effort word */
        w_str(e, r);
        return;
    }
    asc_json_t j;
    asc_json_limits_t lim;
    asc_json_limits_default(&lim);
    lim.max_tokens = 256;
    if (asc_json_parse(e->pool, r.p, r.n, &lim, &j, NULL, 0) != ASC_OK) {
        drop(e, "reasoning");
        return;
    }
    int t = 0;
    if (j.tok[0].type == ASC_JSON_OBJECT) {
        t = asc_json_obj_get(&j, 0, "effort");
        if (j.tok[0].size > (t >= 0 ? 1 : 0))
            drop(e, "reasoning");
    }
    if (t < 0 || j.tok[t].type != ASC_JSON_STRING) {
        if (t >= 0 && j.tok[t].type != ASC_JSON_NULL)
            drop(e, "reasoning");
        return;
    }
    size_t s, en;
    asc_json_value_range(&j, t, &s, &en);
    w_puts(e, ",\"reasoning_effort\":");
    w_append(e, r.p + s, en - s);
}

/* Anthropic thinking: {"type":"disabled"} asks for nothing. */
static int thinking_requested(const enc_t *e)
{
    asc_str_t t = trim(e->req->thinking);
    if (t.n == 0 || asc_str_eq(t, "null"))
        return 0;
    asc_json_t j;
    asc_json_limits_t lim;
    asc_json_limits_default(&lim);
    lim.max_tokens = 256;
    lim.root_object = 1;
    if (asc_json_parse(e->pool, t.p, t.n, &lim, &j, NULL, 0) != ASC_OK)
        return 1;
    int ty = asc_json_obj_get(&j, 0, "type");
    return !(ty >= 0 && asc_json_str_eq(&j, ty, "disabled"));
}

/* user, metadata, reasoning: hints. Mistral has no `user` and its
 * `metadata` is not OpenAI's; both are dropped there. */
static void put_hints(enc_t *e)
{
    const asc_chat_req_t *r = e->req;
    if (asc_str_set(r->user)) {
        if (is_mistral(e)) {
            drop(e, "user");
        } else {
            w_puts(e, ",\"user\":");
            w_str(e, r->user);
        }
    }
    if (asc_str_set(r->metadata) && trim(r->metadata).n > 0 &&
        !asc_str_eq(trim(r->metadata), "null")) {
        if (is_mistral(e)) {
            drop(e, "metadata");
        } else {
            w_puts(e, ",\"metadata\":");
            w_raw(e, r->metadata);
        }
    }
    if (asc_str_set(r->reasoning))
        put_reasoning(e);
}

/* ---- the body ----------------------------------------------------------- */

asc_err_t asc_openai_canon_encode(asc_oai_profile_t profile, const asc_chat_req_t *req,
                                  const char *upstream_model, asc_pool_t *pool, asc_buf_t *out,
                                  char *err, size_t errlen)
{
    char scratch[8];
    enc_t e;
    memset(&e, 0, sizeof e);
    e.profile = profile;
    e.kind = profile_kind(profile);
    e.req = req;
    e.pool = pool;
    e.out = out;
    e.err = err != NULL && errlen > 0 ? err : scratch;
    e.errlen = err != NULL && errlen > 0 ? errlen : sizeof scratch;
    e.err[0] = '\0';
    size_t start = out->len;
    asc_err_t rc = ASC_OK;

    /* Parameters with no equivalent that would change the answer. */
    if (req->has_top_k) {
        rc = unsupported(&e, "top_k", "not supported by this provider (it has no top-k sampling)");
        goto out;
    }
    if (asc_str_set(req->thinking) && thinking_requested(&e)) {
        rc = unsupported(&e, "thinking",
                         "Anthropic extended thinking is not supported by this provider");
        goto out;
    }
    if (req->nmsgs == 0) {
        snprintf(e.err, e.errlen, "messages: at least one message is required");
        rc = ASC_EINVAL;
        goto out;
    }
    if (is_mistral(&e)) {
        rc = build_idmap(&e);
        if (rc != ASC_OK) {
            snprintf(e.err, e.errlen, "messages: too many tool calls");
            goto out;
        }
    }

    w_puts(&e, "{\"model\":\"");
    w_esc(&e, upstream_model, strlen(upstream_model));
    w_puts(&e, "\",\"messages\":[");
    for (size_t i = 0; i < req->nmsgs; i++) {
        if (i > 0)
            w_putc(&e, ',');
        rc = put_message(&e, i);
        if (rc != ASC_OK)
            goto out;
    }
    w_putc(&e, ']');

    /* tool_choice and parallel_tool_calls mean nothing without tools (and
     * OpenAI refuses them there) */
    if (req->ntools > 0)
        put_tools(&e);
    put_format(&e);
    if (req->nstop > 0) {
        w_puts(&e, ",\"stop\":[");
        for (size_t i = 0; i < req->nstop; i++) {
            if (i > 0)
                w_putc(&e, ',');
            w_str(&e, req->stop[i]);
        }
        w_putc(&e, ']');
    }
    if (req->has_temperature) {
        w_puts(&e, ",\"temperature\":");
        w_double(&e, req->temperature);
    }
    if (req->has_top_p) {
        w_puts(&e, ",\"top_p\":");
        w_double(&e, req->top_p);
    }
    if (req->has_max_tokens) {
        /* OpenAI: max_completion_tokens (max_tokens is refused by its
         * reasoning models); the others only know max_tokens */
        w_puts(&e, profile == ASC_OAI_OPENAI ? ",\"max_completion_tokens\":" : ",\"max_tokens\":");
        w_int(&e, req->max_tokens);
    }
    if (req->has_seed) {
        w_puts(&e, is_mistral(&e) ? ",\"random_seed\":" : ",\"seed\":");
        w_int(&e, req->seed);
    }
    put_hints(&e);
    if (req->stream) {
        /* Mistral refuses stream_options (422) and reports usage in its
         * last chunk anyway; everyone else is asked for it so it is never
         * lost. */
        w_puts(&e, is_mistral(&e) ? ",\"stream\":true"
                                  : ",\"stream\":true,\"stream_options\":{\"include_usage\":true}");
    }
    w_putc(&e, '}');
    if (e.full) {
        rc = ASC_ETOOBIG;
        snprintf(e.err, e.errlen, "the upstream request is too large");
        goto out;
    }
    if (e.dropped[0] != '\0')
        snprintf(e.err, e.errlen, "dropped: %s", e.dropped);
out:
    if (rc != ASC_OK && out->data != NULL) {
        out->len = start;
        out->data[start] = '\0';
    }
    return rc;
}

/*
 * Anthropic Messages response → canonical response, and the helpers the
 * stream decoder shares (stop reasons, usage).
 *
 * Content blocks other than text and tool_use (thinking, redacted_thinking,
 * server tool blocks and their results) have no canonical form and are
 * skipped; citations on text blocks are skipped too.
 */
#include <string.h>

#include "provider/anthropic_int.h"

/* Token counts beyond this are not believed (and sums of three cannot
 * overflow). */
#define USAGE_MAX ((int64_t)1 << 60)

asc_finish_t asc_provider_anthropic_finish(const asc_json_t *j, int t)
{
    static const struct {
        const char *name;
        asc_finish_t f;
    } map[] = {
        {"end_turn", ASC_FINISH_STOP},
        {"max_tokens", ASC_FINISH_LENGTH},
        {"stop_sequence", ASC_FINISH_STOP_SEQUENCE},
        {"tool_use", ASC_FINISH_TOOL_CALLS},
        {"refusal", ASC_FINISH_CONTENT_FILTER},
        {"pause_turn", ASC_FINISH_PAUSE},
        /* the context window ended the answer: a length cut to the client */
        {"model_context_window_exceeded", ASC_FINISH_LENGTH},
    };
    if (t < 0 || j->tok[t].type != ASC_JSON_STRING)
        return ASC_FINISH_NONE;
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++) {
        if (asc_json_str_eq(j, t, map[i].name))
            return map[i].f;
    }
    return ASC_FINISH_STOP;
}

static void read_count(const asc_json_t *j, int u, const char *key, int64_t *v)
{
    int64_t x;
    int t = asc_json_obj_get(j, u, key);
    if (t >= 0 && asc_json_get_int(j, t, &x) == ASC_OK && x >= 0 && x <= USAGE_MAX)
        *v = x;
}

void asc_provider_anthropic_read_usage(const asc_json_t *j, int u,
                                       asc_provider_anthropic_usage_t *out)
{
    if (u < 0 || j->tok[u].type != ASC_JSON_OBJECT)
        return;
    out->present = 1;
    read_count(j, u, "input_tokens", &out->input);
    read_count(j, u, "output_tokens", &out->output);
    read_count(j, u, "cache_read_input_tokens", &out->cache_read);
    read_count(j, u, "cache_creation_input_tokens", &out->cache_write);
}

asc_canon_usage_t asc_provider_anthropic_canon_usage(const asc_provider_anthropic_usage_t *u)
{
    asc_canon_usage_t c;
    memset(&c, 0, sizeof c);
    c.present = u->present;
    c.input_tokens = u->input + u->cache_read + u->cache_write;
    c.cached_tokens = u->cache_read;
    c.cache_write_tokens = u->cache_write;
    c.output_tokens = u->output;
    return c;
}

asc_err_t asc_provider_anthropic_str(const asc_json_t *j, int t, asc_pool_t *pool, asc_str_t *out)
{
    char *p;
    size_t n;
    *out = ASC_STR_NULL;
    if (t < 0 || j->tok[t].type != ASC_JSON_STRING)
        return ASC_OK;
    asc_err_t rc = asc_json_str_dup(j, t, pool, &p, &n);
    if (rc != ASC_OK)
        return rc;
    *out = (asc_str_t){p, n};
    return ASC_OK;
}

/* Concatenated text of every text block (NULL when there is none). */
static asc_err_t collect_text(const asc_json_t *j, int content, asc_pool_t *pool, asc_str_t *out)
{
    size_t cap = 0;
    int any = 0;
    *out = ASC_STR_NULL;
    for (int i = 0, b = content + 1; i < j->tok[content].size; i++, b = asc_json_skip(j, b)) {
        int ty = asc_json_obj_get(j, b, "type");
        int tx = asc_json_obj_get(j, b, "text");
        if (asc_json_str_eq(j, ty, "text") && tx >= 0 && j->tok[tx].type == ASC_JSON_STRING) {
            cap += (size_t)(j->tok[tx].end - j->tok[tx].start);
            any = 1;
        }
    }
    if (!any)
        return ASC_OK;
    char *d = asc_pool_alloc_n(pool, cap + 1);
    if (d == NULL)
        return ASC_ETOOBIG;
    size_t n = 0;
    for (int i = 0, b = content + 1; i < j->tok[content].size; i++, b = asc_json_skip(j, b)) {
        int ty = asc_json_obj_get(j, b, "type");
        int tx = asc_json_obj_get(j, b, "text");
        if (asc_json_str_eq(j, ty, "text") && tx >= 0 && j->tok[tx].type == ASC_JSON_STRING)
            n += asc_json_unescape(j->text + j->tok[tx].start,
                                   (size_t)(j->tok[tx].end - j->tok[tx].start), d + n);
    }
    d[n] = '\0';
    *out = (asc_str_t){d, n};
    return ASC_OK;
}

/* Every tool_use block as a canonical call; the input object's JSON text is
 * kept verbatim as the arguments. */
static asc_err_t collect_calls(const asc_json_t *j, int content, asc_pool_t *pool,
                               asc_chat_resp_t *out)
{
    size_t n = 0;
    for (int i = 0, b = content + 1; i < j->tok[content].size; i++, b = asc_json_skip(j, b)) {
        if (asc_json_str_eq(j, asc_json_obj_get(j, b, "type"), "tool_use"))
            n++;
    }
    if (n == 0)
        return ASC_OK;
    asc_tool_call_t *calls = asc_pool_alloc_n(pool, n * sizeof *calls);
    if (calls == NULL)
        return ASC_ETOOBIG;
    size_t k = 0;
    for (int i = 0, b = content + 1; i < j->tok[content].size; i++, b = asc_json_skip(j, b)) {
        if (!asc_json_str_eq(j, asc_json_obj_get(j, b, "type"), "tool_use"))
            continue;
        asc_tool_call_t *c = &calls[k++];
        int id = asc_json_obj_get(j, b, "id");
        int name = asc_json_obj_get(j, b, "name");
        int input = asc_json_obj_get(j, b, "input");
        if (id < 0 || j->tok[id].type != ASC_JSON_STRING || name < 0 ||
            j->tok[name].type != ASC_JSON_STRING)
            return ASC_EINVAL;
        asc_err_t rc = asc_provider_anthropic_str(j, id, pool, &c->id);
        if (rc == ASC_OK)
            rc = asc_provider_anthropic_str(j, name, pool, &c->name);
        if (rc != ASC_OK)
            return rc;
        if (input >= 0 && j->tok[input].type == ASC_JSON_OBJECT) {
            size_t s, e;
            asc_json_value_range(j, input, &s, &e);
            char *a = asc_pool_alloc_n(pool, e - s + 1);
            if (a == NULL)
                return ASC_ETOOBIG;
            memcpy(a, j->text + s, e - s);
            a[e - s] = '\0';
            c->arguments = (asc_str_t){a, e - s};
        } else {
            c->arguments = (asc_str_t){"{}", 2};
        }
    }
    out->tool_calls = calls;
    out->ntool_calls = n;
    return ASC_OK;
}

asc_err_t asc_provider_anthropic_decode_chat(asc_pool_t *pool, const char *body, size_t len,
                                             asc_chat_resp_t *out)
{
    asc_json_t j;
    asc_json_limits_t lim;
    asc_err_t rc;
    memset(out, 0, sizeof *out);
    asc_json_limits_default(&lim);
    lim.root_object = 1;
    rc = asc_json_parse(pool, body, len, &lim, &j, NULL, 0);
    if (rc != ASC_OK)
        return rc == ASC_ETOOBIG ? ASC_ETOOBIG : ASC_EINVAL;
    int type = asc_json_obj_get(&j, 0, "type");
    int content = asc_json_obj_get(&j, 0, "content");
    if ((type >= 0 && !asc_json_str_eq(&j, type, "message")) || content < 0 ||
        j.tok[content].type != ASC_JSON_ARRAY)
        return ASC_EINVAL;
    for (int i = 0, b = content + 1; i < j.tok[content].size; i++, b = asc_json_skip(&j, b)) {
        if (j.tok[b].type != ASC_JSON_OBJECT)
            return ASC_EINVAL;
    }
    rc = asc_provider_anthropic_str(&j, asc_json_obj_get(&j, 0, "id"), pool, &out->id);
    if (rc == ASC_OK)
        rc = asc_provider_anthropic_str(&j, asc_json_obj_get(&j, 0, "model"), pool, &out->model);
    if (rc == ASC_OK)
        rc = collect_text(&j, content, pool, &out->text);
    if (rc == ASC_OK)
        rc = collect_calls(&j, content, pool, out);
    int sr = asc_json_obj_get(&j, 0, "stop_reason");
    out->finish = asc_provider_anthropic_finish(&j, sr);
    if (rc == ASC_OK && out->finish == ASC_FINISH_STOP_SEQUENCE)
        rc = asc_provider_anthropic_str(&j, asc_json_obj_get(&j, 0, "stop_sequence"), pool,
                                        &out->stop_sequence);
    if (rc != ASC_OK) {
        memset(out, 0, sizeof *out);
        return rc;
    }
    asc_provider_anthropic_usage_t u;
    memset(&u, 0, sizeof u);
    asc_provider_anthropic_read_usage(&j, asc_json_obj_get(&j, 0, "usage"), &u);
    out->usage = asc_provider_anthropic_canon_usage(&u);
    return ASC_OK;
}

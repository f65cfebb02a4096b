#include "api/openai.h"

#include <stdio.h>
#include <string.h>

/* Fields through which other gateways let a client pick the upstream host or
 * credential (ADVERSARIAL #2). Refused at the top level and inside the
 * routing/provider option objects; legitimate inside messages and tools. */
static const char *const k_upstream_fields[] = {
    "api_base", "base_url", "api_key",        "api_version",      "custom_llm_provider",
    "host",     "endpoint", "azure_endpoint", "azure_deployment", "organization_url",
    "proxy",    "upstream", "upstream_url",   "target_url",       "litellm_params",
    NULL,
};
static const char *const k_option_objects[] = {
    "provider", "routing", "extra_body", "metadata", "extra_headers", "asc", NULL,
};

static int is_upstream_field(const asc_json_t *j, int key)
{
    for (int i = 0; k_upstream_fields[i] != NULL; i++)
        if (asc_json_str_eq(j, key, k_upstream_fields[i]))
            return 1;
    return 0;
}

/* The name of the first refused field found in object `obj`, or NULL. */
static const char *refused_field(const asc_json_t *j, int obj, int depth)
{
    int k = obj + 1;
    for (int m = 0; m < j->tok[obj].size; m++) {
        int v = k + 1;
        if (is_upstream_field(j, k)) {
            for (int i = 0; k_upstream_fields[i] != NULL; i++)
                if (asc_json_str_eq(j, k, k_upstream_fields[i]))
                    return k_upstream_fields[i];
        }
        if (depth == 0 && j->tok[v].type == ASC_JSON_OBJECT) {
            for (int i = 0; k_option_objects[i] != NULL; i++) {
                if (asc_json_str_eq(j, k, k_option_objects[i])) {
                    const char *f = refused_field(j, v, 1);
                    if (f != NULL)
                        return f;
                }
            }
        }
        k = asc_json_skip(j, v);
    }
    return NULL;
}

/* Bytes of text content in messages (strings and text parts), for token
 * estimates when an upstream reports no usage. */
static size_t message_text_bytes(const asc_json_t *j, int msgs)
{
    size_t total = 0;
    int end = asc_json_skip(j, msgs);
    for (int i = msgs + 1; i < end; i++) {
        const asc_json_tok_t *t = &j->tok[i];
        if (t->type == ASC_JSON_STRING && t->size == 0 && t->parent >= 0 &&
            j->tok[t->parent].type == ASC_JSON_STRING &&
            (asc_json_str_eq(j, t->parent, "content") || asc_json_str_eq(j, t->parent, "text")))
            total += (size_t)(t->end - t->start);
    }
    return total;
}

static size_t input_text_bytes(const asc_json_t *j, int input)
{
    if (j->tok[input].type == ASC_JSON_STRING)
        return (size_t)(j->tok[input].end - j->tok[input].start);
    size_t total = 0;
    int end = asc_json_skip(j, input);
    for (int i = input + 1; i < end; i++)
        if (j->tok[i].type == ASC_JSON_STRING)
            total += (size_t)(j->tok[i].end - j->tok[i].start);
        else if (j->tok[i].type == ASC_JSON_NUMBER)
            total += 4; /* one token id */
    return total;
}

const char *asc_api_upstream_field(const asc_json_t *j, int obj)
{
    return refused_field(j, obj, 0);
}

asc_err_t asc_api_openai_decode(asc_pool_t *pool, asc_op_t op, const char *body, size_t len,
                                asc_api_request_t *out, char *err, size_t errlen)
{
    asc_json_limits_t lim;
    asc_json_limits_default(&lim);
    lim.root_object = 1;
    memset(out, 0, sizeof *out);
    out->op = op;
    out->t_stream_options = -1;
    out->t_include_usage = -1;
    out->max_tokens = -1;
    char jerr[160];
    asc_err_t e = asc_json_parse(pool, body, len, &lim, &out->doc, jerr, sizeof jerr);
    if (e != ASC_OK) {
        snprintf(err, errlen, "invalid JSON body: %s", jerr);
        return e;
    }
    const asc_json_t *j = &out->doc;
    const char *refused = asc_api_upstream_field(j, 0);
    if (refused != NULL) {
        snprintf(err, errlen,
                 "%s: choosing the upstream from the request is not allowed; upstreams come "
                 "only from the gateway's configuration",
                 refused);
        return ASC_EINVAL;
    }
    int t = asc_json_obj_get(j, 0, "model");
    if (t < 0 || j->tok[t].type != ASC_JSON_STRING) {
        snprintf(err, errlen, "model: %s", t < 0 ? "required" : "must be a string");
        return ASC_EINVAL;
    }
    if (asc_json_str_dup(j, t, pool, &out->model, &out->model_len) != ASC_OK ||
        out->model_len == 0 || out->model_len > 256 || strlen(out->model) != out->model_len) {
        snprintf(err, errlen, "model: must be a non-empty string of at most 256 characters");
        return ASC_EINVAL;
    }
    out->t_model = t;

    if (op == ASC_OP_EMBEDDINGS) {
        int in = asc_json_obj_get(j, 0, "input");
        if (in < 0 || (j->tok[in].type != ASC_JSON_STRING && j->tok[in].type != ASC_JSON_ARRAY) ||
            (j->tok[in].type == ASC_JSON_ARRAY && j->tok[in].size == 0)) {
            snprintf(err, errlen, "input: %s",
                     in < 0 ? "required" : "must be a string or a non-empty array");
            return ASC_EINVAL;
        }
        out->input_bytes = input_text_bytes(j, in);
        return ASC_OK;
    }

    int msgs = asc_json_obj_get(j, 0, "messages");
    if (msgs < 0 || j->tok[msgs].type != ASC_JSON_ARRAY || j->tok[msgs].size == 0) {
        snprintf(err, errlen, "messages: %s", msgs < 0 ? "required" : "must be a non-empty array");
        return ASC_EINVAL;
    }
    for (int m = 0; m < j->tok[msgs].size; m++) {
        int mi = asc_json_arr_get(j, msgs, m);
        int role =
            mi >= 0 && j->tok[mi].type == ASC_JSON_OBJECT ? asc_json_obj_get(j, mi, "role") : -1;
        if (role < 0 || j->tok[role].type != ASC_JSON_STRING) {
            snprintf(err, errlen, "messages[%d]: must be an object with a string \"role\"", m);
            return ASC_EINVAL;
        }
    }
    out->input_bytes = message_text_bytes(j, msgs);

    int s = asc_json_obj_get(j, 0, "stream");
    if (s >= 0) {
        asc_json_type_t ty = j->tok[s].type;
        if (ty != ASC_JSON_TRUE && ty != ASC_JSON_FALSE && ty != ASC_JSON_NULL) {
            snprintf(err, errlen, "stream: must be a boolean");
            return ASC_EINVAL;
        }
        out->stream = ty == ASC_JSON_TRUE;
    }
    int so = asc_json_obj_get(j, 0, "stream_options");
    if (so >= 0 && j->tok[so].type != ASC_JSON_NULL) {
        if (j->tok[so].type != ASC_JSON_OBJECT) {
            snprintf(err, errlen, "stream_options: must be an object");
            return ASC_EINVAL;
        }
        out->t_stream_options = so;
        int iu = asc_json_obj_get(j, so, "include_usage");
        if (iu >= 0) {
            asc_json_type_t ty = j->tok[iu].type;
            if (ty != ASC_JSON_TRUE && ty != ASC_JSON_FALSE) {
                snprintf(err, errlen, "stream_options.include_usage: must be a boolean");
                return ASC_EINVAL;
            }
            out->t_include_usage = iu;
            out->include_usage = ty == ASC_JSON_TRUE;
        }
    }
    static const char *const int_fields[] = {"max_tokens", "max_completion_tokens", "n",
                                             "seed",       "top_logprobs",          NULL};
    for (int i = 0; int_fields[i] != NULL; i++) {
        int ti = asc_json_obj_get(j, 0, int_fields[i]);
        if (ti < 0 || j->tok[ti].type == ASC_JSON_NULL)
            continue;
        int64_t v = 0;
        if (asc_json_get_int(j, ti, &v) != ASC_OK || (i < 3 && v < 1) || v > (int64_t)1 << 53) {
            snprintf(err, errlen, "%s: must be %s integer", int_fields[i],
                     i < 3 ? "a positive" : "an");
            return ASC_EINVAL;
        }
        if (i < 2)
            out->max_tokens = v;
    }
    static const char *const num_fields[] = {"temperature", "top_p", "presence_penalty",
                                             "frequency_penalty", NULL};
    for (int i = 0; num_fields[i] != NULL; i++) {
        int ti = asc_json_obj_get(j, 0, num_fields[i]);
        double d = 0;
        if (ti >= 0 && j->tok[ti].type != ASC_JSON_NULL &&
            asc_json_get_double(j, ti, &d) != ASC_OK) {
            snprintf(err, errlen, "%s: must be a finite number", num_fields[i]);
            return ASC_EINVAL;
        }
    }
    return ASC_OK;
}

/* OpenAI adapter: the inbound dialect is the provider's own, so requests are
 * spliced (model renamed, streamed usage requested) rather than rebuilt.
 * Other inbound dialects go through the canonical codec (openai_canon.c,
 * openai_decode.c). The openai-compatible table differs only in the
 * canonical encoder (max_tokens instead of max_completion_tokens). */
#include <stdio.h>
#include <string.h>

#include "json/json.h"
#include "provider/adapter.h"
#include "provider/openai_canon.h"

static asc_err_t auth_header(const char *secret, asc_buf_t *out)
{
    return asc_buf_printf(out, "Authorization: Bearer %s", secret);
}

/* Splice the upstream model name (and include_usage for streams). */
static asc_err_t splice_request(const asc_api_request_t *req, const char *upstream_model,
                                int want_usage, asc_buf_t *out)
{
    const asc_json_t *j = &req->doc;
    asc_json_edit_t ed[2];
    size_t ned = 0;
    asc_buf_t model;
    asc_buf_init(&model, 0);
    asc_buf_putc(&model, '"');
    asc_buf_json_str(&model, upstream_model, strlen(upstream_model));
    asc_buf_putc(&model, '"');
    size_t s, e;
    asc_json_value_range(j, req->t_model, &s, &e);
    ed[ned++] = (asc_json_edit_t){s, e, model.data, model.len};
    if (want_usage) {
        if (req->t_include_usage >= 0) {
            asc_json_value_range(j, req->t_include_usage, &s, &e);
            ed[ned++] = (asc_json_edit_t){s, e, "true", 4};
        } else if (req->t_stream_options >= 0) {
            size_t os, oe;
            asc_json_value_range(j, req->t_stream_options, &os, &oe);
            int empty = j->tok[req->t_stream_options].size == 0;
            ed[ned++] = empty ? (asc_json_edit_t){os + 1, os + 1, "\"include_usage\":true", 20}
                              : (asc_json_edit_t){os + 1, os + 1, "\"include_usage\":true,", 21};
        } else {
            /* after the root's '{' (the root has members: model at least) */
            size_t rs, re;
            asc_json_value_range(j, 0, &rs, &re);
            ed[ned++] = (asc_json_edit_t){rs + 1, rs + 1,
                                          "\"stream_options\":{\"include_usage\":true},", 40};
        }
    }
    asc_err_t rc = asc_json_splice(j->text, j->len, ed, ned, out);
    asc_buf_free(&model);
    return rc;
}

static asc_err_t chat_request(const asc_api_request_t *req, const char *upstream_model,
                              asc_buf_t *out, char *err, size_t errlen)
{
    asc_err_t rc = splice_request(req, upstream_model, req->stream, out);
    if (rc != ASC_OK)
        snprintf(err, errlen, "could not build the upstream request");
    return rc;
}

static asc_err_t embeddings_request(const asc_api_request_t *req, const char *upstream_model,
                                    asc_buf_t *out, char *err, size_t errlen)
{
    asc_err_t rc = splice_request(req, upstream_model, 0, out);
    if (rc != ASC_OK)
        snprintf(err, errlen, "could not build the upstream request");
    return rc;
}

static void read_usage(const asc_json_t *j, int u, asc_usage_t *usage)
{
    int64_t v;
    int t;
    if (u < 0 || j->tok[u].type != ASC_JSON_OBJECT)
        return;
    usage->present = 1;
    t = asc_json_obj_get(j, u, "prompt_tokens");
    if (t >= 0 && asc_json_get_int(j, t, &v) == ASC_OK)
        usage->prompt_tokens = v;
    t = asc_json_obj_get(j, u, "completion_tokens");
    if (t >= 0 && asc_json_get_int(j, t, &v) == ASC_OK)
        usage->completion_tokens = v;
    t = asc_json_obj_get(j, u, "total_tokens");
    if (t >= 0 && asc_json_get_int(j, t, &v) == ASC_OK)
        usage->total_tokens = v;
    else
        usage->total_tokens = usage->prompt_tokens + usage->completion_tokens;
    int d = asc_json_obj_get(j, u, "prompt_tokens_details");
    if (d >= 0 && j->tok[d].type == ASC_JSON_OBJECT) {
        t = asc_json_obj_get(j, d, "cached_tokens");
        if (t >= 0 && asc_json_get_int(j, t, &v) == ASC_OK)
            usage->cached_tokens = v;
    }
}

static void read_finish(const asc_json_t *j, int choices, char *fr, size_t frlen)
{
    if (choices < 0 || j->tok[choices].type != ASC_JSON_ARRAY || frlen == 0)
        return;
    for (int i = 0; i < j->tok[choices].size; i++) {
        int c = asc_json_arr_get(j, choices, i);
        int f = c >= 0 && j->tok[c].type == ASC_JSON_OBJECT
                    ? asc_json_obj_get(j, c, "finish_reason")
                    : -1;
        if (f >= 0 && j->tok[f].type == ASC_JSON_STRING) {
            size_t n = (size_t)(j->tok[f].end - j->tok[f].start);
            if (n >= frlen)
                n = frlen - 1;
            memcpy(fr, j->text + j->tok[f].start, n);
            fr[n] = '\0';
            return;
        }
    }
}

/* Bytes of generated text and tool arguments under token `from`. */
static size_t generated_bytes(const asc_json_t *j, int from)
{
    size_t total = 0;
    int end = asc_json_skip(j, from);
    for (int i = from + 1; i < end; i++) {
        const asc_json_tok_t *t = &j->tok[i];
        if (t->type == ASC_JSON_STRING && t->size == 0 && t->parent >= 0 &&
            (asc_json_str_eq(j, t->parent, "content") ||
             asc_json_str_eq(j, t->parent, "arguments") ||
             asc_json_str_eq(j, t->parent, "refusal")))
            total += (size_t)(t->end - t->start);
    }
    return total;
}

static asc_err_t parse_response(asc_pool_t *pool, const char *body, size_t len, asc_usage_t *usage,
                                char *finish_reason, size_t frlen, size_t *content_bytes)
{
    asc_json_t j;
    asc_json_limits_t lim;
    asc_json_limits_default(&lim);
    lim.root_object = 1;
    char jerr[64];
    memset(usage, 0, sizeof *usage);
    if (frlen)
        finish_reason[0] = '\0';
    if (asc_json_parse(pool, body, len, &lim, &j, jerr, sizeof jerr) != ASC_OK)
        return ASC_EINVAL;
    read_usage(&j, asc_json_obj_get(&j, 0, "usage"), usage);
    int choices = asc_json_obj_get(&j, 0, "choices");
    read_finish(&j, choices, finish_reason, frlen);
    *content_bytes = choices >= 0 ? generated_bytes(&j, choices) : 0;
    return ASC_OK;
}

static void copy_str(const asc_json_t *j, int t, char *out, size_t outlen)
{
    if (t < 0 || j->tok[t].type != ASC_JSON_STRING || outlen == 0)
        return;
    size_t n = (size_t)(j->tok[t].end - j->tok[t].start);
    char tmp[512];
    if (n > sizeof tmp)
        n = sizeof tmp;
    size_t dl = asc_json_unescape(j->text + j->tok[t].start, n, tmp);
    if (dl >= outlen)
        dl = outlen - 1;
    memcpy(out, tmp, dl);
    out[dl] = '\0';
}

static asc_err_t parse_stream_event(asc_pool_t *pool, const char *event, const char *data,
                                    size_t len, asc_stream_event_t *ev)
{
    memset(ev, 0, sizeof *ev);
    (void)event;
    if (len == 6 && memcmp(data, "[DONE]", 6) == 0) {
        ev->done = 1;
        return ASC_OK;
    }
    asc_json_t j;
    asc_json_limits_t lim;
    asc_json_limits_default(&lim);
    lim.root_object = 1;
    char jerr[64];
    if (asc_json_parse(pool, data, len, &lim, &j, jerr, sizeof jerr) != ASC_OK)
        return ASC_EINVAL;
    int e = asc_json_obj_get(&j, 0, "error");
    if (e >= 0 && j.tok[e].type == ASC_JSON_OBJECT) {
        ev->error = 1;
        copy_str(&j, asc_json_obj_get(&j, e, "message"), ev->error_message,
                 sizeof ev->error_message);
        copy_str(&j, asc_json_obj_get(&j, e, "code"), ev->error_code, sizeof ev->error_code);
        if (ev->error_code[0] == '\0')
            copy_str(&j, asc_json_obj_get(&j, e, "type"), ev->error_code, sizeof ev->error_code);
        return ASC_OK;
    }
    int choices = asc_json_obj_get(&j, 0, "choices");
    read_usage(&j, asc_json_obj_get(&j, 0, "usage"), &ev->usage);
    if (choices >= 0 && j.tok[choices].type == ASC_JSON_ARRAY) {
        if (j.tok[choices].size == 0 && ev->usage.present)
            ev->usage_only = 1;
        read_finish(&j, choices, ev->finish_reason, sizeof ev->finish_reason);
        ev->content_bytes = generated_bytes(&j, choices);
        for (int i = 0; i < j.tok[choices].size; i++) {
            int c = asc_json_arr_get(&j, choices, i);
            int d =
                c >= 0 && j.tok[c].type == ASC_JSON_OBJECT ? asc_json_obj_get(&j, c, "delta") : -1;
            if (d < 0 || j.tok[d].type != ASC_JSON_OBJECT)
                continue;
            int ct = asc_json_obj_get(&j, d, "content");
            int tc = asc_json_obj_get(&j, d, "tool_calls");
            if ((ct >= 0 && j.tok[ct].type == ASC_JSON_STRING && j.tok[ct].end > j.tok[ct].start) ||
                (tc >= 0 && j.tok[tc].type == ASC_JSON_ARRAY && j.tok[tc].size > 0))
                ev->content = 1;
        }
    }
    return ASC_OK;
}

static void classify_error(int status, const char *body, size_t len, asc_upstream_error_t *out)
{
    memset(out, 0, sizeof *out);
    /* The upstream's own message, when it has one, helps the client; it
     * never contains our credential for the statuses we relay (401/403 are
     * replaced below). */
    char msg[400] = "";
    asc_pool_t *pool = asc_pool_create(1 << 20);
    asc_json_t j;
    asc_json_limits_t lim;
    asc_json_limits_default(&lim);
    char jerr[64];
    int context = 0;
    if (body != NULL && len > 0 &&
        asc_json_parse(pool, body, len, &lim, &j, jerr, sizeof jerr) == ASC_OK &&
        j.tok[0].type == ASC_JSON_OBJECT) {
        int e = asc_json_obj_get(&j, 0, "error");
        int m = -1;
        if (e >= 0 && j.tok[e].type == ASC_JSON_OBJECT) {
            m = asc_json_obj_get(&j, e, "message");
            int c = asc_json_obj_get(&j, e, "code");
            if (c >= 0 && asc_json_str_eq(&j, c, "context_length_exceeded"))
                context = 1;
        } else {
            m = asc_json_obj_get(&j, 0, "message");
        }
        copy_str(&j, m, msg, sizeof msg);
    }
    asc_pool_destroy(pool);
    asc_upstream_error_classify(status, msg, context, 0, 0, out);
}

static asc_err_t encode_openai(const asc_chat_req_t *req, const char *upstream_model,
                               asc_pool_t *pool, asc_buf_t *out, char *err, size_t errlen)
{
    return asc_openai_canon_encode(ASC_OAI_OPENAI, req, upstream_model, pool, out, err, errlen);
}

static asc_err_t encode_compatible(const asc_chat_req_t *req, const char *upstream_model,
                                   asc_pool_t *pool, asc_buf_t *out, char *err, size_t errlen)
{
    return asc_openai_canon_encode(ASC_OAI_COMPATIBLE, req, upstream_model, pool, out, err, errlen);
}

const asc_adapter_t asc_adapter_openai = {
    .version = ASC_ADAPTER_VERSION,
    .kind = "openai",
    .chat_path = "/chat/completions",
    .embeddings_path = "/embeddings",
    .auth_header = auth_header,
    .chat_request = chat_request,
    .embeddings_request = embeddings_request,
    .parse_response = parse_response,
    .parse_stream_event = parse_stream_event,
    .classify_error = classify_error,
    .static_headers = NULL,
    .encode_chat = encode_openai,
    .decode_chat = asc_openai_canon_decode,
    .stream_state_size = sizeof(asc_oai_stream_t),
    .decode_stream = asc_openai_canon_stream,
};

/* Self-hosted servers (vLLM, llama.cpp, Ollama, TGI) and hosted
 * OpenAI-compatible APIs: the same wire format; many only know max_tokens,
 * and usage may be missing from streams (the gateway estimates it). */
const asc_adapter_t asc_adapter_openai_compatible = {
    .version = ASC_ADAPTER_VERSION,
    .kind = "openai-compatible",
    .chat_path = "/chat/completions",
    .embeddings_path = "/embeddings",
    .auth_header = auth_header,
    .chat_request = chat_request,
    .embeddings_request = embeddings_request,
    .parse_response = parse_response,
    .parse_stream_event = parse_stream_event,
    .classify_error = classify_error,
    .static_headers = NULL,
    .encode_chat = encode_compatible,
    .decode_chat = asc_openai_canon_decode,
    .stream_state_size = sizeof(asc_oai_stream_t),
    .decode_stream = asc_openai_canon_stream,
};

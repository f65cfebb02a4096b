/*
 * Mistral adapter (kind "mistral", https://api.mistral.ai). The wire format
 * is OpenAI-shaped, but Mistral refuses every field outside its published
 * schema with 422 (stream_options included), so there is no pass-through:
 * every chat request goes through the canonical encoder with the Mistral
 * profile (openai_canon.c), and embeddings bodies are rebuilt with only the
 * fields Mistral lists. Responses and streams decode with the shared
 * decoder (openai_decode.c), which reads Mistral's differences.
 */
#include <stdio.h>
#include <string.h>

#include "json/json.h"
#include "provider/adapter.h"
#include "provider/openai_canon.h"

static asc_err_t auth_header(const char *secret, asc_buf_t *out)
{
    return asc_buf_printf(out, "Authorization: Bearer %s", secret);
}

static void track(int *full, asc_err_t rc)
{
    if (rc != ASC_OK)
        *full = 1;
}

/* Mistral's EmbeddingRequest: model, input (a string or strings),
 * output_dimension, output_dtype, encoding_format ("float" | "base64"),
 * metadata. From an OpenAI body: dimensions -> output_dimension,
 * encoding_format kept (the OpenAI SDK asks for base64 by default and
 * Mistral serves it), user dropped (a hint), token-array input refused. */
static asc_err_t embeddings_request(const asc_api_request_t *req, const char *upstream_model,
                                    asc_buf_t *out, char *err, size_t errlen)
{
    const asc_json_t *j = &req->doc;
    size_t start = out->len;
    int full = 0;
    asc_err_t rc = ASC_OK;
    if (j->ntok < 1 || j->tok[0].type != ASC_JSON_OBJECT) {
        snprintf(err, errlen, "the request body must be a JSON object");
        return ASC_EINVAL;
    }
    track(&full, asc_buf_puts(out, "{\"model\":\""));
    track(&full, asc_buf_json_str(out, upstream_model, strlen(upstream_model)));
    track(&full, asc_buf_putc(out, '"'));
    for (int k = 1; k < j->ntok; k = asc_json_skip(j, k)) {
        int v = k + 1;
        size_t s, e;
        asc_json_value_range(j, v, &s, &e);
        if (asc_json_str_eq(j, k, "model") || asc_json_str_eq(j, k, "user") ||
            j->tok[v].type == ASC_JSON_NULL)
            continue;
        if (asc_json_str_eq(j, k, "input")) {
            int ok = j->tok[v].type == ASC_JSON_STRING;
            if (j->tok[v].type == ASC_JSON_ARRAY) {
                ok = j->tok[v].size > 0;
                for (int i = 0; ok && i < j->tok[v].size; i++)
                    ok = j->tok[asc_json_arr_get(j, v, i)].type == ASC_JSON_STRING;
            }
            if (!ok) {
                snprintf(err, errlen,
                         "input: Mistral embeddings take a string or an array of strings (token "
                         "arrays are not supported)");
                rc = ASC_EUNSUPPORTED;
                goto out;
            }
            track(&full, asc_buf_puts(out, ",\"input\":"));
        } else if (asc_json_str_eq(j, k, "dimensions")) {
            track(&full, asc_buf_puts(out, ",\"output_dimension\":"));
        } else if (asc_json_str_eq(j, k, "encoding_format")) {
            track(&full, asc_buf_puts(out, ",\"encoding_format\":"));
        } else {
            char name[64];
            size_t n = (size_t)(j->tok[k].end - j->tok[k].start);
            if (n >= sizeof name)
                n = sizeof name - 1;
            for (size_t i = 0; i < n; i++) {
                char c = j->text[j->tok[k].start + (int)i];
                name[i] = c >= 0x20 && c < 0x7f ? c : '?';
            }
            name[n] = '\0';
            snprintf(err, errlen, "%s: not supported by Mistral embeddings", name);
            rc = ASC_EUNSUPPORTED;
            goto out;
        }
        track(&full, asc_buf_append(out, j->text + s, e - s));
    }
    track(&full, asc_buf_putc(out, '}'));
    if (full) {
        snprintf(err, errlen, "the upstream request is too large");
        rc = ASC_ETOOBIG;
    }
out:
    if (rc != ASC_OK && out->data != NULL) {
        out->len = start;
        out->data[start] = '\0';
    }
    return rc;
}

/* Mistral's embeddings and chat responses carry OpenAI's usage fields. */
static asc_err_t parse_response(asc_pool_t *pool, const char *body, size_t len, asc_usage_t *usage,
                                char *finish_reason, size_t frlen, size_t *content_bytes)
{
    return asc_adapter_openai.parse_response(pool, body, len, usage, finish_reason, frlen,
                                             content_bytes);
}

/* Unescaped string token t into out (truncated, control characters as
 * spaces). */
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
    for (size_t i = 0; i < dl; i++)
        out[i] = (unsigned char)tmp[i] < 0x20 ? ' ' : tmp[i];
    out[dl] = '\0';
}

/* A 422 validation detail list ([{"type","loc":[...],"msg","input"}]) as
 * "messages.0.user.name: Extra inputs are not permitted; ...". */
static void format_detail(const asc_json_t *j, int d, char *out, size_t outlen)
{
    size_t used = 0;
    out[0] = '\0';
    if (d >= 0 && j->tok[d].type == ASC_JSON_STRING) {
        copy_str(j, d, out, outlen);
        return;
    }
    if (d < 0 || j->tok[d].type != ASC_JSON_ARRAY)
        return;
    for (int i = 0; i < j->tok[d].size && used + 8 < outlen; i++) {
        int x = asc_json_arr_get(j, d, i);
        if (x < 0 || j->tok[x].type != ASC_JSON_OBJECT)
            continue;
        char part[200] = "", item[64];
        size_t pl = 0;
        int loc = asc_json_obj_get(j, x, "loc");
        for (int k = 0; loc >= 0 && j->tok[loc].type == ASC_JSON_ARRAY && k < j->tok[loc].size;
             k++) {
            int l = asc_json_arr_get(j, loc, k);
            item[0] = '\0';
            if (j->tok[l].type == ASC_JSON_STRING)
                copy_str(j, l, item, sizeof item);
            else if (j->tok[l].type == ASC_JSON_NUMBER)
                snprintf(item, sizeof item, "%.*s", j->tok[l].end - j->tok[l].start,
                         j->text + j->tok[l].start);
            if (k == 0 && strcmp(item, "body") == 0)
                continue;
            int w = snprintf(part + pl, sizeof part - pl, "%s%s", pl ? "." : "", item);
            if (w < 0 || (size_t)w >= sizeof part - pl)
                break;
            pl += (size_t)w;
        }
        char msg[160] = "";
        copy_str(j, asc_json_obj_get(j, x, "msg"), msg, sizeof msg);
        int w = snprintf(out + used, outlen - used, "%s%s%s%s", used ? "; " : "", part,
                         pl ? ": " : "", msg[0] ? msg : "invalid");
        if (w < 0 || (size_t)w >= outlen - used) {
            out[outlen - 1] = '\0';
            break;
        }
        used += (size_t)w;
    }
}

/* Mistral errors: {"object":"error","message":<string, or {"detail":[...]}
 * for 422 validation errors>,"type","param","code"}; FastAPI's bare
 * {"detail":...}; an OpenAI-style {"error":{...}} from a proxy in front. */
static void classify_error(int status, const char *body, size_t len, asc_upstream_error_t *out)
{
    memset(out, 0, sizeof *out);
    char msg[400] = "";
    asc_pool_t *pool = asc_pool_create(1 << 20);
    asc_json_t j;
    asc_json_limits_t lim;
    asc_json_limits_default(&lim);
    lim.root_object = 1;
    if (body != NULL && len > 0 && asc_json_parse(pool, body, len, &lim, &j, NULL, 0) == ASC_OK) {
        int m = asc_json_obj_get(&j, 0, "message");
        int e = asc_json_obj_get(&j, 0, "error");
        int d = asc_json_obj_get(&j, 0, "detail");
        if (m >= 0 && j.tok[m].type == ASC_JSON_STRING)
            copy_str(&j, m, msg, sizeof msg);
        else if (m >= 0 && j.tok[m].type == ASC_JSON_OBJECT)
            format_detail(&j, asc_json_obj_get(&j, m, "detail"), msg, sizeof msg);
        else if (d >= 0)
            format_detail(&j, d, msg, sizeof msg);
        else if (e >= 0 && j.tok[e].type == ASC_JSON_OBJECT)
            copy_str(&j, asc_json_obj_get(&j, e, "message"), msg, sizeof msg);
        else if (e >= 0)
            copy_str(&j, e, msg, sizeof msg);
    }
    asc_pool_destroy(pool);
    /* "Prompt contains N tokens ... too large for model with M maximum
     * context length" */
    int context =
        strstr(msg, "context length") != NULL || strstr(msg, "too large for model") != NULL;
    asc_upstream_error_classify(status, msg, context, 0, 0, out);
}

static asc_err_t encode_chat(const asc_chat_req_t *req, const char *upstream_model,
                             asc_pool_t *pool, asc_buf_t *out, char *err, size_t errlen)
{
    return asc_openai_canon_encode(ASC_OAI_MISTRAL, req, upstream_model, pool, out, err, errlen);
}

const asc_adapter_t asc_adapter_mistral = {
    .version = ASC_ADAPTER_VERSION,
    .kind = "mistral",
    .chat_path = "/v1/chat/completions",
    .embeddings_path = "/v1/embeddings",
    .auth_header = auth_header,
    /* no chat pass-through: an OpenAI body would carry fields Mistral
     * refuses (stream_options, user, seed...) */
    .chat_request = NULL,
    .embeddings_request = embeddings_request,
    .parse_response = parse_response,
    .parse_stream_event = NULL,
    .classify_error = classify_error,
    .static_headers = NULL,
    .encode_chat = encode_chat,
    .decode_chat = asc_openai_canon_decode,
    .stream_state_size = sizeof(asc_oai_stream_t),
    .decode_stream = asc_openai_canon_stream,
};

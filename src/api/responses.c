/*
 * The OpenAI Responses inbound dialect table (POST /v1/responses). The
 * decoder is in responses_decode.c, the Response object in
 * responses_encode.c, the typed event stream in responses_stream.c; see
 * api/responses.h for the contract and docs/dialect-responses.md for every
 * field's mapping.
 */
#include "api/responses_int.h"

static void encode_response(const asc_chat_resp_t *resp, const char *model, asc_buf_t *out)
{
    asc_api_responses_encode(resp, model, NULL, out);
}

/* OpenAI's error body: {"error":{"message","type","param":null,"code"}}. */
static void error_body(int status, const char *code, const char *message, asc_buf_t *out)
{
    size_t mark = out->len;
    asc_rw_t w = {out, ASC_OK};
    rw_puts(&w, "{\"error\":{\"message\":");
    rw_cstr(&w, message != NULL ? message : "");
    rw_puts(&w, ",\"type\":");
    rw_cstr(&w, asc_api_resp_error_type(status));
    rw_puts(&w, ",\"param\":null,\"code\":");
    if (code != NULL)
        rw_cstr(&w, code);
    else
        rw_puts(&w, "null");
    rw_puts(&w, "}}");
    if (w.e != ASC_OK)
        asc_api_resp_rollback(out, mark);
}

const asc_dialect_t asc_dialect_openai_responses = {
    .version = ASC_DIALECT_VERSION,
    .name = "openai-responses",
    .decode = asc_api_resp_decode,
    .encode_response = encode_response,
    .stream_state_size = sizeof(asc_resp_stream_t),
    .stream_begin = asc_api_resp_stream_begin,
    .stream_event = asc_api_resp_stream_event,
    .stream_error = asc_api_resp_stream_error,
    .error_body = error_body,
    .stream_free = asc_api_responses_stream_free,
};

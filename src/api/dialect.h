/*
 * Inbound dialects: how a client speaks to asc. Each dialect is a const
 * table of pure functions that decode its request into the canonical model
 * (src/canon/canon.h) and encode canonical responses, stream events and
 * errors back into the client's own wire format. No I/O, no policy.
 *
 *   openai-chat        POST /v1/chat/completions
 *   openai-responses   POST /v1/responses
 *   anthropic          POST /v1/messages
 *
 * Stream encoders are stateful (content-block indexes, item ids, sequence
 * numbers): the caller allocates stream_state_size bytes (zeroed) per
 * request and passes them to every call.
 *
 * Ownership: inputs are borrowed; decoded strings live in the pool or point
 * into the body; output is appended to the caller's buffer.
 */
#ifndef ASC_API_DIALECT_H
#define ASC_API_DIALECT_H

#include <stddef.h>

#include "canon/canon.h"
#include "core/err.h"
#include "http/server.h"

#define ASC_DIALECT_VERSION 1

typedef struct asc_dialect {
    unsigned version;
    const char *name; /* "openai-chat", "openai-responses", "anthropic" */

    /* Decode and validate a request body. Unknown or unsupported fields that
     * would change the answer are ASC_EINVAL with a message naming the
     * field; req gives access to headers (anthropic-version, anthropic-beta).
     * The body was NOT parsed before: the decoder parses it strictly with
     * src/json (duplicate keys, UTF-8, depth) itself. */
    asc_err_t (*decode)(asc_pool_t *pool, const char *body, size_t len, const asc_http_req_t *req,
                        asc_chat_req_t *out, char *err, size_t errlen);

    /* A complete (non-streamed) response. `model` is the name the client
     * asked for. */
    void (*encode_response)(const asc_chat_resp_t *resp, const char *model, asc_buf_t *out);

    /* Streaming: state, then events as SSE bytes (complete events only,
     * with their terminating blank line). */
    size_t stream_state_size;
    void (*stream_begin)(void *state, const asc_chat_req_t *req, const char *model);
    void (*stream_event)(void *state, const asc_sev_t *ev, asc_buf_t *out);
    /* The stream failed after it started: the dialect's error event. After
     * it nothing more is written. */
    void (*stream_error)(void *state, int status, const char *code, const char *message,
                         asc_buf_t *out);

    /* An error response body in the dialect's format (DESIGN §6): OpenAI
     * {"error":{"message","type","param","code"}}, Anthropic
     * {"type":"error","error":{"type","message"}}. */
    void (*error_body)(int status, const char *code, const char *message, asc_buf_t *out);

    /* Release what the stream state holds on the heap, whatever point the
     * stream reached (client gone mid-way included). NULL = nothing to free. */
    void (*stream_free)(void *state);
} asc_dialect_t;

extern const asc_dialect_t asc_dialect_openai_chat;

struct asc_api_request;
/* The OpenAI chat dialect's canonical decode from a body that
 * asc_api_openai_decode() already parsed and checked (api borrowed; the
 * canonical request points into its body and pool): the gateway parses a
 * chat body once even when the route turns out to need translation. */
asc_err_t asc_api_openai_chat_canon(asc_pool_t *pool, const struct asc_api_request *api,
                                    asc_chat_req_t *out, char *err, size_t errlen);
extern const asc_dialect_t asc_dialect_openai_responses;
extern const asc_dialect_t asc_dialect_anthropic;

#endif

/*
 * Inbound OpenAI dialect: decode and validate /v1/chat/completions and
 * /v1/embeddings bodies. The body is parsed once, strictly (src/json: no
 * duplicate keys, valid UTF-8, bounded depth), so every later stage reads the
 * same values the provider will. Only the fields asc acts on are decoded;
 * the rest pass through to a provider of the same dialect untouched.
 *
 * Ownership: the request borrows the body text; strings are in the pool.
 */
#ifndef ASC_API_OPENAI_H
#define ASC_API_OPENAI_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "core/pool.h"
#include "json/json.h"

typedef enum { ASC_OP_CHAT = 1, ASC_OP_EMBEDDINGS } asc_op_t;

typedef struct asc_api_request {
    asc_op_t op;
    asc_json_t doc;
    char *model; /* as the client sent it */
    size_t model_len;
    int t_model;          /* token of the model value */
    int stream;           /* "stream": true */
    int t_stream_options; /* token of the stream_options object, or -1 */
    int t_include_usage;  /* token of stream_options.include_usage, or -1 */
    int include_usage;    /* the client asked for streamed usage */
    int64_t max_tokens;   /* max_tokens / max_completion_tokens, or -1 */
    size_t input_bytes;   /* bytes of message text (for estimates) */
} asc_api_request_t;

/* ADVERSARIAL #2, for every inbound dialect: the first field of the request
 * object `obj` (its top level, or inside its provider / routing /
 * extra_body / metadata / extra_headers / asc objects) through which a client
 * would choose the upstream host or credential (api_base, base_url,
 * api_key, ...), or NULL. Such words inside messages and tool schemas are
 * data and are not looked at. */
const char *asc_api_upstream_field(const asc_json_t *j, int obj);

/* Decode body[0..len) for `op`. On failure returns ASC_EINVAL with a message
 * for the client in err (names the field: "messages: must be a non-empty
 * array"), or ASC_ETOOBIG when the body is too complex for the limits. */
asc_err_t asc_api_openai_decode(asc_pool_t *pool, asc_op_t op, const char *body, size_t len,
                                asc_api_request_t *out, char *err, size_t errlen);

#endif

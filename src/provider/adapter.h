/*
 * Provider adapters: one const table of pure functions per provider kind
 * (SQLite's io_methods, curl's connection filters). An adapter translates and
 * classifies; it does no I/O, no retries and no policy. A NULL entry means
 * "not supported by this kind".
 *
 * Ownership: inputs are borrowed; outputs go into the caller's buffer or
 * pool.
 */
#ifndef ASC_PROVIDER_ADAPTER_H
#define ASC_PROVIDER_ADAPTER_H

#include <stddef.h>
#include <stdint.h>

#include "api/openai.h"
#include "canon/canon.h"
#include "core/buf.h"
#include "core/err.h"
#include "core/pool.h"

#define ASC_ADAPTER_VERSION 1

typedef struct {
    int64_t prompt_tokens;
    int64_t completion_tokens;
    int64_t cached_tokens;
    int64_t total_tokens;
    int present;   /* the provider reported usage */
    int estimated; /* counted locally */
} asc_usage_t;

/* What one streamed event means to the gateway. */
typedef struct {
    int done;             /* end-of-stream marker ("[DONE]") */
    int error;            /* an error object inside the stream */
    int content;          /* carries generated content (text or tool-call delta) */
    int usage_only;       /* a usage-only event the client did not ask for */
    size_t content_bytes; /* generated text + tool-argument bytes (for estimates) */
    char finish_reason[32];
    asc_usage_t usage;
    char error_message[256];
    char error_code[64];
} asc_stream_event_t;

/* Error classes: decide what the router may do and what the client sees. */
typedef enum {
    ASC_UPERR_NONE = 0,
    ASC_UPERR_CLIENT,     /* the request is wrong: relay as 4xx */
    ASC_UPERR_AUTH,       /* the gateway's credential was refused */
    ASC_UPERR_RATE_LIMIT, /* 429 */
    ASC_UPERR_OVERLOADED, /* 529 / 503 overloaded */
    ASC_UPERR_SERVER,     /* 5xx */
    ASC_UPERR_CONTEXT,    /* context length exceeded */
    ASC_UPERR_PROTOCOL,   /* unparseable response, redirect, ... */
} asc_uperr_class_t;

typedef struct {
    asc_uperr_class_t cls;
    int retryable;     /* same target may succeed later */
    int fallback;      /* another target may succeed */
    char message[512]; /* safe to show the client */
} asc_upstream_error_t;

typedef struct asc_adapter {
    unsigned version;
    const char *kind;
    const char *chat_path; /* appended to base_url */
    const char *embeddings_path;
    /* The credential header line ("Authorization: Bearer …"). */
    asc_err_t (*auth_header)(const char *secret, asc_buf_t *out);
    /* Upstream body for an OpenAI-dialect request, naming upstream_model.
     * For streams, usage is always requested. */
    asc_err_t (*chat_request)(const asc_api_request_t *req, const char *upstream_model,
                              asc_buf_t *out, char *err, size_t errlen);
    asc_err_t (*embeddings_request)(const asc_api_request_t *req, const char *upstream_model,
                                    asc_buf_t *out, char *err, size_t errlen);
    /* Usage (and validity) of a complete non-streamed response. ASC_EINVAL
     * when the body is not a valid response. */
    asc_err_t (*parse_response)(asc_pool_t *pool, const char *body, size_t len, asc_usage_t *usage,
                                char *finish_reason, size_t frlen, size_t *content_bytes);
    /* One SSE event of a streamed response. ASC_EINVAL when malformed. */
    asc_err_t (*parse_stream_event)(asc_pool_t *pool, const char *event, const char *data,
                                    size_t len, asc_stream_event_t *ev);
    /* Classify a non-2xx upstream response. */
    void (*classify_error)(int status, const char *body, size_t len, asc_upstream_error_t *out);

    /* ---- canonical translation (any inbound dialect) ------------------ */

    /* Extra fixed request headers ("anthropic-version: 2023-06-01"),
     * NULL-terminated, or NULL. */
    const char *const *static_headers;
    /* The upstream request body for a canonical request. A parameter the
     * provider cannot honour and that would change the answer is
     * ASC_EUNSUPPORTED with a message naming it (the client gets a 400);
     * hints that do not change the answer are dropped and named in
     * *dropped (comma-separated, for the execution record) when not NULL. */
    asc_err_t (*encode_chat)(const asc_chat_req_t *req, const char *upstream_model,
                             asc_pool_t *pool, asc_buf_t *out, char *err, size_t errlen);
    /* A complete upstream response into the canonical one. ASC_EINVAL when
     * it is not a valid response. */
    asc_err_t (*decode_chat)(asc_pool_t *pool, const char *body, size_t len, asc_chat_resp_t *out);
    /* Streaming: per-request state (zeroed by the caller), then one SSE
     * event at a time, emitting zero or more canonical events. The pool is
     * scratch, reset between events: emitted strings must be used (or
     * copied) before the emit callback returns. ASC_EINVAL on a malformed
     * event. */
    size_t stream_state_size;
    asc_err_t (*decode_stream)(void *state, asc_pool_t *pool, const char *event, const char *data,
                               size_t len, asc_sev_fn emit, void *ud);
} asc_adapter_t;

/* The shared status → class rules: `msg` is the provider's own message
 * (relayed except for 401/403), `context` marks a context-length overflow,
 * `overloaded` an overload reported under another status, `fallback_4xx`
 * a client error that another target may still serve (an unknown model). */
void asc_upstream_error_classify(int status, const char *msg, int context, int overloaded,
                                 int fallback_4xx, asc_upstream_error_t *out);

/* The adapter for a provider kind ("openai", "openai-compatible", "mock"),
 * or NULL when the kind has none yet. */
const asc_adapter_t *asc_adapter_for_kind(const char *kind);

extern const asc_adapter_t asc_adapter_openai;
extern const asc_adapter_t asc_adapter_openai_compatible;
extern const asc_adapter_t asc_adapter_anthropic;
extern const asc_adapter_t asc_adapter_mistral;

#endif

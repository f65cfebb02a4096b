/*
 * Translation between a client dialect and a provider adapter, as pure
 * functions over bytes: the proxy calls them with what the upstream sent,
 * and the golden-file tests call the very same functions with recorded
 * responses. Two modes:
 *
 *  - pass-through (OpenAI chat client, OpenAI-dialect upstream): the body is
 *    spliced, responses are relayed, streamed events forwarded as they are
 *    (minus the usage chunk asc asked for and the client did not);
 *  - canonical (every other pair): upstream → canonical → client dialect.
 *
 * Ownership: inputs borrowed; output appended to the caller's buffer.
 */
#ifndef ASC_GATEWAY_TRANSLATE_H
#define ASC_GATEWAY_TRANSLATE_H

#include "api/dialect.h"
#include "provider/adapter.h"
#include "provider/sse.h"

/* The record's name of a finish reason ("stop", "length", ...). */
const char *asc_translate_finish_name(asc_finish_t f);

/* Usage in the record's terms (prompt includes cached input). */
void asc_translate_usage(const asc_canon_usage_t *in, asc_usage_t *out);

/* Non-streamed canonical translation: upstream body → client body. On a
 * malformed upstream body returns ASC_EINVAL. usage/finish/gen_bytes are
 * reported for the execution record. */
asc_err_t asc_translate_response(const asc_adapter_t *a, const asc_dialect_t *d, asc_pool_t *pool,
                                 const char *body, size_t len, const char *model, asc_buf_t *out,
                                 asc_usage_t *usage, char *finish, size_t finishlen,
                                 size_t *gen_bytes);

/* A streamed translation in either mode. */
typedef struct {
    const asc_adapter_t *adapter;
    const asc_dialect_t *dialect; /* NULL in pass-through mode */
    int passthrough;
    int include_usage;     /* pass-through: forward the usage chunk */
    void *astate, *dstate; /* codec states (pool) */
    asc_pool_t *scratch;   /* reset per event */
    asc_buf_t *out;        /* client bytes are appended here */
    size_t input_bytes;    /* prompt text bytes, for an estimate */
    /* what the record needs */
    asc_usage_t usage;
    char finish[32];
    size_t gen_bytes;
    int first_content; /* set when the first content event was seen */
    int saw_done;
    int failed; /* an upstream error event ended the stream */
    int error_status;
    char error_code[32];
    char error_message[300];
} asc_xstream_t;

/* Prepare a stream: `pool` lives as long as the stream (request pool);
 * `out` receives client bytes. */
void asc_xstream_init(asc_xstream_t *x, const asc_adapter_t *a, const asc_dialect_t *d,
                      const asc_chat_req_t *req, const char *model, int passthrough,
                      int include_usage, asc_pool_t *pool, asc_buf_t *out);

/* One upstream SSE event. Returns ASC_OK (client bytes appended, maybe none),
 * ASC_EINVAL for a malformed event (nothing appended), or ASC_ECLOSED after
 * an upstream error event (x->failed, error_* set; the caller ends the
 * stream with the dialect's error event). */
asc_err_t asc_xstream_event(asc_xstream_t *x, const char *event, const char *data, size_t len);

/* The upstream ended cleanly without a done marker that the dialect needs
 * (Anthropic's message_stop, the Responses API's response.completed): let
 * the encoder close the stream if the upstream's FINISH was seen. Returns 1
 * when the stream could be completed, 0 when it was truncated. */
int asc_xstream_finish(asc_xstream_t *x);

/* The client-dialect error event for a failed stream. */
void asc_xstream_error(asc_xstream_t *x, int status, const char *code, const char *message);

void asc_xstream_free(asc_xstream_t *x);

#endif

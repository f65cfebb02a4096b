/*
 * Inbound OpenAI Responses dialect (POST /v1/responses): the table is
 * asc_dialect_openai_responses (api/dialect.h). This header adds what the
 * table cannot express.
 *
 * asc is a stateless gateway: previous_response_id, conversation, store:true,
 * background and stored prompts are refused; the client sends the whole
 * conversation as `input` items every time. docs/dialect-responses.md lists
 * every field and what happens to it.
 *
 * The stream encoder keeps the text and tool arguments generated so far
 * (the Responses protocol repeats them in the *.done events and in
 * response.completed), in heap buffers capped at ASC_RESPONSES_STREAM_CAP.
 * They are released when the stream ends (DONE, an ERROR event, or
 * stream_error); a stream abandoned before that must be released with
 * asc_api_responses_stream_free().
 *
 * Ownership: inputs are borrowed; output is appended to the caller's buffer.
 */
#ifndef ASC_API_RESPONSES_H
#define ASC_API_RESPONSES_H

#include "api/dialect.h"
#include "canon/canon.h"
#include "core/buf.h"

/* Bytes of generated text, tool arguments and finished output items one
 * stream may hold; past it the stream ends with an error event. */
#define ASC_RESPONSES_STREAM_CAP ((size_t)8 << 20)

/*
 * The Response object for a complete (non-streamed) answer, like the table's
 * encode_response, but echoing the request's settings (tools, tool_choice,
 * text.format, temperature, top_p, max_output_tokens, parallel_tool_calls,
 * reasoning effort, user, metadata) when req is not NULL; with req NULL
 * those fields hold the API's neutral values. `model` is the name the client
 * asked for. Appends to out; never fails except through out's own limit.
 */
void asc_api_responses_encode(const asc_chat_resp_t *resp, const char *model,
                              const asc_chat_req_t *req, asc_buf_t *out);

/*
 * Release the heap memory of a stream state (stream_state_size bytes given
 * to stream_begin). Idempotent; safe on a zeroed state and after the stream
 * ended by itself. Nothing is written. The state must not be used for
 * stream_event afterwards.
 */
void asc_api_responses_stream_free(void *state);

#endif

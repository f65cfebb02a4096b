/*
 * The canonical codec of the OpenAI Chat Completions wire format, shared by
 * the adapters whose upstreams speak it: openai, openai-compatible (and the
 * mock) and mistral. Private to src/provider: the adapters' tables in
 * openai.c and mistral.c point at these functions.
 *
 * One encoder serves all of them through a profile (what the upstream's
 * schema has: max_completion_tokens or max_tokens, seed or random_seed,
 * stream_options, 9-character tool-call ids...). The decoders are lenient in
 * the ways self-hosted servers and Mistral differ from OpenAI (content as an
 * array of chunks, missing ids, missing usage, finish_reason next to
 * content, whole tool calls in one chunk) and strict about JSON.
 *
 * Ownership: inputs are borrowed; the encoder appends to `out` and may take
 * scratch memory from `pool`; decoded strings live in `pool` or point into
 * the body.
 */
#ifndef ASC_PROVIDER_OPENAI_CANON_H
#define ASC_PROVIDER_OPENAI_CANON_H

#include <stddef.h>
#include <stdint.h>

#include "canon/canon.h"
#include "core/buf.h"
#include "core/err.h"
#include "core/pool.h"

typedef enum {
    ASC_OAI_OPENAI = 1, /* api.openai.com: max_completion_tokens */
    ASC_OAI_COMPATIBLE, /* vLLM, llama.cpp, Ollama, TGI...: max_tokens */
    ASC_OAI_MISTRAL,    /* api.mistral.ai: its own schema, 422 on anything else */
} asc_oai_profile_t;

/* Most tool calls one streamed response may open (more is a malformed
 * stream). */
#define ASC_OAI_MAX_STREAM_TOOLS 128

/* Per-stream decoder state; the caller zeroes it. */
typedef struct {
    int started;   /* START emitted */
    int finished;  /* FINISH emitted */
    int ended;     /* DONE or ERROR emitted: nothing more */
    int seeded;    /* seed set (from the first event) */
    int ntools;    /* canonical tool indexes handed out */
    int last_tool; /* canonical index + 1 of the call being streamed, 0 = none */
    int has_usage; /* usage seen and not yet emitted (it waits for FINISH) */
    asc_canon_usage_t usage;
    uint64_t seed; /* for ids the upstream did not send */
    /* upstream tool index -> canonical index + 1 (0 = not seen) */
    int16_t tool_map[ASC_OAI_MAX_STREAM_TOOLS];
    /* per canonical call: a hash of its id (0 = none), to tell a new call
     * from a repeated id */
    uint32_t tool_idh[ASC_OAI_MAX_STREAM_TOOLS];
} asc_oai_stream_t;

/*
 * Encode the canonical request `req` as a Chat Completions body for the
 * upstream described by `profile`, naming upstream_model, into `out`.
 *
 * A parameter the upstream cannot honour and that would change the answer
 * (top_k, Anthropic thinking, an image where the upstream takes none, an
 * assistant prefill for Mistral) fails with ASC_EUNSUPPORTED and a message
 * naming it in err. Hints that do not change the answer are dropped; on
 * success err holds "dropped: a, b" naming them, or "" when nothing was
 * dropped. ASC_ETOOBIG when out's limit refuses the body. `pool` is only
 * scratch (tool-id maps).
 */
asc_err_t asc_openai_canon_encode(asc_oai_profile_t profile, const asc_chat_req_t *req,
                                  const char *upstream_model, asc_pool_t *pool, asc_buf_t *out,
                                  char *err, size_t errlen);

/*
 * Decode a complete chat.completion body into *out (strings in pool or in
 * body). ASC_EINVAL when it is not a valid response (bad JSON, no choices,
 * an error object); ASC_EUPSTREAM when the upstream itself reports the
 * generation failed (Mistral finish_reason "error").
 */
asc_err_t asc_openai_canon_decode(asc_pool_t *pool, const char *body, size_t len,
                                  asc_chat_resp_t *out);

/*
 * Decode one SSE event (data[0..len), `event` the SSE event name or NULL)
 * of a streamed chat completion, emitting canonical events through emit.
 * `st` is an asc_oai_stream_t the caller zeroed before the first event.
 * Emitted strings live in pool (scratch) or data and are only valid during
 * the callback. ASC_EINVAL on a malformed event; when emit returns non-zero
 * decoding stops, ASC_OK is returned and later events are ignored. Events
 * after [DONE] or an error are ignored too.
 */
asc_err_t asc_openai_canon_stream(void *st, asc_pool_t *pool, const char *event, const char *data,
                                  size_t len, asc_sev_fn emit, void *ud);

/* The openai-compatible adapter (openai.c): the openai table with the
 * max_tokens encoder. Declared here until adapter.h lists it. */
struct asc_adapter;
extern const struct asc_adapter asc_adapter_openai_compatible;

/*
 * The Mistral form of a tool-call id: ids already made of exactly 9
 * characters of [a-zA-Z0-9] are kept, any other id becomes 9 base62
 * characters of a hash of it (deterministic: the same id always maps to the
 * same string, so an assistant tool call and the tool message answering it
 * still match). `salt` picks another hash when two ids of one request
 * collide (0 for the first try). out receives 9 characters and a NUL.
 */
void asc_mistral_tool_id(asc_str_t id, unsigned salt, char out[10]);

#endif

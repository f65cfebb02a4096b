/*
 * Internals of the inbound Anthropic Messages dialect (POST /v1/messages),
 * shared by its files: anthropic_decode.c (request top level, tools,
 * parameters), anthropic_content.c (messages and content blocks),
 * anthropic_util.c (decoder helpers), anthropic.c (canonical → Message,
 * stream events, errors, the table). Not for use outside
 * src/api/anthropic*.c, except where noted.
 */
#ifndef ASC_API_ANTHROPIC_INT_H
#define ASC_API_ANTHROPIC_INT_H

#include <stddef.h>

#include "api/dialect.h"
#include "json/json.h"

/* The dialect's decode entry (see asc_dialect_t.decode). `req` NULL means
 * "no HTTP context" (golden runner, fuzzer): the anthropic-version header
 * is then not checked. */
asc_err_t asc_anthropic_decode(asc_pool_t *pool, const char *body, size_t len,
                               const asc_http_req_t *req, asc_chat_req_t *out, char *err,
                               size_t errlen);

/* Release what a stream state holds on the heap (tool arguments buffered
 * while another tool block was open, the stop sequence). Safe to call more
 * than once and on a state that never held anything. The stream ends by
 * itself on DONE and on stream_error, but a stream abandoned before that
 * (client gone) must be freed with this; it belongs in the dialect table as
 * a stream_free member. */
void asc_anthropic_stream_free(void *state);

/* ---- decoder internals ------------------------------------------------- */

#define ASC_API_ANTH_PATH_LEN 96

/* One decode: the parsed body, the request being filled, the error buffer
 * and the canonical messages (cap is an exact upper bound computed before
 * decoding, so push never reallocates). */
typedef struct {
    asc_pool_t *pool;
    const asc_json_t *j;
    asc_chat_req_t *out;
    char *err;
    size_t errlen;
    asc_msg_t *msgs;
    size_t nmsgs, cap;
} asc_api_anth_ctx_t;

static inline asc_json_type_t ty(const asc_api_anth_ctx_t *c, int t)
{
    return c->j->tok[t].type;
}

static inline int is_null(const asc_api_anth_ctx_t *c, int t)
{
    return c->j->tok[t].type == ASC_JSON_NULL;
}

/* Element after element e of an array (walked, not indexed, so a long array
 * stays linear). */
static inline int next_elem(const asc_api_anth_ctx_t *c, int e)
{
    return asc_json_skip(c->j, e);
}

/* The raw JSON text of value t (points into the body). */
static inline asc_str_t raw_of(const asc_api_anth_ctx_t *c, int t)
{
    size_t s, e;
    asc_json_value_range(c->j, t, &s, &e);
    return (asc_str_t){c->j->text + s, e - s};
}

/* Write the client's error message; returns ASC_EINVAL. */
asc_err_t asc_api_anth_bad(asc_api_anth_ctx_t *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* The pool refused an allocation; returns ASC_ETOOBIG with a message. */
asc_err_t asc_api_anth_too_big(asc_api_anth_ctx_t *c);
/* "<path>.<key>: Extra inputs are not permitted" (Anthropic's wording). */
asc_err_t asc_api_anth_extra(asc_api_anth_ctx_t *c, const char *path, int key);
/* A JSON path for messages ("messages.3.content.1"); truncation only
 * shortens a message. */
void asc_api_anth_path(char *buf, size_t n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* String token t's raw bytes made printable and bounded (with "..."), for
 * error messages: client bytes never reach a message unfiltered. */
const char *asc_api_anth_printable(const asc_api_anth_ctx_t *c, int t, char *buf, size_t n);
/* Index in names[] (NULL-terminated) of key token k, or -1. */
int asc_api_anth_field(const asc_api_anth_ctx_t *c, int k, const char *const *names);
/* String token t: into the body when it has no escapes, else an unescaped
 * pool copy (ASC_ETOOBIG when the pool refuses). */
asc_err_t asc_api_anth_str(asc_api_anth_ctx_t *c, int t, asc_str_t *out);
/* A required non-empty string member value t (-1 = missing) of `path`. */
asc_err_t asc_api_anth_req_str(asc_api_anth_ctx_t *c, int t, const char *path, const char *name,
                               asc_str_t *out);
/* cache_control value t: null (absent) or an object, kept raw in *out. */
asc_err_t asc_api_anth_cache_control(asc_api_anth_ctx_t *c, int t, const char *path,
                                     asc_str_t *out);
/* The next canonical message, zeroed. */
asc_err_t asc_api_anth_push_msg(asc_api_anth_ctx_t *c, asc_msg_t **m);
/* n zeroed elements from the pool (for client-controlled counts), or NULL. */
void *asc_api_anth_alloc(asc_api_anth_ctx_t *c, size_t n, size_t size);

/* Messages (anthropic_content.c). */
/* An upper bound of the canonical messages the messages array `msgs` makes
 * (one per message, one more per content block). */
size_t asc_api_anth_msgs_bound(const asc_api_anth_ctx_t *c, int msgs);
/* Decode messages[idx] (token mi) into canonical messages. */
asc_err_t asc_api_anth_message(asc_api_anth_ctx_t *c, int mi, int idx);
/* Text-only content (string or text blocks) into msg: the system prompt and
 * system-role messages. */
asc_err_t asc_api_anth_text_content(asc_api_anth_ctx_t *c, int content, const char *path,
                                    asc_msg_t *msg);

#endif

/*
 * Internals shared by the Responses dialect files: a sticky-error writer
 * and the pieces of a Response object that the non-streamed encoder and the
 * stream encoder both build (so response.completed and a non-streamed
 * answer have exactly one shape).
 */
#ifndef ASC_API_RESPONSES_INT_H
#define ASC_API_RESPONSES_INT_H

#include <stdint.h>
#include <string.h>

#include "api/responses.h"

/* Appends to b until the first failure, then nothing more: the caller
 * checks e once and rolls back to a mark, so a buffer limit never leaves
 * half an event behind. */
typedef struct {
    asc_buf_t *b;
    asc_err_t e;
} asc_rw_t;

static inline void rw_put(asc_rw_t *w, const void *p, size_t n)
{
    if (w->e == ASC_OK)
        w->e = asc_buf_append(w->b, p, n);
}

static inline void rw_puts(asc_rw_t *w, const char *s)
{
    rw_put(w, s, strlen(s));
}

/* s as a JSON string with quotes; an absent s is the empty string. */
static inline void rw_str(asc_rw_t *w, const char *p, size_t n)
{
    rw_put(w, "\"", 1);
    if (w->e == ASC_OK && p != NULL)
        w->e = asc_buf_json_str(w->b, p, n);
    rw_put(w, "\"", 1);
}

static inline void rw_cstr(asc_rw_t *w, const char *s)
{
    rw_str(w, s, s != NULL ? strlen(s) : 0);
}

void asc_api_resp_int(asc_rw_t *w, int64_t v);
/* Shortest text that reads back as the same double. */
void asc_api_resp_double(asc_rw_t *w, double v);

/* Longest id core: "resp_" + core, "msg_" + core + "_" + n, ... */
#define ASC_RESP_CORE_MAX 48

/* The id core of a response from the upstream's id: a leading lowercase
 * prefix ending in '-' or '_' ("chatcmpl-", "msg_", "resp_") is dropped,
 * then only [A-Za-z0-9] is kept, at most ASC_RESP_CORE_MAX characters. An
 * id with nothing left gets a process-unique core. core must hold
 * ASC_RESP_CORE_MAX + 1 bytes. */
void asc_api_resp_core(asc_str_t id, char *core);

/* Where a finished response stands: status and incomplete reason. */
const char *asc_api_resp_status(asc_finish_t f);
const char *asc_api_resp_incomplete(asc_finish_t f); /* NULL when complete */

/* `{"id":"resp_<core>","object":"response","created_at":N,"status":S,`
 * `"background":false,"error":null,"incomplete_details":...,` */
void asc_api_resp_head(asc_rw_t *w, const char *core, int64_t created, const char *status,
                       const char *incomplete_reason);

/* The request echo before the output: `"instructions":null,`
 * `"max_output_tokens":..,"max_tool_calls":null,"model":"<model>",` */
void asc_api_resp_echo_head(asc_rw_t *w, const asc_chat_req_t *req, const char *model);
/* The request echo after the output (leading comma, no trailing one):
 * `,"parallel_tool_calls":..,"previous_response_id":null,"reasoning":{..},`
 * `"store":false,"temperature":..,"text":{..},"tool_choice":..,"tools":[..],`
 * `"top_p":..,"truncation":"disabled","user":..,"metadata":{..}` */
void asc_api_resp_echo_tail(asc_rw_t *w, const asc_chat_req_t *req);

/* `"usage":{...}` or `"usage":null` when the upstream reported none and none
 * was estimated. */
void asc_api_resp_usage(asc_rw_t *w, const asc_canon_usage_t *u);

/* Output item ids, deterministic from the core and the output index. */
void asc_api_resp_item_id(char *buf, size_t n, const char *prefix, const char *core, int index);

/* A message output item with one output_text part (and a refusal part when
 * refusal is set). */
void asc_api_resp_msg_item(asc_rw_t *w, const char *id, const char *status, asc_str_t text,
                           asc_str_t refusal);
/* The output_text content part. */
void asc_api_resp_text_part(asc_rw_t *w, asc_str_t text);
/* A function_call output item. */
void asc_api_resp_fc_item(asc_rw_t *w, const char *id, const char *status, asc_str_t call_id,
                          asc_str_t name, asc_str_t arguments);

/* Truncate b back to mark (after a failed write). */
void asc_api_resp_rollback(asc_buf_t *b, size_t mark);

/* The stream encoder's state (responses_stream.c). */
#define ASC_RESP_MAX_TOOLS 128 /* OpenAI's own limit on tools; a stream may not call more */

typedef struct {
    int index;        /* canonical tool_index */
    int output_index; /* -1 while buffered */
    char *id, *name;  /* heap copies */
    size_t id_len, name_len;
    char call[ASC_RESP_CORE_MAX + 32]; /* call_id made up when the upstream gave none */
    asc_buf_t args;
} asc_resp_tool_t;

typedef struct {
    int begun, started, ended;
    int64_t seq;
    int64_t created;
    int next_output; /* output_index of the next item */
    char core[ASC_RESP_CORE_MAX + 1];
    asc_buf_t echo_head, echo_tail; /* the request's settings, as JSON members */
    int msg_open, msg_index;
    asc_buf_t text;         /* text of the open message item */
    asc_buf_t tail;         /* text that came after a tool call started */
    asc_resp_tool_t *tools; /* in the order they started */
    size_t ntools, tcap;
    int live;          /* tools[] index of the open function_call item, or -1 */
    size_t tool_bytes; /* ids, names and arguments held */
    asc_buf_t items;   /* finished output items, comma-separated */
    asc_finish_t finish;
    asc_canon_usage_t usage;
} asc_resp_stream_t;

/* The stream encoder (responses_stream.c) and the decoder
 * (responses_decode.c), for the table in responses.c. */
void asc_api_resp_stream_begin(void *state, const asc_chat_req_t *req, const char *model);
void asc_api_resp_stream_event(void *state, const asc_sev_t *ev, asc_buf_t *out);
void asc_api_resp_stream_error(void *state, int status, const char *code, const char *message,
                               asc_buf_t *out);
asc_err_t asc_api_resp_decode(asc_pool_t *pool, const char *body, size_t len,
                              const asc_http_req_t *req, asc_chat_req_t *out, char *err,
                              size_t errlen);

/* The OpenAI error type for an HTTP status. */
const char *asc_api_resp_error_type(int status);

#endif

/*
 * The canonical chat model: one representation of a chat request, response
 * and stream that every inbound dialect decodes into and every provider
 * adapter encodes from (and back). Translation between N dialects and M
 * providers is then N + M tables instead of N × M.
 *
 * Memory: every asc_str_t and array in these structs lives in the pool the
 * decoder was given (or points into the request body, which outlives them).
 * Nothing here is freed individually. Strings are NOT NUL-terminated unless
 * stated; `p == NULL` means absent, `n == 0 && p != NULL` means empty.
 *
 * Raw JSON fields (tool parameters, tool arguments, json schemas, metadata)
 * hold JSON text exactly as received, already validated by the strict
 * parser; encoders copy them verbatim.
 */
#ifndef ASC_CANON_CANON_H
#define ASC_CANON_CANON_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/pool.h"

typedef struct {
    const char *p;
    size_t n;
} asc_str_t;

#define ASC_STR_NULL ((asc_str_t){NULL, 0})
#define asc_str_set(s) ((s).p != NULL)

typedef enum {
    ASC_ROLE_SYSTEM = 1, /* system and developer (OpenAI) */
    ASC_ROLE_USER,
    ASC_ROLE_ASSISTANT,
    ASC_ROLE_TOOL, /* a tool result */
} asc_role_t;

typedef enum {
    ASC_PART_TEXT = 1,
    ASC_PART_IMAGE_URL,    /* url: http(s) or a data: URL */
    ASC_PART_IMAGE_BASE64, /* media_type + data */
} asc_part_type_t;

typedef struct {
    asc_part_type_t type;
    asc_str_t text;          /* TEXT: decoded (unescaped) text */
    asc_str_t url;           /* IMAGE_URL */
    asc_str_t media_type;    /* IMAGE_BASE64: "image/png" */
    asc_str_t data;          /* IMAGE_BASE64: base64 payload */
    asc_str_t detail;        /* OpenAI image detail, or absent */
    asc_str_t cache_control; /* raw JSON of an Anthropic cache_control hint, or absent */
} asc_part_t;

typedef struct {
    asc_str_t id; /* provider's call id (mapped for Mistral) */
    asc_str_t name;
    asc_str_t arguments; /* JSON text of the arguments object ("{}" when empty) */
} asc_tool_call_t;

typedef struct {
    asc_role_t role;
    asc_part_t *parts; /* content in order */
    size_t nparts;
    asc_tool_call_t *tool_calls; /* ASSISTANT: calls it made */
    size_t ntool_calls;
    asc_str_t tool_call_id; /* TOOL: the call this result answers */
    int is_error;           /* TOOL: the result is an error (Anthropic is_error) */
    asc_str_t name;         /* optional participant name (OpenAI `name`) */
} asc_msg_t;

typedef struct {
    asc_str_t name;
    asc_str_t description; /* absent allowed */
    asc_str_t parameters;  /* raw JSON schema object; absent = {"type":"object"} */
    int strict;            /* -1 unset, 0, 1 */
} asc_tool_t;

typedef enum {
    ASC_TOOL_CHOICE_UNSET = 0,
    ASC_TOOL_CHOICE_AUTO,
    ASC_TOOL_CHOICE_NONE,
    ASC_TOOL_CHOICE_REQUIRED, /* OpenAI "required", Anthropic "any" */
    ASC_TOOL_CHOICE_FUNCTION, /* a named function: tool_choice_name */
} asc_tool_choice_t;

typedef enum {
    ASC_FORMAT_UNSET = 0,
    ASC_FORMAT_TEXT,
    ASC_FORMAT_JSON_OBJECT,
    ASC_FORMAT_JSON_SCHEMA, /* schema + name (+ strict) */
} asc_format_t;

/* A decoded chat request. Numeric fields use has_* flags: absent fields are
 * never sent upstream. */
typedef struct {
    asc_str_t model;
    asc_msg_t *msgs; /* in order; system messages stay where they were */
    size_t nmsgs;
    asc_tool_t *tools;
    size_t ntools;
    asc_tool_choice_t tool_choice;
    asc_str_t tool_choice_name;
    int parallel_tool_calls; /* -1 unset, 0, 1 */
    asc_format_t format;
    asc_str_t format_name;
    asc_str_t format_schema; /* raw JSON */
    int format_strict;       /* -1 unset */
    asc_str_t *stop;
    size_t nstop;
    int has_temperature, has_top_p, has_max_tokens, has_seed, has_top_k;
    double temperature, top_p;
    int64_t max_tokens; /* max_tokens / max_completion_tokens / max_output_tokens */
    int64_t seed;
    int64_t top_k;      /* Anthropic only */
    asc_str_t user;     /* end-user id */
    asc_str_t metadata; /* raw JSON object, or absent */
    int stream;
    int include_usage;    /* the client asked for streamed usage (OpenAI chat) */
    int whole_tool_calls; /* stream each tool call in one delta with its name and all
                             its arguments (Mistral's shape; its SDK needs it) */
    size_t input_bytes;   /* text bytes of the prompt (for estimates) */
    /* Hints with no mapping in other dialects, kept for same-kind
     * pass-through (reasoning effort, thinking, service tier...). */
    asc_str_t reasoning; /* raw JSON: OpenAI reasoning / reasoning_effort as string */
    asc_str_t thinking;  /* raw JSON: Anthropic thinking */
} asc_chat_req_t;

typedef enum {
    ASC_FINISH_NONE = 0,
    ASC_FINISH_STOP,          /* natural end (end_turn) */
    ASC_FINISH_STOP_SEQUENCE, /* a stop sequence matched (stop_sequence holds it) */
    ASC_FINISH_LENGTH,        /* max tokens */
    ASC_FINISH_TOOL_CALLS,
    ASC_FINISH_CONTENT_FILTER, /* refusal / content filter */
    ASC_FINISH_PAUSE,          /* Anthropic pause_turn */
} asc_finish_t;

typedef struct {
    int64_t input_tokens;
    int64_t output_tokens;
    int64_t cached_tokens; /* input tokens read from a cache */
    int64_t cache_write_tokens;
    int present;   /* the provider reported usage */
    int estimated; /* counted locally */
} asc_canon_usage_t;

typedef struct {
    asc_str_t id;
    asc_str_t model; /* as the provider reported it */
    int64_t created; /* unix seconds, 0 = now */
    asc_str_t text;  /* all text output, concatenated */
    asc_str_t refusal;
    asc_tool_call_t *tool_calls;
    size_t ntool_calls;
    asc_finish_t finish;
    asc_str_t stop_sequence;
    asc_canon_usage_t usage;
} asc_chat_resp_t;

/* Canonical stream events, as an upstream decoder emits them and a client
 * encoder consumes them. A stream is: START, then any of TEXT / TOOL_START /
 * TOOL_ARGS (tool calls by index, possibly interleaved), then FINISH, USAGE
 * (zero or more; the last one counts), DONE. ERROR may end it at any point. */
typedef enum {
    ASC_SEV_START = 1,  /* id, model */
    ASC_SEV_TEXT,       /* text */
    ASC_SEV_TOOL_START, /* tool_index, tool_id, tool_name */
    ASC_SEV_TOOL_ARGS,  /* tool_index, text = an arguments fragment */
    ASC_SEV_FINISH,     /* finish, stop_sequence */
    ASC_SEV_USAGE,      /* usage (cumulative) */
    ASC_SEV_DONE,       /* the upstream said the stream is complete */
    ASC_SEV_ERROR,      /* error_code, error_message; the stream ends */
} asc_sev_type_t;

typedef struct {
    asc_sev_type_t type;
    asc_str_t id, model;
    asc_str_t text;
    int tool_index;
    asc_str_t tool_id, tool_name;
    asc_finish_t finish;
    asc_str_t stop_sequence;
    asc_canon_usage_t usage;
    int error_status; /* the HTTP status the error stands for (429, 503, 502) */
    const char *error_code;
    asc_str_t error_message;
} asc_sev_t;

/* Receives canonical stream events; return non-zero to stop. */
typedef int (*asc_sev_fn)(void *ud, const asc_sev_t *ev);

/* Helpers shared by every codec. */

/* s as a NUL-terminated pool copy. */
char *asc_str_dup(asc_pool_t *pool, asc_str_t s);
/* 1 when s equals the C string z. */
int asc_str_eq(asc_str_t s, const char *z);
/* Append s as a JSON string (with quotes). */
void asc_buf_json_string(asc_buf_t *b, asc_str_t s);

#endif

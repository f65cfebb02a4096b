/*
 * Internals shared by the files of src/mock (not for other modules).
 *
 * The request path: engine.c routes a request, reads the behaviour
 * parameters (params.c), lets the dialect (openai.c, mistral.c,
 * anthropic.c) parse it into an asc_mock_chat_t, then either answers at once
 * (the fast path) or runs a job: timers, streaming, faults. The dialect
 * builders are pure functions over buffers, unit-tested without a network.
 *
 * Builders append to an asc_buf_t without a limit and ignore its errors:
 * every size they produce is bounded by the limits below, checked when the
 * request is parsed, so a failed append can only be a small out-of-memory.
 * Strings in an asc_mock_chat_t live in the request's pool.
 */
#ifndef ASC_MOCK_MOCK_INT_H
#define ASC_MOCK_MOCK_INT_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "core/buf.h"
#include "core/err.h"
#include "core/pool.h"
#include "http/server.h"

/* Limits on what a client controls (400 past them). */
#define ASC_MOCK_MAX_MODEL 256         /* bytes of the model name */
#define ASC_MOCK_MAX_TOOL_NAME 128     /* bytes of a tool name */
#define ASC_MOCK_MAX_ARGS 65536        /* bytes of one call's generated arguments */
#define ASC_MOCK_MAX_TOKENS 1000000    /* tokens= */
#define ASC_MOCK_MAX_DELAY_MS 3600000u /* latency_ms, ttft_ms, itl_ms */
#define ASC_MOCK_MAX_TOOL_CALLS 64     /* tool_calls= */
#define ASC_MOCK_MAX_DIMS 4096         /* dims= / dimensions */
#define ASC_MOCK_MAX_INPUTS 2048       /* embedding inputs */
#define ASC_MOCK_MAX_FLOATS (1u << 21) /* inputs x dims */
#define ASC_MOCK_ARG_FRAGMENT 8        /* bytes per streamed argument fragment */

/* ---- behaviour parameters (params.c) ---------------------------------- */

typedef enum {
    ASC_MOCK_FAULT_NONE = 0,
    ASC_MOCK_FAULT_429,
    ASC_MOCK_FAULT_500,
    ASC_MOCK_FAULT_503,
    ASC_MOCK_FAULT_529,
    ASC_MOCK_FAULT_400,
    ASC_MOCK_FAULT_401,
    ASC_MOCK_FAULT_STALL,
    ASC_MOCK_FAULT_STALL_MID,
    ASC_MOCK_FAULT_RESET,
    ASC_MOCK_FAULT_RESET_MID,
    ASC_MOCK_FAULT_MALFORMED,
    ASC_MOCK_FAULT_ERROR_EVENT,
    ASC_MOCK_FAULT_REDIRECT,
    ASC_MOCK_FAULT_CONTEXT,
} asc_mock_fault_t;

/* The context length fault=context reports as exceeded. */
#define ASC_MOCK_CONTEXT_WINDOW 8192

enum {
    ASC_MOCK_P_LATENCY = 1u << 0,
    ASC_MOCK_P_TTFT = 1u << 1,
    ASC_MOCK_P_ITL = 1u << 2,
    ASC_MOCK_P_TOKENS = 1u << 3,
    ASC_MOCK_P_CHUNK = 1u << 4,
    ASC_MOCK_P_FAULT = 1u << 5,
    ASC_MOCK_P_FAULT_AFTER = 1u << 6,
    ASC_MOCK_P_FAULT_RATE = 1u << 7,
    ASC_MOCK_P_RETRY_AFTER = 1u << 8,
    ASC_MOCK_P_TOOL_CALLS = 1u << 9,
    ASC_MOCK_P_DIMS = 1u << 10,
};

typedef struct {
    uint32_t latency_ms;
    uint32_t ttft_ms;
    uint32_t itl_ms;
    uint32_t tokens;
    uint32_t chunk;
    uint32_t fault_after;
    uint32_t retry_after;
    uint32_t tool_calls;
    uint32_t dims;
    double fault_rate;
    asc_mock_fault_t fault;
    unsigned set; /* ASC_MOCK_P_* bits given explicitly */
} asc_mock_params_t;

/* Defaults of the contract (tokens=16, chunk=1, fault_after=3, ...). */
void asc_mock_params_default(asc_mock_params_t *p);

/* Set parameter k to v (both not NUL-terminated). '-' in k reads as '_'.
 * ASC_EINVAL with a message in err for an unknown key or a bad value. */
asc_err_t asc_mock_params_set(asc_mock_params_t *p, const char *k, size_t klen, const char *v,
                              size_t vlen, char *err, size_t errlen);

/* Apply the parameter list s[0..len) = "k=v,k=v" to p (empty items are
 * skipped). ASC_EINVAL with a message in err at the first bad item. */
asc_err_t asc_mock_params_parse(asc_mock_params_t *p, const char *s, size_t len, char *err,
                                size_t errlen);

/* Split model[0..len) = "NAME@k=v,k=v" into the name (*name_len bytes from
 * model) and apply the parameters to p. */
asc_err_t asc_mock_params_model(asc_mock_params_t *p, const char *model, size_t len,
                                size_t *name_len, char *err, size_t errlen);

/* Apply every "x-mock-<k>: v" header of h[0..n) to p. */
asc_err_t asc_mock_params_headers(asc_mock_params_t *p, const asc_http_header_t *h, size_t n,
                                  char *err, size_t errlen);

/* Copy into dst every parameter src set explicitly. */
void asc_mock_params_overlay(asc_mock_params_t *dst, const asc_mock_params_t *src);

/* The fault's name as written in a parameter ("stall_mid"). */
const char *asc_mock_fault_name(asc_mock_fault_t f);

/* ---- runtime overrides (override.c) ----------------------------------- */

/* One process-wide table, shared by every engine and worker thread (like the
 * request log): parameters set at run time for a model NAME, applied between
 * the model name's own parameters and the x-mock-* headers. Every function
 * is thread-safe; strings passed in are copied. */

#define ASC_MOCK_MAX_OVERRIDES 1024     /* overrides in the table */
#define ASC_MOCK_MAX_OVERRIDE_TEXT 1024 /* bytes of an override's parameter list */

/* Set (or replace) the override of the model name name[0..nlen) to the
 * parameter list text[0..tlen) ("fault=500,retry_after=2"; surrounding
 * whitespace and one leading '@' are ignored). ASC_EINVAL with a message in
 * err for an empty name, a name with '@' or over ASC_MOCK_MAX_MODEL bytes, or
 * an empty or bad list; ASC_ETOOBIG for a list over
 * ASC_MOCK_MAX_OVERRIDE_TEXT bytes or a new name when the table holds
 * ASC_MOCK_MAX_OVERRIDES. On failure the table is unchanged. */
asc_err_t asc_mock_override_set(const char *name, size_t nlen, const char *text, size_t tlen,
                                char *err, size_t errlen);

/* Remove the override of name[0..nlen): ASC_OK, or ASC_ENOTFOUND. */
asc_err_t asc_mock_override_del(const char *name, size_t nlen);

/* Remove every override. */
void asc_mock_override_clear(void);

/* Append {"overrides":{"NAME":"k=v,...",...}} (names in byte order). */
void asc_mock_override_json(asc_buf_t *out);

/* Overlay on p the parameters of the override of name[0..nlen), if any.
 * Takes no lock while the table is empty. */
void asc_mock_override_apply(asc_mock_params_t *p, const char *name, size_t nlen);

/* ---- text, tokens, JSON helpers (text.c) ------------------------------ */

/* The 16 words of the generated text. */
extern const char *const asc_mock_words[16];

/* Append generated tokens [from, from + n): word (i % 16), each after the
 * first (i > 0) preceded by one space. Only letters and spaces, so the
 * result is also a valid JSON string body. */
void asc_mock_text_append(asc_buf_t *b, uint32_t from, uint32_t n);

/* Byte length of what asc_mock_text_append(from, n) writes. */
size_t asc_mock_text_len(uint32_t from, uint32_t n);

/* ceil(bytes / 4), at least 1. */
uint32_t asc_mock_count_tokens(size_t bytes);

/* Append s[0..n) as a JSON string body; invalid UTF-8 becomes U+FFFD. */
void asc_mock_json_str_utf8(asc_buf_t *b, const char *s, size_t n);

/* Length of the longest prefix of s[0..n) of at most max bytes that does not
 * end inside a UTF-8 sequence (at least 1 when n > 0). */
size_t asc_mock_utf8_cut(const char *s, size_t n, size_t max);

/* Next id of the process-wide sequence (1, 2, ...); thread-safe. */
uint64_t asc_mock_next_id(void);

/* 9 characters of [A-Za-z0-9] derived from n, plus a NUL (Mistral ids). */
void asc_mock_id9(uint64_t n, char out[10]);

/* Case-insensitive ASCII substring search. */
int asc_mock_contains_ci(const char *hay, size_t hlen, const char *needle, size_t nlen);

/* ---- the canonical chat answer ---------------------------------------- */

typedef enum { ASC_MOCK_OPENAI, ASC_MOCK_ANTHROPIC, ASC_MOCK_MISTRAL } asc_mock_dialect_id_t;

typedef struct {
    const char *name; /* tool name */
    size_t name_len;
    char *args; /* JSON object text */
    size_t args_len;
    char id[40];
} asc_mock_call_t;

typedef struct asc_mock_dialect asc_mock_dialect_t;

typedef struct {
    const asc_mock_dialect_t *d;
    asc_mock_params_t p;
    const char *model; /* without the "@..." suffix */
    size_t model_len;
    int stream;
    int include_usage; /* OpenAI stream_options.include_usage */
    uint32_t prompt_tokens;
    uint32_t out_tokens; /* text tokens generated */
    int length_cut;      /* max_tokens stopped the text */
    asc_mock_call_t *calls;
    unsigned ncalls;
    uint32_t call_tokens; /* completion tokens of a tool-call answer */
    uint64_t seq;         /* n of "chatcmpl-mock<n>" */
    long long created;
} asc_mock_chat_t;

/* Completion tokens of the answer (text tokens, or the tool-call estimate). */
uint32_t asc_mock_chat_completion_tokens(const asc_mock_chat_t *c);

/* ---- tool calls (tools.c) --------------------------------------------- */

typedef struct {
    const char *name;
    size_t name_len;
    const cJSON *schema; /* JSON schema of the parameters; may be NULL */
} asc_mock_tooldef_t;

typedef enum {
    ASC_MOCK_CHOICE_AUTO,
    ASC_MOCK_CHOICE_NONE,
    ASC_MOCK_CHOICE_ANY,   /* "required" / "any" */
    ASC_MOCK_CHOICE_NAMED, /* a given function */
} asc_mock_choice_t;

typedef struct {
    asc_mock_tooldef_t *defs;
    unsigned ndefs;
    asc_mock_choice_t choice;
    const char *forced; /* ASC_MOCK_CHOICE_NAMED */
    size_t forced_len;
    int last_is_tool_result;
    int last_is_user;
    int mentioned;  /* the last user text contains "tool" or a tool name */
    int single;     /* parallel tool calls disabled */
    unsigned *hits; /* per def: named in the last user text (may be NULL) */
} asc_mock_toolreq_t;

/* Note in tr which tools the user text s[0..n) names (and "tool"). */
void asc_mock_tools_scan_text(asc_mock_toolreq_t *tr, const char *s, size_t n);

/* Append the generated arguments for a parameter schema: an object with
 * every `required` property (string "test", number/integer 1, boolean true,
 * array [], object {}, anything else "test"). */
void asc_mock_tool_args(asc_buf_t *b, const cJSON *schema);

/* Decide whether the answer is a tool call and fill c->calls / ncalls /
 * call_tokens (ids by dialect). Returns ASC_EINVAL with a message when the
 * forced tool is not among the tools or the arguments are too large. */
asc_err_t asc_mock_tools_plan(asc_mock_chat_t *c, const asc_mock_toolreq_t *tr, asc_pool_t *pool,
                              char *err, size_t errlen);

/* ---- dialects --------------------------------------------------------- */

typedef enum {
    ASC_MOCK_E_INVALID,     /* 400 */
    ASC_MOCK_E_AUTH,        /* 401 */
    ASC_MOCK_E_NOT_FOUND,   /* 404 */
    ASC_MOCK_E_RATE_LIMIT,  /* 429 */
    ASC_MOCK_E_SERVER,      /* 500 */
    ASC_MOCK_E_UNAVAILABLE, /* 503 */
    ASC_MOCK_E_OVERLOADED,  /* 529 on Anthropic, 503 elsewhere */
} asc_mock_ekind_t;

/* One step of a streamed answer. */
typedef enum {
    ASC_MOCK_U_TEXT,       /* tokens [off, off + len) */
    ASC_MOCK_U_CALL_START, /* a tool call opens (OpenAI first delta / content_block_start) */
    ASC_MOCK_U_CALL_ARGS,  /* argument bytes [off, off + len) of the call */
    ASC_MOCK_U_CALL_STOP,  /* Anthropic content_block_stop */
    ASC_MOCK_U_CALL_WHOLE, /* Mistral: the whole call in one chunk */
} asc_mock_unit_kind_t;

typedef struct {
    uint32_t kind;
    uint32_t call;
    uint32_t off;
    uint32_t len;
} asc_mock_unit_t;

/* A dialect: a const table, NULL entries unsupported. */
struct asc_mock_dialect {
    int version; /* 1 */
    asc_mock_dialect_id_t id;
    /* Parse and validate a chat request (root is the parsed body; hdr the
     * x-mock-* parameters, which win over the model name's). Fills c (its
     * strings in pool). 0 when accepted, else the HTTP status with the
     * error body written to err (cleared first). */
    int (*chat_parse)(asc_mock_chat_t *c, const cJSON *root, const asc_mock_params_t *hdr,
                      asc_pool_t *pool, asc_buf_t *err);
    /* Error body of a kind; returns the HTTP status. */
    int (*error)(asc_buf_t *b, asc_mock_ekind_t kind, const char *msg);
    /* Non-streamed answer. */
    void (*body)(asc_buf_t *b, const asc_mock_chat_t *c);
    /* Streamed answer: what goes before the first unit, each unit, the end. */
    void (*head)(asc_buf_t *b, const asc_mock_chat_t *c);
    void (*unit)(asc_buf_t *b, const asc_mock_chat_t *c, const asc_mock_unit_t *u);
    void (*tail)(asc_buf_t *b, const asc_mock_chat_t *c);
    /* In-stream overloaded error (fault=error_event). */
    void (*error_event)(asc_buf_t *b, const asc_mock_chat_t *c);
    /* The provider's "context length exceeded" error (fault=context) for a
     * prompt of `tokens` tokens over ASC_MOCK_CONTEXT_WINDOW; returns the
     * HTTP status (400). */
    int (*context_error)(asc_buf_t *b, uint32_t tokens);
    /* An SSE event whose data is not valid JSON (fault=malformed). */
    void (*malformed)(asc_buf_t *b, const asc_mock_chat_t *c);
    /* The streamed units of a tool-call answer (in pool). */
    asc_mock_unit_t *(*tool_units)(const asc_mock_chat_t *c, asc_pool_t *pool, uint32_t *n);
};

extern const asc_mock_dialect_t asc_mock_openai;
extern const asc_mock_dialect_t asc_mock_anthropic;
extern const asc_mock_dialect_t asc_mock_mistral;

/* Shared by the OpenAI-shaped dialects (openai.c; Mistral reuses them). */
int asc_mock_oai_chat_parse(asc_mock_chat_t *c, const cJSON *root, const asc_mock_params_t *hdr,
                            asc_pool_t *pool, asc_buf_t *err);
void asc_mock_oai_body(asc_buf_t *b, const asc_mock_chat_t *c);
void asc_mock_oai_head(asc_buf_t *b, const asc_mock_chat_t *c);
void asc_mock_oai_unit(asc_buf_t *b, const asc_mock_chat_t *c, const asc_mock_unit_t *u);
void asc_mock_oai_tail(asc_buf_t *b, const asc_mock_chat_t *c);
void asc_mock_oai_error_event(asc_buf_t *b, const asc_mock_chat_t *c);
void asc_mock_oai_malformed(asc_buf_t *b, const asc_mock_chat_t *c);
asc_mock_unit_t *asc_mock_oai_tool_units(const asc_mock_chat_t *c, asc_pool_t *pool, uint32_t *n);

/* Read the model of a request: the name (in pool) without the "@..."
 * suffix; c->p gets the defaults, then the suffix's parameters, then the
 * name's runtime override, then the header ones (hdr, may be NULL). */
asc_err_t asc_mock_chat_model(asc_mock_chat_t *c, const char *model, size_t len,
                              const asc_mock_params_t *hdr, asc_pool_t *pool, char *err,
                              size_t errlen);

/* 1 when name is in the strcmp-sorted array sorted[0..n). */
int asc_mock_known(const char *const *sorted, size_t n, const char *name);

/* 1 and *out when x is a number with an integral value (|x| < 9e15). */
int asc_mock_json_int(const cJSON *x, long long *out);

/* Set c->out_tokens / length_cut from tokens= and a max_tokens (< 0: none). */
void asc_mock_chat_limit(asc_mock_chat_t *c, long long max_tokens);

/* Mistral's 422 validation errors, collected then written as
 * {"object":"error","message":{"detail":[...]},"type":"invalid_request_error",...}. */
typedef struct {
    asc_buf_t detail; /* the array's elements, comma-separated */
    int n;
} asc_mock_verr_t;

void asc_mock_verr_init(asc_mock_verr_t *v);
/* Add one error: type ("extra_forbidden", "missing"), loc as the inside of
 * a JSON array ("\"body\",\"stream_options\""), the offending input (may be NULL). */
void asc_mock_verr_add(asc_mock_verr_t *v, const char *type, const char *msg, const char *loc,
                       const cJSON *input);
/* Write the 422 body to out (cleared first) and free v; returns 422. */
int asc_mock_verr_finish(asc_mock_verr_t *v, asc_buf_t *out);
/* Add an extra_forbidden error for each field of obj not in the sorted
 * allowed[0..n); loc_prefix is the loc of obj ("\"body\""). */
void asc_mock_verr_extras(asc_mock_verr_t *v, const cJSON *obj, const char *const *allowed,
                          size_t n, const char *loc_prefix);

/* ---- embeddings (embed.c) --------------------------------------------- */

/* Parse an embeddings request of dialect d (OpenAI or Mistral) and write
 * the answer (status 200) or the error body into out (cleared first);
 * returns the status. *p gets the effective parameters (for latency and
 * faults), *prompt_tokens (may be NULL) the usage's prompt tokens (0 when
 * the request was refused before they were counted); scratch memory comes
 * from pool. */
int asc_mock_embed(asc_buf_t *out, const asc_mock_dialect_t *d, const char *body, size_t len,
                   const asc_mock_params_t *hdr, asc_mock_params_t *p, uint32_t *prompt_tokens,
                   asc_pool_t *pool);

/* The deterministic vector of an input: dims floats of unit length. */
void asc_mock_embed_vector(const void *data, size_t len, uint32_t dims, float *out);

/* ---- request log (reqlog.c) ------------------------------------------- */

#define ASC_MOCK_LOG_SIZE 64
#define ASC_MOCK_LOG_BODY_MAX (1024 * 1024)

/* Record a request (method, path, query, headers, body). Thread-safe. */
void asc_mock_reqlog_add(const asc_http_req_t *req);
/* Append the log as a JSON array, oldest first. Thread-safe. */
void asc_mock_reqlog_json(asc_buf_t *out);
/* Forget every entry. Thread-safe. */
void asc_mock_reqlog_clear(void);

#endif

/*
 * Inbound Anthropic Messages dialect, output side: canonical responses into
 * an Anthropic Message, canonical stream events into Anthropic's typed SSE
 * events, errors into {"type":"error","error":{"type","message"}}; and the
 * dialect table. The request decoder is in anthropic_decode.c.
 *
 * Streams. Anthropic content blocks are strictly sequential (one open block
 * at a time, each closed for good), while canonical tool calls may
 * interleave by index (an OpenAI upstream may, in principle, send arguments
 * for call 1 before call 0 is complete). The encoder keeps the open tool
 * block open until its arguments form a complete JSON value; a tool call
 * that starts meanwhile is queued and its arguments buffered (bounded,
 * STREAM_PENDING_LIMIT) and flushed when its block opens. Calls that arrive
 * one after another, as every real upstream sends them, are never buffered.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/anthropic_int.h"
#include "http/reqid.h"
#include "json/json.h"

#define STREAM_MAX_TOOLS 64
#define STREAM_PENDING_LIMIT ((size_t)1 << 20)
#define STREAM_ID_MAX 160

/* ---- shared pieces --------------------------------------------------------- */

static const char *stop_reason(asc_finish_t f)
{
    switch (f) {
    case ASC_FINISH_STOP: return "end_turn";
    case ASC_FINISH_STOP_SEQUENCE: return "stop_sequence";
    case ASC_FINISH_LENGTH: return "max_tokens";
    case ASC_FINISH_TOOL_CALLS: return "tool_use";
    case ASC_FINISH_CONTENT_FILTER: return "refusal";
    case ASC_FINISH_PAUSE: return "pause_turn";
    case ASC_FINISH_NONE: break;
    }
    return NULL;
}

static void put_stop_reason(asc_buf_t *b, asc_finish_t f)
{
    const char *r = stop_reason(f);
    if (r == NULL)
        asc_buf_puts(b, "null");
    else
        asc_buf_printf(b, "\"%s\"", r);
}

static void put_stop_sequence(asc_buf_t *b, asc_finish_t f, asc_str_t seq)
{
    if (f == ASC_FINISH_STOP_SEQUENCE && asc_str_set(seq))
        asc_buf_json_string(b, seq);
    else
        asc_buf_puts(b, "null");
}

/* Anthropic's input_tokens excludes cache reads and writes. */
static int64_t uncached_input(const asc_canon_usage_t *u)
{
    int64_t in = u->input_tokens - u->cached_tokens - u->cache_write_tokens;
    return in > 0 ? in : 0;
}

static int64_t nonneg(int64_t v)
{
    return v > 0 ? v : 0;
}

/* "input_tokens":..,"cache_creation_input_tokens":..,"cache_read_input_tokens":.. */
static void put_input_usage(asc_buf_t *b, const asc_canon_usage_t *u)
{
    asc_buf_printf(b,
                   "\"input_tokens\":%lld,\"cache_creation_input_tokens\":%lld,"
                   "\"cache_read_input_tokens\":%lld",
                   (long long)uncached_input(u), (long long)nonneg(u->cache_write_tokens),
                   (long long)nonneg(u->cached_tokens));
}

static void put_id(asc_buf_t *b, asc_str_t id)
{
    if (asc_str_set(id) && id.n > 0) {
        asc_buf_json_string(b, id);
        return;
    }
    char rid[129];
    asc_http_reqid_generate(rid); /* "req_" + 24 hex */
    asc_buf_printf(b, "\"msg_%s\"", rid + 4);
}

/* The Anthropic error type for an HTTP status (and asc code). */
static const char *error_type(int status, const char *code)
{
    if (status == 529 || (code != NULL && strcmp(code, "overloaded") == 0))
        return "overloaded_error";
    switch (status) {
    case 401: return "authentication_error";
    case 402: return "billing_error";
    case 403: return "permission_error";
    case 404: return "not_found_error";
    case 408:
    case 504: return "timeout_error";
    case 413: return "request_too_large";
    case 429: return "rate_limit_error";
    default: break;
    }
    return status >= 400 && status < 500 ? "invalid_request_error" : "api_error";
}

static void put_error_json(asc_buf_t *out, int status, const char *code, const char *message)
{
    asc_buf_printf(out, "{\"type\":\"error\",\"error\":{\"type\":\"%s\",\"message\":\"",
                   error_type(status, code));
    const char *m = message != NULL && message[0] ? message : "error";
    asc_buf_json_str(out, m, strlen(m));
    asc_buf_puts(out, "\"}}");
}

static void error_body(int status, const char *code, const char *message, asc_buf_t *out)
{
    put_error_json(out, status, code, message);
}

/* ---- non-streamed response ----------------------------------------------- */

/* 1 when s is a complete JSON object (what a tool_use input must be). */
static int is_json_object(asc_pool_t *scratch, asc_str_t s)
{
    asc_json_limits_t lim;
    asc_json_t j;
    if (s.p == NULL || s.n == 0)
        return 0;
    asc_json_limits_default(&lim);
    lim.root_object = 1;
    asc_pool_reset(scratch);
    return asc_json_parse(scratch, s.p, s.n, &lim, &j, NULL, 0) == ASC_OK;
}

static void text_block(asc_buf_t *out, asc_str_t text, int *first)
{
    if (!*first)
        asc_buf_putc(out, ',');
    *first = 0;
    asc_buf_puts(out, "{\"type\":\"text\",\"text\":");
    asc_buf_json_string(out, text);
    asc_buf_putc(out, '}');
}

static void encode_response(const asc_chat_resp_t *r, const char *model, asc_buf_t *out)
{
    asc_buf_puts(out, "{\"id\":");
    put_id(out, r->id);
    asc_buf_puts(out, ",\"type\":\"message\",\"role\":\"assistant\",\"model\":");
    if (model != NULL)
        asc_buf_json_string(out, (asc_str_t){model, strlen(model)});
    else
        asc_buf_json_string(out, asc_str_set(r->model) ? r->model : (asc_str_t){"", 0});
    asc_buf_puts(out, ",\"content\":[");
    int first = 1;
    if (asc_str_set(r->text) && r->text.n > 0)
        text_block(out, r->text, &first);
    if (asc_str_set(r->refusal) && r->refusal.n > 0)
        text_block(out, r->refusal, &first);
    asc_pool_t *scratch = r->ntool_calls > 0 ? asc_pool_create(0) : NULL;
    for (size_t i = 0; i < r->ntool_calls; i++) {
        const asc_tool_call_t *tc = &r->tool_calls[i];
        if (!first)
            asc_buf_putc(out, ',');
        first = 0;
        asc_buf_puts(out, "{\"type\":\"tool_use\",\"id\":");
        asc_buf_json_string(out, asc_str_set(tc->id) ? tc->id : (asc_str_t){"", 0});
        asc_buf_puts(out, ",\"name\":");
        asc_buf_json_string(out, asc_str_set(tc->name) ? tc->name : (asc_str_t){"", 0});
        asc_buf_puts(out, ",\"input\":");
        /* an upstream may return truncated or non-object arguments; the
         * SDK needs an object, and the body must stay valid JSON */
        if (is_json_object(scratch, tc->arguments))
            asc_buf_append(out, tc->arguments.p, tc->arguments.n);
        else
            asc_buf_puts(out, "{}");
        asc_buf_putc(out, '}');
    }
    asc_pool_destroy(scratch);
    asc_buf_puts(out, "],\"stop_reason\":");
    put_stop_reason(out, r->finish);
    asc_buf_puts(out, ",\"stop_sequence\":");
    put_stop_sequence(out, r->finish, r->stop_sequence);
    asc_buf_puts(out, ",\"usage\":{");
    put_input_usage(out, &r->usage);
    asc_buf_printf(out, ",\"output_tokens\":%lld}}", (long long)nonneg(r->usage.output_tokens));
}

/* ---- stream encoder -------------------------------------------------------- */

enum { BLOCK_NONE = 0, BLOCK_TEXT, BLOCK_TOOL };
enum { TOOL_QUEUED = 1, TOOL_OPEN, TOOL_CLOSED };

typedef struct {
    int index; /* the canonical tool_index */
    int block; /* content block index, once opened */
    int state;
    /* where the arguments streamed so far stand as JSON */
    int depth;
    unsigned char in_str, esc, started, complete, junk;
    /* QUEUED: id, name, then the buffered argument bytes */
    asc_buf_t pend;
    size_t id_len, name_len;
} stool_t;

typedef struct {
    int began; /* message_start sent */
    int ended; /* message_stop or an error sent: nothing more is written */
    char id[STREAM_ID_MAX];
    size_t id_len;
    int have_id;
    char model[260];
    int next_block;
    int open;      /* BLOCK_* */
    int open_tool; /* slot of the open tool block */
    stool_t tools[STREAM_MAX_TOOLS];
    int ntools;
    size_t pending; /* bytes buffered for queued tools */
    asc_finish_t finish;
    char *stop_seq; /* heap */
    size_t stop_len;
    asc_canon_usage_t usage;
    int have_usage;
} sstate_t;

void asc_anthropic_stream_free(void *state)
{
    sstate_t *s = state;
    for (int i = 0; i < s->ntools; i++)
        asc_buf_free(&s->tools[i].pend);
    s->pending = 0;
    free(s->stop_seq);
    s->stop_seq = NULL;
    s->stop_len = 0;
}

static void stream_begin(void *state, const asc_chat_req_t *req, const char *model)
{
    sstate_t *s = state;
    memset(s, 0, sizeof *s);
    if (model != NULL)
        snprintf(s->model, sizeof s->model, "%s", model);
    else if (req != NULL && asc_str_set(req->model))
        snprintf(s->model, sizeof s->model, "%.*s", (int)(req->model.n < 256 ? req->model.n : 256),
                 req->model.p);
}

static void event_head(asc_buf_t *out, const char *type)
{
    asc_buf_printf(out, "event: %s\ndata: {\"type\":\"%s\"", type, type);
}

static void message_start(sstate_t *s, asc_buf_t *out)
{
    if (s->began)
        return;
    s->began = 1;
    event_head(out, "message_start");
    asc_buf_puts(out, ",\"message\":{\"id\":");
    put_id(out, s->have_id ? (asc_str_t){s->id, s->id_len} : ASC_STR_NULL);
    asc_buf_puts(out, ",\"type\":\"message\",\"role\":\"assistant\",\"model\":");
    asc_buf_json_string(out, (asc_str_t){s->model, strlen(s->model)});
    asc_buf_puts(out, ",\"content\":[],\"stop_reason\":null,\"stop_sequence\":null,\"usage\":{");
    asc_canon_usage_t none;
    memset(&none, 0, sizeof none);
    const asc_canon_usage_t *u = s->have_usage ? &s->usage : &none;
    put_input_usage(out, u);
    asc_buf_printf(out, ",\"output_tokens\":%lld}}}\n\n", (long long)nonneg(u->output_tokens));
    asc_buf_puts(out, "event: ping\ndata: {\"type\":\"ping\"}\n\n");
}

static void block_stop(asc_buf_t *out, int index)
{
    event_head(out, "content_block_stop");
    asc_buf_printf(out, ",\"index\":%d}\n\n", index);
}

static void close_block(sstate_t *s, asc_buf_t *out)
{
    if (s->open == BLOCK_NONE)
        return;
    block_stop(out, s->next_block - 1);
    if (s->open == BLOCK_TOOL)
        s->tools[s->open_tool].state = TOOL_CLOSED;
    s->open = BLOCK_NONE;
}

static void open_tool_block(sstate_t *s, int slot, asc_str_t id, asc_str_t name, asc_buf_t *out)
{
    stool_t *t = &s->tools[slot];
    t->block = s->next_block++;
    t->state = TOOL_OPEN;
    s->open = BLOCK_TOOL;
    s->open_tool = slot;
    event_head(out, "content_block_start");
    asc_buf_printf(out, ",\"index\":%d,\"content_block\":{\"type\":\"tool_use\",\"id\":", t->block);
    asc_buf_json_string(out, id);
    asc_buf_puts(out, ",\"name\":");
    asc_buf_json_string(out, name);
    asc_buf_puts(out, ",\"input\":{}}}\n\n");
}

/* Follow the arguments' JSON structure far enough to know when the value is
 * complete (balanced brackets outside strings). */
static void scan_args(stool_t *t, const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char ch = p[i];
        int ws = ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r';
        if (t->complete || t->junk) {
            if (!ws) {
                t->complete = 0;
                t->junk = 1;
            }
            continue;
        }
        if (t->in_str) {
            if (t->esc)
                t->esc = 0;
            else if (ch == '\\')
                t->esc = 1;
            else if (ch == '"')
                t->in_str = 0;
            continue;
        }
        if (ch == '"') {
            t->in_str = 1;
        } else if (ch == '{' || ch == '[') {
            t->depth++;
            t->started = 1;
        } else if (ch == '}' || ch == ']') {
            t->depth--;
            if (t->depth < 0)
                t->junk = 1;
            else if (t->depth == 0 && t->started)
                t->complete = 1;
        }
    }
}

static void args_delta(sstate_t *s, int slot, const char *p, size_t n, asc_buf_t *out)
{
    stool_t *t = &s->tools[slot];
    event_head(out, "content_block_delta");
    asc_buf_printf(out,
                   ",\"index\":%d,\"delta\":{\"type\":\"input_json_delta\",\"partial_json\":\"",
                   t->block);
    asc_buf_json_str(out, p, n);
    asc_buf_puts(out, "\"}}\n\n");
    scan_args(t, p, n);
}

static int first_queued(const sstate_t *s)
{
    for (int i = 0; i < s->ntools; i++)
        if (s->tools[i].state == TOOL_QUEUED)
            return i;
    return -1;
}

/* Open the queued tool `slot` and flush what was buffered for it. */
static void unqueue(sstate_t *s, int slot, asc_buf_t *out)
{
    stool_t *t = &s->tools[slot];
    size_t off = t->id_len + t->name_len;
    open_tool_block(s, slot, (asc_str_t){t->pend.data, t->id_len},
                    (asc_str_t){t->pend.data + t->id_len, t->name_len}, out);
    if (t->pend.len > off)
        args_delta(s, slot, t->pend.data + off, t->pend.len - off, out);
    s->pending -= t->pend.len;
    asc_buf_free(&t->pend);
}

/* While the open tool's arguments are complete, move on to the next queued
 * tool; with `all`, open, flush and close every queued tool regardless. */
static void drain(sstate_t *s, int all, asc_buf_t *out)
{
    for (;;) {
        int q = first_queued(s);
        if (q < 0)
            return;
        if (!all && !(s->open == BLOCK_TOOL && s->tools[s->open_tool].complete))
            return;
        close_block(s, out);
        unqueue(s, q, out);
    }
}

/* The stream cannot continue: the dialect's error event, then nothing. */
static void stream_fail(sstate_t *s, int status, const char *code, const char *message,
                        asc_buf_t *out)
{
    if (s->ended)
        return;
    asc_buf_puts(out, "event: error\ndata: ");
    put_error_json(out, status, code, message);
    asc_buf_puts(out, "\n\n");
    s->ended = 1;
    asc_anthropic_stream_free(s);
}

static int find_tool(const sstate_t *s, int index)
{
    for (int i = 0; i < s->ntools; i++)
        if (s->tools[i].index == index)
            return i;
    return -1;
}

static void on_tool_start(sstate_t *s, const asc_sev_t *ev, asc_buf_t *out)
{
    if (find_tool(s, ev->tool_index) >= 0)
        return; /* a repeated start for the same call */
    if (s->ntools >= STREAM_MAX_TOOLS) {
        stream_fail(s, 502, "upstream_error", "too many tool calls in one response", out);
        return;
    }
    int slot = s->ntools++;
    stool_t *t = &s->tools[slot];
    memset(t, 0, sizeof *t);
    t->index = ev->tool_index;
    asc_str_t id = asc_str_set(ev->tool_id) ? ev->tool_id : (asc_str_t){"", 0};
    asc_str_t name = asc_str_set(ev->tool_name) ? ev->tool_name : (asc_str_t){"", 0};
    if (s->open == BLOCK_TOOL && !s->tools[s->open_tool].complete) {
        /* the open call may still get arguments: queue this one */
        asc_buf_init(&t->pend, STREAM_PENDING_LIMIT);
        t->state = TOOL_QUEUED;
        if (s->pending + id.n + name.n > STREAM_PENDING_LIMIT ||
            asc_buf_reserve(&t->pend, id.n + name.n) != ASC_OK) {
            stream_fail(s, 502, "upstream_error", "interleaved tool calls too large to reorder",
                        out);
            return;
        }
        asc_buf_append(&t->pend, id.p, id.n);
        asc_buf_append(&t->pend, name.p, name.n);
        t->id_len = id.n;
        t->name_len = name.n;
        s->pending += t->pend.len;
        return;
    }
    close_block(s, out);
    open_tool_block(s, slot, id, name, out);
}

static int only_whitespace(asc_str_t s)
{
    for (size_t i = 0; i < s.n; i++)
        if (s.p[i] != ' ' && s.p[i] != '\t' && s.p[i] != '\n' && s.p[i] != '\r')
            return 0;
    return 1;
}

static void on_tool_args(sstate_t *s, const asc_sev_t *ev, asc_buf_t *out)
{
    if (!asc_str_set(ev->text) || ev->text.n == 0)
        return;
    int slot = find_tool(s, ev->tool_index);
    if (slot < 0) {
        stream_fail(s, 502, "upstream_error", "tool call arguments for an unknown tool call", out);
        return;
    }
    stool_t *t = &s->tools[slot];
    switch (t->state) {
    case TOOL_OPEN:
        args_delta(s, slot, ev->text.p, ev->text.n, out);
        drain(s, 0, out);
        break;
    case TOOL_QUEUED:
        if (s->pending + ev->text.n > STREAM_PENDING_LIMIT ||
            asc_buf_append(&t->pend, ev->text.p, ev->text.n) != ASC_OK) {
            stream_fail(s, 502, "upstream_error", "interleaved tool calls too large to reorder",
                        out);
            return;
        }
        s->pending += ev->text.n;
        break;
    default:
        if (!only_whitespace(ev->text))
            stream_fail(s, 502, "upstream_error",
                        "tool call arguments arrived after the call was complete", out);
        break;
    }
}

static void on_text(sstate_t *s, asc_str_t text, asc_buf_t *out)
{
    if (!asc_str_set(text) || text.n == 0)
        return;
    if (s->open != BLOCK_TEXT) {
        close_block(s, out);
        drain(s, 1, out);
        close_block(s, out);
        event_head(out, "content_block_start");
        asc_buf_printf(out,
                       ",\"index\":%d,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\n",
                       s->next_block++);
        s->open = BLOCK_TEXT;
    }
    event_head(out, "content_block_delta");
    asc_buf_printf(out, ",\"index\":%d,\"delta\":{\"type\":\"text_delta\",\"text\":\"",
                   s->next_block - 1);
    asc_buf_json_str(out, text.p, text.n);
    asc_buf_puts(out, "\"}}\n\n");
}

static void on_done(sstate_t *s, asc_buf_t *out)
{
    message_start(s, out);
    close_block(s, out);
    drain(s, 1, out);
    close_block(s, out);
    event_head(out, "message_delta");
    asc_buf_puts(out, ",\"delta\":{\"stop_reason\":");
    put_stop_reason(out, s->finish);
    asc_buf_puts(out, ",\"stop_sequence\":");
    put_stop_sequence(out, s->finish,
                      s->stop_seq != NULL ? (asc_str_t){s->stop_seq, s->stop_len} : ASC_STR_NULL);
    asc_buf_puts(out, "},\"usage\":{");
    if (s->have_usage) {
        put_input_usage(out, &s->usage);
        asc_buf_putc(out, ',');
    }
    asc_buf_printf(out, "\"output_tokens\":%lld}}\n\n",
                   (long long)(s->have_usage ? nonneg(s->usage.output_tokens) : 0));
    event_head(out, "message_stop");
    asc_buf_puts(out, "}\n\n");
    s->ended = 1;
    asc_anthropic_stream_free(s);
}

static void stream_event(void *state, const asc_sev_t *ev, asc_buf_t *out)
{
    sstate_t *s = state;
    if (s->ended)
        return;
    switch (ev->type) {
    case ASC_SEV_START:
        if (s->began || !asc_str_set(ev->id) || ev->id.n == 0)
            break;
        if (ev->id.n < sizeof s->id) {
            memcpy(s->id, ev->id.p, ev->id.n);
            s->id_len = ev->id.n;
            s->have_id = 1;
        } else {
            /* too long to keep for later: start the message now */
            message_start(s, out);
        }
        break;
    case ASC_SEV_TEXT:
        message_start(s, out);
        on_text(s, ev->text, out);
        break;
    case ASC_SEV_TOOL_START:
        message_start(s, out);
        on_tool_start(s, ev, out);
        break;
    case ASC_SEV_TOOL_ARGS:
        message_start(s, out);
        on_tool_args(s, ev, out);
        break;
    case ASC_SEV_FINISH:
        s->finish = ev->finish;
        free(s->stop_seq);
        s->stop_seq = NULL;
        s->stop_len = 0;
        if (asc_str_set(ev->stop_sequence)) {
            s->stop_seq = malloc(ev->stop_sequence.n + 1);
            if (s->stop_seq == NULL)
                abort(); /* bounded by the upstream event size */
            memcpy(s->stop_seq, ev->stop_sequence.p, ev->stop_sequence.n);
            s->stop_seq[ev->stop_sequence.n] = '\0';
            s->stop_len = ev->stop_sequence.n;
        }
        break;
    case ASC_SEV_USAGE:
        s->usage = ev->usage;
        s->have_usage = 1;
        break;
    case ASC_SEV_DONE: on_done(s, out); break;
    case ASC_SEV_ERROR: {
        char msg[512];
        snprintf(msg, sizeof msg, "%.*s",
                 (int)(ev->error_message.n < 500 ? ev->error_message.n : 500),
                 ev->error_message.p ? ev->error_message.p : "");
        stream_fail(s, ev->error_status ? ev->error_status : 502, ev->error_code,
                    msg[0] ? msg : "upstream error", out);
        break;
    }
    }
}

static void stream_error(void *state, int status, const char *code, const char *message,
                         asc_buf_t *out)
{
    stream_fail(state, status, code, message, out);
}

const asc_dialect_t asc_dialect_anthropic = {
    .version = ASC_DIALECT_VERSION,
    .name = "anthropic",
    .decode = asc_anthropic_decode,
    .encode_response = encode_response,
    .stream_state_size = sizeof(sstate_t),
    .stream_begin = stream_begin,
    .stream_event = stream_event,
    .stream_error = stream_error,
    .error_body = error_body,
    .stream_free = asc_anthropic_stream_free,
};

/*
 * Streaming encoder of the Responses dialect: canonical stream events into
 * the API's typed SSE events, each `event: <type>` + `data: {"type":<type>,
 * "sequence_number":N,...}` with N strictly increasing from 0:
 *
 *   response.created, response.in_progress
 *   per output item: response.output_item.added,
 *     message: response.content_part.added, response.output_text.delta*,
 *              response.output_text.done, response.content_part.done
 *     function_call: response.function_call_arguments.delta*,
 *              response.function_call_arguments.done
 *   response.output_item.done
 *   response.completed (or response.incomplete), or an `error` event.
 *
 * Items never interleave: one item is open at a time, as the API itself
 * streams them. The first tool call streams live; a call that starts while
 * another is open (canonical streams may interleave calls by index, and
 * only the end of the stream says the open one is complete) is buffered and
 * emitted whole when the stream ends, and so is text that arrives after a
 * call started. The *.done events, output_item.done and response.completed
 * repeat everything generated (the SDK replaces its accumulated item with
 * the one in output_item.done), so text and arguments are kept, up to
 * ASC_RESPONSES_STREAM_CAP bytes in all; past that the stream ends with an
 * error event instead of a truncated answer.
 */
#include <stdlib.h>
#include <time.h>

#include "api/responses_int.h"

static void release(asc_resp_stream_t *s)
{
    asc_buf_free(&s->echo_head);
    asc_buf_free(&s->echo_tail);
    asc_buf_free(&s->text);
    asc_buf_free(&s->tail);
    asc_buf_free(&s->items);
    for (size_t i = 0; i < s->ntools; i++) {
        free(s->tools[i].id);
        free(s->tools[i].name);
        asc_buf_free(&s->tools[i].args);
    }
    free(s->tools);
    s->tools = NULL;
    s->ntools = s->tcap = 0;
    s->tool_bytes = 0;
    s->live = -1;
    s->msg_open = 0;
}

void asc_api_responses_stream_free(void *state)
{
    asc_resp_stream_t *s = state;
    release(s);
    s->ended = 1;
}

static size_t held(const asc_resp_stream_t *s)
{
    return s->text.len + s->tail.len + s->items.len + s->tool_bytes;
}

static int room_for(const asc_resp_stream_t *s, size_t n)
{
    size_t h = held(s);
    return h <= ASC_RESPONSES_STREAM_CAP && n <= ASC_RESPONSES_STREAM_CAP - h;
}

/* ---- events ----------------------------------------------------------- */

static void ev_open(asc_resp_stream_t *s, asc_rw_t *w, const char *type)
{
    rw_puts(w, "event: ");
    rw_puts(w, type);
    rw_puts(w, "\ndata: {\"type\":\"");
    rw_puts(w, type);
    rw_puts(w, "\",\"sequence_number\":");
    asc_api_resp_int(w, s->seq++);
}

static void ev_close(asc_rw_t *w)
{
    rw_puts(w, "}\n\n");
}

static void put_index(asc_rw_t *w, const char *item_id, int output_index)
{
    if (item_id != NULL) {
        rw_puts(w, ",\"item_id\":");
        rw_cstr(w, item_id);
    }
    rw_puts(w, ",\"output_index\":");
    asc_api_resp_int(w, output_index);
}

static void put_response(asc_resp_stream_t *s, asc_rw_t *w, const char *status,
                         const char *incomplete, int final)
{
    asc_api_resp_head(w, s->core, s->created, status, incomplete);
    rw_put(w, s->echo_head.data, s->echo_head.len);
    rw_puts(w, "\"output\":[");
    if (final)
        rw_put(w, s->items.data, s->items.len);
    rw_puts(w, "]");
    rw_put(w, s->echo_tail.data, s->echo_tail.len);
    rw_puts(w, ",");
    if (final)
        asc_api_resp_usage(w, &s->usage);
    else
        rw_puts(w, "\"usage\":null");
    rw_puts(w, "}");
}

static void error_event(asc_resp_stream_t *s, asc_rw_t *w, int status, const char *code,
                        const char *msg, size_t msglen)
{
    if (code == NULL || code[0] == '\0')
        code = "upstream_error";
    if (msg == NULL) {
        msg = "the upstream failed";
        msglen = strlen(msg);
    }
    /* Both the flat fields of the SDK's ResponseErrorEvent and a nested
     * "error" object: the JS SDK throws an APIError for either, the Python
     * SDK raises only when "error" is present. */
    ev_open(s, w, "error");
    rw_puts(w, ",\"code\":");
    rw_cstr(w, code);
    rw_puts(w, ",\"message\":");
    rw_str(w, msg, msglen);
    rw_puts(w, ",\"param\":null,\"error\":{\"type\":");
    rw_cstr(w, asc_api_resp_error_type(status));
    rw_puts(w, ",\"code\":");
    rw_cstr(w, code);
    rw_puts(w, ",\"message\":");
    rw_str(w, msg, msglen);
    rw_puts(w, ",\"param\":null}");
    ev_close(w);
}

static void fail_stream(asc_resp_stream_t *s, asc_rw_t *w, const char *msg)
{
    error_event(s, w, 502, "response_too_large", msg, strlen(msg));
    release(s);
    s->ended = 1;
}

static void start(asc_resp_stream_t *s, asc_rw_t *w, asc_str_t id)
{
    s->started = 1;
    asc_api_resp_core(id, s->core);
    static const char *const types[] = {"response.created", "response.in_progress"};
    for (int i = 0; i < 2; i++) {
        ev_open(s, w, types[i]);
        rw_puts(w, ",\"response\":");
        put_response(s, w, "in_progress", NULL, 0);
        ev_close(w);
    }
}

/* response.output_item.done with the finished item, which the caller has
 * just appended to s->items at offset `at`. */
static void item_done(asc_resp_stream_t *s, asc_rw_t *w, int output_index, size_t at)
{
    ev_open(s, w, "response.output_item.done");
    put_index(w, NULL, output_index);
    rw_puts(w, ",\"item\":");
    rw_put(w, s->items.data + at, s->items.len - at);
    ev_close(w);
}

/* ---- message items ---------------------------------------------------- */

static void msg_id(const asc_resp_stream_t *s, char *buf, size_t n)
{
    asc_api_resp_item_id(buf, n, "msg", s->core, s->msg_index);
}

static void msg_open(asc_resp_stream_t *s, asc_rw_t *w)
{
    char id[ASC_RESP_CORE_MAX + 32];
    s->msg_open = 1;
    s->msg_index = s->next_output++;
    msg_id(s, id, sizeof id);
    ev_open(s, w, "response.output_item.added");
    put_index(w, NULL, s->msg_index);
    rw_puts(w, ",\"item\":{\"id\":");
    rw_cstr(w, id);
    rw_puts(w, ",\"type\":\"message\",\"status\":\"in_progress\",\"content\":[],"
               "\"role\":\"assistant\"}");
    ev_close(w);
    ev_open(s, w, "response.content_part.added");
    put_index(w, id, s->msg_index);
    rw_puts(w, ",\"content_index\":0,\"part\":");
    asc_api_resp_text_part(w, (asc_str_t){"", 0});
    ev_close(w);
}

static void msg_delta(asc_resp_stream_t *s, asc_rw_t *w, const char *p, size_t n)
{
    char id[ASC_RESP_CORE_MAX + 32];
    msg_id(s, id, sizeof id);
    ev_open(s, w, "response.output_text.delta");
    put_index(w, id, s->msg_index);
    rw_puts(w, ",\"content_index\":0,\"delta\":");
    rw_str(w, p, n);
    rw_puts(w, ",\"logprobs\":[]");
    ev_close(w);
}

/* 0 when the finished item no longer fits (the stream was failed). */
static int msg_close(asc_resp_stream_t *s, asc_rw_t *w, const char *status)
{
    char id[ASC_RESP_CORE_MAX + 32];
    msg_id(s, id, sizeof id);
    asc_str_t text = {s->text.data != NULL ? s->text.data : "", s->text.len};
    size_t at = s->items.len;
    asc_rw_t iw = {&s->items, ASC_OK};
    if (at > 0)
        rw_puts(&iw, ",");
    size_t start_at = s->items.len;
    asc_api_resp_msg_item(&iw, id, status, text, ASC_STR_NULL);
    /* the text moves into the item: count it once */
    if (iw.e != ASC_OK || held(s) - s->text.len > ASC_RESPONSES_STREAM_CAP) {
        asc_api_resp_rollback(&s->items, at);
        fail_stream(s, w, "the response is larger than the gateway's streaming limit");
        return 0;
    }
    ev_open(s, w, "response.output_text.done");
    put_index(w, id, s->msg_index);
    rw_puts(w, ",\"content_index\":0,\"text\":");
    rw_str(w, text.p, text.n);
    rw_puts(w, ",\"logprobs\":[]");
    ev_close(w);
    ev_open(s, w, "response.content_part.done");
    put_index(w, id, s->msg_index);
    rw_puts(w, ",\"content_index\":0,\"part\":");
    asc_api_resp_text_part(w, text);
    ev_close(w);
    item_done(s, w, s->msg_index, start_at);
    asc_buf_clear(&s->text);
    s->msg_open = 0;
    return 1;
}

/* ---- function_call items ---------------------------------------------- */

static asc_str_t tool_call_id(const asc_resp_tool_t *t)
{
    if (t->id_len > 0)
        return (asc_str_t){t->id, t->id_len};
    return (asc_str_t){t->call, strlen(t->call)};
}

static void fc_id(const asc_resp_stream_t *s, const asc_resp_tool_t *t, char *buf, size_t n)
{
    asc_api_resp_item_id(buf, n, "fc", s->core, t->output_index);
}

static void fc_added(asc_resp_stream_t *s, asc_rw_t *w, asc_resp_tool_t *t)
{
    char id[ASC_RESP_CORE_MAX + 32];
    t->output_index = s->next_output++;
    if (t->id_len == 0)
        asc_api_resp_item_id(t->call, sizeof t->call, "call", s->core, t->output_index);
    fc_id(s, t, id, sizeof id);
    ev_open(s, w, "response.output_item.added");
    put_index(w, NULL, t->output_index);
    rw_puts(w, ",\"item\":");
    asc_api_resp_fc_item(w, id, "in_progress", tool_call_id(t), (asc_str_t){t->name, t->name_len},
                         (asc_str_t){"", 0});
    ev_close(w);
}

static void fc_delta(asc_resp_stream_t *s, asc_rw_t *w, const asc_resp_tool_t *t, const char *p,
                     size_t n)
{
    char id[ASC_RESP_CORE_MAX + 32];
    fc_id(s, t, id, sizeof id);
    ev_open(s, w, "response.function_call_arguments.delta");
    put_index(w, id, t->output_index);
    rw_puts(w, ",\"delta\":");
    rw_str(w, p, n);
    ev_close(w);
}

static int fc_close(asc_resp_stream_t *s, asc_rw_t *w, asc_resp_tool_t *t, const char *status)
{
    char id[ASC_RESP_CORE_MAX + 32];
    fc_id(s, t, id, sizeof id);
    asc_str_t args = {t->args.data != NULL ? t->args.data : "", t->args.len};
    size_t at = s->items.len;
    asc_rw_t iw = {&s->items, ASC_OK};
    if (at > 0)
        rw_puts(&iw, ",");
    size_t start_at = s->items.len;
    asc_api_resp_fc_item(&iw, id, status, tool_call_id(t), (asc_str_t){t->name, t->name_len}, args);
    if (iw.e != ASC_OK || held(s) - t->args.len > ASC_RESPONSES_STREAM_CAP) {
        asc_api_resp_rollback(&s->items, at);
        fail_stream(s, w, "the response is larger than the gateway's streaming limit");
        return 0;
    }
    ev_open(s, w, "response.function_call_arguments.done");
    put_index(w, id, t->output_index);
    rw_puts(w, ",\"arguments\":");
    rw_str(w, args.p, args.n);
    ev_close(w);
    item_done(s, w, t->output_index, start_at);
    s->tool_bytes -= t->args.len; /* the arguments live on in the item */
    asc_buf_free(&t->args);
    return 1;
}

static asc_resp_tool_t *find_tool(asc_resp_stream_t *s, int index)
{
    for (size_t i = 0; i < s->ntools; i++)
        if (s->tools[i].index == index)
            return &s->tools[i];
    return NULL;
}

static char *dup_bytes(asc_str_t v, size_t *len)
{
    size_t n = v.p != NULL ? v.n : 0;
    char *c = malloc(n + 1);
    if (c == NULL)
        abort(); /* bounded by the stream cap, checked by the caller */
    if (n)
        memcpy(c, v.p, n);
    c[n] = '\0';
    *len = n;
    return c;
}

static void on_tool_start(asc_resp_stream_t *s, asc_rw_t *w, const asc_sev_t *ev)
{
    if (find_tool(s, ev->tool_index) != NULL)
        return; /* a repeated start adds nothing */
    if (s->ntools == ASC_RESP_MAX_TOOLS) {
        fail_stream(s, w, "the response has more tool calls than the gateway can stream");
        return;
    }
    size_t need = (ev->tool_id.p ? ev->tool_id.n : 0) + (ev->tool_name.p ? ev->tool_name.n : 0);
    if (!room_for(s, need)) {
        fail_stream(s, w, "the response is larger than the gateway's streaming limit");
        return;
    }
    if (s->ntools == s->tcap) {
        size_t cap = s->tcap ? s->tcap * 2 : 4;
        asc_resp_tool_t *t = realloc(s->tools, cap * sizeof *t);
        if (t == NULL)
            abort();
        s->tools = t;
        s->tcap = cap;
    }
    asc_resp_tool_t *t = &s->tools[s->ntools++];
    memset(t, 0, sizeof *t);
    t->index = ev->tool_index;
    t->output_index = -1;
    t->id = dup_bytes(ev->tool_id, &t->id_len);
    t->name = dup_bytes(ev->tool_name, &t->name_len);
    asc_buf_init(&t->args, ASC_RESPONSES_STREAM_CAP);
    s->tool_bytes += need;
    if (s->msg_open && !msg_close(s, w, "completed"))
        return;
    if (s->live < 0) {
        s->live = (int)(s->ntools - 1);
        fc_added(s, w, t);
    }
}

static void on_tool_args(asc_resp_stream_t *s, asc_rw_t *w, const asc_sev_t *ev)
{
    asc_resp_tool_t *t = find_tool(s, ev->tool_index);
    if (t == NULL || ev->text.p == NULL || ev->text.n == 0)
        return; /* arguments of a call that never started: nothing to attach them to */
    if (!room_for(s, ev->text.n) || asc_buf_append(&t->args, ev->text.p, ev->text.n) != ASC_OK) {
        fail_stream(s, w, "the response is larger than the gateway's streaming limit");
        return;
    }
    s->tool_bytes += ev->text.n;
    if (s->live >= 0 && &s->tools[s->live] == t)
        fc_delta(s, w, t, ev->text.p, ev->text.n);
}

static void on_text(asc_resp_stream_t *s, asc_rw_t *w, const asc_sev_t *ev)
{
    if (ev->text.p == NULL || ev->text.n == 0)
        return;
    asc_buf_t *b = s->ntools > 0 ? &s->tail : &s->text;
    if (!room_for(s, ev->text.n) || asc_buf_append(b, ev->text.p, ev->text.n) != ASC_OK) {
        fail_stream(s, w, "the response is larger than the gateway's streaming limit");
        return;
    }
    if (s->ntools > 0)
        return;
    if (!s->msg_open)
        msg_open(s, w);
    msg_delta(s, w, ev->text.p, ev->text.n);
}

/* Close whatever is open, emit what was buffered, then the final response.
 * When the answer was cut short, the last item is the incomplete one. */
static void on_done(asc_resp_stream_t *s, asc_rw_t *w)
{
    const char *inc = asc_api_resp_incomplete(s->finish);
    int nbuffered = 0;
    for (size_t i = 0; i < s->ntools; i++)
        nbuffered += s->tools[i].output_index < 0;
    int tail = s->tail.len > 0;
    int empty = s->next_output == 0;
    const char *done = "completed", *last = inc ? "incomplete" : "completed";

    if (s->msg_open && !msg_close(s, w, !tail && !nbuffered && s->live < 0 ? last : done))
        return;
    if (s->live >= 0 && !fc_close(s, w, &s->tools[s->live], !tail && !nbuffered ? last : done))
        return;
    for (size_t i = 0; i < s->ntools; i++) {
        asc_resp_tool_t *t = &s->tools[i];
        if (t->output_index >= 0)
            continue;
        nbuffered--;
        fc_added(s, w, t);
        if (t->args.len > 0)
            fc_delta(s, w, t, t->args.data, t->args.len);
        if (!fc_close(s, w, t, !tail && nbuffered == 0 ? last : done))
            return;
    }
    if (tail || empty) {
        /* the trailing text becomes the text of a message of its own */
        asc_buf_t swap = s->text;
        s->text = s->tail;
        s->tail = swap;
        msg_open(s, w);
        if (s->text.len > 0)
            msg_delta(s, w, s->text.data, s->text.len);
        if (!msg_close(s, w, last))
            return;
    }
    ev_open(s, w, inc ? "response.incomplete" : "response.completed");
    rw_puts(w, ",\"response\":");
    put_response(s, w, asc_api_resp_status(s->finish), inc, 1);
    ev_close(w);
    release(s);
    s->ended = 1;
}

/* ---- the table's entry points ----------------------------------------- */

static void build_echo(asc_resp_stream_t *s, const asc_chat_req_t *req, const char *model)
{
    asc_rw_t w = {&s->echo_head, ASC_OK};
    asc_api_resp_echo_head(&w, req, model);
    asc_rw_t t = {&s->echo_tail, ASC_OK};
    asc_api_resp_echo_tail(&t, req);
    if (w.e == ASC_OK && t.e == ASC_OK)
        return;
    /* settings too large to repeat in every lifecycle event: neutral values */
    asc_buf_clear(&s->echo_head);
    asc_buf_clear(&s->echo_tail);
    w.e = t.e = ASC_OK;
    asc_api_resp_echo_head(&w, NULL, model);
    asc_api_resp_echo_tail(&t, NULL);
}

void asc_api_resp_stream_begin(void *state, const asc_chat_req_t *req, const char *model)
{
    asc_resp_stream_t *s = state;
    memset(s, 0, sizeof *s);
    s->begun = 1;
    s->live = -1;
    s->created = (int64_t)time(NULL);
    asc_buf_init(&s->echo_head, ASC_RESPONSES_STREAM_CAP);
    asc_buf_init(&s->echo_tail, ASC_RESPONSES_STREAM_CAP);
    asc_buf_init(&s->text, ASC_RESPONSES_STREAM_CAP);
    asc_buf_init(&s->tail, ASC_RESPONSES_STREAM_CAP);
    asc_buf_init(&s->items, ASC_RESPONSES_STREAM_CAP);
    build_echo(s, req, model);
}

void asc_api_resp_stream_event(void *state, const asc_sev_t *ev, asc_buf_t *out)
{
    asc_resp_stream_t *s = state;
    if (!s->begun)
        asc_api_resp_stream_begin(s, NULL, "");
    if (s->ended)
        return;
    size_t mark = out->len;
    asc_rw_t w = {out, ASC_OK};
    if (ev->type == ASC_SEV_ERROR) {
        error_event(s, &w, ev->error_status ? ev->error_status : 502, ev->error_code,
                    ev->error_message.p, ev->error_message.n);
        release(s);
        s->ended = 1;
        goto out;
    }
    if (!s->started)
        start(s, &w, ev->type == ASC_SEV_START ? ev->id : ASC_STR_NULL);
    switch (ev->type) {
    case ASC_SEV_TEXT: on_text(s, &w, ev); break;
    case ASC_SEV_TOOL_START: on_tool_start(s, &w, ev); break;
    case ASC_SEV_TOOL_ARGS: on_tool_args(s, &w, ev); break;
    case ASC_SEV_FINISH: s->finish = ev->finish; break;
    case ASC_SEV_USAGE: s->usage = ev->usage; break;
    case ASC_SEV_DONE: on_done(s, &w); break;
    default: break;
    }
out:
    if (w.e != ASC_OK)
        asc_api_resp_rollback(out, mark);
}

void asc_api_resp_stream_error(void *state, int status, const char *code, const char *message,
                               asc_buf_t *out)
{
    asc_resp_stream_t *s = state;
    if (s->ended)
        return;
    size_t mark = out->len;
    asc_rw_t w = {out, ASC_OK};
    error_event(s, &w, status, code, message, message != NULL ? strlen(message) : 0);
    if (w.e != ASC_OK)
        asc_api_resp_rollback(out, mark);
    release(s);
    s->ended = 1;
}

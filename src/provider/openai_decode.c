/*
 * Chat Completions responses -> canonical: complete bodies and SSE chunks,
 * from OpenAI, OpenAI-compatible servers and Mistral. Strict about JSON
 * (src/json), lenient about the shape differences seen in the wild:
 * content as an array of chunks (Mistral), missing ids, missing or early
 * usage, finish_reason in the chunk that carries the last content, whole
 * tool calls in one chunk, tool calls without `index`.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "json/json.h"
#include "provider/openai_canon.h"

/* ---- helpers -------------------------------------------------------------- */

static int is_type(const asc_json_t *j, int t, asc_json_type_t type)
{
    return t >= 0 && j->tok[t].type == type;
}

/* String token t unescaped: a view into the text when it has no escapes,
 * else a copy in pool. Absent (NULL) when t is not a string or the pool
 * refuses the copy. */
static asc_str_t tok_str(const asc_json_t *j, int t, asc_pool_t *pool)
{
    if (!is_type(j, t, ASC_JSON_STRING))
        return ASC_STR_NULL;
    const char *p = j->text + j->tok[t].start;
    size_t n = (size_t)(j->tok[t].end - j->tok[t].start);
    if (memchr(p, '\\', n) == NULL)
        return (asc_str_t){p, n};
    char *o = asc_pool_alloc_n(pool, n + 1);
    if (o == NULL)
        return ASC_STR_NULL;
    size_t dl = asc_json_unescape(p, n, o);
    o[dl] = '\0';
    return (asc_str_t){o, dl};
}

/* The raw JSON text of token t's value. */
static asc_str_t tok_raw(const asc_json_t *j, int t)
{
    size_t s, e;
    asc_json_value_range(j, t, &s, &e);
    return (asc_str_t){j->text + s, e - s};
}

static int64_t tok_int(const asc_json_t *j, int t)
{
    int64_t v = 0;
    double d;
    if (t < 0 || j->tok[t].type != ASC_JSON_NUMBER)
        return 0;
    if (asc_json_get_int(j, t, &v) != ASC_OK) {
        /* 12.0 or 1e3 from a lenient server */
        if (asc_json_get_double(j, t, &d) != ASC_OK || d < 0 || d > 9e18)
            return 0;
        v = (int64_t)d;
    }
    return v < 0 ? 0 : v;
}

static uint64_t fnv1a(uint64_t h, const void *p, size_t n)
{
    const unsigned char *s = p;
    for (size_t i = 0; i < n; i++) {
        h ^= s[i];
        h *= 0x100000001b3ULL;
    }
    return h;
}

static uint64_t mix64(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* An id for something the upstream sent without one: prefix + 24 base62
 * characters of (seed, n). Deterministic, so replays and tests agree. */
static asc_str_t make_id(asc_pool_t *pool, const char *prefix, uint64_t seed, uint64_t n)
{
    static const char b62[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    size_t pl = strlen(prefix);
    char *o = asc_pool_alloc(pool, pl + 25);
    memcpy(o, prefix, pl);
    uint64_t h = mix64(seed ^ mix64(n + 1));
    for (int i = 0; i < 24; i++) {
        if (i == 12)
            h = mix64(h + 0x9e3779b97f4a7c15ULL);
        o[pl + (size_t)i] = b62[h % 62];
        h /= 62;
    }
    o[pl + 24] = '\0';
    return (asc_str_t){o, pl + 24};
}

static asc_finish_t map_finish(const asc_json_t *j, int t, int *error)
{
    *error = 0;
    if (!is_type(j, t, ASC_JSON_STRING))
        return ASC_FINISH_NONE;
    if (asc_json_str_eq(j, t, "stop") || asc_json_str_eq(j, t, "end_turn"))
        return ASC_FINISH_STOP;
    if (asc_json_str_eq(j, t, "length") || asc_json_str_eq(j, t, "model_length"))
        return ASC_FINISH_LENGTH;
    if (asc_json_str_eq(j, t, "tool_calls") || asc_json_str_eq(j, t, "function_call"))
        return ASC_FINISH_TOOL_CALLS;
    if (asc_json_str_eq(j, t, "content_filter"))
        return ASC_FINISH_CONTENT_FILTER;
    if (asc_json_str_eq(j, t, "error")) {
        *error = 1; /* Mistral: the generation failed */
        return ASC_FINISH_NONE;
    }
    return ASC_FINISH_STOP; /* "eos", "abort"...: the output ended */
}

static void read_usage(const asc_json_t *j, int u, asc_canon_usage_t *usage)
{
    memset(usage, 0, sizeof *usage);
    if (!is_type(j, u, ASC_JSON_OBJECT))
        return;
    usage->present = 1;
    usage->input_tokens = tok_int(j, asc_json_obj_get(j, u, "prompt_tokens"));
    usage->output_tokens = tok_int(j, asc_json_obj_get(j, u, "completion_tokens"));
    int d = asc_json_obj_get(j, u, "prompt_tokens_details");
    if (is_type(j, d, ASC_JSON_OBJECT))
        usage->cached_tokens = tok_int(j, asc_json_obj_get(j, d, "cached_tokens"));
    if (usage->cached_tokens > usage->input_tokens)
        usage->cached_tokens = usage->input_tokens;
}

/* The choice with index 0 (or the first one without an index). */
static int first_choice(const asc_json_t *j, int choices)
{
    if (!is_type(j, choices, ASC_JSON_ARRAY))
        return -1;
    for (int i = 0; i < j->tok[choices].size; i++) {
        int c = asc_json_arr_get(j, choices, i);
        if (!is_type(j, c, ASC_JSON_OBJECT))
            continue;
        int ix = asc_json_obj_get(j, c, "index");
        if (ix < 0 || j->tok[ix].type == ASC_JSON_NULL || tok_int(j, ix) == 0)
            return c;
    }
    return -1;
}

/* Text of a `content` value: a string, or an array of chunks whose "text"
 * chunks are concatenated (Mistral; thinking and reference chunks are not
 * output text). NULL when there is none. */
static asc_str_t content_text(const asc_json_t *j, int t, asc_pool_t *pool)
{
    if (is_type(j, t, ASC_JSON_STRING))
        return tok_str(j, t, pool);
    if (!is_type(j, t, ASC_JSON_ARRAY))
        return ASC_STR_NULL;
    size_t cap = 0;
    int n = j->tok[t].size;
    for (int i = 0; i < n; i++) {
        int c = asc_json_arr_get(j, t, i);
        int ty = is_type(j, c, ASC_JSON_OBJECT) ? asc_json_obj_get(j, c, "type") : -1;
        int tx = is_type(j, c, ASC_JSON_OBJECT) ? asc_json_obj_get(j, c, "text") : -1;
        if ((ty < 0 || asc_json_str_eq(j, ty, "text")) && is_type(j, tx, ASC_JSON_STRING))
            cap += (size_t)(j->tok[tx].end - j->tok[tx].start);
    }
    char *o = asc_pool_alloc_n(pool, cap + 1);
    if (o == NULL)
        return ASC_STR_NULL;
    size_t len = 0;
    int any = 0;
    for (int i = 0; i < n; i++) {
        int c = asc_json_arr_get(j, t, i);
        int ty = is_type(j, c, ASC_JSON_OBJECT) ? asc_json_obj_get(j, c, "type") : -1;
        int tx = is_type(j, c, ASC_JSON_OBJECT) ? asc_json_obj_get(j, c, "text") : -1;
        if ((ty < 0 || asc_json_str_eq(j, ty, "text")) && is_type(j, tx, ASC_JSON_STRING)) {
            len += asc_json_unescape(j->text + j->tok[tx].start,
                                     (size_t)(j->tok[tx].end - j->tok[tx].start), o + len);
            any = 1;
        }
    }
    o[len] = '\0';
    return any ? (asc_str_t){o, len} : ASC_STR_NULL;
}

/* Arguments of a function object: a JSON string holding JSON text (OpenAI)
 * or the object itself (Mistral may send one). "{}" when empty. */
static asc_str_t tool_args(const asc_json_t *j, int fn, asc_pool_t *pool)
{
    int a = is_type(j, fn, ASC_JSON_OBJECT) ? asc_json_obj_get(j, fn, "arguments") : -1;
    asc_str_t s = ASC_STR_NULL;
    if (is_type(j, a, ASC_JSON_STRING))
        s = tok_str(j, a, pool);
    else if (is_type(j, a, ASC_JSON_OBJECT))
        s = tok_raw(j, a);
    if (s.p == NULL || s.n == 0)
        s = (asc_str_t){"{}", 2};
    return s;
}

static int parse(asc_pool_t *pool, const char *text, size_t len, asc_json_t *j)
{
    asc_json_limits_t lim;
    asc_json_limits_default(&lim);
    lim.root_object = 1;
    return asc_json_parse(pool, text, len, &lim, j, NULL, 0) == ASC_OK;
}

/* An error object inside a body: {"error":{...}} or {"object":"error",...}
 * (Mistral, vLLM). Its token, or -1. */
static int error_obj(const asc_json_t *j)
{
    int e = asc_json_obj_get(j, 0, "error");
    if (e >= 0 && j->tok[e].type != ASC_JSON_NULL)
        return e;
    int o = asc_json_obj_get(j, 0, "object");
    if (o >= 0 && asc_json_str_eq(j, o, "error"))
        return 0;
    return -1;
}

/* ---- complete responses --------------------------------------------------- */

asc_err_t asc_openai_canon_decode(asc_pool_t *pool, const char *body, size_t len,
                                  asc_chat_resp_t *out)
{
    asc_json_t j;
    memset(out, 0, sizeof *out);
    if (body == NULL || !parse(pool, body, len, &j))
        return ASC_EINVAL;
    if (error_obj(&j) >= 0)
        return ASC_EINVAL;
    int c = first_choice(&j, asc_json_obj_get(&j, 0, "choices"));
    if (c < 0)
        return ASC_EINVAL;
    int m = asc_json_obj_get(&j, c, "message");
    if (!is_type(&j, m, ASC_JSON_OBJECT))
        return ASC_EINVAL;
    uint64_t seed = mix64(fnv1a(0xcbf29ce484222325ULL, body, len));

    out->id = tok_str(&j, asc_json_obj_get(&j, 0, "id"), pool);
    if (out->id.p == NULL || out->id.n == 0)
        out->id = make_id(pool, "chatcmpl-", seed, 0);
    out->model = tok_str(&j, asc_json_obj_get(&j, 0, "model"), pool);
    int cr = asc_json_obj_get(&j, 0, "created");
    out->created = is_type(&j, cr, ASC_JSON_NUMBER) ? tok_int(&j, cr) : 0;
    if (out->created == 0)
        out->created = (int64_t)time(NULL);

    out->text = content_text(&j, asc_json_obj_get(&j, m, "content"), pool);
    out->refusal = tok_str(&j, asc_json_obj_get(&j, m, "refusal"), pool);

    int tcs = asc_json_obj_get(&j, m, "tool_calls");
    if (is_type(&j, tcs, ASC_JSON_ARRAY) && j.tok[tcs].size > 0) {
        size_t n = (size_t)j.tok[tcs].size;
        out->tool_calls = asc_pool_alloc_n(pool, n * sizeof *out->tool_calls);
        if (out->tool_calls == NULL)
            return ASC_ETOOBIG;
        for (size_t i = 0; i < n; i++) {
            int tc = asc_json_arr_get(&j, tcs, (int)i);
            if (!is_type(&j, tc, ASC_JSON_OBJECT))
                return ASC_EINVAL;
            int fn = asc_json_obj_get(&j, tc, "function");
            if (!is_type(&j, fn, ASC_JSON_OBJECT))
                return ASC_EINVAL;
            asc_tool_call_t *k = &out->tool_calls[out->ntool_calls++];
            k->id = tok_str(&j, asc_json_obj_get(&j, tc, "id"), pool);
            if (k->id.p == NULL || k->id.n == 0)
                k->id = make_id(pool, "call_", seed, i + 1);
            k->name = tok_str(&j, asc_json_obj_get(&j, fn, "name"), pool);
            if (k->name.p == NULL)
                k->name = (asc_str_t){"", 0};
            k->arguments = tool_args(&j, fn, pool);
        }
    }

    int err;
    out->finish = map_finish(&j, asc_json_obj_get(&j, c, "finish_reason"), &err);
    if (err)
        return ASC_EUPSTREAM;
    /* OpenAI says "stop" when tool_choice forced a function; the calls are
     * what the client must act on */
    if (out->ntool_calls > 0 && (out->finish == ASC_FINISH_STOP || out->finish == ASC_FINISH_NONE))
        out->finish = ASC_FINISH_TOOL_CALLS;
    if (out->finish == ASC_FINISH_NONE)
        out->finish = ASC_FINISH_STOP;
    read_usage(&j, asc_json_obj_get(&j, 0, "usage"), &out->usage);
    return ASC_OK;
}

/* ---- streams -------------------------------------------------------------- */

typedef struct {
    asc_oai_stream_t *st;
    asc_pool_t *pool;
    asc_sev_fn emit;
    void *ud;
    int stop; /* the receiver asked to stop */
} sink_t;

/* Emit one event. A receiver that says stop is never called again for
 * this stream. */
static int send(sink_t *k, asc_sev_t *ev)
{
    if (!k->stop && k->emit(k->ud, ev) != 0) {
        k->stop = 1;
        k->st->ended = 1;
    }
    return k->stop;
}

static int send_start(sink_t *k, asc_str_t id, asc_str_t model)
{
    if (k->st->started)
        return k->stop;
    k->st->started = 1;
    asc_sev_t ev;
    memset(&ev, 0, sizeof ev);
    ev.type = ASC_SEV_START;
    ev.id = id.p != NULL && id.n > 0 ? id : make_id(k->pool, "chatcmpl-", k->st->seed, 0);
    ev.model = model;
    return send(k, &ev);
}

static int send_usage(sink_t *k)
{
    asc_sev_t ev;
    memset(&ev, 0, sizeof ev);
    ev.type = ASC_SEV_USAGE;
    ev.usage = k->st->usage;
    k->st->has_usage = 0;
    return send(k, &ev);
}

static int send_finish(sink_t *k, asc_finish_t f)
{
    asc_oai_stream_t *st = k->st;
    if (st->finished)
        return k->stop;
    st->finished = 1;
    if (st->ntools > 0 && (f == ASC_FINISH_STOP || f == ASC_FINISH_NONE))
        f = ASC_FINISH_TOOL_CALLS; /* see asc_openai_canon_decode */
    if (f == ASC_FINISH_NONE)
        f = ASC_FINISH_STOP;
    asc_sev_t ev;
    memset(&ev, 0, sizeof ev);
    ev.type = ASC_SEV_FINISH;
    ev.finish = f;
    if (send(k, &ev))
        return 1;
    return st->has_usage ? send_usage(k) : 0;
}

static int send_text(sink_t *k, asc_str_t s)
{
    if (s.p == NULL || s.n == 0)
        return k->stop;
    asc_sev_t ev;
    memset(&ev, 0, sizeof ev);
    ev.type = ASC_SEV_TEXT;
    ev.text = s;
    return send(k, &ev);
}

static int contains(asc_str_t s, const char *z)
{
    size_t n = strlen(z);
    for (size_t i = 0; s.p != NULL && i + n <= s.n; i++)
        if (memcmp(s.p + i, z, n) == 0)
            return 1;
    return 0;
}

/* An error reported inside the stream: the status it stands for and a
 * message. `e` is the error object (or string), -1 for none. */
static int send_error(sink_t *k, const asc_json_t *j, int e, asc_str_t fallback_msg)
{
    asc_sev_t ev;
    memset(&ev, 0, sizeof ev);
    ev.type = ASC_SEV_ERROR;
    asc_str_t code = ASC_STR_NULL, type = ASC_STR_NULL;
    int64_t num = 0;
    ev.error_message = fallback_msg;
    if (j != NULL && e >= 0 && j->tok[e].type == ASC_JSON_STRING) {
        ev.error_message = tok_str(j, e, k->pool);
    } else if (j != NULL && e >= 0 && j->tok[e].type == ASC_JSON_OBJECT) {
        int m = asc_json_obj_get(j, e, "message");
        if (is_type(j, m, ASC_JSON_STRING))
            ev.error_message = tok_str(j, m, k->pool);
        else if (is_type(j, m, ASC_JSON_OBJECT) || is_type(j, m, ASC_JSON_ARRAY))
            ev.error_message = tok_raw(j, m);
        int c = asc_json_obj_get(j, e, "code");
        code = tok_str(j, c, k->pool);
        num = tok_int(j, c);
        type = tok_str(j, asc_json_obj_get(j, e, "type"), k->pool);
    }
    if (ev.error_message.p == NULL || ev.error_message.n == 0) {
        static const char msg[] = "the upstream reported an error in the stream";
        ev.error_message = (asc_str_t){msg, sizeof msg - 1};
    }
    if (contains(code, "rate_limit") || contains(type, "rate_limit") || num == 429 ||
        asc_str_eq(type, "requests") || asc_str_eq(type, "tokens")) {
        ev.error_status = 429;
        ev.error_code = "rate_limited";
    } else if (contains(code, "overloaded") || contains(type, "overloaded") ||
               asc_str_eq(type, "server_error") || asc_str_eq(code, "server_error") ||
               contains(type, "service_unavailable") || contains(code, "service_unavailable") ||
               num == 503 || num == 529) {
        ev.error_status = 503;
        ev.error_code = "overloaded";
    } else {
        ev.error_status = 502;
        ev.error_code = "upstream_error";
    }
    k->st->ended = 1;
    return send(k, &ev);
}

/* The canonical index for a tool-call delta, opening a new call (and
 * emitting TOOL_START) when this is its first delta. -1 on overflow. */
static int tool_index(sink_t *k, const asc_json_t *j, int tc, asc_str_t id, asc_str_t name)
{
    asc_oai_stream_t *st = k->st;
    int ix = asc_json_obj_get(j, tc, "index");
    int up = -1, canon = -1;
    int has_id = id.p != NULL && id.n > 0;
    uint32_t idh = has_id ? (uint32_t)mix64(fnv1a(0xcbf29ce484222325ULL, id.p, id.n)) | 1u : 0;
    if (is_type(j, ix, ASC_JSON_NUMBER)) {
        int64_t v = tok_int(j, ix);
        if (v >= ASC_OAI_MAX_STREAM_TOOLS)
            return -1;
        up = (int)v;
        if (st->tool_map[up] > 0) {
            canon = st->tool_map[up] - 1;
            /* a server reusing an index for another call (a new id) */
            if (has_id && st->tool_idh[canon] != 0 && st->tool_idh[canon] != idh)
                canon = -1;
        }
    } else if (!has_id && !(name.p != NULL && name.n > 0) && st->last_tool > 0) {
        canon = st->last_tool - 1; /* a fragment of the call being streamed */
    } else if (has_id) {
        for (int i = 0; i < st->ntools; i++)
            if (st->tool_idh[i] == idh)
                canon = i;
    }
    if (canon >= 0) {
        st->last_tool = canon + 1;
        return canon;
    }
    if (st->ntools >= ASC_OAI_MAX_STREAM_TOOLS)
        return -1;
    canon = st->ntools++;
    if (up >= 0)
        st->tool_map[up] = (int16_t)(canon + 1);
    st->tool_idh[canon] = idh;
    st->last_tool = canon + 1;
    asc_sev_t ev;
    memset(&ev, 0, sizeof ev);
    ev.type = ASC_SEV_TOOL_START;
    ev.tool_index = canon;
    ev.tool_id = has_id ? id : make_id(k->pool, "call_", st->seed, (uint64_t)canon + 1);
    ev.tool_name = name.p != NULL ? name : (asc_str_t){"", 0};
    if (send(k, &ev))
        return -2;
    return canon;
}

static asc_err_t tool_deltas(sink_t *k, const asc_json_t *j, int tcs)
{
    for (int i = 0; i < j->tok[tcs].size && !k->stop; i++) {
        int tc = asc_json_arr_get(j, tcs, i);
        if (!is_type(j, tc, ASC_JSON_OBJECT))
            return ASC_EINVAL;
        int fn = asc_json_obj_get(j, tc, "function");
        asc_str_t id = tok_str(j, asc_json_obj_get(j, tc, "id"), k->pool);
        asc_str_t name = is_type(j, fn, ASC_JSON_OBJECT)
                             ? tok_str(j, asc_json_obj_get(j, fn, "name"), k->pool)
                             : ASC_STR_NULL;
        int canon = tool_index(k, j, tc, id, name);
        if (canon == -2)
            return ASC_OK;
        if (canon < 0)
            return ASC_EINVAL;
        int a = is_type(j, fn, ASC_JSON_OBJECT) ? asc_json_obj_get(j, fn, "arguments") : -1;
        asc_str_t frag = is_type(j, a, ASC_JSON_STRING)   ? tok_str(j, a, k->pool)
                         : is_type(j, a, ASC_JSON_OBJECT) ? tok_raw(j, a)
                                                          : ASC_STR_NULL;
        if (frag.p != NULL && frag.n > 0) {
            asc_sev_t ev;
            memset(&ev, 0, sizeof ev);
            ev.type = ASC_SEV_TOOL_ARGS;
            ev.tool_index = canon;
            ev.text = frag;
            send(k, &ev);
        }
    }
    return ASC_OK;
}

asc_err_t asc_openai_canon_stream(void *state, asc_pool_t *pool, const char *event,
                                  const char *data, size_t len, asc_sev_fn emit, void *ud)
{
    asc_oai_stream_t *st = state;
    sink_t k = {st, pool, emit, ud, 0};
    asc_json_t j;
    if (st->ended)
        return ASC_OK; /* nothing counts after [DONE] or an error */
    if (!st->seeded) {
        st->seeded = 1;
        st->seed = mix64(fnv1a(0xcbf29ce484222325ULL, data != NULL ? data : "", len));
    }
    while (len > 0 && (data[len - 1] == ' ' || data[len - 1] == '\r' || data[len - 1] == '\n'))
        len--;
    if (len == 0 || data == NULL)
        return ASC_OK; /* an empty data line: keep-alive */
    if (len == 6 && memcmp(data, "[DONE]", 6) == 0) {
        if (send_start(&k, ASC_STR_NULL, ASC_STR_NULL))
            return ASC_OK;
        /* a stream that ends without finish_reason ended normally */
        if (send_finish(&k, ASC_FINISH_NONE))
            return ASC_OK;
        st->ended = 1;
        asc_sev_t ev;
        memset(&ev, 0, sizeof ev);
        ev.type = ASC_SEV_DONE;
        send(&k, &ev);
        return ASC_OK;
    }
    int is_error_event = event != NULL && strcmp(event, "error") == 0;
    if (!parse(pool, data, len, &j)) {
        if (is_error_event) {
            send_error(&k, NULL, -1, (asc_str_t){data, len});
            return ASC_OK;
        }
        return ASC_EINVAL;
    }
    int e = error_obj(&j);
    if (e >= 0 || is_error_event) {
        send_error(&k, &j, e >= 0 ? e : 0, ASC_STR_NULL);
        return ASC_OK;
    }
    if (!st->started && send_start(&k, tok_str(&j, asc_json_obj_get(&j, 0, "id"), pool),
                                   tok_str(&j, asc_json_obj_get(&j, 0, "model"), pool)))
        return ASC_OK;

    /* usage first: FINISH below emits the newest one right after itself;
     * usage before finish_reason (some servers report it in every chunk)
     * waits for FINISH, and the last one counts */
    int u = asc_json_obj_get(&j, 0, "usage");
    if (is_type(&j, u, ASC_JSON_OBJECT)) {
        read_usage(&j, u, &st->usage);
        st->has_usage = 1;
    }
    int choices = asc_json_obj_get(&j, 0, "choices");
    if (choices >= 0 && j.tok[choices].type != ASC_JSON_ARRAY &&
        j.tok[choices].type != ASC_JSON_NULL)
        return ASC_EINVAL;
    int c = first_choice(&j, choices);
    if (c >= 0 && !st->finished) {
        int d = asc_json_obj_get(&j, c, "delta");
        if (is_type(&j, d, ASC_JSON_OBJECT)) {
            int ct = asc_json_obj_get(&j, d, "content");
            if (is_type(&j, ct, ASC_JSON_STRING)) {
                if (send_text(&k, tok_str(&j, ct, pool)))
                    return ASC_OK;
            } else if (is_type(&j, ct, ASC_JSON_ARRAY)) {
                if (send_text(&k, content_text(&j, ct, pool)))
                    return ASC_OK;
            }
            /* a streamed refusal is shown as text: the canonical stream
             * has no refusal event */
            if (send_text(&k, tok_str(&j, asc_json_obj_get(&j, d, "refusal"), pool)))
                return ASC_OK;
            int tcs = asc_json_obj_get(&j, d, "tool_calls");
            if (is_type(&j, tcs, ASC_JSON_ARRAY)) {
                asc_err_t rc = tool_deltas(&k, &j, tcs);
                if (rc != ASC_OK || k.stop)
                    return rc;
            }
        }
        int fr = asc_json_obj_get(&j, c, "finish_reason");
        if (is_type(&j, fr, ASC_JSON_STRING)) {
            int err;
            asc_finish_t f = map_finish(&j, fr, &err);
            if (err) {
                static const char msg[] =
                    "the upstream failed during generation (finish_reason \"error\")";
                send_error(&k, NULL, -1, (asc_str_t){msg, sizeof msg - 1});
                return ASC_OK;
            }
            if (send_finish(&k, f))
                return ASC_OK;
        }
    }
    if (st->finished && st->has_usage)
        send_usage(&k);
    return ASC_OK;
}

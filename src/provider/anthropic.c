/*
 * Anthropic adapter (POST /v1/messages on https://api.anthropic.com): the
 * adapter table, credentials, error classification and the stream decoder.
 * Requests and complete responses are translated in anthropic_encode.c and
 * anthropic_decode.c. There is no pass-through member: every inbound dialect
 * reaches Anthropic through the canonical model.
 *
 * Stream events (event name, JSON data) → canonical events:
 *   message_start         START(id, model), USAGE (the input, and the output
 *                         so far: a stream that breaks off still settles it)
 *   content_block_start   text: TEXT if it already has text;
 *                         tool_use: TOOL_START(tool_index, id, name)
 *   content_block_delta   text_delta → TEXT; input_json_delta → TOOL_ARGS
 *   content_block_stop    nothing
 *   message_delta         FINISH(stop_reason, stop_sequence), USAGE
 *   message_stop          DONE
 *   ping                  nothing
 *   error                 USAGE (so far), ERROR (429 rate_limited /
 *                         503 overloaded / 502 upstream_error); the message is
 *                         relayed except for authentication/permission errors
 * Every USAGE is cumulative (Anthropic's message_delta output_tokens is);
 * the last one counts. ERROR and DONE also carry the usage so far.
 * Ignored (no canonical form): thinking, redacted_thinking and server tool
 * blocks with their deltas (thinking_delta, signature_delta, and
 * input_json_delta of a server_tool_use block), citations_delta, and event
 * types this file does not know.
 */
#include <stdio.h>
#include <string.h>

#include "provider/anthropic_int.h"

static const char *const static_headers[] = {"anthropic-version: 2023-06-01", NULL};

static asc_err_t auth_header(const char *secret, asc_buf_t *out)
{
    return asc_buf_printf(out, "x-api-key: %s", secret);
}

/* ---- errors ----------------------------------------------------------- */

static void copy_msg(const asc_json_t *j, int t, char *out, size_t outlen)
{
    char tmp[512];
    if (t < 0 || j->tok[t].type != ASC_JSON_STRING || outlen == 0)
        return;
    size_t n = (size_t)(j->tok[t].end - j->tok[t].start);
    if (n > sizeof tmp)
        n = sizeof tmp;
    size_t dl = asc_json_unescape(j->text + j->tok[t].start, n, tmp);
    if (dl >= outlen)
        dl = outlen - 1;
    memcpy(out, tmp, dl);
    out[dl] = '\0';
}

/* ASCII case-insensitive substring test. */
static int contains_ci(const char *hay, const char *needle)
{
    size_t n = strlen(needle);
    for (; *hay != '\0'; hay++) {
        size_t i = 0;
        while (i < n && hay[i] != '\0' &&
               (hay[i] == needle[i] ||
                (hay[i] >= 'A' && hay[i] <= 'Z' && hay[i] - 'A' + 'a' == needle[i])))
            i++;
        if (i == n)
            return 1;
    }
    return 0;
}

static void classify_error(int status, const char *body, size_t len, asc_upstream_error_t *out)
{
    char msg[400] = "";
    char type[64] = "";
    asc_json_t j;
    asc_json_limits_t lim;
    memset(out, 0, sizeof *out);
    asc_json_limits_default(&lim);
    lim.root_object = 1;
    asc_pool_t *pool = asc_pool_create(1 << 20);
    if (body != NULL && len > 0 && asc_json_parse(pool, body, len, &lim, &j, NULL, 0) == ASC_OK) {
        int e = asc_json_obj_get(&j, 0, "error");
        if (e >= 0 && j.tok[e].type == ASC_JSON_OBJECT) {
            copy_msg(&j, asc_json_obj_get(&j, e, "message"), msg, sizeof msg);
            copy_msg(&j, asc_json_obj_get(&j, e, "type"), type, sizeof type);
        }
    }
    asc_pool_destroy(pool);
    /* "prompt is too long: 215000 tokens > 200000 maximum", or "input
     * length and `max_tokens` exceed context limit: ..." */
    int context = status == 400 && (contains_ci(msg, "prompt is too long") ||
                                    contains_ci(msg, "exceed context limit"));
    asc_upstream_error_classify(status, msg, context, strcmp(type, "overloaded_error") == 0,
                                status == 404, out);
}

/* ---- streaming -------------------------------------------------------- */

/* Content blocks → tool indexes. Anthropic sends one block at a time, so
 * only the latest entries matter; a small ring also covers interleaving. */
#define TOOL_MAP 64

typedef struct {
    int started, done;
    int ntools;    /* tool_use blocks seen so far */
    unsigned nmap; /* entries ever added to map */
    struct {
        int64_t block;
        int tool;
    } map[TOOL_MAP];
    asc_provider_anthropic_usage_t usage;
} stream_t;

static int tool_of_block(const stream_t *s, int64_t block)
{
    unsigned have = s->nmap < TOOL_MAP ? s->nmap : TOOL_MAP;
    for (unsigned k = 0; k < have; k++) {
        unsigned slot = (s->nmap - 1 - k) % TOOL_MAP;
        if (s->map[slot].block == block)
            return s->map[slot].tool;
    }
    return -1;
}

static asc_err_t emit_ev(asc_sev_fn emit, void *ud, const asc_sev_t *ev)
{
    return emit(ud, ev) != 0 ? ASC_ECLOSED : ASC_OK;
}

static asc_err_t block_index(const asc_json_t *j, int64_t *idx)
{
    int t = asc_json_obj_get(j, 0, "index");
    if (t < 0 || asc_json_get_int(j, t, idx) != ASC_OK || *idx < 0)
        return ASC_EINVAL;
    return ASC_OK;
}

static asc_err_t on_message_start(stream_t *s, const asc_json_t *j, asc_pool_t *pool,
                                  asc_sev_fn emit, void *ud)
{
    int m = asc_json_obj_get(j, 0, "message");
    asc_sev_t ev;
    if (m < 0 || j->tok[m].type != ASC_JSON_OBJECT)
        return ASC_EINVAL;
    if (s->started)
        return ASC_OK;
    s->started = 1;
    asc_provider_anthropic_read_usage(j, asc_json_obj_get(j, m, "usage"), &s->usage);
    memset(&ev, 0, sizeof ev);
    ev.type = ASC_SEV_START;
    asc_err_t rc = asc_provider_anthropic_str(j, asc_json_obj_get(j, m, "id"), pool, &ev.id);
    if (rc == ASC_OK)
        rc = asc_provider_anthropic_str(j, asc_json_obj_get(j, m, "model"), pool, &ev.model);
    if (rc == ASC_OK)
        rc = emit_ev(emit, ud, &ev);
    if (rc != ASC_OK || !s->usage.present)
        return rc;
    /* The input is known (and billed) from here on: report it at once, so
     * a stream that fails before message_delta still settles its usage. */
    memset(&ev, 0, sizeof ev);
    ev.type = ASC_SEV_USAGE;
    ev.usage = asc_provider_anthropic_canon_usage(&s->usage);
    return emit_ev(emit, ud, &ev);
}

static asc_err_t on_block_start(stream_t *s, const asc_json_t *j, asc_pool_t *pool, asc_sev_fn emit,
                                void *ud)
{
    int64_t idx;
    int b = asc_json_obj_get(j, 0, "content_block");
    asc_sev_t ev;
    asc_err_t rc;
    if (block_index(j, &idx) != ASC_OK || b < 0 || j->tok[b].type != ASC_JSON_OBJECT)
        return ASC_EINVAL;
    int type = asc_json_obj_get(j, b, "type");
    memset(&ev, 0, sizeof ev);
    if (asc_json_str_eq(j, type, "text")) {
        int t = asc_json_obj_get(j, b, "text");
        if (t < 0 || j->tok[t].type != ASC_JSON_STRING || j->tok[t].end == j->tok[t].start)
            return ASC_OK;
        ev.type = ASC_SEV_TEXT;
        rc = asc_provider_anthropic_str(j, t, pool, &ev.text);
        return rc != ASC_OK ? rc : emit_ev(emit, ud, &ev);
    }
    if (!asc_json_str_eq(j, type, "tool_use"))
        return ASC_OK;
    int id = asc_json_obj_get(j, b, "id");
    int name = asc_json_obj_get(j, b, "name");
    if (id < 0 || j->tok[id].type != ASC_JSON_STRING || name < 0 ||
        j->tok[name].type != ASC_JSON_STRING || s->ntools == INT32_MAX)
        return ASC_EINVAL;
    unsigned slot = s->nmap % TOOL_MAP;
    s->map[slot].block = idx;
    s->map[slot].tool = s->ntools;
    s->nmap++; /* at most ntools <= INT32_MAX: never wraps */
    ev.type = ASC_SEV_TOOL_START;
    ev.tool_index = s->ntools++;
    rc = asc_provider_anthropic_str(j, id, pool, &ev.tool_id);
    if (rc == ASC_OK)
        rc = asc_provider_anthropic_str(j, name, pool, &ev.tool_name);
    if (rc == ASC_OK)
        rc = emit_ev(emit, ud, &ev);
    if (rc != ASC_OK)
        return rc;
    /* The API opens tool_use blocks with "input": {} and streams the
     * arguments as deltas; a non-empty input here is passed on as the
     * first fragment. */
    int in = asc_json_obj_get(j, b, "input");
    if (in >= 0 && j->tok[in].type == ASC_JSON_OBJECT && j->tok[in].size > 0) {
        size_t st, en;
        asc_json_value_range(j, in, &st, &en);
        ev.type = ASC_SEV_TOOL_ARGS;
        ev.text = (asc_str_t){j->text + st, en - st};
        ev.tool_id = ev.tool_name = ASC_STR_NULL;
        return emit_ev(emit, ud, &ev);
    }
    return ASC_OK;
}

static asc_err_t on_block_delta(stream_t *s, const asc_json_t *j, asc_pool_t *pool, asc_sev_fn emit,
                                void *ud)
{
    int64_t idx;
    int d = asc_json_obj_get(j, 0, "delta");
    asc_sev_t ev;
    asc_err_t rc;
    if (block_index(j, &idx) != ASC_OK || d < 0 || j->tok[d].type != ASC_JSON_OBJECT)
        return ASC_EINVAL;
    int type = asc_json_obj_get(j, d, "type");
    memset(&ev, 0, sizeof ev);
    if (asc_json_str_eq(j, type, "text_delta")) {
        int t = asc_json_obj_get(j, d, "text");
        if (t < 0 || j->tok[t].type != ASC_JSON_STRING)
            return ASC_EINVAL;
        if (j->tok[t].end == j->tok[t].start)
            return ASC_OK;
        ev.type = ASC_SEV_TEXT;
        rc = asc_provider_anthropic_str(j, t, pool, &ev.text);
        return rc != ASC_OK ? rc : emit_ev(emit, ud, &ev);
    }
    if (asc_json_str_eq(j, type, "input_json_delta")) {
        int t = asc_json_obj_get(j, d, "partial_json");
        if (t < 0 || j->tok[t].type != ASC_JSON_STRING)
            return ASC_EINVAL;
        int tool = tool_of_block(s, idx);
        /* the first fragment is often ""; server tool blocks are not ours */
        if (tool < 0 || j->tok[t].end == j->tok[t].start)
            return ASC_OK;
        ev.type = ASC_SEV_TOOL_ARGS;
        ev.tool_index = tool;
        rc = asc_provider_anthropic_str(j, t, pool, &ev.text);
        return rc != ASC_OK ? rc : emit_ev(emit, ud, &ev);
    }
    return ASC_OK; /* thinking_delta, signature_delta, citations_delta */
}

static asc_err_t on_message_delta(stream_t *s, const asc_json_t *j, asc_pool_t *pool,
                                  asc_sev_fn emit, void *ud)
{
    int d = asc_json_obj_get(j, 0, "delta");
    asc_sev_t ev;
    asc_err_t rc;
    if (d >= 0 && j->tok[d].type != ASC_JSON_OBJECT)
        return ASC_EINVAL;
    /* output_tokens is cumulative; newer servers may also restate input
     * and cache counts here */
    asc_provider_anthropic_read_usage(j, asc_json_obj_get(j, 0, "usage"), &s->usage);
    int sr = asc_json_obj_get(j, d, "stop_reason");
    memset(&ev, 0, sizeof ev);
    ev.finish = asc_provider_anthropic_finish(j, sr);
    if (ev.finish != ASC_FINISH_NONE) {
        ev.type = ASC_SEV_FINISH;
        if (ev.finish == ASC_FINISH_STOP_SEQUENCE) {
            rc = asc_provider_anthropic_str(j, asc_json_obj_get(j, d, "stop_sequence"), pool,
                                            &ev.stop_sequence);
            if (rc != ASC_OK)
                return rc;
        }
        rc = emit_ev(emit, ud, &ev);
        if (rc != ASC_OK)
            return rc;
    }
    if (!s->usage.present)
        return ASC_OK; /* no counts at all: the gateway estimates */
    memset(&ev, 0, sizeof ev);
    ev.type = ASC_SEV_USAGE;
    ev.usage = asc_provider_anthropic_canon_usage(&s->usage);
    return emit_ev(emit, ud, &ev);
}

static asc_err_t on_error(stream_t *s, const asc_json_t *j, asc_pool_t *pool, asc_sev_fn emit,
                          void *ud)
{
    int e = asc_json_obj_get(j, 0, "error");
    int type = asc_json_obj_get(j, e, "type");
    asc_sev_t ev;
    memset(&ev, 0, sizeof ev);
    ev.type = ASC_SEV_ERROR;
    if (asc_json_str_eq(j, type, "overloaded_error")) {
        ev.error_status = 503;
        ev.error_code = "overloaded";
    } else if (asc_json_str_eq(j, type, "rate_limit_error")) {
        ev.error_status = 429;
        ev.error_code = "rate_limited";
    } else {
        ev.error_status = 502;
        ev.error_code = "upstream_error";
    }
    if (!asc_json_str_eq(j, type, "authentication_error") &&
        !asc_json_str_eq(j, type, "permission_error")) {
        asc_err_t rc = asc_provider_anthropic_str(j, asc_json_obj_get(j, e, "message"), pool,
                                                  &ev.error_message);
        if (rc != ASC_OK)
            return rc;
    }
    if (!asc_str_set(ev.error_message) || ev.error_message.n == 0) /* "message":"" too */
        ev.error_message = (asc_str_t){"the upstream stream failed", 26};
    ev.usage = asc_provider_anthropic_canon_usage(&s->usage);
    s->done = 1;
    if (s->usage.present) {
        /* the usage so far, as the last USAGE before the end */
        asc_sev_t u;
        memset(&u, 0, sizeof u);
        u.type = ASC_SEV_USAGE;
        u.usage = ev.usage;
        asc_err_t rc = emit_ev(emit, ud, &u);
        if (rc != ASC_OK)
            return rc;
    }
    return emit_ev(emit, ud, &ev);
}

static asc_err_t decode_stream(void *state, asc_pool_t *pool, const char *event, const char *data,
                               size_t len, asc_sev_fn emit, void *ud)
{
    stream_t *s = state;
    asc_json_t j;
    asc_json_limits_t lim;
    asc_err_t rc;
    if (len == 0)
        return event != NULL && strcmp(event, "ping") == 0 ? ASC_OK : ASC_EINVAL;
    asc_json_limits_default(&lim);
    lim.root_object = 1;
    rc = asc_json_parse(pool, data, len, &lim, &j, NULL, 0);
    if (rc != ASC_OK)
        return rc == ASC_ETOOBIG ? ASC_ETOOBIG : ASC_EINVAL;
    if (s->done)
        return ASC_OK;
    /* The data's own type decides; the event line is its echo. */
    int t = asc_json_obj_get(&j, 0, "type");
    char name[32] = "";
    if (t >= 0 && j.tok[t].type == ASC_JSON_STRING) {
        size_t n = (size_t)(j.tok[t].end - j.tok[t].start);
        if (n < sizeof name)
            memcpy(name, j.text + j.tok[t].start, n);
    } else if (event != NULL && strlen(event) < sizeof name) {
        strcpy(name, event);
    }
    if (strcmp(name, "error") == 0)
        return on_error(s, &j, pool, emit, ud);
    if (strcmp(name, "message_start") == 0)
        return on_message_start(s, &j, pool, emit, ud);
    int content = strcmp(name, "content_block_start") == 0 ||
                  strcmp(name, "content_block_delta") == 0 ||
                  strcmp(name, "content_block_stop") == 0 || strcmp(name, "message_delta") == 0 ||
                  strcmp(name, "message_stop") == 0;
    if (!content)
        return ASC_OK; /* ping, and event types added after this file */
    if (!s->started)
        return ASC_EINVAL;
    if (strcmp(name, "content_block_start") == 0)
        return on_block_start(s, &j, pool, emit, ud);
    if (strcmp(name, "content_block_delta") == 0)
        return on_block_delta(s, &j, pool, emit, ud);
    if (strcmp(name, "message_delta") == 0)
        return on_message_delta(s, &j, pool, emit, ud);
    if (strcmp(name, "message_stop") == 0) {
        asc_sev_t ev;
        memset(&ev, 0, sizeof ev);
        ev.type = ASC_SEV_DONE;
        ev.usage = asc_provider_anthropic_canon_usage(&s->usage);
        s->done = 1;
        return emit_ev(emit, ud, &ev);
    }
    return ASC_OK; /* content_block_stop */
}

const asc_adapter_t asc_adapter_anthropic = {
    .version = ASC_ADAPTER_VERSION,
    .kind = "anthropic",
    .chat_path = "/v1/messages",
    .embeddings_path = NULL,
    .auth_header = auth_header,
    .chat_request = NULL,
    .embeddings_request = NULL,
    .parse_response = NULL,
    .parse_stream_event = NULL,
    .classify_error = classify_error,
    .static_headers = static_headers,
    .encode_chat = asc_provider_anthropic_encode_chat,
    .decode_chat = asc_provider_anthropic_decode_chat,
    .stream_state_size = sizeof(stream_t),
    .decode_stream = decode_stream,
};

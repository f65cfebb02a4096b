#include "gateway/translate.h"

#include <stdio.h>
#include <string.h>

#include "gateway/errors.h"
#include "json/json.h"

void asc_translate_usage(const asc_canon_usage_t *in, asc_usage_t *out)
{
    memset(out, 0, sizeof *out);
    out->present = in->present;
    out->estimated = in->estimated;
    out->prompt_tokens = in->input_tokens;
    out->completion_tokens = in->output_tokens;
    out->cached_tokens = in->cached_tokens;
    out->total_tokens = in->input_tokens + in->output_tokens;
}

const char *asc_translate_finish_name(asc_finish_t f)
{
    switch (f) {
    case ASC_FINISH_STOP: return "stop";
    case ASC_FINISH_STOP_SEQUENCE: return "stop_sequence";
    case ASC_FINISH_LENGTH: return "length";
    case ASC_FINISH_TOOL_CALLS: return "tool_calls";
    case ASC_FINISH_CONTENT_FILTER: return "content_filter";
    case ASC_FINISH_PAUSE: return "pause";
    case ASC_FINISH_NONE: break;
    }
    return "";
}

asc_err_t asc_translate_response(const asc_adapter_t *a, const asc_dialect_t *d, asc_pool_t *pool,
                                 const char *body, size_t len, const char *model, asc_buf_t *out,
                                 asc_usage_t *usage, char *finish, size_t finishlen,
                                 size_t *gen_bytes)
{
    asc_chat_resp_t r;
    memset(&r, 0, sizeof r);
    if (a->decode_chat == NULL || a->decode_chat(pool, body, len, &r) != ASC_OK)
        return ASC_EINVAL;
    d->encode_response(&r, model, out);
    asc_translate_usage(&r.usage, usage);
    snprintf(finish, finishlen, "%s", asc_translate_finish_name(r.finish));
    size_t g = r.text.n + r.refusal.n;
    for (size_t i = 0; i < r.ntool_calls; i++)
        g += r.tool_calls[i].arguments.n + r.tool_calls[i].name.n;
    *gen_bytes = g;
    return ASC_OK;
}

void asc_xstream_init(asc_xstream_t *x, const asc_adapter_t *a, const asc_dialect_t *d,
                      const asc_chat_req_t *req, const char *model, int passthrough,
                      int include_usage, asc_pool_t *pool, asc_buf_t *out)
{
    memset(x, 0, sizeof *x);
    x->adapter = a;
    x->dialect = d;
    x->passthrough = passthrough;
    x->include_usage = include_usage;
    x->out = out;
    x->scratch = asc_pool_create(0);
    if (!passthrough) {
        x->astate = asc_pool_alloc(pool, a->stream_state_size ? a->stream_state_size : 1);
        memset(x->astate, 0, a->stream_state_size ? a->stream_state_size : 1);
        x->dstate = asc_pool_alloc(pool, d->stream_state_size ? d->stream_state_size : 1);
        memset(x->dstate, 0, d->stream_state_size ? d->stream_state_size : 1);
        d->stream_begin(x->dstate, req, model);
        x->input_bytes = req->input_bytes;
    }
}

void asc_xstream_free(asc_xstream_t *x)
{
    if (x->dialect != NULL && x->dstate != NULL && x->dialect->stream_free != NULL)
        x->dialect->stream_free(x->dstate);
    x->dstate = NULL;
    asc_pool_destroy(x->scratch);
    x->scratch = NULL;
}

/* Pass-through: the event as SSE bytes, multi-line data kept. */
static void forward_raw(asc_buf_t *b, const char *event, const char *data, size_t len)
{
    if (event[0])
        asc_buf_printf(b, "event: %s\n", event);
    size_t i = 0;
    do {
        const char *nl = memchr(data + i, '\n', len - i);
        size_t end = nl ? (size_t)(nl - data) : len;
        asc_buf_puts(b, "data: ");
        asc_buf_append(b, data + i, end - i);
        asc_buf_putc(b, '\n');
        i = end + 1;
    } while (i < len);
    asc_buf_putc(b, '\n');
}

static void copy_err(asc_xstream_t *x, int status, const char *code, const char *msg, size_t n)
{
    x->failed = 1;
    x->error_status = status;
    snprintf(x->error_code, sizeof x->error_code, "%s", code);
    snprintf(x->error_message, sizeof x->error_message, "upstream error inside the stream: %.*s",
             (int)(n > 250 ? 250 : n), msg);
}

/* asc asked the upstream for streamed usage; a client that did not gets
 * chunks without the "usage":null member that request adds (some SDKs
 * refuse a null usage). Forwards the edited event and returns 1, or 0 when
 * the chunk has no such member. */
static int strip_usage_null(asc_xstream_t *x, const char *event, const char *data, size_t len)
{
    static const char needle[] = "\"usage\":null";
    if (len < sizeof needle || memmem(data, len, "\"usage\"", 7) == NULL)
        return 0;
    asc_json_t j;
    asc_json_limits_t lim;
    asc_json_limits_default(&lim);
    lim.root_object = 1;
    char err[64];
    if (asc_json_parse(x->scratch, data, len, &lim, &j, err, sizeof err) != ASC_OK)
        return 0;
    int v = asc_json_obj_get(&j, 0, "usage");
    if (v < 0 || j.tok[v].type != ASC_JSON_NULL)
        return 0;
    /* the member: from its key's opening quote to the end of the value,
     * plus the comma that separates it from a neighbour */
    int k = j.tok[v].parent;
    size_t s = (size_t)j.tok[k].start - 1, e = (size_t)j.tok[v].end;
    size_t p = s;
    while (p > 0 && (data[p - 1] == ' ' || data[p - 1] == '\t' || data[p - 1] == '\n' ||
                     data[p - 1] == '\r'))
        p--;
    if (p > 0 && data[p - 1] == ',') {
        s = p - 1;
    } else {
        size_t q = e;
        while (q < len && (data[q] == ' ' || data[q] == '\t' || data[q] == '\n' || data[q] == '\r'))
            q++;
        if (q < len && data[q] == ',')
            e = q + 1;
    }
    asc_json_edit_t ed = {s, e, NULL, 0};
    asc_buf_t b;
    asc_buf_init(&b, 0);
    int ok = asc_json_splice(data, len, &ed, 1, &b) == ASC_OK;
    if (ok)
        forward_raw(x->out, event, b.data ? b.data : "", b.len);
    asc_buf_free(&b);
    return ok;
}

static asc_err_t passthrough_event(asc_xstream_t *x, const char *event, const char *data,
                                   size_t len)
{
    asc_stream_event_t ev;
    if (x->adapter->parse_stream_event(x->scratch, event, data, len, &ev) != ASC_OK)
        return ASC_EINVAL;
    if (ev.error) {
        const char *m = ev.error_message[0] ? ev.error_message : "unknown error";
        if (strstr(ev.error_code, "rate_limit") != NULL)
            copy_err(x, 429, "rate_limited", m, strlen(m));
        else if (strstr(ev.error_code, "overload") != NULL || strstr(m, "overload") != NULL)
            copy_err(x, 503, "overloaded", m, strlen(m));
        else
            copy_err(x, 502, "upstream_error", m, strlen(m));
        return ASC_ECLOSED;
    }
    if (ev.usage.present)
        x->usage = ev.usage;
    if (ev.finish_reason[0])
        snprintf(x->finish, sizeof x->finish, "%s", ev.finish_reason);
    x->gen_bytes += ev.content_bytes;
    if (ev.content)
        x->first_content = 1;
    if (ev.usage_only && !x->include_usage)
        return ASC_OK; /* requested by asc, not by the client */
    if (ev.done)
        x->saw_done = 1;
    if (!x->include_usage && !ev.done && strip_usage_null(x, event, data, len))
        return ASC_OK;
    forward_raw(x->out, event, data, len);
    return ASC_OK;
}

static int on_canon(void *ud, const asc_sev_t *ev)
{
    asc_xstream_t *x = ud;
    switch (ev->type) {
    case ASC_SEV_ERROR:
        copy_err(x, ev->error_status ? ev->error_status : 502,
                 ev->error_code ? ev->error_code : "upstream_error",
                 ev->error_message.p ? ev->error_message.p : "unknown error",
                 ev->error_message.p ? ev->error_message.n : 13);
        return 1;
    case ASC_SEV_TEXT:
    case ASC_SEV_TOOL_START:
    case ASC_SEV_TOOL_ARGS:
        x->first_content = 1;
        x->gen_bytes += ev->text.n + ev->tool_name.n;
        break;
    case ASC_SEV_FINISH:
        snprintf(x->finish, sizeof x->finish, "%s", asc_translate_finish_name(ev->finish));
        break;
    case ASC_SEV_USAGE: asc_translate_usage(&ev->usage, &x->usage); break;
    case ASC_SEV_DONE:
        if (x->saw_done)
            return 0; /* one end per stream */
        x->saw_done = 1;
        if (!x->usage.present) {
            /* The upstream reported no usage (some self-hosted servers):
             * the client still gets counts, estimated at ~4 bytes a token
             * and marked as such in the execution record. */
            asc_sev_t u;
            memset(&u, 0, sizeof u);
            u.type = ASC_SEV_USAGE;
            u.usage.input_tokens = (int64_t)((x->input_bytes + 3) / 4);
            if (u.usage.input_tokens == 0)
                u.usage.input_tokens = 1;
            u.usage.output_tokens = (int64_t)((x->gen_bytes + 3) / 4);
            u.usage.estimated = 1;
            asc_translate_usage(&u.usage, &x->usage);
            x->dialect->stream_event(x->dstate, &u, x->out);
        }
        break;
    case ASC_SEV_START: break;
    }
    x->dialect->stream_event(x->dstate, ev, x->out);
    return 0;
}

asc_err_t asc_xstream_event(asc_xstream_t *x, const char *event, const char *data, size_t len)
{
    asc_pool_reset(x->scratch);
    if (x->passthrough)
        return passthrough_event(x, event, data, len);
    asc_err_t e = x->adapter->decode_stream(x->astate, x->scratch, event, data, len, on_canon, x);
    if (x->failed)
        return ASC_ECLOSED;
    return e == ASC_OK ? ASC_OK : ASC_EINVAL;
}

int asc_xstream_finish(asc_xstream_t *x)
{
    if (x->saw_done)
        return 1;
    if (x->passthrough || x->finish[0] == '\0')
        return 0;
    /* The upstream finished (a finish reason came) but sent no end marker
     * of its own: close the client's stream properly. */
    asc_sev_t ev;
    memset(&ev, 0, sizeof ev);
    ev.type = ASC_SEV_DONE;
    on_canon(x, &ev);
    return 1;
}

void asc_xstream_error(asc_xstream_t *x, int status, const char *code, const char *message)
{
    if (x->dialect != NULL) {
        x->dialect->stream_error(x->dstate, status, code, message, x->out);
        return;
    }
    asc_buf_puts(x->out, "data: ");
    asc_error_body(x->out, status, code, message);
    asc_buf_puts(x->out, "\n\n");
}

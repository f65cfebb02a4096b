#include "gateway/proxy.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/clock.h"
#include "gateway/errors.h"

#define MAX_UPSTREAM_BODY (64u * 1024 * 1024) /* a non-streamed response */
#define MAX_ERROR_BODY (1024u * 1024)
#define MAX_SSE_EVENT (8u * 1024 * 1024)

static void release_attempt(asc_ctx_t *c)
{
    asc_buf_free(&c->upbody);
    asc_buf_free(&c->resp);
    asc_buf_free(&c->xout);
    if (c->sse_init) {
        asc_sse_free(&c->sse);
        asc_xstream_free(&c->xs);
        c->sse_init = 0;
    }
}

static void cancel_upstream(asc_ctx_t *c)
{
    if (c->xfer != NULL) {
        asc_upstream_cancel(c->xfer);
        c->xfer = NULL;
    }
}

/* Gateway headers on every proxied response. The names are copied into the
 * request's pool: settling may drop the last reference on the snapshot they
 * live in before the headers are written. */
static size_t gateway_headers(asc_ctx_t *c, asc_http_header_t *h, int stream)
{
    size_t n = 0;
    if (stream) {
        h[n++] = (asc_http_header_t){"Content-Type", 12, "text/event-stream", 17};
        h[n++] = (asc_http_header_t){"Cache-Control", 13, "no-cache", 8};
    } else {
        h[n++] = (asc_http_header_t){"Content-Type", 12, "application/json", 16};
    }
    size_t ml = strlen(c->route.public_name), pl = strlen(c->route.provider->name);
    const char *model = asc_pool_strndup(c->req->pool, c->route.public_name, ml);
    const char *prov = asc_pool_strndup(c->req->pool, c->route.provider->name, pl);
    h[n++] = (asc_http_header_t){"x-asc-model", 11, model, ml};
    h[n++] = (asc_http_header_t){"x-asc-provider", 14, prov, pl};
    h[n++] = (asc_http_header_t){"x-asc-attempts", 14, "1", 1};
    return n;
}

/* End with an error: an error response in the client's dialect before the
 * stream started, the dialect's error event (and no clean end) after. */
static void fail(asc_ctx_t *c, int status, const char *code, const char *message,
                 const asc_http_header_t *extra, size_t nextra)
{
    if (c->finished)
        return;
    cancel_upstream(c);
    c->rec.error_code = code;
    asc_record_add(&c->rec, ASC_REC_ERROR, code, "upstream", status, 0);
    if (!c->began) {
        asc_ctx_settle(c, status);
        release_attempt(c);
        asc_gateway_error(c->req, c->errors, status, code, message, extra, nextra);
        return;
    }
    asc_buf_t b;
    asc_buf_init(&b, 0);
    if (c->sse_init) {
        asc_buf_t *saved = c->xs.out;
        c->xs.out = &b;
        asc_xstream_error(&c->xs, status, code, message);
        c->xs.out = saved;
    } else {
        asc_buf_puts(&b, "data: ");
        asc_error_body(&b, status, code, message);
        asc_buf_puts(&b, "\n\n");
    }
    asc_http_stream_write(c->req, b.data, b.len, NULL);
    asc_buf_free(&b);
    asc_ctx_settle(c, c->rec.status ? c->rec.status : 200);
    release_attempt(c);
    asc_http_stream_end(c->req, 0);
}

static void map_upstream_error(asc_ctx_t *c, int status, const char *body, size_t len)
{
    asc_upstream_error_t ue;
    c->route.provider->adapter->classify_error(status, body, len, &ue);
    asc_http_header_t extra[1];
    size_t nextra = 0;
    size_t ral = 0;
    const char *ra = c->xfer ? asc_upstream_header(c->xfer, "retry-after", &ral) : NULL;
    char rabuf[32];
    if (ra != NULL && ral > 0 && ral < sizeof rabuf) {
        memcpy(rabuf, ra, ral);
        rabuf[ral] = '\0';
        extra[nextra++] = (asc_http_header_t){"Retry-After", 11, rabuf, ral};
    }
    switch (ue.cls) {
    case ASC_UPERR_RATE_LIMIT: fail(c, 429, "rate_limited", ue.message, extra, nextra); return;
    case ASC_UPERR_OVERLOADED: fail(c, 503, "overloaded", ue.message, extra, nextra); return;
    case ASC_UPERR_CLIENT:
    case ASC_UPERR_CONTEXT:
        fail(c, status >= 400 && status < 500 ? status : 400, "invalid_request", ue.message, NULL,
             0);
        return;
    default: fail(c, 502, "upstream_error", ue.message, NULL, 0); return;
    }
}

/* ---- streaming ---------------------------------------------------------- */

static int begin_stream(asc_ctx_t *c)
{
    if (c->began)
        return 1;
    asc_http_header_t h[8];
    size_t n = gateway_headers(c, h, 1);
    c->began = 1;
    c->rec.status = 200;
    c->rec.ttfb_ns = asc_clock_ns() - c->rec.start_ns;
    return asc_http_stream_begin(c->req, 200, h, n) == ASC_OK;
}

static int on_sse_event(void *ud, const char *event, const char *data, size_t len, size_t raw_end)
{
    asc_ctx_t *c = ud;
    (void)raw_end;
    if (c->finished)
        return 1;
    asc_buf_clear(&c->xout);
    int had_content = c->xs.first_content;
    asc_err_t e = asc_xstream_event(&c->xs, event, data, len);
    if (e == ASC_EINVAL) {
        fail(c, 502, "upstream_error", "the upstream sent a malformed stream event", NULL, 0);
        return 1;
    }
    if (e == ASC_ECLOSED) {
        fail(c, c->xs.error_status, c->xs.error_code, c->xs.error_message, NULL, 0);
        return 1;
    }
    if (c->xs.first_content && !had_content) {
        c->rec.first_token_ns = asc_clock_ns() - c->rec.start_ns;
        asc_record_add(&c->rec, ASC_REC_FIRST_TOKEN, NULL, NULL, 0, 0);
    }
    if (c->xout.len == 0)
        return 0;
    if (!begin_stream(c))
        return 1;
    int congested = 0;
    c->rec.bytes_out += c->xout.len;
    asc_http_stream_write(c->req, c->xout.data, c->xout.len, &congested);
    if (congested && !c->paused && c->xfer != NULL) {
        c->paused = 1;
        asc_upstream_pause(c->xfer, 1);
    }
    return 0;
}

/* Copy what the translator learned into the record. */
static void stream_to_record(asc_ctx_t *c)
{
    if (c->xs.usage.present)
        c->rec.usage = c->xs.usage;
    c->out_bytes = c->xs.gen_bytes;
    if (c->xs.finish[0] && c->rec.finish_reason[0] == '\0') {
        snprintf(c->rec.finish_reason, sizeof c->rec.finish_reason, "%s", c->xs.finish);
        asc_record_add(&c->rec, ASC_REC_FINISH, c->xs.finish, NULL, 0, 0);
    }
}

/* ---- upstream callbacks ------------------------------------------------- */

static void on_up_headers(asc_upstream_xfer_t *x, int status, void *ud)
{
    asc_ctx_t *c = ud;
    c->up_status = status;
    c->rec.upstream_status = status;
    asc_record_add(&c->rec, ASC_REC_UPSTREAM_STATUS, NULL, NULL, status, 0);
    int ok = status >= 200 && status < 300;
    size_t ctl = 0;
    const char *ct = asc_upstream_header(x, "content-type", &ctl);
    int is_sse = ct != NULL && ctl >= 17 && strncasecmp(ct, "text/event-stream", 17) == 0;
    if (ok && c->stream && is_sse) {
        asc_sse_init(&c->sse, MAX_SSE_EVENT);
        asc_buf_init(&c->xout, 0);
        asc_xstream_init(&c->xs, c->route.provider->adapter, c->dialect, &c->canon, c->model,
                         c->passthrough, c->include_usage, c->req->pool, &c->xout);
        c->sse_init = 1;
        return;
    }
    asc_buf_init(&c->resp, ok ? MAX_UPSTREAM_BODY : MAX_ERROR_BODY);
    size_t cll = 0;
    const char *cl = asc_upstream_header(x, "content-length", &cll);
    if (cl != NULL && cll > 0 && cll < 12) {
        /* one allocation of the announced size (bounded by the limit) */
        size_t n = (size_t)strtoull(cl, NULL, 10);
        if (n > 0 && n <= c->resp.limit)
            asc_buf_reserve(&c->resp, n);
    }
}

static void on_up_data(asc_upstream_xfer_t *x, const char *p, size_t n, void *ud)
{
    asc_ctx_t *c = ud;
    (void)x;
    if (c->finished)
        return;
    if (c->sse_init) {
        asc_err_t e = asc_sse_feed(&c->sse, p, n, on_sse_event, c);
        if (e == ASC_ETOOBIG)
            fail(c, 502, "upstream_error", "an upstream stream event exceeded the size limit", NULL,
                 0);
        return;
    }
    if (asc_buf_append(&c->resp, p, n) != ASC_OK)
        fail(c, 502, "upstream_error", "the upstream response exceeded the size limit", NULL, 0);
}

/* The complete non-streamed response: relayed (pass-through) or translated. */
static void finish_nonstream(asc_ctx_t *c)
{
    int st = c->up_status;
    if (st < 200 || st >= 300) {
        map_upstream_error(c, st, c->resp.data, c->resp.len);
        return;
    }
    const asc_adapter_t *a = c->route.provider->adapter;
    char fr[32] = "";
    size_t gen = 0;
    asc_usage_t usage;
    memset(&usage, 0, sizeof usage);
    const char *in = c->resp.data ? c->resp.data : "";
    asc_buf_t body;
    asc_buf_init(&body, 0);
    asc_err_t e;
    if (c->passthrough || c->dialect == NULL) {
        e = a->parse_response(c->req->pool, in, c->resp.len, &usage, fr, sizeof fr, &gen);
        if (e == ASC_OK) {
            /* relay the upstream's bytes as they are */
            asc_buf_free(&body);
            body = c->resp;
            asc_buf_init(&c->resp, 0);
        }
    } else {
        e = asc_translate_response(a, c->dialect, c->req->pool, in, c->resp.len, c->model, &body,
                                   &usage, fr, sizeof fr, &gen);
    }
    if (e != ASC_OK) {
        asc_buf_free(&body);
        fail(c, 502, "upstream_error", "the upstream sent a malformed response", NULL, 0);
        return;
    }
    c->out_bytes = gen;
    if (usage.present)
        c->rec.usage = usage;
    if (fr[0]) {
        snprintf(c->rec.finish_reason, sizeof c->rec.finish_reason, "%s", fr);
        asc_record_add(&c->rec, ASC_REC_FINISH, fr, NULL, 0, 0);
    }
    asc_http_header_t h[8];
    size_t n = gateway_headers(c, h, 0);
    c->rec.bytes_out = body.len;
    c->rec.ttfb_ns = asc_clock_ns() - c->rec.start_ns;
    asc_ctx_settle(c, 200);
    /* c lives in the request's pool: release the rest, then end the request
     * (after which c is gone). */
    c->xfer = NULL;
    release_attempt(c);
    asc_http_respond(c->req, 200, h, n, body.data ? body.data : "", body.len);
    asc_buf_free(&body);
}

static void on_up_done(asc_upstream_xfer_t *x, asc_err_t e, const char *msg, void *ud)
{
    asc_ctx_t *c = ud;
    (void)x;
    if (c->finished)
        return;
    if (e == ASC_ETIMEOUT) {
        c->xfer = NULL;
        if (c->sse_init)
            stream_to_record(c);
        fail(c, 504, "upstream_timeout", msg, NULL, 0);
        return;
    }
    if (e != ASC_OK) {
        c->xfer = NULL;
        if (c->sse_init)
            stream_to_record(c);
        char m[300];
        snprintf(m, sizeof m, "upstream connection failed: %s", msg ? msg : "error");
        fail(c, 502, "upstream_error", m, NULL, 0);
        return;
    }
    if (c->sse_init) {
        c->xfer = NULL;
        asc_buf_clear(&c->xout);
        int complete = !asc_sse_pending(&c->sse) && asc_xstream_finish(&c->xs);
        stream_to_record(c);
        if (!complete) {
            fail(c, 502, "upstream_error", "the upstream stream ended before it was complete", NULL,
                 0);
            return;
        }
        if (c->xout.len > 0 && begin_stream(c))
            asc_http_stream_write(c->req, c->xout.data, c->xout.len, NULL);
        asc_ctx_settle(c, 200);
        release_attempt(c);
        asc_http_stream_end(c->req, 0);
        return;
    }
    /* Non-streamed (or a stream request answered without SSE: an error).
     * The request ends inside: c must not be touched after. */
    finish_nonstream(c);
}

static const asc_upstream_cb_t k_callbacks = {
    .on_headers = on_up_headers,
    .on_data = on_up_data,
    .on_done = on_up_done,
};

/* ---- client events ------------------------------------------------------ */

static void on_client_abort(asc_http_req_t *req)
{
    asc_ctx_t *c = req->data;
    if (c->finished)
        return;
    cancel_upstream(c);
    if (c->sse_init)
        stream_to_record(c);
    c->rec.aborted = 1;
    c->rec.error_code = "client_closed";
    asc_record_add(&c->rec, ASC_REC_ABORT, NULL, NULL, 0, 0);
    asc_ctx_settle(c, c->began ? 200 : 499);
    release_attempt(c);
    asc_http_stream_end(req, 1);
}

static void on_client_drain(asc_http_req_t *req)
{
    asc_ctx_t *c = req->data;
    if (c->paused && c->xfer != NULL && !c->finished) {
        c->paused = 0;
        asc_upstream_pause(c->xfer, 0);
    }
}

/* Forward the W3C traceparent; the rest of the client's headers (its
 * credentials above all) never reach the upstream. */
static struct curl_slist *request_headers(asc_ctx_t *c)
{
    struct curl_slist *head = c->route.provider->headers;
    size_t tl = 0;
    const char *tp = asc_http_req_header(c->req, "traceparent", &tl);
    if (tp == NULL || tl != 55)
        return head;
    for (size_t i = 0; i < tl; i++)
        if (!((tp[i] >= '0' && tp[i] <= '9') || (tp[i] >= 'a' && tp[i] <= 'f') || tp[i] == '-'))
            return head;
    struct curl_slist *node = asc_pool_alloc(c->req->pool, sizeof *node);
    char *line = asc_pool_alloc(c->req->pool, 13 + tl + 1);
    memcpy(line, "traceparent: ", 13);
    memcpy(line + 13, tp, tl);
    line[13 + tl] = '\0';
    node->data = line;
    node->next = head;
    return node;
}

void asc_proxy_start(asc_ctx_t *c)
{
    const asc_provider_rt_t *p = c->route.provider;
    const asc_adapter_t *a = p->adapter;
    const asc_config_provider_t *pc = p->cfg;
    char err[512];
    c->req->data = c;
    c->req->on_abort = on_client_abort;
    c->req->on_drain = on_client_drain;
    asc_buf_init(&c->upbody, 0);
    err[0] = '\0';
    asc_err_t rc;
    if (c->api.op == ASC_OP_EMBEDDINGS)
        rc = a->embeddings_request(&c->api, c->route.upstream_model, &c->upbody, err, sizeof err);
    else if (c->passthrough)
        rc = a->chat_request(&c->api, c->route.upstream_model, &c->upbody, err, sizeof err);
    else
        rc = a->encode_chat(&c->canon, c->route.upstream_model, c->req->pool, &c->upbody, err,
                            sizeof err);
    if (rc != ASC_OK) {
        fail(c, 400, "invalid_request", err, NULL, 0);
        return;
    }
    if (err[0] != '\0') { /* hints the adapter dropped */
        char note[600];
        snprintf(note, sizeof note, "%s%s",
                 strncmp(err, "dropped", 7) == 0 ? "" : "dropped: ", err);
        asc_record_add(&c->rec, ASC_REC_NOTE, note, NULL, 0, 0);
    }
    c->rec.attempts = 1;
    asc_record_add(&c->rec, ASC_REC_ATTEMPT, p->name, c->route.upstream_model, 1, 0);
    asc_upstream_req_t ur = {
        .url = c->api.op == ASC_OP_EMBEDDINGS ? p->embeddings_url : p->chat_url,
        .method = "POST",
        .body = c->upbody.data,
        .body_len = c->upbody.len,
        .headers = request_headers(c),
        .connect_timeout_ms = pc->connect_timeout_ms,
        .first_byte_timeout_ms = pc->first_byte_timeout_ms,
        .idle_timeout_ms = pc->idle_timeout_ms,
        .total_timeout_ms = pc->total_timeout_ms,
        .ca_file = pc->ca_file,
        .proxy = pc->proxy,
    };
    c->xfer = asc_upstream_start(c->worker->upstream, &ur, &k_callbacks, c, err, sizeof err);
    if (c->xfer == NULL)
        fail(c, 502, "upstream_error", err, NULL, 0);
}

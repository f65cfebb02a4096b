/*
 * The attempt loop (DESIGN §3 step 7). The plan (route/plan.c) gives the
 * targets in order; each attempt encodes the request for its target's
 * adapter, sends it and reads the answer. An attempt that fails before the
 * client saw a byte is retried at the same target (exponential backoff with
 * full jitter, at least the upstream's Retry-After) while the route allows,
 * then the next target is tried when the adapter calls the failure
 * fallback-worthy, all inside the route's time budget. Streamed answers are
 * held back until their first content event, so that an error event
 * arriving before any content (ADVERSARIAL #12) still falls back. After the
 * first byte reached the client nothing is retried or switched: a failure
 * ends the stream with the dialect's error event.
 *
 * Every attempt reports its outcome to the target's health (breaker and
 * window stats) and the canary guard judges canaries on the way.
 */
#include "gateway/proxy.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/clock.h"
#include "core/log.h"
#include "gateway/errors.h"
#include "gateway/shadow.h"

#define MAX_UPSTREAM_BODY (64u * 1024 * 1024) /* a non-streamed response */
#define MAX_ERROR_BODY (1024u * 1024)
#define MAX_SSE_EVENT (8u * 1024 * 1024)
#define MAX_HOLD (1024u * 1024) /* stream bytes held back before the first content */
#define HOLD_MS 3000            /* and for at most this long */

static void free_timer(uv_handle_t *h)
{
    free(h);
}

static void close_timer(uv_timer_t **t)
{
    if (*t != NULL) {
        uv_timer_stop(*t);
        uv_close((uv_handle_t *)*t, free_timer);
        *t = NULL;
    }
}

static void release_attempt(asc_ctx_t *c)
{
    close_timer(&c->hold_timer);
    asc_buf_free(&c->resp);
    asc_buf_free(&c->xout);
    asc_buf_free(&c->hold);
    if (c->sse_init) {
        asc_sse_free(&c->sse);
        asc_xstream_free(&c->xs);
        c->sse_init = 0;
    }
    c->up_status = 0;
}

static void release_all(asc_ctx_t *c)
{
    release_attempt(c);
    asc_buf_free(&c->upbody);
}

static void cancel_upstream(asc_ctx_t *c)
{
    if (c->xfer != NULL) {
        asc_upstream_cancel(c->xfer);
        c->xfer = NULL;
    }
}

static void stop_backoff(asc_ctx_t *c)
{
    close_timer(&c->backoff);
}

/* The attempt at c->cur ended without an outcome for its health. */
static void abandon_probe(asc_ctx_t *c)
{
    if (c->probe && c->cur != NULL)
        asc_health_abandon(c->cur->health);
    c->probe = 0;
}

static uint64_t now_ms(void)
{
    return asc_clock_ns() / 1000000u;
}

/* The canary guard: judge the route's canaries after an outcome. */
static void guard_check(asc_ctx_t *c)
{
    const asc_route_rt_t *r = c->route.rt;
    if (!r->cfg->has_guard || r->ngroups == 0)
        return;
    char why[256];
    const char *label = NULL;
    if (asc_route_guard_check(r, now_ms(), &label, why, sizeof why)) {
        asc_log_warn("canary rolled back: route %s target %s: %s", r->name, label, why);
        char note[400];
        snprintf(note, sizeof note, "canary %s rolled back: %s", label, why);
        asc_record_add(&c->rec, ASC_REC_NOTE, note, NULL, 0, 0);
    }
}

static void report(asc_ctx_t *c, asc_health_outcome_t o)
{
    if (c->cur == NULL || c->reported)
        return;
    c->reported = 1;
    if (o == ASC_HEALTH_FAIL && c->cur->health == NULL && c->route.direct) {
        /* a direct target's first failure pins its health object (the
         * target lives in this request's pool) */
        asc_target_rt_t *t = (asc_target_rt_t *)c->cur;
        t->health = asc_health_get(t->provider->name, t->provider->base_url, t->model, 1);
    }
    uint64_t ttft = c->attempt_ttft_ns ? c->attempt_ttft_ns / 1000000u
                                       : (asc_clock_ns() - c->attempt_start_ns) / 1000000u;
    if (asc_health_report(c->cur->health, &c->route.rt->cfg->breaker, o, c->probe, ttft,
                          now_ms())) {
        char note[300];
        snprintf(note, sizeof note, "circuit opened for %s", c->cur->label);
        asc_record_add(&c->rec, ASC_REC_NOTE, note, NULL, 0, 0);
    }
    c->probe = 0;
    guard_check(c);
}

static void attempt_end(asc_ctx_t *c, const char *outcome, const char *next, int status)
{
    uint64_t us = (asc_clock_ns() - c->attempt_start_ns) / 1000u;
    asc_record_add(&c->rec, ASC_REC_ATTEMPT_END, outcome, next, status, (int64_t)us);
}

/* Gateway headers on every proxied response. Strings are copied into the
 * request's pool: settling may drop the last reference on the snapshot they
 * live in before the headers are written. */
static size_t route_headers(asc_ctx_t *c, asc_http_header_t *h)
{
    size_t n = 0;
    asc_pool_t *pool = c->req->pool;
    const char *route = c->route.direct ? "direct" : c->route.rt->name;
    size_t rl = strlen(route);
    h[n++] = (asc_http_header_t){"x-asc-route", 11, asc_pool_strndup(pool, route, rl), rl};
    if (c->cur != NULL) {
        size_t tl = strlen(c->cur->label);
        h[n++] =
            (asc_http_header_t){"x-asc-target", 12, asc_pool_strndup(pool, c->cur->label, tl), tl};
    }
    char *att = asc_pool_alloc(pool, 16);
    int al = snprintf(att, 16, "%d", c->rec.attempts);
    h[n++] = (asc_http_header_t){"x-asc-attempts", 14, att, (size_t)al};
    return n;
}

static size_t gateway_headers(asc_ctx_t *c, asc_http_header_t *h, int stream)
{
    size_t n = 0;
    if (stream) {
        h[n++] = (asc_http_header_t){"Content-Type", 12, "text/event-stream", 17};
        h[n++] = (asc_http_header_t){"Cache-Control", 13, "no-cache", 8};
    } else {
        h[n++] = (asc_http_header_t){"Content-Type", 12, "application/json", 16};
    }
    size_t ml = strlen(c->route.public_name);
    const char *prov = c->cur->provider->name;
    size_t pl = strlen(prov);
    h[n++] = (asc_http_header_t){"x-asc-model", 11,
                                 asc_pool_strndup(c->req->pool, c->route.public_name, ml), ml};
    h[n++] =
        (asc_http_header_t){"x-asc-provider", 14, asc_pool_strndup(c->req->pool, prov, pl), pl};
    n += route_headers(c, h + n);
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
    stop_backoff(c);
    abandon_probe(c);
    c->rec.error_code = code;
    asc_record_add(&c->rec, ASC_REC_ERROR, code, "upstream", status, 0);
    if (!c->began) {
        asc_http_header_t h[8];
        size_t n = 0;
        for (size_t i = 0; i < nextra && n < 4; i++)
            h[n++] = extra[i];
        n += route_headers(c, h + n);
        asc_ctx_settle(c, status);
        release_all(c);
        asc_gateway_error(c->req, c->errors, status, code, message, h, n);
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
    release_all(c);
    asc_http_stream_end(c->req, 0);
}

/* ---- choosing and starting attempts ------------------------------------ */

/* The upstream body for target t in *out, and how its answer is read.
 * ASC_EUNSUPPORTED / ASC_EINVAL / ASC_ETOOBIG with a message when this
 * target cannot serve the request. */
asc_err_t asc_proxy_encode(asc_ctx_t *c, const asc_target_rt_t *t, asc_buf_t *out, int *passthrough,
                           const asc_dialect_t **dialect, char *err, size_t errlen)
{
    const asc_adapter_t *a = t->provider->adapter;
    asc_err_t rc;
    err[0] = '\0';
    *passthrough = 0;
    *dialect = NULL;
    if (c->api.op == ASC_OP_EMBEDDINGS) {
        if (a->embeddings_request == NULL) {
            snprintf(err, errlen,
                     "the model `%.256s` is served by a %s provider, which has no embeddings API",
                     c->model, t->provider->kind);
            return ASC_EUNSUPPORTED;
        }
        return a->embeddings_request(&c->api, t->model, out, err, errlen);
    }
    if (c->client_dialect == NULL && a->chat_request != NULL && !c->mistral_sdk) {
        *passthrough = 1;
        return a->chat_request(&c->api, t->model, out, err, errlen);
    }
    if (c->client_dialect == NULL) {
        /* OpenAI chat to another dialect: the canonical decode reuses the
         * pass-through parse, once per request */
        if (!c->canon_ready) {
            char note[512] = "";
            rc = asc_api_openai_chat_canon(c->req->pool, &c->api, &c->canon, note, sizeof note);
            if (rc != ASC_OK) {
                snprintf(err, errlen, "%s", note);
                return rc;
            }
            if (note[0] != '\0') /* dropped hints */
                asc_record_add(&c->rec, ASC_REC_NOTE, note, NULL, 0, 0);
            c->canon.whole_tool_calls = c->mistral_sdk;
            c->canon_ready = 1;
        }
        *dialect = &asc_dialect_openai_chat;
    } else {
        *dialect = c->client_dialect;
    }
    return a->encode_chat(&c->canon, t->model, c->req->pool, out, err, errlen);
}

/* Move to the next target of the plan that its breaker admits and that can
 * encode the request: c->cur, c->upbody, c->passthrough and c->dialect are
 * set. 0 when none is left. */
static int next_target(asc_ctx_t *c)
{
    char err[512];
    c->probe = 0;
    while (c->next < c->plan.norder) {
        const asc_target_rt_t *t = c->plan.order[c->next++];
        int probe = 0;
        uint64_t retry_in = 0;
        if (!asc_health_admit(t->health, &c->route.rt->cfg->breaker, now_ms(), &probe, &retry_in)) {
            asc_record_add(&c->rec, ASC_REC_SKIP, t->label, "circuit open", 0, 0);
            if (c->skip_retry_in_ms == 0 || retry_in < c->skip_retry_in_ms)
                c->skip_retry_in_ms = retry_in;
            continue;
        }
        asc_buf_free(&c->upbody);
        asc_buf_init(&c->upbody, 0);
        int pt = 0;
        const asc_dialect_t *d = NULL;
        asc_err_t rc = asc_proxy_encode(c, t, &c->upbody, &pt, &d, err, sizeof err);
        if (rc != ASC_OK) {
            if (probe)
                asc_health_abandon(t->health);
            asc_record_add(&c->rec, ASC_REC_SKIP, t->label, err, 0, 0);
            if (c->encode_error[0] == '\0') {
                snprintf(c->encode_error, sizeof c->encode_error, "%s", err);
                c->encode_status = rc == ASC_ETOOBIG ? 413 : 400;
            }
            continue;
        }
        if (err[0] != '\0') { /* hints the adapter dropped */
            char note[600];
            snprintf(note, sizeof note, "%s%s",
                     strncmp(err, "dropped", 7) == 0 ? "" : "dropped: ", err);
            asc_record_add(&c->rec, ASC_REC_NOTE, note, NULL, 0, 0);
        }
        c->cur = t;
        c->probe = probe;
        c->tries = 0;
        c->passthrough = pt;
        c->dialect = d;
        return 1;
    }
    return 0;
}

static void launch(asc_ctx_t *c);

static void on_backoff(uv_timer_t *tm)
{
    asc_ctx_t *c = tm->data;
    stop_backoff(c);
    if (!c->finished)
        launch(c);
}

/* Launch the current attempt after delay ms. Always through the loop: a
 * failure is seen inside libcurl's callbacks, where no transfer may start. */
static int schedule(asc_ctx_t *c, uint64_t delay)
{
    c->backoff = malloc(sizeof *c->backoff);
    if (c->backoff == NULL)
        return 0;
    uv_timer_init(&c->worker->loop, c->backoff);
    c->backoff->data = c;
    uv_timer_start(c->backoff, on_backoff, delay, 0);
    return 1;
}

/* Retry-After (or OpenAI's retry-after-ms) of the failed attempt, in ms;
 * 0 when absent. */
static uint64_t retry_after_ms(asc_ctx_t *c)
{
    size_t n = 0;
    const char *v = c->xfer ? asc_upstream_header(c->xfer, "retry-after-ms", &n) : NULL;
    char buf[64];
    if (v != NULL && n > 0 && n < sizeof buf) {
        memcpy(buf, v, n);
        buf[n] = '\0';
        double d = strtod(buf, NULL);
        if (d > 0 && d < 86400000.0)
            return (uint64_t)d;
    }
    v = c->xfer ? asc_upstream_header(c->xfer, "retry-after", &n) : NULL;
    if (v == NULL || n == 0 || n >= sizeof buf)
        return 0;
    memcpy(buf, v, n);
    buf[n] = '\0';
    char *end = NULL;
    double d = strtod(buf, &end);
    if (end != buf && (*end == '\0' || *end == ' ') && d >= 0 && d < 86400.0)
        return (uint64_t)(d * 1000.0);
    time_t when = curl_getdate(buf, NULL);
    uint64_t wall = asc_clock_wall_ms();
    if (when > 0 && (uint64_t)when * 1000u > wall)
        return (uint64_t)when * 1000u - wall;
    return 0;
}

/* What failed, as the client will see it if nothing else succeeds. */
typedef struct {
    const char *outcome; /* error class for the record */
    int status;          /* the client's status */
    const char *code;
    char message[512];
    int retryable, fallback;
    asc_health_outcome_t health;
    uint64_t retry_after_ms;
} failure_t;

/* An attempt failed before the client saw a byte: retry, fall back, or
 * give up with f's error. */
static void attempt_failed(asc_ctx_t *c, failure_t *f)
{
    const asc_config_model_t *rc = c->route.rt->cfg;
    uint64_t now = asc_clock_ns();
    report(c, f->health);
    /* keep the Retry-After for the client before the transfer goes */
    char ra[32] = "";
    if (f->retry_after_ms > 0)
        snprintf(ra, sizeof ra, "%llu", (unsigned long long)((f->retry_after_ms + 999) / 1000));
    cancel_upstream(c);
    release_attempt(c);
    uint64_t left_ms = c->deadline_ns > now ? (c->deadline_ns - now) / 1000000u : 0;

    if (f->retryable && c->tries <= rc->retries && left_ms > 0 &&
        f->retry_after_ms <= rc->max_retry_after_ms) {
        /* full jitter over an exponential ceiling, at least Retry-After */
        uint64_t ceil_ms = rc->backoff_ms << (c->tries > 16 ? 16 : c->tries - 1);
        if (ceil_ms > rc->max_backoff_ms)
            ceil_ms = rc->max_backoff_ms;
        uint64_t delay = (uint64_t)(asc_route_random() * (double)ceil_ms);
        if (delay < f->retry_after_ms)
            delay = f->retry_after_ms;
        if (delay < left_ms && schedule(c, delay)) {
            attempt_end(c, f->outcome, "retry", f->status);
            return;
        }
    }
    if (f->fallback && left_ms > 0 && next_target(c) && schedule(c, 0)) {
        attempt_end(c, f->outcome, "fallback", f->status);
        return;
    }
    attempt_end(c, f->outcome, "final", f->status);
    asc_http_header_t extra[1];
    size_t nextra = 0;
    if (ra[0] && (f->status == 429 || f->status == 503)) {
        char *v = asc_pool_strndup(c->req->pool, ra, strlen(ra));
        extra[nextra++] = (asc_http_header_t){"Retry-After", 11, v, strlen(v)};
    }
    if (left_ms == 0 && f->status != 504) {
        char m[600];
        snprintf(m, sizeof m, "the route's time budget (%llu ms) ran out; last error: %s",
                 (unsigned long long)rc->timeout_ms, f->message);
        fail(c, 504, "upstream_timeout", m, NULL, 0);
        return;
    }
    fail(c, f->status, f->code, f->message, extra, nextra);
}

/* An answer that is not a valid response: another target may do better. */
static void protocol_failure(asc_ctx_t *c, const char *message)
{
    failure_t f = {.outcome = "protocol",
                   .status = 502,
                   .code = "upstream_error",
                   .fallback = 1,
                   .health = ASC_HEALTH_FAIL};
    snprintf(f.message, sizeof f.message, "%s", message);
    attempt_failed(c, &f);
}

/* A non-2xx upstream answer → failure_t through the adapter's classifier. */
static void classify_http(asc_ctx_t *c, int status, const char *body, size_t len, failure_t *f)
{
    asc_upstream_error_t ue;
    c->cur->provider->adapter->classify_error(status, body, len, &ue);
    memset(f, 0, sizeof *f);
    snprintf(f->message, sizeof f->message, "%s", ue.message);
    f->retryable = ue.retryable;
    f->fallback = ue.fallback;
    f->retry_after_ms = retry_after_ms(c);
    f->health = ASC_HEALTH_FAIL;
    switch (ue.cls) {
    case ASC_UPERR_RATE_LIMIT:
        f->outcome = "rate_limit";
        f->status = 429;
        f->code = "rate_limited";
        break;
    case ASC_UPERR_OVERLOADED:
        f->outcome = "overloaded";
        f->status = 503;
        f->code = "overloaded";
        break;
    case ASC_UPERR_CONTEXT:
        f->outcome = "context_length";
        f->status = 400;
        f->code = "context_length_exceeded";
        f->health = ASC_HEALTH_NEUTRAL;
        break;
    case ASC_UPERR_CLIENT:
        f->outcome = "client_error";
        f->status = status >= 400 && status < 500 ? status : 400;
        f->code = "invalid_request";
        f->health = ASC_HEALTH_NEUTRAL;
        break;
    case ASC_UPERR_AUTH:
        f->outcome = "auth";
        f->status = 502;
        f->code = "upstream_error";
        break;
    default:
        f->outcome = ue.cls == ASC_UPERR_PROTOCOL ? "protocol" : "server_error";
        f->status = 502;
        f->code = "upstream_error";
        break;
    }
}

/* ---- streaming ---------------------------------------------------------- */

static int begin_stream(asc_ctx_t *c)
{
    if (c->began)
        return 1;
    asc_http_header_t h[12];
    size_t n = gateway_headers(c, h, 1);
    c->began = 1;
    c->rec.status = 200;
    c->rec.ttfb_ns = asc_clock_ns() - c->rec.start_ns;
    return asc_http_stream_begin(c->req, 200, h, n) == ASC_OK;
}

static void emit(asc_ctx_t *c, const char *p, size_t n, int flush);

static void on_hold_timeout(uv_timer_t *t)
{
    asc_ctx_t *c = t->data;
    close_timer(&c->hold_timer);
    if (!c->finished && !c->began)
        emit(c, NULL, 0, 1);
}

/* Write client bytes: held back until the attempt's first content (so that
 * an error before it can still fall back), but not longer than HOLD_MS: a
 * model that thinks for minutes must not leave its client (and the load
 * balancers on the way) without a byte. */
static void emit(asc_ctx_t *c, const char *p, size_t n, int flush)
{
    if (!c->began && !flush) {
        if (c->hold.limit == 0) {
            asc_buf_init(&c->hold, MAX_HOLD);
            c->hold_timer = malloc(sizeof *c->hold_timer);
            if (c->hold_timer != NULL) {
                uv_timer_init(&c->worker->loop, c->hold_timer);
                c->hold_timer->data = c;
                uv_timer_start(c->hold_timer, on_hold_timeout, HOLD_MS, 0);
            }
        }
        if (asc_buf_append(&c->hold, p, n) == ASC_OK)
            return;
        /* too much before any content: stop holding */
    }
    close_timer(&c->hold_timer);
    if (!begin_stream(c))
        return;
    int congested = 0;
    if (c->hold.len > 0) {
        c->rec.bytes_out += c->hold.len;
        asc_http_stream_write(c->req, c->hold.data, c->hold.len, &congested);
        asc_buf_clear(&c->hold);
    }
    if (n > 0) {
        c->rec.bytes_out += n;
        asc_http_stream_write(c->req, p, n, &congested);
    }
    if (congested && !c->paused && c->xfer != NULL) {
        c->paused = 1;
        asc_upstream_pause(c->xfer, 1);
    }
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

/* The stream failed with (status, code, message): before the client saw a
 * byte it is an attempt failure, after it the end. */
static void stream_failed(asc_ctx_t *c, int status, const char *code, const char *message,
                          const char *outcome, int retryable)
{
    if (!c->began) {
        failure_t f;
        memset(&f, 0, sizeof f);
        asc_upstream_error_t ue;
        asc_upstream_error_classify(status, message, 0, status == 503, 0, &ue);
        f.outcome = outcome;
        f.status = status;
        f.code = code;
        snprintf(f.message, sizeof f.message, "%s", message);
        f.retryable = retryable && ue.retryable;
        f.fallback = ue.fallback;
        f.health = ue.cls == ASC_UPERR_CLIENT ? ASC_HEALTH_NEUTRAL : ASC_HEALTH_FAIL;
        attempt_failed(c, &f);
        return;
    }
    report(c, ASC_HEALTH_FAIL);
    attempt_end(c, outcome, "final", status);
    stream_to_record(c);
    fail(c, status, code, message, NULL, 0);
}

static int on_sse_event(void *ud, const char *event, const char *data, size_t len, size_t raw_end)
{
    asc_ctx_t *c = ud;
    (void)raw_end;
    if (c->finished || c->cur == NULL || !c->sse_init)
        return 1;
    asc_buf_clear(&c->xout);
    int had_content = c->xs.first_content;
    asc_err_t e = asc_xstream_event(&c->xs, event, data, len);
    if (e == ASC_EINVAL) {
        stream_failed(c, 502, "upstream_error", "the upstream sent a malformed stream event",
                      "protocol", 0);
        return 1;
    }
    if (e == ASC_ECLOSED) {
        char m[300];
        snprintf(m, sizeof m, "%s", c->xs.error_message);
        stream_failed(c, c->xs.error_status, c->xs.error_code, m, "stream_error", 1);
        return 1;
    }
    if (c->xs.first_content && !had_content) {
        uint64_t t = asc_clock_ns();
        c->rec.first_token_ns = t - c->rec.start_ns;
        c->attempt_ttft_ns = t - c->attempt_start_ns;
        asc_record_add(&c->rec, ASC_REC_FIRST_TOKEN, NULL, NULL, 0, 0);
    }
    if (c->xout.len == 0 && !(c->xs.first_content && !c->began))
        return 0;
    emit(c, c->xout.data, c->xout.len, c->xs.first_content);
    return 0;
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
        asc_xstream_init(&c->xs, c->cur->provider->adapter, c->dialect, &c->canon, c->model,
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
        if (e == ASC_ETOOBIG && !c->finished && c->sse_init)
            stream_failed(c, 502, "upstream_error",
                          "an upstream stream event exceeded the size limit", "protocol", 0);
        return;
    }
    if (asc_buf_append(&c->resp, p, n) != ASC_OK) {
        protocol_failure(c, "the upstream response exceeded the size limit");
    }
}

/* The complete non-streamed response: relayed (pass-through) or translated. */
static void finish_nonstream(asc_ctx_t *c)
{
    int st = c->up_status;
    if (st < 200 || st >= 300) {
        failure_t f;
        classify_http(c, st, c->resp.data, c->resp.len, &f);
        attempt_failed(c, &f);
        return;
    }
    const asc_adapter_t *a = c->cur->provider->adapter;
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
        protocol_failure(c, "the upstream sent a malformed response");
        return;
    }
    report(c, ASC_HEALTH_OK);
    attempt_end(c, "ok", "answer", st);
    c->out_bytes = gen;
    if (usage.present)
        c->rec.usage = usage;
    if (fr[0]) {
        snprintf(c->rec.finish_reason, sizeof c->rec.finish_reason, "%s", fr);
        asc_record_add(&c->rec, ASC_REC_FINISH, fr, NULL, 0, 0);
    }
    asc_http_header_t h[12];
    size_t n = gateway_headers(c, h, 0);
    c->rec.bytes_out = body.len;
    c->rec.ttfb_ns = asc_clock_ns() - c->rec.start_ns;
    asc_ctx_settle(c, 200);
    /* c lives in the request's pool: release the rest, then end the request
     * (after which c is gone). */
    c->xfer = NULL;
    release_all(c);
    asc_http_respond(c->req, 200, h, n, body.data ? body.data : "", body.len);
    asc_buf_free(&body);
}

static void on_up_done(asc_upstream_xfer_t *x, asc_err_t e, const char *msg, void *ud)
{
    asc_ctx_t *c = ud;
    (void)x;
    if (c->finished)
        return;
    if (e != ASC_OK) {
        int timeout = e == ASC_ETIMEOUT;
        char m[300];
        if (timeout)
            snprintf(m, sizeof m, "%s", msg ? msg : "upstream timeout");
        else
            snprintf(m, sizeof m, "upstream connection failed: %s", msg ? msg : "error");
        if (c->sse_init)
            stream_to_record(c);
        if (c->began) {
            c->xfer = NULL;
            stream_failed(c, timeout ? 504 : 502, timeout ? "upstream_timeout" : "upstream_error",
                          m, timeout ? "timeout" : "connection", 0);
            return;
        }
        failure_t f = {.outcome = timeout ? "timeout" : "connection",
                       .status = timeout ? 504 : 502,
                       .code = timeout ? "upstream_timeout" : "upstream_error",
                       .retryable = 1,
                       .fallback = 1,
                       .health = ASC_HEALTH_FAIL};
        snprintf(f.message, sizeof f.message, "%s", m);
        attempt_failed(c, &f);
        return;
    }
    if (c->sse_init) {
        asc_buf_clear(&c->xout);
        int complete = !asc_sse_pending(&c->sse) && asc_xstream_finish(&c->xs);
        if (!complete) {
            stream_to_record(c);
            stream_failed(c, 502, "upstream_error",
                          "the upstream stream ended before it was complete", "truncated", 0);
            return;
        }
        c->xfer = NULL;
        stream_to_record(c);
        emit(c, c->xout.data ? c->xout.data : "", c->xout.len, 1);
        report(c, ASC_HEALTH_OK);
        attempt_end(c, "ok", "answer", 200);
        asc_ctx_settle(c, 200);
        release_all(c);
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
    stop_backoff(c);
    abandon_probe(c);
    if (c->sse_init)
        stream_to_record(c);
    c->rec.aborted = 1;
    c->rec.error_code = "client_closed";
    asc_record_add(&c->rec, ASC_REC_ABORT, NULL, NULL, 0, 0);
    asc_ctx_settle(c, c->began ? 200 : 499);
    release_all(c);
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
struct curl_slist *asc_proxy_headers(asc_http_req_t *req, const struct curl_slist *base,
                                     asc_pool_t *pool)
{
    /* libcurl takes a mutable list but only reads it */
    struct curl_slist *head = (struct curl_slist *)base;
    size_t tl = 0;
    const char *tp = asc_http_req_header(req, "traceparent", &tl);
    if (tp == NULL || tl != 55)
        return head;
    for (size_t i = 0; i < tl; i++)
        if (!((tp[i] >= '0' && tp[i] <= '9') || (tp[i] >= 'a' && tp[i] <= 'f') || tp[i] == '-'))
            return head;
    struct curl_slist *node = asc_pool_alloc(pool, sizeof *node);
    char *line = asc_pool_alloc(pool, 13 + tl + 1);
    memcpy(line, "traceparent: ", 13);
    memcpy(line + 13, tp, tl);
    line[13 + tl] = '\0';
    node->data = line;
    node->next = head;
    return node;
}

static uint64_t cap(uint64_t v, uint64_t limit)
{
    return v < limit ? v : limit;
}

/* Send the current attempt: c->cur with c->upbody. */
static void launch(asc_ctx_t *c)
{
    const asc_target_rt_t *t = c->cur;
    const asc_provider_rt_t *p = t->provider;
    const asc_config_provider_t *pc = p->cfg;
    char err[512];
    uint64_t now = asc_clock_ns();
    uint64_t left = c->deadline_ns > now ? (c->deadline_ns - now) / 1000000u : 1;
    if (left == 0)
        left = 1;
    c->tries++;
    c->rec.attempts++;
    c->reported = 0;
    c->attempt_ttft_ns = 0;
    c->attempt_start_ns = now;
    c->rec.provider = p->name;
    c->rec.upstream_model = t->model;
    c->rec.target = t->label;
    asc_record_add(&c->rec, ASC_REC_ATTEMPT, p->name, t->model, c->rec.attempts, 0);
    const char *cred = NULL;
    const struct curl_slist *base =
        asc_snapshot_credential(c->snap, p, c->key->tenant ? c->key->tenant->name : NULL, &cred);
    c->rec.credential = cred;
    if (cred != NULL)
        asc_record_add(&c->rec, ASC_REC_CREDENTIAL, cred, NULL, 0, 0);
    asc_upstream_req_t ur = {
        .url = c->api.op == ASC_OP_EMBEDDINGS ? p->embeddings_url : p->chat_url,
        .method = "POST",
        .body = c->upbody.data,
        .body_len = c->upbody.len,
        .headers = asc_proxy_headers(c->req, base, c->req->pool),
        .connect_timeout_ms = cap(t->connect_timeout_ms, left),
        .first_byte_timeout_ms = cap(t->first_byte_timeout_ms, left),
        .idle_timeout_ms = t->idle_timeout_ms,
        /* the budget bounds the attempts, not a stream already answering */
        .total_timeout_ms = c->stream ? t->total_timeout_ms : cap(t->total_timeout_ms, left),
        .ca_file = pc->ca_file,
        .proxy = pc->proxy,
    };
    c->xfer = asc_upstream_start(c->worker->upstream, &ur, &k_callbacks, c, err, sizeof err);
    if (c->xfer == NULL) {
        failure_t f = {.outcome = "connection",
                       .status = 502,
                       .code = "upstream_error",
                       .fallback = 1,
                       .health = ASC_HEALTH_NEUTRAL};
        snprintf(f.message, sizeof f.message, "%s", err);
        attempt_failed(c, &f);
    }
}

void asc_proxy_start(asc_ctx_t *c)
{
    c->req->data = c;
    c->req->on_abort = on_client_abort;
    c->req->on_drain = on_client_drain;
    asc_buf_init(&c->upbody, 0);
    c->deadline_ns = c->rec.start_ns + c->route.rt->cfg->timeout_ms * 1000000u;
    if (!next_target(c)) {
        if (c->encode_error[0] != '\0') {
            fail(c, c->encode_status,
                 c->encode_status == 413 ? "request_too_large" : "invalid_request", c->encode_error,
                 NULL, 0);
            return;
        }
        char m[200], ra[32];
        uint64_t s = (c->skip_retry_in_ms + 999) / 1000;
        snprintf(m, sizeof m, "no healthy target for the model `%.100s`: every circuit is open",
                 c->model);
        snprintf(ra, sizeof ra, "%llu", (unsigned long long)(s ? s : 1));
        char *v = asc_pool_strndup(c->req->pool, ra, strlen(ra));
        asc_http_header_t h = {"Retry-After", 11, v, strlen(v)};
        fail(c, 503, "no_healthy_target", m, &h, 1);
        return;
    }
    asc_shadow_start_all(c);
    launch(c);
}

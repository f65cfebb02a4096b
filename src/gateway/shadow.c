#include "gateway/shadow.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/clock.h"
#include "gateway/proxy.h"
#include "gateway/translate.h"

#define MAX_INFLIGHT 64
#define MAX_BODY (16u * 1024 * 1024)
#define POOL_LIMIT (64u * 1024 * 1024)

typedef struct asc_shadow {
    struct asc_shadow *prev, *next; /* this worker's shadows */
    asc_worker_t *worker;
    asc_snapshot_t *snap; /* keeps target and provider alive */
    const asc_route_rt_t *route;
    const asc_target_rt_t *t;
    asc_pool_t *pool;
    asc_pool_t *scratch;
    asc_record_t rec;
    asc_buf_t body;
    asc_buf_t resp;
    asc_upstream_xfer_t *xfer;
    int stream, sse_init, status, stream_error;
    asc_sse_t sse;
    void *astate;
    char request_id[160];
    char path[64];
} asc_shadow_t;

static _Thread_local asc_shadow_t *t_list;
static _Thread_local unsigned t_inflight;

static void shadow_free(asc_shadow_t *s)
{
    if (s->prev)
        s->prev->next = s->next;
    else
        t_list = s->next;
    if (s->next)
        s->next->prev = s->prev;
    t_inflight--;
    asc_buf_free(&s->body);
    asc_buf_free(&s->resp);
    if (s->sse_init)
        asc_sse_free(&s->sse);
    asc_snapshot_unref(s->snap);
    asc_pool_destroy(s->scratch);
    asc_pool_destroy(s->pool);
    free(s);
}

static void set_usage(asc_shadow_t *s, const asc_canon_usage_t *u)
{
    if (u->present)
        asc_translate_usage(u, &s->rec.usage);
}

static int on_sev(void *ud, const asc_sev_t *ev)
{
    asc_shadow_t *s = ud;
    switch (ev->type) {
    case ASC_SEV_TEXT:
    case ASC_SEV_TOOL_START:
    case ASC_SEV_TOOL_ARGS:
        if (s->rec.first_token_ns == 0)
            s->rec.first_token_ns = asc_clock_ns() - s->rec.start_ns;
        break;
    case ASC_SEV_USAGE: set_usage(s, &ev->usage); break;
    case ASC_SEV_FINISH:
        snprintf(s->rec.finish_reason, sizeof s->rec.finish_reason, "%s",
                 asc_translate_finish_name(ev->finish));
        break;
    case ASC_SEV_ERROR: s->stream_error = ev->error_status ? ev->error_status : 502; return 1;
    default: break;
    }
    return 0;
}

static int on_sse(void *ud, const char *event, const char *data, size_t len, size_t raw_end)
{
    asc_shadow_t *s = ud;
    (void)raw_end;
    asc_pool_reset(s->scratch);
    if (s->t->provider->adapter->decode_stream(s->astate, s->scratch, event, data, len, on_sev,
                                               s) != ASC_OK) {
        s->stream_error = 502;
        return 1;
    }
    return s->stream_error != 0;
}

static void on_headers(asc_upstream_xfer_t *x, int status, void *ud)
{
    asc_shadow_t *s = ud;
    s->status = status;
    s->rec.upstream_status = status;
    s->rec.ttfb_ns = asc_clock_ns() - s->rec.start_ns;
    size_t ctl = 0;
    const char *ct = asc_upstream_header(x, "content-type", &ctl);
    int sse = ct != NULL && ctl >= 17 && strncasecmp(ct, "text/event-stream", 17) == 0;
    const asc_adapter_t *a = s->t->provider->adapter;
    if (status >= 200 && status < 300 && sse && a->decode_stream != NULL) {
        asc_sse_init(&s->sse, 8u * 1024 * 1024);
        s->astate = asc_pool_alloc(s->pool, a->stream_state_size ? a->stream_state_size : 1);
        memset(s->astate, 0, a->stream_state_size ? a->stream_state_size : 1);
        s->sse_init = 1;
        return;
    }
    asc_buf_init(&s->resp, MAX_BODY);
}

static void on_data(asc_upstream_xfer_t *x, const char *p, size_t n, void *ud)
{
    asc_shadow_t *s = ud;
    (void)x;
    s->rec.bytes_out += n;
    if (s->sse_init) {
        if (s->stream_error == 0)
            (void)asc_sse_feed(&s->sse, p, n, on_sse, s);
        return;
    }
    (void)asc_buf_append(&s->resp, p, n); /* past the limit: judged malformed */
}

static void on_done(asc_upstream_xfer_t *x, asc_err_t e, const char *msg, void *ud)
{
    asc_shadow_t *s = ud;
    (void)x;
    (void)msg;
    s->xfer = NULL;
    const asc_adapter_t *a = s->t->provider->adapter;
    int ok = 0;
    const char *err = NULL;
    if (e == ASC_ETIMEOUT) {
        err = "upstream_timeout";
    } else if (e != ASC_OK) {
        err = "upstream_error";
    } else if (s->status < 200 || s->status >= 300) {
        err = s->status == 429 ? "rate_limited" : "upstream_error";
    } else if (s->sse_init) {
        ok = s->stream_error == 0 && !asc_sse_pending(&s->sse);
        if (!ok)
            err = "upstream_error";
    } else {
        asc_chat_resp_t r;
        memset(&r, 0, sizeof r);
        if (a->decode_chat != NULL &&
            a->decode_chat(s->pool, s->resp.data ? s->resp.data : "", s->resp.len, &r) == ASC_OK) {
            ok = 1;
            set_usage(s, &r.usage);
            snprintf(s->rec.finish_reason, sizeof s->rec.finish_reason, "%s",
                     asc_translate_finish_name(r.finish));
            s->rec.first_token_ns = asc_clock_ns() - s->rec.start_ns;
        } else {
            err = "upstream_error";
        }
    }
    uint64_t now = asc_clock_ns();
    uint64_t ttft = s->rec.first_token_ns ? s->rec.first_token_ns : now - s->rec.start_ns;
    asc_health_outcome_t o = ok ? ASC_HEALTH_OK
                             : (s->status >= 400 && s->status < 500 && s->status != 429)
                                 ? ASC_HEALTH_NEUTRAL
                                 : ASC_HEALTH_FAIL;
    asc_health_report(s->t->health, &s->route->cfg->breaker, o, 0, ttft / 1000000u, now / 1000000u);
    s->rec.error_code = err;
    s->rec.status = ok ? 200 : (s->status >= 400 ? s->status : 502);
    asc_record_add(&s->rec, ASC_REC_ATTEMPT_END, ok ? "ok" : err, "shadow", s->status,
                   (int64_t)((now - s->rec.start_ns) / 1000u));
    asc_record_add(&s->rec, ASC_REC_DONE, NULL, NULL, s->rec.status, 0);
    if (asc_accesslog_enabled() && s->worker->log != NULL) {
        asc_buf_t line;
        asc_buf_init(&line, 0);
        asc_record_json(&s->rec, s->request_id, "POST", s->path, NULL, &line);
        asc_accesslog_append(s->worker->log, line.data, line.len);
        asc_buf_free(&line);
    }
    shadow_free(s);
}

static const asc_upstream_cb_t k_cb = {on_headers, on_data, on_done};

static void start_one(asc_ctx_t *c, const asc_target_rt_t *t)
{
    char note[600], err[512];
    if (!asc_route_region_allowed(c->key->regions, c->key->nregions, t->region)) {
        snprintf(note, sizeof note, "shadow %s skipped: outside the allowed regions", t->label);
        asc_record_add(&c->rec, ASC_REC_NOTE, note, NULL, 0, 0);
        return;
    }
    if (t->sample < 1 && asc_route_random() >= t->sample)
        return;
    if (t_inflight >= MAX_INFLIGHT) {
        snprintf(note, sizeof note, "shadow %s dropped: %d shadows in flight", t->label,
                 MAX_INFLIGHT);
        asc_record_add(&c->rec, ASC_REC_NOTE, note, NULL, 0, 0);
        return;
    }
    int probe = 0;
    uint64_t retry_in = 0;
    if (!asc_health_admit(t->health, &c->route.rt->cfg->breaker, asc_clock_ns() / 1000000u, &probe,
                          &retry_in))
        return; /* its circuit is open */
    if (probe)
        asc_health_abandon(t->health); /* probes are for real traffic */
    asc_shadow_t *s = calloc(1, sizeof *s);
    if (s == NULL)
        return;
    s->pool = asc_pool_create(POOL_LIMIT);
    s->scratch = asc_pool_create(POOL_LIMIT);
    if (s->pool == NULL || s->scratch == NULL) {
        asc_pool_destroy(s->pool);
        asc_pool_destroy(s->scratch);
        free(s);
        return;
    }
    asc_buf_init(&s->body, 0);
    int pt = 0;
    const asc_dialect_t *d = NULL;
    if (asc_proxy_encode(c, t, &s->body, &pt, &d, err, sizeof err) != ASC_OK) {
        snprintf(note, sizeof note, "shadow %s skipped: %s", t->label, err);
        asc_record_add(&c->rec, ASC_REC_NOTE, note, NULL, 0, 0);
        asc_buf_free(&s->body);
        asc_pool_destroy(s->pool);
        asc_pool_destroy(s->scratch);
        free(s);
        return;
    }
    s->worker = c->worker;
    s->snap = asc_snapshot_ref(c->snap);
    s->route = c->route.rt;
    s->t = t;
    s->stream = c->stream;
    snprintf(s->request_id, sizeof s->request_id, "%s", c->req->request_id);
    snprintf(s->path, sizeof s->path, "%.*s", (int)c->req->path_len, c->req->path);
    asc_record_init(&s->rec, s->pool, asc_clock_ns());
    s->rec.shadow = 1;
    s->rec.key_name = asc_pool_strndup(s->pool, c->key->name, strlen(c->key->name));
    s->rec.model = asc_pool_strndup(s->pool, c->model, strlen(c->model));
    s->rec.route = s->route->name;
    s->rec.target = t->label;
    s->rec.provider = t->provider->name;
    s->rec.upstream_model = t->model;
    s->rec.stream = s->stream;
    s->rec.attempts = 1;
    asc_record_add(&s->rec, ASC_REC_ATTEMPT, t->provider->name, t->model, 1, 0);
    const char *cred = NULL;
    const struct curl_slist *base = asc_snapshot_credential(
        c->snap, t->provider, c->key->tenant ? c->key->tenant->name : NULL, &cred);
    s->rec.tenant = c->rec.tenant;
    s->rec.team = c->rec.team;
    s->rec.credential = cred;
    if (cred != NULL)
        asc_record_add(&s->rec, ASC_REC_CREDENTIAL, cred, NULL, 0, 0);
    s->next = t_list;
    if (t_list)
        t_list->prev = s;
    t_list = s;
    t_inflight++;
    const asc_config_provider_t *pc = t->provider->cfg;
    asc_upstream_req_t ur = {
        .url = c->api.op == ASC_OP_EMBEDDINGS ? t->provider->embeddings_url : t->provider->chat_url,
        .method = "POST",
        .body = s->body.data,
        .body_len = s->body.len,
        .headers = asc_proxy_headers(c->req, base, s->pool),
        .connect_timeout_ms = t->connect_timeout_ms,
        .first_byte_timeout_ms = t->first_byte_timeout_ms,
        .idle_timeout_ms = t->idle_timeout_ms,
        .total_timeout_ms = t->total_timeout_ms,
        .ca_file = pc->ca_file,
        .proxy = pc->proxy,
    };
    s->xfer = asc_upstream_start(c->worker->upstream, &ur, &k_cb, s, err, sizeof err);
    if (s->xfer == NULL)
        shadow_free(s);
}

void asc_shadow_start_all(asc_ctx_t *c)
{
    const asc_route_rt_t *r = c->route.rt;
    for (size_t i = 0; i < r->nshadows; i++)
        start_one(c, &r->shadows[i]);
}

void asc_shadow_abort_all(void)
{
    while (t_list != NULL) {
        asc_shadow_t *s = t_list;
        if (s->xfer != NULL)
            asc_upstream_cancel(s->xfer);
        shadow_free(s);
    }
}

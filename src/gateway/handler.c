/*
 * The gateway's HTTP handler: dispatch on the normalised path, authenticate,
 * decode, resolve the model and hand over to the proxy. Auth and dispatch
 * read the same normalised path (ADVERSARIAL #4).
 */
#include <stdio.h>
#include <string.h>

#include "auth/key.h"
#include "core/clock.h"
#include "gateway/ctx.h"
#include "gateway/errors.h"
#include "gateway/proxy.h"
#include "gateway/routing.h"
#include "gateway/worker.h"

#include <http_parser.h>

void asc_ctx_settle(asc_ctx_t *c, int status)
{
    if (c->finished)
        return;
    c->finished = 1;
    c->rec.status = status;
    if (c->rec.attempts > 0 && !c->rec.usage.present && (status == 200 || c->began)) {
        /* No usage from the provider: estimate (about 4 bytes a token) and
         * say so. Streams cut short still cost what was generated. */
        c->rec.usage.prompt_tokens = (int64_t)((c->input_bytes + 3) / 4);
        if (c->rec.usage.prompt_tokens == 0)
            c->rec.usage.prompt_tokens = 1;
        c->rec.usage.completion_tokens = (int64_t)((c->out_bytes + 3) / 4);
        c->rec.usage.total_tokens = c->rec.usage.prompt_tokens + c->rec.usage.completion_tokens;
        c->rec.usage.estimated = 1;
    }
    if (c->rec.usage.present || c->rec.usage.estimated)
        asc_record_add(&c->rec, ASC_REC_USAGE, NULL, NULL, c->rec.usage.prompt_tokens,
                       c->rec.usage.completion_tokens);
    asc_record_add(&c->rec, ASC_REC_DONE, NULL, NULL, status, 0);
    if (asc_accesslog_enabled() && c->worker->log != NULL) {
        asc_buf_t line;
        asc_buf_init(&line, 0);
        asc_record_json(&c->rec, c->req->request_id, c->req->method_name, c->req->path,
                        c->req->peer_ip, &line);
        asc_accesslog_append(c->worker->log, line.data, line.len);
        asc_buf_free(&line);
    }
    if (c->snap != NULL) {
        asc_snapshot_unref(c->snap);
        c->snap = NULL;
    }
}

static void respond_error(asc_ctx_t *c, int status, const char *code, const char *msg)
{
    c->rec.error_code = code;
    asc_record_add(&c->rec, ASC_REC_ERROR, code, "gateway", status, 0);
    asc_ctx_settle(c, status);
    asc_gateway_error(c->req, c->errors, status, code, msg, NULL, 0);
}

static void respond_json(asc_ctx_t *c, int status, const char *body, size_t len)
{
    static const asc_http_header_t ct = {"Content-Type", 12, "application/json", 16};
    asc_ctx_settle(c, status);
    asc_http_respond(c->req, status, &ct, 1, body, len);
}

static int authenticate(asc_ctx_t *c)
{
    size_t kl = 0;
    const char *k = asc_key_from_request(c->req, &kl);
    asc_key_rt_t *key = k ? asc_key_lookup(c->snap, k, kl) : NULL;
    uint64_t now = asc_clock_wall_ms();
    if (key == NULL || asc_key_expired(key, now)) {
        asc_record_add(&c->rec, ASC_REC_AUTH, key ? key->name : NULL, key ? "expired" : NULL, 0, 0);
        respond_error(c, 401, "invalid_api_key",
                      key ? "this API key has expired"
                      : k ? "invalid API key"
                          : "missing API key: send Authorization: Bearer <key>");
        return 0;
    }
    asc_key_touch(key, now);
    c->key = key;
    c->rec.tenant = key->tenant ? key->tenant->name : NULL;
    c->rec.team = key->team ? key->team->name : NULL;
    c->rec.key_name = c->key->name;
    asc_record_add(&c->rec, ASC_REC_AUTH, c->key->name, NULL, 1, 0);
    return 1;
}

static void handle_models(asc_ctx_t *c)
{
    if (!authenticate(c))
        return;
    asc_buf_t b;
    asc_buf_init(&b, 0);
    asc_buf_puts(&b, "{\"object\":\"list\",\"data\":[");
    uint64_t created = asc_clock_wall_ms() / 1000;
    int first = 1;
    for (size_t i = 0; i < c->snap->nroutes; i++) {
        const asc_route_rt_t *m = &c->snap->routes[i];
        if (!asc_key_allows(c->key, m->name))
            continue;
        const char *owner = m->groups[0].targets[0].provider->name;
        asc_buf_puts(&b, first ? "{\"id\":\"" : ",{\"id\":\"");
        asc_buf_json_str(&b, m->name, strlen(m->name));
        asc_buf_printf(&b, "\",\"object\":\"model\",\"created\":%llu,\"owned_by\":\"",
                       (unsigned long long)created);
        asc_buf_json_str(&b, owner, strlen(owner));
        asc_buf_puts(&b, "\"}");
        first = 0;
    }
    asc_buf_puts(&b, "]}");
    respond_json(c, 200, b.data, b.len);
    asc_buf_free(&b);
}

/* Decode the body in the client's dialect. OpenAI chat to an OpenAI-dialect
 * upstream stays on the pass-through path (decoded once, spliced); every
 * other pair is decoded into the canonical model. Returns 0 after
 * responding with an error. */
static int decode_request(asc_ctx_t *c, asc_op_t op, const asc_dialect_t *d)
{
    char err[512];
    asc_err_t e;
    if (d == NULL || op == ASC_OP_EMBEDDINGS) {
        e = asc_api_openai_decode(c->req->pool, op, c->req->body, c->req->body_len, &c->api, err,
                                  sizeof err);
        if (e == ASC_OK) {
            c->model = c->api.model;
            c->stream = c->api.stream;
            c->include_usage = c->api.include_usage;
            c->input_bytes = c->api.input_bytes;
        }
    } else {
        c->api.op = ASC_OP_CHAT;
        err[0] = '\0';
        e = d->decode(c->req->pool, c->req->body, c->req->body_len, c->req, &c->canon, err,
                      sizeof err);
        /* Hints the dialect dropped (they do not change the answer) are
         * named in the execution record (DESIGN §9). */
        if (e == ASC_OK && err[0] != '\0')
            asc_record_add(&c->rec, ASC_REC_NOTE, err, NULL, 0, 0);
        if (e == ASC_OK &&
            (c->canon.model.p == NULL || c->canon.model.n == 0 || c->canon.model.n > 256 ||
             memchr(c->canon.model.p, 0, c->canon.model.n) != NULL)) {
            snprintf(err, sizeof err,
                     "model: must be a non-empty string of at most 256 characters");
            e = ASC_EINVAL;
        }
        if (e == ASC_OK) {
            c->model = asc_str_dup(c->req->pool, c->canon.model);
            c->stream = c->canon.stream;
            c->include_usage = c->canon.include_usage;
            c->input_bytes = c->canon.input_bytes;
        }
    }
    if (e != ASC_OK) {
        respond_error(c, e == ASC_ETOOBIG ? 413 : 400,
                      e == ASC_ETOOBIG ? "request_too_large" : "invalid_request", err);
        return 0;
    }
    return 1;
}

/* The Mistral SDKs speak chat completions but require every streamed
 * tool-call delta to carry the function name, which OpenAI's streaming
 * shape sends once (and openai-python would concatenate if repeated). Their
 * requests are told apart by the User-Agent those SDKs send, and get
 * Mistral's own shape: each tool call whole in one delta. */
static int mistral_client(const asc_http_req_t *req)
{
    size_t n = 0;
    const char *ua = asc_http_req_header(req, "user-agent", &n);
    /* "mistral-client-typescript/2.7.0", "mistral-client-python/1.9.0",
     * or the generator's "... @mistralai/mistralai" */
    return ua != NULL &&
           (memmem(ua, n, "mistral-client", 14) != NULL || memmem(ua, n, "mistralai", 9) != NULL);
}

/* Auth, decode, resolve, policy and plan, shared by the proxy and explain.
 * dialect: NULL for /v1/chat/completions (pass-through when possible).
 * Returns 0 after responding with an error. */
static int prepare(asc_ctx_t *c, asc_op_t op, const asc_dialect_t *d, int explain)
{
    char err[600];
    if (!authenticate(c))
        return 0;
    if (!decode_request(c, op, d))
        return 0;
    c->rec.model = c->model;
    c->rec.stream = c->stream;
    if (asc_route_resolve(c->snap, c->model, c->req->pool, &c->route) != ASC_OK) {
        snprintf(err, sizeof err,
                 "The model `%.256s` does not exist or you do not have access to it.", c->model);
        respond_error(c, 404, "model_not_found", err);
        return 0;
    }
    if (!asc_key_allows(c->key, c->model)) {
        snprintf(err, sizeof err, "this key may not use the model `%.256s`", c->model);
        respond_error(c, 403, "model_not_allowed", err);
        return 0;
    }
    if (!c->route.direct && c->route.embedding != (op == ASC_OP_EMBEDDINGS)) {
        snprintf(err, sizeof err, "the model `%.256s` is %s model", c->model,
                 c->route.embedding ? "an embedding" : "a chat");
        respond_error(c, 400, "invalid_request", err);
        return 0;
    }
    c->client_dialect = d;
    c->canon_ready = d != NULL;
    if (op == ASC_OP_CHAT && d == NULL)
        c->mistral_sdk = mistral_client(c->req);
    asc_record_add(&c->rec, ASC_REC_MODEL, c->model, c->route.rt->name, 0, 0);
    return asc_gateway_plan(c, explain);
}

static void handle_proxy(asc_ctx_t *c, asc_op_t op, const asc_dialect_t *d)
{
    if (prepare(c, op, d, 0))
        asc_proxy_start(c);
}

/* POST /v1/route/explain: the plan a chat request with this body would
 * follow, without calling any provider. */
static void handle_explain(asc_ctx_t *c)
{
    if (!prepare(c, ASC_OP_CHAT, NULL, 1))
        return;
    asc_buf_t b;
    asc_buf_init(&b, 0);
    asc_gateway_explain_json(c, &b);
    respond_json(c, 200, b.data, b.len);
    asc_buf_free(&b);
}

static int path_is(const asc_http_req_t *r, const char *p)
{
    size_t n = strlen(p);
    return r->path_len == n && memcmp(r->path, p, n) == 0;
}

static void method_not_allowed(asc_ctx_t *c, const char *allow)
{
    static const asc_http_header_t ct = {"Content-Type", 12, "application/json", 16};
    asc_http_header_t h[2] = {ct, {"Allow", 5, allow, strlen(allow)}};
    asc_buf_t b;
    asc_buf_init(&b, 0);
    char msg[96];
    snprintf(msg, sizeof msg, "method %s is not allowed here; use %s", c->req->method_name, allow);
    asc_error_body(&b, 405, "method_not_allowed", msg);
    c->rec.error_code = "method_not_allowed";
    asc_ctx_settle(c, 405);
    asc_http_respond(c->req, 405, h, 2, b.data, b.len);
    asc_buf_free(&b);
}

void asc_gateway_handle(asc_http_req_t *req, void *ud)
{
    asc_worker_t *w = ud;
    asc_ctx_t *c = asc_pool_alloc(req->pool, sizeof *c);
    memset(c, 0, sizeof *c);
    c->req = req;
    c->worker = w;
    asc_record_init(&c->rec, req->pool, req->start_ns);
    c->snap = asc_snapshot_current();
    int get = req->method == HTTP_GET || req->method == HTTP_HEAD;
    int post = req->method == HTTP_POST;

    if (path_is(req, "/healthz")) {
        if (!get)
            return method_not_allowed(c, "GET");
        respond_json(c, 200, "{\"status\":\"ok\"}", 15);
        return;
    }
    if (path_is(req, "/readyz")) {
        if (!get)
            return method_not_allowed(c, "GET");
        char b[96];
        if (c->snap != NULL && asc_workers_ready()) {
            int n =
                snprintf(b, sizeof b, "{\"status\":\"ready\",\"revision\":%u}", c->snap->revision);
            respond_json(c, 200, b, (size_t)n);
        } else {
            respond_error(c, 503, "not_ready", "the gateway is starting or shutting down");
        }
        return;
    }
    if (c->snap == NULL) {
        respond_error(c, 503, "not_ready", "no configuration loaded");
        return;
    }
    if (path_is(req, "/v1/chat/completions")) {
        if (!post)
            return method_not_allowed(c, "POST");
        handle_proxy(c, ASC_OP_CHAT, NULL);
        return;
    }
    if (path_is(req, "/v1/messages")) {
        c->errors = &asc_dialect_anthropic;
        if (!post)
            return method_not_allowed(c, "POST");
        handle_proxy(c, ASC_OP_CHAT, &asc_dialect_anthropic);
        return;
    }
    if (path_is(req, "/v1/responses")) {
        if (!post)
            return method_not_allowed(c, "POST");
        handle_proxy(c, ASC_OP_CHAT, &asc_dialect_openai_responses);
        return;
    }
    if (path_is(req, "/v1/embeddings")) {
        if (!post)
            return method_not_allowed(c, "POST");
        handle_proxy(c, ASC_OP_EMBEDDINGS, NULL);
        return;
    }
    if (path_is(req, "/v1/route/explain")) {
        if (!post)
            return method_not_allowed(c, "POST");
        handle_explain(c);
        return;
    }
    if (path_is(req, "/v1/models")) {
        if (!get)
            return method_not_allowed(c, "GET");
        handle_models(c);
        return;
    }
    char msg[160];
    snprintf(msg, sizeof msg, "unknown path %.100s", req->path);
    respond_error(c, 404, "not_found", msg);
}

/*
 * The mock's request engine: routing, auth, behaviour parameters, the fast
 * path, and jobs (answers that wait for a timer, stream, or fault).
 *
 * A job is one request being answered over time. It runs as a small state
 * machine (run()): START (after latency_ms) -> BODY units (ttft_ms before
 * the first, itl_ms between) -> TAIL, with FAULT branching off. It waits on
 * its timer, on the server's on_drain (backpressure) or forever (stalls),
 * and ends early when the client goes (on_abort). The server may call
 * on_abort from inside our own calls into it (a failed write closes the
 * connection), so while run() is active on_abort only marks the job and
 * run() ends the request itself.
 *
 * Memory: the job is malloc'd and freed in its timer's close callback (or at
 * once when the timer was never started); everything else (model name, tool
 * calls, canned bodies) is in req->pool and only used before the request
 * ends.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "core/clock.h"
#include "mock/mock.h"
#include "mock/mock_int.h"

#define FLUSH_AT 32768 /* bytes of generated stream buffered before a write */
#define RESET_POLL_MS 1
/* reset_mid: after the tokens left the socket, give the peer this long to
 * read them before the RST (Linux drops unread data when an RST arrives). */
#define RESET_GRACE_MS 50

struct job;

struct asc_mock {
    uv_loop_t *loop;
    char *key;
    size_t key_len;
    asc_buf_t out; /* response scratch of this loop */
    uint64_t rng;
    struct job *jobs;
    unsigned njobs;
    int shutting_down;
};

typedef enum { JOB_CANNED, JOB_STREAM } job_kind_t;
typedef enum { W_NONE, W_TIMER, W_DRAIN, W_STALL } wait_t;
typedef enum { P_START, P_BODY, P_TAIL, P_FAULT, P_RESET_WAIT, P_DONE } phase_t;

typedef struct job {
    asc_mock_t *m;
    asc_http_req_t *req; /* NULL once the request ended */
    struct job *prev, *next;
    uv_timer_t timer;
    int timer_init;
    job_kind_t kind;
    asc_mock_fault_t fault; /* stall, reset, the _mid ones, error_event, malformed */
    phase_t phase;
    wait_t wait;
    int running;             /* inside run() */
    int reset_grace;         /* reset_mid: the grace delay has passed */
    int aborted;             /* on_abort came while running */
    uint32_t after_drain_ms; /* delay still owed when backpressure ended */
    uint64_t due_ns;         /* asc_clock_ns() when the armed delay is over */
    /* JOB_CANNED */
    int status;
    asc_http_header_t hdrs[3];
    size_t nhdrs;
    const char *body;
    size_t body_len;
    /* JOB_STREAM */
    asc_mock_chat_t chat;
    asc_mock_unit_t *units; /* tool-call answers */
    uint32_t total;         /* units or text tokens */
    uint32_t sent;
    uint32_t fault_at;
} job_t;

static const asc_http_header_t H_JSON = {"Content-Type", 12, "application/json", 16};
static const asc_http_header_t H_SSE = {"Content-Type", 12, "text/event-stream", 17};
static const asc_http_header_t H_NOCACHE = {"Cache-Control", 13, "no-cache", 8};

#define REDIRECT_TO "http://127.0.0.2:1/stolen"

/* ---- engine lifetime -------------------------------------------------- */

asc_mock_t *asc_mock_create(uv_loop_t *loop, const char *require_key)
{
    asc_mock_t *m = calloc(1, sizeof *m);
    if (m == NULL)
        abort();
    m->loop = loop;
    if (require_key != NULL) {
        m->key_len = strlen(require_key);
        m->key = malloc(m->key_len + 1);
        if (m->key == NULL)
            abort();
        memcpy(m->key, require_key, m->key_len + 1);
    }
    asc_buf_init(&m->out, 0);
    m->rng = (uint64_t)time(NULL) ^ ((uint64_t)(uintptr_t)m << 16) ^ 0x9E3779B97F4A7C15ull;
    return m;
}

void asc_mock_free(asc_mock_t *m)
{
    if (m == NULL)
        return;
    asc_buf_free(&m->out);
    free(m->key);
    free(m);
}

unsigned asc_mock_inflight(const asc_mock_t *m)
{
    return m->njobs;
}

/* ---- small helpers ---------------------------------------------------- */

static double rand01(asc_mock_t *m)
{
    uint64_t x = m->rng;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    m->rng = x;
    return (double)(x >> 11) * (1.0 / 9007199254740992.0);
}

static asc_mock_fault_t roll_fault(asc_mock_t *m, const asc_mock_params_t *p)
{
    if (p->fault == ASC_MOCK_FAULT_NONE || p->fault_rate <= 0.0)
        return ASC_MOCK_FAULT_NONE;
    if (p->fault_rate >= 1.0)
        return p->fault;
    return rand01(m) < p->fault_rate ? p->fault : ASC_MOCK_FAULT_NONE;
}

static int path_is(const char *p, size_t n, const char *lit)
{
    size_t l = strlen(lit);
    return n == l && memcmp(p, lit, l) == 0;
}

static int key_equal(const char *a, size_t an, const char *b, size_t bn)
{
    unsigned char d = an != bn;
    size_t n = an < bn ? an : bn;
    for (size_t i = 0; i < n; i++)
        d |= (unsigned char)(a[i] ^ b[i]);
    return d == 0;
}

static int authorized(const asc_mock_t *m, const asc_http_req_t *req)
{
    size_t n = 0;
    if (m->key == NULL)
        return 1;
    const char *v = asc_http_req_header(req, "authorization", &n);
    if (v != NULL && n > 7 && strncasecmp(v, "Bearer ", 7) == 0) {
        v += 7;
        n -= 7;
        while (n > 0 && *v == ' ') {
            v++;
            n--;
        }
        if (key_equal(v, n, m->key, m->key_len))
            return 1;
    }
    v = asc_http_req_header(req, "x-api-key", &n);
    return v != NULL && key_equal(v, n, m->key, m->key_len);
}

/* ---- jobs --------------------------------------------------------------- */

static void on_timer_closed(uv_handle_t *h)
{
    free(h->data);
}

/* The request has ended (or never needs ending): forget the job. */
static void job_release(job_t *j)
{
    asc_mock_t *m = j->m;
    if (j->prev)
        j->prev->next = j->next;
    else
        m->jobs = j->next;
    if (j->next)
        j->next->prev = j->prev;
    m->njobs--;
    j->req = NULL;
    j->phase = P_DONE;
    if (j->timer_init) {
        uv_timer_stop(&j->timer);
        uv_close((uv_handle_t *)&j->timer, on_timer_closed);
    } else {
        free(j);
    }
}

/* Close the connection without a (complete) response. */
static void end_abrupt(job_t *j)
{
    /* What was queued goes out, then the connection is reset (RST). */
    asc_http_req_reset(j->req);
}

static void on_abort(asc_http_req_t *req)
{
    job_t *j = req->data;
    if (j->running) {
        j->aborted = 1;
        return;
    }
    end_abrupt(j);
    job_release(j);
}

static void run(job_t *j);

static void on_timer(uv_timer_t *t)
{
    job_t *j = t->data;
    /* The loop's clock is coarse (a few ms): a timer may fire a little
     * early, and a delay must never be shorter than asked. */
    uint64_t now = asc_clock_ns();
    if (now < j->due_ns) {
        uv_timer_start(&j->timer, on_timer, (j->due_ns - now + 999999) / 1000000, 0);
        return;
    }
    j->wait = W_NONE;
    run(j);
}

static void arm(job_t *j, uint64_t ms)
{
    if (!j->timer_init) {
        uv_timer_init(j->m->loop, &j->timer);
        j->timer.data = j;
        j->timer_init = 1;
    }
    j->wait = W_TIMER;
    j->due_ns = asc_clock_ns() + ms * 1000000;
    uv_timer_start(&j->timer, on_timer, ms, 0);
}

static void on_drain(asc_http_req_t *req)
{
    job_t *j = req->data;
    if (j->wait != W_DRAIN)
        return;
    j->wait = W_NONE;
    if (j->after_drain_ms > 0) {
        uint32_t ms = j->after_drain_ms;
        j->after_drain_ms = 0;
        arm(j, ms);
        return;
    }
    run(j);
}

static job_t *job_new(asc_mock_t *m, asc_http_req_t *req, job_kind_t kind)
{
    job_t *j = calloc(1, sizeof *j);
    if (j == NULL)
        abort();
    j->m = m;
    j->req = req;
    j->kind = kind;
    j->phase = P_START;
    j->next = m->jobs;
    if (m->jobs)
        m->jobs->prev = j;
    m->jobs = j;
    m->njobs++;
    req->data = j;
    req->on_abort = on_abort;
    req->on_drain = on_drain;
    return j;
}

/* Start a job: after latency_ms, or now. */
static void job_start(job_t *j, uint32_t latency_ms)
{
    if (latency_ms > 0)
        arm(j, latency_ms);
    else
        run(j);
}

/* Write what b holds. 0 when the client is still there. */
static int flush(job_t *j, asc_buf_t *b, int *congested)
{
    *congested = 0;
    if (b->len > 0 && !j->aborted) {
        asc_err_t e = asc_http_stream_write(j->req, b->data, b->len, congested);
        if (e != ASC_OK)
            j->aborted = 1;
    }
    asc_buf_clear(b);
    return j->aborted ? -1 : 0;
}

static void canned_start(job_t *j, asc_buf_t *b)
{
    switch (j->fault) {
    case ASC_MOCK_FAULT_STALL:
        if (j->m->shutting_down) {
            end_abrupt(j);
            j->phase = P_DONE;
        } else {
            j->wait = W_STALL;
        }
        return;
    case ASC_MOCK_FAULT_RESET:
        end_abrupt(j);
        j->phase = P_DONE;
        return;
    case ASC_MOCK_FAULT_STALL_MID:
    case ASC_MOCK_FAULT_RESET_MID:
        if (asc_http_stream_begin(j->req, j->status, j->hdrs, j->nhdrs) != ASC_OK)
            j->aborted = 1;
        asc_buf_append(b, j->body, j->body_len / 2);
        j->phase = P_FAULT;
        return;
    default:
        asc_http_respond(j->req, j->status, j->hdrs, j->nhdrs, j->body, j->body_len);
        j->phase = P_DONE;
        return;
    }
}

static int mid_fault(asc_mock_fault_t f)
{
    return f == ASC_MOCK_FAULT_STALL_MID || f == ASC_MOCK_FAULT_RESET_MID ||
           f == ASC_MOCK_FAULT_ERROR_EVENT || f == ASC_MOCK_FAULT_MALFORMED;
}

/* One step of a streamed answer; *delay is the wait before the next. */
static void stream_step(job_t *j, asc_buf_t *b, uint32_t *delay)
{
    const asc_mock_chat_t *c = &j->chat;
    const asc_mock_dialect_t *d = c->d;
    switch (j->phase) {
    case P_START: {
        asc_http_header_t h[2] = {H_SSE, H_NOCACHE};
        if (asc_http_stream_begin(j->req, 200, h, 2) != ASC_OK)
            j->aborted = 1;
        d->head(b, c);
        j->phase = P_BODY;
        *delay = c->p.ttft_ms;
        return;
    }
    case P_BODY: {
        if (mid_fault(j->fault) && j->sent >= j->fault_at) {
            j->phase = P_FAULT;
            return;
        }
        if (j->sent >= j->total) {
            j->phase = P_TAIL;
            return;
        }
        asc_mock_unit_t u;
        uint32_t n = 1;
        if (j->units != NULL) {
            u = j->units[j->sent];
        } else {
            n = c->p.chunk;
            if (n > j->total - j->sent)
                n = j->total - j->sent;
            if (mid_fault(j->fault) && n > j->fault_at - j->sent)
                n = j->fault_at - j->sent;
            u = (asc_mock_unit_t){ASC_MOCK_U_TEXT, 0, j->sent, n};
        }
        d->unit(b, c, &u);
        j->sent += n;
        *delay = j->sent < j->total ? c->p.itl_ms : 0;
        return;
    }
    case P_TAIL: {
        int congested;
        d->tail(b, c);
        if (flush(j, b, &congested) != 0)
            return; /* run() ends it abruptly */
        asc_http_stream_end(j->req, 0);
        j->phase = P_DONE;
        return;
    }
    default: return;
    }
}

/* The fault branch (after fault_after units, or half a canned body). */
static void fault_step(job_t *j, asc_buf_t *b)
{
    int congested;
    switch (j->fault) {
    case ASC_MOCK_FAULT_STALL_MID:
        if (flush(j, b, &congested) != 0)
            return;
        if (j->m->shutting_down) {
            end_abrupt(j);
            j->phase = P_DONE;
        } else {
            j->wait = W_STALL;
        }
        return;
    case ASC_MOCK_FAULT_RESET_MID:
        if (flush(j, b, &congested) == 0)
            j->phase = P_RESET_WAIT;
        return;
    case ASC_MOCK_FAULT_ERROR_EVENT:
    case ASC_MOCK_FAULT_MALFORMED:
        if (j->fault == ASC_MOCK_FAULT_ERROR_EVENT)
            j->chat.d->error_event(b, &j->chat);
        else
            j->chat.d->malformed(b, &j->chat);
        if (flush(j, b, &congested) != 0)
            return;
        asc_http_stream_end(j->req, 0);
        j->phase = P_DONE;
        return;
    default: j->phase = P_TAIL; return;
    }
}

static void run(job_t *j)
{
    asc_buf_t *b = &j->m->out;
    int congested = 0;
    asc_buf_clear(b);
    j->running = 1;
    for (;;) {
        uint32_t delay = 0;
        if (j->phase == P_FAULT)
            fault_step(j, b);
        else if (j->phase == P_RESET_WAIT) {
            if (asc_http_req_pending(j->req) > 0) {
                delay = RESET_POLL_MS;
            } else if (!j->reset_grace) {
                j->reset_grace = 1;
                delay = RESET_GRACE_MS;
            } else {
                end_abrupt(j);
                j->phase = P_DONE;
            }
        } else if (j->kind == JOB_CANNED && j->phase == P_START)
            canned_start(j, b);
        else
            stream_step(j, b, &delay);

        if (j->phase == P_DONE)
            break;
        if (j->aborted)
            break;
        if (j->wait == W_STALL)
            break;
        if (delay == 0 && b->len < FLUSH_AT)
            continue;
        if (flush(j, b, &congested) != 0)
            break;
        if (congested) {
            j->wait = W_DRAIN;
            j->after_drain_ms = delay;
            break;
        }
        if (delay > 0) {
            arm(j, delay);
            break;
        }
    }
    j->running = 0;
    if (j->phase != P_DONE && j->aborted) {
        end_abrupt(j);
        j->phase = P_DONE;
    }
    asc_buf_clear(b);
    if (j->phase == P_DONE)
        job_release(j);
}

/* ---- answers ------------------------------------------------------------ */

static void respond_json(asc_http_req_t *req, int status, const asc_buf_t *b)
{
    asc_http_respond(req, status, &H_JSON, 1, b->data ? b->data : "", b->len);
}

static char *pool_copy(asc_pool_t *pool, const asc_buf_t *b)
{
    return asc_pool_strndup(pool, b->data ? b->data : "", b->len);
}

/* Error of a fault (or of error_event without streaming): the body goes to
 * b, the status is returned. prompt_tokens is the request's (0: unknown). */
static int fault_error(const asc_mock_dialect_t *d, asc_mock_fault_t f, uint32_t prompt_tokens,
                       asc_buf_t *b)
{
    asc_buf_clear(b);
    switch (f) {
    case ASC_MOCK_FAULT_CONTEXT:
        /* Always over the window, by the size of the prompt. */
        return d->context_error(b, ASC_MOCK_CONTEXT_WINDOW + (prompt_tokens ? prompt_tokens : 1));
    case ASC_MOCK_FAULT_429: return d->error(b, ASC_MOCK_E_RATE_LIMIT, NULL);
    case ASC_MOCK_FAULT_500: return d->error(b, ASC_MOCK_E_SERVER, NULL);
    case ASC_MOCK_FAULT_503: return d->error(b, ASC_MOCK_E_UNAVAILABLE, NULL);
    case ASC_MOCK_FAULT_401: return d->error(b, ASC_MOCK_E_AUTH, NULL);
    case ASC_MOCK_FAULT_400: return d->error(b, ASC_MOCK_E_INVALID, "Bad request (mock fault=400)");
    default: /* 529, error_event */ return d->error(b, ASC_MOCK_E_OVERLOADED, NULL);
    }
}

static int whole_fault(asc_mock_fault_t f)
{
    return f == ASC_MOCK_FAULT_429 || f == ASC_MOCK_FAULT_500 || f == ASC_MOCK_FAULT_503 ||
           f == ASC_MOCK_FAULT_529 || f == ASC_MOCK_FAULT_400 || f == ASC_MOCK_FAULT_401 ||
           f == ASC_MOCK_FAULT_REDIRECT || f == ASC_MOCK_FAULT_STALL || f == ASC_MOCK_FAULT_RESET ||
           f == ASC_MOCK_FAULT_CONTEXT;
}

/* Answer (now or after latency) with status and the body in b, applying a
 * fault that concerns the whole response (or a non-streamed one).
 * prompt_tokens (0: unknown) sizes fault=context's error. */
static void answer_canned(asc_mock_t *m, asc_http_req_t *req, const asc_mock_dialect_t *d,
                          int status, asc_buf_t *b, asc_mock_fault_t fault,
                          const asc_mock_params_t *p, uint32_t prompt_tokens)
{
    job_t *j;
    char *ra;
    if (fault == ASC_MOCK_FAULT_NONE && p->latency_ms == 0) {
        respond_json(req, status, b);
        return;
    }
    j = job_new(m, req, JOB_CANNED);
    j->status = status;
    j->hdrs[0] = H_JSON;
    j->nhdrs = 1;
    switch (fault) {
    case ASC_MOCK_FAULT_NONE: break;
    case ASC_MOCK_FAULT_REDIRECT:
        j->status = 302;
        j->hdrs[1] = (asc_http_header_t){"Location", 8, REDIRECT_TO, sizeof REDIRECT_TO - 1};
        j->nhdrs = 2;
        asc_buf_clear(b);
        break;
    case ASC_MOCK_FAULT_MALFORMED: b->len /= 2; break;
    case ASC_MOCK_FAULT_STALL:
    case ASC_MOCK_FAULT_RESET:
    case ASC_MOCK_FAULT_STALL_MID:
    case ASC_MOCK_FAULT_RESET_MID: j->fault = fault; break;
    default: j->status = fault_error(d, fault, prompt_tokens, b); break;
    }
    if (j->status == 429 || j->status == 503 || j->status == 529) {
        ra = asc_pool_alloc(req->pool, 16);
        int n = snprintf(ra, 16, "%u", p->retry_after);
        j->hdrs[j->nhdrs++] = (asc_http_header_t){"Retry-After", 11, ra, (size_t)n};
    }
    j->body = pool_copy(req->pool, b);
    j->body_len = b->len;
    job_start(j, p->latency_ms);
}

static void answer_stream(asc_mock_t *m, asc_http_req_t *req, const asc_mock_chat_t *c,
                          asc_mock_fault_t fault)
{
    job_t *j = job_new(m, req, JOB_STREAM);
    j->chat = *c;
    j->fault = fault;
    j->fault_at = c->p.fault_after;
    if (c->ncalls > 0) {
        j->units = c->d->tool_units(c, req->pool, &j->total);
    } else {
        j->total = c->out_tokens;
    }
    if (j->fault_at > j->total)
        j->fault_at = j->total;
    job_start(j, c->p.latency_ms);
}

static const char *bad_json_msg(const asc_mock_dialect_t *d)
{
    switch (d->id) {
    case ASC_MOCK_ANTHROPIC:
        return "There was an error parsing the body of your request: invalid JSON";
    case ASC_MOCK_MISTRAL: return "Invalid JSON body";
    default:
        return "We could not parse the JSON body of your request. (HINT: This likely means "
               "you aren't using your HTTP library correctly. The OpenAI API expects a JSON "
               "payload, but what was sent was not valid JSON.)";
    }
}

static void handle_chat(asc_mock_t *m, asc_http_req_t *req, const asc_mock_dialect_t *d)
{
    asc_buf_t *b = &m->out;
    asc_mock_params_t hdr, ep;
    asc_mock_chat_t c;
    char perr[256];
    int status;
    memset(&c, 0, sizeof c);
    c.d = d;
    asc_buf_clear(b);
    asc_mock_params_default(&hdr);
    hdr.set = 0;
    if (asc_mock_params_headers(&hdr, req->headers, req->nheaders, perr, sizeof perr) != ASC_OK) {
        status = d->error(b, ASC_MOCK_E_INVALID, perr);
        respond_json(req, status, b);
        return;
    }
    cJSON *root = cJSON_ParseWithLength(req->body, req->body_len);
    if (root == NULL) {
        status = d->error(b, ASC_MOCK_E_INVALID, bad_json_msg(d));
    } else {
        status = d->chat_parse(&c, root, &hdr, req->pool, b);
        cJSON_Delete(root);
    }
    if (status != 0) {
        /* Parameters from the model name apply only if it was read. */
        if (c.model == NULL) {
            asc_mock_params_default(&ep);
            asc_mock_params_overlay(&ep, &hdr);
        } else {
            ep = c.p;
        }
        asc_mock_fault_t f = roll_fault(m, &ep);
        answer_canned(m, req, d, status, b, whole_fault(f) ? f : ASC_MOCK_FAULT_NONE, &ep,
                      c.prompt_tokens);
        return;
    }
    c.seq = asc_mock_next_id();
    c.created = (long long)time(NULL);
    asc_mock_fault_t fault = roll_fault(m, &c.p);
    if (!c.stream && fault == ASC_MOCK_FAULT_NONE && c.p.latency_ms == 0) {
        /* The fast path. */
        d->body(b, &c);
        asc_http_respond(req, 200, &H_JSON, 1, b->data, b->len);
        return;
    }
    if (c.stream && !whole_fault(fault)) {
        answer_stream(m, req, &c, fault);
        return;
    }
    if (fault == ASC_MOCK_FAULT_ERROR_EVENT) {
        /* Without a stream the overloaded error is the HTTP answer. */
        answer_canned(m, req, d, 200, b, ASC_MOCK_FAULT_529, &c.p, c.prompt_tokens);
        return;
    }
    d->body(b, &c);
    answer_canned(m, req, d, 200, b, fault, &c.p, c.prompt_tokens);
}

static void handle_embed(asc_mock_t *m, asc_http_req_t *req, const asc_mock_dialect_t *d)
{
    asc_buf_t *b = &m->out;
    asc_mock_params_t hdr, p;
    uint32_t prompt_tokens = 0;
    char perr[256];
    asc_mock_params_default(&hdr);
    hdr.set = 0;
    asc_buf_clear(b);
    if (asc_mock_params_headers(&hdr, req->headers, req->nheaders, perr, sizeof perr) != ASC_OK) {
        int status = d->error(b, ASC_MOCK_E_INVALID, perr);
        respond_json(req, status, b);
        return;
    }
    int status =
        asc_mock_embed(b, d, req->body, req->body_len, &hdr, &p, &prompt_tokens, req->pool);
    asc_mock_fault_t f = roll_fault(m, &p);
    if (status != 200 && !whole_fault(f))
        f = ASC_MOCK_FAULT_NONE;
    if (f == ASC_MOCK_FAULT_ERROR_EVENT)
        f = ASC_MOCK_FAULT_529;
    answer_canned(m, req, d, status, b, f, &p, prompt_tokens);
}

static void handle_models(asc_mock_t *m, asc_http_req_t *req, const asc_mock_dialect_t *d)
{
    static const char *const names[] = {"mock-fast", "mock-embed"};
    asc_buf_t *b = &m->out;
    asc_buf_clear(b);
    if (d->id == ASC_MOCK_ANTHROPIC) {
        asc_buf_puts(b, "{\"data\":[");
        for (size_t i = 0; i < 2; i++)
            asc_buf_printf(b,
                           "%s{\"type\":\"model\",\"id\":\"%s\",\"display_name\":\"%s\","
                           "\"created_at\":\"2025-01-01T00:00:00Z\"}",
                           i ? "," : "", names[i], names[i]);
        asc_buf_printf(b, "],\"has_more\":false,\"first_id\":\"%s\",\"last_id\":\"%s\"}", names[0],
                       names[1]);
    } else {
        asc_buf_puts(b, "{\"object\":\"list\",\"data\":[");
        for (size_t i = 0; i < 2; i++)
            asc_buf_printf(b,
                           "%s{\"id\":\"%s\",\"object\":\"model\",\"created\":1735689600,"
                           "\"owned_by\":\"asc-mock\"}",
                           i ? "," : "", names[i]);
        asc_buf_puts(b, "]}");
    }
    respond_json(req, 200, b);
}

static int hexval(char ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    if (ch >= 'a' && ch <= 'f')
        return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F')
        return ch - 'A' + 10;
    return -1;
}

/* s[0..n) with its %XX escapes decoded, in pool; NULL for a bad escape or a
 * control byte. The server's normalised path keeps the escapes of reserved
 * characters ("%2F", "%3A"), which model names may hold. */
static char *unescape(asc_pool_t *pool, const char *s, size_t n, size_t *out_len)
{
    char *out = asc_pool_alloc(pool, n + 1);
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        int ch = (unsigned char)s[i];
        if (ch == '%') {
            int h = i + 2 < n ? hexval(s[i + 1]) : -1, l = h >= 0 ? hexval(s[i + 2]) : -1;
            if (l < 0)
                return NULL;
            ch = h * 16 + l;
            i += 2;
        }
        if (ch < 0x20 || ch == 0x7f)
            return NULL;
        out[o++] = (char)ch;
    }
    out[o] = '\0';
    *out_len = o;
    return out;
}

/* /__mock/overrides (rest empty) and /__mock/overrides/<NAME> (rest "/NAME"). */
static void handle_overrides(asc_mock_t *m, asc_http_req_t *req, const char *rest, size_t rlen)
{
    asc_buf_t *b = &m->out;
    const char *method = req->method_name;
    char err[256];
    const char *name;
    size_t nlen = 0;
    int status = 404;
    asc_err_t rc;
    asc_buf_clear(b);
    if (rlen == 0) {
        if (strcmp(method, "GET") == 0) {
            asc_mock_override_json(b);
            status = 200;
        } else if (strcmp(method, "DELETE") == 0) {
            asc_mock_override_clear();
            status = 204;
        } else {
            asc_mock_openai.error(b, ASC_MOCK_E_NOT_FOUND, "Not found");
        }
        goto out;
    }
    name = unescape(req->pool, rest + 1, rlen - 1, &nlen);
    if (name == NULL) {
        status = asc_mock_openai.error(b, ASC_MOCK_E_INVALID, "invalid model name in the path");
        goto out;
    }
    if (strcmp(method, "PUT") == 0) {
        rc = asc_mock_override_set(name, nlen, req->body, req->body_len, err, sizeof err);
        if (rc == ASC_OK) {
            status = 204;
        } else {
            asc_mock_openai.error(b, ASC_MOCK_E_INVALID, err);
            status = rc == ASC_ETOOBIG ? 413 : 400;
        }
    } else if (strcmp(method, "DELETE") == 0) {
        if (asc_mock_override_del(name, nlen) == ASC_OK)
            status = 204;
        else
            asc_mock_openai.error(b, ASC_MOCK_E_NOT_FOUND, "No override for this model");
    } else {
        asc_mock_openai.error(b, ASC_MOCK_E_NOT_FOUND, "Not found");
    }
out:
    if (status == 204)
        asc_http_respond(req, 204, NULL, 0, NULL, 0);
    else
        respond_json(req, status, b);
}

#define OVERRIDES_PATH "/__mock/overrides"

static void handle_admin(asc_mock_t *m, asc_http_req_t *req)
{
    asc_buf_t *b = &m->out;
    const char *p = req->path;
    size_t n = req->path_len;
    size_t ol = sizeof OVERRIDES_PATH - 1;
    asc_buf_clear(b);
    if (n >= ol && memcmp(p, OVERRIDES_PATH, ol) == 0 && (n == ol || p[ol] == '/')) {
        handle_overrides(m, req, p + ol, n - ol);
        return;
    }
    if (path_is(p, n, "/__mock/requests") && strcmp(req->method_name, "GET") == 0) {
        asc_mock_reqlog_json(b);
        respond_json(req, 200, b);
        return;
    }
    if (path_is(p, n, "/__mock/requests") && strcmp(req->method_name, "DELETE") == 0) {
        asc_mock_reqlog_clear();
        asc_buf_puts(b, "{\"ok\":true}");
        respond_json(req, 200, b);
        return;
    }
    if (path_is(p, n, "/__mock/health") && strcmp(req->method_name, "GET") == 0) {
        asc_buf_puts(b, "{\"ok\":true}");
        respond_json(req, 200, b);
        return;
    }
    asc_mock_openai.error(b, ASC_MOCK_E_NOT_FOUND, "Not found");
    respond_json(req, 404, b);
}

enum { EP_NONE, EP_CHAT, EP_EMBED, EP_MODELS };

void asc_mock_handle(asc_http_req_t *req, void *ud)
{
    asc_mock_t *m = ud;
    const char *p = req->path;
    size_t n = req->path_len;
    const asc_mock_dialect_t *d = &asc_mock_openai;
    int ep = EP_NONE, post = strcmp(req->method_name, "POST") == 0;
    size_t vl = 0;

    if (n >= 8 && memcmp(p, "/__mock/", 8) == 0) {
        handle_admin(m, req);
        return;
    }
    asc_mock_reqlog_add(req);
    if (n > 8 && memcmp(p, "/mistral/", 9) == 0) {
        d = &asc_mock_mistral;
        p += 8;
        n -= 8;
    }
    if (post && path_is(p, n, "/v1/chat/completions"))
        ep = EP_CHAT;
    else if (post && path_is(p, n, "/v1/embeddings"))
        ep = EP_EMBED;
    else if (strcmp(req->method_name, "GET") == 0 && path_is(p, n, "/v1/models"))
        ep = EP_MODELS;
    else if (post && d == &asc_mock_openai && path_is(p, n, "/v1/messages")) {
        d = &asc_mock_anthropic;
        ep = EP_CHAT;
    }
    if (ep == EP_NONE) {
        char msg[160];
        asc_buf_t *b = &m->out;
        asc_buf_clear(b);
        snprintf(msg, sizeof msg, "Invalid URL (%s %.*s)", req->method_name,
                 (int)(req->path_len > 100 ? 100 : req->path_len), req->path);
        asc_mock_openai.error(b, ASC_MOCK_E_NOT_FOUND, msg);
        respond_json(req, 404, b);
        return;
    }
    if (ep == EP_MODELS && d == &asc_mock_openai &&
        asc_http_req_header(req, "anthropic-version", &vl) != NULL)
        d = &asc_mock_anthropic;
    if (!authorized(m, req)) {
        asc_buf_t *b = &m->out;
        asc_buf_clear(b);
        int status = d->error(b, ASC_MOCK_E_AUTH, NULL);
        respond_json(req, status, b);
        return;
    }
    if (d == &asc_mock_anthropic && ep == EP_CHAT &&
        (asc_http_req_header(req, "anthropic-version", &vl) == NULL || vl == 0)) {
        asc_buf_t *b = &m->out;
        asc_buf_clear(b);
        int status = d->error(b, ASC_MOCK_E_INVALID, "anthropic-version: header is required");
        respond_json(req, status, b);
        return;
    }
    switch (ep) {
    case EP_CHAT: handle_chat(m, req, d); return;
    case EP_EMBED: handle_embed(m, req, d); return;
    default: handle_models(m, req, d); return;
    }
}

void asc_mock_shutdown(asc_mock_t *m)
{
    m->shutting_down = 1;
    job_t *j = m->jobs;
    while (j != NULL) {
        job_t *next = j->next;
        if (j->wait == W_STALL && !j->running) {
            end_abrupt(j);
            job_release(j);
        }
        j = next;
    }
}

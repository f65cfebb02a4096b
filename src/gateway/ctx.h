/*
 * Per-request gateway context, allocated in the request's pool. It holds a
 * reference on the snapshot the request started with, the execution record
 * and the state of the proxied attempt.
 */
#ifndef ASC_GATEWAY_CTX_H
#define ASC_GATEWAY_CTX_H

#include "api/dialect.h"
#include "api/openai.h"
#include "auth/key.h"
#include "core/buf.h"
#include "gateway/snapshot.h"
#include "gateway/translate.h"
#include "gateway/worker.h"
#include "obs/record.h"
#include "provider/sse.h"
#include "route/resolve.h"
#include "route/route.h"
#include "upstream/client.h"

typedef struct asc_ctx {
    asc_http_req_t *req;
    asc_worker_t *worker;
    asc_snapshot_t *snap;
    const asc_key_rt_t *key;
    asc_record_t rec;
    /* The client's dialect. NULL with `api` decoded = the OpenAI chat
     * pass-through; otherwise `canon` holds the canonical request. */
    const asc_dialect_t *dialect;
    const asc_dialect_t *errors; /* dialect for error bodies (never NULL) */
    asc_api_request_t api;
    asc_chat_req_t canon;
    int passthrough;
    int stream;
    int include_usage;
    size_t input_bytes;
    const char *model;                   /* as the client sent it */
    const asc_dialect_t *client_dialect; /* NULL = OpenAI chat (pass-through when possible) */
    int mistral_sdk;                     /* a Mistral SDK client (see handler.c) */
    int canon_ready;                     /* canon holds the canonical request */
    asc_route_t route;
    /* routing (proxy.c): the plan and where the attempts are in it */
    asc_plan_t plan;
    size_t next;                /* next index into plan.order */
    const asc_target_rt_t *cur; /* target of the current (or last) attempt */
    unsigned tries;             /* attempts at cur */
    int probe;                  /* cur's attempt is its breaker's half-open probe */
    int reported;               /* the attempt's outcome went to cur's health */
    uint64_t deadline_ns;       /* the route's time budget */
    uint64_t attempt_start_ns;
    uint64_t attempt_ttft_ns;  /* first content of the attempt, from its start */
    uint64_t skip_retry_in_ms; /* soonest cooldown end of targets skipped as open */
    uv_timer_t *backoff;       /* pending retry or fallback (malloc'd) */
    uv_timer_t *hold_timer;    /* ends the hold on a slow first content (malloc'd) */
    char encode_error[512];    /* why the first unusable target could not encode */
    int encode_status;
    /* attempt state */
    asc_buf_t upbody; /* upstream request body */
    asc_upstream_xfer_t *xfer;
    int up_status;
    asc_buf_t resp; /* non-streamed body or error body (bounded) */
    asc_sse_t sse;
    asc_xstream_t xs; /* stream translation (either mode) */
    asc_buf_t xout;   /* client bytes of the current event */
    asc_buf_t hold;   /* client bytes held back until the first content */
    int sse_init;
    int began;    /* the client's stream has started */
    int finished; /* settled and ended */
    int paused;
    size_t out_bytes; /* generated content bytes (estimates) */
} asc_ctx_t;

/* Settle the record (usage estimate, done event), write the access-log
 * line and drop the snapshot reference. Idempotent. Call right before
 * ending the request. */
void asc_ctx_settle(asc_ctx_t *ctx, int status);

#endif

/*
 * Shadow (mirror) targets: a copy of the request goes asynchronously to
 * each of the route's shadow targets (sampled, inside the key's allowed
 * regions, while its breaker admits it). Its answer is read to the end for
 * its outcome, latency, time to first token and usage, and written as its
 * own access-log record ("shadow": true, the client's request id), but it
 * never reaches the client and never delays or fails the real request.
 *
 * A shadow owns everything it needs (a memory pool, its body, a reference
 * on the snapshot), so it may outlive the request that started it. At most
 * 64 shadows are in flight per worker; more are dropped and noted.
 */
#ifndef ASC_GATEWAY_SHADOW_H
#define ASC_GATEWAY_SHADOW_H

#include "gateway/ctx.h"

/* Start the shadows of ctx's route (call once the plan is made). */
void asc_shadow_start_all(asc_ctx_t *ctx);

/* Cancel and free this worker thread's shadows (worker shutdown). */
void asc_shadow_abort_all(void);

#endif

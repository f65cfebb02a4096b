/*
 * The route step of a request (DESIGN §3 step 6): the principal's allowed
 * regions and stickiness inputs turned into the attempt plan, with the
 * errors that the plan itself implies (403 residency_violation when no
 * target of the route is in an allowed region, 503 no_healthy_target when
 * some are but every one is unhealthy). Also the JSON of
 * POST /v1/route/explain, built from the very same plan.
 */
#ifndef ASC_GATEWAY_ROUTING_H
#define ASC_GATEWAY_ROUTING_H

#include "core/buf.h"
#include "gateway/ctx.h"

/* Build ctx->plan for ctx->route. explain = 0: respond with the error and
 * return 0 when the plan is empty; 1 when attempts can start. explain = 1:
 * never responds. */
int asc_gateway_plan(asc_ctx_t *ctx, int explain);

/* The explain document for ctx (plan built) into out. */
void asc_gateway_explain_json(asc_ctx_t *ctx, asc_buf_t *out);

#endif

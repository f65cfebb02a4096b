/*
 * The proxied request: from an authenticated, decoded, routed request to
 * the upstream and back (non-streamed relay or SSE stream), ending with the
 * settle step (usage, record, access log). One attempt per request for now;
 * the attempt loop with retries and fallbacks grows here.
 */
#ifndef ASC_GATEWAY_PROXY_H
#define ASC_GATEWAY_PROXY_H

#include "api/openai.h"
#include "gateway/ctx.h"
#include "route/resolve.h"

/* Start the upstream attempt for ctx (which holds the decoded request and
 * its route). Always ends the request eventually, successfully or with an
 * error response. */
void asc_proxy_start(asc_ctx_t *ctx);

#endif

/*
 * The proxied request: from an authenticated, decoded, routed request to
 * the upstream and back (non-streamed relay or SSE stream), through the
 * attempt loop (retries, fallbacks, breakers; see proxy.c), ending with the
 * settle step (usage, record, access log).
 */
#ifndef ASC_GATEWAY_PROXY_H
#define ASC_GATEWAY_PROXY_H

#include "api/openai.h"
#include "gateway/ctx.h"
#include "route/resolve.h"

/* Run the attempt plan in ctx->plan (ctx holds the decoded request and its
 * route). Always ends the request eventually, successfully or with an
 * error response. */
void asc_proxy_start(asc_ctx_t *ctx);

/* The upstream body for target t (pass-through splice or canonical
 * encode), and how its answer is to be read. A message in err: why t
 * cannot serve the request (on error), or hints it dropped (on success). */
asc_err_t asc_proxy_encode(asc_ctx_t *ctx, const asc_target_rt_t *t, asc_buf_t *out,
                           int *passthrough, const asc_dialect_t **dialect, char *err,
                           size_t errlen);

/* The upstream header list for provider p: its prebuilt list, with the
 * client's W3C traceparent in front (nodes from pool). */
struct curl_slist *asc_proxy_headers(asc_http_req_t *req, const struct curl_slist *base,
                                     asc_pool_t *pool);

#endif

/*
 * Internals of the Anthropic upstream adapter (src/provider/anthropic*.c),
 * shared between its files and nothing else. The public face is
 * asc_adapter_anthropic in provider/adapter.h.
 *
 * Ownership: every pointer argument is borrowed; outputs go into the
 * caller's buffer or pool.
 */
#ifndef ASC_PROVIDER_ANTHROPIC_INT_H
#define ASC_PROVIDER_ANTHROPIC_INT_H

#include <stdint.h>

#include "canon/canon.h"
#include "json/json.h"
#include "provider/adapter.h"

/* Anthropic's token counts as it reports them: input EXCLUDES cache reads
 * and writes. */
typedef struct {
    int64_t input, output, cache_read, cache_write;
    int present;
} asc_provider_anthropic_usage_t;

/*
 * Canonical request → body of POST /v1/messages, appended to out. A
 * parameter Anthropic cannot honour and that would change the answer is
 * ASC_EUNSUPPORTED with a message naming it in err; on success err holds the
 * comma-separated names of dropped hints ("" when none). On any failure out
 * keeps its previous contents; ASC_ETOOBIG when out's limit refuses the body.
 */
asc_err_t asc_provider_anthropic_encode_chat(const asc_chat_req_t *req, const char *upstream_model,
                                             asc_pool_t *pool, asc_buf_t *out, char *err,
                                             size_t errlen);

/*
 * A complete Anthropic message into the canonical response. Strings are
 * copied into pool (body may be freed afterwards). ASC_EINVAL when the body
 * is not a message; ASC_ETOOBIG when the pool limit refuses the copies.
 */
asc_err_t asc_provider_anthropic_decode_chat(asc_pool_t *pool, const char *body, size_t len,
                                             asc_chat_resp_t *out);

/* stop_reason token t (a string, or null/absent when t < 0 or not a string)
 * as a canonical finish reason. Unknown reasons map to ASC_FINISH_STOP. */
asc_finish_t asc_provider_anthropic_finish(const asc_json_t *j, int t);

/* Merge the usage object at token u into *out: only the members present
 * with a sane integer value (0 .. 2^60) overwrite; null members are
 * skipped. Sets present when u is an object. */
void asc_provider_anthropic_read_usage(const asc_json_t *j, int u,
                                       asc_provider_anthropic_usage_t *out);

/* Anthropic usage as canonical usage (input = input + cache read + cache
 * write; cached = cache read). */
asc_canon_usage_t asc_provider_anthropic_canon_usage(const asc_provider_anthropic_usage_t *u);

/* Unescaped copy of string token t into pool (NUL-terminated) in *out;
 * *out is ASC_STR_NULL when t < 0 or not a string. ASC_ETOOBIG when the
 * pool limit refuses the copy. */
asc_err_t asc_provider_anthropic_str(const asc_json_t *j, int t, asc_pool_t *pool, asc_str_t *out);

#endif

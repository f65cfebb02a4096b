/* The status → error-class rules every adapter shares; the adapters only
 * extract what their provider's error body says (message, context overflow,
 * overload). */
#include <stdio.h>
#include <string.h>

#include "provider/adapter.h"

void asc_upstream_error_classify(int status, const char *msg, int context, int overloaded,
                                 int fallback_4xx, asc_upstream_error_t *out)
{
    memset(out, 0, sizeof *out);
    if (msg == NULL)
        msg = "";
    if (status == 401 || status == 403) {
        /* Providers' texts may quote part of the key: never relayed. */
        out->cls = ASC_UPERR_AUTH;
        out->fallback = 1;
        snprintf(out->message, sizeof out->message,
                 "the upstream provider refused the gateway's credential (status %d)", status);
    } else if (status == 429) {
        out->cls = ASC_UPERR_RATE_LIMIT;
        out->retryable = out->fallback = 1;
        snprintf(out->message, sizeof out->message, "upstream rate limit: %s",
                 msg[0] ? msg : "too many requests");
    } else if (status == 529 || status == 503 || overloaded) {
        out->cls = ASC_UPERR_OVERLOADED;
        out->retryable = out->fallback = 1;
        snprintf(out->message, sizeof out->message, "upstream overloaded: %s",
                 msg[0] ? msg : "service unavailable");
    } else if (status >= 500) {
        out->cls = ASC_UPERR_SERVER;
        out->retryable = out->fallback = 1;
        snprintf(out->message, sizeof out->message, "upstream error (status %d): %s", status,
                 msg[0] ? msg : "server error");
    } else if (status >= 400) {
        /* A context overflow may well succeed at a target with a larger
         * context; other 4xx are the request's fault. */
        out->cls = context ? ASC_UPERR_CONTEXT : ASC_UPERR_CLIENT;
        out->fallback = context || fallback_4xx;
        snprintf(out->message, sizeof out->message, "%s",
                 msg[0] ? msg : "the upstream provider rejected the request");
    } else {
        out->cls = ASC_UPERR_PROTOCOL;
        out->fallback = 1;
        snprintf(out->message, sizeof out->message,
                 "unexpected upstream status %d (redirects are never followed)", status);
    }
}

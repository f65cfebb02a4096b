#include "gateway/errors.h"

#include <string.h>

const char *asc_error_type(int status)
{
    switch (status) {
    case 401: return "authentication_error";
    case 403: return "permission_error";
    case 429: return "rate_limit_error";
    default: return status >= 500 ? "api_error" : "invalid_request_error";
    }
}

void asc_error_body(asc_buf_t *out, int status, const char *code, const char *message)
{
    asc_buf_puts(out, "{\"error\":{\"message\":\"");
    asc_buf_json_str(out, message, strlen(message));
    asc_buf_printf(out, "\",\"type\":\"%s\",\"param\":null,\"code\":\"%s\"}}",
                   asc_error_type(status), code);
}

void asc_error_respond(asc_http_req_t *req, int status, const char *code, const char *message,
                       const asc_http_header_t *extra, size_t nextra)
{
    asc_http_header_t h[8];
    size_t n = 0;
    h[n++] = (asc_http_header_t){"Content-Type", 12, "application/json", 16};
    for (size_t i = 0; i < nextra && n < 8; i++)
        h[n++] = extra[i];
    asc_buf_t b;
    asc_buf_init(&b, 0);
    asc_error_body(&b, status, code, message);
    asc_http_respond(req, status, h, n, b.data, b.len);
    asc_buf_free(&b);
}

void asc_gateway_error(asc_http_req_t *req, const asc_dialect_t *d, int status, const char *code,
                       const char *message, const asc_http_header_t *extra, size_t nextra)
{
    if (d == NULL || d->error_body == NULL) {
        asc_error_respond(req, status, code, message, extra, nextra);
        return;
    }
    asc_http_header_t h[8];
    size_t n = 0;
    h[n++] = (asc_http_header_t){"Content-Type", 12, "application/json", 16};
    for (size_t i = 0; i < nextra && n < 8; i++)
        h[n++] = extra[i];
    asc_buf_t b;
    asc_buf_init(&b, 0);
    d->error_body(status, code, message, &b);
    asc_http_respond(req, status, h, n, b.data, b.len);
    asc_buf_free(&b);
}

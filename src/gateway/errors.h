/*
 * Errors as clients see them (DESIGN §6): OpenAI-style bodies
 * {"error":{"message","type","param","code"}} with the status that the code
 * implies. The message is for humans and never holds a secret.
 */
#ifndef ASC_GATEWAY_ERRORS_H
#define ASC_GATEWAY_ERRORS_H

#include "api/dialect.h"
#include "core/buf.h"
#include "http/server.h"

/* The error type for a status ("invalid_request_error", ...). */
const char *asc_error_type(int status);

/* Append the JSON error body. */
void asc_error_body(asc_buf_t *out, int status, const char *code, const char *message);

/* Respond with an error (ends the request); extra headers may be NULL. */
void asc_error_respond(asc_http_req_t *req, int status, const char *code, const char *message,
                       const asc_http_header_t *extra, size_t nextra);

/* Respond with an error in the client's dialect (NULL = OpenAI). */
void asc_gateway_error(asc_http_req_t *req, const asc_dialect_t *d, int status, const char *code,
                       const char *message, const asc_http_header_t *extra, size_t nextra);

#endif

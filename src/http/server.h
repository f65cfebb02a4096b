/*
 * HTTP/1.1 server on libuv + http-parser: keep-alive, pipelining, chunked
 * request bodies, limits with clean errors, SSE/chunked streaming responses
 * with backpressure. One asc_http_server_t per event loop (worker thread);
 * several servers share one port through SO_REUSEPORT.
 *
 * Ownership rules (read these before writing a handler):
 *  - The server owns every asc_http_req_t. A handler receives one when the
 *    whole request (headers and body) has arrived.
 *  - Every dispatched request ends with exactly one call to
 *    asc_http_respond() or asc_http_stream_end(), even after on_abort fired
 *    (calls on an aborted request are accepted and do nothing else). After
 *    that call the handler must not touch req again.
 *  - Requests on one connection are answered in order: while one is being
 *    handled, later pipelined requests wait (bounded) and are dispatched
 *    after it ends.
 *  - Strings in req (path, headers, body) live in req->pool and die with req.
 */
#ifndef ASC_HTTP_SERVER_H
#define ASC_HTTP_SERVER_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include "core/err.h"
#include "core/pool.h"

typedef struct asc_http_server asc_http_server_t;
typedef struct asc_http_req asc_http_req_t;

typedef struct {
    const char *name;
    size_t name_len;
    const char *value;
    size_t value_len;
} asc_http_header_t;

typedef struct {
    size_t max_header_bytes;    /* request line + header block; default 65536 */
    unsigned max_headers;       /* default 100 */
    size_t max_body_bytes;      /* default 32 MiB */
    uint64_t header_timeout_ms; /* first byte of a request to end of headers; 10000 */
    uint64_t body_timeout_ms;   /* end of headers to end of body; 30000 */
    uint64_t idle_timeout_ms;   /* keep-alive idle between requests; 60000 */
    unsigned max_connections;   /* across every server sharing `conn_count`; 10000 */
    size_t write_high_water;    /* bytes queued before a stream reports congestion; 256 KiB */
} asc_http_limits_t;

/* Fill l with the defaults above. */
void asc_http_limits_default(asc_http_limits_t *l);

typedef void (*asc_http_handler_fn)(asc_http_req_t *req, void *ud);

struct asc_http_req {
    /* Read-only for handlers. */
    int method;              /* enum http_method from http_parser.h */
    const char *method_name; /* "GET", "POST", ... */
    const char *path;        /* normalised path, no query ("/v1/models") */
    size_t path_len;
    const char *raw_url; /* exactly as received */
    const char *query;   /* after '?', or NULL */
    asc_http_header_t *headers;
    size_t nheaders;
    const char *body; /* NUL-terminated; body_len excludes the NUL */
    size_t body_len;
    int http_minor;    /* 0 or 1 */
    int keep_alive;    /* the connection will be kept after the response */
    uint64_t start_ns; /* asc_clock_ns() at the first byte of the request */
    char peer_ip[48];
    /* The client's x-request-id when it is 1-128 chars of [A-Za-z0-9._:-],
     * otherwise a generated one. The server adds x-request-id to every
     * response it writes. */
    char request_id[129];
    asc_pool_t *pool; /* request-scoped memory */
    asc_http_server_t *server;

    /* For the handler. */
    void *data;
    /* The client went away (or the server is shutting down hard). The
     * handler should cancel its work and then end the request. */
    void (*on_abort)(asc_http_req_t *req);
    /* A stream that reported congestion has drained below half its high
     * water mark. */
    void (*on_drain)(asc_http_req_t *req);
};

/* Create a server on `loop` listening on host:port with SO_REUSEPORT.
 * `conn_count` is shared by every server of the process for the
 * max_connections limit. On failure returns NULL and writes a message to
 * err (at least 256 bytes). */
asc_http_server_t *asc_http_server_create(uv_loop_t *loop, const char *host, int port,
                                          const asc_http_limits_t *limits, atomic_uint *conn_count,
                                          asc_http_handler_fn handler, void *ud, char *err,
                                          size_t errlen);

/* The port actually bound (useful with port 0). */
int asc_http_server_port(const asc_http_server_t *s);

/* Replace the limits for new requests (reload). */
void asc_http_server_set_limits(asc_http_server_t *s, const asc_http_limits_t *limits);

/* Stop accepting; idle keep-alive connections are closed; requests in flight
 * continue. `done` is called once every connection has closed. */
void asc_http_server_shutdown(asc_http_server_t *s, void (*done)(asc_http_server_t *s, void *arg),
                              void *arg);

/* Abort every request still in flight (on_abort) and close all connections. */
void asc_http_server_abort_all(asc_http_server_t *s);

/* Free the server; only after the shutdown callback fired. */
void asc_http_server_free(asc_http_server_t *s);

/* Number of open connections of this server. */
unsigned asc_http_server_connections(const asc_http_server_t *s);

/* Case-insensitive header lookup; NULL when absent. *len gets the length. */
const char *asc_http_req_header(const asc_http_req_t *req, const char *name, size_t *len);

/* Send a complete response. Content-Length, Date-free minimal headers,
 * Connection are added by the server; `headers` are extra ones. The body is
 * copied. Ends the request. */
asc_err_t asc_http_respond(asc_http_req_t *req, int status, const asc_http_header_t *headers,
                           size_t nheaders, const char *body, size_t body_len);

/* Start a streamed response (Transfer-Encoding: chunked on HTTP/1.1;
 * close-delimited on HTTP/1.0). */
asc_err_t asc_http_stream_begin(asc_http_req_t *req, int status, const asc_http_header_t *headers,
                                size_t nheaders);

/* Queue body bytes of a streamed response (copied). Returns ASC_OK, or
 * ASC_ECLOSED when the client is gone. *congested (may be NULL) is set when
 * more than write_high_water bytes are queued: the producer should pause
 * until on_drain. */
asc_err_t asc_http_stream_write(asc_http_req_t *req, const char *data, size_t len, int *congested);

/* Finish a streamed response (the terminating chunk) and end the request.
 * With `abrupt` set the connection is closed without the terminating chunk,
 * so the client sees a truncated transfer rather than a clean end. */
asc_err_t asc_http_stream_end(asc_http_req_t *req, int abrupt);

/* End the request by resetting the connection (RST) once what is queued
 * has been written: for fault injection (asc-mock) and for clients that must
 * see a hard failure. Ends the request like asc_http_respond(). */
asc_err_t asc_http_req_reset(asc_http_req_t *req);

/* Bytes queued to the client and not yet written. */
size_t asc_http_req_pending(const asc_http_req_t *req);

/* 1 after the client disconnected. */
int asc_http_req_aborted(const asc_http_req_t *req);

/* The loop this request runs on. */
uv_loop_t *asc_http_req_loop(const asc_http_req_t *req);

/* Reason phrase for a status code ("Not Found"). */
const char *asc_http_status_text(int status);

#endif

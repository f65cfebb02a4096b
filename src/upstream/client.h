/*
 * Upstream HTTP client: libcurl multi driven by the worker's libuv loop
 * (curl_multi_socket_action), one asc_upstream_t per loop. Connections and
 * easy handles are reused; redirects are never followed; environment proxies
 * are ignored unless a proxy is configured; TLS is always verified.
 *
 * Timeouts: connect (libcurl), first byte (from start to the first response
 * byte), idle (between body chunks while not paused), total (libcurl).
 *
 * Callbacks run on the loop thread. After on_done, or after
 * asc_upstream_cancel(), no callback fires again and the transfer is gone.
 * Any callback may call asc_upstream_cancel() or asc_upstream_pause() on its
 * own transfer.
 */
#ifndef ASC_UPSTREAM_CLIENT_H
#define ASC_UPSTREAM_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#include <curl/curl.h>
#include <uv.h>

#include "core/err.h"

typedef struct asc_upstream asc_upstream_t;
typedef struct asc_upstream_xfer asc_upstream_xfer_t;

typedef struct {
    /* Status line and headers received (final response, not 1xx). */
    void (*on_headers)(asc_upstream_xfer_t *x, int status, void *ud);
    /* Response body bytes, as they arrive. */
    void (*on_data)(asc_upstream_xfer_t *x, const char *p, size_t n, void *ud);
    /* The transfer ended: ASC_OK (complete response), ASC_ETIMEOUT (msg says
     * which timeout), ASC_EUPSTREAM (connection refused/reset, TLS, ...). */
    void (*on_done)(asc_upstream_xfer_t *x, asc_err_t e, const char *msg, void *ud);
} asc_upstream_cb_t;

typedef struct {
    const char *url;
    const char *method; /* "POST" (default when body) or "GET" */
    const char *body;   /* borrowed until on_done/cancel */
    size_t body_len;
    struct curl_slist *headers; /* borrowed until on_done/cancel */
    uint64_t connect_timeout_ms;
    uint64_t first_byte_timeout_ms;
    uint64_t idle_timeout_ms;
    uint64_t total_timeout_ms;
    const char *ca_file; /* NULL = system CAs */
    const char *proxy;   /* NULL = no proxy (environment ignored) */
} asc_upstream_req_t;

/* Create the client for `loop`. Call curl_global_init() once before. */
asc_upstream_t *asc_upstream_create(uv_loop_t *loop);

/* Cancel every transfer (no callbacks) and close the handles; `done` runs
 * when the client is freed. */
void asc_upstream_destroy(asc_upstream_t *u, void (*done)(void *arg), void *arg);

/* Start a transfer. Returns NULL (and calls nothing) when curl refuses the
 * options; *err gets a message. */
asc_upstream_xfer_t *asc_upstream_start(asc_upstream_t *u, const asc_upstream_req_t *r,
                                        const asc_upstream_cb_t *cb, void *ud, char *err,
                                        size_t errlen);

/* Stop the transfer now; no further callbacks. */
void asc_upstream_cancel(asc_upstream_xfer_t *x);

/* Pause (1) or resume (0) receiving. While paused the idle timeout does not
 * run: the slowness is the client's, not the upstream's. */
void asc_upstream_pause(asc_upstream_xfer_t *x, int paused);

/* A response header (case-insensitive name), or NULL; *len gets its length. */
const char *asc_upstream_header(const asc_upstream_xfer_t *x, const char *name, size_t *len);

/* Number of transfers in flight on this client. */
unsigned asc_upstream_active(const asc_upstream_t *u);

#endif

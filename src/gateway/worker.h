/*
 * Data-plane workers: one thread, one libuv loop, one HTTP server (sharing
 * the port through SO_REUSEPORT), one upstream client and one access-log
 * buffer each. Workers share nothing else but the published snapshot.
 */
#ifndef ASC_GATEWAY_WORKER_H
#define ASC_GATEWAY_WORKER_H

#include <pthread.h>
#include <stdatomic.h>

#include <uv.h>

#include "http/server.h"
#include "obs/accesslog.h"
#include "upstream/client.h"

typedef struct asc_worker {
    int id;
    uv_loop_t loop;
    uv_async_t wake; /* reload limits / shut down */
    uv_timer_t drain_timer;
    asc_http_server_t *server;
    asc_upstream_t *upstream;
    asc_accesslog_t *log;
    pthread_t thread;
    atomic_int cmd; /* ASC_WORKER_CMD_* */
    asc_http_limits_t pending_limits;
    uint64_t shutdown_timeout_ms;
    int accepting;
    int stopped;
} asc_worker_t;

typedef struct {
    const char *host;
    int port;
    unsigned count;
    asc_http_limits_t limits;
    uint64_t shutdown_timeout_ms;
} asc_workers_opts_t;

/* Start opts->count workers listening on host:port. With port 0 the first
 * worker picks the port and the others join it; *bound_port gets it. */
asc_err_t asc_workers_start(const asc_workers_opts_t *opts, int *bound_port, char *err,
                            size_t errlen);

/* Apply new limits to every worker (reload). */
void asc_workers_set_limits(const asc_http_limits_t *limits, uint64_t shutdown_timeout_ms);

/* Graceful stop: stop accepting, drain in-flight requests up to the shutdown
 * timeout, then abort what is left; joins the threads. */
void asc_workers_stop(void);

/* 1 while every worker accepts connections (for /readyz). */
int asc_workers_ready(void);

/* The HTTP handler of the gateway (src/gateway/handler.c); ud is the
 * asc_worker_t. */
void asc_gateway_handle(asc_http_req_t *req, void *ud);

#endif

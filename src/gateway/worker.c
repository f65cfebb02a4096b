#include "gateway/worker.h"

#include "gateway/shadow.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"

enum { CMD_NONE = 0, CMD_LIMITS = 1, CMD_STOP = 2 };

static asc_worker_t *g_workers;
static unsigned g_nworkers;
static atomic_uint g_conn_count;
static atomic_int g_ready;

static void on_upstream_gone(void *arg)
{
    (void)arg;
}

static void close_rest(asc_worker_t *w)
{
    if (w->stopped)
        return;
    w->stopped = 1;
    uv_timer_stop(&w->drain_timer);
    uv_close((uv_handle_t *)&w->drain_timer, NULL);
    uv_close((uv_handle_t *)&w->wake, NULL);
    asc_shadow_abort_all(); /* this thread's */
    asc_upstream_destroy(w->upstream, on_upstream_gone, NULL);
    asc_accesslog_worker_free(w->log);
    w->log = NULL;
}

static void on_server_done(asc_http_server_t *s, void *arg)
{
    (void)s;
    close_rest(arg);
}

static void on_drain_timeout(uv_timer_t *t)
{
    asc_worker_t *w = t->data;
    /* In-flight requests outlived the shutdown timeout: abort them. */
    asc_http_server_abort_all(w->server);
}

static void on_wake(uv_async_t *a)
{
    asc_worker_t *w = a->data;
    int cmd = atomic_exchange(&w->cmd, CMD_NONE);
    if (cmd & CMD_LIMITS)
        asc_http_server_set_limits(w->server, &w->pending_limits);
    if ((cmd & CMD_STOP) && w->accepting) {
        w->accepting = 0;
        asc_http_server_shutdown(w->server, on_server_done, w);
        uv_timer_start(&w->drain_timer, on_drain_timeout,
                       w->shutdown_timeout_ms ? w->shutdown_timeout_ms : 1, 0);
    }
}

static void *worker_main(void *arg)
{
    asc_worker_t *w = arg;
    uv_run(&w->loop, UV_RUN_DEFAULT);
    return NULL;
}

static asc_err_t worker_init(asc_worker_t *w, int id, const asc_workers_opts_t *o, int port,
                             char *err, size_t errlen)
{
    w->id = id;
    w->shutdown_timeout_ms = o->shutdown_timeout_ms;
    if (uv_loop_init(&w->loop) != 0) {
        snprintf(err, errlen, "cannot create an event loop");
        return ASC_EIO;
    }
    w->server = asc_http_server_create(&w->loop, o->host, port, &o->limits, &g_conn_count,
                                       asc_gateway_handle, w, err, errlen);
    if (w->server == NULL) {
        uv_loop_close(&w->loop);
        return ASC_EIO;
    }
    w->upstream = asc_upstream_create(&w->loop);
    w->log = asc_accesslog_worker(&w->loop);
    uv_async_init(&w->loop, &w->wake, on_wake);
    w->wake.data = w;
    uv_timer_init(&w->loop, &w->drain_timer);
    w->drain_timer.data = w;
    uv_unref((uv_handle_t *)&w->drain_timer);
    w->accepting = 1;
    return ASC_OK;
}

asc_err_t asc_workers_start(const asc_workers_opts_t *opts, int *bound_port, char *err,
                            size_t errlen)
{
    unsigned n = opts->count ? opts->count : 1;
    g_workers = calloc(n, sizeof *g_workers);
    if (g_workers == NULL)
        return ASC_ENOMEM;
    int port = opts->port;
    for (unsigned i = 0; i < n; i++) {
        asc_err_t e = worker_init(&g_workers[i], (int)i, opts, port, err, errlen);
        if (e != ASC_OK) {
            g_nworkers = i;
            asc_workers_stop();
            return e;
        }
        if (i == 0)
            port = asc_http_server_port(g_workers[0].server);
        g_nworkers = i + 1;
    }
    for (unsigned i = 0; i < n; i++)
        pthread_create(&g_workers[i].thread, NULL, worker_main, &g_workers[i]);
    *bound_port = port;
    atomic_store(&g_ready, 1);
    return ASC_OK;
}

void asc_workers_set_limits(const asc_http_limits_t *limits, uint64_t shutdown_timeout_ms)
{
    for (unsigned i = 0; i < g_nworkers; i++) {
        /* The worker reads pending_limits after seeing the command; the
         * atomic or-then-send orders the write before the read. */
        g_workers[i].pending_limits = *limits;
        g_workers[i].shutdown_timeout_ms = shutdown_timeout_ms;
        atomic_fetch_or(&g_workers[i].cmd, CMD_LIMITS);
        uv_async_send(&g_workers[i].wake);
    }
}

void asc_workers_stop(void)
{
    atomic_store(&g_ready, 0);
    for (unsigned i = 0; i < g_nworkers; i++) {
        asc_worker_t *w = &g_workers[i];
        if (w->thread == 0) {
            /* never started: tear down inline */
            w->accepting = 1;
            atomic_fetch_or(&w->cmd, CMD_STOP);
            on_wake(&w->wake);
            uv_run(&w->loop, UV_RUN_DEFAULT);
            continue;
        }
        atomic_fetch_or(&w->cmd, CMD_STOP);
        uv_async_send(&w->wake);
    }
    for (unsigned i = 0; i < g_nworkers; i++) {
        asc_worker_t *w = &g_workers[i];
        if (w->thread != 0)
            pthread_join(w->thread, NULL);
        asc_http_server_free(w->server);
        if (uv_loop_close(&w->loop) != 0)
            asc_log_warn("worker %d: event loop closed with handles open", w->id);
    }
    free(g_workers);
    g_workers = NULL;
    g_nworkers = 0;
}

int asc_workers_ready(void)
{
    return atomic_load(&g_ready);
}

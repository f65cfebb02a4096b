/*
 * The in-process mock: one thread running its own uv loop with an engine
 * and an HTTP server. The creating thread only touches it through
 * asc_mock_thread_start (which waits for the bind) and asc_mock_thread_stop
 * (an async wake-up, then join).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mock/mock.h"

struct asc_mock_thread {
    uv_thread_t tid;
    uv_loop_t loop;
    uv_async_t stop;
    uv_timer_t grace;
    uv_sem_t ready;
    asc_http_server_t *srv;
    asc_mock_t *m;
    atomic_uint own_conns;
    atomic_uint *conns;
    atomic_int stop_sent;
    char *host;
    char *key;
    int port;
    asc_err_t rc;
    char err[256];
};

static void on_grace(uv_timer_t *g)
{
    asc_mock_thread_t *t = g->data;
    /* Streams still running after the grace period are cut. */
    asc_http_server_abort_all(t->srv);
    uv_close((uv_handle_t *)&t->grace, NULL);
}

static void on_server_done(asc_http_server_t *s, void *arg)
{
    asc_mock_thread_t *t = arg;
    (void)s;
    if (!uv_is_closing((uv_handle_t *)&t->grace)) {
        uv_timer_stop(&t->grace);
        uv_close((uv_handle_t *)&t->grace, NULL);
    }
}

static void on_stop(uv_async_t *a)
{
    asc_mock_thread_t *t = a->data;
    uv_timer_start(&t->grace, on_grace, ASC_MOCK_GRACE_MS, 0);
    asc_mock_shutdown(t->m);
    asc_http_server_shutdown(t->srv, on_server_done, t);
    uv_close((uv_handle_t *)&t->stop, NULL);
}

static void thread_main(void *arg)
{
    asc_mock_thread_t *t = arg;
    asc_http_limits_t l;
    asc_http_limits_default(&l);
    t->m = asc_mock_create(&t->loop, t->key);
    t->srv = asc_http_server_create(&t->loop, t->host, t->port, &l, t->conns, asc_mock_handle, t->m,
                                    t->err, sizeof t->err);
    if (t->srv == NULL) {
        t->rc = ASC_EIO;
        asc_mock_free(t->m);
        t->m = NULL;
        uv_sem_post(&t->ready);
        return;
    }
    t->port = asc_http_server_port(t->srv);
    uv_async_init(&t->loop, &t->stop, on_stop);
    t->stop.data = t;
    uv_timer_init(&t->loop, &t->grace);
    t->grace.data = t;
    t->rc = ASC_OK;
    uv_sem_post(&t->ready);
    uv_run(&t->loop, UV_RUN_DEFAULT);
    asc_http_server_free(t->srv);
    asc_mock_free(t->m);
}

static char *dup_str(const char *s)
{
    if (s == NULL)
        return NULL;
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d == NULL)
        abort();
    memcpy(d, s, n);
    return d;
}

static void thread_free(asc_mock_thread_t *t)
{
    uv_loop_close(&t->loop);
    uv_sem_destroy(&t->ready);
    free(t->host);
    free(t->key);
    free(t);
}

asc_err_t asc_mock_thread_start_ex(const char *host, int port, const char *require_key,
                                   atomic_uint *conn_count, int *port_out, asc_mock_thread_t **out,
                                   char *err, size_t errlen)
{
    asc_mock_thread_t *t = calloc(1, sizeof *t);
    if (t == NULL) {
        snprintf(err, errlen, "out of memory");
        return ASC_ENOMEM;
    }
    t->host = dup_str(host ? host : "127.0.0.1");
    t->key = dup_str(require_key);
    t->port = port;
    atomic_init(&t->own_conns, 0);
    atomic_init(&t->stop_sent, 0);
    t->conns = conn_count ? conn_count : &t->own_conns;
    if (uv_loop_init(&t->loop) != 0 || uv_sem_init(&t->ready, 0) != 0) {
        snprintf(err, errlen, "cannot create an event loop");
        free(t->host);
        free(t->key);
        free(t);
        return ASC_EIO;
    }
    if (uv_thread_create(&t->tid, thread_main, t) != 0) {
        snprintf(err, errlen, "cannot start the mock thread");
        thread_free(t);
        return ASC_EIO;
    }
    uv_sem_wait(&t->ready);
    if (t->rc != ASC_OK) {
        asc_err_t rc = t->rc;
        snprintf(err, errlen, "%s", t->err);
        uv_thread_join(&t->tid);
        thread_free(t);
        return rc;
    }
    if (port_out != NULL)
        *port_out = t->port;
    *out = t;
    return ASC_OK;
}

asc_err_t asc_mock_thread_start(const char *host, int port, int *port_out, asc_mock_thread_t **out,
                                char *err, size_t errlen)
{
    return asc_mock_thread_start_ex(host, port, NULL, NULL, port_out, out, err, errlen);
}

void asc_mock_thread_signal(asc_mock_thread_t *t)
{
    /* The async handle closes once it fired: send at most once. */
    if (t != NULL && atomic_exchange(&t->stop_sent, 1) == 0)
        uv_async_send(&t->stop);
}

void asc_mock_thread_stop(asc_mock_thread_t *t)
{
    if (t == NULL)
        return;
    asc_mock_thread_signal(t);
    uv_thread_join(&t->tid);
    thread_free(t);
}

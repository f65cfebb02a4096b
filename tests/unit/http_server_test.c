/* The HTTP server over real loopback sockets: keep-alive, pipelining,
 * chunked bodies, limits, timeouts, streaming. */
#include <arpa/inet.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/buf.h"
#include "http/server.h"

static uv_loop_t g_loop;
static uv_async_t g_stop;
static asc_http_server_t *g_srv;
static atomic_uint g_conns;
static pthread_t g_thread;
static int g_port;
static uv_sem_t g_ready;

static void handler(asc_http_req_t *req, void *ud)
{
    (void)ud;
    static const asc_http_header_t ct = {"Content-Type", 12, "text/plain", 10};
    if (req->path_len == 7 && memcmp(req->path, "/stream", 7) == 0) {
        asc_http_stream_begin(req, 200, &ct, 1);
        asc_http_stream_write(req, "one,", 4, NULL);
        asc_http_stream_write(req, "two,", 4, NULL);
        asc_http_stream_write(req, "three", 5, NULL);
        asc_http_stream_end(req, 0);
        return;
    }
    /* Echo "<method> <path> <body>". */
    asc_buf_t b;
    asc_buf_init(&b, 0);
    asc_buf_printf(&b, "%s %s %.*s", req->method_name, req->path, (int)req->body_len, req->body);
    asc_http_respond(req, 200, &ct, 1, b.data, b.len);
    asc_buf_free(&b);
}

static void on_stop(uv_async_t *a)
{
    (void)a;
    asc_http_server_shutdown(g_srv, NULL, NULL);
    asc_http_server_abort_all(g_srv);
    uv_close((uv_handle_t *)&g_stop, NULL);
}

static void *loop_main(void *arg)
{
    (void)arg;
    uv_run(&g_loop, UV_RUN_DEFAULT);
    return NULL;
}

static int setup(void **state)
{
    (void)state;
    char err[256];
    asc_http_limits_t l;
    asc_http_limits_default(&l);
    l.max_body_bytes = 4096;
    l.header_timeout_ms = 300;
    l.body_timeout_ms = 300;
    l.max_connections = 8;
    uv_loop_init(&g_loop);
    uv_async_init(&g_loop, &g_stop, on_stop);
    g_srv = asc_http_server_create(&g_loop, "127.0.0.1", 0, &l, &g_conns, handler, NULL, err,
                                   sizeof err);
    if (g_srv == NULL)
        return -1;
    g_port = asc_http_server_port(g_srv);
    uv_sem_init(&g_ready, 0);
    pthread_create(&g_thread, NULL, loop_main, NULL);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    uv_async_send(&g_stop);
    pthread_join(g_thread, NULL);
    asc_http_server_free(g_srv);
    uv_loop_close(&g_loop);
    return 0;
}

static int dial(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)g_port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof a), 0);
    return fd;
}

static void send_all(int fd, const char *s, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, s, n);
        assert_true(w > 0);
        s += w;
        n -= (size_t)w;
    }
}

/* Read until `want` appears `count` times, or EOF, or 5 s. */
static char *read_until(int fd, const char *want, int count, size_t *outlen)
{
    asc_buf_t b;
    asc_buf_init(&b, 1 << 20);
    asc_buf_append(&b, "", 0);
    for (;;) {
        int seen = 0;
        for (const char *p = b.data; (p = strstr(p, want)) != NULL; p++)
            seen++;
        if (seen >= count)
            break;
        struct pollfd pfd = {fd, POLLIN, 0};
        if (poll(&pfd, 1, 5000) <= 0)
            break;
        char tmp[4096];
        ssize_t n = read(fd, tmp, sizeof tmp);
        if (n <= 0)
            break;
        asc_buf_append(&b, tmp, (size_t)n);
    }
    if (outlen)
        *outlen = b.len;
    return asc_buf_take(&b, NULL);
}

static void test_keepalive_and_pipelining(void **state)
{
    (void)state;
    int fd = dial();
    const char *reqs = "POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\none"
                       "GET /b HTTP/1.1\r\nHost: x\r\n\r\n"
                       "POST /c HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nthree";
    send_all(fd, reqs, strlen(reqs));
    char *out = read_until(fd, "HTTP/1.1 200", 3, NULL);
    char *a = strstr(out, "POST /a one"), *b = strstr(out, "GET /b "),
         *c = strstr(out, "POST /c three");
    assert_non_null(a);
    assert_non_null(b);
    assert_non_null(c);
    assert_true(a < b && b < c);
    assert_non_null(strstr(out, "x-request-id: req_"));
    free(out);
    close(fd);
}

static void test_chunked_body_and_request_id(void **state)
{
    (void)state;
    int fd = dial();
    const char *r = "POST /x HTTP/1.1\r\nHost: x\r\nx-request-id: my-id.1\r\nTransfer-Encoding: "
                    "chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n";
    send_all(fd, r, strlen(r));
    char *out = read_until(fd, "abcde", 1, NULL);
    assert_non_null(strstr(out, "POST /x abcde"));
    assert_non_null(strstr(out, "x-request-id: my-id.1\r\n"));
    free(out);
    close(fd);
}

static void test_limits(void **state)
{
    (void)state;
    /* body over max_body_bytes (Content-Length) */
    int fd = dial();
    const char *r = "POST /x HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\n\r\n";
    send_all(fd, r, strlen(r));
    char *out = read_until(fd, "}}", 1, NULL);
    assert_non_null(strstr(out, "HTTP/1.1 413"));
    assert_non_null(strstr(out, "request_too_large"));
    free(out);
    close(fd);

    /* chunked body over the limit */
    fd = dial();
    asc_buf_t b;
    asc_buf_init(&b, 0);
    asc_buf_puts(&b, "POST /x HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n");
    for (int i = 0; i < 5; i++) {
        asc_buf_puts(&b, "400\r\n");
        for (int j = 0; j < 1024; j++)
            asc_buf_putc(&b, 'a');
        asc_buf_puts(&b, "\r\n");
    }
    send_all(fd, b.data, b.len);
    asc_buf_free(&b);
    out = read_until(fd, "}}", 1, NULL);
    assert_non_null(strstr(out, "HTTP/1.1 413"));
    free(out);
    close(fd);

    /* 101 headers */
    fd = dial();
    asc_buf_init(&b, 0);
    asc_buf_puts(&b, "GET /x HTTP/1.1\r\n");
    for (int i = 0; i < 101; i++)
        asc_buf_printf(&b, "X-H%d: v\r\n", i);
    asc_buf_puts(&b, "\r\n");
    send_all(fd, b.data, b.len);
    asc_buf_free(&b);
    out = read_until(fd, "}}", 1, NULL);
    assert_non_null(strstr(out, "HTTP/1.1 431"));
    free(out);
    close(fd);

    /* 70 KiB header block */
    fd = dial();
    asc_buf_init(&b, 0);
    asc_buf_puts(&b, "GET /x HTTP/1.1\r\nX-Big: ");
    for (int i = 0; i < 70 * 1024; i++)
        asc_buf_putc(&b, 'b');
    asc_buf_puts(&b, "\r\n\r\n");
    send(fd, b.data, b.len, MSG_NOSIGNAL);
    asc_buf_free(&b);
    out = read_until(fd, "}}", 1, NULL);
    assert_non_null(strstr(out, "HTTP/1.1 431"));
    free(out);
    close(fd);
}

static void test_slow_header_408(void **state)
{
    (void)state;
    int fd = dial();
    send_all(fd, "GET /x HTTP/1.1\r\nHost", strlen("GET /x HTTP/1.1\r\nHost"));
    char *out = read_until(fd, "}}", 1, NULL);
    assert_non_null(strstr(out, "HTTP/1.1 408"));
    assert_non_null(strstr(out, "request_timeout"));
    free(out);
    close(fd);

    fd = dial();
    const char *r = "POST /x HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc";
    send_all(fd, r, strlen(r));
    out = read_until(fd, "}}", 1, NULL);
    assert_non_null(strstr(out, "HTTP/1.1 408"));
    free(out);
    close(fd);
}

static void test_stream_chunked(void **state)
{
    (void)state;
    int fd = dial();
    const char *g1 = "GET /stream HTTP/1.1\r\nHost: x\r\n\r\n";
    send_all(fd, g1, strlen(g1));
    char *out = read_until(fd, "0\r\n\r\n", 1, NULL);
    assert_non_null(strstr(out, "Transfer-Encoding: chunked"));
    assert_non_null(strstr(out, "4\r\none,\r\n4\r\ntwo,\r\n5\r\nthree\r\n0\r\n\r\n"));
    free(out);
    /* the connection is still usable */
    const char *g2 = "GET /again HTTP/1.1\r\nHost: x\r\n\r\n";
    send_all(fd, g2, strlen(g2));
    out = read_until(fd, "GET /again", 1, NULL);
    assert_non_null(strstr(out, "GET /again"));
    free(out);
    close(fd);
}

static void test_malformed_400(void **state)
{
    (void)state;
    int fd = dial();
    send_all(fd, "GARBAGE\r\n\r\n", strlen("GARBAGE\r\n\r\n"));
    char *out = read_until(fd, "}}", 1, NULL);
    assert_non_null(strstr(out, "HTTP/1.1 400"));
    free(out);
    close(fd);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_keepalive_and_pipelining),
        cmocka_unit_test(test_chunked_body_and_request_id),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_slow_header_408),
        cmocka_unit_test(test_stream_chunked),
        cmocka_unit_test(test_malformed_400),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}

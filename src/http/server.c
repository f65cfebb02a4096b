/*
 * HTTP/1.1 server: libuv + http-parser.
 *
 * One conn_t per TCP connection, one req_t per request. A connection parses
 * until a request is complete, then pauses the parser and dispatches it; the
 * bytes after it (pipelined requests) wait in conn->in, bounded, and are
 * parsed when the response has ended. Reading goes on while a request is
 * handled, so a client that disconnects is noticed at once (on_abort).
 */
#include "http/server.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <http_parser.h>

#include "core/buf.h"
#include "core/clock.h"
#include "http/path.h"
#include "http/reqid.h"

#define READ_BUF_SIZE 65536
#define IN_BUF_LIMIT (1024 * 1024) /* pipelined bytes held while a request runs */
#define LISTEN_BACKLOG 4096
#define LINGER_MS 2000               /* after an error answer to an unread body */
#define LINGER_MAX (4 * 1024 * 1024) /* bytes discarded while lingering */

typedef struct conn conn_t;

typedef enum { PHASE_IDLE, PHASE_HEADERS, PHASE_BODY, PHASE_DISPATCHED } phase_t;

typedef struct {
    size_t name_off, name_len, value_off, value_len;
} hoff_t;

typedef struct req {
    asc_http_req_t pub;
    conn_t *conn;
    asc_buf_t hbuf; /* url, then header names and values */
    size_t url_len;
    hoff_t *hoff;
    unsigned nh;
    int last_value; /* last header callback was a value */
    asc_buf_t body;
    int streaming;
    int chunked;
    int congested;
    int ended;
    int aborted;
} req_t;

struct conn {
    uv_tcp_t tcp; /* first: the handle's address is the conn's */
    uv_timer_t timer;
    asc_http_server_t *srv;
    http_parser parser;
    asc_buf_t in; /* unparsed bytes */
    req_t *cur;   /* being parsed or dispatched */
    phase_t phase;
    int err_status; /* a callback found a limit violation */
    int open_handles;
    int closing;
    int close_after_write; /* close once the write queue is empty */
    int reading;
    int reject;      /* over max_connections: answer 503 and close */
    int failed;      /* a write failed: closed from the loop, not from inside the write */
    int lingering;   /* error answered before the body was read: drain, then close */
    int reset_close; /* close with RST (asc_http_req_reset) */
    size_t linger_bytes;
    uv_shutdown_t shutdown_req;
    int counted;
    size_t write_pending;
    asc_pool_t *spare_pool;
    conn_t *prev, *next;
    char peer_ip[48];
};

struct asc_http_server {
    uv_loop_t *loop;
    uv_tcp_t listener;
    uv_idle_t idle; /* resumes connections with pipelined input */
    asc_http_limits_t limits;
    atomic_uint *conn_count;
    asc_http_handler_fn handler;
    void *ud;
    int port;
    unsigned nconns;
    conn_t *conns;
    conn_t **resume; /* connections to resume parsing */
    size_t nresume, capresume;
    int shutting_down;
    int listener_closed;
    int idle_closed;
    void (*done)(asc_http_server_t *s, void *arg);
    void *done_arg;
    http_parser_settings settings;
    char readbuf[READ_BUF_SIZE];
    int readbuf_busy;
};

typedef struct {
    uv_write_t w;
    conn_t *c;
    size_t len;
    char data[];
} wreq_t;

static void conn_close(conn_t *c);
static void on_timer_linger(uv_timer_t *t);
static void conn_parse(conn_t *c, const char *data, size_t len);
static void req_end(req_t *r);

void asc_http_limits_default(asc_http_limits_t *l)
{
    l->max_header_bytes = 65536;
    l->max_headers = 100;
    l->max_body_bytes = 32u * 1024 * 1024;
    l->header_timeout_ms = 10000;
    l->body_timeout_ms = 30000;
    l->idle_timeout_ms = 60000;
    l->max_connections = 10000;
    l->write_high_water = 256 * 1024;
}

const char *asc_http_status_text(int status)
{
    switch (status) {
    case 100: return "Continue";
    case 200: return "OK";
    case 201: return "Created";
    case 204: return "No Content";
    case 301: return "Moved Permanently";
    case 302: return "Found";
    case 304: return "Not Modified";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 413: return "Payload Too Large";
    case 415: return "Unsupported Media Type";
    case 422: return "Unprocessable Entity";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 499: return "Client Closed Request";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    case 529: return "Site Overloaded";
    }
    return "Unknown";
}

/* ---- writing ---------------------------------------------------------- */

static void on_linger_shutdown(uv_shutdown_t *req, int status)
{
    (void)req;
    (void)status;
}

/* The error answer is written. Closing now, while the client is still
 * sending its body, would make the kernel reset the connection and the
 * client might never read the answer (RFC 9112 §9.6): send FIN, keep
 * reading and discarding for a bounded time and size, then close. */
static void conn_write_done(conn_t *c)
{
    if (!c->lingering) {
        conn_close(c);
        return;
    }
    if (c->closing || c->shutdown_req.handle != NULL)
        return;
    uv_shutdown(&c->shutdown_req, (uv_stream_t *)&c->tcp, on_linger_shutdown);
    uv_timer_start(&c->timer, on_timer_linger, LINGER_MS, 0);
}

static void on_write(uv_write_t *w, int status)
{
    wreq_t *wr = (wreq_t *)w;
    conn_t *c = wr->c;
    c->write_pending -= wr->len;
    free(wr);
    if (status < 0) {
        conn_close(c);
        return;
    }
    req_t *r = c->cur;
    if (r != NULL && r->congested && c->write_pending <= c->srv->limits.write_high_water / 2) {
        r->congested = 0;
        if (r->pub.on_drain != NULL && !r->aborted)
            r->pub.on_drain(&r->pub);
    }
    if (c->write_pending == 0 && c->close_after_write)
        conn_write_done(c);
}

/* Write two byte ranges; copies what the kernel did not take at once. */
static void schedule_resume(conn_t *c);

/* A write failed. Closing now would call the handler's on_abort from inside
 * its own write call; close from the loop instead. */
static void conn_fail(conn_t *c)
{
    if (c->failed || c->closing)
        return;
    c->failed = 1;
    if (c->reading) {
        uv_read_stop((uv_stream_t *)&c->tcp);
        c->reading = 0;
    }
    schedule_resume(c);
}

static int conn_write2(conn_t *c, const char *a, size_t alen, const char *b, size_t blen)
{
    if (c->closing || c->failed)
        return -1;
    size_t done = 0;
    if (c->write_pending == 0) {
        uv_buf_t bufs[2] = {uv_buf_init((char *)a, (unsigned)alen),
                            uv_buf_init((char *)b, (unsigned)blen)};
        int n = uv_try_write((uv_stream_t *)&c->tcp, bufs, blen ? 2 : 1);
        if (n >= 0)
            done = (size_t)n;
        else if (n != UV_EAGAIN) {
            conn_fail(c);
            return -1;
        }
    }
    size_t total = alen + blen;
    if (done == total)
        return 0;
    size_t rest = total - done;
    wreq_t *wr = malloc(sizeof *wr + rest);
    if (wr == NULL) {
        conn_fail(c);
        return -1;
    }
    size_t off = 0;
    if (done < alen) {
        memcpy(wr->data, a + done, alen - done);
        off = alen - done;
        if (blen)
            memcpy(wr->data + off, b, blen);
    } else {
        memcpy(wr->data, b + (done - alen), rest);
    }
    wr->c = c;
    wr->len = rest;
    c->write_pending += rest;
    uv_buf_t buf = uv_buf_init(wr->data, (unsigned)rest);
    if (uv_write(&wr->w, (uv_stream_t *)&c->tcp, &buf, 1, on_write) != 0) {
        c->write_pending -= rest;
        free(wr);
        conn_fail(c);
        return -1;
    }
    return 0;
}

static void append_head(asc_buf_t *o, const req_t *r, int status, const asc_http_header_t *h,
                        size_t nh, int keep_alive)
{
    /* Before the headers were parsed, http_minor is not known: answer 1.1. */
    int minor = r && r->pub.method_name ? r->pub.http_minor : 1;
    asc_buf_printf(o, "HTTP/1.1 %d %s\r\n", status, asc_http_status_text(status));
    for (size_t i = 0; i < nh; i++) {
        asc_buf_append(o, h[i].name, h[i].name_len);
        asc_buf_append(o, ": ", 2);
        asc_buf_append(o, h[i].value, h[i].value_len);
        asc_buf_append(o, "\r\n", 2);
    }
    if (r != NULL && r->pub.request_id[0]) {
        asc_buf_puts(o, "x-request-id: ");
        asc_buf_puts(o, r->pub.request_id);
        asc_buf_append(o, "\r\n", 2);
    }
    if (!keep_alive)
        asc_buf_puts(o, "Connection: close\r\n");
    else if (minor == 0)
        asc_buf_puts(o, "Connection: keep-alive\r\n");
}

/* A response the server writes itself (limits, protocol errors). The
 * connection closes after it. */
static void conn_error(conn_t *c, int status, const char *code, const char *message)
{
    req_t *r = c->cur;
    char id[129];
    if (r == NULL)
        asc_http_reqid_generate(id);
    else if (r->pub.request_id[0] == '\0')
        asc_http_reqid_generate(r->pub.request_id);
    char body[512];
    int n =
        snprintf(body, sizeof body,
                 "{\"error\":{\"message\":\"%s\",\"type\":\"%s\",\"param\":null,\"code\":\"%s\"}}",
                 message, status >= 500 ? "api_error" : "invalid_request_error", code);
    asc_buf_t o;
    asc_buf_init(&o, 0);
    append_head(&o, r, status, NULL, 0, 0);
    if (r == NULL)
        asc_buf_printf(&o, "x-request-id: %s\r\n", id);
    asc_buf_printf(&o, "Content-Type: application/json\r\nContent-Length: %d\r\n\r\n", n);
    asc_buf_append(&o, body, (size_t)n);
    c->close_after_write = 1;
    /* Keep reading (and discarding) what the client still sends. */
    c->lingering = c->reading;
    uv_timer_stop(&c->timer);
    if (conn_write2(c, o.data, o.len, NULL, 0) == 0 && c->write_pending == 0)
        conn_write_done(c);
    asc_buf_free(&o);
}

/* ---- timers ----------------------------------------------------------- */

static void on_timer(uv_timer_t *t)
{
    conn_t *c = t->data;
    switch (c->phase) {
    case PHASE_HEADERS:
    case PHASE_BODY:
        if (c->cur != NULL) {
            conn_error(c, 408, "request_timeout",
                       c->phase == PHASE_HEADERS ? "timed out reading the request headers"
                                                 : "timed out reading the request body");
            return;
        }
        conn_close(c);
        return;
    case PHASE_IDLE: conn_close(c); return;
    case PHASE_DISPATCHED: return;
    }
}

static void on_timer_linger(uv_timer_t *t)
{
    conn_close(t->data);
}

static void timer_start(conn_t *c, uint64_t ms)
{
    uv_timer_start(&c->timer, on_timer, ms ? ms : 1, 0);
}

/* ---- requests --------------------------------------------------------- */

static req_t *req_new(conn_t *c)
{
    asc_pool_t *pool = c->spare_pool;
    c->spare_pool = NULL;
    if (pool == NULL)
        pool = asc_pool_create(0);
    req_t *r = asc_pool_alloc(pool, sizeof *r);
    memset(r, 0, sizeof *r);
    r->pub.pool = pool;
    r->pub.server = c->srv;
    r->pub.start_ns = asc_clock_ns();
    memcpy(r->pub.peer_ip, c->peer_ip, sizeof r->pub.peer_ip);
    r->conn = c;
    asc_buf_init(&r->hbuf, c->srv->limits.max_header_bytes + 1024);
    asc_buf_init(&r->body, c->srv->limits.max_body_bytes);
    r->hoff = asc_pool_alloc(pool, sizeof(hoff_t) * (c->srv->limits.max_headers + 1));
    return r;
}

static void req_free(req_t *r)
{
    conn_t *c = r->conn;
    asc_buf_free(&r->hbuf);
    asc_buf_free(&r->body);
    asc_pool_t *pool = r->pub.pool;
    if (c != NULL && !c->closing && c->spare_pool == NULL && asc_pool_used(pool) <= 16384) {
        asc_pool_reset(pool);
        c->spare_pool = pool;
    } else {
        asc_pool_destroy(pool);
    }
}

static int header_limit_hit(conn_t *c, req_t *r, size_t add)
{
    /* The 4 bytes per header stand for ": " and CRLF. */
    size_t used = r->hbuf.len + add + 4u * r->nh;
    return used > c->srv->limits.max_header_bytes;
}

static int on_message_begin(http_parser *p)
{
    conn_t *c = p->data;
    if (c->cur == NULL)
        c->cur = req_new(c);
    c->phase = PHASE_HEADERS;
    timer_start(c, c->srv->limits.header_timeout_ms);
    return 0;
}

static int on_url(http_parser *p, const char *at, size_t len)
{
    conn_t *c = p->data;
    req_t *r = c->cur;
    if (header_limit_hit(c, r, len) || asc_buf_append(&r->hbuf, at, len) != ASC_OK) {
        c->err_status = 431;
        return -1;
    }
    r->url_len += len;
    return 0;
}

static int on_header_field(http_parser *p, const char *at, size_t len)
{
    conn_t *c = p->data;
    req_t *r = c->cur;
    if (r->nh == 0 || r->last_value) {
        if (r->nh >= c->srv->limits.max_headers) {
            c->err_status = 431;
            return -1;
        }
        if (r->nh > 0)
            r->hoff[r->nh - 1].value_len = r->hbuf.len - r->hoff[r->nh - 1].value_off;
        r->hoff[r->nh].name_off = r->hbuf.len;
        r->hoff[r->nh].value_off = r->hbuf.len;
        r->nh++;
        r->last_value = 0;
    }
    if (header_limit_hit(c, r, len) || asc_buf_append(&r->hbuf, at, len) != ASC_OK) {
        c->err_status = 431;
        return -1;
    }
    return 0;
}

static int on_header_value(http_parser *p, const char *at, size_t len)
{
    conn_t *c = p->data;
    req_t *r = c->cur;
    if (r->nh == 0)
        return -1;
    if (!r->last_value) {
        hoff_t *h = &r->hoff[r->nh - 1];
        h->name_len = r->hbuf.len - h->name_off;
        h->value_off = r->hbuf.len;
        r->last_value = 1;
    }
    if (header_limit_hit(c, r, len) || asc_buf_append(&r->hbuf, at, len) != ASC_OK) {
        c->err_status = 431;
        return -1;
    }
    return 0;
}

static int valid_request_id(const char *s, size_t n)
{
    if (n == 0 || n > 128)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char ch = s[i];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
              ch == '.' || ch == '_' || ch == ':' || ch == '-'))
            return 0;
    }
    return 1;
}

static int on_headers_complete(http_parser *p)
{
    conn_t *c = p->data;
    req_t *r = c->cur;
    asc_pool_t *pool = r->pub.pool;
    if (r->nh > 0) {
        hoff_t *h = &r->hoff[r->nh - 1];
        if (r->last_value)
            h->value_len = r->hbuf.len - h->value_off;
        else {
            h->name_len = r->hbuf.len - h->name_off;
            h->value_off = r->hbuf.len;
            h->value_len = 0;
        }
    }
    /* hbuf no longer grows: point into it. */
    r->pub.headers = asc_pool_alloc(pool, sizeof(asc_http_header_t) * (r->nh + 1));
    for (unsigned i = 0; i < r->nh; i++) {
        asc_http_header_t *h = &r->pub.headers[i];
        h->name = r->hbuf.data + r->hoff[i].name_off;
        h->name_len = r->hoff[i].name_len;
        h->value = r->hbuf.data + r->hoff[i].value_off;
        h->value_len = r->hoff[i].value_len;
        /* Trailing whitespace of values is not part of the value. */
        while (h->value_len > 0 &&
               (h->value[h->value_len - 1] == ' ' || h->value[h->value_len - 1] == '\t'))
            h->value_len--;
    }
    r->pub.nheaders = r->nh;
    r->pub.raw_url = asc_pool_strndup(pool, r->hbuf.data, r->url_len);
    r->pub.method = p->method;
    r->pub.method_name = http_method_str((enum http_method)p->method);
    r->pub.http_minor = p->http_minor;

    if (asc_http_path_normalize(pool, r->pub.raw_url, r->url_len, &r->pub.path, &r->pub.path_len,
                                &r->pub.query) != ASC_OK) {
        c->err_status = 400;
        return -1;
    }
    size_t idl = 0;
    const char *id = asc_http_req_header(&r->pub, "x-request-id", &idl);
    if (id != NULL && valid_request_id(id, idl)) {
        memcpy(r->pub.request_id, id, idl);
        r->pub.request_id[idl] = '\0';
    } else {
        asc_http_reqid_generate(r->pub.request_id);
    }

    if ((p->flags & F_CONTENTLENGTH) && p->content_length > c->srv->limits.max_body_bytes) {
        c->err_status = 413;
        return -1;
    }
    size_t el = 0;
    const char *expect = asc_http_req_header(&r->pub, "expect", &el);
    if (expect != NULL && el == 12 && strncasecmp(expect, "100-continue", 12) == 0 &&
        p->http_minor >= 1) {
        static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";
        conn_write2(c, cont, sizeof cont - 1, NULL, 0);
    }
    c->phase = PHASE_BODY;
    timer_start(c, c->srv->limits.body_timeout_ms);
    return 0;
}

static int on_body(http_parser *p, const char *at, size_t len)
{
    conn_t *c = p->data;
    req_t *r = c->cur;
    asc_err_t e = asc_buf_append(&r->body, at, len);
    if (e != ASC_OK) {
        c->err_status = e == ASC_ETOOBIG ? 413 : 500;
        return -1;
    }
    return 0;
}

static int on_message_complete(http_parser *p)
{
    conn_t *c = p->data;
    req_t *r = c->cur;
    if (r->body.data == NULL)
        asc_buf_append(&r->body, "", 0);
    r->pub.body = r->body.data;
    r->pub.body_len = r->body.len;
    r->pub.keep_alive = http_should_keep_alive(p) && !c->srv->shutting_down;
    c->phase = PHASE_DISPATCHED;
    uv_timer_stop(&c->timer);
    http_parser_pause(p, 1);
    return 0;
}

/* ---- connection lifecycle -------------------------------------------- */

static void on_handle_closed(uv_handle_t *h)
{
    conn_t *c = h->data;
    if (--c->open_handles > 0)
        return;
    asc_http_server_t *s = c->srv;
    if (c->prev)
        c->prev->next = c->next;
    else if (s->conns == c)
        s->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    s->nconns--;
    if (c->counted)
        atomic_fetch_sub(s->conn_count, 1);
    asc_buf_free(&c->in);
    asc_pool_destroy(c->spare_pool);
    free(c);
    if (s->shutting_down && s->nconns == 0 && s->listener_closed && s->idle_closed && s->done)
        s->done(s, s->done_arg);
}

static void close_handles(conn_t *c)
{
    if (c->reset_close)
        uv_tcp_close_reset(&c->tcp, on_handle_closed);
    else
        uv_close((uv_handle_t *)&c->tcp, on_handle_closed);
    uv_close((uv_handle_t *)&c->timer, on_handle_closed);
}

static void conn_close(conn_t *c)
{
    if (c->closing)
        return;
    c->closing = 1;
    uv_timer_stop(&c->timer);
    req_t *r = c->cur;
    if (r != NULL && c->phase == PHASE_DISPATCHED) {
        /* The handler owns the request and must end it; req_end() then
         * closes the handles (possibly from inside on_abort, after which r
         * is gone). */
        r->aborted = 1;
        if (r->pub.on_abort != NULL)
            r->pub.on_abort(&r->pub);
        return;
    }
    if (r != NULL) {
        r->conn = NULL;
        req_free(r);
        c->cur = NULL;
    }
    close_handles(c);
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    conn_t *c = h->data;
    asc_http_server_t *s = c->srv;
    if (!s->readbuf_busy) {
        s->readbuf_busy = 1;
        *buf = uv_buf_init(s->readbuf, sizeof s->readbuf);
        return;
    }
    /* Nested read (not expected): fall back to a heap buffer. */
    buf->base = malloc(READ_BUF_SIZE);
    buf->len = buf->base ? READ_BUF_SIZE : 0;
}

static void release_readbuf(asc_http_server_t *s, const uv_buf_t *buf)
{
    if (buf->base == s->readbuf)
        s->readbuf_busy = 0;
    else
        free(buf->base);
}

static void on_read(uv_stream_t *st, ssize_t nread, const uv_buf_t *buf)
{
    conn_t *c = st->data;
    asc_http_server_t *s = c->srv;
    if (nread < 0) {
        release_readbuf(s, buf);
        /* EOF or error: a request in flight is aborted; otherwise close. */
        conn_close(c);
        return;
    }
    if (nread == 0 || c->closing) {
        release_readbuf(s, buf);
        return;
    }
    if (c->reject || c->lingering) {
        release_readbuf(s, buf);
        c->linger_bytes += (size_t)nread;
        if (c->linger_bytes > LINGER_MAX)
            conn_close(c);
        return;
    }
    if (c->phase == PHASE_DISPATCHED || c->in.len > 0) {
        /* Hold the bytes until the current response ends (pipelining). */
        asc_err_t e = asc_buf_append(&c->in, buf->base, (size_t)nread);
        release_readbuf(s, buf);
        if (e != ASC_OK) {
            conn_close(c);
            return;
        }
        if (c->in.len >= IN_BUF_LIMIT && c->reading) {
            uv_read_stop(st);
            c->reading = 0;
        }
        if (c->phase != PHASE_DISPATCHED) {
            asc_buf_t in = c->in;
            asc_buf_init(&c->in, IN_BUF_LIMIT + READ_BUF_SIZE);
            conn_parse(c, in.data, in.len);
            asc_buf_free(&in);
        }
        return;
    }
    conn_parse(c, buf->base, (size_t)nread);
    release_readbuf(s, buf);
}

static void dispatch(conn_t *c)
{
    req_t *r = c->cur;
    c->srv->handler(&r->pub, c->srv->ud);
}

/* Parse data; on a complete request dispatch it and keep the rest in c->in. */
static void conn_parse(conn_t *c, const char *data, size_t len)
{
    size_t n = http_parser_execute(&c->parser, &c->srv->settings, data, len);
    enum http_errno err = HTTP_PARSER_ERRNO(&c->parser);
    if (err == HPE_PAUSED) {
        http_parser_pause(&c->parser, 0);
        if (n < len && asc_buf_append(&c->in, data + n, len - n) != ASC_OK) {
            conn_close(c);
            return;
        }
        dispatch(c);
        return;
    }
    if (err != HPE_OK) {
        int status = c->err_status;
        if (status == 0)
            status = err == HPE_HEADER_OVERFLOW ? 431 : 400;
        if (c->cur == NULL)
            c->cur = req_new(c);
        switch (status) {
        case 413:
            conn_error(c, 413, "request_too_large", "request body is larger than the limit");
            break;
        case 431:
            conn_error(c, 431, "headers_too_large",
                       "request header block is larger than the limit or has too many headers");
            break;
        case 500: conn_error(c, 500, "internal_error", "out of memory"); break;
        default: conn_error(c, 400, "invalid_request", "malformed HTTP request");
        }
        return;
    }
    if (n != len) {
        conn_close(c);
        return;
    }
}

/* Drop the hold schedule_resume() took; returns 1 when that freed c. */
static int conn_unhold(conn_t *c)
{
    if (c->open_handles > 1) {
        c->open_handles--;
        return 0;
    }
    /* Both handles closed while held: on_handle_closed finishes the free. */
    on_handle_closed((uv_handle_t *)&c->tcp);
    return 1;
}

static void on_idle(uv_idle_t *h)
{
    asc_http_server_t *s = h->data;
    while (s->nresume > 0) {
        conn_t *c = s->resume[--s->nresume];
        if (conn_unhold(c) || c->closing)
            continue;
        if (c->failed) {
            conn_close(c);
            continue;
        }
        if (c->phase == PHASE_DISPATCHED || c->in.len == 0)
            continue;
        asc_buf_t in = c->in;
        asc_buf_init(&c->in, IN_BUF_LIMIT + READ_BUF_SIZE);
        conn_parse(c, in.data, in.len);
        asc_buf_free(&in);
        if (!c->reading && !c->closing && !c->close_after_write) {
            uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read);
            c->reading = 1;
        }
    }
    uv_idle_stop(h);
}

static void schedule_resume(conn_t *c)
{
    asc_http_server_t *s = c->srv;
    if (s->nresume == s->capresume) {
        size_t cap = s->capresume ? s->capresume * 2 : 16;
        conn_t **n = realloc(s->resume, cap * sizeof *n);
        if (n == NULL) {
            conn_close(c);
            return;
        }
        s->resume = n;
        s->capresume = cap;
    }
    c->open_handles++; /* keep the conn alive until on_idle */
    s->resume[s->nresume++] = c;
    uv_idle_start(&s->idle, on_idle);
}

/* The handler ended the request: free it, then go on with the connection. */
static void req_end(req_t *r)
{
    conn_t *c = r->conn;
    int keep = r->pub.keep_alive && !r->aborted && !c->closing && !c->close_after_write &&
               !c->failed && !c->srv->shutting_down;
    r->ended = 1;
    c->cur = NULL;
    req_free(r);
    if (c->closing) {
        /* conn_close() waited for the handler. */
        close_handles(c);
        return;
    }
    if (!keep) {
        if (c->write_pending == 0)
            conn_close(c);
        else
            c->close_after_write = 1;
        return;
    }
    c->phase = PHASE_IDLE;
    if (c->in.len > 0) {
        schedule_resume(c);
        return;
    }
    if (!c->reading) {
        uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read);
        c->reading = 1;
    }
    timer_start(c, c->srv->limits.idle_timeout_ms);
}

/* ---- public request API ---------------------------------------------- */

static req_t *impl(asc_http_req_t *req)
{
    return (req_t *)req;
}

const char *asc_http_req_header(const asc_http_req_t *req, const char *name, size_t *len)
{
    size_t nl = strlen(name);
    for (size_t i = 0; i < req->nheaders; i++) {
        const asc_http_header_t *h = &req->headers[i];
        if (h->name_len == nl && strncasecmp(h->name, name, nl) == 0) {
            if (len)
                *len = h->value_len;
            return h->value;
        }
    }
    return NULL;
}

asc_err_t asc_http_respond(asc_http_req_t *req, int status, const asc_http_header_t *headers,
                           size_t nheaders, const char *body, size_t body_len)
{
    req_t *r = impl(req);
    conn_t *c = r->conn;
    asc_err_t rc = ASC_OK;
    if (r->ended)
        return ASC_EINVAL;
    if (r->aborted || c->closing || c->failed) {
        rc = ASC_ECLOSED;
        goto out;
    }
    int keep = r->pub.keep_alive && !c->srv->shutting_down;
    asc_buf_t o;
    asc_buf_init(&o, 0);
    append_head(&o, r, status, headers, nheaders, keep);
    int head_only = req->method == HTTP_HEAD || status == 204 || status == 304;
    asc_buf_printf(&o, "Content-Length: %zu\r\n\r\n", body_len);
    if (!keep)
        r->pub.keep_alive = 0;
    if (head_only)
        body_len = 0;
    if (conn_write2(c, o.data, o.len, body, body_len) != 0)
        rc = ASC_ECLOSED;
    asc_buf_free(&o);
out:
    req_end(r);
    return rc;
}

asc_err_t asc_http_stream_begin(asc_http_req_t *req, int status, const asc_http_header_t *headers,
                                size_t nheaders)
{
    req_t *r = impl(req);
    conn_t *c = r->conn;
    if (r->ended || r->streaming)
        return ASC_EINVAL;
    r->streaming = 1;
    if (r->aborted || c->closing || c->failed)
        return ASC_ECLOSED;
    r->chunked = req->http_minor >= 1;
    int keep = r->chunked && r->pub.keep_alive && !c->srv->shutting_down;
    if (!keep)
        r->pub.keep_alive = 0;
    asc_buf_t o;
    asc_buf_init(&o, 0);
    append_head(&o, r, status, headers, nheaders, keep);
    if (r->chunked)
        asc_buf_puts(&o, "Transfer-Encoding: chunked\r\n");
    asc_buf_puts(&o, "\r\n");
    int w = conn_write2(c, o.data, o.len, NULL, 0);
    asc_buf_free(&o);
    return w == 0 ? ASC_OK : ASC_ECLOSED;
}

asc_err_t asc_http_stream_write(asc_http_req_t *req, const char *data, size_t len, int *congested)
{
    req_t *r = impl(req);
    conn_t *c = r->conn;
    if (congested)
        *congested = 0;
    if (r->ended || !r->streaming)
        return ASC_EINVAL;
    if (r->aborted || c->closing || c->failed)
        return ASC_ECLOSED;
    if (len == 0)
        return ASC_OK;
    int w;
    if (r->chunked) {
        /* Size line, data and the CRLF after it, in one write. */
        char head[24];
        int hn = snprintf(head, sizeof head, "%zx\r\n", len);
        asc_buf_t o;
        asc_buf_init(&o, 0);
        asc_buf_reserve(&o, (size_t)hn + len + 2);
        asc_buf_append(&o, head, (size_t)hn);
        asc_buf_append(&o, data, len);
        asc_buf_append(&o, "\r\n", 2);
        w = conn_write2(c, o.data, o.len, NULL, 0);
        asc_buf_free(&o);
    } else {
        w = conn_write2(c, data, len, NULL, 0);
    }
    if (w != 0)
        return ASC_ECLOSED;
    if (c->write_pending > c->srv->limits.write_high_water) {
        r->congested = 1;
        if (congested)
            *congested = 1;
    }
    return ASC_OK;
}

asc_err_t asc_http_stream_end(asc_http_req_t *req, int abrupt)
{
    req_t *r = impl(req);
    conn_t *c = r->conn;
    asc_err_t rc = ASC_OK;
    if (r->ended)
        return ASC_EINVAL;
    if (r->aborted || c->closing || c->failed) {
        rc = ASC_ECLOSED;
        goto out;
    }
    if (!r->streaming) {
        /* Nothing was sent: the connection just goes. */
        r->pub.keep_alive = 0;
        c->close_after_write = 1;
        goto out;
    }
    if (abrupt || !r->chunked) {
        r->pub.keep_alive = 0;
        c->close_after_write = 1;
        goto out;
    }
    if (conn_write2(c, "0\r\n\r\n", 5, NULL, 0) != 0)
        rc = ASC_ECLOSED;
out:
    req_end(r);
    return rc;
}

asc_err_t asc_http_req_reset(asc_http_req_t *req)
{
    req_t *r = impl(req);
    conn_t *c = r->conn;
    if (r->ended)
        return ASC_EINVAL;
    if (!r->aborted && !c->closing) {
        /* What is queued still goes out; then RST instead of FIN. */
        c->reset_close = 1;
        r->pub.keep_alive = 0;
        c->close_after_write = 1;
    }
    req_end(r);
    return ASC_OK;
}

size_t asc_http_req_pending(const asc_http_req_t *req)
{
    const req_t *r = (const req_t *)req;
    return r->conn ? r->conn->write_pending : 0;
}

int asc_http_req_aborted(const asc_http_req_t *req)
{
    return ((const req_t *)req)->aborted;
}

uv_loop_t *asc_http_req_loop(const asc_http_req_t *req)
{
    return req->server->loop;
}

/* ---- accepting -------------------------------------------------------- */

static void on_connection(uv_stream_t *ls, int status)
{
    asc_http_server_t *s = ls->data;
    if (status < 0 || s->shutting_down)
        return;
    conn_t *c = calloc(1, sizeof *c);
    if (c == NULL)
        return;
    c->srv = s;
    uv_tcp_init(s->loop, &c->tcp);
    uv_timer_init(s->loop, &c->timer);
    c->tcp.data = c;
    c->timer.data = c;
    c->open_handles = 2;
    asc_buf_init(&c->in, IN_BUF_LIMIT + READ_BUF_SIZE);
    c->next = s->conns;
    if (s->conns)
        s->conns->prev = c;
    s->conns = c;
    s->nconns++;
    if (uv_accept(ls, (uv_stream_t *)&c->tcp) != 0) {
        conn_close(c);
        return;
    }
    uv_tcp_nodelay(&c->tcp, 1);
    struct sockaddr_storage ss;
    int sl = sizeof ss;
    if (uv_tcp_getpeername(&c->tcp, (struct sockaddr *)&ss, &sl) == 0) {
        if (ss.ss_family == AF_INET)
            uv_ip4_name((struct sockaddr_in *)&ss, c->peer_ip, sizeof c->peer_ip);
        else if (ss.ss_family == AF_INET6)
            uv_ip6_name((struct sockaddr_in6 *)&ss, c->peer_ip, sizeof c->peer_ip);
    }
    unsigned prev = atomic_fetch_add(s->conn_count, 1);
    c->counted = 1;
    http_parser_init(&c->parser, HTTP_REQUEST);
    c->parser.data = c;
    if (prev >= s->limits.max_connections) {
        c->reject = 1;
        uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read);
        c->reading = 1;
        conn_error(c, 503, "server_busy", "too many connections; retry later");
        return;
    }
    c->phase = PHASE_IDLE;
    uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read);
    c->reading = 1;
    timer_start(c, s->limits.header_timeout_ms);
}

static int bind_socket(const char *host, int port, struct sockaddr_storage *ss, char *err,
                       size_t errlen)
{
    memset(ss, 0, sizeof *ss);
    const char *h = host;
    if (strcmp(h, "localhost") == 0)
        h = "127.0.0.1";
    int fam = AF_INET;
    if (strchr(h, ':') != NULL) {
        fam = AF_INET6;
        if (uv_ip6_addr(h, port, (struct sockaddr_in6 *)ss) != 0) {
            snprintf(err, errlen, "invalid listen address \"%s\"", host);
            return -1;
        }
    } else if (uv_ip4_addr(h, port, (struct sockaddr_in *)ss) != 0) {
        snprintf(err, errlen, "invalid listen address \"%s\"", host);
        return -1;
    }
    int fd = socket(fam, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        snprintf(err, errlen, "socket: %s", strerror(errno));
        return -1;
    }
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
    socklen_t sl = fam == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
    if (bind(fd, (struct sockaddr *)ss, sl) != 0) {
        snprintf(err, errlen, "bind %s:%d: %s", host, port, strerror(errno));
        close(fd);
        return -1;
    }
    return fd;
}

asc_http_server_t *asc_http_server_create(uv_loop_t *loop, const char *host, int port,
                                          const asc_http_limits_t *limits, atomic_uint *conn_count,
                                          asc_http_handler_fn handler, void *ud, char *err,
                                          size_t errlen)
{
    struct sockaddr_storage ss;
    int fd = bind_socket(host, port, &ss, err, errlen);
    if (fd < 0)
        return NULL;
    size_t hmax = limits->max_header_bytes + 16384;
    http_parser_set_max_header_size((uint32_t)(hmax > 80 * 1024 ? hmax : 80 * 1024));
    asc_http_server_t *s = calloc(1, sizeof *s);
    if (s == NULL) {
        close(fd);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    s->loop = loop;
    s->limits = *limits;
    s->conn_count = conn_count;
    s->handler = handler;
    s->ud = ud;
    s->settings.on_message_begin = on_message_begin;
    s->settings.on_url = on_url;
    s->settings.on_header_field = on_header_field;
    s->settings.on_header_value = on_header_value;
    s->settings.on_headers_complete = on_headers_complete;
    s->settings.on_body = on_body;
    s->settings.on_message_complete = on_message_complete;
    uv_tcp_init(loop, &s->listener);
    s->listener.data = s;
    uv_idle_init(loop, &s->idle);
    s->idle.data = s;
    int rc = uv_tcp_open(&s->listener, fd);
    if (rc == 0)
        rc = uv_listen((uv_stream_t *)&s->listener, LISTEN_BACKLOG, on_connection);
    if (rc != 0) {
        snprintf(err, errlen, "listen %s:%d: %s", host, port, uv_strerror(rc));
        /* The handles must be closed before s can go; run the loop once. */
        uv_close((uv_handle_t *)&s->listener, NULL);
        uv_close((uv_handle_t *)&s->idle, NULL);
        uv_run(loop, UV_RUN_NOWAIT);
        free(s);
        return NULL;
    }
    struct sockaddr_storage bound;
    int bl = sizeof bound;
    uv_tcp_getsockname(&s->listener, (struct sockaddr *)&bound, &bl);
    s->port = ntohs(bound.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&bound)->sin6_port
                                                : ((struct sockaddr_in *)&bound)->sin_port);
    return s;
}

int asc_http_server_port(const asc_http_server_t *s)
{
    return s->port;
}

void asc_http_server_set_limits(asc_http_server_t *s, const asc_http_limits_t *limits)
{
    s->limits = *limits;
}

unsigned asc_http_server_connections(const asc_http_server_t *s)
{
    return s->nconns;
}

static void maybe_done(asc_http_server_t *s)
{
    if (s->nconns == 0 && s->listener_closed && s->idle_closed && s->done)
        s->done(s, s->done_arg);
}

static void on_listener_closed(uv_handle_t *h)
{
    asc_http_server_t *s = h->data;
    s->listener_closed = 1;
    maybe_done(s);
}

static void on_idle_closed(uv_handle_t *h)
{
    asc_http_server_t *s = h->data;
    s->idle_closed = 1;
    maybe_done(s);
}

void asc_http_server_shutdown(asc_http_server_t *s, void (*done)(asc_http_server_t *s, void *arg),
                              void *arg)
{
    if (s->shutting_down)
        return;
    s->shutting_down = 1;
    s->done = done;
    s->done_arg = arg;
    uv_close((uv_handle_t *)&s->listener, on_listener_closed);
    uv_close((uv_handle_t *)&s->idle, on_idle_closed);
    while (s->nresume > 0)
        conn_unhold(s->resume[--s->nresume]);
    /* Idle connections go now; busy ones close after their response. */
    conn_t *c = s->conns;
    while (c != NULL) {
        conn_t *next = c->next;
        if (c->phase != PHASE_DISPATCHED)
            conn_close(c);
        c = next;
    }
}

void asc_http_server_abort_all(asc_http_server_t *s)
{
    conn_t *c = s->conns;
    while (c != NULL) {
        conn_t *next = c->next;
        conn_close(c);
        c = next;
    }
}

void asc_http_server_free(asc_http_server_t *s)
{
    if (s == NULL)
        return;
    free(s->resume);
    free(s);
}

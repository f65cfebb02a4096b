/*
 * sse_load — a small closed-loop HTTP/1.1 load generator for streamed
 * (SSE / chunked) responses, used by bench/run.sh. Not part of libasc.
 *
 * C concurrent keep-alive connections each send the same POST, record the
 * time to the first response-body byte (TTFB) and to the end of the
 * response, read the (chunked, content-length or close-delimited) body to its
 * end, and send the next request on the same connection. One thread, epoll,
 * non-blocking sockets, CLOCK_MONOTONIC.
 *
 *   sse_load -a HOST:PORT -b BODYFILE [-u PATH] [-H 'Name: value']...
 *            [-c CONNS] [-d SECONDS | -n REQUESTS] [-t TIMEOUT_S] [-e TAIL]
 *
 *   -d  run for SECONDS, then send no new requests and let those in flight
 *       finish (default 10).
 *   -n  send exactly REQUESTS requests in total, at most CONNS at a time
 *       (-n 2000 -c 2000 opens 2,000 streams at once).
 *   -e  a response only counts as complete when its decoded body contains
 *       TAIL within its last 64 bytes (default "[DONE]"; -e '' disables).
 *
 * Prints one line, "sse_load key=value ...": requests (complete, 2xx),
 * errors and their kinds, rps, ttfb/total p50/p90/p99/max in microseconds,
 * and peak_open: the most responses that had started (headers received) and
 * not yet ended at the same moment. Exit status 0 unless usage was wrong.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define HEAD_MAX 16384
#define TAIL_KEEP 64
#define MAX_HDRS 16

enum cstate { C_IDLE, C_CONNECTING, C_WRITING, C_HEAD, C_BODY };
enum bmode { B_LENGTH, B_CHUNKED, B_EOF };
enum chstate { CH_SIZE, CH_EXT, CH_SIZE_LF, CH_DATA, CH_DATA_CR, CH_DATA_LF, CH_TRAILER };

typedef struct {
    int fd;
    enum cstate st;
    size_t woff;
    uint64_t t_start, t_first;
    char head[HEAD_MAX];
    size_t head_len;
    int status;
    int close_after;
    enum bmode mode;
    uint64_t remaining; /* B_LENGTH: body bytes left; B_CHUNKED: chunk bytes left */
    enum chstate ch;
    uint64_t chsize;
    size_t trailer_line;
    char tail[TAIL_KEEP];
    size_t tail_len;
    int started; /* counted in `open` */
    uint32_t ev; /* current epoll interest */
} conn_t;

typedef struct {
    uint64_t *v;
    size_t n, cap;
} samples_t;

static struct {
    struct sockaddr_in addr;
    char *req;
    size_t req_len;
    const char *expect;
    int conns;
    double seconds;
    long total; /* -n; 0 = duration mode */
    uint64_t timeout_ns;
    int ep;
    conn_t *c;
    uint64_t t_begin, deadline, t_last;
    long started, completed;
    long err_connect, err_read, err_write, err_status, err_timeout, err_parse, err_incomplete;
    long open, peak_open;
    int nfds; /* connections with an open socket */
    samples_t ttfb, total_t;
} g;

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void die(const char *msg)
{
    fprintf(stderr, "sse_load: %s\n", msg);
    exit(2);
}

static void push(samples_t *s, uint64_t x)
{
    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 4096;
        s->v = realloc(s->v, s->cap * sizeof(*s->v));
        if (!s->v)
            die("out of memory");
    }
    s->v[s->n++] = x;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* Nearest-rank percentile in microseconds; -1 when there are no samples. */
static double pct(const samples_t *s, double p)
{
    if (s->n == 0)
        return -1;
    size_t rank = (size_t)((p / 100.0) * (double)s->n + 0.999999);
    if (rank < 1)
        rank = 1;
    if (rank > s->n)
        rank = s->n;
    return (double)s->v[rank - 1] / 1000.0;
}

static int want_more(uint64_t t)
{
    if (g.total > 0)
        return g.started < g.total;
    return t < g.deadline;
}

static void ep_set(conn_t *c, uint32_t ev, int op)
{
    struct epoll_event e = {.events = ev, .data.ptr = c};
    if (op == EPOLL_CTL_MOD && c->ev == ev)
        return;
    if (epoll_ctl(g.ep, op, c->fd, &e) != 0)
        die("epoll_ctl failed");
    c->ev = ev;
}

static void conn_close(conn_t *c)
{
    if (c->fd >= 0) {
        close(c->fd);
        c->fd = -1;
        g.nfds--;
    }
    if (c->started) {
        c->started = 0;
        g.open--;
    }
    c->st = C_IDLE;
}

/* Open a connection for a request that was already counted in g.started.
 * A failure to connect counts as that request's error. */
static void conn_open(conn_t *c, uint64_t t)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        g.err_connect++;
        return;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    int rc = connect(fd, (struct sockaddr *)&g.addr, sizeof(g.addr));
    if (rc != 0 && errno != EINPROGRESS) {
        close(fd);
        g.err_connect++;
        return;
    }
    c->fd = fd;
    g.nfds++;
    c->st = C_CONNECTING;
    c->t_start = t; /* the timeout covers the connect too */
    c->ev = 0;
    ep_set(c, EPOLLOUT, EPOLL_CTL_ADD);
}

static void on_writable(conn_t *c, uint64_t t);

static void begin_request(conn_t *c, uint64_t t)
{
    c->st = C_WRITING;
    c->woff = 0;
    c->t_start = t;
    c->t_first = 0;
    c->head_len = 0;
    c->status = 0;
    c->close_after = 0;
    c->mode = B_EOF;
    c->remaining = 0;
    c->ch = CH_SIZE;
    c->chsize = 0;
    c->trailer_line = 0;
    c->tail_len = 0;
}

/* Start the next request on c if there is work left: reuse the connection
 * when it is open and idle, otherwise open a new one. */
static void next(conn_t *c, uint64_t t)
{
    if (!want_more(t)) {
        conn_close(c);
        return;
    }
    g.started++;
    if (c->fd >= 0 && c->st == C_IDLE) {
        begin_request(c, t);
        on_writable(c, t); /* the request usually fits the socket buffer */
        return;
    }
    conn_close(c);
    conn_open(c, t);
}

static void fail(conn_t *c, long *counter, uint64_t t)
{
    (*counter)++;
    conn_close(c);
    next(c, t);
}

static void finish(conn_t *c, uint64_t t)
{
    if (c->started) {
        c->started = 0;
        g.open--;
    }
    int ok = c->status >= 200 && c->status < 300;
    if (!ok) {
        g.err_status++;
    } else if (g.expect[0] && !memmem(c->tail, c->tail_len, g.expect, strlen(g.expect))) {
        g.err_incomplete++;
    } else {
        g.completed++;
        g.t_last = t;
        push(&g.ttfb, (c->t_first ? c->t_first : t) - c->t_start);
        push(&g.total_t, t - c->t_start);
    }
    if (c->close_after)
        conn_close(c);
    else
        c->st = C_IDLE;
    next(c, t);
}

static void body_bytes(conn_t *c, const char *p, size_t n, uint64_t t)
{
    if (n == 0)
        return;
    if (!c->t_first)
        c->t_first = t;
    if (n >= TAIL_KEEP) {
        memcpy(c->tail, p + n - TAIL_KEEP, TAIL_KEEP);
        c->tail_len = TAIL_KEEP;
    } else {
        size_t keep = c->tail_len + n > TAIL_KEEP ? TAIL_KEEP - n : c->tail_len;
        memmove(c->tail, c->tail + c->tail_len - keep, keep);
        memcpy(c->tail + keep, p, n);
        c->tail_len = keep + n;
    }
}

static int hexval(char ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    if (ch >= 'a' && ch <= 'f')
        return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F')
        return ch - 'A' + 10;
    return -1;
}

/* Feed decoded-transfer bytes; returns 1 when the response ended, 0 when more
 * is needed, -1 on a framing error. */
static int feed_body(conn_t *c, const char *p, size_t n, uint64_t t)
{
    size_t i = 0;
    if (c->mode == B_EOF) {
        body_bytes(c, p, n, t);
        return 0;
    }
    if (c->mode == B_LENGTH) {
        size_t take = n < c->remaining ? n : (size_t)c->remaining;
        body_bytes(c, p, take, t);
        c->remaining -= take;
        return c->remaining == 0;
    }
    while (i < n) {
        char ch = p[i];
        switch (c->ch) {
        case CH_SIZE: {
            int h = hexval(ch);
            if (h >= 0) {
                if (c->chsize > (UINT64_MAX >> 4))
                    return -1;
                c->chsize = c->chsize * 16 + (uint64_t)h;
            } else if (ch == ';' || ch == ' ' || ch == '\t') {
                c->ch = CH_EXT;
            } else if (ch == '\r') {
                c->ch = CH_SIZE_LF;
            } else if (ch == '\n') {
                goto size_done;
            } else {
                return -1;
            }
            i++;
            break;
        }
        case CH_EXT:
            if (ch == '\n')
                goto size_done;
            i++;
            break;
        case CH_SIZE_LF:
            if (ch != '\n')
                return -1;
        size_done:
            i++;
            if (c->chsize == 0) {
                c->ch = CH_TRAILER;
                c->trailer_line = 0;
            } else {
                c->remaining = c->chsize;
                c->ch = CH_DATA;
            }
            c->chsize = 0;
            break;
        case CH_DATA: {
            size_t avail = n - i;
            size_t take = avail < c->remaining ? avail : (size_t)c->remaining;
            body_bytes(c, p + i, take, t);
            c->remaining -= take;
            i += take;
            if (c->remaining == 0)
                c->ch = CH_DATA_CR;
            break;
        }
        case CH_DATA_CR: /* CRLF after the data; a bare LF is tolerated */
            if (ch == '\r')
                c->ch = CH_DATA_LF;
            else if (ch == '\n')
                c->ch = CH_SIZE;
            else
                return -1;
            i++;
            break;
        case CH_DATA_LF:
            if (ch != '\n')
                return -1;
            c->ch = CH_SIZE;
            i++;
            break;
        case CH_TRAILER:
            i++;
            if (ch == '\n') {
                if (c->trailer_line == 0)
                    return 1;
                c->trailer_line = 0;
            } else if (ch != '\r') {
                c->trailer_line++;
            }
            break;
        }
    }
    return 0;
}

/* Parse the status line and the headers we care about. */
static int parse_head(conn_t *c, size_t head_end)
{
    c->head[head_end] = '\0';
    int minor = 1;
    if (sscanf(c->head, "HTTP/1.%d %d", &minor, &c->status) != 2)
        return -1;
    c->close_after = minor == 0;
    int have_len = 0;
    char *line = strstr(c->head, "\r\n");
    while (line && line[2] != '\0') {
        line += 2;
        char *eol = strstr(line, "\r\n");
        if (!eol)
            break;
        *eol = '\0';
        char *colon = strchr(line, ':');
        if (colon) {
            *colon = '\0';
            char *v = colon + 1;
            while (*v == ' ' || *v == '\t')
                v++;
            if (!strcasecmp(line, "content-length")) {
                c->remaining = strtoull(v, NULL, 10);
                have_len = 1;
            } else if (!strcasecmp(line, "transfer-encoding") && strcasestr(v, "chunked")) {
                c->mode = B_CHUNKED;
            } else if (!strcasecmp(line, "connection")) {
                if (strcasestr(v, "close"))
                    c->close_after = 1;
                else if (strcasestr(v, "keep-alive"))
                    c->close_after = 0;
            }
        }
        line = eol;
        *line = '\r';
    }
    if (c->mode != B_CHUNKED) {
        if (have_len)
            c->mode = B_LENGTH;
        else if (c->status == 204 || c->status == 304)
            c->mode = B_LENGTH, c->remaining = 0;
        else
            c->mode = B_EOF, c->close_after = 1;
    }
    return 0;
}

static void on_readable(conn_t *c, uint64_t t)
{
    char buf[65536];
    ssize_t r = read(c->fd, buf, sizeof(buf));
    if (r < 0) {
        if (errno == EAGAIN || errno == EINTR)
            return;
        fail(c, &g.err_read, t);
        return;
    }
    if (r == 0) {
        if (c->st == C_BODY && c->mode == B_EOF) {
            c->close_after = 1;
            finish(c, t);
        } else {
            fail(c, &g.err_read, t);
        }
        return;
    }
    const char *p = buf;
    size_t n = (size_t)r;
    if (c->st == C_HEAD) {
        size_t room = HEAD_MAX - 1 - c->head_len;
        size_t take = n < room ? n : room;
        size_t old = c->head_len;
        memcpy(c->head + c->head_len, p, take);
        c->head_len += take;
        c->head[c->head_len] = '\0';
        char *end = strstr(c->head + (old > 3 ? old - 3 : 0), "\r\n\r\n");
        if (!end) {
            if (c->head_len >= HEAD_MAX - 1)
                fail(c, &g.err_parse, t);
            return;
        }
        size_t head_end = (size_t)(end - c->head) + 4;
        size_t body_in_buf = c->head_len - head_end;
        if (parse_head(c, head_end) != 0) {
            fail(c, &g.err_parse, t);
            return;
        }
        if (c->status == 100) { /* ignore an interim response */
            memmove(c->head, c->head + head_end, body_in_buf);
            c->head_len = body_in_buf;
            return;
        }
        c->st = C_BODY;
        c->started = 1;
        if (++g.open > g.peak_open)
            g.peak_open = g.open;
        p = p + (take - body_in_buf);
        n = body_in_buf + (n - take);
        if (c->mode == B_LENGTH && c->remaining == 0) {
            finish(c, t);
            return;
        }
    }
    if (c->st != C_BODY)
        return;
    int rc = feed_body(c, p, n, t);
    if (rc < 0)
        fail(c, &g.err_parse, t);
    else if (rc > 0)
        finish(c, t);
}

static void on_writable(conn_t *c, uint64_t t)
{
    if (c->st == C_CONNECTING) {
        int err = 0;
        socklen_t len = sizeof(err);
        getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len);
        if (err != 0) {
            fail(c, &g.err_connect, t);
            return;
        }
        begin_request(c, t);
    }
    if (c->st != C_WRITING)
        return;
    ssize_t w = write(c->fd, g.req + c->woff, g.req_len - c->woff);
    if (w < 0) {
        if (errno == EAGAIN || errno == EINTR) {
            ep_set(c, EPOLLOUT, EPOLL_CTL_MOD);
            return;
        }
        fail(c, &g.err_write, t);
        return;
    }
    c->woff += (size_t)w;
    if (c->woff == g.req_len) {
        c->st = C_HEAD;
        ep_set(c, EPOLLIN | EPOLLRDHUP, EPOLL_CTL_MOD);
    } else {
        ep_set(c, EPOLLOUT, EPOLL_CTL_MOD);
    }
}

static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 4096, n = 0;
    char *b = malloc(cap);
    while (b) {
        size_t r = fread(b + n, 1, cap - n, f);
        n += r;
        if (r == 0)
            break;
        if (n == cap) {
            cap *= 2;
            char *nb = realloc(b, cap);
            if (!nb) {
                free(b);
                b = NULL;
            }
            b = nb;
        }
    }
    fclose(f);
    *len = n;
    return b;
}

static void usage(void)
{
    fprintf(stderr,
            "usage: sse_load -a HOST:PORT -b BODYFILE [-u PATH] [-H 'Name: value']...\n"
            "                [-c CONNS] [-d SECONDS | -n REQUESTS] [-t TIMEOUT_S] [-e TAIL]\n");
    exit(2);
}

int main(int argc, char **argv)
{
    const char *target = "127.0.0.1:8080", *path = "/v1/chat/completions", *bodyfile = NULL;
    const char *hdrs[MAX_HDRS];
    int nhdrs = 0, opt;
    g.conns = 4;
    g.seconds = 10;
    g.timeout_ns = 30ull * 1000000000ull;
    g.expect = "[DONE]";
    while ((opt = getopt(argc, argv, "a:u:b:H:c:d:n:t:e:")) != -1) {
        switch (opt) {
        case 'a': target = optarg; break;
        case 'u': path = optarg; break;
        case 'b': bodyfile = optarg; break;
        case 'H':
            if (nhdrs == MAX_HDRS)
                die("too many -H");
            hdrs[nhdrs++] = optarg;
            break;
        case 'c': g.conns = atoi(optarg); break;
        case 'd': g.seconds = atof(optarg); break;
        case 'n': g.total = atol(optarg); break;
        case 't': g.timeout_ns = (uint64_t)(atof(optarg) * 1e9); break;
        case 'e': g.expect = optarg; break;
        default: usage();
        }
    }
    if (!bodyfile || g.conns < 1 || g.seconds <= 0 || g.total < 0)
        usage();

    char host[64];
    const char *colon = strrchr(target, ':');
    if (!colon || (size_t)(colon - target) >= sizeof(host))
        usage();
    memcpy(host, target, (size_t)(colon - target));
    host[colon - target] = '\0';
    g.addr.sin_family = AF_INET;
    g.addr.sin_port = htons((uint16_t)atoi(colon + 1));
    if (inet_pton(AF_INET, host, &g.addr.sin_addr) != 1)
        die("-a needs an IPv4 address:port");

    size_t blen = 0;
    char *body = read_file(bodyfile, &blen);
    if (!body)
        die("cannot read body file");
    size_t hl = 0;
    for (int i = 0; i < nhdrs; i++)
        hl += strlen(hdrs[i]) + 2;
    size_t cap = strlen(path) + strlen(target) + hl + blen + 256;
    g.req = malloc(cap);
    if (!g.req)
        die("out of memory");
    int off = snprintf(g.req, cap,
                       "POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\n"
                       "Accept: text/event-stream\r\nContent-Length: %zu\r\n",
                       path, target, blen);
    for (int i = 0; i < nhdrs; i++)
        off += snprintf(g.req + off, cap - (size_t)off, "%s\r\n", hdrs[i]);
    off += snprintf(g.req + off, cap - (size_t)off, "\r\n");
    memcpy(g.req + off, body, blen);
    g.req_len = (size_t)off + blen;
    free(body);

    signal(SIGPIPE, SIG_IGN);
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < (rlim_t)g.conns + 16)
        fprintf(stderr, "sse_load: warning: open-file limit %lu < %d connections\n",
                (unsigned long)rl.rlim_cur, g.conns);

    g.ep = epoll_create1(EPOLL_CLOEXEC);
    if (g.ep < 0)
        die("epoll_create1 failed");
    g.c = calloc((size_t)g.conns, sizeof(conn_t));
    if (!g.c)
        die("out of memory");
    g.t_begin = now_ns();
    g.deadline = g.t_begin + (uint64_t)(g.seconds * 1e9);
    for (int i = 0; i < g.conns; i++) {
        g.c[i].fd = -1;
        g.c[i].st = C_IDLE;
        next(&g.c[i], g.t_begin);
    }

    struct epoll_event evs[512];
    uint64_t last_sweep = g.t_begin;
    while (g.nfds > 0) {
        int nev = epoll_wait(g.ep, evs, 512, 50);
        uint64_t t = now_ns();
        for (int i = 0; i < nev; i++) {
            conn_t *c = evs[i].data.ptr;
            if (c->fd < 0)
                continue;
            uint32_t e = evs[i].events;
            if (c->st == C_CONNECTING || c->st == C_WRITING) {
                if (e & (EPOLLOUT | EPOLLERR | EPOLLHUP))
                    on_writable(c, t);
            } else if (c->st == C_HEAD || c->st == C_BODY) {
                if (e & (EPOLLIN | EPOLLERR | EPOLLHUP | EPOLLRDHUP))
                    on_readable(c, t);
            }
        }
        if (t - last_sweep > 50000000ull) {
            last_sweep = t;
            for (int i = 0; i < g.conns; i++) {
                conn_t *c = &g.c[i];
                if (c->fd >= 0 && c->st != C_IDLE && t - c->t_start > g.timeout_ns)
                    fail(c, &g.err_timeout, t);
            }
        }
    }

    uint64_t t_end = g.t_last > g.t_begin ? g.t_last : now_ns();
    double elapsed = (double)(t_end - g.t_begin) / 1e9;
    if (g.ttfb.n > 0) {
        qsort(g.ttfb.v, g.ttfb.n, sizeof(uint64_t), cmp_u64);
        qsort(g.total_t.v, g.total_t.n, sizeof(uint64_t), cmp_u64);
    }
    long errors = g.err_connect + g.err_read + g.err_write + g.err_status + g.err_timeout +
                  g.err_parse + g.err_incomplete;
    printf("sse_load requests=%ld errors=%ld err_connect=%ld err_read=%ld err_write=%ld "
           "err_status=%ld err_timeout=%ld err_parse=%ld err_incomplete=%ld "
           "elapsed_s=%.3f rps=%.1f conns=%d peak_open=%ld "
           "ttfb_p50_us=%.1f ttfb_p90_us=%.1f ttfb_p99_us=%.1f ttfb_max_us=%.1f "
           "total_p50_us=%.1f total_p90_us=%.1f total_p99_us=%.1f total_max_us=%.1f\n",
           g.completed, errors, g.err_connect, g.err_read, g.err_write, g.err_status, g.err_timeout,
           g.err_parse, g.err_incomplete, elapsed,
           elapsed > 0 ? (double)g.completed / elapsed : 0.0, g.conns, g.peak_open,
           pct(&g.ttfb, 50), pct(&g.ttfb, 90), pct(&g.ttfb, 99), pct(&g.ttfb, 100),
           pct(&g.total_t, 50), pct(&g.total_t, 90), pct(&g.total_t, 99), pct(&g.total_t, 100));
    return 0;
}

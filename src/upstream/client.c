#include "upstream/client.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/buf.h"

#define MAX_SPARE_EASY 256
#define MAX_RESP_HEADERS 65536

/* A finished easy handle kept for reuse. Reusing it without
 * curl_easy_reset() saves a measurable share of the per-request cost (the
 * reset frees and rebuilds most of the handle's state), so a spare
 * remembers the options that cannot simply be set again to their default;
 * a request that needs different ones gets a full reset. */
typedef struct {
    CURL *easy;
    char *ca_file; /* NULL = system CAs */
    char *proxy;   /* NULL = none */
    int post;
} spare_t;

struct asc_upstream {
    uv_loop_t *loop;
    CURLM *multi;
    uv_timer_t timer;
    spare_t *spare;
    size_t nspare;
    unsigned active;
    asc_upstream_xfer_t *xfers;    /* in flight */
    asc_upstream_xfer_t *deferred; /* pause state to apply after socket_action */
    int in_action;
    int destroying;
    void (*done)(void *);
    void *done_arg;
};

struct asc_upstream_xfer {
    asc_upstream_t *u;
    CURL *easy;
    spare_t cfg;      /* what the handle was configured with */
    uv_timer_t timer; /* first-byte / idle */
    asc_upstream_cb_t cb;
    void *ud;
    asc_buf_t hdrs; /* raw header block of the final response */
    int status;
    int headers_done;
    int got_byte;
    int cancelled;
    int finished;
    int paused;
    int want_pause;
    int defer_queued;
    uint64_t first_byte_ms, idle_ms;
    uint64_t last_activity; /* uv_now() of the last byte received */
    int timer_armed;
    asc_upstream_xfer_t *prev, *next;
    asc_upstream_xfer_t *defer_next;
};

typedef struct {
    uv_poll_t poll;
    curl_socket_t fd;
    asc_upstream_t *u;
} sockctx_t;

static void check_done(asc_upstream_t *u);

/* ---- multi <-> uv glue ------------------------------------------------- */

static void apply_deferred(asc_upstream_t *u)
{
    while (u->deferred != NULL) {
        asc_upstream_xfer_t *x = u->deferred;
        u->deferred = x->defer_next;
        x->defer_queued = 0;
        if (x->cancelled || x->finished)
            continue;
        if (x->want_pause != x->paused) {
            x->paused = x->want_pause;
            u->in_action++;
            curl_easy_pause(x->easy, x->paused ? CURLPAUSE_RECV : CURLPAUSE_CONT);
            u->in_action--;
            check_done(u);
        }
    }
}

static void socket_action(asc_upstream_t *u, curl_socket_t fd, int ev)
{
    int running = 0;
    u->in_action++;
    curl_multi_socket_action(u->multi, fd, ev, &running);
    u->in_action--;
    check_done(u);
    if (u->in_action == 0)
        apply_deferred(u);
}

static void on_poll(uv_poll_t *p, int status, int events)
{
    sockctx_t *s = p->data;
    int ev = 0;
    if (status < 0)
        ev = CURL_CSELECT_ERR;
    if (events & UV_READABLE)
        ev |= CURL_CSELECT_IN;
    if (events & UV_WRITABLE)
        ev |= CURL_CSELECT_OUT;
    socket_action(s->u, s->fd, ev);
}

static void on_sock_closed(uv_handle_t *h)
{
    free(h->data);
}

static int sock_cb(CURL *e, curl_socket_t fd, int what, void *userp, void *sockp)
{
    asc_upstream_t *u = userp;
    sockctx_t *s = sockp;
    (void)e;
    if (what == CURL_POLL_REMOVE) {
        if (s != NULL) {
            uv_poll_stop(&s->poll);
            curl_multi_assign(u->multi, fd, NULL);
            uv_close((uv_handle_t *)&s->poll, on_sock_closed);
        }
        return 0;
    }
    if (s == NULL) {
        s = calloc(1, sizeof *s);
        if (s == NULL)
            return -1;
        s->fd = fd;
        s->u = u;
        if (uv_poll_init_socket(u->loop, &s->poll, fd) != 0) {
            free(s);
            return -1;
        }
        s->poll.data = s;
        curl_multi_assign(u->multi, fd, s);
    }
    int ev = 0;
    if (what & CURL_POLL_IN)
        ev |= UV_READABLE;
    if (what & CURL_POLL_OUT)
        ev |= UV_WRITABLE;
    uv_poll_start(&s->poll, ev, on_poll);
    return 0;
}

static void on_multi_timer(uv_timer_t *t)
{
    asc_upstream_t *u = t->data;
    socket_action(u, CURL_SOCKET_TIMEOUT, 0);
}

static int timer_cb(CURLM *m, long ms, void *userp)
{
    asc_upstream_t *u = userp;
    (void)m;
    if (ms < 0)
        uv_timer_stop(&u->timer);
    else
        uv_timer_start(&u->timer, on_multi_timer, (uint64_t)ms, 0);
    return 0;
}

asc_upstream_t *asc_upstream_create(uv_loop_t *loop)
{
    asc_upstream_t *u = calloc(1, sizeof *u);
    if (u == NULL)
        return NULL;
    u->loop = loop;
    u->multi = curl_multi_init();
    u->spare = calloc(MAX_SPARE_EASY, sizeof *u->spare);
    if (u->multi == NULL || u->spare == NULL) {
        if (u->multi)
            curl_multi_cleanup(u->multi);
        free(u->spare);
        free(u);
        return NULL;
    }
    uv_timer_init(loop, &u->timer);
    u->timer.data = u;
    curl_multi_setopt(u->multi, CURLMOPT_SOCKETFUNCTION, sock_cb);
    curl_multi_setopt(u->multi, CURLMOPT_SOCKETDATA, u);
    curl_multi_setopt(u->multi, CURLMOPT_TIMERFUNCTION, timer_cb);
    curl_multi_setopt(u->multi, CURLMOPT_TIMERDATA, u);
    curl_multi_setopt(u->multi, CURLMOPT_MAX_HOST_CONNECTIONS, 0L);
    curl_multi_setopt(u->multi, CURLMOPT_MAXCONNECTS, 1024L);
    return u;
}

/* ---- transfers --------------------------------------------------------- */

static int same_str(const char *a, const char *b)
{
    if (a == NULL || b == NULL)
        return a == b;
    return strcmp(a, b) == 0;
}

static void xfer_timer_closed(uv_handle_t *h)
{
    asc_upstream_xfer_t *x = h->data;
    asc_buf_free(&x->hdrs);
    free(x);
}

/* Detach x from curl and free it (timer close callback). */
static void xfer_release(asc_upstream_xfer_t *x)
{
    asc_upstream_t *u = x->u;
    uv_timer_stop(&x->timer);
    if (x->easy != NULL) {
        curl_multi_remove_handle(u->multi, x->easy);
        if (u->nspare < MAX_SPARE_EASY && !u->destroying) {
            x->cfg.easy = x->easy;
            u->spare[u->nspare++] = x->cfg;
        } else {
            curl_easy_cleanup(x->easy);
            free(x->cfg.ca_file);
            free(x->cfg.proxy);
        }
        memset(&x->cfg, 0, sizeof x->cfg);
        x->easy = NULL;
    }
    if (x->prev)
        x->prev->next = x->next;
    else if (u->xfers == x)
        u->xfers = x->next;
    if (x->next)
        x->next->prev = x->prev;
    u->active--;
    uv_close((uv_handle_t *)&x->timer, xfer_timer_closed);
}

static void xfer_finish(asc_upstream_xfer_t *x, asc_err_t e, const char *msg)
{
    if (x->finished)
        return;
    x->finished = 1;
    int notify = !x->cancelled;
    asc_upstream_cb_t cb = x->cb;
    void *ud = x->ud;
    /* Release first: the callback may start a new transfer. */
    x->cancelled = 1;
    if (e == ASC_OK && !x->headers_done && notify && cb.on_headers) {
        /* A response with no header terminator seen (should not happen). */
        e = ASC_EUPSTREAM;
        msg = "upstream closed the connection before sending headers";
    }
    if (!x->u->in_action) {
        xfer_release(x);
    } else {
        /* curl_multi_remove_handle inside a callback is not allowed; the
         * zero timer releases it right after. */
        uv_timer_stop(&x->timer);
        x->timer_armed = 0;
    }
    if (notify && cb.on_done)
        cb.on_done(x, e, msg, ud);
}

static void on_xfer_timer(uv_timer_t *t)
{
    asc_upstream_xfer_t *x = t->data;
    x->timer_armed = 0;
    if (x->finished) {
        xfer_release(x);
        return;
    }
    if (x->paused || x->want_pause)
        return; /* re-armed on resume */
    if (x->got_byte) {
        /* The deadline moves with every byte without touching the timer
         * on the hot path: check here how long the upstream was quiet. */
        uint64_t quiet = uv_now(x->u->loop) - x->last_activity;
        if (quiet < x->idle_ms) {
            x->timer_armed = 1;
            uv_timer_start(&x->timer, on_xfer_timer, x->idle_ms - quiet, 0);
            return;
        }
    }
    xfer_finish(x, ASC_ETIMEOUT,
                x->got_byte ? "upstream sent nothing within the idle timeout"
                            : "upstream sent no response within the first-byte timeout");
}

static void check_done(asc_upstream_t *u)
{
    CURLMsg *m;
    int left;
    while ((m = curl_multi_info_read(u->multi, &left)) != NULL) {
        if (m->msg != CURLMSG_DONE)
            continue;
        asc_upstream_xfer_t *x = NULL;
        curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&x);
        if (x == NULL || x->finished)
            continue;
        CURLcode rc = m->data.result;
        if (rc == CURLE_OK) {
            xfer_finish(x, ASC_OK, NULL);
        } else if (rc == CURLE_OPERATION_TIMEDOUT) {
            xfer_finish(x, ASC_ETIMEOUT,
                        x->got_byte ? "upstream total timeout" : "upstream connect timeout");
        } else {
            xfer_finish(x, ASC_EUPSTREAM, curl_easy_strerror(rc));
        }
        /* finished transfers found during socket_action are released by a
         * zero timer; outside of it xfer_finish released already. */
        if (u->in_action && x->easy != NULL)
            uv_timer_start(&x->timer, on_xfer_timer, 0, 0);
    }
}

/* Bytes arrived: note the time; the timer is re-armed only when the
 * first-byte deadline turns into the idle one, or after a pause. */
static void note_activity(asc_upstream_xfer_t *x)
{
    x->last_activity = uv_now(x->u->loop);
    if (!x->got_byte) {
        x->got_byte = 1;
        x->timer_armed = 0;
        uv_timer_stop(&x->timer);
    }
    if (!x->timer_armed && !x->paused && !x->want_pause && !x->finished && x->idle_ms) {
        x->timer_armed = 1;
        uv_timer_start(&x->timer, on_xfer_timer, x->idle_ms, 0);
    }
}

/* After a pause: the quiet time starts again now. */
static void arm_idle(asc_upstream_xfer_t *x)
{
    if (x->paused || x->want_pause || x->finished)
        return;
    x->last_activity = uv_now(x->u->loop);
    uint64_t ms = x->got_byte ? x->idle_ms : x->first_byte_ms;
    if (ms && !x->timer_armed) {
        x->timer_armed = 1;
        uv_timer_start(&x->timer, on_xfer_timer, ms, 0);
    }
}

static size_t header_cb(char *p, size_t size, size_t n, void *ud)
{
    asc_upstream_xfer_t *x = ud;
    size_t len = size * n;
    if (x->cancelled)
        return 0;
    note_activity(x);
    if (len >= 5 && memcmp(p, "HTTP/", 5) == 0) {
        /* A new status line: 1xx responses are followed by the final one. */
        asc_buf_clear(&x->hdrs);
        long code = 0;
        const char *sp = memchr(p, ' ', len);
        if (sp != NULL)
            code = strtol(sp + 1, NULL, 10);
        x->status = (int)code;
        return len;
    }
    if (len <= 2 && (p[0] == '\r' || p[0] == '\n')) {
        if (x->status >= 200 && !x->headers_done) {
            x->headers_done = 1;
            if (x->cb.on_headers)
                x->cb.on_headers(x, x->status, x->ud);
            if (x->cancelled)
                return 0;
        }
        return len;
    }
    if (asc_buf_append(&x->hdrs, p, len) != ASC_OK)
        return 0; /* header bomb from upstream: abort */
    return len;
}

static size_t write_cb(char *p, size_t size, size_t n, void *ud)
{
    asc_upstream_xfer_t *x = ud;
    size_t len = size * n;
    if (x->cancelled)
        return 0;
    note_activity(x);
    if (x->cb.on_data)
        x->cb.on_data(x, p, len, x->ud);
    if (x->cancelled)
        return 0;
    return len;
}

asc_upstream_xfer_t *asc_upstream_start(asc_upstream_t *u, const asc_upstream_req_t *r,
                                        const asc_upstream_cb_t *cb, void *ud, char *err,
                                        size_t errlen)
{
    asc_upstream_xfer_t *x = calloc(1, sizeof *x);
    if (x == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    int post = r->body != NULL;
    spare_t sp = {0};
    if (u->nspare > 0)
        sp = u->spare[--u->nspare];
    int same = sp.easy != NULL && sp.post == post && same_str(sp.ca_file, r->ca_file) &&
               same_str(sp.proxy, r->proxy);
    CURL *e = sp.easy;
    if (e != NULL && !same) {
        curl_easy_reset(e);
        free(sp.ca_file);
        free(sp.proxy);
        memset(&sp, 0, sizeof sp);
        sp.easy = e;
    }
    if (e == NULL)
        e = sp.easy = curl_easy_init();
    if (e == NULL) {
        free(x);
        snprintf(err, errlen, "curl_easy_init failed");
        return NULL;
    }
    if (!same) {
        sp.post = post;
        sp.ca_file = r->ca_file ? strdup(r->ca_file) : NULL;
        sp.proxy = r->proxy ? strdup(r->proxy) : NULL;
    }
    x->cfg = sp;
    x->u = u;
    x->easy = e;
    x->cb = *cb;
    x->ud = ud;
    x->first_byte_ms = r->first_byte_timeout_ms;
    x->idle_ms = r->idle_timeout_ms;
    asc_buf_init(&x->hdrs, MAX_RESP_HEADERS);

    CURLcode rc = CURLE_OK;
#define SET(opt, val)                                                                              \
    do {                                                                                           \
        if (rc == CURLE_OK)                                                                        \
            rc = curl_easy_setopt(e, opt, val);                                                    \
    } while (0)
    if (!same) {
        /* Options that stay the same for every request on this handle. */
        SET(CURLOPT_NOSIGNAL, 1L);
        SET(CURLOPT_FOLLOWLOCATION, 0L);
        SET(CURLOPT_PROTOCOLS_STR, "http,https");
        SET(CURLOPT_PROXY, r->proxy ? r->proxy : "");
        SET(CURLOPT_TCP_NODELAY, 1L);
        SET(CURLOPT_SSL_VERIFYPEER, 1L);
        SET(CURLOPT_SSL_VERIFYHOST, 2L);
        if (r->ca_file)
            SET(CURLOPT_CAINFO, r->ca_file);
        SET(CURLOPT_HEADERFUNCTION, header_cb);
        SET(CURLOPT_WRITEFUNCTION, write_cb);
        if (!post)
            SET(CURLOPT_HTTPGET, 1L);
    }
    /* Options of this request: every one is set each time, so nothing of
     * the previous request on the handle survives. */
    SET(CURLOPT_URL, r->url);
    SET(CURLOPT_PRIVATE, (char *)x);
    SET(CURLOPT_HTTPHEADER, r->headers);
    SET(CURLOPT_HEADERDATA, x);
    SET(CURLOPT_WRITEDATA, x);
    SET(CURLOPT_CONNECTTIMEOUT_MS, (long)r->connect_timeout_ms);
    SET(CURLOPT_TIMEOUT_MS, (long)r->total_timeout_ms);
    if (post) {
        SET(CURLOPT_POSTFIELDS, r->body);
        SET(CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)r->body_len);
        SET(CURLOPT_CUSTOMREQUEST,
            r->method && strcmp(r->method, "POST") != 0 ? r->method : (const char *)NULL);
    }
#undef SET
    if (rc != CURLE_OK) {
        snprintf(err, errlen, "upstream request setup failed: %s", curl_easy_strerror(rc));
        curl_easy_cleanup(e);
        free(x->cfg.ca_file);
        free(x->cfg.proxy);
        asc_buf_free(&x->hdrs);
        free(x);
        return NULL;
    }
    uv_timer_init(u->loop, &x->timer);
    x->timer.data = x;
    x->next = u->xfers;
    if (u->xfers)
        u->xfers->prev = x;
    u->xfers = x;
    u->active++;
    if (x->first_byte_ms) {
        x->timer_armed = 1;
        uv_timer_start(&x->timer, on_xfer_timer, x->first_byte_ms, 0);
    }
    CURLMcode mc = curl_multi_add_handle(u->multi, e);
    if (mc != CURLM_OK) {
        snprintf(err, errlen, "upstream request setup failed: %s", curl_multi_strerror(mc));
        x->cancelled = x->finished = 1;
        xfer_release(x);
        return NULL;
    }
    return x;
}

void asc_upstream_cancel(asc_upstream_xfer_t *x)
{
    if (x == NULL || x->cancelled)
        return;
    x->cancelled = 1;
    if (x->finished)
        return;
    x->finished = 1;
    if (x->u->in_action) {
        /* Inside a curl callback: the callback returns 0 to abort, and the
         * zero timer releases the handle. */
        uv_timer_start(&x->timer, on_xfer_timer, 0, 0);
        return;
    }
    xfer_release(x);
}

void asc_upstream_pause(asc_upstream_xfer_t *x, int paused)
{
    if (x->cancelled || x->finished)
        return;
    x->want_pause = paused;
    if (paused) {
        uv_timer_stop(&x->timer);
        x->timer_armed = 0;
    }
    if (x->u->in_action) {
        if (!x->defer_queued) {
            x->defer_queued = 1;
            x->defer_next = x->u->deferred;
            x->u->deferred = x;
        }
        return;
    }
    if (x->paused != paused) {
        x->paused = paused;
        x->u->in_action++;
        curl_easy_pause(x->easy, paused ? CURLPAUSE_RECV : CURLPAUSE_CONT);
        x->u->in_action--;
        /* Unpausing may have delivered data or finished the transfer. */
        check_done(x->u);
        if (!paused && !x->finished)
            arm_idle(x);
        if (x->u->in_action == 0)
            apply_deferred(x->u);
    }
}

const char *asc_upstream_header(const asc_upstream_xfer_t *x, const char *name, size_t *len)
{
    size_t nl = strlen(name);
    const char *p = x->hdrs.data, *end = x->hdrs.data + x->hdrs.len;
    while (p != NULL && p < end) {
        const char *eol = memchr(p, '\n', (size_t)(end - p));
        const char *le = eol ? eol : end;
        if ((size_t)(le - p) > nl && p[nl] == ':' && strncasecmp(p, name, nl) == 0) {
            const char *v = p + nl + 1;
            while (v < le && (*v == ' ' || *v == '\t'))
                v++;
            const char *ve = le;
            while (ve > v && (ve[-1] == '\r' || ve[-1] == ' ' || ve[-1] == '\t'))
                ve--;
            if (len)
                *len = (size_t)(ve - v);
            return v;
        }
        p = eol ? eol + 1 : NULL;
    }
    return NULL;
}

unsigned asc_upstream_active(const asc_upstream_t *u)
{
    return u->active;
}

static void upstream_timer_closed(uv_handle_t *h)
{
    asc_upstream_t *u = h->data;
    void (*done)(void *) = u->done;
    void *arg = u->done_arg;
    free(u);
    if (done)
        done(arg);
}

void asc_upstream_destroy(asc_upstream_t *u, void (*done)(void *arg), void *arg)
{
    u->destroying = 1;
    u->done = done;
    u->done_arg = arg;
    while (u->xfers != NULL) {
        asc_upstream_xfer_t *x = u->xfers;
        x->cancelled = x->finished = 1;
        xfer_release(x);
    }
    for (size_t i = 0; i < u->nspare; i++) {
        curl_easy_cleanup(u->spare[i].easy);
        free(u->spare[i].ca_file);
        free(u->spare[i].proxy);
    }
    free(u->spare);
    u->spare = NULL;
    u->nspare = 0;
    curl_multi_cleanup(u->multi);
    uv_close((uv_handle_t *)&u->timer, upstream_timer_closed);
}

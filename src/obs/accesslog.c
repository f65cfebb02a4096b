#include "obs/accesslog.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define FLUSH_AT (64 * 1024)

static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
static int g_fd = -1;
static int g_own_fd;
static atomic_int g_enabled;

struct asc_accesslog {
    uv_prepare_t prep;
    asc_buf_t buf;
};

asc_err_t asc_accesslog_open(const char *where, char *err, size_t errlen)
{
    int fd = -1, own = 0;
    if (where == NULL || strcmp(where, "stdout") == 0)
        fd = STDOUT_FILENO;
    else if (strcmp(where, "stderr") == 0)
        fd = STDERR_FILENO;
    else if (strcmp(where, "off") != 0) {
        fd = open(where, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
        if (fd < 0) {
            snprintf(err, errlen, "cannot open access log %s: %s", where, strerror(errno));
            return ASC_EIO;
        }
        own = 1;
    }
    pthread_mutex_lock(&g_lock);
    if (g_own_fd && g_fd >= 0)
        close(g_fd);
    g_fd = fd;
    g_own_fd = own;
    atomic_store(&g_enabled, fd >= 0);
    pthread_mutex_unlock(&g_lock);
    return ASC_OK;
}

void asc_accesslog_close(void)
{
    pthread_mutex_lock(&g_lock);
    if (g_own_fd && g_fd >= 0)
        close(g_fd);
    g_fd = -1;
    g_own_fd = 0;
    atomic_store(&g_enabled, 0);
    pthread_mutex_unlock(&g_lock);
}

int asc_accesslog_enabled(void)
{
    return atomic_load(&g_enabled);
}

void asc_accesslog_flush(asc_accesslog_t *l)
{
    if (l->buf.len == 0)
        return;
    pthread_mutex_lock(&g_lock);
    size_t off = 0;
    while (g_fd >= 0 && off < l->buf.len) {
        ssize_t n = write(g_fd, l->buf.data + off, l->buf.len - off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break; /* a broken sink drops lines rather than blocking requests */
        off += (size_t)n;
    }
    pthread_mutex_unlock(&g_lock);
    asc_buf_clear(&l->buf);
}

static void on_prepare(uv_prepare_t *p)
{
    asc_accesslog_flush(p->data);
}

asc_accesslog_t *asc_accesslog_worker(uv_loop_t *loop)
{
    asc_accesslog_t *l = calloc(1, sizeof *l);
    if (l == NULL)
        return NULL;
    asc_buf_init(&l->buf, 16 * 1024 * 1024);
    uv_prepare_init(loop, &l->prep);
    l->prep.data = l;
    uv_prepare_start(&l->prep, on_prepare);
    uv_unref((uv_handle_t *)&l->prep);
    return l;
}

static void on_closed(uv_handle_t *h)
{
    asc_accesslog_t *l = h->data;
    asc_buf_free(&l->buf);
    free(l);
}

void asc_accesslog_worker_free(asc_accesslog_t *l)
{
    if (l == NULL)
        return;
    asc_accesslog_flush(l);
    uv_close((uv_handle_t *)&l->prep, on_closed);
}

void asc_accesslog_append(asc_accesslog_t *l, const char *line, size_t len)
{
    if (asc_buf_append(&l->buf, line, len) != ASC_OK) {
        asc_accesslog_flush(l);
        asc_buf_append(&l->buf, line, len);
    }
    if (l->buf.len >= FLUSH_AT)
        asc_accesslog_flush(l);
}

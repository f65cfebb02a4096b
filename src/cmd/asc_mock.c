/*
 * asc-mock: the mock provider as a standalone server.
 *
 *   asc-mock [--listen ADDR:PORT] [--require-key KEY] [--workers N]
 *
 * N worker threads, each with its own uv loop, engine and HTTP server, share
 * the port through SO_REUSEPORT. With port 0 the first worker binds an
 * ephemeral port and the others join it. The main thread waits for
 * SIGTERM/SIGINT, stops every worker gracefully and exits 0.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include <uv.h>

#include "mock/mock.h"

#ifndef ASC_VERSION
#define ASC_VERSION "0.1.0"
#endif

#define MAX_WORKERS 256

static const char usage[] =
    "usage: asc-mock [--listen ADDR:PORT] [--require-key KEY] [--workers N]\n"
    "\n"
    "A mock of the OpenAI, Anthropic and Mistral APIs for testing asc and your\n"
    "own configurations (see docs/mock.md).\n"
    "\n"
    "  --listen ADDR:PORT   address to listen on (default 127.0.0.1:9090; port 0 picks\n"
    "                       a free port; IPv6 as [::1]:9090)\n"
    "  --require-key KEY    accept only this API key (Authorization: Bearer or x-api-key)\n"
    "  --workers N          worker threads sharing the port (default 1)\n"
    "  --help               this text\n"
    "  --version            print the version\n";

typedef struct {
    asc_mock_thread_t *workers[MAX_WORKERS];
    int n;
} app_t;

static void on_signal(uv_signal_t *s, int signum)
{
    (void)signum;
    app_t *app = s->data;
    for (int i = 0; i < app->n; i++)
        asc_mock_thread_signal(app->workers[i]);
    for (int i = 0; i < app->n; i++)
        asc_mock_thread_stop(app->workers[i]);
    app->n = 0;
    uv_stop(s->loop);
}

/* "HOST:PORT", "[V6]:PORT" or "PORT" into host (at least 64 bytes). */
static int parse_listen(const char *s, char *host, size_t hostlen, int *port)
{
    const char *colon = strrchr(s, ':');
    const char *p = colon ? colon + 1 : s;
    size_t hl = colon ? (size_t)(colon - s) : 0;
    const char *h = s;
    char *end = NULL;
    if (colon == NULL) {
        h = "127.0.0.1";
        hl = strlen(h);
    } else if (hl >= 2 && s[0] == '[' && s[hl - 1] == ']') {
        h = s + 1;
        hl -= 2;
    } else if (hl == 0) {
        h = "0.0.0.0";
        hl = strlen(h);
    }
    if (hl == 0 || hl >= hostlen || *p == '\0')
        return -1;
    errno = 0;
    long v = strtol(p, &end, 10);
    if (errno != 0 || *end != '\0' || v < 0 || v > 65535)
        return -1;
    memcpy(host, h, hl);
    host[hl] = '\0';
    *port = (int)v;
    return 0;
}

static void raise_nofile(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
}

int main(int argc, char **argv)
{
    const char *listen = "127.0.0.1:9090";
    const char *key = NULL;
    long nworkers = 1;
    char host[64], err[256];
    int port = 0, rc = 1;
    static app_t app;
    static atomic_uint conns;

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            fputs(usage, stdout);
            return 0;
        }
        if (strcmp(a, "--version") == 0) {
            printf("asc-mock %s (libuv %s)\n", ASC_VERSION, uv_version_string());
            return 0;
        }
        if (strcmp(a, "--listen") != 0 && strcmp(a, "--require-key") != 0 &&
            strcmp(a, "--workers") != 0) {
            fprintf(stderr, "asc-mock: unknown argument '%s'\n%s", a, usage);
            return 2;
        }
        if (i + 1 >= argc) {
            fprintf(stderr, "asc-mock: missing value for %s\n", a);
            return 2;
        }
        const char *v = argv[++i];
        if (strcmp(a, "--listen") == 0) {
            listen = v;
        } else if (strcmp(a, "--require-key") == 0) {
            key = v;
        } else {
            char *end = NULL;
            nworkers = strtol(v, &end, 10);
            if (*v == '\0' || *end != '\0' || nworkers < 1 || nworkers > MAX_WORKERS) {
                fprintf(stderr, "asc-mock: --workers must be 1..%d\n", MAX_WORKERS);
                return 2;
            }
        }
    }
    if (parse_listen(listen, host, sizeof host, &port) != 0) {
        fprintf(stderr, "asc-mock: invalid --listen '%s' (want ADDR:PORT)\n", listen);
        return 2;
    }
    raise_nofile();
    /* A client that leaves while we write must not kill the process. */
    signal(SIGPIPE, SIG_IGN);

    uv_loop_t *loop = uv_default_loop();
    uv_signal_t sigterm, sigint;
    uv_signal_init(loop, &sigterm);
    uv_signal_init(loop, &sigint);
    sigterm.data = sigint.data = &app;
    uv_signal_start(&sigterm, on_signal, SIGTERM);
    uv_signal_start(&sigint, on_signal, SIGINT);

    for (long i = 0; i < nworkers; i++) {
        int bound = 0;
        if (asc_mock_thread_start_ex(host, port, key, &conns, &bound, &app.workers[app.n], err,
                                     sizeof err) != ASC_OK) {
            fprintf(stderr, "asc-mock: %s\n", err);
            goto out;
        }
        app.n++;
        port = bound; /* the others join the first one's port */
    }
    if (strchr(host, ':') != NULL)
        printf("asc-mock listening on http://[%s]:%d\n", host, port);
    else
        printf("asc-mock listening on http://%s:%d\n", host, port);
    fflush(stdout);
    uv_run(loop, UV_RUN_DEFAULT);
    rc = 0;
out:
    for (int i = 0; i < app.n; i++)
        asc_mock_thread_stop(app.workers[i]);
    uv_close((uv_handle_t *)&sigterm, NULL);
    uv_close((uv_handle_t *)&sigint, NULL);
    uv_run(loop, UV_RUN_NOWAIT);
    uv_loop_close(loop);
    return rc;
}

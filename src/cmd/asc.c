/*
 * asc — the gateway binary: `asc serve`, `asc check-config`, `asc config
 * default`, `asc version`, `asc help`.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include <curl/curl.h>
#include <sodium.h>
#include <uv.h>

#include "config/config.h"
#include "core/log.h"
#include "gateway/snapshot.h"
#include "gateway/worker.h"
#include "mock/mock.h"
#include "obs/accesslog.h"

#ifndef ASC_VERSION
#define ASC_VERSION "0.1.0"
#endif

static const char k_usage[] =
    "asc — a self-hostable AI gateway\n"
    "\n"
    "Usage:\n"
    "  asc serve [--config FILE] [--listen ADDR:PORT] [--data-dir DIR] [--workers N]\n"
    "                          run the gateway (no --config: the built-in default config,\n"
    "                          with the bundled mock provider and a generated dev key)\n"
    "  asc check-config FILE   validate a config file; exit 0 and print \"ok\" when valid\n"
    "  asc config default      print the built-in default config (YAML)\n"
    "  asc version             print the version\n"
    "  asc help                this text\n"
    "\n"
    "Environment:\n"
    "  ASC_DEV_KEY             the dev key of the default config (otherwise generated once\n"
    "                          per data directory and printed when generated)\n"
    "  ASC_DATA_DIR            data directory (default ./asc-data)\n"
    "  OPENAI_API_KEY, OPENAI_BASE_URL   enable the default config's openai provider\n"
    "\n"
    "Signals: SIGHUP reloads the config (an invalid one is refused and the old one\n"
    "keeps serving); SIGTERM/SIGINT stop accepting, drain in-flight requests, exit.\n"
    "Routes: POST /v1/route/explain (a chat body, a key) prints the attempt plan\n"
    "without calling a provider; see docs/routing.md.\n"
    "Docs: README.md, docs/config.md, docs/routing.md, docs/api.md, docs/mock.md,\n"
    "docs/bench.md\n";

static const char k_serve_usage[] =
    "Usage: asc serve [--config FILE] [--listen ADDR:PORT] [--data-dir DIR] [--workers N]\n"
    "\n"
    "  --config FILE      YAML config (sections server, providers, models, keys);\n"
    "                     default: the built-in config (`asc config default`)\n"
    "  --listen ADDR:PORT overrides server.listen (default 127.0.0.1:8080; port 0 = any)\n"
    "  --data-dir DIR     data directory (env ASC_DATA_DIR; default ./asc-data)\n"
    "  --workers N        worker threads (default server.workers, 0 = one per core)\n";

typedef struct {
    const char *config_path;
    const char *listen;
    const char *data_dir;
    int workers; /* -1 = from config */
    unsigned revision;
    int mock_port;
    asc_mock_thread_t *mock;
    char listen_now[300];
    char access_log_now[4096];
    uv_signal_t sigterm, sigint, sighup;
    int stopping;
} serve_t;

static serve_t g_serve;

static asc_err_t load_config(const serve_t *s, asc_config_t **cfg, char *err, size_t errlen)
{
    if (s->config_path != NULL)
        return asc_config_load_file(s->config_path, cfg, err, errlen);
    return asc_config_load_text(asc_config_default_yaml, strlen(asc_config_default_yaml),
                                "default config", cfg, err, errlen);
}

static void limits_from(const asc_config_t *cfg, asc_http_limits_t *l)
{
    asc_http_limits_default(l);
    l->max_body_bytes = cfg->server.max_body_bytes;
    l->max_header_bytes = cfg->server.max_header_bytes;
    l->max_headers = cfg->server.max_headers;
    l->header_timeout_ms = cfg->server.header_timeout_ms;
    l->body_timeout_ms = cfg->server.body_timeout_ms;
    l->idle_timeout_ms = cfg->server.idle_timeout_ms;
    l->max_connections = cfg->server.max_connections;
}

static int split_listen(const char *listen, char *host, size_t hostlen, int *port)
{
    const char *colon = strrchr(listen, ':');
    if (colon == NULL)
        return -1;
    size_t hl = (size_t)(colon - listen);
    const char *h = listen;
    if (hl >= 2 && h[0] == '[' && h[hl - 1] == ']') {
        h++;
        hl -= 2;
    }
    if (hl == 0 || hl >= hostlen)
        return -1;
    memcpy(host, h, hl);
    host[hl] = '\0';
    char *end = NULL;
    long p = strtol(colon + 1, &end, 10);
    if (end == colon + 1 || *end != '\0' || p < 0 || p > 65535)
        return -1;
    *port = (int)p;
    return 0;
}

/* Build and publish a snapshot from cfg (taken). */
static asc_err_t apply_config(serve_t *s, asc_config_t *cfg, char *err, size_t errlen)
{
    asc_snapshot_ctx_t ctx = {0};
    ctx.data_dir = s->data_dir;
    if (asc_snapshot_needs_mock(cfg) && s->mock == NULL) {
        asc_err_t e = asc_mock_thread_start("127.0.0.1", 0, &s->mock_port, &s->mock, err, errlen);
        if (e != ASC_OK) {
            asc_config_free(cfg);
            return e;
        }
    }
    ctx.mock_port = s->mock_port;
    const char *access_log = cfg->server.access_log ? cfg->server.access_log : "stdout";
    if (strcmp(access_log, s->access_log_now) != 0) {
        asc_err_t e = asc_accesslog_open(access_log, err, errlen);
        if (e != ASC_OK) {
            asc_config_free(cfg);
            return e;
        }
        snprintf(s->access_log_now, sizeof s->access_log_now, "%s", access_log);
    }
    asc_snapshot_t *snap = NULL;
    asc_err_t e = asc_snapshot_build(cfg, &ctx, s->revision + 1, &snap, err, errlen);
    if (e != ASC_OK)
        return e;
    if (ctx.generated) {
        /* The one time a secret is printed: the dev key, when generated. */
        asc_log_info("generated dev key: %s", ctx.generated_key);
        asc_log_info("(stored in %s/dev-key; it is not printed again)",
                     s->data_dir ? s->data_dir : "./asc-data");
        sodium_memzero(ctx.generated_key, sizeof ctx.generated_key);
    }
    s->revision++;
    asc_snapshot_publish(snap);
    return ASC_OK;
}

static void on_stop_signal(uv_signal_t *h, int signum)
{
    serve_t *s = h->data;
    if (s->stopping)
        return;
    s->stopping = 1;
    asc_log_info("received %s: draining and stopping", signum == SIGTERM ? "SIGTERM" : "SIGINT");
    uv_signal_stop(&s->sigterm);
    uv_signal_stop(&s->sigint);
    uv_signal_stop(&s->sighup);
}

static void on_hup(uv_signal_t *h, int signum)
{
    serve_t *s = h->data;
    (void)signum;
    char err[1024];
    asc_config_t *cfg = NULL;
    if (load_config(s, &cfg, err, sizeof err) != ASC_OK) {
        asc_log_error("reload failed: %s (still serving revision %u)", err, s->revision);
        return;
    }
    const char *listen = s->listen ? s->listen : cfg->server.listen;
    if (listen != NULL && strcmp(listen, s->listen_now) != 0)
        asc_log_warn("server.listen changed to %s: a restart is needed to apply it", listen);
    asc_http_limits_t l;
    limits_from(cfg, &l);
    uint64_t shutdown_ms = cfg->server.shutdown_timeout_ms;
    if (apply_config(s, cfg, err, sizeof err) != ASC_OK) {
        asc_log_error("reload failed: %s (still serving revision %u)", err, s->revision);
        return;
    }
    asc_workers_set_limits(&l, shutdown_ms);
    asc_log_info("reloaded config (revision %u)", s->revision);
}

static void raise_nofile(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
}

static int cmd_serve(int argc, char **argv)
{
    serve_t *s = &g_serve;
    s->workers = -1;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            fputs(k_serve_usage, stdout);
            return 0;
        }
        if (v == NULL && (strcmp(a, "--config") == 0 || strcmp(a, "--listen") == 0 ||
                          strcmp(a, "--data-dir") == 0 || strcmp(a, "--workers") == 0)) {
            fprintf(stderr, "asc serve: %s needs a value\n%s", a, k_serve_usage);
            return 2;
        }
        if (strcmp(a, "--config") == 0 || strcmp(a, "-c") == 0)
            s->config_path = argv[++i];
        else if (strcmp(a, "--listen") == 0)
            s->listen = argv[++i];
        else if (strcmp(a, "--data-dir") == 0)
            s->data_dir = argv[++i];
        else if (strcmp(a, "--workers") == 0) {
            char *end = NULL;
            long n = strtol(argv[++i], &end, 10);
            if (*end != '\0' || n < 0 || n > 1024) {
                fprintf(stderr, "asc serve: --workers takes a number from 0 to 1024\n");
                return 2;
            }
            s->workers = (int)n;
        } else {
            fprintf(stderr, "asc serve: unknown argument \"%s\"\n%s", a, k_serve_usage);
            return 2;
        }
    }
    if (s->data_dir == NULL)
        s->data_dir = getenv("ASC_DATA_DIR");

    char err[1024];
    asc_config_t *cfg = NULL;
    if (load_config(s, &cfg, err, sizeof err) != ASC_OK) {
        asc_log_error("%s", err);
        return 1;
    }
    if (s->data_dir == NULL && cfg->server.data_dir != NULL)
        s->data_dir = strdup(cfg->server.data_dir);
    if (s->data_dir == NULL)
        s->data_dir = "./asc-data";
    const char *listen = s->listen ? s->listen : cfg->server.listen;
    char host[256];
    int port = 0;
    if (split_listen(listen, host, sizeof host, &port) != 0) {
        asc_log_error("invalid listen address \"%s\" (expected HOST:PORT)", listen);
        asc_config_free(cfg);
        return 1;
    }
    snprintf(s->listen_now, sizeof s->listen_now, "%s", listen);
    asc_workers_opts_t wo = {0};
    wo.host = host;
    wo.port = port;
    int nw = s->workers >= 0 ? s->workers : (int)cfg->server.workers;
    wo.count = nw > 0 ? (unsigned)nw : uv_available_parallelism();
    limits_from(cfg, &wo.limits);
    wo.shutdown_timeout_ms = cfg->server.shutdown_timeout_ms;
    if (s->config_path == NULL)
        asc_log_info("no --config given: serving the built-in default config");
    if (apply_config(s, cfg, err, sizeof err) != ASC_OK) {
        asc_log_error("%s", err);
        return 1;
    }

    raise_nofile();
    uv_loop_t *loop = uv_default_loop();
    uv_signal_init(loop, &s->sigterm);
    uv_signal_init(loop, &s->sigint);
    uv_signal_init(loop, &s->sighup);
    s->sigterm.data = s->sigint.data = s->sighup.data = s;
    uv_signal_start(&s->sigterm, on_stop_signal, SIGTERM);
    uv_signal_start(&s->sigint, on_stop_signal, SIGINT);
    uv_signal_start(&s->sighup, on_hup, SIGHUP);

    int bound = 0;
    if (asc_workers_start(&wo, &bound, err, sizeof err) != ASC_OK) {
        asc_log_error("%s", err);
        return 1;
    }
    asc_log_info("listening on http://%s%s%s:%d (%u worker%s, config revision %u)",
                 strchr(host, ':') ? "[" : "", host, strchr(host, ':') ? "]" : "", bound, wo.count,
                 wo.count == 1 ? "" : "s", s->revision);

    uv_run(loop, UV_RUN_DEFAULT);

    asc_workers_stop();
    if (s->mock != NULL)
        asc_mock_thread_stop(s->mock);
    asc_snapshot_publish(NULL);
    asc_accesslog_close();
    uv_close((uv_handle_t *)&s->sigterm, NULL);
    uv_close((uv_handle_t *)&s->sigint, NULL);
    uv_close((uv_handle_t *)&s->sighup, NULL);
    uv_run(loop, UV_RUN_DEFAULT);
    uv_loop_close(loop);
    asc_log_info("stopped");
    return 0;
}

static int cmd_check_config(int argc, char **argv)
{
    if (argc != 1) {
        fprintf(stderr, "Usage: asc check-config FILE\n");
        return 2;
    }
    char err[1024];
    asc_config_t *cfg = NULL;
    if (asc_config_load_file(argv[0], &cfg, err, sizeof err) != ASC_OK) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    asc_config_free(cfg);
    puts("ok");
    return 0;
}

int main(int argc, char **argv)
{
    signal(SIGPIPE, SIG_IGN);
    if (sodium_init() < 0 || curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        fprintf(stderr, "asc: cannot initialise crypto/TLS libraries\n");
        return 1;
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    int rc;
    const char *cmd = argc > 1 ? argv[1] : "help";
    if (strcmp(cmd, "serve") == 0)
        rc = cmd_serve(argc - 2, argv + 2);
    else if (strcmp(cmd, "check-config") == 0)
        rc = cmd_check_config(argc - 2, argv + 2);
    else if (strcmp(cmd, "config") == 0 && argc == 3 && strcmp(argv[2], "default") == 0) {
        fputs(asc_config_default_yaml, stdout);
        rc = 0;
    } else if (strcmp(cmd, "version") == 0 || strcmp(cmd, "--version") == 0) {
        printf("asc %s (libuv %s, %s)\n", ASC_VERSION, uv_version_string(), curl_version());
        rc = 0;
    } else if (strcmp(cmd, "help") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0) {
        fputs(k_usage, stdout);
        rc = 0;
    } else {
        fprintf(stderr, "asc: unknown command \"%s\"\n\n%s", cmd, k_usage);
        rc = 2;
    }
    curl_global_cleanup();
    return rc;
}

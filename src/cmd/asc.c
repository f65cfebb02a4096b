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

#include "admin/admin.h"
#include "auth/key.h"
#include "cli/cli.h"
#include "config/config.h"
#include "config/yaml.h"
#include "control/control.h"
#include "core/log.h"
#include "secret/secret.h"
#include "store/store.h"
#include "gateway/snapshot.h"
#include "gateway/worker.h"
#include "mock/mock.h"
#include "obs/accesslog.h"

#ifndef ASC_VERSION
#define ASC_VERSION "0.1.0"
#endif

static const char k_usage[] =
    "asc — a self-hostable AI gateway and control plane\n"
    "\n"
    "Usage:\n"
    "  asc serve [--config FILE] [--listen ADDR:PORT] [--admin-listen ADDR:PORT|off]\n"
    "            [--data-dir DIR] [--workers N]\n"
    "                          run the gateway and its admin API (no --config: the built-in\n"
    "                          default config, with the bundled mock provider and a\n"
    "                          generated dev key)\n"
    "  asc check-config FILE   validate a config file on its own; exit 0 and print \"ok\"\n"
    "  asc config default      print the built-in default config (YAML)\n"
    "  asc version             print the version\n"
    "  asc help                this text\n"
    "\n"
    "%s"
    "\n"
    "Environment:\n"
    "  ASC_DEV_KEY             the dev key of the default config (otherwise generated once\n"
    "                          per data directory and printed when generated)\n"
    "  ASC_DATA_DIR            data directory (default ./asc-data): asc.db (SQLite store),\n"
    "                          master-key and dev-key of the embedded default\n"
    "  ASC_MASTER_KEY          master key sealing provider credentials (64 hex chars or\n"
    "                          base64 of 32 bytes; default: DATA_DIR/master-key, generated)\n"
    "  ASC_ADMIN_TOKEN         serve: the bootstrap platform-admin token (16+ chars);\n"
    "                          CLI: the bearer token sent to the admin API\n"
    "  ASC_ADMIN_URL           CLI: the admin API (default http://127.0.0.1:8081)\n"
    "  OPENAI_API_KEY, OPENAI_BASE_URL   enable the default config's openai provider\n"
    "\n"
    "Signals: SIGHUP applies the config file again as a revision (an invalid one is\n"
    "refused and the old state keeps serving); SIGTERM/SIGINT stop accepting, drain\n"
    "in-flight requests, exit.\n"
    "Routes: POST /v1/route/explain (a chat body, a key) prints the attempt plan\n"
    "without calling a provider; see docs/routing.md.\n"
    "Docs: README.md, docs/config.md, docs/admin.md, docs/routing.md, docs/api.md,\n"
    "docs/mock.md, docs/bench.md\n";

static const char k_serve_usage[] =
    "Usage: asc serve [--config FILE] [--listen ADDR:PORT] [--admin-listen ADDR:PORT|off]\n"
    "                 [--data-dir DIR] [--workers N]\n"
    "\n"
    "  --config FILE      YAML config (sections server, admin, providers, models, keys,\n"
    "                     tenants, teams, users, credentials), applied as a revision;\n"
    "                     default: the built-in config (`asc config default`)\n"
    "  --listen ADDR:PORT overrides server.listen (default 127.0.0.1:8080; port 0 = any)\n"
    "  --admin-listen ADDR:PORT|off  the admin API (admin.listen; default 127.0.0.1:8081)\n"
    "  --data-dir DIR     data directory (env ASC_DATA_DIR; default ./asc-data)\n"
    "  --workers N        worker threads (default server.workers, 0 = one per core)\n";

typedef struct {
    const char *config_path;
    const char *listen;
    const char *admin_listen;
    const char *data_dir;
    int workers; /* -1 = from config */
    unsigned revision;
    int mock_port;
    char source[4200]; /* "file:<path>" of the serving config */
    asc_store_t *store;
    asc_secret_box_t *box;
    asc_control_t *ctl;
    asc_admin_t *admin;
    uv_timer_t tick; /* key last-used flush, revision polling */
    int started;
    asc_mock_thread_t *mock;
    char listen_now[300];
    char access_log_now[4096];
    uv_signal_t sigterm, sigint, sighup;
    int stopping;
} serve_t;

static serve_t g_serve;

/* The serving config file as a tree (${VAR} expanded), not yet validated:
 * the control plane validates it together with the store's objects. */
static asc_err_t load_tree(const serve_t *s, cJSON **tree, char *err, size_t errlen)
{
    const char *text = asc_config_default_yaml;
    size_t len = strlen(text);
    char *buf = NULL;
    char msg[1024];
    *tree = NULL;
    if (s->config_path != NULL) {
        FILE *f = fopen(s->config_path, "rb");
        if (f == NULL) {
            snprintf(err, errlen, "%s: %s", s->config_path, strerror(errno));
            return ASC_EIO;
        }
        buf = malloc(ASC_YAML_MAX_BYTES + 1);
        len = buf ? fread(buf, 1, ASC_YAML_MAX_BYTES + 1, f) : 0;
        fclose(f);
        if (buf == NULL)
            return ASC_ENOMEM;
        if (len > ASC_YAML_MAX_BYTES) {
            free(buf);
            snprintf(err, errlen, "%s: larger than %zu bytes", s->config_path, ASC_YAML_MAX_BYTES);
            return ASC_ETOOBIG;
        }
        text = buf;
    }
    const char *name = s->config_path ? s->config_path : "default config";
    asc_err_t e = ASC_OK;
    *tree = asc_yaml_parse(text, len, msg, sizeof msg);
    if (*tree == NULL)
        e = ASC_EINVAL;
    else if (!cJSON_IsObject(*tree)) {
        /* an empty (say truncated) file would delete every object it manages */
        snprintf(msg, sizeof msg,
                 "the config must be a mapping with the sections server, admin, "
                 "providers, models, keys, tenants, teams, users, credentials");
        e = ASC_EINVAL;
    }
    if (e == ASC_OK)
        e = asc_config_expand_env(*tree, msg, sizeof msg);
    free(buf);
    if (e != ASC_OK) {
        snprintf(err, errlen, "%.200s: %.800s", name, msg);
        cJSON_Delete(*tree);
        *tree = NULL;
    }
    return e;
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

/* The control plane's sink: build a snapshot of a validated state (start
 * the in-process mock and switch the access log as needed), publish it when
 * the change is committed. */
static asc_err_t sink_prepare(void *ud, asc_config_t *cfg, uint64_t revision, void **built,
                              char *err, size_t errlen)
{
    serve_t *s = ud;
    asc_snapshot_ctx_t ctx = {0};
    ctx.data_dir = s->data_dir;
    ctx.box = s->box;
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
    asc_err_t e = asc_snapshot_build(cfg, &ctx, (unsigned)revision, &snap, err, errlen);
    if (e != ASC_OK)
        return e;
    if (ctx.generated) {
        /* The one time a secret is printed: the dev key, when generated. */
        asc_log_info("generated dev key: %s", ctx.generated_key);
        asc_log_info("(stored in %s/dev-key; it is not printed again)",
                     s->data_dir ? s->data_dir : "./asc-data");
        sodium_memzero(ctx.generated_key, sizeof ctx.generated_key);
    }
    *built = snap;
    return ASC_OK;
}

static void sink_commit(void *ud, void *built)
{
    serve_t *s = ud;
    asc_snapshot_t *snap = built;
    s->revision = snap->revision;
    if (s->admin != NULL)
        asc_admin_configure(s->admin, snap->cfg);
    if (s->started) {
        asc_http_limits_t l;
        limits_from(snap->cfg, &l);
        asc_workers_set_limits(&l, snap->cfg->server.shutdown_timeout_ms);
    }
    asc_snapshot_publish(snap);
}

static void sink_discard(void *ud, void *built)
{
    (void)ud;
    asc_snapshot_unref(built);
}

/* Apply the serving config file as a revision (start and SIGHUP). */
static asc_err_t apply_file(serve_t *s, const char *actor, char *err, size_t errlen)
{
    cJSON *tree = NULL;
    asc_err_t e = load_tree(s, &tree, err, errlen);
    if (e != ASC_OK)
        return e;
    e = asc_control_set_process(s->ctl, tree, err, errlen);
    cJSON *report = NULL;
    int status = 0;
    if (e == ASC_OK)
        e = asc_control_apply(s->ctl, tree, s->source, actor, 0, &report, &status, err, errlen);
    if (e == ASC_OK) {
        const cJSON *ch = cJSON_GetObjectItemCaseSensitive(report, "changes");
        int n = cJSON_GetArraySize(ch);
        if (n > 0)
            asc_log_info("applied %s: %d change%s (revision %u)", s->source + 5, n,
                         n == 1 ? "" : "s", s->revision);
    }
    cJSON_Delete(report);
    cJSON_Delete(tree);
    return e;
}

/* Every second: flush key last-used times to the store, and pick up a
 * revision another node (sharing the store) committed. */
static void on_tick(uv_timer_t *t)
{
    serve_t *s = t->data;
    char err[512];
    asc_snapshot_t *snap = asc_snapshot_current();
    for (size_t i = 0; snap != NULL && i < snap->nkeys; i++) {
        asc_key_rt_t *k = &snap->keys[i];
        int64_t at = atomic_load_explicit(&k->last_used_s, memory_order_relaxed);
        if (at > k->flushed_s) {
            if (asc_control_touch_key(s->ctl, k->name, at, err, sizeof err) != ASC_OK)
                break;
            k->flushed_s = at;
        }
    }
    asc_snapshot_unref(snap);
    uint64_t rev = 0;
    asc_store_t *st = s->store;
    if (st->be->revision(st, &rev, err, sizeof err) == ASC_OK &&
        rev > asc_control_revision(s->ctl)) {
        if (asc_control_load(s->ctl, err, sizeof err) == ASC_OK)
            asc_log_info("loaded revision %llu from the store", (unsigned long long)rev);
        else
            asc_log_error("cannot load revision %llu: %s", (unsigned long long)rev, err);
    }
}

/* Master key and store, in the data directory. */
static asc_err_t open_store(serve_t *s, char *err, size_t errlen)
{
    char path[4200];
    int generated = 0;
    const char *env = getenv("ASC_MASTER_KEY");
    snprintf(path, sizeof path, "%s/master-key", s->data_dir);
    asc_err_t e =
        asc_secret_box_open(env && env[0] ? env : NULL, path, 1, &s->box, &generated, err, errlen);
    if (e != ASC_OK)
        return e;
    if (generated)
        asc_log_warn("generated a master key in %s (mode 0600): it seals provider credentials; "
                     "production should pass ASC_MASTER_KEY and keep it out of the data "
                     "directory",
                     path);
    snprintf(path, sizeof path, "sqlite:%s/asc.db", s->data_dir);
    e = asc_store_open(path, &s->store, err, errlen);
    if (e != ASC_OK)
        return e;
    char fp[17];
    char *known = NULL;
    asc_secret_box_fingerprint(s->box, fp);
    e = s->store->be->meta_get(s->store, "master_key_fingerprint", &known, err, errlen);
    if (e == ASC_ENOTFOUND) {
        e = s->store->be->meta_set(s->store, "master_key_fingerprint", fp, err, errlen);
    } else if (e == ASC_OK && strcmp(known, fp) != 0) {
        snprintf(err, errlen,
                 "the store's credentials were sealed with another master key (fingerprint %s, "
                 "this one is %s): pass the right ASC_MASTER_KEY",
                 known, fp);
        e = ASC_EDENIED;
    }
    free(known);
    if (e != ASC_OK)
        return e;
    asc_control_opts_t co = {.store = s->store,
                             .sink = {sink_prepare, sink_commit, sink_discard, s}};
    return asc_control_new(&co, &s->ctl, err, errlen);
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
    /* the rest of the main loop's handles, so that it returns */
    uv_timer_stop(&s->tick);
    asc_admin_stop(s->admin);
}

static void on_hup(uv_signal_t *h, int signum)
{
    serve_t *s = h->data;
    (void)signum;
    char err[1024];
    if (apply_file(s, "asc serve (SIGHUP)", err, sizeof err) != ASC_OK) {
        asc_log_error("reload failed: %s (still serving revision %u)", err, s->revision);
        return;
    }
    asc_snapshot_t *snap = asc_snapshot_current();
    const char *listen = s->listen ? s->listen : snap->cfg->server.listen;
    if (listen != NULL && strcmp(listen, s->listen_now) != 0)
        asc_log_warn("server.listen changed to %s: a restart is needed to apply it", listen);
    asc_snapshot_unref(snap);
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
                          strcmp(a, "--admin-listen") == 0 || strcmp(a, "--data-dir") == 0 ||
                          strcmp(a, "--workers") == 0)) {
            fprintf(stderr, "asc serve: %s needs a value\n%s", a, k_serve_usage);
            return 2;
        }
        if (strcmp(a, "--config") == 0 || strcmp(a, "-c") == 0)
            s->config_path = argv[++i];
        else if (strcmp(a, "--listen") == 0)
            s->listen = argv[++i];
        else if (strcmp(a, "--admin-listen") == 0)
            s->admin_listen = argv[++i];
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
    cJSON *tree = NULL;
    if (load_tree(s, &tree, err, sizeof err) != ASC_OK) {
        asc_log_error("%s", err);
        return 1;
    }
    if (s->data_dir == NULL) {
        const cJSON *srv = cJSON_GetObjectItemCaseSensitive(tree, "server");
        const cJSON *dd = cJSON_GetObjectItemCaseSensitive(srv, "data_dir");
        if (cJSON_IsString(dd))
            s->data_dir = strdup(dd->valuestring);
    }
    cJSON_Delete(tree);
    if (s->data_dir == NULL)
        s->data_dir = "./asc-data";
    if (s->config_path != NULL) {
        char *rp = realpath(s->config_path, NULL);
        snprintf(s->source, sizeof s->source, "file:%s", rp ? rp : s->config_path);
        free(rp);
    } else {
        snprintf(s->source, sizeof s->source, "file:(built-in default config)");
    }
    if (s->config_path == NULL)
        asc_log_info("no --config given: serving the built-in default config");
    if (open_store(s, err, sizeof err) != ASC_OK ||
        apply_file(s, "asc serve (start)", err, sizeof err) != ASC_OK) {
        asc_log_error("%s", err);
        return 1;
    }
    asc_snapshot_t *snap = asc_snapshot_current();
    const asc_config_t *cfg = snap->cfg;
    const char *listen = s->listen ? s->listen : cfg->server.listen;
    char host[256];
    int port = 0;
    if (split_listen(listen, host, sizeof host, &port) != 0) {
        asc_log_error("invalid listen address \"%s\" (expected HOST:PORT)", listen);
        asc_snapshot_unref(snap);
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

    uv_loop_t *loop = uv_default_loop();
    const char *admin_listen = s->admin_listen ? s->admin_listen : cfg->admin.listen;
    if (admin_listen != NULL && strcmp(admin_listen, "off") != 0) {
        char ahost[256];
        int aport = 0, abound = 0;
        if (split_listen(admin_listen, ahost, sizeof ahost, &aport) != 0) {
            asc_log_error("invalid admin listen address \"%s\" (expected HOST:PORT)", admin_listen);
            asc_snapshot_unref(snap);
            return 1;
        }
        asc_admin_opts_t ao = {.host = ahost, .port = aport, .ctl = s->ctl, .box = s->box};
        asc_http_limits_default(&ao.limits);
        ao.limits.max_body_bytes = ASC_YAML_MAX_BYTES;
        ao.limits.max_connections = 256;
        if (asc_admin_start(loop, &ao, &s->admin, &abound, err, sizeof err) != ASC_OK) {
            asc_log_error("admin API: %s", err);
            asc_snapshot_unref(snap);
            return 1;
        }
        asc_admin_configure(s->admin, cfg);
        asc_log_info("admin API on http://%s%s%s:%d", strchr(ahost, ':') ? "[" : "", ahost,
                     strchr(ahost, ':') ? "]" : "", abound);
    }
    asc_snapshot_unref(snap);
    s->started = 1;
    raise_nofile();
    uv_signal_init(loop, &s->sigterm);
    uv_signal_init(loop, &s->sigint);
    uv_signal_init(loop, &s->sighup);
    s->sigterm.data = s->sigint.data = s->sighup.data = s;
    uv_signal_start(&s->sigterm, on_stop_signal, SIGTERM);
    uv_signal_start(&s->sigint, on_stop_signal, SIGINT);
    uv_signal_start(&s->sighup, on_hup, SIGHUP);
    uv_timer_init(loop, &s->tick);
    s->tick.data = s;
    uv_timer_start(&s->tick, on_tick, 1000, 1000);

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
    on_tick(&s->tick); /* the last key uses */
    uv_close((uv_handle_t *)&s->tick, NULL);
    if (s->mock != NULL)
        asc_mock_thread_stop(s->mock);
    asc_snapshot_publish(NULL);
    asc_accesslog_close();
    uv_close((uv_handle_t *)&s->sigterm, NULL);
    uv_close((uv_handle_t *)&s->sigint, NULL);
    uv_close((uv_handle_t *)&s->sighup, NULL);
    uv_run(loop, UV_RUN_DEFAULT);
    uv_loop_close(loop);
    asc_admin_free(s->admin);
    asc_control_free(s->ctl);
    asc_store_close(s->store);
    asc_secret_box_close(s->box);
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
    else if (asc_cli_handles(cmd))
        rc = asc_cli_main(cmd, argc - 2, argv + 2);
    else if (strcmp(cmd, "check-config") == 0)
        rc = cmd_check_config(argc - 2, argv + 2);
    else if (strcmp(cmd, "config") == 0 && argc == 3 && strcmp(argv[2], "default") == 0) {
        fputs(asc_config_default_yaml, stdout);
        rc = 0;
    } else if (strcmp(cmd, "version") == 0 || strcmp(cmd, "--version") == 0) {
        printf("asc %s (libuv %s, %s)\n", ASC_VERSION, uv_version_string(), curl_version());
        rc = 0;
    } else if (strcmp(cmd, "help") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0) {
        printf(k_usage, asc_cli_usage);
        rc = 0;
    } else {
        fprintf(stderr, "asc: unknown command \"%s\"\n\n", cmd);
        fprintf(stderr, k_usage, asc_cli_usage);
        rc = 2;
    }
    curl_global_cleanup();
    return rc;
}

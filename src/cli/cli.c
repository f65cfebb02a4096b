/*
 * `asc <command> ...` for the control plane: global flags, local options,
 * dispatch, usage texts, and the request/print helpers the commands share.
 */
#include "cli/cli.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/internal.h"

#define DEFAULT_ADMIN_URL "http://127.0.0.1:8081"
#define MAX_FILE ((size_t)64 << 20)

const char asc_cli_usage[] =
    "Control plane (a client of the admin API, docs/admin.md):\n"
    "  asc <kind> list [--tenant T] [--team T] [--owner U] [--prefix P] [--limit N]\n"
    "                  [--cursor C] [--all]\n"
    "  asc <kind> get NAME\n"
    "  asc <kind> create NAME [--set field=value]... [--json '{...}'] [-f FILE.json]\n"
    "  asc <kind> update NAME [--set field=value]... [--json '{...}'] [-f FILE.json]\n"
    "                  [--if-match ETAG]     (a JSON merge patch)\n"
    "  asc <kind> delete NAME [--if-match ETAG]\n"
    "                          kinds: tenants teams users keys credentials providers\n"
    "                          routes tokens\n"
    "  asc keys rotate NAME [--overlap SECONDS]   new secret; the old one keeps working\n"
    "                          for SECONDS (default 0)\n"
    "  asc keys revoke NAME\n"
    "  asc apply -f FILE       apply a whole config file (YAML or JSON; - = stdin)\n"
    "  asc diff -f FILE        what apply would change; exit 0 when nothing, 3 when something\n"
    "  asc revisions list [--limit N] [--cursor C] [--all]\n"
    "  asc changes list [--kind K] [--name N] [--actor A] [--tenant T] [--limit N] [--all]\n"
    "  asc whoami              the principal the token authenticates as\n"
    "\n"
    "  Options anywhere on the line:\n"
    "  --admin URL             admin API (env ASC_ADMIN_URL; default " DEFAULT_ADMIN_URL ")\n"
    "  --token T               bearer token (env ASC_ADMIN_TOKEN; never printed)\n"
    "  -o, --output table|json table (default) or the server's JSON, pretty-printed\n"
    "\n"
    "  --set values: a,b,c is a list for models and regions; true, false, null and\n"
    "  JSON numbers are JSON; [..], {..} and \"..\" are parsed as JSON (--set name='\"007\"'\n"
    "  forces a string); anything else is a string. limits.rpm=100 makes nested objects.\n"
    "  Exit codes: 0 ok, 1 refused or unreachable, 2 usage, 3 asc diff found changes.\n";

static const char k_kind_usage[] =
    "Usage: asc <kind> list [--tenant T] [--team T] [--owner U] [--prefix P] [--limit N]\n"
    "                       [--cursor C] [--all]\n"
    "       asc <kind> get NAME\n"
    "       asc <kind> create NAME [--set field=value]... [--json '{...}'] [-f FILE.json]\n"
    "       asc <kind> update NAME [--set field=value]... [--json '{...}'] [-f FILE.json]\n"
    "                       [--if-match ETAG]\n"
    "       asc <kind> delete NAME [--if-match ETAG]\n";

static const char k_keys_usage[] = "       asc keys rotate NAME [--overlap SECONDS]\n"
                                   "       asc keys revoke NAME\n";

static const char k_global_usage[] =
    "Options: --admin URL (env ASC_ADMIN_URL), --token T (env ASC_ADMIN_TOKEN),\n"
    "         -o/--output table|json. See `asc help`.\n";

typedef struct {
    const char *name;
    int (*run)(asc_cli_ctx_t *ctx, int argc, char **argv);
    const char *usage; /* NULL = k_kind_usage */
} command_t;

static const command_t k_commands[] = {
    {"tenants", asc_cli_cmd_object, NULL},
    {"teams", asc_cli_cmd_object, NULL},
    {"users", asc_cli_cmd_object, NULL},
    {"keys", asc_cli_cmd_object, NULL},
    {"credentials", asc_cli_cmd_object, NULL},
    {"providers", asc_cli_cmd_object, NULL},
    {"routes", asc_cli_cmd_object, NULL},
    {"tokens", asc_cli_cmd_object, NULL},
    {"revisions", asc_cli_cmd_revisions,
     "Usage: asc revisions list [--limit N] [--cursor C] [--all]\n"},
    {"changes", asc_cli_cmd_changes,
     "Usage: asc changes list [--kind K] [--name N] [--actor A] [--tenant T] [--limit N]\n"
     "                        [--cursor C] [--all]\n"},
    {"whoami", asc_cli_cmd_whoami, "Usage: asc whoami\n"},
    {"apply", asc_cli_cmd_apply, "Usage: asc apply -f FILE   (YAML or JSON; - = stdin)\n"},
    {"diff", asc_cli_cmd_apply,
     "Usage: asc diff -f FILE    (exit 0: no changes, 3: changes, 1: error)\n"},
};

static const command_t *find_command(const char *cmd)
{
    for (size_t i = 0; cmd != NULL && i < sizeof k_commands / sizeof k_commands[0]; i++)
        if (strcmp(k_commands[i].name, cmd) == 0)
            return &k_commands[i];
    return NULL;
}

int asc_cli_handles(const char *cmd)
{
    return find_command(cmd) != NULL;
}

static void print_usage(FILE *f, const char *cmd)
{
    const command_t *c = find_command(cmd);
    if (c != NULL && c->usage != NULL) {
        fputs(c->usage, f);
    } else {
        /* k_kind_usage with <kind> spelled out */
        for (const char *p = k_kind_usage; *p != '\0';) {
            const char *k = strstr(p, "<kind>");
            if (k == NULL) {
                fputs(p, f);
                break;
            }
            fwrite(p, 1, (size_t)(k - p), f);
            fputs(cmd, f);
            p = k + strlen("<kind>");
        }
        if (strcmp(cmd, "keys") == 0)
            fputs(k_keys_usage, f);
    }
    fputs(k_global_usage, f);
}

int asc_cli_usage_error(const asc_cli_ctx_t *ctx, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "asc: %s: ", ctx->cmd);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    print_usage(stderr, ctx->cmd);
    return ASC_CLI_EXIT_USAGE;
}

/* ---- local options ---- */

typedef struct {
    const char *name;
    const char *alias;
    unsigned bit;
    size_t offset; /* of the const char * in asc_cli_opts_t; 0 for flags and --set */
} opt_t;

#define OFF(f) offsetof(asc_cli_opts_t, f)

static const opt_t k_opts[] = {
    {"--tenant", NULL, ASC_CLI_OPT_TENANT, OFF(tenant)},
    {"--team", NULL, ASC_CLI_OPT_TEAM, OFF(team)},
    {"--owner", NULL, ASC_CLI_OPT_OWNER, OFF(owner)},
    {"--prefix", NULL, ASC_CLI_OPT_PREFIX, OFF(prefix)},
    {"--limit", NULL, ASC_CLI_OPT_LIMIT, OFF(limit)},
    {"--cursor", NULL, ASC_CLI_OPT_CURSOR, OFF(cursor)},
    {"--all", NULL, ASC_CLI_OPT_ALL, 0},
    {"--set", NULL, ASC_CLI_OPT_SET, 0},
    {"--file", "-f", ASC_CLI_OPT_FILE, OFF(file)},
    {"--json", NULL, ASC_CLI_OPT_JSON, OFF(json)},
    {"--if-match", NULL, ASC_CLI_OPT_IF_MATCH, OFF(if_match)},
    {"--overlap", NULL, ASC_CLI_OPT_OVERLAP, OFF(overlap)},
    {"--kind", NULL, ASC_CLI_OPT_KIND, OFF(kind)},
    {"--name", NULL, ASC_CLI_OPT_NAME, OFF(name)},
    {"--actor", NULL, ASC_CLI_OPT_ACTOR, OFF(actor)},
};

/* The option `arg` names (with "=value" allowed after a long name), and in
 * *inline_value the text after '=' or NULL. */
static const opt_t *find_opt(const char *arg, const char **inline_value)
{
    *inline_value = NULL;
    size_t n = strcspn(arg, "=");
    for (size_t i = 0; i < sizeof k_opts / sizeof k_opts[0]; i++) {
        const opt_t *o = &k_opts[i];
        if (strlen(o->name) == n && strncmp(arg, o->name, n) == 0) {
            if (arg[n] == '=')
                *inline_value = arg + n + 1;
            return o;
        }
        if (o->alias != NULL && strcmp(arg, o->alias) == 0)
            return o;
    }
    return NULL;
}

static int takes_value(const opt_t *o)
{
    return o->bit != ASC_CLI_OPT_ALL;
}

int asc_cli_opts_parse(const asc_cli_ctx_t *ctx, int argc, char **argv, unsigned allowed,
                       size_t max_pos, asc_cli_opts_t *o)
{
    memset(o, 0, sizeof *o);
    int only_pos = 0;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i], *val = NULL;
        if (!only_pos && strcmp(a, "--") == 0) {
            only_pos = 1;
            continue;
        }
        if (only_pos || a[0] != '-' || a[1] == '\0') {
            if (o->npos == max_pos || o->npos == ASC_CLI_MAX_POS)
                return asc_cli_usage_error(ctx, "unexpected argument '%s'", a);
            o->pos[o->npos++] = a;
            continue;
        }
        const opt_t *opt = find_opt(a, &val);
        if (opt == NULL || (opt->bit & allowed) == 0)
            return asc_cli_usage_error(ctx, "unknown option '%s' here", a);
        if (!takes_value(opt)) {
            if (val != NULL)
                return asc_cli_usage_error(ctx, "%s takes no value", opt->name);
            o->all = 1;
            continue;
        }
        if (val == NULL) {
            if (i + 1 >= argc)
                return asc_cli_usage_error(ctx, "%s needs a value", opt->name);
            val = argv[++i];
        }
        if (opt->bit == ASC_CLI_OPT_SET) {
            char **s = realloc(o->sets, (o->nsets + 1) * sizeof *s);
            if (s == NULL)
                return asc_cli_usage_error(ctx, "out of memory");
            o->sets = s;
            o->sets[o->nsets++] = (char *)val;
            continue;
        }
        const char **slot = (const char **)(void *)((char *)o + opt->offset);
        if (*slot != NULL)
            return asc_cli_usage_error(ctx, "%s given twice", opt->name);
        *slot = val;
    }
    return 0;
}

void asc_cli_opts_free(asc_cli_opts_t *o)
{
    free(o->sets);
    o->sets = NULL;
    o->nsets = 0;
}

/* ---- shared helpers ---- */

int asc_cli_emit(asc_err_t e, const asc_buf_t *b)
{
    if (e != ASC_OK) {
        fprintf(stderr, "asc: cannot render the answer: %s\n", asc_err_name(e));
        return ASC_CLI_EXIT_ERROR;
    }
    if (b->len > 0 && fwrite(b->data, 1, b->len, stdout) != b->len)
        return ASC_CLI_EXIT_ERROR;
    return fflush(stdout) == 0 ? ASC_CLI_EXIT_OK : ASC_CLI_EXIT_ERROR;
}

int asc_cli_read_file(const char *path, asc_buf_t *out)
{
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    int rc = ASC_CLI_EXIT_OK;
    char chunk[65536];
    out->limit = MAX_FILE;
    if (f == NULL) {
        fprintf(stderr, "asc: %s: %s\n", path, strerror(errno));
        return ASC_CLI_EXIT_ERROR;
    }
    for (;;) {
        size_t n = fread(chunk, 1, sizeof chunk, f);
        if (n > 0 && asc_buf_append(out, chunk, n) != ASC_OK) {
            fprintf(stderr, "asc: %s: larger than %zu MiB\n", path, MAX_FILE >> 20);
            rc = ASC_CLI_EXIT_ERROR;
            break;
        }
        if (n < sizeof chunk) {
            if (ferror(f)) {
                fprintf(stderr, "asc: %s: read error\n", path);
                rc = ASC_CLI_EXIT_ERROR;
            }
            break;
        }
    }
    if (f != stdin)
        fclose(f);
    if (rc == ASC_CLI_EXIT_OK && out->data == NULL && asc_buf_puts(out, "") != ASC_OK)
        rc = ASC_CLI_EXIT_ERROR;
    return rc;
}

int asc_cli_call(const asc_cli_ctx_t *ctx, const asc_cli_req_t *req, cJSON **out)
{
    char err[1024];
    asc_cli_resp_t r;
    asc_buf_t line;
    int rc = ASC_CLI_EXIT_ERROR;
    *out = NULL;
    asc_buf_init(&r.body, ASC_CLI_MAX_RESPONSE);
    asc_buf_init(&line, 0);
    asc_err_t e = asc_cli_http_do(ctx->http, req, &r, err, sizeof err);
    if (e != ASC_OK) {
        asc_cli_sanitize(&line, err, strlen(err));
        fprintf(stderr, "asc: %s\n", line.data != NULL ? line.data : "");
        if (e == ASC_EIO || e == ASC_ETIMEOUT)
            fprintf(stderr, "asc: is the admin API running there? Point at it with --admin URL "
                            "or ASC_ADMIN_URL\n");
        goto out;
    }
    asc_buf_t url;
    asc_buf_init(&url, 0);
    if (asc_cli_sanitize(&url, r.url, strlen(r.url)) != ASC_OK || url.data == NULL) {
        asc_buf_free(&url);
        goto out;
    }
    if (r.status >= 300 && r.status < 400) {
        fprintf(stderr,
                "asc: %s answered with a redirect (HTTP %ld), which asc does not follow; "
                "check --admin\n",
                url.data, r.status);
    } else if (r.status >= 400) {
        if (asc_cli_error_text(&line, r.status, r.body.data, r.body.len, url.data) == ASC_OK)
            fprintf(stderr, "%s\n", line.data);
        if (r.status == 401 && ctx->http->auth_hdr == NULL)
            fprintf(stderr, "asc: no token was sent: use --token T or ASC_ADMIN_TOKEN\n");
    } else if (r.body.len > 0) {
        *out = cJSON_ParseWithLength(r.body.data, r.body.len);
        if (*out == NULL)
            fprintf(stderr, "asc: the answer from %s (HTTP %ld) is not JSON\n", url.data, r.status);
    }
    asc_buf_free(&url);
    if (r.status >= 300 || (r.body.len > 0 && *out == NULL))
        goto out;
    rc = ASC_CLI_EXIT_OK;
out:
    asc_buf_free(&r.body);
    asc_buf_free(&line);
    return rc;
}

/* ---- global flags and dispatch ---- */

typedef struct {
    const char *admin;
    const char *token;
    const char *output;
} globals_t;

/* Move the global flags out of argv into g; the other words go to rest in
 * order. Values of local options are copied along with them, so that
 * `--json --admin` keeps "--admin" as the JSON text. */
static int split_globals(const asc_cli_ctx_t *ctx, int argc, char **argv, globals_t *g, char **rest,
                         int *nrest)
{
    static const char *const names[] = {"--admin", "--token", "--output", "-o"};
    int after_dd = 0;
    *nrest = 0;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i], *val = NULL;
        int which = -1;
        if (after_dd || a[0] != '-') {
            rest[(*nrest)++] = argv[i];
            continue;
        }
        if (strcmp(a, "--") == 0)
            after_dd = 1;
        for (int k = 0; k < 4 && which < 0; k++) {
            size_t n = strlen(names[k]);
            if (strncmp(a, names[k], n) != 0)
                continue;
            if (a[n] == '\0')
                which = k;
            else if (a[n] == '=' && k < 3)
                which = k, val = a + n + 1;
            else if (k == 3)
                which = k, val = a + n; /* -ojson */
        }
        if (which < 0) {
            const opt_t *opt = find_opt(a, &val);
            rest[(*nrest)++] = argv[i];
            if (opt != NULL && takes_value(opt) && val == NULL && strcmp(a, "--") != 0 &&
                i + 1 < argc)
                rest[(*nrest)++] = argv[++i];
            continue;
        }
        if (val == NULL) {
            if (i + 1 >= argc)
                return asc_cli_usage_error(ctx, "%s needs a value", names[which]);
            val = argv[++i];
        }
        if (which == 0)
            g->admin = val;
        else if (which == 1)
            g->token = val;
        else
            g->output = val;
    }
    return 0;
}

static int wants_help(int argc, char **argv)
{
    if (argc > 0 && strcmp(argv[0], "help") == 0)
        return 1;
    for (int i = 0; i < argc && strcmp(argv[i], "--") != 0; i++)
        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0)
            return 1;
    return 0;
}

int asc_cli_main(const char *cmd, int argc, char **argv)
{
    asc_cli_ctx_t ctx = {cmd != NULL ? cmd : "", 0, NULL};
    asc_cli_http_t http = {0};
    globals_t g = {getenv("ASC_ADMIN_URL"), getenv("ASC_ADMIN_TOKEN"), "table"};
    char err[256];
    int nrest = 0, rc;
    const command_t *c = find_command(cmd);
    if (c == NULL) {
        fprintf(stderr, "asc: unknown command '%s'\n", ctx.cmd);
        return ASC_CLI_EXIT_USAGE;
    }
    char **rest = calloc((size_t)argc + 1, sizeof *rest);
    if (rest == NULL) {
        fprintf(stderr, "asc: out of memory\n");
        return ASC_CLI_EXIT_ERROR;
    }
    rc = split_globals(&ctx, argc, argv, &g, rest, &nrest);
    if (rc != 0)
        goto out;
    if (wants_help(nrest, rest)) {
        print_usage(stdout, cmd);
        goto out;
    }
    if (strcmp(g.output, "json") == 0) {
        ctx.json = 1;
    } else if (strcmp(g.output, "table") != 0) {
        rc = asc_cli_usage_error(&ctx, "--output is table or json");
        goto out;
    }
    if (g.admin == NULL || g.admin[0] == '\0')
        g.admin = DEFAULT_ADMIN_URL;
    asc_err_t e = asc_cli_http_open(&http, g.admin, g.token, err, sizeof err);
    if (e == ASC_EINVAL) {
        rc = asc_cli_usage_error(&ctx, "%s", err);
        goto out;
    } else if (e != ASC_OK) {
        fprintf(stderr, "asc: %s\n", err);
        rc = ASC_CLI_EXIT_ERROR;
        goto out;
    }
    ctx.http = &http;
    rc = c->run(&ctx, nrest, rest);
out:
    asc_cli_http_close(&http);
    free(rest);
    return rc;
}

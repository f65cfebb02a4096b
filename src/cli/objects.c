/*
 * The object commands: `asc <kind> list|get|create|update|delete`, `asc keys
 * rotate|revoke`, and the read-only `asc revisions`, `asc changes` and `asc
 * whoami`.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/internal.h"

#define MAX_PAGES 100000
#define MAX_OVERLAP_S 2592000L /* 30 days */

/* "tenant" for "tenants": the word for one object of the kind. */
static void singular(char *out, size_t outlen, const char *kind)
{
    size_t n = strlen(kind);
    if (n > 1 && kind[n - 1] == 's')
        n--;
    snprintf(out, outlen, "%.*s", (int)n, kind);
}

/* A decimal integer in [lo, hi], or -1. */
static long parse_int(const char *s, long lo, long hi)
{
    char *end;
    if (s == NULL || s[0] < '0' || s[0] > '9')
        return -1;
    long v = strtol(s, &end, 10);
    return *end == '\0' && v >= lo && v <= hi ? v : -1;
}

static int print_json(const cJSON *doc)
{
    asc_buf_t out;
    asc_buf_init(&out, 0);
    int rc = asc_cli_emit(doc != NULL ? asc_cli_json_pretty(&out, doc) : ASC_OK, &out);
    asc_buf_free(&out);
    return rc;
}

/* "<verb> <kind> <name>[ (revision N)]", then the once-shown secret. */
static int print_done(const asc_cli_ctx_t *ctx, const char *verb, const char *name,
                      const cJSON *doc)
{
    if (ctx->json)
        return print_json(doc);
    char one[32];
    singular(one, sizeof one, ctx->cmd);
    asc_buf_t out;
    asc_buf_init(&out, 0);
    asc_err_t e = asc_buf_printf(&out, "%s %s ", verb, one);
    if (e == ASC_OK)
        e = asc_cli_sanitize(&out, name, strlen(name));
    const cJSON *meta = cJSON_GetObjectItemCaseSensitive(doc, "meta");
    const cJSON *rev = cJSON_GetObjectItemCaseSensitive(meta, "revision");
    if (e == ASC_OK && cJSON_IsNumber(rev))
        e = asc_buf_printf(&out, " (revision %.0f)", rev->valuedouble);
    if (e == ASC_OK)
        e = asc_buf_putc(&out, '\n');
    const cJSON *secret = cJSON_GetObjectItemCaseSensitive(doc, "secret");
    if (e == ASC_OK && cJSON_IsString(secret)) {
        e = asc_buf_puts(&out, "secret: ");
        if (e == ASC_OK)
            e = asc_cli_sanitize(&out, secret->valuestring, strlen(secret->valuestring));
        if (e == ASC_OK)
            e = asc_buf_puts(&out, "\nThis secret is shown only once: store it now, it cannot "
                                   "be shown again.\n");
    }
    int rc = asc_cli_emit(e, &out);
    asc_buf_free(&out);
    return rc;
}

/* GET target, rendered as one object. */
static int show(const asc_cli_ctx_t *ctx, const char *target)
{
    asc_cli_req_t req = {"GET", target, NULL, 0, NULL, NULL};
    cJSON *doc = NULL;
    int rc = asc_cli_call(ctx, &req, &doc);
    if (rc == ASC_CLI_EXIT_OK) {
        if (ctx->json) {
            rc = print_json(doc);
        } else {
            asc_buf_t out;
            asc_buf_init(&out, 0);
            rc = asc_cli_emit(doc != NULL ? asc_cli_table_object(&out, doc, NULL) : ASC_OK, &out);
            asc_buf_free(&out);
        }
    }
    cJSON_Delete(doc);
    return rc;
}

static asc_err_t add_filter(const asc_cli_ctx_t *ctx, asc_buf_t *q, const char *key,
                            const char *value)
{
    return value != NULL ? asc_cli_http_query(ctx->http, q, key, value) : ASC_OK;
}

/* GET /admin/v1/<kind> with o's filters, following next_cursor with --all. */
static int list(const asc_cli_ctx_t *ctx, const char *kind, const asc_cli_opts_t *o)
{
    if (o->limit != NULL && parse_int(o->limit, 1, 500) < 0)
        return asc_cli_usage_error(ctx, "--limit is a number from 1 to 500");
    asc_buf_t base, target, out;
    asc_buf_init(&base, 0);
    asc_buf_init(&target, 0);
    asc_buf_init(&out, 0);
    cJSON *items = cJSON_CreateArray(), *page = NULL;
    char *cursor = o->cursor != NULL ? strdup(o->cursor) : NULL;
    int rc = ASC_CLI_EXIT_ERROR;
    asc_err_t e =
        items != NULL ? asc_cli_http_path(ctx->http, &base, kind, NULL, NULL) : ASC_ENOMEM;
    if (e == ASC_OK)
        e = add_filter(ctx, &base, "tenant", o->tenant);
    if (e == ASC_OK)
        e = add_filter(ctx, &base, "team", o->team);
    if (e == ASC_OK)
        e = add_filter(ctx, &base, "owner", o->owner);
    if (e == ASC_OK)
        e = add_filter(ctx, &base, "prefix", o->prefix);
    if (e == ASC_OK)
        e = add_filter(ctx, &base, "kind", o->kind);
    if (e == ASC_OK)
        e = add_filter(ctx, &base, "name", o->name);
    if (e == ASC_OK)
        e = add_filter(ctx, &base, "actor", o->actor);
    if (e == ASC_OK)
        e = add_filter(ctx, &base, "limit", o->limit);
    for (int n = 0; e == ASC_OK && n < MAX_PAGES; n++) {
        asc_buf_clear(&target);
        e = asc_buf_append(&target, base.data, base.len);
        if (e == ASC_OK)
            e = add_filter(ctx, &target, "cursor", cursor);
        if (e != ASC_OK)
            break;
        asc_cli_req_t req = {"GET", target.data, NULL, 0, NULL, NULL};
        cJSON_Delete(page);
        page = NULL;
        if (asc_cli_call(ctx, &req, &page) != ASC_CLI_EXIT_OK)
            goto out;
        cJSON *data = cJSON_GetObjectItemCaseSensitive(page, "data");
        const cJSON *next = cJSON_GetObjectItemCaseSensitive(page, "next_cursor");
        if (!cJSON_IsArray(data)) {
            fprintf(stderr, "asc: the answer to GET %s is not a list\n", target.data);
            goto out;
        }
        while (data->child != NULL)
            cJSON_AddItemToArray(items, cJSON_DetachItemViaPointer(data, data->child));
        int repeat =
            cursor != NULL && cJSON_IsString(next) && strcmp(cursor, next->valuestring) == 0;
        free(cursor);
        cursor =
            cJSON_IsString(next) && next->valuestring[0] != '\0' ? strdup(next->valuestring) : NULL;
        if (!o->all || cursor == NULL)
            break;
        if (repeat) {
            fprintf(stderr, "asc: the server repeated the same next_cursor; stopping\n");
            goto out;
        }
    }
    if (e != ASC_OK) {
        fprintf(stderr, "asc: %s\n", asc_err_name(e));
        goto out;
    }
    if (ctx->json) {
        /* One page: the server's answer as it is; --all: every page in one list. */
        if (o->all) {
            cJSON_Delete(page);
            page = cJSON_CreateObject();
            if (page == NULL || !cJSON_AddStringToObject(page, "object", "list") ||
                !cJSON_AddItemToObject(page, "data", items) ||
                !cJSON_AddNullToObject(page, "next_cursor")) {
                items = NULL;
                goto out;
            }
            items = NULL;
        } else {
            cJSON_ReplaceItemInObjectCaseSensitive(page, "data", items);
            items = NULL;
        }
        rc = print_json(page);
        goto out;
    }
    if (items->child == NULL) {
        fprintf(stderr, "no %s\n", kind);
        rc = ASC_CLI_EXIT_OK;
    } else {
        rc = asc_cli_emit(asc_cli_table_list(&out, kind, items), &out);
    }
    if (rc == ASC_CLI_EXIT_OK && cursor != NULL) {
        asc_buf_clear(&out);
        asc_cli_sanitize(&out, cursor, strlen(cursor));
        fprintf(stderr, "(more: add --all, or --cursor %s)\n", out.data);
    }
out:
    free(cursor);
    cJSON_Delete(items);
    cJSON_Delete(page);
    asc_buf_free(&base);
    asc_buf_free(&target);
    asc_buf_free(&out);
    return rc;
}

/* The body of create/update from -f, --json and --set; exit code. */
static int build_body(const asc_cli_ctx_t *ctx, const asc_cli_opts_t *o, cJSON **body)
{
    char err[512];
    asc_buf_t file;
    asc_buf_init(&file, 0);
    *body = NULL;
    if (o->file != NULL) {
        int rc = asc_cli_read_file(o->file, &file);
        if (rc != ASC_CLI_EXIT_OK) {
            asc_buf_free(&file);
            return rc;
        }
    }
    asc_err_t e = asc_cli_body_build(o->file != NULL ? file.data : NULL, o->json, o->sets, o->nsets,
                                     body, err, sizeof err);
    asc_buf_free(&file);
    if (e == ASC_EINVAL)
        return asc_cli_usage_error(ctx, "%s", err);
    if (e != ASC_OK) {
        fprintf(stderr, "asc: %s\n", asc_err_name(e));
        return ASC_CLI_EXIT_ERROR;
    }
    return ASC_CLI_EXIT_OK;
}

/* Send doc (NULL = "{}") with method to target; print "<verb> <kind> <name>". */
static int write_obj(const asc_cli_ctx_t *ctx, const char *method, const char *target,
                     const cJSON *doc, const char *ctype, const char *if_match, const char *verb,
                     const char *name)
{
    char *text = doc != NULL ? cJSON_PrintUnformatted(doc) : NULL;
    if (doc != NULL && text == NULL) {
        fprintf(stderr, "asc: out of memory\n");
        return ASC_CLI_EXIT_ERROR;
    }
    asc_cli_req_t req = {method, target, text, 0, ctype, if_match};
    if (strcmp(method, "DELETE") == 0) {
        req.body = NULL;
    } else if (text == NULL) {
        req.body = "{}";
    }
    req.body_len = req.body != NULL ? strlen(req.body) : 0;
    cJSON *resp = NULL;
    int rc = asc_cli_call(ctx, &req, &resp);
    if (rc == ASC_CLI_EXIT_OK)
        rc = print_done(ctx, verb, name, resp);
    cJSON_Delete(resp);
    cJSON_free(text);
    return rc;
}

static int create(const asc_cli_ctx_t *ctx, const asc_cli_opts_t *o, const char *target)
{
    cJSON *body = NULL, *doc = NULL;
    int rc = build_body(ctx, o, &body);
    if (rc != ASC_CLI_EXIT_OK)
        return rc;
    const cJSON *bn = cJSON_GetObjectItemCaseSensitive(body, "name");
    const char *name = o->npos > 0 ? o->pos[0] : cJSON_IsString(bn) ? bn->valuestring : NULL;
    if (name == NULL) {
        rc = asc_cli_usage_error(ctx, "create needs a NAME");
    } else if (bn != NULL && (!cJSON_IsString(bn) || strcmp(bn->valuestring, name) != 0)) {
        rc = asc_cli_usage_error(ctx, "NAME and the \"name\" in the body differ");
    } else {
        /* name first, for people reading the request in a log */
        doc = cJSON_CreateObject();
        if (doc == NULL || !cJSON_AddStringToObject(doc, "name", name) ||
            asc_cli_json_merge(doc, body) != ASC_OK) {
            fprintf(stderr, "asc: out of memory\n");
            rc = ASC_CLI_EXIT_ERROR;
        } else {
            rc = write_obj(ctx, "POST", target, doc, "application/json", NULL, "created", name);
        }
    }
    cJSON_Delete(doc);
    cJSON_Delete(body);
    return rc;
}

static int update(const asc_cli_ctx_t *ctx, const asc_cli_opts_t *o, const char *target)
{
    cJSON *body = NULL;
    int rc = build_body(ctx, o, &body);
    if (rc != ASC_CLI_EXIT_OK)
        return rc;
    if (body->child == NULL)
        rc = asc_cli_usage_error(ctx, "nothing to update: give --set, --json or -f");
    else
        rc = write_obj(ctx, "PATCH", target, body, "application/merge-patch+json", o->if_match,
                       "updated", o->pos[0]);
    cJSON_Delete(body);
    return rc;
}

static int rotate(const asc_cli_ctx_t *ctx, const asc_cli_opts_t *o, const char *target)
{
    long overlap = o->overlap != NULL ? parse_int(o->overlap, 0, MAX_OVERLAP_S) : 0;
    if (overlap < 0)
        return asc_cli_usage_error(ctx, "--overlap is a number of seconds from 0 to %ld",
                                   MAX_OVERLAP_S);
    cJSON *doc = cJSON_CreateObject();
    if (doc == NULL ||
        (o->overlap != NULL && !cJSON_AddNumberToObject(doc, "overlap_seconds", (double)overlap))) {
        cJSON_Delete(doc);
        fprintf(stderr, "asc: out of memory\n");
        return ASC_CLI_EXIT_ERROR;
    }
    int rc = write_obj(ctx, "POST", target, doc, "application/json", NULL, "rotated", o->pos[0]);
    cJSON_Delete(doc);
    return rc;
}

typedef struct {
    const char *name;
    unsigned allowed;
    size_t min_pos, max_pos;
    int name_in_path;   /* /admin/v1/<kind>/<name>, else the collection */
    const char *action; /* path suffix after the name */
} sub_t;

static const sub_t k_subs[] = {
    {"list",
     ASC_CLI_OPT_TENANT | ASC_CLI_OPT_TEAM | ASC_CLI_OPT_OWNER | ASC_CLI_OPT_PREFIX |
         ASC_CLI_OPT_LIMIT | ASC_CLI_OPT_CURSOR | ASC_CLI_OPT_ALL,
     0, 0, 0, NULL},
    {"get", 0, 1, 1, 1, NULL},
    {"create", ASC_CLI_OPT_SET | ASC_CLI_OPT_FILE | ASC_CLI_OPT_JSON, 0, 1, 0, NULL},
    {"update", ASC_CLI_OPT_SET | ASC_CLI_OPT_FILE | ASC_CLI_OPT_JSON | ASC_CLI_OPT_IF_MATCH, 1, 1,
     1, NULL},
    {"delete", ASC_CLI_OPT_IF_MATCH, 1, 1, 1, NULL},
    {"rotate", ASC_CLI_OPT_OVERLAP, 1, 1, 1, "rotate"},
    {"revoke", 0, 1, 1, 1, "revoke"},
};

int asc_cli_cmd_object(asc_cli_ctx_t *ctx, int argc, char **argv)
{
    if (argc == 0)
        return asc_cli_usage_error(ctx, "missing subcommand");
    const sub_t *s = NULL;
    for (size_t i = 0; i < sizeof k_subs / sizeof k_subs[0] && s == NULL; i++)
        if (strcmp(argv[0], k_subs[i].name) == 0)
            s = &k_subs[i];
    if (s == NULL || (s->action != NULL && strcmp(ctx->cmd, "keys") != 0))
        return asc_cli_usage_error(ctx, "unknown subcommand '%s'", argv[0]);
    asc_cli_opts_t o;
    asc_buf_t target;
    asc_buf_init(&target, 0);
    int rc = asc_cli_opts_parse(ctx, argc - 1, argv + 1, s->allowed, s->max_pos, &o);
    if (rc != 0)
        goto out;
    if (o.npos < s->min_pos) {
        rc = asc_cli_usage_error(ctx, "%s needs a NAME", s->name);
        goto out;
    }
    if (asc_cli_http_path(ctx->http, &target, ctx->cmd, s->name_in_path ? o.pos[0] : NULL,
                          s->action) != ASC_OK) {
        fprintf(stderr, "asc: the name is too long\n");
        rc = ASC_CLI_EXIT_ERROR;
        goto out;
    }
    if (strcmp(s->name, "list") == 0)
        rc = list(ctx, ctx->cmd, &o);
    else if (strcmp(s->name, "get") == 0)
        rc = show(ctx, target.data);
    else if (strcmp(s->name, "create") == 0)
        rc = create(ctx, &o, target.data);
    else if (strcmp(s->name, "update") == 0)
        rc = update(ctx, &o, target.data);
    else if (strcmp(s->name, "delete") == 0)
        rc = write_obj(ctx, "DELETE", target.data, NULL, NULL, o.if_match, "deleted", o.pos[0]);
    else if (strcmp(s->name, "rotate") == 0)
        rc = rotate(ctx, &o, target.data);
    else
        rc = write_obj(ctx, "POST", target.data, NULL, "application/json", NULL, "revoked",
                       o.pos[0]);
out:
    asc_cli_opts_free(&o);
    asc_buf_free(&target);
    return rc;
}

/* `asc revisions [list]` and `asc changes [list]`. */
static int log_list(asc_cli_ctx_t *ctx, int argc, char **argv, unsigned allowed)
{
    asc_cli_opts_t o;
    if (argc > 0 && strcmp(argv[0], "list") == 0)
        argc--, argv++;
    int rc = asc_cli_opts_parse(ctx, argc, argv, allowed, 0, &o);
    if (rc == 0)
        rc = list(ctx, ctx->cmd, &o);
    asc_cli_opts_free(&o);
    return rc;
}

int asc_cli_cmd_revisions(asc_cli_ctx_t *ctx, int argc, char **argv)
{
    return log_list(ctx, argc, argv, ASC_CLI_OPT_LIMIT | ASC_CLI_OPT_CURSOR | ASC_CLI_OPT_ALL);
}

int asc_cli_cmd_changes(asc_cli_ctx_t *ctx, int argc, char **argv)
{
    return log_list(ctx, argc, argv,
                    ASC_CLI_OPT_KIND | ASC_CLI_OPT_NAME | ASC_CLI_OPT_ACTOR | ASC_CLI_OPT_TENANT |
                        ASC_CLI_OPT_LIMIT | ASC_CLI_OPT_CURSOR | ASC_CLI_OPT_ALL);
}

int asc_cli_cmd_whoami(asc_cli_ctx_t *ctx, int argc, char **argv)
{
    asc_cli_opts_t o;
    int rc = asc_cli_opts_parse(ctx, argc, argv, 0, 0, &o);
    asc_cli_opts_free(&o);
    return rc != 0 ? rc : show(ctx, "/admin/v1/whoami");
}

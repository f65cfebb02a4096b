/*
 * `asc apply -f FILE` and `asc diff -f FILE`: the file goes to POST
 * /admin/v1/apply as it is (the server parses and validates it with the
 * config loader), `diff` with ?dry_run=1. The answer is rendered by
 * asc_cli_plan_render().
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "cli/cli.h"
#include "cli/internal.h"

/* JSON when the first non-blank character (after a UTF-8 BOM) is '{'. */
static const char *content_type(const char *text)
{
    const char *p = text;
    if (strncmp(p, "\xef\xbb\xbf", 3) == 0)
        p += 3;
    p += strspn(p, " \t\r\n");
    return *p == '{' ? "application/json" : "application/yaml";
}

int asc_cli_cmd_apply(asc_cli_ctx_t *ctx, int argc, char **argv)
{
    int dry_run = strcmp(ctx->cmd, "diff") == 0;
    asc_cli_opts_t o;
    asc_buf_t file, out;
    asc_buf_init(&file, 0);
    asc_buf_init(&out, 0);
    cJSON *resp = NULL;
    int rc = asc_cli_opts_parse(ctx, argc, argv, ASC_CLI_OPT_FILE, 0, &o);
    if (rc != 0)
        goto out;
    if (o.file == NULL) {
        rc = asc_cli_usage_error(ctx, "-f FILE is required");
        goto out;
    }
    rc = asc_cli_read_file(o.file, &file);
    if (rc != ASC_CLI_EXIT_OK)
        goto out;
    /* The file's objects are managed under its absolute path, as when
     * `asc serve --config` applies the same file. */
    char *abs = strcmp(o.file, "-") == 0 ? NULL : realpath(o.file, NULL);
    char *esc = curl_easy_escape(NULL, abs ? abs : o.file, 0);
    asc_buf_t target;
    asc_buf_init(&target, 0);
    asc_buf_printf(&target, "/admin/v1/apply?file=%s%s", esc ? esc : "stdin",
                   dry_run ? "&dry_run=1" : "");
    curl_free(esc);
    free(abs);
    asc_cli_req_t req = {"POST", target.data, file.data, file.len, content_type(file.data), NULL};
    rc = asc_cli_call(ctx, &req, &resp);
    asc_buf_free(&target);
    if (rc != ASC_CLI_EXIT_OK)
        goto out;
    size_t nchanges = 0;
    asc_err_t e = asc_cli_plan_render(&out, resp, dry_run, &nchanges);
    if (e == ASC_EINVAL) {
        fprintf(stderr, "asc: the answer of the admin API to %s is not a change list\n", ctx->cmd);
        rc = ASC_CLI_EXIT_ERROR;
        goto out;
    }
    if (ctx->json) {
        asc_buf_clear(&out);
        e = asc_cli_json_pretty(&out, resp);
    }
    rc = asc_cli_emit(e, &out);
    if (rc == ASC_CLI_EXIT_OK)
        rc = asc_cli_plan_exit(dry_run, nchanges);
out:
    asc_cli_opts_free(&o);
    asc_buf_free(&file);
    asc_buf_free(&out);
    cJSON_Delete(resp);
    return rc;
}

/*
 * `asc apply -f FILE` and `asc diff -f FILE`: the file is read as YAML (or
 * JSON), its ${VAR} references are expanded from the caller's environment,
 * and the tree goes to POST /admin/v1/apply?file=<absolute path> as JSON
 * (`diff` adds dry_run=1); the server validates it with the whole state.
 * The answer is rendered by asc_cli_plan_render().
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "cli/cli.h"
#include "config/config.h"
#include "config/yaml.h"
#include "cli/internal.h"

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
    /* ${VAR} is expanded here, from the caller's environment (the server
     * never expands what the API sends it); the result goes as JSON. */
    char perr[1024];
    cJSON *tree = asc_yaml_parse(file.data ? file.data : "", file.len, perr, sizeof perr);
    if (tree == NULL || asc_config_expand_env(tree, perr, sizeof perr) != ASC_OK) {
        fprintf(stderr, "asc: %s: %s\n", o.file, perr);
        cJSON_Delete(tree);
        asc_buf_free(&target);
        rc = ASC_CLI_EXIT_ERROR;
        goto out;
    }
    char *json = cJSON_PrintUnformatted(tree);
    cJSON_Delete(tree);
    asc_cli_req_t req = {"POST", target.data, json, json ? strlen(json) : 0, "application/json",
                         NULL};
    rc = asc_cli_call(ctx, &req, &resp);
    asc_buf_free(&target);
    free(json);
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

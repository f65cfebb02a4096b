/*
 * What `asc apply` and `asc diff` print: the change plan that POST
 * /admin/v1/apply answers, one line per object that changes.
 */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/internal.h"

static const char *str_or(const cJSON *obj, const char *key, const char *dflt)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    return cJSON_IsString(v) ? v->valuestring : dflt;
}

static asc_err_t put_clean(asc_buf_t *out, const char *s)
{
    return asc_cli_sanitize(out, s, strlen(s));
}

/* One change line: "<sign> <kind> <name>[ (fields)][ (drift: ...)]". */
static asc_err_t change_line(asc_buf_t *out, const cJSON *c, const char *action)
{
    const char *sign = "?";
    if (strcmp(action, "create") == 0)
        sign = "+";
    else if (strcmp(action, "update") == 0)
        sign = "~";
    else if (strcmp(action, "delete") == 0)
        sign = "-";
    asc_err_t e = asc_buf_printf(out, "%s ", sign);
    if (e == ASC_OK)
        e = put_clean(out, str_or(c, "kind", "?"));
    if (e == ASC_OK)
        e = asc_buf_putc(out, ' ');
    if (e == ASC_OK)
        e = put_clean(out, str_or(c, "name", "?"));
    if (e == ASC_OK && strcmp(sign, "?") == 0) {
        /* An action this client does not know: say which. */
        e = asc_buf_puts(out, " (");
        if (e == ASC_OK)
            e = put_clean(out, action);
        if (e == ASC_OK)
            e = asc_buf_putc(out, ')');
    }
    const cJSON *fields = cJSON_GetObjectItemCaseSensitive(c, "fields");
    if (e == ASC_OK && cJSON_IsArray(fields) && fields->child != NULL) {
        e = asc_buf_puts(out, " (");
        for (const cJSON *f = fields->child; f != NULL && e == ASC_OK; f = f->next) {
            if (f != fields->child)
                e = asc_buf_puts(out, ", ");
            if (e == ASC_OK)
                e = put_clean(out, cJSON_IsString(f) ? f->valuestring : "?");
        }
        if (e == ASC_OK)
            e = asc_buf_putc(out, ')');
    }
    if (e == ASC_OK && cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(c, "drift")))
        e = asc_buf_puts(out, " (drift: edited outside the file)");
    if (e == ASC_OK)
        e = asc_buf_putc(out, '\n');
    return e;
}

asc_err_t asc_cli_plan_render(asc_buf_t *out, const cJSON *resp, int dry_run, size_t *nchanges)
{
    *nchanges = 0;
    const cJSON *changes = cJSON_GetObjectItemCaseSensitive(resp, "changes");
    if (!cJSON_IsObject(resp) || !cJSON_IsArray(changes))
        return ASC_EINVAL;
    asc_err_t e = ASC_OK;
    for (const cJSON *c = changes->child; c != NULL && e == ASC_OK; c = c->next) {
        const char *action = str_or(c, "action", "?");
        if (strcmp(action, "unchanged") == 0)
            continue;
        e = change_line(out, c, action);
        (*nchanges)++;
    }
    if (e != ASC_OK)
        return e;
    const cJSON *rev = cJSON_GetObjectItemCaseSensitive(resp, "revision");
    if (*nchanges == 0)
        return asc_buf_puts(out, "no changes\n");
    if (dry_run)
        return asc_buf_printf(out, "%zu change%s (dry run, nothing applied)\n", *nchanges,
                              *nchanges == 1 ? "" : "s");
    if (cJSON_IsNumber(rev))
        return asc_buf_printf(out, "revision %.0f\n", rev->valuedouble);
    return asc_buf_printf(out, "%zu change%s\n", *nchanges, *nchanges == 1 ? "" : "s");
}

int asc_cli_plan_exit(int dry_run, size_t nchanges)
{
    return dry_run && nchanges > 0 ? ASC_CLI_EXIT_CHANGES : ASC_CLI_EXIT_OK;
}

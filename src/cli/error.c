/*
 * The line printed when the admin API refuses a request: the server's
 * {"error":{"code","message"}} as "asc: <code>: <message>". The message may
 * quote a value a user wrote, so it is sanitized like table cells.
 */
#include <string.h>

#include "cli/internal.h"

static asc_err_t put_clean(asc_buf_t *out, const char *s)
{
    return asc_cli_sanitize(out, s, strlen(s));
}

asc_err_t asc_cli_error_text(asc_buf_t *out, long status, const char *body, size_t len,
                             const char *url)
{
    cJSON *doc = body != NULL && len > 0 ? cJSON_ParseWithLength(body, len) : NULL;
    const cJSON *err = cJSON_GetObjectItemCaseSensitive(doc, "error");
    const cJSON *code = cJSON_GetObjectItemCaseSensitive(err, "code");
    const cJSON *msg = cJSON_GetObjectItemCaseSensitive(err, "message");
    asc_err_t e;
    if (cJSON_IsString(code) || cJSON_IsString(msg)) {
        e = asc_buf_puts(out, "asc: ");
        if (e == ASC_OK)
            e = put_clean(out, cJSON_IsString(code) ? code->valuestring : "error");
        if (e == ASC_OK && cJSON_IsString(msg)) {
            e = asc_buf_puts(out, ": ");
            if (e == ASC_OK)
                e = put_clean(out, msg->valuestring);
        }
    } else {
        e = asc_buf_printf(out, "asc: HTTP %ld from ", status);
        if (e == ASC_OK)
            e = put_clean(out, url);
    }
    cJSON_Delete(doc);
    return e;
}

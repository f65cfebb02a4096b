#include "core/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static asc_log_level_t g_level = ASC_LOG_INFO;

void asc_log_set_level(asc_log_level_t lvl)
{
    g_level = lvl;
}

void asc_log(asc_log_level_t lvl, const char *fmt, ...)
{
    static const char *names[] = {"debug", "info", "warning", "error"};
    if (lvl < g_level)
        return;
    char line[2048];
    int n = snprintf(line, sizeof line, "asc: %s: ", names[lvl]);
    va_list ap;
    va_start(ap, fmt);
    int m = vsnprintf(line + n, sizeof line - (size_t)n - 1, fmt, ap);
    va_end(ap);
    size_t len = (size_t)n + (m < 0 ? 0 : (size_t)m);
    if (len > sizeof line - 2)
        len = sizeof line - 2;
    /* Control characters never reach the operator's terminal or log file. */
    for (size_t i = (size_t)n; i < len; i++)
        if ((unsigned char)line[i] < 0x20 || line[i] == 0x7f)
            line[i] = '?';
    line[len++] = '\n';
    fwrite(line, 1, len, stderr);
    fflush(stderr);
}

void asc_log_key_hint(const char *secret, size_t len, char out[8])
{
    size_t k = len < 4 ? len : 4;
    memcpy(out, "...", 3);
    memcpy(out + 3, secret + len - k, k);
    out[3 + k] = '\0';
}

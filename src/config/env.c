/* ${VAR} expansion over a cJSON tree (see asc_config_expand_env). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "config/internal.h"
#include "core/buf.h"

/* JSON from the admin API may nest deeper than YAML's 64 (cJSON allows
 * 1000); the walk recurses, so it stops here. */
#define MAX_DEPTH 128
/* An expanded string is bounded like a config file. */
#define MAX_EXPANDED (1024 * 1024)

typedef struct {
    char path[512];
    size_t pathlen;
    char *err;
    size_t errlen;
} walk_t;

static asc_err_t fail(walk_t *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static asc_err_t fail(walk_t *w, const char *fmt, ...)
{
    if (w->errlen == 0)
        return ASC_EINVAL;
    int n = snprintf(w->err, w->errlen, "%s: ", w->pathlen ? w->path : "(root)");
    if (n < 0 || (size_t)n >= w->errlen)
        return ASC_EINVAL;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(w->err + n, w->errlen - (size_t)n, fmt, ap);
    va_end(ap);
    return ASC_EINVAL;
}

static asc_err_t oom(walk_t *w)
{
    if (w->errlen)
        snprintf(w->err, w->errlen, "out of memory");
    return ASC_ENOMEM;
}

/* Expand s into b. */
static asc_err_t expand(walk_t *w, const char *s, asc_buf_t *b)
{
    char q[ASC_CONFIG_QUOTE_MAX + 16];
    asc_err_t e = ASC_OK;

    for (size_t i = 0; s[i] != '\0' && e == ASC_OK;) {
        if (s[i] != '$' || (s[i + 1] != '$' && s[i + 1] != '{')) {
            size_t j = i + 1;
            while (s[j] != '\0' && s[j] != '$')
                j++;
            e = asc_buf_append(b, s + i, j - i);
            i = j;
            continue;
        }
        if (s[i + 1] == '$') {
            e = asc_buf_putc(b, '$');
            i += 2;
            continue;
        }
        const char *name = s + i + 2;
        const char *close = strchr(name, '}');
        if (close == NULL) {
            asc_config_quote(q, sizeof q, s + i);
            return fail(w, "unterminated ${ in %s", q);
        }
        size_t nlen = 0;
        while (name + nlen < close && name[nlen] != ':')
            nlen++;
        const char *def = NULL;
        size_t deflen = 0;
        if (name + nlen < close) {
            if (name[nlen + 1] != '-') {
                char expr[ASC_CONFIG_QUOTE_MAX + 1];
                snprintf(expr, sizeof expr, "%.*s", (int)(close - (s + i) + 1), s + i);
                asc_config_quote(q, sizeof q, expr);
                return fail(w, "invalid expression %s (expected ${VAR} or ${VAR:-default})", q);
            }
            def = name + nlen + 2;
            deflen = (size_t)(close - def);
        }
        if (!asc_config_env_name_ok(name, nlen)) {
            char expr[ASC_CONFIG_QUOTE_MAX + 1];
            snprintf(expr, sizeof expr, "%.*s", (int)(close - (s + i) + 1), s + i);
            asc_config_quote(q, sizeof q, expr);
            return fail(w, "invalid variable name in %s (expected [A-Za-z_][A-Za-z0-9_]*)", q);
        }
        char var[256];
        if (nlen >= sizeof var)
            return fail(w, "variable name longer than %zu characters", sizeof var - 1);
        memcpy(var, name, nlen);
        var[nlen] = '\0';
        const char *val = getenv(var);
        if (def != NULL) {
            if (val == NULL || val[0] == '\0')
                e = asc_buf_append(b, def, deflen);
            else
                e = asc_buf_puts(b, val);
        } else if (val == NULL) {
            return fail(w, "environment variable %s is not set (use ${%s:-default} for a fallback)",
                        var, var);
        } else {
            e = asc_buf_puts(b, val);
        }
        i = (size_t)(close - s) + 1;
    }
    if (e == ASC_ETOOBIG)
        return fail(w, "expanded value is larger than %d bytes", MAX_EXPANDED);
    if (e != ASC_OK)
        return oom(w);
    return ASC_OK;
}

static asc_err_t walk(walk_t *w, cJSON *node, int depth)
{
    if (depth > MAX_DEPTH)
        return fail(w, "nesting deeper than %d levels", MAX_DEPTH);
    if (cJSON_IsString(node) && node->valuestring != NULL) {
        if (strchr(node->valuestring, '$') == NULL)
            return ASC_OK;
        asc_buf_t b;
        asc_buf_init(&b, MAX_EXPANDED);
        asc_err_t e = expand(w, node->valuestring, &b);
        if (e == ASC_OK && cJSON_SetValuestring(node, b.data ? b.data : "") == NULL)
            e = oom(w);
        asc_buf_free(&b);
        return e;
    }
    if (!cJSON_IsArray(node) && !cJSON_IsObject(node))
        return ASC_OK;
    size_t saved = w->pathlen;
    size_t i = 0;
    cJSON *child;
    cJSON_ArrayForEach(child, node)
    {
        /* Only the new segment is formatted, then appended, so that each
         * level of recursion costs a small frame. */
        char seg[4 * ASC_CONFIG_QUOTE_MAX + 32];
        if (cJSON_IsObject(node))
            asc_config_path_key(seg, sizeof seg, "", child->string ? child->string : "");
        else
            asc_config_path_index(seg, sizeof seg, "", i);
        snprintf(w->path + saved, sizeof w->path - saved, "%s%s", saved && seg[0] != '[' ? "." : "",
                 seg);
        w->pathlen = strlen(w->path);
        asc_err_t e = walk(w, child, depth + 1);
        w->path[saved] = '\0';
        w->pathlen = saved;
        if (e != ASC_OK)
            return e;
        i++;
    }
    return ASC_OK;
}

/* See config.h. Recursion is bounded by MAX_DEPTH. */
asc_err_t asc_config_expand_env(cJSON *root, char *err, size_t errlen)
{
    walk_t w;
    w.path[0] = '\0';
    w.pathlen = 0;
    w.err = err;
    w.errlen = errlen;
    if (errlen)
        err[0] = '\0';
    if (root == NULL)
        return ASC_OK;
    return walk(&w, root, 0);
}

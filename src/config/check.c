/* The validator's field checks (see check.h). */
#include "config/check.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "config/internal.h"
#include "core/clock.h"

asc_err_t asc_cv_fail(asc_cv_t *v, const char *path, const char *fmt, ...)
{
    if (v->errlen == 0)
        return ASC_EINVAL;
    int n = snprintf(v->err, v->errlen, "%s: ", path[0] ? path : "(root)");
    if (n < 0 || (size_t)n >= v->errlen)
        return ASC_EINVAL;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(v->err + n, v->errlen - (size_t)n, fmt, ap);
    va_end(ap);
    return ASC_EINVAL;
}

asc_err_t asc_cv_oom(asc_cv_t *v)
{
    if (v->errlen)
        snprintf(v->err, v->errlen, "out of memory");
    return ASC_ENOMEM;
}

/* strdup that reports failure through v. */
asc_err_t asc_cv_dup(asc_cv_t *v, const char *s, char **out)
{
    *out = strdup(s);
    return *out == NULL ? asc_cv_oom(v) : ASC_OK;
}

/* ---- generic field checks ---- */

/* Levenshtein distance, capped: only used to suggest a near key name. */
size_t asc_cv_edit_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    size_t row[40];
    if (la >= 32 || lb >= 32)
        return (size_t)-1;
    for (size_t j = 0; j <= lb; j++)
        row[j] = j;
    for (size_t i = 1; i <= la; i++) {
        size_t diag = row[0];
        row[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t up = row[j];
            size_t best = diag + (a[i - 1] != b[j - 1]);
            if (up + 1 < best)
                best = up + 1;
            if (row[j - 1] + 1 < best)
                best = row[j - 1] + 1;
            row[j] = best;
            diag = up;
        }
    }
    return row[lb];
}

/* The candidate within edit distance 2 of s, or NULL. */
const char *asc_cv_suggest(const char *s, const char *const *cands, size_t n)
{
    const char *best = NULL;
    size_t bestd = 3;
    for (size_t i = 0; i < n; i++) {
        size_t d = asc_cv_edit_distance(s, cands[i]);
        if (d < bestd) {
            bestd = d;
            best = cands[i];
        }
    }
    return best;
}

void asc_cv_join(char *out, size_t outlen, const char *const *items, size_t n)
{
    size_t o = 0;
    out[0] = '\0';
    for (size_t i = 0; i < n && o < outlen; i++) {
        int w = snprintf(out + o, outlen - o, "%s%s", i ? ", " : "", items[i]);
        if (w < 0)
            break;
        o += (size_t)w;
    }
}

/* Refuse members of obj that are not in allowed[], and repeated members
 * (possible in JSON from the API, not in YAML). */
asc_err_t asc_cv_check_keys(asc_cv_t *v, const cJSON *obj, const char *path,
                            const char *const *allowed, size_t n)
{
    unsigned long seen = 0;
    const cJSON *ch;
    char p[PATH_MAX_LEN];

    cJSON_ArrayForEach(ch, obj)
    {
        const char *k = ch->string ? ch->string : "";
        size_t i;
        for (i = 0; i < n; i++)
            if (strcmp(k, allowed[i]) == 0)
                break;
        asc_config_path_key(p, sizeof p, path, k);
        if (i == n) {
            const char *s = asc_cv_suggest(k, allowed, n);
            char list[512];
            if (s != NULL)
                return asc_cv_fail(v, p, "unknown key (did you mean \"%s\"?)", s);
            asc_cv_join(list, sizeof list, allowed, n);
            return asc_cv_fail(v, p, "unknown key (expected one of: %s)", list);
        }
        if (seen & (1UL << i))
            return asc_cv_fail(v, p, "duplicate key");
        seen |= 1UL << i;
    }
    return ASC_OK;
}

/* Member `field` of obj, or NULL when absent or null (null = "not set"). */
const cJSON *asc_cv_member(const cJSON *obj, const char *field)
{
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(obj, field);
    return cJSON_IsNull(m) ? NULL : m;
}

int asc_cv_is_printable(const char *s, int allow_space)
{
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch < 0x20 || ch == 0x7f || (!allow_space && ch == ' '))
            return 0;
    }
    return 1;
}

/* Optional string member: *out borrowed, NULL when absent. Non-empty and
 * free of control characters. */
asc_err_t asc_cv_opt_str(asc_cv_t *v, const cJSON *obj, const char *path, const char *field,
                         const char **out)
{
    const cJSON *m = asc_cv_member(obj, field);
    char p[PATH_MAX_LEN];

    *out = NULL;
    if (m == NULL)
        return ASC_OK;
    asc_config_path_key(p, sizeof p, path, field);
    if (!cJSON_IsString(m) || m->valuestring == NULL) {
        if (cJSON_IsNumber(m) || cJSON_IsBool(m))
            return asc_cv_fail(v, p, "must be a string (quote the value)");
        return asc_cv_fail(v, p, "must be a string");
    }
    if (m->valuestring[0] == '\0')
        return asc_cv_fail(v, p, "must not be empty");
    if (!asc_cv_is_printable(m->valuestring, 1))
        return asc_cv_fail(v, p, "must not contain control characters");
    *out = m->valuestring;
    return ASC_OK;
}

asc_err_t asc_cv_req_str(asc_cv_t *v, const cJSON *obj, const char *path, const char *field,
                         const char **out)
{
    asc_err_t e = asc_cv_opt_str(v, obj, path, field, out);
    if (e == ASC_OK && *out == NULL) {
        char p[PATH_MAX_LEN];
        asc_config_path_key(p, sizeof p, path, field);
        return asc_cv_fail(v, p, "required");
    }
    return e;
}

/* Optional integer member in [min, max]; *out untouched when absent. A
 * string of decimal digits is accepted too, because ${VAR} expansion
 * always produces strings. */
asc_err_t asc_cv_opt_uint(asc_cv_t *v, const cJSON *obj, const char *path, const char *field,
                          uint64_t min, uint64_t max, uint64_t *out)
{
    const cJSON *m = asc_cv_member(obj, field);
    char p[PATH_MAX_LEN];
    uint64_t val = 0;

    if (m == NULL)
        return ASC_OK;
    if (cJSON_IsNumber(m)) {
        double d = m->valuedouble;
        if (!isfinite(d) || d != floor(d) || d < (double)min || d > (double)max)
            goto bad;
        val = (uint64_t)d;
    } else if (cJSON_IsString(m) && m->valuestring != NULL) {
        const char *s = m->valuestring;
        size_t n = strlen(s);
        if (n == 0 || n > 19)
            goto bad;
        for (size_t i = 0; i < n; i++) {
            if (s[i] < '0' || s[i] > '9')
                goto bad;
            val = val * 10 + (uint64_t)(s[i] - '0');
        }
    } else {
        goto bad;
    }
    if (val < min || val > max)
        goto bad;
    *out = val;
    return ASC_OK;
bad:
    asc_config_path_key(p, sizeof p, path, field);
    return asc_cv_fail(v, p, "must be an integer between %llu and %llu", (unsigned long long)min,
                       (unsigned long long)max);
}

/* Optional boolean member ("true"/"false" strings accepted for ${VAR}). */
asc_err_t asc_cv_opt_bool(asc_cv_t *v, const cJSON *obj, const char *path, const char *field,
                          int *out)
{
    const cJSON *m = asc_cv_member(obj, field);
    char p[PATH_MAX_LEN];

    if (m == NULL)
        return ASC_OK;
    if (cJSON_IsBool(m)) {
        *out = cJSON_IsTrue(m) ? 1 : 0;
        return ASC_OK;
    }
    if (cJSON_IsString(m) && m->valuestring != NULL) {
        if (strcmp(m->valuestring, "true") == 0) {
            *out = 1;
            return ASC_OK;
        }
        if (strcmp(m->valuestring, "false") == 0) {
            *out = 0;
            return ASC_OK;
        }
    }
    asc_config_path_key(p, sizeof p, path, field);
    return asc_cv_fail(v, p, "must be true or false");
}

asc_err_t asc_cv_opt_num(asc_cv_t *v, const cJSON *obj, const char *path, const char *field,
                         double min, double max, double *out)
{
    const cJSON *m = asc_cv_member(obj, field);
    double d;
    if (m == NULL)
        return ASC_OK;
    if (cJSON_IsNumber(m)) {
        d = m->valuedouble;
    } else if (cJSON_IsString(m) && m->valuestring != NULL && m->valuestring[0] != '\0' &&
               strlen(m->valuestring) < 32) {
        char *end = NULL;
        d = strtod(m->valuestring, &end);
        if (end == NULL || *end != '\0')
            goto bad;
    } else {
        goto bad;
    }
    if (!isfinite(d) || d < min || d > max)
        goto bad;
    *out = d;
    return ASC_OK;
bad:;
    char p[PATH_MAX_LEN];
    asc_config_path_key(p, sizeof p, path, field);
    return asc_cv_fail(v, p, "must be a number between %g and %g", min, max);
}

/* Names sorted for uniqueness checks and lookups, so that neither is
 * quadratic in the size of a big config. */
static int named_cmp(const void *a, const void *b)
{
    const asc_cv_named_t *x = a, *y = b;
    int c = strcmp(x->name, y->name);
    if (c != 0)
        return c;
    return x->index < y->index ? -1 : x->index > y->index;
}

/* Sort names and return the index of the second occurrence of the first
 * repeated name (in input order), or (size_t)-1 with *first unset. */
size_t asc_cv_find_duplicate(asc_cv_named_t *names, size_t n, size_t *first)
{
    size_t dupi = (size_t)-1;
    qsort(names, n, sizeof *names, named_cmp);
    for (size_t i = 1; i < n; i++) {
        if (strcmp(names[i - 1].name, names[i].name) == 0 && names[i].index < dupi) {
            dupi = names[i].index;
            /* the earliest occurrence of this name sorts first in its run */
            size_t j = i - 1;
            while (j > 0 && strcmp(names[j - 1].name, names[i].name) == 0)
                j--;
            *first = names[j].index;
        }
    }
    return dupi;
}

asc_err_t asc_cv_opt_time(asc_cv_t *v, const cJSON *obj, const char *path, const char *field,
                          int64_t *out)
{
    const cJSON *m = asc_cv_member(obj, field);
    char p[PATH_MAX_LEN];
    if (m == NULL)
        return ASC_OK;
    asc_config_path_key(p, sizeof p, path, field);
    if (!cJSON_IsString(m) || m->valuestring == NULL ||
        asc_clock_parse_rfc3339(m->valuestring, out) != 0)
        return asc_cv_fail(v, p, "must be an RFC 3339 time such as 2027-01-31T00:00:00Z");
    return ASC_OK;
}

asc_err_t asc_cv_opt_strv(asc_cv_t *v, const cJSON *obj, const char *path, const char *field,
                          size_t max, size_t maxlen, char ***out, size_t *n)
{
    const cJSON *m = asc_cv_member(obj, field);
    char fp[PATH_MAX_LEN];
    *out = NULL;
    *n = 0;
    if (m == NULL)
        return ASC_OK;
    asc_config_path_key(fp, sizeof fp, path, field);
    if (!cJSON_IsArray(m) || cJSON_GetArraySize(m) == 0 || (size_t)cJSON_GetArraySize(m) > max)
        return asc_cv_fail(v, fp, "must be a sequence of 1 to %zu names", max);
    size_t cnt = (size_t)cJSON_GetArraySize(m);
    *out = calloc(cnt, sizeof **out);
    if (*out == NULL)
        return asc_cv_oom(v);
    const cJSON *el;
    cJSON_ArrayForEach(el, m)
    {
        char ep[PATH_MAX_LEN];
        asc_config_path_index(ep, sizeof ep, fp, *n);
        if (!cJSON_IsString(el) || el->valuestring == NULL || el->valuestring[0] == '\0' ||
            strlen(el->valuestring) > maxlen || !asc_cv_is_printable(el->valuestring, 0))
            return asc_cv_fail(v, ep, "must be 1 to %zu printable characters without spaces",
                               maxlen);
        asc_err_t e = asc_cv_dup(v, el->valuestring, &(*out)[*n]);
        if (e != ASC_OK)
            return e;
        (*n)++;
    }
    return ASC_OK;
}

int asc_config_name_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 64)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char ch = s[i];
        int alnum =
            (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9');
        if (!alnum && (i == 0 || (ch != '_' && ch != '.' && ch != '-')))
            return 0;
    }
    return 1;
}

static asc_err_t name_field(asc_cv_t *v, const cJSON *obj, const char *path, const char *field,
                            int required, char **out)
{
    const char *s = NULL;
    char fp[PATH_MAX_LEN];
    char q[ASC_CONFIG_QUOTE_MAX + 16];
    asc_err_t e = required ? asc_cv_req_str(v, obj, path, field, &s)
                           : asc_cv_opt_str(v, obj, path, field, &s);
    *out = NULL;
    if (e != ASC_OK || s == NULL)
        return e;
    if (!asc_config_name_ok(s)) {
        asc_config_path_key(fp, sizeof fp, path, field);
        asc_config_quote(q, sizeof q, s);
        return asc_cv_fail(v, fp,
                           "invalid name %s (1-64 characters of A-Z, a-z, 0-9, '_', '.' and '-', "
                           "starting with a letter or digit)",
                           q);
    }
    return asc_cv_dup(v, s, out);
}

asc_err_t asc_cv_req_name(asc_cv_t *v, const cJSON *obj, const char *path, const char *field,
                          char **out)
{
    return name_field(v, obj, path, field, 1, out);
}

asc_err_t asc_cv_opt_name(asc_cv_t *v, const cJSON *obj, const char *path, const char *field,
                          char **out)
{
    return name_field(v, obj, path, field, 0, out);
}

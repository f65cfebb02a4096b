/*
 * The config validator: cJSON tree -> asc_config_t. Every rule is checked
 * here and nowhere else, so the YAML file and the admin API agree; the
 * first violation is reported with the path of the offending node.
 * docs/config.md is the user-facing version of this file.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "config/internal.h"

#define PATH_MAX_LEN 512
#define TIMEOUT_MAX 86400000ULL

typedef struct {
    char *err;
    size_t errlen;
} vctx_t;

static asc_err_t fail(vctx_t *v, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static asc_err_t fail(vctx_t *v, const char *path, const char *fmt, ...)
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

static asc_err_t oom(vctx_t *v)
{
    if (v->errlen)
        snprintf(v->err, v->errlen, "out of memory");
    return ASC_ENOMEM;
}

/* strdup that reports failure through v. */
static asc_err_t dup(vctx_t *v, const char *s, char **out)
{
    *out = strdup(s);
    return *out == NULL ? oom(v) : ASC_OK;
}

/* ---- generic field checks ---- */

/* Levenshtein distance, capped: only used to suggest a near key name. */
static size_t edit_distance(const char *a, const char *b)
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
static const char *suggest(const char *s, const char *const *cands, size_t n)
{
    const char *best = NULL;
    size_t bestd = 3;
    for (size_t i = 0; i < n; i++) {
        size_t d = edit_distance(s, cands[i]);
        if (d < bestd) {
            bestd = d;
            best = cands[i];
        }
    }
    return best;
}

static void join(char *out, size_t outlen, const char *const *items, size_t n)
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
static asc_err_t check_keys(vctx_t *v, const cJSON *obj, const char *path,
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
            const char *s = suggest(k, allowed, n);
            char list[512];
            if (s != NULL)
                return fail(v, p, "unknown key (did you mean \"%s\"?)", s);
            join(list, sizeof list, allowed, n);
            return fail(v, p, "unknown key (expected one of: %s)", list);
        }
        if (seen & (1UL << i))
            return fail(v, p, "duplicate key");
        seen |= 1UL << i;
    }
    return ASC_OK;
}

/* Member `field` of obj, or NULL when absent or null (null = "not set"). */
static const cJSON *member(const cJSON *obj, const char *field)
{
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(obj, field);
    return cJSON_IsNull(m) ? NULL : m;
}

static int is_printable(const char *s, int allow_space)
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
static asc_err_t opt_str(vctx_t *v, const cJSON *obj, const char *path, const char *field,
                         const char **out)
{
    const cJSON *m = member(obj, field);
    char p[PATH_MAX_LEN];

    *out = NULL;
    if (m == NULL)
        return ASC_OK;
    asc_config_path_key(p, sizeof p, path, field);
    if (!cJSON_IsString(m) || m->valuestring == NULL) {
        if (cJSON_IsNumber(m) || cJSON_IsBool(m))
            return fail(v, p, "must be a string (quote the value)");
        return fail(v, p, "must be a string");
    }
    if (m->valuestring[0] == '\0')
        return fail(v, p, "must not be empty");
    if (!is_printable(m->valuestring, 1))
        return fail(v, p, "must not contain control characters");
    *out = m->valuestring;
    return ASC_OK;
}

static asc_err_t req_str(vctx_t *v, const cJSON *obj, const char *path, const char *field,
                         const char **out)
{
    asc_err_t e = opt_str(v, obj, path, field, out);
    if (e == ASC_OK && *out == NULL) {
        char p[PATH_MAX_LEN];
        asc_config_path_key(p, sizeof p, path, field);
        return fail(v, p, "required");
    }
    return e;
}

/* Optional integer member in [min, max]; *out untouched when absent. A
 * string of decimal digits is accepted too, because ${VAR} expansion
 * always produces strings. */
static asc_err_t opt_uint(vctx_t *v, const cJSON *obj, const char *path, const char *field,
                          uint64_t min, uint64_t max, uint64_t *out)
{
    const cJSON *m = member(obj, field);
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
    return fail(v, p, "must be an integer between %llu and %llu", (unsigned long long)min,
                (unsigned long long)max);
}

/* Optional boolean member ("true"/"false" strings accepted for ${VAR}). */
static asc_err_t opt_bool(vctx_t *v, const cJSON *obj, const char *path, const char *field,
                          int *out)
{
    const cJSON *m = member(obj, field);
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
    return fail(v, p, "must be true or false");
}

/* ---- server ---- */

static const char *const server_keys[] = {
    "listen",      "workers",           "max_connections", "max_body_bytes",  "max_header_bytes",
    "max_headers", "header_timeout_ms", "body_timeout_ms", "idle_timeout_ms", "shutdown_timeout_ms",
    "access_log",  "data_dir",
};

static asc_err_t validate_server(vctx_t *v, const cJSON *s, asc_config_server_t *out)
{
    const char *path = "server";
    const char *str;
    uint64_t u;
    asc_err_t e;

    out->workers = 0;
    out->max_connections = 10000;
    out->max_body_bytes = 33554432;
    out->max_header_bytes = 65536;
    out->max_headers = 100;
    out->header_timeout_ms = 10000;
    out->body_timeout_ms = 30000;
    out->idle_timeout_ms = 60000;
    out->shutdown_timeout_ms = 10000;
    if (s == NULL || cJSON_IsNull(s)) {
        e = dup(v, "127.0.0.1:8080", &out->listen);
        if (e == ASC_OK)
            e = dup(v, "stdout", &out->access_log);
        return e;
    }
    if (!cJSON_IsObject(s))
        return fail(v, path, "must be a mapping");
    e = check_keys(v, s, path, server_keys, sizeof server_keys / sizeof server_keys[0]);
    if (e != ASC_OK)
        return e;

    e = opt_str(v, s, path, "listen", &str);
    if (e != ASC_OK)
        return e;
    if (str != NULL && !asc_config_listen_ok(str))
        return fail(v, "server.listen",
                    "must be host:port with an IPv4 address, [IPv6 address] or localhost, and a "
                    "port 0-65535");
    e = dup(v, str ? str : "127.0.0.1:8080", &out->listen);
    if (e != ASC_OK)
        return e;

    u = out->workers;
    e = opt_uint(v, s, path, "workers", 0, 1024, &u);
    if (e != ASC_OK)
        return e;
    out->workers = (unsigned)u;
    u = out->max_connections;
    e = opt_uint(v, s, path, "max_connections", 1, 1000000, &u);
    if (e != ASC_OK)
        return e;
    out->max_connections = (unsigned)u;
    e = opt_uint(v, s, path, "max_body_bytes", 1024, 1073741824, &out->max_body_bytes);
    if (e == ASC_OK)
        e = opt_uint(v, s, path, "max_header_bytes", 1024, 1048576, &out->max_header_bytes);
    if (e != ASC_OK)
        return e;
    u = out->max_headers;
    e = opt_uint(v, s, path, "max_headers", 1, 10000, &u);
    if (e != ASC_OK)
        return e;
    out->max_headers = (unsigned)u;
    e = opt_uint(v, s, path, "header_timeout_ms", 1, TIMEOUT_MAX, &out->header_timeout_ms);
    if (e == ASC_OK)
        e = opt_uint(v, s, path, "body_timeout_ms", 1, TIMEOUT_MAX, &out->body_timeout_ms);
    if (e == ASC_OK)
        e = opt_uint(v, s, path, "idle_timeout_ms", 1, TIMEOUT_MAX, &out->idle_timeout_ms);
    if (e == ASC_OK)
        e = opt_uint(v, s, path, "shutdown_timeout_ms", 1, TIMEOUT_MAX, &out->shutdown_timeout_ms);
    if (e != ASC_OK)
        return e;

    e = opt_str(v, s, path, "access_log", &str);
    if (e == ASC_OK)
        e = dup(v, str ? str : "stdout", &out->access_log);
    if (e != ASC_OK)
        return e;
    e = opt_str(v, s, path, "data_dir", &str);
    if (e == ASC_OK && str != NULL)
        e = dup(v, str, &out->data_dir);
    return e;
}

/* ---- providers ---- */

static const char *const provider_keys[] = {
    "name",
    "kind",
    "base_url",
    "api_key",
    "optional",
    "ca_file",
    "proxy",
    "region",
    "connect_timeout_ms",
    "first_byte_timeout_ms",
    "idle_timeout_ms",
    "total_timeout_ms",
};

static const char *const kinds[] = {"openai", "openai-compatible", "anthropic", "mistral", "mock"};

/* The official API roots, used when a provider of that kind names no
 * base_url (DESIGN.md: the root as the provider's SDK takes it). */
static const char *default_base_url(const char *kind)
{
    if (strcmp(kind, "openai") == 0)
        return "https://api.openai.com/v1";
    if (strcmp(kind, "anthropic") == 0)
        return "https://api.anthropic.com";
    if (strcmp(kind, "mistral") == 0)
        return "https://api.mistral.ai";
    return NULL;
}

static int provider_name_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 63)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char ch = s[i];
        int ok = (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
                 (i > 0 && (ch == '_' || ch == '-'));
        if (!ok)
            return 0;
    }
    return 1;
}

static int is_env_ref(const char *s)
{
    return strncmp(s, "env:", 4) == 0 && asc_config_env_name_ok(s + 4, strlen(s + 4));
}

static asc_err_t validate_provider(vctx_t *v, const cJSON *o, const char *path,
                                   asc_config_provider_t *p)
{
    char fp[PATH_MAX_LEN];
    char q[ASC_CONFIG_QUOTE_MAX + 16];
    const char *str;
    asc_err_t e;

    p->connect_timeout_ms = 10000;
    p->first_byte_timeout_ms = 60000;
    p->idle_timeout_ms = 60000;
    p->total_timeout_ms = 600000;
    if (!cJSON_IsObject(o))
        return fail(v, path, "must be a mapping with at least name and kind");
    e = check_keys(v, o, path, provider_keys, sizeof provider_keys / sizeof provider_keys[0]);
    if (e != ASC_OK)
        return e;

    e = req_str(v, o, path, "name", &str);
    if (e != ASC_OK)
        return e;
    if (!provider_name_ok(str)) {
        asc_config_path_key(fp, sizeof fp, path, "name");
        asc_config_quote(q, sizeof q, str);
        return fail(
            v, fp,
            "invalid provider name %s (1-63 characters of a-z, 0-9, '_' and '-', starting with a "
            "letter or digit)",
            q);
    }
    e = dup(v, str, &p->name);
    if (e != ASC_OK)
        return e;

    e = req_str(v, o, path, "kind", &str);
    if (e != ASC_OK)
        return e;
    {
        size_t i, nk = sizeof kinds / sizeof kinds[0];
        for (i = 0; i < nk; i++)
            if (strcmp(str, kinds[i]) == 0)
                break;
        if (i == nk) {
            char list[256];
            join(list, sizeof list, kinds, nk);
            asc_config_path_key(fp, sizeof fp, path, "kind");
            asc_config_quote(q, sizeof q, str);
            return fail(v, fp, "unknown kind %s (expected one of: %s)", q, list);
        }
    }
    e = dup(v, str, &p->kind);
    if (e != ASC_OK)
        return e;
    int mock = strcmp(p->kind, "mock") == 0;

    asc_config_path_key(fp, sizeof fp, path, "base_url");
    e = opt_str(v, o, path, "base_url", &str);
    if (e != ASC_OK)
        return e;
    if (str == NULL)
        str = default_base_url(p->kind);
    if (str != NULL) {
        size_t keep;
        const char *why = asc_config_url_check(str, &keep);
        if (why != NULL)
            return fail(v, fp, "%s", why);
        p->base_url = strndup(str, keep);
        if (p->base_url == NULL)
            return oom(v);
    } else if (!mock) {
        return fail(v, fp, "required for kind \"%s\"", p->kind);
    }

    asc_config_path_key(fp, sizeof fp, path, "api_key");
    e = opt_str(v, o, path, "api_key", &str);
    if (e != ASC_OK)
        return e;
    if (str != NULL) {
        /* The value may be a pasted secret: never echo it. */
        if (mock)
            return fail(v, fp, "not allowed for kind mock");
        if (strncmp(str, "env:", 4) == 0) {
            if (!is_env_ref(str))
                return fail(v, fp,
                            "env: must be followed by a variable name ([A-Za-z_][A-Za-z0-9_]*)");
        } else if (strncmp(str, "file:", 5) == 0) {
            if (str[5] != '/' || str[6] == '\0')
                return fail(v, fp, "file: must be followed by an absolute path");
        } else {
            return fail(v, fp,
                        "plaintext keys are not allowed in config; use env:VAR or file:/path");
        }
        e = dup(v, str, &p->api_key_ref);
        if (e != ASC_OK)
            return e;
    }

    e = opt_bool(v, o, path, "optional", &p->optional);
    if (e != ASC_OK)
        return e;
    if (p->optional && (p->api_key_ref == NULL || strncmp(p->api_key_ref, "env:", 4) != 0)) {
        asc_config_path_key(fp, sizeof fp, path, "optional");
        return fail(v, fp, "only allowed with an env: api_key");
    }

    static const char *const strs[] = {"ca_file", "proxy", "region"};
    char **dst[] = {&p->ca_file, &p->proxy, &p->region};
    for (size_t i = 0; i < 3; i++) {
        e = opt_str(v, o, path, strs[i], &str);
        if (e == ASC_OK && str != NULL)
            e = dup(v, str, dst[i]);
        if (e != ASC_OK)
            return e;
    }

    e = opt_uint(v, o, path, "connect_timeout_ms", 1, TIMEOUT_MAX, &p->connect_timeout_ms);
    if (e == ASC_OK)
        e = opt_uint(v, o, path, "first_byte_timeout_ms", 1, TIMEOUT_MAX,
                     &p->first_byte_timeout_ms);
    if (e == ASC_OK)
        e = opt_uint(v, o, path, "idle_timeout_ms", 1, TIMEOUT_MAX, &p->idle_timeout_ms);
    if (e == ASC_OK)
        e = opt_uint(v, o, path, "total_timeout_ms", 1, TIMEOUT_MAX, &p->total_timeout_ms);
    return e;
}

/* Names sorted for uniqueness checks and lookups, so that neither is
 * quadratic in the size of a big config. */
typedef struct {
    const char *name;
    size_t index;
} named_t;

static int named_cmp(const void *a, const void *b)
{
    const named_t *x = a, *y = b;
    int c = strcmp(x->name, y->name);
    if (c != 0)
        return c;
    return x->index < y->index ? -1 : x->index > y->index;
}

/* Sort names and return the index of the second occurrence of the first
 * repeated name (in input order), or (size_t)-1 with *first unset. */
static size_t find_duplicate(named_t *names, size_t n, size_t *first)
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

static asc_err_t validate_providers(vctx_t *v, const cJSON *arr, asc_config_t *c, named_t **sorted)
{
    const cJSON *el;
    size_t n, i = 0;
    char path[PATH_MAX_LEN];

    *sorted = NULL;
    if (arr == NULL || cJSON_IsNull(arr))
        return ASC_OK;
    if (!cJSON_IsArray(arr))
        return fail(v, "providers", "must be a sequence of mappings (- name: ...)");
    n = (size_t)cJSON_GetArraySize(arr);
    if (n == 0)
        return ASC_OK;
    c->providers = calloc(n, sizeof *c->providers);
    *sorted = calloc(n, sizeof **sorted);
    if (c->providers == NULL || *sorted == NULL)
        return oom(v);
    cJSON_ArrayForEach(el, arr)
    {
        asc_config_path_index(path, sizeof path, "providers", i);
        c->nproviders++;
        asc_err_t e = validate_provider(v, el, path, &c->providers[i]);
        if (e != ASC_OK)
            return e;
        (*sorted)[i].name = c->providers[i].name;
        (*sorted)[i].index = i;
        i++;
    }
    size_t first = 0;
    size_t d = find_duplicate(*sorted, n, &first);
    if (d != (size_t)-1) {
        char q[ASC_CONFIG_QUOTE_MAX + 16];
        snprintf(path, sizeof path, "providers[%zu].name", d);
        asc_config_quote(q, sizeof q, c->providers[d].name);
        return fail(v, path, "duplicate provider name %s (also providers[%zu])", q, first);
    }
    return ASC_OK;
}

/* ---- models ---- */

static const char *const model_keys[] = {"provider", "model", "type"};

static asc_err_t validate_model(vctx_t *v, const cJSON *o, const named_t *provs,
                                const asc_config_t *c, asc_config_model_t *m)
{
    char path[PATH_MAX_LEN], fp[PATH_MAX_LEN];
    char q[ASC_CONFIG_QUOTE_MAX + 16];
    const char *name = o->string ? o->string : "";
    const char *str;
    size_t n = strlen(name);
    asc_err_t e;

    asc_config_path_key(path, sizeof path, "models", name);
    int name_ok = n > 0 && n <= 256;
    for (size_t i = 0; i < n && name_ok; i++)
        name_ok = (unsigned char)name[i] > 0x20 && (unsigned char)name[i] < 0x7f;
    if (!name_ok)
        return fail(v, path,
                    "invalid model name: must be 1-256 printable ASCII characters without spaces");
    if (strchr(name, '/') != NULL)
        return fail(v, path,
                    "invalid model name: '/' is reserved for <provider>/<model> addressing");
    if (!cJSON_IsObject(o))
        return fail(v, path, "must be a mapping with at least provider");
    e = check_keys(v, o, path, model_keys, sizeof model_keys / sizeof model_keys[0]);
    if (e != ASC_OK)
        return e;
    e = dup(v, name, &m->name);
    if (e != ASC_OK)
        return e;

    e = req_str(v, o, path, "provider", &str);
    if (e != ASC_OK)
        return e;
    const named_t *hit = NULL;
    if (c->nproviders > 0) {
        /* binary search (lower bound) in the sorted provider names */
        size_t lo = 0, hi = c->nproviders;
        while (lo < hi) {
            size_t mid = lo + (hi - lo) / 2;
            if (strcmp(provs[mid].name, str) < 0)
                lo = mid + 1;
            else
                hi = mid;
        }
        if (lo < c->nproviders && strcmp(provs[lo].name, str) == 0)
            hit = &provs[lo];
    }
    if (hit == NULL) {
        asc_config_path_key(fp, sizeof fp, path, "provider");
        asc_config_quote(q, sizeof q, str);
        const char *best = NULL;
        size_t bestd = 3;
        for (size_t i = 0; i < c->nproviders && i < 1000; i++) {
            size_t d = edit_distance(str, c->providers[i].name);
            if (d < bestd) {
                bestd = d;
                best = c->providers[i].name;
            }
        }
        if (best != NULL)
            return fail(v, fp, "unknown provider %s (did you mean \"%s\"?)", q, best);
        return fail(v, fp, "unknown provider %s", q);
    }
    e = dup(v, str, &m->provider);
    if (e != ASC_OK)
        return e;

    e = opt_str(v, o, path, "model", &str);
    if (e != ASC_OK)
        return e;
    if (str != NULL && strlen(str) > 1024) {
        asc_config_path_key(fp, sizeof fp, path, "model");
        return fail(v, fp, "longer than 1024 characters");
    }
    e = dup(v, str ? str : name, &m->model);
    if (e != ASC_OK)
        return e;

    e = opt_str(v, o, path, "type", &str);
    if (e != ASC_OK)
        return e;
    if (str != NULL && strcmp(str, "chat") != 0 && strcmp(str, "embedding") != 0) {
        asc_config_path_key(fp, sizeof fp, path, "type");
        asc_config_quote(q, sizeof q, str);
        return fail(v, fp, "unknown type %s (expected chat or embedding)", q);
    }
    return dup(v, str ? str : "chat", &m->type);
}

static asc_err_t validate_models(vctx_t *v, const cJSON *obj, const named_t *provs, asc_config_t *c)
{
    const cJSON *el;
    size_t n, i = 0;
    named_t *names = NULL;
    asc_err_t e = ASC_OK;

    if (obj == NULL || cJSON_IsNull(obj))
        return ASC_OK;
    if (cJSON_IsArray(obj))
        return fail(v, "models",
                    "must be a mapping of public model name to {provider, model, type}, "
                    "not a sequence");
    if (!cJSON_IsObject(obj))
        return fail(v, "models",
                    "must be a mapping of public model name to {provider, model, type}");
    n = (size_t)cJSON_GetArraySize(obj);
    if (n == 0)
        return ASC_OK;
    c->models = calloc(n, sizeof *c->models);
    names = calloc(n, sizeof *names);
    if (c->models == NULL || names == NULL) {
        e = oom(v);
        goto out;
    }
    cJSON_ArrayForEach(el, obj)
    {
        c->nmodels++;
        e = validate_model(v, el, provs, c, &c->models[i]);
        if (e != ASC_OK)
            goto out;
        names[i].name = c->models[i].name;
        names[i].index = i;
        i++;
    }
    size_t first = 0;
    size_t d = find_duplicate(names, n, &first);
    if (d != (size_t)-1) {
        char path[PATH_MAX_LEN];
        asc_config_path_key(path, sizeof path, "models", c->models[d].name);
        e = fail(v, path, "duplicate model name");
    }
out:
    free(names);
    return e;
}

/* ---- keys ---- */

static const char *const key_keys[] = {"name", "key", "generate", "models"};

static int key_name_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 64)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char ch = s[i];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
              ch == '_' || ch == '.' || ch == '-'))
            return 0;
    }
    return 1;
}

static int sha256_ref_ok(const char *s)
{
    if (strncmp(s, "sha256:", 7) != 0 || strlen(s + 7) != 64)
        return 0;
    for (const char *p = s + 7; *p; p++)
        if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
            return 0;
    return 1;
}

static asc_err_t validate_key(vctx_t *v, const cJSON *o, const char *path, asc_config_key_t *k)
{
    char fp[PATH_MAX_LEN];
    char q[ASC_CONFIG_QUOTE_MAX + 16];
    const char *str;
    asc_err_t e;

    if (!cJSON_IsObject(o))
        return fail(v, path, "must be a mapping with at least name and key");
    e = check_keys(v, o, path, key_keys, sizeof key_keys / sizeof key_keys[0]);
    if (e != ASC_OK)
        return e;

    e = req_str(v, o, path, "name", &str);
    if (e != ASC_OK)
        return e;
    if (!key_name_ok(str)) {
        asc_config_path_key(fp, sizeof fp, path, "name");
        asc_config_quote(q, sizeof q, str);
        return fail(v, fp,
                    "invalid key name %s (1-64 characters of A-Z, a-z, 0-9, '_', '.' and '-')", q);
    }
    e = dup(v, str, &k->name);
    if (e != ASC_OK)
        return e;

    e = req_str(v, o, path, "key", &str);
    if (e != ASC_OK)
        return e;
    asc_config_path_key(fp, sizeof fp, path, "key");
    /* Never echo the value: it may be a pasted secret. */
    if (strncmp(str, "sha256:", 7) == 0) {
        if (!sha256_ref_ok(str))
            return fail(v, fp, "sha256: must be followed by 64 lowercase hex digits");
    } else if (strncmp(str, "env:", 4) == 0) {
        if (!is_env_ref(str))
            return fail(v, fp, "env: must be followed by a variable name ([A-Za-z_][A-Za-z0-9_]*)");
    } else {
        return fail(v, fp, "plaintext keys are not allowed in config; use sha256:<hex> or env:VAR");
    }
    e = dup(v, str, &k->key_ref);
    if (e != ASC_OK)
        return e;

    e = opt_bool(v, o, path, "generate", &k->generate);
    if (e != ASC_OK)
        return e;
    if (k->generate && strncmp(k->key_ref, "env:", 4) != 0) {
        asc_config_path_key(fp, sizeof fp, path, "generate");
        return fail(v, fp, "only allowed with an env: key");
    }

    const cJSON *ms = member(o, "models");
    asc_config_path_key(fp, sizeof fp, path, "models");
    if (ms == NULL) {
        k->models = calloc(1, sizeof *k->models);
        if (k->models == NULL)
            return oom(v);
        e = dup(v, "*", &k->models[0]);
        if (e == ASC_OK)
            k->nmodels = 1;
        return e;
    }
    if (!cJSON_IsArray(ms))
        return fail(v, fp, "must be a sequence of model name patterns");
    size_t n = (size_t)cJSON_GetArraySize(ms), i = 0;
    if (n == 0)
        return ASC_OK;
    k->models = calloc(n, sizeof *k->models);
    if (k->models == NULL)
        return oom(v);
    const cJSON *el;
    cJSON_ArrayForEach(el, ms)
    {
        char ep[PATH_MAX_LEN];
        asc_config_path_index(ep, sizeof ep, fp, i);
        if (!cJSON_IsString(el) || el->valuestring == NULL || el->valuestring[0] == '\0')
            return fail(v, ep, "must be a non-empty string");
        if (strlen(el->valuestring) > 512 || !is_printable(el->valuestring, 0))
            return fail(v, ep, "must be at most 512 printable characters without spaces");
        e = dup(v, el->valuestring, &k->models[i]);
        if (e != ASC_OK)
            return e;
        k->nmodels = ++i;
    }
    return ASC_OK;
}

static asc_err_t validate_keys(vctx_t *v, const cJSON *arr, asc_config_t *c)
{
    const cJSON *el;
    size_t n, i = 0;
    named_t *names = NULL;
    char path[PATH_MAX_LEN];
    asc_err_t e = ASC_OK;

    if (arr == NULL || cJSON_IsNull(arr))
        return ASC_OK;
    if (!cJSON_IsArray(arr))
        return fail(v, "keys", "must be a sequence of mappings (- name: ...)");
    n = (size_t)cJSON_GetArraySize(arr);
    if (n == 0)
        return ASC_OK;
    c->keys = calloc(n, sizeof *c->keys);
    names = calloc(n, sizeof *names);
    if (c->keys == NULL || names == NULL) {
        e = oom(v);
        goto out;
    }
    cJSON_ArrayForEach(el, arr)
    {
        asc_config_path_index(path, sizeof path, "keys", i);
        c->nkeys++;
        e = validate_key(v, el, path, &c->keys[i]);
        if (e != ASC_OK)
            goto out;
        names[i].name = c->keys[i].name;
        names[i].index = i;
        i++;
    }
    size_t first = 0;
    size_t d = find_duplicate(names, n, &first);
    if (d != (size_t)-1) {
        char q[ASC_CONFIG_QUOTE_MAX + 16];
        snprintf(path, sizeof path, "keys[%zu].name", d);
        asc_config_quote(q, sizeof q, c->keys[d].name);
        e = fail(v, path, "duplicate key name %s (also keys[%zu])", q, first);
    }
out:
    free(names);
    return e;
}

/* ---- top level ---- */

static const char *const top_keys[] = {"server", "providers", "models", "keys"};

/* See config.h. Sections are validated in dependency order: providers
 * before the models that name them. */
asc_err_t asc_config_from_json(const cJSON *root, asc_config_t **out, char *err, size_t errlen)
{
    vctx_t v = {err, errlen};
    named_t *provs = NULL;
    asc_config_t *c = NULL;
    asc_err_t e;

    *out = NULL;
    if (errlen)
        err[0] = '\0';
    if (!cJSON_IsObject(root)) {
        e = fail(&v, "",
                 "the config must be a mapping with the sections server, providers, models, keys");
        goto out;
    }
    e = check_keys(&v, root, "", top_keys, sizeof top_keys / sizeof top_keys[0]);
    if (e != ASC_OK)
        goto out;
    c = calloc(1, sizeof *c);
    if (c == NULL) {
        e = oom(&v);
        goto out;
    }
    e = validate_server(&v, cJSON_GetObjectItemCaseSensitive(root, "server"), &c->server);
    if (e != ASC_OK)
        goto out;
    e = validate_providers(&v, cJSON_GetObjectItemCaseSensitive(root, "providers"), c, &provs);
    if (e != ASC_OK)
        goto out;
    e = validate_models(&v, cJSON_GetObjectItemCaseSensitive(root, "models"), provs, c);
    if (e != ASC_OK)
        goto out;
    e = validate_keys(&v, cJSON_GetObjectItemCaseSensitive(root, "keys"), c);
out:
    free(provs);
    if (e != ASC_OK) {
        asc_config_free(c);
        c = NULL;
    }
    *out = c;
    return e;
}

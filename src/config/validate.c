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

#include "config/check.h"
#include "config/config.h"
#include "config/internal.h"

/* ---- server ---- */

static const char *const server_keys[] = {
    "listen",      "workers",           "max_connections", "max_body_bytes",  "max_header_bytes",
    "max_headers", "header_timeout_ms", "body_timeout_ms", "idle_timeout_ms", "shutdown_timeout_ms",
    "access_log",  "data_dir",
};

static asc_err_t validate_server(asc_cv_t *v, const cJSON *s, asc_config_server_t *out)
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
        e = asc_cv_dup(v, "127.0.0.1:8080", &out->listen);
        if (e == ASC_OK)
            e = asc_cv_dup(v, "stdout", &out->access_log);
        return e;
    }
    if (!cJSON_IsObject(s))
        return asc_cv_fail(v, path, "must be a mapping");
    e = asc_cv_check_keys(v, s, path, server_keys, sizeof server_keys / sizeof server_keys[0]);
    if (e != ASC_OK)
        return e;

    e = asc_cv_opt_str(v, s, path, "listen", &str);
    if (e != ASC_OK)
        return e;
    if (str != NULL && !asc_config_listen_ok(str))
        return asc_cv_fail(
            v, "server.listen",
            "must be host:port with an IPv4 address, [IPv6 address] or localhost, and a "
            "port 0-65535");
    e = asc_cv_dup(v, str ? str : "127.0.0.1:8080", &out->listen);
    if (e != ASC_OK)
        return e;

    u = out->workers;
    e = asc_cv_opt_uint(v, s, path, "workers", 0, 1024, &u);
    if (e != ASC_OK)
        return e;
    out->workers = (unsigned)u;
    u = out->max_connections;
    e = asc_cv_opt_uint(v, s, path, "max_connections", 1, 1000000, &u);
    if (e != ASC_OK)
        return e;
    out->max_connections = (unsigned)u;
    e = asc_cv_opt_uint(v, s, path, "max_body_bytes", 1024, 1073741824, &out->max_body_bytes);
    if (e == ASC_OK)
        e = asc_cv_opt_uint(v, s, path, "max_header_bytes", 1024, 1048576, &out->max_header_bytes);
    if (e != ASC_OK)
        return e;
    u = out->max_headers;
    e = asc_cv_opt_uint(v, s, path, "max_headers", 1, 10000, &u);
    if (e != ASC_OK)
        return e;
    out->max_headers = (unsigned)u;
    e = asc_cv_opt_uint(v, s, path, "header_timeout_ms", 1, TIMEOUT_MAX, &out->header_timeout_ms);
    if (e == ASC_OK)
        e = asc_cv_opt_uint(v, s, path, "body_timeout_ms", 1, TIMEOUT_MAX, &out->body_timeout_ms);
    if (e == ASC_OK)
        e = asc_cv_opt_uint(v, s, path, "idle_timeout_ms", 1, TIMEOUT_MAX, &out->idle_timeout_ms);
    if (e == ASC_OK)
        e = asc_cv_opt_uint(v, s, path, "shutdown_timeout_ms", 1, TIMEOUT_MAX,
                            &out->shutdown_timeout_ms);
    if (e != ASC_OK)
        return e;

    e = asc_cv_opt_str(v, s, path, "access_log", &str);
    if (e == ASC_OK)
        e = asc_cv_dup(v, str ? str : "stdout", &out->access_log);
    if (e != ASC_OK)
        return e;
    e = asc_cv_opt_str(v, s, path, "data_dir", &str);
    if (e == ASC_OK && str != NULL)
        e = asc_cv_dup(v, str, &out->data_dir);
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

static asc_err_t validate_provider(asc_cv_t *v, const cJSON *o, const char *path,
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
        return asc_cv_fail(v, path, "must be a mapping with at least name and kind");
    e = asc_cv_check_keys(v, o, path, provider_keys,
                          sizeof provider_keys / sizeof provider_keys[0]);
    if (e != ASC_OK)
        return e;

    e = asc_cv_req_str(v, o, path, "name", &str);
    if (e != ASC_OK)
        return e;
    if (!provider_name_ok(str)) {
        asc_config_path_key(fp, sizeof fp, path, "name");
        asc_config_quote(q, sizeof q, str);
        return asc_cv_fail(
            v, fp,
            "invalid provider name %s (1-63 characters of a-z, 0-9, '_' and '-', starting with a "
            "letter or digit)",
            q);
    }
    e = asc_cv_dup(v, str, &p->name);
    if (e != ASC_OK)
        return e;

    e = asc_cv_req_str(v, o, path, "kind", &str);
    if (e != ASC_OK)
        return e;
    {
        size_t i, nk = sizeof kinds / sizeof kinds[0];
        for (i = 0; i < nk; i++)
            if (strcmp(str, kinds[i]) == 0)
                break;
        if (i == nk) {
            char list[256];
            asc_cv_join(list, sizeof list, kinds, nk);
            asc_config_path_key(fp, sizeof fp, path, "kind");
            asc_config_quote(q, sizeof q, str);
            return asc_cv_fail(v, fp, "unknown kind %s (expected one of: %s)", q, list);
        }
    }
    e = asc_cv_dup(v, str, &p->kind);
    if (e != ASC_OK)
        return e;
    int mock = strcmp(p->kind, "mock") == 0;

    asc_config_path_key(fp, sizeof fp, path, "base_url");
    e = asc_cv_opt_str(v, o, path, "base_url", &str);
    if (e != ASC_OK)
        return e;
    if (str == NULL)
        str = default_base_url(p->kind);
    if (str != NULL) {
        size_t keep;
        const char *why = asc_config_url_check(str, &keep);
        if (why != NULL)
            return asc_cv_fail(v, fp, "%s", why);
        p->base_url = strndup(str, keep);
        if (p->base_url == NULL)
            return asc_cv_oom(v);
    } else if (!mock) {
        return asc_cv_fail(v, fp, "required for kind \"%s\"", p->kind);
    }

    asc_config_path_key(fp, sizeof fp, path, "api_key");
    e = asc_cv_opt_str(v, o, path, "api_key", &str);
    if (e != ASC_OK)
        return e;
    if (str != NULL) {
        /* The value may be a pasted secret: never echo it. */
        if (mock)
            return asc_cv_fail(v, fp, "not allowed for kind mock");
        if (strncmp(str, "env:", 4) == 0) {
            if (!is_env_ref(str))
                return asc_cv_fail(
                    v, fp, "env: must be followed by a variable name ([A-Za-z_][A-Za-z0-9_]*)");
        } else if (strncmp(str, "file:", 5) == 0) {
            if (str[5] != '/' || str[6] == '\0')
                return asc_cv_fail(v, fp, "file: must be followed by an absolute path");
        } else {
            return asc_cv_fail(
                v, fp, "plaintext keys are not allowed in config; use env:VAR or file:/path");
        }
        e = asc_cv_dup(v, str, &p->api_key_ref);
        if (e != ASC_OK)
            return e;
    }

    e = asc_cv_opt_bool(v, o, path, "optional", &p->optional);
    if (e != ASC_OK)
        return e;
    if (p->optional && (p->api_key_ref == NULL || strncmp(p->api_key_ref, "env:", 4) != 0)) {
        asc_config_path_key(fp, sizeof fp, path, "optional");
        return asc_cv_fail(v, fp, "only allowed with an env: api_key");
    }

    static const char *const strs[] = {"ca_file", "proxy", "region"};
    char **dst[] = {&p->ca_file, &p->proxy, &p->region};
    for (size_t i = 0; i < 3; i++) {
        e = asc_cv_opt_str(v, o, path, strs[i], &str);
        if (e == ASC_OK && str != NULL)
            e = asc_cv_dup(v, str, dst[i]);
        if (e != ASC_OK)
            return e;
    }

    e = asc_cv_opt_uint(v, o, path, "connect_timeout_ms", 1, TIMEOUT_MAX, &p->connect_timeout_ms);
    if (e == ASC_OK)
        e = asc_cv_opt_uint(v, o, path, "first_byte_timeout_ms", 1, TIMEOUT_MAX,
                            &p->first_byte_timeout_ms);
    if (e == ASC_OK)
        e = asc_cv_opt_uint(v, o, path, "idle_timeout_ms", 1, TIMEOUT_MAX, &p->idle_timeout_ms);
    if (e == ASC_OK)
        e = asc_cv_opt_uint(v, o, path, "total_timeout_ms", 1, TIMEOUT_MAX, &p->total_timeout_ms);
    return e;
}

static asc_err_t validate_providers(asc_cv_t *v, const cJSON *arr, asc_config_t *c,
                                    asc_cv_named_t **sorted)
{
    const cJSON *el;
    size_t n, i = 0;
    char path[PATH_MAX_LEN];

    *sorted = NULL;
    if (arr == NULL || cJSON_IsNull(arr))
        return ASC_OK;
    if (!cJSON_IsArray(arr))
        return asc_cv_fail(v, "providers", "must be a sequence of mappings (- name: ...)");
    n = (size_t)cJSON_GetArraySize(arr);
    if (n == 0)
        return ASC_OK;
    c->providers = calloc(n, sizeof *c->providers);
    *sorted = calloc(n, sizeof **sorted);
    if (c->providers == NULL || *sorted == NULL)
        return asc_cv_oom(v);
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
    size_t d = asc_cv_find_duplicate(*sorted, n, &first);
    if (d != (size_t)-1) {
        char q[ASC_CONFIG_QUOTE_MAX + 16];
        snprintf(path, sizeof path, "providers[%zu].name", d);
        asc_config_quote(q, sizeof q, c->providers[d].name);
        return asc_cv_fail(v, path, "duplicate provider name %s (also providers[%zu])", q, first);
    }
    return ASC_OK;
}

/* ---- keys ---- */

static const char *const key_keys[] = {"name",         "key",
                                       "generate",     "models",
                                       "regions",      "tenant",
                                       "team",         "owner",
                                       "description",  "expires_at",
                                       "revoked",      "limits",
                                       "previous_key", "previous_expires_at",
                                       "hint"};

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

/* regions: the target regions this key's requests may be served in
 * (residency); absent = anywhere. */
static asc_err_t key_regions(asc_cv_t *v, const cJSON *o, const char *path, asc_config_key_t *k)
{
    char fp[PATH_MAX_LEN];
    const cJSON *rs = asc_cv_member(o, "regions");
    if (rs == NULL)
        return ASC_OK;
    asc_config_path_key(fp, sizeof fp, path, "regions");
    if (!cJSON_IsArray(rs) || cJSON_GetArraySize(rs) == 0 || cJSON_GetArraySize(rs) > 64)
        return asc_cv_fail(v, fp, "must be a sequence of 1 to 64 region names");
    size_t n = (size_t)cJSON_GetArraySize(rs), i = 0;
    k->regions = calloc(n, sizeof *k->regions);
    if (k->regions == NULL)
        return asc_cv_oom(v);
    const cJSON *el;
    cJSON_ArrayForEach(el, rs)
    {
        char ep[PATH_MAX_LEN];
        asc_config_path_index(ep, sizeof ep, fp, i);
        if (!cJSON_IsString(el) || el->valuestring == NULL || el->valuestring[0] == '\0' ||
            strlen(el->valuestring) > 64 || !asc_cv_is_printable(el->valuestring, 0))
            return asc_cv_fail(v, ep, "must be a region name of at most 64 printable characters");
        asc_err_t e = asc_cv_dup(v, el->valuestring, &k->regions[i]);
        if (e != ASC_OK)
            return e;
        k->nregions = ++i;
    }
    return ASC_OK;
}

static asc_err_t validate_key(asc_cv_t *v, const cJSON *o, const char *path, asc_config_key_t *k)
{
    char fp[PATH_MAX_LEN];
    char q[ASC_CONFIG_QUOTE_MAX + 16];
    const char *str;
    asc_err_t e;

    if (!cJSON_IsObject(o))
        return asc_cv_fail(v, path, "must be a mapping with at least name and key");
    e = asc_cv_check_keys(v, o, path, key_keys, sizeof key_keys / sizeof key_keys[0]);
    if (e != ASC_OK)
        return e;

    e = asc_cv_req_str(v, o, path, "name", &str);
    if (e != ASC_OK)
        return e;
    if (!key_name_ok(str)) {
        asc_config_path_key(fp, sizeof fp, path, "name");
        asc_config_quote(q, sizeof q, str);
        return asc_cv_fail(
            v, fp, "invalid key name %s (1-64 characters of A-Z, a-z, 0-9, '_', '.' and '-')", q);
    }
    e = asc_cv_dup(v, str, &k->name);
    if (e != ASC_OK)
        return e;

    e = asc_cv_req_str(v, o, path, "key", &str);
    if (e != ASC_OK)
        return e;
    asc_config_path_key(fp, sizeof fp, path, "key");
    /* Never echo the value: it may be a pasted secret. */
    if (strncmp(str, "sha256:", 7) == 0) {
        if (!sha256_ref_ok(str))
            return asc_cv_fail(v, fp, "sha256: must be followed by 64 lowercase hex digits");
    } else if (strncmp(str, "env:", 4) == 0) {
        if (!is_env_ref(str))
            return asc_cv_fail(v, fp,
                               "env: must be followed by a variable name ([A-Za-z_][A-Za-z0-9_]*)");
    } else {
        return asc_cv_fail(v, fp,
                           "plaintext keys are not allowed in config; use sha256:<hex> or env:VAR");
    }
    e = asc_cv_dup(v, str, &k->key_ref);
    if (e != ASC_OK)
        return e;

    e = asc_cv_opt_bool(v, o, path, "generate", &k->generate);
    if (e != ASC_OK)
        return e;
    if (k->generate && strncmp(k->key_ref, "env:", 4) != 0) {
        asc_config_path_key(fp, sizeof fp, path, "generate");
        return asc_cv_fail(v, fp, "only allowed with an env: key");
    }

    e = key_regions(v, o, path, k);
    if (e != ASC_OK)
        return e;

    e = asc_cv_opt_strv(v, o, path, "models", 1024, 512, &k->models, &k->nmodels);
    if (e != ASC_OK)
        return e;
    e = asc_cv_opt_name(v, o, path, "tenant", &k->tenant);
    if (e == ASC_OK)
        e = asc_cv_opt_name(v, o, path, "team", &k->team);
    if (e != ASC_OK)
        return e;
    const char *owner = NULL;
    e = asc_cv_opt_str(v, o, path, "owner", &owner);
    if (e == ASC_OK && owner != NULL && (strlen(owner) > 256 || !asc_cv_is_printable(owner, 0))) {
        asc_config_path_key(fp, sizeof fp, path, "owner");
        return asc_cv_fail(v, fp, "must be a user name of at most 256 printable characters");
    }
    if (e == ASC_OK && owner != NULL)
        e = asc_cv_dup(v, owner, &k->owner);
    if (e != ASC_OK)
        return e;
    const char *desc = NULL;
    e = asc_cv_opt_str(v, o, path, "description", &desc);
    if (e == ASC_OK && desc != NULL && strlen(desc) > 1024) {
        asc_config_path_key(fp, sizeof fp, path, "description");
        return asc_cv_fail(v, fp, "must be at most 1024 characters");
    }
    if (e == ASC_OK && desc != NULL)
        e = asc_cv_dup(v, desc, &k->description);
    if (e == ASC_OK)
        e = asc_cv_opt_time(v, o, path, "expires_at", &k->expires_at);
    if (e == ASC_OK)
        e = asc_cv_opt_bool(v, o, path, "revoked", &k->revoked);
    if (e == ASC_OK)
        e = asc_config_parse_limits(v, o, path, &k->limits);
    if (e != ASC_OK)
        return e;
    e = asc_cv_opt_str(v, o, path, "previous_key", &str);
    if (e != ASC_OK)
        return e;
    if (str != NULL) {
        asc_config_path_key(fp, sizeof fp, path, "previous_key");
        if (!sha256_ref_ok(str))
            return asc_cv_fail(v, fp, "must be sha256: followed by 64 lowercase hex digits");
        e = asc_cv_dup(v, str, &k->previous_key_ref);
        if (e == ASC_OK)
            e = asc_cv_opt_time(v, o, path, "previous_expires_at", &k->previous_expires_at);
        if (e != ASC_OK)
            return e;
        if (k->previous_expires_at == 0) {
            asc_config_path_key(fp, sizeof fp, path, "previous_expires_at");
            return asc_cv_fail(v, fp, "required with previous_key");
        }
    }
    e = asc_cv_opt_str(v, o, path, "hint", &str);
    if (e == ASC_OK && str != NULL) {
        /* "...abcd": never more of a key than its last 4 characters */
        if (strlen(str) != 7 || strncmp(str, "...", 3) != 0 || !asc_cv_is_printable(str, 0)) {
            asc_config_path_key(fp, sizeof fp, path, "hint");
            return asc_cv_fail(v, fp, "must be \"...\" and the key's last 4 characters");
        }
        e = asc_cv_dup(v, str, &k->hint);
    }
    return e;
}

static asc_err_t validate_keys(asc_cv_t *v, const cJSON *arr, asc_config_t *c)
{
    const cJSON *el;
    size_t n, i = 0;
    asc_cv_named_t *names = NULL;
    char path[PATH_MAX_LEN];
    asc_err_t e = ASC_OK;

    if (arr == NULL || cJSON_IsNull(arr))
        return ASC_OK;
    if (!cJSON_IsArray(arr))
        return asc_cv_fail(v, "keys", "must be a sequence of mappings (- name: ...)");
    n = (size_t)cJSON_GetArraySize(arr);
    if (n == 0)
        return ASC_OK;
    c->keys = calloc(n, sizeof *c->keys);
    names = calloc(n, sizeof *names);
    if (c->keys == NULL || names == NULL) {
        e = asc_cv_oom(v);
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
    size_t d = asc_cv_find_duplicate(names, n, &first);
    if (d != (size_t)-1) {
        char q[ASC_CONFIG_QUOTE_MAX + 16];
        snprintf(path, sizeof path, "keys[%zu].name", d);
        asc_config_quote(q, sizeof q, c->keys[d].name);
        e = asc_cv_fail(v, path, "duplicate key name %s (also keys[%zu])", q, first);
    }
out:
    free(names);
    return e;
}

/* ---- top level ---- */

static const char *const top_keys[] = {"server",  "admin", "providers", "models",     "keys",
                                       "tenants", "teams", "users",     "credentials"};

/* See config.h. Sections are validated in dependency order: providers
 * before the models that name them. */
asc_err_t asc_config_from_json(const cJSON *root, asc_config_t **out, char *err, size_t errlen)
{
    asc_cv_t v = {err, errlen};
    asc_cv_named_t *provs = NULL;
    asc_config_t *c = NULL;
    asc_err_t e;

    *out = NULL;
    if (errlen)
        err[0] = '\0';
    if (!cJSON_IsObject(root)) {
        e = asc_cv_fail(
            &v, "",
            "the config must be a mapping with the sections server, providers, models, keys");
        goto out;
    }
    e = asc_cv_check_keys(&v, root, "", top_keys, sizeof top_keys / sizeof top_keys[0]);
    if (e != ASC_OK)
        goto out;
    c = calloc(1, sizeof *c);
    if (c == NULL) {
        e = asc_cv_oom(&v);
        goto out;
    }
    e = validate_server(&v, cJSON_GetObjectItemCaseSensitive(root, "server"), &c->server);
    if (e != ASC_OK)
        goto out;
    e = validate_providers(&v, cJSON_GetObjectItemCaseSensitive(root, "providers"), c, &provs);
    if (e != ASC_OK)
        goto out;
    e = asc_config_validate_models(&v, cJSON_GetObjectItemCaseSensitive(root, "models"), provs, c);
    if (e != ASC_OK)
        goto out;
    e = validate_keys(&v, cJSON_GetObjectItemCaseSensitive(root, "keys"), c);
    if (e != ASC_OK)
        goto out;
    e = asc_config_validate_tenancy(&v, root, c);
    if (e != ASC_OK)
        goto out;
    e = asc_config_validate_key_scopes(&v, c);
    if (e != ASC_OK)
        goto out;
    e = asc_config_validate_admin(&v, cJSON_GetObjectItemCaseSensitive(root, "admin"), c);
out:
    free(provs);
    if (e != ASC_OK) {
        asc_config_free(c);
        c = NULL;
    }
    *out = c;
    return e;
}

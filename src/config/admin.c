/*
 * The admin: section: where the admin API listens, the bootstrap token and
 * OIDC single sign-on (issuer, client, and how a group claim maps to roles).
 * Process settings like server:, so they come from the file only and are
 * not objects of the store.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/check.h"
#include "config/config.h"
#include "config/internal.h"

static const char *const admin_keys[] = {"listen", "token", "oidc"};
static const char *const oidc_keys[] = {
    "issuer",       "client_id",   "client_secret", "audience",       "ca_file",
    "redirect_url", "group_claim", "roles",         "session_ttl_ms", "clock_skew_s"};
static const char *const role_keys[] = {"group", "role", "tenant", "team"};

static asc_err_t url_field(asc_cv_t *v, const cJSON *o, const char *path, const char *field,
                           int required, char **out)
{
    const char *s = NULL;
    char fp[PATH_MAX_LEN];
    asc_err_t e =
        required ? asc_cv_req_str(v, o, path, field, &s) : asc_cv_opt_str(v, o, path, field, &s);
    if (e != ASC_OK || s == NULL)
        return e;
    asc_config_path_key(fp, sizeof fp, path, field);
    if ((strncmp(s, "https://", 8) != 0 && strncmp(s, "http://", 7) != 0) || strlen(s) > 2048 ||
        !asc_cv_is_printable(s, 0))
        return asc_cv_fail(v, fp, "must be an http(s):// URL");
    size_t n = strlen(s);
    while (n > 0 && s[n - 1] == '/' && strcmp(field, "issuer") != 0)
        n--;
    *out = strndup(s, n);
    return *out ? ASC_OK : asc_cv_oom(v);
}

static asc_err_t validate_roles(asc_cv_t *v, const cJSON *arr, const char *path,
                                asc_config_oidc_t *o)
{
    if (arr == NULL)
        return ASC_OK;
    if (!cJSON_IsArray(arr) || cJSON_GetArraySize(arr) > 1024)
        return asc_cv_fail(v, path, "must be a sequence of {group, role, tenant, team}");
    size_t n = (size_t)cJSON_GetArraySize(arr), i = 0;
    o->roles = calloc(n + 1, sizeof *o->roles);
    if (o->roles == NULL)
        return asc_cv_oom(v);
    const cJSON *el;
    cJSON_ArrayForEach(el, arr)
    {
        char ep[PATH_MAX_LEN];
        const char *s = NULL;
        asc_config_role_map_t *r = &o->roles[i];
        asc_config_path_index(ep, sizeof ep, path, i);
        o->nroles = ++i;
        if (!cJSON_IsObject(el))
            return asc_cv_fail(v, ep, "must be a mapping {group, role, tenant, team}");
        asc_err_t e = asc_cv_check_keys(v, el, ep, role_keys, sizeof role_keys / sizeof *role_keys);
        if (e == ASC_OK)
            e = asc_cv_req_str(v, el, ep, "group", &s);
        if (e == ASC_OK && (strlen(s) > 256 || !asc_cv_is_printable(s, 1)))
            e = asc_cv_fail(v, ep, "group: must be at most 256 printable characters");
        if (e == ASC_OK)
            e = asc_cv_dup(v, s, &r->group);
        if (e == ASC_OK)
            e = asc_cv_req_str(v, el, ep, "role", &s);
        if (e != ASC_OK)
            return e;
        asc_rbac_role_t role = asc_config_role(s);
        if (role == ASC_RBAC_NONE)
            return asc_cv_fail(v, ep,
                               "role: unknown role (expected one of: platform-admin, "
                               "tenant-admin, developer, auditor, finance)");
        e = asc_cv_dup(v, s, &r->role);
        if (e == ASC_OK)
            e = asc_cv_opt_name(v, el, ep, "tenant", &r->tenant);
        if (e == ASC_OK)
            e = asc_cv_opt_name(v, el, ep, "team", &r->team);
        if (e != ASC_OK)
            return e;
        if (role == ASC_RBAC_PLATFORM_ADMIN && r->tenant != NULL)
            return asc_cv_fail(v, ep, "a platform-admin belongs to no tenant");
        if ((role == ASC_RBAC_TENANT_ADMIN || role == ASC_RBAC_DEVELOPER) && r->tenant == NULL)
            return asc_cv_fail(v, ep, "a %s needs a tenant", s);
        if (role == ASC_RBAC_DEVELOPER && r->team == NULL)
            return asc_cv_fail(v, ep, "a developer needs a team");
    }
    return ASC_OK;
}

static asc_err_t validate_oidc(asc_cv_t *v, const cJSON *o, asc_config_oidc_t *out)
{
    const char *path = "admin.oidc";
    const char *s = NULL;
    char fp[PATH_MAX_LEN];
    uint64_t skew = 60;
    if (!cJSON_IsObject(o))
        return asc_cv_fail(v, path, "must be a mapping with at least issuer and client_id");
    asc_err_t e = asc_cv_check_keys(v, o, path, oidc_keys, sizeof oidc_keys / sizeof *oidc_keys);
    if (e == ASC_OK)
        e = url_field(v, o, path, "issuer", 1, &out->issuer);
    if (e == ASC_OK)
        e = asc_cv_req_str(v, o, path, "client_id", &s);
    if (e == ASC_OK && (strlen(s) > 256 || !asc_cv_is_printable(s, 0)))
        e = asc_cv_fail(v, "admin.oidc.client_id", "must be at most 256 printable characters");
    if (e == ASC_OK)
        e = asc_cv_dup(v, s, &out->client_id);
    if (e == ASC_OK)
        e = asc_cv_opt_str(v, o, path, "client_secret", &s);
    if (e != ASC_OK)
        return e;
    if (s != NULL) {
        if (!((strncmp(s, "env:", 4) == 0 && asc_config_env_name_ok(s + 4, strlen(s + 4))) ||
              (strncmp(s, "file:/", 6) == 0 && asc_cv_is_printable(s, 0))))
            return asc_cv_fail(v, "admin.oidc.client_secret", "must be env:VAR or file:/path");
        e = asc_cv_dup(v, s, &out->client_secret_ref);
    }
    if (e == ASC_OK)
        e = asc_cv_opt_str(v, o, path, "audience", &s);
    if (e == ASC_OK)
        e = asc_cv_dup(v, s ? s : out->client_id, &out->audience);
    if (e == ASC_OK)
        e = asc_cv_opt_str(v, o, path, "ca_file", &s);
    if (e == ASC_OK && s != NULL)
        e = asc_cv_dup(v, s, &out->ca_file);
    if (e == ASC_OK)
        e = url_field(v, o, path, "redirect_url", 0, &out->redirect_url);
    if (e == ASC_OK)
        e = asc_cv_opt_str(v, o, path, "group_claim", &s);
    if (e == ASC_OK)
        e = asc_cv_dup(v, s ? s : "groups", &out->group_claim);
    if (e != ASC_OK)
        return e;
    out->session_ttl_ms = 8 * 3600 * 1000ULL;
    e = asc_cv_opt_uint(v, o, path, "session_ttl_ms", 60000, 30 * 86400000ULL,
                        &out->session_ttl_ms);
    if (e == ASC_OK)
        e = asc_cv_opt_uint(v, o, path, "clock_skew_s", 0, 600, &skew);
    out->skew_s = (unsigned)skew;
    asc_config_path_key(fp, sizeof fp, path, "roles");
    if (e == ASC_OK)
        e = validate_roles(v, asc_cv_member(o, "roles"), fp, out);
    return e;
}

asc_err_t asc_config_validate_admin(asc_cv_t *v, const cJSON *obj, asc_config_t *c)
{
    asc_config_admin_t *a = &c->admin;
    const char *s = NULL;
    asc_err_t e;
    if (obj != NULL && !cJSON_IsNull(obj)) {
        if (!cJSON_IsObject(obj))
            return asc_cv_fail(v, "admin", "must be a mapping (listen, token, oidc)");
        e = asc_cv_check_keys(v, obj, "admin", admin_keys, sizeof admin_keys / sizeof *admin_keys);
        if (e == ASC_OK)
            e = asc_cv_opt_str(v, obj, "admin", "listen", &s);
        if (e != ASC_OK)
            return e;
        if (s != NULL && strcmp(s, "off") != 0 && !asc_config_listen_ok(s))
            return asc_cv_fail(v, "admin.listen",
                               "must be HOST:PORT (IPv4, [IPv6] or localhost) or \"off\"");
        if (s != NULL && (e = asc_cv_dup(v, s, &a->listen)) != ASC_OK)
            return e;
        e = asc_cv_opt_str(v, obj, "admin", "token", &s);
        if (e != ASC_OK)
            return e;
        if (s != NULL) {
            /* Never echo the value: it may be a pasted secret. */
            int ok = (strncmp(s, "env:", 4) == 0 && asc_config_env_name_ok(s + 4, strlen(s + 4)));
            if (strncmp(s, "sha256:", 7) == 0 && strlen(s) == 71) {
                ok = 1;
                for (const char *p = s + 7; *p; p++)
                    if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
                        ok = 0;
            }
            if (!ok)
                return asc_cv_fail(v, "admin.token",
                                   "must be env:VAR or sha256:<64 lowercase hex> (plaintext "
                                   "tokens are not allowed in config)");
            if ((e = asc_cv_dup(v, s, &a->token_ref)) != ASC_OK)
                return e;
        }
        const cJSON *o = asc_cv_member(obj, "oidc");
        if (o != NULL) {
            e = validate_oidc(v, o, &a->oidc);
            if (e != ASC_OK)
                return e;
            a->has_oidc = 1;
        }
    }
    if (a->listen == NULL && (e = asc_cv_dup(v, "127.0.0.1:8081", &a->listen)) != ASC_OK)
        return e;
    if (a->token_ref == NULL && (e = asc_cv_dup(v, "env:ASC_ADMIN_TOKEN", &a->token_ref)) != ASC_OK)
        return e;
    for (size_t i = 0; i < a->oidc.nroles; i++) {
        const asc_config_role_map_t *r = &a->oidc.roles[i];
        char ep[PATH_MAX_LEN];
        snprintf(ep, sizeof ep, "admin.oidc.roles[%zu]", i);
        if (r->tenant != NULL && asc_config_find_tenant(c, r->tenant) == NULL)
            return asc_cv_fail(v, ep, "tenant: unknown tenant \"%.64s\"", r->tenant);
        if (r->team != NULL) {
            const asc_config_team_t *t = asc_config_find_team(c, r->team);
            if (t == NULL)
                return asc_cv_fail(v, ep, "team: unknown team \"%.64s\"", r->team);
            if (r->tenant == NULL || strcmp(r->tenant, t->tenant) != 0)
                return asc_cv_fail(v, ep, "team %.64s belongs to tenant %.64s", t->name, t->tenant);
        }
    }
    return ASC_OK;
}

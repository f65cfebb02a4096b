/*
 * The control plane's sections of the config tree: tenants, teams (business
 * units), users and credentials, and the scope rules that tie keys to them:
 * a team belongs to a tenant, a key to a team and/or tenant, and a child's
 * models, regions and limits always lie within its parent's (DESIGN §5).
 * The admin API hands the same tree to the same functions, so a file and an
 * API call obey exactly the same rules.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/check.h"
#include "config/config.h"
#include "config/internal.h"

static const char *const limit_keys[] = {"rpm", "tpm", "budget_usd", "budget_period"};

asc_err_t asc_config_parse_limits(asc_cv_t *v, const cJSON *obj, const char *path,
                                  asc_config_limits_t *out)
{
    char fp[PATH_MAX_LEN];
    const cJSON *l = asc_cv_member(obj, "limits");
    if (l == NULL)
        return ASC_OK;
    asc_config_path_key(fp, sizeof fp, path, "limits");
    if (!cJSON_IsObject(l))
        return asc_cv_fail(v, fp, "must be a mapping (rpm, tpm, budget_usd, budget_period)");
    asc_err_t e = asc_cv_check_keys(v, l, fp, limit_keys, sizeof limit_keys / sizeof *limit_keys);
    if (e == ASC_OK)
        e = asc_cv_opt_uint(v, l, fp, "rpm", 1, 1000000000ULL, &out->rpm);
    if (e == ASC_OK)
        e = asc_cv_opt_uint(v, l, fp, "tpm", 1, 1000000000000ULL, &out->tpm);
    if (e == ASC_OK)
        e = asc_cv_opt_num(v, l, fp, "budget_usd", 0, 1e12, &out->budget_usd);
    const char *per = NULL;
    if (e == ASC_OK)
        e = asc_cv_opt_str(v, l, fp, "budget_period", &per);
    if (e != ASC_OK)
        return e;
    if (per != NULL) {
        if (strcmp(per, "day") != 0 && strcmp(per, "week") != 0 && strcmp(per, "month") != 0) {
            char pp[PATH_MAX_LEN];
            asc_config_path_key(pp, sizeof pp, fp, "budget_period");
            return asc_cv_fail(v, pp, "must be day, week or month");
        }
        return asc_cv_dup(v, per, &out->budget_period);
    }
    return ASC_OK;
}

static asc_err_t opt_text(asc_cv_t *v, const cJSON *o, const char *path, const char *field,
                          size_t max, char **out)
{
    const char *s = NULL;
    asc_err_t e = asc_cv_opt_str(v, o, path, field, &s);
    if (e != ASC_OK || s == NULL)
        return e;
    if (strlen(s) > max) {
        char fp[PATH_MAX_LEN];
        asc_config_path_key(fp, sizeof fp, path, field);
        return asc_cv_fail(v, fp, "must be at most %zu characters", max);
    }
    return asc_cv_dup(v, s, out);
}

/* The array section `name` of root: NULL/absent is empty; *n its size. */
static asc_err_t section(asc_cv_t *v, const cJSON *root, const char *name, size_t elem,
                         void **items, size_t *n)
{
    const cJSON *arr = asc_cv_member(root, name);
    *items = NULL;
    *n = 0;
    if (arr == NULL)
        return ASC_OK;
    if (!cJSON_IsArray(arr))
        return asc_cv_fail(v, name, "must be a sequence of mappings (- name: ...)");
    size_t cnt = (size_t)cJSON_GetArraySize(arr);
    if (cnt == 0)
        return ASC_OK;
    *items = calloc(cnt, elem);
    return *items == NULL ? asc_cv_oom(v) : ASC_OK;
}

static asc_err_t unique(asc_cv_t *v, const char *sect, const char *what, void *items, size_t n,
                        size_t elem)
{
    asc_cv_named_t *names = calloc(n + 1, sizeof *names);
    if (names == NULL)
        return asc_cv_oom(v);
    for (size_t i = 0; i < n; i++) {
        /* every element type starts with its char *name */
        names[i].name = *(char **)((char *)items + i * elem);
        names[i].index = i;
    }
    size_t first = 0;
    size_t d = asc_cv_find_duplicate(names, n, &first);
    asc_err_t e = ASC_OK;
    if (d != (size_t)-1) {
        char path[PATH_MAX_LEN], q[ASC_CONFIG_QUOTE_MAX + 16];
        snprintf(path, sizeof path, "%s[%zu].name", sect, d);
        asc_config_quote(q, sizeof q, *(char **)((char *)items + d * elem));
        e = asc_cv_fail(v, path, "duplicate %s name %s (also %s[%zu])", what, q, sect, first);
    }
    free(names);
    return e;
}

static const char *const tenant_keys[] = {"name", "description", "models", "regions", "limits"};
static const char *const team_keys[] = {"name",   "tenant",  "description",
                                        "models", "regions", "limits"};
static const char *const user_keys[] = {"name", "email", "role", "tenant", "team"};
static const char *const cred_keys[] = {"name", "provider", "tenant", "api_key", "last4"};

static asc_err_t scope_fields(asc_cv_t *v, const cJSON *o, const char *path, char ***models,
                              size_t *nmodels, char ***regions, size_t *nregions,
                              asc_config_limits_t *limits)
{
    asc_err_t e = asc_cv_opt_strv(v, o, path, "models", 1024, 512, models, nmodels);
    if (e == ASC_OK)
        e = asc_cv_opt_strv(v, o, path, "regions", 64, 64, regions, nregions);
    if (e == ASC_OK)
        e = asc_config_parse_limits(v, o, path, limits);
    return e;
}

/* Every pattern of child lies within some pattern of parent (NULL parent =
 * unrestricted). Returns the first child pattern that does not, or NULL. */
static const char *patterns_outside(char *const *child, size_t nc, char *const *parent, size_t np)
{
    if (parent == NULL)
        return NULL;
    for (size_t i = 0; i < nc; i++) {
        size_t j;
        for (j = 0; j < np; j++)
            if (asc_config_pattern_within(child[i], parent[j]))
                break;
        if (j == np)
            return child[i];
    }
    return NULL;
}

static const char *regions_outside(char *const *child, size_t nc, char *const *parent, size_t np)
{
    if (parent == NULL)
        return NULL;
    for (size_t i = 0; i < nc; i++) {
        size_t j;
        for (j = 0; j < np; j++)
            if (strcmp(child[i], parent[j]) == 0)
                break;
        if (j == np)
            return child[i];
    }
    return NULL;
}

/* child's models/regions/limits within the parent's; `what` names the parent. */
static asc_err_t within(asc_cv_t *v, const char *path, char *const *cm, size_t ncm, char *const *cr,
                        size_t ncr, const asc_config_limits_t *cl, char *const *pm, size_t npm,
                        char *const *pr, size_t npr, const asc_config_limits_t *pl,
                        const char *what)
{
    char fp[PATH_MAX_LEN], q[ASC_CONFIG_QUOTE_MAX + 16];
    const char *bad = patterns_outside(cm, ncm, pm, npm);
    if (bad != NULL) {
        asc_config_path_key(fp, sizeof fp, path, "models");
        asc_config_quote(q, sizeof q, bad);
        return asc_cv_fail(v, fp, "%s is not within the models of %s", q, what);
    }
    bad = regions_outside(cr, ncr, pr, npr);
    if (bad != NULL) {
        asc_config_path_key(fp, sizeof fp, path, "regions");
        asc_config_quote(q, sizeof q, bad);
        return asc_cv_fail(v, fp, "%s is not within the regions of %s", q, what);
    }
    struct {
        const char *name;
        double c, p;
    } lim[] = {{"rpm", (double)cl->rpm, (double)pl->rpm},
               {"tpm", (double)cl->tpm, (double)pl->tpm},
               {"budget_usd", cl->budget_usd, pl->budget_usd}};
    for (size_t i = 0; i < sizeof lim / sizeof *lim; i++) {
        if (lim[i].p > 0 && lim[i].c > lim[i].p) {
            char lp[PATH_MAX_LEN];
            asc_config_path_key(lp, sizeof lp, path, "limits");
            asc_config_path_key(fp, sizeof fp, lp, lim[i].name);
            return asc_cv_fail(v, fp, "%g is above the %g of %s", lim[i].c, lim[i].p, what);
        }
    }
    return ASC_OK;
}

static asc_err_t validate_tenants(asc_cv_t *v, const cJSON *root, asc_config_t *c)
{
    void *items;
    asc_err_t e = section(v, root, "tenants", sizeof *c->tenants, &items, &c->ntenants);
    c->tenants = items;
    if (e != ASC_OK || c->tenants == NULL)
        return e;
    size_t i = 0;
    const cJSON *el;
    cJSON_ArrayForEach(el, asc_cv_member(root, "tenants"))
    {
        char path[PATH_MAX_LEN];
        asc_config_tenant_t *t = &c->tenants[i];
        asc_config_path_index(path, sizeof path, "tenants", i);
        c->ntenants = ++i;
        if (!cJSON_IsObject(el))
            return asc_cv_fail(v, path, "must be a mapping with at least name");
        e = asc_cv_check_keys(v, el, path, tenant_keys, sizeof tenant_keys / sizeof *tenant_keys);
        if (e == ASC_OK)
            e = asc_cv_req_name(v, el, path, "name", &t->name);
        if (e == ASC_OK)
            e = opt_text(v, el, path, "description", 1024, &t->description);
        if (e == ASC_OK)
            e = scope_fields(v, el, path, &t->models, &t->nmodels, &t->regions, &t->nregions,
                             &t->limits);
        if (e != ASC_OK)
            return e;
    }
    return unique(v, "tenants", "tenant", c->tenants, c->ntenants, sizeof *c->tenants);
}

static asc_err_t ref_fail(asc_cv_t *v, const char *path, const char *field, const char *what,
                          const char *name)
{
    char fp[PATH_MAX_LEN], q[ASC_CONFIG_QUOTE_MAX + 16];
    asc_config_path_key(fp, sizeof fp, path, field);
    asc_config_quote(q, sizeof q, name);
    return asc_cv_fail(v, fp, "unknown %s %s", what, q);
}

static asc_err_t validate_teams(asc_cv_t *v, const cJSON *root, asc_config_t *c)
{
    void *items;
    asc_err_t e = section(v, root, "teams", sizeof *c->teams, &items, &c->nteams);
    c->teams = items;
    if (e != ASC_OK || c->teams == NULL)
        return e;
    size_t i = 0;
    const cJSON *el;
    cJSON_ArrayForEach(el, asc_cv_member(root, "teams"))
    {
        char path[PATH_MAX_LEN], what[128];
        asc_config_team_t *t = &c->teams[i];
        asc_config_path_index(path, sizeof path, "teams", i);
        c->nteams = ++i;
        if (!cJSON_IsObject(el))
            return asc_cv_fail(v, path, "must be a mapping with at least name and tenant");
        e = asc_cv_check_keys(v, el, path, team_keys, sizeof team_keys / sizeof *team_keys);
        if (e == ASC_OK)
            e = asc_cv_req_name(v, el, path, "name", &t->name);
        if (e == ASC_OK)
            e = asc_cv_req_name(v, el, path, "tenant", &t->tenant);
        if (e == ASC_OK)
            e = opt_text(v, el, path, "description", 1024, &t->description);
        if (e == ASC_OK)
            e = scope_fields(v, el, path, &t->models, &t->nmodels, &t->regions, &t->nregions,
                             &t->limits);
        if (e != ASC_OK)
            return e;
        const asc_config_tenant_t *tn = asc_config_find_tenant(c, t->tenant);
        if (tn == NULL)
            return ref_fail(v, path, "tenant", "tenant", t->tenant);
        t->tenant_index = (size_t)(tn - c->tenants);
        snprintf(what, sizeof what, "tenant %.64s", tn->name);
        e = within(v, path, t->models, t->nmodels, t->regions, t->nregions, &t->limits, tn->models,
                   tn->nmodels, tn->regions, tn->nregions, &tn->limits, what);
        if (e != ASC_OK)
            return e;
    }
    return unique(v, "teams", "team", c->teams, c->nteams, sizeof *c->teams);
}

static asc_err_t validate_users(asc_cv_t *v, const cJSON *root, asc_config_t *c)
{
    void *items;
    asc_err_t e = section(v, root, "users", sizeof *c->users, &items, &c->nusers);
    c->users = items;
    if (e != ASC_OK || c->users == NULL)
        return e;
    size_t i = 0;
    const cJSON *el;
    cJSON_ArrayForEach(el, asc_cv_member(root, "users"))
    {
        char path[PATH_MAX_LEN], fp[PATH_MAX_LEN];
        asc_config_user_t *u = &c->users[i];
        const char *s = NULL;
        asc_config_path_index(path, sizeof path, "users", i);
        c->nusers = ++i;
        if (!cJSON_IsObject(el))
            return asc_cv_fail(v, path, "must be a mapping with at least name and role");
        e = asc_cv_check_keys(v, el, path, user_keys, sizeof user_keys / sizeof *user_keys);
        if (e == ASC_OK)
            e = asc_cv_req_str(v, el, path, "name", &s);
        if (e != ASC_OK)
            return e;
        asc_config_path_key(fp, sizeof fp, path, "name");
        if (strlen(s) > 256 || !asc_cv_is_printable(s, 0))
            return asc_cv_fail(v, fp, "must be 1 to 256 printable characters without spaces");
        e = asc_cv_dup(v, s, &u->name);
        if (e == ASC_OK)
            e = opt_text(v, el, path, "email", 256, &u->email);
        if (e == ASC_OK)
            e = asc_cv_req_str(v, el, path, "role", &s);
        if (e != ASC_OK)
            return e;
        u->role = asc_config_role(s);
        if (u->role == ASC_RBAC_NONE) {
            char q[ASC_CONFIG_QUOTE_MAX + 16];
            asc_config_path_key(fp, sizeof fp, path, "role");
            asc_config_quote(q, sizeof q, s);
            return asc_cv_fail(v, fp,
                               "unknown role %s (expected one of: platform-admin, tenant-admin, "
                               "developer, auditor, finance)",
                               q);
        }
        e = asc_cv_opt_name(v, el, path, "tenant", &u->tenant);
        if (e == ASC_OK)
            e = asc_cv_opt_name(v, el, path, "team", &u->team);
        if (e != ASC_OK)
            return e;
        if (u->role == ASC_RBAC_PLATFORM_ADMIN && (u->tenant != NULL || u->team != NULL))
            return asc_cv_fail(v, path, "a platform-admin belongs to no tenant or team");
        if ((u->role == ASC_RBAC_TENANT_ADMIN || u->role == ASC_RBAC_DEVELOPER) &&
            u->tenant == NULL)
            return asc_cv_fail(v, path, "a %s needs a tenant", asc_config_role_name(u->role));
        if (u->role == ASC_RBAC_DEVELOPER && u->team == NULL)
            return asc_cv_fail(v, path, "a developer needs a team");
        if (u->tenant != NULL && asc_config_find_tenant(c, u->tenant) == NULL)
            return ref_fail(v, path, "tenant", "tenant", u->tenant);
        if (u->team != NULL) {
            const asc_config_team_t *tm = asc_config_find_team(c, u->team);
            if (tm == NULL)
                return ref_fail(v, path, "team", "team", u->team);
            if (u->tenant == NULL || strcmp(tm->tenant, u->tenant) != 0)
                return asc_cv_fail(v, path, "team %.64s belongs to tenant %.64s", tm->name,
                                   tm->tenant);
        }
    }
    return unique(v, "users", "user", c->users, c->nusers, sizeof *c->users);
}

static asc_err_t validate_credentials(asc_cv_t *v, const cJSON *root, asc_config_t *c)
{
    void *items;
    asc_err_t e = section(v, root, "credentials", sizeof *c->credentials, &items, &c->ncredentials);
    c->credentials = items;
    if (e != ASC_OK || c->credentials == NULL)
        return e;
    size_t i = 0;
    const cJSON *el;
    cJSON_ArrayForEach(el, asc_cv_member(root, "credentials"))
    {
        char path[PATH_MAX_LEN], fp[PATH_MAX_LEN];
        asc_config_credential_t *cr = &c->credentials[i];
        const char *s = NULL;
        asc_config_path_index(path, sizeof path, "credentials", i);
        c->ncredentials = ++i;
        if (!cJSON_IsObject(el))
            return asc_cv_fail(v, path, "must be a mapping with name, provider and api_key");
        e = asc_cv_check_keys(v, el, path, cred_keys, sizeof cred_keys / sizeof *cred_keys);
        if (e == ASC_OK)
            e = asc_cv_req_name(v, el, path, "name", &cr->name);
        if (e == ASC_OK)
            e = asc_cv_req_str(v, el, path, "provider", &s);
        if (e != ASC_OK)
            return e;
        const asc_config_provider_t *p = asc_config_find_provider(c, s);
        if (p == NULL)
            return ref_fail(v, path, "provider", "provider", s);
        if (strcmp(p->kind, "mock") == 0 && p->base_url == NULL) {
            asc_config_path_key(fp, sizeof fp, path, "provider");
            return asc_cv_fail(v, fp, "the in-process mock takes no credential");
        }
        e = asc_cv_dup(v, s, &cr->provider);
        if (e == ASC_OK)
            e = asc_cv_opt_name(v, el, path, "tenant", &cr->tenant);
        if (e != ASC_OK)
            return e;
        if (cr->tenant != NULL && asc_config_find_tenant(c, cr->tenant) == NULL)
            return ref_fail(v, path, "tenant", "tenant", cr->tenant);
        e = asc_cv_req_str(v, el, path, "api_key", &s);
        if (e != ASC_OK)
            return e;
        /* Never echo the value: it may be a pasted secret. */
        asc_config_path_key(fp, sizeof fp, path, "api_key");
        if (!((strncmp(s, "env:", 4) == 0 && asc_config_env_name_ok(s + 4, strlen(s + 4))) ||
              (strncmp(s, "file:/", 6) == 0 && strlen(s) < 4096 && asc_cv_is_printable(s, 0)) ||
              (strncmp(s, "sealed:v1:", 10) == 0 && strlen(s) < 65536 &&
               asc_cv_is_printable(s, 0))))
            return asc_cv_fail(v, fp,
                               "must be env:VAR or file:/path (plaintext secrets are accepted "
                               "only through the admin API, which seals them)");
        e = asc_cv_dup(v, s, &cr->api_key_ref);
        if (e == ASC_OK)
            e = opt_text(v, el, path, "last4", 4, &cr->last4);
        if (e != ASC_OK)
            return e;
        for (size_t j = 0; j + 1 < c->ncredentials; j++) {
            const asc_config_credential_t *o = &c->credentials[j];
            int same_tenant =
                (o->tenant == NULL && cr->tenant == NULL) ||
                (o->tenant != NULL && cr->tenant != NULL && strcmp(o->tenant, cr->tenant) == 0);
            if (strcmp(o->provider, cr->provider) == 0 && same_tenant)
                return asc_cv_fail(v, path,
                                   "provider %.64s already has a %s credential (%.64s): rotate "
                                   "it instead of adding a second",
                                   cr->provider, cr->tenant ? "tenant-scoped" : "global", o->name);
        }
    }
    return unique(v, "credentials", "credential", c->credentials, c->ncredentials,
                  sizeof *c->credentials);
}

asc_err_t asc_config_validate_tenancy(asc_cv_t *v, const cJSON *root, asc_config_t *c)
{
    asc_err_t e = validate_tenants(v, root, c);
    if (e == ASC_OK)
        e = validate_teams(v, root, c);
    if (e == ASC_OK)
        e = validate_users(v, root, c);
    if (e == ASC_OK)
        e = validate_credentials(v, root, c);
    return e;
}

asc_err_t asc_config_validate_key_scopes(asc_cv_t *v, asc_config_t *c)
{
    for (size_t i = 0; i < c->nkeys; i++) {
        asc_config_key_t *k = &c->keys[i];
        char path[PATH_MAX_LEN], what[160];
        asc_config_path_index(path, sizeof path, "keys", i);
        if (k->team != NULL) {
            const asc_config_team_t *tm = asc_config_find_team(c, k->team);
            if (tm == NULL)
                return ref_fail(v, path, "team", "team", k->team);
            if (k->tenant == NULL) {
                k->tenant = strdup(tm->tenant); /* the team's tenant */
                if (k->tenant == NULL)
                    return asc_cv_oom(v);
            } else if (strcmp(k->tenant, tm->tenant) != 0) {
                return asc_cv_fail(v, path, "team %.64s belongs to tenant %.64s", tm->name,
                                   tm->tenant);
            }
            snprintf(what, sizeof what, "team %.64s", tm->name);
            asc_err_t e =
                within(v, path, k->models, k->nmodels, k->regions, k->nregions, &k->limits,
                       tm->models, tm->nmodels, tm->regions, tm->nregions, &tm->limits, what);
            if (e != ASC_OK)
                return e;
        }
        if (k->tenant != NULL) {
            const asc_config_tenant_t *tn = asc_config_find_tenant(c, k->tenant);
            if (tn == NULL)
                return ref_fail(v, path, "tenant", "tenant", k->tenant);
            snprintf(what, sizeof what, "tenant %.64s", tn->name);
            asc_err_t e =
                within(v, path, k->models, k->nmodels, k->regions, k->nregions, &k->limits,
                       tn->models, tn->nmodels, tn->regions, tn->nregions, &tn->limits, what);
            if (e != ASC_OK)
                return e;
        }
    }
    return ASC_OK;
}

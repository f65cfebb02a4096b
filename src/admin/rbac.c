/*
 * Role-based access control for the admin API: every route asks here, and
 * nowhere else decides (docs/admin.md, "Roles").
 *
 *   platform-admin  everything, except changing its own role
 *   tenant-admin    its tenant: teams, users (not platform-admin), keys,
 *                   tenant-scoped credentials; reads its tenant, routes,
 *                   providers; may not change its tenant (its own scope)
 *   developer       its own keys in its team; reads its tenant, team,
 *                   routes, providers, itself
 *   auditor         reads everything in its scope (all without a tenant)
 *                   and the change log
 *   finance         reads tenants, teams and keys in its scope
 *   everyone        its own personal access tokens
 *
 * A child's models and regions lying within its parent's is the
 * validator's rule (config/tenancy.c), checked on every write, so a key can
 * never be wider than the team and tenant it belongs to.
 */
#include <stdio.h>
#include <string.h>

#include "admin/admin.h"

static const char *doc_str(const cJSON *doc, const char *field)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(doc, field);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static int is(const asc_kind_t *k, const char *kind)
{
    return strcmp(k->kind, kind) == 0;
}

static int eq(const char *a, const char *b)
{
    return a != NULL && b != NULL && strcmp(a, b) == 0;
}

const char *asc_rbac_object_tenant(const asc_kind_t *k, const cJSON *doc)
{
    if (is(k, "tenant"))
        return doc_str(doc, "name");
    if (is(k, "provider") || is(k, "route"))
        return NULL;
    return doc_str(doc, "tenant");
}

static int deny(char *err, size_t errlen, const char *fmt, const char *a, const char *b)
{
    snprintf(err, errlen, fmt, a, b);
    return 403;
}

static const char *role(const asc_principal_t *p)
{
    return asc_config_role_name(p->role);
}

/* The object's owner for personal objects (keys, tokens, users). */
static const char *owner_of(const asc_kind_t *k, const cJSON *doc)
{
    if (is(k, "key"))
        return doc_str(doc, "owner");
    if (is(k, "token"))
        return doc_str(doc, "user");
    if (is(k, "user"))
        return doc_str(doc, "name");
    return NULL;
}

int asc_rbac_check(const asc_principal_t *p, asc_rbac_verb_t verb, const asc_kind_t *k,
                   const cJSON *doc, char *err, size_t errlen)
{
    const char *tenant = asc_rbac_object_tenant(k, doc);
    const char *owner = owner_of(k, doc);
    int own = eq(owner, p->subject);
    int scoped = p->tenant[0] != '\0';
    int in_tenant = !scoped || eq(tenant, p->tenant);

    /* personal access tokens: one's own, whatever the role */
    if (is(k, "token")) {
        if (own || (p->role == ASC_RBAC_PLATFORM_ADMIN && verb != ASC_RBAC_CREATE))
            return 0;
        return deny(err, errlen, "a personal access token belongs to its user only%s%s", "", "");
    }
    switch (p->role) {
    case ASC_RBAC_PLATFORM_ADMIN: return 0;
    case ASC_RBAC_AUDITOR:
        if (verb != ASC_RBAC_READ)
            return deny(err, errlen, "the %s role is read-only%s", role(p), "");
        if (is(k, "provider") || is(k, "route") || in_tenant)
            return 0;
        return deny(err, errlen, "%s %s is outside your tenant", k->kind, "");
    case ASC_RBAC_FINANCE:
        if (verb != ASC_RBAC_READ)
            return deny(err, errlen, "the %s role is read-only%s", role(p), "");
        if (!(is(k, "tenant") || is(k, "team") || is(k, "key")))
            return deny(err, errlen, "the finance role cannot read %ss%s", k->kind, "");
        if (in_tenant)
            return 0;
        return deny(err, errlen, "%s %s is outside your tenant", k->kind, "");
    case ASC_RBAC_TENANT_ADMIN:
        if (is(k, "provider") || is(k, "route")) {
            if (verb == ASC_RBAC_READ)
                return 0;
            return deny(err, errlen, "only a platform-admin manages %ss%s", k->kind, "");
        }
        if (!eq(tenant, p->tenant))
            return deny(err, errlen, "%s is outside your tenant (%.64s)", k->kind, p->tenant);
        if (is(k, "tenant") && verb != ASC_RBAC_READ)
            return deny(err, errlen,
                        "a tenant-admin cannot change its own tenant (models, regions and "
                        "limits are set by a platform-admin)%s%s",
                        "", "");
        if (is(k, "user") && verb != ASC_RBAC_READ &&
            asc_config_role(doc_str(doc, "role")) == ASC_RBAC_PLATFORM_ADMIN)
            return deny(err, errlen, "only a platform-admin grants platform-admin%s%s", "", "");
        return 0;
    case ASC_RBAC_DEVELOPER:
        if (is(k, "provider") || is(k, "route")) {
            if (verb == ASC_RBAC_READ)
                return 0;
            return deny(err, errlen, "only a platform-admin manages %ss%s", k->kind, "");
        }
        if (is(k, "key")) {
            if (own && eq(tenant, p->tenant) && eq(doc_str(doc, "team"), p->team))
                return 0;
            return deny(err, errlen, "a developer manages only its own keys in its team (%.64s)%s",
                        p->team, "");
        }
        if (verb == ASC_RBAC_READ &&
            ((is(k, "tenant") && eq(tenant, p->tenant)) ||
             (is(k, "team") && eq(doc_str(doc, "name"), p->team)) || (is(k, "user") && own)))
            return 0;
        return deny(err, errlen, "the developer role cannot %s this %s",
                    verb == ASC_RBAC_READ ? "read" : "change", k->kind);
    default: break;
    }
    return deny(err, errlen, "no role%s%s", "", "");
}

int asc_rbac_check_change(const asc_principal_t *p, const asc_kind_t *k, const cJSON *before,
                          const cJSON *after, char *err, size_t errlen)
{
    int st;
    if (before != NULL) {
        st = asc_rbac_check(p, after ? ASC_RBAC_UPDATE : ASC_RBAC_DELETE, k, before, err, errlen);
        if (st != 0)
            return st;
    }
    if (after != NULL) {
        st = asc_rbac_check(p, before ? ASC_RBAC_UPDATE : ASC_RBAC_CREATE, k, after, err, errlen);
        if (st != 0)
            return st;
    }
    /* nobody changes their own role or deletes themself */
    if (is(k, "user")) {
        const cJSON *u = before ? before : after;
        if (eq(doc_str(u, "name"), p->subject)) {
            const char *r0 = before ? doc_str(before, "role") : NULL;
            const char *r1 = after ? doc_str(after, "role") : NULL;
            const char *t0 = before ? doc_str(before, "tenant") : NULL;
            const char *t1 = after ? doc_str(after, "tenant") : NULL;
            int same_role = r0 && r1 && strcmp(r0, r1) == 0;
            int same_tenant = (t0 == NULL && t1 == NULL) || eq(t0, t1);
            if (!same_role || !same_tenant)
                return deny(err, errlen, "nobody can change their own role or tenant%s%s", "", "");
        }
    }
    return 0;
}

int asc_rbac_list_scope(const asc_principal_t *p, const asc_kind_t *k, const char **tenant,
                        const char **owner, char *err, size_t errlen)
{
    *tenant = NULL;
    *owner = NULL;
    if (is(k, "token")) {
        if (p->role != ASC_RBAC_PLATFORM_ADMIN)
            *owner = p->subject;
        return 0;
    }
    if (p->role == ASC_RBAC_PLATFORM_ADMIN)
        return 0;
    if (is(k, "provider") || is(k, "route")) {
        if (p->role == ASC_RBAC_FINANCE)
            return deny(err, errlen, "the finance role cannot read %ss%s", k->kind, "");
        return 0;
    }
    if (p->role == ASC_RBAC_FINANCE && !(is(k, "tenant") || is(k, "team") || is(k, "key")))
        return deny(err, errlen, "the finance role cannot read %ss%s", k->kind, "");
    if (p->role == ASC_RBAC_DEVELOPER) {
        if (is(k, "key") || is(k, "user"))
            *owner = p->subject;
        else if (!(is(k, "tenant") || is(k, "team")))
            return deny(err, errlen, "the developer role cannot list %ss%s", k->kind, "");
    }
    if (p->tenant[0] != '\0')
        *tenant = p->tenant;
    else if (p->role != ASC_RBAC_AUDITOR && p->role != ASC_RBAC_FINANCE)
        return deny(err, errlen, "no tenant%s%s", "", "");
    return 0;
}

int asc_rbac_may_read_changes(const asc_principal_t *p, const char **tenant, char *err,
                              size_t errlen)
{
    *tenant = NULL;
    switch (p->role) {
    case ASC_RBAC_PLATFORM_ADMIN: return 0;
    case ASC_RBAC_AUDITOR:
    case ASC_RBAC_TENANT_ADMIN:
        if (p->tenant[0] != '\0')
            *tenant = p->tenant;
        else if (p->role == ASC_RBAC_TENANT_ADMIN)
            return deny(err, errlen, "no tenant%s%s", "", "");
        return 0;
    default: return deny(err, errlen, "the %s role cannot read the change log%s", role(p), "");
    }
}

int asc_rbac_may_read_revisions(const asc_principal_t *p, char *err, size_t errlen)
{
    if (p->role == ASC_RBAC_PLATFORM_ADMIN || (p->role == ASC_RBAC_AUDITOR && !p->tenant[0]))
        return 0;
    return deny(err, errlen,
                "revisions span every tenant: platform-admin or a platform auditor only%s%s", "",
                "");
}

int asc_rbac_may_apply(const asc_principal_t *p, char *err, size_t errlen)
{
    if (p->role == ASC_RBAC_PLATFORM_ADMIN)
        return 0;
    return deny(err, errlen, "applying a config file is for a platform-admin%s%s", "", "");
}

/*
 * Admin API dispatch for authenticated callers, and the routes that are not
 * objects: whoami, revisions, changes and apply.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin/routes.h"
#include "config/yaml.h"
#include "core/clock.h"

static void whoami(asc_http_req_t *req, const asc_principal_t *p)
{
    cJSON *b = cJSON_CreateObject();
    cJSON_AddStringToObject(b, "subject", p->subject);
    cJSON_AddStringToObject(b, "role", asc_config_role_name(p->role));
    if (p->tenant[0])
        cJSON_AddStringToObject(b, "tenant", p->tenant);
    else
        cJSON_AddNullToObject(b, "tenant");
    if (p->team[0])
        cJSON_AddStringToObject(b, "team", p->team);
    else
        cJSON_AddNullToObject(b, "team");
    cJSON_AddStringToObject(b, "via", p->via);
    asc_admin_json(req, 200, b, NULL, 0);
    cJSON_Delete(b);
}

static int limit_param(asc_http_req_t *req, size_t *limit)
{
    const char *v = asc_admin_query(req, "limit");
    *limit = 100;
    if (v == NULL)
        return 1;
    char *end = NULL;
    long n = strtol(v, &end, 10);
    if (end == v || *end != '\0' || n < 1 || n > 500) {
        asc_admin_error(req, 400, "invalid_request", "limit: must be 1 to 500");
        return 0;
    }
    *limit = (size_t)n;
    return 1;
}

static int cursor_param(asc_http_req_t *req, uint64_t *cursor)
{
    const char *v = asc_admin_query(req, "cursor");
    *cursor = 0;
    if (v == NULL)
        return 1;
    char *end = NULL;
    unsigned long long n = strtoull(v, &end, 10);
    if (end == v || *end != '\0') {
        asc_admin_error(req, 400, "invalid_request", "cursor: must be the next_cursor returned");
        return 0;
    }
    *cursor = n;
    return 1;
}

static void put_time(cJSON *o, const char *name, int64_t ms)
{
    char t[64];
    asc_clock_rfc3339((uint64_t)ms, t);
    cJSON_AddStringToObject(o, name, t);
}

static void revisions(asc_admin_t *a, asc_http_req_t *req, const asc_principal_t *p)
{
    char err[512];
    int st = asc_rbac_may_read_revisions(p, err, sizeof err);
    size_t limit;
    uint64_t before;
    if (st != 0) {
        asc_admin_error(req, st, "forbidden", err);
        return;
    }
    if (!limit_param(req, &limit) || !cursor_param(req, &before))
        return;
    asc_store_t *s = asc_control_store(a->ctl);
    asc_store_rev_t *r = NULL;
    size_t n = 0;
    if (s->be->rev_list(s, before, limit + 1, &r, &n, err, sizeof err) != ASC_OK) {
        asc_admin_error(req, 503, "store_unavailable", "the store is unavailable");
        return;
    }
    cJSON *b = cJSON_CreateObject();
    cJSON_AddStringToObject(b, "object", "list");
    cJSON *data = cJSON_AddArrayToObject(b, "data");
    for (size_t i = 0; i < n && i < limit; i++) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddNumberToObject(o, "revision", (double)r[i].revision);
        cJSON_AddStringToObject(o, "actor", r[i].actor ? r[i].actor : "");
        cJSON_AddStringToObject(o, "source", r[i].source ? r[i].source : "");
        cJSON_AddStringToObject(o, "summary", r[i].summary ? r[i].summary : "");
        put_time(o, "at", r[i].at);
        cJSON_AddItemToArray(data, o);
    }
    if (n > limit) {
        char c[32];
        snprintf(c, sizeof c, "%llu", (unsigned long long)r[limit - 1].revision);
        cJSON_AddStringToObject(b, "next_cursor", c);
    } else {
        cJSON_AddNullToObject(b, "next_cursor");
    }
    asc_store_revs_free(r, n);
    asc_admin_json(req, 200, b, NULL, 0);
    cJSON_Delete(b);
}

static void changes(asc_admin_t *a, asc_http_req_t *req, const asc_principal_t *p)
{
    char err[512];
    const char *tenant = NULL;
    int st = asc_rbac_may_read_changes(p, &tenant, err, sizeof err);
    if (st != 0) {
        asc_admin_error(req, st, "forbidden", err);
        return;
    }
    asc_store_change_query_t q = {0};
    uint64_t after;
    if (!limit_param(req, &q.limit) || !cursor_param(req, &after))
        return;
    q.after_id = after;
    q.kind = asc_admin_query(req, "kind");
    if (q.kind != NULL && asc_control_kind(q.kind) != NULL)
        q.kind = asc_control_kind(q.kind)->kind;
    q.name = asc_admin_query(req, "name");
    q.actor = asc_admin_query(req, "actor");
    const char *ft = asc_admin_query(req, "tenant");
    if (tenant != NULL && ft != NULL && strcmp(ft, tenant) != 0) {
        asc_admin_error(req, 403, "forbidden", "that filter reaches outside your tenant");
        return;
    }
    q.tenant = tenant ? tenant : ft;
    asc_store_t *s = asc_control_store(a->ctl);
    asc_store_changes_t c = {0};
    if (s->be->change_list(s, &q, &c, err, sizeof err) != ASC_OK) {
        asc_admin_error(req, 503, "store_unavailable", "the store is unavailable");
        return;
    }
    cJSON *b = cJSON_CreateObject();
    cJSON_AddStringToObject(b, "object", "list");
    cJSON *data = cJSON_AddArrayToObject(b, "data");
    for (size_t i = 0; i < c.n; i++) {
        const asc_store_change_t *ch = &c.items[i];
        cJSON *o = cJSON_CreateObject();
        cJSON_AddNumberToObject(o, "id", (double)ch->id);
        cJSON_AddNumberToObject(o, "revision", (double)ch->revision);
        cJSON_AddStringToObject(o, "actor", ch->actor ? ch->actor : "");
        cJSON_AddStringToObject(o, "kind", ch->kind ? ch->kind : "");
        cJSON_AddStringToObject(o, "name", ch->name ? ch->name : "");
        if (ch->tenant)
            cJSON_AddStringToObject(o, "tenant", ch->tenant);
        else
            cJSON_AddNullToObject(o, "tenant");
        cJSON_AddStringToObject(o, "action", ch->action ? ch->action : "");
        if (ch->before_digest)
            cJSON_AddStringToObject(o, "before_digest", ch->before_digest);
        else
            cJSON_AddNullToObject(o, "before_digest");
        if (ch->after_digest)
            cJSON_AddStringToObject(o, "after_digest", ch->after_digest);
        else
            cJSON_AddNullToObject(o, "after_digest");
        put_time(o, "at", ch->at);
        cJSON_AddItemToArray(data, o);
    }
    if (c.more && c.n > 0) {
        char cur[32];
        snprintf(cur, sizeof cur, "%llu", (unsigned long long)c.items[c.n - 1].id);
        cJSON_AddStringToObject(b, "next_cursor", cur);
    } else {
        cJSON_AddNullToObject(b, "next_cursor");
    }
    asc_store_changes_free(&c);
    asc_admin_json(req, 200, b, NULL, 0);
    cJSON_Delete(b);
}

static void apply(asc_admin_t *a, asc_http_req_t *req, const asc_principal_t *p)
{
    char err[1024], actor[320];
    int st = asc_rbac_may_apply(p, err, sizeof err);
    if (st != 0) {
        asc_admin_error(req, st, "forbidden", err);
        return;
    }
    if (req->method != 3) {
        asc_admin_error(req, 405, "method_not_allowed", "POST the config file");
        return;
    }
    const char *dry = asc_admin_query(req, "dry_run");
    const char *file = asc_admin_query(req, "file");
    if (file == NULL || file[0] == '\0')
        file = "apply";
    if (strlen(file) > 1024) {
        asc_admin_error(req, 400, "invalid_request", "file: at most 1024 characters");
        return;
    }
    /* JSON is YAML too; the YAML reader refuses duplicate keys and deep
     * nesting */
    cJSON *tree = asc_yaml_parse(req->body, req->body_len, err, sizeof err);
    if (tree == NULL) {
        asc_admin_error(req, 400, "invalid_request", err);
        return;
    }
    /* No ${VAR} expansion here: the server's environment holds its secrets
     * (provider keys, the admin token, the master key). `asc apply -f`
     * expands variables from the caller's environment before it sends. */
    char source[1100];
    snprintf(source, sizeof source, "file:%s", file);
    asc_admin_actor(p, actor, sizeof actor);
    cJSON *report = NULL;
    int status = 0;
    int dry_run = dry != NULL && strcmp(dry, "0") != 0 && strcmp(dry, "false") != 0;
    if (asc_control_apply(a->ctl, tree, source, actor, dry_run, &report, &status, err,
                          sizeof err) != ASC_OK) {
        asc_admin_error(req, status ? status : 400,
                        status == 503 ? "store_unavailable" : "invalid_request", err);
    } else {
        asc_admin_json(req, 200, report, NULL, 0);
    }
    cJSON_Delete(report);
    cJSON_Delete(tree);
}

void asc_admin_route(asc_admin_t *a, asc_http_req_t *req, const asc_snapshot_t *snap,
                     const asc_principal_t *p, const char *rest)
{
    if (strcmp(rest, "whoami") == 0) {
        whoami(req, p);
        return;
    }
    if (strcmp(rest, "revisions") == 0) {
        revisions(a, req, p);
        return;
    }
    if (strcmp(rest, "changes") == 0) {
        changes(a, req, p);
        return;
    }
    if (strcmp(rest, "apply") == 0) {
        apply(a, req, p);
        return;
    }
    /* <plural>[/<name>[/<action>]]: the name is percent-decoded */
    const char *s1 = strchr(rest, '/');
    size_t kl = s1 ? (size_t)(s1 - rest) : strlen(rest);
    char kind[32];
    if (kl == 0 || kl >= sizeof kind) {
        asc_admin_error(req, 404, "not_found", "no such admin route (see docs/admin.md)");
        return;
    }
    memcpy(kind, rest, kl);
    kind[kl] = '\0';
    const asc_kind_t *k = asc_control_kind(kind);
    if (k == NULL || strcmp(k->plural, kind) != 0) {
        asc_admin_error(req, 404, "not_found", "no such admin route (see docs/admin.md)");
        return;
    }
    const char *name = NULL, *action = NULL;
    if (s1 != NULL) {
        const char *s2 = strchr(s1 + 1, '/');
        size_t nl = s2 ? (size_t)(s2 - s1 - 1) : strlen(s1 + 1);
        name = asc_admin_unescape(req->pool, s1 + 1, nl);
        if (name == NULL || name[0] == '\0' || strlen(name) > 256) {
            asc_admin_error(req, 400, "invalid_request", "bad object name in the path");
            return;
        }
        if (s2 != NULL) {
            action = s2 + 1;
            if (strchr(action, '/') != NULL || action[0] == '\0') {
                asc_admin_error(req, 404, "not_found", "no such admin route (see docs/admin.md)");
                return;
            }
        }
    }
    asc_admin_objects(a, req, snap, p, k, name, action);
}

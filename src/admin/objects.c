/*
 * Admin API object routes: list, get, create, replace, patch, delete, and
 * the key actions rotate and revoke. Secrets enter here and leave only
 * once: a generated key or token in its create/rotate response, a
 * credential's secret never (it is sealed before it is stored).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "admin/routes.h"
#include "auth/key.h"
#include "core/clock.h"
#include "core/log.h"

#define LIST_MAX 500
#define LIST_DEFAULT 100

static const char *doc_str(const cJSON *doc, const char *field)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(doc, field);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static int is(const asc_kind_t *k, const char *kind)
{
    return strcmp(k->kind, kind) == 0;
}

static void put_time(cJSON *o, const char *name, int64_t ms)
{
    if (ms <= 0) {
        cJSON_AddNullToObject(o, name);
        return;
    }
    char t[64];
    asc_clock_rfc3339((uint64_t)ms, t);
    cJSON_AddStringToObject(o, name, t);
}

void asc_admin_actor(const asc_principal_t *p, char *out, size_t len)
{
    if (strcmp(p->via, "bootstrap-token") == 0)
        snprintf(out, len, "bootstrap-token");
    else
        snprintf(out, len, "%s (%s)", p->subject, p->via);
}

/* Last use of key `name`: the store's, or the data plane's if newer. */
static int64_t last_used_ms(asc_admin_t *a, const asc_snapshot_t *snap, const char *name)
{
    int64_t at = 0;
    char err[128];
    asc_store_t *st = asc_control_store(a->ctl);
    if (st->be->key_last_used(st, name, &at, err, sizeof err) != ASC_OK)
        at = 0;
    for (size_t i = 0; snap != NULL && i < snap->nkeys; i++) {
        if (strcmp(snap->keys[i].name, name) != 0)
            continue;
        int64_t s = atomic_load_explicit(&snap->keys[i].last_used_s, memory_order_relaxed);
        if (s * 1000 > at)
            at = s * 1000;
    }
    return at;
}

cJSON *asc_admin_render(asc_admin_t *a, const asc_kind_t *k, const asc_store_obj_t *o,
                        const asc_snapshot_t *snap)
{
    cJSON *d = cJSON_Parse(o->doc);
    if (d == NULL)
        d = cJSON_CreateObject();
    if (is(k, "key") || is(k, "token")) {
        const char *hint = doc_str(d, "hint");
        cJSON_AddStringToObject(d, "key_hint", hint ? hint : "");
        const char *ref = doc_str(d, "key");
        if (ref != NULL && strncmp(ref, "env:", 4) == 0)
            cJSON_AddStringToObject(d, "key_ref", ref); /* a reference, not a secret */
        cJSON_DeleteItemFromObjectCaseSensitive(d, "key");
        cJSON_DeleteItemFromObjectCaseSensitive(d, "previous_key");
        cJSON_DeleteItemFromObjectCaseSensitive(d, "hint");
    }
    if (is(k, "key")) {
        put_time(d, "last_used_at", last_used_ms(a, snap, o->name));
        const cJSON *rev = cJSON_GetObjectItemCaseSensitive(d, "revoked");
        const cJSON *exp = cJSON_GetObjectItemCaseSensitive(d, "expires_at");
        int64_t at = 0;
        const char *state = "active";
        if (cJSON_IsTrue(rev))
            state = "revoked";
        else if (cJSON_IsString(exp) && asc_clock_parse_rfc3339(exp->valuestring, &at) == 0 &&
                 (int64_t)asc_clock_wall_ms() >= at)
            state = "expired";
        cJSON_AddStringToObject(d, "state", state);
    }
    if (is(k, "credential")) {
        const char *ref = doc_str(d, "api_key");
        if (ref != NULL && asc_secret_is_sealed(ref))
            cJSON_DeleteItemFromObjectCaseSensitive(d, "api_key");
        if (cJSON_GetObjectItemCaseSensitive(d, "last4") == NULL)
            cJSON_AddNullToObject(d, "last4");
        if (cJSON_GetObjectItemCaseSensitive(d, "tenant") == NULL)
            cJSON_AddNullToObject(d, "tenant");
    }
    cJSON *m = cJSON_AddObjectToObject(d, "meta");
    cJSON_AddNumberToObject(m, "revision", (double)o->revision);
    cJSON_AddStringToObject(m, "etag", o->etag ? o->etag : "");
    cJSON_AddStringToObject(m, "managed_by", o->source ? o->source : "api");
    put_time(m, "created_at", o->created_at);
    put_time(m, "updated_at", o->updated_at);
    if (o->created_by)
        cJSON_AddStringToObject(m, "created_by", o->created_by);
    if (o->updated_by)
        cJSON_AddStringToObject(m, "updated_by", o->updated_by);
    return d;
}

/* Duplicate member names anywhere in the tree (a validator and a consumer
 * must never read different values of one field). */
static int has_duplicates(const cJSON *n, int depth)
{
    if (depth > 64)
        return 1;
    for (const cJSON *c = n ? n->child : NULL; c != NULL; c = c->next) {
        if (cJSON_IsObject(n))
            for (const cJSON *d = c->next; d != NULL; d = d->next)
                if (strcmp(c->string, d->string) == 0)
                    return 1;
        if ((cJSON_IsObject(c) || cJSON_IsArray(c)) && has_duplicates(c, depth + 1))
            return 1;
    }
    return 0;
}

/* The request body as a JSON object, or NULL after responding 400. */
static cJSON *body_object(asc_http_req_t *req, int allow_empty)
{
    if (req->body_len == 0 && allow_empty)
        return cJSON_CreateObject();
    cJSON *b = cJSON_ParseWithLength(req->body, req->body_len);
    if (b == NULL || !cJSON_IsObject(b)) {
        cJSON_Delete(b);
        asc_admin_error(req, 400, "invalid_request", "the body must be a JSON object");
        return NULL;
    }
    if (has_duplicates(b, 0)) {
        cJSON_Delete(b);
        asc_admin_error(req, 400, "invalid_request",
                        "the body repeats a member name (or nests deeper than 64)");
        return NULL;
    }
    return b;
}

/* If-Match: the etag (quotes and W/ removed); NULL when absent or "*". */
static const char *if_match(asc_http_req_t *req)
{
    size_t n = 0;
    const char *v = asc_http_req_header(req, "if-match", &n);
    if (v == NULL || (n == 1 && v[0] == '*'))
        return NULL;
    if (n > 2 && v[0] == 'W' && v[1] == '/') {
        v += 2;
        n -= 2;
    }
    if (n >= 2 && v[0] == '"' && v[n - 1] == '"') {
        v++;
        n -= 2;
    }
    char *s = asc_pool_alloc(req->pool, n + 1);
    memcpy(s, v, n);
    s[n] = '\0';
    return s;
}

static void respond_obj(asc_admin_t *a, asc_http_req_t *req, int status, const asc_kind_t *k,
                        const asc_store_obj_t *o, const asc_snapshot_t *snap, const char *secret)
{
    cJSON *d = asc_admin_render(a, k, o, snap);
    if (secret != NULL)
        cJSON_AddStringToObject(d, "secret", secret);
    char etag[80];
    snprintf(etag, sizeof etag, "\"%s\"", o->etag ? o->etag : "");
    asc_http_header_t h = {"ETag", 4, etag, strlen(etag)};
    asc_admin_json(req, status, d, &h, 1);
    if (secret != NULL) {
        /* the rendered copy held the secret too */
        cJSON *s = cJSON_GetObjectItemCaseSensitive(d, "secret");
        if (s != NULL && s->valuestring != NULL)
            sodium_memzero(s->valuestring, strlen(s->valuestring));
    }
    cJSON_Delete(d);
}

typedef struct {
    const asc_principal_t *p;
} check_ud_t;

static int check_change(void *ud, const asc_kind_t *k, const cJSON *before, const cJSON *after,
                        char *err, size_t errlen)
{
    const check_ud_t *c = ud;
    return asc_rbac_check_change(c->p, k, before, after, err, errlen);
}

static void write_error(asc_http_req_t *req, const asc_ctl_result_t *r, const char *err)
{
    asc_admin_error(req, r->status ? r->status : 500, r->code ? r->code : "internal_error", err);
}

/* Generate a secret with prefix into out (>= 64 bytes); ref gets
 * "sha256:<hex>" and hint "...abcd". */
static void new_secret(const char *prefix, char *out, size_t outlen, char ref[72], char hint[8])
{
    char k[64];
    asc_key_generate(k, sizeof k); /* "sk-asc-" + 43 */
    snprintf(out, outlen, "%s%s", prefix, k + 7);
    sodium_memzero(k, sizeof k);
    uint8_t h[32];
    char hex[65];
    asc_key_hash(out, strlen(out), h);
    sodium_bin2hex(hex, sizeof hex, h, sizeof h);
    snprintf(ref, 72, "sha256:%s", hex);
    snprintf(hint, 8, "...%s", out + strlen(out) - 4);
}

static int refuse_fields(asc_http_req_t *req, const cJSON *doc, const char *const *fields, size_t n,
                         const char *why)
{
    for (size_t i = 0; i < n; i++) {
        if (cJSON_GetObjectItemCaseSensitive(doc, fields[i]) != NULL) {
            char msg[256];
            snprintf(msg, sizeof msg, "%s: %s", fields[i], why);
            asc_admin_error(req, 400, "invalid_request", msg);
            return 1;
        }
    }
    return 0;
}

static const char *const key_managed[] = {"previous_key", "previous_expires_at", "hint"};

/* Seal a credential's "secret" member into api_key + last4. Returns 0 after
 * responding with an error. */
static int seal_credential(asc_admin_t *a, asc_http_req_t *req, const asc_principal_t *p,
                           const char *name, cJSON *doc, int required)
{
    const cJSON *sec = cJSON_GetObjectItemCaseSensitive(doc, "secret");
    const char *ref = doc_str(doc, "api_key");
    if (cJSON_GetObjectItemCaseSensitive(doc, "last4") != NULL) {
        asc_admin_error(req, 400, "invalid_request", "last4: set by the server");
        return 0;
    }
    if (ref != NULL) {
        if (p->role != ASC_RBAC_PLATFORM_ADMIN || asc_secret_is_sealed(ref)) {
            asc_admin_error(req, 403, "forbidden",
                            "api_key references (env:, file:) are for a platform-admin; send "
                            "the secret in \"secret\"");
            return 0;
        }
        if (sec != NULL) {
            asc_admin_error(req, 400, "invalid_request", "send either secret or api_key");
            return 0;
        }
        return 1;
    }
    if (sec == NULL) {
        if (!required)
            return 1;
        asc_admin_error(req, 400, "invalid_request", "secret: required (the provider API key)");
        return 0;
    }
    if (!cJSON_IsString(sec) || sec->valuestring[0] == '\0' || strlen(sec->valuestring) > 8192) {
        asc_admin_error(req, 400, "invalid_request", "secret: must be a non-empty string");
        return 0;
    }
    for (const char *c = sec->valuestring; *c; c++) {
        if ((unsigned char)*c < 0x21 || (unsigned char)*c == 0x7f) {
            /* it goes into an HTTP header: no CR/LF injection */
            asc_admin_error(req, 400, "invalid_request",
                            "secret: must not contain spaces or control characters");
            return 0;
        }
    }
    if (a->box == NULL) {
        asc_admin_error(req, 503, "store_unavailable", "no master key: cannot seal secrets");
        return 0;
    }
    char ad[128], err[256], last4[5];
    char *sealed = NULL;
    size_t sl = strlen(sec->valuestring);
    snprintf(ad, sizeof ad, "credential:%s", name);
    if (asc_secret_seal(a->box, ad, sec->valuestring, sl, &sealed, err, sizeof err) != ASC_OK) {
        asc_admin_error(req, 500, "internal_error", "cannot seal the secret");
        return 0;
    }
    asc_secret_last4(sec->valuestring, sl, last4);
    sodium_memzero(sec->valuestring, sl);
    cJSON_DeleteItemFromObjectCaseSensitive(doc, "secret");
    cJSON_AddStringToObject(doc, "api_key", sealed);
    if (last4[0] != '\0')
        cJSON_AddStringToObject(doc, "last4", last4);
    free(sealed);
    return 1;
}

static int printable(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || (unsigned char)*s == 0x7f)
            return 0;
    return 1;
}

static void do_list(asc_admin_t *a, asc_http_req_t *req, const asc_snapshot_t *snap,
                    const asc_principal_t *p, const asc_kind_t *k)
{
    char err[512];
    const char *ft = NULL, *fo = NULL;
    int st = asc_rbac_list_scope(p, k, &ft, &fo, err, sizeof err);
    if (st != 0) {
        asc_admin_error(req, st, "forbidden", err);
        return;
    }
    asc_store_query_t q = {.kind = k->kind, .limit = LIST_DEFAULT};
    static const char *const filters[] = {"tenant", "team", "owner", "prefix", "cursor", "limit"};
    const char *fv[6];
    for (size_t i = 0; i < 6; i++) {
        fv[i] = asc_admin_query(req, filters[i]);
        if (fv[i] != NULL && (strlen(fv[i]) > 256 || !printable(fv[i]))) {
            snprintf(err, sizeof err, "%s: must be at most 256 printable characters", filters[i]);
            asc_admin_error(req, 400, "invalid_request", err);
            return;
        }
    }
    if (fv[5] != NULL) {
        char *end = NULL;
        long n = strtol(fv[5], &end, 10);
        if (end == fv[5] || *end != '\0' || n < 1 || n > LIST_MAX) {
            asc_admin_error(req, 400, "invalid_request", "limit: must be 1 to 500");
            return;
        }
        q.limit = (size_t)n;
    }
    if ((ft && fv[0] && strcmp(ft, fv[0]) != 0) || (fo && fv[2] && strcmp(fo, fv[2]) != 0)) {
        asc_admin_error(req, 403, "forbidden", "that filter reaches outside your scope");
        return;
    }
    q.tenant = ft ? ft : fv[0];
    q.team = fv[1];
    q.owner = fo ? fo : fv[2];
    q.prefix = fv[3];
    q.after = fv[4];
    asc_store_t *s = asc_control_store(a->ctl);
    asc_store_list_t l = {0};
    if (s->be->list(s, &q, &l, err, sizeof err) != ASC_OK) {
        asc_admin_error(req, 503, "store_unavailable", "the store is unavailable");
        return;
    }
    cJSON *body = cJSON_CreateObject();
    cJSON_AddStringToObject(body, "object", "list");
    cJSON *data = cJSON_AddArrayToObject(body, "data");
    for (size_t i = 0; i < l.n; i++) {
        cJSON *d = cJSON_Parse(l.items[i].doc);
        int ok = asc_rbac_check(p, ASC_RBAC_READ, k, d, err, sizeof err) == 0;
        cJSON_Delete(d);
        if (ok)
            cJSON_AddItemToArray(data, asc_admin_render(a, k, &l.items[i], snap));
    }
    if (l.more && l.n > 0)
        cJSON_AddStringToObject(body, "next_cursor", l.items[l.n - 1].name);
    else
        cJSON_AddNullToObject(body, "next_cursor");
    asc_store_list_free(&l);
    asc_admin_json(req, 200, body, NULL, 0);
    cJSON_Delete(body);
}

/* Load one object; 0 after responding 404/403/503. */
static int load(asc_admin_t *a, asc_http_req_t *req, const asc_principal_t *p, const asc_kind_t *k,
                const char *name, asc_store_obj_t *o, cJSON **doc)
{
    char err[512];
    asc_store_t *s = asc_control_store(a->ctl);
    asc_err_t e = s->be->get(s, k->kind, name, o, err, sizeof err);
    if (e == ASC_ENOTFOUND) {
        snprintf(err, sizeof err, "%s %.64s does not exist", k->kind, name);
        asc_admin_error(req, 404, "not_found", err);
        return 0;
    }
    if (e != ASC_OK) {
        asc_admin_error(req, 503, "store_unavailable", "the store is unavailable");
        return 0;
    }
    *doc = cJSON_Parse(o->doc);
    int st = asc_rbac_check(p, ASC_RBAC_READ, k, *doc, err, sizeof err);
    if (st != 0) {
        asc_admin_error(req, st, "forbidden", err);
        cJSON_Delete(*doc);
        *doc = NULL;
        asc_store_obj_free(o);
        return 0;
    }
    return 1;
}

static void write_one(asc_admin_t *a, asc_http_req_t *req, const asc_snapshot_t *snap,
                      const asc_principal_t *p, const asc_ctl_op_t *op, const char *secret)
{
    char err[1024], actor[320];
    asc_ctl_result_t r;
    check_ud_t cu = {p};
    asc_admin_actor(p, actor, sizeof actor);
    if (asc_control_write(a->ctl, actor, op, check_change, &cu, &r, err, sizeof err) != ASC_OK) {
        write_error(req, &r, err);
        asc_ctl_result_free(&r);
        return;
    }
    if (r.status == 204) {
        asc_http_respond(req, 204, NULL, 0, NULL, 0);
    } else {
        /* the new snapshot is published: render with it */
        asc_snapshot_t *now = asc_snapshot_current();
        respond_obj(a, req, r.status, op->kind, &r.obj, now ? now : snap, secret);
        asc_snapshot_unref(now);
    }
    asc_ctl_result_free(&r);
}

static void do_create(asc_admin_t *a, asc_http_req_t *req, const asc_snapshot_t *snap,
                      const asc_principal_t *p, const asc_kind_t *k)
{
    cJSON *doc = body_object(req, 0);
    if (doc == NULL)
        return;
    char secret[128] = "";
    const char *name = doc_str(doc, "name");
    if (name == NULL) {
        asc_admin_error(req, 400, "invalid_request", "name: required");
        goto out;
    }
    if (is(k, "key")) {
        if (refuse_fields(req, doc, key_managed, 3, "set by the server"))
            goto out;
        const char *ref = doc_str(doc, "key");
        if (cJSON_GetObjectItemCaseSensitive(doc, "key") != NULL &&
            (ref == NULL || strncmp(ref, "sha256:", 7) != 0)) {
            asc_admin_error(req, 400, "invalid_request",
                            "key: leave it out to have a key generated, or give sha256:<hex> of "
                            "your own");
            goto out;
        }
        if (ref == NULL) {
            char kref[72], hint[8];
            new_secret("sk-asc-", secret, sizeof secret, kref, hint);
            cJSON_AddStringToObject(doc, "key", kref);
            cJSON_AddStringToObject(doc, "hint", hint);
        }
        if (doc_str(doc, "owner") == NULL && strcmp(p->via, "bootstrap-token") != 0)
            cJSON_AddStringToObject(doc, "owner", p->subject);
        if (p->role == ASC_RBAC_DEVELOPER || p->role == ASC_RBAC_TENANT_ADMIN) {
            if (cJSON_GetObjectItemCaseSensitive(doc, "tenant") == NULL)
                cJSON_AddStringToObject(doc, "tenant", p->tenant);
            if (p->role == ASC_RBAC_DEVELOPER &&
                cJSON_GetObjectItemCaseSensitive(doc, "team") == NULL)
                cJSON_AddStringToObject(doc, "team", p->team);
        }
    } else if (is(k, "credential")) {
        if (p->role == ASC_RBAC_TENANT_ADMIN &&
            cJSON_GetObjectItemCaseSensitive(doc, "tenant") == NULL)
            cJSON_AddStringToObject(doc, "tenant", p->tenant);
        if (!seal_credential(a, req, p, name, doc, 1))
            goto out;
    } else if (is(k, "token")) {
        static const char *const allowed[] = {"name", "expires_at"};
        const cJSON *m;
        cJSON_ArrayForEach(m, doc)
        {
            if (strcmp(m->string, allowed[0]) != 0 && strcmp(m->string, allowed[1]) != 0) {
                char msg[200];
                snprintf(msg, sizeof msg, "%.64s: a token takes only name and expires_at",
                         m->string);
                asc_admin_error(req, 400, "invalid_request", msg);
                goto out;
            }
        }
        const cJSON *exp = cJSON_GetObjectItemCaseSensitive(doc, "expires_at");
        int64_t at;
        if (exp != NULL &&
            (!cJSON_IsString(exp) || asc_clock_parse_rfc3339(exp->valuestring, &at) != 0)) {
            asc_admin_error(req, 400, "invalid_request",
                            "expires_at: must be an RFC 3339 time such as 2027-01-31T00:00:00Z");
            goto out;
        }
        if (!asc_config_name_ok(name)) {
            asc_admin_error(req, 400, "invalid_request",
                            "name: 1-64 characters of A-Z, a-z, 0-9, '_', '.' and '-'");
            goto out;
        }
        char kref[72], hint[8];
        new_secret("asc-pat-", secret, sizeof secret, kref, hint);
        cJSON_AddStringToObject(doc, "user", p->subject);
        cJSON_AddStringToObject(doc, "role", asc_config_role_name(p->role));
        if (p->tenant[0])
            cJSON_AddStringToObject(doc, "tenant", p->tenant);
        if (p->team[0])
            cJSON_AddStringToObject(doc, "team", p->team);
        cJSON_AddStringToObject(doc, "key", kref);
        cJSON_AddStringToObject(doc, "hint", hint);
        /* a token of a user object dies with it */
        if (p->bound)
            cJSON_AddTrueToObject(doc, "bound");
    }
    asc_ctl_op_t op = {.action = ASC_CTL_CREATE, .kind = k, .name = name, .doc = doc};
    write_one(a, req, snap, p, &op, secret[0] ? secret : NULL);
out:
    sodium_memzero(secret, sizeof secret);
    cJSON_Delete(doc);
}

static void do_update(asc_admin_t *a, asc_http_req_t *req, const asc_snapshot_t *snap,
                      const asc_principal_t *p, const asc_kind_t *k, const char *name, int patch)
{
    asc_store_obj_t cur = {0};
    cJSON *before = NULL;
    cJSON *doc = NULL;
    if (is(k, "token")) {
        asc_admin_error(req, 405, "method_not_allowed",
                        "tokens cannot be changed: create a new one and delete this one");
        return;
    }
    if (!load(a, req, p, k, name, &cur, &before))
        return;
    doc = body_object(req, 0);
    if (doc == NULL)
        goto out;
    const char *etag = if_match(req);
    if (is(k, "key")) {
        if (refuse_fields(req, doc, key_managed, 3, "set by the server (use rotate)"))
            goto out;
        if (cJSON_GetObjectItemCaseSensitive(doc, "key") != NULL) {
            asc_admin_error(req, 400, "invalid_request",
                            "key: a key's secret changes only through rotate");
            goto out;
        }
        if (!patch) {
            /* keep the server-managed members of a replaced key */
            static const char *const keep[] = {"key", "previous_key", "previous_expires_at",
                                               "hint"};
            for (size_t i = 0; i < 4; i++) {
                const cJSON *v = cJSON_GetObjectItemCaseSensitive(before, keep[i]);
                if (v != NULL)
                    cJSON_AddItemToObject(doc, keep[i], cJSON_Duplicate(v, 1));
            }
        }
    } else if (is(k, "credential")) {
        if (!seal_credential(a, req, p, name, doc, 0))
            goto out;
        if (!patch && cJSON_GetObjectItemCaseSensitive(doc, "api_key") == NULL) {
            static const char *const keep[] = {"api_key", "last4"};
            for (size_t i = 0; i < 2; i++) {
                const cJSON *v = cJSON_GetObjectItemCaseSensitive(before, keep[i]);
                if (v != NULL)
                    cJSON_AddItemToObject(doc, keep[i], cJSON_Duplicate(v, 1));
            }
        }
    }
    asc_ctl_op_t op = {.action = patch ? ASC_CTL_PATCH : ASC_CTL_REPLACE,
                       .kind = k,
                       .name = name,
                       .doc = doc,
                       .if_match = etag ? etag : cur.etag};
    write_one(a, req, snap, p, &op, NULL);
out:
    cJSON_Delete(doc);
    cJSON_Delete(before);
    asc_store_obj_free(&cur);
}

static void do_delete(asc_admin_t *a, asc_http_req_t *req, const asc_snapshot_t *snap,
                      const asc_principal_t *p, const asc_kind_t *k, const char *name)
{
    asc_store_obj_t cur = {0};
    cJSON *before = NULL;
    if (!load(a, req, p, k, name, &cur, &before))
        return;
    const char *etag = if_match(req);
    asc_ctl_op_t op = {
        .action = ASC_CTL_DELETE, .kind = k, .name = name, .if_match = etag ? etag : cur.etag};
    write_one(a, req, snap, p, &op, NULL);
    cJSON_Delete(before);
    asc_store_obj_free(&cur);
}

static void do_rotate(asc_admin_t *a, asc_http_req_t *req, const asc_snapshot_t *snap,
                      const asc_principal_t *p, const char *name)
{
    const asc_kind_t *k = asc_control_kind("key");
    asc_store_obj_t cur = {0};
    cJSON *before = NULL, *body = NULL;
    char secret[128] = "";
    if (!load(a, req, p, k, name, &cur, &before))
        return;
    body = body_object(req, 1);
    if (body == NULL)
        goto out;
    double overlap = 0;
    const cJSON *ov = cJSON_GetObjectItemCaseSensitive(body, "overlap_seconds");
    if (ov != NULL) {
        if (!cJSON_IsNumber(ov) || ov->valuedouble < 0 || ov->valuedouble > 30 * 86400.0) {
            asc_admin_error(req, 400, "invalid_request",
                            "overlap_seconds: must be 0 to 2592000 (30 days)");
            goto out;
        }
        overlap = ov->valuedouble;
    }
    const char *old = doc_str(before, "key");
    if (old == NULL || strncmp(old, "sha256:", 7) != 0) {
        asc_admin_error(req, 409, "file_managed",
                        "this key's secret comes from the config file (env:): rotate it there");
        goto out;
    }
    cJSON *doc = cJSON_Duplicate(before, 1);
    char kref[72], hint[8];
    new_secret("sk-asc-", secret, sizeof secret, kref, hint);
    cJSON_DeleteItemFromObjectCaseSensitive(doc, "previous_key");
    cJSON_DeleteItemFromObjectCaseSensitive(doc, "previous_expires_at");
    if (overlap > 0) {
        char t[64];
        asc_clock_rfc3339(asc_clock_wall_ms() + (uint64_t)(overlap * 1000), t);
        cJSON_AddStringToObject(doc, "previous_key", old);
        cJSON_AddStringToObject(doc, "previous_expires_at", t);
    }
    cJSON_DeleteItemFromObjectCaseSensitive(doc, "key");
    cJSON_DeleteItemFromObjectCaseSensitive(doc, "hint");
    cJSON_AddStringToObject(doc, "key", kref);
    cJSON_AddStringToObject(doc, "hint", hint);
    asc_ctl_op_t op = {
        .action = ASC_CTL_REPLACE, .kind = k, .name = name, .doc = doc, .if_match = cur.etag};
    write_one(a, req, snap, p, &op, secret);
    cJSON_Delete(doc);
out:
    sodium_memzero(secret, sizeof secret);
    cJSON_Delete(body);
    cJSON_Delete(before);
    asc_store_obj_free(&cur);
}

static void do_revoke(asc_admin_t *a, asc_http_req_t *req, const asc_snapshot_t *snap,
                      const asc_principal_t *p, const char *name)
{
    const asc_kind_t *k = asc_control_kind("key");
    asc_store_obj_t cur = {0};
    cJSON *before = NULL;
    if (!load(a, req, p, k, name, &cur, &before))
        return;
    cJSON *patch = cJSON_CreateObject();
    cJSON_AddTrueToObject(patch, "revoked");
    asc_ctl_op_t op = {.action = ASC_CTL_PATCH, .kind = k, .name = name, .doc = patch};
    write_one(a, req, snap, p, &op, NULL);
    cJSON_Delete(patch);
    cJSON_Delete(before);
    asc_store_obj_free(&cur);
}

void asc_admin_objects(asc_admin_t *a, asc_http_req_t *req, const asc_snapshot_t *snap,
                       const asc_principal_t *p, const asc_kind_t *k, const char *name,
                       const char *action)
{
    int m = req->method;
    if (action != NULL) {
        if (!is(k, "key") || m != 3 /* POST */) {
            asc_admin_error(req, 404, "not_found", "no such action (keys: rotate, revoke)");
        } else if (strcmp(action, "rotate") == 0) {
            do_rotate(a, req, snap, p, name);
        } else if (strcmp(action, "revoke") == 0) {
            do_revoke(a, req, snap, p, name);
        } else {
            asc_admin_error(req, 404, "not_found", "no such action (keys: rotate, revoke)");
        }
        return;
    }
    if (name == NULL) {
        if (m == 1 /* GET */)
            do_list(a, req, snap, p, k);
        else if (m == 3 /* POST */)
            do_create(a, req, snap, p, k);
        else
            asc_admin_error(req, 405, "method_not_allowed", "use GET or POST on a collection");
        return;
    }
    if (m == 1) {
        asc_store_obj_t o = {0};
        cJSON *doc = NULL;
        if (load(a, req, p, k, name, &o, &doc))
            respond_obj(a, req, 200, k, &o, snap, NULL);
        cJSON_Delete(doc);
        asc_store_obj_free(&o);
    } else if (m == 4 /* PUT */) {
        do_update(a, req, snap, p, k, name, 0);
    } else if (m == 28 /* PATCH */) {
        do_update(a, req, snap, p, k, name, 1);
    } else if (m == 0 /* DELETE */) {
        do_delete(a, req, snap, p, k, name);
    } else {
        asc_admin_error(req, 405, "method_not_allowed", "use GET, PUT, PATCH or DELETE");
    }
}

/*
 * The one write path for single objects (admin API, CLI, portal): check
 * preconditions, let RBAC see exactly what would be written, validate the
 * whole new state, build its snapshot, and only then write and publish.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "control/internal.h"
#include "core/log.h"

asc_err_t asc_control_new(const asc_control_opts_t *o, asc_control_t **out, char *err,
                          size_t errlen)
{
    asc_control_t *c = calloc(1, sizeof *c);
    if (c == NULL)
        return ASC_ENOMEM;
    c->store = o->store;
    c->sink = o->sink;
    asc_err_t e = c->store->be->revision(c->store, &c->revision, err, errlen);
    if (e != ASC_OK) {
        free(c);
        return e;
    }
    *out = c;
    return ASC_OK;
}

void asc_control_free(asc_control_t *c)
{
    if (c == NULL)
        return;
    cJSON_Delete(c->process);
    free(c);
}

asc_store_t *asc_control_store(asc_control_t *c)
{
    return c->store;
}

uint64_t asc_control_revision(const asc_control_t *c)
{
    return c->revision;
}

asc_err_t asc_control_set_process(asc_control_t *c, const cJSON *file_tree, char *err,
                                  size_t errlen)
{
    cJSON *p = cJSON_CreateObject();
    if (p == NULL)
        return ASC_ENOMEM;
    static const char *const sections[] = {"server", "admin"};
    for (size_t i = 0; i < 2; i++) {
        const cJSON *s = cJSON_GetObjectItemCaseSensitive(file_tree, sections[i]);
        if (s != NULL)
            cJSON_AddItemToObject(p, sections[i], cJSON_Duplicate(s, 1));
    }
    cJSON_Delete(c->process);
    c->process = p;
    (void)err;
    (void)errlen;
    return ASC_OK;
}

/* Validate the state in sets and build its snapshot (not yet published). */
static asc_err_t prepare(asc_control_t *c, ctl_set_t sets[NKINDS], uint64_t rev, void **built,
                         char *err, size_t errlen)
{
    cJSON *tree = ctl_tree(c, sets);
    asc_config_t *cfg = NULL;
    asc_err_t e = ctl_validate(tree, &cfg, err, errlen);
    cJSON_Delete(tree);
    if (e != ASC_OK)
        return e;
    return c->sink.prepare(c->sink.ud, cfg, rev, built, err, errlen);
}

asc_err_t asc_control_load(asc_control_t *c, char *err, size_t errlen)
{
    ctl_set_t sets[NKINDS];
    asc_err_t e = ctl_load_all(c, sets, err, errlen);
    if (e != ASC_OK)
        return e;
    uint64_t rev = 0;
    e = c->store->be->revision(c->store, &rev, err, errlen);
    void *built = NULL;
    if (e == ASC_OK)
        e = prepare(c, sets, rev, &built, err, errlen);
    ctl_sets_free(sets);
    if (e != ASC_OK)
        return e;
    c->revision = rev;
    c->sink.commit(c->sink.ud, built);
    return ASC_OK;
}

/* RFC 7386 JSON merge patch of target by patch (target modified). */
static cJSON *merge_patch(cJSON *target, const cJSON *patch)
{
    if (!cJSON_IsObject(patch)) {
        cJSON_Delete(target);
        return cJSON_Duplicate(patch, 1);
    }
    if (!cJSON_IsObject(target)) {
        cJSON_Delete(target);
        target = cJSON_CreateObject();
    }
    const cJSON *m;
    cJSON_ArrayForEach(m, patch)
    {
        if (cJSON_IsNull(m)) {
            cJSON_DeleteItemFromObjectCaseSensitive(target, m->string);
            continue;
        }
        cJSON *cur = cJSON_DetachItemFromObjectCaseSensitive(target, m->string);
        cJSON_AddItemToObject(target, m->string, merge_patch(cur, m));
    }
    return target;
}

static asc_err_t fail(asc_ctl_result_t *res, int status, const char *code, char *err, size_t errlen,
                      const char *fmt, const char *a, const char *b)
{
    res->status = status;
    res->code = code;
    snprintf(err, errlen, fmt, a, b);
    return status == 503 ? ASC_EIO : ASC_EINVAL;
}

/* The name carried by the document, which must agree with the path's. */
static int name_mismatch(const cJSON *doc, const char *name)
{
    const cJSON *n = cJSON_GetObjectItemCaseSensitive(doc, "name");
    return n != NULL && (!cJSON_IsString(n) || strcmp(n->valuestring, name) != 0);
}

static cJSON *with_name(const cJSON *doc, const char *name)
{
    cJSON *d = cJSON_Duplicate(doc, 1);
    if (d == NULL)
        abort();
    cJSON_DeleteItemFromObjectCaseSensitive(d, "name");
    /* name first, as in the file */
    cJSON *n = cJSON_CreateString(name);
    n->string = ctl_strdup("name");
    n->next = d->child;
    if (d->child != NULL) {
        n->prev = d->child->prev;
        d->child->prev = n;
    } else {
        n->prev = n;
    }
    d->child = n;
    return d;
}

asc_err_t asc_control_write(asc_control_t *c, const char *actor, const asc_ctl_op_t *op,
                            asc_ctl_check_fn check, void *check_ud, asc_ctl_result_t *res,
                            char *err, size_t errlen)
{
    const asc_store_backend_t *be = c->store->be;
    ctl_set_t sets[NKINDS];
    void *built = NULL;
    int in_tx = 0, loaded = 0;
    asc_err_t e;
    memset(res, 0, sizeof *res);
    size_t k = ctl_kind_index(op->kind);

    if (op->action != ASC_CTL_DELETE && !cJSON_IsObject(op->doc)) {
        e = fail(res, 400, "invalid_request", err, errlen, "the body must be a JSON object%s%s", "",
                 "");
        goto out;
    }
    if (op->action != ASC_CTL_CREATE && op->action != ASC_CTL_DELETE &&
        name_mismatch(op->doc, op->name)) {
        e = fail(res, 400, "invalid_request", err, errlen,
                 "name: objects cannot be renamed (the path names %.64s)%s", op->name, "");
        goto out;
    }
    e = be->begin(c->store, err, errlen);
    if (e != ASC_OK) {
        res->status = 503;
        res->code = "store_unavailable";
        goto out;
    }
    in_tx = 1;
    e = ctl_load_all(c, sets, err, errlen);
    if (e != ASC_OK) {
        res->status = 503;
        res->code = "store_unavailable";
        goto out;
    }
    loaded = 1;
    ctl_obj_t *o = ctl_find(&sets[k], op->name);
    if (op->action != ASC_CTL_CREATE && o == NULL) {
        e = fail(res, 404, "not_found", err, errlen, "%s %.64s does not exist", op->kind->kind,
                 op->name);
        goto out;
    }
    /* the document as it would be written; RBAC decides on it before any
     * other answer (409, 412) can tell the caller about the object */
    cJSON *before = o && op->action != ASC_CTL_CREATE ? cJSON_Duplicate(o->doc, 1) : NULL;
    cJSON *after = NULL;
    if (op->action == ASC_CTL_PATCH) {
        cJSON *nd = merge_patch(cJSON_Duplicate(o->doc, 1), op->doc);
        after = with_name(nd, op->name);
        cJSON_Delete(nd);
    } else if (op->action != ASC_CTL_DELETE) {
        after = with_name(op->doc, op->name);
    }
    if (after != NULL)
        ctl_normalize(sets, op->kind, after);
    if (check != NULL) {
        int st = check(check_ud, op->kind, before, after, err, errlen);
        if (st != 0) {
            res->status = st;
            res->code = "forbidden";
            e = ASC_EDENIED;
            goto refused;
        }
    }
    if (op->action == ASC_CTL_CREATE && o != NULL) {
        e = fail(res, 409, "already_exists", err, errlen, "%s %.64s already exists", op->kind->kind,
                 op->name);
        goto refused;
    }
    if (op->action != ASC_CTL_CREATE && o->o.source != NULL &&
        strncmp(o->o.source, "file:", 5) == 0) {
        e = fail(res, 409, "file_managed", err, errlen,
                 "%s is managed by the config file %.300s: change it there and apply the file",
                 op->name, o->o.source + 5);
        goto refused;
    }
    if (op->action != ASC_CTL_CREATE && op->if_match != NULL &&
        strcmp(op->if_match, o->o.etag ? o->o.etag : "") != 0) {
        e = fail(res, 412, "precondition_failed", err, errlen,
                 "%s %.64s changed since that ETag was read; read it again", op->kind->kind,
                 op->name);
        goto refused;
    }
    cJSON_Delete(before);
    before = NULL;
    if (op->action == ASC_CTL_CREATE) {
        o = ctl_add(&sets[k]);
        o->o.name = ctl_strdup(op->name);
        o->o.source = ctl_strdup("api");
        o->doc = after;
        o->created = 1;
    } else if (op->action == ASC_CTL_DELETE) {
        o->deleted = 1;
    } else {
        cJSON_Delete(o->doc);
        o->doc = after;
        o->changed = 1;
    }
    after = NULL;
    if (!o->deleted)
        ctl_fill(o, op->kind);
    if (!o->deleted && !o->created && strcmp(o->o.etag, o->before) == 0) {
        /* nothing changes (RBAC allowed it): no revision */
        res->status = 200;
        res->revision = c->revision;
        res->obj = o->o;
        memset(&o->o, 0, sizeof o->o);
        goto out;
    }
    uint64_t rev = 0;
    e = be->revision(c->store, &rev, err, errlen);
    if (e == ASC_OK)
        rev++;
    if (e == ASC_OK)
        e = prepare(c, sets, rev, &built, err, errlen);
    if (e != ASC_OK) {
        res->status = e == ASC_EIO ? 503 : 400;
        res->code = e == ASC_EIO ? "store_unavailable" : "invalid_request";
        goto out;
    }
    char summary[160];
    snprintf(summary, sizeof summary, "%s %s %.64s",
             op->action == ASC_CTL_CREATE   ? "create"
             : op->action == ASC_CTL_DELETE ? "delete"
                                            : "update",
             op->kind->kind, op->name);
    e = ctl_write_changes(c, sets, rev, actor, "api", summary, err, errlen);
    if (e == ASC_OK)
        e = be->commit(c->store, err, errlen);
    if (e != ASC_OK) {
        res->status = 503;
        res->code = "store_unavailable";
        goto out;
    }
    in_tx = 0;
    c->revision = rev;
    c->sink.commit(c->sink.ud, built);
    built = NULL;
    res->status = op->action == ASC_CTL_CREATE ? 201 : op->action == ASC_CTL_DELETE ? 204 : 200;
    res->revision = rev;
    if (!o->deleted) {
        res->obj = o->o;
        memset(&o->o, 0, sizeof o->o);
    }
    goto out;
refused:
    cJSON_Delete(before);
    cJSON_Delete(after);
out:
    if (built != NULL)
        c->sink.discard(c->sink.ud, built);
    if (in_tx)
        be->rollback(c->store);
    if (loaded)
        ctl_sets_free(sets);
    return res->status >= 400 ? (e != ASC_OK ? e : ASC_EINVAL) : ASC_OK;
}

void asc_ctl_result_free(asc_ctl_result_t *r)
{
    asc_store_obj_free(&r->obj);
    memset(r, 0, sizeof *r);
}

asc_err_t asc_control_touch_key(asc_control_t *c, const char *name, int64_t at_s, char *err,
                                size_t errlen)
{
    return c->store->be->touch_key(c->store, name, at_s * 1000, err, errlen);
}

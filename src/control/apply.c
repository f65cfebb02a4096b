/*
 * Applying a whole config file as one revision (`asc serve --config`,
 * SIGHUP, `asc apply -f`, and `asc diff -f` as a dry run): the file's
 * objects become file-managed, objects the same file no longer declares are
 * deleted, objects created through the API are left alone. A file applied
 * twice is a no-op the second time (no revision).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "control/internal.h"
#include "core/log.h"

/* The file's objects of kind k as documents with their name first;
 * NULL entries are skipped (the validator reports them). */
static asc_err_t desired(const cJSON *tree, const asc_kind_t *k, cJSON **out, char *err,
                         size_t errlen)
{
    const cJSON *sec = cJSON_GetObjectItemCaseSensitive(tree, k->section);
    cJSON *arr = cJSON_CreateArray();
    *out = arr;
    if (sec == NULL || cJSON_IsNull(sec))
        return ASC_OK;
    const cJSON *el;
    size_t i = 0;
    cJSON_ArrayForEach(el, sec)
    {
        if (!cJSON_IsObject(el)) {
            snprintf(err, errlen, "%s[%zu]: must be a mapping", k->section, i);
            return ASC_EINVAL;
        }
        cJSON *d;
        if (cJSON_IsObject(sec)) {
            /* models: name -> route; the document carries its name first */
            d = cJSON_CreateObject();
            cJSON_AddStringToObject(d, "name", el->string);
            const cJSON *m;
            cJSON_ArrayForEach(m, el)
            {
                if (strcmp(m->string, "name") != 0)
                    cJSON_AddItemToObject(d, m->string, cJSON_Duplicate(m, 1));
            }
        } else {
            const cJSON *n = cJSON_GetObjectItemCaseSensitive(el, "name");
            if (!cJSON_IsString(n)) {
                snprintf(err, errlen, "%s[%zu].name: required", k->section, i);
                return ASC_EINVAL;
            }
            d = cJSON_Duplicate(el, 1);
        }
        cJSON_AddItemToArray(arr, d);
        i++;
    }
    return ASC_OK;
}

/* Top-level members whose value differs between two documents. */
static cJSON *changed_fields(const cJSON *a, const cJSON *b)
{
    cJSON *f = cJSON_CreateArray();
    const cJSON *m;
    cJSON_ArrayForEach(m, b)
    {
        const cJSON *o = a ? cJSON_GetObjectItemCaseSensitive(a, m->string) : NULL;
        if (o == NULL || !cJSON_Compare(o, m, 1))
            cJSON_AddItemToArray(f, cJSON_CreateString(m->string));
    }
    cJSON_ArrayForEach(m, a)
    {
        if (cJSON_GetObjectItemCaseSensitive(b, m->string) == NULL)
            cJSON_AddItemToArray(f, cJSON_CreateString(m->string));
    }
    return f;
}

static void report_add(cJSON *changes, const char *kind, const char *name, const char *action,
                       int drift, cJSON *fields)
{
    cJSON *c = cJSON_CreateObject();
    cJSON_AddStringToObject(c, "kind", kind);
    cJSON_AddStringToObject(c, "name", name);
    cJSON_AddStringToObject(c, "action", action);
    cJSON_AddBoolToObject(c, "drift", drift);
    cJSON_AddItemToObject(c, "fields", fields ? fields : cJSON_CreateArray());
    cJSON_AddItemToArray(changes, c);
}

/* The stored document differs from what its file last applied. */
static int drifted(const ctl_obj_t *o)
{
    return o->o.file_digest != NULL && o->o.file_digest[0] != '\0' && o->before[0] != '\0' &&
           strcmp(o->o.file_digest, o->before) != 0;
}

asc_err_t asc_control_apply(asc_control_t *c, const cJSON *tree, const char *source,
                            const char *actor, int dry_run, cJSON **report, int *status, char *err,
                            size_t errlen)
{
    const asc_store_backend_t *be = c->store->be;
    ctl_set_t sets[NKINDS];
    int in_tx = 0, loaded = 0;
    void *built = NULL;
    size_t nchanges = 0;
    asc_err_t e;
    cJSON *rep = cJSON_CreateObject();
    cJSON *changes = cJSON_CreateArray();
    *report = NULL;
    *status = 400;

    if (!cJSON_IsObject(tree)) {
        snprintf(err, errlen, "the config must be a mapping");
        e = ASC_EINVAL;
        goto out;
    }
    e = be->begin(c->store, err, errlen);
    if (e != ASC_OK) {
        *status = 503;
        goto out;
    }
    in_tx = 1;
    e = ctl_load_all(c, sets, err, errlen);
    if (e != ASC_OK) {
        *status = 503;
        goto out;
    }
    loaded = 1;
    for (size_t k = 0; k < asc_control_nkinds; k++) {
        const asc_kind_t *kd = &asc_control_kinds[k];
        if (kd->section == NULL)
            continue;
        cJSON *want = NULL;
        e = desired(tree, kd, &want, err, errlen);
        if (e != ASC_OK) {
            cJSON_Delete(want);
            goto out;
        }
        /* objects of this file that the file no longer declares */
        for (size_t i = 0; i < sets[k].n; i++) {
            ctl_obj_t *o = &sets[k].items[i];
            if (o->o.source == NULL || strcmp(o->o.source, source) != 0)
                continue;
            int found = 0;
            const cJSON *d;
            cJSON_ArrayForEach(d, want)
            {
                const cJSON *n = cJSON_GetObjectItemCaseSensitive(d, "name");
                if (strcmp(n->valuestring, o->o.name) == 0)
                    found = 1;
            }
            if (!found) {
                o->deleted = 1;
                report_add(changes, kd->kind, o->o.name, "delete", drifted(o), NULL);
                nchanges++;
            }
        }
        const cJSON *d;
        cJSON_ArrayForEach(d, want)
        {
            const char *name = cJSON_GetObjectItemCaseSensitive(d, "name")->valuestring;
            ctl_obj_t *o = ctl_find(&sets[k], name);
            ctl_normalize(sets, kd, (cJSON *)d);
            char *text = cJSON_PrintUnformatted(d);
            char dg[65];
            asc_store_digest(text, strlen(text), dg);
            free(text);
            if (o != NULL && strcmp(o->before, dg) == 0 && o->o.source != NULL &&
                strcmp(o->o.source, source) == 0) {
                if (o->o.file_digest == NULL || strcmp(o->o.file_digest, dg) != 0) {
                    /* same content, file digest lost: record it without a change */
                    free(o->o.file_digest);
                    o->o.file_digest = ctl_strdup(dg);
                }
                continue;
            }
            int created = o == NULL;
            int drift = 0;
            cJSON *fields = NULL;
            if (created) {
                o = ctl_add(&sets[k]);
                o->o.name = ctl_strdup(name);
                o->created = 1;
            } else {
                drift = drifted(o);
                fields = changed_fields(o->doc, d);
                cJSON_Delete(o->doc);
                o->changed = 1;
            }
            o->doc = cJSON_Duplicate(d, 1);
            free(o->o.source);
            o->o.source = ctl_strdup(source);
            free(o->o.file_digest);
            o->o.file_digest = ctl_strdup(dg);
            ctl_fill(o, kd);
            report_add(changes, kd->kind, name, created ? "create" : "update", drift, fields);
            nchanges++;
        }
        cJSON_Delete(want);
    }
    cJSON_AddItemToObject(rep, "changes", changes);
    changes = NULL;
    uint64_t rev = 0;
    e = be->revision(c->store, &rev, err, errlen);
    if (e != ASC_OK) {
        *status = 503;
        goto out;
    }
    /* Validate (and, for real, build) even when nothing changed: a file
     * whose objects are unchanged may still name a missing env var. */
    cJSON *t = ctl_tree(c, sets);
    asc_config_t *cfg = NULL;
    e = ctl_validate(t, &cfg, err, errlen);
    cJSON_Delete(t);
    if (e != ASC_OK)
        goto out;
    if (dry_run) {
        asc_config_free(cfg);
        cJSON_AddNullToObject(rep, "revision");
        *status = 200;
        goto out;
    }
    uint64_t newrev = nchanges ? rev + 1 : rev;
    e = c->sink.prepare(c->sink.ud, cfg, newrev, &built, err, errlen);
    if (e != ASC_OK)
        goto out;
    if (nchanges) {
        char summary[160];
        snprintf(summary, sizeof summary, "apply %.120s: %zu change%s", source, nchanges,
                 nchanges == 1 ? "" : "s");
        e = ctl_write_changes(c, sets, newrev, actor, source, summary, err, errlen);
        if (e == ASC_OK)
            e = be->commit(c->store, err, errlen);
        if (e != ASC_OK) {
            *status = 503;
            goto out;
        }
        in_tx = 0;
        cJSON_AddNumberToObject(rep, "revision", (double)newrev);
    } else {
        cJSON_AddNullToObject(rep, "revision");
    }
    c->revision = newrev;
    c->sink.commit(c->sink.ud, built);
    built = NULL;
    *status = 200;
out:
    if (built != NULL)
        c->sink.discard(c->sink.ud, built);
    if (in_tx)
        be->rollback(c->store);
    if (loaded)
        ctl_sets_free(sets);
    cJSON_Delete(changes);
    if (*status == 200) {
        *report = rep;
        return ASC_OK;
    }
    cJSON_Delete(rep);
    return e != ASC_OK ? e : ASC_EINVAL;
}

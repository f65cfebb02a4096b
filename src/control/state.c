/*
 * The control plane's state: every object loaded from the store, turned
 * into the config tree that the validator and the snapshot compiler read.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "control/internal.h"
#include "core/clock.h"
#include "core/log.h"

const asc_kind_t asc_control_kinds[] = {
    {"provider", "providers", "providers"},
    {"route", "routes", "models"},
    {"tenant", "tenants", "tenants"},
    {"team", "teams", "teams"},
    {"user", "users", "users"},
    {"credential", "credentials", "credentials"},
    {"key", "keys", "keys"},
    {"token", "tokens", NULL},
};
const size_t asc_control_nkinds = sizeof asc_control_kinds / sizeof asc_control_kinds[0];

const asc_kind_t *asc_control_kind(const char *name)
{
    for (size_t i = 0; name != NULL && i < asc_control_nkinds; i++)
        if (strcmp(asc_control_kinds[i].kind, name) == 0 ||
            strcmp(asc_control_kinds[i].plural, name) == 0)
            return &asc_control_kinds[i];
    return NULL;
}

size_t ctl_kind_index(const asc_kind_t *k)
{
    return (size_t)(k - asc_control_kinds);
}

char *ctl_strdup(const char *s)
{
    if (s == NULL)
        return NULL;
    char *d = strdup(s);
    if (d == NULL)
        abort();
    return d;
}

ctl_obj_t *ctl_find(ctl_set_t *set, const char *name)
{
    for (size_t i = 0; i < set->n; i++)
        if (strcmp(set->items[i].o.name, name) == 0)
            return &set->items[i];
    return NULL;
}

ctl_obj_t *ctl_add(ctl_set_t *set)
{
    if (set->n == set->cap) {
        size_t cap = set->cap ? set->cap * 2 : 16;
        ctl_obj_t *n = realloc(set->items, cap * sizeof *n);
        if (n == NULL)
            abort();
        set->items = n;
        set->cap = cap;
    }
    ctl_obj_t *o = &set->items[set->n++];
    memset(o, 0, sizeof *o);
    return o;
}

void ctl_sets_free(ctl_set_t sets[NKINDS])
{
    for (size_t k = 0; k < NKINDS; k++) {
        for (size_t i = 0; i < sets[k].n; i++) {
            asc_store_obj_free(&sets[k].items[i].o);
            cJSON_Delete(sets[k].items[i].doc);
        }
        free(sets[k].items);
        sets[k].items = NULL;
        sets[k].n = sets[k].cap = 0;
    }
}

asc_err_t ctl_load_all(asc_control_t *c, ctl_set_t sets[NKINDS], char *err, size_t errlen)
{
    memset(sets, 0, NKINDS * sizeof *sets);
    for (size_t k = 0; k < asc_control_nkinds; k++) {
        asc_store_query_t q = {.kind = asc_control_kinds[k].kind};
        asc_store_list_t l = {0};
        asc_err_t e = c->store->be->list(c->store, &q, &l, err, errlen);
        if (e != ASC_OK) {
            ctl_sets_free(sets);
            return e;
        }
        for (size_t i = 0; i < l.n; i++) {
            ctl_obj_t *o = ctl_add(&sets[k]);
            o->o = l.items[i];
            memset(&l.items[i], 0, sizeof l.items[i]);
            snprintf(o->before, sizeof o->before, "%s", o->o.etag ? o->o.etag : "");
            o->doc = cJSON_Parse(o->o.doc);
            if (o->doc == NULL) {
                snprintf(err, errlen, "store: object %s %s has an unreadable document",
                         asc_control_kinds[k].kind, o->o.name);
                asc_store_list_free(&l);
                ctl_sets_free(sets);
                return ASC_EIO;
            }
        }
        asc_store_list_free(&l);
    }
    return ASC_OK;
}

static const char *doc_str(const cJSON *doc, const char *field)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(doc, field);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

void ctl_fill(ctl_obj_t *o, const asc_kind_t *k)
{
    const char *kind = k->kind;
    free(o->o.kind);
    free(o->o.tenant);
    free(o->o.team);
    free(o->o.owner);
    free(o->o.doc);
    free(o->o.etag);
    o->o.kind = ctl_strdup(kind);
    o->o.tenant = ctl_strdup(strcmp(kind, "tenant") == 0 ? o->o.name : doc_str(o->doc, "tenant"));
    o->o.team = ctl_strdup(strcmp(kind, "team") == 0 ? o->o.name : doc_str(o->doc, "team"));
    o->o.owner = ctl_strdup(strcmp(kind, "key") == 0     ? doc_str(o->doc, "owner")
                            : strcmp(kind, "token") == 0 ? doc_str(o->doc, "user")
                            : strcmp(kind, "user") == 0  ? o->o.name
                                                         : NULL);
    o->o.doc = cJSON_PrintUnformatted(o->doc);
    if (o->o.doc == NULL)
        abort();
    char dg[65];
    asc_store_digest(o->o.doc, strlen(o->o.doc), dg);
    o->o.etag = ctl_strdup(dg);
}

cJSON *ctl_tree(const asc_control_t *c, ctl_set_t sets[NKINDS])
{
    cJSON *root = c->process ? cJSON_Duplicate(c->process, 1) : cJSON_CreateObject();
    if (root == NULL)
        abort();
    for (size_t k = 0; k < asc_control_nkinds; k++) {
        const asc_kind_t *kd = &asc_control_kinds[k];
        if (kd->section == NULL)
            continue;
        int map = strcmp(kd->section, "models") == 0;
        cJSON *sec = map ? cJSON_CreateObject() : cJSON_CreateArray();
        for (size_t i = 0; i < sets[k].n; i++) {
            const ctl_obj_t *o = &sets[k].items[i];
            if (o->deleted)
                continue;
            cJSON *d = cJSON_Duplicate(o->doc, 1);
            if (map) {
                cJSON_DeleteItemFromObjectCaseSensitive(d, "name");
                cJSON_AddItemToObject(sec, o->o.name, d);
            } else {
                cJSON_AddItemToArray(sec, d);
            }
        }
        cJSON_AddItemToObject(root, kd->section, sec);
    }
    return root;
}

/* "keys[3].models: ..." -> "keys.ci.models: ..." */
static void name_the_object(const cJSON *tree, char *err, size_t errlen)
{
    const char *br = strchr(err, '[');
    const char *colon = strchr(err, ':');
    if (br == NULL || colon == NULL || br > colon || (size_t)(br - err) >= 32)
        return;
    char sect[32];
    memcpy(sect, err, (size_t)(br - err));
    sect[br - err] = '\0';
    char *end = NULL;
    long idx = strtol(br + 1, &end, 10);
    if (end == NULL || *end != ']')
        return;
    const cJSON *arr = cJSON_GetObjectItemCaseSensitive(tree, sect);
    const cJSON *el = cJSON_IsArray(arr) ? cJSON_GetArrayItem(arr, (int)idx) : NULL;
    const char *name = doc_str(el, "name");
    if (name == NULL || strlen(name) > 64)
        return;
    char buf[2048];
    snprintf(buf, sizeof buf, "%s.%s%s", sect, name, end + 1);
    snprintf(err, errlen, "%s", buf);
}

asc_err_t ctl_validate(const cJSON *tree, asc_config_t **cfg, char *err, size_t errlen)
{
    asc_err_t e = asc_config_from_json(tree, cfg, err, errlen);
    if (e == ASC_EINVAL)
        name_the_object(tree, err, errlen);
    return e;
}

asc_err_t ctl_write_changes(asc_control_t *c, ctl_set_t sets[NKINDS], uint64_t rev,
                            const char *actor, const char *source, const char *summary, char *err,
                            size_t errlen)
{
    const asc_store_backend_t *be = c->store->be;
    int64_t now = (int64_t)asc_clock_wall_ms();
    asc_store_rev_t r = {.revision = rev,
                         .actor = (char *)actor,
                         .source = (char *)source,
                         .summary = (char *)summary,
                         .at = now};
    asc_err_t e = be->rev_add(c->store, &r, err, errlen);
    for (size_t k = 0; e == ASC_OK && k < asc_control_nkinds; k++) {
        for (size_t i = 0; e == ASC_OK && i < sets[k].n; i++) {
            ctl_obj_t *o = &sets[k].items[i];
            if (!o->deleted && !o->created && !o->changed)
                continue;
            asc_store_change_t ch = {.revision = rev,
                                     .actor = (char *)actor,
                                     .kind = (char *)asc_control_kinds[k].kind,
                                     .name = o->o.name,
                                     .tenant = o->o.tenant,
                                     .at = now};
            char after[65] = "";
            if (o->deleted) {
                if (o->created)
                    continue; /* created and deleted in one change: nothing */
                ch.action = "delete";
                ch.before_digest = o->before;
                e = be->del(c->store, asc_control_kinds[k].kind, o->o.name, err, errlen);
            } else {
                ch.action = o->created ? "create" : "update";
                if (!o->created)
                    ch.before_digest = o->before;
                o->o.revision = rev;
                o->o.updated_at = now;
                free(o->o.updated_by);
                o->o.updated_by = ctl_strdup(actor);
                if (o->created) {
                    o->o.created_at = now;
                    free(o->o.created_by);
                    o->o.created_by = ctl_strdup(actor);
                }
                snprintf(after, sizeof after, "%s", o->o.etag);
                ch.after_digest = after;
                e = be->put(c->store, &o->o, err, errlen);
            }
            if (e == ASC_OK)
                e = be->change_add(c->store, &ch, err, errlen);
        }
    }
    return e;
}

void ctl_normalize(ctl_set_t sets[NKINDS], const asc_kind_t *k, cJSON *doc)
{
    if (strcmp(k->kind, "key") != 0 && strcmp(k->kind, "user") != 0)
        return;
    const char *team = doc_str(doc, "team");
    if (team == NULL || cJSON_GetObjectItemCaseSensitive(doc, "tenant") != NULL)
        return;
    ctl_obj_t *t = ctl_find(&sets[ctl_kind_index(asc_control_kind("team"))], team);
    const char *tenant = t && !t->deleted ? doc_str(t->doc, "tenant") : NULL;
    if (tenant != NULL)
        cJSON_AddStringToObject(doc, "tenant", tenant);
}

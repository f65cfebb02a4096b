/* Shared by the files of src/control (not part of the module's API). */
#ifndef ASC_CONTROL_INTERNAL_H
#define ASC_CONTROL_INTERNAL_H

#include "control/control.h"

#define NKINDS 8

/* One object loaded for a change: the stored row, its parsed document,
 * and what the change does to it. */
typedef struct {
    asc_store_obj_t o;
    cJSON *doc;
    int deleted;
    int created;
    int changed;
    char before[65]; /* etag (digest) of the document as loaded; "" for a new object */
} ctl_obj_t;

typedef struct {
    ctl_obj_t *items;
    size_t n, cap;
} ctl_set_t;

struct asc_control {
    asc_store_t *store;
    asc_control_sink_t sink;
    cJSON *process; /* {server, admin} of the serving file */
    uint64_t revision;
};

size_t ctl_kind_index(const asc_kind_t *k);
/* Load every object of every kind. */
asc_err_t ctl_load_all(asc_control_t *c, ctl_set_t sets[NKINDS], char *err, size_t errlen);
void ctl_sets_free(ctl_set_t sets[NKINDS]);
ctl_obj_t *ctl_find(ctl_set_t *set, const char *name);
ctl_obj_t *ctl_add(ctl_set_t *set);
/* The config tree of the state in sets (deleted objects left out). */
cJSON *ctl_tree(const asc_control_t *c, ctl_set_t sets[NKINDS]);
/* Validate the tree; on failure err names the object (keys.ci.models:
 * ...) rather than its index in the merged tree. */
asc_err_t ctl_validate(const cJSON *tree, asc_config_t **cfg, char *err, size_t errlen);
/* A key or user that names a team but no tenant gets the team's tenant,
 * so the tenant column (and every tenant filter) sees it. */
void ctl_normalize(ctl_set_t sets[NKINDS], const asc_kind_t *k, cJSON *doc);
/* Set the derived columns (tenant, team, owner) and doc/etag of o from doc. */
void ctl_fill(ctl_obj_t *o, const asc_kind_t *k);
/* Write every created/changed/deleted object with revision rev, its change
 * rows and the revision row. Inside a transaction. */
asc_err_t ctl_write_changes(asc_control_t *c, ctl_set_t sets[NKINDS], uint64_t rev,
                            const char *actor, const char *source, const char *summary, char *err,
                            size_t errlen);
/* strdup that aborts on OOM (small internal strings) */
char *ctl_strdup(const char *s);

#endif

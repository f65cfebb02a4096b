/*
 * The control plane: the one write path (DESIGN §2). Every change — a
 * config file applied at start, on SIGHUP or by `asc apply`, an admin API
 * call, the CLI, the portal — comes here, is validated as a whole new state
 * by the config validator (config/config.h), gets a new revision, is
 * written to the store with one change-log row per object (actor, action,
 * digests before and after), and is then compiled into a snapshot that the
 * data plane swaps in.
 *
 * Objects are JSON documents in the config file's schema, one per (kind,
 * name). Kinds and their sections: tenant (tenants), team (teams), user
 * (users), key (keys), provider (providers), credential (credentials),
 * route (models: the map's entry, with its name), token (personal access
 * tokens: not part of the config).
 *
 * Threads: one asc_control_t belongs to the control thread (the main loop);
 * nothing here is called from a data-plane worker.
 *
 * Ownership: documents passed in are borrowed (copied); results handed out
 * are the caller's to free (cJSON_Delete / free).
 */
#ifndef ASC_CONTROL_CONTROL_H
#define ASC_CONTROL_CONTROL_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "config/config.h"
#include "core/err.h"
#include "store/store.h"

typedef struct asc_control asc_control_t;

typedef struct {
    const char *kind;    /* "tenant" */
    const char *plural;  /* URL segment: "tenants" */
    const char *section; /* config section: "tenants" ("models" for routes), NULL = none */
} asc_kind_t;

/* The kind named by its singular or plural, or NULL. */
const asc_kind_t *asc_control_kind(const char *name);
/* Every kind, in dependency order (providers before routes, tenants before
 * teams before users and keys). */
extern const asc_kind_t asc_control_kinds[];
extern const size_t asc_control_nkinds;

/* What the control plane calls to turn a validated state into the running
 * one: prepare builds (and may refuse: a provider whose env key is missing,
 * a credential that does not open) without publishing; commit publishes
 * what prepare built; discard drops it. */
typedef struct {
    asc_err_t (*prepare)(void *ud, asc_config_t *cfg /* taken */, uint64_t revision, void **built,
                         char *err, size_t errlen);
    void (*commit)(void *ud, void *built);
    void (*discard)(void *ud, void *built);
    void *ud;
} asc_control_sink_t;

typedef struct {
    asc_store_t *store; /* borrowed */
    asc_control_sink_t sink;
} asc_control_opts_t;

asc_err_t asc_control_new(const asc_control_opts_t *o, asc_control_t **out, char *err,
                          size_t errlen);
void asc_control_free(asc_control_t *c);

/* The process sections of the serving config file (server, admin): they
 * are not objects; every state tree carries the last ones set here. */
asc_err_t asc_control_set_process(asc_control_t *c, const cJSON *file_tree, char *err,
                                  size_t errlen);

/* Build the running state from the store (at start, and when another node
 * moved the revision) and hand it to the sink. */
asc_err_t asc_control_load(asc_control_t *c, char *err, size_t errlen);

/* The revision of the running state. */
uint64_t asc_control_revision(const asc_control_t *c);

typedef enum {
    ASC_CTL_CREATE = 1,
    ASC_CTL_REPLACE, /* PUT: the whole document */
    ASC_CTL_PATCH,   /* JSON merge patch (RFC 7386) */
    ASC_CTL_DELETE,
} asc_ctl_action_t;

typedef struct {
    asc_ctl_action_t action;
    const asc_kind_t *kind;
    const char *name;     /* the object's name (for CREATE: from doc.name) */
    const cJSON *doc;     /* CREATE/REPLACE: the document; PATCH: the patch */
    const char *if_match; /* etag the object must still have, or NULL */
} asc_ctl_op_t;

/* Result of a write: the HTTP status it maps to and, on success, the new
 * revision and the object as stored (CREATE/REPLACE/PATCH). */
typedef struct {
    int status;       /* 200/201/204, 400, 404, 409, 412, 503 */
    const char *code; /* error code for the admin API ("invalid_request", ...) */
    uint64_t revision;
    asc_store_obj_t obj; /* zeroed for DELETE and on failure */
} asc_ctl_result_t;

/* The one write path for single-object changes (admin API, CLI, portal).
 * `check`, when not NULL, is called with the object before (NULL on
 * create) and after (NULL on delete) the change, inside the transaction,
 * so RBAC decides on exactly what is written; it returns 0 to allow or
 * fills err and returns the status (403). Changes to a file-managed
 * object are refused with 409 naming the file. */
typedef int (*asc_ctl_check_fn)(void *ud, const asc_kind_t *k, const cJSON *before,
                                const cJSON *after, char *err, size_t errlen);
asc_err_t asc_control_write(asc_control_t *c, const char *actor, const asc_ctl_op_t *op,
                            asc_ctl_check_fn check, void *check_ud, asc_ctl_result_t *res,
                            char *err, size_t errlen);
void asc_ctl_result_free(asc_ctl_result_t *r);

/* Apply a whole config tree as a file (source "file:<name>"): objects the
 * file declares are created or updated (and become file-managed), objects
 * this file managed before and no longer declares are deleted, objects
 * created through the API are left alone. Nothing changed = no revision.
 * With dry_run nothing is written. *report gets
 * {"revision": N|null, "changes":[{"kind","name","action","drift","fields"}]}
 * where drift says the stored object no longer matches what the file last
 * applied (it was edited outside the file). *status as for writes. */
asc_err_t asc_control_apply(asc_control_t *c, const cJSON *tree, const char *source,
                            const char *actor, int dry_run, cJSON **report, int *status, char *err,
                            size_t errlen);

/* Flush key last-used times (unix seconds) noted by the data plane. */
asc_err_t asc_control_touch_key(asc_control_t *c, const char *name, int64_t at_s, char *err,
                                size_t errlen);

/* Object access for the admin API (reads need no revision). */
asc_store_t *asc_control_store(asc_control_t *c);

#endif

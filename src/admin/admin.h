/*
 * The admin API (/admin/v1, docs/admin.md): its own HTTP listener on the
 * control thread's loop, never on the data-plane port. Authenticates the
 * caller (principal.c), asks RBAC (rbac.c) for every route, and sends every
 * change through the control plane's one write path (control/control.h).
 *
 * Ownership: the admin server borrows the control plane and the secret
 * box; both outlive it.
 */
#ifndef ASC_ADMIN_ADMIN_H
#define ASC_ADMIN_ADMIN_H

#include <stddef.h>

#include <uv.h>

#include "config/config.h"
#include "control/control.h"
#include "core/err.h"
#include "http/server.h"
#include "secret/secret.h"

typedef struct asc_admin asc_admin_t;

/* Who is calling: from the bootstrap token, a personal access token, an
 * OIDC ID token or a browser session. */
typedef struct {
    asc_rbac_role_t role;
    char subject[257]; /* user name (e-mail or sub), "bootstrap" for the bootstrap token */
    char tenant[65];   /* "" = none */
    char team[65];
    const char *via; /* "bootstrap-token", "pat", "oidc", "session" */
    int bound;       /* the role comes from a user object (not a group mapping) */
} asc_principal_t;

/* RBAC verbs. */
typedef enum {
    ASC_RBAC_READ = 1,
    ASC_RBAC_CREATE,
    ASC_RBAC_UPDATE,
    ASC_RBAC_DELETE,
} asc_rbac_verb_t;

/* The one RBAC decision for objects: may p do verb to an object of kind k
 * whose document is `doc` (before the change for UPDATE/DELETE and READ; the
 * document to be written for CREATE, and checked again with the result for
 * UPDATE through asc_rbac_check_change)? Returns 0 when allowed, else 403
 * with the reason in err. */
int asc_rbac_check(const asc_principal_t *p, asc_rbac_verb_t verb, const asc_kind_t *k,
                   const cJSON *doc, char *err, size_t errlen);
/* A change: before (NULL on create) and after (NULL on delete) must both be
 * within p's scope, and p may not change its own role. */
int asc_rbac_check_change(const asc_principal_t *p, const asc_kind_t *k, const cJSON *before,
                          const cJSON *after, char *err, size_t errlen);
/* Filters forced on a list for p (tenant, owner; NULL = none), or 403. */
int asc_rbac_list_scope(const asc_principal_t *p, const asc_kind_t *k, const char **tenant,
                        const char **owner, char *err, size_t errlen);
/* Non-object routes. */
int asc_rbac_may_read_changes(const asc_principal_t *p, const char **tenant, char *err,
                              size_t errlen);
int asc_rbac_may_read_revisions(const asc_principal_t *p, char *err, size_t errlen);
int asc_rbac_may_apply(const asc_principal_t *p, char *err, size_t errlen);

/* The tenant an object belongs to (NULL = global). */
const char *asc_rbac_object_tenant(const asc_kind_t *k, const cJSON *doc);

typedef struct {
    const char *host;
    int port;
    asc_control_t *ctl;
    const asc_secret_box_t *box;
    asc_http_limits_t limits;
} asc_admin_opts_t;

/* Start listening; *bound_port gets the port. */
asc_err_t asc_admin_start(uv_loop_t *loop, const asc_admin_opts_t *o, asc_admin_t **out,
                          int *bound_port, char *err, size_t errlen);
/* Stop accepting and close; `done` when every connection is closed. */
void asc_admin_stop(asc_admin_t *a);
void asc_admin_free(asc_admin_t *a);

/* Refresh what the admin API takes from the config (bootstrap token, OIDC
 * settings) after the running config changed. */
void asc_admin_configure(asc_admin_t *a, const asc_config_t *cfg);

#endif

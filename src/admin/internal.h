/* Shared by the files of src/admin. */
#ifndef ASC_ADMIN_INTERNAL_H
#define ASC_ADMIN_INTERNAL_H

#include <stdint.h>

#include "admin/admin.h"
#include "core/buf.h"
#include "gateway/snapshot.h"
#include "sso/jwt.h"

struct asc_admin {
    asc_http_server_t *server;
    asc_control_t *ctl;
    const asc_secret_box_t *box;
    atomic_uint conns;
    /* from the running config (asc_admin_configure) */
    uint8_t token_hash[32];
    int has_token;
    asc_oidc_t *oidc;
    char *oidc_key; /* issuer + client id the verifier was made for */
    char *client_secret;
};

/* Authenticate req: 1 with *p filled, or 0 after responding 401/403. */
int asc_admin_authenticate(asc_admin_t *a, asc_http_req_t *req, const asc_config_t *cfg,
                           asc_principal_t *p);

/* Map verified OIDC claims to a principal (a user object, else the group
 * mapping). Returns 0, or 403 with err. */
int asc_admin_principal_from_claims(const asc_config_t *cfg, const cJSON *claims,
                                    asc_principal_t *p, char *err, size_t errlen);

/* Respond with {"error":{type,code,message}}. */
void asc_admin_error(asc_http_req_t *req, int status, const char *code, const char *msg);
void asc_admin_json(asc_http_req_t *req, int status, const cJSON *body,
                    const asc_http_header_t *extra, size_t nextra);

/* Value of query parameter `name` (percent-decoded, in req->pool), or NULL. */
const char *asc_admin_query(const asc_http_req_t *req, const char *name);
/* Percent-decode s[0..n) into the pool; NULL on a bad escape or a NUL. */
char *asc_admin_unescape(asc_pool_t *pool, const char *s, size_t n);

/* Routes of login.c: /admin/v1/auth/... Returns 1 when handled. */
int asc_admin_login_route(asc_admin_t *a, asc_http_req_t *req, const asc_config_t *cfg,
                          const char *rest);

/* The cookie named `name` from the request, or NULL (pool copy). */
const char *asc_admin_cookie(const asc_http_req_t *req, const char *name);

#endif

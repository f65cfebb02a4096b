/*
 * Who is calling the admin API: the bootstrap token (platform-admin), a
 * personal access token, an OIDC ID token, or a browser session cookie.
 * Every failure is one generic 401 (which credential failed and why goes to
 * the log, with the client address and never the credential).
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <sodium.h>

#include "admin/internal.h"
#include "auth/key.h"
#include "core/clock.h"
#include "core/log.h"

static void set(char *dst, size_t n, const char *s)
{
    snprintf(dst, n, "%s", s ? s : "");
}

static const char *doc_str(const cJSON *doc, const char *field)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(doc, field);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static void from_user(asc_principal_t *p, const asc_config_user_t *u)
{
    p->bound = 1;
    p->role = u->role;
    set(p->subject, sizeof p->subject, u->name);
    set(p->tenant, sizeof p->tenant, u->tenant);
    set(p->team, sizeof p->team, u->team);
}

/* 1 when the claim (a string or an array of strings) holds value. */
static int claim_has(const cJSON *claim, const char *value)
{
    if (cJSON_IsString(claim))
        return strcmp(claim->valuestring, value) == 0;
    const cJSON *el;
    cJSON_ArrayForEach(el, claim)
    {
        if (cJSON_IsString(el) && strcmp(el->valuestring, value) == 0)
            return 1;
    }
    return 0;
}

int asc_admin_principal_from_claims(const asc_config_t *cfg, const cJSON *claims,
                                    asc_principal_t *p, char *err, size_t errlen)
{
    const char *email = doc_str(claims, "email");
    const char *sub = doc_str(claims, "sub");
    const asc_config_user_t *u = NULL;
    memset(p, 0, sizeof *p);
    if (email != NULL)
        u = asc_config_find_user(cfg, email);
    if (u == NULL && sub != NULL)
        u = asc_config_find_user(cfg, sub);
    if (u != NULL) {
        from_user(p, u);
        return 0;
    }
    const char *who = email ? email : sub;
    if (who == NULL || strlen(who) > 256) {
        snprintf(err, errlen, "the token names no subject");
        return 401;
    }
    const cJSON *groups = cJSON_GetObjectItemCaseSensitive(
        claims, cfg->admin.oidc.group_claim ? cfg->admin.oidc.group_claim : "groups");
    for (size_t i = 0; groups != NULL && i < cfg->admin.oidc.nroles; i++) {
        const asc_config_role_map_t *r = &cfg->admin.oidc.roles[i];
        if (!claim_has(groups, r->group))
            continue;
        p->role = asc_config_role(r->role);
        set(p->subject, sizeof p->subject, who);
        set(p->tenant, sizeof p->tenant, r->tenant);
        set(p->team, sizeof p->team, r->team);
        return 0;
    }
    snprintf(err, errlen, "signed in, but no role is granted to this user");
    return 403;
}

/* A personal access token: its user's current role (or the one it was
 * created with when the user is not an object, e.g. an SSO group member). */
static int pat(asc_admin_t *a, const asc_config_t *cfg, const char *tok, size_t len,
               asc_principal_t *p)
{
    uint8_t h[32];
    char hex[65], ref[72];
    asc_key_hash(tok, len, h);
    sodium_bin2hex(hex, sizeof hex, h, sizeof h);
    snprintf(ref, sizeof ref, "sha256:%s", hex);
    asc_store_t *st = asc_control_store(a->ctl);
    asc_store_query_t q = {.kind = "token"};
    asc_store_list_t l = {0};
    char err[256];
    int ok = 0;
    if (st->be->list(st, &q, &l, err, sizeof err) != ASC_OK)
        return 0;
    for (size_t i = 0; i < l.n && !ok; i++) {
        cJSON *d = cJSON_Parse(l.items[i].doc);
        const char *k = doc_str(d, "key");
        if (k != NULL && strlen(k) == strlen(ref) && sodium_memcmp(k, ref, strlen(ref)) == 0) {
            const cJSON *exp = cJSON_GetObjectItemCaseSensitive(d, "expires_at");
            int64_t at = 0;
            if (cJSON_IsString(exp) && asc_clock_parse_rfc3339(exp->valuestring, &at) == 0 &&
                (int64_t)asc_clock_wall_ms() >= at) {
                cJSON_Delete(d);
                break;
            }
            const char *user = doc_str(d, "user");
            const asc_config_user_t *u = asc_config_find_user(cfg, user);
            if (u != NULL) {
                from_user(p, u);
            } else if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(d, "bound"))) {
                /* its user was deleted: the token goes with it */
                p->role = ASC_RBAC_NONE;
            } else {
                p->role = asc_config_role(doc_str(d, "role"));
                set(p->subject, sizeof p->subject, user);
                set(p->tenant, sizeof p->tenant, doc_str(d, "tenant"));
                set(p->team, sizeof p->team, doc_str(d, "team"));
            }
            ok = p->role != ASC_RBAC_NONE;
        }
        cJSON_Delete(d);
    }
    asc_store_list_free(&l);
    sodium_memzero(ref, sizeof ref);
    return ok;
}

static int session(asc_admin_t *a, const asc_config_t *cfg, const char *cookie, asc_principal_t *p)
{
    uint8_t h[32];
    char hex[65];
    asc_key_hash(cookie, strlen(cookie), h);
    sodium_bin2hex(hex, sizeof hex, h, sizeof h);
    asc_store_t *st = asc_control_store(a->ctl);
    asc_store_session_t s = {0};
    char err[256];
    if (st->be->session_get(st, hex, &s, err, sizeof err) != ASC_OK)
        return 0;
    cJSON *d = cJSON_Parse(s.principal);
    /* the user object as it is now: a demotion or deletion reaches open
     * sessions at once; a group-mapped session keeps its sign-in role */
    const asc_config_user_t *u = asc_config_find_user(cfg, doc_str(d, "subject"));
    if (u != NULL) {
        from_user(p, u);
    } else if (!cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(d, "bound"))) {
        p->role = asc_config_role(doc_str(d, "role"));
        set(p->subject, sizeof p->subject, doc_str(d, "subject"));
        set(p->tenant, sizeof p->tenant, doc_str(d, "tenant"));
        set(p->team, sizeof p->team, doc_str(d, "team"));
    }
    cJSON_Delete(d);
    asc_store_session_free(&s);
    return p->role != ASC_RBAC_NONE && p->subject[0] != '\0';
}

int asc_admin_authenticate(asc_admin_t *a, asc_http_req_t *req, const asc_config_t *cfg,
                           asc_principal_t *p)
{
    size_t n = 0;
    const char *why = "missing credentials: send Authorization: Bearer <token>";
    memset(p, 0, sizeof *p);
    const char *v = asc_http_req_header(req, "authorization", &n);
    if (v != NULL) {
        if (n <= 7 || strncasecmp(v, "Bearer ", 7) != 0 || n > 16384 + 7) {
            why = "unsupported Authorization scheme: use Bearer";
            goto refuse;
        }
        const char *tok = v + 7;
        size_t tl = n - 7;
        uint8_t h[32];
        asc_key_hash(tok, tl, h);
        if (a->has_token && sodium_memcmp(h, a->token_hash, 32) == 0) {
            p->role = ASC_RBAC_PLATFORM_ADMIN;
            set(p->subject, sizeof p->subject, "bootstrap");
            p->via = "bootstrap-token";
            return 1;
        }
        if (tl > 8 && memcmp(tok, "asc-pat-", 8) == 0) {
            if (pat(a, cfg, tok, tl, p)) {
                p->via = "pat";
                return 1;
            }
            goto bad;
        }
        if (a->oidc != NULL && memchr(tok, '.', tl) != NULL) {
            cJSON *claims = NULL;
            char err[256];
            if (asc_oidc_verify(a->oidc, tok, tl, 0, &claims, err, sizeof err) != ASC_OK) {
                asc_log_warn("admin: refused an ID token from %s: %s", req->peer_ip, err);
                goto bad;
            }
            int st = asc_admin_principal_from_claims(cfg, claims, p, err, sizeof err);
            cJSON_Delete(claims);
            if (st != 0) {
                asc_admin_error(req, st, st == 403 ? "forbidden" : "unauthorized", err);
                return 0;
            }
            p->via = "oidc";
            return 1;
        }
        goto bad;
    }
    const char *cookie = asc_admin_cookie(req, "asc_session");
    if (cookie != NULL) {
        if (strlen(cookie) < 512 && session(a, cfg, cookie, p)) {
            p->via = "session";
            return 1;
        }
        why = "the session has expired: sign in again";
        goto refuse;
    }
    goto refuse;
bad:
    why = "invalid credentials";
    asc_log_warn("admin: invalid credentials from %s", req->peer_ip);
refuse:
    asc_admin_error(req, 401, "unauthorized", why);
    return 0;
}

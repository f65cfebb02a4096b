/*
 * OIDC sign-in for browsers (the portal): the authorization-code flow with
 * PKCE. /admin/v1/auth/login sends the browser to the IdP with a fresh
 * state, nonce and verifier (kept server-side for 10 minutes, bound to the
 * browser by an HttpOnly cookie holding the state); /admin/v1/auth/callback
 * checks the state against that cookie, exchanges the code, verifies the ID
 * token and its nonce, maps it to a principal and opens a session (cookie
 * asc_session: HttpOnly, SameSite=Lax, Secure when the redirect URL is
 * https; only its hash is stored); /admin/v1/auth/logout ends it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "admin/internal.h"
#include "auth/key.h"
#include "core/clock.h"
#include "core/log.h"

#define LOGIN_TTL_MS (10 * 60 * 1000)

static void hash_hex(const char *s, char out[65])
{
    uint8_t h[32];
    asc_key_hash(s, strlen(s), h);
    sodium_bin2hex(out, 65, h, sizeof h);
}

static int secure(const asc_config_t *cfg)
{
    return strncmp(cfg->admin.oidc.redirect_url, "https://", 8) == 0;
}

/* A local path to return to after sign-in: "/..." but not "//host". */
static int local_path(const char *s)
{
    if (s == NULL || s[0] != '/' || s[1] == '/' || s[1] == '\\' || strlen(s) > 512)
        return 0;
    for (const char *c = s; *c; c++)
        if ((unsigned char)*c < 0x21 || (unsigned char)*c == 0x7f)
            return 0;
    return 1;
}

static void login(asc_admin_t *a, asc_http_req_t *req, const asc_config_t *cfg)
{
    char err[512];
    const char *back = asc_admin_query(req, "redirect");
    if (back != NULL && !local_path(back)) {
        asc_admin_error(req, 400, "invalid_request", "redirect: must be a local path (/...)");
        return;
    }
    asc_oidc_login_t l;
    char *url = NULL;
    if (asc_oidc_authorize_url(a->oidc, cfg->admin.oidc.redirect_url, &l, &url, err, sizeof err) !=
        ASC_OK) {
        asc_log_error("admin: cannot start a sign-in: %s", err);
        asc_admin_error(req, 502, "idp_unavailable", "the identity provider is unavailable");
        return;
    }
    cJSON *st = cJSON_CreateObject();
    cJSON_AddTrueToObject(st, "login");
    cJSON_AddStringToObject(st, "nonce", l.nonce);
    cJSON_AddStringToObject(st, "verifier", l.verifier);
    cJSON_AddStringToObject(st, "redirect", back ? back : "/admin/v1/whoami");
    char *text = cJSON_PrintUnformatted(st);
    cJSON_Delete(st);
    char hex[65];
    hash_hex(l.state, hex);
    asc_store_session_t ss = {.id_hash = hex,
                              .principal = text,
                              .expires_at = (int64_t)asc_clock_wall_ms() + LOGIN_TTL_MS};
    asc_store_t *s = asc_control_store(a->ctl);
    asc_err_t e = s->be->session_put(s, &ss, err, sizeof err);
    sodium_memzero(text, strlen(text));
    free(text);
    if (e != ASC_OK) {
        free(url);
        asc_admin_error(req, 503, "store_unavailable", "the store is unavailable");
        return;
    }
    char cookie[256];
    snprintf(cookie, sizeof cookie,
             "asc_login=%s; Path=/admin/v1/auth; Max-Age=600; HttpOnly; SameSite=Lax%s", l.state,
             secure(cfg) ? "; Secure" : "");
    asc_http_header_t h[3] = {{"Location", 8, url, strlen(url)},
                              {"Set-Cookie", 10, cookie, strlen(cookie)},
                              {"Cache-Control", 13, "no-store", 8}};
    asc_http_respond(req, 302, h, 3, NULL, 0);
    free(url);
    sodium_memzero(&l, sizeof l);
}

static const char *doc_str(const cJSON *doc, const char *field)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(doc, field);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static void callback(asc_admin_t *a, asc_http_req_t *req, const asc_config_t *cfg)
{
    char err[512];
    const char *state = asc_admin_query(req, "state");
    const char *code = asc_admin_query(req, "code");
    const char *bound = asc_admin_cookie(req, "asc_login");
    const char *idp_err = asc_admin_query(req, "error");
    if (idp_err != NULL) {
        asc_admin_error(req, 401, "unauthorized", "the identity provider refused the sign-in");
        return;
    }
    if (state == NULL || code == NULL || bound == NULL || strlen(state) > 128 ||
        strlen(code) > 4096) {
        asc_admin_error(req, 400, "invalid_request",
                        "missing code, state or the sign-in cookie: start again at "
                        "/admin/v1/auth/login");
        return;
    }
    if (strlen(state) != strlen(bound) || sodium_memcmp(state, bound, strlen(state)) != 0) {
        asc_log_warn("admin: sign-in callback from %s with a state that is not this browser's",
                     req->peer_ip);
        asc_admin_error(req, 400, "invalid_request", "state does not match this browser's sign-in");
        return;
    }
    char hex[65];
    hash_hex(state, hex);
    asc_store_t *s = asc_control_store(a->ctl);
    asc_store_session_t ls = {0};
    if (s->be->session_get(s, hex, &ls, err, sizeof err) != ASC_OK) {
        asc_admin_error(req, 400, "invalid_request", "unknown or expired sign-in: start again");
        return;
    }
    s->be->session_del(s, hex, err, sizeof err); /* single use */
    cJSON *st = cJSON_Parse(ls.principal);
    asc_store_session_free(&ls);
    const char *nonce = doc_str(st, "nonce"), *verifier = doc_str(st, "verifier");
    if (!cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(st, "login")) || nonce == NULL ||
        verifier == NULL) {
        cJSON_Delete(st);
        asc_admin_error(req, 400, "invalid_request", "unknown sign-in: start again");
        return;
    }
    cJSON *claims = NULL;
    asc_err_t e = asc_oidc_exchange(a->oidc, code, cfg->admin.oidc.redirect_url, verifier, nonce,
                                    &claims, err, sizeof err);
    if (e != ASC_OK) {
        cJSON_Delete(st);
        asc_log_warn("admin: sign-in from %s failed: %s", req->peer_ip, err);
        asc_admin_error(req, 401, "unauthorized", "the sign-in could not be verified");
        return;
    }
    asc_principal_t p;
    int rc = asc_admin_principal_from_claims(cfg, claims, &p, err, sizeof err);
    cJSON_Delete(claims);
    if (rc != 0) {
        cJSON_Delete(st);
        asc_admin_error(req, rc, rc == 403 ? "forbidden" : "unauthorized", err);
        return;
    }
    /* the session: a random cookie, stored as its hash */
    uint8_t raw[32];
    char sid[64];
    randombytes_buf(raw, sizeof raw);
    sodium_bin2base64(sid, sizeof sid, raw, sizeof raw, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    sodium_memzero(raw, sizeof raw);
    cJSON *pj = cJSON_CreateObject();
    cJSON_AddStringToObject(pj, "subject", p.subject);
    cJSON_AddStringToObject(pj, "role", asc_config_role_name(p.role));
    cJSON_AddStringToObject(pj, "tenant", p.tenant);
    cJSON_AddStringToObject(pj, "team", p.team);
    cJSON_AddBoolToObject(pj, "bound", p.bound);
    char *text = cJSON_PrintUnformatted(pj);
    cJSON_Delete(pj);
    hash_hex(sid, hex);
    uint64_t ttl = cfg->admin.oidc.session_ttl_ms;
    asc_store_session_t ss = {
        .id_hash = hex, .principal = text, .expires_at = (int64_t)(asc_clock_wall_ms() + ttl)};
    e = s->be->session_put(s, &ss, err, sizeof err);
    free(text);
    if (e != ASC_OK) {
        cJSON_Delete(st);
        asc_admin_error(req, 503, "store_unavailable", "the store is unavailable");
        return;
    }
    char c1[256], c2[160];
    const char *sec = secure(cfg) ? "; Secure" : "";
    snprintf(c1, sizeof c1, "asc_session=%s; Path=/; Max-Age=%llu; HttpOnly; SameSite=Lax%s", sid,
             (unsigned long long)(ttl / 1000), sec);
    snprintf(c2, sizeof c2, "asc_login=; Path=/admin/v1/auth; Max-Age=0; HttpOnly; SameSite=Lax%s",
             sec);
    const char *back = doc_str(st, "redirect");
    asc_http_header_t h[4] = {{"Location", 8, back, strlen(back)},
                              {"Set-Cookie", 10, c1, strlen(c1)},
                              {"Set-Cookie", 10, c2, strlen(c2)},
                              {"Cache-Control", 13, "no-store", 8}};
    asc_log_info("admin: %s signed in as %s", p.subject, asc_config_role_name(p.role));
    asc_http_respond(req, 302, h, 4, NULL, 0);
    sodium_memzero(sid, sizeof sid);
    sodium_memzero(c1, sizeof c1);
    cJSON_Delete(st);
}

static void logout(asc_admin_t *a, asc_http_req_t *req, const asc_config_t *cfg)
{
    char err[256], hex[65];
    const char *sid = asc_admin_cookie(req, "asc_session");
    if (sid != NULL && strlen(sid) < 512) {
        hash_hex(sid, hex);
        asc_store_t *s = asc_control_store(a->ctl);
        s->be->session_del(s, hex, err, sizeof err);
    }
    char c[160];
    snprintf(c, sizeof c, "asc_session=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax%s",
             cfg->admin.has_oidc && secure(cfg) ? "; Secure" : "");
    asc_http_header_t h = {"Set-Cookie", 10, c, strlen(c)};
    asc_http_respond(req, 204, &h, 1, NULL, 0);
}

int asc_admin_login_route(asc_admin_t *a, asc_http_req_t *req, const asc_config_t *cfg,
                          const char *rest)
{
    if (strcmp(rest, "logout") == 0) {
        if (req->method != 3)
            asc_admin_error(req, 405, "method_not_allowed", "POST to sign out");
        else
            logout(a, req, cfg);
        return 1;
    }
    if (strcmp(rest, "login") != 0 && strcmp(rest, "callback") != 0)
        return 0;
    if (a->oidc == NULL || !cfg->admin.has_oidc || cfg->admin.oidc.redirect_url == NULL) {
        asc_admin_error(req, 404, "not_found",
                        "single sign-on is not configured (admin.oidc with redirect_url)");
        return 1;
    }
    if (req->method != 1) {
        asc_admin_error(req, 405, "method_not_allowed", "GET");
        return 1;
    }
    if (strcmp(rest, "login") == 0)
        login(a, req, cfg);
    else
        callback(a, req, cfg);
    return 1;
}

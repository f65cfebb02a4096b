/*
 * The admin API's listener and dispatcher: /admin/v1/<kind>[/<name>[/<action>]],
 * /admin/v1/{revisions,changes,apply,whoami} and /admin/v1/auth/...
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "admin/internal.h"
#include "admin/routes.h"
#include "auth/key.h"
#include "core/log.h"

void asc_admin_json(asc_http_req_t *req, int status, const cJSON *body,
                    const asc_http_header_t *extra, size_t nextra)
{
    asc_http_header_t h[8];
    size_t n = 0;
    h[n++] = (asc_http_header_t){"Content-Type", 12, "application/json", 16};
    h[n++] = (asc_http_header_t){"Cache-Control", 13, "no-store", 8};
    for (size_t i = 0; i < nextra && n < 8; i++)
        h[n++] = extra[i];
    char *text = body ? cJSON_PrintUnformatted(body) : NULL;
    asc_http_respond(req, status, h, n, text ? text : "", text ? strlen(text) : 0);
    free(text);
}

void asc_admin_error(asc_http_req_t *req, int status, const char *code, const char *msg)
{
    cJSON *b = cJSON_CreateObject();
    cJSON *e = cJSON_AddObjectToObject(b, "error");
    cJSON_AddStringToObject(e, "type", code);
    cJSON_AddStringToObject(e, "code", code);
    cJSON_AddStringToObject(e, "message", msg);
    asc_admin_json(req, status, b, NULL, 0);
    cJSON_Delete(b);
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

char *asc_admin_unescape(asc_pool_t *pool, const char *s, size_t n)
{
    char *out = asc_pool_alloc(pool, n + 1);
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == '%') {
            if (i + 2 >= n)
                return NULL;
            int h = hexval(s[i + 1]), l = hexval(s[i + 2]);
            if (h < 0 || l < 0)
                return NULL;
            c = (char)(h * 16 + l);
            i += 2;
        } else if (c == '+') {
            c = ' ';
        }
        if (c == '\0')
            return NULL;
        out[o++] = c;
    }
    out[o] = '\0';
    return out;
}

const char *asc_admin_query(const asc_http_req_t *req, const char *name)
{
    const char *q = req->query;
    size_t nl = strlen(name);
    while (q != NULL && *q) {
        const char *amp = strchr(q, '&');
        size_t len = amp ? (size_t)(amp - q) : strlen(q);
        if (len > nl && strncmp(q, name, nl) == 0 && q[nl] == '=')
            return asc_admin_unescape(req->pool, q + nl + 1, len - nl - 1);
        if (len == nl && strncmp(q, name, nl) == 0)
            return "";
        q = amp ? amp + 1 : NULL;
    }
    return NULL;
}

const char *asc_admin_cookie(const asc_http_req_t *req, const char *name)
{
    size_t n = 0, nl = strlen(name);
    const char *v = asc_http_req_header(req, "cookie", &n);
    size_t i = 0;
    while (v != NULL && i < n) {
        while (i < n && (v[i] == ' ' || v[i] == ';'))
            i++;
        size_t start = i;
        while (i < n && v[i] != ';')
            i++;
        if (i - start > nl && strncmp(v + start, name, nl) == 0 && v[start + nl] == '=') {
            size_t vl = i - start - nl - 1;
            char *out = asc_pool_alloc(req->pool, vl + 1);
            memcpy(out, v + start + nl + 1, vl);
            out[vl] = '\0';
            return out;
        }
    }
    return NULL;
}

static void handle(asc_http_req_t *req, void *ud)
{
    asc_admin_t *a = ud;
    const char *path = req->path;
    asc_snapshot_t *snap = asc_snapshot_current();
    if (snap == NULL) {
        asc_admin_error(req, 503, "store_unavailable", "the control plane is starting");
        return;
    }
    if (strcmp(path, "/healthz") == 0) {
        static const asc_http_header_t ct = {"Content-Type", 12, "application/json", 16};
        asc_http_respond(req, 200, &ct, 1, "{\"status\":\"ok\"}", 15);
        goto out;
    }
    if (strncmp(path, "/admin/v1/", 10) != 0) {
        asc_admin_error(req, 404, "not_found", "no such admin route (see docs/admin.md)");
        goto out;
    }
    const char *rest = path + 10;
    if (strncmp(rest, "auth/", 5) == 0) {
        if (!asc_admin_login_route(a, req, snap->cfg, rest + 5))
            asc_admin_error(req, 404, "not_found", "no such admin route (see docs/admin.md)");
        goto out;
    }
    /* a query value that does not decode is refused, never taken as absent */
    for (const char *q = req->query; q != NULL && *q;) {
        const char *amp = strchr(q, '&');
        size_t len = amp ? (size_t)(amp - q) : strlen(q);
        if (asc_admin_unescape(req->pool, q, len) == NULL) {
            asc_admin_error(req, 400, "invalid_request",
                            "the query string has a bad percent-encoding");
            goto out;
        }
        q = amp ? amp + 1 : NULL;
    }
    asc_principal_t p;
    if (!asc_admin_authenticate(a, req, snap->cfg, &p))
        goto out;
    asc_admin_route(a, req, snap, &p, rest);
out:
    asc_snapshot_unref(snap);
}

void asc_admin_configure(asc_admin_t *a, const asc_config_t *cfg)
{
    const asc_config_admin_t *ad = &cfg->admin;
    a->has_token = 0;
    if (ad->token_ref != NULL && strncmp(ad->token_ref, "sha256:", 7) == 0) {
        a->has_token =
            sodium_hex2bin(a->token_hash, 32, ad->token_ref + 7, 64, NULL, NULL, NULL) == 0;
    } else if (ad->token_ref != NULL && strncmp(ad->token_ref, "env:", 4) == 0) {
        const char *v = getenv(ad->token_ref + 4);
        if (v != NULL && strlen(v) >= 16) {
            asc_key_hash(v, strlen(v), a->token_hash);
            a->has_token = 1;
        } else if (v != NULL && v[0] != '\0') {
            asc_log_warn("admin: %s is shorter than 16 characters and is ignored",
                         ad->token_ref + 4);
        }
    }
    char key[2048];
    snprintf(key, sizeof key, "%s|%s|%s|%s|%u", ad->has_oidc ? ad->oidc.issuer : "",
             ad->has_oidc ? ad->oidc.client_id : "", ad->has_oidc ? ad->oidc.audience : "",
             ad->has_oidc && ad->oidc.ca_file ? ad->oidc.ca_file : "",
             ad->has_oidc ? ad->oidc.skew_s : 0);
    if (a->oidc_key != NULL && strcmp(a->oidc_key, key) == 0)
        return;
    asc_oidc_free(a->oidc);
    a->oidc = NULL;
    free(a->oidc_key);
    a->oidc_key = strdup(key);
    if (a->client_secret != NULL) {
        sodium_memzero(a->client_secret, strlen(a->client_secret));
        free(a->client_secret);
        a->client_secret = NULL;
    }
    if (!ad->has_oidc)
        return;
    const char *ref = ad->oidc.client_secret_ref;
    if (ref != NULL && strncmp(ref, "env:", 4) == 0 && getenv(ref + 4) != NULL)
        a->client_secret = strdup(getenv(ref + 4));
    asc_oidc_opts_t o = {.issuer = ad->oidc.issuer,
                         .audience = ad->oidc.audience,
                         .client_id = ad->oidc.client_id,
                         .client_secret = a->client_secret,
                         .ca_file = ad->oidc.ca_file,
                         .skew_s = ad->oidc.skew_s,
                         .min_refresh_s = 10,
                         .http_timeout_ms = 5000};
    char err[256];
    if (asc_oidc_new(&o, &a->oidc, err, sizeof err) != ASC_OK)
        asc_log_error("admin: OIDC disabled: %s", err);
}

asc_err_t asc_admin_start(uv_loop_t *loop, const asc_admin_opts_t *o, asc_admin_t **out,
                          int *bound_port, char *err, size_t errlen)
{
    asc_admin_t *a = calloc(1, sizeof *a);
    if (a == NULL)
        return ASC_ENOMEM;
    a->ctl = o->ctl;
    a->box = o->box;
    atomic_init(&a->conns, 0);
    a->server = asc_http_server_create(loop, o->host, o->port, &o->limits, &a->conns, handle, a,
                                       err, errlen);
    if (a->server == NULL) {
        free(a);
        return ASC_EIO;
    }
    *bound_port = asc_http_server_port(a->server);
    *out = a;
    return ASC_OK;
}

static void on_closed(asc_http_server_t *s, void *arg)
{
    asc_admin_t *a = arg;
    asc_http_server_free(s);
    a->server = NULL;
}

void asc_admin_stop(asc_admin_t *a)
{
    if (a != NULL && a->server != NULL) {
        asc_http_server_abort_all(a->server);
        asc_http_server_shutdown(a->server, on_closed, a);
    }
}

void asc_admin_free(asc_admin_t *a)
{
    if (a == NULL)
        return;
    asc_oidc_free(a->oidc);
    free(a->oidc_key);
    if (a->client_secret != NULL) {
        sodium_memzero(a->client_secret, strlen(a->client_secret));
        free(a->client_secret);
    }
    free(a);
}

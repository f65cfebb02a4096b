/*
 * An OIDC relying party: discovery, the issuer's JWKS, a cache of verified
 * tokens, and the authorization-code flow with PKCE.
 *
 * Everything sits behind one mutex, network requests included: callers are
 * the control thread (and perhaps an admin handler), requests are short and
 * rare (rate limited), and holding the lock means one fetch serves everyone
 * waiting for it.
 *
 * The token cache is keyed by the SHA-256 of the whole token, never a
 * prefix, so a token that shares everything but its signature with a
 * verified one is verified on its own. A hit re-runs the claim checks at
 * the caller's `now`, so an entry cannot outlive its exp.
 */
#include "sso/jwt.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "core/buf.h"
#include "core/clock.h"

#define CACHE_SLOTS 64
#define JWKS_MAX_AGE_S 3600
#define MAX_RESPONSE (1024 * 1024)
#define MAX_TOKEN 16384
#define DISCOVERY_PATH "/.well-known/openid-configuration"

typedef struct {
    unsigned char hash[32];
    int64_t exp; /* unix seconds; the slot is free when claims is NULL */
    cJSON *claims;
} cache_ent_t;

struct asc_oidc {
    pthread_mutex_t mu;
    char *issuer, *audience, *client_id, *client_secret, *ca_file;
    unsigned skew_s, min_refresh_s, timeout_ms;

    int have_discovery;
    char *authz_ep, *token_ep, *jwks_uri; /* from discovery; each may be NULL */
    int discovery_tried;
    uint64_t discovery_tried_at; /* monotonic seconds */

    asc_jwks_t *jwks;
    uint64_t jwks_fetched_at;
    int jwks_tried;
    uint64_t jwks_tried_at;

    cache_ent_t cache[CACHE_SLOTS];
};

static void set_err(char *err, size_t errlen, const char *fmt, const char *arg)
{
    if (err != NULL && errlen > 0)
        snprintf(err, errlen, fmt, arg);
}

static uint64_t mono_s(void)
{
    return asc_clock_ns() / 1000000000u;
}

static char *xstrdup(const char *s)
{
    if (s == NULL)
        return NULL;
    char *d = strdup(s);
    if (d == NULL)
        abort();
    return d;
}

static void free_secret(char *s)
{
    if (s != NULL)
        OPENSSL_cleanse(s, strlen(s));
    free(s);
}

/* ---- HTTP -------------------------------------------------------------- */

static size_t on_write(char *p, size_t size, size_t n, void *ud)
{
    asc_buf_t *b = ud;
    return asc_buf_append(b, p, size * n) == ASC_OK ? size * n : 0;
}

/* GET url (or POST `form` as application/x-www-form-urlencoded) into body,
 * which the caller initialised. Anything but a 200 is ASC_EUPSTREAM with a
 * message that names `what`, never the URL's query or the body. */
static asc_err_t http_fetch(asc_oidc_t *o, const char *what, const char *url, const char *form,
                            asc_buf_t *body, char *err, size_t errlen)
{
    asc_err_t rc = ASC_EUPSTREAM;
    struct curl_slist *hdrs = NULL;
    long status = 0;
    CURL *c = curl_easy_init();
    if (c == NULL)
        abort();
    hdrs = curl_slist_append(hdrs, "Accept: application/json");
    if (hdrs == NULL)
        abort();
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(c, CURLOPT_USERAGENT, "asc-oidc");
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
    if (o->ca_file != NULL)
        curl_easy_setopt(c, CURLOPT_CAINFO, o->ca_file);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)o->timeout_ms);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, (long)o->timeout_ms);
    curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)MAX_RESPONSE);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_write);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, body);
    if (form != NULL) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, form);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(form));
    }
    CURLcode cc = curl_easy_perform(c);
    if (cc == CURLE_WRITE_ERROR || cc == CURLE_FILESIZE_EXCEEDED) {
        set_err(err, errlen, "%s: response too large", what);
        goto out;
    }
    if (cc != CURLE_OK) {
        if (err != NULL && errlen > 0)
            snprintf(err, errlen, "%s: %s", what, curl_easy_strerror(cc));
        goto out;
    }
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    if (status != 200) {
        if (err != NULL && errlen > 0)
            snprintf(err, errlen, "%s: HTTP %ld", what, status);
        goto out;
    }
    rc = ASC_OK;
out:
    curl_slist_free_all(hdrs);
    curl_easy_cleanup(c);
    return rc;
}

/* Append s URL-encoded (RFC 3986 unreserved characters kept). */
static void put_encoded(asc_buf_t *b, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    for (; *s != '\0'; s++) {
        unsigned char ch = (unsigned char)*s;
        if ((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
            ch == '-' || ch == '.' || ch == '_' || ch == '~') {
            if (asc_buf_putc(b, (char)ch) != ASC_OK)
                abort();
        } else {
            char e[3] = {'%', hex[ch >> 4], hex[ch & 15]};
            if (asc_buf_append(b, e, 3) != ASC_OK)
                abort();
        }
    }
}

/* Append "<sep>name=value" with value URL-encoded. */
static void put_param(asc_buf_t *b, char sep, const char *name, const char *value)
{
    if (asc_buf_putc(b, sep) != ASC_OK || asc_buf_puts(b, name) != ASC_OK ||
        asc_buf_putc(b, '=') != ASC_OK)
        abort();
    put_encoded(b, value);
}

/* ---- discovery and JWKS ------------------------------------------------ */

static char *str_member(const cJSON *o, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
    return cJSON_IsString(v) && v->valuestring[0] != '\0' ? xstrdup(v->valuestring) : NULL;
}

/* Parse a discovery document and install it in o. */
static asc_err_t install_discovery(asc_oidc_t *o, const char *json, size_t len, char *err,
                                   size_t errlen)
{
    cJSON *doc = cJSON_ParseWithLength(json, len);
    const cJSON *iss = cJSON_GetObjectItemCaseSensitive(doc, "issuer");
    asc_err_t rc = ASC_EINVAL;
    if (!cJSON_IsObject(doc)) {
        set_err(err, errlen, "%s", "discovery: not a JSON object");
        goto out;
    }
    /* OIDC Discovery §4.3: the issuer must be exactly the one configured,
     * or one issuer could vouch for another's users. */
    if (!cJSON_IsString(iss) || strcmp(iss->valuestring, o->issuer) != 0) {
        set_err(err, errlen, "%s", "discovery: issuer mismatch");
        goto out;
    }
    char *jwks_uri = str_member(doc, "jwks_uri");
    if (jwks_uri == NULL) {
        set_err(err, errlen, "%s", "discovery: no jwks_uri");
        goto out;
    }
    free(o->jwks_uri);
    free(o->authz_ep);
    free(o->token_ep);
    o->jwks_uri = jwks_uri;
    o->authz_ep = str_member(doc, "authorization_endpoint");
    o->token_ep = str_member(doc, "token_endpoint");
    o->have_discovery = 1;
    rc = ASC_OK;
out:
    cJSON_Delete(doc);
    return rc;
}

static asc_err_t ensure_discovery(asc_oidc_t *o, char *err, size_t errlen)
{
    if (o->have_discovery)
        return ASC_OK;
    uint64_t t = mono_s();
    if (o->discovery_tried && t - o->discovery_tried_at < o->min_refresh_s) {
        set_err(err, errlen, "%s", "issuer unreachable (retry later)");
        return ASC_EUPSTREAM;
    }
    o->discovery_tried = 1;
    o->discovery_tried_at = t;

    asc_buf_t url, body;
    asc_buf_init(&url, 0);
    asc_buf_init(&body, MAX_RESPONSE);
    size_t n = strlen(o->issuer);
    if (n > 0 && o->issuer[n - 1] == '/')
        n--;
    if (asc_buf_append(&url, o->issuer, n) != ASC_OK || asc_buf_puts(&url, DISCOVERY_PATH))
        abort();
    asc_err_t rc = http_fetch(o, "discovery", url.data, NULL, &body, err, errlen);
    if (rc == ASC_OK)
        rc = install_discovery(o, body.data ? body.data : "", body.len, err, errlen);
    if (rc != ASC_OK)
        rc = ASC_EUPSTREAM;
    asc_buf_free(&url);
    asc_buf_free(&body);
    return rc;
}

static int may_fetch_jwks(const asc_oidc_t *o, uint64_t t)
{
    return !o->jwks_tried || t - o->jwks_tried_at >= o->min_refresh_s;
}

/* Fetch the JWKS now (the caller checked the rate limit). On failure the
 * old set, if any, stays. */
static asc_err_t fetch_jwks(asc_oidc_t *o, char *err, size_t errlen)
{
    uint64_t t = mono_s();
    o->jwks_tried = 1;
    o->jwks_tried_at = t;
    asc_err_t rc = ensure_discovery(o, err, errlen);
    if (rc != ASC_OK)
        return rc;
    if (o->jwks_uri == NULL) {
        set_err(err, errlen, "%s", "no jwks_uri");
        return ASC_EUPSTREAM;
    }
    asc_buf_t body;
    asc_jwks_t *keys = NULL;
    asc_buf_init(&body, MAX_RESPONSE);
    rc = http_fetch(o, "jwks", o->jwks_uri, NULL, &body, err, errlen);
    if (rc == ASC_OK)
        rc = asc_jwks_parse(body.data ? body.data : "", body.len, &keys, err, errlen);
    asc_buf_free(&body);
    if (rc != ASC_OK)
        return ASC_EUPSTREAM;
    asc_jwks_free(o->jwks);
    o->jwks = keys;
    o->jwks_fetched_at = t;
    return ASC_OK;
}

/* Make sure o->jwks holds a key set, fetching a missing or old one. */
static asc_err_t have_keys(asc_oidc_t *o, char *err, size_t errlen)
{
    uint64_t t = mono_s();
    int stale = o->jwks == NULL || t - o->jwks_fetched_at >= JWKS_MAX_AGE_S;
    if (stale && may_fetch_jwks(o, t))
        fetch_jwks(o, err, errlen);
    if (o->jwks != NULL)
        return ASC_OK;
    if (err != NULL && errlen > 0 && err[0] == '\0')
        set_err(err, errlen, "%s", "no keys (retry later)");
    return ASC_EUPSTREAM;
}

/* Verify against the current keys; on an unknown kid refetch the JWKS (at
 * most once per min_refresh_s) and try again. */
static asc_err_t verify_locked(asc_oidc_t *o, const char *token, size_t len, const char *aud,
                               int64_t now, cJSON **claims, char *err, size_t errlen)
{
    asc_err_t rc = have_keys(o, err, errlen);
    if (rc != ASC_OK)
        return rc;
    rc = asc_jwt_verify_keys(o->jwks, token, len, o->issuer, aud, o->skew_s, now, claims, err,
                             errlen);
    if (rc == ASC_ENOTFOUND && may_fetch_jwks(o, mono_s()) && fetch_jwks(o, err, errlen) == ASC_OK)
        rc = asc_jwt_verify_keys(o->jwks, token, len, o->issuer, aud, o->skew_s, now, claims, err,
                                 errlen);
    if (rc == ASC_ENOTFOUND) {
        set_err(err, errlen, "%s", "unknown kid");
        rc = ASC_EDENIED;
    }
    if (rc == ASC_OK && err != NULL && errlen > 0)
        err[0] = '\0'; /* no stale reason from a first attempt */
    return rc;
}

/* ---- token cache ------------------------------------------------------- */

static void token_hash(const char *token, size_t len, unsigned char out[32])
{
    unsigned int n = 32;
    if (EVP_Digest(token, len, out, &n, EVP_sha256(), NULL) != 1)
        abort();
}

static cache_ent_t *cache_find(asc_oidc_t *o, const unsigned char hash[32])
{
    for (size_t i = 0; i < CACHE_SLOTS; i++)
        if (o->cache[i].claims != NULL && CRYPTO_memcmp(o->cache[i].hash, hash, 32) == 0)
            return &o->cache[i];
    return NULL;
}

static void cache_drop(cache_ent_t *e)
{
    cJSON_Delete(e->claims);
    e->claims = NULL;
}

/* Remember verified claims (copied) until the token's exp. Takes a free
 * or expired slot, else evicts the entry closest to expiring. */
static void cache_put(asc_oidc_t *o, const unsigned char hash[32], const cJSON *claims, int64_t now)
{
    const cJSON *exp = cJSON_GetObjectItemCaseSensitive(claims, "exp");
    double e = cJSON_IsNumber(exp) ? exp->valuedouble : 0;
    /* Clamped so that exp + skew cannot overflow. */
    int64_t exp_s = e >= 4e18 ? (int64_t)4e18 : e <= 0 ? 0 : (int64_t)e;
    cache_ent_t *slot = &o->cache[0];
    for (size_t i = 0; i < CACHE_SLOTS; i++) {
        cache_ent_t *c = &o->cache[i];
        if (c->claims == NULL || c->exp + (int64_t)o->skew_s <= now) {
            slot = c;
            break;
        }
        if (c->exp < slot->exp)
            slot = c;
    }
    cache_drop(slot);
    slot->claims = cJSON_Duplicate(claims, 1);
    if (slot->claims == NULL)
        abort();
    memcpy(slot->hash, hash, 32);
    slot->exp = exp_s;
}

/* ---- public ------------------------------------------------------------ */

asc_err_t asc_oidc_new(const asc_oidc_opts_t *opts, asc_oidc_t **out, char *err, size_t errlen)
{
    *out = NULL;
    if (opts == NULL || opts->issuer == NULL || opts->audience == NULL ||
        opts->audience[0] == '\0' ||
        (strncmp(opts->issuer, "https://", 8) != 0 && strncmp(opts->issuer, "http://", 7) != 0)) {
        set_err(err, errlen, "%s", "oidc: issuer (http/https URL) and audience required");
        return ASC_EINVAL;
    }
    asc_oidc_t *o = calloc(1, sizeof *o);
    if (o == NULL)
        abort();
    if (pthread_mutex_init(&o->mu, NULL) != 0)
        abort();
    o->issuer = xstrdup(opts->issuer);
    o->audience = xstrdup(opts->audience);
    o->client_id = xstrdup(opts->client_id);
    o->client_secret = xstrdup(opts->client_secret);
    o->ca_file = xstrdup(opts->ca_file);
    o->skew_s = opts->skew_s ? opts->skew_s : 60;
    o->min_refresh_s = opts->min_refresh_s ? opts->min_refresh_s : 10;
    o->timeout_ms = opts->http_timeout_ms ? opts->http_timeout_ms : 5000;
    *out = o;
    return ASC_OK;
}

void asc_oidc_free(asc_oidc_t *o)
{
    if (o == NULL)
        return;
    for (size_t i = 0; i < CACHE_SLOTS; i++)
        cache_drop(&o->cache[i]);
    asc_jwks_free(o->jwks);
    free(o->issuer);
    free(o->audience);
    free(o->client_id);
    free_secret(o->client_secret);
    free(o->ca_file);
    free(o->authz_ep);
    free(o->token_ep);
    free(o->jwks_uri);
    pthread_mutex_destroy(&o->mu);
    free(o);
}

asc_err_t asc_oidc_preload(asc_oidc_t *o, const char *discovery_json, const char *jwks_json,
                           char *err, size_t errlen)
{
    asc_jwks_t *keys = NULL;
    asc_err_t rc = asc_jwks_parse(jwks_json, strlen(jwks_json), &keys, err, errlen);
    if (rc != ASC_OK)
        return rc;
    pthread_mutex_lock(&o->mu);
    if (discovery_json != NULL) {
        rc = install_discovery(o, discovery_json, strlen(discovery_json), err, errlen);
    } else {
        free(o->jwks_uri);
        free(o->authz_ep);
        free(o->token_ep);
        o->jwks_uri = o->authz_ep = o->token_ep = NULL;
        o->have_discovery = 1;
    }
    if (rc == ASC_OK) {
        uint64_t t = mono_s();
        asc_jwks_free(o->jwks);
        o->jwks = keys;
        keys = NULL;
        o->jwks_fetched_at = o->jwks_tried_at = o->discovery_tried_at = t;
        o->jwks_tried = o->discovery_tried = 1;
    }
    pthread_mutex_unlock(&o->mu);
    asc_jwks_free(keys);
    return rc;
}

asc_err_t asc_oidc_verify(asc_oidc_t *o, const char *token, size_t len, int64_t now, cJSON **claims,
                          char *err, size_t errlen)
{
    unsigned char hash[32];
    asc_err_t rc;

    *claims = NULL;
    if (err != NULL && errlen > 0)
        err[0] = '\0';
    if (len > MAX_TOKEN) {
        set_err(err, errlen, "%s", "token too large");
        return ASC_EDENIED;
    }
    if (now == 0)
        now = (int64_t)(asc_clock_wall_ms() / 1000);
    token_hash(token, len, hash);

    pthread_mutex_lock(&o->mu);
    cache_ent_t *hit = cache_find(o, hash);
    if (hit != NULL) {
        rc = asc_jwt_check_claims(hit->claims, o->issuer, o->audience, o->skew_s, now, err, errlen);
        if (rc == ASC_OK) {
            *claims = cJSON_Duplicate(hit->claims, 1);
            if (*claims == NULL)
                abort();
        }
        goto out;
    }
    rc = verify_locked(o, token, len, o->audience, now, claims, err, errlen);
    if (rc == ASC_OK)
        cache_put(o, hash, *claims, now);
out:
    pthread_mutex_unlock(&o->mu);
    return rc;
}

/* 32 random bytes as 43 base64url characters into out[64]. */
static void random_b64(char out[64])
{
    unsigned char r[32];
    if (RAND_bytes(r, sizeof r) != 1)
        abort();
    char *s = asc_base64url_encode(r, sizeof r);
    if (s == NULL)
        abort();
    snprintf(out, 64, "%s", s);
    free(s);
}

asc_err_t asc_oidc_authorize_url(asc_oidc_t *o, const char *redirect_uri, asc_oidc_login_t *login,
                                 char **url, char *err, size_t errlen)
{
    asc_err_t rc;
    asc_buf_t b;
    asc_buf_init(&b, 0);
    *url = NULL;
    if (err != NULL && errlen > 0)
        err[0] = '\0';
    if (o->client_id == NULL || redirect_uri == NULL) {
        set_err(err, errlen, "%s", "oidc: no client_id");
        return ASC_EINVAL;
    }

    pthread_mutex_lock(&o->mu);
    rc = ensure_discovery(o, err, errlen);
    if (rc != ASC_OK)
        goto out;
    if (o->authz_ep == NULL) {
        set_err(err, errlen, "%s", "discovery: no authorization_endpoint");
        rc = ASC_EUPSTREAM;
        goto out;
    }
    random_b64(login->state);
    random_b64(login->nonce);
    random_b64(login->verifier);
    unsigned char digest[32];
    unsigned int dn = sizeof digest;
    if (EVP_Digest(login->verifier, strlen(login->verifier), digest, &dn, EVP_sha256(), NULL) != 1)
        abort();
    char *challenge = asc_base64url_encode(digest, sizeof digest);
    if (challenge == NULL)
        abort();

    if (asc_buf_puts(&b, o->authz_ep) != ASC_OK)
        abort();
    put_param(&b, strchr(o->authz_ep, '?') ? '&' : '?', "response_type", "code");
    put_param(&b, '&', "client_id", o->client_id);
    put_param(&b, '&', "redirect_uri", redirect_uri);
    put_param(&b, '&', "scope", "openid email profile");
    put_param(&b, '&', "state", login->state);
    put_param(&b, '&', "nonce", login->nonce);
    put_param(&b, '&', "code_challenge", challenge);
    put_param(&b, '&', "code_challenge_method", "S256");
    free(challenge);
    *url = asc_buf_take(&b, NULL);
out:
    pthread_mutex_unlock(&o->mu);
    asc_buf_free(&b);
    return rc;
}

asc_err_t asc_oidc_exchange(asc_oidc_t *o, const char *code, const char *redirect_uri,
                            const char *verifier, const char *expected_nonce, cJSON **claims,
                            char *err, size_t errlen)
{
    asc_err_t rc;
    asc_buf_t form, body;
    cJSON *resp = NULL;
    asc_buf_init(&form, 0);
    asc_buf_init(&body, MAX_RESPONSE);
    *claims = NULL;
    if (err != NULL && errlen > 0)
        err[0] = '\0';
    if (o->client_id == NULL || code == NULL || redirect_uri == NULL || verifier == NULL ||
        expected_nonce == NULL) {
        set_err(err, errlen, "%s", "oidc: missing code flow parameter");
        return ASC_EINVAL;
    }

    pthread_mutex_lock(&o->mu);
    rc = ensure_discovery(o, err, errlen);
    if (rc != ASC_OK)
        goto out;
    if (o->token_ep == NULL) {
        set_err(err, errlen, "%s", "discovery: no token_endpoint");
        rc = ASC_EUPSTREAM;
        goto out;
    }
    if (asc_buf_puts(&form, "grant_type=authorization_code") != ASC_OK)
        abort();
    put_param(&form, '&', "code", code);
    put_param(&form, '&', "redirect_uri", redirect_uri);
    put_param(&form, '&', "client_id", o->client_id);
    put_param(&form, '&', "code_verifier", verifier);
    if (o->client_secret != NULL)
        put_param(&form, '&', "client_secret", o->client_secret);
    rc = http_fetch(o, "token endpoint", o->token_ep, form.data, &body, err, errlen);
    if (rc != ASC_OK)
        goto out;

    resp = cJSON_ParseWithLength(body.data ? body.data : "", body.len);
    const cJSON *idt = cJSON_GetObjectItemCaseSensitive(resp, "id_token");
    if (!cJSON_IsString(idt)) {
        set_err(err, errlen, "%s", "token endpoint: no id_token");
        rc = ASC_EUPSTREAM;
        goto out;
    }
    rc = verify_locked(o, idt->valuestring, strlen(idt->valuestring), o->client_id, 0, claims, err,
                       errlen);
    if (rc != ASC_OK)
        goto out;
    rc = ASC_EDENIED;
    const cJSON *nonce = cJSON_GetObjectItemCaseSensitive(*claims, "nonce");
    size_t nlen = strlen(expected_nonce);
    if (!cJSON_IsString(nonce) || strlen(nonce->valuestring) != nlen ||
        CRYPTO_memcmp(nonce->valuestring, expected_nonce, nlen) != 0) {
        set_err(err, errlen, "%s", "wrong nonce");
        goto out;
    }
    /* OIDC Core §3.1.3.7: an authorized party, when named, must be us. */
    const cJSON *azp = cJSON_GetObjectItemCaseSensitive(*claims, "azp");
    if (azp != NULL && (!cJSON_IsString(azp) || strcmp(azp->valuestring, o->client_id) != 0)) {
        set_err(err, errlen, "%s", "wrong azp");
        goto out;
    }
    rc = ASC_OK;
out:
    pthread_mutex_unlock(&o->mu);
    if (rc != ASC_OK) {
        cJSON_Delete(*claims);
        *claims = NULL;
    }
    cJSON_Delete(resp);
    if (form.data != NULL)
        OPENSSL_cleanse(form.data, form.len);
    if (body.data != NULL)
        OPENSSL_cleanse(body.data, body.len);
    asc_buf_free(&form);
    asc_buf_free(&body);
    return rc;
}

/*
 * OIDC for the admin API and portal: JWT verification against an issuer's
 * JWKS (RS256 and ES256 only), discovery, the authorization-code flow with
 * PKCE, all with OpenSSL (signatures) and libcurl easy handles (discovery,
 * JWKS and token requests; blocking, with short timeouts: call them only
 * from the control thread, never a data-plane worker).
 *
 * Verification refuses: alg "none" and every alg other than RS256/ES256;
 * an alg that does not match the JWK's key type (HS/RS confusion); a
 * missing or wrong iss, aud (string or array), exp (with skew), nbf/iat in
 * the future beyond skew; a kid not in the JWKS after one refresh (refreshes
 * are rate limited: at most one per min_refresh_s per issuer); a token over
 * 16 KiB. Verified tokens are cached by the SHA-256 of the whole token (so
 * two tokens sharing a prefix never share an entry) until their exp.
 *
 * Ownership: strings passed in are borrowed; claims handed out are a cJSON
 * tree the caller deletes. An asc_oidc_t is thread-safe (internal mutex).
 */
#ifndef ASC_SSO_JWT_H
#define ASC_SSO_JWT_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "core/err.h"

typedef struct asc_oidc asc_oidc_t;

typedef struct {
    const char *issuer;        /* required; discovery at <issuer>/.well-known/openid-configuration */
    const char *audience;      /* required: the expected aud (usually the client id) */
    const char *client_id;     /* for the code flow; NULL = no login flow */
    const char *client_secret; /* NULL for a public client (PKCE only) */
    const char *ca_file;       /* extra CA for the issuer's TLS, or NULL */
    unsigned skew_s;           /* clock skew allowed on exp/nbf/iat (default 60) */
    unsigned min_refresh_s;    /* JWKS refresh rate limit (default 10) */
    unsigned http_timeout_ms;  /* discovery/JWKS/token requests (default 5000) */
} asc_oidc_opts_t;

/* Create a verifier. Discovery and the JWKS are fetched lazily on first
 * use (so start-up does not depend on the IdP being up). */
asc_err_t asc_oidc_new(const asc_oidc_opts_t *o, asc_oidc_t **out, char *err, size_t errlen);
void asc_oidc_free(asc_oidc_t *o);

/* Verify token[0..len) at time now (unix seconds; 0 = the clock). On success
 * *claims gets the payload (caller deletes). On failure ASC_EDENIED with a
 * short reason in err ("expired", "wrong audience", "unknown kid", "alg not
 * allowed", "bad signature", ...) that never contains the token. */
asc_err_t asc_oidc_verify(asc_oidc_t *o, const char *token, size_t len, int64_t now,
                          cJSON **claims, char *err, size_t errlen);

/* Authorization-code flow with PKCE (S256). asc_oidc_authorize_url builds
 * the IdP URL for a login: state, nonce and code_verifier are generated
 * (each 43 base64url chars of 32 random bytes) and returned for the caller
 * to keep (in a short-lived, HttpOnly cookie or server-side). */
typedef struct {
    char state[64];
    char nonce[64];
    char verifier[64];
} asc_oidc_login_t;

asc_err_t asc_oidc_authorize_url(asc_oidc_t *o, const char *redirect_uri,
                                 asc_oidc_login_t *login, char **url, char *err,
                                 size_t errlen);

/* Exchange `code` at the token endpoint (with the verifier), verify the
 * returned id_token (signature, iss, aud = client_id, exp, and nonce ==
 * expected_nonce) and hand out its claims. */
asc_err_t asc_oidc_exchange(asc_oidc_t *o, const char *code, const char *redirect_uri,
                            const char *verifier, const char *expected_nonce, cJSON **claims,
                            char *err, size_t errlen);

/* Lower level, for unit tests: verify against a JWKS document given as
 * text, no network, no cache. */
asc_err_t asc_jwt_verify_with_jwks(const char *jwks_json, const char *token, size_t len,
                                   const char *issuer, const char *audience, unsigned skew_s,
                                   int64_t now, cJSON **claims, char *err, size_t errlen);

#endif

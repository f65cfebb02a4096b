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
    const char *issuer;    /* required; discovery at <issuer>/.well-known/openid-configuration */
    const char *audience;  /* required: the expected aud (usually the client id) */
    const char *client_id; /* for the code flow; NULL = no login flow */
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
 * allowed", "bad signature", ...) that never contains the token; when the
 * issuer's discovery document or JWKS cannot be fetched at all (no keys to
 * check against) ASC_EUPSTREAM instead, so callers can tell "IdP down" from
 * "bad token". Fetch failures are retried at most once per min_refresh_s.
 * A JWKS older than an hour is refetched on the next use (so a key the
 * issuer withdrew stops verifying); if that refetch fails the old set is
 * kept. */
asc_err_t asc_oidc_verify(asc_oidc_t *o, const char *token, size_t len, int64_t now, cJSON **claims,
                          char *err, size_t errlen);

/* Authorization-code flow with PKCE (S256). asc_oidc_authorize_url builds
 * the IdP URL for a login: state, nonce and code_verifier are generated
 * (each 43 base64url chars of 32 random bytes) and returned for the caller
 * to keep (in a short-lived, HttpOnly cookie or server-side). *url is
 * malloc'ed, the caller frees it. ASC_EINVAL without a client_id,
 * ASC_EUPSTREAM when discovery fails or names no authorization_endpoint. */
typedef struct {
    char state[64];
    char nonce[64];
    char verifier[64];
} asc_oidc_login_t;

asc_err_t asc_oidc_authorize_url(asc_oidc_t *o, const char *redirect_uri, asc_oidc_login_t *login,
                                 char **url, char *err, size_t errlen);

/* Exchange `code` at the token endpoint (with the verifier), verify the
 * returned id_token (signature, iss, aud = client_id, exp, and nonce ==
 * expected_nonce, azp == client_id when present) and hand out its claims
 * (caller deletes). The id_token is not put in the verify cache.
 * ASC_EUPSTREAM when the token endpoint fails or refuses (err carries the
 * HTTP status, never the code or secret), ASC_EDENIED when the id_token or
 * nonce does not pass. */
asc_err_t asc_oidc_exchange(asc_oidc_t *o, const char *code, const char *redirect_uri,
                            const char *verifier, const char *expected_nonce, cJSON **claims,
                            char *err, size_t errlen);

/* Lower level, for unit tests: verify against a JWKS document given as
 * text, no network, no cache. ASC_EDENIED (reason in err) for a refused
 * token, ASC_EINVAL when jwks_json is not a JWKS. */
asc_err_t asc_jwt_verify_with_jwks(const char *jwks_json, const char *token, size_t len,
                                   const char *issuer, const char *audience, unsigned skew_s,
                                   int64_t now, cJSON **claims, char *err, size_t errlen);

/* Test hook: install a discovery document (NULL = none: no login flow and
 * no JWKS refetch) and a JWKS as if they had just been fetched, so
 * asc_oidc_verify (with its token cache) runs without a network. The
 * discovery issuer must equal the configured one. The usual refresh rules
 * still apply afterwards (an unknown kid refetches once min_refresh_s has
 * passed, from the discovery's jwks_uri). ASC_EINVAL if either document is
 * malformed; the instance is unchanged then. */
asc_err_t asc_oidc_preload(asc_oidc_t *o, const char *discovery_json, const char *jwks_json,
                           char *err, size_t errlen);

/* ---- Internals shared by src/sso/{jwk,jwt,oidc}.c (and the unit test) --- */

/* One signature key from a JWKS. Only kty "RSA" (n, e; 2048..8192 bits)
 * and "EC" with crv "P-256" (x, y) are kept; others are skipped. */
typedef struct {
    char *kid;                /* NULL when the JWK has none */
    char *alg;                /* NULL when absent */
    char *use;                /* NULL when absent; keys with use other than "sig" never verify */
    char kty[4];              /* "RSA" or "EC" */
    struct evp_pkey_st *pkey; /* OpenSSL EVP_PKEY, public half */
} asc_jwk_t;

typedef struct {
    asc_jwk_t *keys;
    size_t n;
} asc_jwks_t;

/* Parse a JWKS document ({"keys":[...]}) of len bytes. Unsupported or
 * malformed keys are skipped (one odd key must not lock everyone out);
 * a document that is not a JSON object with a "keys" array is ASC_EINVAL.
 * *out is heap memory the caller frees with asc_jwks_free. */
asc_err_t asc_jwks_parse(const char *json, size_t len, asc_jwks_t **out, char *err, size_t errlen);
void asc_jwks_free(asc_jwks_t *k);

/* Strict base64url without padding (RFC 7515 §2): only [A-Za-z0-9_-],
 * length mod 4 != 1, unused trailing bits zero (one encoding per value).
 * *out is malloc'ed (NUL-terminated, the NUL not counted in *outlen).
 * ASC_EINVAL on a bad input. */
asc_err_t asc_base64url_decode(const char *s, size_t n, unsigned char **out, size_t *outlen);
/* Encode p[0..n) as base64url without padding into a malloc'ed string. */
char *asc_base64url_encode(const unsigned char *p, size_t n);

/* asc_jwt_verify_with_jwks over an already parsed key set. Returns
 * ASC_ENOTFOUND (err "unknown kid") when the token names a kid the set does
 * not hold, or the set has no usable key, so the caller may refetch the
 * JWKS; every other refusal is ASC_EDENIED. */
asc_err_t asc_jwt_verify_keys(const asc_jwks_t *keys, const char *token, size_t len,
                              const char *issuer, const char *audience, unsigned skew_s,
                              int64_t now, cJSON **claims, char *err, size_t errlen);

/* The claim checks alone (iss, aud, exp, nbf, iat at now with skew) on an
 * already verified payload; ASC_EDENIED with the reason on failure. */
asc_err_t asc_jwt_check_claims(const cJSON *claims, const char *issuer, const char *audience,
                               unsigned skew_s, int64_t now, char *err, size_t errlen);

#endif

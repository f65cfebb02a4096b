/*
 * Compact JWS / JWT verification (RFC 7515, 7519) for RS256 and ES256 only.
 *
 * The order matters: the header is parsed and the key chosen, the signature
 * checked over the exact bytes received, and only then is the payload
 * parsed and its claims judged. The alg allowed is fixed by the key's type,
 * never by the token alone, so "none", HMAC with a public key as the secret
 * (HS/RS confusion) and RSA-PSS are refused before any key is used.
 * Messages are short and never quote the token or its fields.
 */
#include "sso/jwt.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>

#include "core/clock.h"

#define MAX_TOKEN 16384
#define ES256_SIG_BYTES 64

static void set_err(char *err, size_t errlen, const char *msg)
{
    if (err != NULL && errlen > 0)
        snprintf(err, errlen, "%s", msg);
}

/* 1 when an object anywhere in the tree repeats a member name. cJSON keeps
 * duplicates as siblings and its getters return the first, while other
 * parsers return the last: refusing them removes the ambiguity. Depth is
 * bounded by cJSON's nesting limit. */
static int has_duplicate(const cJSON *j)
{
    for (const cJSON *a = j->child; a != NULL; a = a->next) {
        if (cJSON_IsObject(j))
            for (const cJSON *b = a->next; b != NULL; b = b->next)
                if (strcmp(a->string, b->string) == 0)
                    return 1;
        if (has_duplicate(a))
            return 1;
    }
    return 0;
}

/* Decode one base64url segment and parse it as a JSON object without
 * duplicate names. NULL when any of that fails. */
static cJSON *parse_segment(const char *s, size_t n)
{
    unsigned char *raw = NULL;
    size_t rawlen = 0;
    cJSON *j = NULL;

    if (asc_base64url_decode(s, n, &raw, &rawlen) != ASC_OK)
        return NULL;
    /* The decoder NUL-terminates; cJSON's "require NUL" mode (no trailing
     * bytes after the value) wants that NUL inside the length. */
    if (memchr(raw, '\0', rawlen) == NULL)
        j = cJSON_ParseWithLengthOpts((const char *)raw, rawlen + 1, NULL, 1);
    free(raw);
    if (j != NULL && (!cJSON_IsObject(j) || has_duplicate(j))) {
        cJSON_Delete(j);
        j = NULL;
    }
    return j;
}

static int verify_rs256(EVP_PKEY *pkey, const unsigned char *msg, size_t msglen,
                        const unsigned char *sig, size_t siglen)
{
    int ok = 0;
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    EVP_PKEY_CTX *pctx = NULL;

    if (md == NULL || (size_t)EVP_PKEY_get_size(pkey) != siglen)
        goto out;
    if (EVP_DigestVerifyInit(md, &pctx, EVP_sha256(), NULL, pkey) != 1 ||
        EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) != 1)
        goto out;
    ok = EVP_DigestVerify(md, sig, siglen, msg, msglen) == 1;
out:
    EVP_MD_CTX_free(md);
    return ok;
}

/* JWS carries ES256 as the raw 32-byte r || s (RFC 7518 §3.4); OpenSSL
 * wants a DER ECDSA-Sig-Value. */
static int verify_es256(EVP_PKEY *pkey, const unsigned char *msg, size_t msglen,
                        const unsigned char *sig, size_t siglen)
{
    int ok = 0;
    EVP_MD_CTX *md = NULL;
    ECDSA_SIG *es = NULL;
    BIGNUM *r = NULL, *s = NULL;
    unsigned char *der = NULL;

    if (siglen != ES256_SIG_BYTES)
        goto out;
    r = BN_bin2bn(sig, ES256_SIG_BYTES / 2, NULL);
    s = BN_bin2bn(sig + ES256_SIG_BYTES / 2, ES256_SIG_BYTES / 2, NULL);
    es = ECDSA_SIG_new();
    if (r == NULL || s == NULL || es == NULL || ECDSA_SIG_set0(es, r, s) != 1)
        goto out;
    r = s = NULL; /* owned by es now */
    int derlen = i2d_ECDSA_SIG(es, &der);
    md = EVP_MD_CTX_new();
    if (derlen <= 0 || md == NULL || EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, pkey) != 1)
        goto out;
    ok = EVP_DigestVerify(md, der, (size_t)derlen, msg, msglen) == 1;
out:
    OPENSSL_free(der);
    ECDSA_SIG_free(es);
    BN_free(r);
    BN_free(s);
    EVP_MD_CTX_free(md);
    return ok;
}

static int key_usable(const asc_jwk_t *k)
{
    return k->use == NULL || strcmp(k->use, "sig") == 0;
}

/* Choose the key for a header's kid (NULL = none given). */
static asc_err_t pick_key(const asc_jwks_t *keys, const char *kid, const asc_jwk_t **out, char *err,
                          size_t errlen)
{
    const asc_jwk_t *found = NULL;
    size_t n = 0;

    for (size_t i = 0; i < keys->n; i++) {
        const asc_jwk_t *k = &keys->keys[i];
        if (!key_usable(k))
            continue;
        if (kid != NULL && (k->kid == NULL || strcmp(k->kid, kid) != 0))
            continue;
        found = k;
        n++;
    }
    if (n == 0) {
        set_err(err, errlen, "unknown kid");
        return ASC_ENOTFOUND;
    }
    if (n > 1) {
        set_err(err, errlen, kid == NULL ? "kid required" : "ambiguous kid");
        return ASC_EDENIED;
    }
    *out = found;
    return ASC_OK;
}

static double number_claim(const cJSON *claims, const char *name, int *present, int *valid)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(claims, name);
    *present = v != NULL;
    *valid = cJSON_IsNumber(v) && isfinite(v->valuedouble);
    return *valid ? v->valuedouble : 0;
}

asc_err_t asc_jwt_check_claims(const cJSON *claims, const char *issuer, const char *audience,
                               unsigned skew_s, int64_t now, char *err, size_t errlen)
{
    if (now == 0)
        now = (int64_t)(asc_clock_wall_ms() / 1000);
    double t = (double)now, skew = (double)skew_s;

    const cJSON *iss = cJSON_GetObjectItemCaseSensitive(claims, "iss");
    if (!cJSON_IsString(iss) || issuer == NULL || strcmp(iss->valuestring, issuer) != 0) {
        set_err(err, errlen, "wrong issuer");
        return ASC_EDENIED;
    }

    const cJSON *aud = cJSON_GetObjectItemCaseSensitive(claims, "aud");
    int aud_ok = 0;
    if (audience != NULL && cJSON_IsString(aud)) {
        aud_ok = strcmp(aud->valuestring, audience) == 0;
    } else if (audience != NULL && cJSON_IsArray(aud)) {
        const cJSON *a;
        cJSON_ArrayForEach(a, aud)
        {
            if (cJSON_IsString(a) && strcmp(a->valuestring, audience) == 0)
                aud_ok = 1;
        }
    }
    if (!aud_ok) {
        set_err(err, errlen, "wrong audience");
        return ASC_EDENIED;
    }

    int present, valid;
    double exp = number_claim(claims, "exp", &present, &valid);
    if (!valid) {
        set_err(err, errlen, present ? "bad exp" : "missing exp");
        return ASC_EDENIED;
    }
    if (!(t < exp + skew)) {
        set_err(err, errlen, "expired");
        return ASC_EDENIED;
    }
    double nbf = number_claim(claims, "nbf", &present, &valid);
    if (present && (!valid || nbf > t + skew)) {
        set_err(err, errlen, valid ? "not yet valid" : "bad nbf");
        return ASC_EDENIED;
    }
    double iat = number_claim(claims, "iat", &present, &valid);
    if (present && (!valid || iat > t + skew)) {
        set_err(err, errlen, valid ? "issued in the future" : "bad iat");
        return ASC_EDENIED;
    }
    return ASC_OK;
}

asc_err_t asc_jwt_verify_keys(const asc_jwks_t *keys, const char *token, size_t len,
                              const char *issuer, const char *audience, unsigned skew_s,
                              int64_t now, cJSON **claims, char *err, size_t errlen)
{
    asc_err_t rc = ASC_EDENIED;
    cJSON *header = NULL, *payload = NULL;
    unsigned char *sig = NULL;
    size_t siglen = 0;
    const asc_jwk_t *key = NULL;

    *claims = NULL;
    if (len > MAX_TOKEN) {
        set_err(err, errlen, "token too large");
        goto out;
    }
    /* Exactly three segments: header.payload.signature. */
    const char *dot1 = memchr(token, '.', len);
    const char *dot2 = dot1 ? memchr(dot1 + 1, '.', len - (size_t)(dot1 + 1 - token)) : NULL;
    if (dot2 == NULL || memchr(dot2 + 1, '.', len - (size_t)(dot2 + 1 - token)) != NULL) {
        set_err(err, errlen, "malformed token");
        goto out;
    }
    const char *p_seg = dot1 + 1, *s_seg = dot2 + 1;
    size_t h_len = (size_t)(dot1 - token), p_len = (size_t)(dot2 - p_seg);
    size_t s_len = len - (size_t)(s_seg - token);

    header = parse_segment(token, h_len);
    if (header == NULL) {
        set_err(err, errlen, "bad header");
        goto out;
    }
    const cJSON *alg = cJSON_GetObjectItemCaseSensitive(header, "alg");
    const cJSON *kid = cJSON_GetObjectItemCaseSensitive(header, "kid");
    if (!cJSON_IsString(alg) || (kid != NULL && !cJSON_IsString(kid))) {
        set_err(err, errlen, "bad header");
        goto out;
    }
    int rs = strcmp(alg->valuestring, "RS256") == 0;
    int es = strcmp(alg->valuestring, "ES256") == 0;
    if (!rs && !es) {
        set_err(err, errlen, "alg not allowed");
        goto out;
    }
    /* No extension is understood, so a critical one must be refused
     * (RFC 7515 §4.1.11). */
    if (cJSON_GetObjectItemCaseSensitive(header, "crit") != NULL) {
        set_err(err, errlen, "unsupported crit");
        goto out;
    }

    rc = pick_key(keys, kid ? kid->valuestring : NULL, &key, err, errlen);
    if (rc != ASC_OK)
        goto out;
    rc = ASC_EDENIED;
    if (strcmp(key->kty, rs ? "RSA" : "EC") != 0 ||
        (key->alg != NULL && strcmp(key->alg, alg->valuestring) != 0)) {
        set_err(err, errlen, "alg does not match key");
        goto out;
    }

    if (asc_base64url_decode(s_seg, s_len, &sig, &siglen) != ASC_OK) {
        set_err(err, errlen, "bad signature encoding");
        goto out;
    }
    const unsigned char *msg = (const unsigned char *)token;
    size_t msglen = (size_t)(dot2 - token);
    int ok = rs ? verify_rs256(key->pkey, msg, msglen, sig, siglen)
                : verify_es256(key->pkey, msg, msglen, sig, siglen);
    if (!ok) {
        set_err(err, errlen, "bad signature");
        goto out;
    }

    payload = parse_segment(p_seg, p_len);
    if (payload == NULL) {
        set_err(err, errlen, "bad payload");
        goto out;
    }
    if (asc_jwt_check_claims(payload, issuer, audience, skew_s, now, err, errlen) != ASC_OK)
        goto out;
    *claims = payload;
    payload = NULL;
    rc = ASC_OK;
out:
    cJSON_Delete(header);
    cJSON_Delete(payload);
    free(sig);
    return rc;
}

asc_err_t asc_jwt_verify_with_jwks(const char *jwks_json, const char *token, size_t len,
                                   const char *issuer, const char *audience, unsigned skew_s,
                                   int64_t now, cJSON **claims, char *err, size_t errlen)
{
    asc_jwks_t *keys = NULL;
    *claims = NULL;
    asc_err_t rc = asc_jwks_parse(jwks_json, strlen(jwks_json), &keys, err, errlen);
    if (rc != ASC_OK)
        return rc;
    rc = asc_jwt_verify_keys(keys, token, len, issuer, audience, skew_s, now, claims, err, errlen);
    asc_jwks_free(keys);
    return rc == ASC_ENOTFOUND ? ASC_EDENIED : rc;
}

/*
 * JWKS parsing (RFC 7517) into OpenSSL public keys, and the strict base64url
 * codec JWS needs. Keys are built from their raw parameters with
 * EVP_PKEY_fromdata and checked with EVP_PKEY_public_check, so a point off
 * the curve or a degenerate modulus never reaches a verifier.
 */
#include "sso/jwt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>

#define MAX_KEYS 64
#define RSA_MIN_BYTES 256  /* 2048 bits */
#define RSA_MAX_BYTES 1024 /* 8192 bits */
#define RSA_MAX_E_BYTES 8
#define EC_COORD_BYTES 32

static void set_err(char *err, size_t errlen, const char *msg)
{
    if (err != NULL && errlen > 0)
        snprintf(err, errlen, "%s", msg);
}

/* ---- base64url --------------------------------------------------------- */

static int b64url_value(unsigned char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '-')
        return 62;
    if (c == '_')
        return 63;
    return -1;
}

asc_err_t asc_base64url_decode(const char *s, size_t n, unsigned char **out, size_t *outlen)
{
    *out = NULL;
    *outlen = 0;
    if (n % 4 == 1)
        return ASC_EINVAL;
    unsigned char *p = malloc(n / 4 * 3 + 3);
    if (p == NULL)
        return ASC_ENOMEM;
    size_t k = 0;
    uint32_t acc = 0;
    unsigned bits = 0;
    for (size_t i = 0; i < n; i++) {
        int v = b64url_value((unsigned char)s[i]);
        if (v < 0) {
            free(p);
            return ASC_EINVAL;
        }
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            p[k++] = (unsigned char)(acc >> bits);
            acc &= (1u << bits) - 1;
        }
    }
    /* Leftover bits must be zero, else two strings would decode the same. */
    if (acc != 0) {
        free(p);
        return ASC_EINVAL;
    }
    p[k] = '\0';
    *out = p;
    *outlen = k;
    return ASC_OK;
}

char *asc_base64url_encode(const unsigned char *p, size_t n)
{
    static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    char *s = malloc((n + 2) / 3 * 4 + 1);
    if (s == NULL)
        return NULL;
    size_t k = 0, i = 0;
    for (; i + 3 <= n; i += 3) {
        uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];
        s[k++] = tab[v >> 18];
        s[k++] = tab[(v >> 12) & 63];
        s[k++] = tab[(v >> 6) & 63];
        s[k++] = tab[v & 63];
    }
    if (n - i == 1) {
        uint32_t v = (uint32_t)p[i] << 16;
        s[k++] = tab[v >> 18];
        s[k++] = tab[(v >> 12) & 63];
    } else if (n - i == 2) {
        uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8;
        s[k++] = tab[v >> 18];
        s[k++] = tab[(v >> 12) & 63];
        s[k++] = tab[(v >> 6) & 63];
    }
    s[k] = '\0';
    return s;
}

/* ---- keys -------------------------------------------------------------- */

/* The base64url member `name` of o, decoded; ASC_EINVAL when missing. */
static asc_err_t get_b64(const cJSON *o, const char *name, unsigned char **out, size_t *outlen)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
    if (!cJSON_IsString(v))
        return ASC_EINVAL;
    return asc_base64url_decode(v->valuestring, strlen(v->valuestring), out, outlen);
}

static EVP_PKEY *from_params(const char *type, OSSL_PARAM *params)
{
    EVP_PKEY *pkey = NULL;
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, type, NULL);
    if (ctx == NULL)
        goto out;
    if (EVP_PKEY_fromdata_init(ctx) <= 0 ||
        EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) <= 0)
        goto out;
    EVP_PKEY_CTX_free(ctx);
    ctx = EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL);
    if (ctx == NULL || EVP_PKEY_public_check(ctx) <= 0) {
        EVP_PKEY_free(pkey);
        pkey = NULL;
    }
out:
    EVP_PKEY_CTX_free(ctx);
    return pkey;
}

static EVP_PKEY *rsa_key(const cJSON *jwk)
{
    unsigned char *n = NULL, *e = NULL;
    size_t nlen = 0, elen = 0;
    BIGNUM *bn_n = NULL, *bn_e = NULL;
    OSSL_PARAM_BLD *bld = NULL;
    OSSL_PARAM *params = NULL;
    EVP_PKEY *pkey = NULL;

    if (get_b64(jwk, "n", &n, &nlen) != ASC_OK || get_b64(jwk, "e", &e, &elen) != ASC_OK)
        goto out;
    /* Leading zero bytes are tolerated by RFC 7518 readers; size counts
     * the significant ones. */
    size_t nz = 0;
    while (nz < nlen && n[nz] == 0)
        nz++;
    if (nlen - nz < RSA_MIN_BYTES || nlen - nz > RSA_MAX_BYTES || elen == 0 ||
        elen > RSA_MAX_E_BYTES)
        goto out;
    bn_n = BN_bin2bn(n, (int)nlen, NULL);
    bn_e = BN_bin2bn(e, (int)elen, NULL);
    bld = OSSL_PARAM_BLD_new();
    if (bn_n == NULL || bn_e == NULL || bld == NULL || !BN_is_odd(bn_e) || BN_is_one(bn_e))
        goto out;
    if (!OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn_n) ||
        !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, bn_e))
        goto out;
    params = OSSL_PARAM_BLD_to_param(bld);
    if (params == NULL)
        goto out;
    pkey = from_params("RSA", params);
out:
    OSSL_PARAM_free(params);
    OSSL_PARAM_BLD_free(bld);
    BN_free(bn_n);
    BN_free(bn_e);
    free(n);
    free(e);
    return pkey;
}

static EVP_PKEY *ec_key(const cJSON *jwk)
{
    unsigned char *x = NULL, *y = NULL;
    size_t xlen = 0, ylen = 0;
    EVP_PKEY *pkey = NULL;
    const cJSON *crv = cJSON_GetObjectItemCaseSensitive(jwk, "crv");

    if (!cJSON_IsString(crv) || strcmp(crv->valuestring, "P-256") != 0)
        goto out;
    if (get_b64(jwk, "x", &x, &xlen) != ASC_OK || get_b64(jwk, "y", &y, &ylen) != ASC_OK)
        goto out;
    if (xlen != EC_COORD_BYTES || ylen != EC_COORD_BYTES)
        goto out;
    unsigned char point[1 + 2 * EC_COORD_BYTES];
    point[0] = 0x04; /* uncompressed */
    memcpy(point + 1, x, EC_COORD_BYTES);
    memcpy(point + 1 + EC_COORD_BYTES, y, EC_COORD_BYTES);
    char group[] = "prime256v1";
    OSSL_PARAM params[] = {
        OSSL_PARAM_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, group, 0),
        OSSL_PARAM_octet_string(OSSL_PKEY_PARAM_PUB_KEY, point, sizeof point),
        OSSL_PARAM_END,
    };
    pkey = from_params("EC", params);
out:
    free(x);
    free(y);
    return pkey;
}

static char *dup_str_member(const cJSON *o, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
    if (!cJSON_IsString(v))
        return NULL;
    char *s = strdup(v->valuestring);
    if (s == NULL)
        abort();
    return s;
}

asc_err_t asc_jwks_parse(const char *json, size_t len, asc_jwks_t **out, char *err, size_t errlen)
{
    asc_err_t rc = ASC_EINVAL;
    asc_jwks_t *set = NULL;
    cJSON *doc = cJSON_ParseWithLength(json, len);
    const cJSON *keys = cJSON_GetObjectItemCaseSensitive(doc, "keys");

    *out = NULL;
    if (!cJSON_IsObject(doc) || !cJSON_IsArray(keys)) {
        set_err(err, errlen, "bad jwks");
        goto out;
    }
    set = calloc(1, sizeof *set);
    if (set == NULL)
        abort();
    set->keys = calloc(MAX_KEYS, sizeof *set->keys);
    if (set->keys == NULL)
        abort();
    const cJSON *jwk;
    cJSON_ArrayForEach(jwk, keys)
    {
        if (set->n == MAX_KEYS)
            break;
        const cJSON *kty = cJSON_GetObjectItemCaseSensitive(jwk, "kty");
        if (!cJSON_IsObject(jwk) || !cJSON_IsString(kty))
            continue;
        EVP_PKEY *pkey = NULL;
        if (strcmp(kty->valuestring, "RSA") == 0)
            pkey = rsa_key(jwk);
        else if (strcmp(kty->valuestring, "EC") == 0)
            pkey = ec_key(jwk);
        if (pkey == NULL)
            continue;
        asc_jwk_t *k = &set->keys[set->n++];
        snprintf(k->kty, sizeof k->kty, "%s", kty->valuestring);
        k->pkey = pkey;
        k->kid = dup_str_member(jwk, "kid");
        k->alg = dup_str_member(jwk, "alg");
        k->use = dup_str_member(jwk, "use");
    }
    *out = set;
    set = NULL;
    rc = ASC_OK;
out:
    asc_jwks_free(set);
    cJSON_Delete(doc);
    return rc;
}

void asc_jwks_free(asc_jwks_t *k)
{
    if (k == NULL)
        return;
    for (size_t i = 0; i < k->n; i++) {
        EVP_PKEY_free(k->keys[i].pkey);
        free(k->keys[i].kid);
        free(k->keys[i].alg);
        free(k->keys[i].use);
    }
    free(k->keys);
    free(k);
}

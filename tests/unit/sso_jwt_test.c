/* Unit tests for src/sso: JWKS parsing, JWS/JWT verification and the
 * verified-token cache of asc_oidc (through asc_oidc_preload, no network).
 * Keys are generated here and tokens signed here with a signer of our own,
 * independent of the code under test (libsodium's base64). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <sodium.h>

#include "sso/jwt.h"

#define NOW INT64_C(1700000000)
#define ISS "https://idp.example"
#define AUD "asc-admin"
#define SKEW 60

static EVP_PKEY *rsa_key, *ec_key, *rsa_other, *ec_other;
static char *jwks;    /* {"keys":[rsa "rsa1", ec "ec1"]} */
static char *rsa_jwk; /* the members of rsa_key's JWK, without braces or kid */
static char *ec_jwk;  /* same for ec_key */
static char *rsa_pem; /* rsa_key's public key as PEM */
static unsigned char rsa_n[512];
static size_t rsa_n_len;

/* ---- a small independent signer ---------------------------------------- */

static char *b64(const void *p, size_t n)
{
    size_t cap = sodium_base64_ENCODED_LEN(n, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    char *s = malloc(cap);
    assert_non_null(s);
    sodium_bin2base64(s, cap, p, n, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    return s;
}

static char *b64s(const char *s)
{
    return b64(s, strlen(s));
}

static char *concat3(const char *a, const char *sep, const char *b)
{
    size_t n = strlen(a) + strlen(sep) + strlen(b) + 1;
    char *s = malloc(n);
    assert_non_null(s);
    snprintf(s, n, "%s%s%s", a, sep, b);
    return s;
}

/* Signature over msg: RS256/ES256 with key, HS256 with secret, else none. */
static char *sign_input(const char *alg, EVP_PKEY *key, const void *secret, size_t secretlen,
                        const char *msg)
{
    unsigned char sig[1024];
    size_t siglen = 0;
    if (strcmp(alg, "HS256") == 0) {
        unsigned int n = 0;
        assert_non_null(HMAC(EVP_sha256(), secret, (int)secretlen, (const unsigned char *)msg,
                             strlen(msg), sig, &n));
        siglen = n;
    } else if (key != NULL) {
        EVP_MD_CTX *md = EVP_MD_CTX_new();
        unsigned char der[1024];
        size_t derlen = sizeof der;
        assert_int_equal(EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, key), 1);
        assert_int_equal(EVP_DigestSign(md, der, &derlen, (const unsigned char *)msg, strlen(msg)),
                         1);
        EVP_MD_CTX_free(md);
        if (EVP_PKEY_is_a(key, "EC")) {
            const unsigned char *p = der;
            ECDSA_SIG *es = d2i_ECDSA_SIG(NULL, &p, (long)derlen);
            assert_non_null(es);
            BN_bn2binpad(ECDSA_SIG_get0_r(es), sig, 32);
            BN_bn2binpad(ECDSA_SIG_get0_s(es), sig + 32, 32);
            ECDSA_SIG_free(es);
            siglen = 64;
        } else {
            memcpy(sig, der, derlen);
            siglen = derlen;
        }
    }
    return b64(sig, siglen);
}

/* A compact JWS of header and payload (JSON text, used verbatim). */
static char *sign_raw(const char *header, const char *payload, const char *alg, EVP_PKEY *key,
                      const void *secret, size_t secretlen)
{
    char *h = b64s(header), *p = b64s(payload);
    char *msg = concat3(h, ".", p);
    char *s = sign_input(alg, key, secret, secretlen, msg);
    char *tok = concat3(msg, ".", s);
    free(h);
    free(p);
    free(msg);
    free(s);
    return tok;
}

/* {"alg":alg,"kid":kid} (no kid when NULL) over payload. */
static char *sign(const char *alg, const char *kid, EVP_PKEY *key, const char *payload)
{
    char header[256];
    if (kid != NULL)
        snprintf(header, sizeof header, "{\"alg\":\"%s\",\"typ\":\"JWT\",\"kid\":\"%s\"}", alg,
                 kid);
    else
        snprintf(header, sizeof header, "{\"alg\":\"%s\",\"typ\":\"JWT\"}", alg);
    return sign_raw(header, payload, alg, key, NULL, 0);
}

/* The usual claims, with `extra` members appended (must start with ','). */
static char *claims_with(const char *iss, const char *aud, int64_t exp, const char *extra)
{
    char *s = malloc(20000);
    assert_non_null(s);
    snprintf(s, 20000,
             "{\"iss\":\"%s\",\"aud\":%s,\"sub\":\"u-1\",\"email\":\"a@example.com\","
             "\"iat\":%lld,\"exp\":%lld%s}",
             iss, aud, (long long)NOW, (long long)exp, extra ? extra : "");
    return s;
}

static char *good_claims(void)
{
    return claims_with(ISS, "\"" AUD "\"", NOW + 300, NULL);
}

static char *sign_good(const char *alg, const char *kid, EVP_PKEY *key)
{
    char *c = good_claims();
    char *t = sign(alg, kid, key, c);
    free(c);
    return t;
}

/* ---- keys and the JWKS -------------------------------------------------- */

static char *bn_b64(EVP_PKEY *k, const char *param, size_t pad)
{
    BIGNUM *bn = NULL;
    unsigned char buf[1024];
    assert_int_equal(EVP_PKEY_get_bn_param(k, param, &bn), 1);
    int n = pad ? BN_bn2binpad(bn, buf, (int)pad) : BN_bn2bin(bn, buf);
    BN_free(bn);
    return b64(buf, (size_t)n);
}

static char *jwk_members(EVP_PKEY *k)
{
    char *a, *b, *s = malloc(2048);
    assert_non_null(s);
    if (EVP_PKEY_is_a(k, "RSA")) {
        a = bn_b64(k, OSSL_PKEY_PARAM_RSA_N, 0);
        b = bn_b64(k, OSSL_PKEY_PARAM_RSA_E, 0);
        snprintf(s, 2048, "\"kty\":\"RSA\",\"n\":\"%s\",\"e\":\"%s\"", a, b);
    } else {
        a = bn_b64(k, OSSL_PKEY_PARAM_EC_PUB_X, 32);
        b = bn_b64(k, OSSL_PKEY_PARAM_EC_PUB_Y, 32);
        snprintf(s, 2048, "\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"%s\",\"y\":\"%s\"", a, b);
    }
    free(a);
    free(b);
    return s;
}

static int setup(void **state)
{
    (void)state;
    if (sodium_init() < 0)
        return -1;
    rsa_key = EVP_RSA_gen(2048);
    rsa_other = EVP_RSA_gen(2048);
    ec_key = EVP_EC_gen("P-256");
    ec_other = EVP_EC_gen("P-256");
    if (!rsa_key || !rsa_other || !ec_key || !ec_other)
        return -1;
    rsa_jwk = jwk_members(rsa_key);
    ec_jwk = jwk_members(ec_key);
    jwks = malloc(8192);
    snprintf(jwks, 8192, "{\"keys\":[{%s,\"kid\":\"rsa1\",\"use\":\"sig\"},{%s,\"kid\":\"ec1\"}]}",
             rsa_jwk, ec_jwk);

    BIO *bio = BIO_new(BIO_s_mem());
    PEM_write_bio_PUBKEY(bio, rsa_key);
    char *p;
    long n = BIO_get_mem_data(bio, &p);
    rsa_pem = malloc((size_t)n + 1);
    memcpy(rsa_pem, p, (size_t)n);
    rsa_pem[n] = '\0';
    BIO_free(bio);

    BIGNUM *bn = NULL;
    EVP_PKEY_get_bn_param(rsa_key, OSSL_PKEY_PARAM_RSA_N, &bn);
    rsa_n_len = (size_t)BN_bn2bin(bn, rsa_n);
    BN_free(bn);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    EVP_PKEY_free(rsa_key);
    EVP_PKEY_free(rsa_other);
    EVP_PKEY_free(ec_key);
    EVP_PKEY_free(ec_other);
    free(jwks);
    free(rsa_jwk);
    free(ec_jwk);
    free(rsa_pem);
    return 0;
}

/* ---- verification helpers ------------------------------------------------ */

static cJSON *ok_with(const char *keys, const char *tok, int64_t now)
{
    char err[128] = "";
    cJSON *claims = NULL;
    asc_err_t e = asc_jwt_verify_with_jwks(keys, tok, strlen(tok), ISS, AUD, SKEW, now, &claims,
                                           err, sizeof err);
    if (e != ASC_OK)
        fail_msg("refused a valid token: %s (%s)", err, asc_err_name(e));
    assert_non_null(claims);
    return claims;
}

static void accept_at(const char *keys, const char *tok, int64_t now)
{
    cJSON_Delete(ok_with(keys, tok, now));
}

static void accept(const char *tok)
{
    accept_at(jwks, tok, NOW);
}

/* Refused with ASC_EDENIED and an err containing `why`. */
static void refuse_with(const char *keys, const char *tok, size_t len, int64_t now, const char *why)
{
    char err[128] = "";
    cJSON *claims = (cJSON *)1;
    asc_err_t e =
        asc_jwt_verify_with_jwks(keys, tok, len, ISS, AUD, SKEW, now, &claims, err, sizeof err);
    if (e != ASC_EDENIED)
        fail_msg("expected a refusal (%s), got %s", why, asc_err_name(e));
    assert_null(claims);
    if (strstr(err, why) == NULL)
        fail_msg("refused for \"%s\", expected \"%s\"", err, why);
    /* the reason never quotes the token */
    if (len > 8)
        assert_null(strstr(err, tok + len - 8));
}

static void refuse(const char *tok, const char *why)
{
    refuse_with(jwks, tok, strlen(tok), NOW, why);
}

/* ---- tests --------------------------------------------------------------- */

static void test_base64url(void **state)
{
    (void)state;
    unsigned char *out;
    size_t n;
    assert_int_equal(asc_base64url_decode("QQ", 2, &out, &n), ASC_OK);
    assert_int_equal(n, 1);
    assert_int_equal(out[0], 'A');
    free(out);
    assert_int_equal(asc_base64url_decode("_-8", 3, &out, &n), ASC_OK);
    assert_int_equal(n, 2);
    assert_int_equal(out[0], 0xff);
    assert_int_equal(out[1], 0xef);
    free(out);
    assert_int_equal(asc_base64url_decode("", 0, &out, &n), ASC_OK);
    assert_int_equal(n, 0);
    free(out);
    /* padding, the standard alphabet, a lone char, non-zero spare bits */
    assert_int_equal(asc_base64url_decode("QQ==", 4, &out, &n), ASC_EINVAL);
    assert_int_equal(asc_base64url_decode("a+b/", 4, &out, &n), ASC_EINVAL);
    assert_int_equal(asc_base64url_decode("QUJDR", 5, &out, &n), ASC_EINVAL);
    assert_int_equal(asc_base64url_decode("QR", 2, &out, &n), ASC_EINVAL);
    assert_int_equal(asc_base64url_decode("Q Q", 3, &out, &n), ASC_EINVAL);

    unsigned char all[256];
    for (int i = 0; i < 256; i++)
        all[i] = (unsigned char)i;
    for (size_t len = 0; len < 10; len++) {
        char *mine = asc_base64url_encode(all + 250 - len, len);
        char *ref = b64(all + 250 - len, len);
        assert_string_equal(mine, ref);
        assert_int_equal(asc_base64url_decode(mine, strlen(mine), &out, &n), ASC_OK);
        assert_int_equal(n, len);
        assert_memory_equal(out, all + 250 - len, len);
        free(out);
        free(mine);
        free(ref);
    }
}

static void test_jwks_parse(void **state)
{
    (void)state;
    char err[128];
    asc_jwks_t *k = NULL;
    EVP_PKEY *small = EVP_RSA_gen(1024);
    char *small_jwk = jwk_members(small);
    char *bad_ec = strdup(ec_jwk);
    /* an even modulus: not an RSA key (EVP_PKEY_public_check) */
    char *even_rsa = strdup(rsa_jwk);
    char *n_end = strstr(even_rsa, "\",\"e\"") - 1;
    *n_end = 'A'; /* the last 6 bits of n become 0 */
    /* flip a bit of y: the point leaves the curve */
    char *y = strstr(bad_ec, "\"y\":\"") + 5;
    y[10] = y[10] == 'A' ? 'B' : 'A';
    char doc[16384];
    snprintf(doc, sizeof doc,
             "{\"keys\":[{%s,\"kid\":\"a\",\"alg\":\"RS256\",\"use\":\"sig\"},"
             "{\"kty\":\"oct\",\"k\":\"c2VjcmV0\",\"kid\":\"h\"},"
             "{\"kty\":\"EC\",\"crv\":\"P-384\",\"x\":\"AAAA\",\"y\":\"AAAA\",\"kid\":\"p\"},"
             "{%s,\"kid\":\"small\"},{%s,\"kid\":\"offcurve\"},{\"kty\":\"RSA\",\"kid\":\"noN\"},"
             "{%s,\"kid\":\"even\"},7,{%s,\"kid\":\"e\"}]}",
             rsa_jwk, small_jwk, bad_ec, even_rsa, ec_jwk);
    assert_int_equal(asc_jwks_parse(doc, strlen(doc), &k, err, sizeof err), ASC_OK);
    assert_int_equal(k->n, 2);
    assert_string_equal(k->keys[0].kid, "a");
    assert_string_equal(k->keys[0].kty, "RSA");
    assert_string_equal(k->keys[0].alg, "RS256");
    assert_string_equal(k->keys[0].use, "sig");
    assert_string_equal(k->keys[1].kid, "e");
    assert_string_equal(k->keys[1].kty, "EC");
    assert_null(k->keys[1].alg);
    assert_null(k->keys[1].use);
    asc_jwks_free(k);

    const char *bad[] = {"", "[]", "{}", "{\"keys\":{}}", "{\"keys\":\"x\"}", "nope"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        k = (asc_jwks_t *)1;
        assert_int_equal(asc_jwks_parse(bad[i], strlen(bad[i]), &k, err, sizeof err), ASC_EINVAL);
        assert_null(k);
    }
    EVP_PKEY_free(small);
    free(small_jwk);
    free(bad_ec);
    free(even_rsa);
}

static void test_valid_rs256_es256(void **state)
{
    (void)state;
    char *t = sign_good("RS256", "rsa1", rsa_key);
    cJSON *c = ok_with(jwks, t, NOW);
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(c, "sub")->valuestring, "u-1");
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(c, "email")->valuestring, "a@example.com");
    cJSON_Delete(c);
    free(t);

    t = sign_good("ES256", "ec1", ec_key);
    c = ok_with(jwks, t, NOW);
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(c, "sub")->valuestring, "u-1");
    cJSON_Delete(c);
    free(t);
}

static void test_alg_none(void **state)
{
    (void)state;
    char *c = good_claims();
    /* empty signature */
    char *t = sign_raw("{\"alg\":\"none\",\"typ\":\"JWT\"}", c, "none", NULL, NULL, 0);
    assert_int_equal(t[strlen(t) - 1], '.');
    refuse(t, "alg not allowed");
    free(t);
    t = sign_raw("{\"alg\":\"none\",\"kid\":\"rsa1\"}", c, "none", NULL, NULL, 0);
    refuse(t, "alg not allowed");
    free(t);
    /* with a real RSA signature over the same input */
    t = sign_raw("{\"alg\":\"none\",\"kid\":\"rsa1\"}", c, "RS256", rsa_key, NULL, 0);
    refuse(t, "alg not allowed");
    free(t);
    t = sign_raw("{\"alg\":\"None\"}", c, "none", NULL, NULL, 0);
    refuse(t, "alg not allowed");
    free(t);
    free(c);
}

static void test_hs_rs_confusion(void **state)
{
    (void)state;
    char *c = good_claims();
    const char *headers[] = {"{\"alg\":\"HS256\",\"kid\":\"rsa1\"}", "{\"alg\":\"HS256\"}"};
    for (size_t i = 0; i < 2; i++) {
        char *t = sign_raw(headers[i], c, "HS256", NULL, rsa_pem, strlen(rsa_pem));
        refuse(t, "alg not allowed");
        free(t);
        t = sign_raw(headers[i], c, "HS256", NULL, rsa_n, rsa_n_len);
        refuse(t, "alg not allowed");
        free(t);
    }
    free(c);
}

static void test_other_algs(void **state)
{
    (void)state;
    const char *algs[] = {"HS384", "HS512", "RS384", "RS512", "PS256",
                          "ES384", "ES512", "EdDSA", "rs256", ""};
    char *c = good_claims();
    for (size_t i = 0; i < sizeof algs / sizeof *algs; i++) {
        char h[128];
        snprintf(h, sizeof h, "{\"alg\":\"%s\",\"kid\":\"rsa1\"}", algs[i]);
        char *t = sign_raw(h, c, "RS256", rsa_key, NULL, 0);
        refuse(t, "alg not allowed");
        free(t);
    }
    char *t = sign_raw("{\"kid\":\"rsa1\"}", c, "RS256", rsa_key, NULL, 0);
    refuse(t, "bad header");
    free(t);
    t = sign_raw("{\"alg\":256,\"kid\":\"rsa1\"}", c, "RS256", rsa_key, NULL, 0);
    refuse(t, "bad header");
    free(t);
    t = sign_raw("{\"alg\":\"RS256\",\"kid\":\"rsa1\",\"crit\":[\"exp\"]}", c, "RS256", rsa_key,
                 NULL, 0);
    refuse(t, "crit");
    free(t);
    free(c);
}

static void test_alg_key_mismatch(void **state)
{
    (void)state;
    /* RS256 naming the EC key: signed with the RSA key, or with the EC key
     * (so only the alg/kty check can refuse it) */
    char *t = sign_good("RS256", "ec1", rsa_key);
    refuse(t, "alg does not match key");
    free(t);
    char *c = good_claims();
    t = sign_raw("{\"alg\":\"RS256\",\"kid\":\"ec1\"}", c, "ES256", ec_key, NULL, 0);
    refuse(t, "alg does not match key");
    free(t);
    t = sign_raw("{\"alg\":\"ES256\",\"kid\":\"rsa1\"}", c, "RS256", rsa_key, NULL, 0);
    refuse(t, "alg does not match key");
    free(t);

    /* a JWK that declares another alg */
    char keys[4096];
    snprintf(keys, sizeof keys, "{\"keys\":[{%s,\"kid\":\"r\",\"alg\":\"RS384\"}]}", rsa_jwk);
    t = sign("RS256", "r", rsa_key, c);
    refuse_with(keys, t, strlen(t), NOW, "alg does not match key");
    snprintf(keys, sizeof keys, "{\"keys\":[{%s,\"kid\":\"r\",\"alg\":\"RS256\"}]}", rsa_jwk);
    accept_at(keys, t, NOW);
    free(t);
    /* a JWK for encryption never verifies */
    snprintf(keys, sizeof keys, "{\"keys\":[{%s,\"kid\":\"r\",\"use\":\"enc\"}]}", rsa_jwk);
    t = sign("RS256", "r", rsa_key, c);
    refuse_with(keys, t, strlen(t), NOW, "unknown kid");
    free(t);
    free(c);
}

static void test_issuer(void **state)
{
    (void)state;
    const char *bad[] = {"https://evil.example", "https://idp.example/", "https://IDP.example", ""};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        char *c = claims_with(bad[i], "\"" AUD "\"", NOW + 300, NULL);
        char *t = sign("RS256", "rsa1", rsa_key, c);
        refuse(t, "wrong issuer");
        free(t);
        free(c);
    }
    char *t = sign("RS256", "rsa1", rsa_key, "{\"aud\":\"" AUD "\",\"exp\":1700000300}");
    refuse(t, "wrong issuer");
    free(t);
}

static void test_audience(void **state)
{
    (void)state;
    struct {
        const char *aud;
        int ok;
    } cases[] = {
        {"\"" AUD "\"", 1},         {"\"other\"", 0},       {"\"asc-admin2\"", 0}, {"\"asc-\"", 0},
        {"[\"x\",\"" AUD "\"]", 1}, {"[\"" AUD "\"]", 1},   {"[\"x\",\"y\"]", 0},  {"[]", 0},
        {"[[\"" AUD "\"]]", 0},     {"{\"" AUD "\":1}", 0}, {"null", 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char *c = claims_with(ISS, cases[i].aud, NOW + 300, NULL);
        char *t = sign("ES256", "ec1", ec_key, c);
        if (cases[i].ok)
            accept(t);
        else
            refuse(t, "wrong audience");
        free(t);
        free(c);
    }
    char *t = sign("RS256", "rsa1", rsa_key, "{\"iss\":\"" ISS "\",\"exp\":1700000300}");
    refuse(t, "wrong audience");
    free(t);
}

static void test_times(void **state)
{
    (void)state;
    struct {
        int64_t exp;
        const char *extra;
        const char *why; /* NULL = accepted */
    } cases[] = {
        {NOW + 300, NULL, NULL},
        {NOW - 30, NULL, NULL},        /* expired, within skew */
        {NOW - SKEW + 1, NULL, NULL},  /* last second of the skew */
        {NOW - SKEW, NULL, "expired"}, /* first second past it */
        {NOW - 3600, NULL, "expired"}, /* long gone */
        {NOW + 300, ",\"nbf\":1700000120", "not yet valid"},
        {NOW + 300, ",\"nbf\":1700000030", NULL},
        {NOW + 300, ",\"nbf\":1699999000", NULL},
        {NOW + 300, ",\"nbf\":\"soon\"", "bad nbf"},
        {NOW + 300, ",\"iat\":1700000600", "issued in the future"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char *c = claims_with(ISS, "\"" AUD "\"", cases[i].exp, cases[i].extra);
        /* an extra iat would duplicate the default one: rename that */
        if (cases[i].extra != NULL && strstr(cases[i].extra, "iat") != NULL) {
            char *p = strstr(c, "\"iat\":");
            memcpy(p, "\"iaT\"", 5);
        }
        char *t = sign("RS256", "rsa1", rsa_key, c);
        if (cases[i].why == NULL)
            accept(t);
        else
            refuse(t, cases[i].why);
        free(t);
        free(c);
    }

    char *t = sign("RS256", "rsa1", rsa_key, "{\"iss\":\"" ISS "\",\"aud\":\"" AUD "\"}");
    refuse(t, "missing exp");
    free(t);
    t = sign("RS256", "rsa1", rsa_key,
             "{\"iss\":\"" ISS "\",\"aud\":\"" AUD "\",\"exp\":\"1700000300\"}");
    refuse(t, "bad exp");
    free(t);
    t = sign("RS256", "rsa1", rsa_key, "{\"iss\":\"" ISS "\",\"aud\":\"" AUD "\",\"exp\":null}");
    refuse(t, "bad exp");
    free(t);
    /* a huge exp is fine, not an overflow */
    t = sign("RS256", "rsa1", rsa_key, "{\"iss\":\"" ISS "\",\"aud\":\"" AUD "\",\"exp\":1e300}");
    accept(t);
    free(t);
}

static void test_kid(void **state)
{
    (void)state;
    char *t = sign_good("RS256", "rsa2", rsa_key);
    refuse(t, "unknown kid");
    free(t);
    /* two keys: a token without kid is ambiguous */
    t = sign_good("RS256", NULL, rsa_key);
    refuse(t, "kid required");
    /* one key: no kid needed */
    char keys[4096];
    snprintf(keys, sizeof keys, "{\"keys\":[{%s}]}", rsa_jwk);
    accept_at(keys, t, NOW);
    free(t);
    /* but a kid the lone key does not carry is unknown */
    t = sign_good("RS256", "rsa1", rsa_key);
    refuse_with(keys, t, strlen(t), NOW, "unknown kid");
    free(t);
    /* two keys with the same kid */
    snprintf(keys, sizeof keys, "{\"keys\":[{%s,\"kid\":\"k\"},{%s,\"kid\":\"k\"}]}", rsa_jwk,
             rsa_jwk);
    t = sign_good("RS256", "k", rsa_key);
    refuse_with(keys, t, strlen(t), NOW, "ambiguous kid");
    free(t);
    /* a kid that is not a string */
    char *c = good_claims();
    t = sign_raw("{\"alg\":\"RS256\",\"kid\":1}", c, "RS256", rsa_key, NULL, 0);
    refuse(t, "bad header");
    free(t);
    free(c);
}

static void test_wrong_key_same_kid(void **state)
{
    (void)state;
    char *t = sign_good("RS256", "rsa1", rsa_other);
    refuse(t, "bad signature");
    free(t);
    t = sign_good("ES256", "ec1", ec_other);
    refuse(t, "bad signature");
    free(t);
}

/* Replace t[i] with another base64url character. */
static void flip(char *t, size_t i)
{
    t[i] = t[i] == 'A' ? 'B' : 'A';
}

static void test_tampering(void **state)
{
    (void)state;
    EVP_PKEY *keys[] = {rsa_key, ec_key};
    const char *algs[] = {"RS256", "ES256"}, *kids[] = {"rsa1", "ec1"};
    for (size_t k = 0; k < 2; k++) {
        char *t = sign_good(algs[k], kids[k], keys[k]);
        accept(t);
        char *dot1 = strchr(t, '.'), *dot2 = strchr(dot1 + 1, '.');
        /* one byte of the payload */
        char *u = strdup(t);
        flip(u, (size_t)(dot1 - t) + 10);
        refuse(u, "bad signature");
        free(u);
        /* one byte of the signature, not its last character */
        u = strdup(t);
        flip(u, (size_t)(dot2 - t) + 5);
        refuse(u, "bad signature");
        free(u);
        /* truncated signature */
        u = strdup(t);
        u[strlen(u) - 4] = '\0';
        refuse(u, "bad signature");
        free(u);
        free(t);
    }
    /* ES256 r||s with a byte more */
    char *c0 = good_claims();
    char *h0 = b64s("{\"alg\":\"ES256\",\"kid\":\"ec1\"}"), *p0 = b64s(c0);
    char *m0 = concat3(h0, ".", p0);
    char *s0 = sign_input("ES256", ec_key, NULL, 0, m0);
    unsigned char raw[80];
    size_t rawlen = sizeof raw;
    assert_int_equal(sodium_base642bin(raw, sizeof raw, s0, strlen(s0), NULL, &rawlen, NULL,
                                       sodium_base64_VARIANT_URLSAFE_NO_PADDING),
                     0);
    assert_int_equal(rawlen, 64);
    raw[64] = 0;
    char *s1 = b64(raw, 65);
    char *t0 = concat3(m0, ".", s0);
    accept(t0);
    free(t0);
    t0 = concat3(m0, ".", s1);
    refuse(t0, "bad signature");
    free(t0);
    free(s1);
    free(s0);
    free(m0);
    free(h0);
    free(p0);
    free(c0);
    /* ES256 signature in DER instead of r||s */
    char *c = good_claims();
    char *h = b64s("{\"alg\":\"ES256\",\"kid\":\"ec1\"}"), *p = b64s(c);
    char *msg = concat3(h, ".", p);
    unsigned char der[128];
    size_t derlen = sizeof der;
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, ec_key);
    EVP_DigestSign(md, der, &derlen, (unsigned char *)msg, strlen(msg));
    EVP_MD_CTX_free(md);
    char *s = b64(der, derlen);
    char *t = concat3(msg, ".", s);
    refuse(t, "bad signature");
    free(t);
    free(s);
    free(msg);
    free(h);
    free(p);
    free(c);
}

static void test_malformed(void **state)
{
    (void)state;
    char *t = sign_good("RS256", "rsa1", rsa_key);
    char *dot1 = strchr(t, '.'), *dot2 = strchr(dot1 + 1, '.');

    /* two parts */
    char *u = strndup(t, (size_t)(dot2 - t));
    refuse(u, "malformed");
    free(u);
    /* four parts */
    u = concat3(t, ".", "AAAA");
    refuse(u, "malformed");
    free(u);
    u = concat3(t, ".", "");
    refuse(u, "malformed");
    free(u);
    refuse("", "malformed");
    refuse("..", "bad header");
    refuse("abc", "malformed");
    /* bad base64 in the header, padding, bad base64 in the signature */
    u = strdup(t);
    u[3] = '!';
    refuse(u, "bad header");
    free(u);
    u = concat3(t, "", "==");
    refuse(u, "bad signature encoding");
    free(u);
    u = strdup(t);
    dot2 = strchr(strchr(u, '.') + 1, '.');
    dot2[4] = '+';
    refuse(u, "bad signature encoding");
    free(u);
    /* a NUL inside the token */
    u = strdup(t);
    u[5] = '\0';
    refuse_with(jwks, u, strlen(t), NOW, "bad header");
    free(u);
    free(t);

    char *c = good_claims();
    /* non-object JSON, signed properly */
    const char *headers[] = {"[\"RS256\"]", "\"RS256\"", "null", "{\"alg\":\"RS256\"", "",
                             "{\"alg\":\"RS256\",\"kid\":\"rsa1\"} x",
                             /* duplicate alg: cJSON would answer the first */
                             "{\"alg\":\"RS256\",\"kid\":\"rsa1\",\"alg\":\"none\"}",
                             "{\"alg\":\"RS256\",\"kid\":\"rsa1\",\"kid\":\"ec1\"}"};
    for (size_t i = 0; i < sizeof headers / sizeof *headers; i++) {
        t = sign_raw(headers[i], c, "RS256", rsa_key, NULL, 0);
        refuse(t, "bad header");
        free(t);
    }
    const char *payloads[] = {
        "[]", "\"x\"", "1700000000", "", "{\"iss\":",
        /* duplicates, at the top and nested */
        "{\"iss\":\"" ISS "\",\"aud\":\"" AUD "\",\"exp\":1700000300,\"exp\":1}",
        "{\"iss\":\"" ISS "\",\"aud\":\"" AUD "\",\"exp\":1700000300,\"x\":{\"a\":1,\"a\":2}}",
        "{\"iss\":\"" ISS "\",\"aud\":\"" AUD "\",\"exp\":1700000300,\"x\":[{\"a\":1,\"a\":2}]}"};
    for (size_t i = 0; i < sizeof payloads / sizeof *payloads; i++) {
        t = sign("RS256", "rsa1", rsa_key, payloads[i]);
        refuse(t, "bad payload");
        free(t);
    }
    /* same names in different objects are fine */
    t = sign("RS256", "rsa1", rsa_key,
             "{\"iss\":\"" ISS "\",\"aud\":\"" AUD
             "\",\"exp\":1700000300,\"x\":{\"iss\":1},\"y\":[{\"a\":1},{\"a\":2}]}");
    accept(t);
    free(t);
    free(c);
}

/* A token of about `size` bytes: a valid one padded with a long claim. */
static char *token_of_size(size_t size)
{
    size_t pad = (size - 600) / 4 * 3;
    char *extra = malloc(pad + 32);
    int n = snprintf(extra, pad + 32, ",\"pad\":\"");
    memset(extra + n, 'x', pad);
    strcpy(extra + n + pad, "\"");
    char *c = claims_with(ISS, "\"" AUD "\"", NOW + 300, extra);
    char *t = sign("RS256", "rsa1", rsa_key, c);
    free(c);
    free(extra);
    return t;
}

static void test_size_limit(void **state)
{
    (void)state;
    char *t = token_of_size(15 * 1024);
    assert_true(strlen(t) > 14 * 1024 && strlen(t) <= 16 * 1024);
    accept(t);
    free(t);
    t = token_of_size(17 * 1024);
    assert_true(strlen(t) > 16 * 1024);
    refuse(t, "too large");
    free(t);
}

/* ---- asc_oidc with its cache ---------------------------------------------- */

static asc_oidc_t *new_oidc(void)
{
    asc_oidc_opts_t o = {.issuer = ISS, .audience = AUD, .client_id = AUD, .min_refresh_s = 3600};
    asc_oidc_t *oidc = NULL;
    char err[128];
    assert_int_equal(asc_oidc_new(&o, &oidc, err, sizeof err), ASC_OK);
    assert_int_equal(asc_oidc_preload(oidc, NULL, jwks, err, sizeof err), ASC_OK);
    return oidc;
}

static asc_err_t oidc_verify(asc_oidc_t *o, const char *t, int64_t now, char *err, size_t n)
{
    cJSON *claims = NULL;
    asc_err_t e = asc_oidc_verify(o, t, strlen(t), now, &claims, err, n);
    if (e == ASC_OK) {
        assert_non_null(claims);
        assert_string_equal(cJSON_GetObjectItemCaseSensitive(claims, "sub")->valuestring, "u-1");
    } else {
        assert_null(claims);
    }
    cJSON_Delete(claims);
    return e;
}

static void test_oidc_cache_whole_token(void **state)
{
    (void)state;
    asc_oidc_t *o = new_oidc();
    char err[128];
    char *a = sign_good("RS256", "rsa1", rsa_key);
    /* b shares a's header and payload, its signature is another key's */
    char *b = sign_good("RS256", "rsa1", rsa_other);
    size_t prefix = (size_t)(strrchr(a, '.') - a);
    assert_memory_equal(a, b, prefix + 1);
    assert_true(prefix > 200);

    for (int i = 0; i < 3; i++)
        assert_int_equal(oidc_verify(o, a, NOW, err, sizeof err), ASC_OK);
    assert_int_equal(oidc_verify(o, b, NOW, err, sizeof err), ASC_EDENIED);
    assert_string_equal(err, "bad signature");
    /* and a verified token stays verified */
    assert_int_equal(oidc_verify(o, a, NOW + 1, err, sizeof err), ASC_OK);

    /* ES256: one character more or less is another token too */
    char *e = sign_good("ES256", "ec1", ec_key);
    assert_int_equal(oidc_verify(o, e, NOW, err, sizeof err), ASC_OK);
    e[strlen(e) - 1] = '\0';
    assert_int_equal(oidc_verify(o, e, NOW, err, sizeof err), ASC_EDENIED);
    free(a);
    free(b);
    free(e);
    asc_oidc_free(o);
}

static void test_oidc_cache_expiry(void **state)
{
    (void)state;
    asc_oidc_t *o = new_oidc();
    char err[128];
    char *a = sign_good("RS256", "rsa1", rsa_key); /* exp = NOW + 300 */
    assert_int_equal(oidc_verify(o, a, NOW, err, sizeof err), ASC_OK);
    assert_int_equal(oidc_verify(o, a, NOW + 300 + SKEW - 1, err, sizeof err), ASC_OK);
    assert_int_equal(oidc_verify(o, a, NOW + 300 + SKEW, err, sizeof err), ASC_EDENIED);
    assert_string_equal(err, "expired");
    /* a cached token presented "earlier" than its nbf is re-judged too */
    char *c = claims_with(ISS, "\"" AUD "\"", NOW + 300, ",\"nbf\":1700000100");
    char *n = sign("RS256", "rsa1", rsa_key, c);
    assert_int_equal(oidc_verify(o, n, NOW + 100, err, sizeof err), ASC_OK);
    assert_int_equal(oidc_verify(o, n, NOW, err, sizeof err), ASC_EDENIED);
    assert_string_equal(err, "not yet valid");
    free(c);
    free(n);
    free(a);
    asc_oidc_free(o);
}

static void test_oidc_refusals(void **state)
{
    (void)state;
    asc_oidc_t *o = new_oidc();
    char err[128];
    char *t = sign_good("RS256", "rsa9", rsa_key);
    assert_int_equal(oidc_verify(o, t, NOW, err, sizeof err), ASC_EDENIED);
    assert_string_equal(err, "unknown kid");
    free(t);
    char *c = claims_with(ISS, "\"someone-else\"", NOW + 300, NULL);
    t = sign("RS256", "rsa1", rsa_key, c);
    assert_int_equal(oidc_verify(o, t, NOW, err, sizeof err), ASC_EDENIED);
    assert_string_equal(err, "wrong audience");
    free(t);
    free(c);
    t = sign_raw("{\"alg\":\"HS256\",\"kid\":\"rsa1\"}", c = good_claims(), "HS256", NULL, rsa_pem,
                 strlen(rsa_pem));
    free(c);
    assert_int_equal(oidc_verify(o, t, NOW, err, sizeof err), ASC_EDENIED);
    assert_string_equal(err, "alg not allowed");
    free(t);
    /* many tokens: the fixed-size cache evicts, verification still works */
    for (int i = 0; i < 100; i++) {
        char extra[32];
        snprintf(extra, sizeof extra, ",\"n\":%d", i);
        c = claims_with(ISS, "\"" AUD "\"", NOW + 300 + i, extra);
        t = sign("ES256", "ec1", ec_key, c);
        assert_int_equal(oidc_verify(o, t, NOW, err, sizeof err), ASC_OK);
        free(t);
        free(c);
    }
    t = token_of_size(17 * 1024);
    assert_int_equal(oidc_verify(o, t, NOW, err, sizeof err), ASC_EDENIED);
    free(t);
    asc_oidc_free(o);
}

static void test_oidc_preload_and_authorize_url(void **state)
{
    (void)state;
    asc_oidc_opts_t opts = {.issuer = ISS, .audience = AUD, .client_id = "my app"};
    asc_oidc_t *o = NULL;
    char err[128];
    assert_int_equal(asc_oidc_new(&opts, &o, err, sizeof err), ASC_OK);
    const char *wrong = "{\"issuer\":\"https://idp.example/\",\"jwks_uri\":\"https://x/j\"}";
    assert_int_equal(asc_oidc_preload(o, wrong, jwks, err, sizeof err), ASC_EINVAL);
    assert_string_equal(err, "discovery: issuer mismatch");
    assert_int_equal(asc_oidc_preload(o, "{}", "{\"keys\":1}", err, sizeof err), ASC_EINVAL);
    const char *disc = "{\"issuer\":\"" ISS "\",\"jwks_uri\":\"https://idp.example/jwks\","
                       "\"authorization_endpoint\":\"https://idp.example/auth?tenant=1\","
                       "\"token_endpoint\":\"https://idp.example/token\"}";
    assert_int_equal(asc_oidc_preload(o, disc, jwks, err, sizeof err), ASC_OK);

    asc_oidc_login_t l1, l2;
    char *url = NULL, *url2 = NULL;
    assert_int_equal(
        asc_oidc_authorize_url(o, "https://asc.example/cb?x=1&y", &l1, &url, err, sizeof err),
        ASC_OK);
    assert_int_equal(
        asc_oidc_authorize_url(o, "https://asc.example/cb?x=1&y", &l2, &url2, err, sizeof err),
        ASC_OK);
    assert_int_equal(strlen(l1.state), 43);
    assert_int_equal(strlen(l1.nonce), 43);
    assert_int_equal(strlen(l1.verifier), 43);
    assert_string_not_equal(l1.state, l2.state);
    assert_string_not_equal(l1.nonce, l1.state);
    assert_string_not_equal(l1.verifier, l2.verifier);

    unsigned char d[32];
    unsigned int dn = 32;
    EVP_Digest(l1.verifier, 43, d, &dn, EVP_sha256(), NULL);
    char *ch = b64(d, 32);
    char want[1024];
    snprintf(want, sizeof want,
             "https://idp.example/auth?tenant=1&response_type=code&client_id=my%%20app"
             "&redirect_uri=https%%3A%%2F%%2Fasc.example%%2Fcb%%3Fx%%3D1%%26y"
             "&scope=openid%%20email%%20profile&state=%s&nonce=%s&code_challenge=%s"
             "&code_challenge_method=S256",
             l1.state, l1.nonce, ch);
    assert_string_equal(url, want);
    free(ch);
    free(url);
    free(url2);
    asc_oidc_free(o);

    /* no client_id: no login flow */
    opts.client_id = NULL;
    assert_int_equal(asc_oidc_new(&opts, &o, err, sizeof err), ASC_OK);
    assert_int_equal(asc_oidc_authorize_url(o, "https://a/cb", &l1, &url, err, sizeof err),
                     ASC_EINVAL);
    assert_null(url);
    asc_oidc_free(o);
    /* bad options */
    opts.issuer = "idp.example";
    assert_int_equal(asc_oidc_new(&opts, &o, err, sizeof err), ASC_EINVAL);
    assert_null(o);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_base64url),
        cmocka_unit_test(test_jwks_parse),
        cmocka_unit_test(test_valid_rs256_es256),
        cmocka_unit_test(test_alg_none),
        cmocka_unit_test(test_hs_rs_confusion),
        cmocka_unit_test(test_other_algs),
        cmocka_unit_test(test_alg_key_mismatch),
        cmocka_unit_test(test_issuer),
        cmocka_unit_test(test_audience),
        cmocka_unit_test(test_times),
        cmocka_unit_test(test_kid),
        cmocka_unit_test(test_wrong_key_same_kid),
        cmocka_unit_test(test_tampering),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_size_limit),
        cmocka_unit_test(test_oidc_cache_whole_token),
        cmocka_unit_test(test_oidc_cache_expiry),
        cmocka_unit_test(test_oidc_refusals),
        cmocka_unit_test(test_oidc_preload_and_authorize_url),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}

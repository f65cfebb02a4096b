/* The secret store: sealing round trips, every refusal (key, object,
 * alteration, truncation, format), the master key's sources (ASC_MASTER_KEY
 * in hex and base64, the key file generated, reused and refused) and the
 * helpers (last4, fingerprint, wipe). Keys are random per run; anything
 * compared is either written out by hand or computed independently with
 * libsodium. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <sodium.h>

#include "secret/secret.h"

#define PREFIX "sealed:v1:"
#define PREFIX_LEN (sizeof PREFIX - 1)
#define REFUSED "cannot open sealed secret: wrong master key, wrong object, or altered"

static char errbuf[512];

/* A fresh random key as 64 hex characters into hex[65] (and raw[32]). */
static void random_key(unsigned char raw[32], char hex[65])
{
    randombytes_buf(raw, 32);
    sodium_bin2hex(hex, 65, raw, 32);
}

static asc_secret_box_t *box_from_env(const char *value)
{
    asc_secret_box_t *b = NULL;
    int gen = -1;
    asc_err_t rc = asc_secret_box_open(value, NULL, 0, &b, &gen, errbuf, sizeof errbuf);
    if (rc != ASC_OK)
        fail_msg("box_open: %s: %s", asc_err_name(rc), errbuf);
    assert_non_null(b);
    assert_int_equal(gen, 0);
    return b;
}

static asc_secret_box_t *random_box(void)
{
    unsigned char raw[32];
    char hex[65];
    random_key(raw, hex);
    return box_from_env(hex);
}

static char *seal(const asc_secret_box_t *b, const char *ad, const char *pt, size_t len)
{
    char *s = NULL;
    asc_err_t rc = asc_secret_seal(b, ad, pt, len, &s, errbuf, sizeof errbuf);
    if (rc != ASC_OK)
        fail_msg("seal: %s: %s", asc_err_name(rc), errbuf);
    assert_non_null(s);
    assert_true(asc_secret_is_sealed(s));
    return s;
}

/* Open and expect success with exactly pt[0..len). */
static void expect_open(const asc_secret_box_t *b, const char *ad, const char *sealed,
                        const char *pt, size_t len)
{
    char *out = NULL;
    size_t n = 12345;
    asc_err_t rc = asc_secret_open(b, ad, sealed, &out, &n, errbuf, sizeof errbuf);
    if (rc != ASC_OK)
        fail_msg("open: %s: %s", asc_err_name(rc), errbuf);
    assert_non_null(out);
    assert_int_equal(n, len);
    assert_memory_equal(out, pt, len);
    assert_int_equal(out[len], '\0');
    asc_secret_wipe_free(out);
}

/* Open and expect the refusal code `want`, with no plaintext handed out. */
static void expect_refused(const asc_secret_box_t *b, const char *ad, const char *sealed,
                           asc_err_t want)
{
    char *out = (char *)"sentinel";
    size_t n = 12345;
    errbuf[0] = '\0';
    asc_err_t rc = asc_secret_open(b, ad, sealed, &out, &n, errbuf, sizeof errbuf);
    if (rc != want)
        fail_msg("open of \"%.80s\": got %s, want %s", sealed, asc_err_name(rc),
                 asc_err_name(want));
    assert_null(out);
    assert_int_equal(n, 0);
    if (want == ASC_EDENIED)
        assert_string_equal(errbuf, REFUSED);
    else
        assert_true(errbuf[0] != '\0');
}

/* The bytes of a sealed value's body (nonce || ciphertext), malloc'd. */
static unsigned char *decode(const char *sealed, size_t *len)
{
    const char *body = sealed + PREFIX_LEN;
    size_t n = strlen(body);
    unsigned char *raw = malloc(n + 1);
    assert_non_null(raw);
    assert_int_equal(sodium_base642bin(raw, n + 1, body, n, NULL, len, NULL,
                                       sodium_base64_VARIANT_URLSAFE_NO_PADDING),
                     0);
    return raw;
}

/* "sealed:v1:" + base64url-no-padding of raw[0..len), malloc'd. */
static char *encode(const unsigned char *raw, size_t len)
{
    size_t n = sodium_base64_encoded_len(len, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    char *s = malloc(PREFIX_LEN + n);
    assert_non_null(s);
    memcpy(s, PREFIX, PREFIX_LEN);
    sodium_bin2base64(s + PREFIX_LEN, n, raw, len, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    return s;
}

static void test_round_trip(void **state)
{
    asc_secret_box_t *b = random_box();
    const char *pt = "sk-proj-abcdefghijklmnop";
    char *s = seal(b, "credential:openai-acme", pt, strlen(pt));

    assert_int_equal(strncmp(s, PREFIX, PREFIX_LEN), 0);
    assert_null(strstr(s, pt));
    /* nonce (24) + plaintext + tag (16), base64url without padding. */
    assert_int_equal(strlen(s) - PREFIX_LEN, ((24 + strlen(pt) + 16) * 4 + 2) / 3);
    assert_null(strchr(s, '='));
    assert_null(strchr(s, '+'));
    assert_null(strchr(s, '/'));
    expect_open(b, "credential:openai-acme", s, pt, strlen(pt));
    free(s);

    s = seal(b, "credential:empty", "", 0);
    expect_open(b, "credential:empty", s, "", 0);
    free(s);
    asc_secret_box_close(b);
}

static void test_nonce_differs(void **state)
{
    asc_secret_box_t *b = random_box();
    char *s1 = seal(b, "credential:x", "same plaintext", 14);
    char *s2 = seal(b, "credential:x", "same plaintext", 14);
    size_t n1, n2;
    unsigned char *r1 = decode(s1, &n1), *r2 = decode(s2, &n2);

    assert_string_not_equal(s1, s2);
    assert_int_equal(n1, n2);
    assert_memory_not_equal(r1, r2, 24); /* the nonces */
    expect_open(b, "credential:x", s1, "same plaintext", 14);
    expect_open(b, "credential:x", s2, "same plaintext", 14);
    free(r1);
    free(r2);
    free(s1);
    free(s2);
    asc_secret_box_close(b);
}

static void test_wrong_ad_refused(void **state)
{
    asc_secret_box_t *b = random_box();
    char *s = seal(b, "credential:openai-acme", "sk-secret-value", 15);

    expect_refused(b, "credential:openai-other", s, ASC_EDENIED);
    expect_refused(b, "credential:openai-acm", s, ASC_EDENIED);
    expect_refused(b, "", s, ASC_EDENIED);
    expect_refused(b, NULL, s, ASC_EDENIED);
    expect_open(b, "credential:openai-acme", s, "sk-secret-value", 15);
    free(s);
    asc_secret_box_close(b);
}

static void test_other_key_refused(void **state)
{
    asc_secret_box_t *b1 = random_box(), *b2 = random_box();
    char *s = seal(b1, "credential:a", "sk-secret-value", 15);

    expect_refused(b2, "credential:a", s, ASC_EDENIED);
    expect_open(b1, "credential:a", s, "sk-secret-value", 15);
    free(s);
    asc_secret_box_close(b1);
    asc_secret_box_close(b2);
}

static void test_every_byte_tamper_refused(void **state)
{
    static const unsigned char flips[] = {0x01, 0x80, 0xff};
    asc_secret_box_t *b = random_box();
    const char *pt = "sk-ant-0123456789";
    char *s = seal(b, "credential:c", pt, strlen(pt));
    size_t n, i, f;
    unsigned char *raw = decode(s, &n);

    assert_int_equal(n, 24 + strlen(pt) + 16);
    for (i = 0; i < n; i++) {
        for (f = 0; f < sizeof flips; f++) {
            raw[i] ^= flips[f];
            char *t = encode(raw, n);
            expect_refused(b, "credential:c", t, ASC_EDENIED);
            free(t);
            raw[i] ^= flips[f];
        }
    }
    /* Bytes appended are an alteration too. */
    unsigned char *longer = malloc(n + 1);
    assert_non_null(longer);
    memcpy(longer, raw, n);
    longer[n] = 0;
    char *t = encode(longer, n + 1);
    expect_refused(b, "credential:c", t, ASC_EDENIED);
    free(t);
    free(longer);
    /* Unchanged, it still opens: the refusals came from the flips. */
    t = encode(raw, n);
    expect_open(b, "credential:c", t, pt, strlen(pt));
    free(t);
    free(raw);
    free(s);
    asc_secret_box_close(b);
}

static void test_truncated_refused(void **state)
{
    asc_secret_box_t *b = random_box();
    const char *pt = "sk-0123456789abcdef";
    char *s = seal(b, "credential:t", pt, strlen(pt));
    size_t n, i;
    unsigned char *raw = decode(s, &n);

    /* Every shorter body, well encoded: denied like any alteration. */
    for (i = 0; i < n; i++) {
        char *t = encode(raw, i);
        expect_refused(b, "credential:t", t, ASC_EDENIED);
        free(t);
    }
    /* Every shorter text: never opens (a cut inside a base64 quantum may
     * also be bad base64). */
    size_t len = strlen(s);
    char *t = malloc(len + 1);
    assert_non_null(t);
    for (i = 0; i < len; i++) {
        char *out = NULL;
        memcpy(t, s, i);
        t[i] = '\0';
        asc_err_t rc = asc_secret_open(b, "credential:t", t, &out, NULL, errbuf, sizeof errbuf);
        assert_true(rc == ASC_EDENIED || rc == ASC_EINVAL);
        assert_null(out);
    }
    free(t);
    free(raw);
    free(s);
    asc_secret_box_close(b);
}

static void test_format_refused(void **state)
{
    asc_secret_box_t *b = random_box();
    char *s = seal(b, "credential:f", "sk-secret-value", 15);
    const char *body = s + PREFIX_LEN;
    char buf[512];

    /* The body alone, or under another prefix or version. */
    expect_refused(b, "credential:f", body, ASC_EINVAL);
    snprintf(buf, sizeof buf, "sealed:v2:%s", body);
    expect_refused(b, "credential:f", buf, ASC_EINVAL);
    snprintf(buf, sizeof buf, "Sealed:v1:%s", body);
    expect_refused(b, "credential:f", buf, ASC_EINVAL);
    expect_refused(b, "credential:f", "sk-plain-text", ASC_EINVAL);
    expect_refused(b, "credential:f", "", ASC_EINVAL);
    /* Bad base64url: the standard alphabet, padding, junk, whitespace. */
    snprintf(buf, sizeof buf, "%s=", s);
    expect_refused(b, "credential:f", buf, ASC_EINVAL);
    snprintf(buf, sizeof buf, "%s!", s);
    expect_refused(b, "credential:f", buf, ASC_EINVAL);
    snprintf(buf, sizeof buf, "%s\n", s);
    expect_refused(b, "credential:f", buf, ASC_EINVAL);
    snprintf(buf, sizeof buf, "%s", s);
    buf[PREFIX_LEN + 5] = '+';
    expect_refused(b, "credential:f", buf, ASC_EINVAL);
    buf[PREFIX_LEN + 5] = '/';
    expect_refused(b, "credential:f", buf, ASC_EINVAL);

    assert_false(asc_secret_is_sealed(NULL));
    assert_false(asc_secret_is_sealed(""));
    assert_false(asc_secret_is_sealed("sealed:v1"));
    assert_false(asc_secret_is_sealed("sealed:v2:abc"));
    assert_true(asc_secret_is_sealed("sealed:v1:"));
    assert_true(asc_secret_is_sealed(s));
    free(s);
    asc_secret_box_close(b);
}

static void test_env_hex_and_base64_equivalent(void **state)
{
    static const int variants[] = {
        sodium_base64_VARIANT_ORIGINAL,
        sodium_base64_VARIANT_ORIGINAL_NO_PADDING,
        sodium_base64_VARIANT_URLSAFE,
        sodium_base64_VARIANT_URLSAFE_NO_PADDING,
    };
    unsigned char raw[32];
    char hex[65], upper[65], b64[64], fp_hex[17], fp[17];
    size_t i, v;

    /* Keys until one has both '+'/'/' and '-'/'_' alphabets distinct. */
    do {
        random_key(raw, hex);
        sodium_bin2base64(b64, sizeof b64, raw, 32, sodium_base64_VARIANT_ORIGINAL);
    } while (strpbrk(b64, "+/") == NULL);

    asc_secret_box_t *bh = box_from_env(hex);
    asc_secret_box_fingerprint(bh, fp_hex);
    char *from_hex = seal(bh, "credential:k", "sk-value-under-hex", 18);

    for (i = 0; i < 64; i++)
        upper[i] = (char)(hex[i] >= 'a' && hex[i] <= 'f' ? hex[i] - 'a' + 'A' : hex[i]);
    upper[64] = '\0';
    asc_secret_box_t *bu = box_from_env(upper);
    expect_open(bu, "credential:k", from_hex, "sk-value-under-hex", 18);
    asc_secret_box_close(bu);

    for (v = 0; v < sizeof variants / sizeof variants[0]; v++) {
        sodium_bin2base64(b64, sizeof b64, raw, 32, variants[v]);
        assert_int_equal(strlen(b64), variants[v] & 2 ? 43 : 44);
        asc_secret_box_t *bb = box_from_env(b64);
        asc_secret_box_fingerprint(bb, fp);
        assert_string_equal(fp, fp_hex);
        expect_open(bb, "credential:k", from_hex, "sk-value-under-hex", 18);
        char *from_b64 = seal(bb, "credential:k", "sk-value-under-b64", 18);
        expect_open(bh, "credential:k", from_b64, "sk-value-under-b64", 18);
        free(from_b64);
        asc_secret_box_close(bb);
    }

    /* A trailing newline (as from a file or a shell) is not part of it. */
    char nl[80];
    snprintf(nl, sizeof nl, "%s\n", hex);
    asc_secret_box_t *bn = box_from_env(nl);
    expect_open(bn, "credential:k", from_hex, "sk-value-under-hex", 18);
    asc_secret_box_close(bn);

    free(from_hex);
    asc_secret_box_close(bh);
}

static void test_env_malformed_refused(void **state)
{
    unsigned char raw[33];
    char hex[65], bad[8][100];
    const char *values[16];
    size_t nv = 0, i;

    random_key(raw, hex);
    raw[32] = 0x5a;
    snprintf(bad[0], sizeof bad[0], "%.63s", hex);   /* 63 hex */
    snprintf(bad[1], sizeof bad[1], "%s0", hex);     /* 65 hex */
    snprintf(bad[2], sizeof bad[2], "%.62szz", hex); /* not hex, 64 chars */
    sodium_bin2base64(bad[3], sizeof bad[3], raw, 31, sodium_base64_VARIANT_ORIGINAL);
    sodium_bin2base64(bad[4], sizeof bad[4], raw, 33, sodium_base64_VARIANT_ORIGINAL);
    sodium_bin2base64(bad[5], sizeof bad[5], raw, 32, sodium_base64_VARIANT_ORIGINAL);
    bad[5][10] = '*'; /* junk inside base64 */
    snprintf(bad[6], sizeof bad[6], "%.32s %.32s", hex, hex + 32);
    sodium_bin2base64(bad[7], sizeof bad[7], raw, 32, sodium_base64_VARIANT_ORIGINAL);
    bad[7][42] = bad[7][42] == 'B' ? 'C' : 'B'; /* non-zero trailing bits */
    for (i = 0; i < 8; i++)
        values[nv++] = bad[i];
    values[nv++] = "";
    values[nv++] = "hunter2-is-not-a-key";
    values[nv++] = "0x0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcd";

    for (i = 0; i < nv; i++) {
        asc_secret_box_t *b = (asc_secret_box_t *)&i;
        errbuf[0] = '\0';
        asc_err_t rc = asc_secret_box_open(values[i], NULL, 0, &b, NULL, errbuf, sizeof errbuf);
        if (rc != ASC_EINVAL)
            fail_msg("value %zu: got %s", i, asc_err_name(rc));
        assert_null(b);
        assert_non_null(strstr(errbuf, "ASC_MASTER_KEY"));
        if (values[i][0] != '\0')
            assert_null(strstr(errbuf, values[i]));
        /* Not even a long piece of it. */
        if (strlen(values[i]) >= 16) {
            char piece[17];
            memcpy(piece, values[i], 16);
            piece[16] = '\0';
            assert_null(strstr(errbuf, piece));
        }
    }
}

/* A fresh temporary directory, path into dir[64]. */
static void temp_dir(char dir[64])
{
    snprintf(dir, 64, "/tmp/asc-secret-test-XXXXXX");
    assert_non_null(mkdtemp(dir));
}

static void write_file(const char *path, const char *text, mode_t mode)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    assert_int_equal(fputs(text, f) >= 0, 1);
    assert_int_equal(fclose(f), 0);
    assert_int_equal(chmod(path, mode), 0);
}

static size_t read_file(const char *path, char *buf, size_t cap)
{
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    size_t n = fread(buf, 1, cap - 1, f);
    buf[n] = '\0';
    fclose(f);
    return n;
}

static void test_key_file_generated_and_reused(void **state)
{
    char dir[64], sub[128], path[160], text[256], fp1[17], fp2[17];
    struct stat st;
    asc_secret_box_t *b = NULL;
    int gen = -1;
    size_t i;

    temp_dir(dir);
    snprintf(sub, sizeof sub, "%s/data", dir);
    snprintf(path, sizeof path, "%s/master-key", sub);

    asc_err_t rc = asc_secret_box_open(NULL, path, 1, &b, &gen, errbuf, sizeof errbuf);
    if (rc != ASC_OK)
        fail_msg("generate: %s: %s", asc_err_name(rc), errbuf);
    assert_int_equal(gen, 1);
    assert_int_equal(stat(path, &st), 0);
    assert_true(S_ISREG(st.st_mode));
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_int_equal(stat(sub, &st), 0);
    assert_true(S_ISDIR(st.st_mode));
    assert_int_equal(st.st_mode & 077, 0);

    /* 64 lowercase hex characters and a newline, and that is the key. */
    assert_int_equal(read_file(path, text, sizeof text), 65);
    assert_int_equal(text[64], '\n');
    for (i = 0; i < 64; i++)
        assert_non_null(strchr("0123456789abcdef", text[i]));
    text[64] = '\0';
    asc_secret_box_fingerprint(b, fp1);
    char *s = seal(b, "credential:g", "sk-generated", 12);
    asc_secret_box_close(b);

    asc_secret_box_t *bh = box_from_env(text);
    expect_open(bh, "credential:g", s, "sk-generated", 12);
    asc_secret_box_close(bh);

    /* Second start: the same file, the same key, not generated again. */
    b = NULL;
    gen = -1;
    rc = asc_secret_box_open(NULL, path, 1, &b, &gen, errbuf, sizeof errbuf);
    if (rc != ASC_OK)
        fail_msg("reuse: %s: %s", asc_err_name(rc), errbuf);
    assert_int_equal(gen, 0);
    asc_secret_box_fingerprint(b, fp2);
    assert_string_equal(fp1, fp2);
    expect_open(b, "credential:g", s, "sk-generated", 12);
    asc_secret_box_close(b);

    /* And without `generate` too. */
    b = NULL;
    rc = asc_secret_box_open(NULL, path, 0, &b, NULL, errbuf, sizeof errbuf);
    assert_int_equal(rc, ASC_OK);
    expect_open(b, "credential:g", s, "sk-generated", 12);
    asc_secret_box_close(b);

    free(s);
    unlink(path);
    rmdir(sub);
    rmdir(dir);
}

static void test_key_file_missing(void **state)
{
    char dir[64], path[128];
    struct stat st;
    asc_secret_box_t *b = NULL;
    int gen = -1;

    temp_dir(dir);
    snprintf(path, sizeof path, "%s/master-key", dir);
    asc_err_t rc = asc_secret_box_open(NULL, path, 0, &b, &gen, errbuf, sizeof errbuf);
    assert_int_equal(rc, ASC_ENOTFOUND);
    assert_null(b);
    assert_int_equal(gen, 0);
    assert_non_null(strstr(errbuf, path));
    assert_int_not_equal(stat(path, &st), 0);

    /* ASC_MASTER_KEY wins over the key file, which is then not created. */
    unsigned char raw[32];
    char hex[65];
    random_key(raw, hex);
    rc = asc_secret_box_open(hex, path, 1, &b, &gen, errbuf, sizeof errbuf);
    assert_int_equal(rc, ASC_OK);
    assert_int_equal(gen, 0);
    assert_int_not_equal(stat(path, &st), 0);
    asc_secret_box_close(b);

    /* Neither source. */
    b = NULL;
    rc = asc_secret_box_open(NULL, NULL, 1, &b, &gen, errbuf, sizeof errbuf);
    assert_int_equal(rc, ASC_EINVAL);
    assert_null(b);
    rmdir(dir);
}

static void test_key_file_group_readable_refused(void **state)
{
    static const mode_t modes[] = {0640, 0604, 0620, 0610, 0660, 0644};
    char dir[64], path[128], text[128];
    unsigned char raw[32];
    char hex[65];
    size_t i;

    temp_dir(dir);
    snprintf(path, sizeof path, "%s/master-key", dir);
    random_key(raw, hex);
    snprintf(text, sizeof text, "%s\n", hex);
    for (i = 0; i < sizeof modes / sizeof modes[0]; i++) {
        asc_secret_box_t *b = NULL;
        write_file(path, text, modes[i]);
        errbuf[0] = '\0';
        asc_err_t rc = asc_secret_box_open(NULL, path, 1, &b, NULL, errbuf, sizeof errbuf);
        if (rc != ASC_EDENIED)
            fail_msg("mode %03o: got %s", (unsigned)modes[i], asc_err_name(rc));
        assert_null(b);
        assert_non_null(strstr(errbuf, "chmod 600"));
        assert_null(strstr(errbuf, hex));
    }
    /* The same file at 0600 (and 0400) is accepted. */
    write_file(path, text, 0600);
    asc_secret_box_t *b = NULL;
    assert_int_equal(asc_secret_box_open(NULL, path, 0, &b, NULL, errbuf, sizeof errbuf), ASC_OK);
    asc_secret_box_close(b);
    assert_int_equal(chmod(path, 0400), 0);
    b = NULL;
    assert_int_equal(asc_secret_box_open(NULL, path, 0, &b, NULL, errbuf, sizeof errbuf), ASC_OK);
    asc_secret_box_close(b);
    unlink(path);
    rmdir(dir);
}

static void test_key_file_malformed_refused(void **state)
{
    unsigned char raw[32];
    char hex[65], dir[64], path[128], bad[6][200], now[256];
    size_t i;

    random_key(raw, hex);
    snprintf(bad[0], sizeof bad[0], "not a key\n");
    snprintf(bad[1], sizeof bad[1], "%.63s\n", hex);
    snprintf(bad[2], sizeof bad[2], "%s0\n", hex);
    snprintf(bad[3], sizeof bad[3], "%s\n%s\n", hex, hex);
    sodium_bin2base64(bad[4], sizeof bad[4], raw, 32, sodium_base64_VARIANT_ORIGINAL);
    bad[5][0] = '\0'; /* empty */

    temp_dir(dir);
    snprintf(path, sizeof path, "%s/master-key", dir);
    for (i = 0; i < 6; i++) {
        asc_secret_box_t *b = NULL;
        int gen = -1;
        write_file(path, bad[i], 0600);
        asc_err_t rc = asc_secret_box_open(NULL, path, 1, &b, &gen, errbuf, sizeof errbuf);
        if (rc != ASC_EINVAL)
            fail_msg("case %zu: got %s", i, asc_err_name(rc));
        assert_null(b);
        assert_int_equal(gen, 0);
        assert_non_null(strstr(errbuf, "malformed"));
        assert_null(strstr(errbuf, hex));
        /* Left exactly as it was. */
        read_file(path, now, sizeof now);
        assert_string_equal(now, bad[i]);
    }
    unlink(path);
    rmdir(dir);
}

static void test_last4(void **state)
{
    char out[5];

    memset(out, 'x', sizeof out);
    asc_secret_last4("sk-0123456789", 13, out);
    assert_string_equal(out, "6789");
    asc_secret_last4("sk-012345678", 12, out);
    assert_string_equal(out, "5678");
    memset(out, 'x', sizeof out);
    asc_secret_last4("sk-01234567", 11, out);
    assert_string_equal(out, "");
    asc_secret_last4("abcd", 4, out);
    assert_string_equal(out, "");
    asc_secret_last4("", 0, out);
    assert_string_equal(out, "");
    asc_secret_last4(NULL, 0, out);
    assert_string_equal(out, "");
    /* len is honoured, not strlen. */
    asc_secret_last4("0123456789abcdefXYZ", 16, out);
    assert_string_equal(out, "cdef");
}

static void test_large_plaintext(void **state)
{
    size_t len = 1024 * 1024, i;
    char *pt = malloc(len);
    assert_non_null(pt);
    for (i = 0; i < len; i++)
        pt[i] = (char)(i * 131 + 7);
    asc_secret_box_t *b = random_box();
    char *s = seal(b, "credential:big", pt, len);
    assert_int_equal(strlen(s) - PREFIX_LEN, ((24 + len + 16) * 4 + 2) / 3);
    expect_open(b, "credential:big", s, pt, len);
    /* One character inside the ciphertext, still base64url. */
    s[PREFIX_LEN + len] = s[PREFIX_LEN + len] == 'A' ? 'B' : 'A';
    expect_refused(b, "credential:big", s, ASC_EDENIED);
    free(s);
    free(pt);
    asc_secret_box_close(b);
}

static void test_plaintext_with_nul_bytes(void **state)
{
    static const char pt[] = {'a', '\0', 'b', '\0', '\0', 'c', '\0', 'd', '\0'};
    asc_secret_box_t *b = random_box();
    char *s = seal(b, "credential:nul", pt, sizeof pt);
    size_t n;
    unsigned char *raw = decode(s, &n);
    assert_int_equal(n, 24 + sizeof pt + 16);
    expect_open(b, "credential:nul", s, pt, sizeof pt);
    free(raw);
    free(s);
    asc_secret_box_close(b);
}

static void test_fingerprint(void **state)
{
    unsigned char raw[32], h[32];
    char hex[65], fp[17], fp_again[17], fp_other[17], want[65];
    static const char msg[] = "asc-master-key-fingerprint";

    random_key(raw, hex);
    asc_secret_box_t *b = box_from_env(hex), *other = random_box();
    memset(fp, 'x', sizeof fp);
    asc_secret_box_fingerprint(b, fp);
    asc_secret_box_fingerprint(b, fp_again);
    asc_secret_box_fingerprint(other, fp_other);

    assert_int_equal(strlen(fp), 16);
    assert_int_equal(strspn(fp, "0123456789abcdef"), 16);
    assert_string_equal(fp, fp_again);
    assert_string_not_equal(fp, fp_other);
    /* BLAKE2b of the constant keyed with the master key, computed here. */
    crypto_generichash(h, sizeof h, (const unsigned char *)msg, sizeof msg - 1, raw, 32);
    sodium_bin2hex(want, sizeof want, h, sizeof h);
    want[16] = '\0';
    assert_string_equal(fp, want);
    /* Not a piece of the key itself, nor its unkeyed hash. */
    assert_null(strstr(hex, fp));
    crypto_generichash(h, sizeof h, raw, 32, NULL, 0);
    sodium_bin2hex(want, sizeof want, h, sizeof h);
    assert_int_not_equal(strncmp(want, fp, 16), 0);
    asc_secret_box_close(b);
    asc_secret_box_close(other);
}

static void test_wipe_free(void **state)
{
    asc_secret_wipe_free(NULL);
    char *p = malloc(8);
    assert_non_null(p);
    memcpy(p, "a\0bcdef", 8);
    asc_secret_wipe_free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_nonce_differs),
        cmocka_unit_test(test_wrong_ad_refused),
        cmocka_unit_test(test_other_key_refused),
        cmocka_unit_test(test_every_byte_tamper_refused),
        cmocka_unit_test(test_truncated_refused),
        cmocka_unit_test(test_format_refused),
        cmocka_unit_test(test_env_hex_and_base64_equivalent),
        cmocka_unit_test(test_env_malformed_refused),
        cmocka_unit_test(test_key_file_generated_and_reused),
        cmocka_unit_test(test_key_file_missing),
        cmocka_unit_test(test_key_file_group_readable_refused),
        cmocka_unit_test(test_key_file_malformed_refused),
        cmocka_unit_test(test_last4),
        cmocka_unit_test(test_large_plaintext),
        cmocka_unit_test(test_plaintext_with_nul_bytes),
        cmocka_unit_test(test_fingerprint),
        cmocka_unit_test(test_wipe_free),
    };
    if (sodium_init() < 0)
        return 1;
    return cmocka_run_group_tests(tests, NULL, NULL);
}

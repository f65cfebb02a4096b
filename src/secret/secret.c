/*
 * The secret store: XChaCha20-Poly1305 (IETF) sealing under a master key
 * held in sodium_malloc'd memory that is read-only once loaded.
 *
 * Every buffer that holds key or plaintext material on the way (the key
 * file's text, its hex encoding when generated) is wiped before it goes
 * out of scope; the plaintext handed out is wiped by asc_secret_wipe_free.
 */
#include "secret/secret.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#if defined(__linux__)
#include <malloc.h>
#endif

#include <sodium.h>

#define KEY_BYTES crypto_aead_xchacha20poly1305_ietf_KEYBYTES
#define NONCE_BYTES crypto_aead_xchacha20poly1305_ietf_NPUBBYTES
#define TAG_BYTES crypto_aead_xchacha20poly1305_ietf_ABYTES
#define B64_URL sodium_base64_VARIANT_URLSAFE_NO_PADDING

/* 64 hex characters, an optional "\r\n" or "\n" and a little slack so a
 * longer file is seen as malformed rather than silently cut. */
#define KEY_FILE_MAX 128

static const char sealed_prefix[] = "sealed:v1:";
#define SEALED_PREFIX_LEN (sizeof sealed_prefix - 1)

static const char fingerprint_msg[] = "asc-master-key-fingerprint";

static const char open_refused[] =
    "cannot open sealed secret: wrong master key, wrong object, or altered";

struct asc_secret_box {
    unsigned char *key; /* KEY_BYTES, sodium_malloc'd, read-only */
};

static void seterr(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void seterr(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    if (err == NULL || errlen == 0)
        return;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

static int is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Exactly 64 hex characters in s[0..n) into key; 0 on success. */
static int parse_hex(unsigned char *key, const char *s, size_t n)
{
    size_t got = 0;
    const char *end = NULL;

    if (n != 2 * KEY_BYTES)
        return -1;
    if (sodium_hex2bin(key, KEY_BYTES, s, n, NULL, &got, &end) != 0)
        return -1;
    return got == KEY_BYTES && end == s + n ? 0 : -1;
}

/* Base64 of exactly 32 bytes in s[0..n), in any of the four alphabets and
 * padding conventions; 0 on success. */
static int parse_base64(unsigned char *key, const char *s, size_t n)
{
    static const int variants[] = {
        sodium_base64_VARIANT_ORIGINAL,
        sodium_base64_VARIANT_ORIGINAL_NO_PADDING,
        sodium_base64_VARIANT_URLSAFE,
        sodium_base64_VARIANT_URLSAFE_NO_PADDING,
    };
    size_t i;

    for (i = 0; i < sizeof variants / sizeof variants[0]; i++) {
        size_t got = 0;
        const char *end = NULL;
        if (sodium_base642bin(key, KEY_BYTES, s, n, NULL, &got, &end, variants[i]) == 0 &&
            got == KEY_BYTES && end == s + n)
            return 0;
    }
    return -1;
}

/* The ASC_MASTER_KEY value (surrounding whitespace ignored) into key. The
 * message names the variable and the length, never the value. */
static asc_err_t key_from_env(unsigned char *key, const char *v, char *err, size_t errlen)
{
    size_t n = strlen(v);

    while (n > 0 && is_space(v[0])) {
        v++;
        n--;
    }
    while (n > 0 && is_space(v[n - 1]))
        n--;
    if (parse_hex(key, v, n) == 0 || parse_base64(key, v, n) == 0)
        return ASC_OK;
    seterr(err, errlen,
           "ASC_MASTER_KEY is malformed (%zu characters): it must be 64 hex characters or "
           "the base64 of exactly 32 bytes",
           n);
    return ASC_EINVAL;
}

/* Create the missing directories of path's parent, each mode 0700. */
static asc_err_t make_parent(const char *path, char *err, size_t errlen)
{
    asc_err_t rc = ASC_OK;
    char *dir = strdup(path);
    char *slash, *p;

    if (dir == NULL)
        return ASC_ENOMEM;
    slash = strrchr(dir, '/');
    if (slash == NULL || slash == dir)
        goto out;
    *slash = '\0';
    for (p = dir + 1;; p++) {
        if (*p != '/' && *p != '\0')
            continue;
        char c = *p;
        *p = '\0';
        if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
            seterr(err, errlen, "cannot create directory %s for the master key file: %s", dir,
                   strerror(errno));
            rc = ASC_EIO;
            goto out;
        }
        *p = c;
        if (c == '\0')
            break;
    }
out:
    free(dir);
    return rc;
}

static int write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Create path with O_EXCL and a fresh random key in it. *raced is set when
 * the file appeared meanwhile, so the caller reads it instead. */
static asc_err_t generate_key_file(unsigned char *key, const char *path, int *raced, char *err,
                                   size_t errlen)
{
    asc_err_t rc = ASC_OK;
    char hex[2 * KEY_BYTES + 2];
    int fd = -1;

    *raced = 0;
    rc = make_parent(path, err, errlen);
    if (rc != ASC_OK)
        goto out;
    fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        if (errno == EEXIST) {
            *raced = 1;
            goto out;
        }
        seterr(err, errlen, "cannot create master key file %s: %s", path, strerror(errno));
        rc = ASC_EIO;
        goto out;
    }
    randombytes_buf(key, KEY_BYTES);
    sodium_bin2hex(hex, sizeof hex, key, KEY_BYTES);
    hex[2 * KEY_BYTES] = '\n';
    /* The umask can only take bits away; make the mode exactly 0600. */
    if (fchmod(fd, 0600) != 0 || write_all(fd, hex, 2 * KEY_BYTES + 1) != 0 || fsync(fd) != 0) {
        seterr(err, errlen, "cannot write master key file %s: %s", path, strerror(errno));
        rc = ASC_EIO;
        close(fd);
        fd = -1;
        unlink(path);
        goto out;
    }
    if (close(fd) != 0) {
        fd = -1;
        seterr(err, errlen, "cannot write master key file %s: %s", path, strerror(errno));
        rc = ASC_EIO;
        unlink(path);
        goto out;
    }
    fd = -1;
out:
    sodium_memzero(hex, sizeof hex);
    return rc;
}

/* Read the key from path. ASC_ENOTFOUND when it does not exist. */
static asc_err_t read_key_file(unsigned char *key, const char *path, char *err, size_t errlen)
{
    asc_err_t rc = ASC_OK;
    char text[KEY_FILE_MAX + 1];
    size_t n = 0;
    struct stat st;
    int fd;

    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        int e = errno;
        seterr(err, errlen, "cannot open master key file %s: %s", path, strerror(e));
        return e == ENOENT ? ASC_ENOTFOUND : ASC_EIO;
    }
    if (fstat(fd, &st) != 0) {
        seterr(err, errlen, "cannot stat master key file %s: %s", path, strerror(errno));
        rc = ASC_EIO;
        goto out;
    }
    if (!S_ISREG(st.st_mode)) {
        seterr(err, errlen, "master key file %s is not a regular file", path);
        rc = ASC_EINVAL;
        goto out;
    }
    if ((st.st_mode & 077) != 0) {
        seterr(err, errlen,
               "master key file %s is accessible by group or others (mode %03o): "
               "chmod 600 %s",
               path, (unsigned)(st.st_mode & 0777), path);
        rc = ASC_EDENIED;
        goto out;
    }
    while (n < sizeof text) {
        ssize_t r = read(fd, text + n, sizeof text - n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            seterr(err, errlen, "cannot read master key file %s: %s", path, strerror(errno));
            rc = ASC_EIO;
            goto out;
        }
        if (r == 0)
            break;
        n += (size_t)r;
    }
    while (n > 0 && is_space(text[n - 1]))
        n--;
    if (n > KEY_FILE_MAX || parse_hex(key, text, n) != 0) {
        seterr(err, errlen, "master key file %s is malformed: it must hold 64 hex characters",
               path);
        rc = ASC_EINVAL;
        goto out;
    }
out:
    sodium_memzero(text, sizeof text);
    close(fd);
    return rc;
}

static asc_err_t key_from_file(unsigned char *key, const char *path, int generate, int *generated,
                               char *err, size_t errlen)
{
    asc_err_t rc;
    int raced = 0;

    rc = read_key_file(key, path, err, errlen);
    if (rc != ASC_ENOTFOUND)
        return rc;
    if (!generate) {
        seterr(err, errlen,
               "master key file %s does not exist: set ASC_MASTER_KEY or create the file", path);
        return rc;
    }
    rc = generate_key_file(key, path, &raced, err, errlen);
    if (rc != ASC_OK)
        return rc;
    if (raced)
        return read_key_file(key, path, err, errlen);
    *generated = 1;
    return ASC_OK;
}

asc_err_t asc_secret_box_open(const char *env_value, const char *key_file, int generate,
                              asc_secret_box_t **out, int *generated, char *err, size_t errlen)
{
    asc_err_t rc = ASC_OK;
    asc_secret_box_t *b = NULL;
    int gen = 0;

    *out = NULL;
    if (generated != NULL)
        *generated = 0;
    if (sodium_init() < 0) {
        seterr(err, errlen, "cannot initialise libsodium");
        return ASC_EIO;
    }
    if (env_value == NULL && key_file == NULL) {
        seterr(err, errlen, "no master key: set ASC_MASTER_KEY or configure a key file");
        return ASC_EINVAL;
    }
    b = calloc(1, sizeof *b);
    if (b == NULL) {
        seterr(err, errlen, "out of memory");
        return ASC_ENOMEM;
    }
    b->key = sodium_malloc(KEY_BYTES);
    if (b->key == NULL) {
        seterr(err, errlen, "cannot allocate protected memory for the master key");
        rc = ASC_ENOMEM;
        goto out;
    }
    if (env_value != NULL)
        rc = key_from_env(b->key, env_value, err, errlen);
    else
        rc = key_from_file(b->key, key_file, generate, &gen, err, errlen);
    if (rc != ASC_OK)
        goto out;
    if (sodium_mprotect_readonly(b->key) != 0) {
        seterr(err, errlen, "cannot protect the master key memory: %s", strerror(errno));
        rc = ASC_EIO;
        goto out;
    }
out:
    if (rc != ASC_OK) {
        asc_secret_box_close(b);
        return rc;
    }
    if (generated != NULL)
        *generated = gen;
    *out = b;
    return ASC_OK;
}

void asc_secret_box_close(asc_secret_box_t *b)
{
    if (b == NULL)
        return;
    sodium_free(b->key); /* wipes, and lifts the read-only protection itself */
    free(b);
}

asc_err_t asc_secret_seal(const asc_secret_box_t *b, const char *ad, const char *plaintext,
                          size_t len, char **sealed, char *err, size_t errlen)
{
    asc_err_t rc = ASC_OK;
    unsigned char *raw = NULL;
    unsigned long long ct_len = 0;
    size_t raw_len, b64_len;
    char *s = NULL;

    *sealed = NULL;
    if (ad == NULL)
        ad = "";
    /* raw_len, its base64 length and the prefix must all fit a size_t. */
    if (len > crypto_aead_xchacha20poly1305_ietf_MESSAGEBYTES_MAX ||
        len > (SIZE_MAX - SEALED_PREFIX_LEN - 16) / 4 * 3 - NONCE_BYTES - TAG_BYTES) {
        seterr(err, errlen, "secret too large to seal (%zu bytes)", len);
        return ASC_ETOOBIG;
    }
    raw_len = NONCE_BYTES + len + TAG_BYTES;
    b64_len = sodium_base64_encoded_len(raw_len, B64_URL);
    raw = malloc(raw_len);
    s = malloc(SEALED_PREFIX_LEN + b64_len);
    if (raw == NULL || s == NULL) {
        seterr(err, errlen, "out of memory sealing a %zu-byte secret", len);
        rc = ASC_ENOMEM;
        goto out;
    }
    randombytes_buf(raw, NONCE_BYTES);
    crypto_aead_xchacha20poly1305_ietf_encrypt(
        raw + NONCE_BYTES, &ct_len, (const unsigned char *)plaintext, len,
        (const unsigned char *)ad, strlen(ad), NULL, raw, b->key);
    memcpy(s, sealed_prefix, SEALED_PREFIX_LEN);
    sodium_bin2base64(s + SEALED_PREFIX_LEN, b64_len, raw, NONCE_BYTES + (size_t)ct_len, B64_URL);
    *sealed = s;
    s = NULL;
out:
    free(raw);
    free(s);
    return rc;
}

asc_err_t asc_secret_open(const asc_secret_box_t *b, const char *ad, const char *sealed,
                          char **plaintext, size_t *len, char *err, size_t errlen)
{
    asc_err_t rc = ASC_OK;
    unsigned char *raw = NULL;
    char *pt = NULL;
    unsigned long long pt_len = 0;
    const char *body, *end = NULL;
    size_t body_len, raw_max, raw_len = 0;

    *plaintext = NULL;
    if (len != NULL)
        *len = 0;
    if (ad == NULL)
        ad = "";
    if (!asc_secret_is_sealed(sealed)) {
        seterr(err, errlen, "not a sealed secret (no \"sealed:v1:\" prefix)");
        return ASC_EINVAL;
    }
    body = sealed + SEALED_PREFIX_LEN;
    body_len = strlen(body);
    raw_max = body_len / 4 * 3 + 3;
    raw = malloc(raw_max);
    if (raw == NULL) {
        seterr(err, errlen, "out of memory opening a sealed secret");
        rc = ASC_ENOMEM;
        goto out;
    }
    if (sodium_base642bin(raw, raw_max, body, body_len, NULL, &raw_len, &end, B64_URL) != 0 ||
        end != body + body_len) {
        seterr(err, errlen, "sealed secret is not valid base64url");
        rc = ASC_EINVAL;
        goto out;
    }
    /* Too short to hold a nonce and a tag: cut, so refused like any other
     * alteration. */
    if (raw_len < NONCE_BYTES + TAG_BYTES) {
        seterr(err, errlen, "%s", open_refused);
        rc = ASC_EDENIED;
        goto out;
    }
    pt = malloc(raw_len - NONCE_BYTES - TAG_BYTES + 1);
    if (pt == NULL) {
        seterr(err, errlen, "out of memory opening a sealed secret");
        rc = ASC_ENOMEM;
        goto out;
    }
    if (crypto_aead_xchacha20poly1305_ietf_decrypt(
            (unsigned char *)pt, &pt_len, NULL, raw + NONCE_BYTES, raw_len - NONCE_BYTES,
            (const unsigned char *)ad, strlen(ad), raw, b->key) != 0) {
        seterr(err, errlen, "%s", open_refused);
        rc = ASC_EDENIED;
        goto out;
    }
    pt[pt_len] = '\0';
    *plaintext = pt;
    if (len != NULL)
        *len = (size_t)pt_len;
    pt = NULL;
out:
    if (pt != NULL) {
        sodium_memzero(pt, raw_len - NONCE_BYTES - TAG_BYTES + 1);
        free(pt);
    }
    free(raw);
    return rc;
}

int asc_secret_is_sealed(const char *s)
{
    return s != NULL && strncmp(s, sealed_prefix, SEALED_PREFIX_LEN) == 0;
}

void asc_secret_last4(const char *secret, size_t len, char out[5])
{
    if (secret == NULL || len < 12) {
        out[0] = '\0';
        return;
    }
    memcpy(out, secret + len - 4, 4);
    out[4] = '\0';
}

void asc_secret_wipe_free(char *p)
{
    if (p == NULL)
        return;
#if defined(__linux__)
    /* The whole allocation, so bytes after an inner NUL are wiped too. */
    sodium_memzero(p, malloc_usable_size(p));
#else
    sodium_memzero(p, strlen(p));
#endif
    free(p);
}

void asc_secret_box_fingerprint(const asc_secret_box_t *b, char out[17])
{
    unsigned char h[crypto_generichash_BYTES];
    char hex[2 * crypto_generichash_BYTES + 1];

    crypto_generichash(h, sizeof h, (const unsigned char *)fingerprint_msg,
                       sizeof fingerprint_msg - 1, b->key, KEY_BYTES);
    sodium_bin2hex(hex, sizeof hex, h, sizeof h);
    memcpy(out, hex, 16);
    out[16] = '\0';
    sodium_memzero(h, sizeof h);
    sodium_memzero(hex, sizeof hex);
}

/*
 * The secret store: provider credentials sealed at rest with libsodium's
 * XChaCha20-Poly1305 (IETF AEAD) under a 256-bit master key.
 *
 * The master key comes from ASC_MASTER_KEY (64 hex characters or 43/44
 * base64 characters of 32 bytes) or from a key file; in the embedded
 * default a key file <data_dir>/master-key is generated (mode 0600) on
 * first start with a warning that production should pass ASC_MASTER_KEY.
 *
 * A sealed value is the text "sealed:v1:" + base64url(nonce || ciphertext).
 * The associated data binds it to its object ("credential:<name>"), so a
 * ciphertext copied onto another credential does not open.
 *
 * Ownership: strings handed out are malloc'd; plaintext buffers are wiped
 * by asc_secret_wipe_free(). The master key lives in sodium_malloc'd,
 * mprotect'd memory. Nothing here logs a secret.
 */
#ifndef ASC_SECRET_SECRET_H
#define ASC_SECRET_SECRET_H

#include <stddef.h>

#include "core/err.h"

typedef struct asc_secret_box asc_secret_box_t;

/* Load the master key: from env_value (the value of ASC_MASTER_KEY, or
 * NULL: 64 hex characters, or base64 of exactly 32 bytes in the standard or
 * url-safe alphabet, padded or not; surrounding whitespace is ignored),
 * else from key_file (64 hex characters and a newline; created with a fresh
 * key, mode 0600 and missing parent directories 0700, when absent and
 * `generate` is set; *generated is set to 1 then so the caller can warn,
 * else to 0; `generated` may be NULL). An existing key file is never
 * rewritten. Fails with a clear message (never the key) and *out NULL:
 * ASC_EINVAL on a malformed key or key file, ASC_EDENIED on a key file with
 * any group/other permission bit, ASC_ENOTFOUND on a missing file without
 * `generate`, ASC_EIO on a system call failure. */
asc_err_t asc_secret_box_open(const char *env_value, const char *key_file, int generate,
                              asc_secret_box_t **out, int *generated, char *err, size_t errlen);
void asc_secret_box_close(asc_secret_box_t *b);

/* Seal plaintext[0..len) bound to `ad` (e.g. "credential:openai-acme";
 * NULL is the same as ""), under a fresh random nonce, so two seals of one
 * plaintext differ. *sealed gets "sealed:v1:..." (malloc'd, free()). Fails
 * with ASC_ENOMEM or ASC_ETOOBIG, *sealed NULL. */
asc_err_t asc_secret_seal(const asc_secret_box_t *b, const char *ad, const char *plaintext,
                          size_t len, char **sealed, char *err, size_t errlen);

/* Open a sealed value. *plaintext is malloc'd and NUL-terminated (free with
 * asc_secret_wipe_free), *len (when not NULL) its length, which counts any
 * NUL bytes inside. Fails with *plaintext NULL: ASC_EINVAL when the value
 * lacks the "sealed:v1:" prefix or is not base64url; ASC_EDENIED when it was
 * sealed under another key or for another `ad`, or was altered or cut. */
asc_err_t asc_secret_open(const asc_secret_box_t *b, const char *ad, const char *sealed,
                          char **plaintext, size_t *len, char *err, size_t errlen);

/* 1 when s looks like a sealed value ("sealed:v1:"). */
int asc_secret_is_sealed(const char *s);

/* The last 4 characters of a secret into out[5]; "" when it is shorter
 * than 12, to leak nothing of short secrets. */
void asc_secret_last4(const char *secret, size_t len, char out[5]);

/* Wipe the whole malloc'd block (past inner NUL bytes) and free it.
 * NULL-safe. */
void asc_secret_wipe_free(char *p);

/* A short, non-secret fingerprint of the master key (the first 16 hex
 * chars of BLAKE2b of "asc-master-key-fingerprint" keyed with it) so
 * operators and the store can tell which key sealed what: the store records
 * it and refuses to start with a different key. */
void asc_secret_box_fingerprint(const asc_secret_box_t *b, char out[17]);

#endif

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
 * NULL), else from key_file (read; created with a fresh key when absent
 * and `generate` is set; *generated is set then so the caller can warn).
 * Fails with a clear message (never the key) on a malformed key, a key file
 * readable by group/others, or a missing file without `generate`. */
asc_err_t asc_secret_box_open(const char *env_value, const char *key_file, int generate,
                              asc_secret_box_t **out, int *generated, char *err,
                              size_t errlen);
void asc_secret_box_close(asc_secret_box_t *b);

/* Seal plaintext[0..len) bound to `ad` (e.g. "credential:openai-acme").
 * *sealed gets "sealed:v1:..." (malloc'd). */
asc_err_t asc_secret_seal(const asc_secret_box_t *b, const char *ad, const char *plaintext,
                          size_t len, char **sealed, char *err, size_t errlen);

/* Open a sealed value. *plaintext is malloc'd and NUL-terminated (free with
 * asc_secret_wipe_free); fails with ASC_EDENIED when the value was sealed
 * under another key or for another `ad`, or was altered. */
asc_err_t asc_secret_open(const asc_secret_box_t *b, const char *ad, const char *sealed,
                          char **plaintext, size_t *len, char *err, size_t errlen);

/* 1 when s looks like a sealed value ("sealed:v1:"). */
int asc_secret_is_sealed(const char *s);

/* The last 4 characters of a secret (fewer when it is shorter than 12,
 * to leak nothing of short secrets: then ""), into out[5]. */
void asc_secret_last4(const char *secret, size_t len, char out[5]);

/* Wipe and free. */
void asc_secret_wipe_free(char *p);

/* A short, non-secret fingerprint of the master key (first 8 hex chars of
 * a keyed hash) so operators and the store can tell which key sealed what:
 * the store records it and refuses to start with a different key. */
void asc_secret_box_fingerprint(const asc_secret_box_t *b, char out[17]);

#endif

/*
 * Virtual keys: generated as "sk-asc-" + 43 base64url characters (256 bits),
 * stored and looked up only as SHA-256 hashes; the final comparison is
 * constant-time (sodium_memcmp), so neither lookup nor comparison leaks the
 * key through timing.
 */
#ifndef ASC_AUTH_KEY_H
#define ASC_AUTH_KEY_H

#include <stddef.h>
#include <stdint.h>

#include "gateway/snapshot.h"
#include "http/server.h"

/* Write a new random key into out (at least 51 bytes). */
void asc_key_generate(char *out, size_t outlen);

/* SHA-256 of key[0..len). */
void asc_key_hash(const char *key, size_t len, uint8_t out[32]);

/* The key presented by the request: "Authorization: Bearer K" or
 * "x-api-key: K". NULL when absent; *len gets its length. */
const char *asc_key_from_request(const asc_http_req_t *req, size_t *len);

/* The snapshot's key whose hash matches, or NULL. */
asc_key_rt_t *asc_key_lookup(const asc_snapshot_t *s, const char *key, size_t len);

/* 1 when the allow-lists of the key, its team and its tenant all admit
 * `model` (a public name or "<provider>/<model>"). */
int asc_key_allows(const asc_key_rt_t *k, const char *model);

/* 1 when the key (or a rotated-out secret past its overlap) has expired. */
int asc_key_expired(const asc_key_rt_t *k, uint64_t now_ms);

/* Note a use of the key (last_used_s, flushed to the store by the control
 * plane). The snapshot is shared: this is the one field a request writes. */
void asc_key_touch(asc_key_rt_t *k, uint64_t now_ms);

#endif

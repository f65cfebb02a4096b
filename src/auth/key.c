#include "auth/key.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <sodium.h>

void asc_key_generate(char *out, size_t outlen)
{
    unsigned char raw[32];
    randombytes_buf(raw, sizeof raw);
    char b64[64];
    sodium_bin2base64(b64, sizeof b64, raw, sizeof raw, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    snprintf(out, outlen, "sk-asc-%s", b64);
    sodium_memzero(raw, sizeof raw);
    sodium_memzero(b64, sizeof b64);
}

void asc_key_hash(const char *key, size_t len, uint8_t out[32])
{
    crypto_hash_sha256(out, (const unsigned char *)key, len);
}

const char *asc_key_from_request(const asc_http_req_t *req, size_t *len)
{
    size_t n = 0;
    const char *v = asc_http_req_header(req, "authorization", &n);
    if (v != NULL) {
        if (n > 7 && strncasecmp(v, "Bearer ", 7) == 0) {
            v += 7;
            n -= 7;
            while (n > 0 && *v == ' ') {
                v++;
                n--;
            }
            *len = n;
            return n ? v : NULL;
        }
        return NULL;
    }
    v = asc_http_req_header(req, "x-api-key", &n);
    if (v != NULL && n > 0) {
        *len = n;
        return v;
    }
    return NULL;
}

asc_key_rt_t *asc_key_lookup(const asc_snapshot_t *s, const char *key, size_t len)
{
    uint8_t h[32];
    if (key == NULL || len == 0 || len > 512)
        return NULL;
    asc_key_hash(key, len, h);
    /* Binary search on the hash; the hash of a guess reveals nothing useful
     * about stored hashes, and the final check is constant-time. */
    size_t lo = 0, hi = s->nkeys;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = memcmp(s->keys[mid].hash, h, 32);
        if (c == 0)
            break;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    asc_key_rt_t *found = NULL;
    if (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (sodium_memcmp(s->keys[mid].hash, h, 32) == 0)
            found = &s->keys[mid];
    }
    sodium_memzero(h, sizeof h);
    return found;
}

static int patterns_allow(char *const *pats, size_t n, const char *model)
{
    if (pats == NULL)
        return 1;
    for (size_t i = 0; i < n; i++)
        if (asc_config_pattern_match(pats[i], model))
            return 1;
    return 0;
}

int asc_key_allows(const asc_key_rt_t *k, const char *model)
{
    /* The key's own list, its team's and its tenant's: all must admit it
     * (validation keeps each within the next, this is the belt to it). */
    if (!patterns_allow(k->cfg->models, k->cfg->nmodels, model))
        return 0;
    if (k->team != NULL && !patterns_allow(k->team->models, k->team->nmodels, model))
        return 0;
    if (k->tenant != NULL && !patterns_allow(k->tenant->models, k->tenant->nmodels, model))
        return 0;
    return 1;
}

int asc_key_expired(const asc_key_rt_t *k, uint64_t now_ms)
{
    return k->expires_at > 0 && (int64_t)now_ms >= k->expires_at;
}

void asc_key_touch(asc_key_rt_t *k, uint64_t now_ms)
{
    int64_t s = (int64_t)(now_ms / 1000);
    /* one store per key per second at most: the line is shared by workers */
    if (atomic_load_explicit(&k->last_used_s, memory_order_relaxed) < s)
        atomic_store_explicit(&k->last_used_s, s, memory_order_relaxed);
}

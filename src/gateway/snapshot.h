/*
 * The data plane's view of the configuration: an immutable snapshot compiled
 * from a validated asc_config_t (keys by hash, models by name, providers with
 * their resolved credentials and prebuilt upstream headers). A reload builds
 * a new snapshot and publishes it; requests keep the snapshot they started
 * with (reference counted), so none sees a half-applied config.
 */
#ifndef ASC_GATEWAY_SNAPSHOT_H
#define ASC_GATEWAY_SNAPSHOT_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include <curl/curl.h>

#include "config/config.h"
#include "core/err.h"
#include "provider/adapter.h"

typedef struct {
    const char *name;
    const char *kind;
    const asc_adapter_t *adapter;
    char *base_url;
    char *chat_url;
    char *embeddings_url;
    struct curl_slist *headers; /* Content-Type, Expect:, credential; built once */
    char key_hint[8];           /* "...abcd" or "" */
    const char *cred_name;      /* the credential object serving by default, NULL = api_key */
    const asc_config_provider_t *cfg;
} asc_provider_rt_t;

/* A tenant's own credential for a provider (bring your own key): used for
 * that tenant's traffic only, in place of the provider's default. */
typedef struct {
    const char *provider;
    const char *tenant;
    const char *name;
    struct curl_slist *headers; /* the provider's headers with this credential */
} asc_cred_rt_t;

struct asc_route_rt; /* route/route.h */

typedef struct {
    const char *name;
    uint8_t hash[32];
    const asc_config_key_t *cfg;
    const asc_config_tenant_t *tenant; /* NULL for a platform key */
    const asc_config_team_t *team;
    /* Effective residency: the key's regions, else its team's, else its
     * tenant's (each within the next by validation); NULL = anywhere. */
    char *const *regions;
    size_t nregions;
    int64_t expires_at;          /* unix ms, 0 = never (also ends a rotation's overlap) */
    _Atomic int64_t last_used_s; /* unix seconds of the last authenticated request */
    int64_t flushed_s;           /* last_used_s as last written to the store (control thread) */
} asc_key_rt_t;

typedef struct asc_snapshot {
    atomic_int refs;
    unsigned revision;
    asc_config_t *cfg;
    asc_provider_rt_t *providers;
    size_t nproviders;
    struct asc_route_rt *routes; /* one per public model name, sorted by name */
    size_t nroutes;
    asc_key_rt_t *keys; /* sorted by hash; a key in a rotation overlap appears twice */
    size_t nkeys;
    asc_cred_rt_t *creds; /* tenant-scoped credentials, sorted by (provider, tenant) */
    size_t ncreds;
} asc_snapshot_t;

typedef struct {
    const char *data_dir; /* where the dev key lives */
    /* Opens sealed credentials (secret/secret.h); NULL = none can be used. */
    const struct asc_secret_box *box;
    int mock_port; /* port of the in-process mock, 0 = none running */
    /* Out: set when a dev key was generated during this build (print it
     * once, then wipe). */
    int generated;
    char generated_key[64];
} asc_snapshot_ctx_t;

/* Compile cfg (ownership taken, also on failure) into a snapshot with one
 * reference. Providers whose optional credential is absent are left out,
 * and so are route targets that name them (and routes left with none). On failure returns an error
 * and a message in err; *out is NULL. */
asc_err_t asc_snapshot_build(asc_config_t *cfg, asc_snapshot_ctx_t *ctx, unsigned revision,
                             asc_snapshot_t **out, char *err, size_t errlen);

/* 1 when cfg has a provider of kind mock without base_url (needs the
 * in-process mock). */
int asc_snapshot_needs_mock(const asc_config_t *cfg);

/* Take and drop references. */
asc_snapshot_t *asc_snapshot_ref(asc_snapshot_t *s);
void asc_snapshot_unref(asc_snapshot_t *s);

/* The published snapshot (a new reference), or NULL before the first. */
asc_snapshot_t *asc_snapshot_current(void);
/* Publish s (the reference passed is taken); the previous one is released
 * when its last request ends. */
void asc_snapshot_publish(asc_snapshot_t *s);

/* The credential headers for provider p serving a request of tenant (may
 * be NULL): the tenant's own credential when it has one, else the
 * provider's default. *cred gets the credential's name (NULL when the
 * provider's api_key reference serves). */
const struct curl_slist *asc_snapshot_credential(const asc_snapshot_t *s,
                                                 const asc_provider_rt_t *p, const char *tenant,
                                                 const char **cred);

/* Lookups (borrowed from the snapshot). */
const struct asc_route_rt *asc_snapshot_route(const asc_snapshot_t *s, const char *name);
const asc_provider_rt_t *asc_snapshot_provider(const asc_snapshot_t *s, const char *name,
                                               size_t len);

#endif

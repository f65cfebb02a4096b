#include "gateway/snapshot.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "auth/key.h"
#include "core/buf.h"
#include "core/log.h"
#include "route/route.h"
#include "secret/secret.h"

static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
static asc_snapshot_t *g_current;

int asc_snapshot_needs_mock(const asc_config_t *cfg)
{
    for (size_t i = 0; i < cfg->nproviders; i++)
        if (strcmp(cfg->providers[i].kind, "mock") == 0 && cfg->providers[i].base_url == NULL)
            return 1;
    return 0;
}

/* The credential lives in the header list: wipe before freeing. */
static void wipe_headers(struct curl_slist *headers)
{
    for (struct curl_slist *h = headers; h != NULL; h = h->next)
        sodium_memzero(h->data, strlen(h->data));
    curl_slist_free_all(headers);
}

static void snapshot_free(asc_snapshot_t *s)
{
    if (s == NULL)
        return;
    for (size_t i = 0; i < s->nproviders; i++) {
        asc_provider_rt_t *p = &s->providers[i];
        free(p->base_url);
        free(p->chat_url);
        free(p->embeddings_url);
        wipe_headers(p->headers);
    }
    for (size_t i = 0; i < s->ncreds; i++)
        wipe_headers(s->creds[i].headers);
    free(s->creds);
    asc_route_free_all(s);
    free(s->providers);
    free(s->keys);
    asc_config_free(s->cfg);
    free(s);
}

asc_snapshot_t *asc_snapshot_ref(asc_snapshot_t *s)
{
    atomic_fetch_add(&s->refs, 1);
    return s;
}

void asc_snapshot_unref(asc_snapshot_t *s)
{
    if (s != NULL && atomic_fetch_sub(&s->refs, 1) == 1)
        snapshot_free(s);
}

asc_snapshot_t *asc_snapshot_current(void)
{
    pthread_mutex_lock(&g_lock);
    asc_snapshot_t *s = g_current ? asc_snapshot_ref(g_current) : NULL;
    pthread_mutex_unlock(&g_lock);
    return s;
}

void asc_snapshot_publish(asc_snapshot_t *s)
{
    pthread_mutex_lock(&g_lock);
    asc_snapshot_t *old = g_current;
    g_current = s;
    pthread_mutex_unlock(&g_lock);
    asc_snapshot_unref(old);
}

/* Read a secret reference: env:VAR or file:/path. *value is malloc'd (NULL
 * when an env var is unset or empty). */
static asc_err_t resolve_ref(const char *ref, char **value, char *err, size_t errlen)
{
    *value = NULL;
    if (strncmp(ref, "env:", 4) == 0) {
        const char *v = getenv(ref + 4);
        if (v != NULL && v[0] != '\0')
            *value = strdup(v);
        return ASC_OK;
    }
    if (strncmp(ref, "file:", 5) == 0) {
        FILE *f = fopen(ref + 5, "r");
        if (f == NULL) {
            snprintf(err, errlen, "cannot read %s: %s", ref + 5, strerror(errno));
            return ASC_EIO;
        }
        char buf[4096];
        size_t n = fread(buf, 1, sizeof buf - 1, f);
        fclose(f);
        while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r' || buf[n - 1] == ' '))
            n--;
        buf[n] = '\0';
        if (n > 0)
            *value = strdup(buf);
        sodium_memzero(buf, sizeof buf);
        return ASC_OK;
    }
    snprintf(err, errlen, "unsupported secret reference");
    return ASC_EINVAL;
}

/* A credential's secret: env:, file: or sealed: (opened with the master
 * key, bound to the credential's name). */
static asc_err_t credential_secret(const asc_snapshot_ctx_t *ctx, const asc_config_credential_t *cr,
                                   char **value, char *err, size_t errlen)
{
    char e2[256];
    asc_err_t e;
    *value = NULL;
    if (!asc_secret_is_sealed(cr->api_key_ref)) {
        e = resolve_ref(cr->api_key_ref, value, e2, sizeof e2);
    } else if (ctx->box == NULL) {
        snprintf(e2, sizeof e2, "no master key to open it");
        e = ASC_EINVAL;
    } else {
        char ad[128];
        size_t len = 0;
        snprintf(ad, sizeof ad, "credential:%s", cr->name);
        e = asc_secret_open(ctx->box, ad, cr->api_key_ref, value, &len, e2, sizeof e2);
    }
    if (e != ASC_OK) {
        snprintf(err, errlen, "credentials.%s.api_key: %s", cr->name, e2);
        return e;
    }
    if (*value == NULL) {
        snprintf(err, errlen, "credentials.%s.api_key: %s is not set", cr->name, cr->api_key_ref);
        return ASC_EINVAL;
    }
    return ASC_OK;
}

/* The provider's headers with `secret` (may be NULL) as its credential. */
static struct curl_slist *provider_headers(const asc_adapter_t *a, const char *secret)
{
    struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/json");
    h = curl_slist_append(h, "Expect:");
    h = curl_slist_append(h, "Accept:");
    for (const char *const *sh = a->static_headers; sh != NULL && *sh != NULL; sh++)
        h = curl_slist_append(h, *sh);
    if (secret != NULL) {
        asc_buf_t b;
        asc_buf_init(&b, 0);
        a->auth_header(secret, &b);
        h = curl_slist_append(h, b.data);
        sodium_memzero(b.data, b.len);
        asc_buf_free(&b);
    }
    return h;
}

static const asc_config_credential_t *global_credential(const asc_config_t *cfg,
                                                        const char *provider)
{
    for (size_t i = 0; i < cfg->ncredentials; i++)
        if (cfg->credentials[i].tenant == NULL &&
            strcmp(cfg->credentials[i].provider, provider) == 0)
            return &cfg->credentials[i];
    return NULL;
}

/* A key's tenant, team and effective residency. */
static void key_scope(const asc_config_t *cfg, const asc_config_key_t *kc, asc_key_rt_t *k)
{
    k->name = kc->name;
    k->cfg = kc;
    k->tenant = asc_config_find_tenant(cfg, kc->tenant);
    k->team = asc_config_find_team(cfg, kc->team);
    k->expires_at = kc->expires_at;
    if (kc->regions != NULL) {
        k->regions = kc->regions;
        k->nregions = kc->nregions;
    } else if (k->team != NULL && k->team->regions != NULL) {
        k->regions = k->team->regions;
        k->nregions = k->team->nregions;
    } else if (k->tenant != NULL) {
        k->regions = k->tenant->regions;
        k->nregions = k->tenant->nregions;
    }
}

static int cred_cmp(const void *a, const void *b)
{
    const asc_cred_rt_t *x = a, *y = b;
    int c = strcmp(x->provider, y->provider);
    return c != 0 ? c : strcmp(x->tenant, y->tenant);
}

/* Tenant-scoped credentials of providers that are enabled. */
static asc_err_t build_credentials(asc_snapshot_t *s, asc_snapshot_ctx_t *ctx, char *err,
                                   size_t errlen)
{
    const asc_config_t *cfg = s->cfg;
    s->creds = calloc(cfg->ncredentials + 1, sizeof *s->creds);
    if (s->creds == NULL)
        return ASC_ENOMEM;
    for (size_t i = 0; i < cfg->ncredentials; i++) {
        const asc_config_credential_t *cr = &cfg->credentials[i];
        if (cr->tenant == NULL)
            continue;
        const asc_provider_rt_t *p = asc_snapshot_provider(s, cr->provider, strlen(cr->provider));
        if (p == NULL)
            continue;
        char *secret = NULL;
        asc_err_t e = credential_secret(ctx, cr, &secret, err, errlen);
        if (e != ASC_OK)
            return e;
        asc_cred_rt_t *c = &s->creds[s->ncreds++];
        c->provider = p->name;
        c->tenant = cr->tenant;
        c->name = cr->name;
        c->headers = provider_headers(p->adapter, secret);
        sodium_memzero(secret, strlen(secret));
        free(secret);
    }
    qsort(s->creds, s->ncreds, sizeof *s->creds, cred_cmp);
    return ASC_OK;
}

const struct curl_slist *asc_snapshot_credential(const asc_snapshot_t *s,
                                                 const asc_provider_rt_t *p, const char *tenant,
                                                 const char **cred)
{
    if (tenant != NULL && s->ncreds > 0) {
        asc_cred_rt_t k = {.provider = p->name, .tenant = tenant};
        const asc_cred_rt_t *c = bsearch(&k, s->creds, s->ncreds, sizeof *s->creds, cred_cmp);
        if (c != NULL) {
            *cred = c->name;
            return c->headers;
        }
    }
    *cred = p->cred_name;
    return p->headers;
}

static int key_cmp(const void *a, const void *b)
{
    return memcmp(((const asc_key_rt_t *)a)->hash, ((const asc_key_rt_t *)b)->hash, 32);
}

/* The dev key of the data directory: read it, or create it (mode 0600). */
static asc_err_t dev_key(asc_snapshot_ctx_t *ctx, char *key, size_t keylen, char *err,
                         size_t errlen)
{
    char path[4096];
    const char *dir = ctx->data_dir ? ctx->data_dir : "./asc-data";
    snprintf(path, sizeof path, "%s/dev-key", dir);
    FILE *f = fopen(path, "r");
    if (f != NULL) {
        size_t n = fread(key, 1, keylen - 1, f);
        fclose(f);
        while (n > 0 && (key[n - 1] == '\n' || key[n - 1] == '\r'))
            n--;
        key[n] = '\0';
        if (n >= 16)
            return ASC_OK;
        snprintf(err, errlen, "%s: not a valid dev key file", path);
        return ASC_EINVAL;
    }
    if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
        snprintf(err, errlen, "cannot create data directory %s: %s", dir, strerror(errno));
        return ASC_EIO;
    }
    asc_key_generate(key, keylen);
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
    if (fd < 0) {
        snprintf(err, errlen, "cannot create %s: %s", path, strerror(errno));
        return ASC_EIO;
    }
    size_t kl = strlen(key);
    int ok = write(fd, key, kl) == (ssize_t)kl && write(fd, "\n", 1) == 1;
    close(fd);
    if (!ok) {
        snprintf(err, errlen, "cannot write %s", path);
        return ASC_EIO;
    }
    ctx->generated = 1;
    snprintf(ctx->generated_key, sizeof ctx->generated_key, "%s", key);
    return ASC_OK;
}

static asc_err_t build_provider(const asc_config_t *cfg, const asc_config_provider_t *pc,
                                asc_snapshot_ctx_t *ctx, asc_provider_rt_t *p, int *skip, char *err,
                                size_t errlen)
{
    *skip = 0;
    memset(p, 0, sizeof *p);
    p->cfg = pc;
    p->name = pc->name;
    p->kind = pc->kind;
    p->adapter = asc_adapter_for_kind(pc->kind);
    if (p->adapter == NULL) {
        snprintf(err, errlen, "providers.%s: kind \"%s\" is not supported by this build yet",
                 pc->name, pc->kind);
        return ASC_EUNSUPPORTED;
    }
    char *secret = NULL;
    const asc_config_credential_t *cred = global_credential(cfg, pc->name);
    if (cred != NULL) {
        asc_err_t e = credential_secret(ctx, cred, &secret, err, errlen);
        if (e != ASC_OK)
            return e;
        p->cred_name = cred->name;
    } else if (pc->api_key_ref != NULL) {
        char e2[256];
        if (resolve_ref(pc->api_key_ref, &secret, e2, sizeof e2) != ASC_OK) {
            snprintf(err, errlen, "providers.%s.api_key: %s", pc->name, e2);
            return ASC_EINVAL;
        }
        if (secret == NULL) {
            if (pc->optional) {
                *skip = 1;
                return ASC_OK;
            }
            snprintf(err, errlen, "providers.%s.api_key: %s is not set", pc->name, pc->api_key_ref);
            return ASC_EINVAL;
        }
    }
    char mock_url[64];
    const char *base = pc->base_url;
    if (base == NULL) {
        if (ctx->mock_port <= 0) {
            snprintf(err, errlen, "providers.%s: the in-process mock is not running", pc->name);
            free(secret);
            return ASC_EINVAL;
        }
        snprintf(mock_url, sizeof mock_url, "http://127.0.0.1:%d/v1", ctx->mock_port);
        base = mock_url;
    }
    p->base_url = strdup(base);
    asc_buf_t b;
    asc_buf_init(&b, 0);
    asc_buf_printf(&b, "%s%s", base, p->adapter->chat_path);
    p->chat_url = asc_buf_take(&b, NULL);
    if (p->adapter->embeddings_path != NULL) {
        asc_buf_printf(&b, "%s%s", base, p->adapter->embeddings_path);
        p->embeddings_url = asc_buf_take(&b, NULL);
    }
    p->headers = provider_headers(p->adapter, secret);
    if (secret != NULL) {
        asc_log_key_hint(secret, strlen(secret), p->key_hint);
        sodium_memzero(secret, strlen(secret));
        free(secret);
    }
    asc_buf_free(&b);
    return ASC_OK;
}

asc_err_t asc_snapshot_build(asc_config_t *cfg, asc_snapshot_ctx_t *ctx, unsigned revision,
                             asc_snapshot_t **out, char *err, size_t errlen)
{
    asc_err_t rc = ASC_OK;
    *out = NULL;
    asc_snapshot_t *s = calloc(1, sizeof *s);
    if (s == NULL) {
        asc_config_free(cfg);
        return ASC_ENOMEM;
    }
    atomic_init(&s->refs, 1);
    s->revision = revision;
    s->cfg = cfg;
    s->providers = calloc(cfg->nproviders + 1, sizeof *s->providers);
    s->keys = calloc(2 * cfg->nkeys + 1, sizeof *s->keys);
    if (s->providers == NULL || s->keys == NULL) {
        rc = ASC_ENOMEM;
        goto out;
    }
    for (size_t i = 0; i < cfg->nproviders; i++) {
        int skip = 0;
        rc = build_provider(cfg, &cfg->providers[i], ctx, &s->providers[s->nproviders], &skip, err,
                            errlen);
        if (rc != ASC_OK)
            goto out;
        if (skip)
            asc_log_info("provider %s disabled: %s is not set", cfg->providers[i].name,
                         cfg->providers[i].api_key_ref);
        else
            s->nproviders++;
    }
    rc = asc_route_compile_all(s, err, errlen);
    if (rc != ASC_OK)
        goto out;
    rc = build_credentials(s, ctx, err, errlen);
    if (rc != ASC_OK)
        goto out;
    for (size_t i = 0; i < cfg->nkeys; i++) {
        const asc_config_key_t *kc = &cfg->keys[i];
        asc_key_rt_t *k = &s->keys[s->nkeys];
        if (kc->revoked)
            continue;
        key_scope(cfg, kc, k);
        if (kc->previous_key_ref != NULL && kc->previous_expires_at > 0) {
            /* the rotated-out secret, until its overlap ends */
            asc_key_rt_t *old = &s->keys[s->nkeys + 1];
            *old = *k;
            sodium_hex2bin(old->hash, 32, kc->previous_key_ref + 7, 64, NULL, NULL, NULL);
            old->expires_at = kc->expires_at && kc->expires_at < kc->previous_expires_at
                                  ? kc->expires_at
                                  : kc->previous_expires_at;
        }
        if (strncmp(kc->key_ref, "sha256:", 7) == 0) {
            if (sodium_hex2bin(k->hash, 32, kc->key_ref + 7, 64, NULL, NULL, NULL) != 0) {
                snprintf(err, errlen, "keys.%s.key: invalid sha256 hash", kc->name);
                rc = ASC_EINVAL;
                goto out;
            }
        } else {
            char *secret = NULL;
            char e2[256];
            if (resolve_ref(kc->key_ref, &secret, e2, sizeof e2) != ASC_OK) {
                snprintf(err, errlen, "keys.%s.key: %s", kc->name, e2);
                rc = ASC_EINVAL;
                goto out;
            }
            char gen[64];
            if (secret == NULL && kc->generate) {
                rc = dev_key(ctx, gen, sizeof gen, err, errlen);
                if (rc != ASC_OK)
                    goto out;
                secret = strdup(gen);
                sodium_memzero(gen, sizeof gen);
            }
            if (secret == NULL) {
                asc_log_warn("key %s disabled: %s is not set", kc->name, kc->key_ref);
                continue;
            }
            asc_key_hash(secret, strlen(secret), k->hash);
            sodium_memzero(secret, strlen(secret));
            free(secret);
        }
        s->nkeys++;
        if (kc->previous_key_ref != NULL && kc->previous_expires_at > 0)
            s->nkeys++;
    }
    qsort(s->keys, s->nkeys, sizeof *s->keys, key_cmp);
out:
    if (rc != ASC_OK) {
        snapshot_free(s);
        return rc;
    }
    *out = s;
    return ASC_OK;
}

static int route_name_cmp(const void *k, const void *r)
{
    return strcmp((const char *)k, ((const asc_route_rt_t *)r)->name);
}

const asc_route_rt_t *asc_snapshot_route(const asc_snapshot_t *s, const char *name)
{
    return bsearch(name, s->routes, s->nroutes, sizeof *s->routes, route_name_cmp);
}

const asc_provider_rt_t *asc_snapshot_provider(const asc_snapshot_t *s, const char *name,
                                               size_t len)
{
    for (size_t i = 0; i < s->nproviders; i++)
        if (strlen(s->providers[i].name) == len && memcmp(s->providers[i].name, name, len) == 0)
            return &s->providers[i];
    return NULL;
}

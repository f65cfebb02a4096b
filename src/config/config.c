/* Loading (file -> text -> tree -> config), freeing, lookups, and the
 * small helpers the other files of src/config share. */
#include "config/config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config/internal.h"
#include "config/yaml.h"
#include "core/buf.h"

/* ---- helpers (internal.h) ---- */

void asc_config_quote(char *out, size_t outlen, const char *s)
{
    static const char hex[] = "0123456789abcdef";
    size_t o = 0, i;

    if (outlen == 0)
        return;
        /* Room for the worst case of one more item: \xNN plus "..." and NUL. */
#define ROOM(n) (o + (n) + 5 < outlen)
    if (ROOM(1))
        out[o++] = '"';
    for (i = 0; s[i] != '\0' && i < ASC_CONFIG_QUOTE_MAX; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch == '"' || ch == '\\') {
            if (!ROOM(2))
                break;
            out[o++] = '\\';
            out[o++] = (char)ch;
        } else if (ch >= 0x20 && ch < 0x7f) {
            if (!ROOM(1))
                break;
            out[o++] = (char)ch;
        } else {
            if (!ROOM(4))
                break;
            out[o++] = '\\';
            out[o++] = 'x';
            out[o++] = hex[ch >> 4];
            out[o++] = hex[ch & 15];
        }
    }
#undef ROOM
    if (s[i] != '\0' && o + 4 < outlen) {
        memcpy(out + o, "...", 3);
        o += 3;
    }
    if (o + 1 < outlen)
        out[o++] = '"';
    out[o] = '\0';
}

/* A key is printed bare when that cannot be misread as path syntax. */
static int bare_key(const char *k)
{
    size_t n = 0;
    for (; k[n] != '\0'; n++) {
        unsigned char ch = (unsigned char)k[n];
        if (ch <= 0x20 || ch >= 0x7f || ch == '"' || ch == '\\' || ch == '[' || ch == ']')
            return 0;
    }
    return n > 0 && n <= ASC_CONFIG_QUOTE_MAX;
}

void asc_config_path_key(char *out, size_t outlen, const char *parent, const char *key)
{
    char q[4 * ASC_CONFIG_QUOTE_MAX + 16];
    const char *sep = parent[0] ? "." : "";
    if (bare_key(key)) {
        snprintf(out, outlen, "%s%s%s", parent, sep, key);
        return;
    }
    asc_config_quote(q, sizeof q, key);
    snprintf(out, outlen, "%s%s%s", parent, sep, q);
}

void asc_config_path_index(char *out, size_t outlen, const char *parent, size_t i)
{
    snprintf(out, outlen, "%s[%zu]", parent, i);
}

int asc_config_env_name_ok(const char *s, size_t n)
{
    if (n == 0)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char ch = s[i];
        int alpha = (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || ch == '_';
        if (!alpha && !(i > 0 && ch >= '0' && ch <= '9'))
            return 0;
    }
    return 1;
}

/* ---- loading ---- */

static void prefix(char *err, size_t errlen, const char *source, const char *msg)
{
    if (errlen == 0)
        return;
    if (source != NULL)
        snprintf(err, errlen, "%s: %s", source, msg);
    else
        snprintf(err, errlen, "%s", msg);
}

/* Parse, expand ${VAR}, validate; each step's message gets the source
 * name in front. */
asc_err_t asc_config_load_text(const char *yaml, size_t len, const char *source_name,
                               asc_config_t **out, char *err, size_t errlen)
{
    char msg[1024];
    asc_err_t e;
    cJSON *root = NULL;

    *out = NULL;
    msg[0] = '\0';
    if (len > ASC_YAML_MAX_BYTES) {
        snprintf(msg, sizeof msg, "larger than %zu bytes", ASC_YAML_MAX_BYTES);
        e = ASC_ETOOBIG;
        goto out;
    }
    root = asc_yaml_parse(yaml, len, msg, sizeof msg);
    if (root == NULL) {
        e = strcmp(msg, "out of memory") == 0 ? ASC_ENOMEM : ASC_EINVAL;
        goto out;
    }
    e = asc_config_expand_env(root, msg, sizeof msg);
    if (e != ASC_OK)
        goto out;
    e = asc_config_from_json(root, out, msg, sizeof msg);
out:
    cJSON_Delete(root);
    if (e != ASC_OK)
        prefix(err, errlen, source_name, msg);
    else if (errlen)
        err[0] = '\0';
    return e;
}

/* Reads through an asc_buf_t bounded at ASC_YAML_MAX_BYTES, so a huge or
 * endless file (a FIFO, /dev/zero) fails cleanly. */
asc_err_t asc_config_load_file(const char *path, asc_config_t **out, char *err, size_t errlen)
{
    asc_buf_t b;
    asc_err_t e = ASC_OK;
    char chunk[65536];
    struct stat st;
    int fd;

    *out = NULL;
    asc_buf_init(&b, ASC_YAML_MAX_BYTES);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errlen)
            snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
        e = ASC_EIO;
        goto out;
    }
    if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
        if (errlen)
            snprintf(err, errlen, "%s: is a directory", path);
        e = ASC_EIO;
        goto out;
    }
    for (;;) {
        ssize_t n = read(fd, chunk, sizeof chunk);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            if (errlen)
                snprintf(err, errlen, "%s: cannot read: %s", path, strerror(errno));
            e = ASC_EIO;
            goto out;
        }
        if (n == 0)
            break;
        e = asc_buf_append(&b, chunk, (size_t)n);
        if (e == ASC_ETOOBIG) {
            if (errlen)
                snprintf(err, errlen, "%s: larger than %zu bytes", path, ASC_YAML_MAX_BYTES);
            goto out;
        }
        if (e != ASC_OK) {
            if (errlen)
                snprintf(err, errlen, "%s: out of memory", path);
            goto out;
        }
    }
    e = asc_config_load_text(b.data ? b.data : "", b.len, path, out, err, errlen);
out:
    if (fd >= 0)
        close(fd);
    asc_buf_free(&b);
    return e;
}

/* ---- freeing and lookups ---- */

void asc_config_targets_free(asc_config_target_t *t, size_t n)
{
    for (size_t i = 0; t != NULL && i < n; i++) {
        free(t[i].provider);
        free(t[i].model);
        free(t[i].region);
    }
    free(t);
}

static void strv_free(char **v, size_t n)
{
    for (size_t i = 0; v != NULL && i < n; i++)
        free(v[i]);
    free(v);
}

void asc_config_free(asc_config_t *c)
{
    if (c == NULL)
        return;
    free(c->server.listen);
    free(c->server.access_log);
    free(c->server.data_dir);
    for (size_t i = 0; i < c->nproviders; i++) {
        asc_config_provider_t *p = &c->providers[i];
        free(p->name);
        free(p->kind);
        free(p->base_url);
        free(p->api_key_ref);
        free(p->ca_file);
        free(p->proxy);
        free(p->region);
    }
    free(c->providers);
    for (size_t i = 0; i < c->nmodels; i++) {
        asc_config_model_t *m = &c->models[i];
        free(m->name);
        free(m->type);
        free(m->sticky_header);
        for (size_t g = 0; m->groups != NULL && g < m->ngroups; g++)
            asc_config_targets_free(m->groups[g].targets, m->groups[g].ntargets);
        free(m->groups);
        asc_config_targets_free(m->shadows, m->nshadows);
    }
    free(c->models);
    for (size_t i = 0; i < c->nkeys; i++) {
        asc_config_key_t *k = &c->keys[i];
        free(k->name);
        free(k->key_ref);
        strv_free(k->models, k->nmodels);
        strv_free(k->regions, k->nregions);
        free(k->tenant);
        free(k->team);
        free(k->owner);
        free(k->description);
        free(k->previous_key_ref);
        free(k->hint);
        free(k->limits.budget_period);
    }
    free(c->keys);
    for (size_t i = 0; i < c->ntenants; i++) {
        asc_config_tenant_t *t = &c->tenants[i];
        free(t->name);
        free(t->description);
        strv_free(t->models, t->nmodels);
        strv_free(t->regions, t->nregions);
        free(t->limits.budget_period);
    }
    free(c->tenants);
    for (size_t i = 0; i < c->nteams; i++) {
        asc_config_team_t *t = &c->teams[i];
        free(t->name);
        free(t->tenant);
        free(t->description);
        strv_free(t->models, t->nmodels);
        strv_free(t->regions, t->nregions);
        free(t->limits.budget_period);
    }
    free(c->teams);
    for (size_t i = 0; i < c->nusers; i++) {
        free(c->users[i].name);
        free(c->users[i].email);
        free(c->users[i].tenant);
        free(c->users[i].team);
    }
    free(c->users);
    for (size_t i = 0; i < c->ncredentials; i++) {
        free(c->credentials[i].name);
        free(c->credentials[i].provider);
        free(c->credentials[i].tenant);
        free(c->credentials[i].api_key_ref);
        free(c->credentials[i].last4);
    }
    free(c->credentials);
    asc_config_admin_t *a = &c->admin;
    free(a->listen);
    free(a->token_ref);
    free(a->oidc.issuer);
    free(a->oidc.client_id);
    free(a->oidc.client_secret_ref);
    free(a->oidc.audience);
    free(a->oidc.ca_file);
    free(a->oidc.redirect_url);
    free(a->oidc.group_claim);
    for (size_t i = 0; i < a->oidc.nroles; i++) {
        free(a->oidc.roles[i].role);
        free(a->oidc.roles[i].group);
        free(a->oidc.roles[i].tenant);
        free(a->oidc.roles[i].team);
    }
    free(a->oidc.roles);
    free(c);
}

const asc_config_tenant_t *asc_config_find_tenant(const asc_config_t *c, const char *name)
{
    for (size_t i = 0; name != NULL && i < c->ntenants; i++)
        if (strcmp(c->tenants[i].name, name) == 0)
            return &c->tenants[i];
    return NULL;
}

const asc_config_team_t *asc_config_find_team(const asc_config_t *c, const char *name)
{
    for (size_t i = 0; name != NULL && i < c->nteams; i++)
        if (strcmp(c->teams[i].name, name) == 0)
            return &c->teams[i];
    return NULL;
}

const asc_config_user_t *asc_config_find_user(const asc_config_t *c, const char *name)
{
    for (size_t i = 0; name != NULL && i < c->nusers; i++)
        if (strcmp(c->users[i].name, name) == 0)
            return &c->users[i];
    return NULL;
}

static const char *const role_names[] = {NULL,        "platform-admin", "tenant-admin",
                                         "developer", "auditor",        "finance"};

asc_rbac_role_t asc_config_role(const char *name)
{
    for (int r = ASC_RBAC_PLATFORM_ADMIN; name != NULL && r <= ASC_RBAC_FINANCE; r++)
        if (strcmp(role_names[r], name) == 0)
            return (asc_rbac_role_t)r;
    return ASC_RBAC_NONE;
}

const char *asc_config_role_name(asc_rbac_role_t r)
{
    return r > ASC_RBAC_NONE && r <= ASC_RBAC_FINANCE ? role_names[r] : "none";
}

/* Pattern containment as a two-pointer walk with memo: a's characters must
 * be matched by b's literal characters, and a '*' of a only by a '*' of b.
 * Both are at most 512 characters (the validator's limit), so the table is
 * bounded; longer inputs are answered conservatively (not within). */
int asc_config_pattern_within(const char *a, const char *b)
{
    size_t na = strlen(a), nb = strlen(b);
    if (na > 512 || nb > 512)
        return 0;
    /* ok[j] for the current i: b[j..] can absorb a[i..]. Filled from the end. */
    unsigned char *prev = calloc(nb + 1, 1), *cur = calloc(nb + 1, 1);
    int r = 0;
    if (prev == NULL || cur == NULL)
        goto out;
    /* i = na: the rest of b must be all '*' */
    prev[nb] = 1;
    for (size_t j = nb; j-- > 0;)
        prev[j] = b[j] == '*' && prev[j + 1];
    for (size_t i = na; i-- > 0;) {
        cur[nb] = 0;
        for (size_t j = nb; j-- > 0;) {
            if (b[j] == '*')
                cur[j] = cur[j + 1] || prev[j];
            else
                cur[j] = a[i] != '*' && a[i] == b[j] && prev[j + 1];
        }
        unsigned char *t = prev;
        prev = cur;
        cur = t;
    }
    r = prev[0];
out:
    free(prev);
    free(cur);
    return r;
}

const asc_config_provider_t *asc_config_find_provider(const asc_config_t *c, const char *name)
{
    for (size_t i = 0; i < c->nproviders; i++)
        if (strcmp(c->providers[i].name, name) == 0)
            return &c->providers[i];
    return NULL;
}

const asc_config_model_t *asc_config_find_model(const asc_config_t *c, const char *name)
{
    for (size_t i = 0; i < c->nmodels; i++)
        if (strcmp(c->models[i].name, name) == 0)
            return &c->models[i];
    return NULL;
}

/* Greedy glob with one backtrack point (the last '*'), which is enough
 * when '*' is the only wildcard: linear in practice, quadratic at worst. */
int asc_config_pattern_match(const char *pattern, const char *name)
{
    const char *p = pattern, *n = name;
    const char *star = NULL, *resume = NULL;

    while (*n != '\0') {
        if (*p == '*') {
            star = p++;
            resume = n;
        } else if (*p == *n) {
            p++;
            n++;
        } else if (star != NULL) {
            p = star + 1;
            n = ++resume;
        } else {
            return 0;
        }
    }
    while (*p == '*')
        p++;
    return *p == '\0';
}

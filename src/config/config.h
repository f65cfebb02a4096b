/*
 * asc configuration: YAML text -> cJSON tree (config/yaml.h) -> ${VAR}
 * expansion -> validated, typed asc_config_t. The admin API will hand the
 * same cJSON tree to asc_config_from_json(), so a file and an API call are
 * held to exactly the same rules. docs/config.md documents every field.
 *
 * Ownership: an asc_config_t and every string and array in it are
 * malloc'd and owned by the config; asc_config_free() releases all of it.
 * Pointer arguments are borrowed. Nothing in a config is a secret: keys and
 * provider credentials are references (env:VAR, file:/path, sha256:<hex>)
 * that the caller resolves.
 *
 * Errors: every function returns asc_err_t and writes one human message
 * into err (errlen bytes, always NUL-terminated when errlen > 0) naming the
 * offending path, e.g.
 *   models.gpt-4o.provider: unknown provider "opnai"
 *   providers[1].kind: unknown kind "azure" (expected one of: ...)
 *   server.max_body_bytes: must be an integer between 1024 and 1073741824
 * A message never repeats the value of an api_key or key field.
 */
#ifndef ASC_CONFIG_CONFIG_H
#define ASC_CONFIG_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "core/err.h"

typedef struct {
    char *name;                  /* [a-z0-9][a-z0-9_-]{0,62}, unique */
    char *kind;                  /* "openai", "openai-compatible", "anthropic", "mistral", "mock" */
    char *base_url;              /* http(s)://host[:port][/path], no trailing slash; NULL only for
                                    kind mock (= the in-process mock) */
    char *api_key_ref;           /* "env:VAR", "file:/abs/path" or NULL; never plaintext */
    int optional;                /* provider is disabled (not an error) when its env: api_key is
                                    unset or empty */
    char *ca_file;               /* extra CA bundle for upstream TLS, or NULL */
    char *proxy;                 /* proxy URL handed to libcurl, or NULL */
    char *region;                /* free-form region label, or NULL */
    uint64_t connect_timeout_ms; /* 10000 */
    uint64_t first_byte_timeout_ms; /* 60000 */
    uint64_t idle_timeout_ms;       /* 60000, between stream chunks */
    uint64_t total_timeout_ms;      /* 600000 */
} asc_config_provider_t;

/* One target of a route: a provider and an upstream model, with what the
 * router needs to choose it. Timeouts of 0 mean "the provider's". */
typedef struct {
    char *provider; /* name of a configured provider */
    char *model;    /* upstream model name */
    char *region;   /* NULL = the provider's region */
    double weight;  /* relative share in its group; 0 = never chosen first (default 1) */
    int canary;     /* watched by the canary guard against its group's other targets */
    double sample;  /* shadows only: share of requests mirrored, 0..1 (default 1) */
    uint64_t connect_timeout_ms, first_byte_timeout_ms, idle_timeout_ms, total_timeout_ms;
} asc_config_target_t;

/* Targets tried as one group: weighted choice first, then the others. */
typedef struct {
    asc_config_target_t *targets;
    size_t ntargets;
} asc_config_group_t;

typedef enum {
    ASC_STICKY_NONE = 0,
    ASC_STICKY_USER,   /* hash of (key, the request's user) */
    ASC_STICKY_KEY,    /* hash of the key */
    ASC_STICKY_HEADER, /* hash of (key, a request header) */
} asc_sticky_t;

typedef struct {
    unsigned failures;     /* consecutive failures that open it; 0 = never on count (5) */
    double error_rate;     /* failure ratio over the window that opens it; 0 = off (0.5) */
    unsigned min_requests; /* attempts in the window before error_rate applies (20) */
    uint64_t window_ms;    /* 30000, 1000..120000 */
    uint64_t cooldown_ms;  /* open -> half-open (10000) */
} asc_config_breaker_t;

typedef struct {
    uint64_t window_ms;          /* 60000, 1000..120000 */
    unsigned min_requests;       /* canary attempts in the window before judging (20) */
    double max_error_rate_delta; /* canary error rate - baseline's (0.1); > 1 = off */
    double max_ttft_p95_ratio;   /* canary p95 TTFT / baseline's (2.0); 0 = off */
} asc_config_guard_t;

typedef struct {
    char *name; /* public model name: 1-256 printable ASCII, no space, no '/' */
    char *type; /* "chat" (default) or "embedding" */
    /* groups[0] is the primary group, the rest are fallbacks in order. The
     * simple form {provider, model} is one group of one target. */
    asc_config_group_t *groups;
    size_t ngroups;
    asc_config_target_t *shadows; /* mirrored asynchronously, never answered from */
    size_t nshadows;
    asc_sticky_t sticky;
    char *sticky_header;         /* ASC_STICKY_HEADER: lowercase header name */
    unsigned retries;            /* extra attempts at the same target (1) */
    uint64_t backoff_ms;         /* first retry delay, doubled each time, full jitter (100) */
    uint64_t max_backoff_ms;     /* 2000 */
    uint64_t max_retry_after_ms; /* a longer Retry-After moves on to the next target (10000) */
    uint64_t timeout_ms;         /* budget for all attempts of a request (120000) */
    asc_config_breaker_t breaker;
    asc_config_guard_t guard;
    int has_guard; /* a canary_guard section was given (or a target is a canary) */
} asc_config_model_t;

/* Limits attached to a tenant, team or key (0 = not set). Validated (a
 * child's are within its parent's) and stored now; enforced by the policy
 * stage. */
typedef struct asc_config_limits {
    uint64_t rpm;        /* requests per minute */
    uint64_t tpm;        /* tokens per minute */
    double budget_usd;   /* spend per budget period */
    char *budget_period; /* "day", "week", "month" (default "month") */
} asc_config_limits_t;

typedef struct {
    char *name;        /* [A-Za-z0-9][A-Za-z0-9_.-]{0,63}, unique */
    char *description; /* or NULL */
    char **models;     /* allow-list patterns; NULL = no restriction */
    size_t nmodels;
    char **regions; /* allowed target regions; NULL = any */
    size_t nregions;
    asc_config_limits_t limits;
} asc_config_tenant_t;

typedef struct {
    char *name; /* unique across tenants */
    char *tenant;
    char *description;
    char **models; /* within the tenant's; NULL = the tenant's */
    size_t nmodels;
    char **regions;
    size_t nregions;
    asc_config_limits_t limits;
    size_t tenant_index; /* into asc_config_t.tenants */
} asc_config_team_t;

typedef enum {
    ASC_RBAC_NONE = 0,
    ASC_RBAC_PLATFORM_ADMIN,
    ASC_RBAC_TENANT_ADMIN,
    ASC_RBAC_DEVELOPER,
    ASC_RBAC_AUDITOR,
    ASC_RBAC_FINANCE,
} asc_rbac_role_t;

typedef struct {
    char *name;  /* the SSO subject or e-mail: 1-256 printable, no space */
    char *email; /* or NULL */
    asc_rbac_role_t role;
    char *tenant; /* required for tenant-admin and developer */
    char *team;   /* required for developer */
} asc_config_user_t;

typedef struct {
    char *name;
    char *provider;    /* a configured provider */
    char *tenant;      /* NULL = global (used for every tenant without its own) */
    char *api_key_ref; /* "env:VAR", "file:/path" or "sealed:v1:..." (the secret store) */
    char *last4;       /* recorded when sealed, or NULL */
} asc_config_credential_t;

typedef struct {
    char *name;     /* [A-Za-z0-9_.-]{1,64}, unique */
    char *key_ref;  /* "sha256:<64 lowercase hex>" or "env:VAR" */
    int generate;   /* env: only: when VAR is unset, generate a dev key in the data dir */
    char **models;  /* allow-list patterns; '*' matches any run of characters incl '/' */
    size_t nmodels; /* default: one pattern, "*" */
    char **regions; /* allowed target regions; NULL = any (residency) */
    size_t nregions;
    char *tenant; /* owning tenant or NULL (a platform key) */
    char *team;   /* owning team or NULL */
    char *owner;  /* the user who owns it, or NULL */
    char *description;
    int64_t expires_at; /* unix ms, 0 = never */
    int revoked;
    char *previous_key_ref;      /* rotation: the old sha256: hash, still valid until ... */
    int64_t previous_expires_at; /* ... this time (unix ms) */
    char *hint;                  /* "...abcd" of a generated key, or NULL */
    asc_config_limits_t limits;
} asc_config_key_t;

/* OIDC for the admin API (admin.oidc). */
typedef struct {
    char *role;   /* asc_rbac_role_t as its name */
    char *group;  /* a value of the group claim */
    char *tenant; /* NULL for platform roles */
    char *team;
} asc_config_role_map_t;

typedef struct {
    char *issuer;
    char *client_id;
    char *client_secret_ref; /* env:VAR / file:, or NULL (public client) */
    char *audience;          /* default: client_id */
    char *ca_file;
    char *redirect_url; /* the callback URL the IdP sends the browser to */
    char *group_claim;  /* default "groups" */
    asc_config_role_map_t *roles;
    size_t nroles;
    uint64_t session_ttl_ms; /* default 8 h */
    unsigned skew_s;         /* default 60 */
} asc_config_oidc_t;

typedef struct {
    char *listen;    /* "127.0.0.1:8081"; "off" disables the admin API */
    char *token_ref; /* bootstrap platform-admin token: env:VAR or sha256:<hex>; default
                        env:ASC_ADMIN_TOKEN */
    int has_oidc;
    asc_config_oidc_t oidc;
} asc_config_admin_t;

typedef struct {
    char *listen;                 /* "127.0.0.1:8080"; IPv4, [IPv6] or localhost + port */
    unsigned workers;             /* 0 = one per core */
    unsigned max_connections;     /* 10000 */
    uint64_t max_body_bytes;      /* 33554432 */
    uint64_t max_header_bytes;    /* 65536 */
    unsigned max_headers;         /* 100 */
    uint64_t header_timeout_ms;   /* 10000 */
    uint64_t body_timeout_ms;     /* 30000 */
    uint64_t idle_timeout_ms;     /* 60000 */
    uint64_t shutdown_timeout_ms; /* 10000 */
    char *access_log;             /* "stdout" (default), "stderr", "off", or a file path */
    char *data_dir;               /* NULL = the caller decides */
} asc_config_server_t;

typedef struct asc_config {
    asc_config_server_t server;
    asc_config_provider_t *providers; /* in file order */
    size_t nproviders;
    asc_config_model_t *models; /* in file order */
    size_t nmodels;
    asc_config_key_t *keys; /* in file order */
    size_t nkeys;
    asc_config_tenant_t *tenants;
    size_t ntenants;
    asc_config_team_t *teams;
    size_t nteams;
    asc_config_user_t *users;
    size_t nusers;
    asc_config_credential_t *credentials;
    size_t ncredentials;
    asc_config_admin_t admin;
} asc_config_t;

/* The built-in default config (YAML with comments), printed by
 * `asc config default` and used when no file is given. */
extern const char asc_config_default_yaml[];

/*
 * Replace ${VAR} and ${VAR:-default} in every string value of the tree
 * (never in keys) with the environment's value, in place. $$ is a literal
 * $; a $ followed by anything else is kept as is. ${VAR} with VAR unset is
 * an error naming VAR and the path; ${VAR:-x} yields x when VAR is unset or
 * empty (x is literal text up to the first '}'). Strings such as
 * "env:VAR" are references resolved later, not expanded here.
 *
 * On error the tree may be partly expanded; returns ASC_EINVAL (bad syntax,
 * unset variable, nesting deeper than 128) or ASC_ENOMEM.
 */
asc_err_t asc_config_expand_env(cJSON *root, char *err, size_t errlen);

/*
 * Validate root (borrowed, not modified) and build a new config into *out,
 * which the caller frees with asc_config_free(). On error *out is NULL and
 * err names the path; returns ASC_EINVAL or ASC_ENOMEM.
 */
asc_err_t asc_config_from_json(const cJSON *root, asc_config_t **out, char *err, size_t errlen);

/*
 * Parse yaml[0..len), expand ${VAR}, validate. Messages are prefixed with
 * "<source_name>: " when source_name is not NULL. *out as for
 * asc_config_from_json().
 */
asc_err_t asc_config_load_text(const char *yaml, size_t len, const char *source_name,
                               asc_config_t **out, char *err, size_t errlen);

/*
 * Read the file at path (at most ASC_YAML_MAX_BYTES) and load it as
 * asc_config_load_text() does, with path as the source name. Returns
 * ASC_EIO when the file cannot be read, ASC_ETOOBIG when it is too large.
 */
asc_err_t asc_config_load_file(const char *path, asc_config_t **out, char *err, size_t errlen);

/* Free n targets and the array. */
void asc_config_targets_free(asc_config_target_t *t, size_t n);

/* Free c and everything it owns. NULL is a no-op. */
void asc_config_free(asc_config_t *c);

/* The provider or model with that name, or NULL (borrowed from c). */
const asc_config_provider_t *asc_config_find_provider(const asc_config_t *c, const char *name);
const asc_config_model_t *asc_config_find_model(const asc_config_t *c, const char *name);

/* The tenant, team or user with that name, or NULL. */
const asc_config_tenant_t *asc_config_find_tenant(const asc_config_t *c, const char *name);
const asc_config_team_t *asc_config_find_team(const asc_config_t *c, const char *name);
const asc_config_user_t *asc_config_find_user(const asc_config_t *c, const char *name);

/* 1 when s is an object name: [A-Za-z0-9][A-Za-z0-9_.-]{0,63}. */
int asc_config_name_ok(const char *s);

/* Role names: "platform-admin", ... ; ASC_RBAC_NONE for an unknown name. */
asc_rbac_role_t asc_config_role(const char *name);
const char *asc_config_role_name(asc_rbac_role_t r);

/* 1 when every name matched by pattern a is matched by pattern b (a '*' in
 * a is only absorbed by a '*' in b): "gpt-4o" and "gpt-*" are within
 * "gpt-*", "*" is within only "*". */
int asc_config_pattern_within(const char *a, const char *b);

/* 1 when name matches the allow-list pattern: '*' matches any run of
 * characters (including '/' and the empty run), every other character
 * matches itself. Runs in O(len(pattern) * len(name)) at worst. */
int asc_config_pattern_match(const char *pattern, const char *name);

#endif

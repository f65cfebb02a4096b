/* The control-plane sections of the config (src/config/tenancy.c,
 * src/config/admin.c and the scope fields of keys in validate.c): tenants,
 * teams, users, credentials, admin; the rule that a child's models,
 * regions and limits lie within its parent's; pattern containment
 * (asc_config_pattern_within) and RFC 3339 times (asc_clock_parse_rfc3339). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "config/config.h"
#include "core/clock.h"

static char err[1024];

static asc_config_t *load(const char *yaml)
{
    asc_config_t *c = NULL;
    asc_err_t e = asc_config_load_text(yaml, strlen(yaml), "t.yaml", &c, err, sizeof err);
    if (e != ASC_OK)
        fail_msg("load failed: %s\n--- yaml:\n%s", err, yaml);
    assert_non_null(c);
    return c;
}

/* Load must fail with exactly "t.yaml: " + want. */
static void bad(const char *yaml, const char *want)
{
    asc_config_t *c = (asc_config_t *)1;
    asc_err_t e = asc_config_load_text(yaml, strlen(yaml), "t.yaml", &c, err, sizeof err);
    if (e == ASC_OK) {
        asc_config_free(c);
        fail_msg("load succeeded, expected: %s\n--- yaml:\n%s", want, yaml);
    }
    assert_int_equal(e, ASC_EINVAL);
    assert_null(c);
    char full[1024];
    snprintf(full, sizeof full, "t.yaml: %s", want);
    if (strcmp(err, full) != 0)
        fail_msg("error\n  got:  %s\n  want: %s\n--- yaml:\n%s", err, full, yaml);
}

#define HASH "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

#define PROVIDERS                                                                                  \
    "providers:\n"                                                                                 \
    "  - {name: openai, kind: openai, api_key: env:OPENAI_API_KEY}\n"                              \
    "  - {name: anth, kind: anthropic}\n"                                                          \
    "  - {name: mock, kind: mock}\n"

/* acme: gpt-* and claude-*, eu and us, limits; globex: unrestricted */
#define TENANTS                                                                                    \
    "tenants:\n"                                                                                   \
    "  - name: acme\n"                                                                             \
    "    description: Acme Corp\n"                                                                 \
    "    models: [\"gpt-*\", \"claude-*\"]\n"                                                      \
    "    regions: [eu, us]\n"                                                                      \
    "    limits: {rpm: 1000, tpm: 100000, budget_usd: 500, budget_period: month}\n"                \
    "  - {name: globex}\n"

/* ml: gpt-4o* in eu under acme; ops: globex, no restriction of its own */
#define TEAMS                                                                                      \
    "teams:\n"                                                                                     \
    "  - name: ml\n"                                                                               \
    "    tenant: acme\n"                                                                           \
    "    models: [\"gpt-4o*\"]\n"                                                                  \
    "    regions: [eu]\n"                                                                          \
    "    limits: {rpm: 100, budget_usd: 50.5, budget_period: week}\n"                              \
    "  - {name: ops, tenant: globex}\n"

#define BASE PROVIDERS TENANTS TEAMS

/* ---- a full valid control plane ---- */

static void test_valid_sections(void **state)
{
    (void)state;
    asc_config_t *c = load(
        BASE "users:\n"
             "  - {name: root@corp, role: platform-admin, email: root@corp.example}\n"
             "  - {name: ta@acme, role: tenant-admin, tenant: acme}\n"
             "  - {name: dev@acme, role: developer, tenant: acme, team: ml}\n"
             "  - {name: aud@corp, role: auditor}\n"
             "  - {name: fin@acme, role: finance, tenant: acme}\n"
             "credentials:\n"
             "  - {name: openai-global, provider: openai, api_key: env:OPENAI_KEY}\n"
             "  - {name: openai-acme, provider: openai, tenant: acme, api_key: "
             "\"file:/run/secrets/acme\", last4: abcd}\n"
             "  - {name: openai-globex, provider: openai, tenant: globex, api_key: env:GLOBEX}\n"
             "  - {name: anth-acme, provider: anth, tenant: acme, api_key: env:ANTH_ACME}\n"
             "keys:\n"
             "  - name: k-ml\n    key: env:K1\n    team: ml\n    models: [\"gpt-4o-mini\"]\n"
             "    regions: [eu]\n    owner: dev@acme\n    limits: {rpm: 10, budget_usd: 50.5}\n"
             "    expires_at: \"2027-01-31T00:00:00Z\"\n"
             "  - {name: k-acme, key: env:K2, tenant: acme, models: [\"claude-*\"]}\n"
             "  - {name: k-plat, key: \"sha256:" HASH "\"}\n");

    assert_int_equal(c->ntenants, 2);
    const asc_config_tenant_t *acme = &c->tenants[0];
    assert_string_equal(acme->name, "acme");
    assert_string_equal(acme->description, "Acme Corp");
    assert_int_equal(acme->nmodels, 2);
    assert_string_equal(acme->models[0], "gpt-*");
    assert_string_equal(acme->models[1], "claude-*");
    assert_int_equal(acme->nregions, 2);
    assert_string_equal(acme->regions[0], "eu");
    assert_string_equal(acme->regions[1], "us");
    assert_int_equal(acme->limits.rpm, 1000);
    assert_int_equal(acme->limits.tpm, 100000);
    assert_true(acme->limits.budget_usd == 500.0);
    assert_string_equal(acme->limits.budget_period, "month");
    const asc_config_tenant_t *globex = &c->tenants[1];
    assert_string_equal(globex->name, "globex");
    assert_null(globex->description);
    assert_null(globex->models);
    assert_int_equal(globex->nmodels, 0);
    assert_null(globex->regions);
    assert_int_equal(globex->limits.rpm, 0);
    assert_null(globex->limits.budget_period);
    assert_ptr_equal(asc_config_find_tenant(c, "globex"), globex);
    assert_null(asc_config_find_tenant(c, "Globex"));

    assert_int_equal(c->nteams, 2);
    const asc_config_team_t *ml = asc_config_find_team(c, "ml");
    assert_ptr_equal(ml, &c->teams[0]);
    assert_string_equal(ml->tenant, "acme");
    assert_int_equal(ml->tenant_index, 0);
    assert_int_equal(ml->nmodels, 1);
    assert_string_equal(ml->models[0], "gpt-4o*");
    assert_int_equal(ml->nregions, 1);
    assert_string_equal(ml->regions[0], "eu");
    assert_int_equal(ml->limits.rpm, 100);
    assert_int_equal(ml->limits.tpm, 0);
    assert_true(ml->limits.budget_usd == 50.5);
    assert_string_equal(ml->limits.budget_period, "week");
    assert_int_equal(c->teams[1].tenant_index, 1);
    assert_null(c->teams[1].models);

    assert_int_equal(c->nusers, 5);
    const asc_rbac_role_t roles[] = {ASC_RBAC_PLATFORM_ADMIN, ASC_RBAC_TENANT_ADMIN,
                                     ASC_RBAC_DEVELOPER, ASC_RBAC_AUDITOR, ASC_RBAC_FINANCE};
    for (size_t i = 0; i < 5; i++)
        assert_int_equal(c->users[i].role, roles[i]);
    assert_string_equal(c->users[0].email, "root@corp.example");
    assert_null(c->users[0].tenant);
    assert_null(c->users[0].team);
    assert_string_equal(c->users[1].tenant, "acme");
    assert_null(c->users[1].team);
    const asc_config_user_t *dev = asc_config_find_user(c, "dev@acme");
    assert_ptr_equal(dev, &c->users[2]);
    assert_string_equal(dev->tenant, "acme");
    assert_string_equal(dev->team, "ml");
    assert_null(dev->email);
    assert_null(c->users[3].tenant);
    assert_string_equal(c->users[4].tenant, "acme");

    assert_int_equal(c->ncredentials, 4);
    assert_string_equal(c->credentials[0].name, "openai-global");
    assert_string_equal(c->credentials[0].provider, "openai");
    assert_null(c->credentials[0].tenant);
    assert_string_equal(c->credentials[0].api_key_ref, "env:OPENAI_KEY");
    assert_null(c->credentials[0].last4);
    assert_string_equal(c->credentials[1].tenant, "acme");
    assert_string_equal(c->credentials[1].api_key_ref, "file:/run/secrets/acme");
    assert_string_equal(c->credentials[1].last4, "abcd");
    assert_string_equal(c->credentials[3].provider, "anth");

    assert_int_equal(c->nkeys, 3);
    const asc_config_key_t *k = &c->keys[0];
    assert_string_equal(k->team, "ml");
    assert_string_equal(k->tenant, "acme"); /* the team's tenant */
    assert_string_equal(k->owner, "dev@acme");
    assert_int_equal(k->nmodels, 1);
    assert_string_equal(k->models[0], "gpt-4o-mini");
    assert_int_equal(k->nregions, 1);
    assert_string_equal(k->regions[0], "eu");
    assert_int_equal(k->limits.rpm, 10);
    assert_true(k->limits.budget_usd == 50.5);
    assert_int_equal(k->expires_at, 1801353600000LL);
    assert_string_equal(c->keys[1].tenant, "acme");
    assert_null(c->keys[1].team);
    assert_null(c->keys[2].tenant);
    assert_null(c->keys[2].team);
    assert_int_equal(c->keys[2].expires_at, 0);

    /* no admin: section: the defaults */
    assert_string_equal(c->admin.listen, "127.0.0.1:8081");
    assert_string_equal(c->admin.token_ref, "env:ASC_ADMIN_TOKEN");
    assert_int_equal(c->admin.has_oidc, 0);
    asc_config_free(c);
}

/* A key with a team and no tenant gets the team's tenant; the tenant's own
 * bounds then apply to it as well. */
static void test_key_inherits_team_tenant(void **state)
{
    (void)state;
    asc_config_t *c = load(BASE "keys:\n  - {name: k, key: env:K, team: ops}\n");
    assert_string_equal(c->keys[0].tenant, "globex");
    asc_config_free(c);
    /* ml has no us region of its own to offer, acme would: the team binds */
    bad(BASE "keys:\n  - {name: k, key: env:K, team: ml, regions: [us]}\n",
        "keys[0].regions: \"us\" is not within the regions of team ml");
    /* a team without models of its own: the tenant's bound the key */
    bad(PROVIDERS TENANTS "teams:\n  - {name: ml, tenant: acme}\n"
                          "keys:\n  - {name: k, key: env:K, team: ml, models: [\"mistral-*\"]}\n",
        "keys[0].models: \"mistral-*\" is not within the models of tenant acme");
    bad(PROVIDERS TENANTS "teams:\n  - {name: ml, tenant: acme}\n"
                          "keys:\n  - {name: k, key: env:K, team: ml, regions: [ap]}\n",
        "keys[0].regions: \"ap\" is not within the regions of tenant acme");
    bad(PROVIDERS TENANTS "teams:\n  - {name: ml, tenant: acme}\n"
                          "keys:\n  - {name: k, key: env:K, team: ml, limits: {tpm: 100001}}\n",
        "keys[0].limits.tpm: 100001 is above the 100000 of tenant acme");
}

static void test_admin_section(void **state)
{
    (void)state;
    asc_config_t *c =
        load(BASE "admin:\n"
                  "  listen: \"0.0.0.0:9091\"\n"
                  "  token: \"sha256:" HASH "\"\n"
                  "  oidc:\n"
                  "    issuer: https://login.example.com/\n"
                  "    client_id: asc\n"
                  "    client_secret: env:OIDC_SECRET\n"
                  "    redirect_url: https://admin.example.com/admin/v1/auth/callback/\n"
                  "    roles:\n"
                  "      - {group: platform, role: platform-admin}\n"
                  "      - {group: acme-admins, role: tenant-admin, tenant: acme}\n"
                  "      - {group: acme-ml, role: developer, tenant: acme, team: ml}\n"
                  "      - {group: \"all auditors\", role: auditor}\n"
                  "      - {group: acme-fin, role: finance, tenant: acme}\n");
    const asc_config_admin_t *a = &c->admin;
    assert_string_equal(a->listen, "0.0.0.0:9091");
    assert_string_equal(a->token_ref, "sha256:" HASH);
    assert_int_equal(a->has_oidc, 1);
    const asc_config_oidc_t *o = &a->oidc;
    assert_string_equal(o->issuer, "https://login.example.com/"); /* compared as given */
    assert_string_equal(o->client_id, "asc");
    assert_string_equal(o->client_secret_ref, "env:OIDC_SECRET");
    assert_string_equal(o->audience, "asc"); /* the client_id */
    assert_null(o->ca_file);
    assert_string_equal(o->redirect_url, "https://admin.example.com/admin/v1/auth/callback");
    assert_string_equal(o->group_claim, "groups");
    assert_int_equal(o->session_ttl_ms, 8ULL * 3600 * 1000);
    assert_int_equal(o->skew_s, 60);
    assert_int_equal(o->nroles, 5);
    assert_string_equal(o->roles[0].group, "platform");
    assert_string_equal(o->roles[0].role, "platform-admin");
    assert_null(o->roles[0].tenant);
    assert_null(o->roles[0].team);
    assert_string_equal(o->roles[1].role, "tenant-admin");
    assert_string_equal(o->roles[1].tenant, "acme");
    assert_string_equal(o->roles[2].role, "developer");
    assert_string_equal(o->roles[2].team, "ml");
    assert_string_equal(o->roles[3].group, "all auditors");
    assert_string_equal(o->roles[4].role, "finance");
    asc_config_free(c);

    c = load("admin:\n  listen: \"off\"\n  token: env:MY_ADMIN_TOKEN\n"
             "  oidc:\n    issuer: https://idp.example\n    client_id: asc-admin\n"
             "    audience: api://asc\n    group_claim: roles\n    session_ttl_ms: 60000\n"
             "    clock_skew_s: 0\n    ca_file: /etc/idp-ca.pem\n");
    assert_string_equal(c->admin.listen, "off");
    assert_string_equal(c->admin.token_ref, "env:MY_ADMIN_TOKEN");
    assert_string_equal(c->admin.oidc.audience, "api://asc");
    assert_string_equal(c->admin.oidc.group_claim, "roles");
    assert_int_equal(c->admin.oidc.session_ttl_ms, 60000);
    assert_int_equal(c->admin.oidc.skew_s, 0);
    assert_string_equal(c->admin.oidc.ca_file, "/etc/idp-ca.pem");
    assert_null(c->admin.oidc.client_secret_ref);
    assert_int_equal(c->admin.oidc.nroles, 0);
    asc_config_free(c);

    /* admin: given but empty of these fields: the defaults still apply */
    c = load("admin:\n  oidc: {issuer: \"https://idp.example\", client_id: x}\n");
    assert_string_equal(c->admin.listen, "127.0.0.1:8081");
    assert_string_equal(c->admin.token_ref, "env:ASC_ADMIN_TOKEN");
    assert_string_equal(c->admin.oidc.audience, "x");
    asc_config_free(c);
}

/* ---- tenants and teams ---- */

static void test_tenant_errors(void **state)
{
    (void)state;
    bad("tenants:\n  - {name: acme}\n  - {name: globex}\n  - {name: acme}\n",
        "tenants[2].name: duplicate tenant name \"acme\" (also tenants[0])");
    bad("tenants:\n  - {name: acme, owner: x}\n",
        "tenants[0].owner: unknown key (expected one of: name, description, models, regions, "
        "limits)");
    bad("tenants:\n  - {name: acme, limits: {budget_period: year}}\n",
        "tenants[0].limits.budget_period: must be day, week or month");
    bad("tenants:\n  - {name: acme, models: []}\n",
        "tenants[0].models: must be a sequence of 1 to 1024 names");
    bad("tenants:\n  - {name: \"-acme\"}\n",
        "tenants[0].name: invalid name \"-acme\" (1-64 characters of A-Z, a-z, 0-9, '_', '.' and "
        "'-', starting with a letter or digit)");
    bad("tenants: {acme: {}}\n", "tenants: must be a sequence of mappings (- name: ...)");
}

static void test_team_errors(void **state)
{
    (void)state;
    bad(PROVIDERS TENANTS "teams:\n  - {name: ml, tenant: nope}\n",
        "teams[0].tenant: unknown tenant \"nope\"");
    bad(PROVIDERS TENANTS "teams:\n  - {name: ml}\n", "teams[0].tenant: required");
    bad(PROVIDERS "tenants:\n  - {name: acme, models: [\"gpt-4o*\"]}\n"
                  "teams:\n  - {name: ml, tenant: acme, models: [\"gpt-4o-mini\", \"gpt-5\"]}\n",
        "teams[0].models: \"gpt-5\" is not within the models of tenant acme");
    /* a wildcard wider than the tenant's */
    bad(PROVIDERS TENANTS "teams:\n  - {name: ml, tenant: acme, models: [\"*\"]}\n",
        "teams[0].models: \"*\" is not within the models of tenant acme");
    bad(PROVIDERS TENANTS "teams:\n  - {name: ml, tenant: acme, models: [\"gpt*\"]}\n",
        "teams[0].models: \"gpt*\" is not within the models of tenant acme");
    bad(PROVIDERS TENANTS "teams:\n  - {name: ml, tenant: acme, regions: [eu, ap]}\n",
        "teams[0].regions: \"ap\" is not within the regions of tenant acme");
    bad(PROVIDERS TENANTS "teams:\n  - {name: ml, tenant: acme, regions: [EU]}\n",
        "teams[0].regions: \"EU\" is not within the regions of tenant acme");
    bad(PROVIDERS TENANTS "teams:\n  - {name: ml, tenant: acme, limits: {rpm: 1001}}\n",
        "teams[0].limits.rpm: 1001 is above the 1000 of tenant acme");
    bad(PROVIDERS TENANTS "teams:\n  - {name: ml, tenant: acme, limits: {tpm: 200000}}\n",
        "teams[0].limits.tpm: 200000 is above the 100000 of tenant acme");
    bad(PROVIDERS TENANTS "teams:\n  - {name: ml, tenant: acme, limits: {budget_usd: 500.25}}\n",
        "teams[0].limits.budget_usd: 500.25 is above the 500 of tenant acme");
    bad(PROVIDERS TENANTS "teams:\n  - {name: ml, tenant: acme}\n  - {name: ml, tenant: globex}\n",
        "teams[1].name: duplicate team name \"ml\" (also teams[0])");
    /* the second team is checked against its own tenant */
    bad(PROVIDERS TENANTS "teams:\n  - {name: a, tenant: globex, models: [\"*\"]}\n"
                          "  - {name: b, tenant: acme, models: [\"*\"]}\n",
        "teams[1].models: \"*\" is not within the models of tenant acme");

    /* equal is within; an unrestricted tenant takes anything */
    asc_config_t *c = load(PROVIDERS TENANTS
                           "teams:\n  - name: ml\n    tenant: acme\n"
                           "    models: [\"gpt-*\", \"claude-3-5-sonnet\"]\n    regions: [us, eu]\n"
                           "    limits: {rpm: 1000, tpm: 100000, budget_usd: 500}\n"
                           "  - {name: ops, tenant: globex, models: [\"*\"], regions: [mars],\n"
                           "     limits: {rpm: 1000000000}}\n");
    assert_int_equal(c->teams[0].nmodels, 2);
    assert_int_equal(c->teams[1].limits.rpm, 1000000000ULL);
    asc_config_free(c);
}

/* ---- keys within their team and tenant ---- */

static void test_key_scope_errors(void **state)
{
    (void)state;
    bad(BASE "keys:\n  - {name: k, key: env:K, team: ml, models: [\"gpt-*\"]}\n",
        "keys[0].models: \"gpt-*\" is not within the models of team ml");
    bad(BASE "keys:\n  - {name: k, key: env:K, team: ml, models: [\"gpt-4o\", \"claude-3\"]}\n",
        "keys[0].models: \"claude-3\" is not within the models of team ml");
    bad(BASE "keys:\n  - {name: k, key: env:K, tenant: acme, models: [\"*\"]}\n",
        "keys[0].models: \"*\" is not within the models of tenant acme");
    bad(BASE "keys:\n  - {name: k, key: env:K, tenant: acme, regions: [ap]}\n",
        "keys[0].regions: \"ap\" is not within the regions of tenant acme");
    bad(BASE "keys:\n  - {name: k, key: env:K, tenant: acme, team: ops}\n",
        "keys[0]: team ops belongs to tenant globex");
    bad(BASE "keys:\n  - {name: k, key: env:K, tenant: globex, team: ml}\n",
        "keys[0]: team ml belongs to tenant acme");
    bad(BASE "keys:\n  - {name: k, key: env:K, team: nope}\n",
        "keys[0].team: unknown team \"nope\"");
    bad(BASE "keys:\n  - {name: k, key: env:K, tenant: nope}\n",
        "keys[0].tenant: unknown tenant \"nope\"");
    bad(BASE "keys:\n  - {name: k, key: env:K, team: ml, limits: {rpm: 101}}\n",
        "keys[0].limits.rpm: 101 is above the 100 of team ml");
    bad(BASE "keys:\n  - {name: k, key: env:K, team: ml, limits: {budget_usd: 51}}\n",
        "keys[0].limits.budget_usd: 51 is above the 50.5 of team ml");
    /* ml sets no tpm: acme's bounds the key */
    bad(BASE "keys:\n  - {name: k, key: env:K, team: ml, limits: {tpm: 100001}}\n",
        "keys[0].limits.tpm: 100001 is above the 100000 of tenant acme");
    /* the first key in the file that is wrong is named */
    bad(BASE "keys:\n  - {name: a, key: env:A, team: ml}\n"
             "  - {name: b, key: env:B, team: ops, models: [\"x\"]}\n"
             "  - {name: c, key: env:C, team: ml, models: [\"o1\"]}\n",
        "keys[2].models: \"o1\" is not within the models of team ml");
    /* a platform key (no tenant) is not bounded by any tenant */
    asc_config_t *c = load(BASE "keys:\n  - {name: k, key: env:K, models: [\"*\"], regions: [ap],"
                                " limits: {rpm: 1000000000}}\n");
    assert_null(c->keys[0].tenant);
    asc_config_free(c);
}

static void test_expires_at(void **state)
{
    (void)state;
    static const char *const badtimes[] = {
        "\"2027-01-31\"",
        "\"tomorrow\"",
        "\"2027-02-29T00:00:00Z\"",
        "\"2027-01-31T00:00:00\"",
        "\"2027-13-01T00:00:00Z\"",
        "\"1969-12-31T23:59:59Z\"",
        "\"2027-01-31T24:00:00Z\"",
        "1801353600",
        "\"2027-01-31T00:00:00+0100\"",
    };
    for (size_t i = 0; i < sizeof badtimes / sizeof *badtimes; i++) {
        char y[256];
        snprintf(y, sizeof y, "keys:\n  - {name: k, key: env:K, expires_at: %s}\n", badtimes[i]);
        bad(y, "keys[0].expires_at: must be an RFC 3339 time such as 2027-01-31T00:00:00Z");
    }
    asc_config_t *c = load("keys:\n  - {name: k, key: env:K, expires_at: "
                           "\"2027-01-31T01:00:00.250+01:00\"}\n");
    assert_int_equal(c->keys[0].expires_at, 1801353600250LL);
    asc_config_free(c);
}

/* ---- users ---- */

static void test_user_errors(void **state)
{
    (void)state;
    bad(BASE "users:\n  - {name: dev@acme, role: developer, tenant: acme}\n",
        "users[0]: a developer needs a team");
    bad(BASE "users:\n  - {name: dev@acme, role: developer, team: ml}\n",
        "users[0]: a developer needs a tenant");
    bad(BASE "users:\n  - {name: ta@acme, role: tenant-admin}\n",
        "users[0]: a tenant-admin needs a tenant");
    bad(BASE "users:\n  - {name: root@corp, role: platform-admin, tenant: acme}\n",
        "users[0]: a platform-admin belongs to no tenant or team");
    bad(BASE "users:\n  - {name: root@corp, role: platform-admin, team: ml}\n",
        "users[0]: a platform-admin belongs to no tenant or team");
    bad(BASE "users:\n  - {name: x@y, role: admin}\n",
        "users[0].role: unknown role \"admin\" (expected one of: platform-admin, tenant-admin, "
        "developer, auditor, finance)");
    bad(BASE "users:\n  - {name: x@y, role: Platform-Admin}\n",
        "users[0].role: unknown role \"Platform-Admin\" (expected one of: platform-admin, "
        "tenant-admin, developer, auditor, finance)");
    bad(BASE "users:\n  - {name: x@y}\n", "users[0].role: required");
    bad(BASE "users:\n  - {name: dev@acme, role: developer, tenant: acme, team: ops}\n",
        "users[0]: team ops belongs to tenant globex");
    bad(BASE "users:\n  - {name: f@x, role: finance, team: ml}\n",
        "users[0]: team ml belongs to tenant acme");
    bad(BASE "users:\n  - {name: a@x, role: auditor, tenant: nope}\n",
        "users[0].tenant: unknown tenant \"nope\"");
    bad(BASE "users:\n  - {name: d@x, role: developer, tenant: acme, team: nope}\n",
        "users[0].team: unknown team \"nope\"");
    bad(BASE "users:\n  - {name: \"a b\", role: auditor}\n",
        "users[0].name: must be 1 to 256 printable characters without spaces");
    bad(BASE "users:\n  - {name: a@x, role: auditor}\n  - {name: a@x, role: finance}\n",
        "users[1].name: duplicate user name \"a@x\" (also users[0])");
}

/* ---- credentials ---- */

static void test_credential_errors(void **state)
{
    (void)state;
    bad(BASE "credentials:\n  - {name: c, provider: nope, api_key: env:K}\n",
        "credentials[0].provider: unknown provider \"nope\"");
    bad(BASE "credentials:\n  - {name: c, provider: mock, api_key: env:K}\n",
        "credentials[0].provider: the in-process mock takes no credential");
    bad(BASE "credentials:\n  - {name: c, provider: openai, tenant: nope, api_key: env:K}\n",
        "credentials[0].tenant: unknown tenant \"nope\"");
    bad(BASE "credentials:\n  - {name: c, provider: openai}\n", "credentials[0].api_key: required");

    /* a pasted secret is refused and never repeated */
    static const char *const plain[] = {"sk-live-CANARY0123456789", "env:CANARY-0123456789",
                                        "file:CANARY0123456789", "sealed:CANARY0123456789"};
    for (size_t i = 0; i < sizeof plain / sizeof *plain; i++) {
        char y[2048];
        snprintf(y, sizeof y,
                 BASE "credentials:\n  - {name: c, provider: openai, api_key: \"%s\"}\n", plain[i]);
        bad(y, "credentials[0].api_key: must be env:VAR or file:/path (plaintext secrets are "
               "accepted only through the admin API, which seals them)");
        assert_null(strstr(err, "CANARY"));
        assert_null(strstr(err, "0123456789"));
    }

    bad(BASE "credentials:\n  - {name: c1, provider: openai, tenant: acme, api_key: env:A}\n"
             "  - {name: c2, provider: openai, tenant: acme, api_key: env:B}\n",
        "credentials[1]: provider openai already has a tenant-scoped credential (c1): rotate it "
        "instead of adding a second");
    bad(BASE "credentials:\n  - {name: c0, provider: openai, api_key: env:A}\n"
             "  - {name: c1, provider: anth, api_key: env:B}\n"
             "  - {name: c2, provider: openai, api_key: env:C}\n",
        "credentials[2]: provider openai already has a global credential (c0): rotate it instead "
        "of adding a second");
    bad(BASE "credentials:\n  - {name: c, provider: openai, api_key: env:A}\n"
             "  - {name: c, provider: anth, api_key: env:B}\n",
        "credentials[1].name: duplicate credential name \"c\" (also credentials[0])");
    bad(BASE "credentials:\n  - {name: c, provider: openai, api_key: env:A, last4: abcde}\n",
        "credentials[0].last4: must be at most 4 characters");

    /* one global and one per tenant of the same provider are fine */
    asc_config_t *c = load(BASE "credentials:\n  - {name: g, provider: openai, api_key: env:A}\n"
                                "  - {name: a, provider: openai, tenant: acme, api_key: env:B}\n"
                                "  - {name: b, provider: openai, tenant: globex, api_key: env:C}\n"
                                "  - {name: s, provider: anth, api_key: \"sealed:v1:abc\"}\n");
    assert_int_equal(c->ncredentials, 4);
    assert_string_equal(c->credentials[3].api_key_ref, "sealed:v1:abc");
    asc_config_free(c);
}

/* ---- admin ---- */

static void test_admin_errors(void **state)
{
    (void)state;
    static const char *const tokens[] = {
        "CANARYadmintoken0123456789",
        "sha256:CANARY0123456789abcdef0123456789abcdef0123456789abcdef012345",
        "sha256:0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef",
        "sha256:" HASH "0",
        "env:CANARY-TOKEN",
        "Bearer CANARY",
    };
    for (size_t i = 0; i < sizeof tokens / sizeof *tokens; i++) {
        char y[2048];
        snprintf(y, sizeof y, "admin:\n  token: \"%s\"\n", tokens[i]);
        bad(y, "admin.token: must be env:VAR or sha256:<64 lowercase hex> (plaintext tokens are "
               "not allowed in config)");
        assert_null(strstr(err, "CANARY"));
        assert_null(strstr(err, "ABCDEF"));
    }
    bad("admin:\n  listen: \"*:8081\"\n",
        "admin.listen: must be HOST:PORT (IPv4, [IPv6] or localhost) or \"off\"");
    bad("admin:\n  port: 8081\n", "admin.port: unknown key (expected one of: listen, token, oidc)");
    bad("admin: [1]\n", "admin: must be a mapping (listen, token, oidc)");

#define OIDC "admin:\n  oidc:\n    issuer: https://idp.example\n    client_id: asc\n"
    bad(BASE OIDC "    roles:\n      - {group: g, role: tenant-admin, tenant: nope}\n",
        "admin.oidc.roles[0]: tenant: unknown tenant \"nope\"");
    bad(BASE OIDC "    roles:\n      - {group: a, role: auditor}\n"
                  "      - {group: g, role: finance, tenant: nope}\n",
        "admin.oidc.roles[1]: tenant: unknown tenant \"nope\"");
    bad(BASE OIDC "    roles:\n      - {group: g, role: developer, tenant: acme, team: nope}\n",
        "admin.oidc.roles[0]: team: unknown team \"nope\"");
    bad(BASE OIDC "    roles:\n      - {group: g, role: developer, tenant: acme, team: ops}\n",
        "admin.oidc.roles[0]: team ops belongs to tenant globex");
    bad(BASE OIDC "    roles:\n      - {group: g, role: developer, tenant: acme}\n",
        "admin.oidc.roles[0]: a developer needs a team");
    bad(BASE OIDC "    roles:\n      - {group: g, role: tenant-admin}\n",
        "admin.oidc.roles[0]: a tenant-admin needs a tenant");
    bad(BASE OIDC "    roles:\n      - {group: g, role: platform-admin, tenant: acme}\n",
        "admin.oidc.roles[0]: a platform-admin belongs to no tenant");
    bad(BASE OIDC "    roles:\n      - {group: g, role: root}\n",
        "admin.oidc.roles[0]: role: unknown role (expected one of: platform-admin, "
        "tenant-admin, developer, auditor, finance)");
    bad(BASE OIDC "    roles:\n      - {role: auditor}\n", "admin.oidc.roles[0].group: required");
    bad(OIDC "    client_secret: CANARYsecret\n",
        "admin.oidc.client_secret: must be env:VAR or file:/path");
    assert_null(strstr(err, "CANARY"));
    bad(OIDC "    session_ttl_ms: 59999\n",
        "admin.oidc.session_ttl_ms: must be an integer between 60000 and 2592000000");
    bad(OIDC "    clock_skew_s: 601\n",
        "admin.oidc.clock_skew_s: must be an integer between 0 and 600");
    bad("admin:\n  oidc:\n    issuer: ftp://idp.example\n    client_id: asc\n",
        "admin.oidc.issuer: must be an http(s):// URL");
    bad("admin:\n  oidc:\n    issuer: https://idp.example\n", "admin.oidc.client_id: required");
#undef OIDC
}

/* ---- asc_config_pattern_within ---- */

static void test_pattern_within(void **state)
{
    (void)state;
    static const struct {
        const char *a, *b;
        int want;
    } t[] = {
        {"gpt-4o", "gpt-*", 1},
        {"gpt-*", "gpt-*", 1},
        {"gpt-4o*", "gpt-*", 1},
        {"gpt-*", "gpt-4*", 0},
        {"gpt-*", "gpt-4o", 0},
        {"gpt-4o", "gpt-4o", 1},
        {"gpt-4o", "gpt-4o-*", 0},
        {"gpt-4o-mini", "gpt-4o*", 1},
        {"GPT-4o", "gpt-*", 0},
        {"gpt-4", "gpt-4o", 0},
        {"gpt-4o", "gpt-4", 0},
        {"*", "*", 1},
        {"*", "gpt-*", 0},
        {"*", "**", 1},
        {"**", "*", 1},
        {"*", "a", 0},
        {"*", "*a", 0},
        {"*", "a*", 0},
        {"openai/*", "*", 1},
        {"openai/gpt-4o", "openai/*", 1},
        {"openai/*", "openai/gpt-*", 0},
        {"a*b", "a*", 1},
        {"a*b", "*b", 1},
        {"a*b", "a*b", 1},
        {"a*", "a*b", 0},
        {"ab", "a*b", 1},
        {"a*x*b", "a*b", 1},
        {"a*b", "a*x*b", 0},
        {"*ab*", "*a*", 1},
        {"*a*", "*ab*", 0},
        {"a*a", "a*", 1},
        {"a", "a**", 1},
        {"", "", 1},
        {"", "*", 1},
        {"", "**", 1},
        {"", "a", 0},
        {"a", "", 0},
        {"*", "", 0},
        {"gpt-?", "gpt-*", 1}, /* '?' is a literal */
        {"gpt-4", "gpt-?", 0},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        int got = asc_config_pattern_within(t[i].a, t[i].b);
        if (got != t[i].want)
            fail_msg("pattern_within(\"%s\", \"%s\") = %d, expected %d", t[i].a, t[i].b, got,
                     t[i].want);
    }
    /* consistent with matching: a literal name is within b iff b matches it */
    static const char *const names[] = {"gpt-4o", "openai/gpt-4o", "", "a*b", "claude-3-5"};
    static const char *const pats[] = {"*", "gpt-*", "*gpt*", "openai/*", "a*b", "claude-*-5", ""};
    for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
        if (strchr(names[i], '*') != NULL)
            continue;
        for (size_t j = 0; j < sizeof pats / sizeof *pats; j++)
            if (asc_config_pattern_within(names[i], pats[j]) !=
                asc_config_pattern_match(pats[j], names[i]))
                fail_msg("within(\"%s\", \"%s\") disagrees with match", names[i], pats[j]);
    }
    /* at the validator's length limit; longer is conservatively "not within" */
    char a[600], b[600];
    memset(a, 'x', 512);
    a[512] = '\0';
    memcpy(b, a, 513);
    assert_int_equal(asc_config_pattern_within(a, b), 1);
    b[511] = '*';
    assert_int_equal(asc_config_pattern_within(a, b), 1);
    memset(a, 'x', 513);
    a[513] = '\0';
    assert_int_equal(asc_config_pattern_within(a, "*"), 0);
}

/* ---- asc_clock_parse_rfc3339 ---- */

static void test_parse_rfc3339(void **state)
{
    (void)state;
    static const struct {
        const char *s;
        int64_t ms;
    } ok[] = {
        {"2026-01-02T03:04:05Z", 1767323045000LL},
        {"2026-01-02t03:04:05z", 1767323045000LL},
        {"2026-01-02T03:04:05.678Z", 1767323045678LL},
        {"2026-01-02T03:04:05.6Z", 1767323045600LL},
        {"2026-01-02T03:04:05.06Z", 1767323045060LL},
        {"2026-01-02T03:04:05.123456789Z", 1767323045123LL},
        {"2026-01-02T03:04:05+02:00", 1767315845000LL},
        {"2026-01-02T03:04:05-05:30", 1767342845000LL},
        {"2026-01-02T03:04:05.5+00:00", 1767323045500LL},
        {"2026-01-02T03:04:05-00:00", 1767323045000LL},
        {"1970-01-01T00:00:00Z", 0},
        {"1970-01-01T00:00:00-01:00", 3600000LL},
        {"2024-02-29T12:00:00Z", 1709208000000LL},
        {"2000-02-29T00:00:00Z", 951782400000LL},
        {"2026-03-01T00:00:00Z", 1772323200000LL},
        {"2026-03-01T01:00:00+01:00", 1772323200000LL},
        {"9999-12-31T23:59:59Z", 253402300799000LL},
        {"2026-06-30T23:59:60Z", 1782863999000LL}, /* a leap second holds at :59 */
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        int64_t ms = -1;
        if (asc_clock_parse_rfc3339(ok[i].s, &ms) != 0)
            fail_msg("parse(\"%s\") refused", ok[i].s);
        if (ms != ok[i].ms)
            fail_msg("parse(\"%s\") = %lld, expected %lld", ok[i].s, (long long)ms,
                     (long long)ok[i].ms);
    }
    static const char *const no[] = {
        "",
        "2026",
        "2026-01-02",
        "2026-01-02T03:04Z",
        "2026-01-02T03:04:05",
        "2026-01-02T03:04:05ZZ",
        "2026-01-02T03:04:05Z ",
        " 2026-01-02T03:04:05Z",
        "2026-01-02X03:04:05Z",
        "2026/01/02T03:04:05Z",
        "2026-1-02T03:04:05Z",
        "26-01-02T03:04:05Z",
        "2026-01-02T3:04:05Z",
        "2026-00-10T00:00:00Z",
        "2026-13-10T00:00:00Z",
        "2026-01-00T00:00:00Z",
        "2026-01-32T00:00:00Z",
        "2026-04-31T00:00:00Z",
        "2026-06-31T00:00:00Z",
        "2026-02-30T00:00:00Z",
        "2026-02-29T00:00:00Z",
        "2100-02-29T00:00:00Z",
        "2026-01-02T24:00:00Z",
        "2026-01-02T23:60:00Z",
        "2026-01-02T23:59:61Z",
        "2026-01-02T03:04:05.Z",
        "2026-01-02T03:04:05,5Z",
        "2026-01-02T03:04:05+02",
        "2026-01-02T03:04:05+0200",
        "2026-01-02T03:04:05+24:00",
        "2026-01-02T03:04:05+02:60",
        "2026-01-02T03:04:05+02:00Z",
        "2026-01-02T03:04:05 +02:00",
        "1969-12-31T23:59:59Z",
        "1970-01-01T00:30:00+01:00",
        "-001-01-01T00:00:00Z",
        "+2026-01-02T03:04:05Z",
        "2026-01-02T03:04:05\n",
        "2O26-01-02T03:04:05Z",
    };
    for (size_t i = 0; i < sizeof no / sizeof no[0]; i++) {
        int64_t ms = 12345;
        if (asc_clock_parse_rfc3339(no[i], &ms) != -1)
            fail_msg("parse(\"%s\") accepted as %lld", no[i], (long long)ms);
    }
    /* round trip with the formatter */
    char buf[64];
    int64_t ms = 0;
    asc_clock_rfc3339(1767323045678ULL, buf);
    assert_string_equal(buf, "2026-01-02T03:04:05.678Z");
    assert_int_equal(asc_clock_parse_rfc3339(buf, &ms), 0);
    assert_int_equal(ms, 1767323045678LL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid_sections),    cmocka_unit_test(test_key_inherits_team_tenant),
        cmocka_unit_test(test_admin_section),     cmocka_unit_test(test_tenant_errors),
        cmocka_unit_test(test_team_errors),       cmocka_unit_test(test_key_scope_errors),
        cmocka_unit_test(test_expires_at),        cmocka_unit_test(test_user_errors),
        cmocka_unit_test(test_credential_errors), cmocka_unit_test(test_admin_errors),
        cmocka_unit_test(test_pattern_within),    cmocka_unit_test(test_parse_rfc3339),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

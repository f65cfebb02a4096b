/* src/admin/rbac.c: the one RBAC decision of the admin API (docs/admin.md,
 * "Roles"). A table-driven matrix of role x kind x verb x scope (own
 * tenant, another tenant, global), then the escalations of ADVERSARIAL row 5
 * through asc_rbac_check_change, the filters forced on lists, and the
 * non-object routes (change log, revisions, apply). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "admin/admin.h"
#include "control/control.h"

/* ---- principals ---- */

enum { PA, TA, DEV, AUD_T, AUD_G, FIN_T, FIN_G, NPRINCIPALS };

static const struct {
    const char *label;
    asc_rbac_role_t role;
    const char *subject, *tenant, *team;
} principals[NPRINCIPALS] = {
    [PA] = {"platform-admin", ASC_RBAC_PLATFORM_ADMIN, "root@corp", "", ""},
    [TA] = {"tenant-admin(acme)", ASC_RBAC_TENANT_ADMIN, "ta@acme", "acme", ""},
    [DEV] = {"developer(acme/ml)", ASC_RBAC_DEVELOPER, "dev@acme", "acme", "ml"},
    [AUD_T] = {"auditor(acme)", ASC_RBAC_AUDITOR, "aud@acme", "acme", ""},
    [AUD_G] = {"auditor(platform)", ASC_RBAC_AUDITOR, "aud@corp", "", ""},
    [FIN_T] = {"finance(acme)", ASC_RBAC_FINANCE, "fin@acme", "acme", ""},
    [FIN_G] = {"finance(platform)", ASC_RBAC_FINANCE, "fin@corp", "", ""},
};

static asc_principal_t principal(int who)
{
    asc_principal_t p;
    memset(&p, 0, sizeof p);
    p.role = principals[who].role;
    snprintf(p.subject, sizeof p.subject, "%s", principals[who].subject);
    snprintf(p.tenant, sizeof p.tenant, "%s", principals[who].tenant);
    snprintf(p.team, sizeof p.team, "%s", principals[who].team);
    p.via = "pat";
    return p;
}

static const asc_kind_t *kind(const char *name)
{
    const asc_kind_t *k = asc_control_kind(name);
    if (k == NULL)
        fail_msg("no kind %s", name);
    return k;
}

static cJSON *doc(const char *json)
{
    if (json == NULL)
        return NULL;
    cJSON *d = cJSON_Parse(json);
    if (d == NULL)
        fail_msg("bad test JSON: %s", json);
    return d;
}

static const asc_rbac_verb_t verbs[4] = {ASC_RBAC_READ, ASC_RBAC_CREATE, ASC_RBAC_UPDATE,
                                         ASC_RBAC_DELETE};
static const char *const verb_names[4] = {"read", "create", "update", "delete"};

/* ---- objects: own tenant (acme), another tenant (globex), global ---- */

enum { OWN, OTHER, GLOBAL, NSCOPES };
static const char *const scope_names[NSCOPES] = {"own tenant", "other tenant", "global"};

static const struct {
    const char *kind;
    const char *docs[NSCOPES]; /* NULL: no such object */
} objects[] = {
    {"tenant", {"{\"name\":\"acme\"}", "{\"name\":\"globex\"}", NULL}},
    {"team",
     {"{\"name\":\"ml\",\"tenant\":\"acme\"}", "{\"name\":\"ops\",\"tenant\":\"globex\"}", NULL}},
    {"user",
     {"{\"name\":\"alice@acme\",\"role\":\"developer\",\"tenant\":\"acme\",\"team\":\"ml\"}",
      "{\"name\":\"bob@globex\",\"role\":\"developer\",\"tenant\":\"globex\",\"team\":\"ops\"}",
      "{\"name\":\"ops@corp\",\"role\":\"auditor\"}"}},
    /* the acme key is the developer's own, in its team */
    {"key",
     {"{\"name\":\"k1\",\"tenant\":\"acme\",\"team\":\"ml\",\"owner\":\"dev@acme\"}",
      "{\"name\":\"k2\",\"tenant\":\"globex\",\"team\":\"ops\",\"owner\":\"bob@globex\"}",
      "{\"name\":\"k0\"}"}},
    {"credential",
     {"{\"name\":\"c1\",\"provider\":\"openai\",\"tenant\":\"acme\",\"api_key\":\"env:A\"}",
      "{\"name\":\"c2\",\"provider\":\"openai\",\"tenant\":\"globex\",\"api_key\":\"env:G\"}",
      "{\"name\":\"c0\",\"provider\":\"openai\",\"api_key\":\"env:O\"}"}},
    /* providers and routes are global; a "tenant" field planted in the
     * document must not make them the tenant's */
    {"provider",
     {"{\"name\":\"openai\",\"kind\":\"openai\",\"tenant\":\"acme\"}", NULL,
      "{\"name\":\"openai\",\"kind\":\"openai\"}"}},
    {"route",
     {"{\"name\":\"gpt-4o\",\"provider\":\"openai\",\"tenant\":\"acme\"}", NULL,
      "{\"name\":\"gpt-4o\",\"provider\":\"openai\"}"}},
};
#define NOBJECTS (sizeof objects / sizeof objects[0])

/* Expected decisions: one character per verb (read, create, update,
 * delete), 'y' allowed, 'n' 403. */
typedef struct {
    int who;
    const char *kind;
    const char *expect[NSCOPES]; /* NULL where objects[] has no document */
} row_t;

#define ALL "yyyy"
#define RO "ynnn"
#define NO "nnnn"

static const row_t matrix[] = {
    /* platform-admin: everything */
    {PA, "tenant", {ALL, ALL, NULL}},
    {PA, "team", {ALL, ALL, NULL}},
    {PA, "user", {ALL, ALL, ALL}},
    {PA, "key", {ALL, ALL, ALL}},
    {PA, "credential", {ALL, ALL, ALL}},
    {PA, "provider", {ALL, NULL, ALL}},
    {PA, "route", {ALL, NULL, ALL}},
    /* tenant-admin: its tenant (read only), teams, users, keys and
     * tenant-scoped credentials; reads providers and routes */
    {TA, "tenant", {RO, NO, NULL}},
    {TA, "team", {ALL, NO, NULL}},
    {TA, "user", {ALL, NO, NO}},
    {TA, "key", {ALL, NO, NO}},
    {TA, "credential", {ALL, NO, NO}},
    {TA, "provider", {RO, NULL, RO}},
    {TA, "route", {RO, NULL, RO}},
    /* developer: its own keys in its team; reads its tenant, team, routes,
     * providers (itself: test_developer_reads_itself) */
    {DEV, "tenant", {RO, NO, NULL}},
    {DEV, "team", {RO, NO, NULL}},
    {DEV, "user", {NO, NO, NO}},
    {DEV, "key", {ALL, NO, NO}},
    {DEV, "credential", {NO, NO, NO}},
    {DEV, "provider", {RO, NULL, RO}},
    {DEV, "route", {RO, NULL, RO}},
    /* auditor of acme: reads acme's objects and the global catalogue */
    {AUD_T, "tenant", {RO, NO, NULL}},
    {AUD_T, "team", {RO, NO, NULL}},
    {AUD_T, "user", {RO, NO, NO}},
    {AUD_T, "key", {RO, NO, NO}},
    {AUD_T, "credential", {RO, NO, NO}},
    {AUD_T, "provider", {RO, NULL, RO}},
    {AUD_T, "route", {RO, NULL, RO}},
    /* platform auditor: reads everything, writes nothing */
    {AUD_G, "tenant", {RO, RO, NULL}},
    {AUD_G, "team", {RO, RO, NULL}},
    {AUD_G, "user", {RO, RO, RO}},
    {AUD_G, "key", {RO, RO, RO}},
    {AUD_G, "credential", {RO, RO, RO}},
    {AUD_G, "provider", {RO, NULL, RO}},
    {AUD_G, "route", {RO, NULL, RO}},
    /* finance of acme: reads acme's tenant, teams and keys only */
    {FIN_T, "tenant", {RO, NO, NULL}},
    {FIN_T, "team", {RO, NO, NULL}},
    {FIN_T, "user", {NO, NO, NO}},
    {FIN_T, "key", {RO, NO, NO}},
    {FIN_T, "credential", {NO, NO, NO}},
    {FIN_T, "provider", {NO, NULL, NO}},
    {FIN_T, "route", {NO, NULL, NO}},
    /* platform finance: tenants, teams and keys everywhere */
    {FIN_G, "tenant", {RO, RO, NULL}},
    {FIN_G, "team", {RO, RO, NULL}},
    {FIN_G, "user", {NO, NO, NO}},
    {FIN_G, "key", {RO, RO, RO}},
    {FIN_G, "credential", {NO, NO, NO}},
    {FIN_G, "provider", {NO, NULL, NO}},
    {FIN_G, "route", {NO, NULL, NO}},
};
#define NMATRIX (sizeof matrix / sizeof matrix[0])

static const char *object_doc(const char *k, int scope)
{
    for (size_t i = 0; i < NOBJECTS; i++)
        if (strcmp(objects[i].kind, k) == 0)
            return objects[i].docs[scope];
    fail_msg("no object for kind %s", k);
    return NULL;
}

/* Checks one decision; appends a line to `report` on a mismatch and returns
 * 1, so a run lists every wrong cell at once. */
static int check_cell(int who, const char *k, const char *json, int v, char want, char *report,
                      size_t reportlen, const char *where)
{
    asc_principal_t p = principal(who);
    cJSON *d = doc(json);
    char err[512] = "";
    int st = asc_rbac_check(&p, verbs[v], kind(k), d, err, sizeof err);
    cJSON_Delete(d);
    int bad = 0;
    if (want == 'y' && st != 0)
        bad = 1;
    else if (want == 'n' && (st != 403 || err[0] == '\0'))
        bad = 1;
    if (bad) {
        size_t n = strlen(report);
        snprintf(report + n, reportlen - n, "  %s %s %s (%s): expected %s, got %d \"%s\"\n",
                 principals[who].label, verb_names[v], k, where, want == 'y' ? "0" : "403", st,
                 err);
    }
    return bad;
}

static void run_matrix(int who)
{
    static char report[16384];
    int wrong = 0, cells = 0;
    report[0] = '\0';
    for (size_t r = 0; r < NMATRIX; r++) {
        if (matrix[r].who != who)
            continue;
        for (int s = 0; s < NSCOPES; s++) {
            const char *want = matrix[r].expect[s];
            const char *json = object_doc(matrix[r].kind, s);
            if ((want == NULL) != (json == NULL))
                fail_msg("table: %s %s %s", principals[who].label, matrix[r].kind, scope_names[s]);
            if (want == NULL)
                continue;
            for (int v = 0; v < 4; v++, cells++)
                wrong += check_cell(who, matrix[r].kind, json, v, want[v], report, sizeof report,
                                    scope_names[s]);
        }
    }
    assert_true(cells >= 4 * 7);
    if (wrong)
        fail_msg("%d of %d decisions wrong:\n%s", wrong, cells, report);
}

static void test_matrix_platform_admin(void **state)
{
    (void)state;
    run_matrix(PA);
}

static void test_matrix_tenant_admin(void **state)
{
    (void)state;
    run_matrix(TA);
}

static void test_matrix_developer(void **state)
{
    (void)state;
    run_matrix(DEV);
}

static void test_matrix_auditor_scoped(void **state)
{
    (void)state;
    run_matrix(AUD_T);
}

static void test_matrix_auditor_platform(void **state)
{
    (void)state;
    run_matrix(AUD_G);
}

static void test_matrix_finance_scoped(void **state)
{
    (void)state;
    run_matrix(FIN_T);
}

static void test_matrix_finance_platform(void **state)
{
    (void)state;
    run_matrix(FIN_G);
}

/* Personal access tokens: one's own whatever the role; a platform-admin may
 * read, update (revoke) and delete another's but never mint one in
 * another's name. */
static void test_matrix_tokens(void **state)
{
    (void)state;
    static char report[8192];
    int wrong = 0;
    report[0] = '\0';
    for (int who = 0; who < NPRINCIPALS; who++) {
        char own[512];
        snprintf(own, sizeof own, "{\"name\":\"t1\",\"user\":\"%s\",\"tenant\":\"%s\"}",
                 principals[who].subject, principals[who].tenant);
        const char *other = "{\"name\":\"t2\",\"user\":\"bob@globex\",\"tenant\":\"globex\"}";
        /* another's token in the principal's own tenant */
        const char *neighbour = "{\"name\":\"t3\",\"user\":\"alice@acme\",\"tenant\":\"acme\"}";
        const char *other_want = who == PA ? "ynyy" : NO;
        for (int v = 0; v < 4; v++) {
            wrong += check_cell(who, "token", own, v, 'y', report, sizeof report, "own");
            wrong += check_cell(who, "token", other, v, other_want[v], report, sizeof report,
                                "another tenant's user");
            wrong += check_cell(who, "token", neighbour, v, other_want[v], report, sizeof report,
                                "same tenant's user");
        }
    }
    if (wrong)
        fail_msg("%d token decisions wrong:\n%s", wrong, report);
}

/* A developer reads itself but not the other users of its tenant, and may
 * not edit itself; another team of its tenant is not its to read. */
static void test_developer_reads_itself(void **state)
{
    (void)state;
    static char report[4096];
    int wrong = 0;
    report[0] = '\0';
    const char *self =
        "{\"name\":\"dev@acme\",\"role\":\"developer\",\"tenant\":\"acme\",\"team\":\"ml\"}";
    const char *web = "{\"name\":\"web\",\"tenant\":\"acme\"}";
    const char *own_tenant_key = "{\"name\":\"k9\",\"tenant\":\"acme\",\"team\":\"ml\","
                                 "\"owner\":\"alice@acme\"}";
    for (int v = 0; v < 4; v++) {
        wrong += check_cell(DEV, "user", self, v, RO[v], report, sizeof report, "itself");
        wrong += check_cell(DEV, "team", web, v, 'n', report, sizeof report, "another team");
        wrong += check_cell(DEV, "key", own_tenant_key, v, 'n', report, sizeof report,
                            "a teammate's key");
    }
    if (wrong)
        fail_msg("%d decisions wrong:\n%s", wrong, report);
}

/* A principal that should have a tenant but has none (a broken session)
 * gets nothing tenant-scoped; its lists are refused. */
static void test_tenantless_scoped_roles(void **state)
{
    (void)state;
    char err[256];
    const char *ft, *fo;
    asc_rbac_role_t roles[] = {ASC_RBAC_TENANT_ADMIN, ASC_RBAC_DEVELOPER};
    for (size_t i = 0; i < 2; i++) {
        asc_principal_t p = principal(TA);
        p.role = roles[i];
        p.tenant[0] = '\0';
        for (size_t o = 0; o < NOBJECTS; o++) {
            if (strcmp(objects[o].kind, "provider") == 0 || strcmp(objects[o].kind, "route") == 0)
                continue;
            for (int s = 0; s < NSCOPES; s++) {
                cJSON *d = doc(objects[o].docs[s]);
                if (d == NULL)
                    continue;
                for (int v = 0; v < 4; v++) {
                    err[0] = '\0';
                    int st =
                        asc_rbac_check(&p, verbs[v], kind(objects[o].kind), d, err, sizeof err);
                    if (st != 403)
                        fail_msg("%s without tenant: %s %s (%s) = %d",
                                 asc_config_role_name(roles[i]), verb_names[v], objects[o].kind,
                                 scope_names[s], st);
                }
                cJSON_Delete(d);
            }
        }
        ft = fo = "x";
        assert_int_equal(asc_rbac_list_scope(&p, kind("key"), &ft, &fo, err, sizeof err), 403);
        assert_int_equal(asc_rbac_list_scope(&p, kind("team"), &ft, &fo, err, sizeof err), 403);
        assert_int_equal(asc_rbac_may_read_changes(&p, &ft, err, sizeof err), 403);
    }
}

/* ---- changes: before -> after ---- */

typedef struct {
    const char *what;
    int who;
    const char *kind;
    const char *before, *after; /* NULL: create / delete */
    int want;                   /* 0 or 403 */
    const char *phrase;         /* a phrase the 403's reason contains, or NULL */
} change_t;

#define DEV_SELF                                                                                   \
    "{\"name\":\"dev@acme\",\"role\":\"developer\",\"tenant\":\"acme\",\"team\":\"ml\"}"
#define TA_SELF "{\"name\":\"ta@acme\",\"role\":\"tenant-admin\",\"tenant\":\"acme\"}"
#define PA_SELF "{\"name\":\"root@corp\",\"role\":\"platform-admin\"}"
#define ALICE "{\"name\":\"alice@acme\",\"role\":\"developer\",\"tenant\":\"acme\",\"team\":\"ml\"}"
#define KEY(tenant, team, owner)                                                                   \
    "{\"name\":\"k1\",\"tenant\":\"" tenant "\",\"team\":\"" team "\",\"owner\":\"" owner          \
    "\",\"models\":[\"gpt-4o\"]}"

static const change_t changes[] = {
    /* a developer edits its own role */
    {"developer makes itself tenant-admin", DEV, "user", DEV_SELF,
     "{\"name\":\"dev@acme\",\"role\":\"tenant-admin\",\"tenant\":\"acme\"}", 403, NULL},
    {"developer makes itself platform-admin", DEV, "user", DEV_SELF,
     "{\"name\":\"dev@acme\",\"role\":\"platform-admin\"}", 403, NULL},
    {"developer edits its own e-mail", DEV, "user", DEV_SELF,
     "{\"name\":\"dev@acme\",\"role\":\"developer\",\"tenant\":\"acme\",\"team\":\"ml\","
     "\"email\":\"x@y\"}",
     403, NULL},
    {"developer moves itself to another team", DEV, "user", DEV_SELF,
     "{\"name\":\"dev@acme\",\"role\":\"developer\",\"tenant\":\"acme\",\"team\":\"web\"}", 403,
     NULL},
    {"developer creates a user", DEV, "user", NULL, ALICE, 403, NULL},
    /* a developer's keys: its own, in its team and tenant */
    {"developer creates its own key in its team", DEV, "key", NULL, KEY("acme", "ml", "dev@acme"),
     0, NULL},
    {"developer updates its own key", DEV, "key", KEY("acme", "ml", "dev@acme"),
     "{\"name\":\"k1\",\"tenant\":\"acme\",\"team\":\"ml\",\"owner\":\"dev@acme\","
     "\"models\":[\"gpt-4o-mini\"]}",
     0, NULL},
    {"developer deletes its own key", DEV, "key", KEY("acme", "ml", "dev@acme"), NULL, 0, NULL},
    {"developer creates a key in another team of its tenant", DEV, "key", NULL,
     KEY("acme", "web", "dev@acme"), 403, NULL},
    {"developer creates a key in another tenant", DEV, "key", NULL,
     KEY("globex", "ops", "dev@acme"), 403, NULL},
    {"developer creates a key in its team name under another tenant", DEV, "key", NULL,
     KEY("globex", "ml", "dev@acme"), 403, NULL},
    {"developer creates a key owned by a teammate", DEV, "key", NULL,
     KEY("acme", "ml", "alice@acme"), 403, NULL},
    {"developer creates a key without owner", DEV, "key", NULL,
     "{\"name\":\"k1\",\"tenant\":\"acme\",\"team\":\"ml\"}", 403, NULL},
    {"developer creates a team-less key", DEV, "key", NULL,
     "{\"name\":\"k1\",\"tenant\":\"acme\",\"owner\":\"dev@acme\"}", 403, NULL},
    {"developer creates a platform key", DEV, "key", NULL,
     "{\"name\":\"k1\",\"owner\":\"dev@acme\"}", 403, NULL},
    {"developer moves its key to another team", DEV, "key", KEY("acme", "ml", "dev@acme"),
     KEY("acme", "web", "dev@acme"), 403, NULL},
    {"developer moves its key to another tenant", DEV, "key", KEY("acme", "ml", "dev@acme"),
     KEY("globex", "ops", "dev@acme"), 403, NULL},
    {"developer takes over a teammate's key", DEV, "key", KEY("acme", "ml", "alice@acme"),
     KEY("acme", "ml", "dev@acme"), 403, NULL},
    {"developer hands its key to a teammate", DEV, "key", KEY("acme", "ml", "dev@acme"),
     KEY("acme", "ml", "alice@acme"), 403, NULL},
    {"developer deletes a teammate's key", DEV, "key", KEY("acme", "ml", "alice@acme"), NULL, 403,
     NULL},
    {"developer edits its team", DEV, "team", "{\"name\":\"ml\",\"tenant\":\"acme\"}",
     "{\"name\":\"ml\",\"tenant\":\"acme\",\"models\":[\"*\"]}", 403, NULL},
    {"developer creates a credential", DEV, "credential", NULL,
     "{\"name\":\"c1\",\"provider\":\"openai\",\"tenant\":\"acme\"}", 403, NULL},
    /* tokens */
    {"developer creates its own token", DEV, "token", NULL,
     "{\"name\":\"t\",\"user\":\"dev@acme\"}", 0, NULL},
    {"developer creates a token for a teammate", DEV, "token", NULL,
     "{\"name\":\"t\",\"user\":\"alice@acme\"}", 403, NULL},
    {"developer moves its token to a teammate", DEV, "token",
     "{\"name\":\"t\",\"user\":\"dev@acme\"}", "{\"name\":\"t\",\"user\":\"alice@acme\"}", 403,
     NULL},
    {"tenant-admin mints a token for its developer", TA, "token", NULL,
     "{\"name\":\"t\",\"user\":\"alice@acme\",\"tenant\":\"acme\"}", 403, NULL},
    {"platform-admin mints a token in another's name", PA, "token", NULL,
     "{\"name\":\"t\",\"user\":\"alice@acme\"}", 403, NULL},
    {"platform-admin revokes another's token", PA, "token",
     "{\"name\":\"t\",\"user\":\"alice@acme\"}", NULL, 0, NULL},
    /* tenant-admin grants platform-admin */
    {"tenant-admin creates a platform-admin in its tenant", TA, "user", NULL,
     "{\"name\":\"eve@acme\",\"role\":\"platform-admin\",\"tenant\":\"acme\"}", 403,
     "platform-admin"},
    {"tenant-admin creates a platform-admin without tenant", TA, "user", NULL,
     "{\"name\":\"eve@acme\",\"role\":\"platform-admin\"}", 403, NULL},
    {"tenant-admin promotes a developer to platform-admin", TA, "user", ALICE,
     "{\"name\":\"alice@acme\",\"role\":\"platform-admin\",\"tenant\":\"acme\"}", 403,
     "platform-admin"},
    {"tenant-admin demotes a platform-admin planted in its tenant", TA, "user",
     "{\"name\":\"eve@acme\",\"role\":\"platform-admin\",\"tenant\":\"acme\"}",
     "{\"name\":\"eve@acme\",\"role\":\"developer\",\"tenant\":\"acme\",\"team\":\"ml\"}", 403,
     NULL},
    {"tenant-admin creates a platform auditor", TA, "user", NULL,
     "{\"name\":\"aud@x\",\"role\":\"auditor\"}", 403, NULL},
    {"tenant-admin creates platform finance", TA, "user", NULL,
     "{\"name\":\"fin@x\",\"role\":\"finance\"}", 403, NULL},
    {"tenant-admin promotes a developer to tenant-admin", TA, "user", ALICE,
     "{\"name\":\"alice@acme\",\"role\":\"tenant-admin\",\"tenant\":\"acme\"}", 0, NULL},
    {"tenant-admin creates an auditor of its tenant", TA, "user", NULL,
     "{\"name\":\"aud2@acme\",\"role\":\"auditor\",\"tenant\":\"acme\"}", 0, NULL},
    {"tenant-admin deletes a developer of its tenant", TA, "user", ALICE, NULL, 0, NULL},
    /* tenant-admin and its own tenant */
    {"tenant-admin widens its tenant's models", TA, "tenant", "{\"name\":\"acme\"}",
     "{\"name\":\"acme\",\"models\":[\"*\"]}", 403, "own tenant"},
    {"tenant-admin raises its tenant's limits", TA, "tenant",
     "{\"name\":\"acme\",\"limits\":{\"rpm\":10}}",
     "{\"name\":\"acme\",\"limits\":{\"rpm\":1000000}}", 403, NULL},
    {"tenant-admin deletes its tenant", TA, "tenant", "{\"name\":\"acme\"}", NULL, 403, NULL},
    {"tenant-admin creates a tenant", TA, "tenant", NULL, "{\"name\":\"acme2\"}", 403, NULL},
    /* moving an object between tenants */
    {"tenant-admin moves a key out of its tenant", TA, "key", KEY("acme", "ml", "alice@acme"),
     KEY("globex", "ops", "alice@acme"), 403, NULL},
    {"tenant-admin pulls a key into its tenant", TA, "key", KEY("globex", "ops", "bob@globex"),
     KEY("acme", "ml", "bob@globex"), 403, NULL},
    {"tenant-admin makes a key a platform key", TA, "key", KEY("acme", "ml", "alice@acme"),
     "{\"name\":\"k1\",\"owner\":\"alice@acme\"}", 403, NULL},
    {"tenant-admin moves a team out", TA, "team", "{\"name\":\"ml\",\"tenant\":\"acme\"}",
     "{\"name\":\"ml\",\"tenant\":\"globex\"}", 403, NULL},
    {"tenant-admin moves a user out", TA, "user", ALICE,
     "{\"name\":\"alice@acme\",\"role\":\"developer\",\"tenant\":\"globex\",\"team\":\"ops\"}", 403,
     NULL},
    {"tenant-admin makes its credential global", TA, "credential",
     "{\"name\":\"c1\",\"provider\":\"openai\",\"tenant\":\"acme\"}",
     "{\"name\":\"c1\",\"provider\":\"openai\"}", 403, NULL},
    {"tenant-admin takes over the global credential", TA, "credential",
     "{\"name\":\"c0\",\"provider\":\"openai\"}",
     "{\"name\":\"c0\",\"provider\":\"openai\",\"tenant\":\"acme\"}", 403, NULL},
    {"tenant-admin claims a provider", TA, "provider", "{\"name\":\"openai\",\"kind\":\"openai\"}",
     "{\"name\":\"openai\",\"kind\":\"openai\",\"tenant\":\"acme\"}", 403, NULL},
    {"tenant-admin edits a key within its tenant", TA, "key", KEY("acme", "ml", "alice@acme"),
     KEY("acme", "web", "alice@acme"), 0, NULL},
    {"platform-admin moves a key between tenants", PA, "key", KEY("acme", "ml", "alice@acme"),
     KEY("globex", "ops", "alice@acme"), 0, NULL},
    /* nobody changes their own role or tenant, or deletes themself */
    {"tenant-admin demotes itself", TA, "user", TA_SELF,
     "{\"name\":\"ta@acme\",\"role\":\"developer\",\"tenant\":\"acme\",\"team\":\"ml\"}", 403,
     "own role"},
    {"tenant-admin promotes itself to platform-admin", TA, "user", TA_SELF,
     "{\"name\":\"ta@acme\",\"role\":\"platform-admin\",\"tenant\":\"acme\"}", 403, NULL},
    {"tenant-admin moves itself to another tenant", TA, "user", TA_SELF,
     "{\"name\":\"ta@acme\",\"role\":\"tenant-admin\",\"tenant\":\"globex\"}", 403, NULL},
    {"tenant-admin drops its own role field", TA, "user", TA_SELF,
     "{\"name\":\"ta@acme\",\"tenant\":\"acme\"}", 403, NULL},
    {"tenant-admin deletes itself", TA, "user", TA_SELF, NULL, 403, NULL},
    {"tenant-admin recreates itself", TA, "user", NULL, TA_SELF, 403, NULL},
    {"tenant-admin edits its own e-mail", TA, "user", TA_SELF,
     "{\"name\":\"ta@acme\",\"role\":\"tenant-admin\",\"tenant\":\"acme\",\"email\":\"t@a\"}", 0,
     NULL},
    {"platform-admin demotes itself", PA, "user", PA_SELF,
     "{\"name\":\"root@corp\",\"role\":\"auditor\"}", 403, "own role"},
    {"platform-admin gives itself a tenant", PA, "user", PA_SELF,
     "{\"name\":\"root@corp\",\"role\":\"platform-admin\",\"tenant\":\"acme\"}", 403, NULL},
    {"platform-admin deletes itself", PA, "user", PA_SELF, NULL, 403, NULL},
    {"platform-admin edits its own e-mail", PA, "user", PA_SELF,
     "{\"name\":\"root@corp\",\"role\":\"platform-admin\",\"email\":\"r@c\"}", 0, NULL},
    {"platform-admin promotes another user", PA, "user", ALICE,
     "{\"name\":\"alice@acme\",\"role\":\"platform-admin\"}", 0, NULL},
    {"platform auditor promotes itself", AUD_G, "user",
     "{\"name\":\"aud@corp\",\"role\":\"auditor\"}",
     "{\"name\":\"aud@corp\",\"role\":\"platform-admin\"}", 403, NULL},
    {"auditor widens itself to the platform", AUD_T, "user",
     "{\"name\":\"aud@acme\",\"role\":\"auditor\",\"tenant\":\"acme\"}",
     "{\"name\":\"aud@acme\",\"role\":\"auditor\"}", 403, NULL},
    {"finance edits a key budget", FIN_T, "key",
     "{\"name\":\"k1\",\"tenant\":\"acme\",\"limits\":{\"budget_usd\":1}}",
     "{\"name\":\"k1\",\"tenant\":\"acme\",\"limits\":{\"budget_usd\":1000}}", 403, NULL},
    {"platform finance creates a tenant", FIN_G, "tenant", NULL, "{\"name\":\"t9\"}", 403, NULL},
};

static void test_changes(void **state)
{
    (void)state;
    static char report[16384];
    int wrong = 0;
    report[0] = '\0';
    for (size_t i = 0; i < sizeof changes / sizeof changes[0]; i++) {
        const change_t *c = &changes[i];
        asc_principal_t p = principal(c->who);
        cJSON *b = doc(c->before), *a = doc(c->after);
        char err[512] = "";
        int st = asc_rbac_check_change(&p, kind(c->kind), b, a, err, sizeof err);
        cJSON_Delete(b);
        cJSON_Delete(a);
        int bad = st != c->want || (c->want == 403 && err[0] == '\0') ||
                  (c->want == 403 && c->phrase != NULL && strstr(err, c->phrase) == NULL);
        if (bad) {
            size_t n = strlen(report);
            snprintf(report + n, sizeof report - n, "  %s: expected %d, got %d \"%s\"\n", c->what,
                     c->want, st, err);
            wrong++;
        }
    }
    if (wrong)
        fail_msg("%d changes decided wrong:\n%s", wrong, report);
}

/* The reasons name the rule, not only "forbidden". */
static void test_reasons(void **state)
{
    (void)state;
    char err[512];
    asc_principal_t dev = principal(DEV), fin = principal(FIN_T), aud = principal(AUD_G);
    cJSON *d = doc(KEY("acme", "web", "dev@acme"));
    assert_int_equal(asc_rbac_check(&dev, ASC_RBAC_CREATE, kind("key"), d, err, sizeof err), 403);
    assert_non_null(strstr(err, "ml"));
    cJSON_Delete(d);
    d = doc("{\"name\":\"c1\",\"provider\":\"openai\",\"tenant\":\"acme\"}");
    assert_int_equal(asc_rbac_check(&fin, ASC_RBAC_READ, kind("credential"), d, err, sizeof err),
                     403);
    assert_non_null(strstr(err, "finance"));
    assert_int_equal(asc_rbac_check(&aud, ASC_RBAC_UPDATE, kind("credential"), d, err, sizeof err),
                     403);
    assert_non_null(strstr(err, "read-only"));
    /* a tiny buffer is still terminated */
    char small[8];
    memset(small, 'x', sizeof small);
    assert_int_equal(
        asc_rbac_check(&aud, ASC_RBAC_DELETE, kind("credential"), d, small, sizeof small), 403);
    assert_int_equal(small[7], '\0');
    cJSON_Delete(d);
}

/* ---- list scopes ---- */

typedef struct {
    int who;
    const char *kind;
    int want;
    const char *tenant, *owner; /* forced filters; NULL = none */
} list_t;

static const list_t lists[] = {
    {PA, "tenant", 0, NULL, NULL},
    {PA, "team", 0, NULL, NULL},
    {PA, "user", 0, NULL, NULL},
    {PA, "key", 0, NULL, NULL},
    {PA, "credential", 0, NULL, NULL},
    {PA, "provider", 0, NULL, NULL},
    {PA, "route", 0, NULL, NULL},
    {PA, "token", 0, NULL, NULL},
    {TA, "tenant", 0, "acme", NULL},
    {TA, "team", 0, "acme", NULL},
    {TA, "user", 0, "acme", NULL},
    {TA, "key", 0, "acme", NULL},
    {TA, "credential", 0, "acme", NULL},
    {TA, "provider", 0, NULL, NULL},
    {TA, "route", 0, NULL, NULL},
    {TA, "token", 0, NULL, "ta@acme"},
    {DEV, "tenant", 0, "acme", NULL},
    {DEV, "team", 0, "acme", NULL},
    {DEV, "user", 0, "acme", "dev@acme"},
    {DEV, "key", 0, "acme", "dev@acme"},
    {DEV, "credential", 403, NULL, NULL},
    {DEV, "provider", 0, NULL, NULL},
    {DEV, "route", 0, NULL, NULL},
    {DEV, "token", 0, NULL, "dev@acme"},
    {AUD_T, "tenant", 0, "acme", NULL},
    {AUD_T, "team", 0, "acme", NULL},
    {AUD_T, "user", 0, "acme", NULL},
    {AUD_T, "key", 0, "acme", NULL},
    {AUD_T, "credential", 0, "acme", NULL},
    {AUD_T, "provider", 0, NULL, NULL},
    {AUD_T, "route", 0, NULL, NULL},
    {AUD_T, "token", 0, NULL, "aud@acme"},
    {AUD_G, "tenant", 0, NULL, NULL},
    {AUD_G, "team", 0, NULL, NULL},
    {AUD_G, "user", 0, NULL, NULL},
    {AUD_G, "key", 0, NULL, NULL},
    {AUD_G, "credential", 0, NULL, NULL},
    {AUD_G, "provider", 0, NULL, NULL},
    {AUD_G, "route", 0, NULL, NULL},
    {AUD_G, "token", 0, NULL, "aud@corp"},
    {FIN_T, "tenant", 0, "acme", NULL},
    {FIN_T, "team", 0, "acme", NULL},
    {FIN_T, "user", 403, NULL, NULL},
    {FIN_T, "key", 0, "acme", NULL},
    {FIN_T, "credential", 403, NULL, NULL},
    {FIN_T, "provider", 403, NULL, NULL},
    {FIN_T, "route", 403, NULL, NULL},
    {FIN_T, "token", 0, NULL, "fin@acme"},
    {FIN_G, "tenant", 0, NULL, NULL},
    {FIN_G, "team", 0, NULL, NULL},
    {FIN_G, "user", 403, NULL, NULL},
    {FIN_G, "key", 0, NULL, NULL},
    {FIN_G, "credential", 403, NULL, NULL},
    {FIN_G, "provider", 403, NULL, NULL},
    {FIN_G, "route", 403, NULL, NULL},
    {FIN_G, "token", 0, NULL, "fin@corp"},
};

static int same(const char *a, const char *b)
{
    return (a == NULL && b == NULL) || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

static void test_list_scopes(void **state)
{
    (void)state;
    static char report[16384];
    int wrong = 0;
    report[0] = '\0';
    size_t n = sizeof lists / sizeof lists[0];
    assert_int_equal(n, NPRINCIPALS * asc_control_nkinds);
    for (size_t i = 0; i < n; i++) {
        const list_t *l = &lists[i];
        asc_principal_t p = principal(l->who);
        const char *ft = "unset", *fo = "unset";
        char err[512] = "";
        int st = asc_rbac_list_scope(&p, kind(l->kind), &ft, &fo, err, sizeof err);
        int bad = st != l->want;
        if (!bad && st == 0)
            bad = !same(ft, l->tenant) || !same(fo, l->owner);
        if (!bad && st == 403)
            bad = err[0] == '\0';
        if (bad) {
            size_t m = strlen(report);
            snprintf(report + m, sizeof report - m,
                     "  %s lists %ss: expected %d tenant=%s owner=%s, got %d tenant=%s owner=%s "
                     "\"%s\"\n",
                     principals[l->who].label, l->kind, l->want, l->tenant ? l->tenant : "(none)",
                     l->owner ? l->owner : "(none)", st, ft ? ft : "(none)", fo ? fo : "(none)",
                     err);
            wrong++;
        }
    }
    if (wrong)
        fail_msg("%d list scopes wrong:\n%s", wrong, report);
}

/* A developer's key list is forced to its tenant and itself (the filters
 * point into the principal), and what passes them also passes the READ
 * check the list handler applies to every item. */
static void test_list_filter_matches_check(void **state)
{
    (void)state;
    asc_principal_t p = principal(DEV);
    const char *ft, *fo;
    char err[256];
    assert_int_equal(asc_rbac_list_scope(&p, kind("key"), &ft, &fo, err, sizeof err), 0);
    /* the filter points into the principal, not at a static */
    assert_ptr_equal(ft, p.tenant);
    assert_ptr_equal(fo, p.subject);
    cJSON *mine = doc(KEY("acme", "ml", "dev@acme"));
    assert_int_equal(asc_rbac_check(&p, ASC_RBAC_READ, kind("key"), mine, err, sizeof err), 0);
    cJSON_Delete(mine);
}

/* ---- non-object routes ---- */

static void test_change_log(void **state)
{
    (void)state;
    static const struct {
        int who, want;
        const char *tenant;
    } t[] = {
        {PA, 0, NULL},    {TA, 0, "acme"},    {DEV, 403, NULL},   {AUD_T, 0, "acme"},
        {AUD_G, 0, NULL}, {FIN_T, 403, NULL}, {FIN_G, 403, NULL},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        asc_principal_t p = principal(t[i].who);
        const char *ft = "unset";
        char err[256] = "";
        int st = asc_rbac_may_read_changes(&p, &ft, err, sizeof err);
        if (st != t[i].want)
            fail_msg("%s reads the change log: expected %d, got %d \"%s\"",
                     principals[t[i].who].label, t[i].want, st, err);
        if (st == 0 && !same(ft, t[i].tenant))
            fail_msg("%s change log filter: expected %s, got %s", principals[t[i].who].label,
                     t[i].tenant ? t[i].tenant : "(none)", ft ? ft : "(none)");
        if (st == 403)
            assert_true(err[0] != '\0');
    }
}

static void test_revisions_and_apply(void **state)
{
    (void)state;
    /* revisions span every tenant; applying a file replaces everything */
    static const struct {
        int who, revisions, apply;
    } t[] = {
        {PA, 0, 0},      {TA, 403, 403},    {DEV, 403, 403},   {AUD_T, 403, 403},
        {AUD_G, 0, 403}, {FIN_T, 403, 403}, {FIN_G, 403, 403},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        asc_principal_t p = principal(t[i].who);
        char err[256] = "";
        int st = asc_rbac_may_read_revisions(&p, err, sizeof err);
        if (st != t[i].revisions)
            fail_msg("%s reads revisions: expected %d, got %d", principals[t[i].who].label,
                     t[i].revisions, st);
        err[0] = '\0';
        st = asc_rbac_may_apply(&p, err, sizeof err);
        if (st != t[i].apply)
            fail_msg("%s applies a config: expected %d, got %d", principals[t[i].who].label,
                     t[i].apply, st);
        if (st == 403)
            assert_true(err[0] != '\0');
    }
}

/* The tenant of an object: the tenant's own name, none for the global
 * catalogue whatever its document says. */
static void test_object_tenant(void **state)
{
    (void)state;
    cJSON *d = doc("{\"name\":\"acme\",\"tenant\":\"globex\"}");
    assert_string_equal(asc_rbac_object_tenant(kind("tenant"), d), "acme");
    assert_string_equal(asc_rbac_object_tenant(kind("team"), d), "globex");
    assert_string_equal(asc_rbac_object_tenant(kind("key"), d), "globex");
    assert_null(asc_rbac_object_tenant(kind("provider"), d));
    assert_null(asc_rbac_object_tenant(kind("route"), d));
    cJSON_Delete(d);
    d = doc("{\"name\":\"k\",\"tenant\":7}");
    assert_null(asc_rbac_object_tenant(kind("key"), d));
    cJSON_Delete(d);
    /* kinds by singular and plural */
    assert_ptr_equal(asc_control_kind("keys"), asc_control_kind("key"));
    assert_null(asc_control_kind("secrets"));
}

/* A tenant field of the wrong type is no tenant: never "in" a tenant. */
static void test_malformed_tenant_field(void **state)
{
    (void)state;
    char err[256];
    asc_principal_t ta = principal(TA), aud = principal(AUD_T);
    cJSON *d = doc("{\"name\":\"k\",\"tenant\":[\"acme\"],\"team\":\"ml\",\"owner\":\"x\"}");
    assert_int_equal(asc_rbac_check(&ta, ASC_RBAC_UPDATE, kind("key"), d, err, sizeof err), 403);
    assert_int_equal(asc_rbac_check(&aud, ASC_RBAC_READ, kind("key"), d, err, sizeof err), 403);
    cJSON_Delete(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_matrix_platform_admin),
        cmocka_unit_test(test_matrix_tenant_admin),
        cmocka_unit_test(test_matrix_developer),
        cmocka_unit_test(test_matrix_auditor_scoped),
        cmocka_unit_test(test_matrix_auditor_platform),
        cmocka_unit_test(test_matrix_finance_scoped),
        cmocka_unit_test(test_matrix_finance_platform),
        cmocka_unit_test(test_matrix_tokens),
        cmocka_unit_test(test_developer_reads_itself),
        cmocka_unit_test(test_tenantless_scoped_roles),
        cmocka_unit_test(test_changes),
        cmocka_unit_test(test_reasons),
        cmocka_unit_test(test_list_scopes),
        cmocka_unit_test(test_list_filter_matches_check),
        cmocka_unit_test(test_change_log),
        cmocka_unit_test(test_revisions_and_apply),
        cmocka_unit_test(test_object_tenant),
        cmocka_unit_test(test_malformed_tenant_field),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * The control plane's one write path against a real SQLite store: revisions,
 * the change log with digests, preconditions, file-managed objects, whole-
 * state validation, and file applies (idempotent, deletions, drift).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "config/yaml.h"
#include "control/control.h"

typedef struct {
    int prepared, committed, discarded;
    int refuse; /* prepare fails */
    uint64_t last_rev;
    size_t nkeys;
} sink_t;

static asc_err_t prep(void *ud, asc_config_t *cfg, uint64_t rev, void **built, char *err,
                      size_t errlen)
{
    sink_t *s = ud;
    s->prepared++;
    if (s->refuse) {
        asc_config_free(cfg);
        snprintf(err, errlen, "refused by the sink");
        return ASC_EINVAL;
    }
    s->last_rev = rev;
    *built = cfg;
    return ASC_OK;
}

static void commit(void *ud, void *built)
{
    sink_t *s = ud;
    s->committed++;
    s->nkeys = ((asc_config_t *)built)->nkeys;
    asc_config_free(built);
}

static void discard(void *ud, void *built)
{
    sink_t *s = ud;
    s->discarded++;
    asc_config_free(built);
}

typedef struct {
    char dir[64];
    asc_store_t *store;
    asc_control_t *ctl;
    sink_t sink;
} fx_t;

static const char base_yaml[] = "providers:\n"
                                "  - {name: mock, kind: mock}\n"
                                "models:\n"
                                "  m1: {provider: mock, model: m1}\n"
                                "  m2: {provider: mock, model: m2}\n";

static cJSON *yaml(const char *text)
{
    char err[256];
    cJSON *t = asc_yaml_parse(text, strlen(text), err, sizeof err);
    if (t == NULL)
        fail_msg("yaml: %s", err);
    return t;
}

static int setup(void **state)
{
    fx_t *f = calloc(1, sizeof *f);
    char err[512], dsn[128];
    snprintf(f->dir, sizeof f->dir, "/tmp/asc_control_XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(dsn, sizeof dsn, "sqlite:%s/asc.db", f->dir);
    assert_int_equal(asc_store_open(dsn, &f->store, err, sizeof err), ASC_OK);
    asc_control_opts_t o = {.store = f->store, .sink = {prep, commit, discard, &f->sink}};
    assert_int_equal(asc_control_new(&o, &f->ctl, err, sizeof err), ASC_OK);
    cJSON *t = yaml(base_yaml);
    cJSON *rep = NULL;
    int st = 0;
    asc_err_t e =
        asc_control_apply(f->ctl, t, "file:/etc/asc.yaml", "test", 0, &rep, &st, err, sizeof err);
    if (e != ASC_OK)
        fail_msg("apply: %s", err);
    cJSON_Delete(rep);
    cJSON_Delete(t);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx_t *f = *state;
    char cmd[128];
    asc_control_free(f->ctl);
    asc_store_close(f->store);
    snprintf(cmd, sizeof cmd, "rm -rf %s", f->dir);
    assert_int_equal(system(cmd), 0);
    free(f);
    return 0;
}

static asc_err_t write_json(fx_t *f, asc_ctl_action_t act, const char *kind, const char *name,
                            const char *json, const char *if_match, asc_ctl_result_t *r, char *err,
                            size_t errlen)
{
    cJSON *doc = json ? cJSON_Parse(json) : NULL;
    asc_ctl_op_t op = {act, asc_control_kind(kind), name, doc, if_match};
    asc_err_t e = asc_control_write(f->ctl, "alice (test)", &op, NULL, NULL, r, err, errlen);
    cJSON_Delete(doc);
    return e;
}

static uint64_t store_rev(fx_t *f)
{
    uint64_t r = 0;
    char err[128];
    assert_int_equal(f->store->be->revision(f->store, &r, err, sizeof err), ASC_OK);
    return r;
}

static void test_create_update_delete_revisions(void **state)
{
    fx_t *f = *state;
    char err[512];
    asc_ctl_result_t r;
    uint64_t r0 = store_rev(f);
    assert_int_equal(r0, 1);
    assert_int_equal(write_json(f, ASC_CTL_CREATE, "tenant", "acme",
                                "{\"name\":\"acme\",\"models\":[\"m*\"]}", NULL, &r, err,
                                sizeof err),
                     ASC_OK);
    assert_int_equal(r.status, 201);
    assert_int_equal(r.revision, 2);
    assert_string_equal(r.obj.source, "api");
    assert_string_equal(r.obj.tenant, "acme");
    char etag1[65];
    snprintf(etag1, sizeof etag1, "%s", r.obj.etag);
    asc_ctl_result_free(&r);
    assert_int_equal(f->sink.last_rev, 2);

    /* a stale etag is refused, the right one accepted */
    assert_int_not_equal(write_json(f, ASC_CTL_PATCH, "tenant", "acme", "{\"models\":[\"m1\"]}",
                                    "0000", &r, err, sizeof err),
                         ASC_OK);
    assert_int_equal(r.status, 412);
    assert_string_equal(r.code, "precondition_failed");
    asc_ctl_result_free(&r);
    assert_int_equal(write_json(f, ASC_CTL_PATCH, "tenant", "acme", "{\"models\":[\"m1\"]}", etag1,
                                &r, err, sizeof err),
                     ASC_OK);
    assert_int_equal(r.status, 200);
    assert_int_equal(r.revision, 3);
    assert_non_null(strstr(r.obj.doc, "\"models\":[\"m1\"]"));
    asc_ctl_result_free(&r);

    /* an identical write is no change and no revision */
    assert_int_equal(write_json(f, ASC_CTL_PATCH, "tenant", "acme", "{\"models\":[\"m1\"]}", NULL,
                                &r, err, sizeof err),
                     ASC_OK);
    assert_int_equal(r.status, 200);
    assert_int_equal(store_rev(f), 3);
    asc_ctl_result_free(&r);

    assert_int_equal(
        write_json(f, ASC_CTL_DELETE, "tenant", "acme", NULL, NULL, &r, err, sizeof err), ASC_OK);
    assert_int_equal(r.status, 204);
    assert_int_equal(store_rev(f), 4);
    asc_ctl_result_free(&r);

    /* the change log: create, update, delete with chained digests */
    asc_store_change_query_t q = {.kind = "tenant", .name = "acme"};
    asc_store_changes_t c = {0};
    assert_int_equal(f->store->be->change_list(f->store, &q, &c, err, sizeof err), ASC_OK);
    assert_int_equal(c.n, 3);
    assert_string_equal(c.items[0].action, "create");
    assert_null(c.items[0].before_digest);
    assert_string_equal(c.items[0].after_digest, etag1);
    assert_string_equal(c.items[1].action, "update");
    assert_string_equal(c.items[1].before_digest, etag1);
    assert_string_equal(c.items[2].action, "delete");
    assert_string_equal(c.items[2].before_digest, c.items[1].after_digest);
    assert_null(c.items[2].after_digest);
    assert_string_equal(c.items[2].actor, "alice (test)");
    asc_store_changes_free(&c);
}

static void test_validation_refuses_and_leaves_store(void **state)
{
    fx_t *f = *state;
    char err[512];
    asc_ctl_result_t r;
    assert_int_equal(write_json(f, ASC_CTL_CREATE, "tenant", "acme",
                                "{\"name\":\"acme\",\"models\":[\"m1\"]}", NULL, &r, err,
                                sizeof err),
                     ASC_OK);
    asc_ctl_result_free(&r);
    uint64_t before = store_rev(f);
    int committed = f->sink.committed;
    /* a team wider than its tenant */
    assert_int_not_equal(write_json(f, ASC_CTL_CREATE, "team", "ml",
                                    "{\"name\":\"ml\",\"tenant\":\"acme\",\"models\":[\"m*\"]}",
                                    NULL, &r, err, sizeof err),
                         ASC_OK);
    assert_int_equal(r.status, 400);
    assert_string_equal(err, "teams.ml.models: \"m*\" is not within the models of tenant acme");
    asc_ctl_result_free(&r);
    /* deleting a tenant its team needs */
    assert_int_equal(write_json(f, ASC_CTL_CREATE, "team", "ml",
                                "{\"name\":\"ml\",\"tenant\":\"acme\"}", NULL, &r, err, sizeof err),
                     ASC_OK);
    asc_ctl_result_free(&r);
    before = store_rev(f);
    committed = f->sink.committed;
    assert_int_not_equal(
        write_json(f, ASC_CTL_DELETE, "tenant", "acme", NULL, NULL, &r, err, sizeof err), ASC_OK);
    assert_int_equal(r.status, 400);
    assert_non_null(strstr(err, "unknown tenant"));
    asc_ctl_result_free(&r);
    assert_int_equal(store_rev(f), before);
    assert_int_equal(f->sink.committed, committed);
    asc_store_obj_t o = {0};
    assert_int_equal(f->store->be->get(f->store, "tenant", "acme", &o, err, sizeof err), ASC_OK);
    asc_store_obj_free(&o);

    /* the sink refusing (a snapshot that cannot be built) also writes nothing */
    f->sink.refuse = 1;
    assert_int_not_equal(write_json(f, ASC_CTL_CREATE, "tenant", "beta", "{\"name\":\"beta\"}",
                                    NULL, &r, err, sizeof err),
                         ASC_OK);
    assert_int_equal(r.status, 400);
    assert_string_equal(err, "refused by the sink");
    asc_ctl_result_free(&r);
    f->sink.refuse = 0;
    assert_int_equal(f->store->be->get(f->store, "tenant", "beta", &o, err, sizeof err),
                     ASC_ENOTFOUND);
    assert_int_equal(store_rev(f), before);
}

static void test_conflicts(void **state)
{
    fx_t *f = *state;
    char err[512];
    asc_ctl_result_t r;
    assert_int_not_equal(write_json(f, ASC_CTL_CREATE, "route", "m1",
                                    "{\"name\":\"m1\",\"provider\":\"mock\",\"model\":\"x\"}", NULL,
                                    &r, err, sizeof err),
                         ASC_OK);
    assert_int_equal(r.status, 409);
    assert_string_equal(r.code, "already_exists");
    asc_ctl_result_free(&r);
    /* file-managed: refused with the file's name */
    assert_int_not_equal(
        write_json(f, ASC_CTL_PATCH, "route", "m1", "{\"model\":\"y\"}", NULL, &r, err, sizeof err),
        ASC_OK);
    assert_int_equal(r.status, 409);
    assert_string_equal(r.code, "file_managed");
    assert_non_null(strstr(err, "/etc/asc.yaml"));
    asc_ctl_result_free(&r);
    assert_int_not_equal(
        write_json(f, ASC_CTL_DELETE, "route", "m1", NULL, NULL, &r, err, sizeof err), ASC_OK);
    assert_int_equal(r.status, 409);
    asc_ctl_result_free(&r);
    assert_int_not_equal(
        write_json(f, ASC_CTL_DELETE, "route", "nope", NULL, NULL, &r, err, sizeof err), ASC_OK);
    assert_int_equal(r.status, 404);
    asc_ctl_result_free(&r);
    /* renaming through the body is refused */
    assert_int_equal(write_json(f, ASC_CTL_CREATE, "tenant", "acme", "{\"name\":\"acme\"}", NULL,
                                &r, err, sizeof err),
                     ASC_OK);
    asc_ctl_result_free(&r);
    assert_int_not_equal(write_json(f, ASC_CTL_REPLACE, "tenant", "acme", "{\"name\":\"other\"}",
                                    NULL, &r, err, sizeof err),
                         ASC_OK);
    assert_int_equal(r.status, 400);
    asc_ctl_result_free(&r);
}

static int deny_all(void *ud, const asc_kind_t *k, const cJSON *before, const cJSON *after,
                    char *err, size_t errlen)
{
    int *calls = ud;
    (*calls)++;
    assert_null(before);
    assert_non_null(after);
    assert_string_equal(k->kind, "tenant");
    snprintf(err, errlen, "no");
    return 403;
}

static void test_check_sees_the_change(void **state)
{
    fx_t *f = *state;
    char err[512];
    asc_ctl_result_t r;
    int calls = 0;
    cJSON *doc = cJSON_Parse("{\"name\":\"acme\"}");
    asc_ctl_op_t op = {ASC_CTL_CREATE, asc_control_kind("tenants"), "acme", doc, NULL};
    assert_int_equal(asc_control_write(f->ctl, "x", &op, deny_all, &calls, &r, err, sizeof err),
                     ASC_EDENIED);
    assert_int_equal(r.status, 403);
    assert_int_equal(calls, 1);
    asc_ctl_result_free(&r);
    cJSON_Delete(doc);
    asc_store_obj_t o = {0};
    assert_int_equal(f->store->be->get(f->store, "tenant", "acme", &o, err, sizeof err),
                     ASC_ENOTFOUND);
}

static cJSON *apply(fx_t *f, const char *text, const char *source, int dry, int want_status)
{
    char err[512];
    cJSON *t = yaml(text);
    cJSON *rep = NULL;
    int st = 0;
    asc_err_t e = asc_control_apply(f->ctl, t, source, "test", dry, &rep, &st, err, sizeof err);
    cJSON_Delete(t);
    assert_int_equal(st, want_status);
    if (want_status == 200 && e != ASC_OK)
        fail_msg("apply: %s", err);
    return rep;
}

static const char *change_action(const cJSON *rep, const char *name)
{
    const cJSON *c;
    cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(rep, "changes"))
    {
        if (strcmp(cJSON_GetObjectItemCaseSensitive(c, "name")->valuestring, name) == 0)
            return cJSON_GetObjectItemCaseSensitive(c, "action")->valuestring;
    }
    return NULL;
}

static void test_apply_idempotent_and_deletes(void **state)
{
    fx_t *f = *state;
    char err[512];
    uint64_t r0 = store_rev(f);
    /* the same file again: no change, no revision */
    cJSON *rep = apply(f, base_yaml, "file:/etc/asc.yaml", 0, 200);
    assert_true(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(rep, "revision")));
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(rep, "changes")), 0);
    cJSON_Delete(rep);
    assert_int_equal(store_rev(f), r0);

    /* an API object survives a file apply that does not declare it */
    asc_ctl_result_t r;
    assert_int_equal(write_json(f, ASC_CTL_CREATE, "tenant", "api-made", "{\"name\":\"api-made\"}",
                                NULL, &r, err, sizeof err),
                     ASC_OK);
    asc_ctl_result_free(&r);
    static const char v2[] = "providers:\n"
                             "  - {name: mock, kind: mock}\n"
                             "models:\n"
                             "  m1: {provider: mock, model: m1-new}\n"
                             "  m3: {provider: mock, model: m3}\n";
    /* dry run first: reports, writes nothing */
    uint64_t r1 = store_rev(f);
    rep = apply(f, v2, "file:/etc/asc.yaml", 1, 200);
    assert_string_equal(change_action(rep, "m1"), "update");
    assert_string_equal(change_action(rep, "m2"), "delete");
    assert_string_equal(change_action(rep, "m3"), "create");
    assert_null(change_action(rep, "api-made"));
    cJSON_Delete(rep);
    assert_int_equal(store_rev(f), r1);
    rep = apply(f, v2, "file:/etc/asc.yaml", 0, 200);
    assert_int_equal((int)cJSON_GetObjectItemCaseSensitive(rep, "revision")->valuedouble, r1 + 1);
    cJSON_Delete(rep);
    asc_store_obj_t o = {0};
    assert_int_equal(f->store->be->get(f->store, "route", "m2", &o, err, sizeof err),
                     ASC_ENOTFOUND);
    assert_int_equal(f->store->be->get(f->store, "tenant", "api-made", &o, err, sizeof err),
                     ASC_OK);
    assert_string_equal(o.source, "api");
    asc_store_obj_free(&o);
    /* another file does not delete this file's objects */
    rep = apply(f, "tenants:\n  - name: other\n", "file:/etc/other.yaml", 0, 200);
    assert_null(change_action(rep, "m1"));
    assert_string_equal(change_action(rep, "other"), "create");
    cJSON_Delete(rep);
    /* an invalid file is refused whole */
    uint64_t r2 = store_rev(f);
    rep = apply(f, "models:\n  bad: {provider: nope, model: x}\n", "file:/etc/asc.yaml", 0, 400);
    assert_null(rep);
    assert_int_equal(store_rev(f), r2);
}

static void test_apply_reports_drift(void **state)
{
    fx_t *f = *state;
    char err[512];
    /* edit a file-managed object behind the control plane's back */
    asc_store_obj_t o = {0};
    assert_int_equal(f->store->be->get(f->store, "route", "m1", &o, err, sizeof err), ASC_OK);
    free(o.doc);
    o.doc = strdup("{\"name\":\"m1\",\"provider\":\"mock\",\"model\":\"hand-edited\"}");
    char dg[65];
    asc_store_digest(o.doc, strlen(o.doc), dg);
    free(o.etag);
    o.etag = strdup(dg);
    assert_int_equal(f->store->be->put(f->store, &o, err, sizeof err), ASC_OK);
    asc_store_obj_free(&o);
    cJSON *rep = apply(f, base_yaml, "file:/etc/asc.yaml", 1, 200);
    const cJSON *c = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(rep, "changes"), 0);
    assert_non_null(c);
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(c, "name")->valuestring, "m1");
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(c, "action")->valuestring, "update");
    assert_true(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(c, "drift")));
    const cJSON *fields = cJSON_GetObjectItemCaseSensitive(c, "fields");
    assert_int_equal(cJSON_GetArraySize(fields), 1);
    assert_string_equal(cJSON_GetArrayItem(fields, 0)->valuestring, "model");
    cJSON_Delete(rep);
    /* applying puts the file's version back, and the drift is gone */
    cJSON_Delete(apply(f, base_yaml, "file:/etc/asc.yaml", 0, 200));
    rep = apply(f, base_yaml, "file:/etc/asc.yaml", 1, 200);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(rep, "changes")), 0);
    cJSON_Delete(rep);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_create_update_delete_revisions, setup, teardown),
        cmocka_unit_test_setup_teardown(test_validation_refuses_and_leaves_store, setup, teardown),
        cmocka_unit_test_setup_teardown(test_conflicts, setup, teardown),
        cmocka_unit_test_setup_teardown(test_check_sees_the_change, setup, teardown),
        cmocka_unit_test_setup_teardown(test_apply_idempotent_and_deletes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_apply_reports_drift, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

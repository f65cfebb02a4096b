/* src/store: the SQLite backend. Each test opens a fresh database in its own
 * mkdtemp directory (removed afterwards) and checks stored values, not just
 * return codes. */
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "core/clock.h"
#include "store/sqlite_int.h"
#include "store/store.h"

typedef struct {
    char dir[256];
    char path[300]; /* <dir>/data/asc.db: the data directory does not exist yet */
    asc_store_t *s;
    char err[256];
} fx_t;

static int setup(void **state)
{
    fx_t *f = calloc(1, sizeof *f);
    snprintf(f->dir, sizeof f->dir, "/tmp/asc-store-XXXXXX");
    if (mkdtemp(f->dir) == NULL)
        return -1;
    snprintf(f->path, sizeof f->path, "%s/data/asc.db", f->dir);
    *state = f;
    return 0;
}

static int rm_entry(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(p);
}

static int teardown(void **state)
{
    fx_t *f = *state;
    asc_store_close(f->s);
    nftw(f->dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    free(f);
    return 0;
}

/* Open f->path (with the "sqlite:" prefix) into f->s; fails the test on error. */
static asc_store_t *open_store(fx_t *f)
{
    char dsn[320];
    snprintf(dsn, sizeof dsn, "sqlite:%s", f->path);
    asc_err_t e = asc_store_open(dsn, &f->s, f->err, sizeof f->err);
    if (e != ASC_OK)
        fail_msg("open: %s (%s)", asc_err_name(e), f->err);
    return f->s;
}

static void reopen(fx_t *f)
{
    asc_store_close(f->s);
    f->s = NULL;
    open_store(f);
}

/* One integer from a constant query on the store's own connection. */
static int64_t sql_int(asc_store_t *s, const char *sql)
{
    sqlite3_stmt *st = NULL;
    int64_t v = -1;
    assert_int_equal(sqlite3_prepare_v2(asc_store_sqlite_handle(s), sql, -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
}

static void sql_text(asc_store_t *s, const char *sql, char *out, size_t n)
{
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_prepare_v2(asc_store_sqlite_handle(s), sql, -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    snprintf(out, n, "%s", (const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
}

/* An error message never carries SQL or the values involved. */
static void assert_generic_err(const char *err, const char *value)
{
    assert_true(strncmp(err, "store: ", 7) == 0);
    const char *sqlish[] = {"SELECT",    "INSERT",  "UPDATE",   "DELETE", "objects",
                            "revisions", "changes", "sessions", "?"};
    for (size_t i = 0; i < sizeof sqlish / sizeof sqlish[0]; i++)
        if (strstr(err, sqlish[i]) != NULL)
            fail_msg("error message leaks '%s': %s", sqlish[i], err);
    if (value != NULL && strstr(err, value) != NULL)
        fail_msg("error message leaks a value: %s", err);
}

static asc_store_obj_t obj(const char *kind, const char *name, const char *tenant, const char *team,
                           const char *owner, const char *doc)
{
    asc_store_obj_t o = {0};
    o.kind = (char *)kind;
    o.name = (char *)name;
    o.tenant = (char *)tenant;
    o.team = (char *)team;
    o.owner = (char *)owner;
    o.doc = (char *)doc;
    o.source = "api";
    o.etag = "e1";
    o.revision = 1;
    o.created_at = 1000;
    o.updated_at = 1000;
    o.created_by = "admin";
    o.updated_by = "admin";
    return o;
}

static void put(asc_store_t *s, const asc_store_obj_t *o)
{
    char err[256];
    asc_err_t e = s->be->put(s, o, err, sizeof err);
    if (e != ASC_OK)
        fail_msg("put %s/%s: %s (%s)", o->kind, o->name, asc_err_name(e), err);
}

static void add_rev(asc_store_t *s, uint64_t r, const char *actor)
{
    char err[256];
    asc_store_rev_t rv = {.revision = r,
                          .actor = (char *)actor,
                          .source = "api",
                          .summary = "change",
                          .at = (int64_t)(1000 + r)};
    asc_err_t e = s->be->rev_add(s, &rv, err, sizeof err);
    if (e != ASC_OK)
        fail_msg("rev_add %llu: %s (%s)", (unsigned long long)r, asc_err_name(e), err);
}

/* The names of a list, comma-separated. */
static void names_of(const asc_store_list_t *l, char *out, size_t n)
{
    size_t k = 0;
    out[0] = '\0';
    for (size_t i = 0; i < l->n && k < n; i++)
        k += (size_t)snprintf(out + k, n - k, "%s%s", i ? "," : "", l->items[i].name);
}

static void list_names(asc_store_t *s, const asc_store_query_t *q, char *out, size_t n, int *more)
{
    asc_store_list_t l;
    char err[256];
    asc_err_t e = s->be->list(s, q, &l, err, sizeof err);
    if (e != ASC_OK)
        fail_msg("list: %s (%s)", asc_err_name(e), err);
    names_of(&l, out, n);
    if (more != NULL)
        *more = l.more;
    asc_store_list_free(&l);
}

static void test_open_creates_private_wal_database(void **state)
{
    fx_t *f = *state;
    struct stat sb;
    char mode[32], wal[320];

    asc_store_t *s = open_store(f);
    assert_string_equal(s->be->name, "sqlite");
    assert_int_equal(s->be->version, 1);

    assert_int_equal(stat(f->path, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0600);
    char data[300];
    snprintf(data, sizeof data, "%s/data", f->dir);
    assert_int_equal(stat(data, &sb), 0);
    assert_true(S_ISDIR(sb.st_mode));
    assert_int_equal(sb.st_mode & 0777, 0700);

    sql_text(s, "PRAGMA journal_mode", mode, sizeof mode);
    assert_string_equal(mode, "wal");
    assert_int_equal(sql_int(s, "PRAGMA synchronous"), 1); /* NORMAL */
    assert_int_equal(sql_int(s, "PRAGMA foreign_keys"), 1);
    assert_int_equal(sql_int(s, "PRAGMA busy_timeout"), 5000);

    /* A write creates the -wal file with the database's mode. */
    assert_int_equal(s->be->meta_set(s, "k", "v", f->err, sizeof f->err), ASC_OK);
    snprintf(wal, sizeof wal, "%s-wal", f->path);
    assert_int_equal(stat(wal, &sb), 0);
    assert_int_equal(sb.st_mode & 0077, 0);

    /* WAL is a property of the file: a separate connection sees it. */
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(st, 0), "wal");
    sqlite3_finalize(st);
    sqlite3_close(db);
}

static void test_plain_path_and_bad_dsns(void **state)
{
    fx_t *f = *state;
    asc_store_t *s = (asc_store_t *)1;

    /* A plain path works like "sqlite:<path>". */
    assert_int_equal(asc_store_open(f->path, &f->s, f->err, sizeof f->err), ASC_OK);
    assert_non_null(f->s);

    assert_int_equal(asc_store_open("", &s, f->err, sizeof f->err), ASC_EINVAL);
    assert_null(s);
    s = (asc_store_t *)1;
    assert_int_equal(asc_store_open("sqlite:", &s, f->err, sizeof f->err), ASC_EINVAL);
    assert_null(s);
    assert_int_equal(asc_store_open("postgres://db/asc", &s, f->err, sizeof f->err),
                     ASC_EUNSUPPORTED);
    assert_null(s);

    /* A file that is not a database: refused, message names the path and
     * the reason, nothing else. */
    char junk[320];
    snprintf(junk, sizeof junk, "%s/junk.db", f->dir);
    FILE *fp = fopen(junk, "w");
    assert_non_null(fp);
    for (int i = 0; i < 4096; i++)
        fputc('x', fp);
    fclose(fp);
    assert_int_equal(asc_store_open(junk, &s, f->err, sizeof f->err), ASC_EIO);
    assert_null(s);
    assert_non_null(strstr(f->err, "store: cannot open "));
    assert_non_null(strstr(f->err, junk));
    assert_non_null(strstr(f->err, "not a database"));

    /* A parent that is a file. */
    char under[340];
    snprintf(under, sizeof under, "%s/sub/asc.db", junk);
    assert_int_equal(asc_store_open(under, &s, f->err, sizeof f->err), ASC_EIO);
    assert_null(s);
    assert_non_null(strstr(f->err, "store: cannot open "));

    /* In memory, for tests of other modules. */
    assert_int_equal(asc_store_open(":memory:", &s, f->err, sizeof f->err), ASC_OK);
    assert_int_equal(s->be->meta_set(s, "a", "b", f->err, sizeof f->err), ASC_OK);
    asc_store_close(s);
}

static void test_migrations_applied_once(void **state)
{
    fx_t *f = *state;
    int schema = -1;
    asc_store_t *s = open_store(f);
    int64_t n = (int64_t)asc_store_sqlite_nmigrations;

    assert_true(n >= 1);
    assert_int_equal(sql_int(s, "SELECT count(*) FROM schema_migrations"), n);
    assert_int_equal(sql_int(s, "SELECT max(version) FROM schema_migrations"), n);
    int64_t applied = sql_int(s, "SELECT applied_at FROM schema_migrations WHERE version = 1");
    assert_true(applied > 1600000000000LL); /* wall ms */
    assert_int_equal(sql_int(s, "SELECT count(*) FROM sqlite_schema WHERE name IN ('objects', "
                                "'revisions', 'changes', 'key_usage', 'sessions', 'meta')"),
                     6);
    assert_int_equal(sql_int(s, "SELECT count(*) FROM sqlite_schema WHERE type = 'index' AND "
                                "name IN ('objects_tenant', 'objects_team', 'objects_owner')"),
                     3);

    /* Again on the same connection, then on a new one: nothing new. */
    assert_int_equal(s->be->migrate(s, &schema, f->err, sizeof f->err), ASC_OK);
    assert_int_equal(schema, n);
    put(s, &(asc_store_obj_t){.kind = "tenant", .name = "acme", .doc = "{}"});
    reopen(f);
    s = f->s;
    assert_int_equal(sql_int(s, "SELECT count(*) FROM schema_migrations"), n);
    assert_int_equal(sql_int(s, "SELECT applied_at FROM schema_migrations WHERE version = 1"),
                     applied);
    assert_int_equal(sql_int(s, "SELECT count(*) FROM objects"), 1);
}

static void test_newer_schema_refused(void **state)
{
    fx_t *f = *state;
    asc_store_t *s = open_store(f);
    int64_t n = (int64_t)asc_store_sqlite_nmigrations;
    char sql[128];

    snprintf(sql, sizeof sql, "INSERT INTO schema_migrations VALUES (%lld, 1)", (long long)(n + 3));
    assert_int_equal(sqlite3_exec(asc_store_sqlite_handle(s), sql, NULL, NULL, NULL), SQLITE_OK);
    asc_store_close(f->s);
    f->s = NULL;

    asc_store_t *t = (asc_store_t *)1;
    char dsn[320];
    snprintf(dsn, sizeof dsn, "sqlite:%s", f->path);
    assert_int_equal(asc_store_open(dsn, &t, f->err, sizeof f->err), ASC_EUNSUPPORTED);
    assert_null(t);
    char want[128];
    snprintf(want, sizeof want, "schema version %lld is newer", (long long)(n + 3));
    assert_non_null(strstr(f->err, want));
    assert_non_null(strstr(f->err, "upgrade asc"));
    assert_generic_err(f->err, NULL);

    /* Refusing left the database as it was. */
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
    assert_int_equal(
        sqlite3_prepare_v2(db, "SELECT max(version) FROM schema_migrations", -1, &st, NULL),
        SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int64(st, 0), n + 3);
    sqlite3_finalize(st);
    sqlite3_close(db);
}

static void test_crud_round_trip(void **state)
{
    fx_t *f = *state;
    asc_store_t *s = open_store(f);
    asc_store_obj_t o = {
        .kind = "key",
        .name = "ci-key",
        .tenant = "acme",
        .team = "ml",
        .owner = "alice",
        .doc = "{\"name\":\"ci-key\",\"models\":[\"gpt-4o\"]}",
        .source = "file:/etc/asc/asc.yaml",
        .file_digest = "aa11",
        .etag = "bb22",
        .revision = 42,
        .created_at = 1700000000123LL,
        .updated_at = 1700000000456LL,
        .created_by = "root",
        .updated_by = "bob",
    };
    asc_store_obj_t g;

    assert_int_equal(s->be->get(s, "key", "ci-key", &g, f->err, sizeof f->err), ASC_ENOTFOUND);
    assert_null(g.name);
    put(s, &o);
    assert_int_equal(s->be->get(s, "key", "ci-key", &g, f->err, sizeof f->err), ASC_OK);
    assert_string_equal(g.kind, "key");
    assert_string_equal(g.name, "ci-key");
    assert_string_equal(g.tenant, "acme");
    assert_string_equal(g.team, "ml");
    assert_string_equal(g.owner, "alice");
    assert_string_equal(g.doc, o.doc);
    assert_string_equal(g.source, "file:/etc/asc/asc.yaml");
    assert_string_equal(g.file_digest, "aa11");
    assert_string_equal(g.etag, "bb22");
    assert_int_equal(g.revision, 42);
    assert_int_equal(g.created_at, 1700000000123LL);
    assert_int_equal(g.updated_at, 1700000000456LL);
    assert_string_equal(g.created_by, "root");
    assert_string_equal(g.updated_by, "bob");
    asc_store_obj_free(&g);
    assert_null(g.doc);

    /* Same name, other kind: a different object. */
    assert_int_equal(s->be->get(s, "user", "ci-key", &g, f->err, sizeof f->err), ASC_ENOTFOUND);

    /* NULL optional fields stay NULL; an empty doc stays empty. */
    asc_store_obj_t bare = {.kind = "tenant", .name = "t", .doc = ""};
    put(s, &bare);
    assert_int_equal(s->be->get(s, "tenant", "t", &g, f->err, sizeof f->err), ASC_OK);
    assert_null(g.tenant);
    assert_null(g.team);
    assert_null(g.owner);
    assert_null(g.source);
    assert_null(g.file_digest);
    assert_null(g.etag);
    assert_null(g.created_by);
    assert_string_equal(g.doc, "");
    assert_int_equal(g.revision, 0);
    asc_store_obj_free(&g);

    /* Required fields. */
    asc_store_obj_t nodoc = {.kind = "tenant", .name = "x"};
    assert_int_equal(s->be->put(s, &nodoc, f->err, sizeof f->err), ASC_EINVAL);

    assert_int_equal(s->be->del(s, "key", "ci-key", f->err, sizeof f->err), ASC_OK);
    assert_int_equal(s->be->get(s, "key", "ci-key", &g, f->err, sizeof f->err), ASC_ENOTFOUND);
    assert_int_equal(s->be->del(s, "key", "ci-key", f->err, sizeof f->err), ASC_ENOTFOUND);
    assert_int_equal(s->be->get(s, "tenant", "t", &g, f->err, sizeof f->err), ASC_OK);
    asc_store_obj_free(&g);

    /* Persisted across a reopen. */
    reopen(f);
    s = f->s;
    assert_int_equal(s->be->get(s, "tenant", "t", &g, f->err, sizeof f->err), ASC_OK);
    asc_store_obj_free(&g);
}

static void test_put_keeps_created(void **state)
{
    fx_t *f = *state;
    asc_store_t *s = open_store(f);
    asc_store_obj_t o = obj("team", "ml", "acme", NULL, NULL, "{\"v\":1}");
    asc_store_obj_t g;

    o.created_at = 100;
    o.updated_at = 100;
    o.created_by = "alice";
    o.updated_by = "alice";
    put(s, &o);

    o.doc = "{\"v\":2}";
    o.tenant = "globex";
    o.etag = "e2";
    o.revision = 7;
    o.created_at = 999;
    o.created_by = "mallory";
    o.updated_at = 200;
    o.updated_by = "bob";
    o.file_digest = "fd";
    o.source = "file:x.yaml";
    put(s, &o);

    assert_int_equal(s->be->get(s, "team", "ml", &g, f->err, sizeof f->err), ASC_OK);
    assert_int_equal(g.created_at, 100);
    assert_string_equal(g.created_by, "alice");
    assert_int_equal(g.updated_at, 200);
    assert_string_equal(g.updated_by, "bob");
    assert_string_equal(g.doc, "{\"v\":2}");
    assert_string_equal(g.tenant, "globex");
    assert_string_equal(g.etag, "e2");
    assert_int_equal(g.revision, 7);
    assert_string_equal(g.file_digest, "fd");
    assert_string_equal(g.source, "file:x.yaml");
    asc_store_obj_free(&g);
    assert_int_equal(sql_int(s, "SELECT count(*) FROM objects"), 1);
}

static void test_list_filters(void **state)
{
    fx_t *f = *state;
    asc_store_t *s = open_store(f);
    char names[512];

    put(s, &(asc_store_obj_t){.kind = "key",
                              .name = "k3",
                              .tenant = "acme",
                              .team = "ml",
                              .owner = "alice",
                              .doc = "{}"});
    put(s, &(asc_store_obj_t){.kind = "key",
                              .name = "k1",
                              .tenant = "acme",
                              .team = "web",
                              .owner = "bob",
                              .doc = "{}"});
    put(s, &(asc_store_obj_t){.kind = "key",
                              .name = "k2",
                              .tenant = "globex",
                              .team = "ml",
                              .owner = "alice",
                              .doc = "{}"});
    put(s, &(asc_store_obj_t){.kind = "key",
                              .name = "x1",
                              .tenant = "acme",
                              .team = "ml",
                              .owner = "carol",
                              .doc = "{}"});
    put(s, &(asc_store_obj_t){.kind = "key", .name = "k0", .doc = "{}"});
    put(s, &(asc_store_obj_t){.kind = "user",
                              .name = "k9",
                              .tenant = "acme",
                              .team = "ml",
                              .owner = "alice",
                              .doc = "{}"});

    list_names(s, &(asc_store_query_t){.kind = "key"}, names, sizeof names, NULL);
    assert_string_equal(names, "k0,k1,k2,k3,x1");
    list_names(s, &(asc_store_query_t){.kind = "user"}, names, sizeof names, NULL);
    assert_string_equal(names, "k9");
    list_names(s, &(asc_store_query_t){.kind = "route"}, names, sizeof names, NULL);
    assert_string_equal(names, "");
    list_names(s, &(asc_store_query_t){.kind = "key", .tenant = "acme"}, names, sizeof names, NULL);
    assert_string_equal(names, "k1,k3,x1");
    list_names(s, &(asc_store_query_t){.kind = "key", .team = "ml"}, names, sizeof names, NULL);
    assert_string_equal(names, "k2,k3,x1");
    list_names(s, &(asc_store_query_t){.kind = "key", .owner = "alice"}, names, sizeof names, NULL);
    assert_string_equal(names, "k2,k3");
    list_names(s, &(asc_store_query_t){.kind = "key", .prefix = "k"}, names, sizeof names, NULL);
    assert_string_equal(names, "k0,k1,k2,k3");
    list_names(s, &(asc_store_query_t){.kind = "key", .tenant = "acme", .team = "ml"}, names,
               sizeof names, NULL);
    assert_string_equal(names, "k3,x1");
    list_names(s,
               &(asc_store_query_t){
                   .kind = "key", .tenant = "acme", .team = "ml", .owner = "alice", .prefix = "k"},
               names, sizeof names, NULL);
    assert_string_equal(names, "k3");
    list_names(s, &(asc_store_query_t){.kind = "key", .prefix = "k", .after = "k1"}, names,
               sizeof names, NULL);
    assert_string_equal(names, "k2,k3");
    list_names(s, &(asc_store_query_t){.kind = "key", .tenant = "nobody"}, names, sizeof names,
               NULL);
    assert_string_equal(names, "");

    asc_store_list_t l;
    assert_int_equal(s->be->list(s, &(asc_store_query_t){0}, &l, f->err, sizeof f->err),
                     ASC_EINVAL);
    assert_int_equal(l.n, 0);
}

static void test_list_pagination(void **state)
{
    fx_t *f = *state;
    asc_store_t *s = open_store(f);
    char name[16], all[1024], page[512], want[1024];
    int more;
    size_t k = 0;

    want[0] = '\0';
    for (int i = 24; i >= 0; i--) { /* inserted out of order */
        snprintf(name, sizeof name, "n%02d", i);
        put(s, &(asc_store_obj_t){.kind = "route", .name = name, .doc = "{}"});
    }
    for (int i = 0; i < 25; i++)
        k += (size_t)snprintf(want + k, sizeof want - k, "%sn%02d", i ? "," : "", i);

    /* Pages of 10: 10 + more, 10 + more, 5 and no more. */
    asc_store_query_t q = {.kind = "route", .limit = 10};
    all[0] = '\0';
    int sizes[3], mores[3];
    for (int p = 0; p < 3; p++) {
        asc_store_list_t l;
        assert_int_equal(s->be->list(s, &q, &l, f->err, sizeof f->err), ASC_OK);
        sizes[p] = (int)l.n;
        mores[p] = l.more;
        names_of(&l, page, sizeof page);
        if (all[0] != '\0')
            strcat(all, ",");
        strcat(all, page);
        static char cursor[16];
        if (l.n > 0)
            snprintf(cursor, sizeof cursor, "%s", l.items[l.n - 1].name);
        q.after = cursor;
        asc_store_list_free(&l);
    }
    assert_int_equal(sizes[0], 10);
    assert_int_equal(sizes[1], 10);
    assert_int_equal(sizes[2], 5);
    assert_int_equal(mores[0], 1);
    assert_int_equal(mores[1], 1);
    assert_int_equal(mores[2], 0);
    assert_string_equal(all, want);

    /* A page that ends exactly at the last item has no more. */
    list_names(s, &(asc_store_query_t){.kind = "route", .limit = 5, .after = "n19"}, page,
               sizeof page, &more);
    assert_string_equal(page, "n20,n21,n22,n23,n24");
    assert_int_equal(more, 0);
    list_names(s, &(asc_store_query_t){.kind = "route", .limit = 25}, page, sizeof page, &more);
    assert_int_equal(more, 0);
    list_names(s, &(asc_store_query_t){.kind = "route", .limit = 24}, page, sizeof page, &more);
    assert_int_equal(more, 1);
    /* No limit: everything. */
    list_names(s, &(asc_store_query_t){.kind = "route"}, all, sizeof all, &more);
    assert_string_equal(all, want);
    assert_int_equal(more, 0);
    /* Cursor past the end. */
    list_names(s, &(asc_store_query_t){.kind = "route", .limit = 3, .after = "n24"}, page,
               sizeof page, &more);
    assert_string_equal(page, "");
    assert_int_equal(more, 0);
    /* Prefix with pagination. */
    list_names(s, &(asc_store_query_t){.kind = "route", .prefix = "n1", .limit = 4}, page,
               sizeof page, &more);
    assert_string_equal(page, "n10,n11,n12,n13");
    assert_int_equal(more, 1);
    list_names(s, &(asc_store_query_t){.kind = "route", .prefix = "n1", .limit = 4, .after = "n17"},
               page, sizeof page, &more);
    assert_string_equal(page, "n18,n19");
    assert_int_equal(more, 0);
}

static void test_list_prefix_is_literal(void **state)
{
    fx_t *f = *state;
    asc_store_t *s = open_store(f);
    const char *names[] = {"a%b",          "a_b", "axb",  "a%",
                           "ab",           "a",   "b%",   "\xc3\xa9t\xc3\xa9",
                           "\xc3\xa9\x61", "e",   "a\\b", "A%b"};
    char out[512];

    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        put(s, &(asc_store_obj_t){.kind = "route", .name = (char *)names[i], .doc = "{}"});

    list_names(s, &(asc_store_query_t){.kind = "route", .prefix = "a%"}, out, sizeof out, NULL);
    assert_string_equal(out, "a%,a%b");
    list_names(s, &(asc_store_query_t){.kind = "route", .prefix = "a_"}, out, sizeof out, NULL);
    assert_string_equal(out, "a_b");
    list_names(s, &(asc_store_query_t){.kind = "route", .prefix = "%"}, out, sizeof out, NULL);
    assert_string_equal(out, "");
    list_names(s, &(asc_store_query_t){.kind = "route", .prefix = "_"}, out, sizeof out, NULL);
    assert_string_equal(out, "");
    list_names(s, &(asc_store_query_t){.kind = "route", .prefix = "a\\"}, out, sizeof out, NULL);
    assert_string_equal(out, "a\\b");
    /* Case matters (no LIKE case folding). */
    list_names(s, &(asc_store_query_t){.kind = "route", .prefix = "A"}, out, sizeof out, NULL);
    assert_string_equal(out, "A%b");
    list_names(s, &(asc_store_query_t){.kind = "route", .prefix = "a"}, out, sizeof out, NULL);
    assert_string_equal(out, "a,a%,a%b,a\\b,a_b,ab,axb");
    list_names(s, &(asc_store_query_t){.kind = "route", .prefix = "\xc3\xa9"}, out, sizeof out,
               NULL);
    assert_string_equal(out, "\xc3\xa9\x61,\xc3\xa9t\xc3\xa9");
    /* An empty prefix filters nothing. */
    list_names(s, &(asc_store_query_t){.kind = "route", .prefix = ""}, out, sizeof out, NULL);
    assert_int_equal(strlen(out) > 0, 1);
    int commas = 0;
    for (char *p = out; *p; p++)
        commas += *p == ',';
    assert_int_equal(commas + 1, (int)(sizeof names / sizeof names[0]));
}

static void test_sql_metacharacters_stored_verbatim(void **state)
{
    fx_t *f = *state;
    asc_store_t *s = open_store(f);
    const char *evil[] = {
        "' OR 1=1--",
        "\"; DROP TABLE objects;--",
        "x'); DELETE FROM objects; --",
        "pg_sleep(8)",
        "'; SELECT pg_sleep(8); --",
        "Robert'); DROP TABLE revisions;--",
        "%_%\\'\"`;",
        "?1 ?2 :name @x $y",
        "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e \xf0\x9f\x94\x91 \xd8\xb9\xd8\xb1\xd8\xa8\xd9\x8a",
        "line\nbreak\ttab\r\x01\x7f",
    };
    size_t n = sizeof evil / sizeof evil[0];
    asc_store_obj_t g;

    for (size_t i = 0; i < n; i++) {
        asc_store_obj_t o = obj("user", evil[i], evil[i], evil[i], evil[i], evil[(i + 1) % n]);
        o.created_by = (char *)evil[i];
        put(s, &o);
    }
    assert_int_equal(sql_int(s, "SELECT count(*) FROM objects"), (int64_t)n);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(s->be->get(s, "user", evil[i], &g, f->err, sizeof f->err), ASC_OK);
        assert_int_equal(strlen(g.name), strlen(evil[i]));
        assert_memory_equal(g.name, evil[i], strlen(evil[i]));
        assert_string_equal(g.tenant, evil[i]);
        assert_string_equal(g.created_by, evil[i]);
        assert_string_equal(g.doc, evil[(i + 1) % n]);
        asc_store_obj_free(&g);

        /* Filters match the exact value, nothing else. */
        char names[256];
        list_names(s, &(asc_store_query_t){.kind = "user", .tenant = evil[i]}, names, sizeof names,
                   NULL);
        assert_string_equal(names, evil[i]);
        list_names(s, &(asc_store_query_t){.kind = "user", .prefix = evil[i]}, names, sizeof names,
                   NULL);
        assert_string_equal(names, evil[i]);
        assert_int_equal(s->be->meta_set(s, evil[i], evil[i], f->err, sizeof f->err), ASC_OK);
        char *v = NULL;
        assert_int_equal(s->be->meta_get(s, evil[i], &v, f->err, sizeof f->err), ASC_OK);
        assert_string_equal(v, evil[i]);
        free(v);
    }
    assert_int_equal(s->be->get(s, "user", "anything' OR '1'='1", &g, f->err, sizeof f->err),
                     ASC_ENOTFOUND);
    assert_int_equal(s->be->del(s, "user", "' OR 1=1", f->err, sizeof f->err), ASC_ENOTFOUND);

    /* Every table is still there, with every row. */
    assert_int_equal(sql_int(s, "SELECT count(*) FROM objects"), (int64_t)n);
    assert_int_equal(sql_int(s, "SELECT count(*) FROM sqlite_schema WHERE name IN ('objects', "
                                "'revisions', 'changes', 'key_usage', 'sessions', 'meta')"),
                     6);
    assert_int_equal(sql_int(s, "SELECT count(*) FROM meta"), (int64_t)n);
}

static void test_transactions(void **state)
{
    fx_t *f = *state;
    asc_store_t *s = open_store(f);
    asc_store_obj_t g;
    uint64_t rev = 99;

    assert_int_equal(s->be->begin(s, f->err, sizeof f->err), ASC_OK);
    put(s, &(asc_store_obj_t){.kind = "tenant", .name = "gone", .doc = "{}"});
    add_rev(s, 1, "alice");
    assert_int_equal(s->be->get(s, "tenant", "gone", &g, f->err, sizeof f->err), ASC_OK);
    asc_store_obj_free(&g);
    assert_int_equal(s->be->begin(s, f->err, sizeof f->err), ASC_EINVAL);
    s->be->rollback(s);
    assert_int_equal(s->be->get(s, "tenant", "gone", &g, f->err, sizeof f->err), ASC_ENOTFOUND);
    assert_int_equal(s->be->revision(s, &rev, f->err, sizeof f->err), ASC_OK);
    assert_int_equal(rev, 0);
    s->be->rollback(s); /* nothing open: harmless */

    assert_int_equal(s->be->begin(s, f->err, sizeof f->err), ASC_OK);
    put(s, &(asc_store_obj_t){.kind = "tenant", .name = "kept", .doc = "{}"});
    add_rev(s, 1, "alice");
    assert_int_equal(s->be->commit(s, f->err, sizeof f->err), ASC_OK);
    reopen(f);
    s = f->s;
    assert_int_equal(s->be->get(s, "tenant", "kept", &g, f->err, sizeof f->err), ASC_OK);
    asc_store_obj_free(&g);
    assert_int_equal(s->be->revision(s, &rev, f->err, sizeof f->err), ASC_OK);
    assert_int_equal(rev, 1);

    /* A deletion rolled back leaves the object. */
    assert_int_equal(s->be->begin(s, f->err, sizeof f->err), ASC_OK);
    assert_int_equal(s->be->del(s, "tenant", "kept", f->err, sizeof f->err), ASC_OK);
    s->be->rollback(s);
    assert_int_equal(s->be->get(s, "tenant", "kept", &g, f->err, sizeof f->err), ASC_OK);
    asc_store_obj_free(&g);
}

static void test_locked_database_message(void **state)
{
    fx_t *f = *state;
    asc_store_t *a = open_store(f);
    asc_store_t *b = NULL;

    assert_int_equal(asc_store_open(f->path, &b, f->err, sizeof f->err), ASC_OK);
    sqlite3_busy_timeout(asc_store_sqlite_handle(b), 20); /* not 5 s in a unit test */
    assert_int_equal(a->be->begin(a, f->err, sizeof f->err), ASC_OK);
    put(a, &(asc_store_obj_t){.kind = "tenant", .name = "secret-name", .doc = "{}"});
    assert_int_equal(b->be->begin(b, f->err, sizeof f->err), ASC_EIO);
    assert_string_equal(f->err, "store: database is locked");
    asc_store_obj_t o = {.kind = "tenant", .name = "secret-name", .doc = "{\"x\":1}"};
    assert_int_equal(b->be->put(b, &o, f->err, sizeof f->err), ASC_EIO);
    assert_string_equal(f->err, "store: database is locked");
    /* The reader still sees the last committed state (WAL). */
    asc_store_obj_t g;
    assert_int_equal(b->be->get(b, "tenant", "secret-name", &g, f->err, sizeof f->err),
                     ASC_ENOTFOUND);
    assert_int_equal(a->be->commit(a, f->err, sizeof f->err), ASC_OK);
    assert_int_equal(b->be->get(b, "tenant", "secret-name", &g, f->err, sizeof f->err), ASC_OK);
    asc_store_obj_free(&g);
    asc_store_close(b);
}

static void test_revisions(void **state)
{
    fx_t *f = *state;
    asc_store_t *s = open_store(f);
    uint64_t rev = 99;
    asc_store_rev_t *r = NULL;
    size_t n = 99;

    assert_int_equal(s->be->revision(s, &rev, f->err, sizeof f->err), ASC_OK);
    assert_int_equal(rev, 0);
    assert_int_equal(s->be->rev_list(s, 0, 0, &r, &n, f->err, sizeof f->err), ASC_OK);
    assert_null(r);
    assert_int_equal(n, 0);

    for (uint64_t i = 1; i <= 5; i++) {
        assert_int_equal(s->be->begin(s, f->err, sizeof f->err), ASC_OK);
        add_rev(s, i, i % 2 ? "alice" : "bob");
        assert_int_equal(s->be->commit(s, f->err, sizeof f->err), ASC_OK);
    }
    assert_int_equal(s->be->revision(s, &rev, f->err, sizeof f->err), ASC_OK);
    assert_int_equal(rev, 5);

    assert_int_equal(s->be->rev_list(s, 0, 0, &r, &n, f->err, sizeof f->err), ASC_OK);
    assert_int_equal(n, 5);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(r[i].revision, 5 - i);
    assert_string_equal(r[0].actor, "alice");
    assert_string_equal(r[1].actor, "bob");
    assert_string_equal(r[0].source, "api");
    assert_string_equal(r[0].summary, "change");
    assert_int_equal(r[0].at, 1005);
    asc_store_revs_free(r, n);

    assert_int_equal(s->be->rev_list(s, 4, 2, &r, &n, f->err, sizeof f->err), ASC_OK);
    assert_int_equal(n, 2);
    assert_int_equal(r[0].revision, 3);
    assert_int_equal(r[1].revision, 2);
    asc_store_revs_free(r, n);
    assert_int_equal(s->be->rev_list(s, 2, 10, &r, &n, f->err, sizeof f->err), ASC_OK);
    assert_int_equal(n, 1);
    assert_int_equal(r[0].revision, 1);
    asc_store_revs_free(r, n);
    assert_int_equal(s->be->rev_list(s, 1, 0, &r, &n, f->err, sizeof f->err), ASC_OK);
    assert_int_equal(n, 0);
    assert_null(r);

    /* A revision number twice: a constraint failure with a generic message. */
    asc_store_rev_t dup = {.revision = 3, .actor = "' OR 1=1--", .at = 1};
    assert_int_equal(s->be->rev_add(s, &dup, f->err, sizeof f->err), ASC_EIO);
    assert_string_equal(f->err, "store: constraint failed");
    assert_generic_err(f->err, dup.actor);
    assert_int_equal(s->be->revision(s, &rev, f->err, sizeof f->err), ASC_OK);
    assert_int_equal(rev, 5);
}

static void add_change(asc_store_t *s, uint64_t rev, const char *actor, const char *kind,
                       const char *name, const char *tenant, const char *action)
{
    char err[256];
    asc_store_change_t c = {.revision = rev,
                            .actor = (char *)actor,
                            .kind = (char *)kind,
                            .name = (char *)name,
                            .tenant = (char *)tenant,
                            .action = (char *)action,
                            .before_digest = strcmp(action, "create") ? "b0" : NULL,
                            .after_digest = strcmp(action, "delete") ? "a1" : NULL,
                            .at = (int64_t)(2000 + rev)};
    asc_err_t e = s->be->change_add(s, &c, err, sizeof err);
    if (e != ASC_OK)
        fail_msg("change_add: %s (%s)", asc_err_name(e), err);
}

static void change_ids(asc_store_t *s, const asc_store_change_query_t *q, char *out, size_t n,
                       int *more)
{
    asc_store_changes_t c;
    char err[256];
    size_t k = 0;
    asc_err_t e = s->be->change_list(s, q, &c, err, sizeof err);
    if (e != ASC_OK)
        fail_msg("change_list: %s (%s)", asc_err_name(e), err);
    out[0] = '\0';
    for (size_t i = 0; i < c.n; i++)
        k += (size_t)snprintf(out + k, n - k, "%s%llu", i ? "," : "",
                              (unsigned long long)c.items[i].id);
    if (more != NULL)
        *more = c.more;
    asc_store_changes_free(&c);
}

static void test_changes(void **state)
{
    fx_t *f = *state;
    asc_store_t *s = open_store(f);
    char ids[256];
    int more;

    assert_int_equal(s->be->begin(s, f->err, sizeof f->err), ASC_OK);
    add_rev(s, 1, "alice");
    add_change(s, 1, "alice", "tenant", "acme", "acme", "create"); /* 1 */
    add_change(s, 1, "alice", "team", "ml", "acme", "create");     /* 2 */
    assert_int_equal(s->be->commit(s, f->err, sizeof f->err), ASC_OK);
    assert_int_equal(s->be->begin(s, f->err, sizeof f->err), ASC_OK);
    /* The change may come before its revision within a transaction. */
    add_change(s, 2, "bob", "team", "ml", "acme", "update");         /* 3 */
    add_change(s, 2, "bob", "tenant", "globex", "globex", "create"); /* 4 */
    add_rev(s, 2, "bob");
    assert_int_equal(s->be->commit(s, f->err, sizeof f->err), ASC_OK);
    assert_int_equal(s->be->begin(s, f->err, sizeof f->err), ASC_OK);
    add_rev(s, 3, "alice");
    add_change(s, 3, "alice", "team", "ml", "acme", "delete"); /* 5 */
    add_change(s, 3, "alice", "key", "k1", NULL, "create");    /* 6 */
    assert_int_equal(s->be->commit(s, f->err, sizeof f->err), ASC_OK);

    change_ids(s, &(asc_store_change_query_t){0}, ids, sizeof ids, &more);
    assert_string_equal(ids, "1,2,3,4,5,6");
    assert_int_equal(more, 0);
    change_ids(s, &(asc_store_change_query_t){.kind = "team"}, ids, sizeof ids, NULL);
    assert_string_equal(ids, "2,3,5");
    change_ids(s, &(asc_store_change_query_t){.kind = "team", .name = "ml"}, ids, sizeof ids, NULL);
    assert_string_equal(ids, "2,3,5");
    change_ids(s, &(asc_store_change_query_t){.name = "acme"}, ids, sizeof ids, NULL);
    assert_string_equal(ids, "1");
    change_ids(s, &(asc_store_change_query_t){.tenant = "acme"}, ids, sizeof ids, NULL);
    assert_string_equal(ids, "1,2,3,5");
    change_ids(s, &(asc_store_change_query_t){.actor = "bob"}, ids, sizeof ids, NULL);
    assert_string_equal(ids, "3,4");
    change_ids(s, &(asc_store_change_query_t){.actor = "alice", .tenant = "acme"}, ids, sizeof ids,
               NULL);
    assert_string_equal(ids, "1,2,5");
    change_ids(s, &(asc_store_change_query_t){.actor = "' OR 1=1--"}, ids, sizeof ids, NULL);
    assert_string_equal(ids, "");

    /* Cursor and pages. */
    change_ids(s, &(asc_store_change_query_t){.limit = 4}, ids, sizeof ids, &more);
    assert_string_equal(ids, "1,2,3,4");
    assert_int_equal(more, 1);
    change_ids(s, &(asc_store_change_query_t){.after_id = 4, .limit = 4}, ids, sizeof ids, &more);
    assert_string_equal(ids, "5,6");
    assert_int_equal(more, 0);
    change_ids(s, &(asc_store_change_query_t){.tenant = "acme", .after_id = 1, .limit = 2}, ids,
               sizeof ids, &more);
    assert_string_equal(ids, "2,3");
    assert_int_equal(more, 1);
    change_ids(s, &(asc_store_change_query_t){.after_id = 6}, ids, sizeof ids, &more);
    assert_string_equal(ids, "");
    assert_int_equal(more, 0);

    /* Every field of one entry. */
    asc_store_changes_t c;
    assert_int_equal(s->be->change_list(s, &(asc_store_change_query_t){.after_id = 4, .limit = 1},
                                        &c, f->err, sizeof f->err),
                     ASC_OK);
    assert_int_equal(c.n, 1);
    assert_int_equal(c.items[0].id, 5);
    assert_int_equal(c.items[0].revision, 3);
    assert_string_equal(c.items[0].actor, "alice");
    assert_string_equal(c.items[0].kind, "team");
    assert_string_equal(c.items[0].name, "ml");
    assert_string_equal(c.items[0].tenant, "acme");
    assert_string_equal(c.items[0].action, "delete");
    assert_string_equal(c.items[0].before_digest, "b0");
    assert_null(c.items[0].after_digest);
    assert_int_equal(c.items[0].at, 2003);
    assert_int_equal(c.more, 1);
    asc_store_changes_free(&c);
    assert_int_equal(
        s->be->change_list(s, &(asc_store_change_query_t){.name = "k1"}, &c, f->err, sizeof f->err),
        ASC_OK);
    assert_int_equal(c.n, 1);
    assert_null(c.items[0].tenant);
    assert_null(c.items[0].before_digest);
    assert_string_equal(c.items[0].after_digest, "a1");
    asc_store_changes_free(&c);

    /* A change for a revision never recorded is refused at commit. */
    assert_int_equal(s->be->begin(s, f->err, sizeof f->err), ASC_OK);
    add_change(s, 77, "eve", "key", "k2", NULL, "create");
    assert_int_equal(s->be->commit(s, f->err, sizeof f->err), ASC_EIO);
    assert_generic_err(f->err, "eve");
    s->be->rollback(s);
    change_ids(s, &(asc_store_change_query_t){0}, ids, sizeof ids, NULL);
    assert_string_equal(ids, "1,2,3,4,5,6");
}

static void test_key_usage(void **state)
{
    fx_t *f = *state;
    asc_store_t *s = open_store(f);
    int64_t at = -1;

    assert_int_equal(s->be->key_last_used(s, "k1", &at, f->err, sizeof f->err), ASC_OK);
    assert_int_equal(at, 0);
    assert_int_equal(s->be->touch_key(s, "k1", 1000, f->err, sizeof f->err), ASC_OK);
    assert_int_equal(s->be->key_last_used(s, "k1", &at, f->err, sizeof f->err), ASC_OK);
    assert_int_equal(at, 1000);
    assert_int_equal(s->be->touch_key(s, "k1", 3000, f->err, sizeof f->err), ASC_OK);
    assert_int_equal(s->be->key_last_used(s, "k1", &at, f->err, sizeof f->err), ASC_OK);
    assert_int_equal(at, 3000);
    /* A late, older touch does not move it back. */
    assert_int_equal(s->be->touch_key(s, "k1", 2000, f->err, sizeof f->err), ASC_OK);
    assert_int_equal(s->be->key_last_used(s, "k1", &at, f->err, sizeof f->err), ASC_OK);
    assert_int_equal(at, 3000);
    assert_int_equal(s->be->key_last_used(s, "k2", &at, f->err, sizeof f->err), ASC_OK);
    assert_int_equal(at, 0);
    assert_int_equal(sql_int(s, "SELECT count(*) FROM key_usage"), 1);
}

static void test_sessions(void **state)
{
    fx_t *f = *state;
    asc_store_t *s = open_store(f);
    int64_t now = (int64_t)asc_clock_wall_ms();
    asc_store_session_t g;

    asc_store_session_t live = {
        .id_hash = "h-live", .principal = "{\"sub\":\"alice\"}", .expires_at = now + 3600000};
    asc_store_session_t old = {
        .id_hash = "h-old", .principal = "{\"sub\":\"bob\"}", .expires_at = now - 1};
    /* put drops expired sessions before it writes: put the old one last. */
    assert_int_equal(s->be->session_put(s, &live, f->err, sizeof f->err), ASC_OK);
    assert_int_equal(s->be->session_put(s, &old, f->err, sizeof f->err), ASC_OK);

    assert_int_equal(s->be->session_get(s, "h-live", &g, f->err, sizeof f->err), ASC_OK);
    assert_string_equal(g.id_hash, "h-live");
    assert_string_equal(g.principal, "{\"sub\":\"alice\"}");
    assert_int_equal(g.expires_at, now + 3600000);
    asc_store_session_free(&g);
    assert_null(g.principal);

    /* Expired: not found, and the row is gone. */
    assert_int_equal(sql_int(s, "SELECT count(*) FROM sessions WHERE id_hash = 'h-old'"), 1);
    assert_int_equal(s->be->session_get(s, "h-old", &g, f->err, sizeof f->err), ASC_ENOTFOUND);
    assert_null(g.principal);
    assert_int_equal(sql_int(s, "SELECT count(*) FROM sessions WHERE id_hash = 'h-old'"), 0);
    assert_int_equal(s->be->session_get(s, "h-none", &g, f->err, sizeof f->err), ASC_ENOTFOUND);

    /* Replacing a session (e.g. a refreshed expiry). */
    live.principal = "{\"sub\":\"alice\",\"role\":\"admin\"}";
    live.expires_at = now + 7200000;
    assert_int_equal(s->be->session_put(s, &live, f->err, sizeof f->err), ASC_OK);
    assert_int_equal(s->be->session_get(s, "h-live", &g, f->err, sizeof f->err), ASC_OK);
    assert_string_equal(g.principal, "{\"sub\":\"alice\",\"role\":\"admin\"}");
    assert_int_equal(g.expires_at, now + 7200000);
    asc_store_session_free(&g);
    assert_int_equal(sql_int(s, "SELECT count(*) FROM sessions"), 1);

    /* An expiry moved into the past ends it. */
    live.expires_at = now - 1000;
    assert_int_equal(s->be->session_put(s, &live, f->err, sizeof f->err), ASC_OK);
    assert_int_equal(s->be->session_get(s, "h-live", &g, f->err, sizeof f->err), ASC_ENOTFOUND);

    live.expires_at = now + 60000;
    assert_int_equal(s->be->session_put(s, &live, f->err, sizeof f->err), ASC_OK);
    assert_int_equal(s->be->session_del(s, "h-live", f->err, sizeof f->err), ASC_OK);
    assert_int_equal(s->be->session_get(s, "h-live", &g, f->err, sizeof f->err), ASC_ENOTFOUND);
    assert_int_equal(s->be->session_del(s, "h-live", f->err, sizeof f->err), ASC_OK);

    /* Any put also sweeps expired sessions. */
    assert_int_equal(s->be->session_put(s, &old, f->err, sizeof f->err), ASC_OK);
    assert_int_equal(sql_int(s, "SELECT count(*) FROM sessions WHERE id_hash = 'h-old'"), 1);
    assert_int_equal(s->be->session_put(s, &live, f->err, sizeof f->err), ASC_OK);
    assert_int_equal(sql_int(s, "SELECT count(*) FROM sessions WHERE id_hash = 'h-old'"), 0);
    assert_int_equal(sql_int(s, "SELECT count(*) FROM sessions"), 1);
}

static void test_meta(void **state)
{
    fx_t *f = *state;
    asc_store_t *s = open_store(f);
    char *v = (char *)1;

    assert_int_equal(s->be->meta_get(s, "master_check", &v, f->err, sizeof f->err), ASC_ENOTFOUND);
    assert_null(v);
    assert_int_equal(s->be->meta_set(s, "master_check", "v1", f->err, sizeof f->err), ASC_OK);
    assert_int_equal(s->be->meta_get(s, "master_check", &v, f->err, sizeof f->err), ASC_OK);
    assert_string_equal(v, "v1");
    free(v);
    assert_int_equal(s->be->meta_set(s, "master_check", "v2", f->err, sizeof f->err), ASC_OK);
    reopen(f);
    s = f->s;
    assert_int_equal(s->be->meta_get(s, "master_check", &v, f->err, sizeof f->err), ASC_OK);
    assert_string_equal(v, "v2");
    free(v);
    assert_int_equal(s->be->meta_get(s, "other", &v, f->err, sizeof f->err), ASC_ENOTFOUND);
    assert_int_equal(sql_int(s, "SELECT count(*) FROM meta"), 1);
}

static void test_digest(void **state)
{
    (void)state;
    char d[65];
    asc_store_digest("abc", 3, d);
    assert_string_equal(d, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    asc_store_digest("", 0, d);
    assert_string_equal(d, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    asc_store_digest("abcdef", 3, d); /* only len bytes count */
    assert_string_equal(d, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_open_creates_private_wal_database, setup, teardown),
        cmocka_unit_test_setup_teardown(test_plain_path_and_bad_dsns, setup, teardown),
        cmocka_unit_test_setup_teardown(test_migrations_applied_once, setup, teardown),
        cmocka_unit_test_setup_teardown(test_newer_schema_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_crud_round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_put_keeps_created, setup, teardown),
        cmocka_unit_test_setup_teardown(test_list_filters, setup, teardown),
        cmocka_unit_test_setup_teardown(test_list_pagination, setup, teardown),
        cmocka_unit_test_setup_teardown(test_list_prefix_is_literal, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sql_metacharacters_stored_verbatim, setup, teardown),
        cmocka_unit_test_setup_teardown(test_transactions, setup, teardown),
        cmocka_unit_test_setup_teardown(test_locked_database_message, setup, teardown),
        cmocka_unit_test_setup_teardown(test_revisions, setup, teardown),
        cmocka_unit_test_setup_teardown(test_changes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_key_usage, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sessions, setup, teardown),
        cmocka_unit_test_setup_teardown(test_meta, setup, teardown),
        cmocka_unit_test(test_digest),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

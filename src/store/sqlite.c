/*
 * The SQLite store backend: one database file in WAL mode, versioned schema
 * migrations (store/sqlite_schema.c), statements prepared once and cached.
 *
 * Every value reaches SQLite as a bound parameter. The only SQL text built
 * at run time is the WHERE clause of list and change_list, assembled from
 * constant fragments (one cached statement per combination of filters, so
 * each combination gets its own index plan).
 *
 * Error messages name the failure class only ("store: database is locked"),
 * from sqlite3_errstr(); sqlite3_errmsg() is never used, since it may quote
 * SQL, table or column names.
 */
#include "store/sqlite_int.h"

#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/clock.h"

#define BUSY_TIMEOUT_MS 5000

/* Cached statements with fixed text. */
enum {
    ST_BEGIN,
    ST_COMMIT,
    ST_ROLLBACK,
    ST_GET,
    ST_PUT,
    ST_DEL,
    ST_REV_MAX,
    ST_REV_ADD,
    ST_REV_LIST,
    ST_CHANGE_ADD,
    ST_TOUCH,
    ST_LAST_USED,
    ST_SESS_PUT,
    ST_SESS_GET,
    ST_SESS_DEL,
    ST_SESS_PURGE,
    ST_META_GET,
    ST_META_SET,
    ST_SCHEMA_VERSION,
    ST_SCHEMA_ADD,
    ST__N
};

#define OBJ_COLS                                                                                   \
    "kind, name, tenant, team, owner, doc, source, file_digest, etag, revision, created_at, "      \
    "updated_at, created_by, updated_by"

static const char *const stmt_sql[ST__N] = {
    [ST_BEGIN] = "BEGIN IMMEDIATE",
    [ST_COMMIT] = "COMMIT",
    [ST_ROLLBACK] = "ROLLBACK",
    [ST_GET] = "SELECT " OBJ_COLS " FROM objects WHERE kind = ?1 AND name = ?2",
    [ST_PUT] = "INSERT INTO objects (" OBJ_COLS ") "
               "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14) "
               "ON CONFLICT (kind, name) DO UPDATE SET tenant = excluded.tenant, "
               "team = excluded.team, owner = excluded.owner, doc = excluded.doc, "
               "source = excluded.source, file_digest = excluded.file_digest, "
               "etag = excluded.etag, revision = excluded.revision, "
               "updated_at = excluded.updated_at, updated_by = excluded.updated_by",
    [ST_DEL] = "DELETE FROM objects WHERE kind = ?1 AND name = ?2",
    [ST_REV_MAX] = "SELECT coalesce(max(revision), 0) FROM revisions",
    [ST_REV_ADD] = "INSERT INTO revisions (revision, actor, source, summary, at) "
                   "VALUES (?1, ?2, ?3, ?4, ?5)",
    [ST_REV_LIST] = "SELECT revision, actor, source, summary, at FROM revisions "
                    "WHERE revision < ?1 ORDER BY revision DESC LIMIT ?2",
    [ST_CHANGE_ADD] = "INSERT INTO changes (revision, actor, kind, name, tenant, action, "
                      "before_digest, after_digest, at) "
                      "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    [ST_TOUCH] = "INSERT INTO key_usage (name, last_used_at) VALUES (?1, ?2) "
                 "ON CONFLICT (name) DO UPDATE SET "
                 "last_used_at = max(last_used_at, excluded.last_used_at)",
    [ST_LAST_USED] = "SELECT last_used_at FROM key_usage WHERE name = ?1",
    [ST_SESS_PUT] = "INSERT INTO sessions (id_hash, principal, expires_at) VALUES (?1, ?2, ?3) "
                    "ON CONFLICT (id_hash) DO UPDATE SET principal = excluded.principal, "
                    "expires_at = excluded.expires_at",
    [ST_SESS_GET] = "SELECT principal, expires_at FROM sessions WHERE id_hash = ?1",
    [ST_SESS_DEL] = "DELETE FROM sessions WHERE id_hash = ?1",
    [ST_SESS_PURGE] = "DELETE FROM sessions WHERE expires_at <= ?1",
    [ST_META_GET] = "SELECT value FROM meta WHERE key = ?1",
    [ST_META_SET] = "INSERT INTO meta (key, value) VALUES (?1, ?2) "
                    "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
    [ST_SCHEMA_VERSION] = "SELECT coalesce(max(version), 0) FROM schema_migrations",
    [ST_SCHEMA_ADD] = "INSERT INTO schema_migrations (version, applied_at) VALUES (?1, ?2)",
};

/* list: the optional filters, in parameter order. */
enum { LF_TENANT, LF_TEAM, LF_OWNER, LF_PREFIX, LF_AFTER, LF__N };
static const char *const list_frag[LF__N] = {
    [LF_TENANT] = " AND tenant = ?2",
    [LF_TEAM] = " AND team = ?3",
    [LF_OWNER] = " AND owner = ?4",
    /* A byte range, not LIKE: '%' and '_' in a prefix are plain bytes, and
     * the primary key index serves the range. */
    [LF_PREFIX] = " AND name >= ?5 AND name < ?6",
    [LF_AFTER] = " AND name > ?7",
};
#define LIST_HEAD "SELECT " OBJ_COLS " FROM objects WHERE kind = ?1"
#define LIST_TAIL " ORDER BY name LIMIT ?8"

/* change_list: the optional filters, in parameter order. */
enum { CF_KIND, CF_NAME, CF_TENANT, CF_ACTOR, CF__N };
static const char *const change_frag[CF__N] = {
    [CF_KIND] = " AND kind = ?2",
    [CF_NAME] = " AND name = ?3",
    [CF_TENANT] = " AND tenant = ?4",
    [CF_ACTOR] = " AND actor = ?5",
};
#define CHANGE_HEAD                                                                                \
    "SELECT id, revision, actor, kind, name, tenant, action, before_digest, after_digest, at "     \
    "FROM changes WHERE id > ?1"
#define CHANGE_TAIL " ORDER BY id LIMIT ?6"

struct sqlite_store {
    asc_store_t base; /* first: asc_store_t * and struct sqlite_store * convert */
    sqlite3 *db;
    sqlite3_stmt *st[ST__N];
    sqlite3_stmt *list_st[1 << LF__N];
    sqlite3_stmt *change_st[1 << CF__N];
};

static struct sqlite_store *self(asc_store_t *s)
{
    return (struct sqlite_store *)s;
}

static void seterr(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void seterr(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    if (err == NULL || errlen == 0)
        return;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

/* Map a SQLite result code to asc_err_t and a generic message. */
static asc_err_t dberr(int rc, char *err, size_t errlen)
{
    seterr(err, errlen, "store: %s", sqlite3_errstr(rc));
    switch (rc & 0xff) {
    case SQLITE_NOMEM: return ASC_ENOMEM;
    case SQLITE_TOOBIG: return ASC_ETOOBIG;
    default: return ASC_EIO;
    }
}

/* The cached statement for sql in *slot, prepared on first use. */
static asc_err_t prep(struct sqlite_store *s, sqlite3_stmt **slot, const char *sql, char *err,
                      size_t errlen)
{
    if (*slot != NULL)
        return ASC_OK;
    int rc = sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT, slot, NULL);
    if (rc != SQLITE_OK) {
        *slot = NULL;
        return dberr(rc, err, errlen);
    }
    return ASC_OK;
}

static asc_err_t stmt(struct sqlite_store *s, int id, sqlite3_stmt **out, char *err, size_t errlen)
{
    asc_err_t e = prep(s, &s->st[id], stmt_sql[id], err, errlen);
    *out = s->st[id];
    return e;
}

/* Build head + the fragments selected by mask + tail into a cached slot. */
static asc_err_t prep_filtered(struct sqlite_store *s, sqlite3_stmt **slot, const char *head,
                               const char *const *frag, int nfrag, unsigned mask, const char *tail,
                               char *err, size_t errlen)
{
    char sql[1024];
    size_t n;

    if (*slot != NULL)
        return ASC_OK;
    n = (size_t)snprintf(sql, sizeof sql, "%s", head);
    for (int i = 0; i < nfrag; i++)
        if (mask & (1u << i))
            n += (size_t)snprintf(sql + n, sizeof sql - n, "%s", frag[i]);
    snprintf(sql + n, sizeof sql - n, "%s", tail);
    return prep(s, slot, sql, err, errlen);
}

/* Release a used statement: reset it and drop its bindings, which may point
 * into the caller's borrowed strings. */
static void finish(sqlite3_stmt *st)
{
    if (st != NULL) {
        sqlite3_reset(st);
        sqlite3_clear_bindings(st);
    }
}

static int bind_text(sqlite3_stmt *st, int i, const char *v)
{
    if (v == NULL)
        return sqlite3_bind_null(st, i);
    return sqlite3_bind_text(st, i, v, -1, SQLITE_STATIC);
}

static int bind_u64(sqlite3_stmt *st, int i, uint64_t v)
{
    return sqlite3_bind_int64(st, i, v > INT64_MAX ? INT64_MAX : (sqlite3_int64)v);
}

/* LIMIT for a page of `limit` items: one more, to learn whether there are
 * more; -1 (no limit) for 0. */
static sqlite3_int64 fetch_limit(size_t limit)
{
    if (limit == 0 || (uint64_t)limit >= INT64_MAX)
        return -1;
    return (sqlite3_int64)limit + 1;
}

/* Copy a text column into *out (NULL for SQL NULL). */
static asc_err_t col_str(sqlite3_stmt *st, int i, char **out)
{
    *out = NULL;
    if (sqlite3_column_type(st, i) == SQLITE_NULL)
        return ASC_OK;
    const unsigned char *t = sqlite3_column_text(st, i);
    size_t n = (size_t)sqlite3_column_bytes(st, i);
    if (t == NULL && sqlite3_errcode(sqlite3_db_handle(st)) == SQLITE_NOMEM)
        return ASC_ENOMEM;
    char *p = malloc(n + 1);
    if (p == NULL)
        return ASC_ENOMEM;
    if (n > 0)
        memcpy(p, t, n);
    p[n] = '\0';
    *out = p;
    return ASC_OK;
}

/* Read the OBJ_COLS of the current row into o (zeroed first, freed on
 * failure). */
static asc_err_t read_obj(sqlite3_stmt *st, asc_store_obj_t *o)
{
    asc_err_t e;

    memset(o, 0, sizeof *o);
    char **text[] = {&o->kind, &o->name,   &o->tenant,      &o->team,      &o->owner,
                     &o->doc,  &o->source, &o->file_digest, &o->etag,      NULL,
                     NULL,     NULL,       &o->created_by,  &o->updated_by};
    for (int i = 0; i < (int)(sizeof text / sizeof text[0]); i++) {
        if (text[i] == NULL)
            continue;
        e = col_str(st, i, text[i]);
        if (e != ASC_OK)
            goto out;
    }
    o->revision = (uint64_t)sqlite3_column_int64(st, 9);
    o->created_at = sqlite3_column_int64(st, 10);
    o->updated_at = sqlite3_column_int64(st, 11);
    e = ASC_OK;
out:
    if (e != ASC_OK)
        asc_store_obj_free(o);
    return e;
}

/* Run constant SQL (pragmas, migrations): no values, no results. */
static int exec(struct sqlite_store *s, const char *sql)
{
    return sqlite3_exec(s->db, sql, NULL, NULL, NULL);
}

/* Make each missing directory above path, mode 0700. */
static int make_parents(const char *path)
{
    int rc = 0;
    char *d = strdup(path);

    if (d == NULL) {
        errno = ENOMEM;
        return -1;
    }
    for (char *p = d + 1; *p != '\0'; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(d, 0700) != 0 && errno != EEXIST) {
            rc = -1;
            break;
        }
        *p = '/';
    }
    free(d);
    return rc;
}

/* Create path (mode 0600, before the umask) if it does not exist, so that
 * SQLite, which gives its -wal and -shm files the database's mode, never
 * creates a world-readable file. An existing file keeps its mode. */
static int create_file(const char *path)
{
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0)
        return -1;
    close(fd);
    return 0;
}

static void sq_close(asc_store_t *bs)
{
    struct sqlite_store *s = self(bs);

    if (s == NULL)
        return;
    for (int i = 0; i < ST__N; i++)
        sqlite3_finalize(s->st[i]);
    for (size_t i = 0; i < sizeof s->list_st / sizeof s->list_st[0]; i++)
        sqlite3_finalize(s->list_st[i]);
    for (size_t i = 0; i < sizeof s->change_st / sizeof s->change_st[0]; i++)
        sqlite3_finalize(s->change_st[i]);
    sqlite3_close_v2(s->db);
    free(s);
}

/* Open "sqlite:<path>" or <path>: create the file (0600) and its parent
 * directories (0700) when missing, set WAL, synchronous=NORMAL, foreign keys
 * and a 5 s busy timeout. ":memory:" opens a private in-memory database. The
 * schema is not touched (migrate does that). */
static asc_err_t sq_open(const char *dsn, asc_store_t **out, char *err, size_t errlen)
{
    struct sqlite_store *s = NULL;
    sqlite3_stmt *st = NULL;
    const char *path = dsn;
    const char *mode;
    asc_err_t e = ASC_EIO;
    int memory, rc;

    *out = NULL;
    if (strncmp(path, "sqlite:", 7) == 0)
        path += 7;
    if (path[0] == '\0') {
        seterr(err, errlen, "store: no database path given");
        return ASC_EINVAL;
    }
    memory = strcmp(path, ":memory:") == 0;
    if (!memory && (make_parents(path) != 0 || create_file(path) != 0)) {
        seterr(err, errlen, "store: cannot open %s: %s", path, strerror(errno));
        return ASC_EIO;
    }
    s = calloc(1, sizeof *s);
    if (s == NULL) {
        seterr(err, errlen, "store: out of memory");
        return ASC_ENOMEM;
    }
    s->base.be = &asc_store_sqlite;
    rc = sqlite3_open_v2(path, &s->db,
                         SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc != SQLITE_OK)
        goto fail;
    sqlite3_busy_timeout(s->db, BUSY_TIMEOUT_MS);
    /* No writes to sqlite_schema and friends, even through a bug elsewhere. */
    sqlite3_db_config(s->db, SQLITE_DBCONFIG_DEFENSIVE, 1, NULL);
    rc = sqlite3_prepare_v2(s->db, "PRAGMA journal_mode=WAL", -1, &st, NULL);
    if (rc != SQLITE_OK)
        goto fail;
    rc = sqlite3_step(st);
    if (rc != SQLITE_ROW)
        goto fail;
    mode = (const char *)sqlite3_column_text(st, 0);
    if (mode == NULL || strcasecmp(mode, memory ? "memory" : "wal") != 0) {
        seterr(err, errlen, "store: cannot open %s: %s", path, "WAL mode is not available");
        e = ASC_EIO;
        goto out;
    }
    sqlite3_finalize(st);
    st = NULL;
    rc = exec(s, "PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON");
    if (rc != SQLITE_OK)
        goto fail;
    *out = &s->base;
    s = NULL;
    e = ASC_OK;
    goto out;
fail:
    e = (rc & 0xff) == SQLITE_NOMEM ? ASC_ENOMEM : ASC_EIO;
    seterr(err, errlen, "store: cannot open %s: %s", path, sqlite3_errstr(rc));
out:
    sqlite3_finalize(st);
    sq_close(s != NULL ? &s->base : NULL);
    return e;
}

static asc_err_t schema_version(struct sqlite_store *s, int64_t *v, char *err, size_t errlen)
{
    sqlite3_stmt *st = NULL;
    asc_err_t e = stmt(s, ST_SCHEMA_VERSION, &st, err, errlen);
    if (e != ASC_OK)
        goto out;
    int rc = sqlite3_step(st);
    if (rc != SQLITE_ROW) {
        e = dberr(rc, err, errlen);
        goto out;
    }
    *v = sqlite3_column_int64(st, 0);
out:
    finish(st);
    return e;
}

/* Apply the next migration after version v in the open transaction. */
static asc_err_t apply_migration(struct sqlite_store *s, int64_t v, char *err, size_t errlen)
{
    sqlite3_stmt *st = NULL;
    asc_err_t e;
    int rc = exec(s, asc_store_sqlite_migrations[v]);

    if (rc != SQLITE_OK)
        return dberr(rc, err, errlen);
    e = stmt(s, ST_SCHEMA_ADD, &st, err, errlen);
    if (e != ASC_OK)
        goto out;
    if (sqlite3_bind_int64(st, 1, v + 1) != SQLITE_OK ||
        sqlite3_bind_int64(st, 2, (sqlite3_int64)asc_clock_wall_ms()) != SQLITE_OK) {
        e = dberr(sqlite3_errcode(s->db), err, errlen);
        goto out;
    }
    rc = sqlite3_step(st);
    if (rc != SQLITE_DONE)
        e = dberr(rc, err, errlen);
out:
    finish(st);
    return e;
}

/* Apply each pending migration in its own IMMEDIATE transaction (so two
 * processes opening one new database do not both apply it). A schema newer
 * than this binary knows is refused with ASC_EUNSUPPORTED and left as is. */
static asc_err_t sq_migrate(asc_store_t *bs, int *schema, char *err, size_t errlen)
{
    struct sqlite_store *s = self(bs);
    const int64_t known = (int64_t)asc_store_sqlite_nmigrations;
    int64_t v = 0;
    asc_err_t e = ASC_OK;
    int rc;

    rc = exec(s, "CREATE TABLE IF NOT EXISTS schema_migrations ("
                 "version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)");
    if (rc != SQLITE_OK)
        return dberr(rc, err, errlen);
    for (;;) {
        rc = exec(s, "BEGIN IMMEDIATE");
        if (rc != SQLITE_OK)
            return dberr(rc, err, errlen);
        e = schema_version(s, &v, err, errlen);
        if (e != ASC_OK)
            goto out;
        if (v > known) {
            seterr(err, errlen,
                   "store: database schema version %lld is newer than this asc supports (%lld); "
                   "upgrade asc",
                   (long long)v, (long long)known);
            e = ASC_EUNSUPPORTED;
            goto out;
        }
        if (v == known)
            goto out;
        e = apply_migration(s, v, err, errlen);
        if (e != ASC_OK)
            goto out;
        rc = exec(s, "COMMIT");
        if (rc != SQLITE_OK) {
            e = dberr(rc, err, errlen);
            goto out;
        }
    }
out:
    if (!sqlite3_get_autocommit(s->db))
        exec(s, "ROLLBACK");
    if (schema != NULL)
        *schema = (int)v;
    return e;
}

static asc_err_t run_simple(struct sqlite_store *s, int id, char *err, size_t errlen)
{
    sqlite3_stmt *st = NULL;
    asc_err_t e = stmt(s, id, &st, err, errlen);
    if (e != ASC_OK)
        goto out;
    int rc = sqlite3_step(st);
    if (rc != SQLITE_DONE)
        e = dberr(rc, err, errlen);
out:
    finish(st);
    return e;
}

/* BEGIN IMMEDIATE: take the write lock now (waiting up to the busy timeout)
 * rather than fail at the first write. ASC_EINVAL if one is already open. */
static asc_err_t sq_begin(asc_store_t *bs, char *err, size_t errlen)
{
    struct sqlite_store *s = self(bs);
    if (!sqlite3_get_autocommit(s->db)) {
        seterr(err, errlen, "store: a transaction is already open");
        return ASC_EINVAL;
    }
    return run_simple(s, ST_BEGIN, err, errlen);
}

/* Commit. On failure the transaction may still be open: call rollback. */
static asc_err_t sq_commit(asc_store_t *bs, char *err, size_t errlen)
{
    return run_simple(self(bs), ST_COMMIT, err, errlen);
}

/* Roll back the open transaction, if any. */
static void sq_rollback(asc_store_t *bs)
{
    struct sqlite_store *s = self(bs);
    if (!sqlite3_get_autocommit(s->db))
        run_simple(s, ST_ROLLBACK, NULL, 0);
}

static asc_err_t sq_get(asc_store_t *bs, const char *kind, const char *name, asc_store_obj_t *out,
                        char *err, size_t errlen)
{
    struct sqlite_store *s = self(bs);
    sqlite3_stmt *st = NULL;
    asc_err_t e;
    int rc;

    memset(out, 0, sizeof *out);
    e = stmt(s, ST_GET, &st, err, errlen);
    if (e != ASC_OK)
        goto out;
    if (bind_text(st, 1, kind) != SQLITE_OK || bind_text(st, 2, name) != SQLITE_OK) {
        e = dberr(sqlite3_errcode(s->db), err, errlen);
        goto out;
    }
    rc = sqlite3_step(st);
    if (rc == SQLITE_DONE) {
        e = ASC_ENOTFOUND;
        goto out;
    }
    if (rc != SQLITE_ROW) {
        e = dberr(rc, err, errlen);
        goto out;
    }
    e = read_obj(st, out);
out:
    finish(st);
    return e;
}

/* The smallest string above every string that starts with p[0..n), in
 * byte order, into *succ (malloc'd); NULL when there is none (p is all 0xff
 * bytes), in which case the range has no upper bound. */
static asc_err_t prefix_successor(const char *p, char **succ)
{
    size_t n = strlen(p);
    *succ = NULL;
    while (n > 0 && (unsigned char)p[n - 1] == 0xff)
        n--;
    if (n == 0)
        return ASC_OK;
    char *q = malloc(n + 1);
    if (q == NULL)
        return ASC_ENOMEM;
    memcpy(q, p, n);
    q[n - 1] = (char)((unsigned char)q[n - 1] + 1);
    q[n] = '\0';
    *succ = q;
    return ASC_OK;
}

static asc_err_t sq_list(asc_store_t *bs, const asc_store_query_t *q, asc_store_list_t *out,
                         char *err, size_t errlen)
{
    struct sqlite_store *s = self(bs);
    sqlite3_stmt *st = NULL;
    char *succ = NULL;
    size_t cap = 0;
    unsigned mask = 0;
    asc_err_t e;
    int rc, bad;

    memset(out, 0, sizeof *out);
    if (q == NULL || q->kind == NULL) {
        seterr(err, errlen, "store: list needs a kind");
        return ASC_EINVAL;
    }
    if (q->tenant != NULL)
        mask |= 1u << LF_TENANT;
    if (q->team != NULL)
        mask |= 1u << LF_TEAM;
    if (q->owner != NULL)
        mask |= 1u << LF_OWNER;
    if (q->prefix != NULL && q->prefix[0] != '\0')
        mask |= 1u << LF_PREFIX;
    if (q->after != NULL)
        mask |= 1u << LF_AFTER;
    e = prep_filtered(s, &s->list_st[mask], LIST_HEAD, list_frag, LF__N, mask, LIST_TAIL, err,
                      errlen);
    if (e != ASC_OK)
        goto out;
    st = s->list_st[mask];
    if (mask & (1u << LF_PREFIX)) {
        e = prefix_successor(q->prefix, &succ);
        if (e != ASC_OK)
            goto out;
    }
    bad = bind_text(st, 1, q->kind) != SQLITE_OK;
    if (!bad && (mask & (1u << LF_TENANT)))
        bad = bind_text(st, 2, q->tenant) != SQLITE_OK;
    if (!bad && (mask & (1u << LF_TEAM)))
        bad = bind_text(st, 3, q->team) != SQLITE_OK;
    if (!bad && (mask & (1u << LF_OWNER)))
        bad = bind_text(st, 4, q->owner) != SQLITE_OK;
    if (!bad && (mask & (1u << LF_PREFIX))) {
        bad = bind_text(st, 5, q->prefix) != SQLITE_OK;
        /* Every TEXT sorts below every BLOB: an empty blob is "no bound". */
        if (!bad && succ != NULL)
            bad = bind_text(st, 6, succ) != SQLITE_OK;
        else if (!bad)
            bad = sqlite3_bind_zeroblob(st, 6, 0) != SQLITE_OK;
    }
    if (!bad && (mask & (1u << LF_AFTER)))
        bad = bind_text(st, 7, q->after) != SQLITE_OK;
    if (!bad)
        bad = sqlite3_bind_int64(st, 8, fetch_limit(q->limit)) != SQLITE_OK;
    if (bad) {
        e = dberr(sqlite3_errcode(s->db), err, errlen);
        goto out;
    }
    for (;;) {
        rc = sqlite3_step(st);
        if (rc == SQLITE_DONE)
            break;
        if (rc != SQLITE_ROW) {
            e = dberr(rc, err, errlen);
            goto out;
        }
        if (q->limit != 0 && out->n == q->limit) {
            out->more = 1;
            break;
        }
        if (out->n == cap) {
            size_t ncap = cap ? cap * 2 : 16;
            asc_store_obj_t *p = realloc(out->items, ncap * sizeof *p);
            if (p == NULL) {
                e = ASC_ENOMEM;
                goto out;
            }
            out->items = p;
            cap = ncap;
        }
        e = read_obj(st, &out->items[out->n]);
        if (e != ASC_OK)
            goto out;
        out->n++;
    }
    e = ASC_OK;
out:
    finish(st);
    free(succ);
    if (e == ASC_ENOMEM)
        seterr(err, errlen, "store: out of memory");
    if (e != ASC_OK)
        asc_store_list_free(out);
    return e;
}

/* Insert or update (kind, name). On update created_at and created_by keep
 * their stored values; every other column takes o's. kind, name and doc
 * are required (ASC_EINVAL). */
static asc_err_t sq_put(asc_store_t *bs, const asc_store_obj_t *o, char *err, size_t errlen)
{
    struct sqlite_store *s = self(bs);
    sqlite3_stmt *st = NULL;
    asc_err_t e;
    int rc;

    if (o->kind == NULL || o->name == NULL || o->doc == NULL) {
        seterr(err, errlen, "store: an object needs a kind, a name and a document");
        return ASC_EINVAL;
    }
    e = stmt(s, ST_PUT, &st, err, errlen);
    if (e != ASC_OK)
        goto out;
    if (bind_text(st, 1, o->kind) != SQLITE_OK || bind_text(st, 2, o->name) != SQLITE_OK ||
        bind_text(st, 3, o->tenant) != SQLITE_OK || bind_text(st, 4, o->team) != SQLITE_OK ||
        bind_text(st, 5, o->owner) != SQLITE_OK || bind_text(st, 6, o->doc) != SQLITE_OK ||
        bind_text(st, 7, o->source) != SQLITE_OK || bind_text(st, 8, o->file_digest) != SQLITE_OK ||
        bind_text(st, 9, o->etag) != SQLITE_OK || bind_u64(st, 10, o->revision) != SQLITE_OK ||
        sqlite3_bind_int64(st, 11, o->created_at) != SQLITE_OK ||
        sqlite3_bind_int64(st, 12, o->updated_at) != SQLITE_OK ||
        bind_text(st, 13, o->created_by) != SQLITE_OK ||
        bind_text(st, 14, o->updated_by) != SQLITE_OK) {
        e = dberr(sqlite3_errcode(s->db), err, errlen);
        goto out;
    }
    rc = sqlite3_step(st);
    if (rc != SQLITE_DONE)
        e = dberr(rc, err, errlen);
out:
    finish(st);
    return e;
}

/* Delete (kind, name); ASC_ENOTFOUND when there was no such object. */
static asc_err_t sq_del(asc_store_t *bs, const char *kind, const char *name, char *err,
                        size_t errlen)
{
    struct sqlite_store *s = self(bs);
    sqlite3_stmt *st = NULL;
    asc_err_t e;
    int rc;

    e = stmt(s, ST_DEL, &st, err, errlen);
    if (e != ASC_OK)
        goto out;
    if (bind_text(st, 1, kind) != SQLITE_OK || bind_text(st, 2, name) != SQLITE_OK) {
        e = dberr(sqlite3_errcode(s->db), err, errlen);
        goto out;
    }
    rc = sqlite3_step(st);
    if (rc != SQLITE_DONE)
        e = dberr(rc, err, errlen);
    else if (sqlite3_changes(s->db) == 0)
        e = ASC_ENOTFOUND;
out:
    finish(st);
    return e;
}

static asc_err_t sq_revision(asc_store_t *bs, uint64_t *out, char *err, size_t errlen)
{
    struct sqlite_store *s = self(bs);
    sqlite3_stmt *st = NULL;
    asc_err_t e;
    int rc;

    *out = 0;
    e = stmt(s, ST_REV_MAX, &st, err, errlen);
    if (e != ASC_OK)
        goto out;
    rc = sqlite3_step(st);
    if (rc != SQLITE_ROW) {
        e = dberr(rc, err, errlen);
        goto out;
    }
    *out = (uint64_t)sqlite3_column_int64(st, 0);
out:
    finish(st);
    return e;
}

/* Record revision r; a revision number already recorded is ASC_EIO. */
static asc_err_t sq_rev_add(asc_store_t *bs, const asc_store_rev_t *r, char *err, size_t errlen)
{
    struct sqlite_store *s = self(bs);
    sqlite3_stmt *st = NULL;
    asc_err_t e;
    int rc;

    e = stmt(s, ST_REV_ADD, &st, err, errlen);
    if (e != ASC_OK)
        goto out;
    if (bind_u64(st, 1, r->revision) != SQLITE_OK || bind_text(st, 2, r->actor) != SQLITE_OK ||
        bind_text(st, 3, r->source) != SQLITE_OK || bind_text(st, 4, r->summary) != SQLITE_OK ||
        sqlite3_bind_int64(st, 5, r->at) != SQLITE_OK) {
        e = dberr(sqlite3_errcode(s->db), err, errlen);
        goto out;
    }
    rc = sqlite3_step(st);
    if (rc != SQLITE_DONE)
        e = dberr(rc, err, errlen);
out:
    finish(st);
    return e;
}

/* Revisions below `before` (0: all), newest first, at most limit (0: all).
 * *out is malloc'd (NULL when *n is 0); free with asc_store_revs_free. */
static asc_err_t sq_rev_list(asc_store_t *bs, uint64_t before, size_t limit, asc_store_rev_t **out,
                             size_t *n, char *err, size_t errlen)
{
    struct sqlite_store *s = self(bs);
    sqlite3_stmt *st = NULL;
    asc_store_rev_t *v = NULL;
    size_t nv = 0, cap = 0;
    asc_err_t e;
    int rc;

    *out = NULL;
    *n = 0;
    e = stmt(s, ST_REV_LIST, &st, err, errlen);
    if (e != ASC_OK)
        goto out;
    if (bind_u64(st, 1, before == 0 ? UINT64_MAX : before) != SQLITE_OK ||
        sqlite3_bind_int64(st, 2, limit == 0 ? -1 : (sqlite3_int64)limit) != SQLITE_OK) {
        e = dberr(sqlite3_errcode(s->db), err, errlen);
        goto out;
    }
    for (;;) {
        rc = sqlite3_step(st);
        if (rc == SQLITE_DONE)
            break;
        if (rc != SQLITE_ROW) {
            e = dberr(rc, err, errlen);
            goto out;
        }
        if (nv == cap) {
            size_t ncap = cap ? cap * 2 : 16;
            asc_store_rev_t *p = realloc(v, ncap * sizeof *p);
            if (p == NULL) {
                e = ASC_ENOMEM;
                goto out;
            }
            v = p;
            cap = ncap;
        }
        asc_store_rev_t *r = &v[nv++];
        memset(r, 0, sizeof *r);
        r->revision = (uint64_t)sqlite3_column_int64(st, 0);
        r->at = sqlite3_column_int64(st, 4);
        e = col_str(st, 1, &r->actor);
        if (e == ASC_OK)
            e = col_str(st, 2, &r->source);
        if (e == ASC_OK)
            e = col_str(st, 3, &r->summary);
        if (e != ASC_OK)
            goto out;
    }
    e = ASC_OK;
out:
    finish(st);
    if (e != ASC_OK) {
        if (e == ASC_ENOMEM)
            seterr(err, errlen, "store: out of memory");
        asc_store_revs_free(v, nv);
    } else if (nv == 0) {
        free(v);
    } else {
        *out = v;
        *n = nv;
    }
    return e;
}

/* Append one change-log entry; c->id is ignored (the log numbers entries).
 * Its revision must be recorded by commit time, else the commit fails. */
static asc_err_t sq_change_add(asc_store_t *bs, const asc_store_change_t *c, char *err,
                               size_t errlen)
{
    struct sqlite_store *s = self(bs);
    sqlite3_stmt *st = NULL;
    asc_err_t e;
    int rc;

    if (c->kind == NULL || c->name == NULL || c->action == NULL) {
        seterr(err, errlen, "store: a change needs a kind, a name and an action");
        return ASC_EINVAL;
    }
    e = stmt(s, ST_CHANGE_ADD, &st, err, errlen);
    if (e != ASC_OK)
        goto out;
    if (bind_u64(st, 1, c->revision) != SQLITE_OK || bind_text(st, 2, c->actor) != SQLITE_OK ||
        bind_text(st, 3, c->kind) != SQLITE_OK || bind_text(st, 4, c->name) != SQLITE_OK ||
        bind_text(st, 5, c->tenant) != SQLITE_OK || bind_text(st, 6, c->action) != SQLITE_OK ||
        bind_text(st, 7, c->before_digest) != SQLITE_OK ||
        bind_text(st, 8, c->after_digest) != SQLITE_OK ||
        sqlite3_bind_int64(st, 9, c->at) != SQLITE_OK) {
        e = dberr(sqlite3_errcode(s->db), err, errlen);
        goto out;
    }
    rc = sqlite3_step(st);
    if (rc != SQLITE_DONE)
        e = dberr(rc, err, errlen);
out:
    finish(st);
    return e;
}

static asc_err_t read_change(sqlite3_stmt *st, asc_store_change_t *c)
{
    asc_err_t e;

    memset(c, 0, sizeof *c);
    c->id = (uint64_t)sqlite3_column_int64(st, 0);
    c->revision = (uint64_t)sqlite3_column_int64(st, 1);
    c->at = sqlite3_column_int64(st, 9);
    e = col_str(st, 2, &c->actor);
    if (e == ASC_OK)
        e = col_str(st, 3, &c->kind);
    if (e == ASC_OK)
        e = col_str(st, 4, &c->name);
    if (e == ASC_OK)
        e = col_str(st, 5, &c->tenant);
    if (e == ASC_OK)
        e = col_str(st, 6, &c->action);
    if (e == ASC_OK)
        e = col_str(st, 7, &c->before_digest);
    if (e == ASC_OK)
        e = col_str(st, 8, &c->after_digest);
    return e;
}

/* Change-log entries after q->after_id matching every non-NULL filter, in
 * increasing id, at most q->limit (0: all); out->more tells whether more
 * match. On failure *out is empty. */
static asc_err_t sq_change_list(asc_store_t *bs, const asc_store_change_query_t *q,
                                asc_store_changes_t *out, char *err, size_t errlen)
{
    struct sqlite_store *s = self(bs);
    sqlite3_stmt *st = NULL;
    size_t cap = 0;
    unsigned mask = 0;
    asc_err_t e;
    int rc, bad;

    memset(out, 0, sizeof *out);
    if (q->kind != NULL)
        mask |= 1u << CF_KIND;
    if (q->name != NULL)
        mask |= 1u << CF_NAME;
    if (q->tenant != NULL)
        mask |= 1u << CF_TENANT;
    if (q->actor != NULL)
        mask |= 1u << CF_ACTOR;
    e = prep_filtered(s, &s->change_st[mask], CHANGE_HEAD, change_frag, CF__N, mask, CHANGE_TAIL,
                      err, errlen);
    if (e != ASC_OK)
        goto out;
    st = s->change_st[mask];
    bad = bind_u64(st, 1, q->after_id) != SQLITE_OK;
    if (!bad && (mask & (1u << CF_KIND)))
        bad = bind_text(st, 2, q->kind) != SQLITE_OK;
    if (!bad && (mask & (1u << CF_NAME)))
        bad = bind_text(st, 3, q->name) != SQLITE_OK;
    if (!bad && (mask & (1u << CF_TENANT)))
        bad = bind_text(st, 4, q->tenant) != SQLITE_OK;
    if (!bad && (mask & (1u << CF_ACTOR)))
        bad = bind_text(st, 5, q->actor) != SQLITE_OK;
    if (!bad)
        bad = sqlite3_bind_int64(st, 6, fetch_limit(q->limit)) != SQLITE_OK;
    if (bad) {
        e = dberr(sqlite3_errcode(s->db), err, errlen);
        goto out;
    }
    for (;;) {
        rc = sqlite3_step(st);
        if (rc == SQLITE_DONE)
            break;
        if (rc != SQLITE_ROW) {
            e = dberr(rc, err, errlen);
            goto out;
        }
        if (q->limit != 0 && out->n == q->limit) {
            out->more = 1;
            break;
        }
        if (out->n == cap) {
            size_t ncap = cap ? cap * 2 : 16;
            asc_store_change_t *p = realloc(out->items, ncap * sizeof *p);
            if (p == NULL) {
                e = ASC_ENOMEM;
                goto out;
            }
            out->items = p;
            cap = ncap;
        }
        /* Counted before reading, so a partial entry is freed with the rest. */
        e = read_change(st, &out->items[out->n++]);
        if (e != ASC_OK)
            goto out;
    }
    e = ASC_OK;
out:
    finish(st);
    if (e == ASC_ENOMEM)
        seterr(err, errlen, "store: out of memory");
    if (e != ASC_OK)
        asc_store_changes_free(out);
    return e;
}

/* Record that key `name` was used at `at`. The stored time never moves
 * back, so batched writes may arrive out of order. */
static asc_err_t sq_touch_key(asc_store_t *bs, const char *name, int64_t at, char *err,
                              size_t errlen)
{
    struct sqlite_store *s = self(bs);
    sqlite3_stmt *st = NULL;
    asc_err_t e;
    int rc;

    e = stmt(s, ST_TOUCH, &st, err, errlen);
    if (e != ASC_OK)
        goto out;
    if (bind_text(st, 1, name) != SQLITE_OK || sqlite3_bind_int64(st, 2, at) != SQLITE_OK) {
        e = dberr(sqlite3_errcode(s->db), err, errlen);
        goto out;
    }
    rc = sqlite3_step(st);
    if (rc != SQLITE_DONE)
        e = dberr(rc, err, errlen);
out:
    finish(st);
    return e;
}

static asc_err_t sq_key_last_used(asc_store_t *bs, const char *name, int64_t *at, char *err,
                                  size_t errlen)
{
    struct sqlite_store *s = self(bs);
    sqlite3_stmt *st = NULL;
    asc_err_t e;
    int rc;

    *at = 0;
    e = stmt(s, ST_LAST_USED, &st, err, errlen);
    if (e != ASC_OK)
        goto out;
    if (bind_text(st, 1, name) != SQLITE_OK) {
        e = dberr(sqlite3_errcode(s->db), err, errlen);
        goto out;
    }
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        *at = sqlite3_column_int64(st, 0);
    else if (rc != SQLITE_DONE)
        e = dberr(rc, err, errlen);
out:
    finish(st);
    return e;
}

/* Delete every session expired at `now`; failures are ignored (another
 * call will try again). */
static void purge_sessions(struct sqlite_store *s, int64_t now)
{
    sqlite3_stmt *st = NULL;
    if (stmt(s, ST_SESS_PURGE, &st, NULL, 0) != ASC_OK)
        return;
    if (sqlite3_bind_int64(st, 1, now) == SQLITE_OK)
        sqlite3_step(st);
    finish(st);
}

/* Insert or replace a session, and drop expired ones on the way. */
static asc_err_t sq_session_put(asc_store_t *bs, const asc_store_session_t *ss, char *err,
                                size_t errlen)
{
    struct sqlite_store *s = self(bs);
    sqlite3_stmt *st = NULL;
    asc_err_t e;
    int rc;

    if (ss->id_hash == NULL || ss->principal == NULL) {
        seterr(err, errlen, "store: a session needs an id and a principal");
        return ASC_EINVAL;
    }
    purge_sessions(s, (int64_t)asc_clock_wall_ms());
    e = stmt(s, ST_SESS_PUT, &st, err, errlen);
    if (e != ASC_OK)
        goto out;
    if (bind_text(st, 1, ss->id_hash) != SQLITE_OK ||
        bind_text(st, 2, ss->principal) != SQLITE_OK ||
        sqlite3_bind_int64(st, 3, ss->expires_at) != SQLITE_OK) {
        e = dberr(sqlite3_errcode(s->db), err, errlen);
        goto out;
    }
    rc = sqlite3_step(st);
    if (rc != SQLITE_DONE)
        e = dberr(rc, err, errlen);
out:
    finish(st);
    return e;
}

/* Look a session up; one whose expires_at (unix ms) is not after the wall
 * clock is ASC_ENOTFOUND, and expired sessions are then deleted. */
static asc_err_t sq_session_get(asc_store_t *bs, const char *id_hash, asc_store_session_t *out,
                                char *err, size_t errlen)
{
    struct sqlite_store *s = self(bs);
    sqlite3_stmt *st = NULL;
    int64_t now = (int64_t)asc_clock_wall_ms();
    int expired = 0;
    asc_err_t e;
    int rc;

    memset(out, 0, sizeof *out);
    e = stmt(s, ST_SESS_GET, &st, err, errlen);
    if (e != ASC_OK)
        goto out;
    if (bind_text(st, 1, id_hash) != SQLITE_OK) {
        e = dberr(sqlite3_errcode(s->db), err, errlen);
        goto out;
    }
    rc = sqlite3_step(st);
    if (rc == SQLITE_DONE) {
        e = ASC_ENOTFOUND;
        goto out;
    }
    if (rc != SQLITE_ROW) {
        e = dberr(rc, err, errlen);
        goto out;
    }
    out->expires_at = sqlite3_column_int64(st, 1);
    if (out->expires_at <= now) {
        expired = 1;
        e = ASC_ENOTFOUND;
        goto out;
    }
    e = col_str(st, 0, &out->principal);
    if (e != ASC_OK)
        goto out;
    out->id_hash = strdup(id_hash);
    if (out->id_hash == NULL)
        e = ASC_ENOMEM;
out:
    finish(st);
    if (e == ASC_ENOMEM)
        seterr(err, errlen, "store: out of memory");
    if (e != ASC_OK)
        asc_store_session_free(out);
    if (expired)
        purge_sessions(s, now);
    return e;
}

/* Delete a session; deleting an absent one is not an error (logout is
 * idempotent). */
static asc_err_t sq_session_del(asc_store_t *bs, const char *id_hash, char *err, size_t errlen)
{
    struct sqlite_store *s = self(bs);
    sqlite3_stmt *st = NULL;
    asc_err_t e;
    int rc;

    e = stmt(s, ST_SESS_DEL, &st, err, errlen);
    if (e != ASC_OK)
        goto out;
    if (bind_text(st, 1, id_hash) != SQLITE_OK) {
        e = dberr(sqlite3_errcode(s->db), err, errlen);
        goto out;
    }
    rc = sqlite3_step(st);
    if (rc != SQLITE_DONE)
        e = dberr(rc, err, errlen);
out:
    finish(st);
    return e;
}

/* *value gets a malloc'd copy; ASC_ENOTFOUND (and NULL) when unset. */
static asc_err_t sq_meta_get(asc_store_t *bs, const char *key, char **value, char *err,
                             size_t errlen)
{
    struct sqlite_store *s = self(bs);
    sqlite3_stmt *st = NULL;
    asc_err_t e;
    int rc;

    *value = NULL;
    e = stmt(s, ST_META_GET, &st, err, errlen);
    if (e != ASC_OK)
        goto out;
    if (bind_text(st, 1, key) != SQLITE_OK) {
        e = dberr(sqlite3_errcode(s->db), err, errlen);
        goto out;
    }
    rc = sqlite3_step(st);
    if (rc == SQLITE_DONE) {
        e = ASC_ENOTFOUND;
        goto out;
    }
    if (rc != SQLITE_ROW) {
        e = dberr(rc, err, errlen);
        goto out;
    }
    e = col_str(st, 0, value);
    if (e == ASC_ENOMEM)
        seterr(err, errlen, "store: out of memory");
out:
    finish(st);
    return e;
}

static asc_err_t sq_meta_set(asc_store_t *bs, const char *key, const char *value, char *err,
                             size_t errlen)
{
    struct sqlite_store *s = self(bs);
    sqlite3_stmt *st = NULL;
    asc_err_t e;
    int rc;

    if (key == NULL || value == NULL) {
        seterr(err, errlen, "store: meta needs a key and a value");
        return ASC_EINVAL;
    }
    e = stmt(s, ST_META_SET, &st, err, errlen);
    if (e != ASC_OK)
        goto out;
    if (bind_text(st, 1, key) != SQLITE_OK || bind_text(st, 2, value) != SQLITE_OK) {
        e = dberr(sqlite3_errcode(s->db), err, errlen);
        goto out;
    }
    rc = sqlite3_step(st);
    if (rc != SQLITE_DONE)
        e = dberr(rc, err, errlen);
out:
    finish(st);
    return e;
}

/* The connection behind s, which must come from asc_store_sqlite. */
sqlite3 *asc_store_sqlite_handle(asc_store_t *s)
{
    return self(s)->db;
}

/*
 * The SQLite backend (version 1): every entry is implemented. Strings in
 * are borrowed and bound as parameters; results are malloc'd (store.h).
 */
const asc_store_backend_t asc_store_sqlite = {
    .version = 1,
    .name = "sqlite",
    .open = sq_open,
    .close = sq_close,
    .migrate = sq_migrate,
    .begin = sq_begin,
    .commit = sq_commit,
    .rollback = sq_rollback,
    .get = sq_get,
    .list = sq_list,
    .put = sq_put,
    .del = sq_del,
    .revision = sq_revision,
    .rev_add = sq_rev_add,
    .rev_list = sq_rev_list,
    .change_add = sq_change_add,
    .change_list = sq_change_list,
    .touch_key = sq_touch_key,
    .key_last_used = sq_key_last_used,
    .session_put = sq_session_put,
    .session_get = sq_session_get,
    .session_del = sq_session_del,
    .meta_get = sq_meta_get,
    .meta_set = sq_meta_set,
};

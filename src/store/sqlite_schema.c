/*
 * The SQLite schema, as an ordered list of migrations (see sqlite_int.h).
 * To change the schema, append a new entry; never edit a released one,
 * since databases already at its version will not run it again.
 */
#include "store/sqlite_int.h"

const char *const asc_store_sqlite_migrations[] = {
    /* 1: objects, revisions, change log, runtime tables. */
    "CREATE TABLE objects ("
    "  kind TEXT NOT NULL,"
    "  name TEXT NOT NULL,"
    "  tenant TEXT,"
    "  team TEXT,"
    "  owner TEXT,"
    "  doc TEXT NOT NULL,"
    "  source TEXT,"
    "  file_digest TEXT,"
    "  etag TEXT,"
    "  revision INTEGER NOT NULL,"
    "  created_at INTEGER NOT NULL,"
    "  updated_at INTEGER NOT NULL,"
    "  created_by TEXT,"
    "  updated_by TEXT,"
    "  PRIMARY KEY (kind, name)"
    ");"
    "CREATE INDEX objects_tenant ON objects (kind, tenant, name);"
    "CREATE INDEX objects_team ON objects (kind, team, name);"
    "CREATE INDEX objects_owner ON objects (kind, owner, name);"
    "CREATE TABLE revisions ("
    "  revision INTEGER PRIMARY KEY,"
    "  actor TEXT,"
    "  source TEXT,"
    "  summary TEXT,"
    "  at INTEGER NOT NULL"
    ");"
    /* A change belongs to a recorded revision; the check is deferred to
     * commit so the control plane may write the change set in any order. */
    "CREATE TABLE changes ("
    "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  revision INTEGER NOT NULL"
    "    REFERENCES revisions (revision) DEFERRABLE INITIALLY DEFERRED,"
    "  actor TEXT,"
    "  kind TEXT NOT NULL,"
    "  name TEXT NOT NULL,"
    "  tenant TEXT,"
    "  action TEXT NOT NULL,"
    "  before_digest TEXT,"
    "  after_digest TEXT,"
    "  at INTEGER NOT NULL"
    ");"
    "CREATE INDEX changes_object ON changes (kind, name, id);"
    "CREATE INDEX changes_tenant ON changes (tenant, id);"
    "CREATE INDEX changes_actor ON changes (actor, id);"
    "CREATE INDEX changes_revision ON changes (revision);"
    "CREATE TABLE key_usage ("
    "  name TEXT PRIMARY KEY,"
    "  last_used_at INTEGER NOT NULL"
    ");"
    "CREATE TABLE sessions ("
    "  id_hash TEXT PRIMARY KEY,"
    "  principal TEXT NOT NULL,"
    "  expires_at INTEGER NOT NULL"
    ");"
    "CREATE INDEX sessions_expiry ON sessions (expires_at);"
    "CREATE TABLE meta ("
    "  key TEXT PRIMARY KEY,"
    "  value TEXT NOT NULL"
    ");",
};

const size_t asc_store_sqlite_nmigrations =
    sizeof asc_store_sqlite_migrations / sizeof asc_store_sqlite_migrations[0];

/*
 * The control-plane store: every object (tenant, team, user, key, provider,
 * credential, route, token), the revision counter, the change log and the
 * small runtime tables (sessions, key last-used times), behind a backend
 * interface. SQLite (WAL) is the embedded default (store/sqlite.c); a
 * PostgreSQL backend implements the same table of functions.
 *
 * Objects are JSON documents in the config file's schema, addressed by
 * (kind, name). The store does not validate them: the control plane
 * (src/control) validates the whole resulting state before it writes, and
 * is the only writer (DESIGN §2, "one write path").
 *
 * Ownership: strings passed in are borrowed. Strings and documents handed
 * out (asc_store_obj_t fields, lists) are malloc'd and released with the
 * matching _free function. Every SQL statement uses bound parameters.
 *
 * Threads: one asc_store_t is used by one thread at a time (the control
 * thread); the caller serialises.
 *
 * Errors: functions return asc_err_t; ASC_ENOTFOUND when the object is
 * absent, ASC_EIO for a database failure with a message in err that never
 * contains SQL text or parameter values.
 */
#ifndef ASC_STORE_STORE_H
#define ASC_STORE_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

typedef struct asc_store asc_store_t;

/* One stored object. */
typedef struct {
    char *kind;   /* "tenant", "team", "user", "key", "provider", "credential", "route", "token" */
    char *name;   /* unique within its kind */
    char *tenant; /* owning tenant or NULL (indexed, for filters) */
    char *team;   /* owning team or NULL */
    char *owner;  /* owning user or NULL */
    char *doc;    /* the JSON document (schema of the config file section) */
    char *source; /* "api" or "file:<path>" */
    char *file_digest; /* file-managed: hex SHA-256 of doc as the file last applied it, else NULL */
    char *etag;        /* hex digest of doc, changes with every write */
    uint64_t revision; /* revision of the last write */
    int64_t created_at; /* unix ms */
    int64_t updated_at; /* unix ms */
    char *created_by;   /* actor */
    char *updated_by;
} asc_store_obj_t;

typedef struct {
    asc_store_obj_t *items;
    size_t n;
    int more; /* more items after the last one (for pagination) */
} asc_store_list_t;

/* Filters for list; NULL fields do not filter. Results are ordered by
 * name; `after` is the exclusive name cursor. */
typedef struct {
    const char *kind; /* required */
    const char *tenant;
    const char *team;
    const char *owner;
    const char *prefix; /* name prefix */
    const char *after;
    size_t limit; /* 0 = no limit */
} asc_store_query_t;

/* One revision: a committed change set. */
typedef struct {
    uint64_t revision;
    char *actor;
    char *source; /* "api", "file:<path>", "cli", ... */
    char *summary;
    int64_t at;
} asc_store_rev_t;

/* One entry of the change log: one object changed in one revision. */
typedef struct {
    uint64_t id;
    uint64_t revision;
    char *actor;
    char *kind;
    char *name;
    char *tenant;
    char *action;        /* "create", "update", "delete" */
    char *before_digest; /* hex SHA-256 of the document before, NULL on create */
    char *after_digest;  /* after, NULL on delete */
    int64_t at;
} asc_store_change_t;

typedef struct {
    asc_store_change_t *items;
    size_t n;
    int more;
} asc_store_changes_t;

typedef struct {
    const char *kind;
    const char *name;
    const char *tenant;
    const char *actor;
    uint64_t after_id; /* exclusive cursor; results in increasing id */
    size_t limit;
} asc_store_change_query_t;

/* A browser session (OIDC login): looked up by the hash of its cookie. */
typedef struct {
    char *id_hash;   /* hex SHA-256 of the cookie value */
    char *principal; /* JSON: subject, role, tenant, team */
    int64_t expires_at;
} asc_store_session_t;

/*
 * The backend interface (a const table, STYLE.md). version is 1. A NULL
 * entry means "not supported". Callers use the asc_store_* wrappers below.
 */
typedef struct asc_store_backend {
    int version;
    const char *name; /* "sqlite", "postgres" */
    asc_err_t (*open)(const char *dsn, asc_store_t **out, char *err, size_t errlen);
    void (*close)(asc_store_t *s);
    /* Apply pending schema migrations; *schema gets the version reached. */
    asc_err_t (*migrate)(asc_store_t *s, int *schema, char *err, size_t errlen);
    asc_err_t (*begin)(asc_store_t *s, char *err, size_t errlen); /* write transaction */
    asc_err_t (*commit)(asc_store_t *s, char *err, size_t errlen);
    void (*rollback)(asc_store_t *s);
    asc_err_t (*get)(asc_store_t *s, const char *kind, const char *name, asc_store_obj_t *out,
                     char *err, size_t errlen);
    asc_err_t (*list)(asc_store_t *s, const asc_store_query_t *q, asc_store_list_t *out, char *err,
                      size_t errlen);
    /* Insert or replace (kind, name). created_* are kept on replace. */
    asc_err_t (*put)(asc_store_t *s, const asc_store_obj_t *o, char *err, size_t errlen);
    asc_err_t (*del)(asc_store_t *s, const char *kind, const char *name, char *err, size_t errlen);
    /* The latest committed revision (0 for a new store). */
    asc_err_t (*revision)(asc_store_t *s, uint64_t *out, char *err, size_t errlen);
    /* Record revision r (inside the transaction). */
    asc_err_t (*rev_add)(asc_store_t *s, const asc_store_rev_t *r, char *err, size_t errlen);
    asc_err_t (*rev_list)(asc_store_t *s, uint64_t before, size_t limit, asc_store_rev_t **out,
                          size_t *n, char *err, size_t errlen); /* newest first; before 0 = all */
    asc_err_t (*change_add)(asc_store_t *s, const asc_store_change_t *c, char *err, size_t errlen);
    asc_err_t (*change_list)(asc_store_t *s, const asc_store_change_query_t *q,
                             asc_store_changes_t *out, char *err, size_t errlen);
    /* Runtime tables: not configuration, no revision. */
    asc_err_t (*touch_key)(asc_store_t *s, const char *name, int64_t at, char *err, size_t errlen);
    asc_err_t (*key_last_used)(asc_store_t *s, const char *name, int64_t *at, char *err,
                               size_t errlen); /* *at = 0 when never used */
    asc_err_t (*session_put)(asc_store_t *s, const asc_store_session_t *ss, char *err,
                             size_t errlen);
    asc_err_t (*session_get)(asc_store_t *s, const char *id_hash, asc_store_session_t *out,
                             char *err, size_t errlen); /* ENOTFOUND when absent or expired */
    asc_err_t (*session_del)(asc_store_t *s, const char *id_hash, char *err, size_t errlen);
    /* Meta key/value (e.g. the master key check value). */
    asc_err_t (*meta_get)(asc_store_t *s, const char *key, char **value, char *err, size_t errlen);
    asc_err_t (*meta_set)(asc_store_t *s, const char *key, const char *value, char *err,
                          size_t errlen);
} asc_store_backend_t;

extern const asc_store_backend_t asc_store_sqlite;

struct asc_store {
    const asc_store_backend_t *be;
};

/* Open the store named by dsn: "sqlite:<path>" or a plain path (SQLite),
 * then migrate. */
asc_err_t asc_store_open(const char *dsn, asc_store_t **out, char *err, size_t errlen);
void asc_store_close(asc_store_t *s);

void asc_store_obj_free(asc_store_obj_t *o);
void asc_store_list_free(asc_store_list_t *l);
void asc_store_revs_free(asc_store_rev_t *r, size_t n);
void asc_store_changes_free(asc_store_changes_t *c);
void asc_store_session_free(asc_store_session_t *s);

/* Hex SHA-256 of a document (65 bytes with the NUL). */
void asc_store_digest(const char *doc, size_t len, char out[65]);

#endif

/*
 * Internals of the SQLite store backend, shared by store/sqlite.c, its
 * schema file and its unit test. Not part of the store interface.
 */
#ifndef ASC_STORE_SQLITE_INT_H
#define ASC_STORE_SQLITE_INT_H

#include <stddef.h>

#include <sqlite3.h>

#include "store/store.h"

/* The schema migrations, oldest first: entry i brings the schema from
 * version i to version i + 1. Each is applied in its own transaction. A
 * migration, once released, is never edited: a change is a new entry. */
extern const char *const asc_store_sqlite_migrations[];
extern const size_t asc_store_sqlite_nmigrations;

/* The connection behind a store opened with asc_store_sqlite (borrowed;
 * for tests and diagnostics only). */
sqlite3 *asc_store_sqlite_handle(asc_store_t *s);

#endif

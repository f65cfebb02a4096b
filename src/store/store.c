/*
 * Backend selection for the control-plane store and the helpers shared by
 * every backend (freeing results, document digests). See store.h.
 */
#include "store/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

static int has_prefix(const char *s, const char *p)
{
    return strncmp(s, p, strlen(p)) == 0;
}

/*
 * Open the store named by dsn and bring its schema up to date. "sqlite:<path>"
 * and a plain path open the SQLite backend (the file and its missing parent
 * directories are created). On failure *out is NULL, err holds a short
 * message and nothing is left open: ASC_EINVAL for an empty dsn,
 * ASC_EUNSUPPORTED for a backend not built in or a schema newer than this
 * binary, ASC_EIO for a database failure.
 */
asc_err_t asc_store_open(const char *dsn, asc_store_t **out, char *err, size_t errlen)
{
    asc_store_t *s = NULL;
    asc_err_t e;
    int schema = 0;

    *out = NULL;
    if (dsn == NULL || dsn[0] == '\0') {
        snprintf(err, errlen, "store: no database given");
        return ASC_EINVAL;
    }
    if (has_prefix(dsn, "postgres:") || has_prefix(dsn, "postgresql:")) {
        snprintf(err, errlen, "store: the PostgreSQL backend is not available in this build");
        return ASC_EUNSUPPORTED;
    }
    e = asc_store_sqlite.open(dsn, &s, err, errlen);
    if (e != ASC_OK)
        goto out;
    e = s->be->migrate(s, &schema, err, errlen);
    if (e != ASC_OK)
        goto out;
    *out = s;
    s = NULL;
out:
    if (s != NULL)
        s->be->close(s);
    return e;
}

/* Close the store (NULL is a no-op). An open transaction is rolled back. */
void asc_store_close(asc_store_t *s)
{
    if (s != NULL)
        s->be->close(s);
}

/* Free the strings of o and zero it; o itself is not freed (it is usually
 * on the stack or an element of a list). NULL is a no-op. */
void asc_store_obj_free(asc_store_obj_t *o)
{
    if (o == NULL)
        return;
    free(o->kind);
    free(o->name);
    free(o->tenant);
    free(o->team);
    free(o->owner);
    free(o->doc);
    free(o->source);
    free(o->file_digest);
    free(o->etag);
    free(o->created_by);
    free(o->updated_by);
    memset(o, 0, sizeof *o);
}

/* Free every item of l and the item array, and zero l (not freed itself). */
void asc_store_list_free(asc_store_list_t *l)
{
    if (l == NULL)
        return;
    for (size_t i = 0; i < l->n; i++)
        asc_store_obj_free(&l->items[i]);
    free(l->items);
    memset(l, 0, sizeof *l);
}

/* Free the n revisions of the array r (as rev_list returns it) and r. */
void asc_store_revs_free(asc_store_rev_t *r, size_t n)
{
    if (r == NULL)
        return;
    for (size_t i = 0; i < n; i++) {
        free(r[i].actor);
        free(r[i].source);
        free(r[i].summary);
    }
    free(r);
}

/* Free every change of c and the array, and zero c (not freed itself). */
void asc_store_changes_free(asc_store_changes_t *c)
{
    if (c == NULL)
        return;
    for (size_t i = 0; i < c->n; i++) {
        asc_store_change_t *x = &c->items[i];
        free(x->actor);
        free(x->kind);
        free(x->name);
        free(x->tenant);
        free(x->action);
        free(x->before_digest);
        free(x->after_digest);
    }
    free(c->items);
    memset(c, 0, sizeof *c);
}

/* Free the strings of a session and zero it (not freed itself). */
void asc_store_session_free(asc_store_session_t *s)
{
    if (s == NULL)
        return;
    free(s->id_hash);
    free(s->principal);
    memset(s, 0, sizeof *s);
}

/* Write the lowercase hex SHA-256 of doc[0..len) and a NUL into out. A NULL
 * doc hashes as the empty document. Cannot fail. */
void asc_store_digest(const char *doc, size_t len, char out[65])
{
    unsigned char h[crypto_hash_sha256_BYTES];
    static const unsigned char empty[1];
    crypto_hash_sha256(h, doc != NULL ? (const unsigned char *)doc : empty, doc != NULL ? len : 0);
    sodium_bin2hex(out, 65, h, sizeof h);
}

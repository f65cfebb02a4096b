/*
 * Request-target normalisation. The router and auth both see only the
 * normalised path, so a path trick can never reach a handler by a route that
 * auth did not check (ADVERSARIAL #4).
 */
#ifndef ASC_HTTP_PATH_H
#define ASC_HTTP_PATH_H

#include <stddef.h>

#include "core/err.h"
#include "core/pool.h"

/* Normalise the request target url[0..len) into *path (allocated in pool):
 *  - absolute-form targets ("http://host/p") keep only their path;
 *  - the query ("?…") is split off into *query (NULL when absent);
 *  - %XX escapes of unreserved characters (A-Z a-z 0-9 - . _ ~) are decoded;
 *    other escapes stay encoded (so "%2F" never becomes a separator);
 *  - repeated slashes collapse, "." and ".." segments are resolved (never
 *    above the root), and a trailing slash is dropped (except for "/").
 * Case is preserved: "/V1/Models" is a different path from "/v1/models".
 * Returns ASC_EINVAL for a target that is not origin- or absolute-form, a
 * bad escape, or a NUL/control byte. */
asc_err_t asc_http_path_normalize(asc_pool_t *pool, const char *url, size_t len, const char **path,
                                  size_t *path_len, const char **query);

#endif

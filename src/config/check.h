/*
 * The validator's field checks, shared by the files of src/config that turn
 * parts of the cJSON tree into typed config (validate.c: server, providers,
 * keys; route.c: models and their routes). Every check reports the first
 * violation with the path of the offending node into the caller's buffer.
 */
#ifndef ASC_CONFIG_CHECK_H
#define ASC_CONFIG_CHECK_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "core/err.h"

#define PATH_MAX_LEN 512
#define TIMEOUT_MAX 86400000ULL

typedef struct {
    char *err;
    size_t errlen;
} asc_cv_t;

/* Write "<path>: <message>" into v->err; returns ASC_EINVAL. */
asc_err_t asc_cv_fail(asc_cv_t *v, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
asc_err_t asc_cv_oom(asc_cv_t *v);
/* strdup that reports failure through v. */
asc_err_t asc_cv_dup(asc_cv_t *v, const char *s, char **out);

/* Levenshtein distance capped for short strings ((size_t)-1 past 31
 * characters), and the candidate within distance 2 of s, or NULL. */
size_t asc_cv_edit_distance(const char *a, const char *b);
const char *asc_cv_suggest(const char *s, const char *const *cands, size_t n);
/* items joined with ", " into out. */
void asc_cv_join(char *out, size_t outlen, const char *const *items, size_t n);

/* Refuse members of obj that are not in allowed[] (suggesting a near one)
 * and repeated members. At most 64 allowed names. */
asc_err_t asc_cv_check_keys(asc_cv_t *v, const cJSON *obj, const char *path,
                            const char *const *allowed, size_t n);

/* Member `field` of obj, or NULL when absent or null (null = "not set"). */
const cJSON *asc_cv_member(const cJSON *obj, const char *field);
int asc_cv_is_printable(const char *s, int allow_space);

/* Optional / required non-empty string without control characters (*out
 * borrowed, NULL when absent). */
asc_err_t asc_cv_opt_str(asc_cv_t *v, const cJSON *obj, const char *path, const char *field,
                         const char **out);
asc_err_t asc_cv_req_str(asc_cv_t *v, const cJSON *obj, const char *path, const char *field,
                         const char **out);
/* Optional integer in [min, max] (decimal strings accepted, for ${VAR});
 * *out untouched when absent. */
asc_err_t asc_cv_opt_uint(asc_cv_t *v, const cJSON *obj, const char *path, const char *field,
                          uint64_t min, uint64_t max, uint64_t *out);
/* Optional number in [min, max] (decimal strings accepted). */
asc_err_t asc_cv_opt_num(asc_cv_t *v, const cJSON *obj, const char *path, const char *field,
                         double min, double max, double *out);
/* Optional boolean ("true"/"false" strings accepted). */
asc_err_t asc_cv_opt_bool(asc_cv_t *v, const cJSON *obj, const char *path, const char *field,
                          int *out);

/* Optional RFC 3339 timestamp -> unix ms (*out untouched when absent). */
asc_err_t asc_cv_opt_time(asc_cv_t *v, const cJSON *obj, const char *path, const char *field,
                          int64_t *out);

/* Optional sequence of 1..max non-empty printable strings without spaces,
 * each at most maxlen bytes (model patterns, regions). *out NULL when
 * absent; what is written is owned by the caller even on failure. */
asc_err_t asc_cv_opt_strv(asc_cv_t *v, const cJSON *obj, const char *path, const char *field,
                          size_t max, size_t maxlen, char ***out, size_t *n);

/* Required name field checked with asc_config_name_ok (config.h) and
 * duplicated. */
asc_err_t asc_cv_req_name(asc_cv_t *v, const cJSON *obj, const char *path, const char *field,
                          char **out);
/* Optional name field (a reference), duplicated; NULL when absent. */
asc_err_t asc_cv_opt_name(asc_cv_t *v, const cJSON *obj, const char *path, const char *field,
                          char **out);

/* Names sorted for uniqueness checks and lookups, so that neither is
 * quadratic in the size of a big config. */
typedef struct {
    const char *name;
    size_t index;
} asc_cv_named_t;

/* Sort names and return the index of the second occurrence of the first
 * repeated name (in input order), or (size_t)-1 with *first unset. */
size_t asc_cv_find_duplicate(asc_cv_named_t *names, size_t n, size_t *first);

struct asc_config;
/* models: (route.c), after the providers, whose names come sorted. */
asc_err_t asc_config_validate_models(asc_cv_t *v, const cJSON *obj, const asc_cv_named_t *provs,
                                     struct asc_config *c);
/* tenants, teams, users, credentials (tenancy.c), after providers; then the
 * keys' ownership and scopes (within their team's and tenant's). */
asc_err_t asc_config_validate_tenancy(asc_cv_t *v, const cJSON *root, struct asc_config *c);
asc_err_t asc_config_validate_key_scopes(asc_cv_t *v, struct asc_config *c);
struct asc_config_limits;
/* Optional limits: {rpm, tpm, budget_usd, budget_period} of obj. */
asc_err_t asc_config_parse_limits(asc_cv_t *v, const cJSON *obj, const char *path,
                                  struct asc_config_limits *out);
/* admin: (admin.c). */
asc_err_t asc_config_validate_admin(asc_cv_t *v, const cJSON *obj, struct asc_config *c);

#endif

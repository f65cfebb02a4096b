/*
 * Request bodies from the command line: `--set field=value`, `--json` and
 * `-f FILE.json`, merged into one JSON object (see internal.h for the
 * rules a --set value follows).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/internal.h"

#define MAX_PATH_DEPTH 16
#define MAX_FIELD 128

/* Fields of the config schema that are lists of strings: `--set
 * models=a,b` means ["a","b"]. */
static const char *const k_list_fields[] = {"models", "regions", NULL};

static int is_list_field(const char *field)
{
    for (size_t i = 0; k_list_fields[i] != NULL; i++)
        if (strcmp(field, k_list_fields[i]) == 0)
            return 1;
    return 0;
}

static int is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* RFC 8259 number: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? */
static int is_json_number(const char *s)
{
    const char *p = s;
    if (*p == '-')
        p++;
    if (*p == '0')
        p++;
    else if (*p >= '1' && *p <= '9')
        while (is_digit(*p))
            p++;
    else
        return 0;
    if (*p == '.') {
        p++;
        if (!is_digit(*p))
            return 0;
        while (is_digit(*p))
            p++;
    }
    if (*p == 'e' || *p == 'E') {
        p++;
        if (*p == '+' || *p == '-')
            p++;
        if (!is_digit(*p))
            return 0;
        while (is_digit(*p))
            p++;
    }
    return *p == '\0';
}

static cJSON *split_list(const char *value)
{
    cJSON *arr = cJSON_CreateArray();
    if (arr == NULL)
        return NULL;
    const char *p = value;
    for (;;) {
        const char *comma = strchr(p, ',');
        const char *end = comma != NULL ? comma : p + strlen(p);
        const char *a = p, *b = end;
        while (a < b && (*a == ' ' || *a == '\t'))
            a++;
        while (b > a && (b[-1] == ' ' || b[-1] == '\t'))
            b--;
        if (b > a) {
            char *item = strndup(a, (size_t)(b - a));
            cJSON *s = item != NULL ? cJSON_CreateString(item) : NULL;
            free(item);
            if (s == NULL) {
                cJSON_Delete(arr);
                return NULL;
            }
            cJSON_AddItemToArray(arr, s);
        }
        if (comma == NULL)
            break;
        p = comma + 1;
    }
    return arr;
}

cJSON *asc_cli_set_value(const char *field, const char *value, char *err, size_t errlen)
{
    if (errlen > 0)
        err[0] = '\0';
    if (value[0] == '[' || value[0] == '{' || value[0] == '"') {
        cJSON *v = cJSON_ParseWithOpts(value, NULL, 1);
        if (v == NULL)
            snprintf(err, errlen,
                     "--set %s: the value starts like JSON but is not valid JSON (a string "
                     "starting with '%c' must be written as a JSON string: '\"...\"')",
                     field, value[0]);
        return v;
    }
    if (strcmp(value, "null") == 0)
        return cJSON_CreateNull();
    if (is_list_field(field))
        return split_list(value);
    if (strcmp(value, "true") == 0)
        return cJSON_CreateTrue();
    if (strcmp(value, "false") == 0)
        return cJSON_CreateFalse();
    if (is_json_number(value))
        return cJSON_CreateRaw(value);
    return cJSON_CreateString(value);
}

static int field_char_ok(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || is_digit(c) || c == '_' || c == '-';
}

asc_err_t asc_cli_set_apply(cJSON *obj, const char *assignment, char *err, size_t errlen)
{
    const char *eq = strchr(assignment, '=');
    if (eq == NULL) {
        snprintf(err, errlen, "--set expects field=value");
        return ASC_EINVAL;
    }
    size_t plen = (size_t)(eq - assignment);
    if (plen == 0 || plen >= MAX_FIELD) {
        snprintf(err, errlen, "--set: the field name must be 1-%d characters", MAX_FIELD - 1);
        return ASC_EINVAL;
    }
    char path[MAX_FIELD];
    memcpy(path, assignment, plen);
    path[plen] = '\0';

    /* Split in place into segments, checking each. */
    char *seg[MAX_PATH_DEPTH];
    size_t nseg = 0;
    char *p = path;
    for (;;) {
        char *dot = strchr(p, '.');
        if (dot != NULL)
            *dot = '\0';
        if (*p == '\0') {
            snprintf(err, errlen, "--set: empty field name in the path");
            return ASC_EINVAL;
        }
        for (const char *q = p; *q != '\0'; q++) {
            if (!field_char_ok(*q)) {
                snprintf(err, errlen,
                         "--set: field names are letters, digits, '_' and '-' (dots separate "
                         "nested fields)");
                return ASC_EINVAL;
            }
        }
        if (nseg == MAX_PATH_DEPTH) {
            snprintf(err, errlen, "--set: more than %d nested fields", MAX_PATH_DEPTH);
            return ASC_EINVAL;
        }
        seg[nseg++] = p;
        if (dot == NULL)
            break;
        p = dot + 1;
    }

    cJSON *cur = obj;
    for (size_t i = 0; i + 1 < nseg; i++) {
        cJSON *next = cJSON_GetObjectItemCaseSensitive(cur, seg[i]);
        if (next == NULL) {
            next = cJSON_AddObjectToObject(cur, seg[i]);
            if (next == NULL)
                return ASC_ENOMEM;
        } else if (!cJSON_IsObject(next)) {
            snprintf(err, errlen, "--set: %s is already set to a value that is not an object",
                     seg[i]);
            return ASC_EINVAL;
        }
        cur = next;
    }
    const char *leaf = seg[nseg - 1];
    cJSON *v = asc_cli_set_value(leaf, eq + 1, err, errlen);
    if (v == NULL)
        return err[0] != '\0' ? ASC_EINVAL : ASC_ENOMEM;
    if (cJSON_GetObjectItemCaseSensitive(cur, leaf) != NULL) {
        cJSON_ReplaceItemInObjectCaseSensitive(cur, leaf, v);
    } else if (!cJSON_AddItemToObject(cur, leaf, v)) {
        cJSON_Delete(v);
        return ASC_ENOMEM;
    }
    return ASC_OK;
}

asc_err_t asc_cli_json_merge(cJSON *dst, const cJSON *src)
{
    for (const cJSON *m = src->child; m != NULL; m = m->next) {
        cJSON *old = cJSON_GetObjectItemCaseSensitive(dst, m->string);
        if (old != NULL && cJSON_IsObject(old) && cJSON_IsObject(m)) {
            asc_err_t e = asc_cli_json_merge(old, m);
            if (e != ASC_OK)
                return e;
            continue;
        }
        cJSON *copy = cJSON_Duplicate(m, 1);
        if (copy == NULL)
            return ASC_ENOMEM;
        if (old != NULL) {
            cJSON_ReplaceItemInObjectCaseSensitive(dst, m->string, copy);
        } else if (!cJSON_AddItemToObject(dst, m->string, copy)) {
            cJSON_Delete(copy);
            return ASC_ENOMEM;
        }
    }
    return ASC_OK;
}

static asc_err_t merge_text(cJSON *body, const char *text, const char *what, char *err,
                            size_t errlen)
{
    cJSON *v = cJSON_ParseWithOpts(text, NULL, 1);
    if (v == NULL || !cJSON_IsObject(v)) {
        snprintf(err, errlen, "%s: %s", what,
                 v == NULL ? "not valid JSON" : "must be a JSON object ({...})");
        cJSON_Delete(v);
        return ASC_EINVAL;
    }
    asc_err_t e = asc_cli_json_merge(body, v);
    cJSON_Delete(v);
    return e;
}

asc_err_t asc_cli_body_build(const char *file_text, const char *json_text, char *const *sets,
                             size_t nsets, cJSON **out, char *err, size_t errlen)
{
    asc_err_t e = ASC_OK;
    err[0] = '\0';
    *out = NULL;
    cJSON *body = cJSON_CreateObject();
    if (body == NULL)
        return ASC_ENOMEM;
    if (file_text != NULL) {
        e = merge_text(body, file_text, "-f", err, errlen);
        if (e != ASC_OK)
            goto out;
    }
    if (json_text != NULL) {
        e = merge_text(body, json_text, "--json", err, errlen);
        if (e != ASC_OK)
            goto out;
    }
    for (size_t i = 0; i < nsets; i++) {
        e = asc_cli_set_apply(body, sets[i], err, errlen);
        if (e != ASC_OK)
            goto out;
    }
out:
    if (e != ASC_OK)
        cJSON_Delete(body);
    else
        *out = body;
    return e;
}

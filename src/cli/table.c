/*
 * Table output: the columns of each kind, cell text, and the grid that lays
 * cells out. Every cell passes through asc_cli_sanitize() in asc_cli_grid(),
 * the one place table text is written.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/internal.h"

#define MAX_COLS 10
#define MAX_FLATTEN_DEPTH 32

typedef enum {
    CELL_PATH,      /* the first of paths that is present */
    CELL_TARGETS,   /* a route's targets as provider/model */
    CELL_FALLBACKS, /* a route's fallbacks as provider/model */
} cell_how_t;

typedef struct {
    const char *title;
    const char *path[3]; /* dotted paths into the object, first present wins */
    cell_how_t how;
} col_t;

typedef struct {
    const char *kind;
    col_t col[MAX_COLS]; /* ends at the first NULL title */
} kind_cols_t;

#define C(t, ...)                                                                                  \
    {                                                                                              \
        t, {__VA_ARGS__}, CELL_PATH                                                                \
    }
#define NAME C("NAME", "name")
#define TENANT C("TENANT", "tenant")
#define TEAM C("TEAM", "team")
#define MODELS C("MODELS", "models")
#define REGIONS C("REGIONS", "regions")
#define MANAGED C("MANAGED_BY", "meta.managed_by")
#define UPDATED C("UPDATED", "meta.updated_at", "updated_at")

static const kind_cols_t k_kinds[] = {
    {"tenants", {NAME, MODELS, REGIONS, MANAGED, UPDATED}},
    {"teams", {NAME, TENANT, MODELS, REGIONS, MANAGED, UPDATED}},
    {"users", {NAME, C("ROLE", "role"), TENANT, TEAM, C("EMAIL", "email"), MANAGED, UPDATED}},
    {"keys",
     {NAME, TENANT, TEAM, C("OWNER", "owner"), C("HINT", "key_hint"), C("EXPIRES", "expires_at"),
      C("REVOKED", "revoked"), C("LAST_USED", "last_used_at")}},
    {"credentials", {NAME, C("PROVIDER", "provider"), TENANT, C("LAST4", "last4"), UPDATED}},
    {"providers",
     {NAME, C("KIND", "kind"), C("BASE_URL", "base_url"), C("REGION", "region"), MANAGED, UPDATED}},
    {"routes",
     {NAME,
      C("TYPE", "type"),
      {"TARGETS", {NULL}, CELL_TARGETS},
      {"FALLBACKS", {NULL}, CELL_FALLBACKS},
      MANAGED,
      UPDATED}},
    {"tokens",
     {NAME, C("USER", "user"), C("EXPIRES", "expires_at"), C("LAST_USED", "last_used_at"),
      C("CREATED", "meta.created_at", "created_at")}},
    {"revisions",
     {C("REVISION", "revision"), C("TIME", "created_at", "at", "time"),
      C("ACTOR", "actor", "created_by"), C("SOURCE", "source"),
      C("SUMMARY", "summary", "message")}},
    {"changes",
     {C("REVISION", "revision"), C("TIME", "at", "created_at", "time"), C("ACTOR", "actor"),
      C("ACTION", "action"), C("KIND", "kind"), C("NAME", "name"), TENANT}},
};

static const kind_cols_t k_default = {"", {NAME, UPDATED}};

/* A growing array of malloc'd strings. */
typedef struct {
    char **v;
    size_t n, cap;
} strs_t;

static asc_err_t strs_push_take(strs_t *s, char *str)
{
    if (str == NULL)
        return ASC_ENOMEM;
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 32;
        char **v = realloc(s->v, cap * sizeof *v);
        if (v == NULL) {
            free(str);
            return ASC_ENOMEM;
        }
        s->v = v;
        s->cap = cap;
    }
    s->v[s->n++] = str;
    return ASC_OK;
}

static void strs_free(strs_t *s)
{
    for (size_t i = 0; i < s->n; i++)
        free(s->v[i]);
    free(s->v);
    s->v = NULL;
    s->n = s->cap = 0;
}

/* The member at dotted path in obj, or NULL. */
static const cJSON *get_path(const cJSON *obj, const char *path)
{
    char seg[128];
    const char *p = path;
    while (obj != NULL && *p != '\0') {
        size_t n = strcspn(p, ".");
        if (n >= sizeof seg)
            return NULL;
        memcpy(seg, p, n);
        seg[n] = '\0';
        obj = cJSON_IsObject(obj) ? cJSON_GetObjectItemCaseSensitive(obj, seg) : NULL;
        p += n;
        if (*p == '.')
            p++;
    }
    return obj;
}

static int is_scalar(const cJSON *v)
{
    return !cJSON_IsArray(v) && !cJSON_IsObject(v);
}

asc_err_t asc_cli_cell_text(asc_buf_t *out, const cJSON *v)
{
    if (v == NULL || cJSON_IsNull(v))
        return asc_buf_putc(out, '-');
    if (cJSON_IsString(v))
        return asc_buf_puts(out, v->valuestring);
    if (cJSON_IsArray(v)) {
        int scalars = 1;
        for (const cJSON *m = v->child; m != NULL; m = m->next)
            scalars = scalars && is_scalar(m);
        if (scalars) {
            asc_err_t e = ASC_OK;
            for (const cJSON *m = v->child; m != NULL && e == ASC_OK; m = m->next) {
                if (m != v->child)
                    e = asc_buf_putc(out, ',');
                if (e == ASC_OK)
                    e = cJSON_IsString(m) ? asc_buf_puts(out, m->valuestring)
                                          : asc_cli_cell_text(out, m);
            }
            return e;
        }
    }
    char *js = cJSON_PrintUnformatted(v);
    if (js == NULL)
        return ASC_ENOMEM;
    asc_err_t e = asc_buf_puts(out, js);
    cJSON_free(js);
    return e;
}

/* "provider/model" for one target; model defaults to the route's name. */
static asc_err_t target_text(asc_buf_t *out, const cJSON *t, const char *route)
{
    const cJSON *p = cJSON_GetObjectItemCaseSensitive(t, "provider");
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(t, "model");
    asc_err_t e = asc_buf_puts(out, cJSON_IsString(p) ? p->valuestring : "?");
    if (e == ASC_OK)
        e = asc_buf_putc(out, '/');
    if (e == ASC_OK)
        e = asc_buf_puts(out, cJSON_IsString(m) ? m->valuestring : route);
    return e;
}

static asc_err_t targets_text(asc_buf_t *out, const cJSON *route, const char *member)
{
    const cJSON *name = cJSON_GetObjectItemCaseSensitive(route, "name");
    const char *rn = cJSON_IsString(name) ? name->valuestring : "?";
    const cJSON *list = cJSON_GetObjectItemCaseSensitive(route, member);
    if (cJSON_IsArray(list)) {
        asc_err_t e = ASC_OK;
        for (const cJSON *t = list->child; t != NULL && e == ASC_OK; t = t->next) {
            if (t != list->child)
                e = asc_buf_putc(out, ',');
            if (e == ASC_OK)
                e = target_text(out, t, rn);
        }
        return list->child != NULL ? e : asc_buf_putc(out, '-');
    }
    /* The one-target form: {provider, model} on the route itself. */
    if (strcmp(member, "targets") == 0 && cJSON_GetObjectItemCaseSensitive(route, "provider"))
        return target_text(out, route, rn);
    return asc_buf_putc(out, '-');
}

static asc_err_t cell(asc_buf_t *out, const cJSON *obj, const col_t *c)
{
    if (c->how == CELL_TARGETS)
        return targets_text(out, obj, "targets");
    if (c->how == CELL_FALLBACKS)
        return targets_text(out, obj, "fallbacks");
    const cJSON *v = NULL;
    for (size_t i = 0; i < 3 && c->path[i] != NULL && v == NULL; i++)
        v = get_path(obj, c->path[i]);
    return asc_cli_cell_text(out, v);
}

asc_err_t asc_cli_grid(asc_buf_t *out, const char *const *cells, size_t ncols, size_t nrows)
{
    asc_err_t e = ASC_OK;
    strs_t clean = {0};
    size_t *width = calloc(ncols ? ncols : 1, sizeof *width);
    asc_buf_t tmp;
    asc_buf_init(&tmp, 0);
    if (width == NULL)
        return ASC_ENOMEM;
    for (size_t i = 0; i < ncols * nrows && e == ASC_OK; i++) {
        asc_buf_clear(&tmp);
        const char *c = cells[i] != NULL ? cells[i] : "";
        e = asc_cli_sanitize(&tmp, c, strlen(c));
        if (e == ASC_OK)
            e = strs_push_take(&clean, strdup(tmp.data != NULL ? tmp.data : ""));
        if (e == ASC_OK && asc_cli_width(clean.v[i]) > width[i % ncols])
            width[i % ncols] = asc_cli_width(clean.v[i]);
    }
    for (size_t r = 0; r < nrows && e == ASC_OK; r++) {
        size_t line = out->len;
        for (size_t c = 0; c < ncols && e == ASC_OK; c++) {
            const char *s = clean.v[r * ncols + c];
            e = asc_buf_puts(out, s);
            for (size_t w = asc_cli_width(s); e == ASC_OK && c + 1 < ncols && w < width[c] + 2; w++)
                e = asc_buf_putc(out, ' ');
        }
        while (e == ASC_OK && out->len > line && out->data[out->len - 1] == ' ')
            out->data[--out->len] = '\0';
        if (e == ASC_OK)
            e = asc_buf_putc(out, '\n');
    }
    asc_buf_free(&tmp);
    strs_free(&clean);
    free(width);
    return e;
}

static const kind_cols_t *kind_cols(const char *kind)
{
    for (size_t i = 0; i < sizeof k_kinds / sizeof k_kinds[0]; i++)
        if (strcmp(k_kinds[i].kind, kind) == 0)
            return &k_kinds[i];
    return &k_default;
}

asc_err_t asc_cli_table_list(asc_buf_t *out, const char *kind, const cJSON *items)
{
    const kind_cols_t *k = kind_cols(kind);
    size_t ncols = 0;
    while (ncols < MAX_COLS && k->col[ncols].title != NULL)
        ncols++;
    strs_t cells = {0};
    asc_err_t e = ASC_OK;
    asc_buf_t tmp;
    asc_buf_init(&tmp, 0);
    for (size_t c = 0; c < ncols && e == ASC_OK; c++)
        e = strs_push_take(&cells, strdup(k->col[c].title));
    size_t nrows = 1;
    for (const cJSON *it = items != NULL ? items->child : NULL; it != NULL && e == ASC_OK;
         it = it->next, nrows++) {
        for (size_t c = 0; c < ncols && e == ASC_OK; c++) {
            asc_buf_clear(&tmp);
            e = cell(&tmp, it, &k->col[c]);
            if (e == ASC_OK)
                e = strs_push_take(&cells, strdup(tmp.data != NULL ? tmp.data : ""));
        }
    }
    if (e == ASC_OK)
        e = asc_cli_grid(out, (const char *const *)cells.v, ncols, nrows);
    asc_buf_free(&tmp);
    strs_free(&cells);
    return e;
}

static int skipped(const char *name, const char *const *skip)
{
    for (size_t i = 0; skip != NULL && skip[i] != NULL; i++)
        if (strcmp(name, skip[i]) == 0)
            return 1;
    return 0;
}

/* Append (path, text) rows for v under path prefix. */
static asc_err_t flatten(strs_t *rows, asc_buf_t *path, const cJSON *v, unsigned depth)
{
    asc_err_t e = ASC_OK;
    int leaf = is_scalar(v) || v->child == NULL || depth >= MAX_FLATTEN_DEPTH;
    if (cJSON_IsArray(v) && !leaf) {
        leaf = 1;
        for (const cJSON *m = v->child; m != NULL; m = m->next)
            leaf = leaf && is_scalar(m);
    }
    if (leaf) {
        asc_buf_t text;
        asc_buf_init(&text, 0);
        e = asc_cli_cell_text(&text, v);
        if (e == ASC_OK)
            e = strs_push_take(rows, strdup(path->data != NULL ? path->data : ""));
        if (e == ASC_OK)
            e = strs_push_take(rows, strdup(text.data != NULL ? text.data : ""));
        asc_buf_free(&text);
        return e;
    }
    size_t keep = path->len, i = 0;
    for (const cJSON *m = v->child; m != NULL && e == ASC_OK; m = m->next, i++) {
        if (cJSON_IsObject(v))
            e = asc_buf_printf(path, "%s%s", keep ? "." : "", m->string != NULL ? m->string : "");
        else
            e = asc_buf_printf(path, "[%zu]", i);
        if (e == ASC_OK)
            e = flatten(rows, path, m, depth + 1);
        path->len = keep;
        if (path->data != NULL)
            path->data[keep] = '\0';
    }
    return e;
}

asc_err_t asc_cli_table_object(asc_buf_t *out, const cJSON *obj, const char *const *skip)
{
    strs_t rows = {0};
    asc_buf_t path;
    asc_buf_init(&path, 0);
    asc_err_t e = ASC_OK;
    if (!cJSON_IsObject(obj)) {
        e = asc_cli_cell_text(&path, obj);
        if (e == ASC_OK)
            e = asc_cli_sanitize(out, path.data, path.len);
        asc_buf_free(&path);
        return e == ASC_OK ? asc_buf_putc(out, '\n') : e;
    }
    for (const cJSON *m = obj->child; m != NULL && e == ASC_OK; m = m->next) {
        if (m->string == NULL || skipped(m->string, skip))
            continue;
        asc_buf_clear(&path);
        e = asc_buf_puts(&path, m->string);
        if (e == ASC_OK)
            e = flatten(&rows, &path, m, 1);
    }
    if (e == ASC_OK)
        e = asc_cli_grid(out, (const char *const *)rows.v, 2, rows.n / 2);
    asc_buf_free(&path);
    strs_free(&rows);
    return e;
}

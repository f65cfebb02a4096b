#include "config/yaml.h"

#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "config/internal.h"

/* 2^53: every integer of at most this magnitude is exact in a double. */
#define MAX_EXACT_INT 9007199254740992ULL

/* One open collection. For a mapping, `key` holds the key read and not yet
 * given a value, and `set` indexes the keys already added (borrowed from
 * the children's ->string) so that duplicates are found in O(1) even in a
 * mapping with many thousands of keys. */
typedef struct {
    cJSON *node;
    char *key;
    yaml_mark_t key_mark;
    const char **set;
    size_t nset;
    size_t capset;
} frame_t;

typedef struct {
    frame_t st[ASC_YAML_MAX_DEPTH];
    size_t depth;
    cJSON *root;
    char *err;
    size_t errlen;
} ctx_t;

static void fail_at(ctx_t *c, yaml_mark_t m, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void fail_at(ctx_t *c, yaml_mark_t m, const char *fmt, ...)
{
    if (c->errlen == 0)
        return;
    int n = snprintf(c->err, c->errlen, "line %zu, column %zu: ", m.line + 1, m.column + 1);
    if (n < 0 || (size_t)n >= c->errlen)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->err + n, c->errlen - (size_t)n, fmt, ap);
    va_end(ap);
}

static void fail_plain(ctx_t *c, const char *msg)
{
    if (c->errlen)
        snprintf(c->err, c->errlen, "%s", msg);
}

/* ---- duplicate-key set (open addressing, FNV-1a) ---- */

static uint64_t hash_str(const char *s)
{
    uint64_t h = 14695981039346656037ULL;
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 1099511628211ULL;
    }
    return h;
}

static int set_has(const frame_t *f, const char *k)
{
    if (f->capset == 0)
        return 0;
    size_t mask = f->capset - 1;
    for (size_t i = (size_t)hash_str(k) & mask;; i = (i + 1) & mask) {
        if (f->set[i] == NULL)
            return 0;
        if (strcmp(f->set[i], k) == 0)
            return 1;
    }
}

static void set_put(const char **set, size_t cap, const char *k)
{
    size_t mask = cap - 1;
    size_t i = (size_t)hash_str(k) & mask;
    while (set[i] != NULL)
        i = (i + 1) & mask;
    set[i] = k;
}

/* Returns 0, or -1 on out of memory. */
static int set_add(frame_t *f, const char *k)
{
    if ((f->nset + 1) * 2 > f->capset) {
        size_t cap = f->capset ? f->capset * 2 : 16;
        const char **n = calloc(cap, sizeof *n);
        if (n == NULL)
            return -1;
        for (size_t i = 0; i < f->capset; i++)
            if (f->set[i] != NULL)
                set_put(n, cap, f->set[i]);
        free(f->set);
        f->set = n;
        f->capset = cap;
    }
    set_put(f->set, f->capset, k);
    f->nset++;
    return 0;
}

static void frame_clear(frame_t *f)
{
    free(f->key);
    free(f->set);
    memset(f, 0, sizeof *f);
}

/* ---- plain scalar resolution (YAML 1.2 core schema) ---- */

static int is_digit(char ch)
{
    return ch >= '0' && ch <= '9';
}

static int hex_val(char ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    if (ch >= 'a' && ch <= 'f')
        return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F')
        return ch - 'A' + 10;
    return -1;
}

/* Accumulate digits of s[0..n) in `base`; returns 1 when every byte is a
 * digit of that base (n > 0), with *big set when the value passed 2^53. */
static int parse_uint(const char *s, size_t n, unsigned base, uint64_t *out, int *big)
{
    uint64_t v = 0;
    *big = 0;
    if (n == 0)
        return 0;
    for (size_t i = 0; i < n; i++) {
        int d = hex_val(s[i]);
        if (d < 0 || (unsigned)d >= base)
            return 0;
        if (!*big) {
            v = v * base + (unsigned)d;
            if (v > MAX_EXACT_INT)
                *big = 1;
        }
    }
    *out = v;
    return 1;
}

/* [-+]? ( \.[0-9]+ | [0-9]+ ( \.[0-9]* )? ) ( [eE] [-+]? [0-9]+ )? */
static int is_core_float(const char *s, size_t n)
{
    size_t i = 0, d1 = 0, d2 = 0;
    if (i < n && (s[i] == '-' || s[i] == '+'))
        i++;
    while (i < n && is_digit(s[i]))
        i++, d1++;
    if (i < n && s[i] == '.') {
        i++;
        while (i < n && is_digit(s[i]))
            i++, d2++;
    }
    if (d1 == 0 && d2 == 0)
        return 0;
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        size_t de = 0;
        i++;
        if (i < n && (s[i] == '-' || s[i] == '+'))
            i++;
        while (i < n && is_digit(s[i]))
            i++, de++;
        if (de == 0)
            return 0;
    }
    return i == n;
}

static int eq_any(const char *s, const char *a, const char *b, const char *c)
{
    return strcmp(s, a) == 0 || strcmp(s, b) == 0 || strcmp(s, c) == 0;
}

/* Resolve plain scalar s (NUL-terminated, n bytes). Returns the new item,
 * or NULL with c->err set (or out of memory, also reported). */
static cJSON *resolve_plain(ctx_t *c, const char *s, size_t n, yaml_mark_t m)
{
    cJSON *item = NULL;
    uint64_t v = 0;
    int big = 0;
    char q[ASC_CONFIG_QUOTE_MAX + 16];

    if (n == 0 || strcmp(s, "~") == 0 || eq_any(s, "null", "Null", "NULL")) {
        item = cJSON_CreateNull();
        goto out;
    }
    if (eq_any(s, "true", "True", "TRUE")) {
        item = cJSON_CreateTrue();
        goto out;
    }
    if (eq_any(s, "false", "False", "FALSE")) {
        item = cJSON_CreateFalse();
        goto out;
    }
    {
        const char *p = s;
        size_t pn = n;
        int neg = 0;
        unsigned base = 10;
        if (n > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'o')) {
            base = s[1] == 'x' ? 16 : 8;
            p += 2;
            pn -= 2;
        } else if (pn > 1 && (p[0] == '-' || p[0] == '+')) {
            neg = p[0] == '-';
            p++;
            pn--;
        }
        if (parse_uint(p, pn, base, &v, &big)) {
            if (big) {
                asc_config_quote(q, sizeof q, s);
                fail_at(c, m, "integer %s is out of range (the limit is +-2^53)", q);
                return NULL;
            }
            double d = (double)v;
            item = cJSON_CreateNumber(neg && v ? -d : d);
            goto out;
        }
    }
    if (strcmp(s, ".nan") == 0 || strcmp(s, ".NaN") == 0 || strcmp(s, ".NAN") == 0) {
        fail_at(c, m, ".nan is not supported");
        return NULL;
    }
    {
        const char *p = (s[0] == '-' || s[0] == '+') ? s + 1 : s;
        if (eq_any(p, ".inf", ".Inf", ".INF")) {
            fail_at(c, m, ".inf is not supported");
            return NULL;
        }
    }
    if (is_core_float(s, n)) {
        double d = strtod(s, NULL);
        if (!isfinite(d)) {
            asc_config_quote(q, sizeof q, s);
            fail_at(c, m, "number %s is out of range", q);
            return NULL;
        }
        item = cJSON_CreateNumber(d);
        goto out;
    }
    item = cJSON_CreateString(s);
out:
    if (item == NULL)
        fail_plain(c, "out of memory");
    return item;
}

/* ---- tree building ---- */

static int tag_ok(const char *tag, const char *want)
{
    return tag == NULL || strcmp(tag, "!") == 0 || strcmp(tag, want) == 0;
}

/* Give item its place: the root, the next array element, or the value of
 * the pending mapping key. Takes ownership of item in every case. Returns
 * 0 or -1 (message set). */
static int attach(ctx_t *c, cJSON *item)
{
    if (c->depth == 0) {
        c->root = item;
        return 0;
    }
    frame_t *f = &c->st[c->depth - 1];
    if (cJSON_IsArray(f->node)) {
        if (!cJSON_AddItemToArray(f->node, item))
            goto oom;
        return 0;
    }
    if (!cJSON_AddItemToObject(f->node, f->key, item))
        goto oom;
    free(f->key);
    f->key = NULL;
    if (set_add(f, item->string) != 0) {
        fail_plain(c, "out of memory");
        return -1;
    }
    return 0;
oom:
    cJSON_Delete(item);
    fail_plain(c, "out of memory");
    return -1;
}

/* 1 when the next node of the innermost collection is a mapping key. */
static int expecting_key(const ctx_t *c)
{
    if (c->depth == 0)
        return 0;
    const frame_t *f = &c->st[c->depth - 1];
    return cJSON_IsObject(f->node) && f->key == NULL;
}

static int on_scalar(ctx_t *c, const yaml_event_t *ev)
{
    const char *s = (const char *)ev->data.scalar.value;
    size_t n = ev->data.scalar.length;
    const char *tag = (const char *)ev->data.scalar.tag;
    char q[ASC_CONFIG_QUOTE_MAX + 16];
    cJSON *item;

    if (ev->data.scalar.anchor != NULL) {
        asc_config_quote(q, sizeof q, (const char *)ev->data.scalar.anchor);
        fail_at(c, ev->start_mark, "anchors are not supported (found anchor %s)", q);
        return -1;
    }
    if (!tag_ok(tag, YAML_STR_TAG)) {
        asc_config_quote(q, sizeof q, tag);
        fail_at(c, ev->start_mark, "tag %s is not supported (quote the value instead)", q);
        return -1;
    }
    if (memchr(s, '\0', n) != NULL) {
        fail_at(c, ev->start_mark, "strings may not contain a NUL character");
        return -1;
    }
    if (expecting_key(c)) {
        frame_t *f = &c->st[c->depth - 1];
        if (set_has(f, s)) {
            asc_config_quote(q, sizeof q, s);
            fail_at(c, ev->start_mark, "duplicate key %s", q);
            return -1;
        }
        f->key = strdup(s);
        if (f->key == NULL) {
            fail_plain(c, "out of memory");
            return -1;
        }
        f->key_mark = ev->start_mark;
        return 0;
    }
    if (ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE && tag == NULL)
        item = resolve_plain(c, s, n, ev->start_mark);
    else
        item = cJSON_CreateString(s);
    if (item == NULL) {
        if (ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE || tag != NULL)
            fail_plain(c, "out of memory");
        return -1;
    }
    return attach(c, item);
}

static int on_start(ctx_t *c, const yaml_event_t *ev, int is_map)
{
    const char *anchor =
        (const char *)(is_map ? ev->data.mapping_start.anchor : ev->data.sequence_start.anchor);
    const char *tag =
        (const char *)(is_map ? ev->data.mapping_start.tag : ev->data.sequence_start.tag);
    char q[ASC_CONFIG_QUOTE_MAX + 16];

    if (anchor != NULL) {
        asc_config_quote(q, sizeof q, anchor);
        fail_at(c, ev->start_mark, "anchors are not supported (found anchor %s)", q);
        return -1;
    }
    if (!tag_ok(tag, is_map ? YAML_MAP_TAG : YAML_SEQ_TAG)) {
        asc_config_quote(q, sizeof q, tag);
        fail_at(c, ev->start_mark, "tag %s is not supported", q);
        return -1;
    }
    if (expecting_key(c)) {
        fail_at(c, ev->start_mark, "mapping keys must be scalars, not %s",
                is_map ? "mappings" : "sequences");
        return -1;
    }
    if (c->depth == ASC_YAML_MAX_DEPTH) {
        fail_at(c, ev->start_mark, "nesting deeper than %d levels", ASC_YAML_MAX_DEPTH);
        return -1;
    }
    cJSON *node = is_map ? cJSON_CreateObject() : cJSON_CreateArray();
    if (node == NULL) {
        fail_plain(c, "out of memory");
        return -1;
    }
    if (attach(c, node) != 0)
        return -1;
    frame_t *f = &c->st[c->depth++];
    memset(f, 0, sizeof *f);
    f->node = node;
    return 0;
}

/* Line and column (1-based) of byte offset off, for reader errors, which
 * libyaml reports as an offset only. */
static void offset_mark(const char *text, size_t len, size_t off, yaml_mark_t *m)
{
    m->index = off;
    m->line = 0;
    m->column = 0;
    if (off > len)
        off = len;
    for (size_t i = 0; i < off; i++) {
        if (text[i] == '\n') {
            m->line++;
            m->column = 0;
        } else {
            m->column++;
        }
    }
}

static void parser_error(ctx_t *c, const yaml_parser_t *p, const char *text, size_t len)
{
    const char *problem = p->problem ? p->problem : "syntax error";
    switch (p->error) {
    case YAML_MEMORY_ERROR: fail_plain(c, "out of memory"); return;
    case YAML_READER_ERROR: {
        yaml_mark_t m;
        offset_mark(text, len, p->problem_offset, &m);
        fail_at(c, m, "%s", problem);
        return;
    }
    default:
        if (p->context != NULL && p->context_mark.line == p->problem_mark.line &&
            p->context_mark.column == p->problem_mark.column)
            fail_at(c, p->problem_mark, "%s (%s)", problem, p->context);
        else if (p->context != NULL)
            fail_at(c, p->problem_mark, "%s (%s at line %zu, column %zu)", problem, p->context,
                    p->context_mark.line + 1, p->context_mark.column + 1);
        else
            fail_at(c, p->problem_mark, "%s", problem);
        return;
    }
}

/*
 * Events are handled one by one against the explicit stack in ctx_t; the
 * whole stream is read to its end so that a second document or trailing
 * garbage is reported rather than silently ignored.
 */
cJSON *asc_yaml_parse(const char *text, size_t len, char *err, size_t errlen)
{
    yaml_parser_t parser;
    yaml_event_t ev;
    int parser_ok = 0, have_event = 0, ndocs = 0, done = 0, ok = 0;
    ctx_t *c = calloc(1, sizeof *c);

    if (errlen)
        err[0] = '\0';
    if (c == NULL) {
        if (errlen)
            snprintf(err, errlen, "out of memory");
        return NULL;
    }
    c->err = err;
    c->errlen = errlen;
    if (len > ASC_YAML_MAX_BYTES) {
        if (errlen)
            snprintf(err, errlen, "document is larger than %zu bytes", ASC_YAML_MAX_BYTES);
        goto out;
    }
    if (!yaml_parser_initialize(&parser)) {
        fail_plain(c, "out of memory");
        goto out;
    }
    parser_ok = 1;
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);

    while (!done) {
        if (!yaml_parser_parse(&parser, &ev)) {
            parser_error(c, &parser, text, len);
            goto out;
        }
        have_event = 1;
        switch (ev.type) {
        case YAML_NO_EVENT:
        case YAML_STREAM_END_EVENT: done = 1; break;
        case YAML_STREAM_START_EVENT:
        case YAML_DOCUMENT_END_EVENT: break;
        case YAML_DOCUMENT_START_EVENT:
            if (ndocs++ > 0) {
                fail_at(c, ev.start_mark, "multiple documents are not supported");
                goto out;
            }
            break;
        case YAML_ALIAS_EVENT: {
            char q[ASC_CONFIG_QUOTE_MAX + 16];
            asc_config_quote(q, sizeof q, (const char *)ev.data.alias.anchor);
            fail_at(c, ev.start_mark, "aliases are not supported (found alias %s)", q);
            goto out;
        }
        case YAML_SCALAR_EVENT:
            if (on_scalar(c, &ev) != 0)
                goto out;
            break;
        case YAML_SEQUENCE_START_EVENT:
        case YAML_MAPPING_START_EVENT:
            if (on_start(c, &ev, ev.type == YAML_MAPPING_START_EVENT) != 0)
                goto out;
            break;
        case YAML_SEQUENCE_END_EVENT:
        case YAML_MAPPING_END_EVENT:
            /* libyaml pairs every end with its start. */
            if (c->depth > 0)
                frame_clear(&c->st[--c->depth]);
            break;
        }
        yaml_event_delete(&ev);
        have_event = 0;
    }
    if (c->root == NULL) {
        c->root = cJSON_CreateNull();
        if (c->root == NULL) {
            fail_plain(c, "out of memory");
            goto out;
        }
    }
    ok = 1;
out:
    if (have_event)
        yaml_event_delete(&ev);
    if (parser_ok)
        yaml_parser_delete(&parser);
    while (c->depth > 0)
        frame_clear(&c->st[--c->depth]);
    cJSON *root = c->root;
    if (!ok) {
        cJSON_Delete(root);
        root = NULL;
        if (errlen && err[0] == '\0')
            snprintf(err, errlen, "invalid YAML");
    }
    free(c);
    return root;
}

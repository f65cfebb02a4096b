/*
 * libFuzzer target for src/json.
 *
 * Parses the input under small limits; on success walks every token through
 * the accessors, checks the token tree's invariants, re-parses with the
 * depth limit set exactly at and just under the document's depth, splices
 * every value and re-parses, and compares the whole tree with cJSON's reading
 * of the same bytes (anything we accept must read the same in cJSON, which is
 * the point of a strict parser). Any broken invariant aborts.
 *
 * Build: clang -fsanitize=fuzzer,address,undefined (see scripts/fuzz.sh).
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "json/json.h"

#define CHECK(c)                                                                                   \
    do {                                                                                           \
        if (!(c)) {                                                                                \
            fprintf(stderr, "json_fuzz: check failed at line %d: %s\n", __LINE__, #c);             \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

#define PARSE_POOL_LIMIT (64 * 1024)
#define MAX_DEPTH 48
#define MAX_TOKENS 2048

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int is_key(const asc_json_t *j, int i)
{
    int p = j->tok[i].parent;
    return p >= 0 && j->tok[p].type == ASC_JSON_OBJECT;
}

/* 1 if the string body has a \u escape of a surrogate that is not part of a
 * high+low pair (we read it as U+FFFD; cJSON refuses it). */
static int has_lone_surrogate(const char *s, size_t n)
{
    for (size_t i = 0; i + 1 < n; i++) {
        if (s[i] != '\\')
            continue;
        if (s[i + 1] != 'u' || i + 6 > n) {
            i++;
            continue;
        }
        unsigned long u = strtoul((char[5]){s[i + 2], s[i + 3], s[i + 4], s[i + 5], 0}, NULL, 16);
        if (u >= 0xD800 && u <= 0xDBFF && i + 12 <= n && s[i + 6] == '\\' && s[i + 7] == 'u') {
            unsigned long lo =
                strtoul((char[5]){s[i + 8], s[i + 9], s[i + 10], s[i + 11], 0}, NULL, 16);
            if (lo >= 0xDC00 && lo <= 0xDFFF) {
                i += 11;
                continue;
            }
        }
        if (u >= 0xD800 && u <= 0xDFFF)
            return 1;
        i += 5;
    }
    return 0;
}

/* Independent well-formedness check of UTF-8 (decode, then range-check). */
static int utf8_ok(const unsigned char *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        unsigned c = s[i], len;
        unsigned long cp, min;
        if (c < 0x80) {
            i++;
            continue;
        }
        if ((c & 0xE0) == 0xC0) {
            len = 2, cp = c & 0x1F, min = 0x80;
        } else if ((c & 0xF0) == 0xE0) {
            len = 3, cp = c & 0x0F, min = 0x800;
        } else if ((c & 0xF8) == 0xF0) {
            len = 4, cp = c & 0x07, min = 0x10000;
        } else {
            return 0;
        }
        if (n - i < len)
            return 0;
        for (unsigned k = 1; k < len; k++) {
            if ((s[i + k] & 0xC0) != 0x80)
                return 0;
            cp = (cp << 6) | (s[i + k] & 0x3F);
        }
        if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            return 0;
        i += len;
    }
    return 1;
}

/* Independent check of the RFC 8259 number grammar. */
static int number_ok(const char *p, size_t n)
{
    size_t i = 0, d;
    if (i < n && p[i] == '-')
        i++;
    for (d = i; i < n && p[i] >= '0' && p[i] <= '9'; i++)
        ;
    if (i == d || (p[d] == '0' && i - d > 1))
        return 0;
    if (i < n && p[i] == '.') {
        for (d = ++i; i < n && p[i] >= '0' && p[i] <= '9'; i++)
            ;
        if (i == d)
            return 0;
    }
    if (i < n && (p[i] == 'e' || p[i] == 'E')) {
        i++;
        if (i < n && (p[i] == '+' || p[i] == '-'))
            i++;
        for (d = i; i < n && p[i] >= '0' && p[i] <= '9'; i++)
            ;
        if (i == d)
            return 0;
    }
    return i == n;
}

/* Is our decoded string d[0..n) the same text as cJSON's C string c? cJSON
 * stops at an embedded NUL (\u0000), so compare up to it. */
static int same_string(const char *d, size_t n, const char *c)
{
    size_t cl = strlen(c);
    const char *nul = memchr(d, '\0', n);
    if (nul != NULL)
        return (size_t)(nul - d) == cl && memcmp(d, c, cl) == 0;
    return cl == n && memcmp(d, c, n) == 0;
}

/* Compare the subtree at token i with cJSON item c; returns the next token. */
static int compare(const asc_json_t *j, int i, const cJSON *c, asc_pool_t *pool)
{
    const asc_json_tok_t *t = &j->tok[i];
    char *s;
    size_t n;
    double d;
    switch (t->type) {
    case ASC_JSON_OBJECT: {
        int k = i + 1, m = 0;
        const cJSON *child;
        CHECK(cJSON_IsObject(c));
        for (child = c->child; child != NULL; child = child->next, m++) {
            CHECK(m < t->size);
            CHECK(asc_json_str_dup(j, k, pool, &s, &n) == ASC_OK);
            CHECK(child->string != NULL && same_string(s, n, child->string));
            k = compare(j, k + 1, child, pool);
        }
        CHECK(m == t->size);
        return k;
    }
    case ASC_JSON_ARRAY: {
        int k = i + 1, m = 0;
        const cJSON *child;
        CHECK(cJSON_IsArray(c));
        for (child = c->child; child != NULL; child = child->next, m++) {
            CHECK(m < t->size);
            k = compare(j, k, child, pool);
        }
        CHECK(m == t->size);
        return k;
    }
    case ASC_JSON_STRING:
        CHECK(cJSON_IsString(c));
        CHECK(asc_json_str_dup(j, i, pool, &s, &n) == ASC_OK);
        CHECK(same_string(s, n, c->valuestring));
        return i + 1;
    case ASC_JSON_NUMBER:
        CHECK(cJSON_IsNumber(c));
        if (asc_json_get_double(j, i, &d) == ASC_OK)
            CHECK(d == c->valuedouble);
        else
            CHECK(isinf(c->valuedouble));
        return i + 1;
    case ASC_JSON_TRUE: CHECK(cJSON_IsTrue(c)); return i + 1;
    case ASC_JSON_FALSE: CHECK(cJSON_IsFalse(c)); return i + 1;
    case ASC_JSON_NULL: CHECK(cJSON_IsNull(c)); return i + 1;
    }
    CHECK(0);
    return i + 1;
}

/* Token tree invariants and every accessor on every token. Returns the
 * nesting depth of the document. */
static unsigned walk(const asc_json_t *j, asc_pool_t *pool, int *cjson_comparable)
{
    int *depth = asc_pool_alloc(pool, (size_t)j->ntok * sizeof *depth);
    unsigned maxd = 0;
    CHECK(j->ntok >= 1);
    CHECK(j->tok[0].parent == -1);
    CHECK(asc_json_skip(j, 0) == j->ntok);
    for (int i = 0; i < j->ntok; i++) {
        const asc_json_tok_t *t = &j->tok[i];
        int p = t->parent;
        CHECK(t->start >= 0 && t->start <= t->end && (size_t)t->end <= j->len);
        CHECK(i == 0 || (p >= 0 && p < i));
        int next = asc_json_skip(j, i);
        CHECK(next > i && next <= j->ntok);
        for (int k = i + 1; k < next; k++)
            CHECK(j->tok[k].start > t->start);

        depth[i] = p < 0 ? 0
                         : depth[p] + (j->tok[p].type == ASC_JSON_OBJECT ||
                                       j->tok[p].type == ASC_JSON_ARRAY);
        if (t->type == ASC_JSON_OBJECT || t->type == ASC_JSON_ARRAY) {
            if ((unsigned)depth[i] + 1 > maxd)
                maxd = (unsigned)depth[i] + 1;
        }

        char *s = NULL;
        size_t n = 0;
        double d;
        int64_t v;
        asc_err_t e = asc_json_str_dup(j, i, pool, &s, &n);
        CHECK((e == ASC_OK) == (t->type == ASC_JSON_STRING));
        if (e == ASC_OK) {
            const unsigned char *raw = (const unsigned char *)j->text + t->start;
            for (int k = 0; k < t->end - t->start; k++)
                CHECK(raw[k] >= 0x20);
            CHECK(utf8_ok(raw, (size_t)(t->end - t->start)));
            CHECK(utf8_ok((const unsigned char *)s, n));
            CHECK(n <= (size_t)(t->end - t->start));
            CHECK(s[n] == '\0');
            if (memchr(s, '\0', n) == NULL)
                CHECK(asc_json_str_eq(j, i, s));
            if (has_lone_surrogate(j->text + t->start, (size_t)(t->end - t->start)))
                *cjson_comparable = 0;
            CHECK(t->size == (is_key(j, i) ? 1 : 0));
        }
        e = asc_json_get_double(j, i, &d);
        CHECK(e == ASC_OK || e == ASC_EINVAL);
        if (e == ASC_OK)
            CHECK(t->type == ASC_JSON_NUMBER && isfinite(d));
        e = asc_json_get_int(j, i, &v);
        if (e == ASC_OK) {
            CHECK(t->type == ASC_JSON_NUMBER);
            if (asc_json_get_double(j, i, &d) == ASC_OK && fabs(d) < 9e15)
                CHECK((double)v == d);
        }
        if (t->type == ASC_JSON_NUMBER)
            CHECK(number_ok(j->text + t->start, (size_t)(t->end - t->start)));
        if (t->type == ASC_JSON_NUMBER && t->end - t->start >= 63)
            *cjson_comparable = 0; /* cJSON reads at most 63 number bytes */
        CHECK(asc_json_is_true(j, i) == (t->type == ASC_JSON_TRUE));

        if (t->type == ASC_JSON_OBJECT) {
            int k = i + 1;
            for (int m = 0; m < t->size; m++) {
                CHECK(j->tok[k].type == ASC_JSON_STRING && j->tok[k].parent == i);
                CHECK(j->tok[k + 1].parent == k);
                CHECK(asc_json_str_dup(j, k, pool, &s, &n) == ASC_OK);
                /* keys are unique, so lookup by the key finds this member */
                if (memchr(s, '\0', n) == NULL)
                    CHECK(asc_json_obj_get(j, i, s) == k + 1);
                k = asc_json_skip(j, k);
            }
            CHECK(k == next);
        } else if (t->type == ASC_JSON_ARRAY) {
            int k = i + 1;
            for (int m = 0; m < t->size; m++) {
                CHECK(asc_json_arr_get(j, i, m) == k);
                CHECK(j->tok[k].parent == i);
                k = asc_json_skip(j, k);
            }
            CHECK(asc_json_arr_get(j, i, t->size) == -1);
            CHECK(k == next);
        } else if (t->type != ASC_JSON_STRING || !is_key(j, i)) {
            CHECK(next == i + 1);
        }
        size_t vs, ve;
        asc_json_value_range(j, i, &vs, &ve);
        CHECK(vs <= ve && ve <= j->len);
        if (t->type == ASC_JSON_STRING)
            CHECK(j->text[vs] == '"' && j->text[ve - 1] == '"');
    }
    return maxd;
}

/* Replace every string value by "x" and every number by 0; the result must
 * parse to the same shape. */
static void splice_check(const asc_json_t *j, asc_pool_t *pool)
{
    asc_json_edit_t *ed = asc_pool_alloc(pool, (size_t)j->ntok * sizeof *ed);
    size_t n = 0;
    asc_buf_t b;
    asc_json_t k;
    char err[128];
    /* give them in reverse order to exercise the sort */
    for (int i = j->ntok - 1; i >= 0; i--) {
        const asc_json_tok_t *t = &j->tok[i];
        if ((t->type == ASC_JSON_STRING && !is_key(j, i)) || t->type == ASC_JSON_NUMBER) {
            asc_json_value_range(j, i, &ed[n].start, &ed[n].end);
            ed[n].repl = t->type == ASC_JSON_STRING ? "\"x\"" : "0";
            ed[n].repl_len = strlen(ed[n].repl);
            n++;
        }
    }
    asc_buf_init(&b, 0);
    CHECK(asc_json_splice(j->text, j->len, ed, n, &b) == ASC_OK);
    for (size_t i = 1; i < n; i++)
        CHECK(ed[i - 1].start <= ed[i].start);
    asc_json_limits_t lim = {MAX_DEPTH, MAX_TOKENS, 0};
    asc_err_t e = asc_json_parse(pool, b.data, b.len, &lim, &k, err, sizeof err);
    if (e != ASC_OK) {
        fprintf(stderr, "json_fuzz: spliced text rejected: %s\n", err);
        abort();
    }
    CHECK(k.ntok == j->ntok);
    for (int i = 0; i < k.ntok; i++) {
        CHECK(k.tok[i].type == j->tok[i].type);
        CHECK(k.tok[i].size == j->tok[i].size);
        CHECK(k.tok[i].parent == j->tok[i].parent);
        if (k.tok[i].type == ASC_JSON_STRING && !is_key(&k, i))
            CHECK(asc_json_str_eq(&k, i, "x"));
    }
    asc_buf_free(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    asc_pool_t *pool = asc_pool_create(PARSE_POOL_LIMIT);
    asc_pool_t *scratch = asc_pool_create(0);
    asc_json_limits_t lim = {MAX_DEPTH, MAX_TOKENS, 0};
    asc_json_t j, k;
    char err[128];
    const char *text = (const char *)data;

    err[0] = 'X';
    asc_err_t e = asc_json_parse(pool, text, size, &lim, &j, err, sizeof err);
    CHECK(strlen(err) < sizeof err);
    if (e != ASC_OK) {
        CHECK(e == ASC_EINVAL || e == ASC_ETOOBIG);
        CHECK(err[0] != '\0' && err[0] != 'X');
        /* jsmn must never disagree with the validator */
        /* (only a prefix: messages quote client bytes, e.g. a key named
         * "internal error") */
        CHECK(strncmp(err, "internal error", 14) != 0);
        CHECK(j.tok == NULL && j.ntok == 0);
        /* requiring an object root never turns a failure into a success */
        lim.root_object = 1;
        CHECK(asc_json_parse(pool, text, size, &lim, &k, NULL, 0) != ASC_OK);
        goto out;
    }
    CHECK(err[0] == '\0');
    CHECK(memchr(text, '\0', size) == NULL);

    int comparable = 1;
    unsigned depth = walk(&j, scratch, &comparable);

    /* the depth limit is exact */
    if (depth >= 1) {
        lim.max_depth = depth;
        CHECK(asc_json_parse(scratch, text, size, &lim, &k, NULL, 0) == ASC_OK);
        CHECK(k.ntok == j.ntok);
        if (depth >= 2) {
            lim.max_depth = depth - 1;
            CHECK(asc_json_parse(scratch, text, size, &lim, &k, err, sizeof err) == ASC_EINVAL);
            CHECK(strstr(err, "nesting deeper than") != NULL);
        }
        lim.max_depth = MAX_DEPTH;
    }
    lim.root_object = 1;
    e = asc_json_parse(scratch, text, size, &lim, &k, NULL, 0);
    CHECK((e == ASC_OK) == (j.tok[0].type == ASC_JSON_OBJECT));

    splice_check(&j, scratch);

    /* differential: whatever we accept, cJSON must read identically */
    if (comparable) {
        const char *end = NULL;
        cJSON *c = cJSON_ParseWithLengthOpts(text, size, &end, 0);
        if (c == NULL) {
            fprintf(stderr, "json_fuzz: accepted by asc, rejected by cJSON\n");
            abort();
        }
        CHECK(compare(&j, 0, c, scratch) == j.ntok);
        /* and nothing but JSON whitespace after the value */
        for (const char *q = end; q < text + size; q++)
            CHECK(*q == ' ' || *q == '\t' || *q == '\n' || *q == '\r');
        cJSON_Delete(c);
    }
out:
    asc_pool_destroy(scratch);
    asc_pool_destroy(pool);
    return 0;
}

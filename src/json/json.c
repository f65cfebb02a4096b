/*
 * asc_json_parse(): strict validation, then jsmn tokenisation, then the
 * duplicate-key check.
 *
 * jsmn (even with JSMN_STRICT) accepts much that is not JSON: missing or
 * doubled commas, `{"a","b"}`, any run of printable bytes as a primitive
 * (`tru`, `01`, `1.2.3`), trailing values, raw control bytes in strings, and
 * it stops at a NUL. So the text is first checked by validate(), a single
 * non-recursive pass over the bytes that implements the RFC 8259 grammar with
 * a bit stack for nesting; it also counts the tokens, so jsmn runs once, on
 * text already known to be valid, into an array of exactly the right size
 * (jsmn's own tokens=NULL counting pass would give the same number at the
 * cost of a third pass). jsmn's tokens are then converted in place to
 * asc_json_tok_t while the keys of each object are checked for duplicates.
 */
#include "json/json.h"

#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define JSMN_STATIC
#define JSMN_STRICT
#define JSMN_PARENT_LINKS
#include <jsmn.h>

/* Objects with at most this many members are checked for duplicate keys by
 * comparing each new key with the earlier ones; larger ones are sorted. */
#define SMALL_OBJECT 16
/* Below these counts the scratch arrays live on the C stack. */
#define LOCAL_KEYS 64
#define LOCAL_OPEN 32
#define LOCAL_DEPTH_BITS 1024

_Static_assert(sizeof(jsmntok_t) == sizeof(asc_json_tok_t), "tokens are converted in place");

void asc_json_limits_default(asc_json_limits_t *l)
{
    l->max_depth = ASC_JSON_DEFAULT_DEPTH;
    l->max_tokens = ASC_JSON_DEFAULT_TOKENS;
    l->root_object = 0;
}

static void seterr(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void seterr(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    if (err == NULL || errlen == 0)
        return;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

/* Character classes: C_WORD marks bytes that may not directly follow a
 * number or a literal. */
enum { C_WS = 1, C_PLAIN = 2, C_DIGIT = 4, C_WORD = 8 };
static const unsigned char cls[256] = {
    0,  0,  0,  0,  0,  0,  0,  0,  0,  1,  1,  0,  0,  1,  0,  0,  /* 00 */
    0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  /* 10 */
    3,  2,  0,  2,  2,  2,  2,  2,  2,  2,  2,  10, 2,  10, 10, 2,  /* 20 */
    14, 14, 14, 14, 14, 14, 14, 14, 14, 14, 2,  2,  2,  2,  2,  2,  /* 30 */
    2,  10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, /* 40 */
    10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 2,  0,  2,  2,  10, /* 50 */
    2,  10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, /* 60 */
    10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 2,  2,  2,  2,  2,  /* 70 */
    8,  8,  8,  8,  8,  8,  8,  8,  8,  8,  8,  8,  8,  8,  8,  8,  /* 80 */
    8,  8,  8,  8,  8,  8,  8,  8,  8,  8,  8,  8,  8,  8,  8,  8,  /* 90 */
    8,  8,  8,  8,  8,  8,  8,  8,  8,  8,  8,  8,  8,  8,  8,  8,  /* a0 */
    8,  8,  8,  8,  8,  8,  8,  8,  8,  8,  8,  8,  8,  8,  8,  8,  /* b0 */
    8,  8,  8,  8,  8,  8,  8,  8,  8,  8,  8,  8,  8,  8,  8,  8,  /* c0 */
    8,  8,  8,  8,  8,  8,  8,  8,  8,  8,  8,  8,  8,  8,  8,  8,  /* d0 */
    8,  8,  8,  8,  8,  8,  8,  8,  8,  8,  8,  8,  8,  8,  8,  8,  /* e0 */
    8,  8,  8,  8,  8,  8,  8,  8,  8,  8,  8,  8,  8,  8,  8,  8,  /* f0 */
};

typedef const unsigned char *bp_t;

static bp_t skip_ws(bp_t p, bp_t end)
{
    while (p < end && (cls[*p] & C_WS))
        p++;
    return p;
}

/* Any byte in w that ends the fast path of a string: < 0x20, '"', '\\' or
 * >= 0x80 (exact "any" test; see Bit Twiddling Hacks, haszero/hasless). */
static int word_special(uint64_t w)
{
    const uint64_t ones = 0x0101010101010101ull, highs = 0x8080808080808080ull;
    uint64_t q = w ^ (ones * '"'), b = w ^ (ones * '\\');
    uint64_t t = ((w - ones * 0x20) & ~w) | ((q - ones) & ~q) | ((b - ones) & ~b) | w;
    return (t & highs) != 0;
}

/* Length of the well-formed UTF-8 sequence at p (Unicode table 3-7: no
 * overlongs, no surrogates, nothing above U+10FFFF), or 0. */
static size_t utf8_len(bp_t p, bp_t end)
{
    unsigned c = p[0];
    size_t avail = (size_t)(end - p);
    unsigned lo = 0x80, hi = 0xBF;
    if (c >= 0xC2 && c <= 0xDF)
        return avail >= 2 && (p[1] & 0xC0) == 0x80 ? 2 : 0;
    if (c >= 0xE0 && c <= 0xEF) {
        if (c == 0xE0)
            lo = 0xA0;
        else if (c == 0xED)
            hi = 0x9F;
        if (avail < 3 || p[1] < lo || p[1] > hi || (p[2] & 0xC0) != 0x80)
            return 0;
        return 3;
    }
    if (c >= 0xF0 && c <= 0xF4) {
        if (c == 0xF0)
            lo = 0x90;
        else if (c == 0xF4)
            hi = 0x8F;
        if (avail < 4 || p[1] < lo || p[1] > hi || (p[2] & 0xC0) != 0x80 || (p[3] & 0xC0) != 0x80)
            return 0;
        return 4;
    }
    return 0;
}

static int is_hex(unsigned c)
{
    return (c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'f');
}

typedef struct {
    bp_t s, end;
    size_t ntok, nkeys, max_tokens;
    unsigned max_depth, depth_seen;
    size_t root_end;
    char *err;
    size_t errlen;
} scan_t;

static size_t off(const scan_t *sc, bp_t p)
{
    return (size_t)(p - sc->s);
}

/* Message for an unexpected byte (or the end of the input) at p. */
static asc_err_t unexpected(scan_t *sc, bp_t p, const char *what)
{
    if (p >= sc->end)
        seterr(sc->err, sc->errlen, "unexpected end of input, %s", what);
    else if (*p == 0)
        seterr(sc->err, sc->errlen, "NUL byte at offset %zu", off(sc, p));
    else if (*p >= 0x20 && *p < 0x7f)
        seterr(sc->err, sc->errlen, "unexpected '%c' at offset %zu, %s", *p, off(sc, p), what);
    else
        seterr(sc->err, sc->errlen, "unexpected byte 0x%02x at offset %zu, %s", *p, off(sc, p),
               what);
    return ASC_EINVAL;
}

/* Check the string whose opening quote is at q; on success *pp is just past
 * the closing quote. */
static asc_err_t scan_string(scan_t *sc, bp_t q, bp_t *pp)
{
    bp_t p = q + 1, end = sc->end;
    for (;;) {
        while (end - p >= 8) {
            uint64_t w;
            memcpy(&w, p, 8);
            if (word_special(w))
                break;
            p += 8;
        }
        while (p < end && (cls[*p] & C_PLAIN))
            p++;
        if (p >= end)
            break;
        unsigned c = *p;
        if (c == '"') {
            *pp = p + 1;
            return ASC_OK;
        }
        if (c == '\\') {
            if (end - p < 2)
                break;
            switch (p[1]) {
            case '"':
            case '\\':
            case '/':
            case 'b':
            case 'f':
            case 'n':
            case 'r':
            case 't': p += 2; continue;
            case 'u':
                if (end - p >= 6 && is_hex(p[2]) && is_hex(p[3]) && is_hex(p[4]) && is_hex(p[5])) {
                    p += 6;
                    continue;
                }
                seterr(sc->err, sc->errlen, "invalid \\u escape at offset %zu", off(sc, p));
                return ASC_EINVAL;
            default:
                seterr(sc->err, sc->errlen, "invalid escape at offset %zu", off(sc, p));
                return ASC_EINVAL;
            }
        }
        if (c == 0) {
            seterr(sc->err, sc->errlen, "NUL byte at offset %zu", off(sc, p));
            return ASC_EINVAL;
        }
        if (c < 0x20) {
            seterr(sc->err, sc->errlen, "control character 0x%02x in string at offset %zu", c,
                   off(sc, p));
            return ASC_EINVAL;
        }
        size_t n = utf8_len(p, end);
        if (n == 0) {
            seterr(sc->err, sc->errlen, "invalid UTF-8 at offset %zu", off(sc, p));
            return ASC_EINVAL;
        }
        p += n;
    }
    seterr(sc->err, sc->errlen, "unterminated string starting at offset %zu", off(sc, q));
    return ASC_EINVAL;
}

/* -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? and nothing number-like
 * right after it. */
static asc_err_t scan_number(scan_t *sc, bp_t p, bp_t *pp)
{
    bp_t q = p, end = sc->end;
    if (*q == '-')
        q++;
    if (q < end && *q == '0')
        q++;
    else if (q < end && *q >= '1' && *q <= '9')
        while (q < end && (cls[*q] & C_DIGIT))
            q++;
    else
        goto bad;
    if (q < end && *q == '.') {
        q++;
        if (q >= end || !(cls[*q] & C_DIGIT))
            goto bad;
        while (q < end && (cls[*q] & C_DIGIT))
            q++;
    }
    if (q < end && (*q == 'e' || *q == 'E')) {
        q++;
        if (q < end && (*q == '+' || *q == '-'))
            q++;
        if (q >= end || !(cls[*q] & C_DIGIT))
            goto bad;
        while (q < end && (cls[*q] & C_DIGIT))
            q++;
    }
    if (q < end && (cls[*q] & C_WORD))
        goto bad;
    *pp = q;
    return ASC_OK;
bad:
    seterr(sc->err, sc->errlen, "invalid number at offset %zu", off(sc, p));
    return ASC_EINVAL;
}

static asc_err_t scan_literal(scan_t *sc, bp_t p, bp_t *pp)
{
    const char *lit = *p == 't' ? "true" : *p == 'f' ? "false" : "null";
    size_t n = strlen(lit);
    if ((size_t)(sc->end - p) < n || memcmp(p, lit, n) != 0 ||
        (sc->end - p > (ptrdiff_t)n && (cls[p[n]] & C_WORD))) {
        seterr(sc->err, sc->errlen, "invalid literal at offset %zu", off(sc, p));
        return ASC_EINVAL;
    }
    *pp = p + n;
    return ASC_OK;
}

static void bit_set(unsigned char *bits, unsigned i, int v)
{
    if (v)
        bits[i >> 3] |= (unsigned char)(1u << (i & 7));
    else
        bits[i >> 3] &= (unsigned char)~(1u << (i & 7));
}

static int bit_get(const unsigned char *bits, unsigned i)
{
    return (bits[i >> 3] >> (i & 7)) & 1;
}

/*
 * The grammar as a loop over three states (value, key, after a value) with
 * the open containers in a bit stack (1 = object), so depth costs one bit and
 * no recursion.
 */
static asc_err_t validate(scan_t *sc, unsigned char *bits, int root_object)
{
    bp_t p = sc->s, end = sc->end;
    unsigned depth = 0;
    asc_err_t e;

    p = skip_ws(p, end);
    if (p >= end) {
        seterr(sc->err, sc->errlen, "empty input");
        return ASC_EINVAL;
    }
    if (root_object && *p != '{') {
        seterr(sc->err, sc->errlen, "top-level value must be an object");
        return ASC_EINVAL;
    }

value:
    p = skip_ws(p, end);
    if (p >= end)
        return unexpected(sc, p, "expected a value");
    if (++sc->ntok > sc->max_tokens) {
        seterr(sc->err, sc->errlen, "more than %zu tokens", sc->max_tokens);
        return ASC_ETOOBIG;
    }
    switch (*p) {
    case '{':
    case '[':
        if (depth >= sc->max_depth) {
            seterr(sc->err, sc->errlen, "nesting deeper than %u at offset %zu", sc->max_depth,
                   off(sc, p));
            return ASC_EINVAL;
        }
        bit_set(bits, depth++, *p == '{');
        if (depth > sc->depth_seen)
            sc->depth_seen = depth;
        if (*p++ == '{') {
            p = skip_ws(p, end);
            if (p < end && *p == '}') {
                p++;
                depth--;
                goto after;
            }
            goto key;
        }
        p = skip_ws(p, end);
        if (p < end && *p == ']') {
            p++;
            depth--;
            goto after;
        }
        goto value;
    case '"':
        e = scan_string(sc, p, &p);
        if (e != ASC_OK)
            return e;
        goto after;
    case '-':
    case '0':
    case '1':
    case '2':
    case '3':
    case '4':
    case '5':
    case '6':
    case '7':
    case '8':
    case '9':
        e = scan_number(sc, p, &p);
        if (e != ASC_OK)
            return e;
        goto after;
    case 't':
    case 'f':
    case 'n':
        e = scan_literal(sc, p, &p);
        if (e != ASC_OK)
            return e;
        goto after;
    default: return unexpected(sc, p, "expected a value");
    }

key:
    /* p is at a non-blank byte or the end */
    if (p >= end || *p != '"')
        return unexpected(sc, p, "expected a string key");
    if (++sc->ntok > sc->max_tokens) {
        seterr(sc->err, sc->errlen, "more than %zu tokens", sc->max_tokens);
        return ASC_ETOOBIG;
    }
    sc->nkeys++;
    e = scan_string(sc, p, &p);
    if (e != ASC_OK)
        return e;
    p = skip_ws(p, end);
    if (p >= end || *p != ':')
        return unexpected(sc, p, "expected ':'");
    p++;
    goto value;

after:
    if (depth == 0)
        goto done;
    p = skip_ws(p, end);
    if (bit_get(bits, depth - 1)) {
        if (p < end && *p == ',') {
            p = skip_ws(p + 1, end);
            goto key;
        }
        if (p < end && *p == '}') {
            p++;
            depth--;
            goto after;
        }
        return unexpected(sc, p, "expected ',' or '}'");
    }
    if (p < end && *p == ',') {
        p++;
        goto value;
    }
    if (p < end && *p == ']') {
        p++;
        depth--;
        goto after;
    }
    return unexpected(sc, p, "expected ',' or ']'");

done:
    sc->root_end = off(sc, p);
    p = skip_ws(p, end);
    if (p < end) {
        if (*p == 0)
            seterr(sc->err, sc->errlen, "NUL byte at offset %zu", off(sc, p));
        else
            seterr(sc->err, sc->errlen, "trailing data at offset %zu", off(sc, p));
        return ASC_EINVAL;
    }
    return ASC_OK;
}

/* A key of an open object, unescaped if its raw text had a backslash. */
typedef struct {
    const char *p;
    int len;
    int tok;
} keyref_t;

typedef struct {
    int tok;  /* object token */
    int base; /* its first key in the key stack */
} openobj_t;

static int key_cmp(const void *a, const void *b)
{
    const keyref_t *x = a, *y = b;
    int n = x->len < y->len ? x->len : y->len;
    int c = memcmp(x->p, y->p, (size_t)n);
    if (c != 0)
        return c;
    if (x->len != y->len)
        return x->len < y->len ? -1 : 1;
    return (x->tok > y->tok) - (x->tok < y->tok);
}

static void dup_error(const asc_json_t *j, const keyref_t *k, char *err, size_t errlen)
{
    char shown[41];
    int n = k->len < 40 ? k->len : 40;
    for (int i = 0; i < n; i++) {
        unsigned char c = (unsigned char)k->p[i];
        shown[i] = (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') ? (char)c : '?';
    }
    shown[n] = '\0';
    seterr(err, errlen, "duplicate key \"%s%s\" at offset %d", shown, k->len > 40 ? "..." : "",
           j->tok[k->tok].start - 1);
}

/* Sort the keys of a large object; report the first repeated key in
 * document order. */
static asc_err_t check_large(const asc_json_t *j, keyref_t *keys, int n, char *err, size_t errlen)
{
    const keyref_t *first = NULL;
    qsort(keys, (size_t)n, sizeof *keys, key_cmp);
    for (int i = 1; i < n; i++) {
        if (keys[i].len == keys[i - 1].len &&
            memcmp(keys[i].p, keys[i - 1].p, (size_t)keys[i].len) == 0 &&
            (first == NULL || keys[i].tok < first->tok))
            first = &keys[i];
    }
    if (first == NULL)
        return ASC_OK;
    dup_error(j, first, err, errlen);
    return ASC_EINVAL;
}

static asc_err_t pool_full(char *err, size_t errlen)
{
    seterr(err, errlen, "JSON needs more memory than the pool allows");
    return ASC_ETOOBIG;
}

static asc_json_type_t primitive_type(char c)
{
    switch (c) {
    case 't': return ASC_JSON_TRUE;
    case 'f': return ASC_JSON_FALSE;
    case 'n': return ASC_JSON_NULL;
    default: return ASC_JSON_NUMBER;
    }
}

/*
 * Convert jsmn's tokens (in place) and check every object's keys, in one
 * pass in document order. Open objects with two or more members sit on a
 * stack; their keys sit on a second stack above those of the enclosing
 * objects, and are dropped when the object ends (the first token starting
 * at or after its end byte).
 */
static asc_err_t convert_and_check(asc_json_t *j, void *raw, size_t nkeys, unsigned depth,
                                   asc_pool_t *pool, char *err, size_t errlen)
{
    keyref_t local_keys[LOCAL_KEYS];
    openobj_t local_open[LOCAL_OPEN];
    keyref_t *keys = local_keys;
    openobj_t *open = local_open;
    int nk = 0, nopen = 0;
    asc_err_t e = ASC_OK;

    if (nkeys > LOCAL_KEYS) {
        keys = asc_pool_alloc_n(pool, nkeys * sizeof *keys);
        if (keys == NULL) {
            e = pool_full(err, errlen);
            goto out;
        }
    }
    if (depth > LOCAL_OPEN) {
        open = asc_pool_alloc_n(pool, (size_t)depth * sizeof *open);
        if (open == NULL) {
            e = pool_full(err, errlen);
            goto out;
        }
    }

    for (int i = 0; i < j->ntok; i++) {
        jsmntok_t jt;
        asc_json_tok_t t;
        memcpy(&jt, (char *)raw + (size_t)i * sizeof jt, sizeof jt);
        switch (jt.type) {
        case JSMN_OBJECT: t.type = ASC_JSON_OBJECT; break;
        case JSMN_ARRAY: t.type = ASC_JSON_ARRAY; break;
        case JSMN_STRING: t.type = ASC_JSON_STRING; break;
        default: t.type = primitive_type(j->text[jt.start]); break;
        }
        t.start = jt.start;
        t.end = jt.end;
        t.size = jt.size;
        t.parent = jt.parent;
        memcpy(&j->tok[i], &t, sizeof t);

        while (nopen > 0 && j->tok[open[nopen - 1].tok].end <= t.start) {
            openobj_t *o = &open[--nopen];
            if (j->tok[o->tok].size > SMALL_OBJECT) {
                e = check_large(j, keys + o->base, nk - o->base, err, errlen);
                if (e != ASC_OK)
                    goto out;
            }
            nk = o->base;
        }

        if (t.parent >= 0 && j->tok[t.parent].type == ASC_JSON_OBJECT &&
            j->tok[t.parent].size >= 2) {
            keyref_t k;
            if (nopen == 0 || open[nopen - 1].tok != t.parent || (size_t)nk >= nkeys) {
                seterr(err, errlen, "internal error: token tree");
                e = ASC_EINVAL;
                goto out;
            }
            k.p = j->text + t.start;
            k.len = t.end - t.start;
            k.tok = i;
            if (memchr(k.p, '\\', (size_t)k.len) != NULL) {
                char *d = asc_pool_alloc_n(pool, (size_t)k.len + 1);
                if (d == NULL) {
                    e = pool_full(err, errlen);
                    goto out;
                }
                k.len = (int)asc_json_unescape(k.p, (size_t)k.len, d);
                k.p = d;
            }
            if (j->tok[t.parent].size <= SMALL_OBJECT) {
                for (int m = open[nopen - 1].base; m < nk; m++) {
                    if (keys[m].len == k.len && memcmp(keys[m].p, k.p, (size_t)k.len) == 0) {
                        dup_error(j, &k, err, errlen);
                        e = ASC_EINVAL;
                        goto out;
                    }
                }
            }
            keys[nk++] = k;
        }

        if (t.type == ASC_JSON_OBJECT && t.size >= 2) {
            if ((unsigned)nopen >= depth) {
                seterr(err, errlen, "internal error: object stack");
                e = ASC_EINVAL;
                goto out;
            }
            open[nopen].tok = i;
            open[nopen].base = nk;
            nopen++;
        }
    }
    while (nopen > 0) {
        openobj_t *o = &open[--nopen];
        if (j->tok[o->tok].size > SMALL_OBJECT) {
            e = check_large(j, keys + o->base, nk - o->base, err, errlen);
            if (e != ASC_OK)
                goto out;
        }
        nk = o->base;
    }
out:
    return e;
}

/* The single token of a scalar root (jsmn's strict mode cannot tokenise a
 * bare number or literal at the end of the input). */
static void scalar_root(asc_json_t *j, size_t first, size_t root_end)
{
    asc_json_tok_t *t = j->tok;
    char c = j->text[first];
    t->size = 0;
    t->parent = -1;
    if (c == '"') {
        t->type = ASC_JSON_STRING;
        t->start = (int)first + 1;
        t->end = (int)root_end - 1;
    } else {
        t->type = primitive_type(c);
        t->start = (int)first;
        t->end = (int)root_end;
    }
}

asc_err_t asc_json_parse(asc_pool_t *pool, const char *text, size_t len,
                         const asc_json_limits_t *lim, asc_json_t *out, char *err, size_t errlen)
{
    asc_json_limits_t l;
    unsigned char local_bits[LOCAL_DEPTH_BITS / 8];
    unsigned char *bits = local_bits;
    scan_t sc;
    void *raw = NULL;
    size_t first;
    asc_err_t e;

    out->text = text;
    out->len = len;
    out->tok = NULL;
    out->ntok = 0;
    if (err != NULL && errlen > 0)
        err[0] = '\0';

    if (lim != NULL)
        l = *lim;
    else
        asc_json_limits_default(&l);
    if (l.max_depth == 0)
        l.max_depth = ASC_JSON_DEFAULT_DEPTH;
    if (l.max_tokens == 0)
        l.max_tokens = ASC_JSON_DEFAULT_TOKENS;

    if (len > INT_MAX - 1) {
        seterr(err, errlen, "JSON text longer than %d bytes", INT_MAX - 1);
        return ASC_ETOOBIG;
    }
    if (text == NULL && len > 0) {
        seterr(err, errlen, "no text");
        return ASC_EINVAL;
    }
    if (text == NULL)
        text = "";
    if (l.max_depth > LOCAL_DEPTH_BITS) {
        bits = asc_pool_alloc_n(pool, l.max_depth / 8 + 1);
        if (bits == NULL) {
            seterr(err, errlen, "nesting limit %u needs more memory than the pool allows",
                   l.max_depth);
            return ASC_ETOOBIG;
        }
    }

    memset(&sc, 0, sizeof sc);
    sc.s = (bp_t)text;
    sc.end = sc.s + len;
    sc.max_tokens = l.max_tokens;
    sc.max_depth = l.max_depth;
    sc.err = err;
    sc.errlen = errlen;
    e = validate(&sc, bits, l.root_object);
    if (e != ASC_OK)
        return e;

    /* validate() succeeded, so ntok <= len <= INT_MAX and fits jsmn too */
    raw = asc_pool_alloc_n(pool, sc.ntok * sizeof(asc_json_tok_t));
    if (raw == NULL) {
        seterr(err, errlen, "%zu tokens need more memory than the pool allows", sc.ntok);
        return ASC_ETOOBIG;
    }
    out->tok = raw;
    out->ntok = (int)sc.ntok;

    first = off(&sc, skip_ws(sc.s, sc.end));
    if (text[first] != '{' && text[first] != '[') {
        scalar_root(out, first, sc.root_end);
        return ASC_OK;
    }

    jsmn_parser jp;
    jsmn_init(&jp);
    int r = jsmn_parse(&jp, text, sc.root_end, raw, (unsigned)sc.ntok);
    if (r < 0 || (size_t)r != sc.ntok) {
        /* cannot happen for text validate() accepted; fail closed */
        seterr(err, errlen, "internal error: tokenizer disagrees (%d)", r);
        e = ASC_EINVAL;
        goto out;
    }
    e = convert_and_check(out, raw, sc.nkeys, sc.depth_seen, pool, err, errlen);
out:
    if (e != ASC_OK) {
        out->tok = NULL;
        out->ntok = 0;
    }
    return e;
}

/*
 * Strict JSON reader for request and response bodies (the hot path).
 *
 * asc_json_parse() validates the whole text against RFC 8259 and more (valid
 * UTF-8, no NUL bytes, no duplicate keys at any depth, a depth and token
 * limit), then tokenises it with jsmn into a flat array of tokens in document
 * order. A gateway must never let a guardrail and a provider read different
 * values from one body, so anything another parser could read differently is
 * rejected rather than guessed at.
 *
 * Ownership: asc_json_t borrows `text` (the caller keeps it alive and
 * unchanged while the asc_json_t is used); its token array lives in the pool
 * passed to asc_json_parse(). Every other pointer argument is borrowed.
 *
 * Token tree (jsmn's convention): an object's `size` is its number of
 * members and its children are its key tokens; each key is a STRING token of
 * size 1 whose only child is the member's value (so a value's `parent` is its
 * key, and a key's `parent` is its object). An array's `size` is its number
 * of elements, whose `parent` is the array. Scalars have size 0; the root has
 * parent -1. Token indexes are ints: asc_json_parse() refuses texts longer
 * than INT_MAX bytes.
 */
#ifndef ASC_JSON_JSON_H
#define ASC_JSON_JSON_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/err.h"
#include "core/pool.h"

typedef enum {
    ASC_JSON_OBJECT = 1,
    ASC_JSON_ARRAY,
    ASC_JSON_STRING,
    ASC_JSON_NUMBER,
    ASC_JSON_TRUE,
    ASC_JSON_FALSE,
    ASC_JSON_NULL
} asc_json_type_t;

typedef struct {
    asc_json_type_t type;
    int start, end; /* byte offsets into the text; for strings, inside the quotes */
    int size;       /* children: members for objects, elements for arrays, 1 for a key */
    int parent;     /* index of the parent token, -1 for the root */
} asc_json_tok_t;

typedef struct {
    unsigned max_depth; /* nesting of objects and arrays; default 128 */
    size_t max_tokens;  /* default 1 << 20 */
    int root_object;    /* require the root to be an object */
} asc_json_limits_t;

typedef struct {
    const char *text; /* borrowed */
    size_t len;
    asc_json_tok_t *tok; /* in the parse pool */
    int ntok;
} asc_json_t;

#define ASC_JSON_DEFAULT_DEPTH 128u
#define ASC_JSON_DEFAULT_TOKENS ((size_t)1 << 20)

/* Fill *l with the defaults (depth 128, 1<<20 tokens, any root). */
void asc_json_limits_default(asc_json_limits_t *l);

/*
 * Parse and fully validate text[0..len) (it need not be NUL-terminated).
 * lim NULL means the defaults; a zero max_depth or max_tokens also means the
 * default. The token array (exactly as many tokens as the text has) and a
 * little scratch memory are taken from `pool` with asc_pool_alloc_n(), so the
 * pool's limit bounds the memory a client can make us use.
 *
 * Returns ASC_OK and fills *out, or on failure leaves *out empty (tok NULL,
 * ntok 0) and returns ASC_EINVAL for malformed or forbidden input (bad
 * grammar, bad UTF-8, NUL byte, duplicate key, nesting deeper than
 * max_depth, root not an object when required) or ASC_ETOOBIG when the text,
 * the token count or the pool limit is exceeded. When err is not NULL a short
 * message naming the problem and its byte offset is written to err[0..errlen)
 * (e.g. "duplicate key \"model\" at offset 57"); client bytes in it are
 * sanitised to printable ASCII.
 */
asc_err_t asc_json_parse(asc_pool_t *pool, const char *text, size_t len,
                         const asc_json_limits_t *lim, asc_json_t *out, char *err, size_t errlen);

/* Index just past the subtree rooted at token i (for a key: the key and its
 * value). O(size of the subtree). Out-of-range i returns j->ntok. */
int asc_json_skip(const asc_json_t *j, int i);

/* Index of the VALUE token of the member of object `obj` whose key equals
 * `key` (exact bytes after unescaping, case-sensitive), or -1 when obj is not
 * an object or has no such member. O(size of the object). */
int asc_json_obj_get(const asc_json_t *j, int obj, const char *key);

/* Index of element n (from 0) of array `arr`, or -1. */
int asc_json_arr_get(const asc_json_t *j, int arr, int n);

/* 1 if token i is a string (value or key) equal to the NUL-terminated s after
 * unescaping, else 0. No allocation. */
int asc_json_str_eq(const asc_json_t *j, int i, const char *s);

/*
 * Unescaped, NUL-terminated copy of string token i, allocated in `pool`
 * (\uXXXX and surrogate pairs become UTF-8, a lone surrogate becomes U+FFFD;
 * \u0000 yields an embedded NUL, so use *outlen). outlen may be NULL.
 * ASC_EINVAL if i is not a string, ASC_ETOOBIG if the pool limit refuses it.
 */
asc_err_t asc_json_str_dup(const asc_json_t *j, int i, asc_pool_t *pool, char **out,
                           size_t *outlen);

/* Number token i written with digits only (optional '-', no fraction or
 * exponent) that fits in int64_t into *out; else ASC_EINVAL. */
asc_err_t asc_json_get_int(const asc_json_t *j, int i, int64_t *out);

/* Number token i as a finite double (so 1e999 is ASC_EINVAL; 1e-999 is 0).
 * ASC_ENOMEM if a very long number cannot be copied for strtod(). Assumes
 * the "C" LC_NUMERIC locale; under any other locale the conversion fails
 * closed with ASC_EINVAL rather than misreading the number. */
asc_err_t asc_json_get_double(const asc_json_t *j, int i, double *out);

/* 1 if token i is the literal true, else 0. */
int asc_json_is_true(const asc_json_t *j, int i);

/* Byte range [*start, *end) of token i's value in the text, including the
 * quotes of a string (for splicing a whole value). */
void asc_json_value_range(const asc_json_t *j, int i, size_t *start, size_t *end);

/*
 * Decode the body of a JSON string (the bytes between the quotes) into out,
 * which must hold n bytes (the result is never longer than the input).
 * Returns the decoded length; no NUL is appended. Escapes as in
 * asc_json_str_dup(); a malformed escape (never present in text that
 * asc_json_parse() accepted) is copied through unchanged.
 */
size_t asc_json_unescape(const char *in, size_t n, char *out);

/* One splice edit: replace text[start..end) by repl[0..repl_len). start ==
 * end inserts. repl is borrowed and may be NULL only when repl_len is 0. */
typedef struct {
    size_t start, end;
    const char *repl;
    size_t repl_len;
} asc_json_edit_t;

/*
 * Append to `out` the text with the edits applied. The edits are sorted in
 * place by (start, end), stably, so several inserts at one offset are applied
 * in the order given; they must lie within [0, len] and must not overlap
 * (touching is fine). ASC_EINVAL for a bad or overlapping edit, ASC_ETOOBIG
 * when out's limit refuses the result, ASC_ENOMEM if sorting a large unsorted
 * edit list cannot get scratch memory. On failure out keeps its previous
 * contents. The result is not re-validated as JSON.
 */
asc_err_t asc_json_splice(const char *text, size_t len, asc_json_edit_t *edits, size_t nedits,
                          asc_buf_t *out);

#endif

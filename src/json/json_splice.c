/*
 * Splicing: rewrite a body by replacing byte ranges of the original text, so
 * that everything not edited reaches the upstream byte for byte as the
 * client sent it (and as the guardrails read it).
 */
#include "json/json.h"

#include <stdlib.h>
#include <string.h>

/* Insertion sort below this many edits; a stable merge sort above. */
#define SMALL_SORT 16

static int edit_less(const asc_json_edit_t *a, const asc_json_edit_t *b)
{
    return a->start < b->start || (a->start == b->start && a->end < b->end);
}

static void insertion_sort(asc_json_edit_t *e, size_t n)
{
    for (size_t i = 1; i < n; i++) {
        asc_json_edit_t x = e[i];
        size_t k = i;
        while (k > 0 && edit_less(&x, &e[k - 1])) {
            e[k] = e[k - 1];
            k--;
        }
        e[k] = x;
    }
}

/* Bottom-up stable merge sort of e[0..n) using tmp[0..n). */
static void merge_sort(asc_json_edit_t *e, asc_json_edit_t *tmp, size_t n)
{
    asc_json_edit_t *src = e, *dst = tmp;
    for (size_t w = 1; w < n; w *= 2) {
        for (size_t lo = 0; lo < n; lo += 2 * w) {
            size_t mid = lo + w < n ? lo + w : n;
            size_t hi = lo + 2 * w < n ? lo + 2 * w : n;
            size_t a = lo, b = mid, k = lo;
            while (a < mid && b < hi)
                dst[k++] = edit_less(&src[b], &src[a]) ? src[b++] : src[a++];
            while (a < mid)
                dst[k++] = src[a++];
            while (b < hi)
                dst[k++] = src[b++];
        }
        asc_json_edit_t *t = src;
        src = dst;
        dst = t;
    }
    if (src != e)
        memcpy(e, src, n * sizeof *e);
}

static asc_err_t sort_edits(asc_json_edit_t *edits, size_t n)
{
    size_t i;
    for (i = 1; i < n; i++)
        if (edit_less(&edits[i], &edits[i - 1]))
            break;
    if (i >= n)
        return ASC_OK; /* already in order: the usual case */
    if (n <= SMALL_SORT) {
        insertion_sort(edits, n);
        return ASC_OK;
    }
    if (n > (size_t)-1 / sizeof *edits)
        return ASC_ENOMEM;
    asc_json_edit_t *tmp = malloc(n * sizeof *tmp);
    if (tmp == NULL)
        return ASC_ENOMEM;
    merge_sort(edits, tmp, n);
    free(tmp);
    return ASC_OK;
}

asc_err_t asc_json_splice(const char *text, size_t len, asc_json_edit_t *edits, size_t nedits,
                          asc_buf_t *out)
{
    size_t old = out->len, total = len, pos = 0;
    asc_err_t e = ASC_OK;

    if (text == NULL && len > 0)
        return ASC_EINVAL;
    if (text == NULL)
        text = "";
    for (size_t i = 0; i < nedits; i++) {
        if (edits[i].start > edits[i].end || edits[i].end > len ||
            (edits[i].repl == NULL && edits[i].repl_len > 0))
            return ASC_EINVAL;
    }
    e = sort_edits(edits, nedits);
    if (e != ASC_OK)
        return e;
    for (size_t i = 0; i < nedits; i++) {
        if (i > 0 && edits[i].start < edits[i - 1].end)
            return ASC_EINVAL;
        total -= edits[i].end - edits[i].start;
        if (edits[i].repl_len > (size_t)-1 - total)
            return ASC_ETOOBIG;
        total += edits[i].repl_len;
    }
    e = asc_buf_reserve(out, total);
    if (e != ASC_OK)
        return e;
    for (size_t i = 0; i < nedits; i++) {
        e = asc_buf_append(out, text + pos, edits[i].start - pos);
        if (e != ASC_OK)
            goto out;
        e = asc_buf_append(out, edits[i].repl, edits[i].repl_len);
        if (e != ASC_OK)
            goto out;
        pos = edits[i].end;
    }
    e = asc_buf_append(out, text + pos, len - pos);
out:
    if (e != ASC_OK) {
        out->len = old;
        if (out->data != NULL)
            out->data[old] = '\0';
    }
    return e;
}

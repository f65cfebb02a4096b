/*
 * The bytes the CLI lets reach a terminal. Values come from users (names,
 * descriptions, e-mails, error messages that quote a field), so a value must
 * never be able to move the cursor, clear the screen, start a new line that
 * looks like another row, or reverse the direction of the text that follows.
 * Tables replace such characters by '?'; JSON output escapes them as \uXXXX,
 * which keeps the JSON equal to what the server sent.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/internal.h"

#define JSON_MAX_DEPTH 256

/* Length of the valid, shortest-form UTF-8 sequence at s[0..n) and its code
 * point, or 0 when the bytes are not one (overlong, surrogate, > U+10FFFF,
 * truncated). */
static size_t utf8_next(const unsigned char *s, size_t n, uint32_t *cp)
{
    unsigned char c = s[0];
    size_t len;
    uint32_t v, min;
    if (c < 0x80) {
        *cp = c;
        return 1;
    } else if (c >= 0xc2 && c <= 0xdf) {
        len = 2, v = c & 0x1f, min = 0x80;
    } else if (c >= 0xe0 && c <= 0xef) {
        len = 3, v = c & 0x0f, min = 0x800;
    } else if (c >= 0xf0 && c <= 0xf4) {
        len = 4, v = c & 0x07, min = 0x10000;
    } else {
        return 0;
    }
    if (n < len)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        v = (v << 6) | (s[i] & 0x3f);
    }
    if (v < min || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
        return 0;
    *cp = v;
    return len;
}

/* Code points a terminal acts on or that reorder what follows them. */
static int cp_unsafe(uint32_t cp)
{
    return cp < 0x20 || (cp >= 0x7f && cp <= 0x9f) || cp == 0x061c || cp == 0x200e ||
           cp == 0x200f || cp == 0x2028 || cp == 0x2029 || (cp >= 0x202a && cp <= 0x202e) ||
           (cp >= 0x2066 && cp <= 0x2069) || cp == 0xfeff;
}

asc_err_t asc_cli_sanitize(asc_buf_t *out, const char *s, size_t n)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t start = 0, i = 0;
    asc_err_t e;
    while (i < n) {
        uint32_t cp;
        size_t len = utf8_next(u + i, n - i, &cp);
        if (len != 0 && !cp_unsafe(cp)) {
            i += len;
            continue;
        }
        if ((e = asc_buf_append(out, s + start, i - start)) != ASC_OK)
            return e;
        if ((e = asc_buf_putc(out, '?')) != ASC_OK)
            return e;
        i += len != 0 ? len : 1;
        start = i;
    }
    return asc_buf_append(out, s + start, n - start);
}

size_t asc_cli_width(const char *s)
{
    size_t w = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++)
        if ((*p & 0xc0) != 0x80)
            w++;
    return w;
}

static asc_err_t json_string(asc_buf_t *out, const char *s)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t n = strlen(s), start = 0, i = 0;
    asc_err_t e = asc_buf_putc(out, '"');
    while (e == ASC_OK && i < n) {
        uint32_t cp;
        size_t len = utf8_next(u + i, n - i, &cp);
        if (len == 1 && (cp < 0x20 || cp == '"' || cp == '\\' || cp == 0x7f)) {
            /* asc_buf_json_str knows the short escapes */
            if ((e = asc_buf_append(out, s + start, i - start)) == ASC_OK)
                e = asc_buf_json_str(out, s + i, 1);
        } else if (len == 0 || cp_unsafe(cp)) {
            if ((e = asc_buf_append(out, s + start, i - start)) == ASC_OK)
                e = asc_buf_printf(out, "\\u%04x", len == 0 ? 0xfffdu : (unsigned)cp);
        } else {
            i += len;
            continue;
        }
        i += len != 0 ? len : 1;
        start = i;
    }
    if (e == ASC_OK)
        e = asc_buf_append(out, s + start, n - start);
    if (e == ASC_OK)
        e = asc_buf_putc(out, '"');
    return e;
}

static asc_err_t json_number(asc_buf_t *out, double d)
{
    char tmp[32];
    if (!isfinite(d))
        return asc_buf_puts(out, "null");
    if (d == floor(d) && fabs(d) < 1e15)
        return asc_buf_printf(out, "%.0f", d);
    snprintf(tmp, sizeof tmp, "%.15g", d);
    if (strtod(tmp, NULL) != d)
        snprintf(tmp, sizeof tmp, "%.17g", d);
    return asc_buf_puts(out, tmp);
}

static asc_err_t indent(asc_buf_t *out, unsigned depth)
{
    asc_err_t e = ASC_OK;
    for (unsigned i = 0; i < depth && e == ASC_OK; i++)
        e = asc_buf_puts(out, "  ");
    return e;
}

static asc_err_t json_value(asc_buf_t *out, const cJSON *v, unsigned depth)
{
    asc_err_t e = ASC_OK;
    if (depth > JSON_MAX_DEPTH)
        return ASC_EINVAL;
    if (cJSON_IsString(v))
        return json_string(out, v->valuestring);
    if (cJSON_IsNumber(v))
        return json_number(out, v->valuedouble);
    if (cJSON_IsRaw(v))
        return asc_buf_puts(out, v->valuestring);
    if (cJSON_IsTrue(v))
        return asc_buf_puts(out, "true");
    if (cJSON_IsFalse(v))
        return asc_buf_puts(out, "false");
    if (!cJSON_IsArray(v) && !cJSON_IsObject(v))
        return asc_buf_puts(out, "null");
    int obj = cJSON_IsObject(v);
    if (v->child == NULL)
        return asc_buf_puts(out, obj ? "{}" : "[]");
    e = asc_buf_puts(out, obj ? "{\n" : "[\n");
    for (const cJSON *m = v->child; m != NULL && e == ASC_OK; m = m->next) {
        e = indent(out, depth + 1);
        if (e == ASC_OK && obj) {
            e = json_string(out, m->string != NULL ? m->string : "");
            if (e == ASC_OK)
                e = asc_buf_puts(out, ": ");
        }
        if (e == ASC_OK)
            e = json_value(out, m, depth + 1);
        if (e == ASC_OK)
            e = asc_buf_puts(out, m->next != NULL ? ",\n" : "\n");
    }
    if (e == ASC_OK)
        e = indent(out, depth);
    if (e == ASC_OK)
        e = asc_buf_putc(out, obj ? '}' : ']');
    return e;
}

asc_err_t asc_cli_json_pretty(asc_buf_t *out, const cJSON *v)
{
    asc_err_t e = json_value(out, v, 0);
    return e == ASC_OK ? asc_buf_putc(out, '\n') : e;
}

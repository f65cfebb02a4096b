#include "http/path.h"

#include <string.h>

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static int unreserved(int c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '.' || c == '_' || c == '~';
}

asc_err_t asc_http_path_normalize(asc_pool_t *pool, const char *url, size_t len, const char **path,
                                  size_t *path_len, const char **query)
{
    size_t start = 0;
    *query = NULL;
    if (len == 0)
        return ASC_EINVAL;
    if (url[0] != '/') {
        /* absolute-form: scheme://authority/path */
        const char *sep = memchr(url, ':', len);
        if (sep == NULL || (size_t)(sep - url) + 3 > len || sep[1] != '/' || sep[2] != '/')
            return ASC_EINVAL;
        size_t i = (size_t)(sep - url) + 3;
        while (i < len && url[i] != '/' && url[i] != '?')
            i++;
        start = i;
    }
    size_t end = start;
    while (end < len && url[end] != '?' && url[end] != '#')
        end++;
    if (end < len && url[end] == '?') {
        size_t qe = end + 1;
        while (qe < len && url[qe] != '#')
            qe++;
        *query = asc_pool_strndup(pool, url + end + 1, qe - end - 1);
    }
    /* Decode, then resolve segments in place in the output. */
    char *out = asc_pool_alloc(pool, end - start + 2);
    size_t o = 0;
    out[o++] = '/';
    size_t i = start;
    while (i < end) {
        /* one segment */
        while (i < end && url[i] == '/')
            i++;
        if (i >= end)
            break;
        size_t seg_start = o;
        while (i < end && url[i] != '/') {
            unsigned char c = (unsigned char)url[i];
            if (c < 0x21 || c == 0x7f)
                return ASC_EINVAL;
            if (c == '%') {
                if (i + 2 >= end)
                    return ASC_EINVAL;
                int h = hexval(url[i + 1]), l = hexval(url[i + 2]);
                if (h < 0 || l < 0)
                    return ASC_EINVAL;
                int v = h * 16 + l;
                if (v < 0x20 || v == 0x7f)
                    return ASC_EINVAL;
                if (unreserved(v)) {
                    out[o++] = (char)v;
                } else {
                    out[o++] = '%';
                    out[o++] = url[i + 1];
                    out[o++] = url[i + 2];
                }
                i += 3;
                continue;
            }
            out[o++] = (char)c;
            i++;
        }
        size_t seg_len = o - seg_start;
        if (seg_len == 1 && out[seg_start] == '.') {
            o = seg_start;
            continue;
        }
        if (seg_len == 2 && out[seg_start] == '.' && out[seg_start + 1] == '.') {
            /* drop this segment and the previous one */
            o = seg_start;
            if (o > 1) {
                o--; /* the slash before this segment */
                while (o > 1 && out[o - 1] != '/')
                    o--;
            }
            continue;
        }
        out[o++] = '/';
    }
    if (o > 1 && out[o - 1] == '/')
        o--;
    out[o] = '\0';
    *path = out;
    *path_len = o;
    return ASC_OK;
}

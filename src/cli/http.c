/*
 * Requests to the admin API: one libcurl easy handle per invocation, reused
 * for each request (so `list --all` keeps its connection). Redirects are not
 * followed (a bearer token must not travel to another host), only http and
 * https are spoken, every transfer has a 30 s deadline and an answer larger
 * than 64 MiB is refused.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <sodium.h>

#include "cli/internal.h"

static int has_ctl(const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++)
        if (*p < 0x20 || *p == 0x7f)
            return 1;
    return 0;
}

asc_err_t asc_cli_http_open(asc_cli_http_t *h, const char *base_url, const char *token, char *err,
                            size_t errlen)
{
    memset(h, 0, sizeof *h);
    if ((strncasecmp(base_url, "http://", 7) != 0 && strncasecmp(base_url, "https://", 8) != 0) ||
        has_ctl(base_url) || strchr(base_url, ' ') != NULL) {
        snprintf(err, errlen, "the admin URL must start with http:// or https:// (--admin URL)");
        return ASC_EINVAL;
    }
    if (token != NULL && has_ctl(token)) {
        snprintf(err, errlen, "the admin token contains control characters");
        return ASC_EINVAL;
    }
    size_t n = strlen(base_url);
    while (n > 0 && base_url[n - 1] == '/')
        n--;
    h->base = strndup(base_url, n);
    if (h->base == NULL)
        goto nomem;
    if (token != NULL && token[0] != '\0') {
        static const char prefix[] = "Authorization: Bearer ";
        size_t len = sizeof prefix + strlen(token);
        h->auth_hdr = malloc(len);
        if (h->auth_hdr == NULL)
            goto nomem;
        snprintf(h->auth_hdr, len, "%s%s", prefix, token);
    }
    h->easy = curl_easy_init();
    if (h->easy == NULL)
        goto nomem;
    return ASC_OK;
nomem:
    asc_cli_http_close(h);
    snprintf(err, errlen, "out of memory");
    return ASC_ENOMEM;
}

void asc_cli_http_close(asc_cli_http_t *h)
{
    if (h->easy != NULL)
        curl_easy_cleanup(h->easy);
    if (h->auth_hdr != NULL) {
        sodium_memzero(h->auth_hdr, strlen(h->auth_hdr));
        free(h->auth_hdr);
    }
    free(h->base);
    memset(h, 0, sizeof *h);
}

static asc_err_t put_escaped(asc_cli_http_t *h, asc_buf_t *out, const char *s)
{
    if (strlen(s) > (size_t)1 << 20)
        return ASC_ETOOBIG;
    char *esc = curl_easy_escape(h->easy, s, (int)strlen(s));
    if (esc == NULL)
        return ASC_ENOMEM;
    asc_err_t e = asc_buf_puts(out, esc);
    curl_free(esc);
    return e;
}

asc_err_t asc_cli_http_path(asc_cli_http_t *h, asc_buf_t *out, const char *kind, const char *name,
                            const char *action)
{
    asc_err_t e = asc_buf_printf(out, "/admin/v1/%s", kind);
    if (e == ASC_OK && name != NULL) {
        e = asc_buf_putc(out, '/');
        if (e == ASC_OK)
            e = put_escaped(h, out, name);
    }
    if (e == ASC_OK && action != NULL)
        e = asc_buf_printf(out, "/%s", action);
    return e;
}

asc_err_t asc_cli_http_query(asc_cli_http_t *h, asc_buf_t *out, const char *key, const char *value)
{
    int first = out->data == NULL || strchr(out->data, '?') == NULL;
    asc_err_t e = asc_buf_printf(out, "%c%s=", first ? '?' : '&', key);
    return e == ASC_OK ? put_escaped(h, out, value) : e;
}

typedef struct {
    asc_buf_t *body;
    int too_big;
} sink_t;

static size_t on_data(char *p, size_t size, size_t n, void *ud)
{
    sink_t *s = ud;
    if (asc_buf_append(s->body, p, size * n) != ASC_OK) {
        s->too_big = 1;
        return 0;
    }
    return size * n;
}

static asc_err_t add_header(struct curl_slist **list, const char *line)
{
    struct curl_slist *l = curl_slist_append(*list, line);
    if (l == NULL)
        return ASC_ENOMEM;
    *list = l;
    return ASC_OK;
}

static asc_err_t set_headers(asc_cli_http_t *h, const asc_cli_req_t *req, struct curl_slist **hdrs,
                             char *err, size_t errlen)
{
    char line[1024];
    asc_err_t e = add_header(hdrs, "Accept: application/json");
    if (e == ASC_OK)
        e = add_header(hdrs, "Expect:"); /* no 100-continue round trip */
    if (e == ASC_OK && h->auth_hdr != NULL)
        e = add_header(hdrs, h->auth_hdr);
    if (e == ASC_OK && (req->body != NULL || strcmp(req->method, "POST") == 0)) {
        snprintf(line, sizeof line, "Content-Type: %s",
                 req->content_type != NULL ? req->content_type : "application/json");
        e = add_header(hdrs, line);
    }
    if (e == ASC_OK && req->if_match != NULL) {
        if (has_ctl(req->if_match) || strlen(req->if_match) > 512) {
            snprintf(err, errlen, "--if-match: the ETag holds control characters or is too long");
            return ASC_EINVAL;
        }
        snprintf(line, sizeof line, "If-Match: %s", req->if_match);
        e = add_header(hdrs, line);
    }
    if (e == ASC_ENOMEM)
        snprintf(err, errlen, "out of memory");
    return e;
}

asc_err_t asc_cli_http_do(asc_cli_http_t *h, const asc_cli_req_t *req, asc_cli_resp_t *r, char *err,
                          size_t errlen)
{
    CURL *c = h->easy;
    struct curl_slist *hdrs = NULL;
    char cerr[CURL_ERROR_SIZE] = "";
    sink_t sink = {&r->body, 0};
    asc_buf_t url;
    asc_buf_init(&url, 0);
    r->status = 0;
    asc_buf_clear(&r->body);
    r->body.limit = ASC_CLI_MAX_RESPONSE;

    asc_err_t e = asc_buf_printf(&url, "%s%s", h->base, req->target);
    if (e != ASC_OK) {
        snprintf(err, errlen, "out of memory");
        goto out;
    }
    snprintf(r->url, sizeof r->url, "%s", url.data);
    e = set_headers(h, req, &hdrs, err, errlen);
    if (e != ASC_OK)
        goto out;

    curl_easy_reset(c);
    curl_easy_setopt(c, CURLOPT_URL, url.data);
#if LIBCURL_VERSION_NUM >= 0x075500
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
#else
    curl_easy_setopt(c, CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, ASC_CLI_TIMEOUT_S);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, ASC_CLI_TIMEOUT_S);
    curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)ASC_CLI_MAX_RESPONSE);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, cerr);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &sink);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(c, CURLOPT_USERAGENT, "asc-cli");
    if (req->body != NULL || strcmp(req->method, "POST") == 0) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE,
                         (curl_off_t)(req->body != NULL ? req->body_len : 0));
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, req->body != NULL ? req->body : "");
    }
    if (strcmp(req->method, "GET") == 0)
        curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
    else if (strcmp(req->method, "POST") != 0)
        curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, req->method);

    CURLcode rc = curl_easy_perform(c);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
    /* The error buffer belongs to this stack frame. */
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, NULL);
    if (rc == CURLE_OK) {
        e = ASC_OK;
    } else if (sink.too_big || rc == CURLE_FILESIZE_EXCEEDED) {
        snprintf(err, errlen, "the answer from %s is larger than %zu MiB", r->url,
                 ASC_CLI_MAX_RESPONSE >> 20);
        e = ASC_ETOOBIG;
    } else if (rc == CURLE_OPERATION_TIMEDOUT) {
        snprintf(err, errlen, "no answer from the admin API at %s within %ld s", r->url,
                 ASC_CLI_TIMEOUT_S);
        e = ASC_ETIMEOUT;
    } else {
        snprintf(err, errlen, "cannot reach the admin API at %s: %s", r->url,
                 cerr[0] != '\0' ? cerr : curl_easy_strerror(rc));
        e = ASC_EIO;
    }
out:
    curl_slist_free_all(hdrs);
    asc_buf_free(&url);
    return e;
}

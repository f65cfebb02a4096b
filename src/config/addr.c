/* Syntax of server.listen and of provider base URLs. */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "config/internal.h"

static int parse_port(const char *s)
{
    size_t n = strlen(s);
    unsigned long port = 0;
    if (n == 0 || n > 5)
        return 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return 0;
        port = port * 10 + (unsigned long)(s[i] - '0');
    }
    return port <= 65535;
}

/* See internal.h. A bare IPv6 address ("::1:8080") is refused: without
 * brackets its port cannot be told apart. */
int asc_config_listen_ok(const char *s)
{
    char host[64];
    unsigned char addr[16];
    const char *colon;

    if (s[0] == '[') {
        const char *close = strchr(s, ']');
        if (close == NULL || close[1] != ':' || (size_t)(close - s - 1) >= sizeof host)
            return 0;
        memcpy(host, s + 1, (size_t)(close - s - 1));
        host[close - s - 1] = '\0';
        return inet_pton(AF_INET6, host, addr) == 1 && parse_port(close + 2);
    }
    colon = strrchr(s, ':');
    if (colon == NULL || (size_t)(colon - s) >= sizeof host)
        return 0;
    memcpy(host, s, (size_t)(colon - s));
    host[colon - s] = '\0';
    if (strcmp(host, "localhost") != 0 && inet_pton(AF_INET, host, addr) != 1)
        return 0;
    return parse_port(colon + 1);
}

/* See internal.h. A name host is not resolved here: that is the upstream
 * client's job, with TLS verification. */
const char *asc_config_url_check(const char *url, size_t *keep)
{
    const char *p;
    size_t n;

    *keep = 0;
    if (strncmp(url, "https://", 8) == 0)
        p = url + 8;
    else if (strncmp(url, "http://", 7) == 0)
        p = url + 7;
    else
        return "must start with http:// or https://";
    for (const char *q = url; *q; q++) {
        unsigned char ch = (unsigned char)*q;
        if (ch <= 0x20 || ch >= 0x7f)
            return "must not contain spaces, control or non-ASCII characters";
        if (ch == '?' || ch == '#')
            return "must not contain a query (?) or fragment (#)";
    }
    /* the authority runs up to the first '/' */
    size_t alen = strcspn(p, "/");
    if (memchr(p, '@', alen) != NULL)
        return "must not contain credentials (user@host); use api_key";
    const char *port = NULL;
    size_t hlen = alen;
    if (p[0] == '[') {
        const char *close = memchr(p, ']', alen);
        char host[64];
        unsigned char addr[16];
        if (close == NULL || (size_t)(close - p - 1) >= sizeof host)
            return "has an invalid IPv6 host";
        memcpy(host, p + 1, (size_t)(close - p - 1));
        host[close - p - 1] = '\0';
        if (inet_pton(AF_INET6, host, addr) != 1)
            return "has an invalid IPv6 host";
        hlen = (size_t)(close - p) + 1;
        if (hlen < alen) {
            if (p[hlen] != ':')
                return "has an invalid host";
            port = p + hlen + 1;
        }
    } else {
        const char *colon = memchr(p, ':', alen);
        if (colon != NULL) {
            hlen = (size_t)(colon - p);
            port = colon + 1;
        }
        for (size_t i = 0; i < hlen; i++) {
            char ch = p[i];
            if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                  (ch >= '0' && ch <= '9') || ch == '.' || ch == '-' || ch == '_'))
                return "has an invalid host";
        }
    }
    if (hlen == 0)
        return "has no host";
    if (port != NULL) {
        char pb[8];
        size_t plen = (size_t)(p + alen - port);
        if (plen == 0 || plen >= sizeof pb)
            return "has an invalid port";
        memcpy(pb, port, plen);
        pb[plen] = '\0';
        if (!parse_port(pb) || strtoul(pb, NULL, 10) == 0)
            return "has an invalid port";
    }
    n = strlen(url);
    while (n > (size_t)(p - url) + alen && url[n - 1] == '/')
        n--;
    *keep = n;
    return NULL;
}

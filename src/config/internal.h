/*
 * Helpers shared by the files of src/config (not part of the module's
 * public API; other modules include config/config.h or config/yaml.h).
 *
 * Every function writes into a caller-provided buffer and always
 * NUL-terminates it, truncating when it is too small.
 */
#ifndef ASC_CONFIG_INTERNAL_H
#define ASC_CONFIG_INTERNAL_H

#include <stddef.h>

/* Longest piece of a user-supplied string quoted into an error message. */
#define ASC_CONFIG_QUOTE_MAX 64

/* Write s as a double-quoted, escaped string into out: printable ASCII is
 * kept, '"' and '\\' are backslash-escaped, every other byte becomes \xNN,
 * and anything past ASC_CONFIG_QUOTE_MAX bytes is replaced by "...". Used
 * so that no control character from a config file reaches a log line. */
void asc_config_quote(char *out, size_t outlen, const char *s);

/* Append the path of object member `key` under `parent` ("" for the root)
 * into out: "parent.key", or parent."k e y" quoted when the key holds
 * characters that would make the path ambiguous. */
void asc_config_path_key(char *out, size_t outlen, const char *parent, const char *key);

/* Path of array element i under parent: "parent[i]". */
void asc_config_path_index(char *out, size_t outlen, const char *parent, size_t i);

/* 1 when s is a valid environment variable name ([A-Za-z_][A-Za-z0-9_]*),
 * n bytes long. */
int asc_config_env_name_ok(const char *s, size_t n);

/* 1 when s is host:port with host an IPv4 address, [IPv6 address] or
 * localhost, and port 0-65535 (server.listen). */
int asc_config_listen_ok(const char *s);

/* Check an upstream base URL: http:// or https://, a host (name, IPv4 or
 * [IPv6]), an optional port 1-65535, no userinfo, query, fragment, space or
 * non-ASCII byte. Returns NULL and sets *keep to the length of url without
 * its trailing slashes, or returns the reason it is refused. */
const char *asc_config_url_check(const char *url, size_t *keep);

#endif

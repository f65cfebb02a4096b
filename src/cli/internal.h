/*
 * Helpers shared by the files of src/cli (not part of the module's public
 * API: other modules include cli/cli.h). The renderers and the --set parser
 * are pure functions over cJSON trees and asc_buf_t, so the unit tests run
 * them without a server.
 *
 * Ownership: every pointer argument is borrowed unless the comment says the
 * function takes it. cJSON trees handed out are freed with cJSON_Delete().
 * Functions writing a message into err (errlen bytes) always NUL-terminate it.
 *
 * Output safety: every value that came from a server or a user goes through
 * asc_cli_sanitize() before it reaches the terminal, so no value can inject
 * terminal escapes, newlines or bidirectional overrides.
 */
#ifndef ASC_CLI_INTERNAL_H
#define ASC_CLI_INTERNAL_H

#include <stddef.h>

#include <cjson/cJSON.h>
#include <curl/curl.h>

#include "core/buf.h"
#include "core/err.h"

/* ---- args.c: building request bodies ---- */

/*
 * The JSON value of `--set field=value` for the leaf field name `field`:
 *   - a value starting with '[', '{' or '"' is parsed as JSON (so '"007"'
 *     forces a string);
 *   - for a list field (models, regions) anything else is split on commas,
 *     items trimmed of spaces, empty items dropped ("" is the empty list),
 *     except the word null;
 *   - true, false and null are the JSON literals;
 *   - a value matching the JSON number grammar is a number, kept exactly as
 *     written (a raw cJSON item, so 1.10 and 2^60 reach the server intact);
 *     "007", "+1", "1_000", "0x10" are not JSON numbers and stay strings;
 *   - anything else is a string.
 * Returns a new item, or NULL with a message in err (value not valid JSON).
 */
cJSON *asc_cli_set_value(const char *field, const char *value, char *err, size_t errlen);

/*
 * Apply one `--set path=value` to object obj: path is dot-separated field
 * names of [A-Za-z0-9_-], intermediate objects are created, a later --set of
 * the same path replaces an earlier one. ASC_EINVAL with a message when the
 * assignment has no '=', the path is malformed or crosses a non-object.
 */
asc_err_t asc_cli_set_apply(cJSON *obj, const char *assignment, char *err, size_t errlen);

/* Deep-merge src into dst (both objects): members that are objects on both
 * sides merge recursively, any other member of src replaces dst's. src is
 * copied, not taken. */
asc_err_t asc_cli_json_merge(cJSON *dst, const cJSON *src);

/*
 * The body of a create or update: the object in file_text (JSON; NULL =
 * none), merged with the object in json_text (NULL = none), then the nsets
 * --set assignments. *out is a new object. ASC_EINVAL with a message naming
 * the source that is wrong.
 */
asc_err_t asc_cli_body_build(const char *file_text, const char *json_text, char *const *sets,
                             size_t nsets, cJSON **out, char *err, size_t errlen);

/* ---- text.c: what reaches the terminal ---- */

/* Append s[0..n) to out with C0 and C1 control characters, DEL, invalid
 * UTF-8, line/paragraph separators, bidirectional overrides and BOMs each
 * replaced by '?'. */
asc_err_t asc_cli_sanitize(asc_buf_t *out, const char *s, size_t n);

/* Display width of sanitized text: its number of code points (wide East
 * Asian characters count as one). */
size_t asc_cli_width(const char *s);

/* Append v as pretty-printed JSON (two-space indent) and a newline; in
 * strings, the characters asc_cli_sanitize() replaces are \u-escaped
 * instead (invalid UTF-8 as \ufffd). ASC_EINVAL beyond 256 levels. */
asc_err_t asc_cli_json_pretty(asc_buf_t *out, const cJSON *v);

/* ---- table.c: table layout ---- */

/* Append the text of a JSON value for a cell, unsanitized: strings as they
 * are, numbers and literals as JSON, arrays of scalars joined by ',', other
 * arrays and objects as compact JSON; NULL or null as "-". */
asc_err_t asc_cli_cell_text(asc_buf_t *out, const cJSON *v);

/*
 * Render a grid: cells[r * ncols + c] for nrows rows (row 0 is the header
 * when there is one: it is rendered like any row). Every cell is sanitized;
 * a column is as wide as its widest cell, columns are separated by two
 * spaces, the last column is not padded, each row ends with '\n'. A NULL
 * cell is empty.
 */
asc_err_t asc_cli_grid(asc_buf_t *out, const char *const *cells, size_t ncols, size_t nrows);

/* Render the items of a list (array of objects) of command `kind`
 * ("tenants", "keys", ..., "revisions", "changes") as a table with that
 * kind's columns. An unknown kind gets NAME and UPDATED. */
asc_err_t asc_cli_table_list(asc_buf_t *out, const char *kind, const cJSON *items);

/* Render one object as "field  value" lines, nested members flattened to
 * dotted paths (limits.rpm, targets[0].provider); members named in skip
 * (NULL-terminated, may be NULL) are left out. */
asc_err_t asc_cli_table_object(asc_buf_t *out, const cJSON *obj, const char *const *skip);

/* ---- plan.c: the answer of POST /admin/v1/apply ---- */

/*
 * Render {"revision", "changes": [{kind, name, action, drift, fields}]} as
 * "+ tenant acme", "~ key ci (models, regions)", "- route old", a drift
 * suffix, then "revision N", "no changes" or, for a dry run, "N changes
 * (dry run, nothing applied)". Unchanged objects are not listed. *nchanges
 * gets the number of listed changes. ASC_EINVAL when resp is not such an
 * object (out then holds whatever was rendered).
 */
asc_err_t asc_cli_plan_render(asc_buf_t *out, const cJSON *resp, int dry_run, size_t *nchanges);

/* Exit code of `asc apply` (dry_run 0) or `asc diff` (dry_run 1) that
 * rendered nchanges changes: 0, or ASC_CLI_EXIT_CHANGES for a diff with
 * changes. */
int asc_cli_plan_exit(int dry_run, size_t nchanges);

/* ---- error.c: the server's error answers ---- */

/* Append the line printed for a failed request (no trailing newline):
 * "asc: <code>: <message>" from an {"error":{"code","message"}} body, else
 * "asc: HTTP <status> from <url>". Sanitized. */
asc_err_t asc_cli_error_text(asc_buf_t *out, long status, const char *body, size_t len,
                             const char *url);

/* ---- http.c: one libcurl easy handle per invocation ---- */

#define ASC_CLI_MAX_RESPONSE ((size_t)64 << 20)
#define ASC_CLI_TIMEOUT_S 30L

typedef struct {
    CURL *easy;
    char *base;     /* admin URL without trailing '/' */
    char *auth_hdr; /* "Authorization: Bearer ..." or NULL */
} asc_cli_http_t;

typedef struct {
    const char *method; /* "GET", "POST", "PATCH", "DELETE", ... */
    const char *target; /* path and query, escaped, starting with '/' */
    const char *body;   /* NULL = none */
    size_t body_len;
    const char *content_type; /* of body */
    const char *if_match;     /* NULL = none */
} asc_cli_req_t;

typedef struct {
    long status;
    asc_buf_t body; /* limited to ASC_CLI_MAX_RESPONSE */
    char url[512];  /* what was requested, for messages (truncated) */
} asc_cli_resp_t;

/*
 * Open the handle for admin URL base_url (http:// or https://; trailing
 * slashes dropped) sending token (NULL or "" = none) as a bearer token.
 * ASC_EINVAL with a message when the URL is not http(s) or the token holds
 * control characters (the message never contains the token); ASC_ENOMEM.
 */
asc_err_t asc_cli_http_open(asc_cli_http_t *h, const char *base_url, const char *token, char *err,
                            size_t errlen);
void asc_cli_http_close(asc_cli_http_t *h);

/* Append "/admin/v1/<kind>[/<name>][/<action>]" to out, name URL-escaped. */
asc_err_t asc_cli_http_path(asc_cli_http_t *h, asc_buf_t *out, const char *kind, const char *name,
                            const char *action);

/* Append "?key=value" (or "&key=value" when out already has a '?'), value
 * URL-escaped. */
asc_err_t asc_cli_http_query(asc_cli_http_t *h, asc_buf_t *out, const char *key, const char *value);

/*
 * Send one request (30 s timeout, no redirects followed, http and https
 * only). On ASC_OK r holds the status and body of the answer, whatever the
 * status; the caller initialises r->body and frees it. Otherwise err says
 * why, naming the URL: ASC_EIO (could not connect or transfer), ASC_ETIMEOUT,
 * ASC_ETOOBIG (answer over 64 MiB), ASC_EINVAL (If-Match with control
 * characters).
 */
asc_err_t asc_cli_http_do(asc_cli_http_t *h, const asc_cli_req_t *req, asc_cli_resp_t *r, char *err,
                          size_t errlen);

/* ---- commands (cli.c, objects.c, apply.c) ---- */

/* One invocation. */
typedef struct {
    const char *cmd; /* "tenants", "apply", ... */
    int json;        /* --output json */
    asc_cli_http_t *http;
} asc_cli_ctx_t;

/* Local options: bits of `allowed` in asc_cli_opts_parse(). */
enum {
    ASC_CLI_OPT_TENANT = 1u << 0,
    ASC_CLI_OPT_TEAM = 1u << 1,
    ASC_CLI_OPT_OWNER = 1u << 2,
    ASC_CLI_OPT_PREFIX = 1u << 3,
    ASC_CLI_OPT_LIMIT = 1u << 4,
    ASC_CLI_OPT_CURSOR = 1u << 5,
    ASC_CLI_OPT_ALL = 1u << 6,
    ASC_CLI_OPT_SET = 1u << 7,
    ASC_CLI_OPT_FILE = 1u << 8,
    ASC_CLI_OPT_JSON = 1u << 9,
    ASC_CLI_OPT_IF_MATCH = 1u << 10,
    ASC_CLI_OPT_OVERLAP = 1u << 11,
    ASC_CLI_OPT_KIND = 1u << 12,
    ASC_CLI_OPT_NAME = 1u << 13,
    ASC_CLI_OPT_ACTOR = 1u << 14,
};

#define ASC_CLI_MAX_POS 4

/* Parsed local options; strings point into argv. */
typedef struct {
    const char *tenant, *team, *owner, *prefix, *limit, *cursor, *file, *json, *if_match;
    const char *overlap, *kind, *name, *actor;
    int all;
    char **sets; /* malloc'd array of argv pointers */
    size_t nsets;
    const char *pos[ASC_CLI_MAX_POS];
    size_t npos;
} asc_cli_opts_t;

/* Parse argv[0..argc) (global flags already removed) allowing the options in
 * `allowed` and at most max_pos positional words. Returns 0, or prints the
 * problem and the command's usage to stderr and returns ASC_CLI_EXIT_USAGE.
 * Free o with asc_cli_opts_free() either way. */
int asc_cli_opts_parse(const asc_cli_ctx_t *ctx, int argc, char **argv, unsigned allowed,
                       size_t max_pos, asc_cli_opts_t *o);
void asc_cli_opts_free(asc_cli_opts_t *o);

/* Print "asc: <cmd>: <message>" and the command's usage to stderr; returns
 * ASC_CLI_EXIT_USAGE. */
int asc_cli_usage_error(const asc_cli_ctx_t *ctx, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Send req; print any failure (network, HTTP status >= 300, a body that is
 * not JSON) to stderr and return ASC_CLI_EXIT_ERROR, else return 0 with
 * *out the parsed body (NULL when the body is empty). */
int asc_cli_call(const asc_cli_ctx_t *ctx, const asc_cli_req_t *req, cJSON **out);

/* Write b to stdout; ASC_CLI_EXIT_ERROR when that fails (or when e, the
 * error of building b, is not ASC_OK). */
int asc_cli_emit(asc_err_t e, const asc_buf_t *b);

/* Read a whole file ("-" = stdin) of at most 64 MiB into out. Prints the
 * reason and returns ASC_CLI_EXIT_ERROR on failure. */
int asc_cli_read_file(const char *path, asc_buf_t *out);

int asc_cli_cmd_object(asc_cli_ctx_t *ctx, int argc, char **argv);
int asc_cli_cmd_revisions(asc_cli_ctx_t *ctx, int argc, char **argv);
int asc_cli_cmd_changes(asc_cli_ctx_t *ctx, int argc, char **argv);
int asc_cli_cmd_whoami(asc_cli_ctx_t *ctx, int argc, char **argv);
int asc_cli_cmd_apply(asc_cli_ctx_t *ctx, int argc, char **argv);

#endif

/*
 * The control-plane commands of the `asc` binary: a client of the admin API
 * (docs/admin.md). `asc tenants list`, `asc keys rotate ci`, `asc apply -f
 * asc.yaml`, `asc diff -f asc.yaml`, `asc whoami`, ...
 *
 * Ownership: every pointer argument is borrowed; argv is not modified.
 */
#ifndef ASC_CLI_CLI_H
#define ASC_CLI_CLI_H

/* Exit codes of asc_cli_main(). */
#define ASC_CLI_EXIT_OK 0
#define ASC_CLI_EXIT_ERROR 1   /* the server refused, the network failed, a file was unreadable */
#define ASC_CLI_EXIT_USAGE 2   /* bad command line; the command's usage went to stderr */
#define ASC_CLI_EXIT_CHANGES 3 /* `asc diff`: the file differs from the live state */

/*
 * Run control-plane command `cmd` (the first word after `asc`, e.g.
 * "tenants") with argv[0..argc) the words after it. Global flags (--admin,
 * --token, --output/-o) may appear anywhere among them. Writes results to
 * stdout and errors to stderr, and returns the process exit code (one of
 * ASC_CLI_EXIT_*). The caller has called curl_global_init(); a cmd that
 * asc_cli_handles() refuses is a usage error.
 */
int asc_cli_main(const char *cmd, int argc, char **argv);

/* 1 when cmd is one of the control-plane commands (tenants teams users keys
 * credentials providers routes tokens revisions changes apply diff whoami),
 * else 0. */
int asc_cli_handles(const char *cmd);

/* The section of `asc help` that lists these commands (ends with '\n'). */
extern const char asc_cli_usage[];

#endif

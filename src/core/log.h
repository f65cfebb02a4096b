/*
 * Operator log (stderr): start-up, reload, warnings. One line per call,
 * "asc: <level>: <message>". Never pass a secret to these functions: log key
 * ids and last-4 hints only (asc_log_key_hint()).
 */
#ifndef ASC_CORE_LOG_H
#define ASC_CORE_LOG_H

#include <stddef.h>

typedef enum { ASC_LOG_DEBUG, ASC_LOG_INFO, ASC_LOG_WARN, ASC_LOG_ERROR } asc_log_level_t;

void asc_log_set_level(asc_log_level_t lvl);
void asc_log(asc_log_level_t lvl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define asc_log_info(...) asc_log(ASC_LOG_INFO, __VA_ARGS__)
#define asc_log_warn(...) asc_log(ASC_LOG_WARN, __VA_ARGS__)
#define asc_log_error(...) asc_log(ASC_LOG_ERROR, __VA_ARGS__)
#define asc_log_debug(...) asc_log(ASC_LOG_DEBUG, __VA_ARGS__)

/* "…abcd" from the last 4 characters of a secret (fewer if shorter), for
 * the only form in which a secret may be shown. out must hold 8 bytes. */
void asc_log_key_hint(const char *secret, size_t len, char out[8]);

#endif

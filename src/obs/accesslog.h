/*
 * Access log: one JSON line per request, built from its execution record.
 * Each worker appends to its own buffer (no lock on the request path) and
 * flushes it with one write() per loop iteration, under a process-wide lock
 * so lines from several workers never interleave.
 */
#ifndef ASC_OBS_ACCESSLOG_H
#define ASC_OBS_ACCESSLOG_H

#include <uv.h>

#include "core/buf.h"
#include "core/err.h"

typedef struct asc_accesslog asc_accesslog_t;

/* Open the process-wide sink: "stdout", "stderr", "off" or a file path
 * (appended, created 0640). Re-opening replaces the previous sink. */
asc_err_t asc_accesslog_open(const char *where, char *err, size_t errlen);
void asc_accesslog_close(void);

/* A worker's buffer, flushed before the loop polls. */
asc_accesslog_t *asc_accesslog_worker(uv_loop_t *loop);
void asc_accesslog_worker_free(asc_accesslog_t *l);
/* 1 when lines are written at all (so callers can skip building them). */
int asc_accesslog_enabled(void);
/* Append a complete line. */
void asc_accesslog_append(asc_accesslog_t *l, const char *line, size_t len);
/* Write what is buffered now. */
void asc_accesslog_flush(asc_accesslog_t *l);

#endif

/* Request ids: "req_" + 24 hex chars, unique per process run (random
 * per-thread prefix + counter). Cheap enough for every request. */
#ifndef ASC_HTTP_REQID_H
#define ASC_HTTP_REQID_H

/* Write a NUL-terminated id into out (at least 29 bytes). Thread-safe. */
void asc_http_reqid_generate(char out[129]);

#endif

/*
 * The execution record (DESIGN §3): the request's timeline, appended to by
 * every stage from the first byte. Access logs now, and metrics, traces,
 * audit and the events API later, are all built from it, so they cannot
 * disagree. It never holds prompt text or secrets: only names, ids, counts.
 *
 * Memory: events and strings live in the request's pool.
 */
#ifndef ASC_OBS_RECORD_H
#define ASC_OBS_RECORD_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/pool.h"
#include "provider/adapter.h"

typedef enum {
    ASC_REC_AUTH = 1,        /* s1 = key name, n1 = 1 ok / 0 failed */
    ASC_REC_MODEL,           /* s1 = public model, s2 = its route */
    ASC_REC_ATTEMPT,         /* s1 = provider, s2 = upstream model, n1 = attempt number */
    ASC_REC_UPSTREAM_STATUS, /* n1 = HTTP status */
    ASC_REC_FIRST_TOKEN,
    ASC_REC_FINISH,      /* s1 = finish reason */
    ASC_REC_USAGE,       /* n1 = prompt, n2 = completion tokens */
    ASC_REC_ERROR,       /* s1 = code, s2 = stage */
    ASC_REC_ABORT,       /* client disconnected */
    ASC_REC_NOTE,        /* s1 = free-form note (no client data) */
    ASC_REC_DONE,        /* n1 = status */
    ASC_REC_ROUTE,       /* s1 = route, s2 = how the first target was chosen, n1 = plan length */
    ASC_REC_ATTEMPT_END, /* s1 = outcome ("ok" or an error class), s2 = what came next
                            ("retry", "fallback", "final", "answer"), n1 = the status the
                            client gets for it,
                            n2 = duration in microseconds */
    ASC_REC_SKIP,        /* s1 = target, s2 = why it was not attempted */
    ASC_REC_CREDENTIAL,  /* s1 = the credential (id) that served the attempt before it */
} asc_rec_type_t;

typedef struct {
    asc_rec_type_t type;
    uint64_t t_ns; /* since the request's first byte */
    const char *s1, *s2;
    int64_t n1, n2;
} asc_rec_event_t;

typedef struct {
    asc_pool_t *pool;
    uint64_t start_ns;
    uint64_t wall_ms;
    asc_rec_event_t *ev;
    size_t nev, cap;
    /* summary */
    const char *key_name;
    const char *tenant;     /* the key's tenant, or NULL */
    const char *team;       /* the key's team, or NULL */
    const char *credential; /* the credential of the answering (or last) attempt */
    const char *route;      /* the route that served it (public name, or "direct") */
    const char *target;     /* "provider/model" of the answering (or last) attempt */
    int shadow;             /* a mirrored request: its answer went nowhere */
    const char *model;
    const char *provider;
    const char *upstream_model;
    const char *error_code;
    char finish_reason[32];
    int stream;
    int status;
    int upstream_status;
    int attempts;
    int aborted;
    uint64_t ttfb_ns; /* first byte to the client */
    uint64_t first_token_ns;
    uint64_t bytes_out;
    asc_usage_t usage;
} asc_record_t;

void asc_record_init(asc_record_t *r, asc_pool_t *pool, uint64_t start_ns);

/* Append an event (strings are copied into the pool). Past 256 events the
 * record keeps counting but stops storing, so a long stream stays bounded. */
void asc_record_add(asc_record_t *r, asc_rec_type_t type, const char *s1, const char *s2,
                    int64_t n1, int64_t n2);

/* The access-log JSON line (with '\n') for the record, appended to out. */
void asc_record_json(const asc_record_t *r, const char *request_id, const char *method,
                     const char *path, const char *peer, asc_buf_t *out);

#endif

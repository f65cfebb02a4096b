#include "obs/record.h"

#include <string.h>

#include "core/clock.h"

#define MAX_EVENTS 256

void asc_record_init(asc_record_t *r, asc_pool_t *pool, uint64_t start_ns)
{
    memset(r, 0, sizeof *r);
    r->pool = pool;
    r->start_ns = start_ns;
    r->wall_ms = asc_clock_wall_ms();
}

void asc_record_add(asc_record_t *r, asc_rec_type_t type, const char *s1, const char *s2,
                    int64_t n1, int64_t n2)
{
    if (r->nev >= MAX_EVENTS)
        return;
    if (r->nev == r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 16;
        asc_rec_event_t *n = asc_pool_alloc(r->pool, cap * sizeof *n);
        if (r->nev)
            memcpy(n, r->ev, r->nev * sizeof *n);
        r->ev = n;
        r->cap = cap;
    }
    asc_rec_event_t *e = &r->ev[r->nev++];
    e->type = type;
    e->t_ns = asc_clock_ns() - r->start_ns;
    e->s1 = s1 ? asc_pool_strndup(r->pool, s1, strlen(s1)) : NULL;
    e->s2 = s2 ? asc_pool_strndup(r->pool, s2, strlen(s2)) : NULL;
    e->n1 = n1;
    e->n2 = n2;
}

static const char *type_name(asc_rec_type_t t)
{
    switch (t) {
    case ASC_REC_AUTH: return "auth";
    case ASC_REC_MODEL: return "model";
    case ASC_REC_ATTEMPT: return "attempt";
    case ASC_REC_UPSTREAM_STATUS: return "upstream_status";
    case ASC_REC_FIRST_TOKEN: return "first_token";
    case ASC_REC_FINISH: return "finish";
    case ASC_REC_USAGE: return "usage";
    case ASC_REC_ERROR: return "error";
    case ASC_REC_ABORT: return "abort";
    case ASC_REC_NOTE: return "note";
    case ASC_REC_DONE: return "done";
    case ASC_REC_ROUTE: return "route";
    case ASC_REC_ATTEMPT_END: return "attempt_end";
    case ASC_REC_SKIP: return "skip";
    case ASC_REC_CREDENTIAL: return "credential";
    }
    return "unknown";
}

static void put_str(asc_buf_t *o, const char *name, const char *v)
{
    asc_buf_printf(o, ",\"%s\":", name);
    if (v == NULL) {
        asc_buf_puts(o, "null");
        return;
    }
    asc_buf_putc(o, '"');
    asc_buf_json_str(o, v, strlen(v));
    asc_buf_putc(o, '"');
}

static double ms(uint64_t ns)
{
    return (double)ns / 1e6;
}

void asc_record_json(const asc_record_t *r, const char *request_id, const char *method,
                     const char *path, const char *peer, asc_buf_t *o)
{
    char ts[64];
    asc_clock_rfc3339(r->wall_ms, ts);
    asc_buf_printf(o, "{\"ts\":\"%s\"", ts);
    put_str(o, "request_id", request_id);
    put_str(o, "method", method);
    put_str(o, "path", path);
    put_str(o, "client_ip", peer);
    asc_buf_printf(o, ",\"status\":%d", r->status);
    put_str(o, "key", r->key_name);
    put_str(o, "tenant", r->tenant);
    put_str(o, "team", r->team);
    put_str(o, "model", r->model);
    put_str(o, "provider", r->provider);
    put_str(o, "upstream_model", r->upstream_model);
    if (r->route != NULL)
        put_str(o, "route", r->route);
    if (r->target != NULL)
        put_str(o, "target", r->target);
    put_str(o, "credential", r->credential);
    if (r->shadow)
        asc_buf_puts(o, ",\"shadow\":true");
    asc_buf_printf(o, ",\"stream\":%s,\"attempts\":%d", r->stream ? "true" : "false", r->attempts);
    if (r->upstream_status)
        asc_buf_printf(o, ",\"upstream_status\":%d", r->upstream_status);
    uint64_t dur = asc_clock_ns() - r->start_ns;
    asc_buf_printf(o, ",\"duration_ms\":%.3f", ms(dur));
    if (r->ttfb_ns)
        asc_buf_printf(o, ",\"ttfb_ms\":%.3f", ms(r->ttfb_ns));
    if (r->first_token_ns)
        asc_buf_printf(o, ",\"first_token_ms\":%.3f", ms(r->first_token_ns));
    asc_buf_printf(o, ",\"bytes_out\":%llu", (unsigned long long)r->bytes_out);
    if (r->finish_reason[0])
        put_str(o, "finish_reason", r->finish_reason);
    if (r->usage.present || r->usage.estimated)
        asc_buf_printf(o,
                       ",\"usage\":{\"prompt_tokens\":%lld,\"completion_tokens\":%lld,"
                       "\"cached_tokens\":%lld,\"total_tokens\":%lld,\"estimated\":%s}",
                       (long long)r->usage.prompt_tokens, (long long)r->usage.completion_tokens,
                       (long long)r->usage.cached_tokens, (long long)r->usage.total_tokens,
                       r->usage.estimated ? "true" : "false");
    put_str(o, "error", r->error_code);
    if (r->aborted)
        asc_buf_puts(o, ",\"aborted\":true");
    asc_buf_puts(o, ",\"events\":[");
    for (size_t i = 0; i < r->nev; i++) {
        const asc_rec_event_t *e = &r->ev[i];
        asc_buf_printf(o, "%s{\"t_ms\":%.3f,\"ev\":\"%s\"", i ? "," : "", ms(e->t_ns),
                       type_name(e->type));
        switch (e->type) {
        case ASC_REC_AUTH:
            put_str(o, "key", e->s1);
            asc_buf_printf(o, ",\"ok\":%s", e->n1 ? "true" : "false");
            break;
        case ASC_REC_MODEL:
            put_str(o, "model", e->s1);
            put_str(o, "route", e->s2);
            break;
        case ASC_REC_ATTEMPT:
            put_str(o, "provider", e->s1);
            put_str(o, "upstream_model", e->s2);
            asc_buf_printf(o, ",\"n\":%lld", (long long)e->n1);
            break;
        case ASC_REC_UPSTREAM_STATUS:
        case ASC_REC_DONE: asc_buf_printf(o, ",\"status\":%lld", (long long)e->n1); break;
        case ASC_REC_FINISH: put_str(o, "reason", e->s1); break;
        case ASC_REC_USAGE:
            asc_buf_printf(o, ",\"prompt_tokens\":%lld,\"completion_tokens\":%lld",
                           (long long)e->n1, (long long)e->n2);
            break;
        case ASC_REC_ERROR:
            put_str(o, "code", e->s1);
            put_str(o, "stage", e->s2);
            break;
        case ASC_REC_NOTE: put_str(o, "note", e->s1); break;
        case ASC_REC_ROUTE:
            put_str(o, "route", e->s1);
            put_str(o, "choice", e->s2);
            asc_buf_printf(o, ",\"plan\":%lld", (long long)e->n1);
            break;
        case ASC_REC_ATTEMPT_END:
            put_str(o, "outcome", e->s1);
            put_str(o, "next", e->s2);
            if (e->n1)
                asc_buf_printf(o, ",\"status\":%lld", (long long)e->n1);
            asc_buf_printf(o, ",\"duration_ms\":%.3f", (double)e->n2 / 1e3);
            break;
        case ASC_REC_SKIP:
            put_str(o, "target", e->s1);
            put_str(o, "why", e->s2);
            break;
        case ASC_REC_CREDENTIAL: put_str(o, "credential", e->s1); break;
        default: break;
        }
        asc_buf_putc(o, '}');
    }
    asc_buf_puts(o, "]}\n");
}

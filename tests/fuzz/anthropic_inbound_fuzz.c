/*
 * libFuzzer target for the inbound Anthropic dialect (src/api/anthropic*.c).
 *
 * Decodes the input as a /v1/messages body under a small pool limit. On
 * success checks the canonical request's invariants, then drives the
 * response encoder and the stream encoder with what was decoded (its texts
 * as text deltas, its tool calls as streamed calls whose argument fragments
 * interleave in an order taken from the input) and checks that every output
 * is valid JSON: the Message body, and the data of every SSE event, the
 * last of which must be message_stop. Any broken invariant aborts.
 *
 * Build: clang -fsanitize=fuzzer,address,undefined (see scripts/fuzz.sh).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/anthropic_int.h"
#include "api/dialect.h"
#include "json/json.h"

#define CHECK(c)                                                                                   \
    do {                                                                                           \
        if (!(c)) {                                                                                \
            fprintf(stderr, "anthropic_inbound_fuzz: check failed at line %d: %s\n", __LINE__,     \
                    #c);                                                                           \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

#define POOL_LIMIT (1024 * 1024)
#define MAX_CALLS 16

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int valid_json(asc_pool_t *pool, const char *s, size_t n)
{
    asc_json_t j;
    return asc_json_parse(pool, s, n, NULL, &j, NULL, 0) == ASC_OK;
}

static int is_object(asc_pool_t *pool, asc_str_t s)
{
    asc_json_limits_t lim;
    asc_json_t j;
    asc_json_limits_default(&lim);
    lim.root_object = 1;
    return s.p != NULL && asc_json_parse(pool, s.p, s.n, &lim, &j, NULL, 0) == ASC_OK;
}

static void check_request(asc_pool_t *scratch, const asc_chat_req_t *r, size_t len)
{
    CHECK(r->model.p != NULL && r->model.n > 0);
    CHECK(r->has_max_tokens && r->max_tokens >= 1);
    CHECK(r->nmsgs > 0);
    CHECK(r->include_usage == 1);
    CHECK(r->input_bytes <= len);
    for (size_t i = 0; i < r->nmsgs; i++) {
        const asc_msg_t *m = &r->msgs[i];
        CHECK(m->role >= ASC_ROLE_SYSTEM && m->role <= ASC_ROLE_TOOL);
        CHECK(m->role == ASC_ROLE_TOOL ? m->tool_call_id.n > 0 : m->tool_call_id.p == NULL);
        CHECK(m->ntool_calls == 0 || m->role == ASC_ROLE_ASSISTANT);
        for (size_t k = 0; k < m->nparts; k++) {
            const asc_part_t *p = &m->parts[k];
            CHECK(p->type >= ASC_PART_TEXT && p->type <= ASC_PART_IMAGE_BASE64);
            CHECK(p->type != ASC_PART_TEXT || p->text.p != NULL);
            if (p->cache_control.p != NULL)
                CHECK(is_object(scratch, p->cache_control));
        }
        for (size_t k = 0; k < m->ntool_calls; k++)
            CHECK(is_object(scratch, m->tool_calls[k].arguments));
    }
    for (size_t i = 0; i < r->ntools; i++)
        CHECK(r->tools[i].name.n > 0 && is_object(scratch, r->tools[i].parameters));
    if (r->thinking.p != NULL)
        CHECK(is_object(scratch, r->thinking));
}

/* Every SSE event is "event: X\ndata: <json>\n\n"; the last is message_stop
 * (or an error). */
static void check_sse(asc_pool_t *scratch, const char *s, size_t n)
{
    size_t i = 0;
    const char *last = NULL;
    while (i < n) {
        CHECK(n - i > 7 && memcmp(s + i, "event: ", 7) == 0);
        const char *name = s + i + 7;
        const char *nl = memchr(name, '\n', n - (size_t)(name - s));
        CHECK(nl != NULL && (size_t)(s + n - nl) > 6 && memcmp(nl + 1, "data: ", 6) == 0);
        const char *d = nl + 7;
        const char *end = memchr(d, '\n', n - (size_t)(d - s));
        CHECK(end != NULL && end + 1 < s + n && end[1] == '\n');
        asc_pool_reset(scratch);
        if (!valid_json(scratch, d, (size_t)(end - d)))
            fprintf(stderr, "bad event data: %.*s\n", (int)(end - d), d);
        CHECK(valid_json(scratch, d, (size_t)(end - d)));
        last = name;
        i = (size_t)(end + 2 - s);
    }
    CHECK(last != NULL);
    CHECK(strncmp(last, "message_stop\n", 13) == 0 || strncmp(last, "error\n", 6) == 0);
}

static void drive_encoders(asc_pool_t *scratch, const asc_chat_req_t *r, const uint8_t *data,
                           size_t size)
{
    asc_tool_call_t calls[MAX_CALLS];
    size_t ncalls = 0;
    asc_str_t text = ASC_STR_NULL;
    for (size_t i = 0; i < r->nmsgs; i++) {
        const asc_msg_t *m = &r->msgs[i];
        for (size_t k = 0; k < m->ntool_calls && ncalls < MAX_CALLS; k++)
            calls[ncalls++] = m->tool_calls[k];
        if (text.p == NULL && m->nparts > 0 && m->parts[0].type == ASC_PART_TEXT)
            text = m->parts[0].text;
    }

    /* the Message body */
    asc_chat_resp_t resp;
    memset(&resp, 0, sizeof resp);
    resp.id = r->user;
    resp.text = text;
    resp.tool_calls = calls;
    resp.ntool_calls = ncalls;
    resp.finish = (asc_finish_t)(size % 7);
    resp.stop_sequence = r->nstop > 0 ? r->stop[0] : ASC_STR_NULL;
    resp.usage.input_tokens = (int64_t)size;
    resp.usage.cached_tokens = (int64_t)(size / 3);
    resp.usage.output_tokens = 7;
    asc_buf_t out;
    asc_buf_init(&out, 0);
    char model[300];
    snprintf(model, sizeof model, "%.*s", (int)r->model.n, r->model.p);
    asc_dialect_anthropic.encode_response(&resp, model, &out);
    asc_pool_reset(scratch);
    CHECK(valid_json(scratch, out.data, out.len));

    /* the stream: texts, then calls whose fragments interleave */
    asc_buf_clear(&out);
    void *st = calloc(1, asc_dialect_anthropic.stream_state_size);
    CHECK(st != NULL);
    asc_dialect_anthropic.stream_begin(st, r, model);
    asc_sev_t ev;
    memset(&ev, 0, sizeof ev);
    ev.type = ASC_SEV_START;
    ev.id = r->user;
    asc_dialect_anthropic.stream_event(st, &ev, &out);
    for (size_t i = 0; i < r->nmsgs; i++)
        for (size_t k = 0; k < r->msgs[i].nparts; k++)
            if (r->msgs[i].parts[k].type == ASC_PART_TEXT) {
                memset(&ev, 0, sizeof ev);
                ev.type = ASC_SEV_TEXT;
                ev.text = r->msgs[i].parts[k].text;
                asc_dialect_anthropic.stream_event(st, &ev, &out);
            }
    size_t sent[MAX_CALLS] = {0};
    int started[MAX_CALLS] = {0};
    size_t step = 0, left = ncalls;
    while (left > 0) {
        size_t c = data[step % size] % ncalls;
        step++;
        if (sent[c] == calls[c].arguments.n && started[c]) {
            c = 0;
            while (started[c] && sent[c] == calls[c].arguments.n)
                c++;
        }
        memset(&ev, 0, sizeof ev);
        ev.tool_index = (int)c;
        if (!started[c]) {
            started[c] = 1;
            ev.type = ASC_SEV_TOOL_START;
            ev.tool_id = calls[c].id;
            ev.tool_name = calls[c].name;
        } else {
            size_t rest = calls[c].arguments.n - sent[c];
            size_t frag = 1 + data[(step * 7) % size] % 8;
            if (frag > rest)
                frag = rest;
            /* upstream fragments are decoded JSON strings: whole characters */
            while (frag < rest &&
                   ((unsigned char)calls[c].arguments.p[sent[c] + frag] & 0xC0) == 0x80)
                frag++;
            ev.type = ASC_SEV_TOOL_ARGS;
            ev.text = (asc_str_t){calls[c].arguments.p + sent[c], frag};
            sent[c] += frag;
        }
        if (started[c] && sent[c] == calls[c].arguments.n)
            left--;
        asc_dialect_anthropic.stream_event(st, &ev, &out);
    }
    memset(&ev, 0, sizeof ev);
    ev.type = ASC_SEV_FINISH;
    ev.finish = ncalls ? ASC_FINISH_TOOL_CALLS : ASC_FINISH_STOP;
    asc_dialect_anthropic.stream_event(st, &ev, &out);
    ev.type = ASC_SEV_USAGE;
    ev.usage.input_tokens = 3;
    ev.usage.output_tokens = 4;
    asc_dialect_anthropic.stream_event(st, &ev, &out);
    ev.type = ASC_SEV_DONE;
    asc_dialect_anthropic.stream_event(st, &ev, &out);
    check_sse(scratch, out.data, out.len);
    asc_anthropic_stream_free(st);
    free(st);
    asc_buf_free(&out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static asc_http_header_t h = {"anthropic-version", 17, "2023-06-01", 10};
    asc_http_req_t req;
    memset(&req, 0, sizeof req);
    req.headers = &h;
    req.nheaders = 1;

    asc_pool_t *pool = asc_pool_create(POOL_LIMIT);
    asc_pool_t *scratch = asc_pool_create(0);
    asc_chat_req_t r;
    char err[256];
    err[0] = '\0';
    asc_err_t e = asc_dialect_anthropic.decode(pool, (const char *)data, size,
                                               size % 2 ? &req : NULL, &r, err, sizeof err);
    if (e == ASC_OK) {
        check_request(scratch, &r, size);
        drive_encoders(scratch, &r, data, size);
    } else {
        CHECK(e == ASC_EINVAL || e == ASC_ETOOBIG);
        CHECK(err[0] != '\0');
        for (const char *p = err; *p; p++)
            CHECK((unsigned char)*p >= 0x20 && (unsigned char)*p < 0x7f);
    }
    asc_pool_destroy(scratch);
    asc_pool_destroy(pool);
    return 0;
}

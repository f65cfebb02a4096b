/*
 * libFuzzer target for the Anthropic upstream adapter (src/provider/
 * anthropic*.c): what a hostile or broken upstream can send.
 *
 * The input is read three ways: as a complete Messages response
 * (decode_chat), as an SSE byte stream (through the SSE parser, event by
 * event into decode_stream), and as lines each fed as one event's data with
 * no event name; and as an error body for classify_error. Checked: nothing
 * crashes or reads out of bounds, return codes are the documented ones, the
 * canonical stream is well formed (one START, tool indexes in order,
 * arguments only for started tools, nothing after DONE or ERROR), decoded
 * tool arguments are JSON objects, and a request re-encoded from a decoded
 * response is valid JSON. Any broken invariant aborts.
 *
 * Build: clang -fsanitize=fuzzer,address,undefined (see scripts/fuzz.sh).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json/json.h"
#include "provider/adapter.h"
#include "provider/sse.h"

#define CHECK(c)                                                                                   \
    do {                                                                                           \
        if (!(c)) {                                                                                \
            fprintf(stderr, "anthropic_upstream_fuzz: check failed at line %d: %s\n", __LINE__,    \
                    #c);                                                                           \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

#define POOL_LIMIT (1 << 20)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const asc_adapter_t *A = &asc_adapter_anthropic;

/* Read every byte of s (so ASan sees a bad pointer) and return a checksum
 * the compiler cannot drop. */
static unsigned touch(asc_str_t s)
{
    unsigned h = 0;
    CHECK(s.p != NULL || s.n == 0);
    for (size_t i = 0; i < s.n; i++)
        h = h * 31 + (unsigned char)s.p[i];
    return h;
}

typedef struct {
    int started, ended, ntools;
    unsigned sum;
} seen_t;

static int on_event(void *ud, const asc_sev_t *ev)
{
    seen_t *s = ud;
    CHECK(!s->ended);
    s->sum += touch(ev->id) + touch(ev->model) + touch(ev->text) + touch(ev->tool_id) +
              touch(ev->tool_name) + touch(ev->stop_sequence) + touch(ev->error_message);
    switch (ev->type) {
    case ASC_SEV_START:
        CHECK(!s->started);
        s->started = 1;
        break;
    case ASC_SEV_TEXT: CHECK(s->started && ev->text.n > 0); break;
    case ASC_SEV_TOOL_START:
        CHECK(s->started && ev->tool_index == s->ntools);
        CHECK(ev->tool_id.p != NULL && ev->tool_name.p != NULL);
        s->ntools++;
        break;
    case ASC_SEV_TOOL_ARGS:
        CHECK(ev->tool_index >= 0 && ev->tool_index < s->ntools && ev->text.n > 0);
        break;
    case ASC_SEV_FINISH: CHECK(s->started && ev->finish != ASC_FINISH_NONE); break;
    case ASC_SEV_USAGE:
        CHECK(ev->usage.present && ev->usage.input_tokens >= 0 && ev->usage.output_tokens >= 0);
        CHECK(ev->usage.cached_tokens <= ev->usage.input_tokens);
        break;
    case ASC_SEV_DONE:
        CHECK(s->started);
        s->ended = 1;
        break;
    case ASC_SEV_ERROR:
        CHECK(ev->error_status == 429 || ev->error_status == 503 || ev->error_status == 502);
        CHECK(ev->error_code != NULL && ev->error_message.n > 0);
        s->ended = 1;
        break;
    default: CHECK(0);
    }
    return 0;
}

typedef struct {
    void *state;
    asc_pool_t *pool;
    seen_t seen;
} feed_t;

static void feed_one(feed_t *f, const char *event, const char *d, size_t n)
{
    asc_pool_reset(f->pool);
    asc_err_t rc = A->decode_stream(f->state, f->pool, event, d, n, on_event, &f->seen);
    CHECK(rc == ASC_OK || rc == ASC_EINVAL || rc == ASC_ETOOBIG);
}

static int on_sse(void *ud, const char *event, const char *d, size_t n, size_t raw_end)
{
    (void)raw_end;
    feed_one(ud, event[0] ? event : NULL, d, n);
    return 0;
}

static void run_stream(const char *text, size_t size, int sse)
{
    feed_t f;
    memset(&f, 0, sizeof f);
    f.state = calloc(1, A->stream_state_size);
    f.pool = asc_pool_create(POOL_LIMIT);
    CHECK(f.state != NULL);
    if (sse) {
        asc_sse_t p;
        asc_sse_init(&p, POOL_LIMIT);
        asc_sse_feed(&p, text, size, on_sse, &f);
        asc_sse_free(&p);
    } else {
        /* one event per line, "data: " optional */
        size_t off = 0;
        while (off < size) {
            const char *nl = memchr(text + off, '\n', size - off);
            size_t n = nl != NULL ? (size_t)(nl - (text + off)) : size - off;
            const char *line = text + off;
            if (n >= 6 && memcmp(line, "data: ", 6) == 0) {
                line += 6;
                n -= 6;
            }
            if (n > 0)
                feed_one(&f, NULL, line, n);
            off += (nl != NULL ? (size_t)(nl - (text + off)) + 1 : size - off);
        }
    }
    asc_pool_destroy(f.pool);
    free(f.state);
}

/* A request carrying what the response decoded to, through the encoder:
 * the body must be one valid JSON object. */
static void reencode(const asc_chat_resp_t *r, asc_pool_t *pool)
{
    asc_part_t user_part, asst_part, tool_part, sys_part;
    asc_msg_t msgs[8];
    size_t nm = 0;
    memset(msgs, 0, sizeof msgs);
    memset(&user_part, 0, sizeof user_part);
    user_part.type = ASC_PART_TEXT;
    user_part.text = r->text.p != NULL ? r->text : (asc_str_t){"hi", 2};
    asst_part = user_part;
    sys_part = user_part;
    sys_part.text = r->model.p != NULL ? r->model : (asc_str_t){"sys", 3};
    tool_part = user_part;
    tool_part.text = r->stop_sequence;
    msgs[nm++] = (asc_msg_t){.role = ASC_ROLE_SYSTEM, .parts = &sys_part, .nparts = 1};
    msgs[nm++] = (asc_msg_t){.role = ASC_ROLE_USER, .parts = &user_part, .nparts = 1};
    msgs[nm++] = (asc_msg_t){.role = ASC_ROLE_ASSISTANT,
                             .parts = &asst_part,
                             .nparts = 1,
                             .tool_calls = r->tool_calls,
                             .ntool_calls = r->ntool_calls};
    for (size_t i = 0; i < r->ntool_calls && nm < 7; i++)
        msgs[nm++] = (asc_msg_t){.role = ASC_ROLE_TOOL,
                                 .parts = &tool_part,
                                 .nparts = tool_part.text.p != NULL,
                                 .tool_call_id = r->tool_calls[i].id,
                                 .is_error = (int)(i & 1)};
    asc_chat_req_t req;
    memset(&req, 0, sizeof req);
    req.msgs = msgs;
    req.nmsgs = nm;
    req.parallel_tool_calls = -1;
    req.format_strict = -1;
    req.stop = r->stop_sequence.p != NULL ? (asc_str_t *)&r->stop_sequence : NULL;
    req.nstop = r->stop_sequence.p != NULL;
    req.user = r->id;
    asc_buf_t out;
    asc_buf_init(&out, 0);
    char err[256];
    asc_err_t rc = A->encode_chat(&req, "claude-fuzz", pool, &out, err, sizeof err);
    CHECK(rc == ASC_OK);
    asc_json_t j;
    asc_json_limits_t lim;
    asc_json_limits_default(&lim);
    lim.root_object = 1;
    CHECK(asc_json_parse(pool, out.data, out.len, &lim, &j, err, sizeof err) == ASC_OK);
    asc_buf_free(&out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data;
    asc_pool_t *pool = asc_pool_create(POOL_LIMIT);
    asc_chat_resp_t r;
    asc_err_t rc = A->decode_chat(pool, text, size, &r);
    CHECK(rc == ASC_OK || rc == ASC_EINVAL || rc == ASC_ETOOBIG);
    if (rc == ASC_OK) {
        unsigned sum = touch(r.id) + touch(r.model) + touch(r.text) + touch(r.stop_sequence);
        (void)sum;
        for (size_t i = 0; i < r.ntool_calls; i++) {
            asc_json_t j;
            asc_json_limits_t lim;
            asc_json_limits_default(&lim);
            lim.root_object = 1;
            touch(r.tool_calls[i].id);
            touch(r.tool_calls[i].name);
            CHECK(asc_json_parse(pool, r.tool_calls[i].arguments.p, r.tool_calls[i].arguments.n,
                                 &lim, &j, NULL, 0) == ASC_OK);
        }
        CHECK(r.usage.cached_tokens <= r.usage.input_tokens);
        reencode(&r, pool);
    }
    asc_pool_destroy(pool);

    run_stream(text, size, 1);
    run_stream(text, size, 0);

    asc_upstream_error_t e;
    int status = size > 0 ? 400 + data[0] % 140 : 500;
    A->classify_error(status, text, size, &e);
    CHECK(e.cls != ASC_UPERR_NONE);
    CHECK(memchr(e.message, '\0', sizeof e.message) != NULL);
    return 0;
}

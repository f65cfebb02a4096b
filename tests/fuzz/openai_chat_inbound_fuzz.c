/*
 * libFuzzer target for the OpenAI chat inbound dialect (src/api/openai_chat.c).
 *
 * Decodes the input as a /v1/chat/completions body under a bounded pool.
 * Whatever the bytes, decode must return cleanly with a NUL-terminated
 * message; on success the canonical request must be internally consistent,
 * and the strings it holds (message text, tool-call ids, names and
 * arguments) are fed back through encode_response and the stream encoder,
 * whose output must be valid JSON chunk by chunk.
 *
 * Build: clang -fsanitize=fuzzer,address,undefined (see scripts/fuzz.sh).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/dialect.h"
#include "json/json.h"

#define CHECK(c)                                                                                   \
    do {                                                                                           \
        if (!(c)) {                                                                                \
            fprintf(stderr, "openai_chat_inbound_fuzz: check failed at line %d: %s\n", __LINE__,   \
                    #c);                                                                           \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_str(asc_str_t s)
{
    CHECK(s.p != NULL || s.n == 0);
}

static void check_json(asc_pool_t *pool, const char *p, size_t n)
{
    asc_json_t j;
    char err[160];
    if (asc_json_parse(pool, p, n, NULL, &j, err, sizeof err) != ASC_OK) {
        fprintf(stderr, "openai_chat_inbound_fuzz: invalid output JSON (%s): %.*s\n", err,
                (int)(n > 400 ? 400 : n), p);
        abort();
    }
}

/* Every `data: ` event of an SSE buffer is [DONE] or valid JSON. */
static void check_sse(asc_pool_t *pool, const asc_buf_t *b)
{
    const char *p = b->data, *end = b->data + b->len;
    while (p < end) {
        CHECK(end - p > 6 && memcmp(p, "data: ", 6) == 0);
        const char *e = strstr(p, "\n\n");
        CHECK(e != NULL);
        if (!(e - p == 12 && memcmp(p + 6, "[DONE]", 6) == 0))
            check_json(pool, p + 6, (size_t)(e - p - 6));
        p = e + 2;
    }
}

static void check_request(const asc_chat_req_t *r)
{
    CHECK(r->model.p != NULL && r->model.n > 0);
    CHECK(r->nmsgs > 0 && r->msgs != NULL);
    for (size_t i = 0; i < r->nmsgs; i++) {
        const asc_msg_t *m = &r->msgs[i];
        CHECK(m->role >= ASC_ROLE_SYSTEM && m->role <= ASC_ROLE_TOOL);
        CHECK(m->nparts == 0 || m->parts != NULL);
        for (size_t k = 0; k < m->nparts; k++) {
            const asc_part_t *p = &m->parts[k];
            CHECK(p->type == ASC_PART_TEXT || p->type == ASC_PART_IMAGE_URL);
            check_str(p->text);
            if (p->type == ASC_PART_IMAGE_URL)
                CHECK(p->url.p != NULL && p->url.n > 0);
        }
        CHECK(m->ntool_calls == 0 || m->role == ASC_ROLE_ASSISTANT);
        for (size_t k = 0; k < m->ntool_calls; k++) {
            CHECK(m->tool_calls[k].id.n > 0 && m->tool_calls[k].name.n > 0);
            CHECK(m->tool_calls[k].arguments.n >= 2 && m->tool_calls[k].arguments.p[0] == '{');
        }
        CHECK((m->role == ASC_ROLE_TOOL) == (m->tool_call_id.p != NULL));
    }
    CHECK(r->ntools <= 128);
    for (size_t i = 0; i < r->ntools; i++)
        CHECK(r->tools[i].name.n > 0 && r->tools[i].name.n <= 64);
    CHECK(r->tool_choice != ASC_TOOL_CHOICE_FUNCTION || r->tool_choice_name.n > 0);
    CHECK(r->nstop <= 4);
    CHECK(!r->include_usage || r->stream);
    CHECK(r->format != ASC_FORMAT_JSON_SCHEMA || r->format_name.n > 0);
}

/* Replay the request's own strings as a response and a stream. */
static void encode_back(asc_pool_t *pool, const asc_chat_req_t *r)
{
    asc_chat_resp_t resp;
    memset(&resp, 0, sizeof resp);
    resp.id = r->user.p != NULL ? r->user : r->model;
    resp.created = 1;
    for (size_t i = 0; i < r->nmsgs && resp.text.p == NULL; i++)
        if (r->msgs[i].nparts > 0 && r->msgs[i].parts[0].type == ASC_PART_TEXT)
            resp.text = r->msgs[i].parts[0].text;
    for (size_t i = 0; i < r->nmsgs && resp.ntool_calls == 0; i++) {
        resp.tool_calls = r->msgs[i].tool_calls;
        resp.ntool_calls = r->msgs[i].ntool_calls;
    }
    resp.finish = (asc_finish_t)(r->nmsgs % 7);
    asc_buf_t b;
    asc_buf_init(&b, 0);
    char *model = asc_str_dup(pool, r->model);
    asc_dialect_openai_chat.encode_response(&resp, model, &b);
    check_json(pool, b.data, b.len);
    asc_buf_clear(&b);

    void *st = calloc(1, asc_dialect_openai_chat.stream_state_size);
    CHECK(st != NULL);
    asc_dialect_openai_chat.stream_begin(st, r, model);
    asc_sev_t ev;
    memset(&ev, 0, sizeof ev);
    ev.type = ASC_SEV_START;
    ev.id = resp.id;
    asc_dialect_openai_chat.stream_event(st, &ev, &b);
    for (size_t i = 0; i < r->nmsgs; i++) {
        const asc_msg_t *m = &r->msgs[i];
        for (size_t k = 0; k < m->nparts; k++) {
            memset(&ev, 0, sizeof ev);
            ev.type = ASC_SEV_TEXT;
            ev.text = m->parts[k].text;
            asc_dialect_openai_chat.stream_event(st, &ev, &b);
        }
        for (size_t k = 0; k < m->ntool_calls; k++) {
            memset(&ev, 0, sizeof ev);
            ev.type = ASC_SEV_TOOL_START;
            ev.tool_index = (int)(i * 3 + k);
            ev.tool_id = m->tool_calls[k].id;
            ev.tool_name = m->tool_calls[k].name;
            asc_dialect_openai_chat.stream_event(st, &ev, &b);
            ev.type = ASC_SEV_TOOL_ARGS;
            ev.text = m->tool_calls[k].arguments;
            asc_dialect_openai_chat.stream_event(st, &ev, &b);
        }
    }
    memset(&ev, 0, sizeof ev);
    ev.type = ASC_SEV_USAGE;
    ev.usage.input_tokens = (int64_t)r->input_bytes;
    asc_dialect_openai_chat.stream_event(st, &ev, &b);
    if (r->nmsgs % 2) {
        ev.type = ASC_SEV_DONE;
        asc_dialect_openai_chat.stream_event(st, &ev, &b);
    } else {
        asc_dialect_openai_chat.stream_error(st, 503, "overloaded", model, &b);
    }
    check_sse(pool, &b);
    free(st);
    asc_buf_free(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    asc_pool_t *pool = asc_pool_create(1 << 20);
    asc_pool_t *scratch = asc_pool_create(0);
    asc_chat_req_t r;
    char err[256];
    memset(err, 'X', sizeof err);
    asc_err_t e =
        asc_dialect_openai_chat.decode(pool, (const char *)data, size, NULL, &r, err, sizeof err);
    CHECK(memchr(err, '\0', sizeof err) != NULL);
    if (e != ASC_OK) {
        CHECK(e == ASC_EINVAL || e == ASC_ETOOBIG);
        CHECK(err[0] != '\0');
        for (const char *p = err; *p; p++)
            CHECK((unsigned char)*p >= 0x20 && (unsigned char)*p < 0x7f);
        goto out;
    }
    check_request(&r);
    encode_back(scratch, &r);
out:
    asc_pool_destroy(scratch);
    asc_pool_destroy(pool);
    return 0;
}

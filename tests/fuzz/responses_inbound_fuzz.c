/*
 * libFuzzer target for the OpenAI Responses inbound dialect.
 *
 * The input is a /v1/responses body. It is decoded under a small pool
 * limit; a refusal must come with a message, an acceptance must give a
 * well-formed canonical request (counts and strings consistent, tool-call
 * arguments a JSON object). The accepted request then drives both encoders:
 * the Response object built from it (its text and tool calls echoed as the
 * answer) must be valid JSON, and a stream whose events are chosen by the
 * input bytes must be well-formed SSE whose data are JSON objects with
 * strictly increasing sequence numbers, ending in response.completed /
 * response.incomplete or an error event. Any broken invariant aborts.
 *
 * Build: clang -fsanitize=fuzzer,address,undefined (see scripts/fuzz.sh).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "api/dialect.h"
#include "api/responses.h"
#include "json/json.h"

#define CHECK(c)                                                                                   \
    do {                                                                                           \
        if (!(c)) {                                                                                \
            fprintf(stderr, "responses_inbound_fuzz: check failed at line %d: %s\n", __LINE__,     \
                    #c);                                                                           \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

#define POOL_LIMIT (256 * 1024)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const asc_dialect_t *D = &asc_dialect_openai_responses;

static void check_str(asc_str_t s)
{
    if (s.p != NULL && s.n > 0) {
        volatile char c = s.p[0];
        c = s.p[s.n - 1];
        (void)c;
    }
}

static void check_request(asc_pool_t *pool, const asc_chat_req_t *r)
{
    CHECK(r->model.p != NULL && r->model.n > 0 && r->model.n <= 256);
    CHECK(r->nmsgs > 0 && r->msgs != NULL);
    CHECK(r->include_usage == 1);
    int conversation = 0;
    for (size_t i = 0; i < r->nmsgs; i++) {
        const asc_msg_t *m = &r->msgs[i];
        CHECK(m->role >= ASC_ROLE_SYSTEM && m->role <= ASC_ROLE_TOOL);
        conversation |= m->role != ASC_ROLE_SYSTEM;
        CHECK(m->nparts == 0 || m->parts != NULL);
        for (size_t k = 0; k < m->nparts; k++) {
            const asc_part_t *p = &m->parts[k];
            CHECK(p->type == ASC_PART_TEXT || p->type == ASC_PART_IMAGE_URL);
            if (p->type == ASC_PART_TEXT)
                CHECK(p->text.p != NULL);
            else
                CHECK(p->url.p != NULL && p->url.n > 0 && m->role != ASC_ROLE_ASSISTANT);
            check_str(p->text);
            check_str(p->url);
        }
        CHECK(m->ntool_calls == 0 || m->role == ASC_ROLE_ASSISTANT);
        for (size_t k = 0; k < m->ntool_calls; k++) {
            const asc_tool_call_t *c = &m->tool_calls[k];
            CHECK(c->id.n > 0 && c->name.n > 0 && c->arguments.n > 0);
            asc_json_limits_t lim;
            asc_json_limits_default(&lim);
            lim.root_object = 1;
            asc_json_t doc;
            CHECK(asc_json_parse(pool, c->arguments.p, c->arguments.n, &lim, &doc, NULL, 0) ==
                  ASC_OK);
        }
        CHECK((m->role == ASC_ROLE_TOOL) == (m->tool_call_id.p != NULL));
    }
    CHECK(conversation);
    for (size_t i = 0; i < r->ntools; i++) {
        CHECK(r->tools[i].name.n > 0);
        CHECK(r->tools[i].strict >= -1 && r->tools[i].strict <= 1);
        check_str(r->tools[i].parameters);
    }
    if (r->tool_choice == ASC_TOOL_CHOICE_FUNCTION)
        CHECK(r->tool_choice_name.n > 0);
    if (r->format == ASC_FORMAT_JSON_SCHEMA)
        CHECK(r->format_name.n > 0 && r->format_schema.n >= 2);
    CHECK(!r->has_max_tokens || r->max_tokens >= 1);
}

static void check_json(const char *s, size_t n)
{
    cJSON *j = cJSON_ParseWithLength(s, n);
    CHECK(j != NULL && cJSON_IsObject(j));
    cJSON_Delete(j);
}

/* Every event: "event: T\ndata: {...,"type":T,"sequence_number":N}\n\n". */
static void check_sse(const char *s, size_t len, int ended)
{
    size_t i = 0;
    double last_seq = -1;
    const char *last_type = "";
    char type[64] = "";
    while (i < len) {
        const char *end = strstr(s + i, "\n\n");
        CHECK(end != NULL);
        CHECK(strncmp(s + i, "event: ", 7) == 0);
        const char *nl = memchr(s + i, '\n', (size_t)(end - (s + i)));
        CHECK(nl != NULL && strncmp(nl + 1, "data: ", 6) == 0);
        size_t tl = (size_t)(nl - (s + i) - 7);
        CHECK(tl < sizeof type);
        memcpy(type, s + i + 7, tl);
        type[tl] = '\0';
        cJSON *j = cJSON_ParseWithLength(nl + 7, (size_t)(end - (nl + 7)));
        CHECK(j != NULL);
        cJSON *t = cJSON_GetObjectItem(j, "type");
        CHECK(cJSON_IsString(t) && strcmp(t->valuestring, type) == 0);
        cJSON *q = cJSON_GetObjectItem(j, "sequence_number");
        CHECK(cJSON_IsNumber(q) && q->valuedouble > last_seq);
        last_seq = q->valuedouble;
        cJSON_Delete(j);
        last_type = strcmp(type, "error") == 0                 ? "error"
                    : strcmp(type, "response.completed") == 0  ? "completed"
                    : strcmp(type, "response.incomplete") == 0 ? "completed"
                                                               : "other";
        i = (size_t)(end - s) + 2;
    }
    if (ended)
        CHECK(strcmp(last_type, "error") == 0 || strcmp(last_type, "completed") == 0);
}

/* A stream driven by the input bytes, over the decoded request. */
static void run_stream(const asc_chat_req_t *req, const uint8_t *data, size_t size)
{
    void *st = calloc(1, D->stream_state_size);
    CHECK(st != NULL);
    asc_buf_t out;
    asc_buf_init(&out, 0);
    D->stream_begin(st, req, "fuzz-model");
    int ended = 0;
    for (size_t i = 0; i < size && i < 512; i++) {
        asc_sev_t ev;
        memset(&ev, 0, sizeof ev);
        uint8_t b = data[i];
        const char *frag = (const char *)data + i;
        size_t fn = (size_t)(b >> 4) < size - i ? (size_t)(b >> 4) : size - i;
        switch (b & 7) {
        case 0:
            ev.type = ASC_SEV_START;
            ev.id = (asc_str_t){frag, fn};
            break;
        case 1:
        case 2:
            ev.type = ASC_SEV_TEXT;
            ev.text = (asc_str_t){frag, fn};
            break;
        case 3:
            ev.type = ASC_SEV_TOOL_START;
            ev.tool_index = (b >> 3) & 3;
            ev.tool_id = (asc_str_t){frag, fn / 2};
            ev.tool_name = (asc_str_t){"f", 1};
            break;
        case 4:
            ev.type = ASC_SEV_TOOL_ARGS;
            ev.tool_index = (b >> 3) & 3;
            ev.text = (asc_str_t){frag, fn};
            break;
        case 5:
            ev.type = ASC_SEV_FINISH;
            ev.finish = (asc_finish_t)(b >> 5);
            break;
        case 6:
            ev.type = ASC_SEV_USAGE;
            ev.usage = (asc_canon_usage_t){.input_tokens = b, .output_tokens = i, .present = 1};
            break;
        default:
            if (b & 0x80) {
                D->stream_error(st, 502, "upstream_error", "fuzz", &out);
            } else {
                ev.type = ASC_SEV_DONE;
                D->stream_event(st, &ev, &out);
            }
            ended = 1;
            goto done;
        }
        D->stream_event(st, &ev, &out);
    }
done:
    check_sse(out.data != NULL ? out.data : "", out.len, ended);
    asc_api_responses_stream_free(st);
    free(st);
    asc_buf_free(&out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    asc_pool_t *pool = asc_pool_create(POOL_LIMIT);
    asc_chat_req_t req;
    char err[256];
    asc_err_t e = D->decode(pool, (const char *)data, size, NULL, &req, err, sizeof err);
    if (e != ASC_OK) {
        CHECK(e == ASC_EINVAL || e == ASC_ETOOBIG);
        CHECK(err[0] != '\0');
        run_stream(NULL, data, size);
        asc_pool_destroy(pool);
        return 0;
    }
    check_request(pool, &req);

    /* the request's own text and calls, echoed as an answer */
    asc_chat_resp_t r;
    memset(&r, 0, sizeof r);
    r.id = req.model;
    r.finish = (asc_finish_t)(size % 7);
    for (size_t i = 0; i < req.nmsgs; i++) {
        const asc_msg_t *m = &req.msgs[i];
        if (r.text.p == NULL && m->nparts > 0 && m->parts[0].type == ASC_PART_TEXT)
            r.text = m->parts[0].text;
        if (r.ntool_calls == 0 && m->ntool_calls > 0) {
            r.tool_calls = m->tool_calls;
            r.ntool_calls = m->ntool_calls;
        }
    }
    asc_buf_t out;
    asc_buf_init(&out, 0);
    D->encode_response(&r, "fuzz-model", &out);
    check_json(out.data, out.len);
    asc_buf_clear(&out);
    asc_api_responses_encode(&r, "fuzz-model", &req, &out);
    check_json(out.data, out.len);
    asc_buf_clear(&out);
    D->error_body(400, "invalid_request", err, &out);
    check_json(out.data, out.len);
    asc_buf_free(&out);

    run_stream(&req, data, size);
    asc_pool_destroy(pool);
    return 0;
}

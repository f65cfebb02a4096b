/*
 * libFuzzer target for the OpenAI-dialect upstream decoders
 * (asc_adapter_openai's decode_chat and decode_stream; the same code serves
 * openai-compatible and mistral).
 *
 * The input is read twice: whole, as a complete response body; then split
 * at '\n' into SSE data payloads fed one by one to the stream decoder (a
 * leading '!' on a line passes the SSE event name "error"). Every emitted
 * event is checked against the canonical stream contract: START at most
 * once and before content, tool indexes started before their arguments and
 * within the state's bound, nothing after FINISH but USAGE / DONE, nothing
 * at all after DONE or ERROR, every string readable. Any broken rule
 * aborts.
 *
 * Build: clang -fsanitize=fuzzer,address,undefined (see scripts/fuzz.sh).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "provider/adapter.h"
#include "provider/openai_canon.h"

#define CHECK(c)                                                                                   \
    do {                                                                                           \
        if (!(c)) {                                                                                \
            fprintf(stderr, "openai_upstream_fuzz: check failed at line %d: %s\n", __LINE__, #c);  \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct {
    int started, finished, ended;
    unsigned char opened[ASC_OAI_MAX_STREAM_TOOLS];
    unsigned sum;
} seen_t;

static void touch(seen_t *s, asc_str_t x)
{
    CHECK(x.p != NULL || x.n == 0);
    for (size_t i = 0; i < x.n; i++)
        s->sum += (unsigned char)x.p[i];
}

static int on_event(void *ud, const asc_sev_t *ev)
{
    seen_t *s = ud;
    CHECK(!s->ended);
    switch (ev->type) {
    case ASC_SEV_START:
        CHECK(!s->started);
        s->started = 1;
        touch(s, ev->id);
        CHECK(ev->id.n > 0);
        touch(s, ev->model);
        break;
    case ASC_SEV_TEXT:
        CHECK(s->started && !s->finished);
        CHECK(ev->text.n > 0);
        touch(s, ev->text);
        break;
    case ASC_SEV_TOOL_START:
        CHECK(s->started && !s->finished);
        CHECK(ev->tool_index >= 0 && ev->tool_index < ASC_OAI_MAX_STREAM_TOOLS);
        CHECK(!s->opened[ev->tool_index]);
        /* canonical indexes are handed out in order */
        CHECK(ev->tool_index == 0 || s->opened[ev->tool_index - 1]);
        s->opened[ev->tool_index] = 1;
        touch(s, ev->tool_id);
        CHECK(ev->tool_id.n > 0);
        touch(s, ev->tool_name);
        break;
    case ASC_SEV_TOOL_ARGS:
        CHECK(s->started && !s->finished);
        CHECK(ev->tool_index >= 0 && ev->tool_index < ASC_OAI_MAX_STREAM_TOOLS);
        CHECK(s->opened[ev->tool_index]);
        CHECK(ev->text.n > 0);
        touch(s, ev->text);
        break;
    case ASC_SEV_FINISH:
        CHECK(s->started && !s->finished);
        CHECK(ev->finish >= ASC_FINISH_STOP && ev->finish <= ASC_FINISH_PAUSE);
        s->finished = 1;
        break;
    case ASC_SEV_USAGE:
        CHECK(s->finished);
        CHECK(ev->usage.input_tokens >= 0 && ev->usage.output_tokens >= 0);
        CHECK(ev->usage.cached_tokens >= 0 && ev->usage.cached_tokens <= ev->usage.input_tokens);
        break;
    case ASC_SEV_DONE:
        CHECK(s->started && s->finished);
        s->ended = 1;
        break;
    case ASC_SEV_ERROR:
        CHECK(ev->error_status == 429 || ev->error_status == 503 || ev->error_status == 502);
        CHECK(ev->error_code != NULL);
        touch(s, ev->error_message);
        CHECK(ev->error_message.n > 0);
        s->ended = 1;
        break;
    default: CHECK(0);
    }
    return 0;
}

static void check_resp(const asc_chat_resp_t *r)
{
    seen_t s;
    memset(&s, 0, sizeof s);
    touch(&s, r->id);
    CHECK(r->id.n > 0);
    touch(&s, r->model);
    touch(&s, r->text);
    touch(&s, r->refusal);
    CHECK(r->ntool_calls == 0 || r->tool_calls != NULL);
    for (size_t i = 0; i < r->ntool_calls; i++) {
        touch(&s, r->tool_calls[i].id);
        CHECK(r->tool_calls[i].id.n > 0);
        touch(&s, r->tool_calls[i].name);
        touch(&s, r->tool_calls[i].arguments);
        CHECK(r->tool_calls[i].arguments.n > 0);
    }
    CHECK(r->finish >= ASC_FINISH_STOP && r->finish <= ASC_FINISH_PAUSE);
    CHECK(r->ntool_calls == 0 || r->finish != ASC_FINISH_STOP);
    CHECK(r->usage.cached_tokens <= r->usage.input_tokens);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const asc_adapter_t *a = &asc_adapter_openai;
    asc_pool_t *pool = asc_pool_create(1 << 20);
    asc_chat_resp_t r;
    /* a copy without a NUL after it, so reading past the end is caught */
    char *text = malloc(size ? size : 1);
    memcpy(text, data, size);
    asc_err_t rc = a->decode_chat(pool, text, size, &r);
    CHECK(rc == ASC_OK || rc == ASC_EINVAL || rc == ASC_EUPSTREAM || rc == ASC_ETOOBIG);
    if (rc == ASC_OK)
        check_resp(&r);
    asc_pool_reset(pool);

    asc_oai_stream_t *st = calloc(1, a->stream_state_size);
    seen_t s;
    memset(&s, 0, sizeof s);
    size_t i = 0;
    while (i <= size) {
        size_t j = i;
        while (j < size && text[j] != '\n')
            j++;
        const char *ev = NULL;
        size_t off = i;
        if (off < j && text[off] == '!') {
            ev = "error";
            off++;
        }
        char *line = malloc(j - off ? j - off : 1);
        memcpy(line, text + off, j - off);
        rc = a->decode_stream(st, pool, ev, line, j - off, on_event, &s);
        free(line);
        CHECK(rc == ASC_OK || rc == ASC_EINVAL);
        asc_pool_reset(pool);
        i = j + 1;
    }
    free(st);
    free(text);
    asc_pool_destroy(pool);
    return 0;
}

/* The mock's pure parts: behaviour parameters, generated text, tool
 * arguments, the dialect parsers and builders, embeddings, the request log.
 * Expected values come from the contract (docs/mock.md), not from the code. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pthread.h>

#include <cmocka.h>

#include "mock/mock_int.h"

static const char LOREM16[] = "Lorem ipsum dolor sit amet consectetur adipiscing elit sed do "
                              "eiusmod tempor incididunt ut labore et";

typedef struct {
    asc_pool_t *pool;
    asc_buf_t out, err;
    asc_mock_chat_t c;
    asc_mock_params_t hdr;
    cJSON *root;
} fx_t;

static int fx_setup(void **state)
{
    fx_t *f = calloc(1, sizeof *f);
    f->pool = asc_pool_create(0);
    asc_buf_init(&f->out, 0);
    asc_buf_init(&f->err, 0);
    asc_mock_params_default(&f->hdr);
    f->hdr.set = 0;
    *state = f;
    return 0;
}

static int fx_teardown(void **state)
{
    fx_t *f = *state;
    cJSON_Delete(f->root);
    asc_buf_free(&f->out);
    asc_buf_free(&f->err);
    asc_pool_destroy(f->pool);
    free(f);
    return 0;
}

/* Parse json as a chat request of dialect d; returns the status (0 = ok). */
static int chat(fx_t *f, const asc_mock_dialect_t *d, const char *json)
{
    cJSON_Delete(f->root);
    f->root = cJSON_Parse(json);
    assert_non_null(f->root);
    memset(&f->c, 0, sizeof f->c);
    f->c.d = d;
    asc_buf_clear(&f->err);
    int st = d->chat_parse(&f->c, f->root, &f->hdr, f->pool, &f->err);
    /* As in the engine, the parsed request dies before the answer is built. */
    cJSON_Delete(f->root);
    f->root = NULL;
    f->c.seq = 42;
    f->c.created = 1700000000;
    return st;
}

/* ---- params -------------------------------------------------------------- */

static void test_params_model(void **state)
{
    (void)state;
    asc_mock_params_t p;
    char err[256];
    size_t nl = 0;
    const char *m = "mock-fast@tokens=5,fault=429,retry_after=7,fault_rate=0.25";
    asc_mock_params_default(&p);
    assert_int_equal(p.tokens, 16);
    assert_int_equal(p.chunk, 1);
    assert_int_equal(p.fault_after, 3);
    assert_int_equal(p.dims, 8);
    assert_int_equal(p.retry_after, 1);
    assert_int_equal(p.tool_calls, 1);
    assert_int_equal(asc_mock_params_model(&p, m, strlen(m), &nl, err, sizeof err), ASC_OK);
    assert_int_equal(nl, 9);
    assert_int_equal(p.tokens, 5);
    assert_int_equal(p.fault, ASC_MOCK_FAULT_429);
    assert_int_equal(p.retry_after, 7);
    assert_true(fabs(p.fault_rate - 0.25) < 1e-9);
    assert_true(p.set & ASC_MOCK_P_TOKENS);
    assert_false(p.set & ASC_MOCK_P_DIMS);

    /* No '@': the whole string is the name. */
    asc_mock_params_default(&p);
    assert_int_equal(asc_mock_params_model(&p, "gpt-4o", 6, &nl, err, sizeof err), ASC_OK);
    assert_int_equal(nl, 6);
    assert_int_equal(p.set, 0);

    const char *bad[] = {"m@nope=1",  "m@tokens=-1",     "m@tokens=x",     "m@tokens",
                         "m@chunk=0", "m@fault=418",     "m@fault_rate=2", "m@tokens=99999999999",
                         "m@dims=0",  "m@latency_ms=1e3"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        asc_mock_params_default(&p);
        err[0] = '\0';
        assert_int_equal(asc_mock_params_model(&p, bad[i], strlen(bad[i]), &nl, err, sizeof err),
                         ASC_EINVAL);
        assert_true(strlen(err) > 0);
    }
}

static void test_params_headers_override(void **state)
{
    (void)state;
    asc_mock_params_t p, hdr;
    char err[256];
    size_t nl;
    asc_http_header_t h[] = {
        {"Content-Type", 12, "application/json", 16},
        {"X-Mock-Fault", 12, "500", 3},
        {"x-mock-fault-after", 18, "2", 1},
        {"x-mock-ttft_ms", 14, "15", 2},
    };
    asc_mock_params_default(&hdr);
    hdr.set = 0;
    assert_int_equal(asc_mock_params_headers(&hdr, h, 4, err, sizeof err), ASC_OK);
    asc_mock_params_default(&p);
    const char *m = "x@fault=429,tokens=4,fault_after=9";
    assert_int_equal(asc_mock_params_model(&p, m, strlen(m), &nl, err, sizeof err), ASC_OK);
    asc_mock_params_overlay(&p, &hdr);
    assert_int_equal(p.fault, ASC_MOCK_FAULT_500); /* header wins */
    assert_int_equal(p.fault_after, 2);
    assert_int_equal(p.ttft_ms, 15);
    assert_int_equal(p.tokens, 4); /* from the model name */

    asc_http_header_t bad = {"x-mock-bogus", 12, "1", 1};
    asc_mock_params_default(&hdr);
    assert_int_equal(asc_mock_params_headers(&hdr, &bad, 1, err, sizeof err), ASC_EINVAL);
    asc_http_header_t none = {"x-mock-fault", 12, "none", 4};
    asc_mock_params_default(&hdr);
    hdr.set = 0;
    assert_int_equal(asc_mock_params_headers(&hdr, &none, 1, err, sizeof err), ASC_OK);
    asc_mock_params_overlay(&p, &hdr);
    assert_int_equal(p.fault, ASC_MOCK_FAULT_NONE);
}

/* ---- text ------------------------------------------------------------------ */

static void test_text(void **state)
{
    (void)state;
    asc_buf_t b;
    asc_buf_init(&b, 0);
    asc_mock_text_append(&b, 0, 16);
    assert_string_equal(b.data, LOREM16);
    asc_buf_clear(&b);
    asc_mock_text_append(&b, 14, 4);
    assert_string_equal(b.data, " labore et Lorem ipsum");
    asc_buf_clear(&b);
    asc_mock_text_append(&b, 0, 1);
    assert_string_equal(b.data, "Lorem");
    asc_buf_clear(&b);
    asc_mock_text_append(&b, 0, 0);
    assert_int_equal(b.len, 0);

    /* Chunks concatenate to the whole text, whatever the split. */
    asc_buf_t whole;
    asc_buf_init(&whole, 0);
    asc_mock_text_append(&whole, 0, 100);
    for (uint32_t chunk = 1; chunk <= 7; chunk++) {
        asc_buf_clear(&b);
        for (uint32_t i = 0; i < 100; i += chunk) {
            uint32_t n = 100 - i < chunk ? 100 - i : chunk;
            size_t before = b.len;
            asc_mock_text_append(&b, i, n);
            assert_int_equal(b.len - before, asc_mock_text_len(i, n));
        }
        assert_int_equal(b.len, whole.len);
        assert_memory_equal(b.data, whole.data, b.len);
    }
    /* 100 tokens are 100 words. */
    int words = 1;
    for (size_t i = 0; i < whole.len; i++)
        words += whole.data[i] == ' ';
    assert_int_equal(words, 100);
    asc_buf_free(&whole);
    asc_buf_free(&b);

    assert_int_equal(asc_mock_count_tokens(0), 1);
    assert_int_equal(asc_mock_count_tokens(1), 1);
    assert_int_equal(asc_mock_count_tokens(4), 1);
    assert_int_equal(asc_mock_count_tokens(5), 2);
    assert_int_equal(asc_mock_count_tokens(400), 100);
}

static void test_utf8_helpers(void **state)
{
    (void)state;
    asc_buf_t b;
    asc_buf_init(&b, 0);
    asc_mock_json_str_utf8(&b, "a\"\xff\xc3\xa9\n", 6);
    assert_string_equal(b.data, "a\\\"\\ufffd\xc3\xa9\\n");
    /* "aaaaaaé": an 8-byte cut would split é (bytes 7-8). */
    assert_int_equal(asc_mock_utf8_cut("aaaaaaa\xc3\xa9", 9, 8), 7);
    assert_int_equal(asc_mock_utf8_cut("abc", 3, 8), 3);
    char id[10], prev[10] = "";
    for (uint64_t n = 1; n < 2000; n++) {
        asc_mock_id9(n, id);
        assert_int_equal(strlen(id), 9);
        for (int i = 0; i < 9; i++)
            assert_true((id[i] >= '0' && id[i] <= '9') || (id[i] >= 'a' && id[i] <= 'z') ||
                        (id[i] >= 'A' && id[i] <= 'Z'));
        assert_string_not_equal(id, prev);
        memcpy(prev, id, 10);
    }
    assert_true(asc_mock_contains_ci("Please use a TOOL now", 21, "tool", 4));
    assert_false(asc_mock_contains_ci("nothing here", 12, "tool", 4));
    asc_buf_free(&b);
}

/* ---- tool arguments ------------------------------------------------------ */

static void test_tool_args(void **state)
{
    (void)state;
    cJSON *schema = cJSON_Parse(
        "{\"type\":\"object\",\"properties\":{\"a\":{\"type\":\"string\"},\"b\":{\"type\":"
        "\"integer\"},\"c\":{\"type\":\"boolean\"},\"d\":{\"type\":\"array\"},\"e\":{\"type\":"
        "\"object\"},\"g\":{\"type\":[\"null\",\"number\"]},\"opt\":{\"type\":\"string\"}},"
        "\"required\":[\"a\",\"b\",\"c\",\"d\",\"e\",\"f\",\"g\"]}");
    asc_buf_t b;
    asc_buf_init(&b, 0);
    asc_mock_tool_args(&b, schema);
    assert_string_equal(
        b.data, "{\"a\":\"test\",\"b\":1,\"c\":true,\"d\":[],\"e\":{},\"f\":\"test\",\"g\":1}");
    asc_buf_clear(&b);
    asc_mock_tool_args(&b, NULL);
    assert_string_equal(b.data, "{}");
    cJSON_Delete(schema);
    asc_buf_free(&b);
}

/* ---- OpenAI ---------------------------------------------------------------- */

static cJSON *parse_out(const asc_buf_t *b)
{
    cJSON *j = cJSON_ParseWithLength(b->data, b->len);
    assert_non_null(j);
    return j;
}

static const char *jstr(const cJSON *o, const char *path)
{
    /* path: "a.b.0.c" */
    char buf[128];
    snprintf(buf, sizeof buf, "%s", path);
    const cJSON *x = o;
    for (char *tok = strtok(buf, "."); tok && x; tok = strtok(NULL, ".")) {
        if (cJSON_IsArray(x))
            x = cJSON_GetArrayItem(x, atoi(tok));
        else
            x = cJSON_GetObjectItemCaseSensitive(x, tok);
    }
    return cJSON_IsString(x) ? x->valuestring : NULL;
}

static double jnum(const cJSON *o, const char *path)
{
    char buf[128];
    snprintf(buf, sizeof buf, "%s", path);
    const cJSON *x = o;
    for (char *tok = strtok(buf, "."); tok && x; tok = strtok(NULL, ".")) {
        if (cJSON_IsArray(x))
            x = cJSON_GetArrayItem(x, atoi(tok));
        else
            x = cJSON_GetObjectItemCaseSensitive(x, tok);
    }
    assert_true(cJSON_IsNumber(x));
    return x->valuedouble;
}

static void test_openai_body(void **state)
{
    fx_t *f = *state;
    /* "Be brief." (9 bytes) + "hello there" (11) = 20 bytes = 5 tokens. */
    assert_int_equal(chat(f, &asc_mock_openai,
                          "{\"model\":\"mock-fast@tokens=5\",\"messages\":[{\"role\":\"system\","
                          "\"content\":\"Be brief.\"},{\"role\":\"user\",\"content\":[{\"type\":"
                          "\"text\",\"text\":\"hello there\"}]}],\"temperature\":0.2}"),
                     0);
    assert_int_equal(f->c.prompt_tokens, 5);
    assert_int_equal(f->c.out_tokens, 5);
    assert_false(f->c.stream);
    asc_mock_openai.body(&f->out, &f->c);
    cJSON *j = parse_out(&f->out);
    assert_string_equal(jstr(j, "id"), "chatcmpl-mock42");
    assert_string_equal(jstr(j, "object"), "chat.completion");
    assert_string_equal(jstr(j, "model"), "mock-fast");
    assert_non_null(jstr(j, "system_fingerprint"));
    assert_string_equal(jstr(j, "choices.0.message.role"), "assistant");
    assert_string_equal(jstr(j, "choices.0.message.content"), "Lorem ipsum dolor sit amet");
    assert_string_equal(jstr(j, "choices.0.finish_reason"), "stop");
    assert_true(cJSON_IsNull(
        cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(j, "choices"), 0), "logprobs")));
    assert_int_equal((int)jnum(j, "created"), 1700000000);
    assert_int_equal((int)jnum(j, "usage.prompt_tokens"), 5);
    assert_int_equal((int)jnum(j, "usage.completion_tokens"), 5);
    assert_int_equal((int)jnum(j, "usage.total_tokens"), 10);
    cJSON_Delete(j);
}

static void test_openai_max_tokens(void **state)
{
    fx_t *f = *state;
    assert_int_equal(chat(f, &asc_mock_openai,
                          "{\"model\":\"m\",\"max_tokens\":3,\"messages\":[{\"role\":\"user\","
                          "\"content\":\"hi\"}]}"),
                     0);
    asc_mock_openai.body(&f->out, &f->c);
    cJSON *j = parse_out(&f->out);
    assert_string_equal(jstr(j, "choices.0.message.content"), "Lorem ipsum dolor");
    assert_string_equal(jstr(j, "choices.0.finish_reason"), "length");
    assert_int_equal((int)jnum(j, "usage.completion_tokens"), 3);
    cJSON_Delete(j);
    /* max_completion_tokens wins over max_tokens. */
    assert_int_equal(chat(f, &asc_mock_openai,
                          "{\"model\":\"m\",\"max_tokens\":3,\"max_completion_tokens\":20,"
                          "\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}"),
                     0);
    assert_int_equal(f->c.out_tokens, 16);
    assert_false(f->c.length_cut);
}

static void expect_error(fx_t *f, const asc_mock_dialect_t *d, const char *json, int status,
                         const char *needle)
{
    int st = chat(f, d, json);
    assert_int_equal(st, status);
    if (strstr(f->err.data, needle) == NULL)
        fail_msg("error body %s lacks \"%s\"", f->err.data, needle);
    cJSON *j = parse_out(&f->err);
    cJSON_Delete(j);
}

static void test_openai_validation(void **state)
{
    fx_t *f = *state;
    expect_error(f, &asc_mock_openai,
                 "{\"model\":\"m\",\"foo\":1,\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}",
                 400, "Unrecognized request argument supplied: foo");
    expect_error(f, &asc_mock_openai, "{\"model\":\"m\"}", 400,
                 "Missing required parameter: 'messages'");
    expect_error(f, &asc_mock_openai, "{\"model\":\"m\",\"messages\":[]}", 400, "empty array");
    expect_error(f, &asc_mock_openai, "{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}", 400,
                 "model");
    expect_error(f, &asc_mock_openai,
                 "{\"model\":\"m\",\"messages\":[{\"role\":\"wizard\",\"content\":\"x\"}]}", 400,
                 "wizard");
    expect_error(f, &asc_mock_openai,
                 "{\"model\":\"m\",\"stream_options\":{\"include_usage\":true},\"messages\":[{"
                 "\"role\":\"user\",\"content\":\"x\"}]}",
                 400, "stream_options");
    expect_error(
        f, &asc_mock_openai,
        "{\"model\":\"m@tokens=abc\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}", 400,
        "tokens");
    /* The error format: {"error":{"message","type","param","code"}}. */
    cJSON *j = parse_out(&f->err);
    assert_string_equal(jstr(j, "error.type"), "invalid_request_error");
    assert_non_null(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "error"), "param"));
    assert_non_null(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "error"), "code"));
    cJSON_Delete(j);
}

/* Split SSE "data: ...\n\n" events; returns the count, datas in out[]. */
static int sse_datas(const char *s, char out[][4096], int max)
{
    int n = 0;
    while (*s && n < max) {
        const char *d = strstr(s, "data: ");
        if (d == NULL)
            break;
        d += 6;
        const char *e = strstr(d, "\n\n");
        assert_non_null(e);
        size_t l = (size_t)(e - d);
        assert_true(l < 4096);
        memcpy(out[n], d, l);
        out[n][l] = '\0';
        n++;
        s = e + 2;
    }
    return n;
}

static void test_openai_stream_chunks(void **state)
{
    fx_t *f = *state;
    static char ev[64][4096];
    assert_int_equal(chat(f, &asc_mock_openai,
                          "{\"model\":\"mock@tokens=3\",\"stream\":true,\"stream_options\":{"
                          "\"include_usage\":true},\"messages\":[{\"role\":\"user\",\"content\":"
                          "\"hi\"}]}"),
                     0);
    assert_true(f->c.stream);
    assert_true(f->c.include_usage);
    asc_mock_openai.head(&f->out, &f->c);
    for (uint32_t i = 0; i < 3; i++) {
        asc_mock_unit_t u = {ASC_MOCK_U_TEXT, 0, i, 1};
        asc_mock_openai.unit(&f->out, &f->c, &u);
    }
    asc_mock_openai.tail(&f->out, &f->c);
    int n = sse_datas(f->out.data, ev, 64);
    /* role, 3 content, finish, usage, [DONE] */
    assert_int_equal(n, 7);
    assert_string_equal(ev[6], "[DONE]");
    for (int i = 0; i < 6; i++) {
        cJSON *j = cJSON_Parse(ev[i]);
        assert_non_null(j);
        assert_string_equal(jstr(j, "object"), "chat.completion.chunk");
        assert_string_equal(jstr(j, "id"), "chatcmpl-mock42");
        cJSON *usage = cJSON_GetObjectItem(j, "usage");
        assert_non_null(usage);
        if (i < 5)
            assert_true(cJSON_IsNull(usage));
        if (i == 0) {
            assert_string_equal(jstr(j, "choices.0.delta.role"), "assistant");
            assert_string_equal(jstr(j, "choices.0.delta.content"), "");
        } else if (i <= 3) {
            const char *want[] = {"Lorem", " ipsum", " dolor"};
            assert_string_equal(jstr(j, "choices.0.delta.content"), want[i - 1]);
            assert_true(cJSON_IsNull(cJSON_GetObjectItem(
                cJSON_GetArrayItem(cJSON_GetObjectItem(j, "choices"), 0), "finish_reason")));
        } else if (i == 4) {
            cJSON *delta = cJSON_GetObjectItem(
                cJSON_GetArrayItem(cJSON_GetObjectItem(j, "choices"), 0), "delta");
            assert_null(delta->child);
            assert_string_equal(jstr(j, "choices.0.finish_reason"), "stop");
        } else {
            assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(j, "choices")), 0);
            assert_int_equal((int)jnum(j, "usage.completion_tokens"), 3);
            assert_int_equal((int)jnum(j, "usage.prompt_tokens"), 1);
        }
        cJSON_Delete(j);
    }
}

static const char TOOLS_OAI[] =
    "\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"get_weather\",\"parameters\":{"
    "\"type\":\"object\",\"properties\":{\"location\":{\"type\":\"string\"},\"days\":{\"type\":"
    "\"integer\"}},\"required\":[\"location\",\"days\"]}}},{\"type\":\"function\",\"function\":{"
    "\"name\":\"get_time\",\"parameters\":{\"type\":\"object\",\"properties\":{}}}}]";

static void test_openai_tools(void **state)
{
    fx_t *f = *state;
    char req[2048];
    static char ev[64][4096];
    /* Mentioning a tool name calls that tool. */
    snprintf(req, sizeof req,
             "{\"model\":\"m\",%s,\"messages\":[{\"role\":\"user\",\"content\":\"what does "
             "get_weather say?\"}]}",
             TOOLS_OAI);
    assert_int_equal(chat(f, &asc_mock_openai, req), 0);
    assert_int_equal(f->c.ncalls, 1);
    assert_memory_equal(f->c.calls[0].name, "get_weather", 11);
    assert_string_equal(f->c.calls[0].args, "{\"location\":\"test\",\"days\":1}");
    assert_memory_equal(f->c.calls[0].id, "call_mock", 9);
    asc_mock_openai.body(&f->out, &f->c);
    cJSON *j = parse_out(&f->out);
    assert_string_equal(jstr(j, "choices.0.finish_reason"), "tool_calls");
    assert_string_equal(jstr(j, "choices.0.message.tool_calls.0.function.name"), "get_weather");
    assert_string_equal(jstr(j, "choices.0.message.tool_calls.0.function.arguments"),
                        "{\"location\":\"test\",\"days\":1}");
    assert_string_equal(jstr(j, "choices.0.message.tool_calls.0.type"), "function");
    assert_true(cJSON_IsNull(cJSON_GetObjectItem(
        cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(j, "choices"), 0), "message"),
        "content")));
    cJSON_Delete(j);

    /* Streamed: first delta index,id,type,name,arguments "", then <= 8-byte fragments. */
    uint32_t nu = 0;
    asc_mock_unit_t *u = asc_mock_openai.tool_units(&f->c, f->pool, &nu);
    assert_true(nu >= 2);
    asc_buf_clear(&f->out);
    for (uint32_t i = 0; i < nu; i++)
        asc_mock_openai.unit(&f->out, &f->c, &u[i]);
    int n = sse_datas(f->out.data, ev, 64);
    assert_int_equal(n, (int)nu);
    char args[256] = "";
    for (int i = 0; i < n; i++) {
        j = cJSON_Parse(ev[i]);
        assert_non_null(j);
        const char *frag = jstr(j, "choices.0.delta.tool_calls.0.function.arguments");
        assert_non_null(frag);
        assert_int_equal((int)jnum(j, "choices.0.delta.tool_calls.0.index"), 0);
        if (i == 0) {
            assert_string_equal(frag, "");
            assert_string_equal(jstr(j, "choices.0.delta.tool_calls.0.function.name"),
                                "get_weather");
            assert_non_null(jstr(j, "choices.0.delta.tool_calls.0.id"));
            assert_string_equal(jstr(j, "choices.0.delta.tool_calls.0.type"), "function");
        } else {
            assert_true(strlen(frag) >= 1 && strlen(frag) <= 8);
            assert_null(jstr(j, "choices.0.delta.tool_calls.0.id"));
        }
        strcat(args, frag);
        cJSON_Delete(j);
    }
    assert_string_equal(args, "{\"location\":\"test\",\"days\":1}");

    /* "tool" in the text, tool_calls=3: three calls over the tools, distinct ids. */
    snprintf(req, sizeof req,
             "{\"model\":\"m@tool_calls=3\",%s,\"messages\":[{\"role\":\"user\",\"content\":"
             "\"Use a Tool please\"}]}",
             TOOLS_OAI);
    assert_int_equal(chat(f, &asc_mock_openai, req), 0);
    assert_int_equal(f->c.ncalls, 3);
    assert_string_not_equal(f->c.calls[0].id, f->c.calls[1].id);
    assert_memory_equal(f->c.calls[1].name, "get_time", 8);
    assert_string_equal(f->c.calls[1].args, "{}");
    /* ... unless parallel_tool_calls is false. */
    snprintf(req, sizeof req,
             "{\"model\":\"m@tool_calls=3\",\"parallel_tool_calls\":false,%s,\"messages\":[{"
             "\"role\":\"user\",\"content\":\"Use a Tool please\"}]}",
             TOOLS_OAI);
    assert_int_equal(chat(f, &asc_mock_openai, req), 0);
    assert_int_equal(f->c.ncalls, 1);

    /* No mention and auto: text. */
    snprintf(req, sizeof req,
             "{\"model\":\"m\",%s,\"messages\":[{\"role\":\"user\",\"content\":\"hello\"}]}",
             TOOLS_OAI);
    assert_int_equal(chat(f, &asc_mock_openai, req), 0);
    assert_int_equal(f->c.ncalls, 0);
    /* required: a call anyway; named: that function. */
    snprintf(req, sizeof req,
             "{\"model\":\"m\",%s,\"tool_choice\":\"required\",\"messages\":[{\"role\":\"user\","
             "\"content\":\"hello\"}]}",
             TOOLS_OAI);
    assert_int_equal(chat(f, &asc_mock_openai, req), 0);
    assert_int_equal(f->c.ncalls, 1);
    snprintf(req, sizeof req,
             "{\"model\":\"m\",%s,\"tool_choice\":{\"type\":\"function\",\"function\":{\"name\":"
             "\"get_time\"}},\"messages\":[{\"role\":\"user\",\"content\":\"get_weather\"}]}",
             TOOLS_OAI);
    assert_int_equal(chat(f, &asc_mock_openai, req), 0);
    assert_int_equal(f->c.ncalls, 1);
    assert_memory_equal(f->c.calls[0].name, "get_time", 8);
    snprintf(req, sizeof req,
             "{\"model\":\"m\",%s,\"tool_choice\":{\"type\":\"function\",\"function\":{\"name\":"
             "\"nope\"}},\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}",
             TOOLS_OAI);
    assert_int_equal(chat(f, &asc_mock_openai, req), 400);
    /* none: never. */
    snprintf(req, sizeof req,
             "{\"model\":\"m\",%s,\"tool_choice\":\"none\",\"messages\":[{\"role\":\"user\","
             "\"content\":\"use the tool get_weather\"}]}",
             TOOLS_OAI);
    assert_int_equal(chat(f, &asc_mock_openai, req), 0);
    assert_int_equal(f->c.ncalls, 0);
    /* A tool result last: a text answer. */
    snprintf(req, sizeof req,
             "{\"model\":\"m\",%s,\"messages\":[{\"role\":\"user\",\"content\":\"use the tool\"},"
             "{\"role\":\"assistant\",\"content\":null,\"tool_calls\":[{\"id\":\"call_1\",\"type\":"
             "\"function\",\"function\":{\"name\":\"get_time\",\"arguments\":\"{}\"}}]},{\"role\":"
             "\"tool\",\"tool_call_id\":\"call_1\",\"content\":\"12:00\"}]}",
             TOOLS_OAI);
    assert_int_equal(chat(f, &asc_mock_openai, req), 0);
    assert_int_equal(f->c.ncalls, 0);
    assert_int_equal(f->c.out_tokens, 16);
}

/* ---- Anthropic ------------------------------------------------------------- */

static void test_anthropic_validation(void **state)
{
    fx_t *f = *state;
    expect_error(f, &asc_mock_anthropic,
                 "{\"model\":\"c\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}", 400,
                 "max_tokens: Field required");
    expect_error(f, &asc_mock_anthropic,
                 "{\"model\":\"c\",\"max_tokens\":1.5,\"messages\":[{\"role\":\"user\",\"content\":"
                 "\"x\"}]}",
                 400, "max_tokens");
    expect_error(f, &asc_mock_anthropic,
                 "{\"model\":\"c\",\"max_tokens\":10,\"stream_options\":{},\"messages\":[{\"role\":"
                 "\"user\",\"content\":\"x\"}]}",
                 400, "stream_options: Extra inputs are not permitted");
    expect_error(
        f, &asc_mock_anthropic,
        "{\"model\":\"c\",\"max_tokens\":10,\"messages\":[{\"role\":\"system\",\"content\":"
        "\"x\"}]}",
        400, "messages.0.role: Input should be 'user' or 'assistant'");
    expect_error(
        f, &asc_mock_anthropic,
        "{\"model\":\"c\",\"max_tokens\":10,\"messages\":[{\"role\":\"user\",\"content\":[{"
        "\"type\":\"text\",\"text\":\"x\",\"bogus\":1}]}]}",
        400, "messages.0.content.0.text.bogus: Extra inputs are not permitted");
    cJSON *j = parse_out(&f->err);
    assert_string_equal(jstr(j, "type"), "error");
    assert_string_equal(jstr(j, "error.type"), "invalid_request_error");
    cJSON_Delete(j);
}

static void test_anthropic_body_and_events(void **state)
{
    fx_t *f = *state;
    static char ev[64][4096];
    /* system "Be brief." (9) + "hello there" (11) = 20 bytes = 5 tokens. */
    assert_int_equal(chat(f, &asc_mock_anthropic,
                          "{\"model\":\"claude-x@tokens=4\",\"max_tokens\":2,\"system\":[{\"type\":"
                          "\"text\",\"text\":\"Be brief.\"}],\"messages\":[{\"role\":\"user\","
                          "\"content\":\"hello there\"}],\"stream\":true}"),
                     0);
    assert_int_equal(f->c.prompt_tokens, 5);
    asc_mock_anthropic.body(&f->out, &f->c);
    cJSON *j = parse_out(&f->out);
    assert_string_equal(jstr(j, "type"), "message");
    assert_string_equal(jstr(j, "model"), "claude-x");
    assert_string_equal(jstr(j, "content.0.type"), "text");
    assert_string_equal(jstr(j, "content.0.text"), "Lorem ipsum");
    assert_string_equal(jstr(j, "stop_reason"), "max_tokens");
    assert_int_equal((int)jnum(j, "usage.input_tokens"), 5);
    assert_int_equal((int)jnum(j, "usage.output_tokens"), 2);
    cJSON_Delete(j);

    asc_buf_clear(&f->out);
    asc_mock_anthropic.head(&f->out, &f->c);
    for (uint32_t i = 0; i < 2; i++) {
        asc_mock_unit_t u = {ASC_MOCK_U_TEXT, 0, i, 1};
        asc_mock_anthropic.unit(&f->out, &f->c, &u);
    }
    asc_mock_anthropic.tail(&f->out, &f->c);
    const char *want[] = {"message_start",       "content_block_start", "ping",
                          "content_block_delta", "content_block_delta", "content_block_stop",
                          "message_delta",       "message_stop"};
    /* Each "event: X" line matches its data's type. */
    const char *s = f->out.data;
    int n = sse_datas(f->out.data, ev, 64);
    assert_int_equal(n, 8);
    for (int i = 0; i < n; i++) {
        char line[64];
        snprintf(line, sizeof line, "event: %s\ndata: ", want[i]);
        s = strstr(s, line);
        assert_non_null(s);
        j = cJSON_Parse(ev[i]);
        assert_non_null(j);
        assert_string_equal(jstr(j, "type"), want[i]);
        if (i == 6) {
            assert_string_equal(jstr(j, "delta.stop_reason"), "max_tokens");
            assert_int_equal((int)jnum(j, "usage.output_tokens"), 2);
        }
        cJSON_Delete(j);
    }
}

static const char TOOLS_ANTH[] =
    "\"tools\":[{\"name\":\"get_weather\",\"input_schema\":{\"type\":\"object\",\"properties\":{"
    "\"city\":{\"type\":\"string\"},\"metric\":{\"type\":\"boolean\"}},\"required\":[\"city\","
    "\"metric\"]}}]";

static void test_anthropic_tools(void **state)
{
    fx_t *f = *state;
    static char ev[64][4096];
    char req[2048];
    snprintf(req, sizeof req,
             "{\"model\":\"c\",\"max_tokens\":100,%s,\"messages\":[{\"role\":\"user\",\"content\":"
             "[{\"type\":\"text\",\"text\":\"weather? use the tool\"}]}]}",
             TOOLS_ANTH);
    assert_int_equal(chat(f, &asc_mock_anthropic, req), 0);
    assert_int_equal(f->c.ncalls, 1);
    assert_memory_equal(f->c.calls[0].id, "toolu_mock", 10);
    asc_mock_anthropic.body(&f->out, &f->c);
    cJSON *j = parse_out(&f->out);
    assert_string_equal(jstr(j, "stop_reason"), "tool_use");
    assert_string_equal(jstr(j, "content.0.type"), "tool_use");
    assert_string_equal(jstr(j, "content.0.name"), "get_weather");
    assert_string_equal(jstr(j, "content.0.input.city"), "test");
    assert_true(cJSON_IsTrue(cJSON_GetObjectItem(
        cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(j, "content"), 0), "input"),
        "metric")));
    cJSON_Delete(j);

    uint32_t nu = 0;
    asc_mock_unit_t *u = asc_mock_anthropic.tool_units(&f->c, f->pool, &nu);
    asc_buf_clear(&f->out);
    for (uint32_t i = 0; i < nu; i++)
        asc_mock_anthropic.unit(&f->out, &f->c, &u[i]);
    int n = sse_datas(f->out.data, ev, 64);
    assert_true(n >= 4);
    char args[256] = "";
    for (int i = 0; i < n; i++) {
        j = cJSON_Parse(ev[i]);
        assert_non_null(j);
        if (i == 0) {
            assert_string_equal(jstr(j, "type"), "content_block_start");
            assert_string_equal(jstr(j, "content_block.type"), "tool_use");
            assert_string_equal(jstr(j, "content_block.name"), "get_weather");
            assert_null(
                cJSON_GetObjectItem(cJSON_GetObjectItem(j, "content_block"), "input")->child);
        } else if (i == n - 1) {
            assert_string_equal(jstr(j, "type"), "content_block_stop");
        } else {
            assert_string_equal(jstr(j, "delta.type"), "input_json_delta");
            const char *pj = jstr(j, "delta.partial_json");
            if (i == 1)
                assert_string_equal(pj, "");
            else
                assert_true(strlen(pj) >= 1 && strlen(pj) <= 8);
            strcat(args, pj);
        }
        cJSON_Delete(j);
    }
    assert_string_equal(args, "{\"city\":\"test\",\"metric\":true}");

    /* A tool_result last: text. */
    snprintf(req, sizeof req,
             "{\"model\":\"c\",\"max_tokens\":100,%s,\"messages\":[{\"role\":\"user\",\"content\":"
             "\"use the tool\"},{\"role\":\"assistant\",\"content\":[{\"type\":\"tool_use\",\"id\":"
             "\"toolu_1\",\"name\":\"get_weather\",\"input\":{}}]},{\"role\":\"user\",\"content\":"
             "[{\"type\":\"tool_result\",\"tool_use_id\":\"toolu_1\",\"content\":\"sunny\"}]}]}",
             TOOLS_ANTH);
    assert_int_equal(chat(f, &asc_mock_anthropic, req), 0);
    assert_int_equal(f->c.ncalls, 0);
    /* any: a call without a mention. */
    snprintf(req, sizeof req,
             "{\"model\":\"c\",\"max_tokens\":100,%s,\"tool_choice\":{\"type\":\"any\"},"
             "\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}",
             TOOLS_ANTH);
    assert_int_equal(chat(f, &asc_mock_anthropic, req), 0);
    assert_int_equal(f->c.ncalls, 1);
}

/* ---- Mistral --------------------------------------------------------------- */

static void test_mistral(void **state)
{
    fx_t *f = *state;
    static char ev[64][4096];
    expect_error(f, &asc_mock_mistral,
                 "{\"model\":\"m\",\"stream\":true,\"stream_options\":{\"include_usage\":true},"
                 "\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}",
                 422, "extra_forbidden");
    cJSON *j = parse_out(&f->err);
    assert_string_equal(jstr(j, "object"), "error");
    assert_string_equal(jstr(j, "type"), "invalid_request_error");
    assert_string_equal(jstr(j, "message.detail.0.loc.1"), "stream_options");
    assert_string_equal(jstr(j, "message.detail.0.msg"), "Extra inputs are not permitted");
    cJSON_Delete(j);
    expect_error(
        f, &asc_mock_mistral,
        "{\"model\":\"m\",\"seed\":1,\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}", 422,
        "\"seed\"");
    expect_error(
        f, &asc_mock_mistral,
        "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"x\",\"name\":\"bob\""
        "}]}",
        422, "[\"body\",\"messages\",0,\"user\",\"name\"]");
    assert_int_equal(
        chat(f, &asc_mock_mistral,
             "{\"model\":\"mistral-small@tokens=2\",\"random_seed\":3,\"stream\":true,"
             "\"messages\":[{\"role\":\"user\",\"content\":\"call get_weather\"}],"
             "\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"get_weather\","
             "\"parameters\":{\"type\":\"object\",\"properties\":{}}}}],"
             "\"tool_choice\":\"any\"}"),
        0);
    assert_int_equal(f->c.ncalls, 1);
    assert_int_equal(strlen(f->c.calls[0].id), 9);
    for (int i = 0; i < 9; i++) {
        char ch = f->c.calls[0].id[i];
        assert_true((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'z') ||
                    (ch >= 'A' && ch <= 'Z'));
    }
    /* Whole call in one chunk; the last chunk has finish_reason and usage. */
    uint32_t nu = 0;
    asc_mock_unit_t *u = asc_mock_mistral.tool_units(&f->c, f->pool, &nu);
    assert_int_equal(nu, 1);
    asc_mock_mistral.head(&f->out, &f->c);
    asc_mock_mistral.unit(&f->out, &f->c, &u[0]);
    asc_mock_mistral.tail(&f->out, &f->c);
    int n = sse_datas(f->out.data, ev, 64);
    assert_int_equal(n, 4);
    assert_string_equal(ev[3], "[DONE]");
    j = cJSON_Parse(ev[1]);
    assert_string_equal(jstr(j, "choices.0.delta.tool_calls.0.function.name"), "get_weather");
    assert_string_equal(jstr(j, "choices.0.delta.tool_calls.0.function.arguments"), "{}");
    assert_string_equal(jstr(j, "choices.0.delta.tool_calls.0.id"), f->c.calls[0].id);
    assert_null(cJSON_GetObjectItem(j, "usage"));
    cJSON_Delete(j);
    j = cJSON_Parse(ev[2]);
    assert_string_equal(jstr(j, "choices.0.finish_reason"), "tool_calls");
    assert_true(jnum(j, "usage.total_tokens") > 0);
    cJSON_Delete(j);
}

/* ---- embeddings ------------------------------------------------------------ */

static int b64val(char c)
{
    const char *tab = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    const char *p = strchr(tab, c);
    return p ? (int)(p - tab) : -1;
}

static void test_embeddings(void **state)
{
    fx_t *f = *state;
    asc_mock_params_t p;
    const char *req = "{\"model\":\"emb@dims=4\",\"input\":[\"abcd\",\"hello world\"]}";
    assert_int_equal(
        asc_mock_embed(&f->out, &asc_mock_openai, req, strlen(req), &f->hdr, &p, NULL, f->pool),
        200);
    cJSON *j = parse_out(&f->out);
    assert_string_equal(jstr(j, "object"), "list");
    assert_string_equal(jstr(j, "model"), "emb");
    /* "abcd" + "hello world" = 15 bytes = 4 tokens. */
    assert_int_equal((int)jnum(j, "usage.prompt_tokens"), 4);
    cJSON *data = cJSON_GetObjectItem(j, "data");
    assert_int_equal(cJSON_GetArraySize(data), 2);
    float v0[4], v1[4];
    for (int k = 0; k < 2; k++) {
        cJSON *e = cJSON_GetObjectItem(cJSON_GetArrayItem(data, k), "embedding");
        assert_int_equal(cJSON_GetArraySize(e), 4);
        double norm = 0;
        for (int i = 0; i < 4; i++) {
            double x = cJSON_GetArrayItem(e, i)->valuedouble;
            (k ? v1 : v0)[i] = (float)x;
            norm += x * x;
        }
        assert_true(fabs(norm - 1.0) < 1e-4);
    }
    assert_true(memcmp(v0, v1, sizeof v0) != 0);
    cJSON_Delete(j);

    /* The same input in base64 (little-endian float32) gives the same floats. */
    req = "{\"model\":\"emb@dims=4\",\"input\":\"abcd\",\"encoding_format\":\"base64\"}";
    assert_int_equal(
        asc_mock_embed(&f->out, &asc_mock_openai, req, strlen(req), &f->hdr, &p, NULL, f->pool),
        200);
    j = parse_out(&f->out);
    const char *b64 = jstr(j, "data.0.embedding");
    assert_non_null(b64);
    assert_int_equal(strlen(b64), 24); /* 16 bytes */
    unsigned char raw[18];
    size_t rn = 0;
    for (size_t i = 0; i < 24; i += 4) {
        int a = b64val(b64[i]), b = b64val(b64[i + 1]), c = b64val(b64[i + 2]),
            d = b64val(b64[i + 3]);
        uint32_t v = (uint32_t)a << 18 | (uint32_t)b << 12 | (uint32_t)(c < 0 ? 0 : c) << 6 |
                     (uint32_t)(d < 0 ? 0 : d);
        raw[rn++] = (unsigned char)(v >> 16);
        if (c >= 0)
            raw[rn++] = (unsigned char)(v >> 8);
        if (d >= 0)
            raw[rn++] = (unsigned char)v;
    }
    assert_int_equal(rn, 16);
    for (int i = 0; i < 4; i++) {
        uint32_t bits = (uint32_t)raw[4 * i] | (uint32_t)raw[4 * i + 1] << 8 |
                        (uint32_t)raw[4 * i + 2] << 16 | (uint32_t)raw[4 * i + 3] << 24;
        float x;
        memcpy(&x, &bits, 4);
        assert_true(fabsf(x - v0[i]) < 1e-6f);
    }
    cJSON_Delete(j);

    /* dimensions from the request when dims= is not given; default 8. */
    req = "{\"model\":\"emb\",\"input\":\"x\",\"dimensions\":3}";
    assert_int_equal(
        asc_mock_embed(&f->out, &asc_mock_openai, req, strlen(req), &f->hdr, &p, NULL, f->pool),
        200);
    j = parse_out(&f->out);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(
                         cJSON_GetArrayItem(cJSON_GetObjectItem(j, "data"), 0), "embedding")),
                     3);
    cJSON_Delete(j);
    req = "{\"model\":\"emb\",\"input\":[[1,2,3]]}";
    assert_int_equal(
        asc_mock_embed(&f->out, &asc_mock_openai, req, strlen(req), &f->hdr, &p, NULL, f->pool),
        200);
    j = parse_out(&f->out);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(
                         cJSON_GetArrayItem(cJSON_GetObjectItem(j, "data"), 0), "embedding")),
                     8);
    assert_int_equal((int)jnum(j, "usage.prompt_tokens"), 3);
    cJSON_Delete(j);

    /* Errors. */
    req = "{\"model\":\"emb\",\"input\":\"x\",\"bogus\":1}";
    assert_int_equal(
        asc_mock_embed(&f->out, &asc_mock_openai, req, strlen(req), &f->hdr, &p, NULL, f->pool),
        400);
    req = "{\"model\":\"emb\",\"input\":\"x\",\"dimensions\":3}";
    assert_int_equal(
        asc_mock_embed(&f->out, &asc_mock_mistral, req, strlen(req), &f->hdr, &p, NULL, f->pool),
        422);
    req = "{\"model\":\"emb\",\"input\":[]}";
    assert_int_equal(
        asc_mock_embed(&f->out, &asc_mock_openai, req, strlen(req), &f->hdr, &p, NULL, f->pool),
        400);
    req = "{not json";
    assert_int_equal(
        asc_mock_embed(&f->out, &asc_mock_openai, req, strlen(req), &f->hdr, &p, NULL, f->pool),
        400);
}

/* ---- fault=context ---------------------------------------------------- */

static void test_context_errors(void **state)
{
    (void)state;
    asc_mock_params_t p;
    char err[256];
    size_t nl;
    asc_buf_t b;
    asc_buf_init(&b, 0);
    asc_mock_params_default(&p);
    assert_int_equal(asc_mock_params_model(&p, "m@fault=context", 15, &nl, err, sizeof err),
                     ASC_OK);
    assert_int_equal(p.fault, ASC_MOCK_FAULT_CONTEXT);
    assert_string_equal(asc_mock_fault_name(ASC_MOCK_FAULT_CONTEXT), "context");

    assert_int_equal(asc_mock_openai.context_error(&b, 9000), 400);
    asc_buf_append(&b, "", 0);
    assert_string_equal(
        b.data, "{\"error\":{\"message\":\"This model's maximum context length is 8192 tokens. "
                "However, your messages resulted in 9000 tokens. Please reduce the length of the "
                "messages.\",\"type\":\"invalid_request_error\",\"param\":\"messages\","
                "\"code\":\"context_length_exceeded\"}}");
    asc_buf_clear(&b);
    assert_int_equal(asc_mock_anthropic.context_error(&b, 9000), 400);
    asc_buf_append(&b, "", 0);
    assert_string_equal(b.data, "{\"type\":\"error\",\"error\":{\"type\":\"invalid_request_error\","
                                "\"message\":\"prompt is too long: 9000 tokens > 8192 maximum\"}}");
    asc_buf_clear(&b);
    assert_int_equal(asc_mock_mistral.context_error(&b, 9000), 400);
    asc_buf_append(&b, "", 0);
    assert_string_equal(b.data,
                        "{\"object\":\"error\",\"message\":\"Prompt contains 9000 tokens and 0 "
                        "draft tokens, too large for model with 8192 maximum context length\","
                        "\"type\":\"invalid_request_error\",\"param\":null,\"code\":null}");
    asc_buf_free(&b);
}

/* ---- runtime overrides ------------------------------------------------- */

static asc_err_t ov_set(const char *name, const char *text, char *err, size_t errlen)
{
    err[0] = '\0';
    return asc_mock_override_set(name, strlen(name), text, strlen(text), err, errlen);
}

static void ov_list(asc_buf_t *out)
{
    asc_buf_clear(out);
    asc_mock_override_json(out);
    asc_buf_append(out, "", 0);
}

static void test_override_table(void **state)
{
    (void)state;
    char err[256], name[300];
    asc_buf_t out;
    asc_buf_init(&out, 0);
    asc_mock_override_clear();
    ov_list(&out);
    assert_string_equal(out.data, "{\"overrides\":{}}");

    assert_int_equal(ov_set("zeta", "fault=500,retry_after=2", err, sizeof err), ASC_OK);
    /* Surrounding whitespace and a leading '@' are ignored. */
    assert_int_equal(ov_set("alpha/x", " @fault=429\n", err, sizeof err), ASC_OK);
    ov_list(&out);
    assert_string_equal(
        out.data,
        "{\"overrides\":{\"alpha/x\":\"fault=429\",\"zeta\":\"fault=500,retry_after=2\"}}");
    /* A second PUT replaces. */
    assert_int_equal(ov_set("zeta", "fault=none", err, sizeof err), ASC_OK);
    ov_list(&out);
    assert_string_equal(out.data,
                        "{\"overrides\":{\"alpha/x\":\"fault=429\",\"zeta\":\"fault=none\"}}");

    /* Bad input leaves the table as it was. */
    assert_int_equal(ov_set("zeta", "fault=418", err, sizeof err), ASC_EINVAL);
    assert_non_null(strstr(err, "invalid value '418' for mock parameter fault"));
    assert_int_equal(ov_set("zeta", "nope=1", err, sizeof err), ASC_EINVAL);
    assert_non_null(strstr(err, "unknown mock parameter 'nope'"));
    assert_int_equal(ov_set("zeta", "tokens", err, sizeof err), ASC_EINVAL);
    assert_non_null(strstr(err, "has no value"));
    assert_int_equal(ov_set("zeta", " \r\n", err, sizeof err), ASC_EINVAL);
    assert_non_null(strstr(err, "no parameters"));
    assert_int_equal(ov_set("", "fault=500", err, sizeof err), ASC_EINVAL);
    assert_int_equal(ov_set("m@x", "fault=500", err, sizeof err), ASC_EINVAL);
    assert_non_null(strstr(err, "'@'"));
    memset(name, 'n', 257);
    name[257] = '\0';
    assert_int_equal(ov_set(name, "fault=500", err, sizeof err), ASC_EINVAL);
    assert_non_null(strstr(err, "256 bytes"));
    name[256] = '\0';
    assert_int_equal(ov_set(name, "fault=500", err, sizeof err), ASC_OK);
    assert_int_equal(asc_mock_override_del(name, 256), ASC_OK);
    static char big[ASC_MOCK_MAX_OVERRIDE_TEXT + 16];
    memset(big, ',', sizeof big - 1);
    memcpy(big, "fault=500", 9);
    assert_int_equal(ov_set("zeta", big, err, sizeof err), ASC_ETOOBIG);
    big[ASC_MOCK_MAX_OVERRIDE_TEXT] = '\0';
    assert_int_equal(ov_set("zeta", big, err, sizeof err), ASC_OK);
    assert_int_equal(ov_set("zeta", "fault=none", err, sizeof err), ASC_OK);
    ov_list(&out);
    assert_string_equal(out.data,
                        "{\"overrides\":{\"alpha/x\":\"fault=429\",\"zeta\":\"fault=none\"}}");

    /* Delete one, then a missing one. */
    assert_int_equal(asc_mock_override_del("zeta", 4), ASC_OK);
    assert_int_equal(asc_mock_override_del("zeta", 4), ASC_ENOTFOUND);
    assert_int_equal(asc_mock_override_del("alpha", 5), ASC_ENOTFOUND);
    ov_list(&out);
    assert_string_equal(out.data, "{\"overrides\":{\"alpha/x\":\"fault=429\"}}");

    /* At most ASC_MOCK_MAX_OVERRIDES names; replacing one still works. */
    for (int i = 1; i < ASC_MOCK_MAX_OVERRIDES; i++) {
        snprintf(name, sizeof name, "m%04d", i);
        assert_int_equal(ov_set(name, "tokens=1", err, sizeof err), ASC_OK);
    }
    assert_int_equal(ov_set("one-too-many", "tokens=1", err, sizeof err), ASC_ETOOBIG);
    assert_non_null(strstr(err, "too many overrides"));
    assert_int_equal(ov_set("m0001", "tokens=2", err, sizeof err), ASC_OK);
    asc_mock_override_clear();
    ov_list(&out);
    assert_string_equal(out.data, "{\"overrides\":{}}");
    asc_buf_free(&out);
}

static void test_override_precedence(void **state)
{
    fx_t *f = *state;
    char err[256];
    const char *msgs = "\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}";
    char req[256];
    asc_mock_override_clear();

    /* Override beats the model name's parameters, not the ones it does not set. */
    assert_int_equal(ov_set("ovr", "fault=503,retry_after=9", err, sizeof err), ASC_OK);
    snprintf(req, sizeof req, "{\"model\":\"ovr@fault=429,tokens=2\",%s", msgs);
    assert_int_equal(chat(f, &asc_mock_openai, req), 0);
    assert_string_equal(f->c.model, "ovr");
    assert_int_equal(f->c.p.fault, ASC_MOCK_FAULT_503);
    assert_int_equal(f->c.p.retry_after, 9);
    assert_int_equal(f->c.p.tokens, 2);
    /* Only the exact NAME matches. */
    snprintf(req, sizeof req, "{\"model\":\"ovr2@fault=429\",%s", msgs);
    assert_int_equal(chat(f, &asc_mock_openai, req), 0);
    assert_int_equal(f->c.p.fault, ASC_MOCK_FAULT_429);
    snprintf(req, sizeof req, "{\"model\":\"OVR\",%s", msgs);
    assert_int_equal(chat(f, &asc_mock_openai, req), 0);
    assert_int_equal(f->c.p.fault, ASC_MOCK_FAULT_NONE);

    /* Headers beat the override. */
    asc_http_header_t h = {"x-mock-fault", 12, "context", 7};
    assert_int_equal(asc_mock_params_headers(&f->hdr, &h, 1, err, sizeof err), ASC_OK);
    snprintf(req, sizeof req, "{\"model\":\"ovr@fault=429\",%s", msgs);
    assert_int_equal(chat(f, &asc_mock_openai, req), 0);
    assert_int_equal(f->c.p.fault, ASC_MOCK_FAULT_CONTEXT);
    assert_int_equal(f->c.p.retry_after, 9);
    asc_mock_params_default(&f->hdr);
    f->hdr.set = 0;

    /* fault=none in an override cancels the model name's fault. */
    assert_int_equal(ov_set("ovr", "fault=none", err, sizeof err), ASC_OK);
    snprintf(req, sizeof req, "{\"model\":\"ovr@fault=429,retry_after=4\",%s", msgs);
    assert_int_equal(chat(f, &asc_mock_openai, req), 0);
    assert_int_equal(f->c.p.fault, ASC_MOCK_FAULT_NONE);
    assert_int_equal(f->c.p.retry_after, 4);

    /* The same for Anthropic and embeddings, which read the model alike. */
    assert_int_equal(ov_set("ovr", "fault=context,tokens=3", err, sizeof err), ASC_OK);
    assert_int_equal(chat(f, &asc_mock_anthropic,
                          "{\"model\":\"ovr\",\"max_tokens\":9,\"messages\":[{\"role\":\"user\","
                          "\"content\":\"x\"}]}"),
                     0);
    assert_int_equal(f->c.p.fault, ASC_MOCK_FAULT_CONTEXT);
    assert_int_equal(f->c.out_tokens, 3);
    asc_mock_params_t p;
    uint32_t pt = 0;
    const char *er = "{\"model\":\"ovr\",\"input\":\"abcdefgh\"}";
    assert_int_equal(
        asc_mock_embed(&f->out, &asc_mock_openai, er, strlen(er), &f->hdr, &p, &pt, f->pool), 200);
    assert_int_equal(p.fault, ASC_MOCK_FAULT_CONTEXT);
    assert_int_equal(pt, 2);

    /* Removed: back to the model name's parameters. */
    assert_int_equal(asc_mock_override_del("ovr", 3), ASC_OK);
    snprintf(req, sizeof req, "{\"model\":\"ovr@fault=429\",%s", msgs);
    assert_int_equal(chat(f, &asc_mock_openai, req), 0);
    assert_int_equal(f->c.p.fault, ASC_MOCK_FAULT_429);
    asc_mock_override_clear();
}

/* Writers and readers of the table at once (meaningful under ASan/TSan). */
static void *ov_hammer(void *arg)
{
    int id = (int)(intptr_t)arg;
    char name[32], err[256];
    asc_buf_t out;
    asc_buf_init(&out, 0);
    for (int i = 0; i < 2000; i++) {
        snprintf(name, sizeof name, "t%d-%d", id, i % 16);
        asc_mock_params_t p;
        asc_mock_params_default(&p);
        if (i % 3 == 0)
            ov_set(name, "fault=500", err, sizeof err);
        asc_mock_override_apply(&p, name, strlen(name));
        if (i % 5 == 0)
            asc_mock_override_del(name, strlen(name));
        if (i % 97 == 0) {
            asc_buf_clear(&out);
            asc_mock_override_json(&out);
        }
    }
    asc_buf_free(&out);
    return NULL;
}

static void test_override_threads(void **state)
{
    (void)state;
    pthread_t th[4];
    asc_mock_override_clear();
    for (int i = 0; i < 4; i++)
        pthread_create(&th[i], NULL, ov_hammer, (void *)(intptr_t)i);
    for (int i = 0; i < 4; i++)
        pthread_join(th[i], NULL);
    asc_buf_t out;
    asc_buf_init(&out, 0);
    ov_list(&out);
    cJSON *j = cJSON_Parse(out.data);
    assert_non_null(j);
    assert_true(cJSON_GetArraySize(cJSON_GetObjectItem(j, "overrides")) <= 64);
    cJSON_Delete(j);
    asc_buf_free(&out);
    asc_mock_override_clear();
}

/* ---- request log ------------------------------------------------------- */

static void fake_req(asc_http_req_t *r, asc_http_header_t *h, const char *path, const char *body)
{
    memset(r, 0, sizeof *r);
    r->method_name = "POST";
    r->path = path;
    r->path_len = strlen(path);
    r->headers = h;
    r->nheaders = 2;
    r->body = body;
    r->body_len = strlen(body);
}

static void test_reqlog(void **state)
{
    (void)state;
    asc_http_header_t h[2] = {{"Content-Type", 12, "application/json", 16},
                              {"X-Api-Key", 9, "sk-\"q\"", 7}};
    asc_http_req_t r;
    char path[32], body[64];
    asc_buf_t out;
    asc_buf_init(&out, 0);
    asc_mock_reqlog_clear();
    asc_mock_reqlog_json(&out);
    assert_string_equal(out.data, "[]");
    for (int i = 0; i < ASC_MOCK_LOG_SIZE + 6; i++) {
        snprintf(path, sizeof path, "/v1/p%d", i);
        snprintf(body, sizeof body, "{\"n\": %d,\n \"s\":\"\\u00e9\"}", i);
        fake_req(&r, h, path, body);
        asc_mock_reqlog_add(&r);
    }
    asc_buf_clear(&out);
    asc_mock_reqlog_json(&out);
    cJSON *j = cJSON_Parse(out.data);
    assert_non_null(j);
    assert_int_equal(cJSON_GetArraySize(j), ASC_MOCK_LOG_SIZE);
    assert_string_equal(jstr(j, "0.path"), "/v1/p6");
    assert_string_equal(jstr(j, "0.method"), "POST");
    assert_string_equal(jstr(j, "0.body"), "{\"n\": 6,\n \"s\":\"\\u00e9\"}");
    assert_string_equal(jstr(j, "0.headers.content-type"), "application/json");
    assert_string_equal(jstr(j, "0.headers.x-api-key"), "sk-\"q\"");
    snprintf(path, sizeof path, "/v1/p%d", ASC_MOCK_LOG_SIZE + 5);
    assert_string_equal(jstr(j, "63.path"), path);
    cJSON_Delete(j);
    asc_mock_reqlog_clear();
    asc_buf_clear(&out);
    asc_mock_reqlog_json(&out);
    assert_string_equal(out.data, "[]");
    asc_buf_free(&out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_params_model),
        cmocka_unit_test(test_params_headers_override),
        cmocka_unit_test(test_text),
        cmocka_unit_test(test_utf8_helpers),
        cmocka_unit_test(test_tool_args),
        cmocka_unit_test_setup_teardown(test_openai_body, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_openai_max_tokens, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_openai_validation, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_openai_stream_chunks, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_openai_tools, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_anthropic_validation, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_anthropic_body_and_events, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_anthropic_tools, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_mistral, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_embeddings, fx_setup, fx_teardown),
        cmocka_unit_test(test_reqlog),
        cmocka_unit_test(test_context_errors),
        cmocka_unit_test(test_override_table),
        cmocka_unit_test_setup_teardown(test_override_precedence, fx_setup, fx_teardown),
        cmocka_unit_test(test_override_threads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

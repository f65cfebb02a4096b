/* The Mistral adapter: its schema-only request bodies, the 9-character
 * tool-call ids, its response and stream shapes, its errors, embeddings,
 * and the in-process mock's Mistral path (which refuses unknown fields with
 * 422 as Mistral does) accepting what the encoder produces. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <cmocka.h>
#include <curl/curl.h>

#include "api/openai.h"
#include "mock/mock.h"
#include "provider/adapter.h"
#include "provider/openai_canon.h"

static const asc_adapter_t *A = &asc_adapter_mistral;

/* ---- helpers ------------------------------------------------------------- */

static asc_str_t S(const char *z)
{
    return (asc_str_t){z, strlen(z)};
}

static asc_chat_req_t new_req(void)
{
    asc_chat_req_t r;
    memset(&r, 0, sizeof r);
    r.parallel_tool_calls = -1;
    r.format_strict = -1;
    return r;
}

static asc_part_t text(const char *z)
{
    asc_part_t p;
    memset(&p, 0, sizeof p);
    p.type = ASC_PART_TEXT;
    p.text = S(z);
    return p;
}

static asc_msg_t msg(asc_role_t role, asc_part_t *parts, size_t n)
{
    asc_msg_t m;
    memset(&m, 0, sizeof m);
    m.role = role;
    m.parts = parts;
    m.nparts = n;
    return m;
}

static void expect_json(const char *actual, const char *expected)
{
    cJSON *a = cJSON_Parse(actual), *e = cJSON_Parse(expected);
    if (e == NULL)
        fail_msg("bad expected JSON: %s", expected);
    if (a == NULL)
        fail_msg("output is not JSON: %s", actual);
    if (!cJSON_Compare(a, e, 1)) {
        char *ep = cJSON_PrintUnformatted(e);
        print_error("expected: %s\nactual:   %s\n", ep, actual);
        free(ep);
        cJSON_Delete(a);
        cJSON_Delete(e);
        fail();
    }
    cJSON_Delete(a);
    cJSON_Delete(e);
}

static char g_body[65536];
static char g_err[256];

static asc_err_t encode(const asc_chat_req_t *r, const char *model)
{
    asc_pool_t *pool = asc_pool_create(0);
    asc_buf_t out;
    asc_buf_init(&out, 0);
    g_body[0] = '\0';
    asc_err_t rc = A->encode_chat(r, model, pool, &out, g_err, sizeof g_err);
    if (out.len > 0) {
        assert_true(out.len < sizeof g_body);
        memcpy(g_body, out.data, out.len + 1);
    }
    if (rc != ASC_OK)
        assert_int_equal(out.len, 0);
    asc_buf_free(&out);
    asc_pool_destroy(pool);
    return rc;
}

static int alnum9(const char *s)
{
    if (strlen(s) != 9)
        return 0;
    for (int i = 0; i < 9; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'z') ||
              (s[i] >= 'A' && s[i] <= 'Z')))
            return 0;
    return 1;
}

/* ---- encode -------------------------------------------------------------- */

static void test_table(void **state)
{
    (void)state;
    assert_string_equal(A->kind, "mistral");
    assert_string_equal(A->chat_path, "/v1/chat/completions");
    assert_string_equal(A->embeddings_path, "/v1/embeddings");
    assert_null(A->chat_request);       /* no pass-through: 422 on OpenAI fields */
    assert_null(A->parse_stream_event); /* streams go through decode_stream */
    assert_non_null(A->embeddings_request);
    assert_non_null(A->parse_response);
    assert_non_null(A->classify_error);
    assert_non_null(A->encode_chat);
    assert_non_null(A->decode_chat);
    assert_non_null(A->decode_stream);
    asc_buf_t b;
    asc_buf_init(&b, 0);
    assert_int_equal(A->auth_header("sk-1", &b), ASC_OK);
    assert_string_equal(b.data, "Authorization: Bearer sk-1");
    asc_buf_free(&b);
}

static void test_encode_schema(void **state)
{
    (void)state;
    asc_part_t sys = text("You are terse."), u = text("Weather in Paris?");
    asc_msg_t msgs[] = {msg(ASC_ROLE_SYSTEM, &sys, 1), msg(ASC_ROLE_USER, &u, 1)};
    msgs[1].name = S("alice"); /* refused by Mistral on user messages */
    asc_tool_t tools[2];
    memset(tools, 0, sizeof tools);
    tools[0].name = S("get_weather");
    tools[0].description = S("Current weather");
    tools[0].parameters = S("{\"type\":\"object\",\"properties\":{\"city\":{\"type\":\"string\"}},"
                            "\"required\":[\"city\"]}");
    tools[0].strict = -1;
    tools[1].name = S("ping");
    tools[1].strict = 0;
    asc_str_t stops[] = {S("END")};
    asc_chat_req_t r = new_req();
    r.msgs = msgs;
    r.nmsgs = 2;
    r.tools = tools;
    r.ntools = 2;
    r.tool_choice = ASC_TOOL_CHOICE_REQUIRED;
    r.parallel_tool_calls = 1;
    r.stop = stops;
    r.nstop = 1;
    r.has_temperature = r.has_top_p = r.has_max_tokens = r.has_seed = 1;
    r.temperature = 0.3;
    r.top_p = 0.95;
    r.max_tokens = 512;
    r.seed = 7;
    r.user = S("u-1");
    r.metadata = S("{\"k\":\"v\"}");
    r.stream = 1;
    r.include_usage = 1;
    assert_int_equal(encode(&r, "mistral-large-latest"), ASC_OK);
    expect_json(g_body,
                "{\"model\":\"mistral-large-latest\",\"messages\":["
                "{\"role\":\"system\",\"content\":\"You are terse.\"},"
                "{\"role\":\"user\",\"content\":\"Weather in Paris?\"}],"
                "\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"get_weather\","
                "\"description\":\"Current weather\",\"parameters\":{\"type\":\"object\","
                "\"properties\":{\"city\":{\"type\":\"string\"}},\"required\":[\"city\"]}}},"
                "{\"type\":\"function\",\"function\":{\"name\":\"ping\",\"parameters\":{\"type\":"
                "\"object\",\"properties\":{}},\"strict\":false}}],"
                "\"tool_choice\":\"any\",\"parallel_tool_calls\":true,\"stop\":[\"END\"],"
                "\"temperature\":0.3,\"top_p\":0.95,\"max_tokens\":512,\"random_seed\":7,"
                "\"stream\":true}");
    assert_string_equal(g_err, "dropped: name, user, metadata");

    r.tool_choice = ASC_TOOL_CHOICE_FUNCTION;
    r.tool_choice_name = S("get_weather");
    r.format = ASC_FORMAT_JSON_SCHEMA;
    r.format_name = S("weather");
    r.format_schema = S("{\"type\":\"object\"}");
    r.format_strict = 1;
    r.stream = 0;
    assert_int_equal(encode(&r, "m"), ASC_OK);
    assert_non_null(strstr(
        g_body, "\"tool_choice\":{\"type\":\"function\",\"function\":{\"name\":\"get_weather\"}}"));
    assert_non_null(strstr(g_body, "\"response_format\":{\"type\":\"json_schema\",\"json_schema\":"
                                   "{\"name\":\"weather\",\"schema\":{\"type\":\"object\"},"
                                   "\"strict\":true}}"));
    assert_null(strstr(g_body, "stream"));
    r.format = ASC_FORMAT_JSON_OBJECT;
    assert_int_equal(encode(&r, "m"), ASC_OK);
    assert_non_null(strstr(g_body, "\"response_format\":{\"type\":\"json_object\"}"));
}

/* A tool turn whose ids came from OpenAI and Anthropic: mapped to 9
 * alphanumerics, the same in the assistant calls and the tool messages;
 * Mistral's own ids kept. */
static void test_tool_ids(void **state)
{
    (void)state;
    asc_part_t u = text("Weather in Paris, Rome and Oslo?"), r1 = text("18C"), r2 = text("21C"),
               r3 = text("3C");
    asc_tool_call_t calls[] = {
        {S("call_Wx8x1yGvW2ZVKbSn6o3PMl5Y"), S("get_weather"), S("{\"city\":\"Paris\"}")},
        {S("toolu_01A09q90qw90lq917835lq9"), S("get_weather"), S("{\"city\":\"Rome\"}")},
        {S("D681PevKs"), S("get_weather"), S("{\"city\":\"Oslo\"}")},
    };
    asc_msg_t msgs[5];
    msgs[0] = msg(ASC_ROLE_USER, &u, 1);
    msgs[1] = msg(ASC_ROLE_ASSISTANT, NULL, 0);
    msgs[1].tool_calls = calls;
    msgs[1].ntool_calls = 3;
    /* results in another order than the calls */
    msgs[2] = msg(ASC_ROLE_TOOL, &r2, 1);
    msgs[2].tool_call_id = S("toolu_01A09q90qw90lq917835lq9");
    msgs[3] = msg(ASC_ROLE_TOOL, &r3, 1);
    msgs[3].tool_call_id = S("D681PevKs");
    msgs[4] = msg(ASC_ROLE_TOOL, &r1, 1);
    msgs[4].tool_call_id = S("call_Wx8x1yGvW2ZVKbSn6o3PMl5Y");
    asc_chat_req_t r = new_req();
    r.msgs = msgs;
    r.nmsgs = 5;
    assert_int_equal(encode(&r, "mistral-small-latest"), ASC_OK);

    cJSON *j = cJSON_Parse(g_body);
    assert_non_null(j);
    cJSON *ms = cJSON_GetObjectItem(j, "messages");
    cJSON *tcs = cJSON_GetObjectItem(cJSON_GetArrayItem(ms, 1), "tool_calls");
    assert_int_equal(cJSON_GetArraySize(tcs), 3);
    /* no content key next to tool calls, no `null` */
    assert_null(cJSON_GetObjectItem(cJSON_GetArrayItem(ms, 1), "content"));
    const char *ids[3];
    for (int i = 0; i < 3; i++) {
        ids[i] = cJSON_GetObjectItem(cJSON_GetArrayItem(tcs, i), "id")->valuestring;
        if (!alnum9(ids[i]))
            fail_msg("id %s is not 9 alphanumerics", ids[i]);
    }
    assert_string_equal(ids[2], "D681PevKs"); /* Mistral's own id kept */
    assert_string_not_equal(ids[0], ids[1]);
    assert_string_not_equal(ids[0], ids[2]);
    assert_string_not_equal(ids[1], ids[2]);
    /* each tool message answers the same mapped id, with the function name */
    static const int answers[] = {1, 2, 0};
    for (int i = 0; i < 3; i++) {
        cJSON *tm = cJSON_GetArrayItem(ms, 2 + i);
        assert_string_equal(cJSON_GetObjectItem(tm, "tool_call_id")->valuestring, ids[answers[i]]);
        assert_string_equal(cJSON_GetObjectItem(tm, "name")->valuestring, "get_weather");
    }
    /* deterministic across requests: the next turn maps the same way */
    char m0[10];
    asc_mistral_tool_id(S("call_Wx8x1yGvW2ZVKbSn6o3PMl5Y"), 0, m0);
    assert_string_equal(ids[0], m0);
    cJSON_Delete(j);

    /* a genuine id equal to another id's mapping: the mapped one moves */
    asc_tool_call_t clash[] = {{S("call_1"), S("f"), S("{}")}, {S(""), S("f"), S("{}")}};
    char taken[10];
    asc_mistral_tool_id(S("call_1"), 0, taken);
    clash[1].id = S(taken);
    asc_part_t ok = text("ok");
    asc_msg_t m2[4];
    m2[0] = msg(ASC_ROLE_USER, &u, 1);
    m2[1] = msg(ASC_ROLE_ASSISTANT, NULL, 0);
    m2[1].tool_calls = clash;
    m2[1].ntool_calls = 2;
    m2[2] = msg(ASC_ROLE_TOOL, &ok, 1);
    m2[2].tool_call_id = S("call_1");
    m2[3] = msg(ASC_ROLE_TOOL, &ok, 1);
    m2[3].tool_call_id = S(taken);
    r.msgs = m2;
    r.nmsgs = 4;
    assert_int_equal(encode(&r, "m"), ASC_OK);
    j = cJSON_Parse(g_body);
    ms = cJSON_GetObjectItem(j, "messages");
    tcs = cJSON_GetObjectItem(cJSON_GetArrayItem(ms, 1), "tool_calls");
    const char *a0 = cJSON_GetObjectItem(cJSON_GetArrayItem(tcs, 0), "id")->valuestring;
    const char *a1 = cJSON_GetObjectItem(cJSON_GetArrayItem(tcs, 1), "id")->valuestring;
    assert_string_equal(a1, taken);
    assert_string_not_equal(a0, taken);
    assert_true(alnum9(a0));
    assert_string_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(ms, 2), "tool_call_id")->valuestring,
                        a0);
    assert_string_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(ms, 3), "tool_call_id")->valuestring,
                        taken);
    cJSON_Delete(j);

    /* the helper itself: salts give other ids, all 9 alphanumerics */
    char s0[10], s1[10];
    asc_mistral_tool_id(S("x"), 0, s0);
    asc_mistral_tool_id(S("x"), 1, s1);
    assert_true(alnum9(s0) && alnum9(s1));
    assert_string_not_equal(s0, s1);
}

static void test_encode_refusals(void **state)
{
    (void)state;
    asc_part_t u = text("Hi"), a = text("Sure, here");
    asc_msg_t msgs[] = {msg(ASC_ROLE_USER, &u, 1), msg(ASC_ROLE_ASSISTANT, &a, 1)};
    asc_chat_req_t r = new_req();
    r.msgs = msgs;
    r.nmsgs = 1;
    r.has_top_k = 1;
    assert_int_equal(encode(&r, "m"), ASC_EUNSUPPORTED);
    assert_true(strncmp(g_err, "top_k: ", 7) == 0);
    r.has_top_k = 0;
    r.thinking = S("{\"type\":\"enabled\",\"budget_tokens\":1024}");
    assert_int_equal(encode(&r, "m"), ASC_EUNSUPPORTED);
    assert_true(strncmp(g_err, "thinking: ", 10) == 0);
    r.thinking = ASC_STR_NULL;
    /* an Anthropic prefill: Mistral wants the last message from the user */
    r.nmsgs = 2;
    assert_int_equal(encode(&r, "m"), ASC_EUNSUPPORTED);
    assert_true(strncmp(g_err, "messages: ", 10) == 0);
    assert_non_null(strstr(g_err, "prefill"));
    /* images: fine in user messages and tool results, not in system ones */
    asc_part_t img;
    memset(&img, 0, sizeof img);
    img.type = ASC_PART_IMAGE_BASE64;
    img.media_type = S("image/jpeg");
    img.data = S("/9j/4AAQ");
    asc_tool_call_t call = {S("abcDEF123"), S("shot"), S("{}")};
    asc_msg_t m3[] = {msg(ASC_ROLE_USER, &u, 1), msg(ASC_ROLE_ASSISTANT, NULL, 0),
                      msg(ASC_ROLE_TOOL, &img, 1)};
    m3[1].tool_calls = &call;
    m3[1].ntool_calls = 1;
    m3[2].tool_call_id = S("abcDEF123");
    r.msgs = m3;
    r.nmsgs = 3;
    assert_int_equal(encode(&r, "pixtral-large-latest"), ASC_OK);
    assert_non_null(strstr(g_body, "{\"role\":\"tool\",\"tool_call_id\":\"abcDEF123\",\"content\":"
                                   "[{\"type\":\"image_url\",\"image_url\":{\"url\":\"data:image/"
                                   "jpeg;base64,/9j/4AAQ\"}}],\"name\":\"shot\"}"));
    m3[0] = msg(ASC_ROLE_SYSTEM, &img, 1);
    assert_int_equal(encode(&r, "m"), ASC_EUNSUPPORTED);
    assert_true(strncmp(g_err, "messages[0].content[0]: ", 24) == 0);
}

/* ---- decode -------------------------------------------------------------- */

static int str_is(asc_str_t s, const char *z)
{
    return s.p != NULL && s.n == strlen(z) && memcmp(s.p, z, s.n) == 0;
}

static void test_decode(void **state)
{
    (void)state;
    asc_pool_t *pool = asc_pool_create(0);
    asc_chat_resp_t r;
    const char *text_body =
        "{\"id\":\"cmpl-e5cc70bb28c444948073e77776eb30ef\",\"object\":\"chat.completion\","
        "\"created\":1702256327,\"model\":\"mistral-large-latest\",\"choices\":[{\"index\":0,"
        "\"message\":{\"role\":\"assistant\",\"content\":\"Bonjour !\",\"tool_calls\":null,"
        "\"prefix\":false},\"finish_reason\":\"stop\"}],\"usage\":{\"prompt_tokens\":16,"
        "\"completion_tokens\":34,\"total_tokens\":50}}";
    assert_int_equal(A->decode_chat(pool, text_body, strlen(text_body), &r), ASC_OK);
    assert_true(str_is(r.id, "cmpl-e5cc70bb28c444948073e77776eb30ef"));
    assert_true(str_is(r.model, "mistral-large-latest"));
    assert_int_equal(r.created, 1702256327);
    assert_true(str_is(r.text, "Bonjour !"));
    assert_int_equal(r.finish, ASC_FINISH_STOP);
    assert_int_equal(r.usage.input_tokens, 16);
    assert_int_equal(r.usage.output_tokens, 34);
    assert_int_equal(r.usage.present, 1);

    const char *tools_body =
        "{\"id\":\"a3c1\",\"object\":\"chat.completion\",\"created\":1702256327,\"model\":"
        "\"mistral-small-latest\",\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\","
        "\"content\":\"\",\"tool_calls\":[{\"id\":\"D681PevKs\",\"type\":\"function\",\"function\":"
        "{\"name\":\"get_weather\",\"arguments\":\"{\\\"city\\\": \\\"Paris\\\"}\"},\"index\":0},"
        "{\"id\":\"x2Abc9ZZz\",\"function\":{\"name\":\"get_time\",\"arguments\":{\"tz\":\"CET\"}},"
        "\"index\":1}],\"prefix\":false},\"finish_reason\":\"tool_calls\"}],\"usage\":{"
        "\"prompt_tokens\":92,\"completion_tokens\":25,\"total_tokens\":117}}";
    assert_int_equal(A->decode_chat(pool, tools_body, strlen(tools_body), &r), ASC_OK);
    assert_int_equal(r.ntool_calls, 2);
    assert_true(str_is(r.tool_calls[0].id, "D681PevKs")); /* Mistral's ids are kept */
    assert_true(str_is(r.tool_calls[0].arguments, "{\"city\": \"Paris\"}"));
    assert_true(str_is(r.tool_calls[1].arguments, "{\"tz\":\"CET\"}")); /* an object */
    assert_int_equal(r.finish, ASC_FINISH_TOOL_CALLS);
    assert_true(r.text.p == NULL || r.text.n == 0);

    const char *chunks_body =
        "{\"id\":\"c\",\"model\":\"magistral-medium-latest\",\"choices\":[{\"index\":0,\"message\":"
        "{\"role\":\"assistant\",\"content\":[{\"type\":\"thinking\",\"thinking\":[{\"type\":"
        "\"text\",\"text\":\"hmm\"}]},{\"type\":\"text\",\"text\":\"42\"}]},\"finish_reason\":"
        "\"model_length\"}],\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":9}}";
    assert_int_equal(A->decode_chat(pool, chunks_body, strlen(chunks_body), &r), ASC_OK);
    assert_true(str_is(r.text, "42")); /* thinking is not output text */
    assert_int_equal(r.finish, ASC_FINISH_LENGTH);
    asc_pool_destroy(pool);
}

typedef struct {
    asc_buf_t log;
} rec_t;

static int record(void *ud, const asc_sev_t *ev)
{
    asc_buf_t *b = &((rec_t *)ud)->log;
    switch (ev->type) {
    case ASC_SEV_START:
        asc_buf_printf(b, "START %.*s %.*s\n", (int)ev->id.n, ev->id.p, (int)ev->model.n,
                       ev->model.p);
        break;
    case ASC_SEV_TEXT: asc_buf_printf(b, "TEXT %.*s\n", (int)ev->text.n, ev->text.p); break;
    case ASC_SEV_TOOL_START:
        asc_buf_printf(b, "TOOL_START %d %.*s %.*s\n", ev->tool_index, (int)ev->tool_id.n,
                       ev->tool_id.p, (int)ev->tool_name.n, ev->tool_name.p);
        break;
    case ASC_SEV_TOOL_ARGS:
        asc_buf_printf(b, "TOOL_ARGS %d %.*s\n", ev->tool_index, (int)ev->text.n, ev->text.p);
        break;
    case ASC_SEV_FINISH: asc_buf_printf(b, "FINISH %d\n", (int)ev->finish); break;
    case ASC_SEV_USAGE:
        asc_buf_printf(b, "USAGE %lld %lld\n", (long long)ev->usage.input_tokens,
                       (long long)ev->usage.output_tokens);
        break;
    case ASC_SEV_DONE: asc_buf_puts(b, "DONE\n"); break;
    case ASC_SEV_ERROR:
        asc_buf_printf(b, "ERROR %d %s %.*s\n", ev->error_status, ev->error_code,
                       (int)ev->error_message.n, ev->error_message.p);
        break;
    }
    return 0;
}

/* Feed `sse` (raw SSE bytes: "data: ...\n\n" events) to the decoder. */
static asc_err_t feed_sse(const char *sse, char **log)
{
    void *st = calloc(1, A->stream_state_size);
    asc_pool_t *pool = asc_pool_create(0);
    rec_t r;
    asc_buf_init(&r.log, 0);
    asc_buf_puts(&r.log, "");
    asc_err_t rc = ASC_OK;
    const char *p = sse;
    while (*p != '\0' && rc == ASC_OK) {
        const char *end = strstr(p, "\n\n");
        if (end == NULL)
            break;
        if (strncmp(p, "data: ", 6) == 0)
            rc = A->decode_stream(st, pool, NULL, p + 6, (size_t)(end - p - 6), record, &r);
        asc_pool_reset(pool);
        p = end + 2;
    }
    *log = r.log.data;
    asc_pool_destroy(pool);
    free(st);
    return rc;
}

static void test_stream(void **state)
{
    (void)state;
    /* text; the last chunk carries finish_reason and usage */
    const char *text_sse =
        "data: {\"id\":\"4d5b\",\"object\":\"chat.completion.chunk\",\"created\":1702256327,"
        "\"model\":\"mistral-small-latest\",\"choices\":[{\"index\":0,\"delta\":{\"role\":"
        "\"assistant\",\"content\":\"\"},\"finish_reason\":null}]}\n\n"
        "data: {\"id\":\"4d5b\",\"object\":\"chat.completion.chunk\",\"created\":1702256327,"
        "\"model\":\"mistral-small-latest\",\"choices\":[{\"index\":0,\"delta\":{\"content\":"
        "\"Bon\"},\"finish_reason\":null}]}\n\n"
        "data: {\"id\":\"4d5b\",\"object\":\"chat.completion.chunk\",\"created\":1702256327,"
        "\"model\":\"mistral-small-latest\",\"choices\":[{\"index\":0,\"delta\":{\"content\":"
        "[{\"type\":\"text\",\"text\":\"jour\"}]},\"finish_reason\":null}]}\n\n"
        "data: {\"id\":\"4d5b\",\"object\":\"chat.completion.chunk\",\"created\":1702256327,"
        "\"model\":\"mistral-small-latest\",\"choices\":[{\"index\":0,\"delta\":{\"content\":"
        "\"\"},\"finish_reason\":\"stop\"}],\"usage\":{\"prompt_tokens\":10,\"total_tokens\":13,"
        "\"completion_tokens\":3}}\n\n"
        "data: [DONE]\n\n";
    char *log;
    assert_int_equal(feed_sse(text_sse, &log), ASC_OK);
    char expected[256];
    snprintf(expected, sizeof expected,
             "START 4d5b mistral-small-latest\nTEXT Bon\nTEXT jour\nFINISH %d\nUSAGE 10 3\nDONE\n",
             (int)ASC_FINISH_STOP);
    assert_string_equal(log, expected);
    free(log);

    /* two whole tool calls, one chunk each */
    const char *tool_sse =
        "data: {\"id\":\"9f1c\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":"
        "\"mistral-large-latest\",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\","
        "\"content\":\"\"},\"finish_reason\":null}]}\n\n"
        "data: {\"id\":\"9f1c\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":"
        "\"mistral-large-latest\",\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"id\":"
        "\"D681PevKs\",\"type\":\"function\",\"function\":{\"name\":\"get_weather\",\"arguments\":"
        "\"{\\\"city\\\": \\\"Paris\\\"}\"},\"index\":0}]},\"finish_reason\":null}]}\n\n"
        "data: {\"id\":\"9f1c\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":"
        "\"mistral-large-latest\",\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"id\":"
        "\"Q2w3E4r5T\",\"function\":{\"name\":\"get_weather\",\"arguments\":\"{\\\"city\\\": "
        "\\\"Rome\\\"}\"},\"index\":1}]},\"finish_reason\":null}]}\n\n"
        "data: {\"id\":\"9f1c\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":"
        "\"mistral-large-latest\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"\"},"
        "\"finish_reason\":\"tool_calls\"}],\"usage\":{\"prompt_tokens\":95,\"total_tokens\":"
        "143,\"completion_tokens\":48}}\n\n"
        "data: [DONE]\n\n";
    assert_int_equal(feed_sse(tool_sse, &log), ASC_OK);
    snprintf(expected, sizeof expected,
             "START 9f1c mistral-large-latest\n"
             "TOOL_START 0 D681PevKs get_weather\nTOOL_ARGS 0 {\"city\": \"Paris\"}\n"
             "TOOL_START 1 Q2w3E4r5T get_weather\nTOOL_ARGS 1 {\"city\": \"Rome\"}\n"
             "FINISH %d\nUSAGE 95 48\nDONE\n",
             (int)ASC_FINISH_TOOL_CALLS);
    assert_string_equal(log, expected);
    free(log);

    /* an error object mid-stream, in Mistral's shape */
    const char *err_sse =
        "data: {\"id\":\"e\",\"model\":\"m\",\"choices\":[{\"index\":0,\"delta\":{\"content\":"
        "\"a\"},\"finish_reason\":null}]}\n\n"
        "data: {\"object\":\"error\",\"message\":\"Requests rate limit exceeded\",\"type\":"
        "\"rate_limited\",\"param\":null,\"code\":\"1300\"}\n\n";
    assert_int_equal(feed_sse(err_sse, &log), ASC_OK);
    assert_string_equal(log,
                        "START e m\nTEXT a\nERROR 429 rate_limited Requests rate limit exceeded\n");
    free(log);
    /* finish_reason "error": the generation failed */
    const char *fail_sse = "data: {\"id\":\"e\",\"model\":\"m\",\"choices\":[{\"index\":0,"
                           "\"delta\":{\"content\":\"a\"},\"finish_reason\":\"error\"}]}\n\n";
    assert_int_equal(feed_sse(fail_sse, &log), ASC_OK);
    assert_non_null(strstr(log, "TEXT a\nERROR 502 upstream_error "));
    free(log);
}

/* ---- errors ---------------------------------------------------------------- */

static void test_classify_error(void **state)
{
    (void)state;
    asc_upstream_error_t e;
    const char *v422 =
        "{\"object\":\"error\",\"message\":{\"detail\":[{\"type\":\"extra_forbidden\",\"loc\":["
        "\"body\",\"stream_options\"],\"msg\":\"Extra inputs are not permitted\",\"input\":{"
        "\"include_usage\":true}},{\"type\":\"extra_forbidden\",\"loc\":[\"body\",\"messages\","
        "0,\"user\",\"name\"],\"msg\":\"Extra inputs are not permitted\",\"input\":\"a\"}]},"
        "\"type\":\"invalid_request_error\",\"param\":null,\"code\":null}";
    A->classify_error(422, v422, strlen(v422), &e);
    assert_int_equal(e.cls, ASC_UPERR_CLIENT);
    assert_int_equal(e.retryable, 0);
    assert_int_equal(e.fallback, 0);
    assert_string_equal(e.message, "stream_options: Extra inputs are not permitted; "
                                   "messages.0.user.name: Extra inputs are not permitted");

    const char *rl = "{\"object\":\"error\",\"message\":\"Requests rate limit exceeded\",\"type\":"
                     "\"rate_limited\",\"param\":null,\"code\":\"1300\"}";
    A->classify_error(429, rl, strlen(rl), &e);
    assert_int_equal(e.cls, ASC_UPERR_RATE_LIMIT);
    assert_true(e.retryable && e.fallback);
    assert_non_null(strstr(e.message, "Requests rate limit exceeded"));

    const char *ov = "{\"object\":\"error\",\"message\":\"The server is overloaded\",\"type\":"
                     "\"service_unavailable\",\"param\":null,\"code\":\"overloaded\"}";
    A->classify_error(503, ov, strlen(ov), &e);
    assert_int_equal(e.cls, ASC_UPERR_OVERLOADED);

    const char *au = "{\"object\":\"error\",\"message\":\"Unauthorized\",\"type\":"
                     "\"authentication_error\",\"param\":null,\"code\":null}";
    A->classify_error(401, au, strlen(au), &e);
    assert_int_equal(e.cls, ASC_UPERR_AUTH);
    assert_null(strstr(e.message, "Unauthorized")); /* the gateway's own wording */

    const char *ctx = "{\"object\":\"error\",\"message\":\"Prompt contains 40000 tokens and 0 "
                      "draft tokens, too large for model with 32768 maximum context length\","
                      "\"type\":\"invalid_request_error\",\"param\":null,\"code\":\"3051\"}";
    A->classify_error(400, ctx, strlen(ctx), &e);
    assert_int_equal(e.cls, ASC_UPERR_CONTEXT);
    assert_int_equal(e.fallback, 1);

    A->classify_error(500, "oops", 4, &e);
    assert_int_equal(e.cls, ASC_UPERR_SERVER);
    A->classify_error(422, "{\"detail\":\"bad\"}", 16, &e);
    assert_int_equal(e.cls, ASC_UPERR_CLIENT);
    assert_string_equal(e.message, "bad");
    A->classify_error(302, NULL, 0, &e);
    assert_int_equal(e.cls, ASC_UPERR_PROTOCOL);
}

/* ---- embeddings ------------------------------------------------------------ */

static asc_err_t embed(const char *body, char *out, size_t outlen, char *err)
{
    asc_pool_t *pool = asc_pool_create(0);
    asc_api_request_t req;
    asc_err_t rc =
        asc_api_openai_decode(pool, ASC_OP_EMBEDDINGS, body, strlen(body), &req, err, 256);
    if (rc != ASC_OK)
        fail_msg("decode: %s", err);
    asc_buf_t b;
    asc_buf_init(&b, 0);
    rc = A->embeddings_request(&req, "mistral-embed", &b, err, 256);
    snprintf(out, outlen, "%s", b.data ? b.data : "");
    asc_buf_free(&b);
    asc_pool_destroy(pool);
    return rc;
}

static void test_embeddings(void **state)
{
    (void)state;
    char out[1024], err[256];
    /* what the OpenAI SDK sends by default: encoding_format base64 */
    assert_int_equal(embed("{\"model\":\"emb\",\"input\":[\"a\",\"b\"],\"encoding_format\":"
                           "\"base64\",\"dimensions\":256,\"user\":\"u\"}",
                           out, sizeof out, err),
                     ASC_OK);
    expect_json(out, "{\"model\":\"mistral-embed\",\"input\":[\"a\",\"b\"],\"encoding_format\":"
                     "\"base64\",\"output_dimension\":256}");
    assert_int_equal(embed("{\"input\":\"x\",\"model\":\"emb\"}", out, sizeof out, err), ASC_OK);
    expect_json(out, "{\"model\":\"mistral-embed\",\"input\":\"x\"}");
    /* token arrays: Mistral takes strings only */
    assert_int_equal(embed("{\"model\":\"emb\",\"input\":[[1,2,3]]}", out, sizeof out, err),
                     ASC_EUNSUPPORTED);
    assert_true(strncmp(err, "input: ", 7) == 0);
    assert_int_equal(embed("{\"model\":\"emb\",\"input\":[1,2]}", out, sizeof out, err),
                     ASC_EUNSUPPORTED);

    /* its response is read like OpenAI's */
    const char *resp =
        "{\"id\":\"e1\",\"object\":\"list\",\"data\":[{\"object\":\"embedding\","
        "\"embedding\":[0.1,0.2],\"index\":0}],\"model\":\"mistral-embed\","
        "\"usage\":{\"prompt_tokens\":6,\"total_tokens\":6,\"completion_tokens\":0}}";
    asc_pool_t *pool = asc_pool_create(0);
    asc_usage_t u;
    char fr[32];
    size_t cb;
    assert_int_equal(A->parse_response(pool, resp, strlen(resp), &u, fr, sizeof fr, &cb), ASC_OK);
    assert_int_equal(u.prompt_tokens, 6);
    assert_int_equal(u.present, 1);
    asc_pool_destroy(pool);
}

/* ---- against the mock's Mistral path --------------------------------------- */

static asc_mock_thread_t *g_mock;
static int g_port;

static size_t on_body(char *p, size_t sz, size_t n, void *ud)
{
    asc_buf_append(ud, p, sz * n);
    return sz * n;
}

static long post(const char *path, const char *body, asc_buf_t *resp)
{
    char url[128];
    snprintf(url, sizeof url, "http://127.0.0.1:%d%s", g_port, path);
    CURL *c = curl_easy_init();
    struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/json");
    h = curl_slist_append(h, "Authorization: Bearer test");
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, resp);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 10L);
    long status = 0;
    if (curl_easy_perform(c) == CURLE_OK)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    return status;
}

static int setup_mock(void **state)
{
    (void)state;
    char err[256];
    curl_global_init(CURL_GLOBAL_DEFAULT);
    return asc_mock_thread_start("127.0.0.1", 0, &g_port, &g_mock, err, sizeof err) == ASC_OK ? 0
                                                                                              : -1;
}

static int teardown_mock(void **state)
{
    (void)state;
    asc_mock_thread_stop(g_mock);
    curl_global_cleanup();
    return 0;
}

/* A conversation with tools, OpenAI / Anthropic ids, a system prompt in the
 * middle, names and hints Mistral refuses: the encoded body is accepted and
 * the answer decodes. */
static void test_mock_accepts(void **state)
{
    (void)state;
    asc_part_t sys = text("Be brief."), u = text("Weather in Paris and Rome?"), r1 = text("18C"),
               r2 = text("21C"), u2 = text("And use the tool again");
    asc_tool_call_t calls[] = {
        {S("call_Wx8x1yGvW2ZVKbSn6o3PMl5Y"), S("get_weather"), S("{\"city\":\"Paris\"}")},
        {S("toolu_01A09q90qw90lq917835lq9"), S("get_weather"), S("{\"city\":\"Rome\"}")},
    };
    asc_tool_t tool;
    memset(&tool, 0, sizeof tool);
    tool.name = S("get_weather");
    tool.parameters = S("{\"type\":\"object\",\"properties\":{\"city\":{\"type\":\"string\"}},"
                        "\"required\":[\"city\"]}");
    tool.strict = -1;
    asc_msg_t msgs[6];
    msgs[0] = msg(ASC_ROLE_SYSTEM, &sys, 1);
    msgs[1] = msg(ASC_ROLE_USER, &u, 1);
    msgs[1].name = S("alice");
    msgs[2] = msg(ASC_ROLE_ASSISTANT, NULL, 0);
    msgs[2].tool_calls = calls;
    msgs[2].ntool_calls = 2;
    msgs[3] = msg(ASC_ROLE_TOOL, &r1, 1);
    msgs[3].tool_call_id = calls[0].id;
    msgs[3].is_error = 1;
    msgs[4] = msg(ASC_ROLE_TOOL, &r2, 1);
    msgs[4].tool_call_id = calls[1].id;
    msgs[5] = msg(ASC_ROLE_USER, &u2, 1);
    asc_chat_req_t r = new_req();
    r.msgs = msgs;
    r.nmsgs = 6;
    r.tools = &tool;
    r.ntools = 1;
    r.tool_choice = ASC_TOOL_CHOICE_REQUIRED;
    r.parallel_tool_calls = 1;
    r.has_temperature = r.has_max_tokens = r.has_seed = r.has_top_p = 1;
    r.temperature = 0.2;
    r.top_p = 0.9;
    r.max_tokens = 64;
    r.seed = 1;
    r.user = S("u");
    r.metadata = S("{\"a\":\"b\"}");
    r.reasoning = S("\"high\"");
    asc_str_t stops[] = {S("STOP")};
    r.stop = stops;
    r.nstop = 1;
    r.format = ASC_FORMAT_JSON_OBJECT;

    for (int stream = 0; stream <= 1; stream++) {
        r.stream = stream;
        assert_int_equal(encode(&r, "mistral-large-latest@tool_calls=2"), ASC_OK);
        asc_buf_t resp;
        asc_buf_init(&resp, 0);
        long status = post("/mistral/v1/chat/completions", g_body, &resp);
        if (status != 200)
            fail_msg("mock answered %ld: %s\nfor %s", status, resp.data ? resp.data : "", g_body);
        char *log = NULL;
        if (!stream) {
            asc_pool_t *pool = asc_pool_create(0);
            asc_chat_resp_t cr;
            assert_int_equal(A->decode_chat(pool, resp.data, resp.len, &cr), ASC_OK);
            assert_int_equal(cr.ntool_calls, 2);
            assert_int_equal(cr.finish, ASC_FINISH_TOOL_CALLS);
            assert_true(cr.usage.present && cr.usage.input_tokens > 0);
            char id[16];
            snprintf(id, sizeof id, "%.*s", (int)cr.tool_calls[0].id.n, cr.tool_calls[0].id.p);
            assert_true(alnum9(id));
            asc_pool_destroy(pool);
        } else {
            assert_int_equal(feed_sse(resp.data, &log), ASC_OK);
            assert_non_null(strstr(log, "TOOL_START 0 "));
            assert_non_null(strstr(log, "TOOL_START 1 "));
            char fin[64];
            snprintf(fin, sizeof fin, "FINISH %d\nUSAGE ", (int)ASC_FINISH_TOOL_CALLS);
            assert_non_null(strstr(log, fin));
            assert_non_null(strstr(log, "\nDONE\n"));
            free(log);
        }
        asc_buf_free(&resp);
    }

    /* the check is real: the OpenAI encoding of the same request (user,
     * seed, stream_options, tool_choice "required"...) is refused */
    asc_pool_t *pool = asc_pool_create(0);
    asc_buf_t out;
    asc_buf_init(&out, 0);
    r.stream = 1;
    char err[256];
    assert_int_equal(asc_openai_canon_encode(ASC_OAI_OPENAI, &r, "mistral-large-latest", pool, &out,
                                             err, sizeof err),
                     ASC_OK);
    asc_buf_t resp;
    asc_buf_init(&resp, 0);
    assert_int_equal(post("/mistral/v1/chat/completions", out.data, &resp), 422);
    assert_non_null(strstr(resp.data, "stream_options"));
    asc_buf_free(&resp);
    asc_buf_free(&out);
    asc_pool_destroy(pool);

    /* and the embeddings body */
    char eb[1024];
    assert_int_equal(embed("{\"model\":\"e\",\"input\":[\"a\",\"b\"],\"encoding_format\":"
                           "\"base64\",\"dimensions\":4,\"user\":\"u\"}",
                           eb, sizeof eb, err),
                     ASC_OK);
    asc_buf_init(&resp, 0);
    assert_int_equal(post("/mistral/v1/embeddings", eb, &resp), 200);
    pool = asc_pool_create(0);
    asc_usage_t usage;
    char fr[32];
    size_t cb;
    assert_int_equal(A->parse_response(pool, resp.data, resp.len, &usage, fr, sizeof fr, &cb),
                     ASC_OK);
    assert_true(usage.present && usage.prompt_tokens > 0);
    asc_pool_destroy(pool);
    asc_buf_free(&resp);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table),
        cmocka_unit_test(test_encode_schema),
        cmocka_unit_test(test_tool_ids),
        cmocka_unit_test(test_encode_refusals),
        cmocka_unit_test(test_decode),
        cmocka_unit_test(test_stream),
        cmocka_unit_test(test_classify_error),
        cmocka_unit_test(test_embeddings),
        cmocka_unit_test_setup_teardown(test_mock_accepts, setup_mock, teardown_mock),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

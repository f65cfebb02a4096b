/* The canonical codec of the OpenAI-dialect adapters (openai and
 * openai-compatible): canonical request -> upstream body, upstream response
 * and stream -> canonical. Expected bodies are written by hand from the
 * Chat Completions reference and compared as JSON values. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <cmocka.h>

#include "provider/adapter.h"
#include "provider/openai_canon.h"

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

/* Encode r for profile p; returns the body (static storage) or NULL with
 * *rc set. */
static char g_body[65536];
static char g_err[256];

static asc_err_t encode(asc_oai_profile_t p, const asc_chat_req_t *r, const char *model)
{
    asc_pool_t *pool = asc_pool_create(0);
    asc_buf_t out;
    asc_buf_init(&out, 0);
    g_err[0] = 'X';
    g_body[0] = '\0';
    asc_err_t rc = asc_openai_canon_encode(p, r, model, pool, &out, g_err, sizeof g_err);
    if (out.len > 0) {
        assert_true(out.len < sizeof g_body);
        memcpy(g_body, out.data, out.len + 1);
    }
    if (rc != ASC_OK)
        assert_int_equal(out.len, 0); /* nothing half-written */
    asc_buf_free(&out);
    asc_pool_destroy(pool);
    return rc;
}

/* ---- encode -------------------------------------------------------------- */

static void test_encode_basic(void **state)
{
    (void)state;
    asc_part_t sys = text("Be brief."), u1 = text("Hi"), a1 = text("Hello!"),
               dev = text("Answer in French."), u2 = text("How are you?");
    asc_msg_t msgs[] = {msg(ASC_ROLE_SYSTEM, &sys, 1), msg(ASC_ROLE_USER, &u1, 1),
                        msg(ASC_ROLE_ASSISTANT, &a1, 1), msg(ASC_ROLE_SYSTEM, &dev, 1),
                        msg(ASC_ROLE_USER, &u2, 1)};
    msgs[1].name = S("alice");
    asc_str_t stops[] = {S("\n\n"), S("END")};
    asc_chat_req_t r = new_req();
    r.msgs = msgs;
    r.nmsgs = 5;
    r.stop = stops;
    r.nstop = 2;
    r.has_temperature = r.has_top_p = r.has_max_tokens = r.has_seed = 1;
    r.temperature = 0.7;
    r.top_p = 1;
    r.max_tokens = 256;
    r.seed = -42;
    r.user = S("user-123");
    r.metadata = S("{\"user_id\":\"u1\"}");
    assert_int_equal(encode(ASC_OAI_OPENAI, &r, "gpt-4o-mini"), ASC_OK);
    assert_string_equal(g_err, "");
    expect_json(g_body, "{\"model\":\"gpt-4o-mini\",\"messages\":["
                        "{\"role\":\"system\",\"content\":\"Be brief.\"},"
                        "{\"role\":\"user\",\"content\":\"Hi\",\"name\":\"alice\"},"
                        "{\"role\":\"assistant\",\"content\":\"Hello!\"},"
                        "{\"role\":\"system\",\"content\":\"Answer in French.\"},"
                        "{\"role\":\"user\",\"content\":\"How are you?\"}],"
                        "\"stop\":[\"\\n\\n\",\"END\"],\"temperature\":0.7,\"top_p\":1,"
                        "\"max_completion_tokens\":256,\"seed\":-42,\"user\":\"user-123\","
                        "\"metadata\":{\"user_id\":\"u1\"}}");
    /* the shortest exact form of the doubles */
    assert_non_null(strstr(g_body, "\"temperature\":0.7,"));

    /* openai-compatible servers only know max_tokens */
    assert_int_equal(encode(ASC_OAI_COMPATIBLE, &r, "llama3"), ASC_OK);
    assert_non_null(strstr(g_body, "\"max_tokens\":256"));
    assert_null(strstr(g_body, "max_completion_tokens"));
}

static void test_encode_stream_usage(void **state)
{
    (void)state;
    asc_part_t u = text("Hi");
    asc_msg_t m = msg(ASC_ROLE_USER, &u, 1);
    asc_chat_req_t r = new_req();
    r.msgs = &m;
    r.nmsgs = 1;
    r.stream = 1;
    r.include_usage = 0; /* the client did not ask: usage is requested anyway */
    for (int p = ASC_OAI_OPENAI; p <= ASC_OAI_COMPATIBLE; p++) {
        assert_int_equal(encode((asc_oai_profile_t)p, &r, "m"), ASC_OK);
        expect_json(g_body,
                    "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"}],"
                    "\"stream\":true,\"stream_options\":{\"include_usage\":true}}");
    }
    r.stream = 0;
    assert_int_equal(encode(ASC_OAI_OPENAI, &r, "m"), ASC_OK);
    assert_null(strstr(g_body, "stream"));
}

static void test_encode_parts(void **state)
{
    (void)state;
    asc_part_t parts[3];
    parts[0] = text("What is in these images?");
    memset(&parts[1], 0, sizeof parts[1]);
    parts[1].type = ASC_PART_IMAGE_URL;
    parts[1].url = S("https://example.com/cat.png");
    parts[1].detail = S("low");
    memset(&parts[2], 0, sizeof parts[2]);
    parts[2].type = ASC_PART_IMAGE_BASE64;
    parts[2].media_type = S("image/png");
    parts[2].data = S("iVBORw0KGgo=");
    parts[2].cache_control = S("{\"type\":\"ephemeral\"}");
    asc_part_t two[] = {text("part one"), text("part two")};
    asc_msg_t msgs[] = {msg(ASC_ROLE_SYSTEM, two, 2), msg(ASC_ROLE_USER, parts, 3),
                        msg(ASC_ROLE_USER, NULL, 0)};
    asc_chat_req_t r = new_req();
    r.msgs = msgs;
    r.nmsgs = 3;
    assert_int_equal(encode(ASC_OAI_OPENAI, &r, "gpt-4o"), ASC_OK);
    expect_json(g_body,
                "{\"model\":\"gpt-4o\",\"messages\":["
                "{\"role\":\"system\",\"content\":[{\"type\":\"text\",\"text\":\"part one\"},"
                "{\"type\":\"text\",\"text\":\"part two\"}]},"
                "{\"role\":\"user\",\"content\":["
                "{\"type\":\"text\",\"text\":\"What is in these images?\"},"
                "{\"type\":\"image_url\",\"image_url\":{\"url\":\"https://example.com/cat.png\","
                "\"detail\":\"low\"}},"
                "{\"type\":\"image_url\",\"image_url\":{\"url\":\"data:image/png;base64,"
                "iVBORw0KGgo=\"}}]},"
                "{\"role\":\"user\",\"content\":\"\"}]}");
    /* the prompt-caching hint is dropped and named */
    assert_string_equal(g_err, "dropped: cache_control");
}

static void test_encode_tools(void **state)
{
    (void)state;
    asc_part_t u = text("Weather in Paris and Rome?");
    asc_tool_t tools[2];
    memset(tools, 0, sizeof tools);
    tools[0].name = S("get_weather");
    tools[0].description = S("Current weather");
    tools[0].parameters = S("{\"type\":\"object\",\"properties\":{\"city\":{\"type\":\"string\"}},"
                            "\"required\":[\"city\"]}");
    tools[0].strict = 1;
    tools[1].name = S("noop");
    tools[1].strict = -1;
    asc_msg_t m = msg(ASC_ROLE_USER, &u, 1);
    asc_chat_req_t r = new_req();
    r.msgs = &m;
    r.nmsgs = 1;
    r.tools = tools;
    r.ntools = 2;
    r.tool_choice = ASC_TOOL_CHOICE_REQUIRED;
    r.parallel_tool_calls = 0;
    assert_int_equal(encode(ASC_OAI_OPENAI, &r, "gpt-4o"), ASC_OK);
    expect_json(g_body,
                "{\"model\":\"gpt-4o\",\"messages\":[{\"role\":\"user\",\"content\":\"Weather in "
                "Paris and Rome?\"}],\"tools\":[{\"type\":\"function\",\"function\":{\"name\":"
                "\"get_weather\",\"description\":\"Current weather\",\"parameters\":{\"type\":"
                "\"object\",\"properties\":{\"city\":{\"type\":\"string\"}},\"required\":["
                "\"city\"]},\"strict\":true}},{\"type\":\"function\",\"function\":{\"name\":"
                "\"noop\"}}],\"tool_choice\":\"required\",\"parallel_tool_calls\":false}");

    static const struct {
        asc_tool_choice_t c;
        const char *json;
    } choices[] = {
        {ASC_TOOL_CHOICE_AUTO, "\"tool_choice\":\"auto\""},
        {ASC_TOOL_CHOICE_NONE, "\"tool_choice\":\"none\""},
        {ASC_TOOL_CHOICE_FUNCTION,
         "\"tool_choice\":{\"type\":\"function\",\"function\":{\"name\":\"get_weather\"}}"},
    };
    r.tool_choice_name = S("get_weather");
    r.parallel_tool_calls = 1;
    for (size_t i = 0; i < sizeof choices / sizeof choices[0]; i++) {
        r.tool_choice = choices[i].c;
        assert_int_equal(encode(ASC_OAI_OPENAI, &r, "gpt-4o"), ASC_OK);
        if (strstr(g_body, choices[i].json) == NULL)
            fail_msg("%s not in %s", choices[i].json, g_body);
        assert_non_null(strstr(g_body, "\"parallel_tool_calls\":true"));
    }
    /* without tools, tool_choice and parallel_tool_calls are left out
     * (OpenAI refuses them there) */
    r.ntools = 0;
    r.tool_choice = ASC_TOOL_CHOICE_AUTO;
    assert_int_equal(encode(ASC_OAI_OPENAI, &r, "gpt-4o"), ASC_OK);
    assert_null(strstr(g_body, "tool_choice"));
    assert_null(strstr(g_body, "parallel_tool_calls"));
}

static void test_encode_tool_turn(void **state)
{
    (void)state;
    asc_part_t u = text("Weather in Paris and Rome?"), said = text("Let me check."),
               r1 = text("18C sunny"), r2 = text("{\"error\":\"unknown city\"}");
    asc_tool_call_t calls[] = {
        {S("call_abc123"), S("get_weather"), S("{\"city\":\"Paris\"}")},
        {S("toolu_01A09q90qw90lq917835lq9"), S("get_weather"), S("{\"city\":\"Rome\"}")},
    };
    asc_tool_call_t call3 = {S("call_x"), S("noop"), ASC_STR_NULL};
    asc_msg_t msgs[6];
    msgs[0] = msg(ASC_ROLE_USER, &u, 1);
    msgs[1] = msg(ASC_ROLE_ASSISTANT, NULL, 0);
    msgs[1].tool_calls = calls;
    msgs[1].ntool_calls = 2;
    msgs[2] = msg(ASC_ROLE_TOOL, &r1, 1);
    msgs[2].tool_call_id = S("call_abc123");
    msgs[3] = msg(ASC_ROLE_TOOL, &r2, 1);
    msgs[3].tool_call_id = S("toolu_01A09q90qw90lq917835lq9");
    msgs[3].is_error = 1;
    msgs[4] = msg(ASC_ROLE_ASSISTANT, &said, 1);
    msgs[4].tool_calls = &call3;
    msgs[4].ntool_calls = 1;
    msgs[5] = msg(ASC_ROLE_TOOL, NULL, 0);
    msgs[5].tool_call_id = S("call_x");
    asc_chat_req_t r = new_req();
    r.msgs = msgs;
    r.nmsgs = 6;
    assert_int_equal(encode(ASC_OAI_OPENAI, &r, "gpt-4o"), ASC_OK);
    expect_json(g_body,
                "{\"model\":\"gpt-4o\",\"messages\":["
                "{\"role\":\"user\",\"content\":\"Weather in Paris and Rome?\"},"
                "{\"role\":\"assistant\",\"content\":null,\"tool_calls\":["
                "{\"id\":\"call_abc123\",\"type\":\"function\",\"function\":{\"name\":"
                "\"get_weather\",\"arguments\":\"{\\\"city\\\":\\\"Paris\\\"}\"}},"
                "{\"id\":\"toolu_01A09q90qw90lq917835lq9\",\"type\":\"function\",\"function\":{"
                "\"name\":\"get_weather\",\"arguments\":\"{\\\"city\\\":\\\"Rome\\\"}\"}}]},"
                "{\"role\":\"tool\",\"tool_call_id\":\"call_abc123\",\"content\":\"18C sunny\"},"
                "{\"role\":\"tool\",\"tool_call_id\":\"toolu_01A09q90qw90lq917835lq9\","
                "\"content\":\"{\\\"error\\\":\\\"unknown city\\\"}\"},"
                "{\"role\":\"assistant\",\"content\":\"Let me check.\",\"tool_calls\":["
                "{\"id\":\"call_x\",\"type\":\"function\",\"function\":{\"name\":\"noop\","
                "\"arguments\":\"{}\"}}]},"
                "{\"role\":\"tool\",\"tool_call_id\":\"call_x\",\"content\":\"\"}]}");
    assert_string_equal(g_err, "dropped: is_error");
}

/* Tool arguments are sent as a JSON string: pretty-printed JSON (an
 * Anthropic `input` object as the client wrote it) is compacted; text that
 * is not JSON goes verbatim. */
static void test_encode_arguments(void **state)
{
    (void)state;
    asc_part_t u = text("go");
    asc_tool_call_t calls[] = {
        {S("c1"), S("f"),
         S("{\n  \"city\": \"New York\",\n  \"tags\": [ \"a b\", \"\\\" x\" ]\n}")},
        {S("c2"), S("f"), S("{\"a\": 1, \"b\"")},
        {S("c3"), S("f"), S("{\n  \"unterminated\": \"x  y")},
    };
    asc_part_t res = text("ok");
    asc_msg_t msgs[] = {msg(ASC_ROLE_USER, &u, 1), msg(ASC_ROLE_ASSISTANT, NULL, 0),
                        msg(ASC_ROLE_TOOL, &res, 1)};
    msgs[1].tool_calls = calls;
    msgs[1].ntool_calls = 3;
    msgs[2].tool_call_id = S("c1");
    asc_chat_req_t r = new_req();
    r.msgs = msgs;
    r.nmsgs = 3;
    assert_int_equal(encode(ASC_OAI_OPENAI, &r, "m"), ASC_OK);
    cJSON *j = cJSON_Parse(g_body);
    assert_non_null(j);
    cJSON *tcs = cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(j, "messages"), 1),
                                     "tool_calls");
    const char *want[] = {"{\"city\":\"New York\",\"tags\":[\"a b\",\"\\\" x\"]}",
                          "{\"a\": 1, \"b\"", "{\n  \"unterminated\": \"x  y"};
    for (int i = 0; i < 3; i++) {
        cJSON *fn = cJSON_GetObjectItem(cJSON_GetArrayItem(tcs, i), "function");
        assert_string_equal(cJSON_GetObjectItem(fn, "arguments")->valuestring, want[i]);
    }
    cJSON_Delete(j);
}

static void test_encode_format(void **state)
{
    (void)state;
    asc_part_t u = text("List three colors as JSON.");
    asc_msg_t m = msg(ASC_ROLE_USER, &u, 1);
    asc_chat_req_t r = new_req();
    r.msgs = &m;
    r.nmsgs = 1;
    r.format = ASC_FORMAT_JSON_OBJECT;
    assert_int_equal(encode(ASC_OAI_OPENAI, &r, "gpt-4o"), ASC_OK);
    assert_non_null(strstr(g_body, "\"response_format\":{\"type\":\"json_object\"}"));

    r.format = ASC_FORMAT_JSON_SCHEMA;
    r.format_name = S("colors");
    r.format_schema = S("{\"type\":\"object\",\"properties\":{\"colors\":{\"type\":\"array\"}}}");
    r.format_strict = 1;
    assert_int_equal(encode(ASC_OAI_OPENAI, &r, "gpt-4o"), ASC_OK);
    expect_json(g_body, "{\"model\":\"gpt-4o\",\"messages\":[{\"role\":\"user\",\"content\":"
                        "\"List three colors as JSON.\"}],\"response_format\":{\"type\":"
                        "\"json_schema\",\"json_schema\":{\"name\":\"colors\",\"schema\":{"
                        "\"type\":\"object\",\"properties\":{\"colors\":{\"type\":\"array\"}}},"
                        "\"strict\":true}}}");
    /* OpenAI requires a name: a schema without one is named "response" */
    r.format_name = ASC_STR_NULL;
    r.format_strict = -1;
    assert_int_equal(encode(ASC_OAI_OPENAI, &r, "gpt-4o"), ASC_OK);
    assert_non_null(strstr(g_body, "{\"name\":\"response\",\"schema\":"));
    assert_null(strstr(g_body, "strict"));
    /* text is the default: nothing sent */
    r.format = ASC_FORMAT_TEXT;
    assert_int_equal(encode(ASC_OAI_OPENAI, &r, "gpt-4o"), ASC_OK);
    assert_null(strstr(g_body, "response_format"));
}

static void test_encode_refusals(void **state)
{
    (void)state;
    asc_part_t u = text("Hi");
    asc_msg_t m = msg(ASC_ROLE_USER, &u, 1);
    asc_chat_req_t r = new_req();
    r.msgs = &m;
    r.nmsgs = 1;

    r.has_top_k = 1;
    r.top_k = 40;
    for (int p = ASC_OAI_OPENAI; p <= ASC_OAI_COMPATIBLE; p++) {
        assert_int_equal(encode((asc_oai_profile_t)p, &r, "m"), ASC_EUNSUPPORTED);
        assert_true(strncmp(g_err, "top_k: ", 7) == 0);
    }
    r.has_top_k = 0;

    r.thinking = S("{\"type\":\"enabled\",\"budget_tokens\":2048}");
    assert_int_equal(encode(ASC_OAI_OPENAI, &r, "m"), ASC_EUNSUPPORTED);
    assert_true(strncmp(g_err, "thinking: ", 10) == 0);
    /* disabled thinking asks for nothing */
    r.thinking = S(" {\"type\":\"disabled\"}");
    assert_int_equal(encode(ASC_OAI_OPENAI, &r, "m"), ASC_OK);
    assert_null(strstr(g_body, "thinking"));
    r.thinking = ASC_STR_NULL;

    /* images where OpenAI takes none */
    asc_part_t img;
    memset(&img, 0, sizeof img);
    img.type = ASC_PART_IMAGE_URL;
    img.url = S("https://example.com/x.png");
    asc_part_t two[] = {text("see"), img};
    asc_msg_t msgs[] = {msg(ASC_ROLE_SYSTEM, two, 2), msg(ASC_ROLE_USER, &u, 1)};
    r.msgs = msgs;
    r.nmsgs = 2;
    assert_int_equal(encode(ASC_OAI_OPENAI, &r, "m"), ASC_EUNSUPPORTED);
    assert_true(strncmp(g_err, "messages[0].content[1]: ", 24) == 0);
    msgs[0] = msg(ASC_ROLE_TOOL, two, 2);
    msgs[0].tool_call_id = S("call_1");
    assert_int_equal(encode(ASC_OAI_OPENAI, &r, "m"), ASC_EUNSUPPORTED);
    assert_non_null(strstr(g_err, "tool results"));

    /* no messages */
    r.nmsgs = 0;
    assert_int_equal(encode(ASC_OAI_OPENAI, &r, "m"), ASC_EINVAL);
}

static void test_encode_hints(void **state)
{
    (void)state;
    asc_part_t u = text("Hi");
    asc_msg_t m = msg(ASC_ROLE_USER, &u, 1);
    asc_chat_req_t r = new_req();
    r.msgs = &m;
    r.nmsgs = 1;
    r.reasoning = S("\"low\"");
    assert_int_equal(encode(ASC_OAI_OPENAI, &r, "o4-mini"), ASC_OK);
    assert_non_null(strstr(g_body, "\"reasoning_effort\":\"low\""));
    assert_string_equal(g_err, "");
    /* the Responses reasoning object: effort kept, summary dropped */
    r.reasoning = S("{\"effort\":\"high\",\"summary\":\"auto\"}");
    assert_int_equal(encode(ASC_OAI_OPENAI, &r, "o4-mini"), ASC_OK);
    assert_non_null(strstr(g_body, "\"reasoning_effort\":\"high\""));
    assert_string_equal(g_err, "dropped: reasoning");
    r.reasoning = S("medium");
    assert_int_equal(encode(ASC_OAI_OPENAI, &r, "o4-mini"), ASC_OK);
    assert_non_null(strstr(g_body, "\"reasoning_effort\":\"medium\""));
    r.reasoning = S("{\"summary\":\"auto\"}");
    assert_int_equal(encode(ASC_OAI_OPENAI, &r, "o4-mini"), ASC_OK);
    assert_null(strstr(g_body, "reasoning_effort"));
    assert_string_equal(g_err, "dropped: reasoning");

    /* several drops are listed once each */
    asc_part_t parts[] = {text("a"), text("b")};
    parts[0].cache_control = parts[1].cache_control = S("{\"type\":\"ephemeral\"}");
    asc_msg_t tm = msg(ASC_ROLE_TOOL, parts, 2);
    tm.is_error = 1;
    tm.name = S("fn");
    tm.tool_call_id = S("c");
    asc_msg_t msgs[] = {tm, msg(ASC_ROLE_USER, &u, 1)};
    r.msgs = msgs;
    r.nmsgs = 2;
    r.reasoning = ASC_STR_NULL;
    assert_int_equal(encode(ASC_OAI_OPENAI, &r, "m"), ASC_OK);
    assert_string_equal(g_err, "dropped: cache_control, is_error, name");
}

static void test_encode_escaping_and_limit(void **state)
{
    (void)state;
    asc_part_t u = text("quote \" backslash \\ newline \n tab \t ctrl \x01 utf8 \xc3\xa9");
    asc_msg_t m = msg(ASC_ROLE_USER, &u, 1);
    asc_chat_req_t r = new_req();
    r.msgs = &m;
    r.nmsgs = 1;
    assert_int_equal(encode(ASC_OAI_OPENAI, &r, "we\"ird/model"), ASC_OK);
    cJSON *j = cJSON_Parse(g_body);
    assert_non_null(j);
    assert_string_equal(cJSON_GetObjectItem(j, "model")->valuestring, "we\"ird/model");
    const char *c =
        cJSON_GetArrayItem(cJSON_GetObjectItem(j, "messages"), 0)->child->next->valuestring;
    assert_string_equal(c, "quote \" backslash \\ newline \n tab \t ctrl \x01 utf8 \xc3\xa9");
    cJSON_Delete(j);

    /* a body over the buffer's limit is ETOOBIG and leaves it unchanged,
     * even when a later, smaller write would still fit */
    static char big[4000];
    memset(big, 'x', sizeof big - 1);
    asc_part_t bp[] = {text(big), text("y")};
    asc_msg_t bm = msg(ASC_ROLE_USER, bp, 2);
    r.msgs = &bm;
    asc_pool_t *pool = asc_pool_create(0);
    asc_buf_t out;
    asc_buf_init(&out, 1024);
    asc_buf_puts(&out, "keep");
    char err[128];
    assert_int_equal(asc_openai_canon_encode(ASC_OAI_OPENAI, &r, "m", pool, &out, err, sizeof err),
                     ASC_ETOOBIG);
    assert_int_equal(out.len, 4);
    assert_string_equal(out.data, "keep");
    asc_buf_free(&out);
    asc_pool_destroy(pool);
}

static void test_adapter_tables(void **state)
{
    (void)state;
    const asc_adapter_t *a = &asc_adapter_openai, *c = &asc_adapter_openai_compatible;
    assert_string_equal(a->kind, "openai");
    assert_string_equal(c->kind, "openai-compatible");
    /* the pass-through members stay */
    assert_non_null(a->chat_request);
    assert_non_null(a->parse_stream_event);
    assert_ptr_equal(a->chat_request, c->chat_request);
    assert_non_null(a->encode_chat);
    assert_non_null(a->decode_chat);
    assert_non_null(a->decode_stream);
    assert_true(a->stream_state_size >= sizeof(asc_oai_stream_t));
    assert_ptr_not_equal(a->encode_chat, c->encode_chat);
}

/* ---- decode -------------------------------------------------------------- */

static asc_err_t decode(const char *body, asc_chat_resp_t *out, asc_pool_t *pool)
{
    return asc_adapter_openai.decode_chat(pool, body, strlen(body), out);
}

static int str_is(asc_str_t s, const char *z)
{
    return s.p != NULL && s.n == strlen(z) && memcmp(s.p, z, s.n) == 0;
}

static void test_decode_text(void **state)
{
    (void)state;
    asc_pool_t *pool = asc_pool_create(0);
    asc_chat_resp_t r;
    const char *body =
        "{\"id\":\"chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT\",\"object\":\"chat.completion\","
        "\"created\":1741569952,\"model\":\"gpt-4o-2024-08-06\",\"choices\":[{\"index\":0,"
        "\"message\":{\"role\":\"assistant\",\"content\":\"Hello! How can I assist you "
        "today?\\n\\u00e9\",\"refusal\":null,\"annotations\":[]},\"logprobs\":null,"
        "\"finish_reason\":\"stop\"}],\"usage\":{\"prompt_tokens\":2006,\"completion_tokens\":"
        "10,\"total_tokens\":2016,\"prompt_tokens_details\":{\"cached_tokens\":1920,"
        "\"audio_tokens\":0},\"completion_tokens_details\":{\"reasoning_tokens\":0}},"
        "\"service_tier\":\"default\",\"system_fingerprint\":\"fp_fc9f1d7035\"}";
    assert_int_equal(decode(body, &r, pool), ASC_OK);
    assert_true(str_is(r.id, "chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT"));
    assert_true(str_is(r.model, "gpt-4o-2024-08-06"));
    assert_int_equal(r.created, 1741569952);
    assert_true(str_is(r.text, "Hello! How can I assist you today?\n\xc3\xa9"));
    assert_null(r.refusal.p);
    assert_int_equal(r.ntool_calls, 0);
    assert_int_equal(r.finish, ASC_FINISH_STOP);
    assert_int_equal(r.usage.present, 1);
    assert_int_equal(r.usage.input_tokens, 2006);
    assert_int_equal(r.usage.output_tokens, 10);
    assert_int_equal(r.usage.cached_tokens, 1920);

    static const struct {
        const char *fr;
        asc_finish_t f;
    } fin[] = {{"length", ASC_FINISH_LENGTH},
               {"content_filter", ASC_FINISH_CONTENT_FILTER},
               {"tool_calls", ASC_FINISH_TOOL_CALLS},
               {"stop", ASC_FINISH_STOP}};
    for (size_t i = 0; i < sizeof fin / sizeof fin[0]; i++) {
        char b[512];
        snprintf(b, sizeof b,
                 "{\"id\":\"x\",\"model\":\"m\",\"choices\":[{\"index\":0,\"message\":{\"role\":"
                 "\"assistant\",\"content\":\"t\"},\"finish_reason\":\"%s\"}]}",
                 fin[i].fr);
        assert_int_equal(decode(b, &r, pool), ASC_OK);
        assert_int_equal(r.finish, fin[i].f);
        assert_int_equal(r.usage.present, 0); /* no usage: the gateway estimates */
        assert_true(r.created > 1600000000);  /* absent: now */
    }
    asc_pool_destroy(pool);
}

static void test_decode_tools_refusal(void **state)
{
    (void)state;
    asc_pool_t *pool = asc_pool_create(0);
    asc_chat_resp_t r;
    const char *body =
        "{\"id\":\"chatcmpl-abc\",\"object\":\"chat.completion\",\"created\":1,\"model\":\"gpt-"
        "4o\","
        "\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":null,"
        "\"tool_calls\":[{\"id\":\"call_1\",\"type\":\"function\",\"function\":{\"name\":"
        "\"get_weather\",\"arguments\":\"{\\\"city\\\":\\\"Paris\\\"}\"}},{\"id\":\"call_2\","
        "\"type\":\"function\",\"function\":{\"name\":\"get_time\",\"arguments\":\"\"}}]},"
        "\"finish_reason\":\"tool_calls\"}],\"usage\":{\"prompt_tokens\":82,"
        "\"completion_tokens\":17,\"total_tokens\":99}}";
    assert_int_equal(decode(body, &r, pool), ASC_OK);
    assert_null(r.text.p);
    assert_int_equal(r.ntool_calls, 2);
    assert_true(str_is(r.tool_calls[0].id, "call_1"));
    assert_true(str_is(r.tool_calls[0].name, "get_weather"));
    assert_true(str_is(r.tool_calls[0].arguments, "{\"city\":\"Paris\"}"));
    assert_true(str_is(r.tool_calls[1].arguments, "{}"));
    assert_int_equal(r.finish, ASC_FINISH_TOOL_CALLS);
    assert_int_equal(r.usage.cached_tokens, 0);

    /* a forced function call comes back with "stop": still tool calls */
    const char *forced =
        "{\"id\":\"chatcmpl-f\",\"model\":\"gpt-4o\",\"choices\":[{\"index\":0,\"message\":{"
        "\"role\":\"assistant\",\"content\":null,\"tool_calls\":[{\"type\":\"function\","
        "\"function\":{\"name\":\"f\",\"arguments\":\"{}\"}}]},\"finish_reason\":\"stop\"}]}";
    assert_int_equal(decode(forced, &r, pool), ASC_OK);
    assert_int_equal(r.finish, ASC_FINISH_TOOL_CALLS);
    /* no id (a self-hosted server): one is made up, deterministic */
    assert_true(r.tool_calls[0].id.n > 5 && memcmp(r.tool_calls[0].id.p, "call_", 5) == 0);
    asc_str_t first = r.tool_calls[0].id;
    asc_chat_resp_t r2;
    assert_int_equal(decode(forced, &r2, pool), ASC_OK);
    assert_true(first.n == r2.tool_calls[0].id.n &&
                memcmp(first.p, r2.tool_calls[0].id.p, first.n) == 0);

    const char *refusal =
        "{\"id\":\"chatcmpl-r\",\"model\":\"gpt-4o\",\"choices\":[{\"index\":0,\"message\":{"
        "\"role\":\"assistant\",\"content\":null,\"refusal\":\"I can't help with that.\"},"
        "\"finish_reason\":\"stop\"}]}";
    assert_int_equal(decode(refusal, &r, pool), ASC_OK);
    assert_true(str_is(r.refusal, "I can't help with that."));
    assert_int_equal(r.finish, ASC_FINISH_STOP);
    asc_pool_destroy(pool);
}

static void test_decode_lenient_and_invalid(void **state)
{
    (void)state;
    asc_pool_t *pool = asc_pool_create(0);
    asc_chat_resp_t r;
    /* content as chunks, no id, no created, choices out of order, null
     * finish_reason */
    const char *body =
        "{\"model\":\"m\",\"choices\":[{\"index\":1,\"message\":{\"content\":"
        "\"other\"}},{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":"
        "[{\"type\":\"thinking\",\"thinking\":[]},{\"type\":\"text\",\"text\":"
        "\"Hel\"},{\"type\":\"text\",\"text\":\"lo\\n\"}]},\"finish_reason\":null}]}";
    assert_int_equal(decode(body, &r, pool), ASC_OK);
    assert_true(str_is(r.text, "Hello\n"));
    assert_int_equal(r.finish, ASC_FINISH_STOP);
    assert_true(r.id.n > 9 && memcmp(r.id.p, "chatcmpl-", 9) == 0);

    static const char *const bad[] = {
        "",
        "not json",
        "[]",
        "{\"choices\":[]}",
        "{\"choices\":[{\"index\":0}]}",
        "{\"choices\":[{\"index\":0,\"message\":\"x\"}]}",
        "{\"error\":{\"message\":\"boom\",\"type\":\"server_error\"}}",
        "{\"object\":\"error\",\"message\":\"boom\"}",
        "{\"id\":\"a\",\"id\":\"b\",\"choices\":[]}",
        "{\"choices\":[{\"index\":0,\"message\":{\"tool_calls\":[1]}}]}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (decode(bad[i], &r, pool) != ASC_EINVAL)
            fail_msg("accepted: %s", bad[i]);
    /* Mistral's finish_reason "error": the generation failed */
    assert_int_equal(decode("{\"id\":\"x\",\"choices\":[{\"index\":0,\"message\":{\"content\":"
                            "\"par\"},\"finish_reason\":\"error\"}]}",
                            &r, pool),
                     ASC_EUPSTREAM);
    asc_pool_destroy(pool);
}

/* ---- streams ------------------------------------------------------------- */

static const char *fin_name(asc_finish_t f)
{
    switch (f) {
    case ASC_FINISH_STOP: return "stop";
    case ASC_FINISH_STOP_SEQUENCE: return "stop_sequence";
    case ASC_FINISH_LENGTH: return "length";
    case ASC_FINISH_TOOL_CALLS: return "tool_calls";
    case ASC_FINISH_CONTENT_FILTER: return "content_filter";
    case ASC_FINISH_PAUSE: return "pause";
    default: return "none";
    }
}

typedef struct {
    asc_buf_t log;
    int stop_at; /* return 1 from the n-th event (1-based), 0 = never */
    int n;
} rec_t;

static int record(void *ud, const asc_sev_t *ev)
{
    rec_t *r = ud;
    asc_buf_t *b = &r->log;
    switch (ev->type) {
    case ASC_SEV_START:
        asc_buf_printf(b, "START %.*s %.*s\n", (int)ev->id.n, ev->id.p ? ev->id.p : "",
                       (int)ev->model.n, ev->model.p ? ev->model.p : "");
        break;
    case ASC_SEV_TEXT: asc_buf_printf(b, "TEXT %.*s\n", (int)ev->text.n, ev->text.p); break;
    case ASC_SEV_TOOL_START:
        asc_buf_printf(b, "TOOL_START %d %.*s %.*s\n", ev->tool_index, (int)ev->tool_id.n,
                       ev->tool_id.p, (int)ev->tool_name.n, ev->tool_name.p);
        break;
    case ASC_SEV_TOOL_ARGS:
        asc_buf_printf(b, "TOOL_ARGS %d %.*s\n", ev->tool_index, (int)ev->text.n, ev->text.p);
        break;
    case ASC_SEV_FINISH: asc_buf_printf(b, "FINISH %s\n", fin_name(ev->finish)); break;
    case ASC_SEV_USAGE:
        asc_buf_printf(b, "USAGE %lld %lld %lld\n", (long long)ev->usage.input_tokens,
                       (long long)ev->usage.output_tokens, (long long)ev->usage.cached_tokens);
        break;
    case ASC_SEV_DONE: asc_buf_puts(b, "DONE\n"); break;
    case ASC_SEV_ERROR:
        asc_buf_printf(b, "ERROR %d %s %.*s\n", ev->error_status, ev->error_code,
                       (int)ev->error_message.n, ev->error_message.p);
        break;
    }
    r->n++;
    return r->stop_at > 0 && r->n >= r->stop_at;
}

/* Feed each data payload (NULL-terminated list) as one SSE event; the
 * result code of the first failure, else ASC_OK. The log in *out. */
static asc_err_t feed_ex(const asc_adapter_t *a, const char *const *data, int stop_at, char **out)
{
    void *st = calloc(1, a->stream_state_size);
    asc_pool_t *pool = asc_pool_create(0);
    rec_t r;
    asc_buf_init(&r.log, 0);
    asc_buf_puts(&r.log, "");
    r.stop_at = stop_at;
    r.n = 0;
    asc_err_t rc = ASC_OK;
    for (size_t i = 0; data[i] != NULL && rc == ASC_OK; i++) {
        /* copy so the decoder cannot rely on a NUL after the data */
        size_t n = strlen(data[i]);
        char *copy = malloc(n + 1);
        memcpy(copy, data[i], n);
        copy[n] = '#';
        rc = a->decode_stream(st, pool, NULL, copy, n, record, &r);
        free(copy);
        asc_pool_reset(pool);
    }
    *out = r.log.data;
    asc_pool_destroy(pool);
    free(st);
    return rc;
}

static void expect_stream(const asc_adapter_t *a, const char *const *data, const char *expected)
{
    char *log;
    assert_int_equal(feed_ex(a, data, 0, &log), ASC_OK);
    if (strcmp(log, expected) != 0) {
        print_error("expected:\n%s\nactual:\n%s\n", expected, log);
        free(log);
        fail();
    }
    free(log);
}

#define CHUNK(delta, fin)                                                                          \
    "{\"id\":\"chatcmpl-A1\",\"object\":\"chat.completion.chunk\",\"created\":1741569952,"         \
    "\"model\":\"gpt-4o-2024-08-06\",\"system_fingerprint\":\"fp_1\",\"choices\":[{\"index\":0,"   \
    "\"delta\":" delta ",\"logprobs\":null,\"finish_reason\":" fin "}],\"usage\":null}"

static void test_stream_text(void **state)
{
    (void)state;
    const char *const data[] = {
        CHUNK("{\"role\":\"assistant\",\"content\":\"\",\"refusal\":null}", "null"),
        CHUNK("{\"content\":\"Hello\"}", "null"),
        CHUNK("{\"content\":\" w\\u00f6rld\\n\"}", "null"),
        CHUNK("{}", "\"stop\""),
        "{\"id\":\"chatcmpl-A1\",\"object\":\"chat.completion.chunk\",\"created\":1741569952,"
        "\"model\":\"gpt-4o-2024-08-06\",\"choices\":[],\"usage\":{\"prompt_tokens\":19,"
        "\"completion_tokens\":3,\"total_tokens\":22,\"prompt_tokens_details\":{"
        "\"cached_tokens\":0}}}",
        "[DONE]",
        NULL,
    };
    expect_stream(&asc_adapter_openai, data,
                  "START chatcmpl-A1 gpt-4o-2024-08-06\n"
                  "TEXT Hello\n"
                  "TEXT  w\xc3\xb6rld\n\n"
                  "FINISH stop\n"
                  "USAGE 19 3 0\n"
                  "DONE\n");
}

static void test_stream_parallel_tools(void **state)
{
    (void)state;
    const char *const data[] = {
        CHUNK("{\"role\":\"assistant\",\"content\":null}", "null"),
        CHUNK("{\"tool_calls\":[{\"index\":0,\"id\":\"call_P\",\"type\":\"function\","
              "\"function\":{\"name\":\"get_weather\",\"arguments\":\"\"}}]}",
              "null"),
        CHUNK("{\"tool_calls\":[{\"index\":0,\"function\":{\"arguments\":\"{\\\"ci\"}}]}", "null"),
        CHUNK("{\"tool_calls\":[{\"index\":1,\"id\":\"call_R\",\"type\":\"function\","
              "\"function\":{\"name\":\"get_weather\",\"arguments\":\"{\\\"city\"}}]}",
              "null"),
        CHUNK(
            "{\"tool_calls\":[{\"index\":0,\"function\":{\"arguments\":\"ty\\\":\\\"Paris\\\"}\"}},"
            "{\"index\":1,\"function\":{\"arguments\":\"\\\":\\\"Rome\\\"}\"}}]}",
            "null"),
        CHUNK("{}", "\"tool_calls\""),
        "{\"id\":\"chatcmpl-A1\",\"choices\":[],\"usage\":{\"prompt_tokens\":80,"
        "\"completion_tokens\":40,\"total_tokens\":120,\"prompt_tokens_details\":{"
        "\"cached_tokens\":64}}}",
        "[DONE]",
        NULL,
    };
    expect_stream(&asc_adapter_openai, data,
                  "START chatcmpl-A1 gpt-4o-2024-08-06\n"
                  "TOOL_START 0 call_P get_weather\n"
                  "TOOL_ARGS 0 {\"ci\n"
                  "TOOL_START 1 call_R get_weather\n"
                  "TOOL_ARGS 1 {\"city\n"
                  "TOOL_ARGS 0 ty\":\"Paris\"}\n"
                  "TOOL_ARGS 1 \":\"Rome\"}\n"
                  "FINISH tool_calls\n"
                  "USAGE 80 40 64\n"
                  "DONE\n");
}

/* A self-hosted server: no ids, no usage, finish_reason in the chunk with
 * the last content, no role chunk. */
static void test_stream_compatible(void **state)
{
    (void)state;
    const char *const data[] = {
        "{\"object\":\"chat.completion.chunk\",\"model\":\"llama3\",\"choices\":[{\"index\":0,"
        "\"delta\":{\"content\":\"Hi\"}}]}",
        "{\"object\":\"chat.completion.chunk\",\"model\":\"llama3\",\"choices\":[{\"index\":0,"
        "\"delta\":{\"content\":\" there\"},\"finish_reason\":\"length\"}]}",
        "[DONE]",
        NULL,
    };
    char *log;
    assert_int_equal(feed_ex(&asc_adapter_openai_compatible, data, 0, &log), ASC_OK);
    /* a made-up id, then the events; no USAGE (the gateway estimates) */
    assert_true(strncmp(log, "START chatcmpl-", 15) == 0);
    const char *rest = strchr(log, '\n');
    assert_non_null(rest);
    assert_string_equal(rest, "\nTEXT Hi\nTEXT  there\nFINISH length\nDONE\n");
    free(log);

    /* tool calls without ids or index; no finish_reason before [DONE] */
    const char *const tools[] = {
        "{\"choices\":[{\"delta\":{\"tool_calls\":[{\"function\":{\"name\":\"f\",\"arguments\":"
        "\"{\\\"a\\\"\"}}]}}]}",
        "{\"choices\":[{\"delta\":{\"tool_calls\":[{\"function\":{\"arguments\":\":1}\"}}]}}]}",
        "{\"choices\":[{\"delta\":{\"tool_calls\":[{\"function\":{\"name\":\"g\",\"arguments\":"
        "{\"b\":2}}}]}}]}",
        "[DONE]",
        NULL,
    };
    assert_int_equal(feed_ex(&asc_adapter_openai_compatible, tools, 0, &log), ASC_OK);
    char id0[64], id1[64], name0[8], name1[8];
    assert_int_equal(sscanf(strstr(log, "TOOL_START 0"), "TOOL_START 0 %63s %7s", id0, name0), 2);
    assert_int_equal(sscanf(strstr(log, "TOOL_START 1"), "TOOL_START 1 %63s %7s", id1, name1), 2);
    assert_true(strncmp(id0, "call_", 5) == 0 && strncmp(id1, "call_", 5) == 0);
    assert_string_not_equal(id0, id1);
    assert_string_equal(name0, "f");
    assert_string_equal(name1, "g");
    assert_non_null(strstr(log, "TOOL_ARGS 0 {\"a\"\nTOOL_ARGS 0 :1}\n"));
    assert_non_null(strstr(log, "TOOL_ARGS 1 {\"b\":2}\n"));
    assert_non_null(strstr(log, "FINISH tool_calls\nDONE\n"));
    free(log);
}

/* vLLM with continuous usage stats: usage in every chunk; one USAGE with
 * the last numbers, after FINISH. */
static void test_stream_usage_every_chunk(void **state)
{
    (void)state;
    const char *const data[] = {
        "{\"id\":\"cmpl-1\",\"model\":\"q\",\"choices\":[{\"index\":0,\"delta\":{\"role\":"
        "\"assistant\"}}],\"usage\":{\"prompt_tokens\":5,\"completion_tokens\":0}}",
        "{\"id\":\"cmpl-1\",\"model\":\"q\",\"choices\":[{\"index\":0,\"delta\":{\"content\":"
        "\"a\"}}],\"usage\":{\"prompt_tokens\":5,\"completion_tokens\":1}}",
        "{\"id\":\"cmpl-1\",\"model\":\"q\",\"choices\":[{\"index\":0,\"delta\":{},"
        "\"finish_reason\":\"stop\"}],\"usage\":{\"prompt_tokens\":5,\"completion_tokens\":2}}",
        "{\"id\":\"cmpl-1\",\"model\":\"q\",\"choices\":[],\"usage\":{\"prompt_tokens\":5,"
        "\"completion_tokens\":2}}",
        "[DONE]",
        NULL,
    };
    expect_stream(&asc_adapter_openai_compatible, data,
                  "START cmpl-1 q\nTEXT a\nFINISH stop\nUSAGE 5 2 0\nUSAGE 5 2 0\nDONE\n");
}

static void test_stream_errors(void **state)
{
    (void)state;
    static const struct {
        const char *data;
        const char *line;
    } cases[] = {
        {"{\"error\":{\"message\":\"The server is overloaded\",\"type\":\"server_error\","
         "\"code\":\"overloaded\"}}",
         "ERROR 503 overloaded The server is overloaded\n"},
        {"{\"error\":{\"message\":\"Rate limit reached\",\"type\":\"tokens\",\"code\":"
         "\"rate_limit_exceeded\"}}",
         "ERROR 429 rate_limited Rate limit reached\n"},
        {"{\"error\":{\"message\":\"bad thing\",\"type\":\"invalid_request_error\"}}",
         "ERROR 502 upstream_error bad thing\n"},
        {"{\"object\":\"error\",\"message\":\"boom\",\"type\":\"InternalServerError\","
         "\"code\":503}",
         "ERROR 503 overloaded boom\n"},
        {"{\"error\":\"plain\"}", "ERROR 502 upstream_error plain\n"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *const data[] = {
            CHUNK("{\"content\":\"Hi\"}", "null"),
            cases[i].data,
            CHUNK("{\"content\":\"after\"}", "null"), /* nothing after an error */
            "[DONE]",
            NULL,
        };
        char expected[256];
        snprintf(expected, sizeof expected, "START chatcmpl-A1 gpt-4o-2024-08-06\nTEXT Hi\n%s",
                 cases[i].line);
        expect_stream(&asc_adapter_openai, data, expected);
    }
    /* an error before anything: no START (the gateway can still fall back) */
    const char *const first[] = {cases[0].data, NULL};
    expect_stream(&asc_adapter_openai, first, cases[0].line);
}

static void test_stream_malformed_and_stop(void **state)
{
    (void)state;
    char *log;
    const char *const bad[] = {CHUNK("{\"content\":\"Hi\"}", "null"),
                               "{\"choices\":[{\"delta\":", NULL};
    assert_int_equal(feed_ex(&asc_adapter_openai, bad, 0, &log), ASC_EINVAL);
    free(log);
    const char *const bad2[] = {"{\"choices\":{}}", NULL};
    assert_int_equal(feed_ex(&asc_adapter_openai, bad2, 0, &log), ASC_EINVAL);
    free(log);
    /* more tool calls than the state can index */
    const char *const many[] = {
        "{\"choices\":[{\"delta\":{\"tool_calls\":[{\"index\":500,\"id\":\"c\",\"function\":{"
        "\"name\":\"f\"}}]}}]}",
        NULL};
    assert_int_equal(feed_ex(&asc_adapter_openai, many, 0, &log), ASC_EINVAL);
    free(log);
    /* empty data (keep-alive) is ignored */
    const char *const ka[] = {"", "  ", CHUNK("{\"content\":\"x\"}", "\"stop\""), "[DONE]", NULL};
    expect_stream(&asc_adapter_openai, ka,
                  "START chatcmpl-A1 gpt-4o-2024-08-06\nTEXT x\nFINISH stop\nDONE\n");
    /* the receiver stops after 2 events */
    const char *const data[] = {CHUNK("{\"content\":\"a\"}", "null"),
                                CHUNK("{\"content\":\"b\"}", "null"), "[DONE]", NULL};
    assert_int_equal(feed_ex(&asc_adapter_openai, data, 2, &log), ASC_OK);
    assert_string_equal(log, "START chatcmpl-A1 gpt-4o-2024-08-06\nTEXT a\n");
    free(log);
    /* [DONE] alone */
    const char *const done[] = {"[DONE]", NULL};
    assert_int_equal(feed_ex(&asc_adapter_openai, done, 0, &log), ASC_OK);
    assert_non_null(strstr(log, "\nFINISH stop\nDONE\n"));
    free(log);
}

/* A server that reuses index 0 for every call (a new id each time). */
static void test_stream_reused_index(void **state)
{
    (void)state;
    const char *const data[] = {
        "{\"id\":\"c\",\"model\":\"m\",\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{"
        "\"index\":0,\"id\":\"call_a\",\"function\":{\"name\":\"f\",\"arguments\":\"{}\"}}]}}]}",
        "{\"id\":\"c\",\"model\":\"m\",\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{"
        "\"index\":0,\"id\":\"call_b\",\"function\":{\"name\":\"g\",\"arguments\":\"{}\"}}]}}]}",
        "{\"id\":\"c\",\"model\":\"m\",\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{"
        "\"index\":0,\"id\":\"call_b\",\"function\":{\"arguments\":\"\"}}]},\"finish_reason\":"
        "\"tool_calls\"}]}",
        "[DONE]",
        NULL,
    };
    expect_stream(&asc_adapter_openai_compatible, data,
                  "START c m\nTOOL_START 0 call_a f\nTOOL_ARGS 0 {}\nTOOL_START 1 call_b g\n"
                  "TOOL_ARGS 1 {}\nFINISH tool_calls\nDONE\n");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_encode_basic),
        cmocka_unit_test(test_encode_stream_usage),
        cmocka_unit_test(test_encode_parts),
        cmocka_unit_test(test_encode_tools),
        cmocka_unit_test(test_encode_tool_turn),
        cmocka_unit_test(test_encode_arguments),
        cmocka_unit_test(test_encode_format),
        cmocka_unit_test(test_encode_refusals),
        cmocka_unit_test(test_encode_hints),
        cmocka_unit_test(test_encode_escaping_and_limit),
        cmocka_unit_test(test_adapter_tables),
        cmocka_unit_test(test_decode_text),
        cmocka_unit_test(test_decode_tools_refusal),
        cmocka_unit_test(test_decode_lenient_and_invalid),
        cmocka_unit_test(test_stream_text),
        cmocka_unit_test(test_stream_parallel_tools),
        cmocka_unit_test(test_stream_compatible),
        cmocka_unit_test(test_stream_usage_every_chunk),
        cmocka_unit_test(test_stream_errors),
        cmocka_unit_test(test_stream_malformed_and_stop),
        cmocka_unit_test(test_stream_reused_index),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* The Anthropic upstream adapter: canonical requests → Messages request
 * bodies, Messages responses and SSE streams → canonical responses and
 * events, and error classification. Expected bodies are written by hand
 * from Anthropic's API reference and compared as JSON values. */
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
#include "provider/sse.h"

#define S(lit) ((asc_str_t){lit, sizeof(lit) - 1})
#define N(a) (sizeof(a) / sizeof(a)[0])

static const asc_adapter_t *A = &asc_adapter_anthropic;

static asc_part_t text_part(const char *t)
{
    asc_part_t p;
    memset(&p, 0, sizeof p);
    p.type = ASC_PART_TEXT;
    p.text = (asc_str_t){t, strlen(t)};
    return p;
}

static asc_msg_t msg(asc_role_t role, asc_part_t *parts, size_t nparts)
{
    asc_msg_t m;
    memset(&m, 0, sizeof m);
    m.role = role;
    m.parts = parts;
    m.nparts = nparts;
    return m;
}

static void req_init(asc_chat_req_t *r, asc_msg_t *msgs, size_t n)
{
    memset(r, 0, sizeof *r);
    r->model = S("claude");
    r->msgs = msgs;
    r->nmsgs = n;
    r->parallel_tool_calls = -1;
    r->format_strict = -1;
}

/* Encode r; returns the body (static storage until the next call) and the
 * notes in *notes when not NULL. Fails the test on an error. */
static char g_body[1 << 16];
static char notes[256];

static const char *encode(const asc_chat_req_t *r)
{
    asc_buf_t out;
    asc_pool_t *pool = asc_pool_create(0);
    asc_buf_init(&out, 0);
    asc_err_t rc = A->encode_chat(r, "claude-sonnet-4-5", pool, &out, notes, sizeof notes);
    if (rc != ASC_OK)
        fail_msg("encode_chat: %s: %s", asc_err_name(rc), notes);
    assert_true(out.len < sizeof g_body);
    memcpy(g_body, out.data, out.len + 1);
    asc_buf_free(&out);
    asc_pool_destroy(pool);
    return g_body;
}

static void assert_json_eq(const char *got, const char *want)
{
    cJSON *g = cJSON_Parse(got), *w = cJSON_Parse(want);
    if (w == NULL)
        fail_msg("bad expected JSON: %s", want);
    if (g == NULL)
        fail_msg("output is not JSON: %s", got);
    if (!cJSON_Compare(g, w, 1)) {
        char *gs = cJSON_PrintUnformatted(g), *ws = cJSON_PrintUnformatted(w);
        print_error("got:  %s\nwant: %s\n", gs, ws);
        free(gs);
        free(ws);
        cJSON_Delete(g);
        cJSON_Delete(w);
        fail();
    }
    cJSON_Delete(g);
    cJSON_Delete(w);
}

/* ---- encode ----------------------------------------------------------- */

static void test_encode_basic(void **state)
{
    (void)state;
    asc_part_t p[] = {text_part("Hello")};
    asc_msg_t m[] = {msg(ASC_ROLE_USER, p, 1)};
    asc_chat_req_t r;
    req_init(&r, m, 1);
    /* no max_tokens from the client: the documented default */
    assert_json_eq(encode(&r), "{\"model\":\"claude-sonnet-4-5\",\"max_tokens\":4096,"
                               "\"messages\":[{\"role\":\"user\",\"content\":\"Hello\"}]}");
    assert_string_equal(notes, "");
    r.has_max_tokens = 1;
    r.max_tokens = 100;
    r.stream = 1;
    r.include_usage = 1; /* Anthropic always streams usage: nothing to send */
    assert_json_eq(encode(&r), "{\"model\":\"claude-sonnet-4-5\",\"max_tokens\":100,"
                               "\"messages\":[{\"role\":\"user\",\"content\":\"Hello\"}],"
                               "\"stream\":true}");
    /* the exact bytes, to pin the key order and escaping */
    asc_part_t q[] = {text_part("a \"q\"\n\x01")};
    m[0].parts = q;
    r.stream = 0;
    r.has_max_tokens = 0;
    assert_string_equal(encode(&r), "{\"model\":\"claude-sonnet-4-5\",\"max_tokens\":4096,"
                                    "\"messages\":[{\"role\":\"user\",\"content\":"
                                    "\"a \\\"q\\\"\\n\\u0001\"}]}");
}

static void test_encode_system_hoisting(void **state)
{
    (void)state;
    asc_part_t s1[] = {text_part("You are terse.")};
    asc_part_t s2[] = {text_part("Answer in French.")};
    asc_part_t u1[] = {text_part("Hi")};
    asc_part_t a1[] = {text_part("Bonjour")};
    asc_part_t u2[] = {text_part("Bye")};
    asc_msg_t m[] = {msg(ASC_ROLE_SYSTEM, s1, 1), msg(ASC_ROLE_USER, u1, 1),
                     msg(ASC_ROLE_ASSISTANT, a1, 1), msg(ASC_ROLE_SYSTEM, s2, 1),
                     msg(ASC_ROLE_USER, u2, 1)};
    asc_chat_req_t r;
    /* one system text: a plain string */
    req_init(&r, m, 3);
    assert_json_eq(encode(&r),
                   "{\"model\":\"claude-sonnet-4-5\",\"max_tokens\":4096,"
                   "\"system\":\"You are terse.\",\"messages\":[{\"role\":\"user\",\"content\":"
                   "\"Hi\"},{\"role\":\"assistant\",\"content\":\"Bonjour\"}]}");
    /* two (one mid-conversation, e.g. an OpenAI developer message): text
     * blocks in order, and the messages never carry a system role */
    req_init(&r, m, 5);
    assert_json_eq(encode(&r),
                   "{\"model\":\"claude-sonnet-4-5\",\"max_tokens\":4096,"
                   "\"system\":[{\"type\":\"text\",\"text\":\"You are terse.\"},{\"type\":\"text\","
                   "\"text\":\"Answer in French.\"}],\"messages\":[{\"role\":\"user\",\"content\":"
                   "\"Hi\"},{\"role\":\"assistant\",\"content\":\"Bonjour\"},{\"role\":\"user\","
                   "\"content\":\"Bye\"}]}");
    /* a cache_control hint keeps the block form */
    s1[0].cache_control = S("{\"type\":\"ephemeral\"}");
    req_init(&r, m, 2);
    assert_json_eq(encode(&r), "{\"model\":\"claude-sonnet-4-5\",\"max_tokens\":4096,"
                               "\"system\":[{\"type\":\"text\",\"text\":\"You are terse.\","
                               "\"cache_control\":{\"type\":\"ephemeral\"}}],"
                               "\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"}]}");
    /* a system image cannot be hoisted */
    asc_part_t img;
    memset(&img, 0, sizeof img);
    img.type = ASC_PART_IMAGE_URL;
    img.url = S("https://example.com/a.png");
    m[0].parts = &img;
    asc_buf_t out;
    asc_buf_init(&out, 0);
    asc_pool_t *pool = asc_pool_create(0);
    char err[200];
    assert_int_equal(A->encode_chat(&r, "x", pool, &out, err, sizeof err), ASC_EUNSUPPORTED);
    assert_non_null(strstr(err, "system"));
    assert_int_equal(out.len, 0);
    asc_buf_free(&out);
    asc_pool_destroy(pool);
}

static void test_encode_tool_turns(void **state)
{
    (void)state;
    asc_part_t u1[] = {text_part("Weather in Paris and Rome?")};
    asc_part_t a1[] = {text_part("Let me check."), text_part("")};
    asc_tool_call_t calls[] = {
        {S("toolu_01A"), S("get_weather"), S("{\"city\": \"Paris\"}")},
        {S("call_2"), S("get_weather"), S("")},        /* "" → {} */
        {S("call.3:x"), S("get_time"), S("not json")}, /* id mapped, args → {} */
    };
    asc_part_t t1[] = {text_part("18C sunny")};
    asc_part_t t2[] = {text_part("Rome: "), text_part("25C")};
    asc_part_t u2[] = {text_part("Thanks! And tomorrow?")};
    asc_msg_t m[] = {msg(ASC_ROLE_USER, u1, 1),   msg(ASC_ROLE_ASSISTANT, a1, 2),
                     msg(ASC_ROLE_TOOL, t1, 1),   msg(ASC_ROLE_TOOL, t2, 2),
                     msg(ASC_ROLE_TOOL, NULL, 0), msg(ASC_ROLE_USER, u2, 1)};
    m[1].tool_calls = calls;
    m[1].ntool_calls = 3;
    m[2].tool_call_id = S("toolu_01A");
    m[3].tool_call_id = S("call_2");
    m[4].tool_call_id = S("call.3:x");
    m[4].is_error = 1;
    asc_chat_req_t r;
    req_init(&r, m, N(m));
    const char *got = encode(&r);
    assert_json_eq(
        got,
        "{\"model\":\"claude-sonnet-4-5\",\"max_tokens\":4096,\"messages\":["
        "{\"role\":\"user\",\"content\":\"Weather in Paris and Rome?\"},"
        "{\"role\":\"assistant\",\"content\":[{\"type\":\"text\",\"text\":\"Let me check.\"},"
        "{\"type\":\"tool_use\",\"id\":\"toolu_01A\",\"name\":\"get_weather\",\"input\":{\"city\":"
        "\"Paris\"}},{\"type\":\"tool_use\",\"id\":\"call_2\",\"name\":\"get_weather\",\"input\":"
        "{}},{\"type\":\"tool_use\",\"id\":\"toolu_asc5b6cd1815fefde5e\",\"name\":\"get_time\","
        "\"input\":{}}]},"
        "{\"role\":\"user\",\"content\":[{\"type\":\"tool_result\",\"tool_use_id\":\"toolu_01A\","
        "\"content\":\"18C sunny\"},{\"type\":\"tool_result\",\"tool_use_id\":\"call_2\","
        "\"content\":[{\"type\":\"text\",\"text\":\"Rome: \"},{\"type\":\"text\",\"text\":"
        "\"25C\"}]},{\"type\":\"tool_result\",\"tool_use_id\":\"toolu_asc5b6cd1815fefde5e\","
        "\"is_error\":true},{\"type\":\"text\",\"text\":\"Thanks! And tomorrow?\"}]}]}");
    /* the arguments object is copied verbatim (spacing kept) */
    assert_non_null(strstr(got, "\"input\":{\"city\": \"Paris\"}"));
}

static void test_encode_alternation(void **state)
{
    (void)state;
    asc_part_t u1[] = {text_part("one")};
    asc_part_t u2[] = {text_part("two")};
    asc_part_t empty[] = {text_part("")};
    asc_part_t u3[] = {text_part("three")};
    asc_part_t s[] = {text_part("sys")};
    /* user, user, empty assistant (dropped), system (hoisted), user */
    asc_msg_t m[] = {msg(ASC_ROLE_USER, u1, 1), msg(ASC_ROLE_USER, u2, 1),
                     msg(ASC_ROLE_ASSISTANT, empty, 1), msg(ASC_ROLE_SYSTEM, s, 1),
                     msg(ASC_ROLE_USER, u3, 1)};
    m[1].name = S("bob");
    asc_chat_req_t r;
    req_init(&r, m, N(m));
    assert_json_eq(encode(&r), "{\"model\":\"claude-sonnet-4-5\",\"max_tokens\":4096,"
                               "\"system\":\"sys\",\"messages\":[{\"role\":\"user\",\"content\":["
                               "{\"type\":\"text\",\"text\":\"one\"},{\"type\":\"text\",\"text\":"
                               "\"two\"},{\"type\":\"text\",\"text\":\"three\"}]}]}");
    assert_string_equal(notes, "name");
}

static void test_encode_images(void **state)
{
    (void)state;
    asc_part_t p[4];
    memset(p, 0, sizeof p);
    p[0] = text_part("What is in these?");
    p[1].type = ASC_PART_IMAGE_URL;
    p[1].url = S("https://upload.example.org/cat.jpg");
    p[1].detail = S("high");
    p[2].type = ASC_PART_IMAGE_URL;
    p[2].url = S("data:image/png;base64,iVBORw0KGgo=");
    p[3].type = ASC_PART_IMAGE_BASE64;
    p[3].media_type = S("image/webp");
    p[3].data = S("UklGRg==");
    p[3].cache_control = S("{\"type\":\"ephemeral\"}");
    asc_msg_t m[] = {msg(ASC_ROLE_USER, p, 4)};
    asc_chat_req_t r;
    req_init(&r, m, 1);
    assert_json_eq(
        encode(&r),
        "{\"model\":\"claude-sonnet-4-5\",\"max_tokens\":4096,\"messages\":[{\"role\":\"user\","
        "\"content\":[{\"type\":\"text\",\"text\":\"What is in these?\"},{\"type\":\"image\","
        "\"source\":{\"type\":\"url\",\"url\":\"https://upload.example.org/cat.jpg\"}},"
        "{\"type\":\"image\",\"source\":{\"type\":\"base64\",\"media_type\":\"image/png\","
        "\"data\":\"iVBORw0KGgo=\"}},{\"type\":\"image\",\"source\":{\"type\":\"base64\","
        "\"media_type\":\"image/webp\",\"data\":\"UklGRg==\"},\"cache_control\":{\"type\":"
        "\"ephemeral\"}}]}]}");
    assert_string_equal(notes, "detail");

    static const char *const bad[] = {"ftp://x/y.png", "data:image/png,notbase64",
                                      "data:;base64,AAAA", "file:///etc/passwd"};
    for (size_t i = 0; i < N(bad); i++) {
        p[1].url = (asc_str_t){bad[i], strlen(bad[i])};
        asc_buf_t out;
        asc_buf_init(&out, 0);
        asc_buf_puts(&out, "keep");
        asc_pool_t *pool = asc_pool_create(0);
        char err[200];
        assert_int_equal(A->encode_chat(&r, "x", pool, &out, err, sizeof err), ASC_EUNSUPPORTED);
        assert_non_null(strstr(err, "image_url"));
        assert_string_equal(out.data, "keep"); /* the buffer is left as it was */
        asc_buf_free(&out);
        asc_pool_destroy(pool);
    }
}

static void test_encode_tools(void **state)
{
    (void)state;
    asc_part_t p[] = {text_part("hi")};
    asc_msg_t m[] = {msg(ASC_ROLE_USER, p, 1)};
    asc_tool_t tools[] = {
        {S("get_weather"), S("Current weather"),
         S("{\"type\":\"object\",\"properties\":{\"city\":{\"type\":\"string\"}}}"), 1},
        {S("noop"), ASC_STR_NULL, ASC_STR_NULL, -1},
        {S("loose"), ASC_STR_NULL, S("{\"properties\":{}}"), 0},
    };
    asc_chat_req_t r;
    req_init(&r, m, 1);
    r.tools = tools;
    r.ntools = N(tools);
    const char *tools_json =
        "[{\"name\":\"get_weather\",\"description\":\"Current weather\",\"input_schema\":{"
        "\"type\":\"object\",\"properties\":{\"city\":{\"type\":\"string\"}}},\"strict\":true},"
        "{\"name\":\"noop\",\"input_schema\":{\"type\":\"object\"}},{\"name\":\"loose\","
        "\"input_schema\":{\"type\":\"object\",\"properties\":{}}}]";
    static const struct {
        asc_tool_choice_t choice;
        int parallel;
        const char *want; /* tool_choice, or NULL for none */
    } cases[] = {
        {ASC_TOOL_CHOICE_UNSET, -1, NULL},
        {ASC_TOOL_CHOICE_UNSET, 1, NULL},
        {ASC_TOOL_CHOICE_UNSET, 0, "{\"type\":\"auto\",\"disable_parallel_tool_use\":true}"},
        {ASC_TOOL_CHOICE_AUTO, -1, "{\"type\":\"auto\"}"},
        {ASC_TOOL_CHOICE_REQUIRED, -1, "{\"type\":\"any\"}"},
        {ASC_TOOL_CHOICE_REQUIRED, 0, "{\"type\":\"any\",\"disable_parallel_tool_use\":true}"},
        {ASC_TOOL_CHOICE_NONE, -1, "{\"type\":\"none\"}"},
        {ASC_TOOL_CHOICE_NONE, 0, "{\"type\":\"none\"}"},
        {ASC_TOOL_CHOICE_FUNCTION, -1, "{\"type\":\"tool\",\"name\":\"get_weather\"}"},
        {ASC_TOOL_CHOICE_FUNCTION, 0,
         "{\"type\":\"tool\",\"name\":\"get_weather\",\"disable_parallel_tool_use\":true}"},
    };
    for (size_t i = 0; i < N(cases); i++) {
        char want[2048];
        r.tool_choice = cases[i].choice;
        r.tool_choice_name =
            cases[i].choice == ASC_TOOL_CHOICE_FUNCTION ? S("get_weather") : ASC_STR_NULL;
        r.parallel_tool_calls = cases[i].parallel;
        snprintf(want, sizeof want,
                 "{\"model\":\"claude-sonnet-4-5\",\"max_tokens\":4096,\"messages\":[{\"role\":"
                 "\"user\",\"content\":\"hi\"}],\"tools\":%s%s%s}",
                 tools_json, cases[i].want ? ",\"tool_choice\":" : "",
                 cases[i].want ? cases[i].want : "");
        assert_json_eq(encode(&r), want);
    }
    /* no tools: auto / none have nothing to choose from and are left out */
    r.ntools = 0;
    r.tool_choice = ASC_TOOL_CHOICE_NONE;
    r.parallel_tool_calls = 0;
    assert_json_eq(encode(&r), "{\"model\":\"claude-sonnet-4-5\",\"max_tokens\":4096,"
                               "\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}");
}

static void test_encode_params(void **state)
{
    (void)state;
    asc_part_t p[] = {text_part("hi")};
    asc_msg_t m[] = {msg(ASC_ROLE_USER, p, 1)};
    asc_str_t stop[] = {S("\n\nHuman:"), S("END")};
    asc_chat_req_t r;
    req_init(&r, m, 1);
    r.stop = stop;
    r.nstop = 2;
    r.has_temperature = r.has_top_p = r.has_top_k = r.has_seed = r.has_max_tokens = 1;
    r.temperature = 0.7;
    r.top_p = 0.9;
    r.top_k = 40;
    r.seed = 42;
    r.max_tokens = 256;
    r.user = S("user-123");
    r.metadata = S("{\"trace\":\"abc\"}");
    r.thinking = S("{\"type\":\"enabled\",\"budget_tokens\":2048}");
    const char *got = encode(&r);
    assert_json_eq(got, "{\"model\":\"claude-sonnet-4-5\",\"max_tokens\":256,\"messages\":[{"
                        "\"role\":\"user\",\"content\":\"hi\"}],\"stop_sequences\":[\"\\n\\nHuman:"
                        "\",\"END\"],\"temperature\":0.7,\"top_p\":0.9,\"top_k\":40,\"metadata\":{"
                        "\"user_id\":\"user-123\"},\"thinking\":{\"type\":\"enabled\","
                        "\"budget_tokens\":2048}}");
    assert_non_null(strstr(got, "\"temperature\":0.7,")); /* shortest form */
    assert_string_equal(notes, "metadata,seed");
    /* an Anthropic client's metadata.user_id goes through; no user */
    r.user = ASC_STR_NULL;
    r.metadata = S("{\"user_id\":\"u-\\u00e9\"}");
    r.has_seed = 0;
    got = encode(&r);
    assert_non_null(strstr(got, "\"metadata\":{\"user_id\":\"u-\\u00e9\"}"));
    assert_string_equal(notes, "");
    /* json_schema has a native form */
    r.metadata = ASC_STR_NULL;
    r.nstop = 0;
    r.has_temperature = r.has_top_p = r.has_top_k = 0;
    r.thinking = ASC_STR_NULL;
    r.format = ASC_FORMAT_JSON_SCHEMA;
    r.format_name = S("answer");
    r.format_schema = S("{\"type\":\"object\",\"properties\":{\"a\":{\"type\":\"integer\"}},"
                        "\"required\":[\"a\"],\"additionalProperties\":false}");
    assert_json_eq(
        encode(&r),
        "{\"model\":\"claude-sonnet-4-5\",\"max_tokens\":256,\"messages\":[{\"role\":"
        "\"user\",\"content\":\"hi\"}],\"output_config\":{\"format\":{\"type\":"
        "\"json_schema\",\"schema\":{\"type\":\"object\",\"properties\":{\"a\":{"
        "\"type\":\"integer\"}},\"required\":[\"a\"],\"additionalProperties\":false}}}}");
}

static void test_encode_refusals(void **state)
{
    (void)state;
    asc_part_t p[] = {text_part("hi")};
    asc_msg_t m[] = {msg(ASC_ROLE_USER, p, 1)};
    static const struct {
        int what;
        const char *param;
    } cases[] = {{0, "response_format"},
                 {1, "reasoning_effort"},
                 {2, "temperature"},
                 {3, "temperature"},
                 {4, "response_format"}};
    for (size_t i = 0; i < N(cases); i++) {
        asc_chat_req_t r;
        req_init(&r, m, 1);
        switch (cases[i].what) {
        case 0: r.format = ASC_FORMAT_JSON_OBJECT; break;
        case 1: r.reasoning = S("\"high\""); break;
        case 2:
            r.has_temperature = 1;
            r.temperature = 1.5; /* fine for OpenAI, out of Anthropic's range */
            break;
        case 3:
            r.has_temperature = 1;
            r.temperature = -0.1;
            break;
        default: r.format = ASC_FORMAT_JSON_SCHEMA; break; /* no schema */
        }
        asc_buf_t out;
        asc_buf_init(&out, 0);
        asc_pool_t *pool = asc_pool_create(0);
        char err[200] = "";
        assert_int_equal(A->encode_chat(&r, "x", pool, &out, err, sizeof err), ASC_EUNSUPPORTED);
        assert_int_equal(strncmp(err, cases[i].param, strlen(cases[i].param)), 0);
        assert_int_equal(out.len, 0);
        asc_buf_free(&out);
        asc_pool_destroy(pool);
    }
    /* format TEXT is the default: nothing to send */
    asc_chat_req_t r;
    req_init(&r, m, 1);
    r.format = ASC_FORMAT_TEXT;
    assert_json_eq(encode(&r), "{\"model\":\"claude-sonnet-4-5\",\"max_tokens\":4096,"
                               "\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}");
    /* a bounded output buffer refuses cleanly */
    asc_buf_t small;
    asc_buf_init(&small, 16);
    asc_pool_t *pool = asc_pool_create(0);
    char err[200];
    assert_int_equal(A->encode_chat(&r, "x", pool, &small, err, sizeof err), ASC_ETOOBIG);
    assert_int_equal(small.len, 0);
    asc_buf_free(&small);
    asc_pool_destroy(pool);
}

/* ---- decode ----------------------------------------------------------- */

static asc_chat_resp_t decode_ok(asc_pool_t *pool, const char *json)
{
    asc_chat_resp_t resp;
    asc_err_t rc = A->decode_chat(pool, json, strlen(json), &resp);
    if (rc != ASC_OK)
        fail_msg("decode_chat(%s): %s", json, asc_err_name(rc));
    return resp;
}

static void assert_str(asc_str_t s, const char *want)
{
    if (want == NULL) {
        assert_null(s.p);
        return;
    }
    assert_non_null(s.p);
    assert_int_equal(s.n, strlen(want));
    assert_memory_equal(s.p, want, s.n);
}

static void test_decode_message(void **state)
{
    (void)state;
    asc_pool_t *pool = asc_pool_create(0);
    const char *body =
        "{\"id\":\"msg_01XFDUDYJgAACzvnptvVoYEL\",\"type\":\"message\",\"role\":\"assistant\","
        "\"model\":\"claude-sonnet-4-5-20250929\",\"content\":[{\"type\":\"thinking\","
        "\"thinking\":\"hmm\",\"signature\":\"abc\"},{\"type\":\"text\",\"text\":\"I'll check "
        "\\\"both\\\".\\n\"},{\"type\":\"tool_use\",\"id\":\"toolu_01A09q90qw90lq917835lq9\","
        "\"name\":\"get_weather\",\"input\":{\"location\": \"Paris\"}},{\"type\":\"text\","
        "\"text\":\"\\u00e9\"},{\"type\":\"tool_use\",\"id\":\"toolu_02\",\"name\":\"get_time\","
        "\"input\":{}}],\"stop_reason\":\"tool_use\",\"stop_sequence\":null,\"usage\":{"
        "\"input_tokens\":472,\"cache_creation_input_tokens\":100,\"cache_read_input_tokens\":"
        "2000,\"output_tokens\":89,\"service_tier\":\"standard\"}}";
    asc_chat_resp_t r = decode_ok(pool, body);
    assert_str(r.id, "msg_01XFDUDYJgAACzvnptvVoYEL");
    assert_str(r.model, "claude-sonnet-4-5-20250929");
    assert_str(r.text, "I'll check \"both\".\n\xc3\xa9");
    assert_int_equal(r.ntool_calls, 2);
    assert_str(r.tool_calls[0].id, "toolu_01A09q90qw90lq917835lq9");
    assert_str(r.tool_calls[0].name, "get_weather");
    assert_str(r.tool_calls[0].arguments, "{\"location\": \"Paris\"}");
    assert_str(r.tool_calls[1].arguments, "{}");
    assert_int_equal(r.finish, ASC_FINISH_TOOL_CALLS);
    assert_null(r.stop_sequence.p);
    assert_true(r.usage.present);
    assert_int_equal(r.usage.input_tokens, 472 + 100 + 2000);
    assert_int_equal(r.usage.cached_tokens, 2000);
    assert_int_equal(r.usage.cache_write_tokens, 100);
    assert_int_equal(r.usage.output_tokens, 89);
    assert_int_equal(r.created, 0);

    /* only tool calls: no text at all (OpenAI content null) */
    r = decode_ok(pool, "{\"type\":\"message\",\"content\":[{\"type\":\"tool_use\",\"id\":\"t\","
                        "\"name\":\"n\",\"input\":{\"a\":[1,2]}}],\"stop_reason\":\"tool_use\"}");
    assert_null(r.text.p);
    assert_str(r.tool_calls[0].arguments, "{\"a\":[1,2]}");
    assert_false(r.usage.present);
    asc_pool_destroy(pool);
}

static void test_decode_stop_reasons(void **state)
{
    (void)state;
    static const struct {
        const char *reason;
        asc_finish_t want;
    } cases[] = {
        {"\"end_turn\"", ASC_FINISH_STOP},
        {"\"max_tokens\"", ASC_FINISH_LENGTH},
        {"\"stop_sequence\"", ASC_FINISH_STOP_SEQUENCE},
        {"\"tool_use\"", ASC_FINISH_TOOL_CALLS},
        {"\"refusal\"", ASC_FINISH_CONTENT_FILTER},
        {"\"pause_turn\"", ASC_FINISH_PAUSE},
        {"\"model_context_window_exceeded\"", ASC_FINISH_LENGTH},
        {"\"some_future_reason\"", ASC_FINISH_STOP},
        {"null", ASC_FINISH_NONE},
    };
    asc_pool_t *pool = asc_pool_create(0);
    for (size_t i = 0; i < N(cases); i++) {
        char json[512];
        snprintf(json, sizeof json,
                 "{\"id\":\"msg_1\",\"type\":\"message\",\"role\":\"assistant\",\"model\":\"m\","
                 "\"content\":[{\"type\":\"text\",\"text\":\"x\"}],\"stop_reason\":%s,"
                 "\"stop_sequence\":%s,\"usage\":{\"input_tokens\":3,\"output_tokens\":1}}",
                 cases[i].reason,
                 cases[i].want == ASC_FINISH_STOP_SEQUENCE ? "\"\\n\\nHuman:\"" : "null");
        asc_chat_resp_t r = decode_ok(pool, json);
        assert_int_equal(r.finish, cases[i].want);
        assert_str(r.stop_sequence,
                   cases[i].want == ASC_FINISH_STOP_SEQUENCE ? "\n\nHuman:" : NULL);
        assert_int_equal(r.usage.input_tokens, 3);
        assert_int_equal(r.usage.cached_tokens, 0);
    }
    asc_pool_destroy(pool);
}

static void test_decode_invalid(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "",
        "[]",
        "{\"type\":\"error\",\"error\":{\"type\":\"api_error\",\"message\":\"x\"}}",
        "{\"type\":\"message\"}",
        "{\"type\":\"message\",\"content\":\"text\"}",
        "{\"type\":\"message\",\"content\":[1]}",
        "{\"type\":\"message\",\"content\":[{\"type\":\"tool_use\",\"name\":\"n\"}]}",
        "{\"type\":\"message\",\"content\":[],\"id\":\"a\",\"id\":\"b\"}",
        "{\"type\":\"message\",\"content\":[]",
    };
    asc_pool_t *pool = asc_pool_create(0);
    for (size_t i = 0; i < N(bad); i++) {
        asc_chat_resp_t r;
        assert_int_equal(A->decode_chat(pool, bad[i], strlen(bad[i]), &r), ASC_EINVAL);
    }
    /* a pool too small for the copies */
    asc_pool_t *tiny = asc_pool_create(4096);
    char big[8192];
    memset(big, 'a', sizeof big);
    int n = snprintf(big, 64, "{\"type\":\"message\",\"content\":[{\"type\":\"text\",\"text\":\"");
    big[n] = 'a';
    memcpy(big + sizeof big - 6, "\"}]}", 5);
    asc_chat_resp_t r;
    asc_err_t rc = A->decode_chat(tiny, big, strlen(big), &r);
    assert_int_equal(rc, ASC_ETOOBIG);
    asc_pool_destroy(tiny);
    asc_pool_destroy(pool);
}

/* ---- stream ----------------------------------------------------------- */

typedef struct {
    char log[8192]; /* one line per canonical event */
    size_t len;
    int stop_after; /* return non-zero after this many events (0 = never) */
    int count;
    asc_canon_usage_t last_usage;
} sink_t;

static int sink(void *ud, const asc_sev_t *ev)
{
    sink_t *s = ud;
    char line[512];
    int n = 0;
    switch (ev->type) {
    case ASC_SEV_START:
        n = snprintf(line, sizeof line, "START %.*s %.*s\n", (int)ev->id.n, ev->id.p,
                     (int)ev->model.n, ev->model.p);
        break;
    case ASC_SEV_TEXT:
        n = snprintf(line, sizeof line, "TEXT %.*s\n", (int)ev->text.n, ev->text.p);
        break;
    case ASC_SEV_TOOL_START:
        n = snprintf(line, sizeof line, "TOOL_START %d %.*s %.*s\n", ev->tool_index,
                     (int)ev->tool_id.n, ev->tool_id.p, (int)ev->tool_name.n, ev->tool_name.p);
        break;
    case ASC_SEV_TOOL_ARGS:
        n = snprintf(line, sizeof line, "TOOL_ARGS %d %.*s\n", ev->tool_index, (int)ev->text.n,
                     ev->text.p);
        break;
    case ASC_SEV_FINISH:
        n = snprintf(line, sizeof line, "FINISH %d %.*s\n", (int)ev->finish,
                     (int)ev->stop_sequence.n, ev->stop_sequence.p ? ev->stop_sequence.p : "");
        break;
    case ASC_SEV_USAGE:
        n = snprintf(line, sizeof line, "USAGE in=%lld out=%lld cached=%lld write=%lld\n",
                     (long long)ev->usage.input_tokens, (long long)ev->usage.output_tokens,
                     (long long)ev->usage.cached_tokens, (long long)ev->usage.cache_write_tokens);
        s->last_usage = ev->usage;
        break;
    case ASC_SEV_DONE: n = snprintf(line, sizeof line, "DONE\n"); break;
    case ASC_SEV_ERROR:
        n = snprintf(line, sizeof line, "ERROR %d %s %.*s\n", ev->error_status, ev->error_code,
                     (int)ev->error_message.n, ev->error_message.p);
        s->last_usage = ev->usage;
        break;
    }
    assert_true(s->len + (size_t)n < sizeof s->log);
    memcpy(s->log + s->len, line, (size_t)n + 1);
    s->len += (size_t)n;
    s->count++;
    return s->stop_after > 0 && s->count >= s->stop_after;
}

typedef struct {
    void *state;
    asc_pool_t *pool;
    sink_t *sink;
    asc_err_t first_err;
} feed_t;

static int on_sse(void *ud, const char *event, const char *data, size_t len, size_t raw_end)
{
    feed_t *f = ud;
    (void)raw_end;
    asc_pool_reset(f->pool);
    asc_err_t rc = A->decode_stream(f->state, f->pool, event, data, len, sink, f->sink);
    if (rc != ASC_OK && f->first_err == ASC_OK)
        f->first_err = rc;
    return rc != ASC_OK;
}

/* Feed a recorded SSE byte stream in chunks of `chunk` bytes. */
static asc_err_t run_stream(const char *sse, size_t chunk, sink_t *s)
{
    feed_t f;
    asc_sse_t p;
    memset(&f, 0, sizeof f);
    f.state = calloc(1, A->stream_state_size);
    f.pool = asc_pool_create(1 << 20);
    f.sink = s;
    asc_sse_init(&p, 1 << 20);
    size_t len = strlen(sse);
    for (size_t off = 0; off < len && f.first_err == ASC_OK; off += chunk) {
        size_t n = len - off < chunk ? len - off : chunk;
        asc_sse_feed(&p, sse + off, n, on_sse, &f);
    }
    asc_sse_free(&p);
    asc_pool_destroy(f.pool);
    free(f.state);
    return f.first_err;
}

/* A recorded stream: text, then two parallel tool calls whose input arrives
 * in fragments (the first empty), pings, cache usage. */
static const char STREAM_TOOLS[] =
    "event: message_start\n"
    "data: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_014p7gG3wDgGV9EUtLvnow3U\","
    "\"type\":\"message\",\"role\":\"assistant\",\"model\":\"claude-sonnet-4-5-20250929\","
    "\"content\":[],\"stop_reason\":null,\"stop_sequence\":null,\"usage\":{\"input_tokens\":472,"
    "\"cache_creation_input_tokens\":0,\"cache_read_input_tokens\":1024,\"output_tokens\":2}}}\n"
    "\n"
    "event: content_block_start\n"
    "data: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\","
    "\"text\":\"\"}}\n"
    "\n"
    "event: ping\n"
    "data: {\"type\": \"ping\"}\n"
    "\n"
    "event: content_block_delta\n"
    "data: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\","
    "\"text\":\"Checking both \"}}\n"
    "\n"
    "event: content_block_delta\n"
    "data: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\","
    "\"text\":\"cities.\"}}\n"
    "\n"
    "event: content_block_stop\n"
    "data: {\"type\":\"content_block_stop\",\"index\":0}\n"
    "\n"
    "event: content_block_start\n"
    "data: {\"type\":\"content_block_start\",\"index\":1,\"content_block\":{\"type\":\"tool_use\","
    "\"id\":\"toolu_01T1x1fJ34qAmk2tNTrN7Up6\",\"name\":\"get_weather\",\"input\":{}}}\n"
    "\n"
    "event: content_block_delta\n"
    "data: {\"type\":\"content_block_delta\",\"index\":1,\"delta\":{\"type\":\"input_json_delta\","
    "\"partial_json\":\"\"}}\n"
    "\n"
    "event: content_block_delta\n"
    "data: {\"type\":\"content_block_delta\",\"index\":1,\"delta\":{\"type\":\"input_json_delta\","
    "\"partial_json\":\"{\\\"city\\\": \\\"Pa\"}}\n"
    "\n"
    "event: content_block_delta\n"
    "data: {\"type\":\"content_block_delta\",\"index\":1,\"delta\":{\"type\":\"input_json_delta\","
    "\"partial_json\":\"ris\\\"}\"}}\n"
    "\n"
    "event: content_block_stop\n"
    "data: {\"type\":\"content_block_stop\",\"index\":1}\n"
    "\n"
    "event: ping\n"
    "data: {\"type\": \"ping\"}\n"
    "\n"
    "event: content_block_start\n"
    "data: {\"type\":\"content_block_start\",\"index\":2,\"content_block\":{\"type\":\"tool_use\","
    "\"id\":\"toolu_01Bq2yJ8kXrNeZ3pQ4sT5uVw\",\"name\":\"get_weather\",\"input\":{}}}\n"
    "\n"
    "event: content_block_delta\n"
    "data: {\"type\":\"content_block_delta\",\"index\":2,\"delta\":{\"type\":\"input_json_delta\","
    "\"partial_json\":\"{\\\"ci\"}}\n"
    "\n"
    "event: content_block_delta\n"
    "data: {\"type\":\"content_block_delta\",\"index\":2,\"delta\":{\"type\":\"input_json_delta\","
    "\"partial_json\":\"ty\\\": \\\"Rome\\\"}\"}}\n"
    "\n"
    "event: content_block_stop\n"
    "data: {\"type\":\"content_block_stop\",\"index\":2}\n"
    "\n"
    "event: message_delta\n"
    "data: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"tool_use\","
    "\"stop_sequence\":null},\"usage\":{\"output_tokens\":89}}\n"
    "\n"
    "event: message_stop\n"
    "data: {\"type\":\"message_stop\"}\n"
    "\n";

static void test_stream_tools(void **state)
{
    (void)state;
    static const char want[] = "START msg_014p7gG3wDgGV9EUtLvnow3U claude-sonnet-4-5-20250929\n"
                               "USAGE in=1496 out=2 cached=1024 write=0\n"
                               "TEXT Checking both \n"
                               "TEXT cities.\n"
                               "TOOL_START 0 toolu_01T1x1fJ34qAmk2tNTrN7Up6 get_weather\n"
                               "TOOL_ARGS 0 {\"city\": \"Pa\n"
                               "TOOL_ARGS 0 ris\"}\n"
                               "TOOL_START 1 toolu_01Bq2yJ8kXrNeZ3pQ4sT5uVw get_weather\n"
                               "TOOL_ARGS 1 {\"ci\n"
                               "TOOL_ARGS 1 ty\": \"Rome\"}\n"
                               "FINISH 4 \n"
                               "USAGE in=1496 out=89 cached=1024 write=0\n"
                               "DONE\n";
    /* whole, and split into odd chunks (the SSE parser reassembles) */
    static const size_t chunks[] = {sizeof STREAM_TOOLS, 1, 7, 64};
    for (size_t i = 0; i < N(chunks); i++) {
        sink_t s;
        memset(&s, 0, sizeof s);
        assert_int_equal(run_stream(STREAM_TOOLS, chunks[i], &s), ASC_OK);
        assert_string_equal(s.log, want);
    }
    /* the callback can stop the stream */
    sink_t s;
    memset(&s, 0, sizeof s);
    s.stop_after = 3;
    assert_int_equal(run_stream(STREAM_TOOLS, sizeof STREAM_TOOLS, &s), ASC_ECLOSED);
    assert_int_equal(s.count, 3);
}

static void test_stream_text_stop_sequence(void **state)
{
    (void)state;
    /* event lines omitted (the data type decides), unknown events and
     * thinking blocks ignored, message_delta restating input counts */
    static const char sse[] =
        "data: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_1\",\"type\":\"message\","
        "\"role\":\"assistant\",\"model\":\"claude-haiku-4-5\",\"content\":[],\"usage\":{"
        "\"input_tokens\":10,\"output_tokens\":1}}}\n\n"
        "data: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":"
        "\"thinking\",\"thinking\":\"\"}}\n\n"
        "data: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":"
        "\"thinking_delta\",\"thinking\":\"Let me think\"}}\n\n"
        "data: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":"
        "\"signature_delta\",\"signature\":\"EqQB\"}}\n\n"
        "data: {\"type\":\"content_block_stop\",\"index\":0}\n\n"
        "event: future_event\ndata: {\"type\":\"future_event\",\"x\":1}\n\n"
        "data: {\"type\":\"content_block_start\",\"index\":1,\"content_block\":{\"type\":\"text\","
        "\"text\":\"1, 2\"}}\n\n"
        "data: {\"type\":\"content_block_delta\",\"index\":1,\"delta\":{\"type\":\"text_delta\","
        "\"text\":\"\"}}\n\n"
        "data: {\"type\":\"content_block_delta\",\"index\":1,\"delta\":{\"type\":\"text_delta\","
        "\"text\":\", 3\\u00e9\"}}\n\n"
        "data: {\"type\":\"content_block_stop\",\"index\":1}\n\n"
        "data: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"stop_sequence\","
        "\"stop_sequence\":\"4\"},\"usage\":{\"input_tokens\":12,\"cache_read_input_tokens\":"
        "null,\"output_tokens\":7}}\n\n"
        "data: {\"type\":\"message_stop\"}\n\n"
        "data: {\"type\":\"content_block_delta\",\"index\":1,\"delta\":{\"type\":\"text_delta\","
        "\"text\":\"after the end\"}}\n\n";
    sink_t s;
    memset(&s, 0, sizeof s);
    assert_int_equal(run_stream(sse, sizeof sse, &s), ASC_OK);
    assert_string_equal(s.log, "START msg_1 claude-haiku-4-5\n"
                               "USAGE in=10 out=1 cached=0 write=0\n"
                               "TEXT 1, 2\n"
                               "TEXT , 3\xc3\xa9\n"
                               "FINISH 2 4\n"
                               "USAGE in=12 out=7 cached=0 write=0\n"
                               "DONE\n");
}

static void test_stream_without_usage(void **state)
{
    (void)state;
    /* no usage anywhere: no USAGE event (the gateway estimates), rather
     * than a report of zero tokens */
    static const char sse[] =
        "data: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_3\",\"model\":\"m\"}}\n\n"
        "data: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":"
        "\"tool_use\",\"id\":\"toolu_9\",\"name\":\"f\",\"input\":{\"a\":1}}}\n\n"
        "data: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"tool_use\"}}\n\n"
        "data: {\"type\":\"message_stop\"}\n\n";
    sink_t s;
    memset(&s, 0, sizeof s);
    assert_int_equal(run_stream(sse, sizeof sse, &s), ASC_OK);
    assert_string_equal(s.log, "START msg_3 m\n"
                               "TOOL_START 0 toolu_9 f\n"
                               "TOOL_ARGS 0 {\"a\":1}\n"
                               "FINISH 4 \n"
                               "DONE\n");
}

static void test_stream_error_event(void **state)
{
    (void)state;
    static const struct {
        const char *type, *want;
    } cases[] = {
        {"overloaded_error", "ERROR 503 overloaded Overloaded\n"},
        {"rate_limit_error", "ERROR 429 rate_limited Overloaded\n"},
        {"api_error", "ERROR 502 upstream_error Overloaded\n"},
        {"authentication_error", "ERROR 502 upstream_error the upstream stream failed\n"},
    };
    for (size_t i = 0; i < N(cases); i++) {
        char sse[1024];
        snprintf(sse, sizeof sse,
                 "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":"
                 "\"msg_2\",\"model\":\"claude-opus-4-1\",\"usage\":{\"input_tokens\":25,"
                 "\"output_tokens\":1}}}\n\n"
                 "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,"
                 "\"delta\":{\"type\":\"text_delta\",\"text\":\"Hel\"}}\n\n"
                 "event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"%s\","
                 "\"message\":\"Overloaded\"}}\n\n"
                 "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,"
                 "\"delta\":{\"type\":\"text_delta\",\"text\":\"lo\"}}\n\n",
                 cases[i].type);
        sink_t s;
        memset(&s, 0, sizeof s);
        assert_int_equal(run_stream(sse, strlen(sse), &s), ASC_OK);
        char want[256];
        snprintf(want, sizeof want,
                 "START msg_2 claude-opus-4-1\nUSAGE in=25 out=1 cached=0 write=0\nTEXT Hel\n"
                 "USAGE in=25 out=1 cached=0 write=0\n%s",
                 cases[i].want);
        assert_string_equal(s.log, want);
        /* usage known so far travels with the error (the gateway settles) */
        assert_true(s.last_usage.present);
        assert_int_equal(s.last_usage.input_tokens, 25);
    }
}

static void test_stream_malformed(void **state)
{
    (void)state;
    static const char *const bad[] = {
        /* truncated JSON (the mock's malformed fault) */
        "data: {\"type\":\"message_start\",\"message\":{\"id\":\"m\"}}\n\n"
        "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,"
        "\"delta\":{\"type\":\"text_delta\",\"text\":\n\n",
        /* content before message_start */
        "data: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\","
        "\"text\":\"x\"}}\n\n",
        /* message_start without a message */
        "data: {\"type\":\"message_start\"}\n\n",
        /* a delta without an index */
        "data: {\"type\":\"message_start\",\"message\":{}}\n\n"
        "data: {\"type\":\"content_block_delta\",\"delta\":{\"type\":\"text_delta\",\"text\":"
        "\"x\"}}\n\n",
        /* tool_use without an id */
        "data: {\"type\":\"message_start\",\"message\":{}}\n\n"
        "data: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":"
        "\"tool_use\",\"name\":\"n\",\"input\":{}}}\n\n",
        /* a non-object root, a duplicate key */
        "data: [1]\n\n",
        "data: {\"type\":\"ping\",\"type\":\"ping\"}\n\n",
        /* empty data on a non-ping event */
        "event: message_stop\ndata:\n\n",
    };
    for (size_t i = 0; i < N(bad); i++) {
        sink_t s;
        memset(&s, 0, sizeof s);
        assert_int_equal(run_stream(bad[i], strlen(bad[i]), &s), ASC_EINVAL);
    }
    sink_t s;
    memset(&s, 0, sizeof s);
    assert_int_equal(run_stream("event: ping\ndata:\n\n", 64, &s), ASC_OK);
    assert_int_equal(s.count, 0);
}

/* ---- the table and errors --------------------------------------------- */

static void test_table(void **state)
{
    (void)state;
    assert_string_equal(A->kind, "anthropic");
    assert_string_equal(A->chat_path, "/v1/messages");
    assert_null(A->embeddings_path);
    assert_null(A->embeddings_request);
    assert_null(A->chat_request);
    assert_null(A->parse_response);
    assert_null(A->parse_stream_event);
    assert_non_null(A->static_headers);
    assert_string_equal(A->static_headers[0], "anthropic-version: 2023-06-01");
    assert_null(A->static_headers[1]);
    assert_true(A->stream_state_size > 0);
    asc_buf_t b;
    asc_buf_init(&b, 0);
    assert_int_equal(A->auth_header("sk-ant-api03-xyz", &b), ASC_OK);
    assert_string_equal(b.data, "x-api-key: sk-ant-api03-xyz");
    asc_buf_free(&b);
}

static void test_classify(void **state)
{
    (void)state;
    asc_upstream_error_t e;
    static const struct {
        int status;
        const char *type, *message;
        asc_uperr_class_t cls;
        int retryable, fallback;
    } cases[] = {
        {429, "rate_limit_error",
         "Number of request tokens has exceeded your per-minute rate "
         "limit",
         ASC_UPERR_RATE_LIMIT, 1, 1},
        {529, "overloaded_error", "Overloaded", ASC_UPERR_OVERLOADED, 1, 1},
        {503, "api_error", "Service unavailable", ASC_UPERR_OVERLOADED, 1, 1},
        {500, "api_error", "Internal server error", ASC_UPERR_SERVER, 1, 1},
        {401, "authentication_error", "invalid x-api-key sk-ant-api03-SECRET", ASC_UPERR_AUTH, 0,
         1},
        {403, "permission_error", "key sk-ant-api03-SECRET lacks permission", ASC_UPERR_AUTH, 0, 1},
        {400, "invalid_request_error", "prompt is too long: 215000 tokens > 200000 maximum",
         ASC_UPERR_CONTEXT, 0, 1},
        {400, "invalid_request_error",
         "input length and `max_tokens` exceed context limit: 188240 + 21333 > 200000",
         ASC_UPERR_CONTEXT, 0, 1},
        {400, "invalid_request_error", "messages.1.content: Field required", ASC_UPERR_CLIENT, 0,
         0},
        {413, "request_too_large", "Request exceeds the maximum allowed number of bytes.",
         ASC_UPERR_CLIENT, 0, 0},
        {404, "not_found_error", "model: claude-nope", ASC_UPERR_CLIENT, 0, 1},
    };
    for (size_t i = 0; i < N(cases); i++) {
        char b[512];
        snprintf(b, sizeof b, "{\"type\":\"error\",\"error\":{\"type\":\"%s\",\"message\":\"%s\"}}",
                 cases[i].type, cases[i].message);
        A->classify_error(cases[i].status, b, strlen(b), &e);
        assert_int_equal(e.cls, cases[i].cls);
        assert_int_equal(e.retryable, cases[i].retryable);
        assert_int_equal(e.fallback, cases[i].fallback);
        if (cases[i].cls == ASC_UPERR_AUTH)
            assert_null(strstr(e.message, "SECRET")); /* never echoed */
        else
            assert_non_null(strstr(e.message, cases[i].message));
    }
    /* overloaded_error under another status is still overload */
    const char *ov = "{\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\",\"message\":"
                     "\"Overloaded\"}}";
    A->classify_error(500, ov, strlen(ov), &e);
    assert_int_equal(e.cls, ASC_UPERR_OVERLOADED);
    A->classify_error(502, "<html>bad gateway</html>", 24, &e);
    assert_int_equal(e.cls, ASC_UPERR_SERVER);
    A->classify_error(400, NULL, 0, &e);
    assert_int_equal(e.cls, ASC_UPERR_CLIENT);
    assert_string_equal(e.message, "the upstream provider rejected the request");
    A->classify_error(301, "", 0, &e);
    assert_int_equal(e.cls, ASC_UPERR_PROTOCOL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_encode_basic),
        cmocka_unit_test(test_encode_system_hoisting),
        cmocka_unit_test(test_encode_tool_turns),
        cmocka_unit_test(test_encode_alternation),
        cmocka_unit_test(test_encode_images),
        cmocka_unit_test(test_encode_tools),
        cmocka_unit_test(test_encode_params),
        cmocka_unit_test(test_encode_refusals),
        cmocka_unit_test(test_decode_message),
        cmocka_unit_test(test_decode_stop_reasons),
        cmocka_unit_test(test_decode_invalid),
        cmocka_unit_test(test_stream_tools),
        cmocka_unit_test(test_stream_text_stop_sequence),
        cmocka_unit_test(test_stream_without_usage),
        cmocka_unit_test(test_stream_error_event),
        cmocka_unit_test(test_stream_malformed),
        cmocka_unit_test(test_table),
        cmocka_unit_test(test_classify),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

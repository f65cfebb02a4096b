/* The OpenAI Responses inbound dialect: request decoding (mapping and
 * refusals), the Response object, the typed event stream (checked event by
 * event and against the rules the official SDK's ResponseStream enforces),
 * and error bodies. Expected JSON is written out by hand and compared as
 * JSON values (cJSON), ignoring created_at. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <cmocka.h>

#include "api/dialect.h"
#include "api/responses.h"

static const asc_dialect_t *D = &asc_dialect_openai_responses;

/* ---- helpers ------------------------------------------------------------ */

static asc_err_t decode(asc_pool_t *p, const char *body, asc_chat_req_t *r, char *err, size_t n)
{
    return D->decode(p, body, strlen(body), NULL, r, err, n);
}

static int str_is(asc_str_t s, const char *z)
{
    return s.p != NULL && s.n == strlen(z) && memcmp(s.p, z, s.n) == 0;
}

#define assert_str(s, z)                                                                           \
    do {                                                                                           \
        if (!str_is((s), (z)))                                                                     \
            fail_msg("expected \"%s\", got \"%.*s\"", (z), (int)(s).n, (s).p ? (s).p : "(null)");  \
    } while (0)

static void strip_key(cJSON *j, const char *key)
{
    if (j == NULL)
        return;
    if (cJSON_IsObject(j))
        cJSON_DeleteItemFromObjectCaseSensitive(j, key);
    for (cJSON *c = j->child; c != NULL; c = c->next)
        strip_key(c, key);
}

/* Compare JSON text `got` with `want` as values, ignoring created_at. */
static void assert_json(const char *got, size_t n, const char *want)
{
    cJSON *g = cJSON_ParseWithLength(got, n);
    cJSON *w = cJSON_Parse(want);
    if (g == NULL)
        fail_msg("output is not JSON: %.*s", (int)n, got);
    if (w == NULL)
        fail_msg("expected text is not JSON (test bug): %s", want);
    strip_key(g, "created_at");
    strip_key(w, "created_at");
    if (!cJSON_Compare(g, w, 1)) {
        char *gs = cJSON_PrintUnformatted(g);
        fail_msg("JSON differs\n got: %s\nwant: %s", gs, want);
    }
    cJSON_Delete(g);
    cJSON_Delete(w);
}

/* ---- decode ------------------------------------------------------------- */

static void test_decode_string_input(void **state)
{
    (void)state;
    asc_pool_t *p = asc_pool_create(0);
    asc_chat_req_t r;
    char err[256];
    const char *body = "{\"model\":\"gpt-4.1\",\"instructions\":\"Be brief.\",\"input\":\"Hi "
                       "\\u00e9\",\"max_output_tokens\":50,\"temperature\":0.5,\"top_p\":0.9,"
                       "\"stream\":true,\"store\":false,\"user\":\"u-1\"}";
    assert_int_equal(decode(p, body, &r, err, sizeof err), ASC_OK);
    assert_string_equal(err, "");
    assert_str(r.model, "gpt-4.1");
    assert_int_equal(r.nmsgs, 2);
    assert_int_equal(r.msgs[0].role, ASC_ROLE_SYSTEM);
    assert_int_equal(r.msgs[0].nparts, 1);
    assert_str(r.msgs[0].parts[0].text, "Be brief.");
    assert_int_equal(r.msgs[1].role, ASC_ROLE_USER);
    assert_str(r.msgs[1].parts[0].text, "Hi \xc3\xa9"); /* unescaped */
    assert_true(r.has_max_tokens);
    assert_int_equal(r.max_tokens, 50);
    assert_true(r.has_temperature);
    assert_true(r.temperature == 0.5);
    assert_true(r.has_top_p);
    assert_true(r.stream);
    assert_true(r.include_usage);
    assert_str(r.user, "u-1");
    assert_int_equal(r.tool_choice, ASC_TOOL_CHOICE_UNSET);
    assert_int_equal(r.parallel_tool_calls, -1);
    assert_int_equal(r.format, ASC_FORMAT_UNSET);
    assert_true(r.input_bytes >= 9 + 3);
    asc_pool_destroy(p);
}

static void test_decode_items(void **state)
{
    (void)state;
    asc_pool_t *p = asc_pool_create(0);
    asc_chat_req_t r;
    char err[256];
    /* A second turn as the SDK sends it: the first response's output items
     * (with their ids and statuses) fed back, plus the tool outputs. */
    const char *body =
        "{\"model\":\"m\",\"input\":["
        "{\"role\":\"developer\",\"content\":\"Use tools.\"},"
        "{\"type\":\"message\",\"role\":\"user\",\"content\":["
        "{\"type\":\"input_text\",\"text\":\"Weather in Paris and Rome?\"},"
        "{\"type\":\"input_image\",\"image_url\":\"https://x.test/a.png\",\"detail\":\"low\"}]},"
        "{\"type\":\"reasoning\",\"id\":\"rs_1\",\"summary\":[]},"
        "{\"type\":\"message\",\"id\":\"msg_1\",\"status\":\"completed\",\"role\":\"assistant\","
        "\"content\":[{\"type\":\"output_text\",\"text\":\"Checking.\",\"annotations\":[]}]},"
        "{\"type\":\"function_call\",\"id\":\"fc_1\",\"call_id\":\"call_a\",\"name\":\"weather\","
        "\"arguments\":\"{\\\"city\\\":\\\"Paris\\\"}\",\"status\":\"completed\"},"
        "{\"type\":\"function_call\",\"call_id\":\"call_b\",\"name\":\"weather\","
        "\"arguments\":\"\"},"
        "{\"type\":\"function_call_output\",\"call_id\":\"call_a\",\"output\":\"18C\"},"
        "{\"type\":\"function_call_output\",\"call_id\":\"call_b\",\"output\":["
        "{\"type\":\"input_text\",\"text\":\"21C\"}]},"
        "{\"type\":\"function_call\",\"call_id\":\"call_c\",\"name\":\"clock\",\"arguments\":"
        "\"{}\"}"
        "]}";
    assert_int_equal(decode(p, body, &r, err, sizeof err), ASC_OK);
    assert_string_equal(err, "dropped: reasoning items");
    assert_int_equal(r.nmsgs, 6);
    assert_int_equal(r.msgs[0].role, ASC_ROLE_SYSTEM);
    assert_str(r.msgs[0].parts[0].text, "Use tools.");
    assert_int_equal(r.msgs[1].role, ASC_ROLE_USER);
    assert_int_equal(r.msgs[1].nparts, 2);
    assert_int_equal(r.msgs[1].parts[1].type, ASC_PART_IMAGE_URL);
    assert_str(r.msgs[1].parts[1].url, "https://x.test/a.png");
    assert_str(r.msgs[1].parts[1].detail, "low");
    /* the assistant's text and both calls are one message */
    const asc_msg_t *a = &r.msgs[2];
    assert_int_equal(a->role, ASC_ROLE_ASSISTANT);
    assert_int_equal(a->nparts, 1);
    assert_str(a->parts[0].text, "Checking.");
    assert_int_equal(a->ntool_calls, 2);
    assert_str(a->tool_calls[0].id, "call_a");
    assert_str(a->tool_calls[0].name, "weather");
    assert_str(a->tool_calls[0].arguments, "{\"city\":\"Paris\"}");
    assert_str(a->tool_calls[1].id, "call_b");
    assert_str(a->tool_calls[1].arguments, "{}"); /* "" means no arguments */
    assert_int_equal(r.msgs[3].role, ASC_ROLE_TOOL);
    assert_str(r.msgs[3].tool_call_id, "call_a");
    assert_str(r.msgs[3].parts[0].text, "18C");
    assert_int_equal(r.msgs[4].role, ASC_ROLE_TOOL);
    assert_str(r.msgs[4].tool_call_id, "call_b");
    assert_str(r.msgs[4].parts[0].text, "21C");
    /* a call after tool outputs starts a new assistant message */
    assert_int_equal(r.msgs[5].role, ASC_ROLE_ASSISTANT);
    assert_int_equal(r.msgs[5].nparts, 0);
    assert_int_equal(r.msgs[5].ntool_calls, 1);
    assert_str(r.msgs[5].tool_calls[0].name, "clock");
    asc_pool_destroy(p);
}

static void test_decode_tools_format(void **state)
{
    (void)state;
    asc_pool_t *p = asc_pool_create(0);
    asc_chat_req_t r;
    char err[256];
    const char *body =
        "{\"model\":\"m\",\"input\":\"x\",\"tools\":[{\"type\":\"function\",\"name\":\"weather\","
        "\"description\":\"Get weather\",\"parameters\":{\"type\":\"object\",\"properties\":{"
        "\"city\":{\"type\":\"string\"}}},\"strict\":true},{\"type\":\"function\",\"name\":\"t2\","
        "\"parameters\":null,\"strict\":null}],\"tool_choice\":{\"type\":\"function\",\"name\":"
        "\"weather\"},\"parallel_tool_calls\":false,\"text\":{\"format\":{\"type\":\"json_schema\","
        "\"name\":\"w\",\"schema\":{\"type\":\"object\"},\"strict\":true},\"verbosity\":\"medium\"}"
        ","
        "\"reasoning\":{\"effort\":\"low\",\"summary\":\"auto\"},\"metadata\":{\"k\":\"v\"},"
        "\"safety_identifier\":\"sid\",\"service_tier\":\"flex\",\"truncation\":\"auto\","
        "\"include\":[\"reasoning.encrypted_content\"],\"prompt_cache_key\":\"pk\"}";
    assert_int_equal(decode(p, body, &r, err, sizeof err), ASC_OK);
    assert_int_equal(r.ntools, 2);
    assert_str(r.tools[0].name, "weather");
    assert_str(r.tools[0].description, "Get weather");
    assert_str(r.tools[0].parameters,
               "{\"type\":\"object\",\"properties\":{\"city\":{\"type\":\"string\"}}}");
    assert_int_equal(r.tools[0].strict, 1);
    assert_null(r.tools[1].parameters.p);
    assert_null(r.tools[1].description.p);
    assert_int_equal(r.tools[1].strict, -1);
    assert_int_equal(r.tool_choice, ASC_TOOL_CHOICE_FUNCTION);
    assert_str(r.tool_choice_name, "weather");
    assert_int_equal(r.parallel_tool_calls, 0);
    assert_int_equal(r.format, ASC_FORMAT_JSON_SCHEMA);
    assert_str(r.format_name, "w");
    assert_str(r.format_schema, "{\"type\":\"object\"}");
    assert_int_equal(r.format_strict, 1);
    assert_str(r.reasoning, "\"low\"");
    assert_str(r.metadata, "{\"k\":\"v\"}");
    assert_str(r.user, "sid");
    assert_non_null(strstr(err, "dropped: "));
    static const char *const dropped[] = {"reasoning.summary", "service_tier",     "truncation",
                                          "include",           "prompt_cache_key", NULL};
    for (int i = 0; dropped[i] != NULL; i++)
        if (strstr(err, dropped[i]) == NULL)
            fail_msg("\"%s\" not named in \"%s\"", dropped[i], err);

    /* the other formats and choices */
    assert_int_equal(decode(p,
                            "{\"model\":\"m\",\"input\":\"x\",\"text\":{\"format\":{\"type\":"
                            "\"json_object\"}},\"tool_choice\":\"required\"}",
                            &r, err, sizeof err),
                     ASC_OK);
    assert_int_equal(r.format, ASC_FORMAT_JSON_OBJECT);
    assert_int_equal(r.tool_choice, ASC_TOOL_CHOICE_REQUIRED);
    assert_int_equal(decode(p,
                            "{\"model\":\"m\",\"input\":\"x\",\"text\":{\"format\":{\"type\":"
                            "\"text\"}},\"tool_choice\":\"none\"}",
                            &r, err, sizeof err),
                     ASC_OK);
    assert_int_equal(r.format, ASC_FORMAT_TEXT);
    assert_int_equal(r.tool_choice, ASC_TOOL_CHOICE_NONE);
    asc_pool_destroy(p);
}

static void test_decode_refusals(void **state)
{
    (void)state;
    static const struct {
        const char *body;
        const char *msg; /* the message starts with this */
    } cases[] = {
        {"{\"model\":\"m\",\"input\":\"x\",\"previous_response_id\":\"resp_1\"}",
         "previous_response_id: conversation state is not supported; send the full input"},
        {"{\"model\":\"m\",\"input\":\"x\",\"store\":true}", "store: "},
        {"{\"model\":\"m\",\"input\":\"x\",\"conversation\":\"conv_1\"}", "conversation: "},
        {"{\"model\":\"m\",\"input\":\"x\",\"background\":true}", "background: "},
        {"{\"model\":\"m\",\"input\":\"x\",\"prompt\":{\"id\":\"p\"}}", "prompt: "},
        {"{\"model\":\"m\",\"input\":\"x\",\"moderation\":{\"model\":\"x\"}}", "moderation: "},
        {"{\"model\":\"m\",\"input\":\"x\",\"frobnicate\":1}", "frobnicate: unknown parameter"},
        {"{\"model\":\"m\",\"input\":\"x\",\"api_base\":\"http://evil\"}",
         "api_base: choosing the upstream"},
        {"{\"model\":\"m\",\"input\":\"x\",\"metadata\":{\"base_url\":\"http://evil\"}}",
         "base_url: choosing the upstream"},
        {"{\"model\":\"m\",\"input\":\"x\",\"tools\":[{\"type\":\"web_search\"}]}",
         "tools[0].type: tools of type \"web_search\" are not supported"},
        {"{\"model\":\"m\",\"input\":\"x\",\"tools\":[{\"type\":\"function\",\"name\":\"f\","
         "\"extra\":1}]}",
         "tools[0].extra: unknown parameter"},
        {"{\"model\":\"m\",\"input\":\"x\",\"tools\":[{\"type\":\"function\",\"name\":\"a.b\"}]}",
         "tools[0].name: must be 1-64 characters"},
        {"{\"model\":\"m\",\"input\":[{\"type\":\"item_reference\",\"id\":\"msg_1\"}]}",
         "input[0]: item_reference"},
        {"{\"model\":\"m\",\"input\":[{\"id\":\"msg_1\"}]}", "input[0]: item_reference"},
        {"{\"model\":\"m\",\"input\":[{\"type\":\"computer_call\",\"call_id\":\"c\"}]}",
         "input[0].type: input items of type \"computer_call\" are not supported"},
        {"{\"model\":\"m\",\"input\":[{\"role\":\"user\",\"content\":[{\"type\":\"input_image\","
         "\"file_id\":\"file-1\"}]}]}",
         "input[0].content[0].file_id: file references are not supported"},
        {"{\"model\":\"m\",\"input\":[{\"role\":\"user\",\"content\":[{\"type\":\"input_file\","
         "\"file_id\":\"file-1\"}]}]}",
         "input[0].content[0]: input_file parts are not supported"},
        {"{\"model\":\"m\",\"input\":[{\"role\":\"user\",\"content\":\"x\",\"junk\":1}]}",
         "input[0].junk: unknown parameter"},
        {"{\"model\":\"m\",\"input\":[{\"role\":\"robot\",\"content\":\"x\"}]}", "input[0].role: "},
        {"{\"model\":\"m\",\"input\":[{\"type\":\"function_call\",\"call_id\":\"c\",\"name\":\"f\","
         "\"arguments\":\"{not json\"}]}",
         "input[0].arguments: must be a JSON object"},
        {"{\"model\":\"m\",\"input\":[{\"type\":\"function_call\",\"name\":\"f\",\"arguments\":"
         "\"{}\"}]}",
         "input[0].call_id: required"},
        {"{\"model\":\"m\",\"input\":[{\"type\":\"function_call_output\",\"output\":\"x\"}]}",
         "input[0].call_id: required"},
        {"{\"model\":\"m\",\"input\":\"x\",\"include\":[\"message.output_text.logprobs\"]}",
         "include[0]: message.output_text.logprobs"},
        {"{\"model\":\"m\",\"input\":\"x\",\"text\":{\"verbosity\":\"low\"}}", "text.verbosity: "},
        {"{\"model\":\"m\",\"input\":\"x\",\"tool_choice\":{\"type\":\"function\",\"name\":\"g\"}}",
         "tool_choice.name: no function tool"},
        {"{\"model\":\"m\",\"input\":\"x\",\"tool_choice\":{\"type\":\"file_search\"}}",
         "tool_choice.type: \"file_search\" is not supported"},
        {"{\"model\":\"m\",\"input\":\"x\",\"truncation\":\"sometimes\"}", "truncation: "},
        {"{\"model\":\"m\",\"input\":\"x\",\"temperature\":3}", "temperature: "},
        {"{\"model\":\"m\",\"input\":\"x\",\"max_output_tokens\":0}", "max_output_tokens: "},
        {"{\"model\":\"m\",\"input\":\"x\",\"reasoning\":{\"mode\":\"pro\"}}", "reasoning.mode: "},
        {"{\"model\":\"m\",\"input\":\"x\",\"prompt_cache_options\":{\"prewarm\":true}}",
         "prompt_cache_options.prewarm: "},
        {"{\"input\":\"x\"}", "model: required"},
        {"{\"model\":\"\",\"input\":\"x\"}", "model: must be a non-empty string"},
        {"{\"model\":\"m\"}", "input: required"},
        {"{\"model\":\"m\",\"input\":[]}", "input: must contain at least one"},
        {"{\"model\":\"m\",\"instructions\":\"s\",\"input\":[{\"type\":\"reasoning\"}]}",
         "input: must contain at least one"},
        {"{\"model\":\"m\",\"input\":\"x\",\"input\":\"y\"}", "invalid JSON body: "},
        {"[1]", "invalid JSON body: "},
    };
    asc_pool_t *p = asc_pool_create(0);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        asc_chat_req_t r;
        char err[256];
        asc_err_t e = decode(p, cases[i].body, &r, err, sizeof err);
        if (e != ASC_EINVAL)
            fail_msg("case %zu (%s): expected ASC_EINVAL, got %d", i, cases[i].body, (int)e);
        if (strncmp(err, cases[i].msg, strlen(cases[i].msg)) != 0)
            fail_msg("case %zu: message \"%s\" does not start with \"%s\"", i, err, cases[i].msg);
    }
    /* store:false and nulls are fine */
    asc_chat_req_t r;
    char err[256];
    assert_int_equal(decode(p,
                            "{\"model\":\"m\",\"input\":\"x\",\"store\":false,"
                            "\"previous_response_id\":null,\"background\":false,\"tools\":[],"
                            "\"instructions\":null,\"conversation\":null}",
                            &r, err, sizeof err),
                     ASC_OK);
    assert_int_equal(r.nmsgs, 1);
    asc_pool_destroy(p);
}

/* ---- encode_response ---------------------------------------------------- */

static asc_tool_call_t k_calls[] = {
    {{"call_a", 6}, {"weather", 7}, {"{\"city\":\"Paris\"}", 16}},
    {{"call_b", 6}, {"weather", 7}, {"{\"city\":\"Rome\"}", 15}},
};

static void test_encode_response(void **state)
{
    (void)state;
    asc_chat_resp_t r;
    memset(&r, 0, sizeof r);
    r.id = (asc_str_t){"chatcmpl-B9MHD", 14};
    r.created = 1741476542;
    r.text = (asc_str_t){"Hello \"world\"", 13};
    r.finish = ASC_FINISH_STOP;
    r.usage = (asc_canon_usage_t){
        .input_tokens = 12, .output_tokens = 5, .cached_tokens = 4, .present = 1};
    asc_buf_t out;
    asc_buf_init(&out, 0);
    D->encode_response(&r, "my-model", &out);
    static const char *const neutral =
        "\"parallel_tool_calls\":true,\"previous_response_id\":null,\"reasoning\":{\"effort\":null,"
        "\"summary\":null},\"store\":false,\"temperature\":null,\"text\":{\"format\":{\"type\":"
        "\"text\"}},\"tool_choice\":\"auto\",\"tools\":[],\"top_p\":null,\"truncation\":"
        "\"disabled\",\"user\":null,\"metadata\":{}";
    char want[4096];
    snprintf(want, sizeof want,
             "{\"id\":\"resp_B9MHD\",\"object\":\"response\",\"created_at\":1741476542,"
             "\"status\":\"completed\",\"background\":false,\"error\":null,"
             "\"incomplete_details\":null,\"instructions\":null,\"max_output_tokens\":null,"
             "\"max_tool_calls\":null,\"model\":\"my-model\",\"output\":[{\"id\":"
             "\"msg_B9MHD_0\",\"type\":\"message\",\"status\":\"completed\",\"content\":[{"
             "\"type\":\"output_text\",\"annotations\":[],\"logprobs\":[],\"text\":\"Hello "
             "\\\"world\\\"\"}],\"role\":\"assistant\"}],%s,\"usage\":{\"input_tokens\":12,"
             "\"input_tokens_details\":{\"cached_tokens\":4,\"cache_write_tokens\":0},"
             "\"output_tokens\":5,\"output_tokens_details\":{\"reasoning_tokens\":0},"
             "\"total_tokens\":17}}",
             neutral);
    assert_json(out.data, out.len, want);

    /* tool calls, cut short by max tokens: the last call is incomplete */
    asc_buf_clear(&out);
    r.id = (asc_str_t){"msg_01XFDUDYJgAACzvnptvVoYEL", 28};
    r.text = ASC_STR_NULL;
    r.tool_calls = k_calls;
    r.ntool_calls = 2;
    r.finish = ASC_FINISH_LENGTH;
    r.usage = (asc_canon_usage_t){0};
    D->encode_response(&r, "m", &out);
    snprintf(want, sizeof want,
             "{\"id\":\"resp_01XFDUDYJgAACzvnptvVoYEL\",\"object\":\"response\",\"status\":"
             "\"incomplete\",\"background\":false,\"error\":null,\"incomplete_details\":{"
             "\"reason\":\"max_output_tokens\"},\"instructions\":null,\"max_output_tokens\":null,"
             "\"max_tool_calls\":null,\"model\":\"m\",\"output\":["
             "{\"id\":\"fc_01XFDUDYJgAACzvnptvVoYEL_0\",\"type\":\"function_call\",\"status\":"
             "\"completed\",\"arguments\":\"{\\\"city\\\":\\\"Paris\\\"}\",\"call_id\":"
             "\"call_a\",\"name\":\"weather\"},"
             "{\"id\":\"fc_01XFDUDYJgAACzvnptvVoYEL_1\",\"type\":\"function_call\",\"status\":"
             "\"incomplete\",\"arguments\":\"{\\\"city\\\":\\\"Rome\\\"}\",\"call_id\":"
             "\"call_b\",\"name\":\"weather\"}],%s,\"usage\":null}",
             neutral);
    assert_json(out.data, out.len, want);

    /* content filter, no text: an empty incomplete message */
    asc_buf_clear(&out);
    r.ntool_calls = 0;
    r.finish = ASC_FINISH_CONTENT_FILTER;
    D->encode_response(&r, "m", &out);
    cJSON *j = cJSON_ParseWithLength(out.data, out.len);
    assert_non_null(j);
    assert_string_equal(cJSON_GetObjectItem(j, "status")->valuestring, "incomplete");
    assert_string_equal(
        cJSON_GetObjectItem(cJSON_GetObjectItem(j, "incomplete_details"), "reason")->valuestring,
        "content_filter");
    cJSON *item = cJSON_GetArrayItem(cJSON_GetObjectItem(j, "output"), 0);
    assert_string_equal(cJSON_GetObjectItem(item, "status")->valuestring, "incomplete");
    cJSON_Delete(j);
    asc_buf_free(&out);
}

static void test_encode_response_echo(void **state)
{
    (void)state;
    asc_pool_t *p = asc_pool_create(0);
    asc_chat_req_t req;
    char err[256];
    assert_int_equal(
        decode(p,
               "{\"model\":\"m\",\"input\":\"x\",\"temperature\":0.7,\"max_output_tokens\":99,"
               "\"tools\":[{\"type\":\"function\",\"name\":\"f\",\"parameters\":{\"type\":"
               "\"object\"}}],\"tool_choice\":\"required\",\"parallel_tool_calls\":false,"
               "\"text\":{\"format\":{\"type\":\"json_object\"}},\"metadata\":{\"a\":\"b\"},"
               "\"reasoning\":{\"effort\":\"high\"},\"user\":\"u\"}",
               &req, err, sizeof err),
        ASC_OK);
    asc_chat_resp_t r;
    memset(&r, 0, sizeof r);
    r.id = (asc_str_t){"x1", 2};
    r.text = (asc_str_t){"{}", 2};
    r.finish = ASC_FINISH_STOP;
    asc_buf_t out;
    asc_buf_init(&out, 0);
    asc_api_responses_encode(&r, "m", &req, &out);
    assert_json(
        out.data, out.len,
        "{\"id\":\"resp_x1\",\"object\":\"response\",\"status\":\"completed\",\"background\":false,"
        "\"error\":null,\"incomplete_details\":null,\"instructions\":null,\"max_output_tokens\":99,"
        "\"max_tool_calls\":null,\"model\":\"m\",\"output\":[{\"id\":\"msg_x1_0\",\"type\":"
        "\"message\",\"status\":\"completed\",\"content\":[{\"type\":\"output_text\","
        "\"annotations\":[],\"logprobs\":[],\"text\":\"{}\"}],\"role\":\"assistant\"}],"
        "\"parallel_tool_calls\":false,\"previous_response_id\":null,\"reasoning\":{\"effort\":"
        "\"high\",\"summary\":null},\"store\":false,\"temperature\":0.7,\"text\":{\"format\":{"
        "\"type\":\"json_object\"}},\"tool_choice\":\"required\",\"tools\":[{\"type\":"
        "\"function\",\"name\":\"f\",\"description\":null,\"parameters\":{\"type\":\"object\"},"
        "\"strict\":null}],\"top_p\":null,\"truncation\":\"disabled\",\"user\":\"u\","
        "\"metadata\":{\"a\":\"b\"},\"usage\":null}");
    asc_buf_free(&out);
    asc_pool_destroy(p);
}

/* ---- streams ------------------------------------------------------------ */

typedef struct {
    char type[64];
    cJSON *data;
} sse_t;

typedef struct {
    sse_t ev[256];
    int n;
} events_t;

/* Split SSE bytes into events; every event must be `event: T\ndata: J\n\n`
 * with J an object whose "type" is T. */
static void parse_sse(const char *s, size_t len, events_t *out)
{
    out->n = 0;
    size_t i = 0;
    while (i < len) {
        const char *end = strstr(s + i, "\n\n");
        if (end == NULL)
            fail_msg("unterminated event at offset %zu", i);
        if (strncmp(s + i, "event: ", 7) != 0)
            fail_msg("event without an event: line at offset %zu", i);
        const char *nl = memchr(s + i, '\n', (size_t)(end - (s + i)));
        assert_non_null(nl);
        assert_true(out->n < 256);
        sse_t *e = &out->ev[out->n++];
        snprintf(e->type, sizeof e->type, "%.*s", (int)(nl - (s + i) - 7), s + i + 7);
        if (strncmp(nl + 1, "data: ", 6) != 0)
            fail_msg("no data: line in event %s", e->type);
        e->data = cJSON_ParseWithLength(nl + 7, (size_t)(end - (nl + 7)));
        if (e->data == NULL)
            fail_msg("data of %s is not JSON", e->type);
        cJSON *t = cJSON_GetObjectItem(e->data, "type");
        if (!cJSON_IsString(t) || strcmp(t->valuestring, e->type) != 0)
            fail_msg("event %s has data.type %s", e->type, t ? t->valuestring : "(none)");
        i = (size_t)(end - s) + 2;
    }
}

static void free_events(events_t *e)
{
    for (int i = 0; i < e->n; i++)
        cJSON_Delete(e->ev[i].data);
    e->n = 0;
}

static const char *sget(cJSON *o, const char *k)
{
    cJSON *v = cJSON_GetObjectItem(o, k);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static int iget(cJSON *o, const char *k)
{
    cJSON *v = cJSON_GetObjectItem(o, k);
    if (!cJSON_IsNumber(v))
        fail_msg("no number %s", k);
    return v->valueint;
}

/* The invariants the SDK's ResponseStream enforces (and a few more):
 * sequence numbers 0,1,2,..; created first; items added at the next index,
 * item-scoped events name an open item of the right type by id; every item
 * done before the end; the final output equals the items done, in order;
 * the accumulated text and arguments equal what *.done events carry. */
static void check_protocol(const events_t *e)
{
    assert_true(e->n >= 1);
    char ids[64][96];
    char kinds[64][16];
    int open[64], nitems = 0;
    char acc[64][2048];
    for (int i = 0; i < e->n; i++) {
        cJSON *d = e->ev[i].data;
        const char *t = e->ev[i].type;
        if (iget(d, "sequence_number") != i)
            fail_msg("event %d (%s) has sequence_number %d", i, t, iget(d, "sequence_number"));
        if (i == 0 && strcmp(t, "error") != 0)
            assert_string_equal(t, "response.created");
        if (strcmp(t, "response.output_item.added") == 0) {
            assert_int_equal(iget(d, "output_index"), nitems);
            cJSON *item = cJSON_GetObjectItem(d, "item");
            snprintf(ids[nitems], sizeof ids[0], "%s", sget(item, "id"));
            snprintf(kinds[nitems], sizeof kinds[0], "%s", sget(item, "type"));
            assert_string_equal(sget(item, "status"), "in_progress");
            for (int k = 0; k < nitems; k++)
                assert_string_not_equal(ids[k], ids[nitems]);
            open[nitems] = 1;
            acc[nitems][0] = '\0';
            nitems++;
            continue;
        }
        if (strncmp(t, "response.output", 15) != 0 && strncmp(t, "response.content", 16) != 0 &&
            strncmp(t, "response.function", 17) != 0)
            continue;
        int oi = iget(d, "output_index");
        assert_true(oi >= 0 && oi < nitems);
        assert_true(open[oi]);
        if (strcmp(t, "response.output_item.done") == 0) {
            cJSON *item = cJSON_GetObjectItem(d, "item");
            assert_string_equal(sget(item, "id"), ids[oi]);
            if (strcmp(kinds[oi], "message") == 0) {
                cJSON *part = cJSON_GetArrayItem(cJSON_GetObjectItem(item, "content"), 0);
                assert_string_equal(sget(part, "text"), acc[oi]);
            } else {
                assert_string_equal(sget(item, "arguments"), acc[oi]);
            }
            open[oi] = 0;
            continue;
        }
        assert_string_equal(sget(d, "item_id"), ids[oi]);
        int is_text = strstr(t, "output_text") != NULL || strstr(t, "content_part") != NULL;
        assert_string_equal(kinds[oi], is_text ? "message" : "function_call");
        if (strcmp(t, "response.output_text.delta") == 0 ||
            strcmp(t, "response.function_call_arguments.delta") == 0)
            strncat(acc[oi], sget(d, "delta"), sizeof acc[0] - strlen(acc[oi]) - 1);
        if (strcmp(t, "response.output_text.done") == 0)
            assert_string_equal(sget(d, "text"), acc[oi]);
        if (strcmp(t, "response.function_call_arguments.done") == 0)
            assert_string_equal(sget(d, "arguments"), acc[oi]);
    }
    const char *last = e->ev[e->n - 1].type;
    if (strcmp(last, "response.completed") == 0 || strcmp(last, "response.incomplete") == 0) {
        cJSON *out =
            cJSON_GetObjectItem(cJSON_GetObjectItem(e->ev[e->n - 1].data, "response"), "output");
        assert_int_equal(cJSON_GetArraySize(out), nitems);
        for (int k = 0; k < nitems; k++) {
            assert_false(open[k]);
            assert_string_equal(sget(cJSON_GetArrayItem(out, k), "id"), ids[k]);
        }
    }
}

static asc_sev_t sev(asc_sev_type_t type)
{
    asc_sev_t e;
    memset(&e, 0, sizeof e);
    e.type = type;
    return e;
}

static void emit_text(void *st, asc_buf_t *out, const char *text)
{
    asc_sev_t e = sev(ASC_SEV_TEXT);
    e.text = (asc_str_t){text, strlen(text)};
    D->stream_event(st, &e, out);
}

static void emit_tool(void *st, asc_buf_t *out, int index, const char *id, const char *name)
{
    asc_sev_t e = sev(ASC_SEV_TOOL_START);
    e.tool_index = index;
    e.tool_id = (asc_str_t){id, strlen(id)};
    e.tool_name = (asc_str_t){name, strlen(name)};
    D->stream_event(st, &e, out);
}

static void emit_args(void *st, asc_buf_t *out, int index, const char *frag)
{
    asc_sev_t e = sev(ASC_SEV_TOOL_ARGS);
    e.tool_index = index;
    e.text = (asc_str_t){frag, strlen(frag)};
    D->stream_event(st, &e, out);
}

static void emit_end(void *st, asc_buf_t *out, asc_finish_t f, int64_t in, int64_t outt)
{
    asc_sev_t e = sev(ASC_SEV_FINISH);
    e.finish = f;
    D->stream_event(st, &e, out);
    e = sev(ASC_SEV_USAGE);
    e.usage = (asc_canon_usage_t){.input_tokens = in, .output_tokens = outt, .present = 1};
    D->stream_event(st, &e, out);
    e = sev(ASC_SEV_DONE);
    D->stream_event(st, &e, out);
}

static void *begin(const asc_chat_req_t *req, const char *id, asc_buf_t *out)
{
    void *st = calloc(1, D->stream_state_size);
    assert_non_null(st);
    D->stream_begin(st, req, "my-model");
    asc_sev_t e = sev(ASC_SEV_START);
    e.id = (asc_str_t){id, strlen(id)};
    D->stream_event(st, &e, out);
    return st;
}

static void test_stream_text(void **state)
{
    (void)state;
    asc_buf_t out;
    asc_buf_init(&out, 0);
    void *st = begin(NULL, "chatcmpl-S1", &out);
    emit_text(st, &out, "Hel");
    emit_text(st, &out, "");
    emit_text(st, &out, "lo\n");
    emit_end(st, &out, ASC_FINISH_STOP, 10, 3);
    size_t len = out.len;
    emit_text(st, &out, "after the end");
    assert_int_equal(out.len, len); /* nothing after the end */

    events_t ev;
    parse_sse(out.data, out.len, &ev);
    static const char *const types[] = {
        "response.created",           "response.in_progress",
        "response.output_item.added", "response.content_part.added",
        "response.output_text.delta", "response.output_text.delta",
        "response.output_text.done",  "response.content_part.done",
        "response.output_item.done",  "response.completed",
    };
    assert_int_equal(ev.n, 10);
    for (int i = 0; i < ev.n; i++)
        assert_string_equal(ev.ev[i].type, types[i]);
    check_protocol(&ev);
    /* lifecycle */
    cJSON *created = cJSON_GetObjectItem(ev.ev[0].data, "response");
    assert_string_equal(sget(created, "id"), "resp_S1");
    assert_string_equal(sget(created, "status"), "in_progress");
    assert_string_equal(sget(created, "model"), "my-model");
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(created, "output")), 0);
    assert_true(cJSON_IsNull(cJSON_GetObjectItem(created, "usage")));
    /* events in full */
    char *s = cJSON_PrintUnformatted(ev.ev[4].data);
    assert_json(s, strlen(s),
                "{\"type\":\"response.output_text.delta\",\"sequence_number\":4,\"item_id\":"
                "\"msg_S1_0\",\"output_index\":0,\"content_index\":0,\"delta\":\"Hel\","
                "\"logprobs\":[]}");
    free(s);
    s = cJSON_PrintUnformatted(ev.ev[2].data);
    assert_json(s, strlen(s),
                "{\"type\":\"response.output_item.added\",\"sequence_number\":2,\"output_index\":0,"
                "\"item\":{\"id\":\"msg_S1_0\",\"type\":\"message\",\"status\":\"in_progress\","
                "\"content\":[],\"role\":\"assistant\"}}");
    free(s);
    s = cJSON_PrintUnformatted(ev.ev[7].data);
    assert_json(s, strlen(s),
                "{\"type\":\"response.content_part.done\",\"sequence_number\":7,\"item_id\":"
                "\"msg_S1_0\",\"output_index\":0,\"content_index\":0,\"part\":{\"type\":"
                "\"output_text\",\"annotations\":[],\"logprobs\":[],\"text\":\"Hello\\n\"}}");
    free(s);
    /* response.completed has the shape of a non-streamed response */
    asc_chat_resp_t r;
    memset(&r, 0, sizeof r);
    r.id = (asc_str_t){"chatcmpl-S1", 11};
    r.text = (asc_str_t){"Hello\n", 6};
    r.finish = ASC_FINISH_STOP;
    r.usage = (asc_canon_usage_t){.input_tokens = 10, .output_tokens = 3, .present = 1};
    asc_buf_t full;
    asc_buf_init(&full, 0);
    D->encode_response(&r, "my-model", &full);
    s = cJSON_PrintUnformatted(cJSON_GetObjectItem(ev.ev[9].data, "response"));
    assert_json(s, strlen(s), full.data);
    free(s);
    asc_buf_free(&full);
    free_events(&ev);
    asc_api_responses_stream_free(st); /* idempotent after the end */
    free(st);
    asc_buf_free(&out);
}

static void test_stream_tools(void **state)
{
    (void)state;
    asc_pool_t *p = asc_pool_create(0);
    asc_chat_req_t req;
    char err[256];
    assert_int_equal(decode(p,
                            "{\"model\":\"m\",\"input\":\"x\",\"tools\":[{\"type\":\"function\","
                            "\"name\":\"weather\"}],\"stream\":true}",
                            &req, err, sizeof err),
                     ASC_OK);
    asc_buf_t out;
    asc_buf_init(&out, 0);
    void *st = begin(&req, "msg_01Abc", &out);
    emit_text(st, &out, "Let me check.");
    emit_tool(st, &out, 0, "toolu_1", "weather");
    emit_args(st, &out, 0, "");
    emit_args(st, &out, 0, "{\"city\":");
    emit_args(st, &out, 0, "\"Paris\"}");
    emit_tool(st, &out, 1, "toolu_2", "weather");
    emit_args(st, &out, 1, "{\"city\":\"Rome\"}");
    emit_end(st, &out, ASC_FINISH_TOOL_CALLS, 30, 20);

    events_t ev;
    parse_sse(out.data, out.len, &ev);
    static const char *const types[] = {
        "response.created",
        "response.in_progress",
        "response.output_item.added", /* message */
        "response.content_part.added",
        "response.output_text.delta",
        "response.output_text.done",
        "response.content_part.done",
        "response.output_item.done",
        "response.output_item.added", /* call 1 streams live */
        "response.function_call_arguments.delta",
        "response.function_call_arguments.delta",
        "response.function_call_arguments.done",
        "response.output_item.done",
        "response.output_item.added", /* call 2, held until the end */
        "response.function_call_arguments.delta",
        "response.function_call_arguments.done",
        "response.output_item.done",
        "response.completed",
    };
    assert_int_equal(ev.n, (int)(sizeof types / sizeof types[0]));
    for (int i = 0; i < ev.n; i++)
        assert_string_equal(ev.ev[i].type, types[i]);
    check_protocol(&ev);
    char *s = cJSON_PrintUnformatted(ev.ev[8].data);
    assert_json(
        s, strlen(s),
        "{\"type\":\"response.output_item.added\",\"sequence_number\":8,\"output_index\":1,"
        "\"item\":{\"id\":\"fc_01Abc_1\",\"type\":\"function_call\",\"status\":"
        "\"in_progress\",\"arguments\":\"\",\"call_id\":\"toolu_1\",\"name\":\"weather\"}}");
    free(s);
    s = cJSON_PrintUnformatted(ev.ev[11].data);
    assert_json(s, strlen(s),
                "{\"type\":\"response.function_call_arguments.done\",\"sequence_number\":11,"
                "\"item_id\":\"fc_01Abc_1\",\"output_index\":1,\"arguments\":"
                "\"{\\\"city\\\":\\\"Paris\\\"}\"}");
    free(s);
    cJSON *resp = cJSON_GetObjectItem(ev.ev[ev.n - 1].data, "response");
    assert_string_equal(sget(resp, "status"), "completed");
    s = cJSON_PrintUnformatted(cJSON_GetObjectItem(resp, "output"));
    assert_json(
        s, strlen(s),
        "[{\"id\":\"msg_01Abc_0\",\"type\":\"message\",\"status\":\"completed\",\"content\":"
        "[{\"type\":\"output_text\",\"annotations\":[],\"logprobs\":[],\"text\":\"Let me "
        "check.\"}],\"role\":\"assistant\"},{\"id\":\"fc_01Abc_1\",\"type\":"
        "\"function_call\",\"status\":\"completed\",\"arguments\":\"{\\\"city\\\":"
        "\\\"Paris\\\"}\",\"call_id\":\"toolu_1\",\"name\":\"weather\"},{\"id\":"
        "\"fc_01Abc_2\",\"type\":\"function_call\",\"status\":\"completed\",\"arguments\":"
        "\"{\\\"city\\\":\\\"Rome\\\"}\",\"call_id\":\"toolu_2\",\"name\":\"weather\"}]");
    free(s);
    s = cJSON_PrintUnformatted(cJSON_GetObjectItem(resp, "usage"));
    assert_json(s, strlen(s),
                "{\"input_tokens\":30,\"input_tokens_details\":{\"cached_tokens\":0,"
                "\"cache_write_tokens\":0},\"output_tokens\":20,\"output_tokens_details\":{"
                "\"reasoning_tokens\":0},\"total_tokens\":50}");
    free(s);
    /* the request's tools are echoed */
    cJSON *tools = cJSON_GetObjectItem(resp, "tools");
    assert_int_equal(cJSON_GetArraySize(tools), 1);
    assert_string_equal(sget(cJSON_GetArrayItem(tools, 0), "name"), "weather");
    free_events(&ev);
    free(st);
    asc_buf_free(&out);
    asc_pool_destroy(p);
}

/* Calls interleaved by index (allowed by OpenAI chat upstreams), and text
 * after a call: items still never interleave, and nothing is lost. */
static void test_stream_interleaved(void **state)
{
    (void)state;
    asc_buf_t out;
    asc_buf_init(&out, 0);
    void *st = begin(NULL, "chatcmpl-I", &out);
    emit_tool(st, &out, 0, "call_0", "a");
    emit_tool(st, &out, 1, "call_1", "b");
    emit_args(st, &out, 1, "{\"y\":");
    emit_args(st, &out, 0, "{\"x\":");
    emit_args(st, &out, 1, "2}");
    emit_args(st, &out, 0, "1}");
    emit_text(st, &out, "done");
    emit_args(st, &out, 7, "{}"); /* a call that never started: ignored */
    emit_end(st, &out, ASC_FINISH_TOOL_CALLS, 1, 1);
    events_t ev;
    parse_sse(out.data, out.len, &ev);
    check_protocol(&ev);
    cJSON *o = cJSON_GetObjectItem(cJSON_GetObjectItem(ev.ev[ev.n - 1].data, "response"), "output");
    assert_int_equal(cJSON_GetArraySize(o), 3);
    assert_string_equal(sget(cJSON_GetArrayItem(o, 0), "call_id"), "call_0");
    assert_string_equal(sget(cJSON_GetArrayItem(o, 0), "arguments"), "{\"x\":1}");
    assert_string_equal(sget(cJSON_GetArrayItem(o, 1), "call_id"), "call_1");
    assert_string_equal(sget(cJSON_GetArrayItem(o, 1), "arguments"), "{\"y\":2}");
    cJSON *msg = cJSON_GetArrayItem(o, 2);
    assert_string_equal(sget(msg, "type"), "message");
    assert_string_equal(sget(cJSON_GetArrayItem(cJSON_GetObjectItem(msg, "content"), 0), "text"),
                        "done");
    free_events(&ev);
    free(st);
    asc_buf_free(&out);
}

static void test_stream_length(void **state)
{
    (void)state;
    asc_buf_t out;
    asc_buf_init(&out, 0);
    void *st = begin(NULL, "chatcmpl-L", &out);
    emit_text(st, &out, "The answer is");
    emit_end(st, &out, ASC_FINISH_LENGTH, 5, 3);
    events_t ev;
    parse_sse(out.data, out.len, &ev);
    check_protocol(&ev);
    assert_string_equal(ev.ev[ev.n - 1].type, "response.incomplete");
    cJSON *resp = cJSON_GetObjectItem(ev.ev[ev.n - 1].data, "response");
    assert_string_equal(sget(resp, "status"), "incomplete");
    assert_string_equal(sget(cJSON_GetObjectItem(resp, "incomplete_details"), "reason"),
                        "max_output_tokens");
    cJSON *item = cJSON_GetObjectItem(ev.ev[ev.n - 2].data, "item");
    assert_string_equal(sget(item, "status"), "incomplete");
    free_events(&ev);

    /* a stream with no output at all still ends with a (empty) message */
    asc_buf_clear(&out);
    free(st);
    st = begin(NULL, "", &out);
    emit_end(st, &out, ASC_FINISH_STOP, 5, 0);
    parse_sse(out.data, out.len, &ev);
    check_protocol(&ev);
    assert_string_equal(ev.ev[ev.n - 1].type, "response.completed");
    cJSON *r = cJSON_GetObjectItem(ev.ev[0].data, "response");
    assert_true(strncmp(sget(r, "id"), "resp_asc", 8) == 0); /* made up: no upstream id */
    free_events(&ev);
    free(st);
    asc_buf_free(&out);
}

static void test_stream_errors(void **state)
{
    (void)state;
    asc_buf_t out;
    asc_buf_init(&out, 0);
    void *st = begin(NULL, "chatcmpl-E", &out);
    emit_text(st, &out, "partial");
    D->stream_error(st, 503, "overloaded", "the upstream is overloaded", &out);
    size_t len = out.len;
    emit_text(st, &out, "more");
    D->stream_error(st, 502, "upstream_error", "again", &out);
    assert_int_equal(out.len, len);
    events_t ev;
    parse_sse(out.data, out.len, &ev);
    check_protocol(&ev);
    char *s = cJSON_PrintUnformatted(ev.ev[ev.n - 1].data);
    assert_json(s, strlen(s),
                "{\"type\":\"error\",\"sequence_number\":5,\"code\":\"overloaded\",\"message\":"
                "\"the upstream is overloaded\",\"param\":null,\"error\":{\"type\":\"api_error\","
                "\"code\":\"overloaded\",\"message\":\"the upstream is overloaded\",\"param\":"
                "null}}");
    free(s);
    free_events(&ev);
    free(st);

    /* an upstream ERROR event before anything else */
    asc_buf_clear(&out);
    st = calloc(1, D->stream_state_size);
    D->stream_begin(st, NULL, "m");
    asc_sev_t e = sev(ASC_SEV_ERROR);
    e.error_status = 429;
    e.error_code = "rate_limited";
    e.error_message = (asc_str_t){"slow down", 9};
    D->stream_event(st, &e, &out);
    parse_sse(out.data, out.len, &ev);
    assert_int_equal(ev.n, 1);
    assert_string_equal(ev.ev[0].type, "error");
    assert_int_equal(iget(ev.ev[0].data, "sequence_number"), 0);
    assert_string_equal(sget(cJSON_GetObjectItem(ev.ev[0].data, "error"), "type"),
                        "rate_limit_error");
    free_events(&ev);
    free(st);

    /* abandoned mid-stream: the free function releases everything (LSan) */
    asc_buf_clear(&out);
    st = begin(NULL, "chatcmpl-A", &out);
    emit_text(st, &out, "x");
    emit_tool(st, &out, 0, "c", "f");
    emit_tool(st, &out, 1, "d", "g");
    emit_args(st, &out, 1, "{}");
    asc_api_responses_stream_free(st);
    asc_api_responses_stream_free(st);
    free(st);
    asc_buf_free(&out);
}

/* Past ASC_RESPONSES_STREAM_CAP the stream ends with an error event rather
 * than a truncated answer. */
static void test_stream_cap(void **state)
{
    (void)state;
    size_t chunk = (size_t)1 << 20;
    char *big = malloc(chunk + 1);
    memset(big, 'a', chunk);
    big[chunk] = '\0';
    asc_buf_t out;
    asc_buf_init(&out, 0);
    void *st = begin(NULL, "chatcmpl-C", &out);
    for (int i = 0; i < 10; i++)
        emit_text(st, &out, big);
    emit_end(st, &out, ASC_FINISH_STOP, 1, 1);
    const char *tailp = out.data + out.len;
    /* the last event is the error */
    const char *last = out.data;
    for (const char *q = strstr(out.data, "event: "); q != NULL; q = strstr(q + 1, "\n\nevent: "))
        last = q[0] == '\n' ? q + 2 : q;
    assert_true(last < tailp);
    assert_int_equal(strncmp(last, "event: error\n", 13), 0);
    assert_non_null(strstr(last, "\"code\":\"response_too_large\""));
    assert_true(out.len < 9 * chunk);
    free(st);
    free(big);
    asc_buf_free(&out);
}

/* A client's pretty-printed schema is echoed in response.created: its
 * newlines must not reach an SSE data line (they would split the event). */
static void test_stream_pretty_schema(void **state)
{
    (void)state;
    asc_pool_t *p = asc_pool_create(0);
    const char *body = "{\"model\":\"m\",\"input\":\"hi\",\"stream\":true,\"tools\":[{\"type\":"
                       "\"function\",\"name\":\"f\",\"parameters\":{\n  \"type\": \"object\",\n"
                       "  \"properties\": {\"a b\": {\"type\": \"string\"}}\n}}]}";
    asc_chat_req_t r;
    char err[256];
    assert_int_equal(decode(p, body, &r, err, sizeof err), ASC_OK);
    asc_buf_t out;
    asc_buf_init(&out, 0);
    void *st = begin(&r, "chatcmpl-P1", &out);
    emit_end(st, &out, ASC_FINISH_STOP, 1, 1);
    /* every line is a field line or the blank line ending an event */
    for (char *line = out.data; line != NULL && *line;) {
        char *nl = strchr(line, '\n');
        size_t n = nl ? (size_t)(nl - line) : strlen(line);
        if (n > 0 && strncmp(line, "event: ", 7) != 0 && strncmp(line, "data: ", 6) != 0)
            fail_msg("stray SSE line: %.*s", (int)n, line);
        line = nl ? nl + 1 : NULL;
    }
    /* the schema arrives intact (a key with a space keeps it) */
    assert_non_null(strstr(out.data, "\"properties\":{\"a b\":{\"type\":\"string\"}}"));
    D->stream_free(st);
    free(st);
    asc_buf_free(&out);
    asc_pool_destroy(p);
}

static void test_error_body(void **state)
{
    (void)state;
    asc_buf_t out;
    asc_buf_init(&out, 0);
    D->error_body(400, "invalid_request", "store: \"x\"", &out);
    assert_json(out.data, out.len,
                "{\"error\":{\"message\":\"store: \\\"x\\\"\",\"type\":\"invalid_request_error\","
                "\"param\":null,\"code\":\"invalid_request\"}}");
    asc_buf_clear(&out);
    D->error_body(429, "rate_limited", "slow", &out);
    assert_json(out.data, out.len,
                "{\"error\":{\"message\":\"slow\",\"type\":\"rate_limit_error\",\"param\":null,"
                "\"code\":\"rate_limited\"}}");
    asc_buf_free(&out);
    assert_string_equal(D->name, "openai-responses");
    assert_int_equal(D->version, ASC_DIALECT_VERSION);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_decode_string_input), cmocka_unit_test(test_decode_items),
        cmocka_unit_test(test_decode_tools_format), cmocka_unit_test(test_decode_refusals),
        cmocka_unit_test(test_encode_response),     cmocka_unit_test(test_encode_response_echo),
        cmocka_unit_test(test_stream_text),         cmocka_unit_test(test_stream_tools),
        cmocka_unit_test(test_stream_interleaved),  cmocka_unit_test(test_stream_length),
        cmocka_unit_test(test_stream_errors),       cmocka_unit_test(test_stream_cap),
        cmocka_unit_test(test_error_body),          cmocka_unit_test(test_stream_pretty_schema),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

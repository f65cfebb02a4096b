/* The inbound Anthropic Messages dialect: request decoding (blocks,
 * tool_result merging, every refusal), the Message encoder, the streamed
 * event encoder and the error bodies. Expected outputs are written out by
 * hand from Anthropic's API reference, never computed by the code. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "api/anthropic_int.h"
#include "api/dialect.h"

/* JSON written as C tokens: J({"a":1}) is the string "{\"a\":1}" (line
 * breaks inside become spaces: jc() removes whitespace outside strings).
 * EV() marks one SSE event for sse(), which writes it as the wire bytes. */
#define J(...) #__VA_ARGS__
#define EV(name, data) "\001" name "\002" data

static void put_compact(asc_buf_t *b, const char *s, const char *end)
{
    int in = 0, esc = 0;
    for (; s < end; s++) {
        char c = *s;
        if (in) {
            asc_buf_putc(b, c);
            if (esc)
                esc = 0;
            else if (c == '\\')
                esc = 1;
            else if (c == '"')
                in = 0;
            continue;
        }
        if (c == ' ' || c == '\n' || c == '\t' || c == '\r')
            continue;
        if (c == '"')
            in = 1;
        asc_buf_putc(b, c);
    }
}

/* The JSON text without insignificant whitespace (a static buffer). */
static const char *jc(const char *json)
{
    static asc_buf_t b;
    asc_buf_free(&b);
    asc_buf_init(&b, 0);
    put_compact(&b, json, json + strlen(json));
    return b.data;
}

/* EV(name, json) EV(...) ... as SSE bytes (a static buffer). */
static const char *sse(const char *spec)
{
    static asc_buf_t b;
    asc_buf_free(&b);
    asc_buf_init(&b, 0);
    while (*spec == '\001') {
        const char *name = spec + 1, *sep = strchr(name, '\002');
        const char *data = sep + 1, *next = strchr(data, '\001');
        const char *end = next ? next : data + strlen(data);
        asc_buf_puts(&b, "event: ");
        asc_buf_append(&b, name, (size_t)(sep - name));
        asc_buf_puts(&b, "\ndata: ");
        put_compact(&b, data, end);
        asc_buf_puts(&b, "\n\n");
        spec = end;
    }
    return b.data;
}

static const asc_dialect_t *D = &asc_dialect_anthropic;

/* A request carrying the anthropic-version header (or not). */
static asc_http_req_t *fake_req(const char *version)
{
    static asc_http_header_t h[2];
    static asc_http_req_t r;
    memset(&r, 0, sizeof r);
    h[0] = (asc_http_header_t){"Content-Type", 12, "application/json", 16};
    r.headers = h;
    r.nheaders = 1;
    if (version != NULL) {
        h[1] = (asc_http_header_t){"Anthropic-Version", 17, version, strlen(version)};
        r.nheaders = 2;
    }
    return &r;
}

static asc_err_t decode(asc_pool_t *p, const char *body, asc_chat_req_t *out, char *err,
                        size_t errlen)
{
    return D->decode(p, body, strlen(body), fake_req("2023-06-01"), out, err, errlen);
}

static void decode_ok(asc_pool_t *p, const char *body, asc_chat_req_t *out)
{
    char err[300] = "";
    asc_err_t e = decode(p, body, out, err, sizeof err);
    if (e != ASC_OK)
        fail_msg("decode failed: %s", err);
}

static void assert_str(asc_str_t s, const char *want)
{
    if (!asc_str_eq(s, want))
        fail_msg("got \"%.*s\", want \"%s\"", s.p ? (int)s.n : 6, s.p ? s.p : "(null)", want);
}

/* Raw JSON compared without insignificant whitespace (clang-format spaces
 * the J() literals). */
static void assert_json(asc_str_t s, const char *want)
{
    char got[1024];
    if (!asc_str_set(s) || s.n >= sizeof got)
        fail_msg("no JSON value where %s was expected", want);
    memcpy(got, s.p, s.n);
    got[s.n] = '\0';
    char *g = strdup(jc(got));
    if (strcmp(g, jc(want)) != 0)
        fail_msg("got %s, want %s", g, jc(want));
    free(g);
}

/* ---- decode ----------------------------------------------------------------- */

static void test_decode_basic(void **state)
{
    (void)state;
    asc_pool_t *p = asc_pool_create(0);
    asc_chat_req_t r;
    decode_ok(p, J({
                  "model" : "claude-sonnet-4-5",
                  "max_tokens" : 1024,
                  "system" : "Be brief.",
                  "messages" : [
                      {"role" : "user", "content" : "Hello, Claude"},
                      {"role" : "assistant", "content" : "Hi!"},
                      {"role" : "user", "content" : "Tab\there \u00e9"}
                  ],
                  "temperature" : 0.5,
                  "top_p" : 0.9,
                  "top_k" : 40,
                  "stop_sequences" : [ "END", "\n\nHuman:" ],
                  "metadata" : {"user_id" : "user-42"},
                  "stream" : true
              }),
              &r);
    assert_str(r.model, "claude-sonnet-4-5");
    assert_int_equal(r.has_max_tokens, 1);
    assert_int_equal(r.max_tokens, 1024);
    assert_int_equal(r.nmsgs, 4);
    assert_int_equal(r.msgs[0].role, ASC_ROLE_SYSTEM);
    assert_int_equal(r.msgs[0].nparts, 1);
    assert_str(r.msgs[0].parts[0].text, "Be brief.");
    assert_int_equal(r.msgs[1].role, ASC_ROLE_USER);
    assert_str(r.msgs[1].parts[0].text, "Hello, Claude");
    assert_int_equal(r.msgs[2].role, ASC_ROLE_ASSISTANT);
    assert_str(r.msgs[2].parts[0].text, "Hi!");
    assert_int_equal(r.msgs[2].ntool_calls, 0);
    assert_str(r.msgs[3].parts[0].text, "Tab\there \xc3\xa9"); /* unescaped */
    assert_int_equal(r.has_temperature, 1);
    assert_true(r.temperature == 0.5);
    assert_true(r.top_p == 0.9);
    assert_int_equal(r.has_top_k, 1);
    assert_int_equal(r.top_k, 40);
    assert_int_equal(r.nstop, 2);
    assert_str(r.stop[0], "END");
    assert_str(r.stop[1], "\n\nHuman:");
    assert_str(r.user, "user-42");
    assert_false(asc_str_set(r.metadata));
    assert_int_equal(r.stream, 1);
    assert_int_equal(r.include_usage, 1);
    assert_int_equal(r.has_seed, 0);
    assert_int_equal(r.tool_choice, ASC_TOOL_CHOICE_UNSET);
    assert_int_equal(r.parallel_tool_calls, -1);
    assert_int_equal(r.format, ASC_FORMAT_UNSET);
    /* "Be brief." 9 + "Hello, Claude" 13 + "Hi!" 3 + "Tab\there é" 11 */
    assert_int_equal(r.input_bytes, 9 + 13 + 3 + 11);
    asc_pool_destroy(p);
}

static void test_decode_blocks(void **state)
{
    (void)state;
    asc_pool_t *p = asc_pool_create(0);
    asc_chat_req_t r;
    decode_ok(
        p, J({
            "model" : "m",
            "max_tokens" : 100,
            "system" : [
                {"type" : "text", "text" : "S1"},
                {"type" : "text", "text" : "S2", "cache_control" : {"type" : "ephemeral"}}
            ],
            "messages" : [
                {
                    "role" : "user",
                    "content" : [
                        {"type" : "text", "text" : "Look:"}, {
                            "type" : "image",
                            "source" : {
                                "type" : "base64",
                                "media_type" : "image/png",
                                "data" : "iVBORw0KGgo="
                            }
                        },
                        {
                            "type" : "image",
                            "source" : {"type" : "url", "url" : "https://example.com/a.jpg"},
                            "cache_control" : {"type" : "ephemeral", "ttl" : "1h"}
                        }
                    ]
                },
                {
                    "role" : "assistant",
                    "content" : [
                        {"type" : "text", "text" : "Checking."}, {
                            "type" : "tool_use",
                            "id" : "toolu_01A",
                            "name" : "get_weather",
                            "input" : {"city" : "Paris"}
                        },
                        {"type" : "tool_use", "id" : "toolu_01B", "name" : "get_time", "input" : {}}
                    ]
                },
                {
                    "role" : "user",
                    "content" : [
                        {
                            "type" : "tool_result",
                            "tool_use_id" : "toolu_01A",
                            "content" : "15 degrees"
                        },
                        {
                            "type" : "tool_result",
                            "tool_use_id" : "toolu_01B",
                            "is_error" : true,
                            "content" : [
                                {"type" : "text", "text" : "clock"},
                                {"type" : "text", "text" : " broken"}
                            ],
                            "cache_control" : {"type" : "ephemeral"}
                        },
                        {"type" : "text", "text" : "And tomorrow?"}
                    ]
                }
            ]
        }),
        &r);
    assert_int_equal(r.nmsgs, 6);
    /* system: two text parts, the second with its cache hint */
    assert_int_equal(r.msgs[0].role, ASC_ROLE_SYSTEM);
    assert_int_equal(r.msgs[0].nparts, 2);
    assert_str(r.msgs[0].parts[1].text, "S2");
    assert_false(asc_str_set(r.msgs[0].parts[0].cache_control));
    assert_json(r.msgs[0].parts[1].cache_control, J({"type" : "ephemeral"}));
    /* user: text, base64 image, url image */
    const asc_msg_t *u = &r.msgs[1];
    assert_int_equal(u->role, ASC_ROLE_USER);
    assert_int_equal(u->nparts, 3);
    assert_int_equal(u->parts[0].type, ASC_PART_TEXT);
    assert_int_equal(u->parts[1].type, ASC_PART_IMAGE_BASE64);
    assert_str(u->parts[1].media_type, "image/png");
    assert_str(u->parts[1].data, "iVBORw0KGgo=");
    assert_int_equal(u->parts[2].type, ASC_PART_IMAGE_URL);
    assert_str(u->parts[2].url, "https://example.com/a.jpg");
    assert_json(u->parts[2].cache_control, J({"type" : "ephemeral", "ttl" : "1h"}));
    /* assistant: text + two calls, arguments verbatim */
    const asc_msg_t *a = &r.msgs[2];
    assert_int_equal(a->role, ASC_ROLE_ASSISTANT);
    assert_int_equal(a->nparts, 1);
    assert_str(a->parts[0].text, "Checking.");
    assert_int_equal(a->ntool_calls, 2);
    assert_str(a->tool_calls[0].id, "toolu_01A");
    assert_str(a->tool_calls[0].name, "get_weather");
    assert_json(a->tool_calls[0].arguments, "{\"city\": \"Paris\"}");
    assert_str(a->tool_calls[1].arguments, "{}");
    /* the mixed user message: two tool messages, then the user's text */
    assert_int_equal(r.msgs[3].role, ASC_ROLE_TOOL);
    assert_str(r.msgs[3].tool_call_id, "toolu_01A");
    assert_int_equal(r.msgs[3].is_error, 0);
    assert_int_equal(r.msgs[3].nparts, 1);
    assert_str(r.msgs[3].parts[0].text, "15 degrees");
    assert_int_equal(r.msgs[4].role, ASC_ROLE_TOOL);
    assert_str(r.msgs[4].tool_call_id, "toolu_01B");
    assert_int_equal(r.msgs[4].is_error, 1);
    assert_int_equal(r.msgs[4].nparts, 2);
    assert_str(r.msgs[4].parts[1].text, " broken");
    /* the tool_result's cache breakpoint lands on its last part */
    assert_false(asc_str_set(r.msgs[4].parts[0].cache_control));
    assert_json(r.msgs[4].parts[1].cache_control, J({"type" : "ephemeral"}));
    assert_int_equal(r.msgs[5].role, ASC_ROLE_USER);
    assert_int_equal(r.msgs[5].nparts, 1);
    assert_str(r.msgs[5].parts[0].text, "And tomorrow?");
    asc_pool_destroy(p);
}

static void test_decode_tool_results_only(void **state)
{
    (void)state;
    asc_pool_t *p = asc_pool_create(0);
    asc_chat_req_t r;
    /* text before the results still comes after them; a result without
     * content has no parts; an empty user content array stays a message */
    decode_ok(
        p, J({
            "model" : "m",
            "max_tokens" : 5,
            "messages" : [
                {"role" : "user", "content" : []}, {
                    "role" : "user",
                    "content" : [
                        {"type" : "text", "text" : "first"},
                        {"type" : "tool_result", "tool_use_id" : "t1"},
                        {"type" : "tool_result", "tool_use_id" : "t2", "content" : ""}
                    ]
                },
                {
                    "role" : "user",
                    "content" : [ {"type" : "tool_result", "tool_use_id" : "t3", "content" : []} ]
                },
                {"role" : "system", "content" : "mid-conversation instructions"}
            ]
        }),
        &r);
    assert_int_equal(r.nmsgs, 6);
    assert_int_equal(r.msgs[0].role, ASC_ROLE_USER);
    assert_int_equal(r.msgs[0].nparts, 0);
    assert_int_equal(r.msgs[1].role, ASC_ROLE_TOOL);
    assert_str(r.msgs[1].tool_call_id, "t1");
    assert_int_equal(r.msgs[1].nparts, 0);
    assert_int_equal(r.msgs[2].role, ASC_ROLE_TOOL);
    assert_str(r.msgs[2].tool_call_id, "t2");
    assert_int_equal(r.msgs[2].nparts, 0);
    assert_int_equal(r.msgs[3].role, ASC_ROLE_USER);
    assert_str(r.msgs[3].parts[0].text, "first");
    assert_int_equal(r.msgs[4].role, ASC_ROLE_TOOL);
    assert_str(r.msgs[4].tool_call_id, "t3");
    assert_int_equal(r.msgs[5].role, ASC_ROLE_SYSTEM);
    assert_str(r.msgs[5].parts[0].text, "mid-conversation instructions");
    asc_pool_destroy(p);
}

static void test_decode_tools(void **state)
{
    (void)state;
    asc_pool_t *p = asc_pool_create(0);
    asc_chat_req_t r;
    decode_ok(p, J({
                  "model" : "m",
                  "max_tokens" : 5,
                  "messages" : [ {"role" : "user", "content" : "x"} ],
                  "tools" : [
                      {
                          "name" : "get_weather",
                          "description" : "Weather now",
                          "input_schema" :
                              {"type" : "object", "properties" : {"city" : {"type" : "string"}}},
                          "cache_control" : {"type" : "ephemeral"}
                      },
                      {
                          "type" : "custom",
                          "name" : "t2",
                          "input_schema" : {"type" : "object"},
                          "strict" : true
                      }
                  ],
                  "tool_choice" : {"type" : "auto", "disable_parallel_tool_use" : true}
              }),
              &r);
    assert_int_equal(r.ntools, 2);
    assert_str(r.tools[0].name, "get_weather");
    assert_str(r.tools[0].description, "Weather now");
    assert_json(r.tools[0].parameters,
                J({"type" : "object", "properties" : {"city" : {"type" : "string"}}}));
    assert_int_equal(r.tools[0].strict, -1);
    assert_false(asc_str_set(r.tools[1].description));
    assert_int_equal(r.tools[1].strict, 1);
    assert_int_equal(r.tool_choice, ASC_TOOL_CHOICE_AUTO);
    assert_int_equal(r.parallel_tool_calls, 0);

    static const struct {
        const char *choice;
        asc_tool_choice_t want;
        int parallel;
    } cases[] = {
        {J({"type" : "any"}), ASC_TOOL_CHOICE_REQUIRED, -1},
        {J({"type" : "none"}), ASC_TOOL_CHOICE_NONE, -1},
        {J({"type" : "any", "disable_parallel_tool_use" : false}), ASC_TOOL_CHOICE_REQUIRED, 1},
        {J({"type" : "tool", "name" : "get_weather"}), ASC_TOOL_CHOICE_FUNCTION, -1},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char body[512];
        snprintf(body, sizeof body,
                 "{\"model\":\"m\",\"max_tokens\":5,\"messages\":[{\"role\":\"user\",\"content\":"
                 "\"x\"}],\"tools\":[{\"name\":\"get_weather\",\"input_schema\":{}}],"
                 "\"tool_choice\":%s}",
                 cases[i].choice);
        decode_ok(p, body, &r);
        assert_int_equal(r.tool_choice, cases[i].want);
        assert_int_equal(r.parallel_tool_calls, cases[i].parallel);
        if (cases[i].want == ASC_TOOL_CHOICE_FUNCTION)
            assert_str(r.tool_choice_name, "get_weather");
    }
    asc_pool_destroy(p);
}

static void test_decode_hints(void **state)
{
    (void)state;
    asc_pool_t *p = asc_pool_create(0);
    asc_chat_req_t r;
    /* thinking is kept raw; output_config.format becomes a JSON schema;
     * hints that do not change the answer are accepted and dropped; the
     * top-level cache_control marks the last block */
    decode_ok(
        p, J({
            "model" : "m",
            "max_tokens" : 2048,
            "thinking" : {"type" : "enabled", "budget_tokens" : 1024},
            "output_config" : {"format" : {"type" : "json_schema", "schema" : {"type" : "object"}}},
            "service_tier" : "auto",
            "speed" : "standard",
            "diagnostics" : {"previous_message_id" : null},
            "cache_control" : {"type" : "ephemeral"},
            "messages" : [ {
                "role" : "user",
                "content" : [ {"type" : "text", "text" : "a"}, {"type" : "text", "text" : "b"} ]
            } ]
        }),
        &r);
    assert_json(r.thinking, J({"type" : "enabled", "budget_tokens" : 1024}));
    assert_int_equal(r.format, ASC_FORMAT_JSON_SCHEMA);
    assert_json(r.format_schema, J({"type" : "object"}));
    assert_int_equal(r.format_strict, -1);
    assert_false(asc_str_set(r.msgs[0].parts[0].cache_control));
    assert_json(r.msgs[0].parts[1].cache_control, J({"type" : "ephemeral"}));
    /* the deprecated beta output_format too */
    decode_ok(p, J({
                  "model" : "m",
                  "max_tokens" : 1,
                  "messages" : [ {"role" : "user", "content" : "a"} ],
                  "output_format" :
                      {"type" : "json_schema", "schema" : {"type" : "object", "properties" : {}}}
              }),
              &r);
    assert_int_equal(r.format, ASC_FORMAT_JSON_SCHEMA);
    assert_json(r.format_schema, J({"type" : "object", "properties" : {}}));
    /* raw values are kept byte for byte */
    decode_ok(p,
              "{\"model\":\"m\",\"max_tokens\":1,\"messages\":[{\"role\":\"assistant\","
              "\"content\":[{\"type\":\"tool_use\",\"id\":\"a\",\"name\":\"b\",\"input\":"
              "{ \"k\" : [1, 2] }}]}],\"thinking\":{\"type\": \"adaptive\"}}",
              &r);
    assert_str(r.msgs[0].tool_calls[0].arguments, "{ \"k\" : [1, 2] }");
    assert_str(r.thinking, "{\"type\": \"adaptive\"}");
    /* no HTTP context (golden runner): no header check */
    char err[200];
    const char *body =
        J({"model" : "m", "max_tokens" : 1, "messages" : [ {"role" : "user", "content" : "a"} ]});
    assert_int_equal(D->decode(p, body, strlen(body), NULL, &r, err, sizeof err), ASC_OK);
    asc_pool_destroy(p);
}

typedef struct {
    const char *body;
    const char *version; /* header value; NULL = no header */
    const char *want;    /* the whole message, or a prefix when it ends with '*' */
} refusal_t;

static void expect_refusal(const refusal_t *c)
{
    asc_pool_t *p = asc_pool_create(0);
    asc_chat_req_t r;
    char err[300] = "";
    asc_err_t e = D->decode(p, c->body, strlen(c->body), fake_req(c->version), &r, err, sizeof err);
    if (e == ASC_OK)
        fail_msg("accepted: %s", c->body);
    assert_int_equal(e, ASC_EINVAL);
    size_t n = strlen(c->want);
    int ok = c->want[n - 1] == '*' ? strncmp(err, c->want, n - 1) == 0 : strcmp(err, c->want) == 0;
    if (!ok)
        fail_msg("body %s\n  got:  %s\n  want: %s", c->body, err, c->want);
    asc_pool_destroy(p);
}

#define V "2023-06-01"
#define MSGS "\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]"
#define BASE "{\"model\":\"m\",\"max_tokens\":10," MSGS

static void test_decode_refusals(void **state)
{
    (void)state;
    static const refusal_t cases[] = {
        /* headers */
        {BASE "}", NULL, "anthropic-version: header is required"},
        {BASE "}", "2023-06-01, 2023-06-01", "anthropic-version: not a valid version*"},
        {BASE "}", "latest", "anthropic-version: not a valid version*"},
        /* required fields */
        {"{\"model\":\"m\"," MSGS "}", V, "max_tokens: Field required"},
        {BASE ",\"max_tokens\":0}", V, "invalid JSON body: duplicate key*"},
        {"{\"model\":\"m\",\"max_tokens\":0," MSGS "}", V,
         "max_tokens: Input should be a positive integer"},
        {"{\"model\":\"m\",\"max_tokens\":1.5," MSGS "}", V,
         "max_tokens: Input should be a positive integer"},
        {"{\"model\":\"m\",\"max_tokens\":\"10\"," MSGS "}", V,
         "max_tokens: Input should be a positive integer"},
        {"{\"max_tokens\":10," MSGS "}", V, "model: Field required"},
        {"{\"model\":\"\",\"max_tokens\":10," MSGS "}", V, "model: must be a non-empty*"},
        {"{\"model\":\"m\",\"max_tokens\":10}", V, "messages: Field required"},
        {"{\"model\":\"m\",\"max_tokens\":10,\"messages\":[]}", V,
         "messages: Input should be a non-empty list"},
        /* unknown fields, at every level */
        {BASE ",\"frequency_penalty\":0.5}", V,
         "frequency_penalty: Extra inputs are not permitted"},
        {BASE ",\"n\":2}", V, "n: Extra inputs are not permitted"},
        {BASE ",\"stream_options\":{\"include_usage\":true}}", V,
         "stream_options: Extra inputs are not permitted"},
        {"{\"model\":\"m\",\"max_tokens\":1,\"messages\":[{\"role\":\"user\",\"content\":\"x\","
         "\"name\":\"bob\"}]}",
         V, "messages.0.name: Extra inputs are not permitted"},
        {"{\"model\":\"m\",\"max_tokens\":1,\"messages\":[{\"role\":\"user\",\"content\":[{"
         "\"type\":"
         "\"text\",\"text\":\"x\",\"foo\":1}]}]}",
         V, "messages.0.content.0.foo: Extra inputs are not permitted"},
        {BASE ",\"metadata\":{\"session\":\"s\"}}", V,
         "metadata.session: Extra inputs are not permitted"},
        {BASE ",\"tool_choice\":{\"type\":\"none\",\"disable_parallel_tool_use\":true}}", V,
         "tool_choice.disable_parallel_tool_use: Extra inputs are not permitted"},
        /* client-chosen upstreams (ADVERSARIAL #2) */
        {BASE ",\"api_base\":\"http://evil\"}", V,
         "api_base: choosing the upstream from the request is not allowed; upstreams come only "
         "from the gateway's configuration"},
        {BASE ",\"metadata\":{\"user_id\":\"u\",\"base_url\":\"http://evil\"}}", V,
         "base_url: choosing the upstream*"},
        {BASE ",\"provider\":{\"api_key\":\"sk-x\"}}", V, "api_key: choosing the upstream*"},
        {BASE ",\"extra_body\":{\"upstream_url\":\"http://x\"}}", V,
         "upstream_url: choosing the upstream*"},
        /* strict JSON */
        {"{\"model\":\"m\",\"model\":\"n\",\"max_tokens\":1," MSGS "}", V,
         "invalid JSON body: duplicate key*"},
        {"{\"model\":\"m\",\"max_tokens\":1,\"messages\":[{\"role\":\"user\",\"role\":\"user\","
         "\"content\":\"x\"}]}",
         V, "invalid JSON body: duplicate key*"},
        {"[1]", V, "invalid JSON body*"},
        {"{\"model\":", V, "invalid JSON body*"},
        /* roles and content */
        {"{\"model\":\"m\",\"max_tokens\":1,\"messages\":[{\"role\":\"tool\",\"content\":\"x\"}]}",
         V, "messages.0.role: Input should be 'user', 'assistant' or 'system'"},
        {"{\"model\":\"m\",\"max_tokens\":1,\"messages\":[{\"role\":\"user\"}]}", V,
         "messages.0.content: Field required"},
        {"{\"model\":\"m\",\"max_tokens\":1,\"messages\":[{\"content\":\"x\"}]}", V,
         "messages.0.role: Field required"},
        {"{\"model\":\"m\",\"max_tokens\":1,\"messages\":[{\"role\":\"user\",\"content\":7}]}", V,
         "messages.0.content: Input should be a string or a list of content blocks"},
        /* block types asc cannot carry */
        {"{\"model\":\"m\",\"max_tokens\":1,\"messages\":[{\"role\":\"user\",\"content\":[{"
         "\"type\":"
         "\"document\",\"source\":{\"type\":\"text\",\"media_type\":\"text/plain\",\"data\":\"d\"}}"
         "]}]}",
         V,
         "messages.0.content.0: content block type \"document\" is not supported by this gateway"},
        {"{\"model\":\"m\",\"max_tokens\":1,\"messages\":[{\"role\":\"user\",\"content\":\"q\"},{"
         "\"role\":\"assistant\",\"content\":[{\"type\":\"thinking\",\"thinking\":\"t\","
         "\"signature\":\"s\"}]}]}",
         V, "messages.1.content.0: content block type \"thinking\" is not supported*"},
        {"{\"model\":\"m\",\"max_tokens\":1,\"messages\":[{\"role\":\"assistant\",\"content\":[{"
         "\"type\":\"redacted_thinking\",\"data\":\"x\"}]}]}",
         V, "messages.0.content.0: content block type \"redacted_thinking\" is not supported*"},
        {"{\"model\":\"m\",\"max_tokens\":1,\"messages\":[{\"role\":\"user\",\"content\":[{"
         "\"type\":"
         "\"search_result\",\"source\":\"s\",\"title\":\"t\",\"content\":[]}]}]}",
         V, "messages.0.content.0: content block type \"search_result\" is not supported*"},
        {"{\"model\":\"m\",\"max_tokens\":1,\"messages\":[{\"role\":\"user\",\"content\":[{"
         "\"type\":"
         "\"tool_use\",\"id\":\"a\",\"name\":\"b\",\"input\":{}}]}]}",
         V, "messages.0.content.0: tool_use blocks are only allowed in assistant messages"},
        {"{\"model\":\"m\",\"max_tokens\":1,\"messages\":[{\"role\":\"assistant\",\"content\":[{"
         "\"type\":\"tool_result\",\"tool_use_id\":\"a\"}]}]}",
         V, "messages.0.content.0: tool_result blocks are only allowed in user messages"},
        {"{\"model\":\"m\",\"max_tokens\":1,\"messages\":[{\"role\":\"assistant\",\"content\":[{"
         "\"type\":\"tool_use\",\"id\":\"a\",\"name\":\"b\",\"input\":\"{}\"}]}]}",
         V, "messages.0.content.0.input: Input should be a valid dictionary"},
        {"{\"model\":\"m\",\"max_tokens\":1,\"messages\":[{\"role\":\"assistant\",\"content\":[{"
         "\"type\":\"tool_use\",\"name\":\"b\",\"input\":{}}]}]}",
         V, "messages.0.content.0.id: Field required"},
        {"{\"model\":\"m\",\"max_tokens\":1,\"messages\":[{\"role\":\"user\",\"content\":[{"
         "\"type\":"
         "\"tool_result\",\"tool_use_id\":\"a\",\"content\":[{\"type\":\"document\"}]}]}]}",
         V, "messages.0.content.0.content.0: content block type \"document\" is not supported*"},
        {"{\"model\":\"m\",\"max_tokens\":1,\"messages\":[{\"role\":\"user\",\"content\":[{"
         "\"type\":"
         "\"image\",\"source\":{\"type\":\"file\",\"file_id\":\"f\"}}]}]}",
         V, "messages.0.content.0.source: file sources (Files API) are not supported*"},
        {"{\"model\":\"m\",\"max_tokens\":1,\"messages\":[{\"role\":\"user\",\"content\":[{"
         "\"type\":"
         "\"image\",\"source\":{\"type\":\"base64\",\"media_type\":\"image/bmp\",\"data\":\"x\"}}]}"
         "]}",
         V, "messages.0.content.0.source.media_type: Input should be*"},
        {"{\"model\":\"m\",\"max_tokens\":1,\"messages\":[{\"role\":\"user\",\"content\":[{"
         "\"text\":"
         "\"x\"}]}]}",
         V, "messages.0.content.0.type: Field required"},
        {"{\"model\":\"m\",\"max_tokens\":1,\"system\":[{\"type\":\"image\"}]," MSGS "}", V,
         "system.0.type: only text blocks are allowed here"},
        /* tools */
        {BASE ",\"tools\":[{\"type\":\"web_search_20250305\",\"name\":\"web_search\","
              "\"max_uses\":5}]}",
         V,
         "tools.0: server tool \"web_search_20250305\" is not supported by this gateway (only "
         "client tools with an input_schema)"},
        {BASE ",\"tools\":[{\"name\":\"t\"}]}", V, "tools.0.input_schema: Field required"},
        {BASE ",\"tools\":[{\"name\":\"t\",\"input_schema\":{},\"input_examples\":[{\"a\":1}]}]}",
         V, "tools.0.input_examples: not supported by this gateway"},
        {BASE ",\"tool_choice\":{\"type\":\"tool\"}}", V, "tool_choice.name: Field required"},
        {BASE ",\"tool_choice\":{\"type\":\"required\"}}", V,
         "tool_choice.type: Input should be 'auto', 'any', 'none' or 'tool'"},
        /* parameters with no mapping */
        {BASE ",\"container\":\"c\"}", V,
         "container: code execution containers are not supported*"},
        {BASE ",\"mcp_servers\":[]}", V, "mcp_servers: MCP connectors are not supported*"},
        {BASE ",\"inference_geo\":\"us\"}", V, "inference_geo: not supported by this gateway*"},
        {BASE ",\"context_management\":{}}", V,
         "context_management: not supported by this gateway"},
        {BASE ",\"speed\":\"fast\"}", V, "speed: \"fast\" is not supported by this gateway"},
        {BASE ",\"service_tier\":\"standard_only\"}", V,
         "service_tier: \"standard_only\" is not supported by this gateway"},
        {BASE ",\"output_config\":{\"effort\":\"high\"}}", V,
         "output_config.effort: not supported by this gateway"},
        {BASE ",\"output_format\":{\"type\":\"json_schema\",\"schema\":{}},\"output_config\":{"
              "\"format\":{\"type\":\"json_schema\",\"schema\":{}}}}",
         V, "output_format: cannot be combined with output_config.format"},
        {BASE ",\"thinking\":true}", V, "thinking: Input should be an object*"},
        /* ranges and types */
        {BASE ",\"temperature\":1.5}", V, "temperature: Input should be between 0 and 1"},
        {BASE ",\"top_p\":\"x\"}", V, "top_p: Input should be a valid number"},
        {BASE ",\"top_k\":-1}", V, "top_k: Input should be a non-negative integer"},
        {BASE ",\"stream\":\"yes\"}", V, "stream: Input should be a valid boolean"},
        {BASE ",\"stop_sequences\":[\"a\",1]}", V,
         "stop_sequences.1: Input should be a valid string"},
        {BASE ",\"metadata\":{\"user_id\":\"a\\nb\"}}", V,
         "metadata.user_id: control characters are not allowed"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        expect_refusal(&cases[i]);
}

/* Words that name upstream fields are legitimate inside content and tool
 * schemas. */
static void test_decode_allows_words_in_content(void **state)
{
    (void)state;
    asc_pool_t *p = asc_pool_create(0);
    asc_chat_req_t r;
    decode_ok(
        p, J({
            "model" : "m",
            "max_tokens" : 1,
            "messages" : [ {"role" : "user", "content" : "set api_base to x"} ],
            "tools" : [ {
                "name" : "cfg",
                "input_schema" :
                    {"type" : "object", "properties" : {"base_url" : {"type" : "string"}}}
            } ]
        }),
        &r);
    assert_int_equal(r.ntools, 1);
    asc_pool_destroy(p);
}

/* A body bigger than the pool may hold fails cleanly. */
static void test_decode_pool_limit(void **state)
{
    (void)state;
    asc_buf_t b;
    asc_buf_init(&b, 0);
    asc_buf_puts(&b, "{\"model\":\"m\",\"max_tokens\":1,\"messages\":[");
    for (int i = 0; i < 2000; i++)
        asc_buf_printf(&b, "%s{\"role\":\"user\",\"content\":\"message %d\"}", i ? "," : "", i);
    asc_buf_puts(&b, "]}");
    asc_pool_t *p = asc_pool_create(64 * 1024);
    asc_chat_req_t r;
    char err[200] = "";
    asc_err_t e = D->decode(p, b.data, b.len, fake_req(V), &r, err, sizeof err);
    assert_int_equal(e, ASC_ETOOBIG);
    asc_pool_destroy(p);
    p = asc_pool_create(0);
    e = D->decode(p, b.data, b.len, fake_req(V), &r, err, sizeof err);
    assert_int_equal(e, ASC_OK);
    assert_int_equal(r.nmsgs, 2000);
    assert_str(r.msgs[1999].parts[0].text, "message 1999");
    asc_pool_destroy(p);
    asc_buf_free(&b);
}

/* ---- encode_response ----------------------------------------------------------- */

static char *encode(const asc_chat_resp_t *r, const char *model)
{
    static char copy[4096];
    asc_buf_t b;
    asc_buf_init(&b, 0);
    D->encode_response(r, model, &b);
    snprintf(copy, sizeof copy, "%s", b.data);
    asc_buf_free(&b);
    return copy;
}

#define S(lit) ((asc_str_t){lit, sizeof(lit) - 1})

static void test_encode_text(void **state)
{
    (void)state;
    asc_chat_resp_t r;
    memset(&r, 0, sizeof r);
    r.id = S("msg_01XFDUDYJgAACzvnptvVoYEL");
    r.model = S("claude-sonnet-4-5-20250929");
    r.text = S("Hello \"world\"\n");
    r.finish = ASC_FINISH_STOP;
    r.usage = (asc_canon_usage_t){.input_tokens = 12, .output_tokens = 6, .present = 1};
    assert_string_equal(encode(&r, "my-claude"), jc(J({
                            "id" : "msg_01XFDUDYJgAACzvnptvVoYEL",
                            "type" : "message",
                            "role" : "assistant",
                            "model" : "my-claude",
                            "content" : [ {"type" : "text", "text" : "Hello \"world\"\n"} ],
                            "stop_reason" : "end_turn",
                            "stop_sequence" : null,
                            "usage" : {
                                "input_tokens" : 12,
                                "cache_creation_input_tokens" : 0,
                                "cache_read_input_tokens" : 0,
                                "output_tokens" : 6
                            }
                        })));
}

static void test_encode_tool_use(void **state)
{
    (void)state;
    asc_tool_call_t calls[3] = {
        {S("call_abc"), S("get_weather"), S("{\"city\":\"Paris\"}")},
        {S("toolu_2"), S("noop"), S("")},                 /* empty: {} */
        {S("toolu_3"), S("cut"), S("{\"text\":\"trunc")}, /* invalid: {} */
    };
    asc_chat_resp_t r;
    memset(&r, 0, sizeof r);
    r.id = S("chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT"); /* not msg_: passed through */
    r.text = S("Let me check.");
    r.tool_calls = calls;
    r.ntool_calls = 3;
    r.finish = ASC_FINISH_TOOL_CALLS;
    r.usage = (asc_canon_usage_t){.input_tokens = 100, .output_tokens = 20, .present = 1};
    assert_string_equal(
        encode(&r, "m"), jc(J({
            "id" : "chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT",
            "type" : "message",
            "role" : "assistant",
            "model" : "m",
            "content" : [
                {"type" : "text", "text" : "Let me check."}, {
                    "type" : "tool_use",
                    "id" : "call_abc",
                    "name" : "get_weather",
                    "input" : {"city" : "Paris"}
                },
                {"type" : "tool_use", "id" : "toolu_2", "name" : "noop", "input" : {}},
                {"type" : "tool_use", "id" : "toolu_3", "name" : "cut", "input" : {}}
            ],
            "stop_reason" : "tool_use",
            "stop_sequence" : null,
            "usage" : {
                "input_tokens" : 100,
                "cache_creation_input_tokens" : 0,
                "cache_read_input_tokens" : 0,
                "output_tokens" : 20
            }
        })));
}

static void test_encode_stop_sequence_and_cache(void **state)
{
    (void)state;
    asc_chat_resp_t r;
    memset(&r, 0, sizeof r);
    r.id = S("msg_1");
    r.text = S("one two");
    r.finish = ASC_FINISH_STOP_SEQUENCE;
    r.stop_sequence = S("three");
    /* canon input includes cache reads and writes: 2000 = 50 + 1800 + 150 */
    r.usage = (asc_canon_usage_t){.input_tokens = 2000,
                                  .output_tokens = 3,
                                  .cached_tokens = 1800,
                                  .cache_write_tokens = 150,
                                  .present = 1};
    assert_string_equal(encode(&r, "m"), jc(J({
                            "id" : "msg_1",
                            "type" : "message",
                            "role" : "assistant",
                            "model" : "m",
                            "content" : [ {"type" : "text", "text" : "one two"} ],
                            "stop_reason" : "stop_sequence",
                            "stop_sequence" : "three",
                            "usage" : {
                                "input_tokens" : 50,
                                "cache_creation_input_tokens" : 150,
                                "cache_read_input_tokens" : 1800,
                                "output_tokens" : 3
                            }
                        })));

    /* the other stop reasons; no text gives no text block; inconsistent
     * usage never goes negative */
    static const struct {
        asc_finish_t f;
        const char *want;
    } reasons[] = {
        {ASC_FINISH_LENGTH, "\"stop_reason\":\"max_tokens\""},
        {ASC_FINISH_CONTENT_FILTER, "\"stop_reason\":\"refusal\""},
        {ASC_FINISH_PAUSE, "\"stop_reason\":\"pause_turn\""},
        {ASC_FINISH_NONE, "\"stop_reason\":null"},
    };
    memset(&r, 0, sizeof r);
    r.id = S("msg_2");
    r.usage = (asc_canon_usage_t){.input_tokens = 5, .cached_tokens = 9};
    for (size_t i = 0; i < sizeof reasons / sizeof reasons[0]; i++) {
        r.finish = reasons[i].f;
        const char *got = encode(&r, "m");
        assert_non_null(strstr(got, reasons[i].want));
        assert_non_null(strstr(got, "\"content\":[],"));
        assert_non_null(strstr(got, "\"input_tokens\":0,"));
    }
    /* no id from the upstream: a generated msg_ id */
    r.id = ASC_STR_NULL;
    assert_memory_equal(encode(&r, "m"), "{\"id\":\"msg_", 11);
}

/* ---- stream ------------------------------------------------------------------- */

typedef struct {
    void *state;
    asc_buf_t out;
} stream_t;

static void s_open(stream_t *s, const char *model)
{
    s->state = calloc(1, D->stream_state_size);
    assert_non_null(s->state);
    asc_buf_init(&s->out, 0);
    D->stream_begin(s->state, NULL, model);
}

static void s_close(stream_t *s)
{
    asc_anthropic_stream_free(s->state);
    free(s->state);
    asc_buf_free(&s->out);
}

static void s_ev(stream_t *s, asc_sev_t ev)
{
    D->stream_event(s->state, &ev, &s->out);
}

static void s_start(stream_t *s, const char *id)
{
    s_ev(s, (asc_sev_t){.type = ASC_SEV_START, .id = {id, strlen(id)}, .model = S("up-model")});
}

static void s_text(stream_t *s, const char *t)
{
    s_ev(s, (asc_sev_t){.type = ASC_SEV_TEXT, .text = {t, strlen(t)}});
}

static void s_tool(stream_t *s, int idx, const char *id, const char *name)
{
    s_ev(s, (asc_sev_t){.type = ASC_SEV_TOOL_START,
                        .tool_index = idx,
                        .tool_id = {id, strlen(id)},
                        .tool_name = {name, strlen(name)}});
}

static void s_args(stream_t *s, int idx, const char *frag)
{
    s_ev(s,
         (asc_sev_t){.type = ASC_SEV_TOOL_ARGS, .tool_index = idx, .text = {frag, strlen(frag)}});
}

static void s_finish(stream_t *s, asc_finish_t f)
{
    s_ev(s, (asc_sev_t){.type = ASC_SEV_FINISH, .finish = f});
}

static void s_usage(stream_t *s, int64_t in, int64_t out, int64_t cached, int64_t write)
{
    s_ev(s, (asc_sev_t){.type = ASC_SEV_USAGE,
                        .usage = {.input_tokens = in,
                                  .output_tokens = out,
                                  .cached_tokens = cached,
                                  .cache_write_tokens = write,
                                  .present = 1}});
}

static void s_done(stream_t *s)
{
    s_ev(s, (asc_sev_t){.type = ASC_SEV_DONE});
}

static void assert_stream(stream_t *s, const char *spec)
{
    const char *want = sse(spec);
    if (strcmp(s->out.data ? s->out.data : "", want) != 0)
        fail_msg("stream differs\n--- got:\n%s\n--- want:\n%s", s->out.data, want);
}

static void assert_stream_tail(const char *got, const char *spec)
{
    const char *want = sse(spec);
    if (strcmp(got, want) != 0)
        fail_msg("stream differs\n--- got:\n%s\n--- want:\n%s", got, want);
}

static void test_stream_text(void **state)
{
    (void)state;
    stream_t s;
    s_open(&s, "my-claude");
    /* as an Anthropic upstream decodes: input usage right after START */
    s_start(&s, "msg_013Zva2CMHLNnXjNJJKqJ2EF");
    s_usage(&s, 2095, 1, 0, 0);
    assert_int_equal(s.out.len, 0); /* message_start waits for content */
    s_text(&s, "Hello");
    s_text(&s, "");
    s_text(&s, " \"there\"");
    s_finish(&s, ASC_FINISH_STOP);
    s_usage(&s, 2095, 503, 0, 0);
    s_done(&s);
    s_text(&s, "ignored after the end");
    assert_stream(&s,
                  EV("message_start", J({
                         "type" : "message_start",
                         "message" : {
                             "id" : "msg_013Zva2CMHLNnXjNJJKqJ2EF",
                             "type" : "message",
                             "role" : "assistant",
                             "model" : "my-claude",
                             "content" : [],
                             "stop_reason" : null,
                             "stop_sequence" : null,
                             "usage" : {
                                 "input_tokens" : 2095,
                                 "cache_creation_input_tokens" : 0,
                                 "cache_read_input_tokens" : 0,
                                 "output_tokens" : 1
                             }
                         }
                     })) EV("ping", J({"type" : "ping"}))
                      EV("content_block_start", J({
                             "type" : "content_block_start",
                             "index" : 0,
                             "content_block" : {"type" : "text", "text" : ""}
                         })) EV("content_block_delta", J({
                                    "type" : "content_block_delta",
                                    "index" : 0,
                                    "delta" : {"type" : "text_delta", "text" : "Hello"}
                                })) EV("content_block_delta", J({
                                           "type" : "content_block_delta",
                                           "index" : 0,
                                           "delta" : {"type" : "text_delta", "text" : " \"there\""}
                                       }))
                          EV("content_block_stop", J({"type" : "content_block_stop", "index" : 0}))
                              EV("message_delta", J({
                                     "type" : "message_delta",
                                     "delta" : {"stop_reason" : "end_turn", "stop_sequence" : null},
                                     "usage" : {
                                         "input_tokens" : 2095,
                                         "cache_creation_input_tokens" : 0,
                                         "cache_read_input_tokens" : 0,
                                         "output_tokens" : 503
                                     }
                                 })) EV("message_stop", J({"type" : "message_stop"})));
    s_close(&s);
}

/* OpenAI-style: usage only at the end, calls one after another. */
static void test_stream_text_then_tools(void **state)
{
    (void)state;
    stream_t s;
    s_open(&s, "m");
    s_start(&s, "chatcmpl-123");
    s_text(&s, "Checking.");
    s_tool(&s, 0, "call_a", "get_weather");
    s_args(&s, 0, "");
    s_args(&s, 0, "{\"city\":");
    s_args(&s, 0, "\"Paris\"}");
    s_tool(&s, 1, "call_b", "get_time");
    s_args(&s, 1, "{\"tz\":\"CET\"}");
    s_finish(&s, ASC_FINISH_TOOL_CALLS);
    s_usage(&s, 80, 40, 64, 0);
    s_done(&s);
    assert_stream(
        &s,
        EV("message_start", J({
               "type" : "message_start",
               "message" : {
                   "id" : "chatcmpl-123",
                   "type" : "message",
                   "role" : "assistant",
                   "model" : "m",
                   "content" : [],
                   "stop_reason" : null,
                   "stop_sequence" : null,
                   "usage" : {
                       "input_tokens" : 0,
                       "cache_creation_input_tokens" : 0,
                       "cache_read_input_tokens" : 0,
                       "output_tokens" : 0
                   }
               }
           })) EV("ping", J({"type" : "ping"}))
            EV("content_block_start", J({
                   "type" : "content_block_start",
                   "index" : 0,
                   "content_block" : {"type" : "text", "text" : ""}
               })) EV("content_block_delta", J({
                          "type" : "content_block_delta",
                          "index" : 0,
                          "delta" : {"type" : "text_delta", "text" : "Checking."}
                      })) EV("content_block_stop", J({"type" : "content_block_stop", "index" : 0}))
                EV("content_block_start", J({
                       "type" : "content_block_start",
                       "index" : 1,
                       "content_block" : {
                           "type" : "tool_use",
                           "id" : "call_a",
                           "name" : "get_weather",
                           "input" : {}
                       }
                   })) EV("content_block_delta", J({
                              "type" : "content_block_delta",
                              "index" : 1,
                              "delta" : {"type" : "input_json_delta", "partial_json" : "{\"city\":"}
                          }))
                    EV("content_block_delta", J({
                           "type" : "content_block_delta",
                           "index" : 1,
                           "delta" : {"type" : "input_json_delta", "partial_json" : "\"Paris\"}"}
                       })) EV("content_block_stop", J({"type" : "content_block_stop", "index" : 1}))
                        EV("content_block_start", J({
                               "type" : "content_block_start",
                               "index" : 2,
                               "content_block" : {
                                   "type" : "tool_use",
                                   "id" : "call_b",
                                   "name" : "get_time",
                                   "input" : {}
                               }
                           })) EV("content_block_delta", J({
                                      "type" : "content_block_delta",
                                      "index" : 2,
                                      "delta" : {
                                          "type" : "input_json_delta",
                                          "partial_json" : "{\"tz\":\"CET\"}"
                                      }
                                  })) EV("content_block_stop",
                                         J({"type" : "content_block_stop", "index" : 2}))
                            EV("message_delta", J({
                                   "type" : "message_delta",
                                   "delta" : {"stop_reason" : "tool_use", "stop_sequence" : null},
                                   "usage" : {
                                       "input_tokens" : 16,
                                       "cache_creation_input_tokens" : 0,
                                       "cache_read_input_tokens" : 64,
                                       "output_tokens" : 40
                                   }
                               })) EV("message_stop", J({"type" : "message_stop"})));
    s_close(&s);
}

/* Calls whose arguments interleave by index: Anthropic blocks cannot, so
 * call 1 waits (buffered) until call 0's arguments are complete. */
static void test_stream_interleaved_tools(void **state)
{
    (void)state;
    stream_t s;
    s_open(&s, "m");
    s_start(&s, "chatcmpl-9");
    s_tool(&s, 0, "call_0", "a");
    s_tool(&s, 1, "call_1", "b");
    s_tool(&s, 2, "call_2", "c");
    s_args(&s, 0, "{\"x\":\"}"); /* a brace inside a string */
    s_args(&s, 1, "{\"y\":");
    s_args(&s, 2, "{}");
    s_args(&s, 1, "[1,2]}");
    s_args(&s, 0, "\"}"); /* call 0 complete: 1 and 2 follow */
    s_args(&s, 1, " \n"); /* whitespace after completion is harmless */
    s_finish(&s, ASC_FINISH_TOOL_CALLS);
    s_done(&s);
    assert_stream(
        &s,
        EV("message_start", J({
               "type" : "message_start",
               "message" : {
                   "id" : "chatcmpl-9",
                   "type" : "message",
                   "role" : "assistant",
                   "model" : "m",
                   "content" : [],
                   "stop_reason" : null,
                   "stop_sequence" : null,
                   "usage" : {
                       "input_tokens" : 0,
                       "cache_creation_input_tokens" : 0,
                       "cache_read_input_tokens" : 0,
                       "output_tokens" : 0
                   }
               }
           })) EV("ping", J({"type" : "ping"}))
            EV("content_block_start", J({
                   "type" : "content_block_start",
                   "index" : 0,
                   "content_block" :
                       {"type" : "tool_use", "id" : "call_0", "name" : "a", "input" : {}}
               })) EV("content_block_delta", J({
                          "type" : "content_block_delta",
                          "index" : 0,
                          "delta" : {"type" : "input_json_delta", "partial_json" : "{\"x\":\"}"}
                      })) EV("content_block_delta", J({
                                 "type" : "content_block_delta",
                                 "index" : 0,
                                 "delta" : {"type" : "input_json_delta", "partial_json" : "\"}"}
                             })) EV("content_block_stop",
                                    J({"type" : "content_block_stop", "index" : 0}))
                EV("content_block_start", J({
                       "type" : "content_block_start",
                       "index" : 1,
                       "content_block" :
                           {"type" : "tool_use", "id" : "call_1", "name" : "b", "input" : {}}
                   })) EV("content_block_delta", J({
                              "type" : "content_block_delta",
                              "index" : 1,
                              "delta" :
                                  {"type" : "input_json_delta", "partial_json" : "{\"y\":[1,2]}"}
                          })) EV("content_block_stop",
                                 J({"type" : "content_block_stop", "index" : 1}))
                    EV("content_block_start", J({
                           "type" : "content_block_start",
                           "index" : 2,
                           "content_block" :
                               {"type" : "tool_use", "id" : "call_2", "name" : "c", "input" : {}}
                       })) EV("content_block_delta", J({
                                  "type" : "content_block_delta",
                                  "index" : 2,
                                  "delta" : {"type" : "input_json_delta", "partial_json" : "{}"}
                              }))
                        EV("content_block_stop", J({"type" : "content_block_stop", "index" : 2}))
                            EV("message_delta", J({
                                   "type" : "message_delta",
                                   "delta" : {"stop_reason" : "tool_use", "stop_sequence" : null},
                                   "usage" : {"output_tokens" : 0}
                               })) EV("message_stop", J({"type" : "message_stop"})));
    s_close(&s);
}

/* A queued call whose open predecessor never completes is flushed at the
 * end; the stop sequence is reported; no START at all still gives an id. */
static void test_stream_flush_at_end(void **state)
{
    (void)state;
    stream_t s;
    s_open(&s, "m");
    s_tool(&s, 3, "t3", "first");
    s_tool(&s, 7, "t7", "second");
    s_args(&s, 7, "{\"k\":1}");
    s_ev(&s, (asc_sev_t){.type = ASC_SEV_FINISH,
                         .finish = ASC_FINISH_STOP_SEQUENCE,
                         .stop_sequence = S("</x>")});
    s_done(&s);
    const char *o = s.out.data;
    const char *head =
        "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_";
    assert_int_equal(strncmp(o, head, strlen(head)), 0);
    const char *rest = strstr(o, sse(EV("ping", J({"type" : "ping"}))));
    assert_non_null(rest);
    assert_stream_tail(
        rest,
        EV("ping", J({"type" : "ping"})) EV(
            "content_block_start", J({
                "type" : "content_block_start",
                "index" : 0,
                "content_block" : {"type" : "tool_use", "id" : "t3", "name" : "first", "input" : {}}
            })) EV("content_block_stop", J({"type" : "content_block_stop", "index" : 0}))
            EV("content_block_start", J({
                   "type" : "content_block_start",
                   "index" : 1,
                   "content_block" :
                       {"type" : "tool_use", "id" : "t7", "name" : "second", "input" : {}}
               })) EV("content_block_delta", J({
                          "type" : "content_block_delta",
                          "index" : 1,
                          "delta" : {"type" : "input_json_delta", "partial_json" : "{\"k\":1}"}
                      })) EV("content_block_stop", J({"type" : "content_block_stop", "index" : 1}))
                EV("message_delta", J({
                       "type" : "message_delta",
                       "delta" : {"stop_reason" : "stop_sequence", "stop_sequence" : "</x>"},
                       "usage" : {"output_tokens" : 0}
                   })) EV("message_stop", J({"type" : "message_stop"})));
    s_close(&s);
}

static void test_stream_errors(void **state)
{
    (void)state;
    stream_t s;
    /* the gateway ends a failed stream with stream_error */
    s_open(&s, "m");
    s_start(&s, "msg_1");
    s_text(&s, "partial");
    D->stream_error(s.state, 503, "overloaded", "upstream error inside the stream: Overloaded",
                    &s.out);
    s_done(&s); /* nothing after the error */
    const char *err = strstr(s.out.data, "event: error");
    assert_non_null(err);
    assert_string_equal(err,
                        sse(EV("error", J({
                                   "type" : "error",
                                   "error" : {
                                       "type" : "overloaded_error",
                                       "message" : "upstream error inside the stream: Overloaded"
                                   }
                               }))));
    s_close(&s);

    s_open(&s, "m");
    D->stream_error(s.state, 429, "rate_limited", "slow down", &s.out);
    assert_string_equal(s.out.data,
                        sse(EV("error", J({
                                   "type" : "error",
                                   "error" : {"type" : "rate_limit_error", "message" : "slow down"}
                               }))));
    s_close(&s);

    /* an ERROR event reaching the encoder ends the stream the same way */
    s_open(&s, "m");
    s_start(&s, "msg_2");
    s_ev(&s, (asc_sev_t){.type = ASC_SEV_ERROR,
                         .error_status = 502,
                         .error_code = "upstream_error",
                         .error_message = S("boom")});
    assert_string_equal(
        s.out.data,
        sse(EV("error",
               J({"type" : "error", "error" : {"type" : "api_error", "message" : "boom"}}))));
    s_close(&s);

    /* arguments after a call's JSON was complete cannot be delivered */
    s_open(&s, "m");
    s_tool(&s, 0, "a", "f");
    s_args(&s, 0, "{}");
    s_tool(&s, 1, "b", "g");
    s_args(&s, 0, "{\"late\":1}");
    assert_non_null(
        strstr(s.out.data,
               sse(EV("error", J({
                          "type" : "error",
                          "error" : {
                              "type" : "api_error",
                              "message" : "tool call arguments arrived after the call was complete"
                          }
                      })))));
    s_close(&s);

    /* arguments for a call that never started */
    s_open(&s, "m");
    s_args(&s, 5, "{}");
    assert_non_null(
        strstr(s.out.data, "\"message\":\"tool call arguments for an unknown tool call\""));
    s_close(&s);
}

/* Buffering for reordering is bounded. */
static void test_stream_pending_limit(void **state)
{
    (void)state;
    stream_t s;
    s_open(&s, "m");
    s_tool(&s, 0, "a", "f");
    s_args(&s, 0, "{\"open\":");
    s_tool(&s, 1, "b", "g");
    size_t chunk = 64 * 1024;
    char *big = malloc(chunk + 1);
    memset(big, 'x', chunk);
    big[chunk] = '\0';
    for (int i = 0; i < 17; i++)
        s_args(&s, 1, big);
    free(big);
    const char *err = strstr(s.out.data, "event: error");
    assert_non_null(err);
    assert_string_equal(err,
                        sse(EV("error", J({
                                   "type" : "error",
                                   "error" : {
                                       "type" : "api_error",
                                       "message" : "interleaved tool calls too large to reorder"
                                   }
                               }))));
    s_done(&s);
    assert_null(strstr(s.out.data, "message_stop"));
    s_close(&s);
}

/* ---- error bodies ---------------------------------------------------------------- */

static void test_error_body(void **state)
{
    (void)state;
    static const struct {
        int status;
        const char *code, *type;
    } cases[] = {
        {400, "invalid_request", "invalid_request_error"},
        {401, "invalid_api_key", "authentication_error"},
        {403, "model_not_allowed", "permission_error"},
        {404, "model_not_found", "not_found_error"},
        {413, "request_too_large", "request_too_large"},
        {429, "budget_exceeded", "rate_limit_error"},
        {500, "internal", "api_error"},
        {502, "upstream_error", "api_error"},
        {503, "no_healthy_target", "api_error"},
        {503, "overloaded", "overloaded_error"},
        {529, "upstream_error", "overloaded_error"},
        {504, "upstream_timeout", "timeout_error"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        asc_buf_t b;
        char want[256];
        asc_buf_init(&b, 0);
        D->error_body(cases[i].status, cases[i].code, "Model \"x\" is not\tknown", &b);
        snprintf(want, sizeof want,
                 "{\"type\":\"error\",\"error\":{\"type\":\"%s\",\"message\":\"Model \\\"x\\\" is "
                 "not\\tknown\"}}",
                 cases[i].type);
        assert_string_equal(b.data, want);
        asc_buf_free(&b);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_decode_basic),
        cmocka_unit_test(test_decode_blocks),
        cmocka_unit_test(test_decode_tool_results_only),
        cmocka_unit_test(test_decode_tools),
        cmocka_unit_test(test_decode_hints),
        cmocka_unit_test(test_decode_refusals),
        cmocka_unit_test(test_decode_allows_words_in_content),
        cmocka_unit_test(test_decode_pool_limit),
        cmocka_unit_test(test_encode_text),
        cmocka_unit_test(test_encode_tool_use),
        cmocka_unit_test(test_encode_stop_sequence_and_cache),
        cmocka_unit_test(test_stream_text),
        cmocka_unit_test(test_stream_text_then_tools),
        cmocka_unit_test(test_stream_interleaved_tools),
        cmocka_unit_test(test_stream_flush_at_end),
        cmocka_unit_test(test_stream_errors),
        cmocka_unit_test(test_stream_pending_limit),
        cmocka_unit_test(test_error_body),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

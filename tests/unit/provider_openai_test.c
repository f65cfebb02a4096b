/* The OpenAI adapter and the inbound OpenAI decoder together: what reaches
 * the upstream for a given client body, and what the gateway reads back. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "api/openai.h"
#include "provider/adapter.h"

static char *upstream_for(asc_pool_t *pool, asc_op_t op, const char *body, const char *model)
{
    asc_api_request_t req;
    char err[256];
    asc_err_t e = asc_api_openai_decode(pool, op, body, strlen(body), &req, err, sizeof err);
    if (e != ASC_OK)
        fail_msg("decode failed: %s", err);
    asc_buf_t out;
    asc_buf_init(&out, 0);
    e = op == ASC_OP_CHAT
            ? asc_adapter_openai.chat_request(&req, model, &out, err, sizeof err)
            : asc_adapter_openai.embeddings_request(&req, model, &out, err, sizeof err);
    assert_int_equal(e, ASC_OK);
    char *r = asc_pool_strndup(pool, out.data, out.len);
    asc_buf_free(&out);
    return r;
}

static void test_splice(void **state)
{
    (void)state;
    asc_pool_t *p = asc_pool_create(0);
    assert_string_equal(
        upstream_for(p, ASC_OP_CHAT,
                     "{\"model\":\"m1\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}",
                     "gpt-4o"),
        "{\"model\":\"gpt-4o\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}");
    /* stream without stream_options: usage is requested */
    assert_string_equal(
        upstream_for(p, ASC_OP_CHAT,
                     "{\"stream\":true,\"model\":\"m\",\"messages\":[{\"role\":\"user\"}]}", "u"),
        "{\"stream_options\":{\"include_usage\":true},\"stream\":true,\"model\":\"u\",\"messages\":"
        "[{\"role\":\"user\"}]}");
    /* include_usage false is turned on; other options kept */
    assert_string_equal(upstream_for(p, ASC_OP_CHAT,
                                     "{\"model\":\"m\",\"stream\":true,\"stream_options\":{\"x\":1,"
                                     "\"include_usage\":false},\"messages\":[{\"role\":\"user\"}]}",
                                     "u"),
                        "{\"model\":\"u\",\"stream\":true,\"stream_options\":{\"x\":1,\"include_"
                        "usage\":true},\"messages\":[{\"role\":\"user\"}]}");
    /* empty stream_options object */
    assert_string_equal(upstream_for(p, ASC_OP_CHAT,
                                     "{\"model\":\"m\",\"stream\":true,\"stream_options\":{},"
                                     "\"messages\":[{\"role\":\"user\"}]}",
                                     "u"),
                        "{\"model\":\"u\",\"stream\":true,\"stream_options\":{\"include_usage\":"
                        "true},\"messages\":[{\"role\":\"user\"}]}");
    /* upstream model names with characters that need escaping */
    assert_string_equal(
        upstream_for(p, ASC_OP_EMBEDDINGS, "{\"input\":\"x\",\"model\":\"e\"}", "a\"b/c"),
        "{\"input\":\"x\",\"model\":\"a\\\"b/c\"}");
    asc_pool_destroy(p);
}

static void expect_decode_error(const char *body, const char *needle)
{
    asc_pool_t *p = asc_pool_create(0);
    asc_api_request_t req;
    char err[256] = "";
    asc_err_t e = asc_api_openai_decode(p, ASC_OP_CHAT, body, strlen(body), &req, err, sizeof err);
    assert_int_not_equal(e, ASC_OK);
    if (strstr(err, needle) == NULL)
        fail_msg("error \"%s\" does not mention \"%s\"", err, needle);
    asc_pool_destroy(p);
}

static void test_decode_errors(void **state)
{
    (void)state;
    expect_decode_error("{\"messages\":[{\"role\":\"user\"}]}", "model: required");
    expect_decode_error("{\"model\":1,\"messages\":[{\"role\":\"user\"}]}",
                        "model: must be a string");
    expect_decode_error("{\"model\":\"m\",\"messages\":[]}", "messages");
    expect_decode_error("{\"model\":\"m\",\"messages\":[1]}", "messages[0]");
    expect_decode_error("{\"model\":\"m\",\"messages\":[{\"role\":\"user\"}],\"stream\":\"yes\"}",
                        "stream");
    expect_decode_error("{\"model\":\"m\",\"messages\":[{\"role\":\"user\"}],\"max_tokens\":1e999}",
                        "max_tokens");
    expect_decode_error("{\"model\":\"m\",\"messages\":[{\"role\":\"user\"}],\"max_tokens\":0}",
                        "max_tokens");
    expect_decode_error(
        "{\"model\":\"m\",\"messages\":[{\"role\":\"user\"}],\"temperature\":1e999}",
        "temperature");
    expect_decode_error("{\"model\":\"m\",\"model\":\"n\",\"messages\":[{\"role\":\"user\"}]}",
                        "duplicate");
    expect_decode_error("[1]", "invalid JSON");
    /* ADVERSARIAL #2: client-chosen upstream */
    expect_decode_error(
        "{\"model\":\"m\",\"api_base\":\"http://evil\",\"messages\":[{\"role\":\"user\"}]}",
        "api_base");
    expect_decode_error(
        "{\"model\":\"m\",\"base_url\":\"http://evil\",\"messages\":[{\"role\":\"user\"}]}",
        "base_url");
    expect_decode_error(
        "{\"model\":\"m\",\"extra_body\":{\"api_key\":\"x\"},\"messages\":[{\"role\":\"user\"}]}",
        "api_key");
    expect_decode_error(
        "{\"model\":\"m\",\"metadata\":{\"host\":\"evil\"},\"messages\":[{\"role\":\"user\"}]}",
        "host");
    expect_decode_error("{\"model\":\"m\",\"provider\":{\"custom_llm_provider\":\"x\"},"
                        "\"messages\":[{\"role\":\"user\"}]}",
                        "custom_llm_provider");
}

static void test_decode_allows_words_in_content(void **state)
{
    (void)state;
    /* The same words inside messages and tool schemas are data. */
    const char *body =
        "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"set base_url and "
        "api_key\"}],"
        "\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"f\",\"parameters\":{\"type\":"
        "\"object\","
        "\"properties\":{\"base_url\":{\"type\":\"string\"},\"host\":{\"type\":\"string\"}}}}}]}";
    asc_pool_t *p = asc_pool_create(0);
    asc_api_request_t req;
    char err[256] = "";
    assert_int_equal(
        asc_api_openai_decode(p, ASC_OP_CHAT, body, strlen(body), &req, err, sizeof err), ASC_OK);
    assert_string_equal(req.model, "m");
    assert_int_equal(req.input_bytes, strlen("set base_url and api_key"));
    asc_pool_destroy(p);
}

static void test_parse_response(void **state)
{
    (void)state;
    asc_pool_t *p = asc_pool_create(0);
    const char *body =
        "{\"id\":\"x\",\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":"
        "\"abcd\"},"
        "\"finish_reason\":\"length\"}],\"usage\":{\"prompt_tokens\":11,\"completion_tokens\":7,"
        "\"total_tokens\":18,\"prompt_tokens_details\":{\"cached_tokens\":3}}}";
    asc_usage_t u;
    char fr[32];
    size_t gen = 0;
    assert_int_equal(
        asc_adapter_openai.parse_response(p, body, strlen(body), &u, fr, sizeof fr, &gen), ASC_OK);
    assert_true(u.present);
    assert_int_equal(u.prompt_tokens, 11);
    assert_int_equal(u.completion_tokens, 7);
    assert_int_equal(u.total_tokens, 18);
    assert_int_equal(u.cached_tokens, 3);
    assert_string_equal(fr, "length");
    assert_int_equal(gen, 4);
    assert_int_equal(asc_adapter_openai.parse_response(p, "{\"id\":", 6, &u, fr, sizeof fr, &gen),
                     ASC_EINVAL);
    asc_pool_destroy(p);
}

static void test_stream_events(void **state)
{
    (void)state;
    asc_pool_t *p = asc_pool_create(0);
    asc_stream_event_t ev;
    const char *c1 = "{\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hi\"},\"finish_reason\":"
                     "null}],\"usage\":null}";
    assert_int_equal(asc_adapter_openai.parse_stream_event(p, "", c1, strlen(c1), &ev), ASC_OK);
    assert_true(ev.content);
    assert_false(ev.usage.present);
    assert_int_equal(ev.content_bytes, 2);
    const char *c2 = "{\"choices\":[],\"usage\":{\"prompt_tokens\":5,\"completion_tokens\":2,"
                     "\"total_tokens\":7}}";
    assert_int_equal(asc_adapter_openai.parse_stream_event(p, "", c2, strlen(c2), &ev), ASC_OK);
    assert_true(ev.usage_only);
    assert_int_equal(ev.usage.completion_tokens, 2);
    const char *c3 = "{\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,"
                     "\"function\":{\"arguments\":\"{}\"}}]}}]}";
    assert_int_equal(asc_adapter_openai.parse_stream_event(p, "", c3, strlen(c3), &ev), ASC_OK);
    assert_true(ev.content);
    const char *c4 = "{\"error\":{\"message\":\"The server is "
                     "overloaded\",\"type\":\"server_error\",\"code\":\"overloaded\"}}";
    assert_int_equal(asc_adapter_openai.parse_stream_event(p, "", c4, strlen(c4), &ev), ASC_OK);
    assert_true(ev.error);
    assert_string_equal(ev.error_code, "overloaded");
    assert_string_equal(ev.error_message, "The server is overloaded");
    assert_int_equal(asc_adapter_openai.parse_stream_event(p, "", "[DONE]", 6, &ev), ASC_OK);
    assert_true(ev.done);
    assert_int_equal(asc_adapter_openai.parse_stream_event(p, "", "{nope", 5, &ev), ASC_EINVAL);
    asc_pool_destroy(p);
}

static void test_classify(void **state)
{
    (void)state;
    asc_upstream_error_t e;
    const char *b429 = "{\"error\":{\"message\":\"Rate limit reached\",\"type\":\"requests\"}}";
    asc_adapter_openai.classify_error(429, b429, strlen(b429), &e);
    assert_int_equal(e.cls, ASC_UPERR_RATE_LIMIT);
    assert_true(e.retryable);
    assert_non_null(strstr(e.message, "Rate limit reached"));
    /* 401 from the provider: never echo its text (it may quote our key) */
    const char *b401 = "{\"error\":{\"message\":\"Incorrect API key provided: sk-prov****abcd\"}}";
    asc_adapter_openai.classify_error(401, b401, strlen(b401), &e);
    assert_int_equal(e.cls, ASC_UPERR_AUTH);
    assert_null(strstr(e.message, "sk-prov"));
    const char *bctx =
        "{\"error\":{\"message\":\"too long\",\"code\":\"context_length_exceeded\"}}";
    asc_adapter_openai.classify_error(400, bctx, strlen(bctx), &e);
    assert_int_equal(e.cls, ASC_UPERR_CONTEXT);
    assert_true(e.fallback);
    asc_adapter_openai.classify_error(302, "", 0, &e);
    assert_int_equal(e.cls, ASC_UPERR_PROTOCOL);
    asc_adapter_openai.classify_error(529, NULL, 0, &e);
    assert_int_equal(e.cls, ASC_UPERR_OVERLOADED);
    asc_adapter_openai.classify_error(500, "<html>", 6, &e);
    assert_int_equal(e.cls, ASC_UPERR_SERVER);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_splice),
        cmocka_unit_test(test_decode_errors),
        cmocka_unit_test(test_decode_allows_words_in_content),
        cmocka_unit_test(test_parse_response),
        cmocka_unit_test(test_stream_events),
        cmocka_unit_test(test_classify),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* The mock end to end: an in-process asc_mock_thread on an ephemeral port,
 * driven with blocking libcurl requests. */
#include <pthread.h>
#include <signal.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <cmocka.h>
#include <cjson/cJSON.h>
#include <curl/curl.h>

#include "core/buf.h"
#include "mock/mock.h"

static asc_mock_thread_t *g_mock, *g_keyed;
static int g_port, g_keyed_port;

typedef struct {
    asc_buf_t body;
    asc_buf_t headers;
    long status;
    CURLcode rc;
    double secs;
    long slow_first_ms; /* sleep in the first write callback (backpressure) */
    int writes;
} resp_t;

static size_t on_body(char *p, size_t sz, size_t n, void *ud)
{
    resp_t *r = ud;
    if (r->writes++ == 0 && r->slow_first_ms > 0) {
        struct timespec ts = {r->slow_first_ms / 1000, (r->slow_first_ms % 1000) * 1000000L};
        nanosleep(&ts, NULL);
    }
    asc_buf_append(&r->body, p, sz * n);
    return sz * n;
}

static size_t on_header(char *p, size_t sz, size_t n, void *ud)
{
    resp_t *r = ud;
    asc_buf_append(&r->headers, p, sz * n);
    return sz * n;
}

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* One request; hdrs is a NULL-terminated list of "Name: value". */
static void http_to(int port, resp_t *r, const char *method, const char *path, const char *body,
                    const char *const *hdrs, long timeout_ms)
{
    char url[1024];
    CURL *c = curl_easy_init();
    struct curl_slist *hl = NULL;
    memset(r, 0, sizeof *r);
    asc_buf_init(&r->body, 0);
    asc_buf_init(&r->headers, 0);
    snprintf(url, sizeof url, "http://127.0.0.1:%d%s", port, path);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    if (body != NULL) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
        hl = curl_slist_append(hl, "Content-Type: application/json");
    }
    for (size_t i = 0; hdrs && hdrs[i]; i++)
        hl = curl_slist_append(hl, hdrs[i]);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hl);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, r);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, r);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, timeout_ms > 0 ? timeout_ms : 10000L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    double t0 = now();
    r->rc = curl_easy_perform(c);
    r->secs = now() - t0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
    curl_slist_free_all(hl);
    curl_easy_cleanup(c);
    asc_buf_append(&r->body, "", 0);
    asc_buf_append(&r->headers, "", 0);
}

static void http(resp_t *r, const char *method, const char *path, const char *body,
                 const char *const *hdrs)
{
    http_to(g_port, r, method, path, body, hdrs, 0);
}

static void resp_free(resp_t *r)
{
    asc_buf_free(&r->body);
    asc_buf_free(&r->headers);
}

/* Value of response header name (case-insensitive) into out. */
static int header(const resp_t *r, const char *name, char *out, size_t outlen)
{
    const char *s = r->headers.data;
    size_t nl = strlen(name);
    while (s && *s) {
        const char *eol = strstr(s, "\r\n");
        if (eol == NULL)
            break;
        if ((size_t)(eol - s) > nl && strncasecmp(s, name, nl) == 0 && s[nl] == ':') {
            const char *v = s + nl + 1;
            while (*v == ' ')
                v++;
            snprintf(out, outlen, "%.*s", (int)(eol - v), v);
            return 1;
        }
        s = eol + 2;
    }
    return 0;
}

/* The data payloads of an SSE body, as parsed JSON (NULL for [DONE] or
 * invalid JSON); names[i] gets the event name or "". Returns the count. */
static int sse(const char *s, cJSON **out, char names[][32], int max)
{
    int n = 0;
    while (s && *s && n < max) {
        const char *end = strstr(s, "\n\n");
        if (end == NULL)
            break;
        names[n][0] = '\0';
        const char *ev = s;
        if (strncmp(ev, "event: ", 7) == 0) {
            const char *nl = strchr(ev, '\n');
            snprintf(names[n], 32, "%.*s", (int)(nl - ev - 7), ev + 7);
            s = nl + 1;
        }
        assert_true(strncmp(s, "data: ", 6) == 0);
        out[n] = cJSON_ParseWithLength(s + 6, (size_t)(end - s - 6));
        n++;
        s = end + 2;
    }
    return n;
}

static void sse_free(cJSON **ev, int n)
{
    for (int i = 0; i < n; i++)
        cJSON_Delete(ev[i]);
}

static const cJSON *get(const cJSON *o, const char *path)
{
    char buf[160];
    snprintf(buf, sizeof buf, "%s", path);
    const cJSON *x = o;
    char *save = NULL;
    for (char *tok = strtok_r(buf, ".", &save); tok && x; tok = strtok_r(NULL, ".", &save))
        x = cJSON_IsArray(x) ? cJSON_GetArrayItem(x, atoi(tok))
                             : cJSON_GetObjectItemCaseSensitive(x, tok);
    return x;
}

static const char *gs(const cJSON *o, const char *path)
{
    const cJSON *x = get(o, path);
    return cJSON_IsString(x) ? x->valuestring : NULL;
}

static int gi(const cJSON *o, const char *path)
{
    const cJSON *x = get(o, path);
    assert_true(cJSON_IsNumber(x));
    return x->valueint;
}

static const char *USER_HI = "\"messages\":[{\"role\":\"user\",\"content\":\"hello there\"}]";

static char *body_fmt(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *body_fmt(const char *fmt, ...)
{
    static char buf[8192];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    return buf;
}

/* ---- tests -------------------------------------------------------------- */

static void test_nonstream(void **state)
{
    (void)state;
    resp_t r;
    http(&r, "POST", "/v1/chat/completions",
         body_fmt("{\"model\":\"mock-fast@tokens=4\",%s}", USER_HI), NULL);
    assert_int_equal(r.rc, CURLE_OK);
    assert_int_equal(r.status, 200);
    char ct[64];
    assert_true(header(&r, "content-type", ct, sizeof ct));
    assert_string_equal(ct, "application/json");
    cJSON *j = cJSON_Parse(r.body.data);
    assert_non_null(j);
    assert_string_equal(gs(j, "model"), "mock-fast");
    assert_string_equal(gs(j, "choices.0.message.content"), "Lorem ipsum dolor sit");
    assert_string_equal(gs(j, "choices.0.finish_reason"), "stop");
    assert_int_equal(gi(j, "usage.completion_tokens"), 4);
    assert_int_equal(gi(j, "usage.prompt_tokens"), 3); /* 11 bytes */
    assert_true(strncmp(gs(j, "id"), "chatcmpl-mock", 13) == 0);
    cJSON_Delete(j);
    resp_free(&r);

    /* max_tokens truncation. */
    http(&r, "POST", "/v1/chat/completions",
         body_fmt("{\"model\":\"mock-fast\",\"max_tokens\":2,%s}", USER_HI), NULL);
    j = cJSON_Parse(r.body.data);
    assert_string_equal(gs(j, "choices.0.message.content"), "Lorem ipsum");
    assert_string_equal(gs(j, "choices.0.finish_reason"), "length");
    cJSON_Delete(j);
    resp_free(&r);
}

static void test_stream_include_usage(void **state)
{
    (void)state;
    resp_t r;
    cJSON *ev[64];
    char names[64][32];
    http(&r, "POST", "/v1/chat/completions",
         body_fmt("{\"model\":\"mock-fast@tokens=7,chunk=2\",\"stream\":true,\"stream_options\":{"
                  "\"include_usage\":true},%s}",
                  USER_HI),
         NULL);
    assert_int_equal(r.rc, CURLE_OK);
    assert_int_equal(r.status, 200);
    char ct[64];
    assert_true(header(&r, "content-type", ct, sizeof ct));
    assert_string_equal(ct, "text/event-stream");
    int n = sse(r.body.data, ev, names, 64);
    /* role + 4 content chunks (2+2+2+1) + finish + usage + [DONE] */
    assert_int_equal(n, 8);
    assert_null(ev[n - 1]);
    assert_non_null(strstr(r.body.data, "data: [DONE]\n\n"));
    asc_buf_t text;
    asc_buf_init(&text, 0);
    for (int i = 0; i < n - 1; i++) {
        assert_non_null(ev[i]);
        assert_true(cJSON_IsNull(get(ev[i], "usage")) || i == n - 2);
        if (i == 0) {
            assert_string_equal(gs(ev[i], "choices.0.delta.role"), "assistant");
            assert_string_equal(gs(ev[i], "choices.0.delta.content"), "");
        } else if (i < n - 3) {
            const char *c = gs(ev[i], "choices.0.delta.content");
            assert_non_null(c);
            asc_buf_puts(&text, c);
            assert_true(cJSON_IsNull(get(ev[i], "choices.0.finish_reason")));
        } else if (i == n - 3) {
            assert_null(get(ev[i], "choices.0.delta")->child);
            assert_string_equal(gs(ev[i], "choices.0.finish_reason"), "stop");
        } else {
            assert_int_equal(cJSON_GetArraySize(get(ev[i], "choices")), 0);
            int words = 1;
            for (size_t k = 0; k < text.len; k++)
                words += text.data[k] == ' ';
            assert_int_equal(gi(ev[i], "usage.completion_tokens"), words);
            assert_int_equal(words, 7);
        }
    }
    asc_buf_free(&text);
    sse_free(ev, n);
    resp_free(&r);
}

static void test_stream_tool_call(void **state)
{
    (void)state;
    resp_t r;
    cJSON *ev[128];
    char names[128][32];
    http(&r, "POST", "/v1/chat/completions",
         body_fmt("{\"model\":\"mock-fast\",\"stream\":true,\"tools\":[{\"type\":\"function\","
                  "\"function\":{\"name\":\"lookup\",\"parameters\":{\"type\":\"object\","
                  "\"properties\":{\"query\":{\"type\":\"string\"},\"limit\":{\"type\":\"number\"}}"
                  ",\"required\":[\"query\",\"limit\"]}}}],\"messages\":[{\"role\":\"user\","
                  "\"content\":\"please lookup cats\"}]}"),
         NULL);
    assert_int_equal(r.status, 200);
    int n = sse(r.body.data, ev, names, 128);
    asc_buf_t args;
    asc_buf_init(&args, 0);
    const char *id = NULL;
    for (int i = 1; i < n - 2; i++) {
        const cJSON *tc = get(ev[i], "choices.0.delta.tool_calls.0");
        assert_non_null(tc);
        if (i == 1) {
            id = gs(tc, "id");
            assert_non_null(id);
            assert_string_equal(gs(tc, "function.name"), "lookup");
        }
        asc_buf_puts(&args, gs(tc, "function.arguments"));
    }
    assert_true(strncmp(id, "call_mock", 9) == 0);
    assert_string_equal(args.data, "{\"query\":\"test\",\"limit\":1}");
    assert_string_equal(gs(ev[n - 2], "choices.0.finish_reason"), "tool_calls");
    asc_buf_free(&args);
    sse_free(ev, n);
    resp_free(&r);
}

static void test_anthropic_stream(void **state)
{
    (void)state;
    resp_t r;
    cJSON *ev[64];
    char names[64][32];
    const char *h[] = {"anthropic-version: 2023-06-01", "x-api-key: anything", NULL};
    http(&r, "POST", "/v1/messages",
         body_fmt("{\"model\":\"claude-mock@tokens=3\",\"max_tokens\":50,\"stream\":true,%s}",
                  USER_HI),
         h);
    assert_int_equal(r.status, 200);
    int n = sse(r.body.data, ev, names, 64);
    const char *want[] = {"message_start",       "content_block_start", "ping",
                          "content_block_delta", "content_block_delta", "content_block_delta",
                          "content_block_stop",  "message_delta",       "message_stop"};
    assert_int_equal(n, 9);
    for (int i = 0; i < n; i++) {
        assert_string_equal(names[i], want[i]);
        assert_string_equal(gs(ev[i], "type"), want[i]);
    }
    assert_int_equal(gi(ev[0], "message.usage.input_tokens"), 3);
    assert_string_equal(gs(ev[7], "delta.stop_reason"), "end_turn");
    assert_int_equal(gi(ev[7], "usage.output_tokens"), 3);
    sse_free(ev, n);
    resp_free(&r);

    /* No anthropic-version: 400 in Anthropic's format. */
    const char *h2[] = {"x-api-key: anything", NULL};
    http(&r, "POST", "/v1/messages", body_fmt("{\"model\":\"c\",\"max_tokens\":50,%s}", USER_HI),
         h2);
    assert_int_equal(r.status, 400);
    assert_non_null(strstr(r.body.data, "\"type\":\"error\""));
    resp_free(&r);
}

static void test_mistral_422(void **state)
{
    (void)state;
    resp_t r;
    http(&r, "POST", "/mistral/v1/chat/completions",
         body_fmt("{\"model\":\"mistral-small\",\"stream\":true,\"stream_options\":{"
                  "\"include_usage\":true},%s}",
                  USER_HI),
         NULL);
    assert_int_equal(r.status, 422);
    cJSON *j = cJSON_Parse(r.body.data);
    assert_string_equal(gs(j, "object"), "error");
    assert_string_equal(gs(j, "message.detail.0.type"), "extra_forbidden");
    assert_string_equal(gs(j, "message.detail.0.loc.1"), "stream_options");
    cJSON_Delete(j);
    resp_free(&r);

    /* Without it: finish_reason and usage in the last chunk. */
    cJSON *ev[64];
    char names[64][32];
    http(&r, "POST", "/mistral/v1/chat/completions",
         body_fmt("{\"model\":\"mistral-small@tokens=2\",\"stream\":true,%s}", USER_HI), NULL);
    assert_int_equal(r.status, 200);
    int n = sse(r.body.data, ev, names, 64);
    assert_int_equal(n, 5);
    assert_string_equal(gs(ev[3], "choices.0.finish_reason"), "stop");
    assert_int_equal(gi(ev[3], "usage.completion_tokens"), 2);
    sse_free(ev, n);
    resp_free(&r);
}

static void test_faults(void **state)
{
    (void)state;
    resp_t r;
    char v[128];
    http(&r, "POST", "/v1/chat/completions",
         body_fmt("{\"model\":\"mock-fast@fault=429,retry_after=3\",%s}", USER_HI), NULL);
    assert_int_equal(r.status, 429);
    assert_true(header(&r, "retry-after", v, sizeof v));
    assert_string_equal(v, "3");
    cJSON *j = cJSON_Parse(r.body.data);
    assert_string_equal(gs(j, "error.code"), "rate_limit_exceeded");
    cJSON_Delete(j);
    resp_free(&r);

    /* A header overrides the model name; 529 is 503 + overloaded on OpenAI... */
    const char *h529[] = {"x-mock-fault: 529", NULL};
    http(&r, "POST", "/v1/chat/completions",
         body_fmt("{\"model\":\"mock-fast@fault=429\",%s}", USER_HI), h529);
    assert_int_equal(r.status, 503);
    assert_true(header(&r, "retry-after", v, sizeof v));
    j = cJSON_Parse(r.body.data);
    assert_string_equal(gs(j, "error.code"), "overloaded");
    cJSON_Delete(j);
    resp_free(&r);
    /* ... and a real 529 on Anthropic's path. */
    const char *ha[] = {"anthropic-version: 2023-06-01", "x-mock-fault: 529", NULL};
    http(&r, "POST", "/v1/messages", body_fmt("{\"model\":\"c\",\"max_tokens\":5,%s}", USER_HI),
         ha);
    assert_int_equal(r.status, 529);
    j = cJSON_Parse(r.body.data);
    assert_string_equal(gs(j, "error.type"), "overloaded_error");
    cJSON_Delete(j);
    resp_free(&r);

    http(&r, "POST", "/v1/chat/completions",
         body_fmt("{\"model\":\"mock-fast@fault=redirect\",%s}", USER_HI), NULL);
    assert_int_equal(r.status, 302);
    assert_true(header(&r, "location", v, sizeof v));
    assert_string_equal(v, "http://127.0.0.2:1/stolen");
    resp_free(&r);

    /* fault_rate=0: never applies. */
    http(&r, "POST", "/v1/chat/completions",
         body_fmt("{\"model\":\"mock-fast@fault=500,fault_rate=0\",%s}", USER_HI), NULL);
    assert_int_equal(r.status, 200);
    resp_free(&r);

    http(&r, "POST", "/v1/chat/completions",
         body_fmt("{\"model\":\"mock-fast@fault=malformed\",%s}", USER_HI), NULL);
    assert_int_equal(r.status, 200);
    j = cJSON_Parse(r.body.data);
    assert_null(j);
    assert_true(r.body.len > 10);
    resp_free(&r);

    http(&r, "POST", "/v1/chat/completions",
         body_fmt("{\"model\":\"mock-fast@fault=reset\",%s}", USER_HI), NULL);
    assert_int_not_equal(r.rc, CURLE_OK);
    assert_int_equal(r.body.len, 0);
    resp_free(&r);
}

static void test_context_fault(void **state)
{
    (void)state;
    resp_t r;
    char v[64];
    cJSON *j;
    /* "hello there": 11 bytes, 3 prompt tokens; N = 8192 + 3. */
    const char *oai_msg = "This model's maximum context length is 8192 tokens. However, your "
                          "messages resulted in 8195 tokens. Please reduce the length of the "
                          "messages.";
    for (int stream = 0; stream < 2; stream++) {
        http(&r, "POST", "/v1/chat/completions",
             body_fmt("{\"model\":\"mock-fast@fault=context\",\"stream\":%s,%s}",
                      stream ? "true" : "false", USER_HI),
             NULL);
        assert_int_equal(r.status, 400);
        assert_true(header(&r, "content-type", v, sizeof v));
        assert_string_equal(v, "application/json");
        j = cJSON_Parse(r.body.data);
        assert_non_null(j);
        assert_string_equal(gs(j, "error.message"), oai_msg);
        assert_string_equal(gs(j, "error.type"), "invalid_request_error");
        assert_string_equal(gs(j, "error.param"), "messages");
        assert_string_equal(gs(j, "error.code"), "context_length_exceeded");
        cJSON_Delete(j);
        resp_free(&r);

        const char *ha[] = {"anthropic-version: 2023-06-01", "x-mock-fault: context", NULL};
        http(&r, "POST", "/v1/messages",
             body_fmt("{\"model\":\"c\",\"max_tokens\":50,\"stream\":%s,%s}",
                      stream ? "true" : "false", USER_HI),
             ha);
        assert_int_equal(r.status, 400);
        assert_true(header(&r, "content-type", v, sizeof v));
        assert_string_equal(v, "application/json");
        assert_string_equal(r.body.data,
                            "{\"type\":\"error\",\"error\":{\"type\":\"invalid_request_error\","
                            "\"message\":\"prompt is too long: 8195 tokens > 8192 maximum\"}}");
        resp_free(&r);

        http(&r, "POST", "/mistral/v1/chat/completions",
             body_fmt("{\"model\":\"mistral-small@fault=context\",\"stream\":%s,%s}",
                      stream ? "true" : "false", USER_HI),
             NULL);
        assert_int_equal(r.status, 400);
        j = cJSON_Parse(r.body.data);
        assert_non_null(j);
        assert_string_equal(gs(j, "object"), "error");
        assert_string_equal(gs(j, "type"), "invalid_request_error");
        assert_string_equal(gs(j, "message"),
                            "Prompt contains 8195 tokens and 0 draft tokens, too large for model "
                            "with 8192 maximum context length");
        assert_true(cJSON_IsNull(get(j, "code")));
        cJSON_Delete(j);
        resp_free(&r);
    }

    /* Embeddings: the same shape; N from the input (8 bytes, 2 tokens). */
    http(&r, "POST", "/v1/embeddings",
         "{\"model\":\"mock-embed@fault=context\",\"input\":\"abcdefgh\"}", NULL);
    assert_int_equal(r.status, 400);
    j = cJSON_Parse(r.body.data);
    assert_string_equal(gs(j, "error.code"), "context_length_exceeded");
    assert_non_null(strstr(gs(j, "error.message"), "resulted in 8194 tokens"));
    cJSON_Delete(j);
    resp_free(&r);

    /* latency_ms delays it; fault_rate=0 never applies it. */
    http(&r, "POST", "/v1/chat/completions",
         body_fmt("{\"model\":\"mock-fast@fault=context,latency_ms=120\",\"stream\":true,%s}",
                  USER_HI),
         NULL);
    assert_int_equal(r.status, 400);
    assert_true(r.secs >= 0.12);
    resp_free(&r);
    http(&r, "POST", "/v1/chat/completions",
         body_fmt("{\"model\":\"mock-fast@fault=context,fault_rate=0\",%s}", USER_HI), NULL);
    assert_int_equal(r.status, 200);
    resp_free(&r);
}

/* PUT an override; returns the status. */
static long put_override(const char *name, const char *params)
{
    resp_t r;
    char path[512];
    snprintf(path, sizeof path, "/__mock/overrides/%s", name);
    http(&r, "PUT", path, params, NULL);
    long st = r.status;
    if (st == 204)
        assert_int_equal(r.body.len, 0);
    resp_free(&r);
    return st;
}

static long chat_status(int port, const char *model, const char *const *hdrs)
{
    resp_t r;
    http_to(port, &r, "POST", "/v1/chat/completions",
            body_fmt("{\"model\":\"%s\",%s}", model, USER_HI), hdrs, 0);
    long st = r.status;
    resp_free(&r);
    return st;
}

static void test_overrides(void **state)
{
    (void)state;
    resp_t r;
    char v[64];
    http(&r, "DELETE", "/__mock/overrides", NULL, NULL);
    assert_int_equal(r.status, 204);
    resp_free(&r);

    /* Start failing without changing the model name. */
    assert_int_equal(chat_status(g_port, "flaky", NULL), 200);
    assert_int_equal(put_override("flaky", "fault=503,retry_after=2"), 204);
    http(&r, "POST", "/v1/chat/completions", body_fmt("{\"model\":\"flaky\",%s}", USER_HI), NULL);
    assert_int_equal(r.status, 503);
    assert_true(header(&r, "retry-after", v, sizeof v));
    assert_string_equal(v, "2");
    resp_free(&r);
    /* NAME is the part before '@'; other names are untouched. */
    assert_int_equal(chat_status(g_port, "flaky@tokens=2", NULL), 503);
    assert_int_equal(chat_status(g_port, "flaky2", NULL), 200);
    /* Override beats the model name's fault, headers beat the override. */
    assert_int_equal(chat_status(g_port, "flaky@fault=429", NULL), 503);
    const char *h500[] = {"x-mock-fault: 500", NULL};
    assert_int_equal(chat_status(g_port, "flaky@fault=429", h500), 500);
    const char *hnone[] = {"x-mock-fault: none", NULL};
    assert_int_equal(chat_status(g_port, "flaky", hnone), 200);
    /* Every engine of the process shares the table, and /__mock needs no key. */
    const char *key[] = {"Authorization: Bearer sk-good", NULL};
    assert_int_equal(chat_status(g_keyed_port, "flaky", key), 503);
    http_to(g_keyed_port, &r, "GET", "/__mock/overrides", NULL, NULL, 0);
    assert_int_equal(r.status, 200);
    resp_free(&r);
    /* Anthropic's path too. */
    const char *ha[] = {"anthropic-version: 2023-06-01", NULL};
    http(&r, "POST", "/v1/messages", body_fmt("{\"model\":\"flaky\",\"max_tokens\":5,%s}", USER_HI),
         ha);
    assert_int_equal(r.status, 503);
    resp_free(&r);

    /* fault=none cancels a fault of the model name; "/" as %2F or literal. */
    assert_int_equal(put_override("org%2Fm", "fault=none"), 204);
    assert_int_equal(chat_status(g_port, "org/m@fault=500", NULL), 200);
    assert_int_equal(put_override("org/m", "fault=context"), 204);
    assert_int_equal(chat_status(g_port, "org/m@fault=500", NULL), 400);

    http(&r, "GET", "/__mock/overrides", NULL, NULL);
    assert_int_equal(r.status, 200);
    assert_true(header(&r, "content-type", v, sizeof v));
    assert_string_equal(v, "application/json");
    assert_string_equal(r.body.data, "{\"overrides\":{\"flaky\":\"fault=503,retry_after=2\","
                                     "\"org/m\":\"fault=context\"}}");
    resp_free(&r);

    /* Bad input: 400 (or 413) in OpenAI's format, nothing changes. */
    assert_int_equal(put_override("flaky", "fault=418"), 400);
    http(&r, "PUT", "/__mock/overrides/flaky", "nope=1", NULL);
    assert_int_equal(r.status, 400);
    cJSON *j = cJSON_Parse(r.body.data);
    assert_string_equal(gs(j, "error.message"), "unknown mock parameter 'nope'");
    assert_string_equal(gs(j, "error.type"), "invalid_request_error");
    cJSON_Delete(j);
    resp_free(&r);
    assert_int_equal(put_override("flaky", ""), 400);
    assert_int_equal(put_override("a%40b", "fault=500"), 400);
    char longname[300], big[2100];
    memset(longname, 'x', 257);
    longname[257] = '\0';
    assert_int_equal(put_override(longname, "fault=500"), 400);
    memset(big, ',', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    memcpy(big, "fault=500", 9);
    assert_int_equal(put_override("flaky", big), 413);
    assert_int_equal(chat_status(g_port, "flaky", NULL), 503);
    http(&r, "POST", "/__mock/overrides/flaky", "fault=500", NULL);
    assert_int_equal(r.status, 404);
    resp_free(&r);

    /* Stop failing: DELETE one (404 the second time), then all. */
    http(&r, "DELETE", "/__mock/overrides/flaky", NULL, NULL);
    assert_int_equal(r.status, 204);
    resp_free(&r);
    assert_int_equal(chat_status(g_port, "flaky", NULL), 200);
    http(&r, "DELETE", "/__mock/overrides/flaky", NULL, NULL);
    assert_int_equal(r.status, 404);
    j = cJSON_Parse(r.body.data);
    assert_non_null(gs(j, "error.message"));
    cJSON_Delete(j);
    resp_free(&r);
    http(&r, "DELETE", "/__mock/overrides", NULL, NULL);
    assert_int_equal(r.status, 204);
    resp_free(&r);
    assert_int_equal(chat_status(g_port, "org/m@fault=500", NULL), 500);
    http(&r, "GET", "/__mock/overrides", NULL, NULL);
    assert_string_equal(r.body.data, "{\"overrides\":{}}");
    resp_free(&r);
}

/* Number of non-empty content deltas in an OpenAI SSE body. */
static int content_chunks(const char *body)
{
    int n = 0;
    for (const char *s = body; (s = strstr(s, "\"content\":\"")) != NULL; s += 11)
        n += s[11] != '"';
    return n;
}

static void test_stream_faults(void **state)
{
    (void)state;
    resp_t r;
    const char *b = body_fmt("{\"model\":\"mock-fast@tokens=10\",\"stream\":true,%s}", USER_HI);
    char body[1024];
    snprintf(body, sizeof body, "%s", b);

    const char *he[] = {"x-mock-fault: error_event", NULL};
    http(&r, "POST", "/v1/chat/completions", body, he);
    assert_int_equal(r.status, 200);
    assert_int_equal(r.rc, CURLE_OK);
    assert_int_equal(content_chunks(r.body.data), 3);
    assert_non_null(strstr(r.body.data,
                           "data: {\"error\":{\"message\":\"The server is overloaded\",\"type\":"
                           "\"server_error\",\"code\":\"overloaded\"}}\n\n"));
    assert_null(strstr(r.body.data, "[DONE]"));
    resp_free(&r);

    const char *hr[] = {"x-mock-fault: reset_mid", "x-mock-fault-after: 4", NULL};
    http(&r, "POST", "/v1/chat/completions", body, hr);
    assert_int_equal(r.status, 200);
    assert_int_not_equal(r.rc, CURLE_OK);
    assert_int_equal(content_chunks(r.body.data), 4);
    assert_null(strstr(r.body.data, "[DONE]"));
    resp_free(&r);

    const char *hs[] = {"x-mock-fault: stall_mid", "x-mock-fault-after: 2", NULL};
    http_to(g_port, &r, "POST", "/v1/chat/completions", body, hs, 400);
    assert_int_equal(r.rc, CURLE_OPERATION_TIMEDOUT);
    assert_int_equal(content_chunks(r.body.data), 2);
    resp_free(&r);

    const char *hm[] = {"x-mock-fault: malformed", "x-mock-fault-after: 1", NULL};
    http(&r, "POST", "/v1/chat/completions", body, hm);
    assert_int_equal(r.rc, CURLE_OK);
    assert_int_equal(content_chunks(r.body.data), 1);
    cJSON *ev[16];
    char names[16][32];
    int n = sse(r.body.data, ev, names, 16);
    assert_int_equal(n, 3);
    assert_null(ev[2]); /* not JSON */
    sse_free(ev, n);
    resp_free(&r);

    /* Anthropic's in-stream error event. */
    const char *ha[] = {"anthropic-version: 2023-06-01", "x-mock-fault: error_event", NULL};
    http(&r, "POST", "/v1/messages",
         body_fmt("{\"model\":\"c\",\"max_tokens\":50,\"stream\":true,%s}", USER_HI), ha);
    n = sse(r.body.data, ev, names, 16);
    assert_string_equal(names[n - 1], "error");
    assert_string_equal(gs(ev[n - 1], "error.type"), "overloaded_error");
    assert_string_equal(gs(ev[n - 1], "error.message"), "Overloaded");
    sse_free(ev, n);
    resp_free(&r);

    /* stall: nothing at all until the client gives up. */
    const char *hst[] = {"x-mock-fault: stall", NULL};
    http_to(g_port, &r, "POST", "/v1/chat/completions", body, hst, 300);
    assert_int_equal(r.rc, CURLE_OPERATION_TIMEDOUT);
    assert_int_equal(r.status, 0);
    resp_free(&r);
    /* The mock still answers. */
    http(&r, "GET", "/__mock/health", NULL, NULL);
    assert_int_equal(r.status, 200);
    resp_free(&r);
}

static void test_delays(void **state)
{
    (void)state;
    resp_t r;
    http(&r, "POST", "/v1/chat/completions",
         body_fmt("{\"model\":\"mock-fast@latency_ms=150\",%s}", USER_HI), NULL);
    assert_int_equal(r.status, 200);
    assert_true(r.secs >= 0.15);
    resp_free(&r);
    http(&r, "POST", "/v1/chat/completions",
         body_fmt("{\"model\":\"mock-fast@tokens=4,ttft_ms=100,itl_ms=40\",\"stream\":true,%s}",
                  USER_HI),
         NULL);
    assert_int_equal(r.status, 200);
    assert_true(r.secs >= 0.22); /* 100 + 3 x 40 */
    assert_int_equal(content_chunks(r.body.data), 4);
    resp_free(&r);
    /* The client leaves in the middle of a slow stream. */
    http_to(g_port, &r, "POST", "/v1/chat/completions",
            body_fmt("{\"model\":\"mock-fast@tokens=100,itl_ms=50\",\"stream\":true,%s}", USER_HI),
            NULL, 200);
    assert_int_equal(r.rc, CURLE_OPERATION_TIMEDOUT);
    resp_free(&r);
}

static void test_backpressure(void **state)
{
    (void)state;
    resp_t r;
    char url[128];
    /* 60000 chunks (~12 MB) to a client that does not read for 300 ms. */
    CURL *c = curl_easy_init();
    memset(&r, 0, sizeof r);
    asc_buf_init(&r.body, 0);
    r.slow_first_ms = 300;
    snprintf(url, sizeof url, "http://127.0.0.1:%d/v1/chat/completions", g_port);
    const char *body = "{\"model\":\"mock-fast@tokens=60000\",\"stream\":true,\"messages\":[{"
                       "\"role\":\"user\",\"content\":\"hi\"}]}";
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &r);
    curl_easy_setopt(c, CURLOPT_BUFFERSIZE, 1024L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 60L);
    assert_int_equal(curl_easy_perform(c), CURLE_OK);
    curl_easy_cleanup(c);
    asc_buf_append(&r.body, "", 0);
    assert_int_equal(content_chunks(r.body.data), 60000);
    assert_non_null(strstr(r.body.data + r.body.len - 20, "data: [DONE]\n\n"));
    resp_free(&r);
}

static void test_requests_log(void **state)
{
    (void)state;
    resp_t r;
    http(&r, "DELETE", "/__mock/requests", NULL, NULL);
    assert_int_equal(r.status, 200);
    resp_free(&r);
    const char *sent = "{ \"model\" : \"mock-fast\",\n  \"messages\":[{\"role\":\"user\","
                       "\"content\":\"caf\\u00e9 \xc3\xa9\"}] }";
    const char *h[] = {"X-Custom-Thing: Value 1", NULL};
    http(&r, "POST", "/v1/chat/completions", sent, h);
    assert_int_equal(r.status, 200);
    resp_free(&r);
    http(&r, "GET", "/__mock/requests", NULL, NULL);
    assert_int_equal(r.status, 200);
    cJSON *j = cJSON_Parse(r.body.data);
    assert_non_null(j);
    assert_int_equal(cJSON_GetArraySize(j), 1);
    assert_string_equal(gs(j, "0.method"), "POST");
    assert_string_equal(gs(j, "0.path"), "/v1/chat/completions");
    assert_string_equal(gs(j, "0.body"), sent);
    assert_string_equal(gs(j, "0.headers.x-custom-thing"), "Value 1");
    assert_string_equal(gs(j, "0.headers.content-type"), "application/json");
    cJSON_Delete(j);
    resp_free(&r);
}

static void test_require_key(void **state)
{
    (void)state;
    resp_t r;
    const char *b = body_fmt("{\"model\":\"mock-fast\",%s}", USER_HI);
    char body[512];
    snprintf(body, sizeof body, "%s", b);
    http_to(g_keyed_port, &r, "POST", "/v1/chat/completions", body, NULL, 0);
    assert_int_equal(r.status, 401);
    cJSON *j = cJSON_Parse(r.body.data);
    assert_string_equal(gs(j, "error.code"), "invalid_api_key");
    assert_string_equal(gs(j, "error.message"), "Incorrect API key provided");
    assert_string_equal(gs(j, "error.type"), "invalid_request_error");
    cJSON_Delete(j);
    resp_free(&r);
    const char *wrong[] = {"Authorization: Bearer sk-bad", NULL};
    http_to(g_keyed_port, &r, "POST", "/v1/chat/completions", body, wrong, 0);
    assert_int_equal(r.status, 401);
    resp_free(&r);
    const char *good[] = {"Authorization: Bearer sk-good", NULL};
    http_to(g_keyed_port, &r, "POST", "/v1/chat/completions", body, good, 0);
    assert_int_equal(r.status, 200);
    resp_free(&r);
    const char *anth_bad[] = {"x-api-key: sk-goo", "anthropic-version: 2023-06-01", NULL};
    const char *ab = "{\"model\":\"c\",\"max_tokens\":5,\"messages\":[{\"role\":\"user\","
                     "\"content\":\"x\"}]}";
    http_to(g_keyed_port, &r, "POST", "/v1/messages", ab, anth_bad, 0);
    assert_int_equal(r.status, 401);
    j = cJSON_Parse(r.body.data);
    assert_string_equal(gs(j, "error.type"), "authentication_error");
    cJSON_Delete(j);
    resp_free(&r);
    const char *anth_good[] = {"x-api-key: sk-good", "anthropic-version: 2023-06-01", NULL};
    http_to(g_keyed_port, &r, "POST", "/v1/messages", ab, anth_good, 0);
    assert_int_equal(r.status, 200);
    resp_free(&r);
}

static void test_misc_paths(void **state)
{
    (void)state;
    resp_t r;
    http(&r, "GET", "/v1/models", NULL, NULL);
    assert_int_equal(r.status, 200);
    cJSON *j = cJSON_Parse(r.body.data);
    assert_string_equal(gs(j, "object"), "list");
    assert_string_equal(gs(j, "data.0.id"), "mock-fast");
    assert_string_equal(gs(j, "data.0.owned_by"), "asc-mock");
    cJSON_Delete(j);
    resp_free(&r);
    http(&r, "GET", "/v1/nothing", NULL, NULL);
    assert_int_equal(r.status, 404);
    j = cJSON_Parse(r.body.data);
    assert_non_null(gs(j, "error.message"));
    cJSON_Delete(j);
    resp_free(&r);
    http(&r, "POST", "/v1/embeddings", "{\"model\":\"mock-embed\",\"input\":[\"a\",\"b\"]}", NULL);
    assert_int_equal(r.status, 200);
    j = cJSON_Parse(r.body.data);
    assert_int_equal(cJSON_GetArraySize(get(j, "data")), 2);
    assert_int_equal(cJSON_GetArraySize(get(j, "data.1.embedding")), 8);
    cJSON_Delete(j);
    resp_free(&r);
    http(&r, "POST", "/v1/chat/completions", "{\"model\":", NULL);
    assert_int_equal(r.status, 400);
    resp_free(&r);
    http(&r, "POST", "/v1/messages",
         "{\"model\":", (const char *const[]){"anthropic-version: 1", NULL});
    assert_int_equal(r.status, 400);
    assert_non_null(strstr(r.body.data, "\"type\":\"error\""));
    resp_free(&r);
}

/* A stalled request does not hold up a stop. */
typedef struct {
    int port;
    resp_t r;
} bg_t;

static void *bg_stall(void *arg)
{
    bg_t *b = arg;
    const char *h[] = {"x-mock-fault: stall", NULL};
    http_to(b->port, &b->r, "POST", "/v1/chat/completions",
            "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}", h, 8000);
    return NULL;
}

static void test_stop_with_stall(void **state)
{
    (void)state;
    asc_mock_thread_t *t = NULL;
    char err[256];
    bg_t b;
    pthread_t th;
    memset(&b, 0, sizeof b);
    assert_int_equal(asc_mock_thread_start("127.0.0.1", 0, &b.port, &t, err, sizeof err), ASC_OK);
    pthread_create(&th, NULL, bg_stall, &b);
    struct timespec ts = {0, 200 * 1000000L};
    nanosleep(&ts, NULL);
    double t0 = now();
    asc_mock_thread_stop(t);
    pthread_join(th, NULL);
    assert_true(now() - t0 < 1.5);
    assert_int_not_equal(b.r.rc, CURLE_OK);
    assert_int_not_equal(b.r.rc, CURLE_OPERATION_TIMEDOUT);
    resp_free(&b.r);
}

static int setup(void **state)
{
    (void)state;
    char err[256];
    /* As in asc-mock's main: writes to a client that left are not fatal. */
    signal(SIGPIPE, SIG_IGN);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    if (asc_mock_thread_start("127.0.0.1", 0, &g_port, &g_mock, err, sizeof err) != ASC_OK) {
        fprintf(stderr, "mock: %s\n", err);
        return -1;
    }
    if (asc_mock_thread_start_ex("127.0.0.1", 0, "sk-good", NULL, &g_keyed_port, &g_keyed, err,
                                 sizeof err) != ASC_OK) {
        fprintf(stderr, "mock: %s\n", err);
        return -1;
    }
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    asc_mock_thread_stop(g_mock);
    asc_mock_thread_stop(g_keyed);
    curl_global_cleanup();
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_nonstream),        cmocka_unit_test(test_stream_include_usage),
        cmocka_unit_test(test_stream_tool_call), cmocka_unit_test(test_anthropic_stream),
        cmocka_unit_test(test_mistral_422),      cmocka_unit_test(test_faults),
        cmocka_unit_test(test_stream_faults),    cmocka_unit_test(test_delays),
        cmocka_unit_test(test_backpressure),     cmocka_unit_test(test_requests_log),
        cmocka_unit_test(test_require_key),      cmocka_unit_test(test_misc_paths),
        cmocka_unit_test(test_stop_with_stall),  cmocka_unit_test(test_context_fault),
        cmocka_unit_test(test_overrides),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}

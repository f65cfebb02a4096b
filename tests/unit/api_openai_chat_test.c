/* The OpenAI chat inbound dialect in canonical form (src/api/openai_chat.c):
 * every decoded field, every refusal, the exact response JSON and the exact
 * SSE bytes of the stream encoder. Request and expected bodies are written
 * with ' for " (see q()) so that they stay readable. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "api/dialect.h"
#include "json/json.h"

static asc_pool_t *pool;

static int setup(void **state)
{
    (void)state;
    pool = asc_pool_create(0);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    asc_pool_destroy(pool);
    pool = NULL;
    return 0;
}

/* s with every ' turned into " (a pool copy). */
static const char *q(const char *s)
{
    char *d = asc_pool_strndup(pool, s, strlen(s));
    for (char *p = d; *p; p++)
        if (*p == '\'')
            *p = '"';
    return d;
}

static char err[512];

static asc_err_t dec(const char *body, asc_chat_req_t *r)
{
    const char *b = q(body);
    return asc_dialect_openai_chat.decode(pool, b, strlen(b), NULL, r, err, sizeof err);
}

static void must_decode(const char *body, asc_chat_req_t *r)
{
    asc_err_t e = dec(body, r);
    if (e != ASC_OK)
        fail_msg("decode failed (%d): %s\nbody: %s", e, err, body);
}

#define S_EQ(s, z) assert_true(asc_str_eq((s), (z)))

#define MSG1 "'messages':[{'role':'user','content':'hi'}]"

static void test_decode_minimal(void **state)
{
    (void)state;
    asc_chat_req_t r;
    must_decode("{'model':'gpt-4o'," MSG1 "}", &r);
    S_EQ(r.model, "gpt-4o");
    assert_int_equal(r.nmsgs, 1);
    assert_int_equal(r.msgs[0].role, ASC_ROLE_USER);
    assert_int_equal(r.msgs[0].nparts, 1);
    assert_int_equal(r.msgs[0].parts[0].type, ASC_PART_TEXT);
    S_EQ(r.msgs[0].parts[0].text, "hi");
    assert_false(asc_str_set(r.msgs[0].name));
    assert_int_equal(r.ntools, 0);
    assert_int_equal(r.tool_choice, ASC_TOOL_CHOICE_UNSET);
    assert_int_equal(r.parallel_tool_calls, -1);
    assert_int_equal(r.format, ASC_FORMAT_UNSET);
    assert_int_equal(r.format_strict, -1);
    assert_int_equal(r.nstop, 0);
    assert_false(r.has_temperature || r.has_top_p || r.has_max_tokens || r.has_seed || r.has_top_k);
    assert_false(asc_str_set(r.user) || asc_str_set(r.metadata) || asc_str_set(r.reasoning));
    assert_false(r.stream || r.include_usage);
    assert_int_equal(r.input_bytes, 2);
    assert_string_equal(err, "");
}

static void test_decode_messages(void **state)
{
    (void)state;
    asc_chat_req_t r;
    must_decode(
        "{'model':'m','messages':["
        "{'role':'system','content':'be brief','name':'sys'},"
        "{'role':'developer','content':[{'type':'text','text':'dev 1'},{'type':'text','text':'dev "
        "2'}]},"
        "{'role':'user','name':'ann','content':[{'type':'text','text':'what is this?'},"
        "{'type':'image_url','image_url':{'url':'https://example.com/a.png','detail':'low'}},"
        "{'type':'image_url','image_url':{'url':'data:image/png;base64,iVBORw0K'}}]},"
        "{'role':'assistant','content':null,'tool_calls':["
        "{'id':'call_1','type':'function','function':{'name':'get_weather','arguments':'{\\'city\\'"
        ":"
        "\\'Paris\\'}'}},"
        "{'id':'call_2','type':'function','function':{'name':'get_time','arguments':''}}]},"
        "{'role':'tool','tool_call_id':'call_1','content':'18C'},"
        "{'role':'tool','tool_call_id':'call_2','content':[{'type':'text','text':'12:00'}]},"
        "{'role':'assistant','content':[{'type':'text','text':'ok'}],'refusal':null,'audio':null,"
        "'function_call':null,'tool_calls':[]},"
        "{'role':'assistant','content':'','refusal':'I cannot help with that.'},"
        "{'role':'user','content':'','tool_calls':null}"
        "]}",
        &r);
    assert_int_equal(r.nmsgs, 9);
    const asc_msg_t *m = r.msgs;
    assert_int_equal(m[0].role, ASC_ROLE_SYSTEM);
    S_EQ(m[0].name, "sys");
    assert_int_equal(m[0].nparts, 1);
    S_EQ(m[0].parts[0].text, "be brief");

    assert_int_equal(m[1].role, ASC_ROLE_SYSTEM); /* developer */
    assert_int_equal(m[1].nparts, 2);
    S_EQ(m[1].parts[0].text, "dev 1");
    S_EQ(m[1].parts[1].text, "dev 2");

    assert_int_equal(m[2].role, ASC_ROLE_USER);
    S_EQ(m[2].name, "ann");
    assert_int_equal(m[2].nparts, 3);
    assert_int_equal(m[2].parts[1].type, ASC_PART_IMAGE_URL);
    S_EQ(m[2].parts[1].url, "https://example.com/a.png");
    S_EQ(m[2].parts[1].detail, "low");
    assert_false(asc_str_set(m[2].parts[1].cache_control));
    assert_int_equal(m[2].parts[2].type, ASC_PART_IMAGE_URL);
    S_EQ(m[2].parts[2].url, "data:image/png;base64,iVBORw0K");
    assert_false(asc_str_set(m[2].parts[2].detail));

    assert_int_equal(m[3].role, ASC_ROLE_ASSISTANT);
    assert_int_equal(m[3].nparts, 0);
    assert_int_equal(m[3].ntool_calls, 2);
    S_EQ(m[3].tool_calls[0].id, "call_1");
    S_EQ(m[3].tool_calls[0].name, "get_weather");
    S_EQ(m[3].tool_calls[0].arguments, "{\"city\":\"Paris\"}");
    S_EQ(m[3].tool_calls[1].id, "call_2");
    S_EQ(m[3].tool_calls[1].arguments, "{}"); /* "" means no arguments */

    assert_int_equal(m[4].role, ASC_ROLE_TOOL);
    S_EQ(m[4].tool_call_id, "call_1");
    S_EQ(m[4].parts[0].text, "18C");
    assert_int_equal(m[5].role, ASC_ROLE_TOOL);
    S_EQ(m[5].tool_call_id, "call_2");
    S_EQ(m[5].parts[0].text, "12:00");

    assert_int_equal(m[6].nparts, 1);
    S_EQ(m[6].parts[0].text, "ok");
    assert_int_equal(m[6].ntool_calls, 0);

    /* a past refusal is what the assistant said: kept as text */
    assert_int_equal(m[7].nparts, 1);
    S_EQ(m[7].parts[0].text, "I cannot help with that.");

    assert_int_equal(m[8].role, ASC_ROLE_USER);
    assert_int_equal(m[8].nparts, 0); /* "" carries nothing */
}

static void test_decode_escapes(void **state)
{
    (void)state;
    asc_chat_req_t r;
    must_decode("{'model':'m','messages':[{'role':'user','content':'line\\n\\u00e9\\\\'},"
                "{'role':'assistant','tool_calls':[{'id':'c\\u0031','type':'function',"
                "'function':{'name':'f','arguments':'{\\'q\\':\\'a\\\\\\'b\\'}'}}]}]}",
                &r);
    S_EQ(r.msgs[0].parts[0].text, "line\n\xc3\xa9\\");
    S_EQ(r.msgs[1].tool_calls[0].id, "c1");
    S_EQ(r.msgs[1].tool_calls[0].arguments, "{\"q\":\"a\\\"b\"}");
}

static void test_decode_parameters(void **state)
{
    (void)state;
    asc_chat_req_t r;
    must_decode(
        "{'model':'claude','messages':[{'role':'user','content':'x'}],"
        "'tools':[{'type':'function','function':{'name':'get_weather','description':'Weather "
        "now','parameters':{'type':'object','properties':{'city':{'type':'string'}}},'strict':"
        "true}},{'type':'function','function':{'name':'noop'}}],"
        "'tool_choice':{'type':'function','function':{'name':'noop'}},"
        "'parallel_tool_calls':false,"
        "'response_format':{'type':'json_schema','json_schema':{'name':'answer','schema':{'type':"
        "'object'},'strict':true}},"
        "'stop':['END','\\n\\n'],'temperature':0.5,'top_p':0.9,'max_completion_tokens':300,"
        "'seed':-7,'user':'u-42','metadata':{'team':'a','run':'7'},'stream':true,"
        "'stream_options':{'include_usage':true},'reasoning_effort':'low','n':1,'logprobs':false,"
        "'top_logprobs':0,'frequency_penalty':0,'presence_penalty':0.0,'logit_bias':{},"
        "'modalities':['text'],'verbosity':'medium','audio':null,'functions':null}",
        &r);
    assert_int_equal(r.ntools, 2);
    S_EQ(r.tools[0].name, "get_weather");
    S_EQ(r.tools[0].description, "Weather now");
    S_EQ(r.tools[0].parameters,
         "{\"type\":\"object\",\"properties\":{\"city\":{\"type\":\"string\"}}}");
    assert_int_equal(r.tools[0].strict, 1);
    S_EQ(r.tools[1].name, "noop");
    assert_false(asc_str_set(r.tools[1].description) || asc_str_set(r.tools[1].parameters));
    assert_int_equal(r.tools[1].strict, -1);
    assert_int_equal(r.tool_choice, ASC_TOOL_CHOICE_FUNCTION);
    S_EQ(r.tool_choice_name, "noop");
    assert_int_equal(r.parallel_tool_calls, 0);
    assert_int_equal(r.format, ASC_FORMAT_JSON_SCHEMA);
    S_EQ(r.format_name, "answer");
    S_EQ(r.format_schema, "{\"type\":\"object\"}");
    assert_int_equal(r.format_strict, 1);
    assert_int_equal(r.nstop, 2);
    S_EQ(r.stop[0], "END");
    S_EQ(r.stop[1], "\n\n");
    assert_true(r.has_temperature && r.has_top_p && r.has_max_tokens && r.has_seed);
    assert_true(r.temperature == 0.5 && r.top_p == 0.9);
    assert_int_equal(r.max_tokens, 300);
    assert_int_equal(r.seed, -7);
    S_EQ(r.user, "u-42");
    S_EQ(r.metadata, "{\"team\":\"a\",\"run\":\"7\"}");
    assert_true(r.stream && r.include_usage);
    S_EQ(r.reasoning, "\"low\"");
    assert_string_equal(err, "");

    /* the other shapes of the same fields */
    must_decode(
        "{'model':'m'," MSG1 ",'tools':[{'type':'function','function':{'name':'f'}}],"
        "'tool_choice':'required','response_format':{'type':'json_object'},'stop':'###',"
        "'max_tokens':5,'stream':true,'safety_identifier':'sid','parallel_tool_calls':true}",
        &r);
    assert_int_equal(r.tool_choice, ASC_TOOL_CHOICE_REQUIRED);
    assert_int_equal(r.format, ASC_FORMAT_JSON_OBJECT);
    assert_int_equal(r.nstop, 1);
    S_EQ(r.stop[0], "###");
    assert_int_equal(r.max_tokens, 5);
    assert_true(r.stream);
    assert_false(r.include_usage);
    S_EQ(r.user, "sid"); /* safety_identifier stands in for user */
    assert_int_equal(r.parallel_tool_calls, 1);

    must_decode("{'model':'m'," MSG1 ",'tools':[{'type':'function','function':{'name':'f'}}],"
                "'tool_choice':'none','response_format':{'type':'text'},"
                "'user':'u','safety_identifier':'s','stream_options':{'include_usage':true}}",
                &r);
    assert_int_equal(r.tool_choice, ASC_TOOL_CHOICE_NONE);
    assert_int_equal(r.format, ASC_FORMAT_TEXT);
    S_EQ(r.user, "u");             /* user wins */
    assert_false(r.include_usage); /* only with stream */

    must_decode("{'model':'m'," MSG1 ",'tools':[{'type':'function','function':{'name':'f'}}],"
                "'tool_choice':'auto'}",
                &r);
    assert_int_equal(r.tool_choice, ASC_TOOL_CHOICE_AUTO);
    /* without tools, auto and none say nothing */
    must_decode("{'model':'m'," MSG1 ",'tool_choice':'auto'}", &r);
    assert_int_equal(r.tool_choice, ASC_TOOL_CHOICE_UNSET);
    must_decode("{'model':'m'," MSG1 ",'tool_choice':'none','tools':[]}", &r);
    assert_int_equal(r.tool_choice, ASC_TOOL_CHOICE_UNSET);
}

/* Hints are dropped, and named in err as a note. */
static void test_decode_hints(void **state)
{
    (void)state;
    asc_chat_req_t r;
    must_decode("{'model':'m'," MSG1 ",'store':false,'service_tier':'flex',"
                "'prompt_cache_key':'k','stream':true,'stream_options':{'include_obfuscation':"
                "false}}",
                &r);
    assert_string_equal(err, "dropped: prompt_cache_key, service_tier");
    must_decode("{'model':'m'," MSG1 ",'store':true,'prompt_cache_retention':'24h',"
                "'prompt_cache_options':{'mode':'implicit'}}",
                &r);
    assert_string_equal(err, "dropped: prompt_cache_retention, prompt_cache_options, store");
    must_decode("{'model':'m','messages':[{'role':'user','content':[{'type':'text','text':'a',"
                "'prompt_cache_breakpoint':{'mode':'explicit'}}]}],'response_format':{'type':"
                "'json_schema','json_schema':{'name':'x','description':'d'}}}",
                &r);
    S_EQ(r.msgs[0].parts[0].cache_control, "{\"type\":\"ephemeral\"}");
    assert_string_equal(err, "dropped: response_format.json_schema.description");
    assert_false(asc_str_set(r.format_schema));
}

/* Every refusal: a 400 whose message names the field. */
static void test_decode_refusals(void **state)
{
    (void)state;
    static const struct {
        const char *body, *msg;
    } cases[] = {
        {"{'model':'m'," MSG1 ",'foo':1}", "Unrecognized request argument supplied: foo"},
        {"{'model':'m'," MSG1 ",'extra_body':{}}",
         "Unrecognized request argument supplied: extra_body"},
        {"{'model':'m','messages':[{'role':'function','name':'f','content':'x'}]}",
         "messages[0]: role function is deprecated; use tool"},
        {"{'model':'m','messages':[{'role':'robot','content':'x'}]}",
         "messages[0].role: unknown role \"robot\""},
        {"{'model':'m','messages':[{'role':'user','content':[{'type':'input_audio',"
         "'input_audio':{'data':'AAA','format':'wav'}}]}]}",
         "messages[0].content[0].type: content parts of type \"input_audio\" are not supported"},
        {"{'model':'m','messages':[{'role':'user','content':[{'type':'text','text':'a'},"
         "{'type':'file','file':{'file_id':'f'}}]}]}",
         "messages[0].content[1].type: content parts of type \"file\" are not supported"},
        {"{'model':'m','messages':[{'role':'system','content':[{'type':'image_url',"
         "'image_url':{'url':'https://x'}}]}]}",
         "messages[0].content[0].type: \"image_url\" is not a valid content part type here"},
        {"{'model':'m','messages':[{'role':'user','content':[{'type':'text','text':'a',"
         "'image_url':{}}]}]}",
         "messages[0].content[0].image_url: not allowed in a part of this type"},
        {"{'model':'m','messages':[{'role':'user','content':[{'type':'image_url','image_url':"
         "{'url':'ftp://x/a.png'}}]}]}",
         "messages[0].content[0].image_url.url: must be an http(s) URL or a data: URL"},
        {"{'model':'m','messages':[{'role':'user','content':[{'type':'image_url','image_url':"
         "{'url':'https://x','detail':'ultra'}}]}]}",
         "messages[0].content[0].image_url.detail: must be one of auto, low, high, original"},
        {"{'model':'m','messages':[{'role':'user','content':42}]}",
         "messages[0].content: must be a string or an array of content parts"},
        {"{'model':'m','messages':[{'role':'user'}]}", "messages[0].content: required"},
        {"{'model':'m','messages':[{'role':'user','content':'x','tool_call_id':'c'}]}",
         "messages[0].tool_call_id: not allowed in a message of this role"},
        {"{'model':'m','messages':[{'role':'user','content':'x','weight':1}]}",
         "messages[0]: unrecognized field \"weight\""},
        {"{'model':'m','messages':[{'role':'tool','content':'x'}]}",
         "messages[0].tool_call_id: required"},
        {"{'model':'m','messages':[{'role':'assistant','audio':{'id':'a'}}]}",
         "messages[0].audio: audio is not supported by this provider"},
        {"{'model':'m','messages':[{'role':'assistant','function_call':{'name':'f',"
         "'arguments':'{}'}}]}",
         "messages[0].function_call: deprecated; use tool_calls"},
        {"{'model':'m','messages':[{'role':'assistant','tool_calls':[{'id':'c','type':"
         "'function','function':{'name':'f','arguments':'{bad'}}]}]}",
         "messages[0].tool_calls[0].function.arguments: must be a JSON object"},
        {"{'model':'m','messages':[{'role':'assistant','tool_calls':[{'id':'c','type':"
         "'function','function':{'name':'f','arguments':'[1]'}}]}]}",
         "messages[0].tool_calls[0].function.arguments: must be a JSON object"},
        {"{'model':'m','messages':[{'role':'assistant','tool_calls':[{'id':'c','type':"
         "'custom','custom':{'name':'f','input':'x'}}]}]}",
         "messages[0].tool_calls[0].type: custom tool calls are not supported"},
        {"{'model':'m','messages':[{'role':'assistant','tool_calls':[{'type':'function',"
         "'function':{'name':'f','arguments':'{}'}}]}]}",
         "messages[0].tool_calls[0].id: required"},
        {"{'model':'m'," MSG1 ",'n':2}", "n: only 1 is supported by this provider"},
        {"{'model':'m'," MSG1 ",'logprobs':true}", "logprobs: not supported by this provider"},
        {"{'model':'m'," MSG1 ",'top_logprobs':3}", "top_logprobs: not supported"},
        {"{'model':'m'," MSG1 ",'frequency_penalty':0.5}",
         "frequency_penalty: not supported by this provider"},
        {"{'model':'m'," MSG1 ",'presence_penalty':-1}",
         "presence_penalty: not supported by this provider"},
        {"{'model':'m'," MSG1 ",'logit_bias':{'50256':-100}}",
         "logit_bias: not supported by this provider"},
        {"{'model':'m'," MSG1 ",'logit_bias':[1]}", "logit_bias: must be an object"},
        {"{'model':'m'," MSG1 ",'modalities':['text','audio']}",
         "modalities: only [\"text\"] is supported"},
        {"{'model':'m'," MSG1 ",'audio':{'voice':'alloy','format':'mp3'}}",
         "audio: not supported by this provider"},
        {"{'model':'m'," MSG1 ",'prediction':{'type':'content','content':'x'}}",
         "prediction: not supported by this provider"},
        {"{'model':'m'," MSG1 ",'web_search_options':{}}",
         "web_search_options: not supported by this provider"},
        {"{'model':'m'," MSG1 ",'moderation':{'model':'omni-moderation-latest'}}",
         "moderation: not supported by this provider"},
        {"{'model':'m'," MSG1 ",'verbosity':'low'}", "verbosity: not supported by this provider"},
        {"{'model':'m'," MSG1 ",'functions':[{'name':'f'}]}", "functions: deprecated; use tools"},
        {"{'model':'m'," MSG1 ",'function_call':'auto'}",
         "function_call: deprecated; use tool_choice"},
        {"{'model':'m'," MSG1 ",'max_tokens':5,'max_completion_tokens':6}",
         "max_tokens: set either max_tokens or max_completion_tokens, not both"},
        {"{'model':'m'," MSG1 ",'stop':['a','b','c','d','e']}", "stop: at most 4 sequences"},
        {"{'model':'m'," MSG1 ",'stop':['a',1]}", "stop[1]: must be a string"},
        {"{'model':'m'," MSG1 ",'stop':7}", "stop: must be a string or an array of strings"},
        {"{'model':'m'," MSG1 ",'temperature':2.5}", "temperature: must be between 0 and 2"},
        {"{'model':'m'," MSG1 ",'top_p':1.5}", "top_p: must be between 0 and 1"},
        {"{'model':'m'," MSG1 ",'parallel_tool_calls':'yes'}",
         "parallel_tool_calls: must be a boolean"},
        {"{'model':'m'," MSG1 ",'reasoning_effort':3}",
         "reasoning_effort: must be a non-empty string"},
        {"{'model':'m'," MSG1 ",'tools':[{'type':'custom','custom':{'name':'x'}}]}",
         "tools[0].type: custom tools are not supported by this provider"},
        {"{'model':'m'," MSG1 ",'tools':[{'type':'web_search'}]}",
         "tools[0].type: must be \"function\""},
        {"{'model':'m'," MSG1 ",'tools':[{'type':'function','function':{'name':'a b'}}]}",
         "tools[0].function.name: must be 1 to 64 characters"},
        {"{'model':'m'," MSG1 ",'tools':[{'type':'function','function':{'name':'f'}},"
         "{'type':'function','function':{'name':'f'}}]}",
         "tools[1].function.name: duplicate tool name \"f\""},
        {"{'model':'m'," MSG1 ",'tools':[{'type':'function','function':{'name':'f',"
         "'parameters':'x'}}]}",
         "tools[0].function.parameters: must be a JSON schema object"},
        {"{'model':'m'," MSG1 ",'tools':[{'type':'function','function':{'name':'f',"
         "'examples':[]}}]}",
         "tools[0].function: unrecognized field \"examples\""},
        {"{'model':'m'," MSG1 ",'tool_choice':'required'}",
         "tool_choice: \"required\" is only allowed when tools are specified"},
        {"{'model':'m'," MSG1 ",'tool_choice':'any'}", "tool_choice: must be \"none\""},
        {"{'model':'m'," MSG1 ",'tools':[{'type':'function','function':{'name':'f'}}],"
         "'tool_choice':{'type':'function','function':{'name':'g'}}}",
         "tool_choice.function.name: no tool named \"g\" in tools"},
        {"{'model':'m'," MSG1 ",'tools':[{'type':'function','function':{'name':'f'}}],"
         "'tool_choice':{'type':'allowed_tools','allowed_tools':{'mode':'auto','tools':[]}}}",
         "tool_choice.type: \"allowed_tools\" is not supported by this provider"},
        {"{'model':'m'," MSG1 ",'response_format':{'type':'grammar'}}",
         "response_format.type: \"grammar\" is not supported by this provider"},
        {"{'model':'m'," MSG1 ",'response_format':{'type':'json_schema'}}",
         "response_format.json_schema: required"},
        {"{'model':'m'," MSG1 ",'response_format':{'type':'json_schema','json_schema':{"
         "'schema':{}}}}",
         "response_format.json_schema.name: required"},
        {"{'model':'m'," MSG1 ",'metadata':{'a':1}}", "metadata.a: must be a string"},
        {"{'model':'m'," MSG1 ",'metadata':'x'}", "metadata: must be an object of strings"},
        {"{'model':'m'," MSG1 ",'stream':true,'stream_options':{'chunk_size':3}}",
         "stream_options: unrecognized field \"chunk_size\""},
        {"{'model':'m'," MSG1 ",'store':'yes'}", "store: must be a boolean"},
        /* the pass-through checks come first, with their messages */
        {"{'model':'m'," MSG1 ",'api_base':'https://evil.example'}",
         "api_base: choosing the upstream from the request is not allowed"},
        {"{'model':'m'," MSG1 ",'metadata':{'base_url':'https://evil.example'}}",
         "base_url: choosing the upstream"},
        {"{'model':'m','messages':[]}", "messages: must be a non-empty array"},
        {"{'messages':[{'role':'user','content':'x'}]}", "model: required"},
        {"{'model':'m'," MSG1 ",'n':0}", "n: must be a positive integer"},
        {"{'model':'m'," MSG1 ",'temperature':'hot'}", "temperature: must be a finite number"},
        {"{'model':'m'," MSG1 ",'model':'n'}", "duplicate key"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        asc_chat_req_t r;
        asc_err_t e = dec(cases[i].body, &r);
        if (e != ASC_EINVAL)
            fail_msg("case %zu: want EINVAL, got %d (%s) for %s", i, e, err, cases[i].body);
        if (strstr(err, cases[i].msg) == NULL)
            fail_msg("case %zu: message \"%s\" lacks \"%s\"", i, err, cases[i].msg);
    }
}

/* Client bytes in messages are printable ASCII. */
static void test_decode_unknown_name_sanitised(void **state)
{
    (void)state;
    asc_chat_req_t r;
    const char *b = "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],"
                    "\"f\\u0001\xc3\xa9\":1}";
    asc_err_t e = asc_dialect_openai_chat.decode(pool, b, strlen(b), NULL, &r, err, sizeof err);
    assert_int_equal(e, ASC_EINVAL);
    assert_string_equal(err, "Unrecognized request argument supplied: f\\u0001??");
}

/* A pool limit turns a huge request into ETOOBIG, never an abort. */
static void test_decode_pool_limit(void **state)
{
    (void)state;
    asc_pool_t *small = asc_pool_create(64 * 1024);
    asc_buf_t b;
    asc_buf_init(&b, 0);
    asc_buf_puts(&b, "{\"model\":\"m\",\"messages\":[");
    for (int i = 0; i < 3000; i++)
        asc_buf_printf(&b, "%s{\"role\":\"user\",\"content\":\"m%d\"}", i ? "," : "", i);
    asc_buf_puts(&b, "]}");
    asc_chat_req_t r;
    asc_err_t e = asc_dialect_openai_chat.decode(small, b.data, b.len, NULL, &r, err, sizeof err);
    assert_int_equal(e, ASC_ETOOBIG);
    asc_buf_free(&b);
    asc_pool_destroy(small);
}

/* ---- encode_response ---- */

static void expect_response(const asc_chat_resp_t *resp, const char *model, const char *want)
{
    asc_buf_t b;
    asc_buf_init(&b, 0);
    asc_dialect_openai_chat.encode_response(resp, model, &b);
    assert_string_equal(b.data, q(want));
    asc_json_t j;
    assert_int_equal(asc_json_parse(pool, b.data, b.len, NULL, &j, NULL, 0), ASC_OK);
    asc_buf_free(&b);
}

static asc_str_t S(const char *z)
{
    return (asc_str_t){z, strlen(z)};
}

static void test_encode_response(void **state)
{
    (void)state;
    asc_chat_resp_t r;
    memset(&r, 0, sizeof r);
    r.id = S("msg_01XFDUDYJgAACzvnptvVoYEL");
    r.model = S("claude-sonnet-4-5-20250929");
    r.created = 1730000000;
    r.text = S("Hello \"there\"\n");
    r.finish = ASC_FINISH_STOP;
    r.usage = (asc_canon_usage_t){
        .input_tokens = 25, .output_tokens = 7, .cached_tokens = 10, .present = 1};
    expect_response(&r, "my-model",
                    "{'id':'msg_01XFDUDYJgAACzvnptvVoYEL','object':'chat.completion','created':"
                    "1730000000,'model':'my-model','choices':[{'index':0,'message':{'role':"
                    "'assistant','content':'Hello \\'there\\'\\n','refusal':null},'logprobs':null,"
                    "'finish_reason':'stop'}],'usage':{'prompt_tokens':25,'completion_tokens':7,"
                    "'total_tokens':32,'prompt_tokens_details':{'cached_tokens':10}}}");

    /* tool calls only: content null */
    asc_tool_call_t calls[2] = {
        {S("toolu_01A"), S("get_weather"), S("{\"city\":\"Paris\"}")},
        {S("toolu_01B"), S("get_time"), ASC_STR_NULL},
    };
    memset(&r, 0, sizeof r);
    r.id = S("id1");
    r.created = 5;
    r.tool_calls = calls;
    r.ntool_calls = 2;
    r.finish = ASC_FINISH_TOOL_CALLS;
    r.usage = (asc_canon_usage_t){.input_tokens = 100, .output_tokens = 40};
    expect_response(&r, "m",
                    "{'id':'id1','object':'chat.completion','created':5,'model':'m','choices':[{"
                    "'index':0,'message':{'role':'assistant','content':null,'refusal':null,"
                    "'tool_calls':[{'id':'toolu_01A','type':'function','function':{'name':'get_"
                    "weather','arguments':'{\\'city\\':\\'Paris\\'}'}},{'id':'toolu_01B','type':"
                    "'function','function':{'name':'get_time','arguments':'{}'}}]},'logprobs':"
                    "null,'finish_reason':'tool_calls'}],'usage':{'prompt_tokens':100,"
                    "'completion_tokens':40,'total_tokens':140,'prompt_tokens_details':{'cached_"
                    "tokens':0}}}");

    /* text and a tool call; no finish from upstream: tool_calls is inferred */
    r.text = S("Let me check.");
    r.ntool_calls = 1;
    r.finish = ASC_FINISH_NONE;
    expect_response(&r, "m",
                    "{'id':'id1','object':'chat.completion','created':5,'model':'m','choices':[{"
                    "'index':0,'message':{'role':'assistant','content':'Let me check.','refusal':"
                    "null,'tool_calls':[{'id':'toolu_01A','type':'function','function':{'name':"
                    "'get_weather','arguments':'{\\'city\\':\\'Paris\\'}'}}]},'logprobs':null,"
                    "'finish_reason':'tool_calls'}],'usage':{'prompt_tokens':100,'completion_"
                    "tokens':40,'total_tokens':140,'prompt_tokens_details':{'cached_tokens':0}}}");

    /* refusal: content null, refusal set, content_filter */
    memset(&r, 0, sizeof r);
    r.id = S("id2");
    r.created = 5;
    r.refusal = S("I cannot help with that.");
    r.finish = ASC_FINISH_CONTENT_FILTER;
    expect_response(&r, "m",
                    "{'id':'id2','object':'chat.completion','created':5,'model':'m','choices':[{"
                    "'index':0,'message':{'role':'assistant','content':null,'refusal':'I cannot "
                    "help with that.'},'logprobs':null,'finish_reason':'content_filter'}],"
                    "'usage':{'prompt_tokens':0,'completion_tokens':0,'total_tokens':0,'prompt_"
                    "tokens_details':{'cached_tokens':0}}}");
}

static const char *finish_of(asc_finish_t f)
{
    asc_chat_resp_t r;
    memset(&r, 0, sizeof r);
    r.id = S("x");
    r.created = 1;
    r.finish = f;
    asc_buf_t b;
    asc_buf_init(&b, 0);
    asc_dialect_openai_chat.encode_response(&r, "m", &b);
    const char *p = strstr(b.data, "\"finish_reason\":\"");
    assert_non_null(p);
    p += strlen("\"finish_reason\":\"");
    char *s = asc_pool_strndup(pool, p, (size_t)(strchr(p, '"') - p));
    /* an empty answer is "" (not null) */
    assert_non_null(strstr(b.data, "\"content\":\"\""));
    asc_buf_free(&b);
    return s;
}

static void test_encode_finish(void **state)
{
    (void)state;
    assert_string_equal(finish_of(ASC_FINISH_STOP), "stop");
    assert_string_equal(finish_of(ASC_FINISH_STOP_SEQUENCE), "stop");
    assert_string_equal(finish_of(ASC_FINISH_PAUSE), "stop");
    assert_string_equal(finish_of(ASC_FINISH_LENGTH), "length");
    assert_string_equal(finish_of(ASC_FINISH_TOOL_CALLS), "tool_calls");
    assert_string_equal(finish_of(ASC_FINISH_CONTENT_FILTER), "content_filter");
    assert_string_equal(finish_of(ASC_FINISH_NONE), "stop");
}

/* ---- streaming ---- */

typedef struct {
    unsigned char state[8192];
    asc_buf_t out;
} stream_t;

static void s_begin(stream_t *s, int include_usage)
{
    assert_true(asc_dialect_openai_chat.stream_state_size <= sizeof s->state);
    memset(s->state, 0, sizeof s->state);
    asc_buf_init(&s->out, 0);
    asc_chat_req_t req;
    memset(&req, 0, sizeof req);
    req.model = S("gpt-4o");
    req.stream = 1;
    req.include_usage = include_usage;
    asc_dialect_openai_chat.stream_begin(s->state, &req, "my-model");
}

static void s_ev(stream_t *s, asc_sev_t ev)
{
    asc_dialect_openai_chat.stream_event(s->state, &ev, &s->out);
}

/* The output with every "created":<digits> replaced by "created":0, so
 * expectations need not know the clock; each data line that is not [DONE]
 * must be valid JSON. */
static const char *s_text(stream_t *s)
{
    asc_buf_t o;
    asc_buf_init(&o, 0);
    const char *p = s->out.data;
    while (*p) {
        const char *c = strstr(p, "\"created\":");
        if (c == NULL) {
            asc_buf_puts(&o, p);
            break;
        }
        c += strlen("\"created\":");
        asc_buf_append(&o, p, (size_t)(c - p));
        asc_buf_putc(&o, '0');
        while (*c >= '0' && *c <= '9')
            c++;
        p = c;
    }
    for (const char *l = s->out.data; l != NULL && *l; l = strstr(l, "\n\n")) {
        while (*l == '\n')
            l++;
        if (*l == '\0')
            break;
        assert_memory_equal(l, "data: ", 6);
        const char *end = strstr(l, "\n\n");
        assert_non_null(end);
        if (strncmp(l + 6, "[DONE]", 6) != 0) {
            asc_json_t j;
            if (asc_json_parse(pool, l + 6, (size_t)(end - l - 6), NULL, &j, err, sizeof err) !=
                ASC_OK)
                fail_msg("bad chunk JSON (%s): %.*s", err, (int)(end - l), l);
        }
    }
    char *r = asc_pool_strndup(pool, o.data, o.len);
    asc_buf_free(&o);
    return r;
}

#define HEAD "data: {'id':'msg_01','object':'chat.completion.chunk','created':0,'model':'my-model',"
#define CH(delta, fin)                                                                             \
    HEAD "'choices':[{'index':0,'delta':" delta ",'logprobs':null,'finish_reason':" fin "}]}\n\n"
#define CHU(delta, fin)                                                                            \
    HEAD "'choices':[{'index':0,'delta':" delta ",'logprobs':null,'finish_reason':" fin            \
         "}],'usage':null}\n\n"

static void test_stream_text(void **state)
{
    (void)state;
    for (int iu = 0; iu < 2; iu++) {
        stream_t s;
        s_begin(&s, iu);
        s_ev(&s, (asc_sev_t){.type = ASC_SEV_START, .id = S("msg_01"), .model = S("claude-x")});
        s_ev(&s, (asc_sev_t){.type = ASC_SEV_TEXT, .text = S("Hel")});
        s_ev(&s, (asc_sev_t){.type = ASC_SEV_TEXT, .text = S("")});
        s_ev(&s, (asc_sev_t){.type = ASC_SEV_TEXT, .text = S("lo \"x\"")});
        s_ev(&s, (asc_sev_t){.type = ASC_SEV_FINISH,
                             .finish = ASC_FINISH_STOP_SEQUENCE,
                             .stop_sequence = S("END")});
        s_ev(&s, (asc_sev_t){.type = ASC_SEV_USAGE,
                             .usage = {.input_tokens = 12, .output_tokens = 1, .present = 1}});
        s_ev(&s, (asc_sev_t){.type = ASC_SEV_USAGE,
                             .usage = {.input_tokens = 12,
                                       .output_tokens = 3,
                                       .cached_tokens = 4,
                                       .present = 1}});
        s_ev(&s, (asc_sev_t){.type = ASC_SEV_DONE});
        s_ev(&s, (asc_sev_t){.type = ASC_SEV_TEXT, .text = S("after the end")});
        if (iu == 0)
            assert_string_equal(s_text(&s), q(CH("{'role':'assistant','content':''}", "null")
                                                  CH("{'content':'Hel'}", "null")
                                                      CH("{'content':'lo \\'x\\''}", "null")
                                                          CH("{}", "'stop'") "data: [DONE]\n\n"));
        else
            assert_string_equal(
                s_text(&s),
                q(CHU("{'role':'assistant','content':''}", "null") CHU("{'content':'Hel'}", "null")
                      CHU("{'content':'lo \\'x\\''}", "null") CHU("{}", "'stop'") HEAD
                  "'choices':[],'usage':{'prompt_tokens':12,'completion_tokens':3,'total_tokens':"
                  "15,'prompt_tokens_details':{'cached_tokens':4}}}\n\ndata: [DONE]\n\n"));
        asc_buf_free(&s.out);
    }
}

/* Anthropic-style block indexes (1, 2) become OpenAI indexes 0, 1;
 * fragments interleave; empty fragments are skipped. */
static void test_stream_parallel_tools(void **state)
{
    (void)state;
    stream_t s;
    s_begin(&s, 1);
    s_ev(&s, (asc_sev_t){.type = ASC_SEV_START, .id = S("msg_01")});
    s_ev(&s, (asc_sev_t){.type = ASC_SEV_TEXT, .text = S("Checking.")});
    s_ev(&s, (asc_sev_t){.type = ASC_SEV_TOOL_START,
                         .tool_index = 1,
                         .tool_id = S("toolu_A"),
                         .tool_name = S("get_weather")});
    s_ev(&s, (asc_sev_t){.type = ASC_SEV_TOOL_ARGS, .tool_index = 1, .text = S("")});
    s_ev(&s, (asc_sev_t){.type = ASC_SEV_TOOL_ARGS, .tool_index = 1, .text = S("{\"city\":")});
    s_ev(&s, (asc_sev_t){.type = ASC_SEV_TOOL_START,
                         .tool_index = 2,
                         .tool_id = S("toolu_B"),
                         .tool_name = S("get_time")});
    s_ev(&s, (asc_sev_t){.type = ASC_SEV_TOOL_ARGS, .tool_index = 2, .text = S("{}")});
    s_ev(&s, (asc_sev_t){.type = ASC_SEV_TOOL_ARGS, .tool_index = 1, .text = S("\"Paris\"}")});
    s_ev(&s, (asc_sev_t){.type = ASC_SEV_USAGE,
                         .usage = {.input_tokens = 50, .output_tokens = 20, .present = 1}});
    s_ev(&s, (asc_sev_t){.type = ASC_SEV_DONE}); /* no FINISH: inferred from the calls */
    assert_string_equal(
        s_text(&s),
        q(CHU("{'role':'assistant','content':''}", "null") CHU("{'content':'Checking.'}", "null")
              CHU("{'tool_calls':[{'index':0,'id':'toolu_A','type':'function','function':{'name':"
                  "'get_weather','arguments':''}}]}",
                  "null")
                  CHU("{'tool_calls':[{'index':0,'function':{'arguments':'{\\'city\\':'}}]}",
                      "null")
                      CHU("{'tool_calls':[{'index':1,'id':'toolu_B','type':'function','function':{"
                          "'name':'get_time','arguments':''}}]}",
                          "null") CHU("{'tool_calls':[{'index':1,'function':{'arguments':'{}'}}]}",
                                      "null") CHU("{'tool_calls':[{'index':0,'function':{'"
                                                  "arguments':'\\'Paris\\'}'}}]}",
                                                  "null") CHU("{}", "'tool_calls'") HEAD
          "'choices':[],'usage':{'prompt_tokens':50,'completion_tokens':20,'total_tokens':70,"
          "'prompt_tokens_details':{'cached_tokens':0}}}\n\ndata: [DONE]\n\n"));
    asc_buf_free(&s.out);
}

/* An upstream error mid-stream: OpenAI's in-stream error object, no
 * [DONE], nothing after it. */
static void test_stream_error(void **state)
{
    (void)state;
    stream_t s;
    s_begin(&s, 0);
    s_ev(&s, (asc_sev_t){.type = ASC_SEV_START, .id = S("msg_01")});
    s_ev(&s, (asc_sev_t){.type = ASC_SEV_TEXT, .text = S("Hi")});
    s_ev(&s, (asc_sev_t){.type = ASC_SEV_ERROR,
                         .error_status = 503,
                         .error_code = "overloaded",
                         .error_message = S("Overloaded")});
    s_ev(&s, (asc_sev_t){.type = ASC_SEV_TEXT, .text = S("more")});
    s_ev(&s, (asc_sev_t){.type = ASC_SEV_DONE});
    asc_dialect_openai_chat.stream_error(s.state, 500, "upstream_error", "again", &s.out);
    assert_string_equal(
        s_text(&s),
        q(CH("{'role':'assistant','content':''}", "null")
              CH("{'content':'Hi'}",
                 "null") "data: {'error':{'message':'Overloaded','type':'api_error','param':null,"
                         "'code':'overloaded'}}\n\n"));
    asc_buf_free(&s.out);

    /* the gateway's own stream_error, before any event: no START needed */
    s_begin(&s, 1);
    asc_dialect_openai_chat.stream_error(s.state, 429, "rate_limited", "slow down", &s.out);
    s_ev(&s, (asc_sev_t){.type = ASC_SEV_DONE});
    assert_string_equal(s_text(&s), q("data: {'error':{'message':'slow down','type':'rate_limit_"
                                      "error','param':null,'code':'rate_limited'}}\n\n"));
    asc_buf_free(&s.out);

    /* no START from upstream: the role chunk still comes first; one finish
     * only; content that comes after the finish is not lost */
    s_begin(&s, 0);
    s_ev(&s, (asc_sev_t){.type = ASC_SEV_TEXT, .text = S("x")});
    s_ev(&s, (asc_sev_t){.type = ASC_SEV_FINISH, .finish = ASC_FINISH_LENGTH});
    s_ev(&s, (asc_sev_t){.type = ASC_SEV_TEXT, .text = S("y")});
    s_ev(&s, (asc_sev_t){.type = ASC_SEV_FINISH, .finish = ASC_FINISH_STOP});
    s_ev(&s, (asc_sev_t){.type = ASC_SEV_DONE});
    assert_string_equal(
        s_text(&s),
        q("data: {'id':'chatcmpl-asc','object':'chat.completion.chunk','created':0,'model':'my-"
          "model','choices':[{'index':0,'delta':{'role':'assistant','content':''},'logprobs':null,"
          "'finish_reason':null}]}\n\n"
          "data: {'id':'chatcmpl-asc','object':'chat.completion.chunk','created':0,'model':'my-"
          "model','choices':[{'index':0,'delta':{'content':'x'},'logprobs':null,'finish_reason':"
          "null}]}\n\n"
          "data: {'id':'chatcmpl-asc','object':'chat.completion.chunk','created':0,'model':'my-"
          "model','choices':[{'index':0,'delta':{},'logprobs':null,'finish_reason':'length'}]}\n\n"
          "data: {'id':'chatcmpl-asc','object':'chat.completion.chunk','created':0,'model':'my-"
          "model','choices':[{'index':0,'delta':{'content':'y'},'logprobs':null,'finish_reason':"
          "null}]}\n\n"
          "data: [DONE]\n\n"));
    asc_buf_free(&s.out);
}

static void test_error_body(void **state)
{
    (void)state;
    static const struct {
        int status;
        const char *code, *want;
    } cases[] = {
        {400, "invalid_request",
         "{'error':{'message':'bad \\'x\\'','type':'invalid_request_error','param':null,'code':"
         "'invalid_request'}}"},
        {401, "invalid_api_key",
         "{'error':{'message':'bad \\'x\\'','type':'authentication_error','param':null,'code':"
         "'invalid_api_key'}}"},
        {403, "model_not_allowed",
         "{'error':{'message':'bad \\'x\\'','type':'permission_error','param':null,'code':'model_"
         "not_allowed'}}"},
        {404, "model_not_found",
         "{'error':{'message':'bad \\'x\\'','type':'invalid_request_error','param':null,'code':"
         "'model_not_found'}}"},
        {429, "rate_limited",
         "{'error':{'message':'bad \\'x\\'','type':'rate_limit_error','param':null,'code':'rate_"
         "limited'}}"},
        {503, "no_healthy_target",
         "{'error':{'message':'bad \\'x\\'','type':'api_error','param':null,'code':'no_healthy_"
         "target'}}"},
        {502, NULL,
         "{'error':{'message':'bad \\'x\\'','type':'api_error','param':null,'code':null}}"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        asc_buf_t b;
        asc_buf_init(&b, 0);
        asc_dialect_openai_chat.error_body(cases[i].status, cases[i].code, "bad \"x\"", &b);
        assert_string_equal(b.data, q(cases[i].want));
        asc_buf_free(&b);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_decode_minimal),
        cmocka_unit_test(test_decode_messages),
        cmocka_unit_test(test_decode_escapes),
        cmocka_unit_test(test_decode_parameters),
        cmocka_unit_test(test_decode_hints),
        cmocka_unit_test(test_decode_refusals),
        cmocka_unit_test(test_decode_unknown_name_sanitised),
        cmocka_unit_test(test_decode_pool_limit),
        cmocka_unit_test(test_encode_response),
        cmocka_unit_test(test_encode_finish),
        cmocka_unit_test(test_stream_text),
        cmocka_unit_test(test_stream_parallel_tools),
        cmocka_unit_test(test_stream_error),
        cmocka_unit_test(test_error_body),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}

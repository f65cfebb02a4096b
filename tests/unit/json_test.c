/* Unit tests for src/json: strict parsing, lookups, unescaping, splicing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/clock.h"
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

/* Input shown in failure messages: printable ASCII kept, the rest as \xNN. */
static const char *show(const char *s, size_t n)
{
    static char buf[256];
    size_t k = 0;
    for (size_t i = 0; i < n && k + 8 < sizeof buf; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c < 0x7f)
            buf[k++] = (char)c;
        else
            k += (size_t)snprintf(buf + k, sizeof buf - k, "\\x%02x", c);
    }
    buf[k] = '\0';
    return buf;
}

static void ok_lim_n(const char *s, size_t n, const asc_json_limits_t *lim, asc_json_t *j)
{
    char err[160];
    asc_err_t e = asc_json_parse(pool, s, n, lim, j, err, sizeof err);
    if (e != ASC_OK)
        fail_msg("rejected valid input <%s>: %s", show(s, n), err);
}

static void ok_n(const char *s, size_t n, asc_json_t *j)
{
    ok_lim_n(s, n, NULL, j);
}

static asc_json_t ok(const char *s)
{
    asc_json_t j;
    ok_n(s, strlen(s), &j);
    return j;
}

static void bad_lim_n(const char *s, size_t n, const asc_json_limits_t *lim, asc_err_t want,
                      const char *msg)
{
    char err[160];
    asc_json_t j;
    asc_err_t e = asc_json_parse(pool, s, n, lim, &j, err, sizeof err);
    if (e == ASC_OK)
        fail_msg("accepted invalid input <%s>", show(s, n));
    if (e != want)
        fail_msg("input <%s>: error %d, want %d (%s)", show(s, n), e, want, err);
    if (msg != NULL && strstr(err, msg) == NULL)
        fail_msg("input <%s>: message \"%s\" lacks \"%s\"", show(s, n), err, msg);
    assert_null(j.tok);
    assert_int_equal(j.ntok, 0);
}

static void bad_n(const char *s, size_t n, const char *msg)
{
    bad_lim_n(s, n, NULL, ASC_EINVAL, msg);
}

static void bad(const char *s, const char *msg)
{
    bad_n(s, strlen(s), msg);
}

static void check_tok(const asc_json_t *j, int i, asc_json_type_t type, int start, int end,
                      int size, int parent)
{
    assert_true(i < j->ntok);
    assert_int_equal(j->tok[i].type, type);
    assert_int_equal(j->tok[i].start, start);
    assert_int_equal(j->tok[i].end, end);
    assert_int_equal(j->tok[i].size, size);
    assert_int_equal(j->tok[i].parent, parent);
}

/* ---- grammar ---- */

static void test_valid_documents(void **state)
{
    static const char *docs[] = {
        "{}",
        "[]",
        " {} ",
        "\t\n\r[ ]\r\n\t",
        "{\"a\":1}",
        "[1,2,3]",
        "[[],{}]",
        "{\"a\":[{\"b\":null}],\"c\":true,\"d\":false}",
        " { \"a\" : [ 1 , 2 ] , \"b\" : { } } ",
        "\"x\"",
        "0",
        "-0",
        "1.5e+10",
        "true",
        "false",
        "null",
        "[\"\"]",
        "{\"\":1}",
        "[\"\\u00e9\\ud83d\\ude00\"]",
        "[\"\x7f\"]",
        "[[[[[[[[[[1]]]]]]]]]]",
        "{\"a\":{\"b\":{\"c\":{}}}}",
        "[true,false,null,0,\"s\",{},[]]",
    };
    (void)state;
    for (size_t i = 0; i < sizeof docs / sizeof docs[0]; i++)
        ok(docs[i]);
}

static void test_token_tree(void **state)
{
    (void)state;
    /*           0         1         2
     *           0123456789012345678901234567 */
    asc_json_t j = ok("{\"a\":[1,\"x\"],\"b\":{\"c\":null}}");
    assert_int_equal(j.ntok, 9);
    check_tok(&j, 0, ASC_JSON_OBJECT, 0, 28, 2, -1);
    check_tok(&j, 1, ASC_JSON_STRING, 2, 3, 1, 0);
    check_tok(&j, 2, ASC_JSON_ARRAY, 5, 12, 2, 1);
    check_tok(&j, 3, ASC_JSON_NUMBER, 6, 7, 0, 2);
    check_tok(&j, 4, ASC_JSON_STRING, 9, 10, 0, 2);
    check_tok(&j, 5, ASC_JSON_STRING, 14, 15, 1, 0);
    check_tok(&j, 6, ASC_JSON_OBJECT, 17, 27, 1, 5);
    check_tok(&j, 7, ASC_JSON_STRING, 19, 20, 1, 6);
    check_tok(&j, 8, ASC_JSON_NULL, 22, 26, 0, 7);

    assert_int_equal(asc_json_skip(&j, 0), 9);
    assert_int_equal(asc_json_skip(&j, 1), 5); /* key "a" and its array */
    assert_int_equal(asc_json_skip(&j, 2), 5);
    assert_int_equal(asc_json_skip(&j, 3), 4);
    assert_int_equal(asc_json_skip(&j, 6), 9);
    assert_int_equal(asc_json_skip(&j, 99), 9);

    j = ok("[true,false,-1.5]");
    check_tok(&j, 1, ASC_JSON_TRUE, 1, 5, 0, 0);
    check_tok(&j, 2, ASC_JSON_FALSE, 6, 11, 0, 0);
    check_tok(&j, 3, ASC_JSON_NUMBER, 12, 16, 0, 0);
}

static void test_root_scalars(void **state)
{
    asc_json_limits_t lim;
    asc_json_t j;
    (void)state;
    j = ok("  42 ");
    assert_int_equal(j.ntok, 1);
    check_tok(&j, 0, ASC_JSON_NUMBER, 2, 4, 0, -1);
    j = ok("\"hi\"");
    check_tok(&j, 0, ASC_JSON_STRING, 1, 3, 0, -1);
    j = ok("\"\"");
    check_tok(&j, 0, ASC_JSON_STRING, 1, 1, 0, -1);
    j = ok("null");
    check_tok(&j, 0, ASC_JSON_NULL, 0, 4, 0, -1);

    asc_json_limits_default(&lim);
    assert_int_equal(lim.max_depth, 128);
    assert_int_equal(lim.max_tokens, (size_t)1 << 20);
    assert_int_equal(lim.root_object, 0);
    lim.root_object = 1;
    ok_lim_n(" {}", 3, &lim, &j);
    bad_lim_n("[]", 2, &lim, ASC_EINVAL, "must be an object");
    bad_lim_n("\"x\"", 3, &lim, ASC_EINVAL, "must be an object");
    bad_lim_n("1", 1, &lim, ASC_EINVAL, "must be an object");
}

static void test_empty_and_trailing(void **state)
{
    (void)state;
    bad("", "empty input");
    bad("   ", "empty input");
    bad("\n\t\r ", "empty input");
    bad("{} x", "trailing data at offset 3");
    bad("{}{}", "trailing data at offset 2");
    bad("1 2", "trailing data at offset 2");
    bad("[1]]", "trailing data at offset 3");
    bad("{\"a\":1}}", "trailing data at offset 7");
    bad("\"a\"\"b\"", "trailing data at offset 3");
    bad("[] ,", "trailing data at offset 3");
    bad_n("{}\0", 3, "NUL byte at offset 2");
    bad("{}\x0c", "trailing data"); /* form feed is not JSON whitespace */
    bad("\x0b{}", "unexpected byte 0x0b");
    bad("{} \xef\xbb\xbf", "trailing data");
    bad("\xef\xbb\xbf{}", "unexpected byte 0xef"); /* a BOM is not accepted */
}

static void test_structure_errors(void **state)
{
    static const char *docs[] = {
        "[1,]",
        "{\"a\":1,}",
        "[,1]",
        "[1,,2]",
        "[1 2]",
        "{\"a\" 1}",
        "{\"a\",1}",
        "{\"a\":1:2}",
        "{1:2}",
        "{true:1}",
        "{null:1}",
        "{{}:1}",
        "{[]:1}",
        "[1:2]",
        "[1",
        "{\"a\":",
        "{\"a\"",
        "{",
        "[",
        "[}",
        "{]",
        "]",
        "}",
        ":",
        ",",
        "{\"a\":1 \"b\":2}",
        "['a']",
        "{a:1}",
        "{\"a\":1,,\"b\":2}",
        "{,}",
        "[,]",
        "{\"a\"::1}",
        "[\"a\":1]",
        "{\"a\":}",
        "[1,2",
        "{\"a\":[1,2}",
        "[{]}",
        "{\"a\":1,\"b\"}",
        "(1)",
        "/*c*/1",
        "[1]//c",
        "#",
    };
    (void)state;
    for (size_t i = 0; i < sizeof docs / sizeof docs[0]; i++)
        bad(docs[i], NULL);
    /* exact messages for a few */
    bad("[1,]", "unexpected ']' at offset 3, expected a value");
    bad("{\"a\":1,}", "unexpected '}' at offset 7, expected a string key");
    bad("[1 2]", "unexpected '2' at offset 3, expected ',' or ']'");
    bad("{\"a\" 1}", "unexpected '1' at offset 5, expected ':'");
    bad("{1:2}", "unexpected '1' at offset 1, expected a string key");
    bad("[1", "unexpected end of input");
    bad("{\"a\":", "unexpected end of input, expected a value");
}

static void test_numbers(void **state)
{
    static const char *good[] = {
        "0",       "-0",
        "1",       "-1",
        "10",      "1.5",
        "-1.5",    "0.0",
        "0e0",     "1e5",
        "1E5",     "1e+5",
        "1e-5",    "1.5E-10",
        "-0.0e-0", "123456789012345678901234567890",
        "1e999",   "0.000000000000000000000000000000001",
    };
    static const char *badn[] = {
        "01",    "-01",  "00",    "-",     "+1",    "1.",   ".5",  "-.5",      "1e",        "1e+",
        "1E-",   "0x10", "1.2.3", "--1",   "1e5e5", "1.e5", "NaN", "Infinity", "-Infinity", "inf",
        "1_000", "- 1",  "1.5f",  "1e5.0", "0.",    "-a",   "2-1", "1+1",      "\xd9\xa1",
    };
    char buf[128];
    asc_json_t j;
    (void)state;
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        j = ok(good[i]);
        assert_int_equal(j.tok[0].type, ASC_JSON_NUMBER);
        snprintf(buf, sizeof buf, "[%s,%s]", good[i], good[i]);
        j = ok(buf);
        assert_int_equal(j.ntok, 3);
        assert_int_equal(j.tok[2].type, ASC_JSON_NUMBER);
        assert_int_equal(j.tok[2].end - j.tok[2].start, (int)strlen(good[i]));
        snprintf(buf, sizeof buf, "{\"n\": %s }", good[i]);
        ok(buf);
    }
    for (size_t i = 0; i < sizeof badn / sizeof badn[0]; i++) {
        bad(badn[i], NULL);
        snprintf(buf, sizeof buf, "[%s]", badn[i]);
        bad(buf, NULL);
        snprintf(buf, sizeof buf, "{\"n\":%s}", badn[i]);
        bad(buf, NULL);
    }
    bad("[01]", "invalid number at offset 1");
    bad("{\"n\":1.}", "invalid number at offset 5");
}

static void test_literals(void **state)
{
    static const char *docs[] = {
        "tru",     "truee",  "True",    "TRUE",        "nul",     "nulll",
        "falsey",  "fals",   "t",       "n",           "f",       "[true1]",
        "[nullx]", "[fals]", "[true_]", "{\"a\":nul}", "[true.]", "undefined",
    };
    (void)state;
    for (size_t i = 0; i < sizeof docs / sizeof docs[0]; i++)
        bad(docs[i], NULL);
    bad("[truex]", "invalid literal at offset 1");
    ok("[true,false,null]");
    ok("{\"a\":true}");
    ok("[null ]");
}

static void test_string_escapes(void **state)
{
    static const char *badesc[] = {
        "[\"\\x\"]",     "[\"\\a\"]",     "[\"\\u12\"]", "[\"\\u12G4\"]", "[\"\\U0041\"]",
        "[\"\\'\"]",     "[\"\\0\"]",     "[\"\\u\"]",   "[\"\\ \"]",     "[\"\\\"]",
        "[\"\\u-123\"]", "[\"\\u 123\"]", "[\"\\e\"]",   "[\"\\v\"]",
    };
    (void)state;
    ok("[\"\\\" \\\\ \\/ \\b \\f \\n \\r \\t \\u0041 \\uABCD \\uabcd \\uD83D\\uDE00\"]");
    ok("[\"\\ud800\"]"); /* lone surrogate escapes are read as U+FFFD */
    for (size_t i = 0; i < sizeof badesc / sizeof badesc[0]; i++)
        bad(badesc[i], strcmp(badesc[i], "[\"\\\"]") == 0 ? "unterminated" : "escape at offset 2");
    bad("[\"ab\\x\"]", "invalid escape at offset 4");
    bad("[\"\\u12G4\"]", "invalid \\u escape at offset 2");
    bad("[\"abc", "unterminated string starting at offset 1");
    bad("[\"abc\\", "unterminated string");
    bad("\"abc\\\"", "unterminated string");
    bad("{\"abc", "unterminated string");
}

static void test_control_and_nul(void **state)
{
    char buf[16];
    (void)state;
    for (int c = 1; c < 0x20; c++) {
        snprintf(buf, sizeof buf, "[\"a%cb\"]", c);
        bad(buf, "control character");
        snprintf(buf, sizeof buf, "{\"a%c\":1}", c);
        bad(buf, "control character");
    }
    bad("[\"a\nb\"]", "control character 0x0a in string at offset 3");
    bad("[\"a\rb\"]", "control character 0x0d");
    bad("[\"a\tb\"]", "control character 0x09");
    ok("[\"a\\nb\\r\\t\"]");
    ok("[\"del\x7f\"]");

    bad_n("[\"a\0b\"]", 7, "NUL byte at offset 3");
    bad_n("{\"a\0\":1}", 8, "NUL byte at offset 3");
    bad_n("[\0]", 3, "NUL byte at offset 1");
    bad_n("\0{}", 3, "NUL byte at offset 0");
    bad_n("[1,\0]", 5, "NUL byte at offset 3");
    bad_n("[1\0]", 4, "NUL byte at offset 2");
    bad_n("{\"a\":1}\0", 8, "NUL byte at offset 7");
    bad_n("\0", 1, "NUL byte at offset 0");
}

static void test_utf8(void **state)
{
    static const struct {
        const char *bytes;
        int ok;
    } cases[] = {
        {"\xc3\xa9", 1},                 /* é */
        {"\xc2\x80", 1},                 /* U+0080 */
        {"\xdf\xbf", 1},                 /* U+07FF */
        {"\xe0\xa0\x80", 1},             /* U+0800 */
        {"\xe2\x82\xac", 1},             /* € */
        {"\xed\x9f\xbf", 1},             /* U+D7FF */
        {"\xee\x80\x80", 1},             /* U+E000 */
        {"\xef\xbf\xbf", 1},             /* U+FFFF */
        {"\xf0\x90\x80\x80", 1},         /* U+10000 */
        {"\xf0\x9f\x98\x80", 1},         /* 😀 */
        {"\xf4\x8f\xbf\xbf", 1},         /* U+10FFFF */
        {"\xc0\x80", 0},                 /* overlong NUL */
        {"\xc0\xaf", 0},                 /* overlong '/' */
        {"\xc1\xbf", 0},                 /* overlong */
        {"\xe0\x80\x80", 0},             /* overlong */
        {"\xe0\x9f\xbf", 0},             /* overlong U+07FF */
        {"\xf0\x80\x80\x80", 0},         /* overlong */
        {"\xf0\x8f\xbf\xbf", 0},         /* overlong U+FFFF */
        {"\xed\xa0\x80", 0},             /* surrogate U+D800 */
        {"\xed\xbf\xbf", 0},             /* surrogate U+DFFF */
        {"\xed\xa0\xbd\xed\xb8\x80", 0}, /* CESU-8 pair */
        {"\xf4\x90\x80\x80", 0},         /* U+110000 */
        {"\xf5\x80\x80\x80", 0},         /* lead byte F5 */
        {"\xf8\x88\x80\x80\x80", 0},     /* 5-byte form */
        {"\xfe", 0},
        {"\xff", 0},
        {"\x80", 0}, /* lone continuation */
        {"\xbf", 0},
        {"\xc3", 0},         /* truncated */
        {"\xe2\x82", 0},     /* truncated */
        {"\xf0\x9f\x98", 0}, /* truncated */
        {"\xe2\x28\xa1", 0}, /* bad continuation */
        {"\xc3\x28", 0},
        {"\xf0\x9f\x28\x80", 0},
        {"a\xc3\xa9\xc3", 0},
    };
    char buf[32];
    char msg[64];
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        snprintf(buf, sizeof buf, "[\"%s\"]", cases[i].bytes);
        if (cases[i].ok) {
            ok(buf);
            snprintf(buf, sizeof buf, "{\"%s\":1}", cases[i].bytes);
            ok(buf);
            continue;
        }
        /* the offset is that of the first byte that is not well-formed */
        size_t first = 0;
        if (strcmp(cases[i].bytes, "a\xc3\xa9\xc3") == 0)
            first = 3;
        snprintf(msg, sizeof msg, "invalid UTF-8 at offset %zu", 2 + first);
        bad(buf, msg);
        snprintf(buf, sizeof buf, "{\"%s\":1}", cases[i].bytes);
        bad(buf, "invalid UTF-8");
        /* truncated sequence at the very end of the input */
        bad_n(buf + 1, 1 + strlen(cases[i].bytes), NULL);
    }
    /* non-ASCII outside strings */
    bad("[\xc3\xa9]", "unexpected byte 0xc3 at offset 1");
    /* long valid multi-byte runs cross the 8-byte fast path */
    ok("[\"\xd0\xbc\xd0\xbe\xd0\xb4\xd0\xb5\xd0\xbb\xd1\x8c abcdefgh \xe6\xa8\xa1\xe5\x9e\x8b"
       "\xf0\x9f\x98\x80\xf0\x9f\x98\x80 0123456789\"]");
}

/* ---- limits ---- */

static char *repeat(const char *open, const char *mid, const char *close, int n)
{
    size_t lo = strlen(open), lm = strlen(mid), lc = strlen(close);
    char *s = malloc((size_t)n * (lo + lc) + lm + 1);
    char *p = s;
    assert_non_null(s);
    for (int i = 0; i < n; i++, p += lo)
        memcpy(p, open, lo);
    memcpy(p, mid, lm);
    p += lm;
    for (int i = 0; i < n; i++, p += lc)
        memcpy(p, close, lc);
    *p = '\0';
    return s;
}

static void test_depth(void **state)
{
    asc_json_limits_t lim;
    asc_json_t j;
    char *s;
    (void)state;

    s = repeat("[", "", "]", 128);
    ok(s);
    free(s);
    s = repeat("[", "", "]", 129);
    bad(s, "nesting deeper than 128 at offset 128");
    free(s);
    s = repeat("{\"a\":", "1", "}", 128);
    ok(s);
    free(s);
    s = repeat("{\"a\":", "1", "}", 129);
    bad(s, "nesting deeper than 128");
    free(s);
    s = repeat("[{\"k\":", "1", "}]", 64);
    ok(s);
    free(s);
    s = repeat("[{\"k\":", "[]", "}]", 64);
    bad(s, "nesting deeper than 128");
    free(s);

    /* 10,000 deep: rejected at the 129th bracket, unclosed or closed */
    s = repeat("[", "", "", 10000);
    bad(s, "nesting deeper than 128");
    free(s);
    s = repeat("[", "", "]", 10000);
    bad(s, "nesting deeper than 128");
    free(s);
    s = repeat("{\"a\":", "null", "}", 10000);
    bad(s, "nesting deeper than 128");
    free(s);

    /* with the limit raised, 10,000 deep parses without recursion */
    asc_json_limits_default(&lim);
    lim.max_depth = 20000;
    s = repeat("[", "7", "]", 10000);
    ok_lim_n(s, strlen(s), &lim, &j);
    assert_int_equal(j.ntok, 10001);
    assert_int_equal(asc_json_skip(&j, 0), 10001);
    assert_int_equal(asc_json_skip(&j, 5000), 10001);
    assert_int_equal(j.tok[10000].type, ASC_JSON_NUMBER);
    assert_int_equal(j.tok[10000].parent, 9999);
    free(s);
    s = repeat("{\"a\":", "\"leaf\"", "}", 10000);
    ok_lim_n(s, strlen(s), &lim, &j);
    assert_int_equal(j.ntok, 20001);
    int v = 0;
    for (int d = 0; d < 10000; d++) {
        v = asc_json_obj_get(&j, v, "a");
        assert_true(v > 0);
    }
    assert_true(asc_json_str_eq(&j, v, "leaf"));
    free(s);

    lim.max_depth = 3;
    ok_lim_n("[[[1]]]", 7, &lim, &j);
    bad_lim_n("[[[[1]]]]", 9, &lim, ASC_EINVAL, "nesting deeper than 3 at offset 3");
}

static void test_token_limit(void **state)
{
    asc_json_limits_t lim;
    asc_json_t j;
    (void)state;
    asc_json_limits_default(&lim);
    lim.max_tokens = 3;
    ok_lim_n("[1,2]", 5, &lim, &j);
    assert_int_equal(j.ntok, 3);
    ok_lim_n("{\"a\":1}", 7, &lim, &j);
    bad_lim_n("[1,2,3]", 7, &lim, ASC_ETOOBIG, "more than 3 tokens");
    bad_lim_n("{\"a\":1,\"b\":2}", 13, &lim, ASC_ETOOBIG, "more than 3 tokens");
    lim.max_tokens = 0; /* default */
    ok_lim_n("[1,2,3]", 7, &lim, &j);
}

static void test_pool_limit(void **state)
{
    asc_pool_t *small = asc_pool_create(512);
    asc_json_limits_t lim;
    asc_json_t j;
    char err[128];
    char doc[512];
    size_t n = 0;
    (void)state;

    n += (size_t)snprintf(doc + n, sizeof doc - n, "[");
    for (int i = 0; i < 100; i++)
        n += (size_t)snprintf(doc + n, sizeof doc - n, "%s%d", i ? "," : "", i % 10);
    n += (size_t)snprintf(doc + n, sizeof doc - n, "]");
    /* 101 tokens of 20 bytes do not fit in 512 bytes: clean error, no abort */
    assert_int_equal(asc_json_parse(small, doc, n, NULL, &j, err, sizeof err), ASC_ETOOBIG);
    assert_non_null(strstr(err, "more memory than the pool allows"));
    assert_null(j.tok);
    assert_int_equal(asc_json_parse(small, "[1,2]", 5, NULL, &j, err, sizeof err), ASC_OK);

    /* a huge depth limit needs scratch memory from the pool too */
    asc_json_limits_default(&lim);
    lim.max_depth = 100000000;
    assert_int_equal(asc_json_parse(small, "[]", 2, &lim, &j, err, sizeof err), ASC_ETOOBIG);

    /* str_dup past the pool limit */
    asc_pool_reset(small);
    char big[700];
    big[0] = '"';
    memset(big + 1, 'x', 600);
    big[601] = '"';
    assert_int_equal(asc_json_parse(pool, big, 602, NULL, &j, err, sizeof err), ASC_OK);
    char *out = NULL;
    assert_int_equal(asc_json_str_dup(&j, 0, small, &out, NULL), ASC_ETOOBIG);
    asc_pool_destroy(small);
}

static void test_text_edge_cases(void **state)
{
    asc_json_t j;
    char tiny[4];
    (void)state;
    /* NULL err buffer is fine; a tiny one is truncated, never overrun */
    assert_int_equal(asc_json_parse(pool, "[1,]", 4, NULL, &j, NULL, 0), ASC_EINVAL);
    memset(tiny, 'Z', sizeof tiny);
    assert_int_equal(asc_json_parse(pool, "[1,]", 4, NULL, &j, tiny, 3), ASC_EINVAL);
    assert_int_equal(tiny[2], '\0');
    assert_int_equal(tiny[3], 'Z');
    assert_int_equal(asc_json_parse(pool, NULL, 0, NULL, &j, NULL, 0), ASC_EINVAL);
    assert_int_equal(asc_json_parse(pool, NULL, 5, NULL, &j, NULL, 0), ASC_EINVAL);
    /* len bounds the text: bytes past it are not read */
    const char *s = "[1,2]garbage";
    ok_n(s, 5, &j);
    assert_int_equal(j.ntok, 3);
    bad_n(s, 4, "unexpected end of input");
    /* a number at the very end of a non-NUL-terminated buffer */
    char num[3] = {'4', '2', '!'};
    ok_n(num, 2, &j);
    int64_t v = 0;
    assert_int_equal(asc_json_get_int(&j, 0, &v), ASC_OK);
    assert_int_equal(v, 42);
    double d = 0;
    assert_int_equal(asc_json_get_double(&j, 0, &d), ASC_OK);
    assert_true(d == 42.0);
}

/* ---- duplicate keys ---- */

static void test_duplicate_keys(void **state)
{
    static const char *dups[] = {
        "{\"a\":1,\"a\":2}",
        "{\"a\":1,\"b\":2,\"a\":3}",
        "{\"a\":{\"x\":1,\"y\":2},\"a\":3}",
        "{\"a\":[{\"p\":1,\"q\":2},{\"r\":3}],\"b\":0,\"a\":3}",
        "[[[{\"a\":1,\"a\":1}]]]",
        "{\"x\":{\"y\":{\"k\":1,\"k\":2}}}",
        "{\"model\":1,\"mod\\u0065l\":2}",
        "{\"\\u006dodel\":1,\"model\":2}",
        "{\"\\u006d\\u006f\\u0064\\u0065\\u006c\":1,\"model\":2}",
        "{\"a\\/b\":1,\"a/b\":2}",
        "{\"\\ud83d\\ude00\":1,\"\xf0\x9f\x98\x80\":2}",
        "{\"\\\"\":1,\"\\u0022\":2}",
        "{\"\":1,\"\":2}",
        "[{\"a\":1,\"b\":2},{\"a\":1,\"b\":2,\"b\":3}]",
    };
    static const char *fine[] = {
        "{\"a\":1,\"A\":2}",
        "{\"a\":1,\"a \":2}",
        "{\"a\":{\"a\":1}}",
        "[{\"a\":1},{\"a\":2}]",
        "{\"a\":{\"b\":1},\"b\":2}",
        "{\"ab\":1,\"a\":2,\"b\":3}",
        "{\"mod\\u0065l\":1,\"modem\":2}",
        "{\"a\":[{\"b\":1,\"c\":2}],\"b\":3,\"c\":4}",
        "[{\"a\":1,\"b\":2},{\"a\":1,\"b\":2}]",
        "{\"a/b\":1,\"a\\\\/b\":2}",
        "{\"\\ud800\":1,\"x\":{\"\\ud800\":3}}",
    };
    (void)state;
    for (size_t i = 0; i < sizeof dups / sizeof dups[0]; i++)
        bad(dups[i], "duplicate key");
    for (size_t i = 0; i < sizeof fine / sizeof fine[0]; i++)
        ok(fine[i]);
    bad("{\"a\":1,\"a\":2}", "duplicate key \"a\" at offset 7");
    bad("{\"x\":{\"y\":{\"k\":1,\"k\":2}}}", "duplicate key \"k\" at offset 17");
    bad("{\"model\":1,\"mod\\u0065l\":2}", "duplicate key \"model\" at offset 11");
    /* client bytes in the message are made printable */
    bad("{\"a\\nb\\\"\":1,\"a\\nb\\\"\":2}", "duplicate key \"a?b?\"");
    /* two lone surrogates both read as U+FFFD: a guardrail would see one key */
    bad("{\"\\ud800\":1,\"\\udbff\":2}", "duplicate key");
}

/* {"k0":0,...,"k<n-1>":n-1 [,"<extra>":1]} */
static size_t big_object(char *buf, size_t cap, int n, const char *extra, const char *prefix)
{
    size_t k = (size_t)snprintf(buf, cap, "{");
    for (int i = 0; i < n; i++)
        k += (size_t)snprintf(buf + k, cap - k, "%s\"%s%d\":%d", i ? "," : "", prefix, i, i);
    if (extra != NULL)
        k += (size_t)snprintf(buf + k, cap - k, ",\"%s\":1", extra);
    k += (size_t)snprintf(buf + k, cap - k, "}");
    assert_true(k < cap);
    return k;
}

static void test_duplicate_keys_large(void **state)
{
    char buf[8192], msg[64];
    asc_json_t j;
    size_t n;
    (void)state;

    n = big_object(buf, sizeof buf, 100, NULL, "k");
    ok_n(buf, n, &j);
    assert_int_equal(j.tok[0].size, 100);
    assert_int_equal(asc_json_get_int(&j, asc_json_obj_get(&j, 0, "k73"), &(int64_t){0}), ASC_OK);

    n = big_object(buf, sizeof buf, 100, "k50", "k");
    snprintf(msg, sizeof msg, "duplicate key \"k50\" at offset %zu",
             (size_t)(strstr(buf, ",\"k50\":1}") - buf) + 1);
    bad_n(buf, n, msg);

    n = big_object(buf, sizeof buf, 100, "k0", "k");
    bad_n(buf, n, "duplicate key \"k0\"");
    n = big_object(buf, sizeof buf, 100, "k99", "k");
    bad_n(buf, n, "duplicate key \"k99\"");

    /* escaped collision in a large object */
    n = big_object(buf, sizeof buf, 100, "\\u006b42", "k");
    bad_n(buf, n, "duplicate key \"k42\"");
    n = big_object(buf, sizeof buf, 100, "\\u006b420", "k");
    ok_n(buf, n, &j);

    /* 17 members: the first size that is sorted instead of compared */
    n = big_object(buf, sizeof buf, 16, "k3", "k");
    bad_n(buf, n, "duplicate key \"k3\"");
    n = big_object(buf, sizeof buf, 15, "k3", "k");
    bad_n(buf, n, "duplicate key \"k3\"");

    /* several dups: the first repeated key in document order is named */
    n = (size_t)snprintf(buf, sizeof buf,
                         "{\"a0\":0,\"a1\":0,\"a2\":0,\"a3\":0,\"a4\":0,\"a5\":0,\"a6\":0,"
                         "\"a7\":0,\"a8\":0,\"a9\":0,\"b0\":0,\"b1\":0,\"b2\":0,\"b3\":0,"
                         "\"b4\":0,\"b5\":0,\"b6\":0,\"a9\":1,\"a0\":1}");
    bad_n(buf, n, "duplicate key \"a9\"");

    /* sibling large objects with the same keys, and a large object inside a
     * large one: keys of finished objects must be forgotten */
    size_t k = (size_t)snprintf(buf, sizeof buf, "[");
    for (int r = 0; r < 3; r++) {
        k += big_object(buf + k, sizeof buf - k, 20, NULL, "s");
        buf[k++] = ',';
    }
    k += (size_t)snprintf(buf + k, sizeof buf - k, "{\"s0\":");
    k += big_object(buf + k, sizeof buf - k, 20, NULL, "s");
    for (int i = 1; i < 20; i++)
        k += (size_t)snprintf(buf + k, sizeof buf - k, ",\"s%d\":[]", i);
    k += (size_t)snprintf(buf + k, sizeof buf - k, "}]");
    ok_n(buf, k, &j);

    /* a dup in the outer large object after a nested large object */
    k = (size_t)snprintf(buf, sizeof buf, "{\"s0\":");
    k += big_object(buf + k, sizeof buf - k, 20, NULL, "s");
    for (int i = 1; i < 20; i++)
        k += (size_t)snprintf(buf + k, sizeof buf - k, ",\"s%d\":[]", i);
    k += (size_t)snprintf(buf + k, sizeof buf - k, ",\"s0\":1}");
    bad_n(buf, k, "duplicate key \"s0\"");
}

static void test_many_keys_not_quadratic(void **state)
{
    /* 200,000 members. Pairwise checking would do 2e10 key comparisons
     * (minutes); sorting takes well under a second even under ASan, so the
     * bound below is generous and only catches quadratic behaviour. */
    const int keys = 200000;
    size_t cap = (size_t)keys * 24 + 16, n;
    char *buf = malloc(cap);
    asc_json_t j;
    (void)state;
    assert_non_null(buf);
    n = big_object(buf, cap, keys, NULL, "key");
    uint64_t t0 = asc_clock_ns();
    ok_n(buf, n, &j);
    uint64_t dt = asc_clock_ns() - t0;
    if (dt > 5000000000ull)
        fail_msg("parsing %d keys took %.1f s", keys, (double)dt / 1e9);
    assert_int_equal(j.tok[0].size, keys);
    n = big_object(buf, cap, keys, "key123456", "key");
    bad_n(buf, n, "duplicate key \"key123456\"");
    free(buf);
}

/* ---- access ---- */

static void test_obj_get(void **state)
{
    (void)state;
    asc_json_t j = ok("{\"model\":\"gpt\",\"mo\\\"del\":1,\"caf\\u00e9\":2,"
                      "\"nested\":{\"model\":\"inner\"},\"arr\":[10,20],\"b\":\"model\"}");
    int v = asc_json_obj_get(&j, 0, "model");
    assert_int_equal(v, 2);
    assert_true(asc_json_str_eq(&j, v, "gpt"));
    v = asc_json_obj_get(&j, 0, "mo\"del");
    assert_int_equal(j.tok[v].type, ASC_JSON_NUMBER);
    assert_int_equal(j.text[j.tok[v].start], '1');
    v = asc_json_obj_get(&j, 0, "caf\xc3\xa9");
    assert_int_equal(j.text[j.tok[v].start], '2');
    assert_int_equal(asc_json_obj_get(&j, 0, "cafe"), -1);
    assert_int_equal(asc_json_obj_get(&j, 0, "caf\\u00e9"), -1);
    assert_int_equal(asc_json_obj_get(&j, 0, "Model"), -1);
    assert_int_equal(asc_json_obj_get(&j, 0, "mode"), -1);
    assert_int_equal(asc_json_obj_get(&j, 0, "models"), -1);
    assert_int_equal(asc_json_obj_get(&j, 0, "gpt"), -1); /* values are not keys */
    assert_int_equal(asc_json_obj_get(&j, 0, ""), -1);
    int nested = asc_json_obj_get(&j, 0, "nested");
    assert_int_equal(j.tok[nested].type, ASC_JSON_OBJECT);
    assert_true(asc_json_str_eq(&j, asc_json_obj_get(&j, nested, "model"), "inner"));
    int arr = asc_json_obj_get(&j, 0, "arr");
    assert_int_equal(j.tok[arr].type, ASC_JSON_ARRAY);
    assert_int_equal(asc_json_obj_get(&j, arr, "model"), -1);
    int64_t n = 0;
    assert_int_equal(asc_json_get_int(&j, asc_json_arr_get(&j, arr, 0), &n), ASC_OK);
    assert_int_equal(n, 10);
    assert_int_equal(asc_json_get_int(&j, asc_json_arr_get(&j, arr, 1), &n), ASC_OK);
    assert_int_equal(n, 20);
    assert_int_equal(asc_json_arr_get(&j, arr, 2), -1);
    assert_int_equal(asc_json_arr_get(&j, arr, -1), -1);
    assert_int_equal(asc_json_arr_get(&j, 0, 0), -1);
    assert_true(asc_json_str_eq(&j, asc_json_obj_get(&j, 0, "b"), "model"));
    assert_int_equal(asc_json_obj_get(&j, -1, "model"), -1);
    assert_int_equal(asc_json_obj_get(&j, 999, "model"), -1);

    j = ok("{\"mod\\u0065l\":\"x\",\"\":\"empty\",\"a\\u0000b\":3}");
    assert_true(asc_json_str_eq(&j, asc_json_obj_get(&j, 0, "model"), "x"));
    assert_int_equal(asc_json_obj_get(&j, 0, "mod\\u0065l"), -1);
    assert_true(asc_json_str_eq(&j, asc_json_obj_get(&j, 0, ""), "empty"));
    assert_int_equal(asc_json_obj_get(&j, 0, "a"), -1); /* "a\0b" is not "a" */

    /* arrays of containers */
    j = ok("[{\"a\":[1,[2,3]]},{\"b\":{}},\"s\"]");
    assert_int_equal(asc_json_arr_get(&j, 0, 0), 1);
    int second = asc_json_arr_get(&j, 0, 1);
    assert_int_equal(j.tok[second].type, ASC_JSON_OBJECT);
    assert_int_equal(j.tok[asc_json_obj_get(&j, second, "b")].type, ASC_JSON_OBJECT);
    assert_true(asc_json_str_eq(&j, asc_json_arr_get(&j, 0, 2), "s"));
}

static void test_str_eq(void **state)
{
    (void)state;
    asc_json_t j = ok("[\"abc\",\"a\\u0062c\",\"\",\"ab\",1,\"\\\\\"]");
    assert_true(asc_json_str_eq(&j, 1, "abc"));
    assert_true(asc_json_str_eq(&j, 2, "abc"));
    assert_false(asc_json_str_eq(&j, 2, "abd"));
    assert_false(asc_json_str_eq(&j, 2, "ab"));
    assert_false(asc_json_str_eq(&j, 2, "abcd"));
    assert_true(asc_json_str_eq(&j, 3, ""));
    assert_false(asc_json_str_eq(&j, 3, "a"));
    assert_false(asc_json_str_eq(&j, 4, "abc"));
    assert_false(asc_json_str_eq(&j, 5, "1")); /* numbers are not strings */
    assert_true(asc_json_str_eq(&j, 6, "\\"));
    assert_false(asc_json_str_eq(&j, 0, "abc"));
    assert_false(asc_json_str_eq(&j, 7, "abc"));
}

static void test_str_dup(void **state)
{
    static const struct {
        const char *json;
        const char *want;
        size_t want_len;
    } cases[] = {
        {"\"\\ud83d\\ude00\"", "\xf0\x9f\x98\x80", 4},
        {"\"\\uD83D\\uDE00\"", "\xf0\x9f\x98\x80", 4},
        {"\"\\udbff\\udfff\"", "\xf4\x8f\xbf\xbf", 4},
        {"\"\\ud800\"", "\xef\xbf\xbd", 3},
        {"\"\\udc00\"", "\xef\xbf\xbd", 3},
        {"\"\\ud800\\u0041\"",
         "\xef\xbf\xbd"
         "A",
         4},
        {"\"\\ud800\\ud800\"", "\xef\xbf\xbd\xef\xbf\xbd", 6},
        {"\"\\udc00\\ud800\"", "\xef\xbf\xbd\xef\xbf\xbd", 6},
        {"\"\\ud83dx\"", "\xef\xbf\xbdx", 4},
        {"\"\\ud800\\ue000\"", "\xef\xbf\xbd\xee\x80\x80", 6},
        {"\"\\ud800\\u00e9\"", "\xef\xbf\xbd\xc3\xa9", 5},
        {"\"a\\u0000b\"", "a\0b", 3},
        {"\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"", "\"\\/\b\f\n\r\t", 8},
        {"\"plain\"", "plain", 5},
        {"\"\"", "", 0},
        {"\"\\u00e9\"", "\xc3\xa9", 2},
        {"\"\\u07ff\\u0800\"", "\xdf\xbf\xe0\xa0\x80", 5},
        {"\"\\u20ac\"", "\xe2\x82\xac", 3},
        {"\"\\uffff\"", "\xef\xbf\xbf", 3},
        {"\"\xf0\x9f\x98\x80 raw\"", "\xf0\x9f\x98\x80 raw", 8},
        {"\"x\\u0041y\"", "xAy", 3},
    };
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        asc_json_t j = ok(cases[i].json);
        char *out = NULL;
        size_t len = 99;
        assert_int_equal(asc_json_str_dup(&j, 0, pool, &out, &len), ASC_OK);
        if (len != cases[i].want_len || memcmp(out, cases[i].want, len) != 0)
            fail_msg("str_dup(%s) = <%s> (%zu bytes)", cases[i].json, show(out, len), len);
        assert_int_equal(out[len], '\0');
        assert_int_equal(asc_json_str_dup(&j, 0, pool, &out, NULL), ASC_OK);
    }
    asc_json_t j = ok("{\"k\\u0041\":[1,true]}");
    char *out = NULL;
    size_t len = 0;
    assert_int_equal(asc_json_str_dup(&j, 1, pool, &out, &len), ASC_OK);
    assert_string_equal(out, "kA");
    assert_int_equal(asc_json_str_dup(&j, 0, pool, &out, &len), ASC_EINVAL);
    assert_int_equal(asc_json_str_dup(&j, 3, pool, &out, &len), ASC_EINVAL);
    assert_int_equal(asc_json_str_dup(&j, 4, pool, &out, &len), ASC_EINVAL);
    assert_int_equal(asc_json_str_dup(&j, 5, pool, &out, &len), ASC_EINVAL);
}

static void test_unescape_robust(void **state)
{
    char out[32];
    (void)state;
    /* malformed escapes (never in parsed text) are copied, never overread */
    assert_int_equal(asc_json_unescape("a\\", 2, out), 2);
    assert_memory_equal(out, "a\\", 2);
    assert_int_equal(asc_json_unescape("\\u12", 4, out), 4);
    assert_memory_equal(out, "\\u12", 4);
    assert_int_equal(asc_json_unescape("\\q", 2, out), 2);
    assert_memory_equal(out, "\\q", 2);
    assert_int_equal(asc_json_unescape("\\ud83d\\ude0", 11, out), 3 + 5);
    assert_memory_equal(out, "\xef\xbf\xbd\\ude0", 8);
}

static void test_get_int(void **state)
{
    static const struct {
        const char *num;
        int ok;
        int64_t want;
    } cases[] = {
        {"0", 1, 0},
        {"-0", 1, 0},
        {"7", 1, 7},
        {"123", 1, 123},
        {"-123", 1, -123},
        {"9223372036854775807", 1, INT64_MAX},
        {"-9223372036854775808", 1, INT64_MIN},
        {"9223372036854775808", 0, 0},
        {"-9223372036854775809", 0, 0},
        {"18446744073709551616", 0, 0},
        {"99999999999999999999", 0, 0},
        {"1.0", 0, 0},
        {"1e3", 0, 0},
        {"1E3", 0, 0},
        {"-1.5", 0, 0},
    };
    char buf[64];
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        snprintf(buf, sizeof buf, "[%s]", cases[i].num);
        asc_json_t j = ok(buf);
        int64_t v = 42;
        asc_err_t e = asc_json_get_int(&j, 1, &v);
        if (cases[i].ok) {
            assert_int_equal(e, ASC_OK);
            assert_true(v == cases[i].want);
        } else {
            if (e != ASC_EINVAL)
                fail_msg("get_int(%s) accepted: %lld", cases[i].num, (long long)v);
            assert_true(v == 42);
        }
    }
    asc_json_t j = ok("[\"1\",true,null,{}]");
    int64_t v;
    for (int i = 0; i < 6; i++)
        assert_int_equal(asc_json_get_int(&j, i, &v), ASC_EINVAL);
}

static void test_get_double(void **state)
{
    char buf[512];
    double d;
    (void)state;
    asc_json_t j = ok("[1.5,-2.5e-3,1e999,-1e999,1e-999,0,\"1\",1E2,-0.0,123456789012]");
    assert_int_equal(asc_json_get_double(&j, 1, &d), ASC_OK);
    assert_true(d == 1.5);
    assert_int_equal(asc_json_get_double(&j, 2, &d), ASC_OK);
    assert_true(d == -0.0025);
    d = 7;
    assert_int_equal(asc_json_get_double(&j, 3, &d), ASC_EINVAL);
    assert_int_equal(asc_json_get_double(&j, 4, &d), ASC_EINVAL);
    assert_true(d == 7);
    assert_int_equal(asc_json_get_double(&j, 5, &d), ASC_OK);
    assert_true(d == 0.0);
    assert_int_equal(asc_json_get_double(&j, 6, &d), ASC_OK);
    assert_true(d == 0.0);
    assert_int_equal(asc_json_get_double(&j, 7, &d), ASC_EINVAL);
    assert_int_equal(asc_json_get_double(&j, 8, &d), ASC_OK);
    assert_true(d == 100.0);
    assert_int_equal(asc_json_get_double(&j, 9, &d), ASC_OK);
    assert_true(d == 0.0);
    assert_int_equal(asc_json_get_double(&j, 10, &d), ASC_OK);
    assert_true(d == 123456789012.0);
    assert_int_equal(asc_json_get_double(&j, 0, &d), ASC_EINVAL);

    /* longer than the on-stack copy: 1 followed by 299 zeros */
    buf[0] = '1';
    memset(buf + 1, '0', 299);
    asc_json_t k;
    ok_n(buf, 300, &k);
    assert_int_equal(asc_json_get_double(&k, 0, &d), ASC_OK);
    assert_true(d == 1e299);
    memset(buf + 1, '0', 400);
    ok_n(buf, 401, &k);
    assert_int_equal(asc_json_get_double(&k, 0, &d), ASC_EINVAL);
}

static void test_is_true_and_range(void **state)
{
    size_t s, e;
    (void)state;
    /*                     0         1         2
     *                     01234567890123456789012345678 */
    asc_json_t j = ok("{\"s\":\"ab\",\"t\":true,\"f\":false}");
    assert_true(asc_json_is_true(&j, asc_json_obj_get(&j, 0, "t")));
    assert_false(asc_json_is_true(&j, asc_json_obj_get(&j, 0, "f")));
    assert_false(asc_json_is_true(&j, asc_json_obj_get(&j, 0, "s")));
    assert_false(asc_json_is_true(&j, -1));
    asc_json_value_range(&j, asc_json_obj_get(&j, 0, "s"), &s, &e);
    assert_int_equal(s, 5);
    assert_int_equal(e, 9);
    asc_json_value_range(&j, asc_json_obj_get(&j, 0, "t"), &s, &e);
    assert_int_equal(s, 14);
    assert_int_equal(e, 18);
    asc_json_value_range(&j, 0, &s, &e);
    assert_int_equal(s, 0);
    assert_int_equal(e, 29);
}

/* ---- splice ---- */

static void splice_ok(const char *text, asc_json_edit_t *ed, size_t n, const char *want)
{
    asc_buf_t b;
    asc_buf_init(&b, 0);
    assert_int_equal(asc_json_splice(text, strlen(text), ed, n, &b), ASC_OK);
    assert_string_equal(b.data, want);
    assert_int_equal(b.len, strlen(want));
    asc_buf_free(&b);
}

static void test_splice(void **state)
{
    const char *t = "{\"model\":\"a\",\"x\":1}";
    asc_json_t j = ok(t);
    size_t s, e;
    (void)state;

    asc_json_value_range(&j, asc_json_obj_get(&j, 0, "model"), &s, &e);
    asc_json_edit_t r1[] = {{s, e, "\"gpt-4o\"", 8}};
    splice_ok(t, r1, 1, "{\"model\":\"gpt-4o\",\"x\":1}");

    splice_ok(t, NULL, 0, t);
    asc_json_edit_t ins[] = {{0, 0, "X", 1}, {19, 19, "Y", 1}};
    splice_ok(t, ins, 2, "X{\"model\":\"a\",\"x\":1}Y");
    asc_json_edit_t whole[] = {{0, 19, "[]", 2}};
    splice_ok(t, whole, 1, "[]");
    asc_json_edit_t del[] = {{11, 17, NULL, 0}};
    splice_ok(t, del, 1, "{\"model\":\"a1}");

    /* inserts at one offset keep their order; an insert sorts before a
     * replacement starting at the same offset; touching edits are fine */
    asc_json_edit_t same[] = {
        {1, 1, "A", 1}, {1, 1, "B", 1}, {1, 8, "C", 1}, {8, 8, "D", 1}, {0, 1, "E", 1}};
    splice_ok(t, same, 5, "EABCD:\"a\",\"x\":1}");

    /* given out of order */
    asc_json_edit_t rev[] = {{18, 19, ")", 1}, {10, 11, "b", 1}, {0, 1, "(", 1}};
    splice_ok(t, rev, 3, "(\"model\":\"b\",\"x\":1)");
    assert_int_equal(rev[0].start, 0);
    assert_int_equal(rev[2].start, 18);

    /* many edits in reverse order (the merge-sort path), stable for ties */
    const char *alpha = "abcdefghijklmnopqrstuvwxyz";
    asc_json_edit_t many[40];
    char up[26];
    for (int i = 0; i < 26; i++) {
        up[i] = (char)('A' + i);
        many[25 - i] = (asc_json_edit_t){(size_t)i, (size_t)i + 1, &up[i], 1};
    }
    static const char *digits[] = {"0", "1", "2", "3", "4", "5", "6",
                                   "7", "8", "9", "a", "b", "c", "d"};
    for (int i = 0; i < 14; i++)
        many[26 + i] = (asc_json_edit_t){13, 13, digits[i], 1};
    splice_ok(alpha, many, 40, "ABCDEFGHIJKLM0123456789abcdNOPQRSTUVWXYZ");

    /* errors leave out unchanged */
    asc_buf_t b;
    asc_buf_init(&b, 30);
    assert_int_equal(asc_buf_puts(&b, "keep"), ASC_OK);
    asc_json_edit_t overlap[] = {{2, 5, "x", 1}, {4, 6, "y", 1}};
    assert_int_equal(asc_json_splice(t, 19, overlap, 2, &b), ASC_EINVAL);
    asc_json_edit_t inside[] = {{2, 5, "x", 1}, {3, 3, "y", 1}};
    assert_int_equal(asc_json_splice(t, 19, inside, 2, &b), ASC_EINVAL);
    asc_json_edit_t past[] = {{18, 20, "x", 1}};
    assert_int_equal(asc_json_splice(t, 19, past, 1, &b), ASC_EINVAL);
    asc_json_edit_t backwards[] = {{5, 4, "x", 1}};
    assert_int_equal(asc_json_splice(t, 19, backwards, 1, &b), ASC_EINVAL);
    asc_json_edit_t nullrepl[] = {{5, 6, NULL, 1}};
    assert_int_equal(asc_json_splice(t, 19, nullrepl, 1, &b), ASC_EINVAL);
    asc_json_edit_t grow[] = {{0, 0, "0123456789", 10}};
    assert_int_equal(asc_json_splice(t, 19, grow, 1, &b), ASC_ETOOBIG);
    assert_string_equal(b.data, "keep");
    assert_int_equal(b.len, 4);
    /* appends after what is there */
    asc_json_edit_t shrink[] = {{1, 17, NULL, 0}};
    assert_int_equal(asc_json_splice(t, 19, shrink, 1, &b), ASC_OK);
    assert_string_equal(b.data, "keep{1}");
    asc_buf_free(&b);

    /* the spliced body parses and reads the new value */
    asc_buf_init(&b, 0);
    assert_int_equal(asc_json_splice(t, 19, r1, 1, &b), ASC_OK);
    asc_json_t k;
    ok_n(b.data, b.len, &k);
    assert_true(asc_json_str_eq(&k, asc_json_obj_get(&k, 0, "model"), "gpt-4o"));
    asc_buf_free(&b);
}

/* A realistic chat body near 4 KB. */
static void test_chat_body(void **state)
{
    char body[6000];
    size_t n = 0;
    (void)state;
    n += (size_t)snprintf(body + n, sizeof body - n,
                          "{\"model\":\"gpt-4o-mini\",\"temperature\":0.7,\"max_tokens\":512,"
                          "\"stream\":true,\"messages\":[");
    for (int i = 0; i < 14; i++)
        n += (size_t)snprintf(body + n, sizeof body - n,
                              "%s{\"role\":\"%s\",\"content\":\"Message %d: The quick brown "
                              "fox jumps over the lazy dog. \\\"Quoted\\\" text, caf\xc3\xa9, "
                              "\\u00e9t\\u00e9, emoji \xf0\x9f\x98\x80, tab\\there and a "
                              "newline\\nthere. Lorem ipsum dolor sit amet, consectetur "
                              "adipiscing elit, sed do eiusmod tempor incididunt.\"}",
                              i ? "," : "", i % 2 ? "assistant" : "user", i);
    n += (size_t)snprintf(body + n, sizeof body - n,
                          "],\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"get_"
                          "weather\",\"parameters\":{\"type\":\"object\",\"properties\":{"
                          "\"city\":{\"type\":\"string\"}},\"required\":[\"city\"]}}}],"
                          "\"metadata\":{\"user\":\"u-123\",\"tags\":[\"a\",\"b\"]}}");
    assert_true(n > 3900 && n < 4400);
    asc_json_t j;
    ok_n(body, n, &j);
    assert_true(asc_json_str_eq(&j, asc_json_obj_get(&j, 0, "model"), "gpt-4o-mini"));
    assert_true(asc_json_is_true(&j, asc_json_obj_get(&j, 0, "stream")));
    int msgs = asc_json_obj_get(&j, 0, "messages");
    assert_int_equal(j.tok[msgs].size, 14);
    int last = asc_json_arr_get(&j, msgs, 13);
    assert_true(asc_json_str_eq(&j, asc_json_obj_get(&j, last, "role"), "assistant"));
    char *content;
    size_t len;
    assert_int_equal(
        asc_json_str_dup(&j, asc_json_obj_get(&j, last, "content"), pool, &content, &len), ASC_OK);
    assert_non_null(strstr(content, "\"Quoted\" text, caf\xc3\xa9, \xc3\xa9t\xc3\xa9"));
    assert_non_null(strstr(content, "tab\there and a newline\nthere."));
    double temp;
    assert_int_equal(asc_json_get_double(&j, asc_json_obj_get(&j, 0, "temperature"), &temp),
                     ASC_OK);
    assert_true(temp == 0.7);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid_documents),
        cmocka_unit_test(test_token_tree),
        cmocka_unit_test(test_root_scalars),
        cmocka_unit_test(test_empty_and_trailing),
        cmocka_unit_test(test_structure_errors),
        cmocka_unit_test(test_numbers),
        cmocka_unit_test(test_literals),
        cmocka_unit_test(test_string_escapes),
        cmocka_unit_test(test_control_and_nul),
        cmocka_unit_test(test_utf8),
        cmocka_unit_test(test_depth),
        cmocka_unit_test(test_token_limit),
        cmocka_unit_test(test_pool_limit),
        cmocka_unit_test(test_text_edge_cases),
        cmocka_unit_test(test_duplicate_keys),
        cmocka_unit_test(test_duplicate_keys_large),
        cmocka_unit_test(test_many_keys_not_quadratic),
        cmocka_unit_test(test_obj_get),
        cmocka_unit_test(test_str_eq),
        cmocka_unit_test(test_str_dup),
        cmocka_unit_test(test_unescape_robust),
        cmocka_unit_test(test_get_int),
        cmocka_unit_test(test_get_double),
        cmocka_unit_test(test_is_true_and_range),
        cmocka_unit_test(test_splice),
        cmocka_unit_test(test_chat_body),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}

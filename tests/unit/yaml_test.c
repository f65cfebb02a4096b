/* Unit tests for src/config/yaml.c (YAML text -> cJSON). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "config/yaml.h"

static char err[512];

static cJSON *ok(const char *text)
{
    err[0] = '\0';
    cJSON *r = asc_yaml_parse(text, strlen(text), err, sizeof err);
    if (r == NULL)
        fail_msg("parse failed for %s: %s", text, err);
    return r;
}

/* Parse must fail with exactly `want` as the message. */
static void bad(const char *text, const char *want)
{
    cJSON *r = asc_yaml_parse(text, strlen(text), err, sizeof err);
    if (r != NULL) {
        cJSON_Delete(r);
        fail_msg("parse of %s succeeded, expected: %s", text, want);
    }
    assert_string_equal(err, want);
}

/* Parse must fail with a message starting with `prefix`. */
static void bad_prefix(const char *text, const char *prefix)
{
    cJSON *r = asc_yaml_parse(text, strlen(text), err, sizeof err);
    if (r != NULL) {
        cJSON_Delete(r);
        fail_msg("parse of %s succeeded, expected: %s...", text, prefix);
    }
    if (strncmp(err, prefix, strlen(prefix)) != 0)
        fail_msg("error \"%s\" does not start with \"%s\"", err, prefix);
}

static const cJSON *get(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    if (v == NULL)
        fail_msg("missing key %s", k);
    return v;
}

static void test_plain_scalar_types(void **state)
{
    (void)state;
    cJSON *r = ok("n1: null\nn2: Null\nn3: NULL\nn4: ~\nn5:\n"
                  "t1: true\nt2: True\nt3: TRUE\nf1: false\nf2: False\nf3: FALSE\n"
                  "i1: 42\ni2: -17\ni3: +5\ni4: 0x1F\ni5: 0o17\ni6: 007\ni7: 0\n"
                  "d1: 1.5\nd2: -2.5e3\nd3: .25\nd4: 1e3\nd5: 3.\n"
                  "s1: yes\ns2: on\ns3: tRuE\ns4: 1_000\ns5: 0x\ns6: 0o8\ns7: -0x10\ns8: inf\n"
                  "s9: 2024-01-01\ns10: 1.2.3\ns11: hello world\ns12: nan\n");
    const char *nulls[] = {"n1", "n2", "n3", "n4", "n5"};
    for (size_t i = 0; i < 5; i++)
        assert_true(cJSON_IsNull(get(r, nulls[i])));
    assert_true(cJSON_IsTrue(get(r, "t1")));
    assert_true(cJSON_IsTrue(get(r, "t2")));
    assert_true(cJSON_IsTrue(get(r, "t3")));
    assert_true(cJSON_IsFalse(get(r, "f1")));
    assert_true(cJSON_IsFalse(get(r, "f2")));
    assert_true(cJSON_IsFalse(get(r, "f3")));
    struct {
        const char *k;
        double v;
    } nums[] = {{"i1", 42}, {"i2", -17}, {"i3", 5},     {"i4", 31},   {"i5", 15},   {"i6", 7},
                {"i7", 0},  {"d1", 1.5}, {"d2", -2500}, {"d3", 0.25}, {"d4", 1000}, {"d5", 3}};
    for (size_t i = 0; i < sizeof nums / sizeof nums[0]; i++) {
        const cJSON *v = get(r, nums[i].k);
        if (!cJSON_IsNumber(v))
            fail_msg("%s is not a number", nums[i].k);
        assert_true(v->valuedouble == nums[i].v);
    }
    struct {
        const char *k, *v;
    } strs[] = {{"s1", "yes"},        {"s2", "on"},     {"s3", "tRuE"},         {"s4", "1_000"},
                {"s5", "0x"},         {"s6", "0o8"},    {"s7", "-0x10"},        {"s8", "inf"},
                {"s9", "2024-01-01"}, {"s10", "1.2.3"}, {"s11", "hello world"}, {"s12", "nan"}};
    for (size_t i = 0; i < sizeof strs / sizeof strs[0]; i++) {
        const cJSON *v = get(r, strs[i].k);
        if (!cJSON_IsString(v))
            fail_msg("%s is not a string", strs[i].k);
        assert_string_equal(v->valuestring, strs[i].v);
    }
    cJSON_Delete(r);
}

static void test_quoted_and_block_scalars_are_strings(void **state)
{
    (void)state;
    cJSON *r = ok("a: \"123\"\nb: '0x10'\nc: \"true\"\nd: 'null'\ne: \"\"\nf: !!str 12\ng: ! 13\n"
                  "h: \"tab\\there\"\ni: 'it''s'\n"
                  "j: |\n  line1\n  line2\n"
                  "k: >\n  folded\n  text\n"
                  "l: |-\n  12\n");
    struct {
        const char *k, *v;
    } want[] = {{"a", "123"},
                {"b", "0x10"},
                {"c", "true"},
                {"d", "null"},
                {"e", ""},
                {"f", "12"},
                {"g", "13"},
                {"h", "tab\there"},
                {"i", "it's"},
                {"j", "line1\nline2\n"},
                {"k", "folded text\n"},
                {"l", "12"}};
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        const cJSON *v = get(r, want[i].k);
        if (!cJSON_IsString(v))
            fail_msg("%s is not a string", want[i].k);
        assert_string_equal(v->valuestring, want[i].v);
    }
    cJSON_Delete(r);
}

static void test_collections_and_order(void **state)
{
    (void)state;
    cJSON *r = ok("z: [1, two, {three: 3}]\n"
                  "a:\n  - x\n  - - nested\n"
                  "m: {k: v, 5: five}\n");
    /* mapping order is the file's order */
    assert_string_equal(r->child->string, "z");
    assert_string_equal(r->child->next->string, "a");
    assert_string_equal(r->child->next->next->string, "m");
    const cJSON *z = get(r, "z");
    assert_true(cJSON_IsArray(z));
    assert_int_equal(cJSON_GetArraySize(z), 3);
    assert_true(cJSON_GetArrayItem(z, 0)->valuedouble == 1);
    assert_string_equal(cJSON_GetArrayItem(z, 1)->valuestring, "two");
    assert_true(get(cJSON_GetArrayItem(z, 2), "three")->valuedouble == 3);
    const cJSON *a = get(r, "a");
    assert_string_equal(cJSON_GetArrayItem(cJSON_GetArrayItem(a, 1), 0)->valuestring, "nested");
    /* keys are always strings, even when they look like numbers */
    assert_string_equal(get(get(r, "m"), "5")->valuestring, "five");
    cJSON_Delete(r);
}

static void test_empty_document_is_null(void **state)
{
    (void)state;
    const char *texts[] = {"", "# just a comment\n", "---\n", "---\n...\n"};
    for (size_t i = 0; i < 4; i++) {
        cJSON *r = ok(texts[i]);
        assert_true(cJSON_IsNull(r));
        cJSON_Delete(r);
    }
}

static void test_explicit_single_document_ok(void **state)
{
    (void)state;
    cJSON *r = ok("%YAML 1.2\n---\na: 1\n...\n");
    assert_true(get(r, "a")->valuedouble == 1);
    cJSON_Delete(r);
}

static void test_duplicate_keys(void **state)
{
    (void)state;
    bad("a: 1\nb: 2\na: 3\n", "line 3, column 1: duplicate key \"a\"");
    bad("top:\n  x: 1\n  y: 2\n  x: 3\n", "line 4, column 3: duplicate key \"x\"");
    bad("m: {k: 1, k: 2}\n", "line 1, column 11: duplicate key \"k\"");
    /* "1" and 1 are the same JSON key */
    bad("\"1\": a\n1: b\n", "line 2, column 1: duplicate key \"1\"");
    /* same key in different mappings is fine */
    cJSON *r = ok("a: {k: 1}\nb: {k: 2}\n");
    cJSON_Delete(r);
}

static void test_duplicate_key_in_big_mapping(void **state)
{
    (void)state;
    size_t n = 5000;
    char *text = malloc(n * 16 + 32);
    size_t o = 0;
    for (size_t i = 0; i < n; i++)
        o += (size_t)sprintf(text + o, "k%zu: %zu\n", i, i);
    cJSON *r = ok(text);
    assert_int_equal(cJSON_GetArraySize(r), (int)n);
    assert_true(get(r, "k4321")->valuedouble == 4321);
    cJSON_Delete(r);
    sprintf(text + o, "k2500: x\n");
    char want[64];
    snprintf(want, sizeof want, "line %zu, column 1: duplicate key \"k2500\"", n + 1);
    bad(text, want);
    free(text);
}

static void test_anchors_and_aliases_refused(void **state)
{
    (void)state;
    bad("a: &x 1\nb: *x\n", "line 1, column 4: anchors are not supported (found anchor \"x\")");
    bad("a: &m {k: v}\n", "line 1, column 4: anchors are not supported (found anchor \"m\")");
    bad("- &s [1]\n", "line 1, column 3: anchors are not supported (found anchor \"s\")");
    /* an alias to an anchor that was never defined is still just refused */
    bad("a: 1\nb: *lol\n", "line 2, column 4: aliases are not supported (found alias \"lol\")");
    bad_prefix("base: &b {x: 1}\nd:\n  <<: *b\n", "line 1, column 7: anchors are not supported");
}

static char *nest(size_t depth, int flow)
{
    char *t = malloc(depth * (flow ? 2 : 64) + 16);
    size_t o = 0;
    if (flow) {
        for (size_t i = 0; i < depth; i++)
            t[o++] = '[';
        t[o++] = '1';
        for (size_t i = 0; i < depth; i++)
            t[o++] = ']';
    } else {
        for (size_t i = 0; i < depth; i++) {
            for (size_t j = 0; j < i; j++)
                t[o++] = ' ';
            o += (size_t)sprintf(t + o, "k:\n");
        }
        for (size_t j = 0; j < depth; j++)
            t[o++] = ' ';
        t[o++] = '1';
    }
    t[o++] = '\n';
    t[o] = '\0';
    return t;
}

static void test_depth_limit(void **state)
{
    (void)state;
    for (int flow = 0; flow < 2; flow++) {
        char *t = nest(ASC_YAML_MAX_DEPTH, flow);
        cJSON *r = ok(t);
        cJSON_Delete(r);
        free(t);
        t = nest(ASC_YAML_MAX_DEPTH + 1, flow);
        bad_prefix(t, "line ");
        assert_non_null(strstr(err, "nesting deeper than 64 levels"));
        free(t);
    }
    bad("[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]"
        "]]]]]]]]]]]]]]]]"
        "]]]]]]]]]]]]]]]]]]]]]]]]]",
        "line 1, column 65: nesting deeper than 64 levels");
    /* a very deep document is refused without recursing */
    char *t = nest(200000, 1);
    bad_prefix(t, "line 1, column 65: nesting deeper");
    free(t);
}

static void test_multiple_documents_refused(void **state)
{
    (void)state;
    bad("a: 1\n---\nb: 2\n", "line 2, column 1: multiple documents are not supported");
    bad("---\na: 1\n...\n---\nb: 2\n", "line 4, column 1: multiple documents are not supported");
}

static void test_syntax_errors_have_line_and_column(void **state)
{
    (void)state;
    bad_prefix("a: 1\nb: [1, 2\nc: 3\n", "line 3, column 2: ");
    bad_prefix("a: 1\n  b: 2\n", "line 2, column 4: ");
    bad_prefix("a: 1\nb: \"unterminated\n", "line 3, column 1: ");
    bad_prefix("a:\n\tb: 1\n", "line 2, column 1: ");
    /* invalid UTF-8 is a reader error, reported at its byte */
    bad_prefix("ok: 1\nbad: \xff\n", "line 2, column 6: ");
}

static void test_big_integers(void **state)
{
    (void)state;
    cJSON *r = ok("max: 9007199254740992\nmin: -9007199254740992\nhex: 0x20000000000000\n"
                  "near: 9007199254740991\nflt: 1e300\n");
    assert_true(get(r, "max")->valuedouble == 9007199254740992.0);
    assert_true(get(r, "min")->valuedouble == -9007199254740992.0);
    assert_true(get(r, "hex")->valuedouble == 9007199254740992.0);
    /* exact: an odd value near the limit survives */
    assert_true(get(r, "near")->valuedouble == 9007199254740991.0);
    assert_true(get(r, "flt")->valuedouble == 1e300);
    cJSON_Delete(r);
    bad("a: 9007199254740993\n",
        "line 1, column 4: integer \"9007199254740993\" is out of range (the limit is +-2^53)");
    bad("a: -9007199254740993\n",
        "line 1, column 4: integer \"-9007199254740993\" is out of range (the limit is +-2^53)");
    bad("a: 0x20000000000001\n",
        "line 1, column 4: integer \"0x20000000000001\" is out of range (the limit is +-2^53)");
    bad_prefix("a: 0o400000000000000001\n", "line 1, column 4: integer");
    bad_prefix("a: 123456789012345678901234567890\n", "line 1, column 4: integer");
    /* quoted, it is just a string */
    r = ok("a: \"9007199254740993\"\n");
    assert_string_equal(get(r, "a")->valuestring, "9007199254740993");
    cJSON_Delete(r);
}

static void test_inf_nan_refused(void **state)
{
    (void)state;
    bad("a: .inf\n", "line 1, column 4: .inf is not supported");
    bad("a: -.Inf\n", "line 1, column 4: .inf is not supported");
    bad("a: +.INF\n", "line 1, column 4: .inf is not supported");
    bad("a: .nan\n", "line 1, column 4: .nan is not supported");
    bad("a: .NaN\n", "line 1, column 4: .nan is not supported");
    bad("a: 1e999\n", "line 1, column 4: number \"1e999\" is out of range");
}

static void test_non_scalar_keys_refused(void **state)
{
    (void)state;
    bad("{[a]: b}\n", "line 1, column 2: mapping keys must be scalars, not sequences");
    bad("? {a: 1}\n: b\n", "line 1, column 3: mapping keys must be scalars, not mappings");
}

static void test_tags_and_nul(void **state)
{
    (void)state;
    bad("a: !!int 3\n", "line 1, column 4: tag \"tag:yaml.org,2002:int\" is not supported (quote "
                        "the value instead)");
    bad("a: !custom x\n",
        "line 1, column 4: tag \"!custom\" is not supported (quote the value instead)");
    bad("a: !!set {x: null}\n", "line 1, column 4: tag \"tag:yaml.org,2002:set\" is not supported");
    bad("a: \"x\\0y\"\n", "line 1, column 4: strings may not contain a NUL character");
    cJSON *r = ok("a: !!map {b: !!seq [1]}\n");
    assert_true(cJSON_IsArray(get(get(r, "a"), "b")));
    cJSON_Delete(r);
}

static void test_length_is_honoured(void **state)
{
    (void)state;
    /* the text need not be NUL-terminated: only len bytes are read */
    const char text[] = "a: 1\nb: 2\nGARBAGE: [";
    cJSON *r = asc_yaml_parse(text, 10, err, sizeof err);
    assert_non_null(r);
    assert_int_equal(cJSON_GetArraySize(r), 2);
    cJSON_Delete(r);
}

static void test_size_limit(void **state)
{
    (void)state;
    size_t n = ASC_YAML_MAX_BYTES + 1;
    char *t = malloc(n);
    memset(t, '#', n);
    t[n - 1] = '\n';
    assert_null(asc_yaml_parse(t, n, err, sizeof err));
    assert_string_equal(err, "document is larger than 4194304 bytes");
    /* exactly at the limit is accepted (a comment-only document) */
    cJSON *r = asc_yaml_parse(t, n - 1, err, sizeof err);
    assert_non_null(r);
    assert_true(cJSON_IsNull(r));
    cJSON_Delete(r);
    free(t);
}

static void test_error_buffer_bounds(void **state)
{
    (void)state;
    char small[12];
    memset(small, 'Z', sizeof small);
    assert_null(asc_yaml_parse("a: 1\na: 2\n", 10, small, sizeof small));
    assert_int_equal(strlen(small), sizeof small - 1);
    assert_null(asc_yaml_parse("a: 1\na: 2\n", 10, NULL, 0));
}

static void test_control_chars_escaped_in_messages(void **state)
{
    (void)state;
    bad("\"a\\x1b[31m\": 1\n\"a\\x1b[31m\": 2\n", "line 2, column 1: duplicate key \"a\\x1b[31m\"");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plain_scalar_types),
        cmocka_unit_test(test_quoted_and_block_scalars_are_strings),
        cmocka_unit_test(test_collections_and_order),
        cmocka_unit_test(test_empty_document_is_null),
        cmocka_unit_test(test_explicit_single_document_ok),
        cmocka_unit_test(test_duplicate_keys),
        cmocka_unit_test(test_duplicate_key_in_big_mapping),
        cmocka_unit_test(test_anchors_and_aliases_refused),
        cmocka_unit_test(test_depth_limit),
        cmocka_unit_test(test_multiple_documents_refused),
        cmocka_unit_test(test_syntax_errors_have_line_and_column),
        cmocka_unit_test(test_big_integers),
        cmocka_unit_test(test_inf_nan_refused),
        cmocka_unit_test(test_non_scalar_keys_refused),
        cmocka_unit_test(test_tags_and_nul),
        cmocka_unit_test(test_length_is_honoured),
        cmocka_unit_test(test_size_limit),
        cmocka_unit_test(test_error_buffer_bounds),
        cmocka_unit_test(test_control_chars_escaped_in_messages),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

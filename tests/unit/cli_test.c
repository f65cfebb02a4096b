/* Unit tests for src/cli: --set parsing, request bodies, sanitizing, table
 * and JSON rendering, the apply/diff plan, error lines, option handling. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <cmocka.h>

#include "cli/cli.h"
#include "cli/internal.h"

/* ---- helpers ---- */

/* The compact JSON of --set field=value. */
static char *set_json(const char *assignment)
{
    char err[256];
    cJSON *o = cJSON_CreateObject();
    assert_int_equal(asc_cli_set_apply(o, assignment, err, sizeof err), ASC_OK);
    char *s = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    return s;
}

static void assert_set(const char *assignment, const char *want)
{
    char *got = set_json(assignment);
    if (strcmp(got, want) != 0)
        fail_msg("--set %s: got %s, want %s", assignment, got, want);
    cJSON_free(got);
}

static void assert_set_fails(const char *assignment, const char *err_has)
{
    char err[256] = "";
    cJSON *o = cJSON_CreateObject();
    asc_err_t e = asc_cli_set_apply(o, assignment, err, sizeof err);
    cJSON_Delete(o);
    if (e != ASC_EINVAL)
        fail_msg("--set %s: accepted", assignment);
    if (strstr(err, err_has) == NULL)
        fail_msg("--set %s: error \"%s\" lacks \"%s\"", assignment, err, err_has);
}

static char *sanitized(const char *s, size_t n)
{
    asc_buf_t b;
    asc_buf_init(&b, 0);
    assert_int_equal(asc_cli_sanitize(&b, s, n), ASC_OK);
    assert_int_equal(asc_buf_putc(&b, '\0'), ASC_OK); /* data non-NULL even when empty */
    return asc_buf_take(&b, NULL);
}

static void assert_sanitized(const char *in, size_t n, const char *want)
{
    char *got = sanitized(in, n);
    assert_string_equal(got, want);
    free(got);
}

static void assert_lines_ok(const char *text)
{
    for (const unsigned char *p = (const unsigned char *)text; *p != '\0'; p++)
        if ((*p < 0x20 && *p != '\n') || *p == 0x7f)
            fail_msg("control byte 0x%02x in output:\n%s", *p, text);
}

static cJSON *parse(const char *json)
{
    cJSON *v = cJSON_Parse(json);
    assert_non_null(v);
    return v;
}

static void assert_list(const char *kind, const char *items_json, const char *want)
{
    cJSON *items = parse(items_json);
    asc_buf_t b;
    asc_buf_init(&b, 0);
    assert_int_equal(asc_cli_table_list(&b, kind, items), ASC_OK);
    if (strcmp(b.data, want) != 0)
        fail_msg("table %s:\n--- got\n%s--- want\n%s", kind, b.data, want);
    asc_buf_free(&b);
    cJSON_Delete(items);
}

static void assert_plan(const char *resp_json, int dry_run, const char *want, size_t want_n,
                        int want_exit)
{
    cJSON *resp = parse(resp_json);
    asc_buf_t b;
    size_t n = 99;
    asc_buf_init(&b, 0);
    assert_int_equal(asc_cli_plan_render(&b, resp, dry_run, &n), ASC_OK);
    if (strcmp(b.data, want) != 0)
        fail_msg("plan:\n--- got\n%s--- want\n%s", b.data, want);
    assert_int_equal(n, want_n);
    assert_int_equal(asc_cli_plan_exit(dry_run, n), want_exit);
    asc_buf_free(&b);
    cJSON_Delete(resp);
}

/* ---- --set ---- */

static void test_set_scalars(void **state)
{
    (void)state;
    assert_set("description=hello world", "{\"description\":\"hello world\"}");
    assert_set("description=", "{\"description\":\"\"}");
    assert_set("x=a=b", "{\"x\":\"a=b\"}");
    assert_set("rpm=100", "{\"rpm\":100}");
    assert_set("x=-1.5e3", "{\"x\":-1.5e3}");
    assert_set("x=0", "{\"x\":0}");
    /* numbers are kept as written: no rounding through a double */
    assert_set("x=1.10", "{\"x\":1.10}");
    assert_set("x=12345678901234567890", "{\"x\":12345678901234567890}");
    /* not JSON numbers: strings (names like 007 stay names) */
    assert_set("name=007", "{\"name\":\"007\"}");
    assert_set("x=+1", "{\"x\":\"+1\"}");
    assert_set("x=1.", "{\"x\":\"1.\"}");
    assert_set("x=.5", "{\"x\":\".5\"}");
    assert_set("x=0x10", "{\"x\":\"0x10\"}");
    assert_set("x=1_000", "{\"x\":\"1_000\"}");
    assert_set("x=1e", "{\"x\":\"1e\"}");
    assert_set("x=-", "{\"x\":\"-\"}");
    assert_set("revoked=true", "{\"revoked\":true}");
    assert_set("revoked=false", "{\"revoked\":false}");
    assert_set("team=null", "{\"team\":null}");
    assert_set("x=True", "{\"x\":\"True\"}");
    assert_set("x=yes", "{\"x\":\"yes\"}");
}

static void test_set_json_values(void **state)
{
    (void)state;
    assert_set("name=\"007\"", "{\"name\":\"007\"}");
    assert_set("x=\"true\"", "{\"x\":\"true\"}");
    assert_set("x=[1, \"a\"]", "{\"x\":[1,\"a\"]}");
    assert_set("limits={\"rpm\": 5}", "{\"limits\":{\"rpm\":5}}");
    assert_set_fails("x=[abc", "not valid JSON");
    assert_set_fails("x={a:1}", "not valid JSON");
    assert_set_fails("x=\"unterminated", "not valid JSON");
    assert_set_fails("x=[1] trailing", "not valid JSON");
}

static void test_set_lists(void **state)
{
    (void)state;
    assert_set("models=gpt-4o,mock-*", "{\"models\":[\"gpt-4o\",\"mock-*\"]}");
    assert_set("models= a , b ,,c,", "{\"models\":[\"a\",\"b\",\"c\"]}");
    assert_set("models=*", "{\"models\":[\"*\"]}");
    assert_set("models=", "{\"models\":[]}");
    assert_set("regions=eu-west-1", "{\"regions\":[\"eu-west-1\"]}");
    /* a list field's items are strings even when they look like numbers */
    assert_set("regions=1,true", "{\"regions\":[\"1\",\"true\"]}");
    assert_set("models=null", "{\"models\":null}");
    assert_set("models=[\"x\"]", "{\"models\":[\"x\"]}");
    /* other fields are not split */
    assert_set("description=a,b", "{\"description\":\"a,b\"}");
}

static void test_set_nested(void **state)
{
    (void)state;
    char err[256];
    cJSON *o = cJSON_CreateObject();
    assert_int_equal(asc_cli_set_apply(o, "limits.rpm=100", err, sizeof err), ASC_OK);
    assert_int_equal(asc_cli_set_apply(o, "limits.tpm=5000", err, sizeof err), ASC_OK);
    assert_int_equal(asc_cli_set_apply(o, "a.b.c=x", err, sizeof err), ASC_OK);
    assert_int_equal(asc_cli_set_apply(o, "limits.rpm=200", err, sizeof err), ASC_OK);
    assert_int_equal(asc_cli_set_apply(o, "limits.models=a,b", err, sizeof err), ASC_OK);
    char *s = cJSON_PrintUnformatted(o);
    assert_string_equal(s, "{\"limits\":{\"rpm\":200,\"tpm\":5000,\"models\":[\"a\",\"b\"]},"
                           "\"a\":{\"b\":{\"c\":\"x\"}}}");
    cJSON_free(s);
    /* crossing a value that is not an object */
    assert_int_equal(asc_cli_set_apply(o, "limits.rpm.x=1", err, sizeof err), ASC_EINVAL);
    assert_non_null(strstr(err, "rpm"));
    cJSON_Delete(o);

    assert_set_fails("novalue", "field=value");
    assert_set_fails("=x", "field name");
    assert_set_fails(".a=1", "empty field");
    assert_set_fails("a..b=1", "empty field");
    assert_set_fails("a.=1", "empty field");
    assert_set_fails("a b=1", "letters");
    assert_set_fails("a\x1b=1", "letters");
    assert_set_fails("a.b.c.d.e.f.g.h.i.j.k.l.m.n.o.p.q=1", "nested");
}

static void test_body_build(void **state)
{
    (void)state;
    char err[256];
    cJSON *body = NULL;
    char *sets[] = {"limits.rpm=7", "models=a"};
    assert_int_equal(asc_cli_body_build("{\"description\":\"f\",\"limits\":{\"rpm\":1,\"tpm\":2}}",
                                        "{\"description\":\"j\",\"regions\":[\"eu\"]}", sets, 2,
                                        &body, err, sizeof err),
                     ASC_OK);
    char *s = cJSON_PrintUnformatted(body);
    assert_string_equal(s, "{\"description\":\"j\",\"limits\":{\"rpm\":7,\"tpm\":2},"
                           "\"regions\":[\"eu\"],\"models\":[\"a\"]}");
    cJSON_free(s);
    cJSON_Delete(body);

    assert_int_equal(asc_cli_body_build(NULL, NULL, NULL, 0, &body, err, sizeof err), ASC_OK);
    assert_null(body->child);
    cJSON_Delete(body);

    assert_int_equal(asc_cli_body_build("[1]", NULL, NULL, 0, &body, err, sizeof err), ASC_EINVAL);
    assert_null(body);
    assert_non_null(strstr(err, "-f"));
    assert_int_equal(asc_cli_body_build(NULL, "{bad", NULL, 0, &body, err, sizeof err), ASC_EINVAL);
    assert_non_null(strstr(err, "--json"));
    assert_non_null(strstr(err, "not valid JSON"));
    char *bad[] = {"x"};
    assert_int_equal(asc_cli_body_build(NULL, NULL, bad, 1, &body, err, sizeof err), ASC_EINVAL);
    assert_null(body);
}

/* ---- terminal safety ---- */

static void test_sanitize(void **state)
{
    (void)state;
    assert_sanitized("plain", 5, "plain");
    assert_sanitized("a\x1b[2Jb", 6, "a?[2Jb");
    assert_sanitized("a\nb\rc\td", 7, "a?b?c?d");
    assert_sanitized("x\x7fy", 3, "x?y");
    assert_sanitized("nul\0x", 5, "nul?x");
    assert_sanitized("h\xc3\xa9llo \xe2\x9c\x93 \xf0\x9f\x98\x80", 15,
                     "h\xc3\xa9llo \xe2\x9c\x93 \xf0\x9f\x98\x80");
    assert_sanitized("c1\xc2\x9b"
                     "31m",
                     7, "c1?31m");                  /* U+009B CSI */
    assert_sanitized("r\xe2\x80\xaetl", 6, "r?tl"); /* U+202E RLO */
    assert_sanitized("i\xe2\x81\xa6x", 5, "i?x");   /* U+2066 LRI */
    assert_sanitized("l\xe2\x80\xa8s", 5, "l?s");   /* U+2028 */
    assert_sanitized("\xef\xbb\xbf"
                     "bom",
                     6, "?bom"); /* U+FEFF */
    assert_sanitized("bad\xff\xfe", 5, "bad??");
    assert_sanitized("over\xc0\xaf", 6, "over??");    /* overlong '/' */
    assert_sanitized("sur\xed\xa0\x80", 6, "sur???"); /* surrogate */
    assert_sanitized("cut\xe2\x82", 5, "cut??");      /* truncated */
    assert_sanitized("", 0, "");
    assert_int_equal(asc_cli_width("h\xc3\xa9llo"), 5);
    assert_int_equal(asc_cli_width(""), 0);
}

static void test_cell_text(void **state)
{
    (void)state;
    cJSON *v = parse("{\"s\":\"x\",\"n\":3,\"f\":1.5,\"t\":true,\"z\":null,\"a\":[\"a\",1,false],"
                     "\"e\":[],\"o\":{\"k\":[1]},\"ao\":[{\"p\":1}]}");
    static const char *const want[][2] = {
        {"s", "x"},      {"n", "3"},           {"f", "1.5"},
        {"t", "true"},   {"z", "-"},           {"a", "a,1,false"},
        {"e", ""},       {"o", "{\"k\":[1]}"}, {"ao", "[{\"p\":1}]"},
        {"missing", "-"}};
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        asc_buf_t b;
        asc_buf_init(&b, 0);
        assert_int_equal(asc_cli_cell_text(&b, cJSON_GetObjectItemCaseSensitive(v, want[i][0])),
                         ASC_OK);
        assert_string_equal(b.data != NULL ? b.data : "", want[i][1]);
        asc_buf_free(&b);
    }
    cJSON_Delete(v);
}

static void test_grid_widths(void **state)
{
    (void)state;
    const char *cells[] = {"NAME", "MODELS",    "X", "a", "gpt-4o,mock-*", "1", "longer-name", "",
                           "22",   "h\xc3\xa9", "m", NULL};
    asc_buf_t b;
    asc_buf_init(&b, 0);
    assert_int_equal(asc_cli_grid(&b, cells, 3, 4), ASC_OK);
    assert_string_equal(b.data, "NAME         MODELS         X\n"
                                "a            gpt-4o,mock-*  1\n"
                                "longer-name                 22\n"
                                "h\xc3\xa9           m\n");
    asc_buf_free(&b);

    /* a control character cannot break a row, and counts as one column */
    const char *evil[] = {"A", "B", "x\n\x1b[2J", "y", "z", "w"};
    asc_buf_init(&b, 0);
    assert_int_equal(asc_cli_grid(&b, evil, 2, 3), ASC_OK);
    assert_string_equal(b.data, "A       B\n"
                                "x??[2J  y\n"
                                "z       w\n");
    asc_buf_free(&b);

    asc_buf_init(&b, 0);
    assert_int_equal(asc_cli_grid(&b, NULL, 2, 0), ASC_OK);
    assert_int_equal(b.len, 0);
    asc_buf_free(&b);
}

static void test_table_kinds(void **state)
{
    (void)state;
    assert_list("tenants",
                "[{\"name\":\"acme\",\"models\":[\"gpt-4o\",\"mock-*\"],\"regions\":[\"eu\"],"
                "\"meta\":{\"managed_by\":\"api\",\"updated_at\":\"2025-01-02T03:04:05Z\"}},"
                "{\"name\":\"b\",\"meta\":{\"managed_by\":\"file:/etc/asc.yaml\"}}]",
                "NAME  MODELS         REGIONS  MANAGED_BY          UPDATED\n"
                "acme  gpt-4o,mock-*  eu       api                 2025-01-02T03:04:05Z\n"
                "b     -              -        file:/etc/asc.yaml  -\n");
    assert_list("keys",
                "[{\"name\":\"ci\",\"tenant\":\"acme\",\"team\":\"ml\",\"owner\":\"bob\","
                "\"key_hint\":\"...abcd\",\"expires_at\":null,\"revoked\":false,"
                "\"last_used_at\":\"2025-01-01T00:00:00Z\"}]",
                "NAME  TENANT  TEAM  OWNER  HINT     EXPIRES  REVOKED  LAST_USED\n"
                "ci    acme    ml    bob    ...abcd  -        false    2025-01-01T00:00:00Z\n");
    assert_list(
        "credentials",
        "[{\"name\":\"oa\",\"provider\":\"openai\",\"tenant\":\"acme\",\"last4\":\"wxyz\"}]",
        "NAME  PROVIDER  TENANT  LAST4  UPDATED\n"
        "oa    openai    acme    wxyz   -\n");
    assert_list("routes",
                "[{\"name\":\"gpt-4o\",\"provider\":\"openai\"},"
                "{\"name\":\"chat\",\"targets\":[{\"provider\":\"openai\",\"model\":\"gpt-4o\"},"
                "{\"provider\":\"vllm\",\"model\":\"meta/llama\"}],\"fallbacks\":[{\"provider\":"
                "\"anthropic\",\"model\":\"claude\"}],\"type\":\"chat\"}]",
                "NAME    TYPE  TARGETS                        FALLBACKS         MANAGED_BY  "
                "UPDATED\n"
                "gpt-4o  -     openai/gpt-4o                  -                 -           -\n"
                "chat    chat  openai/gpt-4o,vllm/meta/llama  anthropic/claude  -           -\n");
    assert_list("whatever", "[{\"name\":\"n\",\"updated_at\":\"t\"}]",
                "NAME  UPDATED\n"
                "n     t\n");
    assert_list("changes",
                "[{\"revision\":7,\"at\":\"t1\",\"actor\":\"admin\",\"action\":\"update\","
                "\"kind\":\"key\",\"name\":\"ci\",\"tenant\":\"acme\"}]",
                "REVISION  TIME  ACTOR  ACTION  KIND  NAME  TENANT\n"
                "7         t1    admin  update  key   ci    acme\n");
    /* empty list: the header only */
    assert_list("teams", "[]", "NAME  TENANT  MODELS  REGIONS  MANAGED_BY  UPDATED\n");
}

static void test_table_hostile_values(void **state)
{
    (void)state;
    cJSON *items = parse("[{\"name\":\"evil\\n\\u001b[2Jfake  row\",\"models\":[\"a\\rb\","
                         "\"\\u009b31m\"],\"regions\":[\"\\u202eue\"]}]");
    asc_buf_t b;
    asc_buf_init(&b, 0);
    assert_int_equal(asc_cli_table_list(&b, "tenants", items), ASC_OK);
    assert_lines_ok(b.data);
    assert_null(strstr(b.data, "\xc2\x9b"));
    assert_null(strstr(b.data, "\xe2\x80\xae"));
    size_t lines = 0;
    for (const char *p = b.data; *p != '\0'; p++)
        lines += *p == '\n';
    assert_int_equal(lines, 2);
    assert_non_null(strstr(b.data, "evil??[2Jfake  row"));
    assert_non_null(strstr(b.data, "a?b,?31m"));
    asc_buf_free(&b);
    cJSON_Delete(items);
}

static void test_table_object(void **state)
{
    (void)state;
    cJSON *o = parse("{\"name\":\"acme\",\"models\":[\"a\",\"b\"],\"limits\":{\"rpm\":100},"
                     "\"targets\":[{\"provider\":\"p\",\"model\":\"m\"}],\"empty\":{},"
                     "\"secret\":\"s3cr3t\",\"description\":\"x\\u001by\"}");
    static const char *const skip[] = {"secret", NULL};
    asc_buf_t b;
    asc_buf_init(&b, 0);
    assert_int_equal(asc_cli_table_object(&b, o, skip), ASC_OK);
    assert_string_equal(b.data, "name                 acme\n"
                                "models               a,b\n"
                                "limits.rpm           100\n"
                                "targets[0].provider  p\n"
                                "targets[0].model     m\n"
                                "empty                {}\n"
                                "description          x?y\n");
    asc_buf_free(&b);
    cJSON_Delete(o);
}

static void test_json_pretty(void **state)
{
    (void)state;
    cJSON *v = parse("{\"a\":[1,2.5,\"x\"],\"b\":{},\"c\":[],\"d\":{\"e\":null,\"f\":true},"
                     "\"g\":\"esc\\u001b\\n\\\"\\u009b\\u202e\xc3\xa9\",\"h\":-3e100}");
    cJSON_AddItemToObject(v, "raw", cJSON_CreateRaw("1.10"));
    asc_buf_t b;
    asc_buf_init(&b, 0);
    assert_int_equal(asc_cli_json_pretty(&b, v), ASC_OK);
    assert_string_equal(b.data, "{\n"
                                "  \"a\": [\n"
                                "    1,\n"
                                "    2.5,\n"
                                "    \"x\"\n"
                                "  ],\n"
                                "  \"b\": {},\n"
                                "  \"c\": [],\n"
                                "  \"d\": {\n"
                                "    \"e\": null,\n"
                                "    \"f\": true\n"
                                "  },\n"
                                "  \"g\": \"esc\\u001b\\n\\\"\\u009b\\u202e\xc3\xa9\",\n"
                                "  \"h\": -3e+100,\n"
                                "  \"raw\": 1.10\n"
                                "}\n");
    /* the output is the same JSON */
    cJSON *back = cJSON_Parse(b.data);
    assert_non_null(back);
    cJSON_Delete(back);
    asc_buf_free(&b);
    cJSON_Delete(v);
}

/* ---- apply / diff ---- */

static void test_plan(void **state)
{
    (void)state;
    static const char changes[] =
        "{\"revision\":%s,\"changes\":["
        "{\"kind\":\"tenant\",\"name\":\"acme\",\"action\":\"create\",\"drift\":false,"
        "\"fields\":[]},"
        "{\"kind\":\"key\",\"name\":\"ci\",\"action\":\"update\",\"drift\":false,"
        "\"fields\":[\"models\",\"regions\"]},"
        "{\"kind\":\"team\",\"name\":\"ml\",\"action\":\"update\",\"drift\":true,"
        "\"fields\":[\"limits\"]},"
        "{\"kind\":\"user\",\"name\":\"same\",\"action\":\"unchanged\",\"drift\":false},"
        "{\"kind\":\"route\",\"name\":\"old\",\"action\":\"delete\",\"drift\":false}]}";
    static const char lines[] = "+ tenant acme\n"
                                "~ key ci (models, regions)\n"
                                "~ team ml (limits) (drift: edited outside the file)\n"
                                "- route old\n";
    char resp[1024], want[1024];

    snprintf(resp, sizeof resp, changes, "12");
    snprintf(want, sizeof want, "%srevision 12\n", lines);
    assert_plan(resp, 0, want, 4, ASC_CLI_EXIT_OK);

    snprintf(resp, sizeof resp, changes, "null");
    snprintf(want, sizeof want, "%s4 changes (dry run, nothing applied)\n", lines);
    assert_plan(resp, 1, want, 4, ASC_CLI_EXIT_CHANGES);

    static const char none[] = "{\"revision\":null,\"changes\":[{\"kind\":\"tenant\","
                               "\"name\":\"acme\",\"action\":\"unchanged\",\"drift\":false}]}";
    assert_plan(none, 1, "no changes\n", 0, ASC_CLI_EXIT_OK);
    assert_plan(none, 0, "no changes\n", 0, ASC_CLI_EXIT_OK);
    assert_plan("{\"revision\":null,\"changes\":[]}", 1, "no changes\n", 0, ASC_CLI_EXIT_OK);

    /* one change, an action this client does not know, hostile names */
    assert_plan("{\"revision\":null,\"changes\":[{\"kind\":\"key\",\"name\":\"a\\nb\","
                "\"action\":\"rename\",\"fields\":[\"x\\u001b\"]}]}",
                1, "? key a?b (rename) (x?)\n1 change (dry run, nothing applied)\n", 1,
                ASC_CLI_EXIT_CHANGES);

    /* not a plan */
    cJSON *bad = parse("{\"revision\":1}");
    asc_buf_t b;
    size_t n;
    asc_buf_init(&b, 0);
    assert_int_equal(asc_cli_plan_render(&b, bad, 0, &n), ASC_EINVAL);
    asc_buf_free(&b);
    cJSON_Delete(bad);
}

/* ---- errors ---- */

static void test_error_text(void **state)
{
    (void)state;
    static const char body[] =
        "{\"error\":{\"type\":\"invalid_request_error\",\"code\":\"file_managed\","
        "\"message\":\"tenant acme is managed by file:/etc/asc.yaml\\u001b[2J\"}}";
    asc_buf_t b;
    asc_buf_init(&b, 0);
    assert_int_equal(asc_cli_error_text(&b, 409, body, strlen(body), "http://h/admin/v1/x"),
                     ASC_OK);
    assert_string_equal(b.data,
                        "asc: file_managed: tenant acme is managed by file:/etc/asc.yaml?[2J");
    asc_buf_clear(&b);
    assert_int_equal(asc_cli_error_text(&b, 502, "<html>", 6, "http://h/admin/v1/x"), ASC_OK);
    assert_string_equal(b.data, "asc: HTTP 502 from http://h/admin/v1/x");
    asc_buf_clear(&b);
    assert_int_equal(asc_cli_error_text(&b, 500, NULL, 0, "u"), ASC_OK);
    assert_string_equal(b.data, "asc: HTTP 500 from u");
    asc_buf_free(&b);
}

/* ---- HTTP helpers (no network) ---- */

static void test_http_paths(void **state)
{
    (void)state;
    char err[256];
    asc_cli_http_t h;
    asc_buf_t b;
    assert_int_equal(asc_cli_http_open(&h, "http://127.0.0.1:8081//", "tok", err, sizeof err),
                     ASC_OK);
    assert_string_equal(h.base, "http://127.0.0.1:8081");
    assert_string_equal(h.auth_hdr, "Authorization: Bearer tok");
    asc_buf_init(&b, 0);
    assert_int_equal(asc_cli_http_path(&h, &b, "keys", "a b/../c?d#e", "rotate"), ASC_OK);
    assert_string_equal(b.data, "/admin/v1/keys/a%20b%2F..%2Fc%3Fd%23e/rotate");
    asc_buf_clear(&b);
    assert_int_equal(asc_cli_http_path(&h, &b, "tenants", NULL, NULL), ASC_OK);
    assert_int_equal(asc_cli_http_query(&h, &b, "prefix", "a&b=c d"), ASC_OK);
    assert_int_equal(asc_cli_http_query(&h, &b, "limit", "5"), ASC_OK);
    assert_string_equal(b.data, "/admin/v1/tenants?prefix=a%26b%3Dc%20d&limit=5");
    asc_buf_free(&b);
    asc_cli_http_close(&h);

    assert_int_equal(asc_cli_http_open(&h, "https://x", NULL, err, sizeof err), ASC_OK);
    assert_null(h.auth_hdr);
    asc_cli_http_close(&h);
    assert_int_equal(asc_cli_http_open(&h, "ftp://x", NULL, err, sizeof err), ASC_EINVAL);
    assert_int_equal(asc_cli_http_open(&h, "http://x\r\nHost: y", NULL, err, sizeof err),
                     ASC_EINVAL);
    assert_int_equal(asc_cli_http_open(&h, "http://x", "tok\r\nX-Evil: 1", err, sizeof err),
                     ASC_EINVAL);
    assert_null(strstr(err, "Evil"));
}

/* ---- the command line (nothing here reaches a server) ---- */

static int run(const char *cmd, ...)
{
    char *argv[32];
    int argc = 0;
    va_list ap;
    va_start(ap, cmd);
    for (char *a = va_arg(ap, char *); a != NULL && argc < 31; a = va_arg(ap, char *))
        argv[argc++] = a;
    va_end(ap);
    argv[argc] = NULL;
    return asc_cli_main(cmd, argc, argv);
}

static void test_handles(void **state)
{
    (void)state;
    static const char *const yes[] = {"tenants",   "teams",  "users",  "keys",      "credentials",
                                      "providers", "routes", "tokens", "revisions", "changes",
                                      "apply",     "diff",   "whoami"};
    for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++)
        assert_int_equal(asc_cli_handles(yes[i]), 1);
    assert_int_equal(asc_cli_handles("serve"), 0);
    assert_int_equal(asc_cli_handles("tenant"), 0);
    assert_int_equal(asc_cli_handles(""), 0);
    assert_int_equal(asc_cli_handles(NULL), 0);
    assert_non_null(strstr(asc_cli_usage, "asc diff -f FILE"));
}

static void test_usage_errors(void **state)
{
    (void)state;
    /* none of these may touch the network: the admin URL is unroutable on purpose */
    setenv("ASC_ADMIN_URL", "http://192.0.2.1:9", 1);
    assert_int_equal(run("nope", NULL), ASC_CLI_EXIT_USAGE);
    assert_int_equal(run("tenants", NULL), ASC_CLI_EXIT_USAGE);
    assert_int_equal(run("tenants", "frobnicate", NULL), ASC_CLI_EXIT_USAGE);
    assert_int_equal(run("tenants", "get", NULL), ASC_CLI_EXIT_USAGE);
    assert_int_equal(run("tenants", "get", "a", "b", NULL), ASC_CLI_EXIT_USAGE);
    assert_int_equal(run("tenants", "rotate", "a", NULL), ASC_CLI_EXIT_USAGE);
    assert_int_equal(run("tenants", "list", "--limit", "0", NULL), ASC_CLI_EXIT_USAGE);
    assert_int_equal(run("tenants", "list", "--limit", "501", NULL), ASC_CLI_EXIT_USAGE);
    assert_int_equal(run("tenants", "list", "--limit", NULL), ASC_CLI_EXIT_USAGE);
    assert_int_equal(run("tenants", "list", "--set", "a=1", NULL), ASC_CLI_EXIT_USAGE);
    assert_int_equal(run("tenants", "list", "--all=1", NULL), ASC_CLI_EXIT_USAGE);
    assert_int_equal(run("tenants", "create", NULL), ASC_CLI_EXIT_USAGE);
    assert_int_equal(run("tenants", "create", "a", "--set", "novalue", NULL), ASC_CLI_EXIT_USAGE);
    assert_int_equal(run("tenants", "create", "a", "--json", "{\"name\":\"b\"}", NULL),
                     ASC_CLI_EXIT_USAGE);
    assert_int_equal(run("tenants", "update", "a", NULL), ASC_CLI_EXIT_USAGE);
    assert_int_equal(run("tenants", "update", "a", "--json", "[1]", NULL), ASC_CLI_EXIT_USAGE);
    assert_int_equal(run("keys", "rotate", "a", "--overlap", "-1", NULL), ASC_CLI_EXIT_USAGE);
    assert_int_equal(run("keys", "rotate", "a", "--overlap", "2592001", NULL), ASC_CLI_EXIT_USAGE);
    assert_int_equal(run("keys", "list", "--output", "yaml", NULL), ASC_CLI_EXIT_USAGE);
    assert_int_equal(run("keys", "list", "-o", NULL), ASC_CLI_EXIT_USAGE);
    assert_int_equal(run("keys", "list", "--admin", "ftp://x", NULL), ASC_CLI_EXIT_USAGE);
    assert_int_equal(run("keys", "list", "--token", "a\nb", NULL), ASC_CLI_EXIT_USAGE);
    assert_int_equal(run("diff", NULL), ASC_CLI_EXIT_USAGE);
    assert_int_equal(run("apply", "--set", "a=1", NULL), ASC_CLI_EXIT_USAGE);
    assert_int_equal(run("whoami", "extra", NULL), ASC_CLI_EXIT_USAGE);
    assert_int_equal(run("changes", "list", "--owner", "x", NULL), ASC_CLI_EXIT_USAGE);
    /* a missing file is an error, not a usage error */
    assert_int_equal(run("apply", "-f", "/nonexistent/asc.yaml", NULL), ASC_CLI_EXIT_ERROR);
    /* help goes to stdout and succeeds */
    assert_int_equal(run("keys", "--help", NULL), ASC_CLI_EXIT_OK);
    assert_int_equal(run("diff", "help", NULL), ASC_CLI_EXIT_OK);
    unsetenv("ASC_ADMIN_URL");
}

static void test_unreachable(void **state)
{
    (void)state;
    /* port 1 on loopback: connection refused at once */
    assert_int_equal(run("tenants", "list", "--admin", "http://127.0.0.1:1", NULL),
                     ASC_CLI_EXIT_ERROR);
    char path[] = "/tmp/asc_cli_test_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "tenants: []\n", 12), 12);
    close(fd);
    assert_int_equal(run("diff", "-o", "json", "--admin=http://127.0.0.1:1", "-f", path, NULL),
                     ASC_CLI_EXIT_ERROR);
    unlink(path);
}

/* ---- against a stub server: the request on the wire, the exit code ---- */

/* A one-thread HTTP server on 127.0.0.1 answering each connection with the
 * next canned reply (and "Connection: close"), recording the requests. */
typedef struct {
    int fd;
    int port;
    const char *const *replies;
    size_t nreplies;
    char req[4][8192];
    size_t nreq;
    pthread_t th;
} stub_t;

static size_t content_length(const char *head)
{
    for (const char *p = head; (p = strchr(p, '\n')) != NULL; p++)
        if (strncasecmp(p + 1, "content-length:", 15) == 0)
            return (size_t)strtoul(p + 16, NULL, 10);
    return 0;
}

static void *stub_run(void *arg)
{
    stub_t *st = arg;
    for (size_t i = 0; i < st->nreplies && i < 4; i++) {
        int c = accept(st->fd, NULL, NULL);
        if (c < 0)
            break;
        char *r = st->req[i];
        size_t n = 0;
        for (;;) {
            ssize_t k = recv(c, r + n, sizeof st->req[i] - 1 - n, 0);
            if (k <= 0)
                break;
            n += (size_t)k;
            r[n] = '\0';
            char *end = strstr(r, "\r\n\r\n");
            if (end != NULL && n >= (size_t)(end + 4 - r) + content_length(r))
                break;
        }
        st->nreq++;
        const char *reply = st->replies[i];
        if (send(c, reply, strlen(reply), 0) < 0)
            perror("stub send");
        close(c);
    }
    return NULL;
}

static void stub_start(stub_t *st, const char *const *replies, size_t n)
{
    struct sockaddr_in a;
    socklen_t alen = sizeof a;
    memset(st, 0, sizeof *st);
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    st->fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(st->fd >= 0);
    assert_int_equal(bind(st->fd, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(listen(st->fd, 4), 0);
    /* accept() gives up after 10 s, so a failing test cannot hang the suite */
    struct timeval tv = {10, 0};
    assert_int_equal(setsockopt(st->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv), 0);
    assert_int_equal(getsockname(st->fd, (struct sockaddr *)&a, &alen), 0);
    st->port = ntohs(a.sin_port);
    st->replies = replies;
    st->nreplies = n;
    assert_int_equal(pthread_create(&st->th, NULL, stub_run, st), 0);
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%d", st->port);
    setenv("ASC_ADMIN_URL", url, 1);
    setenv("ASC_ADMIN_TOKEN", "tok-123", 1);
}

static void stub_stop(stub_t *st)
{
    pthread_join(st->th, NULL);
    close(st->fd);
    unsetenv("ASC_ADMIN_URL");
    unsetenv("ASC_ADMIN_TOKEN");
}

static void assert_has(const char *text, const char *part)
{
    if (strstr(text, part) == NULL)
        fail_msg("\"%s\" not in:\n%s", part, text);
}

static char *reply(const char *status, const char *json)
{
    static char buf[8][2048];
    static int next;
    char *b = buf[next++ % 8];
    snprintf(b, sizeof buf[0],
             "HTTP/1.1 %s\r\nContent-Type: application/json\r\nConnection: close\r\n"
             "Content-Length: %zu\r\n\r\n%s",
             status, strlen(json), json);
    return b;
}

static void test_wire_create_update_delete(void **state)
{
    (void)state;
    stub_t st;
    const char *replies[] = {
        reply("201 Created", "{\"name\":\"acme\",\"meta\":{\"revision\":3}}"),
        reply("200 OK", "{\"name\":\"a b\"}"),
        "HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n",
    };
    stub_start(&st, replies, 3);
    assert_int_equal(
        run("tenants", "create", "acme", "--set", "models=a,b", "--set", "limits.rpm=100", NULL),
        ASC_CLI_EXIT_OK);
    assert_int_equal(
        run("tenants", "update", "a b", "--set", "description=x", "--if-match", "\"e1\"", NULL),
        ASC_CLI_EXIT_OK);
    assert_int_equal(run("tenants", "delete", "a/b", "--output", "json", NULL), ASC_CLI_EXIT_OK);
    stub_stop(&st);
    assert_int_equal(st.nreq, 3);
    /* create goes to the collection, with the name in the body */
    assert_has(st.req[0], "POST /admin/v1/tenants HTTP/1.1\r\n");
    assert_has(st.req[0], "\r\nAuthorization: Bearer tok-123\r\n");
    assert_has(st.req[0], "\r\nContent-Type: application/json\r\n");
    assert_has(st.req[0], "\r\n\r\n{\"name\":\"acme\",\"models\":[\"a\",\"b\"],"
                          "\"limits\":{\"rpm\":100}}");
    assert_has(st.req[1], "PATCH /admin/v1/tenants/a%20b HTTP/1.1\r\n");
    assert_has(st.req[1], "\r\nIf-Match: \"e1\"\r\n");
    assert_has(st.req[1], "\r\nContent-Type: application/merge-patch+json\r\n");
    assert_has(st.req[1], "\r\n\r\n{\"description\":\"x\"}");
    assert_has(st.req[2], "DELETE /admin/v1/tenants/a%2Fb HTTP/1.1\r\n");
}

static void test_wire_errors(void **state)
{
    (void)state;
    stub_t st;
    const char *replies[] = {
        reply("409 Conflict", "{\"error\":{\"type\":\"x\",\"code\":\"already_exists\","
                              "\"message\":\"tenant acme exists\"}}"),
        "HTTP/1.1 302 Found\r\nLocation: http://elsewhere/\r\nConnection: close\r\n"
        "Content-Length: 0\r\n\r\n",
        reply("200 OK", "not json"),
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n"
        "Content-Length: 67108865\r\n\r\n{}",
    };
    stub_start(&st, replies, 4);
    assert_int_equal(run("tenants", "create", "acme", NULL), ASC_CLI_EXIT_ERROR);
    assert_int_equal(run("whoami", NULL), ASC_CLI_EXIT_ERROR);
    assert_int_equal(run("keys", "revoke", "ci", NULL), ASC_CLI_EXIT_ERROR);
    assert_int_equal(run("whoami", NULL), ASC_CLI_EXIT_ERROR); /* over 64 MiB */
    stub_stop(&st);
    assert_int_equal(st.nreq, 4); /* the redirect was not followed */
    assert_has(st.req[1], "GET /admin/v1/whoami HTTP/1.1\r\n");
    assert_has(st.req[2], "POST /admin/v1/keys/ci/revoke HTTP/1.1\r\n");
}

static void test_wire_diff_exit(void **state)
{
    (void)state;
    char path[] = "/tmp/asc_cli_test_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "tenants:\n  - name: ${ASC_CLI_TEST_TENANT}\n", 42), 42);
    setenv("ASC_CLI_TEST_TENANT", "acme", 1);
    close(fd);
    stub_t st;
    const char *replies[] = {
        reply("200 OK", "{\"revision\":null,\"changes\":[{\"kind\":\"tenant\",\"name\":"
                        "\"acme\",\"action\":\"create\",\"drift\":false,\"fields\":[]}]}"),
        reply("200 OK", "{\"revision\":null,\"changes\":[{\"kind\":\"tenant\",\"name\":"
                        "\"acme\",\"action\":\"unchanged\",\"drift\":false}]}"),
        reply("200 OK", "{\"revision\":5,\"changes\":[{\"kind\":\"tenant\",\"name\":"
                        "\"acme\",\"action\":\"create\",\"drift\":false,\"fields\":[]}]}"),
        reply("200 OK", "{\"revision\":null,\"changes\":[{\"kind\":\"tenant\",\"name\":"
                        "\"acme\",\"action\":\"delete\"}]}"),
    };
    stub_start(&st, replies, 4);
    assert_int_equal(run("diff", "-f", path, NULL), ASC_CLI_EXIT_CHANGES);
    assert_int_equal(run("diff", "-f", path, NULL), ASC_CLI_EXIT_OK);
    assert_int_equal(run("apply", "-f", path, NULL), ASC_CLI_EXIT_OK);
    assert_int_equal(run("diff", "-f", path, "-o", "json", NULL), ASC_CLI_EXIT_CHANGES);
    stub_stop(&st);
    unlink(path);
    assert_has(st.req[0], "POST /admin/v1/apply?file=");
    assert_has(st.req[0], "&dry_run=1 HTTP/1.1\r\n");
    /* ${VAR} expanded from the caller's environment, sent as JSON */
    assert_has(st.req[0], "\r\nContent-Type: application/json\r\n");
    assert_has(st.req[0], "\r\n\r\n{\"tenants\":[{\"name\":\"acme\"}]}");
    unsetenv("ASC_CLI_TEST_TENANT");
    assert_has(st.req[2], "POST /admin/v1/apply?file=");
    assert_true(strstr(st.req[2], "dry_run") == NULL);
}

static void test_wire_list_all(void **state)
{
    (void)state;
    stub_t st;
    const char *replies[] = {
        reply("200 OK", "{\"object\":\"list\",\"data\":[{\"name\":\"a\"}],"
                        "\"next_cursor\":\"c/1 &\"}"),
        reply("200 OK", "{\"object\":\"list\",\"data\":[{\"name\":\"b\"}],"
                        "\"next_cursor\":null}"),
    };
    stub_start(&st, replies, 2);
    assert_int_equal(
        run("keys", "list", "--all", "--tenant", "acme corp", "--limit", "1", "-o", "json", NULL),
        ASC_CLI_EXIT_OK);
    stub_stop(&st);
    assert_int_equal(st.nreq, 2);
    assert_has(st.req[0], "GET /admin/v1/keys?tenant=acme%20corp&limit=1 HTTP/1.1\r\n");
    assert_has(st.req[1],
               "GET /admin/v1/keys?tenant=acme%20corp&limit=1&cursor=c%2F1%20%26 HTTP/1.1\r\n");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_set_scalars),
        cmocka_unit_test(test_set_json_values),
        cmocka_unit_test(test_set_lists),
        cmocka_unit_test(test_set_nested),
        cmocka_unit_test(test_body_build),
        cmocka_unit_test(test_sanitize),
        cmocka_unit_test(test_cell_text),
        cmocka_unit_test(test_grid_widths),
        cmocka_unit_test(test_table_kinds),
        cmocka_unit_test(test_table_hostile_values),
        cmocka_unit_test(test_table_object),
        cmocka_unit_test(test_json_pretty),
        cmocka_unit_test(test_plan),
        cmocka_unit_test(test_error_text),
        cmocka_unit_test(test_http_paths),
        cmocka_unit_test(test_handles),
        cmocka_unit_test(test_usage_errors),
        cmocka_unit_test(test_unreachable),
        cmocka_unit_test(test_wire_create_update_delete),
        cmocka_unit_test(test_wire_errors),
        cmocka_unit_test(test_wire_diff_exit),
        cmocka_unit_test(test_wire_list_all),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* Unit tests for src/config: validator, env expansion, default config. */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "config/config.h"
#include "config/yaml.h"

static char err[1024];

static asc_config_t *load(const char *yaml)
{
    asc_config_t *c = NULL;
    asc_err_t e = asc_config_load_text(yaml, strlen(yaml), "test.yaml", &c, err, sizeof err);
    if (e != ASC_OK)
        fail_msg("load failed: %s\n--- yaml:\n%s", err, yaml);
    assert_non_null(c);
    return c;
}

/* Load must fail with exactly "test.yaml: " + want. */
static void bad(const char *yaml, const char *want)
{
    asc_config_t *c = (asc_config_t *)1;
    asc_err_t e = asc_config_load_text(yaml, strlen(yaml), "test.yaml", &c, err, sizeof err);
    if (e == ASC_OK) {
        asc_config_free(c);
        fail_msg("load succeeded, expected: %s\n--- yaml:\n%s", want, yaml);
    }
    assert_int_equal(e, ASC_EINVAL);
    assert_null(c);
    char full[1024];
    snprintf(full, sizeof full, "test.yaml: %s", want);
    assert_string_equal(err, full);
}

/* Load must fail with a message starting with "test.yaml: " + prefix. */
static void bad_prefix(const char *yaml, const char *prefix)
{
    asc_config_t *c = NULL;
    asc_err_t e = asc_config_load_text(yaml, strlen(yaml), "test.yaml", &c, err, sizeof err);
    if (e == ASC_OK) {
        asc_config_free(c);
        fail_msg("load succeeded, expected: %s\n--- yaml:\n%s", prefix, yaml);
    }
    assert_null(c);
    char full[1024];
    snprintf(full, sizeof full, "test.yaml: %s", prefix);
    if (strncmp(err, full, strlen(full)) != 0)
        fail_msg("error \"%s\" does not start with \"%s\"", err, full);
}

#define P_MOCK "providers:\n  - name: mock\n    kind: mock\n"

/* ---- default config ---- */

static void check_default(const char *expect_base_url)
{
    asc_config_t *c = load(asc_config_default_yaml);
    assert_string_equal(c->server.listen, "127.0.0.1:8080");
    assert_int_equal(c->nproviders, 4);
    assert_string_equal(c->providers[0].name, "mock");
    assert_string_equal(c->providers[0].kind, "mock");
    assert_null(c->providers[0].base_url);
    assert_null(c->providers[0].api_key_ref);
    assert_string_equal(c->providers[1].name, "openai");
    assert_string_equal(c->providers[1].kind, "openai");
    assert_string_equal(c->providers[1].base_url, expect_base_url);
    assert_string_equal(c->providers[1].api_key_ref, "env:OPENAI_API_KEY");
    assert_int_equal(c->providers[1].optional, 1);
    /* Anthropic and Mistral: the API roots their SDKs take, env-overridable */
    const char *ab = getenv("ANTHROPIC_BASE_URL"), *mb = getenv("MISTRAL_BASE_URL");
    assert_string_equal(c->providers[2].name, "anthropic");
    assert_string_equal(c->providers[2].kind, "anthropic");
    assert_string_equal(c->providers[2].base_url, ab && *ab ? ab : "https://api.anthropic.com");
    assert_string_equal(c->providers[2].api_key_ref, "env:ANTHROPIC_API_KEY");
    assert_int_equal(c->providers[2].optional, 1);
    assert_string_equal(c->providers[3].name, "mistral");
    assert_string_equal(c->providers[3].kind, "mistral");
    assert_string_equal(c->providers[3].base_url, mb && *mb ? mb : "https://api.mistral.ai");
    assert_string_equal(c->providers[3].api_key_ref, "env:MISTRAL_API_KEY");
    assert_int_equal(c->providers[3].optional, 1);
    const char *names[] = {"mock-fast",
                           "mock-slow",
                           "mock-embed",
                           "gpt-4o-mini",
                           "gpt-4o",
                           "gpt-4.1-mini",
                           "text-embedding-3-small",
                           "claude-sonnet-4-5",
                           "claude-haiku-4-5",
                           "mistral-small-latest",
                           "mistral-large-latest",
                           "mistral-embed"};
    assert_int_equal(c->nmodels, 12);
    for (size_t i = 0; i < 12; i++)
        assert_string_equal(c->models[i].name, names[i]);
    assert_string_equal(c->models[7].groups[0].targets[0].provider, "anthropic");
    assert_string_equal(c->models[11].type, "embedding");
    assert_string_equal(c->models[1].groups[0].targets[0].model,
                        "mock-slow@ttft_ms=400,itl_ms=40,tokens=64");
    assert_string_equal(c->models[2].type, "embedding");
    assert_string_equal(c->models[3].groups[0].targets[0].provider, "openai");
    assert_string_equal(c->models[3].groups[0].targets[0].model, "gpt-4o-mini");
    assert_string_equal(c->models[3].type, "chat");
    assert_string_equal(c->models[6].type, "embedding");
    assert_int_equal(c->nkeys, 1);
    assert_string_equal(c->keys[0].name, "dev");
    assert_string_equal(c->keys[0].key_ref, "env:ASC_DEV_KEY");
    assert_int_equal(c->keys[0].generate, 1);
    assert_int_equal(c->keys[0].nmodels, 1);
    assert_string_equal(c->keys[0].models[0], "*");
    asc_config_free(c);
}

static void test_default_config_valid(void **state)
{
    (void)state;
    unsetenv("OPENAI_API_KEY");
    unsetenv("OPENAI_BASE_URL");
    unsetenv("ANTHROPIC_BASE_URL");
    unsetenv("MISTRAL_BASE_URL");
    unsetenv("ASC_DEV_KEY");
    check_default("https://api.openai.com/v1");
    setenv("OPENAI_API_KEY", "sk-test-not-a-real-key", 1);
    check_default("https://api.openai.com/v1");
    setenv("OPENAI_BASE_URL", "", 1);
    check_default("https://api.openai.com/v1");
    setenv("OPENAI_BASE_URL", "http://127.0.0.1:9999/v1/", 1);
    check_default("http://127.0.0.1:9999/v1");
    setenv("OPENAI_BASE_URL", "ftp://example.com", 1);
    bad("providers:\n  - name: x\n    kind: openai\n    base_url: ${OPENAI_BASE_URL}\n",
        "providers[0].base_url: must start with http:// or https://");
    bad_prefix(asc_config_default_yaml,
               "providers[1].base_url: must start with http:// or https://");
    unsetenv("OPENAI_BASE_URL");
    unsetenv("OPENAI_API_KEY");
    setenv("ANTHROPIC_BASE_URL", "http://127.0.0.1:9998", 1);
    setenv("MISTRAL_BASE_URL", "http://127.0.0.1:9997/mistral", 1);
    check_default("https://api.openai.com/v1");
    unsetenv("ANTHROPIC_BASE_URL");
    unsetenv("MISTRAL_BASE_URL");
}

static void test_default_config_is_commented(void **state)
{
    (void)state;
    /* printed by `asc config default`: every section carries a comment */
    const char *sections[] = {"\nserver:", "\nproviders:", "\nmodels:", "\nkeys:"};
    for (size_t i = 0; i < 4; i++) {
        const char *s = strstr(asc_config_default_yaml, sections[i]);
        assert_non_null(s);
        /* the line before the section is a comment */
        const char *prev = s - 1;
        while (prev > asc_config_default_yaml && prev[-1] != '\n')
            prev--;
        assert_int_equal(*prev, '#');
    }
}

/* ---- top level and unknown keys ---- */

static void test_empty_and_minimal(void **state)
{
    (void)state;
    asc_config_t *c = load("server: {}\n");
    assert_int_equal(c->nproviders, 0);
    assert_int_equal(c->nmodels, 0);
    assert_int_equal(c->nkeys, 0);
    assert_string_equal(c->server.listen, "127.0.0.1:8080");
    asc_config_free(c);
    c = load("providers:\nmodels:\nkeys:\n");
    assert_int_equal(c->nproviders, 0);
    asc_config_free(c);
    bad("",
        "(root): the config must be a mapping with the sections server, providers, models, keys");
    bad("- a\n",
        "(root): the config must be a mapping with the sections server, providers, models, keys");
}

static void test_unknown_keys(void **state)
{
    (void)state;
    bad("routes: []\n",
        "routes: unknown key (expected one of: server, admin, providers, models, keys, "
        "tenants, teams, users, credentials)");
    bad("model: {}\n", "model: unknown key (did you mean \"models\"?)");
    bad("server:\n  listn: 1.2.3.4:80\n", "server.listn: unknown key (did you mean \"listen\"?)");
    bad(P_MOCK "    bas_url: http://x\n",
        "providers[0].bas_url: unknown key (did you mean \"base_url\"?)");
    bad(P_MOCK "    colour: blue\n", "providers[0].colour: unknown key (expected one of: name, "
                                     "kind, base_url, api_key, optional, ca_file, "
                                     "proxy, region, connect_timeout_ms, first_byte_timeout_ms, "
                                     "idle_timeout_ms, total_timeout_ms)");
    bad(P_MOCK "models:\n  m: {provider: mock, modle: x}\n",
        "models.m.modle: unknown key (did you mean \"model\"?)");
    bad("keys:\n  - name: k\n    key: env:K\n    allow: [a]\n",
        "keys[0].allow: unknown key (expected one of: name, key, generate, models, regions, "
        "tenant, team, owner, description, expires_at, revoked, limits, previous_key, "
        "previous_expires_at, hint)");
}

static void test_yaml_errors_prefixed(void **state)
{
    (void)state;
    bad("server:\n  listen: 1\n  listen: 2\n", "line 3, column 3: duplicate key \"listen\"");
    bad("server: *x\n", "line 1, column 9: aliases are not supported (found alias \"x\")");
}

/* ---- server ---- */

static void test_server_defaults_and_values(void **state)
{
    (void)state;
    asc_config_t *c = load("server:\n  listen: 127.0.0.1:8080\n");
    assert_int_equal(c->server.workers, 0);
    assert_int_equal(c->server.max_connections, 10000);
    assert_true(c->server.max_body_bytes == 33554432);
    assert_true(c->server.max_header_bytes == 65536);
    assert_int_equal(c->server.max_headers, 100);
    assert_true(c->server.header_timeout_ms == 10000);
    assert_true(c->server.body_timeout_ms == 30000);
    assert_true(c->server.idle_timeout_ms == 60000);
    assert_true(c->server.shutdown_timeout_ms == 10000);
    assert_string_equal(c->server.access_log, "stdout");
    assert_null(c->server.data_dir);
    asc_config_free(c);

    c = load(
        "server:\n  listen: \"[::1]:0\"\n  workers: 4\n  max_connections: 12\n  max_body_bytes: "
        "2048\n"
        "  max_header_bytes: 4096\n  max_headers: 7\n  header_timeout_ms: 1\n  body_timeout_ms: 2\n"
        "  idle_timeout_ms: 3\n  shutdown_timeout_ms: 86400000\n  access_log: /var/log/asc.log\n"
        "  data_dir: /var/lib/asc\n");
    assert_string_equal(c->server.listen, "[::1]:0");
    assert_int_equal(c->server.workers, 4);
    assert_int_equal(c->server.max_connections, 12);
    assert_true(c->server.max_body_bytes == 2048);
    assert_true(c->server.max_header_bytes == 4096);
    assert_int_equal(c->server.max_headers, 7);
    assert_true(c->server.header_timeout_ms == 1);
    assert_true(c->server.body_timeout_ms == 2);
    assert_true(c->server.idle_timeout_ms == 3);
    assert_true(c->server.shutdown_timeout_ms == 86400000);
    assert_string_equal(c->server.access_log, "/var/log/asc.log");
    assert_string_equal(c->server.data_dir, "/var/lib/asc");
    asc_config_free(c);
}

static void test_server_listen(void **state)
{
    (void)state;
    const char *good[] = {"127.0.0.1:8080", "0.0.0.0:0",  "localhost:65535",
                          "[::]:443",       "[::1]:8080", "[fe80::1:2]:1"};
    const char *badv[] = {
        "127.0.0.1",  "127.0.0.1:65536", "example.com:80",  "::1:8080", "[::1]8080",
        "[::1]:",     ":8080",           "127.0.0.1:-1",    "1.2.3:80", "127.0.0.1:80x",
        "[zz::1]:80", "localhost:",      "127.0.0.1:123456"};
    char y[256];
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        snprintf(y, sizeof y, "server:\n  listen: \"%s\"\n", good[i]);
        asc_config_t *c = load(y);
        assert_string_equal(c->server.listen, good[i]);
        asc_config_free(c);
    }
    for (size_t i = 0; i < sizeof badv / sizeof badv[0]; i++) {
        snprintf(y, sizeof y, "server:\n  listen: \"%s\"\n", badv[i]);
        bad(y, "server.listen: must be host:port with an IPv4 address, [IPv6 address] or "
               "localhost, and a port "
               "0-65535");
    }
    bad("server:\n  listen: 8080\n", "server.listen: must be a string (quote the value)");
}

static void test_server_ranges(void **state)
{
    (void)state;
    bad("server:\n  max_body_bytes: 1023\n",
        "server.max_body_bytes: must be an integer between 1024 and 1073741824");
    bad("server:\n  max_body_bytes: 1073741825\n",
        "server.max_body_bytes: must be an integer between 1024 and 1073741824");
    bad("server:\n  max_body_bytes: 2048.5\n",
        "server.max_body_bytes: must be an integer between 1024 and 1073741824");
    bad("server:\n  max_body_bytes: big\n",
        "server.max_body_bytes: must be an integer between 1024 and 1073741824");
    bad("server:\n  max_body_bytes: true\n",
        "server.max_body_bytes: must be an integer between 1024 and 1073741824");
    bad("server:\n  workers: -1\n", "server.workers: must be an integer between 0 and 1024");
    bad("server:\n  max_connections: 0\n",
        "server.max_connections: must be an integer between 1 and 1000000");
    bad("server:\n  max_headers: 0\n",
        "server.max_headers: must be an integer between 1 and 10000");
    bad("server:\n  max_header_bytes: 100\n",
        "server.max_header_bytes: must be an integer between 1024 and 1048576");
    bad("server:\n  header_timeout_ms: 0\n",
        "server.header_timeout_ms: must be an integer between 1 and 86400000");
    bad("server:\n  idle_timeout_ms: 86400001\n",
        "server.idle_timeout_ms: must be an integer between 1 and 86400000");
    bad("server:\n  access_log: \"\"\n", "server.access_log: must not be empty");
    bad("server: [1]\n", "server: must be a mapping");
}

/* ---- providers ---- */

static void test_provider_fields(void **state)
{
    (void)state;
    asc_config_t *c =
        load("providers:\n"
             "  - name: local-vllm_2\n    kind: openai-compatible\n"
             "    base_url: http://10.0.0.5:8000/v1///\n    api_key: file:/run/secrets/vllm\n"
             "    ca_file: /etc/ssl/private-ca.pem\n    proxy: http://proxy:3128\n"
             "    region: eu-west-1\n    connect_timeout_ms: 1\n    first_byte_timeout_ms: 2\n"
             "    idle_timeout_ms: 3\n    total_timeout_ms: 4\n"
             "  - name: ant\n    kind: anthropic\n    api_key: env:ANTHROPIC_API_KEY\n"
             "  - name: mis\n    kind: mistral\n"
             "  - name: oai\n    kind: openai\n    base_url: https://[2001:db8::1]:8443\n");
    assert_int_equal(c->nproviders, 4);
    asc_config_provider_t *p = &c->providers[0];
    assert_string_equal(p->name, "local-vllm_2");
    assert_string_equal(p->kind, "openai-compatible");
    assert_string_equal(p->base_url, "http://10.0.0.5:8000/v1");
    assert_string_equal(p->api_key_ref, "file:/run/secrets/vllm");
    assert_int_equal(p->optional, 0);
    assert_string_equal(p->ca_file, "/etc/ssl/private-ca.pem");
    assert_string_equal(p->proxy, "http://proxy:3128");
    assert_string_equal(p->region, "eu-west-1");
    assert_true(p->connect_timeout_ms == 1 && p->first_byte_timeout_ms == 2);
    assert_true(p->idle_timeout_ms == 3 && p->total_timeout_ms == 4);
    /* defaults */
    p = &c->providers[1];
    assert_string_equal(p->base_url, "https://api.anthropic.com");
    assert_null(p->ca_file);
    assert_true(p->connect_timeout_ms == 10000 && p->first_byte_timeout_ms == 60000);
    assert_true(p->idle_timeout_ms == 60000 && p->total_timeout_ms == 600000);
    assert_string_equal(c->providers[2].base_url, "https://api.mistral.ai");
    assert_null(c->providers[2].api_key_ref);
    assert_string_equal(c->providers[3].base_url, "https://[2001:db8::1]:8443");
    assert_ptr_equal(asc_config_find_provider(c, "ant"), &c->providers[1]);
    assert_null(asc_config_find_provider(c, "nope"));
    asc_config_free(c);
}

static void test_provider_name_and_kind(void **state)
{
    (void)state;
    bad("providers: {a: 1}\n", "providers: must be a sequence of mappings (- name: ...)");
    bad("providers:\n  - mock\n", "providers[0]: must be a mapping with at least name and kind");
    bad("providers:\n  - kind: mock\n", "providers[0].name: required");
    bad("providers:\n  - name: x\n", "providers[0].kind: required");
    bad("providers:\n  - name: OpenAI\n    kind: mock\n",
        "providers[0].name: invalid provider name \"OpenAI\" (1-63 characters of a-z, 0-9, '_' and "
        "'-', "
        "starting with a letter or digit)");
    bad_prefix("providers:\n  - name: -x\n    kind: mock\n",
               "providers[0].name: invalid provider name \"-x\"");
    bad_prefix("providers:\n  - name: a/b\n    kind: mock\n",
               "providers[0].name: invalid provider name");
    /* 64 characters: one too many */
    bad_prefix("providers:\n  - name: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
               "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n    kind: mock\n",
               "providers[0].name: invalid provider name");
    asc_config_t *c = load(
        "providers:\n  - name: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n"
        "    kind: mock\n  - name: '0'\n    kind: mock\n");
    asc_config_free(c);
    bad("providers:\n  - name: 7\n    kind: mock\n",
        "providers[0].name: must be a string (quote the value)");
    bad(P_MOCK "  - name: b\n    kind: azure\n",
        "providers[1].kind: unknown kind \"azure\" (expected one of: openai, openai-compatible, "
        "anthropic, mistral, "
        "mock)");
    bad(P_MOCK "  - name: b\n    kind: mock\n  - name: mock\n    kind: mock\n",
        "providers[2].name: duplicate provider name \"mock\" (also providers[0])");
}

static void test_provider_base_url(void **state)
{
    (void)state;
    struct {
        const char *url, *want;
    } cases[] = {
        {"ftp://example.com", "must start with http:// or https://"},
        {"HTTPS://example.com", "must start with http:// or https://"},
        {"example.com/v1", "must start with http:// or https://"},
        {"https://user:pw@example.com/v1", "must not contain credentials (user@host); use api_key"},
        {"https://example.com/v1?x=1", "must not contain a query (?) or fragment (#)"},
        {"https://example.com/v1#frag", "must not contain a query (?) or fragment (#)"},
        {"https:///v1", "has no host"},
        {"https://", "has no host"},
        {"https://exa mple.com", "must not contain spaces, control or non-ASCII characters"},
        {"https://example.com:0", "has an invalid port"},
        {"https://example.com:99999", "has an invalid port"},
        {"https://example.com:", "has an invalid port"},
        {"https://example.com:80a", "has an invalid port"},
        {"https://exa!mple.com", "has an invalid host"},
        {"https://[::1", "has an invalid IPv6 host"},
        {"https://[nothex]:80", "has an invalid IPv6 host"},
        {"https://[::1]x", "has an invalid host"},
    };
    char y[512], w[512];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        snprintf(y, sizeof y, "providers:\n  - name: p\n    kind: openai\n    base_url: \"%s\"\n",
                 cases[i].url);
        snprintf(w, sizeof w, "providers[0].base_url: %s", cases[i].want);
        bad(y, w);
    }
    struct {
        const char *url, *norm;
    } good[] = {
        {"https://example.com/", "https://example.com"},
        {"https://example.com", "https://example.com"},
        {"http://localhost:11434/v1/", "http://localhost:11434/v1"},
        {"https://h.example/a/b//", "https://h.example/a/b"},
        {"http://[::1]:8080/v1", "http://[::1]:8080/v1"},
    };
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        snprintf(y, sizeof y,
                 "providers:\n  - name: p\n    kind: openai-compatible\n    base_url: \"%s\"\n",
                 good[i].url);
        asc_config_t *c = load(y);
        assert_string_equal(c->providers[0].base_url, good[i].norm);
        asc_config_free(c);
    }
    bad("providers:\n  - name: p\n    kind: openai-compatible\n",
        "providers[0].base_url: required for kind \"openai-compatible\"");
    /* a mock may point at an external asc-mock */
    asc_config_t *c =
        load("providers:\n  - name: m\n    kind: mock\n    base_url: http://127.0.0.1:9000/\n");
    assert_string_equal(c->providers[0].base_url, "http://127.0.0.1:9000");
    asc_config_free(c);
}

static void test_provider_api_key(void **state)
{
    (void)state;
    const char *secret = "sk-proj-SECRETSECRETSECRET1234";
    char y[512];
    snprintf(y, sizeof y, "providers:\n  - name: p\n    kind: openai\n    api_key: %s\n", secret);
    bad(y, "providers[0].api_key: plaintext keys are not allowed in config; use env:VAR or "
           "file:/path");
    assert_null(strstr(err, "SECRET"));
    bad("providers:\n  - name: p\n    kind: openai\n    api_key: env:1BAD\n",
        "providers[0].api_key: env: must be followed by a variable name ([A-Za-z_][A-Za-z0-9_]*)");
    bad("providers:\n  - name: p\n    kind: openai\n    api_key: \"env:\"\n",
        "providers[0].api_key: env: must be followed by a variable name ([A-Za-z_][A-Za-z0-9_]*)");
    bad("providers:\n  - name: p\n    kind: openai\n    api_key: file:relative/path\n",
        "providers[0].api_key: file: must be followed by an absolute path");
    bad("providers:\n  - name: p\n    kind: openai\n    api_key: \"file:/\"\n",
        "providers[0].api_key: file: must be followed by an absolute path");
    bad("providers:\n  - name: m\n    kind: mock\n    api_key: env:X\n",
        "providers[0].api_key: not allowed for kind mock");
    bad("providers:\n  - name: p\n    kind: openai\n    api_key: file:/k\n    optional: true\n",
        "providers[0].optional: only allowed with an env: api_key");
    bad("providers:\n  - name: p\n    kind: openai\n    optional: true\n",
        "providers[0].optional: only allowed with an env: api_key");
    bad("providers:\n  - name: p\n    kind: openai\n    api_key: env:K\n    optional: yes\n",
        "providers[0].optional: must be true or false");
    asc_config_t *c = load(
        "providers:\n  - name: p\n    kind: openai\n    api_key: env:K_2\n    optional: false\n");
    assert_string_equal(c->providers[0].api_key_ref, "env:K_2");
    assert_int_equal(c->providers[0].optional, 0);
    asc_config_free(c);
    bad("providers:\n  - name: p\n    kind: openai\n    total_timeout_ms: 0\n",
        "providers[0].total_timeout_ms: must be an integer between 1 and 86400000");
    bad("providers:\n  - name: p\n    kind: openai\n    connect_timeout_ms: 86400001\n",
        "providers[0].connect_timeout_ms: must be an integer between 1 and 86400000");
    bad("providers:\n  - name: p\n    kind: openai\n    region: \"\"\n",
        "providers[0].region: must not be empty");
}

/* ---- models ---- */

static void test_models(void **state)
{
    (void)state;
    asc_config_t *c =
        load(P_MOCK "models:\n  a: {provider: mock}\n  \"weird:name@v1\": {provider: mock, model: "
                    "org/up-stream, type: chat}\n  e: {provider: mock, type: embedding}\n");
    assert_int_equal(c->nmodels, 3);
    assert_string_equal(c->models[0].name, "a");
    assert_string_equal(c->models[0].groups[0].targets[0].model, "a");
    assert_string_equal(c->models[0].type, "chat");
    assert_string_equal(c->models[1].name, "weird:name@v1");
    assert_string_equal(c->models[1].groups[0].targets[0].model, "org/up-stream");
    assert_string_equal(c->models[2].type, "embedding");
    assert_ptr_equal(asc_config_find_model(c, "e"), &c->models[2]);
    assert_null(asc_config_find_model(c, "mock/a"));
    asc_config_free(c);

    bad("providers:\n  - name: openai\n    kind: openai\nmodels:\n  gpt-4o: {provider: opnai}\n",
        "models.gpt-4o.provider: unknown provider \"opnai\" (did you mean \"openai\"?)");
    bad(P_MOCK "models:\n  gpt-4o: {provider: zzzzzzzz}\n",
        "models.gpt-4o.provider: unknown provider \"zzzzzzzz\"");
    bad("models:\n  gpt-4o: {provider: openai}\n",
        "models.gpt-4o.provider: unknown provider \"openai\"");
    bad(P_MOCK "models:\n  gpt-4o: {model: x}\n",
        "models.gpt-4o: needs provider (one target) or targets");
    bad(P_MOCK "models:\n  gpt-4o:\n", "models.gpt-4o: must be a mapping with provider or targets");
    bad(P_MOCK "models:\n  mock/a: {provider: mock}\n",
        "models.mock/a: invalid model name: '/' is reserved for <provider>/<model> addressing");
    bad(P_MOCK "models:\n  \"a b\": {provider: mock}\n",
        "models.\"a b\": invalid model name: must be 1-256 printable ASCII characters without "
        "spaces");
    bad(P_MOCK "models:\n  \"\": {provider: mock}\n",
        "models.\"\": invalid model name: must be 1-256 printable ASCII characters without spaces");
    bad(P_MOCK "models:\n  \"caf\xc3\xa9\": {provider: mock}\n",
        "models.\"caf\\xc3\\xa9\": invalid model name: must be 1-256 printable ASCII characters "
        "without spaces");
    bad(P_MOCK "models:\n  a: {provider: mock, type: image}\n",
        "models.a.type: unknown type \"image\" (expected chat or embedding)");
    bad(P_MOCK "models:\n  a: {provider: mock, model: \"\"}\n",
        "models.a.model: must not be empty");
    bad(P_MOCK "models:\n  - a: {provider: mock}\n",
        "models: must be a mapping of public model name to its route ({provider, model} or "
        "{targets, ...}), not a sequence");
    /* 256 characters is the longest name */
    char y[1024], name[258];
    memset(name, 'n', 257);
    name[256] = '\0';
    snprintf(y, sizeof y, P_MOCK "models:\n  %s: {provider: mock}\n", name);
    c = load(y);
    asc_config_free(c);
    name[256] = 'n';
    name[257] = '\0';
    snprintf(y, sizeof y, P_MOCK "models:\n  %s: {provider: mock}\n", name);
    bad_prefix(y, "models.\"nnnn");
}

/* ---- keys ---- */

#define HASH "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static void test_keys(void **state)
{
    (void)state;
    asc_config_t *c = load("keys:\n  - name: team.a-1_x\n    key: sha256:" HASH "\n"
                           "    models: [\"gpt-*\", \"openai/*\"]\n"
                           "  - name: dev\n    key: env:ASC_DEV_KEY\n    generate: true\n"
                           "  - name: none\n    key: env:NONE\n    models: [\"x\"]\n");
    assert_int_equal(c->nkeys, 3);
    assert_string_equal(c->keys[0].key_ref, "sha256:" HASH);
    assert_int_equal(c->keys[0].generate, 0);
    assert_int_equal(c->keys[0].nmodels, 2);
    assert_string_equal(c->keys[0].models[1], "openai/*");
    assert_int_equal(c->keys[1].generate, 1);
    /* no models: the key inherits its team's and tenant's (NULL = any) */
    assert_int_equal(c->keys[1].nmodels, 0);
    assert_null(c->keys[1].models);
    assert_int_equal(c->keys[2].nmodels, 1);
    asc_config_free(c);
    /* an empty allow-list would read as "none" but used to mean "any": refused */
    bad("keys:\n  - name: k\n    key: env:K\n    models: []\n",
        "keys[0].models: must be a sequence of 1 to 1024 names");

    bad("keys:\n  - name: k\n    key: sk-live-abcdef123456\n",
        "keys[0].key: plaintext keys are not allowed in config; use sha256:<hex> or env:VAR");
    assert_null(strstr(err, "abcdef123456"));
    bad("keys:\n  - name: k\n    key: sha256:" HASH "0\n",
        "keys[0].key: sha256: must be followed by 64 lowercase hex digits");
    bad("keys:\n  - name: k\n    key: "
        "sha256:0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef\n",
        "keys[0].key: sha256: must be followed by 64 lowercase hex digits");
    bad("keys:\n  - name: k\n    key: env:A-B\n",
        "keys[0].key: env: must be followed by a variable name ([A-Za-z_][A-Za-z0-9_]*)");
    bad("keys:\n  - name: k\n", "keys[0].key: required");
    bad("keys:\n  - key: env:K\n", "keys[0].name: required");
    bad("keys:\n  - name: k\n    key: sha256:" HASH "\n    generate: true\n",
        "keys[0].generate: only allowed with an env: key");
    bad("keys:\n  - name: \"a b\"\n    key: env:K\n",
        "keys[0].name: invalid key name \"a b\" (1-64 characters of A-Z, a-z, 0-9, '_', '.' and "
        "'-')");
    bad("keys:\n  - name: a\n    key: env:K\n  - name: b\n    key: env:K\n  - name: a\n    key: "
        "env:L\n",
        "keys[2].name: duplicate key name \"a\" (also keys[0])");
    bad("keys:\n  - name: a\n    key: env:K\n    models: \"*\"\n",
        "keys[0].models: must be a sequence of 1 to 1024 names");
    bad("keys:\n  - name: a\n    key: env:K\n    models: [x, \"\"]\n",
        "keys[0].models[1]: must be 1 to 512 printable characters without spaces");
    bad("keys:\n  - name: a\n    key: env:K\n    models: [x, 5]\n",
        "keys[0].models[1]: must be 1 to 512 printable characters without spaces");
    bad("keys:\n  - name: a\n    key: env:K\n    models: [\"a b\"]\n",
        "keys[0].models[0]: must be 1 to 512 printable characters without spaces");
    bad("keys: {a: 1}\n", "keys: must be a sequence of mappings (- name: ...)");
    bad("keys:\n  - 1\n", "keys[0]: must be a mapping with at least name and key");
}

/* ---- env expansion ---- */

static void test_env_expansion(void **state)
{
    (void)state;
    setenv("ASC_T_HOST", "10.1.2.3", 1);
    setenv("ASC_T_EMPTY", "", 1);
    unsetenv("ASC_T_UNSET");
    asc_config_t *c =
        load("server:\n  listen: ${ASC_T_HOST}:${ASC_T_UNSET:-8081}\n"
             "  access_log: \"/logs/$$HOME/a$b/${ASC_T_EMPTY:-def}/${ASC_T_EMPTY}x$\"\n"
             "  data_dir: \"${ASC_T_HOST:-unused}\"\n"
             "  max_body_bytes: ${ASC_T_UNSET:-4096}\n"
             "providers:\n  - name: p\n    kind: openai\n    api_key: env:ASC_T_UNSET\n"
             "    optional: ${ASC_T_UNSET:-true}\n");
    assert_string_equal(c->server.listen, "10.1.2.3:8081");
    assert_string_equal(c->server.access_log, "/logs/$HOME/a$b/def/x$");
    assert_string_equal(c->server.data_dir, "10.1.2.3");
    assert_true(c->server.max_body_bytes == 4096);
    /* env: references are left for the caller to resolve */
    assert_string_equal(c->providers[0].api_key_ref, "env:ASC_T_UNSET");
    assert_int_equal(c->providers[0].optional, 1);
    asc_config_free(c);

    bad("providers:\n  - name: p\n    kind: openai\n    base_url: ${ASC_T_UNSET}\n",
        "providers[0].base_url: environment variable ASC_T_UNSET is not set (use "
        "${ASC_T_UNSET:-default} for a "
        "fallback)");
    bad("server:\n  listen: \"${ASC_T_HOST\"\n",
        "server.listen: unterminated ${ in \"${ASC_T_HOST\"");
    bad("server:\n  listen: \"${1X}\"\n",
        "server.listen: invalid variable name in \"${1X}\" (expected [A-Za-z_][A-Za-z0-9_]*)");
    bad("server:\n  listen: \"${}\"\n",
        "server.listen: invalid variable name in \"${}\" (expected [A-Za-z_][A-Za-z0-9_]*)");
    bad("server:\n  listen: \"${A:b}\"\n",
        "server.listen: invalid expression \"${A:b}\" (expected ${VAR} or ${VAR:-default})");
    bad("server:\n  listen: \"${A-b}\"\n",
        "server.listen: invalid variable name in \"${A-b}\" (expected [A-Za-z_][A-Za-z0-9_]*)");
    /* an unset variable inside a models list is named by its path */
    bad("keys:\n  - name: a\n    key: env:K\n    models: [x, \"${ASC_T_UNSET}\"]\n",
        "keys[0].models[1]: environment variable ASC_T_UNSET is not set (use "
        "${ASC_T_UNSET:-default} for a fallback)");
    unsetenv("ASC_T_HOST");
    unsetenv("ASC_T_EMPTY");
}

static void test_env_expansion_tree(void **state)
{
    (void)state;
    setenv("ASC_T_V", "val", 1);
    unsetenv("ASC_T_UNSET");
    cJSON *r = cJSON_Parse(
        "{\"${ASC_T_V}\": \"${ASC_T_V}\", \"n\": 5, \"a\": [\"x\", {\"b\": \"$${ASC_T_V}\"}]}");
    assert_non_null(r);
    assert_int_equal(asc_config_expand_env(r, err, sizeof err), ASC_OK);
    /* keys are never expanded, values are */
    const cJSON *k = cJSON_GetObjectItemCaseSensitive(r, "${ASC_T_V}");
    assert_non_null(k);
    assert_string_equal(k->valuestring, "val");
    const cJSON *b =
        cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(cJSON_GetObjectItem(r, "a"), 1), "b");
    assert_string_equal(b->valuestring, "${ASC_T_V}");
    assert_true(cJSON_GetObjectItem(r, "n")->valuedouble == 5);
    cJSON_Delete(r);

    r = cJSON_Parse("{\"a\": [\"x\", {\"b c\": \"${ASC_T_UNSET}\"}]}");
    assert_int_equal(asc_config_expand_env(r, err, sizeof err), ASC_EINVAL);
    assert_string_equal(
        err,
        "a[1].\"b c\": environment variable ASC_T_UNSET is not set (use ${ASC_T_UNSET:-default} "
        "for a fallback)");
    cJSON_Delete(r);

    /* nesting from JSON is bounded */
    char deep[1024] = "";
    for (int i = 0; i < 200; i++)
        strcat(deep, "[");
    for (int i = 0; i < 200; i++)
        strcat(deep, "]");
    r = cJSON_Parse(deep);
    assert_non_null(r);
    assert_int_equal(asc_config_expand_env(r, err, sizeof err), ASC_EINVAL);
    assert_non_null(strstr(err, "nesting deeper than 128 levels"));
    cJSON_Delete(r);
    unsetenv("ASC_T_V");
}

/* ---- JSON (admin API) input ---- */

static void test_from_json(void **state)
{
    (void)state;
    cJSON *r = cJSON_Parse("{\"providers\":[{\"name\":\"m\",\"kind\":\"mock\"}],"
                           "\"models\":{\"x\":{\"provider\":\"m\"}}}");
    asc_config_t *c = NULL;
    assert_int_equal(asc_config_from_json(r, &c, err, sizeof err), ASC_OK);
    assert_int_equal(c->nmodels, 1);
    asc_config_free(c);
    cJSON_Delete(r);

    /* JSON can repeat a key; the validator refuses it */
    r = cJSON_Parse("{\"providers\":[{\"name\":\"m\",\"kind\":\"mock\",\"kind\":\"openai\"}]}");
    c = (asc_config_t *)1;
    assert_int_equal(asc_config_from_json(r, &c, err, sizeof err), ASC_EINVAL);
    assert_null(c);
    assert_string_equal(err, "providers[0].kind: duplicate key");
    cJSON_Delete(r);
    r = cJSON_Parse("{\"providers\":[{\"name\":\"m\",\"kind\":\"mock\"}],"
                    "\"models\":{\"x\":{\"provider\":\"m\"},\"y\":{\"provider\":\"m\"},\"x\":{"
                    "\"provider\":\"m\"}}}");
    assert_int_equal(asc_config_from_json(r, &c, err, sizeof err), ASC_EINVAL);
    assert_string_equal(err, "models.x: duplicate model name");
    cJSON_Delete(r);
    /* string numbers are accepted for integers (they come from ${VAR}) */
    r = cJSON_Parse("{\"server\":{\"workers\":\"8\",\"max_headers\":\"\"}}");
    assert_int_equal(asc_config_from_json(r, &c, err, sizeof err), ASC_EINVAL);
    assert_string_equal(err, "server.max_headers: must be an integer between 1 and 10000");
    cJSON_Delete(r);
    assert_int_equal(asc_config_from_json(NULL, &c, err, sizeof err), ASC_EINVAL);
}

/* ---- files ---- */

static void test_load_file(void **state)
{
    (void)state;
    char path[] = "/tmp/asc_config_test_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    const char *y = P_MOCK "models:\n  m: {provider: mock}\n  m: {provider: mock}\n";
    assert_int_equal(write(fd, y, strlen(y)), (ssize_t)strlen(y));
    close(fd);
    asc_config_t *c = NULL;
    assert_int_equal(asc_config_load_file(path, &c, err, sizeof err), ASC_EINVAL);
    char want[256];
    snprintf(want, sizeof want, "%s: line 6, column 3: duplicate key \"m\"", path);
    assert_string_equal(err, want);

    fd = open(path, O_WRONLY | O_TRUNC);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, asc_config_default_yaml, strlen(asc_config_default_yaml)),
                     (ssize_t)strlen(asc_config_default_yaml));
    close(fd);
    assert_int_equal(asc_config_load_file(path, &c, err, sizeof err), ASC_OK);
    assert_int_equal(c->nmodels, 12);
    asc_config_free(c);
    unlink(path);

    assert_int_equal(asc_config_load_file(path, &c, err, sizeof err), ASC_EIO);
    assert_null(c);
    snprintf(want, sizeof want, "%s: cannot open: No such file or directory", path);
    assert_string_equal(err, want);
    assert_int_equal(asc_config_load_file("/tmp", &c, err, sizeof err), ASC_EIO);
    assert_string_equal(err, "/tmp: is a directory");
}

static void test_load_file_too_big(void **state)
{
    (void)state;
    /* /dev/zero never ends: the bounded read must stop it */
    asc_config_t *c = NULL;
    assert_int_equal(asc_config_load_file("/dev/zero", &c, err, sizeof err), ASC_ETOOBIG);
    assert_string_equal(err, "/dev/zero: larger than 4194304 bytes");
    assert_null(c);
}

/* ---- allow-list patterns ---- */

static void test_pattern_match(void **state)
{
    (void)state;
    struct {
        const char *pat, *name;
        int want;
    } cases[] = {
        {"*", "gpt-4o", 1},
        {"*", "", 1},
        {"*", "openai/gpt-4o", 1},
        {"gpt-*", "gpt-4o", 1},
        {"gpt-*", "gpt-", 1},
        {"gpt-*", "xgpt-4o", 0},
        {"openai/*", "openai/a/b", 1},
        {"openai/*", "mock/a", 0},
        {"*-mini", "gpt-4o-mini", 1},
        {"*-mini", "gpt-4o-mini-2", 0},
        {"a*b*c", "aXbYc", 1},
        {"a*b*c", "aXcYb", 0},
        {"exact", "exact", 1},
        {"exact", "exactly", 0},
        {"exact", "exac", 0},
        {"**", "x", 1},
        {"a*a*a*a*b", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        if (asc_config_pattern_match(cases[i].pat, cases[i].name) != cases[i].want)
            fail_msg("pattern %s vs %s: want %d", cases[i].pat, cases[i].name, cases[i].want);
}

static void test_error_prefix_null_source(void **state)
{
    (void)state;
    asc_config_t *c = NULL;
    const char *y = "bogus: 1\n";
    assert_int_equal(asc_config_load_text(y, strlen(y), NULL, &c, err, sizeof err), ASC_EINVAL);
    assert_string_equal(
        err, "bogus: unknown key (expected one of: server, admin, providers, models, keys, "
             "tenants, teams, users, credentials)");
}

/* ---- routes ---- */

#define P_TWO P_MOCK "  - {name: eu, kind: mock, region: eu-west}\n"

static void test_routes(void **state)
{
    (void)state;
    asc_config_t *c = load(P_TWO "models:\n"
                                 "  chat:\n"
                                 "    targets:\n"
                                 "      - {provider: eu, model: base, weight: 98}\n"
                                 "      - {provider: mock, model: new, weight: 2, canary: true, "
                                 "region: us, first_byte_timeout_ms: 500}\n"
                                 "    fallbacks:\n"
                                 "      - {provider: mock, model: big}\n"
                                 "      - targets: [{provider: eu, model: x}, {provider: eu, "
                                 "model: y, weight: 0}]\n"
                                 "    shadow: [{provider: mock, model: shadowed, sample: 0.25}]\n"
                                 "    sticky: header:X-User\n"
                                 "    retries: 2\n"
                                 "    backoff_ms: 50\n"
                                 "    timeout_ms: 9000\n"
                                 "    breaker: {failures: 3, cooldown_ms: 2000}\n"
                                 "    canary_guard: {window_ms: 5000, min_requests: 10}\n"
                                 "keys:\n"
                                 "  - {name: k, key: env:K, regions: [eu-west, us]}\n");
    const asc_config_model_t *m = &c->models[0];
    assert_int_equal(m->ngroups, 3);
    assert_int_equal(m->groups[0].ntargets, 2);
    assert_string_equal(m->groups[0].targets[0].provider, "eu");
    assert_null(m->groups[0].targets[0].region); /* the provider's applies */
    assert_true(m->groups[0].targets[0].weight == 98);
    assert_true(m->groups[0].targets[1].canary);
    assert_string_equal(m->groups[0].targets[1].region, "us");
    assert_int_equal(m->groups[0].targets[1].first_byte_timeout_ms, 500);
    assert_int_equal(m->groups[0].targets[0].first_byte_timeout_ms, 0);
    assert_int_equal(m->groups[1].ntargets, 1);
    assert_string_equal(m->groups[1].targets[0].model, "big");
    assert_true(m->groups[1].targets[0].weight == 1);
    assert_int_equal(m->groups[2].ntargets, 2);
    assert_true(m->groups[2].targets[1].weight == 0);
    assert_int_equal(m->nshadows, 1);
    assert_true(m->shadows[0].sample == 0.25);
    assert_int_equal(m->sticky, ASC_STICKY_HEADER);
    assert_string_equal(m->sticky_header, "x-user");
    assert_int_equal(m->retries, 2);
    assert_int_equal(m->backoff_ms, 50);
    assert_int_equal(m->max_backoff_ms, 2000);
    assert_int_equal(m->timeout_ms, 9000);
    assert_int_equal(m->breaker.failures, 3);
    assert_int_equal(m->breaker.cooldown_ms, 2000);
    assert_true(m->breaker.error_rate == 0.5);
    assert_true(m->has_guard);
    assert_int_equal(m->guard.window_ms, 5000);
    assert_int_equal(m->guard.min_requests, 10);
    assert_int_equal(c->keys[0].nregions, 2);
    assert_string_equal(c->keys[0].regions[1], "us");
    asc_config_free(c);

    /* the simple form is a route of one target with the defaults */
    c = load(P_MOCK "models:\n  a: {provider: mock, fallbacks: [{provider: mock, model: b}]}\n");
    assert_int_equal(c->models[0].ngroups, 2);
    assert_int_equal(c->models[0].retries, 0);
    assert_int_equal(c->models[0].sticky, ASC_STICKY_NONE);
    assert_false(c->models[0].has_guard);
    assert_null(c->keys);
    asc_config_free(c);
}

static void test_route_errors(void **state)
{
    (void)state;
    bad(P_MOCK "models:\n  a: {provider: mock, targets: [{provider: mock}]}\n",
        "models.a: give either provider/model (one target) or targets, not both");
    bad(P_MOCK "models:\n  a: {targets: []}\n",
        "models.a.targets: must be a non-empty sequence of targets (- provider: ...)");
    bad(P_MOCK "models:\n  a: {targets: [{provider: mock, weight: 0}]}\n",
        "models.a.targets: the weights of a group must not all be 0");
    bad(P_MOCK "models:\n  a: {targets: [{provider: mock, weight: -1}]}\n",
        "models.a.targets[0].weight: must be a number between 0 and 1e+06");
    bad(P_MOCK "models:\n  a: {targets: [{provider: mock, wieght: 2}]}\n",
        "models.a.targets[0].wieght: unknown key (did you mean \"weight\"?)");
    bad(P_MOCK "models:\n  a: {targets: [{provider: mokc}]}\n",
        "models.a.targets[0].provider: unknown provider \"mokc\" (did you mean \"mock\"?)");
    bad(P_MOCK "models:\n  a: {provider: mock, fallbacks: [{provider: mock, canary: true}]}\n",
        "models.a.fallbacks: a canary must be in targets, next to at least one baseline target");
    bad(P_MOCK "models:\n  a: {targets: [{provider: mock, canary: true}, {provider: mock, model: "
               "b, canary: true}]}\n",
        "models.a.targets: a canary must be in targets, next to at least one baseline target");
    bad(P_MOCK "models:\n  a: {targets: [{provider: mock, canary: true}]}\n",
        "models.a.targets: a canary must be in targets, next to at least one baseline target");
    bad(P_MOCK "models:\n  a: {provider: mock, sticky: cookie}\n",
        "models.a.sticky: unknown value \"cookie\" (expected none, user, key or header:<name>)");
    bad(P_MOCK "models:\n  a: {provider: mock, sticky: \"header:a b\"}\n",
        "models.a.sticky: invalid header name (letters, digits, '-' and '_')");
    bad(P_MOCK "models:\n  a: {provider: mock, retries: 11}\n",
        "models.a.retries: must be an integer between 0 and 10");
    bad(P_MOCK "models:\n  a: {provider: mock, backoff_ms: 500, max_backoff_ms: 100}\n",
        "models.a.max_backoff_ms: must not be below backoff_ms");
    bad(P_MOCK "models:\n  a: {provider: mock, breaker: {error_rate: 2}}\n",
        "models.a.breaker.error_rate: must be a number between 0 and 1");
    bad(P_MOCK "models:\n  a: {provider: mock, breaker: {window_ms: 500000}}\n",
        "models.a.breaker.window_ms: must be an integer between 1000 and 120000");
    bad(P_MOCK "models:\n  a: {provider: mock, canary_guard: {min_request: 3}}\n",
        "models.a.canary_guard.min_request: unknown key (did you mean \"min_requests\"?)");
    bad(P_MOCK "models:\n  a: {provider: mock, shadow: [{provider: mock, weight: 1}]}\n",
        "models.a.shadow[0].weight: unknown key (expected one of: provider, model, region, sample, "
        "connect_timeout_ms, first_byte_timeout_ms, idle_timeout_ms, total_timeout_ms)");
    bad(P_MOCK "models:\n  a: {provider: mock, fallbacks: {provider: mock}}\n",
        "models.a.fallbacks: must be a sequence of targets (- provider: ...) or groups (- "
        "targets: [...])");
    bad(P_MOCK "models:\n  a: {provider: mock}\nkeys:\n  - {name: k, key: env:K, regions: []}\n",
        "keys[0].regions: must be a sequence of 1 to 64 region names");
    bad(P_MOCK
        "models:\n  a: {provider: mock}\nkeys:\n  - {name: k, key: env:K, regions: [\"a b\"]}\n",
        "keys[0].regions[0]: must be a region name of at most 64 printable characters");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_default_config_valid),
        cmocka_unit_test(test_default_config_is_commented),
        cmocka_unit_test(test_empty_and_minimal),
        cmocka_unit_test(test_unknown_keys),
        cmocka_unit_test(test_yaml_errors_prefixed),
        cmocka_unit_test(test_server_defaults_and_values),
        cmocka_unit_test(test_server_listen),
        cmocka_unit_test(test_server_ranges),
        cmocka_unit_test(test_provider_fields),
        cmocka_unit_test(test_provider_name_and_kind),
        cmocka_unit_test(test_provider_base_url),
        cmocka_unit_test(test_provider_api_key),
        cmocka_unit_test(test_models),
        cmocka_unit_test(test_keys),
        cmocka_unit_test(test_env_expansion),
        cmocka_unit_test(test_env_expansion_tree),
        cmocka_unit_test(test_from_json),
        cmocka_unit_test(test_load_file),
        cmocka_unit_test(test_load_file_too_big),
        cmocka_unit_test(test_pattern_match),
        cmocka_unit_test(test_error_prefix_null_source),
        cmocka_unit_test(test_routes),
        cmocka_unit_test(test_route_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

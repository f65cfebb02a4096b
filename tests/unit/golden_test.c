/*
 * Golden files: every folder tests/golden/<upstream kind>/<case>/ is one
 * translation case, run in both directions through the same functions the
 * proxy uses (src/gateway/translate.c):
 *
 *   case.json              {"inbound": "openai-chat"|"openai-responses"|"anthropic",
 *                           "upstream_model": "...", "model": "<as the client sent it>",
 *                           "headers": {..optional request headers..},
 *                           "expect_error": "<substring>" (encoding must fail)}
 *   inbound.json           the client's request
 *   upstream_request.json  the exact upstream request (compared as JSON values)
 *   upstream_response.json | upstream_response.sse   what the provider answered
 *   client_output.json | client_output.sse           exactly what the client gets
 *
 * JSON is compared as values, ignoring fields named "created" and
 * "created_at" (clocks); SSE event by event (name and data). Adding a case
 * is adding a folder. ASC_GOLDEN_DIR overrides the root; ASC_GOLDEN_ONLY
 * runs the cases whose path contains that string.
 */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cjson/cJSON.h>
#include <cmocka.h>

#include "api/dialect.h"
#include "api/openai.h"
#include "gateway/translate.h"
#include "provider/adapter.h"
#include "provider/sse.h"

#ifndef GOLDEN_ROOT
#define GOLDEN_ROOT "tests/golden"
#endif

static char *slurp(const char *dir, const char *name, size_t *len)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return NULL;
    asc_buf_t b;
    asc_buf_init(&b, 0);
    char tmp[8192];
    size_t n;
    while ((n = fread(tmp, 1, sizeof tmp, f)) > 0)
        asc_buf_append(&b, tmp, n);
    fclose(f);
    if (b.data == NULL)
        asc_buf_append(&b, "", 0);
    return asc_buf_take(&b, len);
}

static void mask_clock(cJSON *j)
{
    if (j == NULL)
        return;
    if (cJSON_IsObject(j)) {
        cJSON_DeleteItemFromObjectCaseSensitive(j, "created");
        cJSON_DeleteItemFromObjectCaseSensitive(j, "created_at");
    }
    for (cJSON *c = j->child; c != NULL; c = c->next)
        mask_clock(c);
}

/* 1 when the two JSON texts are equal values (clock fields ignored). */
static int json_equal(const char *a, size_t alen, const char *b, size_t blen, const char *what,
                      const char *where)
{
    cJSON *ja = cJSON_ParseWithLength(a, alen), *jb = cJSON_ParseWithLength(b, blen);
    int ok = ja != NULL && jb != NULL;
    if (ok) {
        mask_clock(ja);
        mask_clock(jb);
        ok = cJSON_Compare(ja, jb, 1);
    }
    if (!ok) {
        char *pa = ja ? cJSON_Print(ja) : NULL, *pb = jb ? cJSON_Print(jb) : NULL;
        fprintf(stderr, "golden %s: %s differs\n--- expected\n%s\n--- got\n%s\n", where, what,
                pa ? pa : "(invalid JSON)", pb ? pb : "(invalid JSON)");
        free(pa);
        free(pb);
    }
    cJSON_Delete(ja);
    cJSON_Delete(jb);
    return ok;
}

typedef struct {
    char event[64];
    char *data;
    size_t len;
} sse_ev_t;

typedef struct {
    sse_ev_t ev[4096];
    size_t n;
} sse_list_t;

static int collect(void *ud, const char *event, const char *data, size_t len, size_t raw_end)
{
    sse_list_t *l = ud;
    (void)raw_end;
    if (l->n >= 4096)
        return 1;
    sse_ev_t *e = &l->ev[l->n++];
    snprintf(e->event, sizeof e->event, "%s", event);
    e->data = malloc(len + 1);
    memcpy(e->data, data, len);
    e->data[len] = '\0';
    e->len = len;
    return 0;
}

static void sse_parse(const char *text, size_t len, sse_list_t *l)
{
    asc_sse_t p;
    asc_sse_init(&p, 1 << 24);
    asc_sse_feed(&p, text, len, collect, l);
    asc_sse_free(&p);
}

static void sse_free(sse_list_t *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->ev[i].data);
    l->n = 0;
}

static int sse_equal(const char *want, size_t wlen, const char *got, size_t glen, const char *where)
{
    static sse_list_t a, b;
    sse_parse(want, wlen, &a);
    sse_parse(got, glen, &b);
    int ok = 1;
    size_t n = a.n > b.n ? a.n : b.n;
    for (size_t i = 0; i < n && ok; i++) {
        char what[64];
        snprintf(what, sizeof what, "SSE event %zu", i);
        if (i >= a.n || i >= b.n) {
            fprintf(stderr, "golden %s: %s: expected %zu events, got %zu\n--- got\n%.*s\n", where,
                    what, a.n, b.n, (int)glen, got);
            ok = 0;
            break;
        }
        if (strcmp(a.ev[i].event, b.ev[i].event) != 0) {
            fprintf(stderr, "golden %s: %s: event name \"%s\", got \"%s\"\n", where, what,
                    a.ev[i].event, b.ev[i].event);
            ok = 0;
            break;
        }
        int aj = a.ev[i].data[0] == '{' || a.ev[i].data[0] == '[';
        if (aj && strcmp(a.ev[i].data, "[DONE]") != 0)
            ok = json_equal(a.ev[i].data, a.ev[i].len, b.ev[i].data, b.ev[i].len, what, where);
        else if (strcmp(a.ev[i].data, b.ev[i].data) != 0) {
            fprintf(stderr, "golden %s: %s: data \"%s\", got \"%s\"\n", where, what, a.ev[i].data,
                    b.ev[i].data);
            ok = 0;
        }
    }
    sse_free(&a);
    sse_free(&b);
    return ok;
}

static const asc_dialect_t *dialect_named(const char *name)
{
    if (strcmp(name, "openai-chat") == 0)
        return &asc_dialect_openai_chat;
    if (strcmp(name, "openai-responses") == 0)
        return &asc_dialect_openai_responses;
    if (strcmp(name, "anthropic") == 0)
        return &asc_dialect_anthropic;
    return NULL;
}

typedef struct {
    asc_xstream_t *x;
    int failed;
} feed_t;

static int feed_event(void *ud, const char *event, const char *data, size_t len, size_t raw_end)
{
    feed_t *f = ud;
    (void)raw_end;
    asc_err_t e = asc_xstream_event(f->x, event, data, len);
    if (e == ASC_ECLOSED) {
        asc_xstream_error(f->x, f->x->error_status, f->x->error_code, f->x->error_message);
        f->failed = 1;
        return 1;
    }
    if (e != ASC_OK) {
        asc_xstream_error(f->x, 502, "upstream_error",
                          "the upstream sent a malformed stream event");
        f->failed = 1;
        return 1;
    }
    return 0;
}

/* Run one case; returns 1 when it passes. */
static int run_case(const char *dir, const char *kind)
{
    int ok = 0;
    size_t n;
    asc_pool_t *pool = asc_pool_create(0);
    asc_buf_t up, out;
    asc_buf_init(&up, 0);
    asc_buf_init(&out, 0);
    char *casej = slurp(dir, "case.json", &n);
    cJSON *cj = casej ? cJSON_ParseWithLength(casej, n) : NULL;
    size_t inlen = 0, reqlen = 0, resplen = 0, wantlen = 0;
    char *inbound = slurp(dir, "inbound.json", &inlen);
    char *want_req = slurp(dir, "upstream_request.json", &reqlen);
    int stream = 0;
    char *resp = slurp(dir, "upstream_response.json", &resplen);
    if (resp == NULL) {
        resp = slurp(dir, "upstream_response.sse", &resplen);
        stream = resp != NULL;
    }
    char *want = slurp(dir, stream ? "client_output.sse" : "client_output.json", &wantlen);
    const cJSON *jin = cJSON_GetObjectItemCaseSensitive(cj, "inbound");
    const cJSON *jum = cJSON_GetObjectItemCaseSensitive(cj, "upstream_model");
    const cJSON *jm = cJSON_GetObjectItemCaseSensitive(cj, "model");
    const cJSON *jerr = cJSON_GetObjectItemCaseSensitive(cj, "expect_error");
    const cJSON *jh = cJSON_GetObjectItemCaseSensitive(cj, "headers");
    const asc_adapter_t *a = asc_adapter_for_kind(kind);
    const asc_dialect_t *d = cJSON_IsString(jin) ? dialect_named(jin->valuestring) : NULL;
    if (a == NULL || d == NULL || inbound == NULL || !cJSON_IsString(jum) || !cJSON_IsString(jm) ||
        (!cJSON_IsString(jerr) && (want_req == NULL || resp == NULL || want == NULL))) {
        fprintf(stderr,
                "golden %s: incomplete case (case.json, inbound.json, upstream_request.json, "
                "upstream_response.*, client_output.*; known kind and dialect)\n",
                dir);
        goto out;
    }
    const char *um = jum->valuestring, *model = jm->valuestring;
    char err[512] = "";
    int passthrough = d == &asc_dialect_openai_chat && a->chat_request != NULL;
    asc_api_request_t api;
    asc_chat_req_t canon;
    memset(&canon, 0, sizeof canon);
    asc_err_t e;
    int include_usage = 0;
    if (passthrough) {
        e = asc_api_openai_decode(pool, ASC_OP_CHAT, inbound, inlen, &api, err, sizeof err);
        if (e == ASC_OK)
            e = a->chat_request(&api, um, &up, err, sizeof err);
        include_usage = api.include_usage;
    } else {
        /* a request with the headers the case names (anthropic-version by default) */
        asc_http_header_t hdrs[16];
        size_t nh = 0;
        hdrs[nh++] = (asc_http_header_t){"anthropic-version", 17, "2023-06-01", 10};
        for (cJSON *h = jh ? jh->child : NULL; h != NULL && nh < 16; h = h->next)
            if (cJSON_IsString(h))
                hdrs[nh++] = (asc_http_header_t){h->string, strlen(h->string), h->valuestring,
                                                 strlen(h->valuestring)};
        asc_http_req_t req;
        memset(&req, 0, sizeof req);
        req.headers = hdrs;
        req.nheaders = nh;
        req.pool = pool;
        e = d->decode(pool, inbound, inlen, &req, &canon, err, sizeof err);
        if (e == ASC_OK)
            e = a->encode_chat(&canon, um, pool, &up, err, sizeof err);
        include_usage = canon.include_usage;
    }
    if (cJSON_IsString(jerr)) {
        ok = e != ASC_OK && strstr(err, jerr->valuestring) != NULL;
        if (!ok)
            fprintf(stderr, "golden %s: expected an error containing \"%s\", got %s \"%s\"\n", dir,
                    jerr->valuestring, e == ASC_OK ? "success" : "error", err);
        goto out;
    }
    if (e != ASC_OK) {
        fprintf(stderr, "golden %s: request translation failed: %s\n", dir, err);
        goto out;
    }
    if (!json_equal(want_req, reqlen, up.data, up.len, "upstream request", dir))
        goto out;
    if (!stream) {
        if (passthrough) {
            asc_usage_t u;
            char fr[32];
            size_t gen;
            if (a->parse_response(pool, resp, resplen, &u, fr, sizeof fr, &gen) != ASC_OK) {
                fprintf(stderr, "golden %s: pass-through response rejected\n", dir);
                goto out;
            }
            asc_buf_append(&out, resp, resplen);
        } else {
            asc_usage_t u;
            char fr[32];
            size_t gen;
            if (asc_translate_response(a, d, pool, resp, resplen, model, &out, &u, fr, sizeof fr,
                                       &gen) != ASC_OK) {
                fprintf(stderr, "golden %s: response translation failed\n", dir);
                goto out;
            }
        }
        ok = json_equal(want, wantlen, out.data, out.len, "client output", dir);
        goto out;
    }
    asc_xstream_t x;
    asc_xstream_init(&x, a, passthrough ? NULL : d, &canon, model, passthrough, include_usage, pool,
                     &out);
    feed_t f = {&x, 0};
    asc_sse_t p;
    asc_sse_init(&p, 1 << 24);
    asc_sse_feed(&p, resp, resplen, feed_event, &f);
    if (!f.failed && !asc_xstream_finish(&x))
        asc_xstream_error(&x, 502, "upstream_error",
                          "the upstream stream ended before it was complete");
    asc_sse_free(&p);
    asc_xstream_free(&x);
    ok = sse_equal(want, wantlen, out.data ? out.data : "", out.len, dir);
out:
    cJSON_Delete(cj);
    free(casej);
    free(inbound);
    free(want_req);
    free(resp);
    free(want);
    asc_buf_free(&up);
    asc_buf_free(&out);
    asc_pool_destroy(pool);
    return ok;
}

static void test_golden(void **state)
{
    (void)state;
    const char *root = getenv("ASC_GOLDEN_DIR") ? getenv("ASC_GOLDEN_DIR") : GOLDEN_ROOT;
    const char *only = getenv("ASC_GOLDEN_ONLY");
    DIR *kinds = opendir(root);
    assert_non_null(kinds);
    int total = 0, failed = 0;
    struct dirent *k;
    while ((k = readdir(kinds)) != NULL) {
        if (k->d_name[0] == '.')
            continue;
        char kdir[512];
        snprintf(kdir, sizeof kdir, "%s/%s", root, k->d_name);
        DIR *cases = opendir(kdir);
        if (cases == NULL)
            continue;
        struct dirent *cse;
        while ((cse = readdir(cases)) != NULL) {
            if (cse->d_name[0] == '.')
                continue;
            char cdir[1024];
            snprintf(cdir, sizeof cdir, "%s/%s", kdir, cse->d_name);
            struct stat st;
            if (stat(cdir, &st) != 0 || !S_ISDIR(st.st_mode))
                continue;
            if (only != NULL && strstr(cdir, only) == NULL)
                continue;
            total++;
            if (!run_case(cdir, k->d_name)) {
                failed++;
                fprintf(stderr, "FAILED golden case %s\n", cdir);
            }
        }
        closedir(cases);
    }
    closedir(kinds);
    fprintf(stderr, "golden cases: %d passed, %d failed\n", total - failed, failed);
    assert_true(total > 0);
    assert_int_equal(failed, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_golden),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

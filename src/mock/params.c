/*
 * Behaviour parameters: "NAME@k=v,k=v" in the model name, runtime overrides
 * (override.c) and x-mock-<k> request headers (which win).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mock/mock_int.h"

typedef enum { KIND_U32, KIND_RATE, KIND_FAULT } kind_t;

typedef struct {
    const char *name;
    kind_t kind;
    unsigned bit;
    size_t off;
    uint32_t min, max;
} pdef_t;

#define U32(field, bit, lo, hi)                                                                    \
    {                                                                                              \
#field, KIND_U32, bit, offsetof(asc_mock_params_t, field), lo, hi                          \
    }

static const pdef_t defs[] = {
    U32(latency_ms, ASC_MOCK_P_LATENCY, 0, ASC_MOCK_MAX_DELAY_MS),
    U32(ttft_ms, ASC_MOCK_P_TTFT, 0, ASC_MOCK_MAX_DELAY_MS),
    U32(itl_ms, ASC_MOCK_P_ITL, 0, ASC_MOCK_MAX_DELAY_MS),
    U32(tokens, ASC_MOCK_P_TOKENS, 0, ASC_MOCK_MAX_TOKENS),
    U32(chunk, ASC_MOCK_P_CHUNK, 1, ASC_MOCK_MAX_TOKENS),
    {"fault", KIND_FAULT, ASC_MOCK_P_FAULT, offsetof(asc_mock_params_t, fault), 0, 0},
    U32(fault_after, ASC_MOCK_P_FAULT_AFTER, 0, ASC_MOCK_MAX_TOKENS),
    {"fault_rate", KIND_RATE, ASC_MOCK_P_FAULT_RATE, offsetof(asc_mock_params_t, fault_rate), 0, 1},
    U32(retry_after, ASC_MOCK_P_RETRY_AFTER, 0, 86400),
    U32(tool_calls, ASC_MOCK_P_TOOL_CALLS, 1, ASC_MOCK_MAX_TOOL_CALLS),
    U32(dims, ASC_MOCK_P_DIMS, 1, ASC_MOCK_MAX_DIMS),
};

static const char *const fault_names[] = {
    [ASC_MOCK_FAULT_NONE] = "none",
    [ASC_MOCK_FAULT_429] = "429",
    [ASC_MOCK_FAULT_500] = "500",
    [ASC_MOCK_FAULT_503] = "503",
    [ASC_MOCK_FAULT_529] = "529",
    [ASC_MOCK_FAULT_400] = "400",
    [ASC_MOCK_FAULT_401] = "401",
    [ASC_MOCK_FAULT_STALL] = "stall",
    [ASC_MOCK_FAULT_STALL_MID] = "stall_mid",
    [ASC_MOCK_FAULT_RESET] = "reset",
    [ASC_MOCK_FAULT_RESET_MID] = "reset_mid",
    [ASC_MOCK_FAULT_MALFORMED] = "malformed",
    [ASC_MOCK_FAULT_ERROR_EVENT] = "error_event",
    [ASC_MOCK_FAULT_REDIRECT] = "redirect",
    [ASC_MOCK_FAULT_CONTEXT] = "context",
};

#define NFAULTS (sizeof fault_names / sizeof fault_names[0])

void asc_mock_params_default(asc_mock_params_t *p)
{
    memset(p, 0, sizeof *p);
    p->tokens = 16;
    p->chunk = 1;
    p->fault_after = 3;
    p->fault_rate = 1.0;
    p->retry_after = 1;
    p->tool_calls = 1;
    p->dims = 8;
    p->fault = ASC_MOCK_FAULT_NONE;
}

const char *asc_mock_fault_name(asc_mock_fault_t f)
{
    return (size_t)f < NFAULTS ? fault_names[f] : "?";
}

static int parse_u32(const char *v, size_t n, uint32_t *out)
{
    uint64_t x = 0;
    if (n == 0 || n > 10)
        return -1;
    for (size_t i = 0; i < n; i++) {
        if (v[i] < '0' || v[i] > '9')
            return -1;
        x = x * 10 + (uint64_t)(v[i] - '0');
    }
    if (x > UINT32_MAX)
        return -1;
    *out = (uint32_t)x;
    return 0;
}

static int parse_rate(const char *v, size_t n, double *out)
{
    char tmp[32];
    if (n == 0 || n >= sizeof tmp)
        return -1;
    for (size_t i = 0; i < n; i++) {
        char ch = v[i];
        if (!((ch >= '0' && ch <= '9') || ch == '.'))
            return -1;
    }
    memcpy(tmp, v, n);
    tmp[n] = '\0';
    char *end = NULL;
    double d = strtod(tmp, &end);
    if (end != tmp + n || !isfinite(d) || d < 0.0 || d > 1.0)
        return -1;
    *out = d;
    return 0;
}

static int parse_fault(const char *v, size_t n, asc_mock_fault_t *out)
{
    for (size_t i = 0; i < NFAULTS; i++) {
        size_t fl = strlen(fault_names[i]);
        if (fl == n && strncasecmp(fault_names[i], v, n) == 0) {
            *out = (asc_mock_fault_t)i;
            return 0;
        }
    }
    /* "stall-mid" as well as "stall_mid". */
    char tmp[16];
    if (n >= sizeof tmp || memchr(v, '-', n) == NULL)
        return -1;
    for (size_t i = 0; i < n; i++)
        tmp[i] = v[i] == '-' ? '_' : v[i];
    return parse_fault(tmp, n, out);
}

asc_err_t asc_mock_params_set(asc_mock_params_t *p, const char *k, size_t klen, const char *v,
                              size_t vlen, char *err, size_t errlen)
{
    char key[32];
    const pdef_t *d = NULL;
    if (klen < sizeof key) {
        for (size_t i = 0; i < klen; i++) {
            char ch = k[i];
            if (ch >= 'A' && ch <= 'Z')
                ch = (char)(ch - 'A' + 'a');
            key[i] = ch == '-' ? '_' : ch;
        }
        key[klen] = '\0';
        for (size_t i = 0; i < sizeof defs / sizeof defs[0]; i++) {
            if (strcmp(defs[i].name, key) == 0) {
                d = &defs[i];
                break;
            }
        }
    }
    if (d == NULL) {
        snprintf(err, errlen, "unknown mock parameter '%.*s'", (int)(klen > 64 ? 64 : klen), k);
        return ASC_EINVAL;
    }
    int bad = 0;
    switch (d->kind) {
    case KIND_U32: {
        uint32_t x = 0;
        if (parse_u32(v, vlen, &x) != 0 || x < d->min || x > d->max)
            bad = 1;
        else
            memcpy((char *)p + d->off, &x, sizeof x);
        break;
    }
    case KIND_RATE: bad = parse_rate(v, vlen, &p->fault_rate) != 0; break;
    case KIND_FAULT: bad = parse_fault(v, vlen, &p->fault) != 0; break;
    }
    if (bad) {
        if (d->kind == KIND_U32)
            snprintf(err, errlen, "invalid value '%.*s' for mock parameter %s (integer %u..%u)",
                     (int)(vlen > 64 ? 64 : vlen), v, d->name, d->min, d->max);
        else if (d->kind == KIND_RATE)
            snprintf(err, errlen, "invalid value '%.*s' for mock parameter %s (0..1)",
                     (int)(vlen > 64 ? 64 : vlen), v, d->name);
        else
            snprintf(err, errlen, "invalid value '%.*s' for mock parameter fault",
                     (int)(vlen > 64 ? 64 : vlen), v);
        return ASC_EINVAL;
    }
    p->set |= d->bit;
    return ASC_OK;
}

asc_err_t asc_mock_params_parse(asc_mock_params_t *p, const char *s, size_t len, char *err,
                                size_t errlen)
{
    const char *end = s + len;
    while (s < end) {
        const char *comma = memchr(s, ',', (size_t)(end - s));
        const char *item_end = comma ? comma : end;
        if (item_end > s) {
            const char *eq = memchr(s, '=', (size_t)(item_end - s));
            if (eq == NULL) {
                snprintf(err, errlen, "mock parameter '%.*s' has no value",
                         (int)((item_end - s) > 64 ? 64 : (item_end - s)), s);
                return ASC_EINVAL;
            }
            asc_err_t e = asc_mock_params_set(p, s, (size_t)(eq - s), eq + 1,
                                              (size_t)(item_end - eq - 1), err, errlen);
            if (e != ASC_OK)
                return e;
        }
        s = item_end + 1;
    }
    return ASC_OK;
}

asc_err_t asc_mock_params_model(asc_mock_params_t *p, const char *model, size_t len,
                                size_t *name_len, char *err, size_t errlen)
{
    const char *at = memchr(model, '@', len);
    *name_len = at ? (size_t)(at - model) : len;
    if (at == NULL)
        return ASC_OK;
    return asc_mock_params_parse(p, at + 1, (size_t)(model + len - at - 1), err, errlen);
}

asc_err_t asc_mock_params_headers(asc_mock_params_t *p, const asc_http_header_t *h, size_t n,
                                  char *err, size_t errlen)
{
    for (size_t i = 0; i < n; i++) {
        if (h[i].name_len <= 7 || strncasecmp(h[i].name, "x-mock-", 7) != 0)
            continue;
        asc_err_t e = asc_mock_params_set(p, h[i].name + 7, h[i].name_len - 7, h[i].value,
                                          h[i].value_len, err, errlen);
        if (e != ASC_OK)
            return e;
    }
    return ASC_OK;
}

void asc_mock_params_overlay(asc_mock_params_t *dst, const asc_mock_params_t *src)
{
    for (size_t i = 0; i < sizeof defs / sizeof defs[0]; i++) {
        const pdef_t *d = &defs[i];
        if (!(src->set & d->bit))
            continue;
        switch (d->kind) {
        case KIND_U32:
            memcpy((char *)dst + d->off, (const char *)src + d->off, sizeof(uint32_t));
            break;
        case KIND_RATE: dst->fault_rate = src->fault_rate; break;
        case KIND_FAULT: dst->fault = src->fault; break;
        }
        dst->set |= d->bit;
    }
}

/*
 * Embeddings of the mock (OpenAI and Mistral paths): deterministic vectors
 * of unit length derived from a hash of each input, as JSON floats or as
 * base64 of little-endian float32 (the openai SDK asks for base64 by
 * default).
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mock/mock_int.h"

static const char *const oai_fields[] = {"dimensions", "encoding_format", "input", "model", "user"};
static const char *const mistral_fields[] = {"encoding_format",  "input",       "metadata", "model",
                                             "output_dimension", "output_dtype"};

#define N(a) (sizeof(a) / sizeof(a)[0])

typedef struct {
    const void *data;
    size_t len;
} input_t;

static uint64_t splitmix64(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

void asc_mock_embed_vector(const void *data, size_t len, uint32_t dims, float *out)
{
    const unsigned char *p = data;
    uint64_t h = 0xcbf29ce484222325ull; /* FNV-1a */
    for (size_t i = 0; i < len; i++) {
        h ^= p[i];
        h *= 0x100000001b3ull;
    }
    double sum = 0;
    for (uint32_t i = 0; i < dims; i++) {
        double v = (double)(splitmix64(&h) >> 11) * (1.0 / 9007199254740992.0) * 2.0 - 1.0;
        out[i] = (float)v;
        sum += (double)out[i] * out[i];
    }
    double norm = sqrt(sum);
    if (norm == 0)
        norm = 1;
    for (uint32_t i = 0; i < dims; i++)
        out[i] = (float)(out[i] / norm);
}

static void base64_append(asc_buf_t *b, const unsigned char *p, size_t n)
{
    static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)p[i] << 16;
        if (i + 1 < n)
            v |= (uint32_t)p[i + 1] << 8;
        if (i + 2 < n)
            v |= p[i + 2];
        char q[4] = {tab[(v >> 18) & 63], tab[(v >> 12) & 63], i + 1 < n ? tab[(v >> 6) & 63] : '=',
                     i + 2 < n ? tab[v & 63] : '='};
        asc_buf_append(b, q, 4);
    }
}

static int fail(const asc_mock_dialect_t *d, asc_buf_t *out, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(const asc_mock_dialect_t *d, asc_buf_t *out, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    asc_buf_clear(out);
    return d->error(out, ASC_MOCK_E_INVALID, msg);
}

/* A token array as bytes: each token as 8 little-endian bytes. */
static input_t tokens_input(const cJSON *arr, asc_pool_t *pool, size_t *ntok)
{
    int n = cJSON_GetArraySize(arr);
    unsigned char *buf = asc_pool_alloc(pool, (size_t)n * 8 + 1);
    const cJSON *t;
    size_t k = 0;
    cJSON_ArrayForEach(t, arr)
    {
        uint64_t v = (uint64_t)(long long)t->valuedouble;
        for (int i = 0; i < 8; i++)
            buf[k++] = (unsigned char)(v >> (8 * i));
    }
    *ntok += (size_t)n;
    return (input_t){buf, k};
}

static int all_ints(const cJSON *arr)
{
    const cJSON *t;
    long long v;
    cJSON_ArrayForEach(t, arr)
    {
        if (!asc_mock_json_int(t, &v))
            return 0;
    }
    return 1;
}

int asc_mock_embed(asc_buf_t *out, const asc_mock_dialect_t *d, const char *body, size_t len,
                   const asc_mock_params_t *hdr, asc_mock_params_t *p, uint32_t *prompt_tokens,
                   asc_pool_t *pool)
{
    char msg[256];
    int status = 200;
    int mistral = d->id == ASC_MOCK_MISTRAL;
    asc_mock_chat_t c;
    memset(&c, 0, sizeof c);
    c.d = d;
    asc_mock_params_default(&c.p);
    asc_mock_params_overlay(&c.p, hdr);
    if (prompt_tokens != NULL)
        *prompt_tokens = 0;
    cJSON *root = cJSON_ParseWithLength(body, len);
    asc_buf_clear(out);
    if (root == NULL) {
        status = fail(d, out, "We could not parse the JSON body of your request.");
        goto out;
    }
    if (!cJSON_IsObject(root)) {
        status = fail(d, out, "Invalid body: expected a JSON object.");
        goto out;
    }
    const cJSON *f;
    if (mistral) {
        asc_mock_verr_t v;
        asc_mock_verr_init(&v);
        asc_mock_verr_extras(&v, root, mistral_fields, N(mistral_fields), "\"body\"");
        if (!cJSON_IsString(cJSON_GetObjectItemCaseSensitive(root, "model")))
            asc_mock_verr_add(&v, "missing", "Field required", "\"body\",\"model\"", NULL);
        if (cJSON_GetObjectItemCaseSensitive(root, "input") == NULL)
            asc_mock_verr_add(&v, "missing", "Field required", "\"body\",\"input\"", NULL);
        if (v.n > 0) {
            status = asc_mock_verr_finish(&v, out);
            goto out;
        }
        asc_buf_free(&v.detail);
    } else {
        cJSON_ArrayForEach(f, root)
        {
            if (!asc_mock_known(oai_fields, N(oai_fields), f->string)) {
                status = fail(d, out, "Unrecognized request argument supplied: %.128s", f->string);
                goto out;
            }
        }
    }
    const cJSON *model = cJSON_GetObjectItemCaseSensitive(root, "model");
    if (!cJSON_IsString(model)) {
        status = fail(d, out, "you must provide a model parameter");
        goto out;
    }
    if (asc_mock_chat_model(&c, model->valuestring, strlen(model->valuestring), hdr, pool, msg,
                            sizeof msg) != ASC_OK) {
        status = fail(d, out, "%s", msg);
        goto out;
    }

    /* Inputs. */
    const cJSON *in = cJSON_GetObjectItemCaseSensitive(root, "input");
    input_t *inputs = NULL;
    size_t ninputs = 0, bytes = 0, ntok = 0;
    if (cJSON_IsString(in)) {
        inputs = asc_pool_alloc(pool, sizeof *inputs);
        inputs[0] = (input_t){in->valuestring, strlen(in->valuestring)};
        bytes = inputs[0].len;
        ninputs = 1;
    } else if (cJSON_IsArray(in) && cJSON_GetArraySize(in) > 0) {
        int n = cJSON_GetArraySize(in);
        const cJSON *first = cJSON_GetArrayItem(in, 0);
        if (n > ASC_MOCK_MAX_INPUTS) {
            status = fail(d, out, "Invalid 'input': maximum %d inputs per request.",
                          ASC_MOCK_MAX_INPUTS);
            goto out;
        }
        if (cJSON_IsNumber(first) && !mistral) {
            if (!all_ints(in)) {
                status = fail(d, out, "Invalid 'input': expected an array of integers.");
                goto out;
            }
            inputs = asc_pool_alloc(pool, sizeof *inputs);
            inputs[0] = tokens_input(in, pool, &ntok);
            ninputs = 1;
        } else {
            inputs = asc_pool_alloc(pool, sizeof *inputs * (size_t)n);
            const cJSON *x;
            cJSON_ArrayForEach(x, in)
            {
                if (cJSON_IsString(x)) {
                    inputs[ninputs] = (input_t){x->valuestring, strlen(x->valuestring)};
                    bytes += inputs[ninputs].len;
                } else if (cJSON_IsArray(x) && !mistral && all_ints(x)) {
                    inputs[ninputs] = tokens_input(x, pool, &ntok);
                } else {
                    status = fail(d, out, "Invalid 'input[%zu]': expected a string%s.", ninputs,
                                  mistral ? "" : " or an array of integers");
                    goto out;
                }
                ninputs++;
            }
        }
    } else {
        status = fail(d, out, "Invalid 'input': expected a non-empty string or array%s.",
                      mistral ? " of strings" : "");
        goto out;
    }

    /* Dimensions: dims= wins, then the request's own field, then 8. */
    uint32_t dims = c.p.dims;
    const cJSON *dj =
        cJSON_GetObjectItemCaseSensitive(root, mistral ? "output_dimension" : "dimensions");
    if (!(c.p.set & ASC_MOCK_P_DIMS) && dj != NULL && !cJSON_IsNull(dj)) {
        long long v;
        if (!asc_mock_json_int(dj, &v) || v < 1 || v > ASC_MOCK_MAX_DIMS) {
            status = fail(d, out, "Invalid '%s': expected an integer between 1 and %d.",
                          mistral ? "output_dimension" : "dimensions", ASC_MOCK_MAX_DIMS);
            goto out;
        }
        dims = (uint32_t)v;
    }
    if ((uint64_t)dims * ninputs > ASC_MOCK_MAX_FLOATS) {
        status = fail(d, out, "Too many embedding values requested (inputs x dimensions > %u).",
                      ASC_MOCK_MAX_FLOATS);
        goto out;
    }
    int b64 = 0;
    const cJSON *ef = cJSON_GetObjectItemCaseSensitive(root, "encoding_format");
    if (ef != NULL && !cJSON_IsNull(ef)) {
        if (cJSON_IsString(ef) && strcmp(ef->valuestring, "base64") == 0)
            b64 = 1;
        else if (!cJSON_IsString(ef) || strcmp(ef->valuestring, "float") != 0) {
            status =
                fail(d, out, "Invalid value for 'encoding_format': expected 'float' or 'base64'.");
            goto out;
        }
    }

    uint32_t usage =
        ntok > 0 && bytes == 0 ? (uint32_t)ntok : asc_mock_count_tokens(bytes) + (uint32_t)ntok;
    if (prompt_tokens != NULL)
        *prompt_tokens = usage;
    float *vec = asc_pool_alloc(pool, sizeof *vec * dims);
    unsigned char *le = asc_pool_alloc(pool, 4u * dims);
    if (mistral)
        asc_buf_printf(out, "{\"id\":\"embd-mock%llu\",\"object\":\"list\",\"data\":[",
                       (unsigned long long)asc_mock_next_id());
    else
        asc_buf_puts(out, "{\"object\":\"list\",\"data\":[");
    for (size_t i = 0; i < ninputs; i++) {
        asc_mock_embed_vector(inputs[i].data, inputs[i].len, dims, vec);
        if (i > 0)
            asc_buf_putc(out, ',');
        asc_buf_printf(out, "{\"object\":\"embedding\",\"index\":%zu,\"embedding\":", i);
        if (b64) {
            for (uint32_t k = 0; k < dims; k++) {
                uint32_t bits;
                memcpy(&bits, &vec[k], 4);
                for (int j = 0; j < 4; j++)
                    le[4 * k + (uint32_t)j] = (unsigned char)(bits >> (8 * j));
            }
            asc_buf_putc(out, '"');
            base64_append(out, le, 4u * dims);
            asc_buf_putc(out, '"');
        } else {
            asc_buf_putc(out, '[');
            for (uint32_t k = 0; k < dims; k++)
                asc_buf_printf(out, k ? ",%.9g" : "%.9g", (double)vec[k]);
            asc_buf_putc(out, ']');
        }
        asc_buf_putc(out, '}');
    }
    asc_buf_puts(out, "],\"model\":\"");
    asc_mock_json_str_utf8(out, c.model, c.model_len);
    asc_buf_printf(out, "\",\"usage\":{\"prompt_tokens\":%u,\"total_tokens\":%u%s}}", usage, usage,
                   mistral ? ",\"completion_tokens\":0" : "");
out:
    *p = c.p;
    cJSON_Delete(root);
    return status;
}

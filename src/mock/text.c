/*
 * Generated text, token counting and small string helpers of the mock.
 *
 * The text is the endless sequence "Lorem ipsum ... labore et Lorem ...":
 * token i is word i % 16, preceded by a space when i > 0, so the tokens
 * [from, from + n) are one contiguous slice of the periodic string CYCLE.
 */
#include <stdatomic.h>
#include <string.h>

#include "mock/mock_int.h"

const char *const asc_mock_words[16] = {
    "Lorem", "ipsum", "dolor",   "sit",    "amet",       "consectetur", "adipiscing", "elit",
    "sed",   "do",    "eiusmod", "tempor", "incididunt", "ut",          "labore",     "et",
};

/* Every word followed by one space; word w starts at woff[w]. */
static const char CYCLE[] = "Lorem ipsum dolor sit amet consectetur adipiscing elit sed do "
                            "eiusmod tempor incididunt ut labore et ";
#define CYCLE_LEN (sizeof CYCLE - 1)

static const uint8_t woff[16] = {0, 6, 12, 18, 22, 27, 39, 50, 55, 59, 62, 70, 77, 88, 91, 98};
static const uint8_t wlen[16] = {5, 5, 5, 3, 4, 11, 10, 4, 3, 2, 7, 6, 10, 2, 6, 2};

/* Offset in the infinite text of the first letter of token i. */
static uint64_t tok_start(uint64_t i)
{
    return (i / 16) * CYCLE_LEN + woff[i % 16];
}

static void slice_append(asc_buf_t *b, uint64_t begin, uint64_t end)
{
    if (end <= begin || asc_buf_reserve(b, (size_t)(end - begin)) != ASC_OK)
        return;
    while (begin < end) {
        size_t off = (size_t)(begin % CYCLE_LEN);
        size_t n = CYCLE_LEN - off;
        if (n > end - begin)
            n = (size_t)(end - begin);
        asc_buf_append(b, CYCLE + off, n);
        begin += n;
    }
}

static void range(uint32_t from, uint32_t n, uint64_t *begin, uint64_t *end)
{
    uint64_t last = (uint64_t)from + n - 1;
    *begin = from > 0 ? tok_start(from) - 1 : 0;
    *end = tok_start(last) + wlen[last % 16];
}

void asc_mock_text_append(asc_buf_t *b, uint32_t from, uint32_t n)
{
    if (n == 0)
        return;
    uint64_t begin, end;
    range(from, n, &begin, &end);
    slice_append(b, begin, end);
}

size_t asc_mock_text_len(uint32_t from, uint32_t n)
{
    if (n == 0)
        return 0;
    uint64_t begin, end;
    range(from, n, &begin, &end);
    return (size_t)(end - begin);
}

uint32_t asc_mock_count_tokens(size_t bytes)
{
    size_t t = (bytes + 3) / 4;
    if (t == 0)
        t = 1;
    return t > UINT32_MAX ? UINT32_MAX : (uint32_t)t;
}

/* Length of the valid UTF-8 sequence at s[0..n), 0 when invalid. */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
    unsigned char c = s[0];
    size_t len;
    uint32_t cp;
    if (c < 0x80)
        return 1;
    if (c >= 0xC2 && c <= 0xDF) {
        len = 2;
        cp = c & 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
        len = 3;
        cp = c & 0x0F;
    } else if (c >= 0xF0 && c <= 0xF4) {
        len = 4;
        cp = c & 0x07;
    } else {
        return 0;
    }
    if (n < len)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3F);
    }
    if ((len == 3 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) ||
        (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)))
        return 0;
    return len;
}

void asc_mock_json_str_utf8(asc_buf_t *b, const char *s, size_t n)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t start = 0, i = 0;
    while (i < n) {
        if (u[i] < 0x80) {
            i++;
            continue;
        }
        size_t l = utf8_seq(u + i, n - i);
        if (l > 0) {
            i += l;
            continue;
        }
        asc_buf_json_str(b, s + start, i - start);
        asc_buf_append(b, "\\ufffd", 6);
        i++;
        start = i;
    }
    asc_buf_json_str(b, s + start, n - start);
}

size_t asc_mock_utf8_cut(const char *s, size_t n, size_t max)
{
    if (n <= max)
        return n;
    size_t k = max;
    while (k > 0 && ((unsigned char)s[k] & 0xC0) == 0x80)
        k--;
    return k > 0 ? k : max;
}

static atomic_ullong id_seq;

uint64_t asc_mock_next_id(void)
{
    return (uint64_t)atomic_fetch_add(&id_seq, 1) + 1;
}

void asc_mock_id9(uint64_t n, char out[10])
{
    static const char digits[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    for (int i = 8; i >= 0; i--) {
        out[i] = digits[n % 62];
        n /= 62;
    }
    out[9] = '\0';
}

int asc_mock_contains_ci(const char *hay, size_t hlen, const char *needle, size_t nlen)
{
    if (nlen == 0)
        return 1;
    for (size_t i = 0; i + nlen <= hlen; i++) {
        size_t j = 0;
        while (j < nlen) {
            char a = hay[i + j], c = needle[j];
            if (a >= 'A' && a <= 'Z')
                a = (char)(a - 'A' + 'a');
            if (c >= 'A' && c <= 'Z')
                c = (char)(c - 'A' + 'a');
            if (a != c)
                break;
            j++;
        }
        if (j == nlen)
            return 1;
    }
    return 0;
}

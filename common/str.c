/*
 * str.c - helpers for struct str. UTF-8 validation follows RFC 3629 section 4 (the
 * well-formed byte sequences table), so overlong forms and surrogates are refused.
 */
#include "str.h"

#include <string.h>
#include <strings.h>

#include "arena.h"

struct str
str_from(const char *s)
{
    return s == NULL ? STR_NULL : (struct str){s, strlen(s)};
}

char *
str_cstr(struct arena *a, struct str s)
{
    if (s.len > 0 && memchr(s.p, '\0', s.len) != NULL) {
        return NULL;
    }
    return arena_strndup(a, s.len > 0 ? s.p : "", s.len);
}

bool
str_eq(struct str a, struct str b)
{
    return a.len == b.len && (a.len == 0 || memcmp(a.p, b.p, a.len) == 0);
}

bool
str_eq_cstr(struct str a, const char *b)
{
    return str_eq(a, str_from(b));
}

bool
str_ieq_cstr(struct str a, const char *b)
{
    size_t n = strlen(b);

    return a.len == n && (n == 0 || strncasecmp(a.p, b, n) == 0);
}

bool
str_has_prefix(struct str s, const char *prefix)
{
    size_t n = strlen(prefix);

    return s.len >= n && (n == 0 || memcmp(s.p, prefix, n) == 0);
}

struct str
str_trim(struct str s)
{
    while (s.len > 0 && (s.p[0] == ' ' || s.p[0] == '\t')) {
        s.p++;
        s.len--;
    }
    while (s.len > 0 && (s.p[s.len - 1] == ' ' || s.p[s.len - 1] == '\t')) {
        s.len--;
    }
    return s;
}

struct str
str_cut(struct str s, char c, struct str *head)
{
    const char *at = s.len > 0 ? memchr(s.p, c, s.len) : NULL;

    if (at == NULL) {
        *head = s;
        return STR_NULL;
    }
    *head = (struct str){s.p, (size_t)(at - s.p)};
    return (struct str){at + 1, s.len - head->len - 1};
}

int
str_to_u64(struct str s, uint64_t min, uint64_t max, uint64_t *out)
{
    uint64_t v = 0;
    size_t i;

    if (s.len == 0 || s.len > 20 || (s.len > 1 && s.p[0] == '0')) {
        return -1;
    }
    for (i = 0; i < s.len; i++) {
        unsigned d = (unsigned char)s.p[i] - (unsigned)'0';

        if (d > 9 || v > (UINT64_MAX - d) / 10) {
            return -1;
        }
        v = v * 10 + d;
    }
    if (v < min || v > max) {
        return -1;
    }
    *out = v;
    return 0;
}

/* Returns the length of the well-formed sequence at p (at most n bytes), or 0. */
static size_t
utf8_seq(const unsigned char *p, size_t n)
{
    unsigned char c = p[0];
    unsigned char lo = 0x80, hi = 0xBF;
    size_t len, i;

    if (c < 0x80) {
        return 1;
    }
    if (c >= 0xC2 && c <= 0xDF) {
        len = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
        len = 3;
        lo = c == 0xE0 ? 0xA0 : 0x80;
        hi = c == 0xED ? 0x9F : 0xBF;
    } else if (c >= 0xF0 && c <= 0xF4) {
        len = 4;
        lo = c == 0xF0 ? 0x90 : 0x80;
        hi = c == 0xF4 ? 0x8F : 0xBF;
    } else {
        return 0;
    }
    if (n < len || p[1] < lo || p[1] > hi) {
        return 0;
    }
    for (i = 2; i < len; i++) {
        if (p[i] < 0x80 || p[i] > 0xBF) {
            return 0;
        }
    }
    return len;
}

bool
str_is_utf8(struct str s)
{
    const unsigned char *p = (const unsigned char *)s.p;
    size_t i = 0, n;

    while (i < s.len) {
        if ((n = utf8_seq(p + i, s.len - i)) == 0) {
            return false;
        }
        i += n;
    }
    return true;
}

size_t
str_utf8_len(struct str s)
{
    size_t i, n = 0;

    for (i = 0; i < s.len; i++) {
        if (((unsigned char)s.p[i] & 0xC0) != 0x80) {
            n++;
        }
    }
    return n;
}

uint32_t
str_hash(struct str s)
{
    uint32_t h = 2166136261u;
    size_t i;

    for (i = 0; i < s.len; i++) {
        h = (h ^ (unsigned char)s.p[i]) * 16777619u;
    }
    return h;
}

bool
str_is_oid_hex(struct str s)
{
    size_t i;

    if (s.len != STR_OID_HEX) {
        return false;
    }
    for (i = 0; i < s.len; i++) {
        if (!((s.p[i] >= '0' && s.p[i] <= '9') || (s.p[i] >= 'a' && s.p[i] <= 'f'))) {
            return false;
        }
    }
    return true;
}

char *
str_lower_cstr(struct arena *a, struct str s)
{
    char *c = str_cstr(a, s);
    size_t i;

    for (i = 0; c != NULL && c[i] != '\0'; i++) {
        if (c[i] >= 'A' && c[i] <= 'Z') {
            c[i] = (char)(c[i] - 'A' + 'a');
        }
    }
    return c;
}

/* The code point of the well-formed sequence of n bytes at p. */
static uint32_t
utf8_decode(const unsigned char *p, size_t n)
{
    static const unsigned char lead_mask[] = {0, 0x7F, 0x1F, 0x0F, 0x07};
    uint32_t cp = p[0] & lead_mask[n];
    size_t i;

    for (i = 1; i < n; i++) {
        cp = (cp << 6) | (p[i] & 0x3Fu);
    }
    return cp;
}

/*
 * Unicode's format characters (general category Cf) that change how text around them is
 * shown without showing themselves: bidirectional overrides and isolates, zero-width
 * joiners and spaces, invisible operators, the soft hyphen, tags. Unicode 15.
 */
static const struct {
    uint32_t lo, hi;
} format_chars[] = {
    {0x00AD, 0x00AD},   {0x0600, 0x0605},   {0x061C, 0x061C},   {0x06DD, 0x06DD},
    {0x070F, 0x070F},   {0x0890, 0x0891},   {0x08E2, 0x08E2},   {0x180E, 0x180E},
    {0x200B, 0x200F},   {0x202A, 0x202E},   {0x2060, 0x2064},   {0x2066, 0x206F},
    {0xFEFF, 0xFEFF},   {0xFFF9, 0xFFFB},   {0x110BD, 0x110BD}, {0x110CD, 0x110CD},
    {0x13430, 0x1343F}, {0x1BCA0, 0x1BCA3}, {0x1D173, 0x1D17A}, {0xE0001, 0xE0001},
    {0xE0020, 0xE007F},
};

static bool
is_format_char(uint32_t cp)
{
    size_t i;

    for (i = 0; i < sizeof(format_chars) / sizeof(format_chars[0]); i++) {
        if (cp >= format_chars[i].lo && cp <= format_chars[i].hi) {
            return true;
        }
    }
    return false;
}

bool
str_is_text(struct str s, unsigned flags)
{
    const unsigned char *p = (const unsigned char *)s.p;
    size_t i = 0, n;

    while (i < s.len) {
        uint32_t cp;

        if ((n = utf8_seq(p + i, s.len - i)) == 0) {
            return false;
        }
        cp = utf8_decode(p + i, n);
        i += n;
        if (cp == '\t' || cp == '\n' || cp == '\r') {
            if (!(flags & STR_MULTILINE)) {
                return false;
            }
        } else if (cp < 0x20 || (cp >= 0x7F && cp <= 0x9F)) { /* C0, DEL, C1 */
            return false;
        } else if ((flags & STR_NO_FORMAT) && is_format_char(cp)) {
            return false;
        }
    }
    return true;
}

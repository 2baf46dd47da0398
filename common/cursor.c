/*
 * cursor.c - list cursors: base64url of "<decimal key>.<24 lowercase hex>". The decoded
 * form is at most 20 + 1 + 24 bytes; anything longer, or with a sign, leading zeros,
 * uppercase hex or a missing part, is refused.
 */
#include "cursor.h"

#include <stdio.h>
#include <string.h>

#include "arena.h"
#include "bounds.h"
#include "crypto.h"

#define CURSOR_RAW 46 /* bytes of the decoded form at most: 20 digits, '.', 24 hex */

char *
cursor_format(struct arena *a, int64_t key, const char *id_hex)
{
    char raw[CURSOR_RAW + 1];
    int n;

    if (key < 0 || !str_is_oid_hex(str_from(id_hex))) {
        return NULL;
    }
    n = snprintf(raw, sizeof(raw), "%lld.%s", (long long)key, id_hex);
    return crypto_b64url(a, (const unsigned char *)raw, (size_t)n);
}

int
cursor_parse(struct str s, int64_t *key, char id_hex[25])
{
    unsigned char raw[CURSOR_RAW];
    struct str k, id;
    uint64_t v;
    size_t n;

    if (s.len == 0 || s.len > MAX_CURSOR || crypto_b64url_decode(s, raw, sizeof(raw), &n) == -1) {
        return -1;
    }
    id = str_cut((struct str){(const char *)raw, n}, '.', &k);
    if (id.p == NULL || !str_is_oid_hex(id) || str_to_u64(k, 0, (uint64_t)INT64_MAX, &v) == -1) {
        return -1;
    }
    *key = (int64_t)v;
    memcpy(id_hex, id.p, 24);
    id_hex[24] = '\0';
    return 0;
}

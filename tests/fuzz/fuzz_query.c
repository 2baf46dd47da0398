/*
 * fuzz_query.c - query strings (http_query_value). Properties: a value never holds a NUL,
 * is never longer than the query, and a value percent-encoded into a query reads back
 * exactly.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const names[] = {"q", "limit", "cursor", "tag", "owner", ""};
    static struct arena *a;
    struct str in = {(const char *)data, size}, v;
    char *enc, *p;
    size_t i;

    if (a == NULL && (a = arena_new(1 << 22)) == NULL) {
        abort();
    }
    arena_reset(a);
    for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        v = http_query_value(a, in, names[i]);
        if (v.p != NULL && (v.len > size || (v.len > 0 && memchr(v.p, '\0', v.len) != NULL))) {
            abort();
        }
    }
    /* Round trip: encode the input (without NULs) as the value of "q". */
    if ((enc = arena_alloc(a, 3 * size + 3)) == NULL) {
        abort();
    }
    p = enc;
    *p++ = 'q';
    *p++ = '=';
    for (i = 0; i < size; i++) {
        static const char hex[] = "0123456789ABCDEF";

        if (data[i] == 0) {
            return 0;
        }
        *p++ = '%';
        *p++ = hex[data[i] >> 4];
        *p++ = hex[data[i] & 15];
    }
    v = http_query_value(a, (struct str){enc, (size_t)(p - enc)}, "q");
    if (v.p == NULL || v.len != size || (size > 0 && memcmp(v.p, data, size) != 0)) {
        abort();
    }
    return 0;
}

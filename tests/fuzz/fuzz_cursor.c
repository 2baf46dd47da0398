/*
 * fuzz_cursor.c - list cursors. Properties: a cursor that parses is canonical (formatting
 * what was read gives back the same bytes), and any (key, id) formats to a cursor that
 * reads back to itself.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "cursor.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct arena *a;
    struct str in = {(const char *)data, size};
    char id[25], id2[25], *out;
    int64_t key, key2;
    size_t i;

    if (a == NULL && (a = arena_new(1 << 20)) == NULL) {
        abort();
    }
    arena_reset(a);
    if (cursor_parse(in, &key, id) == 0) {
        out = cursor_format(a, key, id);
        if (out == NULL || strlen(out) != size || memcmp(out, data, size) != 0) {
            abort(); /* two spellings of one cursor */
        }
    }
    /* Build a cursor from the input's bytes: key from the first 8, id from the next 12. */
    if (size >= 20) {
        uint64_t k = 0;

        for (i = 0; i < 8; i++) {
            k = k << 8 | data[i];
        }
        for (i = 0; i < 12; i++) {
            static const char hex[] = "0123456789abcdef";

            id[2 * i] = hex[data[8 + i] >> 4];
            id[2 * i + 1] = hex[data[8 + i] & 15];
        }
        id[24] = '\0';
        key = (int64_t)(k >> 1);
        out = cursor_format(a, key, id);
        if (out == NULL || cursor_parse(str_from(out), &key2, id2) != 0 || key2 != key ||
            strcmp(id, id2) != 0) {
            abort();
        }
    }
    return 0;
}

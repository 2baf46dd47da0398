/*
 * fuzz_text.c - the text rules of names, titles and descriptions (str_is_text) and the
 * ObjectId check. Properties: accepted text is valid UTF-8 with no byte below 0x20 but
 * tab, LF and CR (and those only with STR_MULTILINE) and no DEL; each flag only narrows
 * what is accepted; an accepted ObjectId is exactly 24 lowercase hex digits; lowering
 * changes no byte but ASCII capitals.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "str.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_text(struct str s)
{
    bool plain = str_is_text(s, 0), multi = str_is_text(s, STR_MULTILINE);
    bool names = str_is_text(s, STR_NO_FORMAT);
    size_t i;

    if ((plain && !multi) || (names && !plain) || (multi && !str_is_utf8(s))) {
        abort();
    }
    for (i = 0; multi && i < s.len; i++) {
        unsigned char c = (unsigned char)s.p[i];

        if ((c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == 0x7f ||
            (plain && (c == '\t' || c == '\n' || c == '\r'))) {
            abort();
        }
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct arena *a;
    struct str s = {(const char *)data, size};
    char *low;
    size_t i;

    if (a == NULL && (a = arena_new(1 << 22)) == NULL) {
        abort();
    }
    arena_reset(a);
    check_text(s);
    if (str_is_oid_hex(s)) {
        for (i = 0; i < size; i++) {
            if (size != STR_OID_HEX ||
                !((data[i] >= '0' && data[i] <= '9') || (data[i] >= 'a' && data[i] <= 'f'))) {
                abort();
            }
        }
    }
    if ((low = str_lower_cstr(a, s)) != NULL) {
        for (i = 0; i < size; i++) {
            unsigned char c = data[i], l = (unsigned char)low[i];

            if (l != c && !(c >= 'A' && c <= 'Z' && l == c - 'A' + 'a')) {
                abort();
            }
        }
    } else if (memchr(data, '\0', size) == NULL) {
        abort(); /* only a NUL (or a full arena) refuses */
    }
    return 0;
}

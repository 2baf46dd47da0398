/*
 * fuzz_image.c - the image signature check (image_sniff) and content names. Properties: a
 * format is found only with at least IMAGE_SNIFF_LEN bytes and exactly its signature (JPEG
 * FF D8 FF; PNG's 8 bytes and IHDR; RIFF....WEBP and a VP8/VP8L/VP8X chunk); only the first
 * IMAGE_SNIFF_LEN bytes decide; an accepted name is IMAGE_NAME_LEN lowercase hex digits.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "image.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_sniff(const uint8_t *p, size_t n)
{
    static const uint8_t png[] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    enum image_format f = image_sniff(p, n);

    if (n < IMAGE_SNIFF_LEN) {
        if (f != IMAGE_NONE) {
            abort();
        }
        return;
    }
    if (image_sniff(p, IMAGE_SNIFF_LEN) != f) {
        abort(); /* a byte past the signature changed the answer */
    }
    switch (f) {
    case IMAGE_JPEG:
        if (p[0] != 0xff || p[1] != 0xd8 || p[2] != 0xff) {
            abort();
        }
        break;
    case IMAGE_PNG:
        if (memcmp(p, png, sizeof(png)) != 0 || memcmp(p + 12, "IHDR", 4) != 0) {
            abort();
        }
        break;
    case IMAGE_WEBP:
        if (memcmp(p, "RIFF", 4) != 0 || memcmp(p + 8, "WEBP", 4) != 0 ||
            memcmp(p + 12, "VP8", 3) != 0) {
            abort();
        }
        break;
    case IMAGE_NONE:
        if ((p[0] == 0xff && p[1] == 0xd8 && p[2] == 0xff) ||
            (memcmp(p, png, sizeof(png)) == 0 && memcmp(p + 12, "IHDR", 4) == 0)) {
            abort(); /* a signature we take was missed */
        }
        break;
    }
}

static void
check_name(const uint8_t *p, size_t n)
{
    char name[IMAGE_NAME_LEN + 2];
    size_t i, len = n < sizeof(name) - 1 ? n : sizeof(name) - 1;

    memcpy(name, p, len);
    name[len] = '\0';
    if (!image_name_is_valid(name)) {
        return;
    }
    if (strlen(name) != IMAGE_NAME_LEN) {
        abort();
    }
    for (i = 0; i < IMAGE_NAME_LEN; i++) {
        if (strchr("0123456789abcdef", name[i]) == NULL) {
            abort();
        }
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    check_sniff(data, size);
    check_name(data, size);
    return 0;
}

/*
 * test_image.c - image signatures, content names and temp files (image.h). ffmpeg's part is
 * tested end to end (tests/e2e/test_images.py).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "arena.h"
#include "image.h"

static void
test_image_sniff_formats(void **state)
{
    static const unsigned char jpeg[16] = {0xff, 0xd8, 0xff, 0xe0};
    static const unsigned char png[16] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n',
                                          0,    0,   0,   13,  'I',  'H',  'D',  'R'};
    static const unsigned char webp[16] = {'R', 'I', 'F', 'F', 1,   2,   3,   4,
                                           'W', 'E', 'B', 'P', 'V', 'P', '8', 'L'};

    (void)state;
    assert_int_equal(image_sniff(jpeg, sizeof(jpeg)), IMAGE_JPEG);
    assert_int_equal(image_sniff(png, sizeof(png)), IMAGE_PNG);
    assert_int_equal(image_sniff(webp, sizeof(webp)), IMAGE_WEBP);
    assert_int_equal(image_sniff(jpeg, IMAGE_SNIFF_LEN - 1), IMAGE_NONE);
}

static void
test_image_sniff_refuses(void **state)
{
    static const char *const raw[] = {
        "GIF89a\x01\x00\x01\x00\x00\x00\x00\x00\x00\x00",
        "<svg xmlns=\"http://www.w3.org/2000/svg\">",
        "\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIDAT", /* first chunk not IHDR */
        "RIFF\x01\x02\x03\x04WAVEfmt ",          /* RIFF, not WebP */
        "RIFF\x01\x02\x03\x04WEBPANIM",          /* WebP, no image chunk first */
        "\xff\xd8\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00",
        "hello, world, this is text",
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(raw) / sizeof(raw[0]); i++) {
        assert_int_equal(image_sniff((const unsigned char *)raw[i], 16), IMAGE_NONE);
    }
}

static void
test_image_name_is_valid(void **state)
{
    (void)state;
    assert_true(image_name_is_valid("0123456789abcdef0123456789abcdef"));
    assert_false(image_name_is_valid("0123456789ABCDEF0123456789abcdef"));
    assert_false(image_name_is_valid("0123456789abcdef0123456789abcde"));
    assert_false(image_name_is_valid("0123456789abcdef0123456789abcdef0"));
    assert_false(image_name_is_valid("../../../../etc/passwd0123456789"));
    assert_false(image_name_is_valid(""));
    assert_false(image_name_is_valid(NULL));
}

static void
test_image_tmp_open_goes_with_the_arena(void **state)
{
    char root[] = "/tmp/stremora-image-XXXXXX", *path = NULL, copy[4096];
    struct arena *a = arena_new(1 << 16);
    struct stat st;
    int fd;

    (void)state;
    assert_non_null(mkdtemp(root));
    fd = image_tmp_open(a, root, &path);
    assert_true(fd >= 0);
    assert_non_null(path);
    assert_int_equal(strncmp(path, root, strlen(root)), 0);
    assert_non_null(strstr(path, "/images/tmp/"));
    snprintf(copy, sizeof(copy), "%s", path);
    assert_int_equal(write(fd, "x", 1), 1);
    assert_int_equal(stat(copy, &st), 0);
    arena_free(a); /* closes and removes it */
    assert_int_equal(stat(copy, &st), -1);
    /* image_remove ignores names it could not have made. */
    image_remove(root, IMAGE_AVATAR, "../tmp");
    image_remove(root, IMAGE_BANNER, NULL);
    snprintf(copy, sizeof(copy), "rm -rf '%s'", root);
    assert_int_equal(system(copy), 0);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_image_sniff_formats),
        cmocka_unit_test(test_image_sniff_refuses),
        cmocka_unit_test(test_image_name_is_valid),
        cmocka_unit_test(test_image_tmp_open_goes_with_the_arena),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}

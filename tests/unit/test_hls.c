/*
 * test_hls.c - the ladder plan (rungs by the short side, sizes even and in proportion,
 * portrait kept, a tiny source one rung at its own size, frame rates bounded), the
 * ffmpeg command's keyframe and per-rung settings, and hls_finish's master playlist
 * measured from playlists and segments written here.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "arena.h"
#include "bounds.h"
#include "hls.h"

static void
assert_rung(const struct hls_rung *r, const char *name, int w, int h)
{
    assert_string_equal(r->name, name);
    assert_int_equal(r->width, w);
    assert_int_equal(r->height, h);
}

static void
test_hls_plan_landscape(void **state)
{
    struct hls_ladder l;

    (void)state;
    hls_plan(1920, 1080, 30, true, &l);
    assert_int_equal(l.n, 5);
    assert_true(l.audio);
    assert_rung(&l.rungs[0], "1080p", 1920, 1080);
    assert_rung(&l.rungs[1], "720p", 1280, 720);
    assert_rung(&l.rungs[2], "480p", 854, 480);
    assert_rung(&l.rungs[3], "360p", 640, 360);
    assert_rung(&l.rungs[4], "240p", 426, 240);
    /* Bitrate caps fall with the rung; each names its own level. */
    for (size_t i = 1; i < l.n; i++) {
        assert_true(l.rungs[i].maxrate_k < l.rungs[i - 1].maxrate_k);
        assert_true(l.rungs[i].bufsize_k >= l.rungs[i].maxrate_k);
    }
    assert_string_equal(l.rungs[0].codecs, "avc1.640028");
    assert_string_equal(l.rungs[0].level, "4.0");
}

static void
test_hls_plan_never_upscales(void **state)
{
    struct hls_ladder l;

    (void)state;
    hls_plan(1280, 720, 25, false, &l);
    assert_int_equal(l.n, 4);
    assert_rung(&l.rungs[0], "720p", 1280, 720);
    assert_false(l.audio);
    hls_plan(3840, 2160, 60, true, &l); /* 4K: the ladder tops out at 1080p */
    assert_int_equal(l.n, 5);
    assert_rung(&l.rungs[0], "1080p", 1920, 1080);
    hls_plan(640, 360, 25, true, &l);
    assert_int_equal(l.n, 2);
    assert_rung(&l.rungs[0], "360p", 640, 360);
    assert_rung(&l.rungs[1], "240p", 426, 240);
}

static void
test_hls_plan_portrait_keeps_its_orientation(void **state)
{
    struct hls_ladder l;

    (void)state;
    hls_plan(720, 1280, 30, true, &l);
    assert_int_equal(l.n, 4);
    assert_rung(&l.rungs[0], "720p", 720, 1280);
    assert_rung(&l.rungs[1], "480p", 480, 854);
    assert_rung(&l.rungs[3], "240p", 240, 426);
}

static void
test_hls_plan_small_and_odd_sources(void **state)
{
    struct hls_ladder l;

    (void)state;
    hls_plan(320, 180, 25, true, &l); /* under the lowest rung: one, at its own size */
    assert_int_equal(l.n, 1);
    assert_rung(&l.rungs[0], "240p", 320, 180);
    hls_plan(161, 99, 25, true, &l); /* odd sides are made even for 4:2:0 */
    assert_int_equal(l.n, 1);
    assert_int_equal(l.rungs[0].width % 2, 0);
    assert_int_equal(l.rungs[0].height % 2, 0);
    hls_plan(1, 1, 25, true, &l);
    assert_int_equal(l.n, 1);
    assert_rung(&l.rungs[0], "240p", 2, 2);
    hls_plan(8192, 240, 25, true, &l); /* very wide: the short side decides */
    assert_int_equal(l.n, 1);
    assert_rung(&l.rungs[0], "240p", 8192, 240);
}

static void
test_hls_plan_frame_rates(void **state)
{
    struct hls_ladder l;

    (void)state;
    hls_plan(640, 360, 29.97, true, &l);
    assert_float_equal(l.fps, 29.97, 1e-9);
    hls_plan(640, 360, 240, true, &l);
    assert_float_equal(l.fps, 60, 1e-9);
    hls_plan(640, 360, 0.2, true, &l);
    assert_float_equal(l.fps, 1, 1e-9);
    hls_plan(640, 360, 0, true, &l);
    assert_float_equal(l.fps, 30, 1e-9);
    hls_plan(640, 360, NAN, true, &l);
    assert_float_equal(l.fps, 30, 1e-9);
}

static const char *
after(char **argv, const char *opt)
{
    for (size_t i = 0; argv[i] != NULL; i++) {
        if (strcmp(argv[i], opt) == 0) {
            return argv[i + 1];
        }
    }
    return NULL;
}

static void
test_hls_command(void **state)
{
    struct arena *a = arena_new(MAX_REQ_ARENA);
    struct hls_ladder l;
    char **argv;

    (void)state;
    assert_non_null(a);
    hls_plan(1920, 1080, 25, true, &l);
    argv = hls_command(a, "/usr/bin/ffmpeg", &l, "/m/src.mp4", "/m/out");
    assert_non_null(argv);
    assert_string_equal(argv[0], "/usr/bin/ffmpeg");
    assert_string_equal(after(argv, "-i"), "/m/src.mp4");
    /* One decode; each rung scaled from the one above it. */
    assert_string_equal(after(argv, "-filter_complex"),
                        "[0:v:0]fps=25.000,scale=1920:1080:flags=bicubic,format=yuv420p,"
                        "split=2[v0][c0];"
                        "[c0]scale=1280:720:flags=bicubic,format=yuv420p,split=2[v1][c1];"
                        "[c1]scale=854:480:flags=bicubic,format=yuv420p,split=2[v2][c2];"
                        "[c2]scale=640:360:flags=bicubic,format=yuv420p,split=2[v3][c3];"
                        "[c3]scale=426:240:flags=bicubic,format=yuv420p[v4]");
    assert_string_equal(after(argv, "-preset:v:0"), "superfast");
    /* Keyframes every 2 s in every rung, never at scene cuts. */
    assert_string_equal(after(argv, "-g:v:0"), "50");
    assert_string_equal(after(argv, "-g:v:4"), "50");
    assert_string_equal(after(argv, "-sc_threshold:v:3"), "0");
    assert_string_equal(after(argv, "-force_key_frames:v:2"), "expr:gte(t,n_forced*2)");
    assert_string_equal(after(argv, "-maxrate:v:1"), "2800k");
    assert_string_equal(after(argv, "-level:v:1"), "3.1");
    assert_string_equal(after(argv, "-hls_time"), "6");
    assert_string_equal(after(argv, "-var_stream_map"),
                        "v:0,a:0,name:1080p v:1,a:1,name:720p v:2,a:2,name:480p "
                        "v:3,a:3,name:360p v:4,a:4,name:240p");
    assert_string_equal(after(argv, "-hls_segment_filename"), "/m/out/%v/seg_%05d.ts");
    hls_plan(640, 360, 30, false, &l); /* no audio: no audio map */
    argv = hls_command(a, "/usr/bin/ffmpeg", &l, "/m/src.mp4", "/m/out");
    assert_non_null(argv);
    assert_null(after(argv, "-c:a:0"));
    assert_non_null(strstr(after(argv, "-filter_complex"), "[c0]scale=426:240:flags=bicubic,"
                                                           "format=yuv420p[v1]"));
    assert_string_equal(after(argv, "-var_stream_map"), "v:0,name:360p v:1,name:240p");
    argv = hls_thumbnail_command(a, "/usr/bin/ffmpeg", 50, 2, "/m/src.mp4", "/m/thumb.jpg");
    assert_non_null(argv);
    assert_string_equal(after(argv, "-ss"), "5.000");
    assert_string_equal(after(argv, "-map"), "0:2"); /* the stream the probe chose */
    assert_string_equal(after(argv, "-frames:v"), "1");
    arena_free(a);
}

/* Writes dir/<rung>/index.m3u8 naming segments of the given durations and sizes. */
static void
write_rung(const char *dir, const char *name, const double *dur, const size_t *size, size_t n)
{
    char path[512];
    FILE *f;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    assert_int_equal(mkdir(path, 0700), 0);
    snprintf(path, sizeof(path), "%s/%s/index.m3u8", dir, name);
    assert_non_null(f = fopen(path, "w"));
    fprintf(f, "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:6\n");
    for (size_t i = 0; i < n; i++) {
        char seg[512];
        FILE *s;

        fprintf(f, "#EXTINF:%.6f,\nseg_%05zu.ts\n", dur[i], i);
        snprintf(seg, sizeof(seg), "%s/%s/seg_%05zu.ts", dir, name, i);
        assert_non_null(s = fopen(seg, "w"));
        for (size_t b = 0; b < size[i]; b++) {
            fputc('x', s);
        }
        fclose(s);
    }
    fprintf(f, "#EXT-X-ENDLIST\n");
    fclose(f);
}

static char *
slurp(const char *path)
{
    static char buf[4096];
    FILE *f = fopen(path, "r");
    size_t n;

    assert_non_null(f);
    n = fread(buf, 1, sizeof(buf) - 1, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

static void
rm_tree(const char *dir)
{
    char cmd[700];

    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

static void
test_hls_finish_measures_and_writes_master(void **state)
{
    char dir[] = "/tmp/test_hls.XXXXXX", path[600];
    const double d360[] = {6, 6, 2}, d240[] = {6, 6, 2};
    const size_t s360[] = {600000, 300000, 50000}, s240[] = {150000, 150000, 50000};
    struct video_media m = {0};
    struct hls_ladder l;

    (void)state;
    assert_non_null(mkdtemp(dir));
    hls_plan(640, 360, 25, true, &l);
    write_rung(dir, "360p", d360, s360, 3);
    write_rung(dir, "240p", d240, s240, 3);
    assert_int_equal(hls_finish(&l, dir, &m), 0);
    assert_int_equal(m.nrenditions, 2);
    /* Peak: the first 360p segment, 600000 bytes in 6 s = 800000 bits/s. */
    assert_int_equal(m.renditions[0].bandwidth, 800000);
    /* Mean: 950000 bytes in 14 s = 542857.14 bits/s, rounded up. */
    assert_int_equal(m.renditions[0].average_bandwidth, 542858);
    assert_int_equal(m.renditions[1].bandwidth, 200000);
    assert_int_equal(m.renditions[1].width, 426);
    snprintf(path, sizeof(path), "%s/master.m3u8", dir);
    assert_string_equal(
        slurp(path),
        "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-INDEPENDENT-SEGMENTS\n"
        "#EXT-X-STREAM-INF:BANDWIDTH=800000,AVERAGE-BANDWIDTH=542858,RESOLUTION=640x360,"
        "CODECS=\"avc1.64001e,mp4a.40.2\",FRAME-RATE=25.000\n360p/index.m3u8\n"
        "#EXT-X-STREAM-INF:BANDWIDTH=200000,AVERAGE-BANDWIDTH=200000,RESOLUTION=426x240,"
        "CODECS=\"avc1.64001e,mp4a.40.2\",FRAME-RATE=25.000\n240p/index.m3u8\n");
    rm_tree(dir);
}

/* Each rung names the lowest level whose limits it keeps: frame size, macroblocks per
 * second (so the frame rate matters), frame sides, bitrate. */
static void
test_hls_levels_follow_size_and_rate(void **state)
{
    struct hls_ladder l;

    (void)state;
    hls_plan(1920, 1080, 30, true, &l);
    assert_string_equal(l.rungs[2].name, "480p");
    assert_string_equal(l.rungs[2].level, "3.1"); /* 1620 MBs x 30 > level 3.0's 40500/s */
    assert_string_equal(l.rungs[2].codecs, "avc1.64001f");
    assert_string_equal(l.rungs[4].level, "3.0");
    hls_plan(1920, 1080, 60, true, &l);
    assert_string_equal(l.rungs[0].level, "4.2");
    assert_string_equal(l.rungs[0].codecs, "avc1.64002a");
    assert_string_equal(l.rungs[1].level, "3.2");
    assert_string_equal(l.rungs[1].codecs, "avc1.640020");
    hls_plan(8192, 240, 30, false, &l); /* 512 macroblocks wide: only 5.1 allows it */
    assert_string_equal(l.rungs[0].level, "5.1");
    assert_string_equal(l.rungs[0].codecs, "avc1.640033");
}

/* The streams the probe chose (a cover picture or a second track first in the file). */
static void
test_hls_command_maps_the_chosen_streams(void **state)
{
    struct arena *a = arena_new(MAX_REQ_ARENA);
    struct hls_ladder l;
    char **argv;

    (void)state;
    assert_non_null(a);
    hls_plan(640, 360, 30, true, &l);
    l.video_stream = 2;
    l.audio_stream = 1;
    argv = hls_command(a, "/usr/bin/ffmpeg", &l, "/m/src.mp4", "/m/out");
    assert_non_null(argv);
    assert_non_null(strstr(after(argv, "-filter_complex"), "[0:2]fps=30.000,"));
    assert_string_equal(after(argv, "-c:v:0"), "libx264");
    for (size_t i = 0; argv[i] != NULL; i++) {
        if (strcmp(argv[i], "-map") == 0 && argv[i + 1][0] == '0') {
            assert_string_equal(argv[i + 1], "0:1");
        }
    }
    arena_free(a);
}

/* A short last segment does not make the peak: runs of 0.5 to 1.5 target durations do. */
static void
test_hls_finish_peak_ignores_a_short_tail(void **state)
{
    char dir[] = "/tmp/test_hls.XXXXXX";
    const double d[] = {6, 0.04};
    const size_t sz[] = {300000, 33652};
    struct video_media m = {0};
    struct hls_ladder l;

    (void)state;
    assert_non_null(mkdtemp(dir));
    hls_plan(426, 240, 25, false, &l);
    write_rung(dir, "240p", d, sz, 2);
    assert_int_equal(hls_finish(&l, dir, &m), 0);
    /* 333652 bytes in 6.04 s, not 33652 bytes in 0.04 s (6.7 Mbit/s). */
    assert_int_equal(m.renditions[0].bandwidth, 441924);
    rm_tree(dir);
}

static void
test_hls_finish_refuses_a_rung_without_segments(void **state)
{
    char dir[] = "/tmp/test_hls.XXXXXX", path[600];
    const double d[] = {6};
    const size_t s[] = {1000};
    struct video_media m = {0};
    struct hls_ladder l;

    (void)state;
    assert_non_null(mkdtemp(dir));
    hls_plan(640, 360, 25, false, &l);
    write_rung(dir, "360p", d, s, 1);
    write_rung(dir, "240p", d, s, 0); /* ffmpeg stopped before its first segment */
    assert_int_equal(hls_finish(&l, dir, &m), -1);
    snprintf(path, sizeof(path), "%s/master.m3u8", dir);
    assert_int_equal(access(path, F_OK), -1);
    snprintf(path, sizeof(path), "%s/240p", dir);
    rm_tree(path);
    assert_int_equal(hls_finish(&l, dir, &m), -1); /* and one missing altogether */
    rm_tree(dir);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hls_plan_landscape),
        cmocka_unit_test(test_hls_levels_follow_size_and_rate),
        cmocka_unit_test(test_hls_command_maps_the_chosen_streams),
        cmocka_unit_test(test_hls_finish_peak_ignores_a_short_tail),
        cmocka_unit_test(test_hls_plan_never_upscales),
        cmocka_unit_test(test_hls_plan_portrait_keeps_its_orientation),
        cmocka_unit_test(test_hls_plan_small_and_odd_sources),
        cmocka_unit_test(test_hls_plan_frame_rates),
        cmocka_unit_test(test_hls_command),
        cmocka_unit_test(test_hls_finish_measures_and_writes_master),
        cmocka_unit_test(test_hls_finish_refuses_a_rung_without_segments),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}

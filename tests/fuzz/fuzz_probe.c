/*
 * fuzz_probe.c - ffprobe's JSON about an untrusted file, and the ladder planned from it.
 * Properties: a probe that is taken has a picture within PROBE_MAX_SIDE, a finite positive
 * duration and a rotation of 0/90/180/270; its ladder has 1 to MAX_RENDITIONS rungs of even
 * sides, none taller (short side) than the source but the single rung of a tiny one, never
 * turned the other way, a frame rate within 1-60, and an ffmpeg command that fits.
 */
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "hls.h"
#include "probe.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct arena *a;
    struct hls_ladder l;
    struct probe p;
    const char *why;
    char *json;
    int shorter;
    size_t i;

    if (a == NULL && (a = arena_new(1 << 20)) == NULL) {
        abort();
    }
    arena_reset(a);
    if ((json = malloc(size + 1)) == NULL) {
        return 0;
    }
    memcpy(json, data, size);
    json[size] = '\0';
    if (probe_parse(json, &p, &why) != 0) {
        if (why == NULL) {
            abort(); /* refused without a reason */
        }
        free(json);
        return 0;
    }
    if (why != NULL || !p.has_video || p.width <= 0 || p.height <= 0 || p.width > PROBE_MAX_SIDE ||
        p.height > PROBE_MAX_SIDE || !(p.duration > 0) || !isfinite(p.duration) ||
        p.rotation % 90 != 0 || p.rotation < 0 || p.rotation >= 360) {
        abort();
    }
    hls_plan(p.width, p.height, p.fps, p.has_audio, &l);
    shorter = p.width < p.height ? p.width : p.height;
    if (l.n < 1 || l.n > MAX_RENDITIONS || !(l.fps >= 1 && l.fps <= 60)) {
        abort();
    }
    for (i = 0; i < l.n; i++) {
        const struct hls_rung *r = &l.rungs[i];
        int rs = r->width < r->height ? r->width : r->height;

        if (r->width < 2 || r->height < 2 || r->width % 2 != 0 || r->height % 2 != 0 ||
            (l.n > 1 && rs > shorter + 1) || (p.width > p.height && r->width < r->height) ||
            (p.width < p.height && r->width > r->height)) {
            abort();
        }
    }
    if (hls_command(a, "/usr/bin/ffmpeg", &l, "/src", "/out") == NULL ||
        hls_thumbnail_command(a, "/usr/bin/ffmpeg", p.duration, p.video_stream, "/src", "/t.jpg") ==
            NULL) {
        abort();
    }
    free(json);
    return 0;
}

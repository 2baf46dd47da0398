/*
 * ladder.c - the job worker's transcode, alone, for benchmarks: probes SRC as the worker
 * does (probe.h), plans its ladder (hls.h) and becomes (execv) the very ffmpeg command the
 * worker would run, writing OUT/<rung>/. With --rung NAME only that rung is made, so
 * tools/bench can compare one ffmpeg for the ladder against one ffmpeg per rung; /usr/bin/time
 * around this program measures ffmpeg itself. --list prints the planned rungs instead.
 *
 *   bench-ladder [--rung NAME | --list] SRC OUT
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "arena.h"
#include "hls.h"
#include "probe.h"

#define FFMPEG  "/usr/bin/ffmpeg"
#define FFPROBE "/usr/bin/ffprobe"

int
main(int argc, char **argv)
{
    struct probe_options opt = {FFPROBE, 1ull << 30, 60, 60000, 0, NULL, NULL};
    const char *rung = NULL, *why = NULL;
    struct arena *a = arena_new(4 << 20);
    struct hls_ladder l;
    struct probe p;
    bool list = false;
    char **cmd;
    size_t i;

    if (argc == 5 && strcmp(argv[1], "--rung") == 0) {
        rung = argv[2];
    } else if (argc == 4 && strcmp(argv[1], "--list") == 0) {
        list = true;
    } else if (argc != 3) {
        fprintf(stderr, "usage: bench-ladder [--rung NAME | --list] SRC OUT\n");
        return 2;
    }
    if (a == NULL || probe_file(a, &opt, argv[argc - 2], &p, &why) != PROBE_OK) {
        fprintf(stderr, "bench-ladder: %s: %s\n", argv[argc - 2], why ? why : "out of memory");
        return 1;
    }
    hls_plan(p.width, p.height, p.fps, p.has_audio, &l);
    l.video_stream = p.video_stream;
    l.audio_stream = p.audio_stream;
    if (list) {
        for (i = 0; i < l.n; i++) {
            printf("%s %d %d\n", l.rungs[i].name, l.rungs[i].width, l.rungs[i].height);
        }
        return 0;
    }
    if (rung != NULL) {
        for (i = 0; i < l.n && strcmp(l.rungs[i].name, rung) != 0; i++) {
        }
        if (i == l.n) {
            fprintf(stderr, "bench-ladder: no rung %s for this source\n", rung);
            return 1;
        }
        l.rungs[0] = l.rungs[i];
        l.n = 1;
    }
    if ((cmd = hls_command(a, FFMPEG, &l, argv[argc - 2], argv[argc - 1])) == NULL) {
        fprintf(stderr, "bench-ladder: the command does not fit\n");
        return 1;
    }
    setenv("MALLOC_ARENA_MAX", "2", 1); /* as the worker runs it (common/child.c) */
    execv(FFMPEG, cmd);
    perror("bench-ladder: execv " FFMPEG);
    return 1;
}

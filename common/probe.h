/*
 * probe.h - what a source file holds (ffprobe): enough to plan the HLS ladder and to tell
 * a playable video from anything else.
 */
#ifndef STREMORA_PROBE_H
#define STREMORA_PROBE_H

#include <stdbool.h>
#include <stdint.h>

struct arena;

struct probe {
    bool has_video, has_audio;
    int width, height; /* as shown: after rotation */
    int rotation;      /* degrees the picture is turned when shown: 0, 90, 180, 270 */
    double fps;
    double duration; /* seconds */
    int64_t bitrate; /* bits/s of the whole file, 0 if unknown */
    char video_codec[32], audio_codec[32];
    int video_stream, audio_stream; /* their indexes in the file (-1: none) */
};

struct probe_options {
    const char *ffprobe; /* absolute path */
    uint64_t mem_bytes, cpu_secs;
    int64_t timeout_ms;
    int64_t tick_ms;           /* how often on_tick runs while ffprobe does (0: never) */
    int (*on_tick)(void *ctx); /* nonzero stops ffprobe: PROBE_STOPPED */
    void *tick_ctx;
};

enum probe_status {
    PROBE_OK,
    PROBE_BAD,     /* not a playable video: *why says why, for the owner */
    PROBE_ERROR,   /* we failed (ffprobe missing...): try again later */
    PROBE_STOPPED, /* on_tick asked to stop */
};

#define PROBE_MAX_SIDE 8192  /* pixels: larger pictures are refused (8K is 8192 wide) */
#define PROBE_MAX_SECS 86400 /* seconds: longer videos are refused */

/* Runs ffprobe on path (under opt's limits) and fills out. */
enum probe_status probe_file(struct arena *a, const struct probe_options *opt, const char *path,
                             struct probe *out, const char **why);

/* Fills out from ffprobe's JSON (-show_format -show_streams). Returns 0, or -1 with the
 * reason the file is not a video we can process in why (static text). */
int probe_parse(const char *json, struct probe *out, const char **why);

#endif

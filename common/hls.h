/*
 * hls.h - the HLS ladder of a video: which rungs (1080p down to 240p, never taller than the
 * source, always at least one), their picture sizes (a rung is the short side, so portrait
 * and rotated sources keep their orientation), the one ffmpeg command that decodes once
 * and encodes every rung with keyframes aligned across rungs, and the master playlist
 * (RFC 8216 section 4.3.4.2) written from what ffmpeg made: BANDWIDTH the peak bit rate of
 * any run of a rung's segments lasting 0.5 to 1.5 target durations (section 4.1),
 * AVERAGE-BANDWIDTH their mean, RESOLUTION, CODECS, FRAME-RATE. No I/O but
 * hls_finish's reading of the playlists and segments it was pointed at.
 */
#ifndef STREMORA_HLS_H
#define STREMORA_HLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "db_videos.h"

struct arena;

#define HLS_SEGMENT_SECS 6 /* seconds of one segment */
#define HLS_GOP_SECS     2 /* seconds between keyframes, at the same times in every rung */

struct hls_rung {
    const char *name; /* "720p": also its folder */
    int width, height;
    int maxrate_k, bufsize_k, crf, audio_k;
    const char *preset;
    char level[4];   /* H.264 level set on the encoder, e.g. "3.1": the lowest whose limits
                      * (frame size, macroblocks per second, bitrate, buffer) the rung keeps */
    char codecs[12]; /* the video part of CODECS: High profile at that level */
};

struct hls_ladder {
    struct hls_rung rungs[MAX_RENDITIONS];
    size_t n;
    bool audio;
    double fps;
    int video_stream, audio_stream; /* the source's stream indexes to use; -1: the first */
};

/* Plans the ladder of a source shown at width x height (after rotation), with its first
 * video and audio streams (set video_stream and audio_stream after, to choose others). */
void hls_plan(int width, int height, double fps, bool audio, struct hls_ladder *out);
/* Returns the ffmpeg argv (NULL-terminated) that makes every rung of l from src into
 * out_dir/<rung>/index.m3u8 and its segments, writing progress to standard output. NULL if
 * a is full. */
char **hls_command(struct arena *a, const char *ffmpeg, const struct hls_ladder *l, const char *src,
                   const char *out_dir);
/* Returns the thumbnail argv: a JPEG at most 1280 wide, from the most representative of
 * the frames after the first tenth of the video (stream video_stream, -1: the first). NULL
 * if a is full. */
char **hls_thumbnail_command(struct arena *a, const char *ffmpeg, double duration, int video_stream,
                             const char *src, const char *out);
/* Measures each rung's playlist under out_dir, writes out_dir/master.m3u8 and fills m's
 * renditions (width, height, bandwidths). Returns 0, or -1 (logged) if a rung has no
 * segment or a file cannot be read or written. */
int hls_finish(const struct hls_ladder *l, const char *out_dir, struct video_media *m);

#endif

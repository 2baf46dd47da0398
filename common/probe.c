/*
 * probe.c - what a source file is, from ffprobe's JSON (-show_format -show_streams),
 * parsed with json-c: the first video stream's size, rotation and frame rate, whether
 * there is audio, the codecs, the duration and bitrate. ffprobe runs as a child under
 * limits and a timeout (child.h): the file is untrusted.
 */
#include "probe.h"

#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "arena.h"
#include "child.h"
#include "log.h"
#include "str.h"

#define PROBE_OUT_MAX (1u << 20) /* bytes of ffprobe's JSON we read */

struct probe_run {
    char *buf;
    size_t len, cap;
    bool too_big;
    const struct probe_options *opt;
};

static int
on_tick(void *ctx)
{
    struct probe_run *p = ctx;

    return p->opt->on_tick(p->opt->tick_ctx);
}

static int
on_line(void *ctx, const char *line, size_t len)
{
    struct probe_run *p = ctx;

    if (p->len + len + 1 > p->cap) {
        p->too_big = true;
        return 1;
    }
    memcpy(p->buf + p->len, line, len);
    p->len += len;
    p->buf[p->len++] = '\n';
    return 0;
}

static const char *
str_member(struct json_object *o, const char *key)
{
    struct json_object *v;

    return json_object_object_get_ex(o, key, &v) && json_object_is_type(v, json_type_string)
               ? json_object_get_string(v)
               : NULL;
}

static int64_t
int_member(struct json_object *o, const char *key)
{
    struct json_object *v;

    if (!json_object_object_get_ex(o, key, &v)) {
        return 0;
    }
    return json_object_get_int64(v); /* strings of digits too: ffprobe writes both */
}

/* A picture side: -1 when missing, negative or beyond any size we take. */
static int
side_member(struct json_object *o, const char *key)
{
    int64_t v = int_member(o, key);

    return v > 0 && v <= PROBE_MAX_SIDE ? (int)v : v > PROBE_MAX_SIDE ? PROBE_MAX_SIDE + 1 : -1;
}

static double
num_member(struct json_object *o, const char *key)
{
    struct json_object *v;

    return json_object_object_get_ex(o, key, &v) ? json_object_get_double(v) : 0.0;
}

/* "30000/1001" as a number; 0 when not a positive fraction. */
static double
rate_of(const char *s)
{
    char *end;
    double n, d;

    if (s == NULL) {
        return 0.0;
    }
    n = strtod(s, &end);
    if (end == s || *end != '/') {
        return 0.0;
    }
    s = end + 1;
    d = strtod(s, &end);
    if (end == s || *end != '\0' || !(n > 0) || !(d > 0) || !isfinite(n / d)) {
        return 0.0;
    }
    return n / d;
}

/* The rotation of a video stream, in degrees: from its display matrix side data
 * (current ffmpeg) or its rotate tag (older files). */
static int
rotation_of(struct json_object *st)
{
    struct json_object *sd, *tags, *item;
    const char *r;
    uint64_t tag;
    size_t i;
    int deg = 0;

    if (json_object_object_get_ex(st, "side_data_list", &sd) &&
        json_object_is_type(sd, json_type_array)) {
        for (i = 0; i < json_object_array_length(sd); i++) {
            item = json_object_array_get_idx(sd, i);
            if (json_object_object_get_ex(item, "rotation", NULL)) {
                deg = (int)(int_member(item, "rotation") % 360);
            }
        }
    }
    if (deg == 0 && json_object_object_get_ex(st, "tags", &tags) &&
        (r = str_member(tags, "rotate")) != NULL &&
        str_to_u64(str_from(r[0] == '-' ? r + 1 : r), 0, UINT32_MAX, &tag) == 0) {
        /* the tag turns clockwise, the display matrix counter-clockwise */
        deg = (int)(tag % 360) * (r[0] == '-' ? 1 : -1);
    }
    deg %= 360;
    deg = deg < 0 ? deg + 360 : deg;
    /* ffmpeg turns other angles within the same frame size: as good as unturned here. */
    return deg % 90 == 0 ? deg : 0;
}

/* A picture attached to the file (cover art) is a video stream that is not the video. */
static bool
is_cover_art(struct json_object *st)
{
    struct json_object *d;

    return json_object_object_get_ex(st, "disposition", &d) && int_member(d, "attached_pic") != 0;
}

/* A stream's index in the file, or -1 (then the first stream of its type is used). */
static int
stream_index(struct json_object *st)
{
    int64_t i = int_member(st, "index");

    return i >= 0 && i < 65536 && json_object_object_get_ex(st, "index", NULL) ? (int)i : -1;
}

static void
take_video(struct json_object *st, struct probe *out)
{
    const char *codec = str_member(st, "codec_name");
    double fps = rate_of(str_member(st, "avg_frame_rate"));

    out->has_video = true;
    out->video_stream = stream_index(st);
    out->width = side_member(st, "width");
    out->height = side_member(st, "height");
    out->rotation = rotation_of(st);
    out->fps = fps > 0 ? fps : rate_of(str_member(st, "r_frame_rate"));
    snprintf(out->video_codec, sizeof(out->video_codec), "%s", codec != NULL ? codec : "");
    if (out->rotation == 90 || out->rotation == 270) { /* shown turned: swap */
        int t = out->width;

        out->width = out->height;
        out->height = t;
    }
}

int
probe_parse(const char *json, struct probe *out, const char **why)
{
    struct json_object *root = json_tokener_parse(json), *streams, *format, *st;
    size_t i;

    memset(out, 0, sizeof(*out));
    out->video_stream = out->audio_stream = -1;
    *why = "Not a video we can read";
    if (root == NULL) {
        return -1;
    }
    if (json_object_object_get_ex(root, "streams", &streams) &&
        json_object_is_type(streams, json_type_array)) {
        for (i = 0; i < json_object_array_length(streams); i++) {
            const char *type;

            st = json_object_array_get_idx(streams, i);
            type = str_member(st, "codec_type");
            if (type != NULL && strcmp(type, "video") == 0 && !out->has_video &&
                !is_cover_art(st)) {
                take_video(st, out);
            } else if (type != NULL && strcmp(type, "audio") == 0 && !out->has_audio) {
                const char *c = str_member(st, "codec_name");

                out->has_audio = true;
                out->audio_stream = stream_index(st);
                snprintf(out->audio_codec, sizeof(out->audio_codec), "%s", c != NULL ? c : "");
            }
        }
    }
    if (json_object_object_get_ex(root, "format", &format)) {
        out->duration = num_member(format, "duration");
        out->bitrate = int_member(format, "bit_rate");
    }
    json_object_put(root);
    *why = !out->has_video                       ? "The file has no video stream"
           : out->width <= 0 || out->height <= 0 ? "The video has no picture size"
           : out->width > PROBE_MAX_SIDE || out->height > PROBE_MAX_SIDE
               ? "The picture is larger than 8192 pixels a side"
           : !(out->duration > 0) || !isfinite(out->duration) ? "The video has no duration"
           : out->duration > PROBE_MAX_SECS                   ? "The video is longer than 24 hours"
                                                              : NULL;
    return *why == NULL ? 0 : -1;
}

enum probe_status
probe_file(struct arena *a, const struct probe_options *opt, const char *path, struct probe *out,
           const char **why)
{
    /* Only what probe_parse reads: no tags (but rotate) of any length. */
    char *argv[] = {(char *)opt->ffprobe,
                    "-v",
                    "error",
                    "-print_format",
                    "json",
                    "-show_entries",
                    "stream=index,codec_type,codec_name,width,height,avg_frame_rate,"
                    "r_frame_rate:stream_disposition=attached_pic:stream_tags=rotate:"
                    "stream_side_data=rotation:format=duration,bit_rate",
                    (char *)path,
                    NULL};
    struct child_limits lim = {opt->mem_bytes, opt->cpu_secs, opt->timeout_ms, opt->tick_ms};
    struct probe_run p = {.cap = PROBE_OUT_MAX, .opt = opt};
    struct child_callbacks cb = {on_line, opt->on_tick != NULL ? on_tick : NULL, &p};
    struct child_outcome res;

    memset(out, 0, sizeof(*out));
    if ((p.buf = arena_alloc(a, p.cap + 1)) == NULL) {
        *why = "out of memory";
        return PROBE_ERROR;
    }
    child_run(argv, &lim, &cb, &res);
    if (res.result == CHILD_STOPPED && !p.too_big) {
        *why = "stopped";
        return PROBE_STOPPED;
    }
    if (res.result == CHILD_FAILED) {
        *why = "ffprobe could not be started";
        return PROBE_ERROR;
    }
    if (res.result == CHILD_SIGNAL &&
        (res.status == SIGTERM || res.status == SIGINT || res.status == SIGKILL)) {
        *why = "ffprobe was stopped"; /* a shutdown, not the file: try again later */
        return PROBE_ERROR;
    }
    if (res.result == CHILD_TIMEOUT) {
        *why = "Reading the file took too long";
        return PROBE_BAD;
    }
    if (res.result != CHILD_EXITED || res.status != 0 || p.too_big || res.cut) {
        log_ev(LOG_INFO, "probe_refused", "%s: %.200s", path, res.err_tail);
        *why = "Not a video we can read";
        return PROBE_BAD;
    }
    p.buf[p.len] = '\0';
    return probe_parse(p.buf, out, why) == 0 ? PROBE_OK : PROBE_BAD;
}

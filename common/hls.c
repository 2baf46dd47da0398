/*
 * hls.c - the ladder, its ffmpeg command and its master playlist (hls.h). One decode
 * feeds a cascade of scalers (each rung scaled from the one above it, so the big scale
 * from the source is done once) and one x264 encoder per rung; each rung's keyframes are
 * forced every HLS_GOP_SECS of presentation time (no scene-cut keyframes), so segments of
 * HLS_SEGMENT_SECS start at the same instants in every rung and a player switches
 * rungs cleanly. Bitrates are capped per rung (maxrate/bufsize) over a CRF; the level set
 * on each encoder is the one its CODECS string names. Speed: x264's superfast preset with a
 * 10-frame lookahead and 2 threads per encoder makes a 1080p30 ladder faster than real time
 * on 2 cores at about 43 dB PSNR per rung (tools/bench measures both); veryfast was about
 * 1.6 times the CPU for under 1 dB more.
 */
#include "hls.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "arena.h"
#include "log.h"

/* From the top: a source uses the rungs no taller (short side) than itself. */
static const struct hls_rung ladder[] = {
    {"1080p", 0, 1080, 5000, 10000, 23, 128, "superfast", "", ""},
    {"720p", 0, 720, 2800, 5600, 23, 128, "superfast", "", ""},
    {"480p", 0, 480, 1400, 2800, 23, 96, "superfast", "", ""},
    {"360p", 0, 360, 800, 1600, 23, 96, "superfast", "", ""},
    {"240p", 0, 240, 400, 800, 23, 64, "superfast", "", ""},
};

/* H.264's levels (ITU-T H.264 table A-1): macroblocks per second and per frame, and the
 * bitrate and buffer limits in kbit/s as for Main (High allows 1.25 times those). */
static const struct level {
    const char *name;
    int idc;
    double mbps;
    int fs, br, cpb;
} levels[] = {
    {"3.0", 30, 40500, 1620, 10000, 10000},      {"3.1", 31, 108000, 3600, 14000, 14000},
    {"3.2", 32, 216000, 5120, 20000, 20000},     {"4.0", 40, 245760, 8192, 20000, 25000},
    {"4.1", 41, 245760, 8192, 50000, 62500},     {"4.2", 42, 522240, 8704, 50000, 62500},
    {"5.0", 50, 589824, 22080, 135000, 135000},  {"5.1", 51, 983040, 36864, 240000, 240000},
    {"5.2", 52, 2073600, 36864, 240000, 240000},
};

#define NRUNGS   (sizeof(ladder) / sizeof(ladder[0]))
#define FPS_MAX  60.0 /* frame rates above are encoded at this */
#define FPS_MIN  1.0  /* and below (a slide show) at this */
#define FPS_DEF  30.0 /* when the source says nothing usable */
#define HLS_LINE 1024 /* bytes of one playlist line we read */

/* The even number nearest x (4:2:0 pictures have even sides), at least 2. */
static int
even(double x)
{
    int v = 2 * (int)lround(x / 2);

    return v < 2 ? 2 : v;
}

/* Sets r's level and CODECS: the lowest level whose limits the rung keeps. A frame side
 * may be at most sqrt(8 * frame size) macroblocks (A.3.1 f, g). */
static void
set_level(struct hls_rung *r, double fps)
{
    int mw = (r->width + 15) / 16, mh = (r->height + 15) / 16;
    const struct level *lv = &levels[sizeof(levels) / sizeof(levels[0]) - 1];
    size_t i;

    for (i = 0; i < sizeof(levels) / sizeof(levels[0]); i++) {
        const struct level *c = &levels[i];

        if (mw * mh <= c->fs && (double)mw * mh * fps <= c->mbps && mw * mw <= 8 * c->fs &&
            mh * mh <= 8 * c->fs && r->maxrate_k * 4 <= c->br * 5 &&
            r->bufsize_k * 4 <= c->cpb * 5) {
            lv = c;
            break;
        }
    }
    snprintf(r->level, sizeof(r->level), "%s", lv->name);
    snprintf(r->codecs, sizeof(r->codecs), "avc1.6400%02x", (unsigned)lv->idc);
}

void
hls_plan(int width, int height, double fps, bool audio, struct hls_ladder *out)
{
    int shorter = width < height ? width : height;
    size_t i;

    memset(out, 0, sizeof(*out));
    out->audio = audio;
    out->video_stream = out->audio_stream = -1;
    out->fps = fps >= FPS_MIN && fps <= FPS_MAX ? fps
               : fps > FPS_MAX                  ? FPS_MAX
               : fps > 0                        ? FPS_MIN
                                                : FPS_DEF;
    for (i = 0; i < NRUNGS && out->n < MAX_RENDITIONS; i++) {
        /* A rung's own short side is its height field in the table. */
        if (ladder[i].height <= shorter) {
            out->rungs[out->n++] = ladder[i];
        }
    }
    if (out->n == 0) { /* smaller than the lowest rung: one rung at its own size */
        out->rungs[out->n++] = ladder[NRUNGS - 1];
        out->rungs[0].height = shorter;
    }
    for (i = 0; i < out->n; i++) {
        struct hls_rung *r = &out->rungs[i];
        double s = (double)r->height / shorter;

        if (width >= height) {
            r->height = even(height * s);
            r->width = even(width * s);
        } else {
            r->width = even(width * s);
            r->height = even(height * s);
        }
        set_level(r, out->fps);
    }
}

/* argv under construction in the arena. */
struct argv {
    struct arena *a;
    char **v;
    size_t n, cap;
    bool full;
};

static void arg(struct argv *av, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
arg(struct argv *av, const char *fmt, ...)
{
    va_list ap;
    char *s;

    if (av->full || av->n + 1 >= av->cap) {
        av->full = true;
        return;
    }
    va_start(ap, fmt);
    s = arena_vsprintf(av->a, fmt, ap);
    va_end(ap);
    if (s == NULL) {
        av->full = true;
        return;
    }
    av->v[av->n++] = s;
    av->v[av->n] = NULL;
}

static bool
argv_init(struct argv *av, struct arena *a, size_t cap)
{
    av->a = a;
    av->cap = cap;
    av->n = 0;
    av->full = false;
    return (av->v = arena_calloc(a, cap, sizeof(char *))) != NULL;
}

/* Appends each of the strings given, up to a NULL. */
static void lits(struct argv *av, ...) __attribute__((sentinel));

static void
lits(struct argv *av, ...)
{
    const char *s;
    va_list ap;

    va_start(ap, av);
    while ((s = va_arg(ap, const char *)) != NULL) {
        arg(av, "%s", s);
    }
    va_end(ap);
}

/* Starts an ffmpeg command line with what every one of ours has. */
static bool
ffmpeg_begin(struct argv *av, struct arena *a, size_t cap, const char *ffmpeg)
{
    if (!argv_init(av, a, cap)) {
        return false;
    }
    arg(av, "%s", ffmpeg);
    lits(av, "-hide_banner", "-nostdin", "-loglevel", "error", NULL);
    return true;
}

/* Appends the input stream index of the source, or the first of its type ("v" or "a"). */
static void
stream_arg(struct argv *av, int index, const char *type)
{
    if (index >= 0) {
        arg(av, "0:%d", index);
    } else {
        arg(av, "0:%s:0", type);
    }
}

/* The filter graph: the frame rate once, then each rung scaled from the one above and
 * split into its encoder and the next scaler. */
static char *
graph(struct arena *a, const struct hls_ladder *l)
{
    char buf[2048];
    size_t n = 0, i;

    n += l->video_stream >= 0
             ? (size_t)snprintf(buf + n, sizeof(buf) - n, "[0:%d]", l->video_stream)
             : (size_t)snprintf(buf + n, sizeof(buf) - n, "[0:v:0]");
    n += (size_t)snprintf(buf + n, sizeof(buf) - n, "fps=%.3f", l->fps);
    for (i = 0; i < l->n && n < sizeof(buf); i++) {
        const struct hls_rung *r = &l->rungs[i];

        if (i > 0) {
            n += (size_t)snprintf(buf + n, sizeof(buf) - n, "[c%zu]", i - 1);
        }
        if (n < sizeof(buf)) {
            n += (size_t)snprintf(buf + n, sizeof(buf) - n,
                                  "%sscale=%d:%d:flags=bicubic,format=yuv420p", i > 0 ? "" : ",",
                                  r->width, r->height);
        }
        if (n < sizeof(buf) && i + 1 < l->n) {
            n += (size_t)snprintf(buf + n, sizeof(buf) - n, ",split=2[v%zu][c%zu];", i, i);
        } else if (n < sizeof(buf)) {
            n += (size_t)snprintf(buf + n, sizeof(buf) - n, "[v%zu]", i);
        }
    }
    return n < sizeof(buf) ? arena_strdup(a, buf) : NULL;
}

char **
hls_command(struct arena *a, const char *ffmpeg, const struct hls_ladder *l, const char *src,
            const char *out_dir)
{
    int gop = (int)lround(l->fps * HLS_GOP_SECS);
    char map[512], *g = graph(a, l);
    struct argv av;
    size_t i, n = 0;

    if (g == NULL || !ffmpeg_begin(&av, a, 64 + 40 * l->n, ffmpeg)) {
        return NULL;
    }
    lits(&av, "-progress", "pipe:1", "-nostats", "-i", src, "-filter_complex", g, NULL);
    for (i = 0; i < l->n; i++) {
        const struct hls_rung *r = &l->rungs[i];

        arg(&av, "-map");
        arg(&av, "[v%zu]", i);
        arg(&av, "-c:v:%zu", i);
        arg(&av, "libx264");
        arg(&av, "-profile:v:%zu", i);
        arg(&av, "high");
        arg(&av, "-level:v:%zu", i);
        arg(&av, "%s", r->level);
        arg(&av, "-preset:v:%zu", i);
        arg(&av, "%s", r->preset);
        arg(&av, "-x264-params:v:%zu", i);
        arg(&av, "rc-lookahead=10");
        arg(&av, "-threads:v:%zu", i);
        arg(&av, "2");
        arg(&av, "-crf:v:%zu", i);
        arg(&av, "%d", r->crf);
        arg(&av, "-maxrate:v:%zu", i);
        arg(&av, "%dk", r->maxrate_k);
        arg(&av, "-bufsize:v:%zu", i);
        arg(&av, "%dk", r->bufsize_k);
        arg(&av, "-g:v:%zu", i);
        arg(&av, "%d", gop);
        arg(&av, "-keyint_min:v:%zu", i);
        arg(&av, "%d", gop);
        arg(&av, "-sc_threshold:v:%zu", i);
        arg(&av, "0");
        arg(&av, "-force_key_frames:v:%zu", i);
        arg(&av, "expr:gte(t,n_forced*%d)", HLS_GOP_SECS);
        if (l->audio) {
            arg(&av, "-map");
            stream_arg(&av, l->audio_stream, "a");
            arg(&av, "-c:a:%zu", i);
            arg(&av, "aac");
            arg(&av, "-b:a:%zu", i);
            arg(&av, "%dk", r->audio_k);
            arg(&av, "-ac:a:%zu", i);
            arg(&av, "2");
        }
        if (n < sizeof(map)) {
            n += (size_t)snprintf(map + n, sizeof(map) - n, "%sv:%zu", i > 0 ? " " : "", i);
        }
        if (l->audio && n < sizeof(map)) {
            n += (size_t)snprintf(map + n, sizeof(map) - n, ",a:%zu", i);
        }
        if (n < sizeof(map)) {
            n += (size_t)snprintf(map + n, sizeof(map) - n, ",name:%s", r->name);
        }
    }
    if (n >= sizeof(map)) {
        return NULL;
    }
    lits(&av, "-f", "hls", "-hls_time", NULL);
    arg(&av, "%d", HLS_SEGMENT_SECS);
    lits(&av, "-hls_playlist_type", "vod", "-hls_flags", "independent_segments",
         "-hls_segment_type", "mpegts", "-hls_segment_filename", NULL);
    arg(&av, "%s/%%v/seg_%%05d.ts", out_dir);
    arg(&av, "-var_stream_map");
    arg(&av, "%s", map);
    arg(&av, "%s/%%v/index.m3u8", out_dir);
    return av.full ? NULL : av.v;
}

char **
hls_thumbnail_command(struct arena *a, const char *ffmpeg, double duration, int video_stream,
                      const char *src, const char *out)
{
    struct argv av;

    if (!ffmpeg_begin(&av, a, 32, ffmpeg)) {
        return NULL;
    }
    /* Past the opening (often black or a fade), then the most representative of the next
     * frames (the thumbnail filter picks the one nearest the batch's average). */
    arg(&av, "-ss");
    arg(&av, "%.3f", duration > 0 ? duration / 10 : 0.0);
    lits(&av, "-i", src, "-map", NULL);
    stream_arg(&av, video_stream, "v");
    /* Scaled first, so that the 60 frames the filter holds are small ones. */
    lits(&av, "-vf",
         "scale=w='min(1280,iw)':h='min(1280,ih)':force_original_aspect_ratio=decrease:"
         "force_divisible_by=2,thumbnail=n=60",
         "-frames:v", "1", "-q:v", "3", "-y", out, NULL);
    return av.full ? NULL : av.v;
}

/* One segment of a rung, for the peak. */
struct seg {
    double secs;
    uint64_t bytes;
};

/* The peak bit rate over every run of segments lasting 0.5 to 1.5 target durations
 * (RFC 8216 section 4.1); the whole if no run qualifies (a video shorter than that). */
static double
peak_rate(const struct seg *s, size_t n, double target, double total_s, uint64_t total_b)
{
    double peak = 0;
    size_t i, j;

    for (i = 0; i < n; i++) {
        double secs = 0;
        uint64_t bytes = 0;

        for (j = i; j < n && secs <= 1.5 * target; j++) {
            secs += s[j].secs;
            bytes += s[j].bytes;
            if (secs >= 0.5 * target && secs <= 1.5 * target) {
                peak = fmax(peak, (double)bytes * 8 / secs);
            }
        }
    }
    return peak > 0 ? peak : (double)total_b * 8 / total_s;
}

/* Reads one rung's playlist: the segments' durations and sizes. */
static int
measure(const char *dir, const char *name, struct rendition *r)
{
    char path[4096], line[HLS_LINE], seg[4096];
    double dur = 0, total_s = 0, target = HLS_SEGMENT_SECS;
    uint64_t total_b = 0;
    struct seg *segs = NULL, *grown;
    size_t n = 0, cap = 0;
    FILE *f;
    int rc = -1;

    snprintf(path, sizeof(path), "%s/%s/index.m3u8", dir, name);
    if ((f = fopen(path, "re")) == NULL) {
        log_errno("fopen", path);
        return -1;
    }
    while (fgets(line, sizeof(line), f) != NULL) {
        struct stat st;
        size_t len = strcspn(line, "\r\n");

        line[len] = '\0';
        if (strncmp(line, "#EXT-X-TARGETDURATION:", 22) == 0) {
            if (sscanf(line + 22, "%lf", &target) != 1 || !(target > 0)) {
                target = HLS_SEGMENT_SECS;
            }
        } else if (strncmp(line, "#EXTINF:", 8) == 0) {
            if (sscanf(line + 8, "%lf", &dur) != 1) {
                dur = 0;
            }
        } else if (line[0] != '#' && len > 0) {
            snprintf(seg, sizeof(seg), "%s/%s/%s", dir, name, line);
            if (stat(seg, &st) == -1 || !(dur > 0)) {
                continue;
            }
            if (n == cap) {
                cap = cap == 0 ? 64 : cap * 2;
                if ((grown = realloc(segs, cap * sizeof(*segs))) == NULL) {
                    log_ev(LOG_ERROR, "out_of_memory", "%s: segment list", path);
                    goto out;
                }
                segs = grown;
            }
            segs[n++] = (struct seg){dur, (uint64_t)st.st_size};
            total_b += (uint64_t)st.st_size;
            total_s += dur;
            dur = 0;
        }
    }
    if (n == 0 || !(total_s > 0)) {
        log_ev(LOG_WARN, "hls_empty", "%s: no segment", path);
        goto out;
    }
    r->bandwidth = (int64_t)ceil(peak_rate(segs, n, target, total_s, total_b));
    r->average_bandwidth = (int64_t)ceil((double)total_b * 8 / total_s);
    rc = 0;
out:
    free(segs);
    fclose(f);
    return rc;
}

int
hls_finish(const struct hls_ladder *l, const char *out_dir, struct video_media *m)
{
    char path[4096];
    size_t i;
    FILE *f;
    int rc = 0;

    m->nrenditions = 0;
    for (i = 0; i < l->n; i++) {
        struct rendition *r = &m->renditions[m->nrenditions];

        r->name = (char *)l->rungs[i].name;
        r->width = l->rungs[i].width;
        r->height = l->rungs[i].height;
        if (measure(out_dir, r->name, r) == -1) {
            return -1;
        }
        m->nrenditions++;
    }
    snprintf(path, sizeof(path), "%s/master.m3u8", out_dir);
    if ((f = fopen(path, "we")) == NULL) {
        log_errno("fopen", path);
        return -1;
    }
    fprintf(f, "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-INDEPENDENT-SEGMENTS\n");
    for (i = 0; i < m->nrenditions; i++) {
        const struct rendition *r = &m->renditions[i];

        fprintf(f,
                "#EXT-X-STREAM-INF:BANDWIDTH=%lld,AVERAGE-BANDWIDTH=%lld,RESOLUTION=%dx%d,"
                "CODECS=\"%s%s\",FRAME-RATE=%.3f\n%s/index.m3u8\n",
                (long long)r->bandwidth, (long long)r->average_bandwidth, r->width, r->height,
                l->rungs[i].codecs, l->audio ? ",mp4a.40.2" : "", l->fps, r->name);
    }
    if (fflush(f) != 0 || ferror(f)) {
        log_errno("write", path);
        rc = -1;
    }
    if (fclose(f) != 0) {
        rc = -1;
    }
    return rc;
}

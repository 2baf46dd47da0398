/*
 * image.h - avatars and banners: what an uploaded image is (its first bytes, never its name
 * or Content-Type), and the fixed-size JPEGs made from it by ffmpeg, so that nothing of the
 * upload's own bytes (EXIF, GPS, comments, an appended payload) ever reaches another user.
 * Files live under $MEDIA_ROOT/images/ and nginx serves them as immutable:
 *   avatars/<name>-256.jpg, avatars/<name>-64.jpg   (center square, 256x256 and 64x64)
 *   banners/<name>.jpg                              (center 4:1, 2048x512)
 * <name> is IMAGE_NAME_LEN hex digits of SHA-256 over the owner's id and the encoded bytes:
 * a new image gets a new URL, and two users' identical images never share files. Uploads
 * and ffmpeg's output wait in images/tmp/ (same filesystem), and reach their folder by
 * rename after fsync: a reader sees all of a file or none.
 */
#ifndef STREMORA_IMAGE_H
#define STREMORA_IMAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct arena;

#define IMAGE_NAME_LEN  32 /* hex digits of a content name */
#define IMAGE_SNIFF_LEN 16 /* bytes image_sniff needs to decide */
/* Pixels of a source's width or height; past it, refused before it is scaled (a small file
 * may claim a huge frame). */
#define IMAGE_MAX_SIDE 8192

enum image_format { IMAGE_NONE, IMAGE_JPEG, IMAGE_PNG, IMAGE_WEBP };
enum image_kind { IMAGE_AVATAR, IMAGE_BANNER };

enum image_status {
    IMAGE_OK,
    IMAGE_BAD,   /* not an image ffmpeg can read as its signature says, or too large a frame */
    IMAGE_ERROR, /* we failed (ffmpeg missing, disk): logged */
};

/* How ffprobe and ffmpeg run (child.h). */
struct image_options {
    const char *ffmpeg; /* absolute paths */
    const char *ffprobe;
    uint64_t mem_bytes;        /* address space of each child */
    uint64_t cpu_secs;         /* CPU seconds of each child */
    int64_t timeout_ms;        /* wall time of each child */
    int (*on_tick)(void *ctx); /* called every second while a child runs (may be NULL) */
    void *ctx;
};

/* Returns the format p (n bytes) starts with, by its signature: JPEG (FF D8 FF), PNG (the
 * 8-byte signature and an IHDR chunk), WebP (RIFF....WEBP with a VP8, VP8L or VP8X chunk);
 * IMAGE_NONE for anything else or fewer than IMAGE_SNIFF_LEN bytes. */
enum image_format image_sniff(const unsigned char *p, size_t n);
/* True if name is IMAGE_NAME_LEN lowercase hex digits (a name image_publish gave). */
bool image_name_is_valid(const char *name);

/* Opens a new empty temp file for an upload under media_root/images/tmp/ (the folders are
 * made if missing; temp files left for over 10 minutes by a killed worker are removed on
 * the way). Returns its descriptor (closed, and the file removed, with the arena) and its
 * path in *path, or -1 (logged). */
int image_tmp_open(struct arena *a, const char *media_root, char **path);

/* Checks src (an upload of format fmt) with ffprobe, makes kind's files with ffmpeg and
 * moves them into place; name gets their content name (owner_hex is the owner's id).
 * IMAGE_BAD: src is not a readable image of that format, or is larger than IMAGE_MAX_SIDE
 * (nothing is left behind). */
enum image_status image_publish(struct arena *a, const struct image_options *opt,
                                const char *media_root, enum image_kind kind, enum image_format fmt,
                                const char *src, const char *owner_hex,
                                char name[IMAGE_NAME_LEN + 1]);
/* Removes kind's files of name; nothing when name is NULL, invalid or already gone. */
void image_remove(const char *media_root, enum image_kind kind, const char *name);
/* Removes a deleted user's images (its user document's avatar and banner; NULL: none). */
void image_drop_user(const char *media_root, const char *avatar, const char *banner);

#endif

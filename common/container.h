/*
 * container.h - recognises the video containers Stremora accepts from their first bytes
 * (their signatures), before more of an upload is written: MP4/MOV (ISO BMFF and
 * QuickTime atoms), Matroska/WebM (EBML), AVI (RIFF), MPEG-TS (sync bytes), FLV, Ogg.
 */
#ifndef STREMORA_CONTAINER_H
#define STREMORA_CONTAINER_H

#include <stddef.h>

#define CONTAINER_SNIFF_BYTES 512 /* bytes that settle every signature below */

enum container {
    CONTAINER_UNKNOWN,
    CONTAINER_MP4,
    CONTAINER_MOV,
    CONTAINER_MKV,
    CONTAINER_WEBM,
    CONTAINER_AVI,
    CONTAINER_TS,
    CONTAINER_FLV,
    CONTAINER_OGG
};

/* Returns the container whose signature starts p (n bytes: pass CONTAINER_SNIFF_BYTES, or
 * all of a shorter file), or CONTAINER_UNKNOWN. */
enum container container_sniff(const unsigned char *p, size_t n);
/* Returns the file extension for c ("mp4", "mkv", ...), or NULL for CONTAINER_UNKNOWN. */
const char *container_ext(enum container c);
/* Returns the container whose extension container_ext gives as ext (CONTAINER_UNKNOWN for
 * any other string, or NULL). */
enum container container_from_ext(const char *ext);
/* Returns the MIME type for c, or NULL. */
const char *container_mime(enum container c);

#endif

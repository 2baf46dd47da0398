/*
 * container.c - container signatures. Sources: ISO/IEC 14496-12 section 4.2 (a box is a
 * 32-bit size then a 4-byte type; files start with ftyp, or with QuickTime's moov, mdat,
 * wide, free, skip atoms), the EBML header ID 1A 45 DF A3 with the DocType "webm" or
 * "matroska" in the header, RIFF....AVI, MPEG-TS packets of 188 bytes starting 0x47, "FLV"
 * with version 1, and "OggS" capture patterns.
 */
#include "container.h"

#include <string.h>

static int
has(const unsigned char *p, size_t n, size_t off, const char *sig, size_t len)
{
    return n >= off + len && memcmp(p + off, sig, len) == 0;
}

static enum container
sniff_bmff(const unsigned char *p, size_t n)
{
    static const char *const qt_atoms[] = {"moov", "mdat", "wide", "free", "skip", "pnot"};
    size_t i;

    if (has(p, n, 4, "ftyp", 4)) {
        return has(p, n, 8, "qt  ", 4) ? CONTAINER_MOV : CONTAINER_MP4;
    }
    for (i = 0; i < sizeof(qt_atoms) / sizeof(qt_atoms[0]); i++) {
        if (has(p, n, 4, qt_atoms[i], 4)) {
            return CONTAINER_MOV;
        }
    }
    return CONTAINER_UNKNOWN;
}

static enum container
sniff_ebml(const unsigned char *p, size_t n)
{
    size_t i, lim = n < 64 ? n : 64; /* the DocType element sits in the first header bytes */

    if (!has(p, n, 0, "\x1a\x45\xdf\xa3", 4)) {
        return CONTAINER_UNKNOWN;
    }
    for (i = 4; i + 4 <= lim; i++) {
        if (memcmp(p + i, "webm", 4) == 0) {
            return CONTAINER_WEBM;
        }
        if (i + 8 <= lim && memcmp(p + i, "matroska", 8) == 0) {
            return CONTAINER_MKV;
        }
    }
    return CONTAINER_UNKNOWN;
}

static enum container
sniff_ts(const unsigned char *p, size_t n)
{
    size_t i;

    /* Three packets' sync bytes, or as many as a short file holds (at least two). */
    if (n < 189 || p[0] != 0x47) {
        return CONTAINER_UNKNOWN;
    }
    for (i = 188; i < n && i <= 376; i += 188) {
        if (p[i] != 0x47) {
            return CONTAINER_UNKNOWN;
        }
    }
    return CONTAINER_TS;
}

enum container
container_sniff(const unsigned char *p, size_t n)
{
    enum container c;

    if ((c = sniff_bmff(p, n)) != CONTAINER_UNKNOWN ||
        (c = sniff_ebml(p, n)) != CONTAINER_UNKNOWN) {
        return c;
    }
    if (has(p, n, 0, "RIFF", 4) && has(p, n, 8, "AVI ", 4)) {
        return CONTAINER_AVI;
    }
    if (has(p, n, 0, "FLV\x01", 4)) {
        return CONTAINER_FLV;
    }
    if (has(p, n, 0, "OggS\x00", 5)) {
        return CONTAINER_OGG;
    }
    return sniff_ts(p, n);
}

const char *
container_ext(enum container c)
{
    static const char *const ext[] = {
        [CONTAINER_UNKNOWN] = NULL, [CONTAINER_MP4] = "mp4",   [CONTAINER_MOV] = "mov",
        [CONTAINER_MKV] = "mkv",    [CONTAINER_WEBM] = "webm", [CONTAINER_AVI] = "avi",
        [CONTAINER_TS] = "ts",      [CONTAINER_FLV] = "flv",   [CONTAINER_OGG] = "ogv",
    };
    return (size_t)c < sizeof(ext) / sizeof(ext[0]) ? ext[c] : NULL;
}

enum container
container_from_ext(const char *ext)
{
    enum container c;

    for (c = CONTAINER_MP4; ext != NULL && container_ext(c) != NULL; c++) {
        if (strcmp(container_ext(c), ext) == 0) {
            return c;
        }
    }
    return CONTAINER_UNKNOWN;
}

const char *
container_mime(enum container c)
{
    static const char *const mime[] = {
        [CONTAINER_UNKNOWN] = NULL,          [CONTAINER_MP4] = "video/mp4",
        [CONTAINER_MOV] = "video/quicktime", [CONTAINER_MKV] = "video/x-matroska",
        [CONTAINER_WEBM] = "video/webm",     [CONTAINER_AVI] = "video/x-msvideo",
        [CONTAINER_TS] = "video/mp2t",       [CONTAINER_FLV] = "video/x-flv",
        [CONTAINER_OGG] = "video/ogg",
    };
    return (size_t)c < sizeof(mime) / sizeof(mime[0]) ? mime[c] : NULL;
}

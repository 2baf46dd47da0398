/*
 * video_fields.c - the rules of a video's text fields, one place for the upload
 * (videos_upload.c) and PATCH (videos.c): title 1-MAX_TITLE characters on one line,
 * description up to MAX_DESCRIPTION characters (lines allowed), tags trimmed, lowered,
 * deduplicated, at most MAX_TAGS of MAX_TAG characters, visibility one of three words.
 * Text is UTF-8 without control characters (str_is_text); names people see (tags) refuse
 * Unicode format characters too.
 */
#include "handlers.h"

#include <string.h>

#include "bounds.h"
#include "db_videos.h"

const char *
video_title_check(struct str t)
{
    if (!str_is_text(t, 0)) {
        return "invalid_format";
    }
    if (str_trim(t).len == 0) {
        return "too_short";
    }
    return str_utf8_len(t) > MAX_TITLE ? "too_long" : NULL;
}

const char *
video_description_check(struct str d)
{
    if (!str_is_text(d, STR_MULTILINE)) {
        return "invalid_format";
    }
    return str_utf8_len(d) > MAX_DESCRIPTION ? "too_long" : NULL;
}

bool
video_visibility_valid(struct str s)
{
    return str_eq_cstr(s, "public") || str_eq_cstr(s, "unlisted") || str_eq_cstr(s, "private");
}

const char *
video_tags_add(struct arena *a, struct video *v, struct str raw)
{
    struct str rest = raw, tag;
    size_t i;

    while (rest.p != NULL) {
        char *t;
        bool dup = false;

        rest = str_cut(rest, ',', &tag);
        tag = str_trim(tag);
        if (tag.len == 0) {
            continue;
        }
        if (!str_is_text(tag, STR_NO_FORMAT)) {
            return "invalid_format";
        }
        if (str_utf8_len(tag) > MAX_TAG) {
            return "too_long";
        }
        if ((t = str_lower_cstr(a, tag)) == NULL) {
            return "invalid_format";
        }
        for (i = 0; i < v->ntags && !dup; i++) {
            dup = strcmp(v->tags[i], t) == 0;
        }
        if (dup) {
            continue;
        }
        if (v->ntags == MAX_TAGS) {
            return "too_many";
        }
        v->tags[v->ntags++] = t;
    }
    return NULL;
}

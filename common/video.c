/*
 * video.c - the API's JSON of a video (video.h). Every member is always there (null when
 * it does not apply yet), so clients never test for absent keys: processing says how far
 * a worker is while the video is "processing", failureReason why it "failed", and the
 * media facts (durationSec, width, height, renditions) come once it is "ready".
 */
#include "video.h"

#include <json-c/json.h>

#include "arena.h"
#include "db.h"
#include "db_videos.h"
#include "json.h"

static struct json_object *
renditions_json(const struct video_media *m)
{
    struct json_object *arr = json_object_new_array(), *r;
    size_t i;

    for (i = 0; arr != NULL && i < m->nrenditions; i++) {
        if ((r = json_object_new_object()) == NULL) {
            break;
        }
        js_add_str(r, "name", m->renditions[i].name);
        js_add_int(r, "width", m->renditions[i].width);
        js_add_int(r, "height", m->renditions[i].height);
        js_add_int(r, "bandwidth", m->renditions[i].bandwidth);
        js_add_int(r, "averageBandwidth", m->renditions[i].average_bandwidth);
        json_object_array_add(arr, r);
    }
    return arr;
}

static void
add_media(struct json_object *o, const struct video *v)
{
    const struct video_media *m = &v->media;
    struct json_object *p = NULL;
    bool ready = v->status != NULL && v->status[0] == 'r'; /* "ready" */

    if (m->processing && (p = json_object_new_object()) != NULL) {
        js_add_str(p, "stage", m->stage != NULL ? m->stage : "queued");
        if (m->percent >= 0) {
            js_add_int(p, "percent", m->percent);
        } else {
            json_object_object_add(p, "percent", NULL);
        }
    }
    json_object_object_add(o, "processing", p);
    json_object_object_add(o, "durationSec", ready ? json_object_new_double(m->duration) : NULL);
    json_object_object_add(o, "width", ready ? json_object_new_int(m->width) : NULL);
    json_object_object_add(o, "height", ready ? json_object_new_int(m->height) : NULL);
    json_object_object_add(o, "renditions", renditions_json(m));
    js_add_str(o, "failureReason", v->failure_reason);
}

struct json_object *
video_json(struct arena *a, const struct video *v)
{
    struct json_object *o = js_new_object(a), *links;
    char created[32], updated[32], *self, *playback;

    if (o == NULL) {
        return NULL;
    }
    db_time_format(v->created_at, created);
    db_time_format(v->updated_at, updated);
    js_add_str(o, "id", v->id_hex);
    js_add_str(o, "ownerId", v->owner_hex);
    js_add_str(o, "title", v->title);
    js_add_str(o, "description", v->description);
    js_add_strs(o, "tags", v->tags, v->ntags);
    js_add_str(o, "visibility", v->visibility);
    js_add_str(o, "status", v->status);
    js_add_int(o, "size", v->size);
    js_add_str(o, "sha256", v->sha256);
    js_add_str(o, "mimeType", v->mime);
    add_media(o, v);
    js_add_int(o, "viewCount", v->view_count);
    js_add_int(o, "likeCount", v->like_count);
    js_add_int(o, "dislikeCount", v->dislike_count);
    js_add_int(o, "commentCount", v->comment_count);
    js_add_bool(o, "commentsEnabled", v->comments_enabled);
    js_add_str(o, "createdAt", created);
    js_add_str(o, "updatedAt", updated);
    self = arena_sprintf(a, "/api/v1/videos/%s", v->id_hex);
    playback = arena_sprintf(a, "/api/v1/videos/%s/playback", v->id_hex);
    if ((links = json_object_new_object()) != NULL) {
        js_add_str(links, "self", self);
        js_add_str(links, "playback", playback);
        json_object_object_add(o, "links", links);
    }
    return o;
}

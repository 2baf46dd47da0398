/*
 * video.h - a video as the API shows it (JSON), shared by the API's answers and the
 * worker's webhook events, so that both say the same thing in the same shape
 * (docs/openapi.yaml, schema Video).
 */
#ifndef STREMORA_VIDEO_H
#define STREMORA_VIDEO_H

struct arena;
struct json_object;
struct video;

/* Returns the JSON of v as anyone allowed to see it sees it. NULL if a is full. */
struct json_object *video_json(struct arena *a, const struct video *v);

#endif

/*
 * videos.h - what other handler files use of videos.c: a page of videos as the lists show
 * them, and one video as its answers show it (the Video JSON with its owner's card and the
 * caller's rating: every answer of the API carries both; webhook events do not).
 */
#ifndef STREMORA_FCGI_VIDEOS_H
#define STREMORA_FCGI_VIDEOS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "db.h"

struct json_object;
struct request;
struct video;

/* out[i] (an arena array of n <= 100) gets the JSON of vs[i] as the API shows it: with
 * "owner", the card of its owner (the owners are read once for the page: people_cards),
 * and "myRating", the caller's rating (one read for the page; null for anonymous
 * callers). gens (NULL, or n entries) gets each owner's cache generation (host key 'u'),
 * read before the users are, so that a cached page can tell when a card in it went
 * stale. */
enum db_status videos_page_json(struct request *r, const struct video *vs, size_t n,
                                struct json_object ***out, uint64_t *gens);

/* Loads the video named by {id} that the caller may see into v. Returns true, or false after
 * answering (404 video_not_found for a malformed, missing or invisible one, 503). */
bool video_load_visible(struct request *r, struct video *v, int *rc);

/* Answers status with v as the API shows it (its owner's card, the caller's rating), as
 * GET /api/v1/videos/{id} does; 503 when the database fails. */
int respond_video(struct request *r, int status, const struct video *v);

#endif

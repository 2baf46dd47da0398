/*
 * ratings.h - what the video answers (videos.c) take from ratings.c: the caller's own
 * rating of a video (myRating), kept in the worker's LRU per user and video and dropped on
 * every worker of the host when that user rates the video again.
 */
#ifndef STREMORA_FCGI_RATINGS_H
#define STREMORA_FCGI_RATINGS_H

#include "db.h"
#include "db_ratings.h"

struct request;

/* *out gets the signed-in caller's rating of video video_hex (24 hex digits); RATING_NONE
 * for an anonymous caller or none. DB_UNAVAILABLE/DB_ERROR when it cannot be read. */
enum db_status ratings_mine(struct request *r, const char *video_hex, enum rating_value *out);

#endif

/*
 * db_ratings.h - the ratings collection (sql-free-schemas/ratings.json): one document per
 * user and rated thing (a video, a comment or a post), {_id, userId, targetId, kind, value,
 * at}. The unique index {userId, targetId} decides that there is one: a first rating is an
 * insert, a change is an update conditioned on the old value, so the target's counters
 * (likeCount, dislikeCount on the target's own document) move only when a rating really
 * changed, exactly once however many identical requests race. A crash between the two
 * writes leaves a counter off by one until `stremoractl recount`.
 */
#ifndef STREMORA_DB_RATINGS_H
#define STREMORA_DB_RATINGS_H

#include <stdint.h>

#include <bson/bson.h>

#include "db.h"

struct arena;

enum rating_kind { RATE_VIDEO, RATE_COMMENT, RATE_POST };
enum rating_value { RATING_NONE, RATING_LIKE, RATING_DISLIKE };

/* "video", "comment", "post": the kind's name in documents; the collection is its plural. */
const char *rating_kind_name(enum rating_kind k);
const char *rating_kind_collection(enum rating_kind k);
/* "like", "dislike"; NULL for RATING_NONE. */
const char *rating_value_name(enum rating_value v);

/* Sets user's rating of target to value (like or dislike); *before gets what it was. */
enum db_status db_ratings_set(struct arena *a, struct db *db, const bson_oid_t *user,
                              enum rating_kind kind, const bson_oid_t *target,
                              enum rating_value value, enum rating_value *before);
/* Takes user's rating of target away; *before gets what it was (RATING_NONE: there was none). */
enum db_status db_ratings_clear(struct arena *a, struct db *db, const bson_oid_t *user,
                                enum rating_kind kind, const bson_oid_t *target,
                                enum rating_value *before);
/* out[i] gets user's rating of targets[i] (RATING_NONE if none), for n <= 100 targets. */
enum db_status db_ratings_get_many(struct arena *a, struct db *db, const bson_oid_t *user,
                                   const bson_oid_t *targets, size_t n, enum rating_value *out);

/* One rating in a user's list of likes. */
struct rating_item {
    bson_oid_t id; /* the rating's own: the cursor's tie-breaker */
    char id_hex[25];
    bson_oid_t target;
    int64_t at; /* ms: when it was last set */
};
/* The user's likes of kind, newest first, after the cursor (cursor_id NULL: from the top):
 * up to limit items into out (arena array), *n their count. */
enum db_status db_ratings_list_likes(struct arena *a, struct db *db, const bson_oid_t *user,
                                     enum rating_kind kind, int64_t cursor_at,
                                     const bson_oid_t *cursor_id, size_t limit,
                                     struct rating_item **out, size_t *n);

/* The target is gone: its ratings go, its counters with it. */
enum db_status db_ratings_drop_target(struct arena *a, struct db *db, const bson_oid_t *target);
/* The user is gone: each of their ratings goes and is taken off its target's counters. */
enum db_status db_ratings_drop_user(struct arena *a, struct db *db, const bson_oid_t *user);

#endif

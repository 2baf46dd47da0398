/*
 * db_posts.h - the posts collection (sql-free-schemas/posts.json): a channel's community
 * posts, {_id, authorId, body, createdAt, editedAt, likeCount, commentCount}. likeCount is
 * db_ratings.c's counter, commentCount db_comments.c's (both $inc'd only on a real change,
 * rebuilt by `stremoractl recount`). A channel's posts page by keyset on (createdAt, _id),
 * newest first.
 */
#ifndef STREMORA_DB_POSTS_H
#define STREMORA_DB_POSTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <bson/bson.h>

#include "db.h"

struct arena;

struct post {
    bson_oid_t id;
    char id_hex[25];
    bson_oid_t author;
    char *body;
    int64_t created_at; /* ms */
    int64_t edited_at;  /* ms; 0: never edited */
    int64_t like_count;
    int64_t comment_count;
};

/* Inserts p (author and body set by the caller; id, created_at and counters set here). */
enum db_status db_posts_insert(struct arena *a, struct db *db, struct post *p);
/* Finds by id. DB_NOT_FOUND if none. */
enum db_status db_posts_get(struct arena *a, struct db *db, const bson_oid_t *id, struct post *out);
/* Replaces the body and sets editedAt. DB_NOT_FOUND if the post is gone. */
enum db_status db_posts_update_body(struct arena *a, struct db *db, const bson_oid_t *id,
                                    const char *body, int64_t edited_at);
/* Deletes the post document alone (its comments and ratings are the drop job's).
 * DB_NOT_FOUND if it was gone. */
enum db_status db_posts_delete(struct arena *a, struct db *db, const bson_oid_t *id);
/* The author's posts, newest first, after the keyset cursor (at, id) when has_cursor: up to
 * limit + 1 into *out (an arena array), *n how many. */
enum db_status db_posts_list_author(struct arena *a, struct db *db, const bson_oid_t *author,
                                    bool has_cursor, int64_t cursor_at, const bson_oid_t *cursor_id,
                                    size_t limit, struct post **out, size_t *n);
/* The user is gone: each of their posts goes with its comments and ratings. A page at a
 * time, in bounded memory. */
enum db_status db_posts_drop_user(struct arena *a, struct db *db, const bson_oid_t *user);

#endif

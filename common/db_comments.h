/*
 * db_comments.h - the comments collection (sql-free-schemas/comments.json): comments on
 * videos and on community posts alike, {_id, kind ("video"|"post"), targetId, reply,
 * parentId (null for a top-level comment), authorId, body, deleted, createdAt, editedAt,
 * likeCount, replyCount}. One level of replies: a reply's parent is a top-level comment of
 * the same target.
 *
 * Counters, $inc'd only when a write really changed something and rebuilt by
 * `stremoractl recount`:
 *   comments.replyCount: the reply documents whose parentId is the comment (replies never
 *     have replies, so a deleted reply is always removed: every reply document counts);
 *   videos.commentCount, posts.commentCount: the target's comments that are not deleted,
 *     replies included (a deleted comment kept for its replies no longer counts);
 *   comments.likeCount: db_ratings.c's.
 * A deleted comment with replies keeps the thread's shape: body and author become null,
 * deleted true; it goes for good when its last reply goes. One without replies is removed.
 * Without transactions the steps of one change are ordered so that every state between
 * them is a valid thread; a crash between two writes leaves a counter off by one until
 * recount.
 */
#ifndef STREMORA_DB_COMMENTS_H
#define STREMORA_DB_COMMENTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <bson/bson.h>

#include "db.h"

struct arena;

enum comment_target { COMMENT_VIDEO, COMMENT_POST };
enum comment_sort { COMMENT_NEWEST, COMMENT_TOP, COMMENT_OLDEST };

struct comment {
    bson_oid_t id;
    char id_hex[25];
    enum comment_target kind;
    bson_oid_t target;
    char target_hex[25];
    bool reply; /* has a parent */
    bson_oid_t parent;
    char parent_hex[25];
    bool has_author; /* false once deleted */
    bson_oid_t author;
    char *body; /* NULL once deleted */
    bool deleted;
    int64_t created_at; /* ms */
    int64_t edited_at;  /* ms; 0: never edited */
    int64_t like_count;
    int64_t reply_count;
};

/* A page of comments: a target's top-level ones (parent NULL) or one comment's replies. */
struct comment_query {
    enum comment_target kind;
    const bson_oid_t *target; /* top-level list */
    const bson_oid_t *parent; /* replies list (then target is not used) */
    enum comment_sort sort;   /* NEWEST or TOP for top-level; replies are OLDEST first */
    bool has_cursor;
    int64_t cursor_key; /* createdAt ms, or likeCount for TOP */
    bson_oid_t cursor_id;
    size_t limit; /* up to limit + 1 are read: one more says there is a next page */
};

/* "video" or "post", as the kind field stores it. */
const char *comment_target_name(enum comment_target k);

/* Finds by id (deleted ones too). DB_NOT_FOUND if none. */
enum db_status db_comments_get(struct arena *a, struct db *db, const bson_oid_t *id,
                               struct comment *out);
/* Adds c (kind, target, reply/parent, author, body set by the caller; id, created_at and
 * counters set here): the insert, then the parent's replyCount, then the target's
 * commentCount. DB_CONFLICT: the parent went meanwhile; DB_NOT_FOUND: the target did;
 * either way nothing is left of c. */
enum db_status db_comments_add(struct arena *a, struct db *db, struct comment *c);
/* Replaces a live comment's body and sets editedAt. DB_NOT_FOUND if it is gone or deleted. */
enum db_status db_comments_update_body(struct arena *a, struct db *db, const bson_oid_t *id,
                                       const char *body, int64_t edited_at);
/* Deletes c: removed when it has no replies (with its ratings), else kept as deleted; the
 * counters follow, and a deleted parent left without replies goes too. *counted (may be
 * NULL) says whether the target's commentCount changed. DB_NOT_FOUND if c was already
 * deleted or gone. */
enum db_status db_comments_remove(struct arena *a, struct db *db, const struct comment *c,
                                  bool *counted);
/* One page into *out (an arena array of up to q->limit + 1), *n how many. */
enum db_status db_comments_list(struct arena *a, struct db *db, const struct comment_query *q,
                                struct comment **out, size_t *n);

/* The video or post is gone: its comments go, and their ratings. A page at a time. */
enum db_status db_comments_drop_target(struct arena *a, struct db *db, enum comment_target kind,
                                       const bson_oid_t *target);
/* The user is gone: each of their comments is deleted as db_comments_remove does (kept
 * as deleted while it has replies), counters kept right. A page at a time. */
enum db_status db_comments_drop_user(struct arena *a, struct db *db, const bson_oid_t *user);

#endif

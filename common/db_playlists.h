/*
 * db_playlists.h - the playlists and playlist_items collections
 * (sql-free-schemas/playlists.json, playlist_items.json). A playlist is {_id, ownerId, kind,
 * title, description, visibility, itemCount, createdAt, updatedAt}; each video in it is a
 * document of its own, {_id, playlistId, videoId, rank (16 hex digits), addedAt} (DESIGN.md section
 * 4: no positional updates on an array). The unique index {playlistId, videoId} decides that a
 * video is in a playlist once. Order is a sparse int64 rank per item (RANK_STEP apart when
 * written anew), ties by _id: an insert or a move takes a rank between its neighbours and
 * writes one document; only when there is no gap is the playlist renumbered. itemCount is
 * $inc'd only when an item really went in or out (and never past MAX_PLAYLIST_ITEMS); a
 * crash between the two writes leaves it off by one until `stremoractl recount`.
 * Every user's "Watch later" (kind watch_later, always private) has its owner's id as its
 * _id: the _id index decides that there is one, however many first requests race, and
 * its owner can address it before it exists.
 */
#ifndef STREMORA_DB_PLAYLISTS_H
#define STREMORA_DB_PLAYLISTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <bson/bson.h>

#include "db.h"

struct arena;

#define PLAYLIST_WATCH_LATER_TITLE "Watch later"

struct playlist {
    bson_oid_t id;
    char id_hex[25];
    bson_oid_t owner_id;
    char owner_hex[25];
    char *title;
    char *description; /* "" when none */
    char *visibility;  /* public, unlisted, private */
    bool watch_later;  /* kind "watch_later", else "playlist" */
    int64_t item_count;
    int64_t created_at; /* ms */
    int64_t updated_at;
};

/* Inserts p (owner, title, description, visibility set by the caller); sets its id and
 * times. */
enum db_status db_playlists_insert(struct arena *a, struct db *db, struct playlist *p);
/* Finds by id. */
enum db_status db_playlists_get(struct arena *a, struct db *db, const bson_oid_t *id,
                                struct playlist *out);
/* Finds owner's Watch later, making it first if there is none (idempotent under races). */
enum db_status db_playlists_watch_later(struct arena *a, struct db *db, const bson_oid_t *owner,
                                        struct playlist *out);

#define PLAYLIST_SET_TITLE       1u
#define PLAYLIST_SET_DESCRIPTION 2u
#define PLAYLIST_SET_VISIBILITY  4u
/* Writes the fields of p named in mask and p->updated_at, if p is still its owner's.
 * DB_NOT_FOUND if it is gone. */
enum db_status db_playlists_update(struct arena *a, struct db *db, const struct playlist *p,
                                   unsigned mask);
/* Deletes playlist id of owner and its items. DB_NOT_FOUND if it was not there. */
enum db_status db_playlists_delete(struct arena *a, struct db *db, const bson_oid_t *owner,
                                   const bson_oid_t *id);

/* A page of an owner's playlists (kind "playlist": Watch later is not among them), newest
 * first, by keyset on (createdAt, _id). */
struct playlist_query {
    const bson_oid_t *owner;
    bool public_only;
    bool has_cursor;
    int64_t cursor_created; /* ms */
    bson_oid_t cursor_id;
    size_t limit;
};
/* Up to q->limit + 1 playlists into out (arena array); *n gets the count. */
enum db_status db_playlists_list(struct arena *a, struct db *db, const struct playlist_query *q,
                                 struct playlist **out, size_t *n);

struct playlist_item {
    bson_oid_t id;
    char id_hex[25];
    bson_oid_t video;
    int64_t rank;
    int64_t added_at; /* ms */
};

/* Every item of playlist in order (rank, then _id; at most MAX_PLAYLIST_ITEMS plus a few
 * that a racing add has not yet given back) into out (arena array); *n gets the count.
 * Costly for a long playlist (about 0.5 s at 5000 items on the local server): only a
 * renumbering reads it. */
enum db_status db_playlists_items(struct arena *a, struct db *db, const bson_oid_t *playlist,
                                  struct playlist_item **out, size_t *n);
/* The item of video in playlist. DB_NOT_FOUND if the video is not there. */
enum db_status db_playlists_item_get(struct arena *a, struct db *db, const bson_oid_t *playlist,
                                     const bson_oid_t *video, struct playlist_item *out);

/* What decides who may see a video, for items[0..n) (videos read by _id, 100 at a time):
 * found false for a video that is gone. The strings live in a. */
struct playlist_video_state {
    bool found;
    char *visibility;
    char *status;
    char owner_hex[25];
};
enum db_status db_playlists_video_states(struct arena *a, struct db *db,
                                         const struct playlist_item *items, size_t n,
                                         struct playlist_video_state *out);

/* Ranks stay below this (renumbered before they reach it), so that a list cursor can hold
 * a rank and a position (13 bits) in one non-negative int64. */
#define PLAYLIST_RANK_MAX (INT64_C(1) << 50)

/* Up to limit items of playlist in order strictly after the item after (NULL: from the
 * start) into out (limit entries, the caller's); *n gets how many. */
enum db_status db_playlists_items_after(struct arena *a, struct db *db, const bson_oid_t *playlist,
                                        const struct playlist_item *after, size_t limit,
                                        struct playlist_item *out, size_t *n);
/* The playlist's last item into *out; *found false for an empty playlist. */
enum db_status db_playlists_last(struct arena *a, struct db *db, const bson_oid_t *playlist,
                                 struct playlist_item *out, bool *found);
/* A rank between prev and next, neighbours in the order (NULL: the start, the end). When
 * there is no gap between them the items around the place are spread out first (a window
 * that widens until there is room: a few writes, each leaving a valid order; rare: a place
 * is halved 18 to 20 times before, the ends as well). The whole order is read for that. */
enum db_status db_playlists_rank_between(struct arena *a, struct db *db, const bson_oid_t *playlist,
                                         const struct playlist_item *prev,
                                         const struct playlist_item *next, int64_t *rank);

/* Puts video into playlist at rank. DB_DUPLICATE: it is already there; DB_CONFLICT: the
 * playlist is full (MAX_PLAYLIST_ITEMS); DB_NOT_FOUND: the playlist went meanwhile. Only
 * DB_OK leaves an item and a count one higher. */
enum db_status db_playlists_item_add(struct arena *a, struct db *db, const bson_oid_t *playlist,
                                     const bson_oid_t *video, int64_t rank);
/* Gives the item a new rank. DB_NOT_FOUND if it went meanwhile. */
enum db_status db_playlists_item_move(struct arena *a, struct db *db, const bson_oid_t *item,
                                      int64_t rank);
/* Takes video out of playlist (and the count down). DB_NOT_FOUND if it was not there. */
enum db_status db_playlists_item_remove(struct arena *a, struct db *db, const bson_oid_t *playlist,
                                        const bson_oid_t *video);

/* Cleanup hooks (worker/cleanup.c, worker/drop.c). The video is gone: it leaves every
 * playlist, each playlist's itemCount taken down once per item really removed. */
enum db_status db_playlists_drop_video(struct arena *a, struct db *db, const bson_oid_t *video);
/* The user is gone: their playlists (Watch later too) and those playlists' items go. */
enum db_status db_playlists_drop_user(struct arena *a, struct db *db, const bson_oid_t *user);

#endif

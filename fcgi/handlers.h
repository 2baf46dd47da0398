/*
 * handlers.h - every handler (h_<resource>_<verb>, one fcgi/ file per resource) and the
 * few helpers handler files share. The routing table in routes.c names them.
 */
#ifndef STREMORA_FCGI_HANDLERS_H
#define STREMORA_FCGI_HANDLERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "db.h"
#include "host.h"
#include "http.h"
#include "route.h"

struct json_object;
struct js_field;
struct js_value;
struct user;

/* health.c */
int h_health_get(struct request *r);
int h_health_ready(struct request *r);

/* auth.c */
int h_auth_register(struct request *r);
int h_auth_login(struct request *r);
int h_auth_refresh(struct request *r);
int h_auth_logout(struct request *r);

/* users.c */
int h_users_get_me(struct request *r);
int h_users_update_me(struct request *r);
int h_users_password_me(struct request *r);
int h_users_sessions_delete(struct request *r);
int h_users_delete_me(struct request *r);
/* Returns the JSON of u as its owner sees it (with email and role). NULL if a is full. */
struct json_object *user_json(struct arena *a, const struct user *u);
/* Reads the caller's own user into *u (and its id into *id): 0, or -1 after answering
 * (401 invalid_token, 404 user_not_found, 503; *rc is respond's result). */
int own_user(struct request *r, bson_oid_t *id, struct user *u, int *rc);

/* videos.c */
int h_videos_list(struct request *r);
int h_videos_get(struct request *r);
int h_videos_update(struct request *r);
int h_videos_delete(struct request *r);
int h_videos_playback(struct request *r);
struct video;
/* True if the caller is signed in with role admin. */
bool principal_is_admin(const struct principal *who);
/* True if the caller may see v (public and unlisted: anyone; private: owner or admin). */
bool video_visible_to(const struct video *v, const struct principal *who);
/* True if the caller may change v (owner or admin). */
bool video_writable_by(const struct video *v, const struct principal *who);

/* video_fields.c: the rules of a video's text fields. Each check returns NULL when s is
 * good, else the js_error code naming what is wrong. */
const char *video_title_check(struct str s);
const char *video_description_check(struct str s);
bool video_visibility_valid(struct str s);
/* Splits raw (comma-separated) into v's tags: trimmed, lower-cased, deduplicated. Returns
 * NULL, or the js_error code naming what is wrong. */
const char *video_tags_add(struct arena *a, struct video *v, struct str raw);

/* videos_upload.c */
int h_videos_precheck(struct request *r);
int h_videos_create(struct request *r);

/* uploads.c */
int h_uploads_options(struct request *r);
int h_uploads_create(struct request *r);
int h_uploads_head(struct request *r);
int h_uploads_patch(struct request *r);
int h_uploads_delete(struct request *r);

/* webhooks.c */
int h_webhooks_create(struct request *r);
int h_webhooks_list(struct request *r);
int h_webhooks_delete(struct request *r);
int h_webhooks_deliveries(struct request *r);

/* channels.c: channels, subscriptions and the feed */
int h_channels_get(struct request *r);
int h_channels_videos(struct request *r);
int h_channels_subscribe(struct request *r);
int h_channels_unsubscribe(struct request *r);
int h_channels_subscriptions(struct request *r);
int h_channels_feed(struct request *r);
/* Loads the channel (its user) named by the path's {username}. Returns true, or false after
 * answering (404 channel_not_found for a malformed or unknown name, 503). */
bool channel_load(struct request *r, struct user *u, int *rc);

/* images.c: avatars and banners */
int h_images_avatar_put(struct request *r);
int h_images_avatar_delete(struct request *r);
int h_images_banner_put(struct request *r);
int h_images_banner_delete(struct request *r);

/* ratings.c: likes and dislikes of videos */
int h_ratings_video_put(struct request *r);
int h_ratings_video_delete(struct request *r);
int h_ratings_likes(struct request *r);

/* comments.c: comments on videos and posts, one level of replies */
int h_comments_video_create(struct request *r);
int h_comments_video_list(struct request *r);
int h_comments_post_create(struct request *r);
int h_comments_post_list(struct request *r);
int h_comments_replies(struct request *r);
int h_comments_update(struct request *r);
int h_comments_delete(struct request *r);
int h_comments_like_put(struct request *r);
int h_comments_like_delete(struct request *r);

/* posts.c: community posts */
int h_posts_create(struct request *r);
int h_posts_get(struct request *r);
int h_posts_update(struct request *r);
int h_posts_delete(struct request *r);
int h_posts_like_put(struct request *r);
int h_posts_like_delete(struct request *r);
int h_posts_list_channel(struct request *r);

/* playlists.c: playlists and their items */
int h_playlists_create(struct request *r);
int h_playlists_get(struct request *r);
int h_playlists_update(struct request *r);
int h_playlists_delete(struct request *r);
int h_playlists_items(struct request *r);
int h_playlists_item_add(struct request *r);
int h_playlists_item_move(struct request *r);
int h_playlists_item_remove(struct request *r);
int h_playlists_list_channel(struct request *r);
int h_playlists_list_mine(struct request *r);

/* drop.c: what hangs on a deleted post or user (comments, ratings, subscriptions,
 * playlists, a user's videos and images) goes in a job of kind drop, queued before the
 * document itself is deleted. what: "post" or "user"; a user's avatar and banner names (or
 * NULL) ride along, since the job runs once the document naming them is gone. */
enum db_status drop_enqueue(struct request *r, const char *what, const bson_oid_t *id,
                            const char *avatar, const char *banner);

/* media.c */
int h_media_auth(struct request *r);

/* cache.c: cached hot GETs */
#define CACHE_ETAG_LEN 18 /* '"' + 16 hex digits + '"' */
/* Drops every worker's cached copy of an object (after a write). */
void cache_invalidate(struct request *r, char kind, const char *id_hex);
/* Whole 200 answers of list pages that many callers get alike (anonymous callers; or one
 * user, who). The key is the path, the query and who; the entry holds while none of the
 * host keys deps (host_key, HOST_KEY_*) was bumped since it was made, and at most
 * STREMORA_CACHE_TTL_MS (the bound for another host's writes). get returns the JSON or NULL;
 * after a miss, the caller builds the page and puts it with the same pc. */
struct page_cache {
    char key[HOST_KEY_MAX];
    uint64_t gen, now;
    bool ok;
};
const char *page_cache_get(struct request *r, struct page_cache *pc, const char *who,
                           const char *const *deps, size_t ndeps);
void page_cache_put(struct request *r, const struct page_cache *pc, const char *json);
/* Writes the strong ETag of a JSON body. */
void cache_etag(const char *body, char out[CACHE_ETAG_LEN + 1]);
/* Answers 200 with body, or 304 when If-None-Match names etag. */
int respond_etagged(struct request *r, struct str etag, const char *cache_control, const char *body,
                    size_t len);

/* body.c: JSON request bodies */
/* Reads and strictly parses a JSON object body into *obj (owned by the arena). Returns
 * true, or false when a problem has been sent (*rc is respond's result). */
bool body_json(struct request *r, struct json_object **obj, int *rc);
/* Reads, parses and validates the body against spec into vals. Returns true when the
 * handler may go on; false when a problem has been sent (*rc is respond's result).
 * optional: an absent body (no Content-Length) counts as {}. */
bool body_fields(struct request *r, const struct js_field *spec, size_t n, struct js_value *vals,
                 bool optional, int *rc);
/* The rule of a comment's or post's text: UTF-8 without control characters but tab and
 * line ends, not only blanks. Returns NULL when s keeps it, else the js_error code
 * (invalid_format, too_short). */
const char *body_text_check(struct str s);

/* respond.c: answers shared by the handler files */
/* The problem for a failed database call: db_unavailable (503) or internal (500). */
enum prob db_prob(enum db_status st);
/* Answers db_prob(st). */
int respond_db_problem(struct request *r, enum db_status st);
/* A list's page as the query asks for it: ?limit= (1-MAX_LIST_LIMIT, default 20) and
 * ?cursor= (cursor_format's (key, id); its key is the caller's to read, sort included). */
struct page_query {
    size_t limit;
    bool has_cursor;
    int64_t cursor_key; /* 0 without a cursor */
    bson_oid_t cursor_id;
};
/* Reads limit and cursor from r's query into q. Returns true, or false after a 400
 * (invalid_query, invalid_cursor; *rc is respond's result). */
bool page_query_parse(struct request *r, struct page_query *q, int *rc);

/* routes.c */
extern const struct route routes[];
extern const size_t nroutes;

#endif

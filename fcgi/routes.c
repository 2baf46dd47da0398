/*
 * routes.c - the routing table: method, path pattern, handler, auth, body limit. main.c
 * matches a request against it (route.c) and runs the middleware from the row. Keep rows
 * grouped by resource; a fixed segment beats a {param} whatever the order.
 */
#include "handlers.h"

#include "bounds.h"

const struct route routes[] = {
    {METHOD_GET, "/api/v1/health", h_health_get, AUTH_NONE, BODY_NONE},
    {METHOD_GET, "/api/v1/health/ready", h_health_ready, AUTH_NONE, BODY_NONE},

    {METHOD_POST, "/api/v1/auth/register", h_auth_register, AUTH_NONE, MAX_JSON_BODY},
    {METHOD_POST, "/api/v1/auth/login", h_auth_login, AUTH_NONE, MAX_JSON_BODY},
    {METHOD_POST, "/api/v1/auth/refresh", h_auth_refresh, AUTH_NONE, MAX_JSON_BODY},
    {METHOD_POST, "/api/v1/auth/logout", h_auth_logout, AUTH_NONE, MAX_JSON_BODY},

    {METHOD_GET, "/api/v1/users/me", h_users_get_me, AUTH_TOKEN, BODY_NONE},
    {METHOD_PATCH, "/api/v1/users/me", h_users_update_me, AUTH_TOKEN, MAX_JSON_BODY},
    {METHOD_POST, "/api/v1/users/me/password", h_users_password_me, AUTH_TOKEN, MAX_JSON_BODY},
    {METHOD_DELETE, "/api/v1/users/me/sessions", h_users_sessions_delete, AUTH_TOKEN, BODY_NONE},
    {METHOD_POST, "/api/v1/users/me/deletion", h_users_delete_me, AUTH_TOKEN, MAX_JSON_BODY},
    {METHOD_PUT, "/api/v1/users/me/avatar", h_images_avatar_put, AUTH_TOKEN, MAX_IMAGE_BYTES},
    {METHOD_DELETE, "/api/v1/users/me/avatar", h_images_avatar_delete, AUTH_TOKEN, BODY_NONE},
    {METHOD_PUT, "/api/v1/users/me/banner", h_images_banner_put, AUTH_TOKEN, MAX_IMAGE_BYTES},
    {METHOD_DELETE, "/api/v1/users/me/banner", h_images_banner_delete, AUTH_TOKEN, BODY_NONE},
    {METHOD_GET, "/api/v1/users/me/subscriptions", h_channels_subscriptions, AUTH_TOKEN, BODY_NONE},
    {METHOD_GET, "/api/v1/users/me/likes", h_ratings_likes, AUTH_TOKEN, BODY_NONE},
    {METHOD_GET, "/api/v1/users/me/playlists", h_playlists_list_mine, AUTH_TOKEN, BODY_NONE},

    /* Channels: every user has one, named by username. */
    {METHOD_GET, "/api/v1/channels/{username}", h_channels_get, AUTH_OPTIONAL, BODY_NONE},
    {METHOD_GET, "/api/v1/channels/{username}/videos", h_channels_videos, AUTH_OPTIONAL, BODY_NONE},
    {METHOD_PUT, "/api/v1/channels/{username}/subscription", h_channels_subscribe, AUTH_TOKEN,
     BODY_NONE},
    {METHOD_DELETE, "/api/v1/channels/{username}/subscription", h_channels_unsubscribe, AUTH_TOKEN,
     BODY_NONE},
    {METHOD_GET, "/api/v1/channels/{username}/posts", h_posts_list_channel, AUTH_OPTIONAL,
     BODY_NONE},
    {METHOD_GET, "/api/v1/channels/{username}/playlists", h_playlists_list_channel, AUTH_OPTIONAL,
     BODY_NONE},
    {METHOD_GET, "/api/v1/feed", h_channels_feed, AUTH_TOKEN, BODY_NONE},

    {METHOD_GET, "/api/v1/videos", h_videos_list, AUTH_OPTIONAL, BODY_NONE},
    {METHOD_POST, "/api/v1/videos", h_videos_create, AUTH_TOKEN, BODY_STREAM},
    {METHOD_GET, "/api/v1/videos/{id}", h_videos_get, AUTH_OPTIONAL, BODY_NONE},
    {METHOD_PATCH, "/api/v1/videos/{id}", h_videos_update, AUTH_TOKEN, MAX_JSON_BODY},
    {METHOD_DELETE, "/api/v1/videos/{id}", h_videos_delete, AUTH_TOKEN, BODY_NONE},
    {METHOD_GET, "/api/v1/videos/{id}/playback", h_videos_playback, AUTH_OPTIONAL, BODY_NONE},
    {METHOD_PUT, "/api/v1/videos/{id}/rating", h_ratings_video_put, AUTH_TOKEN, MAX_JSON_BODY},
    {METHOD_DELETE, "/api/v1/videos/{id}/rating", h_ratings_video_delete, AUTH_TOKEN, BODY_NONE},
    {METHOD_POST, "/api/v1/videos/{id}/comments", h_comments_video_create, AUTH_TOKEN,
     MAX_JSON_BODY},
    {METHOD_GET, "/api/v1/videos/{id}/comments", h_comments_video_list, AUTH_OPTIONAL, BODY_NONE},

    /* Comments, on videos and on posts alike. */
    {METHOD_GET, "/api/v1/comments/{id}/replies", h_comments_replies, AUTH_OPTIONAL, BODY_NONE},
    {METHOD_PATCH, "/api/v1/comments/{id}", h_comments_update, AUTH_TOKEN, MAX_JSON_BODY},
    {METHOD_DELETE, "/api/v1/comments/{id}", h_comments_delete, AUTH_TOKEN, BODY_NONE},
    {METHOD_PUT, "/api/v1/comments/{id}/like", h_comments_like_put, AUTH_TOKEN, BODY_NONE},
    {METHOD_DELETE, "/api/v1/comments/{id}/like", h_comments_like_delete, AUTH_TOKEN, BODY_NONE},

    /* Community posts on a channel. */
    {METHOD_POST, "/api/v1/posts", h_posts_create, AUTH_TOKEN, MAX_JSON_BODY},
    {METHOD_GET, "/api/v1/posts/{id}", h_posts_get, AUTH_OPTIONAL, BODY_NONE},
    {METHOD_PATCH, "/api/v1/posts/{id}", h_posts_update, AUTH_TOKEN, MAX_JSON_BODY},
    {METHOD_DELETE, "/api/v1/posts/{id}", h_posts_delete, AUTH_TOKEN, BODY_NONE},
    {METHOD_PUT, "/api/v1/posts/{id}/like", h_posts_like_put, AUTH_TOKEN, BODY_NONE},
    {METHOD_DELETE, "/api/v1/posts/{id}/like", h_posts_like_delete, AUTH_TOKEN, BODY_NONE},
    {METHOD_POST, "/api/v1/posts/{id}/comments", h_comments_post_create, AUTH_TOKEN, MAX_JSON_BODY},
    {METHOD_GET, "/api/v1/posts/{id}/comments", h_comments_post_list, AUTH_OPTIONAL, BODY_NONE},

    /* Playlists: only the owner changes one. */
    {METHOD_POST, "/api/v1/playlists", h_playlists_create, AUTH_TOKEN, MAX_JSON_BODY},
    {METHOD_GET, "/api/v1/playlists/{id}", h_playlists_get, AUTH_OPTIONAL, BODY_NONE},
    {METHOD_PATCH, "/api/v1/playlists/{id}", h_playlists_update, AUTH_TOKEN, MAX_JSON_BODY},
    {METHOD_DELETE, "/api/v1/playlists/{id}", h_playlists_delete, AUTH_TOKEN, BODY_NONE},
    {METHOD_GET, "/api/v1/playlists/{id}/items", h_playlists_items, AUTH_OPTIONAL, BODY_NONE},
    {METHOD_POST, "/api/v1/playlists/{id}/items", h_playlists_item_add, AUTH_TOKEN, MAX_JSON_BODY},
    {METHOD_PATCH, "/api/v1/playlists/{id}/items/{videoId}", h_playlists_item_move, AUTH_TOKEN,
     MAX_JSON_BODY},
    {METHOD_DELETE, "/api/v1/playlists/{id}/items/{videoId}", h_playlists_item_remove, AUTH_TOKEN,
     BODY_NONE},

    /* Resumable uploads (tus 1.0): OPTIONS needs no token, as the protocol has it. */
    {METHOD_OPTIONS, "/api/v1/uploads", h_uploads_options, AUTH_NONE, BODY_NONE},
    {METHOD_POST, "/api/v1/uploads", h_uploads_create, AUTH_TOKEN, BODY_STREAM},
    {METHOD_HEAD, "/api/v1/uploads/{id}", h_uploads_head, AUTH_TOKEN, BODY_NONE},
    {METHOD_PATCH, "/api/v1/uploads/{id}", h_uploads_patch, AUTH_TOKEN, BODY_STREAM},
    {METHOD_DELETE, "/api/v1/uploads/{id}", h_uploads_delete, AUTH_TOKEN, BODY_NONE},

    {METHOD_POST, "/api/v1/webhooks", h_webhooks_create, AUTH_TOKEN, MAX_JSON_BODY},
    {METHOD_GET, "/api/v1/webhooks", h_webhooks_list, AUTH_TOKEN, BODY_NONE},
    {METHOD_DELETE, "/api/v1/webhooks/{id}", h_webhooks_delete, AUTH_TOKEN, BODY_NONE},
    {METHOD_GET, "/api/v1/webhooks/{id}/deliveries", h_webhooks_deliveries, AUTH_TOKEN, BODY_NONE},

    /* Internal: nginx's auth_request subrequests (not reachable from outside). */
    {METHOD_GET, "/media-auth/{token}/{id}/{path*}", h_media_auth, AUTH_NONE, BODY_NONE},
    {METHOD_POST, "/upload-check/videos", h_videos_precheck, AUTH_NONE, BODY_NONE},
};

const size_t nroutes = sizeof(routes) / sizeof(routes[0]);

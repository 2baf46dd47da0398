/*
 * test_schemas.c - every query the db_<collection>.c files run has an index declared in
 * sql-free-schemas/, so that MongoDB uses one (the local server's own plans, which read
 * through these indexes since tools/ferretdb/patches/, are checked against the running
 * server by tests/e2e/test_db_plans.py). Each row below is one query: its equality fields, then its
 * sort fields; an index matches when its key starts with the equality fields (any order)
 * followed by the sort fields in order. Run from the repository's top folder.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

struct query {
    const char *collection;
    const char *where; /* what runs it */
    const char *eq[3];
    const char *sort[3];
    int unique; /* the index must be unique */
};

static const struct query queries[] = {
    {"users", "db_users_get_by_login (username)", {"username"}, {NULL}, 1},
    {"users", "db_users_get_by_login (email)", {"email"}, {NULL}, 1},
    {"sessions", "db_sessions_get_by_hash", {"tokenHash"}, {NULL}, 1},
    {"sessions", "db_sessions_revoke_family", {"familyId"}, {NULL}, 0},
    {"sessions", "db_sessions_revoke_user", {"userId"}, {NULL}, 0},
    {"videos", "db_videos_list (owner=)", {"ownerId"}, {"createdAt", "_id"}, 0},
    {"videos", "db_videos_list (public)", {"visibility"}, {"createdAt", "_id"}, 0},
    {"video_tags", "db_videos_list (tag=, public)", {"tag", "public"}, {"createdAt", "videoId"}, 0},
    {"video_tags",
     "db_videos_list (tag=, the viewer's own)",
     {"tag", "ownerId"},
     {"createdAt", "videoId"},
     0},
    {"video_tags", "db_videos_tags_drop", {"videoId"}, {NULL}, 0},
    {"videos", "db_videos_delete_stale", {"status"}, {"updatedAt"}, 0},
    {"jobs", "job_enqueue (key)", {"key"}, {NULL}, 1},
    {"jobs", "job_claim (queued and due)", {"status"}, {"runAfter"}, 0},
    {"jobs", "job_claim (lease ran out)", {"status"}, {"leaseExpires"}, 0},
    {"jobs", "job_prune", {"status"}, {"finishedAt"}, 0},
    {"job_claims", "job_prune (claims)", {NULL}, {"at"}, 0},
    {"uploads", "db_uploads_each_expired", {NULL}, {"expiresAt"}, 0},
    {"webhooks", "db_webhooks_list", {"ownerId"}, {"createdAt", "_id"}, 0},
    {"webhook_deliveries", "db_webhooks_deliveries", {"webhookId"}, {"at", "_id"}, 0},
    {"webhook_deliveries", "db_webhooks_prune", {NULL}, {"at"}, 0},
    /* channels (common/db_videos.c, common/db_subscriptions.c) */
    {"videos",
     "db_videos_channel (latest/oldest)",
     {"ownerId", "visibility"},
     {"createdAt", "_id"},
     0},
    {"videos", "db_videos_channel (popular)", {"ownerId", "visibility"}, {"viewCount", "_id"}, 0},
    {"videos", "db_videos_channel (owner, latest/oldest)", {"ownerId"}, {"createdAt", "_id"}, 0},
    {"videos", "db_videos_channel (owner, popular)", {"ownerId"}, {"viewCount", "_id"}, 0},
    {"videos", "db_videos_count_listed", {"ownerId", "visibility"}, {NULL}, 0},
    {"videos",
     "db_videos_feed (one read per ownerId of the $in)",
     {"ownerId"},
     {"createdAt", "_id"},
     0},
    {"subscriptions", "db_subscriptions_add", {"subscriberId", "channelId"}, {NULL}, 1},
    {"subscriptions", "db_subscriptions_remove/has", {"channelId", "subscriberId"}, {NULL}, 0},
    {"subscriptions",
     "db_subscriptions_list/channels/drop_user",
     {"subscriberId"},
     {"createdAt", "_id"},
     0},
    {"subscriptions", "db_subscriptions_drop_user (followers)", {"channelId"}, {NULL}, 0},
    {"playlists", "db_playlists_list (an owner's)", {"ownerId", "kind"}, {"createdAt", "_id"}, 0},
    {"playlists",
     "db_playlists_list (a channel's public)",
     {"ownerId", "kind", "visibility"},
     {"createdAt", "_id"},
     0},
    {"playlists", "db_playlists_drop_user", {"ownerId"}, {NULL}, 0},
    {"playlist_items",
     "db_playlists_item_add, _get, _remove",
     {"playlistId", "videoId"},
     {NULL},
     1},
    {"playlist_items", "db_playlists_items (in order)", {"playlistId"}, {"rank", "_id"}, 0},
    {"playlist_items", "db_playlists_delete (items)", {"playlistId"}, {NULL}, 0},
    {"playlist_items", "db_playlists_drop_video", {"videoId"}, {NULL}, 0},
    {"comments", "db_comments_list (newest)", {"targetId", "reply"}, {"createdAt", "_id"}, 0},
    {"comments", "db_comments_list (top)", {"targetId", "reply"}, {"likeCount", "_id"}, 0},
    {"comments", "db_comments_list (replies)", {"parentId"}, {"createdAt", "_id"}, 0},
    {"comments", "db_comments_drop_target", {"targetId"}, {NULL}, 0},
    {"comments", "db_comments_drop_user", {"authorId"}, {NULL}, 0},
    {"posts", "db_posts_list_author", {"authorId"}, {"createdAt", "_id"}, 0},
    /* ratings (common/db_ratings.c, ctl/recount.c) */
    {"ratings",
     "db_ratings_set/clear/get_many (a user's rating)",
     {"userId", "targetId"},
     {NULL},
     1},
    {"ratings", "db_ratings_drop_user", {"userId"}, {NULL}, 0},
    {"ratings", "db_ratings_drop_target, recount (targetId $in)", {"targetId"}, {NULL}, 0},
    {"ratings", "db_ratings_list_likes", {"userId", "kind", "value"}, {"at", "_id"}, 0},
};

static struct json_object *
load(const char *collection)
{
    char path[256];

    snprintf(path, sizeof(path), "sql-free-schemas/%s.json", collection);
    return json_object_from_file(path);
}

static int
key_pos(struct json_object *key, const char *field)
{
    int i = 0;

    json_object_object_foreach(key, k, v)
    {
        (void)v;
        if (strcmp(k, field) == 0) {
            return i;
        }
        i++;
    }
    return -1;
}

static int
index_covers(struct json_object *idx, const struct query *q)
{
    struct json_object *key, *uniq;
    size_t neq = 0, i;
    int pos;

    if (!json_object_object_get_ex(idx, "key", &key)) {
        return 0;
    }
    if (q->unique &&
        (!json_object_object_get_ex(idx, "unique", &uniq) || !json_object_get_boolean(uniq))) {
        return 0;
    }
    for (i = 0; i < 3 && q->eq[i] != NULL; i++, neq++) {
        if ((pos = key_pos(key, q->eq[i])) < 0 || (size_t)pos >= 3) {
            return 0;
        }
    }
    for (i = 0; i < 3 && q->sort[i] != NULL; i++) {
        if (key_pos(key, q->sort[i]) != (int)(neq + i)) {
            return 0;
        }
    }
    return 1;
}

static void
test_schemas_every_query_has_an_index(void **state)
{
    size_t i, j, n;

    (void)state;
    for (i = 0; i < sizeof(queries) / sizeof(queries[0]); i++) {
        struct json_object *schema = load(queries[i].collection), *indexes;
        int found = 0;

        assert_non_null(schema);
        assert_true(json_object_object_get_ex(schema, "indexes", &indexes));
        n = json_object_array_length(indexes);
        for (j = 0; j < n && !found; j++) {
            found = index_covers(json_object_array_get_idx(indexes, j), &queries[i]);
        }
        if (!found) {
            fail_msg("no index in sql-free-schemas/%s.json for %s", queries[i].collection,
                     queries[i].where);
        }
        json_object_put(schema);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_schemas_every_query_has_an_index),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

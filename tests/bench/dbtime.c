/*
 * dbtime.c - the database's part of the community pages, for benchmarks: the very db_*
 * calls the handlers make for one page, timed directly through libmongoc (no FastCGI, no
 * nginx, no JSON), so tools/bench can say which part of a page's time is the database's.
 *
 *   bench-dbtime RUNS HOT_VIDEO_ID SUBSCRIBER_ID CHANNEL_USERNAME
 *
 * Prints one line per page: "<page> p50 <ms> p99 <ms>". The database is MONGODB_URI's, as
 * for every program of ours.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "bounds.h"
#include "clock.h"
#include "config.h"
#include "db.h"
#include "db_comments.h"
#include "db_subscriptions.h"
#include "db_users.h"
#include "db_videos.h"
#include "log.h"

#define PAGE 20

/* One anonymous first page of a video's comments: the video (visibility), the comments,
 * their authors. */
static int
comments_page(struct arena *a, struct db *db, const bson_oid_t *hot)
{
    struct comment_query q = {
        .kind = COMMENT_VIDEO, .target = hot, .sort = COMMENT_NEWEST, .limit = PAGE};
    struct comment *cs;
    struct video v;
    bson_oid_t ids[PAGE];
    struct user us[PAGE];
    bool found[PAGE];
    size_t n = 0, i;

    if (db_videos_get(a, db, hot, &v) != DB_OK || db_comments_list(a, db, &q, &cs, &n) != DB_OK) {
        return -1;
    }
    for (i = 0; i < n && i < PAGE; i++) {
        bson_oid_copy(&cs[i].author, &ids[i]);
    }
    return db_users_get_many(a, db, ids, i, us, found) == DB_OK ? 0 : -1;
}

/* One first page of a subscriber's feed: the channels followed, their newest videos, the
 * videos' owners. */
static int
feed_page(struct arena *a, struct db *db, const bson_oid_t *subscriber)
{
    bson_oid_t *chans = arena_calloc(a, MAX_FEED_CHANNELS, sizeof(*chans)), ids[PAGE];
    struct video *vs;
    struct user us[PAGE];
    bool found[PAGE];
    size_t n = 0, nv = 0, i;

    if (chans == NULL ||
        db_subscriptions_channels(a, db, subscriber, MAX_FEED_CHANNELS, chans, &n) != DB_OK ||
        db_videos_feed(a, db, chans, n, 0, NULL, PAGE, &vs, &nv) != DB_OK) {
        return -1;
    }
    for (i = 0; i < nv && i < PAGE; i++) {
        bson_oid_copy(&vs[i].owner_id, &ids[i]);
    }
    return db_users_get_many(a, db, ids, i, us, found) == DB_OK ? 0 : -1;
}

/* One anonymous channel page: the channel, its count of videos, its first page of videos. */
static int
channel_page(struct arena *a, struct db *db, const char *username)
{
    struct user u;
    struct channel_query q = {.owner = &u.id, .sort = VIDEO_SORT_LATEST, .limit = PAGE};
    struct video *vs;
    int64_t count;
    size_t n;

    if (db_users_get_by_login(a, db, username, &u) != DB_OK ||
        db_videos_count_listed(a, db, &u.id, &count) != DB_OK) {
        return -1;
    }
    return db_videos_channel(a, db, &q, &vs, &n) == DB_OK ? 0 : -1;
}

static int
cmp(const void *x, const void *y)
{
    int64_t a = *(const int64_t *)x, b = *(const int64_t *)y;

    return a < b ? -1 : a > b;
}

int
main(int argc, char **argv)
{
    struct config cfg;
    struct db *db;
    struct arena *a = arena_new(MAX_REQ_ARENA);
    bson_oid_t hot, sub;
    char err[512];
    long runs = argc == 5 ? atol(argv[1]) : 0;
    const char *names[] = {"comments", "feed", "channel"};
    int64_t *t = calloc(runs > 0 ? (size_t)runs : 1, sizeof(*t));
    int page;

    if (runs < 1 || a == NULL || t == NULL || db_oid_parse(str_from(argv[2]), &hot) == -1 ||
        db_oid_parse(str_from(argv[3]), &sub) == -1) {
        fprintf(stderr, "usage: bench-dbtime RUNS HOT_VIDEO_ID SUBSCRIBER_ID CHANNEL_USERNAME\n");
        return 2;
    }
    log_init("bench-dbtime", LOG_WARN);
    if (cfg_load(&cfg, err, sizeof(err)) == -1 || (db = db_new(&cfg, err, sizeof(err))) == NULL) {
        fprintf(stderr, "bench-dbtime: %s\n", err);
        return 1;
    }
    for (page = 0; page < 3; page++) {
        long i;

        for (i = -5; i < runs; i++) { /* five to warm up */
            int64_t t0 = clock_mono_us();
            int rc = page == 0   ? comments_page(a, db, &hot)
                     : page == 1 ? feed_page(a, db, &sub)
                                 : channel_page(a, db, argv[4]);

            if (rc == -1) {
                fprintf(stderr, "bench-dbtime: the %s page failed\n", names[page]);
                return 1;
            }
            if (i >= 0) {
                t[i] = clock_mono_us() - t0;
            }
            arena_reset(a);
        }
        qsort(t, (size_t)runs, sizeof(*t), cmp);
        printf("%s p50 %.2f p99 %.2f\n", names[page], (double)t[runs / 2] / 1000.0,
               (double)t[(runs * 99) / 100 < runs ? (runs * 99) / 100 : runs - 1] / 1000.0);
    }
    free(t);
    db_free(db);
    arena_free(a);
    return 0;
}

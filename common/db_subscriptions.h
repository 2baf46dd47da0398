/*
 * db_subscriptions.h - the subscriptions collection (sql-free-schemas/subscriptions.json):
 * one document per follower and channel, {_id, subscriberId, channelId, createdAt}. The
 * unique index {subscriberId, channelId} decides that there is one: a subscribe is an insert,
 * an unsubscribe a delete, and the channel's users.subscriberCount is $inc'd (int64) only by
 * the request whose insert went in or whose delete took one away, so 50 identical requests
 * racing move it by exactly one. A crash between the two writes leaves the counter off by
 * one until `stremoractl recount` (subscriptions grouped by channelId).
 */
#ifndef STREMORA_DB_SUBSCRIPTIONS_H
#define STREMORA_DB_SUBSCRIPTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <bson/bson.h>

#include "db.h"

struct arena;

/* The channels one user follows that a feed reads at most (the newest subscriptions). */
#define MAX_FEED_CHANNELS 1000

struct subscription {
    bson_oid_t id; /* the cursor's tie-breaker */
    char id_hex[25];
    bson_oid_t channel;
    int64_t created_at; /* ms */
};

/* subscriber follows channel; *created says whether this call made it so (false: it did
 * already). The channel's subscriberCount goes up by one when *created. */
enum db_status db_subscriptions_add(struct arena *a, struct db *db, const bson_oid_t *subscriber,
                                    const bson_oid_t *channel, bool *created);
/* subscriber no longer follows channel; *removed says whether this call took it away. */
enum db_status db_subscriptions_remove(struct arena *a, struct db *db, const bson_oid_t *subscriber,
                                       const bson_oid_t *channel, bool *removed);
/* *yes: whether subscriber follows channel. */
enum db_status db_subscriptions_has(struct arena *a, struct db *db, const bson_oid_t *subscriber,
                                    const bson_oid_t *channel, bool *yes);
/* subscriber's subscriptions, newest first, strictly after the cursor (cursor_id NULL: from
 * the top): up to limit into out (arena array), *n their count. */
enum db_status db_subscriptions_list(struct arena *a, struct db *db, const bson_oid_t *subscriber,
                                     int64_t cursor_at, const bson_oid_t *cursor_id, size_t limit,
                                     struct subscription **out, size_t *n);
/* The ids of the channels subscriber follows, newest subscription first, at most max
 * (<= MAX_FEED_CHANNELS) into out (an array of max); *n their count. */
enum db_status db_subscriptions_channels(struct arena *a, struct db *db,
                                         const bson_oid_t *subscriber, size_t max, bson_oid_t *out,
                                         size_t *n);
/* The user is gone: their subscriptions go, each taken off its channel's subscriberCount,
 * and so do the subscriptions to their own channel. */
enum db_status db_subscriptions_drop_user(struct arena *a, struct db *db, const bson_oid_t *user);

#endif

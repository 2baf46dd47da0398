/*
 * db_webhooks.h - the webhooks and webhook_deliveries collections
 * (sql-free-schemas/webhooks.json, webhook_deliveries.json). A webhook belongs to one
 * user, who alone sees and deletes it; its secret signs every delivery. Each delivery
 * attempt is one document: when, the HTTP status (0 without an answer), how long, why.
 */
#ifndef STREMORA_DB_WEBHOOKS_H
#define STREMORA_DB_WEBHOOKS_H

#include <stdbool.h>
#include <stdint.h>

#include <bson/bson.h>

#include "bounds.h"
#include "db.h"

struct arena;

#define WEBHOOK_EVENTS 4 /* video.uploaded, video.ready, video.failed, video.deleted */

struct hook {
    bson_oid_t id;
    char id_hex[25];
    bson_oid_t owner_id;
    char *url;
    char *events[WEBHOOK_EVENTS];
    size_t nevents;
    char *secret; /* hex */
    int64_t created_at;
};

struct hook_delivery {
    bson_oid_t id;
    char id_hex[25];
    bson_oid_t webhook_id;
    char *event_id, *event;
    int32_t attempt;
    int64_t at; /* ms */
    int32_t status_code;
    int32_t duration_ms;
    char *error;
};

/* Inserts h (h->id set here). */
enum db_status db_webhooks_insert(struct arena *a, struct db *db, struct hook *h);
/* Finds by id. DB_NOT_FOUND if none. */
enum db_status db_webhooks_get(struct arena *a, struct db *db, const bson_oid_t *id,
                               struct hook *out);
/* The owner's webhooks, newest first, at most max; *n gets how many. */
enum db_status db_webhooks_list(struct arena *a, struct db *db, const bson_oid_t *owner, size_t max,
                                struct hook **out, size_t *n);
/* Deletes the owner's webhook id. DB_NOT_FOUND if the owner has no such webhook. */
enum db_status db_webhooks_delete(struct arena *a, struct db *db, const bson_oid_t *owner,
                                  const bson_oid_t *id);
/* Records one delivery attempt. */
enum db_status db_webhooks_delivery_insert(struct arena *a, struct db *db,
                                           const struct hook_delivery *d);
/* A webhook's deliveries, newest first, after the keyset cursor (at, id) when has_cursor;
 * at most max + 1 (one more tells the caller there is a next page). */
enum db_status db_webhooks_deliveries(struct arena *a, struct db *db, const bson_oid_t *hook,
                                      bool has_cursor, int64_t cursor_at,
                                      const bson_oid_t *cursor_id, size_t max,
                                      struct hook_delivery **out, size_t *n);
/* Deletes deliveries older than before_ms; *n gets how many. */
enum db_status db_webhooks_prune(struct arena *a, struct db *db, int64_t before_ms, int64_t *n);

#endif

/*
 * events.c - video events to webhooks. An event (video.uploaded, video.ready, video.failed,
 * video.deleted) is one job, keyed "<type>:<video id>" so that a retried step enqueues it
 * once; its body is written when it happens:
 *   {"id": "<type>:<video id>", "type": ..., "createdAt": ..., "data": {"video": {...}}}
 * Running it enqueues one delivery job per webhook of the video's owner that wants that
 * type (keyed by event and webhook: once each), with a deadline 24 h on.
 */
#include <string.h>

#include <json-c/json.h>

#include "arena.h"
#include "db.h"
#include "db_webhooks.h"
#include "json.h"
#include "log.h"
#include "worker.h"

#define EVENT_ATTEMPTS    5
#define DELIVERY_ATTEMPTS 1000                 /* the deadline, not a count, ends them */
#define DELIVERY_WINDOW   (24LL * 3600 * 1000) /* ms a delivery is retried */
#define MAX_OWNER_HOOKS   64                   /* webhooks of one user an event reaches */

int
events_emit(struct job_run *r, const char *type, const bson_oid_t *owner, const char *video_id,
            const char *video_json)
{
    struct json_object *body = js_new_object(r->a), *data, *video = NULL;
    char created[32], *id, *key, *text;
    bson_t payload = BSON_INITIALIZER;
    struct job_spec spec = {JOB_EVENT, NULL, NULL, &payload, 0, EVENT_ATTEMPTS, 0};
    enum db_status st;

    if (body == NULL || (data = json_object_new_object()) == NULL ||
        (id = arena_sprintf(r->a, "%s:%s", type, video_id)) == NULL ||
        (key = arena_sprintf(r->a, "ev:%s", id)) == NULL ||
        js_parse(r->a, str_from(video_json), &video) != JS_OK) {
        bson_destroy(&payload);
        return -1;
    }
    db_time_format(db_now_ms(), created);
    js_add_str(body, "id", id);
    js_add_str(body, "type", type);
    js_add_str(body, "createdAt", created);
    json_object_object_add(data, "video", json_object_get(video));
    json_object_object_add(body, "data", data);
    if ((text = js_string(r->a, body)) == NULL) {
        bson_destroy(&payload);
        return -1;
    }
    BSON_APPEND_UTF8(&payload, "eventId", id);
    BSON_APPEND_UTF8(&payload, "type", type);
    BSON_APPEND_OID(&payload, "ownerId", owner);
    BSON_APPEND_UTF8(&payload, "body", text);
    spec.key = key;
    st = job_enqueue(r->a, r->w->db, &spec);
    bson_destroy(&payload);
    if (st == DB_DUPLICATE || st == DB_OK) {
        return 0; /* already there: a retried step emits once */
    }
    return -1;
}

static bool
wants(const struct hook *h, const char *type)
{
    size_t i;

    for (i = 0; i < h->nevents; i++) {
        if (strcmp(h->events[i], type) == 0) {
            return true;
        }
    }
    return false;
}

enum job_outcome
events_run(struct job_run *r)
{
    const bson_t *p = r->job->payload;
    char *id = db_get_str(r->a, p, "eventId"), *type = db_get_str(r->a, p, "type");
    char *body = db_get_str(r->a, p, "body");
    struct hook *hooks;
    bson_oid_t owner;
    size_t n, i;
    enum db_status st;

    if (id == NULL || type == NULL || body == NULL || db_get_oid(p, "ownerId", &owner) == -1) {
        return job_run_fail(r, JOB_OUTCOME_FAILED, "malformed event job");
    }
    st = db_webhooks_list(r->a, r->w->db, &owner, MAX_OWNER_HOOKS, &hooks, &n);
    if (st != DB_OK) {
        return job_run_fail(r, JOB_OUTCOME_RETRY, "listing webhooks: database unavailable");
    }
    for (i = 0; i < n; i++) {
        bson_t payload = BSON_INITIALIZER;
        struct job_spec spec = {
            JOB_WEBHOOK, NULL, NULL, &payload, 0, DELIVERY_ATTEMPTS, db_now_ms() + DELIVERY_WINDOW};

        if (!wants(&hooks[i], type)) {
            bson_destroy(&payload);
            continue;
        }
        BSON_APPEND_OID(&payload, "webhookId", &hooks[i].id);
        BSON_APPEND_UTF8(&payload, "eventId", id);
        BSON_APPEND_UTF8(&payload, "type", type);
        BSON_APPEND_UTF8(&payload, "body", body);
        spec.key = arena_sprintf(r->a, "wh:%s:%s", id, hooks[i].id_hex);
        st = spec.key != NULL ? job_enqueue(r->a, r->w->db, &spec) : DB_ERROR;
        bson_destroy(&payload);
        if (st != DB_OK && st != DB_DUPLICATE) {
            return job_run_fail(r, JOB_OUTCOME_RETRY, "enqueueing a delivery failed");
        }
        log_ev(LOG_INFO, "webhook_queued", "%s to webhook %s", id, hooks[i].id_hex);
    }
    return JOB_OUTCOME_DONE;
}

/*
 * health.c - liveness and readiness.
 *   GET /api/v1/health        alive: answers without touching anything else
 *   GET /api/v1/health/ready  MongoDB answers a ping and the media root is writable
 */
#include "handlers.h"

#include "app.h"
#include "db.h"
#include "storage.h"

/* GET /api/v1/health */
int
h_health_get(struct request *r)
{
    return respond_json(r, 200, "{\"status\":\"ok\"}");
}

/* GET /api/v1/health/ready */
int
h_health_ready(struct request *r)
{
    if (db_ping(r->app->db) != DB_OK) {
        return respond_problem(r, PROB_DB_UNAVAILABLE, NULL);
    }
    if (!storage_is_writable(r->app->storage)) {
        return respond_problem(r, PROB_STORAGE_UNAVAILABLE, "The media root is not writable");
    }
    return respond_json(r, 200, "{\"status\":\"ready\"}");
}

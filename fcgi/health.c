/*
 * health.c - liveness and readiness.
 *   GET /api/v1/health        alive: answers without touching anything else
 *   GET /api/v1/health/ready  MongoDB answers a ping and the media root is writable; says
 *                             how the host's workers are doing (host.h rows)
 */
#include "handlers.h"

#include <stdio.h>

#include "app.h"
#include "clock.h"
#include "db.h"
#include "host.h"
#include "storage.h"

#define READY_STUCK_MS 10000 /* a worker busy for longer is not counted as answering */

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
    struct host_workers w;
    char body[160];

    if (db_ping(r->app->db) != DB_OK) {
        return respond_problem(r, PROB_DB_UNAVAILABLE, NULL);
    }
    if (!storage_is_writable(r->app->storage)) {
        return respond_problem(r, PROB_STORAGE_UNAVAILABLE, "The media root is not writable");
    }
    host_workers_count(r->app->host, clock_mono_ms(), READY_STUCK_MS, &w);
    snprintf(body, sizeof(body),
             "{\"status\":\"ready\",\"workers\":{\"alive\":%u,\"busy\":%u,\"answering\":%u}}",
             w.alive, w.busy, w.answering);
    return respond_json(r, 200, body);
}

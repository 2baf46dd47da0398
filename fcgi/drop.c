/*
 * drop.c - queues the job that removes what hangs on a deleted post or user (handlers.h).
 * The handler queues it before it deletes the document; the job (worker/drop.c) acts only
 * once the document is gone, so a delete that fails after it costs nothing.
 */
#include "handlers.h"

#include "app.h"
#include "job.h"

#define DROP_ATTEMPTS 10

enum db_status
drop_enqueue(struct request *r, const char *what, const bson_oid_t *id, const char *avatar,
             const char *banner)
{
    bson_t payload = BSON_INITIALIZER;
    struct job_spec spec = {JOB_DROP, NULL, NULL, &payload, 0, DROP_ATTEMPTS, 0};
    enum db_status st;

    BSON_APPEND_UTF8(&payload, "what", what);
    BSON_APPEND_OID(&payload, "id", id);
    if (avatar != NULL) {
        BSON_APPEND_UTF8(&payload, "avatar", avatar);
    }
    if (banner != NULL) {
        BSON_APPEND_UTF8(&payload, "banner", banner);
    }
    st = job_enqueue(r->arena, r->app->db, &spec);
    bson_destroy(&payload);
    return st;
}

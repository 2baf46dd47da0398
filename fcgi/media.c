/*
 * media.c - the gate in front of media bytes.
 *   GET /media/{token}/{id}/{path*}  -> X-Accel-Redirect to the file (nginx serves it)
 * The token (slink.h) covers the whole video prefix, so an HLS player's relative segment
 * URLs carry it. This handler decides and never reads a file or the database: the MAC
 * (constant time), the expiry, and a path that stays inside the video's folder. nginx does
 * sendfile, Range and Accept-Ranges from an internal location. Bad or expired links answer
 * 403; a path that could leave the folder 404s. Link checks are logged at info without the
 * token.
 */
#include "handlers.h"

#include "app.h"
#include "arena.h"
#include "db.h"
#include "slink.h"
#include "storage.h"

/* GET /media/{token}/{id}/{path*} */
int
h_media_get(struct request *r)
{
    struct str id = req_param(r, "id"), path = req_param(r, "path");
    char *target, *id_c;

    switch (slink_verify(&r->app->keys, req_param(r, "token"), id, db_now_ms() / 1000)) {
    case SLINK_OK:
        break;
    case SLINK_EXPIRED:
        return respond_problem(r, PROB_LINK_EXPIRED, NULL);
    default:
        return respond_problem(r, PROB_INVALID_LINK, NULL);
    }
    if (!slink_path_is_safe(path)) {
        return respond_problem(r, PROB_NOT_FOUND, NULL);
    }
    if ((id_c = str_cstr(r->arena, id)) == NULL) {
        return -1;
    }
    switch (storage_deliver(r->arena, r->app->storage, id_c, path, &target)) {
    case STORAGE_ACCEL:
        if (target == NULL) {
            return -1;
        }
        respond_header(r, "X-Accel-Redirect: %s", target);
        respond_header(r, "Cache-Control: private, max-age=300");
        return respond_empty(r, 200);
    case STORAGE_REDIRECT:
        respond_header(r, "Location: %s", target);
        return respond_empty(r, 302);
    }
    return -1;
}

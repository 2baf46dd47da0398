/*
 * media.c - the gate in front of media bytes.
 *   GET /media-auth/{token}/{id}/{path*}  internal: nginx's auth_request for
 *                                         /media/<token>/<videoId>/<path>: 200 or 403
 * The token (slink.h) covers the whole video prefix, so an HLS player's relative segment
 * URLs carry it. This handler decides and never reads a file or the database: the MAC
 * (constant time), the expiry, and a path that stays inside the video's folder. nginx
 * caches the answer (X-Accel-Expires: never past the link's expiry) and serves the file
 * with sendfile, Range and Accept-Ranges (nginx-conf/snippets/media.conf). A refusal names
 * its problem code in X-Stremora-Problem for nginx's problem+json answer. The route is not
 * reachable from outside: nginx passes /media-auth/ only from its internal location.
 */
#include "handlers.h"

#include "app.h"
#include "db.h"
#include "slink.h"

/* GET /media-auth/{token}/{id}/{path*}: nginx's auth_request for /media/ (internal). */
int
h_media_auth(struct request *r)
{
    struct str id = req_param(r, "id"), path = req_param(r, "path"), tok = req_param(r, "token");
    struct str rest, exp_s;
    int64_t now = db_now_ms() / 1000;
    uint64_t expiry = 0;
    const char *code = NULL;

    switch (slink_verify(&r->app->keys, tok, id, now)) {
    case SLINK_OK:
        break;
    case SLINK_EXPIRED:
        code = "link_expired";
        break;
    default:
        code = "invalid_link";
    }
    if (code == NULL && !slink_path_is_safe(path)) {
        code = "invalid_path";
    }
    if (code != NULL) {
        respond_header(r, "X-Stremora-Problem: %s", code);
        respond_header(r, "X-Accel-Expires: 5");
        r->code = code;
        return respond_empty(r, 403);
    }
    /* nginx caches this answer by token and path until the link expires (at most 60 s). */
    rest = str_cut(tok, '.', &exp_s);
    str_cut(rest, '.', &exp_s);
    str_to_u64(exp_s, 0, UINT64_MAX, &expiry);
    respond_header(r, "X-Accel-Expires: %lld",
                   (long long)((int64_t)expiry - now < 60 ? (int64_t)expiry - now : 60));
    return respond_empty(r, 200);
}

/*
 * webhooks.c - a user's webhooks (DESIGN.md section 7).
 *   POST   /api/v1/webhooks                  {url, events[]} -> 201 webhook with its secret
 *   GET    /api/v1/webhooks                  {items} (at most MAX_WEBHOOKS: one page)
 *   DELETE /api/v1/webhooks/{id}             204
 *   GET    /api/v1/webhooks/{id}/deliveries  ?limit=&cursor= -> {items, nextCursor}
 * A webhook is its owner's alone: anyone else gets 404 as for a missing one. Its signing
 * secret is shown once, when it is made. URLs are http or https (libcurl's URL API); a
 * literal loopback, private or link-local address is refused here, and the worker checks
 * what a name resolves to at every delivery (unless STREMORA_WEBHOOK_ALLOW_PRIVATE=1).
 */
#include "handlers.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include <strings.h>

#include <json-c/json.h>

#include "app.h"
#include "arena.h"
#include "bounds.h"
#include "crypto.h"
#include "cursor.h"
#include "db.h"
#include "db_webhooks.h"
#include "json.h"
#include "log.h"
#include "webhook.h"

static const char *const event_names[WEBHOOK_EVENTS] = {"video.uploaded", "video.ready",
                                                        "video.failed", "video.deleted"};

static struct json_object *
hook_json(struct arena *a, const struct hook *h, bool with_secret)
{
    struct json_object *o = js_new_object(a);
    char created[32];

    if (o == NULL) {
        return NULL;
    }
    db_time_format(h->created_at, created);
    js_add_str(o, "id", h->id_hex);
    js_add_str(o, "url", h->url);
    js_add_strs(o, "events", h->events, h->nevents);
    js_add_str(o, "createdAt", created);
    if (with_secret) {
        js_add_str(o, "secret", h->secret);
    }
    return o;
}

/* "localhost" and every name under it (RFC 6761 section 6.3), in any case, with or
 * without the root's dot. */
static bool
is_localhost(const char *host)
{
    size_t n = strlen(host);

    if (n > 0 && host[n - 1] == '.') {
        n--;
    }
    return n >= 9 && strncasecmp(host + n - 9, "localhost", 9) == 0 &&
           (n == 9 || host[n - 10] == '.');
}

/* A literal address in a URL that must not be called (the check after resolving is the
 * worker's, at every delivery). */
static bool
literal_is_private(const char *host)
{
    struct sockaddr_in in = {0};
    struct sockaddr_in6 in6 = {0};

    if (inet_pton(AF_INET, host, &in.sin_addr) == 1) {
        in.sin_family = AF_INET;
        return !webhook_addr_is_public((struct sockaddr *)&in);
    }
    if (inet_pton(AF_INET6, host, &in6.sin6_addr) == 1) {
        in6.sin6_family = AF_INET6;
        return !webhook_addr_is_public((struct sockaddr *)&in6);
    }
    return is_localhost(host);
}

/* Takes "events" (an array of distinct known names) out of obj into h. NULL or a code. */
static const char *
events_of(struct json_object *obj, struct hook *h)
{
    struct json_object *arr;
    size_t i, j, n;

    if (!json_object_object_get_ex(obj, "events", &arr)) {
        return "required";
    }
    if (!json_object_is_type(arr, json_type_array)) {
        return "wrong_type";
    }
    if ((n = json_object_array_length(arr)) == 0) {
        return "too_short";
    }
    if (n > WEBHOOK_EVENTS) {
        return "too_many";
    }
    for (i = 0; i < n; i++) {
        struct json_object *e = json_object_array_get_idx(arr, i);
        const char *name = NULL;

        if (!json_object_is_type(e, json_type_string)) {
            return "wrong_type";
        }
        for (j = 0; j < WEBHOOK_EVENTS && name == NULL; j++) {
            if (strcmp(json_object_get_string(e), event_names[j]) == 0) {
                name = event_names[j];
            }
        }
        if (name == NULL) {
            return "invalid_format";
        }
        for (j = 0; j < h->nevents; j++) {
            if (strcmp(h->events[j], name) == 0) {
                return "duplicate";
            }
        }
        h->events[h->nevents++] = (char *)name;
    }
    return NULL;
}

/* POST /api/v1/webhooks */
int
h_webhooks_create(struct request *r)
{
    static const struct js_field spec[] = {{"url", JS_STRING, true, 1, MAX_WEBHOOK_URL}};
    unsigned char raw[WEBHOOK_SECRET_BYTES];
    char secret[2 * WEBHOOK_SECRET_BYTES + 1];
    struct js_error errs[MAX_FIELD_ERRORS];
    struct webhook_target t;
    struct json_object *obj;
    struct js_value v[1];
    struct hook h = {0}, *mine;
    const char *err, *why;
    size_t nerrs = 0, more = 0, n;
    enum db_status st;
    int rc;

    if (!body_json(r, &obj, &rc)) {
        return rc;
    }
    if ((err = events_of(obj, &h)) != NULL) {
        errs[nerrs++] = (struct js_error){"events", err};
    }
    json_object_object_del(obj, "events");
    if (js_fields(r->arena, obj, spec, 1, v, errs + nerrs, MAX_FIELD_ERRORS - 2, &more) == -1) {
        nerrs += more;
    } else if ((h.url = str_cstr(r->arena, v[0].s)) == NULL ||
               webhook_url_parse(h.url, &t, &why) == -1 ||
               (!r->app->cfg.webhook_allow_private && literal_is_private(t.host))) {
        errs[nerrs++] = (struct js_error){"url", "invalid_format"};
    }
    if (nerrs > 0) {
        return respond_problem_errors(r, PROB_VALIDATION_FAILED, errs, nerrs);
    }
    if (db_oid_parse(str_from(r->user.id), &h.owner_id) == -1) {
        return respond_problem(r, PROB_INVALID_TOKEN, NULL);
    }
    if ((st = db_webhooks_list(r->arena, r->app->db, &h.owner_id, MAX_WEBHOOKS, &mine, &n)) !=
        DB_OK) {
        return respond_db_problem(r, st);
    }
    if (n >= MAX_WEBHOOKS) {
        return respond_problem(r, PROB_TOO_MANY_WEBHOOKS, NULL);
    }
    if (crypto_random(raw, sizeof(raw)) == -1) {
        return -1;
    }
    crypto_hex(raw, sizeof(raw), secret);
    crypto_wipe(raw, sizeof(raw));
    h.secret = secret;
    h.created_at = db_now_ms();
    if ((st = db_webhooks_insert(r->arena, r->app->db, &h)) != DB_OK) {
        return respond_db_problem(r, st);
    }
    log_ev(LOG_INFO, "webhook_created", "webhook %s of user %s", h.id_hex, r->user.id);
    respond_header(r, "Location: /api/v1/webhooks/%s", h.id_hex);
    rc = respond_json(r, 201, js_string(r->arena, hook_json(r->arena, &h, true)));
    crypto_wipe(secret, sizeof(secret));
    return rc;
}

/* GET /api/v1/webhooks */
int
h_webhooks_list(struct request *r)
{
    struct json_object *o = js_new_object(r->arena), *items;
    struct hook *hooks;
    bson_oid_t owner;
    size_t n, i;
    enum db_status st;

    if (db_oid_parse(str_from(r->user.id), &owner) == -1) {
        return respond_problem(r, PROB_INVALID_TOKEN, NULL);
    }
    if ((st = db_webhooks_list(r->arena, r->app->db, &owner, MAX_WEBHOOKS, &hooks, &n)) != DB_OK) {
        return respond_db_problem(r, st);
    }
    if (o == NULL || (items = json_object_new_array()) == NULL) {
        return -1;
    }
    for (i = 0; i < n; i++) {
        struct json_object *h = hook_json(r->arena, &hooks[i], false);

        if (h != NULL) {
            json_object_array_add(items, json_object_get(h));
        }
    }
    json_object_object_add(o, "items", items);
    return respond_json(r, 200, js_string(r->arena, o));
}

/* The caller's webhook {id}: true, or false after answering 404 (also for another's). */
static bool
own_hook(struct request *r, struct hook *h, int *rc)
{
    bson_oid_t id, owner;
    enum db_status st;

    if (db_oid_parse(req_param(r, "id"), &id) == -1 ||
        db_oid_parse(str_from(r->user.id), &owner) == -1) {
        *rc = respond_problem(r, PROB_WEBHOOK_NOT_FOUND, NULL);
        return false;
    }
    st = db_webhooks_get(r->arena, r->app->db, &id, h);
    if (st == DB_NOT_FOUND || (st == DB_OK && !bson_oid_equal(&h->owner_id, &owner))) {
        *rc = respond_problem(r, PROB_WEBHOOK_NOT_FOUND, NULL);
        return false;
    }
    if (st != DB_OK) {
        *rc = respond_db_problem(r, st);
        return false;
    }
    return true;
}

/* DELETE /api/v1/webhooks/{id} */
int
h_webhooks_delete(struct request *r)
{
    struct hook h;
    enum db_status st;
    int rc;

    if (!own_hook(r, &h, &rc)) {
        return rc;
    }
    if ((st = db_webhooks_delete(r->arena, r->app->db, &h.owner_id, &h.id)) == DB_NOT_FOUND) {
        return respond_problem(r, PROB_WEBHOOK_NOT_FOUND, NULL);
    }
    if (st != DB_OK) {
        return respond_db_problem(r, st);
    }
    log_ev(LOG_INFO, "webhook_deleted", "webhook %s", h.id_hex);
    return respond_empty(r, 204);
}

static struct json_object *
delivery_json(struct arena *a, const struct hook_delivery *d)
{
    struct json_object *o = js_new_object(a);
    char at[32];

    if (o == NULL) {
        return NULL;
    }
    db_time_format(d->at, at);
    js_add_str(o, "id", d->id_hex);
    js_add_str(o, "event", d->event);
    js_add_str(o, "eventId", d->event_id);
    js_add_int(o, "attempt", d->attempt);
    js_add_str(o, "at", at);
    if (d->status_code > 0) {
        js_add_int(o, "statusCode", d->status_code);
    } else {
        json_object_object_add(o, "statusCode", NULL);
    }
    js_add_int(o, "durationMs", d->duration_ms);
    js_add_str(o, "error", d->error != NULL && d->error[0] != '\0' ? d->error : NULL);
    return o;
}

/* GET /api/v1/webhooks/{id}/deliveries */
int
h_webhooks_deliveries(struct request *r)
{
    struct page_query pg;
    struct json_object *o, *items;
    struct hook_delivery *ds;
    struct hook h;
    size_t n, i;
    enum db_status st;
    int rc;

    if (!page_query_parse(r, &pg, &rc)) {
        return rc;
    }
    if (!own_hook(r, &h, &rc)) {
        return rc;
    }
    st = db_webhooks_deliveries(r->arena, r->app->db, &h.id, pg.has_cursor, pg.cursor_key,
                                &pg.cursor_id, pg.limit, &ds, &n);
    if (st != DB_OK) {
        return respond_db_problem(r, st);
    }
    if ((o = js_new_object(r->arena)) == NULL || (items = json_object_new_array()) == NULL) {
        return -1;
    }
    for (i = 0; i < n && i < pg.limit; i++) {
        struct json_object *d = delivery_json(r->arena, &ds[i]);

        if (d != NULL) {
            json_object_array_add(items, json_object_get(d));
        }
    }
    json_object_object_add(o, "items", items);
    js_add_str(o, "nextCursor",
               n > pg.limit ? cursor_format(r->arena, ds[pg.limit - 1].at, ds[pg.limit - 1].id_hex)
                            : NULL);
    return respond_json(r, 200, js_string(r->arena, o));
}

/*
 * people.c - user cards and image links (people.h).
 */
#include "people.h"

#include <string.h>

#include <json-c/json.h>

#include "arena.h"
#include "db_users.h"
#include "json.h"

#define CARDS_PER_READ 100 /* ids in one $in */

char *
people_avatar_url(struct arena *a, const struct user *u, int size)
{
    if (u == NULL || u->avatar == NULL || u->avatar[0] == '\0') {
        return NULL;
    }
    return arena_sprintf(a, "/images/avatars/%s-%d.jpg", u->avatar, size);
}

char *
people_banner_url(struct arena *a, const struct user *u)
{
    if (u == NULL || u->banner == NULL || u->banner[0] == '\0') {
        return NULL;
    }
    return arena_sprintf(a, "/images/banners/%s.jpg", u->banner);
}

struct json_object *
people_card(struct arena *a, const struct user *u, const char *id_hex)
{
    struct json_object *o = js_new_object(a);

    if (o == NULL) {
        return NULL;
    }
    js_add_str(o, "id", u != NULL ? u->id_hex : id_hex);
    js_add_str(o, "username", u != NULL ? u->username : NULL);
    js_add_str(o, "displayName", u != NULL ? u->display_name : "Deleted user");
    js_add_str(o, "avatarUrl", people_avatar_url(a, u, 256));
    js_add_str(o, "avatarSmallUrl", people_avatar_url(a, u, 64));
    return o;
}

enum db_status
people_cards(struct arena *a, struct db *db, const bson_oid_t *ids, size_t n,
             struct json_object ***out)
{
    struct json_object **cards = arena_calloc(a, n > 0 ? n : 1, sizeof(*cards));
    bson_oid_t *uniq = arena_calloc(a, n > 0 ? n : 1, sizeof(*uniq));
    struct user *users = arena_calloc(a, n > 0 ? n : 1, sizeof(*users));
    bool *found = arena_calloc(a, n > 0 ? n : 1, sizeof(*found));
    size_t i, j, nu = 0;
    enum db_status st = DB_OK;

    if (cards == NULL || uniq == NULL || users == NULL || found == NULL) {
        return DB_ERROR;
    }
    for (i = 0; i < n; i++) {
        for (j = 0; j < nu && !bson_oid_equal(&uniq[j], &ids[i]); j++) {
        }
        if (j == nu) {
            bson_oid_copy(&ids[i], &uniq[nu++]);
        }
    }
    for (i = 0; i < nu && st == DB_OK; i += CARDS_PER_READ) {
        size_t k = nu - i < CARDS_PER_READ ? nu - i : CARDS_PER_READ;

        st = db_users_get_many(a, db, uniq + i, k, users + i, found + i);
    }
    if (st != DB_OK) {
        return st;
    }
    for (i = 0; i < n; i++) {
        char hex[25];

        for (j = 0; j < nu && !bson_oid_equal(&uniq[j], &ids[i]); j++) {
        }
        bson_oid_to_string(&ids[i], hex);
        cards[i] = people_card(a, j < nu && found[j] ? &users[j] : NULL, hex);
        if (cards[i] == NULL) {
            return DB_ERROR;
        }
    }
    *out = cards;
    return DB_OK;
}

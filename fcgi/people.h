/*
 * people.h - users as other users see them: a card (id, username, displayName and avatar
 * links) beside every comment, post, playlist and subscription, and the links of a
 * channel's images. Never an email, a role or anything of a session: those are for the
 * user alone (users.c, user_json).
 */
#ifndef STREMORA_FCGI_PEOPLE_H
#define STREMORA_FCGI_PEOPLE_H

#include <stddef.h>

#include <bson/bson.h>

#include "db.h"

struct arena;
struct json_object;
struct user;

/* The public links of u's images under /images/ (served by nginx, immutable: the name is a
 * content hash); NULL when u has the default. size: 256 or 64. */
char *people_avatar_url(struct arena *a, const struct user *u, int size);
char *people_banner_url(struct arena *a, const struct user *u);

/* {id, username, displayName, avatarUrl, avatarSmallUrl} of u; u NULL (a deleted user):
 * {id: id_hex, username: null, displayName: "Deleted user", avatar links null}. */
struct json_object *people_card(struct arena *a, const struct user *u, const char *id_hex);

/* Cards for n user ids (a page's authors), in order; repeated ids are looked up once.
 * *out gets an arena array of n cards. */
enum db_status people_cards(struct arena *a, struct db *db, const bson_oid_t *ids, size_t n,
                            struct json_object ***out);

#endif

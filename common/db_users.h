/*
 * db_users.h - the users collection (sql-free-schemas/users.json). username and email are
 * unique (both always written, email stored lowercase); the insert's unique index, not a
 * read before it, decides who gets a name.
 */
#ifndef STREMORA_DB_USERS_H
#define STREMORA_DB_USERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <bson/bson.h>

#include "db.h"

struct arena;

struct user {
    bson_oid_t id;
    char id_hex[25];
    char *username;
    char *email;
    char *display_name;
    char *password_hash;
    char *role;         /* "user" or "admin" */
    int64_t created_at; /* ms since the epoch */
    int64_t updated_at;
    int64_t guess_count;      /* wrong current passwords in the window that began at guess_since */
    int64_t guess_since;      /* ms */
    char *bio;                /* "" when none */
    char *avatar;             /* the avatar's content name (images/), NULL: the default */
    char *banner;             /* the banner's, likewise */
    int64_t subscriber_count; /* $inc'd by subscriptions, rebuilt by stremoractl recount */
};

/* Inserts u (u->id is set here). DB_DUPLICATE: *taken is "username" or "email". */
enum db_status db_users_insert(struct arena *a, struct db *db, struct user *u, const char **taken);
/* Finds by id. DB_NOT_FOUND if none. */
enum db_status db_users_get(struct arena *a, struct db *db, const bson_oid_t *id, struct user *out);
/* Finds the users of n ids (n <= 100): out[i] gets ids[i]'s user as others see it (only its
 * public fields are read: no email, role or hash), found[i] whether there is one (a deleted
 * user has none). */
enum db_status db_users_get_many(struct arena *a, struct db *db, const bson_oid_t *ids, size_t n,
                                 struct user *out, bool *found);
/* Finds by username, or by email when login holds an '@' (compared lowercase). */
enum db_status db_users_get_by_login(struct arena *a, struct db *db, const char *login,
                                     struct user *out);
/* Sets display_name, email and/or bio (NULL leaves a field). DB_DUPLICATE if email is
 * taken. */
enum db_status db_users_update_profile(struct arena *a, struct db *db, const bson_oid_t *id,
                                       const char *display_name, const char *email,
                                       const char *bio);
/* Points the user's image field ("avatar" or "banner") at name (NULL: the default, field
 * unset), only if it still holds old (NULL: none): a compare-and-set, so that of two racing
 * uploads each learns exactly which name it replaced. DB_CONFLICT when the field holds
 * something else now (read it again and retry); DB_NOT_FOUND when there is no such user. */
enum db_status db_users_swap_image(struct arena *a, struct db *db, const bson_oid_t *id,
                                   const char *field, const char *old, const char *name);
/* Deletes by id; DB_NOT_FOUND if it was not there. */
enum db_status db_users_delete(struct arena *a, struct db *db, const bson_oid_t *id);
/* Replaces the password hash. */
enum db_status db_users_set_password(struct arena *a, struct db *db, const bson_oid_t *id,
                                     const char *hash);
/* Counts one wrong current password at now_ms: in the open window of window_ms, or in a
 * new one that starts now. */
enum db_status db_users_guess_failed(struct arena *a, struct db *db, const bson_oid_t *id,
                                     int64_t now_ms, int64_t window_ms);
/* Forgets the wrong guesses (the right password was given). */
enum db_status db_users_guess_reset(struct arena *a, struct db *db, const bson_oid_t *id);

#endif

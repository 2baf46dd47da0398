/*
 * db_sessions.h - the sessions collection: one document per refresh token, grouped in
 * families (one login = one family). A token is stored only as its SHA-256 (hex), unique.
 * Spending a token is a conditional update ({spent:false} → {spent:true}); the one call
 * that matched wins, so two refreshes racing with one token cannot both rotate it unseen.
 * A spent session names the key its successor was derived with (nextKid: fcgi/auth.c).
 */
#ifndef STREMORA_DB_SESSIONS_H
#define STREMORA_DB_SESSIONS_H

#include <stdbool.h>
#include <stdint.h>

#include <bson/bson.h>

#include "bounds.h"
#include "db.h"

struct arena;

struct session {
    bson_oid_t id;
    bson_oid_t family_id;
    bson_oid_t user_id;
    char token_hash[65];        /* SHA-256 hex of the refresh token */
    char next_kid[MAX_KID + 1]; /* spent: the key its successor was made with ("" before) */
    bool spent;
    bool revoked;
    int64_t spent_at; /* ms */
    int64_t created_at;
    int64_t expires_at;
};

/* Inserts s (s->id is set here). */
enum db_status db_sessions_insert(struct arena *a, struct db *db, struct session *s);
/* Finds the session of a token hash. DB_NOT_FOUND if none. */
enum db_status db_sessions_get_by_hash(struct arena *a, struct db *db, const char *hash,
                                       struct session *out);
/* Marks s spent if it is not yet, recording the key its successor is made with. DB_OK:
 * this call spent it; DB_CONFLICT: already spent or revoked. */
enum db_status db_sessions_spend(struct arena *a, struct db *db, const bson_oid_t *id,
                                 const char *next_kid);
/* True if the family has a session that is not revoked (its access tokens still count). */
enum db_status db_sessions_family_alive(struct arena *a, struct db *db, const bson_oid_t *family,
                                        bool *alive);
/* Revokes every token of a family. */
enum db_status db_sessions_revoke_family(struct arena *a, struct db *db, const bson_oid_t *family);
/* Revokes every token of a user except those of family keep (NULL: all). */
enum db_status db_sessions_revoke_user(struct arena *a, struct db *db, const bson_oid_t *user,
                                       const bson_oid_t *keep);

#endif
